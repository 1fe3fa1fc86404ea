#pragma once
// The SQL layer under the results store: one small interface, implemented for SQLite and for
// PostgreSQL, so the store's queries are written once. Statements use ?1, ?2, ... placeholders
// (the PostgreSQL side turns them into $1, $2, ...); values are always bound, never spliced.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace trackiq::store::sql {

// Raw bytes for a BLOB (SQLite) / BYTEA (PostgreSQL) column.
struct Blob {
  std::string bytes;
};
using Param = std::variant<std::string, std::int64_t, double, Blob>;

// One result row. Every column comes back as text (numbers in their exact decimal form, blobs as
// their raw bytes); nullopt is SQL NULL.
class Row {
 public:
  explicit Row(std::vector<std::optional<std::string>> cols) : cols_(std::move(cols)) {}
  const std::string& text(std::size_t i) const;  // "" for NULL
  std::int64_t integer(std::size_t i) const;     // 0 for NULL
  double real(std::size_t i) const;
  bool is_null(std::size_t i) const { return !cols_.at(i); }

 private:
  std::vector<std::optional<std::string>> cols_;
};

// One row of a streamed query (Connection::each): its columns read in place, typed, without a
// string per cell. A text view is valid only until the callback returns.
class RowView {
 public:
  virtual std::int64_t integer(std::size_t i) const = 0;  // 0 for NULL
  virtual double real(std::size_t i) const = 0;          // 0 for NULL
  virtual std::string_view text(std::size_t i) const = 0;  // "" for NULL; not for BLOB/BYTEA columns
  virtual bool is_null(std::size_t i) const = 0;

 protected:
  ~RowView() = default;
};
using RowCallback = std::function<void(const RowView&)>;

enum class Dialect { kSqlite, kPostgres };

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const noexcept = 0;
  // Several statements without parameters (migrations).
  virtual void exec_script(const std::string& sql) = 0;
  // One statement; the rows it returns (INSERT ... RETURNING too).
  virtual std::vector<Row> query(const std::string& sql, const std::vector<Param>& params = {}) = 0;
  // One statement whose rows go to `row` one at a time, as the database hands them over: for
  // reads of millions of rows (`trackiq detect`'s series). SQLite steps the statement under the
  // callback; PostgreSQL's client library holds the result, read in place. An exception from
  // `row` stops the statement and propagates.
  virtual void each(const std::string& sql, const std::vector<Param>& params, const RowCallback& row) = 0;
  // A write transaction: SQLite takes the write lock at once (BEGIN IMMEDIATE), so two writers
  // queue on the busy timeout instead of failing on an upgrade deadlock.
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;
  // Inside a transaction: serialises schema migrations between processes.
  virtual void lock_for_migration() = 0;
  // Where the data lives, for messages (a path, or the URL without its password).
  virtual std::string location() const = 0;
};

std::unique_ptr<Connection> open_sqlite(const std::string& path);
// NotAvailableError when trackiq was built without libpqxx; Error when the server refuses.
std::unique_ptr<Connection> open_postgres(const std::string& url);

// Rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(Connection& c) : c_(c) { c_.begin(); }
  ~Transaction() {
    if (!done_) c_.rollback();
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    c_.commit();
    done_ = true;
  }

 private:
  Connection& c_;
  bool done_ = false;
};

// The URL with any password replaced by "***", for messages and `location()`.
std::string redact_url(const std::string& url);

}  // namespace trackiq::store::sql
