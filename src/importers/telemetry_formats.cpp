// Telemetry logs as runs that hold a telemetry series and no latency: tegrastats logs (parsed by
// the telemetry module's tegrastats reader), nvidia-smi `--query-gpu ... --format=csv` (with its
// header) and `dmon` output, and a DCGM-exporter scrape (Prometheus text; one row). Channels are
// named as our collectors name them (gpu0.util_pct, gpu0.power_w, power.<rail>.w, ...).
#include <limits>

#include "common.hpp"

#include "trackiq/core/csv.hpp"
#include "trackiq/telemetry/tegrastats.hpp"

namespace trackiq::importers::detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A series under construction: channels by name, rows appended.
struct SeriesBuilder {
  TelemetrySeries s;
  std::map<std::string, std::size_t> index;
  std::size_t channel(const std::string& name, const std::string& unit) {
    const auto [it, fresh] = index.try_emplace(name, s.names.size());
    if (fresh) {
      s.names.push_back(name);
      s.units.push_back(unit);
      // widen the rows already there
      std::vector<double> v;
      const std::size_t w = s.names.size();
      v.reserve(s.t_ns.size() * w);
      for (std::size_t r = 0; r < s.t_ns.size(); ++r) {
        for (std::size_t k = 0; k + 1 < w; ++k) v.push_back(s.values[r * (w - 1) + k]);
        v.push_back(kNaN);
      }
      s.values = std::move(v);
    }
    return it->second;
  }
  std::size_t row(std::int64_t t) {
    s.t_ns.push_back(t);
    s.values.resize(s.values.size() + s.names.size(), kNaN);
    return s.t_ns.size() - 1;
  }
  void set(std::size_t row, const std::string& name, const std::string& unit, double v) {
    const std::size_t ch = channel(name, unit);
    s.values[row * s.names.size() + ch] = v;
  }
};

// Summary metrics of a series, by channel name: GPU utilisation, power, temperatures, memory.
void summarise(Result& r, const TelemetrySeries& s) {
  double util_sum = 0, temp_max = -1e300, mem_peak = -1, cpu_sum = 0, cpu_max = -1e300, pw_sum = 0, pw_max = -1e300;
  std::size_t util_n = 0, cpu_n = 0, pw_n = 0;
  const bool has_total = std::find(s.names.begin(), s.names.end(), "power.total.w") != s.names.end();
  for (std::size_t row = 0; row < s.rows(); ++row) {
    double pw = 0, mem = 0;
    bool any_pw = false, any_mem = false;
    for (std::size_t ch = 0; ch < s.width(); ++ch) {
      const double v = s.at(row, ch);
      if (std::isnan(v)) continue;
      const std::string& n = s.names[ch];
      // A MIG instance's row repeats its device's power and memory: devices only.
      const bool gpu = n.rfind("gpu", 0) == 0 && n.find(".mig") == std::string::npos;
      if (gpu && n.ends_with(".util_pct")) util_sum += v, ++util_n;
      if (n == "cpu.util_pct") cpu_sum += v, ++cpu_n, cpu_max = std::max(cpu_max, v);
      if (n.ends_with("temp_c")) temp_max = std::max(temp_max, v);
      if (gpu && n.ends_with(".mem_used_bytes")) mem += v, any_mem = true;
      if (has_total ? n == "power.total.w" : (gpu && n.ends_with(".power_w"))) pw += v, any_pw = true;
    }
    if (any_pw) pw_sum += pw, ++pw_n, pw_max = std::max(pw_max, pw);
    if (any_mem) mem_peak = std::max(mem_peak, mem);
  }
  auto put = [&](const char* name, double v) {
    add_metric(r, name, v, ValueKind::kDerived);
    r.telemetry.summary[name] = v;
  };
  if (util_n) put("gpu_util_avg_pct", util_sum / static_cast<double>(util_n));
  if (cpu_n) put("cpu_util_avg_pct", cpu_sum / static_cast<double>(cpu_n)), put("cpu_util_max_pct", cpu_max);
  if (pw_n) put("power_avg_w", pw_sum / static_cast<double>(pw_n)), put("power_peak_w", pw_max);
  if (temp_max > -1e300) put("temperature_max_c", temp_max);
  if (mem_peak >= 0) put("gpu_memory_peak_bytes", mem_peak);
}

