// trackiq compare BASELINE CURRENT: regression gate with statistics on the raw samples (CMP-1..3).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "cli_util.hpp"
#include "commands.hpp"
#include "report_io.hpp"
#include "trackiq/analysis/compare.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::cli {
namespace {

struct CompareFlags {
  std::string baseline, current, store, product, hardware;
  std::vector<std::string> thresholds;
  std::optional<double> latency_pct, throughput_pct, p99_pct;
  bool automatic = false, json = false, markdown = false;
  std::string report_path, report_format, title, theme = "light";
  LlmFlags llm;
  std::uint64_t seed = 42;
  std::size_t history = 10;
  double tail_share_pp = 0.5;
};

// Two sweeps (`trackiq load --concurrency 1,2,4,8 --json`: an array, one result per point):
// point by point, paired by the sweep_point label when both sides have it, else by position;
// Benjamini–Hochberg across the tests of all points.
int compare_sweeps(const CompareFlags& f, const analysis::CompareOptions& o, const std::vector<Result>& bs,
                   const std::vector<Result>& cs) {
  if (!f.report_path.empty()) report_format(f.report_format, f.report_path);  // a bad format fails before the work
  if (bs.size() == 1 || cs.size() == 1) {
    const bool one_base = bs.size() == 1;
    throw InputError(fmt::format("{} is one run and {} a sweep of {} results: a sweep compares with another sweep, "
                                 "point by point (or compare the run with one point's run id)",
                                 one_base ? f.baseline : f.current, one_base ? f.current : f.baseline,
                                 one_base ? cs.size() : bs.size()));
  }
  auto point = [](const Result& r) {
    const auto it = r.labels.extra.find("sweep_point");
    return it == r.labels.extra.end() ? std::string() : it->second;
  };
  const bool labelled = std::all_of(bs.begin(), bs.end(), [&](const Result& r) { return !point(r).empty(); }) &&
                        std::all_of(cs.begin(), cs.end(), [&](const Result& r) { return !point(r).empty(); });
  std::vector<std::pair<Result, Result>> pairs;
  if (labelled) {
    for (const auto& c : cs) {
      const auto b = std::find_if(bs.begin(), bs.end(), [&](const Result& r) { return point(r) == point(c); });
      if (b == bs.end())
        throw InputError(fmt::format("{}: sweep point {} of the current sweep is not in the baseline", f.baseline, point(c)));
      pairs.emplace_back(*b, c);
    }
  } else {
    if (bs.size() != cs.size())
      throw InputError(fmt::format("{} has {} results and {} has {}: unlabelled sweeps pair by position", f.baseline,
                                   bs.size(), f.current, cs.size()));
    for (std::size_t i = 0; i < bs.size(); ++i) pairs.emplace_back(bs[i], cs[i]);
  }
  const auto comparisons = analysis::compare_many(pairs, o);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < comparisons.size(); ++i)
    names.push_back(labelled ? point(pairs[i].second) : fmt::format("#{}", i + 1));
  // The curves (CMP-5): windows of adjacent points along the load axis where a metric stays worse.
  const auto curves = analysis::compare_curves(comparisons, names, o);
  analysis::Verdict worst = curves.verdict;
  std::string json = R"({"points": [)";
  for (std::size_t i = 0; i < comparisons.size(); ++i) {
    const auto& c = comparisons[i];
    worst = std::max(worst, c.verdict);
    if (f.json) json += (i ? "," : "") + analysis::comparison_json(c);
    else if (!f.markdown) std::cout << fmt::format("== sweep point {}\n", names[i]) << analysis::render_comparison_table(c) << "\n";
  }
  if (f.markdown || !f.report_path.empty()) {
    // The report of the current sweep, led by the sweep comparison: its findings (each point's
    // and each curve window's) decide the report's verdict as they decide the exit code.
    report::ReportInput in;
    in.title = f.title.empty() ? fmt::format("compare sweeps {} -> {}", f.baseline, f.current) : f.title;
    for (const auto& [b, c] : pairs) in.runs.push_back(c);
    in.sweep = report::SweepComparison{names, comparisons, curves, worst};
    add_narrative(in, f.llm);
    if (f.markdown) std::cout << report::render_markdown(in);
    if (!f.report_path.empty()) write_report(in, f.report_format, f.report_path, f.theme);
  }
  if (f.json) {
    std::cout << json << R"(], "curves": )" << analysis::curve_comparison_json(curves)
              << fmt::format(R"(, "verdict": "{}"}})", analysis::to_string(worst)) << "\n";
  } else if (!f.markdown) {
    std::cout << analysis::render_curve_comparison(curves) << "\n";
    std::cout << fmt::format("sweep verdict: {} ({} points)\n", analysis::to_string(worst), comparisons.size());
  }
  return worst == analysis::Verdict::kBlock ? kExitCheckFailed : kExitOk;
}

