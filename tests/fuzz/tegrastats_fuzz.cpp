// libFuzzer target: the tegrastats line parser must reject malformed input with InputError
// only, and what it accepts must be self-consistent (RAM present, parsing again into a reused
// sample gives the same shape).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "trackiq/core/error.hpp"
#include "trackiq/telemetry/tegrastats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  static trackiq::telemetry::TegrastatsSample reused;  // exercises storage reuse across inputs
  try {
    const auto fresh = trackiq::telemetry::parse_tegrastats_line(line);
    if (std::isnan(fresh.ram_used_mb) || std::isnan(fresh.ram_total_mb)) std::abort();
    trackiq::telemetry::parse_tegrastats_line(line, reused);
    if (reused.cpus.size() != fresh.cpus.size() || reused.rails.size() != fresh.rails.size() ||
        reused.temperatures.size() != fresh.temperatures.size() || reused.engines.size() != fresh.engines.size())
      std::abort();
    (void)fresh.cpu_util_avg_pct();
    (void)fresh.input_rail();
  } catch (const trackiq::InputError&) {
  }
  // The log reader over the same bytes (several lines when the input has newlines).
  trackiq::telemetry::TegrastatsLogReader reader(line, "fuzz");
  trackiq::telemetry::TegrastatsSample s;
  while (reader.next(s)) {
  }
  return 0;
}
