// The trackiq binary as a user runs it: real processes, real models, results validated
// against the JSON Schema in docs/schema/.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "support/postgres.hpp"
#include "support/process.hpp"
#include "support/ref_server_process.hpp"
#include "support/test_paths.hpp"
#include "support/trackiq_cli.hpp"

namespace trackiq::test {
namespace {

const std::string kBin = trackiq::test::kTrackiqBin;
const std::string kModels = trackiq::test::kTestModels;


void expect_schema_valid(const std::string& json_path) {
  const auto v = run_process({"/usr/bin/python3", trackiq::test::kResultValidator, trackiq::test::kResultSchema, json_path});
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
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(stored\s+run ([0-9a-f-]{36}) in )"))) << r.out;
  expect_schema_valid(dir.file("r.json"));
  const std::string json = read_file(dir.file("r.json"));
  EXPECT_NE(json.find(m[1].str()), std::string::npos);
  EXPECT_NE(json.find("\"samples_ns\": []"), std::string::npos) << "samples only with --include-samples";
  // The store keeps the run with its exact samples.
  const auto exported = trackiq({"runs", "export", m[1].str().substr(0, 8), "-o", dir.file("e.json")}, dir);
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  expect_schema_valid(dir.file("e.json"));
  const std::string e = read_file(dir.file("e.json"));
  EXPECT_EQ(e.find("\"samples_ns\": []"), std::string::npos);
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
        ScenarioCase{"mlp_server", {"builtin:mlp", "--scenario", "server", "--qps", "5", "-n", "8"}},
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
  // Nothing half-written: no run was stored.
  if (std::filesystem::exists(dir.file("store.db"))) {
    const auto runs = trackiq({"runs", "list", "--json"}, dir);
    EXPECT_EQ(runs.out, "[]\n");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CliBadInput,
    ::testing::Values(
        BadInput{"missing_onnx_file", {"run", "onnx:/nonexistent/model.onnx", "-n", "1"}, "/nonexistent/model.onnx: no such file"},
        BadInput{"compare_missing_file", {"compare", "/nonexistent/a.json", "/nonexistent/b.json"}, "/nonexistent/a.json: no such file"},
        BadInput{"compare_negative_tail_share", {"compare", "a", "b", "--tail-share-pp", "-1"}, "--tail-share-pp -1: must be >= 0"},
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
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(FAIL\s+schedule_lag_growth_pct)"))) << r.out;
  EXPECT_NE(r.out.find("target QPS not achieved: the late-start lag grew"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SYNTHETIC WORKLOAD"), std::string::npos) << r.out;
}

// Failures are counted, not thrown: the run goes on, is written and stored with its errors. When
// not one query succeeded there is nothing measured, and a CI job must not pass on it: exit 1.
TEST(CliRun, CountsFailingCommandsWithoutAbortingAndExits1WhenNoneSucceeded) {
  TempDir dir;
  const auto r = trackiq({"run", "cmd:sh -c 'echo oom-killed >&2; exit 7'", "-n", "3", "--warmup", "0",
                          "--json", dir.file("r.json")},
                         dir);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("no query succeeded (3 failed): exit 1"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("stored     run"), std::string::npos) << r.out;
  const std::string json = read_file(dir.file("r.json"));
  EXPECT_NE(json.find("\"exit_status\": 3"), std::string::npos) << json;
  EXPECT_NE(json.find("oom-killed"), std::string::npos);
  expect_schema_valid(dir.file("r.json"));
  // Some failures among successes: measured, warned about, exit 0.
  const auto some = trackiq({"run", "synthetic:mean=1ms,fail_every=2", "-n", "10", "--warmup", "0", "--no-store"}, dir);
  EXPECT_EQ(some.exit_code, 0) << some.out << some.err;
  EXPECT_NE(some.out.find("errors"), std::string::npos) << some.out;
  EXPECT_EQ(some.err.find("no query succeeded"), std::string::npos) << some.err;
}

// RUN-4: a sweep stores one run per configuration under one sweep id, prints the trade-off, and
// writes a sweep file that compare and analyze efficiency read.
TEST(CliRun, ASweepRunsTheProductOfTheListsAndPrintsTheTradeOff) {
  TempDir dir;
  const auto r = trackiq({"run", "builtin:mlp", "--batch-sizes", "1,4", "--precisions", "fp32,bf16", "--threads", "1",
                          "--duration", "300ms", "--warmup", "50ms", "--no-telemetry", "--json", dir.file("sweep.json")},
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("sweep: 4 configurations"), std::string::npos) << r.out;
  for (const char* point : {"batch=1 precision=fp32", "batch=4 precision=fp32", "batch=1 precision=bf16", "batch=4 precision=bf16"})
    EXPECT_NE(r.out.find(point), std::string::npos) << point << "\n" << r.out;
  EXPECT_NE(r.out.find("optimum for latency (lowest p99):"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("optimum for throughput (most samples/s):"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("optimum for efficiency (inferences/J):   not available"), std::string::npos) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(sweep      (sweep-[0-9a-f]{8}) \(4 runs)"))) << r.out;
  const auto listed = trackiq({"runs", "list", "--label", "sweep=" + m[1].str()}, dir);
  EXPECT_EQ(std::count(listed.out.begin(), listed.out.end(), '\n'), 5) << listed.out;  // header + 4 runs
  // The sweep file: compare reads it as a sweep (a file against itself passes), efficiency as points.
  const auto same = trackiq({"compare", dir.file("sweep.json"), dir.file("sweep.json")}, dir);
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_NE(same.out.find("sweep verdict: PASS (4 points)"), std::string::npos) << same.out;
  // The wrong partner: a missing file is named whichever side it is on (before any file is read),
  // and one run against a sweep is explained, not "$: expected an object".
  for (const auto& args : {std::vector<std::string>{"compare", dir.file("gone.json"), dir.file("sweep.json")},
                           std::vector<std::string>{"compare", dir.file("sweep.json"), dir.file("gone.json")}}) {
    const auto gone = trackiq(args, dir);
    EXPECT_EQ(gone.exit_code, 2);
    EXPECT_NE(gone.err.find("gone.json: no such file"), std::string::npos) << gone.err;
  }
  std::smatch point_run;
  ASSERT_TRUE(std::regex_search(listed.out, point_run, std::regex("\n([0-9a-f-]{36}) "))) << listed.out;
  ASSERT_EQ(trackiq({"runs", "export", point_run[1].str(), "-o", dir.file("one.json")}, dir).exit_code, 0);
  const auto mixed = trackiq({"compare", dir.file("one.json"), dir.file("sweep.json")}, dir);
  EXPECT_EQ(mixed.exit_code, 2);
  EXPECT_NE(mixed.err.find("one.json is one run and " + dir.file("sweep.json") + " a sweep of 4 results"), std::string::npos)
      << mixed.err;
  const auto eff = trackiq({"analyze", "efficiency", dir.file("sweep.json")}, dir);
  EXPECT_EQ(eff.exit_code, 0) << eff.err;
  EXPECT_NE(eff.out.find("not available: no measured power"), std::string::npos) << eff.out;

  // Too many configurations, and a device this build lacks: refused before anything runs.
  const auto many = trackiq({"run", "builtin:mlp", "--batch-sizes", "1,2,3,4,5,6", "--threads-list", "1,2,3,4,5,6",
                             "--duration", "100ms"},
                            dir);
  EXPECT_EQ(many.exit_code, 2);
  EXPECT_NE(many.err.find("the sweep has 36 configurations"), std::string::npos) << many.err;
  const auto cuda = trackiq({"run", "builtin:mlp", "--devices", "cpu,cuda:0", "--duration", "100ms"}, dir);
  EXPECT_EQ(cuda.exit_code, 2);
  EXPECT_NE(cuda.err.find("not available: --device cuda:0"), std::string::npos) << cuda.err;
  EXPECT_EQ(cuda.out.find("sweep: "), std::string::npos) << "nothing ran";
}

// --auto: batch sizes double while throughput rises, within the budget; a profile picks the best
// passing configuration.
TEST(CliRun, AutoDoublesTheBatchWithinTheBudget) {
  TempDir dir;
  // A synthetic query sleeps 20 ms whatever its batch: samples/s doubles with the batch (a loaded
  // machine adds a few ms to a 20 ms sleep, never the 90 % that would stop the doubling), so only
  // the budget ends it: 12 runs of 200 ms fit in 2400 ms, while the 13 batch sizes up to 4096
  // need 2600 ms at least. The budget is wall time and a run starts only when it is expected to
  // fit (as long as the last run took), so how many runs fit depends on the machine: a second one
  // does unless the first took 6 times its 200 ms. The rule is checked on the numbers the tool
  // printed. (`-n 1`: the profile's minimum of 20 queries, 400 ms, would outlast the duration.)
  const auto r = trackiq({"run", "synthetic:mean=20ms", "--auto", "--budget", "2400ms", "--duration", "200ms", "--warmup",
                          "0", "-n", "1", "--no-telemetry", "--profile", "ci_smoke"},
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("auto: devices cpu x precisions fp32 x batch 1, 2, 4, ... within 2400ms (200.0 ms per run)"),
            std::string::npos)
      << r.out;
  // The batches ran in order, each twice the one before, from 1.
  std::vector<int> batches;
  const std::regex point_re(R"((^|\n)batch=([0-9]+) +p50 )");
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), point_re); it != std::sregex_iterator(); ++it)
    batches.push_back(std::stoi((*it)[2].str()));
  ASSERT_GE(batches.size(), 2u) << r.out;
  for (std::size_t i = 0; i < batches.size(); ++i) EXPECT_EQ(batches[i], 1 << i) << r.out;
  // It stopped because the next run would not fit: the time used plus the next run's expected
  // time (the last run's, at least its 200 ms) is beyond the budget, and the time used holds at
  // least each run's measured 200 ms.
  std::smatch stop;
  ASSERT_TRUE(std::regex_search(r.out, stop,
                                std::regex(R"(auto: the budget 2400ms is spent: ([0-9.]+) ms used, the next run would take )"
                                           R"(([0-9.]+) ms \(as long as the last one\): stopping)")))
      << r.out;
  const double used_ms = std::stod(stop[1].str()), next_ms = std::stod(stop[2].str());
  EXPECT_GE(next_ms, 200.0) << r.out;
  EXPECT_GT(used_ms + next_ms, 2400.0 - 0.1) << r.out;  // each printed to 0.1 ms
  EXPECT_GE(used_ms + 0.1, next_ms + 200.0 * static_cast<double>(batches.size() - 1)) << r.out;
  EXPECT_EQ(r.out.find("throughput stopped rising"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("best passing profile ci_smoke"), std::string::npos) << r.out;
  const auto bad = trackiq({"run", "synthetic:mean=2ms", "--auto", "--batch-sizes", "1,2"}, dir);
  EXPECT_EQ(bad.exit_code, 2);
}

TEST(CliRun, HelpDocumentsEveryFlag) {
  TempDir dir;
  const auto r = trackiq({"run", "--help"}, dir);
  ASSERT_EQ(r.exit_code, 0);
  for (const char* flag : {"--scenario", "--warmup", "--iterations", "--duration", "--max-duration", "--batch-size",
                           "--threads", "--precision", "--device", "--seed", "--qps", "--samples-per-query",
                           "--workers", "--shape", "--seq-len", "--json", "--samples-csv", "--include-samples",
                           "--store", "--no-store", "--product", "--version", "--label", "--quiet", "--no-progress",
                           "--batch-sizes", "--precisions", "--threads-list", "--devices", "--max-configs", "--auto",
                           "--max-latency", "--budget", "Examples:"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    out.push_back(text.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

TEST(CliDevices, ListsCpuAndMemoryAndSaysWhyGpusOrBoardsAreMissing) {
  TempDir dir;
  const auto r = trackiq({"devices"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(^cpu0\s+\S.*logical CPUs)"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\nmem0\s+[0-9.]+ GiB)"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\n(gpu0\s+\S|gpu\s+not available: ))"))) << r.out;
  const auto j = trackiq({"devices", "--json"}, dir);
  ASSERT_EQ(j.exit_code, 0);
  for (const char* key : {"\"cpus\"", "\"id\": \"cpu0\"", "\"gpus\"", "\"gpu_probe\"", "\"jetsons\""})
    EXPECT_NE(j.out.find(key), std::string::npos) << key;
}

TEST(CliDevices, ReadsAJetsonReleaseFileUnderARoot) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("root/etc"));
  std::ofstream(dir.file("root/etc/nv_tegra_release"))
      << "# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, DATE: Tue Aug  1 19:57:35 UTC 2023\n";
  const auto r = trackiq({"devices", "--root", dir.file("root")}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("jetson0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("L4T R35.4.1, board t186ref"), std::string::npos) << r.out;
}

TEST(CliMonitor, StreamsRowsEvery100msToCsv) {
  TempDir dir;
  const auto r = trackiq({"monitor", "--duration", "1", "-c", "cpu,memory", "-o", dir.file("m.csv")}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = lines_of(read_file(dir.file("m.csv")));
  ASSERT_GE(lines.size(), 9u);
  EXPECT_EQ(lines[0].rfind("t_ns,cpu.util_pct,", 0), 0u) << lines[0];
  const auto fields = std::count(lines[0].begin(), lines[0].end(), ',');
  // The schedule is absolute (t0 + k x 100 ms): one tick delayed by a busy machine shortens the
  // next gap, but the rows never drift. So: increasing, no gap beyond a skipped tick, and the
  // mean interval is the schedule's.
  long long prev = -1, first = -1;
  std::size_t rows = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    EXPECT_EQ(std::count(lines[i].begin(), lines[i].end(), ','), fields) << lines[i];
    const long long t = std::stoll(lines[i].substr(0, lines[i].find(',')));
    if (prev >= 0) {
      EXPECT_GT(t, prev);
      EXPECT_LT(t - prev, 350'000'000);
    } else {
      first = t;
    }
    prev = t;
    ++rows;
  }
  ASSERT_GE(rows, 2u);
  const double mean_ms = static_cast<double>(prev - first) / static_cast<double>(rows - 1) / 1e6;
  EXPECT_GT(mean_ms, 90.0);
  EXPECT_LT(mean_ms, 125.0);
}

TEST(CliMonitor, StopsCleanlyOnCtrlCWithACompleteFile) {
  TempDir dir;
  double elapsed_ms = 0;
  const auto r = run_process_signalled({kBin, "monitor", "--duration", "60", "-c", "cpu,memory", "--format", "jsonl",
                                        "-o", dir.file("m.jsonl")},
                                       2000, SIGINT, &elapsed_ms);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(elapsed_ms, 7000) << "stops within moments of Ctrl-C, not after --duration 60";
  EXPECT_NE(r.err.find("(interrupted)"), std::string::npos) << r.err;
  const auto lines = lines_of(read_file(dir.file("m.jsonl")));
  ASSERT_GE(lines.size(), 3u);
  for (const auto& l : lines)
    if (!l.empty()) {
      EXPECT_EQ(l.front(), '{');
      EXPECT_EQ(l.back(), '}') << "every row complete";
    }
}

TEST(CliMonitor, RejectsUnknownCollectorsAndBadIntervals) {
  TempDir dir;
  const auto a = trackiq({"monitor", "-c", "cpu,warp-drive", "-d", "1"}, dir);
  EXPECT_EQ(a.exit_code, 2);
  EXPECT_NE(a.err.find("unknown collector 'warp-drive'"), std::string::npos) << a.err;
  const auto b = trackiq({"monitor", "-i", "0.1us", "-d", "1"}, dir);
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_NE(b.err.find("--interval"), std::string::npos) << b.err;
}

TEST(CliRun, CarriesTelemetryAlignedWithTheLatencySamples) {
  TempDir dir;
  const auto r = trackiq({"run", "builtin:mlp", "-d", "1s", "--warmup", "1", "--threads", "1", "--json",
                          dir.file("r.json"), "--samples-csv", dir.file("s.csv"), "--telemetry-csv", dir.file("t.csv")},
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("telemetry ("), std::string::npos) << r.out;
  const std::string json = read_file(dir.file("r.json"));
  EXPECT_NE(json.find("\"cpu_util_avg_pct\""), std::string::npos);
  EXPECT_NE(json.find("\"rss_peak_bytes\""), std::string::npos);
  EXPECT_NE(json.find("\"available\": true"), std::string::npos);
  EXPECT_EQ(json.find("\"power_avg_w\""), std::string::npos) << "no power sensor here: no power metric, not a zero";
  expect_schema_valid(dir.file("r.json"));
  EXPECT_EQ(json.find("\"series\""), std::string::npos) << "the series goes into --json only with --include-samples";
  // With --include-samples the file carries the series too, and stays schema-valid.
  const auto full = trackiq({"run", "builtin:mlp", "-d", "0.5s", "--warmup", "1", "--threads", "1", "--json",
                             dir.file("full.json"), "--include-samples"},
                            dir);
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_NE(read_file(dir.file("full.json")).find("\"series\""), std::string::npos);
  expect_schema_valid(dir.file("full.json"));
  // Both CSVs count time from the start of the measured phase.
  const auto samples = lines_of(read_file(dir.file("s.csv")));
  const auto tel = lines_of(read_file(dir.file("t.csv")));
  ASSERT_GE(tel.size(), 8u);
  const long long first_tel = std::stoll(tel[1].substr(0, tel[1].find(',')));
  EXPECT_GE(first_tel, -50'000'000);
  EXPECT_LT(first_tel, 100'000'000);
  // The duration rule, exactly (one worker): a query is issued while the one before ended
  // within the 1 s, so the last query ends at 1 s or later and the one before it ended earlier.
  // (This read the second-to-last query, lines_of keeps no empty last line, and held it to
  // > 0.9 s: a query of 150 ms on a busy machine broke that.)
  ASSERT_EQ(samples[0].rfind("query,worker,scheduled_ns,start_ns,end_ns,", 0), 0u) << samples[0];
  ASSERT_GE(samples.size(), 3u);
  auto end_ns = [](std::string line) {
    for (int i = 0; i < 4; ++i) line = line.substr(line.find(',') + 1);
    return std::stoll(line.substr(0, line.find(',')));
  };
  const long long last_end = end_ns(samples.back()), before_end = end_ns(samples[samples.size() - 2]);
  EXPECT_GE(last_end, 1'000'000'000) << samples.back();
  EXPECT_LT(before_end, 1'000'000'000) << samples[samples.size() - 2];
  EXPECT_LT(last_end, 3'000'000'000);
}

TEST(CliRun, NoTelemetryMeansNotSampledAndSaysSo) {
  TempDir dir;
  const auto r = trackiq({"run", "synthetic:mean=0", "-n", "5", "--warmup", "0", "--no-telemetry", "--json", dir.file("r.json")}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string json = read_file(dir.file("r.json"));
  EXPECT_NE(json.find("\"reason\": \"not sampled: telemetry was turned off for this run\""), std::string::npos) << json;
}

TEST(CliProfiles, RunWithAProfilePrintsAVerdictPerConstraint) {
  TempDir dir;
  const auto r = trackiq({"run", "synthetic:mean=1ms", "--profile", "ci_smoke", "--duration", "1s", "--json", dir.file("r.json")}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* m : {"error_rate", "latency_p99_ms", "throughput_samples_per_s", "cpu_util_max_pct"})
    EXPECT_TRUE(std::regex_search(r.out, std::regex(std::string(R"(PASS\s+)") + m))) << m << "\n" << r.out;
  EXPECT_NE(read_file(dir.file("r.json")).find("\"profile\": \"ci_smoke\""), std::string::npos);
  expect_schema_valid(dir.file("r.json"));
}

TEST(CliProfiles, AFailedConstraintExitsWith1AndAnUnmeasurableOneIsNotMeasured) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("profiles"));
  std::ofstream(dir.file("profiles/strict.yaml"))
      << "name: strict\ndescription: too strict\nrun:\n  iterations: 20\n  warmup: 0\n"
         "constraints:\n  - {metric: latency_p99_ms, max: 0.5}\n  - {metric: power_avg_w, max: 50}\n";
  const auto r = trackiq({"run", "synthetic:mean=2ms", "--profile", "strict", "--profiles-dir", dir.file("profiles"),
                          "--collectors", "cpu,memory", "--json", dir.file("r.json")},
                         dir);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(FAIL\s+latency_p99_ms)"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(NOT MEASURED\s+power_avg_w)"))) << r.out;
  EXPECT_NE(read_file(dir.file("r.json")).find("\"verdict\": \"NOT_MEASURED\""), std::string::npos);
  expect_schema_valid(dir.file("r.json"));
}

TEST(CliProfiles, ListShowAndValidateOnly) {
  TempDir dir;
  const auto list = trackiq({"profiles", "list"}, dir);
  ASSERT_EQ(list.exit_code, 0);
  for (const char* n : {"automotive_safety", "edge_max_perf", "edge_low_power", "ci_smoke"})
    EXPECT_NE(list.out.find(n), std::string::npos) << n;
  const auto show = trackiq({"profiles", "show", "automotive_safety"}, dir);
  EXPECT_NE(show.out.find("latency_p99_ms"), std::string::npos);
  const auto v = trackiq({"run", "--profile", "automotive_safety", "--validate-only"}, dir);
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find("profile automotive_safety is valid"), std::string::npos) << v.out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("store.db"))) << "--validate-only runs nothing";
  const auto unknown = trackiq({"run", "--profile", "warp9", "--validate-only"}, dir);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown profile 'warp9'"), std::string::npos);
}

TEST(CliAnalyze, TegrastatsLogsGetAHealthRating) {
  TempDir dir;
  const std::string log = std::string(trackiq::test::kTestdataDir) + "/tegrastats/nano_jp4_SumantBagri-CSC2231_Project.log";
  const auto r = trackiq({"analyze", "tegrastats", "--log", log}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(health: (healthy|warning|critical))"))) << r.out;
  EXPECT_NE(r.out.find("POM_5V_IN"), std::string::npos) << r.out;
  // The log is positional too, like every other analyzer's input.
  const auto positional = trackiq({"analyze", "tegrastats", log, "--json"}, dir);
  ASSERT_EQ(positional.exit_code, 0) << positional.err;
  EXPECT_NE(positional.out.find("POM_5V_IN"), std::string::npos) << positional.out;
  const auto missing = trackiq({"analyze", "tegrastats", "--log", dir.file("none.log")}, dir);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("none.log"), std::string::npos) << missing.err;
  // A file without one tegrastats line is bad input, not a "critical" report that exits 0.
  std::ofstream(dir.file("other.log")) << "\nhello\nworld\n";
  const auto other = trackiq({"analyze", "tegrastats", dir.file("other.log")}, dir);
  EXPECT_EQ(other.exit_code, 2) << other.out;
  EXPECT_NE(other.err.find("other.log:2: not a tegrastats line"), std::string::npos) << other.err;
  EXPECT_EQ(other.out, "");
  std::ofstream(dir.file("empty.log")).flush();
  const auto empty = trackiq({"analyze", "tegrastats", dir.file("empty.log")}, dir);
  EXPECT_EQ(empty.exit_code, 2) << empty.out;
  EXPECT_NE(empty.err.find("empty.log"), std::string::npos) << empty.err;
}

// A history with a +12 % step at index 70 (line 73: the header is line 1, and a blank line
// follows the 10th row). Deterministic jitter of ±1 % so the series is not a bare step.
std::string step_history_csv() {
  std::string csv = "commit,latency_ms,rps\n";
  for (int i = 0; i < 120; ++i) {
    const double jitter = static_cast<double>((i * 37) % 11 - 5) / 5.0;
    csv += fmt::format("c{},{:.3f},{}\n", i, (i >= 70 ? 112.0 : 100.0) + jitter, 50 + (i * 13) % 3);
    if (i == 9) csv += "\n";
  }
  return csv;
}

TEST(CliAnalyze, ChangePointsInACsvColumnAsATableAndAsJson) {
  TempDir dir;
  std::ofstream(dir.file("history.csv")) << step_history_csv();
  const auto r = trackiq({"analyze", "changepoints", dir.file("history.csv")}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("column 'latency_ms'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("120 points"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\n\s+70\s+73\s+(99|100)\.\d+\s+112\.\d+\s+\+12\.\d %\s+\S+\s+high\n)"))) << r.out;

  const auto j = trackiq({"analyze", "changepoints", dir.file("history.csv"), "--json"}, dir);
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc.at("n"), 120);
  ASSERT_EQ(doc.at("change_points").size(), 1u) << j.out;
  const auto& cp = doc.at("change_points").at(0);
  EXPECT_EQ(cp.at("index"), 70);
  EXPECT_EQ(cp.at("line"), 73);
  EXPECT_NEAR(cp.at("before").get<double>(), 100, 0.5);
  EXPECT_NEAR(cp.at("after").get<double>(), 112, 0.5);
  EXPECT_NEAR(cp.at("magnitude_pct").get<double>(), 12, 0.7);
  EXPECT_LT(cp.at("p_value").get<double>(), 1e-6);
  EXPECT_EQ(cp.at("confidence"), "high");

  // Another column: the request rate never shifted.
  const auto rps = trackiq({"analyze", "changepoints", dir.file("history.csv"), "--column", "rps", "--json"}, dir);
  ASSERT_EQ(rps.exit_code, 0) << rps.err;
  EXPECT_EQ(nlohmann::json::parse(rps.out).at("change_points").size(), 0u) << rps.out;
  EXPECT_EQ(nlohmann::json::parse(rps.out).at("column"), "rps");
  const auto none = trackiq({"analyze", "changepoints", dir.file("history.csv"), "--column", "rps"}, dir);
  EXPECT_NE(none.out.find("no change point: no split is significant at alpha 0.01"), std::string::npos) << none.out;
}

TEST(CliAnalyze, ChangePointsRejectBadCellsAndSayWhenASeriesIsTooShort) {
  TempDir dir;
  std::ofstream(dir.file("bad.csv")) << "ms,run\n10.5,1\n10.7,2\nNaN,3\n10.6,4\n";
  const auto bad = trackiq({"analyze", "changepoints", dir.file("bad.csv")}, dir);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bad.csv:4: column 'ms': 'NaN' is not a finite number"), std::string::npos) << bad.err;
  std::ofstream(dir.file("text.csv")) << "run,ms\n1,10.5\n2,fast\n";
  const auto text = trackiq({"analyze", "changepoints", dir.file("text.csv"), "--column", "ms"}, dir);
  EXPECT_EQ(text.exit_code, 2);
  EXPECT_NE(text.err.find("text.csv:3: column 'ms': 'fast' is not a number"), std::string::npos) << text.err;
  const auto missing = trackiq({"analyze", "changepoints", dir.file("bad.csv"), "--column", "latency"}, dir);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("bad.csv:1: no column 'latency' (columns: ms, run)"), std::string::npos) << missing.err;

  std::ofstream(dir.file("short.csv")) << "ms\n1\n1\n1\n9\n9\n9\n";
  const auto short_series = trackiq({"analyze", "changepoints", dir.file("short.csv")}, dir);
  ASSERT_EQ(short_series.exit_code, 0) << short_series.err;
  EXPECT_NE(short_series.out.find("no change point: the series is too short to split: 6 points, and a split needs at least 2 x 6 = 12"),
            std::string::npos)
      << short_series.out;
  const auto short_json = trackiq({"analyze", "changepoints", dir.file("short.csv"), "--json"}, dir);
  ASSERT_EQ(short_json.exit_code, 0);
  EXPECT_NE(nlohmann::json::parse(short_json.out).at("not_tested").get<std::string>().find("6 points"), std::string::npos);

  const auto help = trackiq({"analyze", "changepoints", "--help"}, dir);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Examples:"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--column"), std::string::npos) << help.out;
}

TEST(CliRuns, ListShowAndRemoveStoredRuns) {
  TempDir dir;
  for (const char* product : {"detector", "speech"}) {
    const auto r = trackiq({"run", "synthetic:mean=0", "-n", "20", "--warmup", "0", "--no-telemetry", "--product", product,
                            "--label", "team=edge", "--label", std::string("commit=") + (product[0] == 'd' ? "abc1234def" : "fed9876"),
                            "--version", product[0] == 'd' ? "1.4" : "2.0"},
                           dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const auto all = trackiq({"runs", "list"}, dir);
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(lines_of(all.out).size(), 3u) << all.out;  // header and 2 runs
  // --label filters the built-in labels too: version exactly, commit by a prefix of the SHA.
  for (const char* label : {"version=1.4", "commit=abc12", "product=detector"}) {
    const auto one = trackiq({"runs", "list", "--label", label, "--label", "team=edge"}, dir);
    EXPECT_EQ(lines_of(one.out).size(), 2u) << label << "\n" << one.out << one.err;
    EXPECT_NE(one.out.find("detector"), std::string::npos) << label << "\n" << one.out;
  }
  EXPECT_NE(trackiq({"runs", "list", "--label", "version=9"}, dir).out.find("(no runs in"), std::string::npos);
  // Dates are checked: a day that does not exist, or words, exit 2 instead of filtering nothing.
  for (const char* since : {"2026-13-45", "yesterday", "2026-02-30"}) {
    const auto bad = trackiq({"runs", "list", "--since", since}, dir);
    EXPECT_EQ(bad.exit_code, 2) << since << ": " << bad.out;
    EXPECT_NE(bad.err.find(std::string("--since '") + since + "'"), std::string::npos) << bad.err;
  }
  EXPECT_NE(trackiq({"runs", "list", "--since", "2000-01-01", "--until", "2000-01-02T00:00:00Z"}, dir).out.find("(no runs in"),
            std::string::npos);
  EXPECT_EQ(lines_of(trackiq({"runs", "list", "--since", "2000-01-01"}, dir).out).size(), 3u);
  const auto det = trackiq({"runs", "list", "--product", "detector", "--json"}, dir);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(det.out, m, std::regex(R"re("run_id": "([0-9a-f-]{36})")re"))) << det.out;
  EXPECT_EQ(det.out.find("speech"), std::string::npos);
  const auto show = trackiq({"runs", "show", m[1].str().substr(0, 6)}, dir);
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find(m[1].str()), std::string::npos);
  // The run of a baseline is not removed behind the baseline's back.
  ASSERT_EQ(trackiq({"baseline", "save", "main", m[1].str()}, dir).exit_code, 0);
  const auto refused = trackiq({"runs", "rm", m[1].str()}, dir);
  EXPECT_EQ(refused.exit_code, 2) << refused.out;
  EXPECT_NE(refused.err.find("is the run of baseline 'main'"), std::string::npos) << refused.err;
  EXPECT_EQ(trackiq({"runs", "show", m[1].str()}, dir).exit_code, 0) << "refused: still there";
  const auto rm = trackiq({"runs", "rm", m[1].str(), "--with-baselines"}, dir);
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_NE(rm.out.find("removed baseline main"), std::string::npos) << rm.out;
  const auto again = trackiq({"runs", "show", m[1].str()}, dir);
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("no run"), std::string::npos) << again.err;
}

// Runs move between stores as their canonical JSON: same ids, samples and verdicts; nothing
// half-stored when one file is bad or a run is there already.
TEST(CliRuns, ImportStoresExportedResultsUnchangedAndRefusesDuplicates) {
  TempDir from, to;
  std::vector<std::string> ids;
  for (const char* mean : {"mean=2ms", "mean=3ms"}) {
    const auto r = trackiq({"run", std::string("synthetic:") + mean, "-n", "200", "--warmup", "0", "--no-telemetry",
                            "--product", "detector"},
                           from);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ids.push_back(stored_id(r));
    ASSERT_EQ(trackiq({"runs", "export", ids.back(), "-o", from.file(ids.back() + ".json")}, from).exit_code, 0);
  }
  const std::string a = from.file(ids[0] + ".json"), b = from.file(ids[1] + ".json");

  const auto imported = trackiq({"runs", "import", a, b, "--json"}, to);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  const auto doc = nlohmann::json::parse(imported.out);
  ASSERT_EQ(doc.size(), 2u) << imported.out;
  EXPECT_EQ(doc[0].at("run_id"), ids[0]);
  EXPECT_EQ(doc[1].at("samples"), 200);
  // The same run, sample for sample: its export from the new store is the file it came from.
  ASSERT_EQ(trackiq({"runs", "export", ids[0], "-o", to.file("again.json")}, to).exit_code, 0);
  EXPECT_EQ(read_file(to.file("again.json")), read_file(a));
  const auto cmp = trackiq({"compare", ids[0], ids[1]}, to);
  EXPECT_EQ(cmp.exit_code, 1) << cmp.out << cmp.err;  // 2 -> 3 ms: a tested slowdown
  EXPECT_NE(cmp.out.find("BLOCK"), std::string::npos) << cmp.out;

  // Again: refused, and nothing more stored.
  const auto twice = trackiq({"runs", "import", b}, to);
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_NE(twice.err.find("run " + ids[1] + " is already stored; nothing stored"), std::string::npos) << twice.err;
  // One bad file among good ones: file:line, exit 2, the good one not stored either.
  TempDir other;
  std::ofstream(other.file("bad.json")) << "[\n{\"run_id\": 3\n";
  const auto bad = trackiq({"runs", "import", a, other.file("bad.json")}, other);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find(other.file("bad.json") + ":"), std::string::npos) << bad.err;
  const auto none = trackiq({"runs", "list", "--json"}, other);
  EXPECT_EQ(nlohmann::json::parse(none.out).size(), 0u) << none.out;
  const auto same = trackiq({"runs", "import", a, a}, other);
  EXPECT_EQ(same.exit_code, 2);
  EXPECT_NE(same.err.find("is also in"), std::string::npos) << same.err;
  EXPECT_EQ(trackiq({"runs", "import"}, other).exit_code, 2);
  const auto listed = trackiq({"runs", "list", "--json"}, to);
  EXPECT_EQ(nlohmann::json::parse(listed.out).size(), 2u) << listed.out;
}

TEST(CliBaseline, SaveListRemove) {
  TempDir dir;
  ASSERT_EQ(trackiq({"run", "synthetic:mean=0", "-n", "5", "--warmup", "0", "--no-telemetry"}, dir).exit_code, 0);
  const auto save = trackiq({"baseline", "save", "main"}, dir);
  ASSERT_EQ(save.exit_code, 0) << save.err;
  EXPECT_TRUE(std::regex_search(save.out, std::regex(R"(baseline main -> run [0-9a-f-]{36} \(hardware [0-9a-f]{16}\))")))
      << save.out;
  const auto list = trackiq({"baseline", "list"}, dir);
  EXPECT_NE(list.out.find("main"), std::string::npos);
  EXPECT_EQ(trackiq({"baseline", "rm", "main"}, dir).exit_code, 0);
  const auto again = trackiq({"baseline", "rm", "main"}, dir);
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("no baseline 'main'"), std::string::npos);
  // compare with a name that is nothing: every thing it could have been is said, not "no baseline".
  const auto nothing = trackiq({"compare", "nosuchrun", "main"}, dir);
  EXPECT_EQ(nothing.exit_code, 2);
  EXPECT_NE(nothing.err.find("is not a result file, a stored run (id or prefix of >= 4 characters) or a baseline"),
            std::string::npos)
      << nothing.err;
}


