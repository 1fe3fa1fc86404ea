#include <gtest/gtest.h>

#include <cmath>

#include "trackiq/analysis/tegrastats_analysis.hpp"
#include "trackiq/core/error.hpp"
#include "support/test_paths.hpp"

namespace trackiq::analysis {
namespace {

const std::string kLine =
    "RAM 2274/6834MB (lfb 27x4MB) SWAP 542/3417MB (cached 2MB) CPU [99%@1189,100%@1188,off,off] EMC_FREQ 10% "
    "GR3D_FREQ 22% CPU@40C GPU@{gpu}C PMIC@100C VDD_IN {mw}mW/5542mW";

std::string fmt_double(double v) {
  std::string s = std::to_string(v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string line(double gpu_c, int mw, int ram_used = 2274) {
  std::string s = kLine;
  s.replace(s.find("{gpu}"), 5, fmt_double(gpu_c));
  s.replace(s.find("{mw}"), 4, std::to_string(mw));
  s.replace(s.find("2274"), 4, std::to_string(ram_used));
  return s;
}

TEST(TegrastatsAnalysis, SummarisesUtilisationPowerAndEnergy) {
  const std::string text = line(40, 5000) + "\n" + line(42, 7000) + "\n" + line(41, 6000) + "\n";
  const auto log = telemetry::parse_tegrastats_log(text, "mem.log");
  const auto r = analyze_tegrastats(log, 85, 0.5);
  EXPECT_EQ(r.samples, 3u);
  EXPECT_EQ(r.interval_source, "--interval");
  ASSERT_TRUE(r.gpu_util_pct);
  EXPECT_DOUBLE_EQ(r.gpu_util_pct->mean, 22.0);
  ASSERT_TRUE(r.cpu_util_pct);
  EXPECT_DOUBLE_EQ(r.cpu_util_pct->mean, 99.5) << "mean of the online cores";
  EXPECT_EQ(r.power_rail, "VDD_IN");
  ASSERT_TRUE(r.power_w);
  EXPECT_DOUBLE_EQ(r.power_w->mean, 6.0);
  EXPECT_DOUBLE_EQ(r.power_w->max, 7.0);
  EXPECT_DOUBLE_EQ(*r.energy_j, 6.0 * 3 * 0.5);
  EXPECT_EQ(r.health, "healthy");
  for (const auto& z : r.zones) EXPECT_NE(z.zone, "PMIC") << "PMIC@100C is a placeholder, not a reading";
}

TEST(TegrastatsAnalysis, CountsThrottlingEntriesAndRatesCritical) {
  std::string text;
  for (double t : {80.0, 86.0, 87.0, 80.0, 90.0}) text += line(t, 5000) + "\n";
  const auto r = analyze_tegrastats(telemetry::parse_tegrastats_log(text, "hot.log"), 85, 1.0);
  EXPECT_EQ(r.throttle_events, 2u);
  EXPECT_EQ(r.health, "critical");
  ASSERT_FALSE(r.reasons.empty());
  EXPECT_NE(r.reasons[0].find("GPU reached 90.0 °C"), std::string::npos) << r.reasons[0];
}

TEST(TegrastatsAnalysis, FlagsMemoryPressureAndMalformedLines) {
  std::string text = "garbage line\n";
  for (int i = 0; i < 5; ++i) text += line(40, 5000, 6300) + "\n";  // 92 % used
  const auto r = analyze_tegrastats(telemetry::parse_tegrastats_log(text, "mem.log"), 85, 1.0);
  EXPECT_EQ(r.memory_pressure_samples, 5u);
  EXPECT_EQ(r.skipped_lines, 1u);
  EXPECT_EQ(r.health, "warning");
  EXPECT_EQ(r.reasons.size(), 2u);
}

TEST(TegrastatsAnalysis, TakesTheIntervalFromTimestamps) {
  const auto log = telemetry::read_tegrastats_log(std::string(trackiq::test::kTestdataDir) +
                                                  "/tegrastats/xavier_nx_jp5_nonroot_bjgeiser-tegra_burn.log");
  const auto r = analyze_tegrastats(log, 85, 1.0);
  EXPECT_EQ(r.samples, 30u);
  EXPECT_EQ(r.interval_source, "timestamps");
  EXPECT_NEAR(r.interval_s, 1.0, 0.1);
  EXPECT_EQ(r.power_rail, "VDD_IN");
  EXPECT_NE(tegrastats_report_json(r).find("\"health\": \"healthy\""), std::string::npos);
}

}  // namespace
}  // namespace trackiq::analysis
