#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/workload/workload.hpp"
#include "workload/backends.hpp"

namespace trackiq::workload {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ParseShape, AcceptsPositionalAndNamedShapes) {
  const auto a = parse_shape("2x16x24");
  EXPECT_EQ(a.name, "");
  EXPECT_EQ(a.dims, (std::vector<std::int64_t>{2, 16, 24}));
  const auto b = parse_shape("input:1x3x224x224");
  EXPECT_EQ(b.name, "input");
  EXPECT_EQ(b.dims, (std::vector<std::int64_t>{1, 3, 224, 224}));
  const auto c = parse_shape("serving_default:0:8");  // names may contain ':'
  EXPECT_EQ(c.name, "serving_default:0");
  EXPECT_EQ(c.dims, (std::vector<std::int64_t>{8}));
  EXPECT_EQ(format_shape(b.dims), "1x3x224x224");
}

TEST(ParseShape, RejectsMalformedShapesNamingThePart) {
  for (const char* bad : {"", "x", "2x", "2xx3", "2x-1", "0x3", "2xa", ":2x3", "in:", "2.5x3", "99999999999999999999"}) {
    const std::string msg = error_of([&] { parse_shape(bad); });
    EXPECT_NE(msg.find("--shape"), std::string::npos) << bad << " -> " << msg;
  }
}

TEST(SplitCommandLine, SplitsLikeAShellWithoutExpanding) {
  EXPECT_EQ(split_command_line("a b  c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(split_command_line("sh -c 'echo $HOME; exit 3'"),
            (std::vector<std::string>{"sh", "-c", "echo $HOME; exit 3"}));
  EXPECT_EQ(split_command_line(R"(x "a \"b\" c" d\ e '')"),
            (std::vector<std::string>{"x", "a \"b\" c", "d e", ""}));
  EXPECT_THROW(split_command_line("a 'b"), InputError);
  EXPECT_THROW(split_command_line("a \"b"), InputError);
  EXPECT_THROW(split_command_line("a \\"), InputError);
}

TEST(MakeWorkload, RejectsUnknownSpecsListingTheKnownOnes) {
  const std::string msg = error_of([] { make_workload({.spec = "tensorrt:model.plan"}); });
  EXPECT_NE(msg.find("unknown workload 'tensorrt:model.plan'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("onnx:PATH"), std::string::npos) << msg;
}

TEST(MakeWorkload, RejectsUnsupportedPrecisionListingSupportedOnes) {
  const std::string msg = error_of([] { make_workload({.spec = "synthetic", .precision = "int4"}); });
  EXPECT_NE(msg.find("precision 'int4' is not supported by the synthetic backend (supported: fp32)"), std::string::npos)
      << msg;
}

TEST(Backends, ListEveryPrefixWithAReasonWhenMissing) {
  const auto list = backends();
  ASSERT_EQ(list.size(), 5u);
  for (const auto& b : list) {
    if (!b.available) {
      EXPECT_FALSE(b.reason.empty()) << b.prefix;
      if (b.prefix != "synthetic" && b.prefix != "cmd") {
        const std::string msg = error_of([&] { make_workload({.spec = b.prefix + "x"}); });
        EXPECT_NE(msg.find("not available"), std::string::npos) << msg;
      }
    }
  }
}

TEST(SyntheticWorkload, IsLabelledAndSleepsForItsServiceTime) {
  auto w = make_workload({.spec = "synthetic:mean=5ms"});
  EXPECT_TRUE(w->descriptor().synthetic);
  EXPECT_EQ(w->descriptor().options.at("mean_ns"), "5000000");
  w->prepare(1);
  const std::int64_t t0 = now_ns();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(w->infer(0).ok);
  const double per = static_cast<double>(now_ns() - t0) / 10;
  EXPECT_GE(per, 5e6);
  EXPECT_LT(per, 5e6 * 3);  // generous: shared machine
}

TEST(SyntheticWorkload, FailsEveryNthQueryWhenAsked) {
  auto w = make_workload({.spec = "synthetic:mean=0,fail_every=3"});
  w->prepare(1);
  int failures = 0;
  for (int i = 0; i < 9; ++i) {
    const auto o = w->infer(0);
    if (!o.ok) {
      ++failures;
      EXPECT_EQ(o.error_class, "synthetic_failure");
    }
  }
  EXPECT_EQ(failures, 3);
}

TEST(SyntheticWorkload, RejectsBadOptions) {
  for (const char* spec : {"synthetic:mean=fast", "synthetic:dist=pareto", "synthetic:cv=x", "synthetic:mode=nap",
                           "synthetic:color=red", "synthetic:mean"}) {
    EXPECT_THROW(make_workload({.spec = spec}), InputError) << spec;
  }
}

TEST(CommandWorkload, TimesARealProcessPerQuery) {
  auto w = make_workload({.spec = "cmd:sh -c 'sleep 0.02'"});
  w->prepare(1);
  const std::int64_t t0 = now_ns();
  ASSERT_TRUE(w->infer(0).ok);
  EXPECT_GE(now_ns() - t0, 20'000'000);
  EXPECT_FALSE(w->descriptor().synthetic);
}

TEST(CommandWorkload, CountsANonZeroExitWithTheTailOfStderr) {
  auto w = make_workload({.spec = "cmd:sh -c 'echo first line >&2; echo boom happened >&2; exit 3'"});
  w->prepare(1);
  const auto o = w->infer(0);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.error_class, "exit_status");
  EXPECT_NE(o.message.find("exit status 3"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("boom happened"), std::string::npos) << o.message;
}

TEST(CommandWorkload, KeepsOnlyTheTailOfLongStderr) {
  auto w = make_workload({.spec = "cmd:sh -c 'i=0; while [ $i -lt 2000 ]; do echo line$i >&2; i=$((i+1)); done; exit 1'"});
  w->prepare(1);
  const auto o = w->infer(0);
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.message.find("line1999"), std::string::npos);
  EXPECT_EQ(o.message.find("line0\n"), std::string::npos);
  EXPECT_LT(o.message.size(), 700u);
}

TEST(CommandWorkload, ReportsASignal) {
  auto w = make_workload({.spec = "cmd:sh -c 'kill -9 $$'"});
  w->prepare(1);
  const auto o = w->infer(0);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.error_class, "signal");
}

TEST(CommandWorkload, RejectsAMissingExecutableUpFront) {
  const std::string msg = error_of([] { make_workload({.spec = "cmd:/nonexistent/infer --fast"}); });
  EXPECT_NE(msg.find("/nonexistent/infer"), std::string::npos) << msg;
  const std::string msg2 = error_of([] { make_workload({.spec = "cmd:no-such-program-xyz"}); });
  EXPECT_NE(msg2.find("not found on PATH"), std::string::npos) << msg2;
  EXPECT_THROW(make_workload({.spec = "cmd:"}), InputError);
}

TEST(HashFile, HashesContentsAndRejectsMissingFiles) {
  const auto path = std::filesystem::temp_directory_path() / "trackiq_hash_test.bin";
  std::ofstream(path) << "a";
  EXPECT_EQ(hash_file(path.string()), "af63dc4c8601ec8c");
  std::filesystem::remove(path);
  EXPECT_THROW(hash_file(path.string()), InputError);
}

}  // namespace
}  // namespace trackiq::workload
