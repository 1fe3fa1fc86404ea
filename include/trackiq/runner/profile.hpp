#pragma once
// Run profiles (RUN-5): named YAML files with run settings and SLO constraints, shipped in
// profiles/ (installed to share/trackiq/profiles) plus a user directory.
//
//   name: automotive_safety
//   description: ...
//   run: {scenario: single-stream, warmup: 2s, duration: 30s, iterations: 1000, batch_size: 1}
//   constraints:
//     - {metric: latency_p99_ms, max: 33.3}
//     - {metric: throughput_samples_per_s, min: 30}
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "trackiq/core/result.hpp"

namespace trackiq::runner {

struct Constraint {
  std::string metric;  // a registry name
  std::string op;      // "<=" (max) or ">=" (min)
  double limit = 0;
};

struct Profile {
  std::string name;
  std::string description;
  std::string path;  // the file it came from
  // Run settings as the CLI spells them (scenario, warmup, duration, iterations, max_duration,
  // batch_size, threads, precision, workload, qps, samples_per_query, workers, collectors).
  std::map<std::string, std::string> run;
  std::vector<Constraint> constraints;
};

// Parses a profile file; InputError("file:line: what") on malformed YAML, an unknown key, an
// unknown metric, or a constraint without exactly one of min/max.
Profile load_profile(const std::string& path);

// Directories searched, in order: the user's (`user_dir`, else $XDG_CONFIG_HOME/trackiq/profiles
// or ~/.config/trackiq/profiles), then the shipped ones.
std::vector<std::string> profile_dirs(const std::string& user_dir = "");

// All profiles found (a user profile shadows a shipped one of the same name), sorted by name.
std::vector<Profile> list_profiles(const std::string& user_dir = "");

// The profile called `name` (or a path to a .yaml file); InputError listing the known names.
Profile find_profile(const std::string& name, const std::string& user_dir = "");

// One verdict per constraint from the result's metrics: PASS / FAIL, or not measured
// (measured empty, pass false) when the metric is absent. A limit exactly reached passes.
std::vector<SloVerdict> check_constraints(const Profile& p, const Result& r);

}  // namespace trackiq::runner
