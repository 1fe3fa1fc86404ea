// trackiq backends / trackiq metrics: what this build can run and what it measures.
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "trackiq/core/metric_registry.hpp"
#include "trackiq/workload/workload.hpp"

namespace trackiq::cli {

Action setup_backends(CLI::App& sub) {
  (void)sub;  // no flags
  return [] {
    for (const auto& b : workload::backends()) {
      if (b.available)
        fmt::print("{:<10} {} (precisions: {}; devices: {})\n", b.prefix, b.summary, fmt::join(b.precisions, ", "),
                   fmt::join(b.devices, ", "));
      else
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
