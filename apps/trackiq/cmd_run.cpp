// trackiq run: benchmark a workload in an MLPerf-style scenario and write the canonical result.
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli_util.hpp"
#include "report_io.hpp"
#include "commands.hpp"
#include "trackiq/core/clock.hpp"
#include "trackiq/core/environment.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/analysis/efficiency.hpp"
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
  // RUN-4 sweeps: the product of the lists, one stored run per configuration.
  std::string batch_sizes, precisions, threads_list, devices;
  std::uint32_t max_configs = 32;
  bool automatic = false;     // --auto
  std::string max_latency;    // --auto: stop doubling the batch once p99 passes this
  std::string budget = "5m";  // --auto: total measuring time
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

// The --json file's text of a run: the store keeps the exact samples and telemetry series, the file
// only with --include-samples.
std::string json_file_text(const Result& r, bool include_samples) {
  if (include_samples) return to_json(r);
  Result copy = r;
  if (copy.latency) {
    copy.latency->samples_ns.clear();
    copy.latency->sample_end_ns.clear();
  }
  copy.telemetry.series.reset();
  return to_json(copy);
}

// One configuration of a sweep.
struct SweepConfig {
  std::string device, precision;
  std::uint32_t batch = 1, threads = 1;
};

std::vector<std::uint32_t> count_list(const std::string& flag, const std::string& text) {
  std::vector<std::uint32_t> out;
  for (const auto& item : split_list(text)) {
    std::uint32_t v = 0;
    const auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec != std::errc() || p != item.data() + item.size() || v == 0)
      throw InputError(fmt::format("{} '{}': '{}' is not a count >= 1", flag, text, item));
    out.push_back(v);
  }
  if (out.empty()) throw InputError(fmt::format("{}: empty list", flag));
  return out;
}

// "batch=4 precision=bf16": the dimensions the sweep varies, so a one-axis sweep reads "batch=4"
// (what `compare` orders sweep points by).
std::string point_label(const SweepConfig& c, bool batch, bool precision, bool threads, bool device) {
  std::vector<std::string> parts;
  if (batch) parts.push_back(fmt::format("batch={}", c.batch));
  if (precision) parts.push_back("precision=" + c.precision);
  if (threads) parts.push_back(fmt::format("threads={}", c.threads));
  if (device) parts.push_back("device=" + c.device);
  if (parts.empty()) parts.push_back(fmt::format("batch={}", c.batch));
  return fmt::format("{}", fmt::join(parts, " "));
}

struct SweepContext {
  const RunFlags& f;
  runner::RunSettings& s;
  workload::WorkloadOptions wo;
  Labels labels;
  const std::optional<runner::Profile>& profile;
  store::Store* st = nullptr;
  std::string sweep_id;
  std::map<std::string, std::string> variables;  // the TRACKIQ_* variables given (environment.variables)
};

// Runs one configuration; the result is labelled with the sweep and its point, stored, and
// printed as one line.
Result run_config(SweepContext& ctx, const SweepConfig& c, const std::string& point) {
  workload::WorkloadOptions wo = ctx.wo;
  wo.batch_size = c.batch;
  wo.precision = c.precision;
  wo.threads = c.threads;
  wo.device = c.device;
  auto w = workload::make_workload(wo);
  const runner::RunRecording rec = runner::run_scenario(*w, ctx.s, nullptr);
  Environment env = capture_environment();
  env.variables = ctx.variables;
  telemetry::describe_gpus(env, ctx.s.collector_options.nvml_library);
  Labels labels = ctx.labels;
  labels.extra["sweep_point"] = point;
  Result r = runner::make_result(*w, ctx.s, rec, env, labels);
  if (ctx.sweep_id.empty()) ctx.sweep_id = "sweep-" + r.run_id.substr(0, 8);
  r.labels.extra["sweep"] = ctx.sweep_id;
  if (ctx.profile) {
    for (auto& v : runner::check_constraints(*ctx.profile, r)) r.slo.push_back(v);
    r.labels.extra["profile"] = ctx.profile->name;
  }
  if (ctx.st) ctx.st->save(r);
  if (!ctx.f.quiet) {
    const auto v = [&](const char* m) { return r.metric_value(m); };
    std::cout << fmt::format("{:<40} p50 {:>9} ms  p99 {:>9} ms  {:>10} samples/s  run {}\n", point,
                             v("latency_p50_ms") ? fmt::format("{:.3f}", *v("latency_p50_ms")) : "-",
                             v("latency_p99_ms") ? fmt::format("{:.3f}", *v("latency_p99_ms")) : "-",
                             v("throughput_samples_per_s") ? fmt::format("{:.1f}", *v("throughput_samples_per_s")) : "-",
                             r.run_id.substr(0, 8));
  }
  return r;
}

