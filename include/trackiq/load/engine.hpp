#pragma once
// The HTTP/1.1 load engine (LOAD-1, LOAD-2, LOAD-6): Boost.Asio sockets with Boost.Beast's
// response parser, keep-alive, optional TLS (OpenSSL).
//
// Threads: each of `threads` runs its own io_context with its own connections, records and
// counters; nothing on the request path takes a lock (the only shared state is a stop flag and,
// with --max-error-rate, two relaxed counters). Records are merged when every thread is done.
//
// Closed loop (schedule empty): every connection sends its next request as soon as the previous
// response ends, so the concurrency is the number of connections. Open loop: request i is due
// at start + schedule_ns[i] (an absolute deadline, never a sleep after the previous send); it
// goes out on an idle connection of its thread, or waits in that thread's queue until one is
// free — the wait counts in the latency from the schedule, so a slow server cannot hide its
// queueing (no coordinated omission).
//
// Per request the engine stamps (trackiq::now_ns, steady): scheduled, sent (the write began),
// first response byte, each SSE event (when `sse`), done. Failures are classified, never
// thrown: connect, reset, closed (EOF before a complete response), timeout, http_status (>= 400),
// malformed (not HTTP), stream_error / protocol (from the SSE layer).
//
//   EngineOptions o;  o.url = parse_url("http://127.0.0.1:8080/");
//   o.requests = {make_request(o.url, "GET", {}, "")};  o.connections = 64;  o.threads = 2;
//   o.duration_ns = 10'000'000'000;
//   const EngineOutcome out = run_engine(o);
#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trackiq/load/llm_metrics.hpp"

namespace trackiq::load {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;
  std::string port;    // "80" / "443" when the URL has none
  std::string target;  // path and query, "/" when empty
  bool tls() const noexcept { return scheme == "https"; }
  std::string host_header() const;  // host[:port], the port only when not the default
};
// Parses http[s]://host[:port][/path][?query] (IPv6 hosts in brackets). InputError otherwise.
Url parse_url(std::string_view text);

// Serialises one HTTP/1.1 request for `url`: the request line, Host, the given headers, and
// Content-Length when there is a body or the method carries one; a header named in `headers`
// replaces the default of the same name. Nothing else (no User-Agent, no Connection).
std::string make_request(const Url& url, std::string_view method,
                         const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body);

enum class ErrorClass : std::uint8_t {
  none,
  connect,       // the connection could not be made (refused, unreachable, TLS handshake)
  reset,         // the peer reset the connection
  closed,        // the peer closed the connection before a complete response
  timeout,       // no complete response within the timeout
  http_status,   // status >= 400
  malformed,     // the response is not valid HTTP/1.1
  stream_error,  // the SSE stream carried an error event
  protocol,      // the SSE stream was cut mid-event, or an event was not valid
};
std::string_view to_string(ErrorClass c) noexcept;

// What one request did. Times are trackiq::now_ns() readings; 0 = did not happen.
struct RequestRecord {
  std::int64_t t_sched_ns = 0;     // due (closed loop: the send time)
  std::int64_t t_dispatch_ns = 0;  // open loop: when the event loop took it up (before any wait for a connection)
  std::int64_t t_send_ns = 0;
  std::int64_t t_first_byte_ns = 0;
  std::int64_t t_done_ns = 0;
  std::uint64_t response_bytes = 0;  // body bytes
  std::uint64_t index = 0;           // request number: requests[index % requests.size()]
  double audio_s = -1;               // WAV responses: the audio's duration; -1 = not audio
  std::uint16_t status = 0;          // HTTP status; 0 = no response
  ErrorClass error = ErrorClass::none;
  bool warmup = false;  // scheduled in the warm-up: not counted
  // Sent a second time, on a new connection, after the kept-alive one it went out on closed or
  // reset before any response byte (EngineOptions::retry_stale); t_send is the second send's.
  bool retried = false;
};

struct EngineOptions {
  Url url;
  std::vector<std::string> requests;  // serialised requests, used round-robin by request number
  unsigned threads = 1;
  unsigned connections = 1;
  std::vector<std::int64_t> schedule_ns;  // open loop when non-empty: offsets from the start
  std::int64_t duration_ns = 10'000'000'000;  // closed loop: no new request after this
  std::optional<std::uint64_t> max_requests;  // closed loop: at most this many (open: schedule size)
  std::int64_t warmup_ns = 0;                 // requests due before this are marked warmup
  std::int64_t timeout_ns = 30'000'000'000;   // per request, from the send
  bool sse = false;           // parse response bodies as OpenAI SSE streams (llm records)
  bool wav = false;           // read a WAV header at the start of each body (audio_s)
  bool insecure_tls = false;  // https: do not verify the server's certificate
  std::optional<double> max_error_rate;  // stop when failed / finished exceeds this (after 50)
  // A request whose kept-alive connection turns out closed (reset or EOF before any response
  // byte) is sent once more on a new connection, as browsers and HTTP libraries do for a server's
  // idle-connection housekeeping; it is marked `retried`. Off: that failure counts as the error.
  bool retry_stale = true;
  std::size_t max_sse_event_bytes = std::size_t{1} << 20;
  // Run the engine's threads under SCHED_BATCH: a thread woken by a response does not preempt
  // the thread running on its CPU (the server under test, when they share CPUs) but waits for
  // the scheduler's next decision. The server keeps its CPU for whole batches of requests
  // (LOAD-7's nginx benchmark: ~10 % more requests/s on 2 shared cores); the price is that a
  // response's arrival may be stamped up to a scheduler slice late while every CPU is busy, so
  // it suits the closed loop (capacity) and not the open loop (sends on time).
  bool batch_sched = false;
};

struct EngineOutcome {
  std::vector<RequestRecord> records;   // every request sent or due, in request-number order
  std::vector<LlmRequestRecord> llm;    // when sse: parallel to records
  std::map<std::string, std::uint64_t> errors_by_class;
  std::map<std::string, std::string> error_examples;  // class → the first message seen
  std::int64_t start_ns = 0;           // the run's time origin (schedule offsets count from it)
  std::int64_t end_ns = 0;             // the last completion
  double client_cpu_s = 0;             // user + system CPU of this process during the run
  std::vector<double> thread_busy;     // per engine thread: CPU time / wall time
  bool stopped_early = false;
  std::string stop_reason;
  std::uint64_t not_sent = 0;          // due but never sent (the run stopped first)
  // The engine threads' scheduling policy as the kernel reports it: "normal", "batch", or
  // "normal (SCHED_BATCH refused: why)".
  std::string client_sched;
};

// Runs the load. Throws InputError for bad options and NotAvailableError when the host name
// cannot be resolved; everything that happens to a request is recorded instead.
EngineOutcome run_engine(const EngineOptions& options);

// The duration of a RIFF/WAVE file's audio from its first bytes (the fmt and data chunks must be
// among them); `total_bytes` is used when the data chunk's size is unknown (0 or 0xFFFFFFFF, as
// streaming servers write it). Empty when the bytes are not a PCM/float WAV header.
std::optional<double> wav_duration_s(std::string_view head, std::uint64_t total_bytes);

}  // namespace trackiq::load
