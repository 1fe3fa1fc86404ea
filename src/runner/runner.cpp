#include "trackiq/runner/runner.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/workload/process_usage.hpp"
#include "trackiq/runner/schedule.hpp"
#include "trackiq/telemetry/summary.hpp"

namespace trackiq::runner {

std::string_view to_string(Scenario s) noexcept {
  switch (s) {
    case Scenario::kSingleStream: return "single-stream";
    case Scenario::kMultiStream: return "multi-stream";
    case Scenario::kServer: return "server";
    case Scenario::kOffline: return "offline";
  }
  return "single-stream";
}

Scenario parse_scenario(std::string_view t) {
  if (t == "single-stream") return Scenario::kSingleStream;
  if (t == "multi-stream") return Scenario::kMultiStream;
  if (t == "server") return Scenario::kServer;
  if (t == "offline") return Scenario::kOffline;
  throw InputError(fmt::format("unknown scenario '{}' (expected single-stream, multi-stream, server or offline)", t));
}

void validate(const RunSettings& s) {
  if (!s.iterations && !s.duration_ns) throw InputError("give --iterations, --duration or both");
  if (s.iterations && *s.iterations == 0) throw InputError("--iterations must be >= 1");
  if (s.iterations && *s.iterations > kMaxQueriesPerRun)
    throw InputError(fmt::format("--iterations {} is more than the {} queries one run keeps exactly", *s.iterations,
                                 kMaxQueriesPerRun));
  if (s.duration_ns && *s.duration_ns <= 0) throw InputError("--duration must be > 0");
  if (s.max_duration_ns && *s.max_duration_ns <= 0) throw InputError("--max-duration must be > 0");
  if (s.workers < 1) throw InputError("--workers must be >= 1");
  if (s.samples_per_query < 1) throw InputError("--samples-per-query must be >= 1");
  if (s.scenario == Scenario::kServer) {
    if (!s.qps) throw InputError("the server scenario needs --qps (target queries per second)");
    if (!(*s.qps > 0) || !std::isfinite(*s.qps)) throw InputError("--qps must be a positive number");
  } else if (s.qps) {
    throw InputError(fmt::format("--qps applies to the server scenario only (scenario is {})", to_string(s.scenario)));
  }
  if (s.workers > 1 && s.scenario != Scenario::kServer && s.scenario != Scenario::kOffline)
    throw InputError(fmt::format("--workers applies to the server and offline scenarios ({} keeps one query in flight)",
                                 to_string(s.scenario)));
  if (s.samples_per_query > 1 && s.scenario != Scenario::kMultiStream)
    throw InputError("--samples-per-query applies to the multi-stream scenario only");
}

namespace {

// rss_peak_bytes is the process's VmHWM, which the kernel keeps from the process's start: the
// second run of a --repeat reported the first run's peak, or the memory of storing and rendering
// it (+37 % on builtin:mlp), and compare blocked identical configurations on it. Writing "5" to
// /proc/self/clear_refs (Linux >= 4.0, proc(5)) sets the high-water mark to the current RSS, so
// the peak sampled from here on is the measured phase's. The process collector then reads VmHWM
// from status until ru_maxrss, which keeps the old peak, is again <= it (collectors.cpp).
// Returns "" on success, else what rss_peak_bytes means instead and why.
std::string reset_peak_rss() {
  const int fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) {
    if (::write(fd, "5", 1) != 1) err = errno;
    ::close(fd);
  }
  if (err == 0) return "";
  return fmt::format("rss_peak_bytes is this process's peak since it started, not the measured phase's: resetting "
                     "it through /proc/self/clear_refs failed ({})",
                     std::strerror(err));
}

// The process collector samples this process (not --pid, not a fake root).
bool samples_own_peak_rss(const RunSettings& s) {
  if (s.collector_options.pid > 0 || !(s.collector_options.root.empty() || s.collector_options.root == "/")) return false;
  return std::any_of(s.collectors.begin(), s.collectors.end(),
                     [](const std::string& c) { return c == "all" || c == "process"; });
}

// Decides whether one more query may be issued. Immutable during a run: shared by workers.
// The minimum duration is met by the worker's last *completed* query, not by the clock at the
// check: a worker stops only once one of its queries has ended at or after the minimum, so the
// measured window (t0 to the last completion) is never shorter than --duration.
struct StopRule {
  std::optional<std::uint64_t> min_count;
  std::optional<std::int64_t> min_ns;
  std::optional<std::int64_t> max_ns;
  std::uint64_t max_count;  // the per-run record limit

