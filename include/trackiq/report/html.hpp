#pragma once
// The self-contained HTML report (REP-2) and its PDF print (REP-3).
//
// The page is one file: the page data (JSON, docs/report-html.md), the charting library and the
// report's own script and style, all inlined — it opens with the network off. The data is
// reduced here (min/max-preserving downsampling, histogram bins, CDF points, box-plot
// quartiles, order-statistic error bars); the page only draws it.
//
//   trackiq::report::HtmlOptions o{.theme = "dark"};
//   const trackiq::report::HtmlReport h = trackiq::report::render_html(in, o);
//   write(h.html); write(h.data_json); write(h.data_csv);
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "trackiq/report/report.hpp"

namespace trackiq::report {

struct HtmlOptions {
  std::string theme = "light";  // "light" or "dark": the page's initial theme
};

struct HtmlReport {
  std::string html;       // the page
  std::string data_json;  // the page data, also written beside the page as NAME_data.json
  std::string data_csv;   // the chart series in long form: run_id,chart,series,x,y
};

// Throws InputError on an unknown theme.
HtmlReport render_html(const ReportInput& in, const HtmlOptions& options = {});

// Min/max downsampling of a series (t_ns ascending is not required): the time range is cut into
// at most `max_buckets` equal buckets; each non-empty bucket gives its centre time and the
// minimum and maximum value in it (NaN values are skipped). Every extreme of the series is kept:
// the global minimum and maximum are some bucket's minimum and maximum.
struct MinMaxSeries {
  std::vector<std::int64_t> t_ns;  // bucket centres
  std::vector<double> min, max;
};
MinMaxSeries downsample_min_max(std::span<const std::int64_t> t_ns, std::span<const double> values,
                                std::size_t max_buckets);

// Prints `html` to `pdf_path` with headless Chromium (--print-to-pdf), atomically. The browser
// is $TRACKIQ_CHROMIUM, else the first of chromium, chromium-browser, google-chrome on PATH.
// Throws NotAvailableError when there is none, Error when printing fails (with its stderr).
void print_pdf(const std::string& html, const std::string& pdf_path, int timeout_ms = 120'000);

// The browser print_pdf would use, or "" when none is found.
std::string find_chromium();
// Same, but throws NotAvailableError saying what is missing when there is none.
std::string require_chromium();

}  // namespace trackiq::report
