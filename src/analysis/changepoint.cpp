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

// Pass 1. The series is rank-transformed once (mid-ranks over the whole series: a monotone map,
// so a shift stays a shift, no value weighs more than any other, and with no change the ranks
// are exchangeable whatever the noise's distribution). In every seeded interval, the
// admissible split with the largest standardised difference of mean ranks,
//   z = (mean right − mean left) / sqrt(s² (1/t + 1/(L − t))),  s² the interval's rank variance,
// is kept when 2 Φ(−|z|) times the interval's admissible splits is <= alpha. The scan of an
// interval is O(L) from prefix sums of the ranks.
std::vector<std::size_t> candidates(std::span<const double> x, const ChangePointOptions& o) {
  const std::size_t n = x.size(), m = o.min_segment;
  struct Keyed {
    double value;
    std::size_t position;
  };
  std::vector<Keyed> keyed(n);
  for (std::size_t i = 0; i < n; ++i) keyed[i] = {x[i], i};
  std::sort(keyed.begin(), keyed.end(),
            [](const Keyed& a, const Keyed& b) { return a.value < b.value || (a.value == b.value && a.position < b.position); });
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

double median_in_place(std::vector<double>& v) {
  const std::size_t h = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h), v.end());
  const double upper = v[h];
  if (v.size() % 2 == 1) return upper;
  return 0.5 * (upper + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h)));
}

// Clips `values` in place at median ± k · 1.4826 · MAD, a robust ±k standard deviations
// (nothing with k = 0, fewer than 3 values, or a MAD of 0).
void winsorize(std::span<double> values, double k, std::vector<double>& scratch) {
  if (k <= 0 || values.size() < 3) return;
  scratch.assign(values.begin(), values.end());
  const double med = median_in_place(scratch);
  for (auto& v : scratch) v = std::fabs(v - med);
  const double scale = kMadToSigma * median_in_place(scratch);
  if (!(scale > 0)) return;
  for (auto& v : values) v = std::clamp(v, med - k * scale, med + k * scale);
}

// One segment [begin, end) of the current segmentation: its raw mean and the sums of its
// winsorised residuals that make up the pooled lag-1 autocorrelation.
struct Segment {
  std::size_t begin = 0, end = 0;
  double mean = 0;
  double resid_sq = 0;   // Σ e_i²
  double resid_lag = 0;  // Σ e_i e_{i−1}
};

class Confirmer {
 public:
  Confirmer(std::span<const double> x, const ChangePointOptions& o) : x_(x), o_(o), wins_(x.begin(), x.end()) {}

