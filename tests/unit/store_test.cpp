// The results store against both backends with the same tests: a real SQLite file, and a real
// PostgreSQL 15 server started by the CTest fixture "postgres" (tests/support/postgres.sh) — round
// trips, filters, migrations, atomicity, and two processes writing at once.
#include <gtest/gtest.h>

#include <cstdio>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <tuple>
#include <random>

#include <fmt/format.h>

#include "store/sql.hpp"
#include "support/postgres.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::store {
namespace {

namespace fs = std::filesystem;

// A fresh, empty store for one test: a new SQLite file, or a new PostgreSQL database.
class TempStore {
 public:
  explicit TempStore(const std::string& backend) : backend_(backend) {
    if (backend == "sqlite") {
      dir_ = fs::temp_directory_path() / ("trackiq_store_" + new_run_id().substr(0, 8));
      fs::create_directories(dir_);
      location_ = (dir_ / "trackiq.db").string();
    } else {
      pg_ = std::make_unique<test::TempPostgresDb>();
      location_ = pg_->url();
    }
  }
  ~TempStore() {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  const std::string& path() const { return location_; }
  // A raw connection for looking under the store's interface.
  std::unique_ptr<sql::Connection> raw() const {
    return backend_ == "sqlite" ? sql::open_sqlite(location_) : sql::open_postgres(location_);
  }
  std::int64_t count(const std::string& table) const { return raw()->query("SELECT COUNT(*) FROM " + table).at(0).integer(0); }

 private:
  std::string backend_, location_;
  fs::path dir_;
  std::unique_ptr<test::TempPostgresDb> pg_;
};

class Store : public ::testing::TestWithParam<std::string> {
 protected:
  TempStore t{GetParam()};
};

Result make_result(const std::string& product, const std::string& started_at, std::size_t samples = 100) {
  Result r;
  r.tool_version = "0.1.0";
  r.run_id = new_run_id();
  r.started_at = started_at;
  r.finished_at = started_at;
  r.environment.hostname = "host";
  r.environment.hardware_fingerprint = product == "other-hw" ? "ffffffffffffffff" : "0123456789abcdef";
  r.labels.product = product;
  r.labels.version = "1.0";
  r.labels.extra["team"] = product == "detector" ? "vision" : "speech";
  r.workload.backend = "synthetic";
  r.workload.model = "synthetic";
  r.scenario.name = "single-stream";
  r.scenario.iterations = samples;
  r.metrics = {{"latency_p99_ms", 12.5}, {"throughput_samples_per_s", 80.0, ValueKind::kDerived}};
  LatencyData l;
  std::mt19937_64 rng(samples);
  for (std::size_t i = 0; i < samples; ++i) {
    const auto v = static_cast<std::int64_t>(1'000'000 + rng() % 1'000'000);
    l.samples_ns.push_back(v);
    l.histogram.record(v);
  }
  l.summary_ns = summarize(l.samples_ns);
  for (std::size_t i = 0; i < l.samples_ns.size(); ++i) l.sample_end_ns.push_back(static_cast<std::int64_t>(i) * 1000 + 7);
  r.latency = l;
  return r;
}

TEST_P(Store, RoundTripsAResultWithItsExactSamples) {
  auto st = open_store(t.path());
  const Result r = make_result("detector", "2026-11-01T10:00:00.000Z", 1000);
  st->save(r);
  const Result back = st->load(r.run_id.substr(0, 8));
  EXPECT_EQ(back.run_id, r.run_id);
  ASSERT_TRUE(back.latency);
  EXPECT_EQ(back.latency->samples_ns, r.latency->samples_ns);
  EXPECT_EQ(back.latency->sample_end_ns, r.latency->sample_end_ns);
  EXPECT_TRUE(back.latency->histogram == r.latency->histogram);
  EXPECT_EQ(back.labels.extra.at("team"), "vision");
  EXPECT_DOUBLE_EQ(*back.metric_value("latency_p99_ms"), 12.5);
  // A new handle on the same file sees it (the data is on disk, not in a cache).
  EXPECT_EQ(open_store(t.path())->list({}).size(), 1u);
}

TEST_P(Store, ListsNewestFirstWithFilters) {
  auto st = open_store(t.path());
  st->save(make_result("detector", "2026-11-01T10:00:00.000Z"));
  st->save(make_result("detector", "2026-11-03T10:00:00.000Z"));
  st->save(make_result("speech", "2026-11-02T10:00:00.000Z"));
  st->save(make_result("other-hw", "2026-11-04T10:00:00.000Z"));
  const auto all = st->list({});
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].started_at, "2026-11-04T10:00:00.000Z");
  EXPECT_EQ(all[3].samples, 100u);
  EXPECT_EQ(st->list({.product = "detector"}).size(), 2u);
  EXPECT_EQ(st->list({.hardware = "ffff"}).size(), 1u);
  EXPECT_EQ(st->list({.labels = {{"team", "speech"}}}).size(), 2u);
  EXPECT_EQ(st->list({.since = "2026-11-02", .until = "2026-11-04"}).size(), 2u);
  EXPECT_EQ(st->list({.limit = 1}).size(), 1u);
  // A quote in a filter is data, not SQL.
  EXPECT_TRUE(st->list({.product = "x' OR '1'='1"}).empty());
}

