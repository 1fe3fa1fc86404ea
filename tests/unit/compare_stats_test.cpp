#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "trackiq/analysis/compare_stats.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/stats.hpp"

// Reference values come from scipy 1.10.1 (Debian 12); regenerate them with
//   /usr/bin/python3 tests/unit/gen_compare_stats_reference.py
// which prints every number hard-coded below, under the case names used here.

namespace trackiq::analysis {
namespace {

using I64 = std::vector<std::int64_t>;

// The same generator as `pseudo_random` in gen_compare_stats_reference.py: offset + splitmix64
// output % modulus, so larger inputs need not be pasted into this file.
I64 pseudo_random(std::uint64_t seed, std::size_t n, std::uint64_t modulus, std::int64_t offset) {
  I64 out;
  out.reserve(n);
  std::uint64_t state = seed;
  for (std::size_t i = 0; i < n; ++i) {
    state += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    out.push_back(offset + static_cast<std::int64_t>(z % modulus));
  }
  return out;
}

// Relative comparison for p-values that span many orders of magnitude.
void expect_rel(double got, double want, double rel, const char* what) {
  EXPECT_NEAR(got, want, rel * std::abs(want)) << what;
}

MannWhitneyResult mwu(const I64& x, const I64& y, MannWhitneyMethod method = MannWhitneyMethod::kAuto,
                      bool continuity = true) {
  return mann_whitney_u(x, y, MannWhitneyOptions{method, continuity});
}

// --------------------------------------------------------------------------------------------
// Mann–Whitney U
// --------------------------------------------------------------------------------------------

TEST(MannWhitneyU, MatchesScipyExactOnTheDocumentationExample) {
  // scipy.stats.mannwhitneyu([19, 22, 16, 29, 24], [20, 11, 17, 12]) -> U = 17, p = 1/9
  const auto r = mwu({19, 22, 16, 29, 24}, {20, 11, 17, 12});
  EXPECT_EQ(r.method, MannWhitneyMethod::kExact);
  EXPECT_DOUBLE_EQ(r.u, 17.0);
  expect_rel(r.p_value, 0.1111111111111111, 1e-12, "p");
  EXPECT_DOUBLE_EQ(r.probability_of_superiority, 17.0 / 20.0);
  EXPECT_DOUBLE_EQ(r.cliffs_delta, 2 * 17.0 / 20.0 - 1);
  EXPECT_FALSE(r.ties);
  EXPECT_EQ(r.n_x, 5u);
  EXPECT_EQ(r.n_y, 4u);
}

TEST(MannWhitneyU, MatchesScipyExactForASmallSampleAgainstALargeOne) {
  // Under scipy's 'auto' rule a side of <= 8 without ties is exact, however large the other.
  const auto a = mwu(pseudo_random(1, 3, 1'000'000'000, 0), pseudo_random(2, 200, 1'000'000'000, 0));
  EXPECT_EQ(a.method, MannWhitneyMethod::kExact);
  EXPECT_DOUBLE_EQ(a.u, 127.0);
  expect_rel(a.p_value, 0.08986089403734876, 1e-11, "exact_3_vs_200");

  const auto b = mwu(pseudo_random(3, 8, 1'000'000'000, 0), pseudo_random(4, 40, 1'000'000'000, 150'000'000));
  EXPECT_EQ(b.method, MannWhitneyMethod::kExact);
  EXPECT_DOUBLE_EQ(b.u, 94.0);
  expect_rel(b.p_value, 0.06944157905983445, 1e-11, "exact_8_vs_40");
}

TEST(MannWhitneyU, MatchesScipyExactWhenForcedOnLargerSamples) {
  const auto a = mwu(pseudo_random(5, 30, 1'000'000'000, 0), pseudo_random(6, 30, 1'000'000'000, 250'000'000),
                     MannWhitneyMethod::kExact);
  EXPECT_EQ(a.method, MannWhitneyMethod::kExact);
  EXPECT_DOUBLE_EQ(a.u, 289.0);
  expect_rel(a.p_value, 0.016870533345421112, 1e-10, "exact_forced_30_vs_30");

  const auto b = mwu(pseudo_random(7, 60, 1'000'000'000, 0), pseudo_random(8, 60, 1'000'000'000, 200'000'000),
                     MannWhitneyMethod::kExact);
  EXPECT_DOUBLE_EQ(b.u, 1295.0);
  expect_rel(b.p_value, 0.0077742163522779035, 1e-9, "exact_forced_60_vs_60");
}

TEST(MannWhitneyU, ExactPValueMatchesFullEnumerationOfArrangements) {
  // Under H0 every choice of which ranks belong to x is equally likely: enumerate them all.
  for (std::size_t m = 1; m <= 6; ++m) {
    for (std::size_t n = 1; n <= 7; ++n) {
      I64 x, y;
      // x takes every other rank from the bottom: a lopsided but not extreme arrangement.
      for (std::size_t r = 0, xi = 0; r < m + n; ++r) {
        if (xi < m && (r % 2 == 0 || (m + n - r) <= (m - xi))) {
          x.push_back(static_cast<std::int64_t>(r));
          ++xi;
        } else {
          y.push_back(static_cast<std::int64_t>(r));
        }
      }
      const auto r = mwu(x, y, MannWhitneyMethod::kExact);
      const double u_max = std::max(r.u, static_cast<double>(m * n) - r.u);
      // scipy's two-sided p: twice the upper tail P(U >= max(U_x, U_y)), capped at 1.
      std::uint64_t upper = 0, total = 0;
      for (std::uint32_t mask = 0; mask < (1u << (m + n)); ++mask) {
        if (static_cast<std::size_t>(__builtin_popcount(mask)) != m) continue;
        ++total;
        double u = 0;  // U of the ranks in `mask` against the others
        for (std::size_t i = 0; i < m + n; ++i)
          if (mask >> i & 1)
            for (std::size_t j = 0; j < i; ++j) u += (mask >> j & 1) ? 0 : 1;
        if (u >= u_max) ++upper;
      }
      const double want = std::min(1.0, 2.0 * static_cast<double>(upper) / static_cast<double>(total));
      EXPECT_NEAR(r.p_value, want, 1e-14) << "m=" << m << " n=" << n;
    }
  }
}

TEST(MannWhitneyU, SortedInputGivesTheSameTestWithoutACopy) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> z(0.0, 1.0);
  for (const std::size_t n : {3, 8, 40, 500}) {
    std::vector<double> x(n), y(n + 7);
    for (auto& v : x) v = std::round(10 * z(rng)) / 10;  // ties, so both methods are exercised
    for (auto& v : y) v = std::round(10 * z(rng) + 3) / 10;
    const auto a = mann_whitney_u(x, y);
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    const auto b = mann_whitney_u_sorted(x, y);
    EXPECT_EQ(a.u, b.u) << n;
    EXPECT_EQ(a.p_value, b.p_value) << n;
    EXPECT_EQ(a.method, b.method) << n;
  }
  const std::vector<double> unsorted{2, 1}, one{1}, with_nan{1, std::nan("")};
  EXPECT_THROW(mann_whitney_u_sorted(unsorted, one), InputError);
  EXPECT_THROW(mann_whitney_u_sorted(one, with_nan), InputError);
  EXPECT_THROW(mann_whitney_u_sorted(one, std::vector<double>{}), InputError);
}

TEST(MannWhitneyU, UsesTheTieCorrectedNormalApproximationWhenSamplesTie) {
  const auto r = mwu({1, 2, 2, 3, 5}, {2, 3, 3, 4, 6, 6});
  EXPECT_TRUE(r.ties);
  EXPECT_EQ(r.method, MannWhitneyMethod::kAsymptotic);
  EXPECT_DOUBLE_EQ(r.u, 7.0);
  expect_rel(r.p_value, 0.1620516143696369, 1e-12, "ties_small");
}

TEST(MannWhitneyU, MatchesScipyAsymptoticOnALargeTiedSample) {
  const I64 x = pseudo_random(9, 3000, 2000, 0), y = pseudo_random(10, 2500, 2000, 30);
  const auto r = mwu(x, y);
  EXPECT_EQ(r.method, MannWhitneyMethod::kAsymptotic);
  EXPECT_DOUBLE_EQ(r.u, 3641669.0);
  expect_rel(r.p_value, 0.06467127099393138, 1e-11, "large_ties");
  const auto nc = mwu(x, y, MannWhitneyMethod::kAuto, false);
  expect_rel(nc.p_value, 0.0646700363330155, 1e-11, "large_ties_no_continuity");
}

TEST(MannWhitneyU, MatchesScipyWhenTheNormalApproximationIsForcedOnASmallSample) {
  const auto r = mwu({19, 22, 16, 29, 24}, {20, 11, 17, 12}, MannWhitneyMethod::kAsymptotic);
  EXPECT_EQ(r.method, MannWhitneyMethod::kAsymptotic);
  expect_rel(r.p_value, 0.11134688653314041, 1e-12, "docs_example_asymptotic");
}

TEST(MannWhitneyU, IdenticalSamplesGiveAPValueOfOne) {
  const I64 same = pseudo_random(11, 100, 50, 0);
  const auto r = mwu(same, same);
  EXPECT_DOUBLE_EQ(r.u, 5000.0);
  EXPECT_EQ(r.p_value, 1.0);
  EXPECT_DOUBLE_EQ(r.probability_of_superiority, 0.5);
  EXPECT_DOUBLE_EQ(r.cliffs_delta, 0.0);
  // Every pooled value equal: the normal approximation has σ = 0, and there is no evidence.
  const auto flat = mwu(I64(50, 7), I64(80, 7));
  EXPECT_EQ(flat.p_value, 1.0);
  EXPECT_DOUBLE_EQ(flat.probability_of_superiority, 0.5);
  const auto flat_nc = mwu(I64(50, 7), I64(80, 7), MannWhitneyMethod::kAsymptotic, false);
  EXPECT_EQ(flat_nc.p_value, 1.0);
}

TEST(MannWhitneyU, FullySeparatedSamplesGiveTheSmallestPValue) {
  I64 lo(8), hi(8);
  std::iota(lo.begin(), lo.end(), 1);
  std::iota(hi.begin(), hi.end(), 9);
  const auto exact = mwu(lo, hi);
  EXPECT_EQ(exact.method, MannWhitneyMethod::kExact);
  EXPECT_DOUBLE_EQ(exact.u, 0.0);
  expect_rel(exact.p_value, 2.0 / 12870.0, 1e-12, "separated_8_vs_8");  // 2 / C(16, 8)
  EXPECT_DOUBLE_EQ(exact.probability_of_superiority, 0.0);
  EXPECT_DOUBLE_EQ(exact.cliffs_delta, -1.0);

  I64 a(200), b(200);
  std::iota(a.begin(), a.end(), 0);
  std::iota(b.begin(), b.end(), 200);
  const auto asym = mwu(b, a);
  EXPECT_EQ(asym.method, MannWhitneyMethod::kAsymptotic);
  EXPECT_DOUBLE_EQ(asym.u, 40000.0);
  expect_rel(asym.p_value, 4.830856390397399e-67, 1e-9, "separated_200_vs_200");
  EXPECT_DOUBLE_EQ(asym.probability_of_superiority, 1.0);
}

TEST(MannWhitneyU, SwappingTheSamplesMirrorsUAndKeepsThePValue) {
  const std::vector<std::pair<I64, I64>> cases{
      {{19, 22, 16, 29, 24}, {20, 11, 17, 12}},
      {{1, 2, 2, 3, 5}, {2, 3, 3, 4, 6, 6}},
      {pseudo_random(9, 3000, 2000, 0), pseudo_random(10, 2500, 2000, 30)},
      {pseudo_random(1, 3, 1'000'000'000, 0), pseudo_random(2, 200, 1'000'000'000, 0)},
  };
  for (const auto& [x, y] : cases) {
    const auto xy = mwu(x, y), yx = mwu(y, x);
    EXPECT_DOUBLE_EQ(xy.u + yx.u, static_cast<double>(x.size() * y.size()));
    EXPECT_DOUBLE_EQ(xy.p_value, yx.p_value);
    EXPECT_EQ(xy.method, yx.method);
    EXPECT_NEAR(xy.probability_of_superiority + yx.probability_of_superiority, 1.0, 1e-15);
    EXPECT_NEAR(xy.cliffs_delta, -yx.cliffs_delta, 1e-15);
  }
}

TEST(MannWhitneyU, UEqualsABruteForcePairCountOnRandomData) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 30; ++trial) {
    const std::size_t n1 = 1 + rng() % 60, n2 = 1 + rng() % 60;
    const std::uint64_t range = 1 + rng() % 40;  // small ranges force ties
    I64 x(n1), y(n2);
    for (auto& v : x) v = static_cast<std::int64_t>(rng() % range);
    for (auto& v : y) v = static_cast<std::int64_t>(rng() % range);
    double u = 0;
    for (auto a : x)
      for (auto b : y) u += a > b ? 1.0 : (a == b ? 0.5 : 0.0);
    const auto r = mwu(x, y, MannWhitneyMethod::kAsymptotic);
    EXPECT_DOUBLE_EQ(r.u, u);
    EXPECT_GE(r.p_value, 0.0);
    EXPECT_LE(r.p_value, 1.0);
  }
}

