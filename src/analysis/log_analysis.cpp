// `trackiq analyze logs` (ANA-6): values from a text log by an RE2 expression, their
// distribution, and the spikes with their line numbers.
#include "trackiq/analysis/log_analysis.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include "trackiq/analysis/distribution_analysis.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::analysis {
namespace {

// Milliseconds per unit; nullopt for a unit we do not know.
std::optional<double> ms_per(std::string_view unit) {
  static const std::map<std::string, double, std::less<>> k = {
      {"ns", 1e-6}, {"us", 1e-3}, {"µs", 1e-3}, {"μs", 1e-3}, {"ms", 1.0}, {"s", 1e3},
      {"sec", 1e3}, {"secs", 1e3}, {"seconds", 1e3}, {"m", 60e3}, {"min", 60e3}};
  const auto it = k.find(unit);
  return it == k.end() ? std::nullopt : std::optional<double>(it->second);
}

// The trailing window's values kept sorted: O(window) per value, by binary search and a move.
class TrailingMedian {
 public:
  explicit TrailingMedian(std::size_t window) : window_(window) {}
  std::size_t size() const { return sorted_.size(); }
  double median() const {
    const std::size_t n = sorted_.size();
    return n % 2 ? sorted_[n / 2] : 0.5 * (sorted_[n / 2 - 1] + sorted_[n / 2]);
  }
  void push(double v) {
    if (order_.size() == window_) {
      const double old = order_[head_];
      sorted_.erase(std::lower_bound(sorted_.begin(), sorted_.end(), old));
      order_[head_] = v;
      head_ = (head_ + 1) % window_;
    } else {
      order_.push_back(v);
    }
    sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), v), v);
  }

 private:
  std::size_t window_;
  std::vector<double> order_;  // ring of the last `window_` values
  std::size_t head_ = 0;       // oldest, once the ring is full
  std::vector<double> sorted_;
};

}  // namespace

const std::vector<LogPreset>& log_presets() {
  static const std::vector<LogPreset> p = {
      {"took", R"((?i)\btook\s*:?\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>ns|us|µs|ms|s|sec|secs|seconds)\b)", "ms",
       "\"took 12 ms\", \"took 1.5s\" (the unit on the line)"},
      {"latency", R"((?i)\b(?:latency|duration|elapsed)\s*[=:]\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>ns|us|µs|ms|s)?\b)", "ms",
       "\"latency=12.3ms\", \"duration: 0.8 s\", \"elapsed=15\" (no unit: --unit)"},
      {"nginx-rt", R"(\brt=(?P<value>\d+(?:\.\d+)?)\b)", "s",
       "nginx log_format with rt=$request_time (seconds, millisecond resolution)"},
      {"nginx-last", R"(\s(?P<value>\d+\.\d{3})\s*$)", "s",
       "nginx log_format with $request_time as the last field (seconds, e.g. 0.123)"},
      {"envoy", R"(" \d{3} \S+ \d+ \d+ (?P<value>\d+) )", "ms",
       "Envoy's default access log: the DURATION field after the response code, flags and bytes (ms)"},
  };
  return p;
}

const LogPreset* log_preset(std::string_view name) {
  for (const auto& p : log_presets())
    if (p.name == name) return &p;
  return nullptr;
}

