// Client K of N (`trackiq load --shard K/N`): the shares, and merge_shards on hand-made shard runs
// whose pooled answer is known.
#include <gtest/gtest.h>

#include <numeric>

#include "trackiq/core/error.hpp"
#include "trackiq/core/stats.hpp"
#include "trackiq/load/load_result.hpp"

namespace trackiq::load {
namespace {

TEST(Shard, ParsesKOfNFromZeroAndRefusesTheRest) {
  const Shard s = parse_shard("2/3");
  EXPECT_EQ(s.k, 2u);
  EXPECT_EQ(s.n, 3u);
  EXPECT_EQ(shard_text(s), "2/3");
  EXPECT_EQ(parse_shard("0/1").n, 1u);
  for (const char* bad : {"3/3", "1/0", "-1/3", "a/3", "1/", "/3", "13", "1/3/4", " 1/3"})
    EXPECT_THROW(parse_shard(bad), InputError) << bad;
}

TEST(Shard, SharesAddUpAndTheFirstClientsTakeTheRemainder) {
  for (std::uint64_t total : {0u, 1u, 2u, 7u, 64u, 100u}) {
    for (unsigned n : {1u, 2u, 3u, 7u}) {
      std::uint64_t sum = 0;
      for (unsigned k = 0; k < n; ++k) {
        const std::uint64_t share = shard_share(total, {k, n});
        sum += share;
        EXPECT_EQ(share, total / n + (k < total % n ? 1 : 0));
      }
      EXPECT_EQ(sum, total) << total << " over " << n;
    }
  }
}

TEST(Shard, OpenLoopClientsPartitionTheScheduleAtTheOriginalOffsets) {
  std::vector<std::int64_t> schedule(10);
  std::iota(schedule.begin(), schedule.end(), 100);
  EXPECT_EQ(shard_schedule(schedule, {0, 3}), (std::vector<std::int64_t>{100, 103, 106, 109}));
  EXPECT_EQ(shard_schedule(schedule, {1, 3}), (std::vector<std::int64_t>{101, 104, 107}));
  EXPECT_EQ(shard_schedule(schedule, {2, 3}), (std::vector<std::int64_t>{102, 105, 108}));
}

TEST(Shard, EachArrivalSendsWhatTheUnshardedRunWouldHave) {
  const std::vector<std::string> rows{"a", "b", "c", "d"};
  for (unsigned n : {1u, 2u, 3u, 4u, 6u}) {
    for (unsigned k = 0; k < n; ++k) {
      const auto mine = shard_requests(rows, {k, n});
      ASSERT_FALSE(mine.empty());
      for (std::size_t j = 0; j < 20; ++j)  // local arrival j is arrival k + j n
        EXPECT_EQ(mine[j % mine.size()], rows[(k + j * n) % rows.size()]) << k << "/" << n << " j=" << j;
    }
  }
}

Result shard_run(unsigned k, unsigned n, std::vector<std::int64_t> samples, double rate, double wall, std::uint64_t errors) {
  Result r;
  r.run_id = "run" + std::to_string(k);
  r.scenario.name = "load";
  r.labels.extra["group"] = "g";
  r.labels.extra["shard"] = shard_text({k, n});
  LatencyData l;
  l.summary_ns = summarize(samples);
  l.histogram.record(samples);
  l.samples_ns = samples;
  append_latency_metrics(r.metrics, l.summary_ns);
  r.latency = l;
  r.metrics.push_back({"queries_total", static_cast<double>(samples.size())});
  r.metrics.push_back({"errors_total", static_cast<double>(errors)});
  r.metrics.push_back({"error_rate", static_cast<double>(errors) / static_cast<double>(samples.size() + errors)});
  r.metrics.push_back({"request_throughput", rate});
  r.metrics.push_back({"request_rate_target", rate + 1});
  r.metrics.push_back({"wall_time_s", wall});
  r.errors.total = errors;
  if (errors) r.errors.by_class["timeout"] = errors;
  r.errors.by_class["connect"] = 1;
  return r;
}

TEST(Shard, MergePoolsSamplesSumsRatesAndCountsAndKeepsTheLongestWall) {
  const std::vector<Result> runs{shard_run(1, 2, {5'000'000, 7'000'000, 9'000'000}, 10, 3.0, 2),
                                 shard_run(0, 2, {1'000'000, 2'000'000}, 20, 3.5, 0)};
  const Result m = merge_shards(runs, "g");
  const SampleSummary all = summarize(std::vector<std::int64_t>{5'000'000, 7'000'000, 9'000'000, 1'000'000, 2'000'000});
  EXPECT_EQ(m.latency->samples_ns.size(), 5u);
  EXPECT_DOUBLE_EQ(*m.metric_value("latency_p50_ms"), all.percentiles[0].value / 1e6);
  EXPECT_DOUBLE_EQ(*m.metric_value("latency_p50_ms"), 5.0);
  EXPECT_DOUBLE_EQ(*m.metric_value("queries_total"), 5);
  EXPECT_DOUBLE_EQ(*m.metric_value("errors_total"), 2);
  EXPECT_DOUBLE_EQ(*m.metric_value("error_rate"), 2.0 / 7.0);
  EXPECT_DOUBLE_EQ(*m.metric_value("request_throughput"), 30);
  EXPECT_DOUBLE_EQ(*m.metric_value("request_rate_target"), 32);
  EXPECT_DOUBLE_EQ(*m.metric_value("wall_time_s"), 3.5);
  EXPECT_EQ(m.errors.total, 2u);
  EXPECT_EQ(m.errors.by_class.at("timeout"), 2u);
  EXPECT_EQ(m.errors.by_class.at("connect"), 2u);
  EXPECT_EQ(m.labels.extra.at("group"), "g");
  EXPECT_EQ(m.labels.extra.at("merged_from"), "2 runs");
  EXPECT_EQ(m.labels.extra.count("shard"), 0u);
  EXPECT_NE(m.run_id, "run0");
}

TEST(Shard, MergeRefusesWhatIsNotOneWholeGroup) {
  const auto r = [](unsigned k, unsigned n) { return shard_run(k, n, {1'000'000}, 1, 1, 0); };
  EXPECT_THROW(merge_shards({}, "g"), InputError);
  EXPECT_THROW(merge_shards({r(0, 2)}, "g"), InputError);                  // 1/2 missing
  EXPECT_THROW(merge_shards({r(0, 2), r(0, 2), r(1, 2)}, "g"), InputError);  // 0/2 twice
  EXPECT_THROW(merge_shards({r(0, 2), r(1, 3)}, "g"), InputError);          // N differs
  EXPECT_THROW(merge_shards({r(0, 1)}, "other"), InputError);              // not of this group
  Result plain = r(0, 1);
  plain.labels.extra.erase("shard");
  EXPECT_THROW(merge_shards({plain}, "g"), InputError);
  EXPECT_NO_THROW(merge_shards({r(0, 1)}, "g"));
}

}  // namespace
}  // namespace trackiq::load