TEST(MannWhitneyU, RanksDoublesAndInfinities) {
  const std::vector<double> x{0.5, 1.25, -3.0, 2.75, 10.0, 0.125}, y{4.5, 3.25, 8.0, 7.5, 6.0, 5.5, 9.0};
  const auto r = mann_whitney_u(x, y);
  EXPECT_EQ(r.method, MannWhitneyMethod::kExact);
  EXPECT_DOUBLE_EQ(r.u, 7.0);
  expect_rel(r.p_value, 0.05128205128205128, 1e-12, "doubles_exact");

  // scipy 1.10 answers NaN for infinite input; ±1e300 rank the same and give the reference.
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> a{-inf, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5},
      b{1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, inf, 9.0};
  const auto ri = mann_whitney_u(a, b);
  EXPECT_EQ(ri.method, MannWhitneyMethod::kAsymptotic);
  EXPECT_DOUBLE_EQ(ri.u, 28.0);
  expect_rel(ri.p_value, 0.17790959498698244, 1e-12, "doubles_with_infinity");
}

TEST(MannWhitneyU, RejectsEmptySamplesNaNAndExactWithTies) {
  EXPECT_THROW(mwu({}, {1, 2}), InputError);
  EXPECT_THROW(mwu({1}, {}), InputError);
  const std::vector<double> nan_x{1.0, std::nan("")}, y{2.0};
  EXPECT_THROW(mann_whitney_u(nan_x, y), InputError);
  EXPECT_THROW(mwu({1, 2, 2}, {3, 4}, MannWhitneyMethod::kExact), InputError);
  EXPECT_THROW(mwu(pseudo_random(1, 100, 1'000'000'000, 0), pseudo_random(2, 100, 1'000'000'000, 0),
                   MannWhitneyMethod::kExact),
               InputError);  // min side > 64
}