TEST(CliCompare, ARunAgainstItselfPassesAndAPlanted30PercentSlowdownBlocks) {
  TempDir dir;
  auto run = [&](const char* spec) {
    return stored_id(trackiq({"run", spec, "-n", "400", "--warmup", "20", "--no-telemetry"}, dir));
  };
  const std::string a = run("synthetic:dist=lognormal,mean=2ms,cv=0.3");
  const std::string slow = run("synthetic:dist=lognormal,mean=2.6ms,cv=0.3");
  // A run against its own exported file: identical samples, PASS. (Two separate runs of the
  // same configuration are compared in compare_test with known distributions: on a shared
  // machine their tails really do differ from run to run.)
  ASSERT_EQ(trackiq({"runs", "export", a, "-o", dir.file("a.json")}, dir).exit_code, 0);
  const auto same = trackiq({"compare", a, dir.file("a.json")}, dir);
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_NE(same.out.find("verdict: PASS"), std::string::npos) << same.out;
  const auto worse = trackiq({"compare", a, slow}, dir);
  EXPECT_EQ(worse.exit_code, 1) << worse.out << worse.err;
  EXPECT_NE(worse.out.find("verdict: BLOCK"), std::string::npos);
  // Confidence is high, or medium when the machine put a 100 ms hiccup into either run (its CV
  // then exceeds 0.5): seen on a loaded 2-core VM. Never low for a 30 % shift at n = 400.
  EXPECT_TRUE(std::regex_search(worse.out, std::regex(R"(latency_p50_ms .* (high|medium)\s+BLOCK)"))) << worse.out;
  // A baseline name works as a side, and so does a result file.
  ASSERT_EQ(trackiq({"baseline", "save", "main", a}, dir).exit_code, 0);
  ASSERT_EQ(trackiq({"runs", "export", slow, "-o", dir.file("slow.json")}, dir).exit_code, 0);
  const auto md = trackiq({"compare", "main", dir.file("slow.json"), "--markdown"}, dir);
  EXPECT_EQ(md.exit_code, 1);
  EXPECT_NE(md.out.find("| latency_p50_ms |"), std::string::npos) << md.out;
}

