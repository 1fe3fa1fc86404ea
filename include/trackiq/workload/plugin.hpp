#pragma once
// The boundary between TrackIQ and its engine plugins (docs/architecture.md, "Backend plugins").
//
// LibTorch (builtin:, torch:) and OpenCV DNN (onnx:) are shared modules,
// libtrackiq_backend_<name>.so, loaded with dlopen by make_workload() the first time a workload
// of theirs is made, so that every other program and command starts without them.
//
// A plugin exports one C function, trackiq_backend_plugin(), returning a pointer to a static
// BackendPlugin. C++ objects cross the boundary (WorkloadOptions in, a Workload out, exceptions
// derived from trackiq::Error), so the host refuses a plugin unless it was built from the same
// TrackIQ version, with the same interface headers and the same compiler: abi_version is read
// first, then the three strings are compared.
//
// Ownership: the Workload a plugin's make() returns is owned by the caller and destroyed through
// its virtual destructor, whose code lives in the plugin; the host therefore never unloads a
// plugin (LibTorch cannot be unloaded cleanly either). The BackendPlugin and its strings are
// static data of the plugin.
#include <cstdint>
#include <memory>

#include "trackiq/workload/workload.hpp"

namespace trackiq::workload {

// Layout version of BackendPlugin; changes whenever a field is added, removed or retyped.
inline constexpr std::uint32_t kBackendPluginAbi = 1;

struct BackendPlugin {
  std::uint32_t abi = kBackendPluginAbi;  // always the first field
  const char* trackiq_version = nullptr;  // version() of the build that made the plugin
  const char* interface_hash = nullptr;   // hash of the headers whose types cross (build-generated)
  const char* compiler = nullptr;         // the compiler's __VERSION__
  const char* name = nullptr;             // "torch", "onnx": the file is libtrackiq_backend_<name>.so
  // Makes a workload for options.spec (one of this plugin's prefixes). Throws InputError or
  // NotAvailableError like make_workload().
  std::unique_ptr<Workload> (*make)(const WorkloadOptions& options) = nullptr;
};

}  // namespace trackiq::workload

// The symbol every plugin exports.
#define TRACKIQ_BACKEND_PLUGIN_SYMBOL "trackiq_backend_plugin"
extern "C" {
using trackiq_backend_plugin_fn = const trackiq::workload::BackendPlugin* (*)();
}
