// The trackiq binary on the paths that load no engine: synthetic runs, the store, compare,
// reports, import, monitor and load. Label `cli`: besides the main tree it runs in the ASan+UBSan
// and TSan trees (Makefile test-asan/test-tsan), which build the CLI without LibTorch/OpenCV, so
// the sanitizers see the CLI's own code, the sampler thread and the load engine end to end.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <thread>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <cmath>

#include <nlohmann/json.hpp>

#include "support/background.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/ref_server_process.hpp"
#include "support/test_paths.hpp"
#include "support/trackiq_cli.hpp"
#include "trackiq/core/result.hpp"

namespace trackiq::test {
namespace {
namespace fs = std::filesystem;

// A `trackiq serve` on the test's store at a free loopback port with `flags`, its output in
// dir/LOG, and its address once it listens ("" and a failure when it does not).
std::pair<std::unique_ptr<Background>, std::string> start_serve(const TempDir& dir, std::vector<std::string> flags,
                                                                 const std::string& log) {
  std::vector<std::string> args{kTrackiqBin, "serve", "--store", dir.file("store.db"), "--listen", "127.0.0.1:0"};
  args.insert(args.end(), flags.begin(), flags.end());
  auto server = std::make_unique<Background>(std::move(args), dir.file(log));
  std::string address;
  if (server->ok()) address = address_in_log(dir.file(log), R"(listening on http://(127\.0\.0\.1:\d+)/api/v1)");
  EXPECT_FALSE(address.empty()) << read_file(dir.file(log));
  return {std::move(server), std::move(address)};
}

std::size_t lines_of(const std::string& path) {
  const std::string text = read_file(path);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST(CliLight, SyntheticRunsAreStoredListedComparedAndReported) {
  TempDir dir;
  const auto a = trackiq({"run", "synthetic:mean=2ms,cv=0.05", "--duration", "0.6", "--warmup", "5", "--json",
                          dir.file("a.json"), "--collectors", "cpu,memory,process"},
                         dir);
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  const std::string id = stored_id(a);
  const auto slow = trackiq({"run", "synthetic:mean=4ms,cv=0.05", "--duration", "0.6", "--warmup", "5", "--json",
                             dir.file("slow.json")},
                            dir);
  ASSERT_EQ(slow.exit_code, 0) << slow.out << slow.err;

  const auto list = trackiq({"runs", "list"}, dir);
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(id.substr(0, 8)), std::string::npos) << list.out;
  const auto show = trackiq({"runs", "show", id}, dir);
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("latency"), std::string::npos) << show.out;

  // A run against itself passes; twice the service time blocks.
  const auto same = trackiq({"compare", dir.file("a.json"), dir.file("a.json")}, dir);
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  const auto worse = trackiq({"compare", dir.file("a.json"), dir.file("slow.json")}, dir);
  EXPECT_EQ(worse.exit_code, 1) << worse.out << worse.err;
  EXPECT_NE(worse.out.find("BLOCK"), std::string::npos) << worse.out;

