#pragma once
// Prometheus exposition of live telemetry (SRV-2, TEL-4 `monitor --listen`).
//
// Each telemetry channel becomes one series named after Prometheus' conventions (node_exporter,
// DCGM-exporter): a `trackiq_` prefix, base units in the name (`_ratio` for percentages divided
// by 100, `_bytes`, `_celsius`, `_watts`, `_hertz`, `_seconds`, `_joules_total`), and what the
// dotted channel name carries as labels (`device="gpu0"`, `cpu="3"`, `zone=…`). docs/metrics.md
// lists the mapping.
//
//   PrometheusExporter exporter("127.0.0.1:9101");   // serves GET /metrics
//   SamplerOptions so{.sink = &exporter};            // every sampled row updates the gauges
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trackiq/telemetry/sampler.hpp"

namespace prometheus {
struct MetricFamily;
}

namespace trackiq::server {

// How one telemetry channel is exposed.
struct PromSeries {
  std::string metric;                                        // trackiq_cpu_utilization_ratio
  std::vector<std::pair<std::string, std::string>> labels;  // {{"cpu", "3"}}
  double scale = 1.0;                                        // exposed = channel value * scale
  bool counter = false;                                      // only cumulative energy (joules)
  std::string help;
};

// The naming rule (pure; docs/metrics.md "Prometheus names").
PromSeries prometheus_series(const telemetry::Channel& channel);

// A valid Prometheus metric name from free text: every character outside [a-zA-Z0-9_] becomes
// '_', and a leading digit is prefixed with '_' ("kv-cache.hit" -> "kv_cache_hit").
std::string prometheus_name(std::string_view text);

// The latest telemetry row as Prometheus gauges/counters in a registry of their own (the series
// of prometheus_series), with trackiq_exporter_samples_total and
// trackiq_exporter_last_sample_timestamp_seconds. What both `monitor --listen`
// (PrometheusExporter) and `serve` (TelemetryRing) expose. begin() and row() are called by the
// sampler thread; text() may be called from any thread meanwhile (prometheus-cpp's gauges and
// registry are thread-safe).
class TelemetryGauges : public telemetry::RowSink {
 public:
  TelemetryGauges();
  ~TelemetryGauges() override;
  void begin(const std::vector<telemetry::Channel>& channels) override;
  void row(std::int64_t t_ns, std::span<const double> values) override;
  // The text exposition (format 0.0.4) of these series, and the series themselves (to expose
  // them with other families, or as OpenMetrics: openmetrics.hpp).
  std::string text() const;
  std::vector<prometheus::MetricFamily> families() const;

 private:
  friend class PrometheusExporter;  // serves the registry over its own listener
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A RowSink that keeps the latest row as Prometheus gauges/counters and serves them over HTTP
// (HttpServer: text format 0.0.4, or OpenMetrics when the scrape prefers it) at GET (and HEAD) /metrics, with the exporter's own
// series: trackiq_exporter_samples_total, trackiq_exporter_last_sample_timestamp_seconds.
// A NaN value (no reading) removes nothing: the series keeps its last value and a scrape shows
// it only once it has one. `next`, when given, receives every row too (e.g. a CSV file).
class PrometheusExporter : public telemetry::RowSink {
 public:
  // listen: "HOST:PORT" (port 0 picks a free one). InputError for a malformed address,
  // NotAvailableError when it cannot bind.
  explicit PrometheusExporter(const std::string& listen, telemetry::RowSink* next = nullptr);
  ~PrometheusExporter() override;

  void begin(const std::vector<telemetry::Channel>& channels) override;
  void row(std::int64_t t_ns, std::span<const double> values) override;

  // "127.0.0.1:9101": the address actually bound.
  std::string address() const;
  // The exposition as served (for tests and `promtool check metrics`).
  std::string text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trackiq::server
