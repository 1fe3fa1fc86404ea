// trackiq import FILE --format F: other tools' results into the store (STORE-4).
#include <algorithm>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_util.hpp"
#include "commands.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/importers/importers.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::cli {
namespace {

struct ImportFlags {
  std::string file, format, store, product, version, machine;
  std::vector<std::string> maps, labels, columns;
  bool json = false, allow_duplicate = false;
};

int import_runs(const ImportFlags& f) {
  importers::ImportOptions o;
  o.product = f.product;
  o.machine = f.machine;
  o.version = f.version;
  for (const auto& l : f.labels) o.labels.insert(key_value(l, "--label"));
  for (const auto& m : f.maps) o.map.push_back(key_value(m, "--map"));
  o.columns = f.columns;
  const std::string text = importers::read_file(f.file);
  std::string_view format;
  if (f.format.empty()) {
    format = importers::detect_format(text, f.file);
    // On stderr, so --json output stays one document.
    fmt::print(stderr, "{}: detected format {} (give --format to choose another)\n", f.file, format);
  } else {
    format = importers::parse_import_format(f.format);
  }
  // The whole file is parsed before the store is touched; then one transaction stores it all.
  const auto runs = importers::import_text(text, f.file, format, o);
  auto st = store::open_store(f.store);
  if (!f.allow_duplicate && !runs.empty()) {
    store::RunFilter same;
    same.labels = {{"import_hash", runs.front().labels.extra.at("import_hash")}};
    same.limit = 1;
    if (const auto prior = st->list(same); !prior.empty())
      throw InputError(fmt::format("{}: this file (content hash {}) was already imported as run {} on {}; nothing stored "
                                   "(--allow-duplicate imports it again)",
                                   f.file, same.labels.front().second, prior.front().run_id, prior.front().started_at));
  }
  st->save_all(runs);
  // What the runs say about themselves (an unknown machine, skipped lines, a converted standard
  // deviation): on stderr now, each once, not only in `runs show` later.
  std::vector<std::string> said;
  for (const auto& r : runs)
    for (const auto& w : r.warnings)
      if (std::find(said.begin(), said.end(), w) == said.end()) said.push_back(w);
  constexpr std::size_t kShown = 20;
  for (std::size_t i = 0; i < std::min(said.size(), kShown); ++i) fmt::print(stderr, "warning: {}\n", said[i]);
  if (said.size() > kShown)
    fmt::print(stderr, "warning: ... and {} more (trackiq runs show RUN lists a run's warnings)\n", said.size() - kShown);
  if (f.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : runs)
      out.push_back({{"run_id", r.run_id},
                     {"benchmark", r.workload.model},
                     {"samples", r.latency ? r.latency->samples_ns.size() : 0},
                     {"metrics", r.metrics.size()}});
    std::cout << out.dump(2) << "\n";
  } else {
    fmt::print("imported {} run{} from {} ({}) into {}\n", runs.size(), runs.size() == 1 ? "" : "s", f.file, format,
               st->location());
    fmt::print("{:<36}  {:>8}  {}\n", "run id", "samples", "benchmark");
    for (const auto& r : runs)
      fmt::print("{:<36}  {:>8}  {}\n", r.run_id, r.latency ? r.latency->samples_ns.size() : 0, r.workload.model);
  }
  return kExitOk;
}

}  // namespace

Action setup_import(CLI::App& sub) {
  auto f = std::make_shared<ImportFlags>();
  std::string formats;
  for (const auto& fi : importers::formats()) {
    // The summary wrapped at 100 columns, under its name.
    std::string line = fmt::format("  {:<17}", fi.name);
    std::string_view rest = fi.summary;
    while (!rest.empty()) {
      std::size_t take = rest.size();
      if (line.size() + 1 + take > 100) {
        take = rest.rfind(' ', 100 - line.size() - 1);
        if (take == std::string_view::npos || take == 0) take = std::min(rest.size(), std::size_t{60});
      }
      formats += line + " " + std::string(rest.substr(0, take)) + "\n";
      rest.remove_prefix(take);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      line = std::string(19, ' ');
    }
  }
  sub.footer(
      "Import another tool's results as runs in the store: one run per benchmark in the file, with its\n"
      "raw samples where the file has them (so `trackiq compare` tests significance on them), else the\n"
      "file's summary statistics (compare then uses thresholds only, and says so).\n"
      "Without --format the format is detected from the file's content (and name), and the choice is\n"
      "printed on stderr; a file no format recognises, or two recognise equally, needs --format.\n"
      "Formats:\n" +
      formats +
      "Values keep their meaning: a tool's sample stddev (n - 1) becomes the population latency_std_ms\n"
      "(marked derived; a label where n is not in the file); values with no registry name (Google\n"
      "Benchmark items_per_second, MLPerf extras, k6 p(99.99), Locust 66%) stay <format>_* labels.\n"
      "Hardware comes from the file's machine description; a file naming only the host (Google\n"
      "Benchmark) is fingerprinted by host name and CPU count, and a file saying nothing gets a\n"
      "warning: its runs share the fingerprint of an unknown machine, and with it their series, whatever\n"
      "machine made them. --machine here (this machine) or --machine NAME (fingerprint from the name)\n"
      "says which, instead of the file.\n"
      "A bad file gives file:line: what (exit 2) and nothing is stored: the file is parsed whole first,\n"
      "then saved in one transaction. Runs are labelled imported_from, source, benchmark and\n"
      "import_hash (the file's content hash): importing the same bytes again is refused (exit 2)\n"
      "unless --allow-duplicate.\n\n"
      "Examples:\n"
      "  trackiq import bench.json --product arrow --version 9.0     # format detected\n"
      "  trackiq import bench.json --format gbench --product arrow --version 9.0\n"
      "  trackiq import hyperfine.json --format hyperfine --machine ci-7\n"
      "  trackiq import mlperf_log_summary.txt --format mlperf --product resnet50\n"
      "  trackiq import summary.json --format k6              # --summary-export / handleSummary\n"
      "  trackiq import run_stats.csv --format locust\n"
      "  trackiq import target/criterion/fib/new/estimates.json\n"
      "  trackiq import times.json --format trtexec           # --exportTimes or --exportProfile\n"
      "  trackiq import result.json --format vllm             # vllm bench serve --save-result\n"
      "  trackiq import requests.csv --format csv --map latency_ms=duration --map throughput_queries_per_s=rps");
  sub.add_option("file", f->file, "The file to import")->required();
  sub.add_option("--format", f->format, "The file's format (see below); detected when not given");
  sub.add_option("--map", f->maps, "csv: METRIC=COLUMN; json: METRIC='JSONPATH'; repeatable");
  sub.add_option("--columns", f->columns,
                 "nvidia-smi --format=csv,noheader output: the --query-gpu field list, e.g. index,utilization.gpu,memory.used")
      ->delimiter(',');
  sub.add_option("--product", f->product, "Product label");
  sub.add_option("--version", f->version, "Version label");
  sub.add_option("--label", f->labels, "KEY=VALUE label; repeatable");
  sub.add_option("--machine", f->machine,
                 "The machine the file was made on, instead of the file's description: 'here' (this machine) or a "
                 "NAME (hardware fingerprint from the name); label machine=...");
  sub.add_option("--store", f->store, cli::kStoreHelp);
  sub.add_flag("--json", f->json, "Print the imported runs as JSON");
  sub.add_flag("--allow-duplicate", f->allow_duplicate, "Import a file whose content was imported before");
  return [f] { return import_runs(*f); };
}

}  // namespace trackiq::cli
