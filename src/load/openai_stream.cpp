#include "trackiq/load/openai_stream.hpp"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "trackiq/core/text.hpp"

namespace trackiq::load {

namespace {

using nlohmann::json;

// Length of the valid UTF-8 sequence starting at s[i] (1 for ASCII), or 0 if invalid.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return len;
}

void append_hex_escape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 0xF]);
}

StreamEvent malformed(std::string what, std::string_view text) {
  StreamEvent e;
  e.kind = StreamEventKind::malformed;
  e.message = std::move(what) + ": " + printable_excerpt(text);
  return e;
}

StreamEvent server_error(std::string message) {
  StreamEvent e;
  e.kind = StreamEventKind::error;
  e.message = std::move(message);
  return e;
}

// "message (type: T, code: C)" from an error object, the parts that are present.
std::string describe_error_object(const json& obj, std::string_view raw) {
  std::string out;
  const auto msg = obj.find("message");
  if (msg != obj.end() && msg->is_string())
    out = printable_excerpt(msg->get_ref<const std::string&>());
  std::string extra;
  const auto add = [&](const char* key) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return;
    std::string value;
    if (it->is_string()) {
      value = printable_excerpt(it->get_ref<const std::string&>(), 64);
    } else if (it->is_number_integer()) {
      value = it->is_number_unsigned() ? std::to_string(it->get<std::uint64_t>())
                                       : std::to_string(it->get<std::int64_t>());
    } else {
      return;
    }
    extra += extra.empty() ? "" : ", ";
    extra += key;
    extra += ": ";
    extra += value;
  };
  add("type");
  add("code");
  if (out.empty() && extra.empty()) return "error without a message: " + printable_excerpt(raw);
  if (out.empty()) return "(" + extra + ")";
  if (!extra.empty()) out += " (" + extra + ")";
  return out;
}

// Reads a JSON value that must be a string or null (or be absent). Returns false when it is
// present with another type.
bool read_optional_string(const json& obj, const char* key, std::optional<std::string>& out) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool read_text(const json& obj, const char* key, std::string& out) {
  std::optional<std::string> value;
  if (!read_optional_string(obj, key, value)) return false;
  if (value) out = std::move(*value);
  return true;
}

bool read_token_count(const json& obj, const char* key, std::optional<std::int64_t>& out) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  if (it->is_number_unsigned()) {
    const auto v = it->get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
    out = static_cast<std::int64_t>(v);
    return true;
  }
  if (it->is_number_integer()) {
    const auto v = it->get<std::int64_t>();
    if (v < 0) return false;
    out = v;
    return true;
  }
  return false;
}

// Fills `chunk` from a parsed chunk object; on a type error returns the offending field.
std::optional<std::string> read_chunk(const json& doc, StreamChunk& chunk) {
  const auto usage = doc.find("usage");
  if (usage != doc.end() && !usage->is_null()) {
    if (!usage->is_object()) return "usage is not an object";
    TokenUsage u;
    if (!read_token_count(*usage, "prompt_tokens", u.prompt_tokens))
      return "usage.prompt_tokens is not a non-negative integer";
    if (!read_token_count(*usage, "completion_tokens", u.completion_tokens))
      return "usage.completion_tokens is not a non-negative integer";
    chunk.usage = u;
  }

  const auto choices = doc.find("choices");
  if (choices == doc.end() || choices->is_null()) return std::nullopt;
  if (!choices->is_array()) return "choices is not an array";
  if (choices->empty()) return std::nullopt;
  chunk.has_choices = true;
  const json& choice = choices->front();
  if (!choice.is_object()) return "choices[0] is not an object";

  if (!read_optional_string(choice, "finish_reason", chunk.finish_reason))
    return "choices[0].finish_reason is not a string";
  if (!read_text(choice, "text", chunk.content)) return "choices[0].text is not a string";

  const auto delta = choice.find("delta");
  if (delta != choice.end() && !delta->is_null()) {
    if (!delta->is_object()) return "choices[0].delta is not an object";
    std::string content;
    if (!read_text(*delta, "content", content)) return "choices[0].delta.content is not a string";
    if (!content.empty()) chunk.content = std::move(content);
    if (!read_optional_string(*delta, "role", chunk.role))
      return "choices[0].delta.role is not a string";
    std::string reasoning_content, reasoning;
    if (!read_text(*delta, "reasoning_content", reasoning_content))
      return "choices[0].delta.reasoning_content is not a string";
    if (!read_text(*delta, "reasoning", reasoning))
      return "choices[0].delta.reasoning is not a string";
    chunk.reasoning =
        !reasoning_content.empty() ? std::move(reasoning_content) : std::move(reasoning);

    const auto tools = delta->find("tool_calls");
    if (tools != delta->end() && !tools->is_null()) {
      if (!tools->is_array()) return "choices[0].delta.tool_calls is not an array";
      for (const json& call : *tools) {
        if (!call.is_object()) return "choices[0].delta.tool_calls[] is not an object";
        const auto fn = call.find("function");
        if (fn == call.end() || fn->is_null()) continue;
        if (!fn->is_object()) return "choices[0].delta.tool_calls[].function is not an object";
        std::string name, arguments;
        if (!read_text(*fn, "name", name) || !read_text(*fn, "arguments", arguments))
          return "choices[0].delta.tool_calls[].function fields are not strings";
        chunk.tool_call_text += name;
        chunk.tool_call_text += arguments;
      }
    }
  }

  const auto logprobs = choice.find("logprobs");
  if (logprobs != choice.end() && !logprobs->is_null()) {
    if (!logprobs->is_object()) return "choices[0].logprobs is not an object";
    for (const char* key : {"content", "tokens"}) {
      const auto list = logprobs->find(key);
      if (list == logprobs->end() || list->is_null()) continue;
      if (!list->is_array()) return std::string("choices[0].logprobs.") + key + " is not an array";
      if (chunk.tokens == 0) chunk.tokens = static_cast<std::int64_t>(list->size());
    }
  }
  return std::nullopt;
}

}  // namespace

