// `trackiq analyze dnn-pipeline` (ANA-5): a TensorRT engine's time per layer, per type, per
// device and in the transfers, from trtexec's exports, with recommendations and their evidence.
#include "trackiq/analysis/dnn_pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/analysis/distribution_analysis.hpp"

namespace trackiq::analysis {
namespace {

double mean_of(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return percentile_of_sorted(v, p);
}

// Thresholds of the recommendations (docs/metrics.md, "dnn-pipeline").
constexpr double kReformatSharePct = 5;     // reformatting layers beyond this share
constexpr double kDominantLayerPct = 30;    // one layer beyond this share
constexpr double kTransferSharePct = 20;    // H2D + D2H beyond this share of the latency
constexpr double kEnqueueRatio = 0.5;       // enqueue beyond this fraction of compute
constexpr double kFp32SharePct = 10;        // FP32 layers in a reduced-precision engine
constexpr double kComputeTailRatio = 1.5;   // compute p99 / p50 beyond this

bool is_reformat(const std::string& name, const std::string& type) {
  return type == "Reformat" || name.rfind("Reformatting CopyNode", 0) == 0;
}

}  // namespace

DnnPipelineReport analyze_dnn_pipeline(const DnnPipelineInput& in) {
  DnnPipelineReport r;
  r.profiled_inferences = in.profile.count;
  r.layer_count = in.profile.layers.size();
  for (const auto& l : in.profile.layers) r.layers_sum_ms += l.average_ms;
  const double total = r.layers_sum_ms;
  auto share = [&](double ms) { return total > 0 ? ms / total * 100.0 : 0.0; };

  std::unordered_map<std::string, const TrtLayerInfo*> info;
  if (in.layer_info)
    for (const auto& l : *in.layer_info) info.emplace(l.name, &l);
  std::vector<DnnLayerRow> rows;
  for (const auto& l : in.profile.layers) {
    DnnLayerRow row;
    row.name = l.name;
    row.average_ms = l.average_ms;
    row.median_ms = l.median_ms;
    row.share_pct = share(l.average_ms);
    if (in.layer_info) {
      if (const auto it = info.find(l.name); it != info.end()) {
        row.type = it->second->type.empty() ? "(not given)" : it->second->type;
        row.precision = it->second->precision;
        row.device = it->second->dla ? "DLA" : "GPU";
      } else {
        ++r.unmatched_layers;
        row.type = "(not in layer info)";
      }
    } else if (is_reformat(l.name, "")) {
      row.type = "Reformat";  // named so by TensorRT itself, not guessed
    }
    rows.push_back(std::move(row));
  }

  // Shares per type and per device (only what the layer info tells).
  if (in.layer_info) {
    std::map<std::string, DnnGroupShare> types, devices;
    for (const auto& row : rows) {
      auto& t = types[row.type];
      t.name = row.type;
      ++t.layers;
      t.average_ms += row.average_ms;
      if (!row.device.empty()) {
        auto& d = devices[row.device];
        d.name = row.device;
        ++d.layers;
        d.average_ms += row.average_ms;
      }
    }
    for (auto* groups : {&types, &devices}) {
      auto& out = groups == &types ? r.by_type : r.by_device;
      for (auto& [_, g] : *groups) {
        g.share_pct = share(g.average_ms);
        out.push_back(g);
      }
      std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.average_ms > b.average_ms; });
    }
    if (r.unmatched_layers > 0)
      r.notes.push_back(fmt::format("{} profiled layer(s) are not named in the layer info: the two files may come from "
                                    "different engines",
                                    r.unmatched_layers));
  } else {
    r.notes.push_back("per layer type and GPU vs DLA: not available: needs --layer-info (trtexec --exportLayerInfo)");
  }

  std::vector<std::size_t> order(rows.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rows[a].average_ms > rows[b].average_ms; });
  for (std::size_t i = 0; i < std::min(in.top, order.size()); ++i) r.slowest.push_back(rows[order[i]]);

  // Transfers and launch cost, from --exportTimes.
  if (in.times) {
    const TrtTimes& t = *in.times;
    DnnTransferStats s;
    s.inferences = t.latency_ms.size();
    s.h2d_mean_ms = mean_of(t.h2d_ms);
    s.d2h_mean_ms = mean_of(t.d2h_ms);
    s.compute_mean_ms = mean_of(t.compute_ms);
    s.latency_mean_ms = mean_of(t.latency_ms);
    s.enqueue_mean_ms = mean_of(t.enqueue_ms);
    s.compute_p50_ms = percentile(t.compute_ms, 50);
    s.compute_p99_ms = percentile(t.compute_ms, 99);
    s.latency_p50_ms = percentile(t.latency_ms, 50);
    s.latency_p99_ms = percentile(t.latency_ms, 99);
    s.transfers_measured = std::any_of(t.h2d_ms.begin(), t.h2d_ms.end(), [](double x) { return x > 0; }) ||
                           std::any_of(t.d2h_ms.begin(), t.d2h_ms.end(), [](double x) { return x > 0; });
    s.transfer_share_pct = s.latency_mean_ms > 0 ? (s.h2d_mean_ms + s.d2h_mean_ms) / s.latency_mean_ms * 100.0 : 0.0;
    if (!s.transfers_measured)
      r.notes.push_back("host-device transfers: not available: every h2dMs and d2hMs is 0 (trtexec --noDataTransfers)");
    if (t.enqueue_ms.empty()) r.notes.push_back("enqueue time: not available: the records have no startEnqMs/endEnqMs");
    if (total > 0 && s.compute_mean_ms > 0)
      r.notes.push_back(fmt::format("the layers' averages sum to {:.4g} ms against a mean GPU compute of {:.4g} ms per "
                                    "inference: profiling runs the layers one at a time, which adds overhead",
                                    total, s.compute_mean_ms));
    r.transfers = s;
  } else {
    r.notes.push_back("host-device transfers and enqueue time: not available: needs --times (trtexec --exportTimes)");
  }

  // Recommendations, each with the numbers behind it.
  double reformat_ms = 0;
  std::size_t reformat_n = 0;
  for (const auto& row : rows)
    if (is_reformat(row.name, row.type) && row.average_ms > 0) {
      reformat_ms += row.average_ms;
      ++reformat_n;
    }
  if (share(reformat_ms) >= kReformatSharePct)
    r.recommendations.push_back(
        {"reduce reformatting: give the engine its inputs/outputs in the layout it wants (trtexec --inputIOFormats / "
         "--outputIOFormats) and look for precision or layout changes between adjacent layers",
         fmt::format("{} reformatting layer(s) take {:.3g} ms, {:.1f} % of the layer time (>= {:g} %)", reformat_n,
                     reformat_ms, share(reformat_ms), kReformatSharePct)});
  if (!order.empty() && rows[order[0]].share_pct >= kDominantLayerPct) {
    const auto& top = rows[order[0]];
    r.recommendations.push_back(
        {fmt::format("optimise the dominant layer first: '{}'{}", top.name,
                     top.type.empty() ? "" : fmt::format(" ({}{})", top.type, top.precision.empty() ? "" : ", " + top.precision)),
         fmt::format("it takes {:.1f} % of the layer time ({:.3g} ms of {:.3g} ms; >= {:g} %)", top.share_pct,
                     top.average_ms, total, kDominantLayerPct)});
  }
  if (in.layer_info) {
    double fp32_ms = 0, reduced_ms = 0;
    std::size_t fp32_n = 0;
    for (const auto& row : rows) {
      if (row.precision == "FP32" && !is_reformat(row.name, row.type)) {
        fp32_ms += row.average_ms;
        ++fp32_n;
      } else if (row.precision == "FP16" || row.precision == "BF16" || row.precision == "INT8" || row.precision == "FP8") {
        reduced_ms += row.average_ms;
      }
    }
    if (reduced_ms > 0 && share(fp32_ms) >= kFp32SharePct)
      r.recommendations.push_back(
          {"layers fell back to FP32 in a reduced-precision engine: check their precision constraints and whether "
           "their inputs are in FP32 (trtexec --verbose says why a tactic was not chosen)",
           fmt::format("{} FP32 layer(s) take {:.1f} % of the layer time (>= {:g} %)", fp32_n, share(fp32_ms),
                       kFp32SharePct)});
    const auto dla = std::find_if(r.by_device.begin(), r.by_device.end(), [](const auto& g) { return g.name == "DLA"; });
    const auto gpu = std::find_if(r.by_device.begin(), r.by_device.end(), [](const auto& g) { return g.name == "GPU"; });
    if (dla != r.by_device.end() && gpu != r.by_device.end() && gpu->layers > 0)
      r.recommendations.push_back(
          {"layers fell back from DLA to the GPU: each fallback adds a DLA-GPU transition; check the DLA's supported "
           "layers and --allowGPUFallback",
           fmt::format("{} layer(s) on the GPU ({:.1f} % of the time) and {} on DLA ({:.1f} %)", gpu->layers,
                       gpu->share_pct, dla->layers, dla->share_pct)});
  }
  if (r.transfers) {
    const auto& s = *r.transfers;
    if (s.transfers_measured && s.transfer_share_pct >= kTransferSharePct)
      r.recommendations.push_back(
          {"the host-device copies weigh: use pinned host memory, overlap copies with compute on separate streams, or "
           "keep inputs on the device",
           fmt::format("H2D {:.3g} ms + D2H {:.3g} ms = {:.1f} % of the mean latency {:.3g} ms (>= {:g} %)",
                       s.h2d_mean_ms, s.d2h_mean_ms, s.transfer_share_pct, s.latency_mean_ms, kTransferSharePct)});
    if (!in.times->enqueue_ms.empty() && s.compute_mean_ms > 0 && s.enqueue_mean_ms >= kEnqueueRatio * s.compute_mean_ms)
      r.recommendations.push_back(
          {"the host's launch cost is close to the GPU time: capture the inference in a CUDA graph (trtexec "
           "--useCudaGraph) or batch more work per launch",
           fmt::format("mean enqueue {:.3g} ms against mean compute {:.3g} ms (>= {:g}x)", s.enqueue_mean_ms,
                       s.compute_mean_ms, kEnqueueRatio)});
    if (s.compute_p50_ms > 0 && s.compute_p99_ms >= kComputeTailRatio * s.compute_p50_ms)
      r.recommendations.push_back(
          {"GPU compute time has a tail: look for clock throttling or other work on the GPU (trtexec --useSpinWait, "
           "locked clocks)",
           fmt::format("compute p99 {:.3g} ms is {:.2f}x its p50 {:.3g} ms (>= {:g}x)", s.compute_p99_ms,
                       s.compute_p99_ms / s.compute_p50_ms, s.compute_p50_ms, kComputeTailRatio)});
  }
  return r;
}

