#include <gtest/gtest.h>

#include <cmath>

#include "trackiq/core/error.hpp"
#include "trackiq/runner/schedule.hpp"

namespace trackiq::runner {
namespace {

TEST(PoissonSchedule, IsReproducibleFromItsSeed) {
  EXPECT_EQ(poisson_schedule(100, 42, 1000, 0, 1'000'000), poisson_schedule(100, 42, 1000, 0, 1'000'000));
  EXPECT_NE(poisson_schedule(100, 42, 1000, 0, 1'000'000), poisson_schedule(100, 43, 1000, 0, 1'000'000));
}

TEST(PoissonSchedule, StartsAtZeroAndNeverGoesBack) {
  const auto s = poisson_schedule(1000, 1, 5000, 0, 1'000'000);
  ASSERT_EQ(s.size(), 5000u);
  EXPECT_EQ(s[0], 0);
  for (std::size_t i = 1; i < s.size(); ++i) ASSERT_GE(s[i], s[i - 1]);
}

TEST(PoissonSchedule, HasTheRequestedRateAndExponentialGaps) {
  const double qps = 250;
  const auto s = poisson_schedule(qps, 7, 40'000, 0, 1'000'000);
  const double rate = static_cast<double>(s.size() - 1) / (static_cast<double>(s.back()) / 1e9);
  EXPECT_NEAR(rate, qps, qps * 0.03);
  // Exponential gaps: coefficient of variation 1.
  double mean = 0, m2 = 0;
  for (std::size_t i = 1; i < s.size(); ++i) mean += static_cast<double>(s[i] - s[i - 1]);
  mean /= static_cast<double>(s.size() - 1);
  for (std::size_t i = 1; i < s.size(); ++i) m2 += std::pow(static_cast<double>(s[i] - s[i - 1]) - mean, 2);
  const double cv = std::sqrt(m2 / static_cast<double>(s.size() - 1)) / mean;
  EXPECT_NEAR(cv, 1.0, 0.05);
}

TEST(PoissonSchedule, MeetsBothMinimumsAndTheCap) {
  const auto by_time = poisson_schedule(100, 3, 1, 2'000'000'000, 1'000'000);
  EXPECT_GE(by_time.back(), 2'000'000'000);
  EXPECT_LT(by_time.size(), 300u);
  const auto by_count = poisson_schedule(100, 3, 500, 1'000'000, 1'000'000);
  EXPECT_EQ(by_count.size(), 500u);
  EXPECT_EQ(poisson_schedule(100, 3, 500, 0, 50).size(), 50u);
}

TEST(PoissonSchedule, RejectsNonPositiveRates) {
  EXPECT_THROW(poisson_schedule(0, 1, 1, 0, 10), InputError);
  EXPECT_THROW(poisson_schedule(-5, 1, 1, 0, 10), InputError);
  EXPECT_THROW(poisson_schedule(std::nan(""), 1, 1, 0, 10), InputError);
}

}  // namespace
}  // namespace trackiq::runner
