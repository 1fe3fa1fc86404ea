#pragma once
// Comparing two results (CMP-1): per metric the change, the direction from the registry, a
// threshold, a significance test on the raw latency samples (Mann–Whitney U, and a seeded
// bootstrap CI of the median and p99 differences), severity, confidence and a verdict.
//
//   Verdict per metric: PASS (no worse than its threshold, or better), WARN (worse beyond the
//   threshold but not significant, or significantly worse within it), BLOCK (worse beyond the
//   threshold and significant; without samples, beyond the threshold). A threshold exactly
//   reached is not a regression. The comparison's verdict is the worst of its metrics.
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
  double change_pct = 0;      // (current − baseline) / |baseline| × 100
  double regression_pct = 0;  // change in the bad direction (negative: an improvement)
  double threshold_pct = 0;
  std::string severity;  // "none", "moderate" (>= threshold), "severe" (>= 50 %), "critical" (>= 100 %)
  bool tested = false;   // a significance test on raw samples applies to this metric
  std::optional<double> p_value;
  std::optional<PercentileDifference> ci;  // bootstrap CI of the matching percentile, when one applies
  bool significant = false;
  std::string confidence;  // "high", "medium", "low"
  Verdict verdict = Verdict::kPass;
  std::string reason;
};

struct Comparison {
  std::string baseline_run, current_run;
  bool same_hardware = true;
  bool samples_used = false;  // raw samples on both sides
  std::optional<MannWhitneyResult> mann_whitney;
  std::optional<BootstrapResult> bootstrap;
  std::vector<MetricComparison> metrics;
  Verdict verdict = Verdict::kPass;
  std::vector<std::string> notes;
};

Comparison compare_results(const Result& baseline, const Result& current, const CompareOptions& options = {});

std::string render_comparison_table(const Comparison& c);
std::string comparison_json(const Comparison& c);

}  // namespace trackiq::analysis
