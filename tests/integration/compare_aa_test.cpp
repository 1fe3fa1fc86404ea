// Two runs of one configuration compared by id and by JSON file pass; a planted 30 % slowdown
// blocks on each path (issue "Regression verdicts you can trust"), for a synthetic workload,
// builtin:mlp and `trackiq load` against the reference server. These tests measure: CTest runs
// them alone (RUN_SERIAL), and the runs compared with each other run under the same conditions
// by construction (see expect_same_config_passes_and_slowdown_blocks), since another process's
// CPU load during the current run but not during the baseline's is a real slowdown that no
// statistic can call noise.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <future>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "support/process.hpp"
#include "support/ref_server_process.hpp"
#include "support/trackiq_cli.hpp"

namespace trackiq::test {
namespace {

// The last "stored run <id>" of a command's output ("" if none).
std::string last_stored(const std::string& out) {
  std::string id;
  const std::regex stored_re(R"(stored\s+run ([0-9a-f-]{36}))");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), stored_re); it != std::sregex_iterator(); ++it)
    id = (*it)[1].str();
  return id;
}

// The issue's acceptance: two runs of one configuration compared by id and by JSON file pass;
// a planted 30 % slowdown blocks on each path. The baseline side has a stored history (three runs
// of `--repeat 3`), so the run-to-run noise band of its series is known, as on any CI machine
// that has run the benchmark before.
//
// Every measured run has a sibling running beside it: the baseline group's three runs run at the
// same time as three runs of the same configuration (the last of which is the current run), and
// the slow run beside one more run of the baseline configuration. So a burst of load on this
// shared machine (a neighbour VM, a CPU-frequency change; on CI a 2 s builtin:mlp run once came
// out 7.9 % slower than the three before it, alone on the machine) falls on both sides of each
// comparison, and every run of the series' history ran under the same pairing. A slowdown of
// the workload itself is still one-sided.
void expect_same_config_passes_and_slowdown_blocks(const TempDir& dir, const std::vector<std::string>& base_args,
                                                   const std::vector<std::string>& slow_args) {
  auto with = [](std::vector<std::string> a, std::vector<std::string> more) {
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };
  auto beside = [&dir](std::vector<std::string> a, std::vector<std::string> b) {
    auto first = std::async(std::launch::async, [&dir, a] { return trackiq(a, dir); });
    auto second = trackiq(b, dir);
    return std::pair{first.get(), std::move(second)};
  };
  const auto [history, currents] = beside(with(base_args, {"--repeat", "3", "--group", "base", "--json", dir.file("b.json")}),
                                          with(base_args, {"--repeat", "3", "--group", "cur", "--json", dir.file("c.json")}));
  ASSERT_EQ(history.exit_code, 0) << history.out << history.err;
  ASSERT_EQ(currents.exit_code, 0) << currents.out << currents.err;
  EXPECT_NE(history.out.find("run 3 of 3 (group base)"), std::string::npos) << history.out;
  const auto [slow, slow_sibling] = beside(with(slow_args, {"--json", dir.file("s.json")}), with(base_args, {"--no-store"}));
  ASSERT_EQ(slow.exit_code, 0) << slow.err;
  ASSERT_EQ(slow_sibling.exit_code, 0) << slow_sibling.err;
  const std::string last_base = last_stored(history.out), cur = last_stored(currents.out), slow_id = stored_id(slow);
  ASSERT_FALSE(last_base.empty()) << history.out;
  ASSERT_FALSE(cur.empty()) << currents.out;

  for (const auto& [b, c] : {std::pair{last_base, cur}, std::pair{dir.file("b-3.json"), dir.file("c-3.json")}}) {
    const auto same = trackiq({"compare", b, c}, dir);
    EXPECT_EQ(same.exit_code, 0) << b << " vs " << c << "\n" << same.out << same.err;
    // The series' history: the three baseline runs and the two current-group runs before the current one.
    EXPECT_NE(same.out.find("run-to-run noise from the stored history of the baseline's series (5 runs"), std::string::npos)
        << same.out;
  }
  for (const auto& [b, c] : {std::pair{last_base, slow_id}, std::pair{dir.file("b-3.json"), dir.file("s.json")}}) {
    const auto worse = trackiq({"compare", b, c}, dir);
    EXPECT_EQ(worse.exit_code, 1) << b << " vs " << c << "\n" << worse.out << worse.err;
    EXPECT_NE(worse.out.find("verdict: BLOCK"), std::string::npos) << worse.out;
  }
  // Groups: the three baseline runs against the current run alone, and against the three runs beside them.
  const auto groups = trackiq({"compare", "group:base", cur}, dir);
  EXPECT_EQ(groups.exit_code, 0) << groups.out << groups.err;
  EXPECT_NE(groups.out.find("run-to-run noise from group:base (3 runs) vs the current run (1 run)"), std::string::npos)
      << groups.out;
  const auto both = trackiq({"compare", "group:base", "group:cur"}, dir);
  EXPECT_EQ(both.exit_code, 0) << both.out << both.err;
  EXPECT_NE(both.out.find("run-to-run noise from group:base (3 runs) vs group:cur (3 runs)"), std::string::npos) << both.out;
}