std::string printable_excerpt(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 16);
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t len = utf8_sequence_length(text, i);
    const std::size_t step = len == 0 ? 1 : len;
    if (i + step > max_bytes) break;
    if (len == 0 || c < 0x20 || c == 0x7F) {
      append_hex_escape(out, c);
    } else {
      out.append(text.substr(i, len));
    }
    i += step;
  }
  if (i < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

StreamEvent classify_openai_event(const SseEvent& event) {
  return classify_openai_data(event.data, event.event);
}

StreamEvent classify_openai_data(std::string_view data, std::string_view event_name) {
  const std::string_view trimmed = trim_ascii_space(data);
  if (event_name == "error") {
    // An SSE event named "error": its data is the message, JSON or not.
    json doc = json::parse(trimmed.begin(), trimmed.end(), nullptr, false);
    if (doc.is_object()) {
      const auto inner = doc.find("error");
      if (inner != doc.end() && inner->is_object())
        return server_error(describe_error_object(*inner, data));
      if (inner != doc.end() && inner->is_string())
        return server_error(printable_excerpt(inner->get_ref<const std::string&>()));
      return server_error(describe_error_object(doc, data));
    }
    return server_error(trimmed.empty() ? std::string("error event without data")
                                        : printable_excerpt(trimmed));
  }
  if (trimmed.empty()) return StreamEvent{};
  if (trimmed == "[DONE]") {
    StreamEvent e;
    e.kind = StreamEventKind::done;
    return e;
  }

  json doc;
  try {
    doc = json::parse(trimmed.begin(), trimmed.end());
  } catch (const json::exception& e) {
    // e.what() names the byte position and what the parser expected; it quotes input bytes.
    return malformed("malformed JSON (" + printable_excerpt(e.what(), 2 * kMaxExcerptBytes) + ")",
                     data);
  }
  if (!doc.is_object()) return malformed("chunk is not a JSON object", data);

  const auto error = doc.find("error");
  if (error != doc.end() && !error->is_null()) {
    if (error->is_object()) return server_error(describe_error_object(*error, data));
    if (error->is_string())
      return server_error(printable_excerpt(error->get_ref<const std::string&>()));
    return server_error("error: " + printable_excerpt(data));
  }
  const auto object = doc.find("object");
  if (object != doc.end() && object->is_string() &&
      object->get_ref<const std::string&>() == "error")
    return server_error(describe_error_object(doc, data));

  StreamEvent e;
  e.kind = StreamEventKind::chunk;
  try {
    if (auto problem = read_chunk(doc, e.chunk)) return malformed(std::move(*problem), data);
  } catch (const json::exception& ex) {
    return malformed("unreadable chunk (" + printable_excerpt(ex.what()) + ")", data);
  }
  return e;
}

}  // namespace trackiq::load
