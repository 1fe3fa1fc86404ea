#pragma once
// The canonical result (SPEC STORE-1): one document per run that every renderer, the store
// and comparisons read. JSON Schema: docs/schema/result.schema.json. Bump kResultSchemaVersion
// on any incompatible change and keep result_from_json() able to read older minor versions.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trackiq/core/environment.hpp"
#include "trackiq/core/histogram.hpp"
#include "trackiq/core/metric_registry.hpp"
#include "trackiq/core/stats.hpp"

namespace trackiq {

inline constexpr std::string_view kResultSchemaVersion = "1.1";

// How a number came to be (SPEC §0.1).
enum class ValueKind { kMeasured, kDerived, kEstimated };
std::string_view to_string(ValueKind k) noexcept;

struct MetricValue {
  std::string name;  // a registry name: unit and direction come from the registry
  double value = 0;
  ValueKind kind = ValueKind::kMeasured;
};

struct Labels {
  std::string product;
  std::string version;
  std::string branch;
  std::string commit;
  bool ci = false;  // true when produced by CI (CMP-3 excludes local runs)
  std::map<std::string, std::string> extra;
};

struct TensorSpec {
  std::string name;
  std::vector<std::int64_t> shape;
  std::string dtype;  // "float32", "bfloat16", ...
};

struct WorkloadDescriptor {
  std::string backend;     // "builtin", "torch", "onnx", "cmd", "synthetic"
  std::string model;       // built-in name, model path or command line
  std::string model_hash;  // FNV-1a of the model file, or of the built-in's definition; "" if none
  std::uint32_t batch_size = 1;
  std::string precision = "fp32";
  std::string device = "cpu";
  std::uint32_t threads = 1;  // intra-op threads of the engine
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::optional<double> flops_per_query;  // known only for built-in models
  bool synthetic = false;                 // true: nothing here measures a real model
  std::map<std::string, std::string> options;  // backend-specific settings, echoed
};

struct ScenarioSettings {
  std::string name = "single-stream";  // single-stream | multi-stream | server | offline
  std::uint64_t warmup_iterations = 0;
  std::int64_t warmup_ns = 0;
  std::optional<std::uint64_t> iterations;  // minimum query count
  std::optional<std::int64_t> duration_ns;  // minimum measured duration
  std::optional<std::int64_t> max_duration_ns;
  std::uint64_t seed = 0;
  std::optional<double> qps;  // server only
  std::uint32_t samples_per_query = 1;
  std::uint32_t workers = 1;
};

struct LatencyData {
  std::string measured_from = "issue";  // "issue" (actual start) or "scheduled" (server)
  SampleSummary summary_ns;             // exact, over successful queries
  Histogram histogram = Histogram::for_latency_ns();
  std::vector<std::int64_t> samples_ns;  // optional per-query data (empty unless requested)
  // When each sample completed, in ns from the start of the measured phase (the origin of
  // telemetry.series.t_ns), in the order of samples_ns; empty when not recorded (imports).
  std::vector<std::int64_t> sample_end_ns;
};

// The telemetry samples of the measured phase: one row per sample, one column per channel.
// Kept whenever the run keeps its latency samples (the store always does).
struct TelemetrySeries {
  std::vector<std::string> names;  // "cpu.util_pct", "gpu0.power_w", ...
  std::vector<std::string> units;  // per channel: "%", "W", "°C", "B", ...
  std::vector<std::int64_t> t_ns;  // relative to the start of the measured phase (as samples_ns times)
  std::vector<double> values;      // t_ns.size() x names.size(), row-major; NaN = no value

  std::size_t width() const noexcept { return names.size(); }
  std::size_t rows() const noexcept { return t_ns.size(); }
  double at(std::size_t row, std::size_t channel) const noexcept { return values[row * width() + channel]; }
  bool operator==(const TelemetrySeries& o) const;  // NaN equals NaN here
};

struct TelemetryBlock {
  bool available = false;
  std::string reason;  // why not, when !available
  std::map<std::string, double> summary;
  std::optional<TelemetrySeries> series;
};

// The verdict of one objective. kNotConfirmed: the measured value is within the limit, but the
// run had too few requests to confirm it statistically (MLPerf calls such a run invalid, not
// failed); kNotMeasured exactly when `measured` is empty.
enum class SloState { kPass, kFail, kNotConfirmed, kNotMeasured };
std::string_view to_string(SloState s) noexcept;  // "PASS", "FAIL", "NOT_CONFIRMED", "NOT_MEASURED"

struct SloVerdict {
  std::string metric;
  std::string op;  // "<=" or ">="
  double limit = 0;
  std::optional<double> measured;  // missing when the metric was not measured
  SloState state = SloState::kNotMeasured;
  // kNotConfirmed: the fewest requests with which the same count over the limit would confirm
  // it (MLPerf early stopping); empty when no count would, or for other states.
  std::optional<std::uint64_t> requests_needed;
  std::string detail;  // the rule and its numbers, for readers ("" when the line says it all)

  bool pass() const noexcept { return state == SloState::kPass; }
};

// The verdict for display: "PASS", "FAIL", "NOT CONFIRMED", "NOT MEASURED".
std::string slo_state_text(SloState s);

struct ErrorSummary {
  std::uint64_t total = 0;
  std::map<std::string, std::uint64_t> by_class;
  std::vector<std::string> examples;  // first few distinct messages
};

struct Result {
  std::string schema_version = std::string(kResultSchemaVersion);
  std::string tool = "trackiq";
  std::string tool_version;
  std::string run_id;
  std::string started_at;   // ISO-8601 UTC
  std::string finished_at;  // ISO-8601 UTC
  Environment environment;
  Labels labels;
  WorkloadDescriptor workload;
  ScenarioSettings scenario;
  std::string throughput_method;  // how throughput_* were computed
  std::vector<MetricValue> metrics;
  std::optional<LatencyData> latency;
  // Further per-request distributions, ns, by family: a load run's "ttft", "ttft_sched", "tpot",
  // "itl", "e2el", "e2el_sched" (the metrics mean_ttft_ms ... p99_e2el_sched_ms summarise them).
  // Lossless histograms (3 significant digits): what a comparison tests those metrics on.
  std::map<std::string, Histogram> distributions;
  TelemetryBlock telemetry;
  std::vector<SloVerdict> slo;
  ErrorSummary errors;
  std::vector<std::string> warnings;

  // The value of a metric by registry name, if present.
  std::optional<double> metric_value(std::string_view name) const;
};

// The latency metrics of a summary in ns: latency_min/mean/max/std_ms, latency_cv (derived) and
// the standard percentiles latency_p50/p90/p95/p99/p99_9_ms, appended to `out`.
void append_latency_metrics(std::vector<MetricValue>& out, const SampleSummary& summary_ns);

// A new random run id (UUID v4 text).
std::string new_run_id();

// Serialises to the canonical JSON document (keys in a fixed order, numbers locale-independent).
std::string to_json(const Result& result, int indent = 2);

// Parses a canonical document. Throws InputError("origin:line: what") on malformed JSON,
// a missing required field, an unknown metric or an unsupported schema major version.
Result result_from_json(std::string_view text, std::string_view origin);
// A document holding one result (an object) or several (an array, as `trackiq load` writes for a
// sweep): each parsed as by result_from_json, an element's errors naming "origin[i]".
std::vector<Result> results_from_json(std::string_view text, std::string_view origin);

// Writes `text` to `path` atomically (temp file in the same directory, then rename), creating
// parent directories. Throws Error on I/O failure; never leaves a half-written file at `path`.
void write_file_atomic(const std::string& path, std::string_view text);

}  // namespace trackiq
