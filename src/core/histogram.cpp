#include "trackiq/core/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "trackiq/core/error.hpp"
#include "varint.hpp"

namespace trackiq {

Histogram::Histogram(std::int64_t lowest, std::int64_t highest, int significant_digits) {
  lowest_ = lowest;
  highest_ = highest;
  digits_ = significant_digits;
  if (lowest < 1) throw InputError("histogram: lowest trackable value must be >= 1");
  if (significant_digits < 1 || significant_digits > 5)
    throw InputError("histogram: significant digits must be in [1, 5]");
  if (highest / 2 < lowest) throw InputError("histogram: highest must be >= 2 * lowest");  // 2 * lowest may overflow

  const std::int64_t single_unit_limit = 2 * static_cast<std::int64_t>(std::pow(10, significant_digits));
  const int sub_bucket_count_magnitude =
      static_cast<int>(std::ceil(std::log2(static_cast<double>(single_unit_limit))));
  sub_bucket_half_count_magnitude_ = std::max(sub_bucket_count_magnitude, 1) - 1;
  unit_magnitude_ = static_cast<int>(std::floor(std::log2(static_cast<double>(lowest))));
  sub_bucket_count_ = std::int64_t{1} << (sub_bucket_half_count_magnitude_ + 1);
  sub_bucket_half_count_ = sub_bucket_count_ / 2;
  sub_bucket_mask_ = static_cast<std::uint64_t>(sub_bucket_count_ - 1) << unit_magnitude_;
  if (unit_magnitude_ + sub_bucket_half_count_magnitude_ > 61)
    throw InputError("histogram: lowest value and digits exceed the 64-bit range");

  std::int64_t smallest_untrackable = sub_bucket_count_ << unit_magnitude_;
  int buckets = 1;
  while (smallest_untrackable <= highest) {
    if (smallest_untrackable > std::numeric_limits<std::int64_t>::max() / 2) {
      ++buckets;
      break;
    }
    smallest_untrackable <<= 1;
    ++buckets;
  }
  bucket_count_ = buckets;
  counts_.assign(static_cast<std::size_t>((bucket_count_ + 1) * sub_bucket_half_count_), 0);
  index_offset_ = -(static_cast<std::int64_t>(unit_magnitude_ + sub_bucket_half_count_magnitude_)
                    << sub_bucket_half_count_magnitude_);
  max_recordable_ = static_cast<std::uint64_t>(highest);
  // Trim the counters past the one that holds `highest`.
  const std::size_t last = counts_index_for(max_recordable_) + 1;
  counts_.resize(std::min(last, counts_.size()));
  rebase();
  touched_.assign((counts_.size() + (std::size_t{1} << kBlockShift) - 1) >> kBlockShift, Touched::no);
}

// Calls f(index, count) for each non-zero counter in increasing index order until f returns
// false. Only touched blocks are read.
template <class F>
void Histogram::for_each_nonzero(F&& f) const {
  const std::size_t n = counts_.size();
  for (std::size_t b = 0; b < touched_.size(); ++b) {
    if (touched_[b] == Touched::no) continue;
    const std::size_t end = std::min(n, (b + 1) << kBlockShift);
    for (std::size_t i = b << kBlockShift; i < end; ++i)
      if (counts_[i] != 0 && !f(i, counts_[i])) return;
  }
}

std::size_t Histogram::first_nonzero() const noexcept {
  std::size_t found = counts_.size();
  for_each_nonzero([&](std::size_t i, std::uint64_t) {
    found = i;
    return false;
  });
  return found;
}

std::size_t Histogram::last_nonzero() const noexcept {
  for (std::size_t b = touched_.size(); b-- > 0;) {
    if (touched_[b] == Touched::no) continue;
    const std::size_t begin = b << kBlockShift;
    for (std::size_t i = std::min(counts_.size(), (b + 1) << kBlockShift); i-- > begin;)
      if (counts_[i] != 0) return i;
  }
  return counts_.size();
}

std::uint64_t Histogram::count() const noexcept {
  std::uint64_t total = 0;
  const std::size_t n = counts_.size();
  for (std::size_t b = 0; b < touched_.size(); ++b) {
    if (touched_[b] == Touched::no) continue;
    const std::size_t end = std::min(n, (b + 1) << kBlockShift);
    for (std::size_t i = b << kBlockShift; i < end; ++i) total += counts_[i];
  }
  return total;
}

Histogram Histogram::for_latency_ns() { return Histogram(1, 3'600'000'000'000LL, 3); }

std::int64_t Histogram::value_from_index(std::size_t index) const noexcept {
  auto bucket = static_cast<int>(static_cast<std::int64_t>(index) >> sub_bucket_half_count_magnitude_) - 1;
  std::int64_t sub = static_cast<std::int64_t>(index) & (sub_bucket_half_count_ - 1);
  sub += sub_bucket_half_count_;
  if (bucket < 0) {
    sub -= sub_bucket_half_count_;
    bucket = 0;
  }
  return sub << (bucket + unit_magnitude_);
}

std::int64_t Histogram::range_size(std::int64_t value) const noexcept {
  const auto v = static_cast<std::uint64_t>(value);
  const int bucket = bucket_index(v);
  const auto sub = static_cast<std::int64_t>(v >> (bucket + unit_magnitude_));
  const int adjusted = sub >= sub_bucket_count_ ? bucket + 1 : bucket;
  return std::int64_t{1} << (unit_magnitude_ + adjusted);
}

std::int64_t Histogram::lowest_equivalent(std::int64_t value) const noexcept {
  const auto v = static_cast<std::uint64_t>(value);
  const int bucket = bucket_index(v);
  const auto sub = static_cast<std::int64_t>(v >> (bucket + unit_magnitude_));
  return sub << (bucket + unit_magnitude_);
}

std::int64_t Histogram::highest_equivalent(std::int64_t value) const noexcept {
  // range - 1 first: for the top bucket below 2^63, lowest + range is 2^63 itself.
  return lowest_equivalent(value) + (range_size(value) - 1);
}

std::int64_t Histogram::median_equivalent(std::int64_t value) const noexcept {
  return lowest_equivalent(value) + (range_size(value) >> 1);
}

// The loop reads the parameters once and keeps them in registers. (Until 2026-12-02 it was
// also built a second time for x86-64-v3 by GCC function multi-versioning, for LZCNT; with
// detail::top_bit's scan that clone gained 0.02-0.04 ns a value, ~2 %, and was dropped with
// its load-time resolver, docs/performance.md §1.)
std::size_t Histogram::record(std::span<const std::int64_t> values) noexcept {
  const std::uint64_t mask = sub_bucket_mask_;
  const std::uint64_t max_value = max_recordable_;
  const int h = sub_bucket_half_count_magnitude_;
  const std::int64_t offset = index_offset_;
  const std::uint64_t fixup = scan_fixup_;
  std::uint64_t* __restrict counts = counts_.data();
  Touched* __restrict touched = touched_.data();
  std::size_t rejected = 0;
  for (const std::int64_t value : values) {
    const auto v = static_cast<std::uint64_t>(value);
    if (v > max_value) [[unlikely]] {
      ++rejected;
      continue;
    }
    const std::uint64_t e = detail::top_bit(v | mask, fixup);
    const auto index = static_cast<std::size_t>((e << h) + (v >> (e - static_cast<std::uint64_t>(h))) +
                                                static_cast<std::uint64_t>(offset));
    const std::uint64_t before = counts[index];
    counts[index] = before + 1;
    if (before == 0) [[unlikely]]
      touched[index >> kBlockShift] = Touched::yes;
  }
  out_of_range_ += rejected;
  return values.size() - rejected;
}

void Histogram::merge(const Histogram& other) {
  if (other.lowest_ != lowest_ || other.highest_ != highest_ || other.digits_ != digits_)
    throw InputError("histogram: cannot merge histograms with different ranges or digits");
  // Only the source's touched blocks: a latency histogram's counts sit in a few of its blocks.
  std::uint64_t* __restrict dst = counts_.data();
  const std::uint64_t* __restrict src = other.counts_.data();
  const std::size_t n = counts_.size();
  for (std::size_t b = 0; b < touched_.size(); ++b) {
    if (other.touched_[b] == Touched::no) continue;
    touched_[b] = Touched::yes;
    const std::size_t end = std::min(n, (b + 1) << kBlockShift);
    for (std::size_t i = b << kBlockShift; i < end; ++i) dst[i] += src[i];
  }
  out_of_range_ += other.out_of_range_;
}

void Histogram::reset() noexcept {
  const std::size_t n = counts_.size();
  for (std::size_t b = 0; b < touched_.size(); ++b) {
    if (touched_[b] == Touched::no) continue;
    const std::size_t begin = b << kBlockShift;
    std::fill(counts_.begin() + static_cast<std::ptrdiff_t>(begin),
              counts_.begin() + static_cast<std::ptrdiff_t>(std::min(n, begin + (std::size_t{1} << kBlockShift))), 0);
    touched_[b] = Touched::no;
  }
  out_of_range_ = 0;
}

std::int64_t Histogram::min() const noexcept {
  const std::size_t i = first_nonzero();
  return i < counts_.size() ? lowest_equivalent(value_from_index(i)) : 0;
}

std::int64_t Histogram::max() const noexcept {
  const std::size_t i = last_nonzero();
  return i < counts_.size() ? highest_equivalent(value_from_index(i)) : 0;
}

double Histogram::mean() const noexcept {
  std::uint64_t total = 0;
  long double sum = 0;
  for_each_nonzero([&](std::size_t i, std::uint64_t c) {
    total += c;
    sum += static_cast<long double>(median_equivalent(value_from_index(i))) * c;
    return true;
  });
  return total ? static_cast<double>(sum / static_cast<long double>(total)) : 0.0;
}

double Histogram::stddev() const noexcept {
  const std::uint64_t total = count();
  if (total == 0) return 0;
  const long double m = mean();
  long double ss = 0;
  for_each_nonzero([&](std::size_t i, std::uint64_t c) {
    const long double d = static_cast<long double>(median_equivalent(value_from_index(i))) - m;
    ss += d * d * c;
    return true;
  });
  return static_cast<double>(std::sqrt(ss / static_cast<long double>(total)));
}

double Histogram::value_at_percentile(double p) const {
  if (!(p >= 0.0 && p <= 100.0)) throw InputError("percentile must be in [0, 100]");
  const std::uint64_t total = count();
  if (total == 0) return 0;
  const double rank = p / 100.0 * static_cast<double>(total - 1);
  const auto k = static_cast<std::uint64_t>(std::floor(rank));
  const double frac = rank - static_cast<double>(k);
  // Find the buckets holding order statistics k and k+1 (0-based).
  std::uint64_t seen = 0;
  double lower = 0, upper = 0;
  bool have_lower = false;
  for_each_nonzero([&](std::size_t i, std::uint64_t c) {
    seen += c;
    const double mid = static_cast<double>(median_equivalent(value_from_index(i)));
    if (!have_lower && seen > k) {
      lower = mid;
      have_lower = true;
    }
    if (seen > k + 1 || (have_lower && k + 1 >= total)) {
      upper = mid;
      return false;
    }
    return true;
  });
  return lower + frac * (upper - lower);
}

std::vector<Histogram::Bucket> Histogram::nonempty_buckets() const {
  std::vector<Bucket> out;
  for_each_nonzero([&](std::size_t i, std::uint64_t c) {
    const std::int64_t v = value_from_index(i);
    out.push_back({lowest_equivalent(v), highest_equivalent(v), c});
    return true;
  });
  return out;
}

bool Histogram::operator==(const Histogram& o) const noexcept {
  return lowest_ == o.lowest_ && highest_ == o.highest_ && digits_ == o.digits_ &&
         out_of_range_ == o.out_of_range_ && counts_ == o.counts_;
}

// Encoding: "TQH1:" + base64( varint lowest, varint highest, varint digits,
// varint out_of_range, varint counts_len, then zig-zag counts/zero-runs ).
std::string Histogram::encode() const {
  std::string bytes;
  varint::put_unsigned(bytes, static_cast<std::uint64_t>(lowest_));
  varint::put_unsigned(bytes, static_cast<std::uint64_t>(highest_));
  varint::put_unsigned(bytes, static_cast<std::uint64_t>(digits_));
  varint::put_unsigned(bytes, out_of_range_);
  // Only up to the last non-empty bucket; decode pads the rest with zeros.
  const std::size_t last = last_nonzero();
  const std::size_t used = last < counts_.size() ? last + 1 : 0;
  varint::put_unsigned(bytes, used);
  for (std::size_t i = 0; i < used;) {
    if (counts_[i] == 0) {
      std::size_t run = 0;
      while (i < used && counts_[i] == 0) ++run, ++i;
      varint::put_signed(bytes, -static_cast<std::int64_t>(run));
    } else {
      if (counts_[i] > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        throw Error("histogram: count too large to encode");
      varint::put_signed(bytes, static_cast<std::int64_t>(counts_[i]));
      ++i;
    }
  }
  return "TQH1:" + varint::base64_encode(bytes);
}

Histogram Histogram::decode(std::string_view text) {
  constexpr std::string_view kPrefix = "TQH1:";
  if (text.substr(0, kPrefix.size()) != kPrefix)
    throw InputError("histogram: encoding does not start with 'TQH1:'");
  const std::string bytes = varint::base64_decode(text.substr(kPrefix.size()));
  varint::Reader r(bytes);
  const std::uint64_t lowest = r.get_unsigned();
  const std::uint64_t highest = r.get_unsigned();
  const std::uint64_t digits = r.get_unsigned();
  if (lowest > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
      highest > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) || digits > 5)
    throw InputError("histogram: parameters out of range");
  Histogram h(static_cast<std::int64_t>(lowest), static_cast<std::int64_t>(highest),
              static_cast<int>(digits));
  h.out_of_range_ = r.get_unsigned();
  const std::uint64_t used = r.get_unsigned();
  if (used > h.counts_.size()) throw InputError("histogram: more buckets than the range allows");
  std::size_t i = 0;
  std::uint64_t total = 0;
  while (i < used) {
    const std::int64_t v = r.get_signed();
    if (v < 0) {
      const auto run = static_cast<std::uint64_t>(-(v + 1)) + 1;
      if (run > used - i) throw InputError("histogram: zero run past the last bucket");
      i += run;
    } else if (v == 0) {
      throw InputError("histogram: zero count outside a run");
    } else {
      if (total > std::numeric_limits<std::uint64_t>::max() - static_cast<std::uint64_t>(v))
        throw InputError("histogram: total count overflows");
      total += static_cast<std::uint64_t>(v);
      h.touched_[i >> kBlockShift] = Touched::yes;
      h.counts_[i++] = static_cast<std::uint64_t>(v);
    }
  }
  if (!r.at_end()) throw InputError("histogram: trailing bytes after the last bucket");
  return h;
}

}  // namespace trackiq
