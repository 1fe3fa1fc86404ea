// A Tracker's exports (server/tracker_exposition.hpp): the Prometheus text checked by the real
// `promtool check metrics` and its histogram buckets against the exact counts of the recorded
// latencies, the handler's routes and statuses, /metrics/summary against snapshot(),
// /metrics/export read back as a canonical result, serve() over loopback, and save() into a real
// SQLite store read back by the real `trackiq runs list/show`.
#include <gtest/gtest.h>

#include <atomic>
#include <clocale>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/test_paths.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/result.hpp"
#include "trackiq/server/tracker_exposition.hpp"
#include "trackiq/store/store.hpp"
#include "trackiq/telemetry/sampler.hpp"

namespace trackiq::server {
namespace {

std::atomic<std::int64_t> g_now{0};
std::int64_t fake_clock() noexcept { return g_now.load(); }

// A tracker with a known history: 1,000 completed requests of 1..1000 µs (three phases each, the
// infer phase 60 % of it), 7 failures (5 "timeout", 2 "oom"), token streams on every tenth request,
// a cache hit/miss ratio, a gauge and a value histogram.
struct Fixture {
  tracker::Tracker t{tracker::TrackerOptions{.service = "tts", .clock = &fake_clock}};
  std::vector<std::int64_t> latencies_ns;

