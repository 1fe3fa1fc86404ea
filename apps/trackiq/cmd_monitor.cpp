// trackiq monitor: sample telemetry at a fixed interval and stream rows to a file (TEL-4).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "cli_util.hpp"
#include "commands.hpp"
#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/server/prometheus.hpp"
#include "trackiq/telemetry/sampler.hpp"

namespace trackiq::cli {
namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) { g_interrupted.store(true); }

struct MonitorFlags {
  std::string duration = "10s";
  std::string interval = "100ms";
  std::string collectors = "all";
  int pid = 0;
  std::string output;
  std::string format;
  std::string tegrastats_log;
  std::string root = "/";
  std::string listen;
  bool quiet = false;
};

int monitor(const MonitorFlags& f, bool duration_given) {
  // An exporter runs until stopped unless --duration says otherwise.
  const bool forever = !f.listen.empty() && !duration_given;
  const auto duration = forever ? std::optional<std::int64_t>(INT64_MAX) : parse_duration_ns(f.duration);
  if (!duration || *duration <= 0) throw InputError(fmt::format("--duration '{}': not a duration (e.g. 30s)", f.duration));
  const auto interval = parse_duration_ns(f.interval);
  if (!interval || *interval < 1'000'000)
    throw InputError(fmt::format("--interval '{}': not a duration of at least 1ms", f.interval));
  telemetry::StreamFormat format = telemetry::StreamFormat::kCsv;
  const std::string fmt_name =
      !f.format.empty() ? f.format : (f.output.size() > 6 && f.output.substr(f.output.size() - 6) == ".jsonl") ? "jsonl" : "csv";
  if (fmt_name == "jsonl") format = telemetry::StreamFormat::kJsonl;
  else if (fmt_name != "csv") throw InputError(fmt::format("--format '{}': expected csv or jsonl", fmt_name));

  telemetry::CollectorOptions co;
  co.root = f.root;
  co.pid = f.pid;
  co.tegrastats_log = f.tegrastats_log;
  auto collectors = telemetry::make_collectors(split_list(f.collectors), co);

  // With --listen, rows go to a file only when --output names one.
  std::FILE* out = f.listen.empty() ? stdout : nullptr;
  if (!f.output.empty()) {
    out = std::fopen(f.output.c_str(), "w");
    if (!out) throw InputError(f.output, 0, "cannot open for writing");
  }
  const std::int64_t t0 = now_ns();
  std::optional<telemetry::StreamSink> file_sink;
  if (out) file_sink.emplace(out, format, t0);
  std::unique_ptr<server::PrometheusExporter> exporter;
  if (!f.listen.empty()) exporter = std::make_unique<server::PrometheusExporter>(f.listen, file_sink ? &*file_sink : nullptr);
  telemetry::SamplerOptions so;
  so.interval_ns = *interval;
  so.sink = exporter ? static_cast<telemetry::RowSink*>(exporter.get()) : &*file_sink;
  telemetry::Sampler sampler(std::move(collectors), so);
  for (const auto& u : sampler.unavailable()) fmt::print(stderr, "monitor: {}\n", u);
  if (sampler.channels().empty()) {
    if (out && out != stdout) std::fclose(out);
    throw InputError("monitor: none of the requested collectors is available here");
  }
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  if (exporter) {
    // Tests and scripts read this line to find a port picked with :0.
    fmt::print(stderr, "monitor: serving Prometheus metrics at http://{}/metrics\n", exporter->address());
    std::fflush(stderr);
  }
  const bool status = !f.quiet && ::isatty(STDERR_FILENO) && out != stdout && !exporter;
  const long cpu_col = [&] {
    for (std::size_t i = 0; i < sampler.channels().size(); ++i)
      if (sampler.channels()[i].name == "cpu.util_pct") return static_cast<long>(i);
    return -1L;
  }();
  sampler.start();
  while (!g_interrupted.load() && now_ns() - t0 < *duration) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<std::int64_t>(200, *duration / 1'000'000 + 1)));
    if (status) {
      const auto latest = sampler.latest();
      std::string cpu = cpu_col >= 0 && static_cast<std::size_t>(cpu_col) < latest.size() &&
                                !std::isnan(latest[static_cast<std::size_t>(cpu_col)])
                            ? fmt::format("  cpu {:.0f}%", latest[static_cast<std::size_t>(cpu_col)])
                            : "";
      fmt::print(stderr, "\r\033[K{:.1f} s  {} rows{}", static_cast<double>(now_ns() - t0) / 1e9, sampler.rows_taken(), cpu);
    }
  }
  sampler.stop();
  if (status) fmt::print(stderr, "\r\033[K");
  if (out && out != stdout && std::fclose(out) != 0) throw Error(fmt::format("{}: write failed", f.output));
  if (!f.quiet && out && out != stdout)
    fmt::print(stderr, "monitor: {} rows of {} channels to {}{}\n", sampler.series().rows_taken, sampler.channels().size(),
               f.output, g_interrupted.load() ? " (interrupted)" : "");
  return kExitOk;
}

}  // namespace

