#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <type_traits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/core/error.hpp"
#include "trackiq/core/result.hpp"

namespace trackiq {

using Json = nlohmann::ordered_json;

std::string_view to_string(SloState s) noexcept {
  switch (s) {
    case SloState::kPass: return "PASS";
    case SloState::kFail: return "FAIL";
    case SloState::kNotConfirmed: return "NOT_CONFIRMED";
    case SloState::kNotMeasured: return "NOT_MEASURED";
  }
  return "NOT_MEASURED";
}

std::string slo_state_text(SloState s) {
  std::string t(to_string(s));
  std::replace(t.begin(), t.end(), '_', ' ');
  return t;
}

std::string_view to_string(ValueKind k) noexcept {
  switch (k) {
    case ValueKind::kMeasured: return "measured";
    case ValueKind::kDerived: return "derived";
    case ValueKind::kEstimated: return "estimated";
  }
  return "measured";
}

std::optional<double> Result::metric_value(std::string_view name) const {
  for (const auto& m : metrics)
    if (m.name == name) return m.value;
  return std::nullopt;
}

bool TelemetrySeries::operator==(const TelemetrySeries& o) const {
  if (names != o.names || units != o.units || t_ns != o.t_ns || values.size() != o.values.size()) return false;
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!(values[i] == o.values[i] || (std::isnan(values[i]) && std::isnan(o.values[i])))) return false;
  return true;
}

void append_latency_metrics(std::vector<MetricValue>& out, const SampleSummary& sm) {
  out.push_back({"latency_min_ms", static_cast<double>(sm.min) / 1e6});
  out.push_back({"latency_mean_ms", sm.mean / 1e6});
  out.push_back({"latency_max_ms", static_cast<double>(sm.max) / 1e6});
  out.push_back({"latency_std_ms", sm.std / 1e6});
  out.push_back({"latency_cv", sm.cv, ValueKind::kDerived});
  for (const auto& q : sm.percentiles) {
    const char* name = q.p == 50 ? "latency_p50_ms" : q.p == 90 ? "latency_p90_ms" : q.p == 95 ? "latency_p95_ms"
                     : q.p == 99 ? "latency_p99_ms" : q.p == 99.9 ? "latency_p99_9_ms" : nullptr;
    if (name) out.push_back({name, q.value / 1e6});
  }
}

std::string new_run_id() {
  std::random_device rd;
  std::uniform_int_distribution<std::uint32_t> d;
  std::uint32_t w[4] = {d(rd), d(rd), d(rd), d(rd)};
  w[1] = (w[1] & 0xffff0fffU) | 0x00004000U;  // version 4
  w[2] = (w[2] & 0x3fffffffU) | 0x80000000U;  // variant 10
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:04x}{:08x}", w[0], w[1] >> 16, w[1] & 0xffff,
                     w[2] >> 16, w[2] & 0xffff, w[3]);
}

