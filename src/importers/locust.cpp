// Locust --csv output: <prefix>_stats.csv (one run per endpoint row, the Aggregated row too),
// <prefix>_stats_history.csv (one run per Name, from its last row: the run's totals) and
// <prefix>_failures.csv (one run per endpoint: failures by error). Response times are in ms.
#include "common.hpp"

#include "trackiq/core/csv.hpp"

namespace trackiq::importers::detail {
namespace {

struct Table {
  std::vector<std::string> header;
  std::uint64_t header_line = 0;
  std::vector<std::pair<std::uint64_t, std::vector<std::string>>> rows;  // file line, fields
  std::optional<std::size_t> col(std::string_view name) const {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    return std::nullopt;
  }
};

Table read_table(std::string_view text, const std::string& origin) {
  Table t;
  const auto lines = split_lines(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    if (i == 0 && l.starts_with("\xEF\xBB\xBF")) l.remove_prefix(3);
    if (l.empty()) continue;
    auto f = split_csv_record(l, origin, i + 1);
    if (t.header.empty()) {
      t.header = std::move(f);
      t.header_line = i + 1;
      continue;
    }
    if (f.size() != t.header.size())
      throw InputError(origin, i + 1, fmt::format("{} fields, the header has {}", f.size(), t.header.size()));
    t.rows.emplace_back(i + 1, std::move(f));
  }
  if (t.header.empty()) throw InputError(origin, 1, "empty file: expected a Locust CSV header");
  return t;
}

std::string endpoint(const std::string& type, const std::string& name) { return type.empty() ? name : type + " " + name; }

// Percentile columns "50%" ... "100%" → registry metrics; the others stay labels.
const char* percentile_metric(std::string_view col) {
  if (col == "50%") return "latency_p50_ms";
  if (col == "90%") return "latency_p90_ms";
  if (col == "95%") return "latency_p95_ms";
  if (col == "99%") return "latency_p99_ms";
  if (col == "99.9%") return "latency_p99_9_ms";
  return nullptr;
}

double need_number(const Table& t, const std::vector<std::string>& row, std::uint64_t line, std::string_view col,
                   const std::string& origin) {
  const auto i = t.col(col);
  if (!i) throw InputError(origin, t.header_line, fmt::format("no '{}' column", col));
  const auto v = opt_field_number(row[*i]);
  if (!v || *v < 0) throw InputError(origin, line, fmt::format("column '{}': '{}' is not a non-negative number", col, row[*i]));
  return *v;
}

constexpr const char* kRounding =
    "Locust's percentiles come from response times it rounds (to 2 significant digits above 100 ms, 3 above "
    "1000 ms): good to about 1 %";

Result endpoint_run(const Context& c, const std::string& name) {
  Result r = new_run(c, name);
  r.scenario.name = "load";
  r.workload.backend = "http";
  r.labels.extra["locust_endpoint"] = name;
  return r;
}

void counts(Result& r, double requests, double failures, const std::string& origin, std::uint64_t line) {
  const auto n = to_count<std::uint64_t>(requests, origin, line, "Request Count");
  const auto f = to_count<std::uint64_t>(failures, origin, line, "Failure Count");
  if (f > n) throw InputError(origin, line, "Failure Count exceeds Request Count");
  add_metric(r, "queries_total", static_cast<double>(n - f));
  add_metric(r, "errors_total", static_cast<double>(f));
  if (n) add_metric(r, "error_rate", static_cast<double>(f) / static_cast<double>(n), ValueKind::kDerived);
  r.errors.total = f;
  if (f) r.errors.by_class["locust_failure"] = f;
  r.scenario.iterations = n;
}

std::vector<Result> import_stats(const Table& t, Context& c) {
  std::vector<Result> out;
  const auto type = t.col("Type") ? t.col("Type") : t.col("Method");
  const auto name = t.col("Name");
  if (!name) throw InputError(c.origin, t.header_line, "no 'Name' column");
  for (const auto& [line, row] : t.rows) {
    Result r = endpoint_run(c, endpoint(type ? row[*type] : "", row[*name]));
    counts(r, need_number(t, row, line, "Request Count", c.origin), need_number(t, row, line, "Failure Count", c.origin), c.origin, line);
    static const std::pair<const char*, const char*> kCols[] = {{"Average Response Time", "latency_mean_ms"},
                                                                {"Min Response Time", "latency_min_ms"},
                                                                {"Max Response Time", "latency_max_ms"},
                                                                {"Median Response Time", "latency_p50_ms"}};
    for (const auto& [col, metric] : kCols)
      if (const auto i = t.col(col); i && opt_field_number(row[*i])) add_metric(r, metric, need_number(t, row, line, col, c.origin));
    for (std::size_t i = 0; i < t.header.size(); ++i) {
      if (!t.header[i].ends_with("%")) continue;
      const auto v = opt_field_number(row[i]);
      if (!v) continue;
      if (*v < 0) throw InputError(c.origin, line, fmt::format("column '{}': negative", t.header[i]));
      if (const char* m = percentile_metric(t.header[i])) add_metric(r, m, *v);
      else r.labels.extra["locust_p" + t.header[i].substr(0, t.header[i].size() - 1) + "_ms"] = fmt::format("{}", *v);
    }
    if (const auto i = t.col("Requests/s"); i && opt_field_number(row[*i])) {
      const double rps = need_number(t, row, line, "Requests/s", c.origin);
      add_metric(r, "throughput_queries_per_s", rps);
      add_metric(r, "request_throughput", rps);
    }
    if (const auto i = t.col("Failures/s"); i && opt_field_number(row[*i])) r.labels.extra["locust_failures_per_s"] = row[*i];
    if (const auto i = t.col("Average Content Size"); i && opt_field_number(row[*i])) r.labels.extra["locust_avg_content_size_bytes"] = row[*i];
    r.warnings.push_back(kRounding);
    r.throughput_method = "as reported by Locust: Requests/s (every request of the endpoint / the test's duration)";
    out.push_back(std::move(r));
  }
  if (out.empty()) throw InputError(c.origin, t.header_line, "no rows after the header");
  return out;
}

std::vector<Result> import_history(const Table& t, Context& c) {
  const auto name = t.col("Name"), type = t.col("Type"), ts = t.col("Timestamp");
  if (!name || !ts) throw InputError(c.origin, t.header_line, "a stats history needs 'Timestamp' and 'Name' columns");
  struct Last {
    std::uint64_t line = 0;
    const std::vector<std::string>* row = nullptr;
    double first_ts = 0, last_ts = 0;
    std::uint64_t rows = 0;
    double peak_users = 0;
  };
  std::vector<std::string> order;
  std::map<std::string, Last> by;
  for (const auto& [line, row] : t.rows) {
    const auto when = opt_field_number(row[*ts]);
    if (!when) throw InputError(c.origin, line, fmt::format("Timestamp '{}' is not a number", row[*ts]));
    const std::string ep = endpoint(type ? row[*type] : "", row[*name]);
    auto [it, fresh] = by.try_emplace(ep);
    if (fresh) {
      order.push_back(ep);
      it->second.first_ts = *when;
    }
    it->second.line = line;
    it->second.row = &row;
    it->second.last_ts = *when;
    ++it->second.rows;
    if (const auto u = t.col("User Count"))
      if (const auto n = opt_field_number(row[*u])) it->second.peak_users = std::max(it->second.peak_users, *n);
  }
  if (order.empty()) throw InputError(c.origin, t.header_line, "no rows after the header");
  std::vector<Result> out;
  for (const auto& ep : order) {
    const Last& l = by.at(ep);
    Result r = endpoint_run(c, ep);
    const auto& row = *l.row;
    counts(r, need_number(t, row, l.line, "Total Request Count", c.origin), need_number(t, row, l.line, "Total Failure Count", c.origin),
           c.origin, l.line);
    static const std::pair<const char*, const char*> kCols[] = {{"Total Average Response Time", "latency_mean_ms"},
                                                                {"Total Min Response Time", "latency_min_ms"},
                                                                {"Total Max Response Time", "latency_max_ms"},
                                                                {"Total Median Response Time", "latency_p50_ms"}};
    if (r.scenario.iterations.value_or(0) > 0)
      for (const auto& [col, metric] : kCols)
        if (const auto i = t.col(col); i && opt_field_number(row[*i])) add_metric(r, metric, need_number(t, row, l.line, col, c.origin));
    if (l.last_ts > l.first_ts) add_metric(r, "wall_time_s", l.last_ts - l.first_ts);
    r.started_at = utc_timestamp_from_unix_ns(static_cast<std::int64_t>(l.first_ts * 1e9));
    r.finished_at = utc_timestamp_from_unix_ns(static_cast<std::int64_t>(l.last_ts * 1e9));
    r.labels.extra["locust_history_rows"] = std::to_string(l.rows);
    r.labels.extra["locust_peak_users"] = fmt::format("{}", l.peak_users);
    r.warnings.push_back(
        "from the last row of a stats history: totals only (its percentile columns cover a recent window, not the "
        "run, and are not imported)");
    r.throughput_method = "not available: a stats history's Requests/s is the current rate, not the run's";
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<Result> import_failures(const Table& t, Context& c) {
  const auto method = t.col("Method"), name = t.col("Name"), error = t.col("Error"), occ = t.col("Occurrences");
  if (!name || !error || !occ) throw InputError(c.origin, t.header_line, "a failures file needs Name, Error and Occurrences columns");
  std::vector<std::string> order;
  std::map<std::string, Result> by;
  for (const auto& [line, row] : t.rows) {
    const std::string ep = endpoint(method ? row[*method] : "", row[*name]);
    auto it = by.find(ep);
    if (it == by.end()) {
      it = by.emplace(ep, endpoint_run(c, ep)).first;
      order.push_back(ep);
    }
    const auto n = opt_field_number(row[*occ]);
    if (!n) throw InputError(c.origin, line, fmt::format("Occurrences '{}' is not a number", row[*occ]));
    const auto k = to_count<std::uint64_t>(*n, c.origin, line, "Occurrences");
    Result& r = it->second;
    r.errors.total += k;
    r.errors.by_class[row[*error]] += k;
    if (r.errors.examples.size() < 5) r.errors.examples.push_back(row[*error]);
    add_metric(r, "errors_total", static_cast<double>(r.errors.total));
  }
  std::vector<Result> out;
  for (const auto& ep : order) {
    Result r = std::move(by.at(ep));
    r.warnings.push_back("a failures file: failures by error only (the stats file has the requests and latencies)");
    out.push_back(std::move(r));
  }
  if (out.empty()) {
    // A run with no failures writes the header alone: one run saying so.
    Result r = endpoint_run(c, "Aggregated");
    add_metric(r, "errors_total", 0);
    r.warnings.push_back("a failures file with no failures (header only)");
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<Result> import_locust(std::string_view text, Context& c) {
  update_fingerprint(c.env);
  const Table t = read_table(text, c.origin);
  if (t.col("Timestamp") && t.col("Total Request Count")) return import_history(t, c);
  if (t.col("Request Count") && t.col("Failure Count")) return import_stats(t, c);
  if (t.col("Error") && t.col("Occurrences")) return import_failures(t, c);
  throw InputError(c.origin, t.header_line,
                   "not a Locust _stats.csv, _stats_history.csv or _failures.csv header (an _exceptions.csv is not imported)");
}

int sniff_locust(std::string_view head, std::string_view) {
  const std::string_view first = head.substr(0, head.find('\n'));
  const auto has = [&](std::string_view s) { return first.find(s) != std::string_view::npos; };
  if (has("Name") && has("Request Count") && has("Failure Count")) return 95;
  if (has("Method") && has("Name") && has("Error") && has("Occurrences")) return 95;
  return 0;
}

}  // namespace

extern const Format kLocust{"locust",
                            "Locust --csv files: _stats.csv (a run per endpoint: percentiles, Requests/s, "
                            "failures), _stats_history.csv (a run per endpoint from its last row: totals), "
                            "_failures.csv (failures by error)",
                            sniff_locust, import_locust};

}  // namespace trackiq::importers::detail
