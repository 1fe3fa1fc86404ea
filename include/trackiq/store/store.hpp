#pragma once
// The results store (STORE-2, STORE-3): every run, its metrics (unit and direction from the
// registry), its exact latency samples and histogram, its telemetry series, queried by product,
// hardware, label and time. SQLite by default (one file, WAL); PostgreSQL (postgresql://...) for
// teams sharing history, with the same tables and queries. Writes are one transaction per run (or
// per import): a run is stored whole or not at all.
//
//   auto store = trackiq::store::open_store("");            // default file
//   store->save(result);
//   for (const auto& r : store->list({.product = "detector"})) ...
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "trackiq/core/error.hpp"
#include "trackiq/core/result.hpp"

namespace trackiq::store {

struct RunSummary {
  std::string run_id;
  std::string started_at;
  std::string product, version, branch, commit;
  bool ci = false;
  std::string hardware_fingerprint;
  std::string hostname;
  std::string workload;  // "backend:model"
  std::string scenario;
  std::uint64_t samples = 0;  // exact latency samples kept
  std::string config;         // series_config() of the run
};

struct RunFilter {
  std::optional<std::string> product;
  std::optional<std::string> hardware;  // fingerprint (or a prefix of it)
  // Each must match: product, version, branch (exact) and commit (a prefix) are the built-in
  // labels; any other key an extra label.
  std::vector<std::pair<std::string, std::string>> labels;
  std::optional<std::string> since;  // ISO-8601 UTC, inclusive
  std::optional<std::string> until;  // ISO-8601 UTC, exclusive
  std::size_t limit = 50;            // newest first; 0 = all
  std::optional<std::string> version;
  std::optional<std::string> scenario;  // "single-stream", "server", "load", ...
  // Keyset pagination: only runs listed after this one in the newest-first order, given by its
  // (started_at, run_id) as a RunSummary holds them. A run deleted since loses its place: then
  // only runs strictly older than its started_at follow.
  std::optional<std::pair<std::string, std::string>> after;
  // Free-text search: runs whose id, product, version, branch, commit, workload (backend:model),
  // scenario, hostname or a label's key or value contains it, case-insensitively (ASCII).
  std::optional<std::string> search;
};

struct BaselineInfo {
  std::string name;
  std::string hardware_fingerprint;  // baselines are per hardware (CMP-2)
  std::string run_id;
  std::string created_at;
  std::string product, version;
};

// One series of history (CMP-4): the runs of one product on one hardware fingerprint, one workload
// ("backend:model") and one scenario. Runs of different keys are never mixed in a series.
struct SeriesKey {
  std::string product, hardware_fingerprint, workload, scenario;
  std::string config;  // series_config() of the runs: batch 1 and batch 8 are two series
  // "product / hardware / workload / scenario / config", for messages and as the key of stored state.
  std::string text() const;
  auto operator<=>(const SeriesKey&) const = default;
};

// What identifies one run in the series: read once per run and shared by the run's points in
// every metric's series (a store of 10 million points holds 1.7 million of these, not 10 million).
struct SeriesRun {
  std::string run_id;
  std::string started_at;
  std::string version, commit;
};

// One run's value of one metric, with what identifies the run.
struct SeriesPoint {
  SeriesPoint(std::shared_ptr<const SeriesRun> run, double value) : run(std::move(run)), value(value) {}
  SeriesPoint(std::string run_id, std::string started_at, std::string version, std::string commit, double value)
      : run(std::make_shared<const SeriesRun>(
            SeriesRun{std::move(run_id), std::move(started_at), std::move(version), std::move(commit)})),
        value(value) {}
  const std::string& run_id() const { return run->run_id; }
  const std::string& started_at() const { return run->started_at; }
  const std::string& version() const { return run->version; }
  const std::string& commit() const { return run->commit; }

