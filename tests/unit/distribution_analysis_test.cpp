// `analyze latency` and `analyze variability` against hand computations.
#include <gtest/gtest.h>

#include <cmath>

#include "trackiq/analysis/distribution_analysis.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::analysis {
namespace {

TEST(PercentileOfSorted, IsNumpysLinearMethod) {
  const std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(percentile_of_sorted(v, 50), 2.5);   // numpy.percentile([1,2,3,4], 50)
  EXPECT_DOUBLE_EQ(percentile_of_sorted(v, 90), 3.7);   // rank 2.7
  EXPECT_DOUBLE_EQ(percentile_of_sorted(v, 0), 1);
  EXPECT_DOUBLE_EQ(percentile_of_sorted(v, 100), 4);
  EXPECT_TRUE(std::isnan(percentile_of_sorted({}, 50)));
}

TEST(AnalyzeLatency, SummarisesTheColumnAndEachGroup) {
  const auto a = analyze_latency_csv("endpoint,ms,status\n"
                                     "/a,10,200\n"
                                     "/b,100,200\n"
                                     "\n"
                                     "/a,20,200\n"
                                     "\"/b\",300,500\n"
                                     "/a,30,200\n",
                                     "lat.csv", "ms", "endpoint");
  EXPECT_EQ(a.all.count, 5u);
  EXPECT_DOUBLE_EQ(a.all.mean, 92);
  EXPECT_DOUBLE_EQ(a.all.percentiles[0], 30);  // median of 10 20 30 100 300
  ASSERT_EQ(a.groups.size(), 2u);
  EXPECT_EQ(a.groups[0].group, "/a");
  EXPECT_EQ(a.groups[0].count, 3u);
  EXPECT_DOUBLE_EQ(a.groups[0].mean, 20);
  EXPECT_DOUBLE_EQ(a.groups[0].cv, 0.5);                // sample std 10 / mean 20
  EXPECT_NEAR(a.groups[0].percentiles[1], 28, 1e-12);  // p90: rank 1.8 -> 20 + 0.8 x 10
  EXPECT_EQ(a.groups[1].group, "/b");
  EXPECT_DOUBLE_EQ(a.groups[1].max, 300);
}

TEST(AnalyzeLatency, BadInputNamesTheFileAndLine) {
  const auto line_of = [](const char* text, const char* column, const char* group) {
    try {
      analyze_latency_csv(text, "f.csv", column, group);
    } catch (const InputError& e) {
      return std::make_pair(e.line(), std::string(e.what()));
    }
    return std::make_pair(std::uint64_t{0}, std::string("no error"));
  };
  auto [l1, m1] = line_of("a,b\n1,2\n", "ms", "");
  EXPECT_EQ(l1, 1u);
  EXPECT_NE(m1.find("no column 'ms' (columns: a, b)"), std::string::npos) << m1;
  auto [l2, m2] = line_of("a,ms\n1,2\n3,fast\n", "ms", "");
  EXPECT_EQ(l2, 3u);
  EXPECT_NE(m2.find("'fast' in column 'ms' is not a finite number"), std::string::npos) << m2;
  auto [l3, m3] = line_of("a,ms\n1,nan\n", "ms", "");
  EXPECT_EQ(l3, 2u) << m3;
  auto [l4, m4] = line_of("a,ms\n1\n", "ms", "");
  EXPECT_EQ(l4, 2u) << m4;
  auto [l5, m5] = line_of("a,ms\n", "ms", "");
  EXPECT_NE(m5.find("no data rows"), std::string::npos) << m5;
  auto [l6, m6] = line_of("a,ms\n1,2\n", "ms", "host");
  EXPECT_NE(m6.find("no column 'host' to group by"), std::string::npos) << m6;
}

TEST(AnalyzeVariability, JitterCvIqrOutliersAndRating) {
  const std::vector<double> v = {10, 10, 10, 10, 30};
  const auto r = analyze_variability(v, 1.0);
  EXPECT_DOUBLE_EQ(r.mean, 14);
  EXPECT_NEAR(r.stddev, std::sqrt(80.0), 1e-12);  // (4 x 16 + 256) / 4
  EXPECT_NEAR(r.cv, std::sqrt(80.0) / 14, 1e-12);
  EXPECT_DOUBLE_EQ(r.jitter, 5);  // (0 + 0 + 0 + 20) / 4
  EXPECT_DOUBLE_EQ(r.iqr, 0);
  ASSERT_EQ(r.outliers.size(), 1u);
  EXPECT_EQ(r.outliers[0], 4u);
  EXPECT_EQ(r.rating, "high variability");
  EXPECT_TRUE(analyze_variability(v, 3.0).outliers.empty());

  const std::vector<double> steady = {100, 101, 99, 100, 102, 98};
  EXPECT_EQ(analyze_variability(steady).rating, "very consistent");
  const std::vector<double> moderate = {100, 125, 75, 100, 130, 70};  // cv ~0.23
  EXPECT_EQ(analyze_variability(moderate).rating, "moderate");
  EXPECT_EQ(analyze_variability(std::vector<double>{1, 2}).rating, "insufficient data");
  EXPECT_THROW(analyze_variability(v, 0), InputError);
}

}  // namespace
}  // namespace trackiq::analysis
