// Collectors against fake /proc and /sys trees (CollectorOptions::root), and against the real
// /proc of the machine running the tests.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/telemetry/collector.hpp"
#include "trackiq/telemetry/devices.hpp"
#include "support/test_paths.hpp"

namespace trackiq::telemetry {
namespace {

namespace fs = std::filesystem;

class FakeRoot {
 public:
  FakeRoot() {
    root_ = fs::temp_directory_path() / ("trackiq_fakeroot_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  ~FakeRoot() { fs::remove_all(root_); }
  void write(const std::string& rel, const std::string& text) const {
    const fs::path p = root_ / rel.substr(1);
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  void remove(const std::string& rel) const { fs::remove(root_ / rel.substr(1)); }
  CollectorOptions options() const {
    CollectorOptions o;
    o.root = root_.string();
    return o;
  }

 private:
  fs::path root_;
  static inline int counter_ = 0;
};

std::unique_ptr<Collector> one(const std::string& name, const CollectorOptions& o) {
  auto cs = make_collectors({name}, o);
  EXPECT_EQ(cs.size(), 1u);
  return std::move(cs[0]);
}

std::vector<double> sample(Collector& c, std::int64_t t_ns) {
  std::vector<double> row(c.channels().size(), -1.0);
  c.sample(t_ns, row);
  return row;
}

double value_of(const Collector& c, const std::vector<double>& row, const std::string& channel) {
  for (std::size_t i = 0; i < c.channels().size(); ++i)
    if (c.channels()[i].name == channel) return row[i];
  ADD_FAILURE() << "no channel " << channel;
  return std::nan("");
}

TEST(CpuCollector, ComputesUtilisationFromStatDeltasWithIowaitAsIdleAndGuestExcluded) {
  FakeRoot fake;
  //                 user nice system idle iowait irq softirq steal guest guest_nice
  fake.write("/proc/stat", "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\n"
                           "cpu1 50 0 50 400 0 0 0 0 0 0\nintr 1 2 3\n");
  auto c = one("cpu", fake.options());
  ASSERT_TRUE(c->available()) << c->reason();
  auto first = sample(*c, 1);
  EXPECT_TRUE(std::isnan(value_of(*c, first, "cpu.util_pct"))) << "the first sample has no delta";
  // +60 user (of which 40 guest: already inside user), +20 iowait (idle), +20 idle.
  fake.write("/proc/stat", "cpu  160 0 100 820 20 0 0 0 40 0\ncpu0 110 0 50 400 0 0 0 0 40 0\n"
                           "cpu1 50 0 50 420 20 0 0 0 0 0\nintr 1 2 3\n");
  auto second = sample(*c, 2);
  EXPECT_DOUBLE_EQ(value_of(*c, second, "cpu.util_pct"), 60.0);  // 60 busy of 100 ticks
  EXPECT_DOUBLE_EQ(value_of(*c, second, "cpu0.util_pct"), 100.0);
  EXPECT_DOUBLE_EQ(value_of(*c, second, "cpu1.util_pct"), 0.0);
}

TEST(CpuCollector, ClampsBackwardCountersAndResetsOnHotplug) {
  FakeRoot fake;
  fake.write("/proc/stat", "cpu  100 0 100 800 50 0 0 0 0 0\ncpu0 100 0 100 800 50 0 0 0 0 0\n");
  auto c = one("cpu", fake.options());
  sample(*c, 1);
  fake.write("/proc/stat", "cpu  200 0 100 800 40 0 0 0 0 0\ncpu0 200 0 100 800 40 0 0 0 0 0\n");  // iowait went back
  EXPECT_DOUBLE_EQ(value_of(*c, sample(*c, 2), "cpu.util_pct"), 100.0);
  fake.write("/proc/stat", "cpu  300 0 100 900 40 0 0 0 0 0\ncpu0 150 0 50 450 20 0 0 0 0 0\n"
                           "cpu1 150 0 50 450 20 0 0 0 0 0\n");  // a CPU came online
  EXPECT_TRUE(std::isnan(value_of(*c, sample(*c, 3), "cpu.util_pct")));
}

TEST(MemoryCollector, UsedIsTotalMinusAvailable) {
  FakeRoot fake;
  fake.write("/proc/meminfo", "MemTotal:       16000000 kB\nMemFree:         1000000 kB\n"
                              "MemAvailable:    4000000 kB\nSwapTotal:       2000000 kB\nSwapFree:        1500000 kB\n");
  auto c = one("memory", fake.options());
  ASSERT_TRUE(c->available());
  const auto row = sample(*c, 1);
  EXPECT_DOUBLE_EQ(value_of(*c, row, "mem.used_bytes"), 12000000.0 * 1024);
  EXPECT_DOUBLE_EQ(value_of(*c, row, "mem.used_pct"), 75.0);
  EXPECT_DOUBLE_EQ(value_of(*c, row, "swap.used_bytes"), 500000.0 * 1024);
}

TEST(MemoryCollector, OldKernelsWithoutMemAvailableAreNotAvailable) {
  FakeRoot fake;
  fake.write("/proc/meminfo", "MemTotal: 100 kB\nMemFree: 50 kB\n");
  auto c = one("memory", fake.options());
  EXPECT_FALSE(c->available());
  EXPECT_NE(c->reason().find("MemAvailable"), std::string::npos);
}

double process_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

TEST(ProcessCollector, ReadsThisProcessRssPeakThreadsAndCpu) {
  auto c = one("process", {});
  ASSERT_TRUE(c->available()) << c->reason();
  const std::int64_t t0 = now_ns();
  const double cpu0 = process_cpu_s();
  sample(*c, t0);
  // Burn 200 ms of CPU (however long that takes on a busy machine), then compare with the
  // kernel's own accounting over the same window.
  volatile double sink = 0;
  while (process_cpu_s() - cpu0 < 0.2) sink = sink + 1.0;
  const std::int64_t t1 = now_ns();
  const double truth_pct = 100.0 * (process_cpu_s() - cpu0) / (static_cast<double>(t1 - t0) / 1e9);
  const auto row = sample(*c, t1);
  EXPECT_GT(value_of(*c, row, "proc.rss_bytes"), 1e6);
  EXPECT_GE(value_of(*c, row, "proc.rss_peak_bytes"), value_of(*c, row, "proc.rss_bytes"));
  EXPECT_GE(value_of(*c, row, "proc.threads"), 1.0);
  // /proc/<pid>/stat counts in 10 ms ticks: generous bounds around the truth.
  EXPECT_NEAR(value_of(*c, row, "proc.cpu_pct"), truth_pct, 20.0);
}

// VmRSS, VmHWM and Threads of this process, read directly from /proc/self/status.
struct StatusTruth {
  double rss_bytes = 0, hwm_bytes = 0, threads = 0;
};
StatusTruth read_own_status() {
  std::ifstream in("/proc/self/status");
  StatusTruth t;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    double v = 0;
    fields >> key >> v;
    if (key == "VmRSS:") t.rss_bytes = v * 1024;
    if (key == "VmHWM:") t.hwm_bytes = v * 1024;
    if (key == "Threads:") t.threads = v;
  }
  return t;
}

// The collector keeps /proc/self files open and reads this process's figures from several
// sources (status at first; statm, getrusage and /proc/self/task once it can): every sample
// must agree with what status says at that moment.
TEST(ProcessCollector, FollowsThisProcessThreadsAndMemoryAsTheyChange) {
  auto c = one("process", {});
  ASSERT_TRUE(c->available()) << c->reason();
  constexpr double kSlackBytes = 4 << 20;  // allocations between the two reads (gtest, libc)
  auto expect_matches_status = [&](const char* when) {
    const auto row = sample(*c, now_ns());
    const StatusTruth truth = read_own_status();
    EXPECT_NEAR(value_of(*c, row, "proc.rss_bytes"), truth.rss_bytes, kSlackBytes) << when;
    EXPECT_NEAR(value_of(*c, row, "proc.rss_peak_bytes"), truth.hwm_bytes, kSlackBytes) << when;
    EXPECT_GE(value_of(*c, row, "proc.rss_peak_bytes"), value_of(*c, row, "proc.rss_bytes")) << when;
    EXPECT_EQ(value_of(*c, row, "proc.threads"), truth.threads) << when;
    return row;
  };
  const auto before = expect_matches_status("at start");

  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  std::vector<std::thread> extra;
  for (int i = 0; i < 3; ++i)
    extra.emplace_back([&] {
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return release; });
    });
  const auto with_threads = expect_matches_status("with 3 more threads");
  // At least: a sanitizer's runtime may start a thread of its own in between.
  EXPECT_GE(value_of(*c, with_threads, "proc.threads"), value_of(*c, before, "proc.threads") + 3);
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  for (auto& t : extra) t.join();

