#pragma once
// The telemetry sampler (TEL-2): one background thread that samples every available collector
// on an absolute schedule (t0 + k * interval; a late tick is counted as late and skipped,
// never bunched), with monotonic timestamps and bounded memory.
//
//   Sampler s(make_collectors({"cpu", "memory"}, {}), {.interval_ns = 100'000'000});
//   s.start();  ...  s.stop();
//   const Series& series = s.series();
#include <atomic>
#include <cstdio>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "trackiq/core/stats.hpp"
#include "trackiq/telemetry/collector.hpp"

namespace trackiq::telemetry {

// Receives every row as it is sampled, on the sampler thread (e.g. a CSV/JSONL writer).
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual void begin(const std::vector<Channel>& channels) = 0;
  virtual void row(std::int64_t t_ns, std::span<const double> values) = 0;
};

// The sampled time series: row-major values, one row per sample.
struct Series {
  std::vector<Channel> channels;
  std::vector<std::int64_t> t_ns;  // monotonic (now_ns) time of each row
  std::vector<double> values;      // t_ns.size() x channels.size(); NaN = no value
  // Over every sample taken, including rows beyond max_rows that were not kept.
  std::vector<RunningStats> stats;  // per channel, non-NaN values only
  std::uint64_t rows_taken = 0;
  std::uint64_t rows_dropped = 0;  // taken but not kept (max_rows reached)
  std::uint64_t late_ticks = 0;    // scheduled ticks skipped because sampling fell behind

  std::size_t width() const noexcept { return channels.size(); }
  std::size_t rows() const noexcept { return t_ns.size(); }
  double at(std::size_t row, std::size_t channel) const noexcept { return values[row * width() + channel]; }
  // Index of a channel by name, or -1.
  long index_of(std::string_view name) const noexcept;
};

struct SamplerOptions {
  std::int64_t interval_ns = 100'000'000;
  std::size_t max_rows = 200'000;  // kept in memory; stats and the sink see every row
  RowSink* sink = nullptr;         // not owned; must outlive stop()
  std::uint64_t max_samples = 0;   // stop by itself after this many samples (0: run until stop())
  // Test hooks: a monotonic clock and a sleep-until; default now_ns() and sleep_until.
  std::function<std::int64_t()> now;
  std::function<void(std::int64_t)> sleep_until;
};

class Sampler {
 public:
  // Keeps only the available collectors; the others are listed by unavailable().
  Sampler(std::vector<std::unique_ptr<Collector>> collectors, SamplerOptions options);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Starts the thread; the first sample is taken at once (t0). Throws Error if running.
  void start();
  // Stops and joins; the series is complete afterwards. Idempotent.
  void stop();
  // Another receiver of every row, after options.sink (e.g. a Tracker's resource ring, which
  // Tracker::attach() adds). Only before start(); not owned, and must outlive stop().
  void add_sink(RowSink* sink);

  const std::vector<Channel>& channels() const noexcept { return series_.channels; }
  // "name: not available: why" for each collector that was left out.
  const std::vector<std::string>& unavailable() const noexcept { return unavailable_; }
  // Valid after stop().
  const Series& series() const noexcept { return series_; }
  // CPU time the sampler thread used (s), measured by the thread itself; valid after stop().
  double thread_cpu_s() const noexcept { return thread_cpu_s_; }
  // Rows taken so far (readable while running).
  std::uint64_t rows_taken() const noexcept { return live_rows_.load(std::memory_order_relaxed); }
  // The latest row (copy), for live displays; empty before the first sample.
  std::vector<double> latest() const;

 private:
  void loop();
  void take(std::int64_t now);

  std::vector<std::unique_ptr<Collector>> collectors_;  // owned by the sampler thread while running
  std::vector<std::size_t> offsets_;
  std::vector<std::string> unavailable_;
  SamplerOptions options_;
  Series series_;
  std::vector<double> row_;
  std::vector<RowSink*> sinks_;  // options_.sink, then those add_sink() gave; fixed while running
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> live_rows_{0};
  mutable std::mutex latest_mutex_;  // guards latest_ (read by displays)
  std::vector<double> latest_;
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  double thread_cpu_s_ = 0;
  bool running_ = false;
};

// Streams rows to a file as they are sampled: CSV (header t_ns + channel names, empty cell for
// NaN) or JSONL (one object per row, null for NaN). Each row is flushed, so the file is complete
// up to the last row whenever the process stops. t_ns is relative to `t0_ns`.
enum class StreamFormat { kCsv, kJsonl };
class StreamSink final : public RowSink {
 public:
  StreamSink(std::FILE* out, StreamFormat format, std::int64_t t0_ns) : out_(out), format_(format), t0_ns_(t0_ns) {}
  void begin(const std::vector<Channel>& channels) override;
  void row(std::int64_t t_ns, std::span<const double> values) override;

 private:
  std::FILE* out_;
  StreamFormat format_;
  std::int64_t t0_ns_;
  std::vector<std::string> keys_;  // JSON-escaped channel names
  std::string line_;               // reused buffer
};

// Writes a series as CSV: t_ns (relative to `t0_ns`), then one column per channel (empty for
// NaN). Locale-independent numbers. Written atomically.
void write_series_csv(const Series& s, std::int64_t t0_ns, const std::string& path);

}  // namespace trackiq::telemetry
