#pragma once
// One HTTP request and its answer, as the server module's handlers see them: no sockets here
// (http_server.hpp carries them over HTTP), so handlers are plain functions that tests and fuzzers
// call directly. Used by `trackiq serve`'s Api (api.hpp) and the Tracker's exposition
// (tracker_exposition.hpp).
#include <string>
#include <utility>
#include <vector>

namespace trackiq::server {

struct HttpRequest {
  std::string method;         // "GET", "POST", ...
  std::string target;         // origin-form: "/api/v1/runs?limit=10" (percent-encoded)
  std::string authorization;  // the Authorization header ("" when absent)
  std::string accept;         // the Accept header ("" when absent)
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>>
      headers;  // extra: Allow, WWW-Authenticate, Location
};

}  // namespace trackiq::server
