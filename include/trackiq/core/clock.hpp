#pragma once
// Monotonic time (SPEC §0.2): every duration TrackIQ measures comes from steady_clock.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trackiq {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Nanoseconds = std::chrono::nanoseconds;

static_assert(Clock::is_steady, "TrackIQ needs a monotonic clock");

// Current monotonic time in ns since an unspecified epoch. Thread-safe, noexcept, no allocation.
inline std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<Nanoseconds>(Clock::now().time_since_epoch()).count();
}

inline std::int64_t to_ns(TimePoint t) noexcept {
  return std::chrono::duration_cast<Nanoseconds>(t.time_since_epoch()).count();
}

// Human-readable duration with a unit picked for 3–4 significant digits:
// 950 -> "950 ns", 1234567 -> "1.235 ms", 61e9 -> "61.00 s". Locale-independent.
std::string format_duration_ns(double ns);

// Parses "250ms", "2s", "1.5m", "100us", "30" (seconds when no unit) into ns.
// Units: ns, us, ms, s, m (or min), h. Returns nullopt on malformed or negative input.
std::optional<std::int64_t> parse_duration_ns(std::string_view text);

// Wall-clock time as ISO-8601 UTC ("2026-11-23T17:52:07.123Z"), for labelling results only.
std::string utc_timestamp_now();
// The same format for a time given as ns since the Unix epoch (millisecond precision).
std::string utc_timestamp_from_unix_ns(std::int64_t unix_ns);

}  // namespace trackiq
