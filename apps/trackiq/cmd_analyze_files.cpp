// trackiq analyze dnn-pipeline: analyzers of other tools' files (ANA-5).
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli_util.hpp"
#include "cmd_analyze_data.hpp"
#include "trackiq/analysis/dnn_pipeline.hpp"
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
  return a;
}

}  // namespace trackiq::cli