Result telemetry_run(const Context& c, const std::string& tool, TelemetrySeries s) {
  Result r = new_run(c, std::filesystem::path(c.origin).stem().string());
  r.labels.extra["telemetry_source"] = tool;
  r.telemetry.available = true;
  r.telemetry.reason.clear();
  summarise(r, s);
  r.labels.extra["telemetry_rows"] = std::to_string(s.rows());
  // As a run's telemetry summary says them: the console's "telemetry (N samples)" read 0.
  r.telemetry.summary["samples"] = static_cast<double>(s.rows());
  if (s.rows() >= 2)
    r.telemetry.summary["interval_ms"] =
        static_cast<double>(s.t_ns.back() - s.t_ns.front()) / static_cast<double>(s.rows() - 1) / 1e6;
  r.labels.extra["telemetry_channels"] = std::to_string(s.width());
  if (s.rows() >= 2) add_metric(r, "wall_time_s", static_cast<double>(s.t_ns.back() - s.t_ns.front()) / 1e9, ValueKind::kDerived);
  r.telemetry.series = std::move(s);
  r.throughput_method = "not available: a telemetry log has no requests";
  r.warnings.push_back(fmt::format("telemetry only ({}): the file records no latency and no throughput", tool));
  if (r.metrics.empty()) throw InputError(c.origin, 1, "no channel to summarise (GPU utilisation, power, temperature or memory)");
  return r;
}

// -------------------------------------------------------------------------------- tegrastats
std::int64_t civil_seconds(const telemetry::TegrastatsTimestamp& t) {
  auto days = [](int y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + static_cast<int>(yoe * 365 + yoe / 4 - yoe / 100 + doy) - 719468;
  };
  return static_cast<std::int64_t>(days(t.year, static_cast<unsigned>(t.month), static_cast<unsigned>(t.day))) * 86400 +
         t.hour * 3600 + t.minute * 60 + t.second;
}

