#pragma once
// One numeric column of a CSV file as a series, for `trackiq analyze changepoints` and other
// analyzers of a column of measurements. The file has a header row; records are split by
// split_csv_record (RFC 4180 quoting, one line per record).
//
//   const auto s = trackiq::analysis::read_series_csv("run,ms\n1,12.5\n2,12.7\n", "f.csv");
//   // s.column == "ms", s.values == {12.5, 12.7}, s.lines == {2, 3}
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trackiq::analysis {

struct CsvSeries {
  std::string column;                // the header of the column read
  std::vector<double> values;        // in file order
  std::vector<std::uint64_t> lines;  // the 1-based line of each value
};

// Reads `column` (a header name), or, when it is empty, the first column whose cell in the first
// data row is a number. Blank lines are skipped; a UTF-8 byte-order mark and CR line ends are
// accepted. Cells are trimmed of spaces and tabs, and parsed locale-independently (a leading '+'
// is accepted). Every other problem is an InputError(origin, line, what): no header row, an
// unknown column (the message lists the columns), no numeric column, a row too short for the
// column, an empty cell, a cell that is not a number, NaN or an infinite value.
// A file with a header and no data rows gives an empty series.
CsvSeries read_series_csv(std::string_view text, const std::string& origin, const std::string& column = "");

// The same, from a file (InputError when it cannot be read).
CsvSeries read_series_csv_file(const std::string& path, const std::string& column = "");

}  // namespace trackiq::analysis
