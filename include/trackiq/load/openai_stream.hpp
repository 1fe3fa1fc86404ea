#pragma once
// The OpenAI streaming layer on top of SseReader: classifies each SSE event of a
// /v1/chat/completions or /v1/completions stream (`"stream": true`) as a chunk, the `[DONE]`
// sentinel, a server-sent error, or a malformed event. Also accepts the same shape from
// vLLM, SGLang, llama.cpp, Ollama's /v1 layer and TGI's OpenAI route.
//
// Errors are values here, never exceptions: a malformed event is classified and carries a
// printable excerpt of the offending text, so one bad event cannot escape into the client's
// event loop (only std::bad_alloc can leave these functions). The functions keep no state and
// may be called from any thread.
//
// Example:
//   for (const SseEvent& e : events) {
//     const StreamEvent s = classify_openai_event(e);
//     if (s.kind == StreamEventKind::chunk && s.chunk.has_output()) { /* a token arrived */ }
//   }
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "trackiq/load/sse.hpp"

namespace trackiq::load {

enum class StreamEventKind {
  chunk,      // a completion chunk (possibly empty, role-only or usage-only)
  done,       // data is `[DONE]`
  error,      // the server reported an error: `{"error": ...}`, `{"object": "error", ...}` or
              // an SSE event named `error`
  malformed,  // not JSON, not an object, or a known field of the wrong type
  empty,      // data is empty or only whitespace: carries nothing, is not an error
};

// Token counts of a `usage` object; absent fields stay empty.
struct TokenUsage {
  std::optional<std::int64_t> prompt_tokens;
  std::optional<std::int64_t> completion_tokens;

  bool operator==(const TokenUsage&) const = default;
};

// What one chunk says. Only choices[0] is read.
struct StreamChunk {
  bool has_choices = false;    // `choices` was a non-empty array
  std::string content;         // choices[0].delta.content (chat) or choices[0].text (completions)
  std::string reasoning;       // choices[0].delta.reasoning_content, else delta.reasoning
  std::string tool_call_text;  // function names and argument fragments of delta.tool_calls
  std::optional<std::string> role;           // choices[0].delta.role
  std::optional<std::string> finish_reason;  // choices[0].finish_reason when not null
  std::optional<TokenUsage> usage;           // `usage` when it is an object
  // Tokens this chunk carries when the server lists them (choices[0].logprobs.content for
  // chat, choices[0].logprobs.tokens for completions); 0 = unknown.
  std::int64_t tokens = 0;

  // Generated text of any kind (answer, reasoning or tool call): the chunk moves TTFT/ITL.
  bool has_output() const noexcept {
    return !content.empty() || !reasoning.empty() || !tool_call_text.empty();
  }
  bool has_answer() const noexcept { return !content.empty() || !tool_call_text.empty(); }
  // A role but no generated text (the first chunk of many servers).
  bool role_only() const noexcept { return role.has_value() && !has_output(); }
  // `choices` empty, null or absent, and a `usage` object (stream_options.include_usage).
  bool usage_only() const noexcept { return !has_choices && usage.has_value(); }
};

struct StreamEvent {
  StreamEventKind kind = StreamEventKind::empty;
  StreamChunk chunk;  // kind == chunk
  // kind == error: the server's message (plus type and code when given);
  // kind == malformed: what is wrong, then an excerpt of the offending text.
  std::string message;
};

// Longest excerpt of offending text kept in a `malformed` message, in bytes of input.
inline constexpr std::size_t kMaxExcerptBytes = 200;

// Classifies one SSE event's data (`event_name` "error" marks a server error).
StreamEvent classify_openai_event(const SseEvent& event);
StreamEvent classify_openai_data(std::string_view data, std::string_view event_name = "message");

// `text` made safe to print and to put into JSON: at most `max_bytes` of input, cut at a
// character boundary; control characters and invalid UTF-8 bytes written as \xNN; when cut,
// followed by "... (N bytes)".
std::string printable_excerpt(std::string_view text, std::size_t max_bytes = kMaxExcerptBytes);

}  // namespace trackiq::load
