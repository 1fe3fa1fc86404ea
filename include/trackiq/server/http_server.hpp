#pragma once
// The HTTP/1.1 server of `trackiq serve`: Boost.Beast on a pool of threads, every request handed
// to an Api (api.hpp). Limits that keep a slow or hostile client from holding a worker: a
// deadline for the request line and headers, one for the body, an idle deadline between the
// requests of a keep-alive connection (Beast's tcp_stream::expires_after closes the socket when
// one passes), a body limit (413) and a header size limit (431).
//
//   HttpServer server(api, {.listen = "127.0.0.1:0"});
//   std::string where = server.address();   // "127.0.0.1:40213"
//   ...                                     // serves on its own threads until stop() or
//   destruction
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "trackiq/server/api.hpp"

namespace trackiq::server {

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
  // cannot bind. `api` must outlive the server.
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
