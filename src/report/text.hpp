#pragma once
// Number and id formatting shared by the report renderers and the executive summary.
#include <cmath>
#include <string>

#include <fmt/format.h>

namespace trackiq::report::text {

// 4 significant digits; "-" for a non-finite value.
inline std::string g(double v) { return std::isfinite(v) ? fmt::format("{:.4g}", v) : std::string("-"); }
// The first 8 characters of a run id, as people quote them.
inline std::string short_id(const std::string& id) { return id.substr(0, 8); }
// A unit after a number: none for dimensionless metrics.
inline std::string unit_suffix(const std::string& unit) { return unit == "1" || unit.empty() ? "" : " " + unit; }

}  // namespace trackiq::report::text
