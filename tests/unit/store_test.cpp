// The SQLite store with real files: round trips, filters, migrations, atomicity, and two
// processes writing at once.
#include <gtest/gtest.h>

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "trackiq/core/error.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::store {
namespace {

namespace fs = std::filesystem;

struct TempStore {
  TempStore() : dir(fs::temp_directory_path() / ("trackiq_store_" + new_run_id())) { fs::create_directories(dir); }
  ~TempStore() { fs::remove_all(dir); }
  std::string path() const { return (dir / "trackiq.db").string(); }
  fs::path dir;
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
  r.latency = l;
  return r;
}

TEST(SqliteStore, RoundTripsAResultWithItsExactSamples) {
  TempStore t;
  auto st = open_store(t.path());
  const Result r = make_result("detector", "2026-11-01T10:00:00.000Z", 1000);
  st->save(r);
  const Result back = st->load(r.run_id.substr(0, 8));
  EXPECT_EQ(back.run_id, r.run_id);
  ASSERT_TRUE(back.latency);
  EXPECT_EQ(back.latency->samples_ns, r.latency->samples_ns);
  EXPECT_TRUE(back.latency->histogram == r.latency->histogram);
  EXPECT_EQ(back.labels.extra.at("team"), "vision");
  EXPECT_DOUBLE_EQ(*back.metric_value("latency_p99_ms"), 12.5);
  // A new handle on the same file sees it (the data is on disk, not in a cache).
  EXPECT_EQ(open_store(t.path())->list({}).size(), 1u);
}

TEST(SqliteStore, ListsNewestFirstWithFilters) {
  TempStore t;
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

TEST(SqliteStore, ResolvesIdPrefixesAndRefusesAmbiguityAndJunk) {
  TempStore t;
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

TEST(SqliteStore, RemovingARunRemovesItsMetricsAndSamples) {
  TempStore t;
  auto st = open_store(t.path());
  const Result r = make_result("detector", "2026-11-01T10:00:00.000Z");
  st->save(r);
  EXPECT_EQ(st->remove(r.run_id), r.run_id);
  EXPECT_TRUE(st->list({}).empty());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(t.path().c_str(), &db), SQLITE_OK);
  for (const char* table : {"metrics", "samples", "run_labels"}) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, (std::string("SELECT COUNT(*) FROM ") + table).c_str(), -1, &s, nullptr);
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(s, 0), 0) << table;
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  EXPECT_THROW(st->remove(r.run_id), InputError);
}

TEST(SqliteStore, AFailedSaveLeavesNothingBehind) {
  TempStore t;
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

TEST(SqliteStore, MigratesOnceAndRefusesANewerSchema) {
  TempStore t;
  open_store(t.path());
  open_store(t.path());  // idempotent
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(t.path().c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (999, 'future')", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  try {
    open_store(t.path());
    FAIL() << "opened a store from the future";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("newer than this trackiq"), std::string::npos) << e.what();
  }
}

TEST(SqliteStore, BaselinesArePerHardwareAndReplaceable) {
  TempStore t;
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
  st->remove(other.run_id);
  EXPECT_TRUE(st->list_baselines().empty()) << "a baseline goes with its run";
}

TEST(SqliteStore, PostgresqlIsNotAvailableYetAndSaysSo) {
  EXPECT_THROW(open_store("postgresql://localhost/trackiq"), NotAvailableError);
}

// Runs `body` in a child process; returns its exit status.
pid_t spawn(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    int rc = 1;
    try {
      rc = body();
    } catch (...) {
    }
    ::_exit(rc);
  }
  return pid;
}

TEST(SqliteStore, TwoProcessesWritingAtOnceLoseNothing) {
  TempStore t;
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

TEST(SqliteStore, AWriterKilledMidWriteLeavesNoPartialRun) {
  TempStore t;
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

}  // namespace
}  // namespace trackiq::store
