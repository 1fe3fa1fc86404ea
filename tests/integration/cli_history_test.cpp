// `trackiq history` and `trackiq detect` on a real SQLite store. The runs are a real result of
// `trackiq run synthetic:...` (the template, made once) copied with new ids, times, versions,
// commits and seeded noisy metric values: a planted 20 % step, pure noise, or many null series
// beside one planted one. Label `cli` (no inference engine).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "support/process.hpp"
#include "support/test_paths.hpp"
#include "support/trackiq_cli.hpp"
#include "trackiq/core/result.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::test {
namespace {
using Json = nlohmann::json;

// A real result document, made once by the trackiq binary.
const Result& template_result() {
  static const Result r = [] {
    TempDir dir;
    const auto run = trackiq({"run", "synthetic:mean=2ms,cv=0.05", "--duration", "0.2", "--warmup", "2", "--json",
                              dir.file("t.json")},
                             dir);
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    return result_from_json(read_file(dir.file("t.json")), "template");
  }();
  return r;
}

// "2026-01-01T00:00:00.000Z" + i hours.
std::string hour(int i) { return fmt::format("2026-01-{:02d}T{:02d}:00:00.000Z", 1 + i / 24, i % 24); }

struct Plan {
  std::string product = "detector";
  int runs = 40;
  int step_at = -1;                // first run of the new level; -1 = none
  double step = 1.2;               // factor on the planted metrics from step_at on
  std::vector<std::string> planted = {"latency_mean_ms", "latency_p50_ms", "latency_p90_ms", "latency_p95_ms",
                                      "latency_p99_ms"};
  double cv = 0.02;                // noise of every metric, relative, Gaussian
  std::uint64_t seed = 1;
  int first_hour = 0;
};

// The runs of a plan (ids new; started_at one hour apart; version 1.<i>; commit c<i>...).
std::vector<Result> make_runs(const Plan& p) {
  std::mt19937_64 rng(p.seed);
  std::normal_distribution<double> noise(0.0, p.cv);
  std::vector<Result> out;
  for (int i = 0; i < p.runs; ++i) {
    Result r = template_result();
    r.run_id = new_run_id();
    r.started_at = r.finished_at = hour(p.first_hour + i);
    r.labels.product = p.product;
    r.labels.version = fmt::format("1.{}", i);
    r.labels.commit = fmt::format("c0ffee{:02d}{}", i, std::string(32, 'a'));
    for (auto& m : r.metrics) {
      double v = m.value * (1 + noise(rng));
      if (p.step_at >= 0 && i >= p.step_at && std::find(p.planted.begin(), p.planted.end(), m.name) != p.planted.end())
        v *= p.step;
      m.value = v;
    }
    out.push_back(std::move(r));
  }
  return out;
}

void fill(const TempDir& dir, const std::vector<Result>& runs) {
  store::open_store(dir.file("store.db"))->save_all(runs);
}

TEST(CliHistory, MarksThePlantedStepAtItsRun) {
  TempDir dir;
  Plan plan;
  plan.step_at = 20;
  const auto runs = make_runs(plan);
  fill(dir, runs);

  const auto table = trackiq({"history", "latency_p50_ms", "--product", "detector"}, dir);
  ASSERT_EQ(table.exit_code, 0) << table.out << table.err;
  // The change-point line comes right before run #20's row, and says regression.
  const auto mark = table.out.find("---- change point:");
  ASSERT_NE(mark, std::string::npos) << table.out;
  EXPECT_NE(table.out.find("regression", mark), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find(runs[20].run_id.substr(0, 8)), table.out.find('\n', mark) + 1 + 9) << table.out;
  EXPECT_EQ(table.out.find("---- change point:", mark + 1), std::string::npos) << "one change only\n" << table.out;

  const auto js = trackiq({"history", "latency_p50_ms", "--product", "detector", "--json"}, dir);
  ASSERT_EQ(js.exit_code, 0) << js.err;
  const Json j = Json::parse(js.out);
  EXPECT_EQ(j["n"], 40);
  EXPECT_EQ(j["unit"], "ms");
  ASSERT_EQ(j["change_points"].size(), 1u) << js.out;
  const auto& cp = j["change_points"][0];
  EXPECT_EQ(cp["index"], 20);
  EXPECT_EQ(cp["run_id"], runs[20].run_id);
  EXPECT_EQ(cp["previous_run_id"], runs[19].run_id);
  EXPECT_EQ(cp["direction"], "regression");
  EXPECT_NEAR(cp["magnitude_pct"].get<double>(), 20.0, 3.0);
  EXPECT_EQ(j["points"][20]["commit"], runs[20].labels.commit);
  EXPECT_EQ(j["points"][39]["version"], "1.39");

  // Throughput did not move: no change there.
  const auto tp = Json::parse(trackiq({"history", "throughput_samples_per_s", "--product", "detector", "--json"}, dir).out);
  EXPECT_TRUE(tp["change_points"].empty()) << tp.dump();

  const auto csv = trackiq({"history", "latency_p50_ms", "--csv"}, dir);
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("index,run_id,started_at,version,commit,value,segment_mean,change_point\n", 0), 0u);
  EXPECT_NE(csv.out.find("\n20," + runs[20].run_id + ","), std::string::npos);
  EXPECT_NE(csv.out.find(",1\n"), std::string::npos);  // the change-point flag on one row