TEST(CliCompare, AutoPicksTheTwoNewestCiRunsWithDifferentVersions) {
  TempDir dir;
  auto run_ci = [&](const char* version, const char* mean) {
    const auto r = run_process({kBin, "run", std::string("synthetic:dist=lognormal,cv=0.3,mean=") + mean, "-n", "300",
                                "--warmup", "10", "--no-telemetry", "--product", "detector", "--version", version,
                                "--store", dir.file("store.db")},
                               {"CI=true"});
    return stored_id(r);
  };
  const std::string v1 = run_ci("1.0", "2ms");
  const std::string v2 = run_ci("1.1", "2.6ms");
  // A local run is never picked (CI=false: the test itself may be running in CI).
  ASSERT_EQ(run_process({kBin, "run", "synthetic", "-n", "5", "--no-telemetry", "--product", "detector", "--version", "9",
                         "--store", dir.file("store.db")},
                        {"CI=false"})
                .exit_code,
            0);
  const auto r = trackiq({"compare", "--auto", "--product", "detector"}, dir);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("auto: current " + v2), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("baseline " + v1), std::string::npos) << r.err;
  const auto none = trackiq({"compare", "--auto", "--product", "speech"}, dir);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("no CI runs of product 'speech'"), std::string::npos) << none.err;
}

