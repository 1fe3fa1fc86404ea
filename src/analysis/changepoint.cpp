#include "trackiq/analysis/changepoint.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include <fmt/format.h>

#include "trackiq/analysis/compare_stats.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::analysis {
namespace {

constexpr double kMadToSigma = 1.482602218505602;  // 1 / Φ⁻¹(3/4): MAD → σ for normal data
constexpr double kMaxAutocorrelation = 0.99;

// Two-sided normal tail P(|Z| >= |z|).
double normal_two_sided_p(double z) { return std::erfc(std::fabs(z) / std::sqrt(2.0)); }

// Admissible splits of a stretch of `length` points: both sides >= m.
std::size_t admissible_splits(std::size_t length, std::size_t m) { return length >= 2 * m ? length - 2 * m + 1 : 0; }

// ---------------------------------------------------------------------------------------------
// Pass 1: seeded binary segmentation with a rank-sum scan
// ---------------------------------------------------------------------------------------------

// One level of the seeded intervals (Kovács et al. 2023, Definition 1, decay 1/2): at level k
// there are 2^(k+1) − 1 intervals of length l_k = n / 2^k, the i-th starting at ⌊i·s⌋ and
// ending at ⌈i·s + l_k⌉ with s = (n − l_k) / (2^(k+1) − 2), so each overlaps the next by half.
// Level 0 is the whole series; the last level is the shortest whose intervals can hold a split
// (l_k >= 2m).
struct Level {
  std::size_t count = 1;
  double length = 0, shift = 0;
  std::size_t n = 0;
  std::size_t begin(std::size_t i) const { return static_cast<std::size_t>(std::floor(static_cast<double>(i) * shift)); }
  std::size_t end(std::size_t i) const {
    return std::min(n, static_cast<std::size_t>(std::ceil(static_cast<double>(i) * shift + length)));
  }
};

std::vector<Level> seeded_levels(std::size_t n, std::size_t m) {
  std::vector<Level> out{{1, static_cast<double>(n), 0, n}};
  for (int k = 1;; ++k) {
    const double length = std::ldexp(static_cast<double>(n), -k);
    if (length < static_cast<double>(2 * m)) break;
    const std::size_t count = (std::size_t{1} << (k + 1)) - 1;
    out.push_back({count, length, (static_cast<double>(n) - length) / static_cast<double>(count - 1), n});
  }
  return out;
}

struct Candidate {
  double p = 1;  // Bonferroni-adjusted over the interval's admissible splits (uncapped)
  double z = 0;
  std::size_t index = 0, begin = 0, end = 0;
};

// The series in ascending order of value (ties by position): pass 1 ranks it, pass 2 takes each
// segment's sorted values from it.
struct Ordered {
  double value;
  std::size_t position;
};

std::vector<Ordered> ascending(std::span<const double> x) {
  std::vector<Ordered> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = {x[i], i};
  std::sort(out.begin(), out.end(),
            [](const Ordered& a, const Ordered& b) { return a.value < b.value || (a.value == b.value && a.position < b.position); });
  return out;
}

// Pass 1. The series is rank-transformed once (mid-ranks over the whole series: a monotone map,
// so a shift stays a shift, no value weighs more than any other, and with no change the ranks
// are exchangeable whatever the noise's distribution). In every seeded interval, the
// admissible split with the largest standardised difference of mean ranks,
//   z = (mean right − mean left) / sqrt(s² (1/t + 1/(L − t))),  s² the interval's rank variance,
// is kept when 2 Φ(−|z|) times the interval's admissible splits is <= alpha. The scan of an
// interval is O(L) from prefix sums of the ranks.
std::vector<std::size_t> candidates(std::span<const Ordered> keyed, const ChangePointOptions& o) {
  const std::size_t n = keyed.size(), m = o.min_segment;
  // Prefix sums of the centred mid-ranks and of their squares.
  std::vector<double> centred(n);
  const double centre = 0.5 * static_cast<double>(n + 1);
  for (std::size_t a = 0; a < n;) {
    std::size_t b = a + 1;
    while (b < n && keyed[b].value == keyed[a].value) ++b;
    const double mid = 0.5 * static_cast<double>(a + 1 + b);  // mean of ranks a+1 … b
    for (std::size_t k = a; k < b; ++k) centred[keyed[k].position] = mid - centre;
    a = b;
  }
  std::vector<double> s1(n + 1, 0.0), s2(n + 1, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    s1[i + 1] = s1[i] + centred[i];
    s2[i + 1] = s2[i] + centred[i] * centred[i];
  }

  std::vector<Candidate> found;
  for (const auto& level : seeded_levels(n, m)) {
    for (std::size_t i = 0; i < level.count; ++i) {
      const std::size_t begin = level.begin(i), end = level.end(i), len = end - begin;
      if (len < 2 * m) continue;
      const double nd = static_cast<double>(len);
      const double total = s1[end] - s1[begin];
      const double variance = ((s2[end] - s2[begin]) - total * total / nd) / (nd - 1);
      if (!(variance > 0)) continue;  // every value of the interval equal
      // With P the rank sum of the first t points and T the interval's, mean right − mean left
      // = (tT − LP) / (t(L − t)), so z² = (tT − LP)² / (t(L − t) · L · s²). Maximise
      // num² / den by cross-multiplying: no division or square root per split.
      double best_num2 = -1, best_den = 1;
      std::size_t at = 0;
      for (std::size_t t = m; t + m <= len; ++t) {
        const double left = static_cast<double>(t);
        const double num = left * total - nd * (s1[begin + t] - s1[begin]);
        const double num2 = num * num, den = left * (nd - left);
        if (num2 * best_den > best_num2 * den) best_num2 = num2, best_den = den, at = t;
      }
      const double z = std::sqrt(best_num2 / (best_den * nd * variance));
      const double p = normal_two_sided_p(z) * static_cast<double>(admissible_splits(len, m));
      if (p <= o.alpha) found.push_back({p, z, begin + at, begin, end});
    }
  }
  // Most significant first; ties (p underflows to 0 for |z| > 38) by z, then the narrower
  // interval, then position: a total order, so the result does not depend on the sort.
  std::sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) {
    if (a.p != b.p) return a.p < b.p;
    if (a.z != b.z) return a.z > b.z;
    if (a.end - a.begin != b.end - b.begin) return a.end - a.begin < b.end - b.begin;
    if (a.index != b.index) return a.index < b.index;
    return a.begin < b.begin;
  });
  std::vector<std::size_t> accepted;
  for (const auto& c : found) {
    const bool blocked = std::any_of(accepted.begin(), accepted.end(), [&](std::size_t a) {
      return (c.begin < a && a < c.end) || (c.index > a ? c.index - a : a - c.index) < m;
    });
    if (!blocked) accepted.push_back(c.index);
  }
  std::sort(accepted.begin(), accepted.end());
  return accepted;
}

