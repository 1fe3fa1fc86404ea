// The trackiq binary on the paths that load no engine: synthetic runs, the store, compare,
// reports, import, monitor and load. Label `cli`: besides the main tree it runs in the ASan+UBSan
// and TSan trees (Makefile test-asan/test-tsan), which build the CLI without LibTorch/OpenCV, so
// the sanitizers see the CLI's own code, the sampler thread and the load engine end to end.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/process.hpp"
#include "support/ref_server_process.hpp"
#include "support/test_paths.hpp"
#include "support/trackiq_cli.hpp"

namespace trackiq::test {
namespace {
namespace fs = std::filesystem;

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

  std::ofstream(dir.file("prompts.jsonl")) << "{\"prompt\": \"one two\"}\n{\"prompt\": \"three\"}\n";
  const auto chat = trackiq({"load", server.url("/"), "--api", "openai-chat", "--model", "m", "--dataset",
                             dir.file("prompts.jsonl"), "--concurrency", "2", "--requests", "20", "--json",
                             dir.file("chat.json")},
                            dir);
  ASSERT_EQ(chat.exit_code, 0) << chat.out << chat.err;
  EXPECT_NE(read_file(dir.file("chat.json")).find("mean_ttft_ms"), std::string::npos);
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
