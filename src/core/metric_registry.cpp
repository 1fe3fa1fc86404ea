#include "trackiq/core/metric_registry.hpp"

#include <algorithm>
#include <string>

#include "trackiq/core/error.hpp"

namespace trackiq {

namespace {
using D = Direction;
// Keep sorted by name (a unit test checks it): lookups binary-search this table.
constexpr MetricDef kMetrics[] = {
    {"achieved_gflops", "GFLOP/s", D::kHigherIsBetter,
     "Model FLOPs per inference x inferences / measured time (built-in models, whose FLOPs are known)"},
    {"cpu_util_avg_pct", "%", D::kNeutral, "Mean total CPU utilisation over the measured phase"},
    {"cpu_util_max_pct", "%", D::kNeutral, "Max total CPU utilisation over the measured phase"},
    {"e2e_latency_ms", "ms", D::kLowerIsBetter, "Request end-to-end latency: last byte - send"},
    {"energy_j", "J", D::kLowerIsBetter, "Energy over the measured phase (integrated power or energy counters)"},
    {"energy_per_inference_j", "J", D::kLowerIsBetter, "Energy in the measured phase / inferences"},
    {"error_rate", "1", D::kLowerIsBetter, "Failed queries / issued queries"},
    {"errors_total", "1", D::kLowerIsBetter, "Queries that failed (counted, never aborting the run)"},
    {"goodput_req_per_s", "1/s", D::kHigherIsBetter, "Requests meeting all SLOs / duration"},
    {"gpu_memory_peak_bytes", "B", D::kLowerIsBetter, "Peak GPU memory used over the measured phase"},
    {"gpu_util_avg_pct", "%", D::kNeutral, "Mean GPU utilisation over the measured phase"},
    {"inferences_per_j", "1/J", D::kHigherIsBetter, "Inferences per joule: inverse of energy_per_inference_j"},
    {"latency_cv", "1", D::kLowerIsBetter, "Coefficient of variation of per-query latency: std / mean"},
    {"latency_max_ms", "ms", D::kLowerIsBetter, "Maximum per-query latency"},
    {"latency_mean_ms", "ms", D::kLowerIsBetter, "Arithmetic mean of per-query latency"},
    {"latency_min_ms", "ms", D::kLowerIsBetter, "Minimum per-query latency"},
    {"latency_p50_ms", "ms", D::kLowerIsBetter, "50th percentile of per-query latency (linear interpolation between closest ranks)"},
    {"latency_p90_ms", "ms", D::kLowerIsBetter, "90th percentile of per-query latency (linear interpolation)"},
    {"latency_p95_ms", "ms", D::kLowerIsBetter, "95th percentile of per-query latency (linear interpolation)"},
    {"latency_p99_9_ms", "ms", D::kLowerIsBetter, "99.9th percentile of per-query latency (linear interpolation)"},
    {"latency_p99_ms", "ms", D::kLowerIsBetter, "99th percentile of per-query latency (linear interpolation)"},
    {"latency_std_ms", "ms", D::kLowerIsBetter, "Population standard deviation of per-query latency"},
    {"power_avg_w", "W", D::kLowerIsBetter, "Time-weighted mean of power samples in the measured phase"},
    {"power_peak_w", "W", D::kLowerIsBetter, "Highest power sample in the measured phase"},
    {"qps_achieved", "1/s", D::kHigherIsBetter, "Server scenario: (completed queries - 1) / (last completion - first completion): the offered rate when the system keeps up, its capacity when not"},
    {"qps_scheduled", "1/s", D::kNeutral, "Server scenario: rate of the pre-generated Poisson schedule actually issued: (queries - 1) / (last - first scheduled time)"},
    {"queries_total", "1", D::kNeutral, "Queries completed successfully in the measured phase"},
    {"rss_peak_bytes", "B", D::kLowerIsBetter, "VmHWM of the workload process"},
    {"samples_total", "1", D::kNeutral, "Samples completed successfully in the measured phase: queries x batch size (a query's samples)"},
    {"temperature_max_c", "°C", D::kLowerIsBetter, "Max over all thermal zones in the measured phase"},
    {"throttle_events_total", "1", D::kLowerIsBetter, "Times a GPU entered a throttled state (clock event reasons other than idle/app settings) in the measured phase"},
    {"throughput_queries_per_s", "1/s", D::kHigherIsBetter, "Server scenario: (completed queries - 1) / (last completion - first issue); other scenarios: completed queries / (last completion - first issue)"},
    {"throughput_samples_per_s", "1/s", D::kHigherIsBetter, "throughput_queries_per_s x batch size (samples per query)"},
    {"tpot_ms", "ms", D::kLowerIsBetter, "Time per output token: (E2E - TTFT) / (N_out - 1), N_out >= 2"},
    {"ttft_ms", "ms", D::kLowerIsBetter, "Time to first content token: first content event - send"},
    {"ttft_sched_ms", "ms", D::kLowerIsBetter, "Time to first content token from the scheduled send time"},
    {"wall_time_s", "s", D::kNeutral, "Duration of the measured phase (first issue to last completion)"},
};
}  // namespace

std::string_view to_string(Direction d) noexcept {
  switch (d) {
    case Direction::kLowerIsBetter: return "lower";
    case Direction::kHigherIsBetter: return "higher";
    case Direction::kNeutral: return "neutral";
  }
  return "neutral";
}

std::span<const MetricDef> metric_registry() noexcept { return kMetrics; }

const MetricDef* find_metric(std::string_view name) noexcept {
  const auto* it = std::lower_bound(std::begin(kMetrics), std::end(kMetrics), name,
                                    [](const MetricDef& m, std::string_view n) { return m.name < n; });
  if (it == std::end(kMetrics) || it->name != name) return nullptr;
  return it;
}

const MetricDef& metric(std::string_view name) {
  const MetricDef* m = find_metric(name);
  if (!m) throw Error("unknown metric '" + std::string(name) + "' (not in the metric registry)");
  return *m;
}

}  // namespace trackiq
