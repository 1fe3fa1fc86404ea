// trackiq::CycleClock (include/trackiq/core/cycle_clock.hpp): the counter is chosen only where the
// probe allows it, agrees with steady_clock over real sleeps, is monotonic across threads, and
// falls back to steady_clock, saying why, when the probe forbids it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/cycle_clock.hpp"

namespace trackiq {
namespace {

// The source the documented rule gives for this machine's probe.
CycleClock::Source expected_source(const CycleClockProbe& p) {
#if defined(__x86_64__)
  return p.counter_invariant && p.clocksource == "tsc" ? CycleClock::Source::tsc : CycleClock::Source::steady;
#elif defined(__aarch64__)
  return p.clocksource == "arch_sys_counter" ? CycleClock::Source::cntvct : CycleClock::Source::steady;
#else
  (void)p;
  return CycleClock::Source::steady;
#endif
}

TEST(CycleClock, UsesTheCounterExactlyWhereTheProbeAllowsIt) {
  const CycleClockProbe probe = probe_cycle_clock();
  const CycleClock& c = CycleClock::instance();
  EXPECT_EQ(c.source(), expected_source(probe)) << c.description();
  EXPECT_FALSE(c.description().empty());
  EXPECT_EQ(c.description().rfind(c.source_name(), 0), 0u) << c.description();  // starts with its name
  if (c.source() != CycleClock::Source::steady) {
    EXPECT_GT(c.ticks_per_second(), 1e6) << c.description();
    EXPECT_LT(c.ticks_per_second(), 1e11) << c.description();
    EXPECT_LT(c.calibration_error_ppm(), 1000) << c.description();
  }
  std::printf("cycle clock: %s\n", c.description().c_str());
}

// Durations within 2 % of steady_clock's over 50 ms sleeps, and times on its time base (the
// offset calibrated, then re-anchored by to_steady) within 1 ms.
TEST(CycleClock, AgreesWithSteadyClockOverRealSleeps) {
  const CycleClock& c = CycleClock::instance();
  for (int i = 0; i < 3; ++i) {
    const std::int64_t c0 = c.now(), s0 = now_ns();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::int64_t c1 = c.now(), s1 = now_ns();
    const double steady = static_cast<double>(s1 - s0), cycle = static_cast<double>(c1 - c0);
    EXPECT_GE(steady, 50e6);
    EXPECT_NEAR(cycle, steady, 0.02 * steady) << c.description();
    EXPECT_NEAR(static_cast<double>(c1), static_cast<double>(s1), 1e6) << c.description();
    const std::int64_t before = now_ns();
    const std::int64_t mapped = c.to_steady(c.now());
    const std::int64_t after = now_ns();
    EXPECT_GE(mapped, before - 1'000'000);
    EXPECT_LE(mapped, after + 1'000'000);
  }
}

// Two threads take turns through an atomic: each reading, taken after the other thread's was
// published, may precede it only by the read's ordering slack (the counter read is not
// serialising: after the hand-over it can run some tens of ns early), never by more than 1 µs
// (counters out of step across CPUs, or a mapping that differs between threads, would be more).
// One thread's readings never go back.
TEST(CycleClock, IsMonotonicAcrossThreads) {
  const CycleClock& c = CycleClock::instance();
  constexpr int kTurns = 20'000;
  std::atomic<int> turn{0};
  std::atomic<std::int64_t> last{c.now()};
  std::atomic<int> backwards{0};
  std::atomic<std::int64_t> worst{0};
  auto player = [&](int me) {
    for (int k = me; k < kTurns; k += 2) {
      while (turn.load(std::memory_order_acquire) != k) std::this_thread::yield();
      const std::int64_t prev = last.load(std::memory_order_relaxed);
      const std::int64_t t = c.now();
      if (t < prev) {
        backwards.fetch_add(1);
        if (prev - t > worst.load()) worst.store(prev - t);  // one thread at a time writes
      }
      last.store(t, std::memory_order_relaxed);
      turn.store(k + 1, std::memory_order_release);
    }
  };
  std::thread a(player, 0), b(player, 1);
  a.join();
  b.join();
  EXPECT_LE(worst.load(), 1'000) << c.description() << ": " << backwards.load() << " of " << kTurns
                                 << " readings went back";
  if (backwards.load() > 0)
    std::printf("%d of %d readings preceded the other thread's, by at most %lld ns\n", backwards.load(), kTurns,
                static_cast<long long>(worst.load()));
  std::int64_t prev = c.now();
  for (int i = 0; i < 100'000; ++i) {
    const std::int64_t t = c.now();
    ASSERT_GE(t, prev);
    prev = t;
  }
}

TEST(CycleClock, FallsBackToSteadyClockAndSaysWhy) {
  // A clocksource the kernel does not trust the counter with.
  const CycleClock hpet(CycleClockProbe{.counter_invariant = true, .clocksource = "hpet"});
  EXPECT_EQ(hpet.source(), CycleClock::Source::steady);
  EXPECT_STREQ(hpet.source_name(), "steady_clock");
  EXPECT_NE(hpet.description().find("hpet"), std::string::npos) << hpet.description();
  EXPECT_EQ(hpet.ticks_per_second(), 0);
  // An unreadable clocksource file.
  const CycleClock none(CycleClockProbe{.counter_invariant = true, .clocksource = ""});
  EXPECT_EQ(none.source(), CycleClock::Source::steady);
  EXPECT_NE(none.description().find("unreadable"), std::string::npos) << none.description();
#if defined(__x86_64__)
  // No invariant TSC.
  const CycleClock variant(CycleClockProbe{.counter_invariant = false, .clocksource = "tsc"});
  EXPECT_EQ(variant.source(), CycleClock::Source::steady);
  EXPECT_NE(variant.description().find("invariant TSC"), std::string::npos) << variant.description();
#endif
  // The fallback reads steady_clock itself, and maps nothing.
  const std::int64_t before = now_ns();
  const std::int64_t t = hpet.now();
  const std::int64_t after = now_ns();
  EXPECT_GE(t, before);
  EXPECT_LE(t, after);
  EXPECT_EQ(hpet.to_steady(12345), 12345);
}

#if defined(__x86_64__)
// A probe that allows the TSC calibrates a clock of its own (when this CPU has an invariant TSC:
// the forced probe must not be trusted on a CPU that lacks one).
TEST(CycleClock, ATscProbeCalibratesAgainstSteadyClock) {
  if (!probe_cycle_clock().counter_invariant) GTEST_SKIP() << "this CPU reports no invariant TSC";
  const CycleClock c(CycleClockProbe{.counter_invariant = true, .clocksource = "tsc"});
  ASSERT_EQ(c.source(), CycleClock::Source::tsc) << c.description();
  EXPECT_NE(c.description().find("calibrated against CLOCK_MONOTONIC"), std::string::npos) << c.description();
  const std::int64_t s0 = now_ns(), c0 = c.now();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const std::int64_t s1 = now_ns(), c1 = c.now();
  EXPECT_NEAR(static_cast<double>(c1 - c0), static_cast<double>(s1 - s0), 0.02 * static_cast<double>(s1 - s0));
}
#endif

}  // namespace
}  // namespace trackiq
