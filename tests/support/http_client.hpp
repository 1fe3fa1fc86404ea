#pragma once
// A blocking HTTP/1.1 client for tests (Boost.Beast): one request on a fresh connection; and
// http_head, a HEAD on a raw connection that sees every byte the server sends.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <map>
#include <string>

namespace trackiq::test {

struct HttpReply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string header(const std::string& lower_case_name) const {
    const auto it = headers.find(lower_case_name);
    return it == headers.end() ? "" : it->second;
  }
};

// address: "HOST:PORT". Throws boost::system::system_error when it cannot connect.
inline HttpReply http_call(const std::string& address, const std::string& method,
                           const std::string& target, const std::string& body = "",
                           const std::map<std::string, std::string>& headers = {}) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  const auto colon = address.rfind(':');
  stream.connect(resolver.resolve(address.substr(0, colon), address.substr(colon + 1)));
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  if (req.method() == http::verb::unknown) req.method_string(method);
  req.set(http::field::host, address);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1u << 30);
  if (req.method() == http::verb::head) parser.skip(true);  // its Content-Length has no body
  http::read(stream, buffer, parser);
  HttpReply out;
  const auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  beast::error_code ignored;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  return out;
}

struct HeadReply : HttpReply {
  int next_status = 0;  // the status of the request sent after the HEAD (0: no answer came)
};

// HEAD `target` on a raw keep-alive connection, then GET `next` on the same connection: the
// HEAD's status and headers as sent; `body`: every byte the server sent between them and the
// next answer's status line ("" from a right server; a body sent by mistake lands here, and a
// Content-Length the server then honoured would swallow the next answer: next_status 0).
inline HeadReply http_head(const std::string& address, const std::string& target,
                           const std::map<std::string, std::string>& headers = {},
                           const std::string& next = "/metrics") {
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::resolver resolver(ioc);
  asio::ip::tcp::socket socket(ioc);
  const auto colon = address.rfind(':');
  asio::connect(socket, resolver.resolve(address.substr(0, colon), address.substr(colon + 1)));
  std::string request = "HEAD " + target + " HTTP/1.1\r\nHost: " + address + "\r\n";
  for (const auto& [k, v] : headers) request += k + ": " + v + "\r\n";
  asio::write(socket, asio::buffer(request + "\r\n"));
  std::string got;
  boost::system::error_code ec;
  const std::size_t head_end = asio::read_until(socket, asio::dynamic_buffer(got), "\r\n\r\n", ec);
  HeadReply out;
  if (ec) return out;
  // The next request closes the connection after its answer: everything up to the close.
  const std::string again =
      "GET " + next + " HTTP/1.1\r\nHost: " + address + "\r\nConnection: close\r\n\r\n";
  asio::write(socket, asio::buffer(again), ec);
  asio::read(socket, asio::dynamic_buffer(got), ec);  // to EOF
  const std::string head = got.substr(0, head_end);
  const std::string rest = got.substr(head_end);
  const std::size_t next_at = rest.find("HTTP/1.1 ");
  out.body = rest.substr(0, next_at);
  if (next_at != std::string::npos) out.next_status = std::stoi(rest.substr(next_at + 9, 3));
  // "HTTP/1.1 200 OK\r\nName: value\r\n...\r\n\r\n"
  std::size_t at = head.find("\r\n");
  out.status = std::stoi(head.substr(9, 3));
  while (at != std::string::npos && at + 2 < head.size()) {
    const std::size_t end = head.find("\r\n", at + 2);
    const std::string line = head.substr(at + 2, end - at - 2);
    at = end;
    const std::size_t sep = line.find(':');
    if (line.empty() || sep == std::string::npos) continue;
    std::string name = line.substr(0, sep);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::size_t v = sep + 1;
    while (v < line.size() && line[v] == ' ') ++v;
    out.headers[name] = line.substr(v);
  }
  return out;
}

}  // namespace trackiq::test
