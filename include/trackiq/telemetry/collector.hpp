#pragma once
// Telemetry collectors (TEL-1) behind one interface. A collector declares its channels once
// (name + unit), then fills one value per channel on each sample: no strings, no allocation
// and no exceptions on the sampling path. NaN means "no value this time" (e.g. a thermal
// zone that vanished, or the first CPU sample, which has no delta yet).
//
//   auto cs = trackiq::telemetry::make_collectors({"cpu", "memory"}, {});
//   std::vector<double> row(cs[0]->channels().size());
//   cs[0]->sample(trackiq::now_ns(), row);
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trackiq::telemetry {

struct Channel {
  std::string name;  // dotted, stable: "cpu.util_pct", "cpu3.util_pct", "mem.used_bytes",
                     // "thermal.cpu-thermal.temp_c", "power.package-0.w", "gpu0.util_pct"
  std::string unit;  // "%", "B", "°C", "W", "J", "MHz", "1"
};

// Where collectors read from. `root` prefixes every absolute path (/proc, /sys, /etc), so tests
// point collectors at a fake tree.
struct CollectorOptions {
  std::string root = "/";
  int pid = 0;                    // process collector: 0 = this process
  std::string tegrastats_log;     // tegrastats: replay this log instead of running tegrastats
  std::int64_t tegrastats_interval_ms = 100;
  std::string nvml_library = "libnvidia-ml.so.1";  // NVML: the library dlopen() loads
};

class Collector {
 public:
  virtual ~Collector() = default;

  // "cpu", "memory", "process", "thermal", "power", "cgroup", "psi", "nvml", "tegrastats".
  virtual std::string_view name() const noexcept = 0;

  // Whether the source exists here; when not, reason() says why, as
  // "not available: <why>" ("not available: no RAPL powercap zones ...").
  virtual bool available() const noexcept = 0;
  virtual const std::string& reason() const noexcept = 0;

  // The channels sample() fills, fixed after construction (empty when unavailable).
  virtual const std::vector<Channel>& channels() const noexcept = 0;

  // Reads the source and writes channels().size() values into `out` (NaN: no value now).
  // Called from one thread at a time (the sampler's). Must not throw; should not allocate.
  virtual void sample(std::int64_t now_ns, std::span<double> out) noexcept = 0;
};

// The names make_collectors() accepts, in a stable order.
std::vector<std::string> collector_names();

// Creates the named collectors ("all" = every one). Unknown name → InputError listing the
// known ones. An unavailable collector is still returned (available() == false, with reason).
std::vector<std::unique_ptr<Collector>> make_collectors(const std::vector<std::string>& names,
                                                        const CollectorOptions& options);

// Factories of the collectors implemented in their own files (used by make_collectors).
std::unique_ptr<Collector> make_nvml_collector(const CollectorOptions& options);
std::unique_ptr<Collector> make_tegrastats_collector(const CollectorOptions& options);

}  // namespace trackiq::telemetry
