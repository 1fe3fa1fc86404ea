// The "at a glance" cards of a report (glance.hpp).
#include "glance.hpp"

#include <fmt/format.h>

namespace trackiq::report {
namespace {

GlanceCard metric_card(const Result& r, std::string label, std::string metric, std::string unit, std::string why) {
  GlanceCard c{std::move(label), std::move(metric), std::nullopt, std::move(unit), ""};
  c.value = r.metric_value(c.metric);
  if (!c.value) c.missing = "not available: " + why;
  return c;
}

}  // namespace

bool is_llm_serving(const Result& r) {
  if (const auto it = r.workload.options.find("api"); it != r.workload.options.end() && it->second.rfind("openai", 0) == 0)
    return true;
  return r.metric_value("median_ttft_ms").has_value();
}

std::string llm_token_latency_family(const Result& r) {
  if (r.metric_value("median_tpot_ms")) return "tpot";
  if (r.metric_value("median_itl_ms")) return "itl";
  return "tpot";
}

Glance at_a_glance(const Result& r) {
  Glance g;
  const std::string no_output = "no request completed with output";
  if (is_llm_serving(r)) {
    g.llm = true;
    const std::string tok = llm_token_latency_family(r);
    const std::string tok_label = tok == "itl" ? "ITL" : "TPOT";
    const std::string tok_why = tok == "itl" ? no_output : "no request produced two or more output tokens";
    g.cards = {
        metric_card(r, "TTFT p50", "median_ttft_ms", "ms", no_output),
        metric_card(r, "TTFT p99", "p99_ttft_ms", "ms", no_output),
        metric_card(r, tok_label + " p50", fmt::format("median_{}_ms", tok), "ms", tok_why),
        metric_card(r, tok_label + " p99", fmt::format("p99_{}_ms", tok), "ms", tok_why),
        metric_card(r, "E2EL p50", "median_e2el_ms", "ms", no_output),
        metric_card(r, "E2EL p99", "p99_e2el_ms", "ms", no_output),
        metric_card(r, "output tokens/s", "output_throughput", "tok/s", "the run had no measured duration"),
        metric_card(r, "goodput", "request_goodput", "req/s", "no --slo was given"),
        metric_card(r, "requests/s", "request_throughput", "req/s", "the run had no measured duration"),
        GlanceCard{"errors", "", static_cast<double>(r.errors.total), "", ""},
    };
    return g;
  }
  std::optional<double> cv = r.metric_value("latency_cv");
  if (!cv && r.latency) cv = r.latency->summary_ns.cv;
  std::optional<double> samples;
  if (r.latency)
    samples = static_cast<double>(r.latency->samples_ns.empty() ? r.latency->summary_ns.count : r.latency->samples_ns.size());
  g.cards = {
      metric_card(r, "p50 latency", "latency_p50_ms", "ms", "no latency in this run"),
      metric_card(r, "p99 latency", "latency_p99_ms", "ms", "no latency in this run"),
      metric_card(r, "mean latency", "latency_mean_ms", "ms", "no latency in this run"),
      metric_card(r, "throughput", "throughput_samples_per_s", "/s", "no throughput in this run"),
      GlanceCard{"errors", "", static_cast<double>(r.errors.total), "", ""},
      GlanceCard{"CV", "latency_cv", cv, "", cv ? "" : "not available: no latency in this run"},
      GlanceCard{"samples", "", samples, "", samples ? "" : "not available: no latency in this run"},
  };
  return g;
}

}  // namespace trackiq::report