TEST_P(Store, FiltersByVersionAndScenarioAndPagesAfterARun) {
  auto st = open_store(t.path());
  Result a = make_result("detector", "2026-11-01T10:00:00.000Z");
  Result b = make_result("detector", "2026-11-02T10:00:00.000Z");
  b.labels.version = "2.0";
  b.scenario.name = "server";
  Result c = make_result("detector", "2026-11-02T10:00:00.000Z");  // the same time as b: the key breaks the tie
  Result d = make_result("detector", "2026-11-03T10:00:00.000Z");
  for (const auto* r : {&a, &b, &c, &d}) st->save(*r);
  EXPECT_EQ(st->list({.version = "2.0"}).size(), 1u);
  EXPECT_EQ(st->list({.scenario = "server"}).at(0).run_id, b.run_id);
  EXPECT_EQ(st->list({.version = "1.0", .scenario = "single-stream"}).size(), 3u);
  // Pages of one walk the newest-first order, each run once.
  std::vector<std::string> walked;
  RunFilter page{.limit = 1};
  while (true) {
    const auto got = st->list(page);
    if (got.empty()) break;
    walked.push_back(got[0].run_id);
    page.after = {{got[0].started_at, got[0].run_id}};
  }
  std::vector<std::string> all;
  for (const auto& r : st->list({.limit = 0})) all.push_back(r.run_id);
  EXPECT_EQ(walked, all);
  EXPECT_EQ(walked.size(), 4u);
}

TEST_P(Store, ResolvesIdPrefixesAndRefusesAmbiguityAndJunk) {
  auto st = open_store(t.path());
  const Result r = make_result("detector", "2026-11-01T10:00:00.000Z");
  st->save(r);
  EXPECT_THROW(st->load("abc"), InputError);             // too short
  EXPECT_THROW(st->load("../../etc/passwd"), InputError);  // not an id
  EXPECT_THROW(st->load("ffffffff"), InputError);        // no such run
  Result twin = make_result("detector", "2026-11-01T10:00:00.000Z");
  twin.run_id = r.run_id.substr(0, 8) + "-0000-4000-8000-000000000000";
  st->save(twin);
  try {
    st->load(r.run_id.substr(0, 8));
    FAIL() << "ambiguous prefix accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("ambiguous"), std::string::npos);
  }
}

TEST_P(Store, RemovingARunRemovesItsMetricsAndSamples) {
  auto st = open_store(t.path());
  const Result r = make_result("detector", "2026-11-01T10:00:00.000Z");
  st->save(r);
  EXPECT_EQ(st->remove(r.run_id, false), r.run_id);
  EXPECT_TRUE(st->list({}).empty());
  for (const char* table : {"runs", "metrics", "samples", "run_labels", "telemetry"}) EXPECT_EQ(t.count(table), 0) << table;
  EXPECT_THROW(st->remove(r.run_id, false), InputError);
}

TEST_P(Store, AFailedSaveLeavesNothingBehind) {
  auto st = open_store(t.path());
  const Result r = make_result("detector", "2026-11-01T10:00:00.000Z");
  st->save(r);
  Result dup = make_result("speech", "2026-11-02T10:00:00.000Z");
  dup.run_id = r.run_id;  // violates UNIQUE after other rows were prepared
  EXPECT_THROW(st->save(dup), Error);
  const auto runs = st->list({});
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].product, "detector");
}

