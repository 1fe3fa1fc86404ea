#include "trackiq/tracker/tracker.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <tuple>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/environment.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/telemetry/sampler.hpp"

namespace trackiq::tracker {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr std::int64_t kMaxTokensPerEvent = 1024;  // as trackiq::load::kMaxTokensPerEvent
constexpr std::int64_t kPsPerNs = 1000;
constexpr int kDurationBits = 40;
constexpr std::uint64_t kDurationMask = (std::uint64_t{1} << kDurationBits) - 1;

// The single writer of a cell adds with a load and a store: no read-modify-write, no lock prefix.
template <class T>
void add_owned(std::atomic<T>& a, T n) noexcept {
  a.store(a.load(kRelaxed) + n, kRelaxed);
}

// The same rounding as trackiq::load (llm_metrics.cpp): (2·num + den) / (2·den).
std::int64_t div_round_half_up(__int128 num, __int128 den) {
  const __int128 q = (2 * num + den) / (2 * den);
  const __int128 max = std::numeric_limits<std::int64_t>::max();
  return static_cast<std::int64_t>(q > max ? max : q);
}

std::int64_t default_clock() noexcept { return now_ns(); }

void copy_cut(char* dst, std::size_t capacity, std::string_view src) noexcept {
  const std::size_t n = std::min(capacity, src.size());
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

// Trackers alive, by uid; a thread's slot cache releases its slots only to live trackers.
struct LiveTrackers {
  std::mutex mutex;
  std::set<std::uint64_t> uids;
  std::uint64_t next_uid = 1;
};
LiveTrackers& live_trackers() {
  static auto* live = new LiveTrackers;  // never destroyed: threads may exit after static destruction
  return *live;
}

}  // namespace

namespace detail {

BucketIndex::BucketIndex(std::int64_t lo, std::int64_t hi, int d) : lowest(lo), highest(hi), digits(d) {
  const Histogram check(lo, hi, d);  // validates the parameters (InputError)
  const std::int64_t single_unit_limit = 2 * static_cast<std::int64_t>(std::pow(10, d));
  const int sub_bucket_count_magnitude = static_cast<int>(std::ceil(std::log2(static_cast<double>(single_unit_limit))));
  half_magnitude = std::max(sub_bucket_count_magnitude, 1) - 1;
  unit_magnitude = static_cast<int>(std::floor(std::log2(static_cast<double>(lo))));
  const std::int64_t sub_bucket_count = std::int64_t{1} << (half_magnitude + 1);
  sub_bucket_mask = static_cast<std::uint64_t>(sub_bucket_count - 1) << unit_magnitude;
  index_offset = -(static_cast<std::int64_t>(unit_magnitude + half_magnitude) << half_magnitude);
  max_recordable = static_cast<std::uint64_t>(hi);
  size = (*this)(hi) + 1;
}

std::int64_t BucketIndex::value_at(std::size_t index) const noexcept {
  const std::int64_t half_count = std::int64_t{1} << half_magnitude;
  auto bucket = static_cast<int>(static_cast<std::int64_t>(index) >> half_magnitude) - 1;
  std::int64_t sub = (static_cast<std::int64_t>(index) & (half_count - 1)) + half_count;
  if (bucket < 0) {
    sub -= half_count;
    bucket = 0;
  }
  return sub << (bucket + unit_magnitude);
}

}  // namespace detail

using detail::BucketIndex;

// Per-thread counts of one histogram: the counters of a Histogram layout as atomics, and the
// out-of-range count at index counter_count(). One writer (the slot's owner); readers fold.
struct AtomicCounts {
  explicit AtomicCounts(std::size_t n) : size(n + 1), counts(std::make_unique<std::atomic<std::uint64_t>[]>(n + 1)) {}
  void add(std::size_t index, std::uint64_t n) noexcept { add_owned(counts[index], n); }
  void fold_into(Histogram& h, const BucketIndex& index) const noexcept {
    for (std::size_t i = 0; i + 1 < size; ++i)
      if (const std::uint64_t c = counts[i].load(kRelaxed)) h.record(index.value_at(i), c);
    if (const std::uint64_t c = counts[size - 1].load(kRelaxed)) h.record(-1, c);  // out of range
  }
  std::size_t size;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts;
};

struct Tracker::Names {
  std::array<std::atomic<const std::string*>, kMaxNames> names{};
  std::atomic<std::uint32_t> count{0};
  std::vector<std::unique_ptr<std::string>> storage;  // under Tracker::mutex_

  // Lock-free: names are only appended, each published before the count that covers it.
  std::optional<std::uint32_t> find(std::string_view name) const noexcept {
    const std::uint32_t n = count.load(std::memory_order_acquire);
    for (std::uint32_t i = 0; i < n; ++i)
      if (*names[i].load(kRelaxed) == name) return i;
    return std::nullopt;
  }
  std::string name(std::uint32_t i) const { return *names[i].load(std::memory_order_acquire); }
};

struct Tracker::ValueHistogramDef {
  MetricDef def;
  BucketIndex layout;
};

// One recording thread's counts. Owned by one thread at a time (`owned`); a slot released by
// an exiting thread is reused by the next new thread (the hand-over goes through the mutexes).
struct Tracker::Slot {
  using Cell = std::atomic<std::uint64_t>;
  std::atomic<bool> owned{true};
  Cell started{0}, completed{0}, rtf_n{0};  // failed requests: the sum of `errors`
  std::atomic<std::int64_t> tokens_in{0}, tokens_out{0};
  std::atomic<double> rtf_sum{0};
  std::array<Cell, kMaxNames> errors{};
  std::array<std::atomic<std::int64_t>, kMaxNames> counters{};
  // Histograms, allocated by the owner at first use (warm-up) and published with release.
  std::atomic<AtomicCounts*> request{nullptr}, ttft{nullptr}, tpot{nullptr}, itl{nullptr}, e2el{nullptr};
  std::array<std::atomic<AtomicCounts*>, kMaxNames> phases{}, values{};
  // The owner's block of record-ring positions [ring_pos, ring_end) (Ring::block_max), the entry
  // of ring_pos, and the size of its next block. Only the owner reads them (no atomics needed).
  std::uint64_t ring_pos = 0, ring_end = 0;
  std::size_t ring_index = 0;
  std::uint64_t ring_block = 1;

