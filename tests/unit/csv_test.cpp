// split_csv_record: the one CSV record splitter of the importer, load traces and datasets.
#include <gtest/gtest.h>

#include "trackiq/core/csv.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq {
namespace {

using V = std::vector<std::string>;

TEST(SplitCsvRecord, QuotingRules) {
  EXPECT_EQ(split_csv_record("a,b,,c", "f", 1), (V{"a", "b", "", "c"}));
  EXPECT_EQ(split_csv_record("\"b, c\",\"d \"\"e\"\"\"", "f", 1), (V{"b, c", "d \"e\""}));
  EXPECT_EQ(split_csv_record("", "f", 1), (V{""}));
  EXPECT_EQ(split_csv_record("x\"y,z", "f", 1), (V{"x\"y", "z"})) << "a quote inside an unquoted field is data";
  try {
    split_csv_record("a,\"open", "data.csv", 7);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("data.csv:7"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace trackiq
