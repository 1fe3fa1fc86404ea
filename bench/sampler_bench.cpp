// Telemetry sampler overhead (SPEC TEL-2, §4: "telemetry sampler at 100 ms: <= 1 % of one core"
// with every collector available here). bench/psutil_sampler.py reads the same metrics with
// python3-psutil at the same rate; bench/run_benchmarks.sh runs both and prints the ratio. See
// docs/performance.md §4.
//
// Benchmarks (the collector set is make_collectors({"all"}) filtered to available(); the
// available and unavailable collectors are printed to stderr at start-up and recorded in the
// JSON context as "collectors" and "collectors_unavailable"):
//
//   BM_SampleAllCollectors  every available collector's sample() once per iteration, in a tight
//                           loop (what one Sampler tick reads, without the row bookkeeping).
//                           cpu_ns_per_sample: this thread's CPU time (CLOCK_THREAD_CPUTIME_ID,
//                           user + system, so the kernel's work producing /proc text counts)
//                           per iteration. Google Benchmark's own cpu_time is the same clock.
//   BM_SampleCollector/NAME the same for one collector, to see where the time goes.
//   BM_Sampler100ms         the real Sampler at its default 100 ms interval for 3 s, with every
//                           available collector. Counters (one iteration per repetition):
//                             samples             rows the sampler took
//                             cpu_us_per_sample   Sampler::thread_cpu_s() / samples
//                             core_pct            thread_cpu_s / wall_s * 100: % of one core
//                             process_core_pct    the whole process's CPU time over the same
//                                                 window / wall * 100 (adds thread start/join
//                                                 and the idle benchmark thread)
//                             late_ticks          ticks skipped because a sample ran late
//                             channels            values per row
//   BM_Tick100msBreakdown   where a 100 ms tick's CPU goes: a thread on the Sampler's schedule
//                           (absolute 100 ms ticks, condition_variable::wait_until, as the
//                           Sampler waits) for 3 s, timing each phase of each tick with
//                           CLOCK_THREAD_CPUTIME_ID. Counters, medians over the ticks:
//                             wake_us             the wait: going to sleep and waking up,
//                                                 with nothing else done in the tick
//                             <collector>_us      each collector's sample(), in the Sampler's
//                                                 order (the first one also pays for the
//                                                 system-call path being cold after the wait)
//                             clock_us            one CLOCK_THREAD_CPUTIME_ID read, the cost
//                                                 of the probe itself (included in each phase)
//   BM_Tick100msSyscallsOnly the floor under a tick: the same schedule and wait, but each tick
//                           only makes the system calls the collectors make — one pread of each
//                           file they keep open (found as the descriptors their construction
//                           opened), fstat of a kept directory, getrusage when the process
//                           collector is there — with no parsing and no row bookkeeping.
//                           Counters: cpu_us_per_tick (the thread's CPU time / ticks, the
//                           figure comparable with BM_Sampler100ms's cpu_us_per_sample),
//                           wake_us and syscalls_us (medians over the ticks), files.
#include <benchmark/benchmark.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "trackiq/core/clock.hpp"
#include "trackiq/telemetry/collector.hpp"
#include "trackiq/telemetry/sampler.hpp"

