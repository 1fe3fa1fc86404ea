#include "trackiq/load/load_result.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/environment.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/metric_registry.hpp"
#include "trackiq/core/stats.hpp"

namespace trackiq::load {
namespace {

constexpr std::int64_t kLateNs = 1'000'000;
constexpr int kWindows = 10;

void add(std::vector<MetricValue>& m, const char* name, double v, ValueKind k = ValueKind::kMeasured) {
  if (std::isfinite(v)) m.push_back({name, v, k});
}

double log_binomial_pmf(std::uint64_t n, std::uint64_t i, double q) {
  const double nd = static_cast<double>(n), id = static_cast<double>(i);
  return std::lgamma(nd + 1) - std::lgamma(id + 1) - std::lgamma(nd - id + 1) + id * std::log(q) + (nd - id) * std::log1p(-q);
}

// The early-stopping verdict of one SLO over per-request values (ns): the observed percentile,
// and PASS when the limit is confirmed (early_stopping_pass), FAIL when the percentile is beyond
// it, NOT_CONFIRMED when it is within the limit but the run had too few requests to confirm it.
// Failed requests (`failures`) count as over the limit: a run whose slow requests time out must
// not pass on the fast ones alone.
SloVerdict percentile_slo(const std::string& metric, const std::vector<std::int64_t>& values, std::int64_t limit_ns, double p,
                          std::uint64_t failures, std::vector<std::string>& warnings) {
  SloVerdict v;
  v.metric = metric;
  v.op = "<=";
  v.limit = static_cast<double>(limit_ns) / 1e6;
  if (values.empty() && failures == 0) return v;  // not measured
  if (!values.empty()) v.measured = exact_percentiles(values, std::vector<double>{p})[0].value / 1e6;
  const auto k = static_cast<std::uint64_t>(std::count_if(values.begin(), values.end(), [&](std::int64_t x) { return x > limit_ns; }));
  const std::uint64_t n = values.size() + failures, over = k + failures;
  if (!v.measured) {
    v.state = SloState::kNotMeasured;
    return v;
  }
  if (early_stopping_pass(n, over, p)) {
    v.state = SloState::kPass;
    return v;
  }
  // The percentile with every failed request as over the limit (an infinite latency).
  bool within = *v.measured <= v.limit;
  if (within && failures > 0) {
    std::vector<std::int64_t> all = values;
    all.insert(all.end(), failures, std::numeric_limits<std::int64_t>::max());
    within = exact_percentiles(all, std::vector<double>{p})[0].value / 1e6 <= v.limit;
    if (!within)
      v.detail = fmt::format("p{:g} of the {} successful requests is {:.3f}, within the limit, but the {} failed requests "
                             "count as over it and put p{:g} beyond the limit",
                             p, values.size(), *v.measured, failures, p);
  }
  if (!within) {
    v.state = SloState::kFail;
    return v;
  }
  // Within the limit but not confirmed: a run too short to tell (MLPerf: invalid, not failed).
  v.state = SloState::kNotConfirmed;
  v.requests_needed = requests_to_confirm(over, p);
  v.detail = fmt::format("the measured p{:g} {:.3f} is within the limit, but with {} of {} requests over it the run cannot "
                         "confirm p{:g} at 99 % confidence (MLPerf early stopping){}",
                         p, *v.measured, over, n, p,
                         v.requests_needed ? fmt::format("; confirming it needs at least {} requests with no more over the limit",
                                                         *v.requests_needed)
                                           : std::string());
  warnings.push_back(fmt::format("SLO {} <= {:g} NOT CONFIRMED: {}", metric, v.limit, v.detail));
  return v;
}

}  // namespace

bool early_stopping_pass(std::uint64_t n, std::uint64_t k, double percentile, double confidence) {
  if (n == 0 || k >= n) return false;
  const double q = 1.0 - percentile / 100.0;  // the tail fraction allowed beyond the limit
  if (q <= 0) return false;  // p100 cannot be confirmed from a sample
  // P(X <= k), summed in log space from the mode side for stability; terms beyond k do not count.
  double cdf = 0;
  for (std::uint64_t i = 0; i <= k; ++i) {
    cdf += std::exp(log_binomial_pmf(n, i, q));
    if (cdf > 1.0 - confidence) return false;  // the terms are positive: no need to sum the rest
  }
  return true;
}

std::optional<std::uint64_t> requests_to_confirm(std::uint64_t k, double percentile, double confidence) {
  // More requests with the same k over the limit only make the tail fraction smaller, so the
  // verdict is monotone in n: double until it passes, then bisect.
  std::uint64_t hi = std::max<std::uint64_t>(1, k + 1);
  while (!early_stopping_pass(hi, k, percentile, confidence)) {
    if (hi >= (std::uint64_t{1} << 40)) return std::nullopt;
    hi *= 2;
  }
  std::uint64_t lo = hi / 2;  // fails (or is below k + 1)
  while (hi - lo > 1) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    (early_stopping_pass(mid, k, percentile, confidence) ? hi : lo) = mid;
  }
  return hi;
}

