#include "trackiq/core/cycle_clock.hpp"

#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace trackiq {

namespace {

constexpr const char* kClocksourcePath = "/sys/devices/system/clocksource/clocksource0/current_clocksource";
constexpr std::int64_t kCalibrationNs = 20'000'000;  // x86-64: between the two paired reads
constexpr std::int64_t kReanchorNs = 1'000'000'000;  // to_steady(): a fresh offset at most this often

}  // namespace

CycleClockProbe probe_cycle_clock() {
  CycleClockProbe p;
#if defined(__x86_64__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  p.counter_invariant = __get_cpuid(0x80000007, &a, &b, &c, &d) != 0 && (d & (1u << 8)) != 0;
#elif defined(__aarch64__)
  p.counter_invariant = true;  // the generic timer's counter is a system-wide constant-rate counter
#endif
  std::ifstream in(kClocksourcePath);
  std::getline(in, p.clocksource);
  while (!p.clocksource.empty() && (p.clocksource.back() == '\n' || p.clocksource.back() == ' '))
    p.clocksource.pop_back();
  return p;
}

CycleClock::Pair CycleClock::paired_read() noexcept {
  Pair best{0, 0, ~std::uint64_t{0}};
  for (int i = 0; i < 7; ++i) {
    const std::uint64_t t0 = ticks();
    const std::int64_t ns = now_ns();
    const std::uint64_t t1 = ticks();
    if (t1 >= t0 && t1 - t0 < best.bracket) best = {ns, t0 + (t1 - t0) / 2, t1 - t0};
  }
  return best;
}

CycleClock::CycleClock(const CycleClockProbe& probe) {
  const std::string where = probe.clocksource.empty() ? "unreadable" : probe.clocksource;
#if defined(__x86_64__)
  if (!probe.counter_invariant)
    description_ = "steady_clock (clock_gettime): the CPU reports no invariant TSC (CPUID 0x80000007 EDX bit 8)";
  else if (probe.clocksource != "tsc")
    description_ = "steady_clock (clock_gettime): Linux's clocksource is " + where + ", not tsc (the TSC is not known to be synchronised across CPUs)";
  else {
    const Pair a = paired_read();
    const std::int64_t until = a.ns + kCalibrationNs;
    while (now_ns() < until) std::this_thread::sleep_for(std::chrono::nanoseconds(until - now_ns()));
    const Pair b = paired_read();
    const double dns = static_cast<double>(b.ns - a.ns);
    const double dticks = static_cast<double>(b.ticks - a.ticks);
    if (b.ticks <= a.ticks || dns <= 0 || a.bracket == ~std::uint64_t{0} || b.bracket == ~std::uint64_t{0}) {
      description_ = "steady_clock (clock_gettime): the TSC did not advance during calibration";
    } else {
      source_ = Source::tsc;
      ticks_per_s_ = dticks / dns * 1e9;
      // Each pair's time is known within half its bracket: the rate within their sum over the span.
      error_ppm_ = 1e6 * (static_cast<double>(a.bracket + b.bracket) / 2) / dticks;
      base_ticks_ = b.ticks;
      base_ns_ = b.ns;
      mult_ = static_cast<__int128>(std::llround(dns / dticks * std::ldexp(1.0, kShift)));
      description_ = fmt::format(
          "tsc: invariant TSC, clocksource tsc, {:.3f} MHz calibrated against CLOCK_MONOTONIC over {:.1f} ms "
          "(±{:.2g} ppm)",
          ticks_per_s_ / 1e6, dns / 1e6, error_ppm_);
    }
  }
#elif defined(__aarch64__)
  std::uint64_t freq = 0;
  asm volatile("mrs %0, cntfrq_el0" : "=r"(freq));
  if (probe.clocksource != "arch_sys_counter")
    description_ = "steady_clock (clock_gettime): Linux's clocksource is " + where + ", not arch_sys_counter";
  else if (freq == 0)
    description_ = "steady_clock (clock_gettime): cntfrq_el0 reports no counter frequency";
  else {
    const Pair a = paired_read();
    source_ = Source::cntvct;
    ticks_per_s_ = static_cast<double>(freq);
    error_ppm_ = 0;  // the frequency is the one the kernel uses; only the offset is measured
    base_ticks_ = a.ticks;
    base_ns_ = a.ns;
    mult_ = (static_cast<__int128>(1'000'000'000) << kShift) / static_cast<__int128>(freq);
    description_ = fmt::format("cntvct: generic timer, clocksource arch_sys_counter, {:.3f} MHz from cntfrq_el0",
                               ticks_per_s_ / 1e6);
  }
#else
  (void)where;
  description_ = "steady_clock (clock_gettime): no cycle counter is used on this CPU architecture";
#endif
  if (source_ != Source::steady) {
    const Pair p = paired_read();
    offset_.store(p.ns - from_ticks(p.ticks), std::memory_order_relaxed);
    anchored_ns_.store(p.ns, std::memory_order_relaxed);
  }
}

const CycleClock& CycleClock::instance() {
  static const CycleClock clock(probe_cycle_clock());
  return clock;
}

const char* CycleClock::source_name() const noexcept {
  switch (source_) {
    case Source::tsc: return "tsc";
    case Source::cntvct: return "cntvct";
    case Source::steady: break;
  }
  return "steady_clock";
}

std::int64_t CycleClock::to_steady(std::int64_t t) const noexcept {
  if (source_ == Source::steady) return t;
  const std::int64_t now = now_ns();
  if (now - anchored_ns_.load(std::memory_order_relaxed) >= kReanchorNs) {
    // Concurrent re-anchors store nearly the same offset; either one may win.
    const Pair p = paired_read();
    offset_.store(p.ns - from_ticks(p.ticks), std::memory_order_relaxed);
    anchored_ns_.store(p.ns, std::memory_order_relaxed);
  }
  return t + offset_.load(std::memory_order_relaxed);
}

}  // namespace trackiq