// Exit 1 when a profile constraint FAILs (NOT MEASURED is shown, not failed) or when a run
// measured nothing: every query failed, so there is no latency and no throughput to stand on (a
// CI job must not pass on a command that exits non-zero every time). Such a run is still stored
// and printed: its errors are the finding.
int run_exit_code(const std::vector<Result>& results, bool quiet) {
  int code = kExitOk;
  for (const auto& r : results) {
    for (const auto& v : r.slo)
      if (v.state == SloState::kFail) code = kExitCheckFailed;
    if (!r.latency && r.errors.total > 0) {
      code = kExitCheckFailed;
      if (!quiet)
        std::cerr << fmt::format("trackiq: run {}: no query succeeded ({} failed): exit 1\n", r.run_id.substr(0, 8),
                                 r.errors.total);
    }
  }
  return code;
}

// The trade-off summary of a sweep: per configuration p50/p99/throughput and energy where
// measured; the optimum for latency, throughput and efficiency; the Pareto front of throughput
// against p99; with a profile, the best configuration that passes every constraint.
std::string sweep_summary(const std::vector<Result>& runs, const std::optional<runner::Profile>& profile) {
  const auto eff = analysis::analyze_efficiency(runs, std::nullopt);
  auto val = [](const Result& r, const char* m) { return r.metric_value(m).value_or(NAN); };
  std::string out = fmt::format("\n{:<40} {:>10} {:>10} {:>12} {:>9} {:>10}  {}\n", "configuration", "p50 ms", "p99 ms",
                                "samples/s", "power W", "inf/J", "pareto");
  std::optional<std::size_t> best_lat, best_thr, best_ok;
  std::vector<bool> front(runs.size(), false);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const double p99 = val(runs[i], "latency_p99_ms"), thr = val(runs[i], "throughput_samples_per_s");
    bool dominated = std::isnan(p99) || std::isnan(thr);
    for (std::size_t k = 0; k < runs.size() && !dominated; ++k) {
      const double p99k = val(runs[k], "latency_p99_ms"), thrk = val(runs[k], "throughput_samples_per_s");
      dominated = k != i && thrk >= thr && p99k <= p99 && (thrk > thr || p99k < p99);
    }
    front[i] = !dominated;
    if (!std::isnan(p99) && (!best_lat || p99 < val(runs[*best_lat], "latency_p99_ms"))) best_lat = i;
    if (!std::isnan(thr) && (!best_thr || thr > val(runs[*best_thr], "throughput_samples_per_s"))) best_thr = i;
    const bool passes = std::all_of(runs[i].slo.begin(), runs[i].slo.end(),
                                    [](const SloVerdict& v) { return v.state == SloState::kPass; });
    if (profile && passes && !std::isnan(thr) && (!best_ok || thr > val(runs[*best_ok], "throughput_samples_per_s")))
      best_ok = i;
    const auto& row = eff.rows[i];
    out += fmt::format("{:<40} {:>10.3f} {:>10.3f} {:>12.1f} {:>9} {:>10}  {}\n", runs[i].labels.extra.at("sweep_point"),
                       val(runs[i], "latency_p50_ms"), p99, thr, row.power_w ? fmt::format("{:.1f}", *row.power_w) : "-",
                       row.inferences_per_joule ? fmt::format("{:.3g}", *row.inferences_per_joule) : "-",
                       front[i] ? "*" : "");
  }
  auto name = [&](const std::optional<std::size_t>& i) {
    return i ? fmt::format("{} (run {})", runs[*i].labels.extra.at("sweep_point"), runs[*i].run_id.substr(0, 8))
             : std::string("not available");
  };
  out += fmt::format("optimum for latency (lowest p99):        {}\n", name(best_lat));
  out += fmt::format("optimum for throughput (most samples/s): {}\n", name(best_thr));
  out += fmt::format("optimum for efficiency (inferences/J):   {}\n",
                     eff.most_efficient ? name(eff.most_efficient)
                                        : "not available: no configuration had measured power");
  out += "pareto (*): no other configuration has at least the throughput at no higher p99\n";
  if (profile)
    out += fmt::format("best passing profile {} (every constraint PASS, most samples/s): {}\n", profile->name,
                       best_ok ? name(best_ok) : "none: no configuration passed every constraint");
  return out;
}

