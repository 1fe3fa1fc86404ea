// compare_results: directions from the registry, thresholds, significance and verdicts, on
// results built with known samples.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <utility>

#include "trackiq/analysis/compare.hpp"
#include "trackiq/core/error.hpp"

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

TEST(Compare, ASyntheticSideIsSaidToMeasureNoModel) {
  Result a = result_with(lognormal(2e6, 1)), b = result_with(lognormal(2e6, 2));
  const auto real = compare_results(a, b);
  EXPECT_TRUE(std::none_of(real.notes.begin(), real.notes.end(),
                           [](const std::string& n) { return n.find("SYNTHETIC") != std::string::npos; }));
  b.workload.synthetic = true;
  const auto c = compare_results(a, b);
  EXPECT_NE(std::find(c.notes.begin(), c.notes.end(),
                      "SYNTHETIC WORKLOAD (the current run): these numbers do not measure a model"),
            c.notes.end());
  EXPECT_NE(render_comparison_table(c).find("SYNTHETIC WORKLOAD (the current run)"), std::string::npos);
}

// A tail that underflows to 0 is printed as a bound, not "p = 0" (which reads as a certainty).
TEST(Compare, AnUnderflowedPValueIsPrintedAsABound) {
  const auto c = compare_results(result_with(lognormal(2e6, 1, 20000)), result_with(lognormal(6e6, 2, 20000)));
  const auto& mean = metric(c, "latency_mean_ms");
  ASSERT_TRUE(mean.p_value.has_value());
  EXPECT_EQ(*mean.p_value, 0.0);
  EXPECT_NE(mean.reason.find("p < 1e-300, q < 1e-300"), std::string::npos) << mean.reason;
  EXPECT_EQ(mean.reason.find("p = 0"), std::string::npos) << mean.reason;
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

TEST(Compare, AThresholdReachedExactlyInDecimalIsReachedInFloatingPointToo) {
  Result a, b;
  a.metrics = {{"latency_p50_ms", 2.0}};
  b.metrics = {{"latency_p50_ms", 2.1}};  // +5 %, computed as 5.000000000000004 %
  ASSERT_GT((2.1 - 2.0) / 2.0 * 100.0, 5.0) << "the floating-point case this test is about";
  const auto c = compare_results(a, b);
  EXPECT_EQ(metric(c, "latency_p50_ms").verdict, Verdict::kPass) << render_comparison_table(c);
  EXPECT_EQ(metric(c, "latency_p50_ms").severity, "moderate") << "severity counts from the threshold (>=)";
  b.metrics = {{"latency_p50_ms", 2.1001}};
  EXPECT_EQ(compare_results(a, b).verdict, Verdict::kBlock) << "just beyond still blocks without samples";
}

TEST(Compare, SeverityUsesAtLeastAtEachStep) {
  Result a, b;
  a.metrics = {{"latency_p50_ms", 10.0}};
  b.metrics = {{"latency_p50_ms", 15.0}};
  EXPECT_EQ(metric(compare_results(a, b), "latency_p50_ms").severity, "severe");
  b.metrics = {{"latency_p50_ms", 20.0}};
  EXPECT_EQ(metric(compare_results(a, b), "latency_p50_ms").severity, "critical");
  b.metrics = {{"latency_p50_ms", 10.4}};
  EXPECT_EQ(metric(compare_results(a, b), "latency_p50_ms").severity, "none");
}

TEST(Compare, SpreadExtremesAndTheClientsOwnCostWarnButNeverBlock) {
  Result a, b;
  a.metrics = {{"latency_std_ms", 1.0}, {"latency_cv", 0.1}, {"latency_max_ms", 20.0}, {"latency_min_ms", 1.0},
               {"client_cpu_pct", 30.0}, {"client_cpu_per_request_ms", 0.01}, {"std_ttft_ms", 2.0},
               {"schedule_lag_p99_ms", 0.1}};
  b.metrics = {{"latency_std_ms", 3.0}, {"latency_cv", 0.3}, {"latency_max_ms", 90.0}, {"latency_min_ms", 2.0},
               {"client_cpu_pct", 45.0}, {"client_cpu_per_request_ms", 0.02}, {"std_ttft_ms", 5.0},
               {"schedule_lag_p99_ms", 1.0}};
  const auto c = compare_results(a, b);  // no samples: each of these would block on its threshold
  EXPECT_EQ(c.verdict, Verdict::kWarn) << render_comparison_table(c);
  ASSERT_EQ(c.metrics.size(), a.metrics.size());
  for (const auto& m : c.metrics) {
    EXPECT_EQ(m.gate, Gate::kInformOnly) << m.name;
    EXPECT_EQ(m.verdict, Verdict::kWarn) << m.name;
    EXPECT_NE(m.reason.find("never blocks"), std::string::npos) << m.reason;
  }
  // The same change on a metric that gates does block.
  a.metrics = {{"latency_p50_ms", 1.0}};
  b.metrics = {{"latency_p50_ms", 3.0}};
  EXPECT_EQ(compare_results(a, b).verdict, Verdict::kBlock);
}

TEST(Compare, NanOnEitherSideIsNotComparableNeverWithinTheThreshold) {
  Result a, b;
  a.metrics = {{"power_avg_w", NAN}, {"energy_j", NAN}, {"latency_p50_ms", 2.0}};
  b.metrics = {{"power_avg_w", 50.0}, {"energy_j", NAN}, {"latency_p50_ms", NAN}};
  const auto c = compare_results(a, b);
  const auto& power = metric(c, "power_avg_w");
  EXPECT_FALSE(power.comparable);
  EXPECT_EQ(power.verdict, Verdict::kWarn);
  EXPECT_NE(power.reason.find("not comparable"), std::string::npos) << power.reason;
  EXPECT_EQ(power.reason.find("within"), std::string::npos) << power.reason;
  EXPECT_EQ(change_text(power, 1), "n/a");
  EXPECT_EQ(metric(c, "latency_p50_ms").verdict, Verdict::kWarn) << "a current NaN is not a pass";
  EXPECT_EQ(metric(c, "energy_j").verdict, Verdict::kPass) << "measured on neither side";
  EXPECT_FALSE(metric(c, "energy_j").comparable);
  EXPECT_EQ(c.verdict, Verdict::kWarn);
  const std::string j = comparison_json(c);
  EXPECT_NE(j.find("\"comparable\": false"), std::string::npos);
  EXPECT_NE(j.find("\"change_pct\": null"), std::string::npos) << j;
  EXPECT_NE(render_comparison_table(c).find(" n/a "), std::string::npos) << render_comparison_table(c);
}

TEST(Compare, AZeroBaselineUsesAnAbsoluteRuleNotInfinitePercent) {
  Result a, b;
  a.metrics = {{"errors_total", 0.0}, {"error_rate", 0.0}, {"retried_requests", 0.0}};
  b.metrics = {{"errors_total", 1.0}, {"error_rate", 0.001}, {"retried_requests", 0.0}};
  auto c = compare_results(a, b);
  EXPECT_EQ(c.verdict, Verdict::kWarn) << render_comparison_table(c);
  const auto& errors = metric(c, "errors_total");
  EXPECT_TRUE(std::isnan(errors.change_pct));
  EXPECT_EQ(change_text(errors, 1), "n/a");
  EXPECT_EQ(errors.verdict, Verdict::kWarn) << "a count rising from zero informs";
  EXPECT_NE(errors.reason.find("from 0 to 1"), std::string::npos) << errors.reason;
  EXPECT_EQ(metric(c, "error_rate").verdict, Verdict::kPass) << "0.1 percentage points: within the 0.01 limit";
  EXPECT_EQ(metric(c, "retried_requests").verdict, Verdict::kPass) << "0 → 0 is no change";
  EXPECT_EQ(render_comparison_table(c).find("inf"), std::string::npos) << render_comparison_table(c);

  b.metrics = {{"error_rate", 0.2}};
  c = compare_results(a, b);
  EXPECT_EQ(metric(c, "error_rate").verdict, Verdict::kBlock) << "20 percentage points from zero";
  b.metrics = {{"error_rate", 0.01}};
  EXPECT_EQ(metric(compare_results(a, b), "error_rate").verdict, Verdict::kPass) << "the limit exactly reached";
  a.metrics = {{"throughput_queries_per_s", 0.0}};
  b.metrics = {{"throughput_queries_per_s", 5.0}};
  EXPECT_EQ(compare_results(a, b).verdict, Verdict::kPass) << "higher is better: from 0 up is better";
}

TEST(Compare, TwoMetricsHoldingTheSameNumberGetOneVerdict) {
  Result a, b;
  a.metrics = {{"request_throughput", 100.0}, {"throughput_queries_per_s", 100.0}, {"throughput_samples_per_s", 100.0}};
  b.metrics = {{"request_throughput", 80.0}, {"throughput_queries_per_s", 80.0}, {"throughput_samples_per_s", 80.0}};
  const auto c = compare_results(a, b);
  ASSERT_EQ(c.metrics.size(), 1u) << render_comparison_table(c);
  EXPECT_EQ(c.metrics[0].name, "throughput_queries_per_s");
  EXPECT_EQ(c.metrics[0].verdict, Verdict::kBlock);
  // Samples per second differ from queries per second with a batch of 8: both are judged.
  a.metrics = {{"throughput_queries_per_s", 100.0}, {"throughput_samples_per_s", 800.0}};
  b.metrics = {{"throughput_queries_per_s", 100.0}, {"throughput_samples_per_s", 800.0}};
  EXPECT_EQ(compare_results(a, b).metrics.size(), 2u);
}

Result without_samples(Result r) {
  r.latency->samples_ns.clear();
  return r;
}

TEST(Compare, WithoutRawSamplesTheHistogramsAreTestedAndTheSourceIsNamed) {
  const Result a = without_samples(result_with(lognormal(2e6, 1)));
  const auto same = compare_results(a, without_samples(result_with(lognormal(2e6, 2))));
  EXPECT_TRUE(same.samples_used);
  EXPECT_EQ(same.samples_source, "histogram (3 significant digits)");
  EXPECT_EQ(same.verdict, Verdict::kPass) << render_comparison_table(same);
  EXPECT_NE(render_comparison_table(same).find("latency histogram (3 significant digits): 2000 vs 2000"),
            std::string::npos)
      << render_comparison_table(same);

  const auto slower = compare_results(a, without_samples(result_with(lognormal(2.6e6, 2))));
  EXPECT_EQ(slower.verdict, Verdict::kBlock) << render_comparison_table(slower);
  EXPECT_EQ(metric(slower, "latency_p50_ms").verdict, Verdict::kBlock);
  EXPECT_NE(metric(slower, "latency_p50_ms").reason.find("Mann-Whitney"), std::string::npos);
  // The same data with exact samples gives the same verdicts.
  const auto exact = compare_results(result_with(lognormal(2e6, 1)), result_with(lognormal(2.6e6, 2)));
  EXPECT_EQ(exact.samples_source, "exact samples");
  for (const auto& m : exact.metrics) EXPECT_EQ(metric(slower, m.name).verdict, m.verdict) << m.name;
  // Exact samples on one side only: both sides use their histograms.
  EXPECT_EQ(compare_results(result_with(lognormal(2e6, 1)), without_samples(result_with(lognormal(2e6, 2)))).samples_source,
            "histogram (3 significant digits)");
}

TEST(Compare, WithTwoOrThreeValuesASideItSaysNoRankTestCanReachSignificance) {
  for (const std::size_t n : {2, 3}) {
    const auto c = compare_results(result_with(lognormal(2e6, 1, n)), result_with(lognormal(4e6, 2, n)));
    bool said = false;
    for (const auto& note : c.notes)
      said = said || note.find("the rank tests (median, percentiles) cannot reach significance") != std::string::npos;
    EXPECT_TRUE(said) << "n = " << n << "\n" << render_comparison_table(c);
    EXPECT_NE(metric(c, "latency_p50_ms").verdict, Verdict::kBlock) << "n = " << n;
  }
  const auto c = compare_results(result_with(lognormal(2e6, 1, 5)), result_with(lognormal(2e6, 2, 5)));
  for (const auto& note : c.notes) EXPECT_EQ(note.find("cannot reach significance"), std::string::npos) << "n = 5 can";
}

// The tail case: 1 % of requests now take 200 ms while the rest got 10 % faster.
std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>> tail_case() {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> base_d(10e6, 0.5e6), cur_d(9e6, 0.5e6);
  std::vector<std::int64_t> base(1000), cur(1000);
  for (auto& v : base) v = static_cast<std::int64_t>(base_d(rng));
  for (std::size_t i = 0; i < cur.size(); ++i) cur[i] = i < 10 ? 200'000'000 : static_cast<std::int64_t>(cur_d(rng));
  return {base, cur};
}

TEST(Compare, ANewTailInAFasterRunIsNeverBlamedOnTheRankTest) {
  const auto [base, cur] = tail_case();
  const auto c = compare_results(result_with(base), result_with(cur));
  const auto& mean = metric(c, "latency_mean_ms");
  EXPECT_GT(mean.regression_pct, 5) << "the mean did get worse";
  EXPECT_FALSE(mean.significant) << "the rank test says faster: " << mean.reason;
  for (const auto& m : c.metrics) {
    if (m.verdict == Verdict::kBlock) {
      EXPECT_EQ(m.reason.find("Mann-Whitney"), std::string::npos) << m.name << ": " << m.reason;
    }
  }
  EXPECT_EQ(metric(c, "latency_p50_ms").verdict, Verdict::kPass) << "the typical request is faster";
}

TEST(Compare, ANewTailBlocksOnTheTailShareAndSaysWhatShareTakesHowLong) {
  const auto [base, cur] = tail_case();
  for (const bool exact : {true, false}) {
    const Result b = exact ? result_with(base) : without_samples(result_with(base));
    const Result c_ = exact ? result_with(cur) : without_samples(result_with(cur));
    const auto c = compare_results(b, c_);
    EXPECT_EQ(c.verdict, Verdict::kBlock) << render_comparison_table(c);
    const auto& tail = metric(c, "latency_tail_share");
    EXPECT_EQ(tail.verdict, Verdict::kBlock) << tail.reason;
    EXPECT_TRUE(tail.points);
    EXPECT_DOUBLE_EQ(tail.current, 1.0);
    EXPECT_NE(tail.reason.find("1 % of requests now take more than"), std::string::npos) << tail.reason;
    EXPECT_NE(tail.reason.find("about 200 ms"), std::string::npos) << tail.reason;
    EXPECT_NE(tail.reason.find("Fisher"), std::string::npos) << tail.reason;
    EXPECT_EQ(change_text(tail, 1), "+1.0 pp");
    const auto& mean = metric(c, "latency_mean_ms");
    EXPECT_EQ(mean.test, "Welch t-test of the mean");
    EXPECT_NE(mean.verdict, Verdict::kBlock) << "the mean's own test is not significant: " << mean.reason;
    for (const auto& m : c.metrics) {
      if (m.verdict == Verdict::kBlock) {
        EXPECT_EQ(m.reason.find("Mann-Whitney"), std::string::npos) << m.reason;
      }
    }
  }
}

TEST(Compare, EachStatisticIsJudgedByATestOfThatStatistic) {
  auto with_all = [](std::vector<std::int64_t> v) {
    Result r = result_with(std::move(v));
    const auto& s = r.latency->summary_ns;
    r.metrics.push_back({"latency_p90_ms", s.percentiles[1].value / 1e6});
    r.metrics.push_back({"latency_p95_ms", s.percentiles[2].value / 1e6});
    return r;
  };
  const auto c = compare_results(with_all(lognormal(2e6, 1)), with_all(lognormal(2.6e6, 2)));
  EXPECT_EQ(metric(c, "latency_mean_ms").test, "Welch t-test of the mean");
  EXPECT_EQ(metric(c, "latency_p50_ms").test, "Mann-Whitney U with the bootstrap CI of the median");
  EXPECT_EQ(metric(c, "latency_p90_ms").test, "bootstrap CI of p90");
  EXPECT_EQ(metric(c, "latency_p95_ms").test, "bootstrap CI of p95");
  EXPECT_EQ(metric(c, "latency_p99_ms").test, "bootstrap CI of p99");
  EXPECT_EQ(metric(c, "throughput_samples_per_s").test, "Welch t-test of the mean") << "closed loop: workers / mean";
  EXPECT_EQ(metric(c, "latency_cv").test, "") << "spread is not tested";
  for (const auto& name : {"latency_mean_ms", "latency_p50_ms", "latency_p90_ms", "latency_p95_ms", "latency_p99_ms"}) {
    const auto& m = metric(c, name);
    EXPECT_EQ(m.verdict, Verdict::kBlock) << name << ": " << m.reason;
    ASSERT_TRUE(m.ci_low && m.q_value) << name;
    EXPECT_GT(*m.ci_low, 0) << name << ": the interval lies on the bad side";
    EXPECT_GE(*m.q_value, *m.p_value) << name;
    EXPECT_NE(m.reason.find(m.test), std::string::npos) << m.reason;
  }
  EXPECT_EQ(c.tests, 6u) << "Welch, Mann-Whitney, three bootstrap percentiles and the tail share";
  EXPECT_NE(render_comparison_table(c).find("6 tests held to a false-discovery rate of 5 %"), std::string::npos)
      << render_comparison_table(c);
}

TEST(Compare, AServerScenariosThroughputIsTheOfferedRateAndIsNotTestedThroughLatency) {
  Result a = result_with(lognormal(2e6, 1)), b = result_with(lognormal(2e6, 2));
  a.scenario.name = b.scenario.name = "server";
  b.metrics.back().value = a.metrics.back().value * 0.8;  // 20 % less throughput
  const auto c = compare_results(a, b);
  const auto& t = metric(c, "throughput_samples_per_s");
  EXPECT_EQ(t.test, "");
  EXPECT_EQ(t.verdict, Verdict::kBlock) << t.reason;
  EXPECT_NE(t.reason.find("threshold only"), std::string::npos) << t.reason;
}

// A load run's LLM metrics are tested on its per-request distributions.
Result llm_result(double ttft_ms, double tpot_ms, std::uint64_t seed) {
  Result r;
  r.run_id = new_run_id();
  r.environment.hardware_fingerprint = "0123456789abcdef";
  r.scenario.name = "load";
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> ttft(ttft_ms * 1e6, ttft_ms * 1e4), tpot(tpot_ms * 1e6, tpot_ms * 1e4);
  std::vector<std::int64_t> t1(500), t2(500);
  for (auto& v : t1) v = static_cast<std::int64_t>(ttft(rng));
  for (auto& v : t2) v = static_cast<std::int64_t>(tpot(rng));
  Histogram h1 = Histogram::for_latency_ns(), h2 = Histogram::for_latency_ns();
  for (auto v : t1) h1.record(v);
  for (auto v : t2) h2.record(v);
  r.distributions = {{"ttft", h1}, {"tpot", h2}};
  const auto s1 = summarize(t1), s2 = summarize(t2);
  r.metrics = {{"mean_ttft_ms", s1.mean / 1e6}, {"median_ttft_ms", s1.percentiles[0].value / 1e6},
               {"p99_ttft_ms", s1.percentiles[3].value / 1e6}, {"mean_tpot_ms", s2.mean / 1e6},
               {"p90_tpot_ms", s2.percentiles[1].value / 1e6}, {"output_throughput", 1000.0 / tpot_ms}};
  return r;
}

TEST(Compare, LlmMetricsAreTestedOnTheirPerRequestDistributions) {
  const auto same = compare_results(llm_result(150, 20, 1), llm_result(150, 20, 2));
  EXPECT_EQ(same.verdict, Verdict::kPass) << render_comparison_table(same);
  EXPECT_EQ(metric(same, "mean_ttft_ms").test, "Welch t-test of the mean");
  EXPECT_EQ(metric(same, "median_ttft_ms").test, "Mann-Whitney U with the bootstrap CI of the median");
  EXPECT_EQ(metric(same, "p90_tpot_ms").test, "bootstrap CI of p90");
  EXPECT_EQ(metric(same, "p99_ttft_ms").test, "bootstrap CI of p99");
  EXPECT_FALSE(metric(same, "p99_ttft_ms").tested) << "500 values: 5 beyond p99, fewer than 10";
  EXPECT_EQ(metric(same, "mean_ttft_ms").data, "histogram (3 significant digits)");

  const auto slower = compare_results(llm_result(150, 20, 1), llm_result(195, 26, 2));  // +30 %
  EXPECT_EQ(slower.verdict, Verdict::kBlock);
  for (const auto& name : {"mean_ttft_ms", "median_ttft_ms", "mean_tpot_ms", "p90_tpot_ms"}) {
    EXPECT_EQ(metric(slower, name).verdict, Verdict::kBlock) << name << ": " << metric(slower, name).reason;
    EXPECT_EQ(metric(slower, name).confidence, "high") << name;
  }
  EXPECT_EQ(metric(slower, "p99_ttft_ms").verdict, Verdict::kWarn) << "beyond, but too few tail values to test";
  EXPECT_NE(metric(slower, "output_throughput").reason.find("threshold only"), std::string::npos);
}

TEST(Compare, ABlockMustExceedTheRunToRunNoiseBandWhenSeveralRunsAreKnown) {
  // Five baseline runs whose medians wander by ±10 %, then a run 8 % slower: beyond the 5 %
  // threshold and significant within the run, but inside what the runs already wander.
  std::vector<Result> history;
  for (const double m : {2.0e6, 2.2e6, 1.8e6, 2.15e6, 1.85e6}) history.push_back(result_with(lognormal(m, history.size() + 10)));
  const Result cur = result_with(lognormal(2.16e6, 99));
  NoiseRuns noise{history, {cur}, "the history of the baseline's series: 5 runs"};
  const Result& base = history.front();
  const auto without = compare_results(base, cur);
  EXPECT_EQ(metric(without, "latency_p50_ms").verdict, Verdict::kBlock) << render_comparison_table(without);
  const auto with = compare_results(base, cur, {}, &noise);
  const auto& p50 = metric(with, "latency_p50_ms");
  EXPECT_EQ(p50.verdict, Verdict::kWarn) << p50.reason;
  EXPECT_NE(p50.reason.find("within the run-to-run noise"), std::string::npos) << p50.reason;
  ASSERT_TRUE(p50.noise_pct);
  EXPECT_GT(*p50.noise_pct, 8);
  EXPECT_FALSE(p50.beyond_noise);
  EXPECT_EQ(with.noise_source, noise.source);
  EXPECT_NE(render_comparison_table(with).find("run-to-run noise from the history"), std::string::npos);

  // Quiet history (±0.5 %): the same 8 % is beyond the band and blocks.
  std::vector<Result> quiet;
  for (const double m : {2.0e6, 2.01e6, 1.99e6, 2.005e6, 1.995e6}) quiet.push_back(result_with(lognormal(m, quiet.size() + 20)));
  NoiseRuns quiet_noise{quiet, {cur}, "5 quiet runs"};
  const auto blocked = compare_results(quiet.front(), cur, {}, &quiet_noise);
  EXPECT_EQ(metric(blocked, "latency_p50_ms").verdict, Verdict::kBlock) << render_comparison_table(blocked);
  EXPECT_TRUE(metric(blocked, "latency_p50_ms").beyond_noise);
  // One baseline run and one current run: no band, and it says so.
  NoiseRuns two{{base}, {cur}, "two runs"};
  const auto c2 = compare_results(base, cur, {}, &two);
  EXPECT_FALSE(metric(c2, "latency_p50_ms").noise_pct);
  bool said = false;
  for (const auto& n : c2.notes) said |= n.find("too few runs for a between-run noise band") != std::string::npos;
  EXPECT_TRUE(said);
}

TEST(Compare, ATailShareWithinTheRunsOwnTailsIsNotABlock) {
  // A neighbour made 2 % of the requests 4x slower in one baseline run and in the current run: the
  // current run against a quiet baseline run has a significant new tail, but the baseline's own
  // runs show such tails come and go. With the runs known the tail share must stay a WARN; a tail
  // that no baseline run had still blocks.
  auto with_spikes = [](std::uint64_t seed, std::size_t every) {
    auto v = lognormal(2e6, seed);
    if (every > 0)
      for (std::size_t i = 0; i < v.size(); i += every) v[i] *= 4;
    return result_with(std::move(v));
  };
  const Result b1 = with_spikes(31, 0), b2 = with_spikes(32, 50), b3 = with_spikes(33, 0), b4 = with_spikes(34, 50);
  const Result cur = with_spikes(35, 50);
  const auto alone = compare_results(b1, cur);
  ASSERT_EQ(metric(alone, "latency_tail_share").verdict, Verdict::kBlock) << metric(alone, "latency_tail_share").reason;

  NoiseRuns noise{{b1, b2, b3, b4}, {cur}, "the history of the baseline's series: 4 runs"};
  const auto with = compare_results(b1, cur, {}, &noise);
  const auto& tail = metric(with, "latency_tail_share");
  EXPECT_EQ(tail.verdict, Verdict::kWarn) << tail.reason;
  EXPECT_NE(tail.reason.find("within the run-to-run noise"), std::string::npos) << tail.reason;
  EXPECT_NE(tail.reason.find("4 vs 1 runs"), std::string::npos) << tail.reason;
  ASSERT_TRUE(tail.noise_pct);
  EXPECT_FALSE(tail.beyond_noise);

  // The same spikes against quiet baseline runs only: beyond the band, a BLOCK.
  NoiseRuns quiet{{b1, b3, with_spikes(36, 0)}, {cur}, "3 quiet runs"};
  const auto blocked = compare_results(b1, cur, {}, &quiet);
  EXPECT_EQ(metric(blocked, "latency_tail_share").verdict, Verdict::kBlock)
      << metric(blocked, "latency_tail_share").reason;
  EXPECT_TRUE(metric(blocked, "latency_tail_share").beyond_noise);
}

TEST(Compare, AGroupOfRunsMergesToMedianMetricsAndPooledSamples) {
  std::vector<Result> runs{result_with(lognormal(2e6, 1, 100)), result_with(lognormal(3e6, 2, 100)),
                           result_with(lognormal(2.5e6, 3, 100))};
  const Result g = merge_runs(runs, "group:base");
  EXPECT_EQ(g.run_id, "group:base");
  EXPECT_DOUBLE_EQ(*g.metric_value("latency_p50_ms"), *runs[2].metric_value("latency_p50_ms"));
  EXPECT_EQ(g.latency->samples_ns.size(), 300u);
  EXPECT_EQ(g.latency->histogram.count(), 300u);
  EXPECT_EQ(g.latency->summary_ns.count, 300u) << "the pooled summary, not the first run's";
  std::vector<Result> no_samples;
  for (const auto& r : runs) no_samples.push_back(without_samples(r));
  const Result h = merge_runs(no_samples, "group:h");
  EXPECT_TRUE(h.latency->samples_ns.empty());
  EXPECT_EQ(h.latency->summary_ns.count, 300u);
  EXPECT_NEAR(h.latency->summary_ns.mean, g.latency->summary_ns.mean, 0.001 * g.latency->summary_ns.mean);
  EXPECT_THROW(merge_runs({}, "x"), InputError);
}

TEST(Compare, ManyComparisonsShareOneFalseDiscoveryRate) {
  const std::vector<std::pair<Result, Result>> pairs{
      {result_with(lognormal(2e6, 1)), result_with(lognormal(2e6, 2))},
      {result_with(lognormal(2e6, 3)), result_with(lognormal(2.6e6, 4))}};
  const auto many = compare_many(pairs);
  ASSERT_EQ(many.size(), 2u);
  EXPECT_EQ(many[0].verdict, Verdict::kPass) << render_comparison_table(many[0]);
  EXPECT_EQ(many[1].verdict, Verdict::kBlock);
  const auto single0 = compare_results(pairs[0].first, pairs[0].second);
  const auto single1 = compare_results(pairs[1].first, pairs[1].second);
  EXPECT_EQ(many[0].tests, single0.tests + single1.tests) << "one procedure over every test of the set";
  EXPECT_EQ(many[1].tests, many[0].tests);
  EXPECT_NE(many[1].notes.back().find("one of 2 comparisons"), std::string::npos);
  // The same p-values, other q-values: q is adjusted over the whole set.
  const auto& p50 = metric(many[1], "latency_p50_ms");
  EXPECT_EQ(*p50.p_value, *metric(single1, "latency_p50_ms").p_value);
  EXPECT_GE(*p50.q_value, *p50.p_value);
}

TEST(Compare, TheP99IsTestedOnlyWithTenValuesBeyondItOnEachSide) {
  // 300 values a side: 3 beyond p99, so a 40 % slower p99 is beyond the threshold but untested.
  const auto c = compare_results(result_with(lognormal(2e6, 1, 300)), result_with(lognormal(2.8e6, 2, 300)));
  const auto& p99 = metric(c, "latency_p99_ms");
  EXPECT_FALSE(p99.significant);
  EXPECT_EQ(p99.verdict, Verdict::kWarn) << p99.reason;
  EXPECT_NE(p99.reason.find("p99 not tested"), std::string::npos) << p99.reason;
  const auto big = compare_results(result_with(lognormal(2e6, 1, 2000)), result_with(lognormal(2.8e6, 2, 2000)));
  EXPECT_EQ(metric(big, "latency_p99_ms").verdict, Verdict::kBlock) << metric(big, "latency_p99_ms").reason;
}

TEST(MetricRegistry, EverySameAsNamesARegisteredMetricOfTheSameUnitAndDirection) {
  for (const auto& def : metric_registry()) {
    if (def.same_as.empty()) continue;
    const MetricDef* twin = find_metric(def.same_as);
    ASSERT_NE(twin, nullptr) << def.name << " -> " << def.same_as;
    EXPECT_EQ(twin->unit, def.unit) << def.name;
    EXPECT_EQ(twin->direction, def.direction) << def.name;
    EXPECT_TRUE(twin->same_as.empty()) << "no chains: " << def.name;
  }
}

}  // namespace
}  // namespace trackiq::analysis
