#include <gtest/gtest.h>

#include <set>

#include "trackiq/core/error.hpp"
#include "trackiq/core/metric_registry.hpp"

namespace trackiq {
namespace {

TEST(MetricRegistry, IsSortedUniqueAndComplete) {
  const auto reg = metric_registry();
  ASSERT_GT(reg.size(), 20u);
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < reg.size(); ++i) {
    EXPECT_TRUE(seen.insert(reg[i].name).second) << "duplicate " << reg[i].name;
    if (i > 0) {
      EXPECT_LT(reg[i - 1].name, reg[i].name) << "table must stay sorted for lookups";
    }
    EXPECT_FALSE(reg[i].unit.empty()) << reg[i].name;
    EXPECT_FALSE(reg[i].description.empty()) << reg[i].name;
  }
}

TEST(MetricRegistry, DeclaresDirectionsExplicitly) {
  // Names that fool substring guessing: "throughput" is higher-is-better, "errors" lower,
  // "inferences_per_j" higher even though it ends in a unit.
  EXPECT_EQ(metric("latency_p99_ms").direction, Direction::kLowerIsBetter);
  EXPECT_EQ(metric("throughput_samples_per_s").direction, Direction::kHigherIsBetter);
  EXPECT_EQ(metric("inferences_per_j").direction, Direction::kHigherIsBetter);
  EXPECT_EQ(metric("energy_per_inference_j").direction, Direction::kLowerIsBetter);
  EXPECT_EQ(metric("goodput_req_per_s").direction, Direction::kHigherIsBetter);
  EXPECT_EQ(metric("qps_scheduled").direction, Direction::kNeutral);
  EXPECT_EQ(metric("errors_total").direction, Direction::kLowerIsBetter);
}

TEST(MetricRegistry, CoversTheSpecTable) {
  for (const char* name : {"latency_p50_ms", "latency_p90_ms", "latency_p95_ms", "latency_p99_ms", "latency_p99_9_ms",
                           "throughput_samples_per_s", "ttft_ms", "tpot_ms", "power_avg_w", "energy_per_inference_j",
                           "inferences_per_j", "temperature_max_c", "rss_peak_bytes", "goodput_req_per_s"}) {
    EXPECT_NE(find_metric(name), nullptr) << name;
  }
}

TEST(MetricRegistry, UnknownNamesAreErrorsNotGuesses) {
  EXPECT_EQ(find_metric("latency_p42_ms"), nullptr);
  EXPECT_EQ(find_metric(""), nullptr);
  EXPECT_THROW(metric("fps"), Error);
}

TEST(MetricRegistry, DirectionNamesAreStable) {
  EXPECT_EQ(to_string(Direction::kLowerIsBetter), "lower");
  EXPECT_EQ(to_string(Direction::kHigherIsBetter), "higher");
  EXPECT_EQ(to_string(Direction::kNeutral), "neutral");
}

}  // namespace
}  // namespace trackiq
