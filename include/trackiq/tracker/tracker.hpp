#pragma once
// In-process tracking of an inference server's requests (issue #15, LIB-1): phases, tokens,
// errors, counters, gauges and value histograms, recorded by the server's own threads and read
// as a snapshot, checked by validate() and turned into the canonical Result by to_result().
//
//   trackiq::tracker::Tracker tracker;                      // no singleton: one per service
//   const auto hits = tracker.counter("kv_cache_hit");
//   const auto misses = tracker.counter("kv_cache_miss");
//   tracker.ratio("kv_cache_hit_rate", hits, misses);       // hits / (hits + misses)
//   {
//     auto r = tracker.begin_request("req-42");
//     r.tokens_in(812);
//     { auto p = r.phase("tokenize"); ... }
//     { auto p = r.phase("forward");  ... r.token(); ... r.token(); }   // each output event
//     hits.inc();
//   }                                                       // the request ends here
//   const trackiq::tracker::Snapshot s = tracker.snapshot();
//   for (const std::string& v : trackiq::tracker::validate(s)) std::cerr << v << '\n';
//
// Definitions (docs/metrics.md, "In-process tracking"): a request's latency runs from
// begin_request() to the handle's end; TTFT, TPOT, ITL and E2EL are those of `trackiq load`
// (include/trackiq/load/llm_metrics.hpp) with begin_request() as the send time and each token()
// call as one output event: TTFT = first event − begin, E2EL = last event − begin,
// TPOT = (E2EL − TTFT) / (N_out − 1) for N_out ≥ 2 (integer ps, rounded half up), ITL = each gap
// between consecutive events. Latencies come from completed requests; failed ones are counted.
//
// Thread-safety: every member of Tracker, Request, Phase, Counter, Gauge and ValueHistogram may
// be called from any thread. The record path (a request's calls, Counter::inc, Gauge::set,
// ValueHistogram::observe) takes no lock and allocates nothing once the calling thread and
// the names it uses have been seen (warm-up): each thread writes to its own slot (plain
// atomic loads and stores, no read-modify-write), and the snapshot sums the slots. A finished
// request's record goes to a ring shared by all threads, each thread claiming positions in
// blocks of up to 64 (one fetch_add per block), with a sequence number per entry (a seqlock
// whose data are atomics). A Request may end on
// another thread than the one that began it; one Request must not be used by two threads at
// once, and must not be moved while one of its phases is open. The Tracker must outlive its
// handles. The first record on a thread allocates that thread's slot (begin_request is noexcept:
// an allocation failure there terminates).
//
// Per-request resources (LIB-2, attach()): the telemetry sampler's thread writes each row to a
// ring of its own (one writer, a seqlock per entry, no lock); the record path does not touch it.
// A record's resources are computed from that ring when records() or snapshot() read it.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "trackiq/core/cycle_clock.hpp"
#include "trackiq/core/histogram.hpp"
#include "trackiq/core/metric_registry.hpp"
#include "trackiq/core/result.hpp"
#include "trackiq/core/stats.hpp"

namespace trackiq::telemetry {
class Sampler;
class RowSink;
}  // namespace trackiq::telemetry