// Exact at a million samples per side. How fast is a benchmark's claim (docs/performance.md §6),
// not a test's: the sanitizer trees run this at -O0 on a shared machine.
TEST(MannWhitneyU, HandlesAMillionSamplesPerSide) {
  const I64 x = pseudo_random(12, 1'000'000, 1'000'000, 0), y = pseudo_random(13, 1'000'000, 1'000'000, 1000);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = mwu(x, y);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.method, MannWhitneyMethod::kAsymptotic);
  EXPECT_DOUBLE_EQ(r.u, 499294987703.0);
  expect_rel(r.p_value, 0.08418203970997166, 1e-9, "million");
  RecordProperty("seconds_1M_vs_1M", std::to_string(seconds));
}

// --------------------------------------------------------------------------------------------
// Bootstrap
// --------------------------------------------------------------------------------------------

// Latency-like data: log-normal nanoseconds, optionally scaled.
I64 latencies(std::mt19937_64& rng, std::size_t n, double scale = 1.0) {
  std::lognormal_distribution<double> dist(std::log(2e6), 0.35);
  I64 out(n);
  for (auto& v : out) v = static_cast<std::int64_t>(scale * dist(rng));
  return out;
}

BootstrapOptions options_with(ResamplingMethod method, std::uint32_t resamples = 1000, std::uint64_t seed = 42) {
  BootstrapOptions o;
  o.method = method;
  o.resamples = resamples;
  o.seed = seed;
  return o;
}

