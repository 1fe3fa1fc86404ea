#pragma once
// A program running beside a test (a server under test, a real Prometheus), and waiting on what
// it prints. Header-only: used by cli_light_test and examples_test.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"

namespace trackiq::test {

// A program running beside the test, stdout and stderr to `log`; SIGTERM when destroyed.
class Background {
 public:
  Background(std::vector<std::string> args, const std::string& log) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    if (posix_spawnp(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Background() { stop(); }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  bool ok() const { return pid_ > 0; }
  // SIGTERM, then waits: the exit code (-1 when killed by a signal or not running).
  int stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

// Polls `pred` every 250 ms for up to `seconds`.
template <class F>
bool eventually(double seconds, F pred) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return pred();
}

// The host:port a background program prints in its log (`pattern` captures it), within `seconds`
// ("" when it does not).
inline std::string address_in_log(const std::string& log, const std::string& pattern, double seconds = 10) {
  std::string target;
  eventually(seconds, [&] {
    std::smatch m;
    const std::string text = read_file(log);
    if (std::regex_search(text, m, std::regex(pattern))) target = m[1];
    return !target.empty();
  });
  return target;
}

// A loopback port free now (for programs that cannot bind port 0 and say which they got).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A real Prometheus server (Debian `prometheus`) scraping `target` every second, in `dir`; query()
// runs PromQL through its HTTP API and prints "metric [labels] value" per series of the result.
class RealPrometheus {
 public:
  RealPrometheus(const TempDir& dir, const std::string& job, const std::string& target)
      : port_(free_port()),
        config_(write_config(dir, job, target)),
        log_(dir.file("prometheus.log")),
        server_({"prometheus", "--config.file=" + config_, "--storage.tsdb.path=" + dir.file("tsdb"),
                 "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
                log_) {}
  bool ok() const { return server_.ok(); }
  const std::string& log() const { return log_; }
  std::string query(const std::string& promql) const {
    return run_process({"/usr/bin/python3", "-c",
                        "import json, sys, urllib.parse, urllib.request\n"
                        "u = sys.argv[1] + '/api/v1/query?query=' + urllib.parse.quote(sys.argv[2])\n"
                        "for r in json.load(urllib.request.urlopen(u))['data']['result']:\n"
                        "    m = r['metric']\n"
                        "    print(m.pop('__name__', ''), sorted(m.items()), r['value'][1])\n",
                        "http://127.0.0.1:" + std::to_string(port_), promql})
        .out;
  }

 private:
  static std::string write_config(const TempDir& dir, const std::string& job, const std::string& target) {
    std::ofstream(dir.file("prometheus.yml")) << "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                                                 "scrape_configs:\n  - job_name: "
                                              << job << "\n    static_configs: [{targets: ['" << target << "']}]\n";
    return dir.file("prometheus.yml");
  }
  int port_;
  std::string config_, log_;
  Background server_;
};

}  // namespace trackiq::test
