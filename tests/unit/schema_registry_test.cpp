// docs/schema/result.schema.json repeats the metric registry (names, units, directions) so
// that outside validators can check results. This test keeps the two in step.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "trackiq/core/metric_registry.hpp"
#include "support/test_paths.hpp"

namespace trackiq {
namespace {

nlohmann::json load_schema() {
  std::ifstream in(trackiq::test::kResultSchema);
  EXPECT_TRUE(in.good()) << trackiq::test::kResultSchema;
  return nlohmann::json::parse(in);
}

TEST(ResultSchema, ListsExactlyTheRegistryMetricNames) {
  const auto schema = load_schema();
  std::vector<std::string> in_schema = schema.at("$defs").at("metricName").at("enum").get<std::vector<std::string>>();
  std::vector<std::string> in_registry;
  for (const auto& m : metric_registry()) in_registry.emplace_back(m.name);
  std::sort(in_schema.begin(), in_schema.end());
  EXPECT_EQ(in_schema, in_registry) << "regenerate the metrics part of docs/schema/result.schema.json";
}

TEST(ResultSchema, PinsEachMetricsUnitAndDirection) {
  const auto props = load_schema().at("properties").at("metrics").at("properties");
  for (const auto& m : metric_registry()) {
    ASSERT_TRUE(props.contains(std::string(m.name))) << m.name;
    const auto& p = props.at(std::string(m.name)).at("properties");
    EXPECT_EQ(p.at("unit").at("const").get<std::string>(), m.unit) << m.name;
    EXPECT_EQ(p.at("direction").at("const").get<std::string>(), to_string(m.direction)) << m.name;
  }
  EXPECT_EQ(props.size(), metric_registry().size());
}

}  // namespace
}  // namespace trackiq
