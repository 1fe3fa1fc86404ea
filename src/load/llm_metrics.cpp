#include "trackiq/load/llm_metrics.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/text.hpp"

namespace trackiq::load {

namespace {

constexpr std::int64_t kPsPerNs = 1000;

// round(num / den) for num ≥ 0, den > 0, halves up; saturates at INT64_MAX.
std::int64_t div_round_half_up(__int128 num, __int128 den) {
  const __int128 q = (2 * num + den) / (2 * den);
  const __int128 max = std::numeric_limits<std::int64_t>::max();
  return static_cast<std::int64_t>(q > max ? max : q);
}

std::int64_t clamp_tokens(std::int64_t tokens) {
  return tokens > 0 && tokens <= kMaxTokensPerEvent ? tokens : 0;
}

// Shortest round-trip text of `v`, independent of the locale.
std::string format_number(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

std::string record_name(std::size_t index) { return "LLM request record " + std::to_string(index); }

}  // namespace

void LlmRequestRecord::fail(std::string cls, std::string message) {
  if (!ok) return;
  ok = false;
  error_class = std::move(cls);
  error_message = std::move(message);
}

void record_stream_event(LlmRequestRecord& record, const StreamEvent& event, std::int64_t t_ns) {
  if (!record.ok || record.saw_done) return;
  switch (event.kind) {
    case StreamEventKind::empty:
      return;
    case StreamEventKind::done:
      record.saw_done = true;
      if (!record.t_done_ns) record.t_done_ns = t_ns;
      return;
    case StreamEventKind::error:
      record.fail("stream_error", event.message);
      if (!record.t_done_ns) record.t_done_ns = t_ns;
      return;
    case StreamEventKind::malformed:
      record.fail("protocol", event.message);
      if (!record.t_done_ns) record.t_done_ns = t_ns;
      return;
    case StreamEventKind::chunk:
      break;
  }
  const StreamChunk& c = event.chunk;
  std::int64_t tokens = clamp_tokens(c.tokens);
  if (tokens == 0 && c.has_output() && c.usage && c.usage->completion_tokens &&
      record.usage_completion_tokens) {
    // Cumulative usage on every chunk: this chunk's tokens are the growth since the last one.
    tokens = clamp_tokens(*c.usage->completion_tokens - *record.usage_completion_tokens);
  }
  if (c.usage) {
    if (c.usage->prompt_tokens) record.usage_prompt_tokens = c.usage->prompt_tokens;
    if (c.usage->completion_tokens) record.usage_completion_tokens = c.usage->completion_tokens;
  }
  if (c.has_output())
    record.events.push_back(OutputEvent{t_ns, tokens, c.has_answer(), !c.reasoning.empty()});
}

void record_stream_end(LlmRequestRecord& record, const SseFinish& finish, std::int64_t t_ns) {
  if (!record.t_done_ns) record.t_done_ns = t_ns;
  if (record.saw_done) return;
  if (finish.status == SseStatus::event_too_large) {
    record.fail("protocol", "an SSE event exceeded the reader's size limit");
  } else if (finish.discarded_incomplete_event) {
    record.fail("protocol", "the stream ended inside an SSE event (" +
                                std::to_string(finish.discarded_bytes) + " bytes discarded)");
  }
}

OutputTokens output_tokens(const LlmRequestRecord& record) {
  if (record.usage_completion_tokens) return {*record.usage_completion_tokens, false};
  OutputTokens out{0, true};
  for (const OutputEvent& e : record.events) {
    const std::int64_t n = clamp_tokens(e.tokens);
    out.count += n > 0 ? n : 1;
  }
  return out;
}

namespace {

LlmRequestMetrics request_metrics_checked(const LlmRequestRecord& r, const std::string& name) {
  LlmRequestMetrics m;
  m.output_tokens = output_tokens(r);
  if (!r.ok) return m;
  if (!r.t_send_ns) throw Error(name + ": completed request without a send time");
  const std::int64_t send = *r.t_send_ns;
  m.client_queue_ns = send - r.t_sched_ns;
  if (r.events.empty()) return m;
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    const std::int64_t t = r.events[i].t_ns;
    if (t < send) throw Error(name + ": output event " + std::to_string(i) + " before the send");
    if (i > 0 && t < r.events[i - 1].t_ns)
      throw Error(name + ": output event " + std::to_string(i) + " earlier than the one before");
  }
  m.has_output = true;
  const std::int64_t first = r.events.front().t_ns;
  const std::int64_t last = r.events.back().t_ns;
  m.ttft_ns = first - send;
  m.ttft_sched_ns = first - r.t_sched_ns;
  m.e2el_ns = last - send;
  m.e2el_sched_ns = last - r.t_sched_ns;
  for (const OutputEvent& e : r.events) {
    if (e.reasoning && !m.ttft_reasoning_ns) m.ttft_reasoning_ns = e.t_ns - send;
    if (e.answer && !m.ttft_answer_ns) m.ttft_answer_ns = e.t_ns - send;
  }
  const std::int64_t n = m.output_tokens.count;
  if (n >= 2) m.tpot_ps = div_round_half_up(static_cast<__int128>(last - first) * kPsPerNs, n - 1);
  return m;
}

// TPOT ≤ slo, exactly: (E2EL − TTFT) ≤ slo · (N_out − 1); TPOT is 0 for N_out ≤ 1.
bool tpot_within(const LlmRequestMetrics& m, std::int64_t slo_ns) {
  const std::int64_t n = m.output_tokens.count;
  if (n <= 1) return 0 <= slo_ns;
  return static_cast<__int128>(m.e2el_ns - m.ttft_ns) <=
         static_cast<__int128>(slo_ns) * static_cast<__int128>(n - 1);
}

std::optional<std::int64_t> parse_slo_value(std::string_view key, std::string_view value) {
  const std::string item = std::string(key) + "=" + std::string(value);
  if (value.empty())
    throw InputError("SLO " + item + ": the value is missing (e.g. " + std::string(key) +
                     "=200ms)");
  if (!std::isalpha(static_cast<unsigned char>(value.back())))
    throw InputError("SLO " + item + ": give a unit (ns, us, ms, s, m, h), e.g. " +
                     std::string(key) + "=200ms");
  const auto ns = parse_duration_ns(value);
  if (!ns) throw InputError("SLO " + item + ": not a duration (use e.g. 200ms, 1.5s)");
  if (*ns <= 0) throw InputError("SLO " + item + ": must be greater than zero");
  return ns;
}

// Division (not multiplication by 1e-6) so an exact number of ms comes out exact.
LlmLatencySummary summarize_ms(const std::vector<std::int64_t>& samples, double units_per_ms,
                               std::span<const double> ps) {
  LlmLatencySummary out;
  if (samples.empty()) return out;
  std::vector<double> with_median(ps.begin(), ps.end());
  with_median.push_back(50.0);
  const SampleSummary s = summarize(samples, with_median);
  out.count = s.count;
  out.mean_ms = s.mean / units_per_ms;
  out.std_ms = s.std / units_per_ms;
  out.median_ms = s.percentiles.back().value / units_per_ms;
  for (std::size_t i = 0; i < ps.size(); ++i)
    out.percentiles.push_back(Percentile{ps[i], s.percentiles[i].value / units_per_ms});
  return out;
}

}  // namespace

LlmRequestMetrics request_metrics(const LlmRequestRecord& record) {
  return request_metrics_checked(record, "LLM request record");
}

LlmSlo parse_llm_slo(std::string_view spec) {
  LlmSlo slo;
  if (trim_blanks(spec).empty())
    throw InputError("SLO is empty: give e.g. ttft=200ms,tpot=50ms,e2el=5s");
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string_view item = trim_blanks(spec.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) throw InputError("SLO '" + std::string(spec) + "' has an empty item");
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      throw InputError("SLO item '" + std::string(item) + "': expected KEY=VALUE, e.g. ttft=200ms");
    const std::string_view key = trim_blanks(item.substr(0, eq));
    const std::string_view value = trim_blanks(item.substr(eq + 1));
    std::optional<std::int64_t>* slot = nullptr;
    if (key == "ttft")
      slot = &slo.ttft_ns;
    else if (key == "tpot")
      slot = &slo.tpot_ns;
    else if (key == "e2el" || key == "e2e")
      slot = &slo.e2el_ns;
    else
      throw InputError("SLO key '" + std::string(key) + "' is unknown: use ttft, tpot or e2el");
    if (slot->has_value()) throw InputError("SLO key '" + std::string(key) + "' is given twice");
    *slot = parse_slo_value(key, value);
  }
  return slo;
}

