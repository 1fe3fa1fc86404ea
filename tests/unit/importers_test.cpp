// Importers against the real files in ../shared/testdata (values checked by hand against the
// files), and their errors: file:line and nothing returned.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "trackiq/core/environment.hpp"
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

// A file that says nothing of its machine: every such import shares the unknown machine's
// fingerprint (one series for all machines) unless --machine names it.
TEST(ImportHyperfine, MachineNamesTheMachineTheFileDoesNotDescribe) {
  const auto unknown = load("hyperfine/sleep0.3_runs5_export-json.json", "hyperfine");
  ImportOptions a, b, here;
  a.machine = "ci-a100-1";
  b.machine = "ci-a100-2";
  here.machine = "here";
  const auto ra = load("hyperfine/sleep0.3_runs5_export-json.json", "hyperfine", a)[0];
  const auto rb = load("hyperfine/sleep0.3_runs5_export-json.json", "hyperfine", b)[0];
  const auto rh = load("hyperfine/sleep0.3_runs5_export-json.json", "hyperfine", here)[0];
  EXPECT_NE(ra.environment.hardware_fingerprint, unknown[0].environment.hardware_fingerprint);
  EXPECT_NE(ra.environment.hardware_fingerprint, rb.environment.hardware_fingerprint);
  EXPECT_EQ(ra.environment.hardware_fingerprint,
            load("hyperfine/sleep0.3_runs5_export-json.json", "hyperfine", a)[0].environment.hardware_fingerprint)
      << "the same name, the same machine";
  EXPECT_EQ(ra.environment.hostname, "ci-a100-1");
  EXPECT_EQ(ra.labels.extra.at("machine"), "ci-a100-1");
  EXPECT_EQ(rh.environment.hardware_fingerprint, capture_environment().hardware_fingerprint);
  for (const auto& w : ra.warnings) EXPECT_EQ(w.find("does not describe the machine"), std::string::npos) << w;
  bool said = false;
  for (const auto& w : unknown[0].warnings) said |= w.find("--machine here or --machine NAME") != std::string::npos;
  EXPECT_TRUE(said);
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
      {"k6/handleSummary_k6v0.40_centminmod.json", "k6"},
      {"k6/out_json_points_two_lines.jsonl", "k6"},
      {"k6/summary-export_legacy_default_trend_stats_itzaddddd-ticket-reserve.json", "k6"},
      {"locust/results_stats_instarwxp-llm-inference-platform.csv", "locust"},
      {"locust/locust_stats_history_isNeil-neuro_head.csv", "locust"},
      {"locust/results_failures_Bortlesboat-bitcoin-api.csv", "locust"},
      {"criterion/basic_dice__new__estimates.json", "criterion"},
      {"criterion/basic_dice__new__sample_Linear_100.json", "criterion"},
      {"tensorrt-trtexec/exportTimes_alexnet_fp16_trt10_RTX3060laptop_TRIMMED.json", "trtexec"},
      {"tensorrt-trtexec/exportProfile_cbr_fused_with_medianMs.json", "trtexec"},
      {"vllm-bench/vllm-bench-serve_v0.25.1_opt-125m_cpu_keys_sorted.json", "vllm"},
      {"tegrastats/xavier_nx_jp5_nonroot_bjgeiser-tegra_burn.log", "tegrastats"},
      {"nvidia-smi/query_gpu_with_header_units_32GBgpu_loop5s.csv", "nvidia-smi"},
      {"nvidia-smi/dmon_s_pucm_4xRTXPRO6000_drv595.txt", "nvidia-smi"},
      {"dcgm-exporter/scrape_A800x8_MIG_drv535_trimmed.prom", "dcgm"},
      {"perftracker/pt-suite-uploader_example_tests_sample.json", "perftracker"},
  };
  for (const auto& [rel, want] : files) {
    const std::string path = kData + "/" + rel;
    EXPECT_EQ(detect_format(read_file(path), path), want) << rel;
    // Importing without a format is importing with the detected one.
    const auto runs = import_file(path, "", {});
    ASSERT_FALSE(runs.empty()) << rel;
    EXPECT_EQ(runs.front().labels.extra.at("imported_from"), want);
    // What the store does with a run: it serialises and reads back as the same document.
    for (const auto& r : runs) {
      const std::string json = to_json(r);
      EXPECT_EQ(to_json(result_from_json(json, rel)), json) << rel;
    }
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

// ---------------------------------------------------------------------------------------- k6
TEST(ImportK6, HandleSummaryTrendRateChecksAndThresholds) {
  const auto runs = load("k6/handleSummary_k6v0.40_centminmod.json", "k6");
  ASSERT_EQ(runs.size(), 1u);
  const Result& r = runs[0];
  // metrics.http_req_duration.values in the file (ms)
  EXPECT_DOUBLE_EQ(metric_of(r, "latency_mean_ms"), 44.9799197625076);
  EXPECT_DOUBLE_EQ(metric_of(r, "latency_p50_ms"), 39.877318);
  EXPECT_DOUBLE_EQ(metric_of(r, "latency_p95_ms"), 63.726093199999994);
  EXPECT_DOUBLE_EQ(metric_of(r, "latency_p99_ms"), 143.15519861999957);
  EXPECT_DOUBLE_EQ(metric_of(r, "latency_max_ms"), 1347.61271);
  EXPECT_EQ(r.labels.extra.at("k6_http_req_duration_p(99.99)"), "1261.191049104467");
  EXPECT_DOUBLE_EQ(metric_of(r, "throughput_queries_per_s"), 549.995877862512);  // http_reqs.rate
  EXPECT_DOUBLE_EQ(metric_of(r, "queries_total"), 16510);
  EXPECT_DOUBLE_EQ(metric_of(r, "errors_total"), 0);
  EXPECT_DOUBLE_EQ(metric_of(r, "wall_time_s"), 30.0184068);  // state.testRunDurationMs
  EXPECT_EQ(r.labels.extra.at("k6_checks_passes"), "16510");
  EXPECT_EQ(r.scenario.name, "load");
  EXPECT_FALSE(r.latency.has_value()) << "a summary has no samples";
  // thresholds {"avg<150": {"ok": true}, "p(95)<500": {"ok": true}}
  ASSERT_EQ(r.slo.size(), 2u);
  EXPECT_EQ(r.slo[0].metric, "latency_mean_ms");
  EXPECT_EQ(r.slo[0].limit, 150);
  EXPECT_EQ(r.slo[0].state, SloState::kPass);
  EXPECT_EQ(r.slo[1].metric, "latency_p95_ms");
  EXPECT_EQ(r.slo[1].limit, 500);
  EXPECT_DOUBLE_EQ(*r.slo[1].measured, 63.726093199999994);
}

TEST(ImportK6, LegacySummaryExportFailedRequestsAndCustomStats) {
  const auto a = load("k6/summary-export_legacy_default_trend_stats_itzaddddd-ticket-reserve.json", "k6");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_DOUBLE_EQ(metric_of(a[0], "latency_mean_ms"), 3264.992537000001);
  EXPECT_DOUBLE_EQ(metric_of(a[0], "latency_p90_ms"), 4030.33387);
  EXPECT_DOUBLE_EQ(metric_of(a[0], "latency_min_ms"), 464.4323);
  // http_req_failed {"passes": 1, "fails": 99, "value": 0.01}: passes are the failed requests
  EXPECT_DOUBLE_EQ(metric_of(a[0], "errors_total"), 1);
  EXPECT_DOUBLE_EQ(metric_of(a[0], "error_rate"), 0.01);
  EXPECT_DOUBLE_EQ(metric_of(a[0], "queries_total"), 99);  // http_reqs.count 100 - 1 failed
  EXPECT_EQ(a[0].labels.extra.at("k6_checks_fails"), "1");
  EXPECT_EQ(a[0].errors.total, 1u);
  const auto b = load("k6/summary-export_legacy_custom_trend_stats_p99.9_count_andreposman-qr-code-generator.json", "k6");
  EXPECT_DOUBLE_EQ(metric_of(b[0], "latency_p99_9_ms"), 787.1129890000226);
  EXPECT_DOUBLE_EQ(metric_of(b[0], "latency_p50_ms"), 3.12);
  EXPECT_DOUBLE_EQ(metric_of(b[0], "queries_total"), 493168);
  EXPECT_FALSE(b[0].metric_value("latency_p95_ms")) << "the file has no p(95)";
}

TEST(ImportK6, OutJsonPoints) {
  // Real: two http_reqs points (no durations in this excerpt).
  const auto real = load("k6/out_json_points_two_lines.jsonl", "k6");
  ASSERT_EQ(real.size(), 1u);
  EXPECT_DOUBLE_EQ(metric_of(real[0], "queries_total"), 2);
  EXPECT_EQ(real[0].started_at, "2022-07-11T00:18:34.250Z");  // 34.249760961, to the ms
  // Built from k6's documented --out json schema (no real file with http_req_duration points
  // here): each duration point (ms) is a sample.
  const std::string points =
      "{\"type\":\"Metric\",\"data\":{\"name\":\"http_req_duration\",\"type\":\"trend\",\"contains\":\"time\"},\"metric\":\"http_req_duration\"}\n"
      "{\"type\":\"Point\",\"data\":{\"time\":\"2024-01-01T00:00:00Z\",\"value\":12.5,\"tags\":{}},\"metric\":\"http_req_duration\"}\n"
      "{\"type\":\"Point\",\"data\":{\"time\":\"2024-01-01T00:00:01Z\",\"value\":1,\"tags\":{}},\"metric\":\"http_reqs\"}\n"
      "{\"type\":\"Point\",\"data\":{\"time\":\"2024-01-01T00:00:01Z\",\"value\":7.25,\"tags\":{}},\"metric\":\"http_req_duration\"}\n";
  const auto r = import_text(points, "p.json", "", {});
  ASSERT_TRUE(r[0].latency.has_value());
  EXPECT_EQ(r[0].latency->samples_ns, (std::vector<std::int64_t>{12'500'000, 7'250'000}));
  // First and last times across fractions of different lengths, none, and an offset.
  const std::string timed =
      "{\"type\":\"Point\",\"data\":{\"time\":\"2024-01-01T00:00:01Z\",\"value\":1},\"metric\":\"http_reqs\"}\n"
      "{\"type\":\"Point\",\"data\":{\"time\":\"2024-01-01T00:00:00.5Z\",\"value\":1},\"metric\":\"http_reqs\"}\n"
      "{\"type\":\"Point\",\"data\":{\"time\":\"2024-01-01T00:00:00.25Z\",\"value\":1},\"metric\":\"http_reqs\"}\n"
      "{\"type\":\"Point\",\"data\":{\"time\":\"2024-01-01T01:00:02+01:00\",\"value\":1},\"metric\":\"http_reqs\"}\n";
  const auto t = import_text(timed, "t.json", "k6", {});
  EXPECT_EQ(t[0].started_at, "2024-01-01T00:00:00.250Z");
  EXPECT_EQ(t[0].finished_at, "2024-01-01T00:00:02.000Z");
  expect_input_error([&] { import_text(points + "{\"type\":\"Point\",\"data\":{\"value\":\"x\"},\"metric\":\"m\"}\n", "p.json", "k6", {}); },
                     "p.json:5", "data.value: expected a number");
  expect_input_error([&] { import_text(points + "{oops\n", "p.json", "k6", {}); }, "p.json:5", "not a JSON line");
}

// ------------------------------------------------------------------------------------ Locust
TEST(ImportLocust, StatsOneRunPerEndpoint) {
  const auto runs = load("locust/results_stats_instarwxp-llm-inference-platform.csv", "locust");
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[0].workload.model, "POST /api/chat");
  EXPECT_EQ(runs[3].workload.model, "Aggregated");
  // POST,/api/chat,57,0,250,370.579...,186.589...,3436.395...,59.789...,0.9654...,0.0,250,290,330,380,490,560,2000,3400,3400,...
  EXPECT_DOUBLE_EQ(metric_of(runs[0], "queries_total"), 57);
  EXPECT_DOUBLE_EQ(metric_of(runs[0], "latency_mean_ms"), 370.57917901756394);
  EXPECT_DOUBLE_EQ(metric_of(runs[0], "latency_p50_ms"), 250);
  EXPECT_DOUBLE_EQ(metric_of(runs[0], "latency_p90_ms"), 490);
  EXPECT_DOUBLE_EQ(metric_of(runs[0], "latency_p95_ms"), 560);
  EXPECT_DOUBLE_EQ(metric_of(runs[0], "latency_p99_ms"), 3400);
  EXPECT_DOUBLE_EQ(metric_of(runs[0], "throughput_queries_per_s"), 0.9654206640071638);
  EXPECT_EQ(runs[0].labels.extra.at("locust_p66_ms"), "290");
  EXPECT_DOUBLE_EQ(metric_of(runs[3], "queries_total"), 370);
}

