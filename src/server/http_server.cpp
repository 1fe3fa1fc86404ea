// The HTTP/1.1 server of `trackiq serve` (include/trackiq/server/http_server.hpp).
#include "trackiq/server/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <regex>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/core/error.hpp"
#include "trackiq/core/version.hpp"
#include "trackiq/server/router.hpp"

namespace trackiq::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::uint32_t kHeaderLimit = 16 * 1024;

// One connection. Owned by the shared_ptr its pending operation holds; all of its handlers run
// on its strand, so its members need no lock.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpHandler& handler, const RefusalObserver& on_refused,
          const ServerOptions& options)
      : stream_(std::move(socket)), handler_(handler), on_refused_(on_refused), options_(options) {}

  void start() { read_header(options_.header_timeout); }

 private:
  void read_header(std::chrono::milliseconds deadline) {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(options_.max_body_bytes);
    stream_.expires_after(deadline);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec);
    started_ = std::chrono::steady_clock::now();
    // An announced body over the limit is refused before a byte of it is read.
    const auto length = parser_->content_length();
    if (length && *length > options_.max_body_bytes) return refuse(http::status::payload_too_large);
    stream_.expires_after(options_.body_timeout);
    // A client that waits for "100 Continue" before sending its body (curl does for bodies over
    // 1 KiB) gets it; the body then has the body deadline.
    const auto& req = parser_->get();
    if (const auto it = req.find(http::field::expect);
        it != req.end() && beast::iequals(it->value(), "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     req.version());
      http::async_write(stream_, *cont,
                        [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
                          if (ec) return self->fail(ec);
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec);
    auto& req = parser_->get();
    HttpRequest in;
    in.method = std::string(req.method_string());
    in.target = std::string(req.target());
    if (auto it = req.find(http::field::authorization); it != req.end())
      in.authorization = std::string(it->value());
    if (auto it = req.find(http::field::accept); it != req.end())
      in.accept = std::string(it->value());
    if (auto it = req.find(http::field::if_none_match); it != req.end())
      in.if_none_match = std::string(it->value());
    in.body = std::move(req.body());
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    const bool head = req.method() == http::verb::head;
    HttpResponse out;
    try {
      out = handler_(in);
    } catch (const std::exception& e) {
      out = HttpResponse{.status = 500};
      out.body = nlohmann::json{{"error", e.what()}, {"status", 500}}.dump(
                     2, ' ', false, nlohmann::json::error_handler_t::replace) +
                 "\n";
    }
    send(out, version, keep_alive, head);
  }

  void fail(beast::error_code ec) {
    // A deadline passed or the peer went away: close (nothing to answer). A request Beast could
    // not parse gets its status, then the connection closes.
    if (ec == http::error::body_limit) return refuse(http::status::payload_too_large);
    if (ec == http::error::header_limit)
      return refuse(http::status::request_header_fields_too_large);
    if (ec == beast::error::timeout || ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
        ec == http::error::partial_message)
      return close();
    if (ec.category() == make_error_code(http::error::bad_target).category())
      return refuse(http::status::bad_request, ec.message());
    close();
  }

  // Answers a request the HTTP layer refused, counts it, and closes the connection.
  void refuse(http::status status, const std::string& why = "") {
    HttpResponse r;
    r.status = static_cast<int>(status);
    std::string message = why;
    if (status == http::status::payload_too_large)
      message = fmt::format("the body is larger than this server takes: {} bytes (--max-body)",
                            options_.max_body_bytes);
    else if (status == http::status::request_header_fields_too_large)
      message = fmt::format("the request line and headers exceed {} bytes", kHeaderLimit);
    else
      message = "malformed HTTP request: " + why;
    const nlohmann::json doc{{"error", message}, {"status", r.status}};
    r.body = doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    const auto now = std::chrono::steady_clock::now();
    const bool parsed = parser_ && parser_->is_header_done();
    if (on_refused_)
      on_refused_(parsed ? std::string(parser_->get().method_string()) : "other", r.status,
                  std::chrono::duration<double>(now - started_).count());
    // A HEAD gets headers only here too. Its request line is parsed before the fields that may
    // be refused (an announced length over the limit fails the header read), so the method is
    // known then; before it, the method is unknown and not HEAD.
    send(r, 11, false, parser_ && parser_->get().method() == http::verb::head);
  }

  // A streamed body (HttpResponse::stream): the header with chunked transfer coding, then one
  // chunk per generated piece, each written before the next is made, then the last chunk. To a
  // HEAD, the header alone: the generator is never called.
  void send_stream(const HttpResponse& r, unsigned version, bool keep_alive, bool head) {
    auto res = std::make_shared<http::response<http::empty_body>>(
        static_cast<http::status>(r.status), version);
    set_fields(*res, r);
    res->keep_alive(keep_alive);
    res->chunked(true);
    auto serializer = std::make_shared<http::response_serializer<http::empty_body>>(*res);
    // Null for a HEAD (async_write would add the last chunk, a body: the header only goes out).
    auto next = head ? nullptr
                     : std::make_shared<std::function<std::optional<std::string>()>>(r.stream);
    stream_.expires_after(options_.idle_timeout);
    http::async_write_header(stream_, *serializer,
                             [self = shared_from_this(), res, serializer, next](beast::error_code ec, std::size_t) {
                               if (ec) return self->close();
                               if (next) return self->write_chunk(res, next);
                               if (!res->keep_alive()) return self->close();
                               self->read_header(self->options_.idle_timeout);
                             });
  }

  void write_chunk(std::shared_ptr<http::response<http::empty_body>> res,
                   std::shared_ptr<std::function<std::optional<std::string>()>> next) {
    std::optional<std::string> piece;
    try {
      piece = (*next)();
    } catch (const std::exception&) {
      return close();  // the client sees a body that never ended: an error, not a short answer
    }
    stream_.expires_after(options_.idle_timeout);  // a client that stops reading is cut off
    if (!piece) {
      auto last = std::make_shared<http::chunk_last<http::chunk_crlf>>(http::make_chunk_last());
      asio::async_write(stream_, *last, [self = shared_from_this(), res, last](beast::error_code ec, std::size_t) {
        if (ec || !res->keep_alive()) return self->close();
        self->read_header(self->options_.idle_timeout);
      });
      return;
    }
    if (piece->empty()) return write_chunk(std::move(res), std::move(next));  // an empty chunk would end the body
    auto data = std::make_shared<std::string>(std::move(*piece));
    auto chunk = std::make_shared<http::chunk_body<asio::const_buffer>>(asio::const_buffer(data->data(), data->size()));
    asio::async_write(stream_, *chunk,
                      [self = shared_from_this(), res, next, data, chunk](beast::error_code ec, std::size_t) {
                        if (ec) return self->close();
                        self->write_chunk(res, next);
                      });
  }

  // The fields every answer carries, then the handler's own (which may replace them).
  static void set_fields(http::response_header<>& res, const HttpResponse& r) {
    res.set(http::field::server, fmt::format("trackiq/{}", trackiq::version()));
    res.set(http::field::content_type, r.content_type);
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : r.headers) res.set(k, v);
  }

  // Writes a whole answer, then reads the next request (keep-alive) or closes.
  template <class Body>
  void write(std::shared_ptr<http::response<Body>> res) {
    stream_.expires_after(options_.idle_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !res->keep_alive()) return self->close();
                        self->read_header(self->options_.idle_timeout);
                      });
  }

  // Every answer goes out here. To a HEAD (RFC 9110 9.3.2) the handler's answer to the same GET,
  // its status and headers, with the Content-Length its body would have, and no body: whatever
  // the status (a 404 or 405 too), so the next request on the connection is read right.
  void send(const HttpResponse& r, unsigned version, bool keep_alive, bool head) {
    if (r.stream) {
      if (version >= 11) return send_stream(r, version, keep_alive, head);
      HttpResponse whole = r;  // HTTP/1.0 has no chunked coding: gather the pieces
      whole.stream = nullptr;
      try {
        while (auto piece = r.stream()) whole.body += *piece;
      } catch (const std::exception&) {
        return close();
      }
      return send(whole, version, keep_alive, head);
    }
    // A 304 has no body, and a Content-Length in it must be the 200's (RFC 9110 8.6): none.
    const bool length = r.status != 304;
    if (head) {
      // Beast writes no body for empty_body, and leaves a Content-Length set by hand as it is.
      auto res = std::make_shared<http::response<http::empty_body>>(
          static_cast<http::status>(r.status), version);
      set_fields(*res, r);
      res->keep_alive(keep_alive);
      if (length) res->content_length(r.body.size());
      return write(std::move(res));
    }
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version);
    set_fields(*res, r);
    res->body() = r.body;
    res->keep_alive(keep_alive);
    res->prepare_payload();
    if (!length) res->erase(http::field::content_length);
    write(std::move(res));
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const HttpHandler& handler_;
  const RefusalObserver& on_refused_;
  const ServerOptions& options_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace

struct HttpServer::Impl {
  Impl(HttpHandler h, RefusalObserver r, ServerOptions o)
      : handler(std::move(h)), on_refused(std::move(r)), options(std::move(o)), acceptor(ioc) {}

  void accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (!acceptor.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(socket), handler, on_refused, options)->start();
      accept();
    });
  }

  const HttpHandler handler;
  const RefusalObserver on_refused;
  const ServerOptions options;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::string address;
  std::atomic<bool> stopped{false};
};

HttpServer::HttpServer(HttpHandler handler, ServerOptions options, RefusalObserver on_refused)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(on_refused), std::move(options))) {
  const std::string& listen = impl_->options.listen;
  static const std::regex addr(R"(^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$)");
  std::smatch m;
  if (!std::regex_match(listen, m, addr) || std::stoi(m[2].str()) > 65535)
    throw InputError(fmt::format(
        "--listen '{}': expected HOST:PORT, e.g. 127.0.0.1:8080 (port 0: any free port)", listen));
  if (impl_->options.threads == 0) throw InputError("--threads must be at least 1");
  std::string host = m[1].str();
  if (host.front() == '[') host = host.substr(1, host.size() - 2);
  try {
    tcp::resolver resolver(impl_->ioc);
    const auto results =
        resolver.resolve(host, m[2].str(), tcp::resolver::passive | tcp::resolver::numeric_service);
    if (results.empty())
      throw NotAvailableError(
          fmt::format("cannot listen on {}: the host resolves to no address", listen));
    const tcp::endpoint ep = *results.begin();
    auto& a = impl_->acceptor;
    a.open(ep.protocol());
    a.set_option(asio::socket_base::reuse_address(true));
    a.bind(ep);
    a.listen(asio::socket_base::max_listen_connections);
    const auto bound = a.local_endpoint();
    impl_->address = bound.address().is_v6()
                         ? fmt::format("[{}]:{}", bound.address().to_string(), bound.port())
                         : fmt::format("{}:{}", bound.address().to_string(), bound.port());
  } catch (const boost::system::system_error& e) {
    throw NotAvailableError(fmt::format("cannot listen on {}: {}", listen, e.code().message()));
  }
  impl_->accept();
  for (unsigned i = 0; i < impl_->options.threads; ++i)
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
}

HttpServer::~HttpServer() { stop(); }

std::string HttpServer::address() const { return impl_->address; }

void HttpServer::stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace trackiq::server
