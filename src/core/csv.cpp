#include "trackiq/core/csv.hpp"

#include "trackiq/core/error.hpp"

namespace trackiq {

std::vector<std::string> split_csv_record(std::string_view line, const std::string& origin, std::uint64_t line_no) {
  std::vector<std::string> out;
  std::string field;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += ch;
      }
    } else if (ch == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (ch == ',') {
      out.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else {
      field += ch;
    }
  }
  if (quoted) throw InputError(origin, line_no, "unterminated quoted field");
  out.push_back(std::move(field));
  return out;
}

bool csv_quote_open(std::string_view text) {
  bool quoted = false, field_start = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (quoted) {
      if (ch == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') ++i;
        else quoted = false;
      }
    } else if (ch == '"' && field_start) {
      quoted = true;
      field_start = false;
    } else {
      field_start = ch == ',';
    }
  }
  return quoted;
}

}  // namespace trackiq
