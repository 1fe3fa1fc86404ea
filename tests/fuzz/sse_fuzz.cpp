// libFuzzer target: SseReader must give the same events, status and end-of-stream report
// however the bytes are split (random pieces, empty ones included, and byte by byte); the
// OpenAI layer must classify every event without throwing; the recorder and the metrics
// must accept whatever a stream produced.
//
// Input: byte 0 picks the event-size limit (8 … 4088 bytes, so the limit is reachable),
// byte 1 seeds the split positions, the rest is the stream.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "trackiq/load/llm_metrics.hpp"
#include "trackiq/load/openai_stream.hpp"
#include "trackiq/load/sse.hpp"

namespace {

using trackiq::load::SseEvent;
using trackiq::load::SseFinish;
using trackiq::load::SseReader;

struct Outcome {
  std::vector<SseEvent> events;
  SseFinish finish;
};

// Feeds `stream` in pieces whose lengths `next_len` chooses; piece k is stamped t = k.
template <class NextLen>
Outcome feed_split(std::string_view stream, std::size_t limit, NextLen next_len) {
  SseReader reader(limit);
  Outcome out;
  std::int64_t t = 0;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    const std::size_t len = std::min(next_len(), stream.size() - pos);
    reader.feed(stream.substr(pos, len), ++t, out.events);
    pos += len;
  }
  out.finish = reader.finish();
  // Stamps are the completing feed's time, so they never decrease and never exceed the last.
  for (std::size_t i = 0; i < out.events.size(); ++i) {
    if (out.events[i].t_ns < 1 || out.events[i].t_ns > t) std::abort();
    if (i > 0 && out.events[i].t_ns < out.events[i - 1].t_ns) std::abort();
  }
  return out;
}

bool same(const Outcome& a, const Outcome& b) {
  if (!(a.finish == b.finish) || a.events.size() != b.events.size()) return false;
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    const SseEvent& x = a.events[i];
    const SseEvent& y = b.events[i];
    if (x.event != y.event || x.data != y.data || x.id != y.id) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t limit = 8 + std::size_t{data[0]} * 16;
  std::uint32_t state = 0x9E3779B9u ^ data[1];
  const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);

  const Outcome whole = feed_split(stream, limit, [&] { return stream.size() + 1; });
  const Outcome random = feed_split(stream, limit, [&] {
    state = state * 1664525u + 1013904223u;  // LCG: the split positions
    return std::size_t{(state >> 24) % 17};  // 0 … 16 bytes, empty feeds included
  });
  const Outcome bytes = feed_split(stream, limit, [] { return std::size_t{1}; });
  if (!same(whole, random) || !same(whole, bytes)) std::abort();

  trackiq::load::LlmRequestRecord record;
  record.t_send_ns = 0;
  std::int64_t t = 0;
  for (const SseEvent& e : whole.events) {
    const auto classified = trackiq::load::classify_openai_event(e);
    if (classified.kind != trackiq::load::StreamEventKind::chunk && classified.chunk.has_output())
      std::abort();
    trackiq::load::record_stream_event(record, classified, ++t);
  }
  trackiq::load::record_stream_end(record, whole.finish, ++t);
  const std::vector<trackiq::load::LlmRequestRecord> run{record};
  const auto metrics = trackiq::load::compute_llm_metrics(run);
  if (metrics.completed + metrics.failed != 1) std::abort();
  (void)trackiq::load::to_json(metrics);
  return 0;
}
