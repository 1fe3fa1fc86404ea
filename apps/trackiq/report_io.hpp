#pragma once
// Shared by `compare` and `report`: naming a run on the command line, and writing a report.
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "trackiq/core/result.hpp"
#include "trackiq/report/report.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::cli {

// A run named on the command line: a result JSON file, a stored run id (or prefix), or a
// baseline name (for `hardware`, or the only hardware it has). `st` may be null when only files
// are given.
Result resolve_run(const std::string& what, store::Store* st, const std::string& hardware);

// Whether `what` needs the store (it is not an existing file).
bool needs_store(const std::string& what);
// InputError "<what>: no such file ..." when `what` is a path (a '/' or .json) to no file: checked
// for every argument before any is read, so that the message names the file that is missing.
void check_named_file(const std::string& what);

// group:NAME names every stored run labelled group=NAME (`trackiq run --repeat N --group NAME`).
inline constexpr std::string_view kGroupPrefix = "group:";
bool is_group(const std::string& what);
// The group's runs, oldest first; a sharded load group (`load --shard K/N`) stands for its newest
// merged run, and unmerged shards are refused. No run → InputError.
std::vector<Result> load_group(store::Store& st, const std::string& what);
// Every result of a result file: one, or a sweep's array. Unreadable or bad → InputError.
std::vector<Result> read_results(const std::string& path);

// The report formats: "html", "pdf", "md", "junit", "json", "csv". `format` empty → from the
// extension of `path` (.html, .pdf, .md, .xml, .json, .csv). A PDF needs a file and Chromium:
// both are checked here, so a long run is not wasted on a report that cannot be written.
std::string report_format(const std::string& format, const std::string& path);

// --llm URL --model NAME --llm-timeout DURATION, shared by `report` and `compare --report`.
struct LlmFlags {
  std::string url, model, timeout = "60s";
  void add_to(CLI::App& sub);
};

// When --llm is given, asks the model for a narrative and attaches it to `in` (a failure is
// attached too, and said on stderr: the rule-based report is written either way).
void add_narrative(report::ReportInput& in, const LlmFlags& llm);

// --theme light|dark for the HTML and PDF reports.
void add_theme_option(CLI::App& sub, std::string& theme);

// "out/report.html" → "out/report_data.json" (suffix ".json") or "out/report_data.csv".
std::string data_file_path(const std::string& report_path, std::string_view suffix);

// `text` to stdout when `path` is "" or "-", else atomically to the file `path`.
void write_output(const std::string& path, const std::string& text);

// Renders `in` and writes it atomically to `path` ("" or "-" = stdout). An HTML report also
// writes its data beside it (data_file_path); a PDF is the HTML printed by headless Chromium.
void write_report(const report::ReportInput& in, const std::string& format, const std::string& path,
                  const std::string& theme = "light");

}  // namespace trackiq::cli
