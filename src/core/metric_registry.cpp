#include "trackiq/core/metric_registry.hpp"

#include <algorithm>
#include <string>

#include "trackiq/core/error.hpp"

namespace trackiq {

namespace {
using D = Direction;
using G = Gate;
// Keep sorted by name (a unit test checks it): lookups binary-search this table.
constexpr MetricDef kMetrics[] = {
    {"achieved_gflops", "GFLOP/s", D::kHigherIsBetter,
     "Model FLOPs per inference x inferences / measured time (built-in models, whose FLOPs are known)"},
    {"client_cpu_pct", "%", D::kLowerIsBetter, "Load: CPU used by the load generator process / wall time (100 % = one core)", G::kInformOnly},
    {"client_cpu_per_request_ms", "ms", D::kLowerIsBetter, "Load: the generator process CPU time per request sent, in ms", G::kInformOnly},
    {"cpu_util_avg_pct", "%", D::kNeutral, "Mean total CPU utilisation over the measured phase"},
    {"cpu_util_max_pct", "%", D::kNeutral, "Max total CPU utilisation over the measured phase"},
    {"e2e_latency_ms", "ms", D::kLowerIsBetter, "Request end-to-end latency: last byte - send"},
    {"energy_j", "J", D::kLowerIsBetter, "Energy over the measured phase (integrated power or energy counters)"},
    {"energy_per_inference_j", "J", D::kLowerIsBetter, "Energy in the measured phase / inferences"},
    {"error_rate", "1", D::kLowerIsBetter, "Failed queries / issued queries", G::kCanBlock, {}, 0.01},
    {"errors_total", "1", D::kLowerIsBetter, "Queries that failed (counted, never aborting the run)"},
    {"goodput_req_per_s", "1/s", D::kHigherIsBetter, "Requests meeting all SLOs / duration"},
    {"gpu_memory_peak_bytes", "B", D::kLowerIsBetter, "Peak GPU memory used over the measured phase"},
    {"gpu_util_avg_pct", "%", D::kNeutral, "Mean GPU utilisation over the measured phase"},
    {"inferences_per_j", "1/J", D::kHigherIsBetter, "Inferences per joule: inverse of energy_per_inference_j"},
    {"late_send_fraction", "1", D::kLowerIsBetter, "Load, open loop: fraction of requests sent (or given up unsent) more than 1 ms behind schedule", G::kInformOnly},
    {"latency_cv", "1", D::kLowerIsBetter, "Coefficient of variation of per-query latency: std / mean", G::kInformOnly},
    {"latency_max_ms", "ms", D::kLowerIsBetter, "Maximum per-query latency", G::kInformOnly},
    {"latency_mean_ms", "ms", D::kLowerIsBetter, "Arithmetic mean of per-query latency"},
    {"latency_min_ms", "ms", D::kLowerIsBetter, "Minimum per-query latency", G::kInformOnly},
    {"latency_p50_ms", "ms", D::kLowerIsBetter, "50th percentile of per-query latency (linear interpolation between closest ranks)"},
    {"latency_p90_ms", "ms", D::kLowerIsBetter, "90th percentile of per-query latency (linear interpolation)"},
    {"latency_p95_ms", "ms", D::kLowerIsBetter, "95th percentile of per-query latency (linear interpolation)"},
    {"latency_p99_9_ms", "ms", D::kLowerIsBetter, "99.9th percentile of per-query latency (linear interpolation)"},
    {"latency_p99_ms", "ms", D::kLowerIsBetter, "99th percentile of per-query latency (linear interpolation)"},
    {"latency_std_ms", "ms", D::kLowerIsBetter, "Population standard deviation of per-query latency", G::kInformOnly},
    {"max_concurrent_requests", "1", D::kNeutral, "Load: most requests in flight at once"},
    {"mean_e2el_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Mean end-to-end request latency (last output event − send; HTTP: last byte − send)"},
    {"mean_e2el_sched_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Mean end-to-end request latency from the scheduled send time"},
    {"mean_itl_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Mean inter-token latency (gap between consecutive output events); informs only: the gaps of one request are not independent, TPOT carries the verdict", G::kInformOnly},
    {"mean_tpot_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Mean time per output token ((E2EL − TTFT) / (N_out − 1), N_out ≥ 2)"},
    {"mean_ttft_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Mean time to first token (first output event − send)"},
    {"mean_ttft_sched_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Mean time to first token from the scheduled send time (coordinated-omission free)"},
    {"median_e2el_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Median end-to-end request latency (last output event − send; HTTP: last byte − send)"},
    {"median_e2el_sched_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Median end-to-end request latency from the scheduled send time"},
    {"median_itl_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Median inter-token latency (gap between consecutive output events); informs only: the gaps of one request are not independent, TPOT carries the verdict", G::kInformOnly},
    {"median_tpot_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Median time per output token ((E2EL − TTFT) / (N_out − 1), N_out ≥ 2)"},
    {"median_ttft_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Median time to first token (first output event − send)"},
    {"median_ttft_sched_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Median time to first token from the scheduled send time (coordinated-omission free)"},
    {"output_throughput", "1/s", D::kHigherIsBetter, "Load: output tokens / D (tokens per second; from the server usage, else estimated)"},
    {"p90_e2el_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 90th percentile of end-to-end request latency (last output event − send; HTTP: last byte − send)"},
    {"p90_e2el_sched_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 90th percentile of end-to-end request latency from the scheduled send time"},
    {"p90_itl_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 90th percentile of inter-token latency (gap between consecutive output events); informs only: the gaps of one request are not independent, TPOT carries the verdict", G::kInformOnly},
    {"p90_tpot_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 90th percentile of time per output token ((E2EL − TTFT) / (N_out − 1), N_out ≥ 2)"},
    {"p90_ttft_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 90th percentile of time to first token (first output event − send)"},
    {"p90_ttft_sched_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 90th percentile of time to first token from the scheduled send time (coordinated-omission free)"},
    {"p95_e2el_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 95th percentile of end-to-end request latency (last output event − send; HTTP: last byte − send)"},
    {"p95_e2el_sched_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 95th percentile of end-to-end request latency from the scheduled send time"},
    {"p95_itl_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 95th percentile of inter-token latency (gap between consecutive output events); informs only: the gaps of one request are not independent, TPOT carries the verdict", G::kInformOnly},
    {"p95_tpot_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 95th percentile of time per output token ((E2EL − TTFT) / (N_out − 1), N_out ≥ 2)"},
    {"p95_ttft_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 95th percentile of time to first token (first output event − send)"},
    {"p95_ttft_sched_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 95th percentile of time to first token from the scheduled send time (coordinated-omission free)"},
    {"p99_e2el_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 99th percentile of end-to-end request latency (last output event − send; HTTP: last byte − send)"},
    {"p99_e2el_sched_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 99th percentile of end-to-end request latency from the scheduled send time"},
    {"p99_itl_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 99th percentile of inter-token latency (gap between consecutive output events); informs only: the gaps of one request are not independent, TPOT carries the verdict", G::kInformOnly},
    {"p99_tpot_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 99th percentile of time per output token ((E2EL − TTFT) / (N_out − 1), N_out ≥ 2)"},
    {"p99_ttft_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 99th percentile of time to first token (first output event − send)"},
    {"p99_ttft_sched_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): 99th percentile of time to first token from the scheduled send time (coordinated-omission free)"},
    {"power_avg_w", "W", D::kLowerIsBetter, "Time-weighted mean of power samples in the measured phase"},
    {"power_peak_w", "W", D::kLowerIsBetter, "Highest power sample in the measured phase"},
    {"qps_achieved", "1/s", D::kHigherIsBetter, "Server scenario: (completed queries - 1) / (last completion - first completion): the offered rate when the system keeps up, its capacity when not"},
    {"qps_scheduled", "1/s", D::kNeutral, "Server scenario: rate of the pre-generated Poisson schedule actually issued: (queries - 1) / (last - first scheduled time)"},
    {"queries_total", "1", D::kNeutral, "Queries completed successfully in the measured phase"},
    {"queries_waiting_at_end", "1", D::kLowerIsBetter, "Server scenario: queries more than 1 ms late and not yet started when the last query was due (the backlog left)", G::kInformOnly},
    {"request_cpu_seen_mean_ms", "ms", D::kLowerIsBetter, "Tracker: mean over requests of the tracked process's CPU time (all threads) seen during a request: its value at the first sample at or after the end minus at the last sample at or before the begin (seen during, not used by: concurrent requests overlap)", G::kInformOnly},
    {"request_cpu_seen_p99_ms", "ms", D::kLowerIsBetter, "Tracker: 99th percentile over requests of the process CPU time seen during a request (see request_cpu_seen_mean_ms)", G::kInformOnly},
    {"request_goodput", "1/s", D::kHigherIsBetter, "Load: requests meeting every --slo / D (TTFT and E2EL from the scheduled time in the open loop, like the SLO verdicts)"},
    {"request_gpu_mem_seen_peak_bytes", "B", D::kLowerIsBetter, "Tracker: largest GPU memory of the tracked process (sum over GPUs of gpuN.proc_mem_bytes, NVML) seen during any request", G::kInformOnly},
    {"request_rate_target", "1/s", D::kNeutral, "Load, open loop: the schedule rate (requests / schedule span)"},
    {"request_rss_seen_p50_bytes", "B", D::kLowerIsBetter, "Tracker: median over requests of the peak RSS of the tracked process seen during a request (bracketing samples included)", G::kInformOnly},
    {"request_rss_seen_peak_bytes", "B", D::kLowerIsBetter, "Tracker: largest RSS of the tracked process seen during any request (process-wide: seen during, not used by)", G::kInformOnly},
    {"request_temp_seen_peak_c", "°C", D::kLowerIsBetter, "Tracker: highest temperature (any GPU or thermal zone) seen during any request", G::kInformOnly},
    {"request_throttled_seen_ratio", "1", D::kLowerIsBetter, "Tracker: share of requests during which some GPU reported throttling (gpuN.throttled)", G::kInformOnly},
    {"request_throughput", "1/s", D::kHigherIsBetter, "Load: completed requests / duration D (first send to last completion)", G::kCanBlock, "throughput_queries_per_s"},
    {"retried_requests", "1", D::kLowerIsBetter,
     "Load: requests sent a second time on a new connection after their kept-alive connection closed before any response byte"},
    {"rss_peak_bytes", "B", D::kLowerIsBetter, "Peak RSS (VmHWM) of TrackIQ's own process in the measured phase (the high-water mark is reset at its start), which runs in-process workloads (builtin, torch, onnx); a cmd: workload's processes are workload_rss_*"},
    {"rtf_mean", "1", D::kLowerIsBetter, "Load, audio responses: mean real-time factor = processing time (send to last byte) / audio duration"},
    {"samples_total", "1", D::kNeutral, "Samples completed successfully in the measured phase: queries x batch size (a query's samples)"},
    {"schedule_lag_growth_pct", "%", D::kLowerIsBetter, "Server scenario: growth of the late-start lag (start - scheduled): median of the last third of the schedule minus that of the first, over the time between them (1 % = 10 ms per s); a growing queue shows as > 0", G::kInformOnly},
    {"schedule_lag_p99_ms", "ms", D::kLowerIsBetter, "Load, open loop: 99th percentile of send − scheduled time (the client falling behind; a request given up unsent counts its wait)", G::kInformOnly},
    {"std_e2el_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Population standard deviation of end-to-end request latency (last output event − send; HTTP: last byte − send)", G::kInformOnly},
    {"std_e2el_sched_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Population standard deviation of end-to-end request latency from the scheduled send time", G::kInformOnly},
    {"std_itl_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Population standard deviation of inter-token latency (gap between consecutive output events)", G::kInformOnly},
    {"std_tpot_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Population standard deviation of time per output token ((E2EL − TTFT) / (N_out − 1), N_out ≥ 2)", G::kInformOnly},
    {"std_ttft_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Population standard deviation of time to first token (first output event − send)", G::kInformOnly},
    {"std_ttft_sched_ms", "ms", D::kLowerIsBetter, "Load (vLLM name): Population standard deviation of time to first token from the scheduled send time (coordinated-omission free)", G::kInformOnly},
    {"temperature_max_c", "°C", D::kLowerIsBetter, "Max over all thermal zones in the measured phase"},
    {"throttle_events_total", "1", D::kLowerIsBetter, "Times a GPU entered a throttled state (clock event reasons other than idle/app settings) in the measured phase"},
    {"throughput_queries_per_s", "1/s", D::kHigherIsBetter, "Server scenario: (completed queries - 1) / (last completion - first issue); other scenarios: completed queries / (last completion - first issue)"},
    {"throughput_samples_per_s", "1/s", D::kHigherIsBetter, "throughput_queries_per_s x batch size (samples per query)", G::kCanBlock, "throughput_queries_per_s"},
    {"total_token_throughput", "1/s", D::kHigherIsBetter, "Load: (prompt + output tokens) / D"},
    {"tpot_ms", "ms", D::kLowerIsBetter, "Time per output token: (E2E - TTFT) / (N_out - 1), N_out >= 2"},
    {"ttft_ms", "ms", D::kLowerIsBetter, "Time to first content token: first content event - send"},
    {"ttft_sched_ms", "ms", D::kLowerIsBetter, "Time to first content token from the scheduled send time"},
    {"wall_time_s", "s", D::kNeutral, "Duration of the measured phase (first issue to last completion)"},
    {"workload_cpu_sys_ms", "ms", D::kLowerIsBetter, "cmd: workloads: mean system CPU time of one query's process and its reaped descendants (wait4 rusage)"},
    {"workload_cpu_user_ms", "ms", D::kLowerIsBetter, "cmd: workloads: mean user CPU time of one query's process and its reaped descendants (wait4 rusage)"},
    {"workload_rss_mean_bytes", "B", D::kLowerIsBetter, "cmd: workloads: mean over queries of each query process's peak RSS (wait4 ru_maxrss: the largest of the process and its reaped descendants)"},
    {"workload_rss_p50_bytes", "B", D::kLowerIsBetter, "cmd: workloads: median over queries of each query process's peak RSS (wait4 ru_maxrss)"},
    {"workload_rss_p99_bytes", "B", D::kLowerIsBetter, "cmd: workloads: 99th percentile over queries of each query process's peak RSS (wait4 ru_maxrss)"},
    {"workload_rss_peak_bytes", "B", D::kLowerIsBetter, "cmd: workloads: largest peak RSS of any query's process (wait4 ru_maxrss)"},
    {"workload_tree_rss_mean_bytes", "B", D::kLowerIsBetter, "cmd: workloads: mean over queries of the time-mean RSS of each query's process tree (the process and its descendants, sampled while it runs)", G::kInformOnly},
    {"workload_tree_rss_p50_bytes", "B", D::kLowerIsBetter, "cmd: workloads: median over queries of the sampled peak RSS of each query's process tree", G::kInformOnly},
    {"workload_tree_rss_p99_bytes", "B", D::kLowerIsBetter, "cmd: workloads: 99th percentile over queries of the sampled peak RSS of each query's process tree", G::kInformOnly},
    {"workload_tree_rss_peak_bytes", "B", D::kLowerIsBetter, "cmd: workloads: largest sampled RSS of any query's process tree (the sum over the process and its descendants: RSS counts shared pages in each)", G::kInformOnly},
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

std::string_view to_string(Gate g) noexcept {
  return g == Gate::kInformOnly ? "inform_only" : "can_block";
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
