#pragma once
// Comparing two results (CMP-1): per metric the change, the direction from the registry, a
// threshold, a significance test on the latency values (the exact samples when both results
// kept them, else both histograms' bucket midpoints: Mann–Whitney U, and a seeded bootstrap CI
// of the median and p99 differences), severity, confidence and a verdict.
//
//   Verdict per metric: PASS (no worse than its threshold, or better), WARN (worse beyond the
//   threshold but not significant, or significantly worse within it), BLOCK (worse beyond the
//   threshold and significant; without samples, beyond the threshold). A threshold exactly
//   reached is not a regression (in decimal terms: floating-point slack of 1e-9 relative). A
//   metric the registry marks Gate::kInformOnly (spread, extremes, the load client's own cost)
//   is at most WARN. NaN on either side is "not comparable" (WARN; PASS when both are NaN). From
//   a zero baseline the absolute change decides (MetricDef::zero_baseline_limit, else WARN). Of
//   two metrics with the same values on both sides (MetricDef::same_as) only one is judged.
//   The comparison's verdict is the worst of its metrics.
//   Tests: Mann–Whitney U for location metrics (mean, p50/p90/p95, throughput), the bootstrap
//   CI for p99; extremes and spread (min, max, p99.9, std, cv) are not tested and at most WARN.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
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
  bool tested = false;   // a significance test on raw samples applies to this metric
  std::optional<double> p_value;
  std::optional<PercentileDifference> ci;  // bootstrap CI of the matching percentile, when one applies
  bool significant = false;
  std::string confidence = "low";  // "high", "medium", "low"
  Verdict verdict = Verdict::kPass;
  std::string reason;
};

struct Comparison {
  std::string baseline_run, current_run;
  bool same_hardware = true;
  bool samples_used = false;  // latency values on both sides to test with (samples_source says which)
  std::string samples_source;  // "exact samples", "histogram (3 significant digits)", or "" (none)
  std::optional<MannWhitneyResult> mann_whitney;
  std::optional<BootstrapResult> bootstrap;
  std::vector<MetricComparison> metrics;
  Verdict verdict = Verdict::kPass;
  std::vector<std::string> notes;
};

Comparison compare_results(const Result& baseline, const Result& current, const CompareOptions& options = {});

// The relative change with its sign and `decimals` decimals ("+5.0"), or "n/a" when it is
// undefined (NaN on a side, or a zero baseline). Callers add the unit.
std::string change_text(const MetricComparison& m, int decimals);

std::string render_comparison_table(const Comparison& c);
std::string comparison_json(const Comparison& c);

}  // namespace trackiq::analysis