  bool may_issue(std::uint64_t index, std::int64_t elapsed_ns, std::int64_t last_end_ns) const noexcept {
    if (max_ns && elapsed_ns >= *max_ns) return false;
    if (index >= max_count) return false;
    const bool count_met = !min_count || index >= *min_count;
    const bool time_met = !min_ns || last_end_ns >= *min_ns;
    if (min_count && min_ns) return !(count_met && time_met);
    if (min_count) return !count_met;
    return !time_met;
  }
};

// State owned by one worker thread during a run; merged after join.
struct WorkerLog {
  // Pre-sized (pages touched) before measuring; `used` entries are valid. Grows only when a
  // run outlasts the estimate.
  std::vector<QueryRecord> records;
  std::size_t used = 0;

  void add(const QueryRecord& r) {
    if (used < records.size()) [[likely]] {
      records[used++] = r;
    } else {
      records.push_back(r);
      used = records.size();
    }
  }
  std::map<std::string, std::uint64_t> errors_by_class;
  std::vector<std::string> error_examples;
  std::uint64_t errors = 0;

  void failed(const workload::InferOutcome& o) {
    ++errors;
    ++errors_by_class[o.error_class.empty() ? "error" : o.error_class];
    if (error_examples.size() < 5 &&
        std::find(error_examples.begin(), error_examples.end(), o.message) == error_examples.end())
      error_examples.push_back(o.message);
  }
};

void warm_up(workload::Workload& w, const RunSettings& s, std::uint32_t worker, WorkerLog& log,
             std::uint64_t& count) {
  const std::int64_t start = now_ns();
  for (std::uint64_t i = 0;; ++i) {
    const bool count_met = i >= s.warmup_iterations;
    const bool time_met = now_ns() - start >= s.warmup_ns;
    if (count_met && time_met) break;
    const auto outcome = w.infer(worker);
    if (!outcome.ok) log.failed(outcome);
    ++count;
  }
}

}  // namespace

