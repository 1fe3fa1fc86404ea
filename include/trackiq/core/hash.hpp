#pragma once
// FNV-1a 64-bit: a stable, platform-independent fingerprint for model files, model
// definitions and hardware descriptions (identity, not security).
#include <cstdint>
#include <string>
#include <string_view>

namespace trackiq {

class Fnv1a64 {
 public:
  void update(std::string_view bytes) noexcept {
    for (unsigned char c : bytes) {
      state_ ^= c;
      state_ *= 1099511628211ULL;
    }
  }
  std::uint64_t value() const noexcept { return state_; }
  std::string hex() const;  // 16 lowercase hex digits

 private:
  std::uint64_t state_ = 14695981039346656037ULL;  // FNV-1a 64 offset basis
};

// FNV-1a of `text` as 16 hex digits.
std::string stable_hash_hex(std::string_view text);

}  // namespace trackiq
