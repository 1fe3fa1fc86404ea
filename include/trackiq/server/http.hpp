#pragma once
// One HTTP request and its answer, as the server module's handlers see them: no sockets here
// (http_server.hpp carries them over HTTP), so handlers are plain functions that tests and fuzzers
// call directly. Used by `trackiq serve`'s Api (api.hpp) and the Tracker's exposition
// (tracker_exposition.hpp).
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trackiq::server {

struct HttpRequest {
  std::string method;         // "GET", "HEAD", "POST", ...
  std::string target;         // origin-form: "/api/v1/runs?limit=10" (percent-encoded)
  std::string authorization;  // the Authorization header ("" when absent)
  std::string accept;         // the Accept header ("" when absent)
  std::string body;
  std::string if_none_match;  // the If-None-Match header ("" when absent): 304 on a match
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>>
      headers;  // extra: Allow, WWW-Authenticate, Location, ETag, X-Cache; a Cache-Control here
                // replaces HttpServer's "no-store"
  // When set, the body is this generator's pieces instead of `body`: HttpServer calls it for the
  // next piece as the previous one has been written (std::nullopt ends the body) and sends them
  // with chunked transfer coding (HTTP/1.0 clients: gathered and sent whole). A large body is
  // never held as one string, and a client that stops reading holds only one piece (its write
  // deadline closes the connection). If it throws, the connection closes mid-body.
  std::function<std::optional<std::string>()> stream;
};

// GET or HEAD. A handler answers HEAD exactly as GET (RFC 9110 9.3.2: the same status and headers),
// body included; HttpServer then sends the status and headers only, with the Content-Length of
// that body (a streamed body: its Transfer-Encoding, and no chunk). Wherever a route takes GET,
// it takes HEAD, and a 405's Allow lists both.
inline bool is_get_or_head(std::string_view method) noexcept {
  return method == "GET" || method == "HEAD";
}

}  // namespace trackiq::server
