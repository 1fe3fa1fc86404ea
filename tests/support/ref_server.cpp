// trackiq_ref_server: the reference server that `trackiq load` tests run against (LOAD-7). It
// streams OpenAI-style SSE on a known schedule, so a test can compare the TTFT/TPOT/ITL the load
// generator measures with the ground truth below, and it misbehaves on demand, so a test can check
// that each error class is counted as such.
//
//   trackiq_ref_server [--port 0] [--port-file F] [--threads 1] [--ttft-ms 50] [--itl-ms 10]
//                      [--tokens 20] [--tokens-per-chunk 1] [--reasoning-tokens 0]
//                      [--split-writes] [--no-usage] [--no-role-chunk]
//
// Binds 127.0.0.1:PORT (0: any free port), writes the bound port to F (a temporary file renamed
// onto F, so a reader never sees a partial number), prints "listening on 127.0.0.1:PORT" on stdout
// and runs until SIGTERM or SIGINT, then exits 0. --threads N runs N io_context threads; every
// connection is served on its own strand. Times in ms may be fractional (--itl-ms 0.5).
// Exit status 2 for a bad command line.
//
// Connections are HTTP/1.1 keep-alive (closed after the response when the request asks for it);
// any method is read; `Expect: 100-continue` is answered. Unknown paths get 404, a known path with
// the wrong method 405, a bad body or header value 400 (all with an OpenAI-style JSON error).
//
// Generation: POST /v1/chat/completions and POST /v1/completions
//   The JSON body's model, max_tokens (or max_completion_tokens), stream,
//   stream_options.include_usage and messages[].content / prompt are read. The request produces
//   n = min(tokens, max_tokens) tokens (max_tokens absent: n = tokens); finish_reason is "length"
//   when max_tokens <= tokens, otherwise "stop". Tokens are " tok" (" think" for reasoning tokens);
//   usage.prompt_tokens counts whitespace-separated words in the prompt or message contents.
//   Per-request overrides (request headers): x-ttft-ms, x-itl-ms, x-tokens, x-tokens-per-chunk,
//   x-reasoning-tokens, x-split-writes (0 or 1).
//
//   Schedule of a streamed answer (stream: true), all deadlines absolute from t0, the moment the
//   request was fully read (steady clock; nothing accumulates sleeps), with C = ceil(n / P)
//   content chunks of P = tokens-per-chunk tokens each (the last may carry fewer; C = 1 with an
//   empty delta when n = 0):
//     t0                 response headers; for chat also the role-only chunk
//                        (delta {"role":"assistant","content":""}) unless --no-role-chunk
//     t0 + TTFT + k*ITL  content chunk k = 0..C-1; the last carries finish_reason
//     same instant       one TCP write holding the usage chunk ("choices": [], only when the
//                        request set stream_options.include_usage and without --no-usage),
//                        "data: [DONE]" and the chunked-encoding terminator
//   Ground truth: TTFT = TTFT; the gap between content chunks = ITL; TPOT = (C-1)*ITL / (n-1),
//   which is ITL when P = 1. Expected accuracy on an idle loopback: every event lands within 2 ms
//   of its deadline (typically well under 1 ms late). t0 is the server's: a burst of requests
//   sent at once is read one after another (tens of µs each per thread), which a client-side
//   TTFT includes.
//   Chat chunks are chat.completion.chunk objects (choices[0].delta.content, or
//   delta.reasoning_content for the first R = reasoning-tokens tokens; a chunk that holds both
//   kinds carries both fields); completion chunks are text_completion objects (choices[0].text;
//   no role chunk, no reasoning). When include_usage is set, every other chunk has "usage": null,
//   as OpenAI does.
//   Each SSE event is one HTTP chunk in its own TCP write (TCP_NODELAY). With --split-writes every
//   event is cut in the middle of its JSON into two HTTP chunks sent in two TCP writes: the first
//   half 1 ms before the event's deadline (at once if that has passed: the role chunk's halves go
//   back to back) and the second half at the deadline, so the event completes at its deadline.
//   The usage chunk and [DONE] always share one write (two events coalesced), in either mode.
//
//   A non-streamed request gets one chat.completion / text_completion JSON (with usage) at
//   t0 + TTFT + (C-1)*ITL.
//
// Misbehaviour, for the load generator's error classes (any method unless stated):
//   /small                  200, body "hello, world\n" (13 bytes, Content-Length), keep-alive,
//                           written at once from a prebuilt buffer: the throughput endpoint
//   /status/<code>          that status (200..599) with a small JSON error body; keep-alive
//   /sleep/<ms>             200 {"slept_ms":ms} after ms (for client timeouts)
//   /reset                  closes with SO_LINGER 0 without answering: the client sees a reset
//   /close                  closes without answering: the client sees EOF
//   /malformed              writes "NOT-HTTP garbage" bytes, then closes
//   POST /v1/stream-error   a chat stream: role chunk at t0, one content chunk at t0+TTFT, then
//                           at t0+TTFT+ITL this event and the end of the (well-formed) chunked
//                           body, with no [DONE]:
//     data: {"error": {"message": "overloaded", "type": "server_error", "code": 503}}
//   POST /truncated         a chat stream: role chunk, one content chunk at t0+TTFT, then at
//                           t0+TTFT+ITL an HTTP chunk header and half of the event it announces,
//                           then the connection is closed
//   /wav?seconds=S&rate=R   200 audio/wav after TTFT: S seconds (fractional allowed) of 16-bit
//                           mono PCM silence at R Hz (default 16000), a 44-byte RIFF header
//   POST /v2/models/<m>/infer  a KServe v2 answer after TTFT:
//     {"model_name":m,"outputs":[{"name":"output0","datatype":"FP32","shape":[1],"data":[0.5]}]}
// x-ttft-ms and x-itl-ms apply to /v1/stream-error, /truncated, /wav and .../infer too.
//
// A client that disconnects is noticed at the session's next write (a pending sleep runs out
// first); the session then ends and frees everything it held.
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace trackiq::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

