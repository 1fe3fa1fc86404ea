// NVML loader, device listing and collector, against the scripted fake libnvidia-ml
// (tests/fakes/fake_nvml.cpp, path in trackiq::test::kFakeNvml) and against this machine's real one.
#include "trackiq/telemetry/nvml.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "trackiq/telemetry/collector.hpp"
#include "support/test_paths.hpp"

namespace trackiq::telemetry {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kMiB = 1024.0 * 1024.0;
constexpr const char* kMissingLibrary = "libtrackiq-no-such-nvml.so.1";

// Sets the fake's script for this test: clears every FAKE_NVML_* variable, then sets `vars`.
// The fake reads them when nvmlInit takes its first reference.
void script(std::vector<std::pair<const char*, const char*>> vars = {}) {
  for (const char* name : {"FAKE_NVML_INIT_ERROR", "FAKE_NVML_GPUS", "FAKE_NVML_NOT_SUPPORTED",
                           "FAKE_NVML_NO_ENERGY", "FAKE_NVML_THROTTLE", "FAKE_NVML_EXTRA_PROCS"}) {
    unsetenv(name);
  }
  for (const auto& [name, value] : vars) setenv(name, value, 1);
}

CollectorOptions fake_options() {
  CollectorOptions options;
  options.nvml_library = trackiq::test::kFakeNvml;
  return options;
}

// One sample's values by channel name.
struct Row {
  const Collector& collector;
  std::vector<double> values;

