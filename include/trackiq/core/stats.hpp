#pragma once
// Exact statistics over int64 nanosecond samples (SPEC §0.2–0.3).
//
// Percentiles use linear interpolation between closest ranks — numpy's default
// (`method="linear"`), pandas' `quantile` default — so users can cross-check:
//   rank = p/100 * (n - 1);  value = x[floor(rank)] + frac(rank) * (x[ceil(rank)] - x[floor(rank)])
// Standard deviation is the population std (ddof = 0) unless a name says otherwise.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace trackiq {

struct Percentile {
  double p = 0;      // in [0, 100]
  double value = 0;  // same unit as the samples
};

struct SampleSummary {
  std::uint64_t count = 0;
  std::int64_t min = 0;
  std::int64_t max = 0;
  double mean = 0;
  double std = 0;  // population standard deviation
  double cv = 0;   // std / mean; 0 when mean == 0
  std::vector<Percentile> percentiles;
};

// The percentiles every latency summary carries: p50, p90, p95, p99, p99.9.
std::span<const double> standard_percentiles() noexcept;

// Exact percentiles of `samples` (any order; not modified). `ps` in [0, 100], any order;
// the result is in the order of `ps`. Empty samples → InputError. O(n) without copying the
// input: usually one streaming pass (detail::exact_percentiles_sampled), else the three-pass
// bucket select (detail::exact_percentiles_bucket); below 4096 samples, copy + nth_element.
std::vector<Percentile> exact_percentiles(std::span<const std::int64_t> samples,
                                          std::span<const double> ps);

// Same result by successive nth_element over `scratch`, which is reordered in place.
std::vector<Percentile> exact_percentiles_inplace(std::span<std::int64_t> scratch,
                                                  std::span<const double> ps);

// The two large-input paths of exact_percentiles, public for the tests and benchmarks.
namespace detail {
enum class ScanKernel { automatic, portable };  // automatic: AVX2 where the CPU has it
struct SampleSelectOptions {
  std::size_t sample_size = 0;  // 0: n / 64 (at most one sample per 64 values)
  double margin_sigmas = 4.5;   // bracket half-width, in standard deviations of a sample rank
  ScanKernel kernel = ScanKernel::automatic;
};
// Sample select: a stratified sample brackets each needed rank by a value interval; one pass
// counts the samples below and above each interval and copies those inside; selection inside
// the copies. Exact. nullopt when a bracket misses its rank (the counts prove it), or the
// requested percentiles need more than 12 separate brackets or would copy more than a quarter
// of the input (many close percentiles).
std::optional<std::vector<Percentile>> exact_percentiles_sampled(std::span<const std::int64_t> samples,
                                                                 std::span<const double> ps,
                                                                 const SampleSelectOptions& options = {});
// Bucket select: minimum, log-linear bucket counts, gather of the buckets that hold the needed
// ranks, selection inside them. Exact; three passes whatever the input order.
std::vector<Percentile> exact_percentiles_bucket(std::span<const std::int64_t> samples,
                                                 std::span<const double> ps);
bool avx2_scan_available() noexcept;
}  // namespace detail

// count, min, max, mean, population std, CV and the requested percentiles, exactly.
// Mean and variance are accumulated in long double from the exact integers.
SampleSummary summarize(std::span<const std::int64_t> samples,
                        std::span<const double> ps = standard_percentiles());

// Distribution-free confidence interval of the p-th percentile (p in [0, 100]) of n samples:
// 0-based ranks into the sorted samples, lo = floor(np − z·√(np(1−p))) and
// hi = ceil(np + z·√(np(1−p))), clamped to [0, n−1] — the order-statistic interval with the
// normal approximation of Binomial(n, p) (Conover, Practical Nonparametric Statistics, §3.2).
// z = 1.96: 95 %. n must be > 0 (InputError otherwise).
struct RankInterval {
  std::size_t lo = 0;
  std::size_t hi = 0;
};
RankInterval percentile_ci_ranks(std::uint64_t n, double p, double z = 1.959963984540054);

// Welford's online mean/variance, for streams that are not kept.
class RunningStats {
 public:
  void add(double x) noexcept;
  void merge(const RunningStats& other) noexcept;
  std::uint64_t count() const noexcept { return n_; }
  double mean() const noexcept { return n_ ? mean_ : 0.0; }
  double variance_population() const noexcept { return n_ ? m2_ / static_cast<double>(n_) : 0.0; }
  double variance_sample() const noexcept { return n_ > 1 ? m2_ / static_cast<double>(n_ - 1) : 0.0; }
  double min() const noexcept { return min_; }
  double max() const noexcept { return max_; }

 private:
  std::uint64_t n_ = 0;
  double mean_ = 0;
  double m2_ = 0;
  double min_ = 0;
  double max_ = 0;
};

}  // namespace trackiq
