// Curve regression (CMP-5): sweeps compared point by point, then read along the load axis.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "trackiq/analysis/compare.hpp"
#include "trackiq/core/stats.hpp"

namespace trackiq::analysis {
namespace {

// A point's comparison with one metric, built by hand: what compare_curves reads.
Comparison point_with(double regression_pct, std::optional<double> p, bool tested = true, double threshold = 5) {
  MetricComparison m;
  m.name = "p99_ttft_ms";
  m.unit = "ms";
  m.direction = Direction::kLowerIsBetter;
  m.baseline = 100;
  m.current = 100 * (1 + regression_pct / 100);
  m.change_pct = m.regression_pct = regression_pct;
  m.threshold_pct = threshold;
  m.beyond_threshold = regression_pct > threshold;
  m.tested = tested && p.has_value();
  m.p_value = p;
  m.ci_low = 1;
  m.ci_high = 3;  // on the bad (slower) side
  Comparison c;
  c.metrics.push_back(m);
  return c;
}

TEST(CurveCompare, ASustainedWindowIsFoundOrderedByTheAxisAndNamedByItsEnds) {
  // Given out of axis order: 16, 1, 8, 2, 4. Worse by 18-25 % from 8 to 16 only.
  const std::vector<Comparison> points{point_with(25, 0.01), point_with(1, 0.8), point_with(18, 0.02),
                                       point_with(-2, 0.7), point_with(3, 0.5)};
  const std::vector<std::string> labels{"rate=16", "rate=1", "rate=8", "rate=2", "rate=4"};
  const auto c = compare_curves(points, labels);
  EXPECT_EQ(c.axis, "rate");
  EXPECT_EQ(c.points, (std::vector<std::string>{"rate=1", "rate=2", "rate=4", "rate=8", "rate=16"}));
  ASSERT_EQ(c.findings.size(), 1u) << render_curve_comparison(c);
  const auto& f = c.findings[0];
  EXPECT_EQ(f.first, 3u);
  EXPECT_EQ(f.last, 4u);
  EXPECT_DOUBLE_EQ(f.from, 8);
  EXPECT_DOUBLE_EQ(f.to, 16);
  EXPECT_DOUBLE_EQ(f.min_regression, 18);
  EXPECT_DOUBLE_EQ(f.max_regression, 25);
  EXPECT_EQ(f.verdict, Verdict::kBlock) << f.reason;
  EXPECT_NE(f.reason.find("p99_ttft_ms worse by 18.0–25.0 % from rate=8 to rate=16 (2 points)"), std::string::npos)
      << f.reason;
  EXPECT_EQ(c.verdict, Verdict::kBlock);
  EXPECT_EQ(c.tests, 1u);
}

TEST(CurveCompare, FishersCombinationMatchesScipy) {
  // scipy.stats.combine_pvalues([0.05, 0.05], method="fisher") -> 0.0174787 (pvalue); the points' tests
  // are two-sided, so two-sided 0.1 on the bad side is one-sided 0.05.
  const auto c = compare_curves({point_with(8, 0.1), point_with(9, 0.1)}, {"concurrency=1", "concurrency=2"});
  ASSERT_EQ(c.findings.size(), 1u);
  ASSERT_TRUE(c.findings[0].p_value);
  // Σ −2 ln 0.05 = 11.9829; chi-square(4) upper tail = e^{-x/2} (1 + x/2).
  const double x = -4 * std::log(0.05);
  EXPECT_NEAR(*c.findings[0].p_value, std::exp(-x / 2) * (1 + x / 2), 1e-12);
  EXPECT_NEAR(*c.findings[0].p_value, 0.017478661367769956, 1e-12);
  // Neither point alone is significant at 5 % (two-sided 0.1), the sustained pair is: it blocks.
  EXPECT_TRUE(c.findings[0].significant);
  EXPECT_EQ(c.findings[0].verdict, Verdict::kBlock);
}

TEST(CurveCompare, IsolatedPointsAndWindowsWithoutTestsDoNotBlock) {
  // One bad point between good ones is not a sustained degradation (the point's own verdict speaks).
  const auto isolated = compare_curves({point_with(1, 0.9), point_with(30, 1e-6), point_with(0, 0.9)},
                                       {"concurrency=1", "concurrency=2", "concurrency=4"});
  EXPECT_TRUE(isolated.findings.empty()) << render_curve_comparison(isolated);
  EXPECT_EQ(isolated.verdict, Verdict::kPass);
  EXPECT_NE(render_curve_comparison(isolated).find("no sustained degradation"), std::string::npos);
  // Beyond the threshold at adjacent points with no test to combine: WARN, threshold only.
  const auto untested = compare_curves({point_with(12, std::nullopt), point_with(15, std::nullopt)},
                                       {"concurrency=1", "concurrency=2"});
  ASSERT_EQ(untested.findings.size(), 1u);
  EXPECT_EQ(untested.findings[0].verdict, Verdict::kWarn);
  EXPECT_NE(untested.findings[0].reason.find("threshold only"), std::string::npos);
  // Not significant when combined: WARN.
  const auto weak = compare_curves({point_with(7, 0.8), point_with(6, 0.9)}, {"concurrency=1", "concurrency=2"});
  ASSERT_EQ(weak.findings.size(), 1u);
  EXPECT_FALSE(weak.findings[0].significant);
  EXPECT_EQ(weak.findings[0].verdict, Verdict::kWarn);
  EXPECT_NE(weak.findings[0].reason.find("not significant"), std::string::npos);
}

TEST(CurveCompare, UnlabelledPointsKeepTheirOrderAndSaySo) {
  const auto c = compare_curves({point_with(20, 0.001), point_with(20, 0.001)}, {"#1", "#2"});
  EXPECT_EQ(c.axis, "point");
  ASSERT_EQ(c.findings.size(), 1u);
  EXPECT_NE(c.findings[0].reason.find("from #1 to #2"), std::string::npos) << c.findings[0].reason;
  ASSERT_FALSE(c.notes.empty());
  EXPECT_NE(c.notes[0].find("given order"), std::string::npos);
  EXPECT_THROW(compare_curves({point_with(1, 0.5)}, {}), std::invalid_argument);
}

// Real per-request data: a sweep whose two highest points got 15 % slower with few requests
// each. The curve finding rests on the points' own tests.
Result sweep_point(double median_ns, std::uint64_t seed, std::size_t n) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> d(std::log(median_ns), 0.25);
  std::vector<std::int64_t> v(n);
  for (auto& x : v) x = static_cast<std::int64_t>(d(rng));
  Result r;
  r.run_id = new_run_id();
  r.environment.hardware_fingerprint = "0123456789abcdef";
  r.workload.model = "m";
  r.scenario.name = "single-stream";
  LatencyData l;
  l.summary_ns = summarize(v);
  for (auto x : v) l.histogram.record(x);
  l.samples_ns = std::move(v);
  r.metrics = {{"latency_mean_ms", l.summary_ns.mean / 1e6}, {"latency_p50_ms", l.summary_ns.percentiles[0].value / 1e6}};
  r.latency = std::move(l);
  return r;
}

TEST(CurveCompare, SweepsFromCompareManyAASweepPassesAndASlowerTopBlocks) {
  std::vector<std::pair<Result, Result>> same, slower;
  const std::vector<double> medians{2e6, 2.4e6, 3e6, 4.5e6};
  for (std::size_t i = 0; i < medians.size(); ++i) {
    same.emplace_back(sweep_point(medians[i], 10 + i, 200), sweep_point(medians[i], 20 + i, 200));
    slower.emplace_back(sweep_point(medians[i], 10 + i, 200), sweep_point(medians[i] * (i >= 2 ? 1.15 : 1.0), 30 + i, 200));
  }
  const std::vector<std::string> labels{"concurrency=1", "concurrency=2", "concurrency=4", "concurrency=8"};
  const auto aa = compare_curves(compare_many(same), labels);
  EXPECT_NE(aa.verdict, Verdict::kBlock) << render_curve_comparison(aa);
  const auto worse = compare_curves(compare_many(slower), labels);
  EXPECT_EQ(worse.verdict, Verdict::kBlock) << render_curve_comparison(worse);
  bool found = false;
  for (const auto& f : worse.findings)
    found |= f.metric == "latency_p50_ms" && f.verdict == Verdict::kBlock && f.from == 4 && f.to == 8;
  EXPECT_TRUE(found) << render_curve_comparison(worse);
  const std::string json = curve_comparison_json(worse);
  EXPECT_NE(json.find("\"axis\": \"concurrency\""), std::string::npos);
  EXPECT_NE(json.find("\"from_point\": \"concurrency=4\""), std::string::npos) << json;
}

}  // namespace
}  // namespace trackiq::analysis
