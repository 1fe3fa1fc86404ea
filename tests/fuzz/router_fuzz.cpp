// libFuzzer target: `trackiq serve`'s request-target handling. The input is "METHOD TARGET" (the
// first space splits them). The router and the query-string parser must accept or refuse it
// (InputError only), a route parameter never holds a '/' from the raw path, and the whole Api over
// an empty store must answer every request with one of its documented statuses, never a 500 or
// an exception, and with a JSON error document when it refuses.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "trackiq/core/error.hpp"
#include "trackiq/server/api.hpp"
#include "trackiq/server/router.hpp"
#include "trackiq/store/store.hpp"

namespace {

trackiq::server::Api& api() {
  // One empty store for the process (reads only: without a token every write is refused).
  static const std::string path = (std::filesystem::temp_directory_path() /
                                   ("trackiq_router_fuzz_" + std::to_string(::getpid()) + ".db"))
                                      .string();
  static auto store = trackiq::store::open_store(path);
  static trackiq::server::Api instance(*store, {});
  static const int cleanup = std::atexit([] {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  });
  (void)cleanup;
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto space = text.find(' ');
  const std::string method(space == std::string_view::npos ? std::string_view("GET")
                                                           : text.substr(0, space));
  const std::string target(space == std::string_view::npos ? text : text.substr(space + 1));
  const auto [path, query] = trackiq::server::split_target(target);
  const auto m = trackiq::server::match_route(method, path);
  if (m.outcome != trackiq::server::RouteMatch::Outcome::kNotFound && m.pattern == "unmatched")
    std::abort();
  if (m.outcome == trackiq::server::RouteMatch::Outcome::kNotFound && !m.param.empty())
    std::abort();
  try {
    const auto q = trackiq::server::parse_query(query);
    for (const auto& [k, v] : q.items)
      if (k.find('\0') != std::string::npos || v.find('\0') != std::string::npos) std::abort();
  } catch (const trackiq::InputError&) {
  }
  const auto r = api().handle({.method = method, .target = target});
  switch (r.status) {
    case 200:
    case 400:
    case 401:
    case 403:
    case 404:
    case 405:
    case 413:
      break;
    default:
      std::abort();
  }
  if (r.status != 200 && !nlohmann::json::accept(r.body)) std::abort();
  return 0;
}