constexpr std::size_t kBodyLimit = 64 * 1024 * 1024;
constexpr std::chrono::milliseconds kSplitGap{1};  // first half of a split event leaves this early
constexpr std::int64_t kMaxWavBytes = 256 * 1024 * 1024;
constexpr std::string_view kSmallResponse =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world\n";
constexpr std::string_view kSmallResponseClose =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: "
    "close\r\n\r\nhello, world\n";

// The timing and shape of generated answers: the command line's values, then per request the
// x-* header overrides. Immutable once the server runs; read by every thread.
struct Timing {
  Clock::duration ttft = std::chrono::milliseconds(50);
  Clock::duration itl = std::chrono::milliseconds(10);
  int tokens = 20;
  int tokens_per_chunk = 1;
  int reasoning_tokens = 0;
  bool split_writes = false;
};

struct Options {
  std::uint16_t port = 0;
  std::string port_file;
  int threads = 1;
  Timing timing;
  bool usage = true;
  bool role_chunk = true;
};

// A request the client got wrong: answered with this status and message.
struct BadRequest {
  int status;
  std::string message;
};

std::atomic<std::uint64_t> g_next_id{1};  // response ids; any thread

// ---- numbers and text -------------------------------------------------------------------------

// Boost 1.74's beast::string_view is boost::string_view.
std::string_view std_view(beast::string_view s) { return {s.data(), s.size()}; }

