#include <gtest/gtest.h>

#include <clocale>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "trackiq/core/error.hpp"
#include "trackiq/core/result.hpp"

namespace trackiq {
namespace {

Result sample_result() {
  Result r;
  r.tool_version = "0.1.0";
  r.run_id = new_run_id();
  r.started_at = "2026-11-23T17:52:07.123Z";
  r.finished_at = "2026-11-23T17:52:17.456Z";
  r.environment = capture_environment();
  r.labels.product = "detector";
  r.labels.version = "1.2.3";
  r.labels.extra["team"] = "edge";
  r.workload.backend = "onnx";
  r.workload.model = "model.onnx";
  r.workload.model_hash = "0123456789abcdef";
  r.workload.batch_size = 4;
  r.workload.inputs = {{"input", {4, 3, 224, 224}, "float32"}};
  r.workload.outputs = {{"logits", {4, 1000}, "float32"}};
  r.workload.flops_per_query = 1.5e9;
  r.workload.options["seq_len"] = "128";
  r.scenario.name = "server";
  r.scenario.qps = 12.5;
  r.scenario.iterations = 100;
  r.scenario.duration_ns = 10'000'000'000;
  r.scenario.seed = 42;
  r.throughput_method = "completed queries / (last completion - first issue)";
  r.metrics = {{"latency_p99_ms", 12.345678901234, ValueKind::kMeasured},
               {"throughput_samples_per_s", 1234.5, ValueKind::kDerived},
               {"power_avg_w", 7.25, ValueKind::kEstimated}};
  LatencyData l;
  l.measured_from = "scheduled";
  std::vector<std::int64_t> xs{1'000'000, 2'000'000, 3'500'000, 120'000'000};
  l.summary_ns = summarize(xs);
  for (auto x : xs) l.histogram.record(x);
  l.samples_ns = xs;
  r.latency = l;
  r.telemetry.reason = "not available: test";
  r.slo = {{"latency_p99_ms", "<=", 20.0, 12.3, SloState::kPass},
           {"power_avg_w", "<=", 5.0, std::nullopt, SloState::kNotMeasured},
           {"p99_ttft_ms", "<=", 200.0, 154.2, SloState::kNotConfirmed, 662, "3 of 240 requests over the limit"}};
  r.errors.total = 2;
  r.errors.by_class["timeout"] = 2;
  r.errors.examples = {"timed out after 5 s"};
  r.warnings = {"synthetic"};
  return r;
}

TEST(ResultJson, RoundTripsEveryField) {
  const Result r = sample_result();
  const std::string text = to_json(r);
  const Result back = result_from_json(text, "mem.json");
  EXPECT_EQ(to_json(back), text);
  EXPECT_EQ(back.run_id, r.run_id);
  EXPECT_EQ(back.labels.extra.at("team"), "edge");
  EXPECT_EQ(back.workload.inputs[0].shape, (std::vector<std::int64_t>{4, 3, 224, 224}));
  EXPECT_EQ(back.scenario.qps, 12.5);
  EXPECT_FALSE(back.scenario.max_duration_ns.has_value());
  EXPECT_DOUBLE_EQ(*back.metric_value("latency_p99_ms"), 12.345678901234);
  EXPECT_EQ(back.metrics[2].kind, ValueKind::kEstimated);
  ASSERT_TRUE(back.latency.has_value());
  EXPECT_TRUE(back.latency->histogram == r.latency->histogram);
  EXPECT_EQ(back.latency->samples_ns, r.latency->samples_ns);
  EXPECT_FALSE(back.slo[1].measured.has_value());
  EXPECT_EQ(back.slo[1].state, SloState::kNotMeasured);
  EXPECT_FALSE(back.slo[1].pass());
  EXPECT_EQ(back.slo[2].state, SloState::kNotConfirmed);
  EXPECT_EQ(back.slo[2].requests_needed, 662u);
  EXPECT_EQ(back.slo[2].detail, "3 of 240 requests over the limit");
  EXPECT_NE(text.find("\"verdict\": \"NOT_CONFIRMED\""), std::string::npos);
  EXPECT_FALSE(back.slo[0].requests_needed.has_value());
  // environment.variables (LIB-5) only when a variable was set.
  EXPECT_EQ(text.find("\"variables\""), std::string::npos);
  Result with = r;
  with.environment.variables = {{"TRACKIQ_SEED", "7"}, {"TRACKIQ_DETERMINISTIC", "1"}};
  const std::string with_text = to_json(with);
  EXPECT_NE(with_text.find("\"variables\": {"), std::string::npos);
  EXPECT_EQ(result_from_json(with_text, "vars.json").environment.variables, with.environment.variables);
}

TEST(ResultJson, RoundTripsATelemetrySeriesWithGaps) {
  Result r = sample_result();
  TelemetrySeries ts;
  ts.names = {"cpu.util_pct", "thermal.cpu.temp_c"};
  ts.units = {"%", "°C"};
  ts.t_ns = {-5'000'000, 95'000'000};
  ts.values = {33.5, std::nan(""), 0.1 + 0.2, 61.0};
  r.telemetry.series = ts;
  const std::string text = to_json(r, -1);
  EXPECT_NE(text.find("[33.5,null]"), std::string::npos) << "NaN is written as null";
  const Result back = result_from_json(text, "mem.json");
  ASSERT_TRUE(back.telemetry.series);
  EXPECT_TRUE(*back.telemetry.series == ts);
  EXPECT_EQ(to_json(back, -1), text);
  // A row with the wrong number of values is refused with its path.
  std::string bad = text;
  bad.replace(bad.find("[33.5,null]"), 11, "[33.5]");
  try {
    result_from_json(bad, "bad.json");
    FAIL() << "accepted a short row";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("$.telemetry.series.values[0]"), std::string::npos) << e.what();
  }
  // Writing refuses a series whose sizes disagree rather than write a file readers reject.
  r.telemetry.series->values.pop_back();
  EXPECT_THROW(to_json(r), Error);
}

TEST(ResultJson, RoundTripsPerRequestDistributionsAndReadsDocumentsWithout) {
  Result r = sample_result();
  Histogram ttft = Histogram::for_latency_ns(), itl = Histogram::for_latency_ns();
  for (std::int64_t v : {30'000'000, 31'000'000, 29'500'000}) ttft.record(v);
  itl.record(6'000'000, 40);
  r.distributions = {{"ttft", ttft}, {"itl", itl}};
  const std::string text = to_json(r);
  const Result back = result_from_json(text, "mem.json");
  ASSERT_EQ(back.distributions.size(), 2u);
  EXPECT_TRUE(back.distributions.at("ttft") == ttft);
  EXPECT_EQ(back.distributions.at("itl").count(), 40u);
  EXPECT_EQ(to_json(back), text);
  // Written only when there are some: a 1.0 document has none, and reads as before.
  EXPECT_EQ(to_json(sample_result()).find("distributions"), std::string::npos);
  // A bad histogram names its path.
  std::string bad = text;
  const auto at = bad.find("\"encoding\"", bad.find("\"distributions\""));
  bad.replace(bad.find('"', at + 11) + 1, 4, "!!!!");
  try {
    result_from_json(bad, "bad.json");
    FAIL() << "accepted a corrupt distribution";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("$.distributions.itl.encoding"), std::string::npos) << e.what();
  }
}

