// trackiq detect: change points in every series of the store (each key metric of each series
// key), Benjamini–Hochberg across the series' tests, newest changes first; exit 1 on a regression
// newer than --since (CMP-4, CMP-6). Per-series state in the store makes a new run cost a window.
#include <iostream>
#include <map>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_util.hpp"
#include "commands.hpp"
#include "history_util.hpp"
#include "trackiq/analysis/changepoint.hpp"
#include "trackiq/analysis/history.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/metric_registry.hpp"
#include "trackiq/core/result.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::cli {
namespace {
using namespace history_util;  // NOLINT: the helpers shared with cmd_history.cpp

constexpr std::size_t kRunsAround = 3;  // runs listed on each side of a change

struct DetectFlags {
  std::string since, junit, markdown, store;
  double fdr = 0.05;
  std::size_t window = 200;
  bool json = false, full = false;
};

// Where --since puts the line: a change is new when its first run started at or after `from`
// (a date), or after `from` (a run's own start).
struct Since {
  std::string text;  // as given; "" = no --since (every regression is new)
  std::string from;
  bool inclusive = true;
  bool is_new(const std::string& started_at) const {
    return text.empty() || (inclusive ? started_at >= from : started_at > from);
  }
};

Since parse_since(const std::string& text, store::Store& st) {
  Since s;
  s.text = text;
  if (text.empty()) return s;
  static const std::regex date(R"((\d{4})-(\d{2})-(\d{2})([T ](\d{2}):(\d{2})(:(\d{2})(\.\d+)?)?Z?)?)");
  std::smatch m;
  if (std::regex_match(text, m, date)) {
    const int month = std::stoi(m[2]), day = std::stoi(m[3]);
    const int hour = m[5].matched ? std::stoi(m[5]) : 0, minute = m[6].matched ? std::stoi(m[6]) : 0;
    const int second = m[8].matched ? std::stoi(m[8]) : 0;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
      throw InputError(fmt::format("--since '{}': not a valid date", text));
    s.from = text;
    if (s.from.size() > 10) s.from[10] = 'T';
    if (s.from.back() == 'Z') s.from.pop_back();  // stored times end in Z: "…:00Z" >= "…:00"
    return s;
  }
  if (store::is_run_id_prefix(text)) {
    s.from = st.load(text).started_at;
    s.inclusive = false;
    return s;
  }
  throw InputError(fmt::format("--since '{}': expected a date (YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS]Z, UTC) or a run id", text));
}

struct Tested {
  const store::MetricSeries* series = nullptr;
  const MetricDef* def = nullptr;
  analysis::AppendedResult r;
  double p = 1;  // the series' smallest change-point p-value (1 when none)
};

struct Change {
  const Tested* t = nullptr;
  analysis::ChangePoint cp;
  std::string kind;
  bool is_new = false;
  const store::SeriesPoint& first() const { return t->series->points[cp.index]; }
};

Json around_json(const Change& c) {
  Json before = Json::array(), after = Json::array();
  const auto& pts = c.t->series->points;
  for (std::size_t i = c.cp.index >= kRunsAround ? c.cp.index - kRunsAround : 0; i < c.cp.index; ++i) before.push_back(run_json(pts[i]));
  for (std::size_t i = c.cp.index; i < pts.size() && i < c.cp.index + kRunsAround; ++i) after.push_back(run_json(pts[i]));
  return {{"before", std::move(before)}, {"after", std::move(after)}};
}

std::string runs_text(const Change& c, bool after) {
  const auto& pts = c.t->series->points;
  const std::size_t b = after ? c.cp.index : (c.cp.index >= kRunsAround ? c.cp.index - kRunsAround : 0);
  const std::size_t e = after ? std::min(pts.size(), c.cp.index + kRunsAround) : c.cp.index;
  std::string out;
  for (std::size_t i = b; i < e; ++i)
    out += fmt::format("{}{} ({}, {})", i == b ? "" : ", ", short_id(pts[i].run_id), or_dash(pts[i].version),
                       short_commit(pts[i].commit));
  return out;
}

std::string headline(const Change& c) {
  return fmt::format("{} {} {:+.1f} % ({} -> {}{}), p {:.2g}, {} confidence", c.kind, c.t->series->metric,
                     c.cp.magnitude_pct, g(c.cp.before), g(c.cp.after), unit_suffix(c.t->def->unit), c.cp.p_value,
                     confidence_name(c.cp.confidence));
}

int run_detect(const DetectFlags& f) {
  if (!(f.fdr > 0 && f.fdr < 1)) throw InputError(fmt::format("--fdr {}: must be in (0, 1), e.g. 0.05", f.fdr));
  if (f.window < 12) throw InputError(fmt::format("--window {}: must be at least 12 (two segments of 6 runs)", f.window));
  const auto st = store::open_store(f.store);
  const Since since = parse_since(f.since, *st);

  std::map<std::pair<std::string, std::string>, store::SeriesState> states;
  if (!f.full)
    for (auto& s : st->series_states()) states[{s.series, s.metric}] = std::move(s);

  store::SeriesFilter key_metrics;  // read only the metrics that are tested
  for (const auto& def : metric_registry())
    if (def.direction != Direction::kNeutral && def.gate != Gate::kInformOnly) key_metrics.metrics.emplace_back(def.name);
  const auto all = st->series(key_metrics, "");
  analysis::ChangePointOptions options;
  options.alpha = f.fdr;  // every change point that BH at level q could report (p <= q) is found
  std::vector<Tested> tested;
  std::vector<store::SeriesState> changed_states;
  std::size_t full = 0, incremental = 0, unchanged = 0, too_short = 0;
  for (const auto& s : all) {
    const MetricDef* def = find_metric(s.metric);
    if (!def || def->direction == Direction::kNeutral || def->gate == Gate::kInformOnly) continue;
    std::vector<double> values;
    values.reserve(s.points.size());
    for (const auto& p : s.points) values.push_back(p.value);
    const std::string key = s.key.text();
    std::optional<analysis::SeriesState> previous;
    if (const auto it = states.find({key, s.metric}); it != states.end()) {
      const auto& kept = it->second;
      // Usable only when the series grew by appending: its old last run is still at its old place.
      if (kept.count > 0 && kept.count <= s.points.size() && s.points[kept.count - 1].run_id == kept.last_run)
        previous = analysis::state_from_json(kept.state);
    }
    Tested t{&s, def, analysis::detect_appended(values, previous ? &*previous : nullptr, options, f.window), 1};
    if (t.r.full) ++full;
    else if (t.r.tested_from == values.size()) ++unchanged;
    else ++incremental;
    if (!previous || t.r.tested_from != values.size())
      changed_states.push_back({key, s.metric, values.size(), s.points.back().run_id, analysis::state_to_json(t.r.state)});
    if (values.size() < 2 * options.min_segment) {
      ++too_short;
      continue;
    }
    for (const auto& cp : t.r.result.change_points) t.p = std::min(t.p, cp.p_value);
    tested.push_back(std::move(t));
  }
  st->save_series_states(changed_states);

  std::vector<double> ps;
  for (const auto& t : tested) ps.push_back(t.p);
  const auto bh = analysis::fdr_threshold(ps, f.fdr);
  std::vector<Change> changes;
  for (const auto& t : tested)
    for (const auto& cp : t.r.result.change_points)
      if (cp.p_value <= bh.threshold) {
        Change c{&t, cp, change_kind(*t.def, cp.before, cp.after), false};
        c.is_new = since.is_new(c.first().started_at);
        changes.push_back(std::move(c));
      }
  std::stable_sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) {
    return a.first().started_at > b.first().started_at;
  });
  std::size_t new_regressions = 0;
  for (const auto& c : changes) new_regressions += c.kind == "regression" && c.is_new;
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
                          md_cell(c.t->series->metric), c.cp.magnitude_pct, g(c.cp.before), g(c.cp.after),
                          md_cell(unit_suffix(c.t->def->unit)), c.cp.p_value, confidence_name(c.cp.confidence),
                          short_id(c.first().run_id), md_cell(c.first().started_at), md_cell(or_dash(c.first().version)),
                          md_cell(short_commit(c.first().commit)), md_cell(c.t->series->key.text()), c.is_new ? "yes" : "no");
    }
    write_file_atomic(f.markdown, md);
  }
  if (!f.junit.empty()) {
    std::string cases;
    std::map<const Tested*, std::vector<const Change*>> by_series;
    for (const auto& c : changes) by_series[c.t].push_back(&c);
    std::size_t failures = 0;
    for (const auto& t : tested) {
      std::string body;
      for (const Change* c : by_series[&t])
        if (c->kind == "regression" && c->is_new) {
          ++failures;
          const std::string msg = fmt::format("{} at run {} ({}, version {}, commit {})", headline(*c), c->first().run_id,
                                              c->first().started_at, or_dash(c->first().version), or_dash(c->first().commit));
          body += fmt::format("<failure message=\"{0}\" type=\"regression\">{0}</failure>", xml_escape(msg));
          break;  // one failure per test case
        }
      cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\"{}\n", xml_escape(t.series->key.text()),
                           xml_escape(t.series->metric), body.empty() ? "/>" : ">" + body + "</testcase>");
    }
    write_file_atomic(f.junit, fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite "
                                           "name=\"trackiq detect\" tests=\"{}\" failures=\"{}\">\n{}  </testsuite>\n</testsuites>\n",
                                           tested.size(), failures, cases));
  }
  if (f.json) {
    Json cs = Json::array();
    for (const auto& c : changes) {
      Json j = {{"series", key_json(c.t->series->key)},
                {"metric", c.t->series->metric},
                {"unit", c.t->def->unit},
                {"direction", c.kind},
                {"index", c.cp.index},
                {"before", c.cp.before},
                {"after", c.cp.after},
                {"magnitude_pct", num(c.cp.magnitude_pct)},
                {"p_value", c.cp.p_value},
                {"confidence", confidence_name(c.cp.confidence)},
                {"new", c.is_new},
                {"first_run", run_json(c.first())},
                {"runs", around_json(c)}};
      cs.push_back(std::move(j));
    }
    Json j = {{"store", st->location()},
              {"fdr", f.fdr},
              {"tests", bh.tests},
              {"threshold", bh.threshold},
              {"series", tested.size() + too_short},
              {"too_short", too_short},
              {"since", since.text.empty() ? Json(nullptr) : Json(since.text)},
              {"new_regressions", new_regressions},
              {"changes", std::move(cs)},
              {"computation", {{"full", full}, {"window", incremental}, {"unchanged", unchanged}}}};
    std::cout << j.dump(2) << "\n";
    return exit_code;
  }
  std::cout << fmt::format("detect: {} series in {} ({} with fewer than {} runs not tested; neutral and inform-only "
                           "metrics are not series here)\n",
                           tested.size() + too_short, st->location(), too_short, 2 * options.min_segment);
  std::cout << fdr_line << "\n";
  std::cout << fmt::format("computed: {} in full, {} on their last runs only, {} unchanged since the last detect\n", full,
                           incremental, unchanged);
  if (changes.empty()) std::cout << "no change point\n";
  for (const auto& c : changes) {
    std::cout << fmt::format("\n{}{}\n", c.is_new ? "" : "(old) ", headline(c));
    std::cout << fmt::format("  series   {}\n", c.t->series->key.text());
    std::cout << fmt::format("  from run {} started {} (version {}, commit {}), #{} of {}\n", c.first().run_id,
                             c.first().started_at, or_dash(c.first().version), or_dash(c.first().commit), c.cp.index,
                             c.t->series->points.size());
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
      "scenario), in time order. Each series of at least 12 runs is one test: the change-point detector at\n"
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
  sub.add_option("--junit", f->junit, "Also write JUnit XML: one test case per series, failed by a new regression");
  sub.add_option("--markdown", f->markdown, "Also write a Markdown summary (for a PR comment)");
  sub.add_option("--window", f->window, "Incremental re-test: at most this many last runs of a grown series")->capture_default_str();
  sub.add_flag("--full", f->full, "Ignore the kept per-series state: recompute every series in full");
  sub.add_option("--store", f->store, kStoreHelp);
  return [f] { return run_detect(*f); };
}

}  // namespace trackiq::cli
