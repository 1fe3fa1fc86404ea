// libFuzzer target: the CSV series reader (`trackiq analyze changepoints FILE.csv`) must reject
// malformed input with InputError only; what it accepts must be finite values with ascending
// line numbers, and the change-point detector run on them must return well-formed change
// points (ascending indices at least min_segment apart, p-values in [0, 1], neighbouring
// segments that tile the series), which the TCPDBench metrics then score without failing.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "trackiq/analysis/changepoint.hpp"
#include "trackiq/analysis/series_csv.hpp"
#include "trackiq/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  trackiq::analysis::CsvSeries s;
  try {
    // A first line "#col NAME" picks the column by name (exercises that path too).
    std::string column;
    std::string_view body = text;
    if (body.substr(0, 5) == "#col ") {
      const auto nl = body.find('\n');
      column = std::string(body.substr(5, nl == std::string_view::npos ? std::string_view::npos : nl - 5));
      body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
    }
    s = trackiq::analysis::read_series_csv(body, "fuzz.csv", column);
  } catch (const trackiq::InputError&) {
    return 0;
  }
  if (s.values.size() != s.lines.size()) std::abort();
  for (std::size_t i = 0; i < s.values.size(); ++i) {
    if (!std::isfinite(s.values[i])) std::abort();
    if (i > 0 && s.lines[i] <= s.lines[i - 1]) std::abort();
  }
  if (s.values.size() > 2000) s.values.resize(2000);  // the detector's cost, not its parser, past this
  trackiq::analysis::ChangePointOptions options;
  options.min_segment = 3 + size % 5;
  options.min_relative_change = (size % 3) * 0.01;
  const auto r = trackiq::analysis::detect_change_points(s.values, options);
  if (r.n != s.values.size()) std::abort();
  std::size_t previous = 0;
  std::vector<std::size_t> indices;
  for (const auto& cp : r.change_points) {
    if (cp.index < previous + options.min_segment || cp.index + options.min_segment > r.n) std::abort();
    if (!(cp.p_value >= 0 && cp.p_value <= 1) || cp.p_value > options.alpha) std::abort();
    if (cp.before_begin != previous) std::abort();
    previous = cp.index;
    indices.push_back(cp.index);
  }
  if (!r.change_points.empty() && r.change_points.back().after_end != r.n) std::abort();
  if (r.n > 0) {
    const std::vector<std::vector<std::size_t>> annotations{{}, indices};
    const double f1 = trackiq::analysis::f1_score(annotations, indices);
    const double cover = trackiq::analysis::segmentation_cover(annotations, indices, r.n);
    if (!(f1 > 0 && f1 <= 1) || !(cover > 0 && cover <= 1 + 1e-12)) std::abort();
  }
  return 0;
}
