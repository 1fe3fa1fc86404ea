#pragma once
// Internals shared by the importers (one file per format under src/importers/, listed in
// formats.cpp): JSON with line numbers for errors, the run every importer starts from, samples and
// metrics, unit conversion. Not a public header.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/hash.hpp"
#include "trackiq/core/result.hpp"
#include "trackiq/core/stats.hpp"
#include "trackiq/core/version.hpp"
#include "trackiq/importers/importers.hpp"

namespace trackiq::importers::detail {

using Json = nlohmann::json;

inline std::uint64_t line_at(std::string_view text, std::size_t byte) {
  return 1 + static_cast<std::uint64_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(std::min(byte, text.size())), '\n'));
}

// JSON input with error positions: nlohmann's DOM has no positions, so an entry's line is found
// from the n-th occurrence of its key in the text (good enough to point a person at it). The line
// starts and each key's occurrences are indexed once, so a file of many entries stays linear.
class JsonDoc {
 public:
  JsonDoc(std::string_view text, std::string origin) : text_(text), origin_(std::move(origin)) {
    try {
      root_ = Json::parse(text_);
    } catch (const Json::parse_error& e) {
      throw InputError(origin_, line_at(text_, e.byte == 0 ? 0 : e.byte - 1), std::string("not valid JSON: ") + e.what());
    } catch (const Json::exception& e) {  // e.g. out_of_range 406: "number overflow parsing '8e841'"
      const std::string what = e.what();
      std::uint64_t line = 1;
      if (const auto q = what.find("parsing '"); q != std::string::npos) {
        const std::string token = what.substr(q + 9, what.find('\'', q + 9) - (q + 9));
        if (const auto at = text_.find(token); !token.empty() && at != std::string_view::npos) line = line_at(text_, at);
      }
      throw InputError(origin_, line, "not valid JSON: " + what);
    }
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < text_.size(); ++i)
      if (text_[i] == '\n') line_starts_.push_back(i + 1);
  }
  const Json& root() const { return root_; }
  [[noreturn]] void fail(std::uint64_t line, const std::string& what) const { throw InputError(origin_, line, what); }
  // Line of the n-th (0-based) occurrence of "key": in the text; 1 when not found.
  std::uint64_t line_of_key(const std::string& key, std::size_t nth) const {
    auto [it, fresh] = key_offsets_.try_emplace(key);
    if (fresh) {
      const std::string needle = "\"" + key + "\"";
      for (auto at = text_.find(needle); at != std::string_view::npos; at = text_.find(needle, at + needle.size()))
        it->second.push_back(at);
    }
    return nth < it->second.size() ? line_of_offset(it->second[nth]) : 1;
  }
  // The line of "key": at or after the start of `line` (the entry's line), for errors about
  // that key's value; `line` itself when the key is not found there.
  std::uint64_t key_line(std::uint64_t line, const char* key) const {
    if (line == 0 || line > line_starts_.size()) return line;
    const auto at = text_.find("\"" + std::string(key) + "\"", line_starts_[line - 1]);
    return at == std::string_view::npos ? line : line_of_offset(at);
  }
  const Json& field(const Json& obj, const char* key, std::uint64_t line, const std::string& path) const {
    if (!obj.is_object()) fail(line, path + ": expected an object");
    const auto it = obj.find(key);
    if (it == obj.end()) fail(line, fmt::format("{}: missing \"{}\"", path, key));
    return *it;
  }
  double number(const Json& obj, const char* key, std::uint64_t line, const std::string& path) const {
    const Json& v = field(obj, key, line, path);
    if (!v.is_number()) fail(key_line(line, key), fmt::format("{}.{}: expected a number, got {}", path, key, v.type_name()));
    const double d = v.get<double>();
    if (!std::isfinite(d)) fail(key_line(line, key), fmt::format("{}.{}: not a finite number", path, key));
    return d;
  }
  std::optional<double> opt_number(const Json& obj, const char* key, std::uint64_t line, const std::string& path) const {
    if (!obj.is_object() || !obj.contains(key) || obj.at(key).is_null()) return std::nullopt;
    return number(obj, key, line, path);
  }
  std::string string(const Json& obj, const char* key, std::uint64_t line, const std::string& path) const {
    const Json& v = field(obj, key, line, path);
    if (!v.is_string()) fail(key_line(line, key), fmt::format("{}.{}: expected a string, got {}", path, key, v.type_name()));
    return v.get<std::string>();
  }
  std::string opt_string(const Json& obj, const char* key) const {
    if (!obj.is_object() || !obj.contains(key) || !obj.at(key).is_string()) return "";
    return obj.at(key).get<std::string>();
  }

 private:
  std::uint64_t line_of_offset(std::size_t at) const {
    return static_cast<std::uint64_t>(std::upper_bound(line_starts_.begin(), line_starts_.end(), at) - line_starts_.begin());
  }

  std::string_view text_;
  std::string origin_;
  Json root_;
  std::vector<std::size_t> line_starts_;                                     // offset of each line
  mutable std::map<std::string, std::vector<std::size_t>> key_offsets_;  // "key": occurrences
};

