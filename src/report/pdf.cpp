// PDF reports (REP-3): the HTML report printed by headless Chromium.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "trackiq/core/error.hpp"
#include "trackiq/core/result.hpp"
#include "trackiq/report/html.hpp"

extern char** environ;

namespace trackiq::report {
namespace {

namespace fs = std::filesystem;

bool executable(const fs::path& p) { return ::access(p.c_str(), X_OK) == 0 && fs::is_regular_file(p); }

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A private temporary directory, removed with everything in it on scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "trackiq-pdf-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw Error(fmt::format("cannot create a temporary directory in {}", fs::temp_directory_path().string()));
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

std::string find_chromium() {
  if (const char* env = std::getenv("TRACKIQ_CHROMIUM"); env && *env) return executable(env) ? env : "";
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::vector<std::string> entries;
  for (std::string d; std::getline(dirs, d, ':');) entries.push_back(d.empty() ? "." : d);
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
    for (const auto& d : entries)
      if (const fs::path p = fs::path(d) / name; executable(p)) return p.string();
  return "";
}

std::string require_chromium() {
  std::string browser = find_chromium();
  if (browser.empty())
    throw NotAvailableError(
        "PDF reports are printed by headless Chromium, and none was found (looked for $TRACKIQ_CHROMIUM, then chromium, "
        "chromium-browser and google-chrome on PATH; on Debian: apt-get install chromium)");
  return browser;
}

void print_pdf(const std::string& html, const std::string& pdf_path, int timeout_ms) {
  const std::string browser = require_chromium();
  TempDir tmp;
  const fs::path page = tmp.path() / "report.html";
  const fs::path out = tmp.path() / "report.pdf";
  const fs::path log = tmp.path() / "chromium.log";
  write_file_atomic(page.string(), html);

  std::vector<std::string> args{browser,
                                "--headless",
                                "--disable-gpu",
                                "--no-sandbox",  // CI runs as root, where Chromium's sandbox cannot start
                                "--no-first-run",
                                "--disable-extensions",
                                "--user-data-dir=" + (tmp.path() / "profile").string(),
                                "--no-pdf-header-footer",
                                "--run-all-compositor-stages-before-draw",
                                "--virtual-time-budget=20000",
                                "--print-to-pdf=" + out.string(),
                                "file://" + page.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);  // its own group: a timeout kills every child
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, browser.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw Error(fmt::format("cannot start {}: {}", browser, std::strerror(rc)));

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) throw Error(fmt::format("waiting for {}: {}", browser, std::strerror(errno)));
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      throw Error(fmt::format("{} did not print the PDF within {} s", browser, timeout_ms / 1000));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(-pid, SIGKILL);  // helpers Chromium may have left behind in its group
  std::error_code ec;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !fs::is_regular_file(out, ec) || fs::file_size(out, ec) == 0) {
    std::string why = read_all(log);
    if (why.size() > 2000) why = "…" + why.substr(why.size() - 2000);
    throw Error(fmt::format("{} failed to print the PDF ({}): {}", browser,
                            WIFEXITED(status) ? fmt::format("exit {}", WEXITSTATUS(status)) : std::string("killed"), why));
  }
  write_file_atomic(pdf_path, read_all(out));
}

}  // namespace trackiq::report