int compare(const CompareFlags& f) {
  analysis::CompareOptions o;
  o.seed = f.seed;
  if (f.latency_pct) o.latency_pct = *f.latency_pct;
  if (f.throughput_pct) o.throughput_pct = *f.throughput_pct;
  if (f.p99_pct) o.p99_pct = *f.p99_pct;
  for (const auto& t : f.thresholds) {
    const auto eq = t.find('=');
    std::string value = eq == std::string::npos ? "" : t.substr(eq + 1);
    if (!value.empty() && value.back() == '%') value.pop_back();
    double pct = 0;
    try {
      std::size_t used = 0;
      pct = std::stod(value, &used);
      if (used != value.size() || pct < 0) throw std::invalid_argument(value);
    } catch (const std::exception&) {
      throw InputError(fmt::format("--threshold '{}': expected METRIC=PCT, e.g. latency_p99_ms=10%", t));
    }
    const std::string metric_name = t.substr(0, eq);
    if (!find_metric(metric_name)) throw InputError(fmt::format("--threshold '{}': unknown metric '{}'", t, metric_name));
    o.thresholds_pct[metric_name] = pct;
  }

  if (!(f.tail_share_pp >= 0)) throw InputError(fmt::format("--tail-share-pp {}: must be >= 0", f.tail_share_pp));
  o.tail_share_pp = f.tail_share_pp;
  if (!f.automatic) {
    check_named_file(f.baseline);
    check_named_file(f.current);
  }
  if (!f.automatic && !needs_store(f.baseline) && !needs_store(f.current)) {
    std::vector<Result> bs = read_results(f.baseline), cs = read_results(f.current);
    if (bs.size() > 1 || cs.size() > 1) return compare_sweeps(f, o, bs, cs);
  }
  std::unique_ptr<store::Store> st;
  Result base, cur;
  analysis::NoiseRuns noise;
  if (f.automatic) {
    if (f.product.empty()) throw InputError("--auto needs --product");
    st = store::open_store(f.store);
    store::RunFilter filter;
    filter.product = f.product;
    if (!f.hardware.empty()) filter.hardware = f.hardware;
    filter.limit = 0;
    std::vector<store::RunSummary> ci_runs;
    for (auto& r : st->list(filter))
      if (r.ci) ci_runs.push_back(r);
    if (ci_runs.empty())
      throw InputError(fmt::format("--auto: no CI runs of product '{}'{} (local runs are never auto-compared)", f.product,
                                   f.hardware.empty() ? "" : " on hardware " + f.hardware));
    // The newest CI run decides the hardware; the baseline is the newest earlier run on the
    // same hardware with a different version.
    const auto& newest = ci_runs.front();
    const store::RunSummary* older = nullptr;
    for (const auto& r : ci_runs)
      if (r.hardware_fingerprint == newest.hardware_fingerprint && r.version != newest.version) {
        older = &r;
        break;
      }
    if (!older)
      throw InputError(fmt::format("--auto: on hardware {} every CI run of '{}' has version '{}': nothing to compare",
                                   newest.hardware_fingerprint, f.product, newest.version));
    fmt::print(stderr,
               "auto: current {} (version {}, the newest CI run of {}), baseline {} (version {}, the newest CI run "
               "on the same hardware {} with another version)\n",
               newest.run_id, newest.version, f.product, older->run_id, older->version, newest.hardware_fingerprint);
    cur = st->load(newest.run_id);
    base = st->load(older->run_id);
  } else {
    if (f.baseline.empty() || f.current.empty()) throw InputError("compare needs BASELINE and CURRENT (or --auto --product P)");
    if (needs_store(f.baseline) || needs_store(f.current)) st = store::open_store(f.store);
    if (is_group(f.current)) {
      noise.current = load_group(*st, f.current);
      cur = analysis::merge_runs(noise.current, f.current);
    } else {
      cur = resolve_run(f.current, st.get(), f.hardware);
    }
    if (is_group(f.baseline)) {
      noise.baseline = load_group(*st, f.baseline);
      base = analysis::merge_runs(noise.baseline, f.baseline);
    } else {
      base = resolve_run(f.baseline, st.get(), f.hardware.empty() ? cur.environment.hardware_fingerprint : f.hardware);
    }
  }

  // Run-to-run noise: from the groups, else from the stored history of the baseline's series
  // (the same for a file and a stored run: a file's store is consulted when one exists).
  if (!noise.baseline.empty() || !noise.current.empty()) {
    if (noise.baseline.empty()) noise.baseline = {base};
    if (noise.current.empty()) noise.current = {cur};
    auto runs = [](std::size_t n) { return fmt::format("{} run{}", n, n == 1 ? "" : "s"); };
    noise.source = fmt::format("{} ({}) vs {} ({}), each run's value", is_group(f.baseline) ? f.baseline : "the baseline",
                               runs(noise.baseline.size()), is_group(f.current) ? f.current : "the current run",
                               runs(noise.current.size()));
  } else if (f.history > 1) {
    if (!st && (!f.store.empty() || std::filesystem::exists(store::default_store_location())))
      st = store::open_store(f.store);
    if (st) {
      noise.baseline = store::series_history(*st, base, cur, f.history);
      noise.current = {cur};
      noise.source = store::series_history_source(base, noise.baseline.size());
    }
  }

  if (!f.report_path.empty()) report_format(f.report_format, f.report_path);  // a bad format fails before the work
  const auto c = analysis::compare_results(base, cur, o, noise.baseline.empty() ? nullptr : &noise);
  report::ReportInput in;
  in.title = f.title.empty() ? fmt::format("compare {} -> {}", base.run_id.substr(0, 8), cur.run_id.substr(0, 8)) : f.title;
  in.comparison = c;
  if (f.json) std::cout << analysis::comparison_json(c);
  else if (f.markdown || !f.report_path.empty()) {
    in.runs = {base, cur};
    add_narrative(in, f.llm);
    if (f.markdown) std::cout << report::render_markdown(in);
    if (!f.report_path.empty()) write_report(in, f.report_format, f.report_path, f.theme);
  }
  if (!f.json && !f.markdown) std::cout << analysis::render_comparison_table(c);
  return c.verdict == analysis::Verdict::kBlock ? kExitCheckFailed : kExitOk;
}

}  // namespace