LogAnalysis analyze_log(std::string_view text, const std::string& origin, const LogOptions& o) {
  if (o.pattern.empty()) throw InputError("--pattern: empty (or pick a --preset)");
  const auto default_ms = ms_per(o.unit);
  if (!default_ms) throw InputError(fmt::format("--unit {}: not a unit (ns, us, ms, s, m)", o.unit));
  if (!(o.k > 1) || !std::isfinite(o.k)) throw InputError(fmt::format("--k {}: must be a number > 1", o.k));
  if (o.window < 3) throw InputError(fmt::format("--window {}: at least 3 values", o.window));
  if (o.threshold_ms && !(*o.threshold_ms >= 0 && std::isfinite(*o.threshold_ms)))
    throw InputError(fmt::format("--threshold {}: not a duration >= 0", *o.threshold_ms));
  RE2::Options ro;
  ro.set_log_errors(false);
  const RE2 re(o.pattern, ro);
  if (!re.ok()) throw InputError(fmt::format("--pattern '{}': {}", o.pattern, re.error()));
  const auto& groups = re.NamedCapturingGroups();
  const auto value_group = groups.find("value");
  if (value_group == groups.end())
    throw InputError(fmt::format("--pattern '{}': no named group (?P<value>...) for the value", o.pattern));
  const auto unit_group = groups.find("unit");
  const int ngroups = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> sub(static_cast<std::size_t>(ngroups));

  LogAnalysis a;
  TrailingMedian trailing(o.window);
  const std::size_t min_window = std::min(o.window, std::max<std::size_t>(3, o.min_window));
  std::vector<LogSpike> spikes;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++a.lines;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!re.Match(re2::StringPiece(line.data(), line.size()), 0, line.size(), RE2::UNANCHORED, sub.data(), ngroups))
      continue;
    const auto& vs = sub[static_cast<std::size_t>(value_group->second)];
    const std::string_view value_text(vs.data() ? vs.data() : "", vs.size());
    double v = 0;
    const auto [p, ec] = std::from_chars(value_text.data(), value_text.data() + value_text.size(), v);
    if (ec != std::errc() || p != value_text.data() + value_text.size() || !std::isfinite(v) || v < 0)
      throw InputError(origin, a.lines, fmt::format("value '{}' is not a number >= 0", value_text));
    double scale = *default_ms;
    if (unit_group != groups.end()) {
      const auto& us = sub[static_cast<std::size_t>(unit_group->second)];
      if (us.data() && !us.empty()) {
        std::string unit(us.data(), us.size());
        if (unit != "µs" && unit != "μs")
          std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
        const auto s = ms_per(unit);
        if (!s) throw InputError(origin, a.lines, fmt::format("unit '{}' is not a unit (ns, us, ms, s, m)", unit));
        scale = *s;
      }
    }
    const double ms = v * scale;
    if (a.matched == 0) a.first_match_line = a.lines;
    ++a.matched;
    a.values_ms.push_back(ms);
    LogSpike s;
    s.line = a.lines;
    s.value_ms = ms;
    s.over_threshold = o.threshold_ms && ms > *o.threshold_ms;
    if (trailing.size() >= min_window) {
      s.median_ms = trailing.median();
      // A median of 0 (a log at millisecond resolution of sub-millisecond requests) gives no
      // ratio: every non-zero value would be "infinitely" slower. The threshold still applies.
      s.over_ratio = *s.median_ms > 0 && ms > o.k * *s.median_ms;
    }
    if (s.over_threshold || s.over_ratio) {
      ++a.spikes;
      a.spikes_threshold += s.over_threshold;
      a.spikes_ratio += s.over_ratio;
      spikes.push_back(s);
    }
    trailing.push(ms);
  }
  if (!a.values_ms.empty()) {
    std::vector<double> sorted = a.values_ms;
    std::sort(sorted.begin(), sorted.end());
    double sum = 0;
    for (double x : sorted) sum += x;
    a.mean_ms = sum / static_cast<double>(sorted.size());
    a.min_ms = sorted.front();
    a.max_ms = sorted.back();
    for (double p : kLogPercentiles) a.percentiles_ms.push_back(percentile_of_sorted(sorted, p));
  }
  // The largest spikes, listed in line order.
  if (spikes.size() > o.top) {
    std::nth_element(spikes.begin(), spikes.begin() + static_cast<std::ptrdiff_t>(o.top), spikes.end(),
                     [](const LogSpike& x, const LogSpike& y) { return x.value_ms > y.value_ms; });
    spikes.resize(o.top);
    std::sort(spikes.begin(), spikes.end(), [](const LogSpike& x, const LogSpike& y) { return x.line < y.line; });
  }
  a.top_spikes = std::move(spikes);
  return a;
}

