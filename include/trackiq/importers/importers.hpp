#pragma once
// Importers (STORE-4, first formats): results of other benchmark tools become TrackIQ runs, so
// history, `compare` and reports treat them like our own. Each benchmark in a file becomes one
// Result; raw samples are kept where the file has them (so `compare` runs its statistics),
// otherwise only the file's summary metrics (and `compare` falls back to thresholds).
//
//   auto runs = trackiq::importers::import_file("bench.json", "gbench", {});
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

// The formats, one file each under src/importers/ and one line in its table (formats.cpp).
struct FormatInfo {
  std::string_view name;     // `--format NAME`, and the run's `imported_from` label
  std::string_view summary;  // one line for `trackiq import --help`
};
const std::vector<FormatInfo>& formats();
// Checks a --format name; InputError listing the known names otherwise.
std::string_view parse_import_format(std::string_view name);

// The format a file looks like, from its first 64 KiB and its name; InputError "origin:1: ..."
// when no format recognises it or two do equally well (then --format decides).
std::string_view detect_format(std::string_view text, const std::string& origin);

struct ImportOptions {
  std::string product, version;
  std::map<std::string, std::string> labels;  // extra k=v labels for every run
  // CSV: METRIC=COLUMN pairs. `latency_ms`/`latency_us`/`latency_ns`/`latency_s` turn a column
  // into raw latency samples; a registry metric name takes the column's mean.
  std::vector<std::pair<std::string, std::string>> map;
  std::string imported_at;  // UTC timestamp for files that carry no time ("" = now)
  // nvidia-smi --format=csv,noheader: the --query-gpu field list, which the file does not name.
  std::vector<std::string> columns;
  // The machine the file was made on, instead of what the file says (most files say nothing, and
  // their runs then share the fingerprint of an unknown machine, so two machines' runs would be
  // one series): "" = the file's; "here" = this machine (capture_environment()); any other text
  // names it (hardware fingerprint = a hash of the name, hostname = the name).
  std::string machine;
};

// `format` "" = detect_format. Every run carries the file's content hash in the `import_hash`
// label (FNV-1a 64 of the bytes), so a store can refuse a second import of the same file.
std::vector<Result> import_text(std::string_view text, const std::string& origin, std::string_view format,
                                const ImportOptions& options);
std::vector<Result> import_file(const std::string& path, std::string_view format, const ImportOptions& options);
// The file's bytes (InputError "path: cannot open the file").
std::string read_file(const std::string& path);

}  // namespace trackiq::importers
