// PostgreSQL side of the SQL layer, through libpqxx. Statements go out with the extended query
// protocol (exec_params): values travel separately from the SQL text, never spliced into it.
// BYTEA values are sent and received in PostgreSQL's hex form.
#include <pqxx/pqxx>

#include <charconv>
#include <string_view>

#include <fmt/format.h>

#include "sql.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::store::sql {
namespace {

constexpr unsigned kByteaOid = 17;
constexpr long long kMigrationLockKey = 0x7472616b6971LL;  // "trakiq": any fixed key of ours

// ?1, ?2 ... → $1, $2 ... (our statements have no '?' inside string literals).
std::string to_pg_placeholders(const std::string& sql) {
  std::string out = sql;
  for (auto& ch : out)
    if (ch == '?') ch = '$';
  return out;
}

std::string to_hex_bytea(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 + bytes.size() * 2);
  out += "\\x";
  for (const unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string from_hex_bytea(const char* text, std::size_t n) {
  if (n < 2 || text[0] != '\\' || text[1] != 'x' || n % 2 != 0)
    throw Error("store: unexpected BYTEA text (bytea_output must be 'hex')");
  std::string out((n - 2) / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_digit(text[2 + 2 * i]), lo = hex_digit(text[3 + 2 * i]);
    if (hi < 0 || lo < 0) throw Error("store: bad hex digit in BYTEA text");
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

class PostgresConnection final : public Connection {
 public:
  explicit PostgresConnection(const std::string& url) : location_(redact_url(url)) {
    try {
      conn_ = std::make_unique<pqxx::connection>(url);
      pqxx::nontransaction w(*conn_);
      w.exec("SET bytea_output = 'hex'; SET client_min_messages = warning");
    } catch (const std::exception& e) {
      throw Error(fmt::format("{}: cannot connect to the PostgreSQL store: {}", location_, trim(e.what())));
    }
  }

  Dialect dialect() const noexcept override { return Dialect::kPostgres; }

  void exec_script(const std::string& sql) override {
    guard([&] {
      if (tx_) {
        tx_->exec(sql);
      } else {
        pqxx::nontransaction w(*conn_);
        w.exec(sql);
      }
    });
  }

  // The statement's rows (extended protocol, parameters as text), read by `read`.
  pqxx::result execute(const std::string& sql, const std::vector<Param>& params) {
    std::vector<std::string> text;
    text.reserve(params.size());
    for (const auto& p : params) {
      if (const auto* s = std::get_if<std::string>(&p)) text.push_back(*s);
      else if (const auto* n = std::get_if<std::int64_t>(&p)) text.push_back(std::to_string(*n));
      else if (const auto* d = std::get_if<double>(&p)) text.push_back(fmt::format("{}", *d));  // shortest exact text
      else text.push_back(to_hex_bytea(std::get<Blob>(p).bytes));
    }
    const std::string pg = to_pg_placeholders(sql);
    auto run = [&](pqxx::transaction_base& w) { return w.exec_params(pg, pqxx::prepare::make_dynamic_params(text)); };
    if (tx_) return run(*tx_);
    pqxx::nontransaction w(*conn_);
    return run(w);
  }

  std::vector<Row> query(const std::string& sql, const std::vector<Param>& params) override {
    std::vector<Row> rows;
    guard([&] {
      const pqxx::result res = execute(sql, params);
      const auto ncols = static_cast<std::size_t>(res.columns());
      std::vector<bool> is_bytea(ncols);
      for (std::size_t c = 0; c < ncols; ++c) is_bytea[c] = res.column_type(static_cast<pqxx::row::size_type>(c)) == kByteaOid;
      rows.reserve(res.size());
      for (const auto& r : res) {
        std::vector<std::optional<std::string>> cols(ncols);
        for (std::size_t c = 0; c < ncols; ++c) {
          const auto f = r[static_cast<pqxx::row::size_type>(c)];
          if (f.is_null()) continue;
          cols[c] = is_bytea[c] ? from_hex_bytea(f.c_str(), f.size()) : std::string(f.c_str(), f.size());
        }
        rows.emplace_back(std::move(cols));
      }
    });
    return rows;
  }

  // One row of a result in libpq's text format, numbers parsed where they lie.
  class View final : public RowView {
   public:
    View(const pqxx::result& res, const std::vector<bool>& is_bytea) : row_(res[0]), is_bytea_(is_bytea) {}
    void at(pqxx::row row) { row_ = std::move(row); }
    std::int64_t integer(std::size_t i) const override { return number<std::int64_t>(i, "an integer"); }
    double real(std::size_t i) const override { return number<double>(i, "a number"); }
    std::string_view text(std::size_t i) const override {
      if (is_bytea_.at(i)) throw Error("store: a BYTEA column read as text");
      const auto f = row_[static_cast<pqxx::row::size_type>(i)];
      return f.is_null() ? std::string_view() : std::string_view(f.c_str(), f.size());
    }
    bool is_null(std::size_t i) const override { return row_[static_cast<pqxx::row::size_type>(i)].is_null(); }

   private:
    template <typename T>
    T number(std::size_t i, const char* what) const {
      const std::string_view t = text(i);
      T v{};
      if (t.empty()) return v;
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec != std::errc() || end != t.data() + t.size()) throw Error(fmt::format("store: '{}' is not {}", t, what));
      return v;
    }
    pqxx::row row_;
    const std::vector<bool>& is_bytea_;
  };

  void each(const std::string& sql, const std::vector<Param>& params, const RowCallback& row) override {
    pqxx::result res;
    guard([&] { res = execute(sql, params); });
    std::vector<bool> is_bytea(static_cast<std::size_t>(res.columns()));
    for (std::size_t c = 0; c < is_bytea.size(); ++c)
      is_bytea[c] = res.column_type(static_cast<pqxx::row::size_type>(c)) == kByteaOid;
    if (res.empty()) return;
    View view(res, is_bytea);
    for (const auto& r : res) {
      view.at(r);
      row(view);
    }
  }

  void begin() override {
    guard([&] { tx_ = std::make_unique<pqxx::work>(*conn_); });
  }
  void commit() override {
    guard([&] {
      tx_->commit();
      tx_.reset();
    });
  }
  void rollback() noexcept override {
    try {
      if (tx_) tx_->abort();
    } catch (...) {
    }
    tx_.reset();
  }
  void lock_for_migration() override { query(fmt::format("SELECT pg_advisory_xact_lock({})", kMigrationLockKey), {}); }
  std::string location() const override { return location_; }

 private:
  static std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
  template <typename F>
  void guard(F&& f) {
    try {
      f();
    } catch (const pqxx::broken_connection& e) {
      tx_.reset();
      throw Error(fmt::format("{}: lost the connection to the PostgreSQL store: {}", location_, trim(e.what())));
    } catch (const std::exception& e) {
      if (dynamic_cast<const Error*>(&e)) throw;
      throw Error(fmt::format("{}: {}", location_, trim(e.what())));
    }
  }

  std::string location_;
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::work> tx_;
};

}  // namespace

std::unique_ptr<Connection> open_postgres(const std::string& url) { return std::make_unique<PostgresConnection>(url); }

}  // namespace trackiq::store::sql
