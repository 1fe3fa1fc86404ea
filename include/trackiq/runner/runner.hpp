#pragma once
// The benchmark runner (RUN-2, RUN-3): warmup, stopping rules and MLPerf-style scenarios over a
// Workload, producing exact per-query records and from them the canonical Result.
//
//   trackiq::runner::RunSettings s;
//   s.scenario = trackiq::runner::Scenario::kServer;
//   s.qps = 50;  s.duration_ns = 10'000'000'000;
//   auto rec = trackiq::runner::run_scenario(*workload, s, {});
//   trackiq::Result r = trackiq::runner::make_result(*workload, s, rec, trackiq::capture_environment(), {});
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trackiq/core/result.hpp"
#include "trackiq/telemetry/collector.hpp"
#include "trackiq/telemetry/sampler.hpp"
#include "trackiq/workload/workload.hpp"

namespace trackiq::runner {

enum class Scenario {
  kSingleStream,  // closed loop, one query in flight
  kMultiStream,   // closed loop, each query carries samples_per_query samples
  kServer,        // Poisson arrivals at qps, latency from the scheduled time
  kOffline,       // all samples available at once: workers run back to back, throughput
};
std::string_view to_string(Scenario s) noexcept;
// "single-stream" | "multi-stream" | "server" | "offline"; InputError listing them otherwise.
Scenario parse_scenario(std::string_view text);

// The most queries one run records exactly (40 bytes each: ~640 MB). A run that reaches it
// stops with a warning; --iterations or a server schedule above it is rejected up front.
inline constexpr std::uint64_t kMaxQueriesPerRun = 16'000'000;

struct RunSettings {
  Scenario scenario = Scenario::kSingleStream;
  std::uint64_t warmup_iterations = 0;  // per worker
  std::int64_t warmup_ns = 0;           // per worker; both given: both are met
  // Stopping (MLPerf rule): with both, run until the minimum count AND the minimum duration are
  // met; max_duration_ns is a hard stop in every case. At least one of the first two is needed.
  std::optional<std::uint64_t> iterations;
  std::optional<std::int64_t> duration_ns;
  std::optional<std::int64_t> max_duration_ns;
  std::uint64_t seed = 0;
  std::optional<double> qps;           // server: target arrival rate (queries/s)
  std::uint32_t samples_per_query = 1;  // multi-stream
  std::uint32_t workers = 1;            // server/offline: concurrent workers (others: 1)
  bool include_samples_in_result = false;  // copy per-query latencies and the telemetry series into Result
  // Telemetry sampled during the measured phase (TEL-5); empty list = no telemetry.
  std::vector<std::string> collectors = {"all"};
  std::int64_t telemetry_interval_ns = 100'000'000;
  telemetry::CollectorOptions collector_options;
};

// Validates a combination (qps only with server, workers only with server/offline, ...).
void validate(const RunSettings& s);

// One query. Times are ns relative to the start of the measured phase (monotonic clock).
struct QueryRecord {
  std::uint64_t index = 0;
  std::int64_t scheduled_ns = 0;  // server: the scheduled issue time; otherwise == start_ns
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::uint32_t worker = 0;
  bool ok = true;
  // cmd: workloads: the query's process from wait4 (workload/process_usage.hpp); -1 otherwise,
  // and process_max_rss_bytes also when the peak was not above TrackIQ's own (not known).
  std::int64_t process_max_rss_bytes = -1;
  std::int64_t process_user_cpu_ns = -1;
  std::int64_t process_sys_cpu_ns = -1;
  // cmd: workloads: the query's process tree (the process and its descendants), sampled while it
  // ran (workload/process_tree.hpp): peak and mean of the summed RSS; -1 when no sample found it.
  std::int64_t process_tree_rss_peak_bytes = -1;
  std::int64_t process_tree_rss_mean_bytes = -1;
};

struct RunRecording {
  std::vector<QueryRecord> queries;  // sorted by index
  ErrorSummary errors;
  std::uint64_t warmup_queries = 0;
  bool hit_max_duration = false;  // the hard stop ended the run before its minimums were met
  bool hit_query_limit = false;   // the run stopped at kMaxQueriesPerRun
  std::vector<std::int64_t> schedule_ns;  // server: the whole pre-generated schedule
  std::string started_at;
  std::string finished_at;
  std::int64_t t0_ns = 0;  // monotonic start of the measured phase: query and telemetry times are relative to it
  // Telemetry of the measured phase (absent when no collector was asked for).
  std::optional<telemetry::Series> telemetry;
  std::vector<std::string> telemetry_unavailable;  // "name: not available: why"
  double sampler_cpu_s = 0;                        // CPU time of the sampler thread
  // Empty when this process's peak RSS was reset at the start of the measured phase (so that
  // rss_peak_bytes is that phase's peak), else why not and what the peak covers instead.
  std::string rss_peak_note;
};

// Live progress for a display; read from another thread while a run goes on.
struct Progress {
  std::atomic<std::uint64_t> issued{0};
  std::atomic<bool> measuring{false};
};

// Prepares the workload for the scenario's workers, warms up and measures. Blocks until done.
// Workload failures are counted in RunRecording::errors, never thrown. When the process collector
// samples this process, its peak RSS (VmHWM) is reset at the start of the measured phase
// (RunRecording::rss_peak_note): a host program embedding the runner sees its own VmHWM reset too.
RunRecording run_scenario(workload::Workload& w, const RunSettings& s, Progress* progress = nullptr);

// The server scenario's "target QPS achieved" (RUN-3), judged from the backlog rather than the
// completion rate: a system that completes 97 % of the offered rate passes a rate rule but its
// queue grows without end. Over every issued query (failed ones too: a failure is an error, not
// queueing), the late-start lag is start − scheduled, the time a due query waited for a worker.
//  1. Trend: the queries are split by scheduled time into thirds of the schedule; growth =
//     (median lag of the last third − median lag of the first third) / (median scheduled time of
//     the last third − that of the first), in % (1 % = 10 ms of lag per second of schedule). A
//     queue whose capacity is C under an offered rate λ > C grows at λ/C − 1; a stable one does
//     not grow. Limit: 1 %, raised for short runs to one median service time (end − start) plus
//     2 ms of wake-up jitter over that interval, so that less than one query's worth of delay
//     (or a loaded machine's late wake-ups) cannot fail it.
//     Not measured with fewer than 3 queries in the first or last third.
//  2. Backlog at the end: the queries due by the last issued query's scheduled time that had not
//     started by then. Limit: max(2 × workers, 1 % of the issued queries).
// Achieved when both pass.
struct BacklogCheck {
  std::optional<double> lag_growth_pct;  // empty: too few queries to see a trend
  double lag_growth_limit_pct = 1.0;
  double lag_first_ms = 0, lag_last_ms = 0;  // the medians of the first and last thirds
  double interval_s = 0;                     // between the thirds' median scheduled times
  double service_ms = 0;                     // median end − start of the issued queries
  std::uint64_t waiting_at_end = 0;
  std::uint64_t waiting_limit = 0;
  std::uint64_t issued = 0;

