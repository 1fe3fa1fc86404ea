#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <span>
#include <vector>

#include "trackiq/core/error.hpp"
#include "trackiq/core/stats.hpp"

namespace trackiq {
namespace {

// Reference: numpy.percentile(x, p) with the default 'linear' method, from a sorted copy.
double reference_percentile(std::vector<std::int64_t> x, double p) {
  std::sort(x.begin(), x.end());
  const double rank = p / 100.0 * static_cast<double>(x.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(rank));
  const auto hi = std::min(lo + 1, x.size() - 1);
  return static_cast<double>(x[lo]) + (rank - static_cast<double>(lo)) * static_cast<double>(x[hi] - x[lo]);
}

TEST(ExactPercentiles, MatchNumpyKnownAnswers) {
  // numpy.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [0, 25, 50, 90, 99, 100])
  //   -> [1.0, 3.25, 5.5, 9.1, 9.91, 10.0]
  const std::vector<std::int64_t> x{7, 3, 10, 1, 5, 9, 2, 8, 4, 6};
  const double ps[] = {0, 25, 50, 90, 99, 100};
  const auto r = exact_percentiles(x, ps);
  const double expected[] = {1.0, 3.25, 5.5, 9.1, 9.91, 10.0};
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_DOUBLE_EQ(r[i].p, ps[i]);
    EXPECT_NEAR(r[i].value, expected[i], 1e-12) << "p" << ps[i];
  }
}

TEST(ExactPercentiles, SingleSampleIsEveryPercentile) {
  const std::vector<std::int64_t> x{42};
  const double ps[] = {0, 50, 99.9, 100};
  for (const auto& p : exact_percentiles(x, ps)) EXPECT_EQ(p.value, 42.0);
}

TEST(ExactPercentiles, AgreeWithSortingReferenceOnRandomData) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> lat(13.0, 0.8);
  for (int trial = 0; trial < 20; ++trial) {
    const std::size_t n = 1 + rng() % 5000;
    std::vector<std::int64_t> x(n);
    for (auto& v : x) v = static_cast<std::int64_t>(lat(rng));
    if (trial % 4 == 0)  // heavy ties
      for (auto& v : x) v = v % 7;
    // Unsorted, repeated and descending requests exercise the incremental selection.
    const double ps[] = {99.9, 50, 0, 100, 90, 50, 95, 99, 1, 33.3};
    const auto got = exact_percentiles(x, ps);
    for (std::size_t i = 0; i < std::size(ps); ++i)
      ASSERT_DOUBLE_EQ(got[i].value, reference_percentile(x, ps[i])) << "n=" << n << " p=" << ps[i];
  }
}

