// The in-process Tracker: phases against an injected clock, token metrics against trackiq::load's
// definitions, exact counts under 8 recording threads with a concurrent reader, the record ring's
// bound, validate(), and to_result() through the JSON writer/parser, the schema and a store.
#include "trackiq/tracker/tracker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"
#include "support/test_paths.hpp"
#include "trackiq/core/clock.hpp"
#include "trackiq/core/cycle_clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/load/llm_metrics.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::tracker {
namespace {

std::atomic<std::int64_t> g_fake_now{0};
std::int64_t fake_clock() noexcept { return g_fake_now.load(); }
void set_now(std::int64_t t) { g_fake_now.store(t); }

TrackerOptions fake_clock_options() {
  TrackerOptions o;
  o.clock = &fake_clock;
  return o;
}

bool contains(const std::vector<std::string>& lines, const std::string& part) {
  for (const std::string& l : lines)
    if (l.find(part) != std::string::npos) return true;
  return false;
}

TEST(Tracker, NestedPhasesAreTimedByTheInjectedClock) {
  set_now(0);
  Tracker t(fake_clock_options());
  set_now(1'000);
  {
    auto r = t.begin_request("req-1");
    set_now(1'100);
    {
      auto outer = r.phase("forward");
      set_now(1'200);
      {
        auto inner = r.phase("attention");
        set_now(1'500);
      }
      set_now(2'000);
    }
    set_now(2'100);
    { auto p = r.phase("sample"); set_now(2'400); }
    set_now(2'500);
  }
  const auto recs = t.records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].id, "req-1");
  EXPECT_EQ(recs[0].latency_ns(), 1'500);
  ASSERT_EQ(recs[0].phases.size(), 3u);  // in the order they ended
  EXPECT_EQ(recs[0].phases[0].name, "attention");
  EXPECT_EQ(recs[0].phases[0].depth, 1);
  EXPECT_EQ(recs[0].phases[0].duration_ns, 300);
  EXPECT_EQ(recs[0].phases[1].name, "forward");
  EXPECT_EQ(recs[0].phases[1].depth, 0);
  EXPECT_EQ(recs[0].phases[1].duration_ns, 900);
  EXPECT_EQ(recs[0].phases[2].name, "sample");
  EXPECT_EQ(recs[0].phases[2].duration_ns, 300);
  const Snapshot s = t.snapshot();
  EXPECT_EQ(s.requests_completed, 1u);
  ASSERT_TRUE(s.request);
  EXPECT_DOUBLE_EQ(s.request->mean, 1500e-6);
  ASSERT_EQ(s.phases.count("forward"), 1u);
  EXPECT_DOUBLE_EQ(s.phases.at("forward").mean, 900e-6);
  EXPECT_DOUBLE_EQ(s.phases.at("attention").mean, 300e-6);
  EXPECT_TRUE(t.validate().empty());
}

// A clock that steps back (an injected one; or the cycle clock across a thread hand-over, a few
// tens of ns) gives durations of 0, never negative ones counted as out of range.
TEST(Tracker, AClockThatStepsBackGivesZeroDurationsNotOutOfRangeOnes) {
  set_now(10'000);
  Tracker t(fake_clock_options());
  {
    auto r = t.begin_request("backwards");
    {
      auto p = r.phase("forward");
      set_now(9'000);
    }
    set_now(8'000);
    r.first_token();
    set_now(7'000);
    r.token();
    set_now(6'000);
  }
  set_now(20'000);  // the clock itself going back is validate()'s to report (uptime < 0)
  const auto recs = t.records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].latency_ns(), 0);
  ASSERT_EQ(recs[0].phases.size(), 1u);
  EXPECT_EQ(recs[0].phases[0].duration_ns, 0);
  const Snapshot s = t.snapshot();
  EXPECT_EQ(s.requests_completed, 1u);
  ASSERT_TRUE(s.request);
  EXPECT_EQ(s.request->count, 1u);
  EXPECT_DOUBLE_EQ(s.request->max, 0.0);
  ASSERT_EQ(s.phases.count("forward"), 1u);
  EXPECT_DOUBLE_EQ(s.phases.at("forward").max, 0.0);
  ASSERT_TRUE(s.ttft);
  EXPECT_DOUBLE_EQ(s.ttft->max, 0.0);
  ASSERT_TRUE(s.itl);
  EXPECT_DOUBLE_EQ(s.itl->max, 0.0);
  EXPECT_TRUE(t.validate().empty()) << t.validate().front();
}

TEST(Tracker, PhasesTimeARealSleepWithinGenerousBounds) {
  Tracker t;
  {
    auto r = t.begin_request("sleepy");
    auto p = r.phase("sleep");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const Snapshot s = t.snapshot();
  ASSERT_EQ(s.phases.count("sleep"), 1u);
  EXPECT_GE(s.phases.at("sleep").mean, 19.9);
  EXPECT_LT(s.phases.at("sleep").mean, 2000.0);
  EXPECT_GE(s.request->mean, s.phases.at("sleep").mean);
}

// The default clock (trackiq::CycleClock: the calibrated counter, or steady_clock where none is
// usable) is named in the snapshot and the result, and the records' times are on steady_clock's
// time base: they fall between now_ns() reads taken around the request (1 ms of slack for the
// calibration), and the phase and the latency agree with the real sleep.
TEST(Tracker, TheDefaultClockIsNamedAndItsTimesAreOnSteadyClocksTimeBase) {
  Tracker t;
  const std::int64_t s0 = now_ns();
  {
    auto r = t.begin_request("timed");
    auto p = r.phase("sleep");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::int64_t s1 = now_ns();
  const auto recs = t.records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_GE(recs[0].begin_ns, s0 - 1'000'000);
  EXPECT_LE(recs[0].end_ns, s1 + 1'000'000);
  EXPECT_GE(recs[0].latency_ns(), 20'000'000 * 98 / 100);
  EXPECT_LE(recs[0].latency_ns(), (s1 - s0) * 102 / 100);
  ASSERT_EQ(recs[0].phases.size(), 1u);
  EXPECT_GE(recs[0].phases[0].duration_ns, 20'000'000 * 98 / 100);
  EXPECT_LE(recs[0].phases[0].duration_ns, recs[0].latency_ns());
  const std::int64_t before = now_ns();
  const std::int64_t now = t.now();
  const std::int64_t after = now_ns();
  EXPECT_GE(now, before - 1'000'000);
  EXPECT_LE(now, after + 1'000'000);
  const Snapshot s = t.snapshot();
  const CycleClock& c = CycleClock::instance();
  EXPECT_EQ(s.clock, c.source_name());
  EXPECT_EQ(s.clock_detail, c.description());
  EXPECT_TRUE(t.validate().empty());
  const Result result = t.to_result();
  EXPECT_EQ(result.workload.options.at("clock"), s.clock);
}

// cycle_clock = false reads steady_clock itself (the fallback, forced): the records' times are
// now_ns() readings, exactly between those taken around the request; an injected clock is named.
TEST(Tracker, WithoutTheCycleClockItReadsSteadyClockAndSaysSo) {
  TrackerOptions o;
  o.cycle_clock = false;
  Tracker t(o);
  const std::int64_t s0 = now_ns();
  { auto r = t.begin_request("steady"); auto p = r.phase("p"); }
  const std::int64_t s1 = now_ns();
  const auto recs = t.records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_GE(recs[0].begin_ns, s0);
  EXPECT_LE(recs[0].end_ns, s1);
  const Snapshot s = t.snapshot();
  EXPECT_EQ(s.clock, "steady_clock");
  EXPECT_NE(s.clock_detail.find("cycle_clock is false"), std::string::npos) << s.clock_detail;
  Tracker injected(fake_clock_options());
  EXPECT_EQ(injected.snapshot().clock, "injected");
}

// The same token times through the tracker and through load::compute_llm_metrics give the same
// per-request values and, bucket for bucket, the same histograms.
TEST(Tracker, TokenMetricsEqualLoadsDefinitionsOnTheSameTimes) {
  set_now(0);
  Tracker t(fake_clock_options());
  std::vector<load::LlmRequestRecord> reference;
  std::int64_t now = 1'000'000;
  for (int i = 0; i < 50; ++i) {
    load::LlmRequestRecord rec;
    set_now(now);
    rec.t_sched_ns = now;
    rec.t_send_ns = now;
    {
      auto r = t.begin_request("r" + std::to_string(i));
      r.tokens_in(100 + i);
      const int events = 1 + i % 7;
      for (int k = 0; k < events; ++k) {
        now += 1'000'003 * (1 + (i * 31 + k * 17) % 13);  // uneven gaps
        set_now(now);
        const std::int64_t tokens = 1 + (k % 3 == 2 ? 2 : 0);  // some events carry 3 tokens
        r.token(tokens);
        rec.events.push_back({now, tokens, true, false});
      }
      if (i % 5 == 0) {
        r.tokens_out(events * 4);  // the server's own count, as usage.completion_tokens
        rec.usage_completion_tokens = events * 4;
      }
      now += 500'000;
      set_now(now);
      rec.t_done_ns = now;
      rec.saw_done = true;
    }
    reference.push_back(rec);
    now += 10'000;
  }
  const load::LlmRunMetrics m = load::compute_llm_metrics(reference);
  const auto recs = t.records();
  ASSERT_EQ(recs.size(), reference.size());
  for (std::size_t i = 0; i < recs.size(); ++i) {
    const load::LlmRequestMetrics rm = load::request_metrics(reference[i]);
    EXPECT_EQ(recs[i].ttft_ns, rm.ttft_ns) << i;
    EXPECT_EQ(recs[i].e2el_ns, rm.e2el_ns) << i;
    EXPECT_EQ(recs[i].tpot_ps, rm.tpot_ps) << i;
    EXPECT_EQ(recs[i].tokens_out, rm.output_tokens.count) << i;
  }
  const Snapshot s = t.snapshot();
  ASSERT_TRUE(s.ttft && s.tpot && s.itl && s.e2el);
  EXPECT_TRUE(s.ttft->histogram == m.distributions.at("ttft"));
  EXPECT_TRUE(s.tpot->histogram == m.distributions.at("tpot"));
  EXPECT_TRUE(s.itl->histogram == m.distributions.at("itl"));
  EXPECT_TRUE(s.e2el->histogram == m.distributions.at("e2el"));
  EXPECT_EQ(s.ttft->count, m.ttft.count);
  EXPECT_EQ(s.tpot->count, m.tpot.count);
  EXPECT_NEAR(s.ttft->mean, m.ttft.mean_ms, m.ttft.mean_ms * 1e-3);
  EXPECT_NEAR(s.tpot->mean, m.tpot.mean_ms, m.tpot.mean_ms * 1e-3);
  EXPECT_NEAR(s.itl->mean, m.itl.mean_ms, m.itl.mean_ms * 1e-3);
  EXPECT_EQ(s.tokens_out, m.total_output_tokens);
}

TEST(Tracker, EightThreadsLoseNoRequestCounterOrPhase) {
  TrackerOptions o;
  o.record_window = 1'000;
  Tracker t(o);
  const auto hits = t.counter("cache_hit");
  const auto misses = t.counter("cache_miss");
  t.ratio("cache_hit_rate", hits, misses);
  const auto batch = t.histogram(MetricDef{"batch_size", "1", Direction::kNeutral, "batch size"}, 1, 1024, 3);
  constexpr int kThreads = 8, kPerThread = 5'000;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      const Snapshot s = t.snapshot();
      EXPECT_TRUE(validate(s).empty());
      EXPECT_LE(t.records().size(), 1'000u);
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kThreads; ++w)
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = t.begin_request("w" + std::to_string(w) + "-" + std::to_string(i));
        { auto p = r.phase("prefill"); r.token(); }
        { auto p = r.phase("decode"); r.token(2); }
        (i % 4 == 0 ? misses : hits).inc();
        batch.observe(1 + i % 16);
        if (i % 10 == 0) r.fail("deadline exceeded", i % 20 == 0 ? "timeout" : "oom");
      }
    });
  for (auto& th : writers) th.join();
  done.store(true);
  reader.join();

  const Snapshot s = t.snapshot();
  const std::uint64_t total = kThreads * kPerThread;
  EXPECT_EQ(s.requests_started, total);
  EXPECT_EQ(s.requests_failed, total / 10);
  EXPECT_EQ(s.requests_completed, total - total / 10);
  EXPECT_EQ(s.requests_active, 0u);
  EXPECT_EQ(s.errors_by_class.at("timeout"), total / 20);
  EXPECT_EQ(s.errors_by_class.at("oom"), total / 20);
  EXPECT_EQ(s.counters.at("cache_hit"), static_cast<std::int64_t>(total * 3 / 4));
  EXPECT_EQ(s.counters.at("cache_miss"), static_cast<std::int64_t>(total / 4));
  EXPECT_DOUBLE_EQ(s.ratios.at("cache_hit_rate"), 0.75);
  EXPECT_EQ(s.phases.at("prefill").count, total);
  EXPECT_EQ(s.phases.at("decode").count, total);
  EXPECT_EQ(s.histograms.at("batch_size").stats.count, total);
  EXPECT_EQ(s.ttft->count, total - total / 10);
  EXPECT_EQ(s.itl->count, total - total / 10);
  EXPECT_EQ(s.tokens_out, static_cast<std::int64_t>(3 * (total - total / 10)));
  const auto recs = t.records();
  EXPECT_EQ(recs.size(), 1'000u);
  for (const RequestRecord& r : recs) {
    ASSERT_EQ(r.phases.size(), 2u) << r.id;
    EXPECT_EQ(r.phases[0].name, "prefill");
    EXPECT_EQ(r.phases[1].name, "decode");
    EXPECT_EQ(r.id[0], 'w');
    if (!r.ok) {
      EXPECT_EQ(r.error_message, "deadline exceeded");
    }
  }
  EXPECT_TRUE(validate(s, recs).empty());
}

TEST(Tracker, TheRecordRingKeepsTheLastNRequests) {
  TrackerOptions o;
  o.record_window = 100;
  Tracker t(o);
  for (int i = 0; i < 250; ++i) t.begin_request("r" + std::to_string(i));
  const auto recs = t.records();
  ASSERT_EQ(recs.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(recs[i].id, "r" + std::to_string(150 + i));
  EXPECT_EQ(t.snapshot().requests_completed, 250u);  // the histograms keep everything since start
  EXPECT_EQ(t.snapshot().request->count, 250u);
}

// Threads claim ring positions in blocks. A thread that recorded a little and then idled while
// another lapped the ring holds a block of positions that are now among the oldest: its next
// record must not land there (it would be dropped or hidden) but in a fresh block, so the last N
// records are still the last N, the idle thread's late one the newest.
TEST(Tracker, AThreadWhoseRingBlockWentStaleStillRecordsAmongTheNewest) {
  TrackerOptions o;
  o.record_window = 1'000;  // 2,000 entries: blocks of up to 15 positions, stale after 500
  Tracker t(o);
  std::promise<void> first_done, lapped;
  std::thread idle([&] {
    for (int i = 0; i < 100; ++i) t.begin_request("idle-" + std::to_string(i));  // mid-block now
    first_done.set_value();
    lapped.get_future().wait();
    t.begin_request("late");
  });
  first_done.get_future().wait();
  std::thread busy([&] {
    for (int i = 0; i < 3'000; ++i) t.begin_request("busy-" + std::to_string(i));
  });
  busy.join();
  lapped.set_value();
  idle.join();
  const auto recs = t.records();
  ASSERT_EQ(recs.size(), 1'000u);
  EXPECT_EQ(recs.back().id, "late");
  for (std::size_t i = 0; i + 1 < recs.size(); ++i)
    EXPECT_EQ(recs[i].id, "busy-" + std::to_string(3'000 - 999 + i)) << i;
  EXPECT_EQ(t.snapshot().requests_completed, 3'101u);
}

TEST(Tracker, LongIdsAndMessagesAreCutInTheRecord) {
  Tracker t;
  {
    auto r = t.begin_request(std::string(100, 'x'));
    r.fail(std::string(100, 'm'), "http_status");
  }
  const auto recs = t.records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].id, std::string(kRequestIdBytes, 'x'));
  EXPECT_EQ(recs[0].error_message, std::string(kErrorMessageBytes, 'm'));
  EXPECT_EQ(recs[0].error_class, "http_status");
  EXPECT_FALSE(recs[0].ok);
}

TEST(Tracker, ValidateNamesAPlantedViolation) {
  Tracker t;
  const auto a = t.counter("hit");
  const auto b = t.counter("miss");
  t.ratio("hit_rate", a, b);
  a.inc(3);
  b.inc();
  { auto r = t.begin_request("ok"); auto p = r.phase("forward"); }
  Snapshot s = t.snapshot();
  auto recs = t.records();
  ASSERT_TRUE(validate(s, recs).empty());
  EXPECT_DOUBLE_EQ(s.ratios.at("hit_rate"), 0.75);

  Snapshot bad = s;
  bad.ratios["hit_rate"] = 1.5;
  EXPECT_TRUE(contains(validate(bad), "ratio hit_rate = 1.5")) << ::testing::PrintToString(validate(bad));
  bad = s;
  bad.request_rate_per_s = -1;
  EXPECT_TRUE(contains(validate(bad), "request_rate_per_s"));
  bad = s;
  bad.error_rate = 2;
  EXPECT_TRUE(contains(validate(bad), "error_rate"));
  auto bad_recs = recs;
  bad_recs[0].phases[0].duration_ns = bad_recs[0].latency_ns() + 1;
  EXPECT_TRUE(contains(validate(s, bad_recs), "phase forward took")) << ::testing::PrintToString(validate(s, bad_recs));
}

TEST(Tracker, GaugesAndRegistryHistogramsAppearInTheSnapshot) {
  Tracker t;
  const auto g = t.gauge("kv_cache_usage");
  g.set(0.25);
  g.set(0.5);
  const auto rss = t.histogram("rss_peak_bytes");
  rss.observe(1000);
  rss.observe(3000);
  EXPECT_THROW(t.histogram("no_such_metric"), InputError);
  const Snapshot s = t.snapshot();
  EXPECT_DOUBLE_EQ(s.gauges.at("kv_cache_usage"), 0.5);
  const auto& h = s.histograms.at("rss_peak_bytes");
  EXPECT_EQ(h.def.unit, "B");
  EXPECT_EQ(h.stats.count, 2u);
  EXPECT_NEAR(h.stats.mean, 2000, 2);
}

TEST(Tracker, ToResultRoundTripsThroughJsonTheSchemaAndAStore) {
  TrackerOptions o;
  o.service = "tts-service";
  Tracker t(o);
  const auto hits = t.counter("cache_hit");
  for (int i = 0; i < 20; ++i) {
    auto r = t.begin_request("q" + std::to_string(i));
    r.tokens_in(10);
    { auto p = r.phase("infer"); r.token(); r.token(); r.token(); }
    r.output_duration_ns(1'000'000'000);
    hits.inc();
    if (i == 3) r.fail("boom", "internal");
  }
  const Result r = t.to_result();
  EXPECT_EQ(r.scenario.name, "production");
  EXPECT_EQ(r.workload.backend, "tracker");
  EXPECT_EQ(r.workload.model, "tts-service");
  EXPECT_EQ(r.metric_value("queries_total"), 19.0);
  EXPECT_EQ(r.metric_value("errors_total"), 1.0);
  ASSERT_TRUE(r.metric_value("mean_ttft_ms"));
  ASSERT_TRUE(r.metric_value("rtf_mean"));
  EXPECT_EQ(r.errors.by_class.at("internal"), 1u);
  EXPECT_EQ(r.labels.extra.at("counter.cache_hit"), "20");
  ASSERT_TRUE(r.latency);
  EXPECT_EQ(r.latency->summary_ns.count, 19u);

  const std::string json = to_json(r);
  const Result back = result_from_json(json, "tracker.json");
  EXPECT_EQ(to_json(back), json);

  test::TempDir dir;
  const std::string path = dir.file("tracker.json");
  std::ofstream(path) << json;
  const auto v = test::run_process({"/usr/bin/python3", test::kResultValidator, test::kResultSchema, path});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;

  auto store = store::open_store(dir.file("runs.db"));
  store->save(r);
  const Result stored = store->load(r.run_id);
  EXPECT_EQ(stored.scenario.name, "production");
  EXPECT_EQ(stored.metric_value("queries_total"), 19.0);
  EXPECT_TRUE(stored.distributions.at("ttft") == r.distributions.at("ttft"));
}

}  // namespace
}  // namespace trackiq::tracker
