#include "trackiq/report/console.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace trackiq::report {
namespace {

std::string num(double v) {
  const double a = std::fabs(v);
  if (a < 1e15 && v == std::floor(v)) return fmt::format("{:.0f}", v);
  if (a != 0 && (a >= 1e6 || a < 1e-3)) return fmt::format("{:.4g}", v);
  if (a >= 1000) return fmt::format("{:.0f}", v);
  if (a >= 100) return fmt::format("{:.1f}", v);
  if (a >= 10) return fmt::format("{:.2f}", v);
  return fmt::format("{:.3f}", v);
}

const MetricValue* find_value(const Result& r, std::string_view name) {
  const auto it = std::find_if(r.metrics.begin(), r.metrics.end(), [&](const MetricValue& m) { return m.name == name; });
  return it == r.metrics.end() ? nullptr : &*it;
}

// SPEC §0: an estimate says so wherever it is shown (measured and derived numbers need no note).
std::string kind_note(const MetricValue& m) { return m.kind == ValueKind::kEstimated ? "  (estimated)" : ""; }

// Prints the metrics of a run and remembers which, so that the rest can follow in one place.
class Rows {
 public:
  Rows(std::string& out, const Result& r) : out_(out), r_(r) {}

  void row(std::string_view label, std::string_view metric_name) {
    const MetricValue* m = find_value(r_, metric_name);
    if (!m) return;
    shown_.insert(std::string(metric_name));
    const auto* def = find_metric(metric_name);
    const std::string_view unit = def ? def->unit : std::string_view();
    if (unit == "B") {
      fmt::format_to(std::back_inserter(out_), "  {:<24} {:>12} MiB{}\n", label, num(m->value / (1024.0 * 1024.0)),
                     kind_note(*m));
      return;
    }
    fmt::format_to(std::back_inserter(out_), "  {:<24} {:>12} {}{}\n", label, num(m->value), unit == "1" ? "" : unit,
                   kind_note(*m));
  }

  // A load run's streaming metrics (vLLM's names: mean_ttft_ms, p99_itl_ms, ...) as one table,
  // a row per quantity and a column per statistic.
  void streaming_table() {
    static constexpr std::string_view kStats[] = {"mean", "median", "p90", "p95", "p99", "std"};
    static constexpr std::pair<std::string_view, std::string_view> kQuantities[] = {
        {"ttft", "TTFT"}, {"ttft_sched", "TTFT from schedule"}, {"tpot", "TPOT"},
        {"itl", "ITL"},   {"e2el", "E2EL"},                    {"e2el_sched", "E2EL from schedule"}};
    std::string table;
    for (const auto& [key, label] : kQuantities) {
      std::string line = fmt::format("  {:<20}", label);
      bool any = false;
      for (const auto stat : kStats) {
        const std::string name = fmt::format("{}_{}_ms", stat, key);
        const MetricValue* m = find_value(r_, name);
        if (m) {
          any = true;
          shown_.insert(name);
        }
        line += fmt::format(" {:>9}", m ? num(m->value) : "-");
      }
      if (any) table += line + "\n";
    }
    if (table.empty()) return;
    std::string header = fmt::format("\n{:<22}", "streaming (ms)");
    for (const auto stat : kStats) header += fmt::format(" {:>9}", stat);
    out_ += header + "\n" + table;
  }

  // Every metric of the run not printed above, by name: imported and scenario-specific metrics
  // would otherwise be only in the JSON.
  void rest() {
    bool header = false;
    for (const MetricValue& m : r_.metrics) {
      if (shown_.count(m.name)) continue;
      if (!header) fmt::format_to(std::back_inserter(out_), "\nother metrics\n");
      header = true;
      row(m.name, m.name);
    }
  }

 private:
  std::string& out_;
  const Result& r_;
  std::set<std::string> shown_;
};

template <typename... T>
void append(std::string& out, fmt::format_string<T...> format, T&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<T>(args)...);
}

}  // namespace

