#include "trackiq/analysis/compare.hpp"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace trackiq::analysis {

std::string_view to_string(Verdict v) noexcept {
  switch (v) {
    case Verdict::kPass: return "PASS";
    case Verdict::kWarn: return "WARN";
    case Verdict::kBlock: return "BLOCK";
  }
  return "PASS";
}

namespace {

bool starts_with(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

double threshold_for(const std::string& name, const CompareOptions& o) {
  if (auto it = o.thresholds_pct.find(name); it != o.thresholds_pct.end()) return it->second;
  if (name == "latency_p99_ms" || name == "latency_p99_9_ms") return o.p99_pct;
  if (starts_with(name, "latency_")) return o.latency_pct;
  if (starts_with(name, "throughput_")) return o.throughput_pct;
  return o.other_pct;
}

// Which test on the raw latency samples speaks for a metric: Mann-Whitney U for location
// (central percentiles, mean, throughput), the bootstrap CI for p99; none for extremes and
// dispersion (min, max, p99.9, std, cv), which are compared by threshold and can only WARN.
enum class Test { kNone, kMannWhitney, kBootstrapP99 };
Test test_for(const std::string& name) {
  if (name == "latency_p50_ms" || name == "latency_p90_ms" || name == "latency_p95_ms" || name == "latency_mean_ms" ||
      starts_with(name, "throughput_") || name == "achieved_gflops")
    return Test::kMannWhitney;
  if (name == "latency_p99_ms") return Test::kBootstrapP99;
  return Test::kNone;
}
bool descriptive_latency(const std::string& name) { return starts_with(name, "latency_") && test_for(name) == Test::kNone; }

std::string severity_of(double regression_pct, double threshold) {
  if (regression_pct >= 100) return "critical";
  if (regression_pct >= 50) return "severe";
  if (regression_pct > threshold) return "moderate";
  return "none";
}

}  // namespace

Comparison compare_results(const Result& base, const Result& cur, const CompareOptions& o) {
  Comparison c;
  c.baseline_run = base.run_id;
  c.current_run = cur.run_id;
  c.same_hardware = base.environment.hardware_fingerprint == cur.environment.hardware_fingerprint;
  if (!c.same_hardware)
    c.notes.push_back(fmt::format("DIFFERENT HARDWARE: baseline {} vs current {}; differences may be the machine, not "
                                  "the change",
                                  base.environment.hardware_fingerprint, cur.environment.hardware_fingerprint));
  if (base.workload.model != cur.workload.model || base.scenario.name != cur.scenario.name)
    c.notes.push_back(fmt::format("different workload or scenario: {}:{} {} vs {}:{} {}", base.workload.backend,
                                  base.workload.model, base.scenario.name, cur.workload.backend, cur.workload.model,
                                  cur.scenario.name));

  const auto* bs = base.latency ? &base.latency->samples_ns : nullptr;
  const auto* cs = cur.latency ? &cur.latency->samples_ns : nullptr;
  c.samples_used = bs && cs && bs->size() >= 2 && cs->size() >= 2;
  if (c.samples_used) {
    c.mann_whitney = mann_whitney_u(*bs, *cs);
    BootstrapOptions bo;
    bo.seed = o.seed;
    bo.resamples = o.resamples;
    bo.percentiles = {50.0, 99.0};
    c.bootstrap = bootstrap_percentile_differences(*bs, *cs, bo);
  } else {
    c.notes.push_back("no raw latency samples on both sides: thresholds only, no significance test");
  }

  for (const auto& bm : base.metrics) {
    const auto cv = cur.metric_value(bm.name);
    const MetricDef* def = find_metric(bm.name);
    if (!cv || !def || def->direction == Direction::kNeutral) continue;
    MetricComparison m;
    m.name = bm.name;
    m.unit = std::string(def->unit);
    m.direction = def->direction;
    m.baseline = bm.value;
    m.current = *cv;
    m.threshold_pct = threshold_for(bm.name, o);
    if (m.baseline != 0) {
      m.change_pct = (m.current - m.baseline) / std::fabs(m.baseline) * 100.0;
    } else {
      m.change_pct = m.current == 0 ? 0.0 : (m.current > 0 ? INFINITY : -INFINITY);
    }
    m.regression_pct = def->direction == Direction::kLowerIsBetter ? m.change_pct : -m.change_pct;
    m.severity = severity_of(m.regression_pct, m.threshold_pct);
    const bool beyond = m.regression_pct > m.threshold_pct;  // exactly reached is not a regression

    const Test test = c.samples_used ? test_for(bm.name) : Test::kNone;
    m.tested = test != Test::kNone;
    const bool practically = std::fabs(m.change_pct) >= o.min_effect_pct;
    std::string evidence;
    if (test == Test::kMannWhitney) {
      m.p_value = c.mann_whitney->p_value;
      m.significant = *m.p_value < o.alpha && practically && m.regression_pct > 0;
      evidence = fmt::format("Mann-Whitney p = {:.2g}", *m.p_value);
    } else if (test == Test::kBootstrapP99) {
      for (const auto& d : c.bootstrap->differences)
        if (d.p == 99.0) m.ci = d;
      m.significant = m.ci && m.ci->excludes_zero() && practically && m.regression_pct > 0;
      evidence = m.ci ? fmt::format("bootstrap {:.0f} % CI of the p99 difference [{:.3g}, {:.3g}] ns",
                                    c.bootstrap->confidence * 100, m.ci->low, m.ci->high)
                      : "no bootstrap CI";
    }
    if (m.tested) {
      const std::uint64_t n = std::min<std::uint64_t>(c.mann_whitney->n_x, c.mann_whitney->n_y);
      const double noise = std::max(base.metric_value("latency_cv").value_or(0), cur.metric_value("latency_cv").value_or(0));
      const bool strong = test == Test::kMannWhitney ? *m.p_value < o.alpha / 5 : m.significant;
      if (strong && n >= 30 && noise < 0.5) m.confidence = "high";
      else if ((m.significant || (m.p_value && *m.p_value < o.alpha)) && n >= 10) m.confidence = "medium";
      else m.confidence = "low";
    } else {
      m.confidence = "low";
    }

    if (beyond && m.tested && m.significant) {
      m.verdict = Verdict::kBlock;
      m.reason = fmt::format("{:.1f} % worse (> {:.0f} %), significant ({})", m.regression_pct, m.threshold_pct, evidence);
    } else if (beyond && !c.samples_used) {
      m.verdict = Verdict::kBlock;
      m.reason = fmt::format("{:.1f} % worse (> {:.0f} %); no samples to test significance", m.regression_pct,
                             m.threshold_pct);
    } else if (beyond && m.tested) {
      m.verdict = Verdict::kWarn;
      m.reason = fmt::format("{:.1f} % worse (> {:.0f} %) but not significant ({})", m.regression_pct, m.threshold_pct,
                             evidence);
    } else if (beyond && descriptive_latency(bm.name)) {
      m.verdict = Verdict::kWarn;
      m.reason = fmt::format("{:.1f} % worse (> {:.0f} %); an extreme or spread statistic, not tested", m.regression_pct,
                             m.threshold_pct);
    } else if (beyond) {
      m.verdict = Verdict::kBlock;
      m.reason = fmt::format("{:.1f} % worse (> {:.0f} %); threshold only (no per-sample data for this metric)",
                             m.regression_pct, m.threshold_pct);
    } else if (m.significant) {
      m.verdict = Verdict::kWarn;
      m.reason = fmt::format("{:.1f} % worse, significant ({}) but within {:.0f} %", m.regression_pct, evidence,
                             m.threshold_pct);
    } else {
      m.verdict = Verdict::kPass;
      m.reason = m.regression_pct < 0 ? fmt::format("{:.1f} % better", -m.regression_pct)
                                      : fmt::format("within {:.0f} %", m.threshold_pct);
    }
    if (m.verdict > c.verdict) c.verdict = m.verdict;
    c.metrics.push_back(std::move(m));
  }
  if (c.metrics.empty()) c.notes.push_back("no metric with a direction is present on both sides");
  return c;
}

std::string render_comparison_table(const Comparison& c) {
  std::string out = fmt::format("baseline {}\ncurrent  {}\n", c.baseline_run, c.current_run);
  for (const auto& n : c.notes) out += "note: " + n + "\n";
  if (c.mann_whitney)
    out += fmt::format("latency samples: {} vs {}, Mann-Whitney U p = {:.3g} ({}), bootstrap {} resamples, seed {}\n",
                       c.mann_whitney->n_x, c.mann_whitney->n_y, c.mann_whitney->p_value,
                       c.mann_whitney->method == MannWhitneyMethod::kExact ? "exact" : "asymptotic",
                       c.bootstrap->resamples, c.bootstrap->seed);
  out += fmt::format("\n{:<26} {:>12} {:>12} {:>9} {:>7}  {:<9} {:<6} {:<6} {}\n", "metric", "baseline", "current",
                     "change", "limit", "severity", "conf", "verdict", "why");
  for (const auto& m : c.metrics)
    out += fmt::format("{:<26} {:>12.4g} {:>12.4g} {:>+8.1f}% {:>6.0f}%  {:<9} {:<6} {:<6} {}\n", m.name, m.baseline,
                       m.current, m.change_pct, m.threshold_pct, m.severity, m.confidence, to_string(m.verdict), m.reason);
  out += fmt::format("\nverdict: {}\n", to_string(c.verdict));
  return out;
}

std::string comparison_json(const Comparison& c) {
  using Json = nlohmann::ordered_json;
  auto num = [](double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); };
  Json metrics = Json::array();
  for (const auto& m : c.metrics) {
    Json j{{"metric", m.name},          {"unit", m.unit},
           {"direction", to_string(m.direction)}, {"baseline", num(m.baseline)},
           {"current", num(m.current)}, {"change_pct", num(m.change_pct)},
           {"threshold_pct", m.threshold_pct},    {"severity", m.severity},
           {"tested", m.tested},        {"p_value", m.p_value ? Json(*m.p_value) : Json(nullptr)},
           {"significant", m.significant},        {"confidence", m.confidence},
           {"verdict", to_string(m.verdict)},     {"reason", m.reason}};
    if (m.ci) j["ci"] = {{"percentile", m.ci->p}, {"difference", m.ci->difference}, {"low", m.ci->low}, {"high", m.ci->high}};
    metrics.push_back(j);
  }
  Json j{{"baseline_run", c.baseline_run}, {"current_run", c.current_run}, {"same_hardware", c.same_hardware},
         {"samples_used", c.samples_used}, {"verdict", to_string(c.verdict)}, {"notes", c.notes}, {"metrics", metrics}};
  if (c.mann_whitney)
    j["mann_whitney"] = {{"u", c.mann_whitney->u}, {"p_value", c.mann_whitney->p_value}, {"n_baseline", c.mann_whitney->n_x},
                         {"n_current", c.mann_whitney->n_y}};
  if (c.bootstrap) j["bootstrap"] = {{"resamples", c.bootstrap->resamples}, {"seed", c.bootstrap->seed}, {"confidence", c.bootstrap->confidence}};
  return j.dump(2) + "\n";
}

}  // namespace trackiq::analysis