namespace {

Json optional_json(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

Json histogram_json(const Histogram& h) {
  return {{"lowest", h.lowest()},
          {"highest", h.highest()},
          {"significant_digits", h.significant_digits()},
          {"count", h.count()},
          {"encoding", h.encode()}};
}

Json summary_json(const SampleSummary& s) {
  Json j;
  j["count"] = s.count;
  j["min"] = s.min;
  j["max"] = s.max;
  j["mean"] = s.mean;
  j["std"] = s.std;
  j["cv"] = s.cv;
  Json ps = Json::array();
  for (const auto& p : s.percentiles) ps.push_back({{"p", p.p}, {"value", p.value}});
  j["percentiles"] = ps;
  return j;
}

Json environment_json(const Environment& e) {
  Json gpus = Json::array();
  for (const auto& g : e.gpus)
    gpus.push_back({{"id", g.id}, {"name", g.name}, {"uuid", g.uuid}, {"driver", g.driver}, {"memory_bytes", g.memory_bytes}});
  Json out{
      {"hostname", e.hostname},
      {"hardware_fingerprint", e.hardware_fingerprint},
      {"cpu",
       {{"model", e.cpu_model},
        {"logical_cpus", e.cpu_logical},
        {"physical_cores", e.cpu_physical},
        {"governor", e.cpu_governor},
        {"max_freq_mhz", optional_json(e.cpu_max_freq_mhz)}}},
      {"memory_total_bytes", e.memory_total_bytes},
      {"os", e.os},
      {"kernel", e.kernel},
      {"arch", e.arch},
      {"gpus", gpus},
      {"gpu_probe", e.gpu_probe},
      {"build",
       {{"trackiq_version", e.trackiq_version},
        {"compiler", e.compiler},
        {"build_type", e.build_type},
        {"debug_build", e.debug_build},
        {"sanitizers", e.sanitizers}}},
  };
  if (!e.variables.empty()) out["variables"] = e.variables;  // only when set: older documents stay as they were
  return out;
}

Json tensors_json(const std::vector<TensorSpec>& ts) {
  Json a = Json::array();
  for (const auto& t : ts) a.push_back({{"name", t.name}, {"shape", t.shape}, {"dtype", t.dtype}});
  return a;
}

Json workload_json(const WorkloadDescriptor& w) {
  Json j{{"backend", w.backend},     {"model", w.model},         {"model_hash", w.model_hash},
         {"batch_size", w.batch_size}, {"precision", w.precision}, {"device", w.device},
         {"threads", w.threads},     {"inputs", tensors_json(w.inputs)},
         {"outputs", tensors_json(w.outputs)}, {"flops_per_query", optional_json(w.flops_per_query)},
         {"synthetic", w.synthetic}};
  j["options"] = Json::object();
  for (const auto& [k, v] : w.options) j["options"][k] = v;
  return j;
}

Json scenario_json(const ScenarioSettings& s) {
  auto opt_u = [](const std::optional<std::uint64_t>& v) { return v ? Json(*v) : Json(nullptr); };
  auto opt_i = [](const std::optional<std::int64_t>& v) { return v ? Json(*v) : Json(nullptr); };
  return Json{{"name", s.name},
              {"warmup_iterations", s.warmup_iterations},
              {"warmup_ns", s.warmup_ns},
              {"iterations", opt_u(s.iterations)},
              {"duration_ns", opt_i(s.duration_ns)},
              {"max_duration_ns", opt_i(s.max_duration_ns)},
              {"seed", s.seed},
              {"qps", optional_json(s.qps)},
              {"samples_per_query", s.samples_per_query},
              {"workers", s.workers}};
}

}  // namespace

std::string to_json(const Result& r, int indent) {
  Json j;
  j["schema_version"] = r.schema_version;
  j["tool"] = {{"name", r.tool}, {"version", r.tool_version}};
  j["run_id"] = r.run_id;
  j["started_at"] = r.started_at;
  j["finished_at"] = r.finished_at;
  j["environment"] = environment_json(r.environment);
  Json labels{{"product", r.labels.product},
              {"version", r.labels.version},
              {"branch", r.labels.branch},
              {"commit", r.labels.commit},
              {"ci", r.labels.ci},
              {"extra", Json::object()}};
  for (const auto& [k, v] : r.labels.extra) labels["extra"][k] = v;
  j["labels"] = labels;
  j["workload"] = workload_json(r.workload);
  j["scenario"] = scenario_json(r.scenario);
  j["throughput_method"] = r.throughput_method;
  Json metrics = Json::object();
  for (const auto& m : r.metrics) {
    const MetricDef& def = metric(m.name);
    // Programming errors, caught before they reach a file: JSON has no NaN, and a name twice
    // would silently keep one value.
    if (!std::isfinite(m.value)) throw Error("metric " + m.name + " is not a finite number");
    if (metrics.contains(m.name)) throw Error("metric " + m.name + " appears twice in one result");
    metrics[m.name] = {{"value", m.value},
                       {"unit", def.unit},
                       {"direction", to_string(def.direction)},
                       {"kind", to_string(m.kind)}};
  }
  j["metrics"] = metrics;
  if (r.latency) {
    const auto& l = *r.latency;
    j["latency"] = {{"unit", "ns"},
                    {"measured_from", l.measured_from},
                    {"summary", summary_json(l.summary_ns)},
                    {"histogram", histogram_json(l.histogram)},
                    {"samples_ns", l.samples_ns}};
    if (!l.sample_end_ns.empty()) {
      if (l.sample_end_ns.size() != l.samples_ns.size()) throw Error("latency: sample_end_ns and samples_ns differ in length");
      j["latency"]["sample_end_ns"] = l.sample_end_ns;
    }
  } else {
    j["latency"] = nullptr;
  }
  if (!r.distributions.empty()) {
    Json d = Json::object();
    for (const auto& [name, h] : r.distributions) d[name] = histogram_json(h);
    j["distributions"] = d;
  }
  Json tsum = Json::object();
  for (const auto& [k, v] : r.telemetry.summary) tsum[k] = v;
  j["telemetry"] = {{"available", r.telemetry.available}, {"reason", r.telemetry.reason}, {"summary", tsum}};
  if (const auto& ts = r.telemetry.series) {
    if (ts->units.size() != ts->width() || ts->values.size() != ts->rows() * ts->width())
      throw Error("telemetry series: channel, unit and value counts disagree");
    Json channels = Json::array();
    for (std::size_t c = 0; c < ts->width(); ++c) channels.push_back({{"name", ts->names[c]}, {"unit", ts->units[c]}});
    Json rows = Json::array();
    for (std::size_t i = 0; i < ts->rows(); ++i) {
      Json row = Json::array();
      for (std::size_t c = 0; c < ts->width(); ++c) {
        const double v = ts->values[i * ts->width() + c];
        row.push_back(std::isfinite(v) ? Json(v) : Json(nullptr));  // JSON has no NaN: null = no value
      }
      rows.push_back(std::move(row));
    }
    j["telemetry"]["series"] = {{"channels", channels}, {"t_ns", ts->t_ns}, {"values", rows}};
  }
  Json slo = Json::array();
  for (const auto& s : r.slo) {
    Json v = {{"metric", s.metric},
              {"op", s.op},
              {"limit", s.limit},
              {"measured", optional_json(s.measured)},
              {"verdict", to_string(s.state)}};
    if (s.requests_needed) v["requests_needed"] = *s.requests_needed;
    if (!s.detail.empty()) v["detail"] = s.detail;
    slo.push_back(std::move(v));
  }
  j["slo"] = slo;
  Json by_class = Json::object();
  for (const auto& [k, v] : r.errors.by_class) by_class[k] = v;
  j["errors"] = {{"total", r.errors.total}, {"by_class", by_class}, {"examples", r.errors.examples}};
  j["warnings"] = r.warnings;
  // dump() formats numbers with the "C" conventions regardless of the global locale.
  return j.dump(indent, ' ', false, Json::error_handler_t::replace) + "\n";
}

namespace {

// Maps a byte offset of `text` to a 1-based line number.
std::uint64_t line_of(std::string_view text, std::size_t byte) {
  byte = std::min(byte, text.size());
  std::uint64_t line = 1;
  for (std::size_t i = 0; i < byte; ++i)
    if (text[i] == '\n') ++line;
  return line;
}

template <typename T>
struct is_vector : std::false_type {};
template <typename T>
struct is_vector<std::vector<T>> : std::true_type {};
template <typename T>
struct is_string_map : std::false_type {};
template <typename T>
struct is_string_map<std::map<std::string, T>> : std::true_type {};

class Reader {
 public:
  explicit Reader(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw InputError(origin_, 0, path + ": " + what);
  }
  const Json& field(const Json& obj, const char* key, const std::string& path) const {
    if (!obj.is_object()) fail(path, "expected an object");
    auto it = obj.find(key);
    if (it == obj.end()) fail(path, std::string("missing field '") + key + "'");
    return *it;
  }
  void require_one_of(const std::string& value, std::initializer_list<const char*> allowed,
                      const std::string& path) const {
    for (const char* a : allowed)
      if (value == a) return;
    fail(path, "unexpected value '" + value + "'");
  }
  template <typename T>
  T get(const Json& obj, const char* key, const std::string& path) const {
    return convert<T>(field(obj, key, path), path + "." + key);
  }
  template <typename T>
  std::optional<T> get_opt(const Json& obj, const char* key, const std::string& path) const {
    const Json& v = field(obj, key, path);
    if (v.is_null()) return std::nullopt;
    return convert<T>(v, path + "." + key);
  }

