#pragma once
// Trimming for the line-oriented formats we parse (CSV cells, HTTP header values, SSE lines,
// schedules). Two blank sets, named so a parser says which it means.
#include <string_view>

namespace trackiq {

// Spaces and tabs: a cell or a header value (RFC 9110 OWS).
constexpr std::string_view trim_blanks(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Spaces, tabs, CR and LF: a whole line whose ending may be CRLF, LF or none.
constexpr std::string_view trim_ascii_space(std::string_view s) noexcept {
  constexpr auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace trackiq