  bool growing() const noexcept { return lag_growth_pct && *lag_growth_pct > lag_growth_limit_pct; }
  bool backlog_at_end() const noexcept { return waiting_at_end > waiting_limit; }
  bool achieved() const noexcept { return lag_growth_pct && !growing() && !backlog_at_end(); }
};
inline constexpr double kMaxLagGrowthPct = 1.0;
inline constexpr double kWakeJitterMs = 2.0;  // allowed in the lag trend's limit of a short run
BacklogCheck check_backlog(const std::vector<QueryRecord>& queries, std::uint32_t workers);

// The canonical result: exact latency statistics and histogram, throughput, scenario checks.
Result make_result(const workload::Workload& w, const RunSettings& s, const RunRecording& rec,
                   const Environment& env, const Labels& labels);

// Telemetry series as CSV (t_ns relative to the measured phase, as in the samples CSV, so the
// two align by time). InputError when the run sampled no telemetry.
void write_telemetry_csv(const RunRecording& rec, const std::string& path);

// Per-query CSV for pandas: query,worker,scheduled_ns,start_ns,end_ns,latency_ns,ok.
// latency_ns is end - scheduled (server) or end - start. Written atomically.
void write_samples_csv(const RunRecording& rec, Scenario scenario, const std::string& path);

}  // namespace trackiq::runner
