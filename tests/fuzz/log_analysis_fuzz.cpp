// libFuzzer target: `analyze logs` must turn any pattern and any log into an analysis or an
// InputError — never a crash, a hang or another exception. The first byte picks a preset (or,
// past the list, the first line is the user's pattern); the rest is the log.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "trackiq/analysis/log_analysis.hpp"
#include "trackiq/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto& presets = trackiq::analysis::log_presets();
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  trackiq::analysis::LogOptions o;
  if (data[0] < presets.size()) {
    o.pattern = std::string(presets[data[0]].pattern);
    o.unit = std::string(presets[data[0]].unit);
  } else {
    const auto nl = text.find('\n');
    o.pattern = std::string(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
  }
  o.window = 5;
  o.min_window = 3;
  o.threshold_ms = 100;
  o.top = 3;
  try {
    const auto a = trackiq::analysis::analyze_log(text, "fuzz", o);
    if (a.matched != a.values_ms.size() || a.matched > a.lines) std::abort();
    for (double v : a.values_ms)
      if (!(v >= 0) || !std::isfinite(v)) std::abort();
    if (a.top_spikes.size() > o.top || a.spikes < a.top_spikes.size()) std::abort();
    (void)trackiq::analysis::render_log_analysis(a, "fuzz", o);
    (void)trackiq::analysis::log_analysis_json(a, "fuzz", o);
  } catch (const trackiq::InputError&) {
  }
  return 0;
}
