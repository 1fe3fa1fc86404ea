// Importers of other tools' benchmark results (STORE-4). Every parser validates the whole file
// before returning anything; errors name the file and the line of the offending entry.
#include "trackiq/importers/importers.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <unordered_map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/csv.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/hash.hpp"
#include "trackiq/core/stats.hpp"
#include "trackiq/core/version.hpp"

namespace trackiq::importers {
namespace {

using Json = nlohmann::json;

std::uint64_t line_at(std::string_view text, std::size_t byte) {
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
std::string to_utc(const std::string& ts) {
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
const std::string& fingerprint_of_nothing() {
  static const std::string f = [] {
    Environment e;
    update_fingerprint(e);
    return e.hardware_fingerprint;
  }();
  return f;
}

// A file that names the host but not the CPU (Google Benchmark): hardware is keyed by host name
// and CPU count, so runs from one machine group together; documented in `trackiq import --help`.
void fingerprint_from_host(Environment& env) {
  if (env.cpu_model.empty() && !env.hostname.empty())
    env.hardware_fingerprint = stable_hash_hex(fmt::format("host:{}|cpus:{}", env.hostname, env.cpu_logical));
}

struct Context {
  const std::string& origin;
  ImportFormat format;
  const ImportOptions& opts;
  std::string started_at;  // from the file, or the import time
  Environment env;         // what the file says about the machine
};

Result new_run(const Context& c, const std::string& benchmark) {
  Result r;
  r.tool_version = std::string(version());
  r.run_id = new_run_id();
  r.started_at = r.finished_at = c.started_at;
  r.environment = c.env;
  r.environment.trackiq_version = r.tool_version;
  r.labels.product = c.opts.product;
  r.labels.version = c.opts.version;
  r.labels.extra = c.opts.labels;
  r.labels.extra["imported_from"] = std::string(to_string(c.format));
  r.labels.extra["source"] = std::filesystem::path(c.origin).filename().string();
  r.labels.extra["benchmark"] = benchmark;
  r.workload.backend = "import";
  r.workload.model = benchmark;
  r.workload.precision = "unknown";
  r.workload.device = "unknown";
  r.scenario.name = "single-stream";
  r.throughput_method = fmt::format("as reported by {}", to_string(c.format));
  r.telemetry.reason = fmt::format("not available: imported from {}, which records no telemetry", to_string(c.format));
  if (c.env.hardware_fingerprint == fingerprint_of_nothing())
    r.warnings.push_back(fmt::format("{}: the file does not describe the machine; hardware fingerprint is that of an unknown machine", c.origin));
  return r;
}

// Raw samples in ns → Result::latency and the latency metrics.
void set_samples(Result& r, std::vector<std::int64_t> samples) {
  LatencyData l;
  for (const auto v : samples) l.histogram.record(std::max<std::int64_t>(v, 0));
  l.summary_ns = summarize(samples);
  l.samples_ns = std::move(samples);
  append_latency_metrics(r.metrics, l.summary_ns);
  r.scenario.iterations = l.summary_ns.count;
  r.latency = std::move(l);
}

void set_metric(Result& r, const char* name, double v) {
  for (auto& m : r.metrics)
    if (m.name == name) {
      m.value = v;
      return;
    }
  r.metrics.push_back({name, v});
}

double unit_to_ns(const std::string& unit, const JsonDoc& doc, std::uint64_t line, const std::string& path) {
  if (unit == "ns") return 1;
  if (unit == "us") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  doc.fail(line, fmt::format("{}.time_unit: unknown unit '{}' (ns, us, ms or s)", path, unit));
}

// Seconds/ms/us → ns, refusing what an int64 of ns cannot hold (~292 years) or a negative time.
std::int64_t to_ns(double v, double scale, const std::string& origin, std::uint64_t line) {
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

// ------------------------------------------------------------------------- Google Benchmark
std::vector<Result> import_gbench(std::string_view text, Context& c) {
  const JsonDoc doc(text, c.origin);
  const Json& root = doc.root();
  const Json& ctx = doc.field(root, "context", 1, "$");
  const Json& benches = doc.field(root, "benchmarks", doc.line_of_key("benchmarks", 0), "$");
  if (!benches.is_array()) doc.fail(doc.line_of_key("benchmarks", 0), "$.benchmarks: expected an array");
  if (const auto date = doc.opt_string(ctx, "date"); !date.empty()) {
    if (auto utc = to_utc(date); !utc.empty()) c.started_at = utc;
  }
  c.env.hostname = doc.opt_string(ctx, "host_name");
  if (const auto n = doc.opt_number(ctx, "num_cpus", 1, "$.context")) c.env.cpu_logical = to_count<std::uint32_t>(*n, c.origin, 1, "$.context.num_cpus");
  // mhz_per_cpu is what the library read (a timer rate on some machines) and library_build_type
  // is Google Benchmark's own build: labels, not our environment fields.
  std::map<std::string, std::string> context_labels;
  if (const auto mhz = doc.opt_number(ctx, "mhz_per_cpu", 1, "$.context")) context_labels["gbench_mhz_per_cpu"] = fmt::format("{}", *mhz);
  if (const auto bt = doc.opt_string(ctx, "library_build_type"); !bt.empty()) context_labels["gbench_library_build_type"] = bt;
  update_fingerprint(c.env);
  fingerprint_from_host(c.env);

  struct Group {
    std::string name;
    std::uint64_t line = 1;
    std::vector<std::int64_t> samples;
    std::map<std::string, double> aggregates;  // mean, median, stddev, cv → ns (cv as is)
    std::uint64_t aggregate_repetitions = 0;    // n behind the aggregates
    std::vector<double> items_per_second;       // per repetition
    std::uint64_t errors = 0;
    std::string error_message;
    std::uint64_t iterations = 0;
  };
  std::vector<Group> groups;                          // in file order
  std::unordered_map<std::string, std::size_t> group_of;  // run name -> index in groups
  for (std::size_t i = 0; i < benches.size(); ++i) {
    const Json& b = benches[i];
    const std::uint64_t line = doc.line_of_key("name", i);
    const std::string path = fmt::format("$.benchmarks[{}]", i);
    const std::string name = doc.string(b, "name", line, path);
    std::string run_name = doc.opt_string(b, "run_name");
    std::string type = doc.opt_string(b, "run_type");
    std::string aggregate = doc.opt_string(b, "aggregate_name");
    if (type.empty()) {
      // Files before Google Benchmark 1.5 have no run_type: aggregates are named <run>_mean,
      // _median, _stddev, _cv after their repetitions.
      for (const char* suffix : {"_mean", "_median", "_stddev", "_cv"}) {
        const std::string sfx = suffix;
        if (name.size() > sfx.size() && name.ends_with(sfx)) {
          const std::string base = name.substr(0, name.size() - sfx.size());
          if (group_of.contains(base)) {
            type = "aggregate";
            aggregate = sfx.substr(1);
            run_name = base;
          }
        }
      }
    }
    if (run_name.empty()) run_name = name;
    const auto [slot, fresh] = group_of.try_emplace(run_name, groups.size());
    if (fresh) groups.push_back({run_name, line, {}, {}, 0, {}, 0, {}, 0});
    Group* it = &groups[slot->second];
    if (b.contains("error_occurred") && b.at("error_occurred").is_boolean() && b.at("error_occurred").get<bool>()) {
      ++it->errors;
      if (it->error_message.empty()) it->error_message = doc.opt_string(b, "error_message");
      continue;
    }
    const double scale = unit_to_ns(doc.string(b, "time_unit", line, path), doc, line, path);
    if (type == "aggregate") {
      const std::string agg = aggregate.empty() ? doc.string(b, "aggregate_name", line, path) : aggregate;
      const double v = doc.number(b, "real_time", line, path);
      // _cv rows carry a ratio in real_time (aggregate_unit "percentage"); the others are times.
      it->aggregates[agg] = agg == "cv" ? v : v * scale;
      if (const auto n = doc.opt_number(b, "repetitions", line, path))
        it->aggregate_repetitions = to_count<std::uint32_t>(*n, c.origin, line, path + ".repetitions");
      continue;
    }
    if (!type.empty() && type != "iteration") doc.fail(line, fmt::format("{}.run_type: unknown '{}'", path, type));
    const double real = doc.number(b, "real_time", line, path);
    if (real < 0) doc.fail(line, path + ".real_time: negative");
    it->samples.push_back(to_ns(real, scale, c.origin, line));
    it->iterations += to_count<std::uint32_t>(doc.opt_number(b, "iterations", line, path).value_or(0), c.origin, line,
                                              path + ".iterations");  // per repetition; < 2^32 in practice
    if (const auto ips = doc.opt_number(b, "items_per_second", line, path)) it->items_per_second.push_back(*ips);
  }
  if (groups.empty()) doc.fail(doc.line_of_key("benchmarks", 0), "$.benchmarks: no benchmarks in the file");
  std::vector<Result> out;
  for (auto& g : groups) {
    Result r = new_run(c, g.name);
    // Each repetition reports the mean time per iteration: with >= 2 repetitions these are a
    // sample of the benchmark's distribution; one value alone is only a mean.
    if (g.samples.size() >= 2) {
      set_samples(r, g.samples);
      r.warnings.push_back(fmt::format("{} repetitions: each sample is the mean of its repetition's iterations", g.samples.size()));
    } else if (g.samples.size() == 1) {
      set_metric(r, "latency_mean_ms", static_cast<double>(g.samples[0]) / 1e6);
      r.warnings.push_back("one repetition: its mean time per iteration only, no distribution (use --benchmark_repetitions)");
    }
    if (!r.latency) {
      if (auto a = g.aggregates.find("mean"); a != g.aggregates.end()) set_metric(r, "latency_mean_ms", a->second / 1e6);
      if (auto a = g.aggregates.find("median"); a != g.aggregates.end()) set_metric(r, "latency_p50_ms", a->second / 1e6);
      // Google Benchmark's stddev divides by n - 1; the registry's latency_std_ms is the
      // population one: scaled by sqrt((n - 1) / n) when n is known, else not imported.
      if (auto a = g.aggregates.find("stddev"); a != g.aggregates.end() && g.aggregate_repetitions >= 2) {
        const double n = static_cast<double>(g.aggregate_repetitions);
        r.metrics.push_back({"latency_std_ms", a->second / 1e6 * std::sqrt((n - 1) / n), ValueKind::kDerived});
      }
    }
    // items_per_second counts whatever the benchmark calls an item (bytes, rows, ...): kept as a
    // label (the mean over repetitions), not mapped to a throughput metric with another meaning.
    if (!g.items_per_second.empty()) {
      double sum = 0;
      for (const double v : g.items_per_second) sum += v;
      r.labels.extra["gbench_items_per_second"] = fmt::format("{}", sum / static_cast<double>(g.items_per_second.size()));
    }
    for (const auto& [k, v] : context_labels) r.labels.extra[k] = v;
    if (g.iterations) r.scenario.iterations = g.iterations;
    if (g.errors) {
      r.errors.total = g.errors;
      r.errors.by_class["benchmark_error"] = g.errors;
      if (!g.error_message.empty()) r.errors.examples.push_back(g.error_message);
      set_metric(r, "errors_total", static_cast<double>(g.errors));
    }
    if (r.metrics.empty()) doc.fail(g.line, fmt::format("benchmark '{}' has no time to import", g.name));
    out.push_back(std::move(r));
  }
  return out;
}

// ---------------------------------------------------------------------------------- hyperfine
std::vector<Result> import_hyperfine(std::string_view text, Context& c) {
  const JsonDoc doc(text, c.origin);
  const Json& results = doc.field(doc.root(), "results", 1, "$");
  if (!results.is_array() || results.empty()) doc.fail(doc.line_of_key("results", 0), "$.results: expected a non-empty array");
  update_fingerprint(c.env);
  std::vector<Result> out;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const Json& e = results[i];
    const std::uint64_t line = doc.line_of_key("command", i);
    const std::string path = fmt::format("$.results[{}]", i);
    Result r = new_run(c, doc.string(e, "command", line, path));
    const Json& times = doc.field(e, "times", line, path);
    if (!times.is_array() || times.empty()) doc.fail(line, path + ".times: expected a non-empty array of seconds");
    std::vector<std::int64_t> samples;
    std::uint64_t failed = 0;
    const Json* codes = e.contains("exit_codes") && e.at("exit_codes").is_array() ? &e.at("exit_codes") : nullptr;
    for (std::size_t k = 0; k < times.size(); ++k) {
      if (!times[k].is_number() || !std::isfinite(times[k].get<double>()) || times[k].get<double>() < 0)
        doc.fail(line, fmt::format("{}.times[{}]: expected a non-negative number of seconds", path, k));
      // hyperfine -i: a non-zero exit, or null (killed by a signal), is a failure, not a sample.
      if (codes && k < codes->size() &&
          ((*codes)[k].is_null() || ((*codes)[k].is_number_integer() && (*codes)[k].get<long long>() != 0))) {
        ++failed;
        continue;
      }
      samples.push_back(to_ns(times[k].get<double>(), 1e9, c.origin, line));
    }
    if (samples.empty()) doc.fail(line, path + ": every run of the command failed");
    set_samples(r, samples);
    if (failed) {
      r.errors.total = failed;
      r.errors.by_class["nonzero_exit"] = failed;
      set_metric(r, "errors_total", static_cast<double>(failed));
    }
    // user/system CPU seconds per run have no registry metric; keep them as labels.
    for (const char* k : {"user", "system"})
      if (const auto v = doc.opt_number(e, k, line, path)) r.labels.extra[std::string("hyperfine_") + k + "_s"] = fmt::format("{}", *v);
    out.push_back(std::move(r));
  }
  return out;
}

// --------------------------------------------------------------------------- pytest-benchmark
std::vector<Result> import_pytest(std::string_view text, Context& c) {
  const JsonDoc doc(text, c.origin);
  const Json& root = doc.root();
  const Json& benches = doc.field(root, "benchmarks", 1, "$");
  if (!benches.is_array()) doc.fail(doc.line_of_key("benchmarks", 0), "$.benchmarks: expected an array");
  if (const auto dt = doc.opt_string(root, "datetime"); !dt.empty()) {
    // pytest-benchmark writes UTC without an offset
    if (auto utc = to_utc(dt.find_first_of("Z+") == std::string::npos ? dt + "Z" : dt); !utc.empty()) c.started_at = utc;
  }
  if (root.contains("machine_info") && root.at("machine_info").is_object()) {
    const Json& mi = root.at("machine_info");
    c.env.hostname = doc.opt_string(mi, "node");
    c.env.arch = doc.opt_string(mi, "machine");
    c.env.os = doc.opt_string(mi, "system");
    c.env.kernel = doc.opt_string(mi, "release");
    if (mi.contains("cpu") && mi.at("cpu").is_object()) {
      const Json& cpu = mi.at("cpu");
      c.env.cpu_model = doc.opt_string(cpu, "brand_raw");
      if (cpu.contains("count") && cpu.at("count").is_number_integer()) c.env.cpu_logical = cpu.at("count").get<std::uint32_t>();
    }
    if (c.env.cpu_model.empty()) c.env.cpu_model = doc.opt_string(mi, "processor");
  }
  update_fingerprint(c.env);
  fingerprint_from_host(c.env);
  std::string commit, branch;
  if (root.contains("commit_info") && root.at("commit_info").is_object()) {
    commit = doc.opt_string(root.at("commit_info"), "id");
    branch = doc.opt_string(root.at("commit_info"), "branch");
  }
  std::vector<Result> out;
  for (std::size_t i = 0; i < benches.size(); ++i) {
    const Json& b = benches[i];
    std::uint64_t line = doc.line_of_key("fullname", i);
    if (line == 1) line = doc.line_of_key("name", i);
    const std::string path = fmt::format("$.benchmarks[{}]", i);
    std::string name = doc.opt_string(b, "fullname");
    if (name.empty()) name = doc.string(b, "name", line, path);
    Result r = new_run(c, name);
    r.labels.commit = commit;
    r.labels.branch = branch;
    const Json& st = doc.field(b, "stats", line, path);
    const std::string sp = path + ".stats";
    if (st.contains("data") && st.at("data").is_array() && !st.at("data").empty()) {
      // Each round's time per iteration, in seconds.
      std::vector<std::int64_t> samples;
      for (std::size_t k = 0; k < st.at("data").size(); ++k) {
        const Json& v = st.at("data")[k];
        if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0)
          doc.fail(line, fmt::format("{}.data[{}]: expected a non-negative number of seconds", sp, k));
        samples.push_back(to_ns(v.get<double>(), 1e9, c.origin, line));
      }
      set_samples(r, samples);
    } else {
      set_metric(r, "latency_min_ms", doc.number(st, "min", line, sp) * 1e3);
      set_metric(r, "latency_max_ms", doc.number(st, "max", line, sp) * 1e3);
      set_metric(r, "latency_mean_ms", doc.number(st, "mean", line, sp) * 1e3);
      set_metric(r, "latency_p50_ms", doc.number(st, "median", line, sp) * 1e3);
      r.warnings.push_back("no per-round data in the file (--benchmark-save-data): summary statistics only");
      const auto rounds = to_count<std::uint32_t>(doc.number(st, "rounds", line, sp), c.origin, line, sp + ".rounds");
      r.scenario.iterations = rounds;
      // pytest-benchmark's stddev divides by n - 1; latency_std_ms is the population one.
      if (rounds >= 2) {
        const double n = rounds;
        r.metrics.push_back({"latency_std_ms", doc.number(st, "stddev", line, sp) * 1e3 * std::sqrt((n - 1) / n), ValueKind::kDerived});
      }
    }
    // ops = 1 / mean: sequential calls per second, derived from the mean.
    if (const auto ops = doc.opt_number(st, "ops", line, sp)) r.metrics.push_back({"throughput_queries_per_s", *ops, ValueKind::kDerived});
    out.push_back(std::move(r));
  }
  return out;
}

// ------------------------------------------------------------------------------------- MLPerf
std::string mlperf_scenario(const std::string& s, const std::string& origin, std::uint64_t line) {
  if (s == "Server") return "server";
  if (s == "Offline") return "offline";
  if (s == "SingleStream") return "single-stream";
  if (s == "MultiStream") return "multi-stream";
  throw InputError(origin, line, fmt::format("unknown MLPerf scenario '{}'", s));
}

double parse_number(const std::string& v, const std::string& origin, std::uint64_t line, const std::string& key) {
  double d = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(d))
    throw InputError(origin, line, fmt::format("{}: '{}' is not a number", key, v));
  return d;
}

void mlperf_metric(Result& r, const std::string& key, double v) {
  // LoadGen's own names → registry metrics (latencies in ns → ms).
  static const std::pair<const char*, const char*> kLatency[] = {
      {"min", "latency_min_ms"},   {"max", "latency_max_ms"},   {"mean", "latency_mean_ms"},
      {"50.00", "latency_p50_ms"}, {"90.00", "latency_p90_ms"}, {"95.00", "latency_p95_ms"},
      {"99.00", "latency_p99_ms"}, {"99.90", "latency_p99_9_ms"}};
  for (const auto& [k, m] : kLatency)
    if (key == k) set_metric(r, m, v / 1e6);
}

std::vector<Result> import_mlperf(std::string_view text, Context& c) {
  update_fingerprint(c.env);
  Result r = new_run(c, "mlperf");
  std::string scenario, sut, validity;
  std::uint64_t scenario_line = 1;
  std::optional<double> target_qps;
  std::uint32_t samples_per_query = 1;
  std::istringstream in{std::string(text)};
  std::string raw;
  std::uint64_t line = 0;
  bool detail = false, any = false;
  while (std::getline(in, raw)) {
    ++line;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    if (raw.rfind(":::MLLOG ", 0) == 0) {
      detail = any = true;
      Json j;
      try {
        j = Json::parse(raw.substr(9));
      } catch (const Json::exception& e) {  // parse_error, or out_of_range for a number too large
        throw InputError(c.origin, line, std::string("bad :::MLLOG JSON: ") + e.what());
      }
      if (!j.is_object() || !j.contains("key") || !j.at("key").is_string() || !j.contains("value"))
        throw InputError(c.origin, line, ":::MLLOG entry without \"key\" and \"value\"");
      const std::string key = j.at("key").get<std::string>();
      const Json& v = j.at("value");
      auto num = [&]() {
        if (!v.is_number()) throw InputError(c.origin, line, fmt::format("{}: expected a number", key));
        return v.get<double>();
      };
      if (key == "requested_scenario" || key == "effective_scenario") {
        if (!v.is_string()) throw InputError(c.origin, line, key + ": expected a string");
        scenario = v.get<std::string>();
        scenario_line = line;
      } else if (key == "sut_name" && v.is_string()) {
        sut = v.get<std::string>();
      } else if (key == "test_datetime" && v.is_string()) {
        if (auto utc = to_utc(v.get<std::string>()); !utc.empty()) r.started_at = r.finished_at = utc;
      } else if (key == "result_validity" && v.is_string()) {
        validity = v.get<std::string>();
      } else if (key == "result_completed_samples_per_sec" || key == "result_samples_per_second") {
        set_metric(r, "throughput_samples_per_s", num());
      } else if (key == "result_scheduled_samples_per_sec") {
        set_metric(r, "qps_scheduled", num());
      } else if (key == "result_query_count") {
        set_metric(r, "queries_total", num());
      } else if (key.starts_with("result_") && key.ends_with("_latency_ns") && key.size() > 18) {
        std::string what = key.substr(7, key.size() - 18);  // result_<what>_latency_ns
        if (what.ends_with("_percentile")) what.resize(what.size() - 11);
        mlperf_metric(r, what, num());
      }
      continue;
    }
    if (const auto w = raw.find(" warnings encountered"); w != std::string::npos && w > 0) {
      r.labels.extra["mlperf_warnings"] = raw.substr(0, w);
      continue;
    }
    const auto colon = raw.find(':');
    if (colon == std::string::npos) continue;  // banners, blank lines, prose
    auto trim = [](std::string s) {
      const auto b = s.find_first_not_of(" \t*");
      const auto e = s.find_last_not_of(" \t");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    std::string key = trim(raw.substr(0, colon)), value = trim(raw.substr(colon + 1));
    if (key == "Scenario") {
      scenario = value;
      scenario_line = line;
      any = true;
    } else if (key == "SUT name") {
      sut = value;
    } else if (key == "Result is") {
      validity = value;
    } else if (key == "Completed samples per second" || key == "Samples per second") {
      set_metric(r, "throughput_samples_per_s", parse_number(value, c.origin, line, key));
    } else if (key == "Completed tokens per second" || key == "Tokens per second") {
      r.labels.extra["mlperf_tokens_per_s"] = value;
    } else if (key == "Scheduled samples per second") {
      set_metric(r, "qps_scheduled", parse_number(value, c.origin, line, key));
    } else if (key == "target_qps") {
      target_qps = parse_number(value, c.origin, line, key);
      r.labels.extra["mlperf_target_qps"] = value;
    } else if (key == "samples_per_query") {
      samples_per_query = to_count<std::uint32_t>(parse_number(value, c.origin, line, key), c.origin, line, key);

    } else if (key.ends_with(" latency (ns)")) {
      std::string what = trim(key.substr(0, key.size() - 13));
      if (what.ends_with(" percentile")) what.resize(what.size() - 11);
      std::transform(what.begin(), what.end(), what.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      mlperf_metric(r, what, parse_number(value, c.origin, line, key));
    }
  }
  if (!any) throw InputError(c.origin, line ? line : 1, "not an MLPerf LoadGen summary or detail log (no 'Scenario' line, no :::MLLOG)");
  if (scenario.empty()) throw InputError(c.origin, 1, "no scenario in the log");
  r.scenario.name = mlperf_scenario(scenario, c.origin, scenario_line);
  // As in our results: a target rate only for the server scenario, samples per query only for
  // multi-stream (the other scenarios' values stay in the mlperf_* labels).
  if (r.scenario.name == "server") r.scenario.qps = target_qps;
  if (r.scenario.name == "multi-stream") r.scenario.samples_per_query = samples_per_query;
  r.workload.model = sut.empty() ? "mlperf" : sut;
  r.labels.extra["benchmark"] = r.workload.model;
  r.labels.extra["mlperf_scenario"] = scenario;
  r.labels.extra["mlperf_log"] = detail ? "detail" : "summary";
  if (!validity.empty()) {
    r.labels.extra["mlperf_result_validity"] = validity;
    if (validity != "VALID") r.warnings.push_back("MLPerf says the result is " + validity);
  }
  if (r.metrics.empty()) throw InputError(c.origin, 1, "no results in the log (is it an accuracy-only run?)");
  return {std::move(r)};
}

// ---------------------------------------------------------------------------------------- CSV
std::vector<Result> import_csv(std::string_view text, Context& c) {
  if (c.opts.map.empty())
    throw InputError("csv import needs --map METRIC=COLUMN (e.g. --map latency_ms=duration), at least one");
  update_fingerprint(c.env);
  std::istringstream in{std::string(text)};
  std::string raw;
  std::uint64_t n = 0;
  std::vector<std::string> header;
  while (header.empty() && std::getline(in, raw)) {
    ++n;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    if (!raw.empty() && raw.rfind("\xEF\xBB\xBF", 0) == 0) raw.erase(0, 3);
    if (!raw.empty()) header = split_csv_record(raw, c.origin, n);
  }
  if (header.empty()) throw InputError(c.origin, 1, "empty file: expected a header row");
  struct Col {
    std::string metric;
    std::size_t index;
    double to_ns = 0;  // latency samples: scale to ns; 0 = a registry metric (mean of the column)
    std::vector<double> values;
  };
  std::vector<Col> cols;
  for (const auto& [m, col] : c.opts.map) {
    const auto it = std::find(header.begin(), header.end(), col);
    if (it == header.end())
      throw InputError(c.origin, n, fmt::format("--map {}={}: no column '{}' in the header", m, col, col));
    Col cl{m, static_cast<std::size_t>(it - header.begin()), 0, {}};
    if (m == "latency_ns") cl.to_ns = 1;
    else if (m == "latency_us") cl.to_ns = 1e3;
    else if (m == "latency_ms") cl.to_ns = 1e6;
    else if (m == "latency_s") cl.to_ns = 1e9;
    else if (!find_metric(m))
      throw InputError(fmt::format("--map {}={}: '{}' is neither latency_ns|us|ms|s nor a registry metric (trackiq metrics)", m, col, m));
    cols.push_back(std::move(cl));
  }
  if (std::count_if(cols.begin(), cols.end(), [](const Col& x) { return x.to_ns > 0; }) > 1)
    throw InputError("--map: only one latency column can become the samples");
  std::vector<std::uint64_t> row_lines;  // the file line of each data row, for errors
  while (std::getline(in, raw)) {
    ++n;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    if (raw.empty()) continue;
    const auto f = split_csv_record(raw, c.origin, n);
    if (f.size() != header.size())
      throw InputError(c.origin, n, fmt::format("{} fields, the header has {}", f.size(), header.size()));
    for (auto& col : cols) {
      const std::string& v = f[col.index];
      double d = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
      if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(d))
        throw InputError(c.origin, n, fmt::format("column '{}': '{}' is not a number", header[col.index], v));
      if (col.to_ns > 0 && d < 0) throw InputError(c.origin, n, fmt::format("column '{}': negative latency", header[col.index]));
      col.values.push_back(d);
    }
    row_lines.push_back(n);
  }
  if (row_lines.empty()) throw InputError(c.origin, n, "no data rows after the header");
  Result r = new_run(c, std::filesystem::path(c.origin).stem().string());
  for (const auto& col : cols) {
    if (col.to_ns > 0) {
      std::vector<std::int64_t> samples;
      samples.reserve(col.values.size());
      for (std::size_t i = 0; i < col.values.size(); ++i)
        samples.push_back(to_ns(col.values[i], col.to_ns, c.origin, row_lines[i]));
      set_samples(r, std::move(samples));
    }
  }
  for (const auto& col : cols) {
    if (col.to_ns > 0) continue;
    double sum = 0;
    for (const double v : col.values) sum += v;
    set_metric(r, col.metric.c_str(), sum / static_cast<double>(col.values.size()));
    if (col.values.size() > 1) r.warnings.push_back(fmt::format("{}: the mean of {} rows of column '{}'", col.metric, col.values.size(), header[col.index]));
  }
  return {std::move(r)};
}

}  // namespace

ImportFormat parse_import_format(std::string_view name) {
  if (name == "gbench") return ImportFormat::kGbench;
  if (name == "hyperfine") return ImportFormat::kHyperfine;
  if (name == "pytest-benchmark") return ImportFormat::kPytestBenchmark;
  if (name == "mlperf") return ImportFormat::kMlperf;
  if (name == "csv") return ImportFormat::kCsv;
  throw InputError(fmt::format("unknown import format '{}': gbench, hyperfine, pytest-benchmark, mlperf or csv", name));
}

std::string_view to_string(ImportFormat f) noexcept {
  switch (f) {
    case ImportFormat::kGbench: return "gbench";
    case ImportFormat::kHyperfine: return "hyperfine";
    case ImportFormat::kPytestBenchmark: return "pytest-benchmark";
    case ImportFormat::kMlperf: return "mlperf";
    case ImportFormat::kCsv: return "csv";
  }
  return "gbench";
}

std::vector<Result> import_text(std::string_view text, const std::string& origin, ImportFormat format,
                                const ImportOptions& options) {
  Context c{origin, format, options, options.imported_at.empty() ? utc_timestamp_now() : options.imported_at, {}};
  c.env.cpu_governor = "not available: imported";
  c.env.gpu_probe = "not available: imported; the file does not list GPUs";
  switch (format) {
    case ImportFormat::kGbench: return import_gbench(text, c);
    case ImportFormat::kHyperfine: return import_hyperfine(text, c);
    case ImportFormat::kPytestBenchmark: return import_pytest(text, c);
    case ImportFormat::kMlperf: return import_mlperf(text, c);
    case ImportFormat::kCsv: return import_csv(text, c);
  }
  return {};
}

std::vector<Result> import_file(const std::string& path, ImportFormat format, const ImportOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open the file", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return import_text(ss.str(), path, format, options);
}

}  // namespace trackiq::importers
