#pragma once
// The routes of `trackiq serve` and the parsing of request targets (path, query string): pure
// functions of the request line, fuzzed by tests/fuzz/router_fuzz.cpp.
//
//   auto [path, query] = split_target("/api/v1/runs?product=detector&limit=10");
//   RouteMatch m = match_route("GET", path);         // m.route == RouteId::kRuns
//   QueryParams q = parse_query(query);              // q.get("limit") == "10"
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trackiq::server {

inline constexpr std::string_view kApiPrefix = "/api/v1";

// Every route that takes GET takes HEAD too (answered as GET, sent without its body).
enum class RouteId {
  kRuns,        // GET list, POST upload
  kRun,         // GET one, DELETE
  kRunSamples,  // GET
  kCompare,     // GET
  kBaselines,   // GET list, POST save
  kBaseline,    // DELETE
  kHistory,     // GET: one metric of one series with its change points
  kChanges,     // GET: change points over every series (`trackiq detect`)
  kTelemetry,   // GET: the serving machine's live telemetry
  kOpenapi,     // GET
  kMetrics,     // GET (/metrics, outside /api/v1)
  kDashboard,   // GET /: the dashboard page
  kAsset,       // GET /assets/{name}: the dashboard's embedded scripts and styles
};

struct RouteMatch {
  enum class Outcome { kFound, kNotFound, kMethodNotAllowed };
  Outcome outcome = Outcome::kNotFound;
  RouteId route = RouteId::kRuns;
  // The route's pattern ("/api/v1/runs/{id}"), also the `route` label of the request metrics
  // (bounded: never the raw path); "unmatched" when nothing matched.
  std::string_view pattern = "unmatched";
  std::string param;  // {id} or {name}, percent-decoded
  std::string allow;  // the methods the path accepts ("GET, HEAD, DELETE"), for 405's Allow header
};

// Matches a percent-encoded path (no query string). A path parameter holds one segment: an
// encoded '/' inside it is decoded after the split, and an invalid %-escape matches nothing.
RouteMatch match_route(std::string_view method, std::string_view path);

// "/a/b?x=1" -> {"/a/b", "x=1"}; no '?' -> {target, ""}. A '#' fragment is not sent by clients
// and is left in place.
std::pair<std::string_view, std::string_view> split_target(std::string_view target);

// application/x-www-form-urlencoded decoding: %XX escapes and, when plus_is_space, '+' as ' '.
// nullopt for a malformed escape ("%4", "%zz") or a NUL byte, raw or decoded.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// The parameters of a query string in order; a repeated key keeps every value.
class QueryParams {
 public:
  std::vector<std::pair<std::string, std::string>> items;
  // The value of `key` ("" for "key" without '='); nullopt when absent. When the key repeats,
  // the last value.
  std::optional<std::string> get(std::string_view key) const;
  std::vector<std::string> all(std::string_view key) const;
};

// Splits on '&' (empty pieces skipped) and '=' (the first one), and decodes keys and values.
// trackiq::InputError "query string: ..." for a malformed escape.
QueryParams parse_query(std::string_view query);

}  // namespace trackiq::server
