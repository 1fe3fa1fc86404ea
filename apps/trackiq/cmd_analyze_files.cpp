// trackiq analyze dnn-pipeline, logs and efficiency: analyzers of existing files and runs (ANA-3, 5, 6).
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli_util.hpp"
#include "cmd_analyze_data.hpp"
#include "report_io.hpp"
#include "trackiq/analysis/dnn_pipeline.hpp"
#include "trackiq/analysis/efficiency.hpp"
#include "trackiq/store/store.hpp"
#include "trackiq/analysis/log_analysis.hpp"
#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/importers/trtexec.hpp"

namespace trackiq::cli {

FileAnalyzers add_file_analyzers(CLI::App& analyze) {
  struct Flags {
    std::string profile, times, layer_info;
    std::size_t top = 10;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  FileAnalyzers a;
  a.dnn_pipeline = analyze.add_subcommand("dnn-pipeline", "Where a TensorRT engine's time goes, from trtexec's exports");
  a.dnn_pipeline->footer(
      "Per-layer times from trtexec --exportProfile: the slowest layers, each layer's share of the summed\n"
      "layer averages; with --layer-info (trtexec --exportLayerInfo, --profilingVerbosity=detailed) the share\n"
      "per layer type, per precision and GPU vs DLA; with --times (trtexec --exportTimes) the mean and p50/p99\n"
      "of latency and GPU compute, host-to-device and device-to-host copy time, and the host's enqueue time.\n"
      "Recommendations each cite their evidence; their rules are in docs/metrics.md (\"dnn-pipeline\").\n"
      "Without a file, what it would tell is \"not available\". Bad input: file:line, exit 2.\n\n"
      "Examples:\n"
      "  trackiq analyze dnn-pipeline profile.json\n"
      "  trackiq analyze dnn-pipeline profile.json --layer-info layers.json --times times.json --top 5\n"
      "  trackiq analyze dnn-pipeline profile.json --json");
  a.dnn_pipeline->add_option("profile", f->profile, "trtexec --exportProfile JSON")->required();
  a.dnn_pipeline->add_option("--times", f->times, "trtexec --exportTimes JSON");
  a.dnn_pipeline->add_option("--layer-info", f->layer_info, "trtexec --exportLayerInfo JSON");
  a.dnn_pipeline->add_option("--top", f->top, "Slowest layers listed")->capture_default_str();
  a.dnn_pipeline->add_flag("--json", f->json, "Print JSON");
  a.run = [f]() -> int {
    if (f->top == 0) throw InputError("--top 0: list at least one layer");
    analysis::DnnPipelineInput in;
    in.profile = importers::read_trtexec_profile(read_text_file(f->profile), f->profile);
    if (!f->layer_info.empty())
      in.layer_info = importers::read_trtexec_layer_info(read_text_file(f->layer_info), f->layer_info);
    if (!f->times.empty()) in.times = importers::read_trtexec_times(read_text_file(f->times), f->times);
    in.top = f->top;
    const auto r = analysis::analyze_dnn_pipeline(in);
    std::cout << (f->json ? analysis::dnn_pipeline_json(r) + "\n" : analysis::render_dnn_pipeline(r));
    return kExitOk;
  };

  struct LogFlags {
    std::string file, pattern, preset, unit, threshold;
    double k = 3;
    std::size_t window = 51, top = 20;
    bool json = false;
  };
  auto lf = std::make_shared<LogFlags>();
  a.logs = analyze.add_subcommand("logs", "Latency values in a text log by a pattern: distribution and spikes with line numbers");
  std::string presets;
  for (const auto& p : analysis::log_presets())
    presets += fmt::format("  {:<11} {} (default unit {})\n", p.name, p.description, p.unit);
  a.logs->footer(
      "Pulls one value per line out of any text log with an RE2 regular expression (linear time: no\n"
      "pattern can hang on a long line) that has a named group (?P<value>...) and optionally (?P<unit>...)\n"
      "(ns, us, ms, s, m; else --unit). Lines that do not match are skipped and counted. Prints count, mean,\n"
      "min, max and p50/p90/p95/p99/p99.9 (numpy's linear method) in ms, and the spikes: values above\n"
      "--threshold, or above --k x the median of the previous --window values (checked from the 10th value\n"
      "on), each with its line number; the --top largest are listed, all are counted. A matching line whose\n"
      "value is not a number >= 0 or whose unit is unknown: file:line, exit 2.\n\n"
      "Presets (--preset):\n" + presets +
      "\nExamples:\n"
      "  trackiq analyze logs app.log --preset took\n"
      "  trackiq analyze logs access.log --preset nginx-rt --threshold 500ms\n"
      "  trackiq analyze logs worker.log --pattern 'infer done in (?P<value>[0-9.]+)(?P<unit>ms|s)' --k 5 --json");
  a.logs->add_option("file", lf->file, "The log file")->required();
  auto* pattern = a.logs->add_option("--pattern", lf->pattern, "RE2 expression with (?P<value>...) [and (?P<unit>...)]");
  a.logs->add_option("--preset", lf->preset, "A built-in pattern (listed below)")->excludes(pattern);
  a.logs->add_option("--unit", lf->unit, "Unit of the value when the line gives none (default: the preset's, else ms)");
  a.logs->add_option("--threshold", lf->threshold, "A spike: a value above this duration (e.g. 250ms, 1.5s)");
  a.logs->add_option("--k", lf->k, "A spike: a value above k x the trailing median (> 1)")->capture_default_str();
  a.logs->add_option("--window", lf->window, "Values in the trailing median (>= 3)")->capture_default_str();
  a.logs->add_option("--top", lf->top, "Spikes listed (the largest; all are counted)")->capture_default_str();
  a.logs->add_flag("--json", lf->json, "Print JSON");

  struct EffFlags {
    std::vector<std::string> runs;
    std::string store;
    std::optional<double> price;
    bool json = false;
  };
  auto ef = std::make_shared<EffFlags>();
  a.efficiency = analyze.add_subcommand("efficiency", "Performance per watt, joules per inference, energy cost, Pareto front");
  a.efficiency->footer(
      "For each run: throughput (inferences/s: throughput_samples_per_s, else queries/s x batch), p99, mean\n"
      "power, joules per inference (energy_per_inference_j, else power / throughput), inferences per joule\n"
      "(= performance per watt), the cost of a million inferences at --price-per-kwh, and whether it is on\n"
      "the Pareto front of throughput against energy per inference; then the most efficient and the fastest.\n"
      "Only measured power counts: a run without a power channel, or with estimated power, says \"not\n"
      "available\" (never a modelled TDP). RUN: a result file (a sweep file gives each point), a stored run\n"
      "id or prefix, or group:NAME (every run labelled group=NAME).\n\n"
      "Examples:\n"
      "  trackiq analyze efficiency sweep.json --price-per-kwh 0.30\n"
      "  trackiq analyze efficiency group:batch-sweep --json\n"
      "  trackiq analyze efficiency 3f2a 9c1d 77b0");
  a.efficiency->add_option("runs", ef->runs, "Result files, run ids, or group:NAME")->required();
  a.efficiency->add_option("--store", ef->store, kStoreHelp);
  a.efficiency->add_option("--price-per-kwh", ef->price, "Energy price per kWh (any currency) for the cost column");
  a.efficiency->add_flag("--json", ef->json, "Print JSON");

  a.run = [f, lf, ef, dnn = a.dnn_pipeline, eff = a.efficiency, run_dnn = a.run]() -> int {
    if (dnn->parsed()) return run_dnn();
    if (eff->parsed()) {
      std::unique_ptr<store::Store> st;
      auto store = [&]() -> store::Store& {
        if (!st) st = store::open_store(ef->store);
        return *st;
      };
      std::vector<Result> runs;
      for (const auto& what : ef->runs) {
        std::vector<Result> more = is_group(what)         ? load_group(store(), what)
                                   : !needs_store(what) ? read_results(what)
                                                        : std::vector<Result>{resolve_run(what, &store(), "")};
        for (auto& r : more) runs.push_back(std::move(r));
      }
      const auto e = analysis::analyze_efficiency(runs, ef->price);
      std::cout << (ef->json ? analysis::efficiency_json(e) + "\n" : analysis::render_efficiency(e));
      return kExitOk;
    }
    analysis::LogOptions o;
    if (!lf->preset.empty()) {
      const auto* p = analysis::log_preset(lf->preset);
      if (!p) {
        std::string names;
        for (const auto& x : analysis::log_presets()) names += (names.empty() ? "" : ", ") + std::string(x.name);
        throw InputError(fmt::format("--preset {}: not a preset ({})", lf->preset, names));
      }
      o.pattern = p->pattern;
      o.unit = p->unit;
    } else if (lf->pattern.empty()) {
      throw InputError("analyze logs: give --pattern REGEX or --preset NAME");
    } else {
      o.pattern = lf->pattern;
    }
    if (!lf->unit.empty()) o.unit = lf->unit;
    if (!lf->threshold.empty()) {
      const auto ns = parse_duration_ns(lf->threshold);
      if (!ns || *ns < 0) throw InputError(fmt::format("--threshold '{}': not a duration (e.g. 250ms, 1.5s)", lf->threshold));
      o.threshold_ms = static_cast<double>(*ns) / 1e6;
    }
    o.k = lf->k;
    o.window = lf->window;
    o.top = lf->top;
    const auto r = analysis::analyze_log(read_text_file(lf->file), lf->file, o);
    std::cout << (lf->json ? analysis::log_analysis_json(r, lf->file, o) + "\n" : analysis::render_log_analysis(r, lf->file, o));
    return kExitOk;
  };
  return a;
}

}  // namespace trackiq::cli
