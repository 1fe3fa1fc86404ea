// libFuzzer target: Histogram::decode must reject malformed encodings with InputError, and
// anything it accepts must re-encode to an equal histogram.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "trackiq/core/error.hpp"
#include "trackiq/core/histogram.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = "TQH1:" + std::string(reinterpret_cast<const char*>(data), size);
  try {
    const auto h = trackiq::Histogram::decode(text);
    if (!(trackiq::Histogram::decode(h.encode()) == h)) std::abort();
    (void)h.value_at_percentile(99.0);
  } catch (const trackiq::InputError&) {
  }
  return 0;
}
