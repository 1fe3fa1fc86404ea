// The optional LLM narrative of a report (REP-4): the rule-based findings, as JSON, to an
// OpenAI-compatible chat endpoint (a local Ollama, vLLM, ...). A blocking Boost.Beast client with
// one deadline for the whole exchange; every failure becomes Narrative::error.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/core/error.hpp"
#include "trackiq/report/report.hpp"

namespace trackiq::report {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using Json = nlohmann::ordered_json;

struct Url {
  std::string host, port, path;
};

Url parse_http_url(const std::string& url) {
  if (url.rfind("https://", 0) == 0)
    throw NotAvailableError("https:// LLM endpoints are not supported yet; use http:// (e.g. a local Ollama)");
  if (url.rfind("http://", 0) != 0) throw InputError(fmt::format("--llm '{}': expected http://HOST[:PORT]/PATH", url));
  const std::string rest = url.substr(7);
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  Url u;
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.empty()) throw InputError(fmt::format("--llm '{}': no host", url));
  if (authority.front() == '[') {  // [::1]:8080
    const auto close = authority.find(']');
    if (close == std::string::npos) throw InputError(fmt::format("--llm '{}': bad IPv6 address", url));
    u.host = authority.substr(1, close - 1);
    u.port = close + 2 <= authority.size() && authority[close + 1] == ':' ? authority.substr(close + 2) : "80";
  } else {
    const auto colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    u.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  }
  if (u.port.empty() || u.port.find_first_not_of("0123456789") != std::string::npos)
    throw InputError(fmt::format("--llm '{}': bad port", url));
  // A base URL (…/v1) gets the chat endpoint appended; a full endpoint is used as it is.
  if (!u.path.ends_with("/chat/completions")) {
    if (u.path.back() == '/') u.path.pop_back();
    u.path += "/chat/completions";
  }
  return u;
}

// One POST with one deadline for the whole exchange. beast::tcp_stream's expiry applies to its
// asynchronous operations only, so the exchange is a chain of async steps run to completion.
std::string post_json(const Url& u, const std::string& body, int timeout_ms) {
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(u.host, u.port);
  http::request<http::string_body> req{http::verb::post, u.path, 11};
  req.set(http::field::host, u.host + ":" + u.port);
  req.set(http::field::user_agent, "trackiq");
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(16 * 1024 * 1024);
  beast::error_code failure;
  stream.expires_after(std::chrono::milliseconds(timeout_ms));  // covers every step below
  stream.async_connect(endpoints, [&](beast::error_code ec, const tcp::endpoint&) {
    if (ec) {
      failure = ec;
      return;
    }
    http::async_write(stream, req, [&](beast::error_code wec, std::size_t) {
      if (wec) {
        failure = wec;
        return;
      }
      http::async_read(stream, buffer, parser, [&](beast::error_code rec, std::size_t) { failure = rec; });
    });
  });
  io.run();
  if (failure) throw beast::system_error(failure);
  const auto& res = parser.get();
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (res.result_int() >= 400) {
    std::string excerpt = res.body().substr(0, 200);
    for (auto& ch : excerpt)
      if (ch == '\n' || ch == '\r') ch = ' ';
    throw Error(fmt::format("HTTP {} from {}: {}", res.result_int(), u.path, excerpt));
  }
  return res.body();
}

}  // namespace

std::string narrative_prompt_json(const ReportInput& in, const ExecutiveSummary& es) {
  Json findings = Json::array();
  for (const auto& f : es.findings)
    findings.push_back({{"severity", f.severity}, {"category", f.category}, {"blocking", f.blocking}, {"text", f.text}});
  Json runs = Json::array();
  for (const auto& r : in.runs) {
    Json metrics = Json::object();
    for (const auto& m : r.metrics) metrics[m.name] = m.value;
    runs.push_back({{"run_id", r.run_id},
                    {"product", r.labels.product},
                    {"version", r.labels.version},
                    {"workload", r.workload.backend + ":" + r.workload.model},
                    {"synthetic", r.workload.synthetic},
                    {"scenario", r.scenario.name},
                    {"hardware", r.environment.cpu_model},
                    {"metrics", metrics}});
  }
  Json doc{{"title", in.title},
           {"decision", std::string(to_string(es.decision))},
           {"headline", es.headline},
           {"findings", findings},
           {"runs", runs}};
  if (in.comparison) {
    Json cmp = Json::array();
    for (const auto& m : in.comparison->metrics)
      cmp.push_back({{"metric", m.name},
                     {"baseline", m.baseline},
                     {"current", m.current},
                     {"change_pct", m.change_pct},
                     {"verdict", std::string(analysis::to_string(m.verdict))},
                     {"confidence", m.confidence}});
    doc["comparison"] = cmp;
  }
  if (in.sweep) doc["curves"] = Json::parse(analysis::curve_comparison_json(in.sweep->curves));
  return doc.dump();
}

Narrative request_narrative(const ReportInput& in, const ExecutiveSummary& es, const LlmOptions& o) {
  Narrative n;
  n.model = o.model;
  try {
    const Url url = parse_http_url(o.url);
    const Json body{
        {"model", o.model},
        {"stream", false},
        {"temperature", 0},
        {"messages",
         Json::array(
             {{{"role", "system"},
               {"content",
                "You are a performance engineer. Explain the benchmark findings below to a reader deciding whether to "
                "ship: what changed, how sure we are, and what to check next. Use only the numbers given; do not "
                "invent measurements. At most 200 words, plain Markdown, no headings."}},
              {{"role", "user"}, {"content", narrative_prompt_json(in, es)}}})}};
    const std::string answer = post_json(url, body.dump(), o.timeout_ms);
    Json j;
    try {
      j = Json::parse(answer);
    } catch (const Json::exception&) {  // parse_error, or out_of_range for a number too large
      throw Error(fmt::format("the answer is not JSON: {}", answer.substr(0, 120)));
    }
    if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array() || j["choices"].empty() ||
        !j["choices"][0].is_object() || !j["choices"][0].contains("message") || !j["choices"][0]["message"].is_object() ||
        !j["choices"][0]["message"].contains("content") || !j["choices"][0]["message"]["content"].is_string())
      throw Error("the answer has no choices[0].message.content");
    n.text = j["choices"][0]["message"]["content"].get<std::string>();
    if (n.text.empty()) throw Error("the model returned an empty message");
  } catch (const beast::system_error& e) {
    n.text.clear();
    n.error = e.code() == beast::error::timeout ? fmt::format("no answer within {} ms", o.timeout_ms)
                                                : fmt::format("{}: {}", o.url, e.code().message());
  } catch (const std::exception& e) {
    n.text.clear();
    n.error = e.what();
  }
  return n;
}

}  // namespace trackiq::report