TEST(CliCompare, SameConfigSyntheticRunsPassByIdAndFileAndASlowdownBlocks) {
  TempDir dir;
  expect_same_config_passes_and_slowdown_blocks(
      dir, {"run", "synthetic:dist=lognormal,mean=2ms,cv=0.3", "-n", "300", "--warmup", "20", "--no-telemetry"},
      {"run", "synthetic:dist=lognormal,mean=2.6ms,cv=0.3", "-n", "300", "--warmup", "20", "--no-telemetry"});
}

TEST(CliCompare, SameConfigBuiltinMlpRunsPassByIdAndFileAndASlowdownBlocks) {
  TempDir dir;
  // The slowdown: twice the batch per query (one more config, same model and series).
  expect_same_config_passes_and_slowdown_blocks(
      dir, {"run", "builtin:mlp", "--duration", "2s", "--warmup", "300ms", "--threads", "1", "--no-telemetry"},
      {"run", "builtin:mlp", "--duration", "2s", "--warmup", "300ms", "--threads", "1", "--no-telemetry", "--batch-size", "2"});
}

TEST(CliCompare, SameConfigLoadRunsPassByIdAndFileAndASlowerServerBlocks) {
  TempDir dir;
  RefServer server({"--ttft-ms", "30", "--itl-ms", "6", "--tokens", "10"});
  RefServer slower({"--ttft-ms", "39", "--itl-ms", "8", "--tokens", "10"});  // +30 %
  ASSERT_TRUE(server.ok() && slower.ok());
  std::vector<std::string> ids;
  auto load = [&](const RefServer& s, const std::string& json) {
    const auto r = trackiq({"load", s.url("/"), "--api", "openai-chat", "--model", "m", "--concurrency", "2", "--requests",
                            "60", "--json", dir.file(json)},
                           dir);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    ids.push_back(stored_id(r));
  };
  for (const char* f : {"b1.json", "b2.json", "b3.json", "c.json"}) load(server, f);
  load(slower, "s.json");
  for (const auto& [b, c] : {std::pair{ids[2], ids[3]}, std::pair{dir.file("b3.json"), dir.file("c.json")}}) {
    const auto same = trackiq({"compare", b, c}, dir);
    EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
    // The LLM metrics are tested on the per-request data, not left to the threshold alone.
    const auto j = trackiq({"compare", b, c, "--json"}, dir);
    for (const char* name : {"median_ttft_ms", "mean_tpot_ms", "median_tpot_ms", "mean_e2el_ms"})
      EXPECT_TRUE(std::regex_search(j.out, std::regex(std::string("\"metric\": \"") + name + R"("[^}]*"tested": true)")))
          << name << "\n" << j.out;
  }
  for (const auto& [b, c] : {std::pair{ids[2], ids[4]}, std::pair{dir.file("b3.json"), dir.file("s.json")}}) {
    const auto worse = trackiq({"compare", b, c}, dir);
    EXPECT_EQ(worse.exit_code, 1) << worse.out << worse.err;
    EXPECT_TRUE(std::regex_search(worse.out, std::regex(R"(mean_ttft_ms .*BLOCK .*Welch)"))) << worse.out;
  }
}

// Two sweeps compare point by point, paired by sweep point, one false-discovery rate for all.
// The A/A pair must pass by construction, whatever the machine is doing: the two sweeps run at
// the same time (with the slower server's sweep beside them), each against its own server of the
// same timing, so a load that slows the machine down slows both alike; and the servers'
// latencies (TTFT 60 ms, 24 ms between tokens) sit far above the few milliseconds a loaded
// scheduler adds to an event (with 4 ms between tokens, one late last token on a busy 2-core
// machine moved TPOT by 5-8 % and blocked; with one server for both, the sweep whose events
// came second at each shared deadline was 3 ms later in TTFT beside six busy loops).
TEST(CliCompare, TwoSweepsComparePointByPointAndASlowerServerBlocks) {
  TempDir dir;
  const std::vector<std::string> timing{"--ttft-ms", "60", "--itl-ms", "24", "--tokens", "5"};
  RefServer server(timing), twin(timing);
  RefServer slower({"--ttft-ms", "78", "--itl-ms", "36", "--tokens", "5"});  // +30 % TTFT, +50 % TPOT
  ASSERT_TRUE(server.ok() && twin.ok() && slower.ok());
  auto sweep = [&](const RefServer& s, const std::string& json) {
    return std::async(std::launch::async, [&s, &dir, json] {
      return trackiq({"load", s.url("/"), "--api", "openai-chat", "--model", "m", "--concurrency", "1,2", "--requests",
                      "40", "--json", dir.file(json), "--no-store"},
                     dir);
    });
  };
  auto a = sweep(server, "a.json"), b = sweep(twin, "b.json"), s = sweep(slower, "s.json");
  for (auto* f : {&a, &b, &s}) {
    const auto r = f->get();
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  const auto same = trackiq({"compare", dir.file("a.json"), dir.file("b.json")}, dir);
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_NE(same.out.find("== sweep point concurrency=1"), std::string::npos) << same.out;
  EXPECT_NE(same.out.find("== sweep point concurrency=2"), std::string::npos) << same.out;
  EXPECT_NE(same.out.find("one of 2 comparisons: Benjamini-Hochberg over all"), std::string::npos) << same.out;
  EXPECT_NE(same.out.find("sweep verdict: "), std::string::npos) << same.out;
  const auto worse = trackiq({"compare", dir.file("a.json"), dir.file("s.json")}, dir);
  EXPECT_EQ(worse.exit_code, 1) << worse.out << worse.err;
  EXPECT_NE(worse.out.find("sweep verdict: BLOCK (2 points)"), std::string::npos) << worse.out;
  // Read as curves (CMP-5): the slower server is worse at both concurrencies, a sustained window.
  EXPECT_NE(same.out.find("== curves along concurrency (concurrency=1, concurrency=2)"), std::string::npos) << same.out;
  EXPECT_TRUE(std::regex_search(worse.out, std::regex(R"(BLOCK .* worse by [0-9.]+(–[0-9.]+)? % from concurrency=1 to concurrency=2 \(2 points\): sustained)")))
      << worse.out;
  const auto wj = trackiq({"compare", dir.file("a.json"), dir.file("s.json"), "--json"}, dir);
  EXPECT_EQ(wj.exit_code, 1);
  const auto parsed = nlohmann::json::parse(wj.out);
  EXPECT_EQ(parsed.at("points").size(), 2u);
  EXPECT_EQ(parsed.at("curves").at("axis"), "concurrency");
  EXPECT_FALSE(parsed.at("curves").at("findings").empty());
  EXPECT_EQ(parsed.at("verdict"), "BLOCK");
  // Reports of a sweep comparison (CMP-5 in reports): the Markdown leads with the verdict, the
  // curve window as a blocking finding and the curves table; each point's failing metrics follow.
  const auto md = trackiq({"compare", dir.file("a.json"), dir.file("s.json"), "--markdown"}, dir);
  EXPECT_EQ(md.exit_code, 1) << md.err;
  EXPECT_EQ(md.out.rfind("## ❌ BLOCK", 0), 0u) << md.out;
  EXPECT_EQ(md.out.find("== sweep point"), std::string::npos) << "console tables mixed into the Markdown\n" << md.out;
  EXPECT_TRUE(std::regex_search(md.out, std::regex(R"(\| [a-z_]+ \(blocking\) \| regression \| curve along concurrency: )")))
      << md.out;
  EXPECT_NE(md.out.find("### Sweep comparison: **BLOCK**"), std::string::npos) << md.out;
  EXPECT_TRUE(std::regex_search(md.out, std::regex(R"(\| concurrency=1 → concurrency=2 \| [0-9.]+–[0-9.]+ % \| [0-9.e-]+ \| [0-9.e-]+ \| .* \| BLOCK \|)")))
      << md.out;
  EXPECT_NE(md.out.find("### Sweep points: metrics that did not pass"), std::string::npos) << md.out;
  EXPECT_TRUE(std::regex_search(md.out, std::regex(R"(\| concurrency=[12] \| [a-z_]+ \| .* \| (BLOCK|WARN) \|)"))) << md.out;
  // The A/A sweeps: the report approves, as the console passes.
  const auto same_md = trackiq({"compare", dir.file("a.json"), dir.file("b.json"), "--markdown"}, dir);
  EXPECT_EQ(same_md.exit_code, 0) << same_md.out << same_md.err;
  EXPECT_EQ(same_md.out.rfind("## ✅ APPROVE", 0), 0u) << same_md.out;
  // JUnit: a suite per point and one for the curves, whose window fails; JSON keeps every point.
  const auto xml = trackiq({"compare", dir.file("a.json"), dir.file("s.json"), "--report", dir.file("sweeps.xml")}, dir);
  EXPECT_EQ(xml.exit_code, 1) << xml.err;
  const std::string junit = read_file(dir.file("sweeps.xml"));
  EXPECT_NE(junit.find(" at concurrency=1\""), std::string::npos) << junit;
  EXPECT_NE(junit.find(" at concurrency=2\""), std::string::npos) << junit;
  EXPECT_TRUE(std::regex_search(junit, std::regex(R"(<testsuite name="curves along concurrency" tests="[1-9][0-9]*" failures="[1-9])")))
      << junit;
  ASSERT_EQ(trackiq({"compare", dir.file("a.json"), dir.file("s.json"), "--report", dir.file("sweeps.json")}, dir).exit_code, 1);
  const auto rj = nlohmann::json::parse(read_file(dir.file("sweeps.json")));
  EXPECT_EQ(rj.at("sweep_comparison").at("verdict"), "BLOCK");
  EXPECT_EQ(rj.at("sweep_comparison").at("comparisons").size(), 2u);
  EXPECT_EQ(rj.at("runs").size(), 2u);  // the current sweep's points
  EXPECT_EQ(rj.at("executive_summary").at("decision"), "BLOCK");
  // A bad report format fails before any work, exit 2.
  EXPECT_EQ(trackiq({"compare", dir.file("a.json"), dir.file("b.json"), "--report", dir.file("x.txt")}, dir).exit_code, 2);
}

}  // namespace
}  // namespace trackiq::test