TEST(CliStore, ThePostgresqlStoreServesRunsBaselinesAndCompare) {
  TempDir dir;
  const TempPostgresDb pg;
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), kBin);
    args.push_back("--store");
    args.push_back(pg.url());
    return run_process(args);
  };
  auto run = [&](const char* spec) {
    const auto r = cli({"run", spec, "-n", "400", "--warmup", "20", "--product", "detector"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("in " + pg.url()), std::string::npos) << "says where it stored the run: " << r.out;
    return stored_id(r);
  };
  const std::string a = run("synthetic:dist=lognormal,mean=2ms,cv=0.3");
  const std::string slow = run("synthetic:dist=lognormal,mean=2.6ms,cv=0.3");
  const auto list = cli({"runs", "list", "--product", "detector", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(a), std::string::npos);
  EXPECT_NE(list.out.find(slow), std::string::npos);
  // The exported run carries its exact samples and its telemetry series from PostgreSQL.
  ASSERT_EQ(cli({"runs", "export", a, "-o", dir.file("a.json")}).exit_code, 0);
  std::ifstream in(dir.file("a.json"));
  const std::string exported((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(exported.find("\"samples_ns\": ["), std::string::npos);
  EXPECT_NE(exported.find("\"series\": {"), std::string::npos) << "telemetry series kept";
  const auto same = cli({"compare", a, dir.file("a.json")});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  ASSERT_EQ(cli({"baseline", "save", "main", a}).exit_code, 0);
  const auto worse = cli({"compare", "main", slow});
  EXPECT_EQ(worse.exit_code, 1) << worse.out << worse.err;
  // Confidence is high, or medium when the machine put a 100 ms hiccup into either run (its CV
  // then exceeds 0.5): seen on a loaded 2-core VM. Never low for a 30 % shift at n = 400.
  EXPECT_TRUE(std::regex_search(worse.out, std::regex(R"(latency_p50_ms .* (high|medium)\s+BLOCK)"))) << worse.out;
  EXPECT_EQ(cli({"runs", "rm", slow}).exit_code, 0);
  EXPECT_EQ(cli({"runs", "show", slow}).exit_code, 2);
}

TEST(CliReport, WritesMarkdownJunitJsonAndCsvFromRunsAndComparisons) {
  TempDir dir;
  const std::string a = stored_id(trackiq({"run", "synthetic:dist=lognormal,mean=1ms,cv=0.2", "-n", "300", "--warmup", "10",
                                           "--no-telemetry", "--product", "detector"},
                                          dir));
  const std::string b = stored_id(trackiq({"run", "synthetic:dist=lognormal,mean=1.4ms,cv=0.2", "-n", "300", "--warmup",
                                           "10", "--no-telemetry", "--product", "detector"},
                                          dir));
  const auto md = trackiq({"report", a, b, "--title", "two runs"}, dir);
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_EQ(md.out.rfind("## ", 0), 0u) << "verdict first: " << md.out;
  EXPECT_NE(md.out.find("synthetic workload"), std::string::npos) << "synthetic runs are flagged";
  EXPECT_NE(md.out.find("| `" + a.substr(0, 8) + "` | detector |"), std::string::npos) << md.out;
  for (const char* ext : {"xml", "json", "csv", "md"}) {
    const std::string file = dir.file(std::string("r.") + ext);
    const auto r = trackiq({"report", a, "-o", file}, dir);
    EXPECT_EQ(r.exit_code, 0) << ext << ": " << r.err;
    EXPECT_NE(r.out.find("report  " + file), std::string::npos) << r.out;
  }
  // The format's other names: markdown for md, xml for junit; anything else is refused.
  const auto long_md = trackiq({"report", a, "--format", "markdown"}, dir);
  EXPECT_EQ(long_md.exit_code, 0) << long_md.err;
  EXPECT_EQ(long_md.out.rfind("## ", 0), 0u) << long_md.out;
  const auto xml_alias = trackiq({"report", a, "--format", "xml"}, dir);
  EXPECT_EQ(xml_alias.exit_code, 0) << xml_alias.err;
  EXPECT_NE(xml_alias.out.find("<testsuites"), std::string::npos) << xml_alias.out;
  EXPECT_EQ(trackiq({"report", a, "--format", "docx"}, dir).exit_code, 2);
  // Real parsers accept what we wrote.
  const auto xml = run_process({"/usr/bin/python3", "-c",
                                "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
                                "print(r.tag, r.get('tests'), r.get('failures'))",
                                dir.file("r.xml")});
  EXPECT_EQ(xml.out, "testsuites 1 0\n") << xml.err;
  const auto js = run_process({"/usr/bin/python3", "-c",
                               "import sys, json; d = json.load(open(sys.argv[1])); print(d['executive_summary']['decision'])",
                               dir.file("r.json")});
  EXPECT_EQ(js.out, "APPROVE\n") << js.err;
  // A comparison report: the regression is a JUnit failure with its numbers.
  const auto cmp = trackiq({"compare", a, b, "--report", dir.file("c.xml")}, dir);
  EXPECT_EQ(cmp.exit_code, 1) << cmp.out << cmp.err;
  const std::string cx = read_file(dir.file("c.xml"));
  EXPECT_NE(cx.find("<failure message=\"latency_p50_ms: "), std::string::npos) << cx;
  // HTML: the page and its data files beside it (the browser test opens such pages).
  const auto html = trackiq({"report", a, b, "-o", dir.file("r.html"), "--theme", "dark"}, dir);
  EXPECT_EQ(html.exit_code, 0) << html.err;
  EXPECT_NE(read_file(dir.file("r.html")).find("data-theme=\"dark\""), std::string::npos);
  EXPECT_EQ(read_file(dir.file("r_data.csv")).substr(0, 24), "run_id,chart,series,x,y\n");
  EXPECT_NE(read_file(dir.file("r_data.json")).find("\"charts\""), std::string::npos);
  EXPECT_EQ(trackiq({"report", a, "-o", dir.file("t.html"), "--theme", "blue"}, dir).exit_code, 2);
  // A page that cannot be written (its path is a directory) leaves no data files behind.
  std::filesystem::create_directory(dir.file("d.html"));
  const auto blocked = trackiq({"report", a, "-o", dir.file("d.html")}, dir);
  EXPECT_NE(blocked.exit_code, 0);
  EXPECT_NE(blocked.err.find("d.html"), std::string::npos) << blocked.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("d_data.json")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("d_data.csv")));
  // A PDF without Chromium says what is missing, before any work; unknown formats are usage
  // errors; nothing is written.
  const auto pdf = trackiq({"report", a, "-o", dir.file("r.pdf")}, dir, {"TRACKIQ_CHROMIUM=/nonexistent/chromium"});
  EXPECT_EQ(pdf.exit_code, 2);
  EXPECT_NE(pdf.err.find("Chromium"), std::string::npos) << pdf.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("r.pdf")));
  EXPECT_EQ(trackiq({"report", a, "--format", "docx"}, dir).exit_code, 2);
  // `run --report` writes the report of the run it just made (what `make run` uses).
  const auto run = trackiq({"run", "synthetic:mean=0", "-n", "5", "--no-telemetry", "--report", dir.file("run.xml")}, dir);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("report     " + dir.file("run.xml")), std::string::npos) << run.out;
  EXPECT_NE(read_file(dir.file("run.xml")).find("name=\"completed without errors\""), std::string::npos);
  EXPECT_EQ(trackiq({"run", "synthetic:mean=0", "-n", "5", "--report", dir.file("run.docx")}, dir).exit_code, 2);
  EXPECT_EQ(trackiq({"report", "ffffffff"}, dir).exit_code, 2);
}

