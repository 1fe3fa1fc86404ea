// ProcessTreeReader: the summed RSS of a process and its descendants, against fake /proc trees
// (both ways of finding children: the task children files, and the ppid scan of every stat)
// and against this process with a forked child that holds a known allocation.
#include "trackiq/workload/process_tree.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace trackiq::workload {
namespace {

namespace fs = std::filesystem;

class FakeProc {
 public:
  explicit FakeProc(bool children_files) : children_files_(children_files) {
    root_ = fs::temp_directory_path() /
            ("trackiq_tree_" + std::to_string(::getpid()) + (children_files ? "_children" : "_scan"));
    fs::remove_all(root_);
  }
  ~FakeProc() { fs::remove_all(root_); }
  // A process with `threads` tasks (tids pid, pid+1, ...); children listed on its last task.
  void process(int pid, int ppid, std::int64_t resident_pages, const std::string& children, int threads = 1) const {
    const fs::path dir = root_ / "proc" / std::to_string(pid);
    fs::create_directories(dir);
    std::ofstream(dir / "statm") << resident_pages * 3 << ' ' << resident_pages << " 100 10 0 50 0\n";
    std::ofstream(dir / "stat") << pid << " (a (b) c) S " << ppid << " 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 0 0\n";
    for (int t = 0; t < threads; ++t) {
      const fs::path task = dir / "task" / std::to_string(pid + t);
      fs::create_directories(task);
      if (children_files_) std::ofstream(task / "children") << (t == threads - 1 ? children : "");
    }
  }
  std::string root() const { return root_.string(); }

 private:
  fs::path root_;
  bool children_files_;
};

void build_tree(const FakeProc& p) {
  // 100 ─┬─ 200 ── 400 (a grandchild)
  //      ├─ 300 (on the second thread's children list)
  //      └─ 600 (a zombie: statm all 0, not counted)
  // 500: not in the tree (its parent is 1).
  p.process(1, 0, 1, "100 500 ");
  p.process(100, 1, 1000, "200 300 600", 2);
  p.process(600, 100, 0, "");
  p.process(200, 100, 2000, "400");
  p.process(300, 100, 3000, "");
  p.process(400, 200, 4000, "");
  p.process(500, 1, 99999, "");
}

TEST(ProcessTree, SumsAProcessAndItsDescendantsFromTheChildrenFiles) {
  const FakeProc p(true);
  build_tree(p);
  const ProcessTreeReader reader(p.root());
  const auto page = ::sysconf(_SC_PAGESIZE);
  const ProcessTreeSample s = reader.read(100);
  EXPECT_EQ(s.processes, 4u);
  EXPECT_EQ(s.rss_bytes, (1000 + 2000 + 3000 + 4000) * page);
  EXPECT_EQ(reader.read(200).rss_bytes, (2000 + 4000) * page);
  EXPECT_EQ(reader.read(999).processes, 0u);  // gone
}

TEST(ProcessTree, FindsTheSameTreeByParentPidsWithoutChildrenFiles) {
  const FakeProc p(false);
  build_tree(p);
  const ProcessTreeReader reader(p.root() + "/");
  const auto page = ::sysconf(_SC_PAGESIZE);
  const ProcessTreeSample s = reader.read(100);
  EXPECT_EQ(s.processes, 4u);
  EXPECT_EQ(s.rss_bytes, (1000 + 2000 + 3000 + 4000) * page);
}

TEST(ProcessTree, CountsARealChildsAllocation) {
  constexpr std::size_t kBytes = 96u << 20;
  int ready[2], release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const ProcessTreeReader reader;
  const ProcessTreeSample alone = reader.read(::getpid());
  ASSERT_GE(alone.processes, 1u);
  ASSERT_GT(alone.rss_bytes, 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto* block = static_cast<char*>(std::malloc(kBytes));
    std::memset(block, 1, kBytes);
    char c = 'r';
    (void)!::write(ready[1], &c, 1);
    (void)!::read(release[0], &c, 1);
    ::_exit(block[kBytes - 1] == 1 ? 0 : 1);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  const ProcessTreeSample with_child = reader.read(::getpid());
  const ProcessTreeSample child_only = reader.read(child);
  (void)!::write(release[1], &c, 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_EQ(with_child.processes, alone.processes + 1);
  EXPECT_GE(child_only.rss_bytes, static_cast<std::int64_t>(kBytes));
  EXPECT_GE(with_child.rss_bytes, alone.rss_bytes + static_cast<std::int64_t>(kBytes) - (8 << 20));
  for (int fd : {ready[0], ready[1], release[0], release[1]}) ::close(fd);
}

}  // namespace
}  // namespace trackiq::workload