namespace {
std::string rule_text(const LogOptions& o) {
  std::string rule = fmt::format("> {:g} x the median of the previous {} values (from {} on)", o.k, o.window,
                                 std::min(o.window, std::max<std::size_t>(3, o.min_window)));
  if (o.threshold_ms) rule = fmt::format("> {:g} ms, or ", *o.threshold_ms) + rule;
  return rule;
}
}  // namespace

std::string render_log_analysis(const LogAnalysis& a, const std::string& origin, const LogOptions& o) {
  std::string out = fmt::format("{}: {} lines, {} with a value", origin, a.lines, a.matched);
  if (a.matched == 0) return out + "\nno line matched the pattern: " + o.pattern + "\n";
  out += fmt::format(" (first on line {})\n", a.first_match_line);
  out += fmt::format("  mean {:.4g} ms, min {:.4g}, max {:.4g}\n  ", a.mean_ms, a.min_ms, a.max_ms);
  for (std::size_t i = 0; i < a.percentiles_ms.size(); ++i)
    out += fmt::format("{}p{:g} {:.4g} ms", i ? ", " : "", kLogPercentiles[i], a.percentiles_ms[i]);
  out += fmt::format("\nspikes ({}): {}", rule_text(o), a.spikes);
  if (o.threshold_ms) out += fmt::format(" ({} over the threshold, {} over the ratio)", a.spikes_threshold, a.spikes_ratio);
  out += "\n";
  if (!a.top_spikes.empty()) {
    out += fmt::format("  {:>8}  {:>12}  {:>14}  {:>7}  {}\n", "line", "value ms", "median before", "ratio", "rule");
    for (const auto& s : a.top_spikes) {
      const std::string median = s.median_ms ? fmt::format("{:.4g}", *s.median_ms) : "-";
      const std::string ratio = s.median_ms && *s.median_ms > 0 ? fmt::format("{:.1f}x", s.value_ms / *s.median_ms) : "-";
      const std::string rule = s.over_threshold && s.over_ratio ? "threshold, ratio" : s.over_threshold ? "threshold" : "ratio";
      out += fmt::format("  {:>8}  {:>12.4g}  {:>14}  {:>7}  {}\n", s.line, s.value_ms, median, ratio, rule);
    }
    if (a.spikes > a.top_spikes.size())
      out += fmt::format("  ({} more; the {} largest are listed, --top)\n", a.spikes - a.top_spikes.size(), a.top_spikes.size());
  }
  return out;
}

std::string log_analysis_json(const LogAnalysis& a, const std::string& origin, const LogOptions& o) {
  using Json = nlohmann::ordered_json;
  Json pct = Json::object();
  for (std::size_t i = 0; i < a.percentiles_ms.size(); ++i) pct[fmt::format("p{:g}", kLogPercentiles[i])] = a.percentiles_ms[i];
  Json spikes = Json::array();
  for (const auto& s : a.top_spikes)
    spikes.push_back({{"line", s.line},
                      {"value_ms", s.value_ms},
                      {"median_before_ms", s.median_ms ? Json(*s.median_ms) : Json(nullptr)},
                      {"over_threshold", s.over_threshold},
                      {"over_ratio", s.over_ratio}});
  Json j{{"file", origin},
         {"pattern", o.pattern},
         {"lines", a.lines},
         {"matched", a.matched},
         {"mean_ms", a.matched ? Json(a.mean_ms) : Json(nullptr)},
         {"min_ms", a.matched ? Json(a.min_ms) : Json(nullptr)},
         {"max_ms", a.matched ? Json(a.max_ms) : Json(nullptr)},
         {"percentiles_ms", pct},
         {"rule", rule_text(o)},
         {"spikes", a.spikes},
         {"spikes_over_threshold", a.spikes_threshold},
         {"spikes_over_ratio", a.spikes_ratio},
         {"top_spikes", spikes}};
  return j.dump(2);
}

}  // namespace trackiq::analysis
