// TensorRT trtexec JSON exports: --exportTimes (one record per inference; its latencyMs, the host
// latency H2D + compute + D2H, becomes a sample) and --exportProfile (per-layer times, kept whole
// in workload.options["trtexec_layer_profile"] for a later per-layer analysis).
#include "common.hpp"
#include "trackiq/importers/trtexec.hpp"

namespace trackiq::importers::detail {
namespace {

using Json = nlohmann::json;

std::vector<Result> import_times(const JsonDoc& doc, Context& c) {
  const Json& a = doc.root();
  Result r = new_run(c, std::filesystem::path(c.origin).stem().string());
  std::vector<std::int64_t> samples;
  samples.reserve(a.size());
  double compute_sum = 0, first = std::numeric_limits<double>::infinity(), last = -first;
  std::size_t compute_n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::uint64_t line = doc.line_of_key("latencyMs", i);
    const std::string path = fmt::format("$[{}]", i);
    const double lat = doc.number(a[i], "latencyMs", line, path);
    if (lat < 0) doc.fail(line, path + ".latencyMs: negative");
    samples.push_back(to_ns(lat, 1e6, c.origin, line));
    if (const auto cm = doc.opt_number(a[i], "computeMs", line, path)) {
      compute_sum += *cm;
      ++compute_n;
    }
    // TensorRT 10 names: startEnqMs .. endD2hMs; older: startInMs .. endOutMs.
    for (const char* k : {"startEnqMs", "startInMs"})
      if (const auto v = doc.opt_number(a[i], k, line, path)) first = std::min(first, *v);
    for (const char* k : {"endD2hMs", "endOutMs"})
      if (const auto v = doc.opt_number(a[i], k, line, path)) last = std::max(last, *v);
  }
  set_samples(r, std::move(samples));
  if (compute_n) r.labels.extra["trtexec_gpu_compute_mean_ms"] = fmt::format("{}", compute_sum / static_cast<double>(compute_n));
  if (last > first) {
    const double n = static_cast<double>(a.size());
    add_metric(r, "throughput_queries_per_s", n / ((last - first) / 1e3), ValueKind::kDerived);
    add_metric(r, "wall_time_s", (last - first) / 1e3, ValueKind::kDerived);
    r.throughput_method = "derived: records / (last end of D2H - first start of enqueue), from the exported times";
  }
  r.warnings.push_back("samples are trtexec's host latency (latencyMs: H2D + GPU compute + D2H)");
  return {std::move(r)};
}

TrtProfile profile_of(const JsonDoc& doc, const std::string& origin) {
  const Json& a = doc.root();
  if (!a.is_array() || a.empty() || !a[0].is_object() || !a[0].contains("count"))
    doc.fail(1, "$: expected trtexec --exportProfile: an array starting with {\"count\": N}");
  TrtProfile p;
  const std::uint64_t count_line = doc.line_of_key("count", 0);
  p.count = to_count<std::uint64_t>(doc.number(a[0], "count", count_line, "$[0]"), origin, count_line, "$[0].count");
  for (std::size_t i = 1; i < a.size(); ++i) {
    const std::uint64_t line = doc.line_of_key("name", i - 1);
    const std::string path = fmt::format("$[{}]", i);
    TrtLayerTime l;
    l.name = doc.string(a[i], "name", line, path);
    auto non_negative = [&](const char* k) {
      const auto v = doc.opt_number(a[i], k, line, path);
      if (v && *v < 0) doc.fail(doc.key_line(line, k), fmt::format("{}.{}: negative", path, k));
      return v;
    };
    const auto avg = non_negative("averageMs");
    if (!avg) doc.fail(line, path + ": missing \"averageMs\"");
    l.average_ms = *avg;
    l.total_ms = non_negative("timeMs").value_or(*avg * static_cast<double>(p.count));
    l.median_ms = non_negative("medianMs");
    l.percentage = non_negative("percentage");
    p.layers.push_back(std::move(l));
  }
  if (p.layers.empty()) doc.fail(count_line, "no layers after the count");
  return p;
}

std::vector<Result> import_profile(const JsonDoc& doc, Context& c) {
  const TrtProfile p = profile_of(doc, c.origin);
  Result r = new_run(c, std::filesystem::path(c.origin).stem().string());
  Json layers = Json::array();
  double avg_sum = 0;
  for (const auto& l : p.layers) {
    Json j = {{"name", l.name}, {"timeMs", l.total_ms}, {"averageMs", l.average_ms}};
    if (l.median_ms) j["medianMs"] = *l.median_ms;
    if (l.percentage) j["percentage"] = *l.percentage;
    avg_sum += l.average_ms;
    layers.push_back(std::move(j));
  }
  r.workload.options["trtexec_layer_profile"] = layers.dump();
  r.labels.extra["trtexec_profile_layers"] = std::to_string(layers.size());
  r.scenario.iterations = p.count;
  add_metric(r, "latency_mean_ms", avg_sum, ValueKind::kDerived);
  r.warnings.push_back(
      "from a layer profile: latency_mean_ms is the sum of the layers' averageMs (profiling runs layers one by one, "
      "so it exceeds an unprofiled inference); the layers are in workload.options.trtexec_layer_profile");
  r.throughput_method = "not available: a layer profile has no throughput";
  return {std::move(r)};
}

std::vector<Result> import_trtexec(std::string_view text, Context& c) {
  update_fingerprint(c.env);
  const JsonDoc doc(text, c.origin);
  if (!doc.root().is_array() || doc.root().empty()) doc.fail(1, "$: expected a non-empty array (trtexec --exportTimes or --exportProfile)");
  if (doc.root()[0].is_object() && doc.root()[0].contains("count")) return import_profile(doc, c);
  return import_times(doc, c);
}

int sniff_trtexec(std::string_view head, std::string_view) {
  const auto has = [&](std::string_view s) { return head.find(s) != std::string_view::npos; };
  if (has("\"latencyMs\"") && (has("\"computeMs\"") || has("\"startEnqMs\"") || has("\"startInMs\""))) return 95;
  if (has("\"count\"") && has("\"averageMs\"")) return 95;
  return 0;
}

}  // namespace

