#include <gtest/gtest.h>

#include <unistd.h>

#include "trackiq/core/environment.hpp"
#include "trackiq/core/hash.hpp"
#include "trackiq/core/version.hpp"

namespace trackiq {
namespace {

TEST(Environment, DescribesThisMachine) {
  const Environment e = capture_environment();
  EXPECT_FALSE(e.hostname.empty());
  EXPECT_FALSE(e.cpu_model.empty());
  EXPECT_EQ(e.cpu_logical, static_cast<std::uint32_t>(sysconf(_SC_NPROCESSORS_ONLN)));
  EXPECT_GT(e.memory_total_bytes, 64ULL << 20);
  EXPECT_FALSE(e.kernel.empty());
  EXPECT_FALSE(e.os.empty());
  EXPECT_EQ(e.trackiq_version, version());
  EXPECT_FALSE(e.compiler.empty());
  EXPECT_EQ(e.hardware_fingerprint.size(), 16u);
  // Either a real governor or an explanation; never empty.
  EXPECT_FALSE(e.cpu_governor.empty());
  if (e.gpus.empty()) {
    EXPECT_EQ(e.gpu_probe.rfind("not available: ", 0), 0u);
  }
}

TEST(Environment, HardwareFingerprintIsStableAcrossCaptures) {
  EXPECT_EQ(capture_environment().hardware_fingerprint, capture_environment().hardware_fingerprint);
}

TEST(StableHash, IsFnv1a64) {
  // FNV-1a 64 test vectors.
  EXPECT_EQ(stable_hash_hex(""), "cbf29ce484222325");
  EXPECT_EQ(stable_hash_hex("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(stable_hash_hex("foobar"), "85944171f73967e8");
}

}  // namespace
}  // namespace trackiq
