#pragma once
// Content negotiation for a Prometheus scrape (SRV-2): the Prometheus text format 0.0.4, or
// OpenMetrics 1.0 when the scrape's Accept header prefers it (Prometheus 2.x asks for
// `application/openmetrics-text;version=1.0.0` first). prometheus-cpp holds the registries and
// writes the text format; it has no OpenMetrics writer, so this one writes the same families in
// OpenMetrics: a counter family is named without its `_total` suffix (its sample keeps it),
// untyped is `unknown`, and the exposition ends with `# EOF`.
//
//   const auto e = trackiq::server::exposition(registry.Collect(), request[http::field::accept]);
//   response.set(http::field::content_type, e.content_type);
//   response.body() = e.body;
#include <string>
#include <string_view>
#include <vector>

namespace prometheus {
struct MetricFamily;
}

namespace trackiq::server {

inline constexpr std::string_view kPrometheusTextType = "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view kOpenMetricsType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

// Whether an Accept header prefers OpenMetrics 1.0 (or its draft 0.0.1) to the text format: the
// media ranges' q values decide (RFC 9110 §12.5.1); a tie goes to OpenMetrics, an absent or
// unparsable header to the text format.
bool wants_openmetrics(std::string_view accept);

std::string openmetrics_text(const std::vector<prometheus::MetricFamily>& families);

struct Exposition {
  std::string content_type;
  std::string body;
};
Exposition exposition(const std::vector<prometheus::MetricFamily>& families, std::string_view accept);

}  // namespace trackiq::server
