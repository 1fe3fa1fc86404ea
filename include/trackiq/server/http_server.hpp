#pragma once
// The HTTP/1.1 server of `trackiq serve` and of a Tracker's exposition (tracker_exposition.hpp):
// Boost.Beast on a pool of threads, every request handed to a handler (an Api, api.hpp, or any
// function from HttpRequest to HttpResponse). Limits that keep a slow or hostile client from holding a worker: a
// deadline for the request line and headers, one for the body, an idle deadline between the
// requests of a keep-alive connection (Beast's tcp_stream::expires_after closes the socket when
// one passes), a body limit (413) and a header size limit (431). A HEAD is handed to the handler
// as it came (a handler answers it as GET: is_get_or_head, http.hpp); whatever the answer, its
// status and headers go out with the Content-Length of its body and without the body.
//
//   HttpServer server(api, {.listen = "127.0.0.1:0"});     // or a function:
//   HttpServer hello([](const HttpRequest&) { return HttpResponse{.body = "{}"}; }, {});
//   std::string where = server.address();   // "127.0.0.1:40213"
//   ...                                     // serves on its own threads until stop() or
//   destruction
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "trackiq/server/http.hpp"

namespace trackiq::server {

class Api;

// Answers one request. Called on the server's threads, several at once: it must be thread-safe,
// and it should not throw (an exception becomes a 500 with its message).
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
// Told of each request the HTTP layer answers itself (400 unparsable, 413 body too large, 431
// headers too large) with the method ("other" when unknown), the status and the seconds taken.
using RefusalObserver = std::function<void(std::string_view method, int status, double seconds)>;

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free one
  unsigned threads = 2;
  std::size_t max_body_bytes = 16u << 20;
  // A connection's first request line and headers.
  std::chrono::milliseconds header_timeout{10'000};
  // A request's body, once its headers are in.
  std::chrono::milliseconds body_timeout{60'000};
  // A kept-alive connection: the next request's line and headers; also each response's write.
  std::chrono::milliseconds idle_timeout{30'000};
};

class HttpServer {
 public:
  // Binds and starts serving. InputError for a malformed address, NotAvailableError when it
  // cannot bind. What the handler refers to must outlive the server.
  HttpServer(HttpHandler handler, ServerOptions options, RefusalObserver on_refused = {});
  // `trackiq serve`: every request to api.handle(), refusals to api.count(). `api` must outlive
  // the server.
  HttpServer(Api& api, ServerOptions options);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // "HOST:PORT" as bound (the chosen port when 0 was asked).
  std::string address() const;
  // Stops accepting, closes every connection and joins the threads. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trackiq::server