  const auto html = trackiq({"history", "latency_p50_ms", "--html", dir.file("h.html")}, dir);
  ASSERT_EQ(html.exit_code, 0) << html.err;
  // The report's front end with the history section only: its page data names every run.
  const std::string page = read_file(dir.file("h.html"));
  EXPECT_NE(page.find("historySection"), std::string::npos);
  for (const auto& r : runs) EXPECT_NE(page.find("\"run_id\":\"" + r.run_id + "\""), std::string::npos);
  EXPECT_NE(page.find("\"direction\":\"regression\""), std::string::npos);
  const std::string open_tag = "<script type=\"application/json\" id=\"trackiq-data\">";
  const auto from = page.find(open_tag);
  ASSERT_NE(from, std::string::npos);
  const auto to = page.find("</script>", from);
  const Json data = Json::parse(page.substr(from + open_tag.size(), to - from - open_tag.size()));
  EXPECT_TRUE(data["runs"].empty()) << "a history page has no run of its own";
  ASSERT_EQ(data["history"].size(), 1u);
  EXPECT_EQ(data["history"][0]["points"].size(), 40u);
  EXPECT_EQ(data["history"][0]["change_points"][0]["index"], 20);
}

TEST(CliHistory, ReportAddsAHistorySection) {
  TempDir dir;
  Plan plan;
  plan.step_at = 20;
  const auto runs = make_runs(plan);
  fill(dir, runs);
  const std::string last = runs.back().run_id;
  const auto md = trackiq({"report", last, "--history", "latency_p50_ms", "--history", "throughput_samples_per_s"}, dir);
  ASSERT_EQ(md.exit_code, 0) << md.out << md.err;
  const auto at = md.out.find("### History");
  ASSERT_NE(at, std::string::npos) << md.out;
  // latency: the regression at run 20 with the runs around it; throughput: no change.
  EXPECT_NE(md.out.find("| latency_p50_ms | 40 | regression +", at), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("`" + runs[20].run_id.substr(0, 8) + "`", at), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("`" + runs[19].run_id.substr(0, 8) + "`", at), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("| throughput_samples_per_s | 40 | no change |", at), std::string::npos) << md.out;

  const auto html = trackiq({"report", last, "--history", "latency_p50_ms", "-o", dir.file("r.html")}, dir);
  ASSERT_EQ(html.exit_code, 0) << html.err;
  const Json data = Json::parse(read_file(dir.file("r_data.json")));
  ASSERT_EQ(data["history"].size(), 1u);
  EXPECT_EQ(data["history"][0]["points"].size(), 40u);
  ASSERT_EQ(data["history"][0]["change_points"].size(), 1u);
  EXPECT_EQ(data["history"][0]["change_points"][0]["run_id"], runs[20].run_id);
  EXPECT_NE(read_file(dir.file("r.html")).find("historySection"), std::string::npos);

  // Without --history the report has no such section; an unknown metric is refused.
  EXPECT_EQ(trackiq({"report", last}, dir).out.find("### History"), std::string::npos);
  const auto bad = trackiq({"report", last, "--history", "latency_p42_ms"}, dir);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown metric"), std::string::npos) << bad.err;
}

