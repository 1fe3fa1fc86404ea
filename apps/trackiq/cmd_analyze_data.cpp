// trackiq analyze latency / variability: percentiles of a CSV column per group (ANA-1), and how
// steady a series is (ANA-2), from a CSV column, a run's samples or a group's runs.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_util.hpp"
#include "cmd_analyze_data.hpp"
#include "report_io.hpp"
#include "trackiq/analysis/distribution_analysis.hpp"
#include "trackiq/analysis/series_csv.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::cli {
namespace {
using Json = nlohmann::ordered_json;

Json num(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

Json group_json(const analysis::GroupLatency& g, const std::vector<double>& ps) {
  Json j = {{"count", g.count}, {"mean", g.mean}, {"cv", num(g.cv)}, {"min", g.min}, {"max", g.max}};
  Json p = Json::object();
  for (std::size_t i = 0; i < ps.size(); ++i) p[fmt::format("p{:g}", ps[i])] = g.percentiles[i];
  j["percentiles"] = std::move(p);
  return j;
}

std::string latency_text(const analysis::LatencyAnalysis& a, const std::string& file) {
  std::string out = fmt::format("latency: column '{}' of {}{}\n", a.column, file,
                                a.group_by.empty() ? "" : fmt::format(", by '{}'", a.group_by));
  std::string head = fmt::format("  {:<24} {:>8} {:>12} {:>7}", "group", "count", "mean", "cv");
  for (const double p : a.ps) head += fmt::format(" {:>12}", fmt::format("p{:g}", p));
  out += head + fmt::format(" {:>12}\n", "max");
  const auto row = [&](const analysis::GroupLatency& g, const std::string& name) {
    std::string r = fmt::format("  {:<24} {:>8} {:>12.6g} {:>7}", name, g.count, g.mean,
                                std::isnan(g.cv) ? "n/a" : fmt::format("{:.3f}", g.cv));
    for (const double v : g.percentiles) r += fmt::format(" {:>12.6g}", v);
    return r + fmt::format(" {:>12.6g}\n", g.max);
  };
  out += row(a.all, "(all)");
  for (const auto& g : a.groups) out += row(g, g.group);
  out += "(percentiles: numpy's linear method on the exact values; cv: sample standard deviation / mean)\n";
  return out;
}

// The series `what` names: CSV file (with --column or its first numeric column), a run (file or
// stored id: its latency samples in ms, in completion order), or group:NAME (each run's median).
struct NamedSeries {
  std::vector<double> values;
  std::string description;
};

NamedSeries series_of(const std::string& what, const std::string& column, const std::string& store_path) {
  const bool csv = what.size() > 4 && what.substr(what.size() - 4) == ".csv";
  if (csv) {
    const auto s = analysis::read_series_csv_file(what, column);
    return {s.values, fmt::format("column '{}' of {}", s.column, what)};
  }
  std::unique_ptr<store::Store> st;
  if (is_group(what)) {
    st = store::open_store(store_path);
    NamedSeries s;
    for (const Result& r : load_group(*st, what)) {
      if (!r.latency || r.latency->summary_ns.count == 0) continue;
      for (const auto& p : r.latency->summary_ns.percentiles)
        if (p.p == 50) s.values.push_back(p.value / 1e6);
    }
    s.description = fmt::format("median latency (ms) of the {} runs of {}", s.values.size(), what);
    return s;
  }
  if (needs_store(what)) st = store::open_store(store_path);
  Result r = resolve_run(what, st.get(), "");
  // A `run --json` file keeps the histogram, not the samples; the store keeps them, under the
  // file's run id, when the run was stored (the default).
  if ((!r.latency || r.latency->samples_ns.empty()) && !st &&
      (!store_path.empty() || std::filesystem::exists(store::default_store_location()))) {
    st = store::open_store(store_path);
    try {
      Result stored = st->load(r.run_id);
      if (stored.latency && !stored.latency->samples_ns.empty()) r = std::move(stored);
    } catch (const InputError&) {
      // not stored there: said below
    }
  }
  if (!r.latency || r.latency->samples_ns.empty())
    throw NotAvailableError(fmt::format("run {} holds no per-query samples, and the store has none under its id (run "
                                        "with --include-samples, or store it)",
                                        what));
  NamedSeries s;
  for (const auto v : r.latency->samples_ns) s.values.push_back(static_cast<double>(v) / 1e6);
  s.description = fmt::format("latency samples (ms) of run {}", r.run_id);
  return s;
}

}  // namespace

DataAnalyzers add_data_analyzers(CLI::App& analyze) {
  struct Flags {
    std::string file, column, group_by, what, store;
    double sigma = 3;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  DataAnalyzers d;
  d.latency = analyze.add_subcommand("latency", "Exact percentiles, mean and CV of a CSV column, per group");
  d.latency->footer(
      "Percentiles p50, p90, p95, p99, p99.9 (numpy's linear method on the exact values), count, mean, CV\n"
      "(sample standard deviation / mean), min and max of one numeric column, for the whole file and for\n"
      "each value of --group-by. A cell that is not a finite number is 'file:line: what' (exit 2).\n\n"
      "Examples:\n"
      "  trackiq analyze latency requests.csv --column latency_ms\n"
      "  trackiq analyze latency requests.csv --column latency_ms --group-by endpoint --json");
  d.latency->add_option("file", f->file, "CSV file with a header row")->required();
  d.latency->add_option("--column", f->column, "The column of values")->required();
  d.latency->add_option("--group-by", f->group_by, "A column whose values split the rows into groups");
  d.latency->add_flag("--json", f->json, "Print JSON");

  d.variability = analyze.add_subcommand("variability", "How steady a series is: jitter, CV, IQR, outliers, rating");
  d.variability->footer(
      "The series: a CSV column (FILE.csv, --column or its first numeric column), a run's latency samples\n"
      "(a result file or stored run id, in completion order), or group:NAME (each run's median latency, in\n"
      "run order: run-to-run variability). Jitter = mean |x[i] - x[i-1]|; CV = sample std / mean; IQR =\n"
      "q3 - q1 (numpy's linear method); outliers lie beyond --sigma standard deviations of the mean.\n"
      "Rating: CV < 0.1 very consistent, < 0.2 consistent, < 0.3 moderate, else high variability; fewer\n"
      "than 3 values: insufficient data.\n\n"
      "Examples:\n"
      "  trackiq analyze variability latencies.csv --column ms\n"
      "  trackiq analyze variability result.json --sigma 4\n"
      "  trackiq analyze variability group:nightly --json");
  d.variability->add_option("series", f->what, "FILE.csv, a result file or run id, or group:NAME")->required();
  d.variability->add_option("--column", f->column, "CSV: the column (default: the first numeric column)");
  d.variability->add_option("--sigma", f->sigma, "Outliers: beyond this many standard deviations")->capture_default_str();
  d.variability->add_option("--store", f->store, kStoreHelp);
  d.variability->add_flag("--json", f->json, "Print JSON");

  d.run = [f, lat = d.latency]() -> int {
    if (lat->parsed()) {
      const auto a = analysis::analyze_latency_csv(read_text_file(f->file), f->file, f->column, f->group_by);
      if (!f->json) {
        std::cout << latency_text(a, f->file);
        return kExitOk;
      }
      Json j = {{"file", f->file}, {"column", a.column}, {"all", group_json(a.all, a.ps)}};
      if (!a.group_by.empty()) {
        j["group_by"] = a.group_by;
        Json groups = Json::object();
        for (const auto& g : a.groups) groups[g.group] = group_json(g, a.ps);
        j["groups"] = std::move(groups);
      }
      std::cout << j.dump(2) << "\n";
      return kExitOk;
    }
    const auto s = series_of(f->what, f->column, f->store);
    const auto r = analysis::analyze_variability(s.values, f->sigma);
    if (f->json) {
      Json j = {{"series", s.description}, {"n", r.n},         {"mean", r.mean},      {"stddev", r.stddev},
                {"cv", num(r.cv)},         {"jitter", r.jitter}, {"q1", r.q1},        {"q3", r.q3},
                {"iqr", r.iqr},            {"sigma", r.sigma},   {"outliers", r.outliers}, {"rating", r.rating}};
      std::cout << j.dump(2) << "\n";
      return kExitOk;
    }
    std::cout << fmt::format("variability: {}\n", s.description);
    if (r.n < 3) {
      std::cout << fmt::format("  rating      insufficient data ({} value{}; at least 3 are needed)\n", r.n, r.n == 1 ? "" : "s");
      return kExitOk;
    }
    std::cout << fmt::format("  values      {}\n  mean        {:.6g}\n  std         {:.6g}\n  cv          {}\n", r.n, r.mean,
                             r.stddev, std::isnan(r.cv) ? "n/a (mean 0)" : fmt::format("{:.4f}", r.cv));
    std::cout << fmt::format("  jitter      {:.6g} (mean |change| between consecutive values)\n", r.jitter);
    std::cout << fmt::format("  iqr         {:.6g} (q1 {:.6g}, q3 {:.6g})\n", r.iqr, r.q1, r.q3);
    std::string where;
    for (std::size_t i = 0; i < r.outliers.size() && i < 10; ++i) where += fmt::format("{}{}", i ? ", " : "", r.outliers[i]);
    std::cout << fmt::format("  outliers    {} beyond {:g} std{}\n", r.outliers.size(), r.sigma,
                             r.outliers.empty() ? "" : fmt::format(" (0-based positions {}{})", where, r.outliers.size() > 10 ? ", ..." : ""));
    std::cout << fmt::format("  rating      {}\n", r.rating);
    return kExitOk;
  };
  return d;
}

}  // namespace trackiq::cli
