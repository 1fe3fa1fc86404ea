#include <gtest/gtest.h>

#include <clocale>
#include <cmath>
#include <cstdint>
#include <locale>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "trackiq/core/error.hpp"
#include "trackiq/load/llm_metrics.hpp"
#include "trackiq/load/openai_stream.hpp"
#include "trackiq/load/sse.hpp"

// Every expected value below is computed by hand from the scripted timestamps; the formulas
// are the ones in docs/metrics.md ("LLM serving metrics").

namespace trackiq::load {
namespace {

constexpr std::int64_t kMs = 1'000'000;  // ns

struct Step {
  std::int64_t t_ns;
  std::string data;  // one SSE event's data
};

// Sends every step through the real layers: SSE framing, classification, recording.
LlmRequestRecord run_stream(std::int64_t sched, std::int64_t send, const std::vector<Step>& steps) {
  LlmRequestRecord r;
  r.t_sched_ns = sched;
  r.t_send_ns = send;
  SseReader reader;
  std::int64_t last = send;
  for (const Step& s : steps) {
    std::vector<SseEvent> events;
    reader.feed("data: " + s.data + "\n\n", s.t_ns, events);
    for (const SseEvent& e : events) record_stream_event(r, classify_openai_event(e), e.t_ns);
    last = s.t_ns;
  }
  record_stream_end(r, reader.finish(), last);
  return r;
}

std::string role() {
  return R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})";
}
std::string content(const std::string& text) {
  return R"({"choices":[{"index":0,"delta":{"content":")" + text + R"("}}]})";
}
std::string content_with_logprobs(const std::string& text, int tokens) {
  std::string list;
  for (int i = 0; i < tokens; ++i) list += std::string(i ? "," : "") + R"({"token":"t"})";
  return R"({"choices":[{"index":0,"delta":{"content":")" + text + R"("},"logprobs":{"content":[)" +
         list + "]}}]}";
}
std::string reasoning(const std::string& text) {
  return R"({"choices":[{"index":0,"delta":{"reasoning_content":")" + text + R"("}}]})";
}
std::string finish_chunk() {
  return R"({"choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}]})";
}
std::string usage(int prompt, int completion) {
  return R"({"choices":[],"usage":{"prompt_tokens":)" + std::to_string(prompt) +
         R"(,"completion_tokens":)" + std::to_string(completion) + "}}";
}
std::string with_cumulative_usage(const std::string& text, int completion) {
  return R"({"choices":[{"index":0,"delta":{"content":")" + text +
         R"("}}],"usage":{"prompt_tokens":4,"completion_tokens":)" + std::to_string(completion) +
         "}}";
}

// A request with output events at `times` (ms after a send at `send_ms`), N_out = usage.
LlmRequestRecord scripted(std::int64_t send_ms, std::vector<std::int64_t> times_ms,
                          std::optional<std::int64_t> n_out, std::int64_t sched_ms = -1) {
  LlmRequestRecord r;
  r.t_sched_ns = (sched_ms < 0 ? send_ms : sched_ms) * kMs;
  r.t_send_ns = send_ms * kMs;
  for (std::int64_t t : times_ms) r.events.push_back(OutputEvent{t * kMs, 0, true, false});
  r.usage_completion_tokens = n_out;
  r.t_done_ns = r.events.empty() ? *r.t_send_ns : r.events.back().t_ns;
  return r;
}

double percentile(const LlmLatencySummary& s, double p) {
  for (const Percentile& x : s.percentiles)
    if (x.p == p) return x.value;
  ADD_FAILURE() << "percentile " << p << " missing";
  return NAN;
}

// The reference stream: sched 0, send 1 ms; role-only at 50 ms, empty content at 60 ms,
// "Hel" 100, "lo" 130, "!" 170, finish chunk 171, usage-only (10 in, 3 out) 172, [DONE] 173.
LlmRequestRecord reference_stream() {
  return run_stream(0, 1 * kMs,
                    {{50 * kMs, role()},
                     {60 * kMs, content("")},
                     {100 * kMs, content("Hel")},
                     {130 * kMs, content("lo")},
                     {170 * kMs, content("!")},
                     {171 * kMs, finish_chunk()},
                     {172 * kMs, usage(10, 3)},
                     {173 * kMs, "[DONE]"}});
}

TEST(LlmRecord, RoleOnlyEmptyAndUsageOnlyChunksAreNotOutputEvents) {
  const LlmRequestRecord r = reference_stream();
  ASSERT_TRUE(r.ok) << r.error_message;
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[0].t_ns, 100 * kMs);
  EXPECT_EQ(r.events[1].t_ns, 130 * kMs);
  EXPECT_EQ(r.events[2].t_ns, 170 * kMs);
  EXPECT_TRUE(r.saw_done);
  EXPECT_EQ(r.t_done_ns, 173 * kMs);
  EXPECT_EQ(r.usage_prompt_tokens, 10);
  EXPECT_EQ(r.usage_completion_tokens, 3);
}

