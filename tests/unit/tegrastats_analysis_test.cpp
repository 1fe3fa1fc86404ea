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

// Every rail gets its own figures: on an AGX Orin (no input-rail monitor) they are the only power
// figures of the log, and no total is made up from them; a repeated name keeps its first value.
TEST(TegrastatsAnalysis, ReportsEachRailAndNoTotalWithoutAnInputRail) {
  const std::string orin =
      "RAM 17953/62841MB (lfb 9x4MB) CPU [7%@1728,31%@1036] GR3D_FREQ 39%@[305,0] cpu@43.9C "
      "VDD_GPU_SOC {gpu}mW/2798mW VDD_CPU_CV 800mW/799mW VIN_SYS_5V0 3000mW/3315mW NC 0mW/0mW NC 5mW/0mW\n";
  std::string text;
  for (const int gpu : {2000, 4000}) {
    std::string l = orin;
    l.replace(l.find("{gpu}"), 5, std::to_string(gpu));
    text += l;
  }
  const auto r = analyze_tegrastats(telemetry::parse_tegrastats_log(text, "orin.log"), 85, 2.0);
  EXPECT_EQ(r.power_rail, "");
  EXPECT_FALSE(r.power_w) << "no input rail: the rails are not added up into a total";
  ASSERT_EQ(r.rails.size(), 3u) << "NC is not a rail";
  EXPECT_EQ(r.rails[0].name, "VDD_GPU_SOC");
  EXPECT_DOUBLE_EQ(r.rails[0].power_w.mean, 3.0);
  EXPECT_DOUBLE_EQ(r.rails[0].power_w.max, 4.0);
  EXPECT_DOUBLE_EQ(r.rails[0].energy_j, 3.0 * 2 * 2.0);
  EXPECT_EQ(r.rails[1].name, "VDD_CPU_CV");
  EXPECT_EQ(r.rails[2].name, "VIN_SYS_5V0");
  EXPECT_DOUBLE_EQ(r.rails[2].power_w.mean, 3.0);
  const std::string text_report = render_tegrastats_report(r);
  EXPECT_NE(text_report.find("shown one by one and not added up"), std::string::npos) << text_report;
  EXPECT_NE(text_report.find("VDD_GPU_SOC        avg 3.00 W  peak 4.00 W  energy 12.0 J"), std::string::npos) << text_report;
  EXPECT_NE(tegrastats_report_json(r).find("\"name\": \"VIN_SYS_5V0\""), std::string::npos);
  // With an input rail, it is the total and its sub-rails follow it.
  const auto nx = analyze_tegrastats(
      telemetry::read_tegrastats_log(std::string(trackiq::test::kTestdataDir) +
                                     "/tegrastats/xavier_nx_jp5_nonroot_bjgeiser-tegra_burn.log"),
      85, 1.0);
  ASSERT_TRUE(nx.power_w);
  ASSERT_GE(nx.rails.size(), 2u);
  EXPECT_EQ(nx.rails[0].name, "VDD_IN");
  EXPECT_DOUBLE_EQ(nx.rails[0].power_w.mean, nx.power_w->mean);
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