TEST(CliHistory, PureNoiseHasNoChange) {
  TempDir dir;
  Plan plan;
  plan.seed = 7;
  fill(dir, make_runs(plan));
  const auto h = trackiq({"history", "latency_p50_ms", "--json"}, dir);
  ASSERT_EQ(h.exit_code, 0) << h.err;
  EXPECT_TRUE(Json::parse(h.out)["change_points"].empty()) << h.out;
  const auto d = trackiq({"detect", "--json"}, dir);
  EXPECT_EQ(d.exit_code, 0) << d.out << d.err;
  const Json j = Json::parse(d.out);
  EXPECT_TRUE(j["changes"].empty()) << d.out;
  EXPECT_GT(j["tests"].get<int>(), 5);
  EXPECT_EQ(j["fdr"], 0.05);
}

TEST(CliHistory, SeveralSeriesAreRefusedAndListed) {
  TempDir dir;
  Plan a, b;
  a.runs = b.runs = 3;
  b.product = "tracker";
  auto runs = make_runs(a);
  for (auto& r : make_runs(b)) runs.push_back(r);
  fill(dir, runs);
  {
    // Imports and unlabelled runs have no product: the listed hint `--product ''` must narrow too.
    TempDir mixed;
    Plan c;
    c.runs = 2;
    c.product = "";
    auto with_unlabelled = runs;
    for (auto& r : make_runs(c)) with_unlabelled.push_back(r);
    fill(mixed, with_unlabelled);
    const auto all = trackiq({"history", "latency_p50_ms"}, mixed);
    EXPECT_NE(all.err.find("3 series match"), std::string::npos) << all.err;
    EXPECT_NE(all.err.find("--product '' "), std::string::npos) << all.err;
    EXPECT_NE(all.err.find("(2 runs)"), std::string::npos) << all.err;
    const auto unlabelled = trackiq({"history", "latency_p50_ms", "--product", "", "--json"}, mixed);
    EXPECT_EQ(unlabelled.exit_code, 0) << unlabelled.err;
    EXPECT_EQ(Json::parse(unlabelled.out)["n"], 2) << unlabelled.out;
    // --label matches the built-in labels: version exactly, commit by a prefix of the SHA.
    const auto version =
        trackiq({"history", "latency_p50_ms", "--product", "tracker", "--label", "version=1.1", "--json"}, mixed);
    EXPECT_EQ(version.exit_code, 0) << version.err;
    EXPECT_EQ(Json::parse(version.out)["n"], 1) << version.out;
    const auto commit =
        trackiq({"history", "latency_p50_ms", "--product", "detector", "--label", "commit=c0ffee02", "--json"}, mixed);
    EXPECT_EQ(commit.exit_code, 0) << commit.err;
    EXPECT_EQ(Json::parse(commit.out)["n"], 1) << commit.out;
  }
  const auto both = trackiq({"history", "latency_p50_ms"}, dir);
  EXPECT_EQ(both.exit_code, 2) << both.out << both.err;
  EXPECT_NE(both.err.find("2 series match"), std::string::npos) << both.err;
  EXPECT_NE(both.err.find("--product 'detector'"), std::string::npos) << both.err;
  EXPECT_NE(both.err.find("--product 'tracker'"), std::string::npos) << both.err;
  const auto one = trackiq({"history", "latency_p50_ms", "--product", "tracker", "--json"}, dir);
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(Json::parse(one.out)["n"], 3);
  EXPECT_FALSE(Json::parse(one.out)["not_tested"].get<std::string>().empty());

  const auto unknown = trackiq({"history", "latency_p42_ms"}, dir);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown metric 'latency_p42_ms'"), std::string::npos) << unknown.err;
  const auto none = trackiq({"history", "latency_p50_ms", "--product", "nobody"}, dir);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("no stored run"), std::string::npos) << none.err;
  EXPECT_EQ(trackiq({"history", "latency_p50_ms", "--order", "random"}, dir).exit_code, 2);
  EXPECT_EQ(trackiq({"history", "latency_p50_ms", "--label", "nokey"}, dir).exit_code, 2);
}

