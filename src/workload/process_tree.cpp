#include "trackiq/workload/process_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <unordered_map>
#include <vector>

namespace trackiq::workload {
namespace {

// A small /proc file into `buf` (NUL-terminated); the bytes read, or -1.
ssize_t read_small(const std::string& path, char* buf, std::size_t cap) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  std::size_t got = 0;
  while (got + 1 < cap) {
    const ssize_t n = ::read(fd, buf + got, cap - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  buf[got] = '\0';
  return static_cast<ssize_t>(got);
}

// The numeric entries of a directory (pids or tids).
std::vector<int> numeric_entries(const std::string& dir) {
  std::vector<int> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    int v = 0;
    const char* end = e->d_name + std::strlen(e->d_name);
    const auto [p, ec] = std::from_chars(e->d_name, end, v);
    if (ec == std::errc() && p == end && v > 0) out.push_back(v);
  }
  ::closedir(d);
  return out;
}

// Whitespace-separated pids in `text`.
void parse_pids(const char* text, std::vector<int>& out) {
  const char* p = text;
  const char* end = text + std::strlen(text);
  while (p < end) {
    while (p < end && (*p == ' ' || *p == '\n')) ++p;
    int v = 0;
    const auto [next, ec] = std::from_chars(p, end, v);
    if (ec != std::errc()) break;
    if (v > 0) out.push_back(v);
    p = next;
  }
}

}  // namespace

ProcessTreeReader::ProcessTreeReader(std::string root) {
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  proc_ = (root == "/" || root.empty() ? "" : root) + "/proc";
  page_bytes_ = ::sysconf(_SC_PAGESIZE);
}

ProcessTreeSample ProcessTreeReader::read(int pid) const {
  ProcessTreeSample out;
  char buf[4096];
  // The children file exists for every task when the kernel has it: look at the main thread's
  // (tid = pid). Without it, parent → children from every stat.
  const bool children_files = ::access((proc_ + "/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children").c_str(), R_OK) == 0;
  std::unordered_map<int, std::vector<int>> by_parent;
  if (!children_files) {
    for (const int p : numeric_entries(proc_)) {
      if (read_small(proc_ + "/" + std::to_string(p) + "/stat", buf, sizeof buf) <= 0) continue;
      const char* close = std::strrchr(buf, ')');  // comm may hold spaces and parentheses
      if (close == nullptr || close[1] != ' ' || close[2] == '\0') continue;
      int ppid = 0;
      const char* f = close + 4;  // past ") S "
      std::from_chars(f, buf + std::strlen(buf), ppid);
      by_parent[ppid].push_back(p);
    }
  }
  std::vector<int> queue{pid};
  for (std::size_t i = 0; i < queue.size() && i < 100'000; ++i) {
    const std::string dir = proc_ + "/" + std::to_string(queue[i]);
    if (read_small(dir + "/statm", buf, sizeof buf) <= 0) continue;  // exited meanwhile
    std::int64_t size = 0, resident = 0;  // "size resident shared text lib data dt", pages
    const char* end = buf + std::strlen(buf);
    const auto r1 = std::from_chars(buf, end, size);
    if (r1.ec != std::errc() || r1.ptr >= end) continue;
    if (std::from_chars(r1.ptr + 1, end, resident).ec != std::errc()) continue;
    if (size > 0) {  // a zombie (exited, not yet reaped) has no memory and is not counted
      out.rss_bytes += resident * page_bytes_;
      ++out.processes;
    }
    if (children_files) {
      for (const int tid : numeric_entries(dir + "/task"))
        if (read_small(dir + "/task/" + std::to_string(tid) + "/children", buf, sizeof buf) > 0) parse_pids(buf, queue);
    } else if (const auto it = by_parent.find(queue[i]); it != by_parent.end()) {
      queue.insert(queue.end(), it->second.begin(), it->second.end());
    }
  }
  return out;
}

}  // namespace trackiq::workload
