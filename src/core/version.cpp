#include "trackiq/core/version.hpp"

namespace trackiq {

std::string_view version() noexcept { return TRACKIQ_VERSION; }
std::string_view build_type() noexcept { return TRACKIQ_BUILD_TYPE; }
std::string_view sanitizers() noexcept { return TRACKIQ_SANITIZERS; }
bool is_optimized_build() noexcept {
#if defined(__OPTIMIZE__)
  return true;
#else
  return false;
#endif
}

}  // namespace trackiq
