#pragma once
// What hardware is here (TEL-3): CPUs, memory, NVIDIA GPUs (NVML), Jetson/DRIVE boards, with
// stable ids (cpu0, gpu0, jetson0). Nothing is fabricated: what cannot be probed says why.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trackiq/core/environment.hpp"
#include "trackiq/telemetry/collector.hpp"

namespace trackiq::telemetry {

struct JetsonInfo {
  std::string id;       // "jetson0"
  std::string model;    // /proc/device-tree/model, e.g. "NVIDIA Jetson AGX Orin Developer Kit"
  std::string l4t;      // "R35.4.1" from /etc/nv_tegra_release
  std::string board;    // "t186ref"
  std::string release_line;  // the first line of /etc/nv_tegra_release, verbatim
};

struct DeviceReport {
  Environment environment;  // CPU, memory, OS; gpus filled from NVML
  std::vector<JetsonInfo> jetsons;
  std::string jetson_probe;  // "" when found, else "not available: why"
};

// Probes everything under options.root (/etc, /proc) and NVML (options.nvml_library).
DeviceReport probe_devices(const CollectorOptions& options);

// Fills env.gpus / env.gpu_probe from NVML and updates the hardware fingerprint.
void describe_gpus(Environment& env, const std::string& nvml_library = "libnvidia-ml.so.1");

// Parses /etc/nv_tegra_release's first line ("# R35 (release), REVISION: 4.1, GCID: ...,
// BOARD: t186ref, ..."); InputError("origin:1: ...") when it is not that format.
JetsonInfo parse_nv_tegra_release(const std::string& text, const std::string& origin);

// The report as JSON (stable keys) for `trackiq devices --json`.
std::string devices_json(const DeviceReport& report);

}  // namespace trackiq::telemetry
