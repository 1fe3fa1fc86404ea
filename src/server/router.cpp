// Routes and request-target parsing of `trackiq serve` (include/trackiq/server/router.hpp).
#include "trackiq/server/router.hpp"

#include <fmt/format.h>

#include "trackiq/core/error.hpp"

namespace trackiq::server {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One route: a pattern of literal segments and at most one {param}, and the methods it takes.
struct RouteDef {
  RouteId id;
  std::string_view pattern;
  std::string_view methods;  // ", "-separated, as sent in Allow; HEAD wherever GET (http.hpp)
};
constexpr RouteDef kRoutes[] = {
    {RouteId::kRuns, "/api/v1/runs", "GET, HEAD, POST"},
    {RouteId::kRun, "/api/v1/runs/{id}", "GET, HEAD, DELETE"},
    {RouteId::kRunSamples, "/api/v1/runs/{id}/samples", "GET, HEAD"},
    {RouteId::kCompare, "/api/v1/compare", "GET, HEAD"},
    {RouteId::kBaselines, "/api/v1/baselines", "GET, HEAD, POST"},
    {RouteId::kBaseline, "/api/v1/baselines/{name}", "DELETE"},
    {RouteId::kHistory, "/api/v1/history", "GET, HEAD"},
    {RouteId::kChanges, "/api/v1/changes", "GET, HEAD"},
    {RouteId::kTelemetry, "/api/v1/telemetry", "GET, HEAD"},
    {RouteId::kOpenapi, "/api/v1/openapi.json", "GET, HEAD"},
    {RouteId::kMetrics, "/metrics", "GET, HEAD"},
    {RouteId::kDashboard, "/", "GET, HEAD"},
    {RouteId::kAsset, "/assets/{name}", "GET, HEAD"},
};

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool method_listed(std::string_view methods, std::string_view method) {
  std::size_t start = 0;
  while (start < methods.size()) {
    const std::size_t comma = std::min(methods.find(',', start), methods.size());
    if (methods.substr(start, comma - start) == method) return true;
    start = comma + 2;  // ", "
  }
  return false;
}

}  // namespace

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return std::nullopt;
      out += decoded;
      i += 2;
    } else if (c == '\0') {
      return std::nullopt;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

RouteMatch match_route(std::string_view method, std::string_view path) {
  RouteMatch m;
  // "/api/v1/runs/" is "/api/v1/runs": one trailing slash is forgiven.
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const auto got = segments(path);
  for (const auto& r : kRoutes) {
    const auto want = segments(r.pattern);
    if (want.size() != got.size()) continue;
    std::optional<std::string> param;
    bool same = true;
    for (std::size_t i = 0; i < want.size() && same; ++i) {
      if (want[i].size() > 2 && want[i].front() == '{') {
        param = got[i].empty() ? std::nullopt : percent_decode(got[i], false);
        same = param.has_value();
      } else {
        same = want[i] == got[i];
      }
    }
    if (!same) continue;
    m.pattern = r.pattern;
    m.route = r.id;
    m.allow = std::string(r.methods);
    if (param) m.param = std::move(*param);
    m.outcome = method_listed(r.methods, method) ? RouteMatch::Outcome::kFound
                                                 : RouteMatch::Outcome::kMethodNotAllowed;
    return m;
  }
  return m;
}

std::optional<std::string> QueryParams::get(std::string_view key) const {
  std::optional<std::string> out;
  for (const auto& [k, v] : items)
    if (k == key) out = v;
  return out;
}

std::vector<std::string> QueryParams::all(std::string_view key) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : items)
    if (k == key) out.push_back(v);
  return out;
}

QueryParams parse_query(std::string_view query) {
  QueryParams q;
  std::size_t start = 0;
  while (start <= query.size()) {
    const std::size_t amp = std::min(query.find('&', start), query.size());
    const std::string_view piece = query.substr(start, amp - start);
    start = amp + 1;
    if (piece.empty()) continue;
    const std::size_t eq = piece.find('=');
    const std::string_view raw_key = piece.substr(0, eq);
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    auto key = percent_decode(raw_key, true);
    auto value = percent_decode(raw_value, true);
    if (!key || !value)
      throw InputError(
          fmt::format("query string: '{}' has a malformed %-escape (use %XX with two hex digits)",
                      std::string(piece.substr(0, 80))));
    q.items.emplace_back(std::move(*key), std::move(*value));
  }
  return q;
}

}  // namespace trackiq::server
