// The stored history of a series (store.hpp: series_history), shared by `trackiq compare` and
// `trackiq serve`'s /compare so that both find the same run-to-run noise.
#include <fmt/format.h>

#include "trackiq/store/store.hpp"

namespace trackiq::store {

std::vector<Result> series_history(Store& st, const Result& base, const Result& cur,
                                   std::size_t limit) {
  RunFilter filter;
  filter.product = base.labels.product;
  filter.hardware = base.environment.hardware_fingerprint;
  filter.limit = 0;
  std::vector<Result> runs;
  bool has_base = false;
  const std::string workload = base.workload.backend + ":" + base.workload.model;
  // The same configuration: what ran and how it was driven, not only the model's name.
  auto same_config = [&base](const Result& r) {
    const auto &a = base.workload, &b = r.workload;
    const auto &x = base.scenario, &y = r.scenario;
    return a.backend == b.backend && a.model == b.model && a.model_hash == b.model_hash &&
           a.batch_size == b.batch_size && a.precision == b.precision && a.device == b.device &&
           a.threads == b.threads && a.options == b.options && x.name == y.name &&
           x.workers == y.workers && x.qps == y.qps && x.samples_per_query == y.samples_per_query;
  };
  for (const auto& r : st.list(filter)) {  // newest first
    if (runs.size() >= limit) break;
    if (r.workload != workload || r.scenario != base.scenario.name ||
        r.version != base.labels.version || r.run_id == cur.run_id)
      continue;
    Result run = st.load(r.run_id);
    if (!same_config(run)) continue;
    has_base |= r.run_id == base.run_id;
    runs.push_back(std::move(run));
  }
  if (!has_base) {
    if (runs.size() >= limit && !runs.empty()) runs.pop_back();
    runs.insert(runs.begin(), base);
  }
  return runs;
}

std::string series_history_source(const Result& base, std::size_t runs) {
  // The version is part of the series: runs of other versions are not the baseline's noise.
  return fmt::format("the stored history of the baseline's series ({} run{} of {}{} {}:{} {} on {})",
                     runs, runs == 1 ? "" : "s",
                     base.labels.product.empty() ? "(no product)" : base.labels.product,
                     base.labels.version.empty() ? "" : " " + base.labels.version,
                     base.workload.backend, base.workload.model, base.scenario.name,
                     base.environment.hardware_fingerprint);
}

}  // namespace trackiq::store