TEST(ImportLocust, Locust1xGbkNameCrCrLfAndHistory) {
  const auto runs = load("locust/locust1.x_stats_99.999pct_GBK_name_zhajiangmian2342-20200823.csv", "");
  ASSERT_EQ(runs.size(), 2u);
  // The GBK bytes of the name are not UTF-8: replaced, and said.
  EXPECT_EQ(runs[0].workload.model.rfind("GET get", 0), 0u) << runs[0].workload.model;
  EXPECT_NE(runs[0].workload.model.find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_NE(std::find_if(runs[0].warnings.begin(), runs[0].warnings.end(), [](const std::string& w) { return w.find("U+FFFD") != std::string::npos; }),
            runs[0].warnings.end());
  EXPECT_DOUBLE_EQ(metric_of(runs[0], "latency_mean_ms"), 39.658101399739586);
  EXPECT_EQ(runs[0].labels.extra.at("locust_p99.999_ms"), "88");
  // History: the last row's totals ("1597569276","0","","Aggregated",...,15,0,50,39,9,88,7382).
  const auto h = load("locust/locust1.x_stats_history_quoted_zhajiangmian2342-20200823.csv", "");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_DOUBLE_EQ(metric_of(h[0], "queries_total"), 15);
  EXPECT_DOUBLE_EQ(metric_of(h[0], "latency_mean_ms"), 39);
  EXPECT_DOUBLE_EQ(metric_of(h[0], "latency_max_ms"), 88);
  EXPECT_DOUBLE_EQ(metric_of(h[0], "wall_time_s"), 2);  // 1597569274 .. 1597569276
  EXPECT_EQ(h[0].labels.extra.at("locust_peak_users"), "10");
  const auto h2 = load("locust/locust_stats_history_isNeil-neuro_head.csv", "locust");
  EXPECT_DOUBLE_EQ(metric_of(h2[0], "queries_total"), 50);
  EXPECT_DOUBLE_EQ(metric_of(h2[0], "latency_mean_ms"), 2022.7611059996707);
}

TEST(ImportLocust, FailuresByError) {
  const auto a = load("locust/locust2.29.1_failures_quoted_error_veroliut-loadTestRetailDemoStore.csv", "");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].workload.model, "GET /products/*");
  EXPECT_EQ(a[0].errors.by_class.at("gaierror(8, 'nodename nor servname provided, or not known')"), 1u);
  const auto b = load("locust/results_failures_Bortlesboat-bitcoin-api.csv", "locust");
  ASSERT_EQ(b.size(), 7u);
  EXPECT_EQ(b[0].workload.model, "GET /api/v1/mempool/info");
  EXPECT_DOUBLE_EQ(metric_of(b[0], "errors_total"), 123);
  EXPECT_DOUBLE_EQ(metric_of(b[1], "errors_total"), 104);
  const auto none = load("locust/locust1.x_failures_header_only_zhajiangmian2342-20200823.csv", "locust");
  EXPECT_DOUBLE_EQ(metric_of(none[0], "errors_total"), 0);
  expect_input_error([] { import_text("Type,Name,Request Count,Failure Count\nGET,/x,5,oops\n", "s.csv", "locust", {}); }, "s.csv:2",
                     "'oops' is not a non-negative number");
  expect_input_error([] { import_text("Type,Name,Request Count,Failure Count\nGET,/x,5,6\n", "s.csv", "locust", {}); }, "s.csv:2",
                     "exceeds");
}