// Runs of one model in two configurations (batch 1 and batch 8, interleaved as a nightly sweep
// stores them) are two series: mixed, their alternating levels read as change points.
TEST(CliHistory, ConfigurationsAreSeparateSeries) {
  TempDir dir;
  Plan p;
  p.runs = 24;
  auto runs = make_runs(p);
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (i % 2) {
      runs[i].workload.batch_size = 8;
      for (auto& m : runs[i].metrics) m.value *= 3;  // batch 8 takes longer per query
    }
  fill(dir, runs);
  const auto both = trackiq({"history", "latency_p50_ms", "--product", "detector"}, dir);
  EXPECT_EQ(both.exit_code, 2) << both.out;
  EXPECT_NE(both.err.find("2 series match"), std::string::npos) << both.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(both.err, m, std::regex("--config '(batch=8 [^']*)'"))) << both.err;
  const auto batch8 = trackiq({"history", "latency_p50_ms", "--product", "detector", "--config", m[1].str(), "--json"}, dir);
  ASSERT_EQ(batch8.exit_code, 0) << batch8.err;
  const auto doc = Json::parse(batch8.out);
  EXPECT_EQ(doc["n"], 12);
  EXPECT_TRUE(doc["change_points"].empty()) << batch8.out;
  EXPECT_EQ(doc["series"]["config"], m[1].str());
  // --run: the series of that run, whole.
  const auto of_run = trackiq({"history", "latency_p50_ms", "--run", runs[0].run_id.substr(0, 8), "--json"}, dir);
  ASSERT_EQ(of_run.exit_code, 0) << of_run.err;
  EXPECT_EQ(Json::parse(of_run.out)["n"], 12);
  EXPECT_EQ(Json::parse(of_run.out)["points"][0]["run_id"], runs[0].run_id);
  EXPECT_EQ(trackiq({"history", "latency_p50_ms", "--run", runs[0].run_id, "--product", "x"}, dir).exit_code, 2);
  // detect keeps them apart too: no change in either series.
  const auto detect = trackiq({"detect", "--json"}, dir);
  EXPECT_EQ(detect.exit_code, 0) << detect.out << detect.err;
  EXPECT_TRUE(Json::parse(detect.out)["changes"].empty()) << detect.out;
}

