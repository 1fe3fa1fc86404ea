// OpenMetrics 1.0 text (https://github.com/OpenObservability/OpenMetrics, "Text format") of
// prometheus-cpp's metric families, and the Accept negotiation between it and text 0.0.4.
#include "trackiq/server/openmetrics.hpp"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "trackiq/core/text.hpp"

namespace trackiq::server {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// A number as OpenMetrics writes it: the shortest text that reads back the same double.
std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

// Label values escape backslash, double quote and line feed; HELP text the same.
std::string escaped(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void sample(std::string& out, std::string_view name, const std::vector<prometheus::ClientMetric::Label>& labels,
            std::string_view extra_name = {}, std::string_view extra_value = {}, double value = 0) {
  out += name;
  if (!labels.empty() || !extra_name.empty()) {
    out += '{';
    bool first = true;
    for (const auto& l : labels) {
      out += fmt::format("{}{}=\"{}\"", first ? "" : ",", l.name, escaped(l.value));
      first = false;
    }
    if (!extra_name.empty()) out += fmt::format("{}{}=\"{}\"", first ? "" : ",", extra_name, extra_value);
    out += '}';
  }
  out += ' ';
  out += number(value);
  out += '\n';
}

}  // namespace

std::vector<MediaRange> parse_accept(std::string_view accept) {
  std::vector<MediaRange> out;
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    const auto semi = range.find(';');
    MediaRange m;
    m.type = trim_blanks(range.substr(0, semi));
    if (m.type.empty()) continue;
    for (std::string_view params = semi == std::string_view::npos ? std::string_view() : range.substr(semi + 1);
         !params.empty();) {
      const auto next = params.find(';');
      const std::string_view p = trim_blanks(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
      const auto eq = p.find('=');
      if (eq == std::string_view::npos) continue;
      const std::string_view key = trim_blanks(p.substr(0, eq)), value = trim_blanks(p.substr(eq + 1));
      if (iequals(key, "q")) {
        const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), m.q);
        if (ec != std::errc() || ptr != value.data() + value.size()) m.q = 0;  // unreadable: not acceptable
      } else if (iequals(key, "version")) {
        m.version = value;
      }
    }
    out.push_back(m);
  }
  return out;
}

bool accepts(std::string_view accept, std::string_view type) {
  if (trim_blanks(accept).empty()) return true;
  const std::string_view major = type.substr(0, type.find('/'));
  for (const auto& m : parse_accept(accept)) {
    if (!(m.q > 0)) continue;
    if (m.type == "*/*" || iequals(m.type, type)) return true;
    if (m.type.size() == major.size() + 2 && m.type.ends_with("/*") && iequals(m.type.substr(0, major.size()), major))
      return true;
  }
  return false;
}

bool wants_openmetrics(std::string_view accept) {
  double om = -1, text = -1;
  for (const auto& m : parse_accept(accept)) {
    if (!(m.q > 0)) continue;
    if (iequals(m.type, "application/openmetrics-text")) {
      if (m.version.empty() || m.version == "1.0.0" || m.version == "0.0.1") om = std::max(om, m.q);
    } else if (iequals(m.type, "text/plain") || iequals(m.type, "text/*") || m.type == "*/*") {
      text = std::max(text, m.q);
    }
  }
  return om > 0 && om >= text;
}

std::string openmetrics_text(const std::vector<prometheus::MetricFamily>& families) {
  std::string out;
  for (const auto& f : families) {
    std::string family = f.name;
    const char* type = "unknown";
    switch (f.type) {
      case prometheus::MetricType::Counter:
        type = "counter";
        if (family.size() > 6 && family.compare(family.size() - 6, 6, "_total") == 0) family.resize(family.size() - 6);
        break;
      case prometheus::MetricType::Gauge: type = "gauge"; break;
      case prometheus::MetricType::Summary: type = "summary"; break;
      case prometheus::MetricType::Histogram: type = "histogram"; break;
      case prometheus::MetricType::Untyped: type = "unknown"; break;
    }
    out += fmt::format("# TYPE {} {}\n", family, type);
    if (!f.help.empty()) out += fmt::format("# HELP {} {}\n", family, escaped(f.help));
    for (const auto& m : f.metric) {
      switch (f.type) {
        case prometheus::MetricType::Counter: sample(out, family + "_total", m.label, {}, {}, m.counter.value); break;
        case prometheus::MetricType::Gauge: sample(out, family, m.label, {}, {}, m.gauge.value); break;
        case prometheus::MetricType::Untyped: sample(out, family, m.label, {}, {}, m.untyped.value); break;
        case prometheus::MetricType::Summary:
          for (const auto& q : m.summary.quantile) sample(out, family, m.label, "quantile", number(q.quantile), q.value);
          sample(out, family + "_sum", m.label, {}, {}, m.summary.sample_sum);
          sample(out, family + "_count", m.label, {}, {}, static_cast<double>(m.summary.sample_count));
          break;
        case prometheus::MetricType::Histogram: {
          bool inf = false;
          for (const auto& b : m.histogram.bucket) {
            sample(out, family + "_bucket", m.label, "le", number(b.upper_bound), static_cast<double>(b.cumulative_count));
            inf = inf || std::isinf(b.upper_bound);
          }
          // OpenMetrics requires the +Inf bucket; prometheus-cpp writes it, a hand-made family may not.
          if (!inf) sample(out, family + "_bucket", m.label, "le", "+Inf", static_cast<double>(m.histogram.sample_count));
          sample(out, family + "_count", m.label, {}, {}, static_cast<double>(m.histogram.sample_count));
          sample(out, family + "_sum", m.label, {}, {}, m.histogram.sample_sum);
          break;
        }
      }
    }
  }
  out += "# EOF\n";
  return out;
}

Exposition exposition(const std::vector<prometheus::MetricFamily>& families, std::string_view accept) {
  if (wants_openmetrics(accept)) return {std::string(kOpenMetricsType), openmetrics_text(families)};
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, families);
  return {std::string(kPrometheusTextType), text.str()};
}

}  // namespace trackiq::server
