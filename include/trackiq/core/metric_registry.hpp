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

struct MetricDef {
  std::string_view name;
  std::string_view unit;  // "ms", "1/s", "W", "J", "B", "°C", "GFLOP/s", "1" (dimensionless)
  Direction direction;
  std::string_view description;
};

// Every metric TrackIQ knows, sorted by name.
std::span<const MetricDef> metric_registry() noexcept;

// The definition of `name`, or nullptr when unknown.
const MetricDef* find_metric(std::string_view name) noexcept;

// The definition of `name`; throws Error when unknown (a programming error in TrackIQ or an
// input naming a metric that does not exist).
const MetricDef& metric(std::string_view name);

}  // namespace trackiq