TEST(LlmMetrics, ScriptedStreamMatchesHandComputedValues) {
  const LlmRequestRecord r = reference_stream();
  const LlmRequestMetrics m = request_metrics(r);
  ASSERT_TRUE(m.has_output);
  EXPECT_EQ(m.ttft_ns, 99 * kMs);         // 100 − 1
  EXPECT_EQ(m.ttft_sched_ns, 100 * kMs);  // 100 − 0
  EXPECT_EQ(m.e2el_ns, 169 * kMs);        // 170 − 1: the usage chunk and [DONE] do not count
  EXPECT_EQ(m.e2el_sched_ns, 170 * kMs);
  EXPECT_EQ(m.client_queue_ns, 1 * kMs);
  EXPECT_EQ(m.output_tokens.count, 3);
  EXPECT_FALSE(m.output_tokens.estimated);
  EXPECT_EQ(m.tpot_ps, 35'000'000'000);  // (169 − 99) / (3 − 1) = 35 ms

  const std::vector<LlmRequestRecord> run{r};
  const LlmRunMetrics a = compute_llm_metrics(run);
  EXPECT_EQ(a.completed, 1u);
  EXPECT_EQ(a.failed, 0u);
  EXPECT_DOUBLE_EQ(a.ttft.mean_ms, 99.0);
  EXPECT_DOUBLE_EQ(a.ttft.median_ms, 99.0);
  EXPECT_DOUBLE_EQ(a.ttft.std_ms, 0.0);
  EXPECT_DOUBLE_EQ(a.ttft_sched.mean_ms, 100.0);
  EXPECT_DOUBLE_EQ(a.tpot.mean_ms, 35.0);
  EXPECT_DOUBLE_EQ(a.e2el.mean_ms, 169.0);
  EXPECT_DOUBLE_EQ(a.e2el_sched.mean_ms, 170.0);
  // ITL = [30, 40] ms.
  EXPECT_EQ(a.itl.count, 2u);
  EXPECT_DOUBLE_EQ(a.itl.mean_ms, 35.0);
  EXPECT_DOUBLE_EQ(a.itl.median_ms, 35.0);
  EXPECT_DOUBLE_EQ(a.itl.std_ms, 5.0);
  EXPECT_NEAR(percentile(a.itl, 90), 39.0, 1e-9);  // 30 + 0.9 · 10
  EXPECT_NEAR(percentile(a.itl, 99), 39.9, 1e-9);
  // Without per-chunk counts the per-token ITL equals the inter-chunk list.
  EXPECT_EQ(a.per_token_itl.count, 2u);
  EXPECT_DOUBLE_EQ(a.per_token_itl.mean_ms, 35.0);
  // D = last output (170) − first send (1) = 169 ms.
  EXPECT_EQ(a.duration_ns, 169 * kMs);
  EXPECT_DOUBLE_EQ(a.request_throughput, 1 / 0.169);
  EXPECT_DOUBLE_EQ(a.output_throughput, 3 / 0.169);
  EXPECT_DOUBLE_EQ(a.total_token_throughput, 13 / 0.169);
  EXPECT_EQ(a.max_concurrent_requests, 1u);
  // The per-request values as histograms in ns, for comparisons (TPOT from ps, rounded).
  ASSERT_EQ(a.distributions.size(), 6u);
  EXPECT_EQ(a.distributions.at("itl").count(), 2u);
  EXPECT_EQ(a.distributions.at("itl").min(), a.distributions.at("itl").lowest_equivalent(30 * kMs));
  EXPECT_EQ(a.distributions.at("tpot").max(), a.distributions.at("tpot").highest_equivalent(35 * kMs));
  EXPECT_EQ(a.distributions.at("e2el_sched").min(), a.distributions.at("e2el_sched").lowest_equivalent(170 * kMs));

  const auto flat = to_flat_map(a);
  EXPECT_DOUBLE_EQ(flat.at("mean_ttft_ms"), 99.0);
  EXPECT_DOUBLE_EQ(flat.at("median_ttft_ms"), 99.0);
  EXPECT_DOUBLE_EQ(flat.at("p99_ttft_ms"), 99.0);
  EXPECT_DOUBLE_EQ(flat.at("mean_tpot_ms"), 35.0);
  EXPECT_DOUBLE_EQ(flat.at("std_itl_ms"), 5.0);
  EXPECT_DOUBLE_EQ(flat.at("mean_e2el_ms"), 169.0);
  EXPECT_DOUBLE_EQ(flat.at("mean_e2el_sched_ms"), 170.0);
  EXPECT_DOUBLE_EQ(flat.at("duration_s"), 0.169);
  EXPECT_DOUBLE_EQ(flat.at("total_output_tokens"), 3.0);
  EXPECT_DOUBLE_EQ(flat.at("total_input_tokens"), 10.0);
  EXPECT_EQ(flat.count("p90_itl_ms"), 1u);
  EXPECT_EQ(flat.count("p95_e2el_ms"), 1u);
  EXPECT_EQ(flat.count("request_goodput"), 0u);  // no SLO given
}

TEST(LlmMetrics, AChunkCarryingThreeTokensSpreadsItsGapInPerTokenItl) {
  // Events at 100 (1 token), 130 (3 tokens), 160 (1 token) ms; send at 0; usage says 5.
  const LlmRequestRecord r = run_stream(0, 0,
                                        {{100 * kMs, content_with_logprobs("a", 1)},
                                         {130 * kMs, content_with_logprobs("bcd", 3)},
                                         {160 * kMs, content_with_logprobs("e", 1)},
                                         {161 * kMs, usage(2, 5)},
                                         {162 * kMs, "[DONE]"}});
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[1].tokens, 3);
  const std::vector<LlmRequestRecord> run{r};
  const LlmRunMetrics a = compute_llm_metrics(run);
  // Inter-chunk (itl_*): [30, 30].
  EXPECT_EQ(a.itl.count, 2u);
  EXPECT_DOUBLE_EQ(a.itl.mean_ms, 30.0);
  // Per token: 30/3 three times, then 30: [10, 10, 10, 30].
  EXPECT_EQ(a.per_token_itl.count, 4u);
  EXPECT_DOUBLE_EQ(a.per_token_itl.mean_ms, 15.0);
  EXPECT_DOUBLE_EQ(a.per_token_itl.median_ms, 10.0);
  EXPECT_NEAR(a.per_token_itl.std_ms, std::sqrt(75.0), 1e-9);
  EXPECT_NEAR(percentile(a.per_token_itl, 90), 24.0, 1e-9);  // rank 2.7: 10 + 0.7 · 20
  // TPOT = (160 − 100) / (5 − 1) = 15 ms.
  EXPECT_DOUBLE_EQ(a.tpot.mean_ms, 15.0);
}

