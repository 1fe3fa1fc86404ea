// Google Benchmark --benchmark_format=json / --benchmark_out.
#include "common.hpp"
#include <unordered_map>

namespace trackiq::importers::detail {
namespace {

using Json = nlohmann::json;

std::vector<Result> import_gbench(std::string_view text, Context& c) {
  const JsonDoc doc(text, c.origin);
  const Json& root = doc.root();
  const Json& ctx = doc.field(root, "context", 1, "$");
  const Json& benches = doc.field(root, "benchmarks", doc.line_of_key("benchmarks", 0), "$");
  if (!benches.is_array()) doc.fail(doc.line_of_key("benchmarks", 0), "$.benchmarks: expected an array");
  if (const auto date = doc.opt_string(ctx, "date"); !date.empty()) {
    if (auto utc = to_utc(date); !utc.empty()) c.started_at = utc;
  }
  c.env.hostname = doc.opt_string(ctx, "host_name");
  if (const auto n = doc.opt_number(ctx, "num_cpus", 1, "$.context")) c.env.cpu_logical = to_count<std::uint32_t>(*n, c.origin, 1, "$.context.num_cpus");
  // mhz_per_cpu is what the library read (a timer rate on some machines) and library_build_type
  // is Google Benchmark's own build: labels, not our environment fields.
  std::map<std::string, std::string> context_labels;
  if (const auto mhz = doc.opt_number(ctx, "mhz_per_cpu", 1, "$.context")) context_labels["gbench_mhz_per_cpu"] = fmt::format("{}", *mhz);
  if (const auto bt = doc.opt_string(ctx, "library_build_type"); !bt.empty()) context_labels["gbench_library_build_type"] = bt;
  update_fingerprint(c.env);
  fingerprint_from_host(c.env);

  struct Group {
    std::string name;
    std::uint64_t line = 1;
    std::vector<std::int64_t> samples;
    std::map<std::string, double> aggregates;  // mean, median, stddev, cv → ns (cv as is)
    std::uint64_t aggregate_repetitions = 0;    // n behind the aggregates
    std::vector<double> items_per_second;       // per repetition
    std::uint64_t errors = 0;
    std::string error_message;
    std::uint64_t iterations = 0;
  };
  std::vector<Group> groups;                          // in file order
  std::unordered_map<std::string, std::size_t> group_of;  // run name -> index in groups
  for (std::size_t i = 0; i < benches.size(); ++i) {
    const Json& b = benches[i];
    const std::uint64_t line = doc.line_of_key("name", i);
    const std::string path = fmt::format("$.benchmarks[{}]", i);
    const std::string name = doc.string(b, "name", line, path);
    std::string run_name = doc.opt_string(b, "run_name");
    std::string type = doc.opt_string(b, "run_type");
    std::string aggregate = doc.opt_string(b, "aggregate_name");
    if (type.empty()) {
      // Files before Google Benchmark 1.5 have no run_type: aggregates are named <run>_mean,
      // _median, _stddev, _cv after their repetitions.
      for (const char* suffix : {"_mean", "_median", "_stddev", "_cv"}) {
        const std::string sfx = suffix;
        if (name.size() > sfx.size() && name.ends_with(sfx)) {
          const std::string base = name.substr(0, name.size() - sfx.size());
          if (group_of.contains(base)) {
            type = "aggregate";
            aggregate = sfx.substr(1);
            run_name = base;
          }
        }
      }
    }
    if (run_name.empty()) run_name = name;
    const auto [slot, fresh] = group_of.try_emplace(run_name, groups.size());
    if (fresh) groups.push_back({run_name, line, {}, {}, 0, {}, 0, {}, 0});
    Group* it = &groups[slot->second];
    if (b.contains("error_occurred") && b.at("error_occurred").is_boolean() && b.at("error_occurred").get<bool>()) {
      ++it->errors;
      if (it->error_message.empty()) it->error_message = doc.opt_string(b, "error_message");
      continue;
    }
    const double scale = unit_to_ns(doc.string(b, "time_unit", line, path), doc, line, path);
    if (type == "aggregate") {
      const std::string agg = aggregate.empty() ? doc.string(b, "aggregate_name", line, path) : aggregate;
      const double v = doc.number(b, "real_time", line, path);
      // _cv rows carry a ratio in real_time (aggregate_unit "percentage"); the others are times.
      it->aggregates[agg] = agg == "cv" ? v : v * scale;
      if (const auto n = doc.opt_number(b, "repetitions", line, path))
        it->aggregate_repetitions = to_count<std::uint32_t>(*n, c.origin, line, path + ".repetitions");
      continue;
    }
    if (!type.empty() && type != "iteration") doc.fail(line, fmt::format("{}.run_type: unknown '{}'", path, type));
    const double real = doc.number(b, "real_time", line, path);
    if (real < 0) doc.fail(line, path + ".real_time: negative");
    it->samples.push_back(to_ns(real, scale, c.origin, line));
    it->iterations += to_count<std::uint32_t>(doc.opt_number(b, "iterations", line, path).value_or(0), c.origin, line,
                                              path + ".iterations");  // per repetition; < 2^32 in practice
    if (const auto ips = doc.opt_number(b, "items_per_second", line, path)) it->items_per_second.push_back(*ips);
  }
  if (groups.empty()) doc.fail(doc.line_of_key("benchmarks", 0), "$.benchmarks: no benchmarks in the file");
  std::vector<Result> out;
  for (auto& g : groups) {
    Result r = new_run(c, g.name);
    // Each repetition reports the mean time per iteration: with >= 2 repetitions these are a
    // sample of the benchmark's distribution; one value alone is only a mean.
    if (g.samples.size() >= 2) {
      set_samples(r, g.samples);
      r.warnings.push_back(fmt::format("{} repetitions: each sample is the mean of its repetition's iterations", g.samples.size()));
    } else if (g.samples.size() == 1) {
      set_metric(r, "latency_mean_ms", static_cast<double>(g.samples[0]) / 1e6);
      r.warnings.push_back("one repetition: its mean time per iteration only, no distribution (use --benchmark_repetitions)");
    }
    if (!r.latency) {
      if (auto a = g.aggregates.find("mean"); a != g.aggregates.end()) set_metric(r, "latency_mean_ms", a->second / 1e6);
      if (auto a = g.aggregates.find("median"); a != g.aggregates.end()) set_metric(r, "latency_p50_ms", a->second / 1e6);
      // Google Benchmark's stddev divides by n - 1; the registry's latency_std_ms is the
      // population one: scaled by sqrt((n - 1) / n) when n is known, else not imported.
      if (auto a = g.aggregates.find("stddev"); a != g.aggregates.end() && g.aggregate_repetitions >= 2) {
        const double n = static_cast<double>(g.aggregate_repetitions);
        r.metrics.push_back({"latency_std_ms", a->second / 1e6 * std::sqrt((n - 1) / n), ValueKind::kDerived});
      }
    }
    // items_per_second counts whatever the benchmark calls an item (bytes, rows, ...): kept as a
    // label (the mean over repetitions), not mapped to a throughput metric with another meaning.
    if (!g.items_per_second.empty()) {
      double sum = 0;
      for (const double v : g.items_per_second) sum += v;
      r.labels.extra["gbench_items_per_second"] = fmt::format("{}", sum / static_cast<double>(g.items_per_second.size()));
    }
    for (const auto& [k, v] : context_labels) r.labels.extra[k] = v;
    if (g.iterations) r.scenario.iterations = g.iterations;
    if (g.errors) {
      r.errors.total = g.errors;
      r.errors.by_class["benchmark_error"] = g.errors;
      if (!g.error_message.empty()) r.errors.examples.push_back(g.error_message);
      set_metric(r, "errors_total", static_cast<double>(g.errors));
    }
    if (r.metrics.empty()) doc.fail(g.line, fmt::format("benchmark '{}' has no time to import", g.name));
    out.push_back(std::move(r));
  }
  return out;
}


}  // namespace

int sniff_gbench(std::string_view head, std::string_view) {
  return head.find("\"context\"") != std::string_view::npos && head.find("\"benchmarks\"") != std::string_view::npos && (head.find("\"num_cpus\"") != std::string_view::npos || head.find("\"library_build_type\"") != std::string_view::npos) ? 80 : 0;
}

extern const Format kGbench{"gbench",
                            "Google Benchmark JSON: repetitions become samples (each the mean time per iteration of one "
                            "repetition); aggregates only -> mean/median/stddev",
                            sniff_gbench, import_gbench};

}  // namespace trackiq::importers::detail