RunRecording run_scenario(workload::Workload& w, const RunSettings& s, Progress* progress) {
  validate(s);
  const std::uint32_t workers =
      (s.scenario == Scenario::kServer || s.scenario == Scenario::kOffline) ? s.workers : 1;
  const bool server = s.scenario == Scenario::kServer;
  RunRecording rec;
  if (server) {
    // Enough arrivals for both minimums; the hard stop may cut it short.
    rec.schedule_ns = poisson_schedule(*s.qps, s.seed, s.iterations.value_or(1), s.duration_ns.value_or(0),
                                       kMaxQueriesPerRun);
    const bool complete = rec.schedule_ns.size() >= s.iterations.value_or(1) &&
                          rec.schedule_ns.back() >= s.duration_ns.value_or(0);
    if (!complete)
      throw InputError(fmt::format("--qps {} for the requested duration/iterations needs more than {} queries, "
                                   "the most one run keeps exactly",
                                   *s.qps, kMaxQueriesPerRun));
  }
  rec.started_at = utc_timestamp_now();
  std::unique_ptr<telemetry::Sampler> sampler;
  if (!s.collectors.empty()) {
    telemetry::SamplerOptions so;
    so.interval_ns = s.telemetry_interval_ns;
    sampler = std::make_unique<telemetry::Sampler>(telemetry::make_collectors(s.collectors, s.collector_options), so);
    rec.telemetry_unavailable = sampler->unavailable();
  }
  w.prepare(workers);
  std::vector<WorkerLog> logs(workers);

  // Warmup: every worker warms its own state in parallel; failures there are not counted.
  std::int64_t warm_ns = 0;
  {
    std::vector<std::uint64_t> counts(workers, 0);
    std::vector<WorkerLog> warm_logs(workers);
    std::vector<std::thread> threads;
    const std::int64_t warm_start = now_ns();
    for (std::uint32_t i = 0; i < workers; ++i)
      threads.emplace_back([&, i] { warm_up(w, s, i, warm_logs[i], counts[i]); });
    for (auto& t : threads) t.join();
    warm_ns = now_ns() - warm_start;
    for (auto c : counts) rec.warmup_queries += c;
  }

  const StopRule rule{s.iterations, s.duration_ns, s.max_duration_ns, kMaxQueriesPerRun};
  const auto* usage = dynamic_cast<const workload::ProcessUsageSource*>(&w);  // cmd: workloads
  auto with_usage = [usage](QueryRecord q) {
    if (usage) {
      const workload::ProcessUsage u = usage->last_usage(q.worker);
      q.process_max_rss_bytes = u.max_rss_bytes;
      q.process_user_cpu_ns = u.user_cpu_ns;
      q.process_sys_cpu_ns = u.sys_cpu_ns;
      q.process_tree_rss_peak_bytes = u.tree_rss_peak_bytes;
      q.process_tree_rss_mean_bytes = u.tree_rss_mean_bytes;
    }
    return q;
  };
  std::atomic<std::uint64_t> next{0};
  // Size each worker's record buffer for the expected query count (from the iterations, the
  // schedule, or the warmup's rate over the duration) so the record path does not allocate.
  std::uint64_t expected = s.iterations.value_or(0);
  if (server) {
    expected = rec.schedule_ns.size();
  } else if (s.duration_ns) {
    const double rate = rec.warmup_queries > 0 && warm_ns > 0
                            ? static_cast<double>(rec.warmup_queries) / static_cast<double>(warm_ns)
                            : 4096.0 / static_cast<double>(*s.duration_ns);
    expected = std::max<std::uint64_t>(
        expected, static_cast<std::uint64_t>(1.25 * rate * static_cast<double>(*s.duration_ns)) + 1024);
  }
  expected = std::min<std::uint64_t>(expected, kMaxQueriesPerRun);
  const std::size_t per_worker =
      workers == 1 ? expected + 16 : std::min<std::size_t>(expected, expected / workers * 3 / 2 + 1024);
  for (auto& l : logs) l.records.resize(per_worker);  // value-initialised: pages touched now, not while measuring

  if (sampler) {
    if (samples_own_peak_rss(s)) rec.rss_peak_note = reset_peak_rss();
    sampler->start();
  }
  // Give threads time to start so the first scheduled query is not late because of us.
  const std::int64_t t0 = now_ns() + (server ? 2'000'000 : 0);
  rec.t0_ns = t0;
  if (progress) progress->measuring.store(true);

  auto closed_loop = [&](std::uint32_t worker) {
    WorkerLog& log = logs[worker];
    std::int64_t last_end = 0;
    for (;;) {
      const std::uint64_t i = next.fetch_add(1, std::memory_order_relaxed);
      const std::int64_t start = now_ns();
      if (!rule.may_issue(i, start - t0, last_end)) break;
      const auto outcome = w.infer(worker);
      const std::int64_t end = now_ns();
      last_end = end - t0;
      log.add(with_usage({i, start - t0, start - t0, end - t0, worker, outcome.ok}));
      if (!outcome.ok) [[unlikely]] log.failed(outcome);
      if (progress) progress->issued.store(i + 1, std::memory_order_relaxed);
    }
  };
  auto scheduled = [&](std::uint32_t worker) {
    WorkerLog& log = logs[worker];
    const auto& sched = rec.schedule_ns;
    for (;;) {
      const std::uint64_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= sched.size()) break;
      const std::int64_t due = sched[i];
      if (s.max_duration_ns && due >= *s.max_duration_ns) break;
      // A free worker waits for the query's time; a busy one starts late, and the queueing
      // delay counts in the latency (measured from `due`): no coordinated omission.
      const auto due_tp = TimePoint(Nanoseconds(t0 + due));
      if (Clock::now() < due_tp) std::this_thread::sleep_until(due_tp);
      const std::int64_t start = now_ns();
      if (s.max_duration_ns && start - t0 >= *s.max_duration_ns) break;
      const auto outcome = w.infer(worker);
      const std::int64_t end = now_ns();
      log.add(with_usage({i, due, start - t0, end - t0, worker, outcome.ok}));
      if (!outcome.ok) [[unlikely]] log.failed(outcome);
      if (progress) progress->issued.store(i + 1, std::memory_order_relaxed);
    }
  };

  auto body = [&](std::uint32_t worker) { server ? scheduled(worker) : closed_loop(worker); };
  std::vector<std::thread> threads;
  for (std::uint32_t i = 1; i < workers; ++i) threads.emplace_back(body, i);
  body(0);  // the calling thread is worker 0
  for (auto& t : threads) t.join();
  if (sampler) {
    sampler->stop();
    rec.telemetry = sampler->series();
    rec.sampler_cpu_s = sampler->thread_cpu_s();
  }
  if (progress) progress->measuring.store(false);
  rec.finished_at = utc_timestamp_now();

  for (auto& l : logs) l.records.resize(l.used);
  if (logs.size() == 1) rec.queries = std::move(logs[0].records);  // already in index order
  for (auto& l : logs) {
    if (logs.size() > 1) rec.queries.insert(rec.queries.end(), l.records.begin(), l.records.end());
    rec.errors.total += l.errors;
    for (const auto& [k, v] : l.errors_by_class) rec.errors.by_class[k] += v;
    for (const auto& e : l.error_examples)
      if (rec.errors.examples.size() < 10 &&
          std::find(rec.errors.examples.begin(), rec.errors.examples.end(), e) == rec.errors.examples.end())
        rec.errors.examples.push_back(e);
  }
  if (logs.size() > 1)
    std::sort(rec.queries.begin(), rec.queries.end(),
              [](const QueryRecord& a, const QueryRecord& b) { return a.index < b.index; });

  // Did the hard stop end the run before its minimums?
  if (s.max_duration_ns) {
    const std::uint64_t n = rec.queries.size();
    std::int64_t last = 0;  // the latest completion; by index order the last query need not end last
    for (const auto& q : rec.queries) last = std::max(last, q.end_ns);
    const bool count_short = s.iterations && n < *s.iterations;
    const bool time_short = s.duration_ns && last < *s.duration_ns;
    const bool schedule_short = server && n < rec.schedule_ns.size();
    rec.hit_max_duration = count_short || time_short || schedule_short;
  }
  rec.hit_query_limit = !server && rec.queries.size() + rec.errors.total >= kMaxQueriesPerRun;
  return rec;
}

