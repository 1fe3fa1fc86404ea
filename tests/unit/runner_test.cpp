// Scenario semantics checked against known ground truth with the synthetic backend
// (sleep-based service times). Bounds are generous: the machine is shared and noisy.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "trackiq/core/error.hpp"
#include "trackiq/runner/runner.hpp"

namespace trackiq::runner {
namespace {

constexpr std::int64_t kMs = 1'000'000;

struct RunOutcome {
  RunRecording rec;
  Result result;
};

RunOutcome run(const std::string& spec, RunSettings s, std::uint32_t batch = 1) {
  auto w = workload::make_workload({.spec = spec, .batch_size = batch, .seed = s.seed});
  RunOutcome r;
  r.rec = run_scenario(*w, s);
  r.result = make_result(*w, s, r.rec, capture_environment(), {});
  return r;
}

double metric(const Result& r, const char* name) {
  const auto v = r.metric_value(name);
  EXPECT_TRUE(v.has_value()) << name;
  return v.value_or(-1);
}

TEST(SingleStream, ThroughputIsTheInverseOfServiceTime) {
  RunSettings s;
  s.iterations = 100;
  const RunOutcome r = run("synthetic:mean=4ms", s);
  EXPECT_EQ(r.rec.queries.size(), 100u);
  const double qps = metric(r.result, "throughput_queries_per_s");
  EXPECT_LE(qps, 250.0 * 1.01);
  EXPECT_GE(qps, 250.0 * 0.6);
  EXPECT_GE(metric(r.result, "latency_p50_ms"), 4.0);
  EXPECT_EQ(r.result.latency->measured_from, "issue");
  // One query in flight: each starts after the previous one ended.
  for (std::size_t i = 1; i < r.rec.queries.size(); ++i)
    ASSERT_GE(r.rec.queries[i].start_ns, r.rec.queries[i - 1].end_ns);
}

TEST(Server, FarBelowCapacityLatencyIsTheServiceTime) {
  RunSettings s;
  s.scenario = Scenario::kServer;
  s.qps = 40;
  s.iterations = 80;
  s.seed = 11;
  const RunOutcome r = run("synthetic:mean=2ms", s);
  EXPECT_EQ(r.result.latency->measured_from, "scheduled");
  const double p50 = metric(r.result, "latency_p50_ms");
  EXPECT_GE(p50, 2.0);
  EXPECT_LT(p50, 2.0 * 3);
  ASSERT_EQ(r.result.slo.size(), 1u);
  EXPECT_TRUE(r.result.slo[0].pass) << "achieved " << *r.result.slo[0].measured;
  // Queries start at their scheduled time, not back to back.
  const auto& q = r.rec.queries;
  EXPECT_GT(q.back().start_ns, 80 / 40 * 1000 * kMs / 2);
}

TEST(Server, AboveCapacityQueueingShowsInLatency) {
  // Offered 1000 q/s to one worker that serves 500 q/s: latency from the scheduled time grows
  // with the queue. A closed-loop measurement would still report ~2 ms (coordinated omission).
  RunSettings s;
  s.scenario = Scenario::kServer;
  s.qps = 1000;
  s.iterations = 300;
  s.seed = 5;
  const RunOutcome r = run("synthetic:mean=2ms", s);
  const double p50 = metric(r.result, "latency_p50_ms");
  EXPECT_GT(p50, 10 * 2.0) << "queueing must show: p50 many times the service time";
  // The issue-to-end time of each query stays near the service time.
  std::vector<std::int64_t> service;
  for (const auto& q : r.rec.queries) service.push_back(q.end_ns - q.start_ns);
  EXPECT_LT(summarize(service).percentiles[0].value, 2.0 * 3 * kMs);
  ASSERT_EQ(r.result.slo.size(), 1u);
  EXPECT_FALSE(r.result.slo[0].pass);
  EXPECT_LT(metric(r.result, "qps_achieved"), 0.8 * metric(r.result, "qps_scheduled"));
}

TEST(Server, WorkersServeOverlappingQueries) {
  RunSettings s;
  s.scenario = Scenario::kServer;
  s.qps = 400;
  s.iterations = 200;
  s.workers = 4;  // capacity 4 x 100 q/s
  s.seed = 2;
  const RunOutcome r = run("synthetic:mean=10ms", s);
  EXPECT_LT(metric(r.result, "latency_p50_ms"), 10.0 * 10);
  std::set<std::uint32_t> used;
  for (const auto& q : r.rec.queries) used.insert(q.worker);
  EXPECT_EQ(used.size(), 4u);
}

TEST(Offline, WorkersMultiplyThroughput) {
  RunSettings s;
  s.scenario = Scenario::kOffline;
  s.iterations = 200;
  s.workers = 4;
  const RunOutcome r = run("synthetic:mean=5ms", s);
  EXPECT_EQ(r.rec.queries.size(), 200u);
  EXPECT_GT(metric(r.result, "throughput_samples_per_s"), 2.5 * 200);
}

TEST(MultiStream, EachQueryCarriesItsSamples) {
  RunSettings s;
  s.scenario = Scenario::kMultiStream;
  s.samples_per_query = 4;
  s.iterations = 20;
  const RunOutcome r = run("synthetic:mean=1ms", s, 4);
  EXPECT_EQ(metric(r.result, "queries_total"), 20);
  EXPECT_EQ(metric(r.result, "samples_total"), 80);
  EXPECT_NEAR(metric(r.result, "throughput_samples_per_s"), 4 * metric(r.result, "throughput_queries_per_s"), 1e-6);
}

TEST(StopRule, IterationsAloneRunExactlyThatMany) {
  RunSettings s;
  s.iterations = 37;
  EXPECT_EQ(run("synthetic:mean=0", s).rec.queries.size(), 37u);
}

TEST(StopRule, DurationAloneRunsAtLeastThatLong) {
  RunSettings s;
  s.duration_ns = 150 * kMs;
  const RunOutcome r = run("synthetic:mean=1ms", s);
  EXPECT_GE(r.rec.queries.back().end_ns, 150 * kMs);
  EXPECT_GT(r.rec.queries.size(), 20u);
}

TEST(StopRule, BothGivenRunUntilBothMinimumsAreMet) {
  RunSettings a;
  a.iterations = 5;
  a.duration_ns = 100 * kMs;  // time is the binding minimum
  const RunOutcome ra = run("synthetic:mean=1ms", a);
  EXPECT_GE(ra.rec.queries.back().end_ns, 100 * kMs);
  EXPECT_GT(ra.rec.queries.size(), 5u);
  RunSettings b;
  b.iterations = 60;
  b.duration_ns = 5 * kMs;  // count is the binding minimum
  const RunOutcome rb = run("synthetic:mean=1ms", b);
  EXPECT_EQ(rb.rec.queries.size(), 60u);
}

TEST(StopRule, MaxDurationIsAHardStopAndSaysSo) {
  RunSettings s;
  s.iterations = 10'000;
  s.max_duration_ns = 100 * kMs;
  const RunOutcome r = run("synthetic:mean=5ms", s);
  EXPECT_LT(r.rec.queries.size(), 100u);
  EXPECT_TRUE(r.rec.hit_max_duration);
  bool warned = false;
  for (const auto& w : r.result.warnings) warned |= w.find("--max-duration") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(Warmup, RunsBeforeMeasuringAndIsNotMeasured) {
  RunSettings s;
  s.iterations = 10;
  s.warmup_iterations = 7;
  const RunOutcome r = run("synthetic:mean=0", s);
  EXPECT_EQ(r.rec.warmup_queries, 7u);
  EXPECT_EQ(r.rec.queries.size(), 10u);
  RunSettings t;
  t.iterations = 3;
  t.warmup_ns = 30 * kMs;
  const RunOutcome rt = run("synthetic:mean=1ms", t);
  EXPECT_GE(rt.rec.warmup_queries, 10u);
}

TEST(Errors, AreCountedByClassAndExcludedFromLatency) {
  RunSettings s;
  s.iterations = 20;
  const RunOutcome r = run("synthetic:mean=0,fail_every=4", s);
  EXPECT_EQ(r.rec.errors.total, 5u);
  EXPECT_EQ(r.rec.errors.by_class.at("synthetic_failure"), 5u);
  EXPECT_EQ(r.result.latency->summary_ns.count, 15u);
  EXPECT_DOUBLE_EQ(metric(r.result, "error_rate"), 0.25);
  EXPECT_EQ(metric(r.result, "errors_total"), 5);
  EXPECT_EQ(r.result.errors.examples.size(), 1u);
}

TEST(Errors, AllFailingQueriesGiveNoLatencyButAResult) {
  RunSettings s;
  s.iterations = 3;
  const RunOutcome r = run("synthetic:mean=0,fail_every=1", s);
  EXPECT_FALSE(r.result.latency.has_value());
  EXPECT_EQ(metric(r.result, "errors_total"), 3);
}

TEST(Server, OneCompletedQueryDefinesNoRateAndFailsItsCheck) {
  RunSettings s;
  s.scenario = Scenario::kServer;
  s.qps = 10;
  s.iterations = 1;
  const RunOutcome r = run("synthetic:mean=0", s);
  EXPECT_FALSE(r.result.metric_value("throughput_queries_per_s").has_value());
  EXPECT_FALSE(r.result.metric_value("qps_achieved").has_value());
  ASSERT_EQ(r.result.slo.size(), 1u);
  EXPECT_FALSE(r.result.slo[0].measured.has_value());
  EXPECT_FALSE(r.result.slo[0].pass);
}

TEST(Server, RejectsASchedulePastTheQueryLimitUpFront) {
  RunSettings s;
  s.scenario = Scenario::kServer;
  s.qps = 1e9;
  s.duration_ns = 1'000'000'000;
  auto w = workload::make_workload({.spec = "synthetic:mean=0"});
  EXPECT_THROW(run_scenario(*w, s), InputError);
}

TEST(Validate, RejectsContradictorySettings) {
  auto msg = [](RunSettings s) {
    try {
      validate(s);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  RunSettings none;
  EXPECT_NE(msg(none).find("--iterations, --duration"), std::string::npos);
  RunSettings server;
  server.iterations = 1;
  server.scenario = Scenario::kServer;
  EXPECT_NE(msg(server).find("needs --qps"), std::string::npos);
  RunSettings qps;
  qps.iterations = 1;
  qps.qps = 5;
  EXPECT_NE(msg(qps).find("server scenario only"), std::string::npos);
  RunSettings workers;
  workers.iterations = 1;
  workers.workers = 3;
  EXPECT_NE(msg(workers).find("--workers"), std::string::npos);
  RunSettings spq;
  spq.iterations = 1;
  spq.samples_per_query = 3;
  EXPECT_NE(msg(spq).find("multi-stream"), std::string::npos);
  RunSettings too_many;
  too_many.iterations = kMaxQueriesPerRun + 1;
  EXPECT_NE(msg(too_many).find("queries one run keeps exactly"), std::string::npos);
  EXPECT_THROW(parse_scenario("batch"), InputError);
  EXPECT_EQ(parse_scenario("offline"), Scenario::kOffline);
}

TEST(Result, CarriesScenarioWorkloadAndRegistryMetrics) {
  RunSettings s;
  s.iterations = 10;
  s.seed = 99;
  s.include_samples_in_result = true;
  const RunOutcome r = run("synthetic:mean=1ms", s);
  EXPECT_EQ(r.result.scenario.seed, 99u);
  EXPECT_EQ(r.result.workload.backend, "synthetic");
  EXPECT_TRUE(r.result.workload.synthetic);
  EXPECT_EQ(r.result.latency->samples_ns.size(), 10u);
  EXPECT_EQ(r.result.latency->histogram.count(), 10u);
  EXPECT_FALSE(r.result.metric_value("achieved_gflops").has_value()) << "FLOPs unknown: no GFLOP/s";
  for (const auto& m : r.result.metrics) EXPECT_NE(find_metric(m.name), nullptr) << m.name;
  bool synthetic_warned = false;
  for (const auto& w : r.result.warnings) synthetic_warned |= w.find("synthetic") != std::string::npos;
  EXPECT_TRUE(synthetic_warned);
  // Result and recording agree exactly.
  std::vector<std::int64_t> lat;
  for (const auto& q : r.rec.queries) lat.push_back(q.end_ns - q.start_ns);
  EXPECT_EQ(r.result.latency->summary_ns.max, *std::max_element(lat.begin(), lat.end()));
  const std::string json = to_json(r.result);
  EXPECT_EQ(to_json(result_from_json(json, "x")), json);
}

TEST(SamplesCsv, HasOneRowPerQueryWithLatencyFromTheScheduledTime) {
  RunSettings s;
  s.scenario = Scenario::kServer;
  s.qps = 200;
  s.iterations = 25;
  auto w = workload::make_workload({.spec = "synthetic:mean=1ms"});
  const RunRecording rec = run_scenario(*w, s);
  const auto path = std::filesystem::temp_directory_path() / ("trackiq_samples_" + new_run_id() + ".csv");
  write_samples_csv(rec, s.scenario, path.string());
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "query,worker,scheduled_ns,start_ns,end_ns,latency_ns,ok");
  std::size_t rows = 0;
  while (std::getline(in, line)) {
    long long q, wk, sched, start, end, lat, ok;
    ASSERT_EQ(std::sscanf(line.c_str(), "%lld,%lld,%lld,%lld,%lld,%lld,%lld", &q, &wk, &sched, &start, &end, &lat, &ok), 7)
        << line;
    EXPECT_EQ(lat, end - sched);
    EXPECT_LE(sched, start + 1'000'000);
    ++rows;
  }
  EXPECT_EQ(rows, 25u);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace trackiq::runner
