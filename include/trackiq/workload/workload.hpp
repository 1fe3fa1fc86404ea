#pragma once
// Workload backends (RUN-1) behind one interface. The runner sees only this header; engines
// (LibTorch, OpenCV DNN) stay inside their own source files.
//
//   auto w = trackiq::workload::make_workload({.spec = "builtin:cnn", .batch_size = 4});
//   w->prepare(/*workers=*/1);          // load, allocate, one validation inference
//   auto outcome = w->infer(/*worker=*/0);  // one query, timed by the caller
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "trackiq/core/result.hpp"

namespace trackiq::workload {

// One --shape value: "2x16x24" (name empty: positional) or "name:1x3x224x224".
struct ShapeOverride {
  std::string name;
  std::vector<std::int64_t> dims;
};

// Parses a --shape value; InputError naming the problem when malformed (dims must be >= 1).
ShapeOverride parse_shape(const std::string& text);
std::string format_shape(const std::vector<std::int64_t>& dims);  // "1x3x224x224"

struct WorkloadOptions {
  // "builtin:mlp|cnn|transformer", "torch:PATH", "onnx:PATH", "cmd:COMMAND ARGS",
  // "synthetic" or "synthetic:key=value,..." (see synthetic_workload.cpp for keys).
  std::string spec = "builtin:cnn";
  std::uint32_t batch_size = 1;
  std::string precision = "fp32";
  std::string device = "cpu";
  std::uint32_t threads = 1;  // intra-op threads of the engine
  std::uint64_t seed = 0;
  std::vector<ShapeOverride> shapes;
  std::optional<std::uint32_t> seq_len;  // builtin:transformer sequence length
};

// What one query produced. `error_class` is a short stable key ("exit_status", "exception",
// "signal", ...); `message` is for people. Allocates only when a query fails.
struct InferOutcome {
  bool ok = true;
  std::string error_class;
  std::string message;
};

class Workload {
 public:
  virtual ~Workload() = default;

  // Loads the model and prepares state for `workers` callers of infer(), then runs one
  // validation query (not a measurement) so shape and engine errors surface here. The model is
  // loaded by the first call only: later calls (the runs of a --repeat) keep it and re-create
  // per-worker state only when `workers` changed.
  // Throws InputError (bad model, shape, precision) or NotAvailableError.
  virtual void prepare(std::uint32_t workers) = 0;

  // Runs one query of descriptor().batch_size samples. Thread-safe for distinct `worker`
  // values in [0, workers); never throws: failures come back as an InferOutcome.
  virtual InferOutcome infer(std::uint32_t worker) noexcept = 0;

  // Valid after construction; inputs/outputs complete after prepare().
  virtual const WorkloadDescriptor& descriptor() const noexcept = 0;
};

// Creates the backend named by options.spec. Throws InputError for an unknown or malformed
// spec, an unsupported precision/device (the message lists what is supported), and
// NotAvailableError when the backend's engine plugin is missing, cannot be loaded or was built
// from another TrackIQ (the message names the file and why; see plugin.hpp).
std::unique_ptr<Workload> make_workload(const WorkloadOptions& options);

struct BackendInfo {
  std::string prefix;       // "builtin:", "torch:", ...
  bool available = false;
  std::string reason;       // why not, when !available
  std::vector<std::string> precisions;
  std::vector<std::string> devices;
  std::string summary;
  std::string plugin_file;  // the plugin it was loaded from; empty for backends built in
};
// Every backend; the engine plugins are loaded to tell (the first call that reaches an engine
// pays its load, about a second for LibTorch).
std::vector<BackendInfo> backends();

// Where engine plugins are looked for, in order: each folder of TRACKIQ_BACKEND_PATH
// (colon-separated), the running program's folder, PROGRAM_DIR/../LIBDIR/trackiq, and the
// configured install folder. The first libtrackiq_backend_<name>.so found is the one used.
std::vector<std::string> backend_search_path();
std::string plugin_file_name(const std::string& engine);  // "libtrackiq_backend_torch.so"

// Built-in reference models (names for builtin:NAME).
std::vector<std::string> builtin_models();

// FNV-1a of a file's bytes (16 hex digits); InputError when it cannot be read.
std::string hash_file(const std::string& path);

}  // namespace trackiq::workload