// --- trackiq load, against the reference server (tests/support/ref_server.cpp) ---------------

std::string load_metric_json(const std::string& path, const std::string& name) {
  const auto r = run_process({"/usr/bin/python3", "-c",
                              "import sys, json; d = json.load(open(sys.argv[1])); d = d if isinstance(d, dict) else d[0]; "
                              "print(d['metrics'][sys.argv[2]]['value'])",
                              path, name});
  return r.out;
}

TEST(CliLoad, ClosedLoopWritesASchemaValidResultEveryRequestAndStoresIt) {
  TempDir dir;
  RefServer server;
  ASSERT_TRUE(server.ok());
  const auto r = trackiq({"load", server.url("/small"), "--concurrency", "4", "--threads", "2", "--requests", "400",
                          "--json", dir.file("load.json"), "--requests-jsonl", dir.file("req.jsonl"), "--product", "edge"},
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Successful requests:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stored     run "), std::string::npos);
  expect_schema_valid(dir.file("load.json"));
  EXPECT_EQ(load_metric_json(dir.file("load.json"), "queries_total"), "400.0\n");
  // The closed loop's threads run SCHED_BATCH by default, and the result says so.
  const auto sched = run_process({"/usr/bin/python3", "-c",
                                  "import sys, json; print(json.load(open(sys.argv[1]))['workload']['options']['client_sched'])",
                                  dir.file("load.json")});
  EXPECT_EQ(sched.out, "batch\n") << sched.err;
  EXPECT_NE(r.out.find("Client threads' scheduling:"), std::string::npos) << r.out;
  const std::string jl = read_file(dir.file("req.jsonl"));
  EXPECT_EQ(std::count(jl.begin(), jl.end(), '\n'), 400);
  EXPECT_NE(jl.find("\"status\":200"), std::string::npos);
  const auto list = trackiq({"runs", "list"}, dir);
  EXPECT_NE(list.out.find("load"), std::string::npos) << list.out;
}

TEST(CliLoad, StreamingChatMatchesTheServersTimingUnderVllmNames) {
  TempDir dir;
  RefServer server({"--ttft-ms", "30", "--itl-ms", "6", "--tokens", "10"});
  ASSERT_TRUE(server.ok());
  std::ofstream(dir.file("prompts.jsonl")) << "{\"prompt\": \"one two\"}\n{\"prompt\": \"three four five\"}\n";
  const auto r = trackiq({"load", server.url("/"), "--api", "openai-chat", "--model", "m", "--dataset", dir.file("prompts.jsonl"),
                          "--concurrency", "2", "--requests", "50", "--slo", "ttft=200ms", "--slo-percentile", "90",
                          "--json", dir.file("llm.json"), "--requests-jsonl", dir.file("req.jsonl")},
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Time to First Token"), std::string::npos) << r.out;
  expect_schema_valid(dir.file("llm.json"));
  // Ground truth: the server's deadlines are absolute from after our send, and an event is never
  // early, only late (a loaded machine delays the server's timers and our reads by several ms).
  // So every request's token k arrives at least 30 + 6k ms after its send, exactly; a definition
  // error of a whole ITL (6 ms) or more shows on every request, so the fastest one is within an
  // ITL of the truth; and the reported median is the median of those per-request values.
  std::vector<double> ttfts;
  std::istringstream lines(read_file(dir.file("req.jsonl")));
  for (std::string line; std::getline(lines, line);) {
    const auto q = nlohmann::json::parse(line);
    const auto sent = q.at("sent_ns").get<std::int64_t>();
    const auto& events = q.at("output_events");
    ASSERT_EQ(events.size(), 10u) << line;
    for (std::size_t k = 0; k < events.size(); ++k)
      EXPECT_GE(events[k][0].get<std::int64_t>() - sent, (30 + 6 * static_cast<std::int64_t>(k)) * 1'000'000) << line;
    ttfts.push_back(static_cast<double>(events[0][0].get<std::int64_t>() - sent) / 1e6);
  }
  ASSERT_EQ(ttfts.size(), 50u);
  std::sort(ttfts.begin(), ttfts.end());
  EXPECT_LT(ttfts.front(), 30.0 + 6.0);
  EXPECT_NEAR(std::stod(load_metric_json(dir.file("llm.json"), "median_ttft_ms")), (ttfts[24] + ttfts[25]) / 2, 1e-3);
  // TPOT is a difference of two arrivals, each about as late as the other, over 9 gaps: a busy
  // machine moves it little.
  EXPECT_NEAR(std::stod(load_metric_json(dir.file("llm.json"), "median_tpot_ms")), 6.0, 2.0);
  EXPECT_NEAR(std::stod(load_metric_json(dir.file("llm.json"), "output_throughput")),
              10.0 * std::stod(load_metric_json(dir.file("llm.json"), "request_throughput")), 1.0);
  EXPECT_GT(std::stod(load_metric_json(dir.file("llm.json"), "request_goodput")), 0.0);
}

TEST(CliLoad, ARateSweepGivesOneResultPerPointAndASummaryTable) {
  TempDir dir;
  RefServer server;
  ASSERT_TRUE(server.ok());
  const auto r = trackiq({"load", server.url("/small"), "--rates", "50,100", "--arrival", "constant", "--duration", "1s",
                          "--json", dir.file("sweep.json")},
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("rate=50"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("achieved/s"), std::string::npos) << r.out;
  const auto n = run_process({"/usr/bin/python3", "-c",
                              "import sys, json; d = json.load(open(sys.argv[1])); "
                              "print(len(d), [round(x['metrics']['request_rate_target']['value']) for x in d], "
                              "{x['workload']['options']['client_sched'] for x in d})",
                              dir.file("sweep.json")});
  EXPECT_EQ(n.out, "2 [50, 100] {'normal'}\n") << n.err;  // the open loop keeps normal scheduling
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(Target request rate \(req/s\): +50\.00\n)"))) << r.out;
  EXPECT_EQ(r.out.find("Scheduled request rate"), std::string::npos) << "a constant schedule is the target" << r.out;
  // Poisson arrivals over a short run draw a rate near the target: both are said, the target as given.
  const auto poisson = trackiq({"load", server.url("/small"), "--rate", "2", "--requests", "6", "--seed", "3", "--no-store"}, dir);
  ASSERT_EQ(poisson.exit_code, 0) << poisson.out << poisson.err;
  EXPECT_TRUE(std::regex_search(poisson.out, std::regex(R"(Target request rate \(req/s\): +2\.00\n)"))) << poisson.out;
  EXPECT_NE(poisson.out.find("Scheduled request rate (req/s):"), std::string::npos) << poisson.out;
  // The points' HTML report draws latency and throughput against the rate.
  std::vector<std::string> args{"report"};
  const std::regex stored("stored     run ([0-9a-f-]{36})");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), stored), end; it != end; ++it) args.push_back((*it)[1]);
  ASSERT_EQ(args.size(), 3u) << r.out;
  args.insert(args.end(), {"-o", dir.file("sweep.html")});
  ASSERT_EQ(trackiq(args, dir).exit_code, 0);
  const auto t = run_process({"/usr/bin/python3", "-c",
                              "import sys, json; t = json.load(open(sys.argv[1]))['charts']['tradeoff']; "
                              "print(t['axis'], [round(p['x']) for p in t['points']], all(p['throughput'] > 0 for p in t['points']))",
                              dir.file("sweep_data.json")});
  EXPECT_EQ(t.out, "rate [50, 100] True\n") << t.err;
}