TEST(ResultJson, ReadsAnArrayOfResultsAndNamesTheBadElement) {
  const Result r = sample_result();
  const std::string one = to_json(r);
  EXPECT_EQ(results_from_json(one, "one.json").size(), 1u);
  const auto two = results_from_json("[" + one + ",\n" + one + "]", "sweep.json");
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1].run_id, r.run_id);
  EXPECT_EQ(to_json(two[1]), one);
  std::string bad = one;
  const std::string key = "\"schema_version\": \"1.1\"";
  bad.replace(bad.find(key), key.size(), "\"schema_version\": 11");
  try {
    results_from_json("[" + one + "," + bad + "]", "sweep.json");
    FAIL() << "accepted a bad element";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("sweep.json[1]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(results_from_json("[]", "empty.json"), InputError);
  EXPECT_THROW(results_from_json("[1,", "cut.json"), InputError);
}

TEST(ResultJson, CarriesUnitAndDirectionFromTheRegistry) {
  const std::string text = to_json(sample_result());
  EXPECT_NE(text.find(R"("throughput_samples_per_s": {
      "value": 1234.5,
      "unit": "1/s",
      "direction": "higher",
      "kind": "derived")"),
            std::string::npos)
      << text;
}

TEST(ResultJson, NumbersIgnoreACommaDecimalLocale) {
  const char* found = nullptr;
  for (const char* name : {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "de_DE"}) {
    if (std::setlocale(LC_ALL, name)) {
      found = name;
      break;
    }
  }
  if (!found) GTEST_SKIP() << "no comma-decimal locale installed (scripts/setup.sh generates de_DE.UTF-8)";
  std::locale::global(std::locale(found));
  const std::string text = to_json(sample_result());
  std::setlocale(LC_ALL, "C");
  std::locale::global(std::locale::classic());
  EXPECT_NE(text.find("\"value\": 1234.5"), std::string::npos);
  EXPECT_EQ(text.find("1234,5"), std::string::npos);
}

TEST(ResultJson, MalformedJsonNamesFileAndLine) {
  const std::string text = "{\n  \"schema_version\": \"1.0\",\n  \"tool\": {,\n}\n";
  try {
    result_from_json(text, "bad.json");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.origin(), "bad.json");
    EXPECT_EQ(e.line(), 3u);
    EXPECT_EQ(std::string(e.what()).rfind("bad.json:3: invalid JSON", 0), 0u) << e.what();
  }
}

