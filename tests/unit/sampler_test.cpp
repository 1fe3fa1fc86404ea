#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/telemetry/sampler.hpp"
#include "trackiq/telemetry/summary.hpp"

namespace trackiq::telemetry {
namespace {

constexpr std::int64_t kMs = 1'000'000;

// A collector that returns scripted values and can make a tick take longer on a fake clock.
class ScriptedCollector final : public Collector {
 public:
  ScriptedCollector(std::vector<Channel> channels, std::function<void(std::int64_t, std::span<double>)> fill,
                    bool available = true)
      : channels_(std::move(channels)), fill_(std::move(fill)), reason_(available ? "" : "not available: scripted") {}
  std::string_view name() const noexcept override { return "scripted"; }
  bool available() const noexcept override { return reason_.empty(); }
  const std::string& reason() const noexcept override { return reason_; }
  const std::vector<Channel>& channels() const noexcept override { return channels_; }
  void sample(std::int64_t now, std::span<double> out) noexcept override { fill_(now, out); }

 private:
  std::vector<Channel> channels_;
  std::function<void(std::int64_t, std::span<double>)> fill_;
  std::string reason_;
};

std::vector<std::unique_ptr<Collector>> scripted(std::function<void(std::int64_t, std::span<double>)> fill) {
  std::vector<std::unique_ptr<Collector>> v;
  v.push_back(std::make_unique<ScriptedCollector>(std::vector<Channel>{{"x", "1"}}, std::move(fill)));
  return v;
}

TEST(Sampler, FollowsAnAbsoluteScheduleWithoutDrift) {
  std::int64_t fake_now = 5 * kMs;
  SamplerOptions o;
  o.interval_ns = 100 * kMs;
  o.max_samples = 50;
  o.now = [&] { return fake_now; };
  // Every wake-up is 3 ms late and every sample takes 1 ms: a relative sleep would drift by
  // 4 ms per tick, an absolute schedule not at all.
  o.sleep_until = [&](std::int64_t deadline) { fake_now = std::max(fake_now, deadline) + 3 * kMs; };
  Sampler s(scripted([&](std::int64_t, std::span<double> out) {
              out[0] = 1;
              fake_now += kMs;
            }),
            o);
  s.start();
  while (s.rows_taken() < 50) std::this_thread::yield();
  s.stop();
  const Series& series = s.series();
  ASSERT_EQ(series.rows(), 50u);
  for (std::size_t k = 1; k < series.rows(); ++k)
    EXPECT_EQ(series.t_ns[k], 5 * kMs + static_cast<std::int64_t>(k) * 100 * kMs + 3 * kMs) << k;
  EXPECT_EQ(series.late_ticks, 0u);
}

TEST(Sampler, CountsALateTickAndNeverBunchesSamples) {
  std::int64_t fake_now = 0;
  int calls = 0;
  SamplerOptions o;
  o.interval_ns = 100 * kMs;
  o.max_samples = 6;
  o.now = [&] { return fake_now; };
  o.sleep_until = [&](std::int64_t deadline) { fake_now = std::max(fake_now, deadline); };
  Sampler s(scripted([&](std::int64_t, std::span<double> out) {
              out[0] = ++calls;
              if (calls == 3) fake_now += 250 * kMs;  // the third sample stalls for 2.5 intervals
            }),
            o);
  s.start();
  while (s.rows_taken() < 6) std::this_thread::yield();
  s.stop();
  const auto& t = s.series().t_ns;
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[2], 200 * kMs);
  EXPECT_EQ(t[3], 500 * kMs) << "next sample on the grid after the stall, not at 300 ms";
  EXPECT_EQ(t[4], 600 * kMs);
  EXPECT_EQ(s.series().late_ticks, 2u);  // 300 and 400 ms were skipped
}

TEST(Sampler, SamplesRealCollectorsEvery100ms) {
  auto cs = make_collectors({"cpu", "memory", "thermal"}, {});
  Sampler s(std::move(cs), {.interval_ns = 100 * kMs});
  s.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(550));
  s.stop();
  const Series& series = s.series();
  EXPECT_GE(series.rows(), 5u);
  EXPECT_LE(series.rows(), 7u);
  for (std::size_t k = 1; k < series.rows(); ++k) {
    const double gap_ms = static_cast<double>(series.t_ns[k] - series.t_ns[k - 1]) / 1e6;
    EXPECT_GT(gap_ms, 50);
    EXPECT_LT(gap_ms, 200);
  }
  ASSERT_GE(series.index_of("mem.used_bytes"), 0);
  EXPECT_GT(s.thread_cpu_s(), 0.0);
  // This VM has no thermal sensors: the collector is listed as unavailable, with its reason.
  if (series.index_of("thermal.cpu-thermal.temp_c") < 0 && !s.unavailable().empty()) {
    EXPECT_NE(s.unavailable()[0].find("thermal: not available: "), std::string::npos);
  }
  s.stop();  // idempotent
}

