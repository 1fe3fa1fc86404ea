// trackiq serve: the REST API over the results store, /metrics with the machine's telemetry, and
// the dashboard (SRV-1, SRV-2, SRV-3).
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

#include "cli_util.hpp"
#include "commands.hpp"
#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/server/api.hpp"
#include "trackiq/server/http_server.hpp"
#include "trackiq/server/telemetry_ring.hpp"
#include "trackiq/store/store.hpp"
#include "trackiq/telemetry/collector.hpp"
#include "trackiq/telemetry/sampler.hpp"

namespace trackiq::cli {
namespace {

struct ServeFlags {
  std::string store, listen = "127.0.0.1:8080", token_file, header_timeout = "10s",
                     idle_timeout = "30s", collectors = "all", telemetry_interval = "1s",
                     telemetry_window = "5m";
  bool read_only = false;
  std::size_t max_body = 16u << 20;
  unsigned threads = 4;
  std::size_t cache_mb = 32;
};

std::chrono::milliseconds duration_flag(const std::string& text, const char* flag) {
  const auto ns = parse_duration_ns(text);
  if (!ns || *ns <= 0)
    throw InputError(fmt::format("{} '{}': expected a duration, e.g. 10s or 500ms", flag, text));
  return std::chrono::milliseconds(std::max<std::int64_t>(1, *ns / 1'000'000));
}

// The token of --token-file (trailing whitespace dropped), else TRACKIQ_TOKEN, else "".
std::string read_token(const ServeFlags& f) {
  std::string token;
  if (!f.token_file.empty()) {
    token = read_text_file(f.token_file);
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
      token.pop_back();
    if (token.empty()) throw InputError(f.token_file, 0, "the token file is empty");
  } else if (const char* env = std::getenv("TRACKIQ_TOKEN")) {
    token = env;
  }
  if (token.find_first_of(" \t\r\n") != std::string::npos)
    throw InputError(
        "the token must not contain whitespace (it is sent as Authorization: Bearer TOKEN)");
  return token;
}

int serve(const ServeFlags& f) {
  server::ApiOptions ao;
  ao.token = read_token(f);
  ao.read_only = f.read_only;
  ao.max_body_bytes = f.max_body;
  ao.cache_bytes = f.cache_mb << 20;
  server::ServerOptions so;
  so.listen = f.listen;
  so.threads = f.threads;
  so.max_body_bytes = f.max_body;
  so.header_timeout = duration_flag(f.header_timeout, "--header-timeout");
  so.idle_timeout = duration_flag(f.idle_timeout, "--idle-timeout");
  // The machine's live telemetry: the `monitor` collectors sampled on their own thread into a
  // ring of the last --telemetry-window (SRV-2, SRV-3). The sampler keeps no rows itself.
  const auto interval = duration_flag(f.telemetry_interval, "--telemetry-interval");
  const auto window = duration_flag(f.telemetry_window, "--telemetry-window");
  if (window < interval)
    throw InputError(fmt::format("--telemetry-window {} is shorter than --telemetry-interval {}",
                                 f.telemetry_window, f.telemetry_interval));
  constexpr std::int64_t kMaxRows = 1'000'000;  // bounded memory: ~8 MB per channel at most
  if (window.count() / interval.count() > kMaxRows)
    throw InputError(
        fmt::format("--telemetry-window {} / --telemetry-interval {} keeps more than {} rows: "
                    "shorten the window or lengthen the interval",
                    f.telemetry_window, f.telemetry_interval, kMaxRows));
  std::unique_ptr<server::TelemetryRing> ring;
  std::unique_ptr<telemetry::Sampler> sampler;
  if (f.collectors != "none") {
    ring = std::make_unique<server::TelemetryRing>(
        static_cast<std::size_t>(window.count() / interval.count()));
    ring->set_interval(interval);
    telemetry::SamplerOptions so;
    so.interval_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(interval).count();
    so.max_rows = 0;
    so.sink = ring.get();
    sampler = std::make_unique<telemetry::Sampler>(
        telemetry::make_collectors(split_list(f.collectors), {}), so);
    ring->set_unavailable(sampler->unavailable());
    for (const auto& u : sampler->unavailable()) fmt::print(stderr, "serve: telemetry: {}\n", u);
    ao.telemetry = ring.get();
  }
  auto st = store::open_store(f.store);
  server::Api api(*st, ao);
  // SIGINT and SIGTERM are taken by sigwait below, not by a handler: blocked before the server's
  // threads start, so they inherit the mask and never receive them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  server::HttpServer http(api, so);
  if (sampler && !sampler->channels().empty()) sampler->start();
  const std::string writes = f.read_only ? "disabled (--read-only)"
                             : ao.token.empty()
                                 ? "disabled (no token: --token-file or TRACKIQ_TOKEN)"
                                 : "need Authorization: Bearer TOKEN";
  // Tests and scripts read this line to find a port picked with :0.
  fmt::print(
      stderr,
      "serve: listening on http://{}/api/v1 (dashboard at /, metrics at /metrics), store {}, "
      "writes {}\n",
      http.address(), st->location(), writes);
  std::fflush(stderr);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  http.stop();
  if (sampler) sampler->stop();
  fmt::print(stderr, "serve: stopped ({})\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  return kExitOk;
}

}  // namespace

Action setup_serve(CLI::App& sub) {
  auto f = std::make_shared<ServeFlags>();
  // clang-format off
  sub.footer(
      "Serve the results store over HTTP: a dashboard at /, a JSON REST API under /api/v1 and a\n"
      "Prometheus exposition at /metrics, until Ctrl-C or SIGTERM.\n\n"
      "Routes (the OpenAPI 3 document is at /api/v1/openapi.json):\n"
      "  GET    /api/v1/runs              filters product, version, hardware, label=K=V, scenario,\n"
      "                                   since, until; q (free-text search); limit (1-1000, default 50) and cursor\n"
      "                                   (the page's next_cursor)\n"
      "  POST   /api/v1/runs              store a result JSON (trackiq run --json); duplicates: 409\n"
      "  GET    /api/v1/runs/ID           the canonical result (?samples=1: every latency sample)\n"
      "  DELETE /api/v1/runs/ID\n"
      "  GET    /api/v1/runs/ID/samples   per-request latencies, streamed: JSON, or CSV (Accept: text/csv,\n"
      "                                   or ?format=csv)\n"
      "  GET    /api/v1/compare?base=A&current=B   as trackiq compare A B --json\n"
      "  GET    /api/v1/baselines         and POST {\"name\": N, \"run\": ID}\n"
      "  DELETE /api/v1/baselines/NAME\n"
      "  GET    /api/v1/history?metric=M  one metric of one series (filters product, hardware,\n"
      "                                   workload, scenario, label) with its change points, as\n"
      "                                   trackiq history M --json\n"
      "  GET    /api/v1/changes           change points of every series, newest first (since=DATE|RUN,\n"
      "                                   fdr=0.05), as trackiq detect --full --json\n"
      "  GET    /api/v1/telemetry         this machine's live telemetry (seconds=300: the last 5 min)\n"
      "  GET    /metrics                  trackiq_store_runs, trackiq_run_* (the newest run of each\n"
      "                                   series), trackiq_http_requests_total, ..._duration_seconds,\n"
      "                                   and the machine's telemetry named as monitor --listen does\n"
      "                                   (text 0.0.4, or OpenMetrics 1.0 when Accept prefers it)\n"
      "  GET    /                         the dashboard: runs, a run, compare, history, changes,\n"
      "                                   baselines, live telemetry (embedded; no network needed)\n"
      "Every GET route answers HEAD too (curl -I, health checks): the same status and headers,\n"
      "Content-Length of the GET's body, no body; a 405's Allow lists HEAD next to GET.\n\n"
      "Telemetry: the monitor collectors (--collectors, default all; none: off) are sampled every\n"
      "--telemetry-interval and the last --telemetry-window is kept in memory.\n\n"
      "Caching: GET answers of the read routes (runs, a run, compare, baselines, history,\n"
      "changes, the OpenAPI document, the dashboard) are kept in memory (--cache-mb, least\n"
      "recently used dropped first; 0: off) and served again while the store is unchanged: every\n"
      "write (this server's, a trackiq run or import on the same SQLite file, another serve on\n"
      "the same PostgreSQL database) makes the next request compute them anew. They carry\n"
      "X-Cache: hit or miss (counted as trackiq_serve_cache_hits_total and _misses_total in\n"
      "/metrics), a strong ETag and Cache-Control: no-cache; If-None-Match with that ETag gets 304\n"
      "without a body (cache on or off).\n\n"
      "Security: binds 127.0.0.1 unless --listen says otherwise; reads are open to whoever can\n"
      "reach it. Every write (POST, DELETE) needs Authorization: Bearer TOKEN, the token of\n"
      "--token-file or TRACKIQ_TOKEN (compared in constant time); with neither, writes are\n"
      "disabled (403), as with --read-only. Bodies over --max-body get 413. A connection's first\n"
      "request line and headers must arrive within --header-timeout, a body within 60 s, and the\n"
      "next request on a kept-alive connection within --idle-timeout, else it is closed. Errors\n"
      "are JSON {\"error\": \"what\", \"status\": N}: 400 bad input, 401 wrong or missing token,\n"
      "404 unknown run or route, 405 wrong method, 409 already stored.\n\n"
      "Examples:\n"
      "  trackiq serve                                  # http://127.0.0.1:8080, writes disabled\n"
      "  TRACKIQ_TOKEN=$(cat ~/.trackiq-token) trackiq serve --listen 0.0.0.0:8080\n"
      "  curl 'http://127.0.0.1:8080/api/v1/runs?product=detector&limit=10'\n"
      "  curl -H \"Authorization: Bearer $TOKEN\" --data-binary @result.json \\\n"
      "       http://127.0.0.1:8080/api/v1/runs");
  // clang-format on
  sub.add_option("--store", f->store, cli::kStoreHelp);
  sub.add_option("--listen", f->listen,
                 "HOST:PORT to listen on (port 0: any free port, printed on stderr)")
      ->capture_default_str();
  sub.add_option("--token-file", f->token_file,
                 "File holding the bearer token that writes need (else $TRACKIQ_TOKEN)");
  sub.add_flag("--read-only", f->read_only, "Refuse every write (403), whatever the token");
  sub.add_option("--max-body", f->max_body, "Largest request body in bytes (larger: 413)")
      ->capture_default_str();
  sub.add_option("--cache-mb", f->cache_mb,
                 "Memory for cached GET answers, in MiB (0: no cache; answers still carry ETags)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{0}, std::size_t{65536}));
  sub.add_option("--threads", f->threads, "Threads serving requests")
      ->capture_default_str()
      ->check(CLI::Range(1u, 256u));
  sub.add_option("--header-timeout", f->header_timeout,
                 "Deadline for a connection's first request line and headers")
      ->capture_default_str();
  sub.add_option("--idle-timeout", f->idle_timeout,
                 "Close a kept-alive connection when no next request arrives within this")
      ->capture_default_str();
  sub.add_option(
         "--collectors", f->collectors,
         "Telemetry collectors of this machine (as monitor --collectors; none: no telemetry)")
      ->capture_default_str();
  sub.add_option("--telemetry-interval", f->telemetry_interval, "Telemetry sampling interval")
      ->capture_default_str();
  sub.add_option("--telemetry-window", f->telemetry_window,
                 "Live telemetry kept in memory for /api/v1/telemetry and the dashboard")
      ->capture_default_str();
  return [f] { return serve(*f); };
}

}  // namespace trackiq::cli