  constexpr std::size_t kBlock = 96u << 20;
  auto block = std::make_unique<char[]>(kBlock);
  std::memset(block.get(), 1, kBlock);  // touch every page
  const auto grown = expect_matches_status("after touching 96 MiB");
  EXPECT_GT(value_of(*c, grown, "proc.rss_bytes"), value_of(*c, before, "proc.rss_bytes") + 80e6);
  block.reset();  // returned to the system, or kept by a sanitizer's allocator: status says which
  const auto freed = expect_matches_status("after freeing it");
  EXPECT_GE(value_of(*c, freed, "proc.rss_peak_bytes"), value_of(*c, grown, "proc.rss_bytes") - kSlackBytes)
      << "the peak stays";
  expect_matches_status("once more");
}

// Another process is read through /proc/<pid>/status and stat kept open: once it exits, the
// kept descriptors must give NaN, not the last text they read.
TEST(ProcessCollector, ReadsAnotherProcessAndGivesNaNOnceItIsGone) {
  pid_t child = 0;
  char arg0[] = "sleep", arg1[] = "30";
  char* argv[] = {arg0, arg1, nullptr};
  ASSERT_EQ(::posix_spawnp(&child, "sleep", nullptr, nullptr, argv, environ), 0);
  CollectorOptions o;
  o.pid = child;
  auto c = one("process", o);
  ASSERT_TRUE(c->available()) << c->reason();
  sample(*c, now_ns());
  const auto alive = sample(*c, now_ns() + 1);
  EXPECT_GT(value_of(*c, alive, "proc.rss_bytes"), 0.0);
  EXPECT_GE(value_of(*c, alive, "proc.rss_peak_bytes"), value_of(*c, alive, "proc.rss_bytes"));
  EXPECT_EQ(value_of(*c, alive, "proc.threads"), 1.0);
  EXPECT_GE(value_of(*c, alive, "proc.cpu_pct"), 0.0);
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  const auto gone = sample(*c, now_ns() + 2);
  for (const auto& ch : c->channels()) EXPECT_TRUE(std::isnan(value_of(*c, gone, ch.name))) << ch.name;
}

TEST(ProcessCollector, AMissingPidIsNotAvailable) {
  CollectorOptions o;
  o.pid = 999'999'999;
  auto c = one("process", o);
  EXPECT_FALSE(c->available());
  EXPECT_NE(c->reason().find("no process 999999999"), std::string::npos) << c->reason();
}

TEST(ThermalCollector, ReadsZonesAndHwmonAndSurvivesAZoneThatDisappears) {
  FakeRoot fake;
  fake.write("/sys/class/thermal/thermal_zone0/type", "cpu-thermal\n");
  fake.write("/sys/class/thermal/thermal_zone0/temp", "45500\n");
  fake.write("/sys/class/thermal/thermal_zone1/type", "gpu-thermal\n");
  fake.write("/sys/class/thermal/thermal_zone1/temp", "-2000\n");
  fake.write("/sys/class/hwmon/hwmon0/name", "k10temp\n");
  fake.write("/sys/class/hwmon/hwmon0/temp1_input", "61250\n");
  fake.write("/sys/class/hwmon/hwmon0/temp1_label", "Tctl\n");
  auto c = one("thermal", fake.options());
  ASSERT_TRUE(c->available()) << c->reason();
  auto row = sample(*c, 1);
  EXPECT_DOUBLE_EQ(value_of(*c, row, "thermal.cpu-thermal.temp_c"), 45.5);
  EXPECT_DOUBLE_EQ(value_of(*c, row, "thermal.gpu-thermal.temp_c"), -2.0);
  EXPECT_DOUBLE_EQ(value_of(*c, row, "hwmon.k10temp.Tctl.temp_c"), 61.25);
  fake.remove("/sys/class/thermal/thermal_zone1/temp");
  row = sample(*c, 2);
  EXPECT_TRUE(std::isnan(value_of(*c, row, "thermal.gpu-thermal.temp_c")));
  EXPECT_DOUBLE_EQ(value_of(*c, row, "thermal.cpu-thermal.temp_c"), 45.5);
}

// Sensors are read through descriptors kept open between samples; a plain file (as in this
// fake tree) must still be seen when rewritten in place, replaced by a rename, removed and
// created again.
TEST(ThermalCollector, SeesASensorFileRewrittenReplacedRemovedAndRecreated) {
  FakeRoot fake;
  fake.write("/sys/class/thermal/thermal_zone0/type", "cpu-thermal\n");
  fake.write("/sys/class/thermal/thermal_zone0/temp", "41000\n");
  auto c = one("thermal", fake.options());
  ASSERT_TRUE(c->available()) << c->reason();
  const std::string ch = "thermal.cpu-thermal.temp_c";
  EXPECT_DOUBLE_EQ(value_of(*c, sample(*c, 1), ch), 41.0);
  fake.write("/sys/class/thermal/thermal_zone0/temp", "9500\n");  // in place, and shorter
  EXPECT_DOUBLE_EQ(value_of(*c, sample(*c, 2), ch), 9.5);
  fake.write("/sys/class/thermal/thermal_zone0/temp.new", "42000\n");
  const fs::path zone = fs::path(fake.options().root) / "sys/class/thermal/thermal_zone0";
  fs::rename(zone / "temp.new", zone / "temp");  // an atomic replacement: a new inode
  EXPECT_DOUBLE_EQ(value_of(*c, sample(*c, 3), ch), 42.0);
  fake.remove("/sys/class/thermal/thermal_zone0/temp");
  EXPECT_TRUE(std::isnan(value_of(*c, sample(*c, 4), ch)));
  EXPECT_TRUE(std::isnan(value_of(*c, sample(*c, 5), ch)));
  fake.write("/sys/class/thermal/thermal_zone0/temp", "43000\n");
  EXPECT_DOUBLE_EQ(value_of(*c, sample(*c, 6), ch), 43.0);
}

std::size_t open_descriptors() {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{}));
}

