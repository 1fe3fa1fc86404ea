#pragma once
// Running the trackiq binary from a test: each store-using command gets the test's own store
// (--store DIR/store.db), and the run id a command stored.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/test_paths.hpp"

namespace trackiq::test {

inline ProcessResult trackiq(std::vector<std::string> args, const TempDir& dir, const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), std::string(trackiq::test::kTrackiqBin));
  if (args.size() > 1 &&
      (args[1] == "run" || args[1] == "runs" || args[1] == "baseline" || args[1] == "compare" || args[1] == "report" ||
       args[1] == "import" || args[1] == "load" || args[1] == "history" || args[1] == "detect")) {
    args.push_back("--store");
    args.push_back(dir.file("store.db"));
  }
  return run_process(args, env);
}

// The run id of "stored     run <id> in <store>" in a command's output ("" and a failure if none).
inline std::string stored_id(const ProcessResult& r) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(r.out, m, std::regex(R"(stored\s+run ([0-9a-f-]{36}) in )"))) << r.out << r.err;
  return m.size() > 1 ? m[1].str() : "";
}

}  // namespace trackiq::test