  Fixture() {
    g_now = 1'000'000'000;
    const auto hits = t.counter("kv_cache_hit");
    const auto misses = t.counter("kv_cache_miss");
    t.ratio("kv_cache_hit_rate", hits, misses);
    t.gauge("queue_depth").set(3.5);
    const auto batch = t.histogram(MetricDef{"batch_size", "1", Direction::kNeutral, "requests per batch"}, 1, 1024, 3);
    const auto rss = t.histogram("rss_peak_bytes");
    for (int i = 1; i <= 1000; ++i) {
      const std::int64_t lat = i * 1000;
      latencies_ns.push_back(lat);
      const std::int64_t begin = g_now;
      auto r = t.begin_request("req-" + std::to_string(i));
      {
        auto p = r.phase("preprocess");
        g_now = begin + lat / 5;
      }
      {
        auto p = r.phase("infer");
        if (i % 10 == 0) {
          r.tokens_in(12);
          g_now = begin + lat / 2;
          r.token();
          g_now = begin + lat * 7 / 10;
          r.token(2);
        }
        g_now = begin + lat * 4 / 5;
      }
      {
        auto p = r.phase("postprocess");
        g_now = begin + lat;
      }
      (i % 3 == 0 ? hits : misses).inc();
      batch.observe(i % 8 + 1);
      rss.observe(std::int64_t{i} << 20);
    }
    for (int i = 0; i < 7; ++i) {
      auto r = t.begin_request("bad-" + std::to_string(i));
      g_now += 5000;
      r.fail("backend gave up", i < 5 ? "timeout" : "oom");
    }
    g_now += 1'000'000'000;
  }
};

std::string promtool_check(const std::string& text) {
  test::TempDir dir;
  std::ofstream(dir.file("metrics.txt")) << text;
  const auto r = test::run_process({"sh", "-c", "promtool check metrics < " + dir.file("metrics.txt") + " 2>&1"});
  return r.exit_code == 0 ? "" : "exit " + std::to_string(r.exit_code) + ": " + r.out + r.err;
}

// The value of the sample `name{labels}` in a text exposition (NaN when absent).
double sample(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return NAN;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(TrackerExposition, MetricsTextPassesPromtoolAndNamesItsSeriesInBaseUnits) {
  Fixture f;
  const std::string text = tracker_metrics_text(f.t.snapshot(), "tts");
  EXPECT_EQ(promtool_check(text), "") << text;
  EXPECT_EQ(sample(text, R"(trackiq_requests_total{outcome="completed"})"), 1000);
  EXPECT_EQ(sample(text, R"(trackiq_requests_total{outcome="failed"})"), 7);
  EXPECT_EQ(sample(text, R"(trackiq_request_errors_total{class="timeout"})"), 5);
  EXPECT_EQ(sample(text, R"(trackiq_request_errors_total{class="oom"})"), 2);
  EXPECT_EQ(sample(text, "trackiq_requests_active"), 0);
  EXPECT_EQ(sample(text, "trackiq_input_tokens_total"), 100 * 12);
  EXPECT_EQ(sample(text, "trackiq_output_tokens_total"), 100 * 3);
  EXPECT_EQ(sample(text, "trackiq_request_duration_seconds_count"), 1000);
  EXPECT_EQ(sample(text, "trackiq_time_to_first_token_seconds_count"), 100);
  EXPECT_EQ(sample(text, "trackiq_time_per_output_token_seconds_count"), 100);
  EXPECT_EQ(sample(text, "trackiq_inter_token_latency_seconds_count"), 100);
  EXPECT_EQ(sample(text, "trackiq_e2e_request_latency_seconds_count"), 100);
  for (const char* phase : {"preprocess", "infer", "postprocess"})
    EXPECT_EQ(sample(text, std::string("trackiq_request_phase_duration_seconds_count{phase=\"") + phase + "\"}"), 1000)
        << phase;
  EXPECT_EQ(sample(text, "trackiq_kv_cache_hit_total"), 333);
  EXPECT_EQ(sample(text, "trackiq_kv_cache_miss_total"), 667);
  EXPECT_DOUBLE_EQ(sample(text, "trackiq_kv_cache_hit_ratio"), 0.333);
  EXPECT_DOUBLE_EQ(sample(text, "trackiq_queue_depth"), 3.5);
  EXPECT_EQ(sample(text, "trackiq_batch_size_count"), 1000);
  EXPECT_EQ(sample(text, "trackiq_rss_peak_bytes_count"), 1000);
  // The info series names the clock the record path reads (labels in name order).
  EXPECT_NE(text.find(R"(trackiq_tracker_info{clock=")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(",service="tts",version=")"), std::string::npos) << text;
  // The request histogram's sum (from bucket midpoints) is the exact sum within 0.1 %.
  EXPECT_NEAR(sample(text, "trackiq_request_duration_seconds_sum"), 1000 * 1001 / 2 * 1e-6, 0.5 * 1e-3);
}

TEST(TrackerExposition, HistogramBucketCountsAreExactAtTheirBounds) {
  Fixture f;
  const std::string text = tracker_metrics_text(f.t.snapshot(), "tts");
  const std::regex bucket(R"re(\ntrackiq_request_duration_seconds_bucket\{le="([^"]+)"\} (\S+))re");
  std::size_t n = 0, inside = 0;
  double previous_le = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), bucket); it != std::sregex_iterator(); ++it) {
    const std::string le = (*it)[1];
    const double count = std::stod((*it)[2]);
    ++n;
    if (le == "+Inf") {
      EXPECT_EQ(count, 1000);
      continue;
    }
    const double bound_s = std::stod(le);
    EXPECT_GT(bound_s, previous_le);
    previous_le = bound_s;
    const auto bound_ns = static_cast<std::int64_t>(std::llround(bound_s * 1e9));
    const auto exact = static_cast<double>(std::count_if(f.latencies_ns.begin(), f.latencies_ns.end(),
                                                         [&](std::int64_t v) { return v <= bound_ns; }));
    EXPECT_EQ(count, exact) << "le=" << le;
    if (exact > 0 && exact < 1000) ++inside;
  }
  EXPECT_GE(n, 20u) << text;
  EXPECT_GE(inside, 3u) << "bounds inside the data: 10 µs, 25 µs, ... 500 µs";
}

TEST(TrackerExposition, HostMetricsNamedLikeOursAreMovedAside) {
  tracker::Tracker t;
  t.counter("requests").inc(4);
  t.gauge("requests_active").set(9);
  t.gauge("9-lives.left").set(2);
  { auto r = t.begin_request("a"); }
  const std::string text = tracker_metrics_text(t.snapshot());
  EXPECT_EQ(promtool_check(text), "") << text;
  EXPECT_EQ(sample(text, "trackiq_app_requests_total"), 4);
  EXPECT_EQ(sample(text, "trackiq_app_requests_active"), 9);
  EXPECT_EQ(sample(text, "trackiq_requests_active"), 0);
  EXPECT_EQ(sample(text, "trackiq__9_lives_left"), 2);  // made a valid name
}

TEST(TrackerExposition, MetricsTextIsTheSameUnderACommaDecimalLocale) {
  Fixture f;
  const tracker::Snapshot s = f.t.snapshot();
  const std::string c_text = tracker_metrics_text(s, "tts");
  const char* const locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8"};
  const char* chosen = nullptr;
  for (const char* l : locales)
    if (std::setlocale(LC_ALL, l)) {
      chosen = l;
      break;
    }
  if (!chosen) GTEST_SKIP() << "no comma-decimal locale installed";
  std::locale::global(std::locale(chosen));
  const std::string de_text = tracker_metrics_text(s, "tts");
  std::locale::global(std::locale::classic());
  std::setlocale(LC_ALL, "C");
  EXPECT_EQ(de_text, c_text);
}

TEST(TrackerExposition, HandlerServesThreePathsAndRefusesTheRest) {
  Fixture f;
  const HttpResponse metrics = handle_tracker_request(f.t, "GET", "/metrics", "");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(promtool_check(metrics.body), "");
  EXPECT_EQ(handle_tracker_request(f.t, "GET", "/metrics?x=1", "text/plain;version=0.0.4;q=0.3,*/*;q=0.1").status, 200);
  EXPECT_EQ(handle_tracker_request(f.t, "GET", "/", "").status, 404);
  EXPECT_EQ(handle_tracker_request(f.t, "GET", "/metrics/", "").status, 404);
  EXPECT_EQ(handle_tracker_request(f.t, "GET", "/api/v1/runs", "").status, 404);
  const HttpResponse post = handle_tracker_request(f.t, "POST", "/metrics", "");
  EXPECT_EQ(post.status, 405);
  ASSERT_EQ(post.headers.size(), 1u);
  EXPECT_EQ(post.headers[0].first, "Allow");
  EXPECT_EQ(post.headers[0].second, "GET, HEAD");
  // HEAD is answered as GET, body included: the host's server sends the headers only.
  const HttpResponse head = handle_tracker_request(f.t, "HEAD", "/metrics", "");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.content_type, metrics.content_type);
  EXPECT_EQ(head.body, metrics.body);
  EXPECT_EQ(handle_tracker_request(f.t, "GET", "/metrics/summary", "text/html").status, 406);
  EXPECT_EQ(handle_tracker_request(f.t, "GET", "/metrics/summary", "application/json;q=0").status, 406);
  EXPECT_EQ(handle_tracker_request(f.t, "GET", "/metrics/summary", "application/*").status, 200);
  EXPECT_EQ(handle_tracker_request(f.t, "GET", "/metrics/export", "text/html, */*;q=0.8").status, 200);
}

TEST(TrackerExposition, SummaryHoldsTheSnapshotsNumbers) {
  Fixture f;
  const tracker::Snapshot s = f.t.snapshot();
  const HttpResponse r = handle_tracker_request(f.t, "GET", "/metrics/summary", "application/json");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["service"], "tts");
  EXPECT_EQ(j["requests"]["completed"], 1000);
  EXPECT_EQ(j["requests"]["failed"], 7);
  EXPECT_EQ(j["errors_by_class"]["timeout"], 5);
  EXPECT_DOUBLE_EQ(j["rates"]["requests_per_s"].get<double>(), s.request_rate_per_s);
  EXPECT_DOUBLE_EQ(j["rates"]["error_rate"].get<double>(), s.error_rate);
  EXPECT_DOUBLE_EQ(j["latency_ms"]["request"]["percentiles"]["p99"].get<double>(), s.request->percentiles[3].value);
  EXPECT_DOUBLE_EQ(j["latency_ms"]["request"]["percentiles"]["p99.9"].get<double>(), s.request->percentiles[4].value);
  EXPECT_DOUBLE_EQ(j["latency_ms"]["ttft"]["mean"].get<double>(), s.ttft->mean);
  EXPECT_DOUBLE_EQ(j["phases_ms"]["infer"]["mean"].get<double>(), s.phases.at("infer").mean);
  EXPECT_EQ(j["phases_ms"].size(), 3u);
  EXPECT_DOUBLE_EQ(j["ratios"]["kv_cache_hit_rate"].get<double>(), 0.333);
  EXPECT_EQ(j["histograms"]["rss_peak_bytes"]["unit"], "B");
  EXPECT_EQ(j["violations"].size(), 0u) << j["violations"];
}

