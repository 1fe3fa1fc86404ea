// The trackiq binary as a user runs it: real processes, real models, results validated
// against the JSON Schema in docs/schema/.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "support/process.hpp"

namespace trackiq::test {
namespace {

const std::string kBin = TRACKIQ_BIN;
const std::string kModels = TRACKIQ_TEST_MODELS;

ProcessResult trackiq(std::vector<std::string> args, const TempDir& dir) {
  args.insert(args.begin(), kBin);
  if (args.size() > 1 && args[1] == "run") {
    args.push_back("--results-dir");
    args.push_back(dir.file("results"));
  }
  return run_process(args);
}

void expect_schema_valid(const std::string& json_path) {
  const auto v = run_process({"/usr/bin/python3", TRACKIQ_VALIDATOR, TRACKIQ_SCHEMA, json_path});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST(CliRun, WritesAResultJsonAndSamplesCsvForABuiltinModel) {
  TempDir dir;
  const auto r = trackiq({"run", "builtin:mlp", "-n", "5", "--warmup", "1", "--threads", "1", "--json",
                          dir.file("r.json"), "--samples-csv", dir.file("s.csv"), "--label", "product=demo"},
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\n  p99\s+[0-9.]+ ms\n)"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(achieved GFLOP/s\s+[0-9.]+ GFLOP/s)"))) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(result\s+(\S+\.json))"))) << r.out;
  EXPECT_EQ(read_file(m[1].str()), read_file(dir.file("r.json")));
  expect_schema_valid(dir.file("r.json"));
  const std::string json = read_file(dir.file("r.json"));
  EXPECT_NE(json.find("\"product\": \"demo\""), std::string::npos);
  const std::string csv = read_file(dir.file("s.csv"));
  EXPECT_EQ(csv.rfind("query,worker,scheduled_ns,start_ns,end_ns,latency_ns,ok\n", 0), 0u);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 6);
}

struct ScenarioCase {
  std::string name;
  std::vector<std::string> args;
};

void PrintTo(const ScenarioCase& c, std::ostream* os) { *os << c.name; }

class CliScenario : public ::testing::TestWithParam<ScenarioCase> {};

TEST_P(CliScenario, ProducesASchemaValidResult) {
  TempDir dir;
  auto args = GetParam().args;
  args.insert(args.begin(), "run");
  for (const char* a : {"--warmup", "1", "--threads", "1", "--json"}) args.push_back(a);
  args.push_back(dir.file("r.json"));
  const auto r = trackiq(args, dir);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_schema_valid(dir.file("r.json"));
}

INSTANTIATE_TEST_SUITE_P(
    EveryBackendAndScenario, CliScenario,
    ::testing::Values(
        ScenarioCase{"cnn_single_stream", {"builtin:cnn", "-n", "3"}},
        ScenarioCase{"transformer_bf16", {"builtin:transformer", "--seq-len", "16", "--precision", "bf16", "-n", "3"}},
        ScenarioCase{"mlp_multi_stream", {"builtin:mlp", "--scenario", "multi-stream", "--samples-per-query", "4", "-n", "3"}},
        ScenarioCase{"mlp_server", {"builtin:mlp", "--scenario", "server", "--qps", "20", "-n", "10"}},
        ScenarioCase{"onnx_offline", {"onnx:" + kModels + "/static.onnx", "--scenario", "offline", "--workers", "2", "-n", "20"}},
        ScenarioCase{"onnx_dynamic", {"onnx:" + kModels + "/dynamic.onnx", "--shape", "x:1x4x8x8", "-n", "5"}},
        ScenarioCase{"torch_file", {"torch:" + kModels + "/single.pt", "--shape", "2x16x24", "-n", "5"}},
        ScenarioCase{"cmd", {"cmd:true", "-n", "3"}},
        ScenarioCase{"synthetic_server", {"synthetic:mean=1ms", "--scenario", "server", "--qps", "100", "-d", "200ms"}}),
    [](const auto& info) { return info.param.name; });

struct BadInput {
  std::string name;
  std::vector<std::string> args;
  std::string message;
};

void PrintTo(const BadInput& c, std::ostream* os) { *os << c.name; }

class CliBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(CliBadInput, ExitsWithCode2AndNamesTheProblem) {
  TempDir dir;
  auto args = GetParam().args;
  const auto r = trackiq(args, dir);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find(GetParam().message), std::string::npos) << "stderr: " << r.err;
  // Nothing half-written: no result was stored.
  EXPECT_FALSE(std::filesystem::exists(dir.file("results")));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CliBadInput,
    ::testing::Values(
        BadInput{"missing_onnx_file", {"run", "onnx:/nonexistent/model.onnx", "-n", "1"}, "/nonexistent/model.onnx: no such file"},
        BadInput{"missing_torch_file", {"run", "torch:/nonexistent/m.pt", "--shape", "1x2", "-n", "1"}, "/nonexistent/m.pt"},
        BadInput{"not_onnx", {"run", "onnx:" + kModels + "/not_onnx.onnx", "-n", "1"}, "not_onnx.onnx: not an ONNX model"},
        BadInput{"opencv_rejects_node", {"run", "onnx:" + kModels + "/bad_conv.onnx", "-n", "1"}, "node 'conv_no_kernel_shape' (Conv)"},
        BadInput{"bad_shape", {"run", "torch:" + kModels + "/single.pt", "--shape", "2xbx24", "-n", "1"}, "--shape '2xbx24': 'b' is not a dimension"},
        BadInput{"missing_shape", {"run", "torch:" + kModels + "/single.pt", "-n", "1"}, "forward(x) needs 1 --shape"},
        BadInput{"unknown_precision", {"run", "builtin:mlp", "--precision", "int3", "-n", "1"}, "precision 'int3' is not supported by the builtin backend (supported: fp32, bf16)"},
        BadInput{"unknown_scenario", {"run", "builtin:mlp", "--scenario", "batch", "-n", "1"}, "unknown scenario 'batch'"},
        BadInput{"unknown_workload", {"run", "tensorrt:x.plan", "-n", "1"}, "unknown workload 'tensorrt:x.plan'"},
        BadInput{"qps_outside_server", {"run", "builtin:mlp", "--qps", "5", "-n", "1"}, "--qps applies to the server scenario only"},
        BadInput{"server_without_qps", {"run", "builtin:mlp", "--scenario", "server", "-n", "1"}, "needs --qps"},
        BadInput{"bad_duration", {"run", "builtin:mlp", "--duration", "10 parsecs"}, "--duration '10 parsecs': not a duration"},
        BadInput{"bad_label", {"run", "builtin:mlp", "-n", "1", "--label", "oops"}, "--label 'oops'"},
        BadInput{"missing_executable", {"run", "cmd:/nonexistent/infer", "-n", "1"}, "/nonexistent/infer"},
        BadInput{"unknown_flag", {"run", "--frobnicate"}, "frobnicate"},
        BadInput{"not_a_number", {"run", "-n", "many"}, "many"},
        BadInput{"zero_batch", {"run", "builtin:mlp", "-b", "0", "-n", "1"}, "--batch-size must be >= 1"},
        BadInput{"zero_threads", {"run", "builtin:mlp", "--threads", "0", "-n", "1"}, "--threads must be >= 1"},
        BadInput{"huge_warmup", {"run", "builtin:mlp", "--warmup", "99999999999999999999999", "-n", "1"}, "--warmup"},
        BadInput{"no_command", {}, "subcommand"}),
    [](const auto& info) { return info.param.name; });

TEST(CliRun, ServerAboveCapacityFailsItsCheckWithExitCode1) {
  TempDir dir;
  const auto r = trackiq({"run", "synthetic:mean=2ms", "--scenario", "server", "--qps", "1000", "-n", "200",
                          "--warmup", "1"},
                         dir);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL qps_achieved"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SYNTHETIC WORKLOAD"), std::string::npos) << r.out;
}

TEST(CliRun, CountsFailingCommandsWithoutAborting) {
  TempDir dir;
  const auto r = trackiq({"run", "cmd:sh -c 'echo oom-killed >&2; exit 7'", "-n", "3", "--warmup", "0",
                          "--json", dir.file("r.json")},
                         dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string json = read_file(dir.file("r.json"));
  EXPECT_NE(json.find("\"exit_status\": 3"), std::string::npos) << json;
  EXPECT_NE(json.find("oom-killed"), std::string::npos);
  expect_schema_valid(dir.file("r.json"));
}

TEST(CliRun, HelpDocumentsEveryFlag) {
  TempDir dir;
  const auto r = trackiq({"run", "--help"}, dir);
  ASSERT_EQ(r.exit_code, 0);
  for (const char* flag : {"--scenario", "--warmup", "--iterations", "--duration", "--max-duration", "--batch-size",
                           "--threads", "--precision", "--device", "--seed", "--qps", "--samples-per-query",
                           "--workers", "--shape", "--seq-len", "--json", "--samples-csv", "--include-samples",
                           "--results-dir", "--label", "--quiet", "--no-progress", "Examples:"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
}

TEST(Cli, PrintsVersionBackendsAndTheMetricRegistry) {
  TempDir dir;
  const auto v = trackiq({"--version"}, dir);
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_TRUE(std::regex_search(v.out, std::regex(R"(^\d+\.\d+\.\d+)"))) << v.out;
  const auto b = trackiq({"backends"}, dir);
  EXPECT_EQ(b.exit_code, 0);
  EXPECT_NE(b.out.find("onnx:"), std::string::npos);
  const auto m = trackiq({"metrics"}, dir);
  EXPECT_EQ(m.exit_code, 0);
  EXPECT_TRUE(std::regex_search(m.out, std::regex(R"(throughput_samples_per_s\s+1/s\s+higher)"))) << m.out;
}

}  // namespace
}  // namespace trackiq::test