TEST(LlmMetrics, CumulativeUsageOnEveryChunkGivesPerChunkTokens) {
  const LlmRequestRecord r = run_stream(0, 0,
                                        {{10 * kMs, with_cumulative_usage("", 0)},
                                         {100 * kMs, with_cumulative_usage("a", 1)},
                                         {130 * kMs, with_cumulative_usage("bcd", 4)},
                                         {160 * kMs, with_cumulative_usage("e", 5)},
                                         {162 * kMs, "[DONE]"}});
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[0].tokens, 1);
  EXPECT_EQ(r.events[1].tokens, 3);
  EXPECT_EQ(r.events[2].tokens, 1);
  EXPECT_EQ(output_tokens(r).count, 5);
  EXPECT_FALSE(output_tokens(r).estimated);
  const std::vector<LlmRequestRecord> run{r};
  EXPECT_DOUBLE_EQ(compute_llm_metrics(run).per_token_itl.mean_ms, 15.0);
}

TEST(LlmMetrics, UsageOnlyOnTheLastContentChunkIsNotReadAsThatChunksTokens) {
  const LlmRequestRecord r =
      run_stream(0, 0, {{100 * kMs, content("a")}, {130 * kMs, with_cumulative_usage("b", 9)}});
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[1].tokens, 0);  // no earlier usage: the 9 is the total, not a delta
  EXPECT_EQ(output_tokens(r).count, 9);
}