Action setup_monitor(CLI::App& sub) {
  auto f = std::make_shared<MonitorFlags>();
  sub.footer(
      "Sample system telemetry at a fixed interval (absolute schedule, monotonic timestamps) and stream\n"
      "each row as it is taken: CSV (t_ns, then one column per channel; empty = no value) or JSONL\n"
      "(null = no value). Ctrl-C stops cleanly with the file complete. Collectors that are not available\n"
      "here are listed on stderr with the reason.\n\n"
      "Examples:\n"
      "  trackiq monitor --duration 3\n"
      "  trackiq monitor --duration 60s --interval 250ms --collectors cpu,memory,nvml --output gpu.csv\n"
      "  trackiq monitor --pid 4242 --collectors process,cpu --output proc.jsonl\n"
      "  trackiq monitor --collectors tegrastats --tegrastats-log board.log --output board.csv\n"
      "  trackiq monitor --listen 127.0.0.1:9101                 # a Prometheus exporter, until Ctrl-C\n"
      "  trackiq monitor --listen 0.0.0.0:9101 --interval 1s     # scraped by a fleet's Prometheus\n\n"
      "With --listen HOST:PORT the latest sample is served at http://HOST:PORT/metrics in the Prometheus\n"
      "text format 0.0.4, or OpenMetrics 1.0 when the scrape's Accept header prefers it, as Prometheus's does\n"
      "(names and units: docs/metrics.md, \"Prometheus names\"); it runs until Ctrl-C unless\n"
      "--duration is given, and writes rows only with --output. Port 0 picks a free port (printed on stderr).");
  sub.add_option("--duration,-d", f->duration, "How long to sample (plain numbers are seconds)")->capture_default_str();
  sub.add_option("--interval,-i", f->interval, "Sampling interval")->capture_default_str();
  sub.add_option("--collectors,-c", f->collectors,
                 "Comma-separated: cpu, memory, process, thermal, power, cgroup, psi, nvml, tegrastats, or all")
      ->capture_default_str();
  sub.add_option("--pid", f->pid, "Process for the process collector (default: trackiq itself)");
  sub.add_option("--output,-o", f->output, "Write rows to FILE (.csv or .jsonl); default: CSV on stdout");
  sub.add_option("--format", f->format, "csv or jsonl (default: from the --output extension)");
  sub.add_option("--tegrastats-log", f->tegrastats_log,
                 "Replay a tegrastats log instead of running tegrastats: one line per --interval tick, on this "
                 "clock (the log's own times are not kept: 'trackiq import LOG' keeps them)");
  sub.add_option("--root", f->root, "Read /proc and /sys under DIR (a fake tree, for tests)")->capture_default_str();
  auto* duration_opt = sub.get_option("--duration");
  sub.add_option("--listen", f->listen,
                 "Serve the latest sample as Prometheus metrics at http://HOST:PORT/metrics (e.g. 127.0.0.1:9101)");
  sub.add_flag("--quiet,-q", f->quiet, "No status line or summary on stderr");
  return [f, duration_opt] { return monitor(*f, duration_opt->count() > 0); };
}

}  // namespace trackiq::cli
