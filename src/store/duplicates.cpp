// Whether a result may be stored as a new run (store.hpp: duplicate_of), shared by
// `trackiq runs import` and `trackiq serve`'s POST /api/v1/runs so both refuse the same things.
#include <fmt/format.h>

#include "trackiq/core/error.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::store {

std::optional<std::string> duplicate_of(Store& st, const Result& r) {
  // load() takes a prefix; a full id that matches is the same run (ids are UUIDs).
  try {
    const Result prior = st.load(r.run_id);
    if (prior.run_id == r.run_id) return fmt::format("run {} is already stored", r.run_id);
  } catch (const InputError&) {
    // not stored (or only a longer id shares the prefix, which a full id cannot be)
  }
  if (const auto h = r.labels.extra.find("import_hash"); h != r.labels.extra.end()) {
    RunFilter same;
    same.labels = {{"import_hash", h->second}};
    same.limit = 1;
    if (const auto prior = st.list(same); !prior.empty())
      return fmt::format("this content (import_hash {}) was already imported as run {} on {}", h->second,
                         prior.front().run_id, prior.front().started_at);
  }
  return std::nullopt;
}

}  // namespace trackiq::store