TEST(Bootstrap, ObservedPercentilesAreTheProjectsLinearInterpolation) {
  std::mt19937_64 rng(1);
  const I64 base = latencies(rng, 1234), cur = latencies(rng, 777);
  BootstrapOptions o;
  o.percentiles = {0, 1, 50, 90, 99, 99.9, 100};
  o.resamples = 10;
  const auto r = bootstrap_percentile_differences(base, cur, o);
  const auto pb = exact_percentiles(base, o.percentiles), pc = exact_percentiles(cur, o.percentiles);
  ASSERT_EQ(r.differences.size(), o.percentiles.size());
  for (std::size_t i = 0; i < o.percentiles.size(); ++i) {
    EXPECT_EQ(r.differences[i].p, o.percentiles[i]);
    EXPECT_EQ(r.differences[i].baseline, pb[i].value) << "p" << o.percentiles[i];
    EXPECT_EQ(r.differences[i].current, pc[i].value) << "p" << o.percentiles[i];
    EXPECT_EQ(r.differences[i].difference, pc[i].value - pb[i].value);
    EXPECT_LE(r.differences[i].low, r.differences[i].high);
  }
}

TEST(Bootstrap, IsDeterministicForASeedWithEitherResamplingMethod) {
  std::mt19937_64 rng(2);
  const I64 base = latencies(rng, 3000), cur = latencies(rng, 2500);
  for (auto method : {ResamplingMethod::kIndexDraws, ResamplingMethod::kOrderStatistics}) {
    const auto a = bootstrap_percentile_differences(base, cur, options_with(method, 500, 7));
    const auto b = bootstrap_percentile_differences(base, cur, options_with(method, 500, 7));
    const auto c = bootstrap_percentile_differences(base, cur, options_with(method, 500, 8));
    EXPECT_EQ(a.method, method);
    EXPECT_EQ(a.seed, 7u);
    EXPECT_EQ(a.resamples, 500u);
    for (std::size_t i = 0; i < a.differences.size(); ++i) {
      EXPECT_EQ(a.differences[i].low, b.differences[i].low);
      EXPECT_EQ(a.differences[i].high, b.differences[i].high);
    }
    EXPECT_TRUE(a.differences[0].low != c.differences[0].low || a.differences[0].high != c.differences[0].high);
  }
  // The order of the input does not matter: both sides are sorted first.
  I64 shuffled = base;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  const auto a = bootstrap_percentile_differences(base, cur, options_with(ResamplingMethod::kIndexDraws, 200));
  const auto s = bootstrap_percentile_differences(shuffled, cur, options_with(ResamplingMethod::kIndexDraws, 200));
  EXPECT_EQ(a.differences[1].low, s.differences[1].low);
  EXPECT_EQ(a.differences[1].high, s.differences[1].high);
}

