#pragma once
// The "at a glance" cards that open a report, per run: what the HTML page shows as cards (and the
// PDF, which is that page printed) and the Markdown report as a table. An LLM serving run (an
// OpenAI stream load test) leads with what its reader compares: TTFT, TPOT (or ITL when no
// request had two tokens), E2EL at p50 and p99, output tokens/s and goodput; any other run with
// its latency percentiles, throughput, errors, CV and sample count.
#include <optional>
#include <string>
#include <vector>

#include "trackiq/core/result.hpp"

namespace trackiq::report {

struct GlanceCard {
  std::string label;            // "TTFT p50"
  std::string metric;           // the registry metric it shows ("median_ttft_ms"); "" for a count
  std::optional<double> value;  // absent: not available, `missing` says why
  std::string unit;             // as displayed after the value: "ms", "tok/s", "req/s", "/s", ""
  std::string missing;          // "not available: …" when there is no value
};

struct Glance {
  bool llm = false;  // the LLM serving set of cards
  std::vector<GlanceCard> cards;
};

// An OpenAI stream load test (`trackiq load --api openai-chat|openai-completions`), recognised by
// its recorded API or by its TTFT metrics (an imported vLLM result has no API option).
bool is_llm_serving(const Result& r);

// The per-token latency the cards and trade-off charts show: "tpot" when the run has TPOT (a
// request with two or more output tokens), else "itl" when it has inter-token gaps (several
// output events), else "tpot" (shown as not available).
std::string llm_token_latency_family(const Result& r);

Glance at_a_glance(const Result& r);

}  // namespace trackiq::report
