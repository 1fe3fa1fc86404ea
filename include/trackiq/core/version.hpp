#pragma once
#include <string_view>

namespace trackiq {

std::string_view version() noexcept;          // "0.1.0"
std::string_view build_type() noexcept;       // CMAKE_BUILD_TYPE of this build
std::string_view sanitizers() noexcept;       // TRACKIQ_SANITIZE of this build ("" when none)
bool is_optimized_build() noexcept;           // false for Debug builds or without NDEBUG/-O

}  // namespace trackiq