  const auto md = trackiq({"report", dir.file("a.json"), dir.file("slow.json"), "-o", dir.file("r.md")}, dir);
  EXPECT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(read_file(dir.file("r.md")).find("# "), std::string::npos);
  const auto html = trackiq({"report", dir.file("a.json"), "-o", dir.file("r.html")}, dir);
  EXPECT_EQ(html.exit_code, 0) << html.err;
  EXPECT_NE(read_file(dir.file("r.html")).find("<html"), std::string::npos);
}

// TRACKIQ_SEED/THREADS/DETERMINISTIC (core/run_env.hpp): a bad value exits 2 naming it; a good
// one is applied and recorded.
TEST(CliLight, RunEnvironmentVariablesAreCheckedAppliedAndRecorded) {
  TempDir dir;
  for (const auto& [var, value] : std::vector<std::pair<std::string, std::string>>{
           {"TRACKIQ_SEED", "12x"}, {"TRACKIQ_THREADS", "0"}, {"TRACKIQ_DETERMINISTIC", "maybe"}}) {
    const auto bad = trackiq({"run", "synthetic", "-n", "2", "--no-store"}, dir, {var + "=" + value});
    EXPECT_EQ(bad.exit_code, 2) << var << bad.out << bad.err;
    EXPECT_NE(bad.err.find(var + "='" + value + "'"), std::string::npos) << bad.err;
  }
  const auto bad_load = trackiq({"load", "http://127.0.0.1:9/", "--requests", "1", "--no-store"}, dir, {"TRACKIQ_SEED=-1"});
  EXPECT_EQ(bad_load.exit_code, 2) << bad_load.err;
  EXPECT_NE(bad_load.err.find("TRACKIQ_SEED='-1'"), std::string::npos) << bad_load.err;

  const auto ok = trackiq({"run", "synthetic", "-n", "2", "--warmup", "0", "--no-store", "-q", "--json", dir.file("r.json")},
                          dir, {"TRACKIQ_SEED=7", "TRACKIQ_THREADS=3"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  // A zero warmup reads the same as a duration as it does as a count; a negative one is refused.
  EXPECT_EQ(trackiq({"run", "synthetic", "-n", "2", "--warmup", "0s", "--no-store", "-q"}, dir).exit_code, 0);
  const auto negative = trackiq({"run", "synthetic", "-n", "2", "--warmup", "-1s", "--no-store", "-q"}, dir);
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_NE(negative.err.find("--warmup '-1s': not a count or a duration"), std::string::npos) << negative.err;
  const std::string r = read_file(dir.file("r.json"));
  EXPECT_TRUE(std::regex_search(r, std::regex(R"("seed": 7\b)"))) << r;
  EXPECT_TRUE(std::regex_search(r, std::regex(R"("threads": 3\b)"))) << r;
  // Recorded in the result's environment (LIB-5), read back by the result parser.
  const Result rr = result_from_json(r, "r.json");
  EXPECT_EQ(rr.environment.variables, (std::map<std::string, std::string>{{"TRACKIQ_SEED", "7"}, {"TRACKIQ_THREADS", "3"}}));
  EXPECT_EQ(rr.labels.extra.count("env.TRACKIQ_SEED"), 0u);
  const auto valid = test::run_process({"/usr/bin/python3", test::kResultValidator, test::kResultSchema, dir.file("r.json")});
  EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  // --seed and --threads win over the variables; TRACKIQ_DETERMINISTIC=1 gives one engine thread.
  const auto flag = trackiq({"run", "synthetic", "-n", "2", "--warmup", "0", "--no-store", "-q", "--seed", "5", "--json",
                             dir.file("f.json")},
                            dir, {"TRACKIQ_SEED=7", "TRACKIQ_DETERMINISTIC=1"});
  ASSERT_EQ(flag.exit_code, 0) << flag.err;
  const std::string fr = read_file(dir.file("f.json"));
  EXPECT_TRUE(std::regex_search(fr, std::regex(R"("seed": 5\b)"))) << fr;
  EXPECT_TRUE(std::regex_search(fr, std::regex(R"("threads": 1\b)"))) << fr;
}

// The seed from TRACKIQ_SEED reaches the workload: a seeded exponential service time repeats
// under the same seed and changes under another (sums of |difference| over 12 queries of mean
// 20 ms: about 240 ms between seeds; sleep overshoot only between equal ones).
TEST(CliLight, TrackiqSeedFixesASeededWorkloadsDraws) {
  TempDir dir;
  auto latencies = [&](const std::string& seed, const std::string& name) {
    const auto r = trackiq({"run", "synthetic:dist=exponential,mean=20ms", "-n", "12", "--warmup", "0", "--no-store", "-q",
                            "--no-telemetry", "--samples-csv", dir.file(name)},
                           dir, {"TRACKIQ_SEED=" + seed});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<double> out;
    std::istringstream in(read_file(dir.file(name)));
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      const auto comma = line.rfind(',', line.rfind(',') - 1);
      out.push_back(std::stod(line.substr(comma + 1, line.rfind(',') - comma - 1)));
    }
    return out;
  };
  const auto a = latencies("7", "a.csv"), b = latencies("7", "b.csv"), c = latencies("8", "c.csv");
  ASSERT_EQ(a.size(), 12u);
  ASSERT_EQ(b.size(), 12u);
  ASSERT_EQ(c.size(), 12u);
  double same = 0, other = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    same += std::abs(a[i] - b[i]);
    other += std::abs(a[i] - c[i]);
  }
  EXPECT_LT(same * 3, other) << "same seed " << same / 1e6 << " ms, other seed " << other / 1e6 << " ms";
}

// A metric's value in a result JSON file; NaN when absent.
double metric_in(const std::string& json, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + name + R"(":\s*\{\s*"value":\s*([-0-9.eE+]+))"))) return std::nan("");
  return std::stod(m[1].str());
}

// cmd: workloads report each query's process from wait4 (issue #15, item 6): a child that holds
// 200 MiB shows a peak of at least that, apart from TrackIQ's own process; a child that
// allocates nothing shows far less.
TEST(CliLight, CmdWorkloadsReportTheQueryProcessesPeakRssAndCpu) {
  TempDir dir;
  const double kMiB = 1024.0 * 1024.0;
  const auto big = trackiq({"run", R"py(cmd:python3 -c "s = b'x' * (200 << 20)")py", "-n", "2", "--warmup", "0", "--no-store",
                            "--json", dir.file("big.json"), "--samples-csv", dir.file("big.csv")},
                           dir);
  ASSERT_EQ(big.exit_code, 0) << big.out << big.err;
  EXPECT_NE(big.out.find("workload processes (one per query, from wait4)"), std::string::npos) << big.out;
  EXPECT_NE(big.out.find("trackiq rss peak"), std::string::npos) << big.out;
  const std::string b = read_file(dir.file("big.json"));
  EXPECT_GE(metric_in(b, "workload_rss_peak_bytes"), 200 * kMiB) << b;
  EXPECT_GE(metric_in(b, "workload_rss_mean_bytes"), 200 * kMiB);
  EXPECT_GE(metric_in(b, "workload_rss_p50_bytes"), 200 * kMiB);
  EXPECT_GT(metric_in(b, "workload_cpu_user_ms") + metric_in(b, "workload_cpu_sys_ms"), 0.0);
  // TrackIQ's own peak (the telemetry's process collector) is not the child's.
  EXPECT_LT(metric_in(b, "rss_peak_bytes"), metric_in(b, "workload_rss_peak_bytes")) << b;

  // The per-query figures are in the samples CSV too (a 200 MiB peak is above TrackIQ's own, also
  // in the sanitizer builds).
  const std::string csv = read_file(dir.file("big.csv"));
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "query,worker,scheduled_ns,start_ns,end_ns,latency_ns,ok,process_max_rss_bytes,process_user_cpu_ns,process_sys_cpu_ns,"
            "process_tree_rss_peak_bytes,process_tree_rss_mean_bytes");
  EXPECT_TRUE(std::regex_search(csv, std::regex(R"(\n0,0,[0-9]+,[0-9]+,[0-9]+,[0-9]+,1,[1-9][0-9]{8,},[0-9]+,[0-9]+,[0-9]*,[0-9]*\n)"))) << csv;
  EXPECT_LT(metric_in(b, "workload_rss_peak_bytes"), 400 * kMiB) << b;