namespace trackiq::tracker {

// A monotonic clock in ns. Tests inject a fake one; by default the tracker reads
// trackiq::CycleClock (include/trackiq/core/cycle_clock.hpp: the calibrated TSC or generic-timer
// counter where this machine has a usable one, else steady_clock) and reports its times on
// steady_clock's (trackiq::now_ns()'s) time base. Snapshot::clock says which clock is in use.
using ClockFn = std::int64_t (*)() noexcept;

struct TrackerOptions {
  std::string service = "service";      // the Result's workload.model
  std::size_t record_window = 100'000;  // per-request records kept: the last N (≥ 1)
  int significant_digits = 3;           // of the latency histograms (1 ns .. 1 h)
  ClockFn clock = nullptr;              // nullptr: cycle_clock below
  // With clock == nullptr: true reads trackiq::CycleClock (falls back to steady_clock, and says
  // so, where no counter is usable; the first tracker of a process waits ~20 ms for the TSC's
  // calibration); false reads steady_clock (trackiq::now_ns()) every time.
  bool cycle_clock = true;
  std::vector<double> percentiles{50.0, 90.0, 95.0, 99.0, 99.9};
  // Telemetry rows kept for per-request resources once a sampler is attached (LIB-2): the last
  // N samples (≥ 2); at 100 ms, 4,096 rows cover the last 6.8 minutes. A record whose request
  // began before the oldest row kept gets no resources.
  std::size_t resource_rows = 4096;
};

// Limits of the fixed-size structures (the record path never grows anything).
inline constexpr std::size_t kMaxNames = 256;          // distinct phase / error-class / metric names
inline constexpr std::size_t kMaxRecordedPhases = 8;   // phases kept in one request's record
inline constexpr std::size_t kRequestIdBytes = 47;     // longer ids are cut in the record
inline constexpr std::size_t kErrorMessageBytes = 31;  // longer messages are cut in the record
// Inter-token gaps a request holds until it ends: counted in ITL only if it completes, as in
// `load`. A request with more output events hands each full batch over early; those gaps stay
// counted if it then fails (the one departure from `load`'s ITL, which drops them).
inline constexpr std::size_t kHeldTokenGaps = 64;

class Tracker;
class Request;

namespace detail {
// The counter index of trackiq::Histogram(lowest, highest, digits) for a value (HdrHistogram's
// folded index, the same formula as Histogram's private counts_index_for), so that per-thread
// atomic counters can be folded back into a Histogram: value_at(i) is the lowest value counted
// by counter i, and Histogram::record(value_at(i), n) adds n to that same counter. The
// out-of-range counter is at index size.
struct BucketIndex {
  BucketIndex(std::int64_t lowest, std::int64_t highest, int significant_digits);
  std::size_t operator()(std::int64_t value) const noexcept {
    const auto v = static_cast<std::uint64_t>(value);
    if (v > max_recordable) [[unlikely]] return size;
    const int e = 63 ^ __builtin_clzll(v | sub_bucket_mask);
    return static_cast<std::size_t>((static_cast<std::int64_t>(e) << half_magnitude) +
                                    static_cast<std::int64_t>(v >> (e - half_magnitude)) + index_offset);
  }
  std::int64_t value_at(std::size_t index) const noexcept;