// --------------------------------------------------------------------------------- Criterion
TEST(ImportCriterion, SampleJsonIsPerIterationSamples) {
  const auto runs = load("criterion/basic_dice__new__sample_Linear_100.json", "");
  ASSERT_EQ(runs.size(), 1u);
  ASSERT_TRUE(runs[0].latency.has_value());
  EXPECT_EQ(runs[0].latency->samples_ns.size(), 100u);
  // times[0] / iters[0] and the mean agree with estimates.json's mean point estimate (1147.687 ns).
  EXPECT_EQ(runs[0].latency->samples_ns[0], std::llround(959800.0 / 850.0)) << "times[0] / iters[0]";
  // Samples are whole ns: the mean moves by at most 0.5 ns.
  EXPECT_NEAR(metric_of(runs[0], "latency_mean_ms"), 1147.687412044038e-6, 0.5e-6);
  const auto flat = load("criterion/beneath_range__1000__new__sample_Flat_10.json", "criterion");
  EXPECT_EQ(flat[0].latency->samples_ns[0], std::llround(11993214206.0 / 213347.0));
}

TEST(ImportCriterion, EstimatesAloneAndBesideSampleJson) {
  const auto e = load("criterion/basic_dice__new__estimates.json", "");
  EXPECT_DOUBLE_EQ(metric_of(e[0], "latency_mean_ms"), 1147.687412044038 / 1e6);
  EXPECT_DOUBLE_EQ(metric_of(e[0], "latency_p50_ms"), 1136.2198242933537 / 1e6);
  EXPECT_FALSE(e[0].metric_value("latency_std_ms")) << "Criterion's n - 1 std without n is a label";
  EXPECT_EQ(e[0].labels.extra.at("criterion_std_dev_ns"), "34.37482003241507");
  EXPECT_EQ(e[0].labels.extra.at("criterion_mean_ci95_ns"), "1142.0570372844415..1155.2549911444482");
  const auto null_slope = load("criterion/end_to_end__sustained_100k_pkt_per_sec__new__estimates_slope_null.json", "criterion");
  EXPECT_FALSE(null_slope[0].labels.extra.contains("criterion_slope_ns"));
  // The layout Criterion writes: target/criterion/<bench>/new/{estimates,sample,benchmark}.json.
  const auto dir = std::filesystem::temp_directory_path() / ("trackiq_crit_" + std::to_string(::getpid())) / "criterion" / "basic dice" / "new";
  std::filesystem::create_directories(dir);
  for (const auto& [from, to] : {std::pair{"basic_dice__new__estimates.json", "estimates.json"}, {"basic_dice__new__sample_Linear_100.json", "sample.json"},
                                 {"basic_dice__new__benchmark.json", "benchmark.json"}})
    std::filesystem::copy_file(kData + "/criterion/" + from, dir / to, std::filesystem::copy_options::overwrite_existing);
  const auto both = import_file((dir / "estimates.json").string(), "", {});
  EXPECT_EQ(both[0].workload.model, "basic dice");  // benchmark.json's full_id
  ASSERT_TRUE(both[0].latency.has_value());
  EXPECT_EQ(both[0].latency->samples_ns.size(), 100u);
  std::filesystem::remove_all(dir.parent_path().parent_path().parent_path());
  expect_input_error([] { load("criterion/beneath_range__1000__change__estimates.json", ""); }, "change__estimates.json:1", "relative changes");
}

