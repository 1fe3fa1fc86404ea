#pragma once
// NVIDIA GPUs through NVML (TEL-1). The library is loaded at run time with dlopen(): TrackIQ
// neither includes nvml.h nor links libnvidia-ml, so it builds everywhere and reports "not
// available" on machines without an NVIDIA driver. The collector itself is created with
// make_nvml_collector() (collector.hpp); this header holds the loader, the device listing
// behind `trackiq devices`, and the slice of the NVML ABI both use.
//
//   auto probe = trackiq::telemetry::probe_nvml("libnvidia-ml.so.1");
//   if (!probe.available) std::printf("nvml: not available: %s\n", probe.reason.c_str());
//   for (const auto& d : probe.devices) std::printf("%s %s %s\n", d.id.c_str(), d.name.c_str(),
//                                                   d.uuid.c_str());
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trackiq::telemetry {

// The few NVML declarations TrackIQ needs, copied from nvml.h (NVML_API_VERSION 13; see
// docs in shared/notes/telemetry_sources.md §2). Layouts must match the C ABI exactly.
namespace nvml {

using Return = int;        // nvmlReturn_t: a C enum, int-sized
struct DeviceOpaque;       // nvmlDevice_st, never defined on our side
using Device = DeviceOpaque*;  // nvmlDevice_t

// nvmlReturn_t values.
inline constexpr Return kSuccess = 0;
inline constexpr Return kErrorUninitialized = 1;
inline constexpr Return kErrorInvalidArgument = 2;
inline constexpr Return kErrorNotSupported = 3;
inline constexpr Return kErrorNoPermission = 4;
inline constexpr Return kErrorAlreadyInitialized = 5;
inline constexpr Return kErrorNotFound = 6;
inline constexpr Return kErrorInsufficientSize = 7;
inline constexpr Return kErrorInsufficientPower = 8;
inline constexpr Return kErrorDriverNotLoaded = 9;
inline constexpr Return kErrorTimeout = 10;
inline constexpr Return kErrorIrqIssue = 11;
inline constexpr Return kErrorLibraryNotFound = 12;
inline constexpr Return kErrorFunctionNotFound = 13;
inline constexpr Return kErrorCorruptedInforom = 14;
inline constexpr Return kErrorGpuIsLost = 15;
inline constexpr Return kErrorResetRequired = 16;
inline constexpr Return kErrorOperatingSystem = 17;
inline constexpr Return kErrorLibRmVersionMismatch = 18;
inline constexpr Return kErrorInUse = 19;
inline constexpr Return kErrorMemory = 20;
inline constexpr Return kErrorNoData = 21;
inline constexpr Return kErrorVgpuEccNotSupported = 22;
inline constexpr Return kErrorInsufficientResources = 23;
inline constexpr Return kErrorFreqNotSupported = 24;
inline constexpr Return kErrorArgumentVersionMismatch = 25;
inline constexpr Return kErrorDeprecated = 26;
inline constexpr Return kErrorNotReady = 27;
inline constexpr Return kErrorGpuNotFound = 28;
inline constexpr Return kErrorInvalidState = 29;
inline constexpr Return kErrorResetTypeNotSupported = 30;
inline constexpr Return kErrorUnknown = 999;

// Enum arguments (C enums, passed as int).
inline constexpr int kTemperatureGpu = 0;  // NVML_TEMPERATURE_GPU
inline constexpr int kClockGraphics = 0;   // NVML_CLOCK_GRAPHICS
inline constexpr int kClockSm = 1;         // NVML_CLOCK_SM
inline constexpr int kClockMem = 2;        // NVML_CLOCK_MEM

// Buffer sizes nvml.h recommends (NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE,
// NVML_DEVICE_NAME_V2_BUFFER_SIZE, NVML_DEVICE_UUID_V2_BUFFER_SIZE).
inline constexpr unsigned kDriverVersionBufferSize = 80;
inline constexpr unsigned kDeviceNameBufferSize = 96;
inline constexpr unsigned kDeviceUuidBufferSize = 96;

// NVML_VALUE_NOT_AVAILABLE as an unsigned long long (e.g. usedGpuMemory under WDDM).
inline constexpr unsigned long long kValueNotAvailable = ~0ULL;

// nvmlClocksEventReason* (formerly nvmlClocksThrottleReason*; same bits).
inline constexpr std::uint64_t kReasonGpuIdle = 0x1;
inline constexpr std::uint64_t kReasonApplicationsClocksSetting = 0x2;
inline constexpr std::uint64_t kReasonSwPowerCap = 0x4;
inline constexpr std::uint64_t kReasonHwSlowdown = 0x8;
inline constexpr std::uint64_t kReasonSyncBoost = 0x10;
inline constexpr std::uint64_t kReasonSwThermalSlowdown = 0x20;
inline constexpr std::uint64_t kReasonHwThermalSlowdown = 0x40;
inline constexpr std::uint64_t kReasonHwPowerBrakeSlowdown = 0x80;
inline constexpr std::uint64_t kReasonDisplayClockSetting = 0x100;

// The reasons that count as "throttled" (gpuN.throttled = 1): clocks held down by a power or
// thermal limit, or by a hardware slowdown signal. Not counted: GPU idle, an applications-
// clocks or display-clock setting, and sync boost (clocks matched to the slowest GPU of a
// sync-boost group the user configured): those are policies, not limits hit by the workload.
// Bits unknown to this table are not counted either.
inline constexpr std::uint64_t kThrottleReasonsMask =
    kReasonSwPowerCap | kReasonHwSlowdown | kReasonSwThermalSlowdown | kReasonHwThermalSlowdown |
    kReasonHwPowerBrakeSlowdown;

// nvmlUtilization_t: percent of time over the driver's last sample period (1/6 s to 1 s).
struct Utilization {
  unsigned int gpu;
  unsigned int memory;
};

// nvmlMemory_t (v1), bytes. `used` includes memory the driver reserves.
struct Memory {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

// nvmlMemory_v2_t, bytes. `used` excludes `reserved`. `version` must be kMemoryV2Version.
struct MemoryV2 {
  unsigned int version;
  unsigned long long total;
  unsigned long long reserved;
  unsigned long long free;
  unsigned long long used;
};
// NVML_STRUCT_VERSION(Memory, 2) = sizeof(nvmlMemory_v2_t) | 2 << 24.
inline constexpr unsigned int kMemoryV2Version =
    static_cast<unsigned int>(sizeof(MemoryV2)) | (2U << 24U);

// nvmlProcessInfo_v1_t: what the unversioned nvmlDeviceGetComputeRunningProcesses writes.
struct ProcessInfoV1 {
  unsigned int pid;
  unsigned long long used_gpu_memory;  // bytes, or kValueNotAvailable
};

// nvmlProcessInfo_v2_t, which is also what the _v3 function writes: nvml.h 12.2 briefly gave
// nvmlProcessInfo_t an extra usedGpuCcProtectedMemory field, but drivers write 24-byte
// entries for _v3 (pynvml went back to the v2 layout for v3). See NvmlApi::process_info_stride.
struct ProcessInfoV2 {
  unsigned int pid;
  unsigned long long used_gpu_memory;  // bytes, or kValueNotAvailable
  unsigned int gpu_instance_id;        // 0xFFFFFFFF without MIG
  unsigned int compute_instance_id;    // 0xFFFFFFFF without MIG
};

static_assert(sizeof(Utilization) == 8);
static_assert(sizeof(Memory) == 24);
static_assert(sizeof(MemoryV2) == 40);
static_assert(sizeof(ProcessInfoV1) == 16);
static_assert(sizeof(ProcessInfoV2) == 24);

}  // namespace nvml

// Every nvmlReturn_t value nvml.h defines, in increasing order (kSuccess first, kErrorUnknown
// last).
std::span<const nvml::Return> nvml_return_codes() noexcept;

// "NVML_ERROR_DRIVER_NOT_LOADED" for 9; "NVML_SUCCESS" for 0; "" for a code nvml.h does not
// define.
std::string_view nvml_return_name(nvml::Return code) noexcept;

// TrackIQ's own text for a code, matching what nvmlErrorString() says ("Driver Not Loaded");
// "Unknown Error" for a code nvml.h does not define. Used when the library is not loaded or
// lacks nvmlErrorString.
std::string_view nvml_return_message(nvml::Return code) noexcept;

// The functions TrackIQ calls, resolved with dlsym(). nullptr: the loaded library lacks every
// name tried (old drivers lack the newer ones); callers treat that as "not supported".
struct NvmlApi {
  nvml::Return (*init)() = nullptr;      // nvmlInit_v2, else nvmlInit (required)
  nvml::Return (*shutdown)() = nullptr;  // nvmlShutdown (required)
  const char* (*error_string)(nvml::Return) = nullptr;               // nvmlErrorString
  nvml::Return (*system_get_driver_version)(char*, unsigned) = nullptr;
  nvml::Return (*device_get_count)(unsigned*) = nullptr;             // _v2, else plain (required)
  nvml::Return (*device_get_handle_by_index)(unsigned, nvml::Device*) = nullptr;  // _v2, else plain (required)
  nvml::Return (*device_get_name)(nvml::Device, char*, unsigned) = nullptr;
  nvml::Return (*device_get_uuid)(nvml::Device, char*, unsigned) = nullptr;
  nvml::Return (*device_get_utilization_rates)(nvml::Device, nvml::Utilization*) = nullptr;
  nvml::Return (*device_get_memory_info)(nvml::Device, nvml::Memory*) = nullptr;
  nvml::Return (*device_get_memory_info_v2)(nvml::Device, nvml::MemoryV2*) = nullptr;
  nvml::Return (*device_get_temperature)(nvml::Device, int, unsigned*) = nullptr;  // °C
  nvml::Return (*device_get_power_usage)(nvml::Device, unsigned*) = nullptr;        // mW
  nvml::Return (*device_get_total_energy_consumption)(nvml::Device, unsigned long long*) =
      nullptr;                                                                        // mJ
  nvml::Return (*device_get_clock_info)(nvml::Device, int, unsigned*) = nullptr;    // MHz
  // nvmlDeviceGetCurrentClocksEventReasons, else nvmlDeviceGetCurrentClocksThrottleReasons.
  nvml::Return (*device_get_clocks_event_reasons)(nvml::Device, unsigned long long*) = nullptr;
  // nvmlDeviceGetComputeRunningProcesses_v3, else _v2, else plain. The last argument points at
  // an array of entries `process_info_stride` bytes apart: sizeof(ProcessInfoV2) for _v3/_v2,
  // sizeof(ProcessInfoV1) for plain. pid and used_gpu_memory sit at the same offsets in both.
  nvml::Return (*device_get_compute_running_processes)(nvml::Device, unsigned*, void*) = nullptr;
  std::size_t process_info_stride = 0;
};

// One loaded and initialised NVML: dlopen() + nvmlInit in the constructor, nvmlShutdown +
// dlclose() in the destructor. NVML counts init/shutdown pairs, so several instances may live
// in one process (each test, the collector and `trackiq devices` make their own).
//
// Thread-safety: construction and destruction from any one thread; api() calls from one thread
// at a time (the sampler's, for the collector). No locks of ours.
class NvmlLibrary {
 public:
  // `library` is the dlopen() name or path ("libnvidia-ml.so.1", or the test fake's path).
  // Never throws for a missing library or a failed init: available() is false and reason()
  // says why, e.g. "libnvidia-ml.so.1 not found (no NVIDIA driver)" or
  // "nvmlInit_v2 failed: Driver Not Loaded (NVML_ERROR_DRIVER_NOT_LOADED)".
  explicit NvmlLibrary(std::string library = "libnvidia-ml.so.1");
  ~NvmlLibrary();
  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;

  bool available() const noexcept { return initialized_; }
  const std::string& reason() const noexcept { return reason_; }
  const std::string& library() const noexcept { return library_; }

  // The resolved functions; every pointer is nullptr unless available().
  const NvmlApi& api() const noexcept { return api_; }

  // "Driver Not Loaded (NVML_ERROR_DRIVER_NOT_LOADED)": nvmlErrorString() when the library
  // has it, else nvml_return_message(); then the code's name (or its number when unnamed).
  std::string error_string(nvml::Return code) const;

  // nvmlSystemGetDriverVersion ("550.54.15"); "" when not available or unsupported.
  std::string driver_version() const;

 private:
  std::string library_;
  void* handle_ = nullptr;    // from dlopen(), closed in the destructor
  bool initialized_ = false;  // nvmlInit succeeded: the destructor calls nvmlShutdown
  NvmlApi api_{};
  std::string reason_;
};

// One GPU as `trackiq devices` lists it.
struct NvmlDevice {
  unsigned index = 0;        // NVML index (also the N of the collector's gpuN.* channels)
  std::string id;            // "gpu0"
  std::string name;          // "NVIDIA H100 80GB HBM3"
  std::string uuid;          // "GPU-8f6b…"
  std::optional<std::uint64_t> memory_total_bytes;  // none: not reported (iGPU/unified memory)
  std::string driver_version;  // the system's driver version, repeated per device
  std::string error;           // "" or why this device could not be read (e.g. GPU is lost)
};

struct NvmlProbe {
  bool available = false;     // NVML loaded and initialised
  std::string reason;         // why not, when !available
  std::string driver_version;
  std::vector<NvmlDevice> devices;  // empty when !available, or when NVML sees no GPU
};

// Loads `library`, lists its GPUs and unloads it. Never throws for a missing driver or GPU.
NvmlProbe probe_nvml(const std::string& library = "libnvidia-ml.so.1");

}  // namespace trackiq::telemetry