LoadPoint summarize_point(const EngineOutcome& out, const LoadPointOptions& o) {
  LoadPoint p;
  Result& r = p.result;
  r.run_id = new_run_id();
  r.environment = capture_environment();
  r.tool_version = r.environment.trackiq_version;
  r.workload.backend = "http";
  r.workload.model = o.model.empty() ? o.url : o.model;
  r.workload.device = "remote";
  r.workload.precision = "unknown";  // the server's business: an HTTP client cannot see it
  r.workload.threads = o.threads;
  r.workload.options["url"] = o.url;
  r.workload.options["api"] = o.api;
  r.workload.options["connections"] = std::to_string(o.connections);
  if (!o.arrival.empty()) r.workload.options["arrival"] = o.arrival;
  if (!o.client_sched.empty()) r.workload.options["client_sched"] = o.client_sched;
  r.scenario.name = "load";
  r.scenario.warmup_ns = o.warmup_ns;
  r.scenario.duration_ns = o.duration_ns;
  r.scenario.seed = o.seed;
  r.scenario.qps = o.rate;
  r.scenario.workers = o.rate ? o.connections : o.concurrency;
  const bool open_loop = o.rate.has_value() || o.arrival == "trace";

  // The measured requests: everything due after the warm-up.
  std::vector<std::int64_t> lat_send, lat_sched, lag, end_times;
  std::uint64_t due = 0, sent = 0, completed = 0, late = 0, dispatched = 0, loop_late = 0, retried = 0, given_up = 0;
  std::int64_t first_send = 0, last_done = 0, first_sched = 0, last_sched = 0;
  double rtf_sum = 0;
  std::uint64_t rtf_n = 0;
  for (const RequestRecord& q : out.records) {
    if (q.warmup) continue;
    ++due;
    if (first_sched == 0 || q.t_sched_ns < first_sched) first_sched = q.t_sched_ns;
    last_sched = std::max(last_sched, q.t_sched_ns);
    if (q.t_dispatch_ns != 0) {
      ++dispatched;
      if (q.t_dispatch_ns - q.t_sched_ns > kLateNs) ++loop_late;
    }
    if (q.error == ErrorClass::client_queue) {  // waited in the client until it was given up
      ++given_up;
      lag.push_back(q.t_done_ns - q.t_sched_ns);
      if (q.t_done_ns - q.t_sched_ns > kLateNs) ++late;
    }
    if (q.t_send_ns == 0) continue;
    ++sent;
    if (q.retried) ++retried;
    if (first_send == 0 || q.t_send_ns < first_send) first_send = q.t_send_ns;
    lag.push_back(q.t_send_ns - q.t_sched_ns);
    if (q.t_send_ns - q.t_sched_ns > kLateNs) ++late;
    if (q.error != ErrorClass::none) continue;
    ++completed;
    last_done = std::max(last_done, q.t_done_ns);
    lat_send.push_back(q.t_done_ns - q.t_send_ns);
    lat_sched.push_back(q.t_done_ns - q.t_sched_ns);
    end_times.push_back(q.t_done_ns);
    if (q.audio_s > 0) {
      rtf_sum += static_cast<double>(q.t_done_ns - q.t_send_ns) / 1e9 / q.audio_s;
      ++rtf_n;
    }
  }
  const std::int64_t d_ns = last_done > first_send ? last_done - first_send : 0;
  p.achieved_rate = d_ns > 0 ? static_cast<double>(completed) / (static_cast<double>(d_ns) / 1e9) : 0;
  if (open_loop && due > 1 && last_sched > first_sched)
    p.target_rate = static_cast<double>(due - 1) / (static_cast<double>(last_sched - first_sched) / 1e9);
  else if (o.rate)
    p.target_rate = *o.rate;
  p.requested_rate = o.rate;
  p.late_fraction = sent + given_up ? static_cast<double>(late) / static_cast<double>(sent + given_up) : 0;
  for (const double b : out.thread_busy) p.client_busy_max = std::max(p.client_busy_max, b);
  // The client is the bottleneck when its threads are busy, or when its event loop itself takes
  // up due requests late; a request waiting for a free connection is the server's queueing.
  const double loop_late_fraction = dispatched ? static_cast<double>(loop_late) / static_cast<double>(dispatched) : 0;
  p.client_bottleneck = p.client_busy_max > 0.5 || (open_loop && loop_late_fraction > 0.01);
  p.partial = out.stopped_early;
  p.from_schedule = open_loop;

  const std::vector<std::int64_t>& primary = open_loop ? lat_sched : lat_send;
  auto& m = r.metrics;
  if (!primary.empty()) {
    LatencyData l;
    l.measured_from = open_loop ? "scheduled" : "issue";
    l.summary_ns = summarize(primary);
    l.histogram.record(primary);
    l.samples_ns = primary;
    l.sample_end_ns.reserve(end_times.size());
    for (const std::int64_t t : end_times) l.sample_end_ns.push_back(t - out.start_ns - o.warmup_ns);
    append_latency_metrics(m, l.summary_ns);
    r.latency = std::move(l);
  }
  add(m, "queries_total", static_cast<double>(completed));
  add(m, "errors_total", static_cast<double>(due - completed));
  if (due) add(m, "error_rate", static_cast<double>(due - completed) / static_cast<double>(due), ValueKind::kDerived);
  add(m, "retried_requests", static_cast<double>(retried));
  if (d_ns > 0) {
    add(m, "wall_time_s", static_cast<double>(d_ns) / 1e9);
    add(m, "request_throughput", p.achieved_rate, ValueKind::kDerived);
    add(m, "throughput_queries_per_s", p.achieved_rate, ValueKind::kDerived);
    // One request is one sample (batch size 1): the reports' throughput column and trade-off
    // charts read this name for every kind of run.
    add(m, "throughput_samples_per_s", p.achieved_rate, ValueKind::kDerived);
  }
  if (open_loop) {
    add(m, "request_rate_target", p.target_rate, ValueKind::kDerived);
    if (!lag.empty()) {
      const double p99 = exact_percentiles(lag, std::vector<double>{99.0})[0].value;
      add(m, "schedule_lag_p99_ms", p99 / 1e6);
    }
    add(m, "late_send_fraction", p.late_fraction, ValueKind::kDerived);
  }
  const double wall_s = out.end_ns > out.start_ns ? static_cast<double>(out.end_ns - out.start_ns) / 1e9 : 0;
  if (wall_s > 0) add(m, "client_cpu_pct", 100.0 * out.client_cpu_s / wall_s, ValueKind::kDerived);
  if (sent) add(m, "client_cpu_per_request_ms", out.client_cpu_s * 1e3 / static_cast<double>(sent), ValueKind::kDerived);
  if (rtf_n) add(m, "rtf_mean", rtf_sum / static_cast<double>(rtf_n), ValueKind::kDerived);

  if (!out.llm.empty()) {
    // Sent or failed: a request given up in the client's queue is a failure (and its wait a
    // client-queue sample); one left unsent because the run stopped is neither.
    std::vector<LlmRequestRecord> measured;
    for (std::size_t i = 0; i < out.records.size(); ++i)
      if (!out.records[i].warmup && (out.records[i].t_send_ns != 0 || out.records[i].error != ErrorClass::none))
        measured.push_back(out.llm[i]);
    LlmMetricsOptions lo;
    lo.slo = o.slo;
    p.llm = compute_llm_metrics(measured, lo);
    for (const auto& [name, value] : to_flat_map(*p.llm)) {
      static constexpr const char* kKept[] = {"request_throughput", "output_throughput", "total_token_throughput",
                                              "max_concurrent_requests"};
      const bool family = name.ends_with("_ms") && (name.rfind("mean_", 0) == 0 || name.rfind("median_", 0) == 0 ||
                                                    name.rfind("std_", 0) == 0 || name.rfind("p90_", 0) == 0 ||
                                                    name.rfind("p95_", 0) == 0 || name.rfind("p99_", 0) == 0);
      const bool kept = std::find(std::begin(kKept), std::end(kKept), name) != std::end(kKept);
      if (!family && !kept) continue;
      if (!find_metric(name)) continue;  // e.g. ttft_reasoning: in the flat JSON, not the registry
      if (name == "request_throughput") continue;  // already there, from every request
      m.push_back({name, value, name.ends_with("_ms") ? ValueKind::kMeasured : ValueKind::kDerived});
    }
    // The per-request distributions behind those summaries, for comparisons to test them on.
    r.distributions = p.llm->distributions;
    // Goodput from the same origin as the SLO verdicts: the schedule in the open loop.
    if (p.llm->has_slo && p.llm->duration_ns > 0)
      add(m, "request_goodput", open_loop ? p.llm->request_goodput_sched : p.llm->request_goodput, ValueKind::kDerived);
    if (p.llm->output_tokens_estimated_requests > 0)
      r.warnings.push_back(fmt::format("{} requests had no usage.completion_tokens: their output tokens are estimated "
                                       "as the count of content events",
                                       p.llm->output_tokens_estimated_requests));
  }

  // Throughput in 10 windows of the run, for the stability check (perf_analyzer: the last three
  // measurement windows within ±10 % of their mean).
  if (d_ns > 0 && end_times.size() >= 30) {
    p.window_rates.assign(kWindows, 0.0);
    const double w = static_cast<double>(d_ns) / kWindows;
    for (const std::int64_t t : end_times) {
      const auto i = std::min<std::int64_t>(kWindows - 1, static_cast<std::int64_t>(static_cast<double>(t - first_send) / w));
      p.window_rates[static_cast<std::size_t>(std::max<std::int64_t>(0, i))] += 1.0;
    }
    for (double& x : p.window_rates) x /= w / 1e9;
    const double mean = (p.window_rates[7] + p.window_rates[8] + p.window_rates[9]) / 3.0;
    p.stable = mean > 0 && std::all_of(p.window_rates.begin() + 7, p.window_rates.end(),
                                       [&](double x) { return std::fabs(x - mean) <= 0.1 * mean; });
  }

  // Percentile SLOs with MLPerf's early-stopping verdict (LOAD-5): e2el on every request (from
  // the schedule in the open loop); ttft and tpot on streamed requests.
  if (!o.slo.empty()) {
    const double sp = o.slo_percentile;
    const std::string tag = fmt::format("p{:g}", sp);
    const std::uint64_t failures = due - completed;
    if (o.slo.e2el_ns) r.slo.push_back(percentile_slo(tag + "_e2el_ms", primary, *o.slo.e2el_ns, sp, failures, r.warnings));
    if (!out.llm.empty() && (o.slo.ttft_ns || o.slo.tpot_ns)) {
      std::vector<std::int64_t> ttft, tpot;
      for (std::size_t i = 0; i < out.records.size(); ++i) {
        if (out.records[i].warmup || !out.llm[i].ok || out.llm[i].events.empty()) continue;
        const LlmRequestMetrics rm = request_metrics(out.llm[i]);
        ttft.push_back(open_loop ? rm.ttft_sched_ns : rm.ttft_ns);
        if (rm.tpot_ps) tpot.push_back(*rm.tpot_ps / 1000);
      }
      if (o.slo.ttft_ns) r.slo.push_back(percentile_slo(tag + "_ttft_ms", ttft, *o.slo.ttft_ns, sp, failures, r.warnings));
      if (o.slo.tpot_ns) r.slo.push_back(percentile_slo(tag + "_tpot_ms", tpot, *o.slo.tpot_ns, sp, failures, r.warnings));
    }
    for (const SloVerdict& v : r.slo) {
      p.slo_failed = p.slo_failed || v.state == SloState::kFail;
      p.slo_unconfirmed = p.slo_unconfirmed || v.state == SloState::kNotConfirmed;
    }
  }

  r.errors.total = due - completed;  // failed (connect failures included) and never sent
  for (const auto& [k, v] : out.errors_by_class) r.errors.by_class[k] = v;
  if (out.not_sent) r.errors.by_class["not_sent"] = out.not_sent;
  for (const auto& [k, v] : out.error_examples) r.errors.examples.push_back(k + ": " + v);
  if (p.partial) r.warnings.push_back("partial result: " + out.stop_reason);
  p.none_succeeded = due > 0 && completed == 0;
  if (p.none_succeeded)
    r.warnings.push_back(fmt::format("no request succeeded ({} due): every number here describes failures", due));
  // Retries hide failures: a server that drops kept-alive connections under load would otherwise
  // look healthy. More than 1 % of the sent requests is worth a reader's attention.
  if (sent && static_cast<double>(retried) > 0.01 * static_cast<double>(sent))
    r.warnings.push_back(fmt::format("{} requests ({:.1f} %) were sent again on a new connection after their kept-alive "
                                     "connection closed before any response byte; --no-retry counts those as errors",
                                     retried, 100.0 * static_cast<double>(retried) / static_cast<double>(sent)));
  if (p.client_bottleneck)
    r.warnings.push_back(fmt::format("the load generator may be the bottleneck: busiest thread {:.0f} % busy, {:.1f} % of "
                                     "due requests taken up more than 1 ms late (limits: 50 %, 1 %); add --threads or machines",
                                     100 * p.client_busy_max, 100 * loop_late_fraction));
  if (open_loop && p.target_rate > 0 && p.achieved_rate < 0.9 * p.target_rate)
    r.warnings.push_back(fmt::format("achieved {:.1f} req/s is below 90 % of the target {:.1f} req/s: the server (or client) "
                                     "is saturated",
                                     p.achieved_rate, p.target_rate));
  r.throughput_method = "completed requests / (last completion - first send)";
  return p;
}

