#include <gtest/gtest.h>

#include <regex>

#include "trackiq/report/console.hpp"
#include "trackiq/runner/runner.hpp"

namespace trackiq {
namespace {

TEST(ConsoleReport, ShowsPercentilesThroughputChecksAndSyntheticLabel) {
  runner::RunSettings s;
  s.scenario = runner::Scenario::kServer;
  s.qps = 100;
  s.iterations = 20;
  auto w = workload::make_workload({.spec = "synthetic:mean=1ms"});
  const auto rec = runner::run_scenario(*w, s);
  const Result r = runner::make_result(*w, s, rec, capture_environment(), {});
  const std::string text = report::render_console(r);
  for (const char* pattern : {
           R"(\*\*\* SYNTHETIC WORKLOAD)",
           R"(scenario\s+server\s+target 100 q/s)",
           R"(latency \(from scheduled time, 20 queries\))",
           R"(\n  p50\s+[0-9.]+ ms\n)",
           R"(\n  p99\.9\s+[0-9.]+ ms\n)",
           R"(\n  cv\s+[0-9.]+ \n)",
           R"(samples/s\s+[0-9.]+ 1/s)",
           R"((PASS|FAIL)\s+schedule_lag_growth_pct\s+<=\s+[0-9.]+\s+measured -?[0-9.]+)",
           R"((PASS|FAIL)\s+queries_waiting_at_end\s+<=\s+[0-9.]+\s+measured [0-9.]+)",
           R"(\ntelemetry \([0-9]+ samples\)\n)",
       }) {
    EXPECT_TRUE(std::regex_search(text, std::regex(pattern))) << "missing /" << pattern << "/ in:\n" << text;
  }
}

// A load run's streaming metrics come as one table; every other metric of the run is shown too
// (before, only the fixed latency/throughput rows were: an LLM run's TTFT was only in the JSON),
// and an estimate says so.
TEST(ConsoleReport, ShowsStreamingTableEveryOtherMetricAndLabelsEstimates) {
  Result r;
  r.run_id = "r1";
  r.scenario.name = "load";
  for (const auto& [name, value] : std::vector<std::pair<std::string, double>>{
           {"mean_ttft_ms", 20.15}, {"median_ttft_ms", 20.16}, {"p99_ttft_ms", 20.25}, {"std_ttft_ms", 0.049},
           {"mean_itl_ms", 3.998}, {"p99_itl_ms", 4.09}, {"throughput_queries_per_s", 41.5},
           {"output_throughput", 332.1}, {"max_concurrent_requests", 2}})
    r.metrics.push_back({name, value, ValueKind::kMeasured});
  r.metrics.push_back({"power_avg_w", 61.5, ValueKind::kEstimated});
  const std::string text = report::render_console(r);
  for (const char* pattern : {
           R"(\nstreaming \(ms\) +mean +median +p90 +p95 +p99 +std\n)",
           R"(\n  TTFT +20\.15 +20\.16 +- +- +20\.25 +0\.049\n)",
           R"(\n  ITL +3\.998 +- +- +- +4\.090 +-\n)",
           R"(queries/s +41\.50 1/s\n)",
           R"(\nother metrics\n(.*\n)*  output_throughput +332\.1 1/s\n)",
           R"(\n  max_concurrent_requests +2 \n)",
           R"(\n  power_avg_w +61\.50 W  \(estimated\)\n)",
           R"(\ntelemetry  not recorded\n)",
       }) {
    EXPECT_TRUE(std::regex_search(text, std::regex(pattern))) << "missing /" << pattern << "/ in:\n" << text;
  }
  // Each metric once: the table's and the throughput rows' metrics are not repeated below.
  EXPECT_EQ(text.find("mean_ttft_ms"), std::string::npos) << text;
  EXPECT_EQ(text.find("throughput_queries_per_s"), std::string::npos) << text;
}

}  // namespace
}  // namespace trackiq
