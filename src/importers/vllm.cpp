// vLLM serving benchmark results: `benchmarks/benchmark_serving.py --save-result` and
// `vllm bench serve --save-result` (also a `vllm bench sweep serve` run=N.json). The summary keys
// already carry our load metrics' vLLM names (mean_ttft_ms ... p99_e2el_ms, request_throughput,
// ...; vLLM's std_* are population ones, as ours); the per-request `ttfts` and `itls` arrays
// (seconds) become the ttft and itl distributions that `compare` tests those metrics on. No
// per-request e2el is in the file (ttft + the itls falls short of it: the stream's end comes after
// the last token), so the run has no latency samples.
#include "common.hpp"

namespace trackiq::importers::detail {
namespace {

using Json = nlohmann::json;

double seconds(const JsonDoc& doc, const Json& v, std::uint64_t line, const std::string& path) {
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0)
    doc.fail(line, path + ": expected a non-negative number of seconds");
  return v.get<double>();
}

std::vector<Result> import_vllm(std::string_view text, Context& c) {
  update_fingerprint(c.env);
  const JsonDoc doc(text, c.origin);
  const Json& root = doc.root();
  if (!root.is_object()) doc.fail(1, "$: expected an object");
  std::string model = doc.opt_string(root, "model_id");
  Result r = new_run(c, model.empty() ? std::filesystem::path(c.origin).stem().string() : model);
  r.scenario.name = "load";
  r.workload.backend = "http";
  // Older scripts name end-to-end latency *_latency_ms; it is what vllm bench serve calls e2el.
  auto registry_name = [](std::string k) {
    if (k.ends_with("_latency_ms")) k = k.substr(0, k.size() - 11) + "_e2el_ms";
    return k;
  };
  for (const auto& [k, v] : root.items()) {
    const std::uint64_t line = doc.line_of_key(k, 0);
    if (v.is_number()) {
      const double x = v.get<double>();
      if (!std::isfinite(x)) doc.fail(line, fmt::format("$.{}: not a finite number", k));
      const std::string name = registry_name(k);
      if (find_metric(name) && name != "queries_total") {
        if (name.ends_with("_ms") && x < 0) doc.fail(line, fmt::format("$.{}: negative", k));
        add_metric(r, find_metric(name)->name.data(), x, name.ends_with("_ms") ? ValueKind::kMeasured : ValueKind::kDerived);
        continue;
      }
    }
    if (v.is_array() || v.is_object() || v.is_null()) continue;
    r.labels.extra["vllm_" + k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  const std::uint64_t completed = to_count<std::uint64_t>(doc.number(root, "completed", doc.line_of_key("completed", 0), "$"),
                                                          c.origin, doc.line_of_key("completed", 0), "$.completed");
  add_metric(r, "queries_total", static_cast<double>(completed));
  std::uint64_t failed = 0;
  if (const auto f = doc.opt_number(root, "failed", doc.line_of_key("failed", 0), "$"))
    failed = to_count<std::uint64_t>(*f, c.origin, doc.line_of_key("failed", 0), "$.failed");
  else if (const auto n = doc.opt_number(root, "num_prompts", doc.line_of_key("num_prompts", 0), "$"); n && *n >= static_cast<double>(completed))
    failed = to_count<std::uint64_t>(*n, c.origin, doc.line_of_key("num_prompts", 0), "$.num_prompts") - completed;
  add_metric(r, "errors_total", static_cast<double>(failed));
  if (completed + failed) add_metric(r, "error_rate", static_cast<double>(failed) / static_cast<double>(completed + failed), ValueKind::kDerived);
  r.errors.total = failed;
  if (const auto d = doc.opt_number(root, "duration", doc.line_of_key("duration", 0), "$"); d && *d > 0) add_metric(r, "wall_time_s", *d);
  if (root.contains("request_rate") && root.at("request_rate").is_number()) {
    r.scenario.qps = root.at("request_rate").get<double>();
    add_metric(r, "request_rate_target", *r.scenario.qps);
  }
  if (const auto tp = r.metric_value("request_throughput")) add_metric(r, "throughput_queries_per_s", *tp, ValueKind::kDerived);
  r.throughput_method = "as reported by vLLM: completed requests / the benchmark's duration";

  // Per-request arrays, where the file has them.
  std::vector<std::string> errors;
  if (root.contains("errors") && root.at("errors").is_array())
    for (const auto& e : root.at("errors")) errors.push_back(e.is_string() ? e.get<std::string>() : "");
  for (const auto& e : errors)
    if (!e.empty()) {
      const std::string cls = e.substr(0, std::min<std::size_t>(e.find_first_of(":(\n"), 60));
      ++r.errors.by_class[cls.empty() ? "error" : cls];
      if (r.errors.examples.size() < 5) r.errors.examples.push_back(e.substr(0, 300));
    }
  if (failed && r.errors.by_class.empty()) r.errors.by_class["failed"] = failed;
  if (root.contains("ttfts") && root.at("ttfts").is_array()) {
    const Json& ttfts = root.at("ttfts");
    const Json* itls = root.contains("itls") && root.at("itls").is_array() ? &root.at("itls") : nullptr;
    const std::uint64_t tl = doc.line_of_key("ttfts", 0), il = doc.line_of_key("itls", 0);
    if (itls && itls->size() != ttfts.size()) doc.fail(il, "$.itls: not one list per request of $.ttfts");
    Histogram ttft = Histogram::for_latency_ns(), itl = Histogram::for_latency_ns();
    for (std::size_t i = 0; i < ttfts.size(); ++i) {
      if (i < errors.size() && !errors[i].empty()) continue;  // a failed request: ttft 0, no itls
      ttft.record(to_ns(seconds(doc, ttfts[i], tl, fmt::format("$.ttfts[{}]", i)), 1e9, c.origin, tl));
      if (!itls) continue;
      const Json& l = (*itls)[i];
      if (!l.is_array()) doc.fail(il, fmt::format("$.itls[{}]: expected an array", i));
      for (std::size_t k = 0; k < l.size(); ++k)
        itl.record(to_ns(seconds(doc, l[k], il, fmt::format("$.itls[{}][{}]", i, k)), 1e9, c.origin, il));
    }
    if (ttft.count()) r.distributions.insert_or_assign("ttft", std::move(ttft));
    if (itl.count()) r.distributions.insert_or_assign("itl", std::move(itl));
  } else {
    r.warnings.push_back("no per-request ttfts/itls in the file (--save-detailed): summary metrics only");
  }
  if (completed == 0) r.warnings.push_back("every request failed: the latency statistics in the file are 0 and not imported");
  if (completed == 0)
    std::erase_if(r.metrics, [](const MetricValue& m) { return m.name.ends_with("_ms"); });
  return {std::move(r)};
}

int sniff_vllm(std::string_view head, std::string_view) {
  const auto has = [&](std::string_view s) { return head.find(s) != std::string_view::npos; };
  return has("\"request_throughput\"") && (has("\"mean_ttft_ms\"") || has("\"ttfts\"")) ? 95 : 0;
}

}  // namespace

extern const Format kVllm{"vllm",
                          "vLLM benchmark_serving.py / vllm bench serve --save-result JSON: a load run with vLLM's "
                          "metric names; per-request ttfts/itls -> the ttft and itl distributions compare tests",
                          sniff_vllm, import_vllm};

}  // namespace trackiq::importers::detail