template <typename T>
std::optional<T> parse_number(std::string_view s) {
  T value{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

// Milliseconds (fractional allowed, >= 0) as a clock duration; nullopt when malformed.
std::optional<Clock::duration> parse_ms(std::string_view s) {
  const auto ms = parse_number<double>(s);
  if (!ms || !(*ms >= 0) || *ms > 1e9) return std::nullopt;
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::milli>(*ms));
}

int count_words(std::string_view text) {
  int words = 0;
  bool in_word = false;
  for (const char c : text) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

// Words in a prompt (string, array of strings, array of token ids or of arrays of them) or in
// message contents (string, or an array of parts with "text").
int count_prompt_words(const Json& v) {
  if (v.is_string()) return count_words(v.get_ref<const std::string&>());
  if (v.is_number()) return 1;
  int words = 0;
  if (v.is_array())
    for (const auto& item : v) words += count_prompt_words(item);
  else if (v.is_object() && v.contains("text"))
    words += count_prompt_words(v["text"]);
  return words;
}

std::string chunk(std::string_view data) {  // one HTTP/1.1 chunk
  char size[16];
  const auto end = std::to_chars(size, size + sizeof size, data.size(), 16).ptr;
  std::string out(size, end);
  out += "\r\n";
  out += data;
  out += "\r\n";
  return out;
}

std::string sse_event(const Json& j) { return "data: " + j.dump() + "\n\n"; }

std::string response(int status, std::string_view content_type, std::string_view body,
                     bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  out += std_view(http::obsolete_reason(static_cast<http::status>(status)));
  out += "\r\n";
  if (status != 204 && status != 304) {
    out += "Content-Type: ";
    out += content_type;
    out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  if (status != 204 && status != 304) out += body;
  return out;
}

std::string error_json(int status, std::string_view message) {
  return Json{
      {"error", {{"message", std::string(message)}, {"type", "ref_server"}, {"code", status}}}}
      .dump();
}

// ---- scripts: what a session writes, when, and how it ends ------------------------------------

struct Step {
  Clock::time_point at;  // write no earlier than this
  std::string bytes;
};

enum class Ending {
  kKeepAlive,  // read the next request (or close gracefully when the request asked for it)
  kClose,      // shut down sending and close: the client sees EOF
  kReset,      // close with SO_LINGER 0: the client sees a reset
};

class Script {
 public:
  virtual ~Script() = default;
  // The next write, or false when the script is done.
  virtual bool next(Step& step) = 0;
  Ending ending = Ending::kKeepAlive;
};

class FixedScript final : public Script {
 public:
  explicit FixedScript(Ending end) { ending = end; }
  FixedScript(Clock::time_point at, std::string bytes, Ending end = Ending::kKeepAlive) {
    steps_.push_back({at, std::move(bytes)});
    ending = end;
  }
  bool next(Step& step) override {
    if (steps_.empty()) return false;
    step = std::move(steps_.front());
    steps_.pop_front();
    return true;
  }

 private:
  std::deque<Step> steps_;
};

// What one /v1/... request asks for, with defaults and overrides applied.
struct Generation {
  enum class Fault { kNone, kStreamError, kTruncate };
  bool chat = true;
  bool stream = false;
  bool include_usage = false;
  bool role_chunk = true;
  Fault fault = Fault::kNone;
  std::string model = "ref-model";
  int tokens = 0;  // n
  bool length_limited = false;
  int prompt_tokens = 0;
  Timing timing;

  int chunks() const {
    if (tokens == 0) return 1;
    return (tokens + timing.tokens_per_chunk - 1) / timing.tokens_per_chunk;
  }
  std::string finish_reason() const { return length_limited ? "length" : "stop"; }
  Json usage() const {
    return {{"prompt_tokens", prompt_tokens},
            {"completion_tokens", tokens},
            {"total_tokens", prompt_tokens + tokens}};
  }
};

// A streamed answer, produced one event at a time (a long answer is never held in memory whole).
class StreamScript final : public Script {
 public:
  StreamScript(Generation g, Clock::time_point t0, bool keep_alive)
      : g_(std::move(g)),
        t0_(t0),
        id_((g_.chat ? "chatcmpl-ref-" : "cmpl-ref-") + std::to_string(g_next_id++)),
        created_(static_cast<std::int64_t>(std::time(nullptr))),
        keep_alive_(keep_alive) {}

  bool next(Step& step) override {
    if (queue_.empty()) refill();
    if (queue_.empty()) return false;
    step = std::move(queue_.front());
    queue_.pop_front();
    return true;
  }

 private:
  enum class Stage { kHead, kContent, kTail, kDone };

  Clock::time_point deadline(int k) const { return t0_ + g_.timing.ttft + k * g_.timing.itl; }

  // One event as one or (split) two writes completing at `at`; `prefix` leads the first write.
  void emit(Clock::time_point at, const std::string& event, std::string prefix = {}) {
    if (!g_.timing.split_writes) {
      queue_.push_back({at, std::move(prefix) + chunk(event)});
      return;
    }
    const std::size_t json_size = event.size() - 8;  // "data: " ... "\n\n"
    const std::size_t cut = 6 + json_size / 2;
    queue_.push_back(
        {at - kSplitGap, std::move(prefix) + chunk(std::string_view(event).substr(0, cut))});
    queue_.push_back({at, chunk(std::string_view(event).substr(cut))});
  }

  Json base() const {
    Json j{{"id", id_},
           {"object", g_.chat ? "chat.completion.chunk" : "text_completion"},
           {"created", created_},
           {"model", g_.model}};
    return j;
  }

  Json with_choice(Json choice) const {
    Json j = base();
    j["choices"] = Json::array({std::move(choice)});
    if (g_.include_usage) j["usage"] = nullptr;
    return j;
  }

  std::string content_event(int k) const {
    const int first = k * g_.timing.tokens_per_chunk;
    const int last = std::min(g_.tokens, first + g_.timing.tokens_per_chunk);
    const int reasoning =
        std::max(0, std::min(last, g_.chat ? g_.timing.reasoning_tokens : 0) - first);
    std::string thought, text;
    for (int i = 0; i < reasoning; ++i) thought += " think";
    for (int i = first + reasoning; i < last; ++i) text += " tok";
    const bool final_chunk = k == g_.chunks() - 1 && g_.fault == Generation::Fault::kNone;
    const Json finish = final_chunk ? Json(g_.finish_reason()) : Json(nullptr);
    if (!g_.chat)
      return sse_event(with_choice(
          {{"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", finish}}));
    Json delta = Json::object();
    if (reasoning > 0) delta["reasoning_content"] = thought;
    if (!text.empty() || reasoning == 0) delta["content"] = text;
    if (g_.tokens == 0) delta = Json::object();
    return sse_event(with_choice(
        {{"index", 0}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", finish}}));
  }

  void refill() {
    switch (stage_) {
      case Stage::kHead: {
        std::string head =
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            "Transfer-Encoding: chunked\r\n";
        if (!keep_alive_) head += "Connection: close\r\n";
        head += "\r\n";
        if (g_.chat && g_.role_chunk) {
          const Json role = with_choice({{"index", 0},
                                         {"delta", {{"role", "assistant"}, {"content", ""}}},
                                         {"logprobs", nullptr},
                                         {"finish_reason", nullptr}});
          emit(t0_, sse_event(role), std::move(head));
        } else {
          queue_.push_back({t0_, std::move(head)});
        }
        stage_ = Stage::kContent;
        return;
      }
      case Stage::kContent: {
        if (k_ == 1 && g_.fault == Generation::Fault::kStreamError) {
          // The event text is fixed, spaces included, so tests can match it byte for byte.
          const std::string error =
              "data: {\"error\": {\"message\": \"overloaded\", \"type\": \"server_error\", "
              "\"code\": 503}}\n\n";
          queue_.push_back({deadline(1), chunk(error) + "0\r\n\r\n"});
          stage_ = Stage::kDone;
          return;
        }
        if (k_ == 1 && g_.fault == Generation::Fault::kTruncate) {
          const std::string event = content_event(1);
          const std::string whole = chunk(event);
          queue_.push_back(
              {deadline(1), whole.substr(0, whole.find("\r\n") + 2 + event.size() / 2)});
          ending = Ending::kClose;
          stage_ = Stage::kDone;
          return;
        }
        emit(deadline(k_), content_event(k_));
        if (++k_ >= g_.chunks() && g_.fault == Generation::Fault::kNone) stage_ = Stage::kTail;
        return;
      }
      case Stage::kTail: {
        std::string tail;
        if (g_.include_usage) {
          Json u = base();
          u["choices"] = Json::array();
          u["usage"] = g_.usage();
          tail += chunk(sse_event(u));
        }
        tail += chunk("data: [DONE]\n\n");
        tail += "0\r\n\r\n";
        queue_.push_back({deadline(g_.chunks() - 1), std::move(tail)});
        stage_ = Stage::kDone;
        return;
      }
      case Stage::kDone:
        return;
    }
  }

  const Generation g_;
  const Clock::time_point t0_;
  const std::string id_;
  const std::int64_t created_;
  const bool keep_alive_;
  Stage stage_ = Stage::kHead;
  int k_ = 0;  // next content chunk
  std::deque<Step> queue_;
};

std::string complete_answer(const Generation& g) {
  std::string thought, text;
  const int reasoning = g.chat ? std::min(g.tokens, g.timing.reasoning_tokens) : 0;
  for (int i = 0; i < reasoning; ++i) thought += " think";
  for (int i = reasoning; i < g.tokens; ++i) text += " tok";
  const std::uint64_t id = g_next_id++;
  Json j{{"id", (g.chat ? "chatcmpl-ref-" : "cmpl-ref-") + std::to_string(id)},
         {"object", g.chat ? "chat.completion" : "text_completion"},
         {"created", static_cast<std::int64_t>(std::time(nullptr))},
         {"model", g.model}};
  Json choice{{"index", 0}};
  if (g.chat) {
    Json message{{"role", "assistant"}, {"content", text}};
    if (reasoning > 0) message["reasoning_content"] = thought;
    choice["message"] = message;
  } else {
    choice["text"] = text;
  }
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = g.finish_reason();
  j["choices"] = Json::array({choice});
  j["usage"] = g.usage();
  return j.dump();
}

// ---- requests ---------------------------------------------------------------------------------

using Request = http::request<http::string_body>;

Timing request_timing(const Request& req, const Timing& defaults) {
  Timing t = defaults;
  auto header = [&](std::string_view name) {
    return std_view(req[beast::string_view(name.data(), name.size())]);
  };
  auto duration = [&](std::string_view name, Clock::duration& out) {
    if (const auto v = header(name); !v.empty()) {
      const auto d = parse_ms(v);
      if (!d) throw BadRequest{400, std::string(name) + ": expected milliseconds >= 0"};
      out = *d;
    }
  };
  auto count = [&](std::string_view name, int& out, int min) {
    if (const auto v = header(name); !v.empty()) {
      const auto n = parse_number<int>(v);
      if (!n || *n < min)
        throw BadRequest{400,
                         std::string(name) + ": expected an integer >= " + std::to_string(min)};
      out = *n;
    }
  };
  duration("x-ttft-ms", t.ttft);
  duration("x-itl-ms", t.itl);
  count("x-tokens", t.tokens, 0);
  count("x-tokens-per-chunk", t.tokens_per_chunk, 1);
  count("x-reasoning-tokens", t.reasoning_tokens, 0);
  if (const auto v = header("x-split-writes"); !v.empty()) {
    if (v != "0" && v != "1") throw BadRequest{400, "x-split-writes: expected 0 or 1"};
    t.split_writes = v == "1";
  }
  return t;
}

Generation parse_generation(const Request& req, const Options& o, bool chat) {
  Generation g;
  g.chat = chat;
  g.role_chunk = o.role_chunk;
  g.timing = request_timing(req, o.timing);
  const Json body = Json::parse(req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object())
    throw BadRequest{400, "the body is not a JSON object"};
  if (body.contains("model") && body["model"].is_string())
    g.model = body["model"].get<std::string>();
  g.stream = body.contains("stream") && body["stream"].is_boolean() && body["stream"].get<bool>();
  g.tokens = g.timing.tokens;
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    if (!body.contains(key) || body[key].is_null()) continue;
    if (!body[key].is_number_integer() || body[key].get<std::int64_t>() < 0)
      throw BadRequest{400, std::string(key) + ": expected an integer >= 0"};
    const auto max_tokens = body[key].get<std::int64_t>();
    if (max_tokens <= g.tokens) {
      g.tokens = static_cast<int>(max_tokens);
      g.length_limited = true;
    }
  }
  const Json* options = body.contains("stream_options") ? &body["stream_options"] : nullptr;
  g.include_usage =
      o.usage && options && options->is_object() && options->contains("include_usage") &&
      (*options)["include_usage"].is_boolean() && (*options)["include_usage"].get<bool>();
  if (chat && body.contains("messages")) {
    if (!body["messages"].is_array()) throw BadRequest{400, "messages: expected an array"};
    for (const auto& m : body["messages"])
      if (m.is_object() && m.contains("content"))
        g.prompt_tokens += count_prompt_words(m["content"]);
  } else if (!chat && body.contains("prompt")) {
    g.prompt_tokens = count_prompt_words(body["prompt"]);
  }
  return g;
}

std::string query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == key)
      return eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return {};
}

std::string wav_file(double seconds, int rate) {
  const auto samples = static_cast<std::int64_t>(seconds * rate + 0.5);
  const auto data_bytes = static_cast<std::uint32_t>(samples * 2);
  std::string out;
  out.reserve(44 + data_bytes);
  auto u32 = [&](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  auto u16 = [&](std::uint16_t v) {
    out += static_cast<char>(v & 0xff);
    out += static_cast<char>(v >> 8);
  };
  out += "RIFF";
  u32(36 + data_bytes);
  out += "WAVEfmt ";
  u32(16);                                    // fmt chunk size
  u16(1);                                     // PCM
  u16(1);                                     // mono
  u32(static_cast<std::uint32_t>(rate));      // sample rate
  u32(static_cast<std::uint32_t>(rate) * 2);  // byte rate
  u16(2);                                     // block align
  u16(16);                                    // bits per sample
  out += "data";
  u32(data_bytes);
  out.append(data_bytes, '\0');
  return out;
}

// The script answering one request; throws BadRequest for a request the client got wrong.
std::unique_ptr<Script> route(const Request& req, const Options& o, Clock::time_point t0) {
  const bool keep_alive = req.keep_alive();
  const std::string_view target = std_view(req.target());
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  const bool post = req.method() == http::verb::post;
  auto json_answer = [&](Clock::time_point at, int status, const std::string& body) {
    return std::make_unique<FixedScript>(at,
                                         response(status, "application/json", body, keep_alive));
  };
  auto post_only = [&] {
    if (!post) throw BadRequest{405, std::string(path) + " takes POST"};
  };

  if (path == "/small")
    return std::make_unique<FixedScript>(
        t0, std::string(keep_alive ? kSmallResponse : kSmallResponseClose));
  if (path == "/v1/chat/completions" || path == "/v1/completions") {
    post_only();
    const Generation g = parse_generation(req, o, path == "/v1/chat/completions");
    if (g.stream) return std::make_unique<StreamScript>(g, t0, keep_alive);
    return json_answer(t0 + g.timing.ttft + (g.chunks() - 1) * g.timing.itl, 200,
                       complete_answer(g));
  }
  if (path == "/v1/stream-error" || path == "/truncated") {
    post_only();
    Generation g;
    g.role_chunk = o.role_chunk;
    g.timing = request_timing(req, o.timing);
    g.tokens = 2;
    g.timing.tokens_per_chunk = 1;
    g.timing.reasoning_tokens = 0;
    g.timing.split_writes = false;
    g.fault = path == "/truncated" ? Generation::Fault::kTruncate : Generation::Fault::kStreamError;
    const Json body = Json::parse(req.body(), nullptr, false);
    if (body.is_object() && body.contains("model") && body["model"].is_string())
      g.model = body["model"].get<std::string>();
    return std::make_unique<StreamScript>(g, t0, keep_alive);
  }
  if (path.starts_with("/status/")) {
    const auto code = parse_number<int>(path.substr(8));
    if (!code || *code < 200 || *code > 599)
      throw BadRequest{400, "/status/<code>: expected 200..599"};
    return json_answer(
        t0, *code,
        error_json(*code, std_view(http::obsolete_reason(static_cast<http::status>(*code)))));
  }
  if (path.starts_with("/sleep/")) {
    const auto ms = parse_ms(path.substr(7));
    if (!ms) throw BadRequest{400, "/sleep/<ms>: expected milliseconds >= 0"};
    const Json body{{"slept_ms", std::chrono::duration<double, std::milli>(*ms).count()}};
    return json_answer(t0 + *ms, 200, body.dump());
  }
  if (path == "/reset") return std::make_unique<FixedScript>(Ending::kReset);
  if (path == "/close") return std::make_unique<FixedScript>(Ending::kClose);
  if (path == "/malformed")
    return std::make_unique<FixedScript>(t0, "NOT-HTTP garbage \x01\x02\r\n\r\n{]\r\n",
                                         Ending::kClose);
  if (path == "/wav") {
    const auto seconds = parse_number<double>(query_value(query, "seconds"));
    const std::string rate_text = query_value(query, "rate");
    const auto rate = rate_text.empty() ? std::optional<int>(16000) : parse_number<int>(rate_text);
    if (!seconds || !(*seconds >= 0)) throw BadRequest{400, "/wav: expected seconds=S with S >= 0"};
    if (!rate || *rate < 1 || *rate > 384000)
      throw BadRequest{400, "/wav: expected rate=1..384000"};
    if (*seconds * *rate * 2 > kMaxWavBytes)
      throw BadRequest{413, "/wav: more than 256 MiB of audio"};
    const Timing t = request_timing(req, o.timing);
    return std::make_unique<FixedScript>(
        t0 + t.ttft, response(200, "audio/wav", wav_file(*seconds, *rate), keep_alive));
  }
  if (path.starts_with("/v2/models/") && path.ends_with("/infer")) {
    const std::string_view model = path.substr(11, path.size() - 11 - 6);
    if (!model.empty() && model.find('/') == std::string_view::npos) {
      post_only();
      const Timing t = request_timing(req, o.timing);
      const Json body{{"model_name", std::string(model)},
                      {"outputs", Json::array({{{"name", "output0"},
                                                {"datatype", "FP32"},
                                                {"shape", Json::array({1})},
                                                {"data", Json::array({0.5})}}})}};
      return json_answer(t0 + t.ttft, 200, body.dump());
    }
  }
  throw BadRequest{404, "no such endpoint: " + std::string(path)};
}

// ---- connections ------------------------------------------------------------------------------

// One connection: read a request, run its script, repeat. Every operation runs on the socket's
// strand, so a session is touched by one thread at a time; it lives as long as an operation of
// its own holds the shared_ptr.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Options& options)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), options_(options) {}

  void start() {
    beast::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    read_request();
  }

 private:
  void read_request() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    http::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return close_gracefully();
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](beast::error_code wec, std::size_t) {
                          if (wec) return self->close_gracefully();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_request(ec); });
  }

  void on_request(beast::error_code ec) {
    const Clock::time_point t0 = Clock::now();
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      script_ = std::make_unique<FixedScript>(
          t0, response(413, "application/json", error_json(413, "body too large"), false));
      return run();
    }
    if (ec) return close_gracefully();
    const Request& req = parser_->get();
    keep_alive_ = req.keep_alive();
    try {
      script_ = route(req, options_, t0);
    } catch (const BadRequest& bad) {
      script_ = std::make_unique<FixedScript>(
          t0, response(bad.status, "application/json", error_json(bad.status, bad.message),
                       keep_alive_));
    } catch (const std::exception& e) {  // a bug of ours, or out of memory: answer, do not die
      script_ = std::make_unique<FixedScript>(
          t0, response(500, "application/json", error_json(500, e.what()), false));
      keep_alive_ = false;
    }
    run();
  }

  // Prepares the next step before waiting for its time, so the wait ends in a bare write.
  void run() {
    if (!script_->next(step_)) return finish();
    if (step_.at <= Clock::now()) return write();
    timer_.expires_at(step_.at);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->write();
    });
  }

  void write() {
    asio::async_write(socket_, asio::buffer(step_.bytes),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->abandon();
                        self->run();
                      });
  }

  void finish() {
    switch (script_->ending) {
      case Ending::kKeepAlive:
        script_.reset();
        if (keep_alive_) return read_request();
        return close_gracefully();
      case Ending::kClose:
        return close_gracefully();
      case Ending::kReset: {
        beast::error_code ignored;
        socket_.set_option(asio::socket_base::linger(true, 0), ignored);
        socket_.close(ignored);
        return;
      }
    }
  }

  void close_gracefully() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
  }

  void abandon() {  // the client went away mid-answer
    beast::error_code ignored;
    socket_.close(ignored);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  const Options& options_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = true;
  std::unique_ptr<Script> script_;
  Step step_;  // the write in flight or waiting for its time
};

