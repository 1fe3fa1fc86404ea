#pragma once
// Analyzers of measurements people already have (ANA-1, ANA-2): `trackiq analyze latency` (exact
// percentiles of a CSV column, per group) and `trackiq analyze variability` (how steady a series
// is). docs/metrics.md "Analyzers" defines every figure.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trackiq::analysis {

// Percentile p in [0, 100] of sorted values, numpy's default ("linear") method:
// rank = p/100 x (n-1), interpolated between the closest ranks. NaN when empty.
double percentile_of_sorted(std::span<const double> sorted, double p);

struct GroupLatency {
  std::string group;  // "" for the whole column
  std::size_t count = 0;
  double mean = 0, cv = 0, min = 0, max = 0;  // cv = sample std / mean (NaN when n < 2 or mean 0)
  std::vector<double> percentiles;            // at LatencyAnalysis::ps
};

struct LatencyAnalysis {
  std::string column, group_by;
  std::vector<double> ps = {50, 90, 95, 99, 99.9};
  GroupLatency all;
  std::vector<GroupLatency> groups;  // in order of first appearance; empty without group_by
};

// Reads `column` (and `group_by`, when not empty) of CSV `text` (header row; RFC 4180 quoting)
// and summarises. InputError(origin, line, what) for a missing column (lists the columns), a
// short row, or a cell that is not a finite number; no data rows is an error too.
LatencyAnalysis analyze_latency_csv(std::string_view text, const std::string& origin, const std::string& column,
                                    const std::string& group_by);

struct Variability {
  std::size_t n = 0;
  double mean = 0, stddev = 0, cv = 0;  // sample standard deviation (n - 1)
  double jitter = 0;                    // mean |x[i] - x[i-1]|, in series order
  double q1 = 0, q3 = 0, iqr = 0;       // numpy-linear quartiles
  double sigma = 3;                     // the outlier rule's k
  std::vector<std::size_t> outliers;    // 0-based indices with |x - mean| > k x stddev
  std::string rating;  // "very consistent" (cv < 0.1), "consistent" (< 0.2), "moderate" (< 0.3),
                       // "high variability", or "insufficient data" (n < 3)
};

// InputError when sigma <= 0 or a value is not finite.
Variability analyze_variability(std::span<const double> values, double sigma = 3);

}  // namespace trackiq::analysis