// Per-request resources from rows fed through resource_sink(): samples every 10 ns of RSS
// 100·k MiB and CPU time 0.5·k s at tick k; request i runs over ticks [i, i + 1] (exactly on the
// sample times), so its peak RSS is 100·(i + 1) MiB and its CPU time seen 0.5 s. A last request
// begun after the last row is pending.
struct ResourceFixture {
  tracker::Tracker t{tracker::TrackerOptions{.service = "tts", .clock = &fake_clock}};
  static constexpr int kRequests = 4;

  ResourceFixture() {
    g_now = 0;
    telemetry::RowSink& sink = t.resource_sink();
    sink.begin({{"proc.rss_bytes", "B"}, {"proc.cpu_time_s", "s"}});
    auto tick = [&sink](int k) {
      const std::vector<double> row{100.0 * k * 1048576.0, 0.5 * k};
      sink.row(10 * k, row);
    };
    tick(0);
    for (int i = 0; i < kRequests; ++i) {
      g_now = 10 * i;
      auto r = t.begin_request("r" + std::to_string(i));
      g_now = 10 * (i + 1);
      tick(i + 1);
    }
    g_now = 10 * kRequests + 5;
    { auto r = t.begin_request("pending"); g_now += 1; }
  }
};

TEST(TrackerExposition, ResourcesSeenAreGaugesInBaseUnitsAndInTheSummary) {
  ResourceFixture f;
  const tracker::Snapshot s = f.t.snapshot();
  ASSERT_TRUE(s.resources.attached);
  ASSERT_EQ(s.resources.requests_attributed, 4u);
  const std::string text = tracker_metrics_text(s, "tts");
  EXPECT_EQ(promtool_check(text), "") << text;
  EXPECT_EQ(sample(text, R"(trackiq_request_resource_attribution_requests{state="attributed"})"), 4);
  EXPECT_EQ(sample(text, R"(trackiq_request_resource_attribution_requests{state="pending"})"), 1);
  EXPECT_EQ(sample(text, R"(trackiq_request_resource_attribution_requests{state="unattributed"})"), 0);
  EXPECT_EQ(sample(text, "trackiq_request_throttled_seen_requests"), 0);
  EXPECT_EQ(sample(text, "trackiq_tracker_telemetry_rows_total"), 5);
  // Peaks 100, 200, 300, 400 MiB: max 400 MiB, min 100 MiB, mean 250 MiB, p50 250 MiB (linear).
  const double mib = 1048576.0;
  EXPECT_DOUBLE_EQ(sample(text, R"(trackiq_request_rss_peak_seen_bytes{statistic="max"})"), 400 * mib);
  EXPECT_DOUBLE_EQ(sample(text, R"(trackiq_request_rss_peak_seen_bytes{statistic="min"})"), 100 * mib);
  EXPECT_DOUBLE_EQ(sample(text, R"(trackiq_request_rss_peak_seen_bytes{statistic="mean"})"), 250 * mib);
  EXPECT_DOUBLE_EQ(sample(text, R"(trackiq_request_rss_peak_seen_bytes{statistic="p50"})"), 250 * mib);
  // CPU time in seconds (the snapshot's ms × 10⁻³): 0.5 s for every request.
  EXPECT_DOUBLE_EQ(sample(text, R"(trackiq_request_cpu_time_seen_seconds{statistic="p99"})"), 0.5);
  EXPECT_DOUBLE_EQ(sample(text, R"(trackiq_request_cpu_time_seen_seconds{statistic="mean"})"), 0.5);
  // No GPU or temperature channel: those series are absent, not zero.
  EXPECT_EQ(text.find("trackiq_request_gpu_proc_mem_peak_seen_bytes"), std::string::npos);
  EXPECT_EQ(text.find("trackiq_request_temp_peak_seen_celsius"), std::string::npos);

  const auto j = nlohmann::json::parse(tracker_summary_json(s, "tts"));
  const auto& res = j["resources"];
  EXPECT_EQ(res["attached"], true);
  EXPECT_NE(res["unavailable"].get<std::string>().find("gpuN.proc_mem_bytes"), std::string::npos) << res;
  EXPECT_EQ(res["requests"]["attributed"], 4);
  EXPECT_EQ(res["requests"]["pending"], 1);
  EXPECT_EQ(res["requests"]["unattributed"], 0);
  EXPECT_EQ(res["rows_taken"], 5);
  EXPECT_EQ(res["distributions"]["rss_peak_seen_bytes"]["count"], 4);
  EXPECT_DOUBLE_EQ(res["distributions"]["rss_peak_seen_bytes"]["max"].get<double>(), 400 * mib);
  EXPECT_DOUBLE_EQ(res["distributions"]["cpu_time_seen_ms"]["percentiles"]["p50"].get<double>(), 500.0);
  EXPECT_EQ(res["distributions"].size(), 2u) << res;
}