TEST(LlmMetrics, OutputTokensComeFromUsageElseAreEstimatedFromEvents) {
  const LlmRequestRecord with_usage = scripted(0, {100, 130, 170}, 7);
  const LlmRequestRecord without = scripted(0, {100, 130, 170}, std::nullopt);
  EXPECT_EQ(output_tokens(with_usage).count, 7);
  EXPECT_FALSE(output_tokens(with_usage).estimated);
  EXPECT_EQ(output_tokens(without).count, 3);
  EXPECT_TRUE(output_tokens(without).estimated);
  // TPOT follows N_out: 70/6 ms with usage (rounded to the ps), 70/2 ms without.
  EXPECT_EQ(request_metrics(with_usage).tpot_ps, 11'666'666'667);
  EXPECT_EQ(request_metrics(without).tpot_ps, 35'000'000'000);

  const std::vector<LlmRequestRecord> run{with_usage, without};
  const LlmRunMetrics a = compute_llm_metrics(run);
  EXPECT_EQ(a.output_tokens_estimated_requests, 1u);
  EXPECT_EQ(a.total_output_tokens, 10);
  EXPECT_DOUBLE_EQ(to_flat_map(a).at("output_tokens_estimated_requests"), 1.0);

  // Known per-event counts feed the estimate; unknown ones count 1.
  LlmRequestRecord counted = without;
  counted.events[1].tokens = 4;
  EXPECT_EQ(output_tokens(counted).count, 6);
  EXPECT_TRUE(output_tokens(counted).estimated);
}

TEST(LlmMetrics, TpotIsRoundedHalfUpToThePicosecondAndAbsentBelowTwoTokens) {
  LlmRequestRecord r = scripted(0, {100}, 17);
  r.events.push_back(OutputEvent{100 * kMs + 1, 0, true, false});  // 1 ns later
  EXPECT_EQ(request_metrics(r).tpot_ps, 63);                       // 1000 ps / 16 = 62.5 → 63
  EXPECT_FALSE(request_metrics(scripted(0, {100}, 1)).tpot_ps.has_value());
  EXPECT_FALSE(request_metrics(scripted(0, {100, 120}, 1)).tpot_ps.has_value());
}

TEST(LlmMetrics, ReasoningCountsAsOutputAndItsFirstTokenIsReportedApart) {
  const LlmRequestRecord r = run_stream(0, 0,
                                        {{5 * kMs, role()},
                                         {50 * kMs, reasoning("Let")},
                                         {80 * kMs, reasoning(" me think")},
                                         {120 * kMs, content("Yes")},
                                         {150 * kMs, content(".")},
                                         {151 * kMs, "[DONE]"}});
  const LlmRequestMetrics m = request_metrics(r);
  EXPECT_EQ(m.ttft_ns, 50 * kMs);
  EXPECT_EQ(m.ttft_reasoning_ns, 50 * kMs);
  EXPECT_EQ(m.ttft_answer_ns, 120 * kMs);
  EXPECT_EQ(m.output_tokens.count, 4);  // estimated: reasoning events are output too
  EXPECT_EQ(m.e2el_ns, 150 * kMs);
  const std::vector<LlmRequestRecord> run{r};
  const auto flat = to_flat_map(compute_llm_metrics(run));
  EXPECT_DOUBLE_EQ(flat.at("mean_ttft_ms"), 50.0);
  EXPECT_DOUBLE_EQ(flat.at("mean_ttft_reasoning_ms"), 50.0);
  EXPECT_DOUBLE_EQ(flat.at("mean_ttft_answer_ms"), 120.0);
  EXPECT_DOUBLE_EQ(flat.at("mean_itl_ms"), 100.0 / 3);  // [30, 40, 30]
  EXPECT_NEAR(flat.at("mean_tpot_ms"), 100.0 / 3, 1e-9);
}

TEST(LlmMetrics, NoReasoningMeansNoReasoningFamily) {
  const std::vector<LlmRequestRecord> run{reference_stream()};
  const auto flat = to_flat_map(compute_llm_metrics(run));
  EXPECT_EQ(flat.count("mean_ttft_reasoning_ms"), 0u);
  EXPECT_DOUBLE_EQ(flat.at("mean_ttft_answer_ms"), 99.0);
}

TEST(LlmMetrics, PercentilesAreNumpyLinearOverRequests) {
  // TTFTs 10, 20, 30, 40, 100 ms (one event each, so no TPOT).
  std::vector<LlmRequestRecord> run;
  for (std::int64_t t : {30, 10, 100, 40, 20}) run.push_back(scripted(0, {t}, 1));
  const LlmRunMetrics a = compute_llm_metrics(run);
  EXPECT_EQ(a.ttft.count, 5u);
  EXPECT_DOUBLE_EQ(a.ttft.mean_ms, 40.0);
  EXPECT_DOUBLE_EQ(a.ttft.median_ms, 30.0);
  EXPECT_NEAR(a.ttft.std_ms, std::sqrt(1000.0), 1e-9);  // np.std, ddof = 0
  EXPECT_NEAR(percentile(a.ttft, 50), 30.0, 1e-9);
  EXPECT_NEAR(percentile(a.ttft, 90), 76.0, 1e-9);  // rank 3.6: 40 + 0.6 · 60
  EXPECT_NEAR(percentile(a.ttft, 95), 88.0, 1e-9);
  EXPECT_NEAR(percentile(a.ttft, 99), 97.6, 1e-9);
  EXPECT_EQ(a.tpot.count, 0u);
  const auto flat = to_flat_map(a);
  EXPECT_EQ(flat.count("mean_tpot_ms"), 0u);  // no samples: left out, not 0
  EXPECT_EQ(flat.count("mean_itl_ms"), 0u);

  LlmMetricsOptions options;
  options.percentiles = {25, 99.9};
  const auto custom = to_flat_map(compute_llm_metrics(run, options));
  EXPECT_NEAR(custom.at("p25_ttft_ms"), 20.0, 1e-9);
  EXPECT_NEAR(custom.at("p99.9_ttft_ms"), 99.76, 1e-9);  // rank 3.996: 40 + 0.996 · 60
  EXPECT_EQ(custom.count("p99_ttft_ms"), 0u);
  EXPECT_DOUBLE_EQ(custom.at("median_ttft_ms"), 30.0);
}

TEST(LlmMetrics, PercentileLabelsFollowVllm) {
  EXPECT_EQ(percentile_label(99), "p99");
  EXPECT_EQ(percentile_label(99.9), "p99.9");
  EXPECT_EQ(percentile_label(0.1), "p0.1");
  EXPECT_EQ(percentile_label(50), "p50");
}

TEST(LlmMetrics, BadPercentileIsAnInputError) {
  LlmMetricsOptions options;
  options.percentiles = {50, 101};
  const std::vector<LlmRequestRecord> run{reference_stream()};
  try {
    compute_llm_metrics(run, options);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "percentile 101 is outside [0, 100]");
  }
}

LlmRunMetrics goodput_of(const LlmRequestRecord& r, const std::string& slo) {
  LlmMetricsOptions options;
  options.slo = parse_llm_slo(slo);
  options.duration_ns = 1'000 * kMs;
  const std::vector<LlmRequestRecord> run{r};
  return compute_llm_metrics(run, options);
}

// Decision: an SLO is met with ≤, so a value exactly at the limit passes (as vLLM and
// GenAI-Perf do); 1 ns over fails.
TEST(LlmGoodput, TtftExactlyAtTheLimitPassesAndOneNanosecondOverFails) {
  EXPECT_EQ(goodput_of(scripted(0, {200, 250}, 2), "ttft=200ms").good_requests, 1u);
  LlmRequestRecord over = scripted(0, {200, 250}, 2);
  over.events[0].t_ns += 1;
  EXPECT_EQ(goodput_of(over, "ttft=200ms").good_requests, 0u);
}

TEST(LlmGoodput, TpotExactlyAtTheLimitPassesAndOneNanosecondOverFails) {
  // TTFT 200, E2E 300, N_out 3: TPOT = 100 / 2 = 50 ms.
  EXPECT_EQ(goodput_of(scripted(0, {200, 250, 300}, 3), "tpot=50ms").good_requests, 1u);
  LlmRequestRecord over = scripted(0, {200, 250, 300}, 3);
  over.events[2].t_ns += 1;  // TPOT = 50 ms + 0.5 ns
  EXPECT_EQ(goodput_of(over, "tpot=50ms").good_requests, 0u);
  // N_out = 1: TPOT counts as 0 and passes any TPOT SLO.
  EXPECT_EQ(goodput_of(scripted(0, {900}, 1), "tpot=1ns").good_requests, 1u);
}

TEST(LlmGoodput, E2elExactlyAtTheLimitPassesAndOneNanosecondOverFails) {
  EXPECT_EQ(goodput_of(scripted(0, {200, 300}, 2), "e2el=300ms").good_requests, 1u);
  LlmRequestRecord over = scripted(0, {200, 300}, 2);
  over.events[1].t_ns += 1;
  EXPECT_EQ(goodput_of(over, "e2e=300ms").good_requests, 0u);
}

TEST(LlmGoodput, EverySloMustHoldAndGoodputIsPerSecond) {
  std::vector<LlmRequestRecord> run{
      scripted(0, {100, 150, 200}, 3),  // TTFT 100, TPOT 50, E2E 200: good
      scripted(0, {300, 310, 320}, 3),  // TTFT 300: fails ttft
      scripted(0, {100, 200, 300}, 3),  // TPOT 100: fails tpot
      scripted(0, {100, 150, 200}, 3, /*sched_ms=*/0),
  };
  run[3].t_send_ns = 60 * kMs;  // sent 60 ms late: TTFT 40 from the send: good
  LlmMetricsOptions options;
  options.slo = parse_llm_slo("ttft=100ms,tpot=50ms,e2el=1s");
  options.duration_ns = 2'000 * kMs;
  const LlmRunMetrics a = compute_llm_metrics(run, options);
  EXPECT_EQ(a.good_requests, 2u);
  EXPECT_DOUBLE_EQ(a.request_goodput, 1.0);  // 2 good / 2 s
  const auto flat = to_flat_map(a);
  EXPECT_DOUBLE_EQ(flat.at("request_goodput"), 1.0);
  EXPECT_DOUBLE_EQ(flat.at("good_requests"), 2.0);
}

TEST(LlmGoodput, FromTheScheduleALateSendCanFailTheSlo) {
  // Scheduled at 0, sent at 50 ms, first output at 150 ms: TTFT 100 from the send, 150 from
  // the schedule.
  LlmRequestRecord r = scripted(50, {150, 160}, 2, /*sched_ms=*/0);
  const LlmRunMetrics a = goodput_of(r, "ttft=100ms");
  EXPECT_EQ(a.good_requests, 1u);
  EXPECT_EQ(a.good_requests_sched, 0u);
  EXPECT_DOUBLE_EQ(to_flat_map(a).at("request_goodput_sched"), 0.0);
}

TEST(LlmGoodput, ARequestWithoutOutputIsNeverGood) {
  const LlmRequestRecord r = run_stream(0, 0, {{10 * kMs, role()}, {20 * kMs, "[DONE]"}});
  const LlmRunMetrics a = goodput_of(r, "e2el=10s");
  EXPECT_EQ(a.completed, 1u);
  EXPECT_EQ(a.completed_without_output, 1u);
  EXPECT_EQ(a.good_requests, 0u);
  EXPECT_EQ(a.ttft.count, 0u);
}

TEST(LlmMetrics, FailedRequestsAreCountedButLeftOutOfLatency) {
  const LlmRequestRecord good = scripted(0, {100, 150}, 2);
  // Fast first token, then a server error in the stream.
  const LlmRequestRecord errored =
      run_stream(0, 10 * kMs,
                 {{20 * kMs, content("x")},
                  {30 * kMs, R"({"error":{"message":"engine died","code":500}})"},
                  {31 * kMs, "[DONE]"}});
  LlmRequestRecord refused;  // never sent
  refused.fail("connect", "connection refused");
  ASSERT_FALSE(errored.ok);
  EXPECT_EQ(errored.error_class, "stream_error");
  EXPECT_EQ(errored.error_message, "engine died (code: 500)");
  EXPECT_FALSE(errored.saw_done);  // ignored after the failure

  const std::vector<LlmRequestRecord> run{good, errored, refused};
  const LlmRunMetrics a = compute_llm_metrics(run);
  EXPECT_EQ(a.completed, 1u);
  EXPECT_EQ(a.failed, 2u);
  EXPECT_EQ(a.failed_by_class.at("stream_error"), 1u);
  EXPECT_EQ(a.failed_by_class.at("connect"), 1u);
  EXPECT_EQ(a.ttft.count, 1u);
  EXPECT_DOUBLE_EQ(a.ttft.mean_ms, 100.0);  // the errored request's 10 ms TTFT is not in it
  EXPECT_EQ(a.itl.count, 1u);
  EXPECT_EQ(a.total_output_tokens, 2);
  EXPECT_EQ(a.max_concurrent_requests, 2u);           // the errored request was in flight too
  EXPECT_EQ(a.client_queue.count, 2u);                // both sent requests
  EXPECT_DOUBLE_EQ(a.request_throughput, 1 / 0.150);  // D = 150 − 0 ms
  const auto flat = to_flat_map(a);
  EXPECT_DOUBLE_EQ(flat.at("failed"), 2.0);
  EXPECT_DOUBLE_EQ(flat.at("failed_connect"), 1.0);
  EXPECT_DOUBLE_EQ(flat.at("completed"), 1.0);
}

// A request given up unsent after waiting in the client (class client_queue) is a failure and a
// client-queue sample of its whole wait; one refused at connect is a failure only.
TEST(LlmMetrics, ARequestGivenUpInTheClientQueueIsAFailureAndAQueueSample) {
  const LlmRequestRecord good = scripted(0, {100, 150}, 2);  // sent on time: queue 0
  LlmRequestRecord given_up;
  given_up.t_sched_ns = 10 * kMs;
  given_up.fail("client_queue", "not sent: waited 300 ms");
  given_up.t_done_ns = 310 * kMs;
  LlmRequestRecord refused;
  refused.t_sched_ns = 20 * kMs;
  refused.fail("connect", "connection refused");
  refused.t_done_ns = 25 * kMs;
  const std::vector<LlmRequestRecord> run{good, given_up, refused};
  const LlmRunMetrics a = compute_llm_metrics(run);
  EXPECT_EQ(a.failed, 2u);
  EXPECT_EQ(a.failed_by_class.at("client_queue"), 1u);
  EXPECT_EQ(a.client_queue.count, 2u);  // the sent one and the given-up one
  EXPECT_DOUBLE_EQ(a.client_queue.mean_ms, 150.0);  // (0 + 300) / 2
  EXPECT_EQ(a.max_concurrent_requests, 1u) << "a request never sent was never in flight";
}

TEST(LlmMetrics, OnlyFailuresLeaveLatenciesAndRatesOut) {
  LlmRequestRecord refused;
  refused.fail("timeout", "no response");
  const std::vector<LlmRequestRecord> run{refused};
  const auto flat = to_flat_map(compute_llm_metrics(run));
  EXPECT_DOUBLE_EQ(flat.at("failed"), 1.0);
  EXPECT_DOUBLE_EQ(flat.at("completed"), 0.0);
  EXPECT_EQ(flat.count("mean_ttft_ms"), 0u);
  EXPECT_EQ(flat.count("request_throughput"), 0u);
  EXPECT_EQ(flat.count("duration_s"), 0u);
}

TEST(LlmMetrics, ThroughputUsesFirstSendToLastOutputUnlessAWindowIsGiven) {
  LlmRequestRecord a = scripted(0, {100, 300}, 5);
  a.usage_prompt_tokens = 10;
  LlmRequestRecord b = scripted(50, {200, 500}, 7);
  b.usage_prompt_tokens = 20;
  const std::vector<LlmRequestRecord> run{a, b};
  const LlmRunMetrics m = compute_llm_metrics(run);
  EXPECT_EQ(m.duration_ns, 500 * kMs);
  EXPECT_DOUBLE_EQ(m.request_throughput, 4.0);       // 2 / 0.5 s
  EXPECT_DOUBLE_EQ(m.output_throughput, 24.0);       // 12 / 0.5 s
  EXPECT_DOUBLE_EQ(m.total_token_throughput, 84.0);  // (30 + 12) / 0.5 s
  LlmMetricsOptions window;
  window.duration_ns = 1'000 * kMs;
  const LlmRunMetrics w = compute_llm_metrics(run, window);
  EXPECT_DOUBLE_EQ(w.request_throughput, 2.0);
  EXPECT_DOUBLE_EQ(w.output_throughput, 12.0);
  EXPECT_DOUBLE_EQ(w.total_token_throughput, 42.0);
  EXPECT_EQ(m.prompt_tokens_missing_requests, 0u);
}

TEST(LlmMetrics, PeakConcurrencyCountsHalfOpenIntervals) {
  // [0, 10), [5, 15), [10, 20), [12, 13) ms: at most 3 at once (12..13), touching ends do
  // not overlap.
  std::vector<LlmRequestRecord> run{scripted(0, {10}, 1), scripted(5, {15}, 1),
                                    scripted(10, {20}, 1), scripted(12, {13}, 1)};
  EXPECT_EQ(compute_llm_metrics(run).max_concurrent_requests, 3u);
  run.pop_back();
  EXPECT_EQ(compute_llm_metrics(run).max_concurrent_requests, 2u);
}

TEST(LlmRecord, MalformedChunkFailsTheRequestAsProtocol) {
  const LlmRequestRecord r =
      run_stream(0, 0, {{10 * kMs, content("a")}, {20 * kMs, R"({"choices": [)"}});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_class, "protocol");
  EXPECT_NE(r.error_message.find("malformed JSON"), std::string::npos);
  EXPECT_EQ(r.t_done_ns, 20 * kMs);
}

