// Load past one client machine (issue 14 item 5): three `trackiq load --shard K/3` processes run
// at once against one reference server with one seeded open-loop schedule, and `runs merge`
// makes one result of them that matches a single-process run of the same schedule: the request
// count exactly (the schedule is the ground truth), the offered and achieved rates and p50 within
// generous bounds (the CI machine is slow). And the refusals: bad --shard values, sweeps, a share
// of no connections, merges of incomplete, duplicated or mixed groups and of runs that are not
// shards. Timed: CTest runs these alone (RUN_SERIAL).
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <future>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/ref_server_process.hpp"
#include "support/trackiq_cli.hpp"
#include "trackiq/load/load_result.hpp"
#include "trackiq/load/schedule.hpp"

namespace trackiq::test {
namespace {

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

double metric(const nlohmann::json& result, const std::string& name) {
  const auto& m = result.at("metrics");
  if (!m.contains(name)) {
    ADD_FAILURE() << "no metric " << name << " in " << result.at("run_id");
    return -1;
  }
  return m.at(name).at("value").get<double>();
}

TEST(LoadShard, ThreeClientsMergeIntoTheSingleProcessRunOfTheSameSchedule) {
  RefServer server;
  ASSERT_TRUE(server.ok());
  TempDir dir;
  // Ground truth: the schedule every client generates from the same seed.
  const std::size_t scheduled =
      load::arrival_schedule({load::ArrivalKind::poisson, 60, 1, 11}, 3'000'000'000, std::nullopt).size();
  ASSERT_GT(scheduled, 120u);
  const std::vector<std::string> args{"load",         server.url("/"), "--api",      "openai-chat", "--model",
                                      "m",            "--max-tokens",  "8",          "--rate",      "60",
                                      "--duration",   "3s",            "--seed",     "11",          "--arrival",
                                      "poisson"};
  std::vector<std::future<ProcessResult>> clients;
  for (int k = 0; k < 3; ++k)
    clients.push_back(std::async(std::launch::async, [&, k] {
      return trackiq(with(args, {"--shard", std::to_string(k) + "/3", "--group", "g",
                                 "--json", dir.file("shard" + std::to_string(k) + ".json")}),
                     dir);
    }));
  for (int k = 0; k < 3; ++k) {
    const ProcessResult r = clients[static_cast<std::size_t>(k)].get();
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto j = nlohmann::json::parse(read_file(dir.file("shard" + std::to_string(k) + ".json")));
    EXPECT_EQ(j["labels"]["extra"]["group"], "g");
    EXPECT_EQ(j["labels"]["extra"]["shard"], std::to_string(k) + "/3");
    // Client K sends exactly the arrivals i with i % 3 == K.
    EXPECT_EQ(metric(j, "queries_total") + metric(j, "errors_total"),
              static_cast<double>(load::shard_share(scheduled, {static_cast<unsigned>(k), 3})));
  }
  const ProcessResult single = trackiq(with(args, {"--json", dir.file("single.json")}), dir);
  ASSERT_EQ(single.exit_code, 0) << single.out << single.err;
  const ProcessResult merge = trackiq({"runs", "merge", "--group", "g", "-o", dir.file("merged.json")}, dir);
  ASSERT_EQ(merge.exit_code, 0) << merge.out << merge.err;
  const std::string merged_id = stored_id(merge);
  EXPECT_NE(merge.out.find("merged     3 runs of group g"), std::string::npos) << merge.out;

  const ProcessResult valid = run_process(
      {"/usr/bin/python3", trackiq::test::kResultValidator, trackiq::test::kResultSchema, dir.file("merged.json")});
  EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  const auto m = nlohmann::json::parse(read_file(dir.file("merged.json")));
  const auto s = nlohmann::json::parse(read_file(dir.file("single.json")));
  EXPECT_EQ(m["run_id"], merged_id);
  EXPECT_EQ(m["labels"]["extra"]["group"], "g");
  EXPECT_EQ(m["labels"]["extra"]["merged_from"], "3 runs");
  EXPECT_FALSE(m["labels"]["extra"].contains("shard"));
  // Every scheduled request, once: the same count as the single process.
  EXPECT_EQ(metric(m, "queries_total") + metric(m, "errors_total"), static_cast<double>(scheduled));
  EXPECT_EQ(metric(s, "queries_total") + metric(s, "errors_total"), static_cast<double>(scheduled));
  EXPECT_EQ(m["latency"]["samples_ns"].size(), static_cast<std::size_t>(metric(m, "queries_total")));
  EXPECT_EQ(metric(m, "error_rate"), metric(m, "errors_total") / static_cast<double>(scheduled));
  // Rates summed: offered (from the schedule) and achieved agree with the single process.
  const auto near = [](double a, double b, double frac) { return std::abs(a - b) <= frac * std::abs(b); };
  EXPECT_TRUE(near(metric(m, "request_rate_target"), metric(s, "request_rate_target"), 0.10))
      << metric(m, "request_rate_target") << " vs " << metric(s, "request_rate_target");
  EXPECT_TRUE(near(metric(m, "request_throughput"), metric(s, "request_throughput"), 0.10))
      << metric(m, "request_throughput") << " vs " << metric(s, "request_throughput");
  EXPECT_TRUE(near(metric(m, "output_throughput"), metric(s, "output_throughput"), 0.10))
      << metric(m, "output_throughput") << " vs " << metric(s, "output_throughput");
  // Percentiles from all requests: the reference server answers in ~120 ms (50 ms TTFT, 7 x 10 ms).
  EXPECT_TRUE(near(metric(m, "latency_p50_ms"), metric(s, "latency_p50_ms"), 0.15))
      << metric(m, "latency_p50_ms") << " vs " << metric(s, "latency_p50_ms");
  EXPECT_TRUE(near(metric(m, "median_ttft_ms"), metric(s, "median_ttft_ms"), 0.15))
      << metric(m, "median_ttft_ms") << " vs " << metric(s, "median_ttft_ms");
  // Wall time: the longest shard's.
  double longest = 0;
  for (int k = 0; k < 3; ++k)
    longest = std::max(longest, metric(nlohmann::json::parse(read_file(dir.file("shard" + std::to_string(k) + ".json"))),
                                       "wall_time_s"));
  EXPECT_EQ(metric(m, "wall_time_s"), longest);

  // The same merge from the clients' --json files (clients without a shared store).
  const ProcessResult from_files = trackiq({"runs", "merge", "--group", "g", "--from", dir.file("shard2.json"), "--from",
                                            dir.file("shard0.json"), "--from", dir.file("shard1.json"), "-o",
                                            dir.file("merged2.json")},
                                           dir);
  ASSERT_EQ(from_files.exit_code, 0) << from_files.out << from_files.err;
  const auto m2 = nlohmann::json::parse(read_file(dir.file("merged2.json")));
  EXPECT_EQ(metric(m2, "queries_total"), metric(m, "queries_total"));
  EXPECT_EQ(metric(m2, "latency_p50_ms"), metric(m, "latency_p50_ms"));
  EXPECT_EQ(metric(m2, "request_throughput"), metric(m, "request_throughput"));
  const ProcessResult two_files =
      trackiq({"runs", "merge", "--group", "g", "--from", dir.file("shard0.json"), "--from", dir.file("shard1.json")}, dir);
  EXPECT_EQ(two_files.exit_code, 2);
  EXPECT_NE(two_files.err.find("shard 2/3 missing"), std::string::npos) << two_files.err;

  // The merged run is a stored run like any: compare and report take it.
  const ProcessResult cmp = trackiq({"compare", stored_id(single), merged_id}, dir);
  EXPECT_NE(cmp.exit_code, 2) << cmp.out << cmp.err;
  EXPECT_NE(cmp.out.find("verdict:"), std::string::npos) << cmp.out;
  const ProcessResult rep = trackiq({"report", merged_id, "-o", dir.file("r.html")}, dir);
  EXPECT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  // group:NAME of a sharded group is its merged run, not a median over the shards.
  const ProcessResult cmp_group = trackiq({"compare", stored_id(single), "group:g"}, dir);
  EXPECT_NE(cmp_group.exit_code, 2) << cmp_group.out << cmp_group.err;
  EXPECT_NE(cmp_group.out.find(fmt::format("exact samples: {} vs {}", scheduled, scheduled)), std::string::npos)
      << cmp_group.out;
  const ProcessResult rep_group = trackiq({"report", "group:g", "-o", dir.file("g.json")}, dir);
  EXPECT_EQ(rep_group.exit_code, 0) << rep_group.out << rep_group.err;
  // The newest merged run: the one from the files.
  EXPECT_NE(read_file(dir.file("g.json")).find(stored_id(from_files)), std::string::npos);
}

TEST(LoadShard, BadShardsSweepsAndEmptySharesAreRefused) {
  TempDir dir;
  // Refused before anything is sent: no server needed.
  const std::vector<std::string> base{"load", "http://127.0.0.1:9/", "--duration", "1s"};
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"--rate", "5", "--shard", "3/3", "--group", "g"}, "K must be below N"},
      {{"--rate", "5", "--shard", "1/0", "--group", "g"}, "N must be at least 1"},
      {{"--rate", "5", "--shard", "a/3", "--group", "g"}, "K is not a whole number"},
      {{"--rate", "5", "--shard", "1", "--group", "g"}, "no '/'"},
      {{"--rate", "5", "--shard", "0/3"}, "needs --group"},
      {{"--rate", "5", "--group", "g"}, "needs --shard"},
      {{"--rate", "5,10", "--shard", "0/2", "--group", "g"}, "a sweep (2 points) cannot be split"},
      {{"--concurrency", "1,2", "--shard", "0/2", "--group", "g"}, "a sweep (2 points) cannot be split"},
      {{"--concurrency", "2", "--shard", "2/3", "--group", "g"}, "2 connections shared among 3 clients leave client 2 none"},
      {{"--concurrency", "4", "--requests", "2", "--shard", "2/3", "--group", "g"}, "--requests 2 shared among 3 clients"},
  };
  for (const auto& [extra, message] : cases) {
    const ProcessResult r = trackiq(with(base, extra), dir);
    EXPECT_EQ(r.exit_code, 2) << extra.back() << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << "expected '" << message << "' in: " << r.err;
  }
}