// Accepts connections on its own strand; each gets a strand of its own.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& io, const Options& options)
      : io_(io),
        acceptor_(asio::make_strand(io)),
        retry_(acceptor_.get_executor()),
        options_(options) {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), options.port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void accept() {
    acceptor_.async_accept(
        asio::make_strand(io_), [self = shared_from_this()](beast::error_code ec, tcp::socket s) {
          if (ec == asio::error::operation_aborted) return;
          if (ec) {  // out of descriptors, most likely: wait a little rather than spin
            std::cerr << "trackiq_ref_server: accept: " << ec.message() << "\n";
            self->retry_.expires_after(std::chrono::milliseconds(10));
            self->retry_.async_wait([self](beast::error_code) { self->accept(); });
            return;
          }
          std::make_shared<Session>(std::move(s), self->options_)->start();
          self->accept();
        });
  }

 private:
  asio::io_context& io_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  const Options& options_;
};

// ---- command line -----------------------------------------------------------------------------

constexpr const char* kUsage =
    "usage: trackiq_ref_server [--port 0] [--port-file F] [--threads 1] [--ttft-ms 50] [--itl-ms "
    "10]\n"
    "                          [--tokens 20] [--tokens-per-chunk 1] [--reasoning-tokens 0]\n"
    "                          [--split-writes] [--no-usage] [--no-role-chunk]\n";