// ----------------------------------------------------------------------------------- trtexec
TEST(ImportTrtexec, ExportTimesLatenciesAreSamples) {
  const auto runs = load("tensorrt-trtexec/exportTimes_alexnet_fp16_trt10_RTX3060laptop_TRIMMED.json", "");
  ASSERT_EQ(runs.size(), 1u);
  ASSERT_TRUE(runs[0].latency.has_value());
  ASSERT_EQ(runs[0].latency->samples_ns.size(), 40u);
  EXPECT_EQ(runs[0].latency->samples_ns[0], 497'559);  // "latencyMs" : 0.497559
  EXPECT_EQ(runs[0].latency->samples_ns[1], 498'535);
  EXPECT_DOUBLE_EQ(metric_of(runs[0], "latency_min_ms"), 0.495605);
  EXPECT_DOUBLE_EQ(metric_of(runs[0], "latency_max_ms"), 0.499023);
  // 40 records from startEnqMs 4999.96 to endD2hMs 5020.22
  EXPECT_NEAR(metric_of(runs[0], "throughput_queries_per_s"), 40 / ((5020.22 - 4999.96) / 1e3), 1e-6);
  expect_input_error([] { import_text("[\n{\"latencyMs\": 1, \"computeMs\": 1},\n{\"latencyMs\": -1, \"computeMs\": 1}\n]", "t.json", "trtexec", {}); },
                     "t.json:3", "negative");
}

TEST(ImportTrtexec, ExportProfileKeepsTheLayers) {
  const auto runs = load("tensorrt-trtexec/exportProfile_alexnet_fp16_trt10_RTX3060laptop.json", "");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].scenario.iterations, 14590u);  // { "count" : 14590 }
  EXPECT_EQ(runs[0].labels.extra.at("trtexec_profile_layers"), "14");
  const auto layers = nlohmann::json::parse(runs[0].workload.options.at("trtexec_layer_profile"));
  EXPECT_EQ(layers[1]["name"], "/features/features.0/Conv + /features/features.1/Relu");
  EXPECT_DOUBLE_EQ(layers[1]["medianMs"].get<double>(), 0.024576);
  EXPECT_NEAR(metric_of(runs[0], "latency_mean_ms"), 0.52417137, 1e-9);  // sum of averageMs
  const auto fpn = load("tensorrt-trtexec/exportProfile_fpn_qnx_count625_EXCERPT.json", "trtexec");
  EXPECT_EQ(fpn[0].scenario.iterations, 625u);
  EXPECT_EQ(fpn[0].labels.extra.at("trtexec_profile_layers"), "21");
}