  ~Slot() {
    for (auto* p : {&request, &ttft, &tpot, &itl, &e2el}) delete p->load();
    for (auto& p : phases) delete p.load();
    for (auto& p : values) delete p.load();
  }
  static AtomicCounts& counts(std::atomic<AtomicCounts*>& at, const BucketIndex& layout) noexcept {
    AtomicCounts* c = at.load(std::memory_order_acquire);
    if (c == nullptr) [[unlikely]] {
      c = new AtomicCounts(layout.size);
      at.store(c, std::memory_order_release);
    }
    return *c;
  }
  static void record(std::atomic<AtomicCounts*>& at, const BucketIndex& layout, std::int64_t v) noexcept {
    counts(at, layout).add(layout(v), 1);
  }
};

// The last N finished requests. Each entry is a seqlock over atomic words: seq = 2·pos + 1
// while position pos is written, 2·pos + 2 once written; a reader keeps an entry whose seq is
// even and unchanged across its read, and whose pos is among the positions the slots hold.
// A writer claims its slot with one CAS (even and older → its odd seq), so only one writer ever
// writes an entry: a writer stalled mid-record cannot have its words mixed with those of the
// writer that laps it. The lapping writer, finding the slot still claimed, drops its record
// (counted in `dropped`) instead of waiting. The slots outnumber N by a margin (N, at most 4,096),
// so a few such drops or records still being written do not leave the last N short: the reader
// takes the newest N complete entries.
struct Tracker::Ring {
  static constexpr std::size_t kIdWords = (kRequestIdBytes + 1) / 8;
  static constexpr std::size_t kMessageWords = (kErrorMessageBytes + 1) / 8;
  enum Word : std::size_t {
    kBegin = kIdWords, kEnd, kTtft, kE2el, kTpot, kTokensIn, kTokensOut, kOutputDuration, kErrorAndPhases,
    kPhases, kMessage = kPhases + kMaxRecordedPhases, kWords = kMessage + kMessageWords
  };
  struct Entry {
    std::atomic<std::uint64_t> seq{0};
    std::array<std::atomic<std::uint64_t>, kWords> words{};
  };
  explicit Ring(std::size_t n)
      : capacity(n),
        slots(n + std::min<std::size_t>(n, 4096)),
        block_max(std::clamp<std::uint64_t>((slots - n) / 64, 1, 64)),
        stale(std::max<std::uint64_t>((slots - n) / 2, 1)),
        entries(std::make_unique<Entry[]>(slots)) {}
  std::size_t capacity;  // records returned: the newest N
  std::size_t slots;     // entries held
  // Positions are claimed by each thread in blocks (Slot::ring_*): one fetch_add per block, not
  // per record. A block is at most block_max positions, so the margin (slots − N) covers 64
  // threads' unwritten positions; a thread gives up the rest of its block once `stale` positions
  // were claimed after it (its records would land among the oldest, or be dropped once lapped),
  // and halves its block size, so a thread that records rarely ends with blocks of 1 and leaves
  // no unwritten positions.
  std::uint64_t block_max;
  std::uint64_t stale;
  std::unique_ptr<Entry[]> entries;
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> dropped{0};  // records given up to a slot another writer still held
};
static_assert((kRequestIdBytes + 1) % 8 == 0 && (kErrorMessageBytes + 1) % 8 == 0);


// ---- per-request resources (LIB-2) ----

namespace {

// The values kept per telemetry row, reduced from the sampler's channels (ResourceRing::begin).
enum ResourceField : std::size_t { kRss, kGpuProcMem, kGpuMemUsed, kTemp, kThrottled, kCpuTime, kResourceFields };
constexpr std::array<const char*, kResourceFields> kResourceSource = {
    "RSS (proc.rss_bytes: the \"process\" collector)",
    "GPU memory of this process (gpuN.proc_mem_bytes: \"nvml\")",
    "GPU memory used (gpuN.mem_used_bytes: \"nvml\")",
    "temperature (a channel in °C: \"thermal\" or \"nvml\")",
    "throttling (gpuN.throttled: \"nvml\")",
    "CPU time (proc.cpu_time_s: the \"process\" collector)"};
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// "gpu<digits><suffix>", as the NVML collector names its channels.
bool is_gpu_channel(const std::string& name, std::string_view suffix) {
  if (name.size() <= 3 + suffix.size() || name.compare(0, 3, "gpu") != 0) return false;
  if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  const std::size_t digits_end = name.size() - suffix.size();
  for (std::size_t i = 3; i < digits_end; ++i)
    if (name[i] < '0' || name[i] > '9') return false;
  return digits_end > 3;
}

}  // namespace

// The last N telemetry rows, each reduced to kResourceFields values. One writer (the sampler's
// thread, through row()); readers (records(), snapshot()) copy the rows out. Each entry is a
// seqlock over atomics, as in Ring: seq = 2·pos + 1 while row pos is written, 2·pos + 2 once
// written; a reader keeps an entry whose seq is 2·pos + 2 before and after its read.
struct Tracker::ResourceRing final : telemetry::RowSink {
  struct Entry {
    std::atomic<std::uint64_t> seq{0};
    std::atomic<std::int64_t> t_ns{0};
    std::array<std::atomic<double>, kResourceFields> values{};
  };
  struct Row {
    std::int64_t t_ns;
    std::array<double, kResourceFields> values;
  };

  explicit ResourceRing(std::size_t n) : capacity(n), entries(std::make_unique<Entry[]>(n)) {}

  // On the thread that starts the sampler, before the sampler's thread runs (Sampler::start).
  void begin(const std::vector<telemetry::Channel>& channels) override {
    std::lock_guard lock(mutex);
    for (auto& c : columns) c.clear();
    for (std::size_t i = 0; i < channels.size(); ++i) {
      const std::string& n = channels[i].name;
      if (n == "proc.rss_bytes") columns[kRss].push_back(i);
      if (n == "proc.cpu_time_s") columns[kCpuTime].push_back(i);
      if (is_gpu_channel(n, ".proc_mem_bytes")) columns[kGpuProcMem].push_back(i);
      if (is_gpu_channel(n, ".mem_used_bytes")) columns[kGpuMemUsed].push_back(i);
      if (is_gpu_channel(n, ".throttled")) columns[kThrottled].push_back(i);
      if (channels[i].unit == "°C") columns[kTemp].push_back(i);
    }
    missing.clear();
    for (std::size_t f = 0; f < kResourceFields; ++f)
      if (columns[f].empty()) missing += std::string(missing.empty() ? "" : "; ") + "no " + kResourceSource[f];
    begun = true;
  }

  // On the sampler's thread: no lock, no allocation.
  void row(std::int64_t t_ns, std::span<const double> v) override {
    std::array<double, kResourceFields> f;
    // A sum over GPUs is NaN when one GPU's value is missing (a partial sum would understate).
    auto sum = [&v](const std::vector<std::size_t>& cols) {
      if (cols.empty()) return kNaN;
      double total = 0;
      for (const std::size_t c : cols) total += v[c];
      return total;
    };
    auto max = [&v](const std::vector<std::size_t>& cols) {
      double m = kNaN;
      for (const std::size_t c : cols)
        if (!std::isnan(v[c]) && (std::isnan(m) || v[c] > m)) m = v[c];
      return m;
    };
    f[kRss] = max(columns[kRss]);
    f[kCpuTime] = max(columns[kCpuTime]);
    f[kGpuProcMem] = sum(columns[kGpuProcMem]);
    f[kGpuMemUsed] = sum(columns[kGpuMemUsed]);
    f[kTemp] = max(columns[kTemp]);
    f[kThrottled] = max(columns[kThrottled]);
    const std::uint64_t pos = written.load(kRelaxed);  // this thread is the only writer
    Entry& e = entries[pos % capacity];
    e.seq.store(2 * pos + 1, kRelaxed);
    // Release stores keep the odd seq before them, and the even seq after them (as Ring).
    e.t_ns.store(t_ns, std::memory_order_release);
    for (std::size_t i = 0; i < kResourceFields; ++i) e.values[i].store(f[i], std::memory_order_release);
    e.seq.store(2 * pos + 2, std::memory_order_release);
    written.store(pos + 1, std::memory_order_release);
  }

  // The rows held, oldest first (by time: one writer on a monotonic clock). A row being
  // overwritten while read is left out; only the oldest rows can be.
  std::vector<Row> rows() const {
    const std::uint64_t next = written.load(std::memory_order_acquire);
    const std::uint64_t first = next > capacity ? next - capacity : 0;
    std::vector<Row> out;
    out.reserve(static_cast<std::size_t>(next - first));
    for (std::uint64_t pos = first; pos < next; ++pos) {
      const Entry& e = entries[pos % capacity];
      const std::uint64_t s1 = e.seq.load(std::memory_order_acquire);
      if (s1 != 2 * pos + 2) continue;
      Row r;
      r.t_ns = e.t_ns.load(std::memory_order_acquire);
      for (std::size_t i = 0; i < kResourceFields; ++i) r.values[i] = e.values[i].load(std::memory_order_acquire);
      if (e.seq.load(kRelaxed) != s1) continue;
      out.push_back(r);
    }
    return out;
  }

