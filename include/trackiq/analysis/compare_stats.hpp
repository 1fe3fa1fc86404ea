#pragma once
// Statistics behind `trackiq compare` (SPEC CMP-1, CMP-6), on raw samples only: no store or
// result types, just spans of int64 (latency ns) or double samples.
//
//   * mann_whitney_u: two-sided Mann–Whitney U test, exact or normal approximation, as
//     scipy.stats.mannwhitneyu (scipy 1.10, the Debian 12 version the tests were checked against).
//   * bootstrap_percentile_differences: seeded bootstrap confidence intervals of
//     current − baseline for percentiles (default the median and p99).
//   * welch_t_test: Welch's t-test and CI of the difference of means (scipy.stats.ttest_ind,
//     equal_var=False).
//   * exceedance_test: the share of the current sample beyond a high order statistic of the
//     baseline, with the exact one-sided p-value (Fisher's exact test on the 2x2 table).
//   * benjamini_hochberg: false-discovery-rate q-values for many comparisons at once.
//
// Percentiles are the project's one method (SPEC §0.3, trackiq/core/stats.hpp): linear
// interpolation between closest ranks, numpy's default.
//
// Example:
//   const auto mw = trackiq::analysis::mann_whitney_u(current_ns, baseline_ns);
//   // mw.p_value, mw.probability_of_superiority == P(current > baseline) + ½ P(equal)
//   const auto bs = trackiq::analysis::bootstrap_percentile_differences(baseline_ns, current_ns);
//   // bs.differences[0]: median, [1]: p99 — each with difference, low, high (95 %)
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace trackiq::analysis {

// ---------------------------------------------------------------------------------------------
// Mann–Whitney U
// ---------------------------------------------------------------------------------------------

enum class MannWhitneyMethod {
  kAuto,        // scipy's rule: exact when min(n_x, n_y) <= 8 and there are no ties, else asymptotic
  kExact,       // exact null distribution of U; needs no ties (InputError otherwise)
  kAsymptotic,  // normal approximation with tie correction (and continuity correction, by default)
};

struct MannWhitneyOptions {
  MannWhitneyMethod method = MannWhitneyMethod::kAuto;
  bool continuity = true;  // ±0.5 continuity correction of the normal approximation (scipy default)
};

struct MannWhitneyResult {
  // U of the first sample: #(x_i > y_j) + ½ #(x_i == y_j) over all pairs; scipy's `statistic`.
  double u = 0;
  // Two-sided p-value: 2 · P(U' >= max(U_x, U_y)) under H0 (identical distributions), capped at 1.
  double p_value = 1;
  MannWhitneyMethod method = MannWhitneyMethod::kAsymptotic;  // the one used: kExact or kAsymptotic
  // Common-language effect size U / (n_x n_y) = P(X > Y) + ½ P(X = Y), in [0, 1]; 0.5 = no effect.
  double probability_of_superiority = 0.5;
  // Cliff's delta = P(X > Y) − P(X < Y) = 2 · probability_of_superiority − 1, in [−1, 1].
  double cliffs_delta = 0;
  std::uint64_t n_x = 0;
  std::uint64_t n_y = 0;
  bool ties = false;  // some value occurs more than once in the pooled samples
};

// Two-sided Mann–Whitney U test of x against y. Neither sample may be empty; NaN is rejected
// (InputError), ±infinity ranks normally. Cost: O(n log n) time (both samples are copied and
// sorted), O(n) memory; the exact distribution adds O(m·n) time and O(min(m,n)·max(m,n)/2)
// memory, m = min(n_x, n_y) <= 8 under kAuto (≈ 32 bytes per sample of the larger side).
//
// p-values: exact — the count of arrangements with U <= n_x n_y − max(U_x, U_y), from the
// Gaussian-binomial generating function truncated at that degree, over C(n_x + n_y, n_x).
// Asymptotic — z = (max(U_x, U_y) − n_x n_y / 2 − 0.5) / σ with
// σ² = n_x n_y / 12 · ((N + 1) − Σ(t³ − t) / (N (N − 1))), t the size of each group of ties,
// p = 2 · (1 − Φ(z)). When every pooled value is equal (σ = 0) the p-value is 1.
// kExact is refused (InputError) for ties, and beyond m = 64 or n_x · n_y = 2^28 (the range
// checked against scipy, and the memory the distribution takes).
//
// Argument order: pass (current, baseline) to read probability_of_superiority as
// "P(a current sample exceeds a baseline sample)".
MannWhitneyResult mann_whitney_u(std::span<const std::int64_t> x, std::span<const std::int64_t> y,
                                 const MannWhitneyOptions& options = {});
MannWhitneyResult mann_whitney_u(std::span<const double> x, std::span<const double> y,
                                 const MannWhitneyOptions& options = {});
// The same test on samples already sorted ascending (InputError otherwise, or for NaN): O(n),
// no copy. For callers that keep their samples sorted (the change-point detector's segments).
MannWhitneyResult mann_whitney_u_sorted(std::span<const double> x_sorted, std::span<const double> y_sorted,
                                        const MannWhitneyOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Bootstrap confidence intervals of percentile differences
// ---------------------------------------------------------------------------------------------

// How a bootstrap resample is drawn. Both are the ordinary (nonparametric) bootstrap: n draws
// with replacement per side, every resample of full size; they differ only in cost.
enum class ResamplingMethod {
  kAuto,  // kIndexDraws when both samples have <= index_draws_max_n values, else kOrderStatistics
  // n explicit index draws per side and resample from mt19937_64 (Lemire's unbiased bounded
  // integers: integer arithmetic only, so bit-identical on every platform). O(B · n).
  kIndexDraws,
  // Draws only the order statistics the percentiles need: the k-th smallest of n uniform
  // indices is ⌈n · U_(k)⌉ with U_(k) = Γ_k / Γ_{n+1} built from independent gamma spacings,
  // so the joint law of the needed order statistics is exactly that of a full resample.
  // O(B · #percentiles) after one sort. Gamma variates (Marsaglia–Tsang) use std::log/sqrt, so
  // bit-identical results are guaranteed for one platform/libm, not across them.
  kOrderStatistics,
};

struct BootstrapOptions {
  std::uint32_t resamples = 1000;              // B, >= 1
  std::uint64_t seed = 42;                     // mt19937_64 seed; log it with the result
  double confidence = 0.95;                    // in (0, 1)
  std::vector<double> percentiles{50.0, 99.0};  // in [0, 100]
  ResamplingMethod method = ResamplingMethod::kAuto;
  std::size_t index_draws_max_n = 10'000;  // kAuto's switch-over (per side)
};

struct PercentileDifference {
  double p = 0;           // the percentile, in [0, 100]
  double baseline = 0;    // observed p-th percentile of the baseline
  double current = 0;     // observed p-th percentile of the current sample
  double difference = 0;  // current − baseline (same unit as the samples)
  // Percentile-method interval (Efron): the (1 − confidence)/2 and (1 + confidence)/2
  // percentiles (linear interpolation) of the B bootstrap differences. Not bias-corrected;
  // it can be shifted when the statistic's bootstrap law is skewed.
  double low = 0;
  double high = 0;
  // Samples beyond the percentile in its nearer tail on the smaller side:
  // floor(n · min(p, 100 − p) / 100). Below ~10 the bootstrap of an extreme percentile is
  // unreliable (the resamples can only reuse the few most extreme values); say so to users.
  std::uint64_t tail_samples = 0;
  // Two-sided bootstrap p-value of "no difference": 2 · min(#(d* <= 0) + 1, #(d* >= 0) + 1) /
  // (B + 1), capped at 1 (the +1 keeps it a valid p-value; its floor is 2 / (B + 1)).
  double p_value = 1;

  bool excludes_zero() const noexcept { return low > 0.0 || high < 0.0; }
};

struct BootstrapResult {
  std::vector<PercentileDifference> differences;  // in the order of options.percentiles
  ResamplingMethod method = ResamplingMethod::kIndexDraws;  // the one used
  std::uint32_t resamples = 0;
  std::uint64_t seed = 0;
  double confidence = 0;
};

// Bootstrap CIs of percentile(current) − percentile(baseline): each of the B resamples draws
// n_baseline values from the baseline and n_current from the current sample with replacement,
// independently, and takes the difference of their percentiles. Deterministic for a given seed,
// options and input (the order of the input does not matter: both samples are sorted first).
// Empty samples, non-finite doubles and invalid options → InputError.
// Cost: O(n log n) for the sorts, then O(B · n) (kIndexDraws) or O(B · #percentiles)
// (kOrderStatistics); memory O(n + B · #percentiles).
BootstrapResult bootstrap_percentile_differences(std::span<const std::int64_t> baseline,
                                                 std::span<const std::int64_t> current,
                                                 const BootstrapOptions& options = {});
BootstrapResult bootstrap_percentile_differences(std::span<const double> baseline,
                                                 std::span<const double> current,
                                                 const BootstrapOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Welch's t-test (difference of means)
// ---------------------------------------------------------------------------------------------

struct WelchResult {
  double mean_x = 0, mean_y = 0;
  double difference = 0;  // mean_y − mean_x (current − baseline when called (baseline, current))
  double std_error = 0;   // sqrt(s_x²/n_x + s_y²/n_y), sample variances (n − 1)
  double df = 0;          // Welch–Satterthwaite degrees of freedom
  double t = 0;           // difference / std_error (0 when std_error is 0)
  double p_value = 1;     // two-sided; 1 when both samples are constant and equal, 0 when constant and different
  double low = 0, high = 0;  // confidence interval of the difference
  std::uint64_t n_x = 0, n_y = 0;
};

// Welch's unequal-variance t-test of mean(y) − mean(x) with its `confidence` interval. Each side
// needs >= 2 finite values (InputError otherwise). Equals scipy.stats.ttest_ind(y, x,
// equal_var=False) (t, p) and the interval mean difference ± t_{(1+c)/2, df} · std_error.
// O(n) time, O(1) memory.
WelchResult welch_t_test(std::span<const std::int64_t> x, std::span<const std::int64_t> y, double confidence = 0.95);
WelchResult welch_t_test(std::span<const double> x, std::span<const double> y, double confidence = 0.95);

// Student's t distribution: P(T <= t) with `df` > 0 degrees of freedom (regularised incomplete
// beta, continued fraction; |error| < 1e-12), and its quantile (p in (0, 1)).
double student_t_cdf(double t, double df);
double student_t_quantile(double p, double df);

// ---------------------------------------------------------------------------------------------
// Tail share: exceedances over a high baseline order statistic
// ---------------------------------------------------------------------------------------------

struct ExceedanceResult {
  double cut = 0;               // the baseline's `rank`-th largest value × cut_factor
  std::uint64_t rank = 1;       // 1 = the baseline's maximum
  std::uint64_t n_baseline = 0, n_current = 0;
  std::uint64_t baseline_beyond = 0;  // baseline values > cut (rank − 1 without ties)
  std::uint64_t current_beyond = 0;   // current values > cut
  double baseline_share = 0, current_share = 0;  // beyond / n
  // One-sided p-value of "the current sample has no larger share beyond the cut": the upper tail
  // of the hypergeometric law of current_beyond given the margins, i.e. Fisher's exact test. With
  // the cut at a baseline order statistic this is exact, not only conditional: P(K >= k) for the
  // count K of current values above the baseline's r-th largest is the same hypergeometric tail
  // (continuous data; ties at the cut count as not beyond, which only makes it conservative).
  double p_value = 1;
  double current_beyond_median = 0;  // the median of the current values beyond the cut (0 if none)
};

// The tail-share test with the cut at the baseline's `rank`-th largest value (rank >= 1, at most
// n_baseline) times `cut_factor` (>= 1). A factor above 1 asks for requests slower than anything
// the baseline saw by a margin (a small shift of a tight distribution is then not a new tail);
// the p-value stays valid, conservative: under H0 fewer current values pass a higher cut.
// Empty samples, a bad rank or a factor below 1 → InputError. O(n log n).
ExceedanceResult exceedance_test(std::span<const std::int64_t> baseline, std::span<const std::int64_t> current,
                                 std::uint64_t rank, double cut_factor = 1.0);

// ---------------------------------------------------------------------------------------------
// Multiple comparisons (CMP-6)
// ---------------------------------------------------------------------------------------------

// Benjamini–Hochberg adjusted p-values (q-values), in input order: with p sorted ascending,
// q_(i) = min_{j >= i} min(1, p_(j) · m / j). Rejecting every hypothesis with q <= α controls the
// false discovery rate at α for independent or positively dependent tests. Equals
// scipy.stats.false_discovery_control(p, method="bh") and R's p.adjust(p, "BH").
// p-values must be in [0, 1] (NaN or out of range → InputError); empty input → empty output.
std::vector<double> benjamini_hochberg(std::span<const double> p_values);

}  // namespace trackiq::analysis
