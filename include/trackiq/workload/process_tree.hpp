#pragma once
// The resident memory of a process tree (a process and all its descendants), read from /proc
// under a configurable root so that tests can use a fake tree. The cmd: workload samples each
// query's tree with it while the query's process runs (issue #15, item 6): wait4's ru_maxrss is
// exact but covers the process and only the largest single descendant it waited for (Linux keeps
// the maximum, not the sum), and nothing of descendants running at the same time.
//
//   trackiq::workload::ProcessTreeReader tree;             // the real /proc
//   const auto s = tree.read(child_pid);
//   if (s.processes > 0) std::printf("%lld B in %u processes\n", s.rss_bytes, s.processes);
//
// Descendants are found through /proc/<pid>/task/<tid>/children (Linux ≥ 3.5 with
// CONFIG_PROC_CHILDREN, as Debian's kernels have), else by reading the parent pid of every
// /proc/<pid>/stat. RSS is statm's resident pages × the page size, summed over the tree: pages
// shared between processes of the tree (libraries, copy-on-write after fork) count once per
// process, so the sum is an upper bound of the tree's memory. A descendant whose parent exited
// is re-parented outside the tree (to init or a subreaper) and is no longer counted.
//
// Thread-safety: read() may be called from several threads at once (it keeps no state).
#include <cstdint>
#include <string>

namespace trackiq::workload {

struct ProcessTreeSample {
  std::int64_t rss_bytes = 0;  // Σ resident memory of the processes found
  std::uint32_t processes = 0;  // live processes counted; 0: the root is gone or a zombie
};

class ProcessTreeReader {
 public:
  // `root` prefixes /proc ("/" for the real one).
  explicit ProcessTreeReader(std::string root = "/");

  ProcessTreeSample read(int pid) const;

 private:
  std::string proc_;  // root + "/proc"
  std::int64_t page_bytes_;
};

}  // namespace trackiq::workload
