#include "trackiq/analysis/compare.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "log_gamma.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::analysis {

std::string_view to_string(Verdict v) noexcept {
  switch (v) {
    case Verdict::kPass: return "PASS";
    case Verdict::kWarn: return "WARN";
    case Verdict::kBlock: return "BLOCK";
  }
  return "PASS";
}

namespace {

// A p- or q-value as the reasons print it: "= 0.031", "= 6.4e-57", or "< 1e-300" where the
// test's tail underflowed (it printed "p = 0", which reads as a certainty).
std::string p_text(double p) { return p < 1e-300 ? std::string("< 1e-300") : fmt::format("= {:.2g}", p); }

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

double threshold_for(const std::string& name, const CompareOptions& o) {
  if (auto it = o.thresholds_pct.find(name); it != o.thresholds_pct.end()) return it->second;
  if (name == "latency_p99_ms" || name == "latency_p99_9_ms") return o.p99_pct;
  if (starts_with(name, "latency_")) return o.latency_pct;
  if (starts_with(name, "throughput_")) return o.throughput_pct;
  return o.other_pct;
}

// A change computed in floating point lands a few ulps off the decimal it stands for: 2.0 → 2.1 ms
// is 5.000000000000004 %. Comparisons against a limit allow this relative slack, so that a limit
// exactly reached is reached, not passed.
constexpr double kLimitSlack = 1e-9;
bool at_least(double pct, double limit) { return pct >= limit - kLimitSlack * std::max(1.0, std::fabs(limit)); }
bool beyond_limit(double pct, double limit) { return pct > limit + kLimitSlack * std::max(1.0, std::fabs(limit)); }

// "moderate" from the threshold (>=, as documented), "severe" from 50 %, "critical" from 100 %.
std::string severity_of(double regression_pct, double threshold) {
  if (at_least(regression_pct, 100)) return "critical";
  if (at_least(regression_pct, 50)) return "severe";
  if (at_least(regression_pct, threshold)) return "moderate";
  return "none";
}

// ---------------------------------------------------------------------------------------------
// Which statistic of which per-request distribution a metric is, and so which test speaks for it
// ---------------------------------------------------------------------------------------------

enum class Stat { kMean, kMedian, kPercentile };

struct Plan {
  std::string family;  // "latency", or a Result::distributions key ("ttft", "itl", ...)
  Stat stat = Stat::kMean;
  double p = 50;
  // A closed loop's throughput is workers / mean latency: judged by the mean latency's test.
  bool throughput_via_mean = false;
  std::string key() const { return fmt::format("{}/{}/{}", family, static_cast<int>(stat), p); }
};

std::optional<Plan> percentile_plan(std::string family, std::string_view stat) {
  if (stat == "mean") return Plan{std::move(family), Stat::kMean, 50, false};
  if (stat == "median" || stat == "p50") return Plan{std::move(family), Stat::kMedian, 50, false};
  if (stat == "p90") return Plan{std::move(family), Stat::kPercentile, 90, false};
  if (stat == "p95") return Plan{std::move(family), Stat::kPercentile, 95, false};
  if (stat == "p99") return Plan{std::move(family), Stat::kPercentile, 99, false};
  if (stat == "p99_9") return Plan{std::move(family), Stat::kPercentile, 99.9, false};
  return std::nullopt;  // std, min, max, cv: spread and extremes are not tested
}

// The load generator's per-request families (Result::distributions), longest first so that
// "ttft_sched" is not read as "ttft".
constexpr std::string_view kFamilies[] = {"ttft_sched", "e2el_sched", "ttft", "tpot", "itl", "e2el"};

std::optional<Plan> plan_for(std::string_view name, bool closed_loop) {
  if (starts_with(name, "latency_") && name.ends_with("_ms"))
    return percentile_plan("latency", name.substr(8, name.size() - 11));
  if (name == "throughput_queries_per_s" || name == "throughput_samples_per_s" || name == "request_throughput" ||
      name == "achieved_gflops") {
    if (!closed_loop) return std::nullopt;
    return Plan{"latency", Stat::kMean, 50, true};
  }
  if (!name.ends_with("_ms")) return std::nullopt;
  const std::size_t us = name.find('_');
  if (us == std::string_view::npos) return std::nullopt;
  const std::string_view rest = name.substr(us + 1, name.size() - us - 4);  // between the stat and "_ms"
  for (const std::string_view f : kFamilies)
    if (rest == f) return percentile_plan(std::string(f), name.substr(0, us));
  return std::nullopt;
}

// Whether both results come from closed loops (a fixed number of workers each waiting for its
// answer), where throughput follows from the mean latency.
bool closed_loop(const Result& r) {
  if (r.scenario.name == "server") return false;
  if (r.scenario.name == "load") return !r.scenario.qps && r.latency && r.latency->measured_from == "issue";
  return true;
}

// Each recorded value as its bucket's midpoint, in increasing order.
std::vector<std::int64_t> histogram_values(const Histogram& h) {
  std::vector<std::int64_t> v;
  v.reserve(h.count());
  for (const auto& b : h.nonempty_buckets()) v.insert(v.end(), b.count, h.median_equivalent(b.low));
  return v;
}

// The per-request values of one family on both sides, and what they are.
struct FamilyData {
  std::vector<std::int64_t> base, cur;
  std::string source;
};

std::optional<FamilyData> family_data(const std::string& family, const Result& b, const Result& c) {
  FamilyData d;
  if (family == "latency") {
    if (!b.latency || !c.latency) return std::nullopt;
    if (b.latency->samples_ns.size() >= 2 && c.latency->samples_ns.size() >= 2) {
      d.base = b.latency->samples_ns;
      d.cur = c.latency->samples_ns;
      d.source = "exact samples";
      return d;
    }
    if (b.latency->histogram.count() < 2 || c.latency->histogram.count() < 2) return std::nullopt;
    d.base = histogram_values(b.latency->histogram);
    d.cur = histogram_values(c.latency->histogram);
    d.source = fmt::format("histogram ({} significant digits)", b.latency->histogram.significant_digits());
    return d;
  }
  const auto bi = b.distributions.find(family), ci = c.distributions.find(family);
  if (bi == b.distributions.end() || ci == c.distributions.end()) return std::nullopt;
  if (bi->second.count() < 2 || ci->second.count() < 2) return std::nullopt;
  d.base = histogram_values(bi->second);
  d.cur = histogram_values(ci->second);
  d.source = fmt::format("histogram ({} significant digits)", bi->second.significant_digits());
  return d;
}

// The outcome of one test, shared by every metric it speaks for.
struct TestOutcome {
  std::string name;  // "Welch t-test of the mean", ...
  bool usable = false;
  std::string why_not;  // when !usable
  double p = 1, q = 1;
  double low = 0, high = 0;  // CI of current − baseline, ns
  bool bad_side = false;     // the CI lies wholly above 0: the current run is slower
  std::uint64_t n = 0;       // the smaller side
  std::string source;
};

std::string ms(double ns) { return fmt::format("{:+.4g}", ns / 1e6); }

std::string percentile_name(double p) { return p == 99.9 ? "p99.9" : fmt::format("p{:g}", p); }

// Runs every planned test of one family: Welch for the mean, Mann–Whitney plus the bootstrap CI
// for the median, the bootstrap CI (one resampling for all percentiles) for the others.
void run_family_tests(const FamilyData& d, const std::vector<Plan>& plans, const CompareOptions& o,
                      std::map<std::string, TestOutcome>& out) {
  const std::uint64_t n = std::min(d.base.size(), d.cur.size());
  std::vector<double> percentiles;
  for (const Plan& pl : plans)
    if (pl.stat != Stat::kMean && std::find(percentiles.begin(), percentiles.end(), pl.p) == percentiles.end())
      percentiles.push_back(pl.p);
  std::optional<BootstrapResult> boot;
  if (!percentiles.empty()) {
    BootstrapOptions bo;
    bo.seed = o.seed;
    bo.resamples = o.resamples;
    bo.confidence = 1.0 - o.alpha;
    bo.percentiles = percentiles;
    boot = bootstrap_percentile_differences(d.base, d.cur, bo);
  }
  for (const Plan& pl : plans) {
    TestOutcome t;
    t.n = n;
    t.source = d.source;
    if (pl.stat == Stat::kMean) {
      const WelchResult w = welch_t_test(d.base, d.cur, 1.0 - o.alpha);
      t.name = "Welch t-test of the mean";
      t.usable = true;
      t.p = w.p_value;
      t.low = w.low;
      t.high = w.high;
    } else {
      const auto& pd = *std::find_if(boot->differences.begin(), boot->differences.end(),
                                     [&](const PercentileDifference& x) { return x.p == pl.p; });
      t.low = pd.low;
      t.high = pd.high;
      if (pl.stat == Stat::kMedian) {
        // The rank test's p-value; the median's own bootstrap interval decides the side.
        t.name = "Mann-Whitney U with the bootstrap CI of the median";
        t.usable = true;
        t.p = mann_whitney_u(d.base, d.cur).p_value;
      } else {
        t.name = fmt::format("bootstrap CI of {}", percentile_name(pl.p));
        // Too few values beyond the percentile and the resamples only reshuffle the same few
        // extremes: the interval is not trusted below min_tail_samples on the smaller side.
        t.usable = pd.tail_samples >= o.min_tail_samples;
        if (!t.usable)
          t.why_not = fmt::format("only {} values beyond {} on the smaller side (< {}): {} not tested", pd.tail_samples,
                                  percentile_name(pl.p), o.min_tail_samples, percentile_name(pl.p));
        t.p = pd.p_value;
      }
    }
    t.bad_side = t.low > 0.0;
    out[pl.key()] = std::move(t);
  }
}

// ---------------------------------------------------------------------------------------------
// Verdict helpers
// ---------------------------------------------------------------------------------------------

// Whether `name` is the twin of a metric with the same values on both sides (MetricDef::same_as):
// then that metric carries the verdict and this one is left out.
bool same_as_twin(const MetricDef& def, const Result& base, const Result& cur, double b, double c) {
  if (def.same_as.empty()) return false;
  const auto tb = base.metric_value(std::string(def.same_as));
  const auto tc = cur.metric_value(std::string(def.same_as));
  return tb && tc && *tb == b && *tc == c;
}

// NaN on either side: a missing measurement is neither within nor beyond any threshold.
void judge_not_comparable(MetricComparison& m) {
  m.comparable = false;
  m.change_pct = m.regression_pct = NAN;
  const bool both = std::isnan(m.baseline) && std::isnan(m.current);
  m.verdict = both ? Verdict::kPass : Verdict::kWarn;
  m.reason = both ? "not comparable: measured on neither side"
                  : fmt::format("not comparable: the {} value is not a number", std::isnan(m.baseline) ? "baseline" : "current");
}

// A zero baseline and a non-zero current value: a relative change is undefined, so the absolute
// change decides against the registry's zero_baseline_limit (errors 0 → 1 warns).
void judge_from_zero(MetricComparison& m, const MetricDef& def) {
  m.change_pct = m.regression_pct = NAN;
  const double worse_by = def.direction == Direction::kLowerIsBetter ? m.current : -m.current;
  const double limit = def.zero_baseline_limit;
  if (worse_by < 0) {
    m.reason = fmt::format("better: from 0 to {:.4g}", m.current);
  } else if (limit > 0 && !beyond_limit(worse_by, limit)) {
    m.reason = fmt::format("from 0 to {:.4g}: within the absolute limit {:.4g} for a zero baseline", m.current, limit);
  } else {
    m.beyond_threshold = true;
    m.verdict = limit > 0 ? Verdict::kBlock : Verdict::kWarn;
    m.severity = limit > 0 ? "moderate" : "none";
    m.reason = limit > 0 ? fmt::format("from 0 to {:.4g}: beyond the absolute limit {:.4g} for a zero baseline", m.current, limit)
                         : fmt::format("from 0 to {:.4g} (absolute; a relative change from zero is undefined)", m.current);
  }
}

// The between-run noise band of one metric: a pooled two-sample t interval over the runs' values
// (the run, not the request, is the unit), df = (k_b − 1) + (k_c − 1) >= 2.
struct NoiseBand {
  double half_width = 0;  // in the metric's unit
  double diff_bad = 0;    // mean over current runs − mean over baseline runs, in the bad direction
  std::size_t kb = 0, kc = 0;
};

std::optional<NoiseBand> noise_band_of(const std::vector<double>& b, const std::vector<double>& c, Direction dir,
                                        double alpha) {
  if (b.size() < 2 || c.empty() || b.size() + c.size() < 4) return std::nullopt;
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
  };
  const double mb = mean(b), mc = mean(c);
  double ss = 0;
  for (double x : b) ss += (x - mb) * (x - mb);
  for (double x : c) ss += (x - mc) * (x - mc);
  const double df = static_cast<double>(b.size() + c.size() - 2);
  const double sp = std::sqrt(ss / df);
  NoiseBand nb;
  nb.kb = b.size();
  nb.kc = c.size();
  nb.half_width = student_t_quantile(1.0 - alpha / 2.0, df) * sp *
                  std::sqrt(1.0 / static_cast<double>(b.size()) + 1.0 / static_cast<double>(c.size()));
  nb.diff_bad = dir == Direction::kLowerIsBetter ? mc - mb : mb - mc;
  return nb;
}

