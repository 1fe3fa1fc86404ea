#pragma once
// The REST API of `trackiq serve` (SRV-1) over the results store, its /metrics exposition
// (SRV-2: store gauges, the server's own request counts and latencies, the machine's telemetry)
// and the dashboard's embedded page and assets (SRV-3), as a function from a
// request to a response: no sockets here (http_server.hpp carries it over HTTP), so tests and the
// fuzzer call it directly. docs: README "serve", the OpenAPI document (openapi_document()).
//
//   auto st = trackiq::store::open_store("runs.db");
//   Api api(*st, {.token = "s3cret"});
//   HttpResponse r = api.handle({.method = "GET", .target = "/api/v1/runs?limit=10"});
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trackiq/server/http.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::server {

class TelemetryRing;

struct ApiOptions {
  // The bearer token every write (POST, DELETE) must carry; "" disables writes (403).
  std::string token;
  bool read_only = false;                  // every write 403, whatever the token
  std::size_t max_body_bytes = 16u << 20;  // larger bodies: 413
  std::uint64_t compare_seed = 42;         // /compare's bootstrap seed (the CLI's default)
  std::size_t compare_history = 10;        // /compare's noise history (the CLI's --history default)
  // The serving machine's live telemetry for /api/v1/telemetry and /metrics (not owned; must
  // outlive the Api). nullptr: /api/v1/telemetry answers 404 "not available".
  TelemetryRing* telemetry = nullptr;
  // The answer cache of GET read routes (docs/architecture.md, "Answer cache"): at most this
  // many bytes of answers, least recently used dropped first; an answer is served again only
  // while Store::generation() is unchanged. 0: no cache (answers still carry an ETag).
  std::size_t cache_bytes = 32u << 20;
};

// Thread-safe: any number of threads may call handle() at once. The store
// connection is not (one SQLite/PostgreSQL connection, transactions on it), so every store access
// holds one mutex; the request metrics are prometheus-cpp counters/histograms (thread-safe); the
// answer cache has its own mutex, never held while the store is queried.
//
// GET answers of the read routes (runs, a run, compare, baselines, history, changes, the OpenAPI
// document, the dashboard's files) carry a strong ETag (a hash of the body) and
// Cache-Control: no-cache, and a request whose If-None-Match names it gets 304 without a body.
// With the cache on they also carry X-Cache: hit or miss, counted in /metrics as
// trackiq_serve_cache_hits_total and trackiq_serve_cache_misses_total. Every route that takes
// GET takes HEAD (the same answer and cache entry; HttpServer sends it without the body).
class Api {
 public:
  // `store` must outlive the Api.
  Api(store::Store& store, ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Answers one request; never throws (a failure inside becomes a 500 with a message). Errors
  // are JSON: {"error": "what", "status": N}.
  HttpResponse handle(const HttpRequest& request);

  // Counts a request answered without handle() (the HTTP layer's 400 for an unparsable request,
  // 413 for a body over the limit), so /metrics sees every answer.
  void count(std::string_view method, std::string_view route, int status, double seconds);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One file of the dashboard (SRV-3), embedded in the binary: "index.html" (served at /) and the
// scripts and styles it loads from /assets/NAME. nullopt for any other name.
struct Asset {
  std::string_view content_type;
  std::string_view body;
};
std::optional<Asset> dashboard_asset(std::string_view name);

// The OpenAPI 3 document served at /api/v1/openapi.json (embedded; openapi.cpp).
std::string_view openapi_document();

// Compares two strings in time independent of where they differ (token checks).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace trackiq::server
