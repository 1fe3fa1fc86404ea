#pragma once
// Shared by `compare` and `report`: naming a run on the command line, and writing a report.
#include <string>

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

// Renders `in` and writes it atomically to `path` ("" or "-" = stdout).
void write_report(const report::ReportInput& in, const std::string& format, const std::string& path);

}  // namespace trackiq::cli
