// cmd:"COMMAND ARGS": one process per query, timed from spawn to exit. The command line is
// split like a POSIX shell splits words (quotes and backslashes), but no shell runs unless
// the user writes one (cmd:"sh -c '...'"). stdout is discarded; the tail of stderr is kept
// for the error message of a failing query.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "backends.hpp"
#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/workload/process_tree.hpp"
#include "trackiq/workload/process_usage.hpp"

extern char** environ;

namespace trackiq::workload {

// Splits a command line into argv: whitespace separates words; '...' is literal; "..." allows
// \" \\ \$ \` escapes; a backslash outside quotes escapes the next character.
std::vector<std::string> split_command_line(const std::string& line) {
  std::vector<std::string> args;
  std::string cur;
  bool in_word = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\'') {
      const auto end = line.find('\'', i + 1);
      if (end == std::string::npos) throw InputError("cmd: unterminated single quote in: " + line);
      cur += line.substr(i + 1, end - i - 1);
      i = end;
      in_word = true;
    } else if (c == '"') {
      ++i;
      for (; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size() && std::strchr("\"\\$`", line[i + 1])) ++i;
        cur += line[i];
      }
      if (i >= line.size()) throw InputError("cmd: unterminated double quote in: " + line);
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 >= line.size()) throw InputError("cmd: trailing backslash in: " + line);
      cur += line[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) args.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) args.push_back(std::move(cur));
  return args;
}

namespace {

constexpr std::size_t kStderrTail = 512;

std::string resolve_executable(const std::string& name) {
  namespace fs = std::filesystem;
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) != 0) throw InputError(name, 0, "not an executable file");
    return name;
  }
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= p.size()) {
    const auto end = std::min(p.find(':', start), p.size());
    const std::string dir = end > start ? p.substr(start, end - start) : ".";
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) return candidate;
    start = end + 1;
  }
  throw InputError(fmt::format("cmd: '{}' not found on PATH", name));
}

// The samples of one query's process tree (those that found the process).
struct TreeStats {
  std::int64_t peak = 0;
  double sum = 0;
  std::uint32_t samples = 0;
  std::uint32_t processes_peak = 0;
  void add(const ProcessTreeSample& s) {
    if (s.processes == 0) return;
    peak = std::max(peak, s.rss_bytes);
    sum += static_cast<double>(s.rss_bytes);
    ++samples;
    processes_peak = std::max(processes_peak, s.processes);
  }
};

class CommandWorkload final : public Workload, public ProcessUsageSource {
 public:
  explicit CommandWorkload(const WorkloadOptions& o) {
    desc_ = base_descriptor(o, "cmd", o.spec.substr(4), {"fp32"});
    desc_.precision = "unknown";  // the command's own business: TrackIQ sets none and knows none
    if (!o.shapes.empty()) throw InputError("cmd: --shape does not apply to external commands");
    argv_ = split_command_line(desc_.model);
    if (argv_.empty()) throw InputError("cmd: needs a command, e.g. cmd:\"./infer --model m.onnx\"");
    exe_ = resolve_executable(argv_[0]);
  }

  void prepare(std::uint32_t workers) override {
    usage_.assign(workers, ProcessUsage{});
    argv_c_.clear();
    for (auto& a : argv_) argv_c_.push_back(a.data());
    argv_c_.push_back(nullptr);
    // No validation run: a command may have side effects, and its failures are counted.
  }

  ProcessUsage last_usage(std::uint32_t worker) const noexcept override {
    return worker < usage_.size() ? usage_[worker] : ProcessUsage{};
  }

