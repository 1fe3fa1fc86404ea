// The self-contained HTML report (REP-2): the page data of docs/report-html.md, and the page
// assembled from it and the inlined assets of web/ (see report_assets.hpp).
#include "trackiq/report/html.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "glance.hpp"
#include "report_assets.hpp"
#include "text.hpp"
#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/metric_registry.hpp"
#include "trackiq/core/stats.hpp"

namespace trackiq::report {
namespace {

using Json = nlohmann::ordered_json;
using text::csv_field;

constexpr std::size_t kTimelineBuckets = 2000;
constexpr std::size_t kCdfPoints = 1000;
constexpr std::size_t kHistogramBins = 80;
constexpr std::size_t kMaxOverlays = 8;

// Six significant digits: what a chart can show, and a third of the bytes of a full double.
double round6(double v) {
  if (!std::isfinite(v) || v == 0.0) return v;
  const double scale = std::pow(10.0, 5 - static_cast<int>(std::floor(std::log10(std::fabs(v)))));
  return std::round(v * scale) / scale;
}

Json number(double v) { return std::isfinite(v) ? Json(round6(v)) : Json(nullptr); }

Json numbers(const std::vector<double>& v) {
  Json a = Json::array();
  for (const double x : v) a.push_back(number(x));
  return a;
}

double ms(std::int64_t ns) { return static_cast<double>(ns) / 1e6; }
double seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

std::string run_label(const Result& r) {
  std::string name = r.labels.product;
  if (!r.labels.version.empty()) name += (name.empty() ? "" : " ") + r.labels.version;
  if (name.empty()) name = r.workload.model;
  return name.empty() ? text::short_id(r.run_id) : fmt::format("{} ({})", name, text::short_id(r.run_id));
}

// Log-spaced histogram over [min, max] of the samples (1 ns floor so log is defined).
Json histogram(const std::vector<std::int64_t>& sorted) {
  const double lo = std::max<double>(1.0, static_cast<double>(sorted.front()));
  const double hi = std::max<double>(lo, static_cast<double>(sorted.back()));
  const std::size_t bins = hi > lo ? std::min(kHistogramBins, sorted.size()) : 1;
  std::vector<double> edges(bins + 1);
  const double step = (std::log(hi) - std::log(lo)) / static_cast<double>(bins);
  for (std::size_t i = 0; i <= bins; ++i) edges[i] = std::exp(std::log(lo) + step * static_cast<double>(i));
  edges.front() = lo;
  edges.back() = hi;
  std::vector<double> counts(bins, 0.0);
  std::size_t b = 0;
  for (const std::int64_t s : sorted) {  // ascending: the bin index only moves forward
    const double v = static_cast<double>(s);
    while (b + 1 < bins && v >= edges[b + 1]) ++b;
    counts[b] += 1.0;
  }
  std::vector<double> edges_ms(edges.size());
  std::transform(edges.begin(), edges.end(), edges_ms.begin(), [](double e) { return e / 1e6; });
  return {{"edges_ms", numbers(edges_ms)}, {"counts", counts}};
}

// CDF at log-spaced latencies, with the exact minimum and maximum as the first and last points.
Json cdf(const std::vector<std::int64_t>& sorted) {
  const double n = static_cast<double>(sorted.size());
  const double lo = std::max<double>(1.0, static_cast<double>(sorted.front()));
  const double hi = std::max<double>(lo, static_cast<double>(sorted.back()));
  std::vector<double> x, f;
  x.push_back(ms(sorted.front()));
  f.push_back(1.0 / n);
  const std::size_t points = hi > lo ? kCdfPoints : 0;
  for (std::size_t i = 1; i + 1 < points; ++i) {
    const double v = std::exp(std::log(lo) + (std::log(hi) - std::log(lo)) * static_cast<double>(i) /
                                                 static_cast<double>(points - 1));
    const auto at = std::upper_bound(sorted.begin(), sorted.end(), static_cast<std::int64_t>(std::floor(v)));
    x.push_back(v / 1e6);
    f.push_back(static_cast<double>(at - sorted.begin()) / n);
  }
  x.push_back(ms(sorted.back()));
  f.push_back(1.0);
  return {{"latency_ms", numbers(x)}, {"fraction", numbers(f)}};
}

// Linear interpolation between order statistics (numpy's default), on sorted samples.
double sorted_percentile(const std::vector<std::int64_t>& sorted, double p) {
  const double pos = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const std::size_t i = static_cast<std::size_t>(std::floor(pos));
  const std::size_t j = std::min(i + 1, sorted.size() - 1);
  return static_cast<double>(sorted[i]) + (pos - static_cast<double>(i)) * static_cast<double>(sorted[j] - sorted[i]);
}

Json box(const std::vector<std::int64_t>& sorted) {
  return {{"min", number(ms(sorted.front()))},
          {"q1", number(sorted_percentile(sorted, 25) / 1e6)},
          {"median", number(sorted_percentile(sorted, 50) / 1e6)},
          {"q3", number(sorted_percentile(sorted, 75) / 1e6)},
          {"max", number(ms(sorted.back()))},
          {"p99", number(sorted_percentile(sorted, 99) / 1e6)}};
}

std::vector<double> to_seconds(const std::vector<std::int64_t>& t) {
  std::vector<double> out(t.size());
  std::transform(t.begin(), t.end(), out.begin(), seconds);
  return out;
}

// Telemetry channels drawn over the latency timeline: CPU, GPU utilisation, temperatures, power.
bool is_overlay(const std::string& name, const std::string& unit) {
  if (name == "cpu.util_pct" || name == "mem.used_pct") return true;
  if (name.rfind("gpu", 0) == 0 && (name.ends_with(".util_pct") || name.ends_with(".temp_c") || name.ends_with(".power_w")))
    return true;
  return unit == "°C" || unit == "W";
}

struct RunCharts {
  Json json;
  std::vector<std::int64_t> sorted;  // the run's samples, ascending (for the bars' error bars)
};

RunCharts run_charts(const Result& r) {
  RunCharts out;
  Json j{{"run_id", r.run_id}, {"label", run_label(r)}, {"sample_count", 0}, {"histogram", nullptr}, {"cdf", nullptr},
         {"box", nullptr}, {"timeline", nullptr}, {"telemetry", Json::array()}, {"throttle_t_s", Json::array()}};
  if (r.latency && !r.latency->samples_ns.empty()) {
    const LatencyData& l = *r.latency;
    out.sorted = l.samples_ns;
    std::sort(out.sorted.begin(), out.sorted.end());
    j["sample_count"] = out.sorted.size();
    j["histogram"] = histogram(out.sorted);
    j["cdf"] = cdf(out.sorted);
    j["box"] = box(out.sorted);
    if (l.sample_end_ns.size() == l.samples_ns.size()) {
      std::vector<double> values(l.samples_ns.size());
      std::transform(l.samples_ns.begin(), l.samples_ns.end(), values.begin(), ms);
      const MinMaxSeries s = downsample_min_max(l.sample_end_ns, values, kTimelineBuckets);
      j["timeline"] = {{"t_s", numbers(to_seconds(s.t_ns))}, {"min_ms", numbers(s.min)}, {"max_ms", numbers(s.max)}};
    }
  } else if (r.latency) {
    j["sample_count"] = 0;
  }
  if (r.telemetry.series) {
    const TelemetrySeries& ts = *r.telemetry.series;
    std::vector<double> column(ts.rows());
    for (std::size_t c = 0; c < ts.width(); ++c) {
      if (ts.names[c].ends_with(".throttled")) {  // rising edges of a 0/1 channel
        bool was = false;
        for (std::size_t row = 0; row < ts.rows(); ++row) {
          const bool now = ts.at(row, c) >= 1.0;
          if (now && !was) j["throttle_t_s"].push_back(number(seconds(ts.t_ns[row])));
          was = now;
        }
        continue;
      }
      if (!is_overlay(ts.names[c], ts.units[c]) || j["telemetry"].size() >= kMaxOverlays) continue;
      for (std::size_t row = 0; row < ts.rows(); ++row) column[row] = ts.at(row, c);
      const MinMaxSeries s = downsample_min_max(ts.t_ns, column, kTimelineBuckets);
      if (s.t_ns.empty()) continue;  // no value at all
      j["telemetry"].push_back({{"name", ts.names[c]},
                                {"unit", ts.units[c]},
                                {"t_s", numbers(to_seconds(s.t_ns))},
                                {"min", numbers(s.min)},
                                {"max", numbers(s.max)}});
    }
  }
  out.json = std::move(j);
  return out;
}

// Latency and throughput against the one setting that varies across the runs, if any.
Json tradeoff(const std::vector<Result>& runs) {
  if (runs.size() < 2) return nullptr;
  struct Axis {
    const char* name;
    std::optional<double> (*get)(const Result&);
  };
  const Axis axes[] = {
      {"batch_size", [](const Result& r) -> std::optional<double> { return static_cast<double>(r.workload.batch_size); }},
      {"rate", [](const Result& r) -> std::optional<double> { return r.scenario.qps; }},
      {"concurrency", [](const Result& r) -> std::optional<double> { return static_cast<double>(r.scenario.workers); }},
  };
  // LLM serving runs (a `trackiq load --api openai-*` sweep) also get TTFT and TPOT (ITL when
  // some run has no TPOT) at p50 and p99 per point, the trade-off GenAI-Perf and vLLM plot.
  const bool llm = std::all_of(runs.begin(), runs.end(), is_llm_serving);
  const bool all_tpot = std::all_of(runs.begin(), runs.end(), [](const Result& r) { return r.metric_value("median_tpot_ms").has_value(); });
  const std::string token = all_tpot ? "tpot" : "itl";
  for (const Axis& axis : axes) {
    std::vector<std::pair<double, const Result*>> points;
    for (const Result& r : runs)
      if (const auto x = axis.get(r)) points.emplace_back(*x, &r);
    if (points.size() != runs.size()) continue;
    std::sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    if (points.front().first == points.back().first) continue;  // does not vary
    Json pts = Json::array();
    for (const auto& point : points) {
      const double x = point.first;
      const Result* r = point.second;  // not a structured binding: clang 14 cannot capture those
      const auto opt = [&](std::string_view m) { const auto v = r->metric_value(m); return v ? number(*v) : Json(nullptr); };
      Json p{{"run_id", r->run_id}, {"label", run_label(*r)}, {"x", number(x)}, {"p50_ms", opt("latency_p50_ms")},
             {"p99_ms", opt("latency_p99_ms")}, {"throughput", opt("throughput_samples_per_s")}};
      if (llm) {
        p["ttft_p50_ms"] = opt("median_ttft_ms");
        p["ttft_p99_ms"] = opt("p99_ttft_ms");
        p["token_p50_ms"] = opt(fmt::format("median_{}_ms", token));
        p["token_p99_ms"] = opt(fmt::format("p99_{}_ms", token));
        p["output_tokens_per_s"] = opt("output_throughput");
      }
      pts.push_back(std::move(p));
    }
    // The optima a sweep's reader looks for: the most samples/s and the lowest p99.
    Json optima = Json::array();
    const auto best = [&](const char* key, bool higher) {
      const Json* pick = nullptr;
      for (const Json& p : pts)
        if (p[key].is_number() && (!pick || (higher ? p[key].get<double>() > (*pick)[key].get<double>()
                                                    : p[key].get<double>() < (*pick)[key].get<double>())))
          pick = &p;
      return pick;
    };
    if (const Json* p = best("throughput", true))
      optima.push_back({{"kind", "throughput"}, {"run_id", (*p)["run_id"]}, {"label", (*p)["label"]}, {"x", (*p)["x"]},
                        {"value", (*p)["throughput"]}, {"unit", "samples/s"}});
    if (const Json* p = best("p99_ms", false))
      optima.push_back({{"kind", "latency"}, {"run_id", (*p)["run_id"]}, {"label", (*p)["label"]}, {"x", (*p)["x"]},
                        {"value", (*p)["p99_ms"]}, {"unit", "ms p99"}});
    return {{"axis", axis.name}, {"llm", llm ? Json{{"token_latency", token}} : Json(nullptr)}, {"points", pts},
            {"optima", optima}};
  }
  return nullptr;
}

// Cross-run bars: the error bars of p50/p99 are the 95 % order-statistic intervals of the
// percentile (percentile_ci_ranks), of the mean the normal interval mean ± 1.96·σ/√n.
Json bars(const std::vector<Result>& runs, const std::vector<RunCharts>& charts) {
  Json out = Json::array();
  if (runs.size() < 2) return out;
  for (const std::string_view metric : {"latency_p50_ms", "latency_p99_ms", "latency_mean_ms", "throughput_samples_per_s"}) {
    Json rows = Json::array();
    std::string unit;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const Result& r = runs[i];
      const auto v = r.metric_value(metric);
      if (!v) continue;
      if (const MetricDef* def = find_metric(metric)) unit = std::string(def->unit);
      Json lo = nullptr, hi = nullptr;
      const auto& s = charts[i].sorted;
      if (!s.empty() && (metric == "latency_p50_ms" || metric == "latency_p99_ms")) {
        const RankInterval ri = percentile_ci_ranks(s.size(), metric == "latency_p50_ms" ? 50.0 : 99.0);
        lo = number(ms(s[ri.lo]));
        hi = number(ms(s[ri.hi]));
      } else if (metric == "latency_mean_ms" && r.latency && r.latency->summary_ns.count > 1) {
        const auto& sum = r.latency->summary_ns;
        const double half = 1.959963984540054 * sum.std / std::sqrt(static_cast<double>(sum.count)) / 1e6;
        lo = number(*v - half);
        hi = number(*v + half);
      }
      rows.push_back({{"run_id", r.run_id}, {"label", run_label(r)}, {"value", number(*v)}, {"ci_low", lo}, {"ci_high", hi}});
    }
    if (!rows.empty()) out.push_back({{"metric", metric}, {"unit", unit}, {"runs", rows}});
  }
  return out;
}

// "</" closes a <script> element wherever it appears; "<!--" can open an escaped state.
std::string script_safe(const std::string& json) {
  std::string out;
  out.reserve(json.size() + 64);
  for (std::size_t i = 0; i < json.size(); ++i) {
    if (json[i] == '<' && i + 1 < json.size() && (json[i + 1] == '/' || json[i + 1] == '!')) out += "\\u003c";
    else out += json[i];
  }
  return out;
}

std::string csv_number(const Json& v) { return v.is_null() ? std::string() : v.dump(); }

// The chart series in long form: run_id,chart,series,x,y.
std::string chart_csv(const Json& charts) {
  std::string out = "run_id,chart,series,x,y\n";
  const auto pairs = [&](const std::string& id, const std::string& chart, const std::string& series, const Json& xs,
                         const Json& ys) {
    for (std::size_t i = 0; i < xs.size() && i < ys.size(); ++i)
      out += fmt::format("{},{},{},{},{}\n", csv_field(id), chart, csv_field(series), csv_number(xs[i]), csv_number(ys[i]));
  };
  for (const Json& run : charts["runs"]) {
    const std::string id = run["run_id"].get<std::string>();
    if (!run["histogram"].is_null()) pairs(id, "histogram", "count", run["histogram"]["edges_ms"], run["histogram"]["counts"]);
    if (!run["cdf"].is_null()) pairs(id, "cdf", "fraction", run["cdf"]["latency_ms"], run["cdf"]["fraction"]);
    if (!run["timeline"].is_null()) {
      pairs(id, "timeline", "latency_min_ms", run["timeline"]["t_s"], run["timeline"]["min_ms"]);
      pairs(id, "timeline", "latency_max_ms", run["timeline"]["t_s"], run["timeline"]["max_ms"]);
    }
    for (const Json& t : run["telemetry"]) {
      pairs(id, "telemetry", t["name"].get<std::string>() + ".min", t["t_s"], t["min"]);
      pairs(id, "telemetry", t["name"].get<std::string>() + ".max", t["t_s"], t["max"]);
    }
  }
  if (!charts["tradeoff"].is_null())
    for (const Json& p : charts["tradeoff"]["points"])
      for (const char* y : {"p50_ms", "p99_ms", "throughput", "ttft_p50_ms", "ttft_p99_ms", "token_p50_ms", "token_p99_ms",
                            "output_tokens_per_s"})
        if (p.contains(y))
          out += fmt::format("{},tradeoff,{},{},{}\n", csv_field(p["run_id"].get<std::string>()), y, csv_number(p["x"]),
                             csv_number(p[y]));
  for (const Json& b : charts["bars"])
    for (const Json& r : b["runs"])
      out += fmt::format("{},bars,{},,{}\n", csv_field(r["run_id"].get<std::string>()), b["metric"].get<std::string>(),
                         csv_number(r["value"]));
  return out;
}

}  // namespace