TEST(Sampler, BoundsMemoryButKeepsStatisticsOfEverySample) {
  int n = 0;
  SamplerOptions o;
  o.interval_ns = 1;
  o.max_rows = 10;
  o.max_samples = 30;
  Sampler s(scripted([&](std::int64_t, std::span<double> out) { out[0] = ++n; }), o);
  s.start();
  while (s.rows_taken() < 30) std::this_thread::yield();
  s.stop();
  EXPECT_EQ(s.series().rows(), 10u);
  EXPECT_EQ(s.series().rows_dropped, 20u);
  EXPECT_EQ(s.series().stats[0].count(), 30u);
  EXPECT_DOUBLE_EQ(s.series().stats[0].max(), 30.0);
}

class RecordingSink : public RowSink {
 public:
  void begin(const std::vector<Channel>& c) override { width = c.size(); }
  void row(std::int64_t, std::span<const double> v) override { rows.emplace_back(v.begin(), v.end()); }
  std::size_t width = 0;
  std::vector<std::vector<double>> rows;
};

TEST(Sampler, StreamsRowsToASinkAndLeavesOutUnavailableCollectors) {
  std::vector<std::unique_ptr<Collector>> cs;
  cs.push_back(std::make_unique<ScriptedCollector>(std::vector<Channel>{{"a", "1"}, {"b", "1"}},
                                                   [](std::int64_t, std::span<double> out) {
                                                     out[0] = 1;
                                                     out[1] = std::nan("");
                                                   }));
  cs.push_back(std::make_unique<ScriptedCollector>(std::vector<Channel>{{"c", "1"}}, nullptr, false));
  RecordingSink sink;
  SamplerOptions o;
  o.interval_ns = kMs;
  o.max_samples = 3;
  o.sink = &sink;
  Sampler s(std::move(cs), o);
  EXPECT_EQ(s.channels().size(), 2u);
  ASSERT_EQ(s.unavailable().size(), 1u);
  EXPECT_EQ(s.unavailable()[0], "scripted: not available: scripted");
  s.start();
  while (s.rows_taken() < 3) std::this_thread::yield();
  s.stop();
  EXPECT_EQ(sink.width, 2u);
  ASSERT_EQ(sink.rows.size(), 3u);
  EXPECT_TRUE(std::isnan(sink.rows[0][1]));
  EXPECT_EQ(s.series().stats[1].count(), 0u) << "NaN is no value";
}

TEST(Sampler, PrefixesAChannelNameThatAnotherCollectorAlreadyUses) {
  std::vector<std::unique_ptr<Collector>> cs;
  auto fill = [](std::int64_t, std::span<double> out) { out[0] = 1; };
  cs.push_back(std::make_unique<ScriptedCollector>(std::vector<Channel>{{"cpu.util_pct", "%"}}, fill));
  cs.push_back(std::make_unique<ScriptedCollector>(std::vector<Channel>{{"cpu.util_pct", "%"}}, fill));
  Sampler s(std::move(cs), {});
  ASSERT_EQ(s.channels().size(), 2u);
  EXPECT_EQ(s.channels()[0].name, "cpu.util_pct");
  EXPECT_EQ(s.channels()[1].name, "scripted.cpu.util_pct");
}

