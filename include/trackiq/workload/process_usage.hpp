#pragma once
// What a query's own process used, for workloads that run each query as a process (cmd:).
// A capability beside the Workload interface, found with dynamic_cast once per run:
//   if (auto* src = dynamic_cast<const workload::ProcessUsageSource*>(&w)) ... src->last_usage(worker)
// so that in-process engines (and the plugins' ABI) are unaffected.
#include <cstdint>

namespace trackiq::workload {

// From wait4()'s rusage of the query's process: exact, not sampled. ru_maxrss covers the
// process and the descendants it waited for (Linux takes the larger of the two: the largest
// single process, never the sum of processes that ran at the same time). It also covers the
// image the process was exec'd from, TrackIQ's own under posix_spawn: a peak at or below
// TrackIQ's own peak RSS is not known to be the process's, and is left out (-1).
// The tree_* figures are sampled (ProcessTreeReader, every kTreeSampleIntervalNs while the
// process runs): the summed RSS of the process and its live descendants.
struct ProcessUsage {
  std::int64_t max_rss_bytes = -1;  // -1: not known (see above), or no process was reaped
  std::int64_t user_cpu_ns = -1;    // -1: no process was reaped (spawn failed)
  std::int64_t sys_cpu_ns = -1;
  std::int64_t tree_rss_peak_bytes = -1;  // largest sample; -1: no sample found the process
  std::int64_t tree_rss_mean_bytes = -1;  // mean of the samples
  std::uint32_t tree_samples = 0;
  std::uint32_t tree_processes_peak = 0;  // most processes in one sample
};

// How often a cmd: query's process tree is sampled while it runs.
inline constexpr std::int64_t kTreeSampleIntervalNs = 20'000'000;

class ProcessUsageSource {
 public:
  virtual ~ProcessUsageSource() = default;
  // The usage of the last query that `worker` ran. Called by the same thread as infer(worker),
  // after it returns.
  virtual ProcessUsage last_usage(std::uint32_t worker) const noexcept = 0;
};

}  // namespace trackiq::workload
