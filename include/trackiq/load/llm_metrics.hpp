#pragma once
// Timing of streamed LLM requests and the aggregate over a run, under vLLM-compatible names
// (`mean_/median_/std_/pNN_{ttft,tpot,itl,e2el}_ms`, `request_throughput`, ...). Definitions
// and formulas: docs/metrics.md, "LLM serving metrics". In short, per completed request:
//   TTFT  = t_first_output − t_send           (first event carrying generated text)
//   E2EL  = t_last_output − t_send            (the usage-only chunk and [DONE] do not count)
//   TPOT  = (E2EL − TTFT) / (N_out − 1)       (only for N_out ≥ 2)
//   ITL   = every gap between consecutive output events (inter-chunk, as vLLM's "itl")
//   per-token ITL = each such gap divided by the tokens of the later event, once per token
//   `_sched` variants measure from the scheduled time instead (coordinated-omission free).
// All times are monotonic ns from one clock (trackiq::now_ns()). A record belongs to the thread
// running its request; compute_llm_metrics() reads finished records and keeps no state.
//
// Example (one request; the engine does this per connection):
//   LlmRequestRecord r;
//   r.t_sched_ns = scheduled;  r.t_send_ns = now_ns();
//   for each read:  reader.feed(bytes, now_ns(), events);
//                   for (const SseEvent& e : events)
//                     record_stream_event(r, classify_openai_event(e), e.t_ns);
//   at the end:     record_stream_end(r, reader.finish(), now_ns());
//   LlmMetricsOptions options;  options.slo = parse_llm_slo("ttft=200ms,tpot=50ms");
//   const std::string json = to_json(compute_llm_metrics(records, options));
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trackiq/core/histogram.hpp"
#include "trackiq/core/stats.hpp"
#include "trackiq/load/openai_stream.hpp"
#include "trackiq/load/sse.hpp"

namespace trackiq::load {

// A per-event token count above this is treated as unknown. Real chunks carry one token, or a
// few with speculative decoding; the bound matters because the per-token ITL expands each
// event into one sample per token, and the count comes from the server.
inline constexpr std::int64_t kMaxTokensPerEvent = 1024;

// One SSE event that carried generated text.
struct OutputEvent {
  std::int64_t t_ns = 0;    // arrival: the read that completed the event
  std::int64_t tokens = 0;  // tokens it carried when the server said so; 0 = unknown
  bool answer = false;      // carried answer text (content, completion text or a tool call)
  bool reasoning = false;   // carried reasoning text

  bool operator==(const OutputEvent&) const = default;
};

// The timeline of one request. Owned and written by the thread that runs the request; read
// by the aggregator once the request is over.
struct LlmRequestRecord {
  std::int64_t t_sched_ns = 0;                      // intended start (closed loop: the send time)
  std::optional<std::int64_t> t_send_ns;            // request written; empty when never sent
  std::optional<std::int64_t> t_first_byte_ns;      // first response byte
  std::vector<OutputEvent> events;                  // output events, in arrival order
  std::optional<std::int64_t> t_done_ns;            // [DONE], end of stream, or the failure
  bool saw_done = false;                            // the stream sent `data: [DONE]`
  std::optional<std::int64_t> usage_prompt_tokens;  // from the server's `usage`
  std::optional<std::int64_t> usage_completion_tokens;  // from the server's `usage`
  bool ok = true;
  // When !ok: "stream_error" (the server sent an error event), "protocol" (malformed or
  // truncated stream), or the engine's class (connect, timeout, http_status, ...).
  std::string error_class;
  std::string error_message;

  // Marks the request failed; the first failure is kept.
  void fail(std::string error_class, std::string message);
};

// Applies one classified SSE event that arrived at t_ns:
// - a chunk with generated text (answer, reasoning or tool call) appends an OutputEvent; its
//   token count is the chunk's listed tokens, else the growth of usage.completion_tokens
//   since an earlier chunk's usage (vLLM continuous_usage_stats), else unknown;
// - role-only, empty and usage-only chunks add no OutputEvent; any chunk's usage is kept
//   (the last one wins);
// - [DONE] sets saw_done and t_done_ns; an error event fails the request ("stream_error"),
//   a malformed one too ("protocol"), and sets t_done_ns;
// - events after [DONE] or after a failure are ignored.
void record_stream_event(LlmRequestRecord& record, const StreamEvent& event, std::int64_t t_ns);

// The response body ended at t_ns (SseReader::finish() gave `finish`): sets t_done_ns when
// unset and, unless [DONE] came first, fails the request as "protocol" when the reader hit its
// size limit or discarded an incomplete event. A clean end without [DONE] stays a success
// (as in vLLM); saw_done tells the two apart.
void record_stream_end(LlmRequestRecord& record, const SseFinish& finish, std::int64_t t_ns);

// N_out: usage.completion_tokens when the server sent it; otherwise estimated as the sum over
// output events of their token count, 1 for each event whose count is unknown.
struct OutputTokens {
  std::int64_t count = 0;
  bool estimated = false;
};
OutputTokens output_tokens(const LlmRequestRecord& record);

// The per-request values behind the aggregate. Only for completed requests with at least one
// output event (has_output); otherwise every latency below is 0 / empty.
struct LlmRequestMetrics {
  bool has_output = false;
  OutputTokens output_tokens;
  std::int64_t client_queue_ns = 0;  // t_send − t_sched
  std::int64_t ttft_ns = 0;
  std::int64_t ttft_sched_ns = 0;
  std::optional<std::int64_t> ttft_reasoning_ns;  // first reasoning event − t_send
  std::optional<std::int64_t> ttft_answer_ns;     // first answer event − t_send
  std::int64_t e2el_ns = 0;
  std::int64_t e2el_sched_ns = 0;
  // TPOT in integer picoseconds, rounded half up from the exact ratio; only for N_out ≥ 2.
  std::optional<std::int64_t> tpot_ps;
};
// Throws trackiq::Error when a completed record is inconsistent (no send time, output events
// out of order or before the send).
LlmRequestMetrics request_metrics(const LlmRequestRecord& record);

// Latency SLOs for goodput; a request is good when it meets every SLO given, with `≤`
// (a value exactly at the limit passes). TPOT counts as 0 when N_out ≤ 1.
struct LlmSlo {
  std::optional<std::int64_t> ttft_ns;
  std::optional<std::int64_t> tpot_ns;
  std::optional<std::int64_t> e2el_ns;

