// libFuzzer target: the ONNX protobuf reader must reject any bytes with InputError, never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trackiq/core/error.hpp"
#include "workload/onnx_graph.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto g = trackiq::workload::parse_onnx_graph(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.onnx");
    for (const auto& in : g.inputs) (void)trackiq::workload::onnx_elem_type_name(in.elem_type);
  } catch (const trackiq::InputError&) {
  }
  return 0;
}
