// Markdown, JUnit XML, CSV and JSON renderers of one report model (REP-1). Each formats what
// the results and the comparison hold; the executive summary comes from executive_summary().
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "glance.hpp"
#include "text.hpp"
#include "trackiq/report/report.hpp"

namespace trackiq::report {
namespace {

using text::csv_field;
using text::g;
using text::short_id;
using text::unit_suffix;
using text::xml_escape;

std::string opt_metric(const Result& r, std::string_view name) {
  const auto v = r.metric_value(name);
  return v ? g(*v) : std::string("-");
}

// Markdown table cells: no raw '|' or newline.
std::string cell(std::string s) {
  std::string out;
  for (const char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

struct Table {
  std::string header;  // "| a | b |\n|---|---|\n"
  std::vector<std::string> rows;
  std::string render(std::size_t limit) const {
    std::string out = header;
    for (std::size_t i = 0; i < rows.size() && i < limit; ++i) out += rows[i];
    if (rows.size() > limit)
      out += fmt::format("\n_… {} more rows not shown (the report is kept under the PR comment limit); "
                         "the JSON and CSV reports have every row._\n",
                         rows.size() - limit);
    return out;
  }
};

std::string slo_verdict(const SloVerdict& s) {
  std::string t = slo_state_text(s.state);
  if (s.state == SloState::kNotConfirmed && s.requests_needed) t += fmt::format(" (needs ≥ {} requests)", *s.requests_needed);
  return t;
}

std::string csv_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string(); }

}  // namespace

std::string render_markdown(const ReportInput& in, std::size_t max_chars) {
  const ExecutiveSummary es = executive_summary(in);
  const bool block = es.decision == Decision::kBlock;
  std::string head = fmt::format("## {} {} — {}\n\n{}\n\n", block ? "❌" : "✅", to_string(es.decision), cell(in.title),
                                 es.headline);

  Table findings{"### Findings\n\n| # | severity | kind | finding |\n|---:|---|---|---|\n", {}};
  for (std::size_t i = 0; i < es.findings.size(); ++i) {
    const auto& f = es.findings[i];
    findings.rows.push_back(fmt::format("| {} | {}{} | {} | {} |\n", i + 1, f.severity, f.blocking ? " (blocking)" : "",
                                        f.category, cell(f.text)));
  }

  // One compared metric's cells after its name: baseline, current, change, limit, severity, confidence, verdict.
  const auto metric_cells = [](const analysis::MetricComparison& m) {
    return fmt::format("{}{} | {}{} | {} | {} | {} | {} | {} |", g(m.baseline), unit_suffix(m.unit), g(m.current),
                       unit_suffix(m.unit), analysis::change_text(m, 1), analysis::limit_text(m), m.severity,
                       m.confidence, analysis::to_string(m.verdict));
  };
  Table cmp{"", {}};
  if (in.comparison) {
    const auto& c = *in.comparison;
    cmp.header = fmt::format(
        "### Comparison: **{}**\n\nbaseline `{}` → current `{}`{}\n\n"
        "| metric | baseline | current | change | limit | severity | confidence | verdict |\n"
        "|---|---:|---:|---:|---:|---|---|---|\n",
        analysis::to_string(c.verdict), c.baseline_run, c.current_run,
        c.same_hardware ? "" : " — **different hardware**");
    for (const auto& m : c.metrics) cmp.rows.push_back(fmt::format("| {} | {}\n", m.name, metric_cells(m)));
  }
  // Two sweeps: the curves along the axis first (what sustained), then each point's metrics that
  // did not pass (every point's full table would bury them; `compare --json` has them all).
  Table curves{"", {}};
  if (in.sweep) {
    const auto& sw = *in.sweep;
    const auto& cc = sw.curves;
    curves.header = fmt::format(
        "### Sweep comparison: **{}**\n\n{} points along {} ({}); {} curve window{} tested, Benjamini–Hochberg at {:g} %\n\n{}"
        "| metric | window | worse by | p (Fisher) | q | severity | confidence | verdict | reason |\n"
        "|---|---|---:|---:|---:|---|---|---|---|\n",
        analysis::to_string(sw.verdict), sw.comparisons.size(), cc.axis, fmt::join(cc.points, ", "), cc.tests,
        cc.tests == 1 ? "" : "s", cc.fdr_level * 100, [&] {
          std::string notes;
          for (const auto& n : cc.notes) notes += "> " + cell(n) + "\n\n";
          return notes;
        }());
    const auto pos = [&](std::size_t i) { return i < cc.points.size() ? cc.points[i] : std::string("?"); };
    for (const auto& f : cc.findings) {
      const std::string unit = f.points_unit ? " pp" : " %";
      curves.rows.push_back(fmt::format(
          "| {} | {} → {} | {:.1f}–{:.1f}{} | {} | {} | {} | {} | {} | {} |\n", f.metric, cell(pos(f.first)),
          cell(pos(f.last)), f.min_regression, f.max_regression, unit,
          f.p_value ? fmt::format("{:.2g}", *f.p_value) : std::string("-"),
          f.q_value ? fmt::format("{:.2g}", *f.q_value) : std::string("-"), f.severity, f.confidence,
          analysis::to_string(f.verdict), cell(f.reason)));
    }
    if (cc.findings.empty()) curves.rows.push_back("| - | no window of two or more adjacent points is worse | | | | | | PASS | |\n");
  }
  Table points{"### Sweep points: metrics that did not pass\n\n"
               "| point | metric | baseline | current | change | limit | severity | confidence | verdict |\n"
               "|---|---|---:|---:|---:|---:|---|---|---|\n",
               {}};
  if (in.sweep)
    for (std::size_t i = 0; i < in.sweep->comparisons.size(); ++i)
      for (const auto& m : in.sweep->comparisons[i].metrics)
        if (m.verdict != analysis::Verdict::kPass)
          points.rows.push_back(fmt::format("| {} | {} | {}\n", cell(i < in.sweep->points.size() ? in.sweep->points[i] : ""),
                                            m.name, metric_cells(m)));

  Table runs{"### Runs\n\n| run | product | version | workload | scenario | p50 ms | p99 ms | throughput /s | errors | SLOs |\n"
             "|---|---|---|---|---|---:|---:|---:|---:|---|\n",
             {}};
  for (const auto& r : in.runs) {
    std::size_t pass = 0, fail = 0, unconfirmed = 0, unmeasured = 0;
    for (const auto& s : r.slo)
      (s.state == SloState::kPass ? pass : s.state == SloState::kFail ? fail : s.state == SloState::kNotConfirmed ? unconfirmed : unmeasured) += 1;
    const std::string slos =
        r.slo.empty() ? "-"
                      : fmt::format("{} pass, {} fail, {}{} not measured", pass, fail,
                                    unconfirmed ? fmt::format("{} not confirmed, ", unconfirmed) : std::string(), unmeasured);
    runs.rows.push_back(fmt::format("| `{}` | {} | {} | {}:{}{} | {} | {} | {} | {} | {} | {} |\n", short_id(r.run_id),
                                    cell(r.labels.product), cell(r.labels.version), cell(r.workload.backend),
                                    cell(r.workload.model), r.workload.synthetic ? " (synthetic)" : "", r.scenario.name, opt_metric(r, "latency_p50_ms"),
                                    opt_metric(r, "latency_p99_ms"), opt_metric(r, "throughput_samples_per_s"),
                                    r.errors.total, slos));
  }

  // LLM serving runs lead with their own figures (the HTML report's cards): TTFT, TPOT (ITL when
  // a run has no TPOT), E2EL, output tokens/s and goodput; what a run lacks is said under the table.
  Table llm{"", {}};
  std::map<std::string, std::string> llm_missing;  // card label -> "not available: why"
  std::vector<std::string> llm_labels;
  for (const auto& r : in.runs) {
    const Glance gl = at_a_glance(r);
    if (!gl.llm) continue;
    std::string row = fmt::format("| `{}` |", short_id(r.run_id));
    for (const GlanceCard& c : gl.cards) {
      if (c.label == "requests/s" || c.label == "errors") continue;  // in the Runs table
      std::string label = c.label;
      if (label.rfind("ITL", 0) == 0) label.replace(0, 3, "TPOT");   // one column for the per-token latency
      if (std::find(llm_labels.begin(), llm_labels.end(), label) == llm_labels.end()) llm_labels.push_back(label);
      const bool itl = c.label != label;
      row += fmt::format(" {}{} |", c.value ? g(*c.value) : std::string("-"), itl && c.value ? " (ITL)" : "");
      if (!c.value) llm_missing.emplace(c.label, c.missing);
      if (itl && c.value)
        llm_missing.emplace("(ITL)", "the run has no TPOT (no request with two or more output tokens): its inter-token "
                                     "latency is shown");
    }
    llm.rows.push_back(row + "\n");
  }
  if (!llm.rows.empty()) {
    static const std::map<std::string, std::string> kUnits{{"output tokens/s", ""}, {"goodput", " req/s"}};
    llm.header = "### LLM serving\n\n| run |";
    std::string rule = "|---|";
    for (const auto& label : llm_labels) {
      const auto u = kUnits.find(label);
      llm.header += fmt::format(" {}{} |", label, u == kUnits.end() ? " ms" : u->second);
      rule += "---:|";
    }
    llm.header += "\n" + rule + "\n";
  }
  std::string llm_notes;
  for (const auto& [label, why] : llm_missing) llm_notes += fmt::format("- {}: {}\n", label, why);

  Table slo{"### SLO checks\n\n| run | metric | limit | measured | verdict |\n|---|---|---|---:|---|\n", {}};
  for (const auto& r : in.runs)
    for (const auto& s : r.slo)
      slo.rows.push_back(fmt::format("| `{}` | {} | {} {} | {} | {} |\n", short_id(r.run_id), s.metric, s.op, g(s.limit),
                                     s.measured ? g(*s.measured) : std::string("-"), slo_verdict(s)));

  std::string narrative;
  if (in.narrative) {
    const auto& n = *in.narrative;
    narrative = n.error.empty()
                    ? fmt::format("### Narrative by {} (LLM-written from the findings; the findings are the source)\n\n{}\n\n",
                                  cell(n.model), n.text)
                    : fmt::format("> LLM narrative ({}) not available: {}\n\n", cell(n.model), cell(n.error));
  }
  // History (report --history): per series, its change points with the runs around each.
  Table history{"### History\n\n| series | metric | runs | change | at run | before → after | p | confidence | runs before | runs after |\n"
                "|---|---|---:|---|---|---|---:|---|---|---|\n",
                {}};
  for (const auto& h : in.history) {
    const auto around = [&](std::size_t b, std::size_t e) {
      std::string out;
      for (std::size_t i = b; i < e; ++i)
        out += fmt::format("{}`{}` {}", i == b ? "" : ", ", short_id(h.points[i].run_id),
                           cell(h.points[i].commit.empty() ? h.points[i].version : h.points[i].commit.substr(0, 10)));
      return out;
    };
    if (h.changes.empty())
      history.rows.push_back(fmt::format("| {} | {} | {} | {} | | | | | | |\n", cell(h.series), h.metric, h.points.size(),
                                         h.not_tested.empty() ? std::string("no change") : cell("not tested: " + h.not_tested)));
    for (const auto& c : h.changes)
      history.rows.push_back(fmt::format("| {} | {} | {} | {} {:+.1f} % | `{}` | {} → {}{} | {:.2g} | {} | {} | {} |\n",
                                         cell(h.series), h.metric, h.points.size(), c.kind, c.magnitude_pct,
                                         short_id(h.points[c.index].run_id), g(c.before), g(c.after),
                                         h.unit == "1" ? "" : " " + h.unit, c.p_value, c.confidence,
                                         around(c.index >= 3 ? c.index - 3 : 0, c.index),
                                         around(c.index, std::min(h.points.size(), c.index + 3))));
  }
  auto assemble = [&](std::size_t limit) {
    std::string out = head;
    if (!findings.rows.empty()) out += findings.render(limit) + "\n";
    out += narrative;
    if (in.comparison) out += cmp.render(limit) + "\n";
    if (in.sweep) {
      out += curves.render(limit) + "\n";
      if (!points.rows.empty()) out += points.render(limit) + "\n";
    }
    if (!llm.rows.empty()) out += llm.render(limit) + (llm_notes.empty() ? "" : "\n" + llm_notes) + "\n";
    if (!runs.rows.empty()) out += runs.render(limit) + "\n";
    if (!slo.rows.empty()) out += slo.render(limit) + "\n";
    if (!history.rows.empty()) out += history.render(limit) + "\n";
    return out;
  };
  std::size_t limit = std::max({findings.rows.size(), cmp.rows.size(), curves.rows.size(), points.rows.size(),
                                llm.rows.size(), runs.rows.size(), slo.rows.size(), history.rows.size()});
  std::string out = assemble(limit);
  while (out.size() > max_chars && limit > 0) {
    limit /= 2;
    out = assemble(limit);
  }
  if (out.size() > max_chars) {  // even the header is too long (a huge title): cut on a UTF-8 boundary
    std::size_t cut = max_chars;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

std::string render_junit(const ReportInput& in) {
  std::string suites;
  std::size_t all_tests = 0, all_failures = 0;
  for (const auto& r : in.runs) {
    std::string cases;
    std::size_t tests = 0, failures = 0, skipped = 0;
    const std::string classname = fmt::format("trackiq.{}.{}", r.labels.product.empty() ? "run" : r.labels.product,
                                              r.scenario.name);
    for (const auto& s : r.slo) {
      ++tests;
      std::string body;
      if (!s.measured) {
        ++skipped;
        body = "<skipped message=\"not measured in this run\"/>";
      } else if (s.state == SloState::kNotConfirmed) {
        // Within the limit, too few requests to confirm it: not a failure (MLPerf: invalid).
        ++skipped;
        body = fmt::format("<skipped message=\"{}\"/>",
                           xml_escape(fmt::format("NOT CONFIRMED: {} = {} is within {} {}, but the run was too short to confirm it{}",
                                                  s.metric, g(*s.measured), s.op, g(s.limit),
                                                  s.requests_needed ? fmt::format(" (needs >= {} requests)", *s.requests_needed)
                                                                    : std::string())));
      } else if (s.state == SloState::kFail) {
        ++failures;
        const std::string msg = fmt::format("{} = {}, limit {} {}", s.metric, g(*s.measured), s.op, g(s.limit));
        body = fmt::format("<failure message=\"{}\" type=\"slo\">{}</failure>", xml_escape(msg), xml_escape(msg));
      }
      cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\"{}\n", xml_escape(classname),
                           xml_escape(fmt::format("{} {} {}", s.metric, s.op, g(s.limit))),
                           body.empty() ? "/>" : ">" + body + "</testcase>");
    }
    // Every run is at least one test: it completed without failed queries.
    ++tests;
    if (r.errors.total > 0) {
      ++failures;
      const std::string msg = fmt::format("{} failed queries", r.errors.total);
      std::string detail = msg;
      for (const auto& [k, n] : r.errors.by_class) detail += fmt::format("\n{}: {}", k, n);
      for (const auto& e : r.errors.examples) detail += "\ne.g. " + e;
      cases += fmt::format("    <testcase classname=\"{}\" name=\"completed without errors\"><failure message=\"{}\" "
                           "type=\"errors\">{}</failure></testcase>\n",
                           xml_escape(classname), xml_escape(msg), xml_escape(detail));
    } else {
      cases += fmt::format("    <testcase classname=\"{}\" name=\"completed without errors\"/>\n", xml_escape(classname));
    }
    suites += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" timestamp=\"{}\">\n"
        "    <properties>\n"
        "      <property name=\"run_id\" value=\"{}\"/>\n"
        "      <property name=\"workload\" value=\"{}\"/>\n"
        "      <property name=\"hardware_fingerprint\" value=\"{}\"/>\n"
        "    </properties>\n{}  </testsuite>\n",
        xml_escape(fmt::format("run {} {}:{} {}", short_id(r.run_id), r.workload.backend, r.workload.model,
                               r.scenario.name)),
        tests, failures, skipped, xml_escape(r.started_at.substr(0, 19)), xml_escape(r.run_id),
        xml_escape(r.workload.backend + ":" + r.workload.model), xml_escape(r.environment.hardware_fingerprint), cases);
    all_tests += tests;
    all_failures += failures;
  }
  // One testsuite per comparison (a pair, or each point of two sweeps): a testcase per metric.
  const auto comparison_suite = [&](const analysis::Comparison& c, const std::string& where) {
    std::string cases;
    std::size_t failures = 0;
    for (const auto& m : c.metrics) {
      const std::string numbers =
          fmt::format("{}: {} → {}{} ({}, threshold {}{}, severity {}, confidence {}): {}", m.name,
                      g(m.baseline), g(m.current), unit_suffix(m.unit), analysis::change_text(m, 2), analysis::limit_text(m),
                      m.p_value ? fmt::format(", p = {:.3g}", *m.p_value) : std::string(), m.severity, m.confidence,
                      m.reason);
      std::string body;
      if (m.verdict == analysis::Verdict::kBlock) {
        ++failures;
        body = fmt::format("><failure message=\"{}\" type=\"regression\">{}</failure></testcase>", xml_escape(numbers),
                           xml_escape(numbers));
      } else {
        body = fmt::format("><system-out>{}{}</system-out></testcase>",
                           m.verdict == analysis::Verdict::kWarn ? "WARN: " : "", xml_escape(numbers));
      }
      cases += fmt::format("    <testcase classname=\"trackiq.compare\" name=\"{}\"{}\n", xml_escape(m.name), body);
    }
    suites += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">\n{}  </testsuite>\n",
        xml_escape(fmt::format("compare {} -> {}{}", short_id(c.baseline_run), short_id(c.current_run),
                               where.empty() ? "" : " at " + where)),
        c.metrics.size(), failures, cases);
    all_tests += c.metrics.size();
    all_failures += failures;
  };
  if (in.comparison) comparison_suite(*in.comparison, "");
  if (in.sweep) {
    const auto& sw = *in.sweep;
    for (std::size_t i = 0; i < sw.comparisons.size(); ++i)
      comparison_suite(sw.comparisons[i], i < sw.points.size() ? sw.points[i] : fmt::format("#{}", i + 1));
    // The curves: a testcase per window of sustained change, failed when it blocks.
    std::string cases;
    std::size_t failures = 0;
    for (const auto& f : sw.curves.findings) {
      const auto pos = [&](std::size_t i) { return i < sw.curves.points.size() ? sw.curves.points[i] : std::string("?"); };
      const std::string name = fmt::format("{} from {} to {}", f.metric, pos(f.first), pos(f.last));
      const std::string text = fmt::format("{} (severity {}, confidence {})", f.reason, f.severity, f.confidence);
      if (f.verdict == analysis::Verdict::kBlock) {
        ++failures;
        cases += fmt::format("    <testcase classname=\"trackiq.compare.curves\" name=\"{}\"><failure message=\"{}\" "
                             "type=\"regression\">{}</failure></testcase>\n",
                             xml_escape(name), xml_escape(text), xml_escape(text));
      } else {
        cases += fmt::format("    <testcase classname=\"trackiq.compare.curves\" name=\"{}\"><system-out>{}{}</system-out>"
                             "</testcase>\n",
                             xml_escape(name), f.verdict == analysis::Verdict::kWarn ? "WARN: " : "", xml_escape(text));
      }
    }
    suites += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">\n{}  </testsuite>\n",
        xml_escape(fmt::format("curves along {}", sw.curves.axis)), sw.curves.findings.size(), failures, cases);
    all_tests += sw.curves.findings.size();
    all_failures += failures;
  }
  return fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\">\n{}"
                     "</testsuites>\n",
                     xml_escape(in.title), all_tests, all_failures, suites);
}