std::string render_console(const Result& r) {
  std::string out;
  Rows rows(out, r);
  const auto& w = r.workload;
  append(out, "TrackIQ {} — run {}\n", r.tool_version, r.run_id);
  if (w.synthetic) append(out, "*** SYNTHETIC WORKLOAD: these numbers do not measure a model ***\n");
  append(out, "workload   {}:{}  batch {}  {}  {}  threads {}\n", w.backend, w.model, w.batch_size, w.precision, w.device,
      w.threads);
  for (const auto& in : w.inputs) {
    append(out, "  input    {} [{}] {}\n", in.name, fmt::join(in.shape, "x"), in.dtype);
  }
  for (const auto& o : w.outputs) {
    append(out, "  output   {} [{}] {}\n", o.name, fmt::join(o.shape, "x"), o.dtype);
  }
  const auto& s = r.scenario;
  append(out, "scenario   {}", s.name);
  if (s.qps) append(out, "  target {} q/s", num(*s.qps));
  if (s.workers > 1) append(out, "  workers {}", s.workers);
  if (s.samples_per_query > 1) append(out, "  samples/query {}", s.samples_per_query);
  append(out, "  seed {}\n", s.seed);
  {
    // Say only what is known (imported runs often know little about their machine).
    const auto& e = r.environment;
    std::string machine = e.cpu_model.empty() ? (e.hostname.empty() ? "not recorded" : "host " + e.hostname) : e.cpu_model;
    if (e.cpu_logical) machine += fmt::format(" ({} logical CPUs)", e.cpu_logical);
    if (!e.os.empty()) machine += ", " + e.os;
    if (!e.kernel.empty()) machine += ", kernel " + e.kernel;
    append(out, "machine    {}\n", machine);
  }
  if (r.latency) {
    append(out, "\nlatency (from {}, {} queries)\n", r.latency->measured_from == "scheduled" ? "scheduled time" : "issue",
        r.latency->summary_ns.count);
  } else if (r.metric_value("latency_mean_ms") || r.metric_value("latency_p50_ms")) {
    append(out, "\nlatency (summary statistics only: no raw samples)\n");
  }
  if (r.latency || r.metric_value("latency_mean_ms") || r.metric_value("latency_p50_ms")) {
    rows.row("p50", "latency_p50_ms");
    rows.row("p90", "latency_p90_ms");
    rows.row("p95", "latency_p95_ms");
    rows.row("p99", "latency_p99_ms");
    rows.row("p99.9", "latency_p99_9_ms");
    rows.row("mean", "latency_mean_ms");
    rows.row("std", "latency_std_ms");
    rows.row("cv", "latency_cv");
    rows.row("min", "latency_min_ms");
    rows.row("max", "latency_max_ms");
  }
  append(out, "\nthroughput\n");
  rows.row("samples/s", "throughput_samples_per_s");
  rows.row("queries/s", "throughput_queries_per_s");
  rows.row("achieved GFLOP/s", "achieved_gflops");
  rows.row("scheduled q/s", "qps_scheduled");
  rows.row("achieved q/s", "qps_achieved");
  rows.row("queries", "queries_total");
  rows.row("samples", "samples_total");
  rows.row("measured time", "wall_time_s");
  rows.row("errors", "errors_total");
  rows.row("error rate", "error_rate");
  rows.streaming_table();
  if (!r.slo.empty()) {
    append(out, "\nchecks\n");
    for (const auto& v : r.slo) {
      append(out, "  {:<13} {:<26} {} {:>10}   measured {}\n", slo_state_text(v.state), v.metric, v.op, num(v.limit),
             v.measured ? num(*v.measured) : std::string("-"));
      if (v.state == SloState::kNotConfirmed && v.requests_needed)
        append(out, "                too few requests to confirm: needs >= {}\n", *v.requests_needed);
      if (!v.detail.empty() && v.state != SloState::kPass) append(out, "                {}\n", v.detail);
    }
  }
  if (r.errors.total > 0) {
    append(out, "\nerrors: {}\n", r.errors.total);
    for (const auto& [k, n] : r.errors.by_class) append(out, "  {}: {}\n", k, n);
    for (const auto& e : r.errors.examples) append(out, "  e.g. {}\n", e);
  }
  // cmd: workloads: the queries' own processes (wait4), apart from TrackIQ's process below.
  const bool per_query_processes = r.metric_value("workload_cpu_user_ms").has_value();
  if (per_query_processes) {
    append(out, "\nworkload processes (one per query, from wait4)\n");
    if (!r.metric_value("workload_rss_peak_bytes"))
      append(out, "  {:<24} {:>12}\n", "rss", "not measured: each peaked at or below TrackIQ's own (see warnings)");
    rows.row("rss peak", "workload_rss_peak_bytes");
    rows.row("rss mean", "workload_rss_mean_bytes");
    rows.row("rss p50", "workload_rss_p50_bytes");
    rows.row("rss p99", "workload_rss_p99_bytes");
    rows.row("cpu user per query", "workload_cpu_user_ms");
    rows.row("cpu sys per query", "workload_cpu_sys_ms");
    if (r.metric_value("workload_tree_rss_peak_bytes")) {
      append(out, "workload process trees (process + descendants, sampled while running)\n");
      rows.row("tree rss peak", "workload_tree_rss_peak_bytes");
      rows.row("tree rss mean", "workload_tree_rss_mean_bytes");
      rows.row("tree rss p50", "workload_tree_rss_p50_bytes");
      rows.row("tree rss p99", "workload_tree_rss_p99_bytes");
    }
  }
  if (r.telemetry.available) {
    append(out, "\ntelemetry ({} samples)\n", r.telemetry.summary.count("samples") ? r.telemetry.summary.at("samples") : 0.0);
    rows.row("cpu avg", "cpu_util_avg_pct");
    rows.row("cpu max", "cpu_util_max_pct");
    rows.row(per_query_processes ? "trackiq rss peak" : "rss peak", "rss_peak_bytes");
    rows.row("gpu util avg", "gpu_util_avg_pct");
    rows.row("gpu memory peak", "gpu_memory_peak_bytes");
    rows.row("temperature max", "temperature_max_c");
    rows.row("power avg", "power_avg_w");
    rows.row("power peak", "power_peak_w");
    rows.row("energy", "energy_j");
    rows.row("energy/inference", "energy_per_inference_j");
    rows.row("inferences/J", "inferences_per_j");
    rows.row("throttle events", "throttle_events_total");
    if (!r.telemetry.reason.empty()) append(out, "  unavailable: {}\n", r.telemetry.reason);
  }
  rows.rest();
  if (!r.telemetry.available)
    append(out, "\ntelemetry  {}\n", r.telemetry.reason.empty() ? "not recorded" : r.telemetry.reason);
  for (const auto& wmsg : r.warnings) append(out, "warning: {}\n", wmsg);
  return out;
}

}  // namespace trackiq::report