  std::size_t capacity;
  std::unique_ptr<Entry[]> entries;
  std::atomic<std::uint64_t> written{0};
  // Set by begin(), read by row() on the sampler's thread (started after begin() returns).
  std::array<std::vector<std::size_t>, kResourceFields> columns;
  mutable std::mutex mutex;  // guards `missing` and `begun` against readers of the snapshot
  std::string missing;
  bool begun = false;
};

namespace {

struct TlsEntry {
  std::uint64_t uid = 0;
  void* slot = nullptr;  // Tracker::Slot*, owned by the tracker
};

void release_slot(std::uint64_t uid, std::atomic<bool>* owned) {
  LiveTrackers& live = live_trackers();
  std::lock_guard lock(live.mutex);
  if (live.uids.count(uid)) owned->store(false, std::memory_order_release);
}

}  // namespace

// The calling thread's slots, one per tracker it recorded to (8 at most; a ninth tracker
// evicts one, whose slot is released for reuse).
struct TlsCache {
  std::array<TlsEntry, 8> entries{};
  std::array<std::atomic<bool>*, 8> owned{};
  std::size_t next_evict = 0;
  ~TlsCache() {
    for (std::size_t i = 0; i < entries.size(); ++i)
      if (entries[i].uid != 0) release_slot(entries[i].uid, owned[i]);
  }
};
thread_local TlsCache tls_cache;
// The slot this thread used last: a trivially destructible thread_local, so reading it needs no
// initialisation guard (the cache above has a destructor, and every access to it checks one).
thread_local constinit TlsEntry tls_last{};

Tracker::Slot& Tracker::local_slot() noexcept {
  if (tls_last.uid == uid_) [[likely]] return *static_cast<Slot*>(tls_last.slot);
  for (const TlsEntry& e : tls_cache.entries)
    if (e.uid == uid_) {
      tls_last = e;
      return *static_cast<Slot*>(e.slot);
    }
  Slot& s = register_slot();
  tls_last = {uid_, &s};
  return s;
}

Tracker::Slot& Tracker::register_slot() {
  Slot* slot = nullptr;
  {
    std::lock_guard lock(live_trackers().mutex);
    std::lock_guard own(mutex_);
    for (const auto& s : slots_)
      if (!s->owned.load(std::memory_order_acquire)) {
        slot = s.get();
        slot->owned.store(true, kRelaxed);
        break;
      }
    if (slot == nullptr) {
      if (slots_.size() == slots_.capacity()) slots_.reserve(slots_.size() * 2);
      slots_.push_back(std::make_unique<Slot>());
      slot = slots_.back().get();
      slot_count_.store(slots_.size(), std::memory_order_release);
    }
  }
  std::size_t i = 0;
  while (i < tls_cache.entries.size() && tls_cache.entries[i].uid != 0) ++i;
  if (i == tls_cache.entries.size()) {
    i = tls_cache.next_evict++ % tls_cache.entries.size();
    release_slot(tls_cache.entries[i].uid, tls_cache.owned[i]);
    if (tls_last.uid == tls_cache.entries[i].uid) tls_last = {};
  }
  tls_cache.entries[i] = {uid_, slot};
  tls_cache.owned[i] = &slot->owned;
  return *slot;
}

Tracker::Tracker(TrackerOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : &default_clock),
      cycle_(options_.clock == nullptr && options_.cycle_clock && CycleClock::instance().source() != CycleClock::Source::steady
                 ? &CycleClock::instance()
                 : nullptr),
      start_ns_(tick()),
      started_at_(utc_timestamp_now()),
      latency_index_(1, std::int64_t{3'600'000'000'000}, options_.significant_digits),
      phase_names_(std::make_unique<Names>()),
      error_names_(std::make_unique<Names>()),
      counter_names_(std::make_unique<Names>()),
      gauge_names_(std::make_unique<Names>()) {
  if (options_.record_window == 0) throw InputError("tracker: record_window must be at least 1");
  for (const double p : options_.percentiles)
    if (!(p >= 0 && p <= 100)) throw InputError("tracker: percentile " + std::to_string(p) + " is outside [0, 100]");
  if (options_.resource_rows < 2) throw InputError("tracker: resource_rows must be at least 2");
  ring_ = std::make_unique<Ring>(options_.record_window);
  resource_ring_ = std::make_unique<ResourceRing>(options_.resource_rows);
  value_histograms_.reserve(kMaxNames);
  slots_.reserve(64);
  LiveTrackers& live = live_trackers();
  std::lock_guard lock(live.mutex);
  uid_ = live.next_uid++;
  live.uids.insert(uid_);
}

Tracker::~Tracker() {
  LiveTrackers& live = live_trackers();
  std::lock_guard lock(live.mutex);
  live.uids.erase(uid_);
}

std::uint32_t Tracker::intern(Names& names, std::string_view name) {
  if (const auto i = names.find(name)) return *i;
  std::lock_guard lock(mutex_);
  if (const auto i = names.find(name)) return *i;
  const std::uint32_t n = names.count.load(kRelaxed);
  if (n == kMaxNames)
    throw Error("tracker: more than " + std::to_string(kMaxNames) + " names of one kind ('" + std::string(name) + "')");
  names.storage.push_back(std::make_unique<std::string>(name));
  names.names[n].store(names.storage.back().get(), std::memory_order_release);
  names.count.store(n + 1, std::memory_order_release);
  return n;
}

std::uint32_t Tracker::phase_id(std::string_view name) { return intern(*phase_names_, name); }

Counter Tracker::counter(std::string_view name) { return Counter(this, intern(*counter_names_, name)); }

Gauge Tracker::gauge(std::string_view name) { return Gauge(&gauges_[intern(*gauge_names_, name)]); }

ValueHistogram Tracker::histogram(std::string_view registry_name) {
  const MetricDef* def = find_metric(registry_name);
  if (def == nullptr) throw InputError("tracker: '" + std::string(registry_name) + "' is not a metric-registry name; declare it with a MetricDef");
  return histogram(*def);
}

ValueHistogram Tracker::histogram(const MetricDef& def, std::int64_t lowest, std::int64_t highest, int significant_digits) {
  std::lock_guard lock(mutex_);
  const std::uint32_t n = value_histogram_count_.load(kRelaxed);
  for (std::uint32_t i = 0; i < n; ++i)
    if (value_histograms_[i]->def.name == def.name) return ValueHistogram(this, i);
  if (n == kMaxNames) throw Error("tracker: more than " + std::to_string(kMaxNames) + " value histograms");
  value_histograms_.push_back(std::make_unique<ValueHistogramDef>(ValueHistogramDef{def, BucketIndex(lowest, highest, significant_digits)}));
  value_histogram_count_.store(n + 1, std::memory_order_release);
  return ValueHistogram(this, n);
}

void Tracker::ratio(std::string_view name, const Counter& a, const Counter& b) {
  std::lock_guard lock(mutex_);
  ratios_.emplace_back(std::string(name), a.index_, b.index_);
}

void Tracker::attach(telemetry::Sampler& sampler) {
  if (attached_.exchange(true)) throw Error("tracker: a sampler is already attached (one per tracker)");
  try {
    sampler.add_sink(resource_ring_.get());
  } catch (...) {
    attached_.store(false);  // e.g. the sampler was already running
    throw;
  }
}

telemetry::RowSink& Tracker::resource_sink() {
  attached_.store(true);
  return *resource_ring_;
}

void Counter::inc(std::int64_t n) const noexcept { add_owned(tracker_->local_slot().counters[index_], n); }

void Gauge::set(double value) const noexcept { value_->store(value, kRelaxed); }
double Gauge::value() const noexcept { return value_->load(kRelaxed); }

void ValueHistogram::observe(std::int64_t value) const noexcept {
  const BucketIndex& layout = tracker_->value_histograms_[index_]->layout;
  Tracker::Slot::record(tracker_->local_slot().values[index_], layout, value);
}

// ---- requests ----

std::int64_t Tracker::now() const noexcept { return tick() + steady_offset(); }

Request Tracker::begin_request(std::string_view id) noexcept {
  add_owned(local_slot().started, std::uint64_t{1});
  return Request(this, id, tick());
}

Request::Request(Tracker* t, std::string_view id, std::int64_t begin_ns) noexcept : tracker_(t), begin_ns_(begin_ns) {
  copy_cut(id_, kRequestIdBytes, id);
  error_message_[0] = '\0';
}

Request::Request(Request&& o) noexcept
    : tracker_(o.tracker_),
      begin_ns_(o.begin_ns_),
      first_out_ns_(o.first_out_ns_),
      last_out_ns_(o.last_out_ns_),
      event_tokens_(o.event_tokens_),
      tokens_in_(o.tokens_in_),
      tokens_out_(o.tokens_out_),
      output_duration_ns_(o.output_duration_ns_),
      error_class_(o.error_class_),
      depth_(o.depth_),
      n_phases_(o.n_phases_),
      phases_dropped_(o.phases_dropped_),
      phases_(o.phases_),
      n_gaps_(o.n_gaps_),
      gaps_(o.gaps_) {
  std::memcpy(id_, o.id_, sizeof id_);
  std::memcpy(error_message_, o.error_message_, sizeof error_message_);
  o.tracker_ = nullptr;
}

Phase Request::phase(std::string_view name) { return phase(tracker_->phase_id(name)); }

Phase Request::phase(std::uint32_t phase_id) noexcept {
  return Phase(this, phase_id, depth_++, tracker_->tick());
}

void Phase::end() noexcept {
  if (request_ == nullptr) return;
  Request* r = request_;
  request_ = nullptr;
  // Never negative: an injected clock may step back (docs/metrics.md, "The tracker's clock").
  const std::int64_t d = std::max<std::int64_t>(r->tracker_->tick() - begin_ns_, 0);
  --r->depth_;
  r->phase_ended(id_, depth_, d);
}

void Request::phase_ended(std::uint32_t id, int depth, std::int64_t duration_ns) noexcept {
  Tracker::Slot& slot = tracker_->local_slot();
  Tracker::Slot::record(slot.phases[id], tracker_->latency_index_, duration_ns);
  if (n_phases_ < kMaxRecordedPhases) {
    const auto d = static_cast<std::uint64_t>(std::clamp<std::int64_t>(duration_ns, 0, kDurationMask));
    phases_[n_phases_++] = (std::uint64_t{id} << 48) | (std::uint64_t(std::min(depth, 255)) << kDurationBits) | d;
  } else {
    ++phases_dropped_;
  }
}

void Request::token(std::int64_t tokens) noexcept {
  const std::int64_t t = tracker_->tick();
  if (first_out_ns_ < 0)
    first_out_ns_ = t;
  else {
    if (n_gaps_ == kHeldTokenGaps) {
      tracker_->record_gaps(gaps_);
      n_gaps_ = 0;
    }
    gaps_[n_gaps_++] = std::max<std::int64_t>(t - last_out_ns_, 0);
  }
  last_out_ns_ = std::max(t, last_out_ns_);
  event_tokens_ += tokens > 0 && tokens <= kMaxTokensPerEvent ? tokens : 1;
}

void Request::first_token(std::int64_t tokens) noexcept {
  if (first_out_ns_ < 0) token(tokens);
}

void Tracker::record_gaps(std::span<const std::int64_t> gaps_ns) noexcept {
  AtomicCounts& c = Slot::counts(local_slot().itl, latency_index_);
  for (const std::int64_t g : gaps_ns) c.add(latency_index_(g), 1);
}

void Request::fail(std::string_view message, std::string_view error_class) {
  if (tracker_ == nullptr || error_class_ != 0) return;
  error_class_ = 1 + tracker_->intern(*tracker_->error_names_, error_class.empty() ? "error" : error_class);
  copy_cut(error_message_, kErrorMessageBytes, message);
}

void Request::end() noexcept {
  if (tracker_ == nullptr) return;
  Tracker* t = tracker_;
  tracker_ = nullptr;
  t->finish(*this, t->tick());
}

void Tracker::finish(const Request& r, std::int64_t end_ns) noexcept {
  Slot& slot = local_slot();
  // Times are ordered here, so no duration is negative: a request may end on another thread
  // than the one that began it, and the cycle clock's unserialised read can put that end a few
  // tens of ns before the begin (core/cycle_clock.hpp); an injected clock may step back. A
  // negative duration would land in the histogram's out-of-range counter.
  end_ns = std::max(end_ns, r.begin_ns_);
  const std::int64_t latency = end_ns - r.begin_ns_;
  std::int64_t ttft = -1, e2el = -1, tpot_ps = -1;
  const std::int64_t n_out = r.tokens_out_ >= 0 ? r.tokens_out_ : r.event_tokens_;
  if (r.error_class_ != 0) {
    add_owned(slot.errors[r.error_class_ - 1], std::uint64_t{1});
  } else {
    add_owned(slot.completed, std::uint64_t{1});
    Slot::record(slot.request, latency_index_, latency);
    add_owned(slot.tokens_in, r.tokens_in_);
    add_owned(slot.tokens_out, n_out);
    if (r.n_gaps_ > 0) {
      AtomicCounts& c = Slot::counts(slot.itl, latency_index_);
      for (std::uint32_t i = 0; i < r.n_gaps_; ++i) c.add(latency_index_(r.gaps_[i]), 1);
    }
    if (r.first_out_ns_ >= 0) {
      ttft = std::max<std::int64_t>(r.first_out_ns_ - r.begin_ns_, 0);
      e2el = std::max<std::int64_t>(r.last_out_ns_ - r.begin_ns_, ttft);
      Slot::record(slot.ttft, latency_index_, ttft);
      Slot::record(slot.e2el, latency_index_, e2el);
      if (n_out >= 2) {
        tpot_ps = div_round_half_up(static_cast<__int128>(r.last_out_ns_ - r.first_out_ns_) * kPsPerNs, n_out - 1);
        Slot::record(slot.tpot, latency_index_, (tpot_ps + kPsPerNs / 2) / kPsPerNs);
      }
    }
    if (r.output_duration_ns_ > 0) {
      add_owned(slot.rtf_sum, static_cast<double>(latency) / static_cast<double>(r.output_duration_ns_));
      add_owned(slot.rtf_n, std::uint64_t{1});
    }
  }

  Ring& ring = *ring_;
  std::uint64_t pos = slot.ring_pos;
  if (pos == slot.ring_end || ring.next.load(kRelaxed) - pos >= ring.stale) [[unlikely]] {
    if (pos != slot.ring_end) slot.ring_block = std::max<std::uint64_t>(slot.ring_block / 2, 1);  // gone stale
    else if (slot.ring_block < ring.block_max) slot.ring_block = std::min(2 * slot.ring_block, ring.block_max);
    pos = ring.next.fetch_add(slot.ring_block, kRelaxed);
    slot.ring_end = pos + slot.ring_block;
    slot.ring_index = static_cast<std::size_t>(pos % ring.slots);
  }
  Ring::Entry& e = ring.entries[slot.ring_index];
  slot.ring_pos = pos + 1;
  slot.ring_index = slot.ring_index + 1 == ring.slots ? 0 : slot.ring_index + 1;
  // Claim the slot: only from a finished (even) older record. A slot still being written (odd)
  // or already taken by a newer position is left to its writer, and this record is dropped.
  std::uint64_t held = e.seq.load(kRelaxed);
  if ((held & 1) != 0 || held > 2 * pos || !e.seq.compare_exchange_strong(held, 2 * pos + 1, kRelaxed, kRelaxed)) {
    ring.dropped.fetch_add(1, kRelaxed);
    return;
  }
  // Release stores of the words keep the claim before them, and the final release store
  // keeps them before the even seq (plain moves on x86-64; no fence, which TSan cannot model).
  constexpr auto kRelease = std::memory_order_release;
  auto put = [&e](std::size_t i, std::int64_t v) { e.words[i].store(static_cast<std::uint64_t>(v), kRelease); };
  auto put_text = [&e](std::size_t first, std::size_t words, const char* text) {
    for (std::size_t w = 0; w < words; ++w) {
      std::uint64_t v;
      std::memcpy(&v, text + 8 * w, 8);
      e.words[first + w].store(v, kRelease);
    }
  };
  put_text(0, Ring::kIdWords, r.id_);
  put(Ring::kBegin, r.begin_ns_);
  put(Ring::kEnd, end_ns);
  put(Ring::kTtft, ttft);
  put(Ring::kE2el, e2el);
  put(Ring::kTpot, tpot_ps);
  put(Ring::kTokensIn, r.tokens_in_);
  put(Ring::kTokensOut, n_out);
  put(Ring::kOutputDuration, r.output_duration_ns_);
  e.words[Ring::kErrorAndPhases].store(std::uint64_t{r.error_class_} << 32 | std::uint64_t{r.n_phases_} << 24 |
                                           std::min<std::uint32_t>(r.phases_dropped_, 0xffffff),
                                       kRelease);
  for (std::uint32_t i = 0; i < r.n_phases_; ++i) e.words[Ring::kPhases + i].store(r.phases_[i], kRelease);
  if (r.error_class_ != 0) put_text(Ring::kMessage, Ring::kMessageWords, r.error_message_);
  e.seq.store(2 * pos + 2, std::memory_order_release);
}

// ---- reading ----

namespace {

// The resources of a request [begin_ns, end_ns] from rows sorted by time (RequestResources
// documents the window). Rows is ResourceRing's row vector.
template <class Rows>
std::optional<RequestResources> attribute(const Rows& rows, std::int64_t begin_ns, std::int64_t end_ns) {
  using Row = typename Rows::value_type;
  const auto after_begin = std::upper_bound(rows.begin(), rows.end(), begin_ns,
                                            [](std::int64_t t, const Row& r) { return t < r.t_ns; });
  if (after_begin == rows.begin()) return std::nullopt;  // no sample at or before the begin
  const auto open = std::prev(after_begin);
  auto close = std::lower_bound(open, rows.end(), end_ns, [](const Row& r, std::int64_t t) { return r.t_ns < t; });
  RequestResources res;
  res.complete = close != rows.end();
  if (!res.complete) close = std::prev(rows.end());
  res.window_begin_ns = open->t_ns;
  res.window_end_ns = close->t_ns;
  res.samples = static_cast<std::uint32_t>(close - open + 1);
  std::array<double, kResourceFields> peak;
  peak.fill(kNaN);
  for (auto it = open; it <= close; ++it)
    for (std::size_t f = 0; f < kResourceFields; ++f)
      if (!std::isnan(it->values[f]) && (std::isnan(peak[f]) || it->values[f] > peak[f])) peak[f] = it->values[f];
  auto opt = [](double v) { return std::isnan(v) ? std::nullopt : std::optional<double>(v); };
  res.rss_peak_seen_bytes = opt(peak[kRss]);
  res.gpu_proc_mem_peak_seen_bytes = opt(peak[kGpuProcMem]);
  res.gpu_mem_used_peak_seen_bytes = opt(peak[kGpuMemUsed]);
  res.temp_peak_seen_c = opt(peak[kTemp]);
  if (!std::isnan(peak[kThrottled])) res.throttled_seen = peak[kThrottled] >= 1;
  const double cpu_open = open->values[kCpuTime], cpu_close = close->values[kCpuTime];
  if (!std::isnan(cpu_open) && !std::isnan(cpu_close)) res.cpu_time_seen_s = cpu_close - cpu_open;
  return res;
}

// Exact statistics of doubles; percentiles by numpy's linear method.
ResourceDistribution resource_distribution(std::vector<double> v, const std::vector<double>& ps) {
  ResourceDistribution d;
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  d.count = v.size();
  d.min = v.front();
  d.max = v.back();
  long double sum = 0;
  for (const double x : v) sum += x;
  d.mean = static_cast<double>(sum / static_cast<long double>(v.size()));
  for (const double p : ps) {
    const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(rank));
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    d.percentiles.push_back({p, v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo))});
  }
  return d;
}

}  // namespace