  double operator[](const std::string& name) const {
    const auto& channels = collector.channels();
    for (std::size_t i = 0; i < channels.size(); ++i) {
      if (channels[i].name == name) return values.at(i);
    }
    ADD_FAILURE() << "no channel " << name;
    return std::nan("");
  }
};

Row sample(Collector& collector) {
  Row row{collector, std::vector<double>(collector.channels().size(), -1.0)};
  collector.sample(0, row.values);
  return row;
}

TEST(NvmlErrors, TableNamesAndDescribesEveryCode) {
  const auto codes = nvml_return_codes();
  ASSERT_EQ(codes.size(), 32u);  // 0..30 and 999
  for (int code = 0; code <= 30; ++code) EXPECT_EQ(codes[static_cast<std::size_t>(code)], code);
  EXPECT_EQ(codes.back(), nvml::kErrorUnknown);
  std::set<std::string_view> names;
  std::set<std::string_view> messages;
  for (const nvml::Return code : codes) {
    const std::string_view name = nvml_return_name(code);
    const std::string_view message = nvml_return_message(code);
    EXPECT_TRUE(name.starts_with(code == 0 ? "NVML_SUCCESS" : "NVML_ERROR_")) << code;
    EXPECT_FALSE(message.empty()) << code;
    if (code != nvml::kErrorUnknown) {
      EXPECT_NE(message, "Unknown Error") << code;
    }
    names.insert(name);
    messages.insert(message);
  }
  EXPECT_EQ(names.size(), codes.size());
  EXPECT_EQ(messages.size(), codes.size());
  EXPECT_EQ(nvml_return_name(nvml::kErrorDriverNotLoaded), "NVML_ERROR_DRIVER_NOT_LOADED");
  EXPECT_EQ(nvml_return_message(nvml::kErrorDriverNotLoaded), "Driver Not Loaded");
  EXPECT_EQ(nvml_return_message(nvml::kErrorNotSupported), "Not Supported");
  EXPECT_EQ(nvml_return_name(12345), "");
  EXPECT_EQ(nvml_return_message(12345), "Unknown Error");
}

TEST(NvmlLibrary, MissingLibraryIsNotAvailableWithReason) {
  NvmlLibrary library(kMissingLibrary);
  EXPECT_FALSE(library.available());
  EXPECT_EQ(library.reason(), std::string(kMissingLibrary) + " not found (no NVIDIA driver)");
  EXPECT_EQ(library.api().init, nullptr);
  EXPECT_EQ(library.driver_version(), "");
  EXPECT_EQ(library.error_string(nvml::kErrorGpuIsLost), "GPU is lost (NVML_ERROR_GPU_IS_LOST)");
  EXPECT_EQ(library.error_string(77), "Unknown Error (nvmlReturn_t 77)");
}

TEST(NvmlLibrary, NonNvmlLibraryIsNotAvailableWithReason) {
  NvmlLibrary library("libm.so.6");
  EXPECT_FALSE(library.available());
  EXPECT_EQ(library.reason(), "libm.so.6 lacks nvmlInit_v2 (not an NVML library?)");
}

TEST(NvmlLibrary, InitErrorIsNotAvailableWithNvmlMessage) {
  script({{"FAKE_NVML_INIT_ERROR", "9"}});
  NvmlLibrary library(trackiq::test::kFakeNvml);
  EXPECT_FALSE(library.available());
  EXPECT_EQ(library.reason(),
            "nvmlInit_v2 failed: Driver Not Loaded (NVML_ERROR_DRIVER_NOT_LOADED)");
}

TEST(NvmlLibrary, InitialisesOnConstructionAndShutsDownOnDestruction) {
  script();
  void* fake = dlopen(trackiq::test::kFakeNvml, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(fake, nullptr) << dlerror();
  auto refcount = reinterpret_cast<int (*)()>(dlsym(fake, "fake_nvml_refcount"));
  ASSERT_NE(refcount, nullptr);
  {
    NvmlLibrary library(trackiq::test::kFakeNvml);
    ASSERT_TRUE(library.available()) << library.reason();
    EXPECT_EQ(library.reason(), "");
    EXPECT_EQ(refcount(), 1);
    {
      NvmlLibrary second(trackiq::test::kFakeNvml);
      EXPECT_EQ(refcount(), 2);
    }
    EXPECT_EQ(refcount(), 1);
    EXPECT_EQ(library.driver_version(), "999.99.01");
    EXPECT_NE(library.api().device_get_total_energy_consumption, nullptr);
    EXPECT_EQ(library.api().process_info_stride, sizeof(nvml::ProcessInfoV2));  // the _v3 symbol
  }
  EXPECT_EQ(refcount(), 0);
  dlclose(fake);
}

TEST(NvmlProbe, ListsDevicesWithNamesUuidsAndMemory) {
  script({{"FAKE_NVML_GPUS", "2"}});
  const NvmlProbe probe = probe_nvml(trackiq::test::kFakeNvml);
  ASSERT_TRUE(probe.available) << probe.reason;
  EXPECT_EQ(probe.reason, "");
  EXPECT_EQ(probe.driver_version, "999.99.01");
  ASSERT_EQ(probe.devices.size(), 2u);
  for (unsigned i = 0; i < 2; ++i) {
    const NvmlDevice& device = probe.devices[i];
    EXPECT_EQ(device.index, i);
    EXPECT_EQ(device.id, "gpu" + std::to_string(i));
    EXPECT_EQ(device.name, "NVIDIA Fake GPU " + std::to_string(i));
    EXPECT_EQ(device.uuid, "GPU-00000000-0000-0000-0000-00000000000" + std::to_string(i));
    EXPECT_EQ(device.memory_total_bytes, (16ULL + 8 * i) << 30U);
    EXPECT_EQ(device.driver_version, "999.99.01");
    EXPECT_EQ(device.error, "");
  }
}

TEST(NvmlProbe, MissingMemoryInfoIsNotZero) {
  script({{"FAKE_NVML_NOT_SUPPORTED", "memory"}});
  const NvmlProbe probe = probe_nvml(trackiq::test::kFakeNvml);
  ASSERT_EQ(probe.devices.size(), 1u);
  EXPECT_FALSE(probe.devices[0].memory_total_bytes.has_value());
}

TEST(NvmlProbe, MissingLibraryOrInitErrorIsNotAvailable) {
  const NvmlProbe missing = probe_nvml(kMissingLibrary);
  EXPECT_FALSE(missing.available);
  EXPECT_EQ(missing.reason, std::string(kMissingLibrary) + " not found (no NVIDIA driver)");
  EXPECT_TRUE(missing.devices.empty());

  script({{"FAKE_NVML_INIT_ERROR", "9"}});
  const NvmlProbe failed = probe_nvml(trackiq::test::kFakeNvml);
  EXPECT_FALSE(failed.available);
  EXPECT_NE(failed.reason.find("Driver Not Loaded"), std::string::npos) << failed.reason;
  EXPECT_TRUE(failed.devices.empty());
}

// This machine's own libnvidia-ml.so.1: without an NVIDIA driver (the CI case) the collector
// says why; on a GPU host it must produce plausible values.
TEST(NvmlCollector, SystemLibraryWorksOrSaysWhy) {
  const NvmlProbe probe = probe_nvml("libnvidia-ml.so.1");
  const auto collector = make_nvml_collector(CollectorOptions{});
  EXPECT_EQ(collector->name(), "nvml");
  if (!probe.available || probe.devices.empty()) {
    EXPECT_FALSE(collector->available());
    EXPECT_FALSE(collector->reason().empty());
    EXPECT_TRUE(collector->channels().empty());
    if (!probe.available) {
      EXPECT_EQ(collector->reason(), "not available: " + probe.reason);
    }
    return;
  }
  ASSERT_TRUE(collector->available()) << collector->reason();
  const Row row = sample(*collector);
  const double util = row["gpu0.util_pct"];
  EXPECT_TRUE(std::isnan(util) || (util >= 0 && util <= 100)) << util;
  const double total = row["gpu0.mem_total_bytes"];
  EXPECT_TRUE(std::isnan(total) || total > 0) << total;
}

TEST(NvmlCollector, MissingLibraryIsNotAvailable) {
  CollectorOptions options;
  options.nvml_library = kMissingLibrary;
  const auto collector = make_nvml_collector(options);
  EXPECT_FALSE(collector->available());
  EXPECT_EQ(collector->reason(), "not available: " + std::string(kMissingLibrary) + " not found (no NVIDIA driver)");
  EXPECT_TRUE(collector->channels().empty());
  collector->sample(0, {});  // nothing to fill, must not crash
}

TEST(NvmlCollector, InitErrorIsNotAvailableWithMappedMessage) {
  script({{"FAKE_NVML_INIT_ERROR", "9"}});
  const auto collector = make_nvml_collector(fake_options());
  EXPECT_FALSE(collector->available());
  EXPECT_EQ(collector->reason(),
            "not available: nvmlInit_v2 failed: Driver Not Loaded (NVML_ERROR_DRIVER_NOT_LOADED)");
  EXPECT_TRUE(collector->channels().empty());
}

TEST(NvmlCollector, NoGpuIsNotAvailable) {
  script({{"FAKE_NVML_GPUS", "0"}});
  const auto collector = make_nvml_collector(fake_options());
  EXPECT_FALSE(collector->available());
  EXPECT_EQ(collector->reason(), "not available: NVML reports no NVIDIA GPU");
  EXPECT_TRUE(collector->channels().empty());
}

TEST(NvmlCollector, DeclaresTwelveChannelsPerGpuWithUnits) {
  script({{"FAKE_NVML_GPUS", "2"}});
  const auto collector = make_nvml_collector(fake_options());
  ASSERT_TRUE(collector->available()) << collector->reason();
  EXPECT_EQ(collector->reason(), "");
  const std::vector<std::pair<std::string, std::string>> per_gpu = {
      {"util_pct", "%"},       {"mem_util_pct", "%"},     {"mem_used_bytes", "B"},
      {"mem_total_bytes", "B"}, {"temp_c", "°C"},          {"power_w", "W"},
      {"energy_j", "J"},       {"sm_clock_mhz", "MHz"},   {"mem_clock_mhz", "MHz"},
      {"throttle_reasons", "1"}, {"throttled", "1"},      {"proc_mem_bytes", "B"}};
  const auto& channels = collector->channels();
  ASSERT_EQ(channels.size(), 2 * per_gpu.size());
  for (std::size_t g = 0; g < 2; ++g) {
    for (std::size_t c = 0; c < per_gpu.size(); ++c) {
      const Channel& channel = channels[g * per_gpu.size() + c];
      EXPECT_EQ(channel.name, "gpu" + std::to_string(g) + "." + per_gpu[c].first);
      EXPECT_EQ(channel.unit, per_gpu[c].second) << channel.name;
    }
  }
}

TEST(NvmlCollector, SamplesScriptedValuesThatChangeBetweenSamples) {
  script({{"FAKE_NVML_GPUS", "2"}});
  const auto collector = make_nvml_collector(fake_options());
  ASSERT_TRUE(collector->available()) << collector->reason();

  const Row first = sample(*collector);
  EXPECT_EQ(first["gpu0.util_pct"], 10);
  EXPECT_EQ(first["gpu0.mem_util_pct"], 5);
  EXPECT_EQ(first["gpu0.mem_used_bytes"], 1 * kGiB);  // the v2 call: reserved memory excluded
  EXPECT_EQ(first["gpu0.mem_total_bytes"], 16 * kGiB);
  EXPECT_EQ(first["gpu0.temp_c"], 40);
  EXPECT_DOUBLE_EQ(first["gpu0.power_w"], 100.0);
  EXPECT_DOUBLE_EQ(first["gpu0.energy_j"], 1000.0);
  EXPECT_EQ(first["gpu0.sm_clock_mhz"], 1410);
  EXPECT_EQ(first["gpu0.mem_clock_mhz"], 1215);
  EXPECT_EQ(first["gpu0.throttle_reasons"], 0);
  EXPECT_EQ(first["gpu0.throttled"], 0);
  EXPECT_EQ(first["gpu0.proc_mem_bytes"], 256 * kMiB);  // this process only, not pid 4194305

  EXPECT_EQ(first["gpu1.util_pct"], 11);
  EXPECT_EQ(first["gpu1.mem_total_bytes"], 24 * kGiB);
  EXPECT_EQ(first["gpu1.temp_c"], 41);
  EXPECT_DOUBLE_EQ(first["gpu1.power_w"], 110.0);
  EXPECT_DOUBLE_EQ(first["gpu1.energy_j"], 2000.0);
  EXPECT_EQ(first["gpu1.sm_clock_mhz"], 1411);
  EXPECT_EQ(first["gpu1.proc_mem_bytes"], 512 * kMiB);

  const Row second = sample(*collector);
  EXPECT_EQ(second["gpu0.util_pct"], 20);
  EXPECT_EQ(second["gpu0.mem_util_pct"], 10);
  EXPECT_EQ(second["gpu0.mem_used_bytes"], 2 * kGiB);
  EXPECT_EQ(second["gpu0.temp_c"], 41);
  EXPECT_DOUBLE_EQ(second["gpu0.power_w"], 101.0);
  EXPECT_DOUBLE_EQ(second["gpu0.energy_j"] - first["gpu0.energy_j"], 5.0);
  EXPECT_EQ(second["gpu1.util_pct"], 21);

  const Row third = sample(*collector);
  EXPECT_EQ(third["gpu0.util_pct"], 30);
}

TEST(NvmlCollector, NotSupportedEnergyGivesNaNNotZero) {
  script({{"FAKE_NVML_NO_ENERGY", "1"}});
  const auto collector = make_nvml_collector(fake_options());
  ASSERT_TRUE(collector->available()) << collector->reason();
  const Row row = sample(*collector);
  EXPECT_TRUE(std::isnan(row["gpu0.energy_j"]));
  EXPECT_DOUBLE_EQ(row["gpu0.power_w"], 100.0);
  EXPECT_EQ(row["gpu0.util_pct"], 10);
}

TEST(NvmlCollector, EveryNotSupportedCallGivesNaN) {
  script({{"FAKE_NVML_NOT_SUPPORTED",
           "util,memory,temperature,power,energy,clocks,throttle,processes"}});
  const auto collector = make_nvml_collector(fake_options());
  ASSERT_TRUE(collector->available()) << collector->reason();
  const Row row = sample(*collector);
  ASSERT_EQ(row.values.size(), 12u);
  for (std::size_t i = 0; i < row.values.size(); ++i) {
    EXPECT_TRUE(std::isnan(row.values[i])) << collector->channels()[i].name;
  }
}

TEST(NvmlCollector, ThrottledCountsOnlyPowerThermalAndHardwareLimits) {
  // GPU idle, applications clocks, sync boost and display clock setting: not throttled.
  script({{"FAKE_NVML_THROTTLE", "0x113"}});
  {
    const auto collector = make_nvml_collector(fake_options());
    const Row row = sample(*collector);
    EXPECT_EQ(row["gpu0.throttle_reasons"], 0x113);
    EXPECT_EQ(row["gpu0.throttled"], 0);
  }
  for (const char* mask : {"0x4", "0x8", "0x20", "0x40", "0x80", "0x5"}) {
    script({{"FAKE_NVML_THROTTLE", mask}});
    const auto collector = make_nvml_collector(fake_options());
    const Row row = sample(*collector);
    EXPECT_EQ(row["gpu0.throttle_reasons"], static_cast<double>(std::strtoull(mask, nullptr, 0)));
    EXPECT_EQ(row["gpu0.throttled"], 1) << mask;
  }
}

TEST(NvmlCollector, ProcessMemoryIsZeroForAProcessWithoutGpuContext) {
  script();
  CollectorOptions options = fake_options();
  options.pid = 4194304;  // PID_MAX_LIMIT: listed by no GPU
  const auto collector = make_nvml_collector(options);
  const Row row = sample(*collector);
  EXPECT_EQ(row["gpu0.proc_mem_bytes"], 0);
}

TEST(NvmlCollector, ProcessListLongerThanTheBufferGivesNaN) {
  script({{"FAKE_NVML_EXTRA_PROCS", "5000"}});
  const auto collector = make_nvml_collector(fake_options());
  const Row row = sample(*collector);
  EXPECT_TRUE(std::isnan(row["gpu0.proc_mem_bytes"]));
  EXPECT_EQ(row["gpu0.util_pct"], 10);
}

TEST(NvmlCollector, ProcessListWithinTheBufferIsSummedForThisProcess) {
  script({{"FAKE_NVML_EXTRA_PROCS", "500"}});
  const auto collector = make_nvml_collector(fake_options());
  const Row row = sample(*collector);
  EXPECT_EQ(row["gpu0.proc_mem_bytes"], 256 * kMiB);
}

}  // namespace
}  // namespace trackiq::telemetry