std::vector<Result> import_tegrastats(std::string_view text, Context& c) {
  update_fingerprint(c.env);
  const auto log = telemetry::parse_tegrastats_log(text, c.origin);
  if (log.samples.empty())
    throw InputError(c.origin, 1, log.warnings.empty() ? "no tegrastats line (RAM ...)" : "no valid tegrastats line; first: " + log.warnings.front());
  SeriesBuilder b;
  const bool timed = std::all_of(log.samples.begin(), log.samples.end(), [](const auto& s) { return s.has_timestamp; });
  const std::int64_t t0 = timed ? civil_seconds(log.samples.front().timestamp) : 0;
  // A time in ns fits 292 years: timestamps further apart than that are not one capture.
  constexpr std::int64_t kMaxSpanS = std::numeric_limits<std::int64_t>::max() / 1'000'000'000;
  for (std::size_t i = 0; i < log.samples.size(); ++i) {
    const auto& s = log.samples[i];
    const std::int64_t since_s = timed ? civil_seconds(s.timestamp) - t0 : static_cast<std::int64_t>(i);
    if (since_s > kMaxSpanS || since_s < -kMaxSpanS)
      throw InputError(c.origin, 0,
                       fmt::format("valid line {}: its timestamp is {} years from the first line's: not one capture",
                                   i + 1, std::llround(static_cast<double>(since_s) / 31'556'952.0)));
    const std::size_t row = b.row(since_s * 1'000'000'000);
    b.set(row, "mem.used_bytes", "B", s.ram_used_mb * 1048576.0);
    if (!s.cpus.empty()) b.set(row, "cpu.util_pct", "%", s.cpu_util_avg_pct());
    if (!std::isnan(s.gpu_util_pct)) b.set(row, "gpu0.util_pct", "%", s.gpu_util_pct);
    if (!std::isnan(s.emc_util_pct)) b.set(row, "emc.util_pct", "%", s.emc_util_pct);
    for (const auto& t : s.temperatures)
      if (!t.disabled() && t.zone != "PMIC" && t.zone != "pmic") b.set(row, "thermal." + t.zone + ".temp_c", "°C", t.temp_c);
    for (const auto& rail : s.rails)
      if (rail.name != "NC") b.set(row, "power." + rail.name + ".w", "W", rail.cur_mw / 1e3);
    if (const auto* in = s.input_rail()) b.set(row, "power.total.w", "W", in->cur_mw / 1e3);
  }
  Result r = telemetry_run(c, "tegrastats", std::move(b.s));
  if (!timed) r.warnings.push_back("the log has no timestamps: rows are taken 1 s apart (tegrastats' default --interval)");
  if (log.skipped_lines) {
    r.warnings.push_back(fmt::format("{} line{} that are not tegrastats output skipped", log.skipped_lines, log.skipped_lines == 1 ? "" : "s"));
    for (const auto& w : log.warnings) r.warnings.push_back(w);
  }
  return {std::move(r)};
}

int sniff_tegrastats(std::string_view head, std::string_view) {
  const auto has = [&](std::string_view s) { return head.find(s) != std::string_view::npos; };
  return has("RAM ") && has("MB") && (has("CPU [") || has("GR3D") || has("EMC")) ? 90 : 0;
}

// ---------------------------------------------------------------------------------- nvidia-smi
struct Field {
  const char* channel;
  const char* unit;
  double scale;
};
std::optional<Field> smi_field(std::string_view name) {
  static const std::pair<const char*, Field> k[] = {
      {"utilization.gpu", {"util_pct", "%", 1}},       {"utilization.memory", {"mem_util_pct", "%", 1}},
      {"memory.used", {"mem_used_bytes", "B", 1048576}}, {"memory.total", {"mem_total_bytes", "B", 1048576}},
      {"memory.free", {"mem_free_bytes", "B", 1048576}}, {"power.draw", {"power_w", "W", 1}},
      {"power.draw.instant", {"power_w", "W", 1}},      {"temperature.gpu", {"temp_c", "°C", 1}},
      {"temperature.memory", {"mem_temp_c", "°C", 1}},  {"clocks.gr", {"sm_clock_mhz", "MHz", 1}},
      {"clocks.sm", {"sm_clock_mhz", "MHz", 1}},        {"clocks.mem", {"mem_clock_mhz", "MHz", 1}},
      {"fan.speed", {"fan_pct", "%", 1}}};
  for (const auto& [n, f] : k)
    if (name == n) return f;
  return std::nullopt;
}

// "2020/11/12 13:48:11.412" → seconds since the epoch (as written; nvidia-smi prints local time).
std::optional<double> smi_time(const std::string& v) {
  int y, mo, d, h, mi;
  double s;
  if (std::sscanf(v.c_str(), "%d/%d/%d %d:%d:%lf", &y, &mo, &d, &h, &mi, &s) != 6) return std::nullopt;
  telemetry::TegrastatsTimestamp t{y, mo, d, h, mi, 0};
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1970 || y > 2261 || !(s >= 0 && s < 61)) return std::nullopt;
  return static_cast<double>(civil_seconds(t)) + s;
}

