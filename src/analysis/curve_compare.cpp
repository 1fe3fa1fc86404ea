// Curve regression (CMP-5): two sweeps compared point by point, then read along the load axis for
// windows of sustained degradation.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/analysis/compare.hpp"
#include "trackiq/analysis/compare_stats.hpp"

namespace trackiq::analysis {
namespace {

// "concurrency=4" → {"concurrency", 4}; nullopt when the label is not NAME=NUMBER.
struct AxisPoint {
  std::string axis;
  double value = 0;
};
std::optional<AxisPoint> parse_point(const std::string& label) {
  const auto eq = label.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == label.size()) return std::nullopt;
  const std::string number = label.substr(eq + 1);
  char* end = nullptr;
  const double v = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(v)) return std::nullopt;
  return AxisPoint{label.substr(0, eq), v};
}

// The upper tail of a chi-square law with 2k degrees of freedom at x: for even degrees of freedom
// it has the closed form e^{-x/2} Σ_{j<k} (x/2)^j / j!, summed in log space for large x.
double chi_square_even_sf(double x, std::size_t k) {
  if (x <= 0) return 1.0;
  const double h = x / 2;
  double term = 1.0, sum = 1.0;
  for (std::size_t j = 1; j < k; ++j) {
    term *= h / static_cast<double>(j);
    sum += term;
  }
  return std::min(1.0, std::exp(-h + std::log(sum)));
}

// Fisher's method over one-sided p-values: X = −2 Σ ln p_i is chi-square with 2k degrees of
// freedom under the null when the p_i are independent (different runs at each point).
double fisher_combined(const std::vector<double>& one_sided) {
  double x = 0;
  for (double p : one_sided) x += -2.0 * std::log(std::max(p, 1e-300));
  return chi_square_even_sf(x, one_sided.size());
}

std::string axis_text(const CurveComparison& c, double v) {
  return c.axis == "point" ? fmt::format("#{}", static_cast<std::size_t>(v) + 1) : fmt::format("{}={:g}", c.axis, v);
}

}  // namespace

CurveComparison compare_curves(const std::vector<Comparison>& points, const std::vector<std::string>& labels,
                               const CompareOptions& o) {
  if (points.size() != labels.size())
    throw std::invalid_argument("compare_curves: one label per comparison");
  CurveComparison c;
  c.fdr_level = o.alpha;
  c.order.resize(points.size());
  std::iota(c.order.begin(), c.order.end(), std::size_t{0});
  std::vector<double> axis_values(points.size());
  std::vector<std::optional<AxisPoint>> parsed;
  for (const auto& l : labels) parsed.push_back(parse_point(l));
  const bool numeric = !parsed.empty() && std::all_of(parsed.begin(), parsed.end(), [&](const auto& p) {
    return p && p->axis == parsed.front()->axis;
  });
  if (numeric) {
    c.axis = parsed.front()->axis;
    std::stable_sort(c.order.begin(), c.order.end(),
                     [&](std::size_t a, std::size_t b) { return parsed[a]->value < parsed[b]->value; });
    for (std::size_t i = 0; i < points.size(); ++i) axis_values[i] = parsed[c.order[i]]->value;
  } else {
    c.axis = "point";
    for (std::size_t i = 0; i < points.size(); ++i) axis_values[i] = static_cast<double>(i);
    if (points.size() > 1)
      c.notes.push_back("the sweep points are not NAME=NUMBER of one axis: read in their given order");
  }
  for (std::size_t i : c.order) c.points.push_back(labels[i]);
  const std::size_t window = std::max<std::size_t>(2, o.curve_window);
  if (points.size() < window) {
    c.notes.push_back(fmt::format("{} sweep point(s): a sustained degradation needs at least {} adjacent points",
                                  points.size(), window));
    return c;
  }

  // The metrics every point compared, in the first point's order.
  std::vector<std::string> names;
  for (const auto& m : points[c.order.front()].metrics) {
    const bool everywhere = std::all_of(points.begin(), points.end(), [&](const Comparison& pc) {
      return std::any_of(pc.metrics.begin(), pc.metrics.end(), [&](const MetricComparison& x) { return x.name == m.name; });
    });
    if (everywhere) names.push_back(m.name);
  }
  auto metric_at = [&](std::size_t pos, const std::string& name) -> const MetricComparison& {
    const auto& ms = points[c.order[pos]].metrics;
    return *std::find_if(ms.begin(), ms.end(), [&](const MetricComparison& x) { return x.name == name; });
  };

  // Maximal runs of adjacent points where the metric is worse than its threshold.
  std::vector<double> ps;
  std::vector<std::size_t> tested_findings;
  for (const auto& name : names) {
    std::size_t pos = 0;
    while (pos < points.size()) {
      if (!metric_at(pos, name).comparable || !metric_at(pos, name).beyond_threshold) {
        ++pos;
        continue;
      }
      std::size_t end = pos;
      while (end + 1 < points.size() && metric_at(end + 1, name).comparable && metric_at(end + 1, name).beyond_threshold)
        ++end;
      if (end - pos + 1 >= window) {
        CurveFinding f;
        const MetricComparison& first = metric_at(pos, name);
        f.metric = name;
        f.unit = first.unit;
        f.first = pos;
        f.last = end;
        f.from = axis_values[pos];
        f.to = axis_values[end];
        f.points_unit = first.points;
        f.min_regression = f.max_regression = first.regression_pct;
        f.tested = true;
        std::vector<double> one_sided;
        bool can_block = true;
        for (std::size_t k = pos; k <= end; ++k) {
          const MetricComparison& m = metric_at(k, name);
          f.min_regression = std::min(f.min_regression, m.regression_pct);
          f.max_regression = std::max(f.max_regression, m.regression_pct);
          can_block = can_block && m.gate == Gate::kCanBlock;
          if (!m.tested || !m.p_value) {
            f.tested = false;
            continue;
          }
          // The point's test is two-sided. Every test runs on per-request times (a throughput is
          // judged through its mean latency), whose bad side is a positive difference: the
          // one-sided p is half the two-sided one when the interval's centre lies there, else
          // its complement.
          const bool bad_way = !m.ci_low || !m.ci_high || *m.ci_low + *m.ci_high >= 0;
          one_sided.push_back(bad_way ? *m.p_value / 2 : 1.0 - *m.p_value / 2);
        }
        f.severity = regression_severity(f.min_regression, first.threshold_pct);
        if (f.tested) {
          f.p_value = fisher_combined(one_sided);
          ps.push_back(*f.p_value);
          tested_findings.push_back(c.findings.size());
        }
        f.verdict = can_block ? Verdict::kBlock : Verdict::kWarn;  // settled below once q is known
        c.findings.push_back(std::move(f));
      }
      pos = end + 1;
    }
  }

  // Benjamini–Hochberg over every window that had tests to combine.
  c.tests = ps.size();
  const std::vector<double> q = benjamini_hochberg(ps);
  for (std::size_t i = 0; i < tested_findings.size(); ++i) c.findings[tested_findings[i]].q_value = q[i];
  for (auto& f : c.findings) {
    const std::size_t n = f.last - f.first + 1;
    const std::string span = fmt::format("from {} to {} ({} points)", axis_text(c, f.from), axis_text(c, f.to), n);
    const std::string unit = f.points_unit ? " percentage points" : " %";
    const std::string by = std::fabs(f.max_regression - f.min_regression) < 0.05
                               ? fmt::format("{:.1f}{}", f.min_regression, unit)
                               : fmt::format("{:.1f}–{:.1f}{}", f.min_regression, f.max_regression, unit);
    if (!f.tested) {
      f.verdict = Verdict::kWarn;
      f.reason = fmt::format("{} worse by {} {}; threshold only (not every point had a test to combine)", f.metric, by,
                             span);
      continue;
    }
    f.significant = *f.q_value <= o.alpha;
    if (f.significant && *f.q_value < o.alpha / 5 && n >= 3) f.confidence = "high";
    else if (f.significant) f.confidence = "medium";
    const std::string evidence = fmt::format("Fisher's combination of the points' tests p = {:.2g}, q = {:.2g}",
                                             *f.p_value, *f.q_value);
    if (!f.significant) {
      f.verdict = Verdict::kWarn;
      f.reason = fmt::format("{} worse by {} {}, but not significant ({})", f.metric, by, span, evidence);
    } else if (f.verdict == Verdict::kBlock) {
      f.reason = fmt::format("{} worse by {} {}: sustained ({})", f.metric, by, span, evidence);
    } else {
      f.reason = fmt::format("{} worse by {} {}: sustained ({}); informs only", f.metric, by, span, evidence);
    }
  }
  for (const auto& f : c.findings) c.verdict = std::max(c.verdict, f.verdict);
  std::stable_sort(c.findings.begin(), c.findings.end(), [](const CurveFinding& a, const CurveFinding& b) {
    if (a.verdict != b.verdict) return a.verdict > b.verdict;
    return a.max_regression > b.max_regression;
  });
  return c;
}