TEST(CliHistory, CommitOrderFollowsGitRevList) {
  TempDir dir;
  const std::string repo = dir.file("repo");
  std::vector<std::string> commits;  // oldest first
  ASSERT_EQ(run_process({"git", "init", "-q", repo}).exit_code, 0);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(run_process({"git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q",
                           "--allow-empty", "-m", fmt::format("c{}", i)})
                  .exit_code,
              0);
    auto head = run_process({"git", "-C", repo, "rev-parse", "HEAD"}).out;
    commits.push_back(head.substr(0, 40));
  }
  Plan p;
  p.runs = 4;
  auto runs = make_runs(p);
  // Measured newest commit first: time order is the reverse of commit order; the last run's
  // commit is not in the repository.
  runs[0].labels.commit = commits[2];
  runs[1].labels.commit = commits[1].substr(0, 7);  // a short hash
  runs[2].labels.commit = commits[0];
  runs[3].labels.commit = "deadbeef";
  fill(dir, runs);
  const auto r = run_process({"/bin/sh", "-c",
                              fmt::format("cd '{}' && exec '{}' history latency_p50_ms --order commit --json --store '{}'",
                                          repo, kTrackiqBin, dir.file("store.db"))});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const Json j = Json::parse(r.out);
  ASSERT_EQ(j["points"].size(), 3u);
  EXPECT_EQ(j["points"][0]["run_id"], runs[2].run_id);
  EXPECT_EQ(j["points"][1]["run_id"], runs[1].run_id);
  EXPECT_EQ(j["points"][2]["run_id"], runs[0].run_id);
  ASSERT_EQ(j["not_in_commit_order"].size(), 1u);
  EXPECT_EQ(j["not_in_commit_order"][0]["run_id"], runs[3].run_id);
  const auto text = run_process({"/bin/sh", "-c",
                                 fmt::format("cd '{}' && exec '{}' history latency_p50_ms --order commit --store '{}'", repo,
                                             kTrackiqBin, dir.file("store.db"))});
  EXPECT_NE(text.out.find("1 run left out: commit not in 'git rev-list HEAD'"), std::string::npos) << text.out;
  // Outside a repository: refused, with git's reason.
  const auto outside = run_process({"/bin/sh", "-c",
                                    fmt::format("cd / && exec '{}' history latency_p50_ms --order commit --store '{}'",
                                                kTrackiqBin, dir.file("store.db"))});
  EXPECT_EQ(outside.exit_code, 2) << outside.out;
  EXPECT_NE(outside.err.find("git rev-list HEAD' failed"), std::string::npos) << outside.err;
}

TEST(CliDetect, ReportsThePlantedStepAndExitsOnSince) {
  TempDir dir;
  Plan plan;
  plan.step_at = 20;
  const auto runs = make_runs(plan);
  fill(dir, runs);

  const auto all = trackiq({"detect", "--json", "--junit", dir.file("d.xml"), "--markdown", dir.file("d.md")}, dir);
  EXPECT_EQ(all.exit_code, 1) << all.out << all.err;
  const Json j = Json::parse(all.out);
  ASSERT_FALSE(j["changes"].empty()) << all.out;
  std::set<std::string> metrics;
  for (const auto& c : j["changes"]) {
    metrics.insert(c["metric"].get<std::string>());
    EXPECT_EQ(c["first_run"]["run_id"], runs[20].run_id) << c.dump();
    EXPECT_EQ(c["direction"], "regression");
    EXPECT_LE(c["p_value"].get<double>(), j["threshold"].get<double>());
    ASSERT_EQ(c["runs"]["before"].size(), 3u);
    EXPECT_EQ(c["runs"]["before"][2]["run_id"], runs[19].run_id);
    EXPECT_EQ(c["runs"]["before"][2]["commit"], runs[19].labels.commit);
    EXPECT_EQ(c["runs"]["after"][0]["version"], "1.20");
  }
  EXPECT_TRUE(metrics.count("latency_p50_ms")) << all.out;
  EXPECT_FALSE(metrics.count("throughput_samples_per_s")) << all.out;
  const std::string xml = read_file(dir.file("d.xml"));
  EXPECT_NE(xml.find("<failure"), std::string::npos);
  EXPECT_NE(xml.find(runs[20].run_id), std::string::npos);
  EXPECT_NE(read_file(dir.file("d.md")).find("| regression | latency_p50_ms |"), std::string::npos);
  // "-" puts one report on stdout in place of the summary (a file named "-" would be a trap).
  const auto md_out = trackiq({"detect", "--markdown", "-"}, dir);
  EXPECT_EQ(md_out.exit_code, 1) << md_out.err;
  EXPECT_EQ(md_out.out.rfind("# trackiq detect: ", 0), 0u) << md_out.out;
  EXPECT_NE(md_out.out.find("| regression | latency_p50_ms |"), std::string::npos) << md_out.out;
  EXPECT_FALSE(std::filesystem::exists("-")) << "a file named - in the working directory";
  const auto xml_out = trackiq({"detect", "--junit", "-"}, dir);
  EXPECT_EQ(xml_out.exit_code, 1) << xml_out.err;
  EXPECT_EQ(xml_out.out.rfind("<?xml", 0), 0u) << xml_out.out;
  const auto both = trackiq({"detect", "--json", "--markdown", "-"}, dir);
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("only one of --json, --markdown - and --junit -"), std::string::npos) << both.err;

  // The console says the level and the number of tests.
  const auto text = trackiq({"detect"}, dir);
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find(fmt::format("at FDR 0.05 over {} tests", j["tests"].get<int>())), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(runs[20].run_id), std::string::npos) << text.out;

  // Run 20 started at 2026-01-01T20:00Z.
  EXPECT_EQ(trackiq({"detect", "--since", "2026-01-01T10:00Z"}, dir).exit_code, 1);
  EXPECT_EQ(trackiq({"detect", "--since", "2026-01-01T20:00:00Z"}, dir).exit_code, 1);
  EXPECT_EQ(trackiq({"detect", "--since", "2026-01-02"}, dir).exit_code, 0);
  EXPECT_EQ(trackiq({"detect", "--since", runs[10].run_id}, dir).exit_code, 1);
  EXPECT_EQ(trackiq({"detect", "--since", runs[20].run_id}, dir).exit_code, 0);
  const auto after = trackiq({"detect", "--since", runs[25].run_id.substr(0, 8), "--json"}, dir);
  EXPECT_EQ(after.exit_code, 0) << after.out << after.err;
  const Json parsed = Json::parse(after.out);  // named: a range-for over a temporary's member dangles
  for (const auto& c : parsed["changes"]) EXPECT_FALSE(c["new"].get<bool>());
}