namespace {

namespace tel = trackiq::telemetry;

constexpr std::int64_t kIntervalNs = 100'000'000;  // the sampler's default
constexpr auto kSamplerRun = std::chrono::seconds(3);

double cpu_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// Every collector, created the way the Sampler receives them (unavailable ones included).
std::vector<std::unique_ptr<tel::Collector>> all_collectors() { return tel::make_collectors({"all"}, {}); }

// The available collectors; only the one named `only` when it is not empty.
std::vector<std::unique_ptr<tel::Collector>> available_collectors(const std::string& only = {}) {
  std::vector<std::unique_ptr<tel::Collector>> out;
  for (auto& c : all_collectors()) {
    if (!c->available()) continue;
    if (!only.empty() && c->name() != only) continue;
    out.push_back(std::move(c));
  }
  return out;
}

// Tight loop over the given collectors' sample(); one iteration = one row.
void sample_loop(benchmark::State& state, std::vector<std::unique_ptr<tel::Collector>> cs) {
  std::size_t width = 0;
  for (const auto& c : cs) width += c->channels().size();
  std::vector<double> row(width);
  for (const auto& c : cs) {  // untimed first sample: CPU/PSI/cgroup deltas need a previous one
    c->sample(trackiq::now_ns(), std::span<double>(row.data(), c->channels().size()));
  }
  const double cpu0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
  for (auto _ : state) {
    const std::int64_t now = trackiq::now_ns();
    std::size_t off = 0;
    for (const auto& c : cs) {
      const std::size_t w = c->channels().size();
      c->sample(now, std::span<double>(row.data() + off, w));
      off += w;
    }
    benchmark::DoNotOptimize(row.data());
    benchmark::ClobberMemory();
  }
  const double cpu1 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
  using benchmark::Counter;
  state.counters["cpu_ns_per_sample"] = Counter(cpu1 - cpu0, Counter::kAvgIterations);
  state.counters["channels"] = static_cast<double>(width);
  state.counters["collectors"] = static_cast<double>(cs.size());
}

void BM_SampleAllCollectors(benchmark::State& state) { sample_loop(state, available_collectors()); }
BENCHMARK(BM_SampleAllCollectors)->Unit(benchmark::kMicrosecond);

void BM_Sampler100ms(benchmark::State& state) {
  double cpu_s = 0, wall_s = 0, proc_cpu_s = 0;
  std::uint64_t rows = 0, late = 0;
  std::size_t width = 0;
  for (auto _ : state) {
    tel::Sampler sampler(all_collectors(), {.interval_ns = kIntervalNs});
    width = sampler.channels().size();
    const double p0 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
    const std::int64_t t0 = trackiq::now_ns();
    sampler.start();
    std::this_thread::sleep_for(kSamplerRun);
    sampler.stop();
    const std::int64_t t1 = trackiq::now_ns();
    const double p1 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
    cpu_s += sampler.thread_cpu_s();
    wall_s += static_cast<double>(t1 - t0) / 1e9;
    proc_cpu_s += (p1 - p0) / 1e9;
    rows += sampler.series().rows_taken;
    late += sampler.series().late_ticks;
  }
  if (rows == 0) {
    state.SkipWithError("the sampler took no samples");
    return;
  }
  const double n = static_cast<double>(rows);
  state.counters["samples"] = n / static_cast<double>(state.iterations());
  state.counters["cpu_us_per_sample"] = cpu_s / n * 1e6;
  state.counters["core_pct"] = cpu_s / wall_s * 100.0;
  state.counters["process_core_pct"] = proc_cpu_s / wall_s * 100.0;
  state.counters["late_ticks"] = static_cast<double>(late);
  state.counters["channels"] = static_cast<double>(width);
}
BENCHMARK(BM_Sampler100ms)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void BM_Tick100msBreakdown(benchmark::State& state) {
  std::map<std::string, double> medians_us;
  for (auto _ : state) {
    auto cs = available_collectors();
    std::size_t width = 0;
    for (const auto& c : cs) width += c->channels().size();
    std::vector<double> row(width);
    std::vector<std::vector<double>> collector_ns(cs.size());
    std::vector<double> wake_ns, clock_ns;
    std::thread t([&] {
      std::mutex m;
      std::condition_variable cv;
      const auto t0 = std::chrono::steady_clock::now();
      for (int k = 1; std::chrono::steady_clock::now() - t0 < kSamplerRun; ++k) {
        const double c0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
        std::size_t off = 0;
        double before = c0;
        for (std::size_t i = 0; i < cs.size(); ++i) {
          const std::size_t w = cs[i]->channels().size();
          cs[i]->sample(trackiq::now_ns(), std::span<double>(row.data() + off, w));
          off += w;
          const double after = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
          if (k > 1) collector_ns[i].push_back(after - before);  // the first has no deltas yet
          before = after;
        }
        const double probe = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
        clock_ns.push_back(probe - before);
        {
          std::unique_lock lock(m);
          cv.wait_until(lock, t0 + k * std::chrono::nanoseconds(kIntervalNs), [] { return false; });
        }
        wake_ns.push_back(cpu_ns(CLOCK_THREAD_CPUTIME_ID) - probe);
      }
    });
    t.join();
    medians_us["wake_us"] = median(wake_ns) / 1e3;
    medians_us["clock_us"] = median(clock_ns) / 1e3;
    for (std::size_t i = 0; i < cs.size(); ++i)
      medians_us[std::string(cs[i]->name()) + "_us"] = median(collector_ns[i]) / 1e3;
  }
  for (const auto& [name, us] : medians_us) state.counters[name] = us;
}
BENCHMARK(BM_Tick100msBreakdown)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// The descriptors this process has open, in increasing order.
std::vector<int> open_fds() {
  std::vector<int> fds;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    const int own = ::dirfd(d);
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      const int fd = std::atoi(e->d_name);
      if (fd != own) fds.push_back(fd);
    }
    ::closedir(d);
  }
  std::sort(fds.begin(), fds.end());
  return fds;
}

