#pragma once
// The front-end files the HTML report inlines, embedded at build time from web/ (the charting
// library from web/node_modules, pinned by web/package-lock.json; the report's own script and
// style from web/src) by cmake/EmbedAssets.cmake.
#include <string_view>

namespace trackiq::report::assets {
extern const std::string_view kChartLib;   // the charting library's browser build
extern const std::string_view kChartCss;   // its style sheet ("" when it has none)
extern const std::string_view kCommonJs;   // web/src/common.js (shared with the dashboard)
extern const std::string_view kReportJs;   // web/src/report.js
extern const std::string_view kReportCss;  // web/src/report.css
}  // namespace trackiq::report::assets
