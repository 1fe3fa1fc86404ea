// compare_results: directions from the registry, thresholds, significance and verdicts, on
// results built with known samples.
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "trackiq/analysis/compare.hpp"

namespace trackiq::analysis {
namespace {

Result result_with(std::vector<std::int64_t> samples, std::string hw = "0123456789abcdef") {
  Result r;
  r.run_id = new_run_id();
  r.environment.hardware_fingerprint = std::move(hw);
  r.workload.model = "m";
  r.scenario.name = "single-stream";
  LatencyData l;
  l.summary_ns = summarize(samples);
  for (auto v : samples) l.histogram.record(v);
  l.samples_ns = std::move(samples);
  const auto& s = l.summary_ns;
  r.metrics = {{"latency_mean_ms", s.mean / 1e6},
               {"latency_p50_ms", s.percentiles[0].value / 1e6},
               {"latency_p99_ms", s.percentiles[3].value / 1e6},
               {"latency_cv", s.cv},
               {"throughput_samples_per_s", 1e9 / s.mean}};
  r.latency = std::move(l);
  return r;
}

std::vector<std::int64_t> lognormal(double median_ns, std::uint64_t seed, std::size_t n = 2000) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> d(std::log(median_ns), 0.2);
  std::vector<std::int64_t> v(n);
  for (auto& x : v) x = static_cast<std::int64_t>(d(rng));
  return v;
}

const MetricComparison& metric(const Comparison& c, const std::string& name) {
  for (const auto& m : c.metrics)
    if (m.name == name) return m;
  throw std::out_of_range(name);
}

TEST(Compare, TwoRunsOfTheSameDistributionPass) {
  const auto c = compare_results(result_with(lognormal(2e6, 1)), result_with(lognormal(2e6, 2)));
  EXPECT_EQ(c.verdict, Verdict::kPass) << render_comparison_table(c);
  EXPECT_TRUE(c.samples_used);
}

TEST(Compare, APlanted30PercentSlowdownBlocksWithHighConfidence) {
  const auto c = compare_results(result_with(lognormal(2e6, 1)), result_with(lognormal(2.6e6, 2)));
  EXPECT_EQ(c.verdict, Verdict::kBlock);
  const auto& p50 = metric(c, "latency_p50_ms");
  EXPECT_EQ(p50.verdict, Verdict::kBlock);
  EXPECT_EQ(p50.confidence, "high");
  EXPECT_NEAR(p50.change_pct, 30, 3);
  EXPECT_LT(*p50.p_value, 1e-10);
  const auto& tput = metric(c, "throughput_samples_per_s");
  EXPECT_EQ(tput.verdict, Verdict::kBlock) << "a throughput drop is a regression (direction from the registry)";
  EXPECT_LT(tput.change_pct, -20);
  EXPECT_EQ(metric(c, "latency_p99_ms").verdict, Verdict::kBlock) << render_comparison_table(c);
}

TEST(Compare, AFasterRunIsAnImprovementNotARegression) {
  const auto c = compare_results(result_with(lognormal(2e6, 1)), result_with(lognormal(1.6e6, 2)));
  EXPECT_EQ(c.verdict, Verdict::kPass) << render_comparison_table(c);
  EXPECT_LT(metric(c, "latency_p50_ms").regression_pct, 0);
  EXPECT_GT(metric(c, "throughput_samples_per_s").change_pct, 20) << "more throughput: better";
  EXPECT_EQ(metric(c, "throughput_samples_per_s").verdict, Verdict::kPass);
}

TEST(Compare, AThresholdExactlyReachedIsNotARegression) {
  Result a, b;
  a.run_id = "a";
  b.run_id = "b";
  a.metrics = {{"latency_p99_ms", 10.0}, {"throughput_samples_per_s", 100.0}};
  b.metrics = {{"latency_p99_ms", 11.0}, {"throughput_samples_per_s", 95.0}};  // +10 %, -5 %: at the limits
  const auto c = compare_results(a, b);
  EXPECT_EQ(c.verdict, Verdict::kPass) << render_comparison_table(c);
  b.metrics = {{"latency_p99_ms", 11.01}, {"throughput_samples_per_s", 100.0}};
  EXPECT_EQ(compare_results(a, b).verdict, Verdict::kBlock) << "no samples: beyond the threshold blocks";
}

TEST(Compare, WithoutSamplesItUsesThresholdsAndSaysSo) {
  Result a, b;
  a.metrics = {{"latency_p50_ms", 10.0}};
  b.metrics = {{"latency_p50_ms", 10.2}};
  const auto c = compare_results(a, b);
  EXPECT_FALSE(c.samples_used);
  ASSERT_FALSE(c.notes.empty());
  EXPECT_NE(c.notes[0].find("thresholds only"), std::string::npos);
  EXPECT_EQ(c.verdict, Verdict::kPass);
}

TEST(Compare, CustomThresholdsAndDifferentHardwareAreHonoured) {
  CompareOptions o;
  o.thresholds_pct["latency_p50_ms"] = 50;
  o.thresholds_pct["latency_mean_ms"] = 50;
  o.throughput_pct = 50;
  o.p99_pct = 50;
  const auto c = compare_results(result_with(lognormal(2e6, 1)), result_with(lognormal(2.6e6, 2), "ffffffffffffffff"), o);
  EXPECT_EQ(metric(c, "latency_p50_ms").threshold_pct, 50);
  EXPECT_EQ(metric(c, "latency_p50_ms").verdict, Verdict::kWarn) << "significant but within 50 %";
  EXPECT_FALSE(c.same_hardware);
  EXPECT_NE(c.notes[0].find("DIFFERENT HARDWARE"), std::string::npos);
}

TEST(Compare, RendersJsonAndATable) {
  const auto c = compare_results(result_with(lognormal(2e6, 1)), result_with(lognormal(2.6e6, 2)));
  const std::string j = comparison_json(c);
  EXPECT_NE(j.find("\"verdict\": \"BLOCK\""), std::string::npos);
  EXPECT_NE(j.find("\"direction\": \"higher\""), std::string::npos);
  const std::string table = render_comparison_table(c);  // Markdown is the report module's (report_test)
  EXPECT_NE(table.find("latency_p50_ms"), std::string::npos);
  EXPECT_NE(table.find("verdict: BLOCK"), std::string::npos) << table;
}

}  // namespace
}  // namespace trackiq::analysis
