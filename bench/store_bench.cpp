// The store and compare with 1 M-sample runs (issue STORE/CMP benchmarks, docs/performance.md):
// saving and loading a run with 1 M exact samples in SQLite and PostgreSQL, and comparing two
// 1 M-sample runs (the whole compare_results, and its Mann–Whitney U and bootstrap parts).
// bench/store_compare_bench.sh starts PostgreSQL, runs this, then the peers (scipy, numpy,
// Python's sqlite3, psql COPY) on the very same samples, which
//   store_bench --write-samples DIR
// writes as raw little-endian int64 files (base.i64, cur.i64) and as two result JSON files.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "trackiq/analysis/compare.hpp"
#include "trackiq/analysis/compare_stats.hpp"
#include "trackiq/core/result.hpp"
#include "trackiq/core/stats.hpp"
#include "trackiq/store/store.hpp"

namespace {

constexpr std::size_t kSamples = 1'000'000;

// Log-normal latencies (median 1 ms, sigma 0.3); the current side 3 % slower.
trackiq::Result make_run(double median_ns, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> dist(std::log(median_ns), 0.3);
  trackiq::Result r;
  r.tool_version = "bench";
  r.run_id = trackiq::new_run_id();
  r.started_at = r.finished_at = "2026-11-23T00:00:00.000Z";
  r.environment.hardware_fingerprint = "0123456789abcdef";
  r.labels.product = "bench";
  r.workload.backend = "synthetic";
  r.workload.model = "bench";
  r.scenario.name = "single-stream";
  trackiq::LatencyData l;
  l.samples_ns.resize(kSamples);
  for (auto& x : l.samples_ns) {
    x = static_cast<std::int64_t>(dist(rng));
    l.histogram.record(x);
  }
  l.summary_ns = trackiq::summarize(l.samples_ns);
  auto pct = [&](double p) {
    for (const auto& q : l.summary_ns.percentiles)
      if (q.p == p) return q.value / 1e6;
    return std::nan("");
  };
  r.metrics = {{"latency_mean_ms", l.summary_ns.mean / 1e6}, {"latency_p50_ms", pct(50)}, {"latency_p99_ms", pct(99)}};
  r.latency = std::move(l);
  return r;
}

const trackiq::Result& base() {
  static const trackiq::Result r = make_run(1e6, 1);
  return r;
}
const trackiq::Result& current() {
  static const trackiq::Result r = make_run(1.03e6, 2);
  return r;
}

void BM_Compare1Mvs1M(benchmark::State& state) {
  for (auto _ : state) {
    auto c = trackiq::analysis::compare_results(base(), current());
    benchmark::DoNotOptimize(c.verdict);
  }
}
BENCHMARK(BM_Compare1Mvs1M)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

void BM_MannWhitney1Mvs1M(benchmark::State& state) {
  for (auto _ : state) {
    auto mw = trackiq::analysis::mann_whitney_u(current().latency->samples_ns, base().latency->samples_ns);
    benchmark::DoNotOptimize(mw.p_value);
  }
}
BENCHMARK(BM_MannWhitney1Mvs1M)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// B resamples of the median and p99 differences (the peer runs numpy with the same B).
void BM_Bootstrap1Mvs1M(benchmark::State& state) {
  trackiq::analysis::BootstrapOptions o;
  o.resamples = static_cast<std::uint32_t>(state.range(0));
  for (auto _ : state) {
    auto bs = trackiq::analysis::bootstrap_percentile_differences(base().latency->samples_ns,
                                                                  current().latency->samples_ns, o);
    benchmark::DoNotOptimize(bs.differences.data());
  }
}
BENCHMARK(BM_Bootstrap1Mvs1M)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

std::string store_location(const std::string& backend) {
  if (backend == "postgresql") {
    const char* url = std::getenv("TRACKIQ_BENCH_POSTGRES");
    return url ? url : "";
  }
  static const std::string path = (std::filesystem::temp_directory_path() / ("trackiq_store_bench_" + trackiq::new_run_id() + ".db")).string();
  return path;
}

// The store for `backend`, or null (the benchmark then reports why it skipped).
std::unique_ptr<trackiq::store::Store> bench_store(benchmark::State& state, const std::string& backend) {
  const std::string where = store_location(backend);
  if (where.empty()) {
    state.SkipWithError("TRACKIQ_BENCH_POSTGRES is not set (bench/store_compare_bench.sh sets it)");
    return nullptr;
  }
  return trackiq::store::open_store(where);
}

void BM_SaveRun1M(benchmark::State& state, const std::string& backend) {
  auto st = bench_store(state, backend);
  if (!st) return;
  trackiq::Result r = base();
  for (auto _ : state) {
    state.PauseTiming();
    r.run_id = trackiq::new_run_id();
    state.ResumeTiming();
    st->save(r);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kSamples));
}
BENCHMARK_CAPTURE(BM_SaveRun1M, sqlite, std::string("sqlite"))->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK_CAPTURE(BM_SaveRun1M, postgresql, std::string("postgresql"))->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

void BM_LoadRun1M(benchmark::State& state, const std::string& backend) {
  auto st = bench_store(state, backend);
  if (!st) return;
  trackiq::Result r = base();
  r.run_id = trackiq::new_run_id();
  st->save(r);
  for (auto _ : state) {
    auto back = st->load(r.run_id);
    benchmark::DoNotOptimize(back.latency->samples_ns.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kSamples));
}
BENCHMARK_CAPTURE(BM_LoadRun1M, sqlite, std::string("sqlite"))->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK_CAPTURE(BM_LoadRun1M, postgresql, std::string("postgresql"))->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

void write_samples(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  for (const auto& [name, run] : {std::pair{"base", &base()}, std::pair{"cur", &current()}}) {
    std::ofstream bin(dir / (std::string(name) + ".i64"), std::ios::binary);
    for (const std::int64_t v : run->latency->samples_ns) {
      unsigned char le[8];
      for (int b = 0; b < 8; ++b) le[b] = static_cast<unsigned char>((static_cast<std::uint64_t>(v) >> (8 * b)) & 0xff);
      bin.write(reinterpret_cast<const char*>(le), 8);
    }
    trackiq::write_file_atomic((dir / (std::string(name) + ".json")).string(), trackiq::to_json(*run));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--write-samples") == 0) {
    write_samples(argv[2]);
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove(store_location("sqlite"));
  std::filesystem::remove(store_location("sqlite") + "-wal");
  std::filesystem::remove(store_location("sqlite") + "-shm");
  return 0;
}
