#include "trackiq/core/error.hpp"

#include <utility>

namespace trackiq {
namespace {
std::string compose(const std::string& origin, std::uint64_t line, const std::string& message) {
  if (origin.empty()) return message;
  if (line == 0) return origin + ": " + message;
  return origin + ":" + std::to_string(line) + ": " + message;
}
}  // namespace

InputError::InputError(std::string origin, std::uint64_t line, std::string message)
    : Error(compose(origin, line, message)),
      origin_(std::move(origin)),
      line_(line),
      message_(std::move(message)) {}

InputError::InputError(std::string message) : Error(message), message_(std::move(message)) {}

}  // namespace trackiq