// Collectors keep at most 256 descriptors open in all (ProcFile::kMaxKeptOpen); the files
// beyond are opened on each read, and every one is still read.
TEST(ThermalCollector, ManySensorsAreAllReadWithABoundedNumberOfOpenFiles) {
  FakeRoot fake;
  constexpr int kSensors = 264;
  const std::string chip = "/sys/class/hwmon/hwmon0/";
  fake.write(chip + "name", "big\n");
  auto input = [&](int i) { return chip + "temp" + std::to_string(i + 1) + "_input"; };
  auto channel = [](int i) { return "hwmon.big.temp" + std::to_string(i + 1) + ".temp_c"; };
  for (int i = 0; i < kSensors; ++i) fake.write(input(i), std::to_string(1000 * i) + "\n");
  const std::size_t fds_before = open_descriptors();
  auto c = one("thermal", fake.options());
  ASSERT_EQ(c->channels().size(), static_cast<std::size_t>(kSensors));
  EXPECT_LE(open_descriptors(), fds_before + 256);
  EXPECT_GE(open_descriptors(), fds_before + 200) << "most sensors keep their file open";
  auto row = sample(*c, 1);
  for (int i = 0; i < kSensors; ++i) EXPECT_DOUBLE_EQ(value_of(*c, row, channel(i)), i);
  for (int i = 0; i < kSensors; ++i) fake.write(input(i), std::to_string(1000 * i + 500) + "\n");
  row = sample(*c, 2);
  for (int i = 0; i < kSensors; ++i) EXPECT_DOUBLE_EQ(value_of(*c, row, channel(i)), i + 0.5) << "re-read";
  EXPECT_LE(open_descriptors(), fds_before + 256);
  c.reset();
  EXPECT_EQ(open_descriptors(), fds_before);
}

