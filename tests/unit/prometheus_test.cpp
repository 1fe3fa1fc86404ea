// The Prometheus exposition of telemetry: the naming rule, the served text checked by the real
// `promtool check metrics`, and a scrape over loopback.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/server/prometheus.hpp"

namespace trackiq::server {
namespace {
using telemetry::Channel;

std::string labels_of(const PromSeries& p) {
  std::string out;
  for (const auto& [k, v] : p.labels) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

TEST(PrometheusNames, FollowBaseUnitsAndPutInstancesInLabels) {
  struct Case {
    Channel channel;
    const char* metric;
    const char* labels;
    double scale;
    bool counter;
  };
  const std::vector<Case> cases = {
      {{"cpu.util_pct", "%"}, "trackiq_cpu_utilization_ratio", "", 0.01, false},
      {{"cpu3.util_pct", "%"}, "trackiq_cpu_core_utilization_ratio", "cpu=3", 0.01, false},
      {{"mem.available_bytes", "B"}, "trackiq_memory_available_bytes", "", 1, false},
      {{"mem.used_pct", "%"}, "trackiq_memory_used_ratio", "", 0.01, false},
      {{"proc.threads", "1"}, "trackiq_process_threads", "", 1, false},
      // The cgroup's throttling counts since the first sample: counters.
      {{"cgroup.throttled_s", "s"}, "trackiq_cgroup_throttled_seconds_total", "", 1, true},
      {{"cgroup.nr_throttled", "1"}, "trackiq_cgroup_throttled_periods_total", "", 1, true},
      // Cumulative CPU time is a counter (process_cpu_seconds_total), not a gauge.
      {{"proc.cpu_time_s", "s"}, "trackiq_process_cpu_seconds_total", "", 1, true},
      {{"psi.io.full_pct", "%"}, "trackiq_psi_full_ratio", "resource=io", 0.01, false},
      {{"thermal.cpu-thermal.temp_c", "°C"}, "trackiq_thermal_temperature_celsius", "zone=cpu-thermal", 1, false},
      {{"power.package-0.w", "W"}, "trackiq_power_watts", "domain=package-0", 1, false},
      {{"power.package-0.j", "J"}, "trackiq_power_energy_joules_total", "domain=package-0", 1, true},
      {{"gpu0.util_pct", "%"}, "trackiq_gpu_utilization_ratio", "device=gpu0", 0.01, false},
      {{"gpu1.sm_clock_mhz", "MHz"}, "trackiq_gpu_sm_clock_hertz", "device=gpu1", 1e6, false},
      {{"gpu0.energy_j", "J"}, "trackiq_gpu_energy_joules_total", "device=gpu0", 1, true},
  };
  for (const auto& c : cases) {
    const PromSeries p = prometheus_series(c.channel);
    EXPECT_EQ(p.metric, c.metric) << c.channel.name;
    EXPECT_EQ(labels_of(p), c.labels) << c.channel.name;
    EXPECT_DOUBLE_EQ(p.scale, c.scale) << c.channel.name;
    EXPECT_EQ(p.counter, c.counter) << c.channel.name;
    EXPECT_NE(p.help.find(c.channel.name), std::string::npos) << p.help;
  }
}

TEST(PrometheusExporter, ServesScaledValuesThatPromtoolAccepts) {
  PrometheusExporter e("127.0.0.1:0");
  const std::vector<Channel> channels = {{"cpu.util_pct", "%"},     {"cpu0.util_pct", "%"},
                                         {"mem.used_bytes", "B"},   {"power.pkg.j", "J"},
                                         {"power.pkg.j", "J"},  // the same series twice: told apart
                                         {"gpu0.temp_c", "°C"},     {"proc.cpu_time_s", "s"}};
  e.begin(channels);
  e.row(1, std::vector<double>{50, 25, 1024, 10, 1, NAN, 2.5});
  e.row(2, std::vector<double>{40, 20, 2048, 15, 3, 61, 4.25});
  const std::string text = e.text();
  EXPECT_NE(text.find("trackiq_cpu_utilization_ratio 0.4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trackiq_cpu_core_utilization_ratio{cpu=\"0\"} 0.2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trackiq_memory_used_bytes 2048\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trackiq_power_energy_joules_total{domain=\"pkg\"} 15\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trackiq_power_energy_joules_total{channel=\"power.pkg.j\",domain=\"pkg\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("trackiq_gpu_temperature_celsius{device=\"gpu0\"} 61\n"), std::string::npos) << text;
  // The counter holds the process's whole CPU time (its first reading counts in full).
  EXPECT_NE(text.find("# TYPE trackiq_process_cpu_seconds_total counter\ntrackiq_process_cpu_seconds_total 4.25\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("trackiq_exporter_samples_total 2\n"), std::string::npos) << text;

  const test::TempDir dir;
  std::ofstream(dir.file("metrics.txt")) << text;
  const auto check = test::run_process({"sh", "-c", "promtool check metrics < " + dir.file("metrics.txt")});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err << text;

  // The same text over HTTP on the bound port.
  const auto scrape = test::run_process(
      {"/usr/bin/python3", "-c", "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())",
       "http://" + e.address() + "/metrics"});
  ASSERT_EQ(scrape.exit_code, 0) << scrape.err;
  EXPECT_NE(scrape.out.find("trackiq_memory_used_bytes 2048\n"), std::string::npos) << scrape.out;

  // HEAD: the GET's status and headers with its body's length, no body (the next request on the
  // connection is answered right), 404 and 405 included.
  for (const std::string target : {"/metrics", "/nothing"}) {
    const auto head = test::http_head(e.address(), target);
    const auto get = test::http_call(e.address(), "GET", target);
    EXPECT_EQ(head.status, get.status) << target;
    EXPECT_EQ(head.headers, get.headers) << target;
    EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size())) << target;
    EXPECT_EQ(head.body, "") << target;
    EXPECT_EQ(head.next_status, 200) << target;
  }
  EXPECT_EQ(test::http_call(e.address(), "POST", "/metrics").header("allow"), "GET, HEAD");
}

// A channel without a reading is not exported: no made-up 0 (before, a cgroup without memory
// files showed trackiq_cgroup_memory_max_bytes 0, a limit of nothing). Its series appears at its
// first reading, and a later missing reading keeps the last value (counters and gauges alike).
TEST(PrometheusExporter, AChannelWithoutAReadingHasNoSeriesUntilItHasOne) {
  PrometheusExporter e("127.0.0.1:0");
  e.begin({{"cgroup.memory_max_bytes", "B"}, {"cgroup.nr_throttled", "1"}, {"mem.used_bytes", "B"}});
  e.row(1, std::vector<double>{NAN, NAN, 1024});
  std::string text = e.text();
  EXPECT_EQ(text.find("trackiq_cgroup_memory_max_bytes"), std::string::npos) << text;
  EXPECT_EQ(text.find("trackiq_cgroup_throttled_periods_total"), std::string::npos) << text;
  EXPECT_NE(text.find("trackiq_memory_used_bytes 1024\n"), std::string::npos) << text;
  e.row(2, std::vector<double>{4096, 7, NAN});
  e.row(3, std::vector<double>{NAN, NAN, NAN});
  text = e.text();
  EXPECT_NE(text.find("trackiq_cgroup_memory_max_bytes 4096\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trackiq_cgroup_throttled_periods_total 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trackiq_memory_used_bytes 1024\n"), std::string::npos) << text;
  const test::TempDir dir;
  std::ofstream(dir.file("metrics.txt")) << text;
  const auto check = test::run_process({"sh", "-c", "promtool check metrics < " + dir.file("metrics.txt")});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err << text;
}

TEST(PrometheusExporter, RejectsABadAddressAndSaysWhenItCannotBind) {
  EXPECT_THROW(PrometheusExporter("localhost"), InputError);
  EXPECT_THROW(PrometheusExporter("127.0.0.1:99999"), InputError);
  PrometheusExporter first("127.0.0.1:0");
  try {
    PrometheusExporter second(first.address());
    FAIL() << "bound the same port twice";
  } catch (const NotAvailableError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen on " + first.address()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace trackiq::server
