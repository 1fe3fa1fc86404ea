// trackiq report RUN [RUN...]: one report model, rendered as Markdown, JUnit XML, JSON or CSV
// (REP-1), with the rule-based executive summary (REP-4).
#include <algorithm>

#include <fmt/format.h>

#include "cli_util.hpp"
#include "commands.hpp"
#include "history_util.hpp"
#include "report_io.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::cli {
namespace {

struct ReportFlags {
  std::vector<std::string> runs;
  std::vector<std::string> history;
  std::string format, output, title, store, hardware, theme = "light";
  LlmFlags llm;
};

int report_runs(const ReportFlags& f) {
  if (f.runs.empty()) throw InputError("report needs at least one RUN (a result file, run id or baseline name)");
  const std::string format = report_format(f.format, f.output);  // a bad format fails before any work
  std::unique_ptr<store::Store> st;
  for (const auto& m : f.history) history_util::registry_metric(m);  // an unknown metric fails before any work
  if (!f.history.empty() || std::any_of(f.runs.begin(), f.runs.end(), needs_store)) st = store::open_store(f.store);
  report::ReportInput in;
  in.title = f.title.empty() ? "TrackIQ report" : f.title;
  for (const auto& r : f.runs) in.runs.push_back(resolve_run(r, st.get(), f.hardware));
  if (!f.history.empty()) in.history = history_util::history_sections(in.runs, f.history, *st);
  add_narrative(in, f.llm);
  write_report(in, format, f.output, f.theme);
  if (!f.output.empty() && f.output != "-") {
    const auto es = report::executive_summary(in);
    fmt::print("{}: {}\nreport  {}\n", report::to_string(es.decision), es.headline, f.output);
  }
  return kExitOk;
}

}  // namespace

Action setup_report(CLI::App& sub) {
  auto f = std::make_shared<ReportFlags>();
  sub.footer(
      "Render one or more runs from one report model: an executive summary first (APPROVE or BLOCK, with\n"
      "ranked findings: failed SLOs, failed queries, unstable or bimodal latency, throttling, CPU\n"
      "saturation, memory pressure), then the runs and their SLO checks. No statistics are recomputed.\n"
      "Formats: html (one self-contained interactive page that works offline: verdict and SLO badges,\n"
      "summary cards (for an LLM serving run TTFT, TPOT and E2EL p50/p99, output tokens/s, goodput),\n"
      "latency histogram, CDF, box plot, latency over time with telemetry overlays and throttling\n"
      "marks, trade-off charts (an LLM sweep: TTFT and TPOT against the concurrency or rate),\n"
      "cross-run charts, environment; NAME_data.json and NAME_data.csv\n"
      "are written beside it), pdf (that page printed by headless Chromium), md (GitHub Markdown,\n"
      "<= 65 000 characters, long tables cut with a note), junit (a testsuite per run, a testcase per\n"
      "SLO), json, csv (a row per run and metric). For a comparison report use\n"
      "`trackiq compare A B --report FILE`.\n"
      "--llm sends the structured findings (no raw samples) to an OpenAI-compatible chat endpoint and\n"
      "adds its narrative under a heading naming the model (Markdown, JSON); if it fails or times out\n"
      "the report says what failed and is otherwise complete.\n"
      "--history METRIC (repeatable): a History section (HTML, Markdown, JSON) per metric and per series\n"
      "of the reported runs (product, hardware, workload, scenario, configuration): the metric over that series' stored runs\n"
      "with its change points and the runs around each, as `trackiq history` shows it.\n"
      "The exit code is 0 whenever the report was written (gate with `compare` or `run --profile`).\n\n"
      "Each RUN is a result JSON file, a stored run id (or prefix), a baseline name, or group:NAME of a\n"
      "sharded load group (`trackiq load --shard K/N --group NAME`): its newest merged run (`runs merge`).\n\n"
      "Examples:\n"
      "  trackiq report 3f2a                                  # Markdown to stdout\n"
      "  trackiq report 3f2a 9c1d main -o runs.md --title 'nightly, edge boxes'\n"
      "  trackiq report result.json --format junit -o junit.xml\n"
      "  trackiq report 3f2a 9c1d -o runs.html --theme dark     # + runs_data.json, runs_data.csv\n"
      "  trackiq report 3f2a -o run.pdf                         # needs Debian's chromium\n"
      "  trackiq report 3f2a --history latency_p99_ms -o run.html  # + the series' history and change points\n"
      "  trackiq report 3f2a --llm http://localhost:11434/v1 --model llama3.1:8b -o report.md");
  sub.add_option("runs", f->runs, "Runs: files, run ids or baseline names")->required();
  sub.add_option("--format", f->format, "html, pdf, md (or markdown), junit (or xml), json or csv (default: from the -o extension, else md)");
  sub.add_option("-o,--output", f->output, "Write to FILE (atomically) instead of stdout");
  sub.add_option("--title", f->title, "Report title");
  sub.add_option("--history", f->history, "METRIC: add the history of this metric over each reported run's series (repeatable)")
      ->allow_extra_args(false);
  add_theme_option(sub, f->theme);
  sub.add_option("--hardware", f->hardware, "Hardware fingerprint for resolving baseline names");
  sub.add_option("--store", f->store, cli::kStoreHelp);
  f->llm.add_to(sub);
  return [f] { return report_runs(*f); };
}

}  // namespace trackiq::cli
