// Change points over many stored series: Benjamini–Hochberg across series, and the incremental
// detection of an appended series (include/trackiq/analysis/history.hpp).
#include "trackiq/analysis/history.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/analysis/compare_stats.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::analysis {
namespace {

constexpr int kStateVersion = 1;

Confidence confidence_of(std::string_view name) {
  if (name == "high") return Confidence::kHigh;
  if (name == "medium") return Confidence::kMedium;
  return Confidence::kLow;
}

// Means, segment bounds and magnitudes of `cps` (by index) over the whole series.
void fill_segments(std::span<const double> v, std::vector<ChangePoint>& cps) {
  std::vector<std::size_t> bounds{0};
  for (const auto& cp : cps) bounds.push_back(cp.index);
  bounds.push_back(v.size());
  std::vector<double> means(bounds.size() - 1);
  for (std::size_t s = 0; s + 1 < bounds.size(); ++s) {
    double sum = 0;
    for (std::size_t i = bounds[s]; i < bounds[s + 1]; ++i) sum += v[i];
    means[s] = bounds[s + 1] > bounds[s] ? sum / static_cast<double>(bounds[s + 1] - bounds[s]) : 0.0;
  }
  for (std::size_t j = 0; j < cps.size(); ++j) {
    auto& cp = cps[j];
    cp.before_begin = bounds[j];
    cp.after_end = bounds[j + 2];
    cp.before = means[j];
    cp.after = means[j + 1];
    cp.magnitude_pct = cp.before == 0 ? std::numeric_limits<double>::quiet_NaN()
                                      : 100.0 * (cp.after - cp.before) / std::fabs(cp.before);
  }
}

bool same_options(const SeriesState& s, const ChangePointOptions& o) {
  return s.alpha == o.alpha && s.min_segment == o.min_segment && s.min_relative_change == o.min_relative_change;
}

}  // namespace

BhResult fdr_threshold(std::span<const double> p_values, double q) {
  if (!(q > 0 && q < 1)) throw InputError(fmt::format("false discovery rate {}: must be in (0, 1)", q));
  BhResult r;
  r.tests = p_values.size();
  const auto qv = benjamini_hochberg(p_values);
  double largest = 0;  // the largest discovered p-value: <= k·q/m but for rounding
  for (std::size_t i = 0; i < qv.size(); ++i)
    if (qv[i] <= q) {
      ++r.discoveries;
      largest = std::max(largest, p_values[i]);
    }
  if (r.discoveries) r.threshold = std::max(largest, static_cast<double>(r.discoveries) * q / static_cast<double>(r.tests));
  return r;
}

std::string state_to_json(const SeriesState& s) {
  nlohmann::json cps = nlohmann::json::array();
  for (const auto& cp : s.change_points) cps.push_back({cp.index, cp.p_value, confidence_name(cp.confidence)});
  return nlohmann::json{{"v", kStateVersion},
                        {"count", s.count},
                        {"full_count", s.full_count},
                        {"alpha", s.alpha},
                        {"min_segment", s.min_segment},
                        {"min_relative_change", s.min_relative_change},
                        {"cps", cps}}
      .dump();
}

std::optional<SeriesState> state_from_json(std::string_view text) noexcept {
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.at("v").get<int>() != kStateVersion) return std::nullopt;
    SeriesState s;
    s.count = j.at("count").get<std::size_t>();
    s.full_count = j.at("full_count").get<std::size_t>();
    s.alpha = j.at("alpha").get<double>();
    s.min_segment = j.at("min_segment").get<std::size_t>();
    s.min_relative_change = j.at("min_relative_change").get<double>();
    std::size_t last = 0;
    for (const auto& c : j.at("cps")) {
      ChangePoint cp;
      cp.index = c.at(0).get<std::size_t>();
      cp.p_value = c.at(1).get<double>();
      cp.confidence = confidence_of(c.at(2).get<std::string>());
      if (cp.index <= last || cp.index >= s.count) return std::nullopt;
      last = cp.index;
      s.change_points.push_back(cp);
    }
    return s;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

AppendedResult detect_appended(std::span<const double> values, const SeriesState* previous,
                               const ChangePointOptions& options, std::size_t window) {
  const std::size_t n = values.size();
  AppendedResult out;
  out.state.count = n;
  out.state.alpha = options.alpha;
  out.state.min_segment = options.min_segment;
  out.state.min_relative_change = options.min_relative_change;
  const bool usable = previous && previous->count > 0 && previous->count <= n && same_options(*previous, options) &&
                      n < 2 * std::max<std::size_t>(previous->full_count, 1);
  if (!usable) {
    out.result = detect_change_points(values, options);
    out.state.full_count = n;
    out.state.change_points = out.result.change_points;
    return out;
  }
  for (const double x : values)
    if (!std::isfinite(x)) throw InputError("detect_appended: a value is not a finite number");
  out.full = false;
  out.state.full_count = previous->full_count;
  std::vector<ChangePoint> cps;
  std::size_t start = n;
  if (previous->count == n) {
    cps = previous->change_points;
  } else {
    // The tail starts at a segment boundary, so no kept change point loses the points that made
    // it: the second-to-last change point (the last one is re-tested), else the last one, when
    // the tail then holds at most `window` points; else the last `window` points, all kept.
    const auto& old = previous->change_points;
    const std::size_t k = old.size();
    const std::size_t second_last = k >= 2 ? old[k - 2].index : 0;
    if (n - second_last <= window) start = second_last;
    else if (k >= 1 && n - old[k - 1].index <= window) start = old[k - 1].index;
    else start = n - window;
    for (const auto& cp : old)
      if (cp.index <= start) cps.push_back(cp);
    const auto tail = detect_change_points(values.subspan(start), options);
    out.result.candidates = tail.candidates;
    out.result.autocorrelation = tail.autocorrelation;
    for (auto cp : tail.change_points) {
      cp.index += start;
      cps.push_back(cp);
    }
  }
  fill_segments(values, cps);
  out.tested_from = start;
  out.result.n = n;
  out.result.change_points = cps;
  out.state.change_points = std::move(cps);
  return out;
}

}  // namespace trackiq::analysis