TEST(ResultJson, RejectsNumbersBeyondDoubleRange) {
  // Found by the result_json fuzzer: nlohmann reports this as out_of_range, not parse_error.
  EXPECT_THROW(result_from_json("{\"schema_version\": 1e4976}", "big.json"), InputError);
}

TEST(ResultJson, RejectsMissingFieldsUnknownMetricsAndForeignVersions) {
  const std::string good = to_json(sample_result());
  auto expect_error = [&](std::string text, const std::string& needle) {
    try {
      result_from_json(text, "r.json");
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    const auto pos = t.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    return t.replace(pos, from.size(), to);
  };
  expect_error(replace("\"run_id\"", "\"run_ident\""), "missing field 'run_id'");
  expect_error(replace("\"latency_p99_ms\": {", "\"latency_p42_ms\": {"), "unknown metric");
  expect_error(replace("\"schema_version\": \"1.1\"", "\"schema_version\": \"2.0\""), "unsupported schema version");
  expect_error(replace("\"direction\": \"higher\"", "\"direction\": \"lower\""), "direction differs");
  expect_error(replace("\"encoding\": \"TQH1:", "\"encoding\": \"XXX1:"), "histogram");
  expect_error(replace("\"batch_size\": 4", "\"batch_size\": \"four\""), "$.workload.batch_size: expected an integer");
  expect_error(replace("\"batch_size\": 4", "\"batch_size\": 1.1e117"), "$.workload.batch_size: expected an integer");
  expect_error(replace("\"batch_size\": 4", "\"batch_size\": 5000000000"), "integer out of range");
  expect_error(replace("\"batch_size\": 4", "\"batch_size\": -4"), "integer out of range");
  expect_error(replace("\"name\": \"server\"", "\"name\": \"batch\""), "$.scenario.name: unexpected value 'batch'");
  expect_error(replace("\"significant_digits\": 3", "\"significant_digits\": 2"), "disagree with the encoding");
  expect_error(replace("\"verdict\": \"PASS\"", "\"verdict\": \"OK\""), "$.slo.verdict");
  // Only a verdict within its limit but not confirmed names the requests that would confirm it.
  expect_error(replace("\"verdict\": \"NOT_CONFIRMED\"", "\"verdict\": \"FAIL\""), "$.slo.requests_needed");
  expect_error(replace("\"measured\": 154.2", "\"measured\": null"), "NOT_MEASURED exactly when measured is null");
}

TEST(ResultJson, ReadsA10DocumentWithoutTheFieldsOf11) {
  Result r = sample_result();
  r.schema_version = "1.0";
  r.slo.pop_back();  // 1.0 had no NOT_CONFIRMED, requests_needed or detail
  const std::string text = to_json(r);
  ASSERT_EQ(text.find("requests_needed"), std::string::npos);
  ASSERT_EQ(text.find("\"detail\""), std::string::npos);
  const Result back = result_from_json(text, "old.json");
  EXPECT_EQ(back.schema_version, "1.0");
  EXPECT_EQ(back.slo[0].state, SloState::kPass);
  EXPECT_TRUE(back.slo[0].detail.empty());
}

TEST(ResultJson, RefusesToWriteNonFiniteOrDuplicateMetrics) {
  Result r = sample_result();
  r.metrics.push_back({"latency_p50_ms", std::nan(""), ValueKind::kMeasured});
  EXPECT_THROW(to_json(r), Error);
  r.metrics.back().value = 1.0;
  r.metrics.push_back({"latency_p50_ms", 2.0, ValueKind::kMeasured});
  EXPECT_THROW(to_json(r), Error);
}

TEST(WriteFileAtomic, ReplacesWholeFilesAndCreatesDirectories) {
  const auto dir = std::filesystem::temp_directory_path() / ("trackiq_atomic_" + new_run_id());
  const std::string path = (dir / "sub" / "r.json").string();
  write_file_atomic(path, "first");
  write_file_atomic(path, "second");
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "second");
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "sub")) files += e.is_regular_file();
  EXPECT_EQ(files, 1u) << "no temp file may remain";
  std::filesystem::remove_all(dir);
  EXPECT_THROW(write_file_atomic("/proc/trackiq-cannot-write/x.json", "x"), Error);
}

TEST(RunId, IsAUuidV4) {
  const std::string id = new_run_id();
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[14], '4');
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
  EXPECT_NE(new_run_id(), id);
}

}  // namespace
}  // namespace trackiq