MinMaxSeries downsample_min_max(std::span<const std::int64_t> t_ns, std::span<const double> values,
                                std::size_t max_buckets) {
  MinMaxSeries out;
  const std::size_t n = std::min(t_ns.size(), values.size());
  if (n == 0 || max_buckets == 0) return out;
  std::int64_t t0 = std::numeric_limits<std::int64_t>::max(), t1 = std::numeric_limits<std::int64_t>::min();
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(values[i])) continue;
    t0 = std::min(t0, t_ns[i]);
    t1 = std::max(t1, t_ns[i]);
  }
  if (t0 > t1) return out;  // every value NaN
  const std::size_t buckets = std::min(max_buckets, n);
  // Bucket width in ns, rounded up so the last sample falls in the last bucket.
  const long double span = static_cast<long double>(t1) - static_cast<long double>(t0) + 1.0L;
  const long double width = span / static_cast<long double>(buckets);
  std::vector<double> lo(buckets, std::numeric_limits<double>::infinity());
  std::vector<double> hi(buckets, -std::numeric_limits<double>::infinity());
  for (std::size_t i = 0; i < n; ++i) {
    const double v = values[i];
    if (std::isnan(v)) continue;
    auto b = static_cast<std::size_t>((static_cast<long double>(t_ns[i]) - static_cast<long double>(t0)) / width);
    b = std::min(b, buckets - 1);
    lo[b] = std::min(lo[b], v);
    hi[b] = std::max(hi[b], v);
  }
  for (std::size_t b = 0; b < buckets; ++b) {
    if (lo[b] > hi[b]) continue;  // empty
    out.t_ns.push_back(t0 + static_cast<std::int64_t>(width * (static_cast<long double>(b) + 0.5L)));
    out.min.push_back(lo[b]);
    out.max.push_back(hi[b]);
  }
  return out;
}

