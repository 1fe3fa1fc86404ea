// OpenMetrics 1.0 from prometheus-cpp's families, and the Accept negotiation (SRV-2).
#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/summary.h>

#include <string>

#include "trackiq/server/openmetrics.hpp"

namespace trackiq::server {
namespace {

TEST(OpenMetrics, NegotiatesByQualityAsPrometheusAsks) {
  // Prometheus 2.42's scrape Accept header: OpenMetrics 1.0 first.
  EXPECT_TRUE(wants_openmetrics("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
                                "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
  EXPECT_TRUE(wants_openmetrics("application/openmetrics-text"));
  EXPECT_TRUE(wants_openmetrics("Application/OpenMetrics-Text; version=0.0.1"));
  // Plain clients (curl, a browser, no header) get the text format.
  EXPECT_FALSE(wants_openmetrics(""));
  EXPECT_FALSE(wants_openmetrics("*/*"));
  EXPECT_FALSE(wants_openmetrics("text/plain;version=0.0.4"));
  EXPECT_FALSE(wants_openmetrics("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
  // q decides; q=0 refuses; an unknown version is not OpenMetrics 1.0; a tie goes to OpenMetrics.
  EXPECT_FALSE(wants_openmetrics("application/openmetrics-text;q=0.3,text/plain;q=0.9"));
  EXPECT_FALSE(wants_openmetrics("application/openmetrics-text;q=0"));
  EXPECT_FALSE(wants_openmetrics("application/openmetrics-text;version=2.0.0"));
  EXPECT_FALSE(wants_openmetrics("application/openmetrics-text;q=abc"));
  EXPECT_TRUE(wants_openmetrics("text/plain;q=0.5, application/openmetrics-text;q=0.5"));
}

TEST(OpenMetrics, WritesEachTypeWithTotalSuffixAndEof) {
  prometheus::Registry registry;
  auto& requests = prometheus::BuildCounter().Name("trackiq_http_requests_total").Help("Requests \"served\"\nby route").Register(registry);
  requests.Add({{"route", "/api/v1/runs"}, {"code", "200"}}).Increment(3);
  auto& temp = prometheus::BuildGauge().Name("trackiq_thermal_celsius").Help("Temperature").Register(registry);
  temp.Add({{"zone", "a\\b\"c"}}).Set(41.5);
  auto& latency = prometheus::BuildHistogram().Name("trackiq_http_request_duration_seconds").Help("Latency").Register(registry);
  auto& h = latency.Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.1});
  h.Observe(0.001);
  h.Observe(0.05);
  h.Observe(2);
  auto& summary = prometheus::BuildSummary().Name("trackiq_phase_seconds").Help("Phase").Register(registry);
  summary.Add({}, prometheus::Summary::Quantiles{{0.5, 0.05}}).Observe(1);

  const std::string om = openmetrics_text(registry.Collect());
  EXPECT_NE(om.find("# TYPE trackiq_http_requests counter\n"), std::string::npos) << om;
  EXPECT_NE(om.find("# HELP trackiq_http_requests Requests \\\"served\\\"\\nby route\n"), std::string::npos) << om;
  EXPECT_NE(om.find("trackiq_http_requests_total{code=\"200\",route=\"/api/v1/runs\"} 3\n"), std::string::npos) << om;
  EXPECT_NE(om.find("# TYPE trackiq_thermal_celsius gauge\n"), std::string::npos) << om;
  EXPECT_NE(om.find("trackiq_thermal_celsius{zone=\"a\\\\b\\\"c\"} 41.5\n"), std::string::npos) << om;
  EXPECT_NE(om.find("# TYPE trackiq_http_request_duration_seconds histogram\n"
                    "# HELP trackiq_http_request_duration_seconds Latency\n"
                    "trackiq_http_request_duration_seconds_bucket{le=\"0.005\"} 1\n"
                    "trackiq_http_request_duration_seconds_bucket{le=\"0.1\"} 2\n"
                    "trackiq_http_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"
                    "trackiq_http_request_duration_seconds_count 3\n"
                    "trackiq_http_request_duration_seconds_sum 2.051\n"),
            std::string::npos)
      << om;
  EXPECT_NE(om.find("trackiq_phase_seconds{quantile=\"0.5\"} 1\n"), std::string::npos) << om;
  EXPECT_NE(om.find("trackiq_phase_seconds_count 1\n"), std::string::npos) << om;
  ASSERT_GE(om.size(), 6u);
  EXPECT_EQ(om.substr(om.size() - 6), "# EOF\n");
  EXPECT_EQ(om.find("# EOF"), om.size() - 6) << "one # EOF, at the end";

  const auto text = exposition(registry.Collect(), "");
  EXPECT_EQ(text.content_type, kPrometheusTextType);
  EXPECT_NE(text.body.find("# TYPE trackiq_http_requests_total counter"), std::string::npos) << text.body;
  EXPECT_EQ(text.body.find("# EOF"), std::string::npos);
  const auto open = exposition(registry.Collect(), "application/openmetrics-text;version=1.0.0");
  EXPECT_EQ(open.content_type, kOpenMetricsType);
  EXPECT_EQ(open.body, om);
}

TEST(OpenMetrics, EmptyRegistryIsJustEof) {
  EXPECT_EQ(openmetrics_text({}), "# EOF\n");
}

}  // namespace
}  // namespace trackiq::server