  std::int64_t lowest, highest;
  int digits;
  int unit_magnitude = 0;
  int half_magnitude = 0;
  std::uint64_t sub_bucket_mask = 0;
  std::int64_t index_offset = 0;
  std::uint64_t max_recordable = 0;
  std::size_t size = 0;  // counters
};
}  // namespace detail

// One phase of a request, as kept in its record.
struct PhaseRecord {
  std::string name;
  int depth = 0;  // 0: top level; nested phases count their enclosing ones
  std::int64_t duration_ns = 0;
};

// What the telemetry sampler saw while one request was active (LIB-2). The values are the
// process's (or the machine's) while the request ran, not what the request itself used:
// concurrent requests see the same samples, hence "seen". The window is the smallest sampled
// interval that contains the request [begin_ns, end_ns]: from the last sample taken at or before
// begin_ns (the opening sample) to the first sample taken at or after end_ns (the closing sample),
// both included. A request shorter than the sampling period gets exactly those two bracketing
// samples. Peaks are the maximum over the window's samples; CPU time is the difference of the
// process's cumulative CPU time between the closing and the opening sample. Each value is absent
// when no attached channel measures it (e.g. no NVML) or every sample of the window lacks it.
struct RequestResources {
  std::int64_t window_begin_ns = 0;  // the opening sample's time (tracker clock)
  std::int64_t window_end_ns = 0;    // the closing sample's, or the newest sample's while pending
  std::uint32_t samples = 0;         // samples in the window, the bracketing ones included
  // False while the closing sample has not been taken yet (the values cover the samples so far).
  bool complete = false;
  std::optional<double> rss_peak_seen_bytes;            // max proc.rss_bytes (this process)
  std::optional<double> gpu_proc_mem_peak_seen_bytes;   // max Σ_N gpuN.proc_mem_bytes (this process, NVML)
  std::optional<double> gpu_mem_used_peak_seen_bytes;   // max Σ_N gpuN.mem_used_bytes (whole devices, NVML)
  std::optional<double> temp_peak_seen_c;               // max over every °C channel (GPUs, thermal zones)
  std::optional<bool> throttled_seen;                   // some gpuN.throttled = 1 in the window
  std::optional<double> cpu_time_seen_s;                // Δ proc.cpu_time_s (every thread of the process)
};

// One finished request, as kept in the ring of the last N.
struct RequestRecord {
  std::string id;  // cut to kRequestIdBytes
  std::int64_t begin_ns = 0;
  std::int64_t end_ns = 0;
  bool ok = true;
  std::string error_class;    // when !ok
  std::string error_message;  // when !ok, cut to kErrorMessageBytes
  std::optional<std::int64_t> ttft_ns;
  std::optional<std::int64_t> e2el_ns;
  std::optional<std::int64_t> tpot_ps;
  std::int64_t tokens_in = 0;
  std::int64_t tokens_out = 0;
  std::optional<std::int64_t> output_duration_ns;
  std::vector<PhaseRecord> phases;    // the first kMaxRecordedPhases that ended
  std::uint32_t phases_dropped = 0;   // phases beyond those (still in the phase histograms)
  // With a sampler attached (Tracker::attach): what it saw during the request, computed when the
  // records are read. Absent without a sampler, or when no sample was taken at or before begin_ns
  // (the sampler started later, or the row ring no longer holds it).
  std::optional<RequestResources> resources;

  std::int64_t latency_ns() const noexcept { return end_ns - begin_ns; }
};

// A counter, a gauge or a value histogram: a cheap handle (copyable) to a tracker's metric.
class Counter {
 public:
  void inc(std::int64_t n = 1) const noexcept;

 private:
  friend class Tracker;
  Counter(Tracker* t, std::uint32_t i) : tracker_(t), index_(i) {}
  Tracker* tracker_;
  std::uint32_t index_;
};

class Gauge {
 public:
  void set(double value) const noexcept;  // last write wins
  double value() const noexcept;

 private:
  friend class Tracker;
  Gauge(std::atomic<double>* v) : value_(v) {}
  std::atomic<double>* value_;
};

class ValueHistogram {
 public:
  // Counts an integer value in the histogram's unit; out-of-range values are counted apart.
  void observe(std::int64_t value) const noexcept;

 private:
  friend class Tracker;
  ValueHistogram(Tracker* t, std::uint32_t i) : tracker_(t), index_(i) {}
  Tracker* tracker_;
  std::uint32_t index_;
};

// A scoped phase: timed from construction to destruction (or end()). Phases nest.
class Phase {
 public:
  Phase(Phase&& o) noexcept : request_(o.request_), id_(o.id_), depth_(o.depth_), begin_ns_(o.begin_ns_) {
    o.request_ = nullptr;
  }
  Phase(const Phase&) = delete;
  Phase& operator=(const Phase&) = delete;
  Phase& operator=(Phase&&) = delete;
  ~Phase() { end(); }
  void end() noexcept;

 private:
  friend class Request;
  Phase(Request* r, std::uint32_t id, int depth, std::int64_t begin_ns)
      : request_(r), id_(id), depth_(depth), begin_ns_(begin_ns) {}
  Request* request_;
  std::uint32_t id_;
  int depth_;
  std::int64_t begin_ns_;
};

// One request in flight (Tracker::begin_request). It ends when destroyed or at end().
class Request {
 public:
  Request(Request&& o) noexcept;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  Request& operator=(Request&&) = delete;
  ~Request() { end(); }