std::optional<NoiseBand> noise_band(const std::string& name, Direction dir, const NoiseRuns& runs, double alpha) {
  auto values = [&](const std::vector<Result>& side) {
    std::vector<double> v;
    for (const auto& r : side)
      if (const auto x = r.metric_value(name); x && std::isfinite(*x)) v.push_back(*x);
    return v;
  };
  return noise_band_of(values(runs.baseline), values(runs.current), dir, alpha);
}

// The share of one run's requests slower than `cut` (ns), in percent: from its exact samples, else
// from its latency histogram (a bucket counts as beyond when its midpoint is). Runs without
// latency data give no value.
std::optional<double> tail_share_pct(const Result& r, double cut) {
  if (!r.latency) return std::nullopt;
  if (!r.latency->samples_ns.empty()) {
    const auto& v = r.latency->samples_ns;
    const auto beyond = std::count_if(v.begin(), v.end(), [&](std::int64_t x) { return static_cast<double>(x) > cut; });
    return 100.0 * static_cast<double>(beyond) / static_cast<double>(v.size());
  }
  const Histogram& h = r.latency->histogram;
  const std::uint64_t n = h.count();
  if (n == 0) return std::nullopt;
  std::uint64_t beyond = 0;
  for (const auto& b : h.nonempty_buckets())
    if (static_cast<double>(h.median_equivalent(b.low)) > cut) beyond += b.count;
  return 100.0 * static_cast<double>(beyond) / static_cast<double>(n);
}