std::string render_csv(const ReportInput& in) {
  std::string out = "record,run_id,product,version,workload,scenario,metric,value,unit,direction,kind,baseline,current,"
                    "change_pct,threshold_pct,p_value,severity,confidence,verdict\r\n";
  for (const auto& r : in.runs) {
    for (const auto& m : r.metrics) {
      const auto& def = metric(m.name);
      out += fmt::format("metric,{},{},{},{},{},{},{},{},{},{},,,,,,,,\r\n", r.run_id, csv_field(r.labels.product),
                         csv_field(r.labels.version), csv_field(r.workload.backend + ":" + r.workload.model),
                         r.scenario.name, m.name, csv_number(m.value), csv_field(std::string(def.unit)),
                         to_string(def.direction), to_string(m.kind));
    }
  }
  const auto comparison_rows = [&](const analysis::Comparison& c, const std::string& scenario) {
    for (const auto& m : c.metrics)
      out += fmt::format("comparison,{},,,,{},{},,{},{},,{},{},{},{},{},{},{},{}\r\n", c.current_run, csv_field(scenario),
                         m.name, csv_field(m.unit), to_string(m.direction), csv_number(m.baseline),
                         csv_number(m.current), csv_number(m.change_pct), csv_number(m.threshold_pct),
                         m.p_value ? csv_number(*m.p_value) : std::string(), m.severity, m.confidence,
                         analysis::to_string(m.verdict));
  };
  if (in.comparison) comparison_rows(*in.comparison, "");
  if (in.sweep) {
    // Each point's rows carry the sweep point in the scenario column; a curve window is one
    // `curve` row: the window in that column, its largest change and Fisher's p.
    const auto& sw = *in.sweep;
    for (std::size_t i = 0; i < sw.comparisons.size(); ++i)
      comparison_rows(sw.comparisons[i], i < sw.points.size() ? sw.points[i] : "");
    for (const auto& f : sw.curves.findings) {
      const auto pos = [&](std::size_t i) { return i < sw.curves.points.size() ? sw.curves.points[i] : std::string(); };
      out += fmt::format("curve,,,,,{},{},,{},{},,,,{},,{},{},{},{}\r\n", csv_field(pos(f.first) + " to " + pos(f.last)),
                         f.metric, csv_field(f.points_unit ? "pp" : f.unit),
                         find_metric(f.metric) ? std::string(to_string(find_metric(f.metric)->direction)) : std::string(),
                         csv_number(f.max_regression), f.p_value ? csv_number(*f.p_value) : std::string(), f.severity,
                         f.confidence, analysis::to_string(f.verdict));
    }
  }
  return out;
}

