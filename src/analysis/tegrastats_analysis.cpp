#include "trackiq/analysis/tegrastats_analysis.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/core/stats.hpp"

namespace trackiq::analysis {
namespace {

std::optional<Stat> stat_of(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) return std::nullopt;
  Stat s;
  s.count = v.size();
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  s.max = *std::max_element(v.begin(), v.end());
  // Linear-interpolation percentile, as everywhere in TrackIQ.
  std::sort(v.begin(), v.end());
  const double rank = 0.95 * static_cast<double>(v.size() - 1);
  const auto k = static_cast<std::size_t>(std::floor(rank));
  s.p95 = v[k] + (rank - static_cast<double>(k)) * (v[std::min(k + 1, v.size() - 1)] - v[k]);
  return s;
}

std::int64_t epoch_of(const telemetry::TegrastatsTimestamp& t) {
  std::tm tm{};
  tm.tm_year = t.year - 1900;
  tm.tm_mon = t.month - 1;
  tm.tm_mday = t.day;
  tm.tm_hour = t.hour;
  tm.tm_min = t.minute;
  tm.tm_sec = t.second;
  return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace

TegrastatsReport analyze_tegrastats(const telemetry::TegrastatsLog& log, double throttle_temp_c, double interval_s) {
  TegrastatsReport r;
  r.samples = log.samples.size();
  r.skipped_lines = log.skipped_lines;
  r.warnings = log.warnings;
  r.throttle_temp_c = throttle_temp_c;
  r.interval_s = interval_s;
  r.interval_source = "--interval";
  const auto& ss = log.samples;
  // Timestamps (1 s resolution) give the real interval over a long enough log.
  if (ss.size() >= 3 && ss.front().has_timestamp && ss.back().has_timestamp) {
    const auto span = epoch_of(ss.back().timestamp) - epoch_of(ss.front().timestamp);
    if (span > 0) {
      r.interval_s = static_cast<double>(span) / static_cast<double>(ss.size() - 1);
      r.interval_source = "timestamps";
    }
  }

  std::vector<double> cpu, gpu, emc, ram;
  std::vector<std::pair<std::string, std::vector<double>>> rail_w;  // first-seen order
  std::map<std::string, ZoneReport> zones;
  std::map<std::string, bool> above;
  for (const auto& s : ss) {
    cpu.push_back(s.cpus.empty() ? std::nan("") : s.cpu_util_avg_pct());
    gpu.push_back(s.gpu_util_pct);
    emc.push_back(s.emc_util_pct);
    const double used_pct =
        s.ram_total_mb > 0 ? 100.0 * s.ram_used_mb / s.ram_total_mb : std::nan("");
    ram.push_back(used_pct);
    if (used_pct >= 90.0) ++r.memory_pressure_samples;
    for (const auto& t : s.temperatures) {
      // -256 °C is a disabled sensor; PMIC@100C / PMIC@50C are constant placeholders, not readings.
      if (t.disabled() || std::isnan(t.temp_c) || t.zone == "PMIC" || t.zone == "pmic") continue;
      auto [it, inserted] = zones.try_emplace(t.zone);
      auto& z = it->second;
      if (inserted) {
        z.zone = t.zone;
        z.max_c = t.temp_c;
      }
      z.max_c = std::max(z.max_c, t.temp_c);
      const bool hot = t.temp_c >= throttle_temp_c;
      if (hot) ++z.samples_at_or_above;
      if (hot && !above[t.zone]) ++z.events;
      above[t.zone] = hot;
    }
    if (const auto* rail = s.input_rail(); rail && r.power_rail.empty()) r.power_rail = rail->name;
    std::vector<std::string_view> seen;  // a name printed twice in one line keeps its first value
    for (const auto& rail : s.rails) {
      if (rail.name == "NC" || std::isnan(rail.cur_mw) || std::find(seen.begin(), seen.end(), rail.name) != seen.end())
        continue;
      seen.push_back(rail.name);
      auto it = std::find_if(rail_w.begin(), rail_w.end(), [&](const auto& e) { return e.first == rail.name; });
      if (it == rail_w.end()) it = rail_w.insert(rail_w.end(), {rail.name, {}});
      it->second.push_back(rail.cur_mw / 1000.0);
    }
  }
  for (auto& [name, w] : rail_w)
    if (auto st = stat_of(w))
      r.rails.push_back({name, *st, st->mean * static_cast<double>(st->count) * r.interval_s});
  r.cpu_util_pct = stat_of(cpu);
  r.gpu_util_pct = stat_of(gpu);
  r.emc_util_pct = stat_of(emc);
  r.ram_used_pct = stat_of(ram);
  // The total is the input rail's own figures (one of the rails above).
  for (const auto& rail : r.rails)
    if (rail.name == r.power_rail) r.power_w = rail.power_w, r.energy_j = rail.energy_j;
  for (auto& [name, z] : zones) {
    r.throttle_events += z.events;
    r.zones.push_back(z);
  }

  // Health: critical when a zone reached the throttle temperature or RAM was >= 95 % full;
  // warning on sustained memory pressure, a zone within 5 °C of the threshold, a saturated GPU,
  // or unparsable lines; otherwise healthy.
  auto reason = [&](const std::string& level, const std::string& why) {
    if (level == "critical" || r.health != "critical") r.health = level;
    r.reasons.push_back(level + ": " + why);
  };
  r.health = "healthy";
  for (const auto& z : r.zones) {
    if (z.events > 0)
      reason("critical", fmt::format("{} reached {:.1f} °C (>= {:.1f} °C throttle threshold) {} time(s)", z.zone, z.max_c,
                                     throttle_temp_c, z.events));
    else if (z.max_c >= throttle_temp_c - 5)
      reason("warning", fmt::format("{} peaked at {:.1f} °C, within 5 °C of the throttle threshold", z.zone, z.max_c));
  }
  if (r.ram_used_pct && r.ram_used_pct->max >= 95.0)
    reason("critical", fmt::format("RAM peaked at {:.1f} % used", r.ram_used_pct->max));
  else if (r.samples > 0 && r.memory_pressure_samples * 10 >= r.samples)
    reason("warning", fmt::format("memory pressure (RAM >= 90 % used) in {} of {} samples", r.memory_pressure_samples,
                                  r.samples));
  if (r.gpu_util_pct && r.gpu_util_pct->mean >= 95.0)
    reason("warning", fmt::format("GPU saturated: {:.1f} % average utilisation", r.gpu_util_pct->mean));
  if (r.skipped_lines > 0) reason("warning", fmt::format("{} malformed line(s) skipped", r.skipped_lines));
  if (r.samples == 0) reason("critical", "no parsable tegrastats line");
  return r;
}

std::string render_tegrastats_report(const TegrastatsReport& r) {
  std::string out;
  auto line = [&](const std::string& label, const std::optional<Stat>& s, const char* unit) {
    if (!s) {
      out += fmt::format("  {:<18} not in this log\n", label);
      return;
    }
    out += fmt::format("  {:<18} mean {:>7.1f} {}  p95 {:>7.1f} {}  max {:>7.1f} {}\n", label, s->mean, unit, s->p95,
                       unit, s->max, unit);
  };
  out += fmt::format("tegrastats: {} samples, {} skipped line(s), interval {:.3g} s (from {})\n", r.samples,
                     r.skipped_lines, r.interval_s, r.interval_source);
  for (const auto& w : r.warnings) out += fmt::format("  warning: {}\n", w);
  out += "utilisation\n";
  line("cpu (avg of cores)", r.cpu_util_pct, "%");
  line("gpu (GR3D)", r.gpu_util_pct, "%");
  line("memory bus (EMC)", r.emc_util_pct, "%");
  out += "memory\n";
  line("RAM used", r.ram_used_pct, "%");
  out += fmt::format("  {:<18} {} sample(s) >= 90 %\n", "pressure", r.memory_pressure_samples);
  out += fmt::format("thermal (throttle threshold {:.1f} °C)\n", r.throttle_temp_c);
  if (r.zones.empty()) out += "  no temperature zones in this log\n";
  for (const auto& z : r.zones)
    out += fmt::format("  {:<18} max {:>6.1f} °C  {} event(s), {} sample(s) at or above\n", z.zone, z.max_c, z.events,
                       z.samples_at_or_above);
  out += "power\n";
  if (r.power_w) {
    out += fmt::format("  {:<18} avg {:.2f} W  peak {:.2f} W  energy {:.1f} J\n", r.power_rail, r.power_w->mean,
                       r.power_w->max, *r.energy_j);
  } else {
    out += "  no input power rail in this log (VDD_IN / POM_5V_IN)";
    out += r.rails.empty() ? "\n" : ": each rail is one supply among others, so they are shown one by one and not added up\n";
  }
  for (const auto& rail : r.rails) {
    if (rail.name == r.power_rail) continue;
    out += fmt::format("  {:<18} avg {:.2f} W  peak {:.2f} W  energy {:.1f} J\n", rail.name, rail.power_w.mean,
                       rail.power_w.max, rail.energy_j);
  }
  out += fmt::format("health: {}\n", r.health);
  for (const auto& why : r.reasons) out += fmt::format("  {}\n", why);
  return out;
}

std::string tegrastats_report_json(const TegrastatsReport& r) {
  using Json = nlohmann::ordered_json;
  auto stat = [](const std::optional<Stat>& s) {
    return s ? Json{{"count", s->count}, {"mean", s->mean}, {"p95", s->p95}, {"max", s->max}} : Json(nullptr);
  };
  Json zones = Json::array();
  for (const auto& z : r.zones)
    zones.push_back({{"zone", z.zone}, {"max_c", z.max_c}, {"events", z.events}, {"samples_at_or_above", z.samples_at_or_above}});
  Json rails = Json::array();
  for (const auto& rail : r.rails)
    rails.push_back({{"name", rail.name}, {"power_w", stat(rail.power_w)}, {"energy_j", rail.energy_j}});
  Json j{{"samples", r.samples},
         {"skipped_lines", r.skipped_lines},
         {"warnings", r.warnings},
         {"interval_s", r.interval_s},
         {"interval_source", r.interval_source},
         {"cpu_util_pct", stat(r.cpu_util_pct)},
         {"gpu_util_pct", stat(r.gpu_util_pct)},
         {"emc_util_pct", stat(r.emc_util_pct)},
         {"ram_used_pct", stat(r.ram_used_pct)},
         {"memory_pressure_samples", r.memory_pressure_samples},
         {"throttle_temp_c", r.throttle_temp_c},
         {"zones", zones},
         {"throttle_events", r.throttle_events},
         {"power_rail", r.power_rail},
         {"power_w", stat(r.power_w)},
         {"energy_j", r.energy_j ? Json(*r.energy_j) : Json(nullptr)},
         {"rails", rails},
         {"health", r.health},
         {"reasons", r.reasons}};
  return j.dump(2) + "\n";
}

}  // namespace trackiq::analysis