  // A phase by name (interned; the first use of a name takes a lock) or by id (phase_id()).
  Phase phase(std::string_view name);
  Phase phase(std::uint32_t phase_id) noexcept;
  // One output event now carrying `tokens` tokens (0: unknown, counted as 1 as in `load`).
  void token(std::int64_t tokens = 1) noexcept;
  // The first output event now; the same as token(tokens) for the first event, ignored later.
  void first_token(std::int64_t tokens = 1) noexcept;
  void tokens_in(std::int64_t n) noexcept { tokens_in_ = n; }
  // N_out as the server counts it (usage.completion_tokens); else the events' sum is used.
  void tokens_out(std::int64_t n) noexcept { tokens_out_ = n; }
  // Duration of the produced output (audio, video) for the real-time factor
  // RTF = request latency / output duration.
  void output_duration_ns(std::int64_t ns) noexcept { output_duration_ns_ = ns; }
  // Marks the request failed (the first failure is kept). The class is interned (a lock the
  // first time a class is seen).
  void fail(std::string_view message, std::string_view error_class = "error");
  void end() noexcept;

 private:
  friend class Tracker;
  friend class Phase;
  Request(Tracker* t, std::string_view id, std::int64_t begin_ns) noexcept;
  void phase_ended(std::uint32_t id, int depth, std::int64_t duration_ns) noexcept;