// ---------------------------------------------------------------------------------------------
// Pass 2: confirmation against the neighbouring segments
// ---------------------------------------------------------------------------------------------

// Median and 1.4826 · MAD of values sorted ascending, in O(n): the MAD is the median of the
// distances to the median, read by walking outwards from the median on both sides.
struct Robust {
  double median = 0;
  double scale = 0;  // 1.4826 · MAD: σ for normal data
};

Robust robust_of_sorted(std::span<const double> v) {
  const std::size_t n = v.size();
  if (n == 0) return {};
  const auto middle = [](auto&& at, std::size_t count) {
    return count % 2 == 1 ? at(count / 2) : 0.5 * (at(count / 2 - 1) + at(count / 2));
  };
  Robust r;
  r.median = middle([&](std::size_t i) { return v[i]; }, n);
  // Distances: to the left v[l] (l = split − 1 down to 0) and to the right v[h] (h = split up),
  // each side ascending; the k-th smallest of the merged sequence, for k up to n/2.
  const std::size_t split = static_cast<std::size_t>(std::lower_bound(v.begin(), v.end(), r.median) - v.begin());
  std::size_t l = split, h = split;  // next candidates: v[l − 1] and v[h]
  const auto next = [&]() {
    const bool take_left = l > 0 && (h == n || r.median - v[l - 1] <= v[h] - r.median);
    return take_left ? r.median - v[--l] : v[h++] - r.median;
  };
  const std::size_t want = n / 2;  // 0-based index of the upper middle distance
  double previous = 0, current = 0;
  for (std::size_t k = 0; k <= want; ++k) previous = current, current = next();
  const double mad = n % 2 == 1 ? current : 0.5 * (previous + current);
  r.scale = kMadToSigma * mad;
  return r;
}