TEST(CliDetect, AppendedRunsAreDetectedFromTheKeptStateAsInFull) {
  TempDir dir;
  Plan plan;
  plan.runs = 60;
  plan.step_at = 20;
  const auto runs = make_runs(plan);
  fill(dir, {runs.begin(), runs.begin() + 45});
  const auto first = Json::parse(trackiq({"detect", "--json"}, dir).out);
  EXPECT_GT(first["computation"]["full"].get<int>(), 0);
  EXPECT_EQ(first["computation"]["window"], 0);
  // Nothing new: nothing recomputed.
  const auto again = Json::parse(trackiq({"detect", "--json"}, dir).out);
  EXPECT_EQ(again["computation"]["full"], 0);
  EXPECT_EQ(again["computation"]["unchanged"], first["computation"]["full"]);
  EXPECT_EQ(again["changes"], first["changes"]);
  // Appending runs re-tests a window (45 → 60 runs does not double the series) ...
  fill(dir, {runs.begin() + 45, runs.end()});
  const auto inc = Json::parse(trackiq({"detect", "--json"}, dir).out);
  EXPECT_EQ(inc["computation"]["full"], 0) << inc["computation"].dump();
  EXPECT_EQ(inc["computation"]["window"], first["computation"]["full"]);
  // ... and finds what a full recomputation finds.
  const auto full = Json::parse(trackiq({"detect", "--json", "--full"}, dir).out);
  EXPECT_GT(full["computation"]["full"].get<int>(), 0);
  EXPECT_EQ(inc["changes"].size(), full["changes"].size());
  for (std::size_t i = 0; i < std::min(inc["changes"].size(), full["changes"].size()); ++i) {
    EXPECT_EQ(inc["changes"][i]["metric"], full["changes"][i]["metric"]);
    EXPECT_EQ(inc["changes"][i]["index"], full["changes"][i]["index"]);
    EXPECT_NEAR(inc["changes"][i]["after"].get<double>(), full["changes"][i]["after"].get<double>(), 1e-9);
  }
  // A removed run is not an append: that series is computed in full again.
  ASSERT_EQ(trackiq({"runs", "rm", runs[59].run_id}, dir).exit_code, 0);
  const auto removed = Json::parse(trackiq({"detect", "--json"}, dir).out);
  EXPECT_GT(removed["computation"]["full"].get<int>(), 0);
}