// -------------------------------------------------------------------------------------- vLLM
TEST(ImportVllm, SaveResultWithPerRequestArrays) {
  const auto runs = load("vllm-bench/benchmark_serving_save-result_per_request_arrays_Llama-3-8B_A100_LambdaLabsML.json", "");
  ASSERT_EQ(runs.size(), 1u);
  const Result& r = runs[0];
  EXPECT_EQ(r.workload.model, "meta-llama/Meta-Llama-3-8B-Instruct");
  EXPECT_EQ(r.scenario.name, "load");
  EXPECT_DOUBLE_EQ(metric_of(r, "mean_ttft_ms"), 139.22520615160465);
  EXPECT_DOUBLE_EQ(metric_of(r, "std_ttft_ms"), 0.5644138954099829);
  EXPECT_DOUBLE_EQ(metric_of(r, "p99_itl_ms"), 118.05999144911766);
  EXPECT_DOUBLE_EQ(metric_of(r, "mean_e2el_ms"), 2407.0737529546022);  // mean_latency_ms
  EXPECT_DOUBLE_EQ(metric_of(r, "request_throughput"), 1.1672923982812866);
  EXPECT_DOUBLE_EQ(metric_of(r, "output_throughput"), 227.03837146571024);
  EXPECT_DOUBLE_EQ(metric_of(r, "queries_total"), 10);
  EXPECT_DOUBLE_EQ(metric_of(r, "wall_time_s"), 8.566833823919296);
  // 10 ttfts and 197 itls (seconds) → distributions; their means match the file's (within the
  // histogram's 3 significant digits).
  ASSERT_TRUE(r.distributions.contains("ttft"));
  EXPECT_EQ(r.distributions.at("ttft").count(), 10u);
  EXPECT_EQ(r.distributions.at("itl").count(), 197u);
  EXPECT_NEAR(r.distributions.at("ttft").mean() / 1e6, 139.22520615160465, 0.2);
  EXPECT_NEAR(r.distributions.at("itl").mean() / 1e6, 114.52366808798108, 0.2);
}

TEST(ImportVllm, BenchServeAndAllFailed) {
  const auto a = load("vllm-bench/vllm-bench-serve_v0.25.1_opt-125m_cpu_keys_sorted.json", "vllm");
  EXPECT_DOUBLE_EQ(metric_of(a[0], "max_concurrent_requests"), 6);
  EXPECT_DOUBLE_EQ(metric_of(a[0], "median_ttft_ms"), 55.68139649994919);
  EXPECT_DOUBLE_EQ(metric_of(a[0], "total_token_throughput"), 248.6789122211242);
  EXPECT_EQ(a[0].labels.extra.at("vllm_max_concurrency"), "2");
  const auto f = load("vllm-bench/vllm-bench-serve_v0.25.1_all_requests_failed_opt-125m.json", "");
  EXPECT_DOUBLE_EQ(metric_of(f[0], "errors_total"), 8);
  EXPECT_DOUBLE_EQ(metric_of(f[0], "error_rate"), 1);
  EXPECT_FALSE(f[0].metric_value("mean_ttft_ms")) << "0.0 for every request failed is not a latency";
  const auto s = load("vllm-bench/vllm-bench-sweep-serve_v0.25.1_run0_max_num_seqs4.json", "");
  EXPECT_TRUE(s[0].metric_value("p99_e2el_ms").has_value());
  EXPECT_EQ(s[0].labels.extra.at("vllm_max_num_seqs"), "4");
}

