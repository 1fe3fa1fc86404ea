// tegrastats ingestion (SPEC §4: >= 100 MB/s). The real logs and one-line variants of
// ../shared/testdata/tegrastats/ are concatenated in memory to ~50 MB (noise lines included: the
// TX2 capture's two shell-prompt lines are skipped through the InputError path, as in real use),
// then parsed line by line. Bytes/s counts every byte of the text, newlines included.
//
// The testdata folder is found beside the source tree (from __FILE__) or at $TRACKIQ_TESTDATA.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "trackiq/telemetry/tegrastats.hpp"

namespace {

namespace fs = std::filesystem;
using trackiq::telemetry::TegrastatsLogReader;
using trackiq::telemetry::TegrastatsSample;

constexpr std::size_t kTargetBytes = 50u << 20;

fs::path testdata_dir() {
  if (const char* env = std::getenv("TRACKIQ_TESTDATA")) return fs::path(env) / "tegrastats";
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "shared" / "testdata" / "tegrastats";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One copy of every log plus the `line` column of single_line_variants.tsv; empty if missing.
std::string one_copy() {
  const fs::path dir = testdata_dir();
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::string text;
  for (const auto& f : files) {
    std::string body = slurp(f);
    if (f.extension() == ".log") {
      text += body;
      if (!body.empty() && body.back() != '\n') text += '\n';
    } else if (f.extension() == ".tsv") {
      std::istringstream rows(body);
      std::string row;
      std::getline(rows, row);  // header
      while (std::getline(rows, row)) text += row.substr(row.rfind('\t') + 1) + "\n";
    }
  }
  return text;
}

const std::string& big_log() {
  static const std::string text = [] {
    const std::string one = one_copy();
    std::string all;
    if (one.empty()) return all;
    all.reserve(kTargetBytes + one.size());
    while (all.size() < kTargetBytes) all += one;
    return all;
  }();
  return text;
}

// The streaming reader with one reused sample: the path a log import takes.
void BM_TegrastatsLogReader(benchmark::State& state) {
  const std::string& text = big_log();
  if (text.empty()) {
    state.SkipWithError(("no testdata at " + testdata_dir().string()).c_str());
    return;
  }
  std::uint64_t lines = 0, skipped = 0;
  for (auto _ : state) {
    TegrastatsLogReader reader(text, "bench");
    TegrastatsSample s;
    lines = 0;
    while (reader.next(s)) ++lines;
    skipped = reader.skipped_lines();
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(lines));
  state.counters["MB"] = static_cast<double>(text.size()) / 1e6;
  state.counters["lines"] = static_cast<double>(lines);
  state.counters["skipped"] = static_cast<double>(skipped);
}
BENCHMARK(BM_TegrastatsLogReader)->Unit(benchmark::kMillisecond);

// parse_tegrastats_line returning a fresh sample per line (allocates its vectors each time).
void BM_ParseTegrastatsLineFresh(benchmark::State& state) {
  const std::string one = one_copy();
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos < one.size();) {
    const std::size_t nl = std::min(one.find('\n', pos), one.size());
    const std::string_view line(one.data() + pos, nl - pos);
    if (line.find("RAM ") != std::string_view::npos) lines.push_back(line);
    pos = nl + 1;
  }
  if (lines.empty()) {
    state.SkipWithError("no testdata");
    return;
  }
  std::int64_t bytes = 0;
  for (const auto l : lines) bytes += static_cast<std::int64_t>(l.size() + 1);
  for (auto _ : state) {
    for (const auto l : lines) {
      auto s = trackiq::telemetry::parse_tegrastats_line(l);
      benchmark::DoNotOptimize(s);
    }
  }
  state.SetBytesProcessed(state.iterations() * bytes);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(lines.size()));
}
BENCHMARK(BM_ParseTegrastatsLineFresh);

}  // namespace