std::vector<RequestRecord> Tracker::records() const {
  const Ring& ring = *ring_;
  const std::uint64_t next = ring.next.load(std::memory_order_acquire);
  const std::uint64_t first = next > ring.slots ? next - ring.slots : 0;
  std::vector<RequestRecord> out;
  out.reserve(std::min<std::size_t>(ring.capacity, static_cast<std::size_t>(next - first)));
  std::array<std::uint64_t, Ring::kWords> w;
  const std::int64_t offset = steady_offset();  // one offset for the whole read: differences stay exact
  // Newest first, until N complete records are found.
  for (std::uint64_t pos = next; pos-- > first && out.size() < ring.capacity;) {
    const Ring::Entry& e = ring.entries[pos % ring.slots];
    const std::uint64_t s1 = e.seq.load(std::memory_order_acquire);
    if (s1 != 2 * pos + 2) continue;  // not yet written, being written, or overwritten since
    // Acquire loads keep the second seq load after them.
    for (std::size_t i = 0; i < Ring::kWords; ++i) w[i] = e.words[i].load(std::memory_order_acquire);
    if (e.seq.load(kRelaxed) != s1) continue;
    RequestRecord r;
    char text[kRequestIdBytes + 1];
    std::memcpy(text, w.data(), sizeof text);
    text[kRequestIdBytes] = '\0';
    r.id = text;
    auto get = [&w](std::size_t i) { return static_cast<std::int64_t>(w[i]); };
    auto opt = [&get](std::size_t i) { return get(i) >= 0 ? std::optional<std::int64_t>(get(i)) : std::nullopt; };
    r.begin_ns = get(Ring::kBegin) + offset;
    r.end_ns = get(Ring::kEnd) + offset;
    r.ttft_ns = opt(Ring::kTtft);
    r.e2el_ns = opt(Ring::kE2el);
    r.tpot_ps = opt(Ring::kTpot);
    r.tokens_in = get(Ring::kTokensIn);
    r.tokens_out = get(Ring::kTokensOut);
    r.output_duration_ns = opt(Ring::kOutputDuration);
    const std::uint64_t ep = w[Ring::kErrorAndPhases];
    const auto error_class = static_cast<std::uint32_t>(ep >> 32);
    const auto n_phases = static_cast<std::uint32_t>((ep >> 24) & 0xff);
    r.phases_dropped = static_cast<std::uint32_t>(ep & 0xffffff);
    if (error_class != 0) {
      r.ok = false;
      r.error_class = error_names_->name(error_class - 1);
      char msg[kErrorMessageBytes + 1];
      std::memcpy(msg, w.data() + Ring::kMessage, sizeof msg);
      msg[kErrorMessageBytes] = '\0';
      r.error_message = msg;
    }
    for (std::uint32_t i = 0; i < n_phases && i < kMaxRecordedPhases; ++i) {
      const std::uint64_t p = w[Ring::kPhases + i];
      r.phases.push_back({phase_names_->name(static_cast<std::uint32_t>(p >> 48)),
                          static_cast<int>((p >> kDurationBits) & 0xff), static_cast<std::int64_t>(p & kDurationMask)});
    }
    out.push_back(std::move(r));
  }
  std::stable_sort(out.begin(), out.end(), [](const RequestRecord& a, const RequestRecord& b) { return a.end_ns < b.end_ns; });
  if (attached_.load()) {
    const auto rows = resource_ring_->rows();
    for (RequestRecord& r : out) r.resources = attribute(rows, r.begin_ns, r.end_ns);
  }
  return out;
}

