// `analyze latency` and `analyze variability` (include/trackiq/analysis/distribution_analysis.hpp).
#include "trackiq/analysis/distribution_analysis.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "trackiq/core/csv.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/text.hpp"

namespace trackiq::analysis {
namespace {

GroupLatency summarize_group(std::string name, std::vector<double> v, const std::vector<double>& ps) {
  GroupLatency g;
  g.group = std::move(name);
  g.count = v.size();
  std::sort(v.begin(), v.end());
  g.min = v.front();
  g.max = v.back();
  g.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  if (v.size() > 1 && g.mean != 0) {
    double ss = 0;
    for (const double x : v) ss += (x - g.mean) * (x - g.mean);
    g.cv = std::sqrt(ss / static_cast<double>(v.size() - 1)) / std::fabs(g.mean);
  } else {
    g.cv = NAN;
  }
  for (const double p : ps) g.percentiles.push_back(percentile_of_sorted(v, p));
  return g;
}

}  // namespace

double percentile_of_sorted(std::span<const double> sorted, double p) {
  if (sorted.empty()) return NAN;
  const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(rank));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (rank - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

LatencyAnalysis analyze_latency_csv(std::string_view text, const std::string& origin, const std::string& column,
                                    const std::string& group_by) {
  LatencyAnalysis out;
  out.column = column;
  out.group_by = group_by;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::uint64_t line_no = 0;
  std::vector<std::string> header;
  long col = -1, grp = -1;
  std::vector<double> all;
  std::vector<std::string> order;
  std::map<std::string, std::vector<double>> by_group;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim_ascii_space(line).empty()) continue;
    auto cells = split_csv_record(line, origin, line_no);
    if (header.empty()) {
      header = std::move(cells);
      for (std::size_t i = 0; i < header.size(); ++i) {
        const std::string name(trim_ascii_space(header[i]));
        if (name == column) col = static_cast<long>(i);
        if (!group_by.empty() && name == group_by) grp = static_cast<long>(i);
      }
      const auto columns = [&] { return fmt::format("{}", fmt::join(header, ", ")); };
      if (col < 0) throw InputError(origin, line_no, fmt::format("no column '{}' (columns: {})", column, columns()));
      if (!group_by.empty() && grp < 0)
        throw InputError(origin, line_no, fmt::format("no column '{}' to group by (columns: {})", group_by, columns()));
      continue;
    }
    const auto need = static_cast<std::size_t>(std::max(col, grp));
    if (cells.size() <= need)
      throw InputError(origin, line_no, fmt::format("{} fields, the header has {}", cells.size(), header.size()));
    const std::string_view cell = trim_ascii_space(cells[static_cast<std::size_t>(col)]);
    double v = 0;
    const char* first = cell.data() + (!cell.empty() && cell.front() == '+' ? 1 : 0);
    const auto [ptr, ec] = std::from_chars(first, cell.data() + cell.size(), v);
    if (cell.empty() || ec != std::errc() || ptr != cell.data() + cell.size() || !std::isfinite(v))
      throw InputError(origin, line_no, fmt::format("'{}' in column '{}' is not a finite number", std::string(cell), column));
    all.push_back(v);
    if (grp >= 0) {
      std::string g(trim_ascii_space(cells[static_cast<std::size_t>(grp)]));
      auto [it, fresh] = by_group.try_emplace(g);
      if (fresh) order.push_back(g);
      it->second.push_back(v);
    }
  }
  if (header.empty()) throw InputError(origin, 1, "empty file: expected a header row");
  if (all.empty()) throw InputError(origin, line_no, "no data rows after the header");
  out.all = summarize_group("", std::move(all), out.ps);
  for (const auto& g : order) out.groups.push_back(summarize_group(g, std::move(by_group[g]), out.ps));
  return out;
}

Variability analyze_variability(std::span<const double> values, double sigma) {
  if (!(sigma > 0)) throw InputError("--sigma must be > 0");
  for (const double v : values)
    if (!std::isfinite(v)) throw InputError("variability: a value is not a finite number");
  Variability r;
  r.n = values.size();
  r.sigma = sigma;
  if (r.n < 3) {
    r.rating = "insufficient data";
    if (r.n > 0) r.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(r.n);
    return r;
  }
  r.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(r.n);
  double ss = 0, jitter = 0;
  for (std::size_t i = 0; i < r.n; ++i) {
    ss += (values[i] - r.mean) * (values[i] - r.mean);
    if (i > 0) jitter += std::fabs(values[i] - values[i - 1]);
  }
  r.stddev = std::sqrt(ss / static_cast<double>(r.n - 1));
  r.cv = r.mean != 0 ? r.stddev / std::fabs(r.mean) : NAN;
  r.jitter = jitter / static_cast<double>(r.n - 1);
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  r.q1 = percentile_of_sorted(sorted, 25);
  r.q3 = percentile_of_sorted(sorted, 75);
  r.iqr = r.q3 - r.q1;
  for (std::size_t i = 0; i < r.n; ++i)
    if (std::fabs(values[i] - r.mean) > sigma * r.stddev) r.outliers.push_back(i);
  r.rating = std::isnan(r.cv) ? "insufficient data"
             : r.cv < 0.1     ? "very consistent"
             : r.cv < 0.2     ? "consistent"
             : r.cv < 0.3     ? "moderate"
                              : "high variability";
  return r;
}

}  // namespace trackiq::analysis