std::string requests_jsonl(const EngineOutcome& out) {
  std::string s;
  const auto rel = [&](std::int64_t t) { return t ? nlohmann::json(t - out.start_ns) : nlohmann::json(nullptr); };
  for (std::size_t i = 0; i < out.records.size(); ++i) {
    const RequestRecord& q = out.records[i];
    nlohmann::ordered_json j{{"request", q.index},
                             {"warmup", q.warmup},
                             {"scheduled_ns", rel(q.t_sched_ns)},
                             {"sent_ns", rel(q.t_send_ns)},
                             {"first_byte_ns", rel(q.t_first_byte_ns)},
                             {"done_ns", rel(q.t_done_ns)},
                             {"status", q.status},
                             {"bytes", q.response_bytes},
                             {"error", q.error == ErrorClass::none ? nlohmann::json(nullptr) : nlohmann::json(to_string(q.error))},
                             {"retried", q.retried}};
    if (q.audio_s >= 0) j["audio_s"] = q.audio_s;
    if (!out.llm.empty()) {
      const LlmRequestRecord& l = out.llm[i];
      nlohmann::json ev = nlohmann::json::array();
      for (const OutputEvent& e : l.events) ev.push_back({rel(e.t_ns), e.tokens});
      j["output_events"] = ev;  // [time, tokens (0 = unknown)]
      if (l.usage_prompt_tokens) j["prompt_tokens"] = *l.usage_prompt_tokens;
      if (l.usage_completion_tokens) j["completion_tokens"] = *l.usage_completion_tokens;
      if (!l.ok) j["error_message"] = l.error_message;
    }
    s += j.dump() + "\n";
  }
  return s;
}

