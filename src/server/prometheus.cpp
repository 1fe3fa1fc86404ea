// Prometheus exposition of live telemetry (include/trackiq/server/prometheus.hpp).
#include "trackiq/server/prometheus.hpp"

#include <prometheus/counter.h>
#include <prometheus/metric_family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "trackiq/core/error.hpp"
#include "trackiq/server/http_server.hpp"
#include "trackiq/server/openmetrics.hpp"

namespace trackiq::server {
namespace {

std::vector<std::string> split_dots(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto dot = s.find('.', start);
    out.push_back(s.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return out;
    start = dot + 1;
  }
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The channel name without its unit token: "used_pct" -> "used", "w" (a bare unit) -> "".
std::string strip_unit(const std::string& s, const std::string& token) {
  if (s == token) return "";
  if (ends_with(s, "_" + token)) return s.substr(0, s.size() - token.size() - 1);
  return s;
}

}  // namespace

PromSeries prometheus_series(const telemetry::Channel& c) {
  PromSeries p;
  auto parts = split_dots(c.name);
  std::string subsystem = parts.front();
  static const std::regex indexed(R"(^(cpu|gpu)(\d+)$)");
  std::smatch m;
  std::string collector = subsystem;
  if (std::regex_match(subsystem, m, indexed)) {
    const std::string kind = m[1].str(), index = m[2].str();  // copies: `subsystem` changes below
    collector = kind;
    if (kind == "cpu") {
      subsystem = "cpu_core";
      p.labels.emplace_back("cpu", index);
    } else {
      subsystem = "gpu";
      p.labels.emplace_back("device", parts.front());
    }
  } else if (subsystem == "mem") {
    subsystem = "memory";
  } else if (subsystem == "proc") {
    subsystem = "process";
  }
  // Middle parts name an instance of the subsystem: a thermal zone, a power domain, a PSI
  // resource, a rail.
  const std::string key = subsystem == "thermal" ? "zone"
                          : subsystem == "power"  ? "domain"
                          : subsystem == "psi"    ? "resource"
                                                  : "name";
  std::string instance;
  for (std::size_t i = 1; i + 1 < parts.size(); ++i) instance += (instance.empty() ? "" : ".") + parts[i];
  if (!instance.empty()) p.labels.emplace_back(key, instance);

  std::string stem = parts.size() > 1 ? parts.back() : "";
  // Channel unit -> the unit token the channel name ends with, Prometheus' base-unit suffix, and
  // the factor to the base unit (docs/metrics.md "Prometheus names").
  struct UnitRule {
    const char* unit;
    const char* token;
    const char* suffix;
    double scale;
    bool counter;
  };
  static constexpr UnitRule kRules[] = {
      {"%", "pct", "ratio", 0.01, false},  {"B", "bytes", "bytes", 1, false},  {"°C", "c", "celsius", 1, false},
      {"W", "w", "watts", 1, false},        {"J", "j", "joules_total", 1, true}, {"MHz", "mhz", "hertz", 1e6, false},
      {"s", "s", "seconds", 1, false},
  };
  std::string suffix;
  for (const auto& rule : kRules) {
    if (c.unit != rule.unit) continue;
    stem = strip_unit(stem, rule.token);
    suffix = rule.suffix;
    p.scale = rule.scale;
    p.counter = rule.counter;
  }
  // Cumulative seconds are counters, as energy in joules is: the process's CPU time since it
  // started (utime + stime) is node_exporter's and client libraries' process_cpu_seconds_total.
  // The cgroup's throttling figures count since the first sample (periods throttled, seconds
  // throttled): node_exporter and cAdvisor expose the same as *_throttled_*_total counters.
  if (c.name == "proc.cpu_time_s") {
    stem = "cpu";
    suffix = "seconds_total";
    p.counter = true;
  } else if (c.name == "cgroup.throttled_s") {
    suffix = "seconds_total";
    p.counter = true;
  } else if (c.name == "cgroup.nr_throttled") {
    stem = "throttled_periods";
    suffix = "total";
    p.counter = true;
  }
  if (p.counter && stem.empty()) stem = "energy";
  if (stem == "util") stem = "utilization";
  if (stem == "temp") stem = "temperature";
  std::string metric = "trackiq_" + subsystem;
  for (const std::string& piece : {stem, suffix})
    if (!piece.empty()) metric += "_" + piece;
  p.metric = prometheus_name(metric);
  p.help = fmt::format("{} ({}{}), from trackiq's {} collector", c.name, c.unit.empty() ? "1" : c.unit,
                       p.scale != 1.0 ? fmt::format(" x {:g}", p.scale) : "", collector);
  return p;
}

struct TelemetryGauges::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  struct Slot {
    // The series is added to its family at the channel's first reading: before that a scrape
    // must not show a value (prometheus-cpp starts every series at 0).
    prometheus::Family<prometheus::Gauge>* gauge_family = nullptr;
    prometheus::Family<prometheus::Counter>* counter_family = nullptr;
    std::map<std::string, std::string> labels;
    prometheus::Gauge* gauge = nullptr;
    prometheus::Counter* counter = nullptr;
    double scale = 1.0;
    double last = NAN;  // counters: the last cumulative value seen
  };
  std::vector<Slot> slots;  // owned by the sampler thread (begin/row)
  prometheus::Counter* samples = nullptr;
  prometheus::Gauge* last_sample = nullptr;
};

TelemetryGauges::TelemetryGauges() : impl_(std::make_unique<Impl>()) {
  impl_->samples = &prometheus::BuildCounter()
                        .Name("trackiq_exporter_samples_total")
                        .Help("Telemetry samples taken by this exporter")
                        .Register(*impl_->registry)
                        .Add({});
  impl_->last_sample = &prometheus::BuildGauge()
                            .Name("trackiq_exporter_last_sample_timestamp_seconds")
                            .Help("Unix time of the latest telemetry sample")
                            .Register(*impl_->registry)
                            .Add({});
}

TelemetryGauges::~TelemetryGauges() = default;

void TelemetryGauges::begin(const std::vector<telemetry::Channel>& channels) {
  std::map<std::string, prometheus::Family<prometheus::Gauge>*> gauges;
  std::map<std::string, prometheus::Family<prometheus::Counter>*> counters;
  std::set<std::string> seen;  // metric + labels: two channels must not share a series
  impl_->slots.clear();
  for (const auto& c : channels) {
    PromSeries p = prometheus_series(c);
    std::string key = p.metric;
    for (const auto& [k, v] : p.labels) key += "|" + k + "=" + v;
    if (!seen.insert(key).second) p.labels.emplace_back("channel", c.name);
    const std::map<std::string, std::string> labels(p.labels.begin(), p.labels.end());
    Impl::Slot slot;
    slot.scale = p.scale;
    slot.labels = labels;
    if (p.counter) {
      auto& fam = counters[p.metric];
      if (!fam) fam = &prometheus::BuildCounter().Name(p.metric).Help(p.help).Register(*impl_->registry);
      slot.counter_family = fam;
    } else {
      auto& fam = gauges[p.metric];
      if (!fam) fam = &prometheus::BuildGauge().Name(p.metric).Help(p.help).Register(*impl_->registry);
      slot.gauge_family = fam;
    }
    impl_->slots.push_back(slot);
  }
}

void TelemetryGauges::row(std::int64_t /*t_ns*/, std::span<const double> values) {
  for (std::size_t i = 0; i < values.size() && i < impl_->slots.size(); ++i) {
    auto& s = impl_->slots[i];
    const double v = values[i];
    if (std::isnan(v)) continue;
    if (s.gauge_family) {
      if (!s.gauge) s.gauge = &s.gauge_family->Add(s.labels);
      s.gauge->Set(v * s.scale);
    } else if (s.counter_family) {
      if (!s.counter) s.counter = &s.counter_family->Add(s.labels);
      // A cumulative reading: add what it grew by (a counter reset, e.g. a wrapped energy
      // register the collector did not unwrap, restarts from the new value).
      const double delta = std::isnan(s.last) ? v : (v >= s.last ? v - s.last : v);
      if (delta > 0) s.counter->Increment(delta * s.scale);
      s.last = v;
    }
  }
  impl_->samples->Increment();
  impl_->last_sample->Set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
}

std::vector<prometheus::MetricFamily> TelemetryGauges::families() const { return impl_->registry->Collect(); }

std::string TelemetryGauges::text() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, impl_->registry->Collect());
  return out.str();
}