  // Strict conversion: the JSON type must match and integers must fit (nlohmann's own get<>
  // casts a double to an integer, which is undefined behaviour when out of range).
  template <typename T>
  T convert(const Json& v, const std::string& path) const {
    if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) fail(path, "expected true or false");
      return v.get<bool>();
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string()) fail(path, "expected a string");
      return v.get<std::string>();
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) fail(path, "expected a number");
      return v.get<T>();
    } else if constexpr (std::is_integral_v<T>) {
      if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) fail(path, "integer out of range");
        return static_cast<T>(u);
      }
      if (!v.is_number_integer()) fail(path, "expected an integer");
      const auto i = v.get<std::int64_t>();
      if (i < static_cast<std::int64_t>(std::numeric_limits<T>::min())) fail(path, "integer out of range");
      return static_cast<T>(i);
    } else if constexpr (is_vector<T>::value) {
      if (!v.is_array()) fail(path, "expected an array");
      T out;
      for (std::size_t i = 0; i < v.size(); ++i)
        out.push_back(convert<typename T::value_type>(v[i], path + "[" + std::to_string(i) + "]"));
      return out;
    } else {
      static_assert(is_string_map<T>::value, "unsupported type");
      if (!v.is_object()) fail(path, "expected an object");
      T out;
      for (const auto& [k, item] : v.items()) out.emplace(k, convert<typename T::mapped_type>(item, path + "." + k));
      return out;
    }
  }

 private:
  std::string origin_;
};

