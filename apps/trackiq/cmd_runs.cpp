// trackiq runs list|show|export|rm: the results store (STORE-3).
#include <iostream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_util.hpp"
#include "commands.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/importers/importers.hpp"
#include "trackiq/load/load_result.hpp"
#include "trackiq/report/console.hpp"
#include "trackiq/server/history_json.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::cli {
namespace {

// trackiq runs import FILE...: canonical results into the store, as serve's POST /api/v1/runs
// takes them. Everything is read and checked before the store is written.
int import_results(const std::vector<std::string>& files, const std::string& location, bool json) {
  if (files.empty()) throw InputError("runs import: which files? (result JSON: trackiq run --json FILE, runs export)");
  std::vector<Result> runs;
  std::vector<std::string> origin;  // the file of each run, for messages
  std::map<std::string, std::string> seen;  // run id -> file
  for (const auto& file : files) {
    const std::string text = importers::read_file(file);
    std::vector<Result> in = results_from_json(text, file);
    if (in.empty()) throw InputError(file, 1, "an empty array: no result to import");
    for (auto& r : in) {
      if (!store::is_run_id_prefix(r.run_id))
        throw InputError(file, 1, fmt::format("run_id '{}' is not a run id", r.run_id));
      if (const auto [it, fresh] = seen.emplace(r.run_id, file); !fresh)
        throw InputError(file, 1, fmt::format("run {} is also in {}; nothing stored", r.run_id, it->second));
      runs.push_back(std::move(r));
      origin.push_back(file);
    }
  }
  auto st = store::open_store(location);
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (const auto why = store::duplicate_of(*st, runs[i]))
      throw InputError(fmt::format("{}: {}; nothing stored", origin[i], *why));
  st->save_all(runs);
  if (json) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < runs.size(); ++i)
      a.push_back({{"run_id", runs[i].run_id}, {"file", origin[i]},
                   {"samples", runs[i].latency ? runs[i].latency->samples_ns.size() : 0}});
    std::cout << a.dump(2) << "\n";
    return kExitOk;
  }
  fmt::print("imported {} run{} from {} file{} into {}\n", runs.size(), runs.size() == 1 ? "" : "s", files.size(),
             files.size() == 1 ? "" : "s", st->location());
  fmt::print("{:<36}  {:>8}  {}\n", "run id", "samples", "file");
  for (std::size_t i = 0; i < runs.size(); ++i)
    fmt::print("{:<36}  {:>8}  {}\n", runs[i].run_id, runs[i].latency ? runs[i].latency->samples_ns.size() : 0,
               origin[i]);
  return kExitOk;
}

}  // namespace

