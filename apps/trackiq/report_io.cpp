#include "report_io.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/report/html.hpp"

namespace trackiq::cli {

bool needs_store(const std::string& what) { return !std::filesystem::is_regular_file(what); }

void check_named_file(const std::string& what) {
  // A path that does not exist is a missing file, not a run id or baseline name to look up.
  if (!std::filesystem::is_regular_file(what) && (what.find('/') != std::string::npos || what.ends_with(".json")))
    throw InputError(fmt::format("{}: no such file (a result file, or a stored run id, baseline name or group:NAME)", what));
}

Result resolve_run(const std::string& what, store::Store* st, const std::string& hardware) {
  if (std::filesystem::is_regular_file(what)) {
    std::vector<Result> rs = read_results(what);
    if (rs.size() != 1)
      throw InputError(fmt::format("{}: a sweep of {} results: it compares with another sweep file, point by point, "
                                   "not with one run",
                                   what, rs.size()));
    return std::move(rs.front());
  }
  check_named_file(what);
  if (!st) throw InputError(fmt::format("'{}' is not a file", what));
  if (what.rfind("group:", 0) == 0) {
    // A sharded load group (trackiq load --shard K/N --group NAME) stands for its newest merged run.
    const std::string name = what.substr(6);
    store::RunFilter filter;
    filter.labels = {{"group", name}};
    filter.limit = 0;
    for (const auto& s : st->list(filter)) {  // newest first
      Result r = st->load(s.run_id);
      if (r.labels.extra.count("merged_from")) return r;
    }
    throw InputError(fmt::format("{}: no merged run of that group in {} (trackiq runs merge --group {})", what,
                                 st->location(), name));
  }
  if (store::is_run_id_prefix(what)) {
    try {
      return st->load(what);
    } catch (const InputError&) {
      // not a run id after all: try it as a baseline name below
    }
  }
  // No baseline of that name at all: `what` may have been meant as a run id, so say every thing
  // it could have been (find_baseline would say only "no baseline").
  const auto baselines = st->list_baselines();
  if (std::none_of(baselines.begin(), baselines.end(), [&](const store::BaselineInfo& b) { return b.name == what; }))
    throw InputError(fmt::format("'{}' is not a result file, a stored run (id or prefix of >= 4 characters) or a "
                                 "baseline in {} (trackiq runs list, trackiq baseline list; group:NAME names a group)",
                                 what, st->location()));
  return st->load(st->find_baseline(what, hardware).run_id);
}

bool is_group(const std::string& what) { return what.rfind(kGroupPrefix, 0) == 0; }

std::vector<Result> load_group(store::Store& st, const std::string& what) {
  const std::string name = what.substr(kGroupPrefix.size());
  store::RunFilter filter;
  filter.labels = {{"group", name}};
  filter.limit = 0;
  const auto found = st.list(filter);
  if (found.empty()) throw InputError(fmt::format("no runs labelled group={} in {}", name, st.location()));
  std::vector<Result> runs;
  for (auto it = found.rbegin(); it != found.rend(); ++it) runs.push_back(st.load(it->run_id));
  // A sharded load group (trackiq load --shard K/N --group NAME): its shards are parts of one run,
  // not repeats; the group stands for its newest merged run.
  const auto has = [](const Result& r, const char* label) { return r.labels.extra.count(label) > 0; };
  if (std::any_of(runs.begin(), runs.end(), [&](const Result& r) { return has(r, "shard") || has(r, "merged_from"); })) {
    for (auto it = runs.rbegin(); it != runs.rend(); ++it)
      if (has(*it, "merged_from")) return {*it};
    throw InputError(fmt::format("{} holds the shards of a sharded load run, not yet merged: trackiq runs merge --group {}",
                                 what, name));
  }
  return runs;
}

std::vector<Result> read_results(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot read (no such file or no permission)", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return results_from_json(ss.str(), path);
}

std::string report_format(const std::string& format, const std::string& path) {
  std::string f = format;
  if (f.empty()) {
    const std::string ext = std::filesystem::path(path).extension().string();
    if (ext == ".md" || ext == ".markdown") f = "md";
    else if (ext == ".xml") f = "junit";
    else if (ext == ".json") f = "json";
    else if (ext == ".csv") f = "csv";
    else if (ext == ".html" || ext == ".htm") f = "html";
    else if (ext == ".pdf") f = "pdf";
    else if (path.empty() || path == "-") f = "md";
    else throw InputError(fmt::format("{}: cannot tell the report format from the extension (use .html, .pdf, .md, .xml, .json or .csv)", path));
  }
  // The names people type for the same formats (`compare --markdown`, JUnit's "xml" files).
  if (f == "markdown") f = "md";
  else if (f == "xml") f = "junit";
  if (f != "md" && f != "junit" && f != "json" && f != "csv" && f != "html" && f != "pdf")
    throw InputError(fmt::format("report format '{}': use html, pdf, md, junit, json or csv", f));
  if (f == "pdf" && (path.empty() || path == "-")) throw InputError("a PDF report needs a file: -o FILE.pdf");
  if (f == "pdf") report::require_chromium();  // before any work, not after a long run
  return f;
}

void LlmFlags::add_to(CLI::App& sub) {
  sub.add_option("--llm", url,
                 "OpenAI-compatible endpoint for a narrative of the findings, e.g. http://localhost:11434/v1 (Ollama)");
  sub.add_option("--model", model, "Model for --llm");
  sub.add_option("--llm-timeout", timeout, "Give up on the narrative after this long")->capture_default_str();
}

void add_narrative(report::ReportInput& in, const LlmFlags& llm) {
  if (llm.url.empty()) return;
  if (llm.model.empty()) throw InputError("--llm needs --model NAME");
  const auto t = parse_duration_ns(llm.timeout);
  if (!t || *t < 1'000'000) throw InputError(fmt::format("--llm-timeout '{}': expected a duration such as 30s", llm.timeout));
  report::LlmOptions o{llm.url, llm.model, static_cast<int>(std::min<std::int64_t>(*t / 1'000'000, 3'600'000))};
  in.narrative = report::request_narrative(in, report::executive_summary(in), o);
  if (!in.narrative->error.empty())
    fmt::print(stderr, "trackiq: LLM narrative not available ({}): {}; the rule-based summary is complete\n", llm.model,
               in.narrative->error);
}

void add_theme_option(CLI::App& sub, std::string& theme) {
  sub.add_option("--theme", theme, "HTML/PDF report: the initial theme, light or dark (the page has a switch)")
      ->check(CLI::IsMember({"light", "dark"}))
      ->capture_default_str();
}

std::string data_file_path(const std::string& report_path, std::string_view suffix) {
  const std::filesystem::path p(report_path);
  return (p.parent_path() / (p.stem().string() + "_data" + std::string(suffix))).string();
}

void write_report(const report::ReportInput& in, const std::string& format, const std::string& path,
                  const std::string& theme) {
  const std::string f = report_format(format, path);
  if (f == "html" || f == "pdf") {
    const report::HtmlReport h = report::render_html(in, {.theme = theme});
    if (f == "pdf") {
      report::print_pdf(h.html, path);
      return;
    }
    if (path.empty() || path == "-") return write_output(path, h.html);
    // The data files first (the page links them), then the page; if any write fails, the data
    // files this call wrote are removed again, so a failed report leaves nothing behind.
    const std::string json_path = data_file_path(path, ".json"), csv_path = data_file_path(path, ".csv");
    std::vector<std::string> written;
    try {
      write_file_atomic(json_path, h.data_json);
      written.push_back(json_path);
      write_file_atomic(csv_path, h.data_csv);
      written.push_back(csv_path);
      write_file_atomic(path, h.html);
    } catch (...) {
      for (const std::string& w : written) std::filesystem::remove(w);
      throw;
    }
    return;
  }
  const std::string text = f == "md"      ? report::render_markdown(in)
                           : f == "junit" ? report::render_junit(in)
                           : f == "json"  ? report::render_json(in)
                                          : report::render_csv(in);
  write_output(path, text);
}

void write_output(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") std::cout << text;
  else write_file_atomic(path, text);
}

}  // namespace trackiq::cli
