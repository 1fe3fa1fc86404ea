#pragma once
// The environment a result was measured in (STORE-1): enough to tell two machines, kernels,
// builds or CPU governors apart when comparing results.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "trackiq/core/hash.hpp"

namespace trackiq {

struct GpuInfo {
  std::string id;      // "gpu0"
  std::string name;
  std::string driver;
  std::uint64_t memory_bytes = 0;  // 0 when the driver does not report it (unified memory)
  std::string uuid;                // "GPU-8f6b..." as NVML reports it
};

struct Environment {
  std::string hostname;
  std::string cpu_model;
  std::uint32_t cpu_logical = 0;   // online logical CPUs
  std::uint32_t cpu_physical = 0;  // distinct (package, core) pairs; 0 when unknown
  std::string cpu_governor;        // "performance", or "not available: <why>"
  std::optional<double> cpu_max_freq_mhz;
  std::uint64_t memory_total_bytes = 0;
  std::string os;      // PRETTY_NAME from /etc/os-release
  std::string kernel;  // uname -r
  std::string arch;    // uname -m
  // NVIDIA GPUs; empty with gpu_probe saying why when none could be probed.
  std::vector<GpuInfo> gpus;
  std::string gpu_probe;
  std::string trackiq_version;
  std::string compiler;    // e.g. "GCC 12.2.0"
  std::string build_type;  // CMake build type of trackiq itself
  bool debug_build = false;  // true when trackiq itself is unoptimised: numbers are suspect
  std::string sanitizers;    // empty, or e.g. "address,undefined"
  // The TRACKIQ_* variables this run read and applied (core/run_env.hpp, LIB-5), as given:
  // {"TRACKIQ_SEED": "7"}; empty when none was set. Not hardware: not in the fingerprint.
  std::map<std::string, std::string> variables;
  // Stable hash of the hardware fields (CPU model, counts, memory, GPUs): the key that
  // groups results "on the same hardware". Hex, 16 chars.
  std::string hardware_fingerprint;
};

// Reads /proc, /sys and uname. Never throws for a missing file: the field says why instead.
// GPUs are left to the telemetry module (telemetry::describe_gpus), which owns NVML.
Environment capture_environment();

// Recomputes hardware_fingerprint from the hardware fields (after gpus changed).
void update_fingerprint(Environment& env);

}  // namespace trackiq
