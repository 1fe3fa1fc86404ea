// The history and changes documents of the CLI and of `trackiq serve`
// (include/trackiq/server/history_json.hpp).
#include "trackiq/server/history_json.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/core/error.hpp"

namespace trackiq::server {
namespace {

using Json = nlohmann::ordered_json;

Json finite_or_null(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

Json series_key_json(const store::SeriesKey& k) {
  return {{"product", k.product},   {"hardware", k.hardware_fingerprint}, {"workload", k.workload},
          {"scenario", k.scenario}, {"config", k.config}};
}

Json point_run_json(const store::SeriesPoint& p) {
  return {{"run_id", p.run_id()}, {"started_at", p.started_at()}, {"version", p.version()}, {"commit", p.commit()}};
}

std::string dump(const Json& j) { return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n"; }

}  // namespace

std::string change_kind(const MetricDef& def, double before, double after) {
  if (def.direction == Direction::kNeutral || after == before) return "change";
  const bool up = after > before;
  return (def.direction == Direction::kLowerIsBetter) == up ? "regression" : "improvement";
}

std::vector<double> segment_means(std::span<const double> v, const analysis::ChangePointResult& r) {
  std::vector<double> out(v.size());
  std::size_t begin = 0;
  for (std::size_t j = 0; j <= r.change_points.size(); ++j) {
    const std::size_t end = j < r.change_points.size() ? r.change_points[j].index : v.size();
    double sum = 0;
    for (std::size_t i = begin; i < end; ++i) sum += v[i];
    for (std::size_t i = begin; i < end; ++i) out[i] = sum / static_cast<double>(end - begin);
    begin = end;
  }
  return out;
}

SeriesChangePoints series_change_points(const store::MetricSeries& s, const analysis::ChangePointOptions& options) {
  SeriesChangePoints h;
  h.values.reserve(s.points.size());
  for (const auto& p : s.points) h.values.push_back(p.value);
  h.options = options;
  h.result = analysis::detect_change_points(h.values, options);
  h.segment_means = segment_means(h.values, h.result);
  return h;
}

std::string history_json(const store::MetricSeries& s, const MetricDef& def, const SeriesChangePoints& h,
                         const std::vector<store::SeriesPoint>* not_in_commit_order) {
  Json points = Json::array();
  for (std::size_t i = 0; i < h.values.size(); ++i) {
    Json p = point_run_json(s.points[i]);
    p["index"] = i;
    p["value"] = h.values[i];
    p["segment_mean"] = h.segment_means[i];
    points.push_back(std::move(p));
  }
  Json cps = Json::array();
  for (const auto& cp : h.result.change_points)
    cps.push_back({{"index", cp.index},
                   {"run_id", s.points[cp.index].run_id()},
                   {"previous_run_id", s.points[cp.index - 1].run_id()},
                   {"before", cp.before},
                   {"after", cp.after},
                   {"magnitude_pct", finite_or_null(cp.magnitude_pct)},
                   {"direction", change_kind(def, cp.before, cp.after)},
                   {"p_value", cp.p_value},
                   {"confidence", analysis::confidence_name(cp.confidence)}});
  Json j = {{"metric", s.metric},
            {"unit", def.unit},
            {"better", to_string(def.direction)},
            {"series", series_key_json(s.key)},
            {"order", not_in_commit_order ? "commit" : "time"},
            {"n", h.values.size()},
            {"points", std::move(points)},
            {"change_points", std::move(cps)}};
  if (!h.result.not_tested.empty()) j["not_tested"] = h.result.not_tested;
  if (not_in_commit_order) {
    Json lo = Json::array();
    for (const auto& p : *not_in_commit_order) lo.push_back(point_run_json(p));
    j["not_in_commit_order"] = std::move(lo);
  }
  j["detector"] = {{"alpha", h.options.alpha}, {"min_segment", h.options.min_segment}};
  return dump(j);
}

bool is_detect_metric(const MetricDef& def) {
  return def.direction != Direction::kNeutral && def.gate != Gate::kInformOnly;
}

store::SeriesFilter key_metrics_filter() {
  store::SeriesFilter f;
  for (const auto& def : metric_registry())
    if (is_detect_metric(def)) f.metrics.emplace_back(def.name);
  return f;
}

bool Since::is_new(const std::string& started_at) const {
  return text.empty() || (inclusive ? started_at >= from : started_at > from);
}

namespace {
const std::regex& utc_time_pattern() {
  static const std::regex date(R"((\d{4})-(\d{2})-(\d{2})([T ](\d{2}):(\d{2})(:(\d{2})(\.\d{1,9})?)?Z?)?)");
  return date;
}
}  // namespace

std::string parse_utc_time(const std::string& text, std::string_view what) {
  std::smatch m;
  if (!std::regex_match(text, m, utc_time_pattern()))
    throw InputError(fmt::format("{}: expected a date, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z (UTC)", what));
  const std::chrono::year_month_day day{std::chrono::year(std::stoi(m[1])),
                                        std::chrono::month(static_cast<unsigned>(std::stoi(m[2]))),
                                        std::chrono::day(static_cast<unsigned>(std::stoi(m[3])))};
  const int hour = m[5].matched ? std::stoi(m[5]) : 0, minute = m[6].matched ? std::stoi(m[6]) : 0;
  const int second = m[8].matched ? std::stoi(m[8]) : 0;
  if (!day.ok() || hour > 23 || minute > 59 || second > 60)
    throw InputError(fmt::format("{}: not a valid date", what));
  std::string from = text;
  if (from.size() > 10) from[10] = 'T';
  if (from.back() == 'Z') from.pop_back();  // stored times end in Z: "…:00Z" >= "…:00"
  return from;
}

Since parse_since(const std::string& text, std::string_view what,
                  const std::function<std::string(const std::string&)>& started_at_of_run) {
  Since s;
  s.text = text;
  if (text.empty()) return s;
  if (std::regex_match(text, utc_time_pattern())) {
    s.from = parse_utc_time(text, what);
    return s;
  }
  if (store::is_run_id_prefix(text)) {
    s.from = started_at_of_run(text);
    s.inclusive = false;
    return s;
  }
  throw InputError(
      fmt::format("{}: expected a date (YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS]Z, UTC) or a run id", what));
}

StoreChanges store_changes(const std::vector<store::MetricSeries>& all, double fdr, Since since,
                           const SeriesDetector& detect) {
  StoreChanges c;
  c.fdr = fdr;
  c.since = std::move(since);
  c.options.alpha = fdr;  // every change point that BH at level q could report (p <= q) is found
  for (const auto& s : all) {
    const MetricDef* def = find_metric(s.metric);
    if (!def || !is_detect_metric(*def)) continue;
    std::vector<double> values;
    values.reserve(s.points.size());
    for (const auto& p : s.points) values.push_back(p.value);
    TestedSeries t{&s, def,
                   detect ? detect(s, values, c.options) : analysis::detect_appended(values, nullptr, c.options).result, 1};
    if (values.size() < 2 * c.options.min_segment) {
      ++c.too_short;
      continue;
    }
    for (const auto& cp : t.result.change_points) t.p = std::min(t.p, cp.p_value);
    c.tested.push_back(std::move(t));
  }
  std::vector<double> ps;
  for (const auto& t : c.tested) ps.push_back(t.p);
  c.bh = analysis::fdr_threshold(ps, fdr);
  for (const auto& t : c.tested)
    for (const auto& cp : t.result.change_points)
      if (cp.p_value <= c.bh.threshold) {
        StoreChange ch{&t, cp, change_kind(*t.def, cp.before, cp.after), false};
        ch.is_new = c.since.is_new(ch.first().started_at());
        c.changes.push_back(std::move(ch));
      }
  std::stable_sort(c.changes.begin(), c.changes.end(), [](const StoreChange& a, const StoreChange& b) {
    return a.first().started_at() > b.first().started_at();
  });
  for (const auto& ch : c.changes) c.new_regressions += ch.kind == "regression" && ch.is_new;
  return c;
}

std::string changes_json(const StoreChanges& c, std::string_view store_location, const DetectComputation* computation) {
  Json cs = Json::array();
  for (const auto& ch : c.changes) {
    const auto& pts = ch.tested->series->points;
    const std::size_t i0 = ch.cp.index;
    Json before = Json::array(), after = Json::array();
    for (std::size_t i = i0 >= kRunsAround ? i0 - kRunsAround : 0; i < i0; ++i) before.push_back(point_run_json(pts[i]));
    for (std::size_t i = i0; i < pts.size() && i < i0 + kRunsAround; ++i) after.push_back(point_run_json(pts[i]));
    cs.push_back({{"series", series_key_json(ch.tested->series->key)},
                  {"metric", ch.tested->series->metric},
                  {"unit", ch.tested->def->unit},
                  {"direction", ch.kind},
                  {"index", ch.cp.index},
                  {"before", ch.cp.before},
                  {"after", ch.cp.after},
                  {"magnitude_pct", finite_or_null(ch.cp.magnitude_pct)},
                  {"p_value", ch.cp.p_value},
                  {"confidence", analysis::confidence_name(ch.cp.confidence)},
                  {"new", ch.is_new},
                  {"first_run", point_run_json(ch.first())},
                  {"runs", {{"before", std::move(before)}, {"after", std::move(after)}}}});
  }
  Json j = Json::object();
  if (!store_location.empty()) j["store"] = store_location;
  j["fdr"] = c.fdr;
  j["tests"] = c.bh.tests;
  j["threshold"] = c.bh.threshold;
  j["series"] = c.tested.size() + c.too_short;
  j["too_short"] = c.too_short;
  j["since"] = c.since.text.empty() ? Json(nullptr) : Json(c.since.text);
  j["new_regressions"] = c.new_regressions;
  j["changes"] = std::move(cs);
  if (computation)
    j["computation"] = {{"full", computation->full}, {"window", computation->window}, {"unchanged", computation->unchanged}};
  return dump(j);
}

}  // namespace trackiq::server
