// The results store over the SQL layer: one implementation of every query for SQLite and
// PostgreSQL; only the table definitions differ by dialect. Prepared statements only; one
// transaction per run (or per import).
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sql.hpp"
#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::store {
namespace {

using sql::Blob;
using sql::Connection;
using sql::Dialect;
using sql::Param;
using sql::Row;
using sql::Transaction;

// Migrations, applied in order, each in its own transaction; never edit a released one. Both
// dialects keep the same version numbers and the same tables, written once: {pk}, {int}, {real}
// and {blob} become each dialect's types (dialect_sql), and `postgres_only` adds storage settings.
struct Migration {
  const char* tables;
  const char* postgres_only;
  void (*then)(Connection&) = nullptr;  // data the SQL cannot compute, in the same transaction
};

void backfill_series_config(Connection& db);
constexpr Migration kMigrations[] = {
    // 1: runs, labels, metrics, samples, baselines.
    {R"sql(
CREATE TABLE runs (
  id {pk},
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
  run {int} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run, key)
);
CREATE TABLE metrics (
  run {int} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value {real} NOT NULL,
  unit TEXT NOT NULL,
  direction TEXT NOT NULL,
  kind TEXT NOT NULL,
  PRIMARY KEY (run, name)
);
CREATE TABLE samples (
  run {int} PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  count {int} NOT NULL,
  latency_ns {blob} NOT NULL,
  histogram TEXT NOT NULL
);
CREATE TABLE baselines (
  name TEXT NOT NULL,
  hardware_fingerprint TEXT NOT NULL,
  run {int} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  PRIMARY KEY (name, hardware_fingerprint)
);
)sql",
     // Samples barely compress and pglz on megabytes costs more than it saves: store them as they are.
     "ALTER TABLE samples ALTER COLUMN latency_ns SET STORAGE EXTERNAL;"},
    // 2: telemetry series (channels as JSON, times and values as little-endian 8-byte arrays).
    {R"sql(
CREATE TABLE telemetry (
  run {int} PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  row_count {int} NOT NULL,
  channels TEXT NOT NULL,
  t_ns {blob} NOT NULL,
  channel_values {blob} NOT NULL
);
)sql",
     "ALTER TABLE telemetry ALTER COLUMN t_ns SET STORAGE EXTERNAL;"
     "ALTER TABLE telemetry ALTER COLUMN channel_values SET STORAGE EXTERNAL;"},
    // 3: when each sample completed (NULL when not recorded), to line samples up with telemetry.
    {"ALTER TABLE samples ADD COLUMN end_ns {blob};", "ALTER TABLE samples ALTER COLUMN end_ns SET STORAGE EXTERNAL;"},
    // 4: `trackiq detect`'s per-series state (change points of the series as it was at `point_count`
    // points ending with run `last_run`), so that a new run re-tests a window, not the whole series.
    {R"sql(
CREATE INDEX runs_by_series ON runs (product, hardware_fingerprint, backend, model, scenario, started_at, id, run_id,
                                     version, commit_sha);
CREATE TABLE series_state (
  series TEXT NOT NULL,
  metric TEXT NOT NULL,
  point_count {int} NOT NULL,
  last_run TEXT NOT NULL,
  state TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (series, metric)
);
)sql",
     ""},
    // 5: the store's generation (Store::generation()): one row whose value every write transaction
    // bumps before it commits, so that readers on other connections (another `serve` on the same
    // PostgreSQL database) see exactly when a change a read could see has been committed.
    {R"sql(
CREATE TABLE store_generation (
  id {int} PRIMARY KEY,
  value {int} NOT NULL
);
INSERT INTO store_generation (id, value) VALUES (1, 0);
)sql",
     ""},
    // 6: each run's configuration (series_config()), part of the series key: batch 1 and batch 8
    // of one model were one series, and detect saw a change wherever they alternated. Stored
    // runs get theirs from their result document; the detect states, keyed by the old series,
    // are dropped (the next detect computes them in full).
    {R"sql(
ALTER TABLE runs ADD COLUMN config TEXT NOT NULL DEFAULT '';
DROP INDEX runs_by_series;
CREATE INDEX runs_by_series ON runs (product, hardware_fingerprint, backend, model, scenario, config, started_at, id,
                                     run_id, version, commit_sha);
DELETE FROM series_state;
)sql",
     "", backfill_series_config},
};

