// Change points over many series: Benjamini–Hochberg on hand-worked examples, the kept state's
// round trip, and the incremental detection of an appended series against a full recomputation.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "trackiq/analysis/history.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::analysis {
namespace {

std::vector<double> noisy_steps(std::size_t n, std::vector<std::size_t> steps, double factor, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, 0.02);
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    double level = 10;
    for (const auto s : steps)
      if (i >= s) level *= factor;
    x[i] = level * (1 + z(rng));
  }
  return x;
}

TEST(FdrThreshold, StepUpOnHandWorkedExamples) {
  // m = 4, q = 0.05: bounds i*q/m = 0.0125, 0.025, 0.0375, 0.05. p(2) = 0.03 misses its bound but
  // p(3) = 0.035 meets its own: step-up takes k = 3, and all three smallest are discoveries.
  const std::vector<double> p{0.9, 0.035, 0.001, 0.03};
  const auto r = fdr_threshold(p, 0.05);
  EXPECT_EQ(r.tests, 4u);
  EXPECT_EQ(r.discoveries, 3u);
  EXPECT_DOUBLE_EQ(r.threshold, 3 * 0.05 / 4);
  // Bonferroni (q/m = 0.0125) would keep only one of them.
  EXPECT_EQ(fdr_threshold(std::vector<double>{0.02, 0.03, 0.04, 0.9}, 0.05).discoveries, 0u);
  EXPECT_EQ(fdr_threshold(std::vector<double>{0.01, 0.02, 0.03, 0.04}, 0.05).discoveries, 4u);
  const auto none = fdr_threshold(std::vector<double>{}, 0.05);
  EXPECT_EQ(none.tests, 0u);
  EXPECT_EQ(none.threshold, 0);
  EXPECT_THROW(fdr_threshold(std::vector<double>{0.1}, 0), InputError);
  EXPECT_THROW(fdr_threshold(std::vector<double>{0.1}, 1), InputError);
  EXPECT_THROW(fdr_threshold(std::vector<double>{std::nan("")}, 0.05), InputError);
}

TEST(FdrThreshold, NullPValuesRarelyGiveAnyDiscovery) {
  // Under the global null (uniform p-values), BH's FDR equals the chance of any discovery: <= q.
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  int any = 0;
  for (int rep = 0; rep < 2000; ++rep) {
    std::vector<double> p(200);
    for (auto& x : p) x = u(rng);
    any += fdr_threshold(p, 0.05).discoveries > 0;
  }
  EXPECT_LT(any, 2000 * 0.07);  // 5 % expected; binomial sd 0.5 %
  EXPECT_GT(any, 2000 * 0.03);  // and the test can tell
}

TEST(SeriesState, RoundTripsAndRefusesWhatItDidNotWrite) {
  SeriesState s;
  s.count = 120;
  s.full_count = 100;
  s.alpha = 0.05;
  s.min_segment = 6;
  ChangePoint a, b;
  a.index = 30;
  a.p_value = 1e-9;
  a.confidence = Confidence::kHigh;
  b.index = 90;
  b.p_value = 0.004;
  b.confidence = Confidence::kMedium;
  s.change_points = {a, b};
  const auto back = state_from_json(state_to_json(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->count, 120u);
  EXPECT_EQ(back->full_count, 100u);
  EXPECT_EQ(back->alpha, 0.05);
  ASSERT_EQ(back->change_points.size(), 2u);
  EXPECT_EQ(back->change_points[1].index, 90u);
  EXPECT_EQ(back->change_points[1].p_value, 0.004);
  EXPECT_EQ(back->change_points[1].confidence, Confidence::kMedium);
  EXPECT_FALSE(state_from_json("not json"));
  EXPECT_FALSE(state_from_json(R"({"v":99})"));
  EXPECT_FALSE(state_from_json(
      R"({"v":1,"count":10,"full_count":10,"alpha":0.01,"min_segment":6,"min_relative_change":0,"cps":[[12,0.1,"low"]]})"));
}

TEST(DetectAppended, AppendsPointByPointFindWhatAFullRecomputationFinds) {
  const auto x = noisy_steps(2000, {700, 1700}, 1.05, 11);
  const std::span<const double> all(x);
  auto r = detect_appended(all.first(1100), nullptr);
  EXPECT_TRUE(r.full);
  std::size_t most_tested = 0;
  for (std::size_t n = 1101; n <= x.size(); ++n) {
    r = detect_appended(all.first(n), &r.state, {}, 200);
    ASSERT_FALSE(r.full) << n;  // 2000 < 2 x 1100: never recomputed in full
    EXPECT_GE(r.tested_from + 200, n);
    most_tested = std::max(most_tested, n - r.tested_from);
  }
  EXPECT_LE(most_tested, 200u);
  const auto full = detect_change_points(x);
  ASSERT_EQ(r.result.change_points.size(), full.change_points.size());
  ASSERT_EQ(r.result.change_points.size(), 2u);
  for (std::size_t j = 0; j < 2; ++j) {
    EXPECT_NEAR(static_cast<double>(r.result.change_points[j].index), static_cast<double>(full.change_points[j].index), 2);
    EXPECT_NEAR(r.result.change_points[j].magnitude_pct, 5.0, 1.0);
  }
  EXPECT_NEAR(static_cast<double>(r.result.change_points[0].index), 700, 3);
  EXPECT_NEAR(static_cast<double>(r.result.change_points[1].index), 1700, 3);
  // Segment means are over the whole segments.
  EXPECT_EQ(r.result.change_points[1].before_begin, r.result.change_points[0].index);
  EXPECT_EQ(r.result.change_points[1].after_end, 2000u);
}

TEST(DetectAppended, NoiseStaysQuietAndOtherOptionsRecompute) {
  const auto x = noisy_steps(1900, {}, 1, 5);
  const std::span<const double> all(x);
  auto r = detect_appended(all.first(1000), nullptr);
  std::size_t alarms = 0;
  for (std::size_t n = 1001; n <= x.size(); n += 3) {
    r = detect_appended(all.first(n), &r.state);
    alarms += !r.result.change_points.empty();
  }
  EXPECT_EQ(alarms, 0u);
  ChangePointOptions other;
  other.alpha = 0.05;
  EXPECT_TRUE(detect_appended(all, &r.state, other).full);
  // Nothing new: nothing re-tested.
  const auto same = detect_appended(all.first(r.state.count), &r.state);
  EXPECT_FALSE(same.full);
  EXPECT_EQ(same.tested_from, r.state.count);
  // Doubled since the last full computation: full again.
  const auto y = noisy_steps(2000, {}, 1, 6);
  auto s = detect_appended(std::span<const double>(y).first(900), nullptr);
  EXPECT_TRUE(detect_appended(y, &s.state).full);
}

}  // namespace
}  // namespace trackiq::analysis
