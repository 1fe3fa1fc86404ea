#include "trackiq/telemetry/summary.hpp"

#include <cmath>

#include <fmt/format.h>

namespace trackiq::telemetry {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

bool is_gpu_channel(const std::string& n, std::string_view suffix) {
  return starts_with(n, "gpu") && n.size() > 3 && std::isdigit(static_cast<unsigned char>(n[3])) && ends_with(n, suffix);
}

}  // namespace

const std::vector<std::string>& telemetry_metric_names() {
  static const std::vector<std::string> names = {
      "cpu_util_avg_pct", "cpu_util_max_pct",  "rss_peak_bytes", "gpu_util_avg_pct",       "gpu_memory_peak_bytes",
      "temperature_max_c", "power_avg_w",      "power_peak_w",   "energy_j",               "energy_per_inference_j",
      "inferences_per_j", "throttle_events_total"};
  return names;
}

std::vector<std::string> measurable_metrics(const std::vector<Channel>& channels) {
  // Summarise two rows of ones over these channels: whatever comes out can be measured.
  Series s;
  s.channels = channels;
  s.stats.assign(channels.size(), {});
  for (int r = 0; r < 2; ++r) {
    s.t_ns.push_back(r * 100'000'000LL);
    for (std::size_t c = 0; c < channels.size(); ++c) {
      s.values.push_back(1.0);
      s.stats[c].add(1.0);
    }
  }
  s.rows_taken = 2;
  std::vector<std::string> out;
  for (const auto& m : summarize_series(s, 1).metrics) out.push_back(m.name);
  return out;
}

TelemetrySummary summarize_series(const Series& s, std::uint64_t inferences) {
  TelemetrySummary out;
  const std::size_t w = s.width();
  for (std::size_t c = 0; c < w; ++c) {
    const auto& st = s.stats[c];
    if (st.count() == 0) continue;
    out.channel_stats[s.channels[c].name + ".mean"] = st.mean();
    out.channel_stats[s.channels[c].name + ".max"] = st.max();
    out.channel_stats[s.channels[c].name + ".min"] = st.min();
  }
  auto add = [&](const char* metric, double v, const std::string& from, bool derived = false) {
    if (std::isnan(v)) return;
    out.metrics.push_back({metric, v, derived});
    out.sources.push_back(fmt::format("{} <- {}", metric, from));
  };

  if (const long cpu = s.index_of("cpu.util_pct"); cpu >= 0 && s.stats[cpu].count() > 0) {
    add("cpu_util_avg_pct", s.stats[cpu].mean(), "cpu.util_pct", true);
    add("cpu_util_max_pct", s.stats[cpu].max(), "cpu.util_pct");
  }
  if (const long rss = s.index_of("proc.rss_peak_bytes"); rss >= 0 && s.stats[rss].count() > 0)
    add("rss_peak_bytes", s.stats[rss].max(), "proc.rss_peak_bytes (VmHWM)");

  // GPUs: mean utilisation over GPUs and samples; peak memory of any GPU.
  double gpu_util_sum = 0, gpu_mem_peak = std::nan("");
  std::uint64_t gpu_util_n = 0;
  double temp_max = std::nan("");
  std::vector<std::string> temp_sources;
  for (std::size_t c = 0; c < w; ++c) {
    const auto& n = s.channels[c].name;
    const auto& st = s.stats[c];
    if (st.count() == 0) continue;
    if (is_gpu_channel(n, ".util_pct")) {
      gpu_util_sum += st.mean() * static_cast<double>(st.count());
      gpu_util_n += st.count();
    }
    if (is_gpu_channel(n, ".mem_used_bytes")) gpu_mem_peak = std::isnan(gpu_mem_peak) ? st.max() : std::max(gpu_mem_peak, st.max());
    if (ends_with(n, ".temp_c")) {
      temp_max = std::isnan(temp_max) ? st.max() : std::max(temp_max, st.max());
      temp_sources.push_back(n);
    }
  }
  if (gpu_util_n) add("gpu_util_avg_pct", gpu_util_sum / static_cast<double>(gpu_util_n), "gpu*.util_pct", true);
  add("gpu_memory_peak_bytes", gpu_mem_peak, "gpu*.mem_used_bytes");
  if (!temp_sources.empty()) add("temperature_max_c", temp_max, fmt::format("max of {}", fmt::join(temp_sources, ", ")));

  // Power: the board input rail when tegrastats has one; else RAPL packages plus GPUs.
  std::vector<long> power_cols;
  if (const long total = s.index_of("power.total.w"); total >= 0) {
    power_cols.push_back(total);
  } else {
    if (const long rapl = s.index_of("power.rapl_total.w"); rapl >= 0) power_cols.push_back(rapl);
    for (std::size_t c = 0; c < w; ++c)
      if (is_gpu_channel(s.channels[c].name, ".power_w")) power_cols.push_back(static_cast<long>(c));
  }
  if (!power_cols.empty() && s.rows() >= 2) {
    // Row power = sum of the chosen channels (a row missing any of them is skipped); energy by
    // the trapezoid rule over the kept rows, average = energy / covered time.
    double energy = 0, covered = 0, peak = std::nan("");
    double prev_p = std::nan("");
    std::int64_t prev_t = 0;
    for (std::size_t r = 0; r < s.rows(); ++r) {
      double p = 0;
      for (long c : power_cols) p += s.at(r, static_cast<std::size_t>(c));
      if (std::isnan(p)) {
        prev_p = std::nan("");
        continue;
      }
      peak = std::isnan(peak) ? p : std::max(peak, p);
      if (!std::isnan(prev_p)) {
        const double dt = static_cast<double>(s.t_ns[r] - prev_t) / 1e9;
        energy += 0.5 * (p + prev_p) * dt;
        covered += dt;
      }
      prev_p = p;
      prev_t = s.t_ns[r];
    }
    std::vector<std::string> names;
    for (long c : power_cols) names.push_back(s.channels[static_cast<std::size_t>(c)].name);
    const std::string from = fmt::format("{}", fmt::join(names, " + "));
    if (covered > 0) {
      add("power_avg_w", energy / covered, from, true);
      add("power_peak_w", peak, from);
      add("energy_j", energy, from + " (trapezoid over the measured phase)", true);
      if (inferences > 0 && energy > 0) {
        add("energy_per_inference_j", energy / static_cast<double>(inferences), "energy_j / inferences", true);
        add("inferences_per_j", static_cast<double>(inferences) / energy, "inferences / energy_j", true);
      }
    }
  }

  // Throttling: samples where a GPU entered a throttled state (0 -> 1).
  std::uint64_t events = 0;
  bool have_throttle = false;
  for (std::size_t c = 0; c < w; ++c) {
    if (!is_gpu_channel(s.channels[c].name, ".throttled")) continue;
    have_throttle = true;
    double prev = 0;
    for (std::size_t r = 0; r < s.rows(); ++r) {
      const double v = s.at(r, c);
      if (std::isnan(v)) continue;
      if (v >= 1 && prev < 1) ++events;
      prev = v;
    }
  }
  if (have_throttle) add("throttle_events_total", static_cast<double>(events), "gpu*.throttled transitions", true);
  return out;
}

}  // namespace trackiq::telemetry
