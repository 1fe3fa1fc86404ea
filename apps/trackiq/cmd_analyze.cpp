// trackiq analyze ...: analyzers of existing data (ANA). Here: tegrastats (ANA-4) and change
// points in a CSV series (CMP-4); latency and variability are in cmd_analyze_data.cpp.
#include <cmath>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cmd_analyze_data.hpp"
#include "commands.hpp"
#include "trackiq/analysis/changepoint.hpp"
#include "trackiq/analysis/series_csv.hpp"
#include "trackiq/analysis/tegrastats_analysis.hpp"
#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::cli {
namespace {

struct ChangePointFlags {
  std::string file;
  std::string column;
  bool json = false;
  double alpha = 0.01;
  std::size_t min_segment = 6;
  double min_change_pct = 0;
};

std::string changepoints_json(const ChangePointFlags& f, const analysis::CsvSeries& s,
                              const analysis::ChangePointResult& r, const analysis::ChangePointOptions& o) {
  using Json = nlohmann::ordered_json;
  Json cps = Json::array();
  for (const auto& cp : r.change_points) {
    cps.push_back({{"index", cp.index},
                   {"before", cp.before},
                   {"after", cp.after},
                   {"magnitude_pct", std::isnan(cp.magnitude_pct) ? Json(nullptr) : Json(cp.magnitude_pct)},
                   {"p_value", cp.p_value},
                   {"confidence", analysis::confidence_name(cp.confidence)},
                   {"line", s.lines[cp.index]},
                   {"before_begin", cp.before_begin},
                   {"after_end", cp.after_end}});
  }
  Json j = {{"n", r.n}, {"change_points", std::move(cps)}, {"file", f.file}, {"column", s.column}};
  if (!r.not_tested.empty()) j["not_tested"] = r.not_tested;
  j["candidates"] = r.candidates;
  j["autocorrelation"] = r.autocorrelation;
  j["options"] = {{"alpha", o.alpha}, {"min_segment", o.min_segment}, {"min_relative_change", o.min_relative_change}};
  return j.dump(2) + "\n";
}

std::string changepoints_text(const ChangePointFlags& f, const analysis::CsvSeries& s,
                              const analysis::ChangePointResult& r, const analysis::ChangePointOptions& o) {
  std::string out = fmt::format("change points: column '{}' of {}, {} point{}\n", s.column, f.file, r.n, r.n == 1 ? "" : "s");
  if (!r.not_tested.empty()) return out + "no change point: the series is too short to split: " + r.not_tested + "\n";
  out += fmt::format("method: ranks + seeded binary segmentation, confirmed by t and Mann-Whitney tests "
                     "(alpha {:g}, min segment {}{}, residual autocorrelation {:.2f})\n",
                     o.alpha, o.min_segment,
                     o.min_relative_change > 0 ? fmt::format(", min change {:g} %", 100 * o.min_relative_change) : "",
                     r.autocorrelation);
  if (r.change_points.empty()) {
    out += fmt::format("no change point: no split is significant at alpha {:g} ({} candidate{} tested)\n", o.alpha,
                       r.candidates, r.candidates == 1 ? "" : "s");
  } else {
    out += fmt::format("{} change point{}:\n", r.change_points.size(), r.change_points.size() == 1 ? "" : "s");
    out += fmt::format("  {:>7} {:>7}  {:>12}  {:>12}  {:>9}  {:>9}  {}\n", "index", "line", "before", "after", "change",
                       "p-value", "confidence");
    for (const auto& cp : r.change_points) {
      const std::string change = std::isnan(cp.magnitude_pct) ? "n/a" : fmt::format("{:+.1f} %", cp.magnitude_pct);
      out += fmt::format("  {:>7} {:>7}  {:>12.6g}  {:>12.6g}  {:>9}  {:>9.2g}  {}\n", cp.index, s.lines[cp.index],
                         cp.before, cp.after, change, cp.p_value, analysis::confidence_name(cp.confidence));
    }
  }
  out += fmt::format("(a change in the last {} points cannot be confirmed yet: each side needs {} points)\n",
                     o.min_segment - 1, o.min_segment);
  return out;
}

}  // namespace