// The report of a real LLM sweep leads with the serving figures and plots TTFT and TPOT against
// the concurrency, one point per step; the Markdown report has the same figures.
TEST(CliLoad, AnLlmSweepReportLeadsWithTtftTpotE2elAndPlotsThemAgainstConcurrency) {
  TempDir dir;
  RefServer server({"--ttft-ms", "30", "--itl-ms", "6", "--tokens", "10"});
  ASSERT_TRUE(server.ok());
  const auto r = trackiq({"load", server.url("/"), "--api", "openai-chat", "--model", "m", "--concurrency", "1,2,4,8",
                          "--requests", "16", "--slo", "ttft=500ms,tpot=100ms"},
                         dir);
  ASSERT_LE(r.exit_code, 1) << r.out << r.err;  // 1: 16 requests cannot confirm a p99 SLO
  std::vector<std::string> args{"report"};
  const std::regex stored("stored     run ([0-9a-f-]{36})");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), stored), end; it != end; ++it) args.push_back((*it)[1]);
  ASSERT_EQ(args.size(), 5u) << r.out;
  std::vector<std::string> html = args;
  html.insert(html.end(), {"-o", dir.file("llm.html")});
  ASSERT_EQ(trackiq(html, dir).exit_code, 0);
  // Every card's value is its run's metric; TTFT and TPOT are the server's (30 ms, 6 ms).
  const auto check = run_process({"/usr/bin/python3", "-c", R"(
import sys, json
d = json.load(open(sys.argv[1]))
runs = {r['run_id']: r for r in d['runs']}
for g in d['at_a_glance']:
    assert g['kind'] == 'llm', g
    metrics = runs[g['run_id']]['metrics']
    labels = [c['label'] for c in g['cards']]
    assert labels[:8] == ['TTFT p50', 'TTFT p99', 'TPOT p50', 'TPOT p99', 'E2EL p50', 'E2EL p99', 'output tokens/s', 'goodput'], labels
    for c in g['cards']:
        if c['metric'] in metrics:
            v = metrics[c['metric']]['value']
            assert abs(c['value'] - v) <= 1e-5 * abs(v), (c, v)  # 6 significant digits
    ttft, tpot = g['cards'][0]['value'], g['cards'][2]['value']
    assert 25 <= ttft <= 60 and 4 <= tpot <= 12, (ttft, tpot)
t = d['charts']['tradeoff']
near = lambda a, b: abs(a - b) <= 1e-5 * abs(b)  # the page data keeps 6 significant digits
print(t['axis'], t['llm']['token_latency'], [round(p['x']) for p in t['points']],
      all(near(p['ttft_p50_ms'], runs[p['run_id']]['metrics']['median_ttft_ms']['value']) and
          near(p['token_p99_ms'], runs[p['run_id']]['metrics']['p99_tpot_ms']['value']) for p in t['points']))
)",
                                  dir.file("llm_data.json")});
  EXPECT_EQ(check.out, "concurrency tpot [1, 2, 4, 8] True\n") << check.err;
  const auto md = trackiq(args, dir);
  EXPECT_NE(md.out.find("### LLM serving"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("| run | TTFT p50 ms | TTFT p99 ms | TPOT p50 ms | TPOT p99 ms | E2EL p50 ms | E2EL p99 ms |"),
            std::string::npos)
      << md.out;
}

TEST(CliLoad, AMisbehavingServerGivesCountedErrorsAndMaxErrorRateAPartialResult) {
  TempDir dir;
  RefServer server;
  ASSERT_TRUE(server.ok());
  // Every request reset: counted by class, and a point where nothing succeeded fails (exit 1).
  const auto reset = trackiq({"load", server.url("/reset"), "--concurrency", "2", "--requests", "20", "--no-store"}, dir);
  EXPECT_EQ(reset.exit_code, 1) << reset.err;
  EXPECT_NE(reset.out.find("Errors: reset"), std::string::npos) << reset.out;
  EXPECT_NE(reset.out.find("no request succeeded"), std::string::npos) << reset.out;
  const auto bad = trackiq({"load", server.url("/status/503"), "--concurrency", "2", "--duration", "20s", "--max-error-rate",
                            "0.2", "--json", dir.file("partial.json")},
                           dir);
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("partial result"), std::string::npos) << bad.out;
  EXPECT_NE(read_file(dir.file("partial.json")).find("partial result"), std::string::npos);
}

