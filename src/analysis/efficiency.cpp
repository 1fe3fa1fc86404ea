// `trackiq analyze efficiency` (ANA-3): energy figures of runs from measured power only.
#include "trackiq/analysis/efficiency.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/core/error.hpp"

namespace trackiq::analysis {
namespace {

// A metric's value when it was measured or derived from measurements (never estimated).
std::optional<double> measured(const Result& r, const char* name) {
  for (const auto& m : r.metrics)
    if (m.name == name && m.kind != ValueKind::kEstimated && std::isfinite(m.value)) return m.value;
  return std::nullopt;
}

bool estimated(const Result& r, const char* name) {
  for (const auto& m : r.metrics)
    if (m.name == name && m.kind == ValueKind::kEstimated) return true;
  return false;
}

std::string label_of(const Result& r) {
  if (const auto it = r.labels.extra.find("sweep_point"); it != r.labels.extra.end()) return it->second;
  std::string l = fmt::format("batch={}", r.workload.batch_size);
  if (!r.workload.precision.empty()) l += " " + r.workload.precision;
  if (r.workload.threads > 0) l += fmt::format(" threads={}", r.workload.threads);
  return l;
}

constexpr double kJoulesPerKwh = 3.6e6;

}  // namespace

EfficiencyReport analyze_efficiency(const std::vector<Result>& runs, std::optional<double> price) {
  if (runs.empty()) throw InputError("analyze efficiency: no runs");
  if (price && !(*price >= 0 && std::isfinite(*price)))
    throw InputError(fmt::format("--price-per-kwh {}: not a price >= 0", *price));
  EfficiencyReport e;
  e.price_per_kwh = price;
  for (const auto& r : runs) {
    EfficiencyRow row;
    row.run_id = r.run_id;
    row.label = label_of(r);
    row.batch = r.workload.batch_size;
    if (const auto s = measured(r, "throughput_samples_per_s")) {
      row.throughput = *s;
      row.throughput_from = "throughput_samples_per_s";
    } else if (const auto q = measured(r, "throughput_queries_per_s")) {
      row.throughput = *q * r.workload.batch_size;
      row.throughput_from = r.workload.batch_size == 1 ? "throughput_queries_per_s"
                                                       : "throughput_queries_per_s x batch";
    } else if (const auto rq = measured(r, "request_throughput")) {
      row.throughput = *rq;
      row.throughput_from = "request_throughput";
    }
    row.latency_p99_ms = measured(r, "latency_p99_ms");
    row.power_w = measured(r, "power_avg_w");
    if (const auto j = measured(r, "energy_per_inference_j")) {
      row.joules_per_inference = *j;
    } else if (row.power_w && row.throughput > 0) {
      row.joules_per_inference = *row.power_w / row.throughput;  // W / (inferences/s) = J per inference
    }
    if (row.joules_per_inference && *row.joules_per_inference > 0) {
      row.inferences_per_joule = 1.0 / *row.joules_per_inference;
      if (price) row.cost_per_million = *row.joules_per_inference * 1e6 / kJoulesPerKwh * *price;
    } else if (estimated(r, "power_avg_w") || estimated(r, "energy_j")) {
      row.not_available = "not available: the run's power is estimated, not measured";
    } else if (row.throughput <= 0) {
      row.not_available = "not available: the run has no throughput";
    } else {
      row.not_available = "not available: no measured power (no power channel in the run's telemetry)";
    }
    e.rows.push_back(std::move(row));
  }
  // Pareto front: no other run has at least the throughput and at most the energy per inference,
  // with one of the two strictly better.
  for (std::size_t i = 0; i < e.rows.size(); ++i) {
    auto& a = e.rows[i];
    if (!a.joules_per_inference) continue;
    bool dominated = false;
    for (std::size_t k = 0; k < e.rows.size() && !dominated; ++k) {
      const auto& b = e.rows[k];
      if (k == i || !b.joules_per_inference) continue;
      dominated = b.throughput >= a.throughput && *b.joules_per_inference <= *a.joules_per_inference &&
                  (b.throughput > a.throughput || *b.joules_per_inference < *a.joules_per_inference);
    }
    a.pareto = !dominated;
    if (!e.most_efficient || *a.inferences_per_joule > *e.rows[*e.most_efficient].inferences_per_joule) e.most_efficient = i;
  }
  for (std::size_t i = 0; i < e.rows.size(); ++i)
    if (e.rows[i].throughput > 0 && (!e.fastest || e.rows[i].throughput > e.rows[*e.fastest].throughput)) e.fastest = i;
  const auto synthetic = std::count_if(runs.begin(), runs.end(), [](const Result& r) { return r.workload.synthetic; });
  if (synthetic > 0)
    e.notes.push_back(fmt::format("SYNTHETIC WORKLOAD ({} of {} runs): these numbers do not measure a model", synthetic,
                                  runs.size()));
  if (!e.most_efficient) e.notes.push_back("performance per watt: not available: no run has measured power");
  return e;
}

std::string render_efficiency(const EfficiencyReport& e) {
  auto opt = [](const std::optional<double>& v, const char* f) { return v ? fmt::format(fmt::runtime(f), *v) : std::string("-"); };
  std::string out = fmt::format("{:<24} {:<10} {:>12} {:>10} {:>9} {:>13} {:>12}{}  {}\n", "config", "run", "inf/s",
                                "p99 ms", "power W", "J/inference", "inf/J", e.price_per_kwh ? fmt::format(" {:>12}", "cost/1M") : "",
                                "pareto");
  for (const auto& r : e.rows) {
    out += fmt::format("{:<24} {:<10} {:>12.4g} {:>10} {:>9} {:>13} {:>12}{}  {}\n", r.label.substr(0, 24), r.run_id.substr(0, 8),
                       r.throughput, opt(r.latency_p99_ms, "{:.4g}"), opt(r.power_w, "{:.4g}"),
                       opt(r.joules_per_inference, "{:.4g}"), opt(r.inferences_per_joule, "{:.4g}"),
                       e.price_per_kwh ? fmt::format(" {:>12}", opt(r.cost_per_million, "{:.4g}")) : "",
                       r.pareto ? "*" : "");
    if (!r.not_available.empty()) out += fmt::format("  {}: {}\n", r.label, r.not_available);
  }
  if (e.most_efficient) {
    const auto& b = e.rows[*e.most_efficient];
    out += fmt::format("most efficient: {} ({:.4g} inferences/J, {:.4g} J/inference)\n", b.label, *b.inferences_per_joule,
                       *b.joules_per_inference);
  }
  if (e.fastest) out += fmt::format("fastest: {} ({:.4g} inferences/s)\n", e.rows[*e.fastest].label, e.rows[*e.fastest].throughput);
  if (e.price_per_kwh) out += fmt::format("cost per 1M inferences at {:g} per kWh\n", *e.price_per_kwh);
  out += "pareto (*): no other run has at least the throughput at no more energy per inference\n";
  for (const auto& n : e.notes) out += "note: " + n + "\n";
  return out;
}

std::string efficiency_json(const EfficiencyReport& e) {
  using Json = nlohmann::ordered_json;
  auto opt = [](const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); };
  Json rows = Json::array();
  for (const auto& r : e.rows)
    rows.push_back({{"run_id", r.run_id},
                    {"label", r.label},
                    {"batch", r.batch},
                    {"throughput", r.throughput},
                    {"throughput_from", r.throughput_from},
                    {"latency_p99_ms", opt(r.latency_p99_ms)},
                    {"power_w", opt(r.power_w)},
                    {"joules_per_inference", opt(r.joules_per_inference)},
                    {"inferences_per_joule", opt(r.inferences_per_joule)},
                    {"cost_per_million", opt(r.cost_per_million)},
                    {"pareto", r.pareto},
                    {"not_available", r.not_available.empty() ? Json(nullptr) : Json(r.not_available)}});
  auto idx = [&](const std::optional<std::size_t>& i) { return i ? Json(e.rows[*i].run_id) : Json(nullptr); };
  Json j{{"rows", rows},
         {"price_per_kwh", opt(e.price_per_kwh)},
         {"most_efficient", idx(e.most_efficient)},
         {"fastest", idx(e.fastest)},
         {"notes", e.notes}};
  return j.dump(2);
}

}  // namespace trackiq::analysis
