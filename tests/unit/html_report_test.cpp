// The HTML report's data reduction and page assembly (REP-2). What the page draws is checked in a
// real browser by tests/browser/check_report.mjs (CTest: html_report_browser_*).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/core/error.hpp"
#include "trackiq/core/stats.hpp"
#include "trackiq/report/html.hpp"

namespace trackiq::report {
namespace {

using nlohmann::json;

// A run of n samples completing at 1 ms intervals, latency `base_ms` with a few planted spikes.
Result run_with_samples(const std::string& id, std::size_t n, double base_ms, std::uint64_t seed) {
  Result r;
  r.run_id = id;
  r.labels.product = "detector";
  r.labels.version = "1.5";
  r.workload.model = "resnet50.onnx";
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> d(std::log(base_ms * 1e6), 0.1);
  LatencyData l;
  for (std::size_t i = 0; i < n; ++i) {
    l.samples_ns.push_back(static_cast<std::int64_t>(d(rng)));
    l.sample_end_ns.push_back(static_cast<std::int64_t>(i) * 1'000'000 + l.samples_ns.back());
  }
  l.summary_ns = summarize(l.samples_ns);
  r.metrics = {{"latency_mean_ms", l.summary_ns.mean / 1e6},
               {"latency_p50_ms", l.summary_ns.percentiles[0].value / 1e6},
               {"latency_p99_ms", l.summary_ns.percentiles[3].value / 1e6},
               {"throughput_samples_per_s", 1e3 / (l.summary_ns.mean / 1e6), ValueKind::kDerived}};
  r.latency = std::move(l);
  return r;
}

json page_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"trackiq-data\">";
  const auto a = html.find(open);
  EXPECT_NE(a, std::string::npos);
  const auto b = html.find("</script>", a);
  return json::parse(html.substr(a + open.size(), b - a - open.size()));
}

TEST(DownsampleMinMax, KeepsEveryExtremeAndAtMostTheBucketCount) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> d(10.0, 1.0);
  std::vector<std::int64_t> t;
  std::vector<double> v;
  for (int i = 0; i < 100'000; ++i) {
    t.push_back(i * 1000);
    v.push_back(d(rng));
  }
  v[31'337] = 1e6;   // a one-sample spike
  v[77'000] = -1e6;  // a one-sample dip
  v[5] = std::nan("");
  const MinMaxSeries s = downsample_min_max(t, v, 2000);
  ASSERT_LE(s.t_ns.size(), 2000u);
  ASSERT_GE(s.t_ns.size(), 1990u);
  EXPECT_EQ(*std::max_element(s.max.begin(), s.max.end()), 1e6);
  EXPECT_EQ(*std::min_element(s.min.begin(), s.min.end()), -1e6);
  // The spike is drawn at its own time (within one bucket), not smeared over the run.
  const auto at = std::max_element(s.max.begin(), s.max.end()) - s.max.begin();
  EXPECT_NEAR(static_cast<double>(s.t_ns[at]), 31'337'000.0, 100'000.0 / 2000 * 1000);
  for (std::size_t i = 0; i < s.t_ns.size(); ++i) {
    EXPECT_LE(s.min[i], s.max[i]);
    if (i) {
      EXPECT_LT(s.t_ns[i - 1], s.t_ns[i]);
    }
  }
}

TEST(DownsampleMinMax, FewerPointsThanBucketsAndAllNanAndUnsortedTimes) {
  const std::vector<std::int64_t> t{30, 10, 20};
  const std::vector<double> v{3, 1, 2};
  const MinMaxSeries s = downsample_min_max(t, v, 2000);
  ASSERT_EQ(s.t_ns.size(), 3u);
  EXPECT_EQ(s.min, (std::vector<double>{1, 2, 3}));
  const std::vector<double> nan(3, std::nan(""));
  EXPECT_TRUE(downsample_min_max(t, nan, 10).t_ns.empty());
  EXPECT_TRUE(downsample_min_max({}, {}, 10).t_ns.empty());
}

TEST(HtmlReport, OneRunPageCarriesEveryChartsData) {
  ReportInput in;
  in.title = "nightly";
  in.runs = {run_with_samples("11111111-1111-4111-8111-111111111111", 5000, 4.0, 1)};
  const HtmlReport h = render_html(in, {.theme = "dark"});
  EXPECT_NE(h.html.find("<html lang=\"en\" data-theme=\"dark\">"), std::string::npos);
  EXPECT_EQ(h.html.find("http://"), std::string::npos) << "no network references in the page";
  EXPECT_EQ(h.html.find("https://cdn"), std::string::npos);
  const json d = page_data(h.html);
  EXPECT_EQ(d, json::parse(h.data_json));
  EXPECT_EQ(d["theme"], "dark");
  EXPECT_EQ(d["executive_summary"]["decision"], "APPROVE");
  const json& c = d["charts"]["runs"][0];
  EXPECT_EQ(c["sample_count"], 5000);
  // Histogram counts add up to the samples; the CDF ends at the exact max with fraction 1.
  double total = 0;
  for (const auto& x : c["histogram"]["counts"]) total += x.get<double>();
  EXPECT_EQ(total, 5000);
  EXPECT_EQ(c["histogram"]["edges_ms"].size(), c["histogram"]["counts"].size() + 1);
  const auto& samples = in.runs[0].latency->samples_ns;
  const double max_ms = static_cast<double>(*std::max_element(samples.begin(), samples.end())) / 1e6;
  const double min_ms = static_cast<double>(*std::min_element(samples.begin(), samples.end())) / 1e6;
  EXPECT_NEAR(c["cdf"]["latency_ms"].back().get<double>(), max_ms, max_ms * 1e-5);
  EXPECT_NEAR(c["cdf"]["latency_ms"].front().get<double>(), min_ms, min_ms * 1e-5);
  EXPECT_EQ(c["cdf"]["fraction"].back(), 1.0);
  const auto& f = c["cdf"]["fraction"];
  EXPECT_TRUE(std::is_sorted(f.begin(), f.end()));
  // Box: the exact median and the timeline's extremes are the samples' extremes.
  EXPECT_NEAR(c["box"]["median"].get<double>(), in.runs[0].metric_value("latency_p50_ms").value(), 1e-4);
  double tmax = 0;
  for (const auto& x : c["timeline"]["max_ms"]) tmax = std::max(tmax, x.get<double>());
  EXPECT_NEAR(tmax, max_ms, max_ms * 1e-5);
  EXPECT_TRUE(d["charts"]["tradeoff"].is_null());
  EXPECT_TRUE(d["charts"]["bars"].empty());
  EXPECT_EQ(h.data_csv.substr(0, 24), "run_id,chart,series,x,y\n");
  EXPECT_NE(h.data_csv.find("11111111-1111-4111-8111-111111111111,cdf,fraction,"), std::string::npos);
}

TEST(HtmlReport, TextFromResultFilesCannotCloseTheDataScript) {
  ReportInput in;
  in.title = "</script><script>alert(1)</script>";
  Result r = run_with_samples("22222222-2222-4222-8222-222222222222", 100, 1.0, 2);
  r.labels.product = "<!-- </SCRIPT> -->";
  in.runs = {r};
  const HtmlReport h = render_html(in);
  // The only "</script" sequences are the three closing tags the renderer writes.
  std::size_t count = 0;
  for (auto at = h.html.find("</script>"); at != std::string::npos; at = h.html.find("</script>", at + 1)) ++count;
  EXPECT_EQ(count, 3u);
  EXPECT_NE(h.html.find("<title>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>"), std::string::npos);
  EXPECT_EQ(page_data(h.html)["runs"][0]["labels"]["product"], "<!-- </SCRIPT> -->");
}

TEST(HtmlReport, SeveralRunsGetTradeoffAndBarsWithHonestErrorBars) {
  ReportInput in;
  for (int b : {1, 4, 16}) {
    Result r = run_with_samples(fmt::format("{0}{0}{0}{0}{0}{0}{0}{0}-0000-4000-8000-000000000000", b % 10), 2000,
                                1.0 + b, static_cast<std::uint64_t>(b));
    r.workload.batch_size = b;
    in.runs.push_back(r);
  }
  const json d = json::parse(render_html(in).data_json);
  const json& t = d["charts"]["tradeoff"];
  ASSERT_FALSE(t.is_null());
  EXPECT_EQ(t["axis"], "batch_size");
  ASSERT_EQ(t["points"].size(), 3u);
  EXPECT_EQ(t["points"][2]["x"], 16);
  ASSERT_FALSE(d["charts"]["bars"].empty());
  for (const json& bar : d["charts"]["bars"]) {
    ASSERT_EQ(bar["runs"].size(), 3u);
    for (const json& r : bar["runs"]) {
      if (r["ci_low"].is_null()) continue;
      EXPECT_LE(r["ci_low"].get<double>(), r["value"].get<double>() * (1 + 1e-5)) << bar["metric"];
      EXPECT_GE(r["ci_high"].get<double>(), r["value"].get<double>() * (1 - 1e-5)) << bar["metric"];
    }
  }
}

TEST(HtmlReport, RunsWithoutSamplesHaveNoDistributionCharts) {
  ReportInput in;
  Result r = run_with_samples("33333333-3333-4333-8333-333333333333", 10, 1.0, 3);
  r.latency->samples_ns.clear();
  r.latency->sample_end_ns.clear();
  in.runs = {r};
  const json c = json::parse(render_html(in).data_json)["charts"]["runs"][0];
  EXPECT_TRUE(c["histogram"].is_null());
  EXPECT_TRUE(c["cdf"].is_null());
  EXPECT_TRUE(c["timeline"].is_null());
  EXPECT_EQ(c["sample_count"], 0);
}

TEST(HtmlReport, TelemetryOverlaysAndThrottleMarks) {
  ReportInput in;
  Result r = run_with_samples("44444444-4444-4444-8444-444444444444", 100, 1.0, 4);
  TelemetrySeries ts;
  ts.names = {"cpu.util_pct", "cpu0.util_pct", "gpu0.temp_c", "gpu0.throttled", "mem.used_bytes"};
  ts.units = {"%", "%", "°C", "1", "B"};
  for (int row = 0; row < 10; ++row) {
    ts.t_ns.push_back(row * 10'000'000LL);
    const double throttled = (row >= 3 && row <= 4) || row == 8 ? 1.0 : 0.0;
    for (double v : {50.0 + row, 40.0, 70.0 + row, throttled, 1e9}) ts.values.push_back(v);
  }
  r.telemetry.available = true;
  r.telemetry.series = ts;
  in.runs = {r};
  const json c = json::parse(render_html(in).data_json)["charts"]["runs"][0];
  ASSERT_EQ(c["telemetry"].size(), 2u);  // per-CPU and byte channels are not overlaid
  EXPECT_EQ(c["telemetry"][0]["name"], "cpu.util_pct");
  EXPECT_EQ(c["telemetry"][1]["unit"], "°C");
  EXPECT_EQ(c["throttle_t_s"], json::parse("[0.03, 0.08]"));  // rising edges only
}

TEST(HtmlReport, AMillionSampleRunStaysUnderThreeMegabytes) {
  ReportInput in;
  in.runs = {run_with_samples("55555555-5555-4555-8555-555555555555", 1'000'000, 3.0, 5)};
  const HtmlReport h = render_html(in);
  EXPECT_LT(h.html.size(), 3u * 1000 * 1000) << h.html.size();
  EXPECT_LT(h.data_json.size(), 3u * 1000 * 1000);
}

TEST(HtmlReport, RejectsAnUnknownTheme) { EXPECT_THROW(render_html(ReportInput{}, {.theme = "blue"}), InputError); }

TEST(PdfReport, SaysWhatIsMissingWithoutChromium) {
  ::setenv("TRACKIQ_CHROMIUM", "/nonexistent/chromium", 1);
  EXPECT_EQ(find_chromium(), "");
  try {
    print_pdf("<html></html>", "/tmp/never-written.pdf");
    ADD_FAILURE() << "no exception";
  } catch (const NotAvailableError& e) {
    EXPECT_NE(std::string(e.what()).find("Chromium"), std::string::npos);
  }
  ::unsetenv("TRACKIQ_CHROMIUM");
}

}  // namespace
}  // namespace trackiq::report