  // A process smaller than TrackIQ: Linux starts a spawned process's ru_maxrss at its parent's
  // peak (a 1 MiB `true` read as TrackIQ's ~13 MiB), so its own peak is not known and is not
  // made up; its CPU time is.
  const auto small = trackiq({"run", "cmd:true", "-n", "3", "--warmup", "0", "--no-store", "--json", dir.file("small.json"),
                              "--samples-csv", dir.file("small.csv")},
                             dir);
  ASSERT_EQ(small.exit_code, 0) << small.out << small.err;
  const std::string sj = read_file(dir.file("small.json"));
  EXPECT_EQ(sj.find("\"workload_rss_peak_bytes\""), std::string::npos) << sj;
  EXPECT_NE(sj.find("\"precision\": \"unknown\""), std::string::npos) << "a command's precision is its own" << sj;
  EXPECT_GE(metric_in(sj, "workload_cpu_user_ms"), 0.0) << sj;
  EXPECT_NE(small.out.find("workload_rss_* not measured: 3 of 3 queries' processes peaked at or below TrackIQ's own"),
            std::string::npos)
      << small.out;
  EXPECT_NE(small.out.find("not measured: each peaked at or below TrackIQ's own"), std::string::npos) << small.out;
  // No tree sample before the first interval: the spawn's 4-16 KiB image is not a peak.
  EXPECT_EQ(sj.find("\"workload_tree_rss_peak_bytes\""), std::string::npos) << sj;
  const std::string small_csv = read_file(dir.file("small.csv"));
  EXPECT_TRUE(std::regex_search(small_csv, std::regex(R"(\n0,0,[0-9]+,[0-9]+,[0-9]+,[0-9]+,1,,[0-9]+,[0-9]+,,\n)"))) << small_csv;
}

// cmd: workloads sample each query's process tree while it runs (issue #15, item 6). A child of
// known allocation (numpy.ones(50_000_000): 400 MB of float64) shows a tree peak of at least
// that; a shell whose child and grandchild each hold 200 MiB at the same time shows a tree peak
// of at least their sum, while wait4's ru_maxrss keeps only the larger single process. TrackIQ's
// own RSS is reported apart, and smaller.
TEST(CliLight, CmdWorkloadsSampleTheQueryProcessTree) {
  TempDir dir;
  const double kMiB = 1024.0 * 1024.0;
  const auto numpy = trackiq({"run", R"py(cmd:/usr/bin/python3 -c "import numpy, time; a = numpy.ones(50_000_000); time.sleep(0.3)")py",
                              "-n", "1", "--warmup", "0", "--no-store", "--json", dir.file("numpy.json")},
                             dir);
  ASSERT_EQ(numpy.exit_code, 0) << numpy.out << numpy.err;
  EXPECT_NE(numpy.out.find("workload process trees"), std::string::npos) << numpy.out;
  const std::string n = read_file(dir.file("numpy.json"));
  EXPECT_GE(metric_in(n, "workload_tree_rss_peak_bytes"), 400e6) << n;
  EXPECT_GE(metric_in(n, "workload_rss_peak_bytes"), 400e6) << n;
  EXPECT_GT(metric_in(n, "workload_tree_rss_mean_bytes"), 0.0) << n;
  EXPECT_LE(metric_in(n, "workload_tree_rss_mean_bytes"), metric_in(n, "workload_tree_rss_peak_bytes")) << n;
  EXPECT_LT(metric_in(n, "rss_peak_bytes"), 400e6) << n;  // TrackIQ's own process

  // sh → subshell → python (a grandchild) and sh → python (a child), both alive for a second.
  const std::string hold = R"(python3 -c 's = b\"x\" * (200 << 20); import time; time.sleep(1)')";
  const auto tree = trackiq({"run", "cmd:sh -c \"(" + hold + "; true) & " + hold + "; wait\"", "-n", "1", "--warmup", "0",
                             "--no-store", "--json", dir.file("tree.json"), "--samples-csv", dir.file("tree.csv")},
                            dir);
  ASSERT_EQ(tree.exit_code, 0) << tree.out << tree.err;
  const std::string t = read_file(dir.file("tree.json"));
  EXPECT_GE(metric_in(t, "workload_tree_rss_peak_bytes"), 400 * kMiB) << t;
  EXPECT_LT(metric_in(t, "workload_rss_peak_bytes"), 300 * kMiB) << t;  // ru_maxrss: one process
  EXPECT_LT(metric_in(t, "rss_peak_bytes"), metric_in(t, "workload_tree_rss_peak_bytes")) << t;
  const std::string csv = read_file(dir.file("tree.csv"));
  EXPECT_TRUE(std::regex_search(csv, std::regex(R"(\n0,0,[0-9]+,[0-9]+,[0-9]+,[0-9]+,1,[0-9]+,[0-9]+,[0-9]+,[1-9][0-9]{8,},[1-9][0-9]+\n)"))) << csv;
}

