#pragma once
// Splitting one CSV record (RFC 4180 quoting), shared by every reader of CSV input: the importer,
// load traces and load datasets. Records span one line (no newline inside quotes); the caller
// strips the line end.
//
//   split_csv_record("a,\"b, c\",\"d \"\"e\"\"\"", "f.csv", 3)  →  {"a", "b, c", "d \"e\""}
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trackiq {

// A quote opens a quoted field only at the start of the field; "" inside quotes is one quote.
// Throws InputError(origin, line, "unterminated quoted field").
std::vector<std::string> split_csv_record(std::string_view line, const std::string& origin, std::uint64_t line_no);

}  // namespace trackiq