  Tracker* tracker_;
  std::int64_t begin_ns_;
  std::int64_t first_out_ns_ = -1;
  std::int64_t last_out_ns_ = -1;
  std::int64_t event_tokens_ = 0;
  std::int64_t tokens_in_ = 0;
  std::int64_t tokens_out_ = -1;
  std::int64_t output_duration_ns_ = -1;
  std::uint32_t error_class_ = 0;  // 0: ok; else 1 + interned index
  int depth_ = 0;
  std::uint32_t n_phases_ = 0;
  std::uint32_t phases_dropped_ = 0;
  std::array<std::uint64_t, kMaxRecordedPhases> phases_{};  // id 16 bits, depth 8, duration 40
  std::uint32_t n_gaps_ = 0;
  std::array<std::int64_t, kHeldTokenGaps> gaps_;
  char id_[kRequestIdBytes + 1];
  char error_message_[kErrorMessageBytes + 1];
};

// Statistics of one latency family (ms) or one value histogram (its unit), from a lossless
// histogram: each value within 0.5·10^-d relative error of the exact one.
struct DistributionStats {
  std::uint64_t count = 0;
  double mean = 0;
  double min = 0;
  double max = 0;
  std::vector<Percentile> percentiles;  // in the order of TrackerOptions::percentiles
  Histogram histogram;                  // ns for latencies, the unit for value histograms
};

struct ValueHistogramStats {
  MetricDef def;  // name, unit, direction, description
  DistributionStats stats;
};

// Exact statistics of one per-request resource value over the records in the window.
struct ResourceDistribution {
  std::uint64_t count = 0;
  double mean = 0;
  double min = 0;
  double max = 0;
  std::vector<Percentile> percentiles;  // in the order of TrackerOptions::percentiles (numpy linear)
};

// Per-request resources over the record window (the last record_window requests), from the
// records whose attribution is complete. Names: rss_peak_seen_bytes, gpu_proc_mem_peak_seen_bytes,
// gpu_mem_used_peak_seen_bytes, temp_peak_seen_c, cpu_time_seen_ms (see RequestResources).
struct ResourceSnapshot {
  bool attached = false;                 // a sampler was attached
  std::string unavailable;               // when !attached: why; else the values no channel measures
  std::uint64_t requests_attributed = 0;    // complete attributions among the window's records
  std::uint64_t requests_pending = 0;       // the closing sample is still to come
  std::uint64_t requests_unattributed = 0;  // no opening sample (before the first row kept)
  std::uint64_t throttled_seen = 0;         // attributed requests that saw a throttled GPU
  std::uint64_t rows_taken = 0;             // telemetry rows the tracker received
  std::map<std::string, ResourceDistribution> distributions;
};

struct Snapshot {
  // The clock the record path reads: "tsc", "cntvct", "steady_clock" or "injected"
  // (TrackerOptions::clock), and a sentence on it (calibration, or why there is no counter).
  std::string clock;
  std::string clock_detail;
  std::int64_t uptime_ns = 0;  // since the tracker was made
  std::uint64_t requests_started = 0;
  std::uint64_t requests_completed = 0;
  std::uint64_t requests_failed = 0;
  std::uint64_t requests_active = 0;  // started − completed − failed
  double request_rate_per_s = 0;      // completed / uptime
  double error_rate = 0;              // failed / (completed + failed); 0 when none ended
  double errors_per_s = 0;            // failed / uptime
  std::map<std::string, std::uint64_t> errors_by_class;
  std::int64_t tokens_in = 0;          // Σ over completed requests
  std::int64_t tokens_out = 0;         // Σ N_out over completed requests
  double output_tokens_per_s = 0;      // tokens_out / uptime
  std::optional<double> rtf_mean;      // over completed requests that gave an output duration
  std::optional<DistributionStats> request, ttft, tpot, itl, e2el;  // ms; empty without samples
  std::map<std::string, DistributionStats> phases;                  // ms, by phase name
  std::map<std::string, std::int64_t> counters;
  std::map<std::string, double> gauges;
  std::map<std::string, double> ratios;  // a / (a + b) of declared counter pairs
  std::map<std::string, ValueHistogramStats> histograms;
  std::vector<double> percentiles;
  ResourceSnapshot resources;  // per-request resources (LIB-2)
};

// The invariants a snapshot (and the records, when given) must hold; one line per violation,
// naming the value: counts and rates ≥ 0, ratios and error_rate in [0, 1], percentiles
// non-decreasing, started ≥ completed + failed, each phase of a record ≤ its request's latency
// and the top-level phases' sum ≤ it, a complete resource window contains its request and its CPU
// time seen is ≥ 0. Empty when all hold.
std::vector<std::string> validate(const Snapshot& s, std::span<const RequestRecord> records = {});

class Tracker {
 public:
  explicit Tracker(TrackerOptions options = {});
  ~Tracker();
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;

  Request begin_request(std::string_view id) noexcept;
  // The id of a phase name, for Request::phase(id) (interned once; Error past kMaxNames).
  std::uint32_t phase_id(std::string_view name);

  // Metrics by name: the same name gives the same metric. counter/gauge take any name;
  // histogram(name) takes a metric-registry name (unit and direction from there), the other
  // overload a declared definition. Values are integers in the unit, in [lowest, highest].
  Counter counter(std::string_view name);
  Gauge gauge(std::string_view name);
  ValueHistogram histogram(std::string_view registry_name);
  ValueHistogram histogram(const MetricDef& def, std::int64_t lowest = 1,
                           std::int64_t highest = std::int64_t{1} << 40, int significant_digits = 3);
  // Reports name = a / (a + b) in the snapshot (e.g. a cache's hit rate), 0 while both are 0.
  void ratio(std::string_view name, const Counter& a, const Counter& b);

