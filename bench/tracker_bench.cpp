// The Tracker's record path (issue #15, LIB-1): a request with three phases (target <= 200 ns)
// and a counter increment (target <= 20 ns), each with two threads recording at once, against
// prometheus-cpp's Counter::Increment and Histogram::Observe in the same run. ->Threads(2)
// runs the body on two threads; the Time column is per iteration of one thread.
// See docs/performance.md.
#include <benchmark/benchmark.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/cycle_clock.hpp"

#include "trackiq/tracker/tracker.hpp"

namespace {

trackiq::tracker::Tracker& tracker() {
  static trackiq::tracker::Tracker t;
  return t;
}

// The same requests on steady_clock (TrackerOptions::cycle_clock = false): the tracker before the
// cycle clock, or where no counter is usable.
trackiq::tracker::Tracker& steady_tracker() {
  static trackiq::tracker::Tracker t(trackiq::tracker::TrackerOptions{.cycle_clock = false});
  return t;
}

// One read of trackiq::now_ns() (steady_clock: clock_gettime), the tracker's clock before the
// cycle clock and its fallback.
void BM_ClockRead(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(trackiq::now_ns());
}
BENCHMARK(BM_ClockRead)->Threads(1)->UseRealTime();

// One read of trackiq::CycleClock (the tracker's default clock): a request with three phases
// reads it 8 times. The label says which clock it is (tsc, cntvct or the steady_clock fallback).
void BM_CycleClockRead(benchmark::State& state) {
  const trackiq::CycleClock& c = trackiq::CycleClock::instance();
  for (auto _ : state) benchmark::DoNotOptimize(c.now());
  state.SetLabel(c.source_name());
}
BENCHMARK(BM_CycleClockRead)->Threads(1)->UseRealTime();

// begin_request, three scoped phases by id and the end: the body of the request benchmarks.
void three_phase_requests(benchmark::State& state, trackiq::tracker::Tracker& t) {
  const std::uint32_t tokenize = t.phase_id("tokenize");
  const std::uint32_t forward = t.phase_id("forward");
  const std::uint32_t sample = t.phase_id("sample");
  for (auto _ : state) {
    auto r = t.begin_request("request-id-0001");
    { auto p = r.phase(tokenize); }
    { auto p = r.phase(forward); }
    { auto p = r.phase(sample); }
  }
}

void BM_TrackerRequestThreePhases(benchmark::State& state) { three_phase_requests(state, tracker()); }
BENCHMARK(BM_TrackerRequestThreePhases)->Threads(1)->Threads(2)->UseRealTime();

void BM_TrackerRequestThreePhasesSteadyClock(benchmark::State& state) {
  three_phase_requests(state, steady_tracker());
}
BENCHMARK(BM_TrackerRequestThreePhasesSteadyClock)->Threads(2)->UseRealTime();

// The same with a clock that costs next to nothing (a thread-local counter): what the tracker
// itself adds on top of its 8 clock reads.
std::int64_t counting_clock() noexcept {
  static thread_local std::int64_t t = 0;
  return t += 100;
}
void BM_TrackerRequestThreePhasesCheapClock(benchmark::State& state) {
  static trackiq::tracker::Tracker t(trackiq::tracker::TrackerOptions{.clock = &counting_clock});
  three_phase_requests(state, t);
}
BENCHMARK(BM_TrackerRequestThreePhasesCheapClock)->Threads(1)->Threads(2)->UseRealTime();

// The same with phases looked up by name (the string compare of the interned table).
void BM_TrackerRequestThreePhasesByName(benchmark::State& state) {
  auto& t = tracker();
  for (auto _ : state) {
    auto r = t.begin_request("request-id-0001");
    { auto p = r.phase("tokenize"); }
    { auto p = r.phase("forward"); }
    { auto p = r.phase("sample"); }
  }
}
BENCHMARK(BM_TrackerRequestThreePhasesByName)->Threads(2)->UseRealTime();

void BM_TrackerCounterInc(benchmark::State& state) {
  static const auto c = tracker().counter("cache_hit");
  for (auto _ : state) c.inc();
}
BENCHMARK(BM_TrackerCounterInc)->Threads(1)->Threads(2)->UseRealTime();

void BM_TrackerValueHistogramObserve(benchmark::State& state) {
  static const auto h = tracker().histogram("rss_peak_bytes");
  std::int64_t v = 1;
  for (auto _ : state) h.observe(v++ & 0xfffff);
}
BENCHMARK(BM_TrackerValueHistogramObserve)->Threads(2)->UseRealTime();

prometheus::Registry& registry() {
  static auto r = std::make_shared<prometheus::Registry>();
  return *r;
}

void BM_PrometheusCounterIncrement(benchmark::State& state) {
  static auto& c = prometheus::BuildCounter().Name("bench_total").Help("bench").Register(registry()).Add({});
  for (auto _ : state) c.Increment();
}
BENCHMARK(BM_PrometheusCounterIncrement)->Threads(1)->Threads(2)->UseRealTime();

void BM_PrometheusHistogramObserve(benchmark::State& state) {
  static auto& h = prometheus::BuildHistogram().Name("bench_seconds").Help("bench").Register(registry()).Add(
      {}, prometheus::Histogram::BucketBoundaries{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5});
  double v = 0;
  for (auto _ : state) {
    h.Observe(v);
    v = v > 5 ? 0 : v + 0.0137;
  }
}
BENCHMARK(BM_PrometheusHistogramObserve)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
