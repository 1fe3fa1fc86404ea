// pytest-benchmark --benchmark-json.
#include "common.hpp"

namespace trackiq::importers::detail {
namespace {

using Json = nlohmann::json;

std::vector<Result> import_pytest(std::string_view text, Context& c) {
  const JsonDoc doc(text, c.origin);
  const Json& root = doc.root();
  const Json& benches = doc.field(root, "benchmarks", 1, "$");
  if (!benches.is_array()) doc.fail(doc.line_of_key("benchmarks", 0), "$.benchmarks: expected an array");
  if (const auto dt = doc.opt_string(root, "datetime"); !dt.empty()) {
    // pytest-benchmark writes UTC without an offset
    if (auto utc = to_utc(dt.find_first_of("Z+") == std::string::npos ? dt + "Z" : dt); !utc.empty()) c.started_at = utc;
  }
  if (root.contains("machine_info") && root.at("machine_info").is_object()) {
    const Json& mi = root.at("machine_info");
    c.env.hostname = doc.opt_string(mi, "node");
    c.env.arch = doc.opt_string(mi, "machine");
    c.env.os = doc.opt_string(mi, "system");
    c.env.kernel = doc.opt_string(mi, "release");
    if (mi.contains("cpu") && mi.at("cpu").is_object()) {
      const Json& cpu = mi.at("cpu");
      c.env.cpu_model = doc.opt_string(cpu, "brand_raw");
      if (cpu.contains("count") && cpu.at("count").is_number_integer()) c.env.cpu_logical = cpu.at("count").get<std::uint32_t>();
    }
    if (c.env.cpu_model.empty()) c.env.cpu_model = doc.opt_string(mi, "processor");
  }
  update_fingerprint(c.env);
  fingerprint_from_host(c.env);
  std::string commit, branch;
  if (root.contains("commit_info") && root.at("commit_info").is_object()) {
    commit = doc.opt_string(root.at("commit_info"), "id");
    branch = doc.opt_string(root.at("commit_info"), "branch");
  }
  std::vector<Result> out;
  for (std::size_t i = 0; i < benches.size(); ++i) {
    const Json& b = benches[i];
    std::uint64_t line = doc.line_of_key("fullname", i);
    if (line == 1) line = doc.line_of_key("name", i);
    const std::string path = fmt::format("$.benchmarks[{}]", i);
    std::string name = doc.opt_string(b, "fullname");
    if (name.empty()) name = doc.string(b, "name", line, path);
    Result r = new_run(c, name);
    r.labels.commit = commit;
    r.labels.branch = branch;
    const Json& st = doc.field(b, "stats", line, path);
    const std::string sp = path + ".stats";
    if (st.contains("data") && st.at("data").is_array() && !st.at("data").empty()) {
      // Each round's time per iteration, in seconds.
      std::vector<std::int64_t> samples;
      for (std::size_t k = 0; k < st.at("data").size(); ++k) {
        const Json& v = st.at("data")[k];
        if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0)
          doc.fail(line, fmt::format("{}.data[{}]: expected a non-negative number of seconds", sp, k));
        samples.push_back(to_ns(v.get<double>(), 1e9, c.origin, line));
      }
      set_samples(r, samples);
    } else {
      set_metric(r, "latency_min_ms", doc.number(st, "min", line, sp) * 1e3);
      set_metric(r, "latency_max_ms", doc.number(st, "max", line, sp) * 1e3);
      set_metric(r, "latency_mean_ms", doc.number(st, "mean", line, sp) * 1e3);
      set_metric(r, "latency_p50_ms", doc.number(st, "median", line, sp) * 1e3);
      r.warnings.push_back("no per-round data in the file (--benchmark-save-data): summary statistics only");
      const auto rounds = to_count<std::uint32_t>(doc.number(st, "rounds", line, sp), c.origin, line, sp + ".rounds");
      r.scenario.iterations = rounds;
      // pytest-benchmark's stddev divides by n - 1; latency_std_ms is the population one.
      if (rounds >= 2) {
        const double n = rounds;
        r.metrics.push_back({"latency_std_ms", doc.number(st, "stddev", line, sp) * 1e3 * std::sqrt((n - 1) / n), ValueKind::kDerived});
      }
    }
    // ops = 1 / mean: sequential calls per second, derived from the mean.
    if (const auto ops = doc.opt_number(st, "ops", line, sp)) r.metrics.push_back({"throughput_queries_per_s", *ops, ValueKind::kDerived});
    out.push_back(std::move(r));
  }
  return out;
}


}  // namespace

int sniff_pytest(std::string_view head, std::string_view) {
  return head.find("\"benchmarks\"") != std::string_view::npos && head.find("\"stats\"") != std::string_view::npos && (head.find("\"fullname\"") != std::string_view::npos || head.find("\"rounds\"") != std::string_view::npos) ? 80 : 0;
}

extern const Format kPytestBenchmark{"pytest-benchmark",
                                     "--benchmark-json: stats.data become samples; else min/max/mean/stddev/median",
                                     sniff_pytest, import_pytest};

}  // namespace trackiq::importers::detail
