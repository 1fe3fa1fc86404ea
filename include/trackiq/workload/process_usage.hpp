#pragma once
// What a query's own process used, for workloads that run each query as a process (cmd:).
// A capability beside the Workload interface, found with dynamic_cast once per run:
//   if (auto* src = dynamic_cast<const workload::ProcessUsageSource*>(&w)) ... src->last_usage(worker)
// so that in-process engines (and the plugins' ABI) are unaffected.
#include <cstdint>

namespace trackiq::workload {

// From wait4()'s rusage of the query's process: exact, not sampled. ru_maxrss covers the
// process and the descendants it waited for (Linux takes the larger of the two).
struct ProcessUsage {
  std::int64_t max_rss_bytes = -1;  // -1: no process was reaped (spawn failed)
  std::int64_t user_cpu_ns = -1;
  std::int64_t sys_cpu_ns = -1;
};

class ProcessUsageSource {
 public:
  virtual ~ProcessUsageSource() = default;
  // The usage of the last query that `worker` ran. Called by the same thread as infer(worker),
  // after it returns.
  virtual ProcessUsage last_usage(std::uint32_t worker) const noexcept = 0;
};

}  // namespace trackiq::workload
