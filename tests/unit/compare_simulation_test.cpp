// The measured false-BLOCK rate of every comparison rule (issue: "a gate that blocks on noise
// discredits everything else"): seeded A/A pairs drawn from one distribution must BLOCK no more
// often than each rule's nominal level, and planted 10 % slowdowns must be caught.
//
// Two settings: the thresholds as shipped (what users get), and every threshold at 0 with no
// minimum effect, so that the statistical test alone decides and its level is what is measured.
// A rule whose CI must lie wholly on the bad side is a one-sided test at alpha / 2 = 2.5 %; the
// tail share's Fisher test is one-sided at alpha = 5 %. Benjamini–Hochberg only lowers these.
// The bound allows Monte Carlo error: rate <= nominal + 2 standard errors of the estimate.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "trackiq/analysis/compare.hpp"

namespace trackiq::analysis {
namespace {

enum class Dist { kNormal, kLogNormal03, kLogNormal1, kSpiky };

const char* name(Dist d) {
  switch (d) {
    case Dist::kNormal: return "normal(10 ms, sd 1 ms)";
    case Dist::kLogNormal03: return "log-normal(sigma 0.3)";
    case Dist::kLogNormal1: return "log-normal(sigma 1)";
    case Dist::kSpiky: return "normal with 1 % spikes at 10x";
  }
  return "";
}

std::vector<std::int64_t> draw(Dist d, std::size_t n, double scale, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(10e6, 1e6);
  std::lognormal_distribution<double> ln03(std::log(10e6), 0.3), ln1(std::log(10e6), 1.0);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::int64_t> v(n);
  for (auto& x : v) {
    double ns = 0;
    switch (d) {
      case Dist::kNormal: ns = normal(rng); break;
      case Dist::kLogNormal03: ns = ln03(rng); break;
      case Dist::kLogNormal1: ns = ln1(rng); break;
      case Dist::kSpiky: ns = normal(rng) * (u(rng) < 0.01 ? 10.0 : 1.0); break;
    }
    x = static_cast<std::int64_t>(std::max(1e3, ns * scale));
  }
  return v;
}

Result result_of(std::vector<std::int64_t> samples) {
  Result r;
  r.run_id = "sim";
  r.scenario.name = "single-stream";
  LatencyData l;
  static const std::vector<double> kPercentiles{50.0, 90.0, 95.0, 99.0, 99.9};
  l.summary_ns = summarize(samples, kPercentiles);
  for (auto v : samples) l.histogram.record(v);
  l.samples_ns = std::move(samples);
  const auto& s = l.summary_ns;
  r.metrics = {{"latency_mean_ms", s.mean / 1e6},
               {"latency_p50_ms", s.percentiles[0].value / 1e6},
               {"latency_p90_ms", s.percentiles[1].value / 1e6},
               {"latency_p95_ms", s.percentiles[2].value / 1e6},
               {"latency_p99_ms", s.percentiles[3].value / 1e6},
               {"latency_p99_9_ms", s.percentiles[4].value / 1e6},
               {"throughput_queries_per_s", 1e9 / s.mean}};
  r.latency = std::move(l);
  return r;
}

CompareOptions options(bool zero_thresholds) {
  CompareOptions o;
  o.resamples = 200;  // enough for a 95 % interval; keeps 5,000 comparisons fast
  if (zero_thresholds) {
    o.latency_pct = o.p99_pct = o.throughput_pct = o.other_pct = 0;
    o.min_effect_pct = 0;
    o.tail_share_pp = 0;
  }
  return o;
}

double nominal(const std::string& rule) { return rule == "latency_tail_share" ? 0.05 : 0.025; }

// BLOCKs per rule over `pairs` comparisons of samples from `d`, the current one scaled.
std::map<std::string, int> blocks(Dist d, std::size_t n, int pairs, double scale, bool zero_thresholds,
                                  int* any_block = nullptr) {
  std::mt19937_64 rng(1000003 * static_cast<std::uint64_t>(d) + n);
  std::map<std::string, int> out;
  const CompareOptions o = options(zero_thresholds);
  for (int i = 0; i < pairs; ++i) {
    const Result a = result_of(draw(d, n, 1.0, rng));
    const Result b = result_of(draw(d, n, scale, rng));
    const Comparison c = compare_results(a, b, o);
    for (const auto& m : c.metrics) out[m.name] += m.verdict == Verdict::kBlock;
    if (any_block) *any_block += c.verdict == Verdict::kBlock;
  }
  return out;
}

int pairs_for(std::size_t n) { return n >= 1000 ? 100 : 300; }

TEST(CompareSimulation, AnAaPairBlocksNoMoreOftenThanEachRulesNominalLevel) {
  for (const Dist d : {Dist::kNormal, Dist::kLogNormal03, Dist::kLogNormal1, Dist::kSpiky}) {
    for (const std::size_t n : {2, 3, 5, 10, 30, 100, 1000}) {
      for (const bool zero : {false, true}) {
        const int pairs = pairs_for(n);
        for (const auto& [rule, count] : blocks(d, n, pairs, 1.0, zero)) {
          const double level = nominal(rule);
          const double rate = static_cast<double>(count) / pairs;
          const double bound = level + 2.0 * std::sqrt(level * (1 - level) / pairs);
          EXPECT_LE(rate, bound) << name(d) << ", n = " << n << (zero ? ", thresholds 0" : ", shipped thresholds")
                                 << ": " << rule << " blocked " << count << " of " << pairs << " A/A pairs";
        }
      }
    }
  }
}

TEST(CompareSimulation, APlanted10PercentSlowdownIsCaughtWhereATestCanSeeIt) {
  // Caught = the comparison BLOCKs, with the shipped thresholds. Whether a 10 % shift can be seen
  // at all depends on the spread: Welch's z for the mean is 0.1 / (cv · sqrt(2 / n)), so with a
  // coefficient of variation of 0.1 (the normal case) n = 100 gives z = 7, with 0.31 (log-normal
  // sigma 0.3) n = 100 gives z = 2.3 (at most ~65 % power for any test at 5 %) and n = 1,000
  // z = 7; a log-normal with sigma 1 (cv 1.3) needs ~5,000 values a side. The claim is asserted
  // where z >= 4; every rate is printed (docs/metrics.md quotes them).
  struct Case {
    Dist d;
    std::size_t n;
    int at_least;  // of 100
  };
  for (const Case& k : {Case{Dist::kNormal, 100, 90}, Case{Dist::kNormal, 1000, 90}, Case{Dist::kSpiky, 100, 90},
                        Case{Dist::kSpiky, 1000, 90}, Case{Dist::kLogNormal03, 100, 0}, Case{Dist::kLogNormal03, 1000, 90},
                        Case{Dist::kLogNormal1, 1000, 0}}) {
    int caught = 0;
    blocks(k.d, k.n, 100, 1.10, false, &caught);
    std::printf("planted +10 %%: %-32s n = %4zu: caught %3d of 100\n", name(k.d), k.n, caught);
    EXPECT_GE(caught, k.at_least) << name(k.d) << ", n = " << k.n;
  }
}

}  // namespace
}  // namespace trackiq::analysis
