#pragma once
// The history of one stored series and the changes over the whole store (CMP-4, CMP-6), computed
// and written as JSON in one place for both readers: `trackiq history --json` and GET
// /api/v1/history give the same document, `trackiq detect --json` and GET /api/v1/changes the same
// one (less detect's `store` and `computation`, which only the CLI writes). It lives in `server`
// because it needs both `store` (the series) and `analysis` (the detector), and `server` is the
// module that uses both; the CLI links it.
//
//   const auto h = server::series_change_points(series);            // history's detector
//   std::string doc = server::history_json(series, def, h);
//
//   const auto all = store.series(server::key_metrics_filter(), "");
//   const auto since = server::parse_since("2026-11-01", "--since '2026-11-01'", started_at_of_run);
//   const auto c = server::store_changes(all, 0.05, since);            // every series in full
//   std::string doc2 = server::changes_json(c);
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trackiq/analysis/changepoint.hpp"
#include "trackiq/analysis/history.hpp"
#include "trackiq/core/metric_registry.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::server {

// "regression", "improvement" or "change" (a neutral metric, or no change), from the registry's
// direction.
std::string change_kind(const MetricDef& def, double before, double after);

// The mean of the segment each point belongs to.
std::vector<double> segment_means(std::span<const double> values, const analysis::ChangePointResult& r);

// --- one series: `trackiq history`, GET /api/v1/history ---

struct SeriesChangePoints {
  std::vector<double> values;  // the series' values, in the order of its points
  analysis::ChangePointOptions options;
  analysis::ChangePointResult result;
  std::vector<double> segment_means;  // one per value
};

// The change points of one series by `detect_change_points` with `options` (history's defaults).
SeriesChangePoints series_change_points(const store::MetricSeries& s, const analysis::ChangePointOptions& options = {});

// The document of `trackiq history --json`: metric, unit, better, series, order, n, points (run,
// index, value, segment_mean), change_points, not_tested (when set), detector. `def` is the
// registry's entry of s.metric. With `not_in_commit_order` (the points are in commit order), order
// is "commit" and those runs are listed; without it, order is "time". Indented by 2, ends in a
// newline; invalid UTF-8 in a stored string is replaced, not thrown on.
std::string history_json(const store::MetricSeries& s, const MetricDef& def, const SeriesChangePoints& h,
                         const std::vector<store::SeriesPoint>* not_in_commit_order = nullptr);

// --- every series: `trackiq detect`, GET /api/v1/changes ---

// The metrics `detect` tests: those that can block a comparison (not neutral, not inform-only).
bool is_detect_metric(const MetricDef& def);
// A filter that reads only those metrics.
store::SeriesFilter key_metrics_filter();

// Where --since / since= puts the line: a change is new when its first run started at or after
// `from` (a date), or after `from` (a run's own start). An empty `text` makes every change new.
struct Since {
  std::string text;  // as given
  std::string from;
  bool inclusive = true;
  bool is_new(const std::string& started_at) const;
};

// A UTC time YYYY-MM-DD[(T| )HH:MM[:SS[.f]]][Z], checked (a real calendar day, hour < 24,
// minute < 60, second <= 60) and written as the prefix of the store's started_at form, which
// compares as text: "2026-11-01", "2026-11-01T10:00:05". Bad input → InputError
// "<what>: not a valid date" (the day does not exist) or "<what>: expected a date …".
std::string parse_utc_time(const std::string& text, std::string_view what);

// A date (YYYY-MM-DD[THH:MM[:SS[.f]]][Z], UTC) or a run id (its start by `started_at_of_run`).
// Bad input → InputError "<what>: not a valid date" or "<what>: expected a date … or a run id";
// `what` names the value as the caller's user wrote it ("--since 'x'", "since=x").
Since parse_since(const std::string& text, std::string_view what,
                  const std::function<std::string(const std::string&)>& started_at_of_run);

constexpr std::size_t kRunsAround = 3;  // runs listed on each side of a change

struct TestedSeries {
  const store::MetricSeries* series = nullptr;
  const MetricDef* def = nullptr;
  analysis::ChangePointResult result;
  double p = 1;  // the series' smallest change-point p-value (1 when none)
};

struct StoreChange {
  const TestedSeries* tested = nullptr;
  analysis::ChangePoint cp;
  std::string kind;  // change_kind()
  bool is_new = false;
  const store::SeriesPoint& first() const { return tested->series->points[cp.index]; }
};

// The changes over the store. Points into the series it was computed from (keep them alive)
// and into its own `tested` (moving the whole keeps them valid).
struct StoreChanges {
  double fdr = 0.05;
  Since since;
  analysis::ChangePointOptions options;  // the detector's (alpha = fdr)
  std::vector<TestedSeries> tested;      // series of at least 2 * min_segment points
  std::size_t too_short = 0;             // series with fewer, not tested
  analysis::BhResult bh;
  std::vector<StoreChange> changes;  // p <= bh.threshold, newest first run first
  std::size_t new_regressions = 0;
};

// How one series' change points are found: (series, its values, options) → result. detect's
// incremental path passes its own (kept state); the default is a full computation.
using SeriesDetector = std::function<analysis::ChangePointResult(
    const store::MetricSeries&, std::span<const double>, const analysis::ChangePointOptions&)>;

// Every series of `all` whose metric is a detect metric: the detector at alpha = fdr, then
// Benjamini-Hochberg at level fdr across the series' tests (docs/metrics.md, "Change points over
// the store"). `detect` is called once per such series, in order, short ones included.
StoreChanges store_changes(const std::vector<store::MetricSeries>& all, double fdr, Since since,
                           const SeriesDetector& detect = {});

// What `trackiq detect` says of its incremental computation (the document's `computation`).
struct DetectComputation {
  std::size_t full = 0, window = 0, unchanged = 0;
};

// The document of `trackiq detect --json`: fdr, tests, threshold, series, too_short, since,
// new_regressions, changes (newest first, each with its first run and the kRunsAround runs on
// each side). `store_location`, when not empty, comes first as `store`; `computation`, when
// given, last. Indented by 2, ends in a newline; invalid UTF-8 is replaced.
std::string changes_json(const StoreChanges& c, std::string_view store_location = {},
                         const DetectComputation* computation = nullptr);

}  // namespace trackiq::server