std::string render_point(const LoadPoint& p) {
  const Result& r = p.result;
  std::string s;
  const auto line = [&](std::string_view k, const std::string& v) { s += fmt::format("{:<40}{:>14}\n", k, v); };
  const auto num = [](double v, int prec = 2) { return fmt::format("{:.{}f}", v, prec); };
  s += fmt::format("{:=^54}\n", " Load Result ");
  line("Successful requests:", fmt::format("{}", static_cast<std::uint64_t>(r.metric_value("queries_total").value_or(0))));
  line("Failed requests:", fmt::format("{}", r.errors.total));
  if (const auto w = r.metric_value("wall_time_s")) line("Benchmark duration (s):", num(*w));
  // --rate 2 is the target; a Poisson schedule of a few requests draws 2.17 req/s: both are said.
  if (p.requested_rate && *p.requested_rate > 0) {
    line("Target request rate (req/s):", num(*p.requested_rate));
    if (p.target_rate > 0 && std::abs(p.target_rate - *p.requested_rate) > 0.005 * *p.requested_rate)
      line("Scheduled request rate (req/s):", num(p.target_rate));
  } else if (p.target_rate > 0) {
    line("Target request rate (req/s):", num(p.target_rate));
  }
  line("Request throughput (req/s):", num(p.achieved_rate));
  if (p.llm) {
    line("Total input tokens:", fmt::format("{}", p.llm->total_input_tokens));
    line("Total generated tokens:", fmt::format("{}{}", p.llm->total_output_tokens,
                                                 p.llm->output_tokens_estimated_requests ? " (estimated)" : ""));
    line("Output token throughput (tok/s):", num(p.llm->output_throughput));
    line("Total token throughput (tok/s):", num(p.llm->total_token_throughput));
    if (p.llm->has_slo)
      line(p.from_schedule ? "Request goodput (req/s, from schedule):" : "Request goodput (req/s):",
           num(p.from_schedule ? p.llm->request_goodput_sched : p.llm->request_goodput));
    line("Max concurrent requests:", fmt::format("{}", p.llm->max_concurrent_requests));
    // TTFT and E2EL count from the schedule in the open loop, like the latency and the SLO
    // verdicts: a wait for a free connection is the request's latency.
    const std::string origin = p.from_schedule ? " (from the schedule)" : "";
    const auto block = [&](const std::string& title, const char* key, const LlmLatencySummary& l) {
      if (l.count == 0) return;
      s += fmt::format("{:-^54}\n", " " + title + " ");
      line(fmt::format("Mean {} (ms):", key), num(l.mean_ms));
      line(fmt::format("Median {} (ms):", key), num(l.median_ms));
      for (const auto& q : l.percentiles) line(fmt::format("P{:g} {} (ms):", q.p, key), num(q.value));
    };
    block("Time to First Token" + origin, "TTFT", p.from_schedule ? p.llm->ttft_sched : p.llm->ttft);
    block("Time per Output Token (excl. 1st token)", "TPOT", p.llm->tpot);
    block("Inter-token Latency", "ITL", p.llm->itl);
    block("End-to-end Latency" + origin, "E2EL", p.from_schedule ? p.llm->e2el_sched : p.llm->e2el);
  } else if (r.latency) {
    s += fmt::format("{:-^54}\n", r.latency->measured_from == "scheduled" ? " Latency (from the schedule) " : " Latency ");
    const auto& sum = r.latency->summary_ns;
    line("Mean (ms):", num(sum.mean / 1e6, 3));
    for (const auto& q : sum.percentiles) line(fmt::format("P{:g} (ms):", q.p), num(q.value / 1e6, 3));
    line("Max (ms):", num(static_cast<double>(sum.max) / 1e6, 3));
  }
  s += fmt::format("{:-^54}\n", " Client ");
  if (const auto lag = r.metric_value("schedule_lag_p99_ms")) line("P99 schedule lag (ms):", num(*lag, 3));
  if (p.target_rate > 0) line("Sends > 1 ms late (%):", num(100 * p.late_fraction));
  if (const auto c = r.metric_value("client_cpu_pct")) line("Client CPU (% of a core):", num(*c, 1));
  if (const auto c = r.metric_value("client_cpu_per_request_ms")) line("Client CPU per request (us):", num(*c * 1e3, 2));
  if (const auto it = r.workload.options.find("client_sched"); it != r.workload.options.end())
    line("Client threads' scheduling:", it->second);
  if (const auto rtf = r.metric_value("rtf_mean")) line("Mean real-time factor:", num(*rtf, 4));
  if (!p.window_rates.empty()) line("Stable (last 3 windows within 10 %):", p.stable ? "yes" : "no");
  for (const SloVerdict& v : r.slo) {
    // A FAIL whose successful requests are within the limit fails on its failed requests: the
    // value is not shown beside the word, the line below says why.
    const bool on_failures = v.state == SloState::kFail && v.measured && *v.measured <= v.limit;
    std::string verdict = !v.measured   ? std::string("NOT MEASURED")
                          : on_failures ? std::string("FAIL (failed requests)")
                                        : fmt::format("{} ({:.2f})", slo_state_text(v.state), *v.measured);
    line(fmt::format("SLO {} <= {:g}:", v.metric, v.limit), verdict);
    if (v.state == SloState::kNotConfirmed)
      s += fmt::format("  too few requests to confirm: {}\n",
                       v.requests_needed ? fmt::format("needs >= {} requests", *v.requests_needed) : std::string("no count would"));
    else if (on_failures)
      s += fmt::format("  {}\n", v.detail);
  }
  for (const auto& [k, v] : r.errors.by_class) line(fmt::format("Errors: {}", k), fmt::format("{}", v));
  for (const auto& e : r.errors.examples) s += fmt::format("  example  {}\n", e);
  for (const auto& w : r.warnings) s += fmt::format("warning: {}\n", w);
  s += fmt::format("{:=^54}\n", "");
  return s;
}

}  // namespace trackiq::load

