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

// A reader joins lines while a quoted field is open; the rules are split_csv_record's.
TEST(CsvQuoteOpen, FollowsTheSplittersQuotingRules) {
  EXPECT_FALSE(csv_quote_open("a,b"));
  EXPECT_TRUE(csv_quote_open("a,\"two"));
  EXPECT_FALSE(csv_quote_open("a,\"two\nlines\",b"));
  EXPECT_TRUE(csv_quote_open("\"say \"\"hi\"\""))  << "an escaped quote does not close the field";
  EXPECT_FALSE(csv_quote_open("x\"y,z")) << "a quote inside an unquoted field is data";
  EXPECT_FALSE(csv_quote_open("\"ab\"c\"d")) << "after the closing quote, quotes are data";
  EXPECT_TRUE(csv_quote_open("a,\""));
  EXPECT_FALSE(csv_quote_open(""));
  const std::string joined = std::string("\"two") + "\n" + "lines\",3";
  EXPECT_EQ(split_csv_record(joined, "f", 1), (V{"two\nlines", "3"}));
}

}  // namespace
}  // namespace trackiq