std::string render_curve_comparison(const CurveComparison& c) {
  std::string out = fmt::format("== curves along {} ({})\n", c.axis, fmt::join(c.points, ", "));
  for (const auto& n : c.notes) out += "note: " + n + "\n";
  if (c.findings.empty()) {
    out += "no sustained degradation: no metric is worse than its threshold at adjacent points\n";
    return out;
  }
  out += fmt::format("{} window(s) of sustained degradation; {} tested, held to a false-discovery rate of {:g} % "
                     "(Benjamini-Hochberg)\n",
                     c.findings.size(), c.tests, c.fdr_level * 100);
  for (const auto& f : c.findings)
    out += fmt::format("{:<5} {:<9} {:<7} {}\n", to_string(f.verdict), f.severity, f.confidence, f.reason);
  return out;
}

std::string curve_comparison_json(const CurveComparison& c) {
  using Json = nlohmann::ordered_json;
  auto opt = [](const std::optional<double>& v) { return v && std::isfinite(*v) ? Json(*v) : Json(nullptr); };
  Json findings = Json::array();
  for (const auto& f : c.findings)
    findings.push_back(Json{{"metric", f.metric},
                            {"unit", f.unit},
                            {"from", f.from},
                            {"to", f.to},
                            {"from_point", c.points[f.first]},
                            {"to_point", c.points[f.last]},
                            {"points", f.last - f.first + 1},
                            {"min_regression", f.min_regression},
                            {"max_regression", f.max_regression},
                            {"change_unit", f.points_unit ? "percentage points" : "percent"},
                            {"tested", f.tested},
                            {"test", f.tested ? "Fisher's combination of the points' one-sided p-values" : ""},
                            {"p_value", opt(f.p_value)},
                            {"q_value", opt(f.q_value)},
                            {"significant", f.significant},
                            {"severity", f.severity},
                            {"confidence", f.confidence},
                            {"verdict", to_string(f.verdict)},
                            {"reason", f.reason}});
  Json j{{"axis", c.axis}, {"points", c.points},       {"tests", c.tests}, {"fdr_level", c.fdr_level},
         {"verdict", to_string(c.verdict)}, {"findings", findings}, {"notes", c.notes}};
  return j.dump(2);
}

}  // namespace trackiq::analysis