// A migration's statements for one dialect.
std::string dialect_sql(const Migration& m, Dialect d) {
  const bool pg = d == Dialect::kPostgres;
  std::string out = m.tables;
  const std::pair<const char*, const char*> types[] = {
      {"{pk}", pg ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY"},
      {"{int}", pg ? "BIGINT" : "INTEGER"},
      {"{real}", pg ? "DOUBLE PRECISION" : "REAL"},
      {"{blob}", pg ? "BYTEA" : "BLOB"}};
  for (const auto& [token, type] : types)
    for (auto at = out.find(token); at != std::string::npos; at = out.find(token, at))
      out.replace(at, std::strlen(token), type);
  if (pg) out += m.postgres_only;
  return out;
}

// 8-byte little-endian arrays, whatever the host.
template <typename T>
std::string pack(const std::vector<T>& v) {
  static_assert(sizeof(T) == 8);
  std::string out(v.size() * 8, '\0');
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v[i], 8);
    for (int b = 0; b < 8; ++b) out[i * 8 + static_cast<std::size_t>(b)] = static_cast<char>((bits >> (8 * b)) & 0xff);
  }
  return out;
}

template <typename T>
std::vector<T> unpack(const std::string& bytes, const std::string& what) {
  if (bytes.size() % 8 != 0) throw Error(fmt::format("store: {} has {} bytes, not a multiple of 8", what, bytes.size()));
  std::vector<T> out(bytes.size() / 8);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::uint64_t bits = 0;
    for (int b = 7; b >= 0; --b) bits = (bits << 8) | p[i * 8 + static_cast<std::size_t>(b)];
    std::memcpy(&out[i], &bits, 8);
  }
  return out;
}

std::string checked_id(const std::string& id) {
  if (!is_run_id_prefix(id))
    throw InputError(fmt::format("'{}' is not a run id (at least 4 characters of 0-9, a-f and '-')", id));
  return id;
}

// `workload` is "backend:model".
bool same_workload(const std::string& workload, std::string_view backend, std::string_view model) {
  return workload.size() == backend.size() + 1 + model.size() && workload.compare(0, backend.size(), backend) == 0 &&
         workload[backend.size()] == ':' && workload.compare(backend.size() + 1, model.size(), model) == 0;
}

// runs.id → the run's position in a read: an array when the ids are dense (SQLite's rowids,
// PostgreSQL's identity, with gaps where runs were removed), a sorted search otherwise.
class RunPositions {
 public:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  explicit RunPositions(std::vector<std::pair<std::int64_t, std::uint32_t>> ids) {
    std::int64_t lo = 0, hi = -1;
    for (const auto& [id, _] : ids) {
      if (hi < lo) lo = hi = id;
      lo = std::min(lo, id);
      hi = std::max(hi, id);
    }
    if (!ids.empty() && hi - lo < 4 * static_cast<std::int64_t>(ids.size()) + 1'000'000) {
      base_ = lo;
      dense_.assign(static_cast<std::size_t>(hi - lo + 1), kNone);
      for (const auto& [id, at] : ids) dense_[static_cast<std::size_t>(id - lo)] = at;
    } else {
      std::sort(ids.begin(), ids.end());
      sorted_ = std::move(ids);
    }
  }
  std::uint32_t find(std::int64_t id) const {
    if (!dense_.empty())
      return id >= base_ && id - base_ < static_cast<std::int64_t>(dense_.size()) ? dense_[static_cast<std::size_t>(id - base_)]
                                                                                   : kNone;
    const auto it = std::lower_bound(sorted_.begin(), sorted_.end(), std::pair<std::int64_t, std::uint32_t>{id, 0});
    return it != sorted_.end() && it->first == id ? it->second : kNone;
  }

 private:
  std::int64_t base_ = 0;
  std::vector<std::uint32_t> dense_;
  std::vector<std::pair<std::int64_t, std::uint32_t>> sorted_;
};

