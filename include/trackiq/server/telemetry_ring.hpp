#pragma once
// The live telemetry of the machine `trackiq serve` runs on (SRV-2, SRV-3): a RowSink fed by a
// telemetry Sampler (the `monitor` collectors, 1 s by default) that keeps the last rows in a
// bounded ring for GET /api/v1/telemetry (the dashboard's live view) and the latest row as the
// Prometheus series of `monitor --listen` for serve's /metrics.
//
//   TelemetryRing ring(300);                                  // 5 minutes at 1 s
//   Sampler s(make_collectors({"all"}, {}), {.interval_ns = 1'000'000'000, .max_rows = 0,
//                                            .sink = &ring});
//   s.start();
//   std::string doc = ring.json(std::chrono::seconds(60));   // the last minute
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "trackiq/server/prometheus.hpp"
#include "trackiq/telemetry/sampler.hpp"

namespace trackiq::server {

// Thread-safe: the sampler thread calls begin() and row(); any thread may call the readers at
// the same time (one mutex around the ring; the gauges are prometheus-cpp's, thread-safe).
class TelemetryRing : public telemetry::RowSink {
 public:
  // Keeps at most `capacity` rows (the oldest is dropped first); capacity >= 1.
  explicit TelemetryRing(std::size_t capacity);

  // "collector: not available: why" lines, shown with the data (set before the sampler starts).
  void set_unavailable(std::vector<std::string> lines);
  // The sampling interval, shown with the data.
  void set_interval(std::chrono::nanoseconds interval);

  void begin(const std::vector<telemetry::Channel>& channels) override;
  void row(std::int64_t t_ns, std::span<const double> values) override;

  // JSON: {"interval_s", "capacity", "rows_taken", "now_unix_s", "channels": [{"name", "unit"}],
  // "unavailable": [...], "t_unix_s": [...], "values": [[per channel, null for no reading]...]}
  // with the rows sampled within the last `window` (oldest first). Times are Unix seconds
  // (the sampler's monotonic time mapped at each row).
  std::string json(std::chrono::nanoseconds window) const;

  // The latest row as Prometheus families, named as `monitor --listen` names them
  // (prometheus_series); none before the first channel list. serve's /metrics appends them.
  std::vector<prometheus::MetricFamily> metric_families() const;

  std::size_t capacity() const noexcept { return capacity_; }

 private:
  const std::size_t capacity_;
  TelemetryGauges gauges_;
  mutable std::mutex mutex_;  // guards everything below
  std::vector<telemetry::Channel> channels_;
  std::vector<std::string> unavailable_;
  std::chrono::nanoseconds interval_{1'000'000'000};
  std::deque<double> t_unix_s_;           // one per row
  std::deque<std::vector<double>> rows_;  // one per row
  std::uint64_t rows_taken_ = 0;
  bool begun_ = false;
};

}  // namespace trackiq::server
