#pragma once
// Incremental Server-Sent-Events reader (WHATWG HTML, "Server-sent events", event stream
// interpretation), fed with the byte chunks a socket read returns.
//
// Rules implemented, all independent of how the bytes are split across feed() calls:
// - a UTF-8 byte-order mark at the very start of the stream is dropped;
// - lines end at LF, CRLF or a lone CR (a CRLF split across two feeds is one line end);
// - a blank line dispatches the event being built; an event with no `data` line is not
//   dispatched (its `event` name is dropped, its `id` is kept, as the standard says);
// - a line starting with ':' is a comment; a line without ':' is a field with an empty value;
//   one space after the colon is stripped; unknown fields are ignored;
// - `data` lines are joined with "\n"; `event` names the event ("message" when absent);
//   `id` (without NUL) sets the last event ID, which persists across events; `retry` (ASCII
//   digits only) sets the reconnection time;
// - at end of stream (finish()), an event without its blank line is discarded and reported.
// Bytes are passed through unchanged: invalid UTF-8 is not replaced here (the JSON layer
// rejects it).
//
// Memory is bounded by max_event_bytes: the error `event_too_large` is raised as soon as the
// field lines of one event (each line counted without its line end; comment lines are not
// kept, so they count only while they are the line being read) plus the line being read
// exceed the limit. Buffers then hold at most about twice the limit.
//
// Thread-safety: none; one reader per stream, used by the thread that reads that socket.
//
// Example:
//   SseReader reader;
//   std::vector<SseEvent> events;
//   reader.feed("data: {\"a\":1}\n\nda", now_ns(), events);  // one event
//   reader.feed("ta: [DONE]\n\n", now_ns(), events);        // a second one
//   if (reader.finish().discarded_incomplete_event) { /* the stream was cut mid-event */ }
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trackiq::load {

struct SseEvent {
  std::string event = "message";  // the `event` field; "message" when the event had none
  std::string data;               // the `data` lines joined with "\n" (no trailing newline)
  std::string id;                 // the last event ID when this event was dispatched
  std::int64_t t_ns = 0;          // the t_ns of the feed() whose bytes completed the event

  bool operator==(const SseEvent&) const = default;
};

enum class SseStatus {
  ok,
  event_too_large,  // one event passed max_event_bytes; the rest of the stream is ignored
};

// What finish() found at the end of the stream.
struct SseFinish {
  SseStatus status = SseStatus::ok;
  bool discarded_incomplete_event = false;  // bytes of an event (or line) had no blank line
  std::size_t discarded_bytes = 0;          // field and partial-line bytes thrown away

  bool operator==(const SseFinish&) const = default;
};

class SseReader {
 public:
  static constexpr std::size_t kDefaultMaxEventBytes = std::size_t{16} << 20;  // 16 MiB

  explicit SseReader(std::size_t max_event_bytes = kDefaultMaxEventBytes);

  // Consumes `bytes` (any split of the stream, possibly empty), appending every event it
  // completes to `out`, stamped with `t_ns` (the clock reading taken when the read returned).
  // Returns the reader's status; after `event_too_large` further bytes are ignored until
  // finish() or reset(). Never throws except std::bad_alloc.
  SseStatus feed(std::string_view bytes, std::int64_t t_ns, std::vector<SseEvent>& out);

  // Same, calling `on_event` for each completed event (the reference is valid only during
  // the call). Exceptions thrown by `on_event` propagate and leave the reader's state valid
  // but with the rest of this chunk unread.
  SseStatus feed(std::string_view bytes, std::int64_t t_ns,
                 const std::function<void(const SseEvent&)>& on_event);

  // Ends the stream: discards an incomplete event and reports it, then makes the reader ready
  // for a new stream (BOM check re-armed, status back to ok). last_event_id() and retry_ms()
  // survive, as a reconnection needs them.
  SseFinish finish();

  // Forgets everything, including the last event ID and the retry time.
  void reset();

  SseStatus status() const noexcept { return status_; }
  const std::string& last_event_id() const noexcept { return last_id_; }
  std::optional<std::int64_t> retry_ms() const noexcept { return retry_ms_; }
  std::uint64_t comments() const noexcept { return comments_; }  // comment lines seen (pings)
  std::size_t max_event_bytes() const noexcept { return max_event_bytes_; }

 private:
  using Emit = void (*)(void* context, SseEvent& event);
  SseStatus feed_impl(std::string_view bytes, std::int64_t t_ns, Emit emit, void* context);
  void consume(std::string_view bytes, std::int64_t t_ns, Emit emit, void* context);
  void handle_line(std::string_view line, std::int64_t t_ns, Emit emit, void* context);
  void fail_too_large();
  void clear_event();

  std::size_t max_event_bytes_;
  SseStatus status_ = SseStatus::ok;
  bool at_stream_start_ = true;  // still deciding whether the stream starts with a BOM
  std::string bom_prefix_;       // the bytes of a BOM seen so far (at most 2)
  bool skip_lf_ = false;         // the previous line ended with CR at the end of a chunk
  std::string line_;             // the line being read, when it spans chunks
  std::size_t event_bytes_ = 0;  // field-line bytes of the event being built
  std::string data_;             // each data line's value followed by "\n"
  std::string event_name_;
  std::string last_id_;
  std::optional<std::int64_t> retry_ms_;
  std::uint64_t comments_ = 0;
  SseEvent scratch_;  // the event handed to the sink
};

}  // namespace trackiq::load
