#pragma once
// One report model, many renderers (REP-1), and the rule-based executive summary (REP-4).
// Renderers format what the results and the comparison already hold: none of them computes a
// statistic of its own. The executive summary applies fixed rules to the same model.
//
//   trackiq::report::ReportInput in{.title = "nightly", .runs = {base, cur}, .comparison = cmp};
//   std::string md = trackiq::report::render_markdown(in);   // verdict first, fits a PR comment
//   std::string xml = trackiq::report::render_junit(in);     // one testcase per SLO / metric
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "trackiq/analysis/compare.hpp"
#include "trackiq/core/result.hpp"

namespace trackiq::report {

// An LLM's narrative of the findings (REP-4, optional). The rule-based summary never depends on
// it: when the request fails, `error` says what failed and the report says so.
struct Narrative {
  std::string model;
  std::string text;   // empty when the request failed
  std::string error;  // what failed, when it did
};

// One metric's history over the stored runs of one series, with its change points, as
// `trackiq history` computes it (`trackiq report --history METRIC`): renderers only format it.
struct HistoryPoint {
  std::string run_id, started_at, version, commit;
  double value = 0;
  double segment_mean = 0;
};
struct HistoryChange {
  std::size_t index = 0;  // the first point of the new segment
  double before = 0, after = 0, magnitude_pct = 0, p_value = 1;
  std::string confidence;  // "high", "medium", "low"
  std::string kind;        // "regression", "improvement", "change" (from the registry's direction)
};
struct HistorySection {
  std::string series;  // "product / hardware / workload / scenario"
  std::string metric, unit;
  std::vector<HistoryPoint> points;  // oldest first
  std::vector<HistoryChange> changes;
  std::string not_tested;  // why the series was not tested, or ""
};

// Two sweeps compared (`trackiq compare SWEEP_A SWEEP_B --markdown/--report`): each point's
// comparison, under one false-discovery rate, and the curves along the sweep's axis (CMP-5).
struct SweepComparison {
  std::vector<std::string> points;                // the sweep point of each comparison ("concurrency=4")
  std::vector<analysis::Comparison> comparisons;  // in the input's order
  analysis::CurveComparison curves;
  analysis::Verdict verdict = analysis::Verdict::kPass;  // the worst of the points and the curves
};

struct ReportInput {
  std::string title = "TrackIQ report";
  std::vector<Result> runs;  // for a comparison: {baseline, current}; for a sweep comparison: the current sweep
  std::optional<analysis::Comparison> comparison;
  std::optional<SweepComparison> sweep;  // instead of `comparison`
  std::optional<Narrative> narrative;
  std::vector<HistorySection> history;  // shown after the runs (HTML, Markdown, JSON)
};

enum class Decision { kApprove, kBlock };
std::string_view to_string(Decision d) noexcept;  // "APPROVE", "BLOCK"

struct Finding {
  std::string severity;  // "critical", "high", "medium", "low" (rank order)
  std::string category;  // "regression", "slo", "errors", "instability", "telemetry", "comparability"
  std::string run_id;    // the run it is about; "" for the comparison as a whole
  std::string text;      // one line with the numbers
  bool blocking = false;
};

struct ExecutiveSummary {
  Decision decision = Decision::kApprove;
  std::string headline;
  std::vector<Finding> findings;  // blocking first, then by severity
};

// The rules (docs/metrics.md, "Executive summary"):
//  - a compared metric with verdict BLOCK blocks (severity from the comparison: critical,
//    severe → high, moderate → medium); WARN is a low, non-blocking finding;
//  - a failed SLO blocks (high); an SLO NOT CONFIRMED (within its limit, too few requests to
//    confirm it) is medium and does not block; an SLO that could not be measured is low;
//  - failed queries: error rate > 1 % blocks (high), otherwise medium;
//  - instability: latency CV > 0.5 (medium); bimodal latency — two separated modes in the log
//    histogram of the raw samples, each with >= 10 % of them (medium);
//  - telemetry: throttle events (medium; high when p99 > 2 x p50, the tail the throttling can
//    explain), CPU saturation (average >= 90 %), memory pressure (PSI memory "some" >= 10 %);
//  - a comparison across hardware fingerprints, or without raw samples, is noted (medium/low).
ExecutiveSummary executive_summary(const ReportInput& in);

// Whether the samples have two separated modes (the instability rule above).
bool is_bimodal(const std::vector<std::int64_t>& samples_ns);

struct LlmOptions {
  std::string url;    // an OpenAI-compatible base, e.g. http://localhost:11434/v1 (Ollama)
  std::string model;  // e.g. "llama3.1:8b"
  int timeout_ms = 60'000;
};

// Sends the structured findings (decision, headline, findings, compared metrics, run summaries —
// no raw samples) to `<url>/chat/completions` and returns the model's narrative. Never throws:
// a refused connection, a timeout, an HTTP error or a malformed answer comes back in
// Narrative::error. Plain http:// only (https:// is refused with a message).
Narrative request_narrative(const ReportInput& in, const ExecutiveSummary& summary, const LlmOptions& options);

// The JSON document sent to the model (also what the tests check).
std::string narrative_prompt_json(const ReportInput& in, const ExecutiveSummary& summary);

// GitHub-flavoured Markdown, verdict first. At most `max_chars` characters: long tables are
// cut, with a note saying how many rows were left out.
std::string render_markdown(const ReportInput& in, std::size_t max_chars = 65'000);
// JUnit XML: a <testsuite> per run (a testcase per SLO, or one "completed without errors" case)
// and one per comparison (a testcase per compared metric; BLOCK = failure), failures with numbers.
std::string render_junit(const ReportInput& in);
// XML text and attribute escaping as the JUnit report does it (for other JUnit writers, such as
// `trackiq detect`): & < > " ' escaped; control characters XML 1.0 forbids become spaces.
std::string escape_xml(const std::string& s);
// RFC 4180 CSV: one row per run and metric, then one row per compared metric.
std::string render_csv(const ReportInput& in);
// JSON: title, the executive summary, every run (canonical result JSON without raw samples or
// series) and the comparison.
std::string render_json(const ReportInput& in);

}  // namespace trackiq::report
