// trackiq run: benchmark a workload in an MLPerf-style scenario and write the canonical result.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "cli_util.hpp"
#include "report_io.hpp"
#include "commands.hpp"
#include "trackiq/core/clock.hpp"
#include "trackiq/core/environment.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/metric_registry.hpp"
#include "trackiq/core/run_env.hpp"
#include "trackiq/report/console.hpp"
#include "trackiq/runner/profile.hpp"
#include "trackiq/runner/runner.hpp"
#include "trackiq/store/store.hpp"
#include "trackiq/telemetry/devices.hpp"
#include "trackiq/telemetry/summary.hpp"

namespace trackiq::cli {
namespace {

struct RunFlags {
  std::string workload = "builtin:cnn";
  std::string scenario = "single-stream";
  std::string warmup = "1s";
  std::optional<std::uint64_t> iterations;
  std::string duration;
  std::string max_duration;
  std::optional<std::uint32_t> batch_size;
  std::optional<std::uint32_t> threads;  // default: logical CPUs
  std::string precision = "fp32";
  std::string device = "cpu";
  std::uint64_t seed = 0;
  std::optional<double> qps;
  std::optional<std::uint32_t> samples_per_query;
  std::uint32_t workers = 1;
  std::vector<std::string> shapes;
  std::optional<std::uint32_t> seq_len;
  std::string json_path;
  std::uint32_t repeat = 1;
  std::string group;
  std::string report_path;
  std::string theme = "light";
  std::string samples_csv;
  std::string store;
  bool no_store = false;
  std::string product;
  std::string version_label;
  bool include_samples = false;
  std::vector<std::string> labels;
  bool quiet = false;
  bool no_progress = false;
  std::string collectors = "all";
  std::string telemetry_interval = "100ms";
  bool no_telemetry = false;
  std::string telemetry_csv;
  std::string tegrastats_log;
  std::string profile;
  std::string profiles_dir;
  bool validate_only = false;
  std::set<std::string> given;  // long names of the flags the user gave (they override a profile)
};

std::int64_t duration_flag(const std::string& flag, const std::string& value) {
  const auto ns = parse_duration_ns(value);
  if (!ns || *ns <= 0)
    throw InputError(fmt::format("{} '{}': not a duration (e.g. 500ms, 10s, 2m; plain numbers are seconds)", flag, value));
  return *ns;
}


// The first line a git command prints, or "" when git or the repository is missing.
std::string git_output(const char* command) {
  std::string cmd = std::string(command) + " 2>/dev/null";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {};
  char buf[256] = {};
  std::string out = std::fgets(buf, sizeof buf, p) ? buf : "";
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

Labels parse_labels(const std::vector<std::string>& items) {
  Labels l;
  for (const auto& item : items) {
    const auto [k, v] = key_value(item, "--label");
    if (k == "product") l.product = v;
    else if (k == "version") l.version = v;
    else if (k == "branch") l.branch = v;
    else if (k == "commit") l.commit = v;
    else l.extra[k] = v;
  }
  // CI systems set one of these; a run without them is local (CMP-3 ignores local runs).
  for (const char* var : {"CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILDKITE", "CIRCLECI", "TF_BUILD",
                          "TEAMCITY_VERSION", "DRONE"}) {
    const char* v = std::getenv(var);
    if (v && *v && std::string_view(v) != "false" && std::string_view(v) != "0") l.ci = true;
  }
  // The working directory's git commit and branch, when it is a repository and none was given.
  if (l.commit.empty()) l.commit = git_output("git rev-parse HEAD");
  if (l.branch.empty()) {
    l.branch = git_output("git rev-parse --abbrev-ref HEAD");
    if (l.branch == "HEAD") l.branch.clear();  // detached
  }
  return l;
}

// Draws a progress bar on stderr (a terminal only) for runs that last more than ~2 s.
class ProgressBar {
 public:
  ProgressBar(const runner::Progress& p, const runner::RunSettings& s) : p_(p), s_(s) {
    thread_ = std::thread([this] { loop(); });
  }
  ~ProgressBar() {
    stop_.store(true);
    thread_.join();
    if (drawn_) std::fputs("\r\033[K", stderr);
  }

 private:
  void loop() {
    const auto start = Clock::now();
    TimePoint measure_start{};
    while (!stop_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (!p_.measuring.load()) continue;
      if (measure_start == TimePoint{}) measure_start = Clock::now();
      if (Clock::now() - start < std::chrono::seconds(2)) continue;
      const double elapsed = std::chrono::duration<double>(Clock::now() - measure_start).count();
      const auto issued = p_.issued.load(std::memory_order_relaxed);
      double frac = 0;
      if (s_.duration_ns) frac = elapsed / (static_cast<double>(*s_.duration_ns) / 1e9);
      if (s_.iterations) {
        const double f = static_cast<double>(issued) / static_cast<double>(*s_.iterations);
        frac = s_.duration_ns ? std::min(frac, f) : f;
      }
      frac = std::clamp(frac, 0.0, 1.0);
      const int width = 30;
      const int filled = static_cast<int>(frac * width);
      fmt::print(stderr, "\r[{}{}] {:3.0f}%  {:.1f} s  {} queries", std::string(static_cast<std::size_t>(filled), '#'),
                 std::string(static_cast<std::size_t>(width - filled), '.'), frac * 100, elapsed, issued);
      std::fflush(stderr);
      drawn_ = true;
    }
  }
  const runner::Progress& p_;
  const runner::RunSettings& s_;
  std::atomic<bool> stop_{false};
  bool drawn_ = false;
  std::thread thread_;
};

// Fills the flags the user did not give from the profile's run settings.
void apply_profile(const runner::Profile& p, RunFlags& f) {
  auto unset = [&](const char* flag) { return !f.given.count(flag); };
  auto to_u32 = [&](const std::string& key, const std::string& v) {
    try {
      return static_cast<std::uint32_t>(std::stoul(v));
    } catch (const std::exception&) {
      throw InputError(p.path, 0, fmt::format("run.{} '{}' is not a count", key, v));
    }
  };
  for (const auto& [k, v] : p.run) {
    if (k == "workload" && unset("--workload")) f.workload = v;
    else if (k == "scenario" && unset("--scenario")) f.scenario = v;
    else if (k == "warmup" && unset("--warmup")) f.warmup = v;
    else if (k == "duration" && unset("--duration")) f.duration = v;
    else if (k == "max_duration" && unset("--max-duration")) f.max_duration = v;
    else if (k == "iterations" && unset("--iterations")) f.iterations = to_u32(k, v);
    else if (k == "batch_size" && unset("--batch-size")) f.batch_size = to_u32(k, v);
    else if (k == "threads" && unset("--threads")) f.threads = to_u32(k, v);
    else if (k == "precision" && unset("--precision")) f.precision = v;
    else if (k == "qps" && unset("--qps")) {
      try {
        f.qps = std::stod(v);
      } catch (const std::exception&) {
        throw InputError(p.path, 0, fmt::format("run.qps '{}' is not a number", v));
      }
    } else if (k == "samples_per_query" && unset("--samples-per-query")) f.samples_per_query = to_u32(k, v);
    else if (k == "workers" && unset("--workers")) f.workers = to_u32(k, v);
    else if (k == "collectors" && unset("--collectors")) f.collectors = v;
    else if (k == "seq_len" && unset("--seq-len")) f.seq_len = to_u32(k, v);
  }
}

void print_profile(const runner::Profile& p) {
  fmt::print("profile    {} ({})\n  {}\n", p.name, p.path, p.description);
  for (const auto& [k, v] : p.run) fmt::print("  run.{:<18} {}\n", k, v);
  for (const auto& c : p.constraints) {
    const auto& def = metric(c.metric);
    fmt::print("  constraint {:<26} {} {} {}\n", c.metric, c.op, c.limit, def.unit == "1" ? "" : def.unit);
  }
}

int run_command(RunFlags f) {
  const RunEnv run_env = read_run_env();  // a bad TRACKIQ_* value stops here (exit 2)
  std::optional<runner::Profile> profile;
  if (!f.profile.empty()) {
    profile = runner::find_profile(f.profile, f.profiles_dir);
    apply_profile(*profile, f);
  }
  // Flag > TRACKIQ_* variable > profile > default (core/run_env.hpp).
  if (!f.given.count("--seed") && run_env.seed) f.seed = *run_env.seed;
  if (!f.given.count("--threads")) {
    if (run_env.threads)
      f.threads = run_env.threads;
    else if (run_env.deterministic && !f.threads)
      f.threads = 1;
  }
  if (!f.report_path.empty()) report_format("", f.report_path);  // a bad extension fails before measuring
  if (f.validate_only) {
    if (!profile) throw InputError("--validate-only needs --profile");
    print_profile(*profile);
    // Which constraints this machine can measure.
    telemetry::CollectorOptions co;
    co.tegrastats_log = f.tegrastats_log;
    telemetry::Sampler probe(telemetry::make_collectors({"all"}, co), {});
    const auto measurable = telemetry::measurable_metrics(probe.channels());
    const auto& from_telemetry = telemetry::telemetry_metric_names();
    bool ok = true;
    for (const auto& c : profile->constraints) {
      const bool needs_telemetry =
          std::find(from_telemetry.begin(), from_telemetry.end(), c.metric) != from_telemetry.end();
      const bool can = !needs_telemetry || std::find(measurable.begin(), measurable.end(), c.metric) != measurable.end();
      fmt::print("  check      {:<26} {}\n", c.metric,
                 can ? "measurable here" : "NOT MEASURED here: no collector available here provides it");
      ok = ok && can;
    }
    for (const auto& u : probe.unavailable()) fmt::print("  telemetry  {}\n", u);
    fmt::print("profile {} is valid{}\n", profile->name, ok ? "" : "; some constraints cannot be measured here");
    return kExitOk;
  }
  runner::RunSettings s;
  s.scenario = runner::parse_scenario(f.scenario);
  // --warmup: a count ("20") or a duration ("2s", "500ms").
  if (!f.warmup.empty() && f.warmup.find_first_not_of("0123456789") == std::string::npos) {
    try {
      s.warmup_iterations = std::stoull(f.warmup);
    } catch (const std::out_of_range&) {
      throw InputError(fmt::format("--warmup '{}': count too large", f.warmup));
    }
  } else {
    s.warmup_ns = duration_flag("--warmup", f.warmup);
  }
  s.iterations = f.iterations;
  if (!f.duration.empty()) s.duration_ns = duration_flag("--duration", f.duration);
  if (!f.max_duration.empty()) s.max_duration_ns = duration_flag("--max-duration", f.max_duration);
  if (!s.iterations && !s.duration_ns) s.duration_ns = 10'000'000'000LL;  // default: about 10 s
  s.seed = f.seed;
  s.qps = f.qps;
  s.workers = f.workers;
  s.include_samples_in_result = f.include_samples;
  if (f.no_telemetry) {
    s.collectors.clear();
    if (!f.telemetry_csv.empty()) throw InputError("--telemetry-csv needs telemetry (drop --no-telemetry)");
  } else {
    s.collectors = split_list(f.collectors);
    s.telemetry_interval_ns = duration_flag("--telemetry-interval", f.telemetry_interval);
    s.collector_options.tegrastats_log = f.tegrastats_log;
  }

  workload::WorkloadOptions wo;
  wo.spec = f.workload;
  wo.precision = f.precision;
  wo.device = f.device;
  wo.seed = f.seed;
  wo.seq_len = f.seq_len;
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  wo.threads = f.threads.value_or(static_cast<std::uint32_t>(std::max(1L, cpus)));
  wo.batch_size = f.batch_size.value_or(1);
  if (s.scenario == runner::Scenario::kMultiStream) {
    // A multi-stream query carries samples_per_query samples: the workload's batch.
    s.samples_per_query = f.samples_per_query.value_or(8);
    if (f.batch_size && *f.batch_size != s.samples_per_query)
      throw InputError("multi-stream: --batch-size and --samples-per-query differ; a query's samples form its batch");
    wo.batch_size = s.samples_per_query;
  } else if (f.samples_per_query) {
    s.samples_per_query = *f.samples_per_query;  // validate() rejects it with a clear message
  }
  for (const auto& shape : f.shapes) wo.shapes.push_back(workload::parse_shape(shape));
  runner::validate(s);
  Labels labels = parse_labels(f.labels);
  for (const auto& [name, value] : run_env.given) labels.extra["env." + name] = value;
  if (!f.product.empty()) labels.product = f.product;
  if (!f.version_label.empty()) labels.version = f.version_label;
  // The store keeps the exact samples; the JSON copy has them only with --include-samples.
  s.include_samples_in_result = true;

  if (f.repeat < 1) throw InputError("--repeat must be at least 1");
  std::string group = f.group;
  if (!group.empty()) labels.extra["group"] = group;

  auto w = workload::make_workload(wo);
  // Open the store before measuring, so a bad --store fails now, not after the run.
  std::unique_ptr<store::Store> st;
  if (!f.no_store) st = store::open_store(f.store);
  // With --repeat N each run's files get "-1", "-2", ... before the extension.
  auto nth_path = [&](const std::string& path, std::uint32_t i) {
    if (path.empty() || f.repeat == 1) return path;
    const std::filesystem::path p(path);
    return (p.parent_path() / fmt::format("{}-{}{}", p.stem().string(), i + 1, p.extension().string())).string();
  };
  std::vector<Result> results;
  for (std::uint32_t i = 0; i < f.repeat; ++i) {
    runner::Progress progress;
    runner::RunRecording rec;
    {
      std::unique_ptr<ProgressBar> bar;
      if (!f.quiet && !f.no_progress && ::isatty(STDERR_FILENO)) bar = std::make_unique<ProgressBar>(progress, s);
      rec = runner::run_scenario(*w, s, &progress);
    }
    Environment env = capture_environment();
    telemetry::describe_gpus(env, s.collector_options.nvml_library);
    Result result = runner::make_result(*w, s, rec, env, labels);
    if (group.empty() && f.repeat > 1) {
      group = "repeat-" + result.run_id.substr(0, 8);  // named after the first run of the group
      labels.extra["group"] = group;
      result.labels.extra["group"] = group;
    }
    if (profile) {
      for (auto& v : runner::check_constraints(*profile, result)) result.slo.push_back(v);
      result.labels.extra["profile"] = profile->name;
    }
    if (st) st->save(result);
    const std::string json_path = nth_path(f.json_path, i);
    if (!json_path.empty()) {
      Result copy = result;
      if (!f.include_samples && copy.latency) {
        copy.latency->samples_ns.clear();
        copy.latency->sample_end_ns.clear();
      }
      if (!f.include_samples) copy.telemetry.series.reset();
      write_file_atomic(json_path, to_json(copy));
    }
    const std::string samples_csv = nth_path(f.samples_csv, i), telemetry_csv = nth_path(f.telemetry_csv, i);
    if (!samples_csv.empty()) runner::write_samples_csv(rec, s.scenario, samples_csv);
    if (!telemetry_csv.empty()) runner::write_telemetry_csv(rec, telemetry_csv);
    if (!f.quiet) {
      if (f.repeat > 1) std::cout << fmt::format("\n== run {} of {} (group {})\n", i + 1, f.repeat, group);
      std::cout << report::render_console(result);
      if (st) std::cout << "\nstored     run " << result.run_id << " in " << st->location() << "\n";
      else std::cout << "\nrun        " << result.run_id << " (not stored: --no-store)\n";
      if (!json_path.empty()) std::cout << "json       " << json_path << "\n";
      if (!samples_csv.empty()) std::cout << "samples    " << samples_csv << "\n";
      if (!telemetry_csv.empty()) std::cout << "telemetry  " << telemetry_csv << "\n";
    }
    results.push_back(std::move(result));
  }
  if (!f.report_path.empty()) {
    report::ReportInput in;
    const Result& first = results.front();
    in.title = fmt::format("{}:{} {}{}", first.workload.backend, first.workload.model, first.scenario.name,
                           f.repeat > 1 ? fmt::format(" x{} (group {})", f.repeat, group) : "");
    in.runs = results;
    write_report(in, "", f.report_path, f.theme);
    if (!f.quiet) std::cout << "report     " << f.report_path << "\n";
  }
  if (!f.quiet && f.repeat > 1 && st)
    std::cout << fmt::format("group      {} ({} runs): trackiq compare group:{} group:OTHER\n", group, f.repeat, group);
  for (const auto& result : results)
    for (const auto& v : result.slo)
      if (v.state == SloState::kFail) return kExitCheckFailed;  // NOT MEASURED is shown, not failed
  return kExitOk;
}

}  // namespace

Action setup_run(CLI::App& sub) {
  auto f = std::make_shared<RunFlags>();
  sub.footer(
      "Benchmark a workload in an MLPerf-style scenario: exact latency percentiles, throughput and\n"
      "achieved GFLOP/s (built-in models). Saves the run, with its exact latency samples, to the results\n"
      "store (trackiq runs list), and prints the run id.\n"
      "With no arguments: builtin:cnn, single-stream, ~10 s.\n"
      "The server scenario checks that --qps was achieved from the backlog: the wait for a worker\n"
      "(start - scheduled) must not grow from the first to the last third of the schedule by more than\n"
      "1 % of the elapsed time, and at most max(2 x workers, 1 % of the queries) may still wait when\n"
      "the last query is due; exit 1 when it was not achieved (docs/metrics.md).\n"
      "Environment: TRACKIQ_SEED (default --seed), TRACKIQ_THREADS (default --threads),\n"
      "TRACKIQ_DETERMINISTIC=1 (seed 0 and 1 engine thread unless given); a flag wins, a bad value exits 2;\n"
      "the result records them (labels env.TRACKIQ_*).\n\n"
      "Examples:\n"
      "  trackiq run\n"
      "  trackiq run builtin:transformer --seq-len 256 --iterations 50\n"
      "  trackiq run onnx:model.onnx --shape input:1x3x224x224 --duration 30s --json r.json\n"
      "  trackiq run torch:model.pt --shape 2x16x24 --precision bf16\n"
      "  trackiq run cmd:\"./infer --image cat.jpg\" --iterations 20\n"
      "  trackiq run builtin:mlp --scenario server --qps 200 --workers 2 --duration 20s\n"
      "  trackiq run builtin:cnn --scenario multi-stream --samples-per-query 8\n"
      "  trackiq run synthetic:dist=lognormal,mean=2ms,cv=0.3 --scenario offline --workers 4\n"
      "  trackiq run builtin:cnn --profile ci_smoke\n"
      "  trackiq run builtin:mlp --duration 3s --repeat 5 --group before   # then: compare group:before group:after\n"
      "  trackiq run --profile automotive_safety --validate-only");
  sub.add_option("workload,--workload,-w", f->workload,
                 "builtin:mlp|cnn|transformer, torch:PATH (TorchScript), onnx:PATH, cmd:\"COMMAND ARGS\" "
                 "(one process per query, no shell), synthetic[:dist=constant|exponential|lognormal,mean=1ms,"
                 "cv=0.5,mode=sleep|spin,fail_every=N] (labelled synthetic)")
      ->capture_default_str();
  sub.add_option("--scenario,-s", f->scenario,
                 "single-stream (closed loop, one query in flight), multi-stream (closed loop, N samples per "
                 "query), server (Poisson arrivals at --qps, latency from the scheduled time), offline (workers "
                 "back to back, throughput)")
      ->capture_default_str();
  sub.add_option("--warmup", f->warmup, "Warmup per worker before measuring: a count (20) or a duration (2s)")
      ->capture_default_str();
  sub.add_option("--iterations,-n", f->iterations, "Minimum number of measured queries");
  sub.add_option("--duration,-d", f->duration,
                 "Minimum measured duration (500ms, 10s, 2m). With --iterations: run until both are met "
                 "(MLPerf rule). Default when neither is given: 10s");
  sub.add_option("--max-duration", f->max_duration, "Hard stop for the measured phase, whatever the minimums");
  sub.add_option("--batch-size,-b", f->batch_size, "Samples per query (default 1)");
  sub.add_option("--threads,-t", f->threads, "Intra-op threads of the engine (default: TRACKIQ_THREADS, else 1 with TRACKIQ_DETERMINISTIC=1, else logical CPUs)");
  sub.add_option("--precision", f->precision, "fp32, or bf16 (LibTorch backends, via CPU autocast)")->capture_default_str();
  sub.add_option("--device", f->device, "Device (cpu)")->capture_default_str();
  sub.add_option("--seed", f->seed, "Seed of weights, inputs and the server schedule (logged in the result; default: TRACKIQ_SEED, else 0)")
      ->capture_default_str();
  sub.add_option("--qps", f->qps, "Server scenario: target queries per second");
  sub.add_option("--samples-per-query", f->samples_per_query, "Multi-stream scenario: samples per query (default 8)");
  sub.add_option("--workers", f->workers, "Server/offline scenarios: concurrent workers")->capture_default_str();
  sub.add_option("--shape", f->shapes,
                 "Input shape: 2x16x24 (positional) or NAME:1x3x224x224; repeatable. Required for torch: "
                 "(TorchScript has no shapes); sets dynamic dims for onnx:");
  sub.add_option("--seq-len", f->seq_len, "Sequence length of builtin:transformer (default 128)");
  sub.add_option("--json", f->json_path, "Also write the canonical result JSON to FILE");
  sub.add_option("--repeat", f->repeat,
                 "Run N times (one workload load, each run warmed up and stored), grouped by --group; files get "
                 "-1, -2, ... before the extension")
      ->capture_default_str();
  sub.add_option("--group", f->group,
                 "Group label of the runs (label group=NAME; default with --repeat: repeat-<first run id>). "
                 "Compare groups with `trackiq compare group:A group:B`; interleave two configs by alternating "
                 "`--repeat 1 --group A` and `--group B` runs");
  sub.add_option("--report", f->report_path,
                 "Also write a report of the run to FILE (.html, .pdf, .md, .xml JUnit, .json or .csv; see trackiq report)");
  add_theme_option(sub, f->theme);
  sub.add_option("--samples-csv", f->samples_csv,
                 "Write per-query records to FILE: query,worker,scheduled_ns,start_ns,end_ns,latency_ns,ok");
  sub.add_flag("--include-samples", f->include_samples,
               "Put every per-query latency into the --json file too (the store always keeps them)");
  sub.add_option("--store", f->store, cli::kStoreHelp);
  sub.add_flag("--no-store", f->no_store, "Do not save the run to the store");
  sub.add_option("--product", f->product, "Product label (same as --label product=...)");
  sub.add_option("--version", f->version_label, "Version label of what is measured (same as --label version=...)");
  sub.add_option("--label", f->labels, "KEY=VALUE label (product, version, branch, commit, or any); repeatable");
  sub.add_option("--collectors", f->collectors,
                 "Telemetry collectors sampled during the measured phase, comma-separated: cpu, memory, "
                 "process, thermal, power, cgroup, psi, nvml, tegrastats, or all (unavailable ones are listed "
                 "with the reason)")
      ->capture_default_str();
  sub.add_option("--telemetry-interval", f->telemetry_interval, "Telemetry sampling interval")->capture_default_str();
  sub.add_flag("--no-telemetry", f->no_telemetry, "Sample no telemetry");
  sub.add_option("--telemetry-csv", f->telemetry_csv,
                 "Write the telemetry series to FILE (t_ns relative to the measured phase, as in --samples-csv)");
  sub.add_option("--tegrastats-log", f->tegrastats_log, "Replay a tegrastats log as the tegrastats collector");
  sub.add_option("--profile", f->profile,
                 "Apply a profile's run settings (flags you give win) and check its constraints: PASS, FAIL or "
                 "NOT MEASURED each; exit 1 when one fails (see trackiq profiles list)");
  sub.add_option("--profiles-dir", f->profiles_dir, "User profile directory (default ~/.config/trackiq/profiles)");
  sub.add_flag("--validate-only", f->validate_only,
               "With --profile: check the profile and say which constraints this machine can measure; run nothing");
  sub.add_flag("--quiet,-q", f->quiet, "Print nothing on success");
  sub.add_flag("--no-progress", f->no_progress, "No progress bar (it shows only on a terminal anyway)");
  return [f, &sub] {
    RunFlags flags = *f;
    for (const CLI::Option* o : sub.get_options())
      if (o->count() > 0)
        for (const auto& ln : o->get_lnames()) flags.given.insert("--" + ln);
    return run_command(flags);
  };
}

}  // namespace trackiq::cli