namespace {

// The median of `v` (the mean of the two middle values for an even count); `v` is reordered.
double median(std::vector<std::int64_t>& v) {
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double hi = static_cast<double>(v[mid]);
  if (v.size() % 2 == 1) return hi;
  const double lo = static_cast<double>(*std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid)));
  return (lo + hi) / 2;
}

}  // namespace

BacklogCheck check_backlog(const std::vector<QueryRecord>& queries, std::uint32_t workers) {
  BacklogCheck b;
  b.issued = queries.size();
  b.waiting_limit = std::max<std::uint64_t>(2ull * std::max<std::uint32_t>(workers, 1), b.issued / 100);
  if (queries.empty()) return b;
  std::int64_t first = INT64_MAX, last = INT64_MIN;
  std::vector<std::int64_t> service;
  service.reserve(queries.size());
  for (const auto& q : queries) {
    first = std::min(first, q.scheduled_ns);
    last = std::max(last, q.scheduled_ns);
    service.push_back(q.end_ns - q.start_ns);
  }
  b.service_ms = median(service) / 1e6;
  // Backlog at the end: due more than 1 ms before the last query was due (wake-up jitter is not a
  // queue) and not started when it was due.
  constexpr std::int64_t kLateNs = 1'000'000;
  for (const auto& q : queries)
    if (q.scheduled_ns < last - kLateNs && q.start_ns > last) ++b.waiting_at_end;
  const std::int64_t span = last - first;
  if (span <= 0) return b;
  std::vector<std::int64_t> lag_first, lag_last, sched_first, sched_last;
  for (const auto& q : queries) {
    const std::int64_t at = q.scheduled_ns - first;
    if (3 * at < span) {
      lag_first.push_back(q.start_ns - q.scheduled_ns);
      sched_first.push_back(q.scheduled_ns);
    } else if (3 * at >= 2 * span) {
      lag_last.push_back(q.start_ns - q.scheduled_ns);
      sched_last.push_back(q.scheduled_ns);
    }
  }
  if (lag_first.size() < 3 || lag_last.size() < 3) return b;
  b.lag_first_ms = median(lag_first) / 1e6;
  b.lag_last_ms = median(lag_last) / 1e6;
  b.interval_s = (median(sched_last) - median(sched_first)) / 1e9;
  if (!(b.interval_s > 0)) return b;
  b.lag_growth_pct = (b.lag_last_ms - b.lag_first_ms) / 1e3 / b.interval_s * 100;
  b.lag_growth_limit_pct = std::max(kMaxLagGrowthPct, (b.service_ms + kWakeJitterMs) / 1e3 / b.interval_s * 100);
  return b;
}

