#include "trackiq/analysis/compare.hpp"

#include <algorithm>
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

// A change computed in floating point lands a few ulps off the decimal it stands for: 2.0 → 2.1 ms
// is 5.000000000000004 %. Comparisons against a limit allow this relative slack, so that a limit
// exactly reached is reached, not passed.
constexpr double kLimitSlack = 1e-9;
// Values beyond a tail percentile, per side, below which its bootstrap interval is not trusted.
constexpr std::uint64_t kMinTailSamples = 10;
bool at_least(double pct, double limit) { return pct >= limit - kLimitSlack * std::max(1.0, std::fabs(limit)); }
bool beyond_limit(double pct, double limit) { return pct > limit + kLimitSlack * std::max(1.0, std::fabs(limit)); }

// "moderate" from the threshold (>=, as documented), "severe" from 50 %, "critical" from 100 %.
std::string severity_of(double regression_pct, double threshold) {
  if (at_least(regression_pct, 100)) return "critical";
  if (at_least(regression_pct, 50)) return "severe";
  if (at_least(regression_pct, threshold)) return "moderate";
  return "none";
}

// Whether `name` is the twin of a metric with the same values on both sides (MetricDef::same_as):
// then that metric carries the verdict and this one is left out.
bool same_as_twin(const MetricDef& def, const Result& base, const Result& cur, double b, double c) {
  if (def.same_as.empty()) return false;
  const auto tb = base.metric_value(std::string(def.same_as));
  const auto tc = cur.metric_value(std::string(def.same_as));
  return tb && tc && *tb == b && *tc == c;
}

// NaN on either side: a missing measurement is neither within nor beyond any threshold.
void judge_not_comparable(MetricComparison& m) {
  m.comparable = false;
  m.change_pct = m.regression_pct = NAN;
  const bool both = std::isnan(m.baseline) && std::isnan(m.current);
  m.verdict = both ? Verdict::kPass : Verdict::kWarn;
  m.reason = both ? "not comparable: measured on neither side"
                  : fmt::format("not comparable: the {} value is not a number", std::isnan(m.baseline) ? "baseline" : "current");
}

// A zero baseline and a non-zero current value: a relative change is undefined, so the absolute
// change decides against the registry's zero_baseline_limit (errors 0 → 1 warns).
void judge_from_zero(MetricComparison& m, const MetricDef& def) {
  m.change_pct = m.regression_pct = NAN;
  const double worse_by = def.direction == Direction::kLowerIsBetter ? m.current : -m.current;
  const double limit = def.zero_baseline_limit;
  if (worse_by < 0) {
    m.reason = fmt::format("better: from 0 to {:.4g}", m.current);
  } else if (limit > 0 && !beyond_limit(worse_by, limit)) {
    m.reason = fmt::format("from 0 to {:.4g}: within the absolute limit {:.4g} for a zero baseline", m.current, limit);
  } else {
    m.beyond_threshold = true;
    m.verdict = limit > 0 ? Verdict::kBlock : Verdict::kWarn;
    m.severity = limit > 0 ? "moderate" : "none";
    m.reason = limit > 0 ? fmt::format("from 0 to {:.4g}: beyond the absolute limit {:.4g} for a zero baseline", m.current, limit)
                         : fmt::format("from 0 to {:.4g} (absolute; a relative change from zero is undefined)", m.current);
  }
}