  // Per-request resources (LIB-2): the sampler's rows go to a ring of the last
  // options.resource_rows rows, and each record's resources are computed from it when records
  // or the snapshot are read; the record path is unchanged. The sampler's clock (SamplerOptions::
  // now, default now_ns) must be on the tracker's time base: the defaults are (the tracker maps its
  // cycle clock onto now_ns()'s); an injected TrackerOptions::clock needs the same
  // SamplerOptions::now. Call before
  // sampler.start(); stop the sampler before the tracker is destroyed. One sampler per tracker
  // (Error on a second). Channels used: proc.rss_bytes and proc.cpu_time_s (the "process"
  // collector), gpuN.proc_mem_bytes, gpuN.mem_used_bytes and gpuN.throttled ("nvml"), and every
  // channel in °C ("thermal", "nvml"). With a sampler attached, snapshot() also reads the records
  // (O(record_window)) for the resource distributions.
  //   auto sampler = telemetry::Sampler(telemetry::make_collectors({"process", "nvml"}, {}), {});
  //   tracker.attach(sampler);
  //   sampler.start();
  void attach(telemetry::Sampler& sampler);
  // The receiver attach() adds, for a caller that feeds rows itself (same contract as attach).
  telemetry::RowSink& resource_sink();

  Snapshot snapshot() const;
  // The records of the last record_window finished requests, oldest first (by end time). A record
  // whose ring slot was still being written by a writer it lapped is dropped, not waited for.
  // Positions a thread has claimed but not written yet (its block, see the thread-safety note)
  // are skipped; the ring's margin covers them for up to 64 busy threads, beyond that fewer than
  // record_window records may come back (never more).
  std::vector<RequestRecord> records() const;
  std::vector<std::string> validate() const;
  // The canonical result of the tracked window: backend "tracker", scenario "production".
  Result to_result() const;

  const TrackerOptions& options() const noexcept { return options_; }
  // The tracker's clock now, on the time base of its records (steady_clock's by default).
  std::int64_t now() const noexcept;

 private:
  friend class Request;
  friend class Phase;
  friend class Counter;
  friend class ValueHistogram;
  struct Slot;
  struct Names;
  struct ValueHistogramDef;
  struct Ring;
  struct ResourceRing;

  // One read of the record path's clock (CycleClock::now() or the injected clock).
  std::int64_t tick() const noexcept { return cycle_ != nullptr ? cycle_->now() : clock_(); }
  // What to add to a tick() value to put it on the reported time base (0 but for CycleClock).
  std::int64_t steady_offset() const noexcept { return cycle_ != nullptr ? cycle_->to_steady(0) : 0; }
  Slot& local_slot() noexcept;
  Slot& register_slot();
  void finish(const Request& r, std::int64_t end_ns) noexcept;
  void record_gaps(std::span<const std::int64_t> gaps_ns) noexcept;
  std::uint32_t intern(Names& names, std::string_view name);
  ResourceSnapshot resource_snapshot() const;

  TrackerOptions options_;
  ClockFn clock_;
  const CycleClock* cycle_ = nullptr;  // the default clock when it reads a counter
  std::uint64_t uid_;  // tells this tracker from one made later at the same address
  std::int64_t start_ns_;
  std::string started_at_;
  detail::BucketIndex latency_index_;  // the bucket layout of every latency histogram

  mutable std::mutex mutex_;  // guards registration (slots, names, metric definitions); never recorded under
  std::unique_ptr<Names> phase_names_, error_names_, counter_names_, gauge_names_;
  std::vector<std::unique_ptr<ValueHistogramDef>> value_histograms_;  // reserved to kMaxNames
  std::atomic<std::uint32_t> value_histogram_count_{0};
  std::vector<std::unique_ptr<Slot>> slots_;  // reserved; grows only under mutex_
  std::atomic<std::size_t> slot_count_{0};
  std::array<std::atomic<double>, kMaxNames> gauges_{};
  std::vector<std::tuple<std::string, std::uint32_t, std::uint32_t>> ratios_;
  std::unique_ptr<Ring> ring_;
  std::unique_ptr<ResourceRing> resource_ring_;  // the sampler's rows (written by its thread)
  std::atomic<bool> attached_{false};
};

}  // namespace trackiq::tracker