// One --label KEY=VALUE filter, as SQL on the runs row `r`. The built-in labels are columns of
// runs (product, version, branch, and commit, matched as a prefix so that a short SHA finds its
// runs); any other key is a row of run_labels. `param` binds a value and returns its placeholder.
template <class Param>
std::string label_condition(const std::string& key, const std::string& value, Param&& param) {
  if (key == "product") return "r.product = " + param(value);
  if (key == "version") return "r.version = " + param(value);
  if (key == "branch") return "r.branch = " + param(value);
  if (key == "commit") {
    const std::string p = param(value);
    return "substr(r.commit_sha, 1, length(" + p + ")) = " + p;
  }
  const std::string kp = param(key);
  const std::string vp = param(value);
  return "EXISTS (SELECT 1 FROM run_labels l WHERE l.run = r.id AND l.key = " + kp + " AND l.value = " + vp + ")";
}

class SqlStore final : public Store {
 public:
  explicit SqlStore(std::unique_ptr<Connection> db) : db_(std::move(db)) { migrate(); }

  void save(const Result& r) override { save_all({r}); }

  void save_all(const std::vector<Result>& runs) override {
    Transaction tx(*db_);
    for (const auto& r : runs) insert(r);
    changed();
    tx.commit();
  }

  Result load(const std::string& id) override {
    const std::string run_id = resolve(id);
    const auto rows = db_->query(
        "SELECT r.result_json, s.latency_ns, t.channels, t.t_ns, t.channel_values, s.end_ns FROM runs r "
        "LEFT JOIN samples s ON s.run = r.id LEFT JOIN telemetry t ON t.run = r.id WHERE r.run_id = ?1",
        {run_id});
    if (rows.empty()) throw InputError(fmt::format("no run {} in {}", run_id, location()));
    const Row& q = rows[0];
    Result r = result_from_json(q.text(0), location() + ":" + run_id);
    if (r.latency) {
      r.latency->samples_ns = unpack<std::int64_t>(q.text(1), "latency samples of " + run_id);
      if (!q.is_null(5)) r.latency->sample_end_ns = unpack<std::int64_t>(q.text(5), "sample end times of " + run_id);
    }
    if (!q.is_null(2)) {
      TelemetrySeries ts;
      for (const auto& c : nlohmann::json::parse(q.text(2))) {
        ts.names.push_back(c.at("name").get<std::string>());
        ts.units.push_back(c.at("unit").get<std::string>());
      }
      ts.t_ns = unpack<std::int64_t>(q.text(3), "telemetry times of " + run_id);
      ts.values = unpack<double>(q.text(4), "telemetry values of " + run_id);
      if (ts.values.size() != ts.rows() * ts.width())
        throw Error(fmt::format("store: telemetry of {} has {} values for {} rows x {} channels", run_id,
                                ts.values.size(), ts.rows(), ts.width()));
      r.telemetry.series = std::move(ts);
    }
    return r;
  }

  std::vector<RunSummary> list(const RunFilter& f) override {
    std::string sql =
        "SELECT r.run_id, r.started_at, r.product, r.version, r.branch, r.commit_sha, r.ci, r.hardware_fingerprint, "
        "r.hostname, r.backend || ':' || r.model, r.scenario, COALESCE(s.count, 0), r.config "
        "FROM runs r LEFT JOIN samples s ON s.run = r.id WHERE 1 = 1";
    std::vector<Param> params;
    auto param = [&](const std::string& v) {
      params.emplace_back(v);
      return fmt::format("CAST(?{} AS TEXT)", params.size());
    };
    if (f.product) sql += " AND r.product = " + param(*f.product);
    if (f.version) sql += " AND r.version = " + param(*f.version);
    if (f.scenario) sql += " AND r.scenario = " + param(*f.scenario);
    if (f.after) {
      const std::string at = param(f.after->first);
      const std::string id = param(f.after->second);
      sql += " AND (r.started_at < " + at + " OR (r.started_at = " + at + " AND r.id < (SELECT id FROM runs WHERE run_id = " +
             id + ")))";
    }
    if (f.hardware) {
      const std::string p = param(*f.hardware);
      sql += " AND substr(r.hardware_fingerprint, 1, length(" + p + ")) = " + p;
    }
    if (f.since) sql += " AND r.started_at >= " + param(*f.since);
    if (f.until) sql += " AND r.started_at < " + param(*f.until);
    for (const auto& [k, v] : f.labels) sql += " AND " + label_condition(k, v, param);
    if (f.search && !f.search->empty()) {
      // A LIKE pattern of the text, its own %, _ and \ escaped; lower() on both sides (ASCII in
      // SQLite, as documented).
      std::string pattern = "%";
      for (const char c : *f.search) {
        if (c == '%' || c == '_' || c == '\\') pattern += '\\';
        pattern += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      }
      pattern += '%';
      const std::string p = param(pattern);
      std::string any;
      for (const char* column : {"r.run_id", "r.product", "r.version", "r.branch", "r.commit_sha", "r.backend || ':' || r.model",
                                 "r.scenario", "r.hostname"})
        any += fmt::format("{}lower(COALESCE({}, '')) LIKE {} ESCAPE '\\'", any.empty() ? "" : " OR ", column, p);
      any += fmt::format(" OR EXISTS (SELECT 1 FROM run_labels l WHERE l.run = r.id AND (lower(l.key) LIKE {0} ESCAPE '\\' OR "
                         "lower(l.value) LIKE {0} ESCAPE '\\'))",
                         p);
      sql += " AND (" + any + ")";
    }
    sql += " ORDER BY r.started_at DESC, r.id DESC";
    if (f.limit) sql += fmt::format(" LIMIT {}", f.limit);
    std::vector<RunSummary> out;
    for (const Row& q : db_->query(sql, params)) {
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
      s.config = q.text(12);
      out.push_back(std::move(s));
    }
    return out;
  }

