#pragma once
// Run-level telemetry summary (TEL-5) from a sampled series: registry metrics (CPU, memory,
// GPU, temperature, power, energy, throttling) and per-channel statistics. A metric whose
// source was not sampled is absent, never zero.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "trackiq/telemetry/sampler.hpp"

namespace trackiq::telemetry {

struct SummaryMetric {
  std::string name;  // registry name
  double value = 0;
  bool derived = false;  // computed from samples (an average, an integral) rather than one reading
};

struct TelemetrySummary {
  std::vector<SummaryMetric> metrics;
  std::map<std::string, double> channel_stats;          // "<channel>.mean" / ".max" / ".min"
  std::vector<std::string> sources;                     // which channels fed which metric
};

// The registry metrics summarize_series() can produce at all, and those it can produce from
// these channels (what a machine with these collectors will measure).
const std::vector<std::string>& telemetry_metric_names();
std::vector<std::string> measurable_metrics(const std::vector<Channel>& channels);

// `inferences`: samples completed in the measured phase (for energy per inference).
TelemetrySummary summarize_series(const Series& s, std::uint64_t inferences);

}  // namespace trackiq::telemetry