TEST(Bootstrap, AutoDrawsIndicesForSmallSamplesAndOrderStatisticsForLargeOnes) {
  std::mt19937_64 rng(3);
  BootstrapOptions o;
  o.resamples = 50;
  o.index_draws_max_n = 100;
  EXPECT_EQ(bootstrap_percentile_differences(latencies(rng, 100), latencies(rng, 90), o).method,
            ResamplingMethod::kIndexDraws);
  EXPECT_EQ(bootstrap_percentile_differences(latencies(rng, 100), latencies(rng, 101), o).method,
            ResamplingMethod::kOrderStatistics);
}

// Coverage on simulated data: two samples from one distribution, so the true difference is 0.
// A 95 % interval should contain it in about 95 % of repetitions (percentile-method intervals
// for a median from 150 samples run slightly below or above nominal; the bounds allow that).
double coverage_of_zero(ResamplingMethod method, std::size_t n, double p, int repetitions, std::uint32_t resamples) {
  std::mt19937_64 rng(2024);
  BootstrapOptions o = options_with(method, resamples);
  o.percentiles = {p};
  int covered = 0;
  for (int rep = 0; rep < repetitions; ++rep) {
    o.seed = static_cast<std::uint64_t>(rep);
    const auto r = bootstrap_percentile_differences(latencies(rng, n), latencies(rng, n), o);
    covered += r.differences[0].excludes_zero() ? 0 : 1;
  }
  return static_cast<double>(covered) / repetitions;
}

TEST(Bootstrap, MedianIntervalCoversZeroForSamplesFromOneDistribution) {
  const double cov = coverage_of_zero(ResamplingMethod::kIndexDraws, 150, 50, 200, 400);
  RecordProperty("coverage_median_index_draws", std::to_string(cov));
  EXPECT_GE(cov, 0.88);
  EXPECT_LE(cov, 0.99);
  const double cov_os = coverage_of_zero(ResamplingMethod::kOrderStatistics, 150, 50, 200, 400);
  RecordProperty("coverage_median_order_statistics", std::to_string(cov_os));
  EXPECT_GE(cov_os, 0.88);
  EXPECT_LE(cov_os, 0.99);
}

TEST(Bootstrap, P99IntervalCoversZeroWhenTheTailIsWellSampled) {
  // 5 000 per side leaves 50 samples beyond p99 on each side.
  const double cov = coverage_of_zero(ResamplingMethod::kOrderStatistics, 5000, 99, 200, 400);
  RecordProperty("coverage_p99_order_statistics", std::to_string(cov));
  EXPECT_GE(cov, 0.88);
  EXPECT_LE(cov, 0.99);
}

TEST(Bootstrap, IntervalExcludesZeroForAPlanted30PercentShift) {
  std::mt19937_64 rng(5);
  const I64 base = latencies(rng, 2000), cur = latencies(rng, 2000, 1.3);
  for (auto method : {ResamplingMethod::kIndexDraws, ResamplingMethod::kOrderStatistics}) {
    const auto r = bootstrap_percentile_differences(base, cur, options_with(method));
    for (const auto& d : r.differences) {
      EXPECT_TRUE(d.excludes_zero()) << "p" << d.p;
      EXPECT_GT(d.low, 0.0) << "p" << d.p;
      EXPECT_LE(d.low, d.difference);
      EXPECT_GE(d.high, d.difference);
    }
  }
}

TEST(Bootstrap, OrderStatisticsAndIndexDrawsAgreeInDistribution) {
  // Both are the same bootstrap; with B = 4000 their 2.5 % / 97.5 % points differ only by
  // Monte-Carlo error (about 0.06 bootstrap standard deviations).
  std::mt19937_64 rng(6);
  const I64 base = latencies(rng, 3000), cur = latencies(rng, 2000, 1.02);
  BootstrapOptions o = options_with(ResamplingMethod::kIndexDraws, 4000);
  o.percentiles = {50, 90, 99};
  const auto a = bootstrap_percentile_differences(base, cur, o);
  o.method = ResamplingMethod::kOrderStatistics;
  const auto b = bootstrap_percentile_differences(base, cur, o);
  for (std::size_t i = 0; i < o.percentiles.size(); ++i) {
    const double sd = (a.differences[i].high - a.differences[i].low) / 3.92;
    EXPECT_NEAR(a.differences[i].low, b.differences[i].low, 0.3 * sd) << "p" << o.percentiles[i];
    EXPECT_NEAR(a.differences[i].high, b.differences[i].high, 0.3 * sd) << "p" << o.percentiles[i];
  }
}

