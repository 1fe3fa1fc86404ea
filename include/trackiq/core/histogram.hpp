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

  // Counts `value` once (or `count` times). O(1): a count-leading-zeros, shifts and an add.
  // A value outside [0, highest] is not counted in a bucket; it increments out_of_range()
  // and the call returns false.
  bool record(std::int64_t value) noexcept { return record(value, 1); }
  bool record(std::int64_t value, std::uint64_t count) noexcept {
    const std::size_t index = counts_index_for(value);
    if (value < 0 || index >= counts_.size()) [[unlikely]] {
      out_of_range_ += count;
      return false;
    }
    counts_[index] += count;
    total_ += count;
    lo_index_ = std::min(lo_index_, index);  // branch-free (cmov): bounds merge() and reads
    hi_index_ = std::max(hi_index_, index);
    return true;
  }

  // Adds other's counts. Both must have the same lowest/highest/digits (InputError otherwise).
  void merge(const Histogram& other);
  void reset() noexcept;

  std::uint64_t count() const noexcept { return total_; }
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
  std::size_t counts_index_for(std::int64_t value) const noexcept {
    const auto v = static_cast<std::uint64_t>(value);
    const int bucket = bucket_index(v);
    const auto sub = static_cast<std::int64_t>(v >> (bucket + unit_magnitude_));
    return counts_index(bucket, sub);
  }
  int bucket_index(std::uint64_t v) const noexcept {
    const int pow2ceiling = 64 - __builtin_clzll(v | sub_bucket_mask_);
    return pow2ceiling - unit_magnitude_ - (sub_bucket_half_count_magnitude_ + 1);
  }
  std::size_t counts_index(int bucket, std::int64_t sub) const noexcept {
    const std::int64_t base = static_cast<std::int64_t>(bucket + 1) << sub_bucket_half_count_magnitude_;
    return static_cast<std::size_t>(base + (sub - sub_bucket_half_count_));
  }
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
  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::uint64_t out_of_range_ = 0;
  // Range of counts_ that may be non-zero: [lo_index_, hi_index_]; empty when lo > hi.
  std::size_t lo_index_ = SIZE_MAX;
  std::size_t hi_index_ = 0;
};

}  // namespace trackiq
