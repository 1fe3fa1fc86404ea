// The exports of an in-process Tracker (include/trackiq/server/tracker_exposition.hpp).
#include "trackiq/server/tracker_exposition.hpp"
#include "trackiq/server/openmetrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/core/error.hpp"
#include "trackiq/core/version.hpp"
#include "trackiq/server/prometheus.hpp"

namespace trackiq::server {
namespace {

using Json = nlohmann::ordered_json;
using tracker::DistributionStats;
using tracker::Snapshot;

// Nominal bucket bounds: 1, 2.5 and 5 × 10^k. Latencies (seconds) use 10 µs … 500 s.
constexpr double kMantissas[] = {1.0, 2.5, 5.0};
constexpr int kLatencyLowestDecade = -5;
constexpr int kLatencyHighestDecade = 2;

// The upper bounds, in the histogram's integer unit, of the Prometheus buckets of `h`: each
// nominal bound moved up to the last value of the lossless bucket that holds it
// (highest_equivalent), so "values <= bound" is a whole number of lossless buckets and its count
// is exact, not interpolated. The move is under 10^-d relative (d: significant digits).
std::vector<std::int64_t> bucket_bounds(const Histogram& h, int lowest_decade, int highest_decade, double unit_per_nominal) {
  std::vector<std::int64_t> out;
  for (int k = lowest_decade; k <= highest_decade; ++k)
    for (const double m : kMantissas) {
      const double nominal = m * std::pow(10.0, k) * unit_per_nominal;
      if (nominal < 1 || nominal > static_cast<double>(h.highest())) continue;
      const std::int64_t bound = h.highest_equivalent(static_cast<std::int64_t>(std::floor(nominal)));
      if (out.empty() || bound > out.back()) out.push_back(bound);
    }
  return out;
}

// Per-bucket increments for prometheus::Histogram::ObserveMultiple: bounds.size() + 1 entries,
// the last (+Inf) also holding the values outside the histogram's range.
std::vector<double> bucket_increments(const Histogram& h, const std::vector<std::int64_t>& bounds) {
  std::vector<double> inc(bounds.size() + 1, 0.0);
  std::size_t i = 0;
  for (const Histogram::Bucket& b : h.nonempty_buckets()) {
    while (i < bounds.size() && b.high > bounds[i]) ++i;
    inc[i] += static_cast<double>(b.count);
  }
  inc.back() += static_cast<double>(h.out_of_range());
  return inc;
}

// A value histogram's unit → Prometheus' base unit: the name suffix, the factor, and the tokens a
// registry name ends with in that unit (stripped before the suffix is added).
struct BaseUnit {
  std::string_view unit;
  std::string_view suffix;
  double scale;
  std::string_view token;
};
constexpr BaseUnit kBaseUnits[] = {
    {"ns", "seconds", 1e-9, "ns"}, {"us", "seconds", 1e-6, "us"},     {"µs", "seconds", 1e-6, "us"},
    {"ms", "seconds", 1e-3, "ms"}, {"s", "seconds", 1.0, "s"},         {"B", "bytes", 1.0, "bytes"},
    {"KiB", "bytes", 1024.0, "kib"}, {"MiB", "bytes", 1048576.0, "mib"}, {"GiB", "bytes", 1073741824.0, "gib"},
    {"W", "watts", 1.0, "w"},      {"J", "joules", 1.0, "j"},         {"°C", "celsius", 1.0, "c"},
    {"%", "ratio", 0.01, "pct"},   {"MHz", "hertz", 1e6, "mhz"},      {"1/s", "per_second", 1.0, "per_s"},
};

std::string strip_suffix(std::string name, std::string_view tail) {
  if (name.size() > tail.size() + 1 && name.ends_with(tail) && name[name.size() - tail.size() - 1] == '_')
    name.resize(name.size() - tail.size() - 1);
  return name;
}

// Family names taken so far in one exposition: a host metric whose name would take one of ours
// (a counter "requests" → trackiq_requests_total) is moved to trackiq_app_….
class Names {
 public:
  std::string builtin(std::string name) {
    taken_.insert(name);
    return name;
  }
  std::string host(std::string_view stem, std::string_view suffix) {
    // fmt, not operator+: GCC 12 reports a false -Wrestrict on "literal" + std::string (PR 105329).
    const std::string tail = suffix.empty() ? std::string() : fmt::format("_{}", suffix);
    std::string name = fmt::format("trackiq_{}{}", prometheus_name(stem), tail);
    if (taken_.contains(name)) name = fmt::format("trackiq_app_{}{}", prometheus_name(stem), tail);
    for (int n = 2; taken_.contains(name); ++n) name = fmt::format("trackiq_app_{}_{}{}", prometheus_name(stem), n, tail);
    taken_.insert(name);
    return name;
  }

