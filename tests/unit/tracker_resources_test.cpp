// Per-request resources (LIB-2): a real Sampler over a fake /proc tree (the "process" collector
// reading /proc/<pid>/status and stat under a temporary root) and the stand-in libnvidia-ml,
// driven tick by tick on a fake clock shared with the Tracker. Eight requests of different
// lengths run on their own threads, begin and end at known times between and on the ticks,
// while a reader thread takes snapshots; each request's attribution must equal what the
// documented window (the last sample at or before its begin to the first at or after its end)
// gives over the known schedule of the files.
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/test_paths.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/telemetry/collector.hpp"
#include "trackiq/telemetry/sampler.hpp"
#include "trackiq/tracker/tracker.hpp"

namespace trackiq::tracker {
namespace {

namespace fs = std::filesystem;
using telemetry::Sampler;
using telemetry::SamplerOptions;

constexpr std::int64_t kPeriod = 100'000'000;  // 100 ms, the SPEC's sampling period
constexpr std::int64_t kUnit = kPeriod / 10;    // request times below are in 10 ms units
constexpr int kTicks = 25;                      // samples at 0, 100 ms, ..., 2.4 s
constexpr int kPid = 4242;                      // the fake process

std::atomic<std::int64_t> g_now{0};
std::int64_t fake_clock() noexcept { return g_now.load(); }

// The fake process's schedule at tick k: RSS goes up and down (so a window's peak is not just
// its last sample), CPU ticks only grow.
std::int64_t rss_kib(int k) { return 100'000 + ((k * 37) % 11) * 1'000 + k; }
std::uint64_t utime_ticks(int k) { return 10u * k * k + 3u * k; }
std::uint64_t stime_ticks(int k) { return static_cast<std::uint64_t>(k); }
double cpu_s(int k) {  // as the collector computes it
  return static_cast<double>(utime_ticks(k) + stime_ticks(k)) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

class FakeProc {
 public:
  FakeProc() {
    root_ = fs::temp_directory_path() / ("trackiq_tracker_proc_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "proc" / std::to_string(kPid));
  }
  ~FakeProc() { fs::remove_all(root_); }
  // Rewrites the files in place: the collector keeps them open and reads with pread.
  void write_tick(int k) const {
    const fs::path dir = root_ / "proc" / std::to_string(kPid);
    std::ofstream(dir / "status", std::ios::trunc) << "Name:\tmy server\nVmHWM:\t" << rss_kib(k) + 50'000
                                                   << " kB\nVmRSS:\t" << rss_kib(k) << " kB\nThreads:\t9\n";
    std::ofstream(dir / "stat", std::ios::trunc) << kPid << " (my server) S 1 " << kPid << ' ' << kPid
                                                 << " 0 -1 4194560 0 0 0 0 " << utime_ticks(k) << ' '
                                                 << stime_ticks(k) << " 0 0 20 0 9 0 100 0 0\n";
  }
  std::string root() const { return root_.string(); }

 private:
  fs::path root_;
};

// The sampler's sleep: blocks until the test releases the next tick, and says when it waits
// (after the sampler's lateness check, so the clock may then move without the tick counting late).
struct Stepper {
  std::mutex m;
  std::condition_variable cv;
  std::int64_t waiting_for = -1;
  std::int64_t released = 0;

  void sleep_until(std::int64_t deadline) {
    std::unique_lock lock(m);
    waiting_for = deadline;
    cv.notify_all();
    cv.wait(lock, [&] { return released >= deadline; });
  }
  void wait_until_waiting_for(std::int64_t deadline) {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return waiting_for == deadline; });
  }
  void release(std::int64_t t) {
    std::lock_guard lock(m);
    released = t;
    cv.notify_all();
  }
};

void spin_until(const std::atomic<int>& v, int want) {
  while (v.load() < want) std::this_thread::yield();
}

struct Planned {
  const char* id;
  std::int64_t begin, end;  // in kUnit
};

// Last tick at or before t, first tick at or after t (t in ns).
int open_tick(std::int64_t t) { return static_cast<int>(t / kPeriod); }
int close_tick(std::int64_t t) { return static_cast<int>((t + kPeriod - 1) / kPeriod); }

TEST(TrackerResources, EightConcurrentRequestsEachGetTheSamplesOfTheirOwnWindow) {
  ::setenv("FAKE_NVML_THROTTLE", "0x4", 1);  // SW power cap: every sample throttled
  FakeProc proc;
  proc.write_tick(0);
  telemetry::CollectorOptions fake;
  fake.root = proc.root();
  fake.pid = kPid;
  telemetry::CollectorOptions gpu;
  gpu.nvml_library = test::kFakeNvml;  // gpu0.proc_mem_bytes: this process's 256 MiB
  auto collectors = telemetry::make_collectors({"process"}, fake);
  for (auto& c : telemetry::make_collectors({"nvml"}, gpu)) collectors.push_back(std::move(c));

  g_now.store(0);
  TrackerOptions to;
  to.clock = &fake_clock;
  Tracker tracker(to);

  Stepper stepper;
  SamplerOptions so;
  so.interval_ns = kPeriod;
  so.max_samples = kTicks;  // the loop ends after the last tick without sleeping again
  so.now = [] { return g_now.load(); };
  so.sleep_until = [&stepper](std::int64_t deadline) { stepper.sleep_until(deadline); };
  Sampler sampler(std::move(collectors), so);
  ASSERT_TRUE(sampler.unavailable().empty()) << sampler.unavailable().front();
  tracker.attach(sampler);
  EXPECT_THROW(tracker.attach(sampler), Error);

  // Different lengths: two periods and more, exactly tick to tick, inside one period (shorter
  // than it), 10 ms, across one tick, most of the run.
  const std::vector<Planned> plan = {{"long", 5, 235},  {"tick-to-tick", 10, 20}, {"inside", 12, 18},
                                     {"mid", 33, 97},   {"short", 41, 42},        {"wide", 50, 180},
                                     {"across", 99, 101}, {"late", 120, 230}};
  std::vector<std::atomic<int>> go(plan.size()), done(plan.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < plan.size(); ++i)
    threads.emplace_back([&, i] {
      spin_until(go[i], 1);
      {
        auto r = tracker.begin_request(plan[i].id);
        done[i].store(1);
        spin_until(go[i], 2);
      }  // ends here
      done[i].store(2);
    });
  std::atomic<bool> reading{true};
  std::thread reader([&] {
    while (reading.load()) {
      const Snapshot s = tracker.snapshot();
      EXPECT_LE(s.resources.requests_attributed, plan.size());
    }
  });

  // Events in time order; at equal times the tick first (the order does not matter: the
  // window is decided by timestamps).
  struct Event {
    std::int64_t t;
    int kind;  // 0 tick, 1 begin, 2 end
    std::size_t index;
  };
  std::vector<Event> events;
  for (int k = 0; k < kTicks; ++k) events.push_back({k * kPeriod, 0, static_cast<std::size_t>(k)});
  for (std::size_t i = 0; i < plan.size(); ++i) {
    events.push_back({plan[i].begin * kUnit, 1, i});
    events.push_back({plan[i].end * kUnit, 2, i});
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.t != b.t ? a.t < b.t : a.kind < b.kind; });
  for (const Event& e : events) {
    if (e.kind == 0) {
      const int k = static_cast<int>(e.index);
      if (k > 0) stepper.wait_until_waiting_for(k * kPeriod);
      g_now.store(e.t);
      proc.write_tick(k);
      if (k == 0) sampler.start();  // takes the first sample at once
      else stepper.release(e.t);
      while (sampler.rows_taken() < static_cast<std::uint64_t>(k + 1)) std::this_thread::yield();
    } else {
      g_now.store(e.t);
      go[e.index].store(e.kind);
      spin_until(done[e.index], e.kind);
    }
  }
  for (auto& t : threads) t.join();
  // A ninth request ends after the last sample: its attribution waits for the closing sample.
  g_now.store(241 * kUnit);
  { auto r = tracker.begin_request("pending"); g_now.store(245 * kUnit); }
  reading.store(false);
  reader.join();
  sampler.stop();

