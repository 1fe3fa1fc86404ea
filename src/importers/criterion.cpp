// Criterion.rs: target/criterion/<benchmark>/new/estimates.json (bootstrap estimates, ns) and
// new/sample.json (per sample: iterations and their total time, ns). A sample.json next to the
// estimates.json gives the run its samples (each the mean time per iteration of one sample), and
// benchmark.json next to them its name.
#include "common.hpp"

#include <fstream>
#include <sstream>

namespace trackiq::importers::detail {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

std::optional<std::string> sibling(const std::string& origin, const char* name) {
  std::error_code ec;
  const fs::path p = fs::path(origin).parent_path() / name;
  // Only beside a file named by a path with a directory (never the current directory's files).
  if (fs::path(origin).parent_path().empty() || !fs::is_regular_file(p, ec) || fs::path(origin).filename() == name)
    return std::nullopt;
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The benchmark's id: benchmark.json's full_id, else the directories above new/ (or base/,
// change/) up to target/criterion, else the file's stem.
std::string benchmark_name(const std::string& origin) {
  if (const auto b = sibling(origin, "benchmark.json")) {
    try {
      const Json j = Json::parse(*b);
      if (j.is_object() && j.contains("full_id") && j.at("full_id").is_string()) return j.at("full_id").get<std::string>();
    } catch (const Json::exception&) {
    }
  }
  const fs::path dir = fs::path(origin).parent_path();
  const std::string leaf = dir.filename().string();
  if (leaf == "new" || leaf == "base") {
    std::vector<std::string> parts;
    for (fs::path p = dir.parent_path(); !p.empty() && p.filename() != "criterion" && p != p.parent_path(); p = p.parent_path())
      parts.insert(parts.begin(), p.filename().string());
    if (!parts.empty() && parts.size() <= 4) {
      std::string s;
      for (const auto& x : parts) s += (s.empty() ? "" : "/") + x;
      return s;
    }
  }
  return fs::path(origin).stem().string();
}

// sample.json → per-iteration times in ns.
std::vector<std::int64_t> samples_of(const JsonDoc& doc, const std::string& origin) {
  const Json& iters = doc.field(doc.root(), "iters", 1, "$");
  const Json& times = doc.field(doc.root(), "times", 1, "$");
  if (!iters.is_array() || !times.is_array() || iters.size() != times.size() || iters.empty())
    doc.fail(doc.line_of_key("times", 0), "$.iters and $.times: expected two non-empty arrays of the same length");
  std::vector<std::int64_t> out;
  out.reserve(iters.size());
  for (std::size_t i = 0; i < iters.size(); ++i) {
    if (!iters[i].is_number() || !times[i].is_number()) doc.fail(doc.line_of_key("times", 0), fmt::format("$.times[{}]: expected numbers", i));
    const double n = iters[i].get<double>(), t = times[i].get<double>();
    if (!(n >= 1) || !std::isfinite(n) || !(t >= 0) || !std::isfinite(t))
      doc.fail(doc.line_of_key("times", 0), fmt::format("sample {}: {} iterations, {} ns: expected >= 1 and >= 0", i, n, t));
    out.push_back(to_ns(t / n, 1, origin, doc.line_of_key("times", 0)));
  }
  return out;
}

std::vector<Result> import_criterion(std::string_view text, Context& c) {
  update_fingerprint(c.env);
  const JsonDoc doc(text, c.origin);
  const Json& root = doc.root();
  if (!root.is_object()) doc.fail(1, "$: expected an object");
  Result r = new_run(c, benchmark_name(c.origin));
  r.throughput_method = "not available: Criterion records time per iteration only";
  auto take_samples = [&](const JsonDoc& s, const std::string& from) {
    set_samples(r, samples_of(s, from));
    r.labels.extra["criterion_sampling_mode"] = s.opt_string(s.root(), "sampling_mode");
    r.warnings.push_back(fmt::format("{} samples: each is the mean time per iteration of one Criterion sample", r.latency->samples_ns.size()));
  };
  if (root.contains("iters")) {
    take_samples(doc, c.origin);
    return {std::move(r)};
  }
  if (root.contains("full_id"))
    doc.fail(1, "a Criterion benchmark.json: import new/estimates.json or new/sample.json of the benchmark");
  if (!root.contains("median_abs_dev") && root.contains("mean"))
    doc.fail(1, "a Criterion change/estimates.json holds relative changes against the previous run, not times: "
                "import new/estimates.json");
  auto estimate = [&](const char* key) -> std::optional<double> {
    if (!root.contains(key) || root.at(key).is_null()) return std::nullopt;
    const std::uint64_t line = doc.line_of_key(key, 0);
    const double v = doc.number(root.at(key), "point_estimate", line, std::string("$.") + key);
    if (v < 0) doc.fail(line, fmt::format("$.{}.point_estimate: negative", key));
    if (root.at(key).contains("confidence_interval") && root.at(key).at("confidence_interval").is_object()) {
      const Json& ci = root.at(key).at("confidence_interval");
      const auto lo = doc.opt_number(ci, "lower_bound", line, "ci"), hi = doc.opt_number(ci, "upper_bound", line, "ci");
      const auto lvl = doc.opt_number(ci, "confidence_level", line, "ci");
      if (lo && hi)
        r.labels.extra[fmt::format("criterion_{}_ci{:g}_ns", key, lvl.value_or(0.95) * 100)] = fmt::format("{}..{}", *lo, *hi);
    }
    return v;
  };
  const auto mean = estimate("mean"), median = estimate("median");
  if (!mean) doc.fail(1, "$.mean: missing (not a Criterion estimates.json?)");
  const auto slope = estimate("slope"), sd = estimate("std_dev"), mad = estimate("median_abs_dev");
  if (slope) r.labels.extra["criterion_slope_ns"] = fmt::format("{}", *slope);
  if (mad) r.labels.extra["criterion_median_abs_dev_ns"] = fmt::format("{}", *mad);
  if (sd) r.labels.extra["criterion_std_dev_ns"] = fmt::format("{}", *sd);
  if (const auto s = sibling(c.origin, "sample.json")) {
    const std::string from = (fs::path(c.origin).parent_path() / "sample.json").string();
    take_samples(JsonDoc(*s, from), from);
    return {std::move(r)};
  }
  add_metric(r, "latency_mean_ms", *mean / 1e6);
  if (median) add_metric(r, "latency_p50_ms", *median / 1e6);
  r.warnings.push_back(
      "no sample.json next to the estimates: Criterion's bootstrap estimates only (its std_dev, of n - 1 with n "
      "not in the file, stays the label criterion_std_dev_ns)");
  return {std::move(r)};
}

int sniff_criterion(std::string_view head, std::string_view) {
  const auto has = [&](std::string_view s) { return head.find(s) != std::string_view::npos; };
  if (has("\"sampling_mode\"") && has("\"iters\"") && has("\"times\"")) return 95;
  if (has("\"point_estimate\"") && has("\"confidence_interval\"")) return 95;
  if (has("\"full_id\"") && has("\"directory_name\"")) return 95;
  return 0;
}

}  // namespace

extern const Format kCriterion{"criterion",
                               "Criterion.rs new/estimates.json (mean, median, CIs) or new/sample.json (per-iteration "
                               "samples); a sample.json beside an estimates.json gives its samples",
                               sniff_criterion, import_criterion};

}  // namespace trackiq::importers::detail