std::vector<Result> import_smi_csv(std::string_view text, Context& c) {
  const auto lines = split_lines(text);
  std::vector<std::string> header;
  std::uint64_t header_line = 0;
  struct Col {
    std::optional<Field> f;
    std::string name;
  };
  std::vector<Col> cols;
  std::optional<std::size_t> idx_col, ts_col;
  std::vector<std::string> unknown;
  SeriesBuilder b;
  std::map<std::string, std::size_t> rows_of_gpu;  // gpu → rows it has so far
  std::vector<double> row_time;                    // per series row: seconds, from the first GPU
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find_first_not_of(" \t") == std::string_view::npos) continue;
    auto f = split_csv_record(lines[i], c.origin, i + 1);
    for (auto& x : f) {
      const auto a = x.find_first_not_of(' '), e = x.find_last_not_of(' ');
      x = a == std::string::npos ? "" : x.substr(a, e - a + 1);
    }
    if (header.empty()) {
      const bool headerless = !f.empty() && opt_field_number(f[0]);
      if (headerless && c.opts.columns.empty())
        throw InputError(c.origin, i + 1,
                         "no header row (--format=csv,noheader): give --columns with the --query-gpu list, e.g. "
                         "--columns index,utilization.gpu,memory.used, or rerun nvidia-smi with --format=csv");
      if (!headerless && !c.opts.columns.empty())
        throw InputError(c.origin, i + 1, "the file names its columns: --columns is for --format=csv,noheader output");
      const std::vector<std::string> names = headerless ? c.opts.columns : f;
      header = names;
      header_line = i + 1;
      for (std::size_t k = 0; k < names.size(); ++k) {
        const std::string name = names[k].substr(0, names[k].find(" ["));
        if (name == "index") idx_col = k;
        if (name == "timestamp") ts_col = k;
        cols.push_back({smi_field(name), name});
        if (!cols.back().f && name != "index" && name != "timestamp") unknown.push_back(name);
      }
      if (!headerless) continue;  // else this first line is already a data row
    }
    if (f.size() != header.size())
      throw InputError(c.origin, i + 1,
                       fmt::format("{} fields, {} has {}", f.size(), c.opts.columns.empty() ? "the header" : "--columns",
                                   header.size()));
    const std::string gpu = idx_col ? f[*idx_col] : "0";
    if (!opt_field_number(gpu)) throw InputError(c.origin, i + 1, fmt::format("index '{}' is not a number", gpu));
    const std::size_t k = rows_of_gpu[gpu]++;
    std::optional<double> when;
    if (ts_col) {
      when = smi_time(f[*ts_col]);
      if (!when) throw InputError(c.origin, i + 1, fmt::format("timestamp '{}': expected YYYY/MM/DD HH:MM:SS.mmm", f[*ts_col]));
    }
    if (k == b.s.rows()) {
      if (when && !row_time.empty() && *when < row_time.front()) throw InputError(c.origin, i + 1, "timestamp before the first row's");
      row_time.push_back(when.value_or(static_cast<double>(k)));
      b.row(static_cast<std::int64_t>(std::llround((row_time.back() - row_time.front()) * 1e9)));
    }
    for (std::size_t j = 0; j < cols.size(); ++j) {
      if (!cols[j].f) continue;
      std::string v = f[j];
      if (const auto sp = v.find(' '); sp != std::string::npos) v.resize(sp);  // "99 %", "30994 MiB"
      if (v == "[N/A]" || v == "N/A" || v == "[Not Supported]" || v.empty()) continue;
      const auto x = opt_field_number(v);
      if (!x) throw InputError(c.origin, i + 1, fmt::format("column '{}': '{}' is not a number", header[j], f[j]));
      b.set(k, "gpu" + gpu + "." + cols[j].f->channel, cols[j].f->unit, *x * cols[j].f->scale);
    }
  }
  if (header.empty()) throw InputError(c.origin, 1, "empty file");
  if (b.s.rows() == 0) throw InputError(c.origin, header_line, "no rows after the header");
  Result r = telemetry_run(c, "nvidia-smi --query-gpu", std::move(b.s));
  if (!ts_col) r.warnings.push_back("no timestamp column: rows are taken 1 s apart");
  if (!unknown.empty()) r.warnings.push_back(fmt::format("columns not imported: {}", fmt::join(unknown, ", ")));
  return {std::move(r)};
}

