// trackiq history / trackiq detect: one metric of one stored series with its change points
// (CMP-4), and every series of the store at once with false-discovery control (CMP-6).
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <regex>
#include <set>

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
using namespace history_util;  // NOLINT: the helpers shared with cmd_detect.cpp

// ---------------------------------------------------------------------------------------------
// trackiq history
// ---------------------------------------------------------------------------------------------

struct HistoryFlags {
  std::string metric, product, hardware, workload, scenario, order = "time", html, store;
  std::vector<std::string> labels;
  bool json = false, csv = false;
};

// The commits of `git rev-list --topo-order HEAD` in the current directory, oldest first.
std::vector<std::string> git_commits_oldest_first() {
  const std::string dir = std::filesystem::current_path().string();
  FILE* p = ::popen("git rev-list --topo-order HEAD 2>&1", "r");
  if (!p) throw NotAvailableError("--order commit: cannot start git");
  std::string text;
  std::array<char, 4096> buf{};
  while (const std::size_t got = std::fread(buf.data(), 1, buf.size(), p)) text.append(buf.data(), got);
  const int status = ::pclose(p);
  if (status != 0) {
    const auto nl = text.find('\n');
    throw InputError(fmt::format("--order commit: 'git rev-list HEAD' failed in {}: {}", dir,
                                 text.empty() ? "no output (is git installed?)" : text.substr(0, nl)));
  }
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = std::min(text.find('\n', start), text.size());
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

struct Ordered {
  std::vector<store::SeriesPoint> points;
  std::vector<store::SeriesPoint> left_out;  // commit not in the list
};

// Points in commit order (stable: runs of one commit keep their time order). A run's commit
// label may be a prefix (>= 4 characters) of the full hash.
Ordered order_by_commit(const std::vector<store::SeriesPoint>& points, const std::vector<std::string>& commits) {
  std::map<std::string, std::size_t> position;
  for (std::size_t i = 0; i < commits.size(); ++i) position.emplace(commits[i], i);
  Ordered out;
  std::vector<std::pair<std::size_t, std::size_t>> keyed;  // (commit position, original index)
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::string& c = points[i].commit;
    std::optional<std::size_t> at;
    if (c.size() >= 4) {
      const auto it = position.lower_bound(c);
      if (it != position.end() && it->first.compare(0, c.size(), c) == 0) {
        const auto next = std::next(it);
        if (next == position.end() || next->first.compare(0, c.size(), c) != 0) at = it->second;  // unique prefix
      }
    }
    if (at) keyed.emplace_back(*at, i);
    else out.left_out.push_back(points[i]);
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [_, i] : keyed) out.points.push_back(points[i]);
  return out;
}

// The mean of the segment each point belongs to.
std::vector<double> segment_means(const std::vector<double>& v, const analysis::ChangePointResult& r) {
  std::vector<double> out(v.size());
  std::size_t begin = 0;
  for (std::size_t j = 0; j <= r.change_points.size(); ++j) {
    const std::size_t end = j < r.change_points.size() ? r.change_points[j].index : v.size();
    double sum = 0;
    for (std::size_t i = begin; i < end; ++i) sum += v[i];
    for (std::size_t i = begin; i < end; ++i) out[i] = sum / static_cast<double>(end - begin);
    begin = end;
  }
  return out;
}

