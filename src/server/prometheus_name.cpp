// The Prometheus metric-name rule (include/trackiq/server/prometheus.hpp), in its own file so that
// a program exposing a Tracker links neither the telemetry exporter nor its civetweb listener.
#include <cctype>
#include <string>
#include <string_view>

#include "trackiq/server/prometheus.hpp"

namespace trackiq::server {

// Prometheus metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label values are free text.
std::string prometheus_name(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 1);
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text.front()))) out.push_back('_');
  for (const char c : text) out.push_back((std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_');
  return out;
}

}  // namespace trackiq::server