  InferOutcome infer(std::uint32_t worker) noexcept override {
    if (worker < usage_.size()) usage_[worker] = ProcessUsage{};
    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) return {false, "spawn", strerrordesc_np(errno)};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, exe_.c_str(), &actions, nullptr, argv_c_.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(err_pipe[1]);
    if (rc != 0) {
      ::close(err_pipe[0]);
      return {false, "spawn", fmt::format("cannot start {}: {}", exe_, strerrordesc_np(rc))};
    }
    // While the process runs, its tree is sampled every kTreeSampleIntervalNs: first while stderr
    // is drained until EOF (the child and its descendants closed it), keeping the tail; then, if
    // the process outlives its stderr, until it exits (a pidfd becomes readable then).
    // The first sample is one interval in: at the spawn the new image has not been loaded yet
    // (4-16 KiB of stack and arguments), which read as a tree peak for every short command. A
    // process that ends sooner is not sampled, and the count of sampled queries says so.
    TreeStats tree;
    std::int64_t next_sample = now_ns() + kTreeSampleIntervalNs;
    auto sample_due = [&]() -> int {  // samples when due; the ms until the next one
      const std::int64_t now = now_ns();
      if (now >= next_sample) {
        tree.add(tree_reader_.read(pid));
        next_sample = now + kTreeSampleIntervalNs;
      }
      return static_cast<int>((next_sample - now + 999'999) / 1'000'000);
    };
    char buf[4096];
    char tail[kStderrTail];
    std::size_t tail_len = 0;
    for (;;) {
      pollfd pfd{err_pipe[0], POLLIN, 0};
      const int ready = ::poll(&pfd, 1, sample_due());
      if (ready == 0 || (ready < 0 && errno == EINTR)) continue;
      if (ready < 0) break;
      const ssize_t n = ::read(err_pipe[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      const auto m = static_cast<std::size_t>(n);
      if (m >= kStderrTail) {
        std::memcpy(tail, buf + m - kStderrTail, kStderrTail);
        tail_len = kStderrTail;
      } else {
        const std::size_t keep = std::min(tail_len, kStderrTail - m);
        std::memmove(tail, tail + tail_len - keep, keep);
        std::memcpy(tail + keep, buf, m);
        tail_len = keep + m;
      }
    }
    ::close(err_pipe[0]);
    if (const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); pidfd >= 0) {
      for (;;) {  // without a pidfd (Linux < 5.3), wait4 below just blocks
        pollfd pfd{pidfd, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, sample_due());
        if (ready > 0 || (ready < 0 && errno != EINTR)) break;
      }
      ::close(pidfd);
    }
    int status = 0;
    struct rusage ru {};
    while (::wait4(pid, &status, 0, &ru) < 0) {
      if (errno != EINTR) return {false, "wait", strerrordesc_np(errno)};
    }
    if (worker < usage_.size()) {
      auto ns = [](const timeval& t) { return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_usec * 1'000; };
      ProcessUsage& u = usage_[worker];
      // A spawned process's ru_maxrss starts at its parent's peak: exec() keeps the larger of the
      // process's high-water mark and the image it replaces, which under posix_spawn is
      // TrackIQ's own (a 1 MiB `true` read 13.5 MiB). TrackIQ's ru_maxrss now bounds that
      // inherited floor from above; a figure at or below it is not known to be the process's own.
      const std::int64_t max_rss = static_cast<std::int64_t>(ru.ru_maxrss) * 1024;  // ru_maxrss: KiB
      rusage self{};
      const bool above_floor =
          ::getrusage(RUSAGE_SELF, &self) == 0 && max_rss > static_cast<std::int64_t>(self.ru_maxrss) * 1024;
      u = {above_floor ? max_rss : -1, ns(ru.ru_utime), ns(ru.ru_stime)};
      if (tree.samples > 0) {
        u.tree_rss_peak_bytes = tree.peak;
        u.tree_rss_mean_bytes = static_cast<std::int64_t>(tree.sum / static_cast<double>(tree.samples) + 0.5);
        u.tree_samples = tree.samples;
        u.tree_processes_peak = tree.processes_peak;
      }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
    std::string stderr_tail(tail, tail_len);
    while (!stderr_tail.empty() && (stderr_tail.back() == '\n' || stderr_tail.back() == '\r')) stderr_tail.pop_back();
    if (WIFSIGNALED(status))
      return {false, "signal", fmt::format("killed by signal {} ({}); stderr: {}", WTERMSIG(status),
                                           sigdescr_np(WTERMSIG(status)), stderr_tail)};
    return {false, "exit_status", fmt::format("exit status {}; stderr: {}", WEXITSTATUS(status), stderr_tail)};
  }

  const WorkloadDescriptor& descriptor() const noexcept override { return desc_; }

 private:
  WorkloadDescriptor desc_;
  std::vector<std::string> argv_;
  std::vector<char*> argv_c_;
  std::string exe_;
  std::vector<ProcessUsage> usage_;  // per worker; element w is written and read by worker w's thread only
  ProcessTreeReader tree_reader_;    // the real /proc; stateless, shared by the workers
};

}  // namespace

std::unique_ptr<Workload> make_command_workload(const WorkloadOptions& options) {
  return std::make_unique<CommandWorkload>(options);
}

}  // namespace trackiq::workload