std::vector<TensorSpec> read_tensors(const Reader& rd, const Json& a, const std::string& path) {
  if (!a.is_array()) rd.fail(path, "expected an array");
  std::vector<TensorSpec> out;
  for (const auto& t : a) {
    out.push_back({rd.get<std::string>(t, "name", path), rd.get<std::vector<std::int64_t>>(t, "shape", path),
                   rd.get<std::string>(t, "dtype", path)});
  }
  return out;
}

Histogram read_histogram(const Reader& rd, const Json& h, const std::string& path) {
  Histogram out = Histogram::for_latency_ns();
  try {
    out = Histogram::decode(rd.get<std::string>(h, "encoding", path));
  } catch (const InputError& err) {
    rd.fail(path + ".encoding", err.what());
  }
  // The plain fields beside the encoding must agree with it.
  if (rd.get<std::int64_t>(h, "lowest", path) != out.lowest() || rd.get<std::int64_t>(h, "highest", path) != out.highest() ||
      rd.get<int>(h, "significant_digits", path) != out.significant_digits() ||
      rd.get<std::uint64_t>(h, "count", path) != out.count())
    rd.fail(path, "lowest/highest/significant_digits/count disagree with the encoding");
  return out;
}

}  // namespace

namespace {

Json parse_json(std::string_view text, std::string_view origin) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] parse error at line L, column C: ".
    const auto colon = what.find(": ", what.find("parse error"));
    throw InputError(std::string(origin), line_of(text, e.byte > 0 ? e.byte - 1 : 0),
                     "invalid JSON: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
  } catch (const nlohmann::json::exception& e) {  // e.g. out_of_range: a number too large for a double
    std::string what = e.what();
    const auto bracket = what.find("] ");
    throw InputError(std::string(origin), 0,
                     "invalid JSON: " + (bracket == std::string::npos ? what : what.substr(bracket + 2)));
  }
}

}  // namespace

