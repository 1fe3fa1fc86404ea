// trackiq history / trackiq detect: one metric of one stored series with its change points
// (CMP-4), and every series of the store at once with false-discovery control (CMP-6).
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "cli_util.hpp"
#include "commands.hpp"
#include "history_util.hpp"
#include "trackiq/analysis/changepoint.hpp"
#include "trackiq/analysis/history.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/metric_registry.hpp"
#include "trackiq/core/result.hpp"
#include "trackiq/report/html.hpp"
#include "trackiq/server/history_json.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::cli {
namespace {
using namespace history_util;  // NOLINT: the helpers shared with cmd_detect.cpp

// ---------------------------------------------------------------------------------------------
// trackiq history
// ---------------------------------------------------------------------------------------------

struct HistoryFlags {
  std::string metric, hardware, workload, scenario, config, run, order = "time", html, store;
  std::optional<std::string> product;  // given, even as '' (imported runs may have no product)
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
    const std::string& c = points[i].commit();
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

// The report model's history section of one series (what `report --history` and `history --html` show).
report::HistorySection history_section(const store::MetricSeries& s, const MetricDef& def, const std::vector<double>& values,
                                       const std::vector<double>& means, const analysis::ChangePointResult& r) {
  report::HistorySection h;
  h.series = s.key.text();
  h.metric = s.metric;
  h.unit = std::string(def.unit);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto& p = s.points[i];
    h.points.push_back({p.run_id(), p.started_at(), p.version(), p.commit(), values[i], means[i]});
  }
  for (const auto& cp : r.change_points)
    h.changes.push_back({cp.index, cp.before, cp.after, cp.magnitude_pct, cp.p_value, std::string(confidence_name(cp.confidence)),
                         change_kind(def, cp.before, cp.after)});
  h.not_tested = r.not_tested;
  return h;
}

int run_history(const HistoryFlags& f) {
  const MetricDef& def = registry_metric(f.metric);
  if (f.json && f.csv) throw InputError("--json and --csv: choose one");
  store::SeriesFilter filter;
  if (f.product) filter.product = *f.product;
  if (!f.hardware.empty()) filter.hardware = f.hardware;
  if (!f.workload.empty()) filter.workload = f.workload;
  if (!f.scenario.empty()) filter.scenario = f.scenario;
  if (!f.config.empty()) filter.config = f.config;
  for (const auto& l : f.labels) filter.labels.push_back(key_value(l, "--label"));
  const auto st = store::open_store(f.store);
  if (!f.run.empty()) {  // the series of this run: its whole key
    if (f.product || !f.hardware.empty() || !f.workload.empty() || !f.scenario.empty() || !f.config.empty())
      throw InputError("--run names the whole series: drop --product, --hardware, --workload, --scenario and --config");
    auto labels = std::move(filter.labels);
    filter = store::series_filter_of(st->load(f.run));
    filter.labels = std::move(labels);
  }
  auto found = st->series(filter, f.metric);
  if (found.empty())
    throw InputError(fmt::format("no stored run with metric {} matches these filters in {}", f.metric, st->location()));
  if (found.size() > 1) {
    std::string keys;
    for (const auto& s : found)
      keys += fmt::format("\n  --product '{}' --hardware {} --workload '{}' --scenario {} --config '{}'  ({} run{})",
                          s.key.product, s.key.hardware_fingerprint, s.key.workload, s.key.scenario, s.key.config,
                          s.points.size(), s.points.size() == 1 ? "" : "s");
    throw InputError(fmt::format("{} series match (a series is one product, hardware, workload, scenario and "
                                 "configuration; they are never mixed): narrow the filters to one of{}",
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
  const auto h = server::series_change_points(s);  // the detector and document of GET /api/v1/history
  const auto& values = h.values;
  const auto& options = h.options;
  const auto& r = h.result;
  const auto& means = h.segment_means;

  if (!f.html.empty()) {
    report::ReportInput in;
    in.title = fmt::format("History of {}", s.metric);
    in.history.push_back(history_section(s, def, values, means, r));
    write_file_atomic(f.html, report::render_html(in).html);
  }
  std::set<std::size_t> starts;
  for (const auto& cp : r.change_points) starts.insert(cp.index);

  if (f.json) {
    std::cout << server::history_json(s, def, h, f.order == "commit" ? &left_out : nullptr);
    return kExitOk;
  }
  if (f.csv) {
    std::cout << "index,run_id,started_at,version,commit,value,segment_mean,change_point\n";
    for (std::size_t i = 0; i < values.size(); ++i) {
      const auto& p = s.points[i];
      std::cout << fmt::format("{},{},{},{},{},{},{},{}\n", i, p.run_id(), csv_field(p.started_at()), csv_field(p.version()),
                               csv_field(p.commit()), values[i], means[i], starts.count(i) ? 1 : 0);
    }
    return kExitOk;
  }
  std::cout << fmt::format("history of {} ({}, {}): {} run{} in {} order\n", s.metric, def.unit, direction_text(def),
                           values.size(), values.size() == 1 ? "" : "s", f.order);
  std::cout << fmt::format("series: product {} / hardware {} / workload {} / scenario {}\nconfig: {}\n",
                           or_dash(s.key.product), or_dash(s.key.hardware_fingerprint), s.key.workload,
                           or_dash(s.key.scenario), or_dash(s.key.config));
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
    std::cout << fmt::format("  {:>5}  {:<8}  {:<24}  {:<12}  {:<10}  {:>12}  {:>12}\n", i, short_id(p.run_id()), p.started_at(),
                             or_dash(p.version()), short_commit(p.commit()), g(values[i]), g(means[i]));
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
      ids += fmt::format("{}{} (commit '{}')", i ? ", " : "", short_id(left_out[i].run_id()), left_out[i].commit());
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
    store::SeriesKey k = store::series_key_of(r);
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(std::move(k));
  }
  std::vector<report::HistorySection> out;
  for (const auto& metric : metrics) {
    const MetricDef& def = registry_metric(metric);
    for (const auto& k : keys) {
      const auto found = st.series(store::series_filter_of(k), metric);
      // A fingerprint prefix can match another key: keep the exact one.
      const auto it = std::find_if(found.begin(), found.end(), [&](const auto& s) { return s.key == k; });
      if (it == found.end()) {
        report::HistorySection h;
        h.series = k.text();
        h.metric = metric;
        h.unit = std::string(def.unit);
        h.not_tested = fmt::format("no stored run of this series has {}", metric);
        out.push_back(std::move(h));
        continue;
      }
      const auto h = server::series_change_points(*it);
      out.push_back(history_section(*it, def, h.values, h.segment_means, h.result));
    }
  }
  return out;
}

Action setup_history(CLI::App& sub) {
  auto f = std::make_shared<HistoryFlags>();
  sub.footer(
      "One metric over the stored runs of one series (a product on one hardware fingerprint, one workload\n"
      "and one scenario, in one configuration: batch size, precision, device, threads, workers, target rate\n"
      "and the workload's options, as --config shows them), oldest first, with its change points: where\n"
      "the level shifted, by how much (segment means before and after), regression or improvement (from\n"
      "the metric registry's direction), p-value and confidence. The detector and its defaults: docs/metrics.md, \"Change points\" (alpha 0.01\n"
      "per series; at least 6 runs on each side of a change, so the last 5 runs cannot start one yet).\n"
      "When the filters match several series, nothing is mixed: the matching series are listed (exit 2).\n\n"
      "--order commit: runs in the order of their commit label in 'git rev-list --topo-order HEAD' of the\n"
      "current directory (a label may be a unique prefix of >= 4 characters); runs of one commit keep their\n"
      "time order; runs whose commit is not in the list are left out and listed.\n"
      "--html FILE: the HTML report's page (self-contained, offline) with only the History section: the\n"
      "chart of the values, segment means and change points (hovering a point names its run, start,\n"
      "version and commit), the changes with the runs around each, and every run in a table.\n\n"
      "Examples:\n"
      "  trackiq history latency_p99_ms --product detector\n"
      "  trackiq history throughput_samples_per_s --product detector --hardware 3f2a --label team=vision --csv\n"
      "  trackiq history latency_p50_ms --product detector --order commit --html history.html\n"
      "  trackiq history latency_p99_ms --run 3f2a9c1e          # the series of that run");
  sub.add_option("metric", f->metric, "A metric of the registry ('trackiq metrics')")->required();
  sub.add_option("--product", f->product, "Product label ('' for runs without one)");
  sub.add_option("--hardware", f->hardware, "Hardware fingerprint, or a prefix of it");
  sub.add_option("--workload", f->workload, "Workload as 'backend:model' (as 'trackiq runs list' shows it)");
  sub.add_option("--scenario", f->scenario, "Scenario (single-stream, multi-stream, server, offline, load, ...)");
  sub.add_option("--config", f->config,
                 "Configuration, exactly as the series list shows it ('batch=8 precision=fp32 device=cpu threads=2 "
                 "workers=1')");
  sub.add_option("--run", f->run, "The series of this stored run (id or prefix): its whole key");
  sub.add_option("--label", f->labels,
                 "KEY=VALUE: only runs with this label (version, branch, commit: a prefix of the SHA, or any other "
                 "label; repeatable)");
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
