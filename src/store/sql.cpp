// Shared pieces of the SQL layer: row access and URL redaction.
#include <charconv>

#include <fmt/format.h>

#include "sql.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::store::sql {

const std::string& Row::text(std::size_t i) const {
  static const std::string empty;
  const auto& c = cols_.at(i);
  return c ? *c : empty;
}

std::int64_t Row::integer(std::size_t i) const {
  const std::string& t = text(i);
  std::int64_t v = 0;
  if (t.empty()) return 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size()) throw Error(fmt::format("store: '{}' is not an integer", t));
  return v;
}

double Row::real(std::size_t i) const {
  const std::string& t = text(i);
  double v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size()) throw Error(fmt::format("store: '{}' is not a number", t));
  return v;
}

std::string redact_url(const std::string& url) {
  std::string out = url;
  // scheme://user:password@host/... → scheme://user:***@host/...
  if (const auto scheme = out.find("://"); scheme != std::string::npos) {
    const auto at = out.find('@', scheme + 3);
    const auto slash = out.find('/', scheme + 3);
    const auto colon = out.find(':', scheme + 3);
    if (at != std::string::npos && (slash == std::string::npos || at < slash) && colon != std::string::npos && colon < at)
      out = out.substr(0, colon + 1) + "***" + out.substr(at);
  }
  // ... and as a parameter: ?password=... or "password=..." in a key/value string.
  for (std::size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 12)) {
    const auto end = out.find_first_of("& ", p);
    out = out.substr(0, p + 9) + "***" + (end == std::string::npos ? "" : out.substr(end));
  }
  return out;
}

}  // namespace trackiq::store::sql
