// The backend table: which prefixes exist, whether this build has them, and the factory.
#include <algorithm>
#include <charconv>
#include <fstream>

#include <fmt/format.h>

#include "backends.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/hash.hpp"

namespace trackiq::workload {

void require_one_of(const std::string& what, const std::string& value, const std::vector<std::string>& supported,
                    const std::string& backend) {
  if (std::find(supported.begin(), supported.end(), value) != supported.end()) return;
  throw InputError(fmt::format("{} '{}' is not supported by the {} backend (supported: {})", what, value, backend,
                               fmt::join(supported, ", ")));
}

std::vector<const ShapeOverride*> match_shapes(const std::vector<ShapeOverride>& shapes,
                                               const std::vector<std::string>& names, const std::string& origin) {
  std::vector<const ShapeOverride*> given(names.size(), nullptr);
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const auto& s = shapes[i];
    std::size_t slot = i;
    if (!s.name.empty()) {
      auto it = std::find(names.begin(), names.end(), s.name);
      if (it == names.end())
        throw InputError(origin, 0, fmt::format("--shape names '{}', but the inputs are ({})", s.name, fmt::join(names, ", ")));
      slot = static_cast<std::size_t>(it - names.begin());
    } else if (slot >= names.size()) {
      throw InputError(origin, 0, fmt::format("{} --shape values for {} input(s)", shapes.size(), names.size()));
    }
    if (given[slot]) throw InputError(origin, 0, fmt::format("input '{}' has two --shape values", names[slot]));
    given[slot] = &s;
  }
  return given;
}

std::uint32_t batch_from_shape(const std::vector<std::int64_t>& first, std::uint32_t batch_size,
                               const std::string& origin) {
  if (first.empty()) return batch_size;
  if (batch_size != 1 && first[0] != batch_size)
    throw InputError(origin, 0, fmt::format("--batch-size {} contradicts --shape {} (leading dim {})", batch_size,
                                            format_shape(first), first[0]));
  return static_cast<std::uint32_t>(first[0]);
}

WorkloadDescriptor base_descriptor(const WorkloadOptions& o, const std::string& backend, const std::string& model,
                                   const std::vector<std::string>& precisions) {
  require_one_of("precision", o.precision, precisions, backend);
  // A GPU device is a capability this build lacks, not a typo: Debian's LibTorch and OpenCV are
  // CPU-only (a CUDA LibTorch found through Torch_DIR would list cuda:N among the devices).
  if (o.device.rfind("cuda", 0) == 0 || o.device.rfind("gpu", 0) == 0)
    throw NotAvailableError(fmt::format("--device {}: the {} backend's engine in this build has no CUDA (Debian's "
                                        "LibTorch and OpenCV are CPU-only; supported: cpu)",
                                        o.device, backend));
  require_one_of("device", o.device, {"cpu"}, backend);
  WorkloadDescriptor d;
  d.backend = backend;
  d.model = model;
  d.batch_size = o.batch_size;
  d.precision = o.precision;
  d.device = o.device;
  d.threads = o.threads;
  return d;
}

ShapeOverride parse_shape(const std::string& text) {
  ShapeOverride s;
  std::string dims = text;
  const auto colon = text.rfind(':');
  if (colon != std::string::npos) {
    s.name = text.substr(0, colon);
    dims = text.substr(colon + 1);
    if (s.name.empty()) throw InputError(fmt::format("--shape '{}': empty input name before ':'", text));
  }
  if (dims.empty()) throw InputError(fmt::format("--shape '{}': no dimensions (expected e.g. 1x3x224x224)", text));
  std::size_t start = 0;
  while (start <= dims.size()) {
    const auto end = std::min(dims.find('x', start), dims.size());
    const std::string_view part(dims.data() + start, end - start);
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc() || ptr != part.data() + part.size() || v < 1)
      throw InputError(fmt::format("--shape '{}': '{}' is not a dimension >= 1 (expected e.g. 1x3x224x224)", text,
                                   std::string(part)));
    s.dims.push_back(v);
    start = end + 1;
    if (end == dims.size()) break;
  }
  return s;
}

