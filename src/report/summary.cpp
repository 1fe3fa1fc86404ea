// The rule-based executive summary (REP-4): APPROVE / BLOCK with ranked findings, from the
// results and comparison as they are. Rules are documented in report.hpp and docs/metrics.md.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "text.hpp"
#include "trackiq/report/report.hpp"

namespace trackiq::report {
namespace {

int severity_rank(const std::string& s) {
  if (s == "critical") return 0;
  if (s == "high") return 1;
  if (s == "medium") return 2;
  return 3;
}

using text::g;
using text::short_id;
using text::unit_suffix;


// Do the slowest queries line up with a machine state? For each state (CPU saturated:
// cpu.util_pct >= 90; GPU throttled: any gpuN.throttled >= 1), the share of the samples above p99
// that completed while the state held, against the share of the run's telemetry rows in that
// state. A sample completing at t belongs to the first telemetry row at or after t (utilisation
// is measured over the interval that ends at a row).
void tail_coincidence(const Result& r, std::vector<Finding>& out) {
  if (!r.latency || !r.telemetry.series) return;
  const auto& l = *r.latency;
  const auto& ts = *r.telemetry.series;
  const auto p99 = r.metric_value("latency_p99_ms");
  if (!p99 || l.samples_ns.size() < 100 || l.sample_end_ns.size() != l.samples_ns.size() || ts.rows() < 5) return;
  auto column = [&](const std::string& name) -> long {
    for (std::size_t c = 0; c < ts.width(); ++c)
      if (ts.names[c] == name) return static_cast<long>(c);
    return -1;
  };
  struct State {
    const char* what;
    std::vector<bool> on;  // per telemetry row
  };
  std::vector<State> states;
  if (const long cpu = column("cpu.util_pct"); cpu >= 0) {
    State st{"CPU saturation (cpu.util_pct >= 90)", std::vector<bool>(ts.rows())};
    for (std::size_t i = 0; i < ts.rows(); ++i) st.on[i] = ts.at(i, static_cast<std::size_t>(cpu)) >= 90;
    states.push_back(std::move(st));
  }
  {
    State st{"GPU throttling (gpuN.throttled)", std::vector<bool>(ts.rows())};
    bool any = false;
    for (std::size_t c = 0; c < ts.width(); ++c) {
      if (ts.names[c].rfind("gpu", 0) != 0 || !ts.names[c].ends_with(".throttled")) continue;
      any = true;
      for (std::size_t i = 0; i < ts.rows(); ++i) st.on[i] = st.on[i] || ts.at(i, c) >= 1;
    }
    if (any) states.push_back(std::move(st));
  }
  const double threshold_ns = *p99 * 1e6;
  for (const auto& st : states) {
    const double time_share =
        static_cast<double>(std::count(st.on.begin(), st.on.end(), true)) / static_cast<double>(ts.rows());
    std::size_t tail = 0, tail_on = 0;
    for (std::size_t i = 0; i < l.samples_ns.size(); ++i) {
      if (static_cast<double>(l.samples_ns[i]) <= threshold_ns) continue;
      const auto row = std::lower_bound(ts.t_ns.begin(), ts.t_ns.end(), l.sample_end_ns[i]);
      if (row == ts.t_ns.end()) continue;  // after the last telemetry sample: unknown
      ++tail;
      if (st.on[static_cast<std::size_t>(row - ts.t_ns.begin())]) ++tail_on;
    }
    if (tail < 5) continue;
    const double tail_share = static_cast<double>(tail_on) / static_cast<double>(tail);
    if (tail_share >= 0.5 && tail_share >= 2 * time_share)
      out.push_back({"high", "telemetry", r.run_id,
                     fmt::format("run {}: the p99 tail coincides with {}: {:.0f} % of the queries slower than p99 "
                                 "completed in it, which covered {:.0f} % of the run",
                                 short_id(r.run_id), st.what, tail_share * 100, time_share * 100),
                     false});
  }
}

void run_findings(const Result& r, std::vector<Finding>& out) {
  const std::string id = short_id(r.run_id);
  if (r.workload.synthetic)
    out.push_back({"medium", "comparability", r.run_id,
                   fmt::format("run {}: a synthetic workload: its numbers do not measure a model", id), false});
  for (const auto& s : r.slo) {
    if (!s.measured) {
      out.push_back({"low", "slo", r.run_id, fmt::format("run {}: SLO {} {} {} not measured", id, s.metric, s.op, g(s.limit)),
                     false});
    } else if (s.state == SloState::kNotConfirmed) {
      // Within the limit, the run too short to confirm it: a reader must know, but nothing failed
      // (MLPerf calls such a run invalid). `trackiq load --unconfirmed block` gates on it.
      out.push_back({"medium", "slo", r.run_id,
                     fmt::format("run {}: SLO {} {} {} NOT CONFIRMED: measured {} is within the limit, but the run was too "
                                 "short to confirm it{}",
                                 id, s.metric, s.op, g(s.limit), g(*s.measured),
                                 s.requests_needed ? fmt::format("; confirming it needs at least {} requests", *s.requests_needed)
                                                   : std::string()),
                     false});
    } else if (s.state == SloState::kFail) {
      const bool within = s.op == "<=" ? *s.measured <= s.limit : *s.measured >= s.limit;  // fails on its failed requests
      out.push_back({"high", "slo", r.run_id,
                     within ? fmt::format("run {}: SLO {} {} {} failed: {}", id, s.metric, s.op, g(s.limit), s.detail)
                            : fmt::format("run {}: SLO {} {} {} failed: measured {}{}", id, s.metric, s.op, g(s.limit),
                                          g(*s.measured), s.detail.empty() ? "" : " (" + s.detail + ")"),
                     true});
    }
  }
  if (r.errors.total > 0) {
    const double ok = r.latency ? static_cast<double>(r.latency->summary_ns.count) : 0.0;
    const double rate = static_cast<double>(r.errors.total) / (ok + static_cast<double>(r.errors.total));
    const bool blocks = rate > 0.01;
    out.push_back({blocks ? "high" : "medium", "errors", r.run_id,
                   fmt::format("run {}: {} failed queries ({:.2f} % of all){}", id, r.errors.total, rate * 100,
                               r.errors.examples.empty() ? "" : ", e.g. " + r.errors.examples.front()),
                   blocks});
  }
  if (const auto cv = r.metric_value("latency_cv"); cv && *cv > 0.5)
    out.push_back({"medium", "instability", r.run_id, fmt::format("run {}: unstable latency, CV {:.2f} (> 0.5)", id, *cv), false});
  if (r.latency && is_bimodal(r.latency->samples_ns))
    out.push_back({"medium", "instability", r.run_id,
                   fmt::format("run {}: bimodal latency: two separated modes in the raw samples", id), false});
  const auto p50 = r.metric_value("latency_p50_ms"), p99 = r.metric_value("latency_p99_ms");
  if (const auto th = r.metric_value("throttle_events_total"); th && *th > 0) {
    const bool tail = p50 && p99 && *p50 > 0 && *p99 > 2 * *p50;
    out.push_back({tail ? "high" : "medium", "telemetry", r.run_id,
                   tail ? fmt::format("run {}: {} throttle events while p99 was {}x p50: throttling can explain the tail", id,
                                      g(*th), g(*p99 / *p50))
                        : fmt::format("run {}: {} throttle events during the run", id, g(*th)),
                   false});
  }
  tail_coincidence(r, out);
  if (const auto cpu = r.metric_value("cpu_util_avg_pct"); cpu && *cpu >= 90)
    out.push_back({"medium", "telemetry", r.run_id,
                   fmt::format("run {}: CPU saturated (average {:.0f} %): latency may include waiting for a core", id, *cpu),
                   false});
  if (const auto it = r.telemetry.summary.find("psi.memory.some_pct.max"); it != r.telemetry.summary.end() && it->second >= 10)
    out.push_back({"medium", "telemetry", r.run_id,
                   fmt::format("run {}: memory pressure: tasks stalled on memory up to {:.0f} % of the time (PSI)", id,
                               it->second),
                   false});
}

// Metrics that moved within their thresholds: not findings, one line counts them (see below).
struct MovedWithin {
  std::size_t count = 0;
  const analysis::MetricComparison* largest = nullptr;
  std::string where;  // the sweep point of `largest`, or ""
};

void moved_within_line(const MovedWithin& m, const std::string& run_id, std::vector<Finding>& out) {
  if (m.count == 0) return;
  out.push_back({"low", "regression", run_id,
                 fmt::format("{} metric{} moved within {} threshold{}; largest: {} {}{}", m.count, m.count == 1 ? "" : "s",
                             m.count == 1 ? "its" : "their", m.count == 1 ? "" : "s", m.largest->name,
                             analysis::change_text(*m.largest, 1), m.where.empty() ? "" : " at " + m.where),
                 false});
}

// `where`: the sweep point the comparison is of ("" for a pair), said in each finding.
void comparison_findings(const analysis::Comparison& c, std::vector<Finding>& out, MovedWithin& within,
                         const std::string& where = "") {
  const std::string at = where.empty() ? "" : "at " + where + ": ";
  if (!c.same_hardware)
    out.push_back({"medium", "comparability", "",
                   at + "baseline and current ran on different hardware: differences may be the machine, not the change", false});
  if (!c.samples_used)
    out.push_back({"low", "comparability", "", at + "no raw samples or histograms on both sides: thresholds only, no significance test", false});
  // Findings are what someone must act on. A metric that moved within its threshold (WARN:
  // significant but small, or a spread/extreme that informs) is not one: those are counted in
  // one line that names the largest move.
  for (const auto& m : c.metrics) {
    if (m.verdict == analysis::Verdict::kPass) continue;
    const bool block = m.verdict == analysis::Verdict::kBlock;
    if (!block && m.comparable && !m.beyond_threshold) {
      ++within.count;
      if (!within.largest || std::fabs(m.change_pct) > std::fabs(within.largest->change_pct)) {
        within.largest = &m;
        within.where = where;
      }
      continue;
    }
    std::string sev = "low";
    if (block) sev = m.severity == "critical" ? "critical" : m.severity == "severe" ? "high" : "medium";
    // The reason names the test, its p and q values and the noise band: the finding's evidence.
    out.push_back({sev, "regression", c.current_run,
                   fmt::format("{}{} {} {} ({} → {}{}; threshold {}, confidence {}): {}", at, m.name,
                               block ? "regressed" : "changed", analysis::change_text(m, 1), g(m.baseline), g(m.current),
                               unit_suffix(m.unit), analysis::limit_text(m), m.confidence, m.reason),
                   block});
  }
}

// Two sweeps: each point's findings, and a finding per curve window (a sustained change along
// the axis blocks like a metric does, even when no single point is significant).
void sweep_findings(const SweepComparison& s, std::vector<Finding>& out) {
  MovedWithin within;
  for (std::size_t i = 0; i < s.comparisons.size(); ++i)
    comparison_findings(s.comparisons[i], out, within, i < s.points.size() ? s.points[i] : fmt::format("#{}", i + 1));
  moved_within_line(within, "", out);
  for (const auto& f : s.curves.findings) {
    if (f.verdict == analysis::Verdict::kPass) continue;
    const bool block = f.verdict == analysis::Verdict::kBlock;
    const std::string sev = !block                    ? "low"
                            : f.severity == "critical" ? "critical"
                            : f.severity == "severe"   ? "high"
                                                       : "medium";
    out.push_back({sev, "regression", "",
                   fmt::format("curve along {}: {} (severity {}, confidence {})", s.curves.axis, f.reason, f.severity,
                               f.confidence),
                   block});
  }
}

}  // namespace

std::string_view to_string(Decision d) noexcept { return d == Decision::kBlock ? "BLOCK" : "APPROVE"; }

bool is_bimodal(const std::vector<std::int64_t>& samples_ns) {
  // A log-spaced histogram of the central 99 % (outliers would stretch the bins), smoothed over
  // three bins; bimodal when two local maxima each hold >= 10 % of the samples in their basin
  // and the valley between them is below half the lower peak.
  if (samples_ns.size() < 200) return false;
  std::vector<double> logs;
  logs.reserve(samples_ns.size());
  for (const auto v : samples_ns)
    if (v > 0) logs.push_back(std::log(static_cast<double>(v)));
  if (logs.size() < 200) return false;
  // The 0.5th and 99.5th order statistics by selection (O(n)), not a sort of a million samples.
  const std::size_t cut = logs.size() / 200;
  std::nth_element(logs.begin(), logs.begin() + static_cast<std::ptrdiff_t>(cut), logs.end());
  const double lo = logs[cut];
  std::nth_element(logs.begin() + static_cast<std::ptrdiff_t>(cut), logs.end() - 1 - static_cast<std::ptrdiff_t>(cut), logs.end());
  const double hi = logs[logs.size() - 1 - cut];
  if (!(hi - lo > 1e-9)) return false;
  constexpr int kBins = 40;
  std::vector<double> h(kBins, 0);
  for (const double x : logs) {
    if (x < lo || x > hi) continue;
    h[std::min(kBins - 1, static_cast<int>((x - lo) / (hi - lo) * kBins))] += 1;
  }
  std::vector<double> s(kBins, 0);
  for (int i = 0; i < kBins; ++i)
    s[i] = (h[std::max(0, i - 1)] + h[i] + h[std::min(kBins - 1, i + 1)]) / 3.0;
  std::vector<int> peaks;
  for (int i = 0; i < kBins; ++i) {
    const double left = i > 0 ? s[i - 1] : -1, right = i + 1 < kBins ? s[i + 1] : -1;
    if (s[i] > left && s[i] >= right) peaks.push_back(i);
  }
  const double total = static_cast<double>(logs.size());
  for (std::size_t a = 0; a < peaks.size(); ++a) {
    for (std::size_t b = a + 1; b < peaks.size(); ++b) {
      const int pa = peaks[a], pb = peaks[b];
      const int valley = static_cast<int>(std::min_element(s.begin() + pa, s.begin() + pb + 1) - s.begin());
      if (s[valley] >= 0.5 * std::min(s[pa], s[pb])) continue;
      double left_mass = 0, right_mass = 0;
      for (int i = 0; i <= valley; ++i) left_mass += h[i];
      for (int i = valley + 1; i < kBins; ++i) right_mass += h[i];
      if (left_mass >= 0.1 * total && right_mass >= 0.1 * total) return true;
    }
  }
  return false;
}

ExecutiveSummary executive_summary(const ReportInput& in) {
  ExecutiveSummary es;
  if (in.comparison) {
    MovedWithin within;
    comparison_findings(*in.comparison, es.findings, within);
    moved_within_line(within, in.comparison->current_run, es.findings);
  }
  if (in.sweep) sweep_findings(*in.sweep, es.findings);
  for (const auto& r : in.runs) run_findings(r, es.findings);
  std::stable_sort(es.findings.begin(), es.findings.end(), [](const Finding& a, const Finding& b) {
    if (a.blocking != b.blocking) return a.blocking;
    return severity_rank(a.severity) < severity_rank(b.severity);
  });
  const auto blocking = static_cast<std::size_t>(
      std::count_if(es.findings.begin(), es.findings.end(), [](const Finding& f) { return f.blocking; }));
  es.decision = blocking > 0 ? Decision::kBlock : Decision::kApprove;
  if (blocking > 0) {
    es.headline = fmt::format("{} blocking finding{}: {}", blocking, blocking == 1 ? "" : "s", es.findings.front().text);
  } else {
    std::size_t unconfirmed = 0;
    for (const auto& r : in.runs)
      unconfirmed += static_cast<std::size_t>(std::count_if(r.slo.begin(), r.slo.end(), [](const SloVerdict& s) {
        return s.state == SloState::kNotConfirmed;
      }));
    const bool compared = in.comparison || in.sweep;
    std::string what = compared ? "no significant regression beyond its threshold" : "no failed SLO";
    if (unconfirmed > 0)
      what = fmt::format("{}no SLO beyond its limit, {} NOT CONFIRMED (within {} limit{}, too few requests to confirm)",
                         compared ? what + ", " : "", unconfirmed, unconfirmed == 1 ? "its" : "their",
                         unconfirmed == 1 ? "" : "s");
    es.headline = fmt::format("{}, no blocking error rate; {} other finding{}", what, es.findings.size(),
                              es.findings.size() == 1 ? "" : "s");
  }
  return es;
}

}  // namespace trackiq::report
