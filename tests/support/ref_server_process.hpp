#pragma once
// Runs tests/support/ref_server.cpp (trackiq_ref_server, path in trackiq::test::kRefServer) on a free
// loopback port for the duration of a test; SIGTERM on destruction.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>
#include "support/test_paths.hpp"

extern char** environ;

namespace trackiq::test {

// Starts trackiq_ref_server on a free port; stops it (SIGTERM) on destruction.
class RefServer {
 public:
  explicit RefServer(std::vector<std::string> extra = {}, std::string binary = trackiq::test::kRefServer) {
    dir_ = std::filesystem::temp_directory_path() / ("trackiq-ref-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    const std::string port_file = (dir_ / "port").string();
    std::vector<std::string> args{binary, "--port-file", port_file};
    for (auto& e : extra) args.push_back(e);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    if (::posix_spawn(&pid_, args[0].c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 500 && port_.empty(); ++i) {
      std::ifstream in(port_file);
      std::getline(in, port_);
      if (port_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~RefServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + port_ + path; }
  bool ok() const { return pid_ > 0 && !port_.empty(); }

 private:
  static inline int counter_ = 0;
  pid_t pid_ = -1;
  std::string port_;
  std::filesystem::path dir_;
};

}  // namespace trackiq::test
