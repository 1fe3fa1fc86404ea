// libFuzzer target: every importer must turn any bytes into runs or an InputError — never a
// crash, a hang or another exception — and what it accepts must be self-consistent. The first
// byte picks the format (index in importers::formats(); 250-252: the trtexec readers of `analyze
// dnn-pipeline` — profile, times, layer info — and the analysis over what they accept; any other
// byte past the table's end: auto-detection); the rest is the file.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "trackiq/core/error.hpp"
#include "trackiq/analysis/dnn_pipeline.hpp"
#include "trackiq/importers/importers.hpp"
#include "trackiq/importers/trtexec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if (data[0] >= 250 && data[0] <= 252) {
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
      trackiq::analysis::DnnPipelineInput in;
      in.profile.count = 1;
      in.profile.layers = {{"l", 1, 1, std::nullopt, std::nullopt}};
      if (data[0] == 250) in.profile = trackiq::importers::read_trtexec_profile(text, "fuzz");
      if (data[0] == 251) in.times = trackiq::importers::read_trtexec_times(text, "fuzz");
      if (data[0] == 252) in.layer_info = trackiq::importers::read_trtexec_layer_info(text, "fuzz");
      const auto r = trackiq::analysis::analyze_dnn_pipeline(in);
      if (r.layer_count != in.profile.layers.size() || !std::isfinite(r.layers_sum_ms)) std::abort();
      (void)trackiq::analysis::render_dnn_pipeline(r);
      (void)trackiq::analysis::dnn_pipeline_json(r);
    } catch (const trackiq::InputError&) {
    }
    return 0;
  }
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