std::string render_dnn_pipeline(const DnnPipelineReport& r) {
  std::string out = fmt::format("{} layers, {} profiled inferences; the layers' averages sum to {:.4g} ms\n\n",
                                r.layer_count, r.profiled_inferences, r.layers_sum_ms);
  out += fmt::format("slowest {} layers:\n{:<60} {:<18} {:<5} {:>11} {:>11} {:>7}\n", r.slowest.size(), "layer", "type",
                     "prec", "avg ms", "median ms", "share");
  for (const auto& l : r.slowest) {
    const std::string name = l.name.size() > 60 ? l.name.substr(0, 57) + "..." : l.name;
    out += fmt::format("{:<60} {:<18} {:<5} {:>11.5f} {:>11} {:>6.1f}%\n", name, l.type.empty() ? "-" : l.type,
                       l.precision.empty() ? "-" : l.precision, l.average_ms,
                       l.median_ms ? fmt::format("{:.5f}", *l.median_ms) : "-", l.share_pct);
  }
  auto groups = [&](const char* title, const std::vector<DnnGroupShare>& g) {
    if (g.empty()) return;
    out += fmt::format("\n{}:\n", title);
    for (const auto& x : g)
      out += fmt::format("  {:<24} {:>3} layers {:>11.5f} ms {:>6.1f}%\n", x.name, x.layers, x.average_ms, x.share_pct);
  };
  groups("time per layer type", r.by_type);
  groups("time per device", r.by_device);
  if (r.transfers) {
    const auto& s = *r.transfers;
    out += fmt::format(
        "\nper inference ({} records): latency mean {:.4g} ms (p50 {:.4g}, p99 {:.4g}); H2D {:.4g} ms, compute {:.4g} ms "
        "(p50 {:.4g}, p99 {:.4g}), D2H {:.4g} ms; transfers {:.1f} % of the latency; enqueue {:.4g} ms\n",
        s.inferences, s.latency_mean_ms, s.latency_p50_ms, s.latency_p99_ms, s.h2d_mean_ms, s.compute_mean_ms,
        s.compute_p50_ms, s.compute_p99_ms, s.d2h_mean_ms, s.transfer_share_pct, s.enqueue_mean_ms);
  }
  out += "\nrecommendations:\n";
  if (r.recommendations.empty()) out += "  none: no rule fired (docs/metrics.md lists them)\n";
  for (const auto& rec : r.recommendations) out += fmt::format("  - {}\n    evidence: {}\n", rec.finding, rec.evidence);
  for (const auto& n : r.notes) out += "note: " + n + "\n";
  return out;
}