 private:
  std::set<std::string> taken_;
};

void add_latency(prometheus::Family<prometheus::Histogram>& family, const prometheus::Labels& labels,
                 const DistributionStats& d) {
  const Histogram& h = d.histogram;
  const std::vector<std::int64_t> ns = bucket_bounds(h, kLatencyLowestDecade, kLatencyHighestDecade, 1e9);
  prometheus::Histogram::BucketBoundaries seconds;
  for (const std::int64_t b : ns) seconds.push_back(static_cast<double>(b) / 1e9);
  // The sum comes from the buckets' midpoints (mean × count): within the histogram's relative
  // error of the exact sum; values beyond its range are in _count and +Inf, not in _sum.
  family.Add(labels, seconds).ObserveMultiple(bucket_increments(h, ns), h.mean() * static_cast<double>(h.count()) / 1e9);
}

Json distribution_json(const DistributionStats& d, double scale_to_unit = 1.0) {
  Json j{{"count", d.count}};
  if (d.count == 0) return j;
  j["mean"] = d.mean * scale_to_unit;
  j["min"] = d.min * scale_to_unit;
  j["max"] = d.max * scale_to_unit;
  Json ps = Json::object();
  for (const Percentile& p : d.percentiles) ps[fmt::format("p{:g}", p.p)] = p.value * scale_to_unit;
  j["percentiles"] = std::move(ps);
  if (d.histogram.out_of_range() > 0) j["out_of_range"] = d.histogram.out_of_range();
  return j;
}

HttpResponse plain(int status, std::string content_type, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

HttpResponse error(int status, const std::string& message) {
  return plain(status, "application/json",
               Json{{"error", message}, {"status", status}}.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
}

}  // namespace

namespace {

// The exposition's families, in the registry's order (prometheus-cpp keeps registration order).
std::vector<prometheus::MetricFamily> tracker_metric_families(const Snapshot& s, std::string_view service) {
  prometheus::Registry registry;
  Names names;
  prometheus::BuildGauge()
      .Name(names.builtin("trackiq_tracker_info"))
      .Help("A TrackIQ in-process tracker: its service name, TrackIQ's version and the clock its record path reads (value 1)")
      .Register(registry)
      .Add({{"service", std::string(service)}, {"version", std::string(trackiq::version())}, {"clock", s.clock}})
      .Set(1);
  prometheus::BuildGauge()
      .Name(names.builtin("trackiq_tracker_uptime_seconds"))
      .Help("Seconds since the tracker was made (the window every _total counts over)")
      .Register(registry)
      .Add({})
      .Set(static_cast<double>(s.uptime_ns) / 1e9);
  auto& requests = prometheus::BuildCounter()
                       .Name(names.builtin("trackiq_requests_total"))
                       .Help("Requests that ended, by outcome (completed or failed)")
                       .Register(registry);
  requests.Add({{"outcome", "completed"}}).Increment(static_cast<double>(s.requests_completed));
  requests.Add({{"outcome", "failed"}}).Increment(static_cast<double>(s.requests_failed));
  prometheus::BuildGauge()
      .Name(names.builtin("trackiq_requests_active"))
      .Help("Requests begun and not yet ended")
      .Register(registry)
      .Add({})
      .Set(static_cast<double>(s.requests_active));
  auto& errors = prometheus::BuildCounter()
                     .Name(names.builtin("trackiq_request_errors_total"))
                     .Help("Failed requests by error class (Request::fail)")
                     .Register(registry);
  for (const auto& [cls, n] : s.errors_by_class) errors.Add({{"class", cls}}).Increment(static_cast<double>(n));
  prometheus::BuildGauge()
      .Name(names.builtin("trackiq_request_error_ratio"))
      .Help("Failed / (completed + failed) requests since the tracker was made (0 when none ended)")
      .Register(registry)
      .Add({})
      .Set(s.error_rate);
  prometheus::BuildCounter()
      .Name(names.builtin("trackiq_input_tokens_total"))
      .Help("Input tokens of completed requests (Request::tokens_in)")
      .Register(registry)
      .Add({})
      .Increment(static_cast<double>(s.tokens_in));
  prometheus::BuildCounter()
      .Name(names.builtin("trackiq_output_tokens_total"))
      .Help("Output tokens of completed requests (Request::tokens_out, else the events' tokens)")
      .Register(registry)
      .Add({})
      .Increment(static_cast<double>(s.tokens_out));
  if (s.rtf_mean)
    prometheus::BuildGauge()
        .Name(names.builtin("trackiq_real_time_factor_mean"))
        .Help("Mean real-time factor (latency / output duration) of completed requests that gave an output duration")
        .Register(registry)
        .Add({})
        .Set(*s.rtf_mean);

  const char* const kBucketNote = "; bucket bounds are edges of the tracker's lossless histogram (exact counts), _sum from bucket midpoints";
  struct Family {
    const char* name;
    const char* help;
    const std::optional<DistributionStats>* stats;
  };
  const Family families[] = {
      {"trackiq_request_duration_seconds", "Latency of completed requests, begin_request() to end", &s.request},
      {"trackiq_time_to_first_token_seconds", "Time to first token: first output event - begin_request()", &s.ttft},
      {"trackiq_time_per_output_token_seconds", "Time per output token: (E2EL - TTFT) / (N_out - 1), N_out >= 2", &s.tpot},
      {"trackiq_inter_token_latency_seconds", "Gaps between consecutive output events of completed requests", &s.itl},
      {"trackiq_e2e_request_latency_seconds", "Last output event - begin_request() of completed requests", &s.e2el},
  };
  for (const Family& f : families) {
    if (!*f.stats || (*f.stats)->count + (*f.stats)->histogram.out_of_range() == 0) continue;
    add_latency(prometheus::BuildHistogram().Name(names.builtin(f.name)).Help(std::string(f.help) + kBucketNote).Register(registry),
                {}, **f.stats);
  }
  if (!s.phases.empty()) {
    auto& phases = prometheus::BuildHistogram()
                       .Name(names.builtin("trackiq_request_phase_duration_seconds"))
                       .Help(std::string("Duration of each phase of a request (Request::phase), by phase name") + kBucketNote)
                       .Register(registry);
    for (const auto& [name, d] : s.phases) add_latency(phases, {{"phase", name}}, d);
  }
  // Per-request resources (LIB-2), once a sampler is attached: exact statistics over the record
  // window's requests, so gauges (a distribution over a sliding window is no cumulative histogram).
  if (s.resources.attached) {
    const tracker::ResourceSnapshot& res = s.resources;
    auto& states = prometheus::BuildGauge()
                       .Name(names.builtin("trackiq_request_resource_attribution_requests"))
                       .Help("Requests in the record window by resource attribution: attributed (closing sample taken), "
                             "pending (closing sample still to come), unattributed (no opening sample)")
                       .Register(registry);
    states.Add({{"state", "attributed"}}).Set(static_cast<double>(res.requests_attributed));
    states.Add({{"state", "pending"}}).Set(static_cast<double>(res.requests_pending));
    states.Add({{"state", "unattributed"}}).Set(static_cast<double>(res.requests_unattributed));
    prometheus::BuildGauge()
        .Name(names.builtin("trackiq_request_throttled_seen_requests"))
        .Help("Attributed requests in the record window during which some GPU reported throttling (seen during, not caused by)")
        .Register(registry)
        .Add({})
        .Set(static_cast<double>(res.throttled_seen));
    prometheus::BuildCounter()
        .Name(names.builtin("trackiq_tracker_telemetry_rows_total"))
        .Help("Telemetry rows the tracker received from its attached sampler")
        .Register(registry)
        .Add({})
        .Increment(static_cast<double>(res.rows_taken));
    struct ResourceFamily {
      const char* snapshot_name;
      const char* name;
      double scale;  // snapshot unit -> base unit
      const char* help;
    };
    constexpr ResourceFamily kResourceFamilies[] = {
        {"rss_peak_seen_bytes", "trackiq_request_rss_peak_seen_bytes", 1.0,
         "Peak RSS of this process (proc.rss_bytes) seen during a request"},
        {"gpu_proc_mem_peak_seen_bytes", "trackiq_request_gpu_proc_mem_peak_seen_bytes", 1.0,
         "Peak GPU memory of this process (sum of gpuN.proc_mem_bytes) seen during a request"},
        {"gpu_mem_used_peak_seen_bytes", "trackiq_request_gpu_mem_used_peak_seen_bytes", 1.0,
         "Peak used memory of the whole GPUs (sum of gpuN.mem_used_bytes) seen during a request"},
        {"temp_peak_seen_c", "trackiq_request_temp_peak_seen_celsius", 1.0,
         "Highest temperature (any GPU or thermal zone) seen during a request"},
        {"cpu_time_seen_ms", "trackiq_request_cpu_time_seen_seconds", 1e-3,
         "CPU time of the whole process (every thread) over a request's sample window"},
    };
    for (const ResourceFamily& f : kResourceFamilies) {
      const auto it = res.distributions.find(f.snapshot_name);
      if (it == res.distributions.end() || it->second.count == 0) continue;
      const tracker::ResourceDistribution& d = it->second;
      auto& family = prometheus::BuildGauge()
                         .Name(names.builtin(f.name))
                         .Help(fmt::format("{}: exact statistics (mean, min, max, percentiles) over the attributed "
                                           "requests of the record window (seen during, not used by, the requests)",
                                           f.help))
                         .Register(registry);
      family.Add({{"statistic", "mean"}}).Set(d.mean * f.scale);
      family.Add({{"statistic", "min"}}).Set(d.min * f.scale);
      family.Add({{"statistic", "max"}}).Set(d.max * f.scale);
      for (const Percentile& p : d.percentiles) family.Add({{"statistic", fmt::format("p{:g}", p.p)}}).Set(p.value * f.scale);
    }
  }
  for (const auto& [name, v] : s.counters)
    prometheus::BuildCounter()
        .Name(names.host(strip_suffix(name, "total"), "total"))
        .Help(fmt::format("Tracker counter '{}'", name))
        .Register(registry)
        .Add({})
        .Increment(static_cast<double>(std::max<std::int64_t>(v, 0)));
  for (const auto& [name, v] : s.gauges)
    prometheus::BuildGauge()
        .Name(names.host(name, ""))
        .Help(fmt::format("Tracker gauge '{}' (last value set)", name))
        .Register(registry)
        .Add({})
        .Set(v);
  for (const auto& [name, v] : s.ratios)
    prometheus::BuildGauge()
        .Name(names.host(strip_suffix(strip_suffix(name, "ratio"), "rate"), "ratio"))
        .Help(fmt::format("Tracker ratio '{}': a / (a + b) of its two counters, 0 while both are 0", name))
        .Register(registry)
        .Add({})
        .Set(v);
  for (const auto& [name, vh] : s.histograms) {
    const Histogram& h = vh.stats.histogram;
    std::string stem = name;
    std::string_view suffix;
    double scale = 1.0;
    for (const BaseUnit& u : kBaseUnits)
      if (vh.def.unit == u.unit) {
        stem = strip_suffix(stem, u.token);
        suffix = u.suffix;
        scale = u.scale;
        break;
      }
    const std::vector<std::int64_t> bounds = bucket_bounds(h, 0, 18, 1.0);
    prometheus::Histogram::BucketBoundaries scaled;
    for (const std::int64_t b : bounds) scaled.push_back(static_cast<double>(b) * scale);
    prometheus::BuildHistogram()
        .Name(names.host(stem, suffix))
        .Help(fmt::format("Tracker value histogram '{}' ({}{}, {} is better): {}{}", name, vh.def.unit.empty() ? "1" : vh.def.unit,
                          scale != 1.0 ? fmt::format(" x {:g}", scale) : "", to_string(vh.def.direction),
                          vh.def.description, kBucketNote))
        .Register(registry)
        .Add({}, scaled)
        .ObserveMultiple(bucket_increments(h, bounds), h.mean() * static_cast<double>(h.count()) * scale);
  }
  return registry.Collect();
}

}  // namespace

std::string tracker_metrics_text(const Snapshot& s, std::string_view service) {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  prometheus::TextSerializer().Serialize(out, tracker_metric_families(s, service));
  return out.str();
}

std::string tracker_summary_json(const Snapshot& s, std::string_view service) {
  Json j;
  j["service"] = service;
  j["trackiq_version"] = trackiq::version();
  j["clock"] = {{"source", s.clock}, {"detail", s.clock_detail}};
  j["uptime_s"] = static_cast<double>(s.uptime_ns) / 1e9;
  j["requests"] = {{"started", s.requests_started},
                   {"completed", s.requests_completed},
                   {"failed", s.requests_failed},
                   {"active", s.requests_active}};
  j["rates"] = {{"requests_per_s", s.request_rate_per_s},
                {"errors_per_s", s.errors_per_s},
                {"error_rate", s.error_rate},
                {"output_tokens_per_s", s.output_tokens_per_s}};
  j["errors_by_class"] = Json::object();
  for (const auto& [cls, n] : s.errors_by_class) j["errors_by_class"][cls] = n;
  j["tokens"] = {{"in", s.tokens_in}, {"out", s.tokens_out}};
  j["rtf_mean"] = s.rtf_mean ? Json(*s.rtf_mean) : Json(nullptr);
  Json latency = Json::object();
  for (const auto& [name, d] : {std::pair{"request", &s.request}, std::pair{"ttft", &s.ttft}, std::pair{"tpot", &s.tpot},
                                std::pair{"itl", &s.itl}, std::pair{"e2el", &s.e2el}})
    if (*d) latency[name] = distribution_json(**d);
  j["latency_ms"] = std::move(latency);
  Json phases = Json::object();
  for (const auto& [name, d] : s.phases) phases[name] = distribution_json(d);
  j["phases_ms"] = std::move(phases);
  j["counters"] = Json::object();
  for (const auto& [name, v] : s.counters) j["counters"][name] = v;
  j["gauges"] = Json::object();
  for (const auto& [name, v] : s.gauges) j["gauges"][name] = std::isfinite(v) ? Json(v) : Json(nullptr);
  j["ratios"] = Json::object();
  for (const auto& [name, v] : s.ratios) j["ratios"][name] = v;
  Json histograms = Json::object();
  for (const auto& [name, vh] : s.histograms) {
    Json h = distribution_json(vh.stats);
    h["unit"] = vh.def.unit;
    h["better"] = to_string(vh.def.direction);
    histograms[name] = std::move(h);
  }
  j["histograms"] = std::move(histograms);
  Json resources{{"attached", s.resources.attached},
                 {"unavailable", s.resources.unavailable.empty() ? Json(nullptr) : Json(s.resources.unavailable)},
                 {"requests",
                  {{"attributed", s.resources.requests_attributed},
                   {"pending", s.resources.requests_pending},
                   {"unattributed", s.resources.requests_unattributed}}},
                 {"throttled_seen", s.resources.throttled_seen},
                 {"rows_taken", s.resources.rows_taken}};
  Json distributions = Json::object();
  for (const auto& [name, d] : s.resources.distributions) {
    Json dj{{"count", d.count}};
    if (d.count > 0) {
      dj["mean"] = d.mean;
      dj["min"] = d.min;
      dj["max"] = d.max;
      Json ps = Json::object();
      for (const Percentile& p : d.percentiles) ps[fmt::format("p{:g}", p.p)] = p.value;
      dj["percentiles"] = std::move(ps);
    }
    distributions[name] = std::move(dj);
  }
  resources["distributions"] = std::move(distributions);
  j["resources"] = std::move(resources);
  j["percentiles"] = s.percentiles;
  j["violations"] = tracker::validate(s);
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

HttpResponse handle_tracker_request(const tracker::Tracker& tracker, std::string_view method, std::string_view target,
                                    std::string_view accept) {
  const std::string_view path = target.substr(0, target.find('?'));
  enum class Route { kMetrics, kSummary, kExport };
  Route route;
  if (path == "/metrics")
    route = Route::kMetrics;
  else if (path == "/metrics/summary")
    route = Route::kSummary;
  else if (path == "/metrics/export")
    route = Route::kExport;
  else
    return error(404, "no such path: the tracker serves /metrics, /metrics/summary and /metrics/export");
  if (!is_get_or_head(method)) {  // a HEAD gets the GET's answer; HttpServer drops its body
    HttpResponse r = error(405, fmt::format("{} is not allowed here: GET or HEAD only", method));
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  const std::string_view type = route == Route::kMetrics ? "text/plain" : "application/json";
  if (!accepts(accept, type) && !(route == Route::kMetrics && wants_openmetrics(accept)))
    return error(406, fmt::format("this path serves {}; the request's Accept header ('{}') admits none of it", type, accept));
  try {
    switch (route) {
      case Route::kMetrics: {  // OpenMetrics 1.0 when the scrape prefers it (Prometheus does)
        auto e = exposition(tracker_metric_families(tracker.snapshot(), tracker.options().service), accept);
        return plain(200, e.content_type, std::move(e.body));
      }
      case Route::kSummary:
        return plain(200, "application/json", tracker_summary_json(tracker.snapshot(), tracker.options().service));
      case Route::kExport:
        return plain(200, "application/json", to_json(tracker.to_result()) + "\n");
    }
  } catch (const std::exception& e) {
    return error(500, e.what());
  }
  return error(500, "unreachable");
}

TrackerServer serve(const tracker::Tracker& tracker, const std::string& listen, unsigned threads) {
  ServerOptions options;
  options.listen = listen;
  options.threads = threads;
  options.max_body_bytes = 64 * 1024;  // GET and HEAD only: no body is needed
  return TrackerServer(std::make_unique<HttpServer>(
      [&tracker](const HttpRequest& r) { return handle_tracker_request(tracker, r.method, r.target, r.accept); },
      std::move(options)));
}

std::string save(const tracker::Tracker& tracker, store::Store& store) {
  const Result r = tracker.to_result();
  store.save(r);
  return r.run_id;
}

}  // namespace trackiq::server
