// trackiq compare BASELINE CURRENT: regression gate with statistics on the raw samples (CMP-1..3).
#include <iostream>

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
};

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

  std::unique_ptr<store::Store> st;
  Result base, cur;
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
    cur = resolve_run(f.current, st.get(), f.hardware);
    base = resolve_run(f.baseline, st.get(), f.hardware.empty() ? cur.environment.hardware_fingerprint : f.hardware);
  }

  if (!f.report_path.empty()) report_format(f.report_format, f.report_path);  // a bad format fails before the work
  const auto c = analysis::compare_results(base, cur, o);
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
      "Compare two runs metric by metric: change %, direction from the metric registry, a threshold, a\n"
      "Mann-Whitney U test and a seeded bootstrap CI (median, p99) on the raw latency samples, severity\n"
      "(moderate >= threshold, severe >= 50 %, critical >= 100 %), confidence, and a verdict:\n"
      "PASS, WARN (beyond the threshold but not significant, or significant within it) or BLOCK (beyond the\n"
      "threshold and significant). A threshold exactly reached is not a regression.\n"
      "Exit codes: 0 PASS or WARN, 1 BLOCK, 2 bad usage or input.\n\n"
      "BASELINE and CURRENT are each a result JSON file, a stored run id (or prefix), or a baseline name.\n\n"
      "Examples:\n"
      "  trackiq compare main 3f2a\n"
      "  trackiq compare before.json after.json --threshold latency_p99_ms=15% --markdown\n"
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
