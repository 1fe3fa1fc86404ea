#include "trackiq/telemetry/sampler.hpp"

#include <time.h>

#include <cmath>
#include <condition_variable>

#include <fmt/format.h>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/result.hpp"

namespace trackiq::telemetry {

long Series::index_of(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < channels.size(); ++i)
    if (channels[i].name == name) return static_cast<long>(i);
  return -1;
}

Sampler::Sampler(std::vector<std::unique_ptr<Collector>> collectors, SamplerOptions options)
    : options_(std::move(options)) {
  if (options_.interval_ns <= 0) throw InputError("telemetry interval must be > 0");
  if (!options_.now) options_.now = [] { return now_ns(); };
  if (!options_.sleep_until) {
    options_.sleep_until = [this](std::int64_t deadline) {
      // Wakes early on stop().
      std::unique_lock lock(wake_mutex_);
      wake_.wait_until(lock, TimePoint(Nanoseconds(deadline)), [this] { return stop_.load(); });
    };
  }
  for (auto& c : collectors) {
    if (!c->available()) {
      unavailable_.push_back(fmt::format("{}: {}", c->name(), c->reason()));
      continue;
    }
    offsets_.push_back(series_.channels.size());
    for (const auto& ch : c->channels()) {
      // Two collectors may measure the same thing (tegrastats and cpu on a Jetson): the first
      // keeps the plain name, a later one is prefixed with its collector's name.
      Channel named = ch;
      if (series_.index_of(named.name) >= 0) named.name = std::string(c->name()) + "." + named.name;
      series_.channels.push_back(std::move(named));
    }
    collectors_.push_back(std::move(c));
  }
  series_.stats.assign(series_.channels.size(), {});
  if (options_.sink) sinks_.push_back(options_.sink);
  row_.assign(series_.channels.size(), std::nan(""));
}

Sampler::~Sampler() { stop(); }

void Sampler::start() {
  if (running_) throw Error("sampler already running");
  stop_.store(false);
  running_ = true;
  for (RowSink* sink : sinks_) sink->begin(series_.channels);
  thread_ = std::thread([this] { loop(); });
}

void Sampler::stop() {
  if (!running_) return;
  {
    std::lock_guard lock(wake_mutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  thread_.join();
  running_ = false;
}

void Sampler::add_sink(RowSink* sink) {
  if (running_) throw Error("sampler: add_sink() after start()");
  if (sink == nullptr) throw Error("sampler: add_sink(nullptr)");
  sinks_.push_back(sink);
}

std::vector<double> Sampler::latest() const {
  std::lock_guard lock(latest_mutex_);
  return latest_;
}

void Sampler::take(std::int64_t now) {
  for (std::size_t i = 0; i < collectors_.size(); ++i) {
    const std::size_t width = collectors_[i]->channels().size();
    collectors_[i]->sample(now, std::span<double>(row_.data() + offsets_[i], width));
  }
  ++series_.rows_taken;
  for (std::size_t c = 0; c < row_.size(); ++c)
    if (!std::isnan(row_[c])) series_.stats[c].add(row_[c]);
  if (series_.t_ns.size() < options_.max_rows) {
    series_.t_ns.push_back(now);
    series_.values.insert(series_.values.end(), row_.begin(), row_.end());
  } else {
    ++series_.rows_dropped;
  }
  for (RowSink* sink : sinks_) sink->row(now, row_);
  {
    std::lock_guard lock(latest_mutex_);
    latest_ = row_;
  }
  live_rows_.store(series_.rows_taken, std::memory_order_relaxed);
}

void Sampler::loop() {
  const std::int64_t interval = options_.interval_ns;
  // Room for a long run without reallocating on the sampling path.
  const std::size_t reserve = std::min<std::size_t>(options_.max_rows, 36'000);
  series_.t_ns.reserve(reserve);
  series_.values.reserve(reserve * row_.size());
  const std::int64_t t0 = options_.now();
  std::int64_t k = 0;
  while (!stop_.load()) {
    take(options_.now());
    ++k;
    if (options_.max_samples && series_.rows_taken >= options_.max_samples) break;
    std::int64_t now = options_.now();
    if (now >= t0 + k * interval) {
      // Fell behind: skip the ticks already past and count them, rather than bunching samples.
      const std::int64_t next = (now - t0) / interval + 1;
      series_.late_ticks += static_cast<std::uint64_t>(next - k);
      k = next;
    }
    options_.sleep_until(t0 + k * interval);
  }
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
    thread_cpu_s_ = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void StreamSink::begin(const std::vector<Channel>& channels) {
  keys_.clear();
  for (const auto& c : channels) {
    std::string k;
    for (char ch : c.name) {
      if (ch == '"' || ch == '\\') k += '\\';
      k += ch;
    }
    keys_.push_back(k);
  }
  if (format_ == StreamFormat::kCsv) {
    std::string header = "t_ns";
    for (const auto& c : channels) header += "," + c.name;
    header += "\n";
    std::fputs(header.c_str(), out_);
    std::fflush(out_);
  }
}

void StreamSink::row(std::int64_t t_ns, std::span<const double> values) {
  line_.clear();
  auto out = std::back_inserter(line_);
  if (format_ == StreamFormat::kCsv) {
    fmt::format_to(out, "{}", t_ns - t0_ns_);
    for (double v : values) {
      if (std::isnan(v)) line_ += ',';
      else fmt::format_to(out, ",{}", v);
    }
  } else {
    fmt::format_to(out, "{{\"t_ns\": {}", t_ns - t0_ns_);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (std::isnan(values[i])) fmt::format_to(out, ", \"{}\": null", keys_[i]);
      else fmt::format_to(out, ", \"{}\": {}", keys_[i], values[i]);
    }
    line_ += '}';
  }
  line_ += '\n';
  std::fwrite(line_.data(), 1, line_.size(), out_);
  std::fflush(out_);
}

void write_series_csv(const Series& s, std::int64_t t0_ns, const std::string& path) {
  std::string out = "t_ns";
  for (const auto& c : s.channels) out += "," + c.name;
  out += "\n";
  for (std::size_t r = 0; r < s.rows(); ++r) {
    fmt::format_to(std::back_inserter(out), "{}", s.t_ns[r] - t0_ns);
    for (std::size_t c = 0; c < s.width(); ++c) {
      const double v = s.at(r, c);
      if (std::isnan(v)) out += ",";
      else fmt::format_to(std::back_inserter(out), ",{}", v);
    }
    out += "\n";
  }
  write_file_atomic(path, out);
}

}  // namespace trackiq::telemetry
