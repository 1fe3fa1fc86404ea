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
#include "trackiq/report/report.hpp"

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
  // The only "</script" sequences are the four closing tags the renderer writes (data, chart
  // library, common.js, report.js).
  std::size_t count = 0;
  for (auto at = h.html.find("</script>"); at != std::string::npos; at = h.html.find("</script>", at + 1)) ++count;
  EXPECT_EQ(count, 4u);
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

// A `trackiq load --api openai-chat` point at `concurrency`, with the metrics under the names
// load_result.cpp gives them (vLLM's); TTFT grows with the concurrency, TPOT a little.
Result llm_point(int concurrency, bool with_goodput) {
  Result r = run_with_samples(fmt::format("{0}{0}{0}{0}{0}{0}{0}{0}-1111-4111-8111-111111111111", concurrency % 10), 200,
                              100.0 + concurrency, static_cast<std::uint64_t>(concurrency));
  r.workload.backend = "http";
  r.workload.options["api"] = "openai-chat";
  r.scenario.name = "load";
  r.scenario.workers = concurrency;
  const double c = concurrency;
  for (const auto& [name, value] : std::vector<std::pair<std::string, double>>{
           {"median_ttft_ms", 30 + c}, {"p99_ttft_ms", 40 + 2 * c}, {"median_tpot_ms", 5 + 0.1 * c},
           {"p99_tpot_ms", 6 + 0.2 * c}, {"median_itl_ms", 5.5}, {"p99_itl_ms", 7.5}, {"median_e2el_ms", 125 + c},
           {"p99_e2el_ms", 140 + c}, {"output_throughput", 160 * c}, {"request_throughput", 8 * c}})
    r.metrics.push_back({name, value});
  if (with_goodput) r.metrics.push_back({"request_goodput", 7.5 * c, ValueKind::kDerived});
  r.errors.total = 2;
  return r;
}

std::vector<std::pair<std::string, json>> cards_of(const json& glance) {
  std::vector<std::pair<std::string, json>> out;
  for (const json& c : glance["cards"]) out.emplace_back(c["label"].get<std::string>(), c);
  return out;
}

TEST(HtmlReport, AnLlmServingRunLeadsWithTtftTpotE2elOutputTokensAndGoodput) {
  ReportInput in;
  in.runs = {llm_point(4, true)};
  const json g = json::parse(render_html(in).data_json)["at_a_glance"][0];
  EXPECT_EQ(g["run_id"], in.runs[0].run_id);
  EXPECT_EQ(g["kind"], "llm");
  const auto cards = cards_of(g);
  const std::vector<std::pair<std::string, std::string>> expected{
      {"TTFT p50", "median_ttft_ms"}, {"TTFT p99", "p99_ttft_ms"},       {"TPOT p50", "median_tpot_ms"},
      {"TPOT p99", "p99_tpot_ms"},    {"E2EL p50", "median_e2el_ms"},    {"E2EL p99", "p99_e2el_ms"},
      {"output tokens/s", "output_throughput"}, {"goodput", "request_goodput"}, {"requests/s", "request_throughput"}};
  ASSERT_GE(cards.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(cards[i].first, expected[i].first);
    EXPECT_EQ(cards[i].second["metric"], expected[i].second);
    EXPECT_DOUBLE_EQ(cards[i].second["value"].get<double>(), in.runs[0].metric_value(expected[i].second).value()) << cards[i].first;
    EXPECT_EQ(cards[i].second["missing"], "");
  }
  EXPECT_EQ(cards[0].second["unit"], "ms");
  EXPECT_EQ(cards[6].second["unit"], "tok/s");
  EXPECT_EQ(cards.back().first, "errors");
  EXPECT_EQ(cards.back().second["value"], 2);
}