  // The series the sampler kept is the schedule the test wrote.
  const telemetry::Series& series = sampler.series();
  ASSERT_EQ(series.rows(), static_cast<std::size_t>(kTicks));
  const long rss = series.index_of("proc.rss_bytes"), cpu = series.index_of("proc.cpu_time_s");
  const long gpu_mem = series.index_of("gpu0.mem_used_bytes"), gpu_proc = series.index_of("gpu0.proc_mem_bytes");
  const long temp = series.index_of("gpu0.temp_c"), throttled = series.index_of("gpu0.throttled");
  ASSERT_TRUE(rss >= 0 && cpu >= 0 && gpu_mem >= 0 && gpu_proc >= 0 && temp >= 0 && throttled >= 0);
  for (int k = 0; k < kTicks; ++k) {
    ASSERT_EQ(series.t_ns[k], k * kPeriod);
    ASSERT_EQ(series.at(k, rss), static_cast<double>(rss_kib(k) * 1024)) << "tick " << k;
    ASSERT_EQ(series.at(k, cpu), cpu_s(k)) << "tick " << k;
  }
  EXPECT_GT(series.at(kTicks - 1, gpu_mem), series.at(0, gpu_mem));  // the stand-in's memory grows per call

  auto window_max = [&series](long column, int open, int close) {
    double m = series.at(open, column);
    for (int k = open; k <= close; ++k) m = std::max(m, series.at(k, column));
    return m;
  };
  const std::vector<RequestRecord> records = tracker.records();
  ASSERT_EQ(records.size(), plan.size() + 1);
  std::map<std::string, RequestRecord> by_id;
  for (const RequestRecord& r : records) by_id[r.id] = r;
  double expected_rss_max = 0;
  for (const Planned& p : plan) {
    SCOPED_TRACE(p.id);
    const RequestRecord& r = by_id.at(p.id);
    ASSERT_EQ(r.begin_ns, p.begin * kUnit);
    ASSERT_EQ(r.end_ns, p.end * kUnit);
    ASSERT_TRUE(r.resources);
    const RequestResources& res = *r.resources;
    const int open = open_tick(r.begin_ns), close = close_tick(r.end_ns);
    EXPECT_TRUE(res.complete);
    EXPECT_EQ(res.window_begin_ns, open * kPeriod);
    EXPECT_EQ(res.window_end_ns, close * kPeriod);
    EXPECT_EQ(res.samples, static_cast<std::uint32_t>(close - open + 1));
    std::int64_t peak_kib = 0;
    for (int k = open; k <= close; ++k) peak_kib = std::max(peak_kib, rss_kib(k));
    ASSERT_TRUE(res.rss_peak_seen_bytes);
    EXPECT_EQ(*res.rss_peak_seen_bytes, static_cast<double>(peak_kib * 1024));
    ASSERT_TRUE(res.cpu_time_seen_s);
    EXPECT_DOUBLE_EQ(*res.cpu_time_seen_s, cpu_s(close) - cpu_s(open));
    ASSERT_TRUE(res.gpu_mem_used_peak_seen_bytes && res.gpu_proc_mem_peak_seen_bytes && res.temp_peak_seen_c);
    EXPECT_EQ(*res.gpu_mem_used_peak_seen_bytes, window_max(gpu_mem, open, close));
    EXPECT_EQ(*res.gpu_proc_mem_peak_seen_bytes, window_max(gpu_proc, open, close));
    EXPECT_EQ(*res.temp_peak_seen_c, window_max(temp, open, close));
    EXPECT_EQ(res.throttled_seen, std::optional<bool>(true));
    expected_rss_max = std::max(expected_rss_max, *res.rss_peak_seen_bytes);
  }
  // A request shorter than a period gets exactly its two bracketing samples.
  EXPECT_EQ(by_id.at("inside").resources->samples, 2u);
  EXPECT_EQ(by_id.at("short").resources->samples, 2u);
  EXPECT_EQ(by_id.at("tick-to-tick").resources->samples, 2u);  // begins on tick 1, ends on tick 2
  ASSERT_TRUE(by_id.at("pending").resources);
  EXPECT_FALSE(by_id.at("pending").resources->complete);
  EXPECT_EQ(by_id.at("pending").resources->samples, 1u);

