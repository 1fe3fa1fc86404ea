// Speed of detect_change_points (docs/performance.md §10). Series are generated here, seeded:
//   shifts      N(100, 5) noise with a +15 % shift at n/3 and a −10 % one at 2n/3 (a benchmark
//               history with two changes: the case the SPEC targets are about)
//   noise       N(100, 5) only (the common case: nothing happened)
//   lognormal   100 · LogNormal(0, 0.5) with the same two shifts (skewed latency-like noise)
//   random_walk a Gaussian random walk (a worst case: pass 1 proposes a candidate in almost every
//               interval and pass 2 removes them one by one)
// BM_ManySeries runs the detector over 10,000 series of 1,000 points each (shifts), one after
// the other on one thread: the raw cost under the store-wide `trackiq detect` bar.
// BM_DetectStore is what `trackiq detect` computes over such a store the first time (every series
// in full, then Benjamini–Hochberg across them); BM_DetectStoreAppend what it computes after one
// run was appended to every series (each from its kept state: a window, not the series). Neither
// includes reading the store.
// bench/otava_numpy.py times Otava's algorithm on the same kinds of series for the ratio.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "trackiq/analysis/changepoint.hpp"
#include "trackiq/analysis/history.hpp"

namespace {

enum Kind : int { kShifts, kNoise, kLognormal, kRandomWalk };

std::vector<double> make_series(Kind kind, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> x(n);
  double walk = 100;
  for (std::size_t i = 0; i < n; ++i) {
    const double level = kind == kNoise ? 100.0 : i < n / 3 ? 100.0 : i < 2 * n / 3 ? 115.0 : 103.5;
    switch (kind) {
      case kShifts:
      case kNoise: x[i] = level + 5.0 * normal(rng); break;
      case kLognormal: x[i] = level * std::exp(0.5 * normal(rng)); break;
      case kRandomWalk: walk += normal(rng), x[i] = walk; break;
    }
  }
  return x;
}

void BM_Detect(benchmark::State& state) {
  const auto kind = static_cast<Kind>(state.range(0));
  const auto n = static_cast<std::size_t>(state.range(1));
  const auto x = make_series(kind, n, 42);
  std::size_t found = 0;
  for (auto _ : state) {
    const auto r = trackiq::analysis::detect_change_points(x);
    found = r.change_points.size();
    benchmark::DoNotOptimize(found);
  }
  state.counters["change_points"] = static_cast<double>(found);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  static const char* const names[] = {"shifts", "noise", "lognormal", "random_walk"};
  state.SetLabel(names[kind]);
}
BENCHMARK(BM_Detect)
    ->ArgsProduct({{kShifts, kNoise, kLognormal}, {100, 1000, 5000}})
    ->Args({kRandomWalk, 1000})
    ->Args({kRandomWalk, 5000})
    ->Unit(benchmark::kMicrosecond);

void BM_ManySeries(benchmark::State& state) {
  constexpr std::size_t kSeries = 10'000, kPoints = 1'000;
  std::vector<std::vector<double>> all;
  for (std::size_t s = 0; s < kSeries; ++s) all.push_back(make_series(kShifts, kPoints, 1000 + s));
  std::size_t found = 0;
  for (auto _ : state) {
    found = 0;
    for (const auto& x : all) found += trackiq::analysis::detect_change_points(x).change_points.size();
    benchmark::DoNotOptimize(found);
  }
  state.counters["change_points_per_series"] = static_cast<double>(found) / kSeries;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kSeries));
}
BENCHMARK(BM_ManySeries)->Iterations(1)->Unit(benchmark::kMillisecond);

constexpr std::size_t kStoreSeries = 10'000, kStorePoints = 1'000;

std::vector<std::vector<double>> store_series() {
  std::vector<std::vector<double>> all;
  for (std::size_t s = 0; s < kStoreSeries; ++s)
    all.push_back(make_series(s % 10 == 0 ? kShifts : kNoise, kStorePoints, 5000 + s));  // 1 in 10 changed
  return all;
}

// Every series' detection at alpha = q, then BH at q over the series' smallest p-values.
std::size_t detect_store(const std::vector<std::vector<double>>& all, const std::vector<trackiq::analysis::SeriesState>* kept,
                         std::vector<trackiq::analysis::SeriesState>* states, std::size_t n) {
  trackiq::analysis::ChangePointOptions o;
  o.alpha = 0.05;
  std::vector<double> ps;
  std::vector<std::vector<double>> cp_ps;
  for (std::size_t s = 0; s < all.size(); ++s) {
    const auto r = trackiq::analysis::detect_appended(std::span<const double>(all[s]).first(n), kept ? &(*kept)[s] : nullptr, o);
    double p = 1;
    std::vector<double> mine;
    for (const auto& cp : r.result.change_points) p = std::min(p, cp.p_value), mine.push_back(cp.p_value);
    ps.push_back(p);
    cp_ps.push_back(std::move(mine));
    if (states) states->push_back(r.state);
  }
  const auto bh = trackiq::analysis::fdr_threshold(ps, 0.05);
  std::size_t reported = 0;
  for (const auto& v : cp_ps)
    for (const double p : v) reported += p <= bh.threshold;
  return reported;
}

void BM_DetectStore(benchmark::State& state) {
  const auto all = store_series();
  std::size_t reported = 0;
  for (auto _ : state) {
    reported = detect_store(all, nullptr, nullptr, kStorePoints);
    benchmark::DoNotOptimize(reported);
  }
  state.counters["reported"] = static_cast<double>(reported);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kStoreSeries));
}
BENCHMARK(BM_DetectStore)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_DetectStoreAppend(benchmark::State& state) {
  const auto all = store_series();
  std::vector<trackiq::analysis::SeriesState> kept;
  detect_store(all, nullptr, &kept, kStorePoints - 1);
  std::size_t reported = 0;
  for (auto _ : state) {
    reported = detect_store(all, &kept, nullptr, kStorePoints);
    benchmark::DoNotOptimize(reported);
  }
  state.counters["reported"] = static_cast<double>(reported);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kStoreSeries));
}
BENCHMARK(BM_DetectStoreAppend)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