TEST(Bootstrap, ConstantSamplesGiveAZeroWidthInterval) {
  for (auto method : {ResamplingMethod::kIndexDraws, ResamplingMethod::kOrderStatistics}) {
    const auto r = bootstrap_percentile_differences(I64(300, 10), I64(1, 25), options_with(method, 100));
    for (const auto& d : r.differences) {
      EXPECT_EQ(d.difference, 15.0);
      EXPECT_EQ(d.low, 15.0);
      EXPECT_EQ(d.high, 15.0);
    }
  }
}

TEST(Bootstrap, ReportsHowManySamplesLieBeyondEachPercentile) {
  std::mt19937_64 rng(7);
  const auto r = bootstrap_percentile_differences(latencies(rng, 500), latencies(rng, 2000),
                                                  options_with(ResamplingMethod::kAuto, 10));
  EXPECT_EQ(r.differences[0].tail_samples, 250u);  // median: half of the smaller side
  EXPECT_EQ(r.differences[1].tail_samples, 5u);    // p99 of 500: too few for a reliable CI
}

TEST(Bootstrap, AcceptsDoubles) {
  std::mt19937_64 rng(8);
  std::normal_distribution<double> d(10.0, 1.0);
  std::vector<double> base(400), cur(400);
  for (auto& v : base) v = d(rng);
  for (auto& v : cur) v = d(rng) + 3.0;
  const auto r = bootstrap_percentile_differences(base, cur, options_with(ResamplingMethod::kAuto, 300));
  EXPECT_TRUE(r.differences[0].excludes_zero());
  EXPECT_NEAR(r.differences[0].difference, 3.0, 0.5);
  std::vector<double> sorted = base;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_DOUBLE_EQ(r.differences[0].baseline, sorted[199] + 0.5 * (sorted[200] - sorted[199]));
}

TEST(Bootstrap, RejectsEmptySamplesNonFiniteValuesAndBadOptions) {
  EXPECT_THROW(bootstrap_percentile_differences(I64{}, I64{1}), InputError);
  EXPECT_THROW(bootstrap_percentile_differences(I64{1}, I64{}), InputError);
  const std::vector<double> inf{1.0, std::numeric_limits<double>::infinity()}, ok{1.0};
  EXPECT_THROW(bootstrap_percentile_differences(inf, ok), InputError);
  BootstrapOptions o;
  o.resamples = 0;
  EXPECT_THROW(bootstrap_percentile_differences(I64{1}, I64{2}, o), InputError);
  o = {};
  o.confidence = 1.0;
  EXPECT_THROW(bootstrap_percentile_differences(I64{1}, I64{2}, o), InputError);
  o = {};
  o.percentiles = {101};
  EXPECT_THROW(bootstrap_percentile_differences(I64{1}, I64{2}, o), InputError);
}

// At a million samples per side the bootstrap draws order statistics, not indices (timing: a
// benchmark's claim, not this test's).
TEST(Bootstrap, HandlesAMillionSamplesPerSideWithOrderStatistics) {
  std::mt19937_64 rng(9);
  const I64 base = latencies(rng, 1'000'000), cur = latencies(rng, 1'000'000, 1.001);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = bootstrap_percentile_differences(base, cur);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.method, ResamplingMethod::kOrderStatistics);
  EXPECT_EQ(r.resamples, 1000u);
  for (const auto& d : r.differences) {
    EXPECT_LE(d.low, d.difference);
    EXPECT_GE(d.high, d.difference);
  }
  RecordProperty("seconds_1M_vs_1M", std::to_string(seconds));
}

// --------------------------------------------------------------------------------------------
// Benjamini–Hochberg
// --------------------------------------------------------------------------------------------

TEST(Bootstrap, PValueIsAtItsFloorForASeparatedShiftAndOneForIdenticalSamples) {
  BootstrapOptions o;
  o.resamples = 999;
  o.percentiles = {50.0};
  const auto shifted = bootstrap_percentile_differences(pseudo_random(31, 400, 1000, 0), pseudo_random(32, 400, 1000, 5000), o);
  EXPECT_DOUBLE_EQ(shifted.differences[0].p_value, 2.0 / 1000.0);
  const I64 same = pseudo_random(33, 300, 1000, 0);
  const auto aa = bootstrap_percentile_differences(same, same, o);
  EXPECT_GT(aa.differences[0].p_value, 0.5);
}