  std::shared_ptr<const SeriesRun> run;  // never null
  double value = 0;
};

// One metric over the runs of one key, oldest first (by started_at, then by insertion order).
struct MetricSeries {
  SeriesKey key;
  std::string metric;
  std::vector<SeriesPoint> points;
};

// How a run was configured, beyond its product, hardware, workload and scenario: what makes two
// runs of one model comparable. Batch size, precision, device, engine threads, the workload's
// options (a built-in's seq_len, a load's URL, API and connections) and the scenario's drive
// (workers, target rate, samples per query), as
// "batch=8 precision=bf16 device=cpu threads=2 workers=1 seq_len=256". Not the model: its hash,
// nor a synthetic workload's options (its distribution and mean are its model): a new model of
// the same name is the change history exists to show. Stored with each run (runs.config) and
// part of the series key: runs of different configurations never share a series.
std::string series_config(const Result& r);

struct SeriesFilter {
  std::optional<std::string> product;
  std::optional<std::string> hardware;  // fingerprint or a prefix of it
  std::optional<std::string> workload;  // "backend:model", exact
  std::optional<std::string> scenario;
  std::optional<std::string> config;    // series_config(), exact
  std::vector<std::pair<std::string, std::string>> labels;  // each must match, as RunFilter::labels
  std::vector<std::string> metrics;  // only these metrics (empty = no restriction)
};

// The key of the series `r` belongs to, and the filter that selects exactly it (`history --run`,
// `/history?run=`, `report --history`).
SeriesKey series_key_of(const Result& r);
SeriesFilter series_filter_of(const SeriesKey& k);
SeriesFilter series_filter_of(const Result& r);

// What `trackiq detect` keeps per series between calls (docs/architecture.md, "Change points over
// the store"): the series had `count` points, the last of them run `last_run`, when `state` (the
// detector's change points, JSON owned by the caller) was computed.
struct SeriesState {
  std::string series;  // SeriesKey::text()
  std::string metric;
  std::uint64_t count = 0;
  std::string last_run;
  std::string state;
};

// Store::remove's refusal of a baseline's run: bad input on the CLI (exit 2), a conflict (409)
// over HTTP.
class BaselineRunError : public InputError {
 public:
  using InputError::InputError;
};

class Store {
 public:
  virtual ~Store() = default;
  // Stores the result with its exact latency samples (Result::latency->samples_ns) and telemetry
  // series (Result::telemetry.series) in one transaction. Error on failure, and then nothing of
  // the run is stored.
  virtual void save(const Result& r) = 0;
  // Stores several runs in one transaction (an import): all of them or none.
  virtual void save_all(const std::vector<Result>& runs) = 0;
  // The run whose id is `id` or starts with `id` (>= 4 characters); InputError when none or
  // several match. Samples and the telemetry series are included.
  virtual Result load(const std::string& id) = 0;
  virtual std::vector<RunSummary> list(const RunFilter& filter) = 0;
  // Removes a run (and its metrics and samples). InputError when no run matches, and when the run
  // is a baseline's, naming the baselines, unless `with_baselines`: then they are removed too.
  virtual std::string remove(const std::string& id, bool with_baselines) = 0;
  // Baselines (CMP-2): NAME points at a run, per hardware fingerprint of that run; saving the
  // same NAME on the same hardware replaces it. `run` is an id or prefix, or "" for the newest run.
  virtual BaselineInfo save_baseline(const std::string& name, const std::string& run) = 0;
  virtual std::vector<BaselineInfo> list_baselines() = 0;
  // The run of baseline NAME for `hardware` (a fingerprint), or for the only hardware it has
  // when `hardware` is empty; InputError when missing or ambiguous.
  virtual BaselineInfo find_baseline(const std::string& name, const std::string& hardware) = 0;
  // Removes NAME on every hardware (or only `hardware`); returns how many were removed.
  virtual std::size_t remove_baseline(const std::string& name, const std::string& hardware) = 0;

  // Series of history (CMP-4): every (key, metric) with at least one run matching `filter`, each
  // once (grouped by key, then metric), points oldest first. `metric` "" = every stored metric.
  virtual std::vector<MetricSeries> series(const SeriesFilter& filter, const std::string& metric) = 0;
  // The kept per-series detection state (all of it), and its replacement for the given series in
  // one transaction (insert or update).
  virtual std::vector<SeriesState> series_states() = 0;
  virtual void save_series_states(const std::vector<SeriesState>& states) = 0;

  // Where the store lives, for messages.
  virtual std::string location() const = 0;

  // A number that changes whenever a change that a read could see has been committed since the
  // previous call, by this object or by any other writer of the same store (another process on
  // the same SQLite file, another server on the same PostgreSQL database); equal numbers from
  // this object mean nothing was committed in between. Exact, never time-based: SQLite combines
  // `PRAGMA data_version` (other connections' commits) with this object's own commits;
  // PostgreSQL reads the one-row table `store_generation`, which every write transaction bumps
  // (migration 5). For answer caches (`trackiq serve`); one query, no table scan (see
  // docs/performance.md §14 for its cost).
  virtual std::uint64_t generation() = 0;
};

// The stored history of the baseline's series for `compare`'s run-to-run noise band: the newest
// `limit` runs of the same code (product and version labels) in the same configuration (workload
// and scenario settings) on the same hardware, `current` left out, `base` included (added first
// when it is not stored). Runs of another version are not noise: they may hold the change under
// test. `series_history_source` says in words where such a history came from.
std::vector<Result> series_history(Store& st, const Result& base, const Result& current, std::size_t limit);
std::string series_history_source(const Result& base, std::size_t runs);

// Why `r` cannot be stored as a new run in `st`: its run id is stored already, or it came from
// another tool's file (label import_hash) whose content was imported before. nullopt: it can.
std::optional<std::string> duplicate_of(Store& st, const Result& r);

// `location`: "" → TRACKIQ_STORE, else $XDG_DATA_HOME/trackiq/trackiq.db (~/.local/share/...);
// a path → SQLite; postgresql://... or postgres://... → PostgreSQL (a libpq URL; the password is
// never shown in messages). Error when the file cannot be opened or the server not reached.
std::unique_ptr<Store> open_store(const std::string& location);
std::string default_store_location();

// Whether `text` can name a stored run: at least 4 characters of 0-9, a-f and '-' (a run id or
// a prefix of one). Anything else is never looked up.
bool is_run_id_prefix(const std::string& text) noexcept;

// The current schema version that open_store() migrates stores to (both backends).
int schema_version();

}  // namespace trackiq::store
