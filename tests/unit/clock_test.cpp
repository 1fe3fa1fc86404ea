#include <gtest/gtest.h>

#include "trackiq/core/clock.hpp"

namespace trackiq {
namespace {

TEST(Clock, NowIsMonotonic) {
  std::int64_t prev = now_ns();
  for (int i = 0; i < 10000; ++i) {
    const std::int64_t t = now_ns();
    ASSERT_GE(t, prev);
    prev = t;
  }
}

TEST(ParseDuration, AcceptsEveryUnitAndPlainSeconds) {
  EXPECT_EQ(parse_duration_ns("250ms"), 250'000'000);
  EXPECT_EQ(parse_duration_ns("2s"), 2'000'000'000);
  EXPECT_EQ(parse_duration_ns("30"), 30'000'000'000);
  EXPECT_EQ(parse_duration_ns("1.5m"), 90'000'000'000);
  EXPECT_EQ(parse_duration_ns("100us"), 100'000);
  EXPECT_EQ(parse_duration_ns("7ns"), 7);
  EXPECT_EQ(parse_duration_ns("1h"), 3'600'000'000'000);
  EXPECT_EQ(parse_duration_ns("0"), 0);
}

TEST(ParseDuration, RejectsMalformedInput) {
  for (const char* bad : {"", "ms", "abc", "-1s", "10 s", "5parsecs", "1e300h", "nan"}) {
    EXPECT_FALSE(parse_duration_ns(bad).has_value()) << bad;
  }
}

TEST(FormatDuration, PicksAUnitWithFourSignificantDigits) {
  EXPECT_EQ(format_duration_ns(950), "950 ns");
  EXPECT_EQ(format_duration_ns(1'234'567), "1.235 ms");
  EXPECT_EQ(format_duration_ns(61e9), "61.00 s");
  EXPECT_EQ(format_duration_ns(12'345), "12.35 us");
}

TEST(UtcTimestamp, IsIso8601WithMilliseconds) {
  const std::string t = utc_timestamp_now();
  ASSERT_EQ(t.size(), 24u) << t;
  EXPECT_EQ(t[4], '-');
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t[19], '.');
  EXPECT_EQ(t.back(), 'Z');
}

}  // namespace
}  // namespace trackiq