// --------------------------------------------------------------------------------------------
// Welch's t-test (reference: scipy.stats.ttest_ind(current, baseline, equal_var=False))
// --------------------------------------------------------------------------------------------

TEST(Welch, MatchesScipyOnASmallExample) {
  const auto r = welch_t_test(I64{10, 12, 11, 13, 9}, I64{14, 15, 13, 16, 15, 14});
  expect_rel(r.t, 4.234008652363937, 1e-12, "t");
  expect_rel(r.p_value, 0.0042063607395941855, 1e-9, "p");
  expect_rel(r.df, 6.745585874799358, 1e-12, "df");
  expect_rel(r.low, 1.530262877495042, 1e-9, "low");
  expect_rel(r.high, 5.469737122504958, 1e-9, "high");
  EXPECT_DOUBLE_EQ(r.difference, 14.5 - 11.0);
}

TEST(Welch, MatchesScipyOnLargeSamplesWithAnOffset) {
  const auto r = welch_t_test(pseudo_random(21, 2000, 1'000'000, 10'000'000), pseudo_random(22, 1500, 3'000'000, 9'500'000));
  expect_rel(r.t, 22.01107949499065, 1e-10, "t");
  expect_rel(r.p_value, 4.6292454998808065e-95, 1e-6, "p");
  expect_rel(r.df, 1762.2921420078214, 1e-10, "df");
  expect_rel(r.low, 458449.34293267014, 1e-9, "low");
  expect_rel(r.high, 548142.323733994, 1e-9, "high");
}

TEST(Welch, StudentTMatchesScipy) {
  expect_rel(student_t_cdf(-2.5, 3), 0.04385332350403277, 1e-11, "cdf(-2.5, 3)");
  expect_rel(student_t_quantile(0.975, 2.5), 3.5746548420118773, 1e-10, "ppf(0.975, 2.5)");
  expect_rel(student_t_cdf(1.0, 1000), 0.8412237909576636, 1e-11, "cdf(1, 1000)");
  EXPECT_DOUBLE_EQ(student_t_cdf(0.0, 7), 0.5);
}

TEST(Welch, ConstantSamplesAndTooFewValues) {
  EXPECT_DOUBLE_EQ(welch_t_test(I64{5, 5, 5}, I64{5, 5}).p_value, 1.0);
  EXPECT_DOUBLE_EQ(welch_t_test(I64{5, 5, 5}, I64{6, 6}).p_value, 0.0);
  EXPECT_THROW(welch_t_test(I64{5}, I64{6, 7}), InputError);
  EXPECT_THROW(welch_t_test(std::vector<double>{1.0, NAN}, std::vector<double>{1.0, 2.0}), InputError);
}

// --------------------------------------------------------------------------------------------
// Tail share (reference: scipy.stats.fisher_exact(..., alternative="greater"))
// --------------------------------------------------------------------------------------------

