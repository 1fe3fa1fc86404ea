#pragma once
// Private to telemetry: system paths under CollectorOptions::root.
#include <string>

namespace trackiq::telemetry {

// `abs` (an absolute path such as "/proc/stat") under `root` ("/" or "" = the real system).
inline std::string under(const std::string& root, const std::string& abs) {
  if (root.empty() || root == "/") return abs;
  return (root.back() == '/' ? root.substr(0, root.size() - 1) : root) + abs;
}

}  // namespace trackiq::telemetry
