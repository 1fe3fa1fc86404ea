// The dashboard of `trackiq serve` (SRV-3; api.hpp: dashboard_asset()): one page whose script
// (web/src/dashboard.js) talks to the REST API, with uPlot for its charts and the HTML report's
// style. Everything is embedded at build time (dashboard_assets.cpp, cmake/EmbedAssets.cmake):
// nothing is read from the filesystem, nothing is fetched from the network.
#include <array>

#include "trackiq/server/api.hpp"

namespace trackiq::server {
namespace assets {
extern const std::string_view kChartLib;
extern const std::string_view kChartCss;
extern const std::string_view kReportCss;
extern const std::string_view kCommonJs;
extern const std::string_view kDashboardJs;
extern const std::string_view kDashboardCss;
}  // namespace assets

namespace {

constexpr std::string_view kIndexHtml = R"html(<!DOCTYPE html>
<html lang="en" data-theme="light">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TrackIQ</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/uPlot.min.css">
<link rel="stylesheet" href="/assets/report.css">
<link rel="stylesheet" href="/assets/dashboard.css">
</head>
<body>
<div id="app">
<header class="page-header dash-header">
<div class="header-top">
<div class="brand"><span class="logo">TrackIQ</span><span class="meta">results store</span></div>
<nav class="dash-nav" id="nav">
<a href="#/runs" data-view="runs">Runs</a>
<a href="#/compare" data-view="compare">Compare</a>
<a href="#/history" data-view="history">History</a>
<a href="#/changes" data-view="changes">Changes</a>
<a href="#/baselines" data-view="baselines">Baselines</a>
<a href="#/telemetry" data-view="telemetry">Telemetry</a>
</nav>
<button type="button" class="theme-toggle" id="theme-toggle" aria-label="Toggle dark mode">Dark</button>
</div>
</header>
<main id="view" aria-live="polite"></main>
<noscript>The dashboard needs JavaScript; the API is at /api/v1/openapi.json.</noscript>
</div>
<script src="/assets/uPlot.iife.min.js"></script>
<script src="/assets/common.js"></script>
<script src="/assets/dashboard.js"></script>
</body>
</html>
)html";

struct Entry {
  std::string_view name;
  std::string_view content_type;
  const std::string_view* body;
};

const std::string_view kIndex = kIndexHtml;
const std::array<Entry, 7> kAssets{{
    {"index.html", "text/html; charset=utf-8", &kIndex},
    {"uPlot.iife.min.js", "text/javascript; charset=utf-8", &assets::kChartLib},
    {"uPlot.min.css", "text/css; charset=utf-8", &assets::kChartCss},
    {"report.css", "text/css; charset=utf-8", &assets::kReportCss},
    {"common.js", "text/javascript; charset=utf-8", &assets::kCommonJs},
    {"dashboard.js", "text/javascript; charset=utf-8", &assets::kDashboardJs},
    {"dashboard.css", "text/css; charset=utf-8", &assets::kDashboardCss},
}};

}  // namespace

std::optional<Asset> dashboard_asset(std::string_view name) {
  for (const auto& e : kAssets)
    if (e.name == name) return Asset{e.content_type, *e.body};
  return std::nullopt;
}

}  // namespace trackiq::server