std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--split-writes") {
      o.timing.split_writes = true;
      continue;
    }
    if (arg == "--no-usage") {
      o.usage = false;
      continue;
    }
    if (arg == "--no-role-chunk") {
      o.role_chunk = false;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "trackiq_ref_server: " << arg << ": unknown option or missing value\n" << kUsage;
      return std::nullopt;
    }
    const std::string_view value = argv[++i];
    bool ok = true;
    auto integer = [&](int& out, int min, int max) {
      const auto n = parse_number<int>(value);
      ok = n && *n >= min && *n <= max;
      if (ok) out = *n;
    };
    auto ms = [&](Clock::duration& out) {
      const auto d = parse_ms(value);
      ok = d.has_value();
      if (ok) out = *d;
    };
    if (arg == "--port") {
      int port = 0;
      integer(port, 0, 65535);
      o.port = static_cast<std::uint16_t>(port);
    } else if (arg == "--port-file") {
      o.port_file = value;
    } else if (arg == "--threads") {
      integer(o.threads, 1, 256);
    } else if (arg == "--ttft-ms") {
      ms(o.timing.ttft);
    } else if (arg == "--itl-ms") {
      ms(o.timing.itl);
    } else if (arg == "--tokens") {
      integer(o.timing.tokens, 0, 100000000);
    } else if (arg == "--tokens-per-chunk") {
      integer(o.timing.tokens_per_chunk, 1, 100000000);
    } else if (arg == "--reasoning-tokens") {
      integer(o.timing.reasoning_tokens, 0, 100000000);
    } else {
      std::cerr << "trackiq_ref_server: unknown option " << arg << "\n" << kUsage;
      return std::nullopt;
    }
    if (!ok) {
      std::cerr << "trackiq_ref_server: " << arg << ": bad value '" << value << "'\n" << kUsage;
      return std::nullopt;
    }
  }
  return o;
}

void write_port_file(const std::string& path, std::uint16_t port) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

// Hundreds of concurrent connections need more descriptors than the usual soft limit of 1024.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int run_server(const Options& options) {
  std::signal(SIGPIPE, SIG_IGN);
  raise_descriptor_limit();
  asio::io_context io(options.threads);
  auto listener = std::make_shared<Listener>(io, options);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](beast::error_code, int) { io.stop(); });
  if (!options.port_file.empty()) write_port_file(options.port_file, listener->port());
  std::cout << "listening on 127.0.0.1:" << listener->port() << std::endl;
  listener->accept();
  std::vector<std::thread> threads;
  for (int i = 1; i < options.threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  return 0;
}

}  // namespace
}  // namespace trackiq::test

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::cout << trackiq::test::kUsage;
      return 0;
    }
  }
  const auto options = trackiq::test::parse_options(argc, argv);
  if (!options) return 2;
  try {
    return trackiq::test::run_server(*options);
  } catch (const std::exception& e) {
    std::cerr << "trackiq_ref_server: " << e.what() << "\n";
    return 1;
  }
}
