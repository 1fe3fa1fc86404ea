#include "trackiq/analysis/compare_stats.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <type_traits>
#include <utility>

#include "log_gamma.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::analysis {
namespace {

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

template <class T>
std::vector<T> sorted_copy(std::span<const T> samples, const char* what, bool finite_only) {
  if constexpr (std::is_floating_point_v<T>) {
    for (T v : samples) {
      if (std::isnan(v)) throw InputError(std::string(what) + ": NaN in the samples");
      if (finite_only && !std::isfinite(v)) throw InputError(std::string(what) + ": infinite value in the samples");
    }
  }
  std::vector<T> out(samples.begin(), samples.end());
  std::sort(out.begin(), out.end());
  return out;
}

// Where the p-th percentile of n sorted values sits: the project's linear interpolation
// (trackiq/core/stats.hpp), value = x[k] + frac · (x[k + 1] − x[k]), rank = p/100 · (n − 1).
struct RankPosition {
  std::size_t k = 0;
  double frac = 0;
  bool uses_upper = false;  // frac > 0 and k + 1 < n
};

RankPosition rank_position(double p, std::size_t n) {
  const double rank = p / 100.0 * static_cast<double>(n - 1);
  RankPosition r;
  r.k = static_cast<std::size_t>(std::floor(rank));
  r.frac = rank - static_cast<double>(r.k);
  r.uses_upper = r.frac > 0.0 && r.k + 1 < n;
  return r;
}

// Same arithmetic, in the same order, as trackiq::exact_percentiles, so the observed
// percentiles here are bit-identical to the ones the rest of TrackIQ reports.
double interpolate(const RankPosition& r, double lower, double upper) {
  return r.uses_upper ? lower + r.frac * (upper - lower) : lower;
}

double percentile_of_sorted(std::span<const double> sorted, double p) {
  const RankPosition r = rank_position(p, sorted.size());
  return interpolate(r, sorted[r.k], r.uses_upper ? sorted[r.k + 1] : sorted[r.k]);
}

// ---------------------------------------------------------------------------------------------
// Mann–Whitney U
// ---------------------------------------------------------------------------------------------

constexpr std::uint64_t kExactMaxSmallSide = 64;
constexpr std::uint64_t kExactMaxCells = std::uint64_t{1} << 28;  // n_x · n_y for forced kExact

// P(U >= u_max) · 2 for U ~ null law of sizes (m, n), u_max >= m n / 2, no ties.
// The count of arrangements with U = k is the coefficient of q^k in the Gaussian binomial
// [m + n choose m]_q = Π_{i=1..m} (1 − q^{n+i}) / (1 − q^i). By symmetry
// P(U >= u_max) = P(U <= K), K = m n − u_max, so only coefficients 0..K are needed: the product
// is built factor by factor in the power series ring truncated at degree K. After factor i the
// series is [n + i choose i]_q (non-negative). Checked against scipy's recursion for every
// m <= 8 (n <= 300) and for m = n up to 64: relative error below 1e-14.
double exact_two_sided_p(std::uint64_t m, std::uint64_t n, std::uint64_t u_max) {
  const std::uint64_t big_k = m * n - u_max;
  std::vector<double> c(big_k + 1, 0.0);
  c[0] = 1.0;
  for (std::uint64_t i = 1; i <= m; ++i) {
    const std::uint64_t shift = n + i;
    if (shift <= big_k)
      for (std::uint64_t k = big_k; k >= shift; --k) c[k] -= c[k - shift];
    for (std::uint64_t k = i; k <= big_k; ++k) c[k] += c[k - i];
  }
  long double tail = 0;
  for (double v : c) tail += v;
  long double total = 1;  // C(m + n, m), exact while it fits the mantissa
  for (std::uint64_t i = 1; i <= m; ++i)
    total = total * static_cast<long double>(n + i) / static_cast<long double>(i);
  const double p = static_cast<double>(2.0L * tail / total);
  return std::clamp(p, 0.0, 1.0);
}

// The test on samples already sorted ascending (and free of NaN).
template <class T>
MannWhitneyResult mann_whitney_sorted_impl(std::span<const T> xs, std::span<const T> ys, const MannWhitneyOptions& options) {
  const std::uint64_t n1 = xs.size(), n2 = ys.size();

  // One merge walk over both sorted samples, group by equal value: each x in a group beats the
  // ys below it and ties with the group's ys. 2U is an integer; Σ(t³ − t) stays exact.
  unsigned __int128 two_u = 0, tie_sum = 0;
  std::uint64_t y_below = 0;
  std::size_t i = 0, j = 0;
  while (i < n1 || j < n2) {
    const T v = (j == n2 || (i < n1 && xs[i] < ys[j])) ? xs[i] : ys[j];
    std::uint64_t a = 0, b = 0;
    while (i < n1 && xs[i] == v) ++i, ++a;
    while (j < n2 && ys[j] == v) ++j, ++b;
    two_u += static_cast<unsigned __int128>(a) * (2 * y_below + b);
    y_below += b;
    const unsigned __int128 t = a + b;
    tie_sum += t * t * t - t;
  }

  MannWhitneyResult r;
  r.n_x = n1;
  r.n_y = n2;
  r.ties = tie_sum != 0;
  r.u = static_cast<double>(two_u) / 2.0;
  const double cells = static_cast<double>(n1) * static_cast<double>(n2);
  r.probability_of_superiority = r.u / cells;
  r.cliffs_delta = 2.0 * r.probability_of_superiority - 1.0;

  const std::uint64_t small = std::min(n1, n2);
  MannWhitneyMethod method = options.method;
  if (method == MannWhitneyMethod::kAuto)
    method = (small <= 8 && !r.ties) ? MannWhitneyMethod::kExact : MannWhitneyMethod::kAsymptotic;
  if (method == MannWhitneyMethod::kExact) {
    if (r.ties) throw InputError("exact Mann-Whitney U distribution assumes no ties; use the asymptotic method");
    if (small > kExactMaxSmallSide || static_cast<double>(n1) * static_cast<double>(n2) > static_cast<double>(kExactMaxCells))
      throw InputError("exact Mann-Whitney U distribution is limited to min(n_x, n_y) <= 64 and n_x * n_y <= 2^28; "
                       "use the asymptotic method");
  }
  r.method = method;

  const unsigned __int128 two_cells = static_cast<unsigned __int128>(n1) * n2;
  const unsigned __int128 two_u_max = std::max(two_u, 2 * two_cells - two_u);  // 2 · max(U_x, U_y)
  if (method == MannWhitneyMethod::kExact) {
    r.p_value = exact_two_sided_p(small, std::max(n1, n2), static_cast<std::uint64_t>(two_u_max / 2));
    return r;
  }
  const double n = static_cast<double>(n1 + n2);
  const double sigma = std::sqrt(cells / 12.0 * ((n + 1.0) - static_cast<double>(tie_sum) / (n * (n - 1.0))));
  double numerator = static_cast<double>(two_u_max) / 2.0 - cells / 2.0;
  if (options.continuity) numerator -= 0.5;
  if (sigma == 0.0 || numerator <= 0.0) {
    r.p_value = 1.0;  // all values equal, or U at the centre: 2 · (1 − Φ(z <= 0)) >= 1
    return r;
  }
  const double z = numerator / sigma;
  r.p_value = std::clamp(std::erfc(z / std::sqrt(2.0)), 0.0, 1.0);
  return r;
}

template <class T>
MannWhitneyResult mann_whitney_impl(std::span<const T> x, std::span<const T> y, const MannWhitneyOptions& options) {
  if (x.empty() || y.empty()) throw InputError("Mann-Whitney U test needs at least one sample on each side");
  const std::vector<T> xs = sorted_copy(x, "Mann-Whitney U test", false);
  const std::vector<T> ys = sorted_copy(y, "Mann-Whitney U test", false);
  return mann_whitney_sorted_impl<T>(xs, ys, options);
}

// ---------------------------------------------------------------------------------------------
// Bootstrap
// ---------------------------------------------------------------------------------------------

// Unbiased integer in [0, n) from one or more mt19937_64 outputs (Lemire 2019). Integer
// arithmetic only, so the stream of indices is the same on every platform for a seed.
inline std::uint64_t draw_index(std::mt19937_64& rng, std::uint64_t n) {
  unsigned __int128 m = static_cast<unsigned __int128>(rng()) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(rng()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

// Uniform in (0, 1), never 0 or 1 (safe for log).
inline double uniform_open(std::mt19937_64& rng) {
  return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53;
}

// Standard normal by Marsaglia's polar method (one of the pair; the other is dropped so the
// generator carries no state besides the engine).
double standard_normal(std::mt19937_64& rng) {
  for (;;) {
    const double u = 2.0 * uniform_open(rng) - 1.0;
    const double v = 2.0 * uniform_open(rng) - 1.0;
    const double s = u * u + v * v;
    if (s > 0.0 && s < 1.0) return u * std::sqrt(-2.0 * std::log(s) / s);
  }
}

// Gamma(shape, 1) for shape >= 1 by Marsaglia & Tsang (2000).
double gamma_variate(std::mt19937_64& rng, double shape) {
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double z, v;
    do {
      z = standard_normal(rng);
      v = 1.0 + c * z;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = uniform_open(rng);
    if (u < 1.0 - 0.0331 * (z * z) * (z * z)) return d * v;
    if (std::log(u) < 0.5 * z * z + d * (1.0 - v + std::log(v))) return d * v;
  }
}

// One side of the comparison: its sorted values and the order statistics the requested
// percentiles need.
struct Side {
  std::vector<double> sorted;
  std::vector<RankPosition> positions;  // per requested percentile
  std::vector<std::size_t> ranks;       // distinct 0-based order statistics needed, ascending
  std::vector<std::size_t> lower_slot;  // per percentile: index into ranks of k
  std::vector<std::size_t> upper_slot;  // per percentile: index into ranks of k + 1 (if used)
  std::vector<double> order_stats;      // scratch: value of each needed rank in one resample
  std::vector<std::uint32_t> counts;    // scratch for kIndexDraws

  Side(std::vector<double> values, std::span<const double> ps) : sorted(std::move(values)) {
    const std::size_t n = sorted.size();
    for (double p : ps) {
      positions.push_back(rank_position(p, n));
      ranks.push_back(positions.back().k);
      if (positions.back().uses_upper) ranks.push_back(positions.back().k + 1);
    }
    std::sort(ranks.begin(), ranks.end());
    ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
    const auto slot = [&](std::size_t rank) {
      return static_cast<std::size_t>(std::lower_bound(ranks.begin(), ranks.end(), rank) - ranks.begin());
    };
    for (const RankPosition& r : positions) {
      lower_slot.push_back(slot(r.k));
      upper_slot.push_back(r.uses_upper ? slot(r.k + 1) : slot(r.k));
    }
    order_stats.resize(ranks.size());
  }

  double observed(std::size_t pi) const {
    const RankPosition& r = positions[pi];
    return interpolate(r, sorted[r.k], r.uses_upper ? sorted[r.k + 1] : sorted[r.k]);
  }
  double resampled(std::size_t pi) const {
    return interpolate(positions[pi], order_stats[lower_slot[pi]], order_stats[upper_slot[pi]]);
  }

  // n explicit draws; the needed order statistics of the resample come from a counting pass
  // over the (sorted) source positions.
  void resample_by_index_draws(std::mt19937_64& rng) {
    const std::size_t n = sorted.size();
    counts.assign(n, 0);
    for (std::size_t d = 0; d < n; ++d) ++counts[draw_index(rng, n)];
    std::size_t seen = 0, pos = 0;
    for (std::size_t s = 0; s < ranks.size(); ++s) {
      while (seen + counts[pos] <= ranks[s]) seen += counts[pos++];
      order_stats[s] = sorted[pos];
    }
  }

  // The k-th smallest of n iid uniform indices ⌈n·V⌉ is ⌈n·V_(k)⌉, and
  // (V_(k1), V_(k2), …) = (Γ_k1, Γ_k2, …) / Γ_{n+1} with Γ_j a sum of j unit exponentials, built
  // from independent Gamma spacings. Exact in law; O(#ranks) per resample.
  void resample_by_order_statistics(std::mt19937_64& rng) {
    const std::size_t n = sorted.size();
    double cumulative = 0.0;
    std::size_t previous = 0;  // 1-based rank of the previous needed order statistic
    for (std::size_t s = 0; s < ranks.size(); ++s) {
      const std::size_t rank1 = ranks[s] + 1;
      cumulative += gamma_variate(rng, static_cast<double>(rank1 - previous));
      order_stats[s] = cumulative;
      previous = rank1;
    }
    const double total = cumulative + gamma_variate(rng, static_cast<double>(n + 1 - previous));
    for (std::size_t s = 0; s < ranks.size(); ++s) {
      const double u = order_stats[s] / total;
      const auto index = static_cast<std::size_t>(std::ceil(static_cast<double>(n) * u));
      order_stats[s] = sorted[std::clamp<std::size_t>(index, 1, n) - 1];
    }
  }
};

template <class T>
std::vector<double> sorted_as_double(std::span<const T> samples, const char* what) {
  if (samples.empty()) throw InputError(std::string(what) + " has no samples");
  const std::vector<T> s = sorted_copy(samples, what, true);
  if constexpr (std::is_same_v<T, double>) {
    return s;
  } else {
    return std::vector<double>(s.begin(), s.end());
  }
}

template <class T>
BootstrapResult bootstrap_impl(std::span<const T> baseline, std::span<const T> current, const BootstrapOptions& o) {
  if (o.resamples == 0) throw InputError("bootstrap needs at least one resample");
  if (!(o.confidence > 0.0 && o.confidence < 1.0)) throw InputError("bootstrap confidence must be in (0, 1)");
  for (double p : o.percentiles)
    if (!(p >= 0.0 && p <= 100.0)) throw InputError("percentile must be in [0, 100]");
  if (baseline.size() > UINT32_MAX || current.size() > UINT32_MAX)
    throw InputError("bootstrap supports at most 2^32 - 1 samples per side");

  Side base(sorted_as_double(baseline, "bootstrap baseline"), o.percentiles);
  Side cur(sorted_as_double(current, "bootstrap current"), o.percentiles);

  ResamplingMethod method = o.method;
  if (method == ResamplingMethod::kAuto)
    method = (base.sorted.size() <= o.index_draws_max_n && cur.sorted.size() <= o.index_draws_max_n)
                 ? ResamplingMethod::kIndexDraws
                 : ResamplingMethod::kOrderStatistics;

  const std::size_t np = o.percentiles.size();
  std::vector<std::vector<double>> replicates(np, std::vector<double>(o.resamples));
  std::mt19937_64 rng(o.seed);
  for (std::uint32_t b = 0; b < o.resamples; ++b) {
    if (method == ResamplingMethod::kIndexDraws) {
      base.resample_by_index_draws(rng);
      cur.resample_by_index_draws(rng);
    } else {
      base.resample_by_order_statistics(rng);
      cur.resample_by_order_statistics(rng);
    }
    for (std::size_t pi = 0; pi < np; ++pi) replicates[pi][b] = cur.resampled(pi) - base.resampled(pi);
  }

  BootstrapResult result;
  result.method = method;
  result.resamples = o.resamples;
  result.seed = o.seed;
  result.confidence = o.confidence;
  const double alpha = 1.0 - o.confidence;
  const std::size_t n_small = std::min(base.sorted.size(), cur.sorted.size());
  for (std::size_t pi = 0; pi < np; ++pi) {
    auto& reps = replicates[pi];
    std::sort(reps.begin(), reps.end());
    PercentileDifference d;
    d.p = o.percentiles[pi];
    d.baseline = base.observed(pi);
    d.current = cur.observed(pi);
    d.difference = d.current - d.baseline;
    d.low = percentile_of_sorted(reps, 100.0 * alpha / 2.0);
    d.high = percentile_of_sorted(reps, 100.0 * (1.0 - alpha / 2.0));
    d.tail_samples = static_cast<std::uint64_t>(
        std::floor(static_cast<double>(n_small) * std::min(d.p, 100.0 - d.p) / 100.0));
    const auto at_most_zero = static_cast<double>(std::upper_bound(reps.begin(), reps.end(), 0.0) - reps.begin());
    const auto at_least_zero = static_cast<double>(reps.end() - std::lower_bound(reps.begin(), reps.end(), 0.0));
    d.p_value = std::min(1.0, 2.0 * (std::min(at_most_zero, at_least_zero) + 1.0) / (static_cast<double>(reps.size()) + 1.0));
    result.differences.push_back(d);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Welch's t-test
// ---------------------------------------------------------------------------------------------

// Regularised incomplete beta I_x(a, b) by the continued fraction (modified Lentz), using the
// symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
double beta_continued_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300, kEps = 1e-15;
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 10'000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double step = d * c;
    h *= step;
    if (std::fabs(step - 1.0) < kEps) break;
  }
  return h;
}

double regularized_incomplete_beta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double log_front =
      log_gamma(a + b) - log_gamma(a) - log_gamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * beta_continued_fraction(a, b, x) / a;
  return 1.0 - std::exp(log_front) * beta_continued_fraction(b, a, 1.0 - x) / b;
}

struct Moments {
  double mean = 0, variance = 0;  // sample variance (n − 1)
  std::uint64_t n = 0;
};

template <class T>
Moments moments(std::span<const T> v, const char* what) {
  if (v.size() < 2) throw InputError(std::string("Welch's t-test needs at least 2 values on each side (") + what + ")");
  Moments m;  // Welford: one pass, no cancellation for large offsets (latencies in ns)
  for (const T raw : v) {
    const double x = static_cast<double>(raw);
    if (!std::isfinite(x)) throw InputError(std::string("Welch's t-test: non-finite value in the ") + what);
    ++m.n;
    const double delta = x - m.mean;
    m.mean += delta / static_cast<double>(m.n);
    m.variance += delta * (x - m.mean);
  }
  m.variance /= static_cast<double>(m.n - 1);
  return m;
}

template <class T>
WelchResult welch_impl(std::span<const T> x, std::span<const T> y, double confidence) {
  if (!(confidence > 0.0 && confidence < 1.0)) throw InputError("confidence must be in (0, 1)");
  const Moments a = moments(x, "baseline"), b = moments(y, "current");
  WelchResult r;
  r.n_x = a.n;
  r.n_y = b.n;
  r.mean_x = a.mean;
  r.mean_y = b.mean;
  r.difference = b.mean - a.mean;
  const double vx = a.variance / static_cast<double>(a.n), vy = b.variance / static_cast<double>(b.n);
  r.std_error = std::sqrt(vx + vy);
  if (r.std_error == 0.0) {  // both constant: the difference is known exactly
    r.df = static_cast<double>(a.n + b.n - 2);
    r.p_value = r.difference == 0.0 ? 1.0 : 0.0;
    r.low = r.high = r.difference;
    return r;
  }
  r.df = (vx + vy) * (vx + vy) /
         (vx * vx / static_cast<double>(a.n - 1) + vy * vy / static_cast<double>(b.n - 1));
  r.t = r.difference / r.std_error;
  r.p_value = std::min(1.0, 2.0 * student_t_cdf(-std::fabs(r.t), r.df));
  const double q = student_t_quantile(0.5 + confidence / 2.0, r.df);
  r.low = r.difference - q * r.std_error;
  r.high = r.difference + q * r.std_error;
  return r;
}

// log C(n, k)
double log_choose(double n, double k) { return log_gamma(n + 1) - log_gamma(k + 1) - log_gamma(n - k + 1); }

}  // namespace

double student_t_cdf(double t, double df) {
  if (!(df > 0.0)) throw InputError("Student's t needs df > 0");
  if (std::isnan(t)) return NAN;
  if (std::isinf(t)) return t > 0 ? 1.0 : 0.0;
  const double x = df / (df + t * t);
  const double tail = 0.5 * regularized_incomplete_beta(df / 2.0, 0.5, x);  // P(T > |t|)
  return t > 0 ? 1.0 - tail : tail;
}

double student_t_quantile(double p, double df) {
  if (!(p > 0.0 && p < 1.0)) throw InputError("quantile level must be in (0, 1)");
  if (p == 0.5) return 0.0;
  // Bisection on the monotone CDF, bracketed by doubling: 200 steps reach double precision.
  double lo = -1.0, hi = 1.0;
  while (student_t_cdf(lo, df) > p) lo *= 2.0;
  while (student_t_cdf(hi, df) < p) hi *= 2.0;
  for (int i = 0; i < 200 && hi - lo > 1e-13 * std::max(1.0, std::fabs(lo)); ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_cdf(mid, df) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

WelchResult welch_t_test(std::span<const std::int64_t> x, std::span<const std::int64_t> y, double confidence) {
  return welch_impl(x, y, confidence);
}
WelchResult welch_t_test(std::span<const double> x, std::span<const double> y, double confidence) {
  return welch_impl(x, y, confidence);
}

ExceedanceResult exceedance_test(std::span<const std::int64_t> baseline, std::span<const std::int64_t> current,
                                 std::uint64_t rank, double cut_factor) {
  if (baseline.empty() || current.empty()) throw InputError("the tail-share test needs samples on both sides");
  if (rank < 1 || rank > baseline.size())
    throw InputError("the tail-share cut must be one of the baseline's values (rank 1..n)");
  if (!(cut_factor >= 1.0) || !std::isfinite(cut_factor)) throw InputError("the tail-share cut factor must be >= 1");
  std::vector<std::int64_t> b(baseline.begin(), baseline.end());
  std::nth_element(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(rank - 1), b.end(), std::greater<>());
  ExceedanceResult r;
  r.rank = rank;
  r.cut = static_cast<double>(b[rank - 1]) * cut_factor;
  r.n_baseline = baseline.size();
  r.n_current = current.size();
  const double cut = r.cut;
  r.baseline_beyond = static_cast<std::uint64_t>(
      std::count_if(baseline.begin(), baseline.end(), [&](auto v) { return static_cast<double>(v) > cut; }));
  std::vector<std::int64_t> beyond;
  for (const auto v : current)
    if (static_cast<double>(v) > cut) beyond.push_back(v);
  r.current_beyond = beyond.size();
  r.baseline_share = static_cast<double>(r.baseline_beyond) / static_cast<double>(r.n_baseline);
  r.current_share = static_cast<double>(r.current_beyond) / static_cast<double>(r.n_current);
  if (!beyond.empty()) {
    std::sort(beyond.begin(), beyond.end());
    r.current_beyond_median = percentile_of_sorted(std::vector<double>(beyond.begin(), beyond.end()), 50.0);
  }
  // P(X >= current_beyond), X ~ Hypergeometric(N = n_b + n_c, K = beyond in total, draws n_c).
  const double big_n = static_cast<double>(r.n_baseline + r.n_current);
  const double k_total = static_cast<double>(r.baseline_beyond + r.current_beyond);
  const double draws = static_cast<double>(r.n_current);
  const double denom = log_choose(big_n, draws);
  const double x_max = std::min(k_total, draws);
  double p = 0;
  for (double x = static_cast<double>(r.current_beyond); x <= x_max; x += 1.0) {
    if (draws - x > big_n - k_total) continue;
    p += std::exp(log_choose(k_total, x) + log_choose(big_n - k_total, draws - x) - denom);
  }
  r.p_value = std::clamp(p, 0.0, 1.0);
  return r;
}

MannWhitneyResult mann_whitney_u(std::span<const std::int64_t> x, std::span<const std::int64_t> y,
                                 const MannWhitneyOptions& options) {
  return mann_whitney_impl(x, y, options);
}

MannWhitneyResult mann_whitney_u(std::span<const double> x, std::span<const double> y,
                                 const MannWhitneyOptions& options) {
  return mann_whitney_impl(x, y, options);
}

MannWhitneyResult mann_whitney_u_sorted(std::span<const double> x, std::span<const double> y,
                                        const MannWhitneyOptions& options) {
  if (x.empty() || y.empty()) throw InputError("Mann-Whitney U test needs at least one sample on each side");
  for (const auto side : {x, y}) {
    for (std::size_t i = 0; i < side.size(); ++i) {
      if (std::isnan(side[i])) throw InputError("Mann-Whitney U test: NaN in the samples");
      if (i > 0 && side[i] < side[i - 1]) throw InputError("mann_whitney_u_sorted: a sample is not sorted ascending");
    }
  }
  return mann_whitney_sorted_impl(x, y, options);
}

BootstrapResult bootstrap_percentile_differences(std::span<const std::int64_t> baseline,
                                                 std::span<const std::int64_t> current,
                                                 const BootstrapOptions& options) {
  return bootstrap_impl(baseline, current, options);
}

BootstrapResult bootstrap_percentile_differences(std::span<const double> baseline, std::span<const double> current,
                                                 const BootstrapOptions& options) {
  return bootstrap_impl(baseline, current, options);
}

std::vector<double> benjamini_hochberg(std::span<const double> p_values) {
  const std::size_t m = p_values.size();
  for (double p : p_values)
    if (!(p >= 0.0 && p <= 1.0)) throw InputError("p-values must be in [0, 1]");
  std::vector<std::size_t> order(m);
  for (std::size_t i = 0; i < m; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p_values[a] < p_values[b]; });
  std::vector<double> q(m);
  double running_min = 1.0;
  for (std::size_t r = m; r-- > 0;) {
    const std::size_t idx = order[r];
    running_min = std::min(running_min, p_values[idx] * static_cast<double>(m) / static_cast<double>(r + 1));
    q[idx] = running_min;
  }
  return q;
}

}  // namespace trackiq::analysis
