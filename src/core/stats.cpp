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

std::vector<Percentile> exact_percentiles(std::span<const std::int64_t> samples,
                                          std::span<const double> ps) {
  std::vector<std::int64_t> scratch(samples.begin(), samples.end());
  return exact_percentiles_inplace(scratch, ps);
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
