#pragma once
// Private to core: LEB128 varints, zig-zag signed encoding and base64 for compact encodings.
#include <cstdint>
#include <string>
#include <string_view>

namespace trackiq::varint {

void put_unsigned(std::string& out, std::uint64_t v);
void put_signed(std::string& out, std::int64_t v);  // zig-zag, then LEB128

// Reads varints from a byte string; throws InputError on truncation or overlong input.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  std::uint64_t get_unsigned();
  std::int64_t get_signed();
  bool at_end() const noexcept { return pos_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

std::string base64_encode(std::string_view bytes);
std::string base64_decode(std::string_view text);  // InputError on invalid characters/padding

}  // namespace trackiq::varint