I64 iota_from(std::int64_t first, std::size_t n) {
  I64 v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

TEST(Exceedance, TenOfAThousandBeyondTheBaselineMaximumMatchesFisher) {
  I64 cur(990, 500);
  cur.insert(cur.end(), 10, 2000);
  const auto r = exceedance_test(iota_from(1, 1000), cur, 1);
  EXPECT_DOUBLE_EQ(r.cut, 1000);
  EXPECT_EQ(r.baseline_beyond, 0u);
  EXPECT_EQ(r.current_beyond, 10u);
  EXPECT_DOUBLE_EQ(r.current_share, 0.01);
  EXPECT_DOUBLE_EQ(r.current_beyond_median, 2000);
  expect_rel(r.p_value, 0.0009547325826708071, 1e-9, "p");
}

TEST(Exceedance, CutAtTheTenthLargestMatchesFisher) {
  I64 cur(7988, 1);
  cur.insert(cur.end(), 12, 20000);
  const auto r = exceedance_test(iota_from(1, 10000), cur, 10);
  EXPECT_DOUBLE_EQ(r.cut, 9991);
  EXPECT_EQ(r.baseline_beyond, 9u);
  EXPECT_EQ(r.current_beyond, 12u);
  expect_rel(r.p_value, 0.1704452316760513, 1e-9, "p");
}

TEST(Exceedance, SmallSamplesAndBadRanks) {
  const auto r = exceedance_test(I64{1, 2, 3, 4, 5}, I64{1, 2, 3, 4, 9}, 1);
  expect_rel(r.p_value, 0.5, 1e-12, "p");
  EXPECT_DOUBLE_EQ(exceedance_test(I64{1, 2, 3}, I64{0, 1}, 1).p_value, 1.0);
  EXPECT_THROW(exceedance_test(I64{1, 2}, I64{1}, 3), InputError);
  EXPECT_THROW(exceedance_test(I64{1, 2}, I64{1}, 0), InputError);
  EXPECT_THROW(exceedance_test(I64{}, I64{1}, 1), InputError);
  EXPECT_THROW(exceedance_test(I64{1, 2}, I64{1}, 1, 0.5), InputError);
}

TEST(Exceedance, ACutFactorAsksForAMarginBeyondTheBaseline) {
  // 14 of 100 a hair beyond the baseline's maximum (a small shift of a tight distribution), 2 far.
  I64 cur(84, 100);
  cur.insert(cur.end(), 14, 1003);
  cur.insert(cur.end(), 2, 5000);
  const auto at_max = exceedance_test(iota_from(901, 100), cur, 1);
  EXPECT_EQ(at_max.current_beyond, 16u);
  const auto margin = exceedance_test(iota_from(901, 100), cur, 1, 1.1);
  EXPECT_DOUBLE_EQ(margin.cut, 1100);
  EXPECT_EQ(margin.current_beyond, 2u);
  EXPECT_GT(margin.p_value, 0.05);
}

// Exactness: over seeded A/A pairs from one continuous distribution, P(p <= alpha) <= alpha.
TEST(Exceedance, IsExactUnderTheNullForTheMaximumCut) {
  std::mt19937_64 rng(7);
  std::exponential_distribution<double> e(1.0);
  int rejections = 0;
  constexpr int kPairs = 4000;
  for (int i = 0; i < kPairs; ++i) {
    I64 b(50), c(50);
    for (auto& v : b) v = static_cast<std::int64_t>(e(rng) * 1e9);
    for (auto& v : c) v = static_cast<std::int64_t>(e(rng) * 1e9);
    rejections += exceedance_test(b, c, 1).p_value <= 0.05;
  }
  // Nominal 5 %; the test's attainable levels make it at most that (binomial 3 sigma: +1 %).
  EXPECT_LE(rejections, kPairs * 6 / 100);
  EXPECT_GE(rejections, kPairs * 2 / 100);  // and it does reject sometimes: not a dead test
}

TEST(BenjaminiHochberg, MatchesAHandComputedExample) {
  // m = 5. Sorted p: 0.005, 0.01, 0.03, 0.04, 0.2; p·m/rank: 0.025, 0.025, 0.05, 0.05, 0.2;
  // running minimum from the top leaves them unchanged. Back in input order:
  const std::vector<double> p{0.01, 0.04, 0.03, 0.005, 0.2};
  const auto q = benjamini_hochberg(p);
  const double want[] = {0.025, 0.05, 0.05, 0.025, 0.2};
  ASSERT_EQ(q.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_NEAR(q[i], want[i], 1e-15) << i;
}

TEST(BenjaminiHochberg, MatchesScipyOnTiedZeroAndOnePValues) {
  // scipy.stats.false_discovery_control(p, method="bh") (computed by hand in the generator on
  // scipy < 1.11, which lacks it; same formula).
  const std::vector<double> p{0.0001, 0.9, 0.02, 0.02, 0.5, 0.003, 0.04, 0.7, 0.011, 1.0, 0.0, 0.049};
  const double want[] = {0.0006000000000000001, 0.9818181818181819, 0.04, 0.04, 0.6666666666666666,
                         0.012000000000000002, 0.06857142857142857, 0.8399999999999999, 0.033, 1.0, 0.0,
                         0.07350000000000001};
  const auto q = benjamini_hochberg(p);
  for (std::size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(q[i], want[i], 1e-15) << i;
}

TEST(BenjaminiHochberg, QValuesAreMonotoneAtLeastPAndAtMostOne) {
  std::mt19937_64 rng(10);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> p(1000);
  for (auto& v : p) v = u(rng) * u(rng);
  const auto q = benjamini_hochberg(p);
  for (std::size_t i = 0; i < p.size(); ++i) {
    EXPECT_GE(q[i], p[i]);
    EXPECT_LE(q[i], 1.0);
    for (std::size_t j = 0; j < p.size(); j += 37)
      if (p[i] <= p[j]) {
        EXPECT_LE(q[i], q[j]);
      }
  }
}

TEST(BenjaminiHochberg, AcceptsEmptyInputAndRejectsInvalidPValues) {
  EXPECT_TRUE(benjamini_hochberg({}).empty());
  EXPECT_THROW(benjamini_hochberg(std::vector<double>{0.1, -0.01}), InputError);
  EXPECT_THROW(benjamini_hochberg(std::vector<double>{1.5}), InputError);
  EXPECT_THROW(benjamini_hochberg(std::vector<double>{std::nan("")}), InputError);
}

}  // namespace
}  // namespace trackiq::analysis
