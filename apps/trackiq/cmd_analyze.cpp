// trackiq analyze ...: analyzers of existing data (ANA). Today: tegrastats (ANA-4).
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "trackiq/analysis/tegrastats_analysis.hpp"
#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::cli {

Action setup_analyze(CLI::App& sub) {
  struct Flags {
    std::string log;
    double throttle_temp = 85;
    std::string interval = "1s";
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  sub.require_subcommand(1);
  CLI::App* teg = sub.add_subcommand("tegrastats", "Utilisation, memory pressure, throttling, power and health from a tegrastats log");
  teg->footer(
      "Analyse a tegrastats log (any Jetson/DRIVE board, JetPack 4-7): CPU/GPU/EMC utilisation, RAM\n"
      "pressure (>= 90 % used), thermal zones reaching --throttle-temp, input-rail power and energy, and\n"
      "a health rating (healthy, warning, critical) with the reasons. Malformed lines are skipped and\n"
      "counted.\n\n"
      "Examples:\n"
      "  trackiq analyze tegrastats --log tegrastats.log\n"
      "  trackiq analyze tegrastats --log board.log --throttle-temp 80 --json");
  teg->add_option("--log", f->log, "The tegrastats log")->required();
  teg->add_option("--throttle-temp", f->throttle_temp, "Temperature (°C) at which a zone counts as throttling")
      ->capture_default_str();
  teg->add_option("--interval", f->interval,
                  "Sampling interval of the log when its lines carry no timestamps (tegrastats' default: 1s)")
      ->capture_default_str();
  teg->add_flag("--json", f->json, "Print JSON");
  return [f] {
    const auto interval = parse_duration_ns(f->interval);
    if (!interval || *interval <= 0) throw InputError(fmt::format("--interval '{}': not a duration", f->interval));
    const auto log = telemetry::read_tegrastats_log(f->log);
    const auto report = analysis::analyze_tegrastats(log, f->throttle_temp, static_cast<double>(*interval) / 1e9);
    std::cout << (f->json ? analysis::tegrastats_report_json(report) : analysis::render_tegrastats_report(report));
    return kExitOk;
  };
}

}  // namespace trackiq::cli
