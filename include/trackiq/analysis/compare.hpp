#pragma once
// Comparing two results (CMP-1, CMP-6): per metric the change, the direction from the registry,
// a threshold, a test of that statistic on the per-request data, severity, confidence and a
// verdict. docs/metrics.md ("Comparison rules") is the reference; in short:
//
//   Data: the exact latency samples when both results kept them, else both lossless histograms
//   (bucket midpoints, 3 significant digits); a load run's TTFT/TPOT/ITL/E2EL from its
//   `distributions`. The same data gives the same verdict whichever path it came by.
//   Tests, each of the statistic it judges: the mean by Welch's t-test (CI of the difference of
//   means); the median by Mann–Whitney U with the bootstrap CI of the median difference; p90,
//   p95, p99, p99.9 by the bootstrap CI of the percentile difference, only with >= 10 values
//   beyond the percentile on each side; throughput of a closed loop by the mean latency's test
//   (workers / mean latency); the tail share (requests beyond the baseline's maximum, or its
//   p99.9 from 1,000 values on, plus the p99 threshold) by Fisher's exact test. Benjamini–Hochberg across the tests of
//   a comparison (q <= alpha). A test counts only when its CI lies wholly on the bad side.
//   Spread, extremes and the client's own cost are never tested and never block.
//   Run-to-run noise: with several runs a side (groups, or the stored history of the
//   baseline's series) a BLOCK must also exceed the between-run noise band of that metric.
//
//   Verdict per metric: PASS (no worse than its threshold, or better), WARN (worse beyond the
//   threshold but not significant or within the noise, or significantly worse within it), BLOCK
//   (worse beyond the threshold, significant, and beyond the noise band when one is known;
//   without data to test, beyond the threshold). A threshold exactly reached is not a
//   regression (floating-point slack 1e-9 relative). Gate::kInformOnly caps at WARN. NaN on
//   either side is "not comparable". From a zero baseline the absolute change decides
//   (MetricDef::zero_baseline_limit). Of two metrics with the same values on both sides
//   (MetricDef::same_as) only one is judged. The comparison's verdict is the worst of its metrics.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "trackiq/analysis/compare_stats.hpp"
#include "trackiq/core/metric_registry.hpp"
#include "trackiq/core/result.hpp"

