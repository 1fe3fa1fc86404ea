#include "trackiq/core/hash.hpp"

#include <fmt/format.h>

namespace trackiq {

std::string Fnv1a64::hex() const { return fmt::format("{:016x}", state_); }

std::string stable_hash_hex(std::string_view text) {
  Fnv1a64 h;
  h.update(text);
  return h.hex();
}

}  // namespace trackiq