  const Snapshot s = tracker.snapshot();
  EXPECT_TRUE(s.resources.attached);
  EXPECT_EQ(s.resources.rows_taken, static_cast<std::uint64_t>(kTicks));
  EXPECT_EQ(s.resources.requests_attributed, plan.size());
  EXPECT_EQ(s.resources.requests_pending, 1u);
  EXPECT_EQ(s.resources.throttled_seen, plan.size());
  ASSERT_EQ(s.resources.distributions.count("rss_peak_seen_bytes"), 1u);
  EXPECT_EQ(s.resources.distributions.at("rss_peak_seen_bytes").max, expected_rss_max);
  EXPECT_EQ(s.resources.distributions.at("cpu_time_seen_ms").count, plan.size());
  const Result result = tracker.to_result();
  EXPECT_TRUE(result.telemetry.available);
  EXPECT_EQ(result.telemetry.summary.at("requests_attributed"), static_cast<double>(plan.size()));
  const auto metric = std::find_if(result.metrics.begin(), result.metrics.end(),
                                   [](const MetricValue& m) { return m.name == "request_rss_seen_peak_bytes"; });
  ASSERT_NE(metric, result.metrics.end());
  EXPECT_EQ(metric->value, expected_rss_max);
  EXPECT_TRUE(tracker.validate().empty());
}

TEST(TrackerResources, WithoutASamplerRecordsHaveNoResourcesAndTheResultSaysWhy) {
  Tracker tracker;
  { auto r = tracker.begin_request("a"); }
  const auto recs = tracker.records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_FALSE(recs[0].resources);
  const Snapshot s = tracker.snapshot();
  EXPECT_FALSE(s.resources.attached);
  const Result r = tracker.to_result();
  EXPECT_FALSE(r.telemetry.available);
  EXPECT_NE(r.telemetry.reason.find("attach"), std::string::npos);
}

TEST(TrackerResources, AMissingChannelIsNamedAndLeavesItsValueEmpty) {
  // Only the "process" collector: no GPU, no temperature.
  FakeProc proc;
  proc.write_tick(0);
  telemetry::CollectorOptions fake;
  fake.root = proc.root();
  fake.pid = kPid;
  g_now.store(0);
  TrackerOptions to;
  to.clock = &fake_clock;
  Tracker tracker(to);
  telemetry::RowSink& sink = tracker.resource_sink();
  auto collectors = telemetry::make_collectors({"process"}, fake);
  ASSERT_EQ(collectors.size(), 1u);
  std::vector<telemetry::Channel> channels = collectors[0]->channels();
  sink.begin(channels);
  std::vector<double> row(channels.size());
  collectors[0]->sample(0, row);
  sink.row(0, row);
  g_now.store(5);
  { auto r = tracker.begin_request("a"); g_now.store(7); }
  proc.write_tick(3);
  collectors[0]->sample(10, row);
  sink.row(10, row);
  const auto recs = tracker.records();
  ASSERT_EQ(recs.size(), 1u);
  ASSERT_TRUE(recs[0].resources);
  EXPECT_TRUE(recs[0].resources->complete);
  EXPECT_EQ(*recs[0].resources->rss_peak_seen_bytes, static_cast<double>(std::max(rss_kib(0), rss_kib(3)) * 1024));
  EXPECT_DOUBLE_EQ(*recs[0].resources->cpu_time_seen_s, cpu_s(3) - cpu_s(0));
  EXPECT_FALSE(recs[0].resources->gpu_mem_used_peak_seen_bytes);
  EXPECT_FALSE(recs[0].resources->temp_peak_seen_c);
  EXPECT_FALSE(recs[0].resources->throttled_seen);
  const Snapshot s = tracker.snapshot();
  EXPECT_NE(s.resources.unavailable.find("gpuN.proc_mem_bytes"), std::string::npos) << s.resources.unavailable;
  EXPECT_NE(s.resources.unavailable.find("°C"), std::string::npos) << s.resources.unavailable;
}

// The default clocks on both sides (the tracker's cycle clock, the sampler's now_ns) are on one
// time base: a request of 60 ms between real samples every 10 ms of this process is bracketed by
// samples taken around it, not by ones far off (a clock off by more than a few periods would give
// no opening sample or a window far larger than the request).
TEST(TrackerResources, TheDefaultClocksOfTrackerAndSamplerShareATimeBase) {
  Tracker tracker;
  SamplerOptions so;
  so.interval_ns = 10'000'000;
  Sampler sampler(telemetry::make_collectors({"process"}, {}), so);
  tracker.attach(sampler);
  sampler.start();
  // Waits (up to 5 s, for a loaded machine) until `done` holds.
  auto wait_for = [](auto done) {
    for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  };
  wait_for([&] { return tracker.snapshot().resources.rows_taken >= 2; });
  {
    auto r = tracker.begin_request("real");
    auto p = r.phase("sleep");
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  wait_for([&] {
    const auto recs = tracker.records();
    return !recs.empty() && recs[0].resources && recs[0].resources->complete;
  });
  sampler.stop();
  const auto recs = tracker.records();
  ASSERT_EQ(recs.size(), 1u);
  ASSERT_TRUE(recs[0].resources) << tracker.snapshot().clock_detail;
  const RequestResources& res = *recs[0].resources;
  EXPECT_TRUE(res.complete);
  EXPECT_LE(res.window_begin_ns, recs[0].begin_ns);
  EXPECT_GE(res.window_end_ns, recs[0].end_ns);
  EXPECT_GE(res.samples, 3u);
  // Generous for a loaded machine: the sampler may run late, but not by half a second.
  EXPECT_LE(res.window_end_ns - res.window_begin_ns, recs[0].latency_ns() + 500'000'000);
  EXPECT_TRUE(res.rss_peak_seen_bytes);
  EXPECT_TRUE(tracker.validate().empty());
}

TEST(TrackerResources, ValidateNamesAWindowThatMissesItsRequestAndANegativeCpuTime) {
  RequestRecord r;
  r.id = "bad";
  r.begin_ns = 100;
  r.end_ns = 200;
  RequestResources res;
  res.complete = true;
  res.window_begin_ns = 150;  // after the begin
  res.window_end_ns = 300;
  res.cpu_time_seen_s = -0.5;
  r.resources = res;
  const std::vector<RequestRecord> records{r};
  const auto v = validate(Snapshot{}, records);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_NE(v[0].find("resource window [150, 300] ns does not contain the request"), std::string::npos) << v[0];
  EXPECT_NE(v[1].find("cpu_time_seen_s"), std::string::npos) << v[1];
}

}  // namespace
}  // namespace trackiq::tracker
