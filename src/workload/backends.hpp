#pragma once
// Private to the workload module: one factory per engine, each in its own source file.
#include <memory>
#include <string>

#include "trackiq/workload/plugin.hpp"
#include "trackiq/workload/workload.hpp"

namespace trackiq::workload {

// builtin:NAME and torch:PATH (torch_workload.cpp, in libtrackiq_backend_torch.so).
std::unique_ptr<Workload> make_torch_workload(const WorkloadOptions& options);
// onnx:PATH (onnx_workload.cpp, in libtrackiq_backend_onnx.so).
std::unique_ptr<Workload> make_onnx_workload(const WorkloadOptions& options);

// Engine plugins (plugin_loader.cpp). A plugin that could not be used has plugin == nullptr and
// says why in `reason` (the file it tried, dlerror(), or the version check that failed).
struct LoadedPlugin {
  const BackendPlugin* plugin = nullptr;
  std::string file;
  std::string reason;
};
// Loads libtrackiq_backend_<name>.so on first use, once per process (thread-safe).
const LoadedPlugin& load_backend_plugin(const std::string& name);
// cmd:COMMAND (command_workload.cpp).
std::unique_ptr<Workload> make_command_workload(const WorkloadOptions& options);
// synthetic[:k=v,...] (synthetic_workload.cpp).
std::unique_ptr<Workload> make_synthetic_workload(const WorkloadOptions& options);

// Splits a cmd: command line into argv like a POSIX shell splits words (quotes, backslashes),
// without expansions. InputError on an unterminated quote.
std::vector<std::string> split_command_line(const std::string& line);

// Assigns --shape values to a model's inputs, by name or else by position: per input, the
// override given for it or nullptr. InputError (origin = model path) for an unknown name, more
// values than inputs, or two values for one input.
std::vector<const ShapeOverride*> match_shapes(const std::vector<ShapeOverride>& shapes,
                                               const std::vector<std::string>& input_names,
                                               const std::string& origin);

// Samples per query from the first input's leading dim; InputError when an explicit
// --batch-size (other than the default 1) contradicts it.
std::uint32_t batch_from_shape(const std::vector<std::int64_t>& first_input, std::uint32_t batch_size,
                               const std::string& origin);

// The descriptor fields every backend fills the same way, after checking precision and device
// against what the backend supports.
WorkloadDescriptor base_descriptor(const WorkloadOptions& o, const std::string& backend, const std::string& model,
                                   const std::vector<std::string>& precisions);

// Throws InputError listing `supported` when `value` is not among them.
void require_one_of(const std::string& what, const std::string& value,
                    const std::vector<std::string>& supported, const std::string& backend);

}  // namespace trackiq::workload