namespace trackiq::load {

Shard parse_shard(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return InputError(fmt::format("--shard '{}': {} (expected K/N with 0 <= K < N, K counted from 0, e.g. 0/3)", text, why));
  };
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) throw bad("no '/'");
  const auto number = [&](std::string_view part, const char* what) -> unsigned {
    if (part.empty() || part.size() > 6 || !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw bad(fmt::format("{} is not a whole number", what));
    return static_cast<unsigned>(std::stoul(std::string(part)));
  };
  Shard s{number(text.substr(0, slash), "K"), number(text.substr(slash + 1), "N")};
  if (s.n == 0) throw bad("N must be at least 1");
  if (s.k >= s.n) throw bad(fmt::format("K must be below N ({} clients are numbered 0 to {})", s.n, s.n - 1));
  return s;
}

std::string shard_text(const Shard& s) { return fmt::format("{}/{}", s.k, s.n); }

std::uint64_t shard_share(std::uint64_t total, const Shard& s) noexcept {
  return total / s.n + (s.k < total % s.n ? 1 : 0);
}

std::vector<std::int64_t> shard_schedule(const std::vector<std::int64_t>& schedule_ns, const Shard& s) {
  std::vector<std::int64_t> out;
  out.reserve(schedule_ns.size() / s.n + 1);
  for (std::size_t i = s.k; i < schedule_ns.size(); i += s.n) out.push_back(schedule_ns[i]);
  return out;
}

