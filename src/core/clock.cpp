#include "trackiq/core/clock.hpp"

#include <charconv>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

namespace trackiq {

std::string format_duration_ns(double ns) {
  const double a = std::fabs(ns);
  auto fmt3 = [](double v, const char* unit) {
    // 3 decimals below 10, 2 below 100, 1 below 1000: about 4 significant digits.
    const double av = std::fabs(v);
    const int decimals = av < 10 ? 3 : av < 100 ? 2 : 1;
    return fmt::format("{:.{}f} {}", v, decimals, unit);
  };
  if (a < 1e3) return fmt::format("{:.0f} ns", ns);
  if (a < 1e6) return fmt3(ns / 1e3, "us");
  if (a < 1e9) return fmt3(ns / 1e6, "ms");
  return fmt3(ns / 1e9, "s");
}

std::optional<std::int64_t> parse_duration_ns(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || ptr == first) return std::nullopt;
  std::string_view unit(ptr, static_cast<std::size_t>(last - ptr));
  double scale = 0;
  if (unit.empty() || unit == "s") scale = 1e9;
  else if (unit == "ns") scale = 1;
  else if (unit == "us") scale = 1e3;
  else if (unit == "ms") scale = 1e6;
  else if (unit == "m" || unit == "min") scale = 60e9;
  else if (unit == "h") scale = 3600e9;
  else return std::nullopt;
  const double ns = value * scale;
  if (!std::isfinite(ns) || ns < 0 || ns > 9.0e18) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(ns));
}

std::string utc_timestamp_now() {
  return utc_timestamp_from_unix_ns(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

std::string utc_timestamp_from_unix_ns(std::int64_t unix_ns) {
  std::int64_t secs = unix_ns / 1'000'000'000;
  std::int64_t ms = (unix_ns % 1'000'000'000) / 1'000'000;
  if (ms < 0) {  // before 1970: floor, not truncate
    ms += 1000;
    secs -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

}  // namespace trackiq
