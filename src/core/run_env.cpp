#include "trackiq/core/run_env.hpp"

#include <charconv>
#include <cstdlib>
#include <limits>
#include <string_view>

#include "trackiq/core/error.hpp"

namespace trackiq {

namespace {

template <class T>
T parse_integer(const char* name, std::string_view v, T lo, T hi) {
  T out{};
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size() || out < lo || out > hi)
    throw InputError(std::string(name) + "='" + std::string(v) + "': not an integer in [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
  return out;
}

}  // namespace

RunEnv read_run_env(const std::function<const char*(const char*)>& getenv) {
  auto get = [&getenv](const char* name) -> std::optional<std::string_view> {
    const char* v = getenv ? getenv(name) : std::getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string_view(v);
  };
  RunEnv env;
  if (const auto v = get("TRACKIQ_DETERMINISTIC")) {
    if (*v == "1" || *v == "true" || *v == "yes" || *v == "on")
      env.deterministic = true;
    else if (*v == "0" || *v == "false" || *v == "no" || *v == "off")
      env.deterministic = false;
    else
      throw InputError("TRACKIQ_DETERMINISTIC='" + std::string(*v) + "': use 1 or 0 (true/false, yes/no, on/off)");
    env.given["TRACKIQ_DETERMINISTIC"] = std::string(*v);
  }
  if (const auto v = get("TRACKIQ_SEED")) {
    env.seed = parse_integer<std::uint64_t>("TRACKIQ_SEED", *v, 0, std::numeric_limits<std::uint64_t>::max());
    env.given["TRACKIQ_SEED"] = std::string(*v);
  }
  if (const auto v = get("TRACKIQ_THREADS")) {
    env.threads = parse_integer<std::uint32_t>("TRACKIQ_THREADS", *v, 1, 4096);
    env.given["TRACKIQ_THREADS"] = std::string(*v);
  }
  return env;
}

}  // namespace trackiq