TEST(CliLight, ImportAndMonitor) {
  TempDir dir;
  const std::string gbench = std::string(kTestdataDir) + "/google-benchmark";
  std::string file;
  for (const auto& e : fs::directory_iterator(gbench))
    if (e.path().extension() == ".json" && file.empty()) file = e.path().string();
  ASSERT_FALSE(file.empty()) << "no Google Benchmark JSON under " << gbench;
  const auto imp = trackiq({"import", "--format", "gbench", file}, dir);
  EXPECT_EQ(imp.exit_code, 0) << imp.out << imp.err;
  EXPECT_NE(trackiq({"runs", "list"}, dir).out.find("import"), std::string::npos);
  // The same bytes again, format detected: refused (nothing stored) unless --allow-duplicate.
  const auto before = trackiq({"runs", "list", "--json"}, dir).out;
  const auto again = trackiq({"import", file}, dir);
  EXPECT_EQ(again.exit_code, 2) << again.out << again.err;
  EXPECT_NE(again.err.find("detected format gbench"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("already imported as run"), std::string::npos) << again.err;
  EXPECT_EQ(trackiq({"runs", "list", "--json"}, dir).out, before);
  EXPECT_EQ(trackiq({"import", file, "--allow-duplicate"}, dir).exit_code, 0);
  EXPECT_NE(trackiq({"runs", "list", "--json"}, dir).out, before);

  const auto mon = trackiq({"monitor", "--duration", "0.5", "--interval", "100ms", "-o", dir.file("m.csv")}, dir);
  EXPECT_EQ(mon.exit_code, 0) << mon.err;
  EXPECT_GE(lines_of(dir.file("m.csv")), 3u) << read_file(dir.file("m.csv"));  // header + rows
}

TEST(CliLight, LoadAgainstTheReferenceServerClosedAndStreaming) {
  TempDir dir;
  RefServer server({"--ttft-ms", "20", "--itl-ms", "5", "--tokens", "6"});
  ASSERT_TRUE(server.ok());
  const auto closed = trackiq({"load", server.url("/small"), "--concurrency", "4", "--threads", "2", "--requests",
                               "200", "--json", dir.file("closed.json")},
                              dir);
  ASSERT_EQ(closed.exit_code, 0) << closed.out << closed.err;
  EXPECT_NE(closed.out.find("Successful requests:"), std::string::npos) << closed.out;
  EXPECT_NE(read_file(dir.file("closed.json")).find("\"precision\": \"unknown\""), std::string::npos)
      << "an HTTP client cannot see the server's precision";

  std::ofstream(dir.file("prompts.jsonl")) << "{\"prompt\": \"one two\"}\n{\"prompt\": \"three\"}\n";
  const auto chat = trackiq({"load", server.url("/"), "--api", "openai-chat", "--model", "m", "--dataset",
                             dir.file("prompts.jsonl"), "--concurrency", "2", "--requests", "20", "--json",
                             dir.file("chat.json")},
                            dir);
  ASSERT_EQ(chat.exit_code, 0) << chat.out << chat.err;
  EXPECT_NE(read_file(dir.file("chat.json")).find("mean_ttft_ms"), std::string::npos);
}

// `monitor --listen` scraped by a real Prometheus server (1 s interval); the values are read back
// through Prometheus' HTTP query API.
TEST(CliLight, APrometheusServerScrapesMonitorListen) {
  TempDir dir;
  Background monitor({kTrackiqBin, "monitor", "--listen", "127.0.0.1:0", "--duration", "60", "--interval", "200ms",
                      "--collectors", "cpu,memory,process"},
                     dir.file("monitor.log"));
  ASSERT_TRUE(monitor.ok());
  const std::string target = address_in_log(dir.file("monitor.log"), R"(metrics at http://(127\.0\.0\.1:\d+)/metrics)");
  ASSERT_FALSE(target.empty()) << read_file(dir.file("monitor.log"));
  const RealPrometheus prometheus(dir, "board", target);
  ASSERT_TRUE(prometheus.ok());
  const auto query = [&](const std::string& promql) { return prometheus.query(promql); };
  std::string mem;
  ASSERT_TRUE(eventually(30, [&] {
    mem = query("trackiq_memory_total_bytes");
    return !mem.empty();
  })) << read_file(dir.file("prometheus.log")) << read_file(dir.file("monitor.log"));
  // MemTotal from /proc/meminfo, in bytes, exactly.
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  long long kib = 0;
  while (meminfo >> key >> kib)
    if (key == "MemTotal:") break;
  EXPECT_NE(mem.find("('instance', '" + target + "'), ('job', 'board')] " + std::to_string(kib * 1024)),
            std::string::npos)
      << mem;
  const std::string cores = query("trackiq_cpu_core_utilization_ratio");
  EXPECT_NE(cores.find("trackiq_cpu_core_utilization_ratio [('cpu', '0'), ('instance'"), std::string::npos) << cores;
  const std::string samples = query("trackiq_exporter_samples_total > 0");
  EXPECT_NE(samples.find("trackiq_exporter_samples_total"), std::string::npos) << samples;
}

// `trackiq serve` as a process: runs stored by the CLI, read, compared, deleted and uploaded over
// HTTP; the API's comparison is the CLI's, document for document; /metrics passes promtool.
TEST(CliLight, ServeAnswersOverHttpAndComparesAsTheCli) {
  TempDir dir;
  const auto help = trackiq({"serve", "--help"}, dir);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Authorization: Bearer TOKEN"), std::string::npos) << help.out;
  // Bad setup fails at once, exit 2, before anything listens.
  std::ofstream(dir.file("empty_token")) << "\n";
  const auto empty = trackiq({"serve", "--token-file", dir.file("empty_token"), "--listen", "127.0.0.1:0"}, dir);
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("the token file is empty"), std::string::npos) << empty.err;
  const auto addr_bad = trackiq({"serve", "--listen", "8080", "--store", dir.file("x.db")}, dir);
  EXPECT_EQ(addr_bad.exit_code, 2);
  EXPECT_NE(addr_bad.err.find("expected HOST:PORT"), std::string::npos) << addr_bad.err;
  const auto a = trackiq({"run", "synthetic:mean=2ms,cv=0.05", "--duration", "0.5", "--warmup", "5", "--json",
                          dir.file("a.json"), "--product", "det"},
                         dir);
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  const auto slow = trackiq({"run", "synthetic:mean=4ms,cv=0.05", "--duration", "0.5", "--warmup", "5", "--json",
                             dir.file("slow.json"), "--product", "det"},
                            dir);
  ASSERT_EQ(slow.exit_code, 0) << slow.out << slow.err;
  const std::string a_id = stored_id(a), slow_id = stored_id(slow);
  std::ofstream(dir.file("token")) << "t0ken-for-the-test\n";

  const auto [serve, addr] = start_serve(dir, {"--token-file", dir.file("token"), "--threads", "2"}, "serve.log");
  ASSERT_FALSE(addr.empty());

  const auto list = http_call(addr, "GET", "/api/v1/runs?product=det");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(nlohmann::json::parse(list.body).at("runs").size(), 2u);

  // The same comparison as `trackiq compare --json`, from the same analysis on the same runs.
  const auto api = http_call(addr, "GET", "/api/v1/compare?base=" + a_id.substr(0, 8) + "&current=" + slow_id);
  ASSERT_EQ(api.status, 200) << api.body;
  const auto cli = trackiq({"compare", a_id.substr(0, 8), slow_id, "--json"}, dir);
  ASSERT_EQ(cli.exit_code, 1) << cli.out << cli.err;  // BLOCK
  const auto api_doc = nlohmann::json::parse(api.body), cli_doc = nlohmann::json::parse(cli.out);
  EXPECT_EQ(api_doc.at("verdict"), "BLOCK");
  EXPECT_EQ(api_doc.at("verdict"), cli_doc.at("verdict"));
  ASSERT_EQ(api_doc.at("metrics").size(), cli_doc.at("metrics").size());
  for (std::size_t i = 0; i < api_doc.at("metrics").size(); ++i) {
    EXPECT_EQ(api_doc["metrics"][i].at("metric"), cli_doc["metrics"][i].at("metric"));
    EXPECT_EQ(api_doc["metrics"][i].at("verdict"), cli_doc["metrics"][i].at("verdict"));
    EXPECT_EQ(api_doc["metrics"][i].at("reason"), cli_doc["metrics"][i].at("reason"));
  }
  EXPECT_EQ(api_doc, cli_doc);

  // Writes: refused without the token; with it, a run deleted and uploaded back (once).
  const std::map<std::string, std::string> auth{{"Authorization", "Bearer t0ken-for-the-test"}};
  EXPECT_EQ(http_call(addr, "DELETE", "/api/v1/runs/" + slow_id).status, 401);
  EXPECT_EQ(http_call(addr, "DELETE", "/api/v1/runs/" + slow_id, "", auth).status, 200);
  EXPECT_EQ(http_call(addr, "GET", "/api/v1/runs/" + slow_id).status, 404);
  const std::string body = read_file(dir.file("slow.json"));
  const auto up = http_call(addr, "POST", "/api/v1/runs", body, auth);
  EXPECT_EQ(up.status, 201) << up.body;
  EXPECT_EQ(http_call(addr, "POST", "/api/v1/runs", body, auth).status, 409);
  const auto shown = trackiq({"runs", "show", slow_id}, dir);  // the CLI sees the upload
  EXPECT_EQ(shown.exit_code, 0) << shown.err;

  const auto metrics = http_call(addr, "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("trackiq_store_runs{product=\"det\"} 2"), std::string::npos) << metrics.body;
  std::ofstream(dir.file("metrics.txt")) << metrics.body;
  const auto check = run_process({"sh", "-c", "promtool check metrics < " + dir.file("metrics.txt")});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

// `serve`'s answer cache over a SQLite file that other processes write: a `trackiq run` and a
// `trackiq runs import` each make the next answer new; `--cache-mb 0` serves without it (an ETag
// and 304 still); a budget out of range is refused before anything listens.
TEST(CliLight, ServeCacheSeesRunsStoredByOtherProcesses) {
  TempDir dir;
  const auto run = [&](const char* product) {
    const auto r = trackiq({"run", "synthetic:mean=1ms,cv=0.05", "--duration", "0.2", "--warmup", "5", "--product",
                            product, "-q"},
                           dir);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  };
  run("det");
  const auto too_big = trackiq({"serve", "--cache-mb", "70000", "--store", dir.file("store.db")}, dir);
  EXPECT_EQ(too_big.exit_code, 2);
  EXPECT_NE(too_big.err.find("--cache-mb"), std::string::npos) << too_big.err;
  EXPECT_NE(trackiq({"serve", "--help"}, dir).out.find("--cache-mb"), std::string::npos);

  const auto [serve, addr] = start_serve(dir, {"--collectors", "none", "--threads", "2"}, "serve.log");
  ASSERT_FALSE(addr.empty());
  const auto runs = [&](const std::string& address) {
    const auto r = http_call(address, "GET", "/api/v1/runs");
    EXPECT_EQ(r.status, 200) << r.body;
    return std::pair(nlohmann::json::parse(r.body).at("runs").size(), r.header("x-cache"));
  };
  EXPECT_EQ(runs(addr), std::pair(std::size_t{1}, std::string("miss")));
  EXPECT_EQ(runs(addr), std::pair(std::size_t{1}, std::string("hit")));
  run("det");  // another process, the same file
  EXPECT_EQ(runs(addr), std::pair(std::size_t{2}, std::string("miss")));
  EXPECT_EQ(runs(addr), std::pair(std::size_t{2}, std::string("hit")));
  // A run exported from another store and imported into this one.
  TempDir elsewhere;
  run("speech");
  const auto list = nlohmann::json::parse(http_call(addr, "GET", "/api/v1/runs?product=speech").body);
  ASSERT_EQ(list.at("runs").size(), 1u) << list.dump();
  const std::string speech_id = list["runs"][0].at("run_id");
  const auto exported = trackiq({"runs", "export", speech_id, "-o", elsewhere.file("speech.json")}, dir);
  ASSERT_EQ(exported.exit_code, 0) << exported.out << exported.err;
  ASSERT_EQ(trackiq({"runs", "rm", speech_id}, dir).exit_code, 0);
  EXPECT_EQ(runs(addr).first, 2u);
  const auto imported = trackiq({"runs", "import", elsewhere.file("speech.json")}, dir);
  ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
  EXPECT_EQ(runs(addr), std::pair(std::size_t{3}, std::string("miss")));

  // --cache-mb 0: no cache (no X-Cache), the same answers with the same ETags, 304 on a match.
  const auto [uncached, addr0] = start_serve(dir, {"--collectors", "none", "--cache-mb", "0"}, "uncached.log");
  ASSERT_FALSE(addr0.empty());
  EXPECT_EQ(runs(addr0), std::pair(std::size_t{3}, std::string("")));
  const auto cached = http_call(addr, "GET", "/api/v1/runs");
  const auto fresh = http_call(addr0, "GET", "/api/v1/runs");
  EXPECT_EQ(fresh.body, cached.body);
  EXPECT_EQ(fresh.header("etag"), cached.header("etag"));
  EXPECT_EQ(http_call(addr0, "GET", "/api/v1/runs", "", {{"If-None-Match", cached.header("etag")}}).status, 304);
  const std::string metrics = http_call(addr0, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("\ntrackiq_serve_cache_hits_total 0"), std::string::npos) << metrics;
}

// `serve`'s history and changes are the CLI's: a series of 16 runs with a planted step, stored by
// `trackiq run`; /api/v1/history is `trackiq history --json` document for document, and
// /api/v1/changes lists the changes of `trackiq detect --full --json`.
TEST(CliLight, ServeHistoryAndChangesAreTheClis) {
  TempDir dir;
  for (int i = 0; i < 16; ++i) {
    const auto r = trackiq({"run", i < 8 ? "synthetic:mean=2ms,cv=0.05" : "synthetic:mean=4ms,cv=0.05", "--duration",
                            "0.2", "--warmup", "5", "--product", "det", "--version", "1." + std::to_string(i), "-q"},
                           dir);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  const auto [serve, addr] = start_serve(dir, {"--collectors", "none"}, "serve.log");
  ASSERT_FALSE(addr.empty());

  const auto api = http_call(addr, "GET", "/api/v1/history?metric=latency_p50_ms&product=det");
  ASSERT_EQ(api.status, 200) << api.body;
  const auto cli = trackiq({"history", "latency_p50_ms", "--product", "det", "--json"}, dir);
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const auto api_doc = nlohmann::json::parse(api.body), cli_doc = nlohmann::json::parse(cli.out);
  EXPECT_EQ(api_doc, cli_doc);
  ASSERT_EQ(api_doc.at("change_points").size(), 1u) << api.body;
  EXPECT_EQ(api_doc["change_points"][0].at("index"), 8);

  const auto changes = http_call(addr, "GET", "/api/v1/changes");
  ASSERT_EQ(changes.status, 200) << changes.body;
  const auto detect = trackiq({"detect", "--full", "--json"}, dir);
  ASSERT_EQ(detect.exit_code, 1) << detect.out << detect.err;  // a regression
  const auto ch = nlohmann::json::parse(changes.body), dt = nlohmann::json::parse(detect.out);
  for (const char* k : {"fdr", "tests", "threshold", "series", "too_short", "new_regressions", "changes"})
    EXPECT_EQ(ch.at(k), dt.at(k)) << k;
  EXPECT_FALSE(ch.at("changes").empty());
  // The server says nothing of where its store is.
  EXPECT_EQ(changes.body.find(dir.file("store.db")), std::string::npos);
  EXPECT_EQ(http_call(addr, "GET", "/api/v1/telemetry").status, 404);  // --collectors none
}

// `serve`'s /metrics scraped by a real Prometheus server (1 s interval): the store gauges arrive
// with the stored run's values and the series' labels, and the machine's telemetry with them.
TEST(CliLight, APrometheusServerScrapesServe) {
  TempDir dir;
  const auto run = trackiq({"run", "synthetic:mean=1ms,cv=0.05", "--duration", "0.3", "--warmup", "3", "--json",
                            dir.file("a.json"), "--product", "det"},
                           dir);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const auto result = nlohmann::json::parse(read_file(dir.file("a.json")));
  const auto& p50_entry = result.at("metrics").at("latency_p50_ms");
  const double p50_ms = p50_entry.is_object() ? p50_entry.at("value").get<double>() : p50_entry.get<double>();
  ASSERT_GT(p50_ms, 0) << result.dump();
  const auto [serve, target] = start_serve(dir, {}, "serve.log");
  ASSERT_FALSE(target.empty());
  const RealPrometheus prometheus(dir, "store", target);
  ASSERT_TRUE(prometheus.ok());
  const auto query = [&](const std::string& promql) { return prometheus.query(promql); };
  std::string runs;
  ASSERT_TRUE(eventually(30, [&] {
    runs = query("trackiq_store_runs");
    return !runs.empty();
  })) << read_file(dir.file("prometheus.log")) << read_file(dir.file("serve.log"));
  EXPECT_NE(runs.find("('job', 'store'), ('product', 'det')] 1"), std::string::npos) << runs;
  const std::string p50 = query("trackiq_run_latency_p50_seconds");
  EXPECT_NE(p50.find("[('config', 'batch=1 device=cpu threads="), std::string::npos) << p50;
  EXPECT_NE(p50.find("('hardware', '" + result.at("environment").at("hardware_fingerprint").get<std::string>() + "')"),
            std::string::npos)
      << p50;
  EXPECT_NE(p50.find("('scenario', 'single-stream'), ('workload', 'synthetic:synthetic')]"), std::string::npos) << p50;
  // The value Prometheus holds is the run's p50 in seconds (exact to the float's print).
  std::smatch v;
  ASSERT_TRUE(std::regex_search(p50, v, std::regex(R"(\] ([0-9.e+-]+))"))) << p50;
  EXPECT_NEAR(std::stod(v[1]), p50_ms * 1e-3, 1e-12) << p50;
  // The machine's telemetry arrives in the same scrape, named as `monitor --listen` names it:
  // MemTotal from /proc/meminfo, in bytes, exactly.
  std::string mem;
  ASSERT_TRUE(eventually(30, [&] {
    mem = query("trackiq_memory_total_bytes");
    return !mem.empty();
  })) << read_file(dir.file("serve.log"));
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  long long kib = 0;
  while (meminfo >> key >> kib)
    if (key == "MemTotal:") break;
  EXPECT_NE(mem.find("('instance', '" + target + "'), ('job', 'store')] " + std::to_string(kib * 1024)), std::string::npos)
      << mem;
  // A scrape is counted once answered: the next scrape carries it.
  std::string scrapes;
  EXPECT_TRUE(eventually(15, [&] {
    scrapes = query("trackiq_http_requests_total{route=\"/metrics\"} > 0");
    return scrapes.find("('code', '200')") != std::string::npos;
  })) << scrapes;
}

TEST(CliLight, KvCacheFromAConfigFileAndItsErrors) {
  TempDir dir;
  std::ofstream(dir.file("config.json")) << "{\n  \"hidden_size\": 4096,\n  \"num_attention_heads\": 32,\n"
                                            "  \"num_hidden_layers\": 32,\n  \"num_key_value_heads\": 8\n}\n";
  const auto r = trackiq({"kv-cache", "--config", dir.file("config.json"), "--seq-len", "8192", "--batch", "16",
                          "--memory", "80GiB", "--params", "8.03e9", "--json"},
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"bytes_per_token\": 131072"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"max_batch_at_seq_len\": 57"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"attention\": \"GQA\""), std::string::npos) << r.out;

  std::ofstream(dir.file("bad.json")) << "{\n  \"num_hidden_layers\": 32,\n  \"num_attention_heads\": 0\n}\n";
  const auto bad = trackiq({"kv-cache", "--config", dir.file("bad.json"), "--seq-len", "10"}, dir);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find(dir.file("bad.json") + ":3: 'num_attention_heads' must be a positive integer"), std::string::npos)
      << bad.err;
  const auto gpu = trackiq({"kv-cache", "--layers", "2", "--kv-heads", "1", "--head-dim", "8", "--seq-len", "10",
                            "--device", "gpu7"},
                           dir);
  EXPECT_EQ(gpu.exit_code, 2);
  EXPECT_NE(gpu.err.find("not available: --device gpu7"), std::string::npos) << gpu.err;
}

