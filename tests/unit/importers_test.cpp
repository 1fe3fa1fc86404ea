// Importers against the real files in ../shared/testdata (values checked by hand against the
// files), and their errors: file:line and nothing returned.
#include <gtest/gtest.h>

#include <cmath>

#include "trackiq/core/error.hpp"
#include "trackiq/importers/importers.hpp"
#include "support/test_paths.hpp"

namespace trackiq::importers {
namespace {

const std::string kData = trackiq::test::kTestdataDir;

std::vector<Result> load(const std::string& rel, std::string_view f, ImportOptions o = {}) {
  return import_file(kData + "/" + rel, f, o);
}

double metric_of(const Result& r, const char* name) {
  const auto v = r.metric_value(name);
  EXPECT_TRUE(v.has_value()) << name << " missing in " << r.workload.model;
  return v.value_or(std::nan(""));
}

// Expects `fn` to throw InputError naming `origin:line` and containing `what`.
template <typename F>
void expect_input_error(F&& fn, const std::string& origin_line, const std::string& what) {
  try {
    fn();
    FAIL() << "no error; expected " << origin_line << ": " << what;
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(origin_line + ": "), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

TEST(ImportGbench, RepetitionsBecomeSamplesAndTheContextDescribesTheMachine) {
  ImportOptions o;
  o.product = "arrow";
  o.version = "9.0";
  const auto runs = load("google-benchmark/arrow_tensor-conversion_repetitions3_aggregates.json", "gbench", o);
  ASSERT_EQ(runs.size(), 2u) << "aggregate rows are not runs of their own";
  const Result& r = runs[0];
  EXPECT_EQ(r.workload.model, "Int8RowMajorTensorConversionFixture<Int32Type>/ConvertToSparseCOOTensorInt32");
  ASSERT_TRUE(r.latency);
  EXPECT_EQ(r.latency->samples_ns, (std::vector<std::int64_t>{88573, 87653, 89333}));
  EXPECT_NEAR(metric_of(r, "latency_p50_ms"), 0.088573, 1e-12) << "the median of the three repetitions";
  EXPECT_FALSE(r.metric_value("throughput_samples_per_s")) << "items are the benchmark's own unit (bytes here)";
  EXPECT_EQ(r.labels.extra.at("gbench_items_per_second"), "488719840.85010594") << "the mean over the repetitions";
  EXPECT_EQ(r.labels.extra.at("gbench_mhz_per_cpu"), "24") << "a label, not the CPU frequency";
  EXPECT_EQ(r.started_at, "2022-09-02T21:11:56.000Z") << "16:11:56-05:00 in UTC";
  EXPECT_EQ(r.environment.hostname, "snork.local");
  EXPECT_EQ(r.environment.cpu_logical, 10u);
  EXPECT_EQ(r.labels.product, "arrow");
  EXPECT_EQ(r.labels.extra.at("imported_from"), "gbench");
  EXPECT_EQ(r.labels.extra.at("source"), "arrow_tensor-conversion_repetitions3_aggregates.json");
  EXPECT_EQ(r.workload.backend, "import");
  EXPECT_EQ(r.environment.hardware_fingerprint, runs[1].environment.hardware_fingerprint);
  EXPECT_TRUE(r.environment.cpu_model.empty()) << "the file names no CPU; nothing is invented";
  EXPECT_EQ(runs[1].latency->samples_ns[0], 90967);
}

TEST(ImportGbench, OneRepetitionIsAMeanNotADistribution) {
  const auto runs = load("google-benchmark/flexflow_compiler-benchmarks_no_repetitions.json", "gbench");
  ASSERT_EQ(runs.size(), 5u);
  EXPECT_FALSE(runs[0].latency) << "one value is no sample of a distribution";
  EXPECT_NEAR(metric_of(runs[0], "latency_mean_ms"), 1.864165, 1e-9);  // 1864164.754616974 ns, rounded to 1 ns
  EXPECT_EQ(runs[0].scenario.iterations, 379u);
  EXPECT_EQ(runs[4].workload.model, "benchmark_get_computation_graph_series_parallel_decomposition/inception_v3");
}

TEST(ImportGbench, AggregatesOnlyGiveThePopulationStdAndOldFilesTheirAggregates) {
  // Old Google Benchmark (no run_type): "_mean/_median/_stddev" rows follow their repetitions.
  const std::string old_style = R"({"context": {"host_name": "h", "num_cpus": 2},
 "benchmarks": [
  {"name": "BM_a", "iterations": 10, "real_time": 100, "cpu_time": 100, "time_unit": "ns"},
  {"name": "BM_a", "iterations": 10, "real_time": 110, "cpu_time": 110, "time_unit": "ns"},
  {"name": "BM_a", "iterations": 10, "real_time": 120, "cpu_time": 120, "time_unit": "ns"},
  {"name": "BM_a_mean", "iterations": 10, "real_time": 110, "cpu_time": 110, "time_unit": "ns"},
  {"name": "BM_a_stddev", "iterations": 10, "real_time": 10, "cpu_time": 10, "time_unit": "ns"}]})";
  const auto old_runs = import_text(old_style, "old.json", "gbench", {});
  ASSERT_EQ(old_runs.size(), 1u) << "aggregate rows are not runs";
  EXPECT_EQ(old_runs[0].latency->samples_ns, (std::vector<std::int64_t>{100, 110, 120}));
  // Aggregates only (--benchmark_report_aggregates_only): stddev (n - 1) → population.
  const std::string aggregates = R"({"context": {},
 "benchmarks": [
  {"name": "BM_b_mean", "run_name": "BM_b", "run_type": "aggregate", "aggregate_name": "mean", "repetitions": 3, "real_time": 110, "time_unit": "us"},
  {"name": "BM_b_stddev", "run_name": "BM_b", "run_type": "aggregate", "aggregate_name": "stddev", "repetitions": 3, "real_time": 10, "time_unit": "us"}]})";
  const auto agg = import_text(aggregates, "agg.json", "gbench", {});
  ASSERT_EQ(agg.size(), 1u);
  EXPECT_DOUBLE_EQ(metric_of(agg[0], "latency_mean_ms"), 0.110);
  EXPECT_NEAR(metric_of(agg[0], "latency_std_ms"), 0.010 * std::sqrt(2.0 / 3.0), 1e-15);
  expect_input_error([&] { import_text("{\"context\": {},\n\"benchmarks\": []}", "e.json", "gbench", {}); },
                     "e.json:2", "no benchmarks");
}