TEST(LlmRecord, StreamCutInsideAnEventFailsUnlessDoneCameFirst) {
  LlmRequestRecord r;
  r.t_send_ns = 0;
  SseReader reader;
  std::vector<SseEvent> events;
  reader.feed("data: " + content("a") + "\n\ndata: {\"cho", 10, events);
  for (const SseEvent& e : events) record_stream_event(r, classify_openai_event(e), e.t_ns);
  record_stream_end(r, reader.finish(), 15);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_class, "protocol");
  EXPECT_EQ(r.error_message, "the stream ended inside an SSE event (11 bytes discarded)");
  EXPECT_EQ(r.t_done_ns, 15);

  LlmRequestRecord done;
  done.t_send_ns = 0;
  record_stream_event(done, classify_openai_data("[DONE]"), 10);
  record_stream_end(done, SseFinish{SseStatus::ok, true, 3}, 15);
  EXPECT_TRUE(done.ok);
  EXPECT_EQ(done.t_done_ns, 10);

  LlmRequestRecord clean;
  clean.t_send_ns = 0;
  record_stream_end(clean, SseFinish{}, 15);
  EXPECT_TRUE(clean.ok);
  EXPECT_FALSE(clean.saw_done);

  LlmRequestRecord big;
  big.t_send_ns = 0;
  record_stream_end(big, SseFinish{SseStatus::event_too_large, false, 0}, 15);
  EXPECT_FALSE(big.ok);
  EXPECT_EQ(big.error_class, "protocol");
}

