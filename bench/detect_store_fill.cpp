// Fills a SQLite store for timing `trackiq detect` end to end (bench/detect_store.sh): KEYS
// series keys (products) × RUNS runs, each run holding the key metrics latency_mean/p50/p90/p95/
// p99_ms and throughput_samples_per_s (6 series per key), N(10, 0.2) noise; one key in ten has a
// +20 % step in its latency at run RUNS/2. With --append it adds one run to every key instead.
//   detect_store_fill STORE KEYS RUNS [--append]
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trackiq/core/result.hpp"
#include "trackiq/store/store.hpp"

namespace {

trackiq::Result make(int key, int run, int runs, std::mt19937_64& rng) {
  std::normal_distribution<double> z(0, 0.02);
  trackiq::Result r;
  r.tool_version = "bench";
  r.run_id = trackiq::new_run_id();
  // One minute apart, from 2026-01-01: run i at minute i.
  r.started_at = r.finished_at = fmt::format("2026-01-{:02d}T{:02d}:{:02d}:00.000Z", 1 + run / 1440, run / 60 % 24, run % 60);
  r.environment.hostname = "bench";
  r.environment.hardware_fingerprint = "0123456789abcdef";
  r.labels.product = fmt::format("product-{:04d}", key);
  r.labels.version = fmt::format("1.{}", run);
  r.labels.commit = fmt::format("{:040x}", static_cast<unsigned long long>(key) * 1000003ULL + static_cast<unsigned>(run));
  r.workload.backend = "synthetic";
  r.workload.model = "synthetic";
  const double step = key % 10 == 0 && run >= runs / 2 ? 1.2 : 1.0;
  for (const char* m : {"latency_mean_ms", "latency_p50_ms", "latency_p90_ms", "latency_p95_ms", "latency_p99_ms"})
    r.metrics.push_back({m, 10 * step * (1 + z(rng))});
  r.metrics.push_back({"throughput_samples_per_s", 100 * (1 + z(rng)), trackiq::ValueKind::kDerived});
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s STORE KEYS RUNS [--append]\n", argv[0]);
    return 2;
  }
  const int keys = std::atoi(argv[2]), runs = std::atoi(argv[3]);
  const bool append = argc > 4 && std::string(argv[4]) == "--append";
  auto st = trackiq::store::open_store(argv[1]);
  std::mt19937_64 rng(append ? 2 : 1);
  std::vector<trackiq::Result> batch;
  for (int k = 0; k < keys; ++k) {
    if (append) {
      batch.push_back(make(k, runs, runs, rng));
    } else {
      for (int i = 0; i < runs; ++i) batch.push_back(make(k, i, runs, rng));
      st->save_all(batch);
      batch.clear();
    }
  }
  if (!batch.empty()) st->save_all(batch);
  return 0;
}