namespace {

// ns histogram → ms statistics; `scale` divides values into the reported unit.
DistributionStats distribution(Histogram h, const std::vector<double>& ps, double scale) {
  DistributionStats d{.histogram = std::move(h)};
  d.count = d.histogram.count();
  if (d.count == 0) return d;
  d.mean = d.histogram.mean() / scale;
  d.min = static_cast<double>(d.histogram.min()) / scale;
  d.max = static_cast<double>(d.histogram.max()) / scale;
  for (const double p : ps) d.percentiles.push_back({p, d.histogram.value_at_percentile(p) / scale});
  return d;
}

}  // namespace

Snapshot Tracker::snapshot() const {
  Snapshot s;
  s.percentiles = options_.percentiles;
  if (options_.clock != nullptr) {
    s.clock = "injected";
    s.clock_detail = "TrackerOptions::clock";
  } else if (cycle_ != nullptr) {
    s.clock = cycle_->source_name();
    s.clock_detail = cycle_->description();
  } else {
    s.clock = "steady_clock";
    s.clock_detail = options_.cycle_clock ? CycleClock::instance().description()
                                          : "steady_clock (clock_gettime): TrackerOptions::cycle_clock is false";
  }
  s.uptime_ns = tick() - start_ns_;
  s.resources = resource_snapshot();  // reads the records: before the lock that registration takes
  std::lock_guard lock(mutex_);
  const std::size_t n_slots = slots_.size();
  const Histogram empty(latency_index_.lowest, latency_index_.highest, latency_index_.digits);
  Histogram request = empty, ttft = empty, tpot = empty, itl = empty, e2el = empty;
  const std::uint32_t n_phases = phase_names_->count.load(std::memory_order_acquire);
  const std::uint32_t n_errors = error_names_->count.load(std::memory_order_acquire);
  const std::uint32_t n_counters = counter_names_->count.load(std::memory_order_acquire);
  const std::uint32_t n_values = value_histogram_count_.load(std::memory_order_acquire);
  std::vector<Histogram> phases(n_phases, empty);
  std::vector<Histogram> values;
  for (std::uint32_t i = 0; i < n_values; ++i) {
    const BucketIndex& b = value_histograms_[i]->layout;
    values.emplace_back(b.lowest, b.highest, b.digits);
  }
  std::vector<std::uint64_t> errors(n_errors);
  std::vector<std::int64_t> counters(n_counters);
  double rtf_sum = 0;
  std::uint64_t rtf_n = 0;
  auto fold = [](const std::atomic<AtomicCounts*>& at, Histogram& h, const BucketIndex& index) {
    if (const AtomicCounts* c = at.load(std::memory_order_acquire)) c->fold_into(h, index);
  };
  for (std::size_t k = 0; k < n_slots; ++k) {
    const Slot& slot = *slots_[k];
    s.requests_started += slot.started.load(kRelaxed);
    s.requests_completed += slot.completed.load(kRelaxed);
    s.tokens_in += slot.tokens_in.load(kRelaxed);
    s.tokens_out += slot.tokens_out.load(kRelaxed);
    rtf_sum += slot.rtf_sum.load(kRelaxed);
    rtf_n += slot.rtf_n.load(kRelaxed);
    for (std::uint32_t i = 0; i < n_errors; ++i) errors[i] += slot.errors[i].load(kRelaxed);
    for (std::uint32_t i = 0; i < n_counters; ++i) counters[i] += slot.counters[i].load(kRelaxed);
    fold(slot.request, request, latency_index_);
    fold(slot.ttft, ttft, latency_index_);
    fold(slot.tpot, tpot, latency_index_);
    fold(slot.itl, itl, latency_index_);
    fold(slot.e2el, e2el, latency_index_);
    for (std::uint32_t i = 0; i < n_phases; ++i) fold(slot.phases[i], phases[i], latency_index_);
    for (std::uint32_t i = 0; i < n_values; ++i) fold(slot.values[i], values[i], value_histograms_[i]->layout);
  }
  // Failed requests are the sum over error classes (one count per failure, so the two always agree).
  for (const std::uint64_t n : errors) s.requests_failed += n;
  // Each slot's counters are read one after another while others record, so a request may be
  // seen ended in one slot before its start is seen in another: active is clamped at 0.
  const std::uint64_t ended = s.requests_completed + s.requests_failed;
  s.requests_started = std::max(s.requests_started, ended);
  s.requests_active = s.requests_started - ended;
  const double uptime_s = static_cast<double>(s.uptime_ns) / 1e9;
  if (uptime_s > 0) {
    s.request_rate_per_s = static_cast<double>(s.requests_completed) / uptime_s;
    s.errors_per_s = static_cast<double>(s.requests_failed) / uptime_s;
    s.output_tokens_per_s = static_cast<double>(s.tokens_out) / uptime_s;
  }
  if (ended > 0) s.error_rate = static_cast<double>(s.requests_failed) / static_cast<double>(ended);
  if (rtf_n > 0) s.rtf_mean = rtf_sum / static_cast<double>(rtf_n);
  for (std::uint32_t i = 0; i < n_errors; ++i)
    if (errors[i] > 0) s.errors_by_class[error_names_->name(i)] = errors[i];
  for (std::uint32_t i = 0; i < n_counters; ++i) s.counters[counter_names_->name(i)] = counters[i];
  for (std::uint32_t i = 0; i < gauge_names_->count.load(std::memory_order_acquire); ++i)
    s.gauges[gauge_names_->name(i)] = gauges_[i].load(kRelaxed);
  for (const auto& [name, a, b] : ratios_) {
    const double x = static_cast<double>(counters[a]), y = static_cast<double>(counters[b]);
    s.ratios[name] = x + y > 0 ? x / (x + y) : 0.0;
  }
  const auto& ps = options_.percentiles;
  auto latency = [&ps](Histogram& h) -> std::optional<DistributionStats> {
    if (h.count() == 0 && h.out_of_range() == 0) return std::nullopt;
    return distribution(std::move(h), ps, 1e6);
  };
  s.request = latency(request);
  s.ttft = latency(ttft);
  s.tpot = latency(tpot);
  s.itl = latency(itl);
  s.e2el = latency(e2el);
  for (std::uint32_t i = 0; i < n_phases; ++i)
    if (phases[i].count() > 0) s.phases.emplace(phase_names_->name(i), distribution(std::move(phases[i]), ps, 1e6));
  for (std::uint32_t i = 0; i < n_values; ++i) {
    const MetricDef& def = value_histograms_[i]->def;
    s.histograms.emplace(def.name, ValueHistogramStats{def, distribution(std::move(values[i]), ps, 1.0)});
  }
  return s;
}