TEST_P(Store, MigratesOnceAndRefusesANewerSchema) {
  open_store(t.path());
  open_store(t.path());  // idempotent
  EXPECT_EQ(t.count("schema_migrations"), schema_version());
  t.raw()->query("INSERT INTO schema_migrations VALUES (999, 'future')");
  try {
    open_store(t.path());
    FAIL() << "opened a store from the future";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("newer than this trackiq"), std::string::npos) << e.what();
  }
}

TEST_P(Store, BaselinesArePerHardwareAndReplaceable) {
  auto st = open_store(t.path());
  const Result a = make_result("detector", "2026-11-01T10:00:00.000Z");
  const Result b = make_result("detector", "2026-11-02T10:00:00.000Z");
  const Result other = make_result("other-hw", "2026-11-03T10:00:00.000Z");
  st->save(a);
  st->save(b);
  st->save(other);
  EXPECT_EQ(st->save_baseline("main", a.run_id.substr(0, 8)).run_id, a.run_id);
  EXPECT_EQ(st->save_baseline("main", b.run_id).run_id, b.run_id) << "same name, same hardware: replaced";
  EXPECT_EQ(st->save_baseline("main", other.run_id).hardware_fingerprint, "ffffffffffffffff");
  EXPECT_EQ(st->list_baselines().size(), 2u);
  EXPECT_EQ(st->find_baseline("main", "0123456789abcdef").run_id, b.run_id);
  EXPECT_THROW(st->find_baseline("main", ""), InputError) << "two hardware fingerprints: ambiguous";
  EXPECT_THROW(st->find_baseline("release", ""), InputError);
  EXPECT_EQ(st->save_baseline("latest", "").run_id, other.run_id) << "no run given: the newest";
  EXPECT_THROW(st->save_baseline("bad name", ""), InputError);
  EXPECT_EQ(st->remove_baseline("main", ""), 2u);
  EXPECT_THROW(st->remove_baseline("main", ""), InputError);
  // A baseline's run is not removed behind the baseline's back: the refusal names it, and
  // with_baselines removes both.
  try {
    st->remove(other.run_id.substr(0, 8), false);
    ADD_FAILURE() << "removed the run of baseline 'latest'";
  } catch (const BaselineRunError& e) {
    EXPECT_NE(std::string(e.what()).find("is the run of baseline 'latest'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(st->list_baselines().size(), 1u);
  EXPECT_EQ(st->load(other.run_id).run_id, other.run_id) << "refused: nothing removed";
  EXPECT_EQ(st->remove(other.run_id, true), other.run_id);
  EXPECT_TRUE(st->list_baselines().empty()) << "a baseline goes with its run";
}

TEST_P(Store, SavesAnImportAllOrNothing) {
  auto st = open_store(t.path());
  std::vector<Result> batch = {make_result("detector", "2026-11-01T10:00:00.000Z"),
                               make_result("detector", "2026-11-02T10:00:00.000Z")};
  st->save_all(batch);
  EXPECT_EQ(st->list({}).size(), 2u);
  batch = {make_result("speech", "2026-11-03T10:00:00.000Z"), make_result("speech", "2026-11-04T10:00:00.000Z")};
  batch[1].run_id = batch[0].run_id;  // the second run fails after the first was written
  EXPECT_THROW(st->save_all(batch), Error);
  EXPECT_EQ(st->list({}).size(), 2u) << "the first run of the failed batch was rolled back";
  EXPECT_TRUE(st->list({.product = "speech"}).empty());
}

TEST_P(Store, KeepsTheTelemetrySeriesWithNoValueGaps) {
  auto st = open_store(t.path());
  Result r = make_result("detector", "2026-11-01T10:00:00.000Z");
  TelemetrySeries ts;
  ts.names = {"cpu.util_pct", "gpu0.power_w"};
  ts.units = {"%", "W"};
  ts.t_ns = {0, 100'000'000, 200'000'000};
  ts.values = {12.5, 250.25, 13.0, std::numeric_limits<double>::quiet_NaN(), 0.1 + 0.2, 1e-300};
  r.telemetry.available = true;
  r.telemetry.series = ts;
  st->save(r);
  const Result back = st->load(r.run_id);
  ASSERT_TRUE(back.telemetry.series);
  EXPECT_TRUE(*back.telemetry.series == ts) << "bit-exact values, NaN kept as no value";
  EXPECT_TRUE(std::isnan(back.telemetry.series->values[3]));
  EXPECT_EQ(t.count("telemetry"), 1);
  // A run without telemetry loads without a series.
  const Result plain = make_result("detector", "2026-11-02T10:00:00.000Z");
  st->save(plain);
  EXPECT_FALSE(st->load(plain.run_id).telemetry.series);
}

TEST_P(Store, KeepsExtremeSampleValuesExactly) {
  auto st = open_store(t.path());
  Result r = make_result("detector", "2026-11-01T10:00:00.000Z", 3);
  r.latency->samples_ns = {0, 1, std::numeric_limits<std::int64_t>::max(), -1, 255, 256};
  r.latency->sample_end_ns.clear();  // not recorded (as for imports): stored as NULL
  r.metrics = {{"latency_p99_ms", 0.1 + 0.2}};
  st->save(r);
  const Result back = st->load(r.run_id);
  EXPECT_EQ(back.latency->samples_ns, r.latency->samples_ns);
  EXPECT_TRUE(back.latency->sample_end_ns.empty());
  EXPECT_EQ(*back.metric_value("latency_p99_ms"), 0.1 + 0.2) << "doubles round-trip exactly";
  EXPECT_EQ(t.raw()->query("SELECT value FROM metrics").at(0).real(0), 0.1 + 0.2);
}

// Runs `body` in a child process; returns its exit status.
pid_t spawn(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    int rc = 1;
    try {
      rc = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child %d: %s\n", static_cast<int>(::getpid()), e.what());  // shown by the failing test
    } catch (...) {
    }
    ::_exit(rc);
  }
  return pid;
}

TEST_P(Store, TwoProcessesWritingAtOnceLoseNothing) {
  open_store(t.path());  // create and migrate first
  auto writer = [&](const char* product) {
    return spawn([&, product] {
      auto st = open_store(t.path());
      for (int i = 0; i < 200; ++i) st->save(make_result(product, "2026-11-01T10:00:00.000Z", 50));
      return 0;
    });
  };
  const pid_t a = writer("detector"), b = writer("speech");
  int sa = 0, sb = 0;
  ::waitpid(a, &sa, 0);
  ::waitpid(b, &sb, 0);
  EXPECT_EQ(WEXITSTATUS(sa), 0);
  EXPECT_EQ(WEXITSTATUS(sb), 0);
  auto st = open_store(t.path());
  EXPECT_EQ(st->list({.limit = 0}).size(), 400u);
  EXPECT_EQ(st->list({.product = "speech", .limit = 0}).size(), 200u);
}

TEST_P(Store, ProcessesOpeningAFreshStoreAtOnceAllSucceed) {
  // Two CI jobs starting on an empty database: both create and migrate it at the same moment.
  for (int round = 0; round < 3; ++round) {
    TempStore fresh{GetParam()};
    std::vector<pid_t> pids;
    for (int i = 0; i < 4; ++i)
      pids.push_back(spawn([&] {
        open_store(fresh.path())->save(make_result("detector", "2026-11-01T10:00:00.000Z", 10));
        return 0;
      }));
    for (const pid_t p : pids) {
      int status = 0;
      ::waitpid(p, &status, 0);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round;
    }
    EXPECT_EQ(open_store(fresh.path())->list({.limit = 0}).size(), 4u);
    EXPECT_EQ(fresh.count("schema_migrations"), schema_version());
  }
}

TEST_P(Store, AWriterKilledMidWriteLeavesNoPartialRun) {
  open_store(t.path());
  const pid_t w = spawn([&] {
    auto st = open_store(t.path());
    for (;;) st->save(make_result("detector", "2026-11-01T10:00:00.000Z", 20'000));
    return 0;
  });
  ::usleep(400'000);
  ::kill(w, SIGKILL);
  int status = 0;
  ::waitpid(w, &status, 0);
  auto st = open_store(t.path());
  const auto runs = st->list({.limit = 0});
  EXPECT_GT(runs.size(), 0u) << "the writer should have stored some runs in 400 ms";
  for (const auto& s : runs) {
    ASSERT_EQ(s.samples, 20'000u) << s.run_id;
    const Result r = st->load(s.run_id);
    EXPECT_EQ(r.metrics.size(), 2u);
  }
}

TEST_P(Store, SeriesGroupKeysAndMetricsInTimeOrderAndKeepDetectState) {
  auto st = open_store(t.path());
  std::vector<Result> runs;
  for (int i = 0; i < 3; ++i) {
    Result r = make_result("detector", fmt::format("2026-11-0{}T10:00:00.000Z", 3 - i), 2);  // saved newest first
    r.metrics[0].value = 10.0 + i;
    r.labels.commit = fmt::format("c{}", i);
    runs.push_back(r);
  }
  runs.push_back(make_result("other-hw", "2026-11-05T10:00:00.000Z", 2));
  st->save_all(runs);
  const auto all = st->series({}, "");
  ASSERT_EQ(all.size(), 4u);  // 2 keys x 2 metrics
  const auto p99 = st->series({.product = "detector"}, "latency_p99_ms");
  ASSERT_EQ(p99.size(), 1u);
  EXPECT_EQ(p99[0].key.workload, "synthetic:synthetic");
  EXPECT_EQ(p99[0].key.hardware_fingerprint, "0123456789abcdef");
  ASSERT_EQ(p99[0].points.size(), 3u);
  EXPECT_EQ(p99[0].points[0].run_id(), runs[2].run_id);  // oldest first
  EXPECT_EQ(p99[0].points[0].value, 12.0);
  EXPECT_EQ(p99[0].points[0].commit(), "c2");
  EXPECT_EQ(p99[0].points[2].started_at(), "2026-11-03T10:00:00.000Z");
  EXPECT_EQ(st->series({.hardware = "ffff"}, "latency_p99_ms").size(), 1u);
  EXPECT_EQ(st->series({.labels = {{"team", "vision"}}}, "").size(), 2u);
  EXPECT_TRUE(st->series({.workload = "torch:x"}, "").empty());
  EXPECT_TRUE(st->series({.scenario = "offline"}, "").empty());
  const auto only = st->series({.metrics = {"throughput_samples_per_s", "latency_p50_ms"}}, "");
  ASSERT_EQ(only.size(), 2u);  // two keys, one of the two metrics stored
  for (const auto& s : only) EXPECT_EQ(s.metric, "throughput_samples_per_s");

  EXPECT_TRUE(st->series_states().empty());
  st->save_series_states({{"k", "latency_p99_ms", 3, runs[0].run_id, "{}"}});
  st->save_series_states({{"k", "latency_p99_ms", 4, runs[3].run_id, "{\"x\":1}"}, {"k", "m2", 1, "r", "{}"}});
  auto states = open_store(t.path())->series_states();
  std::sort(states.begin(), states.end(), [](const auto& a, const auto& b) { return a.metric < b.metric; });
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].count, 4u);
  EXPECT_EQ(states[0].last_run, runs[3].run_id);
  EXPECT_EQ(states[0].state, "{\"x\":1}");
}

// The streaming read of the SQL layer: typed columns in place, NULLs, bound parameters, and an
// exception from the callback that stops the statement and leaves the connection usable.
TEST_P(Store, EachStreamsTypedColumnsAndStopsOnAnException) {
  open_store(t.path());  // the schema
  auto db = t.raw();
  db->exec_script("CREATE TABLE t (i BIGINT, x DOUBLE PRECISION, s TEXT)");
  db->query("INSERT INTO t (i, x, s) VALUES (?1, ?2, ?3)", {std::int64_t{-9'007'199'254'740'993}, 0.1, std::string("a")});
  db->query("INSERT INTO t (i, x, s) VALUES (?1, ?2, ?3)", {std::int64_t{2}, 1e300, std::string("h\xc3\xa9llo")});
  db->query("INSERT INTO t (i) VALUES (3)");
  struct Seen {
    std::int64_t i;
    double x;
    std::string s;
    bool null;
  };
  std::vector<Seen> seen;
  db->each("SELECT i, x, s FROM t WHERE i <> ?1 ORDER BY i", {std::int64_t{99}}, [&](const sql::RowView& r) {
    seen.push_back({r.integer(0), r.real(1), std::string(r.text(2)), r.is_null(2)});
  });
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].i, -9'007'199'254'740'993);  // beyond a double's exact integers
  EXPECT_EQ(seen[0].x, 0.1);                      // the same double, not a rounded text
  EXPECT_EQ(seen[0].s, "a");
  EXPECT_EQ(seen[1].x, 1e300);
  EXPECT_EQ(seen[1].s, "h\xc3\xa9llo");
  EXPECT_FALSE(seen[1].null);
  EXPECT_TRUE(seen[2].null);
  EXPECT_EQ(seen[2].s, "");
  EXPECT_EQ(seen[2].x, 0.0);

  std::size_t calls = 0;
  EXPECT_THROW(db->each("SELECT i FROM t", {}, [&](const sql::RowView&) { ++calls, throw InputError("stop"); }), InputError);
  EXPECT_EQ(calls, 1u);
  EXPECT_EQ(db->query("SELECT COUNT(*) FROM t").at(0).integer(0), 3);  // still usable
  EXPECT_THROW(db->each("SELECT nope FROM t", {}, [](const sql::RowView&) {}), Error);
}

// A series is one configuration: batch 1 and batch 8 of one model (and two synthetic service
// times, two target rates) are separate series, never one history; the configuration is the
// key's, filterable, and part of the detect state's series text.
TEST_P(Store, RunsOfDifferentConfigurationsAreDifferentSeries) {
  auto st = open_store(t.path());
  std::vector<Result> runs;
  for (int i = 0; i < 6; ++i) {
    Result r = make_result("detector", fmt::format("2026-11-0{}T10:00:00.000Z", 1 + i), 2);
    if (i % 2) r.workload.batch_size = 8;
    if (i == 5) r.workload.threads = 4;
    if (i == 3) r.workload.options["mean_ns"] = "5000000";  // a synthetic workload's model: the same series
    runs.push_back(r);
  }
  st->save_all(runs);
  const auto p99 = st->series({.product = "detector"}, "latency_p99_ms");
  ASSERT_EQ(p99.size(), 3u);
  std::map<std::string, std::size_t> sizes;
  for (const auto& s : p99) sizes[s.key.config] = s.points.size();
  EXPECT_EQ(sizes["batch=1 device=cpu threads=1 workers=1"], 3u);
  EXPECT_EQ(sizes["batch=8 device=cpu threads=1 workers=1"], 2u);
  EXPECT_EQ(sizes["batch=8 device=cpu threads=4 workers=1"], 1u);
  const auto one = st->series({.product = "detector", .config = "batch=8 device=cpu threads=1 workers=1"},
                              "latency_p99_ms");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].points[0].run_id(), runs[1].run_id);
  EXPECT_NE(one[0].key.text().find("/ batch=8 device=cpu"), std::string::npos) << one[0].key.text();
  Result server = runs[0];
  server.scenario.qps = 200;
  server.scenario.workers = 2;
  EXPECT_EQ(series_config(server), "batch=1 device=cpu threads=1 workers=2 qps=200");
  Result transformer = runs[0];
  transformer.workload.backend = "builtin";
  transformer.workload.options = {{"seq_len", "256"}};
  transformer.workload.precision = "bf16";
  EXPECT_EQ(series_config(transformer), "batch=1 precision=bf16 device=cpu threads=1 workers=1 seq_len=256");
}

// Stores written before the configuration was part of the key (schema 5) get each run's
// configuration from its result document when they are opened, and lose their detect states
// (keyed by the old series text; the next detect computes them in full).
TEST_P(Store, MigrationSixGivesStoredRunsTheirConfiguration) {
  {
    auto st = open_store(t.path());
    Result a = make_result("detector", "2026-11-01T10:00:00.000Z", 2), b = make_result("detector", "2026-11-02T10:00:00.000Z", 2);
    b.workload.batch_size = 4;
    st->save_all({a, b});
    st->save_series_states({{"detector / 0123456789abcdef / synthetic:synthetic / single-stream", "latency_p99_ms", 2, b.run_id, "{}"}});
  }
  // Back to schema 5: no config column, the old index; and a third run whose stored document this
  // build cannot read, which must not make the store unopenable.
  {
    auto st = open_store(t.path());
    Result c = make_result("detector", "2026-11-03T10:00:00.000Z", 2);
    c.workload.batch_size = 2;
    st->save(c);
    t.raw()->query("UPDATE runs SET result_json = '{\"schema_version\": \"999.0\"}' WHERE run_id = ?1", {c.run_id});
  }
  t.raw()->exec_script("DROP INDEX runs_by_series; ALTER TABLE runs DROP COLUMN config; "
                       "CREATE INDEX runs_by_series ON runs (product, hardware_fingerprint, backend, model, scenario, "
                       "started_at, id, run_id, version, commit_sha); DELETE FROM schema_migrations WHERE version = 6;");
  auto st = open_store(t.path());
  EXPECT_EQ(t.count("schema_migrations"), schema_version());
  const auto p99 = st->series({}, "latency_p99_ms");
  ASSERT_EQ(p99.size(), 3u);
  EXPECT_EQ(p99[0].key.config, "") << "the unreadable document: a series of its own";
  EXPECT_EQ(p99[1].key.config, "batch=1 device=cpu threads=1 workers=1");
  EXPECT_EQ(p99[2].key.config, "batch=4 device=cpu threads=1 workers=1");
  EXPECT_TRUE(st->series_states().empty());
}

// series() against the plain reading it replaced (every metric row as text, grouped in a map): the
// same series, the same points in the same order, on runs saved out of time order, with a run
// removed (a gap in the ids) and runs holding different metrics; and one SeriesRun per run.
TEST_P(Store, SeriesMatchesAPlainGroupingOfTheRows) {
  auto st = open_store(t.path());
  std::mt19937_64 rng(7);
  std::vector<Result> runs;
  const char* names[] = {"latency_p99_ms", "latency_p50_ms", "throughput_samples_per_s", "latency_mean_ms"};
  for (int i = 0; i < 60; ++i) {
    Result r = make_result(i % 3 == 0 ? "detector" : i % 3 == 1 ? "other-hw" : "classifier",
                           fmt::format("2026-11-{:02}T10:{:02}:00.000Z", 1 + rng() % 28, rng() % 60), 1);
    if (i % 3 == 2 && i % 2 == 0) r.workload.batch_size = 8;  // classifier: two configurations, two series
    r.labels.commit = fmt::format("c{}", i);
    r.labels.version = fmt::format("1.{}", i);
    r.metrics.clear();
    for (const char* n : names)
      if (rng() % 4 != 0) r.metrics.push_back({n, static_cast<double>(rng() % 1000) / 7.0});
    runs.push_back(r);
  }
  st->save_all(runs);
  st->remove(runs[10].run_id, false);
  st->remove(runs[31].run_id, false);

  // The reference: (key, metric) → points sorted by (started_at, insertion order).
  std::map<std::pair<SeriesKey, std::string>, std::vector<std::tuple<std::string, std::int64_t, std::string, double>>> ref;
  for (const auto& q : t.raw()->query("SELECT r.product, r.hardware_fingerprint, r.backend || ':' || r.model, r.scenario, "
                                      "m.name, r.started_at, r.id, r.run_id, m.value, r.config FROM runs r JOIN metrics m ON m.run = r.id"))
    ref[{SeriesKey{q.text(0), q.text(1), q.text(2), q.text(3), q.text(9)}, q.text(4)}].emplace_back(q.text(5), q.integer(6),
                                                                                                  q.text(7), q.real(8));
  const auto all = st->series({}, "");
  ASSERT_EQ(all.size(), ref.size());
  auto it = ref.begin();
  std::size_t points = 0;
  for (const auto& s : all) {
    EXPECT_EQ(s.key, it->first.first);
    EXPECT_EQ(s.metric, it->first.second);
    auto want = it->second;
    std::sort(want.begin(), want.end());
    ASSERT_EQ(s.points.size(), want.size()) << s.key.text() << " " << s.metric;
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(s.points[i].run_id(), std::get<2>(want[i]));
      EXPECT_EQ(s.points[i].started_at(), std::get<0>(want[i]));
      EXPECT_EQ(s.points[i].value, std::get<3>(want[i]));
    }
    points += s.points.size();
    ++it;
  }
  EXPECT_GT(points, 100u);
  // A run's points in its metrics' series share its identity.
  const auto p99 = st->series({.product = "detector"}, "latency_p99_ms");
  const auto p50 = st->series({.product = "detector"}, "latency_p50_ms");
  ASSERT_EQ(p99.size(), 1u);
  ASSERT_EQ(p50.size(), 1u);
  std::map<std::string, const SeriesRun*> seen;
  for (const auto& s : all)
    for (const auto& p : s.points) {
      const auto [at, fresh] = seen.emplace(p.run_id(), p.run.get());
      EXPECT_EQ(at->second, p.run.get()) << p.run_id();
    }
  std::size_t with_metrics = 0;
  for (std::size_t i = 0; i < runs.size(); ++i) with_metrics += i != 10 && i != 31 && !runs[i].metrics.empty();
  EXPECT_EQ(seen.size(), with_metrics);
  for (const auto& p : p99[0].points) EXPECT_EQ(p.version(), "1." + p.commit().substr(1));
}

// Store::generation() (the answer cache of `serve`): unchanged by reads, changed by every kind of
// write, by this object or by another connection to the same store, and only then.
TEST_P(Store, GenerationChangesExactlyWhenAWriteIsCommitted) {
  auto st = open_store(t.path());
  auto other = open_store(t.path());  // another process's connection, as far as the store can tell
  std::uint64_t g = st->generation();
  const auto changed = [&](const char* what) {
    const std::uint64_t now = st->generation();
    EXPECT_NE(now, g) << what << ": the generation did not change";
    EXPECT_EQ(st->generation(), now) << what << ": it changed again without a write";
    g = now;
  };
  const auto unchanged = [&](const char* what) { EXPECT_EQ(st->generation(), g) << what; };

  const Result a = make_result("detector", "2026-11-01T10:00:00.000Z");
  const Result b = make_result("detector", "2026-11-02T10:00:00.000Z");
  unchanged("nothing happened");
  st->save(a);
  changed("save on this connection");
  (void)st->list({});
  (void)st->load(a.run_id);
  (void)other->list({});
  (void)other->list_baselines();
  unchanged("reads");
  other->save(b);
  changed("save on another connection");
  other->save_baseline("nightly", b.run_id);
  changed("baseline saved on another connection");
  st->remove_baseline("nightly", "");
  changed("baseline removed");
  EXPECT_THROW(st->save(a), Error);  // a duplicate: rolled back, nothing visible changed
  EXPECT_EQ(st->list({}).size(), 2u);
  unchanged("a refused duplicate");
  other->remove(a.run_id, false);
  changed("run removed on another connection");
  st->save_series_states({{"k", "latency_p99_ms", 1, b.run_id, "{}"}});
  changed("detect state saved");
  unchanged("after all");

  // Its cost, for docs/performance.md §14 (printed, not asserted).
  const auto start = std::chrono::steady_clock::now();
  constexpr int kCalls = 2000;
  for (int i = 0; i < kCalls; ++i) (void)st->generation();
  std::printf("generation() on %s: %.2f us per call\n", GetParam().c_str(),
              std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / kCalls);
}

INSTANTIATE_TEST_SUITE_P(Backends, Store, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(PostgresStore, AnUnreachableServerIsAClearErrorWithoutThePassword) {
  try {
    // Port 1 on loopback: nothing listens there.
    open_store("postgresql://someone:s3cret@127.0.0.1:1/trackiq?connect_timeout=5");
    FAIL() << "connected to nothing";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot connect to the PostgreSQL store"), std::string::npos) << what;
    EXPECT_EQ(what.find("s3cret"), std::string::npos) << "the password leaked: " << what;
  }
}

TEST(PostgresStore, RedactsPasswordsInLocations) {
  EXPECT_EQ(sql::redact_url("postgresql://u:pw@h:5/db"), "postgresql://u:***@h:5/db");
  EXPECT_EQ(sql::redact_url("postgresql://u@h/db?password=pw&sslmode=require"),
            "postgresql://u@h/db?password=***&sslmode=require");
  EXPECT_EQ(sql::redact_url("postgresql://h/db"), "postgresql://h/db");
  EXPECT_EQ(sql::redact_url("/tmp/a:b@c/store.db"), "/tmp/a:b@c/store.db");
}

// The noise source names the whole series key, the version included: runs of other versions
// of the same product are not the baseline's run-to-run noise, and the note must not read as if
// they had been forgotten.
TEST(SeriesHistory, TheSourceNamesTheVersionOfTheSeries) {
  Result base;
  base.labels.product = "detector";
  base.labels.version = "2.1";
  base.workload.backend = "builtin";
  base.workload.model = "mlp";
  base.scenario.name = "offline";
  base.environment.hardware_fingerprint = "abc123";
  EXPECT_EQ(series_history_source(base, 1),
            "the stored history of the baseline's series (1 run of detector 2.1 builtin:mlp offline on abc123)");
  base.labels.version.clear();
  EXPECT_EQ(series_history_source(base, 3),
            "the stored history of the baseline's series (3 runs of detector builtin:mlp offline on abc123)");
}

}  // namespace
}  // namespace trackiq::store
