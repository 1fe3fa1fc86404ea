#ifndef TRACKIQ_ANALYSIS_LOG_ANALYSIS_HPP
#define TRACKIQ_ANALYSIS_LOG_ANALYSIS_HPP
// `trackiq analyze logs` (ANA-6): latency values pulled out of any text log by a regular
// expression, their distribution, and the spikes — lines whose value passes a fixed threshold or
// k × the median of the values just before it — with their line numbers.
//
// The expression is RE2 syntax (linear time, no backtracking: a pattern from the command line
// cannot hang on a long line) with a named group `value`, and optionally a named group `unit`
// (ns, us, µs, ms, s, m) that overrides the default unit for that line. Lines that do not match
// are counted and skipped; a matching line whose value is not a finite number ≥ 0, or whose unit
// is unknown, is an error "file:line: what".
//
// Example:
//   trackiq::analysis::LogOptions o;
//   o.pattern = trackiq::analysis::log_preset("took")->pattern;
//   const auto r = trackiq::analysis::analyze_log(text, "app.log", o);
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trackiq::analysis {

struct LogPreset {
  std::string_view name;
  std::string_view pattern;
  std::string_view unit;  // default unit of `value` when the pattern has no `unit` group
  std::string_view description;
};
const std::vector<LogPreset>& log_presets();
const LogPreset* log_preset(std::string_view name);

struct LogOptions {
  std::string pattern;              // RE2 with (?P<value>...) and optionally (?P<unit>...)
  std::string unit = "ms";          // of `value` when the line gives none
  std::optional<double> threshold_ms;  // a spike: value > this
  double k = 3;                     // a spike: value > k × the trailing median
  std::size_t window = 51;          // values in the trailing median
  std::size_t min_window = 10;      // fewer values before it: no ratio test yet
  std::size_t top = 20;             // spikes listed (all are counted)
};

struct LogSpike {
  std::uint64_t line = 0;
  double value_ms = 0;
  std::optional<double> median_ms;  // the trailing median when the ratio rule could run
  bool over_threshold = false, over_ratio = false;
};

struct LogAnalysis {
  std::uint64_t lines = 0, matched = 0;
  std::vector<double> values_ms;  // in line order
  double mean_ms = 0, min_ms = 0, max_ms = 0;
  std::vector<double> percentiles_ms;  // at kLogPercentiles, numpy's linear method
  std::uint64_t spikes = 0, spikes_threshold = 0, spikes_ratio = 0;
  std::vector<LogSpike> top_spikes;  // the largest `top`, in line order
  std::uint64_t first_match_line = 0;
};
inline constexpr double kLogPercentiles[] = {50, 90, 95, 99, 99.9};

// Throws InputError: a bad pattern (no `value` group, RE2 syntax) with the pattern as origin, bad
// options, or a matching line whose value or unit does not read ("origin:line: what").
LogAnalysis analyze_log(std::string_view text, const std::string& origin, const LogOptions& options);
std::string render_log_analysis(const LogAnalysis& a, const std::string& origin, const LogOptions& options);
std::string log_analysis_json(const LogAnalysis& a, const std::string& origin, const LogOptions& options);

}  // namespace trackiq::analysis
#endif
