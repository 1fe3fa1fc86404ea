// SQLite backend of the results store: one file, WAL, a busy timeout for concurrent writers,
// versioned migrations, prepared statements only, one transaction per run.
#include <sqlite3.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::store {
namespace {

// Migrations, applied in order, each in its own transaction; never edit a released one.
constexpr const char* kMigrations[] = {
    // 1: runs, labels, metrics, samples, baselines.
    R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL UNIQUE,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  product TEXT NOT NULL,
  version TEXT NOT NULL,
  branch TEXT NOT NULL,
  commit_sha TEXT NOT NULL,
  ci INTEGER NOT NULL,
  hardware_fingerprint TEXT NOT NULL,
  hostname TEXT NOT NULL,
  backend TEXT NOT NULL,
  model TEXT NOT NULL,
  scenario TEXT NOT NULL,
  result_json TEXT NOT NULL
);
CREATE INDEX runs_by_product ON runs (product, hardware_fingerprint, started_at);
CREATE INDEX runs_by_time ON runs (started_at);
CREATE TABLE run_labels (
  run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run, key)
);
CREATE TABLE metrics (
  run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  unit TEXT NOT NULL,
  direction TEXT NOT NULL,
  kind TEXT NOT NULL,
  PRIMARY KEY (run, name)
);
CREATE TABLE samples (
  run INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  count INTEGER NOT NULL,
  latency_ns BLOB NOT NULL,
  histogram TEXT NOT NULL
);
CREATE TABLE baselines (
  name TEXT NOT NULL,
  hardware_fingerprint TEXT NOT NULL,
  run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  PRIMARY KEY (name, hardware_fingerprint)
);
)sql",
};

class Db {
 public:
  explicit Db(const std::string& path) : path_(path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
      const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw Error(fmt::format("{}: cannot open the store: {}", path, why));
    }
    sqlite3_busy_timeout(db_, 30'000);
    sqlite3_extended_result_codes(db_, 1);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(fmt::format("{}: {}: {}", path_, what, sqlite3_errmsg(db_)));
  }
  void exec(const char* sql) const {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string why = err ? err : "unknown error";
      sqlite3_free(err);
      throw Error(fmt::format("{}: {}", path_, why));
    }
  }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  Stmt(const Db& db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &s_, nullptr) != SQLITE_OK) db.fail("prepare failed");
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& bind(int i, const std::string& v) {
    check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    check(sqlite3_bind_int64(s_, i, v));
    return *this;
  }
  Stmt& bind(int i, double v) {
    check(sqlite3_bind_double(s_, i, v));
    return *this;
  }
  Stmt& bind_blob(int i, const void* data, std::size_t n) {
    check(sqlite3_bind_blob64(s_, i, data, n, SQLITE_TRANSIENT));
    return *this;
  }
  // True while there is a row; false when done. Error otherwise.
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_.fail("statement failed");
  }
  void run() {
    while (step()) {
    }
  }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col))) : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }
  std::vector<std::int64_t> int64_blob(int col) const {
    const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(s_, col));
    const auto n = static_cast<std::size_t>(sqlite3_column_bytes(s_, col)) / 8;
    std::vector<std::int64_t> out(n);
    for (std::size_t i = 0; i < n; ++i) {  // little-endian on disk, whatever the host
      std::uint64_t v = 0;
      for (int b = 7; b >= 0; --b) v = (v << 8) | p[i * 8 + static_cast<std::size_t>(b)];
      out[i] = static_cast<std::int64_t>(v);
    }
    return out;
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) db_.fail("bind failed");
  }
  const Db& db_;
  sqlite3_stmt* s_ = nullptr;
};

// Rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(const Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    db_.exec("COMMIT");
    done_ = true;
  }

 private:
  const Db& db_;
  bool done_ = false;
};

