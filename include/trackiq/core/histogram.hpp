#pragma once
// A log-linear histogram with HdrHistogram semantics, for long runs and for merging
// per-thread recordings (SPEC §0.2).
//
// Values are integers in [lowest, highest] (ns for latency). Every value is counted in a
// bucket whose width is at most value / 10^significant_digits, so any value read back (a
// bucket's midpoint) is within 0.5 * 10^-d relative error of what was recorded.
//
// Thread-safety: none inside. Give each recording thread its own Histogram and merge()
// them when reading (the record path has no lock, allocation or I/O).
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trackiq {

namespace detail {
// floor(log2(x)) for x != 0, the bucket exponent of Histogram::record (64-bit, so that the
// index arithmetic needs no sign extension). A generic x86-64 build cannot use LZCNT (on a CPU
// without it the same bytes execute as BSR and give another answer), and BSR costs several
// cycles on AMD Zen against one for LZCNT (docs/performance.md §1). So the scan is emitted as
// LZCNT's encoding, F3 0F BD, which is "rep bsr": CPUs with LZCNT return the leading-zero count
// z = 63 - floor(log2 x), CPUs without it ignore the prefix and return floor(log2 x).
// bit_scan_fixup() runs the instruction on 1 (z = 63 there, floor 0) and so is 63 on the first
// kind and 0 on the second; in both cases scan(x) ^ fixup is floor(log2 x), because
// 63 - y == 63 ^ y for y in [0, 63]. The fixup is measured by running the instruction, not read
// from CPUID, so a hypervisor that hides the LZCNT bit from CPUID while the CPU still executes
// it cannot make the two disagree. (Intel's SDM documents LZCNT running as BSR where it is not
// supported; GCC relies on the same ignored prefix when a generic build emits "rep bsf" for
// __builtin_ctz, TZCNT where it exists.)
#if defined(__x86_64__) && defined(__GNUC__)
inline std::uint64_t bit_scan_lzcnt_or_bsr(std::uint64_t x) noexcept {
  std::uint64_t r;
  asm("rep bsr %1, %0" : "=r"(r) : "rm"(x) : "cc");
  return r;
}
inline std::uint64_t bit_scan_fixup() noexcept { return bit_scan_lzcnt_or_bsr(1); }
inline std::uint64_t top_bit(std::uint64_t x, std::uint64_t fixup) noexcept {
  return bit_scan_lzcnt_or_bsr(x) ^ fixup;
}
#else
inline std::uint64_t bit_scan_fixup() noexcept { return 0; }
inline std::uint64_t top_bit(std::uint64_t x, std::uint64_t /*fixup*/) noexcept {
  return static_cast<std::uint64_t>(63 ^ __builtin_clzll(x));  // a one-cycle CLZ on aarch64
}
#endif

// Histogram's data, copied and moved member by member; Histogram adds one derived address
// that must be recomputed after a copy or move (Histogram::rebase).
struct HistogramState {
  std::int64_t lowest_ = 0;
  std::int64_t highest_ = 0;
  int digits_ = 0;
  int unit_magnitude_ = 0;
  int sub_bucket_half_count_magnitude_ = 0;
  std::int64_t sub_bucket_count_ = 0;
  std::int64_t sub_bucket_half_count_ = 0;
  std::uint64_t sub_bucket_mask_ = 0;
  int bucket_count_ = 0;
  std::int64_t index_offset_ = 0;
  std::uint64_t max_recordable_ = 0;  // highest_equivalent(highest): the last counter's top
  std::uint64_t scan_fixup_ = detail::bit_scan_fixup();  // see detail::top_bit
  // Counters come in blocks of 2^kBlockShift; touched_[b] is yes when block b may hold a
  // non-zero counter (set by record/merge/decode, cleared by reset). Not a character type, so
  // that the compiler knows a store to it does not modify the parameters above.
  static constexpr int kBlockShift = 8;
  enum class Touched : std::uint8_t { no, yes };
  std::vector<std::uint64_t> counts_;
  std::vector<Touched> touched_;
  std::uint64_t out_of_range_ = 0;
};
}  // namespace detail

class Histogram : private detail::HistogramState {
 public:
  // lowest >= 1, highest >= 2 * lowest, significant_digits in [1, 5]; InputError otherwise.
  Histogram(std::int64_t lowest, std::int64_t highest, int significant_digits);

  Histogram(const Histogram& other) : HistogramState(other) { rebase(); }
  Histogram(Histogram&& other) noexcept : HistogramState(std::move(other)) {
    rebase();
    other.rebase();  // a moved-from histogram must not keep an address in this one's counters
  }
  Histogram& operator=(const Histogram& other) {
    HistogramState::operator=(other);
    rebase();
    return *this;
  }
  Histogram& operator=(Histogram&& other) noexcept {
    HistogramState::operator=(std::move(other));
    rebase();
    if (&other != this) other.rebase();
    return *this;
  }
  ~Histogram() = default;

  // 1 ns to 1 hour at 3 significant digits: the latency default (about 270 KiB).
  static Histogram for_latency_ns();

  // Counts `value` once (or `count` times). O(1) and branch-predictable: a bit scan, two
  // shifts, and an add to the counter (load, add, store). When that counter was zero, a
  // not-taken branch marks the counter's block of 256 as touched; count(), min(), max(),
  // merge() and reset() visit only touched blocks. Nothing else is written, so consecutive
  // calls form no chain through memory (a running total or min/max index kept here would:
  // each call would load what the previous one stored). docs/performance.md §1.
  // A value outside [0, highest] is not counted in a bucket; it increments out_of_range()
  // and the call returns false.
  bool record(std::int64_t value) noexcept { return record(value, 1); }
  bool record(std::int64_t value, std::uint64_t count) noexcept {
    const auto v = static_cast<std::uint64_t>(value);
    if (v > max_recordable_) [[unlikely]] {  // negative values wrap to huge ones
      out_of_range_ += count;
      return false;
    }
    const std::uintptr_t raw = raw_index(v);
    auto* const counter = reinterpret_cast<std::uint64_t*>(counts_origin_ + raw * sizeof(std::uint64_t));
    const std::uint64_t before = *counter;
    *counter = before + count;
    if (before == 0) [[unlikely]]
      touched_[(raw + static_cast<std::uintptr_t>(index_offset_)) >> kBlockShift] = Touched::yes;
    return true;
  }

  // Counts every value of `values` once, as record(v) for each v would, and returns how many
  // were in range. The parameters stay in registers across the loop: about 1.4 ns a value
  // against about 2 for single calls on the reference VM (docs/performance.md §1).
  std::size_t record(std::span<const std::int64_t> values) noexcept;

  // Adds other's counts. Both must have the same lowest/highest/digits (InputError otherwise).
  void merge(const Histogram& other);
  void reset() noexcept;

  // Sum of the counters in touched blocks: O(touched counters), not a stored field.
  std::uint64_t count() const noexcept;
  std::uint64_t out_of_range() const noexcept { return out_of_range_; }
  std::int64_t lowest() const noexcept { return lowest_; }
  std::int64_t highest() const noexcept { return highest_; }
  int significant_digits() const noexcept { return digits_; }

  // Approximations from bucket midpoints (0 when empty). min()/max() are the lowest/highest
  // equivalent values of the first/last non-empty bucket.
  std::int64_t min() const noexcept;
  std::int64_t max() const noexcept;
  double mean() const noexcept;
  double stddev() const noexcept;  // population

  // Percentile with the same method as exact_percentiles() (linear interpolation between
  // the closest ranks), where each rank's value is its bucket midpoint. Error bound:
  // |result - exact| <= 0.5 * 10^-d * (value at the upper closest rank).
  double value_at_percentile(double p) const;

  // Buckets: the lowest and highest value a bucket counts; equal values share a bucket.
  std::int64_t lowest_equivalent(std::int64_t value) const noexcept;
  std::int64_t highest_equivalent(std::int64_t value) const noexcept;
  std::int64_t median_equivalent(std::int64_t value) const noexcept;

  struct Bucket {
    std::int64_t low = 0;   // lowest value counted here
    std::int64_t high = 0;  // highest value counted here
    std::uint64_t count = 0;
  };
  // The non-empty buckets in increasing order.
  std::vector<Bucket> nonempty_buckets() const;

  // Lossless compact encoding: parameters, then counts as zig-zag LEB128 varints where a
  // run of k empty buckets is written as -k (HdrHistogram V2's idea), base64-encoded.
  // decode(encode(h)) == h, bucket for bucket. decode throws InputError on bad input.
  std::string encode() const;
  static Histogram decode(std::string_view text);

  bool operator==(const Histogram& other) const noexcept;

 private:
  // HdrHistogram's index, folded: with e = floor(log2(v | sub_bucket_mask)) and
  // h = sub_bucket_half_count_magnitude, index = (e << h) + (v >> (e - h)) + index_offset_,
  // where index_offset_ = -((unit_magnitude + h) << h).
  // raw_index(v) + index_offset_ (mod 2^64) is the counter index; raw_index alone is what
  // record adds to counts_origin_.
  std::uintptr_t raw_index(std::uint64_t v) const noexcept {
    const std::uint64_t e = detail::top_bit(v | sub_bucket_mask_, scan_fixup_);  // >= h + unit_magnitude
    return static_cast<std::uintptr_t>((e << sub_bucket_half_count_magnitude_) +
                                       (v >> (e - static_cast<std::uint64_t>(sub_bucket_half_count_magnitude_))));
  }
  std::size_t counts_index_for(std::uint64_t v) const noexcept {
    return static_cast<std::size_t>(raw_index(v) + static_cast<std::uintptr_t>(index_offset_));
  }
  int bucket_index(std::uint64_t v) const noexcept {
    const int pow2ceiling = 64 - __builtin_clzll(v | sub_bucket_mask_);
    return pow2ceiling - unit_magnitude_ - (sub_bucket_half_count_magnitude_ + 1);
  }
  template <class F>
  void for_each_nonzero(F&& f) const;  // defined and used in histogram.cpp only
  // First and last non-zero counter (counts_.size() when there is none).
  std::size_t first_nonzero() const noexcept;
  std::size_t last_nonzero() const noexcept;
  std::int64_t value_from_index(std::size_t index) const noexcept;
  std::int64_t range_size(std::int64_t value) const noexcept;

  // Where counter 0 of the folded index (index - index_offset_) would be, as an address: the
  // record path adds its raw index to this one value instead of loading counts_.data() and
  // index_offset_ (one fewer load and add per value, ~0.4 ns, docs/performance.md §1).
  // Recomputed whenever counts_ may have a new buffer (construction, copy, move).
  std::uintptr_t counts_origin_ = 0;
  void rebase() noexcept {
    counts_origin_ = reinterpret_cast<std::uintptr_t>(counts_.data()) +
                     static_cast<std::uintptr_t>(index_offset_) * sizeof(std::uint64_t);  // wraps: defined
  }
};

}  // namespace trackiq
