#pragma once
// The metric registry (SPEC §0.4, §3): the single place where a metric's unit and direction
// are defined. Comparisons, reports, the store and `--help` read it; nothing guesses a
// direction from a metric's name.
#include <span>
#include <string>
#include <string_view>

namespace trackiq {

enum class Direction {
  kLowerIsBetter,
  kHigherIsBetter,
  kNeutral,  // informational (a count, a setting echoed back): never a regression
};

std::string_view to_string(Direction d) noexcept;  // "lower", "higher", "neutral"

// What a metric may do to a comparison's verdict (CMP-1, docs/metrics.md "Comparison rules").
// A spread, an extreme or the measuring client's own cost differs between two runs of the same
// build far beyond its threshold, and says nothing reliable about the system under test: such a
// metric informs (WARN at most) and never blocks.
enum class Gate {
  kCanBlock,    // location, tail percentiles, throughput, errors, resources
  kInformOnly,  // spread (std, CV), extremes (min, max), the load client's own cost and lag
};

std::string_view to_string(Gate g) noexcept;  // "can_block", "inform_only"

struct MetricDef {
  std::string_view name;
  std::string_view unit;  // "ms", "1/s", "W", "J", "B", "°C", "GFLOP/s", "1" (dimensionless)
  Direction direction;
  std::string_view description;
  Gate gate = Gate::kCanBlock;
  // Another metric that holds the same number whenever both have equal values on both sides
  // of a comparison (a load run's request_throughput and throughput_queries_per_s): the
  // comparison gives the pair one verdict, under the other name.
  std::string_view same_as = {};
  // The limit on the absolute change in the bad direction when the baseline is 0, where a
  // relative change is undefined (error_rate 0 → 0.02 is 2 percentage points, not +inf %).
  // 0: a worsening from a zero baseline WARNs and never blocks.
  double zero_baseline_limit = 0;
};

// Every metric TrackIQ knows, sorted by name.
std::span<const MetricDef> metric_registry() noexcept;

// The definition of `name`, or nullptr when unknown.
const MetricDef* find_metric(std::string_view name) noexcept;

// The definition of `name`; throws Error when unknown (a programming error in TrackIQ or an
// input naming a metric that does not exist).
const MetricDef& metric(std::string_view name);

}  // namespace trackiq
