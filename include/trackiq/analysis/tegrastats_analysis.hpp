#pragma once
// `trackiq analyze tegrastats` (ANA-4): utilisation, memory pressure, throttling, power and
// energy from a tegrastats log, and a health rating with the reasons behind it.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "trackiq/telemetry/tegrastats.hpp"

namespace trackiq::analysis {

struct Stat {
  std::uint64_t count = 0;
  double mean = 0, max = 0, p95 = 0;
};

struct ZoneReport {
  std::string zone;
  double max_c = 0;
  std::uint64_t samples_at_or_above = 0;  // samples >= the throttle temperature
  std::uint64_t events = 0;               // entries into >= the throttle temperature
};

struct TegrastatsReport {
  std::uint64_t samples = 0;
  std::uint64_t skipped_lines = 0;
  std::vector<std::string> warnings;  // parser warnings ("file:line: what")
  double interval_s = 1.0;            // from timestamps when present, else the given interval
  std::string interval_source;        // "timestamps" or "--interval"
  std::optional<Stat> cpu_util_pct, gpu_util_pct, emc_util_pct, ram_used_pct;
  std::uint64_t memory_pressure_samples = 0;  // RAM used >= 90 %
  double throttle_temp_c = 85;
  std::vector<ZoneReport> zones;  // disabled sensors (-256 °C) and the PMIC placeholder excluded
  std::uint64_t throttle_events = 0;
  std::string power_rail;  // the input rail used ("VDD_IN", "POM_5V_IN"), or ""
  std::optional<Stat> power_w;     // the input rail's entry of `rails`, when there is one
  std::optional<double> energy_j;  // sum of rail power x interval
  // Every rail of the log (`NC` left out), in the order of the first line: the input rail and the
  // supplies it feeds, or, on modules without an input-rail monitor (AGX Xavier, AGX Orin, Thor),
  // the only power figures there are.
  struct Rail {
    std::string name;
    Stat power_w;
    double energy_j = 0;  // mean x samples x interval
  };
  std::vector<Rail> rails;
  std::string health;              // "healthy", "warning" or "critical"
  std::vector<std::string> reasons;
};

// Analyses parsed samples. `interval_s` is used when the lines carry no timestamps (tegrastats'
// default interval is 1 s).
TegrastatsReport analyze_tegrastats(const telemetry::TegrastatsLog& log, double throttle_temp_c, double interval_s);

std::string render_tegrastats_report(const TegrastatsReport& r);
std::string tegrastats_report_json(const TegrastatsReport& r);

}  // namespace trackiq::analysis
