// The programs of examples/, built by the project and run for real. The C++ inference server
// (examples/cpp_server) is started on port 0, driven by the real `trackiq load`, and its tracker
// is read back over HTTP: its request count must equal the load generator's, its three phases
// must be there, `promtool check metrics` must accept its /metrics, and a real Prometheus server
// must scrape it.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "support/background.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/test_paths.hpp"
#include "trackiq/core/result.hpp"

namespace trackiq::test {
namespace {

TEST(Examples, CppServerCountsWhatTheLoadGeneratorSent) {
  if (std::string(kCppServerExample).empty()) GTEST_SKIP() << "built without LibTorch (TRACKIQ_WITH_TORCH=OFF)";
  TempDir dir;
  Background server({kCppServerExample, "--listen", "127.0.0.1:0", "--store", dir.file("store.db")},
                    dir.file("server.log"));
  ASSERT_TRUE(server.ok());
  // LibTorch takes seconds to load on a busy machine.
  const std::string address =
      address_in_log(dir.file("server.log"), R"(listening on http://(127\.0\.0\.1:\d+))", 120);
  ASSERT_FALSE(address.empty()) << read_file(dir.file("server.log"));

  const auto load = run_process({kTrackiqBin, "load", "http://" + address + "/infer", "--method", "POST", "--body",
                                 "[0.5, 1, 2, 3]", "--header", "Content-Type: application/json", "--concurrency", "4",
                                 "--threads", "2", "--requests", "300", "--json", dir.file("load.json"), "--no-store"});
  ASSERT_EQ(load.exit_code, 0) << load.out << load.err;
  const Result sent = result_from_json(read_file(dir.file("load.json")), "load.json");
  const double completed = sent.metric_value("queries_total").value_or(-1);
  EXPECT_EQ(sent.metric_value("errors_total").value_or(0), 0);
  EXPECT_GT(completed, 0);

  // One bad request: a failure of class bad_input, as the example documents.
  EXPECT_EQ(http_call(address, "POST", "/infer", "{\"not\": \"a list\"}").status, 400);

  const auto summary = http_call(address, "GET", "/metrics/summary", "", {{"Accept", "application/json"}});
  ASSERT_EQ(summary.status, 200) << summary.body;
  const auto s = nlohmann::json::parse(summary.body);
  EXPECT_EQ(s["requests"]["completed"].get<double>(), completed) << summary.body;
  EXPECT_EQ(s["requests"]["failed"], 1);
  EXPECT_EQ(s["errors_by_class"]["bad_input"], 1);
  for (const char* phase : {"preprocess", "infer", "postprocess"}) {
    ASSERT_TRUE(s["phases_ms"].contains(phase)) << summary.body;
    // Completed requests ran all three; the failed one ended in preprocess.
    EXPECT_GE(s["phases_ms"][phase]["count"].get<double>(), completed) << phase;
    EXPECT_GT(s["phases_ms"][phase]["mean"].get<double>(), 0) << phase;
  }
  EXPECT_EQ(s["phases_ms"]["infer"]["count"].get<double>(), completed);
  EXPECT_EQ(s["violations"].size(), 0u) << s["violations"];
  // The tracker's latency of a request is inside the client's: its median is below the client's.
  EXPECT_LT(s["latency_ms"]["request"]["percentiles"]["p50"].get<double>(), sent.metric_value("latency_p50_ms").value_or(0));

  const auto metrics = http_call(address, "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  std::ofstream(dir.file("metrics.txt")) << metrics.body;
  const auto check = run_process({"sh", "-c", "promtool check metrics < " + dir.file("metrics.txt") + " 2>&1"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err << metrics.body;
  EXPECT_NE(metrics.body.find("trackiq_requests_total{outcome=\"completed\"} " + std::to_string(static_cast<long>(completed))),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("trackiq_request_phase_duration_seconds_count{phase=\"infer\"}"), std::string::npos);
  EXPECT_EQ(http_call(address, "GET", "/nope").status, 404);
  // HEAD: the GET's headers and length, no body (the next request on the connection is answered).
  const auto head = http_head(address, "/metrics/summary", {{"Accept", "application/json"}});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-type"), "application/json");
  EXPECT_GT(std::stoul("0" + head.header("content-length")), 100u);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.next_status, 200);

  // A real Prometheus server scrapes it (the README's scrape config, 1 s interval) and reads the
  // same count; a quantile of the infer phase comes out of the exposed buckets.
  const RealPrometheus prometheus(dir, "example", address);
  ASSERT_TRUE(prometheus.ok());
  std::string scraped;
  ASSERT_TRUE(eventually(60, [&] {
    scraped = prometheus.query("trackiq_requests_total{outcome=\"completed\"}");
    return !scraped.empty();
  })) << read_file(dir.file("prometheus.log"));
  EXPECT_NE(scraped.find("('job', 'example'), ('outcome', 'completed')] " + std::to_string(static_cast<long>(completed))),
            std::string::npos)
      << scraped;
  const std::string p50 =
      prometheus.query("histogram_quantile(0.5, trackiq_request_phase_duration_seconds_bucket{phase=\"infer\"})");
  std::smatch v;
  ASSERT_TRUE(std::regex_search(p50, v, std::regex(R"(\] ([0-9.e+-]+))"))) << p50;
  EXPECT_GT(std::stod(v[1]), 0) << p50;
  EXPECT_LT(std::stod(v[1]), 1.0) << p50;  // seconds: a forward pass of a 64-256-10 MLP

  // Stopped, it prints its summary and stores the window: `trackiq runs list` shows it.
  EXPECT_EQ(server.stop(), 0);
  const std::string log = read_file(dir.file("server.log"));
  EXPECT_NE(log.find("stored run "), std::string::npos) << log;
  const auto list = run_process({kTrackiqBin, "runs", "list", "--store", dir.file("store.db")});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("tracker"), std::string::npos) << list.out;
}

}  // namespace
}  // namespace trackiq::test