std::vector<std::string> shard_requests(const std::vector<std::string>& requests, const Shard& s) {
  if (requests.empty() || s.n == 1) return requests;
  // Local arrival j is arrival K + j*N, which used requests[(K + j*N) % S]; that repeats with
  // the period S / gcd(N, S) in j.
  const std::size_t size = requests.size();
  const std::size_t period = size / std::gcd(size, static_cast<std::size_t>(s.n));
  std::vector<std::string> out;
  out.reserve(period);
  for (std::size_t j = 0; j < period; ++j) out.push_back(requests[(s.k + j * s.n) % size]);
  return out;
}

namespace {

// "mean_ttft_sched_ms" → {"mean", "ttft_sched"} when "ttft_sched" is a pooled family.
std::optional<std::pair<std::string, std::string>> family_metric(const std::string& name,
                                                                 const std::map<std::string, Histogram>& families) {
  std::optional<std::pair<std::string, std::string>> best;
  for (const auto& [family, h] : families) {
    const std::string suffix = "_" + family + "_ms";
    if (name.size() <= suffix.size() || !name.ends_with(suffix)) continue;
    const std::string stat = name.substr(0, name.size() - suffix.size());
    if (!best || family.size() > best->second.size()) best = std::make_pair(stat, family);
  }
  return best;
}

std::optional<double> family_value(const std::string& stat, const Histogram& h) {
  if (h.count() == 0) return std::nullopt;
  if (stat == "mean") return h.mean() / 1e6;
  if (stat == "median") return h.value_at_percentile(50) / 1e6;
  if (stat == "std") return h.stddev() / 1e6;
  if (stat.size() > 1 && stat[0] == 'p') {
    std::string digits = stat.substr(1);
    std::replace(digits.begin(), digits.end(), '_', '.');
    char* end = nullptr;
    const double p = std::strtod(digits.c_str(), &end);
    if (end && *end == '\0' && p > 0 && p <= 100) return h.value_at_percentile(p) / 1e6;
  }
  return std::nullopt;
}

}  // namespace

