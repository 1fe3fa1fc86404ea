#pragma once
// Number and id formatting shared by the report renderers and the executive summary.
#include <cmath>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/report/report.hpp"

namespace trackiq::report::text {

// 4 significant digits; "-" for a non-finite value.
inline std::string g(double v) { return std::isfinite(v) ? fmt::format("{:.4g}", v) : std::string("-"); }
// The first 8 characters of a run id, as people quote them.
inline std::string short_id(const std::string& id) { return id.substr(0, 8); }
// A unit after a number: none for dimensionless metrics.
inline std::string unit_suffix(const std::string& unit) { return unit == "1" || unit.empty() ? "" : " " + unit; }

// The JSON report's document (render_json dumps it; the HTML page data extends it).
nlohmann::ordered_json report_json(const ReportInput& in);

// XML (and HTML) text and attribute escaping; control characters XML 1.0 forbids become spaces.
inline std::string xml_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') out += ' ';
        else out += c;
    }
  }
  return out;
}

// An RFC 4180 CSV field: quoted when it holds a comma, quote or line break.
inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace trackiq::report::text