Action setup_compare(CLI::App& sub) {
  auto f = std::make_shared<CompareFlags>();
  sub.footer(
      "Compare two runs metric by metric: change, direction from the metric registry, a threshold, a test of\n"
      "that statistic on the per-request data, severity, confidence and a verdict. Tests: the mean by Welch's\n"
      "t-test, the median by Mann-Whitney U with the bootstrap CI of the median, p90/p95/p99/p99.9 by the\n"
      "bootstrap CI of the percentile (only with >= 10 values beyond it on each side), a closed loop's\n"
      "throughput through the mean latency, the tail share (requests beyond the baseline's maximum, or its\n"
      "p99.9 from 1,000 values on, plus the p99 threshold) by Fisher's exact test; load runs' TTFT/TPOT/ITL/E2EL on their per-request\n"
      "distributions. Exact samples when both sides kept them, else the lossless histograms. Benjamini-\n"
      "Hochberg across the tests (5 %). A test counts only when its CI lies wholly on the bad side.\n"
      "Verdicts: PASS, WARN (beyond the threshold but not significant or within the run-to-run noise, or\n"
      "significant within it, or a spread/extreme/client-cost metric: those never block) or BLOCK (beyond\n"
      "the threshold, significant, and beyond the noise band when one is known; without per-request data,\n"
      "beyond the threshold). A threshold exactly reached is not a regression.\n"
      "Run-to-run noise: with group:NAME on a side (runs of `trackiq run --repeat N --group NAME`), or from\n"
      "the stored history of the baseline's series (same product, version, hardware, workload, scenario;\n"
      "--history), a BLOCK must also exceed the between-run band (pooled t interval over the runs' values).\n"
      "Exit codes: 0 PASS or WARN, 1 BLOCK, 2 bad usage or input.\n\n"
      "BASELINE and CURRENT are each a result JSON file, a stored run id (or prefix), a baseline name, or\n"
      "group:NAME (of a sharded load group, `trackiq load --shard K/N --group NAME`: its newest merged run,\n"
      "from `trackiq runs merge --group NAME`). Two sweep files (`trackiq load --concurrency 1,2,4 --json`: arrays) compare point by point\n"
      "(paired by sweep point), with Benjamini-Hochberg across the tests of all points, then as curves along\n"
      "the load axis (CMP-5): a window of >= 2 adjacent points where a metric is worse than its threshold at\n"
      "every point is a sustained degradation (\"p99_ttft_ms worse by 18-25 % from rate=8 to rate=16\"), tested\n"
      "by Fisher's combination of the points' one-sided p-values, Benjamini-Hochberg across windows; it blocks\n"
      "when significant even if no single point is. --json prints {\"points\": [...], \"curves\": {...}}; --markdown\n"
      "and --report write the current sweep's report led by the curve windows and each point's findings (HTML:\n"
      "each curve metric drawn for both sweeps along the axis).\n\n"
      "Examples:\n"
      "  trackiq compare main 3f2a\n"
      "  trackiq compare before.json after.json --threshold latency_p99_ms=15% --markdown\n"
      "  trackiq compare group:before group:after          # after: trackiq run ... --repeat 5 --group before\n"
      "  trackiq compare sweep_before.json sweep_after.json  # point by point\n"
      "  trackiq compare sweep_before.json sweep_after.json --report sweeps.html\n"
      "  trackiq compare --auto --product detector\n"
      "  trackiq compare main 3f2a --report compare.xml        # JUnit for CI (also .html, .pdf, .md, .json, .csv)");
  sub.add_option("baseline", f->baseline, "Baseline: file, run id or baseline name");
  sub.add_option("current", f->current, "Current: file, run id or baseline name");
  sub.add_option("--threshold", f->thresholds, "METRIC=PCT, e.g. latency_p99_ms=10%; repeatable");
  sub.add_option("--latency-pct", f->latency_pct, "Threshold for latency metrics other than p99 (default 5)");
  sub.add_option("--throughput-pct", f->throughput_pct, "Threshold for throughput metrics (default 5)");
  sub.add_option("--p99-pct", f->p99_pct, "Threshold for p99 and p99.9 latency (default 10)");
  sub.add_flag("--auto", f->automatic, "Pick the two newest CI runs of --product on the same hardware with different versions");
  sub.add_option("--product", f->product, "--auto: the product");
  sub.add_option("--hardware", f->hardware, "Hardware fingerprint for --auto or for resolving a baseline name");
  sub.add_option("--seed", f->seed, "Bootstrap seed")->capture_default_str();
  sub.add_option("--history", f->history,
                 "Runs of the baseline's stored series used for the run-to-run noise band (0 or 1: none)")
      ->capture_default_str();
  sub.add_option("--tail-share-pp", f->tail_share_pp,
                 "Threshold of the tail share: percentage points more requests beyond the baseline's cut")
      ->capture_default_str();
  sub.add_option("--store", f->store, cli::kStoreHelp);
  sub.add_flag("--json", f->json, "Print JSON");
  sub.add_flag("--markdown", f->markdown, "Print the Markdown report, verdict first (for PR comments)");
  sub.add_option("--report", f->report_path, "Also write a report FILE: format from --report-format or the extension");
  sub.add_option("--report-format", f->report_format, "html, pdf, md, junit, json or csv");
  sub.add_option("--title", f->title, "Report title");
  add_theme_option(sub, f->theme);
  f->llm.add_to(sub);
  return [f] { return compare(*f); };
}

}  // namespace trackiq::cli