extern const Format kTrtexec{"trtexec",
                             "TensorRT trtexec --exportTimes (each inference's latencyMs -> a sample) or "
                             "--exportProfile (per-layer times, kept in workload.options)",
                             sniff_trtexec, import_trtexec};

}  // namespace trackiq::importers::detail

namespace trackiq::importers {

TrtProfile read_trtexec_profile(std::string_view text, const std::string& origin) {
  return detail::profile_of(detail::JsonDoc(text, origin), origin);
}

TrtTimes read_trtexec_times(std::string_view text, const std::string& origin) {
  using detail::Json;
  const detail::JsonDoc doc(text, origin);
  const Json& a = doc.root();
  if (!a.is_array() || a.empty())
    doc.fail(1, "$: expected trtexec --exportTimes: a non-empty array of per-inference records");
  TrtTimes t;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::uint64_t line = doc.line_of_key("latencyMs", i);
    const std::string path = fmt::format("$[{}]", i);
    auto value = [&](std::initializer_list<const char*> keys, bool required) -> double {
      for (const char* k : keys)
        if (const auto v = doc.opt_number(a[i], k, line, path)) {
          if (*v < 0) doc.fail(doc.key_line(line, k), fmt::format("{}.{}: negative", path, k));
          return *v;
        }
      if (required) doc.fail(line, fmt::format("{}: missing \"{}\"", path, *keys.begin()));
      return 0;
    };
    t.latency_ms.push_back(value({"latencyMs"}, true));
    t.compute_ms.push_back(value({"computeMs"}, true));
    t.h2d_ms.push_back(value({"h2dMs", "inMs"}, false));
    t.d2h_ms.push_back(value({"d2hMs", "outMs"}, false));
    const auto s0 = doc.opt_number(a[i], "startEnqMs", line, path), s1 = doc.opt_number(a[i], "endEnqMs", line, path);
    if (s0 && s1) {
      if (*s1 < *s0) doc.fail(doc.key_line(line, "endEnqMs"), path + ".endEnqMs: before startEnqMs");
      t.enqueue_ms.push_back(*s1 - *s0);
    }
  }
  if (!t.enqueue_ms.empty() && t.enqueue_ms.size() != t.latency_ms.size())
    doc.fail(1, "startEnqMs/endEnqMs present in some records only");
  return t;
}

namespace {
// "Row major linear FP16 format" → "FP16"; the Datatype words trtexec prints.
std::string precision_of(const std::string& format) {
  for (const char* p : {"FP32", "FP16", "BF16", "FP8", "INT8", "INT4", "INT32", "INT64", "Bool", "UInt8"})
    if (format.find(p) != std::string::npos) return p;
  if (format.find("Float") != std::string::npos) return "FP32";
  if (format.find("Half") != std::string::npos) return "FP16";
  return "";
}
bool mentions_dla(const std::string& s) {
  std::string u = s;
  for (auto& ch : u) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return u.find("DLA") != std::string::npos;
}
}  // namespace

std::vector<TrtLayerInfo> read_trtexec_layer_info(std::string_view text, const std::string& origin) {
  using detail::Json;
  const detail::JsonDoc doc(text, origin);
  const Json& root = doc.root();
  if (!root.is_object() || !root.contains("Layers") || !root.at("Layers").is_array())
    doc.fail(1, "$: expected trtexec --exportLayerInfo: an object with a \"Layers\" array");
  const Json& layers = root.at("Layers");
  std::vector<TrtLayerInfo> out;
  std::size_t named = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string path = fmt::format("$.Layers[{}]", i);
    TrtLayerInfo l;
    if (layers[i].is_string()) {  // --profilingVerbosity=layer_names_only
      l.name = layers[i].get<std::string>();
    } else {
      const std::uint64_t line = doc.line_of_key("Name", named++);
      l.name = doc.string(layers[i], "Name", line, path);
      l.type = doc.opt_string(layers[i], "LayerType");
      l.tactic = doc.opt_string(layers[i], "TacticName");
      if (layers[i].contains("Outputs")) {
        const Json& outs = layers[i].at("Outputs");
        if (!outs.is_array()) doc.fail(doc.key_line(line, "Outputs"), path + ".Outputs: expected an array");
        if (!outs.empty()) l.precision = precision_of(doc.opt_string(outs[0], "Format/Datatype"));
      }
      l.dla = mentions_dla(l.type) || mentions_dla(l.tactic) ||
              (l.name.rfind("{ForeignNode", 0) == 0 && mentions_dla(doc.opt_string(layers[i], "Origin")));
    }
    out.push_back(std::move(l));
  }
  if (out.empty()) doc.fail(1, "$.Layers: empty");
  return out;
}

}  // namespace trackiq::importers
