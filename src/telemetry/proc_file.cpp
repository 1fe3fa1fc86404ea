#include "proc_file.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <limits>
#include <utility>

namespace trackiq::telemetry {
namespace {

std::atomic<int> g_kept_open{0};  // descriptors held by ProcFiles, process-wide

bool on_generated_fs(int fd) noexcept {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0) return false;
  switch (static_cast<unsigned long>(fs.f_type)) {
    case PROC_SUPER_MAGIC:
    case SYSFS_MAGIC:
    case CGROUP_SUPER_MAGIC:
    case CGROUP2_SUPER_MAGIC:
      return true;
    default:
      return false;
  }
}

}  // namespace

ProcFile::ProcFile(std::string path) : path_(std::move(path)) {
  if (open_fd() && !kept_) close_fd();
}

ProcFile::~ProcFile() { close_fd(); }

ProcFile::ProcFile(ProcFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      generated_(other.generated_),
      kept_(std::exchange(other.kept_, false)) {}

ProcFile& ProcFile::operator=(ProcFile&& other) noexcept {
  if (this != &other) {
    close_fd();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    generated_ = other.generated_;
    kept_ = std::exchange(other.kept_, false);
  }
  return *this;
}

bool ProcFile::open_fd() noexcept {
  if (path_.empty()) return false;
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return false;
  generated_ = on_generated_fs(fd_);
  if (!kept_) {
    int n = g_kept_open.load(std::memory_order_relaxed);
    while (n < kMaxKeptOpen && !g_kept_open.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) {
    }
    kept_ = n < kMaxKeptOpen;
  }
  return true;
}

void ProcFile::close_fd() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (kept_) g_kept_open.fetch_sub(1, std::memory_order_relaxed);
  kept_ = false;
}

ssize_t ProcFile::read(char* buf, std::size_t cap) noexcept {
  if (cap == 0) return -1;
  if (fd_ >= 0 && !generated_) {
    // A plain file: removed, or replaced by a rename (the old inode has no name left)?
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || st.st_nlink == 0) close_fd();
  }
  if (fd_ < 0 && !open_fd()) return -1;
  std::size_t got = 0;
  while (got + 1 < cap) {
    const ssize_t n = ::pread(fd_, buf + got, cap - 1 - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close_fd();
      return -1;
    }
    got += static_cast<std::size_t>(n);
    // A generated file's text comes whole from one read at offset 0 (seq_file fills the buffer
    // until the text ends): a short read is the end, and the empty read that would confirm it
    // is a system call saved. A plain file is read to EOF.
    if (n == 0 || generated_) break;
  }
  if (!kept_) close_fd();
  buf[got] = '\0';
  return static_cast<ssize_t>(got);
}

double ProcFile::read_number() noexcept {
  char buf[64];
  const ssize_t n = read(buf, sizeof buf);
  if (n <= 0) return std::numeric_limits<double>::quiet_NaN();
  const char* p = buf;
  while (*p == ' ') ++p;
  double v = 0;
  auto [end, ec] = std::from_chars(p, buf + n, v);
  return ec == std::errc() && end != p ? v : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace trackiq::telemetry
