#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "trackiq/core/error.hpp"
#include "trackiq/runner/profile.hpp"

namespace trackiq::runner {
namespace {

namespace fs = std::filesystem;

struct TempProfileDir {
  TempProfileDir() : dir(fs::temp_directory_path() / ("trackiq_profiles_" + new_run_id())) { fs::create_directories(dir); }
  ~TempProfileDir() { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) const {
    const auto p = dir / name;
    std::ofstream(p) << text;
    return p.string();
  }
  fs::path dir;
};

std::string error_of(const std::string& path) {
  try {
    load_profile(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(Profiles, TheShippedOnesAllLoad) {
  TempProfileDir empty;
  const auto all = list_profiles(empty.dir.string());
  std::vector<std::string> names;
  for (const auto& p : all) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"automotive_safety", "ci_smoke", "edge_low_power", "edge_max_perf"}));
  const Profile a = find_profile("automotive_safety", empty.dir.string());
  EXPECT_EQ(a.run.at("scenario"), "single-stream");
  ASSERT_EQ(a.constraints.size(), 5u);
  EXPECT_EQ(a.constraints[0].metric, "latency_p99_ms");
  EXPECT_EQ(a.constraints[0].op, "<=");
  EXPECT_DOUBLE_EQ(a.constraints[0].limit, 33.3);
  EXPECT_EQ(a.constraints[1].op, ">=");
  EXPECT_DOUBLE_EQ(a.constraints[4].limit, 8192.0 * 1024 * 1024);
}

TEST(Profiles, AUserProfileShadowsAShippedOne) {
  TempProfileDir user;
  user.write("mine.yaml", "name: ci_smoke\ndescription: stricter\nconstraints:\n  - {metric: latency_p99_ms, max: 5}\n");
  const Profile p = find_profile("ci_smoke", user.dir.string());
  EXPECT_EQ(p.description, "stricter");
  EXPECT_THROW(find_profile("no_such_profile", user.dir.string()), InputError);
}

TEST(Profiles, MalformedFilesNameTheFileAndLine) {
  TempProfileDir d;
  const std::string bad_yaml = d.write("a.yaml", "name: x\nrun:\n  scenario: [unclosed\n");
  EXPECT_NE(error_of(bad_yaml).find("a.yaml:"), std::string::npos) << error_of(bad_yaml);
  EXPECT_NE(error_of(bad_yaml).find("invalid YAML"), std::string::npos);
  const std::string unknown_key = d.write("b.yaml", "name: x\nrun:\n  scenario: server\n  turbo: yes\n");
  EXPECT_NE(error_of(unknown_key).find("b.yaml:4: unknown run setting 'turbo'"), std::string::npos) << error_of(unknown_key);
  const std::string unknown_metric = d.write("c.yaml", "name: x\nconstraints:\n  - metric: fps\n    min: 30\n");
  EXPECT_NE(error_of(unknown_metric).find("c.yaml:3: unknown metric 'fps'"), std::string::npos) << error_of(unknown_metric);
  const std::string both = d.write("d.yaml", "name: x\nconstraints:\n  - {metric: latency_p99_ms, min: 1, max: 2}\n");
  EXPECT_NE(error_of(both).find("exactly one of min or max"), std::string::npos);
  const std::string nan = d.write("e.yaml", "name: x\nconstraints:\n  - {metric: latency_p99_ms, max: fast}\n");
  EXPECT_NE(error_of(nan).find("'fast' is not a number"), std::string::npos);
  const std::string noname = d.write("f.yaml", "description: nameless\n");
  EXPECT_NE(error_of(noname).find("no name"), std::string::npos);
  EXPECT_NE(error_of((d.dir / "missing.yaml").string()).find("cannot read"), std::string::npos);
}

TEST(Profiles, VerdictsArePassFailOrNotMeasuredAndALimitExactlyReachedPasses) {
  Profile p;
  p.constraints = {{"latency_p99_ms", "<=", 10.0},
                   {"throughput_samples_per_s", ">=", 100.0},
                   {"power_avg_w", "<=", 50.0},
                   {"error_rate", "<=", 0.0}};
  Result r;
  r.metrics = {{"latency_p99_ms", 10.0}, {"throughput_samples_per_s", 99.5}, {"error_rate", 0.0}};
  const auto v = check_constraints(p, r);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_TRUE(v[0].pass()) << "10 <= 10";
  EXPECT_EQ(v[1].state, SloState::kFail);
  EXPECT_TRUE(v[1].measured.has_value());
  EXPECT_FALSE(v[2].measured.has_value()) << "no power sensor: NOT MEASURED, never PASS";
  EXPECT_EQ(v[2].state, SloState::kNotMeasured);
  EXPECT_TRUE(v[3].pass());
}

}  // namespace
}  // namespace trackiq::runner