TEST(ExactPercentiles, BucketSelectIsExactOnLargeAwkwardData) {
  // Above the small-input threshold: negatives, one huge outlier, heavy ties, sorted input.
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> lat(14.0, 1.2);
  std::vector<std::vector<std::int64_t>> sets;
  std::vector<std::int64_t> a(120'000);
  for (auto& v : a) v = static_cast<std::int64_t>(lat(rng)) - 2'000'000;  // some negative
  a[77] = INT64_MAX / 2;
  a[78] = INT64_MIN / 2;
  sets.push_back(a);
  std::vector<std::int64_t> ties(60'000);
  for (auto& v : ties) v = static_cast<std::int64_t>(rng() % 3) * 1'000'000'000;
  sets.push_back(ties);
  std::vector<std::int64_t> sorted(50'000);
  for (std::size_t i = 0; i < sorted.size(); ++i) sorted[i] = static_cast<std::int64_t>(i * i);
  sets.push_back(sorted);
  sets.push_back(std::vector<std::int64_t>(10'000, 42));
  const double ps[] = {0, 0.1, 25, 50, 90, 95, 99, 99.9, 99.99, 100, 50};
  for (const auto& x : sets) {
    const auto got = exact_percentiles(x, ps);
    std::vector<std::int64_t> scratch = x;
    const auto by_selection = exact_percentiles_inplace(scratch, ps);
    for (std::size_t i = 0; i < std::size(ps); ++i) {
      ASSERT_DOUBLE_EQ(got[i].value, reference_percentile(x, ps[i])) << "n=" << x.size() << " p=" << ps[i];
      ASSERT_DOUBLE_EQ(by_selection[i].value, got[i].value);
    }
  }
}

// The library's formula on the order statistics of a sorted copy, in doubles (so that int64
// extremes do not overflow): the large-input paths must return exactly these values.
std::vector<double> sorted_reference(std::vector<std::int64_t> x, std::span<const double> ps) {
  std::sort(x.begin(), x.end());
  std::vector<double> out;
  for (double p : ps) {
    const double rank = p / 100.0 * static_cast<double>(x.size() - 1);
    const auto k = static_cast<std::size_t>(std::floor(rank));
    const double frac = rank - static_cast<double>(k);
    const double lower = static_cast<double>(x[k]);
    double value = lower;
    if (k + 1 < x.size() && frac > 0.0) value = lower + frac * (static_cast<double>(x[k + 1]) - lower);
    out.push_back(value);
  }
  return out;
}

// Inputs chosen against the sample select: every order, tie pattern and extreme it could get
// wrong, at sizes around the small-input threshold (4096), the sample's run of 4 values and
// its size cap (n / 16 = 65536 at n = 2^20).
std::vector<std::vector<std::int64_t>> adversarial_inputs() {
  std::mt19937_64 rng(23);
  std::lognormal_distribution<double> lat(13.8, 0.5);
  std::vector<std::vector<std::int64_t>> sets;
  for (std::size_t n : {4095u, 4096u, 4097u, 4099u, 65'537u, (1u << 20) - 1, (1u << 20) + 3}) {
    std::vector<std::int64_t> x(n);
    for (auto& v : x) v = static_cast<std::int64_t>(lat(rng));
    sets.push_back(x);
  }
  const std::size_t n = 100'003;
  sets.push_back(std::vector<std::int64_t>(n, 7));                 // all equal
  sets.push_back(std::vector<std::int64_t>(n, INT64_MIN));         // all equal, the minimum
  sets.push_back(std::vector<std::int64_t>(n, INT64_MAX));         // all equal, the maximum
  std::vector<std::int64_t> two(n);                                // two values, half each
  for (std::size_t i = 0; i < n; ++i) two[i] = i % 2 ? 1'000'000 : -1'000'000;
  sets.push_back(two);
  std::vector<std::int64_t> extremes(n);                           // only INT64_MIN and INT64_MAX
  for (auto& v : extremes) v = rng() % 10 ? INT64_MIN : INT64_MAX;
  sets.push_back(extremes);
  std::vector<std::int64_t> spread(n);                             // the whole int64 range
  for (auto& v : spread) v = static_cast<std::int64_t>(rng());
  spread[5] = INT64_MIN;
  spread[6] = INT64_MAX;
  sets.push_back(spread);
  std::vector<std::int64_t> negative(n);                           // all negative
  for (auto& v : negative) v = -static_cast<std::int64_t>(lat(rng));
  sets.push_back(negative);
  std::vector<std::int64_t> ascending(n), descending(n);
  for (std::size_t i = 0; i < n; ++i) {
    ascending[i] = static_cast<std::int64_t>(i) - 50'000;
    descending[i] = -ascending[i];
  }
  sets.push_back(ascending);
  sets.push_back(descending);
  std::vector<std::int64_t> periodic(n);  // period 16 = the default stratum length: a biased sample
  for (std::size_t i = 0; i < n; ++i) periodic[i] = i % 16 == 0 ? 1'000'000'000 : static_cast<std::int64_t>(i % 16);
  sets.push_back(periodic);
  std::vector<std::int64_t> ties(n);  // few distinct values, heavy ties at every quantile
  for (auto& v : ties) v = static_cast<std::int64_t>(rng() % 5) * 3;
  sets.push_back(ties);
  std::vector<std::int64_t> tail(n);  // 99 % equal, a spread tail
  for (auto& v : tail) v = rng() % 100 ? 5 : static_cast<std::int64_t>(lat(rng));
  sets.push_back(tail);
  return sets;
}

TEST(ExactPercentiles, EveryLargeInputPathIsExactOnAdversarialInputs) {
  const double ps[] = {0, 0.1, 1, 25, 33.3, 50, 90, 95, 99, 99.9, 99.99, 100, 50};
  for (const auto& x : adversarial_inputs()) {
    const auto want = sorted_reference(x, ps);
    const auto check = [&](const std::vector<Percentile>& got, const char* path) {
      ASSERT_EQ(got.size(), std::size(ps));
      for (std::size_t i = 0; i < std::size(ps); ++i) {
        EXPECT_EQ(got[i].p, ps[i]);
        ASSERT_EQ(got[i].value, want[i]) << path << " n=" << x.size() << " x[0]=" << x[0] << " p=" << ps[i];
      }
    };
    check(exact_percentiles(x, ps), "public");
    check(detail::exact_percentiles_bucket(x, ps), "bucket");
    for (auto kernel : {detail::ScanKernel::automatic, detail::ScanKernel::portable}) {
      detail::SampleSelectOptions opt;
      opt.kernel = kernel;
      const auto sampled = detail::exact_percentiles_sampled(x, ps, opt);
      if (sampled) check(*sampled, kernel == detail::ScanKernel::portable ? "sampled/portable" : "sampled/auto");
    }
    const double p99[] = {99.0};
    ASSERT_EQ(exact_percentiles(x, p99)[0].value, want[8]) << "public p99 n=" << x.size();
  }
}

TEST(ExactPercentiles, SampleSelectAnswersTypicalInputsInOnePass) {
  // Not a fallback in disguise: on shuffled latencies the sample select answers itself
  // (one scan for up to 6 brackets, two for up to 12), with either kernel.
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> lat(13.8, 0.5);
  std::vector<std::int64_t> x(1'000'003);  // sample of 62 500: 11 brackets copy ~15 % of it
  for (auto& v : x) v = static_cast<std::int64_t>(lat(rng));
  const double five[] = {50, 90, 95, 99, 99.9};
  const double eleven[] = {1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99};
  for (const auto* data : {&x}) {
    for (std::span<const double> ps : {std::span<const double>(five), std::span<const double>(eleven)}) {
      const auto want = sorted_reference(*data, ps);
      for (auto kernel : {detail::ScanKernel::automatic, detail::ScanKernel::portable}) {
        detail::SampleSelectOptions opt;
        opt.kernel = kernel;
        const auto got = detail::exact_percentiles_sampled(*data, ps, opt);
        ASSERT_TRUE(got.has_value()) << "n=" << data->size() << " quantiles=" << ps.size();
        for (std::size_t i = 0; i < ps.size(); ++i) ASSERT_EQ((*got)[i].value, want[i]) << "p=" << ps[i];
      }
    }
  }
  // 25 close percentiles: the brackets would copy most of the input, so the sample select
  // declines; the public function (bucket select) is still exact.
  std::vector<double> many;
  for (int p = 1; p < 100; p += 4) many.push_back(p);
  EXPECT_FALSE(detail::exact_percentiles_sampled(x, many).has_value());
  const auto got = exact_percentiles(x, many);
  const auto want = sorted_reference(x, many);
  for (std::size_t i = 0; i < many.size(); ++i) ASSERT_EQ(got[i].value, want[i]);
}

TEST(ExactPercentiles, SampleSelectDetectsAMissedBracket) {
  // Brackets of +-2 sample positions in a sample of 64: the counts must often refute them, and
  // whenever the sample select does answer, the answer is exact.
  std::mt19937_64 rng(9);
  std::lognormal_distribution<double> lat(13.8, 0.5);
  const double ps[] = {50, 90, 99};
  int refuted = 0;
  for (int trial = 0; trial < 40; ++trial) {
    std::vector<std::int64_t> x(20'000 + static_cast<std::size_t>(trial));
    for (auto& v : x) v = static_cast<std::int64_t>(lat(rng));
    for (auto kernel : {detail::ScanKernel::automatic, detail::ScanKernel::portable}) {
      detail::SampleSelectOptions opt;
      opt.sample_size = 64;
      opt.margin_sigmas = 0;
      opt.kernel = kernel;
      const auto got = detail::exact_percentiles_sampled(x, ps, opt);
      const auto want = sorted_reference(x, ps);
      if (!got) {
        ++refuted;
        continue;
      }
      for (std::size_t i = 0; i < std::size(ps); ++i) ASSERT_EQ((*got)[i].value, want[i]);
    }
  }
  EXPECT_GT(refuted, 10);
}

TEST(ExactPercentiles, ReportTheScanKernel) {
  // Informational: which kernel `automatic` picked on this machine.
  RecordProperty("avx2_scan", detail::avx2_scan_available() ? "yes" : "no");
  SUCCEED();
}

TEST(ExactPercentiles, DoNotModifyTheInput) {
  std::vector<std::int64_t> x{5, 1, 4, 2, 3};
  const auto copy = x;
  exact_percentiles(x, standard_percentiles());
  EXPECT_EQ(x, copy);
}

TEST(ExactPercentiles, RejectEmptyInputAndOutOfRangeP) {
  const std::vector<std::int64_t> empty;
  const std::vector<std::int64_t> one{1};
  const double bad_low[] = {-1};
  const double bad_high[] = {100.5};
  const double nan[] = {std::nan("")};
  EXPECT_THROW(exact_percentiles(empty, standard_percentiles()), InputError);
  EXPECT_THROW(exact_percentiles(one, bad_low), InputError);
  EXPECT_THROW(exact_percentiles(one, bad_high), InputError);
  EXPECT_THROW(exact_percentiles(one, nan), InputError);
}

TEST(Summarize, MatchesKnownPopulationStatistics) {
  // numpy: mean 5.0, std (ddof=0) 2.0 for [2, 4, 4, 4, 5, 5, 7, 9]
  const std::vector<std::int64_t> x{2, 4, 4, 4, 5, 5, 7, 9};
  const SampleSummary s = summarize(x);
  EXPECT_EQ(s.count, 8u);
  EXPECT_EQ(s.min, 2);
  EXPECT_EQ(s.max, 9);
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_DOUBLE_EQ(s.std, 2.0);
  EXPECT_DOUBLE_EQ(s.cv, 0.4);
  ASSERT_EQ(s.percentiles.size(), 5u);
  EXPECT_DOUBLE_EQ(s.percentiles[0].value, 4.5);  // numpy.percentile(x, 50)
}

TEST(Summarize, IsExactForLargeNanosecondValues) {
  // Values near 1 hour in ns: a double accumulator would lose the +1s.
  const std::int64_t base = 3'600'000'000'000;
  std::vector<std::int64_t> x;
  for (int i = 0; i < 1000; ++i) x.push_back(base + (i % 2));
  const SampleSummary s = summarize(x);
  EXPECT_DOUBLE_EQ(s.mean, static_cast<double>(base) + 0.5);
  EXPECT_NEAR(s.std, 0.5, 1e-6);
}

TEST(Summarize, EmptyInputGivesZeroCount) {
  const SampleSummary s = summarize(std::vector<std::int64_t>{});
  EXPECT_EQ(s.count, 0u);
  EXPECT_TRUE(s.percentiles.empty());
}

TEST(RunningStats, AgreesWithTwoPassAndMergesLikeOneStream) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> d(100.0, 15.0);
  std::vector<double> xs(10'000);
  for (auto& v : xs) v = d(rng);
  RunningStats all, a, b;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    all.add(xs[i]);
    (i < 3'000 ? a : b).add(xs[i]);
  }
  a.merge(b);
  double mean = 0;
  for (double v : xs) mean += v;
  mean /= static_cast<double>(xs.size());
  double ss = 0;
  for (double v : xs) ss += (v - mean) * (v - mean);
  EXPECT_NEAR(all.mean(), mean, 1e-9);
  EXPECT_NEAR(all.variance_population(), ss / static_cast<double>(xs.size()), 1e-6);
  EXPECT_NEAR(all.variance_sample(), ss / static_cast<double>(xs.size() - 1), 1e-6);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_NEAR(a.mean(), all.mean(), 1e-9);
  EXPECT_NEAR(a.variance_population(), all.variance_population(), 1e-6);
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
}

TEST(PercentileCiRanks, CoversTheTruePercentileAboutNinetyFivePercentOfTheTime) {
  // Uniform(0, 1) samples: the true p-th percentile is p / 100. The interval is distribution-free,
  // so its coverage must be close to 95 % for any p not too near the ends.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (const double p : {50.0, 90.0, 99.0}) {
    int covered = 0;
    const int trials = 2000;
    std::vector<double> x(1000);
    for (int t = 0; t < trials; ++t) {
      for (double& v : x) v = u(rng);
      std::sort(x.begin(), x.end());
      const RankInterval r = percentile_ci_ranks(x.size(), p);
      if (x[r.lo] <= p / 100.0 && p / 100.0 <= x[r.hi]) ++covered;
    }
    const double coverage = static_cast<double>(covered) / trials;
    EXPECT_GT(coverage, 0.92) << "p" << p;
    EXPECT_LT(coverage, 0.985) << "p" << p;
  }
}

TEST(PercentileCiRanks, ClampsAtTheEndsAndRejectsBadInput) {
  const RankInterval one = percentile_ci_ranks(1, 50.0);
  EXPECT_EQ(one.lo, 0u);
  EXPECT_EQ(one.hi, 0u);
  const RankInterval top = percentile_ci_ranks(10, 100.0);
  EXPECT_EQ(top.hi, 9u);
  const RankInterval mid = percentile_ci_ranks(100, 50.0);  // 50 ± 1.96·5 → [40, 60]
  EXPECT_EQ(mid.lo, 40u);
  EXPECT_EQ(mid.hi, 60u);
  EXPECT_THROW(percentile_ci_ranks(0, 50.0), InputError);
  EXPECT_THROW(percentile_ci_ranks(10, 101.0), InputError);
}

}  // namespace
}  // namespace trackiq
