#include "trackiq/runner/profile.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "trackiq/core/error.hpp"
#include "trackiq/core/metric_registry.hpp"

namespace trackiq::runner {
namespace {

namespace fs = std::filesystem;

const std::set<std::string> kRunKeys = {"workload",   "scenario", "warmup",    "duration",          "iterations",
                                        "max_duration", "batch_size", "threads", "precision",       "qps",
                                        "samples_per_query", "workers", "collectors", "seq_len"};

[[noreturn]] void fail(const std::string& path, const YAML::Node& at, const std::string& what) {
  throw InputError(path, at.Mark().is_null() ? 0 : static_cast<std::uint64_t>(at.Mark().line + 1), what);
}

std::string scalar(const std::string& path, const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) fail(path, n, what + " must be a single value");
  return n.Scalar();
}

double number(const std::string& path, const YAML::Node& n, const std::string& what) {
  const std::string s = scalar(path, n, what);
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size() || !std::isfinite(v)) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    fail(path, n, fmt::format("{} '{}' is not a number", what, s));
  }
}

// The shipped profiles: beside the running executable (../share/trackiq/profiles, where both the
// build tree and an install put them), else the install prefix this library was configured for
// (a program of a library user that lives elsewhere).
std::string shipped_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path beside = exe.parent_path().parent_path() / "share" / "trackiq" / "profiles";
    if (fs::is_directory(beside)) return beside.string();
  }
  return TRACKIQ_INSTALLED_PROFILES_DIR;
}

}  // namespace

Profile load_profile(const std::string& path) {
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw InputError(path, 0, "cannot read the profile");
  } catch (const YAML::ParserException& e) {
    throw InputError(path, static_cast<std::uint64_t>(e.mark.line + 1), "invalid YAML: " + e.msg);
  }
  if (!doc.IsMap()) fail(path, doc, "a profile is a mapping with name, description, run and constraints");
  Profile p;
  p.path = path;
  for (const auto& kv : doc) {
    const std::string key = kv.first.as<std::string>();
    if (key == "name") p.name = scalar(path, kv.second, "name");
    else if (key == "description") p.description = scalar(path, kv.second, "description");
    else if (key == "run") {
      if (!kv.second.IsMap()) fail(path, kv.second, "run must be a mapping of settings");
      for (const auto& s : kv.second) {
        const std::string k = s.first.as<std::string>();
        if (!kRunKeys.count(k))
          fail(path, s.first, fmt::format("unknown run setting '{}' (known: {})", k, fmt::join(kRunKeys, ", ")));
        p.run[k] = scalar(path, s.second, "run." + k);
      }
    } else if (key == "constraints") {
      if (!kv.second.IsSequence()) fail(path, kv.second, "constraints must be a list");
      for (const auto& c : kv.second) {
        if (!c.IsMap() || !c["metric"]) fail(path, c, "each constraint needs a metric and a min or a max");
        Constraint k;
        k.metric = scalar(path, c["metric"], "metric");
        if (!find_metric(k.metric)) fail(path, c["metric"], fmt::format("unknown metric '{}' (see trackiq metrics)", k.metric));
        const bool has_min = static_cast<bool>(c["min"]), has_max = static_cast<bool>(c["max"]);
        if (has_min == has_max) fail(path, c, fmt::format("constraint on {} needs exactly one of min or max", k.metric));
        k.op = has_max ? "<=" : ">=";
        k.limit = number(path, has_max ? c["max"] : c["min"], k.metric + (has_max ? " max" : " min"));
        for (const auto& f : c) {
          const std::string fk = f.first.as<std::string>();
          if (fk != "metric" && fk != "min" && fk != "max") fail(path, f.first, fmt::format("unknown constraint key '{}'", fk));
        }
        p.constraints.push_back(k);
      }
    } else {
      fail(path, kv.first, fmt::format("unknown key '{}' (expected name, description, run, constraints)", key));
    }
  }
  if (p.name.empty()) fail(path, doc, "the profile has no name");
  return p;
}

std::vector<std::string> profile_dirs(const std::string& user_dir) {
  std::vector<std::string> dirs;
  if (!user_dir.empty()) dirs.push_back(user_dir);
  else if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) dirs.push_back(std::string(x) + "/trackiq/profiles");
  else if (const char* h = std::getenv("HOME"); h && *h) dirs.push_back(std::string(h) + "/.config/trackiq/profiles");
  dirs.push_back(shipped_dir());
  return dirs;
}

std::vector<Profile> list_profiles(const std::string& user_dir) {
  std::vector<Profile> out;
  std::set<std::string> seen;
  for (const auto& dir : profile_dirs(user_dir)) {
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".yaml" || e.path().extension() == ".yml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      Profile p = load_profile(f.string());
      if (seen.insert(p.name).second) out.push_back(std::move(p));
    }
  }
  std::sort(out.begin(), out.end(), [](const Profile& a, const Profile& b) { return a.name < b.name; });
  return out;
}

Profile find_profile(const std::string& name, const std::string& user_dir) {
  if (name.find('/') != std::string::npos || fs::path(name).extension() == ".yaml") return load_profile(name);
  std::vector<std::string> names;
  for (auto& p : list_profiles(user_dir)) {
    if (p.name == name) return p;
    names.push_back(p.name);
  }
  throw InputError(fmt::format("unknown profile '{}' (available: {})", name, fmt::join(names, ", ")));
}

std::vector<SloVerdict> check_constraints(const Profile& p, const Result& r) {
  std::vector<SloVerdict> out;
  for (const auto& c : p.constraints) {
    SloVerdict v;
    v.metric = c.metric;
    v.op = c.op;
    v.limit = c.limit;
    v.measured = r.metric_value(c.metric);
    v.state = !v.measured                                                          ? SloState::kNotMeasured
              : (c.op == "<=" ? *v.measured <= c.limit : *v.measured >= c.limit) ? SloState::kPass
                                                                                 : SloState::kFail;
    out.push_back(v);
  }
  return out;
}

}  // namespace trackiq::runner