  std::string remove(const std::string& id, bool with_baselines) override {
    const std::string run_id = resolve(id);
    Transaction tx(*db_);
    const auto held = db_->query(
        "SELECT b.name FROM baselines b JOIN runs r ON r.id = b.run WHERE r.run_id = ?1 ORDER BY b.name", {run_id});
    if (!held.empty() && !with_baselines) {
      std::vector<std::string> names;
      for (const auto& row : held) names.push_back("'" + row.text(0) + "'");
      throw BaselineRunError(fmt::format("run {} is the run of baseline {}: remove the baseline first (trackiq baseline rm "
                                   "NAME), or remove both with --with-baselines",
                                   run_id, fmt::join(names, ", ")));
    }
    db_->query("DELETE FROM runs WHERE run_id = ?1", {run_id});  // its baselines go with it (ON DELETE CASCADE)
    changed();
    tx.commit();
    return run_id;
  }

  BaselineInfo save_baseline(const std::string& name, const std::string& run) override {
    if (name.empty() || name.find_first_of(" \t\n/") != std::string::npos)
      throw InputError(fmt::format("baseline name '{}': use letters, digits, '-', '_' or '.'", name));
    std::string run_id;
    if (run.empty()) {
      const auto rows = db_->query("SELECT run_id FROM runs ORDER BY started_at DESC, id DESC LIMIT 1");
      if (rows.empty()) throw InputError(fmt::format("no runs in {} to save as a baseline", location()));
      run_id = rows[0].text(0);
    } else {
      run_id = resolve(run);
    }
    Transaction tx(*db_);
    db_->query(
        "INSERT INTO baselines (name, hardware_fingerprint, run, created_at) "
        "SELECT CAST(?1 AS TEXT), hardware_fingerprint, id, CAST(?2 AS TEXT) FROM runs WHERE run_id = ?3 "
        "ON CONFLICT (name, hardware_fingerprint) DO UPDATE SET run = excluded.run, created_at = excluded.created_at",
        {name, utc_timestamp_now(), run_id});
    changed();
    tx.commit();
    for (auto& b : list_baselines())
      if (b.name == name && b.run_id == run_id) return b;
    throw Error("baseline was not saved");
  }

