#pragma once
// Console renderer: a human summary of a Result. Renders only what the Result holds; it
// computes no statistics of its own.
#include <string>

#include "trackiq/core/result.hpp"

namespace trackiq::report {

// A plain-text summary table (no colours): workload, scenario, latency percentiles, throughput,
// scenario checks, errors and warnings.
std::string render_console(const Result& r);

}  // namespace trackiq::report
