// Generic JSON with a mapping: --map METRIC='JSONPATH'. The JSONPath subset: `$` the root, then
// `.key`, `['key']` / `["key"]`, `[N]` (an index) and `[*]` (every element, or every value of an
// object); no filters, slices or recursive descent. latency_ns|us|ms|s make the selected numbers
// the run's samples; a registry metric takes their mean (as the CSV mapping).
#include "common.hpp"

#if TRACKIQ_HAVE_SIMDJSON
#include <simdjson.h>
#endif

namespace trackiq::importers::detail {
namespace {

using Json = nlohmann::json;

struct Step {
  enum Kind { kKey, kIndex, kAll } kind;
  std::string key;
  std::size_t index = 0;
};

std::vector<Step> parse_path(const std::string& p, const std::string& metric) {
  auto bad = [&](const std::string& what) {
    throw InputError(fmt::format("--map {}={}: {} (the subset: $, .key, ['key'], [N], [*])", metric, p, what));
  };
  if (p.empty() || p[0] != '$') bad("a path starts with $");
  std::vector<Step> out;
  std::size_t i = 1;
  while (i < p.size()) {
    if (p[i] == '.') {
      std::size_t e = i + 1;
      while (e < p.size() && p[e] != '.' && p[e] != '[') ++e;
      if (e == i + 1) bad("an empty key");
      const std::string k = p.substr(i + 1, e - i - 1);
      out.push_back(k == "*" ? Step{Step::kAll, "", 0} : Step{Step::kKey, k, 0});
      i = e;
    } else if (p[i] == '[') {
      const auto close = p.find(']', i);
      if (close == std::string::npos) bad("an unclosed [");
      const std::string in = p.substr(i + 1, close - i - 1);
      if (in == "*") {
        out.push_back({Step::kAll, "", 0});
      } else if (in.size() >= 2 && (in[0] == '\'' || in[0] == '"') && in.back() == in[0]) {
        out.push_back({Step::kKey, in.substr(1, in.size() - 2), 0});
      } else {
        std::size_t n = 0;
        const auto [end, ec] = std::from_chars(in.data(), in.data() + in.size(), n);
        if (in.empty() || ec != std::errc() || end != in.data() + in.size()) bad("'[" + in + "]' is not [N], [*] or ['key']");
        out.push_back({Step::kIndex, "", n});
      }
      i = close + 1;
    } else {
      bad(fmt::format("unexpected '{}'", p[i]));
    }
  }
  return out;
}

void select(const Json& node, const std::vector<Step>& steps, std::size_t at, std::vector<const Json*>& out) {
  if (at == steps.size()) {
    out.push_back(&node);
    return;
  }
  const Step& s = steps[at];
  if (s.kind == Step::kKey) {
    if (node.is_object())
      if (const auto it = node.find(s.key); it != node.end()) select(*it, steps, at + 1, out);
  } else if (s.kind == Step::kIndex) {
    if (node.is_array() && s.index < node.size()) select(node[s.index], steps, at + 1, out);
  } else if (node.is_array() || node.is_object()) {
    for (const auto& v : node) select(v, steps, at + 1, out);
  }
}

#if TRACKIQ_HAVE_SIMDJSON
// The fast path (simdjson, ~5x nlohmann's DOM): the numbers a path selects, or nullopt for
// anything but a clean hit (then the nlohmann path below reports the precise file:line error).
bool fast_select(simdjson::dom::element node, const std::vector<Step>& steps, std::size_t at, std::vector<double>& out) {
  if (at == steps.size()) {
    double d = 0;
    if (node.is_double()) d = node.get_double().value_unsafe();
    else if (node.is_int64()) d = static_cast<double>(node.get_int64().value_unsafe());
    else if (node.is_uint64()) d = static_cast<double>(node.get_uint64().value_unsafe());
    else return false;
    out.push_back(d);
    return std::isfinite(d);
  }
  const Step& s = steps[at];
  if (s.kind == Step::kKey) {
    simdjson::dom::object o;
    if (node.get_object().get(o)) return true;  // selects nothing here
    simdjson::dom::element v;
    if (o.at_key(s.key).get(v)) return true;
    return fast_select(v, steps, at + 1, out);
  }
  if (s.kind == Step::kIndex) {
    simdjson::dom::array a;
    if (node.get_array().get(a)) return true;
    simdjson::dom::element v;
    if (a.at(s.index).get(v)) return true;
    return fast_select(v, steps, at + 1, out);
  }
  simdjson::dom::array a;
  if (!node.get_array().get(a)) {
    for (simdjson::dom::element v : a)
      if (!fast_select(v, steps, at + 1, out)) return false;
    return true;
  }
  simdjson::dom::object o;
  if (!node.get_object().get(o)) {
    for (auto field : o)
      if (!fast_select(field.value, steps, at + 1, out)) return false;
  }
  return true;
}
#endif

std::vector<Result> import_json_map(std::string_view text, Context& c) {
  if (c.opts.map.empty())
    throw InputError("json import needs --map METRIC='JSONPATH' (e.g. --map latency_ms='$.results[*].latency'), at least one");
  update_fingerprint(c.env);
#if TRACKIQ_HAVE_SIMDJSON
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(text);
  simdjson::dom::element fast_root;
  const bool fast = !parser.parse(padded).get(fast_root);
#endif
  std::optional<JsonDoc> slow;  // nlohmann, with line numbers: built only when needed
  auto doc_of = [&]() -> const JsonDoc& {
    if (!slow) slow.emplace(text, c.origin);
    return *slow;
  };
  Result r = new_run(c, std::filesystem::path(c.origin).stem().string());
  bool have_samples = false;
  for (const auto& [metric, path] : c.opts.map) {
    double to_ns_scale = 0;
    if (metric == "latency_ns") to_ns_scale = 1;
    else if (metric == "latency_us") to_ns_scale = 1e3;
    else if (metric == "latency_ms") to_ns_scale = 1e6;
    else if (metric == "latency_s") to_ns_scale = 1e9;
    else if (!find_metric(metric))
      throw InputError(fmt::format("--map {}={}: '{}' is neither latency_ns|us|ms|s nor a registry metric (trackiq metrics)", metric, path, metric));
    const auto steps = parse_path(path, metric);
    std::vector<double> values;
#if TRACKIQ_HAVE_SIMDJSON
    if (fast && (!fast_select(fast_root, steps, 0, values) || values.empty())) values.clear();
#endif
    std::vector<const Json*> hits;
    if (values.empty()) {
      const JsonDoc& doc = doc_of();
      select(doc.root(), steps, 0, hits);
      if (hits.empty()) doc.fail(1, fmt::format("--map {}={}: the path selects nothing in the file", metric, path));
    }
    for (std::size_t k = 0; k < hits.size(); ++k) {
      const JsonDoc& doc = doc_of();
      const Json& v = *hits[k];
      if (!v.is_number() || !std::isfinite(v.get<double>())) {
        // The line of the value: of its key when the last step is a key, else of the path's first key.
        std::uint64_t line = 1;
        for (auto s = steps.rbegin(); s != steps.rend(); ++s)
          if (s->kind == Step::kKey) {
            line = doc.line_of_key(s->key, steps.back().kind == Step::kKey ? k : 0);
            break;
          }
        doc.fail(line, fmt::format("--map {}={}: value {} is {}, not a number", metric, path, k, v.type_name()));
      }
      values.push_back(v.get<double>());
    }
    if (to_ns_scale > 0) {
      if (have_samples) throw InputError("--map: only one latency path can become the samples");
      std::vector<std::int64_t> samples;
      for (const double v : values) samples.push_back(to_ns(v, to_ns_scale, c.origin, 1));
      set_samples(r, std::move(samples));
      have_samples = true;
    } else {
      double sum = 0;
      for (const double v : values) sum += v;
      add_metric(r, find_metric(metric)->name.data(), sum / static_cast<double>(values.size()));
      if (values.size() > 1) r.warnings.push_back(fmt::format("{}: the mean of {} values of {}", metric, values.size(), path));
    }
    r.labels.extra["json_map." + metric] = path;
  }
  return {std::move(r)};
}

// Never chosen by sniffing: a JSON file says nothing about which of its numbers to take.
int sniff_json_map(std::string_view, std::string_view) { return 0; }

}  // namespace

extern const Format kJsonMap{"json",
                             "any JSON with --map METRIC='JSONPATH' ($, .key, ['key'], [N], [*]); latency_ns|us|ms|s "
                             "make samples, a registry metric takes the mean of what the path selects",
                             sniff_json_map, import_json_map};

}  // namespace trackiq::importers::detail