std::string dnn_pipeline_json(const DnnPipelineReport& r) {
  using Json = nlohmann::ordered_json;
  auto opt = [](const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); };
  Json slowest = Json::array(), types = Json::array(), devices = Json::array(), recs = Json::array();
  for (const auto& l : r.slowest)
    slowest.push_back({{"name", l.name}, {"type", l.type}, {"precision", l.precision}, {"device", l.device},
                       {"average_ms", l.average_ms}, {"median_ms", opt(l.median_ms)}, {"share_pct", l.share_pct}});
  for (const auto& [list, out] : {std::pair{&r.by_type, &types}, std::pair{&r.by_device, &devices}})
    for (const auto& g : *list)
      out->push_back({{"name", g.name}, {"layers", g.layers}, {"average_ms", g.average_ms}, {"share_pct", g.share_pct}});
  for (const auto& rec : r.recommendations) recs.push_back({{"finding", rec.finding}, {"evidence", rec.evidence}});
  Json j{{"layers", r.layer_count},
         {"profiled_inferences", r.profiled_inferences},
         {"layers_sum_ms", r.layers_sum_ms},
         {"slowest", slowest},
         {"by_type", types},
         {"by_device", devices},
         {"unmatched_layers", r.unmatched_layers}};
  if (r.transfers) {
    const auto& s = *r.transfers;
    j["transfers"] = {{"inferences", s.inferences},       {"h2d_mean_ms", s.h2d_mean_ms},
                      {"compute_mean_ms", s.compute_mean_ms}, {"d2h_mean_ms", s.d2h_mean_ms},
                      {"latency_mean_ms", s.latency_mean_ms}, {"enqueue_mean_ms", s.enqueue_mean_ms},
                      {"compute_p50_ms", s.compute_p50_ms}, {"compute_p99_ms", s.compute_p99_ms},
                      {"latency_p50_ms", s.latency_p50_ms}, {"latency_p99_ms", s.latency_p99_ms},
                      {"transfer_share_pct", s.transfer_share_pct}, {"transfers_measured", s.transfers_measured}};
  } else {
    j["transfers"] = nullptr;
  }
  j["recommendations"] = recs;
  j["notes"] = r.notes;
  return j.dump(2);
}

}  // namespace trackiq::analysis
