#ifndef TRACKIQ_ANALYSIS_EFFICIENCY_HPP
#define TRACKIQ_ANALYSIS_EFFICIENCY_HPP
// `trackiq analyze efficiency` (ANA-3): performance per watt, joules per inference and energy
// cost of stored runs or a sweep, and the Pareto front of throughput against energy — only from
// power that was measured (a run's power_avg_w / energy_j of kind measured or derived from
// measurements); a run without it says "not available", never a modelled TDP.
//
// Example:
//   const auto e = trackiq::analysis::analyze_efficiency(runs, 0.30);  // $ per kWh
//   std::cout << trackiq::analysis::render_efficiency(e);
#include <optional>
#include <string>
#include <vector>

#include "trackiq/core/result.hpp"

namespace trackiq::analysis {

struct EfficiencyRow {
  std::string run_id, label;  // label: the sweep point or batch/precision/threads
  std::uint32_t batch = 1;
  double throughput = 0;        // inferences (samples) per second
  std::string throughput_from;  // the metric it came from
  std::optional<double> latency_p99_ms;
  std::optional<double> power_w;                // mean power over the measured phase
  std::optional<double> joules_per_inference;   // energy_per_inference_j, else power / throughput
  std::optional<double> inferences_per_joule;   // = performance per watt (inferences/s per W)
  std::optional<double> cost_per_million;       // at the given price per kWh
  bool pareto = false;                          // on the throughput-vs-energy front
  std::string not_available;                    // why there is no energy figure
};

struct EfficiencyReport {
  std::vector<EfficiencyRow> rows;  // in input order
  std::optional<double> price_per_kwh;
  std::optional<std::size_t> most_efficient, fastest;  // indices into rows
  std::vector<std::string> notes;
};

EfficiencyReport analyze_efficiency(const std::vector<Result>& runs, std::optional<double> price_per_kwh);
std::string render_efficiency(const EfficiencyReport& e);
std::string efficiency_json(const EfficiencyReport& e);

}  // namespace trackiq::analysis
#endif
