// The live telemetry ring of `trackiq serve` (include/trackiq/server/telemetry_ring.hpp).
#include "trackiq/server/telemetry_ring.hpp"

#include <prometheus/metric_family.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "trackiq/core/error.hpp"

namespace trackiq::server {

namespace {
double unix_now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

TelemetryRing::TelemetryRing(std::size_t capacity) : capacity_(capacity) {
  if (capacity == 0) throw Error("TelemetryRing: capacity must be at least 1");
}

void TelemetryRing::set_unavailable(std::vector<std::string> lines) {
  std::lock_guard lock(mutex_);
  unavailable_ = std::move(lines);
}

void TelemetryRing::set_interval(std::chrono::nanoseconds interval) {
  std::lock_guard lock(mutex_);
  interval_ = interval;
}

void TelemetryRing::begin(const std::vector<telemetry::Channel>& channels) {
  gauges_.begin(channels);
  std::lock_guard lock(mutex_);
  channels_ = channels;
  t_unix_s_.clear();
  rows_.clear();
  begun_ = true;
}

void TelemetryRing::row(std::int64_t t_ns, std::span<const double> values) {
  gauges_.row(t_ns, values);
  // The row's wall-clock time: the sampler's monotonic time is mapped through the offset of now.
  const double unix_s = unix_now_s();
  std::lock_guard lock(mutex_);
  if (rows_.size() == capacity_) {  // reuse the oldest row's buffer: no allocation once full
    std::vector<double> recycled = std::move(rows_.front());
    rows_.pop_front();
    t_unix_s_.pop_front();
    recycled.assign(values.begin(), values.end());
    rows_.push_back(std::move(recycled));
  } else {
    rows_.emplace_back(values.begin(), values.end());
  }
  t_unix_s_.push_back(unix_s);
  ++rows_taken_;
}

std::string TelemetryRing::json(std::chrono::nanoseconds window) const {
  using Json = nlohmann::ordered_json;
  const double now = unix_now_s();
  const double from = now - std::chrono::duration<double>(window).count();
  std::lock_guard lock(mutex_);
  Json out{{"interval_s", std::chrono::duration<double>(interval_).count()},
           {"capacity", capacity_},
           {"rows_taken", rows_taken_},
           {"now_unix_s", now},
           {"channels", Json::array()},
           {"unavailable", unavailable_},
           {"t_unix_s", Json::array()},
           {"values", Json::array()}};
  for (const auto& c : channels_) out["channels"].push_back({{"name", c.name}, {"unit", c.unit}});
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    if (t_unix_s_[i] < from) continue;
    out["t_unix_s"].push_back(t_unix_s_[i]);
    Json row = Json::array();
    for (const double v : rows_[i]) row.push_back(std::isfinite(v) ? Json(v) : Json(nullptr));
    out["values"].push_back(std::move(row));
  }
  return out.dump() + "\n";
}

std::vector<prometheus::MetricFamily> TelemetryRing::metric_families() const {
  {
    std::lock_guard lock(mutex_);
    if (!begun_) return {};
  }
  return gauges_.families();
}

}  // namespace trackiq::server
