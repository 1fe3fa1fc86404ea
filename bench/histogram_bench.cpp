// Histogram hot path (SPEC §4): recording one latency sample (target <= 10 ns) and merging 64
// per-thread histograms into one (target <= 1 ms). See docs/performance.md.
//
// Values come from a log-normal latency distribution (median 1 ms, sigma 0.5) generated before
// timing starts, so the random number generator is not measured.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "trackiq/core/histogram.hpp"

namespace {

constexpr double kMedianNs = 1e6;
constexpr double kSigma = 0.5;

std::vector<std::int64_t> lognormal_latencies_ns(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> dist(std::log(kMedianNs), kSigma);
  std::vector<std::int64_t> out(n);
  for (auto& v : out) v = static_cast<std::int64_t>(dist(rng));
  return out;
}

// Records a pool of 64 Ki values (512 KiB, L2-resident) per benchmark iteration. The
// `ns_per_record` counter is seconds per recorded value (Google Benchmark prints it with an
// SI prefix, e.g. "1.9ns"); the Time column is per pool.
void BM_HistogramRecord(benchmark::State& state) {
  const std::vector<std::int64_t> values = lognormal_latencies_ns(std::size_t{1} << 16, 42);
  trackiq::Histogram h = trackiq::Histogram::for_latency_ns();
  for (auto _ : state) {
    for (const std::int64_t v : values) {
      bool counted = h.record(v);
      benchmark::DoNotOptimize(counted);
    }
    benchmark::ClobberMemory();  // the counts must really be stored each pass
  }
  if (h.out_of_range() != 0) state.SkipWithError("values fell outside the histogram's range");
  const auto per_pass = static_cast<double>(values.size());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(values.size()));
  state.counters["ns_per_record"] =
      benchmark::Counter(per_pass, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_HistogramRecord);

// The batch form, record(span), on the same pool: how the runner and `load` record a run.
void BM_HistogramRecordBatch(benchmark::State& state) {
  const std::vector<std::int64_t> values = lognormal_latencies_ns(std::size_t{1} << 16, 42);
  trackiq::Histogram h = trackiq::Histogram::for_latency_ns();
  for (auto _ : state) {
    std::size_t counted = h.record(values);
    benchmark::DoNotOptimize(counted);
    benchmark::ClobberMemory();
  }
  if (h.out_of_range() != 0) state.SkipWithError("values fell outside the histogram's range");
  const auto per_pass = static_cast<double>(values.size());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(values.size()));
  state.counters["ns_per_record"] =
      benchmark::Counter(per_pass, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_HistogramRecordBatch);

constexpr int kMergeSources = 64;

// 64 per-thread histograms (Histogram::for_latency_ns(), 10 000 values each, ~261 KiB each,
// 17.1 MB in all).
std::vector<trackiq::Histogram> merge_sources() {
  constexpr std::size_t kValuesEach = 10'000;
  std::vector<trackiq::Histogram> sources;
  sources.reserve(kMergeSources);
  for (int i = 0; i < kMergeSources; ++i) {
    sources.push_back(trackiq::Histogram::for_latency_ns());
    for (const std::int64_t v : lognormal_latencies_ns(kValuesEach, 1000 + static_cast<std::uint64_t>(i)))
      sources.back().record(v);
  }
  return sources;
}

// Merges all sources into a fresh histogram, as a reader does: the time includes constructing
// and zeroing the destination.
void merge_into_fresh(const std::vector<trackiq::Histogram>& sources) {
  trackiq::Histogram merged = trackiq::Histogram::for_latency_ns();
  for (const auto& s : sources) merged.merge(s);
  std::uint64_t total = merged.count();
  benchmark::DoNotOptimize(total);
  benchmark::ClobberMemory();
}

// Warm: the 17.1 MB of sources stay in the 32 MiB L3 of the reference VM between iterations.
void BM_HistogramMerge64(benchmark::State& state) {
  const auto sources = merge_sources();
  for (auto _ : state) merge_into_fresh(sources);
  state.counters["sources"] = kMergeSources;
}
BENCHMARK(BM_HistogramMerge64)->Unit(benchmark::kMicrosecond);

// Cold: before each (timed) merge, an untimed pass over a 64 MiB buffer evicts the sources
// from the caches, as when the recording threads ran on other cores or long ago.
void BM_HistogramMerge64Cold(benchmark::State& state) {
  const auto sources = merge_sources();
  std::vector<std::uint64_t> evict((std::size_t{64} << 20) / sizeof(std::uint64_t), 1);
  for (auto _ : state) {
    state.PauseTiming();
    for (std::size_t i = 0; i < evict.size(); i += 8) evict[i] += 1;  // one store per 64-byte line
    benchmark::ClobberMemory();
    state.ResumeTiming();
    merge_into_fresh(sources);
  }
  state.counters["sources"] = kMergeSources;
}
// Fixed iterations: the untimed eviction pass would otherwise stretch the run several-fold.
BENCHMARK(BM_HistogramMerge64Cold)->Unit(benchmark::kMicrosecond)->Iterations(100);

}  // namespace