// The history page: one self-contained file (an SVG chart and the table; no script, no network).
// Each point is a link to its row, whose id is the run id, and its tooltip names the run.
std::string history_html(const store::MetricSeries& s, const MetricDef& def, const std::vector<double>& values,
                         const std::vector<double>& means, const analysis::ChangePointResult& r, const std::string& order) {
  const double w = 960, h = 360, left = 70, right = 20, top = 20, bottom = 40;
  double lo = *std::min_element(values.begin(), values.end());
  double hi = *std::max_element(values.begin(), values.end());
  if (hi == lo) {
    lo -= std::max(1e-9, std::fabs(lo) * 0.05);
    hi += std::max(1e-9, std::fabs(hi) * 0.05);
  }
  const double pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const std::size_t n = values.size();
  const auto x = [&](double i) { return left + (n > 1 ? i / static_cast<double>(n - 1) : 0.5) * (w - left - right); };
  const auto y = [&](double v) { return top + (hi - v) / (hi - lo) * (h - top - bottom); };
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\" "
      "aria-label=\"{} over {} runs\">\n",
      w, h, xml_escape(s.metric), n);
  for (int t = 0; t <= 4; ++t) {
    const double v = lo + (hi - lo) * t / 4.0;
    svg += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" class=\"grid\"/>"
                       "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"end\">{}</text>\n",
                       left, w - right, y(v), y(v), left - 6, y(v) + 4, xml_escape(g(v)));
  }
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"middle\">run ({} order)</text>\n",
                     (left + w - right) / 2, h - 8, order);
  for (const auto& cp : r.change_points)
    svg += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" class=\"cp {3}\"><title>change "
                       "point at run {4}: {5} -> {6}{7} ({8:+.1f} %), p {9:.2g}</title></line>\n",
                       x(static_cast<double>(cp.index) - 0.5), top, h - bottom, change_kind(def, cp.before, cp.after),
                       xml_escape(s.points[cp.index].run_id), g(cp.before), g(cp.after), xml_escape(unit_suffix(def.unit)),
                       cp.magnitude_pct, cp.p_value);
  std::string line, seg;
  for (std::size_t i = 0; i < n; ++i) line += fmt::format("{}{:.1f},{:.1f}", i ? " " : "", x(static_cast<double>(i)), y(values[i]));
  svg += fmt::format("<polyline points=\"{}\" class=\"series\"/>\n", line);
  for (std::size_t i = 0; i < n; ++i)
    if (i == 0 || means[i] != means[i - 1] || (i + 1 < n && means[i + 1] != means[i]) || i + 1 == n)
      seg += fmt::format("{}{:.1f},{:.1f}", seg.empty() ? "" : " ", x(static_cast<double>(i)), y(means[i]));
  svg += fmt::format("<polyline points=\"{}\" class=\"mean\"/>\n", seg);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& p = s.points[i];
    svg += fmt::format("<a href=\"#run-{0}\"><circle cx=\"{1:.1f}\" cy=\"{2:.1f}\" r=\"3.5\" class=\"point\"><title>#{3} run {0}"
                       "\n{4}  version {5}  commit {6}\n{7}{8}</title></circle></a>\n",
                       xml_escape(p.run_id), x(static_cast<double>(i)), y(values[i]), i, xml_escape(p.started_at),
                       xml_escape(or_dash(p.version)), xml_escape(or_dash(p.commit)), g(values[i]), xml_escape(unit_suffix(def.unit)));
  }
  svg += "</svg>\n";

  std::set<std::size_t> starts;
  for (const auto& cp : r.change_points) starts.insert(cp.index);
  std::string rows;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& p = s.points[i];
    rows += fmt::format("<tr id=\"run-{0}\"{1}><td>{2}</td><td><code>{0}</code></td><td>{3}</td><td>{4}</td><td>{5}</td>"
                        "<td class=\"num\">{6}</td><td class=\"num\">{7}</td></tr>\n",
                        xml_escape(p.run_id), starts.count(i) ? " class=\"cp-row\"" : "", i, xml_escape(p.started_at),
                        xml_escape(or_dash(p.version)), xml_escape(or_dash(p.commit)), g(values[i]), g(means[i]));
  }
  std::string cps;
  for (const auto& cp : r.change_points)
    cps += fmt::format("<li class=\"{0}\">{0} at run <a href=\"#run-{1}\"><code>{2}</code></a> (#{3}): {4} &rarr; {5}{6} "
                       "({7:+.1f} %), p {8:.2g}, {9} confidence</li>\n",
                       change_kind(def, cp.before, cp.after), xml_escape(s.points[cp.index].run_id),
                       xml_escape(short_id(s.points[cp.index].run_id)), cp.index, g(cp.before), g(cp.after),
                       xml_escape(unit_suffix(def.unit)), cp.magnitude_pct, cp.p_value, confidence_name(cp.confidence));
  if (cps.empty())
    cps = fmt::format("<li>no change point{}</li>", r.not_tested.empty() ? "" : ": " + xml_escape(r.not_tested));
  return fmt::format(
      R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>trackiq history: {0}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;color:#1d2330}} h1{{font-size:1.3em}}
.grid{{stroke:#e3e6ec}} .tick{{font-size:11px;fill:#5a6275}} .series{{fill:none;stroke:#7a8aa8;stroke-width:1}}
.mean{{fill:none;stroke:#1d2330;stroke-width:2}} .point{{fill:#2f6fdb}} .cp{{stroke-width:2;stroke-dasharray:5 3}}
.cp.regression,li.regression{{stroke:#c62828;color:#c62828}} .cp.improvement,li.improvement{{stroke:#2e7d32;color:#2e7d32}}
.cp.change{{stroke:#6d4c9f}} table{{border-collapse:collapse;font-size:13px}} td,th{{padding:2px 10px;border-bottom:1px solid #e3e6ec}}
.num{{text-align:right}} tr.cp-row{{background:#fff3e0}} tr:target{{background:#e3f2fd}}
</style></head><body>
<h1>{0} ({1}, {2}) over {3} runs in {4} order</h1>
<p>product <b>{5}</b> &middot; hardware <code>{6}</code> &middot; workload <b>{7}</b> &middot; scenario <b>{8}</b></p>
{9}<h2>Change points</h2><ul>
{10}</ul>
<p>Detector: seeded binary segmentation on ranks, confirmed by t and Mann&ndash;Whitney tests (docs/metrics.md, &ldquo;Change points&rdquo;).
The thick line is each segment's mean; click a point for its run.</p>
<h2>Runs</h2>
<table><thead><tr><th>#</th><th>run</th><th>started</th><th>version</th><th>commit</th><th>value</th><th>segment mean</th></tr></thead>
<tbody>
{11}</tbody></table>
</body></html>
)",
      xml_escape(s.metric), xml_escape(std::string(def.unit)), direction_text(def), n, order, xml_escape(or_dash(s.key.product)),
      xml_escape(or_dash(s.key.hardware_fingerprint)), xml_escape(s.key.workload), xml_escape(or_dash(s.key.scenario)), svg, cps,
      rows);
}

int run_history(const HistoryFlags& f) {
  const MetricDef& def = registry_metric(f.metric);
  if (f.json && f.csv) throw InputError("--json and --csv: choose one");
  store::SeriesFilter filter;
  if (!f.product.empty()) filter.product = f.product;
  if (!f.hardware.empty()) filter.hardware = f.hardware;
  if (!f.workload.empty()) filter.workload = f.workload;
  if (!f.scenario.empty()) filter.scenario = f.scenario;
  for (const auto& l : f.labels) filter.labels.push_back(key_value(l, "--label"));
  const auto st = store::open_store(f.store);
  auto found = st->series(filter, f.metric);
  if (found.empty())
    throw InputError(fmt::format("no stored run with metric {} matches these filters in {}", f.metric, st->location()));
  if (found.size() > 1) {
    std::string keys;
    for (const auto& s : found)
      keys += fmt::format("\n  --product '{}' --hardware {} --workload '{}' --scenario {}  ({} runs)", s.key.product,
                          s.key.hardware_fingerprint, s.key.workload, s.key.scenario, s.points.size());
    throw InputError(fmt::format("{} series match (a series is one product, hardware, workload and scenario; they are "
                                 "never mixed): narrow the filters to one of{}",
                                 found.size(), keys));
  }
  store::MetricSeries s = std::move(found[0]);
  std::vector<store::SeriesPoint> left_out;
  if (f.order == "commit") {
    auto o = order_by_commit(s.points, git_commits_oldest_first());
    s.points = std::move(o.points);
    left_out = std::move(o.left_out);
    if (s.points.empty())
      throw InputError(fmt::format("--order commit: none of the {} runs has a commit label found in 'git rev-list HEAD' of {}",
                                   left_out.size(), std::filesystem::current_path().string()));
  }
  std::vector<double> values;
  for (const auto& p : s.points) values.push_back(p.value);
  const analysis::ChangePointOptions options;
  const auto r = analysis::detect_change_points(values, options);
  const auto means = segment_means(values, r);

  if (!f.html.empty()) write_file_atomic(f.html, history_html(s, def, values, means, r, f.order));
  std::set<std::size_t> starts;
  for (const auto& cp : r.change_points) starts.insert(cp.index);

  if (f.json) {
    Json points = Json::array();
    for (std::size_t i = 0; i < values.size(); ++i) {
      Json p = run_json(s.points[i]);
      p["index"] = i;
      p["value"] = values[i];
      p["segment_mean"] = means[i];
      points.push_back(std::move(p));
    }
    Json cps = Json::array();
    for (const auto& cp : r.change_points)
      cps.push_back({{"index", cp.index},
                     {"run_id", s.points[cp.index].run_id},
                     {"previous_run_id", s.points[cp.index - 1].run_id},
                     {"before", cp.before},
                     {"after", cp.after},
                     {"magnitude_pct", num(cp.magnitude_pct)},
                     {"direction", change_kind(def, cp.before, cp.after)},
                     {"p_value", cp.p_value},
                     {"confidence", confidence_name(cp.confidence)}});
    Json j = {{"metric", s.metric},  {"unit", def.unit},    {"better", to_string(def.direction)},
              {"series", key_json(s.key)}, {"order", f.order}, {"n", values.size()},
              {"points", std::move(points)}, {"change_points", std::move(cps)}};
    if (!r.not_tested.empty()) j["not_tested"] = r.not_tested;
    if (f.order == "commit") {
      Json lo = Json::array();
      for (const auto& p : left_out) lo.push_back(run_json(p));
      j["not_in_commit_order"] = std::move(lo);
    }
    j["detector"] = {{"alpha", options.alpha}, {"min_segment", options.min_segment}};
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  if (f.csv) {
    std::cout << "index,run_id,started_at,version,commit,value,segment_mean,change_point\n";
    for (std::size_t i = 0; i < values.size(); ++i) {
      const auto& p = s.points[i];
      std::cout << fmt::format("{},{},{},{},{},{},{},{}\n", i, p.run_id, csv_field(p.started_at), csv_field(p.version),
                               csv_field(p.commit), values[i], means[i], starts.count(i) ? 1 : 0);
    }
    return kExitOk;
  }
  std::cout << fmt::format("history of {} ({}, {}): {} runs in {} order\n", s.metric, def.unit, direction_text(def),
                           values.size(), f.order);
  std::cout << fmt::format("series: product {} / hardware {} / workload {} / scenario {}\n", or_dash(s.key.product),
                           or_dash(s.key.hardware_fingerprint), s.key.workload, or_dash(s.key.scenario));
  std::cout << fmt::format("  {:>5}  {:<8}  {:<24}  {:<12}  {:<10}  {:>12}  {:>12}\n", "#", "run", "started", "version",
                           "commit", "value", "segment mean");
  std::size_t next_cp = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (next_cp < r.change_points.size() && r.change_points[next_cp].index == i) {
      const auto& cp = r.change_points[next_cp++];
      std::cout << fmt::format("  ---- change point: {} -> {}{} ({:+.1f} %), {}, p {:.2g}, {} confidence\n", g(cp.before),
                               g(cp.after), unit_suffix(def.unit), cp.magnitude_pct, change_kind(def, cp.before, cp.after),
                               cp.p_value, confidence_name(cp.confidence));
    }
    const auto& p = s.points[i];
    std::cout << fmt::format("  {:>5}  {:<8}  {:<24}  {:<12}  {:<10}  {:>12}  {:>12}\n", i, short_id(p.run_id), p.started_at,
                             or_dash(p.version), short_commit(p.commit), g(values[i]), g(means[i]));
  }
  if (r.change_points.empty())
    std::cout << (r.not_tested.empty() ? std::string("no change point\n") : "no change point: " + r.not_tested + "\n");
  else
    std::cout << fmt::format("{} change point{} (alpha {:g} per series, segments of at least {} runs; docs/metrics.md)\n",
                             r.change_points.size(), r.change_points.size() == 1 ? "" : "s", options.alpha,
                             options.min_segment);
  if (!left_out.empty()) {
    std::string ids;
    for (std::size_t i = 0; i < left_out.size() && i < 10; ++i)
      ids += fmt::format("{}{} (commit '{}')", i ? ", " : "", short_id(left_out[i].run_id), left_out[i].commit);
    std::cout << fmt::format("{} run{} left out: commit not in 'git rev-list HEAD' of {}: {}{}\n", left_out.size(),
                             left_out.size() == 1 ? "" : "s", std::filesystem::current_path().string(), ids,
                             left_out.size() > 10 ? ", ..." : "");
  }
  if (!f.html.empty()) std::cout << fmt::format("wrote {}\n", f.html);
  return kExitOk;
}

}  // namespace

std::vector<report::HistorySection> history_util::history_sections(const std::vector<Result>& runs,
                                                                   const std::vector<std::string>& metrics,
                                                                   store::Store& st) {
  std::vector<store::SeriesKey> keys;
  for (const auto& r : runs) {
    store::SeriesKey k{r.labels.product, r.environment.hardware_fingerprint, r.workload.backend + ":" + r.workload.model,
                       r.scenario.name};
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  }
  std::vector<report::HistorySection> out;
  for (const auto& metric : metrics) {
    const MetricDef& def = registry_metric(metric);
    for (const auto& k : keys) {
      store::SeriesFilter f;
      f.product = k.product;
      f.hardware = k.hardware_fingerprint;
      f.workload = k.workload;
      f.scenario = k.scenario;
      report::HistorySection h;
      h.series = k.text();
      h.metric = metric;
      h.unit = std::string(def.unit);
      const auto found = st.series(f, metric);
      // A fingerprint prefix can match another key: keep the exact one.
      const auto it = std::find_if(found.begin(), found.end(), [&](const auto& s) { return s.key == k; });
      if (it == found.end()) {
        h.not_tested = fmt::format("no stored run of this series has {}", metric);
        out.push_back(std::move(h));
        continue;
      }
      std::vector<double> values;
      for (const auto& p : it->points) values.push_back(p.value);
      const auto r = analysis::detect_change_points(values);
      const auto means = segment_means(values, r);
      for (std::size_t i = 0; i < values.size(); ++i) {
        const auto& p = it->points[i];
        h.points.push_back({p.run_id, p.started_at, p.version, p.commit, values[i], means[i]});
      }
      for (const auto& cp : r.change_points)
        h.changes.push_back({cp.index, cp.before, cp.after, cp.magnitude_pct, cp.p_value,
                             std::string(confidence_name(cp.confidence)), change_kind(def, cp.before, cp.after)});
      h.not_tested = r.not_tested;
      out.push_back(std::move(h));
    }
  }
  return out;
}

Action setup_history(CLI::App& sub) {
  auto f = std::make_shared<HistoryFlags>();
  sub.footer(
      "One metric over the stored runs of one series (a product on one hardware fingerprint, one workload\n"
      "and one scenario), oldest first, with its change points: where the level shifted, by how much\n"
      "(segment means before and after), regression or improvement (from the metric registry's direction),\n"
      "p-value and confidence. The detector and its defaults: docs/metrics.md, \"Change points\" (alpha 0.01\n"
      "per series; at least 6 runs on each side of a change, so the last 5 runs cannot start one yet).\n"
      "When the filters match several series, nothing is mixed: the matching series are listed (exit 2).\n\n"
      "--order commit: runs in the order of their commit label in 'git rev-list --topo-order HEAD' of the\n"
      "current directory (a label may be a unique prefix of >= 4 characters); runs of one commit keep their\n"
      "time order; runs whose commit is not in the list are left out and listed.\n"
      "--html FILE: one self-contained page (chart with the segment means and change points; each point\n"
      "links to its run's row, its tooltip names the run, version and commit).\n\n"
      "Examples:\n"
      "  trackiq history latency_p99_ms --product detector\n"
      "  trackiq history throughput_samples_per_s --product detector --hardware 3f2a --label team=vision --csv\n"
      "  trackiq history latency_p50_ms --product detector --order commit --html history.html");
  sub.add_option("metric", f->metric, "A metric of the registry ('trackiq metrics')")->required();
  sub.add_option("--product", f->product, "Product label");
  sub.add_option("--hardware", f->hardware, "Hardware fingerprint, or a prefix of it");
  sub.add_option("--workload", f->workload, "Workload as 'backend:model' (as 'trackiq runs list' shows it)");
  sub.add_option("--scenario", f->scenario, "Scenario (single-stream, multi-stream, server, offline, load, ...)");
  sub.add_option("--label", f->labels, "KEY=VALUE: only runs with this extra label (repeatable)");
  sub.add_option("--order", f->order, "time (started_at) or commit (git rev-list of the current directory)")
      ->check(CLI::IsMember({"time", "commit"}))
      ->capture_default_str();
  sub.add_flag("--json", f->json, "Print JSON: points (run, value, segment mean) and change points");
  sub.add_flag("--csv", f->csv, "Print CSV: index,run_id,started_at,version,commit,value,segment_mean,change_point");
  sub.add_option("--html", f->html, "Also write the chart page to FILE");
  sub.add_option("--store", f->store, kStoreHelp);
  return [f] { return run_history(*f); };
}

}  // namespace trackiq::cli
