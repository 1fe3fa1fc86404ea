// trackiq detect: change points in every series of the store (each key metric of each series
// key), Benjamini–Hochberg across the series' tests, newest changes first; exit 1 on a regression
// newer than --since (CMP-4, CMP-6). Per-series state in the store makes a new run cost a window.
#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "cli_util.hpp"
#include "commands.hpp"
#include "history_util.hpp"
#include "report_io.hpp"
#include "trackiq/analysis/changepoint.hpp"
#include "trackiq/analysis/history.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/metric_registry.hpp"
#include "trackiq/core/result.hpp"
#include "trackiq/server/history_json.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::cli {
namespace {
using namespace history_util;  // NOLINT: the helpers shared with cmd_history.cpp

struct DetectFlags {
  std::string since, junit, markdown, store;
  double fdr = 0.05;
  std::size_t window = 200;
  bool json = false, full = false, timings = false;
};

// --timings: seconds since the last call, for the phases on stderr.
class Lap {
 public:
  double next() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

using server::kRunsAround;
using Change = server::StoreChange;
using Tested = server::TestedSeries;

std::string runs_text(const Change& c, bool after) {
  const auto& pts = c.tested->series->points;
  const std::size_t b = after ? c.cp.index : (c.cp.index >= kRunsAround ? c.cp.index - kRunsAround : 0);
  const std::size_t e = after ? std::min(pts.size(), c.cp.index + kRunsAround) : c.cp.index;
  std::string out;
  for (std::size_t i = b; i < e; ++i)
    out += fmt::format("{}{} ({}, {})", i == b ? "" : ", ", short_id(pts[i].run_id()), or_dash(pts[i].version()),
                       short_commit(pts[i].commit()));
  return out;
}

std::string headline(const Change& c) {
  return fmt::format("{} {} {:+.1f} % ({} -> {}{}), p {:.2g}, {} confidence", c.kind, c.tested->series->metric,
                     c.cp.magnitude_pct, g(c.cp.before), g(c.cp.after), unit_suffix(c.tested->def->unit), c.cp.p_value,
                     confidence_name(c.cp.confidence));
}

int run_detect(const DetectFlags& f) {
  if (!(f.fdr > 0 && f.fdr < 1)) throw InputError(fmt::format("--fdr {}: must be in (0, 1), e.g. 0.05", f.fdr));
  if (f.window < 12) throw InputError(fmt::format("--window {}: must be at least 12 (two segments of 6 runs)", f.window));
  // "-" writes a report to stdout instead of the console summary; only one thing can go there.
  if ((f.json ? 1 : 0) + (f.markdown == "-" ? 1 : 0) + (f.junit == "-" ? 1 : 0) > 1)
    throw InputError("only one of --json, --markdown - and --junit - can write to stdout");
  Lap lap;
  const auto st = store::open_store(f.store);
  const double t_open = lap.next();
  const server::Since since = server::parse_since(f.since, fmt::format("--since '{}'", f.since),
                                                 [&](const std::string& id) { return st->load(id).started_at; });

  std::map<std::pair<std::string, std::string>, store::SeriesState> states;
  if (!f.full)
    for (auto& s : st->series_states()) states[{s.series, s.metric}] = std::move(s);

  const double t_states = lap.next();
  const auto all = st->series(server::key_metrics_filter(), "");  // read only the metrics that are tested
  const double t_read = lap.next();
  std::vector<store::SeriesState> changed_states;
  server::DetectComputation computed;
  // Each series from its kept state when it only grew (its old last run still at its old place),
  // in full otherwise; the rest (BH across series, the changes, the JSON) is GET /api/v1/changes'.
  const auto detect = [&](const store::MetricSeries& s, std::span<const double> values,
                          const analysis::ChangePointOptions& options) {
    const std::string key = s.key.text();
    std::optional<analysis::SeriesState> previous;
    if (const auto it = states.find({key, s.metric}); it != states.end()) {
      const auto& kept = it->second;
      if (kept.count > 0 && kept.count <= s.points.size() && s.points[kept.count - 1].run_id() == kept.last_run)
        previous = analysis::state_from_json(kept.state);
    }
    auto r = analysis::detect_appended(values, previous ? &*previous : nullptr, options, f.window);
    if (r.full) ++computed.full;
    else if (r.tested_from == values.size()) ++computed.unchanged;
    else ++computed.window;
    if (!previous || r.tested_from != values.size())
      changed_states.push_back({key, s.metric, values.size(), s.points.back().run_id(), analysis::state_to_json(r.state)});
    return std::move(r.result);
  };
  const server::StoreChanges found = server::store_changes(all, f.fdr, since, detect);
  const double t_detect = lap.next();
  st->save_series_states(changed_states);
  if (f.timings) {
    std::size_t points = 0;
    for (const auto& s : all) points += s.points.size();
    fmt::print(stderr,
               "timings: open {:.3f} s, kept states {:.3f} s, read {} series of {} points {:.3f} s, detect and BH {:.3f} s, "
               "save {} states {:.3f} s\n",
               t_open, t_states, all.size(), points, t_read, t_detect, changed_states.size(), lap.next());
  }

  const auto& options = found.options;
  const auto& tested = found.tested;
  const auto& changes = found.changes;
  const auto& bh = found.bh;
  const std::size_t too_short = found.too_short, new_regressions = found.new_regressions;
  const int exit_code = new_regressions ? kExitCheckFailed : kExitOk;
  const std::string since_text = since.text.empty() ? "" : fmt::format(" newer than {}", since.text);
  const std::string fdr_line =
      fmt::format("Benjamini-Hochberg at FDR {:g} over {} test{} (one per series of at least {} runs): {}", f.fdr, bh.tests,
                  bh.tests == 1 ? "" : "s", 2 * options.min_segment,
                  bh.discoveries ? fmt::format("{} series with a change, reported where p <= {:.3g}", bh.discoveries, bh.threshold)
                                 : std::string("no series with a change"));

  if (!f.markdown.empty()) {
    std::string md = fmt::format("# trackiq detect: {}\n\n{} series in {}; {}.\n\n",
                                 new_regressions ? fmt::format("{} regression{}{}", new_regressions,
                                                               new_regressions == 1 ? "" : "s", since_text)
                                                 : "no new regression",
                                 tested.size() + too_short, st->location(), fdr_line);
    if (!changes.empty()) {
      md += "| change | metric | magnitude | before → after | p | confidence | first run after | series | new |\n"
            "|---|---|---:|---|---:|---|---|---|---|\n";
      for (const auto& c : changes)
        md += fmt::format("| {} | {} | {:+.1f} % | {} → {}{} | {:.2g} | {} | `{}` {} {} {} | {} | {} |\n", c.kind,
                          md_cell(c.tested->series->metric), c.cp.magnitude_pct, g(c.cp.before), g(c.cp.after),
                          md_cell(unit_suffix(c.tested->def->unit)), c.cp.p_value, confidence_name(c.cp.confidence),
                          short_id(c.first().run_id()), md_cell(c.first().started_at()), md_cell(or_dash(c.first().version())),
                          md_cell(short_commit(c.first().commit())), md_cell(c.tested->series->key.text()), c.is_new ? "yes" : "no");
    }
    write_output(f.markdown, md);
  }
  if (!f.junit.empty()) {
    std::string cases;
    std::map<const Tested*, std::vector<const Change*>> by_series;
    for (const auto& c : changes) by_series[c.tested].push_back(&c);
    std::size_t failures = 0;
    for (const auto& t : tested) {
      std::string body;
      for (const Change* c : by_series[&t])
        if (c->kind == "regression" && c->is_new) {
          ++failures;
          const std::string msg = fmt::format("{} at run {} ({}, version {}, commit {})", headline(*c), c->first().run_id(),
                                              c->first().started_at(), or_dash(c->first().version()), or_dash(c->first().commit()));
          body += fmt::format("<failure message=\"{0}\" type=\"regression\">{0}</failure>", xml_escape(msg));
          break;  // one failure per test case
        }
      cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\"{}\n", xml_escape(t.series->key.text()),
                           xml_escape(t.series->metric), body.empty() ? "/>" : ">" + body + "</testcase>");
    }
    const std::string xml = fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite "
                                        "name=\"trackiq detect\" tests=\"{}\" failures=\"{}\">\n{}  </testsuite>\n</testsuites>\n",
                                        tested.size(), failures, cases);
    write_output(f.junit, xml);
  }
  if (f.markdown == "-" || f.junit == "-") return exit_code;
  if (f.json) {
    std::cout << server::changes_json(found, st->location(), &computed);
    return exit_code;
  }
  std::cout << fmt::format("detect: {} series in {} ({} with fewer than {} runs not tested; neutral and inform-only "
                           "metrics are not series here)\n",
                           tested.size() + too_short, st->location(), too_short, 2 * options.min_segment);
  std::cout << fdr_line << "\n";
  std::cout << fmt::format("computed: {} in full, {} on their last runs only, {} unchanged since the last detect\n", computed.full,
                           computed.window, computed.unchanged);
  if (changes.empty()) std::cout << "no change point\n";
  for (const auto& c : changes) {
    std::cout << fmt::format("\n{}{}\n", c.is_new ? "" : "(old) ", headline(c));
    std::cout << fmt::format("  series   {}\n", c.tested->series->key.text());
    std::cout << fmt::format("  from run {} started {} (version {}, commit {}), #{} of {}\n", c.first().run_id(),
                             c.first().started_at(), or_dash(c.first().version()), or_dash(c.first().commit()), c.cp.index,
                             c.tested->series->points.size());
    std::cout << fmt::format("  before   {}\n  after    {}\n", runs_text(c, false), runs_text(c, true));
  }
  std::cout << fmt::format("\n{}\n", new_regressions ? fmt::format("FAIL: {} regression{}{}", new_regressions,
                                                                   new_regressions == 1 ? "" : "s", since_text)
                                                     : fmt::format("ok: no regression{}", since_text));
  return exit_code;
}

}  // namespace