TEST(CliLoad, PercentileSlosAreEarlyStoppingVerdicts) {
  TempDir dir;
  RefServer server({"--ttft-ms", "20", "--itl-ms", "2", "--tokens", "4"});
  ASSERT_TRUE(server.ok());
  const std::vector<std::string> base{"load", server.url("/"), "--api", "openai-chat", "--model", "m", "--concurrency", "4",
                                      "--no-store", "--slo-percentile", "90"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return trackiq(a, dir);
  };
  // 60 requests all within 200 ms: p90 is confirmed (44 suffice at 99 %).
  const auto pass = with({"--requests", "60", "--slo", "ttft=200ms"});
  EXPECT_EQ(pass.exit_code, 0) << pass.out << pass.err;
  EXPECT_NE(pass.out.find("PASS"), std::string::npos) << pass.out;
  // 20 requests are too few to confirm p90, however fast they were: NOT CONFIRMED, which warns
  // by default (--unconfirmed warn) and blocks with --unconfirmed block.
  const auto few = with({"--requests", "20", "--slo", "ttft=200ms"});
  EXPECT_EQ(few.exit_code, 0) << few.out;
  EXPECT_NE(few.out.find("NOT CONFIRMED"), std::string::npos) << few.out;
  const auto few_blocks = with({"--requests", "20", "--slo", "ttft=200ms", "--unconfirmed", "block"});
  EXPECT_EQ(few_blocks.exit_code, 1) << few_blocks.out;
  // Every TTFT (~20 ms) is above 5 ms: FAIL.
  const auto fail = with({"--requests", "60", "--slo", "ttft=5ms"});
  EXPECT_EQ(fail.exit_code, 1) << fail.out;
  EXPECT_NE(fail.out.find("FAIL"), std::string::npos) << fail.out;
}

// The review's case: a sweep of short points against a server well within ttft/tpot limits. p99
// needs 459 requests with none over the limit (0.99^459 <= 0.01 < 0.99^458); a 1 s point at
// concurrency <= 2 of ~30 ms requests has fewer than 200. Within the limit and unproven is NOT
// CONFIRMED with the requests needed, never FAIL; --unconfirmed decides the exit code.
TEST(CliLoad, AnSloWithinItsLimitButTooShortToConfirmIsNotConfirmed) {
  TempDir dir;
  RefServer server({"--ttft-ms", "20", "--itl-ms", "2", "--tokens", "4"});
  ASSERT_TRUE(server.ok());
  auto load = [&](std::vector<std::string> extra) {
    std::vector<std::string> a{"load", server.url("/"), "--api", "openai-chat", "--model", "m", "--concurrency", "1,2",
                               "--duration", "1s", "--no-store", "--slo", "ttft=1s,tpot=250ms"};
    a.insert(a.end(), extra.begin(), extra.end());
    return trackiq(a, dir);
  };
  const auto warn = load({"--json", dir.file("warn.json")});
  EXPECT_EQ(warn.exit_code, 0) << warn.out << warn.err;
  EXPECT_NE(warn.out.find("SLO p99_ttft_ms <= 1000:"), std::string::npos) << warn.out;
  EXPECT_TRUE(std::regex_search(warn.out, std::regex(R"(SLO p99_ttft_ms <= 1000:\s+NOT CONFIRMED \([0-9.]+\))"))) << warn.out;
  EXPECT_TRUE(std::regex_search(warn.out, std::regex(R"(SLO p99_tpot_ms <= 250:\s+NOT CONFIRMED \([0-9.]+\))"))) << warn.out;
  EXPECT_NE(warn.out.find("too few requests to confirm: needs >= 459 requests"), std::string::npos) << warn.out;
  EXPECT_NE(warn.out.find("--unconfirmed warn"), std::string::npos) << warn.out;
  EXPECT_EQ(warn.out.find("FAIL"), std::string::npos) << warn.out;
  EXPECT_EQ(warn.out.find("failed"), std::string::npos) << warn.out;
  // The result says so too, valid against the schema.
  const auto verdicts = run_process(
      {"/usr/bin/python3", "-c",
       "import json, sys; d = json.load(open(sys.argv[1])); json.dump(d[0], open(sys.argv[2], 'w'))\n"
       "for p in d:\n"
       "  for v in p['slo']: print(v['metric'], v['verdict'], v.get('requests_needed'), v['measured'] <= v['limit'])",
       dir.file("warn.json"), dir.file("point0.json")});
  EXPECT_EQ(verdicts.out, std::string("p99_ttft_ms NOT_CONFIRMED 459 True\np99_tpot_ms NOT_CONFIRMED 459 True\n") +
                              "p99_ttft_ms NOT_CONFIRMED 459 True\np99_tpot_ms NOT_CONFIRMED 459 True\n")
      << verdicts.err;
  expect_schema_valid(dir.file("point0.json"));
  // The report of such a point approves and says NOT CONFIRMED.
  const auto md = trackiq({"report", dir.file("point0.json"), "-o", dir.file("r.md")}, dir);
  ASSERT_EQ(md.exit_code, 0) << md.out << md.err;
  const std::string report = read_file(dir.file("r.md"));
  EXPECT_NE(report.find("APPROVE"), std::string::npos) << report;
  EXPECT_NE(report.find("NOT CONFIRMED"), std::string::npos) << report;
  EXPECT_EQ(report.find("BLOCK"), std::string::npos) << report;
  // --unconfirmed block: the same verdicts gate the exit code.
  const auto block = load({"--unconfirmed", "block"});
  EXPECT_EQ(block.exit_code, 1) << block.out << block.err;
  EXPECT_NE(block.out.find("NOT CONFIRMED blocks this run (--unconfirmed block): exit 1"), std::string::npos) << block.out;
  EXPECT_EQ(block.out.find("FAIL"), std::string::npos) << block.out;
  const auto bad = load({"--unconfirmed", "maybe"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
}

// https: a throwaway self-signed certificate served by `openssl s_server -www` (HTTP/1.0, the
// connection closes after each answer). Verified by default: the unknown issuer is a connect
// error; --insecure accepts it.
TEST(CliLoad, HttpsVerifiesTheCertificateUnlessInsecure) {
  TempDir dir;
  const auto gen = run_process({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                                "-keyout", dir.file("key.pem"), "-out", dir.file("cert.pem")});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  int port = 0;
  pid_t pid = -1;
  for (int attempt = 0; attempt < 5 && pid < 0; ++attempt) {
    port = 20000 + static_cast<int>(::getpid() % 20000) + attempt * 7;
    pid = ::fork();
    if (pid == 0) {
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      const std::string accept = std::to_string(port), cert = dir.file("cert.pem"), key = dir.file("key.pem");
      ::execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept", accept.c_str(), "-cert", cert.c_str(), "-key",
               key.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    int st = 0;
    if (::waitpid(pid, &st, WNOHANG) == pid) pid = -1;  // the port was taken: try another
  }
  ASSERT_GT(pid, 0);
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/";
  const auto ok = trackiq({"load", url, "--insecure", "--concurrency", "1", "--requests", "5", "--no-store",
                           "--json", dir.file("tls.json")}, dir);
  const auto verified = trackiq({"load", url, "--concurrency", "1", "--requests", "2", "--no-store"}, dir);
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(load_metric_json(dir.file("tls.json"), "queries_total"), "5.0\n") << ok.out;
  EXPECT_NE(verified.out.find("Errors: connect"), std::string::npos) << verified.out;
  EXPECT_NE(verified.out.find("certificate"), std::string::npos) << verified.out;
}

TEST(CliLoad, DatasetColumnsFillTheBodyAndStayValidJson) {
  TempDir dir;
  RefServer server({"--ttft-ms", "1", "--itl-ms", "1", "--tokens", "2"});
  ASSERT_TRUE(server.ok());
  // Quotes, a backslash, a newline and a tab in the data: each must be escaped inside the JSON
  // string, or the server answers 400; a number outside a string goes in as it is.
  std::ofstream(dir.file("rows.jsonl")) << R"({"text": "say \"hi\" to C:\\tmp\nthen\tstop", "n": 2})" << "\n"
                                        << R"({"text": "plain", "n": 3})" << "\n";
  // CSV: a quoted field may span lines (RFC 4180), CRLF line ends included.
  std::ofstream(dir.file("rows.csv")) << "text,n\n\"a \"\"quoted\"\" word\",2\r\n\"two\r\nlines, one comma\",3\r\n";
  std::ofstream(dir.file("body.json")) << R"({"model": "m", "prompt": "{{text}}", "max_tokens": {{ n }}, "stream": true})";
  for (const char* data : {"rows.jsonl", "rows.csv"}) {
    const auto r = trackiq({"load", server.url("/v1/completions"), "--body", "@" + dir.file("body.json"), "--dataset",
                            dir.file(data), "--requests", "20", "--concurrency", "2", "--no-store", "--json", dir.file("t.json")},
                           dir);
    ASSERT_EQ(r.exit_code, 0) << data << "\n" << r.out << r.err;
    EXPECT_EQ(load_metric_json(dir.file("t.json"), "errors_total"), "0.0\n") << data << "\n" << r.out;
  }
  // Not JSON (a text/plain body): the value goes in untouched, quotes and all.
  std::ofstream(dir.file("body.txt")) << "prompt: \"{{text}}\"";
  const auto plain = trackiq({"load", server.url("/v1/completions"), "--body", "@" + dir.file("body.txt"), "--header",
                              "Content-Type: text/plain", "--dataset", dir.file("rows.jsonl"), "--requests", "2", "--no-store"},
                             dir);
  EXPECT_NE(plain.out.find("http_status"), std::string::npos) << plain.out << plain.err;  // the server wants JSON: 400
  // A variable that is not a column: bad input at the row's line.
  std::ofstream(dir.file("bad.json")) << R"({"prompt": "{{missing}}"})";
  const auto bad = trackiq({"load", server.url("/v1/completions"), "--body", "@" + dir.file("bad.json"), "--dataset",
                            dir.file("rows.jsonl"), "--no-store"},
                           dir);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("rows.jsonl:1:"), std::string::npos) << bad.err;
}

