#pragma once
// Change points over many stored series (CMP-4, CMP-6): incremental detection on an appended
// series, and Benjamini–Hochberg false-discovery control across series. Pure functions: the store
// and the CLI (`trackiq history`, `trackiq detect`) keep the state and say what it is.
// docs/metrics.md ("Change points over the store") gives the rule; docs/architecture.md how the
// state is kept.
//
//   analysis::SeriesState prev = ...;  // from the store, or nothing
//   auto r = analysis::detect_appended(values, &prev, options);
//   const auto bh = analysis::fdr_threshold(p_values, 0.05);
//   // a change point is reported when its p-value <= bh.threshold
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trackiq/analysis/changepoint.hpp"

namespace trackiq::analysis {

// Benjamini–Hochberg step-up at level q over m = p_values.size() tests: with p_(1) <= ... <=
// p_(m), k = the largest i with p_(i) <= i·q/m (0 when none) and threshold = k·q/m; the tests with
// p <= threshold are the discoveries (those whose BH q-value, compare_stats.hpp's
// benjamini_hochberg, is <= q). FDR <= q for independent or positively dependent tests.
// q outside (0, 1) or a p-value outside [0, 1] → InputError.
struct BhResult {
  std::size_t tests = 0;
  std::size_t discoveries = 0;
  double threshold = 0;  // 0 when there is no discovery
};
BhResult fdr_threshold(std::span<const double> p_values, double q);

// What is kept per series between two detections: the change points (index, p-value,
// confidence) found on the first `count` points with these options, and when the last full
// computation was (`full_count` points).
struct SeriesState {
  std::size_t count = 0;
  std::size_t full_count = 0;
  double alpha = 0;
  std::size_t min_segment = 0;
  double min_relative_change = 0;
  std::vector<ChangePoint> change_points;  // index, p_value and confidence are what is kept
};
std::string state_to_json(const SeriesState& s);
// nullopt when `text` is not a state this version wrote (then the series is recomputed).
std::optional<SeriesState> state_from_json(std::string_view text) noexcept;

struct AppendedResult {
  ChangePointResult result;  // change points over the whole series, with means of the whole segments
  SeriesState state;         // to keep for the next call
  std::size_t tested_from = 0;  // the detector ran on [tested_from, n); n when nothing was re-tested
  bool full = true;             // a full computation (no usable state, or the series doubled)
};

// Change points of `values` given the state of a detection on its first previous->count points
// (the caller checks those are the same points: same count position, same last run). Without a
// usable state (none, other options, more points than now), or when the series has at least
// doubled since the last full computation, this is detect_change_points(values, options). Else
// the detector runs on a tail and its change points are spliced after the kept ones (which keep
// their p-values): the tail starts at the second-to-last change point (0 when there is none;
// the last change point is re-tested) when that leaves at most `window` points, else at the last
// change point when that does, else it is the last `window` points. Every before/after mean is
// then recomputed over the whole segments. A change whose evidence needs more than `window`
// points to build up is found by the next full computation (when the series has doubled). Cost: O(w log w) for the detector on w <= window points plus O(n) additions;
// amortised over appends, the full recomputations add O(log n) per point.
AppendedResult detect_appended(std::span<const double> values, const SeriesState* previous,
                               const ChangePointOptions& options = {}, std::size_t window = 200);

}  // namespace trackiq::analysis
