#include "trackiq/core/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "trackiq/core/error.hpp"

namespace trackiq {

namespace {
constexpr double kStandard[] = {50.0, 90.0, 95.0, 99.0, 99.9};
}

std::span<const double> standard_percentiles() noexcept { return kStandard; }

RankInterval percentile_ci_ranks(std::uint64_t n, double p, double z) {
  if (n == 0) throw InputError("percentile confidence interval of an empty sample set");
  if (!(p >= 0.0 && p <= 100.0) || !(z >= 0.0)) throw InputError("percentile confidence interval: p must be in [0, 100], z >= 0");
  const double q = p / 100.0;
  const double nd = static_cast<double>(n);
  const double centre = nd * q;
  const double half = z * std::sqrt(nd * q * (1.0 - q));
  const double last = nd - 1.0;
  const double lo = std::clamp(std::floor(centre - half), 0.0, last);
  const double hi = std::clamp(std::ceil(centre + half), 0.0, last);
  return {static_cast<std::size_t>(lo), static_cast<std::size_t>(hi)};
}

std::vector<Percentile> exact_percentiles_inplace(std::span<std::int64_t> data,
                                                  std::span<const double> ps) {
  if (data.empty()) throw InputError("percentile of an empty sample set");
  const std::size_t n = data.size();
  // Visit the requested percentiles in ascending order so each nth_element works on the
  // part of the array above the previous rank: total work stays O(n) expected.
  std::vector<std::size_t> order(ps.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  for (double p : ps) {
    if (!(p >= 0.0 && p <= 100.0)) throw InputError("percentile must be in [0, 100]");
  }
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ps[a] < ps[b]; });

  std::vector<Percentile> out(ps.size());
  std::size_t lo_bound = 0;  // data[0, lo_bound) holds only values <= data[lo_bound]
  for (std::size_t i : order) {
    const double rank = ps[i] / 100.0 * static_cast<double>(n - 1);
    const auto k = static_cast<std::size_t>(std::floor(rank));
    const double frac = rank - static_cast<double>(k);
    auto kth = data.begin() + static_cast<std::ptrdiff_t>(k);
    if (k >= lo_bound) {
      std::nth_element(data.begin() + static_cast<std::ptrdiff_t>(lo_bound), kth, data.end());
      lo_bound = k;
    }
    const double lower = static_cast<double>(*kth);
    double value = lower;
    if (frac > 0.0 && k + 1 < n) {
      // The (k+1)-th order statistic is the minimum of everything right of k.
      const double upper = static_cast<double>(*std::min_element(kth + 1, data.end()));
      value = lower + frac * (upper - lower);
    }
    out[i] = Percentile{ps[i], value};
  }
  return out;
}

namespace {

// Order-preserving log-linear bucket of a non-negative key: exact below 1024, then 512
// sub-buckets per power of two (~0.2 % wide). 1024 + 54 * 512 buckets cover 64-bit keys.
constexpr int kLinearBits = 10;
constexpr std::size_t kLinear = std::size_t{1} << kLinearBits;
constexpr int kSubBits = 9;
constexpr std::size_t kBuckets = kLinear + (64 - kLinearBits) * (std::size_t{1} << kSubBits);

inline std::size_t key_bucket(std::uint64_t key) noexcept {
  if (key < kLinear) return static_cast<std::size_t>(key);
  const int e = 63 - __builtin_clzll(key);  // >= kLinearBits
  const std::uint64_t top = key >> (e - kSubBits);  // in [512, 1023]
  return kLinear + static_cast<std::size_t>(e - kLinearBits) * (std::size_t{1} << kSubBits) +
         static_cast<std::size_t>(top - (std::uint64_t{1} << kSubBits));
}

}  // namespace

