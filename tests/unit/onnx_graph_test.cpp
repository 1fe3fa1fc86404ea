#include <gtest/gtest.h>

#include "trackiq/core/error.hpp"
#include "workload/onnx_graph.hpp"

namespace trackiq::workload {
namespace {

// A tiny protobuf writer for building ModelProto bytes by hand.
std::string varint(std::uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}
std::string field_varint(std::uint32_t f, std::uint64_t v) { return varint(f << 3 | 0) + varint(v); }
std::string field_bytes(std::uint32_t f, const std::string& s) { return varint(f << 3 | 2) + varint(s.size()) + s; }

std::string dim_value(std::int64_t v) { return field_bytes(1, field_varint(1, static_cast<std::uint64_t>(v))); }
std::string dim_param(const std::string& p) { return field_bytes(1, field_bytes(2, p)); }

std::string value_info(const std::string& name, int elem_type, const std::string& dims) {
  const std::string tensor_type = field_varint(1, static_cast<std::uint64_t>(elem_type)) + field_bytes(2, dims);
  return field_bytes(1, name) + field_bytes(2, field_bytes(1, tensor_type));
}

std::string model(const std::string& graph) {
  return field_varint(1, 8) + field_bytes(2, "test") + field_bytes(7, graph);
}

TEST(OnnxGraph, ReadsInputsShapesAndNodes) {
  std::string graph;
  graph += field_bytes(1, field_bytes(3, "conv1") + field_bytes(4, "Conv"));
  graph += field_bytes(1, field_bytes(3, "mm") + field_bytes(4, "MatMul"));
  graph += field_bytes(2, "g");
  graph += field_bytes(5, field_bytes(8, "weight") + field_varint(2, 1));  // initializer
  graph += field_bytes(11, value_info("image", 1, dim_param("batch") + dim_value(3) + dim_value(224) + dim_value(224)));
  graph += field_bytes(11, value_info("weight", 1, dim_value(8)));  // also an initializer: not an input
  graph += field_bytes(11, value_info("ids", 7, dim_value(1) + dim_param("seq")));
  graph += field_bytes(12, value_info("out", 1, dim_value(1)));  // outputs are ignored
  const OnnxGraph g = parse_onnx_graph(model(graph), "m.onnx");
  EXPECT_EQ(g.ir_version, 8);
  ASSERT_EQ(g.inputs.size(), 2u);
  EXPECT_EQ(g.inputs[0].name, "image");
  EXPECT_EQ(g.inputs[0].elem_type, 1);
  ASSERT_EQ(g.inputs[0].dims.size(), 4u);
  EXPECT_EQ(g.inputs[0].dims[0].value, -1);
  EXPECT_EQ(g.inputs[0].dims[0].param, "batch");
  EXPECT_EQ(g.inputs[0].dims[3].value, 224);
  EXPECT_EQ(g.inputs[1].name, "ids");
  EXPECT_EQ(onnx_elem_type_name(g.inputs[1].elem_type), "int64");
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[1].name, "mm");
  EXPECT_EQ(g.nodes[1].op_type, "MatMul");
}

TEST(OnnxGraph, SkipsUnknownFieldsOfEveryWireType) {
  std::string graph = field_bytes(11, value_info("x", 1, dim_value(2)));
  std::string m = field_varint(1, 7);
  m += varint(99 << 3 | 1) + std::string(8, '\x01');  // fixed64
  m += varint(98 << 3 | 5) + std::string(4, '\x02');  // fixed32
  m += field_bytes(97, "unknown");
  m += field_bytes(7, graph);
  const OnnxGraph g = parse_onnx_graph(m, "m.onnx");
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.inputs[0].dims[0].value, 2);
}

TEST(OnnxGraph, RejectsBytesThatAreNotAModel) {
  auto expect_reject = [](const std::string& bytes, const char* why) {
    try {
      parse_onnx_graph(bytes, "x.onnx");
      ADD_FAILURE() << "accepted " << why;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("x.onnx: not an ONNX model", 0), 0u) << e.what();
    }
  };
  expect_reject("", "empty");
  expect_reject("this is plain text, not protobuf\n", "text");
  expect_reject(field_varint(1, 8), "no graph");
  expect_reject(field_bytes(7, field_bytes(11, "x")), "no ir_version");
  std::string truncated = model(field_bytes(11, value_info("x", 1, dim_value(2))));
  truncated.resize(truncated.size() - 3);
  expect_reject(truncated, "truncated");
  expect_reject(std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 12), "overlong varint");
  expect_reject(varint(1 << 3 | 3) + "abc", "group wire type");
}

}  // namespace
}  // namespace trackiq::workload