// The clip range median ± k · scale (k = 0 or a zero scale: no clipping).
struct Clip {
  double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
  Clip() = default;
  Clip(const Robust& r, double k) {
    if (k > 0 && r.scale > 0) lo = r.median - k * r.scale, hi = r.median + k * r.scale;
  }
  double operator()(double v) const { return std::clamp(v, lo, hi); }
};

// One segment [begin, end) of the current segmentation: its values sorted (for the rank test and
// the robust scale), its raw mean, and its winsorised values' mean and residual sums (for the
// t-test and the pooled lag-1 autocorrelation).
struct Segment {
  std::size_t begin = 0, end = 0;
  std::vector<double> sorted;
  double mean = 0;       // of the raw values
  double wmean = 0;      // of the winsorised values
  double resid_sq = 0;   // Σ e_i², e = winsorised value − wmean
  double resid_lag = 0;  // Σ e_i e_{i−1}
};

class Confirmer {
 public:
  Confirmer(std::span<const double> x, std::span<const Ordered> ascending, const ChangePointOptions& o)
      : x_(x), ascending_(ascending), o_(o) {}

  // Removes candidates until every one passes; returns the confirmed change points.
  std::vector<ChangePoint> run(const std::vector<std::size_t>& cps, double& rho_out) {
    segment_at(cps);
    prune(rho_out);
    // Ranks place a change within a point or two; least squares on the values places it
    // exactly when the shift is clear. Move each confirmed point to the best split within
    // ±min_segment, then confirm again at the new places.
    std::vector<std::size_t> placed, before;
    bool too_late = false;
    for (std::size_t j = 0; j < tests_.size(); ++j) {
      before.push_back(segments_[j + 1].begin);
      placed.push_back(relocate(j, placed.empty() ? 0 : placed.back(), too_late));
    }
    // The newest change's best split leaves fewer than min_segment points after it: reported
    // now, it would sit on an earlier split and name runs from before the change. It waits
    // for the points that let it be placed.
    if (too_late) placed.pop_back();
    if (placed != before) {
      segment_at(placed);
      prune(rho_out);
    }

    const double f = long_run_factor(rho_out);
    std::vector<ChangePoint> out;
    for (std::size_t j = 0; j < tests_.size(); ++j) {
      ChangePoint cp;
      cp.index = segments_[j + 1].begin;
      cp.before = segments_[j].mean;
      cp.after = segments_[j + 1].mean;
      cp.magnitude_pct = cp.before == 0 ? std::numeric_limits<double>::quiet_NaN()
                                        : 100.0 * (cp.after - cp.before) / std::fabs(cp.before);
      cp.p_value = std::min(1.0, score(j, f));
      cp.confidence = cp.p_value <= o_.alpha / 100 ? Confidence::kHigh
                      : cp.p_value <= o_.alpha / 10 ? Confidence::kMedium
                                                    : Confidence::kLow;
      cp.before_begin = segments_[j].begin;
      cp.after_end = segments_[j + 1].end;
      out.push_back(cp);
    }
    return out;
  }

