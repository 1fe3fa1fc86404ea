#pragma once
// Helpers shared by `trackiq history` and `trackiq detect` (cmd_history.cpp, cmd_detect.cpp).
#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "trackiq/core/error.hpp"
#include "trackiq/core/metric_registry.hpp"
#include "trackiq/core/result.hpp"
#include "trackiq/report/report.hpp"
#include "trackiq/server/history_json.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::cli::history_util {
// The computation and JSON both commands share with `trackiq serve` live in
// trackiq/server/history_json.hpp; these helpers are the CLI's text, CSV, Markdown and XML.
using server::change_kind;

inline std::string g(double v) { return std::isfinite(v) ? fmt::format("{:.4g}", v) : std::string("n/a"); }
inline std::string unit_suffix(std::string_view unit) { return unit == "1" || unit.empty() ? "" : " " + std::string(unit); }
inline std::string short_id(const std::string& id) { return id.substr(0, 8); }
inline std::string short_commit(const std::string& c) { return c.empty() ? "-" : c.substr(0, 10); }
inline std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

inline std::string xml_escape(const std::string& s) { return report::escape_xml(s); }

inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

inline std::string md_cell(const std::string& s) {
  std::string out;
  for (const char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c == '\n' ? ' ' : c);
  return out;
}

inline const MetricDef& registry_metric(const std::string& name) {
  const MetricDef* def = find_metric(name);
  if (!def) throw InputError(fmt::format("unknown metric '{}' ('trackiq metrics' lists them)", name));
  return *def;
}

inline std::string direction_text(const MetricDef& def) {
  switch (def.direction) {
    case Direction::kLowerIsBetter: return "lower is better";
    case Direction::kHigherIsBetter: return "higher is better";
    case Direction::kNeutral: break;
  }
  return "neutral";
}

// The history of each metric over the series of each distinct series key among `runs` (the
// sections of `trackiq report --history`); defined in cmd_history.cpp. Unknown metric → InputError.
std::vector<report::HistorySection> history_sections(const std::vector<Result>& runs,
                                                     const std::vector<std::string>& metrics, store::Store& st);

}  // namespace trackiq::cli::history_util
