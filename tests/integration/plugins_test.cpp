// The engine plugins (include/trackiq/workload/plugin.hpp) as a user meets them: the trackiq
// binary copied to a folder without a plugin, TRACKIQ_BACKEND_PATH, and plugins it must refuse.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/process.hpp"
#include "support/test_paths.hpp"

namespace trackiq::test {
namespace {
namespace fs = std::filesystem;

const fs::path kBuildBin = fs::path(kTrackiqBin).parent_path();

// Runs `program args...` with its own store in `dir`, TRACKIQ_BACKEND_PATH set to `backend_path`
// ("" searches only beside the program and the install folders).
ProcessResult run_copy(const std::string& program, std::vector<std::string> args, const TempDir& dir,
                       const std::string& backend_path = "") {
  args.insert(args.begin(), program);
  if (args[1] == "run") {
    args.push_back("--store");
    args.push_back(dir.file("store.db"));
  }
  return run_process(args, {"TRACKIQ_BACKEND_PATH=" + backend_path});
}

// A copy of the build's bin/ holding trackiq and the plugins named in `plugins`.
std::string copy_of_bin(const TempDir& dir, const std::vector<std::string>& plugins) {
  const fs::path bin = fs::path(dir.path()) / "bin";
  fs::create_directories(bin);
  fs::copy_file(kTrackiqBin, bin / "trackiq");
  for (const auto& p : plugins) fs::copy_file(kBuildBin / p, bin / p);
  return (bin / "trackiq").string();
}

TEST(Plugins, WithoutItsPluginAnEngineIsNotAvailableAndRunsExit2) {
  TempDir dir;
  const std::string trackiq = copy_of_bin(dir, {"libtrackiq_backend_onnx.so"});

  const auto run = run_copy(trackiq, {"run", "builtin:mlp", "--duration", "1"}, dir);
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_NE(run.err.find("not available: builtin: backend: libtrackiq_backend_torch.so not found (searched: " +
                         (fs::path(dir.path()) / "bin").string()),
            std::string::npos)
      << run.err;
  EXPECT_FALSE(fs::exists(dir.file("store.db")) && run.out.find("stored") != std::string::npos) << run.out;

  const auto list = run_copy(trackiq, {"backends"}, dir);
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("builtin:   not available: libtrackiq_backend_torch.so not found"), std::string::npos)
      << list.out;
  EXPECT_NE(list.out.find("torch:     not available: libtrackiq_backend_torch.so not found"), std::string::npos)
      << list.out;
  EXPECT_NE(list.out.find("plugin " + (fs::path(dir.path()) / "bin" / "libtrackiq_backend_onnx.so").string()),
            std::string::npos)
      << list.out;

  // Commands that need no engine are untouched.
  const auto synthetic = run_copy(trackiq, {"run", "synthetic", "--duration", "0.3"}, dir);
  EXPECT_EQ(synthetic.exit_code, 0) << synthetic.err;
}

TEST(Plugins, TrackiqBackendPathIsSearchedFirst) {
  TempDir dir;
  const std::string trackiq = copy_of_bin(dir, {});
  const fs::path plugins = fs::path(dir.path()) / "plugins";
  fs::create_directories(plugins);
  fs::copy_file(kBuildBin / "libtrackiq_backend_torch.so", plugins / "libtrackiq_backend_torch.so");

  const auto list = run_copy(trackiq, {"backends"}, dir, "/nonexistent:" + plugins.string());
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("plugin " + (plugins / "libtrackiq_backend_torch.so").string()), std::string::npos)
      << list.out;
  const auto run = run_copy(trackiq, {"run", "builtin:mlp", "--duration", "0.5"}, dir, plugins.string());
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
}

TEST(Plugins, APluginFromAnotherTrackiqIsRefusedNotCalled) {
  TempDir dir;
  const std::string other_version = (fs::path(kTestPlugins) / "other_version").string();
  const auto run = run_copy(kTrackiqBin, {"run", "builtin:mlp", "--duration", "1"}, dir, other_version);
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;  // the stand-in aborts if called
  EXPECT_NE(run.err.find("libtrackiq_backend_torch.so was built from TrackIQ 0.0.1-other (interface 0000000000000000"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("but this is TrackIQ 0.1.0"), std::string::npos) << run.err;

  const auto abi = run_copy(kTrackiqBin, {"run", "torch:m.pt", "--duration", "1"}, dir,
                            (fs::path(kTestPlugins) / "other_abi").string());
  EXPECT_EQ(abi.exit_code, 2) << abi.out << abi.err;
  EXPECT_NE(abi.err.find("has plugin ABI 999, this trackiq needs ABI 1"), std::string::npos) << abi.err;
}

TEST(Plugins, AFileThatIsNotAPluginIsRefusedWithTheLoadersReason) {
  TempDir dir;
  const fs::path garbage = fs::path(dir.path()) / "garbage";
  fs::create_directories(garbage);
  std::ofstream(garbage / "libtrackiq_backend_onnx.so") << "not an ELF file\n";
  const auto run = run_copy(kTrackiqBin, {"run", "onnx:model.onnx", "--duration", "1"}, dir, garbage.string());
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_NE(run.err.find("not available: onnx: backend: cannot load " + (garbage / "libtrackiq_backend_onnx.so").string()),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("file too short"), std::string::npos) << run.err;  // dlerror()'s words

  // A real shared library that is not a plugin: the stand-in NVML library.
  const fs::path other = fs::path(dir.path()) / "other";
  fs::create_directories(other);
  fs::copy_file(kFakeNvml, other / "libtrackiq_backend_onnx.so");
  const auto lib = run_copy(kTrackiqBin, {"run", "onnx:model.onnx", "--duration", "1"}, dir, other.string());
  EXPECT_EQ(lib.exit_code, 2) << lib.out << lib.err;
  EXPECT_NE(lib.err.find("is not a TrackIQ backend plugin (no trackiq_backend_plugin symbol)"), std::string::npos)
      << lib.err;
}

}  // namespace
}  // namespace trackiq::test