  // Removes candidates until every one passes; returns the confirmed change points.
  std::vector<ChangePoint> run(const std::vector<std::size_t>& cps, double& rho_out) {
    segment_at(cps);
    prune(rho_out);
    // Ranks place a change within a point or two; least squares on the values places it
    // exactly when the shift is clear. Move each confirmed point to the best split within
    // ±min_segment, then confirm again at the new places.
    std::vector<std::size_t> placed;
    for (std::size_t j = 0; j < tests_.size(); ++j) {
      const std::size_t lo = placed.empty() ? 0 : placed.back();
      placed.push_back(relocate(lo, segments_[j + 1].begin, segments_[j + 1].end));
    }
    segment_at(placed);
    prune(rho_out);

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
  void segment_at(const std::vector<std::size_t>& cps) {
    std::vector<std::size_t> bounds{0};
    bounds.insert(bounds.end(), cps.begin(), cps.end());
    bounds.push_back(x_.size());
    segments_.clear();
    for (std::size_t i = 0; i + 1 < bounds.size(); ++i) segments_.push_back(make_segment(bounds[i], bounds[i + 1]));
    tests_.assign(cps.size(), Test{});
    for (std::size_t j = 0; j < cps.size(); ++j) test(j);
  }

  // Removes the weakest change point while one fails: p > alpha first, then (with a floor) the
  // smallest relative change below min_relative_change; neighbours are re-tested after each.
  void prune(double& rho_out) {
    for (;;) {
      const double f = long_run_factor(rho_out);
      std::size_t worst = tests_.size();
      double worst_score = o_.alpha;
      for (std::size_t j = 0; j < tests_.size(); ++j) {
        const double s = score(j, f);
        if (s > worst_score) worst_score = s, worst = j;
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

  // The split of [begin, end) within ±min_segment of `at` (both sides >= min_segment) with the
  // least squared error around the two means, on the pair's values winsorised together (a
  // lone outlier next to the change cannot pull it). Ties keep the earlier split.
  std::size_t relocate(std::size_t begin, std::size_t at, std::size_t end) {
    const std::size_t m = o_.min_segment;
    const std::size_t lo = std::max(begin + m, at > m ? at - m : 0), hi = std::min(end - m, at + m);
    if (lo >= hi) return at;
    const auto raw = x_.subspan(begin, end - begin);
    std::vector<double> w(raw.begin(), raw.end());
    winsorize(w, o_.winsor_mads, scratch_);
    const double centre = w[at - begin];  // centring keeps the sums small
    std::vector<double> prefix(w.size() + 1, 0.0);
    for (std::size_t i = 0; i < w.size(); ++i) prefix[i + 1] = prefix[i] + (w[i] - centre);
    const double nd = static_cast<double>(w.size()), total = prefix.back();
    // Least squares = the largest (tT − LP)² / (t(L − t)), as in pass 1.
    std::size_t best = at;
    double best_num2 = -1, best_den = 1;
    for (std::size_t split = lo; split <= hi; ++split) {
      const double t = static_cast<double>(split - begin);
      const double num = t * total - nd * prefix[split - begin];
      const double num2 = num * num, den = t * (nd - t);
      if (num2 * best_den > best_num2 * den) best_num2 = num2, best_den = den, best = split;
    }
    return best;
  }

  // The tests of change point j (between segments j and j + 1), before the long-run factor.
  struct Test {
    double t = 0, df = 1;
    int constant = -1;  // both sides constant: 1 if equal, 0 if different; -1 otherwise
    double p_rank = 1;
    double splits = 1;  // admissible splits of the pair
  };

  Segment make_segment(std::size_t begin, std::size_t end) {
    Segment s{begin, end};
    const auto raw = x_.subspan(begin, end - begin);
    s.mean = std::accumulate(raw.begin(), raw.end(), 0.0) / static_cast<double>(raw.size());
    double* w = wins_.data() + begin;
    std::copy(raw.begin(), raw.end(), w);
    winsorize({w, raw.size()}, o_.winsor_mads, scratch_);
    const std::size_t len = end - begin;
    const double wmean = std::accumulate(w, w + len, 0.0) / static_cast<double>(len);
    for (std::size_t i = 0; i < len; ++i) {
      const double e = w[i] - wmean;
      s.resid_sq += e * e;
      if (i > 0) s.resid_lag += e * (w[i - 1] - wmean);
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
    const double* w = wins_.data();
    const double m1 = std::accumulate(w + l.begin, w + l.end, 0.0) / n1;
    const double m2 = std::accumulate(w + r.begin, w + r.end, 0.0) / n2;
    double ss = 0;
    for (std::size_t i = l.begin; i < l.end; ++i) ss += (w[i] - m1) * (w[i] - m1);
    for (std::size_t i = r.begin; i < r.end; ++i) ss += (w[i] - m2) * (w[i] - m2);
    const double se = std::sqrt(ss / (n1 + n2 - 2) * (1 / n1 + 1 / n2));
    if (se > 0) {
      t.t = (m2 - m1) / se;
      t.df = n1 + n2 - 2;
    } else {
      t.constant = m1 == m2 ? 1 : 0;
    }
    t.p_rank = mann_whitney_u(x_.subspan(l.begin, l.end - l.begin), x_.subspan(r.begin, r.end - r.begin)).p_value;
    t.splits = static_cast<double>(admissible_splits(r.end - l.begin, o_.min_segment));
    tests_[j] = t;
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

  // Bonferroni-adjusted p-value of change point j (uncapped, so that the weakest is well defined).
  double score(std::size_t j, double factor) const {
    const Test& t = tests_[j];
    double p_mean;
    if (t.constant >= 0) {
      p_mean = t.constant == 1 ? 1.0 : 0.0;
    } else {
      p_mean = std::min(1.0, 2.0 * student_t_cdf(-std::fabs(t.t) / std::sqrt(factor), t.df));
    }
    return std::max(p_mean, t.p_rank) * t.splits;
  }

  void remove(std::size_t j) {
    segments_[j] = make_segment(segments_[j].begin, segments_[j + 1].end);
    segments_.erase(segments_.begin() + static_cast<std::ptrdiff_t>(j) + 1);
    tests_.erase(tests_.begin() + static_cast<std::ptrdiff_t>(j));
    if (j > 0) test(j - 1);
    if (j < tests_.size()) test(j);
  }

  std::span<const double> x_;
  const ChangePointOptions& o_;
  std::vector<double> wins_;  // the series with each segment winsorised in place
  std::vector<double> scratch_;
  std::vector<Segment> segments_;
  std::vector<Test> tests_;
};

void validate(std::span<const double> series, const ChangePointOptions& o) {
  if (!(o.alpha > 0 && o.alpha < 1)) throw InputError(fmt::format("change points: alpha {} is not in (0, 1)", o.alpha));
  if (o.min_segment < 3) throw InputError(fmt::format("change points: min_segment {} is below 3", o.min_segment));
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
  const auto cps = candidates(series, options);
  r.candidates = cps.size();
  Confirmer confirmer(series, options);
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