  std::vector<BaselineInfo> list_baselines() override {
    std::vector<BaselineInfo> out;
    for (const Row& q : db_->query("SELECT b.name, b.hardware_fingerprint, r.run_id, b.created_at, r.product, r.version "
                                   "FROM baselines b JOIN runs r ON r.id = b.run ORDER BY b.name, b.hardware_fingerprint"))
      out.push_back({q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5)});
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
    Transaction tx(*db_);
    const auto gone = db_->query(
        "DELETE FROM baselines WHERE name = ?1 AND (CAST(?2 AS TEXT) = '' OR hardware_fingerprint = ?2) RETURNING name",
        {name, hardware});
    if (!gone.empty()) changed();
    tx.commit();
    if (gone.empty()) throw InputError(fmt::format("no baseline '{}' in {}", name, location()));
    return gone.size();
  }

  // Two streamed queries rather than one join: the runs (from the covering index runs_by_series,
  // already in key and time order; the wide rows with result_json are never read), then their
  // metrics (run, name, value) in the table's own order, grouped here. Cells are read in place
  // (Connection::each), metric names are interned, a run's identity is kept once for all its
  // metrics, and a run's id finds its place through an array: on 10 million points the cost is
  // the database's own scan. docs/performance.md §10.3 has the numbers.
  std::vector<MetricSeries> series(const SeriesFilter& f, const std::string& metric) override {
    std::vector<Param> params;
    auto param = [&](const std::string& v) {
      params.emplace_back(v);
      return fmt::format("CAST(?{} AS TEXT)", params.size());
    };
    std::string where = "1 = 1";
    if (f.product) where += " AND r.product = " + param(*f.product);
    if (f.hardware) {
      const std::string p = param(*f.hardware);
      where += " AND substr(r.hardware_fingerprint, 1, length(" + p + ")) = " + p;
    }
    if (f.workload) where += " AND r.backend || ':' || r.model = " + param(*f.workload);
    if (f.scenario) where += " AND r.scenario = " + param(*f.scenario);
    if (f.config) where += " AND r.config = " + param(*f.config);
    for (const auto& [k, v] : f.labels) where += " AND " + label_condition(k, v, param);
    const bool filtered = !params.empty();

    std::vector<SeriesKey> keys;
    std::vector<std::uint32_t> key_of;  // run position → key
    auto runs = std::make_shared<std::vector<SeriesRun>>();
    std::vector<std::pair<std::int64_t, std::uint32_t>> ids;  // (runs.id, position)
    db_->each(
        "SELECT r.id, r.product, r.hardware_fingerprint, r.backend, r.model, r.scenario, r.run_id, r.started_at, r.version, "
        "r.commit_sha, r.config FROM runs r WHERE " + where +
            " ORDER BY r.product, r.hardware_fingerprint, r.backend, r.model, r.scenario, r.config, r.started_at, r.id",
        params, [&](const sql::RowView& q) {
          const std::string_view product = q.text(1), hardware = q.text(2), backend = q.text(3), model = q.text(4),
                                 scenario = q.text(5), config = q.text(10);
          const bool same = !keys.empty() && keys.back().product == product && keys.back().hardware_fingerprint == hardware &&
                            keys.back().scenario == scenario && keys.back().config == config &&
                            same_workload(keys.back().workload, backend, model);
          if (!same)
            keys.push_back({std::string(product), std::string(hardware), fmt::format("{}:{}", backend, model),
                            std::string(scenario), std::string(config)});
          key_of.push_back(static_cast<std::uint32_t>(keys.size() - 1));
          ids.emplace_back(q.integer(0), static_cast<std::uint32_t>(runs->size()));
          runs->push_back({std::string(q.text(6)), std::string(q.text(7)), std::string(q.text(8)), std::string(q.text(9))});
        });
    const RunPositions position(std::move(ids));
    std::vector<std::uint32_t> runs_of_key(keys.size());
    for (const std::uint32_t k : key_of) ++runs_of_key[k];

    std::string msql = "SELECT m.run, m.name, m.value FROM metrics m WHERE 1 = 1";
    // Unfiltered, every run was read: the positions are the filter, and SQLite need not build
    // the set of all run ids.
    if (filtered) msql += " AND m.run IN (SELECT r.id FROM runs r WHERE " + where + ")";
    if (!metric.empty()) msql += " AND m.name = " + param(metric);
    // SQLite tests an IN list on every row through a temporary index, which doubled its scan of
    // the metrics table (600,000 rows: 0.16 s of CPU, 0.08 s without): there the interned names
    // below filter, at the price of a compare. PostgreSQL filters on the server: fewer rows to send.
    const bool names_in_sql = db_->dialect() == Dialect::kPostgres;
    if (!f.metrics.empty() && names_in_sql) {
      std::string list;
      for (const auto& m : f.metrics) list += (list.empty() ? "" : ", ") + param(m);
      msql += " AND m.name IN (" + list + ")";
    }
    // One series per (key, metric), its points appended as the rows come; slot[name][key] finds it.
    // A point's run lies at its position in `runs`, so the address order of the runs is the
    // time order of the points.
    std::vector<MetricSeries> found;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> key_name;  // found[i]'s key and metric name
    std::vector<std::string> names;
    std::vector<std::vector<std::uint32_t>> slot;  // empty for a name the filter leaves out
    constexpr std::uint32_t kNone = ~std::uint32_t{0};
    std::size_t last_name = 0;
    db_->each(msql, params, [&](const sql::RowView& q) {
      const std::uint32_t at = position.find(q.integer(0));
      if (at == kNone) return;  // a run saved between the two queries
      // Runs hold their metrics in the same order, so the next name is usually the one after the last.
      const std::string_view name = q.text(1);
      std::size_t n = names.size();
      for (std::size_t tried = 0; tried < names.size(); ++tried) {
        const std::size_t i = (last_name + 1 + tried) % names.size();
        if (names[i] == name) {
          n = i;
          break;
        }
      }
      if (n == names.size()) {
        names.emplace_back(name);
        const bool wanted = f.metrics.empty() || std::find(f.metrics.begin(), f.metrics.end(), name) != f.metrics.end();
        slot.emplace_back(wanted ? keys.size() : 0, kNone);
      }
      last_name = n;
      if (slot[n].empty()) return;
      const std::uint32_t key = key_of[at];
      std::uint32_t& g = slot[n][key];
      if (g == kNone) {
        g = static_cast<std::uint32_t>(found.size());
        found.push_back({keys[key], names[n], {}});
        found.back().points.reserve(runs_of_key[key]);  // at most one point per run: no regrowth
        key_name.emplace_back(key, static_cast<std::uint32_t>(n));
      }
      found[g].points.emplace_back(std::shared_ptr<const SeriesRun>(runs, &(*runs)[at]), q.real(2));
    });

    // Grouped by key, then metric name (the order callers rely on); points oldest first.
    std::vector<std::uint32_t> order(found.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      if (key_name[a].first != key_name[b].first) return key_name[a].first < key_name[b].first;  // the query's key order
      return names[key_name[a].second] < names[key_name[b].second];
    });
    const auto earlier = [](const SeriesPoint& a, const SeriesPoint& b) { return a.run.get() < b.run.get(); };
    std::vector<MetricSeries> out;
    out.reserve(found.size());
    for (const std::uint32_t i : order) {
      auto& points = found[i].points;
      if (!std::is_sorted(points.begin(), points.end(), earlier)) std::sort(points.begin(), points.end(), earlier);
      out.push_back(std::move(found[i]));
    }
    return out;
  }

  std::vector<SeriesState> series_states() override {
    std::vector<SeriesState> out;
    for (const Row& q : db_->query("SELECT series, metric, point_count, last_run, state FROM series_state"))
      out.push_back({q.text(0), q.text(1), static_cast<std::uint64_t>(q.integer(2)), q.text(3), q.text(4)});
    return out;
  }

  void save_series_states(const std::vector<SeriesState>& states) override {
    if (states.empty()) return;
    const std::string now = utc_timestamp_now();
    Transaction tx(*db_);
    for (const auto& s : states)
      db_->query(
          "INSERT INTO series_state (series, metric, point_count, last_run, state, updated_at) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (series, metric) DO UPDATE SET point_count = excluded.point_count, "
          "last_run = excluded.last_run, state = excluded.state, updated_at = excluded.updated_at",
          {s.series, s.metric, static_cast<std::int64_t>(s.count), s.last_run, s.state, now});
    changed();
    tx.commit();
  }

  std::string location() const override { return db_->location(); }

  std::uint64_t generation() override {
    if (db_->dialect() == Dialect::kPostgres)
      return static_cast<std::uint64_t>(
          db_->query("SELECT value FROM store_generation WHERE id = 1").at(0).integer(0));
    // SQLite: data_version changes when another connection (another process, or another Store on
    // the same file) has committed since this connection last looked; this connection's own
    // commits do not change it, so changed() counts them here.
    const std::int64_t v = db_->query("PRAGMA data_version").at(0).integer(0);
    if (v != data_version_) {
      data_version_ = v;
      ++sqlite_generation_;
    }
    return sqlite_generation_;
  }

 private:
  // In every write transaction, before its commit: bumps the generation row (what other
  // connections of a PostgreSQL store read) and this object's own count (what generation() adds
  // on SQLite). Bumped before the commit: a commit that then fails costs a cache miss, never a
  // stale answer.
  void changed() {
    db_->query("UPDATE store_generation SET value = value + 1 WHERE id = 1");
    ++sqlite_generation_;
  }

  void insert(const Result& r) {
    Result stored = r;
    std::vector<std::int64_t> samples, end_times;
    std::string histogram;
    if (stored.latency) {
      samples = std::move(stored.latency->samples_ns);
      stored.latency->samples_ns.clear();  // kept once, as a blob
      end_times = std::move(stored.latency->sample_end_ns);
      stored.latency->sample_end_ns.clear();
      histogram = stored.latency->histogram.encode();
    }
    std::optional<TelemetrySeries> series = std::move(stored.telemetry.series);
    stored.telemetry.series.reset();  // kept once, in its own table
    const std::string json = to_json(stored, -1);
    const auto id_rows = db_->query(
        "INSERT INTO runs (run_id, started_at, finished_at, product, version, branch, commit_sha, ci, "
        "hardware_fingerprint, hostname, backend, model, scenario, result_json, config) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) RETURNING id",
        {r.run_id, r.started_at, r.finished_at, r.labels.product, r.labels.version, r.labels.branch, r.labels.commit,
         std::int64_t{r.labels.ci}, r.environment.hardware_fingerprint, r.environment.hostname, r.workload.backend,
         r.workload.model, r.scenario.name, json, series_config(r)});
    const std::int64_t run = id_rows.at(0).integer(0);
    for (const auto& [k, v] : r.labels.extra)
      db_->query("INSERT INTO run_labels (run, key, value) VALUES (?1, ?2, ?3)", {run, k, v});
    for (const auto& mv : r.metrics) {
      const MetricDef& def = metric(mv.name);
      db_->query("INSERT INTO metrics (run, name, value, unit, direction, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                 {run, mv.name, mv.value, std::string(def.unit), std::string(to_string(def.direction)),
                  std::string(to_string(mv.kind))});
    }
    if (r.latency) {
      if (!end_times.empty() && end_times.size() != samples.size())
        throw Error("latency: sample_end_ns and samples_ns differ in length");
      if (end_times.empty()) {
        db_->query("INSERT INTO samples (run, count, latency_ns, histogram) VALUES (?1, ?2, ?3, ?4)",
                   {run, static_cast<std::int64_t>(samples.size()), Blob{pack(samples)}, histogram});
      } else {
        db_->query("INSERT INTO samples (run, count, latency_ns, histogram, end_ns) VALUES (?1, ?2, ?3, ?4, ?5)",
                   {run, static_cast<std::int64_t>(samples.size()), Blob{pack(samples)}, histogram, Blob{pack(end_times)}});
      }
    }
    if (series) {
      if (series->units.size() != series->width() || series->values.size() != series->rows() * series->width())
        throw Error("telemetry series: channel, unit and value counts disagree");
      nlohmann::json channels = nlohmann::json::array();
      for (std::size_t c = 0; c < series->width(); ++c)
        channels.push_back({{"name", series->names[c]}, {"unit", series->units[c]}});
      db_->query("INSERT INTO telemetry (run, row_count, channels, t_ns, channel_values) VALUES (?1, ?2, ?3, ?4, ?5)",
                 {run, static_cast<std::int64_t>(series->rows()), channels.dump(), Blob{pack(series->t_ns)},
                  Blob{pack(series->values)}});
    }
  }

  void migrate() {
    {
      // Under the migration lock: PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against a
      // concurrent one (two processes opening a fresh database at once both try to create it).
      Transaction tx(*db_);
      db_->lock_for_migration();
      db_->exec_script(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
      tx.commit();
    }
    const auto current_version = [&] {
      return db_->query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").at(0).integer(0);
    };
    const auto known = static_cast<std::int64_t>(std::size(kMigrations));
    const std::int64_t current = current_version();
    if (current > known)
      throw Error(fmt::format("{}: store schema version {} is newer than this trackiq ({}); upgrade trackiq",
                              location(), current, known));
    for (std::int64_t v = current; v < known; ++v) {
      Transaction tx(*db_);
      db_->lock_for_migration();
      // Another process may have migrated while we waited for the lock.
      if (current_version() > v) continue;
      const Migration& m = kMigrations[v];
      db_->exec_script(dialect_sql(m, db_->dialect()));
      if (m.then) m.then(*db_);
      db_->query("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)", {v + 1, utc_timestamp_now()});
      tx.commit();
    }
  }

  std::string resolve(const std::string& id) {
    checked_id(id);
    const auto rows =
        db_->query("SELECT run_id FROM runs WHERE substr(run_id, 1, length(CAST(?1 AS TEXT))) = ?1 LIMIT 2", {id});
    if (rows.empty()) throw InputError(fmt::format("no run '{}' in {}", id, location()));
    if (rows.size() > 1) throw InputError(fmt::format("run id '{}' is ambiguous in {}: give more characters", id, location()));
    return rows[0].text(0);
  }

  std::unique_ptr<Connection> db_;
  std::uint64_t sqlite_generation_ = 0;  // SQLite: generation(), counted by this object
  std::int64_t data_version_ = -1;       // SQLite: PRAGMA data_version when generation() last read it
};