Action setup_analyze(CLI::App& sub) {
  struct Flags {
    std::string log;
    double throttle_temp = 85;
    std::string interval = "1s";
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  sub.require_subcommand(1);
  CLI::App* teg = sub.add_subcommand("tegrastats", "Utilisation, memory pressure, throttling, power and health from a tegrastats log");
  teg->footer(
      "Analyse a tegrastats log (any Jetson/DRIVE board, JetPack 4-7): CPU/GPU/EMC utilisation, RAM\n"
      "pressure (>= 90 % used), thermal zones reaching --throttle-temp, input-rail power and energy, and\n"
      "a health rating (healthy, warning, critical) with the reasons. Malformed lines are skipped and\n"
      "counted.\n\n"
      "Examples:\n"
      "  trackiq analyze tegrastats tegrastats.log\n"
      "  trackiq analyze tegrastats --log board.log --throttle-temp 80 --json");
  // Positional like every other analyzer's input, and --log as documented before.
  teg->add_option("log,--log", f->log, "The tegrastats log")->required();
  teg->add_option("--throttle-temp", f->throttle_temp, "Temperature (°C) at which a zone counts as throttling")
      ->capture_default_str();
  teg->add_option("--interval", f->interval,
                  "Sampling interval of the log when its lines carry no timestamps (tegrastats' default: 1s)")
      ->capture_default_str();
  teg->add_flag("--json", f->json, "Print JSON");
  auto cf = std::make_shared<ChangePointFlags>();
  CLI::App* cpa = sub.add_subcommand("changepoints", "Change points (level shifts) in a series from a CSV column");
  cpa->footer(
      "Find where the level of a series shifted: one column of a CSV file with a header row, in\n"
      "file order (the first numeric column unless --column). Each change point is the first point of\n"
      "the new segment (0-based index, and its line in the file), with the means before and after,\n"
      "the change in percent, a p-value (family-wise: on a series with no change, a change point is\n"
      "reported in at most about --alpha of series) and a confidence (high: p <= alpha/100, medium:\n"
      "p <= alpha/10, low). Method: ranks + seeded binary segmentation, each candidate confirmed\n"
      "against its neighbouring segments by a winsorised t-test corrected for autocorrelation and a\n"
      "Mann-Whitney U test (docs/metrics.md, \"Change points\"). Robust to skewed noise and outliers:\n"
      "one outlier is not a change. A series shorter than 2 x --min-segment is not split, and the\n"
      "output says so. A cell that is not a finite number is an error (file:line, exit 2).\n\n"
      "Examples:\n"
      "  trackiq analyze changepoints history.csv\n"
      "  trackiq analyze changepoints history.csv --column latency_p99_ms --json\n"
      "  trackiq analyze changepoints nightly.csv --min-change 2 --alpha 0.001");
  cpa->add_option("file", cf->file, "CSV file with a header row")->required();
  cpa->add_option("--column", cf->column, "Column to read (default: the first numeric column)");
  cpa->add_flag("--json", cf->json, "Print JSON: {\"n\", \"change_points\": [{\"index\", \"before\", \"after\", \"magnitude_pct\", \"p_value\", \"confidence\", ...}], ...}");
  cpa->add_option("--alpha", cf->alpha, "Family-wise false-alarm level per series, in (0, 1)")->capture_default_str();
  cpa->add_option("--min-segment", cf->min_segment, "Fewest points on each side of a change (>= 3)")->capture_default_str();
  cpa->add_option("--min-change", cf->min_change_pct, "Drop changes smaller than this many percent of the mean before")
      ->capture_default_str();

  const DataAnalyzers data = add_data_analyzers(sub);
  const FileAnalyzers files = add_file_analyzers(sub);

  return [f, cf, cpa, data, files]() -> int {
    if (data.latency->parsed() || data.variability->parsed()) return data.run();
    if (files.chosen()) return files.run();
    if (cpa->parsed()) {
      analysis::ChangePointOptions o;
      o.alpha = cf->alpha;
      o.min_segment = cf->min_segment;
      if (!(cf->min_change_pct >= 0) || !std::isfinite(cf->min_change_pct))
        throw InputError(fmt::format("--min-change {}: not a percentage >= 0", cf->min_change_pct));
      o.min_relative_change = cf->min_change_pct / 100;
      const auto series = analysis::read_series_csv_file(cf->file, cf->column);
      const auto r = analysis::detect_change_points(series.values, o);
      std::cout << (cf->json ? changepoints_json(*cf, series, r, o) : changepoints_text(*cf, series, r, o));
      return kExitOk;
    }
    const auto interval = parse_duration_ns(f->interval);
    if (!interval || *interval <= 0) throw InputError(fmt::format("--interval '{}': not a duration", f->interval));
    const auto log = telemetry::read_tegrastats_log(f->log);
    // Not one line parsed: this is not a tegrastats log (a wrong file, a truncated capture).
    // A report of "not in this log" everywhere with exit 0 would pass a CI step on nothing.
    if (log.samples.empty()) {
      if (!log.warnings.empty())
        throw InputError(fmt::format("{} (and no line of the file is a tegrastats line)", log.warnings.front()));
      throw InputError(f->log, 0, "no tegrastats line: the file is empty");
    }
    const auto report = analysis::analyze_tegrastats(log, f->throttle_temp, static_cast<double>(*interval) / 1e9);
    std::cout << (f->json ? analysis::tegrastats_report_json(report) : analysis::render_tegrastats_report(report));
    return kExitOk;
  };
}

}  // namespace trackiq::cli