struct PrometheusExporter::Impl {
  TelemetryGauges gauges;
  std::unique_ptr<HttpServer> http;
  telemetry::RowSink* next = nullptr;
  std::string address;
};

PrometheusExporter::PrometheusExporter(const std::string& listen, telemetry::RowSink* next)
    : impl_(std::make_unique<Impl>()) {
  static const std::regex addr(R"(^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$)");
  std::smatch m;
  if (!std::regex_match(listen, m, addr) || std::stoi(m[2].str()) > 65535)
    throw InputError(fmt::format("--listen '{}': expected HOST:PORT, e.g. 127.0.0.1:9101 (port 0: any free port)", listen));
  impl_->next = next;
  ServerOptions options;
  options.listen = listen;
  options.threads = 1;
  options.max_body_bytes = 64 * 1024;  // GET and HEAD only
  const TelemetryGauges* gauges = &impl_->gauges;
  impl_->http = std::make_unique<HttpServer>(
      [gauges](const HttpRequest& r) {
        HttpResponse out;
        const std::string_view path = std::string_view(r.target).substr(0, r.target.find('?'));
        if (path != "/metrics") {
          out.status = 404;
          out.content_type = "text/plain; charset=utf-8";
          out.body = "not found: monitor --listen serves GET /metrics\n";
        } else if (!is_get_or_head(r.method)) {  // HEAD: as GET, sent without the body
          out.status = 405;
          out.content_type = "text/plain; charset=utf-8";
          out.body = "GET or HEAD only\n";
          out.headers.emplace_back("Allow", "GET, HEAD");
        } else {
          auto e = exposition(gauges->families(), r.accept);
          out.content_type = std::move(e.content_type);
          out.body = std::move(e.body);
        }
        return out;
      },
      std::move(options));
  impl_->address = impl_->http->address();
}

PrometheusExporter::~PrometheusExporter() = default;

void PrometheusExporter::begin(const std::vector<telemetry::Channel>& channels) {
  impl_->gauges.begin(channels);
  if (impl_->next) impl_->next->begin(channels);
}

void PrometheusExporter::row(std::int64_t t_ns, std::span<const double> values) {
  impl_->gauges.row(t_ns, values);
  if (impl_->next) impl_->next->row(t_ns, values);
}

std::string PrometheusExporter::address() const { return impl_->address; }

// As served to a scrape that asks for the text format 0.0.4.
std::string PrometheusExporter::text() const { return impl_->gauges.text(); }

}  // namespace trackiq::server
