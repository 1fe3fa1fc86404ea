#include "trackiq/runner/schedule.hpp"

#include <cmath>
#include <random>

#include "trackiq/core/error.hpp"

namespace trackiq::runner {

std::vector<std::int64_t> poisson_schedule(double qps, std::uint64_t seed, std::uint64_t min_count,
                                           std::int64_t min_duration_ns, std::uint64_t max_count) {
  if (!(qps > 0) || !std::isfinite(qps)) throw InputError("--qps must be a positive number");
  std::mt19937_64 rng(seed);
  const double mean_gap_ns = 1e9 / qps;
  std::vector<std::int64_t> out;
  double t = 0;
  while (out.size() < max_count) {
    out.push_back(static_cast<std::int64_t>(std::llround(t)));
    if (out.size() >= min_count && out.back() >= min_duration_ns) break;
    // Inverse CDF on a 53-bit uniform in (0, 1]: platform-independent.
    const double u = (static_cast<double>(rng() >> 11) + 1.0) * 0x1.0p-53;
    t += -std::log(u) * mean_gap_ns;
  }
  return out;
}

}  // namespace trackiq::runner