std::vector<Result> results_from_json(std::string_view text, std::string_view origin) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '[') return {result_from_json(text, origin)};
  const Json j = parse_json(text, origin);
  if (j.empty()) throw InputError(std::string(origin), 0, "$: an empty array holds no result");
  std::vector<Result> out;
  for (std::size_t i = 0; i < j.size(); ++i)
    out.push_back(result_from_json(j[i].dump(), std::string(origin) + "[" + std::to_string(i) + "]"));
  return out;
}

Result result_from_json(std::string_view text, std::string_view origin) {
  const Json j = parse_json(text, origin);
  const Reader rd{std::string(origin)};
  Result r;
  r.schema_version = rd.get<std::string>(j, "schema_version", "$");
  if (r.schema_version.substr(0, r.schema_version.find('.')) !=
      kResultSchemaVersion.substr(0, kResultSchemaVersion.find('.')))
    rd.fail("$.schema_version", "unsupported schema version " + r.schema_version + " (this trackiq reads " +
                                    std::string(kResultSchemaVersion) + ")");
  const Json& tool = rd.field(j, "tool", "$");
  r.tool = rd.get<std::string>(tool, "name", "$.tool");
  r.tool_version = rd.get<std::string>(tool, "version", "$.tool");
  r.run_id = rd.get<std::string>(j, "run_id", "$");
  r.started_at = rd.get<std::string>(j, "started_at", "$");
  r.finished_at = rd.get<std::string>(j, "finished_at", "$");

  const Json& env = rd.field(j, "environment", "$");
  auto& e = r.environment;
  e.hostname = rd.get<std::string>(env, "hostname", "$.environment");
  e.hardware_fingerprint = rd.get<std::string>(env, "hardware_fingerprint", "$.environment");
  const Json& cpu = rd.field(env, "cpu", "$.environment");
  e.cpu_model = rd.get<std::string>(cpu, "model", "$.environment.cpu");
  e.cpu_logical = rd.get<std::uint32_t>(cpu, "logical_cpus", "$.environment.cpu");
  e.cpu_physical = rd.get<std::uint32_t>(cpu, "physical_cores", "$.environment.cpu");
  e.cpu_governor = rd.get<std::string>(cpu, "governor", "$.environment.cpu");
  e.cpu_max_freq_mhz = rd.get_opt<double>(cpu, "max_freq_mhz", "$.environment.cpu");
  e.memory_total_bytes = rd.get<std::uint64_t>(env, "memory_total_bytes", "$.environment");
  e.os = rd.get<std::string>(env, "os", "$.environment");
  e.kernel = rd.get<std::string>(env, "kernel", "$.environment");
  e.arch = rd.get<std::string>(env, "arch", "$.environment");
  for (const auto& g : rd.field(env, "gpus", "$.environment"))
    e.gpus.push_back({rd.get<std::string>(g, "id", "$.environment.gpus"), rd.get<std::string>(g, "name", "$.environment.gpus"),
                      rd.get<std::string>(g, "driver", "$.environment.gpus"),
                      rd.get<std::uint64_t>(g, "memory_bytes", "$.environment.gpus"),
                      rd.get<std::string>(g, "uuid", "$.environment.gpus")});
  e.gpu_probe = rd.get<std::string>(env, "gpu_probe", "$.environment");
  const Json& build = rd.field(env, "build", "$.environment");
  e.trackiq_version = rd.get<std::string>(build, "trackiq_version", "$.environment.build");
  e.compiler = rd.get<std::string>(build, "compiler", "$.environment.build");
  e.build_type = rd.get<std::string>(build, "build_type", "$.environment.build");
  e.debug_build = rd.get<bool>(build, "debug_build", "$.environment.build");
  e.sanitizers = rd.get<std::string>(build, "sanitizers", "$.environment.build");
  if (env.contains("variables"))
    e.variables = rd.get<std::map<std::string, std::string>>(env, "variables", "$.environment");

  const Json& labels = rd.field(j, "labels", "$");
  r.labels.product = rd.get<std::string>(labels, "product", "$.labels");
  r.labels.version = rd.get<std::string>(labels, "version", "$.labels");
  r.labels.branch = rd.get<std::string>(labels, "branch", "$.labels");
  r.labels.commit = rd.get<std::string>(labels, "commit", "$.labels");
  r.labels.ci = rd.get<bool>(labels, "ci", "$.labels");
  r.labels.extra = rd.get<std::map<std::string, std::string>>(labels, "extra", "$.labels");

  const Json& w = rd.field(j, "workload", "$");
  auto& wd = r.workload;
  wd.backend = rd.get<std::string>(w, "backend", "$.workload");
  rd.require_one_of(wd.backend, {"builtin", "torch", "onnx", "cmd", "synthetic", "import", "http", "tracker"}, "$.workload.backend");
  wd.model = rd.get<std::string>(w, "model", "$.workload");
  wd.model_hash = rd.get<std::string>(w, "model_hash", "$.workload");
  wd.batch_size = rd.get<std::uint32_t>(w, "batch_size", "$.workload");
  wd.precision = rd.get<std::string>(w, "precision", "$.workload");
  wd.device = rd.get<std::string>(w, "device", "$.workload");
  wd.threads = rd.get<std::uint32_t>(w, "threads", "$.workload");
  wd.inputs = read_tensors(rd, rd.field(w, "inputs", "$.workload"), "$.workload.inputs");
  wd.outputs = read_tensors(rd, rd.field(w, "outputs", "$.workload"), "$.workload.outputs");
  wd.flops_per_query = rd.get_opt<double>(w, "flops_per_query", "$.workload");
  wd.synthetic = rd.get<bool>(w, "synthetic", "$.workload");
  wd.options = rd.get<std::map<std::string, std::string>>(w, "options", "$.workload");

  const Json& s = rd.field(j, "scenario", "$");
  auto& sc = r.scenario;
  sc.name = rd.get<std::string>(s, "name", "$.scenario");
  rd.require_one_of(sc.name, {"single-stream", "multi-stream", "server", "offline", "load", "production"}, "$.scenario.name");
  sc.warmup_iterations = rd.get<std::uint64_t>(s, "warmup_iterations", "$.scenario");
  sc.warmup_ns = rd.get<std::int64_t>(s, "warmup_ns", "$.scenario");
  sc.iterations = rd.get_opt<std::uint64_t>(s, "iterations", "$.scenario");
  sc.duration_ns = rd.get_opt<std::int64_t>(s, "duration_ns", "$.scenario");
  sc.max_duration_ns = rd.get_opt<std::int64_t>(s, "max_duration_ns", "$.scenario");
  sc.seed = rd.get<std::uint64_t>(s, "seed", "$.scenario");
  sc.qps = rd.get_opt<double>(s, "qps", "$.scenario");
  sc.samples_per_query = rd.get<std::uint32_t>(s, "samples_per_query", "$.scenario");
  sc.workers = rd.get<std::uint32_t>(s, "workers", "$.scenario");
  r.throughput_method = rd.get<std::string>(j, "throughput_method", "$");

  const Json& metrics = rd.field(j, "metrics", "$");
  if (!metrics.is_object()) rd.fail("$.metrics", "expected an object");
  for (const auto& [name, m] : metrics.items()) {
    const MetricDef* def = find_metric(name);
    if (!def) rd.fail("$.metrics." + name, "unknown metric (not in the metric registry)");
    const std::string path = "$.metrics." + name;
    if (rd.get<std::string>(m, "unit", path) != def->unit) rd.fail(path, "unit differs from the registry");
    if (rd.get<std::string>(m, "direction", path) != to_string(def->direction))
      rd.fail(path, "direction differs from the registry");
    const auto kind = rd.get<std::string>(m, "kind", path);
    ValueKind k = ValueKind::kMeasured;
    if (kind == "derived") k = ValueKind::kDerived;
    else if (kind == "estimated") k = ValueKind::kEstimated;
    else if (kind != "measured") rd.fail(path + ".kind", "must be measured, derived or estimated");
    r.metrics.push_back({name, rd.get<double>(m, "value", path), k});
  }

  const Json& lat = rd.field(j, "latency", "$");
  if (!lat.is_null()) {
    LatencyData l;
    l.measured_from = rd.get<std::string>(lat, "measured_from", "$.latency");
    rd.require_one_of(l.measured_from, {"issue", "scheduled"}, "$.latency.measured_from");
    const Json& sum = rd.field(lat, "summary", "$.latency");
    l.summary_ns.count = rd.get<std::uint64_t>(sum, "count", "$.latency.summary");
    l.summary_ns.min = rd.get<std::int64_t>(sum, "min", "$.latency.summary");
    l.summary_ns.max = rd.get<std::int64_t>(sum, "max", "$.latency.summary");
    l.summary_ns.mean = rd.get<double>(sum, "mean", "$.latency.summary");
    l.summary_ns.std = rd.get<double>(sum, "std", "$.latency.summary");
    l.summary_ns.cv = rd.get<double>(sum, "cv", "$.latency.summary");
    for (const auto& p : rd.field(sum, "percentiles", "$.latency.summary"))
      l.summary_ns.percentiles.push_back(
          {rd.get<double>(p, "p", "$.latency.summary.percentiles"), rd.get<double>(p, "value", "$.latency.summary.percentiles")});
    l.histogram = read_histogram(rd, rd.field(lat, "histogram", "$.latency"), "$.latency.histogram");
    l.samples_ns = rd.get<std::vector<std::int64_t>>(lat, "samples_ns", "$.latency");
    if (lat.contains("sample_end_ns")) {
      l.sample_end_ns = rd.get<std::vector<std::int64_t>>(lat, "sample_end_ns", "$.latency");
      if (l.sample_end_ns.size() != l.samples_ns.size())
        rd.fail("$.latency.sample_end_ns", "needs one entry per samples_ns entry");
    }
    r.latency = std::move(l);
  }
  if (j.contains("distributions")) {
    const Json& d = j["distributions"];
    if (!d.is_object()) rd.fail("$.distributions", "expected an object");
    for (const auto& [name, h] : d.items()) r.distributions.emplace(name, read_histogram(rd, h, "$.distributions." + name));
  }

  const Json& tel = rd.field(j, "telemetry", "$");
  r.telemetry.available = rd.get<bool>(tel, "available", "$.telemetry");
  r.telemetry.reason = rd.get<std::string>(tel, "reason", "$.telemetry");
  r.telemetry.summary = rd.get<std::map<std::string, double>>(tel, "summary", "$.telemetry");
  if (tel.contains("series")) {
    const Json& sj = tel["series"];
    TelemetrySeries ts;
    for (const auto& c : rd.field(sj, "channels", "$.telemetry.series")) {
      ts.names.push_back(rd.get<std::string>(c, "name", "$.telemetry.series.channels"));
      ts.units.push_back(rd.get<std::string>(c, "unit", "$.telemetry.series.channels"));
    }
    ts.t_ns = rd.get<std::vector<std::int64_t>>(sj, "t_ns", "$.telemetry.series");
    const Json& rows = rd.field(sj, "values", "$.telemetry.series");
    if (!rows.is_array() || rows.size() != ts.t_ns.size())
      rd.fail("$.telemetry.series.values", "needs one row per t_ns entry");
    ts.values.reserve(ts.rows() * ts.width());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const std::string path = "$.telemetry.series.values[" + std::to_string(i) + "]";
      if (!rows[i].is_array() || rows[i].size() != ts.width()) rd.fail(path, "needs one value per channel");
      for (const auto& v : rows[i]) {
        if (v.is_null()) ts.values.push_back(std::numeric_limits<double>::quiet_NaN());
        else if (v.is_number()) ts.values.push_back(v.get<double>());
        else rd.fail(path, "values are numbers or null");
      }
    }
    r.telemetry.series = std::move(ts);
  }

  for (const auto& v : rd.field(j, "slo", "$")) {
    SloVerdict sv;
    sv.metric = rd.get<std::string>(v, "metric", "$.slo");
    sv.op = rd.get<std::string>(v, "op", "$.slo");
    rd.require_one_of(sv.op, {"<=", ">="}, "$.slo.op");
    sv.limit = rd.get<double>(v, "limit", "$.slo");
    sv.measured = rd.get_opt<double>(v, "measured", "$.slo");
    const auto verdict = rd.get<std::string>(v, "verdict", "$.slo");
    rd.require_one_of(verdict, {"PASS", "FAIL", "NOT_CONFIRMED", "NOT_MEASURED"}, "$.slo.verdict");
    if ((verdict == "NOT_MEASURED") != !sv.measured)
      rd.fail("$.slo.verdict", "NOT_MEASURED exactly when measured is null");
    for (const SloState st : {SloState::kPass, SloState::kFail, SloState::kNotConfirmed, SloState::kNotMeasured})
      if (verdict == to_string(st)) sv.state = st;
    if (v.contains("requests_needed")) sv.requests_needed = rd.get_opt<std::uint64_t>(v, "requests_needed", "$.slo");  // 1.1
    if (sv.requests_needed && sv.state != SloState::kNotConfirmed)
      rd.fail("$.slo.requests_needed", "only a NOT_CONFIRMED verdict needs more requests");
    if (v.contains("detail")) sv.detail = rd.get<std::string>(v, "detail", "$.slo");  // 1.1
    r.slo.push_back(sv);
  }
  const Json& errs = rd.field(j, "errors", "$");
  r.errors.total = rd.get<std::uint64_t>(errs, "total", "$.errors");
  r.errors.by_class = rd.get<std::map<std::string, std::uint64_t>>(errs, "by_class", "$.errors");
  r.errors.examples = rd.get<std::vector<std::string>>(errs, "examples", "$.errors");
  r.warnings = rd.get<std::vector<std::string>>(j, "warnings", "$");
  return r;
}

void write_file_atomic(const std::string& path, std::string_view text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code ec;
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  fs::create_directories(dir, ec);
  if (ec) throw Error(fmt::format("{}: cannot create directory: {}", path, ec.message()));
  // A unique temp file in the same directory, flushed to disk, then renamed over the target:
  // readers see the old file or the new one, never a part, even across a crash.
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw Error(fmt::format("{}: cannot create a temporary file: {}", path, strerrordesc_np(errno)));
  auto fail = [&](const char* what) {
    const std::string why = strerrordesc_np(errno);
    ::close(fd);
    ::unlink(tmp.c_str());
    throw Error(fmt::format("{}: {}: {}", path, what, why));
  };
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write failed");
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0) fail("chmod failed");
  if (::fsync(fd) != 0) fail("fsync failed");
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = strerrordesc_np(errno);
    ::unlink(tmp.c_str());
    throw Error(fmt::format("{}: cannot rename into place: {}", path, why));
  }
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY); dfd >= 0) {  // persist the rename
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace trackiq