TEST(LoadShard, MergeRefusesIncompleteDuplicatedMixedAndNonShardGroups) {
  RefServer server;
  ASSERT_TRUE(server.ok());
  TempDir dir;
  const auto run = [&](const std::vector<std::string>& extra) {
    const ProcessResult r = trackiq(with({"load", server.url("/sleep/1"), "--concurrency", "3", "--requests", "6"}, extra), dir);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  };
  run({"--shard", "0/3", "--group", "missing"});
  run({"--shard", "1/3", "--group", "missing"});
  run({"--shard", "0/2", "--group", "twice"});
  run({"--shard", "0/2", "--group", "twice"});
  run({"--shard", "1/2", "--group", "twice"});
  run({"--shard", "0/2", "--group", "mixed"});
  run({"--shard", "1/3", "--group", "mixed"});
  run({"--label", "group=plain"});
  const std::vector<std::pair<std::string, std::string>> cases{
      {"missing", "group 'missing' is incomplete: shard 2/3 missing (2 of 3 runs)"},
      {"twice", "group 'twice': shard 0/2 appears twice"},
      {"mixed", "group 'mixed' mixes shard counts"},
      {"plain", "is not a shard of group 'plain'"},
      {"nobody", "no runs of group 'nobody'"},
  };
  const ProcessResult unmerged = trackiq({"compare", "group:twice", "group:missing"}, dir);
  EXPECT_EQ(unmerged.exit_code, 2) << unmerged.out;
  EXPECT_NE(unmerged.err.find("not yet merged: trackiq runs merge --group"), std::string::npos) << unmerged.err;
  for (const auto& [group, message] : cases) {
    const ProcessResult r = trackiq({"runs", "merge", "--group", group}, dir);
    EXPECT_EQ(r.exit_code, 2) << group << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << "expected '" << message << "' in: " << r.err;
  }
  // The closed loop's shares: 3 connections and 6 requests over 2 clients: 2 + 1 and 3 + 3 (a
  // client with more --threads than connections runs fewer threads, not more connections).
  run({"--shard", "0/2", "--group", "closed", "--json", dir.file("c0.json")});
  run({"--shard", "1/2", "--group", "closed", "--threads", "2", "--json", dir.file("c1.json")});  // 1 connection: 1 thread
  const auto c0 = nlohmann::json::parse(read_file(dir.file("c0.json")));
  const auto c1 = nlohmann::json::parse(read_file(dir.file("c1.json")));
  EXPECT_EQ(c0["workload"]["options"]["connections"], "2");
  EXPECT_EQ(c1["workload"]["options"]["connections"], "1");
  EXPECT_EQ(metric(c0, "queries_total"), 3);
  EXPECT_EQ(metric(c1, "queries_total"), 3);
  const ProcessResult merged = trackiq({"runs", "merge", "--group", "closed", "-o", dir.file("c.json")}, dir);
  ASSERT_EQ(merged.exit_code, 0) << merged.out << merged.err;
  const auto c = nlohmann::json::parse(read_file(dir.file("c.json")));
  EXPECT_EQ(metric(c, "queries_total"), 6);
  EXPECT_EQ(c["workload"]["options"]["connections"], "3");
}

}  // namespace
}  // namespace trackiq::test
