#ifndef TRACKIQ_ANALYSIS_DNN_PIPELINE_HPP
#define TRACKIQ_ANALYSIS_DNN_PIPELINE_HPP
// `trackiq analyze dnn-pipeline` (ANA-5): where a TensorRT engine's time goes per layer, per layer
// type, GPU vs DLA, and in the host-device transfers, from trtexec's exports (read by
// trackiq/importers/trtexec.hpp), with recommendations that each cite their evidence.
//
// Example:
//   const auto profile = trackiq::importers::read_trtexec_profile(text, path);
//   const auto report = trackiq::analysis::analyze_dnn_pipeline({profile, std::nullopt, std::nullopt});
//   std::cout << trackiq::analysis::render_dnn_pipeline(report);
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace trackiq::analysis {

struct TrtLayerTime {
  std::string name;
  double total_ms = 0;    // timeMs: over all `count` profiled inferences
  double average_ms = 0;  // averageMs
  std::optional<double> median_ms;
  std::optional<double> percentage;  // trtexec's own share of the total
};
struct TrtProfile {
  std::uint64_t count = 0;  // profiled inferences
  std::vector<TrtLayerTime> layers;
};

struct TrtLayerInfo {
  std::string name;
  std::string type;       // LayerType ("CaskConvolution", "Reformat", "gemm", ...); "" when not given
  std::string precision;  // of its first output: "FP32", "FP16", "INT8", "FP8", "BF16", "" when not given
  std::string tactic;     // TacticName
  bool dla = false;       // runs on a DLA core (LayerType or tactic names DLA, or a DLA foreign node)
};

struct TrtTimes {
  // Per inference, in ms. enqueue_ms: endEnq - startEnq (the host's launch cost); h2d/d2h 0 when
  // trtexec ran with --noDataTransfers.
  std::vector<double> h2d_ms, compute_ms, d2h_ms, latency_ms, enqueue_ms;
};

struct DnnPipelineInput {
  TrtProfile profile;
  std::optional<std::vector<TrtLayerInfo>> layer_info;
  std::optional<TrtTimes> times;
  std::size_t top = 10;  // slowest layers listed
};

struct DnnLayerRow {
  std::string name, type, precision, device;  // type/precision/device "" without layer info
  double average_ms = 0;
  std::optional<double> median_ms;
  double share_pct = 0;  // of the sum of the layers' averages
};
struct DnnGroupShare {
  std::string name;  // layer type, or device
  std::size_t layers = 0;
  double average_ms = 0;
  double share_pct = 0;
};
struct DnnTransferStats {
  std::size_t inferences = 0;
  double h2d_mean_ms = 0, compute_mean_ms = 0, d2h_mean_ms = 0, latency_mean_ms = 0, enqueue_mean_ms = 0;
  double compute_p50_ms = 0, compute_p99_ms = 0, latency_p50_ms = 0, latency_p99_ms = 0;
  double transfer_share_pct = 0;  // (h2d + d2h) / latency, means
  bool transfers_measured = false;  // false: every h2d and d2h is 0 (--noDataTransfers)
};
struct DnnRecommendation {
  std::string finding;   // what to do
  std::string evidence;  // the numbers it rests on
};
struct DnnPipelineReport {
  std::uint64_t profiled_inferences = 0;
  std::size_t layer_count = 0;
  double layers_sum_ms = 0;  // Σ averageMs: one profiled inference (profiling serialises layers)
  std::vector<DnnLayerRow> slowest;         // top N by average
  std::vector<DnnGroupShare> by_type;       // empty without layer info
  std::vector<DnnGroupShare> by_device;     // "GPU", "DLA"; empty without layer info
  std::size_t unmatched_layers = 0;         // profiled layers the layer info does not name
  std::optional<DnnTransferStats> transfers;  // with --times
  std::vector<DnnRecommendation> recommendations;
  std::vector<std::string> notes;  // "not available: ..." and caveats
};

DnnPipelineReport analyze_dnn_pipeline(const DnnPipelineInput& input);
std::string render_dnn_pipeline(const DnnPipelineReport& report);
std::string dnn_pipeline_json(const DnnPipelineReport& report);

}  // namespace trackiq::analysis
#endif