TEST(LlmRecord, EventsAfterDoneAreIgnored) {
  LlmRequestRecord r;
  r.t_send_ns = 0;
  record_stream_event(r, classify_openai_data(content("a")), 10);
  record_stream_event(r, classify_openai_data("[DONE]"), 20);
  record_stream_event(r, classify_openai_data(content("b")), 30);
  record_stream_event(r, classify_openai_data(R"({"error":"late"})"), 40);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.t_done_ns, 20);
}

TEST(LlmMetrics, InconsistentRecordsAreRejectedWithAMessage) {
  LlmRequestRecord unsent = scripted(0, {10}, 1);
  unsent.t_send_ns.reset();
  const std::vector<LlmRequestRecord> a{reference_stream(), unsent};
  try {
    compute_llm_metrics(a);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "LLM request record 1: completed request without a send time");
  }
  LlmRequestRecord early = scripted(50, {10}, 1);
  EXPECT_THROW(request_metrics(early), Error);
  LlmRequestRecord unordered = scripted(0, {30, 20}, 2);
  EXPECT_THROW(request_metrics(unordered), Error);
}

TEST(LlmSloParse, ReadsEveryKeyWithUnits) {
  const LlmSlo slo = parse_llm_slo("ttft=200ms, tpot = 50ms,e2e=2.5s");
  EXPECT_EQ(slo.ttft_ns, 200 * kMs);
  EXPECT_EQ(slo.tpot_ns, 50 * kMs);
  EXPECT_EQ(slo.e2el_ns, 2'500 * kMs);
  EXPECT_EQ(parse_llm_slo("e2el=100us").e2el_ns, 100'000);
  EXPECT_FALSE(parse_llm_slo("ttft=1s").tpot_ns.has_value());
}

TEST(LlmSloParse, BadSpecsGiveClearMessagesWithoutFileAndLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "SLO is empty: give e.g. ttft=200ms,tpot=50ms,e2el=5s"},
      {"ttft=200", "SLO ttft=200: give a unit (ns, us, ms, s, m, h), e.g. ttft=200ms"},
      {"foo=1ms", "SLO key 'foo' is unknown: use ttft, tpot or e2el"},
      {"ttft", "SLO item 'ttft': expected KEY=VALUE, e.g. ttft=200ms"},
      {"ttft=1ms,ttft=2ms", "SLO key 'ttft' is given twice"},
      {"ttft=fast", "SLO ttft=fast: not a duration (use e.g. 200ms, 1.5s)"},
      {"ttft=-5ms", "SLO ttft=-5ms: not a duration (use e.g. 200ms, 1.5s)"},
      {"ttft=0ms", "SLO ttft=0ms: must be greater than zero"},
      {"ttft=", "SLO ttft=: the value is missing (e.g. ttft=200ms)"},
      {"ttft=200ms,", "SLO 'ttft=200ms,' has an empty item"},
  };
  for (const auto& [spec, message] : cases) {
    try {
      parse_llm_slo(spec);
      ADD_FAILURE() << "no error for '" << spec << "'";
    } catch (const InputError& e) {
      EXPECT_EQ(e.origin(), "");
      EXPECT_EQ(e.line(), 0u);
      EXPECT_STREQ(e.what(), message) << spec;
    }
  }
}