 private:
  // The tests of change point j (between segments j and j + 1), before the long-run factor.
  struct Test {
    double t = 0, df = 1;
    int constant = -1;  // both sides constant: 1 if equal, 0 if different; -1 otherwise
    double p_rank = 1;
    double splits = 1;  // admissible splits of the pair
  };

  // Segments cut at `cps`, their sorted values read off the whole series' order in O(n).
  void segment_at(const std::vector<std::size_t>& cps) {
    std::vector<std::size_t> bounds{0};
    bounds.insert(bounds.end(), cps.begin(), cps.end());
    bounds.push_back(x_.size());
    std::vector<std::vector<double>> sorted(bounds.size() - 1);
    std::vector<std::uint32_t> segment_of(x_.size());
    for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
      sorted[i].reserve(bounds[i + 1] - bounds[i]);
      std::fill(segment_of.begin() + static_cast<std::ptrdiff_t>(bounds[i]),
                segment_of.begin() + static_cast<std::ptrdiff_t>(bounds[i + 1]), static_cast<std::uint32_t>(i));
    }
    for (const auto& v : ascending_) sorted[segment_of[v.position]].push_back(v.value);
    segments_.clear();
    for (std::size_t i = 0; i + 1 < bounds.size(); ++i)
      segments_.push_back(make_segment(bounds[i], bounds[i + 1], std::move(sorted[i])));
    tests_.assign(cps.size(), Test{});
    for (std::size_t j = 0; j < cps.size(); ++j) test(j);
  }

  Segment make_segment(std::size_t begin, std::size_t end, std::vector<double> sorted) {
    Segment s{begin, end, std::move(sorted)};
    const auto raw = x_.subspan(begin, end - begin);
    const double len = static_cast<double>(raw.size());
    s.mean = std::accumulate(raw.begin(), raw.end(), 0.0) / len;
    // Winsorised at the segment's median ± winsor_mads robust σ (3 values at least).
    const Clip clip = raw.size() >= 3 ? Clip(robust_of_sorted(s.sorted), o_.winsor_mads) : Clip();
    double sum = 0;
    for (const double v : raw) sum += clip(v);
    s.wmean = sum / len;
    double previous = 0;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const double e = clip(raw[i]) - s.wmean;
      s.resid_sq += e * e;
      if (i > 0) s.resid_lag += e * previous;
      previous = e;
    }
    return s;
  }

  void test(std::size_t j) {
    const Segment& l = segments_[j];
    const Segment& r = segments_[j + 1];
    Test t;
    // Student's pooled two-sample t on the winsorised values (as Otava's test; Welch's would
    // let a short, quiet segment next to a noisy one look significant).
    const double n1 = static_cast<double>(l.end - l.begin), n2 = static_cast<double>(r.end - r.begin);
    const double se = std::sqrt((l.resid_sq + r.resid_sq) / (n1 + n2 - 2) * (1 / n1 + 1 / n2));
    if (se > 0) {
      t.t = (r.wmean - l.wmean) / se;
      t.df = n1 + n2 - 2;
    } else {
      t.constant = l.wmean == r.wmean ? 1 : 0;
    }
    t.p_rank = mann_whitney_u_sorted(l.sorted, r.sorted).p_value;
    t.splits = static_cast<double>(admissible_splits(r.end - l.begin, o_.min_segment));
    tests_[j] = t;
  }

  // Removes the weakest change point while one fails: p > alpha first, then (with a floor) the
  // smallest relative change below min_relative_change; neighbours are re-tested after each.
  // While some change point fails even by the normal approximation of its t-test (a lower
  // bound of the Student p-value: t's tails are heavier), the weakest by that approximation
  // goes, which saves the exact Student p-value of every point on every round when pass 1
  // proposed hundreds (a random walk); the exact p-values decide the rest.
  void prune(double& rho_out) {
    for (;;) {
      const double f = long_run_factor(rho_out);
      std::size_t worst = tests_.size();
      double worst_score = o_.alpha;
      for (std::size_t j = 0; j < tests_.size(); ++j) {
        const double s = score(j, f, false);
        if (s > worst_score) worst_score = s, worst = j;
      }
      if (worst == tests_.size()) {
        for (std::size_t j = 0; j < tests_.size(); ++j) {
          const double s = score(j, f);
          if (s > worst_score) worst_score = s, worst = j;
        }
      }
      if (worst == tests_.size() && o_.min_relative_change > 0) {
        double smallest = o_.min_relative_change;
        for (std::size_t j = 0; j < tests_.size(); ++j) {
          const double before = segments_[j].mean, after = segments_[j + 1].mean;
          if (before == 0) continue;
          const double rel = std::fabs(after / before - 1);
          if (rel < smallest) smallest = rel, worst = j;
        }
      }
      if (worst == tests_.size()) return;
      remove(worst);
    }
  }

  void remove(std::size_t j) {
    std::vector<double> merged(segments_[j].sorted.size() + segments_[j + 1].sorted.size());
    std::merge(segments_[j].sorted.begin(), segments_[j].sorted.end(), segments_[j + 1].sorted.begin(),
               segments_[j + 1].sorted.end(), merged.begin());
    segments_[j] = make_segment(segments_[j].begin, segments_[j + 1].end, std::move(merged));
    segments_.erase(segments_.begin() + static_cast<std::ptrdiff_t>(j) + 1);
    tests_.erase(tests_.begin() + static_cast<std::ptrdiff_t>(j));
    if (j > 0) test(j - 1);
    if (j < tests_.size()) test(j);
  }

  // Change point j moved to the split of [begin, end) within ±min_segment of where it is (both
  // sides >= min_segment) with the least squared error around the two means; `begin` is where
  // the previous change point was placed, `end` the next one. The values are winsorised at the
  // pair's median ± winsor_mads robust σ, so a lone outlier next to the change cannot pull it.
  // Ties keep the earlier split. For the newest change point (its segment ends the series), the
  // splits up to 2 points before the end are scored too: when one of those beyond end −
  // min_segment is the best, the change cannot be placed yet and `too_late` is set.
  std::size_t relocate(std::size_t j, std::size_t begin, bool& too_late) {
    const std::size_t m = o_.min_segment, at = segments_[j + 1].begin, end = segments_[j + 1].end;
    const std::size_t lo = std::max(begin + m, at > m ? at - m : 0), hi = std::min(end - m, at + m);
    const bool newest = end == x_.size() && j + 1 == tests_.size();
    const std::size_t last = newest ? std::max(hi, std::min(end - 2, at + m)) : hi;
    if (lo >= last) return at;
    scratch_.resize(segments_[j].sorted.size() + segments_[j + 1].sorted.size());
    std::merge(segments_[j].sorted.begin(), segments_[j].sorted.end(), segments_[j + 1].sorted.begin(),
               segments_[j + 1].sorted.end(), scratch_.begin());
    const Clip clip(robust_of_sorted(scratch_), o_.winsor_mads);
    // Least squares = the largest (tT − LP)² / (t(L − t)), P the sum of the first t values, as
    // in pass 1; centred on the value at the current split to keep the sums small.
    const double centre = clip(x_[at]);
    const double nd = static_cast<double>(end - begin);
    double total = 0;
    for (std::size_t i = begin; i < end; ++i) total += clip(x_[i]) - centre;
    double prefix = 0;
    for (std::size_t i = begin; i < lo; ++i) prefix += clip(x_[i]) - centre;
    std::size_t best = at;
    double best_num2 = -1, best_den = 1;
    for (std::size_t split = lo; split <= last; ++split) {
      const double t = static_cast<double>(split - begin);
      const double num = t * total - nd * prefix;
      const double num2 = num * num, den = t * (nd - t);
      if (num2 * best_den > best_num2 * den) best_num2 = num2, best_den = den, best = split;
      prefix += clip(x_[split]) - centre;
    }
    if (best > hi) {
      too_late = true;
      return at;
    }
    return best;
  }

  // (1 + ρ)/(1 − ρ) from the pooled lag-1 autocorrelation of the segments' residuals.
  double long_run_factor(double& rho) const {
    rho = 0;
    if (!o_.autocorrelation_correction) return 1;
    double sq = 0, lag = 0;
    for (const auto& s : segments_) sq += s.resid_sq, lag += s.resid_lag;
    if (sq > 0) rho = std::clamp(lag / sq, 0.0, kMaxAutocorrelation);
    return (1 + rho) / (1 - rho);
  }

  // Bonferroni-adjusted p-value of change point j (uncapped, so that the weakest is well
  // defined); with exact = false the t-test's p-value is its normal approximation, a lower bound.
  double score(std::size_t j, double factor, bool exact = true) const {
    const Test& t = tests_[j];
    double p_mean;
    if (t.constant >= 0) {
      p_mean = t.constant == 1 ? 1.0 : 0.0;
    } else {
      const double t_adj = std::fabs(t.t) / std::sqrt(factor);
      p_mean = exact ? std::min(1.0, 2.0 * student_t_cdf(-t_adj, t.df)) : normal_two_sided_p(t_adj);
    }
    return std::max(p_mean, t.p_rank) * t.splits;
  }

  std::span<const double> x_;
  std::span<const Ordered> ascending_;
  const ChangePointOptions& o_;
  std::vector<double> scratch_;
  std::vector<Segment> segments_;
  std::vector<Test> tests_;
};

