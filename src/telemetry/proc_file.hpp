#pragma once
// Private to telemetry: a small text file that a collector reads in full on every sample.
#include <sys/types.h>

#include <cstddef>
#include <string>

namespace trackiq::telemetry {

// A /proc, /sys or cgroup file read on every sample through a descriptor kept open between
// samples: one pread() at offset 0 per sample instead of open + read + read + close (the path
// walk, the file setup and the teardown were ~40 % of a sample's CPU; docs/performance.md §4).
//
// Why a kept descriptor sees current values: procfs, sysfs and cgroupfs generate a file's text
// on each read from offset 0 (seq_file restarts there), so nothing is cached between samples.
// A file on any other file system (the fake trees of the tests, a tmpfs) is checked with fstat()
// before each read and opened again when it was removed or replaced by a rename; a file
// rewritten in place is simply read again.
//
// A failed read closes the descriptor and the next read opens the path again, so a file that
// vanished (a hot-unplugged sensor, a process that exited) reads as missing and one that comes
// back is found again, as with a fresh open() on every sample. A path that does not exist costs
// one failed open() per read; a collector that knows a file cannot appear leaves it out instead.
//
// At most kMaxKeptOpen descriptors are kept process-wide (a machine with hundreds of CPU
// frequency files must not eat the descriptors a load test needs); beyond that a file is opened
// and closed on each read, as before.
//
// Not thread-safe: one collector, read from one thread at a time (Collector::sample's contract).
// read() does not allocate.
class ProcFile {
 public:
  static constexpr int kMaxKeptOpen = 256;

  ProcFile() = default;  // no file: read() returns -1 without a system call
  // Opens `path` now when it can (at construction, outside the sampling path).
  explicit ProcFile(std::string path);
  ~ProcFile();
  ProcFile(ProcFile&& other) noexcept;
  ProcFile& operator=(ProcFile&& other) noexcept;
  ProcFile(const ProcFile&) = delete;
  ProcFile& operator=(const ProcFile&) = delete;

  // The file's current text into `buf`, NUL-terminated, at most cap - 1 bytes (a longer file is
  // cut there). Returns the bytes read, or -1 (no such file, EACCES, a sensor's EINVAL/ENODATA,
  // a process that exited ...).
  ssize_t read(char* buf, std::size_t cap) noexcept;
  // The first number in the file (e.g. sysfs "45000\n"); NaN when unreadable or not a number.
  double read_number() noexcept;

  const std::string& path() const noexcept { return path_; }
  // Whether a descriptor is held right now (for tests and the benchmark's notes).
  bool is_open() const noexcept { return fd_ >= 0; }

 private:
  bool open_fd() noexcept;
  void close_fd() noexcept;

  std::string path_;
  int fd_ = -1;
  bool generated_ = false;  // on procfs, sysfs or cgroupfs: text made anew by each read
  bool kept_ = false;       // holds one of the kMaxKeptOpen slots
};

}  // namespace trackiq::telemetry