// The between-run noise band of the tail share beyond the comparison's cut: each run's own share.
std::optional<NoiseBand> tail_share_noise_band(const NoiseRuns& runs, double cut, double alpha) {
  auto shares = [&](const std::vector<Result>& side) {
    std::vector<double> v;
    for (const auto& r : side)
      if (const auto x = tail_share_pct(r, cut)) v.push_back(*x);
    return v;
  };
  return noise_band_of(shares(runs.baseline), shares(runs.current), Direction::kLowerIsBetter, alpha);
}

// The unit a test's interval is shown in: ns → ms for every latency family.
std::string ci_text(const TestOutcome& t, double confidence) {
  return fmt::format("{:.0f} % CI of the difference [{}, {}] ms", confidence * 100, ms(t.low), ms(t.high));
}

}  // namespace

namespace {

// Benjamini–Hochberg across several comparisons: the first call of each comparison collects its
// p-values (`collect`), the second judges it with the q-values of the joint procedure (`joint`).
struct JointFdr {
  std::vector<double>* collect = nullptr;
  const std::vector<double>* joint_q = nullptr;  // this comparison's slice, in collect order
  std::size_t joint_tests = 0;
};

Comparison compare_impl(const Result& base, const Result& cur, const CompareOptions& o, const NoiseRuns* noise,
                        const JointFdr& fdr) {
  Comparison c;
  c.baseline_run = base.run_id;
  c.current_run = cur.run_id;
  c.fdr_level = o.alpha;
  c.same_hardware = base.environment.hardware_fingerprint == cur.environment.hardware_fingerprint;
  if (!c.same_hardware)
    c.notes.push_back(fmt::format("DIFFERENT HARDWARE: baseline {} vs current {}; differences may be the machine, not "
                                  "the change",
                                  base.environment.hardware_fingerprint, cur.environment.hardware_fingerprint));
  if (base.workload.synthetic || cur.workload.synthetic)
    c.notes.push_back(fmt::format("SYNTHETIC WORKLOAD ({}): these numbers do not measure a model",
                                  base.workload.synthetic && cur.workload.synthetic ? "both sides"
                                  : base.workload.synthetic                        ? "the baseline"
                                                                                   : "the current run"));
  if (base.workload.model != cur.workload.model || base.scenario.name != cur.scenario.name)
    c.notes.push_back(fmt::format("different workload or scenario: {}:{} {} vs {}:{} {}", base.workload.backend,
                                  base.workload.model, base.scenario.name, cur.workload.backend, cur.workload.model,
                                  cur.scenario.name));

  // The latency values: the exact samples when both sides kept them, else the lossless
  // histogram's bucket midpoints on both sides (values in one bucket tie, which the rank test's
  // tie correction and the bootstrap handle).
  std::map<std::string, FamilyData> data;
  if (auto lat = family_data("latency", base, cur)) data.emplace("latency", std::move(*lat));
  if (const auto it = data.find("latency"); it != data.end()) {
    c.samples_used = true;
    c.samples_source = it->second.source;
    c.n_baseline = it->second.base.size();
    c.n_current = it->second.cur.size();
    if (c.samples_source != "exact samples")
      c.notes.push_back("no raw samples on both sides: the tests use the latency histograms' bucket midpoints");
    // The smallest two-sided p-value a rank test can give is 2 / C(n_x + n_y, n_x): with 2 or 3
    // values per side it stays above any usual alpha, so no rank-tested difference can be
    // significant. Welch's t-test of the mean has no such floor (it assumes near-normal values).
    const double nx = static_cast<double>(c.n_baseline), ny = static_cast<double>(c.n_current);
    const double log_choose = log_gamma(nx + ny + 1) - log_gamma(nx + 1) - log_gamma(ny + 1);
    const double min_p = std::min(1.0, 2.0 * std::exp(-log_choose));
    if (min_p > o.alpha)
      c.notes.push_back(fmt::format("only {} vs {} latency values: the rank tests (median, percentiles) cannot reach "
                                    "significance at {:g} with so few (their smallest possible p is {:.2g}), so their "
                                    "regressions beyond a threshold WARN; the t-test of the mean can, and rests on "
                                    "the values being near normal",
                                    c.n_baseline, c.n_current, o.alpha, min_p));
  } else {
    c.notes.push_back("no raw latency samples or histograms on both sides: thresholds only, no significance test");
  }
  const bool closed = closed_loop(base) && closed_loop(cur);

  // Pass 1: each metric's numbers and the test that will speak for it.
  struct Pending {
    MetricComparison m;
    const MetricDef* def = nullptr;
    std::optional<Plan> plan;
    bool done = false;  // judged already (not comparable, zero baseline)
  };
  std::vector<Pending> pending;
  std::map<std::string, std::vector<Plan>> plans_by_family;
  for (const auto& bm : base.metrics) {
    const auto cv = cur.metric_value(bm.name);
    const MetricDef* def = find_metric(bm.name);
    if (!cv || !def || def->direction == Direction::kNeutral) continue;
    if (same_as_twin(*def, base, cur, bm.value, *cv)) {
      c.notes.push_back(fmt::format("{} holds the same values as {}: one verdict, under {}", bm.name, def->same_as,
                                    def->same_as));
      continue;
    }
    Pending pe;
    pe.def = def;
    MetricComparison& m = pe.m;
    m.name = bm.name;
    m.unit = std::string(def->unit);
    m.direction = def->direction;
    m.gate = def->gate;
    m.baseline = bm.value;
    m.current = *cv;
    m.threshold_pct = threshold_for(bm.name, o);
    if (std::isnan(m.baseline) || std::isnan(m.current)) {
      judge_not_comparable(m);
      pe.done = true;
    } else if (m.baseline == 0 && m.current != 0) {
      judge_from_zero(m, *def);
      pe.done = true;
    } else {
      m.change_pct = m.baseline == 0 ? 0.0 : (m.current - m.baseline) / std::fabs(m.baseline) * 100.0;
      m.regression_pct = def->direction == Direction::kLowerIsBetter ? m.change_pct : -m.change_pct;
      m.severity = severity_of(m.regression_pct, m.threshold_pct);
      m.beyond_threshold = beyond_limit(m.regression_pct, m.threshold_pct);  // exactly reached is not a regression
      if (def->gate == Gate::kCanBlock) pe.plan = plan_for(bm.name, closed);
      if (pe.plan && !data.contains(pe.plan->family))
        if (auto d = family_data(pe.plan->family, base, cur)) data.emplace(pe.plan->family, std::move(*d));
      if (pe.plan && data.contains(pe.plan->family)) {
        auto& v = plans_by_family[pe.plan->family];
        if (std::none_of(v.begin(), v.end(), [&](const Plan& x) { return x.key() == pe.plan->key(); }))
          v.push_back(*pe.plan);
      }
    }
    pending.push_back(std::move(pe));
  }

  // Pass 2: the tests, each once.
  std::map<std::string, TestOutcome> tests;
  for (const auto& [family, plans] : plans_by_family) run_family_tests(data.at(family), plans, o, tests);
  if (!plans_by_family.empty()) {
    c.resamples = o.resamples;
    c.seed = o.seed;
  }

  // The tail share: requests beyond the baseline's maximum (its p99.9 from 1,000 values on).
  std::optional<ExceedanceResult> tail;
  constexpr std::size_t kMinTailShareValues = 10;
  if (const auto it = data.find("latency");
      it != data.end() && it->second.base.size() >= kMinTailShareValues && it->second.cur.size() >= kMinTailShareValues) {
    // A request is in a new tail when it is slower than the baseline's high cut by more than the
    // p99 threshold: a shift of a tight distribution within the thresholds moves many requests a
    // little beyond the baseline's maximum, which is not a tail.
    const std::uint64_t rank = std::max<std::uint64_t>(1, it->second.base.size() / 1000);
    tail = exceedance_test(it->second.base, it->second.cur, rank, 1.0 + o.p99_pct / 100.0);
  }

  // Pass 3: Benjamini–Hochberg across every usable test of this comparison.
  std::vector<double> ps;
  std::vector<TestOutcome*> order;
  for (auto& [key, t] : tests)
    if (t.usable) {
      ps.push_back(t.p);
      order.push_back(&t);
    }
  if (tail) ps.push_back(tail->p_value);
  if (fdr.collect) fdr.collect->insert(fdr.collect->end(), ps.begin(), ps.end());
  if (fdr.joint_q && fdr.joint_q->size() != ps.size()) throw Error("compare: the joint q-values do not match the tests");
  const std::vector<double> qs = fdr.joint_q ? *fdr.joint_q : benjamini_hochberg(ps);
  for (std::size_t i = 0; i < order.size(); ++i) order[i]->q = qs[i];
  const double tail_q = tail ? qs.back() : 1.0;
  c.tests = fdr.joint_q ? fdr.joint_tests : ps.size();

  // One place that records a metric's verdict: the registry's gate caps it, then it counts.
  const auto record = [&c](MetricComparison&& done) {
    if (done.gate == Gate::kInformOnly && done.verdict == Verdict::kBlock) {
      // Spread, extremes and the client's own cost inform; they never block (MetricDef::gate).
      done.verdict = Verdict::kWarn;
      done.reason += "; informs only (a spread, an extreme or the client's own cost never blocks)";
    }
    if (done.verdict > c.verdict) c.verdict = done.verdict;
    c.metrics.push_back(std::move(done));
  };
  bool noted_few_runs = false;

  // Pass 4: verdicts.
  for (auto& pe : pending) {
    MetricComparison& m = pe.m;
    if (pe.done) {
      record(std::move(m));
      continue;
    }
    const TestOutcome* t = nullptr;
    if (pe.plan)
      if (const auto it = tests.find(pe.plan->key()); it != tests.end()) t = &it->second;
    const bool beyond = m.beyond_threshold;
    const bool practically = std::fabs(m.change_pct) >= o.min_effect_pct;
    std::string evidence;
    if (t) {
      m.test = t->name;
      m.data = t->source;
      if (t->usable) {
        const double scale = pe.plan->throughput_via_mean || m.unit == "ms" ? 1e6 : 1.0;
        m.p_value = t->p;
        m.ci_low = t->low / scale;
        m.ci_high = t->high / scale;
        m.tested = true;
        m.q_value = t->q;
        // A significant test counts only when it points the bad way: its CI wholly above zero
        // (the current run slower), and the metric itself got worse.
        m.significant = t->q <= o.alpha && t->bad_side && practically && m.regression_pct > 0;
        evidence = fmt::format("{}{}: p {}, q {} (Benjamini-Hochberg over {} tests), {}", t->name,
                               pe.plan->throughput_via_mean ? " latency (throughput = workers / mean latency)" : "",
                               p_text(t->p), p_text(t->q), c.tests, ci_text(*t, 1.0 - o.alpha));
      } else {
        evidence = t->why_not;
      }
    }
    if (m.tested) {
      if (m.significant && *m.q_value < o.alpha / 5 && t->n >= 30) m.confidence = "high";
      else if (m.significant && t->n >= 10) m.confidence = "medium";
    }

    // Between-run noise: a BLOCK must exceed the band as well as the threshold.
    std::string noise_text;
    if (noise) {
      if (const auto nb = noise_band(m.name, m.direction, *noise, o.alpha)) {
        m.noise_pct = m.baseline != 0 ? nb->half_width / std::fabs(m.baseline) * 100.0 : NAN;
        m.beyond_noise = nb->diff_bad > nb->half_width;
        noise_text = fmt::format("run-to-run noise ±{:.1f} % ({} vs {} runs)", *m.noise_pct, nb->kb, nb->kc);
        c.noise_source = noise->source;
      } else if (!noted_few_runs) {
        c.notes.push_back(fmt::format("{}: too few runs for a between-run noise band (it needs >= 2 baseline runs and "
                                      ">= 4 runs in all)",
                                      noise->source));
        noted_few_runs = true;
      }
    }

    const bool has_data = t != nullptr;
    if (beyond && m.tested && m.significant && m.beyond_noise) {
      m.verdict = Verdict::kBlock;
      m.reason = fmt::format("{:.1f} % worse (> {:.0f} %), significant ({}){}", m.regression_pct, m.threshold_pct,
                             evidence, noise_text.empty() ? "" : "; beyond the " + noise_text);
    } else if (beyond && m.tested && m.significant) {
      m.verdict = Verdict::kWarn;
      m.confidence = "low";
      m.reason = fmt::format("{:.1f} % worse (> {:.0f} %), significant ({}) but within the {}", m.regression_pct,
                             m.threshold_pct, evidence, noise_text);
    } else if (beyond && has_data) {
      m.verdict = Verdict::kWarn;
      m.reason = fmt::format("{:.1f} % worse (> {:.0f} %) but not significant ({})", m.regression_pct, m.threshold_pct,
                             evidence);
    } else if (beyond) {
      const std::string untested = pe.def->gate == Gate::kInformOnly ? "a spread, an extreme or the client's own cost: not tested"
                                   : pe.plan ? "no per-request data on both sides to test it"
                                             : "no per-request data for this metric";
      m.verdict = m.beyond_noise ? Verdict::kBlock : Verdict::kWarn;
      m.reason = m.beyond_noise ? fmt::format("{:.1f} % worse (> {:.0f} %); threshold only ({}){}", m.regression_pct,
                                              m.threshold_pct, untested, noise_text.empty() ? "" : "; beyond the " + noise_text)
                                : fmt::format("{:.1f} % worse (> {:.0f} %) but within the {} ({})", m.regression_pct,
                                              m.threshold_pct, noise_text, untested);
    } else if (m.significant) {
      m.verdict = Verdict::kWarn;
      m.reason = fmt::format("{:.1f} % worse, significant ({}) but within {:.0f} %", m.regression_pct, evidence,
                             m.threshold_pct);
    } else {
      m.verdict = Verdict::kPass;
      m.reason = m.regression_pct < 0 ? fmt::format("{:.1f} % better", -m.regression_pct)
                                      : fmt::format("within {:.0f} %", m.threshold_pct);
    }
    record(std::move(m));
  }

  // The tail share, judged in percentage points.
  if (tail) {
    MetricComparison m;
    m.name = "latency_tail_share";
    m.unit = "%";
    m.direction = Direction::kLowerIsBetter;
    m.points = true;
    m.baseline = tail->baseline_share * 100;
    m.current = tail->current_share * 100;
    m.change_pct = m.regression_pct = m.current - m.baseline;
    m.threshold_pct = o.tail_share_pp;
    m.beyond_threshold = beyond_limit(m.regression_pct, m.threshold_pct);
    m.severity = m.beyond_threshold ? (m.regression_pct >= 10 ? "severe" : "moderate") : "none";
    m.tested = true;
    m.test = "Fisher's exact test of the tail share";
    m.data = data.at("latency").source;
    m.p_value = tail->p_value;
    m.q_value = tail_q;
    m.significant = tail_q <= o.alpha && m.regression_pct > 0;
    if (m.significant && tail_q < o.alpha / 5 && std::min(tail->n_baseline, tail->n_current) >= 30) m.confidence = "high";
    else if (m.significant) m.confidence = "medium";
    const std::string cut = fmt::format("{:.4g} ms (the baseline's {} + {:g} %)", tail->cut / 1e6,
                                        tail->rank == 1 ? "maximum" : "p99.9", o.p99_pct);
    const std::string story =
        tail->current_beyond == 0
            ? fmt::format("no request beyond {}", cut)
            : fmt::format("{:.3g} % of requests now take more than {}, about {:.3g} ms (their median); baseline {:.3g} %",
                          m.current, cut, tail->current_beyond_median / 1e6, m.baseline);
    std::string test = fmt::format("Fisher's exact test p {}, q {}", p_text(tail->p_value), p_text(tail_q));
    // Between-run noise: the runs' own tail shares beyond the same cut. A run-to-run difference in
    // the tail (a noisy neighbour in one run) is not a regression of the build.
    m.beyond_noise = true;
    if (noise) {
      if (const auto nb = tail_share_noise_band(*noise, tail->cut, o.alpha)) {
        m.noise_pct = nb->half_width;  // percentage points, like the change
        m.beyond_noise = nb->diff_bad > nb->half_width;
        test += fmt::format("; run-to-run noise ±{:.2g} percentage points ({} vs {} runs, mean change {:+.2g})",
                            nb->half_width, nb->kb, nb->kc, nb->diff_bad);
        c.noise_source = noise->source;
      }
    }
    if (m.beyond_threshold && m.significant && m.beyond_noise) {
      m.verdict = Verdict::kBlock;
      m.reason = fmt::format("{} (+{:.2g} percentage points > {:g}; {})", story, m.regression_pct, m.threshold_pct, test);
    } else if (m.beyond_threshold && m.significant) {
      m.verdict = Verdict::kWarn;
      m.reason = fmt::format("{} (+{:.2g} percentage points > {:g}) but within the run-to-run noise ({})", story,
                             m.regression_pct, m.threshold_pct, test);
    } else if (m.beyond_threshold) {
      m.verdict = Verdict::kWarn;
      m.reason = fmt::format("{} (+{:.2g} percentage points > {:g}) but not significant ({})", story, m.regression_pct,
                             m.threshold_pct, test);
    } else {
      m.reason = fmt::format("{} (within {:g} percentage points; {})", story, m.threshold_pct, test);
    }
    record(std::move(m));
  }
  if (c.metrics.empty()) c.notes.push_back("no metric with a direction is present on both sides");
  return c;
}

}  // namespace

