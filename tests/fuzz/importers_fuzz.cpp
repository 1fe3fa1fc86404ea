// libFuzzer target: every importer must turn any bytes into runs or an InputError — never a
// crash, a hang or another exception — and what it accepts must be self-consistent. The first
// byte picks the format (index in importers::formats(); past its end: auto-detection); the rest
// is the file.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "trackiq/core/error.hpp"
#include "trackiq/importers/importers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // Every format of the table; a byte past the table's end means "detect it".
  const auto& formats = trackiq::importers::formats();
  const std::string_view f = data[0] < formats.size() ? formats[data[0]].name : std::string_view{};
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  trackiq::importers::ImportOptions o;
  o.imported_at = "2026-01-01T00:00:00.000Z";
  // csv: columns; json: paths (the corpus' json seed has {"r": [{"lat": ..}], "rps": ..}).
  if (f == "json") o.map = {{"latency_ms", "$.r[*].lat"}, {"throughput_queries_per_s", "$.rps"}};
  else o.map = {{"latency_ms", "lat"}, {"throughput_queries_per_s", "rps"}};
  try {
    const auto runs = trackiq::importers::import_text(text, "fuzz", f, o);
    for (const auto& r : runs) {
      if (r.metrics.empty()) std::abort();  // an accepted run carries something
      for (const auto& m : r.metrics)
        if (!std::isfinite(m.value)) std::abort();
      if (r.latency && r.latency->samples_ns.size() != r.latency->summary_ns.count) std::abort();
      // It serialises, and reads back as the same document (what the store does with it).
      const std::string json = trackiq::to_json(r);
      if (trackiq::to_json(trackiq::result_from_json(json, "fuzz")) != json) std::abort();
    }
  } catch (const trackiq::InputError&) {
  }
  return 0;
}