TEST(TrackerExposition, WithoutASamplerNoResourceSeriesAndTheSummarySaysWhy) {
  Fixture f;
  const std::string text = tracker_metrics_text(f.t.snapshot(), "tts");
  EXPECT_EQ(text.find("_seen_"), std::string::npos);
  EXPECT_EQ(text.find("trackiq_request_resource_attribution_requests"), std::string::npos);
  const auto j = nlohmann::json::parse(tracker_summary_json(f.t.snapshot(), "tts"));
  EXPECT_EQ(j["resources"]["attached"], false);
  EXPECT_NE(j["resources"]["unavailable"].get<std::string>().find("attach"), std::string::npos);
  EXPECT_EQ(j["resources"]["requests"]["attributed"], 0);  // the records are not read without one
}

TEST(TrackerExposition, ExportIsTheCanonicalResult) {
  Fixture f;
  const HttpResponse r = handle_tracker_request(f.t, "GET", "/metrics/export", "");
  ASSERT_EQ(r.status, 200);
  const Result result = result_from_json(r.body, "/metrics/export");
  EXPECT_EQ(result.workload.backend, "tracker");
  EXPECT_EQ(result.workload.model, "tts");
  EXPECT_EQ(result.scenario.name, "production");
  EXPECT_EQ(result.metric_value("queries_total"), 1000);
  EXPECT_EQ(result.errors.total, 7u);
}