std::string regression_severity(double regression_pct, double threshold) { return severity_of(regression_pct, threshold); }

Comparison compare_results(const Result& base, const Result& cur, const CompareOptions& o, const NoiseRuns* noise) {
  return compare_impl(base, cur, o, noise, {});
}

std::vector<Comparison> compare_many(const std::vector<std::pair<Result, Result>>& pairs, const CompareOptions& o) {
  // The tests are seeded: a second pass reproduces the first's p-values exactly.
  std::vector<double> all;
  std::vector<std::size_t> sizes;
  for (const auto& [b, cur] : pairs) {
    const std::size_t before = all.size();
    compare_impl(b, cur, o, nullptr, {&all, nullptr, 0});
    sizes.push_back(all.size() - before);
  }
  const std::vector<double> q = benjamini_hochberg(all);
  std::vector<Comparison> out;
  std::size_t at = 0;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const std::vector<double> slice(q.begin() + static_cast<std::ptrdiff_t>(at),
                                    q.begin() + static_cast<std::ptrdiff_t>(at + sizes[i]));
    at += sizes[i];
    out.push_back(compare_impl(pairs[i].first, pairs[i].second, o, nullptr, {nullptr, &slice, all.size()}));
    out.back().notes.push_back(fmt::format("one of {} comparisons: Benjamini-Hochberg over all {} of their tests",
                                           pairs.size(), all.size()));
  }
  return out;
}

