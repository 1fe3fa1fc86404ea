// hyperfine --export-json.
#include "common.hpp"

namespace trackiq::importers::detail {
namespace {

using Json = nlohmann::json;

std::vector<Result> import_hyperfine(std::string_view text, Context& c) {
  const JsonDoc doc(text, c.origin);
  const Json& results = doc.field(doc.root(), "results", 1, "$");
  if (!results.is_array() || results.empty()) doc.fail(doc.line_of_key("results", 0), "$.results: expected a non-empty array");
  update_fingerprint(c.env);
  std::vector<Result> out;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const Json& e = results[i];
    const std::uint64_t line = doc.line_of_key("command", i);
    const std::string path = fmt::format("$.results[{}]", i);
    Result r = new_run(c, doc.string(e, "command", line, path));
    const Json& times = doc.field(e, "times", line, path);
    if (!times.is_array() || times.empty()) doc.fail(line, path + ".times: expected a non-empty array of seconds");
    std::vector<std::int64_t> samples;
    std::uint64_t failed = 0;
    const Json* codes = e.contains("exit_codes") && e.at("exit_codes").is_array() ? &e.at("exit_codes") : nullptr;
    for (std::size_t k = 0; k < times.size(); ++k) {
      if (!times[k].is_number() || !std::isfinite(times[k].get<double>()) || times[k].get<double>() < 0)
        doc.fail(line, fmt::format("{}.times[{}]: expected a non-negative number of seconds", path, k));
      // hyperfine -i: a non-zero exit, or null (killed by a signal), is a failure, not a sample.
      if (codes && k < codes->size() &&
          ((*codes)[k].is_null() || ((*codes)[k].is_number_integer() && (*codes)[k].get<long long>() != 0))) {
        ++failed;
        continue;
      }
      samples.push_back(to_ns(times[k].get<double>(), 1e9, c.origin, line));
    }
    if (samples.empty()) doc.fail(line, path + ": every run of the command failed");
    set_samples(r, samples);
    if (failed) {
      r.errors.total = failed;
      r.errors.by_class["nonzero_exit"] = failed;
      set_metric(r, "errors_total", static_cast<double>(failed));
    }
    // user/system CPU seconds per run have no registry metric; keep them as labels.
    for (const char* k : {"user", "system"})
      if (const auto v = doc.opt_number(e, k, line, path)) r.labels.extra[std::string("hyperfine_") + k + "_s"] = fmt::format("{}", *v);
    out.push_back(std::move(r));
  }
  return out;
}


}  // namespace

int sniff_hyperfine(std::string_view head, std::string_view) {
  return head.find("\"results\"") != std::string_view::npos && head.find("\"command\"") != std::string_view::npos && head.find("\"times\"") != std::string_view::npos ? 80 : 0;
}

extern const Format kHyperfine{"hyperfine", "hyperfine --export-json: `times` become samples; non-zero exits are errors",
                               sniff_hyperfine, import_hyperfine};

}  // namespace trackiq::importers::detail