  bool empty() const noexcept { return !ttft_ns && !tpot_ns && !e2el_ns; }
};

// Parses "ttft=200ms,tpot=50ms,e2el=2s" (keys ttft, tpot, e2el or e2e; each value a positive
// duration with a unit: ns, us, ms, s, m, h). Throws InputError naming the bad part.
LlmSlo parse_llm_slo(std::string_view spec);

// Whether a request meets `slo`, with TTFT and E2EL from the send (default) or from the
// scheduled time. A request without output never meets an SLO.
bool meets_slo(const LlmRequestMetrics& m, const LlmSlo& slo, bool from_schedule = false);

struct LlmMetricsOptions {
  std::vector<double> percentiles{50.0, 90.0, 95.0, 99.0};  // each in [0, 100]
  LlmSlo slo;                                               // empty: no goodput
  // Benchmark duration D. Empty: max(t_last_output over completed requests) − min(t_send).
  std::optional<std::int64_t> duration_ns;
};

// Exact statistics of one metric over its samples, in ms.
struct LlmLatencySummary {
  std::uint64_t count = 0;
  double mean_ms = 0;
  double median_ms = 0;
  double std_ms = 0;                    // population standard deviation (numpy's np.std)
  std::vector<Percentile> percentiles;  // p, value in ms; in the order of options.percentiles
};

struct LlmRunMetrics {
  std::vector<double> percentiles;
  std::uint64_t completed = 0;  // ok requests
  std::uint64_t failed = 0;     // !ok requests, sent or not
  std::map<std::string, std::uint64_t> failed_by_class;
  std::uint64_t completed_without_output = 0;          // ok, but no output event
  std::uint64_t output_tokens_estimated_requests = 0;  // completed, no usage.completion_tokens
  std::uint64_t prompt_tokens_missing_requests = 0;    // completed, no usage.prompt_tokens
  std::int64_t total_input_tokens = 0;                 // Σ usage.prompt_tokens, completed
  std::int64_t total_output_tokens = 0;                // Σ N_out, completed
  std::int64_t duration_ns = 0;                        // D; throughputs need D > 0
  double request_throughput = 0;                       // completed / D, per s
  double output_throughput = 0;                        // Σ N_out / D, tokens/s
  double total_token_throughput = 0;                   // (Σ N_in + Σ N_out) / D, tokens/s
  bool has_slo = false;
  std::uint64_t good_requests = 0;            // meet the SLO, from the send
  std::uint64_t good_requests_sched = 0;      // meet the SLO, from the scheduled time
  double request_goodput = 0;                 // good_requests / D, per s
  double request_goodput_sched = 0;           // good_requests_sched / D, per s
  std::uint64_t max_concurrent_requests = 0;  // most requests in [t_send, end) at once

  LlmLatencySummary ttft, ttft_sched, ttft_reasoning, ttft_answer, tpot, itl, per_token_itl, e2el,
      e2el_sched, client_queue;
  // The same per-request values as lossless histograms in ns, by family: "ttft", "ttft_sched",
  // "tpot", "itl", "e2el", "e2el_sched" (those with samples), for Result::distributions.
  std::map<std::string, Histogram> distributions;
};

// Aggregates a run. Latencies come from completed requests with output; failed requests are
// only counted (and take part in max_concurrent_requests and client_queue). client_queue holds
// t_send − t_sched of every sent request and t_done − t_sched of every request that failed
// unsent with class "client_queue" (it waited that long in the client before it was given up). Throws
// InputError on a bad percentile, Error on an inconsistent record.
LlmRunMetrics compute_llm_metrics(std::span<const LlmRequestRecord> records,
                                  const LlmMetricsOptions& options = {});

// "p99", "p99.9", "p0.1": the vLLM spelling of a percentile in a metric name.
std::string percentile_label(double p);

// The flat name → value view (vLLM names; docs/metrics.md lists them). A latency family with
// no samples and the rates with D = 0 are left out rather than reported as 0.
std::map<std::string, double> to_flat_map(const LlmRunMetrics& metrics);

// The flat map as one JSON object (keys sorted; counts as integers). Locale-independent.
std::string to_json(const LlmRunMetrics& metrics);

}  // namespace trackiq::load
