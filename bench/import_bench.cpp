// Import throughput (SPEC §4: >= 100 MB/s for CSV/JSON ingestion): `import_text` on files held in
// memory, REPS times each, median MB/s. bench/import_vs_python.sh writes the files and runs
// Python's json and csv modules on the same files in the same run (docs/performance.md §11).
//
//   import_bench requests.csv results.json points.jsonl [REPS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "trackiq/core/error.hpp"
#include "trackiq/importers/importers.hpp"

namespace {

double median_mb_s(const std::string& text, const std::string& origin, const char* format,
                   const trackiq::importers::ImportOptions& o, int reps, std::size_t& runs_out) {
  std::vector<double> mb_s;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto runs = trackiq::importers::import_text(text, origin, format, o);
    const auto t1 = std::chrono::steady_clock::now();
    runs_out = runs.front().latency ? runs.front().latency->samples_ns.size() : 0;
    mb_s.push_back(static_cast<double>(text.size()) / 1e6 / std::chrono::duration<double>(t1 - t0).count());
  }
  std::sort(mb_s.begin(), mb_s.end());
  return mb_s[mb_s.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s requests.csv results.json points.jsonl [REPS]\n", argv[0]);
    return 2;
  }
  const int reps = argc > 4 ? std::atoi(argv[4]) : 5;
  try {
    trackiq::importers::ImportOptions csv, json, none;
    csv.map = {{"latency_ms", "duration"}};
    json.map = {{"latency_ms", "$.results[*].latency"}};
    const struct {
      const char* name;
      const char* path;
      const char* format;
      const trackiq::importers::ImportOptions* o;
    } cases[] = {{"csv --map latency_ms=duration", argv[1], "csv", &csv},
                 {"json --map latency_ms='$.results[*].latency'", argv[2], "json", &json},
                 {"k6 --out json points", argv[3], "k6", &none}};
    std::printf("[\n");
    for (std::size_t i = 0; i < std::size(cases); ++i) {
      const std::string text = trackiq::importers::read_file(cases[i].path);
      std::size_t samples = 0;
      const double v = median_mb_s(text, cases[i].path, cases[i].format, *cases[i].o, reps, samples);
      std::printf("  {\"case\": \"%s\", \"bytes\": %zu, \"samples\": %zu, \"median_mb_s\": %.1f}%s\n", cases[i].name, text.size(),
                  samples, v, i + 1 < std::size(cases) ? "," : "");
    }
    std::printf("]\n");
  } catch (const trackiq::Error& e) {
    std::fprintf(stderr, "import_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