TEST(CliLoad, StaleConnectionRetriesAreCountedAndNoRetryMakesThemErrors) {
  TempDir dir;
  RefServer server({"--idle-close-ms", "30"}, trackiq::test::kIdleCloseServer);  // closes each connection after answering
  ASSERT_TRUE(server.ok());
  const std::vector<std::string> base{"load", server.url("/"), "--rate", "10", "--arrival", "constant", "--duration", "500ms",
                                      "--connections", "1", "--no-store", "--json", dir.file("r.json")};
  const auto retried = trackiq(base, dir);
  EXPECT_EQ(retried.exit_code, 0) << retried.out << retried.err;
  EXPECT_EQ(load_metric_json(dir.file("r.json"), "retried_requests"), "4.0\n");
  EXPECT_EQ(load_metric_json(dir.file("r.json"), "errors_total"), "0.0\n");
  EXPECT_NE(retried.out.find("--no-retry counts those as errors"), std::string::npos) << retried.out;
  auto strict = base;
  strict.push_back("--no-retry");
  const auto failed = trackiq(strict, dir);
  EXPECT_EQ(load_metric_json(dir.file("r.json"), "retried_requests"), "0.0\n") << failed.out << failed.err;
  EXPECT_NE(load_metric_json(dir.file("r.json"), "errors_total"), "0.0\n") << failed.out;
}

TEST(CliLoad, BadInputIsExit2WithFileAndLine) {
  TempDir dir;
  EXPECT_EQ(trackiq({"load", "ftp://x/", "--no-store"}, dir).exit_code, 2);
  EXPECT_EQ(trackiq({"load", "http://127.0.0.1:9/", "--rate", "0", "--no-store"}, dir).exit_code, 2);
  EXPECT_EQ(trackiq({"load", "http://127.0.0.1:9/", "--rate", "5", "--concurrency", "2", "--no-store"}, dir).exit_code, 2);
  EXPECT_EQ(trackiq({"load", "http://127.0.0.1:9/", "--concurrency", "0", "--no-store"}, dir).exit_code, 2);
  EXPECT_EQ(trackiq({"load", "http://127.0.0.1:9/", "--connections", "0", "--no-store"}, dir).exit_code, 2);
  EXPECT_EQ(trackiq({"load", "http://127.0.0.1:9/", "--client-sched", "fast", "--no-store"}, dir).exit_code, 2);
  std::ofstream(dir.file("bad.jsonl")) << "{\"prompt\": \"ok\"}\nnot json\n";
  const auto r = trackiq({"load", "http://127.0.0.1:9/", "--api", "openai-chat", "--model", "m", "--dataset",
                          dir.file("bad.jsonl"), "--no-store"},
                         dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.jsonl:2:"), std::string::npos) << r.err;
  // A quoted field that never closes is named at the line where it opened, after a good
  // multi-line row.
  std::ofstream(dir.file("open.csv")) << "prompt,n\n\"fine\nrow\",1\n\"never\nclosed,2\n";
  const auto open = trackiq({"load", "http://127.0.0.1:9/", "--api", "openai-chat", "--model", "m", "--dataset",
                             dir.file("open.csv"), "--no-store"},
                            dir);
  EXPECT_EQ(open.exit_code, 2);
  EXPECT_NE(open.err.find("open.csv:4: unterminated quoted field"), std::string::npos) << open.err;
}

TEST(CliImport, ImportsEveryFormatIntoTheStoreAndComparesImportedSamples) {
  TempDir dir;
  const std::string data = trackiq::test::kTestdataDir;
  struct Case {
    const char* file;
    const char* format;
    std::size_t runs;
  };
  for (const Case& c : {Case{"google-benchmark/arrow_tensor-conversion_repetitions3_aggregates.json", "gbench", 2},
                        Case{"hyperfine/sleep0.3_runs5_export-json.json", "hyperfine", 1},
                        Case{"pytest-benchmark/pytest-benchmark-4.0.0_with_machine_info_and_data_conbench.json",
                             "pytest-benchmark", 2},
                        Case{"mlperf-loadgen/resnet50_Server_ESC8000_H200x8_mlperf_log_summary.txt", "mlperf", 1}}) {
    const auto r = trackiq({"import", data + "/" + c.file, "--format", c.format, "--product", "imported", "--json"}, dir);
    ASSERT_EQ(r.exit_code, 0) << c.file << ": " << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '{'), static_cast<long>(c.runs)) << r.out;
  }
  const auto list = trackiq({"runs", "list", "--product", "imported", "--json"}, dir);
  EXPECT_EQ(std::count(list.out.begin(), list.out.end(), '{'), 6) << list.out;
  // Two more imports of the same hyperfine file (allowed explicitly: the same bytes are refused
  // by default): compare runs its statistics on the raw samples.
  auto hyperfine_id = [&] {
    const auto r = trackiq(
        {"import", data + "/hyperfine/sleep0.3_runs5_export-json.json", "--format", "hyperfine", "--allow-duplicate"}, dir);
    std::smatch m;
    EXPECT_TRUE(std::regex_search(r.out, m, std::regex(R"(\n([0-9a-f-]{36}) +5 +sleep 0.3)"))) << r.out;
    return m.size() > 1 ? m[1].str() : "";
  };
  const std::string h1 = hyperfine_id(), h2 = hyperfine_id();
  // What the import found is said at import, on stderr: hyperfine does not describe the machine.
  const auto said = trackiq({"import", data + "/hyperfine/sleep0.3_runs5_export-json.json", "--allow-duplicate", "--json"}, dir);
  EXPECT_NE(said.err.find("warning: " + data + "/hyperfine/sleep0.3_runs5_export-json.json: the file does not describe the machine"),
            std::string::npos)
      << said.err;
  EXPECT_EQ(said.out.find("warning"), std::string::npos) << "--json stays one document";
  const auto named = trackiq({"import", data + "/hyperfine/sleep0.3_runs5_export-json.json", "--allow-duplicate",
                              "--machine", "ci-7", "--json"}, dir);
  EXPECT_EQ(named.err.find("does not describe the machine"), std::string::npos) << named.err;
  EXPECT_NE(named.err.find("machine: 'ci-7' (--machine)"), std::string::npos) << named.err;
  const auto cmp = trackiq({"compare", h1, h2, "--json"}, dir);
  EXPECT_EQ(cmp.exit_code, 0) << cmp.out << cmp.err;
  EXPECT_NE(cmp.out.find("\"samples_used\": true"), std::string::npos) << cmp.out;
  // Summary-only imports (MLPerf) compare by threshold, and say so.
  const auto show = trackiq({"runs", "list", "--json"}, dir);
  EXPECT_NE(show.out.find("import:LWIS_Server"), std::string::npos);
}

TEST(CliImport, ABadFileIsFileLineAndStoresNothing) {
  TempDir dir;
  const std::string csv = dir.file("lat.csv");
  std::ofstream(csv) << "t,lat\n1,2.0\n2,3.5\n3,oops\n";
  const auto bad = trackiq({"import", csv, "--format", "csv", "--map", "latency_ms=lat"}, dir);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find(csv + ":4: column 'lat': 'oops' is not a number"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("store.db"))) << "the file is parsed before the store is opened";
  // With a store that has runs: still nothing added.
  ASSERT_EQ(trackiq({"run", "synthetic:mean=0", "-n", "5", "--no-telemetry"}, dir).exit_code, 0);
  const auto before = trackiq({"runs", "list", "--json"}, dir).out;
  EXPECT_EQ(trackiq({"import", csv, "--format", "csv", "--map", "latency_ms=lat"}, dir).exit_code, 2);
  EXPECT_EQ(trackiq({"runs", "list", "--json"}, dir).out, before);
  EXPECT_EQ(trackiq({"import", csv, "--format", "xlsx"}, dir).exit_code, 2);
  EXPECT_EQ(trackiq({"import", csv, "--format", "csv"}, dir).exit_code, 2) << "csv needs --map";
  std::ofstream(csv) << "t,lat\n1,2.0\n2,3.5\n";
  const auto good = trackiq({"import", csv, "--format", "csv", "--map", "latency_ms=lat"}, dir);
  EXPECT_EQ(good.exit_code, 0) << good.err;
}

TEST(CliImport, AnImportKilledMidWayLeavesNoPartialRun) {
  TempDir dir;
  const std::string csv = dir.file("big.csv");
  constexpr int kRows = 1'500'000;
  {
    std::ofstream out(csv);
    out << "i,lat\n";
    for (int i = 0; i < kRows; ++i) out << i << ',' << (1.0 + (i % 1000) * 0.001) << '\n';
  }
  for (const int after_ms : {150, 500, 900, 1300, 1800}) {
    const auto r = run_process_signalled({kBin, "import", csv, "--format", "csv", "--map", "latency_ms=lat", "--store",
                                          dir.file("store.db")},
                                         after_ms, SIGKILL);
    (void)r;
  }
  // Whatever was killed where: every run in the store is whole.
  const auto list = trackiq({"runs", "list", "--json", "--limit", "0"}, dir);
  if (std::filesystem::exists(dir.file("store.db"))) {
    ASSERT_EQ(list.exit_code, 0) << list.err;
    std::size_t runs = 0;
    for (std::size_t at = list.out.find("\"samples\": "); at != std::string::npos; at = list.out.find("\"samples\": ", at + 1)) {
      ++runs;
      EXPECT_EQ(list.out.compare(at + 11, 7, "1500000"), 0) << list.out.substr(at, 30);
    }
    RecordProperty("complete_runs", static_cast<int>(runs));
  }
}

TEST(CliCompare, BadUsageExitsWith2) {
  TempDir dir;
  EXPECT_EQ(trackiq({"compare", "onlyone"}, dir).exit_code, 2);
  const auto t = trackiq({"compare", "a", "b", "--threshold", "latency_p99_ms=lots"}, dir);
  EXPECT_EQ(t.exit_code, 2);
  EXPECT_NE(t.err.find("--threshold 'latency_p99_ms=lots'"), std::string::npos) << t.err;
  const auto u = trackiq({"compare", "nosuchbaseline", "alsonot"}, dir);
  EXPECT_EQ(u.exit_code, 2) << u.err;
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