TEST(CliDetect, FalseDiscoveryControlKeepsOnlyThePlantedSeries) {
  TempDir dir;
  std::vector<Result> runs;
  constexpr int kNull = 30;
  for (int s = 0; s < kNull; ++s) {
    Plan p;
    p.product = fmt::format("null-{:02d}", s);
    p.seed = 100 + static_cast<std::uint64_t>(s);
    for (auto& r : make_runs(p)) runs.push_back(std::move(r));
  }
  Plan planted;
  planted.product = "planted";
  planted.step_at = 25;
  planted.planted = {"latency_p50_ms"};
  for (auto& r : make_runs(planted)) runs.push_back(std::move(r));
  fill(dir, runs);
  const auto d = trackiq({"detect", "--json"}, dir);
  EXPECT_EQ(d.exit_code, 1) << d.err;
  const Json j = Json::parse(d.out);
  EXPECT_GT(j["tests"].get<int>(), 10 * kNull) << "one test per key metric of each series";
  ASSERT_EQ(j["changes"].size(), 1u) << d.out;
  EXPECT_EQ(j["changes"][0]["series"]["product"], "planted");
  EXPECT_EQ(j["changes"][0]["metric"], "latency_p50_ms");
  EXPECT_EQ(j["changes"][0]["index"], 25);
  // Without the correction (each series at its own 5 %), the null series do raise changes: the
  // store is big enough for BH to matter.
  std::size_t raw = 0;
  for (const auto& r : store::open_store(dir.file("store.db"))->series_states())
    raw += r.state.find("\"cps\":[]") == std::string::npos;
  EXPECT_GT(raw, 1u) << "series with a change point at alpha 0.05 before BH";
}

TEST(CliDetect, RealRunsAndImportsAreSeries) {
  TempDir dir;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    const auto r = trackiq({"run", "synthetic:mean=1ms,cv=0.05", "--duration", "0.2", "--warmup", "2", "--product", "real"}, dir);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    ids.push_back(stored_id(r));
  }
  std::string gbench;
  for (const auto& e : std::filesystem::directory_iterator(std::string(kTestdataDir) + "/google-benchmark"))
    if (e.path().extension() == ".json" && gbench.empty()) gbench = e.path().string();
  ASSERT_FALSE(gbench.empty());
  ASSERT_EQ(trackiq({"import", "--format", "gbench", gbench}, dir).exit_code, 0);
  ASSERT_EQ(trackiq({"import", "--format", "gbench", gbench, "--allow-duplicate"}, dir).exit_code, 0);

  const auto h = trackiq({"history", "latency_p50_ms", "--product", "real", "--json"}, dir);
  ASSERT_EQ(h.exit_code, 0) << h.err;
  const Json j = Json::parse(h.out);
  ASSERT_EQ(j["points"].size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(j["points"][i]["run_id"], ids[i]);  // oldest first
  EXPECT_NE(j["not_tested"].get<std::string>().find("3 points"), std::string::npos) << h.out;
  const auto d = trackiq({"detect", "--json"}, dir);
  EXPECT_EQ(d.exit_code, 0) << d.out << d.err;
  const Json dj = Json::parse(d.out);
  EXPECT_EQ(dj["tests"], 0);  // nothing has 12 runs yet
  EXPECT_GT(dj["too_short"].get<int>(), 0);
}

TEST(CliDetect, BadInputsExitTwo) {
  TempDir dir;
  Plan p;
  p.runs = 3;
  fill(dir, make_runs(p));
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"detect", "--fdr", "0"}, {"detect", "--fdr", "1.5"}, {"detect", "--since", "yesterday"},
        {"detect", "--since", "2026-13-01"}, {"detect", "--since", "ffff0000"}, {"detect", "--window", "3"}}) {
    const auto r = trackiq(args, dir);
    EXPECT_EQ(r.exit_code, 2) << args[1] << " " << args[2] << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find("trackiq: "), std::string::npos) << r.err;
  }
  EXPECT_EQ(trackiq({"detect"}, dir).exit_code, 0);
}

}  // namespace
}  // namespace trackiq::test
