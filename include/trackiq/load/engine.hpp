#pragma once
// The HTTP/1.1 load engine (LOAD-1, LOAD-2, LOAD-6): Boost.Asio sockets with Boost.Beast's
// response parser, keep-alive, optional TLS (OpenSSL).
//
// Threads: each of `threads` runs its own io_context with its own connections, records and
// counters. Records are merged when every thread is done.
//
// Closed loop (schedule empty): every connection sends its next request as soon as the previous
// response ends, so the concurrency is the number of connections. Nothing on its request path
// takes a lock (the only shared state is a stop flag and, with --max-error-rate or
// max_requests, relaxed counters).
//
// Open loop: request i is due at start + schedule_ns[i] (an absolute deadline, never a sleep
// after the previous send) on its home thread (i % threads). It goes out at once on an idle
// connection of that thread; when all of them are busy it joins one queue that every thread
// serves: the first connection of any thread that is or becomes free takes the oldest waiting
// request (another thread with an idle connection is woken for it). So the client's capacity is
// the whole connection pool, and a request never waits behind a slow one on its own thread while
// another thread idles. The wait counts in the latency from the schedule, so a slow server
// cannot hide its queueing (no coordinated omission); a request that waits longer than the
// timeout is given up unsent as client_queue. The queue has a mutex, taken only while requests
// wait (or by a request that has to wait).
//
// Per request the engine stamps (trackiq::now_ns, steady): scheduled, sent (the write began),
// first response byte, each SSE event (when `sse`), done. Failures are classified, never
// thrown: connect, reset, closed (EOF before a complete response), timeout, http_status (>= 400,
// with the start of the body; it takes precedence over the stream's verdict), malformed (not
// HTTP), stream_error / protocol (from the SSE layer), client_queue (never sent).
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
  client_queue,  // open loop: never sent, no connection became free within the timeout of its due time
};
std::string_view to_string(ErrorClass c) noexcept;

// What one request did. Times are trackiq::now_ns() readings; 0 = did not happen.
struct RequestRecord {
  std::int64_t t_sched_ns = 0;     // due (closed loop: the send time)
  std::int64_t t_dispatch_ns = 0;  // open loop: when its home thread took it up (before any wait for a connection)
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
  // Per request, from the send; in the open loop also from the due time for a request still
  // waiting for a free connection (then it fails as client_queue, unsent).
  std::int64_t timeout_ns = 30'000'000'000;
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