namespace {

void add_metric(Result& r, const char* name, double v, ValueKind k = ValueKind::kMeasured) {
  r.metrics.push_back({name, v, k});
}

// cmd: workloads: each measured query's process as wait4 reported it (peak RSS, CPU time), over
// the queries that completed, and its process tree as sampled while it ran (the summed RSS of
// the process and its descendants, which ru_maxrss does not cover: it keeps the largest single
// process). The telemetry's process channels and rss_peak_bytes stay TrackIQ's own process, and a
// warning says so.
void add_process_usage(Result& r, const RunRecording& rec) {
  std::vector<std::int64_t> rss, tree_peak;
  double user_ns = 0, sys_ns = 0, tree_mean_sum = 0;
  std::size_t reaped = 0;
  for (const auto& q : rec.queries) {
    if (!q.ok || q.process_user_cpu_ns < 0) continue;
    ++reaped;
    if (q.process_max_rss_bytes >= 0) rss.push_back(q.process_max_rss_bytes);
    user_ns += static_cast<double>(q.process_user_cpu_ns);
    sys_ns += static_cast<double>(q.process_sys_cpu_ns);
    if (q.process_tree_rss_peak_bytes >= 0) {
      tree_peak.push_back(q.process_tree_rss_peak_bytes);
      tree_mean_sum += static_cast<double>(q.process_tree_rss_mean_bytes);
    }
  }
  if (reaped == 0) return;
  const double n = static_cast<double>(reaped);
  if (!rss.empty()) {
    const SampleSummary s = summarize(rss, std::vector<double>{50.0, 99.0});
    add_metric(r, "workload_rss_peak_bytes", static_cast<double>(s.max));
    add_metric(r, "workload_rss_mean_bytes", s.mean, ValueKind::kDerived);
    add_metric(r, "workload_rss_p50_bytes", s.percentiles[0].value, ValueKind::kDerived);
    add_metric(r, "workload_rss_p99_bytes", s.percentiles[1].value, ValueKind::kDerived);
  }
  if (rss.size() < reaped)
    r.warnings.push_back(fmt::format(
        "cmd: workload: workload_rss_* {}: {} of {} queries' processes peaked at or below TrackIQ's own peak RSS, "
        "which Linux counts into a spawned process's ru_maxrss (exec keeps the larger of the two high-water marks), "
        "so their own peak is not known{}",
        rss.empty() ? "not measured" : fmt::format("cover {} of {} queries", rss.size(), reaped), reaped - rss.size(),
        reaped, tree_peak.empty() ? "" : "; workload_tree_rss_* are sampled while they run"));
  add_metric(r, "workload_cpu_user_ms", user_ns / n / 1e6, ValueKind::kDerived);
  add_metric(r, "workload_cpu_sys_ms", sys_ns / n / 1e6, ValueKind::kDerived);
  if (!tree_peak.empty()) {
    const SampleSummary t = summarize(tree_peak, std::vector<double>{50.0, 99.0});
    add_metric(r, "workload_tree_rss_peak_bytes", static_cast<double>(t.max));
    add_metric(r, "workload_tree_rss_mean_bytes", tree_mean_sum / static_cast<double>(tree_peak.size()), ValueKind::kDerived);
    add_metric(r, "workload_tree_rss_p50_bytes", t.percentiles[0].value, ValueKind::kDerived);
    add_metric(r, "workload_tree_rss_p99_bytes", t.percentiles[1].value, ValueKind::kDerived);
  }
  r.warnings.push_back(fmt::format(
      "cmd: workload: each query's process is reported as workload_rss_* ({} queries) and workload_cpu_* ({} "
      "queries), from wait4, and its process tree as workload_tree_rss_* ({} queries, sampled every {} ms while it "
      "ran, from {} ms on); rss_peak_bytes and the telemetry's process channels are TrackIQ's own process",
      rss.size(), reaped, tree_peak.size(), workload::kTreeSampleIntervalNs / 1'000'000,
      workload::kTreeSampleIntervalNs / 1'000'000));
}

void add_telemetry(Result& r, const RunRecording& rec, std::uint64_t inferences, bool keep_series) {
  if (!rec.telemetry) {
    r.telemetry.available = false;
    r.telemetry.reason = "not sampled: telemetry was turned off for this run";
    return;
  }
  const auto& series = *rec.telemetry;
  r.telemetry.available = series.width() > 0 && series.rows_taken > 0;
  std::string reason;
  for (const auto& u : rec.telemetry_unavailable) reason += (reason.empty() ? "" : "; ") + u;
  if (!r.telemetry.available && reason.empty()) reason = "no telemetry sample was taken (the run was too short)";
  r.telemetry.reason = reason;
  const auto summary = telemetry::summarize_series(series, inferences);
  for (const auto& m : summary.metrics) {
    r.metrics.push_back({m.name, m.value, m.derived ? ValueKind::kDerived : ValueKind::kMeasured});
    if (m.name == "rss_peak_bytes" && !rec.rss_peak_note.empty()) r.warnings.push_back(rec.rss_peak_note);
  }
  r.telemetry.summary = summary.channel_stats;
  r.telemetry.summary["samples"] = static_cast<double>(series.rows_taken);
  r.telemetry.summary["late_ticks"] = static_cast<double>(series.late_ticks);
  r.telemetry.summary["interval_ms"] = series.rows() > 1 ? static_cast<double>(series.t_ns.back() - series.t_ns.front()) /
                                                                static_cast<double>(series.rows() - 1) / 1e6
                                                          : 0.0;
  r.telemetry.summary["sampler_cpu_s"] = rec.sampler_cpu_s;
  if (keep_series && series.width() > 0 && series.rows() > 0) {
    TelemetrySeries ts;
    for (const auto& c : series.channels) {
      ts.names.push_back(c.name);
      ts.units.push_back(c.unit);
    }
    ts.t_ns.reserve(series.rows());
    for (const auto t : series.t_ns) ts.t_ns.push_back(t - rec.t0_ns);
    ts.values = series.values;
    r.telemetry.series = std::move(ts);
  }
}

}  // namespace