Result merge_runs(const std::vector<Result>& runs, const std::string& name) {
  if (runs.empty()) throw InputError(fmt::format("group '{}' has no runs", name));
  Result g = runs.front();
  g.run_id = name;
  g.metrics.clear();
  for (const auto& first : runs.front().metrics) {
    std::vector<double> v;
    for (const auto& r : runs)
      if (const auto x = r.metric_value(first.name); x && !std::isnan(*x)) v.push_back(*x);
    if (v.empty()) continue;
    std::sort(v.begin(), v.end());
    const double median = v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
    g.metrics.push_back({first.name, median, runs.size() == 1 ? first.kind : ValueKind::kDerived});
  }
  const bool all_latency = std::all_of(runs.begin(), runs.end(), [](const Result& r) { return r.latency.has_value(); });
  if (all_latency) {
    const bool all_samples =
        std::all_of(runs.begin(), runs.end(), [](const Result& r) { return !r.latency->samples_ns.empty(); });
    for (std::size_t i = 1; i < runs.size(); ++i) {
      g.latency->histogram.merge(runs[i].latency->histogram);
      if (all_samples)
        g.latency->samples_ns.insert(g.latency->samples_ns.end(), runs[i].latency->samples_ns.begin(),
                                     runs[i].latency->samples_ns.end());
    }
    if (!all_samples) g.latency->samples_ns.clear();
    g.latency->sample_end_ns.clear();  // times of different runs share no origin
    // The pooled summary: exact from the samples, else from the pooled histogram's midpoints
    // (3 significant digits), never the first run's.
    g.latency->summary_ns =
        summarize(all_samples ? g.latency->samples_ns : histogram_values(g.latency->histogram));
  } else {
    g.latency.reset();
  }
  for (auto it = g.distributions.begin(); it != g.distributions.end();) {
    bool everywhere = true;
    for (std::size_t i = 1; i < runs.size() && everywhere; ++i) {
      const auto o = runs[i].distributions.find(it->first);
      if (o == runs[i].distributions.end()) everywhere = false;
      else it->second.merge(o->second);
    }
    it = everywhere ? std::next(it) : g.distributions.erase(it);
  }
  g.telemetry.series.reset();
  return g;
}

