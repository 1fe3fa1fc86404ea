// Exact percentiles of 10 M int64 samples (SPEC §4: faster than numpy's `percentile` on the same
// data). bench/numpy_percentile.py times numpy on data of the same size, dtype and distribution;
// bench/run_benchmarks.sh runs both and prints the ratio. See docs/performance.md.
//
// exact_percentiles() copies its input (the caller's samples are not modified); numpy's
// percentile also partitions a copy (overwrite_input=False), so both timings include one copy.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "trackiq/core/stats.hpp"

namespace {

constexpr std::size_t kSamples = 10'000'000;

// Log-normal latencies in ns (median 1 ms, sigma 0.5), fixed seed, generated once per process.
const std::vector<std::int64_t>& samples() {
  static const std::vector<std::int64_t> data = [] {
    std::mt19937_64 rng(20261123);
    std::lognormal_distribution<double> dist(std::log(1e6), 0.5);
    std::vector<std::int64_t> v(kSamples);
    for (auto& x : v) x = static_cast<std::int64_t>(dist(rng));
    return v;
  }();
  return data;
}

constexpr double kP99[] = {99.0};

// The public entry point: copy, then select. One quantile or the five standard ones.
void BM_ExactPercentiles(benchmark::State& state, std::span<const double> ps) {
  const auto& data = samples();
  for (auto _ : state) {
    auto result = trackiq::exact_percentiles(data, ps);
    benchmark::DoNotOptimize(result.data());
    benchmark::ClobberMemory();
  }
  state.counters["quantiles"] = static_cast<double>(ps.size());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(data.size()));
}
BENCHMARK_CAPTURE(BM_ExactPercentiles, p99, std::span<const double>(kP99))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ExactPercentiles, standard5, trackiq::standard_percentiles())
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Breakdown, for reading the numbers above: the copy alone (a fresh 80 MB vector, as
// exact_percentiles makes) ...
void BM_CopySamples(benchmark::State& state) {
  const auto& data = samples();
  for (auto _ : state) {
    std::vector<std::int64_t> copy(data.begin(), data.end());
    benchmark::DoNotOptimize(copy.data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_CopySamples)->Unit(benchmark::kMillisecond)->UseRealTime();

// ... and the five standard quantiles in place, refilling a reused scratch buffer each time
// (the copy is timed, the allocation and its page faults are not).
void BM_ExactPercentilesInplaceReusedScratch(benchmark::State& state) {
  const auto& data = samples();
  std::vector<std::int64_t> scratch(data.size());
  for (auto _ : state) {
    std::copy(data.begin(), data.end(), scratch.begin());
    auto result = trackiq::exact_percentiles_inplace(scratch, trackiq::standard_percentiles());
    benchmark::DoNotOptimize(result.data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_ExactPercentilesInplaceReusedScratch)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
