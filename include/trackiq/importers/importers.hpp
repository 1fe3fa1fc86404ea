#pragma once
// Importers (STORE-4, first formats): results of other benchmark tools become TrackIQ runs, so
// history, `compare` and reports treat them like our own. Each benchmark in a file becomes one
// Result; raw samples are kept where the file has them (so `compare` runs its statistics),
// otherwise only the file's summary metrics (and `compare` falls back to thresholds).
//
//   auto runs = trackiq::importers::import_file("bench.json", ImportFormat::kGbench, {});
//   store->save_all(runs);  // one transaction: the whole file or nothing
//
// Errors: InputError "file:line: what", and nothing is returned — a file is imported whole or
// not at all.
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trackiq/core/result.hpp"

namespace trackiq::importers {

enum class ImportFormat {
  kGbench,           // Google Benchmark --benchmark_format=json / --benchmark_out
  kHyperfine,        // hyperfine --export-json
  kPytestBenchmark,  // pytest-benchmark --benchmark-json
  kMlperf,           // MLPerf LoadGen mlperf_log_summary.txt or mlperf_log_detail.txt
  kCsv,              // generic CSV with a column mapping
};

// "gbench", "hyperfine", "pytest-benchmark", "mlperf", "csv"; InputError otherwise.
ImportFormat parse_import_format(std::string_view name);
std::string_view to_string(ImportFormat f) noexcept;

struct ImportOptions {
  std::string product, version;
  std::map<std::string, std::string> labels;  // extra k=v labels for every run
  // CSV: METRIC=COLUMN pairs. `latency_ms`/`latency_us`/`latency_ns`/`latency_s` turn a column
  // into raw latency samples; a registry metric name takes the column's mean.
  std::vector<std::pair<std::string, std::string>> map;
  std::string imported_at;  // UTC timestamp for files that carry no time ("" = now)
};

std::vector<Result> import_text(std::string_view text, const std::string& origin, ImportFormat format,
                                const ImportOptions& options);
std::vector<Result> import_file(const std::string& path, ImportFormat format, const ImportOptions& options);

}  // namespace trackiq::importers