Action setup_runs(CLI::App& sub) {
  struct Flags {
    std::string action;
    std::vector<std::string> args;  // the run id (show, export, rm) or the files (import)
    std::string id;
    std::string store;
    std::string product, hardware, since, until, output, group;
    std::vector<std::string> labels, from;
    std::size_t limit = 50;
    bool json = false;
    bool with_baselines = false;
  };
  auto f = std::make_shared<Flags>();
  sub.footer(
      "The results store: every trackiq run, with its metrics and exact latency samples.\n\n"
      "  list     newest first; filters: --product, --hardware (fingerprint prefix), --label k=v, --since, --until;\n"
      "           'latencies' counts the exact per-query latencies kept (a query of batch 8 is one)\n"
      "  show ID  the run's summary (ID may be a unique prefix of the run id)\n"
      "  export ID  the canonical result JSON, with every latency sample (-o FILE, default stdout)\n"
      "  rm ID    delete the run; the run of a baseline is refused (exit 2, naming the baselines) unless\n"
      "           --with-baselines, which deletes those baselines too\n"
      "  import FILE...  store result JSON files (`runs export`: every sample; `run --json`, `load --json`: the\n"
      "           lossless histogram; a file may hold an array) as they are, with the same run ids, so runs move\n"
      "           between stores and `compare ID1 ID2` gives the same verdict in either. All files\n"
      "           are read first and stored in one transaction; a bad file (file:line: what), a run id stored\n"
      "           already or twice in the files, or another tool's file imported before (import_hash) stores\n"
      "           nothing (exit 2)\n"
      "  merge --group NAME  merge the runs of `trackiq load --shard K/N --group NAME` (client K of N) into one\n"
      "           stored run (label merged_from=\"N runs\"; -o FILE also writes its JSON): latency percentiles from\n"
      "           every request's exact sample, rates (achieved, offered, token, goodput) summed, counts and errors\n"
      "           by class summed, error_rate recomputed, wall time the longest client's. Refused (exit 2) when a\n"
      "           shard is missing or there twice, or the runs have different shard counts N. --from FILE\n"
      "           (repeatable) reads the clients' `load --json` files instead of the store\n\n"
      "Examples:\n"
      "  trackiq runs list --product detector --since 2026-11-01\n"
      "  trackiq runs show 3f2a\n"
      "  trackiq runs export 3f2a -o run.json\n"
      "  trackiq runs rm 3f2a\n"
      "  trackiq runs import run.json other.json --store postgresql://ci@db/trackiq\n"
      "  trackiq runs merge --group soak-42 -o merged.json");
  sub.add_option("action", f->action, "list, show, export, rm, import or merge")
      ->required()
      ->check(CLI::IsMember({"list", "show", "export", "rm", "import", "merge"}));
  sub.add_option("id", f->args, "Run id or a unique prefix (show, export, rm); import: the result JSON files");
  sub.add_option("--store", f->store, cli::kStoreHelp);
  sub.add_option("--product", f->product, "list: only this product");
  sub.add_option("--hardware", f->hardware, "list: only this hardware fingerprint (or prefix)");
  sub.add_option("--label", f->labels,
                 "list: only runs with label KEY=VALUE (product, version, branch, commit: a prefix of the SHA, or any "
                 "other label); repeatable");
  sub.add_option("--since", f->since, "list: started at or after (UTC: 2026-11-01 or 2026-11-01T10:00:00Z; a bad date exits 2)");
  sub.add_option("--until", f->until, "list: started before (UTC, as --since)");
  sub.add_option("--limit", f->limit, "list: at most N runs (0 = all)")->capture_default_str();
  sub.add_option("--output,-o", f->output, "export, merge: write the result JSON to FILE");
  sub.add_flag("--with-baselines", f->with_baselines,
               "rm: also delete the baselines that point at the run (without it, such a run is refused)");
  sub.add_option("--from", f->from,
                 "merge: read the shards from these result JSON files (each client's `load --json FILE`) instead of the "
                 "store; repeatable")
      ->check(CLI::ExistingFile);
  sub.add_option("--group", f->group, "merge: the group of sharded load runs (trackiq load --shard K/N --group NAME)");
  sub.add_flag("--json", f->json, "list/show/import: print JSON");
  return [f] {
    if (f->action == "import") return import_results(f->args, f->store, f->json);
    if (f->args.size() > 1)
      throw InputError(fmt::format("runs {}: one run id, not {} ('{}' and '{}')", f->action, f->args.size(), f->args[0],
                                   f->args[1]));
    if (!f->args.empty()) f->id = f->args.front();
    auto st = store::open_store(f->store);
    if (f->action == "merge") {
      if (f->group.empty()) throw InputError("runs merge: which group? give --group NAME (trackiq load --shard K/N --group NAME)");
      store::RunFilter filter;
      filter.limit = 0;
      filter.labels.emplace_back("group", f->group);
      std::vector<Result> shards;
      for (const auto& path : f->from)
        for (auto& r : results_from_json(read_text_file(path), path)) shards.push_back(std::move(r));
      if (f->from.empty())
        for (const auto& s : st->list(filter)) {
          Result r = st->load(s.run_id);
          if (r.labels.extra.count("merged_from")) continue;  // an earlier merge of this group
          shards.push_back(std::move(r));
        }
      if (shards.empty())
        throw InputError(fmt::format("runs merge: no runs of group '{}' in {}", f->group, st->location()));
      const Result merged = load::merge_shards(shards, f->group);
      st->save(merged);
      std::cout << report::render_console(merged);
      std::cout << fmt::format("merged     {} runs of group {}\nstored     run {} in {}\n", shards.size(), f->group,
                               merged.run_id, st->location());
      if (!f->output.empty()) write_file_atomic(f->output, to_json(merged));
      return kExitOk;
    }
    if (f->action != "list" && f->id.empty()) throw InputError(fmt::format("runs {}: which run? (trackiq runs list)", f->action));
    if (f->action == "list") {
      store::RunFilter filter;
      if (!f->product.empty()) filter.product = f->product;
      if (!f->hardware.empty()) filter.hardware = f->hardware;
      if (!f->since.empty()) filter.since = server::parse_utc_time(f->since, fmt::format("--since '{}'", f->since));
      if (!f->until.empty()) filter.until = server::parse_utc_time(f->until, fmt::format("--until '{}'", f->until));
      filter.limit = f->limit;
      for (const auto& l : f->labels) filter.labels.push_back(key_value(l, "--label"));
      const auto runs = st->list(filter);
      if (f->json) {
        nlohmann::ordered_json a = nlohmann::ordered_json::array();
        for (const auto& r : runs)
          a.push_back({{"run_id", r.run_id}, {"started_at", r.started_at}, {"product", r.product}, {"version", r.version},
                       {"branch", r.branch}, {"commit", r.commit}, {"ci", r.ci},
                       {"hardware_fingerprint", r.hardware_fingerprint}, {"hostname", r.hostname},
                       {"workload", r.workload}, {"scenario", r.scenario}, {"samples", r.samples}});
        std::cout << a.dump(2) << "\n";
        return kExitOk;
      }
      // latencies: the exact per-query latencies kept (a query of batch 8 is one latency, 8 samples).
      fmt::print("{:<36}  {:<24}  {:<14} {:<10} {:<16} {:<24} {:<13} {:>9}\n", "run", "started (UTC)", "product",
                 "version", "hardware", "workload", "scenario", "latencies");
      for (const auto& r : runs)
        fmt::print("{:<36}  {:<24}  {:<14} {:<10} {:<16} {:<24} {:<13} {:>9}{}\n", r.run_id, r.started_at,
                   r.product.empty() ? "-" : r.product, r.version.empty() ? "-" : r.version, r.hardware_fingerprint,
                   r.workload.size() > 24 ? r.workload.substr(0, 21) + "..." : r.workload, r.scenario, r.samples,
                   r.ci ? "  ci" : "");
      if (runs.empty()) fmt::print("(no runs in {})\n", st->location());
      return kExitOk;
    }
    if (f->action == "rm") {
      // To say which baselines go with the run (only they can: without the flag it is refused).
      const auto baselines = f->with_baselines ? st->list_baselines() : std::vector<store::BaselineInfo>{};
      const std::string removed = st->remove(f->id, f->with_baselines);
      fmt::print("removed run {}\n", removed);
      for (const auto& b : baselines)
        if (b.run_id == removed)
          fmt::print("removed baseline {} (hardware {}) with it\n", b.name, b.hardware_fingerprint);
      return kExitOk;
    }
    Result r = st->load(f->id);
    if (f->action == "export") {
      const std::string text = to_json(r);
      if (f->output.empty()) std::cout << text;
      else write_file_atomic(f->output, text);
      return kExitOk;
    }
    if (f->json) {
      if (r.latency) {
        r.latency->samples_ns.clear();
        r.latency->sample_end_ns.clear();
      }
      std::cout << to_json(r);
    } else {
      std::cout << report::render_console(r);
    }
    return kExitOk;
  };
}

}  // namespace trackiq::cli
