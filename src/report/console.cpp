#include "trackiq/report/console.hpp"

#include <cmath>

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

void row(std::string& out, std::string_view label, const Result& r, std::string_view metric_name) {
  const auto v = r.metric_value(metric_name);
  if (!v) return;
  const auto& def = metric(metric_name);
  if (def.unit == "B") {
    fmt::format_to(std::back_inserter(out), "  {:<24} {:>12} MiB\n", label, num(*v / (1024.0 * 1024.0)));
    return;
  }
  fmt::format_to(std::back_inserter(out), "  {:<24} {:>12} {}\n", label, num(*v), def.unit == "1" ? "" : def.unit);
}

template <typename... T>
void append(std::string& out, fmt::format_string<T...> format, T&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<T>(args)...);
}

}  // namespace

std::string render_console(const Result& r) {
  std::string out;
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
    row(out, "p50", r, "latency_p50_ms");
    row(out, "p90", r, "latency_p90_ms");
    row(out, "p95", r, "latency_p95_ms");
    row(out, "p99", r, "latency_p99_ms");
    row(out, "p99.9", r, "latency_p99_9_ms");
    row(out, "mean", r, "latency_mean_ms");
    row(out, "std", r, "latency_std_ms");
    row(out, "cv", r, "latency_cv");
    row(out, "min", r, "latency_min_ms");
    row(out, "max", r, "latency_max_ms");
  }
  append(out, "\nthroughput\n");
  row(out, "samples/s", r, "throughput_samples_per_s");
  row(out, "queries/s", r, "throughput_queries_per_s");
  row(out, "achieved GFLOP/s", r, "achieved_gflops");
  row(out, "scheduled q/s", r, "qps_scheduled");
  row(out, "achieved q/s", r, "qps_achieved");
  row(out, "measured time", r, "wall_time_s");
  row(out, "errors", r, "errors_total");
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
  const bool per_query_processes = r.metric_value("workload_rss_peak_bytes").has_value();
  if (per_query_processes) {
    append(out, "\nworkload processes (one per query, from wait4)\n");
    row(out, "rss peak", r, "workload_rss_peak_bytes");
    row(out, "rss mean", r, "workload_rss_mean_bytes");
    row(out, "rss p50", r, "workload_rss_p50_bytes");
    row(out, "rss p99", r, "workload_rss_p99_bytes");
    row(out, "cpu user per query", r, "workload_cpu_user_ms");
    row(out, "cpu sys per query", r, "workload_cpu_sys_ms");
    if (r.metric_value("workload_tree_rss_peak_bytes")) {
      append(out, "workload process trees (process + descendants, sampled while running)\n");
      row(out, "tree rss peak", r, "workload_tree_rss_peak_bytes");
      row(out, "tree rss mean", r, "workload_tree_rss_mean_bytes");
      row(out, "tree rss p50", r, "workload_tree_rss_p50_bytes");
      row(out, "tree rss p99", r, "workload_tree_rss_p99_bytes");
    }
  }
  if (r.telemetry.available) {
    append(out, "\ntelemetry ({} samples)\n", r.telemetry.summary.count("samples") ? r.telemetry.summary.at("samples") : 0.0);
    row(out, "cpu avg", r, "cpu_util_avg_pct");
    row(out, "cpu max", r, "cpu_util_max_pct");
    row(out, per_query_processes ? "trackiq rss peak" : "rss peak", r, "rss_peak_bytes");
    row(out, "gpu util avg", r, "gpu_util_avg_pct");
    row(out, "gpu memory peak", r, "gpu_memory_peak_bytes");
    row(out, "temperature max", r, "temperature_max_c");
    row(out, "power avg", r, "power_avg_w");
    row(out, "power peak", r, "power_peak_w");
    row(out, "energy", r, "energy_j");
    row(out, "energy/inference", r, "energy_per_inference_j");
    row(out, "inferences/J", r, "inferences_per_j");
    row(out, "throttle events", r, "throttle_events_total");
    if (!r.telemetry.reason.empty()) append(out, "  unavailable: {}\n", r.telemetry.reason);
  } else {
    append(out, "telemetry  {}\n", r.telemetry.reason);
  }
  for (const auto& wmsg : r.warnings) append(out, "warning: {}\n", wmsg);
  return out;
}

}  // namespace trackiq::report
