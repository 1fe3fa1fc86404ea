#pragma once
// Small helpers shared by the subcommands.
#include <algorithm>
#include <string>
#include <vector>

namespace trackiq::cli {

// "a,b,,c" -> {"a", "b", "c"}: comma-separated flag values, empty items dropped.
inline std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(',', start), text.size());
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace trackiq::cli