bool meets_slo(const LlmRequestMetrics& m, const LlmSlo& slo, bool from_schedule) {
  if (!m.has_output) return false;
  const std::int64_t ttft = from_schedule ? m.ttft_sched_ns : m.ttft_ns;
  const std::int64_t e2el = from_schedule ? m.e2el_sched_ns : m.e2el_ns;
  if (slo.ttft_ns && ttft > *slo.ttft_ns) return false;
  if (slo.e2el_ns && e2el > *slo.e2el_ns) return false;
  if (slo.tpot_ns && !tpot_within(m, *slo.tpot_ns)) return false;
  return true;
}

LlmRunMetrics compute_llm_metrics(std::span<const LlmRequestRecord> records,
                                  const LlmMetricsOptions& options) {
  for (double p : options.percentiles)
    if (!(p >= 0.0 && p <= 100.0))
      throw InputError("percentile " + format_number(p) + " is outside [0, 100]");

  LlmRunMetrics out;
  out.percentiles = options.percentiles;
  out.has_slo = !options.slo.empty();

  // Samples: ns, except TPOT and per-token ITL in ps (ratios, rounded half up).
  std::vector<std::int64_t> ttft, ttft_sched, ttft_reasoning, ttft_answer, tpot, itl, per_token_itl,
      e2el, e2el_sched, client_queue;
  std::vector<std::pair<std::int64_t, int>> edges;  // (time, +1 start / −1 end)
  std::optional<std::int64_t> first_send, last_output;

  for (std::size_t i = 0; i < records.size(); ++i) {
    const LlmRequestRecord& r = records[i];
    if (r.t_send_ns) {
      const std::int64_t start = *r.t_send_ns;
      first_send = std::min(first_send.value_or(start), start);
      client_queue.push_back(start - r.t_sched_ns);
      std::int64_t end = r.t_done_ns.value_or(start);
      if (!r.events.empty()) end = std::max(end, r.events.back().t_ns);
      if (end > start) {
        edges.emplace_back(start, +1);
        edges.emplace_back(end, -1);
      }
    } else if (!r.ok && r.error_class == "client_queue" && r.t_done_ns) {
      client_queue.push_back(*r.t_done_ns - r.t_sched_ns);  // waited unsent until given up
    }
    if (!r.ok) {
      ++out.failed;
      ++out.failed_by_class[r.error_class.empty() ? std::string("unknown") : r.error_class];
      continue;
    }
    ++out.completed;
    const LlmRequestMetrics m = request_metrics_checked(r, record_name(i));
    if (m.output_tokens.estimated) ++out.output_tokens_estimated_requests;
    out.total_output_tokens += m.output_tokens.count;
    if (r.usage_prompt_tokens)
      out.total_input_tokens += *r.usage_prompt_tokens;
    else
      ++out.prompt_tokens_missing_requests;
    if (!m.has_output) {
      ++out.completed_without_output;
      continue;
    }
    last_output = std::max(last_output.value_or(r.events.back().t_ns), r.events.back().t_ns);
    ttft.push_back(m.ttft_ns);
    ttft_sched.push_back(m.ttft_sched_ns);
    e2el.push_back(m.e2el_ns);
    e2el_sched.push_back(m.e2el_sched_ns);
    if (m.ttft_reasoning_ns) ttft_reasoning.push_back(*m.ttft_reasoning_ns);
    if (m.ttft_answer_ns) ttft_answer.push_back(*m.ttft_answer_ns);
    if (m.tpot_ps) tpot.push_back(*m.tpot_ps);
    for (std::size_t k = 1; k < r.events.size(); ++k) {
      const std::int64_t gap = r.events[k].t_ns - r.events[k - 1].t_ns;
      itl.push_back(gap);
      const std::int64_t n = std::max<std::int64_t>(clamp_tokens(r.events[k].tokens), 1);
      const std::int64_t per_token = div_round_half_up(static_cast<__int128>(gap) * kPsPerNs, n);
      per_token_itl.insert(per_token_itl.end(), static_cast<std::size_t>(n), per_token);
    }
    if (out.has_slo) {
      if (meets_slo(m, options.slo, false)) ++out.good_requests;
      if (meets_slo(m, options.slo, true)) ++out.good_requests_sched;
    }
  }

  // Peak concurrency over half-open intervals: at equal times an end comes before a start.
  std::sort(edges.begin(), edges.end());
  std::int64_t in_flight = 0;
  for (const auto& [t, delta] : edges) {
    in_flight += delta;
    out.max_concurrent_requests =
        std::max(out.max_concurrent_requests,
                 static_cast<std::uint64_t>(std::max<std::int64_t>(in_flight, 0)));
  }

  if (options.duration_ns)
    out.duration_ns = *options.duration_ns;
  else if (first_send && last_output)
    out.duration_ns = std::max<std::int64_t>(*last_output - *first_send, 0);
  if (out.duration_ns > 0) {
    const double d_s = static_cast<double>(out.duration_ns) / 1e9;
    out.request_throughput = static_cast<double>(out.completed) / d_s;
    out.output_throughput = static_cast<double>(out.total_output_tokens) / d_s;
    out.total_token_throughput =
        static_cast<double>(out.total_input_tokens + out.total_output_tokens) / d_s;
    out.request_goodput = static_cast<double>(out.good_requests) / d_s;
    out.request_goodput_sched = static_cast<double>(out.good_requests_sched) / d_s;
  }

  const std::span<const double> ps = options.percentiles;
  constexpr double kNsPerMs = 1e6;  // units per ms
  constexpr double kPsPerMs = 1e9;
  out.ttft = summarize_ms(ttft, kNsPerMs, ps);
  out.ttft_sched = summarize_ms(ttft_sched, kNsPerMs, ps);
  out.ttft_reasoning = summarize_ms(ttft_reasoning, kNsPerMs, ps);
  out.ttft_answer = summarize_ms(ttft_answer, kNsPerMs, ps);
  out.tpot = summarize_ms(tpot, kPsPerMs, ps);
  out.itl = summarize_ms(itl, kNsPerMs, ps);
  out.per_token_itl = summarize_ms(per_token_itl, kPsPerMs, ps);
  out.e2el = summarize_ms(e2el, kNsPerMs, ps);
  out.e2el_sched = summarize_ms(e2el_sched, kNsPerMs, ps);
  out.client_queue = summarize_ms(client_queue, kNsPerMs, ps);
  auto keep = [&out](const char* family, std::span<const std::int64_t> values, std::int64_t per_ns) {
    if (values.empty()) return;
    Histogram h = Histogram::for_latency_ns();
    for (const std::int64_t v : values) h.record(std::max<std::int64_t>((v + per_ns / 2) / per_ns, 0));
    out.distributions.emplace(family, std::move(h));
  };
  keep("ttft", ttft, 1);
  keep("ttft_sched", ttft_sched, 1);
  keep("tpot", tpot, 1000);  // ps → ns, rounded half up
  keep("itl", itl, 1);
  keep("e2el", e2el, 1);
  keep("e2el_sched", e2el_sched, 1);
  return out;
}