std::string change_text(const MetricComparison& m, int decimals) {
  if (std::isnan(m.change_pct)) return "n/a";
  return fmt::format("{:+.{}f} {}", m.change_pct, decimals, m.points ? "pp" : "%");
}

std::string limit_text(const MetricComparison& m) { return fmt::format("{:g} {}", m.threshold_pct, m.points ? "pp" : "%"); }

std::string render_comparison_table(const Comparison& c) {
  std::string out = fmt::format("baseline {}\ncurrent  {}\n", c.baseline_run, c.current_run);
  for (const auto& n : c.notes) out += "note: " + n + "\n";
  if (c.samples_used)
    out += fmt::format("latency {}: {} vs {}; {} tests held to a false-discovery rate of {:g} % (Benjamini-Hochberg){}\n",
                       c.samples_source, c.n_baseline, c.n_current, c.tests, c.fdr_level * 100,
                       c.resamples ? fmt::format("; bootstrap {} resamples, seed {}", c.resamples, c.seed) : "");
  if (!c.noise_source.empty()) out += fmt::format("run-to-run noise from {}\n", c.noise_source);
  out += fmt::format("\n{:<26} {:>12} {:>12} {:>9} {:>7}  {:<9} {:<6} {:<6} {}\n", "metric", "baseline", "current",
                     "change", "limit", "severity", "conf", "verdict", "why");
  for (const auto& m : c.metrics)
    out += fmt::format("{:<26} {:>12.4g} {:>12.4g} {:>9} {:>7}  {:<9} {:<6} {:<6} {}\n", m.name, m.baseline, m.current,
                       change_text(m, 1), limit_text(m), m.severity, m.confidence, to_string(m.verdict), m.reason);
  out += fmt::format("\nverdict: {}\n", to_string(c.verdict));
  return out;
}

