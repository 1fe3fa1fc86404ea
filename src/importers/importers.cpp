// The table of import formats, auto-detection, and the entry points. A new format is one file
// (defining a detail::Format) and one line in TRACKIQ_IMPORT_FORMATS below.
#include "trackiq/importers/importers.hpp"

#include <fstream>
#include <sstream>

#include "common.hpp"
#include "trackiq/core/environment.hpp"

// Order matters only for --help and for ties in detection (a tie is an error, not a choice).
#define TRACKIQ_IMPORT_FORMATS(X) \
  X(kGbench)                      \
  X(kHyperfine)                   \
  X(kPytestBenchmark)             \
  X(kMlperf)                      \
  X(kK6)                          \
  X(kLocust)                      \
  X(kCriterion)                   \
  X(kTrtexec)                     \
  X(kVllm)                        \
  X(kTegrastats)                  \
  X(kNvidiaSmi)                   \
  X(kDcgm)                        \
  X(kPerftracker)                 \
  X(kJsonMap)                     \
  X(kCsv)

namespace trackiq::importers {
namespace detail {
#define TRACKIQ_DECLARE_FORMAT(f) extern const Format f;
TRACKIQ_IMPORT_FORMATS(TRACKIQ_DECLARE_FORMAT)
#undef TRACKIQ_DECLARE_FORMAT
}  // namespace detail

namespace {

const std::vector<const detail::Format*>& table() {
#define TRACKIQ_FORMAT_ENTRY(f) &detail::f,
  static const std::vector<const detail::Format*> t{TRACKIQ_IMPORT_FORMATS(TRACKIQ_FORMAT_ENTRY)};
#undef TRACKIQ_FORMAT_ENTRY
  return t;
}

const detail::Format& find(std::string_view name) {
  for (const auto* f : table())
    if (f->name == name) return *f;
  std::string names;
  for (const auto* f : table()) names += (names.empty() ? "" : ", ") + std::string(f->name);
  throw InputError(fmt::format("unknown import format '{}': {}", name, names));
}

}  // namespace

const std::vector<FormatInfo>& formats() {
  static const std::vector<FormatInfo> v = [] {
    std::vector<FormatInfo> out;
    for (const auto* f : table()) out.push_back({f->name, f->summary});
    return out;
  }();
  return v;
}

std::string_view parse_import_format(std::string_view name) { return find(name).name; }

std::string_view detect_format(std::string_view text, const std::string& origin) {
  const std::string_view head = text.substr(0, 64 * 1024);
  const std::string filename = std::filesystem::path(origin).filename().string();
  int best = 0;
  std::vector<std::string_view> tied;
  for (const auto* f : table()) {
    const int s = f->sniff(head, filename);
    if (s <= 0 || s < best) continue;
    if (s > best) tied.clear();
    best = s;
    tied.push_back(f->name);
  }
  if (tied.empty())
    throw InputError(origin, 1, "the format is not recognised: give --format (trackiq import --help lists them)");
  if (tied.size() > 1)
    throw InputError(origin, 1, fmt::format("the file looks like {}: give --format", fmt::join(tied, " or ")));
  return tied.front();
}

namespace {

// The machine --machine names: this one ("here"), or a name whose hash is the fingerprint.
Environment machine_environment(const std::string& machine) {
  if (machine == "here") return capture_environment();
  Environment env;
  env.hostname = machine;
  env.cpu_model = "not available: imported; the machine is named by --machine";
  env.cpu_governor = "not available: imported";
  env.gpu_probe = "not available: imported; the machine is named by --machine";
  env.hardware_fingerprint = stable_hash_hex("machine:" + machine);
  return env;
}

}  // namespace

std::vector<Result> import_text(std::string_view text, const std::string& origin, std::string_view format,
                                const ImportOptions& options) {
  const detail::Format& f = find(format.empty() ? detect_format(text, origin) : format);
  detail::Context c{origin, f.name, options, options.imported_at.empty() ? utc_timestamp_now() : options.imported_at, {}, {}};
  if (!options.machine.empty()) c.machine = machine_environment(options.machine);
  c.env.cpu_governor = "not available: imported";
  c.env.gpu_probe = "not available: imported; the file does not list GPUs";
  auto runs = f.parse(text, c);
  const std::string hash = stable_hash_hex(text);
  for (auto& r : runs) {
    // Other tools' text is not always UTF-8 (a Locust 1.x endpoint name in GBK): our documents are.
    bool changed = false;
    r.workload.model = detail::utf8_clean(r.workload.model, &changed);
    for (auto& [k, v] : r.labels.extra) v = detail::utf8_clean(v, &changed);
    for (auto& [k, v] : r.workload.options) v = detail::utf8_clean(v, &changed);
    std::map<std::string, std::uint64_t> by_class;
    for (const auto& [k, v] : r.errors.by_class) by_class[detail::utf8_clean(k, &changed)] += v;
    r.errors.by_class = std::move(by_class);
    for (auto& e : r.errors.examples) e = detail::utf8_clean(e, &changed);
    for (auto& s : r.slo) s.metric = detail::utf8_clean(s.metric, &changed), s.detail = detail::utf8_clean(s.detail, &changed);
    for (auto& w : r.warnings) w = detail::utf8_clean(w, &changed);
    if (changed) r.warnings.push_back("text in the file that is not UTF-8 was replaced by U+FFFD");
    r.labels.extra["import_hash"] = hash;
  }
  return runs;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open the file", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<Result> import_file(const std::string& path, std::string_view format, const ImportOptions& options) {
  return import_text(read_file(path), path, format, options);
}

}  // namespace trackiq::importers
