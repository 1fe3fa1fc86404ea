// trackiq profiles list|show NAME: the run profiles (RUN-5).
#include <fmt/format.h>

#include "commands.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/metric_registry.hpp"
#include "trackiq/runner/profile.hpp"

namespace trackiq::cli {

Action setup_profiles(CLI::App& sub) {
  struct Flags {
    std::string action;
    std::string name;
    std::string dir;
  };
  auto f = std::make_shared<Flags>();
  sub.footer(
      "Run profiles: YAML files with run settings and SLO constraints (p99 latency, throughput, power,\n"
      "temperature, memory...). Shipped: automotive_safety, edge_max_perf, edge_low_power, ci_smoke; user\n"
      "profiles in ~/.config/trackiq/profiles (or --profiles-dir) shadow shipped ones of the same name.\n\n"
      "Examples:\n"
      "  trackiq profiles list\n"
      "  trackiq profiles show automotive_safety\n"
      "  trackiq run builtin:cnn --profile automotive_safety");
  sub.add_option("action", f->action, "list, or show")->required()->check(CLI::IsMember({"list", "show"}));
  sub.add_option("name", f->name, "Profile name (show)");
  sub.add_option("--profiles-dir", f->dir, "User profile directory");
  return [f] {
    if (f->action == "list") {
      for (const auto& p : runner::list_profiles(f->dir))
        fmt::print("{:<20} {} ({} constraints)\n", p.name, p.description, p.constraints.size());
      return kExitOk;
    }
    if (f->name.empty()) throw InputError("profiles show: which profile? (trackiq profiles list)");
    const auto p = runner::find_profile(f->name, f->dir);
    fmt::print("{}\n  {}\n  file: {}\n", p.name, p.description, p.path);
    fmt::print("run settings:\n");
    for (const auto& [k, v] : p.run) fmt::print("  {:<18} {}\n", k, v);
    fmt::print("constraints:\n");
    for (const auto& c : p.constraints) {
      const auto& def = metric(c.metric);
      fmt::print("  {:<26} {} {} {}  ({} is better)\n", c.metric, c.op, c.limit, def.unit == "1" ? "" : def.unit,
                 to_string(def.direction));
    }
    return kExitOk;
  };
}

}  // namespace trackiq::cli
