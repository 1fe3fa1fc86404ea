// trackiq: measure, monitor and guard the performance of ML inference.
#include <clocale>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/version.hpp"

namespace trackiq::cli {
namespace {

constexpr Command kCommands[] = {
    {"run", "Benchmark a workload (built-in model, TorchScript, ONNX, command) in a scenario", setup_run},
    {"runs", "List, show, export and remove stored runs", setup_runs},
    {"compare", "Compare two runs: change, significance, severity, PASS/WARN/BLOCK (exit 1 on BLOCK)", setup_compare},
    {"load", "Load an HTTP server (open or closed loop, LLM streaming metrics, sweeps) and measure it", setup_load},
    {"import", "Import results of other tools (gbench, hyperfine, pytest-benchmark, MLPerf, k6, Locust, Criterion, trtexec, vLLM, CSV, ...)", setup_import},
    {"history", "One metric over the stored runs of one series, with its change points (table, JSON, CSV, HTML)", setup_history},
    {"detect", "Change points in every stored series, false discovery rate controlled (exit 1 on a new regression)", setup_detect},
    {"baseline", "Save, list and remove named baselines (per hardware)", setup_baseline},
    {"report", "Write a report of one or more runs: HTML, PDF, Markdown, JUnit XML, JSON or CSV", setup_report},
    {"profiles", "List and show run profiles (settings + SLO constraints)", setup_profiles},
    {"devices", "List CPUs, memory, NVIDIA GPUs and Jetson/DRIVE boards, with stable ids", setup_devices},
    {"serve", "Serve the store over HTTP: a dashboard, a REST API (runs, compare, history, changes, baselines, upload) and Prometheus /metrics", setup_serve},
    {"monitor", "Sample system telemetry at a fixed interval, streaming CSV or JSONL", setup_monitor},
    {"analyze", "Analyse existing data: tegrastats logs, change points, latency percentiles, variability", setup_analyze},
    {"kv-cache", "KV-cache size of a transformer, and the batch and sequence length that fit a device", setup_kv_cache},
    {"backends", "List workload backends, and why any is not available in this build", setup_backends},
    {"metrics", "List the metric registry: name, unit, direction, definition", setup_metrics},
};

int main_impl(int argc, char** argv) {
  CLI::App app{"TrackIQ: measure, monitor and guard the performance of ML inference.", "trackiq"};
  app.set_version_flag("--version", std::string(version()));
  app.require_subcommand(1);
  app.fallthrough(false);
  app.footer("Exit codes: 0 ok, 1 a check failed, 2 bad input or not available, 3 unexpected failure.\n"
             "Run 'trackiq COMMAND --help' for a command's flags.");
  Action chosen;
  std::vector<std::pair<CLI::App*, Action>> subs;
  for (const auto& c : kCommands) {
    CLI::App* sub = app.add_subcommand(std::string(c.name), std::string(c.summary));
    subs.emplace_back(sub, c.setup(*sub));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "trackiq: " << e.what() << "\n";
    return kExitInput;
  }
  for (auto& [sub, action] : subs)
    if (sub->parsed()) chosen = action;
  try {
    return chosen();
  } catch (const InputError& e) {
    std::cerr << "trackiq: " << e.what() << "\n";
    return kExitInput;
  } catch (const NotAvailableError& e) {
    std::cerr << "trackiq: " << e.what() << "\n";
    return kExitInput;
  } catch (const std::exception& e) {
    std::cerr << "trackiq: error: " << e.what() << "\n";
    return kExitRuntime;
  }
}

}  // namespace
}  // namespace trackiq::cli

int main(int argc, char** argv) {
  std::setlocale(LC_ALL, "");  // messages may be localised; numbers are formatted with fmt (locale-free)
  return trackiq::cli::main_impl(argc, argv);
}
