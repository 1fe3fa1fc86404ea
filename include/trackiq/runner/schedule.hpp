#pragma once
// Arrival schedules for the server scenario (RUN-3): pre-generated from a logged seed so a
// run can be repeated query for query.
#include <cstdint>
#include <vector>

namespace trackiq::runner {

// Poisson arrivals at `qps` (exponential inter-arrival gaps), as offsets in ns from the start
// of the measured phase; the first arrival is at 0. Generates until at least `min_count`
// arrivals AND the last offset is >= `min_duration_ns`, capped at `max_count`.
// Same (qps, seed, ...) → the same schedule on every platform (mt19937_64 and an explicit
// inverse-CDF draw, not std::exponential_distribution, whose algorithm is unspecified).
std::vector<std::int64_t> poisson_schedule(double qps, std::uint64_t seed, std::uint64_t min_count,
                                           std::int64_t min_duration_ns, std::uint64_t max_count);

}  // namespace trackiq::runner
