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
#include <vector>

namespace trackiq {

class Histogram {
 public:
  // lowest >= 1, highest >= 2 * lowest, significant_digits in [1, 5]; InputError otherwise.
  Histogram(std::int64_t lowest, std::int64_t highest, int significant_digits);

  // 1 ns to 1 hour at 3 significant digits: the latency default (about 270 KiB).
  static Histogram for_latency_ns();

  // Counts `value` once (or `count` times). O(1): a bit scan, a shift, one add to the counter
  // and one plain store to the counter block's "touched" byte. Nothing else is written, so
  // consecutive calls form no chain through memory (a running total or min/max index kept
  // here would: each call would load what the previous one stored). count(), min(), max(),
  // merge() and reset() visit only touched blocks instead.
  // A value outside [0, highest] is not counted in a bucket; it increments out_of_range()
  // and the call returns false.
  bool record(std::int64_t value) noexcept { return record(value, 1); }
  bool record(std::int64_t value, std::uint64_t count) noexcept {
    const auto v = static_cast<std::uint64_t>(value);
    if (v > max_recordable_) [[unlikely]] {  // negative values wrap to huge ones
      out_of_range_ += count;
      return false;
    }
    const std::size_t index = counts_index_for(v);
    counts_[index] += count;
    touched_[index >> kBlockShift] = 1;
    return true;
  }

  // Counts every value of `values` once, as record(v) for each v would, and returns how many
  // were in range. For a batch this is the fast path (about 2 ns a value against about 4 for
  // single calls, docs/performance.md §1): the parameters stay in registers across the loop,
  // and on x86-64 CPUs with LZCNT (x86-64-v3) a variant using it is picked at load time.
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
  std::size_t counts_index_for(std::uint64_t v) const noexcept {
    const int e = 63 ^ __builtin_clzll(v | sub_bucket_mask_);  // 63 ^ clz == 63 - clz for clz in [0, 63]; GCC folds it to a bare BSR
    return static_cast<std::size_t>((static_cast<std::int64_t>(e) << sub_bucket_half_count_magnitude_) +
                                    static_cast<std::int64_t>(v >> (e - sub_bucket_half_count_magnitude_)) +
                                    index_offset_);
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

  std::int64_t lowest_;
  std::int64_t highest_;
  int digits_;
  int unit_magnitude_ = 0;
  int sub_bucket_half_count_magnitude_ = 0;
  std::int64_t sub_bucket_count_ = 0;
  std::int64_t sub_bucket_half_count_ = 0;
  std::uint64_t sub_bucket_mask_ = 0;
  int bucket_count_ = 0;
  std::int64_t index_offset_ = 0;
  std::uint64_t max_recordable_ = 0;  // highest_equivalent(highest): the last counter's top
  // Counters come in blocks of 2^kBlockShift; touched_[b] != 0 when block b may hold a
  // non-zero counter (set by record/merge/decode, cleared by reset).
  static constexpr int kBlockShift = 8;
  std::vector<std::uint64_t> counts_;
  std::vector<std::uint8_t> touched_;
  std::uint64_t out_of_range_ = 0;
};

}  // namespace trackiq
