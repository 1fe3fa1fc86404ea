// trackiq backends / trackiq metrics: what this build can run and what it measures.
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "trackiq/core/metric_registry.hpp"
#include "trackiq/workload/workload.hpp"

namespace trackiq::cli {

Action setup_backends(CLI::App& sub) {
  // A function: the folders are found (readlink, getenv) only when --help is printed, not at the
  // start of every command.
  sub.footer([]() -> std::string {
    return fmt::format(
      "The engines are plugins, loaded when a run needs them: libtrackiq_backend_torch.so (builtin:, torch:)\n"
      "and libtrackiq_backend_onnx.so (onnx:). They are looked for in the folders of TRACKIQ_BACKEND_PATH\n"
      "(colon-separated), beside the trackiq program, in PROGRAM_DIR/../LIBDIR/trackiq and in the install\n"
      "folder; the first file found is used, and one built from another TrackIQ is refused. Listing loads\n"
      "the plugins (about a second for LibTorch). Searched now, in order:\n  {}\n\n"
      "Example:\n  trackiq backends\n  TRACKIQ_BACKEND_PATH=/opt/trackiq/plugins trackiq backends",
        fmt::join(workload::backend_search_path(), "\n  "));
  });
  return [] {
    for (const auto& b : workload::backends()) {
      if (b.available) {
        fmt::print("{:<10} {} (precisions: {}; devices: {})\n", b.prefix, b.summary, fmt::join(b.precisions, ", "),
                   fmt::join(b.devices, ", "));
        if (!b.plugin_file.empty()) fmt::print("{:<10} plugin {}\n", "", b.plugin_file);
      } else
        fmt::print("{:<10} not available: {}\n", b.prefix, b.reason);
    }
    return kExitOk;
  };
}

Action setup_metrics(CLI::App& sub) {
  auto names_only = std::make_shared<bool>(false);
  sub.add_flag("--names", *names_only, "Print metric names only");
  return [names_only] {
    for (const auto& m : metric_registry()) {
      if (*names_only)
        fmt::print("{}\n", m.name);
      else
        fmt::print("{:<26} {:<8} {:<8} {}\n", m.name, m.unit, to_string(m.direction), m.description);
    }
    return kExitOk;
  };
}

}  // namespace trackiq::cli
