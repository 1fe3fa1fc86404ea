#pragma once
// ln|Γ(x)| without a data race: std::lgamma writes the global `signgam`, so two threads comparing
// at once (trackiq serve's /compare) race on it (found by TSan). lgamma_r returns the sign instead.
#include <math.h>

namespace trackiq::analysis {

inline double log_gamma(double x) noexcept {
  int sign = 0;
  return ::lgamma_r(x, &sign);
}

}  // namespace trackiq::analysis
