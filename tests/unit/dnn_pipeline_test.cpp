// `analyze dnn-pipeline` (ANA-5) on trtexec's real exports (../shared/testdata/tensorrt-trtexec).
// Expected values were computed independently with numpy from the same files.
#include <gtest/gtest.h>

#include <string>

#include "support/test_paths.hpp"
#include "trackiq/analysis/dnn_pipeline.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/importers/importers.hpp"
#include "trackiq/importers/trtexec.hpp"

namespace trackiq {
namespace {

const std::string kDir = std::string(test::kTestdataDir) + "/tensorrt-trtexec/";
const std::string kProfile = kDir + "exportProfile_alexnet_fp16_trt10_RTX3060laptop.json";
const std::string kLayers = kDir + "exportLayerInfo_alexnet_fp16_trt10_RTX3060laptop.json";
const std::string kTimes = kDir + "exportTimes_alexnet_fp16_trt10_RTX3060laptop_TRIMMED.json";
const std::string kFpn = kDir + "exportProfile_fpn_qnx_count625_EXCERPT.json";

analysis::TrtProfile profile(const std::string& path) {
  return importers::read_trtexec_profile(importers::read_file(path), path);
}

const analysis::DnnGroupShare& group(const std::vector<analysis::DnnGroupShare>& g, const std::string& name) {
  for (const auto& x : g)
    if (x.name == name) return x;
  throw std::out_of_range(name);
}

TEST(DnnPipeline, AlexNetWithLayerInfoAndTimes) {
  analysis::DnnPipelineInput in;
  in.profile = profile(kProfile);
  in.layer_info = importers::read_trtexec_layer_info(importers::read_file(kLayers), kLayers);
  in.times = importers::read_trtexec_times(importers::read_file(kTimes), kTimes);
  in.top = 3;
  const auto r = analysis::analyze_dnn_pipeline(in);
  EXPECT_EQ(r.profiled_inferences, 14590u);
  EXPECT_EQ(r.layer_count, 14u);
  EXPECT_NEAR(r.layers_sum_ms, 0.52417137, 1e-12);
  ASSERT_EQ(r.slowest.size(), 3u);
  EXPECT_EQ(r.slowest[0].name, "/classifier/classifier_1/Gemm_myl9_2");
  EXPECT_EQ(r.slowest[0].type, "gemm");
  EXPECT_EQ(r.slowest[0].precision, "FP16");
  EXPECT_EQ(r.slowest[0].device, "GPU");
  EXPECT_NEAR(r.slowest[0].share_pct, 0.239573 / 0.52417137 * 100, 1e-9);
  EXPECT_NEAR(group(r.by_type, "gemm").share_pct, 72.47232904002368, 1e-9);
  EXPECT_EQ(group(r.by_type, "gemm").layers, 3u);
  EXPECT_EQ(group(r.by_type, "CaskConvolution").layers, 5u);
  EXPECT_EQ(group(r.by_type, "Reformat").layers, 1u);
  ASSERT_EQ(r.by_device.size(), 1u);
  EXPECT_EQ(r.by_device[0].name, "GPU");
  EXPECT_EQ(r.unmatched_layers, 0u);
  ASSERT_TRUE(r.transfers);
  EXPECT_EQ(r.transfers->inferences, 40u);
  EXPECT_NEAR(r.transfers->compute_mean_ms, 0.49796145, 1e-9);
  EXPECT_NEAR(r.transfers->compute_p50_ms, 0.497803, 1e-9);
  EXPECT_NEAR(r.transfers->compute_p99_ms, 0.499023, 1e-9);
  EXPECT_NEAR(r.transfers->enqueue_mean_ms, 0.0015, 1e-9);
  EXPECT_FALSE(r.transfers->transfers_measured) << "trtexec ran with data transfers disabled";
  // The one rule that fires: the first Gemm takes 45.7 % (>= 30 %).
  ASSERT_EQ(r.recommendations.size(), 1u) << analysis::render_dnn_pipeline(r);
  EXPECT_NE(r.recommendations[0].finding.find("Gemm_myl9_2"), std::string::npos);
  EXPECT_NE(r.recommendations[0].evidence.find("45.7 %"), std::string::npos) << r.recommendations[0].evidence;
  const std::string text = analysis::render_dnn_pipeline(r);
  EXPECT_NE(text.find("not available: every h2dMs and d2hMs is 0"), std::string::npos) << text;
  const std::string json = analysis::dnn_pipeline_json(r);
  EXPECT_NE(json.find("\"by_type\""), std::string::npos);
}

TEST(DnnPipeline, ProfileAloneSaysWhatIsNotAvailableAndFlagsReformatting) {
  analysis::DnnPipelineInput in;
  in.profile = profile(kFpn);
  const auto r = analysis::analyze_dnn_pipeline(in);
  EXPECT_EQ(r.profiled_inferences, 625u);
  EXPECT_EQ(r.layer_count, 21u);
  EXPECT_NEAR(r.layers_sum_ms, 2.98569853, 1e-9);
  EXPECT_TRUE(r.by_type.empty());
  EXPECT_FALSE(r.transfers);
  EXPECT_FALSE(r.slowest[0].median_ms) << "this export has no medianMs";
  // The eight fused convolutions take 54 % here; reformatting 2.3 % (< 5 %: no rule).
  bool dominant = false, reformat = false;
  for (const auto& rec : r.recommendations) {
    dominant |= rec.finding.find("dominant layer") != std::string::npos;
    reformat |= rec.finding.find("reformatting") != std::string::npos;
  }
  EXPECT_TRUE(dominant);
  EXPECT_FALSE(reformat);
  const std::string text = analysis::render_dnn_pipeline(r);
  EXPECT_NE(text.find("not available: needs --layer-info"), std::string::npos);
  EXPECT_NE(text.find("not available: needs --times"), std::string::npos);
}

TEST(DnnPipeline, RulesFireOnTheirEvidence) {
  // Reformatting 10 %, FP32 fallback in an FP16 engine, copies at 40 % of the latency, a launch
  // cost near the compute time and a compute tail: each rule, from a constructed engine.
  analysis::DnnPipelineInput in;
  in.profile.count = 100;
  in.profile.layers = {{"Reformatting CopyNode for Input Tensor 0 to conv", 1, 0.1, std::nullopt, std::nullopt},
                       {"conv", 4, 0.4, std::nullopt, std::nullopt},
                       {"fc", 5, 0.5, std::nullopt, std::nullopt}};
  in.layer_info = std::vector<analysis::TrtLayerInfo>{{"Reformatting CopyNode for Input Tensor 0 to conv", "Reformat", "FP16", "", false},
                                                      {"conv", "CaskConvolution", "FP16", "", false},
                                                      {"fc", "gemm", "FP32", "", false}};
  analysis::TrtTimes t;
  for (int i = 0; i < 100; ++i) {
    t.h2d_ms.push_back(0.3);
    t.d2h_ms.push_back(0.1);
    t.compute_ms.push_back(i == 99 ? 2.0 : 0.6);  // p99 interpolates to 0.614 ... tail at the top
    t.latency_ms.push_back(1.0);
    t.enqueue_ms.push_back(0.5);
  }
  t.compute_ms[98] = 2.0;  // two slow ones: p99 = 2.0 > 1.5 x p50
  in.times = t;
  const auto r = analysis::analyze_dnn_pipeline(in);
  std::string all;
  for (const auto& rec : r.recommendations) all += rec.finding + " | " + rec.evidence + "\n";
  EXPECT_NE(all.find("reduce reformatting"), std::string::npos) << all;
  EXPECT_NE(all.find("10.0 % of the layer time"), std::string::npos) << all;
  EXPECT_NE(all.find("fell back to FP32"), std::string::npos) << all;
  EXPECT_NE(all.find("H2D 0.3 ms + D2H 0.1 ms = 40.0 %"), std::string::npos) << all;
  EXPECT_NE(all.find("CUDA graph"), std::string::npos) << all;
  EXPECT_NE(all.find("compute time has a tail"), std::string::npos) << all;
  EXPECT_NE(all.find("dominant layer"), std::string::npos) << all;  // fc: 50 %
}

TEST(DnnPipeline, BadFilesAreFileLineErrors) {
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([] { importers::read_trtexec_profile("[{\"count\": 3},\n{\"name\": \"a\", \"averageMs\": -1}]", "p.json"); })
                .find("p.json:2: $[1].averageMs: negative"),
            std::string::npos);
  EXPECT_NE(message([] { importers::read_trtexec_profile("[{\"name\": \"a\"}]", "p.json"); }).find("p.json:1:"),
            std::string::npos);
  EXPECT_NE(message([] { importers::read_trtexec_times("[{\"latencyMs\": 1}]", "t.json"); })
                .find("t.json:1: $[0]: missing \"computeMs\""),
            std::string::npos);
  EXPECT_NE(message([] { importers::read_trtexec_layer_info("{\"Layers\": []}", "l.json"); }).find("l.json:1: $.Layers: empty"),
            std::string::npos);
  EXPECT_NE(message([] { importers::read_trtexec_layer_info("{\"Layers\": [\n{\"LayerType\": \"x\"}]}", "l.json"); })
                .find("l.json:"),
            std::string::npos);
  EXPECT_NE(message([] { importers::read_trtexec_times("[{\"latencyMs\": 1, \"computeMs\": 1,\n \"startEnqMs\": 5, \"endEnqMs\": 4}]", "t.json"); })
                .find("t.json:2:"),
            std::string::npos);
}

}  // namespace
}  // namespace trackiq
