#pragma once
// Change points in one series of measurements (SPEC CMP-4): where the level of a benchmark's
// history shifted, by how much, and how sure we are. A pure function of the series and the
// options: no store, no clock, no randomness (the same input gives the same output everywhere).
// docs/metrics.md ("Change points") gives the method, its formulas and why the defaults are
// what they are; docs/performance.md §10 the measured false-alarm rate, recall and speed.
//
// Method, in two passes (the shape of Apache Otava's E-divisive split/merge, with different
// tests and real family-wise control):
//   1. Candidates: the series is rank-transformed once (mid-ranks), then seeded binary
//      segmentation (Kovács, Li, Bühlmann & Munk 2023): deterministic intervals at every scale
//      n, n/2, n/4, … down to 2·min_segment, half-overlapping. In each interval the split with
//      the largest standardised difference of mean ranks, both sides >= min_segment; kept when
//      its normal p-value times the interval's number of admissible splits (Bonferroni) is
//      <= alpha; then most significant first, skipping intervals that contain an accepted split.
//   2. Confirmation: each candidate is tested on the two segments between its neighbours, by a
//      pooled Student t-test on winsorised values (each segment clipped at median ± 3 MAD·1.4826) whose
//      variance is inflated by the AR(1) long-run factor (1 + ρ)/(1 − ρ), ρ the lag-1
//      autocorrelation of the residuals of the current segmentation (clamped to [0, 0.99]),
//      and by a Mann–Whitney U test on the raw values; its p-value is the larger of the two
//      times the number of admissible splits of the pair. The weakest candidate is removed
//      while one has p > alpha (then, with min_relative_change > 0, while one changes less),
//      and its neighbours are re-tested.
// Ranks make pass 1 distribution-free (log-normal noise, outliers); the winsorised t-test with
// the autocorrelation factor keeps slow drifts and random walks from becoming staircases; a
// single outlier cannot form a segment of min_segment points.
//
// Example:
//   const auto r = trackiq::analysis::detect_change_points(latencies_ms);
//   for (const auto& cp : r.change_points)
//     fmt::print("{}: {:.3g} -> {:.3g} ({:+.1f} %, p {:.2g}, {})\n", cp.index, cp.before, cp.after,
//                cp.magnitude_pct, cp.p_value, confidence_name(cp.confidence));
//
// Incremental use (appending runs to a stored series; `trackiq detect`): analysis/history.hpp's
// detect_appended keeps the change points and re-runs this function on a tail of at most a
// window of points; the canonical result is always a full recomputation (what this returns).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trackiq::analysis {

struct ChangePointOptions {
  // Family-wise false-alarm level per series: on a series with no change, the share that get
  // any change point is at most about alpha (Bonferroni over splits; measured rates in
  // docs/performance.md). In (0, 1).
  double alpha = 0.01;
  // Fewest points on each side of a change, 3 … 2^40. A shift in the last min_segment − 1 points
  // cannot be reported yet, and one outlier is never a segment.
  std::size_t min_segment = 6;
  // Effect-size floor: a change point whose |after/before − 1| is below this is dropped (0.01 =
  // 1 %). 0 keeps every significant change. Not applied where the mean before is 0.
  double min_relative_change = 0.0;
  // Winsorisation of each segment for the t-test, in robust standard deviations
  // (1.4826 · MAD) around the segment's median; 0 turns it off.
  double winsor_mads = 3.0;
  // Inflate the t-test's variance by the residuals' AR(1) long-run factor (see above).
  bool autocorrelation_correction = true;
};

enum class Confidence { kLow, kMedium, kHigh };

// "high" (p <= alpha/100), "medium" (p <= alpha/10) or "low" (p <= alpha).
std::string_view confidence_name(Confidence c) noexcept;

struct ChangePoint {
  std::size_t index = 0;  // 0-based index of the first point of the new segment (TCPDBench's convention)
  double before = 0;      // mean of the segment before (from the previous change point or 0)
  double after = 0;       // mean of the segment after (up to the next change point or n)
  // 100 · (after − before) / |before|: +12.5 means 12.5 % higher. NaN when before is 0.
  double magnitude_pct = 0;
  // The larger of the two tests' p-values times the pair's number of admissible splits, capped at 1.
  double p_value = 1;
  Confidence confidence = Confidence::kLow;
  std::size_t before_begin = 0;  // the segment before is [before_begin, index)
  std::size_t after_end = 0;     // the segment after is [index, after_end)
};

struct ChangePointResult {
  std::size_t n = 0;                       // points in the series
  std::vector<ChangePoint> change_points;  // by index
  // Why nothing was tested ("11 points, and a split needs at least 2 x 6 = 12 …"), or "" when it was.
  std::string not_tested;
  std::size_t candidates = 0;  // pass-1 candidates before confirmation
  double autocorrelation = 0;  // ρ used in the final test (0 when the correction is off)
};

// Change points of `series` (finite values; NaN or ±infinity → InputError naming the index).
// A series shorter than 2 · min_segment gets no change point and `not_tested` says why.
// Invalid options → InputError. Cost: O(n log n) for the candidates (one sort, then O(n) per
// level of intervals), then O(L log L) per confirmation step on segments of L points; memory
// O(n). Measured: ~0.1 ms for 1,000 points, ~1 ms for 5,000 (docs/performance.md §10); a
// random walk, where pass 1 proposes a split almost everywhere, is the slow case (~4 ms at 5,000).
ChangePointResult detect_change_points(std::span<const double> series, const ChangePointOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Scoring against human annotations, as TCPDBench does (van den Burg & Williams 2020,
// analysis/scripts/metrics.py): change points are 0-based first indices of new segments, and
// `annotations` holds one list per annotator (an empty list = "no change").
// ---------------------------------------------------------------------------------------------

// F1 with margin M: 0 is added to every annotator's set and to the predictions; precision =
// |TP(∪ annotators, X)| / |X|, recall = mean over annotators of |TP(T_k, X)| / |T_k|, where TP
// matches each annotated point, in ascending order, to the closest unused prediction within M
// (ties to the smaller index). F1 = 2PR / (P + R).
double f1_score(const std::vector<std::vector<std::size_t>>& annotations, std::span<const std::size_t> predictions,
                std::size_t margin = 5);

// Segmentation covering: mean over annotators of (1/n) Σ_{R in annotator's partition} |R| ·
// max_{R' in predicted partition} |R ∩ R'| / |R ∪ R'|, partitions of [0, n) cut at the change points.
double segmentation_cover(const std::vector<std::vector<std::size_t>>& annotations,
                          std::span<const std::size_t> predictions, std::size_t n);

}  // namespace trackiq::analysis