std::string format_shape(const std::vector<std::int64_t>& dims) { return fmt::format("{}", fmt::join(dims, "x")); }

std::vector<std::string> builtin_models() { return {"mlp", "cnn", "transformer"}; }

std::string hash_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "cannot read (no such file or no permission)");
  Fnv1a64 h;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) h.update({buf, static_cast<std::size_t>(in.gcount())});
  return h.hex();
}

namespace {

// The engines that live in plugins, and the prefixes each serves.
struct Engine {
  const char* name;
  const char* library;  // for "not available" when this build did not make the plugin
  bool built;           // this build tree made the plugin (TRACKIQ_WITH_<LIB>)
  std::vector<BackendInfo> prefixes;
};

std::vector<Engine> engines() {
  return {
      {"torch", "LibTorch (TRACKIQ_WITH_TORCH)", TRACKIQ_BUILT_TORCH_PLUGIN,
       {{"builtin:", false, "", {"fp32", "bf16"}, {"cpu"}, "built-in reference models (LibTorch C++ API): mlp, cnn, transformer", ""},
        {"torch:", false, "", {"fp32", "bf16"}, {"cpu"}, "TorchScript model file (LibTorch); inputs from --shape", ""}}},
      {"onnx", "OpenCV DNN (TRACKIQ_WITH_OPENCV)", TRACKIQ_BUILT_ONNX_PLUGIN,
       {{"onnx:", false, "", {"fp32"}, {"cpu"}, "ONNX model file (OpenCV DNN); shapes from the model, --shape for dynamic dims", ""}}},
  };
}

std::string unavailable_reason(const Engine& e, const LoadedPlugin& p) {
  if (!e.built && p.file.empty())
    return fmt::format("this trackiq was built without {}: {}", e.library, p.reason);
  return p.reason;
}

}  // namespace

std::vector<BackendInfo> backends() {
  std::vector<BackendInfo> out;
  for (auto& e : engines()) {
    const LoadedPlugin& p = load_backend_plugin(e.name);
    for (auto& b : e.prefixes) {
      b.available = p.plugin != nullptr;
      b.plugin_file = p.file;
      if (!b.available) {
        b.reason = unavailable_reason(e, p);
        b.precisions.clear();
        b.devices.clear();
      }
      out.push_back(std::move(b));
    }
  }
  out.push_back({"cmd:", true, "", {"fp32"}, {"cpu"}, "external command, one process per query, timed spawn to exit", ""});
  out.push_back({"synthetic", true, "", {"fp32"}, {"cpu"}, "synthetic service times for demos and tests (labelled synthetic)", ""});
  return out;
}

std::unique_ptr<Workload> make_workload(const WorkloadOptions& o) {
  if (o.batch_size < 1) throw InputError("--batch-size must be >= 1");
  if (o.threads < 1) throw InputError("--threads must be >= 1");
  const auto starts = [&](const char* p) { return o.spec.rfind(p, 0) == 0; };
  if (starts("cmd:")) return make_command_workload(o);
  if (o.spec == "synthetic" || starts("synthetic:")) return make_synthetic_workload(o);
  for (const auto& e : engines()) {
    for (const auto& b : e.prefixes) {
      if (!starts(b.prefix.c_str())) continue;
      const LoadedPlugin& p = load_backend_plugin(e.name);
      if (p.plugin == nullptr) throw NotAvailableError(fmt::format("{} backend: {}", b.prefix, unavailable_reason(e, p)));
      return p.plugin->make(o);
    }
  }
  throw InputError(fmt::format("unknown workload '{}' (expected builtin:NAME, torch:PATH, onnx:PATH, cmd:COMMAND or synthetic)",
                               o.spec));
}

}  // namespace trackiq::workload