void validate(std::span<const double> series, const ChangePointOptions& o) {
  if (!(o.alpha > 0 && o.alpha < 1)) throw InputError(fmt::format("change points: alpha {} is not in (0, 1)", o.alpha));
  if (o.min_segment < 3) throw InputError(fmt::format("change points: min_segment {} is below 3", o.min_segment));
  if (o.min_segment > (std::size_t{1} << 40))
    throw InputError(fmt::format("change points: min_segment {} is above 2^40", o.min_segment));
  if (!(o.min_relative_change >= 0) || !std::isfinite(o.min_relative_change))
    throw InputError(fmt::format("change points: min_relative_change {} is not a finite value >= 0", o.min_relative_change));
  if (!(o.winsor_mads >= 0) || !std::isfinite(o.winsor_mads))
    throw InputError(fmt::format("change points: winsor_mads {} is not a finite value >= 0", o.winsor_mads));
  for (std::size_t i = 0; i < series.size(); ++i)
    if (!std::isfinite(series[i])) throw InputError(fmt::format("change points: point {} is not finite ({})", i, series[i]));
}

}  // namespace

std::string_view confidence_name(Confidence c) noexcept {
  switch (c) {
    case Confidence::kHigh: return "high";
    case Confidence::kMedium: return "medium";
    case Confidence::kLow: break;
  }
  return "low";
}

