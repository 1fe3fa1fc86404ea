#pragma once
// A calibrated cycle-counter clock for hot record paths (issue #15, LIB-1: the Tracker reads the
// clock 8 times per request with three phases). It reads the CPU's counter (x86-64 `rdtsc`,
// aarch64 `cntvct_el0`) and maps the ticks onto trackiq::now_ns()'s time base (steady_clock,
// CLOCK_MONOTONIC) with an offset and a scale, so its times can be mixed with now_ns() times
// (e.g. the telemetry sampler's rows) within the calibration error.
//
//   const trackiq::CycleClock& c = trackiq::CycleClock::instance();  // first call calibrates
//   const std::int64_t t0 = c.now();                                  // ns, ~now_ns()
//   ...
//   const std::int64_t d = c.now() - t0;                              // a duration in ns
//   std::cout << c.description() << '\n';                             // which clock, and why
//
// The counter is used only where it is known to be monotonic and synchronised across CPUs:
//   x86-64:  the CPU reports an invariant TSC (CPUID 0x80000007 EDX bit 8) AND Linux's current
//            clocksource is "tsc" (the kernel checked the TSCs against each other and kept it);
//            ns per tick is calibrated against CLOCK_MONOTONIC from two paired reads ~20 ms apart.
//   aarch64: Linux's current clocksource is "arch_sys_counter" (the generic timer, which the
//            kernel itself reads); ns per tick is exact, from the frequency in cntfrq_el0.
// Otherwise (or on other CPUs) now() is now_ns() and description() says why: never silently.
// The probe runs once per process (instance()): a clocksource the kernel changes later (its
// watchdog marking the TSC unstable) is not noticed.
//
// Accuracy: a duration is off by at most the scale's calibration error (calibration_error_ppm(),
// a bound from the two pairs' read brackets; 0 on aarch64). An absolute time differs from
// now_ns() by up to that error times the time since calibration, plus the slewing NTP applies to
// CLOCK_MONOTONIC meanwhile; to_steady() removes that for times read back later, by re-anchoring
// the offset to a fresh paired read (at most once per second).
//
// Ordering: the counter read is not serialising (no lfence/rdtscp, which would double its cost:
// 22.5 vs 11.4 ns on the Zen 5 VM of docs/performance.md). It may execute some tens of ns before
// the instructions ahead of it, so a reading taken just after synchronising with another thread
// can precede that thread's last reading by that much (seen: up to ~60 ns, in 1 of ~10⁵
// hand-overs). One thread's readings never go back; durations of µs and more are unaffected.
//
// Thread-safety: instance() is thread-safe (made once per process); now() is a const read.
#include <atomic>
#include <cstdint>
#include <string>

#include "trackiq/core/clock.hpp"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace trackiq {

// What decides whether the counter may be used (probe_cycle_clock() reads this machine's).
struct CycleClockProbe {
  bool counter_invariant = false;  // x86-64: CPUID 0x80000007 EDX bit 8; aarch64: always true
  std::string clocksource;         // /sys/devices/system/clocksource/clocksource0/current_clocksource
};
CycleClockProbe probe_cycle_clock();

class CycleClock {
 public:
  enum class Source { tsc, cntvct, steady };

  // Picks the counter from the probe (tests pass one to force the fallback) and calibrates it:
  // blocks for ~20 ms on x86-64 when the TSC is used.
  explicit CycleClock(const CycleClockProbe& probe);
  // The process's clock, probed and calibrated on the first call (thread-safe).
  static const CycleClock& instance();

  // ns on now_ns()'s time base (within the calibration error): no system call with a counter.
  std::int64_t now() const noexcept {
    if (source_ == Source::steady) return now_ns();
    return from_ticks(ticks());
  }
  // A reading of now() mapped onto now_ns()'s time base with a recent offset (see above).
  std::int64_t to_steady(std::int64_t t) const noexcept;

  Source source() const noexcept { return source_; }
  const char* source_name() const noexcept;  // "tsc", "cntvct" or "steady_clock"
  // E.g. "tsc: invariant TSC, clocksource tsc, 2994.357 MHz calibrated against CLOCK_MONOTONIC
  // over 20.1 ms (±0.9 ppm)" or "steady_clock (clock_gettime): clocksource is kvm-clock, not tsc".
  const std::string& description() const noexcept { return description_; }
  double ticks_per_second() const noexcept { return ticks_per_s_; }  // 0 for steady
  double calibration_error_ppm() const noexcept { return error_ppm_; }

 private:
  static std::uint64_t ticks() noexcept {
#if defined(__x86_64__)
    return __rdtsc();
#elif defined(__aarch64__)
    std::uint64_t v;
    asm volatile("mrs %0, cntvct_el0" : "=r"(v));
    return v;
#else
    return 0;
#endif
  }
  std::int64_t from_ticks(std::uint64_t t) const noexcept {
    const auto d = static_cast<__int128>(static_cast<std::int64_t>(t - base_ticks_));
    return base_ns_ + static_cast<std::int64_t>((d * mult_) >> kShift);
  }
  // (now_ns() at the middle of a ticks() bracket, that tick, the bracket in ticks): the narrowest
  // of a few tries.
  struct Pair {
    std::int64_t ns;
    std::uint64_t ticks;
    std::uint64_t bracket;
  };
  static Pair paired_read() noexcept;

  static constexpr int kShift = 32;
  Source source_ = Source::steady;
  std::uint64_t base_ticks_ = 0;
  std::int64_t base_ns_ = 0;
  __int128 mult_ = 0;  // ns per tick · 2^kShift
  double ticks_per_s_ = 0;
  double error_ppm_ = 0;
  std::string description_;
  mutable std::atomic<std::int64_t> offset_{0};       // to_steady(): now_ns() − now() at the last anchor
  mutable std::atomic<std::int64_t> anchored_ns_{0};  // when it was taken (now_ns())
};

}  // namespace trackiq
