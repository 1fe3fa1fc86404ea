#pragma once
// Error policy (STYLE.md): exceptions for setup, I/O and bad input; never on a record path.
#include <cstdint>
#include <stdexcept>
#include <string>

namespace trackiq {

// Base of every error TrackIQ throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad input from a user: a file, a flag, an environment variable. what() reads
// "origin:line: message" (line omitted when 0), and the CLI exits with code 2.
class InputError : public Error {
 public:
  InputError(std::string origin, std::uint64_t line, std::string message);
  explicit InputError(std::string message);  // no origin: what() is the message

  const std::string& origin() const noexcept { return origin_; }
  std::uint64_t line() const noexcept { return line_; }
  const std::string& message() const noexcept { return message_; }

 private:
  std::string origin_;
  std::uint64_t line_ = 0;
  std::string message_;
};

// A capability that this build or machine lacks ("not available: <reason>").
class NotAvailableError : public Error {
 public:
  explicit NotAvailableError(const std::string& reason) : Error("not available: " + reason) {}
};

}  // namespace trackiq
