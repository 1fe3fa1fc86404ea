#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <span>
#include <vector>

#include "trackiq/core/error.hpp"
#include "trackiq/core/histogram.hpp"
#include "trackiq/core/stats.hpp"

namespace trackiq {
namespace {

TEST(Histogram, CoversOneNanosecondToOneHourAtThreeDigits) {
  Histogram h = Histogram::for_latency_ns();
  EXPECT_TRUE(h.record(1));
  EXPECT_TRUE(h.record(3'600'000'000'000));
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.out_of_range(), 0u);
}

TEST(Histogram, CountsOutOfRangeValuesSeparately) {
  Histogram h(1, 1'000'000, 2);
  EXPECT_FALSE(h.record(-5));
  EXPECT_FALSE(h.record(h.highest_equivalent(1'000'000) + 1));
  EXPECT_FALSE(h.record(INT64_MAX));
  EXPECT_TRUE(h.record(999'999));
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.out_of_range(), 3u);
}

TEST(Histogram, BucketWidthStaysWithinSignificantDigits) {
  for (int d = 1; d <= 5; ++d) {
    Histogram h(1, 3'600'000'000'000, d);
    const double resolution = std::pow(10.0, -d);
    std::mt19937_64 rng(static_cast<std::uint64_t>(d));
    for (int i = 0; i < 20000; ++i) {
      const auto v = static_cast<std::int64_t>(rng() % 3'600'000'000'000ULL) >> (rng() % 40);
      const std::int64_t lo = h.lowest_equivalent(v), hi = h.highest_equivalent(v);
      ASSERT_LE(lo, v);
      ASSERT_GE(hi, v);
      ASSERT_LE(static_cast<double>(hi - lo + 1), std::max(1.0, static_cast<double>(v) * resolution))
          << "d=" << d << " v=" << v;
    }
  }
}

TEST(Histogram, SmallIntegersAreExact) {
  Histogram h = Histogram::for_latency_ns();
  for (std::int64_t v = 0; v < 2048; ++v) {
    ASSERT_EQ(h.lowest_equivalent(v), v);
    ASSERT_EQ(h.highest_equivalent(v), v);
  }
}

TEST(Histogram, RejectsInvalidParameters) {
  EXPECT_THROW(Histogram(0, 100, 3), InputError);
  EXPECT_THROW(Histogram(1, 100, 0), InputError);
  EXPECT_THROW(Histogram(1, 100, 6), InputError);
  EXPECT_THROW(Histogram(10, 15, 3), InputError);
  EXPECT_NO_THROW(Histogram(10, 20, 3));
  // A lowest value whose double overflows int64 (the fuzzer found it through decode()).
  EXPECT_THROW(Histogram(7'136'949'836'052'438'895, 7'136'949'836'052'438'896, 3), InputError);
}

// Percentile error bound: |approx - exact| <= 0.5 * 10^-d * (value at the upper closest rank).
void expect_percentiles_within_bound(const std::vector<std::int64_t>& xs, int digits, const char* what) {
  Histogram h(1, 3'600'000'000'000, digits);
  for (auto v : xs) h.record(v);
  std::vector<std::int64_t> sorted = xs;
  std::sort(sorted.begin(), sorted.end());
  const double ps[] = {0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100};
  const auto exact = exact_percentiles(xs, ps);
  for (std::size_t i = 0; i < std::size(ps); ++i) {
    const double rank = ps[i] / 100.0 * static_cast<double>(sorted.size() - 1);
    const auto upper = sorted[std::min(static_cast<std::size_t>(std::ceil(rank)), sorted.size() - 1)];
    const double bound = 0.5 * std::pow(10.0, -digits) * static_cast<double>(upper) + 1e-9;
    EXPECT_LE(std::fabs(h.value_at_percentile(ps[i]) - exact[i].value), bound)
        << what << " digits=" << digits << " p=" << ps[i];
  }
  EXPECT_NEAR(h.mean(), summarize(xs).mean, 0.5 * std::pow(10.0, -digits) * summarize(xs).mean);
}

TEST(Histogram, PercentileErrorStaysWithinBoundForUniformData) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<std::int64_t> d(1'000, 50'000'000);
  std::vector<std::int64_t> xs(100'000);
  for (auto& v : xs) v = d(rng);
  for (int digits : {1, 2, 3, 4}) expect_percentiles_within_bound(xs, digits, "uniform");
}

TEST(Histogram, PercentileErrorStaysWithinBoundForLogNormalData) {
  std::mt19937_64 rng(2);
  std::lognormal_distribution<double> d(std::log(2e6), 1.0);
  std::vector<std::int64_t> xs(100'000);
  for (auto& v : xs) v = static_cast<std::int64_t>(d(rng));
  for (int digits : {1, 2, 3, 4}) expect_percentiles_within_bound(xs, digits, "lognormal");
}

TEST(Histogram, PercentileErrorStaysWithinBoundForBimodalData) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> fast(1e6, 5e4), slow(40e6, 2e6);
  std::vector<std::int64_t> xs(50'000);
  for (std::size_t i = 0; i < xs.size(); ++i)
    xs[i] = static_cast<std::int64_t>(std::max(1.0, (i % 10 < 7) ? fast(rng) : slow(rng)));
  for (int digits : {2, 3, 5}) expect_percentiles_within_bound(xs, digits, "bimodal");
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(4);
  std::lognormal_distribution<double> d(14.0, 1.5);
  Histogram all = Histogram::for_latency_ns();
  std::vector<Histogram> parts(8, Histogram::for_latency_ns());
  for (int i = 0; i < 80'000; ++i) {
    const auto v = static_cast<std::int64_t>(d(rng));
    all.record(v);
    parts[static_cast<std::size_t>(i) % 8].record(v);
  }
  all.record(-1);
  parts[3].record(-1);
  Histogram merged = Histogram::for_latency_ns();
  for (const auto& p : parts) merged.merge(p);
  EXPECT_TRUE(merged == all);
  EXPECT_EQ(merged.value_at_percentile(99), all.value_at_percentile(99));
  EXPECT_THROW(merged.merge(Histogram(1, 1000, 3)), InputError);
}

// record() computes the counter index with a folded formula; the bucket it lands in must be
// the one lowest_equivalent()/highest_equivalent() describe, for every parameter set.
TEST(Histogram, RecordLandsInTheBucketItsEquivalentsDescribe) {
  struct Params {
    std::int64_t lowest, highest;
    int digits;
  };
  for (const Params p : {Params{1, 3'600'000'000'000, 3}, Params{1, 1000, 1}, Params{7, 50'000'000, 2},
                         Params{1000, INT64_MAX / 4, 4}, Params{1, INT64_MAX, 5}}) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(p.lowest + p.digits));
    Histogram h(p.lowest, p.highest, p.digits);  // reset() between values: construction is slow
    for (int i = 0; i < 2000; ++i) {
      const auto v = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(p.highest)) >> (rng() % 50);
      h.reset();
      ASSERT_TRUE(h.record(v)) << v;
      const auto buckets = h.nonempty_buckets();
      ASSERT_EQ(buckets.size(), 1u);
      ASSERT_EQ(buckets[0].low, h.lowest_equivalent(v)) << "lowest=" << p.lowest << " v=" << v;
      ASSERT_EQ(buckets[0].high, h.highest_equivalent(v)) << "lowest=" << p.lowest << " v=" << v;
      ASSERT_EQ(h.min(), h.lowest_equivalent(v));
      ASSERT_EQ(h.max(), h.highest_equivalent(v));
    }
  }
}

// Power-of-two boundaries and their neighbours, plus random values of every magnitude, all
// below `limit`.
std::vector<std::uint64_t> scan_probe_values(std::uint64_t limit, std::uint64_t seed) {
  std::vector<std::uint64_t> xs = {0, 1, 2, 3};
  for (int k = 1; k < 64; ++k) {
    const std::uint64_t p = std::uint64_t{1} << k;
    for (const std::uint64_t x : {p - 1, p, p + 1}) xs.push_back(x);
  }
  xs.push_back(UINT64_MAX);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 5'000; ++i) xs.push_back(rng() >> (rng() % 64));
  std::erase_if(xs, [&](std::uint64_t x) { return x > limit; });
  return xs;
}

// The bit scan of record(): "rep bsr" is LZCNT on CPUs that have it and BSR on the others, and
// the fixup measured at start-up turns either answer into floor(log2 x).
TEST(HistogramBitScan, TopBitIsFloorLog2OnEveryBoundaryAndAtRandom) {
  const std::uint64_t fixup = detail::bit_scan_fixup();
#if defined(__x86_64__) && defined(__GNUC__)
  ASSERT_TRUE(fixup == 0 || fixup == 63) << fixup;
#else
  ASSERT_EQ(fixup, 0u);
#endif
  for (const std::uint64_t x : scan_probe_values(UINT64_MAX, 21)) {
    if (x == 0) continue;  // never scanned: record() scans v | sub_bucket_mask, which is >= 1
    ASSERT_EQ(detail::top_bit(x, fixup), static_cast<std::uint64_t>(std::bit_width(x) - 1)) << "x=" << x << " fixup=" << fixup;
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// The other path: what a CPU without LZCNT computes. It ignores the F3 prefix and runs BSR, so
// the fixup it measures (BSR of 1) is 0 and top_bit is BSR's answer as is. Run that here with
// the plain BSR instruction, whichever kind of CPU runs the test.
TEST(HistogramBitScan, BsrPathGivesTheSameExponent) {
  const auto bsr = [](std::uint64_t x) {
    std::uint64_t r;
    asm("bsr %1, %0" : "=r"(r) : "rm"(x) : "cc");
    return static_cast<int>(r);
  };
  const int fixup_without_lzcnt = bsr(1);
  ASSERT_EQ(fixup_without_lzcnt, 0);
  for (const std::uint64_t x : scan_probe_values(UINT64_MAX, 22)) {
    if (x == 0) continue;
    ASSERT_EQ(bsr(x) ^ fixup_without_lzcnt, static_cast<int>(std::bit_width(x) - 1)) << "x=" << x;
  }
  // And the CPU running this test picks the path its "rep bsr" takes: LZCNT (fixup 63) or BSR (0).
  EXPECT_EQ(detail::bit_scan_fixup() == 63, detail::bit_scan_lzcnt_or_bsr(1) == 63);
}
#endif

// HdrHistogram's counter index, written as before the bit-scan change (compiler clz, signed
// arithmetic): (e << h) + (v >> (e - h)) - ((unit_magnitude + h) << h).
std::size_t reference_index(std::uint64_t v, std::int64_t lowest, int digits) {
  const std::int64_t single_unit_limit = 2 * static_cast<std::int64_t>(std::pow(10, digits));
  const int h = std::max(static_cast<int>(std::ceil(std::log2(static_cast<double>(single_unit_limit)))), 1) - 1;
  const int unit = static_cast<int>(std::floor(std::log2(static_cast<double>(lowest))));
  const std::uint64_t mask = ((std::uint64_t{1} << (h + 1)) - 1) << unit;
  const int e = 63 - __builtin_clzll(v | mask);
  return static_cast<std::size_t>((static_cast<std::int64_t>(e) << h) + static_cast<std::int64_t>(v >> (e - h)) -
                                  (static_cast<std::int64_t>(unit + h) << h));
}

// Every power-of-two boundary +-1 and random values of every magnitude in range, for several
// parameter sets: record() lands in counter reference_index(v) (seen through the bucket's
// bounds, which value_from_index derives from the counter index), and count/min/max follow.
TEST(Histogram, RecordIndexEqualsTheReferenceFormulaOnBoundariesAndAtRandom) {
  struct Params {
    std::int64_t lowest, highest;
    int digits;
  };
  for (const Params p : {Params{1, 3'600'000'000'000, 3}, Params{1, 1000, 1}, Params{7, 50'000'000, 2},
                         Params{1000, INT64_MAX / 4, 4}, Params{1, INT64_MAX, 5}, Params{1, INT64_MAX, 1},
                         Params{1024, INT64_MAX, 3}}) {
    Histogram h(p.lowest, p.highest, p.digits);
    Histogram reference_h(p.lowest, p.highest, p.digits);
    const auto limit = static_cast<std::uint64_t>(p.highest);  // the last value counted
    const auto values = scan_probe_values(limit, static_cast<std::uint64_t>(p.lowest + p.digits));
    for (const std::uint64_t x : values) {
      const auto v = static_cast<std::int64_t>(x);
      const std::size_t ref = reference_index(x, p.lowest, p.digits);
      h.reset();
      ASSERT_TRUE(h.record(v)) << v;
      const auto buckets = h.nonempty_buckets();
      ASSERT_EQ(buckets.size(), 1u) << v;
      ASSERT_EQ(buckets[0].low, h.lowest_equivalent(v)) << "lowest=" << p.lowest << " v=" << v << " ref=" << ref;
      ASSERT_EQ(buckets[0].high, h.highest_equivalent(v)) << "lowest=" << p.lowest << " v=" << v;
      ASSERT_EQ(h.count(), 1u);
      ASSERT_EQ(h.min(), h.lowest_equivalent(v));
      ASSERT_EQ(h.max(), h.highest_equivalent(v));
      // The counter itself: nonempty_buckets() derives the bucket from the index of the
      // non-zero counter, so its low value has the reference index of that counter.
      ASSERT_EQ(reference_index(static_cast<std::uint64_t>(buckets[0].low), p.lowest, p.digits), ref) << v;
      reference_h.record(v);
    }
    // All values at once: count, min and max over the whole range, and merge of the same.
    EXPECT_EQ(reference_h.count(), values.size());
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    EXPECT_EQ(reference_h.min(), reference_h.lowest_equivalent(static_cast<std::int64_t>(*lo)));
    EXPECT_EQ(reference_h.max(), reference_h.highest_equivalent(static_cast<std::int64_t>(*hi)));
    Histogram merged(p.lowest, p.highest, p.digits);
    merged.merge(reference_h);
    merged.merge(reference_h);
    EXPECT_EQ(merged.count(), 2 * values.size());
    EXPECT_EQ(merged.min(), reference_h.min());
    EXPECT_EQ(merged.max(), reference_h.max());
    // The batch form lands in the same counters.
    Histogram batch(p.lowest, p.highest, p.digits);
    std::vector<std::int64_t> signed_values(values.begin(), values.end());
    EXPECT_EQ(batch.record(signed_values), values.size());
    EXPECT_TRUE(batch == reference_h);
  }
}

// record() writes through an address derived from the counter buffer; copies and moves must
// each write to their own counters.
TEST(Histogram, CopiesAndMovesRecordIntoTheirOwnCounters) {
  Histogram a = Histogram::for_latency_ns();
  a.record(1000);
  Histogram b = a;  // copy
  b.record(2000);
  EXPECT_EQ(a.count(), 1u);
  EXPECT_EQ(b.count(), 2u);
  Histogram c = Histogram::for_latency_ns();
  c = b;  // copy assignment
  c.record(3000);
  EXPECT_EQ(b.count(), 2u);
  EXPECT_EQ(c.count(), 3u);
  Histogram d = std::move(c);  // move
  d.record(4000);
  EXPECT_EQ(d.count(), 4u);
  EXPECT_EQ(d.max(), d.highest_equivalent(4000));
  Histogram e(1, 1000, 2);
  e = std::move(d);  // move assignment across parameters
  e.record(5000);
  EXPECT_EQ(e.count(), 5u);
  EXPECT_EQ(e.min(), e.lowest_equivalent(1000));
  EXPECT_EQ(e.max(), e.highest_equivalent(5000));
  std::vector<Histogram> grown;
  for (int i = 0; i < 20; ++i) {  // reallocations move the elements
    grown.push_back(Histogram::for_latency_ns());
    grown.back().record(100 + i);
  }
  for (int i = 0; i < 20; ++i) {
    grown[static_cast<std::size_t>(i)].record(100 + i);
    EXPECT_EQ(grown[static_cast<std::size_t>(i)].count(), 2u);
    EXPECT_EQ(grown[static_cast<std::size_t>(i)].min(), 100 + i);
  }
  EXPECT_EQ(a.count(), 1u);
}

// The touched-block marker is set only when a counter leaves zero: a counter that wraps to
// zero and is counted again, records of count 0, and reset() in between must keep
// count/min/max/merge exact.
TEST(Histogram, TouchedMarksSurviveResetAndRecountedCounters) {
  Histogram h = Histogram::for_latency_ns();
  h.record(50'000, 0);            // counter stays 0
  EXPECT_EQ(h.count(), 0u);
  h.record(50'000);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.min(), h.lowest_equivalent(50'000));
  h.reset();
  h.record(50'000);               // counter 0 -> 1 again after reset: marked again
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.max(), h.highest_equivalent(50'000));
  h.record(7, UINT64_MAX);        // 0 -> UINT64_MAX
  h.record(7, 1);                 // wraps to 0 (unsigned counters, as before)
  h.record(7, 2);                 // 0 -> 2: marked (already marked) and counted
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(h.min(), 7);
  Histogram merged = Histogram::for_latency_ns();
  merged.merge(h);
  EXPECT_EQ(merged.count(), 3u);
  EXPECT_EQ(merged.min(), 7);
  EXPECT_EQ(merged.max(), h.highest_equivalent(50'000));
}

TEST(Histogram, HighestIsTheLastValueCounted) {
  Histogram h(1, 1'000'003, 2);  // 1'000'003 is inside a bucket, not at its top
  ASSERT_LT(1'000'003, h.highest_equivalent(1'000'003));
  EXPECT_TRUE(h.record(1'000'003));
  EXPECT_FALSE(h.record(1'000'004));
  EXPECT_TRUE(h.record(0));
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), h.highest_equivalent(1'000'003));
  EXPECT_EQ(h.out_of_range(), 1u);
}

TEST(Histogram, BatchRecordEqualsOneCallPerValue) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> d(13.0, 2.0);
  std::vector<std::int64_t> xs;
  for (int i = 0; i < 50'000; ++i) xs.push_back(static_cast<std::int64_t>(d(rng)));
  xs.insert(xs.end(), {-1, 0, 1, INT64_MIN, INT64_MAX, 3'600'000'000'000, 3'600'000'000'001});
  Histogram one = Histogram::for_latency_ns(), batch = Histogram::for_latency_ns();
  std::size_t counted = 0;
  for (const auto v : xs) counted += one.record(v) ? 1 : 0;
  EXPECT_EQ(batch.record(xs), counted);
  EXPECT_TRUE(one == batch);
  EXPECT_EQ(batch.out_of_range(), 4u);
  EXPECT_EQ(batch.count(), counted);
  EXPECT_EQ(batch.record(std::span<const std::int64_t>{}), 0u);
}

// count/min/max/merge/reset/encode read only the counter blocks that record() marked; values
// in the first and the last (partial) block must still be seen.
TEST(Histogram, ReadsSeeValuesInTheFirstAndLastBlocks) {
  Histogram h = Histogram::for_latency_ns();
  const std::int64_t top = h.highest();
  h.record(0);
  h.record(top, 3);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), h.highest_equivalent(top));
  EXPECT_EQ(h.value_at_percentile(100), static_cast<double>(h.median_equivalent(top)));

  Histogram merged = Histogram::for_latency_ns();
  Histogram only_top = Histogram::for_latency_ns();
  only_top.record(top);
  merged.merge(only_top);
  EXPECT_EQ(merged.count(), 1u);
  EXPECT_EQ(merged.min(), h.lowest_equivalent(top));
  merged.merge(h);
  EXPECT_EQ(merged.count(), 5u);
  EXPECT_EQ(merged.min(), 0);

  const Histogram decoded = Histogram::decode(h.encode());
  EXPECT_TRUE(decoded == h);
  EXPECT_EQ(decoded.count(), 4u);
  EXPECT_EQ(decoded.max(), h.max());

  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_TRUE(h == Histogram::for_latency_ns());
  EXPECT_EQ(h.encode(), Histogram::for_latency_ns().encode());
  h.record(5);  // the block of 0 is reused after reset
  EXPECT_EQ(h.min(), 5);
  EXPECT_EQ(h.count(), 1u);
}

TEST(Histogram, ZeroCountRecordLeavesTheHistogramEmpty) {
  Histogram h = Histogram::for_latency_ns();
  EXPECT_TRUE(h.record(1'000'000, 0));
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.value_at_percentile(50), 0.0);
  EXPECT_TRUE(h.nonempty_buckets().empty());
  EXPECT_EQ(h.encode(), Histogram::for_latency_ns().encode());
}

TEST(Histogram, EncodingRoundTripsLosslessly) {
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> d(12.0, 2.0);
  for (int digits : {1, 3, 5}) {
    Histogram h(1, 3'600'000'000'000, digits);
    for (int i = 0; i < 5000; ++i) h.record(static_cast<std::int64_t>(d(rng)), 1 + rng() % 3);
    h.record(-3);
    const std::string enc = h.encode();
    EXPECT_EQ(enc.rfind("TQH1:", 0), 0u);
    const Histogram back = Histogram::decode(enc);
    EXPECT_TRUE(back == h) << "digits=" << digits;
    EXPECT_EQ(back.nonempty_buckets().size(), h.nonempty_buckets().size());
  }
  const Histogram empty = Histogram::for_latency_ns();
  EXPECT_TRUE(Histogram::decode(empty.encode()) == empty);
}

TEST(Histogram, EncodingIsCompact) {
  Histogram h = Histogram::for_latency_ns();
  std::mt19937_64 rng(6);
  std::normal_distribution<double> d(5e6, 2e5);
  for (int i = 0; i < 100'000; ++i) h.record(static_cast<std::int64_t>(d(rng)));
  // ~33k count slots, a few hundred of them used.
  EXPECT_LT(h.encode().size(), 4096u);
}

TEST(Histogram, DecodeRejectsCorruptInput) {
  Histogram h = Histogram::for_latency_ns();
  h.record(1000);
  const std::string good = h.encode();
  EXPECT_THROW(Histogram::decode("garbage"), InputError);
  EXPECT_THROW(Histogram::decode("TQH1:!!!!"), InputError);
  EXPECT_THROW(Histogram::decode("TQH1:AAA"), InputError);                  // bad length
  EXPECT_THROW(Histogram::decode(good.substr(0, good.size() - 4)), InputError);  // truncated
  EXPECT_THROW(Histogram::decode("TQH1:"), InputError);                     // no parameters
}

TEST(Histogram, MeanAndStdApproximateTheExactValues) {
  std::mt19937_64 rng(8);
  std::normal_distribution<double> d(1e6, 1e5);
  std::vector<std::int64_t> xs(50'000);
  Histogram h = Histogram::for_latency_ns();
  for (auto& v : xs) {
    v = static_cast<std::int64_t>(d(rng));
    h.record(v);
  }
  const auto s = summarize(xs);
  EXPECT_NEAR(h.mean(), s.mean, s.mean * 1e-3);
  EXPECT_NEAR(h.stddev(), s.std, s.std * 1e-2);
  EXPECT_LE(h.min(), s.min);
  EXPECT_GE(h.max(), s.max);
}

}  // namespace
}  // namespace trackiq