bool is_postgres_url(const std::string& s) {
  return s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0;
}

// Migration 6: each stored run's series_config() from its own result document. A document this
// build cannot read keeps the empty configuration (a series of its own, shown as "-") rather than
// making the whole store unopenable.
void backfill_series_config(Connection& db) {
  std::vector<std::pair<std::int64_t, std::string>> configs;
  db.each("SELECT id, run_id, result_json FROM runs", {}, [&](const sql::RowView& q) {
    try {
      const Result r = result_from_json(q.text(2), fmt::format("stored run {}", q.text(1)));
      configs.emplace_back(q.integer(0), series_config(r));
    } catch (const Error&) {
    }
  });
  for (const auto& [id, config] : configs) db.query("UPDATE runs SET config = ?1 WHERE id = ?2", {config, id});
}

}  // namespace

std::string SeriesKey::text() const {
  return fmt::format("{} / {} / {} / {} / {}", product.empty() ? "-" : product,
                     hardware_fingerprint.empty() ? "-" : hardware_fingerprint, workload, scenario.empty() ? "-" : scenario,
                     config.empty() ? "-" : config);
}

SeriesKey series_key_of(const Result& r) {
  return {r.labels.product, r.environment.hardware_fingerprint, r.workload.backend + ":" + r.workload.model,
          r.scenario.name, series_config(r)};
}

