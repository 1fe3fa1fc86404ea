#pragma once
// Shared by `compare` and `report`: naming a run on the command line, and writing a report.
#include <string>

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

// The report formats: "md", "junit", "json", "csv" ("html" and "pdf" are refused as not built
// yet). `format` empty → from the extension of `path` (.md, .xml, .json, .csv).
std::string report_format(const std::string& format, const std::string& path);

// --llm URL --model NAME --llm-timeout DURATION, shared by `report` and `compare --report`.
struct LlmFlags {
  std::string url, model, timeout = "60s";
  void add_to(CLI::App& sub);
};

// When --llm is given, asks the model for a narrative and attaches it to `in` (a failure is
// attached too, and said on stderr: the rule-based report is written either way).
void add_narrative(report::ReportInput& in, const LlmFlags& llm);

// Renders `in` and writes it atomically to `path` ("" or "-" = stdout).
void write_report(const report::ReportInput& in, const std::string& format, const std::string& path);

}  // namespace trackiq::cli