TEST(ImportHyperfine, TimesBecomeSamplesInNanoseconds) {
  const auto runs = load("hyperfine/sleep0.3_runs5_export-json.json", "hyperfine");
  ASSERT_EQ(runs.size(), 1u);
  const Result& r = runs[0];
  EXPECT_EQ(r.workload.model, "sleep 0.3");
  ASSERT_TRUE(r.latency);
  EXPECT_EQ(r.latency->samples_ns,
            (std::vector<std::int64_t>{312555361, 312158236, 313903403, 312704694, 310885236}));
  EXPECT_NEAR(metric_of(r, "latency_p50_ms"), 312.555361, 1e-6) << "hyperfine's median";
  EXPECT_NEAR(metric_of(r, "latency_mean_ms"), 312.441386, 1e-6) << "hyperfine's mean";
  EXPECT_EQ(r.labels.extra.at("hyperfine_user_s"), "0.00182732");
  EXPECT_FALSE(r.warnings.empty()) << "the file does not describe the machine";
}

TEST(ImportHyperfine, KilledOrFailedCommandsAreErrorsNotSamples) {
  const auto runs = import_text(R"({"results": [{"command": "x", "times": [0.1, 0.2, 0.3], "exit_codes": [0, null, 2]}]})",
                                "h.json", "hyperfine", {});
  EXPECT_EQ(runs[0].latency->samples_ns, (std::vector<std::int64_t>{100'000'000}));
  EXPECT_EQ(runs[0].errors.total, 2u);
}

TEST(ImportPytestBenchmark, PerRoundDataBecomesSamplesAndMachineInfoTheEnvironment) {
  const auto runs = load("pytest-benchmark/pytest-benchmark-4.0.0_with_machine_info_and_data_conbench.json",
                         "pytest-benchmark");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].workload.model, "tests/adapters/test_pytest.py::test_sleep");
  ASSERT_TRUE(runs[1].latency);
  EXPECT_EQ(runs[1].latency->samples_ns, (std::vector<std::int64_t>{1001754042, 1002544562, 1002898667}));
  EXPECT_EQ(runs[1].environment.cpu_model, "Apple M3 Pro");
  EXPECT_EQ(runs[1].environment.hostname, "foo.local");
  EXPECT_EQ(runs[1].labels.branch, "main");
  EXPECT_EQ(runs[0].latency->samples_ns.size(), 10u);
}

