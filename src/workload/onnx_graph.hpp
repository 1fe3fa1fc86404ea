#pragma once
// Reads what TrackIQ needs from an ONNX file without protobuf or onnx libraries: the graph's
// real inputs (graph.input minus initializers) with element type and shape, and the nodes'
// names and op types (to name a node in error messages). Untrusted input: fuzzed
// (tests/fuzz/onnx_graph_fuzz.cpp).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trackiq::workload {

struct OnnxDim {
  std::int64_t value = -1;  // -1 when dynamic
  std::string param;        // symbolic name of a dynamic dim ("batch"), may be empty
};

struct OnnxInput {
  std::string name;
  int elem_type = 0;  // onnx.TensorProto.DataType (1 = FLOAT)
  std::vector<OnnxDim> dims;
};

struct OnnxNode {
  std::string name;
  std::string op_type;
};

struct OnnxGraph {
  std::int64_t ir_version = 0;
  std::vector<OnnxInput> inputs;
  std::vector<OnnxNode> nodes;
};

// Parses serialized onnx.ModelProto bytes. Throws InputError(origin, 0, what) when the bytes
// are not a protobuf ModelProto with a graph.
OnnxGraph parse_onnx_graph(std::string_view bytes, const std::string& origin);

std::string onnx_elem_type_name(int elem_type);  // "float32", "int64", ... or "type N"

}  // namespace trackiq::workload
