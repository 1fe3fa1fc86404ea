// libFuzzer target: parsers of command-line values (--shape, durations, cmd: lines).
#include <cstddef>
#include <cstdint>
#include <string>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/workload/workload.hpp"
#include "workload/backends.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)trackiq::parse_duration_ns(text);
  try {
    (void)trackiq::workload::parse_shape(text);
  } catch (const trackiq::InputError&) {
  }
  try {
    (void)trackiq::workload::split_command_line(text);
  } catch (const trackiq::InputError&) {
  }
  return 0;
}