// ------------------------------------------------------------------------- telemetry formats
std::vector<double> channel(const Result& r, const std::string& name) {
  std::vector<double> out;
  if (!r.telemetry.series) return out;
  const auto& s = *r.telemetry.series;
  const auto it = std::find(s.names.begin(), s.names.end(), name);
  if (it == s.names.end()) return out;
  for (std::size_t row = 0; row < s.rows(); ++row) out.push_back(s.at(row, static_cast<std::size_t>(it - s.names.begin())));
  return out;
}

TEST(ImportTelemetry, TegrastatsLogIsASeriesWithoutLatency) {
  const auto runs = load("tegrastats/nano_jp4_SumantBagri-CSC2231_Project.log", "");
  ASSERT_EQ(runs.size(), 1u);
  const Result& r = runs[0];
  EXPECT_FALSE(r.latency.has_value());
  EXPECT_TRUE(r.telemetry.available);
  ASSERT_TRUE(r.telemetry.series.has_value());
  EXPECT_EQ(r.telemetry.series->rows(), 30u);  // 30 lines
  EXPECT_EQ(r.telemetry.summary.at("samples"), 30.0) << "the console's 'telemetry (N samples)'";
  // Line 1: RAM 936/3964MB ... GR3D_FREQ 0%@76 ... POM_5V_IN 920/920; line 3: GR3D_FREQ 42%, POM_5V_IN 2793/1750
  const auto mem = channel(r, "mem.used_bytes"), gpu = channel(r, "gpu0.util_pct"), in = channel(r, "power.total.w");
  ASSERT_EQ(mem.size(), 30u);
  EXPECT_DOUBLE_EQ(mem[0], 936.0 * 1048576);
  EXPECT_DOUBLE_EQ(gpu[2], 42);
  EXPECT_DOUBLE_EQ(in[0], 0.920);
  EXPECT_DOUBLE_EQ(in[2], 2.793);
  EXPECT_TRUE(r.metric_value("power_peak_w").has_value());
  EXPECT_NE(std::find_if(r.warnings.begin(), r.warnings.end(), [](const std::string& w) { return w.find("no latency") != std::string::npos; }),
            r.warnings.end());
  // Timestamped lines (JetPack 5+): 07-21-2025 16:33:42, 16:33:43 ... → 1 s apart.
  const auto orin = load("tegrastats/agx_orin_64gb_jp6_Hanner123-LLM_PIPELINE.log", "tegrastats");
  EXPECT_EQ(orin[0].telemetry.series->t_ns[1], 1'000'000'000);
  EXPECT_EQ(orin[0].telemetry.summary.at("samples"), static_cast<double>(orin[0].telemetry.series->rows()));
  EXPECT_NEAR(orin[0].telemetry.summary.at("interval_ms"), 1000.0, 100.0) << "a 1 s log, with its lines' own gaps";
  EXPECT_DOUBLE_EQ(channel(orin[0], "gpu0.util_pct")[0], 39);
  // A captured log with a shell prompt and a sudo prompt: those lines are skipped, and said.
  const auto tx2 = load("tegrastats/tx2_l4t28_sudo_prompt_putmotorsport-tx2-deep-learning-kit-bsp.log", "tegrastats");
  EXPECT_NE(std::find_if(tx2[0].warnings.begin(), tx2[0].warnings.end(), [](const std::string& w) { return w.find("skipped") != std::string::npos; }),
            tx2[0].warnings.end());
  expect_input_error([] { import_text("hello\nworld\n", "t.log", "tegrastats", {}); }, "t.log:1", "no valid tegrastats line");
  // Timestamps thousands of years apart (found by importers_fuzz: the ns times overflowed).
  expect_input_error(
      [] {
        import_text("07-21-2025 16:33:42 RAM 17953/62841MB (lfb 9x4MB) CPU [7%@1728]\n"
                    "07-21-4050 16:33:43 RAM 17955/62841MB (lfb 9x4MB) CPU [20%@1728]\n",
                    "far.log", "tegrastats", {});
      },
      "far.log", "valid line 2: its timestamp is 2025 years from the first line's");
}

TEST(ImportTelemetry, NvidiaSmiQueryCsvAndDmon) {
  const auto q = load("nvidia-smi/query_gpu_with_header_units_32GBgpu_loop5s.csv", "");
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].telemetry.series->rows(), 7u);
  // utilization.gpu 99, 99, 99, 98, 100, 32, 98 %; memory.used 30994 MiB; 13:48:11.412 .. 13:48:41.428
  EXPECT_EQ(channel(q[0], "gpu0.util_pct"), (std::vector<double>{99, 99, 99, 98, 100, 32, 98}));
  EXPECT_NEAR(metric_of(q[0], "gpu_util_avg_pct"), 625.0 / 7, 1e-9);
  EXPECT_DOUBLE_EQ(metric_of(q[0], "gpu_memory_peak_bytes"), 30994.0 * 1048576);
  EXPECT_NEAR(metric_of(q[0], "wall_time_s"), 30.016, 1e-6);
  expect_input_error([] { load("nvidia-smi/query_gpu_noheader_nounits_4xRTXPRO6000_drv595.csv", "nvidia-smi"); }, "drv595.csv:1", "no header row");
  // The same file with its --query-gpu list (the command in testdata/README.md): rows
  // "0, ..., 99, 55, 97887, 90538, 6712, 81, N/A, 299.35, ..." to "3, ..., 100, ..., 48209, ..., 71, ..., 300.00".
  ImportOptions cols;
  cols.columns = {"index", "uuid", "name", "pci.bus_id", "driver_version", "utilization.gpu", "utilization.memory",
                  "memory.total", "memory.used", "memory.free", "temperature.gpu", "temperature.memory", "power.draw",
                  "power.limit", "clocks.gr", "clocks.mem", "clocks.max.gr", "clocks.max.mem", "fan.speed", "pstate",
                  "pcie.link.gen.current", "pcie.link.width.current", "encoder.stats.sessionCount"};
  const auto nh = load("nvidia-smi/query_gpu_noheader_nounits_4xRTXPRO6000_drv595.csv", "nvidia-smi", cols);
  ASSERT_EQ(nh.size(), 1u);
  EXPECT_EQ(channel(nh[0], "gpu0.util_pct"), (std::vector<double>{99}));
  EXPECT_EQ(channel(nh[0], "gpu3.util_pct"), (std::vector<double>{100}));
  EXPECT_DOUBLE_EQ(metric_of(nh[0], "temperature_max_c"), 81);
  EXPECT_DOUBLE_EQ(metric_of(nh[0], "gpu_memory_peak_bytes"), (90538.0 + 90536 + 48243 + 48209) * 1048576);  // as dmon
  cols.columns.resize(2);
  expect_input_error([&] { load("nvidia-smi/query_gpu_noheader_nounits_4xRTXPRO6000_drv595.csv", "nvidia-smi", cols); },
                     "drv595.csv:1", "23 fields, --columns has 2");
  expect_input_error([&] { load("nvidia-smi/query_gpu_with_header_units_32GBgpu_loop5s.csv", "nvidia-smi", cols); },
                     "loop5s.csv:1", "--columns is for --format=csv,noheader");
  // dmon: "0 119 59 - 100 ..." and "1 159 59 - 100 ...": one row, two GPUs.
  const auto d = load("nvidia-smi/dmon_default_RTX3080_2gpu.txt", "");
  EXPECT_EQ(d[0].telemetry.series->rows(), 1u);
  EXPECT_DOUBLE_EQ(metric_of(d[0], "power_avg_w"), 119 + 159);
  EXPECT_DOUBLE_EQ(metric_of(d[0], "temperature_max_c"), 59);
  EXPECT_TRUE(channel(d[0], "gpu0.mem_temp_c").empty()) << "mtemp is - on every row: no channel";
  const auto d4 = load("nvidia-smi/dmon_s_pucm_4xRTXPRO6000_drv595.txt", "nvidia-smi");
  EXPECT_DOUBLE_EQ(metric_of(d4[0], "power_avg_w"), 294 + 292 + 299 + 299);
  EXPECT_DOUBLE_EQ(metric_of(d4[0], "temperature_max_c"), 81);
  EXPECT_DOUBLE_EQ(metric_of(d4[0], "gpu_memory_peak_bytes"), (90538.0 + 90536 + 48243 + 48209) * 1048576);
  expect_input_error([] { import_text("# gpu pwr\n# Idx W\n0 12 13\n", "d.txt", "nvidia-smi", {}); }, "d.txt:3", "3 fields, the header has 2");
}