TEST(SeriesCsv, WritesRelativeTimesAndEmptyCellsForMissingValues) {
  Series s;
  s.channels = {{"a", "1"}, {"b", "W"}};
  s.t_ns = {1000, 2000};
  s.values = {1.5, std::nan(""), 2.0, 3.25};
  const auto path = std::filesystem::temp_directory_path() / "trackiq_series_test.csv";
  write_series_csv(s, 1000, path.string());
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "t_ns,a,b\n0,1.5,\n1000,2,3.25\n");
  std::filesystem::remove(path);
}

Series make_series(std::vector<Channel> channels, const std::vector<std::vector<double>>& rows, std::int64_t dt) {
  Series s;
  s.channels = std::move(channels);
  s.stats.assign(s.channels.size(), {});
  for (std::size_t r = 0; r < rows.size(); ++r) {
    s.t_ns.push_back(static_cast<std::int64_t>(r) * dt);
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      s.values.push_back(rows[r][c]);
      if (!std::isnan(rows[r][c])) s.stats[c].add(rows[r][c]);
    }
  }
  s.rows_taken = rows.size();
  return s;
}

double metric(const TelemetrySummary& t, const std::string& name) {
  for (const auto& m : t.metrics)
    if (m.name == name) return m.value;
  return std::nan("");
}

TEST(TelemetrySummary, IntegratesPowerAndDividesEnergyByInferences) {
  const double nan = std::nan("");
  const Series s = make_series({{"cpu.util_pct", "%"}, {"power.rapl_total.w", "W"}, {"gpu0.power_w", "W"},
                                {"thermal.cpu.temp_c", "°C"}, {"gpu0.temp_c", "°C"}},
                               {{nan, 10, 20, 50, 60}, {40, 10, 20, 51, 70}, {60, 20, 30, 52, 65}}, 500 * kMs);
  const TelemetrySummary t = summarize_series(s, 100);
  EXPECT_DOUBLE_EQ(metric(t, "cpu_util_avg_pct"), 50.0);
  EXPECT_DOUBLE_EQ(metric(t, "cpu_util_max_pct"), 60.0);
  EXPECT_DOUBLE_EQ(metric(t, "temperature_max_c"), 70.0);
  // Row power 30, 30, 50 W at 0, 0.5, 1.0 s: 0.5*(30+30)/2 + 0.5*(30+50)/2 = 35 J.
  EXPECT_DOUBLE_EQ(metric(t, "energy_j"), 35.0);
  EXPECT_DOUBLE_EQ(metric(t, "power_avg_w"), 35.0);
  EXPECT_DOUBLE_EQ(metric(t, "power_peak_w"), 50.0);
  EXPECT_DOUBLE_EQ(metric(t, "energy_per_inference_j"), 0.35);
  EXPECT_NEAR(metric(t, "inferences_per_j"), 100 / 35.0, 1e-12);
  EXPECT_DOUBLE_EQ(t.channel_stats.at("gpu0.temp_c.max"), 70.0);
}

TEST(TelemetrySummary, LeavesOutWhatWasNotMeasured) {
  const Series s = make_series({{"mem.used_bytes", "B"}}, {{1e9}, {2e9}}, 100 * kMs);
  const TelemetrySummary t = summarize_series(s, 10);
  for (const char* m : {"power_avg_w", "energy_j", "temperature_max_c", "gpu_util_avg_pct", "cpu_util_avg_pct"})
    EXPECT_TRUE(std::isnan(metric(t, m))) << m << " must be absent, not zero";
}

TEST(TelemetrySummary, CountsThrottleEntries) {
  const Series s = make_series({{"gpu0.throttled", "1"}, {"gpu1.throttled", "1"}},
                               {{0, 0}, {1, 0}, {1, 1}, {0, 1}, {1, 0}}, 100 * kMs);
  EXPECT_DOUBLE_EQ(metric(summarize_series(s, 1), "throttle_events_total"), 3.0);
}

}  // namespace
}  // namespace trackiq::telemetry