namespace trackiq::analysis {

enum class Verdict { kPass, kWarn, kBlock };
std::string_view to_string(Verdict v) noexcept;  // "PASS", "WARN", "BLOCK"

struct CompareOptions {
  // Per-metric thresholds in % (override everything else).
  std::map<std::string, double> thresholds_pct;
  double latency_pct = 5;     // latency_* other than the tail percentiles
  double p99_pct = 10;        // latency_p99_ms and latency_p99_9_ms
  double throughput_pct = 5;  // throughput_*
  double other_pct = 5;       // everything else with a direction
  double alpha = 0.05;        // significance level
  // A statistically significant change smaller than this (in %) is not treated as a
  // regression: with thousands of samples, tests detect shifts nobody should act on.
  double min_effect_pct = 1.0;
  std::uint64_t seed = 42;    // bootstrap seed (logged in the output)
  std::uint32_t resamples = 1000;
  // The tail-share rule: the share of current requests beyond the baseline's high cut may rise
  // by at most this many percentage points.
  double tail_share_pp = 0.5;
  // Values beyond a tail percentile, per side, below which its bootstrap interval is not trusted.
  std::uint64_t min_tail_samples = 10;
  // Curve regression (CMP-5): the fewest adjacent sweep points a sustained degradation spans.
  std::size_t curve_window = 2;
};

// Several runs that stand for each side, for the between-run noise band (CMP-6): a group of
// repeated runs, or the stored history of the baseline's series (same product and version,
// hardware, workload and scenario). Each side includes the compared run itself.
struct NoiseRuns {
  std::vector<Result> baseline;
  std::vector<Result> current;
  std::string source;  // in words, e.g. "the history of the baseline's series: 6 runs"
};

struct MetricComparison {
  std::string name;
  std::string unit;
  Direction direction = Direction::kNeutral;
  double baseline = 0;
  double current = 0;
  double change_pct = 0;      // (current − baseline) / |baseline| × 100; NaN from a zero baseline or a NaN
  double regression_pct = 0;  // change in the bad direction (negative: an improvement)
  double threshold_pct = 0;
  Gate gate = Gate::kCanBlock;  // from the registry: kInformOnly caps the verdict at WARN
  bool comparable = true;       // false when either value is NaN (change_pct is then NaN)
  // Worse than the threshold allows (for a zero baseline: risen beyond its absolute limit, or at
  // all when the registry gives none). False when not comparable.
  bool beyond_threshold = false;
  std::string severity = "none";  // "none", "moderate" (>= threshold), "severe" (>= 50 %), "critical" (>= 100 %)
  // The change is in percentage points, the threshold too (the tail share); else relative %.
  bool points = false;
  bool tested = false;   // a test of this statistic ran on per-request data (`test`, on `data`)
  std::string test;      // "Welch t-test of the mean", "bootstrap CI of p99", ...; "" when none
  std::string data;      // "exact samples", "histogram (3 significant digits)"; "" when none
  std::optional<double> p_value;  // the test's own p-value
  std::optional<double> q_value;  // Benjamini–Hochberg adjusted across the comparison's tests
  // CI of current − baseline of the tested statistic, in the metric's unit (for a throughput
  // judged through the mean latency: of the mean latency, ms).
  std::optional<double> ci_low, ci_high;
  bool significant = false;  // q <= alpha, the CI wholly on the bad side, at least min_effect_pct
  // Between-run noise (NoiseRuns): the band's half-width in % of the baseline (in percentage
  // points when `points`: the tail share) and whether the change exceeds it in the bad direction.
  // Unset without enough runs.
  std::optional<double> noise_pct;
  bool beyond_noise = true;
  std::string confidence = "low";  // "high", "medium", "low"
  Verdict verdict = Verdict::kPass;
  std::string reason;
};

struct Comparison {
  std::string baseline_run, current_run;
  bool same_hardware = true;
  bool samples_used = false;  // latency values on both sides to test with (samples_source says which)
  std::string samples_source;  // "exact samples", "histogram (3 significant digits)", or "" (none)
  std::uint64_t n_baseline = 0, n_current = 0;  // latency values per side
  std::size_t tests = 0;       // distinct tests that entered Benjamini–Hochberg
  double fdr_level = 0.05;     // the level they were held to
  std::uint32_t resamples = 0;  // bootstrap resamples and seed, when a bootstrap ran
  std::uint64_t seed = 0;
  std::string noise_source;  // NoiseRuns::source when a noise band was used, else ""
  std::vector<MetricComparison> metrics;
  Verdict verdict = Verdict::kPass;
  std::vector<std::string> notes;
};

Comparison compare_results(const Result& baseline, const Result& current, const CompareOptions& options = {},
                           const NoiseRuns* noise = nullptr);

// Several comparisons at once (a sweep's points, baseline and current paired): each judged as by
// compare_results, but Benjamini–Hochberg runs over the tests of all of them together, so the
// false-discovery rate holds across the whole set (CMP-6). No noise runs.
std::vector<Comparison> compare_many(const std::vector<std::pair<Result, Result>>& pairs, const CompareOptions& options = {});

// Curve regression (CMP-5): two sweeps along one load axis (`load --concurrency 1,2,4,8`,
// `--rate`, a batch-size sweep), compared point by point by compare_many, read as curves. A
// finding is a window of at least `curve_window` adjacent axis points where one metric is worse
// than its threshold at every point; its evidence is Fisher's combination of the points' own
// tests (one-sided, the points are independent runs), and Benjamini–Hochberg runs over every
// window found. "p99_ttft_ms worse by 18–25 % from rate 8 to 16".
struct CurveFinding {
  std::string metric, unit;
  std::size_t first = 0, last = 0;  // positions in CurveComparison::points (ordered by the axis)
  double from = 0, to = 0;          // axis values at first and last (positions when not numeric)
  double min_regression = 0, max_regression = 0;  // in % (percentage points for the tail share)
  bool points_unit = false;                       // the change is in percentage points
  bool tested = false;                            // every point had a test to combine
  std::optional<double> p_value, q_value;         // Fisher's combination; BH across findings
  bool significant = false;
  std::string severity = "none";  // of the smallest change in the window: the sustained level
  std::string confidence = "low";
  Verdict verdict = Verdict::kWarn;
  std::string reason;
};

struct CurveComparison {
  std::string axis;                 // "concurrency", "rate", "batch", or "point" when not numeric
  std::vector<std::string> points;  // the sweep points' labels, in axis order
  std::vector<std::size_t> order;   // points[i] is comparison order[i] of the input
  std::size_t tests = 0;            // windows that entered Benjamini–Hochberg
  double fdr_level = 0.05;
  std::vector<CurveFinding> findings;
  Verdict verdict = Verdict::kPass;
  std::vector<std::string> notes;
};

// `labels[i]` is comparison i's sweep point ("concurrency=4", "rate=8.5", "batch=16"); points
// with one axis name and numeric values are ordered by value, others keep their order.
CurveComparison compare_curves(const std::vector<Comparison>& points, const std::vector<std::string>& labels,
                               const CompareOptions& options = {});
std::string render_curve_comparison(const CurveComparison& c);
std::string curve_comparison_json(const CurveComparison& c);

// One result standing for a group of runs of one config: each metric the median over the runs
// that have it; latency samples, histograms and distributions pooled. Environment, labels,
// workload and scenario from the first run; `run_id` = `name`. Empty input → InputError.
Result merge_runs(const std::vector<Result>& runs, const std::string& name);

// The change with its sign, `decimals` decimals and unit: "+5.0 %", "+0.9 pp" (percentage
// points), or "n/a" when it is undefined (NaN on a side, or a zero baseline).
std::string change_text(const MetricComparison& m, int decimals);
// The threshold with its unit: "5 %", "0.5 pp".
std::string limit_text(const MetricComparison& m);

// "moderate" from the threshold (>=), "severe" from 50 %, "critical" from 100 %, else "none".
std::string regression_severity(double regression_pct, double threshold);

std::string render_comparison_table(const Comparison& c);
std::string comparison_json(const Comparison& c);

}  // namespace trackiq::analysis
