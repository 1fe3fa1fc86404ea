#pragma once
// Open-loop arrival schedules (LOAD-1), pre-generated from a seed so a run can be repeated
// request for request. Offsets are ns from the start of the run; the first arrival is at 0.
//
//   const auto s = trackiq::load::arrival_schedule({.kind = ArrivalKind::gamma, .rate = 20,
//                                                   .burstiness = 0.5, .seed = 1}, 10'000'000'000, {});
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trackiq::load {

enum class ArrivalKind {
  constant,  // gaps of exactly 1/rate
  poisson,   // exponential gaps with mean 1/rate
  gamma,     // gamma gaps with shape k = burstiness and mean 1/rate (vLLM's --burstiness);
             // k = 1 is Poisson, k < 1 burstier, k > 1 more regular
};

ArrivalKind parse_arrival(std::string_view name);  // "constant", "poisson", "gamma"; InputError otherwise

struct ArrivalOptions {
  ArrivalKind kind = ArrivalKind::poisson;
  double rate = 1;          // requests per second, > 0
  double burstiness = 1;    // gamma shape, > 0
  std::uint64_t seed = 0;
};

// Arrivals in [0, duration_ns), at most `max_count` of them when given. Same options → the same
// schedule on every platform: mt19937_64 with explicit draws (inverse CDF for the exponential,
// Marsaglia–Tsang with Box–Muller normals for the gamma), never std:: distributions, whose
// algorithms are unspecified. Throws InputError on a bad rate or burstiness, or when the
// schedule would exceed 100 M arrivals.
std::vector<std::int64_t> arrival_schedule(const ArrivalOptions& options, std::int64_t duration_ns,
                                           std::optional<std::uint64_t> max_count);

// A trace for replay: one arrival per line, as JSON Lines with a "timestamp" (ms since the
// trace's start; a number) and optionally "input" (a string: the request's prompt or body), or
// as CSV with a header naming a `timestamp` column (and optionally `input`). Timestamps are
// scaled by time_scale (2 = twice as slow) and shifted so the first is 0; they must not
// decrease. Errors are InputError("FILE:LINE: what").
struct TraceEntry {
  std::int64_t t_ns = 0;
  std::optional<std::string> input;
};
std::vector<TraceEntry> read_trace(const std::string& path, double time_scale = 1.0);

}  // namespace trackiq::load
