#include "onnx_graph.hpp"

#include <algorithm>
#include <set>

#include "trackiq/core/error.hpp"

namespace trackiq::workload {
namespace {

// Minimal protobuf wire-format cursor over one message's bytes.
class Wire {
 public:
  Wire(std::string_view bytes, const std::string& origin) : b_(bytes), origin_(origin) {}

  bool next(std::uint32_t& field, int& wire_type) {
    if (pos_ >= b_.size()) return false;
    const std::uint64_t key = varint();
    field = static_cast<std::uint32_t>(key >> 3);
    wire_type = static_cast<int>(key & 7);
    if (field == 0) fail("field number 0");
    return true;
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos_ >= b_.size()) fail("truncated varint");
      const auto byte = static_cast<std::uint8_t>(b_[pos_++]);
      if (shift < 64) v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return v;
    }
    fail("varint longer than 10 bytes");
  }
  std::string_view bytes() {
    const std::uint64_t n = varint();
    if (n > b_.size() - pos_) fail("length-delimited field runs past the end");
    const auto out = b_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }
  void skip(int wire_type) {
    switch (wire_type) {
      case 0: varint(); return;
      case 1: advance(8); return;
      case 2: bytes(); return;
      case 5: advance(4); return;
      default: fail("unsupported wire type " + std::to_string(wire_type));
    }
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(origin_, 0, "not an ONNX model (protobuf: " + what + ")");
  }

 private:
  void advance(std::size_t n) {
    if (n > b_.size() - pos_) fail("fixed-size field runs past the end");
    pos_ += n;
  }
  std::string_view b_;
  std::size_t pos_ = 0;
  const std::string& origin_;
};

OnnxDim parse_dim(std::string_view bytes, const std::string& origin) {
  OnnxDim d;
  Wire w(bytes, origin);
  std::uint32_t f;
  int wt;
  while (w.next(f, wt)) {
    if (f == 1 && wt == 0) {
      d.value = static_cast<std::int64_t>(w.varint());
      if (d.value <= 0) d.value = -1;  // 0 or negative: treat as unknown
    } else if (f == 2 && wt == 2) {
      d.param = std::string(w.bytes());
      d.value = -1;
    } else {
      w.skip(wt);
    }
  }
  return d;
}

void parse_tensor_type(std::string_view bytes, OnnxInput& in, const std::string& origin) {
  Wire w(bytes, origin);
  std::uint32_t f;
  int wt;
  while (w.next(f, wt)) {
    if (f == 1 && wt == 0) {
      in.elem_type = static_cast<int>(w.varint());
    } else if (f == 2 && wt == 2) {  // TensorShapeProto
      Wire s(w.bytes(), origin);
      std::uint32_t sf;
      int swt;
      while (s.next(sf, swt)) {
        if (sf == 1 && swt == 2) in.dims.push_back(parse_dim(s.bytes(), origin));
        else s.skip(swt);
      }
    } else {
      w.skip(wt);
    }
  }
}

OnnxInput parse_value_info(std::string_view bytes, const std::string& origin) {
  OnnxInput in;
  Wire w(bytes, origin);
  std::uint32_t f;
  int wt;
  while (w.next(f, wt)) {
    if (f == 1 && wt == 2) {
      in.name = std::string(w.bytes());
    } else if (f == 2 && wt == 2) {  // TypeProto
      Wire t(w.bytes(), origin);
      std::uint32_t tf;
      int twt;
      while (t.next(tf, twt)) {
        if (tf == 1 && twt == 2) parse_tensor_type(t.bytes(), in, origin);
        else t.skip(twt);
      }
    } else {
      w.skip(wt);
    }
  }
  return in;
}

std::string string_field(std::string_view message, std::uint32_t field, const std::string& origin) {
  Wire w(message, origin);
  std::uint32_t f;
  int wt;
  while (w.next(f, wt)) {
    if (f == field && wt == 2) return std::string(w.bytes());
    w.skip(wt);
  }
  return {};
}

}  // namespace

OnnxGraph parse_onnx_graph(std::string_view bytes, const std::string& origin) {
  OnnxGraph g;
  Wire model(bytes, origin);
  std::uint32_t f;
  int wt;
  bool have_graph = false;
  std::string_view graph_bytes;
  while (model.next(f, wt)) {
    if (f == 1 && wt == 0) g.ir_version = static_cast<std::int64_t>(model.varint());
    else if (f == 7 && wt == 2) {
      graph_bytes = model.bytes();
      have_graph = true;
    } else model.skip(wt);
  }
  if (!have_graph) model.fail("no graph in the ModelProto");
  if (g.ir_version <= 0) model.fail("no ir_version in the ModelProto");

  std::vector<OnnxInput> declared;
  std::set<std::string> initializers;
  Wire graph(graph_bytes, origin);
  while (graph.next(f, wt)) {
    if (f == 1 && wt == 2) {
      const auto node = graph.bytes();
      g.nodes.push_back({string_field(node, 3, origin), string_field(node, 4, origin)});
    } else if (f == 5 && wt == 2) {
      initializers.insert(string_field(graph.bytes(), 8, origin));
    } else if (f == 11 && wt == 2) {
      declared.push_back(parse_value_info(graph.bytes(), origin));
    } else {
      graph.skip(wt);
    }
  }
  for (auto& in : declared)
    if (!initializers.count(in.name)) g.inputs.push_back(std::move(in));
  return g;
}

std::string onnx_elem_type_name(int t) {
  switch (t) {
    case 1: return "float32";
    case 2: return "uint8";
    case 3: return "int8";
    case 6: return "int32";
    case 7: return "int64";
    case 9: return "bool";
    case 10: return "float16";
    case 11: return "float64";
    case 16: return "bfloat16";
    default: return "type " + std::to_string(t);
  }
}

}  // namespace trackiq::workload