ChangePointResult detect_change_points(std::span<const double> series, const ChangePointOptions& options) {
  validate(series, options);
  ChangePointResult r;
  r.n = series.size();
  const std::size_t need = 2 * options.min_segment;
  if (r.n < need) {
    r.not_tested = fmt::format("{} point{}, and a split needs at least 2 x {} = {} (min segment {} on each side)", r.n,
                               r.n == 1 ? "" : "s", options.min_segment, need, options.min_segment);
    return r;
  }
  const auto order = ascending(series);
  const auto cps = candidates(order, options);
  r.candidates = cps.size();
  Confirmer confirmer(series, order, options);
  r.change_points = confirmer.run(cps, r.autocorrelation);
  return r;
}

// ---------------------------------------------------------------------------------------------
// TCPDBench metrics
// ---------------------------------------------------------------------------------------------
namespace {

std::vector<std::size_t> with_zero(std::span<const std::size_t> points) {
  std::vector<std::size_t> out(points.begin(), points.end());
  out.push_back(0);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// True positives without double counting: each annotated point (ascending) takes the closest
// unused prediction within the margin, ties to the smaller prediction.
std::size_t true_positives(const std::vector<std::size_t>& truth, std::vector<std::size_t> predictions, std::size_t margin) {
  std::size_t count = 0;
  for (const std::size_t tau : truth) {
    std::size_t best = predictions.size(), best_dist = margin + 1;
    for (std::size_t i = 0; i < predictions.size(); ++i) {
      const std::size_t x = predictions[i];
      const std::size_t d = x > tau ? x - tau : tau - x;
      if (d < best_dist) best_dist = d, best = i;  // ascending predictions: the first of equals is the smaller
    }
    if (best == predictions.size()) continue;
    predictions.erase(predictions.begin() + static_cast<std::ptrdiff_t>(best));
    ++count;
  }
  return count;
}

// Segments [b_i, b_{i+1}) of [0, n) cut at the change points inside (0, n).
std::vector<std::size_t> partition_bounds(std::span<const std::size_t> cps, std::size_t n) {
  std::vector<std::size_t> b{0};
  for (const std::size_t c : cps)
    if (c > 0 && c < n) b.push_back(c);
  b.push_back(n);
  std::sort(b.begin(), b.end());
  b.erase(std::unique(b.begin(), b.end()), b.end());
  return b;
}

}  // namespace

double f1_score(const std::vector<std::vector<std::size_t>>& annotations, std::span<const std::size_t> predictions,
                std::size_t margin) {
  if (annotations.empty()) throw InputError("f1_score: no annotators");
  const auto x = with_zero(predictions);
  std::vector<std::size_t> all;
  std::vector<std::vector<std::size_t>> sets;
  for (const auto& a : annotations) {
    sets.push_back(with_zero(a));
    all.insert(all.end(), sets.back().begin(), sets.back().end());
  }
  const auto truth = with_zero(all);
  const double precision = static_cast<double>(true_positives(truth, x, margin)) / static_cast<double>(x.size());
  double recall = 0;
  for (const auto& s : sets) recall += static_cast<double>(true_positives(s, x, margin)) / static_cast<double>(s.size());
  recall /= static_cast<double>(sets.size());
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

double segmentation_cover(const std::vector<std::vector<std::size_t>>& annotations,
                          std::span<const std::size_t> predictions, std::size_t n) {
  if (annotations.empty()) throw InputError("segmentation_cover: no annotators");
  if (n == 0) throw InputError("segmentation_cover: empty series");
  const auto pred = partition_bounds(predictions, n);
  double total = 0;
  for (const auto& a : annotations) {
    const auto truth = partition_bounds(a, n);
    double cover = 0;
    for (std::size_t i = 0; i + 1 < truth.size(); ++i) {
      const std::size_t r0 = truth[i], r1 = truth[i + 1];
      double best = 0;
      for (std::size_t k = 0; k + 1 < pred.size(); ++k) {
        const std::size_t p0 = pred[k], p1 = pred[k + 1];
        const std::size_t lo = std::max(r0, p0), hi = std::min(r1, p1);
        if (hi <= lo) continue;
        const double inter = static_cast<double>(hi - lo);
        const double uni = static_cast<double>(std::max(r1, p1) - std::min(r0, p0));
        best = std::max(best, inter / uni);
      }
      cover += static_cast<double>(r1 - r0) * best;
    }
    total += cover / static_cast<double>(n);
  }
  return total / static_cast<double>(annotations.size());
}

}  // namespace trackiq::analysis