Result make_result(const workload::Workload& w, const RunSettings& s, const RunRecording& rec, const Environment& env,
                   const Labels& labels) {
  Result r;
  r.tool_version = env.trackiq_version;
  r.run_id = new_run_id();
  r.started_at = rec.started_at;
  r.finished_at = rec.finished_at;
  r.environment = env;
  r.labels = labels;
  r.workload = w.descriptor();
  r.scenario.name = std::string(to_string(s.scenario));
  r.scenario.warmup_iterations = s.warmup_iterations;
  r.scenario.warmup_ns = s.warmup_ns;
  r.scenario.iterations = s.iterations;
  r.scenario.duration_ns = s.duration_ns;
  r.scenario.max_duration_ns = s.max_duration_ns;
  r.scenario.seed = s.seed;
  r.scenario.qps = s.qps;
  r.scenario.samples_per_query = s.samples_per_query;
  r.scenario.workers = (s.scenario == Scenario::kServer || s.scenario == Scenario::kOffline) ? s.workers : 1;
  r.errors = rec.errors;

  const bool server = s.scenario == Scenario::kServer;
  std::vector<std::int64_t> latencies;
  latencies.reserve(rec.queries.size());
  std::int64_t first_start = INT64_MAX, last_end = INT64_MIN;
  LatencyData lat;
  lat.measured_from = server ? "scheduled" : "issue";
  for (const auto& q : rec.queries) {
    if (!q.ok) continue;
    const std::int64_t l = q.end_ns - (server ? q.scheduled_ns : q.start_ns);
    latencies.push_back(l);
    first_start = std::min(first_start, q.start_ns);
    last_end = std::max(last_end, q.end_ns);
  }
  lat.histogram.record(latencies);
  const std::uint64_t ok = latencies.size();
  const std::uint64_t issued = rec.queries.size();
  const double samples_per_query = static_cast<double>(w.descriptor().batch_size);

  if (ok > 0) {
    lat.summary_ns = summarize(latencies);
    append_latency_metrics(r.metrics, lat.summary_ns);
    if (s.include_samples_in_result) {
      lat.samples_ns = latencies;
      lat.sample_end_ns.reserve(latencies.size());
      for (const auto& q : rec.queries)
        if (q.ok) lat.sample_end_ns.push_back(q.end_ns);  // same order as `latencies`
    }
    r.latency = std::move(lat);
  } else {
    r.warnings.push_back("no query completed successfully: no latency statistics");
  }

  double measured_ns = 0;
  double qps = 0;
  std::int64_t first_end = INT64_MAX;
  for (const auto& q : rec.queries)
    if (q.ok) first_end = std::min(first_end, q.end_ns);
  if (ok > 0 && server) {
    measured_ns = static_cast<double>(last_end - first_start);
    qps = ok > 1 && measured_ns > 0 ? static_cast<double>(ok - 1) / (measured_ns / 1e9) : 0;
    r.throughput_method = "(completed queries - 1) / (last completion - first issue)";
  } else if (ok > 0) {
    measured_ns = static_cast<double>(last_end - first_start);
    qps = measured_ns > 0 ? static_cast<double>(ok) / (measured_ns / 1e9) : 0;
    r.throughput_method = "completed queries / (last completion - first issue)";
  }
  add_metric(r, "queries_total", static_cast<double>(ok));
  add_metric(r, "samples_total", static_cast<double>(ok) * samples_per_query, ValueKind::kDerived);
  add_metric(r, "errors_total", static_cast<double>(rec.errors.total));
  add_metric(r, "error_rate", issued ? static_cast<double>(rec.errors.total) / static_cast<double>(issued) : 0.0,
             ValueKind::kDerived);
  // Without completed queries there is no throughput to report (a 0 would read as a
  // regression); an arrival-rate run needs two completions to define a rate.
  if (ok > (server ? 1u : 0u)) {
    add_metric(r, "wall_time_s", measured_ns / 1e9);
    add_metric(r, "throughput_queries_per_s", qps, ValueKind::kDerived);
    add_metric(r, "throughput_samples_per_s", qps * samples_per_query, ValueKind::kDerived);
    if (const auto& f = w.descriptor().flops_per_query; f && measured_ns > 0)
      add_metric(r, "achieved_gflops", *f * qps / 1e9, ValueKind::kDerived);
  }

  if (server) {
    const auto& sch = rec.schedule_ns;
    // The offered rate of the part of the schedule that was issued.
    const std::size_t n_issued = std::max<std::size_t>(issued, 1);
    const double span = n_issued > 1 ? static_cast<double>(sch[n_issued - 1] - sch[0]) : 0;
    const double scheduled_qps = span > 0 ? static_cast<double>(n_issued - 1) / (span / 1e9) : *s.qps;
    add_metric(r, "qps_scheduled", scheduled_qps, ValueKind::kDerived);
    // The completion rate between the first and last completion: equal to the offered rate
    // when the system keeps up (completions trail arrivals by the service time), the capacity
    // when it does not.
    const double completion_span = ok > 1 ? static_cast<double>(last_end - first_end) : 0;
    const double achieved = completion_span > 0 ? static_cast<double>(ok - 1) / (completion_span / 1e9) : 0;
    if (completion_span > 0) add_metric(r, "qps_achieved", achieved, ValueKind::kDerived);
    // Target QPS achieved: judged from the backlog (check_backlog), not from the completion rate.
    const BacklogCheck b = check_backlog(rec.queries, s.workers);
    if (b.lag_growth_pct) add_metric(r, "schedule_lag_growth_pct", *b.lag_growth_pct, ValueKind::kDerived);
    if (!rec.queries.empty()) add_metric(r, "queries_waiting_at_end", static_cast<double>(b.waiting_at_end));
    SloVerdict trend;
    trend.metric = "schedule_lag_growth_pct";
    trend.op = "<=";
    trend.limit = b.lag_growth_limit_pct;
    trend.measured = b.lag_growth_pct;
    trend.state = !b.lag_growth_pct ? SloState::kNotMeasured : b.growing() ? SloState::kFail : SloState::kPass;
    trend.detail = b.lag_growth_pct
                       ? fmt::format("late-start lag (start - scheduled), median {:.3f} ms in the first third of the schedule, "
                                     "{:.3f} ms in the last, {:.2f} s apart: it grew {:.2f} % of the elapsed time (limit {:.2f} %: the larger "
                                     "of 1 % and one median service time, {:.3f} ms, plus 2 ms of wake-up jitter over "
                                     "that interval)",
                                     b.lag_first_ms, b.lag_last_ms, b.interval_s, *b.lag_growth_pct, b.lag_growth_limit_pct,
                                     b.service_ms)
                       : std::string("fewer than 3 queries in the first or last third of the schedule: no trend to judge");
    r.slo.push_back(trend);
    SloVerdict end;
    end.metric = "queries_waiting_at_end";
    end.op = "<=";
    end.limit = static_cast<double>(b.waiting_limit);
    if (!rec.queries.empty()) end.measured = static_cast<double>(b.waiting_at_end);
    end.state = !end.measured ? SloState::kNotMeasured : b.backlog_at_end() ? SloState::kFail : SloState::kPass;
    end.detail = fmt::format("queries more than 1 ms late and not yet started when the last query was due (limit: "
                             "max(2 x {} workers, 1 % of {} issued))",
                             s.workers, b.issued);
    r.slo.push_back(end);
    if (!b.lag_growth_pct) {
      r.warnings.push_back("target QPS not judged: too few queries to see whether the backlog grew");
    } else if (!b.achieved()) {
      std::string why;
      if (b.growing())
        why = fmt::format("the late-start lag grew {:.2f} % of the elapsed time (median {:.1f} ms in the first third, "
                          "{:.1f} ms in the last; limit {:.2f} %)",
                          *b.lag_growth_pct, b.lag_first_ms, b.lag_last_ms, b.lag_growth_limit_pct);
      if (b.backlog_at_end())
        why += fmt::format("{}{} queries were still waiting when the last was due (limit {})", why.empty() ? "" : " and ",
                           b.waiting_at_end, b.waiting_limit);
      r.warnings.push_back(fmt::format("target QPS not achieved: {}, so the queue grows ({:.1f} queries/s offered, {} "
                                       "completed); latency includes queueing",
                                       why, scheduled_qps,
                                       completion_span > 0 ? fmt::format("{:.1f}/s", achieved) : std::string("none")));
    }
  }
  add_telemetry(r, rec, ok * static_cast<std::uint64_t>(samples_per_query), s.include_samples_in_result);
  add_process_usage(r, rec);
  if (r.workload.synthetic)
    r.warnings.push_back("synthetic workload: these numbers measure a stand-in, not a model");
  if (env.debug_build)
    r.warnings.push_back("trackiq itself is an unoptimised (debug) build: its overhead may distort the numbers");
  if (!env.sanitizers.empty())
    r.warnings.push_back("trackiq is built with sanitizers (" + env.sanitizers + "): timings are distorted");
  if (rec.hit_max_duration)
    r.warnings.push_back("--max-duration stopped the run before its minimum count/duration was reached");
  if (rec.hit_query_limit)
    r.warnings.push_back(fmt::format("the run stopped at {} queries, the most one run keeps exactly", kMaxQueriesPerRun));
  if (rec.errors.total > 0)
    r.warnings.push_back(fmt::format("{} of {} queries failed (see errors)", rec.errors.total, issued));
  return r;
}