ResourceSnapshot Tracker::resource_snapshot() const {
  ResourceSnapshot out;
  out.attached = attached_.load();
  if (!out.attached) {
    out.unavailable = "no telemetry sampler is attached to the tracker (Tracker::attach)";
    return out;
  }
  {
    std::lock_guard lock(resource_ring_->mutex);
    out.unavailable = resource_ring_->begun ? resource_ring_->missing : "the attached sampler has not started";
  }
  out.rows_taken = resource_ring_->written.load(std::memory_order_acquire);
  std::array<std::vector<double>, kResourceFields> v;
  for (const RequestRecord& r : records()) {
    if (!r.resources) {
      ++out.requests_unattributed;
      continue;
    }
    const RequestResources& res = *r.resources;
    if (!res.complete) {
      ++out.requests_pending;
      continue;
    }
    ++out.requests_attributed;
    if (res.throttled_seen.value_or(false)) ++out.throttled_seen;
    auto add = [&v](ResourceField f, const std::optional<double>& x, double scale = 1) {
      if (x) v[f].push_back(*x * scale);
    };
    add(kRss, res.rss_peak_seen_bytes);
    add(kGpuProcMem, res.gpu_proc_mem_peak_seen_bytes);
    add(kGpuMemUsed, res.gpu_mem_used_peak_seen_bytes);
    add(kTemp, res.temp_peak_seen_c);
    add(kCpuTime, res.cpu_time_seen_s, 1e3);
  }
  const std::array<std::pair<ResourceField, const char*>, 5> names{{{kRss, "rss_peak_seen_bytes"},
                                                                   {kGpuProcMem, "gpu_proc_mem_peak_seen_bytes"},
                                                                   {kGpuMemUsed, "gpu_mem_used_peak_seen_bytes"},
                                                                   {kTemp, "temp_peak_seen_c"},
                                                                   {kCpuTime, "cpu_time_seen_ms"}}};
  for (const auto& [f, name] : names)
    if (!v[f].empty()) out.distributions.emplace(name, resource_distribution(std::move(v[f]), options_.percentiles));
  return out;
}

