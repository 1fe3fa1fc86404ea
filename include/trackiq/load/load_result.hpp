#pragma once
// From the engine's per-request records to the canonical result of a `trackiq load` point
// (scenario "load"): request latency (exact samples), throughput, schedule lag, client CPU,
// errors by class, LLM metrics under vLLM's names, and the warnings of LOAD-2 (the client as the
// bottleneck) and LOAD-5 (stability).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trackiq/core/result.hpp"
#include "trackiq/load/engine.hpp"
#include "trackiq/load/llm_metrics.hpp"

namespace trackiq::load {

struct LoadPointOptions {
  std::string url;
  std::string api = "generic";  // generic, openai-chat, openai-completions, kserve
  std::string model;            // the served model (OpenAI / KServe), if any
  std::optional<double> rate;   // open loop: the target rate
  unsigned concurrency = 0;     // closed loop: connections in use
  unsigned connections = 0;
  unsigned threads = 0;
  std::int64_t duration_ns = 0;
  std::int64_t warmup_ns = 0;
  std::uint64_t seed = 0;
  std::string arrival;  // constant / poisson / gamma / trace; "" for the closed loop
  std::string client_sched;  // EngineOutcome::client_sched
  LlmSlo slo;
  double slo_percentile = 99;  // the percentile each SLO limit applies to (90, 95 or 99)
};

// MLPerf LoadGen's early-stopping rule for a percentile SLO: with k of n requests over the
// latency limit, "the p-th percentile is within the limit" is confirmed at `confidence` when
// P(X <= k) <= 1 - confidence for X ~ Binomial(n, 1 - p/100) — a one-sided test that the true
// tail fraction beyond the limit is at most 1 - p/100, so a short run cannot pass by luck.
bool early_stopping_pass(std::uint64_t n, std::uint64_t k, double percentile, double confidence = 0.99);

// The fewest requests with which `k` of them over the limit still confirm the percentile
// (early_stopping_pass); empty when none up to 2^40 would (percentile 100).
std::optional<std::uint64_t> requests_to_confirm(std::uint64_t k, double percentile, double confidence = 0.99);

struct LoadPoint {
  Result result;                      // the canonical result of this point
  std::optional<LlmRunMetrics> llm;   // OpenAI APIs
  double target_rate = 0;             // open loop: requests / schedule span (0 closed loop)
  std::optional<double> requested_rate;  // --rate as given (a Poisson schedule draws near it)
  double achieved_rate = 0;           // completed requests / D
  double late_fraction = 0;           // sends > 1 ms behind schedule
  double client_busy_max = 0;         // the busiest engine thread: CPU / wall
  bool client_bottleneck = false;     // busiest thread > 50 % or > 1 % of sends late
  std::vector<double> window_rates;   // completions per second in each of 10 windows of the run
  bool stable = false;                // the last 3 windows within ±10 % of their mean (perf_analyzer)
  bool partial = false;               // stopped early (--max-error-rate)
  // Open loop: the latency, the console's TTFT and E2EL, request_goodput and the SLO verdicts
  // count from the scheduled time (a wait for a free connection is latency); closed loop: from
  // the send, which is the same time there.
  bool from_schedule = false;
  bool slo_failed = false;            // an SLO verdict in result.slo is FAIL
  bool slo_unconfirmed = false;       // an SLO verdict is NOT_CONFIRMED (within its limit, too few requests)
  bool none_succeeded = false;        // requests were due and not one completed
};

// Builds the point. Warm-up requests are left out of every statistic. Latency samples, the
// goodput and the SLO verdicts are from the schedule in the open loop (coordinated-omission
// free; measured_from "scheduled") and from the send in the closed loop (where the two are the
// same). The stored vLLM families keep both origins (mean_ttft_ms from the send,
// mean_ttft_sched_ms from the schedule).
LoadPoint summarize_point(const EngineOutcome& out, const LoadPointOptions& options);

// One JSON object per request (JSON Lines): every timestamp (ns, relative to the run's start),
// status, bytes, error class; with LLM records also the output events' times and token counts.
std::string requests_jsonl(const EngineOutcome& out);

// A console summary in the layout of vLLM's benchmark_serving (one block per point).
std::string render_point(const LoadPoint& p);

// Load past one client machine: client K of N (`--shard K/N`), K counted from 0 (as a
// Kubernetes Indexed Job's JOB_COMPLETION_INDEX). parse_shard reads "K/N" and throws InputError
// unless 0 <= K < N and N >= 1.
struct Shard {
  unsigned k = 0;
  unsigned n = 1;
};
Shard parse_shard(std::string_view text);
std::string shard_text(const Shard& s);  // "K/N"

// Client K's deterministic share of a whole: total / N, the first total % N clients one more.
std::uint64_t shard_share(std::uint64_t total, const Shard& s) noexcept;

// The open loop's share: the arrivals i with i % N == K, at their original offsets.
std::vector<std::int64_t> shard_schedule(const std::vector<std::int64_t>& schedule_ns, const Shard& s);

// The serialised requests for client K such that its j-th arrival (the original arrival
// K + j*N) sends what the unsharded run would have sent (requests are used round-robin).
std::vector<std::string> shard_requests(const std::vector<std::string>& requests, const Shard& s);

// One exact result from the runs of a group of clients (labels group=NAME, shard=K/N): latency
// percentiles from the pooled exact samples, the vLLM families from the pooled distributions,
// rates summed, counts and errors by class summed, error_rate recomputed, wall time the longest
// shard's. Labels of shard 0 less `shard`, plus merged_from="N runs"; a new run id.
// InputError when a run is not a shard of `group`, the shard counts N differ, or a shard K is
// missing or given twice.
Result merge_shards(const std::vector<Result>& runs, const std::string& group);

}  // namespace trackiq::load