Action setup_detect(CLI::App& sub) {
  auto f = std::make_shared<DetectFlags>();
  sub.footer(
      "Every series of the store: each metric that can block a comparison (the registry's gate; neutral\n"
      "and inform-only metrics are skipped) of each series key (product, hardware fingerprint, workload,\n"
      "scenario, configuration: see trackiq history --help), in time order. Each series of at least 12 runs is one test: the change-point detector at\n"
      "alpha = --fdr, the series' p-value its smallest change-point p-value. Benjamini-Hochberg across all\n"
      "tests at level --fdr: with m tests sorted p(1) <= ... <= p(m), k the largest i with p(i) <= i*q/m,\n"
      "change points with p <= k*q/m are reported (docs/metrics.md, \"Change points over the store\").\n"
      "Changes are listed newest first with the runs around them; regression or improvement comes from\n"
      "the metric's direction in the registry.\n\n"
      "Exit 1 when a regression whose first run is newer than --since is found (any regression without\n"
      "--since), 0 otherwise, 2 on bad input. --since DATE counts runs started on or after DATE (UTC);\n"
      "--since RUN counts runs started after that run.\n\n"
      "Incremental: the store keeps each series' change points (table series_state); when a series only\n"
      "grew, the detector re-runs on its points from the second-to-last change point (at most --window\n"
      "runs), and in full when the series has doubled since its last full computation. --full recomputes\n"
      "every series (docs/architecture.md).\n\n"
      "Examples:\n"
      "  trackiq detect\n"
      "  trackiq detect --since 2026-11-01 --junit detect.xml --markdown detect.md\n"
      "  trackiq detect --since 3f2a9c1e --fdr 0.01 --json");
  sub.add_option("--since", f->since, "DATE (YYYY-MM-DD[THH:MM[:SS]Z], UTC) or RUN id: exit 1 only on regressions newer than it");
  sub.add_option("--fdr", f->fdr, "False discovery rate across all series (Benjamini-Hochberg), in (0, 1)")->capture_default_str();
  sub.add_flag("--json", f->json, "Print JSON: fdr, tests, threshold, changes (newest first) with the runs around each");
  sub.add_option("--junit", f->junit, "Also write JUnit XML to FILE: one test case per series, failed by a new regression (- : stdout, instead of the summary)");
  sub.add_option("--markdown", f->markdown, "Also write a Markdown summary (for a PR comment) to FILE (- : stdout, instead of the summary)");
  sub.add_option("--window", f->window, "Incremental re-test: at most this many last runs of a grown series")->capture_default_str();
  sub.add_flag("--full", f->full, "Ignore the kept per-series state: recompute every series in full");
  sub.add_flag("--timings", f->timings, "Print how long each phase took (open, read the series, detect, save the state) on stderr");
  sub.add_option("--store", f->store, kStoreHelp);
  return [f] { return run_detect(*f); };
}

}  // namespace trackiq::cli