TEST(HtmlReport, WhatAnLlmRunLacksIsSaidAndItlStandsInForAMissingTpot) {
  ReportInput in;
  Result r = llm_point(1, false);
  std::erase_if(r.metrics, [](const MetricValue& m) { return m.name.find("_tpot_") != std::string::npos; });
  in.runs = {r};
  const auto cards = cards_of(json::parse(render_html(in).data_json)["at_a_glance"][0]);
  EXPECT_EQ(cards[2].first, "ITL p50");
  EXPECT_EQ(cards[2].second["value"], 5.5);
  EXPECT_EQ(cards[3].second["metric"], "p99_itl_ms");
  EXPECT_EQ(cards[7].first, "goodput");
  EXPECT_TRUE(cards[7].second["value"].is_null());
  EXPECT_EQ(cards[7].second["missing"], "not available: no --slo was given");
  // The Markdown report: the same figures in its LLM table, and why goodput is missing.
  const std::string md = render_markdown(in);
  EXPECT_NE(md.find("### LLM serving"), std::string::npos) << md;
  EXPECT_NE(md.find("| `11111111` | 31 | 42 | 5.5 (ITL) | 7.5 (ITL) | 126 | 141 | 160 | - |"), std::string::npos) << md;
  EXPECT_NE(md.find("- goodput: not available: no --slo was given"), std::string::npos) << md;
}

TEST(HtmlReport, OtherRunsKeepTheLatencyCards) {
  ReportInput in;
  in.runs = {run_with_samples("66666666-6666-4666-8666-666666666666", 500, 2.0, 6)};
  const json g = json::parse(render_html(in).data_json)["at_a_glance"][0];
  EXPECT_EQ(g["kind"], "generic");
  std::vector<std::string> labels;
  for (const auto& [label, card] : cards_of(g)) labels.push_back(label);
  EXPECT_EQ(labels, (std::vector<std::string>{"p50 latency", "p99 latency", "mean latency", "throughput", "errors", "CV", "samples"}));
  EXPECT_NEAR(g["cards"][0]["value"].get<double>(), in.runs[0].metric_value("latency_p50_ms").value(), 1e-4);
  EXPECT_EQ(g["cards"][6]["value"], 500);
  EXPECT_EQ(render_markdown(in).find("LLM serving"), std::string::npos);
}

TEST(HtmlReport, AnLlmConcurrencySweepPlotsTtftAndTpotPerStep) {
  ReportInput in;
  for (const int c : {8, 1, 4, 2}) in.runs.push_back(llm_point(c, true));
  const HtmlReport h = render_html(in);
  const json t = json::parse(h.data_json)["charts"]["tradeoff"];
  ASSERT_FALSE(t.is_null());
  EXPECT_EQ(t["axis"], "concurrency");
  EXPECT_EQ(t["llm"]["token_latency"], "tpot");
  ASSERT_EQ(t["points"].size(), 4u);
  double x = 0;
  for (const json& p : t["points"]) {
    EXPECT_GT(p["x"].get<double>(), x);  // one point per step, in order of concurrency
    x = p["x"].get<double>();
    EXPECT_DOUBLE_EQ(p["ttft_p50_ms"].get<double>(), 30 + x);
    EXPECT_DOUBLE_EQ(p["ttft_p99_ms"].get<double>(), 40 + 2 * x);
    EXPECT_NEAR(p["token_p50_ms"].get<double>(), 5 + 0.1 * x, 1e-9);
    EXPECT_NEAR(p["token_p99_ms"].get<double>(), 6 + 0.2 * x, 1e-9);
  }
  EXPECT_EQ(x, 8);
  EXPECT_NE(h.data_csv.find(",tradeoff,ttft_p99_ms,8.0,56.0\n"), std::string::npos);
  // A sweep of ordinary runs has no LLM series.
  in.runs = {run_with_samples("77777777-7777-4777-8777-777777777777", 100, 1.0, 7),
             run_with_samples("88888888-8888-4888-8888-888888888888", 100, 2.0, 8)};
  in.runs[1].workload.batch_size = 4;
  EXPECT_TRUE(json::parse(render_html(in).data_json)["charts"]["tradeoff"]["llm"].is_null());
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