// ISO-8601 with any offset → UTC "YYYY-MM-DDTHH:MM:SS.mmmZ"; "" when it does not parse or lies
// outside 1970..2261 (ns since the epoch in an int64).
inline std::string to_utc(const std::string& ts) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  double s = 0;
  char sep = 0;
  if (std::sscanf(ts.c_str(), "%d-%d-%d%c%d:%d:%lf", &y, &mo, &d, &sep, &h, &mi, &s) != 7 || (sep != 'T' && sep != ' '))
    return "";
  if (y < 1970 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      !(s >= 0 && s < 61))
    return "";
  int off_min = 0;
  const auto tpos = ts.find_first_of("T ");
  const auto zone = ts.find_first_of("Z+-", tpos);
  if (zone != std::string::npos && ts[zone] != 'Z') {
    int oh = 0, om = 0;
    if (std::sscanf(ts.c_str() + zone + 1, "%d:%d", &oh, &om) < 1 || oh < 0 || oh > 14 || om < 0 || om > 59) return "";
    off_min = (ts[zone] == '-' ? -1 : 1) * (oh * 60 + om);
  }
  // days from civil (Howard Hinnant), then back, to apply the offset across day boundaries
  auto days_from_civil = [](int yy, unsigned m, unsigned dd) {
    yy -= m <= 2;
    const int era = (yy >= 0 ? yy : yy - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(yy - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + dd - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int>(doe) - 719468;
  };
  const double secs = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400.0 + h * 3600.0 +
                      mi * 60.0 + s - off_min * 60.0;
  const auto ms = static_cast<std::int64_t>(std::llround(secs * 1000));
  return utc_timestamp_from_unix_ns(ms * 1'000'000);
}

// The fingerprint of a machine the file says nothing about.
inline const std::string& fingerprint_of_nothing() {
  static const std::string f = [] {
    Environment e;
    update_fingerprint(e);
    return e.hardware_fingerprint;
  }();
  return f;
}

// A file that names the host but not the CPU (Google Benchmark): hardware is keyed by host name
// and CPU count, so runs from one machine group together; documented in `trackiq import --help`.
inline void fingerprint_from_host(Environment& env) {
  if (env.cpu_model.empty() && !env.hostname.empty())
    env.hardware_fingerprint = stable_hash_hex(fmt::format("host:{}|cpus:{}", env.hostname, env.cpu_logical));
}

struct Context {
  const std::string& origin;
  std::string_view format;  // the table's name of the format
  const ImportOptions& opts;
  std::string started_at;  // from the file, or the import time
  Environment env;         // what the file says about the machine
  std::optional<Environment> machine;  // ImportOptions::machine's, made once: it replaces `env`
};

inline Result new_run(const Context& c, const std::string& benchmark) {
  Result r;
  r.tool_version = std::string(version());
  r.run_id = new_run_id();
  r.started_at = r.finished_at = c.started_at;
  r.environment = c.machine ? *c.machine : c.env;
  r.environment.trackiq_version = r.tool_version;
  r.labels.product = c.opts.product;
  r.labels.version = c.opts.version;
  r.labels.extra = c.opts.labels;
  r.labels.extra["imported_from"] = std::string(c.format);
  r.labels.extra["source"] = std::filesystem::path(c.origin).filename().string();
  r.labels.extra["benchmark"] = benchmark;
  r.workload.backend = "import";
  r.workload.model = benchmark;
  r.workload.precision = "unknown";
  r.workload.device = "unknown";
  r.scenario.name = "single-stream";
  r.throughput_method = fmt::format("as reported by {}", c.format);
  r.telemetry.reason = fmt::format("not available: imported from {}, which records no telemetry", c.format);
  if (c.machine) {
    r.labels.extra["machine"] = c.opts.machine;
    r.warnings.push_back(c.opts.machine == "here"
                             ? "machine: this one (--machine here), not read from the file"
                             : fmt::format("machine: '{}' (--machine), not read from the file", c.opts.machine));
  } else if (c.env.hardware_fingerprint == fingerprint_of_nothing()) {
    r.warnings.push_back(fmt::format("{}: the file does not describe the machine; hardware fingerprint is that of an "
                                     "unknown machine, shared by every such import (--machine here or --machine NAME "
                                     "says which)",
                                     c.origin));
  }
  return r;
}

// Raw samples in ns → Result::latency and the latency metrics.
inline void set_samples(Result& r, std::vector<std::int64_t> samples) {
  LatencyData l;
  for (const auto v : samples) l.histogram.record(std::max<std::int64_t>(v, 0));
  l.summary_ns = summarize(samples);
  l.samples_ns = std::move(samples);
  append_latency_metrics(r.metrics, l.summary_ns);
  r.scenario.iterations = l.summary_ns.count;
  r.latency = std::move(l);
}

inline void set_metric(Result& r, const char* name, double v) {
  for (auto& m : r.metrics)
    if (m.name == name) {
      m.value = v;
      return;
    }
  r.metrics.push_back({name, v});
}

inline double unit_to_ns(const std::string& unit, const JsonDoc& doc, std::uint64_t line, const std::string& path) {
  if (unit == "ns") return 1;
  if (unit == "us") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  doc.fail(line, fmt::format("{}.time_unit: unknown unit '{}' (ns, us, ms or s)", path, unit));
}

// Seconds/ms/us → ns, refusing what an int64 of ns cannot hold (~292 years) or a negative time.
inline std::int64_t to_ns(double v, double scale, const std::string& origin, std::uint64_t line) {
  const double ns = v * scale;
  if (!(ns >= 0 && ns < 9.2e18)) throw InputError(origin, line, fmt::format("time {} is negative or too large", v));
  return static_cast<std::int64_t>(std::llround(ns));
}

// A count given as a JSON number or text: a non-negative integer that fits T.
template <typename T>
T to_count(double v, const std::string& origin, std::uint64_t line, const std::string& what) {
  if (!(v >= 0 && v < static_cast<double>(std::numeric_limits<T>::max()) && v == std::floor(v)))
    throw InputError(origin, line, fmt::format("{}: {} is not a count", what, v));
  return static_cast<T>(v);
}


inline double parse_number(const std::string& v, const std::string& origin, std::uint64_t line, const std::string& key) {
  double d = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(d))
    throw InputError(origin, line, fmt::format("{}: '{}' is not a number", key, v));
  return d;
}


