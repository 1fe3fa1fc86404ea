// `analyze efficiency` (ANA-3): energy figures from measured power only, the Pareto front.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "trackiq/analysis/efficiency.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::analysis {
namespace {

Result point(std::uint32_t batch, double samples_per_s, std::optional<double> power_w, double p99_ms,
             ValueKind power_kind = ValueKind::kMeasured) {
  Result r;
  r.run_id = new_run_id();
  r.workload.batch_size = batch;
  r.labels.extra["sweep_point"] = "batch=" + std::to_string(batch);
  r.metrics.push_back({"throughput_samples_per_s", samples_per_s, ValueKind::kDerived});
  r.metrics.push_back({"latency_p99_ms", p99_ms, ValueKind::kMeasured});
  if (power_w) r.metrics.push_back({"power_avg_w", *power_w, power_kind});
  return r;
}

TEST(Efficiency, JoulesPerInferencePerfPerWattCostAndTheParetoFront) {
  // batch 1: 100/s at 50 W (0.5 J); batch 4: 300/s at 60 W (0.2 J); batch 8: 350/s at 90 W
  // (0.257 J); batch 16: 340/s at 100 W (0.294 J: dominated by batch 8).
  const std::vector<Result> runs{point(1, 100, 50, 12), point(4, 300, 60, 20), point(8, 350, 90, 35), point(16, 340, 100, 70)};
  const auto e = analyze_efficiency(runs, 0.30);
  ASSERT_EQ(e.rows.size(), 4u);
  EXPECT_DOUBLE_EQ(*e.rows[0].joules_per_inference, 0.5);
  EXPECT_DOUBLE_EQ(*e.rows[1].inferences_per_joule, 5.0);
  // 0.2 J × 1e6 / 3.6e6 J/kWh × 0.30 per kWh = 0.01666…
  EXPECT_NEAR(*e.rows[1].cost_per_million, 0.2 * 1e6 / 3.6e6 * 0.30, 1e-12);
  EXPECT_FALSE(e.rows[0].pareto) << "batch 4 is faster at less energy per inference";
  EXPECT_TRUE(e.rows[1].pareto);
  EXPECT_TRUE(e.rows[2].pareto) << "the fastest";
  EXPECT_FALSE(e.rows[3].pareto);
  ASSERT_TRUE(e.most_efficient && e.fastest);
  EXPECT_EQ(*e.most_efficient, 1u);
  EXPECT_EQ(*e.fastest, 2u);
  const std::string text = render_efficiency(e);
  EXPECT_NE(text.find("most efficient: batch=4 (5 inferences/J, 0.2 J/inference)"), std::string::npos) << text;
  EXPECT_NE(efficiency_json(e).find("\"pareto\": true"), std::string::npos);
}

TEST(Efficiency, SyntheticRunsAreSaidToMeasureNoModel) {
  std::vector<Result> runs{point(1, 100, 50, 12), point(4, 300, 60, 20)};
  EXPECT_EQ(render_efficiency(analyze_efficiency(runs, std::nullopt)).find("SYNTHETIC"), std::string::npos);
  runs[1].workload.synthetic = true;
  const std::string text = render_efficiency(analyze_efficiency(runs, std::nullopt));
  EXPECT_NE(text.find("note: SYNTHETIC WORKLOAD (1 of 2 runs): these numbers do not measure a model"), std::string::npos)
      << text;
}

TEST(Efficiency, WithoutMeasuredPowerItSaysNotAvailable) {
  const std::vector<Result> runs{point(1, 100, std::nullopt, 12), point(2, 180, 75, 15, ValueKind::kEstimated)};
  const auto e = analyze_efficiency(runs, std::nullopt);
  EXPECT_FALSE(e.rows[0].joules_per_inference);
  EXPECT_EQ(e.rows[0].not_available, "not available: no measured power (no power channel in the run's telemetry)");
  EXPECT_FALSE(e.rows[1].joules_per_inference) << "an estimated power is never used";
  EXPECT_EQ(e.rows[1].not_available, "not available: the run's power is estimated, not measured");
  EXPECT_FALSE(e.most_efficient);
  EXPECT_TRUE(e.fastest);
  EXPECT_NE(render_efficiency(e).find("performance per watt: not available"), std::string::npos);
}

TEST(Efficiency, MeasuredEnergyPerInferenceWinsAndQueriesScaleByBatch) {
  Result r;
  r.run_id = new_run_id();
  r.workload.batch_size = 4;
  r.metrics = {{"throughput_queries_per_s", 50, ValueKind::kDerived},
               {"power_avg_w", 40, ValueKind::kMeasured},
               {"energy_per_inference_j", 0.21, ValueKind::kDerived}};
  const auto e = analyze_efficiency({r}, std::nullopt);
  EXPECT_DOUBLE_EQ(e.rows[0].throughput, 200);
  EXPECT_EQ(e.rows[0].throughput_from, "throughput_queries_per_s x batch");
  EXPECT_DOUBLE_EQ(*e.rows[0].joules_per_inference, 0.21) << "the integrated energy, not power / throughput";
  EXPECT_THROW(analyze_efficiency({}, std::nullopt), InputError);
  EXPECT_THROW(analyze_efficiency({r}, -1.0), InputError);
}

}  // namespace
}  // namespace trackiq::analysis
