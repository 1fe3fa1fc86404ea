// The runner's own overhead per query, with a null workload ("synthetic:mean=0" returns at
// once): the analogue of MLPerf LoadGen's null-SUT perf test. See docs/performance.md.
//
// Counters of BM_RunnerNullSingleStream (each the mean over the benchmark's iterations):
//   ns_per_query   measured wall time / queries: (last end - first start) / n from the records,
//                  i.e. the steady-state cost of one trip round the closed loop.
//   latency_p50_ns, latency_p99_ns
//                  percentiles of the recorded latencies (end - start): two clock reads around
//                  a null infer(), the floor under any latency TrackIQ reports.
//   s_per_query_all
//                  the whole run_scenario() call (prepare, warmup thread, record reservation,
//                  merge and sort of the records) / queries, in seconds.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/stats.hpp"
#include "trackiq/runner/runner.hpp"
#include "trackiq/workload/workload.hpp"

namespace {

void BM_NowNs(benchmark::State& state) {
  for (auto _ : state) {
    std::int64_t t = trackiq::now_ns();
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_NowNs);

// One null infer() through the virtual interface, without the runner around it.
void BM_NullInfer(benchmark::State& state) {
  auto w = trackiq::workload::make_workload({.spec = "synthetic:mean=0"});
  w->prepare(1);
  for (auto _ : state) {
    auto outcome = w->infer(0);
    benchmark::DoNotOptimize(outcome.ok);
  }
}
BENCHMARK(BM_NullInfer);

void BM_RunnerNullSingleStream(benchmark::State& state) {
  const auto queries = static_cast<std::uint64_t>(state.range(0));
  auto w = trackiq::workload::make_workload({.spec = "synthetic:mean=0"});
  trackiq::runner::RunSettings s;
  s.scenario = trackiq::runner::Scenario::kSingleStream;
  s.iterations = queries;

  double wall_ns_per_query = 0, p50 = 0, p99 = 0;
  std::vector<std::int64_t> latencies;
  latencies.reserve(queries);
  constexpr double kPs[] = {50.0, 99.0};
  for (auto _ : state) {
    const auto rec = trackiq::runner::run_scenario(*w, s);
    state.PauseTiming();
    if (rec.queries.size() != queries || rec.errors.total != 0) {
      state.SkipWithError("the null run did not complete every query");
      break;
    }
    const auto& q = rec.queries;
    wall_ns_per_query += static_cast<double>(q.back().end_ns - q.front().start_ns) / static_cast<double>(q.size());
    latencies.clear();
    for (const auto& r : q) latencies.push_back(r.end_ns - r.start_ns);
    const auto pct = trackiq::exact_percentiles_inplace(latencies, kPs);
    p50 += pct[0].value;
    p99 += pct[1].value;
    state.ResumeTiming();
  }
  using benchmark::Counter;
  state.counters["ns_per_query"] = Counter(wall_ns_per_query, Counter::kAvgIterations);
  state.counters["latency_p50_ns"] = Counter(p50, Counter::kAvgIterations);
  state.counters["latency_p99_ns"] = Counter(p99, Counter::kAvgIterations);
  state.counters["s_per_query_all"] =
      Counter(static_cast<double>(queries), Counter::kIsIterationInvariantRate | Counter::kInvert);
}
BENCHMARK(BM_RunnerNullSingleStream)->Arg(200'000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