void write_telemetry_csv(const RunRecording& rec, const std::string& path) {
  if (!rec.telemetry) throw InputError("--telemetry-csv: this run sampled no telemetry");
  telemetry::write_series_csv(*rec.telemetry, rec.t0_ns, path);
}

void write_samples_csv(const RunRecording& rec, Scenario scenario, const std::string& path) {
  // cmd: workloads add each query's process (wait4): peak RSS and CPU time; empty when unknown
  // (a peak RSS at or below TrackIQ's own, a tree no sample found).
  const bool processes = std::any_of(rec.queries.begin(), rec.queries.end(),
                                     [](const QueryRecord& q) { return q.process_user_cpu_ns >= 0; });
  std::string out = processes ? "query,worker,scheduled_ns,start_ns,end_ns,latency_ns,ok,"
                                "process_max_rss_bytes,process_user_cpu_ns,process_sys_cpu_ns,"
                                "process_tree_rss_peak_bytes,process_tree_rss_mean_bytes\n"
                              : "query,worker,scheduled_ns,start_ns,end_ns,latency_ns,ok\n";
  out.reserve(out.size() + rec.queries.size() * (processes ? 128 : 64));
  const bool server = scenario == Scenario::kServer;
  auto known = [](std::int64_t v) { return v >= 0 ? std::to_string(v) : std::string(); };
  for (const auto& q : rec.queries) {
    const std::int64_t lat = q.end_ns - (server ? q.scheduled_ns : q.start_ns);
    fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{}", q.index, q.worker, q.scheduled_ns, q.start_ns,
                   q.end_ns, lat, q.ok ? 1 : 0);
    if (processes)
      fmt::format_to(std::back_inserter(out), ",{},{},{},{},{}", known(q.process_max_rss_bytes), known(q.process_user_cpu_ns),
                     known(q.process_sys_cpu_ns), known(q.process_tree_rss_peak_bytes),
                     known(q.process_tree_rss_mean_bytes));
    out += '\n';
  }
  write_file_atomic(path, out);
}

}  // namespace trackiq::runner