TEST(ImportTelemetry, DcgmScrape) {
  const auto l = load("dcgm-exporter/scrape_L40S_k8s_pod_labels.prom", "");
  ASSERT_EQ(l.size(), 1u);
  EXPECT_DOUBLE_EQ(channel(l[0], "gpu0.sm_clock_mhz")[0], 2520);
  EXPECT_DOUBLE_EQ(channel(l[0], "gpu0.mem_clock_mhz")[0], 9001);
  EXPECT_DOUBLE_EQ(metric_of(l[0], "temperature_max_c"), 0);  // DCGM_FI_DEV_MEMORY_TEMP ... 0
  EXPECT_EQ(l[0].labels.extra.at("dcgm_model_name"), "NVIDIA L40S");
  const auto a = load("dcgm-exporter/scrape_A800x8_MIG_drv535_trimmed.prom", "dcgm");
  EXPECT_DOUBLE_EQ(channel(a[0], "gpu0.mig3.sm_clock_mhz")[0], 1410);
  EXPECT_DOUBLE_EQ(metric_of(a[0], "temperature_max_c"), 33);
  expect_input_error([] { import_text("DCGM_FI_DEV_GPU_TEMP{gpu=\"0\"} hot\n", "s.prom", "dcgm", {}); }, "s.prom:1", "not a number");
}

