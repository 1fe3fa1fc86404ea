// k6 results: the end-of-test summary (`--summary-export` legacy layout, and the `handleSummary`
// data object whose metrics carry type/contains/values), and `--out json` points (JSON lines).
#include "common.hpp"

#if TRACKIQ_HAVE_SIMDJSON
#include <simdjson.h>
#endif

namespace trackiq::importers::detail {
namespace {

using Json = nlohmann::json;

// k6 trend stat → registry metric (http_req_duration is in ms).
const char* trend_metric(const std::string& stat) {
  static const std::pair<const char*, const char*> k[] = {
      {"avg", "latency_mean_ms"}, {"min", "latency_min_ms"},  {"max", "latency_max_ms"},
      {"med", "latency_p50_ms"},  {"p(50)", "latency_p50_ms"}, {"p(90)", "latency_p90_ms"},
      {"p(95)", "latency_p95_ms"}, {"p(99)", "latency_p99_ms"}, {"p(99.9)", "latency_p99_9_ms"}};
  for (const auto& [s, m] : k)
    if (stat == s) return m;
  return nullptr;
}

// A threshold expression "p(95)<500", "rate<0.01", "avg<=200", "count>10" → stat, op, limit.
struct Threshold {
  std::string stat, op;
  double limit = 0;
};
std::optional<Threshold> parse_threshold(const std::string& e) {
  const auto at = e.find_first_of("<>=!");
  if (at == std::string::npos || at == 0) return std::nullopt;
  std::size_t end = at;
  while (end < e.size() && std::string_view("<>=!").find(e[end]) != std::string_view::npos) ++end;
  Threshold t;
  t.stat = e.substr(0, at);
  while (!t.stat.empty() && t.stat.back() == ' ') t.stat.pop_back();
  t.op = e.substr(at, end - at);
  const auto v = opt_field_number(std::string_view(e).substr(end));
  if (!v || (t.op != "<" && t.op != "<=" && t.op != ">" && t.op != ">=")) return std::nullopt;
  t.limit = *v;
  return t;
}

std::vector<Result> import_summary(const JsonDoc& doc, Context& c) {
  const Json& metrics = doc.field(doc.root(), "metrics", 1, "$");
  if (!metrics.is_object()) doc.fail(doc.line_of_key("metrics", 0), "$.metrics: expected an object");
  update_fingerprint(c.env);
  Result r = new_run(c, std::filesystem::path(c.origin).stem().string());
  r.scenario.name = "load";
  r.workload.backend = "http";
  const bool handle_summary = doc.root().contains("state") || doc.root().contains("options");
  r.labels.extra["k6_summary"] = handle_summary ? "handleSummary" : "summary-export";
  auto values_of = [&](const std::string& name) -> const Json* {
    const auto it = metrics.find(name);
    if (it == metrics.end()) return nullptr;
    if (!it->is_object()) doc.fail(doc.line_of_key(name, 0), fmt::format("$.metrics.{}: expected an object", name));
    if (it->contains("values")) {
      if (!it->at("values").is_object()) doc.fail(doc.line_of_key(name, 0), fmt::format("$.metrics.{}.values: expected an object", name));
      return &it->at("values");
    }
    return &*it;
  };
  auto num = [&](const std::string& name, const Json& v, const char* key) -> std::optional<double> {
    return doc.opt_number(v, key, doc.line_of_key(name, 0), "$.metrics." + name);
  };
  if (const Json* d = values_of("http_req_duration")) {
    for (const auto& [stat, v] : d->items()) {
      if (stat == "count" || stat == "thresholds") continue;
      const auto x = num("http_req_duration", *d, stat.c_str());
      if (!x) continue;
      if (*x < 0) doc.fail(doc.line_of_key("http_req_duration", 0), fmt::format("$.metrics.http_req_duration.{}: negative", stat));
      if (const char* m = trend_metric(stat)) add_metric(r, m, *x);
      else r.labels.extra["k6_http_req_duration_" + stat] = fmt::format("{}", *x);  // e.g. p(99.99)
    }
  } else {
    r.warnings.push_back("no http_req_duration in the summary: no request latency");
  }
  std::uint64_t failed = 0;
  if (const Json* f = values_of("http_req_failed")) {
    // A rate metric: "passes" counts the requests for which http_req_failed was true.
    if (const auto p = num("http_req_failed", *f, "passes")) failed = to_count<std::uint64_t>(*p, c.origin, doc.line_of_key("http_req_failed", 0), "http_req_failed.passes");
    const auto rate = f->contains("rate") ? num("http_req_failed", *f, "rate") : num("http_req_failed", *f, "value");
    if (rate) add_metric(r, "error_rate", *rate);
    add_metric(r, "errors_total", static_cast<double>(failed));
    if (failed) {
      r.errors.total = failed;
      r.errors.by_class["http_req_failed"] = failed;
    }
  }
  if (const Json* q = values_of("http_reqs")) {
    const std::uint64_t line = doc.line_of_key("http_reqs", 0);
    if (const auto n = num("http_reqs", *q, "count")) {
      const auto total = to_count<std::uint64_t>(*n, c.origin, line, "http_reqs.count");
      if (failed > total) doc.fail(line, "http_reqs.count is below http_req_failed.passes");
      add_metric(r, "queries_total", static_cast<double>(total - failed));  // completed successfully, as ours
      r.labels.extra["k6_http_reqs"] = std::to_string(total);
    }
    if (const auto rate = num("http_reqs", *q, "rate")) {
      // k6: every request (failed ones too) / the test's duration.
      add_metric(r, "throughput_queries_per_s", *rate);
      add_metric(r, "request_throughput", *rate);
    }
  }
  if (const Json* ck = values_of("checks")) {
    const auto p = num("checks", *ck, "passes"), f = num("checks", *ck, "fails");
    if (p) r.labels.extra["k6_checks_passes"] = fmt::format("{}", *p);
    if (f) r.labels.extra["k6_checks_fails"] = fmt::format("{}", *f);
    if (f && *f > 0) r.warnings.push_back(fmt::format("k6: {} check{} failed", *f, *f == 1 ? "" : "s"));
  }
  for (const char* k : {"iterations", "vus_max"})
    if (const Json* v = values_of(k)) {
      const auto x = v->contains("count") ? num(k, *v, "count") : num(k, *v, "max");
      if (x) r.labels.extra[std::string("k6_") + k] = fmt::format("{}", *x);
    }
  if (doc.root().contains("state") && doc.root().at("state").is_object())
    if (const auto ms = doc.opt_number(doc.root().at("state"), "testRunDurationMs", doc.line_of_key("testRunDurationMs", 0), "$.state"))
      if (*ms > 0) add_metric(r, "wall_time_s", *ms / 1e3);
  // Thresholds → SLO verdicts. handleSummary: {"p(95)<500": {"ok": true}}; summary-export:
  // {"p(95)<500": false}, where the boolean says whether the threshold failed.
  for (const auto& [name, m] : metrics.items()) {
    if (!m.is_object() || !m.contains("thresholds") || !m.at("thresholds").is_object()) continue;
    const std::uint64_t line = doc.line_of_key("thresholds", 0);
    for (const auto& [expr, v] : m.at("thresholds").items()) {
      bool failed_threshold = false;
      if (v.is_boolean()) failed_threshold = v.get<bool>();
      else if (v.is_object() && v.contains("ok") && v.at("ok").is_boolean()) failed_threshold = !v.at("ok").get<bool>();
      else doc.fail(line, fmt::format("$.metrics.{}.thresholds[\"{}\"]: expected a boolean or {{\"ok\": bool}}", name, expr));
      SloVerdict s;
      const auto t = parse_threshold(expr);
      const Json* vals = m.contains("values") && m.at("values").is_object() ? &m.at("values") : &m;
      std::string metric = "k6:" + name + (t ? "." + t->stat : "");
      if (t && name == "http_req_duration" && trend_metric(t->stat)) metric = trend_metric(t->stat);
      if (t && name == "http_req_failed" && (t->stat == "rate" || t->stat == "value")) metric = "error_rate";
      s.metric = metric;
      s.op = t && t->op[0] == '>' ? ">=" : "<=";
      s.limit = t ? t->limit : 0;
      if (t) {
        const std::string key = t->stat == "rate" && !vals->contains("rate") ? "value" : t->stat;
        if (vals->contains(key) && vals->at(key).is_number() && std::isfinite(vals->at(key).get<double>())) s.measured = vals->at(key).get<double>();
      }
      s.state = failed_threshold ? SloState::kFail : SloState::kPass;
      if (!s.measured) s.state = SloState::kNotMeasured;
      s.detail = fmt::format("k6 threshold '{}' on {}: {}{}", expr, name, failed_threshold ? "crossed" : "held",
                             s.measured ? "" : " (the summary has no value for it)");
      r.slo.push_back(std::move(s));
    }
  }
  if (r.metrics.empty()) doc.fail(doc.line_of_key("metrics", 0), "no http_req_duration, http_reqs or http_req_failed in the summary");
  r.throughput_method = "as reported by k6: http_reqs.rate (every request / the test's duration)";
  return {std::move(r)};
}

// --out json: one JSON object a line; "Metric" lines declare, "Point" lines carry one value.
std::vector<Result> import_points(std::string_view text, Context& c) {
  update_fingerprint(c.env);
  std::vector<std::int64_t> samples;
  std::uint64_t reqs = 0, failed = 0, points = 0;
  std::string first, last;
  const auto lines = split_lines(text);
  // The first and last point times. k6 writes UTC RFC 3339 ("...T00:18:34.249760961Z", trailing
  // zeros of the fraction dropped): such times order as (seconds part, fraction digits) compared
  // as text, so only the earliest and latest are converted; any other form is converted each time.
  std::string min_raw, max_raw;
  auto key_less = [](std::string_view a, std::string_view b) {
    const auto sa = a.substr(0, 19), sb = b.substr(0, 19);
    if (sa != sb) return sa < sb;
    auto frac = [](std::string_view t) { return t.size() > 20 && t[19] == '.' ? t.substr(20, t.size() - 21) : std::string_view{}; };
    return frac(a) < frac(b);
  };
  auto plain_utc = [](std::string_view t) {
    if (t.size() < 20 || t.back() != 'Z' || t[10] != 'T' || (t.size() > 20 && t[19] != '.')) return false;
    return t.substr(20, t.size() > 20 ? t.size() - 21 : 0).find_first_not_of("0123456789") == std::string_view::npos;
  };
  auto point = [&](std::string_view metric, double v, std::string_view time, std::uint64_t ln) {
    ++points;
    if (!time.empty()) {
      if (plain_utc(time)) {
        if (min_raw.empty() || key_less(time, min_raw)) min_raw = time;
        if (max_raw.empty() || key_less(max_raw, time)) max_raw = time;
      } else if (const std::string t = to_utc(std::string(time)); !t.empty()) {
        if (first.empty() || t < first) first = t;
        if (last.empty() || t > last) last = t;
      }
    }
    if (metric == "http_req_duration") {
      if (v < 0) throw InputError(c.origin, ln, "http_req_duration: negative");
      samples.push_back(to_ns(v, 1e6, c.origin, ln));  // ms
    } else if (metric == "http_reqs") {
      reqs += to_count<std::uint64_t>(v, c.origin, ln, "http_reqs");
    } else if (metric == "http_req_failed" && v != 0) {
      ++failed;
    }
  };
#if TRACKIQ_HAVE_SIMDJSON
  // The fast path (simdjson); a line it does not take as a plain Point goes through nlohmann,
  // which accepts it or names what is wrong with it.
  simdjson::dom::parser parser;
  auto fast_point = [&](std::string_view l, std::uint64_t ln) {
    simdjson::dom::element e;
    if (parser.parse(l.data(), l.size(), true).get(e)) return false;
    std::string_view type, metric, time;
    simdjson::dom::element data, value;
    if (e["type"].get_string().get(type)) return false;
    if (type != "Point") return type == "Metric";
    if (e["metric"].get_string().get(metric) || e["data"].get(data) || !data.is_object() || data["value"].get(value)) return false;
    double v = 0;
    if (value.is_double()) v = value.get_double().value_unsafe();
    else if (value.is_int64()) v = static_cast<double>(value.get_int64().value_unsafe());
    else if (value.is_uint64()) v = static_cast<double>(value.get_uint64().value_unsafe());
    else return false;
    if (!std::isfinite(v)) return false;
    if (simdjson::dom::element t; !data["time"].get(t) && t.is_string()) time = t.get_string().value_unsafe();
    point(metric, v, time, ln);
    return true;
  };
#endif
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::uint64_t ln = i + 1;
    if (lines[i].find_first_not_of(" \t") == std::string_view::npos) continue;
#if TRACKIQ_HAVE_SIMDJSON
    if (fast_point(lines[i], ln)) continue;
#endif
    Json j;
    try {
      j = Json::parse(lines[i]);
    } catch (const Json::exception& e) {
      throw InputError(c.origin, ln, std::string("not a JSON line: ") + e.what());
    }
    if (!j.is_object() || !j.contains("type") || !j.at("type").is_string())
      throw InputError(c.origin, ln, "expected an object with \"type\" (Metric or Point)");
    if (j.at("type") != "Point") continue;
    if (!j.contains("metric") || !j.at("metric").is_string() || !j.contains("data") || !j.at("data").is_object())
      throw InputError(c.origin, ln, "a Point needs \"metric\" and \"data\"");
    const Json& d = j.at("data");
    if (!d.contains("value") || !d.at("value").is_number() || !std::isfinite(d.at("value").get<double>()))
      throw InputError(c.origin, ln, "data.value: expected a number");
    const std::string time = d.contains("time") && d.at("time").is_string() ? d.at("time").get<std::string>() : "";
    point(j.at("metric").get<std::string>(), d.at("value").get<double>(), time, ln);
  }
  for (const std::string* raw : {&min_raw, &max_raw})
    if (const std::string t = raw->empty() ? "" : to_utc(*raw); !t.empty()) {
      if (first.empty() || t < first) first = t;
      if (last.empty() || t > last) last = t;
    }
  if (points == 0) throw InputError(c.origin, lines.empty() ? 1 : lines.size(), "no Point lines in the file");
  Result r = new_run(c, std::filesystem::path(c.origin).stem().string());
  r.scenario.name = "load";
  r.workload.backend = "http";
  r.labels.extra["k6_points"] = std::to_string(points);
  if (!first.empty()) {
    r.started_at = first;
    r.finished_at = last;
  }
  if (!samples.empty()) set_samples(r, std::move(samples));
  else r.warnings.push_back("no http_req_duration points: no request latency");
  if (reqs) {
    if (failed > reqs) failed = reqs;
    add_metric(r, "queries_total", static_cast<double>(reqs - failed));
    add_metric(r, "errors_total", static_cast<double>(failed));
    add_metric(r, "error_rate", static_cast<double>(failed) / static_cast<double>(reqs), ValueKind::kDerived);
    r.errors.total = failed;
    if (failed) r.errors.by_class["http_req_failed"] = failed;
  }
  r.throughput_method = "not available: k6 points carry no test duration";
  if (r.metrics.empty()) throw InputError(c.origin, 1, "no http_req_duration, http_reqs or http_req_failed points");
  return {std::move(r)};
}

std::vector<Result> import_k6(std::string_view text, Context& c) {
  const auto start = text.find_first_not_of(" \t\r\n");
  if (start != std::string_view::npos && text.substr(start).starts_with("{\"type\":")) return import_points(text, c);
  const JsonDoc doc(text, c.origin);
  if (doc.root().is_object() && doc.root().contains("type")) return import_points(text, c);
  return import_summary(doc, c);
}

int sniff_k6(std::string_view head, std::string_view) {
  if (head.starts_with("{\"type\":\"Point\"") || head.starts_with("{\"type\":\"Metric\"")) return 90;
  const bool metrics = head.find("\"metrics\"") != std::string_view::npos;
  if (metrics && (head.find("\"root_group\"") != std::string_view::npos || head.find("\"http_req_duration") != std::string_view::npos))
    return 85;
  return 0;
}

}  // namespace

extern const Format kK6{"k6",
                        "k6 --summary-export / handleSummary JSON (http_req_duration -> latency percentiles, "
                        "http_reqs rate, http_req_failed, checks; thresholds -> SLO verdicts) or --out json points "
                        "(every http_req_duration point -> a sample)",
                        sniff_k6, import_k6};

}  // namespace trackiq::importers::detail
