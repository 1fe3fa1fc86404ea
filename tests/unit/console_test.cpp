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

}  // namespace
}  // namespace trackiq
