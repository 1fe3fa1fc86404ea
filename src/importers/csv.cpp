// Generic CSV with a column mapping (--map METRIC=COLUMN).
#include "common.hpp"

#include "trackiq/core/csv.hpp"

namespace trackiq::importers::detail {
namespace {

using Json = nlohmann::json;

std::vector<Result> import_csv(std::string_view text, Context& c) {
  if (c.opts.map.empty())
    throw InputError("csv import needs --map METRIC=COLUMN (e.g. --map latency_ms=duration), at least one");
  update_fingerprint(c.env);
  // Lines as views into the text (no copy): the next line, without its \n and one \r.
  std::size_t at = 0;
  auto next_line = [&](std::string_view& line) {
    if (at >= text.size()) return false;
    auto nl = text.find('\n', at);
    if (nl == std::string_view::npos) nl = text.size();
    line = text.substr(at, nl - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    at = nl + 1;
    return true;
  };
  std::string_view raw;
  std::uint64_t n = 0;
  std::vector<std::string> header;
  while (header.empty() && next_line(raw)) {
    ++n;
    if (raw.starts_with("\xEF\xBB\xBF")) raw.remove_prefix(3);
    if (!raw.empty()) header = split_csv_record(raw, c.origin, n);
  }
  if (header.empty()) throw InputError(c.origin, 1, "empty file: expected a header row");
  struct Col {
    std::string metric;
    std::size_t index;
    double to_ns = 0;  // latency samples: scale to ns; 0 = a registry metric (mean of the column)
    std::vector<double> values;
  };
  std::vector<Col> cols;
  for (const auto& [m, col] : c.opts.map) {
    const auto it = std::find(header.begin(), header.end(), col);
    if (it == header.end())
      throw InputError(c.origin, n, fmt::format("--map {}={}: no column '{}' in the header", m, col, col));
    Col cl{m, static_cast<std::size_t>(it - header.begin()), 0, {}};
    if (m == "latency_ns") cl.to_ns = 1;
    else if (m == "latency_us") cl.to_ns = 1e3;
    else if (m == "latency_ms") cl.to_ns = 1e6;
    else if (m == "latency_s") cl.to_ns = 1e9;
    else if (!find_metric(m))
      throw InputError(fmt::format("--map {}={}: '{}' is neither latency_ns|us|ms|s nor a registry metric (trackiq metrics)", m, col, m));
    cols.push_back(std::move(cl));
  }
  if (std::count_if(cols.begin(), cols.end(), [](const Col& x) { return x.to_ns > 0; }) > 1)
    throw InputError("--map: only one latency column can become the samples");
  std::vector<std::uint64_t> row_lines;  // the file line of each data row, for errors
  std::vector<std::string_view> fields(header.size());
  std::vector<std::string> quoted;
  while (next_line(raw)) {
    ++n;
    if (raw.empty()) continue;
    if (raw.find('"') == std::string_view::npos) {
      // The common case, no quotes: fields are the text between commas, viewed in place.
      std::size_t k = 0, from = 0;
      for (;;) {
        const auto comma = raw.find(',', from);
        const auto end = comma == std::string_view::npos ? raw.size() : comma;
        if (k < fields.size()) fields[k] = raw.substr(from, end - from);
        ++k;
        if (comma == std::string_view::npos) break;
        from = comma + 1;
      }
      if (k != header.size()) throw InputError(c.origin, n, fmt::format("{} fields, the header has {}", k, header.size()));
    } else {
      quoted = split_csv_record(raw, c.origin, n);
      if (quoted.size() != header.size())
        throw InputError(c.origin, n, fmt::format("{} fields, the header has {}", quoted.size(), header.size()));
      for (std::size_t k = 0; k < quoted.size(); ++k) fields[k] = quoted[k];
    }
    for (auto& col : cols) {
      const std::string_view v = fields[col.index];
      double d = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
      if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(d))
        throw InputError(c.origin, n, fmt::format("column '{}': '{}' is not a number", header[col.index], v));
      if (col.to_ns > 0 && d < 0) throw InputError(c.origin, n, fmt::format("column '{}': negative latency", header[col.index]));
      col.values.push_back(d);
    }
    row_lines.push_back(n);
  }
  if (row_lines.empty()) throw InputError(c.origin, n, "no data rows after the header");
  Result r = new_run(c, std::filesystem::path(c.origin).stem().string());
  for (const auto& col : cols) {
    if (col.to_ns > 0) {
      std::vector<std::int64_t> samples;
      samples.reserve(col.values.size());
      for (std::size_t i = 0; i < col.values.size(); ++i)
        samples.push_back(to_ns(col.values[i], col.to_ns, c.origin, row_lines[i]));
      set_samples(r, std::move(samples));
    }
  }
  for (const auto& col : cols) {
    if (col.to_ns > 0) continue;
    double sum = 0;
    for (const double v : col.values) sum += v;
    set_metric(r, col.metric.c_str(), sum / static_cast<double>(col.values.size()));
    if (col.values.size() > 1) r.warnings.push_back(fmt::format("{}: the mean of {} rows of column '{}'", col.metric, col.values.size(), header[col.index]));
  }
  return {std::move(r)};
}


}  // namespace

// Never chosen by sniffing alone: a CSV says nothing about what its columns mean.
int sniff_csv(std::string_view, std::string_view) { return 0; }

extern const Format kCsv{"csv",
                         "a header row; --map latency_ms=COLUMN makes samples (latency_ns|us|ms|s), and --map "
                         "METRIC=COLUMN stores the column's mean as a registry metric",
                         sniff_csv, import_csv};

}  // namespace trackiq::importers::detail