// Each recorded value as its bucket's midpoint, in increasing order.
std::vector<std::int64_t> histogram_values(const Histogram& h) {
  std::vector<std::int64_t> v;
  v.reserve(h.count());
  for (const auto& b : h.nonempty_buckets()) v.insert(v.end(), b.count, h.median_equivalent(b.low));
  return v;
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

  // The latency values the tests use: the exact samples when both sides kept them, else the
  // lossless histogram's bucket midpoints on both sides (3 significant digits; values in one
  // bucket tie, which the rank test's tie correction and the bootstrap handle).
  const auto* bs = base.latency ? &base.latency->samples_ns : nullptr;
  const auto* cs = cur.latency ? &cur.latency->samples_ns : nullptr;
  std::vector<std::int64_t> base_values, cur_values;
  if (bs && cs && bs->size() >= 2 && cs->size() >= 2) {
    c.samples_source = "exact samples";
  } else if (base.latency && cur.latency && base.latency->histogram.count() >= 2 &&
             cur.latency->histogram.count() >= 2) {
    base_values = histogram_values(base.latency->histogram);
    cur_values = histogram_values(cur.latency->histogram);
    bs = &base_values;
    cs = &cur_values;
    c.samples_source = fmt::format("histogram ({} significant digits)", base.latency->histogram.significant_digits());
    c.notes.push_back("no raw samples on both sides: the tests use the latency histograms' bucket midpoints");
  }
  c.samples_used = !c.samples_source.empty();
  if (c.samples_used) {
    // The smallest two-sided p-value a rank test can give is 2 / C(n_x + n_y, n_x): with 2 or 3
    // values per side it stays above any usual alpha, so no difference can be significant.
    const double nx = static_cast<double>(bs->size()), ny = static_cast<double>(cs->size());
    const double log_choose = std::lgamma(nx + ny + 1) - std::lgamma(nx + 1) - std::lgamma(ny + 1);
    const double min_p = std::min(1.0, 2.0 * std::exp(-log_choose));
    if (min_p > o.alpha)
      c.notes.push_back(fmt::format("only {} vs {} latency values: no test can reach significance at {:g} with so few "
                                    "(the smallest possible p is {:.2g}); regressions beyond a threshold WARN",
                                    bs->size(), cs->size(), o.alpha, min_p));
    c.mann_whitney = mann_whitney_u(*bs, *cs);
    BootstrapOptions bo;
    bo.seed = o.seed;
    bo.resamples = o.resamples;
    bo.percentiles = {50.0, 99.0};
    c.bootstrap = bootstrap_percentile_differences(*bs, *cs, bo);
  } else {
    c.notes.push_back("no raw latency samples or histograms on both sides: thresholds only, no significance test");
  }

  // One place that records a metric's verdict: the registry's gate caps it, then it counts.
  const auto record = [&c](MetricComparison&& done) {
    if (done.gate == Gate::kInformOnly && done.verdict == Verdict::kBlock) {
      // Spread, extremes and the client's own cost inform; they never block (MetricDef::gate).
      done.verdict = Verdict::kWarn;
      done.reason += "; informs only (a spread, an extreme or the client's own cost never blocks)";
    }
    if (done.verdict > c.verdict) c.verdict = done.verdict;
    c.metrics.push_back(std::move(done));
  };
  for (const auto& bm : base.metrics) {
    const auto cv = cur.metric_value(bm.name);
    const MetricDef* def = find_metric(bm.name);
    if (!cv || !def || def->direction == Direction::kNeutral) continue;
    if (same_as_twin(*def, base, cur, bm.value, *cv)) {
      c.notes.push_back(fmt::format("{} holds the same values as {}: one verdict, under {}", bm.name, def->same_as,
                                    def->same_as));
      continue;
    }
    MetricComparison m;
    m.name = bm.name;
    m.unit = std::string(def->unit);
    m.direction = def->direction;
    m.gate = def->gate;
    m.baseline = bm.value;
    m.current = *cv;
    m.threshold_pct = threshold_for(bm.name, o);
    if (std::isnan(m.baseline) || std::isnan(m.current)) {
      judge_not_comparable(m);
      record(std::move(m));
      continue;
    }
    if (m.baseline == 0 && m.current != 0) {
      judge_from_zero(m, *def);
      record(std::move(m));
      continue;
    }
    m.change_pct = m.baseline == 0 ? 0.0 : (m.current - m.baseline) / std::fabs(m.baseline) * 100.0;
    m.regression_pct = def->direction == Direction::kLowerIsBetter ? m.change_pct : -m.change_pct;
    m.severity = severity_of(m.regression_pct, m.threshold_pct);
    const bool beyond = beyond_limit(m.regression_pct, m.threshold_pct);  // exactly reached is not a regression
    m.beyond_threshold = beyond;

    const Test test = c.samples_used ? test_for(bm.name) : Test::kNone;
    m.tested = test != Test::kNone;
    const bool practically = std::fabs(m.change_pct) >= o.min_effect_pct;
    std::string evidence;
    if (test == Test::kMannWhitney) {
      // A significant rank test counts only when it points the bad way: the current latencies
      // tend to be larger (U is the baseline's: P(baseline > current) < ½). A run that is faster
      // in most pairs but has a slower mean (a new tail) is not a shift of the typical latency.
      m.p_value = c.mann_whitney->p_value;
      const bool slower = c.mann_whitney->probability_of_superiority < 0.5;
      m.significant = *m.p_value < o.alpha && practically && m.regression_pct > 0 && slower;
      evidence = fmt::format("Mann-Whitney p = {:.2g}, P(current slower) = {:.2f}", *m.p_value,
                             1.0 - c.mann_whitney->probability_of_superiority);
    } else if (test == Test::kBootstrapP99) {
      for (const auto& d : c.bootstrap->differences)
        if (d.p == 99.0) m.ci = d;
      // Too few values beyond p99 and the resamples only reshuffle the same few extremes: the
      // interval is not trusted below kMinTailSamples on the smaller side.
      const bool enough_tail = m.ci && m.ci->tail_samples >= kMinTailSamples;
      m.significant = enough_tail && m.ci->low > 0.0 && practically && m.regression_pct > 0;
      if (!m.ci) evidence = "no bootstrap CI";
      else if (!enough_tail)
        evidence = fmt::format("only {} values beyond p99 on the smaller side (< {}): p99 not tested", m.ci->tail_samples,
                               kMinTailSamples);
      else
        evidence = fmt::format("bootstrap {:.0f} % CI of the p99 difference [{:.3g}, {:.3g}] ns",
                               c.bootstrap->confidence * 100, m.ci->low, m.ci->high);
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
    record(std::move(m));
  }
  if (c.metrics.empty()) c.notes.push_back("no metric with a direction is present on both sides");
  return c;
}

std::string change_text(const MetricComparison& m, int decimals) {
  if (std::isnan(m.change_pct)) return "n/a";
  return fmt::format("{:+.{}f}", m.change_pct, decimals);
}

std::string render_comparison_table(const Comparison& c) {
  std::string out = fmt::format("baseline {}\ncurrent  {}\n", c.baseline_run, c.current_run);
  for (const auto& n : c.notes) out += "note: " + n + "\n";
  if (c.mann_whitney)
    out += fmt::format("latency {}: {} vs {}, Mann-Whitney U p = {:.3g} ({}), bootstrap {} resamples, seed {}\n",
                       c.samples_source, c.mann_whitney->n_x, c.mann_whitney->n_y, c.mann_whitney->p_value,
                       c.mann_whitney->method == MannWhitneyMethod::kExact ? "exact" : "asymptotic",
                       c.bootstrap->resamples, c.bootstrap->seed);
  out += fmt::format("\n{:<26} {:>12} {:>12} {:>9} {:>7}  {:<9} {:<6} {:<6} {}\n", "metric", "baseline", "current",
                     "change", "limit", "severity", "conf", "verdict", "why");
  for (const auto& m : c.metrics)
    out += fmt::format("{:<26} {:>12.4g} {:>12.4g} {:>8}% {:>6.0f}%  {:<9} {:<6} {:<6} {}\n", m.name, m.baseline,
                       m.current, change_text(m, 1), m.threshold_pct, m.severity, m.confidence, to_string(m.verdict), m.reason);
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
           {"threshold_pct", m.threshold_pct},    {"gate", to_string(m.gate)},
           {"comparable", m.comparable},          {"severity", m.severity},
           {"tested", m.tested},        {"p_value", m.p_value ? Json(*m.p_value) : Json(nullptr)},
           {"significant", m.significant},        {"confidence", m.confidence},
           {"verdict", to_string(m.verdict)},     {"reason", m.reason}};
    if (m.ci) j["ci"] = {{"percentile", m.ci->p}, {"difference", m.ci->difference}, {"low", m.ci->low}, {"high", m.ci->high}};
    metrics.push_back(j);
  }
  Json j{{"baseline_run", c.baseline_run}, {"current_run", c.current_run}, {"same_hardware", c.same_hardware},
         {"samples_used", c.samples_used}, {"samples_source", c.samples_source}, {"verdict", to_string(c.verdict)}, {"notes", c.notes}, {"metrics", metrics}};
  if (c.mann_whitney)
    j["mann_whitney"] = {{"u", c.mann_whitney->u}, {"p_value", c.mann_whitney->p_value}, {"n_baseline", c.mann_whitney->n_x},
                         {"n_current", c.mann_whitney->n_y}};
  if (c.bootstrap) j["bootstrap"] = {{"resamples", c.bootstrap->resamples}, {"seed", c.bootstrap->seed}, {"confidence", c.bootstrap->confidence}};
  return j.dump(2) + "\n";
}

}  // namespace trackiq::analysis
