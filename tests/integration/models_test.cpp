// Real engines in-process: LibTorch built-ins and TorchScript files, ONNX through OpenCV DNN,
// with models made at test time by tests/fixtures/make_models.py.
#include <gtest/gtest.h>

#include <filesystem>

#include "trackiq/core/error.hpp"
#include "trackiq/workload/workload.hpp"
#include "support/process.hpp"
#include "support/test_paths.hpp"

namespace trackiq::workload {
namespace {

const std::string kModels = trackiq::test::kTestModels;

std::unique_ptr<Workload> prepared(WorkloadOptions o, std::uint32_t workers = 1) {
  auto w = make_workload(o);
  w->prepare(workers);
  return w;
}

std::string error_of(const WorkloadOptions& o) {
  try {
    prepared(o);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

using Dims = std::vector<std::int64_t>;

TEST(BuiltinModels, ProduceOutputsOfTheExpectedShape) {
  struct Case {
    std::string name;
    std::uint32_t batch;
    Dims input, output;
  };
  for (const auto& c : std::vector<Case>{{"mlp", 3, {3, 1024}, {3, 1000}},
                                         {"cnn", 2, {2, 3, 112, 112}, {2, 1000}},
                                         {"transformer", 2, {32, 2, 256}, {32, 2, 256}}}) {
    auto w = prepared({.spec = "builtin:" + c.name, .batch_size = c.batch, .threads = 1,
                       .seq_len = c.name == "transformer" ? std::optional<std::uint32_t>(32) : std::nullopt});
    const auto& d = w->descriptor();
    ASSERT_EQ(d.inputs.size(), 1u) << c.name;
    EXPECT_EQ(d.inputs[0].shape, c.input) << c.name;
    ASSERT_EQ(d.outputs.size(), 1u) << c.name;
    EXPECT_EQ(d.outputs[0].shape, c.output) << c.name;
    EXPECT_EQ(d.outputs[0].dtype, "float32");
    EXPECT_EQ(d.backend, "builtin");
    EXPECT_FALSE(d.synthetic);
    ASSERT_TRUE(d.flops_per_query.has_value());
    EXPECT_TRUE(w->infer(0).ok);
  }
}

TEST(BuiltinModels, KnowTheirFlops) {
  // MLP 1024-4096-4096-1000: 2 * (1024*4096 + 4096*4096 + 4096*1000) per sample.
  auto mlp = prepared({.spec = "builtin:mlp", .batch_size = 2, .threads = 1});
  EXPECT_DOUBLE_EQ(*mlp->descriptor().flops_per_query, 2 * 2.0 * (1024 * 4096 + 4096 * 4096 + 4096 * 1000));
  // Transformer layer d=256, ff=1024, S=64: 8*S*d^2 + 4*S*d*ff + 4*S^2*d.
  auto tr = prepared({.spec = "builtin:transformer", .threads = 1, .seq_len = 64});
  EXPECT_DOUBLE_EQ(*tr->descriptor().flops_per_query, 8.0 * 64 * 256 * 256 + 4.0 * 64 * 256 * 1024 + 4.0 * 64 * 64 * 256);
  // CNN: dominated by 3x3 convs; sanity band around the hand count (~0.85 GFLOP at 112x112).
  auto cnn = prepared({.spec = "builtin:cnn", .threads = 1});
  EXPECT_GT(*cnn->descriptor().flops_per_query, 0.8e9);
  EXPECT_LT(*cnn->descriptor().flops_per_query, 0.9e9);
}

TEST(BuiltinModels, AreDeterministicFromTheSeed) {
  auto a = make_workload({.spec = "builtin:mlp", .seed = 1});
  auto b = make_workload({.spec = "builtin:mlp", .seed = 1});
  auto c = make_workload({.spec = "builtin:mlp", .seed = 2});
  a->prepare(1);
  b->prepare(1);
  c->prepare(1);
  EXPECT_EQ(a->descriptor().model_hash, b->descriptor().model_hash);
  EXPECT_NE(a->descriptor().model_hash, c->descriptor().model_hash);
}

TEST(BuiltinModels, RunInBf16ThroughAutocast) {
  auto w = prepared({.spec = "builtin:cnn", .precision = "bf16", .threads = 1});
  EXPECT_EQ(w->descriptor().outputs[0].dtype, "bfloat16");
  EXPECT_TRUE(w->infer(0).ok);
}

TEST(BuiltinModels, RejectUnsupportedPrecisionDeviceAndNames) {
  EXPECT_NE(error_of({.spec = "builtin:cnn", .precision = "fp16"}).find("(supported: fp32, bf16)"), std::string::npos);
  EXPECT_NE(error_of({.spec = "builtin:cnn", .device = "cuda:0"})
                .find("not available: --device cuda:0: the builtin backend's engine in this build has no CUDA"),
            std::string::npos);
  EXPECT_NE(error_of({.spec = "builtin:cnn", .device = "tpu"}).find("device 'tpu' is not supported"), std::string::npos);
  EXPECT_NE(error_of({.spec = "builtin:resnet152"}).find("available: mlp, cnn, transformer"), std::string::npos);
  EXPECT_NE(error_of({.spec = "builtin:mlp", .seq_len = 10}).find("--seq-len"), std::string::npos);
}

TEST(TorchScript, RunsAFileWithItsShapeFromTheCommandLine) {
  auto w = prepared({.spec = "torch:" + kModels + "/single.pt", .shapes = {parse_shape("2x16x24")}});
  const auto& d = w->descriptor();
  EXPECT_EQ(d.backend, "torch");
  EXPECT_EQ(d.batch_size, 2u);
  EXPECT_EQ(d.inputs[0].name, "x");
  EXPECT_EQ(d.outputs[0].shape, (Dims{2, 16, 8}));
  EXPECT_EQ(d.model_hash.size(), 16u);
  EXPECT_FALSE(d.flops_per_query.has_value()) << "FLOPs of a user model are unknown";
  EXPECT_TRUE(w->infer(0).ok);
}

TEST(TorchScript, MatchesNamedShapesToForwardArguments) {
  auto w = prepared({.spec = "torch:" + kModels + "/two_inputs.pt",
                     .shapes = {parse_shape("mask:2x16x8"), parse_shape("x:2x16x24")}});
  EXPECT_EQ(w->descriptor().inputs[0].name, "x");
  EXPECT_EQ(w->descriptor().inputs[1].shape, (Dims{2, 16, 8}));
}

TEST(TorchScript, ExplainsMissingOrWrongShapes) {
  const std::string two = "torch:" + kModels + "/two_inputs.pt";
  const std::string none = error_of({.spec = two});
  EXPECT_NE(none.find("forward(x, mask) needs 2 --shape value(s), got 0"), std::string::npos) << none;
  const std::string wrong = error_of({.spec = two, .shapes = {parse_shape("y:1x2"), parse_shape("x:1x2")}});
  EXPECT_NE(wrong.find("--shape names 'y'"), std::string::npos) << wrong;
  const std::string mismatch = error_of({.spec = two, .shapes = {parse_shape("x:2x16x99"), parse_shape("mask:2x16x8")}});
  EXPECT_NE(mismatch.find("inference failed"), std::string::npos) << mismatch;
}

TEST(TorchScript, RejectsMissingAndNonModelFiles) {
  EXPECT_NE(error_of({.spec = "torch:" + kModels + "/missing.pt"}).find("missing.pt"), std::string::npos);
  const std::string bad = error_of({.spec = "torch:" + kModels + "/not_onnx.onnx", .shapes = {parse_shape("1x2")}});
  EXPECT_NE(bad.find("not a loadable TorchScript model"), std::string::npos) << bad;
}

// The runs of a --repeat call prepare() once each: the model is loaded by the first call and kept
// (reloading it per run grew the process's RSS by 16-32 MiB a run on builtin:mlp, and that memory
// showed as a regression in the next run's rss_peak_bytes). Seen from outside: once prepared, the
// model no longer needs its file.
TEST(TorchScript, LaterPreparesKeepTheLoadedModel) {
  test::TempDir dir;
  const std::string copy = dir.file("model.pt");
  std::filesystem::copy_file(kModels + "/single.pt", copy);
  auto w = prepared({.spec = "torch:" + copy, .shapes = {parse_shape("2x16x24")}});
  std::filesystem::remove(copy);
  w->prepare(1);
  w->prepare(2);  // a new worker gets its inputs, from the same model
  EXPECT_TRUE(w->infer(1).ok);
  EXPECT_EQ(w->descriptor().outputs[0].shape, (Dims{2, 16, 8}));
}

TEST(Onnx, LaterPreparesKeepTheNetsUnlessTheWorkersChange) {
  test::TempDir dir;
  const std::string copy = dir.file("static.onnx");
  std::filesystem::copy_file(kModels + "/static.onnx", copy);
  auto w = prepared({.spec = "onnx:" + copy, .threads = 1});
  std::filesystem::remove(copy);
  w->prepare(1);
  EXPECT_TRUE(w->infer(0).ok);
  EXPECT_EQ(w->descriptor().outputs[0].shape, (Dims{1, 10}));
  // cv::dnn::Net is one per worker: more workers read the model again.
  try {
    w->prepare(2);
    ADD_FAILURE() << "a second worker's net came from nowhere";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos) << e.what();
  }
}

TEST(Onnx, DerivesInputShapesFromTheModel) {
  auto w = prepared({.spec = "onnx:" + kModels + "/static.onnx", .threads = 1});
  const auto& d = w->descriptor();
  EXPECT_EQ(d.inputs[0].name, "image");
  EXPECT_EQ(d.inputs[0].shape, (Dims{1, 3, 32, 32}));
  EXPECT_EQ(d.outputs[0].shape, (Dims{1, 10}));
  EXPECT_EQ(d.outputs[0].name, "logits");
  EXPECT_TRUE(w->infer(0).ok);
}

TEST(Onnx, DynamicBatchFollowsBatchSizeAndOtherDynamicDimsNeedShape) {
  const std::string model = "onnx:" + kModels + "/dynamic.onnx";
  const std::string msg = error_of({.spec = model});
  EXPECT_NE(msg.find("input 'x' has dynamic dim 2 ('h'): give --shape x:1x4xNxN"), std::string::npos) << msg;
  auto w = prepared({.spec = model, .batch_size = 3, .shapes = {parse_shape("x:3x4x10x12")}});
  EXPECT_EQ(w->descriptor().outputs[0].shape, (Dims{3, 2, 10, 12}));
  EXPECT_EQ(w->descriptor().batch_size, 3u);
  EXPECT_NE(error_of({.spec = model, .batch_size = 2, .shapes = {parse_shape("x:3x4x10x12")}}).find("contradicts"),
            std::string::npos);
  EXPECT_NE(error_of({.spec = model, .shapes = {parse_shape("x:1x5x10x12")}}).find("fixes it at 4"), std::string::npos);
}

TEST(Onnx, WorkersGetTheirOwnNetworks) {
  auto w = prepared({.spec = "onnx:" + kModels + "/static.onnx", .threads = 1}, 3);
  for (std::uint32_t i = 0; i < 3; ++i) EXPECT_TRUE(w->infer(i).ok);
}

TEST(Onnx, NamesTheNodeOpenCvCannotImport) {
  const std::string conv = error_of({.spec = "onnx:" + kModels + "/bad_conv.onnx"});
  EXPECT_NE(conv.find("OpenCV DNN cannot import this model: node 'conv_no_kernel_shape' (Conv)"), std::string::npos)
      << conv;
  EXPECT_NE(conv.find("kernel_size"), std::string::npos) << conv;
  const std::string nz = error_of({.spec = "onnx:" + kModels + "/nonzero.onnx"});
  EXPECT_NE(nz.find("node 'find_nonzero' (NonZero)"), std::string::npos) << nz;
}

TEST(Onnx, RejectsFilesThatAreNotOnnxAndMissingFiles) {
  const std::string text = error_of({.spec = "onnx:" + kModels + "/not_onnx.onnx"});
  EXPECT_NE(text.find("not_onnx.onnx: not an ONNX model"), std::string::npos) << text;
  const std::string missing = error_of({.spec = "onnx:" + kModels + "/missing.onnx"});
  EXPECT_NE(missing.find("missing.onnx: no such file"), std::string::npos) << missing;
  EXPECT_NE(error_of({.spec = "onnx:" + kModels + "/static.onnx", .precision = "bf16"}).find("(supported: fp32)"),
            std::string::npos);
}

}  // namespace
}  // namespace trackiq::workload