// ------------------------------------------------------------------------------- PerfTracker
TEST(ImportPerftracker, UploaderTestListOneRunPerGroup) {
  const auto runs = load("perftracker/pt-suite-uploader_example_tests_sample.json", "");
  ASSERT_EQ(runs.size(), 2u);  // groups "latency" and "throughput"
  EXPECT_EQ(runs[0].workload.model, "latency");
  EXPECT_EQ(runs[1].workload.model, "throughput");
  // latency: login 1.7 (1 clients, 8 loops), login 2.2 (2 clients, 7 loops)
  const auto login = nlohmann::json::parse(runs[0].labels.extra.at("pt_test.login [1 clients]"));
  EXPECT_DOUBLE_EQ(login["scores"][0].get<double>(), 1.7);
  EXPECT_EQ(login["unit"], "sec");
  EXPECT_EQ(login["less_better"], true);
  EXPECT_DOUBLE_EQ(metric_of(runs[0], "queries_total"), 8 + 7);
  // throughput: loops 182 + 783 + 360 + 1237, errors 0 + 0 + 1 + 1, scores [82.5, 21.2] kept as given
  EXPECT_DOUBLE_EQ(metric_of(runs[1], "queries_total"), 182 + 783 + 360 + 1237);
  EXPECT_DOUBLE_EQ(metric_of(runs[1], "errors_total"), 2);
  EXPECT_DOUBLE_EQ(metric_of(runs[1], "wall_time_s"), 60);
  const auto users = nlohmann::json::parse(runs[1].labels.extra.at("pt_test.GET /users [4 threads]"));
  EXPECT_EQ(users["scores"], (nlohmann::json{82.5, 21.2}));
  // A job JSON as perftracker-lib writes it (no real one in ../shared/testdata: built from
  // ptSuite's fields — job_title, product_name, product_ver, tests with scores and deviations).
  const std::string job = R"({"job_title": "nightly", "product_name": "grpm", "product_ver": "1.66",
"tests": [
 {"tag": "t1", "scores": [3.0, 3.2], "deviations": [0.1, 0.2], "metrics": "ms", "less_better": true, "group": "g", "category": "c1", "loops": 10},
 {"tag": "t1", "score": "fast", "group": "g"}
]})";
  expect_input_error([&] { import_text(job, "job.json", "perftracker", {}); }, "job.json:4", "expected a number");
  const auto ok = import_text(job.substr(0, job.find(",\n {\"tag\": \"t1\", \"score\"")) + "\n]}", "job.json", "", {});
  EXPECT_EQ(ok[0].labels.product, "grpm");
  EXPECT_EQ(ok[0].labels.version, "1.66");
  EXPECT_EQ(nlohmann::json::parse(ok[0].labels.extra.at("pt_test.t1 [c1]"))["deviations"], (nlohmann::json{0.1, 0.2}));
}

// ------------------------------------------------------------------------ generic JSON mapping
TEST(ImportJsonMap, PathsSelectSamplesAndMetrics) {
  const std::string text = R"({"results": [
  {"latency": 1.5, "rps": 100},
  {"latency": 2.5, "rps": 300}
], "meta": {"qps": [7, 9]}})";
  ImportOptions o;
  o.map = {{"latency_ms", "$.results[*].latency"}, {"throughput_queries_per_s", "$['meta'].qps[1]"}};
  const auto runs = import_text(text, "r.json", "json", o);
  ASSERT_TRUE(runs[0].latency.has_value());
  EXPECT_EQ(runs[0].latency->samples_ns, (std::vector<std::int64_t>{1'500'000, 2'500'000}));
  EXPECT_DOUBLE_EQ(metric_of(runs[0], "throughput_queries_per_s"), 9);
  // A real file through a path: hyperfine's times (seconds).
  ImportOptions h;
  h.map = {{"latency_s", "$.results[0].times[*]"}};
  const auto hf = load("hyperfine/sleep0.3_runs5_export-json.json", "json", h);
  EXPECT_EQ(hf[0].latency->samples_ns.size(), 5u);
  o.map = {{"latency_ms", "$.results[*].rps.x"}};
  expect_input_error([&] { import_text(text, "r.json", "json", o); }, "r.json:1", "selects nothing");
  o.map = {{"latency_ms", "$.meta"}};
  expect_input_error([&] { import_text(text, "r.json", "json", o); }, "r.json:4", "not a number");
  o.map = {{"latency_ms", "results[0]"}};
  expect_input_error([&] { import_text(text, "r.json", "json", o); }, "", "a path starts with $");
  o.map = {{"latency_ms", "$.results[?(@.x)]"}};
  expect_input_error([&] { import_text(text, "r.json", "json", o); }, "", "is not [N], [*] or ['key']");
  EXPECT_THROW(import_text(text, "r.json", "json", {}), InputError) << "json needs --map";
}

}  // namespace
}  // namespace trackiq::importers