TEST(ThermalCollector, SaysWhyWhenThereAreNoSensors) {
  FakeRoot fake;
  auto c = one("thermal", fake.options());
  EXPECT_FALSE(c->available());
  EXPECT_EQ(c->reason().rfind("not available: no thermal zones", 0), 0u) << c->reason();
  EXPECT_TRUE(c->channels().empty());
}

TEST(PowerCollector, TurnsRaplEnergyIntoWattsAcrossAWrap) {
  FakeRoot fake;
  fake.write("/sys/class/powercap/intel-rapl:0/name", "package-0\n");
  fake.write("/sys/class/powercap/intel-rapl:0/energy_uj", "1000000\n");
  fake.write("/sys/class/powercap/intel-rapl:0/max_energy_range_uj", "1999999\n");
  fake.write("/sys/class/powercap/intel-rapl:0:0/name", "core\n");
  fake.write("/sys/class/powercap/intel-rapl:0:0/energy_uj", "0\n");
  fake.write("/sys/class/powercap/intel-rapl:0:0/max_energy_range_uj", "1999999\n");
  auto c = one("power", fake.options());
  ASSERT_TRUE(c->available()) << c->reason();
  auto row = sample(*c, 1'000'000'000);
  EXPECT_TRUE(std::isnan(value_of(*c, row, "power.rapl.package-0.w")));
  fake.write("/sys/class/powercap/intel-rapl:0/energy_uj", "1500000\n");
  fake.write("/sys/class/powercap/intel-rapl:0:0/energy_uj", "200000\n");
  row = sample(*c, 2'000'000'000);
  EXPECT_NEAR(value_of(*c, row, "power.rapl.package-0.w"), 0.5, 1e-9);
  EXPECT_NEAR(value_of(*c, row, "power.rapl.core.w"), 0.2, 1e-9);
  EXPECT_NEAR(value_of(*c, row, "power.rapl_total.w"), 0.5, 1e-9) << "sub-zones are part of their package";
  // Wrap: the counter restarts after max_energy_range_uj.
  fake.write("/sys/class/powercap/intel-rapl:0/energy_uj", "100000\n");
  row = sample(*c, 3'000'000'000);
  EXPECT_NEAR(value_of(*c, row, "power.rapl.package-0.w"), 0.6, 1e-9);
  EXPECT_NEAR(value_of(*c, row, "energy.rapl.package-0.j"), 1.1, 1e-9);
}

TEST(PowerCollector, ReadsHwmonPowerAndSaysWhyWhenNothingExists) {
  FakeRoot fake;
  EXPECT_FALSE(one("power", fake.options())->available());
  fake.write("/sys/class/hwmon/hwmon3/name", "ina3221\n");
  fake.write("/sys/class/hwmon/hwmon3/power1_input", "4500000\n");
  auto c = one("power", fake.options());
  ASSERT_TRUE(c->available()) << c->reason();
  EXPECT_DOUBLE_EQ(value_of(*c, sample(*c, 1), "power.hwmon.ina3221.power1.w"), 4.5);
}

TEST(CgroupCollector, ReadsCpuThrottlingAndMemoryOfAPureV2Group) {
  FakeRoot fake;
  fake.write("/proc/self/cgroup", "0::/bench.slice\n");
  fake.write("/sys/fs/cgroup/bench.slice/cgroup.controllers", "cpu memory\n");
  fake.write("/sys/fs/cgroup/bench.slice/cpu.stat", "usage_usec 1000000\nnr_periods 10\nnr_throttled 2\nthrottled_usec 5000\n");
  fake.write("/sys/fs/cgroup/bench.slice/memory.current", "4096000\n");
  fake.write("/sys/fs/cgroup/bench.slice/memory.peak", "8192000\n");
  fake.write("/sys/fs/cgroup/bench.slice/memory.max", "max\n");
  auto c = one("cgroup", fake.options());
  ASSERT_TRUE(c->available()) << c->reason();
  EXPECT_DOUBLE_EQ(value_of(*c, sample(*c, 1'000'000'000), "cgroup.memory_current_bytes"), 4096000.0);
  fake.write("/sys/fs/cgroup/bench.slice/cpu.stat", "usage_usec 1500000\nnr_periods 20\nnr_throttled 5\nthrottled_usec 305000\n");
  fake.write("/sys/fs/cgroup/bench.slice/memory.current", "512\n");
  const auto row = sample(*c, 2'000'000'000);
  EXPECT_DOUBLE_EQ(value_of(*c, row, "cgroup.memory_current_bytes"), 512.0);
  EXPECT_DOUBLE_EQ(value_of(*c, row, "cgroup.cpu_pct"), 50.0);
  EXPECT_DOUBLE_EQ(value_of(*c, row, "cgroup.nr_throttled"), 3.0);
  EXPECT_DOUBLE_EQ(value_of(*c, row, "cgroup.throttled_s"), 0.3);
  EXPECT_DOUBLE_EQ(value_of(*c, row, "cgroup.memory_peak_bytes"), 8192000.0);
  EXPECT_TRUE(std::isnan(value_of(*c, row, "cgroup.memory_max_bytes"))) << "'max' is no limit, not a number";
}

TEST(CgroupCollector, FindsTheUnifiedHierarchyOfAHybridHostAndRejectsV1Only) {
  FakeRoot hybrid;
  hybrid.write("/proc/self/cgroup", "4:memory:/x\n1:cpu:/\n0::/\n");
  hybrid.write("/sys/fs/cgroup/unified/cgroup.procs", "1\n");
  hybrid.write("/sys/fs/cgroup/unified/cpu.stat", "usage_usec 5\nuser_usec 3\nsystem_usec 2\n");
  auto c = one("cgroup", hybrid.options());
  ASSERT_TRUE(c->available()) << c->reason();
  sample(*c, 1'000'000'000);
  hybrid.write("/sys/fs/cgroup/unified/cpu.stat", "usage_usec 250005\nuser_usec 3\nsystem_usec 2\n");
  const auto row = sample(*c, 2'000'000'000);
  EXPECT_DOUBLE_EQ(value_of(*c, row, "cgroup.cpu_pct"), 25.0);
  // No memory controller on v2 here: its files do not exist, and read as NaN.
  EXPECT_TRUE(std::isnan(value_of(*c, row, "cgroup.memory_current_bytes")));
  EXPECT_TRUE(std::isnan(value_of(*c, row, "cgroup.memory_max_bytes")));
  FakeRoot v1;
  v1.write("/proc/self/cgroup", "4:memory:/x\n1:cpu:/\n");
  auto d = one("cgroup", v1.options());
  EXPECT_FALSE(d->available());
  EXPECT_NE(d->reason().find("cgroup v1 host"), std::string::npos);
}

TEST(PsiCollector, TurnsStallTotalsIntoPercentOfTheInterval) {
  FakeRoot fake;
  fake.write("/proc/pressure/memory", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1000\n"
                                      "full avg10=0.00 avg60=0.00 avg300=0.00 total=500\n");
  auto c = one("psi", fake.options());
  ASSERT_TRUE(c->available()) << c->reason();
  sample(*c, 1'000'000'000);
  fake.write("/proc/pressure/memory", "some avg10=1.00 avg60=0.00 avg300=0.00 total=101000\n"
                                      "full avg10=0.50 avg60=0.00 avg300=0.00 total=50500\n");
  const auto row = sample(*c, 2'000'000'000);
  EXPECT_DOUBLE_EQ(value_of(*c, row, "psi.memory.some_pct"), 10.0);
  EXPECT_DOUBLE_EQ(value_of(*c, row, "psi.memory.full_pct"), 5.0);
}

TEST(Collectors, ReadTheRealProcOfThisMachine) {
  auto cs = make_collectors({"cpu", "memory"}, {});
  for (auto& c : cs) ASSERT_TRUE(c->available()) << c->name() << ": " << c->reason();
  sample(*cs[0], now_ns());
  const std::int64_t start = now_ns();
  while (now_ns() - start < 50'000'000) {
  }
  const auto cpu = sample(*cs[0], now_ns());
  EXPECT_GE(value_of(*cs[0], cpu, "cpu.util_pct"), 0.0);
  EXPECT_LE(value_of(*cs[0], cpu, "cpu.util_pct"), 100.0);
  const auto mem = sample(*cs[1], now_ns());
  EXPECT_GT(value_of(*cs[1], mem, "mem.total_bytes"), 64e6);
}

TEST(Devices, DescribeGpusFromNvmlWithTheirUuidsAndChangeTheFingerprint) {
  Environment env = capture_environment();
  const std::string cpu_only = env.hardware_fingerprint;
  ::setenv("FAKE_NVML_GPUS", "2", 1);
  describe_gpus(env, trackiq::test::kFakeNvml);
  ::unsetenv("FAKE_NVML_GPUS");
  ASSERT_EQ(env.gpus.size(), 2u) << env.gpu_probe;
  EXPECT_EQ(env.gpus[0].id, "gpu0");
  EXPECT_FALSE(env.gpus[0].uuid.empty());
  EXPECT_NE(env.gpus[0].uuid, env.gpus[1].uuid);
  EXPECT_NE(env.hardware_fingerprint, cpu_only);
  EXPECT_NE(env.gpu_probe.find("NVML"), std::string::npos);
  Environment none = capture_environment();
  describe_gpus(none, "libnvidia-ml-does-not-exist.so.1");
  EXPECT_TRUE(none.gpus.empty());
  EXPECT_EQ(none.gpu_probe.rfind("not available: ", 0), 0u) << none.gpu_probe;
}

TEST(Devices, ParsesJetsonReleaseLinesAndRejectsOthers) {
  const auto j = parse_nv_tegra_release("# R36 (release), REVISION: 3.0, GCID: 36923193, BOARD: generic, EABI: aarch64\n", "f");
  EXPECT_EQ(j.l4t, "R36.3.0");
  EXPECT_EQ(j.board, "generic");
  EXPECT_THROW(parse_nv_tegra_release("Ubuntu 22.04\n", "f"), InputError);
}

TEST(Collectors, UnknownNamesAreInputErrorsAndAllMeansEvery) {
  EXPECT_THROW(make_collectors({"gpu-magic"}, {}), InputError);
  const auto all = make_collectors({"all"}, {});
  EXPECT_EQ(all.size(), collector_names().size());
  for (const auto& c : all)
    if (!c->available()) {
      EXPECT_EQ(c->reason().rfind("not available: ", 0), 0u) << c->name();
    }
}

}  // namespace
}  // namespace trackiq::telemetry
