#pragma once
// Splitting one CSV record (RFC 4180 quoting), shared by every reader of CSV input: the importer,
// load traces and load datasets. The caller strips the line end; a record spans one line unless
// the reader joins lines while csv_quote_open() (load datasets do).
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

// Whether `text` ends inside a quoted field, by split_csv_record's rules. RFC 4180 lets a quoted
// field span line breaks (a prompt of several lines); a reader that allows it appends the next
// line, with "\n", while this is true, then splits the whole record.
bool csv_quote_open(std::string_view text);

}  // namespace trackiq