// Text from a file as valid UTF-8 (our JSON needs it): each byte that does not start a valid
// sequence becomes U+FFFD. `changed` is set when something was replaced.
inline std::string utf8_clean(std::string_view in, bool* changed = nullptr) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    const auto c = static_cast<unsigned char>(in[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && i + n <= in.size() && !(n == 2 && c < 0xC2) && !(n == 4 && c > 0xF4);
    for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(in[i + k]) & 0xC0) == 0x80;
    if (ok && n == 3) {
      const auto c1 = static_cast<unsigned char>(in[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
    }
    if (ok && n == 4) {
      const auto c1 = static_cast<unsigned char>(in[i + 1]);
      ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    if (ok) {
      out.append(in.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      if (changed) *changed = true;
      ++i;
    }
  }
  return out;
}

// Lines of a text without their line ends (\n, \r\n, and the \r\r\n of files written through
// a Windows text-mode stream): line k of the result is line k + 1 of the file.
inline std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (at < text.size()) {
    auto nl = text.find('\n', at);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view l = text.substr(at, nl - at);
    while (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    out.push_back(l);
    at = nl + 1;
  }
  return out;
}

// A number in a text field (CSV, logs): finite, the whole field; nullopt for "", "N/A", "nan".
inline std::optional<double> opt_field_number(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty() || v == "N/A" || v == "n/a" || v == "nan" || v == "NaN" || v == "-") return std::nullopt;
  double d = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

// Registry metric `name` from a value in another tool's unit; values that are not finite are
// refused by the caller. Marks the kind.
inline void add_metric(Result& r, const char* name, double v, ValueKind kind = ValueKind::kMeasured) {
  for (auto& m : r.metrics)
    if (m.name == name) {
      m.value = v;
      m.kind = kind;
      return;
    }
  r.metrics.push_back({name, v, kind});
}

// One importable format: its name (`--format NAME`), a line for `--help`, how strongly a file
// looks like it (0 = not at all; the highest score wins when --format is not given), the parser.
struct Format {
  std::string_view name;
  std::string_view summary;
  int (*sniff)(std::string_view head, std::string_view filename);
  std::vector<Result> (*parse)(std::string_view text, Context& c);
};

}  // namespace trackiq::importers::detail
