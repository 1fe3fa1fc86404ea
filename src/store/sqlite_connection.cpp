// SQLite side of the SQL layer: one file, WAL, a busy timeout so concurrent writers wait for each
// other instead of failing, foreign keys on.
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "sql.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::store::sql {
namespace {

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(const std::string& path) : path_(path) {
    const std::filesystem::path p(path);
    std::error_code ec;
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
      const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw Error(fmt::format("{}: cannot open the store: {}", path, why));
    }
    sqlite3_busy_timeout(db_, 30'000);
    sqlite3_extended_result_codes(db_, 1);
    try {
      enable_wal();
      exec_script("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
    } catch (...) {
      sqlite3_close(db_);
      db_ = nullptr;
      throw;
    }
  }
  ~SqliteConnection() override { sqlite3_close(db_); }

  // Switching a new database file to WAL needs it alone for a moment, and SQLite returns
  // SQLITE_BUSY for that without calling the busy handler: processes opening a fresh store at
  // the same time (two CI jobs) would fail with "database is locked". Retry for up to 30 s.
  void enable_wal() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (int attempt = 0;; ++attempt) {
      char* err = nullptr;
      const int rc = sqlite3_exec(db_, "PRAGMA journal_mode=WAL;", nullptr, nullptr, &err);
      const std::string why = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      if (rc == SQLITE_OK) return;
      const int primary = rc & 0xff;
      if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) || std::chrono::steady_clock::now() > deadline)
        throw Error(fmt::format("{}: {}", path_, why));
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50, 1 << std::min(attempt, 6))));
    }
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Dialect dialect() const noexcept override { return Dialect::kSqlite; }

  void exec_script(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string why = err ? err : "unknown error";
      sqlite3_free(err);
      throw Error(fmt::format("{}: {}", path_, why));
    }
  }

  using Statement = std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)>;

  Statement prepare(const std::string& sql, const std::vector<Param>& params) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK)
      fail("prepare failed");
    Statement st(raw, sqlite3_finalize);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int at = static_cast<int>(i + 1);
      int rc = SQLITE_OK;
      if (const auto* s = std::get_if<std::string>(&params[i]))
        rc = sqlite3_bind_text64(raw, at, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
      else if (const auto* n = std::get_if<std::int64_t>(&params[i]))
        rc = sqlite3_bind_int64(raw, at, *n);
      else if (const auto* d = std::get_if<double>(&params[i]))
        rc = sqlite3_bind_double(raw, at, *d);
      else
        rc = sqlite3_bind_blob64(raw, at, std::get<Blob>(params[i]).bytes.data(), std::get<Blob>(params[i]).bytes.size(),
                                 SQLITE_STATIC);
      if (rc != SQLITE_OK) fail("bind failed");
    }
    return st;
  }

  // The statement's current row, read with SQLite's own conversions.
  class View final : public RowView {
   public:
    explicit View(sqlite3_stmt* st) : st_(st) {}
    std::int64_t integer(std::size_t i) const override { return sqlite3_column_int64(st_, static_cast<int>(i)); }
    double real(std::size_t i) const override { return sqlite3_column_double(st_, static_cast<int>(i)); }
    std::string_view text(std::size_t i) const override {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, static_cast<int>(i)));
      return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, static_cast<int>(i))))
               : std::string_view();
    }
    bool is_null(std::size_t i) const override { return sqlite3_column_type(st_, static_cast<int>(i)) == SQLITE_NULL; }

   private:
    sqlite3_stmt* st_;
  };

  void each(const std::string& sql, const std::vector<Param>& params, const RowCallback& row) override {
    const Statement st = prepare(sql, params);
    const View view(st.get());
    for (;;) {
      const int rc = sqlite3_step(st.get());
      if (rc == SQLITE_DONE) return;
      if (rc != SQLITE_ROW) fail("statement failed");
      row(view);
    }
  }

  std::vector<Row> query(const std::string& sql, const std::vector<Param>& params) override {
    const Statement st = prepare(sql, params);
    sqlite3_stmt* raw = st.get();
    std::vector<Row> rows;
    for (;;) {
      const int rc = sqlite3_step(raw);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) fail("statement failed");
      const int n = sqlite3_column_count(raw);
      std::vector<std::optional<std::string>> cols(static_cast<std::size_t>(n));
      for (int c = 0; c < n; ++c) {
        switch (sqlite3_column_type(raw, c)) {
          case SQLITE_NULL: break;
          case SQLITE_INTEGER: cols[static_cast<std::size_t>(c)] = std::to_string(sqlite3_column_int64(raw, c)); break;
          case SQLITE_FLOAT:  // shortest text that reads back to the same double
            cols[static_cast<std::size_t>(c)] = fmt::format("{}", sqlite3_column_double(raw, c));
            break;
          default: {
            const auto* p = static_cast<const char*>(sqlite3_column_blob(raw, c));
            cols[static_cast<std::size_t>(c)] = std::string(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(raw, c)));
          }
        }
      }
      rows.emplace_back(std::move(cols));
    }
    return rows;
  }

  void begin() override { exec_script("BEGIN IMMEDIATE"); }
  void commit() override { exec_script("COMMIT"); }
  void rollback() noexcept override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }
  void lock_for_migration() override {}  // BEGIN IMMEDIATE already holds the only write lock
  std::string location() const override { return path_; }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(fmt::format("{}: {}: {}", path_, what, sqlite3_errmsg(db_)));
  }

  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<Connection> open_sqlite(const std::string& path) { return std::make_unique<SqliteConnection>(path); }

}  // namespace trackiq::store::sql