Result merge_shards(const std::vector<Result>& runs, const std::string& group) {
  if (runs.empty()) throw InputError(fmt::format("group '{}' has no runs (trackiq load ... --shard K/N --group {})", group, group));
  // Which shard each run is, and that together they are the whole group, each shard once.
  std::vector<const Result*> by_k;
  unsigned n = 0;
  for (const Result& r : runs) {
    const auto g = r.labels.extra.find("group");
    const auto sh = r.labels.extra.find("shard");
    if (g == r.labels.extra.end() || g->second != group || sh == r.labels.extra.end())
      throw InputError(fmt::format("run {} is not a shard of group '{}' (it has no group={} and shard=K/N labels)", r.run_id,
                                   group, group));
    Shard s;
    try {
      s = parse_shard(sh->second);
    } catch (const InputError&) {
      throw InputError(fmt::format("run {}: label shard='{}' is not K/N", r.run_id, sh->second));
    }
    if (n == 0) {
      n = s.n;
      by_k.assign(n, nullptr);
    } else if (s.n != n) {
      throw InputError(fmt::format("group '{}' mixes shard counts: run {} is shard {} but another run is of {} shards", group,
                                   r.run_id, sh->second, n));
    }
    if (by_k[s.k])
      throw InputError(fmt::format("group '{}': shard {} appears twice (runs {} and {}); remove one (trackiq runs rm ID)",
                                   group, sh->second, by_k[s.k]->run_id, r.run_id));
    by_k[s.k] = &r;
  }
  std::vector<std::string> missing;
  for (unsigned k = 0; k < n; ++k)
    if (!by_k[k]) missing.push_back(shard_text({k, n}));
  if (!missing.empty())
    throw InputError(fmt::format("group '{}' is incomplete: shard{} {} missing ({} of {} runs)", group,
                                 missing.size() > 1 ? "s" : "", fmt::join(missing, ", "), n - missing.size(), n));

  const Result& first = *by_k[0];
  Result g = first;
  g.run_id = new_run_id();
  g.labels.extra.erase("shard");
  g.labels.extra["merged_from"] = fmt::format("{} runs", n);
  g.metrics.clear();
  g.slo.clear();
  g.warnings.clear();
  g.errors = {};
  g.telemetry = {};
  g.telemetry.reason = "not merged across client machines";
  std::uint64_t workers = 0, connections = 0;
  for (const Result* r : by_k) {
    g.started_at = std::min(g.started_at, r->started_at);
    g.finished_at = std::max(g.finished_at, r->finished_at);
    workers += r->scenario.workers;
    if (const auto c = r->workload.options.find("connections"); c != r->workload.options.end())
      connections += std::strtoull(c->second.c_str(), nullptr, 10);
    for (const auto& w : r->warnings) g.warnings.push_back(fmt::format("shard {}: {}", r->labels.extra.at("shard"), w));
    if (!r->slo.empty())
      g.warnings.push_back(fmt::format("shard {}: its SLO verdicts are per client and are not carried into the merged run",
                                       r->labels.extra.at("shard")));
    g.errors.total += r->errors.total;
    for (const auto& [k, v] : r->errors.by_class) g.errors.by_class[k] += v;
    for (const auto& e : r->errors.examples)
      if (g.errors.examples.size() < 10 && std::find(g.errors.examples.begin(), g.errors.examples.end(), e) == g.errors.examples.end())
        g.errors.examples.push_back(e);
  }
  g.scenario.workers = static_cast<std::uint32_t>(workers);
  g.workload.options["connections"] = std::to_string(connections);

  // Latency: every request's exact sample, pooled (the store keeps them); else the histograms.
  const bool all_latency = std::all_of(by_k.begin(), by_k.end(), [](const Result* r) { return r->latency.has_value(); });
  if (all_latency) {
    const bool all_samples = std::all_of(by_k.begin(), by_k.end(), [](const Result* r) {
      return r->latency->samples_ns.size() == r->latency->summary_ns.count;
    });
    LatencyData l;
    l.measured_from = first.latency->measured_from;
    for (const Result* r : by_k) {
      l.histogram.merge(r->latency->histogram);
      if (all_samples) l.samples_ns.insert(l.samples_ns.end(), r->latency->samples_ns.begin(), r->latency->samples_ns.end());
    }
    if (all_samples) {
      l.summary_ns = summarize(l.samples_ns);
    } else {
      std::vector<std::int64_t> mids;
      for (const auto& b : l.histogram.nonempty_buckets())
        mids.insert(mids.end(), b.count, b.low + (b.high - b.low) / 2);
      l.summary_ns = summarize(mids);
      g.warnings.push_back("latency percentiles from the pooled histograms (3 significant digits): a shard had no exact samples");
    }
    append_latency_metrics(g.metrics, l.summary_ns);
    g.latency = std::move(l);
  } else {
    g.latency.reset();
  }
  // The per-request distributions (vLLM families), pooled where every shard has them.
  g.distributions.clear();
  for (const auto& [family, h0] : first.distributions) {
    Histogram h = h0;
    bool everywhere = true;
    for (unsigned k = 1; k < n && everywhere; ++k) {
      const auto o = by_k[k]->distributions.find(family);
      if (o == by_k[k]->distributions.end()) everywhere = false;
      else h.merge(o->second);
    }
    if (everywhere) g.distributions.emplace(family, std::move(h));
  }

  const auto values = [&](const std::string& name) {
    std::vector<std::optional<double>> v;
    for (const Result* r : by_k) v.push_back(r->metric_value(name));
    return v;
  };
  const auto weight = [](const Result* r) {
    return r->metric_value("queries_total").value_or(0) + r->metric_value("errors_total").value_or(0);
  };
  static const std::set<std::string> kSum = {"queries_total",  "errors_total",           "retried_requests",
                                             "request_throughput", "throughput_queries_per_s", "throughput_samples_per_s",
                                             "request_rate_target", "output_throughput",   "total_token_throughput",
                                             "request_goodput",  "client_cpu_pct"};
  static const std::set<std::string> kMax = {"wall_time_s", "schedule_lag_p99_ms"};
  static const std::set<std::string> kWeighted = {"late_send_fraction", "client_cpu_per_request_ms", "rtf_mean"};
  std::vector<std::string> dropped;
  for (const MetricValue& m0 : first.metrics) {
    const std::string& name = m0.name;
    if (name.starts_with("latency_") || name == "error_rate") continue;  // recomputed above / below
    const auto v = values(name);
    const bool everywhere = std::all_of(v.begin(), v.end(), [](const auto& x) { return x.has_value(); });
    if (kSum.count(name) || kMax.count(name) || kWeighted.count(name) || name == "max_concurrent_requests") {
      if (!everywhere) {
        dropped.push_back(name + " (not in every shard)");
        continue;
      }
      double out = 0, wsum = 0;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (kMax.count(name)) out = std::max(out, *v[i]);
        else if (kWeighted.count(name)) {
          const double w = name == "rtf_mean" ? by_k[i]->metric_value("queries_total").value_or(0) : weight(by_k[i]);
          out += w * *v[i];
          wsum += w;
        } else out += *v[i];
      }
      if (kWeighted.count(name)) {
        if (wsum <= 0) continue;
        out /= wsum;
      }
      const ValueKind kind = name == "max_concurrent_requests" ? ValueKind::kEstimated
                             : name == "queries_total" || name == "errors_total" || name == "retried_requests" ||
                                     name == "wall_time_s"
                                 ? ValueKind::kMeasured
                                 : ValueKind::kDerived;
      g.metrics.push_back({name, out, kind});
      continue;
    }
    if (const auto fm = family_metric(name, g.distributions)) {
      if (const auto x = family_value(fm->first, g.distributions.at(fm->second))) {
        g.metrics.push_back({name, *x, ValueKind::kDerived});
        continue;
      }
    }
    dropped.push_back(name);
  }
  const double queries = g.metric_value("queries_total").value_or(0), errors = g.metric_value("errors_total").value_or(0);
  if (queries + errors > 0) g.metrics.push_back({"error_rate", errors / (queries + errors), ValueKind::kDerived});
  if (g.metric_value("max_concurrent_requests"))
    g.warnings.push_back("max_concurrent_requests is the sum of each client's peak: an upper bound (estimated)");
  if (!dropped.empty())
    g.warnings.push_back(fmt::format("not available in the merged run: {} (not computable from the shards' results)",
                                     fmt::join(dropped, ", ")));
  g.throughput_method = fmt::format("sum over {} clients of completed requests / (last completion - first send)", n);
  return g;
}

}  // namespace trackiq::load