// A sweep file with measured power on one point: energy figures there, "not available" on the other.
TEST(CliLight, AnalyzeEfficiencyUsesMeasuredPowerOnly) {
  TempDir dir;
  auto point = [](std::uint32_t batch, double per_s, std::optional<double> watts) {
    Result r;
    r.run_id = new_run_id();
    r.workload.backend = "import";
    r.workload.model = "detector";
    r.scenario.name = "offline";
    r.workload.batch_size = batch;
    r.labels.extra["sweep_point"] = "batch=" + std::to_string(batch);
    r.metrics.push_back({"throughput_samples_per_s", per_s, ValueKind::kDerived});
    if (watts) r.metrics.push_back({"power_avg_w", *watts, ValueKind::kMeasured});
    return to_json(r);
  };
  std::ofstream(dir.file("sweep.json")) << "[" << point(1, 100, 50) << "," << point(8, 400, std::nullopt) << "]\n";
  const auto r = trackiq({"analyze", "efficiency", dir.file("sweep.json"), "--price-per-kwh", "0.36"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("most efficient: batch=1 (2 inferences/J, 0.5 J/inference)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("batch=8: not available: no measured power"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fastest: batch=8"), std::string::npos) << r.out;
  // 0.5 J x 1e6 / 3.6e6 x 0.36 = 0.05 per million inferences.
  const auto j = trackiq({"analyze", "efficiency", dir.file("sweep.json"), "--price-per-kwh", "0.36", "--json"}, dir);
  EXPECT_NE(j.out.find("\"cost_per_million\": 0.05"), std::string::npos) << j.out;
  const auto none = trackiq({"analyze", "efficiency", "group:nothing", "--store", dir.file("s.db")}, dir);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("no runs labelled group=nothing"), std::string::npos) << none.err;
}

