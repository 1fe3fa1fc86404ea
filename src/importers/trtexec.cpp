// TensorRT trtexec JSON exports: --exportTimes (one record per inference; its latencyMs, the host
// latency H2D + compute + D2H, becomes a sample) and --exportProfile (per-layer times, kept whole
// in workload.options["trtexec_layer_profile"] for a later per-layer analysis).
#include "common.hpp"

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

std::vector<Result> import_profile(const JsonDoc& doc, Context& c) {
  const Json& a = doc.root();
  Result r = new_run(c, std::filesystem::path(c.origin).stem().string());
  const std::uint64_t count_line = doc.line_of_key("count", 0);
  const auto count = to_count<std::uint64_t>(doc.number(a[0], "count", count_line, "$[0]"), c.origin, count_line, "$[0].count");
  Json layers = Json::array();
  double avg_sum = 0;
  for (std::size_t i = 1; i < a.size(); ++i) {
    const std::uint64_t line = doc.line_of_key("name", i - 1);
    const std::string path = fmt::format("$[{}]", i);
    Json l = {{"name", doc.string(a[i], "name", line, path)}};
    for (const char* k : {"timeMs", "averageMs", "medianMs", "percentage"})
      if (const auto v = doc.opt_number(a[i], k, line, path)) {
        if (*v < 0) doc.fail(line, fmt::format("{}.{}: negative", path, k));
        l[k] = *v;
      }
    if (!l.contains("averageMs")) doc.fail(line, path + ": missing \"averageMs\"");
    avg_sum += l.at("averageMs").get<double>();
    layers.push_back(std::move(l));
  }
  if (layers.empty()) doc.fail(count_line, "no layers after the count");
  r.workload.options["trtexec_layer_profile"] = layers.dump();
  r.labels.extra["trtexec_profile_layers"] = std::to_string(layers.size());
  r.scenario.iterations = count;
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
