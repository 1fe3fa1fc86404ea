// MLPerf LoadGen mlperf_log_summary.txt / mlperf_log_detail.txt.
#include "common.hpp"

namespace trackiq::importers::detail {
namespace {

using Json = nlohmann::json;

std::string mlperf_scenario(const std::string& s, const std::string& origin, std::uint64_t line) {
  if (s == "Server") return "server";
  if (s == "Offline") return "offline";
  if (s == "SingleStream") return "single-stream";
  if (s == "MultiStream") return "multi-stream";
  throw InputError(origin, line, fmt::format("unknown MLPerf scenario '{}'", s));
}


void mlperf_metric(Result& r, const std::string& key, double v) {
  // LoadGen's own names → registry metrics (latencies in ns → ms).
  static const std::pair<const char*, const char*> kLatency[] = {
      {"min", "latency_min_ms"},   {"max", "latency_max_ms"},   {"mean", "latency_mean_ms"},
      {"50.00", "latency_p50_ms"}, {"90.00", "latency_p90_ms"}, {"95.00", "latency_p95_ms"},
      {"99.00", "latency_p99_ms"}, {"99.90", "latency_p99_9_ms"}};
  for (const auto& [k, m] : kLatency)
    if (key == k) set_metric(r, m, v / 1e6);
}

std::vector<Result> import_mlperf(std::string_view text, Context& c) {
  update_fingerprint(c.env);
  Result r = new_run(c, "mlperf");
  std::string scenario, sut, validity;
  std::uint64_t scenario_line = 1;
  std::optional<double> target_qps;
  std::uint32_t samples_per_query = 1;
  std::istringstream in{std::string(text)};
  std::string raw;
  std::uint64_t line = 0;
  bool detail = false, any = false;
  while (std::getline(in, raw)) {
    ++line;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    if (raw.rfind(":::MLLOG ", 0) == 0) {
      detail = any = true;
      Json j;
      try {
        j = Json::parse(raw.substr(9));
      } catch (const Json::exception& e) {  // parse_error, or out_of_range for a number too large
        throw InputError(c.origin, line, std::string("bad :::MLLOG JSON: ") + e.what());
      }
      if (!j.is_object() || !j.contains("key") || !j.at("key").is_string() || !j.contains("value"))
        throw InputError(c.origin, line, ":::MLLOG entry without \"key\" and \"value\"");
      const std::string key = j.at("key").get<std::string>();
      const Json& v = j.at("value");
      auto num = [&]() {
        if (!v.is_number()) throw InputError(c.origin, line, fmt::format("{}: expected a number", key));
        return v.get<double>();
      };
      if (key == "requested_scenario" || key == "effective_scenario") {
        if (!v.is_string()) throw InputError(c.origin, line, key + ": expected a string");
        scenario = v.get<std::string>();
        scenario_line = line;
      } else if (key == "sut_name" && v.is_string()) {
        sut = v.get<std::string>();
      } else if (key == "test_datetime" && v.is_string()) {
        if (auto utc = to_utc(v.get<std::string>()); !utc.empty()) r.started_at = r.finished_at = utc;
      } else if (key == "result_validity" && v.is_string()) {
        validity = v.get<std::string>();
      } else if (key == "result_completed_samples_per_sec" || key == "result_samples_per_second") {
        set_metric(r, "throughput_samples_per_s", num());
      } else if (key == "result_scheduled_samples_per_sec") {
        set_metric(r, "qps_scheduled", num());
      } else if (key == "result_query_count") {
        set_metric(r, "queries_total", num());
      } else if (key.starts_with("result_") && key.ends_with("_latency_ns") && key.size() > 18) {
        std::string what = key.substr(7, key.size() - 18);  // result_<what>_latency_ns
        if (what.ends_with("_percentile")) what.resize(what.size() - 11);
        mlperf_metric(r, what, num());
      }
      continue;
    }
    if (const auto w = raw.find(" warnings encountered"); w != std::string::npos && w > 0) {
      r.labels.extra["mlperf_warnings"] = raw.substr(0, w);
      continue;
    }
    const auto colon = raw.find(':');
    if (colon == std::string::npos) continue;  // banners, blank lines, prose
    auto trim = [](std::string s) {
      const auto b = s.find_first_not_of(" \t*");
      const auto e = s.find_last_not_of(" \t");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    std::string key = trim(raw.substr(0, colon)), value = trim(raw.substr(colon + 1));
    if (key == "Scenario") {
      scenario = value;
      scenario_line = line;
      any = true;
    } else if (key == "SUT name") {
      sut = value;
    } else if (key == "Result is") {
      validity = value;
    } else if (key == "Completed samples per second" || key == "Samples per second") {
      set_metric(r, "throughput_samples_per_s", parse_number(value, c.origin, line, key));
    } else if (key == "Completed tokens per second" || key == "Tokens per second") {
      r.labels.extra["mlperf_tokens_per_s"] = value;
    } else if (key == "Scheduled samples per second") {
      set_metric(r, "qps_scheduled", parse_number(value, c.origin, line, key));
    } else if (key == "target_qps") {
      target_qps = parse_number(value, c.origin, line, key);
      r.labels.extra["mlperf_target_qps"] = value;
    } else if (key == "samples_per_query") {
      samples_per_query = to_count<std::uint32_t>(parse_number(value, c.origin, line, key), c.origin, line, key);

    } else if (key.ends_with(" latency (ns)")) {
      std::string what = trim(key.substr(0, key.size() - 13));
      if (what.ends_with(" percentile")) what.resize(what.size() - 11);
      std::transform(what.begin(), what.end(), what.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      mlperf_metric(r, what, parse_number(value, c.origin, line, key));
    }
  }
  if (!any) throw InputError(c.origin, line ? line : 1, "not an MLPerf LoadGen summary or detail log (no 'Scenario' line, no :::MLLOG)");
  if (scenario.empty()) throw InputError(c.origin, 1, "no scenario in the log");
  r.scenario.name = mlperf_scenario(scenario, c.origin, scenario_line);
  // As in our results: a target rate only for the server scenario, samples per query only for
  // multi-stream (the other scenarios' values stay in the mlperf_* labels).
  if (r.scenario.name == "server") r.scenario.qps = target_qps;
  if (r.scenario.name == "multi-stream") r.scenario.samples_per_query = samples_per_query;
  r.workload.model = sut.empty() ? "mlperf" : sut;
  r.labels.extra["benchmark"] = r.workload.model;
  r.labels.extra["mlperf_scenario"] = scenario;
  r.labels.extra["mlperf_log"] = detail ? "detail" : "summary";
  if (!validity.empty()) {
    r.labels.extra["mlperf_result_validity"] = validity;
    if (validity != "VALID") r.warnings.push_back("MLPerf says the result is " + validity);
  }
  if (r.metrics.empty()) throw InputError(c.origin, 1, "no results in the log (is it an accuracy-only run?)");
  return {std::move(r)};
}


}  // namespace

int sniff_mlperf(std::string_view head, std::string_view) {
  if (head.find(":::MLLOG ") != std::string_view::npos) return 90;
  return head.find("MLPerf Results Summary") != std::string_view::npos || (head.find("SUT name") != std::string_view::npos && head.find("Scenario") != std::string_view::npos) ? 90 : 0;
}

extern const Format kMlperf{"mlperf",
                            "LoadGen mlperf_log_summary.txt or mlperf_log_detail.txt: scenario, samples/s, latency "
                            "min/mean/max/p50/p90/p95/p99/p99.9 (one run)",
                            sniff_mlperf, import_mlperf};

}  // namespace trackiq::importers::detail