std::vector<std::string> validate(const Snapshot& s, std::span<const RequestRecord> records) {
  std::vector<std::string> out;
  auto need = [&out](bool ok, const std::string& what) {
    if (!ok) out.push_back(what);
  };
  auto num = [](double v) {
    std::string t = std::to_string(v);
    return t;
  };
  need(s.uptime_ns >= 0, "uptime_ns = " + std::to_string(s.uptime_ns) + " is negative");
  need(s.requests_started >= s.requests_completed + s.requests_failed,
       "requests_started = " + std::to_string(s.requests_started) + " < completed + failed = " +
           std::to_string(s.requests_completed + s.requests_failed));
  for (const auto& [name, v] : std::initializer_list<std::pair<const char*, double>>{
           {"request_rate_per_s", s.request_rate_per_s}, {"errors_per_s", s.errors_per_s},
           {"output_tokens_per_s", s.output_tokens_per_s}})
    need(v >= 0 && std::isfinite(v), std::string(name) + " = " + num(v) + " is not a finite rate >= 0");
  need(s.error_rate >= 0 && s.error_rate <= 1, "error_rate = " + num(s.error_rate) + " is outside [0, 1]");
  need(s.tokens_in >= 0, "tokens_in = " + std::to_string(s.tokens_in) + " is negative");
  need(s.tokens_out >= 0, "tokens_out = " + std::to_string(s.tokens_out) + " is negative");
  if (s.rtf_mean) need(*s.rtf_mean >= 0, "rtf_mean = " + num(*s.rtf_mean) + " is negative");
  for (const auto& [name, v] : s.ratios)
    need(v >= 0 && v <= 1, "ratio " + name + " = " + num(v) + " is outside [0, 1]");
  std::uint64_t by_class = 0;
  for (const auto& [name, n] : s.errors_by_class) by_class += n;
  need(by_class == s.requests_failed, "errors_by_class sum to " + std::to_string(by_class) + ", requests_failed = " +
                                          std::to_string(s.requests_failed));
  auto check_dist = [&](const std::string& name, const DistributionStats& d) {
    double prev = -std::numeric_limits<double>::infinity();
    for (const Percentile& p : d.percentiles) {
      need(p.value >= prev, name + " p" + num(p.p) + " = " + num(p.value) + " is below the percentile before it");
      prev = p.value;
    }
    if (d.count > 0) need(d.min <= d.mean && d.mean <= d.max, name + " mean = " + num(d.mean) + " is outside [min, max]");
  };
  for (const auto& [name, d] : {std::pair{"request", &s.request}, std::pair{"ttft", &s.ttft}, std::pair{"tpot", &s.tpot},
                                std::pair{"itl", &s.itl}, std::pair{"e2el", &s.e2el}})
    if (*d) check_dist(name, **d);
  for (const auto& [name, d] : s.phases) check_dist("phase " + name, d);
  for (const RequestRecord& r : records) {
    const std::int64_t lat = r.latency_ns();
    need(lat >= 0, "request " + r.id + ": latency " + std::to_string(lat) + " ns is negative");
    std::int64_t top = 0;
    for (const PhaseRecord& p : r.phases) {
      need(p.duration_ns <= lat, "request " + r.id + ": phase " + p.name + " took " + std::to_string(p.duration_ns) +
                                     " ns, longer than the request (" + std::to_string(lat) + " ns)");
      if (p.depth == 0) top += p.duration_ns;
    }
    need(top <= lat, "request " + r.id + ": top-level phases sum to " + std::to_string(top) +
                         " ns, longer than the request (" + std::to_string(lat) + " ns)");
    if (r.resources && r.resources->complete) {
      const RequestResources& res = *r.resources;
      need(res.window_begin_ns <= r.begin_ns && res.window_end_ns >= r.end_ns,
           "request " + r.id + ": resource window [" + std::to_string(res.window_begin_ns) + ", " +
               std::to_string(res.window_end_ns) + "] ns does not contain the request");
      if (res.cpu_time_seen_s)
        need(*res.cpu_time_seen_s >= 0, "request " + r.id + ": cpu_time_seen_s = " + num(*res.cpu_time_seen_s) + " is negative");
    }
    if (r.ttft_ns && r.e2el_ns)
      need(*r.ttft_ns <= *r.e2el_ns && *r.e2el_ns <= lat,
           "request " + r.id + ": not ttft <= e2el <= latency (" + std::to_string(*r.ttft_ns) + ", " +
               std::to_string(*r.e2el_ns) + ", " + std::to_string(lat) + " ns)");
  }
  return out;
}

std::vector<std::string> Tracker::validate() const {
  const Snapshot s = snapshot();
  const std::vector<RequestRecord> r = records();
  return tracker::validate(s, r);
}

namespace {

void add_metric(std::vector<MetricValue>& m, const std::string& name, double v, ValueKind kind = ValueKind::kMeasured) {
  if (find_metric(name) != nullptr && std::isfinite(v)) m.push_back({name, v, kind});
}

std::string label_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  std::replace(s.begin(), s.end(), ',', '.');  // a comma-decimal locale
  return s;
}

// vLLM's names (mean_/median_/pNN_<family>_ms) from a histogram's statistics.
void add_family(std::vector<MetricValue>& m, const std::string& family, const DistributionStats& d) {
  add_metric(m, "mean_" + family + "_ms", d.mean);
  add_metric(m, "median_" + family + "_ms", d.histogram.value_at_percentile(50) / 1e6);
  add_metric(m, "std_" + family + "_ms", d.histogram.stddev() / 1e6);
  for (const int p : {90, 95, 99})
    add_metric(m, "p" + std::to_string(p) + "_" + family + "_ms", d.histogram.value_at_percentile(p) / 1e6);
}

}  // namespace