// Bucket select, without copying the input: pass 1 finds the minimum, pass 2 counts keys
// (x - min) per log-linear bucket, a prefix sum locates the bucket of every rank needed, pass 3
// gathers only those buckets' values, and nth_element finishes inside them. Exact; O(n).
std::vector<Percentile> exact_percentiles(std::span<const std::int64_t> samples, std::span<const double> ps) {
  if (samples.empty()) throw InputError("percentile of an empty sample set");
  for (double p : ps) {
    if (!(p >= 0.0 && p <= 100.0)) throw InputError("percentile must be in [0, 100]");
  }
  const std::size_t n = samples.size();
  if (n < 4096) {  // small: a copy and selection is cheaper than three passes
    std::vector<std::int64_t> scratch(samples.begin(), samples.end());
    return exact_percentiles_inplace(scratch, ps);
  }
  const std::int64_t min = *std::min_element(samples.begin(), samples.end());
  const auto key = [min](std::int64_t x) { return static_cast<std::uint64_t>(x) - static_cast<std::uint64_t>(min); };

  std::vector<std::uint32_t> counts(kBuckets, 0);
  if (n > UINT32_MAX) {  // counts would overflow: fall back
    std::vector<std::int64_t> scratch(samples.begin(), samples.end());
    return exact_percentiles_inplace(scratch, ps);
  }
  for (std::int64_t x : samples) ++counts[key_bucket(key(x))];

  // Ranks needed: floor and floor+1 of each interpolation point.
  struct Need {
    std::size_t rank;
    std::size_t bucket = 0;
    std::size_t rank_in_bucket = 0;
  };
  std::vector<Need> needs;
  for (double p : ps) {
    const auto k = static_cast<std::size_t>(std::floor(p / 100.0 * static_cast<double>(n - 1)));
    needs.push_back({k});
    if (k + 1 < n) needs.push_back({k + 1});
  }
  std::vector<std::size_t> order(needs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return needs[a].rank < needs[b].rank; });
  std::size_t bucket = 0, before = 0;  // `before`: samples in buckets < bucket
  for (std::size_t i : order) {
    while (before + counts[bucket] <= needs[i].rank) before += counts[bucket++];
    needs[i].bucket = bucket;
    needs[i].rank_in_bucket = needs[i].rank - before;
  }

  // Gather the values of the needed buckets only.
  std::vector<std::int32_t> slot_of(kBuckets, -1);
  std::vector<std::vector<std::int64_t>> gathered;
  for (auto& nd : needs) {
    if (slot_of[nd.bucket] < 0) {
      slot_of[nd.bucket] = static_cast<std::int32_t>(gathered.size());
      gathered.emplace_back();
      gathered.back().reserve(counts[nd.bucket]);
    }
  }
  for (std::int64_t x : samples) {
    const std::int32_t slot = slot_of[key_bucket(key(x))];
    if (slot >= 0) gathered[static_cast<std::size_t>(slot)].push_back(x);
  }
  auto value_at = [&](const Need& nd) {
    auto& g = gathered[static_cast<std::size_t>(slot_of[nd.bucket])];
    auto it = g.begin() + static_cast<std::ptrdiff_t>(nd.rank_in_bucket);
    std::nth_element(g.begin(), it, g.end());
    return static_cast<double>(*it);
  };

  std::vector<Percentile> out;
  std::size_t ni = 0;
  for (double p : ps) {
    const double rank = p / 100.0 * static_cast<double>(n - 1);
    const auto k = static_cast<std::size_t>(std::floor(rank));
    const double frac = rank - static_cast<double>(k);
    const double lower = value_at(needs[ni++]);
    double value = lower;
    if (k + 1 < n) {
      const double upper = value_at(needs[ni++]);
      if (frac > 0.0) value = lower + frac * (upper - lower);
    }
    out.push_back({p, value});
  }
  return out;
}

SampleSummary summarize(std::span<const std::int64_t> samples, std::span<const double> ps) {
  SampleSummary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  const auto [mn, mx] = std::minmax_element(samples.begin(), samples.end());
  s.min = *mn;
  s.max = *mx;
  long double sum = 0;
  for (std::int64_t x : samples) sum += static_cast<long double>(x);
  const long double mean = sum / static_cast<long double>(samples.size());
  long double ss = 0;
  for (std::int64_t x : samples) {
    const long double d = static_cast<long double>(x) - mean;
    ss += d * d;
  }
  s.mean = static_cast<double>(mean);
  s.std = static_cast<double>(std::sqrt(ss / static_cast<long double>(samples.size())));
  s.cv = s.mean != 0.0 ? s.std / s.mean : 0.0;
  s.percentiles = exact_percentiles(samples, ps);
  return s;
}

void RunningStats::add(double x) noexcept {
  ++n_;
  if (n_ == 1) {
    min_ = max_ = x;
  } else {
    min_ = std::min(min_, x);
    max_ = std::max(max_, x);
  }
  const double delta = x - mean_;
  mean_ += delta / static_cast<double>(n_);
  m2_ += delta * (x - mean_);
}

void RunningStats::merge(const RunningStats& o) noexcept {
  if (o.n_ == 0) return;
  if (n_ == 0) {
    *this = o;
    return;
  }
  const double n = static_cast<double>(n_ + o.n_);
  const double delta = o.mean_ - mean_;
  m2_ += o.m2_ + delta * delta * static_cast<double>(n_) * static_cast<double>(o.n_) / n;
  mean_ += delta * static_cast<double>(o.n_) / n;
  n_ += o.n_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

}  // namespace trackiq
