// read_series_csv: one numeric column of a CSV as a series; every bad cell is `file:line: what`.
#include <gtest/gtest.h>

#include <string>

#include "trackiq/analysis/series_csv.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::analysis {
namespace {

std::string error_of(const std::string& text, const std::string& column = "") {
  try {
    read_series_csv(text, "s.csv", column);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SeriesCsv, ReadsTheFirstNumericColumnWithTheLineOfEachValue) {
  const auto s = read_series_csv("commit,date,latency_ms,rps\nabc,2024-01-01,12.5,80\n\ndef,2024-01-02,1e1,81\n", "s.csv");
  EXPECT_EQ(s.column, "latency_ms");
  EXPECT_EQ(s.values, (std::vector<double>{12.5, 10.0}));
  EXPECT_EQ(s.lines, (std::vector<std::uint64_t>{2, 4}));
}

TEST(SeriesCsv, ReadsANamedColumnWithQuotesSpacesBomAndCrLf) {
  const std::string text = "\xEF\xBB\xBF" "name,\"p99 ms\", rps \r\n\"a,b\",\"+3.25\" ,\t1\r\nc,-4,2\r\n";
  const auto s = read_series_csv(text, "s.csv", "rps");
  EXPECT_EQ(s.column, "rps");
  EXPECT_EQ(s.values, (std::vector<double>{1, 2}));
  const auto p99 = read_series_csv(text, "s.csv", "p99 ms");
  EXPECT_EQ(p99.values, (std::vector<double>{3.25, -4}));
  EXPECT_EQ(read_series_csv(text, "s.csv").column, "p99 ms") << "the first numeric column";
}

TEST(SeriesCsv, AHeaderWithoutRowsIsAnEmptySeries) {
  const auto s = read_series_csv("a,b\n\n", "s.csv");
  EXPECT_TRUE(s.values.empty());
  EXPECT_EQ(read_series_csv("a,b\n", "s.csv", "b").column, "b");
}

TEST(SeriesCsv, BadCellsAreFileLineErrors) {
  EXPECT_EQ(error_of("x\n1\n2\nabc\n"), "s.csv:4: column 'x': 'abc' is not a number");
  EXPECT_EQ(error_of("x\n1\nnan\n"), "s.csv:3: column 'x': 'nan' is not a finite number");
  EXPECT_EQ(error_of("x\n1\n-inf\n"), "s.csv:3: column 'x': '-inf' is not a finite number");
  EXPECT_EQ(error_of("x\n1\n1e999\n"), "s.csv:3: column 'x': '1e999' is not a number");
  EXPECT_EQ(error_of("x,y\n1,2\n ,3\n"), "s.csv:3: column 'x': empty cell");
  EXPECT_EQ(error_of("x,y\n1,2\n3,4\n5\n", "y"), "s.csv:4: the row has 1 field, column 'y' is field 2");
  EXPECT_EQ(error_of("x,y\n1,2\n", "z"), "s.csv:1: no column 'z' (columns: x, y)");
  EXPECT_EQ(error_of("x,y\na,b\n"), "s.csv:2: no numeric column in the first data row (columns: x, y); name one with --column");
  EXPECT_EQ(error_of(""), "s.csv:1: no header row (the file is empty)");
  EXPECT_EQ(error_of("x\n\"1\n"), "s.csv:2: unterminated quoted field");
  EXPECT_EQ(error_of("x\n1\n1.5.2\n"), "s.csv:3: column 'x': '1.5.2' is not a number");
}

TEST(SeriesCsv, MissingFileIsAnInputError) {
  EXPECT_THROW(read_series_csv_file("/nonexistent/trackiq/s.csv"), InputError);
}

}  // namespace
}  // namespace trackiq::analysis