std::string percentile_label(double p) {
  // Appending (not "p" + s) sidesteps GCC 12's false -Wrestrict on operator+ (PR 105329).
  std::string out = "p";
  out += format_number(p);
  return out;
}

std::map<std::string, double> to_flat_map(const LlmRunMetrics& m) {
  std::map<std::string, double> out;
  const auto count = [](auto v) { return static_cast<double>(v); };
  out["completed"] = count(m.completed);
  out["failed"] = count(m.failed);
  for (const auto& [cls, n] : m.failed_by_class) out["failed_" + cls] = count(n);
  out["completed_without_output"] = count(m.completed_without_output);
  out["output_tokens_estimated_requests"] = count(m.output_tokens_estimated_requests);
  out["prompt_tokens_missing_requests"] = count(m.prompt_tokens_missing_requests);
  out["total_input_tokens"] = count(m.total_input_tokens);
  out["total_output_tokens"] = count(m.total_output_tokens);
  out["max_concurrent_requests"] = count(m.max_concurrent_requests);
  if (m.has_slo) {
    out["good_requests"] = count(m.good_requests);
    out["good_requests_sched"] = count(m.good_requests_sched);
  }
  if (m.duration_ns > 0) {
    out["duration_s"] = static_cast<double>(m.duration_ns) / 1e9;
    out["request_throughput"] = m.request_throughput;
    out["output_throughput"] = m.output_throughput;
    out["total_token_throughput"] = m.total_token_throughput;
    if (m.has_slo) {
      out["request_goodput"] = m.request_goodput;
      out["request_goodput_sched"] = m.request_goodput_sched;
    }
  }
  const std::pair<const char*, const LlmLatencySummary*> families[] = {
      {"ttft", &m.ttft},
      {"ttft_sched", &m.ttft_sched},
      {"ttft_reasoning", &m.ttft_reasoning},
      {"ttft_answer", &m.ttft_answer},
      {"tpot", &m.tpot},
      {"itl", &m.itl},
      {"per_token_itl", &m.per_token_itl},
      {"e2el", &m.e2el},
      {"e2el_sched", &m.e2el_sched},
      {"client_queue", &m.client_queue},
  };
  for (const auto& [name, s] : families) {
    if (s->count == 0) continue;
    const std::string suffix = std::string("_") + name + "_ms";
    out["mean" + suffix] = s->mean_ms;
    out["median" + suffix] = s->median_ms;
    out["std" + suffix] = s->std_ms;
    for (const Percentile& p : s->percentiles) out[percentile_label(p.p) + suffix] = p.value;
  }
  return out;
}

std::string to_json(const LlmRunMetrics& m) {
  static constexpr std::string_view kCounts[] = {"completed",
                                                 "failed",
                                                 "completed_without_output",
                                                 "output_tokens_estimated_requests",
                                                 "prompt_tokens_missing_requests",
                                                 "total_input_tokens",
                                                 "total_output_tokens",
                                                 "max_concurrent_requests",
                                                 "good_requests",
                                                 "good_requests_sched"};
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& [key, value] : to_flat_map(m)) {
    const bool is_count =
        key.starts_with("failed_") ||
        std::find(std::begin(kCounts), std::end(kCounts), key) != std::end(kCounts);
    if (is_count)
      doc[key] = static_cast<std::int64_t>(value);
    else
      doc[key] = value;
  }
  return doc.dump();
}

}  // namespace trackiq::load