HtmlReport render_html(const ReportInput& in, const HtmlOptions& options) {
  if (options.theme != "light" && options.theme != "dark")
    throw InputError(fmt::format("--theme '{}': use light or dark", options.theme));
  Json page = text::report_json(in);
  Json data{{"title", in.title}, {"theme", options.theme}, {"generated_at", utc_timestamp_now()}};
  for (auto& [k, v] : page.items())
    if (k != "title") data[k] = std::move(v);
  data["narrative"] = in.narrative ? Json{{"model", in.narrative->model}, {"text", in.narrative->text}, {"error", in.narrative->error}}
                                   : Json(nullptr);
  std::vector<RunCharts> charts;
  Json chart_runs = Json::array();
  for (const Result& r : in.runs) {
    charts.push_back(run_charts(r));
    chart_runs.push_back(charts.back().json);
  }
  Json glance = Json::array();
  for (const Result& r : in.runs) {
    const Glance g = at_a_glance(r);
    Json cards = Json::array();
    for (const GlanceCard& c : g.cards)
      cards.push_back({{"label", c.label}, {"metric", c.metric}, {"value", c.value ? number(*c.value) : Json(nullptr)},
                       {"unit", c.unit}, {"missing", c.missing}});
    glance.push_back({{"run_id", r.run_id}, {"kind", g.llm ? "llm" : "generic"}, {"cards", cards}});
  }
  data["at_a_glance"] = std::move(glance);
  data["charts"] = {{"runs", chart_runs}, {"tradeoff", tradeoff(in.runs)}, {"bars", bars(in.runs, charts)}};

  HtmlReport out;
  out.data_json = data.dump(1) + "\n";
  out.data_csv = chart_csv(data["charts"]);
  const std::string embedded = script_safe(data.dump());
  out.html.reserve(embedded.size() + assets::kChartLib.size() + assets::kCommonJs.size() + assets::kReportJs.size() + assets::kReportCss.size() + 1024);
  out.html += fmt::format(
      "<!doctype html>\n<html lang=\"en\" data-theme=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"generator\" content=\"trackiq\">\n<title>{}</title>\n<style>\n",
      options.theme, text::xml_escape(in.title));
  out.html += assets::kChartCss;
  out.html += "\n";
  out.html += assets::kReportCss;
  out.html += "\n</style>\n</head>\n<body>\n<noscript>This report draws its charts with JavaScript; "
              "the same data is in the _data.json and _data.csv files beside it.</noscript>\n<div id=\"app\"></div>\n"
              "<script type=\"application/json\" id=\"trackiq-data\">";
  out.html += embedded;
  out.html += "</script>\n<script>\n";
  out.html += assets::kChartLib;
  out.html += "\n</script>\n<script>\n";
  out.html += assets::kCommonJs;
  out.html += "\n</script>\n<script>\n";
  out.html += assets::kReportJs;
  out.html += "\n</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace trackiq::report