std::vector<Result> import_dmon(std::string_view text, Context& c) {
  const auto lines = split_lines(text);
  std::vector<std::string> cols, units;
  SeriesBuilder b;
  std::map<std::string, std::size_t> rows_of_gpu;
  auto words = [](std::string_view l) {
    std::vector<std::string> w;
    std::size_t at = 0;
    while (at < l.size()) {
      const auto a = l.find_first_not_of(" \t", at);
      if (a == std::string_view::npos) break;
      const auto e = l.find_first_of(" \t", a);
      w.emplace_back(l.substr(a, e == std::string_view::npos ? l.size() - a : e - a));
      at = e == std::string_view::npos ? l.size() : e;
    }
    return w;
  };
  static const std::map<std::string, Field> kCols = {
      {"pwr", {"power_w", "W", 1}},         {"gtemp", {"temp_c", "°C", 1}},        {"mtemp", {"mem_temp_c", "°C", 1}},
      {"sm", {"util_pct", "%", 1}},         {"mem", {"mem_util_pct", "%", 1}},     {"mclk", {"mem_clock_mhz", "MHz", 1}},
      {"pclk", {"sm_clock_mhz", "MHz", 1}}, {"fb", {"mem_used_bytes", "B", 1048576}}};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto w = words(lines[i]);
    if (w.empty()) continue;
    if (w[0] == "#") {
      if (w.size() >= 2 && w[1] == "gpu") cols.assign(w.begin() + 1, w.end());
      else if (w.size() >= 2 && w[1] == "Idx") units.assign(w.begin() + 1, w.end());
      continue;
    }
    if (cols.empty()) throw InputError(c.origin, i + 1, "a dmon row before the '# gpu ...' header");
    if (w.size() != cols.size()) throw InputError(c.origin, i + 1, fmt::format("{} fields, the header has {}", w.size(), cols.size()));
    if (!opt_field_number(w[0])) throw InputError(c.origin, i + 1, fmt::format("gpu index '{}' is not a number", w[0]));
    const std::size_t k = rows_of_gpu[w[0]]++;
    if (k == b.s.rows()) b.row(static_cast<std::int64_t>(k) * 1'000'000'000);
    for (std::size_t j = 1; j < w.size(); ++j) {
      if (w[j] == "-") continue;
      const auto x = opt_field_number(w[j]);
      if (!x) throw InputError(c.origin, i + 1, fmt::format("column '{}': '{}' is not a number", cols[j], w[j]));
      const auto it = kCols.find(cols[j]);
      if (it != kCols.end()) b.set(k, "gpu" + w[0] + "." + it->second.channel, it->second.unit, *x * it->second.scale);
      else b.set(k, "gpu" + w[0] + "." + cols[j], j < units.size() ? units[j] : "", *x);
    }
  }
  if (b.s.rows() == 0) throw InputError(c.origin, lines.empty() ? 1 : lines.size(), "no dmon rows");
  Result r = telemetry_run(c, "nvidia-smi dmon", std::move(b.s));
  r.warnings.push_back("dmon prints no time: rows are taken 1 s apart (dmon's default -d 1)");
  return {std::move(r)};
}

std::vector<Result> import_nvidia_smi(std::string_view text, Context& c) {
  update_fingerprint(c.env);
  const auto first = text.substr(0, text.find('\n'));
  if (first.find("# gpu") != std::string_view::npos) return import_dmon(text, c);
  return import_smi_csv(text, c);
}

int sniff_nvidia_smi(std::string_view head, std::string_view) {
  const auto first = head.substr(0, head.find('\n'));
  if (first.starts_with("# gpu") && first.find("pwr") != std::string_view::npos) return 95;
  if (first.find("utilization.gpu") != std::string_view::npos || first.find("memory.used") != std::string_view::npos ||
      first.find("power.draw") != std::string_view::npos || first.find("temperature.gpu") != std::string_view::npos)
    return 95;
  return 0;
}