std::string comparison_json(const Comparison& c) {
  using Json = nlohmann::ordered_json;
  auto num = [](double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); };
  auto opt = [&](const std::optional<double>& v) { return v ? num(*v) : Json(nullptr); };
  Json metrics = Json::array();
  for (const auto& m : c.metrics) {
    Json j{{"metric", m.name},
           {"unit", m.unit},
           {"direction", to_string(m.direction)},
           {"baseline", num(m.baseline)},
           {"current", num(m.current)},
           {"change_pct", num(m.change_pct)},
           {"change_unit", m.points ? "percentage points" : "percent"},
           {"threshold_pct", m.threshold_pct},
           {"gate", to_string(m.gate)},
           {"comparable", m.comparable},
           {"severity", m.severity},
           {"tested", m.tested},
           {"test", m.test},
           {"data", m.data},
           {"p_value", opt(m.p_value)},
           {"q_value", opt(m.q_value)},
           {"ci_low", opt(m.ci_low)},
           {"ci_high", opt(m.ci_high)},
           {"significant", m.significant},
           {"noise_pct", opt(m.noise_pct)},
           {"beyond_noise", m.beyond_noise},
           {"confidence", m.confidence},
           {"verdict", to_string(m.verdict)},
           {"reason", m.reason}};
    metrics.push_back(j);
  }
  Json j{{"baseline_run", c.baseline_run},
         {"current_run", c.current_run},
         {"same_hardware", c.same_hardware},
         {"samples_used", c.samples_used},
         {"samples_source", c.samples_source},
         {"n_baseline", c.n_baseline},
         {"n_current", c.n_current},
         {"tests", c.tests},
         {"fdr_level", c.fdr_level},
         {"noise_source", c.noise_source},
         {"verdict", to_string(c.verdict)},
         {"notes", c.notes},
         {"metrics", metrics}};
  if (c.resamples) j["bootstrap"] = {{"resamples", c.resamples}, {"seed", c.seed}, {"confidence", 1.0 - c.fdr_level}};
  return j.dump(2) + "\n";
}

}  // namespace trackiq::analysis