TEST(LlmMetricsJson, HasVllmNamesCountsAsIntegersAndIgnoresACommaLocale) {
  std::vector<LlmRequestRecord> run{scripted(0, {99, 100}, 2), scripted(0, {100, 101}, 2)};
  const LlmRunMetrics m = compute_llm_metrics(run);  // TTFT mean 99.5 ms
  const char* found = nullptr;
  for (const char* name : {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "de_DE"}) {
    if (std::setlocale(LC_ALL, name)) {
      found = name;
      break;
    }
  }
  if (!found)
    GTEST_SKIP() << "no comma-decimal locale installed (scripts/setup.sh generates de_DE.UTF-8)";
  std::locale::global(std::locale(found));
  const std::string text = to_json(m);
  std::setlocale(LC_ALL, "C");
  std::locale::global(std::locale::classic());
  EXPECT_NE(text.find("\"mean_ttft_ms\":99.5"), std::string::npos) << text;
  EXPECT_EQ(text.find("99,5"), std::string::npos) << text;
  const auto doc = nlohmann::json::parse(text);
  EXPECT_TRUE(doc.at("completed").is_number_integer());
  EXPECT_EQ(doc.at("completed").get<int>(), 2);
  EXPECT_TRUE(doc.at("max_concurrent_requests").is_number_integer());
  EXPECT_TRUE(doc.at("request_throughput").is_number_float());
  for (const char* key :
       {"mean_ttft_ms", "median_ttft_ms", "std_ttft_ms", "p99_ttft_ms", "mean_tpot_ms",
        "p90_itl_ms", "p95_e2el_ms", "output_throughput", "total_token_throughput", "duration_s"})
    EXPECT_TRUE(doc.contains(key)) << key;
}

}  // namespace
}  // namespace trackiq::load