TEST(ImportPytestBenchmark, WithoutDataItKeepsTheStatistics) {
  const auto runs = load("pytest-benchmark/pytest-benchmark-5.3.0_two_tests_no_machine_info.json", "pytest-benchmark");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_FALSE(runs[1].latency);
  EXPECT_NEAR(metric_of(runs[1], "latency_p50_ms"), 4.66900019091554e-3, 1e-15);
  EXPECT_NEAR(metric_of(runs[1], "throughput_queries_per_s"), 199918.94825554205, 1e-6);
  EXPECT_FALSE(runs[1].metric_value("latency_std_ms") && runs[1].scenario.iterations < 2);
  EXPECT_EQ(runs[1].started_at, "2026-10-07T15:55:43.798Z");
}

TEST(ImportMlperf, SummaryAndDetailLogsGiveTheSameNumbers) {
  const auto summary = load("mlperf-loadgen/resnet50_Server_ESC8000_H200x8_mlperf_log_summary.txt", "mlperf");
  const auto detail = load("mlperf-loadgen/resnet50_Server_ESC8000_H200x8_mlperf_log_detail_EXCERPT.txt", "mlperf");
  ASSERT_EQ(summary.size(), 1u);
  ASSERT_EQ(detail.size(), 1u);
  const Result& s = summary[0];
  EXPECT_EQ(s.scenario.name, "server");
  EXPECT_EQ(s.workload.model, "LWIS_Server");
  EXPECT_DOUBLE_EQ(metric_of(s, "throughput_samples_per_s"), 540124.52);
  EXPECT_DOUBLE_EQ(metric_of(s, "latency_p99_ms"), 6.203603);
  EXPECT_DOUBLE_EQ(metric_of(s, "latency_p99_9_ms"), 9.541584);
  EXPECT_DOUBLE_EQ(*s.scenario.qps, 540000);
  EXPECT_EQ(s.labels.extra.at("mlperf_warnings"), "9");
  EXPECT_EQ(s.labels.extra.at("mlperf_result_validity"), "VALID");
  for (const char* m : {"latency_min_ms", "latency_max_ms", "latency_mean_ms", "latency_p50_ms", "latency_p90_ms",
                        "latency_p95_ms", "latency_p99_ms", "latency_p99_9_ms", "qps_scheduled"})
    EXPECT_NEAR(metric_of(detail[0], m), metric_of(s, m), 1e-3 * metric_of(s, m)) << m;
  EXPECT_EQ(detail[0].started_at, "2025-02-19T07:12:52.000Z");
  const auto offline = load("mlperf-loadgen/resnet50_Offline_ESC8000_H200x8_mlperf_log_summary.txt", "mlperf");
  EXPECT_EQ(offline[0].scenario.name, "offline");
  EXPECT_FALSE(offline[0].scenario.qps) << "a target rate belongs to the server scenario only";
  EXPECT_EQ(offline[0].scenario.samples_per_query, 1u);
  EXPECT_DOUBLE_EQ(metric_of(offline[0], "throughput_samples_per_s"), 680738);
}

TEST(ImportCsv, MapsAColumnToSamplesAndOthersToMeans) {
  ImportOptions o;
  o.map = {{"latency_ms", "duration"}, {"throughput_queries_per_s", "rps"}};
  const auto runs = import_text("id,duration,rps\r\n1,1.5,100\r\n2,\"2.5\",300\r\n\r\n", "req.csv", "csv", o);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].latency->samples_ns, (std::vector<std::int64_t>{1'500'000, 2'500'000}));
  EXPECT_DOUBLE_EQ(metric_of(runs[0], "throughput_queries_per_s"), 200);
  EXPECT_EQ(runs[0].workload.model, "req");
}

