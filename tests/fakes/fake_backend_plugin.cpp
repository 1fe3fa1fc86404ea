// Stand-ins for an engine plugin that the host must refuse (tests/integration/plugins_test.cpp):
// built once as if from another TrackIQ version (FAKE_PLUGIN_OTHER_VERSION) and once with another
// plugin ABI (FAKE_PLUGIN_OTHER_ABI). Neither may ever be asked to make a workload.
#include <cstdlib>

#include "trackiq/workload/plugin.hpp"

namespace {

std::unique_ptr<trackiq::workload::Workload> never_called(const trackiq::workload::WorkloadOptions&) {
  std::abort();  // the host must refuse this plugin before it calls make()
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const trackiq::workload::BackendPlugin* trackiq_backend_plugin() {
  static const trackiq::workload::BackendPlugin plugin{
#if defined(FAKE_PLUGIN_OTHER_ABI)
      999,
#else
      trackiq::workload::kBackendPluginAbi,
#endif
      "0.0.1-other", "0000000000000000", __VERSION__, "torch", &never_called,
  };
  return &plugin;
}