// ------------------------------------------------------------------------------------- DCGM
std::vector<Result> import_dcgm(std::string_view text, Context& c) {
  update_fingerprint(c.env);
  static const std::map<std::string, Field> kMap = {
      {"DCGM_FI_DEV_GPU_UTIL", {"util_pct", "%", 1}},          {"DCGM_FI_DEV_POWER_USAGE", {"power_w", "W", 1}},
      {"DCGM_FI_DEV_GPU_TEMP", {"temp_c", "°C", 1}},           {"DCGM_FI_DEV_MEMORY_TEMP", {"mem_temp_c", "°C", 1}},
      {"DCGM_FI_DEV_SM_CLOCK", {"sm_clock_mhz", "MHz", 1}},    {"DCGM_FI_DEV_MEM_CLOCK", {"mem_clock_mhz", "MHz", 1}},
      {"DCGM_FI_DEV_FB_USED", {"mem_used_bytes", "B", 1048576}}, {"DCGM_FI_DEV_FB_FREE", {"mem_free_bytes", "B", 1048576}},
      {"DCGM_FI_PROF_GR_ENGINE_ACTIVE", {"gr_engine_active_pct", "%", 100}},
      {"DCGM_FI_DEV_MEM_COPY_UTIL", {"mem_util_pct", "%", 1}}};
  SeriesBuilder b;
  b.row(0);
  std::string model;
  const auto lines = split_lines(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view l = lines[i];
    if (l.empty() || l[0] == '#') continue;
    const auto brace = l.find('{');
    const auto name_end = brace == std::string_view::npos ? l.find(' ') : brace;
    if (name_end == std::string_view::npos || name_end == 0) throw InputError(c.origin, i + 1, "expected NAME{labels} VALUE");
    const std::string name(l.substr(0, name_end));
    std::map<std::string, std::string> labels;
    std::size_t at = name_end;
    if (brace != std::string_view::npos) {
      at = brace + 1;
      while (at < l.size() && l[at] != '}') {
        const auto eq = l.find("=\"", at);
        if (eq == std::string_view::npos) throw InputError(c.origin, i + 1, "bad label (expected key=\"value\")");
        std::string key(l.substr(at, eq - at)), value;
        std::size_t p = eq + 2;
        for (; p < l.size() && l[p] != '"'; ++p) {
          if (l[p] == '\\' && p + 1 < l.size()) ++p;
          value += l[p];
        }
        if (p >= l.size()) throw InputError(c.origin, i + 1, "unterminated label value");
        labels[key] = value;
        at = p + 1;
        if (at < l.size() && l[at] == ',') ++at;
      }
      if (at >= l.size()) throw InputError(c.origin, i + 1, "unterminated label set");
      ++at;
    }
    const auto vs = l.find_first_not_of(' ', at);
    if (vs == std::string_view::npos) throw InputError(c.origin, i + 1, "no value");
    const auto ve = l.find(' ', vs);
    const auto v = opt_field_number(l.substr(vs, ve == std::string_view::npos ? std::string_view::npos : ve - vs));
    if (!v) throw InputError(c.origin, i + 1, fmt::format("value '{}' is not a number", l.substr(vs, ve - vs)));
    if (!labels.contains("gpu")) continue;  // not per GPU
    if (model.empty() && labels.contains("modelName")) model = labels["modelName"];
    std::string prefix = "gpu" + labels["gpu"];
    if (labels.contains("GPU_I_ID")) prefix += ".mig" + labels["GPU_I_ID"];
    const auto it = kMap.find(name);
    std::string ch = prefix + "." + (it != kMap.end() ? it->second.channel : name);
    const std::size_t col = b.channel(ch, it != kMap.end() ? it->second.unit : "");
    if (!std::isnan(b.s.values[col])) throw InputError(c.origin, i + 1, fmt::format("{} a second time: one scrape per file", ch));
    b.s.values[col] = *v * (it != kMap.end() ? it->second.scale : 1);
  }
  if (b.s.names.empty()) throw InputError(c.origin, 1, "no DCGM sample with a gpu label");
  Result r = telemetry_run(c, "dcgm-exporter", std::move(b.s));
  if (!model.empty()) r.labels.extra["dcgm_model_name"] = model;
  r.warnings.push_back("one scrape: a single row of telemetry at one instant");
  return {std::move(r)};
}

int sniff_dcgm(std::string_view head, std::string_view) { return head.find("DCGM_FI_") != std::string_view::npos ? 90 : 0; }

}  // namespace

extern const Format kTegrastats{"tegrastats",
                                "NVIDIA Jetson tegrastats log -> a telemetry series (memory, CPU, GPU, EMC, "
                                "temperatures, power rails); no latency",
                                sniff_tegrastats, import_tegrastats};
extern const Format kNvidiaSmi{"nvidia-smi",
                               "nvidia-smi --query-gpu=... --format=csv (with its header) or nvidia-smi dmon output "
                               "-> a telemetry series per GPU; no latency",
                               sniff_nvidia_smi, import_nvidia_smi};
extern const Format kDcgm{"dcgm", "a DCGM-exporter scrape (Prometheus text) -> one row of GPU telemetry; no latency",
                          sniff_dcgm, import_dcgm};

}  // namespace trackiq::importers::detail