// RUN-4: the product of --batch-sizes x --precisions x --threads-list x --devices, or with --auto
// every device x the backend's precisions x batch sizes doubling from 1.
int run_sweep(const RunFlags& f, runner::RunSettings& s, const workload::WorkloadOptions& wo, const Labels& labels,
              const std::optional<runner::Profile>& profile, store::Store* st,
              const std::map<std::string, std::string>& variables) {
  if (f.repeat > 1) throw InputError("--repeat and a sweep do not combine: repeat the sweep instead");
  if (!f.samples_csv.empty() || !f.telemetry_csv.empty())
    throw InputError("--samples-csv and --telemetry-csv take one run: a sweep stores each configuration's run");
  SweepContext ctx{f, s, wo, labels, profile, st, "", variables};
  std::vector<Result> results;
  if (f.automatic) {
    if (f.given.count("--batch-sizes") || f.given.count("--precisions") || f.given.count("--devices"))
      throw InputError("--auto chooses devices, precisions and batch sizes itself: drop --batch-sizes/--precisions/--devices");
    const std::int64_t budget_ns = duration_flag("--budget", f.budget);
    std::optional<double> max_p99_ms;
    if (!f.max_latency.empty()) max_p99_ms = static_cast<double>(duration_flag("--max-latency", f.max_latency)) / 1e6;
    const std::string prefix = f.workload.substr(0, f.workload.find(':') + 1);
    std::vector<std::string> precisions{"fp32"}, devices{"cpu"};
    for (const auto& b : workload::backends())
      if (b.prefix == prefix && b.available) {
        precisions = b.precisions;
        devices = b.devices;
      }
    // One run's nominal time: the duration, else the max duration, else 10 s (an iteration count
    // has no duration), plus the warmup. The budget is wall time since the first run began: a run
    // starts only when the time it is expected to take still fits, which is the last run's wall
    // time once there is one (setup, an iteration minimum that outlasts the duration, storing, a
    // loaded machine: the nominal time alone let a sweep overrun its budget by a whole run), else
    // the nominal time. The numbers behind the decision are printed, so that it can be checked.
    const std::int64_t per_run = s.duration_ns.value_or(s.max_duration_ns.value_or(10'000'000'000LL)) +
                                 s.warmup_ns;
    const auto started = std::chrono::steady_clock::now();
    auto spent = [&] { return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count(); };
    if (!f.quiet)
      std::cout << fmt::format("auto: devices {} x precisions {} x batch 1, 2, 4, ... within {} ({} per run)\n",
                               fmt::join(devices, ","), fmt::join(precisions, ","), f.budget, format_duration_ns(static_cast<double>(per_run)));
    bool out_of_budget = false;
    std::optional<std::int64_t> last_run_ns;
    for (const auto& device : devices) {
      for (const auto& precision : precisions) {
        double last_thr = 0;
        for (std::uint32_t batch = 1; batch <= 4096 && !out_of_budget; batch *= 2) {
          const std::int64_t used = spent(), next = last_run_ns.value_or(per_run);
          if (used + next > budget_ns) {
            out_of_budget = true;
            if (!f.quiet)
              std::cout << fmt::format("auto: the budget {} is spent: {:.1f} ms used, the next run would take {:.1f} ms ({}): stopping\n",
                                       f.budget, static_cast<double>(used) / 1e6, static_cast<double>(next) / 1e6,
                                       last_run_ns ? "as long as the last one" : "its duration and warmup");
            break;
          }
          const SweepConfig c{device, precision, batch, wo.threads};
          Result r = run_config(ctx, c, point_label(c, true, precisions.size() > 1, false, devices.size() > 1));
          last_run_ns = spent() - used;
          const double thr = r.metric_value("throughput_samples_per_s").value_or(0);
          const double p99 = r.metric_value("latency_p99_ms").value_or(NAN);
          results.push_back(std::move(r));
          if (max_p99_ms && p99 > *max_p99_ms) {
            if (!f.quiet) std::cout << fmt::format("auto: p99 {:.3f} ms passed --max-latency: larger batches stop here\n", p99);
            break;
          }
          if (thr < last_thr * 1.05) {  // less than 5 % more: throughput stopped rising
            if (!f.quiet) std::cout << "auto: throughput stopped rising (< 5 % over the previous batch): larger batches stop here\n";
            break;
          }
          last_thr = thr;
        }
      }
    }
    if (results.empty()) throw InputError(fmt::format("--budget {}: not enough for one run of {}", f.budget, format_duration_ns(static_cast<double>(per_run))));
  } else {
    const std::vector<std::uint32_t> batches = f.batch_sizes.empty() ? std::vector<std::uint32_t>{wo.batch_size}
                                                                     : count_list("--batch-sizes", f.batch_sizes);
    const std::vector<std::uint32_t> threads = f.threads_list.empty() ? std::vector<std::uint32_t>{wo.threads}
                                                                      : count_list("--threads-list", f.threads_list);
    const std::vector<std::string> precisions = f.precisions.empty() ? std::vector<std::string>{wo.precision} : split_list(f.precisions);
    const std::vector<std::string> devices = f.devices.empty() ? std::vector<std::string>{wo.device} : split_list(f.devices);
    const std::size_t n = batches.size() * threads.size() * precisions.size() * devices.size();
    if (n > f.max_configs)
      throw InputError(fmt::format("the sweep has {} configurations ({} batch sizes x {} precisions x {} thread counts x {} "
                                   "devices), more than --max-configs {}",
                                   n, batches.size(), precisions.size(), threads.size(), devices.size(), f.max_configs));
    // Every configuration is checked before the first one runs: a bad precision or device fails now.
    for (const auto& d : devices)
      for (const auto& p : precisions) {
        workload::WorkloadOptions probe = wo;
        probe.device = d;
        probe.precision = p;
        (void)workload::make_workload(probe);
      }
    if (!f.quiet) std::cout << fmt::format("sweep: {} configurations\n", n);
    for (const auto& d : devices)
      for (const auto& p : precisions)
        for (const auto t : threads)
          for (const auto b : batches) {
            const SweepConfig c{d, p, b, t};
            results.push_back(run_config(ctx, c, point_label(c, batches.size() > 1, precisions.size() > 1,
                                                             threads.size() > 1, devices.size() > 1)));
          }
  }
  if (!f.quiet) {
    std::cout << sweep_summary(results, profile);
    std::cout << fmt::format("sweep      {} ({} runs{}): trackiq runs list --label sweep={}\n", ctx.sweep_id, results.size(),
                             st ? ", stored in " + st->location() : ", not stored", ctx.sweep_id);
  }
  if (!f.json_path.empty()) {
    std::string json = "[";
    for (std::size_t i = 0; i < results.size(); ++i) {
      json += (i ? ",\n" : "") + json_file_text(results[i], f.include_samples);
    }
    write_file_atomic(f.json_path, json + "]\n");
    if (!f.quiet) std::cout << "json       " << f.json_path << " (one result per configuration)\n";
  }
  if (!f.report_path.empty()) {
    report::ReportInput in;
    in.title = fmt::format("{} sweep {} ({} configurations)", f.workload, ctx.sweep_id, results.size());
    in.runs = results;
    write_report(in, "", f.report_path, f.theme);
    if (!f.quiet) std::cout << "report     " << f.report_path << "\n";
  }
  return run_exit_code(results, f.quiet);
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
  } else {  // a duration; "0s" is no warmup, as the count "0" is
    const auto ns = parse_duration_ns(f.warmup);
    if (!ns)
      throw InputError(fmt::format("--warmup '{}': not a count or a duration (e.g. 20, 500ms, 10s)", f.warmup));
    s.warmup_ns = *ns;
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
  if (!f.product.empty()) labels.product = f.product;
  if (!f.version_label.empty()) labels.version = f.version_label;
  // The store keeps the exact samples; the JSON copy has them only with --include-samples.
  s.include_samples_in_result = true;

  if (f.repeat < 1) throw InputError("--repeat must be at least 1");
  std::string group = f.group;
  if (!group.empty()) labels.extra["group"] = group;
  const bool sweep = f.automatic || !f.batch_sizes.empty() || !f.precisions.empty() || !f.threads_list.empty() ||
                     !f.devices.empty();
  if (sweep) {
    std::unique_ptr<store::Store> sweep_store;
    if (!f.no_store) sweep_store = store::open_store(f.store);
    return run_sweep(f, s, wo, labels, profile, sweep_store.get(), run_env.given);
  }

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
    env.variables = run_env.given;  // LIB-5: recorded where the run's conditions are
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
      write_file_atomic(json_path, json_file_text(result, f.include_samples));
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
  return run_exit_code(results, f.quiet);
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
      "the result records them (environment.variables).\n"
      "Exit status: 0; 1 when a --profile constraint FAILs or a run had no successful query (every\n"
      "query failed: the run is stored and printed with its errors); 2 on bad input.\n\n"
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
      "  trackiq run --profile automotive_safety --validate-only\n"
      "  trackiq run builtin:cnn --batch-sizes 1,4,8,16 --precisions fp32,bf16 --duration 3s   # a sweep\n"
      "  trackiq run builtin:mlp --auto --max-latency 20ms --budget 2m --duration 2s\n\n"
      "Sweeps (RUN-4): --batch-sizes, --precisions, --threads-list and --devices run the product of the\n"
      "lists (at most --max-configs), one stored run per configuration labelled sweep=ID and\n"
      "sweep_point=\"batch=4 precision=bf16\" (the dimensions that vary), then print the trade-off: p50, p99,\n"
      "samples/s, power and inferences/J where power is measured, the optimum for latency, throughput and\n"
      "efficiency, the Pareto front of throughput against p99, and with --profile the best configuration\n"
      "that passes every constraint. --json writes one result per configuration (an array, which\n"
      "`trackiq compare` reads as a sweep and `trackiq analyze efficiency` as points).");
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
  sub.add_option("--batch-sizes", f->batch_sizes, "Sweep: batch sizes, e.g. 1,4,8,16 (one stored run per configuration)");
  sub.add_option("--precisions", f->precisions, "Sweep: precisions, e.g. fp32,bf16");
  sub.add_option("--threads-list", f->threads_list, "Sweep: engine thread counts, e.g. 1,2,4");
  sub.add_option("--devices", f->devices, "Sweep: devices, e.g. cpu,cuda:0");
  sub.add_option("--max-configs", f->max_configs, "Sweep: refuse more configurations than this")->capture_default_str();
  sub.add_flag("--auto", f->automatic,
               "Sweep every device x the backend's precisions x batch sizes doubling from 1, until throughput stops "
               "rising (< 5 %) or p99 passes --max-latency, within --budget");
  sub.add_option("--max-latency", f->max_latency, "--auto: stop doubling the batch once p99 passes this (e.g. 50ms)");
  sub.add_option("--budget", f->budget, "--auto: wall time for the whole sweep, setup and storing included; a run starts only while it "
                 "still fits, expected to take as long as the last one (the first: its --duration and --warmup)")
      ->capture_default_str();
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