TEST(TrackerExposition, ServeAnswersOverLoopbackAndStopsWhenDestroyed) {
  Fixture f;
  std::string address;
  {
    TrackerServer server = serve(f.t, "127.0.0.1:0");
    address = server.address();
    ASSERT_TRUE(std::regex_match(address, std::regex(R"(127\.0\.0\.1:\d+)"))) << address;
    const auto metrics = test::http_call(address, "GET", "/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_EQ(promtool_check(metrics.body), "");
    const auto summary = test::http_call(address, "GET", "/metrics/summary");
    EXPECT_EQ(summary.status, 200);
    EXPECT_EQ(nlohmann::json::parse(summary.body)["requests"]["completed"], 1000);
    EXPECT_EQ(test::http_call(address, "GET", "/nope").status, 404);
    // HEAD: the GET's status and headers with its body's length, and no body (the next request
    // on the connection is answered right); a 405 or 404 has headers only too.
    for (const std::string target : {"/metrics", "/metrics/summary", "/nope"}) {
      const auto head = test::http_head(address, target);
      const auto get = test::http_call(address, "GET", target);
      EXPECT_EQ(head.status, get.status) << target;
      EXPECT_EQ(head.headers, get.headers) << target;
      EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size())) << target;
      EXPECT_EQ(head.body, "") << target;
      EXPECT_EQ(head.next_status, 200) << target;
    }
    const auto put = test::http_call(address, "PUT", "/metrics");
    EXPECT_EQ(put.status, 405);
    EXPECT_EQ(put.header("allow"), "GET, HEAD");
    EXPECT_THROW(serve(f.t, address), NotAvailableError);  // the port is taken
  }
  EXPECT_ANY_THROW(test::http_call(address, "GET", "/metrics"));
  EXPECT_THROW(serve(f.t, "localhost"), InputError);
}

TEST(TrackerExposition, SavedWindowIsListedAndShownByTheCli) {
  if (std::string(test::kTrackiqBin).empty()) GTEST_SKIP() << "built without the trackiq binary";
  Fixture f;
  test::TempDir dir;
  const std::string db = dir.file("store.db");
  std::string id;
  {
    auto st = store::open_store(db);
    id = save(f.t, *st);
    const Result back = st->load(id);
    EXPECT_EQ(back.workload.backend, "tracker");
    EXPECT_EQ(back.metric_value("queries_total"), 1000);
  }
  const auto list = test::run_process({test::kTrackiqBin, "runs", "list", "--store", db});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(id.substr(0, 8)), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("tracker"), std::string::npos) << list.out;
  const auto show = test::run_process({test::kTrackiqBin, "runs", "show", id, "--store", db});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("production"), std::string::npos) << show.out;
  // The exported document is a file `trackiq report` and `compare` read.
  std::ofstream(dir.file("window.json")) << handle_tracker_request(f.t, "GET", "/metrics/export", "").body;
  const auto report = test::run_process({test::kTrackiqBin, "report", dir.file("window.json"), "--format", "md"});
  EXPECT_EQ(report.exit_code, 0) << report.out << report.err;
  const auto cmp = test::run_process({test::kTrackiqBin, "compare", dir.file("window.json"), id, "--store", db});
  EXPECT_NE(cmp.exit_code, 2) << cmp.out << cmp.err;
}

}  // namespace
}  // namespace trackiq::server
