#pragma once
// Runs a real child process for integration tests and captures its output.
#include <string>
#include <vector>

namespace trackiq::test {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (PATH lookup) with stdin from /dev/null; extra_env entries are "K=V" and replace
// inherited variables of the same name.
ProcessResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {});

// Like run_process, but sends `signal` to the child `after_ms` milliseconds after it starts.
// `elapsed_ms` receives the time from start to exit.
ProcessResult run_process_signalled(const std::vector<std::string>& argv, int after_ms, int signal,
                                    double* elapsed_ms = nullptr);

// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string read_file(const std::string& path);

}  // namespace trackiq::test