SeriesFilter series_filter_of(const SeriesKey& k) {
  SeriesFilter f;
  f.product = k.product;
  f.hardware = k.hardware_fingerprint;  // a prefix match: the full fingerprint matches itself
  f.workload = k.workload;
  f.scenario = k.scenario;
  f.config = k.config;
  return f;
}

SeriesFilter series_filter_of(const Result& r) { return series_filter_of(series_key_of(r)); }

std::string series_config(const Result& r) {
  const auto& w = r.workload;
  const auto& s = r.scenario;
  // The precision where TrackIQ sets it (an engine's): a command's, a server's or an import's is
  // not known, and older results of those backends say fp32 for it.
  const bool set_here = w.backend != "cmd" && w.backend != "synthetic" && w.backend != "http" &&
                        w.precision != "unknown" && w.precision != "none";
  std::string out = fmt::format("batch={}{} device={} threads={} workers={}", w.batch_size,
                                set_here ? " precision=" + w.precision : std::string(), w.device, w.threads, s.workers);
  if (s.qps) out += fmt::format(" qps={:g}", *s.qps);
  if (s.name == "multi-stream") out += fmt::format(" samples_per_query={}", s.samples_per_query);
  // A synthetic workload's options (distribution, mean, ...) are its model, what a file is to
  // torch:, and a changed model is what history shows: they stay out, as the model hash does.
  if (w.backend != "synthetic")
    for (const auto& [k, v] : w.options) out += fmt::format(" {}={}", k, v);  // a std::map: sorted by key
  return out;
}

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
  return std::make_unique<SqlStore>(is_postgres_url(where) ? sql::open_postgres(where) : sql::open_sqlite(where));
}

}  // namespace trackiq::store
