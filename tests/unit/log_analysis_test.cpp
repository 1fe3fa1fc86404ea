// `analyze logs` (ANA-6): values by an RE2 pattern, units, the trailing-median spike rule.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trackiq/analysis/log_analysis.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::analysis {
namespace {

LogOptions preset(const char* name) {
  const LogPreset* p = log_preset(name);
  EXPECT_NE(p, nullptr) << name;
  LogOptions o;
  o.pattern = std::string(p->pattern);
  o.unit = std::string(p->unit);
  return o;
}

std::string error_of(const std::string& text, const LogOptions& o) {
  try {
    analyze_log(text, "x.log", o);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(LogAnalysis, TookLinesInEveryUnitBecomeMilliseconds) {
  const std::string log =
      "boot\n"
      "request 1 took 12 ms\n"
      "request 2 Took 1.5s\n"
      "noise took forever\n"
      "request 3 took 250 us\r\n"
      "request 4 took: 3000000 ns\n"
      "request 5 took 2 seconds";
  const auto a = analyze_log(log, "x.log", preset("took"));
  EXPECT_EQ(a.lines, 7u);
  EXPECT_EQ(a.matched, 5u);
  EXPECT_EQ(a.first_match_line, 2u);
  EXPECT_EQ(a.values_ms, (std::vector<double>{12, 1500, 0.25, 3, 2000}));
  EXPECT_DOUBLE_EQ(a.max_ms, 2000);
  EXPECT_DOUBLE_EQ(a.percentiles_ms[0], 12);  // median of {0.25, 3, 12, 1500, 2000}
}

TEST(LogAnalysis, NginxAndEnvoyPresetsReadTheirFields) {
  const std::string rt =
      R"(10.0.0.7 - - [02/Dec/2026:07:00:00 +0000] "GET /v1/models HTTP/1.1" 200 612 "-" "curl/7.88.1" rt=0.123 uct="0.000" uht="0.120" urt="0.121")"
      "\n";
  EXPECT_EQ(analyze_log(rt, "a.log", preset("nginx-rt")).values_ms, std::vector<double>{123});
  const std::string last = R"(10.0.0.7 - - [02/Dec/2026:07:00:01 +0000] "POST /v1/chat HTTP/1.1" 200 1024 "-" "python" 0.045)"
                           "\n";
  EXPECT_EQ(analyze_log(last, "a.log", preset("nginx-last")).values_ms, std::vector<double>{45});
  const std::string envoy =
      R"([2026-12-02T07:00:00.000Z] "GET /api HTTP/1.1" 200 - 0 15 23 22 "-" "curl/7.88.1" "9a1c" "svc" "10.0.0.1:80")"
      "\n";
  EXPECT_EQ(analyze_log(envoy, "a.log", preset("envoy")).values_ms, std::vector<double>{23});
  const std::string kv = "x latency=12.5ms\ny duration: 0.5 s\nz elapsed=7\n";
  EXPECT_EQ(analyze_log(kv, "a.log", preset("latency")).values_ms, (std::vector<double>{12.5, 500, 7}));
}

// The spike rule against a brute-force reference: value > k × median of the previous W values,
// once at least min_window values precede it; and the threshold rule.
TEST(LogAnalysis, SpikesMatchABruteForceTrailingMedian) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(3.0, 0.4);
  std::vector<double> v(3000);
  for (auto& x : v) x = std::round(d(rng) * 100) / 100;
  for (std::size_t i : {100u, 101u, 777u, 2999u}) v[i] *= 20;
  std::string log;
  for (std::size_t i = 0; i < v.size(); ++i) log += fmt::format("req {} took {} ms\n", i, v[i]);
  LogOptions o = preset("took");
  o.window = 25;
  o.k = 4;
  o.threshold_ms = 600;
  o.top = 1000;
  const auto a = analyze_log(log, "x.log", o);
  ASSERT_EQ(a.values_ms.size(), v.size());
  std::vector<std::uint64_t> want;
  std::uint64_t want_ratio = 0, want_threshold = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    bool ratio = false;
    if (i >= 10) {
      std::vector<double> w(v.begin() + static_cast<std::ptrdiff_t>(i - std::min<std::size_t>(i, 25)), v.begin() + static_cast<std::ptrdiff_t>(i));
      std::sort(w.begin(), w.end());
      const double med = w.size() % 2 ? w[w.size() / 2] : 0.5 * (w[w.size() / 2 - 1] + w[w.size() / 2]);
      ratio = v[i] > 4 * med;
    }
    const bool thr = v[i] > 600;
    want_ratio += ratio;
    want_threshold += thr;
    if (ratio || thr) want.push_back(i + 1);
  }
  std::vector<std::uint64_t> got;
  for (const auto& s : a.top_spikes) got.push_back(s.line);
  EXPECT_EQ(got, want);
  EXPECT_EQ(a.spikes_ratio, want_ratio);
  EXPECT_EQ(a.spikes_threshold, want_threshold);
  EXPECT_GE(a.spikes_ratio, 3u) << "the planted 20x values";
  // --top keeps the largest, listed in line order.
  o.top = 2;
  const auto b = analyze_log(log, "x.log", o);
  ASSERT_EQ(b.top_spikes.size(), 2u);
  EXPECT_LT(b.top_spikes[0].line, b.top_spikes[1].line);
  EXPECT_EQ(b.spikes, a.spikes);
}

TEST(LogAnalysis, AZeroMedianGivesNoRatioOnlyTheThreshold) {
  // nginx logs sub-millisecond requests as 0.000: the ratio to a median of 0 is undefined.
  std::string log;
  for (int i = 0; i < 30; ++i) log += "rt=0.000\n";
  log += "rt=0.001\nrt=0.250\n";
  LogOptions o = preset("nginx-rt");
  EXPECT_EQ(analyze_log(log, "x.log", o).spikes, 0u);
  o.threshold_ms = 100;
  const auto a = analyze_log(log, "x.log", o);
  ASSERT_EQ(a.spikes, 1u);
  EXPECT_EQ(a.top_spikes[0].line, 32u);
  EXPECT_TRUE(a.top_spikes[0].over_threshold);
  EXPECT_FALSE(a.top_spikes[0].over_ratio);
}

TEST(LogAnalysis, BadInputNamesTheLineOrTheOption) {
  LogOptions o;
  o.pattern = R"(took (?P<value>\w+) (?P<unit>\w+))";
  EXPECT_EQ(error_of("ok\nx took abc ms\n", o), "x.log:2: value 'abc' is not a number >= 0");
  EXPECT_EQ(error_of("x took 12 parsecs\n", o), "x.log:1: unit 'parsecs' is not a unit (ns, us, ms, s, m)");
  o.pattern = R"(took (\d+))";
  EXPECT_NE(error_of("x", o).find("no named group (?P<value>...)"), std::string::npos);
  o.pattern = R"(took ((?P<value>\d+))";
  EXPECT_NE(error_of("x", o).find("missing )"), std::string::npos);
  o = preset("took");
  o.k = 1;
  EXPECT_NE(error_of("x", o).find("--k 1"), std::string::npos);
  o.k = 3;
  o.unit = "fortnights";
  EXPECT_NE(error_of("x", o).find("--unit fortnights"), std::string::npos);
  const auto none = analyze_log("nothing here\n", "x.log", preset("took"));
  EXPECT_EQ(none.matched, 0u);
  EXPECT_NE(render_log_analysis(none, "x.log", preset("took")).find("no line matched"), std::string::npos);
}

}  // namespace
}  // namespace trackiq::analysis