std::string checked_id(const std::string& id) {
  if (!is_run_id_prefix(id))
    throw InputError(fmt::format("'{}' is not a run id (at least 4 characters of 0-9, a-f and '-')", id));
  return id;
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::string& path) : db_(prepare_path(path)) {
    db_.exec("PRAGMA journal_mode=WAL");
    db_.exec("PRAGMA synchronous=NORMAL");
    db_.exec("PRAGMA foreign_keys=ON");
    migrate();
  }

  void save(const Result& r) override {
    Result stored = r;
    std::vector<std::int64_t> samples;
    std::string histogram;
    if (stored.latency) {
      samples = std::move(stored.latency->samples_ns);
      stored.latency->samples_ns.clear();  // kept once, as a blob
      histogram = stored.latency->histogram.encode();
    }
    const std::string json = to_json(stored, -1);
    Transaction tx(db_);
    Stmt ins(db_,
             "INSERT INTO runs (run_id, started_at, finished_at, product, version, branch, commit_sha, ci, "
             "hardware_fingerprint, hostname, backend, model, scenario, result_json) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
    ins.bind(1, r.run_id).bind(2, r.started_at).bind(3, r.finished_at).bind(4, r.labels.product);
    ins.bind(5, r.labels.version).bind(6, r.labels.branch).bind(7, r.labels.commit);
    ins.bind(8, static_cast<std::int64_t>(r.labels.ci)).bind(9, r.environment.hardware_fingerprint);
    ins.bind(10, r.environment.hostname).bind(11, r.workload.backend).bind(12, r.workload.model);
    ins.bind(13, r.scenario.name).bind(14, json);
    ins.run();
    const std::int64_t run = sqlite3_last_insert_rowid(db_.get());
    for (const auto& [k, v] : r.labels.extra) {
      Stmt l(db_, "INSERT INTO run_labels (run, key, value) VALUES (?1, ?2, ?3)");
      l.bind(1, run).bind(2, k).bind(3, v).run();
    }
    for (const auto& mv : r.metrics) {
      const MetricDef& def = metric(mv.name);
      Stmt one(db_, "INSERT INTO metrics (run, name, value, unit, direction, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
      one.bind(1, run).bind(2, mv.name).bind(3, mv.value).bind(4, std::string(def.unit));
      one.bind(5, std::string(to_string(def.direction))).bind(6, std::string(to_string(mv.kind))).run();
    }
    if (r.latency) {
      std::string blob(samples.size() * 8, '\0');
      for (std::size_t i = 0; i < samples.size(); ++i) {
        auto v = static_cast<std::uint64_t>(samples[i]);
        for (int b = 0; b < 8; ++b) blob[i * 8 + static_cast<std::size_t>(b)] = static_cast<char>((v >> (8 * b)) & 0xff);
      }
      Stmt s(db_, "INSERT INTO samples (run, count, latency_ns, histogram) VALUES (?1, ?2, ?3, ?4)");
      s.bind(1, run).bind(2, static_cast<std::int64_t>(samples.size())).bind_blob(3, blob.data(), blob.size());
      s.bind(4, histogram).run();
    }
    tx.commit();
  }

  Result load(const std::string& id) override {
    const std::string run_id = resolve(id);
    Stmt q(db_,
           "SELECT r.result_json, s.latency_ns FROM runs r LEFT JOIN samples s ON s.run = r.id WHERE r.run_id = ?1");
    q.bind(1, run_id);
    if (!q.step()) throw InputError(fmt::format("no run {} in {}", run_id, location()));
    Result r = result_from_json(q.text(0), location() + ":" + run_id);
    if (r.latency) r.latency->samples_ns = q.int64_blob(1);
    return r;
  }

  std::vector<RunSummary> list(const RunFilter& f) override {
    std::string sql =
        "SELECT r.run_id, r.started_at, r.product, r.version, r.branch, r.commit_sha, r.ci, r.hardware_fingerprint, "
        "r.hostname, r.backend || ':' || r.model, r.scenario, COALESCE(s.count, 0) "
        "FROM runs r LEFT JOIN samples s ON s.run = r.id WHERE 1 = 1";
    int n = 0;
    std::vector<std::string> params;
    auto param = [&](const std::string& v) {
      params.push_back(v);
      return fmt::format("?{}", ++n);
    };
    if (f.product) sql += " AND r.product = " + param(*f.product);
    if (f.hardware) {
      const std::string p = param(*f.hardware);
      sql += " AND substr(r.hardware_fingerprint, 1, length(" + p + ")) = " + p;
    }
    if (f.since) sql += " AND r.started_at >= " + param(*f.since);
    if (f.until) sql += " AND r.started_at < " + param(*f.until);
    for (const auto& [k, v] : f.labels) {
      const std::string kp = param(k);
      const std::string vp = param(v);
      sql += " AND EXISTS (SELECT 1 FROM run_labels l WHERE l.run = r.id AND l.key = " + kp + " AND l.value = " + vp + ")";
    }
    sql += " ORDER BY r.started_at DESC, r.id DESC";
    if (f.limit) sql += fmt::format(" LIMIT {}", f.limit);
    Stmt q(db_, sql);
    for (std::size_t i = 0; i < params.size(); ++i) q.bind(static_cast<int>(i + 1), params[i]);
    std::vector<RunSummary> out;
    while (q.step()) {
      RunSummary s;
      s.run_id = q.text(0);
      s.started_at = q.text(1);
      s.product = q.text(2);
      s.version = q.text(3);
      s.branch = q.text(4);
      s.commit = q.text(5);
      s.ci = q.integer(6) != 0;
      s.hardware_fingerprint = q.text(7);
      s.hostname = q.text(8);
      s.workload = q.text(9);
      s.scenario = q.text(10);
      s.samples = static_cast<std::uint64_t>(q.integer(11));
      out.push_back(std::move(s));
    }
    return out;
  }

  std::string remove(const std::string& id) override {
    const std::string run_id = resolve(id);
    Transaction tx(db_);
    Stmt d(db_, "DELETE FROM runs WHERE run_id = ?1");
    d.bind(1, run_id).run();
    tx.commit();
    return run_id;
  }

  BaselineInfo save_baseline(const std::string& name, const std::string& run) override {
    if (name.empty() || name.find_first_of(" \t\n/") != std::string::npos)
      throw InputError(fmt::format("baseline name '{}': use letters, digits, '-', '_' or '.'", name));
    std::string run_id;
    if (run.empty()) {
      Stmt q(db_, "SELECT run_id FROM runs ORDER BY started_at DESC, id DESC LIMIT 1");
      if (!q.step()) throw InputError(fmt::format("no runs in {} to save as a baseline", location()));
      run_id = q.text(0);
    } else {
      run_id = resolve(run);
    }
    Transaction tx(db_);
    Stmt ins(db_,
             "INSERT INTO baselines (name, hardware_fingerprint, run, created_at) "
             "SELECT ?1, hardware_fingerprint, id, ?2 FROM runs WHERE run_id = ?3 "
             "ON CONFLICT (name, hardware_fingerprint) DO UPDATE SET run = excluded.run, created_at = excluded.created_at");
    ins.bind(1, name).bind(2, utc_timestamp_now()).bind(3, run_id).run();
    tx.commit();
    for (auto& b : list_baselines())
      if (b.name == name && b.run_id == run_id) return b;
    throw Error("baseline was not saved");
  }

  std::vector<BaselineInfo> list_baselines() override {
    Stmt q(db_,
           "SELECT b.name, b.hardware_fingerprint, r.run_id, b.created_at, r.product, r.version "
           "FROM baselines b JOIN runs r ON r.id = b.run ORDER BY b.name, b.hardware_fingerprint");
    std::vector<BaselineInfo> out;
    while (q.step()) out.push_back({q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5)});
    return out;
  }

  BaselineInfo find_baseline(const std::string& name, const std::string& hardware) override {
    std::vector<BaselineInfo> match;
    for (auto& b : list_baselines())
      if (b.name == name && (hardware.empty() || b.hardware_fingerprint == hardware)) match.push_back(b);
    if (match.empty()) {
      throw InputError(hardware.empty() ? fmt::format("no baseline '{}' in {}", name, location())
                                        : fmt::format("no baseline '{}' for hardware {} in {}", name, hardware, location()));
    }
    if (match.size() > 1)
      throw InputError(fmt::format("baseline '{}' exists for {} hardware fingerprints: say which", name, match.size()));
    return match[0];
  }

  std::size_t remove_baseline(const std::string& name, const std::string& hardware) override {
    Transaction tx(db_);
    Stmt d(db_, "DELETE FROM baselines WHERE name = ?1 AND (?2 = '' OR hardware_fingerprint = ?2)");
    d.bind(1, name).bind(2, hardware).run();
    const auto n = static_cast<std::size_t>(sqlite3_changes(db_.get()));
    tx.commit();
    if (n == 0) throw InputError(fmt::format("no baseline '{}' in {}", name, location()));
    return n;
  }

  std::string location() const override { return db_.path(); }

 private:
  static std::string prepare_path(const std::string& path) {
    const std::filesystem::path p(path);
    std::error_code ec;
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
    return path;
  }

  void migrate() {
    db_.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
    std::int64_t current = 0;
    {
      Stmt q(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
      if (q.step()) current = q.integer(0);
    }
    if (current > static_cast<std::int64_t>(std::size(kMigrations)))
      throw Error(fmt::format("{}: store schema version {} is newer than this trackiq ({}); upgrade trackiq",
                              db_.path(), current, std::size(kMigrations)));
    for (std::size_t v = static_cast<std::size_t>(current); v < std::size(kMigrations); ++v) {
      Transaction tx(db_);
      // Another process may have migrated while we waited for the write lock.
      Stmt again(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
      if (again.step() && again.integer(0) > static_cast<std::int64_t>(v)) continue;
      db_.exec(kMigrations[v]);
      Stmt rec(db_, "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)");
      rec.bind(1, static_cast<std::int64_t>(v + 1)).bind(2, utc_timestamp_now()).run();
      tx.commit();
    }
  }

  std::string resolve(const std::string& id) {
    checked_id(id);
    Stmt q(db_, "SELECT run_id FROM runs WHERE substr(run_id, 1, length(?1)) = ?1 LIMIT 2");
    q.bind(1, id);
    std::vector<std::string> found;
    while (q.step()) found.push_back(q.text(0));
    if (found.empty()) throw InputError(fmt::format("no run '{}' in {}", id, location()));
    if (found.size() > 1) throw InputError(fmt::format("run id '{}' is ambiguous in {}: give more characters", id, location()));
    return found[0];
  }

  Db db_;
};

}  // namespace

bool is_run_id_prefix(const std::string& text) noexcept {
  return text.size() >= 4 && text.find_first_not_of("0123456789abcdef-") == std::string::npos;
}

int schema_version() { return static_cast<int>(std::size(kMigrations)); }

std::string default_store_location() {
  if (const char* s = std::getenv("TRACKIQ_STORE"); s && *s) return s;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/trackiq/trackiq.db";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/trackiq/trackiq.db";
  return ".trackiq/trackiq.db";
}

std::unique_ptr<Store> open_store(const std::string& location) {
  const std::string where = location.empty() ? default_store_location() : location;
  if (where.rfind("postgresql://", 0) == 0 || where.rfind("postgres://", 0) == 0)
    throw NotAvailableError("the PostgreSQL store backend is not built yet; use a SQLite file path");
  return std::make_unique<SqliteStore>(where);
}

}  // namespace trackiq::store
