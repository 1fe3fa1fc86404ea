#pragma once
// Small helpers shared by the subcommands.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "trackiq/core/error.hpp"

namespace trackiq::cli {

// The --store flag's help, the same for every command that opens the store.
inline constexpr const char* kStoreHelp =
    "Results store: a SQLite file or a postgresql://user:pass@host:port/db URL "
    "(default $TRACKIQ_STORE, else ~/.local/share/trackiq/trackiq.db)";

// The whole file, bytes as they are; InputError "PATH: cannot read ..." when it cannot be opened.
inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "cannot read (no such file or no permission)");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

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

// "KEY=VALUE" -> {KEY, VALUE}; InputError naming `flag` when there is no '=' or no key.
inline std::pair<std::string, std::string> key_value(const std::string& item, const char* flag) {
  const auto eq = item.find('=');
  if (eq == std::string::npos || eq == 0) throw InputError(fmt::format("{} '{}': expected KEY=VALUE", flag, item));
  return {item.substr(0, eq), item.substr(eq + 1)};
}

}  // namespace trackiq::cli
