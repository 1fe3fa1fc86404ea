// PerfTracker (perfguru87/perftracker-lib) jobs: a job JSON (`tests` in an object with job_title,
// product_name, ... as pt-suite-uploader writes with --pt-to-file) or the uploader's input, a bare
// array of tests. Each test has a tag, `score` or `scores`, optional `deviations`, a unit in
// `metrics` ("sec", "rest/sec"), less_better, group and category. PerfTracker's units are the
// test's own, so scores stay as labels (pt_test.<tag> [<category>]); one run per group carries
// them, with the group's loops, errors and duration as metrics.
#include "common.hpp"

namespace trackiq::importers::detail {
namespace {

using Json = nlohmann::json;

std::vector<Result> import_perftracker(std::string_view text, Context& c) {
  update_fingerprint(c.env);
  const JsonDoc doc(text, c.origin);
  const Json* tests = &doc.root();
  std::string title, product, version;
  if (doc.root().is_object()) {
    tests = &doc.field(doc.root(), "tests", 1, "$");
    title = doc.opt_string(doc.root(), "job_title");
    product = doc.opt_string(doc.root(), "product_name");
    version = doc.opt_string(doc.root(), "product_ver");
  }
  if (!tests->is_array() || tests->empty()) doc.fail(doc.line_of_key("tests", 0), "expected a non-empty array of tests");
  struct Group {
    Result r;
    double loops = 0, errors = 0, duration = 0, warnings = 0;
  };
  std::vector<std::string> order;
  std::map<std::string, Group> groups;
  for (std::size_t i = 0; i < tests->size(); ++i) {
    const Json& t = (*tests)[i];
    const std::uint64_t line = doc.line_of_key("tag", i);
    const std::string path = fmt::format("$.tests[{}]", i);
    const std::string tag = doc.string(t, "tag", line, path);
    std::vector<double> scores;
    if (t.is_object() && t.contains("scores")) {
      const Json& s = t.at("scores");
      if (!s.is_array() || s.empty()) doc.fail(doc.key_line(line, "scores"), path + ".scores: expected a non-empty array of numbers");
      for (const auto& v : s) {
        if (!v.is_number() || !std::isfinite(v.get<double>())) doc.fail(doc.key_line(line, "scores"), path + ".scores: expected numbers");
        scores.push_back(v.get<double>());
      }
    } else {
      scores.push_back(doc.number(t, "score", line, path));
    }
    std::vector<double> devs;
    if (t.contains("deviations") && t.at("deviations").is_array())
      for (const auto& v : t.at("deviations"))
        if (v.is_number()) devs.push_back(v.get<double>());
    const std::string group = doc.opt_string(t, "group").empty() ? "default" : doc.opt_string(t, "group");
    const std::string category = doc.opt_string(t, "category");
    auto [it, fresh] = groups.try_emplace(group);
    if (fresh) {
      order.push_back(group);
      it->second.r = new_run(c, group);
      it->second.r.labels.extra["pt_group"] = group;
      if (!title.empty()) it->second.r.labels.extra["pt_job_title"] = title;
      if (it->second.r.labels.product.empty()) it->second.r.labels.product = product;
      if (it->second.r.labels.version.empty()) it->second.r.labels.version = version;
    }
    Group& g = it->second;
    Json v = {{"scores", scores}, {"unit", doc.opt_string(t, "metrics")}};
    if (!devs.empty()) v["deviations"] = devs;
    if (t.contains("less_better") && t.at("less_better").is_boolean()) v["less_better"] = t.at("less_better").get<bool>();
    const std::string key = category.empty() ? "pt_test." + tag : fmt::format("pt_test.{} [{}]", tag, category);
    if (g.r.labels.extra.contains(key)) doc.fail(line, fmt::format("test '{}' appears twice in group '{}'", key.substr(8), group));
    g.r.labels.extra[key] = v.dump();
    g.loops += doc.opt_number(t, "loops", line, path).value_or(0);
    g.errors += doc.opt_number(t, "errors", line, path).value_or(0);
    g.warnings += doc.opt_number(t, "warnings", line, path).value_or(0);
    g.duration += doc.opt_number(t, "duration_sec", line, path).value_or(0);
  }
  std::vector<Result> out;
  for (const auto& name : order) {
    Group& g = groups.at(name);
    add_metric(g.r, "queries_total", g.loops);  // PerfTracker loops: the tests' iterations
    add_metric(g.r, "errors_total", g.errors);
    if (g.duration > 0) add_metric(g.r, "wall_time_s", g.duration, ValueKind::kDerived);
    g.r.errors.total = static_cast<std::uint64_t>(g.errors);
    if (g.warnings > 0) g.r.warnings.push_back(fmt::format("PerfTracker: {} test warning{}", g.warnings, g.warnings == 1 ? "" : "s"));
    g.r.warnings.push_back("PerfTracker scores are in each test's own unit: kept as pt_test.* labels, not registry metrics");
    g.r.throughput_method = "not available: PerfTracker scores are in each test's own unit";
    out.push_back(std::move(g.r));
  }
  return out;
}

int sniff_perftracker(std::string_view head, std::string_view) {
  const auto has = [&](std::string_view s) { return head.find(s) != std::string_view::npos; };
  return has("\"tag\"") && (has("\"score\"") || has("\"scores\"")) && (has("\"less_better\"") || has("\"group\"")) ? 90 : 0;
}

}  // namespace

extern const Format kPerftracker{"perftracker",
                                 "PerfTracker job JSON or pt-suite-uploader test list: one run per test group; "
                                 "scores (with deviations, unit, less_better) as pt_test.* labels",
                                 sniff_perftracker, import_perftracker};

}  // namespace trackiq::importers::detail