nlohmann::ordered_json text::report_json(const ReportInput& in) {
  using Json = nlohmann::ordered_json;
  const ExecutiveSummary es = executive_summary(in);
  Json findings = Json::array();
  for (const auto& f : es.findings)
    findings.push_back({{"severity", f.severity}, {"category", f.category}, {"run_id", f.run_id}, {"text", f.text},
                        {"blocking", f.blocking}});
  Json runs = Json::array();
  for (Result r : in.runs) {
    if (r.latency) {  // the data files carry samples; the report does not
      r.latency->samples_ns.clear();
      r.latency->sample_end_ns.clear();
    }
    r.telemetry.series.reset();
    runs.push_back(Json::parse(to_json(r, -1)));
  }
  Json j{{"title", in.title},
         {"executive_summary", {{"decision", to_string(es.decision)}, {"headline", es.headline}, {"findings", findings}}},
         {"runs", runs},
         {"comparison", in.comparison ? Json::parse(analysis::comparison_json(*in.comparison)) : Json(nullptr)}};
  if (in.sweep) {
    Json points = Json::array();
    for (const auto& c : in.sweep->comparisons) points.push_back(Json::parse(analysis::comparison_json(c)));
    j["sweep_comparison"] = {{"verdict", analysis::to_string(in.sweep->verdict)},
                             {"points", in.sweep->points},
                             {"comparisons", std::move(points)},
                             {"curves", Json::parse(analysis::curve_comparison_json(in.sweep->curves))}};
  }
  if (in.narrative)
    j["executive_summary"]["narrative"] = {{"model", in.narrative->model}, {"text", in.narrative->text}, {"error", in.narrative->error}};
  if (!in.history.empty()) {
    const auto finite = [](double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); };
    Json hist = Json::array();
    for (const auto& h : in.history) {
      Json points = Json::array(), changes = Json::array();
      for (const auto& p : h.points)
        points.push_back({{"run_id", p.run_id}, {"started_at", p.started_at}, {"version", p.version}, {"commit", p.commit},
                          {"value", finite(p.value)}, {"segment_mean", finite(p.segment_mean)}});
      for (const auto& c : h.changes)
        changes.push_back({{"index", c.index}, {"run_id", h.points.at(c.index).run_id}, {"before", finite(c.before)},
                           {"after", finite(c.after)}, {"magnitude_pct", finite(c.magnitude_pct)}, {"p_value", c.p_value},
                           {"confidence", c.confidence}, {"direction", c.kind}});
      hist.push_back({{"series", h.series}, {"metric", h.metric}, {"unit", h.unit}, {"points", points}, {"change_points", changes},
                      {"not_tested", h.not_tested}});
    }
    j["history"] = std::move(hist);
  }
  return j;
}

std::string render_json(const ReportInput& in) { return text::report_json(in).dump(2) + "\n"; }

std::string escape_xml(const std::string& s) { return text::xml_escape(s); }

}  // namespace trackiq::report