void BM_Tick100msSyscallsOnly(benchmark::State& state) {
  double per_tick_us = 0, wake_us = 0, syscalls_us = 0;
  std::size_t files = 0;
  for (auto _ : state) {
    const std::vector<int> before = open_fds();
    auto cs = available_collectors();  // kept alive: their descriptors stay open
    bool process = false;
    std::size_t width = 0;
    for (const auto& c : cs) width = std::max(width, c->channels().size());
    std::vector<double> row(width);
    for (const auto& c : cs) {
      process = process || c->name() == "process";
      // Two samples settle what a collector keeps: the process collector drops /proc/self/status
      // once its cheaper sources are checked against it.
      for (int i = 0; i < 2; ++i) c->sample(trackiq::now_ns(), std::span<double>(row.data(), c->channels().size()));
    }
    std::vector<int> read_fds, dir_fds;
    for (const int fd : open_fds()) {
      if (std::binary_search(before.begin(), before.end(), fd)) continue;
      struct stat st {};
      if (::fstat(fd, &st) != 0) continue;
      (S_ISDIR(st.st_mode) ? dir_fds : read_fds).push_back(fd);
    }
    files = read_fds.size();
    std::vector<double> wake_ns, syscall_ns;
    double thread_ns = 0;
    std::size_t ticks = 0;
    std::thread t([&] {
      std::vector<char> buf(1 << 16);
      std::mutex m;
      std::condition_variable cv;
      const double start = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
      const auto t0 = std::chrono::steady_clock::now();
      for (int k = 1; std::chrono::steady_clock::now() - t0 < kSamplerRun; ++k) {
        const double c0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
        for (const int fd : read_fds) benchmark::DoNotOptimize(::pread(fd, buf.data(), buf.size(), 0));
        for (const int fd : dir_fds) {
          struct stat st {};
          benchmark::DoNotOptimize(::fstat(fd, &st));
        }
        if (process) {
          rusage ru{};
          benchmark::DoNotOptimize(::getrusage(RUSAGE_SELF, &ru));
        }
        const double c1 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
        ++ticks;
        {
          std::unique_lock lock(m);
          cv.wait_until(lock, t0 + k * std::chrono::nanoseconds(kIntervalNs), [] { return false; });
        }
        syscall_ns.push_back(c1 - c0);
        wake_ns.push_back(cpu_ns(CLOCK_THREAD_CPUTIME_ID) - c1);
      }
      thread_ns = cpu_ns(CLOCK_THREAD_CPUTIME_ID) - start;
    });
    t.join();
    per_tick_us = thread_ns / static_cast<double>(ticks) / 1e3;
    wake_us = median(wake_ns) / 1e3;
    syscalls_us = median(syscall_ns) / 1e3;
  }
  state.counters["cpu_us_per_tick"] = per_tick_us;
  state.counters["wake_us"] = wake_us;
  state.counters["syscalls_us"] = syscalls_us;
  state.counters["files"] = static_cast<double>(files);
}
BENCHMARK(BM_Tick100msSyscallsOnly)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// One benchmark per available collector, and the collector lists in stderr and the JSON context.
[[maybe_unused]] const bool registered = [] {
  std::string avail, unavail;
  for (const auto& c : all_collectors()) {
    const std::string name(c->name());
    if (c->available()) {
      avail += (avail.empty() ? "" : ",") + name;
      std::string chans;
      for (const auto& ch : c->channels()) chans += (chans.empty() ? "" : " ") + ch.name;
      std::fprintf(stderr, "sampler_bench: %-10s %zu channels: %s\n", name.c_str(), c->channels().size(),
                   chans.c_str());
      benchmark::RegisterBenchmark(("BM_SampleCollector/" + name).c_str(),
                                   [name](benchmark::State& st) { sample_loop(st, available_collectors(name)); })
          ->Unit(benchmark::kMicrosecond);
    } else {
      unavail += (unavail.empty() ? "" : "; ") + name + ": " + c->reason();
      std::fprintf(stderr, "sampler_bench: %-10s %s\n", name.c_str(), c->reason().c_str());
    }
  }
  benchmark::AddCustomContext("collectors", avail);
  benchmark::AddCustomContext("collectors_unavailable", unavail);
  return true;
}();

}  // namespace