// trtexec's real exports: the layer table, JSON, and a broken file as file:line, exit 2.
TEST(CliLight, AnalyzeDnnPipelineReadsTrtexecExports) {
  TempDir dir;
  const std::string t = std::string(kTestdataDir) + "/tensorrt-trtexec/";
  const auto r = trackiq({"analyze", "dnn-pipeline", t + "exportProfile_alexnet_fp16_trt10_RTX3060laptop.json",
                          "--layer-info", t + "exportLayerInfo_alexnet_fp16_trt10_RTX3060laptop.json", "--times",
                          t + "exportTimes_alexnet_fp16_trt10_RTX3060laptop_TRIMMED.json", "--json"},
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"layers\": 14,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"type\": \"gemm\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"inferences\": 40,"), std::string::npos) << r.out;
  std::ofstream(dir.file("bad.json")) << "[{\"count\": 2},\n{\"name\": \"a\", \"averageMs\": \"slow\"}]\n";
  const auto bad = trackiq({"analyze", "dnn-pipeline", dir.file("bad.json")}, dir);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bad.json:2: $[1].averageMs: expected a number"), std::string::npos) << bad.err;
}

// Percentiles cross-checked with numpy on the same file; variability of a CSV, a run and a group.
TEST(CliLight, AnalyzeLatencyAgreesWithNumpyAndVariabilityReadsRunsAndGroups) {
  TempDir dir;
  {
    std::ofstream csv(dir.file("lat.csv"));
    csv << "endpoint,latency_ms\n";
    for (int i = 0; i < 500; ++i) csv << (i % 3 ? "/a" : "/b") << "," << (10 + (i * 37) % 101) * 0.25 << "\n";
  }
  const auto lat = trackiq({"analyze", "latency", dir.file("lat.csv"), "--column", "latency_ms", "--group-by",
                            "endpoint", "--json"},
                           dir);
  ASSERT_EQ(lat.exit_code, 0) << lat.err;
  const auto numpy = run_process(
      {"/usr/bin/python3", "-c",
       "import csv, json, sys, numpy as np\n"
       "rows = list(csv.DictReader(open(sys.argv[1])))\n"
       "got = json.loads(sys.argv[2])\n"
       "def check(name, vals, mine):\n"
       "    for p in (50, 90, 95, 99, 99.9):\n"
       "        want = float(np.percentile(vals, p))\n"
       "        have = mine['percentiles']['p%g' % p]\n"
       "        assert abs(have - want) < 1e-9, (name, p, have, want)\n"
       "    assert mine['count'] == len(vals)\n"
       "check('all', [float(r['latency_ms']) for r in rows], got['all'])\n"
       "for g in ('/a', '/b'):\n"
       "    check(g, [float(r['latency_ms']) for r in rows if r['endpoint'] == g], got['groups'][g])\n"
       "print('ok')\n",
       dir.file("lat.csv"), lat.out});
  EXPECT_EQ(numpy.out, "ok\n") << numpy.err << lat.out;

  std::ofstream(dir.file("bad.csv")) << "ms\n1\n2\nfast\n";
  const auto bad = trackiq({"analyze", "variability", dir.file("bad.csv")}, dir);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find(dir.file("bad.csv") + ":4:"), std::string::npos) << bad.err;

  const auto runs = trackiq({"run", "synthetic:mean=1ms", "--duration", "0.3", "--warmup", "3", "--repeat", "3",
                             "--group", "steady", "--json", dir.file("r.json"), "--include-samples"},
                            dir);
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  const auto group = trackiq({"analyze", "variability", "group:steady", "--json", "--store", dir.file("store.db")}, dir);
  ASSERT_EQ(group.exit_code, 0) << group.err;
  EXPECT_NE(group.out.find("\"n\": 3"), std::string::npos) << group.out;
  const auto one = trackiq({"analyze", "variability", dir.file("r-1.json")}, dir);
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("latency samples (ms) of run"), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("rating"), std::string::npos) << one.out;
  // A plain `run --json` file keeps no samples: the stored run under its id has them (README).
  ASSERT_EQ(trackiq({"run", "synthetic:mean=1ms", "-n", "30", "--warmup", "0", "--json", dir.file("plain.json")}, dir).exit_code, 0);
  const auto plain = trackiq({"analyze", "variability", dir.file("plain.json"), "--store", dir.file("store.db")}, dir);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find("latency samples (ms) of run"), std::string::npos) << plain.out;
  ASSERT_EQ(trackiq({"run", "synthetic:mean=1ms", "-n", "30", "--warmup", "0", "--no-store", "--json", dir.file("gone.json")}, dir)
                .exit_code,
            0);
  const auto gone = trackiq({"analyze", "variability", dir.file("gone.json"), "--store", dir.file("store.db")}, dir);
  EXPECT_EQ(gone.exit_code, 2);
  EXPECT_NE(gone.err.find("holds no per-query samples, and the store has none under its id"), std::string::npos) << gone.err;
}

TEST(CliLight, AnEngineWithoutItsPluginIsNotAvailable) {
  TempDir dir;
  // An empty folder first on the path, and a program folder without plugins: nothing to load.
  const fs::path bin = fs::path(dir.path()) / "bin";
  fs::create_directories(bin);
  fs::copy_file(kTrackiqBin, bin / "trackiq");
  const auto r = run_process({(bin / "trackiq").string(), "run", "torch:model.pt", "--duration", "1", "--store",
                              dir.file("store.db")},
                             {"TRACKIQ_BACKEND_PATH=" + dir.path()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("not available: torch: backend:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("libtrackiq_backend_torch.so not found (searched: " + dir.path()), std::string::npos) << r.err;
}

}  // namespace
}  // namespace trackiq::test