TEST(ImportErrors, NameTheFileAndLineAndReturnNothing) {
  ImportOptions o;
  o.map = {{"latency_ms", "d"}};
  expect_input_error([&] { import_text("d\n1\n2\nabc\n", "x.csv", "csv", o); }, "x.csv:4", "'abc' is not a number");
  expect_input_error([&] { import_text("d,e\n1,2\n3\n", "x.csv", "csv", o); }, "x.csv:3", "1 fields, the header has 2");
  expect_input_error([&] { import_text("d\n\"1\n", "x.csv", "csv", o); }, "x.csv:2", "unterminated");
  o.map = {{"latency_ms", "nope"}};
  expect_input_error([&] { import_text("d\n1\n", "x.csv", "csv", o); }, "x.csv:1", "no column 'nope'");
  expect_input_error([&] { import_text("{\n \"results\": [\n", "h.json", "hyperfine", {}); }, "h.json:3",
                     "not valid JSON");
  expect_input_error(
      [&] {
        import_text("{\"results\": [\n {\"command\": \"a\", \"times\": [0.1]},\n {\"command\": \"b\", \"times\": [0.1, \"x\"]}\n]}",
                    "h.json", "hyperfine", {});
      },
      "h.json:3", "$.results[1].times[1]");
  expect_input_error(
      [&] {
        import_text("{\"context\": {},\n \"benchmarks\": [\n  {\"name\": \"a\",\n   \"time_unit\": \"ns\",\n   \"real_time\": \"fast\"}]}",
                    "g.json", "gbench", {});
      },
      "g.json:5", "real_time: expected a number");  // the line of the bad key, not of the entry
  expect_input_error(
      [&] {
        import_text("{\"context\": {},\n \"benchmarks\": [\n  {\"name\": \"a\", \"real_time\": 1, \"time_unit\": \"ns\"},\n"
                    "  {\"name\": \"b\", \"real_time\": 1, \"time_unit\": \"days\"}]}",
                    "g.json", "gbench", {});
      },
      "g.json:4", "unknown unit 'days'");
  expect_input_error([&] { import_text("Scenario : Server\nSamples per second: fast\n", "m.txt", "mlperf", {}); },
                     "m.txt:2", "'fast' is not a number");
  expect_input_error([&] { import_text("Scenario : Sideways\nSamples per second: 5\n", "m.txt", "mlperf", {}); },
                     "m.txt:1", "unknown MLPerf scenario");
  expect_input_error([&] { import_text("hello\n", "m.txt", "mlperf", {}); }, "m.txt:1", "not an MLPerf");
  expect_input_error([&] { import_text("{\"results\": [\n {\"command\": \"a\", \"times\": [8e841]}]}", "big.json",
                                       "hyperfine", {}); },
                     "big.json:2", "number overflow");  // found by importers_fuzz
  EXPECT_THROW(parse_import_format("xlsx"), InputError);
}

TEST(ImportDetect, EachRealFileIsRecognisedAsItsFormat) {
  const std::pair<const char*, const char*> files[] = {
      {"google-benchmark/arrow_tensor-conversion_repetitions3_aggregates.json", "gbench"},
      {"google-benchmark/flexflow_compiler-benchmarks_no_repetitions.json", "gbench"},
      {"hyperfine/sleep0.3_runs5_export-json.json", "hyperfine"},
      {"pytest-benchmark/pytest-benchmark-4.0.0_with_machine_info_and_data_conbench.json", "pytest-benchmark"},
      {"pytest-benchmark/pytest-benchmark-5.3.0_two_tests_no_machine_info.json", "pytest-benchmark"},
      {"mlperf-loadgen/resnet50_Server_ESC8000_H200x8_mlperf_log_summary.txt", "mlperf"},
      {"mlperf-loadgen/resnet50_Server_ESC8000_H200x8_mlperf_log_detail_EXCERPT.txt", "mlperf"},
  };
  for (const auto& [rel, want] : files) {
    const std::string path = kData + "/" + rel;
    EXPECT_EQ(detect_format(read_file(path), path), want) << rel;
    // Importing without a format is importing with the detected one.
    const auto runs = import_file(path, "", {});
    ASSERT_FALSE(runs.empty()) << rel;
    EXPECT_EQ(runs.front().labels.extra.at("imported_from"), want);
  }
  expect_input_error([] { detect_format("a,b\n1,2\n", "x.csv"); }, "x.csv:1", "not recognised");
  expect_input_error([] { import_text("x", "y.txt", "nope", {}); }, "", "unknown import format 'nope'");
}

TEST(ImportDetect, TheContentHashLabelIdentifiesTheBytes) {
  const std::string path = kData + "/hyperfine/sleep0.3_runs5_export-json.json";
  const auto a = import_file(path, "hyperfine", {});
  const auto b = import_file(path, "hyperfine", {});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].labels.extra.at("import_hash"), b[0].labels.extra.at("import_hash"));
  EXPECT_EQ(a[0].labels.extra.at("import_hash").size(), 16u);
  std::string other = read_file(path);
  other.push_back('\n');
  EXPECT_NE(import_text(other, path, "hyperfine", {})[0].labels.extra.at("import_hash"), a[0].labels.extra.at("import_hash"));
}

}  // namespace
}  // namespace trackiq::importers
