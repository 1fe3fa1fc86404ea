#include "trackiq/analysis/series_csv.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "trackiq/core/csv.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/text.hpp"

namespace trackiq::analysis {
namespace {

// The cell as a double when the whole (trimmed) cell is one, finite or not.
std::optional<double> parse_number(std::string_view cell) {
  cell = trim_blanks(cell);
  if (!cell.empty() && cell.front() == '+') cell.remove_prefix(1);
  if (cell.empty()) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
  if (ec != std::errc() || end != cell.data() + cell.size()) return std::nullopt;
  return v;
}

std::string shorten(std::string_view s) {
  constexpr std::size_t kMax = 40;
  return s.size() <= kMax ? std::string(s) : std::string(s.substr(0, kMax)) + "...";
}

std::string column_list(const std::vector<std::string>& header) {
  std::string out;
  for (const auto& h : header) out += (out.empty() ? "" : ", ") + shorten(h);
  return out;
}

}  // namespace

CsvSeries read_series_csv(std::string_view text, const std::string& origin, const std::string& column) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  CsvSeries out;
  std::vector<std::string> header;
  std::optional<std::size_t> index;
  std::uint64_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim_blanks(line).empty()) continue;
    auto fields = split_csv_record(line, origin, line_no);
    if (header.empty()) {
      for (auto& f : fields) f = std::string(trim_blanks(f));
      header = std::move(fields);
      if (!column.empty()) {
        for (std::size_t i = 0; i < header.size() && !index; ++i)
          if (header[i] == column) index = i;
        if (!index)
          throw InputError(origin, line_no, fmt::format("no column '{}' (columns: {})", shorten(column), column_list(header)));
        out.column = column;
      }
      continue;
    }
    if (!index) {
      for (std::size_t i = 0; i < fields.size() && !index; ++i)
        if (const auto v = parse_number(fields[i]); v && std::isfinite(*v)) index = i;
      if (!index || *index >= header.size())
        throw InputError(origin, line_no,
                         fmt::format("no numeric column in the first data row (columns: {}); name one with --column",
                                     column_list(header)));
      out.column = header[*index];
    }
    if (*index >= fields.size())
      throw InputError(origin, line_no,
                       fmt::format("the row has {} field{}, column '{}' is field {}", fields.size(),
                                   fields.size() == 1 ? "" : "s", shorten(out.column), *index + 1));
    const std::string_view cell = trim_blanks(fields[*index]);
    if (cell.empty()) throw InputError(origin, line_no, fmt::format("column '{}': empty cell", shorten(out.column)));
    const auto v = parse_number(cell);
    if (!v) throw InputError(origin, line_no, fmt::format("column '{}': '{}' is not a number", shorten(out.column), shorten(cell)));
    if (!std::isfinite(*v))
      throw InputError(origin, line_no, fmt::format("column '{}': '{}' is not a finite number", shorten(out.column), shorten(cell)));
    out.values.push_back(*v);
    out.lines.push_back(line_no);
  }
  if (header.empty()) throw InputError(origin, line_no == 0 ? 1 : line_no, "no header row (the file is empty)");
  return out;
}

CsvSeries read_series_csv_file(const std::string& path, const std::string& column) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open the file", path));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw InputError(fmt::format("{}: cannot read the file", path));
  return read_series_csv(ss.str(), path, column);
}

}  // namespace trackiq::analysis