Result Tracker::to_result() const {
  const Snapshot s = snapshot();
  const std::vector<RequestRecord> recs = records();
  Result r;
  r.run_id = new_run_id();
  r.started_at = started_at_;
  r.finished_at = utc_timestamp_now();
  r.environment = capture_environment();
  r.tool_version = r.environment.trackiq_version;
  r.workload.backend = "tracker";
  r.workload.model = options_.service;
  r.workload.device = "in-process";
  r.workload.options["clock"] = s.clock;
  r.workload.options["clock_detail"] = s.clock_detail;
  {
    std::lock_guard lock(mutex_);
    r.workload.threads = static_cast<std::uint32_t>(slots_.size());
  }
  r.scenario.name = "production";
  r.scenario.duration_ns = s.uptime_ns;
  r.scenario.workers = r.workload.threads;
  r.throughput_method = "completed requests / time since the tracker was made";
  auto& m = r.metrics;
  if (s.request && s.request->count > 0) {
    const Histogram& h = s.request->histogram;
    LatencyData l;
    l.summary_ns.count = h.count();
    l.summary_ns.min = h.min();
    l.summary_ns.max = h.max();
    l.summary_ns.mean = h.mean();
    l.summary_ns.std = h.stddev();
    l.summary_ns.cv = h.mean() > 0 ? h.stddev() / h.mean() : 0;
    for (const double p : standard_percentiles()) l.summary_ns.percentiles.push_back({p, h.value_at_percentile(p)});
    l.histogram = h;
    append_latency_metrics(m, l.summary_ns);
    r.latency = std::move(l);
    r.warnings.push_back("latency statistics come from the tracker's lossless histograms (" +
                         std::to_string(options_.significant_digits) + " significant digits), not from exact samples");
  }
  add_metric(m, "queries_total", static_cast<double>(s.requests_completed));
  add_metric(m, "errors_total", static_cast<double>(s.requests_failed));
  add_metric(m, "error_rate", s.error_rate, ValueKind::kDerived);
  add_metric(m, "wall_time_s", static_cast<double>(s.uptime_ns) / 1e9);
  add_metric(m, "request_throughput", s.request_rate_per_s, ValueKind::kDerived);
  add_metric(m, "throughput_queries_per_s", s.request_rate_per_s, ValueKind::kDerived);
  if (s.tokens_out > 0) {
    add_metric(m, "output_throughput", s.output_tokens_per_s, ValueKind::kDerived);
    add_metric(m, "total_token_throughput", static_cast<double>(s.tokens_in + s.tokens_out) / (static_cast<double>(s.uptime_ns) / 1e9),
               ValueKind::kDerived);
  }
  if (s.rtf_mean) add_metric(m, "rtf_mean", *s.rtf_mean, ValueKind::kDerived);
  for (const auto& [family, d] : {std::pair{"ttft", &s.ttft}, std::pair{"tpot", &s.tpot}, std::pair{"itl", &s.itl},
                                  std::pair{"e2el", &s.e2el}})
    if (*d && (*d)->count > 0) {
      add_family(m, family, **d);
      r.distributions.emplace(family, (*d)->histogram);
    }
  std::sort(m.begin(), m.end(), [](const MetricValue& a, const MetricValue& b) { return a.name < b.name; });
  for (const auto& [name, v] : s.counters) r.labels.extra["counter." + name] = std::to_string(v);
  for (const auto& [name, v] : s.gauges) r.labels.extra["gauge." + name] = label_number(v);
  for (const auto& [name, v] : s.ratios) r.labels.extra["ratio." + name] = label_number(v);
  for (const auto& [name, d] : s.phases) {
    r.labels.extra["phase." + name + ".count"] = std::to_string(d.count);
    r.labels.extra["phase." + name + ".mean_ms"] = label_number(d.mean);
    r.labels.extra["phase." + name + ".p99_ms"] = label_number(d.histogram.value_at_percentile(99) / 1e6);
  }
  r.errors.total = s.requests_failed;
  r.errors.by_class = s.errors_by_class;
  for (const RequestRecord& rec : recs)
    if (!rec.ok && r.errors.examples.size() < 5 &&
        std::find(r.errors.examples.begin(), r.errors.examples.end(), rec.error_message) == r.errors.examples.end())
      r.errors.examples.push_back(rec.error_message);
  // Per-request resources (LIB-2): values of the whole process (or machine) seen while each
  // request ran, over the records in the window; the per-request values are in records().
  const ResourceSnapshot& res = s.resources;
  r.telemetry.available = res.attached && res.rows_taken > 0;
  if (!res.attached) r.telemetry.reason = res.unavailable;
  else if (res.rows_taken == 0) r.telemetry.reason = "the attached sampler has taken no sample yet";
  else r.telemetry.reason = res.unavailable;  // the values no attached channel measures, if any
  if (res.attached) {
    auto& t = r.telemetry.summary;
    t["samples"] = static_cast<double>(res.rows_taken);
    t["requests_attributed"] = static_cast<double>(res.requests_attributed);
    t["requests_pending"] = static_cast<double>(res.requests_pending);
    t["requests_unattributed"] = static_cast<double>(res.requests_unattributed);
    t["requests_throttled_seen"] = static_cast<double>(res.throttled_seen);
    for (const auto& [name, d] : res.distributions) {
      const std::string key = "request." + name;
      t[key + ".count"] = static_cast<double>(d.count);
      t[key + ".mean"] = d.mean;
      t[key + ".min"] = d.min;
      t[key + ".max"] = d.max;
      for (const Percentile& p : d.percentiles) t[key + ".p" + label_number(p.p)] = p.value;
    }
    auto pct = [](const ResourceDistribution& d, double p) {
      for (const Percentile& q : d.percentiles)
        if (q.p == p) return q.value;
      return std::numeric_limits<double>::quiet_NaN();
    };
    if (const auto it = res.distributions.find("rss_peak_seen_bytes"); it != res.distributions.end()) {
      add_metric(m, "request_rss_seen_peak_bytes", it->second.max);
      add_metric(m, "request_rss_seen_p50_bytes", pct(it->second, 50), ValueKind::kDerived);
    }
    if (const auto it = res.distributions.find("cpu_time_seen_ms"); it != res.distributions.end()) {
      add_metric(m, "request_cpu_seen_mean_ms", it->second.mean, ValueKind::kDerived);
      add_metric(m, "request_cpu_seen_p99_ms", pct(it->second, 99), ValueKind::kDerived);
    }
    if (const auto it = res.distributions.find("gpu_proc_mem_peak_seen_bytes"); it != res.distributions.end())
      add_metric(m, "request_gpu_mem_seen_peak_bytes", it->second.max);
    if (const auto it = res.distributions.find("temp_peak_seen_c"); it != res.distributions.end())
      add_metric(m, "request_temp_seen_peak_c", it->second.max);
    if (res.requests_attributed > 0)
      add_metric(m, "request_throttled_seen_ratio",
                 static_cast<double>(res.throttled_seen) / static_cast<double>(res.requests_attributed), ValueKind::kDerived);
    std::sort(m.begin(), m.end(), [](const MetricValue& a, const MetricValue& b) { return a.name < b.name; });
    r.warnings.push_back("request_*_seen_* metrics are the process's (or the machine's) resources seen while requests "
                         "ran, not what each request used: concurrent requests see the same samples");
  }
  return r;
}

}  // namespace trackiq::tracker
