// NVML loader, device listing and the "nvml" collector (TEL-1). See nvml.hpp.
#include "trackiq/telemetry/nvml.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <utility>

#include "trackiq/telemetry/collector.hpp"

namespace trackiq::telemetry {
namespace {

struct ReturnInfo {
  nvml::Return code;
  std::string_view name;
  std::string_view message;  // as nvmlErrorString() words it where known
};

constexpr std::array kReturnInfo{
    ReturnInfo{nvml::kSuccess, "NVML_SUCCESS", "Success"},
    ReturnInfo{nvml::kErrorUninitialized, "NVML_ERROR_UNINITIALIZED", "Uninitialized"},
    ReturnInfo{nvml::kErrorInvalidArgument, "NVML_ERROR_INVALID_ARGUMENT", "Invalid Argument"},
    ReturnInfo{nvml::kErrorNotSupported, "NVML_ERROR_NOT_SUPPORTED", "Not Supported"},
    ReturnInfo{nvml::kErrorNoPermission, "NVML_ERROR_NO_PERMISSION", "Insufficient Permissions"},
    ReturnInfo{nvml::kErrorAlreadyInitialized, "NVML_ERROR_ALREADY_INITIALIZED",
               "Already Initialized"},
    ReturnInfo{nvml::kErrorNotFound, "NVML_ERROR_NOT_FOUND", "Not Found"},
    ReturnInfo{nvml::kErrorInsufficientSize, "NVML_ERROR_INSUFFICIENT_SIZE", "Insufficient Size"},
    ReturnInfo{nvml::kErrorInsufficientPower, "NVML_ERROR_INSUFFICIENT_POWER",
               "Insufficient External Power"},
    ReturnInfo{nvml::kErrorDriverNotLoaded, "NVML_ERROR_DRIVER_NOT_LOADED", "Driver Not Loaded"},
    ReturnInfo{nvml::kErrorTimeout, "NVML_ERROR_TIMEOUT", "Timeout"},
    ReturnInfo{nvml::kErrorIrqIssue, "NVML_ERROR_IRQ_ISSUE", "Interrupt Request Issue"},
    ReturnInfo{nvml::kErrorLibraryNotFound, "NVML_ERROR_LIBRARY_NOT_FOUND",
               "NVML Shared Library Not Found"},
    ReturnInfo{nvml::kErrorFunctionNotFound, "NVML_ERROR_FUNCTION_NOT_FOUND",
               "Function Not Found"},
    ReturnInfo{nvml::kErrorCorruptedInforom, "NVML_ERROR_CORRUPTED_INFOROM", "Corrupted infoROM"},
    ReturnInfo{nvml::kErrorGpuIsLost, "NVML_ERROR_GPU_IS_LOST", "GPU is lost"},
    ReturnInfo{nvml::kErrorResetRequired, "NVML_ERROR_RESET_REQUIRED", "GPU requires reset"},
    ReturnInfo{nvml::kErrorOperatingSystem, "NVML_ERROR_OPERATING_SYSTEM",
               "GPU access blocked by the operating system"},
    ReturnInfo{nvml::kErrorLibRmVersionMismatch, "NVML_ERROR_LIB_RM_VERSION_MISMATCH",
               "Driver/library version mismatch"},
    ReturnInfo{nvml::kErrorInUse, "NVML_ERROR_IN_USE", "In use by another client"},
    ReturnInfo{nvml::kErrorMemory, "NVML_ERROR_MEMORY", "Insufficient Memory"},
    ReturnInfo{nvml::kErrorNoData, "NVML_ERROR_NO_DATA", "No data"},
    ReturnInfo{nvml::kErrorVgpuEccNotSupported, "NVML_ERROR_VGPU_ECC_NOT_SUPPORTED",
               "The requested vGPU operation is not available because ECC is enabled"},
    ReturnInfo{nvml::kErrorInsufficientResources, "NVML_ERROR_INSUFFICIENT_RESOURCES",
               "Insufficient Resources"},
    ReturnInfo{nvml::kErrorFreqNotSupported, "NVML_ERROR_FREQ_NOT_SUPPORTED",
               "Frequency not supported"},
    ReturnInfo{nvml::kErrorArgumentVersionMismatch, "NVML_ERROR_ARGUMENT_VERSION_MISMATCH",
               "Argument version mismatch"},
    ReturnInfo{nvml::kErrorDeprecated, "NVML_ERROR_DEPRECATED", "Deprecated"},
    ReturnInfo{nvml::kErrorNotReady, "NVML_ERROR_NOT_READY", "Not ready"},
    ReturnInfo{nvml::kErrorGpuNotFound, "NVML_ERROR_GPU_NOT_FOUND", "GPU not found"},
    ReturnInfo{nvml::kErrorInvalidState, "NVML_ERROR_INVALID_STATE", "Invalid state"},
    ReturnInfo{nvml::kErrorResetTypeNotSupported, "NVML_ERROR_RESET_TYPE_NOT_SUPPORTED",
               "Reset type not supported"},
    ReturnInfo{nvml::kErrorUnknown, "NVML_ERROR_UNKNOWN", "Unknown Error"},
};

constexpr auto kReturnCodes = [] {
  std::array<nvml::Return, kReturnInfo.size()> codes{};
  for (std::size_t i = 0; i < kReturnInfo.size(); ++i) codes[i] = kReturnInfo[i].code;
  return codes;
}();

const ReturnInfo* find_return(nvml::Return code) noexcept {
  for (const auto& info : kReturnInfo) {
    if (info.code == code) return &info;
  }
  return nullptr;
}

// Points `slot` at the first of `names` the library exports; nullptr when none. Returns the
// index of the name found, or -1.
template <typename Fn>
int resolve(void* handle, Fn*& slot, std::initializer_list<const char*> names) noexcept {
  int index = 0;
  for (const char* name : names) {
    if (void* symbol = dlsym(handle, name)) {
      // POSIX guarantees that a dlsym() result may be converted to a function pointer.
      slot = reinterpret_cast<Fn*>(symbol);
      return index;
    }
    ++index;
  }
  slot = nullptr;
  return -1;
}

// Copies a NUL-terminated result out of a fixed buffer (NVML always terminates on success).
std::string from_buffer(const char* buffer, std::size_t size) {
  return std::string(buffer, strnlen(buffer, size));
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

std::span<const nvml::Return> nvml_return_codes() noexcept { return kReturnCodes; }

std::string_view nvml_return_name(nvml::Return code) noexcept {
  const ReturnInfo* info = find_return(code);
  return info != nullptr ? info->name : std::string_view{};
}

std::string_view nvml_return_message(nvml::Return code) noexcept {
  const ReturnInfo* info = find_return(code);
  return info != nullptr ? info->message : std::string_view{"Unknown Error"};
}

NvmlLibrary::NvmlLibrary(std::string library) : library_(std::move(library)) {
  dlerror();
  handle_ = dlopen(library_.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle_ == nullptr) {
    const char* why = dlerror();
    const std::string detail = why != nullptr ? why : "";
    if (detail.empty() || detail.find("No such file") != std::string::npos) {
      reason_ = library_ + " not found (no NVIDIA driver)";
    } else {
      reason_ = library_ + " could not be loaded: " + detail;
    }
    return;
  }

  NvmlApi api;
  const int init_index = resolve(handle_, api.init, {"nvmlInit_v2", "nvmlInit"});
  resolve(handle_, api.shutdown, {"nvmlShutdown"});
  resolve(handle_, api.error_string, {"nvmlErrorString"});
  resolve(handle_, api.system_get_driver_version, {"nvmlSystemGetDriverVersion"});
  resolve(handle_, api.device_get_count, {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"});
  resolve(handle_, api.device_get_handle_by_index,
          {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"});
  resolve(handle_, api.device_get_name, {"nvmlDeviceGetName"});
  resolve(handle_, api.device_get_uuid, {"nvmlDeviceGetUUID"});
  resolve(handle_, api.device_get_utilization_rates, {"nvmlDeviceGetUtilizationRates"});
  resolve(handle_, api.device_get_memory_info, {"nvmlDeviceGetMemoryInfo"});
  resolve(handle_, api.device_get_memory_info_v2, {"nvmlDeviceGetMemoryInfo_v2"});
  resolve(handle_, api.device_get_temperature, {"nvmlDeviceGetTemperature"});
  resolve(handle_, api.device_get_power_usage, {"nvmlDeviceGetPowerUsage"});
  resolve(handle_, api.device_get_total_energy_consumption,
          {"nvmlDeviceGetTotalEnergyConsumption"});
  resolve(handle_, api.device_get_clock_info, {"nvmlDeviceGetClockInfo"});
  resolve(handle_, api.device_get_clocks_event_reasons,
          {"nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"});
  const int processes_index =
      resolve(handle_, api.device_get_compute_running_processes,
              {"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2",
               "nvmlDeviceGetComputeRunningProcesses"});
  api.process_info_stride = processes_index == 2   ? sizeof(nvml::ProcessInfoV1)
                            : processes_index >= 0 ? sizeof(nvml::ProcessInfoV2)
                                                   : 0;

  const char* missing = api.init == nullptr                         ? "nvmlInit_v2"
                        : api.shutdown == nullptr                   ? "nvmlShutdown"
                        : api.device_get_count == nullptr           ? "nvmlDeviceGetCount_v2"
                        : api.device_get_handle_by_index == nullptr ? "nvmlDeviceGetHandleByIndex_v2"
                                                                    : nullptr;
  if (missing != nullptr) {
    reason_ = library_ + " lacks " + missing + " (not an NVML library?)";
    dlclose(handle_);
    handle_ = nullptr;
    return;
  }

  const nvml::Return status = api.init();
  if (status != nvml::kSuccess) {
    api_ = api;  // for error_string(); cleared below
    reason_ = std::string(init_index == 0 ? "nvmlInit_v2" : "nvmlInit") + " failed: " +
              error_string(status);
    api_ = NvmlApi{};
    dlclose(handle_);
    handle_ = nullptr;
    return;
  }
  api_ = api;
  initialized_ = true;
}

NvmlLibrary::~NvmlLibrary() {
  if (initialized_) api_.shutdown();
  if (handle_ != nullptr) dlclose(handle_);
}

std::string NvmlLibrary::error_string(nvml::Return code) const {
  std::string text;
  if (api_.error_string != nullptr) {
    if (const char* s = api_.error_string(code); s != nullptr) text = s;
  }
  if (text.empty()) text = nvml_return_message(code);
  const std::string_view name = nvml_return_name(code);
  text += " (";
  text += name.empty() ? "nvmlReturn_t " + std::to_string(code) : std::string(name);
  text += ')';
  return text;
}

std::string NvmlLibrary::driver_version() const {
  if (!initialized_ || api_.system_get_driver_version == nullptr) return {};
  std::array<char, nvml::kDriverVersionBufferSize> buffer{};
  if (api_.system_get_driver_version(buffer.data(), buffer.size()) != nvml::kSuccess) return {};
  return from_buffer(buffer.data(), buffer.size());
}

namespace {

// Total memory in bytes; none when unsupported or 0 (integrated GPUs with unified memory).
std::optional<std::uint64_t> memory_total(const NvmlApi& api, nvml::Device device) {
  if (api.device_get_memory_info_v2 != nullptr) {
    nvml::MemoryV2 memory{};
    memory.version = nvml::kMemoryV2Version;
    if (api.device_get_memory_info_v2(device, &memory) == nvml::kSuccess) {
      if (memory.total == 0) return std::nullopt;
      return memory.total;
    }
  }
  if (api.device_get_memory_info != nullptr) {
    nvml::Memory memory{};
    if (api.device_get_memory_info(device, &memory) == nvml::kSuccess && memory.total != 0) {
      return memory.total;
    }
  }
  return std::nullopt;
}

}  // namespace

NvmlProbe probe_nvml(const std::string& library) {
  NvmlProbe probe;
  NvmlLibrary nvml_library(library);
  if (!nvml_library.available()) {
    probe.reason = nvml_library.reason();
    return probe;
  }
  const NvmlApi& api = nvml_library.api();
  probe.driver_version = nvml_library.driver_version();

  unsigned count = 0;
  if (const nvml::Return status = api.device_get_count(&count); status != nvml::kSuccess) {
    probe.reason = "nvmlDeviceGetCount_v2 failed: " + nvml_library.error_string(status);
    return probe;
  }
  probe.available = true;
  for (unsigned index = 0; index < count; ++index) {
    NvmlDevice device;
    device.index = index;
    device.id = "gpu" + std::to_string(index);
    device.driver_version = probe.driver_version;
    nvml::Device handle = nullptr;
    if (const nvml::Return status = api.device_get_handle_by_index(index, &handle);
        status != nvml::kSuccess) {
      device.error = nvml_library.error_string(status);
      probe.devices.push_back(std::move(device));
      continue;
    }
    std::array<char, nvml::kDeviceNameBufferSize> name{};
    if (api.device_get_name != nullptr &&
        api.device_get_name(handle, name.data(), name.size()) == nvml::kSuccess) {
      device.name = from_buffer(name.data(), name.size());
    }
    std::array<char, nvml::kDeviceUuidBufferSize> uuid{};
    if (api.device_get_uuid != nullptr &&
        api.device_get_uuid(handle, uuid.data(), uuid.size()) == nvml::kSuccess) {
      device.uuid = from_buffer(uuid.data(), uuid.size());
    }
    device.memory_total_bytes = memory_total(api, handle);
    probe.devices.push_back(std::move(device));
  }
  return probe;
}

namespace {

// Per GPU, in this order: the channel suffixes after "gpuN." and their units.
enum GpuChannel : std::size_t {
  kUtil,
  kMemUtil,
  kMemUsed,
  kMemTotal,
  kTemp,
  kPower,
  kEnergy,
  kSmClock,
  kMemClock,
  kThrottleReasons,
  kThrottled,
  kProcMem,
  kGpuChannelCount,
};

constexpr std::array<std::pair<std::string_view, std::string_view>, kGpuChannelCount>
    kGpuChannels{{
        {"util_pct", "%"},
        {"mem_util_pct", "%"},
        {"mem_used_bytes", "B"},
        {"mem_total_bytes", "B"},
        {"temp_c", "°C"},
        {"power_w", "W"},
        {"energy_j", "J"},
        {"sm_clock_mhz", "MHz"},
        {"mem_clock_mhz", "MHz"},
        {"throttle_reasons", "1"},
        {"throttled", "1"},
        {"proc_mem_bytes", "B"},
    }};

// Most compute processes one GPU may list before gpuN.proc_mem_bytes reads NaN for the sample.
constexpr unsigned kMaxProcesses = 1024;

// The "nvml" collector. Channels per GPU N (N = NVML index; a GPU whose handle cannot be had at
// construction gets none):
//   gpuN.util_pct, gpuN.mem_util_pct   nvmlDeviceGetUtilizationRates (% of the last period)
//   gpuN.mem_used_bytes, mem_total_bytes  nvmlDeviceGetMemoryInfo_v2 (used excludes reserved),
//                                      else v1 (used includes reserved); NaN when total is 0
//   gpuN.temp_c                        nvmlDeviceGetTemperature(NVML_TEMPERATURE_GPU)
//   gpuN.power_w                       nvmlDeviceGetPowerUsage (1 s average on Ampere+)
//   gpuN.energy_j                      nvmlDeviceGetTotalEnergyConsumption: a counter since the
//                                      driver was loaded (Volta+); consumers take deltas
//   gpuN.sm_clock_mhz, mem_clock_mhz   nvmlDeviceGetClockInfo
//   gpuN.throttle_reasons              clocks event reasons bitmask, as a double (exact)
//   gpuN.throttled                     1 when a bit of nvml::kThrottleReasonsMask is set, else 0
//   gpuN.proc_mem_bytes                GPU memory of compute contexts owned by the sampled pid
//                                      (options.pid, or this process); 0 when it has none. NVML
//                                      reports host pids: inside a pid namespace (container)
//                                      this reads 0.
// Any NVML error (NOT_SUPPORTED, NO_PERMISSION, GPU_IS_LOST, a missing symbol, ...) gives NaN
// for the channels that call feeds, never a made-up value.
//
// Thread-safety: sample() from one thread at a time (the sampler's); it allocates nothing.
class NvmlCollector final : public Collector {
 public:
  explicit NvmlCollector(const CollectorOptions& options)
      : library_(std::make_unique<NvmlLibrary>(options.nvml_library)),
        pid_(options.pid > 0 ? static_cast<unsigned>(options.pid)
                             : static_cast<unsigned>(getpid())) {
    if (!library_->available()) {
      reason_ = "not available: " + library_->reason();
      return;
    }
    const NvmlApi& api = library_->api();
    unsigned count = 0;
    if (const nvml::Return status = api.device_get_count(&count); status != nvml::kSuccess) {
      reason_ = "not available: nvmlDeviceGetCount_v2 failed: " + library_->error_string(status);
      return;
    }
    for (unsigned index = 0; index < count; ++index) {
      nvml::Device handle = nullptr;
      if (api.device_get_handle_by_index(index, &handle) != nvml::kSuccess) continue;
      devices_.push_back(handle);
      for (const auto& [suffix, unit] : kGpuChannels) {
        channels_.push_back(Channel{"gpu" + std::to_string(index) + "." + std::string(suffix),
                                    std::string(unit)});
      }
    }
    if (devices_.empty()) {
      reason_ = count == 0 ? "not available: NVML reports no NVIDIA GPU"
                           : "not available: no NVIDIA GPU could be opened (" + std::to_string(count) +
                                 " listed by NVML)";
      channels_.clear();
      return;
    }
    if (api.device_get_compute_running_processes != nullptr) {
      // Room for kMaxProcesses entries of up to 32 bytes each, whatever stride the driver
      // writes (24 expected), so that a driver writing a larger entry than we assume still
      // cannot write past the buffer. uint64_t elements keep the 8-byte alignment NVML needs.
      process_buffer_.resize(kMaxProcesses * 32 / sizeof(std::uint64_t));
    }
    memory_v2_ = api.device_get_memory_info_v2 != nullptr;
  }

  std::string_view name() const noexcept override { return "nvml"; }
  bool available() const noexcept override { return !devices_.empty(); }
  const std::string& reason() const noexcept override { return reason_; }
  const std::vector<Channel>& channels() const noexcept override { return channels_; }

  void sample(std::int64_t /*now_ns*/, std::span<double> out) noexcept override {
    if (out.size() < channels_.size()) {
      for (double& value : out) value = kNaN;
      return;
    }
    for (std::size_t d = 0; d < devices_.size(); ++d) {
      sample_device(devices_[d], out.subspan(d * kGpuChannelCount, kGpuChannelCount));
    }
  }

 private:
  void sample_device(nvml::Device device, std::span<double> out) noexcept {
    const NvmlApi& api = library_->api();
    for (double& value : out) value = kNaN;

    if (api.device_get_utilization_rates != nullptr) {
      nvml::Utilization utilization{};
      if (api.device_get_utilization_rates(device, &utilization) == nvml::kSuccess) {
        out[kUtil] = utilization.gpu;
        out[kMemUtil] = utilization.memory;
      }
    }
    sample_memory(device, out);
    if (unsigned celsius = 0; api.device_get_temperature != nullptr &&
                              api.device_get_temperature(device, nvml::kTemperatureGpu,
                                                         &celsius) == nvml::kSuccess) {
      out[kTemp] = celsius;
    }
    if (unsigned milliwatts = 0;
        api.device_get_power_usage != nullptr &&
        api.device_get_power_usage(device, &milliwatts) == nvml::kSuccess) {
      out[kPower] = milliwatts / 1e3;
    }
    if (unsigned long long millijoules = 0;
        api.device_get_total_energy_consumption != nullptr &&
        api.device_get_total_energy_consumption(device, &millijoules) == nvml::kSuccess) {
      out[kEnergy] = static_cast<double>(millijoules) / 1e3;
    }
    if (api.device_get_clock_info != nullptr) {
      if (unsigned mhz = 0; api.device_get_clock_info(device, nvml::kClockSm, &mhz) ==
                            nvml::kSuccess) {
        out[kSmClock] = mhz;
      }
      if (unsigned mhz = 0; api.device_get_clock_info(device, nvml::kClockMem, &mhz) ==
                            nvml::kSuccess) {
        out[kMemClock] = mhz;
      }
    }
    if (unsigned long long reasons = 0;
        api.device_get_clocks_event_reasons != nullptr &&
        api.device_get_clocks_event_reasons(device, &reasons) == nvml::kSuccess) {
      out[kThrottleReasons] = static_cast<double>(reasons);
      out[kThrottled] = (reasons & nvml::kThrottleReasonsMask) != 0 ? 1.0 : 0.0;
    }
    sample_process_memory(device, out);
  }

  void sample_memory(nvml::Device device, std::span<double> out) noexcept {
    const NvmlApi& api = library_->api();
    unsigned long long total = 0;
    unsigned long long used = 0;
    bool ok = false;
    if (memory_v2_) {
      nvml::MemoryV2 memory{};
      memory.version = nvml::kMemoryV2Version;
      const nvml::Return status = api.device_get_memory_info_v2(device, &memory);
      if (status == nvml::kSuccess) {
        total = memory.total;
        used = memory.used;
        ok = true;
      } else if (status == nvml::kErrorArgumentVersionMismatch ||
                 status == nvml::kErrorFunctionNotFound) {
        memory_v2_ = false;  // a driver that exports _v2 but not this version: use v1 from now on
      }
    }
    if (!memory_v2_ && api.device_get_memory_info != nullptr) {
      nvml::Memory memory{};
      if (api.device_get_memory_info(device, &memory) == nvml::kSuccess) {
        total = memory.total;
        used = memory.used;
        ok = true;
      }
    }
    if (ok && total != 0) {
      out[kMemUsed] = static_cast<double>(used);
      out[kMemTotal] = static_cast<double>(total);
    }
  }

  void sample_process_memory(nvml::Device device, std::span<double> out) noexcept {
    const NvmlApi& api = library_->api();
    if (process_buffer_.empty()) return;
    unsigned count = kMaxProcesses;
    const nvml::Return status =
        api.device_get_compute_running_processes(device, &count, process_buffer_.data());
    if (status != nvml::kSuccess || count > kMaxProcesses) return;  // INSUFFICIENT_SIZE: NaN
    const auto* bytes = reinterpret_cast<const unsigned char*>(process_buffer_.data());
    double total = 0;
    for (unsigned i = 0; i < count; ++i) {
      const unsigned char* entry = bytes + std::size_t{i} * api.process_info_stride;
      unsigned pid = 0;
      unsigned long long used = 0;
      std::memcpy(&pid, entry + offsetof(nvml::ProcessInfoV2, pid), sizeof(pid));
      std::memcpy(&used, entry + offsetof(nvml::ProcessInfoV2, used_gpu_memory), sizeof(used));
      if (pid != pid_) continue;
      if (used == nvml::kValueNotAvailable) return;  // NaN: the driver cannot tell (WDDM)
      total += static_cast<double>(used);
    }
    out[kProcMem] = total;
  }

  static_assert(offsetof(nvml::ProcessInfoV1, pid) == offsetof(nvml::ProcessInfoV2, pid));
  static_assert(offsetof(nvml::ProcessInfoV1, used_gpu_memory) ==
                offsetof(nvml::ProcessInfoV2, used_gpu_memory));

  std::unique_ptr<NvmlLibrary> library_;  // outlives devices_ (declared first)
  unsigned pid_;                          // the process gpuN.proc_mem_bytes reports
  std::string reason_;
  std::vector<nvml::Device> devices_;  // NVML handles, valid while library_ is
  std::vector<Channel> channels_;
  std::vector<std::uint64_t> process_buffer_;  // sampler thread only; sized once here
  bool memory_v2_ = false;                     // sampler thread only after construction
};

}  // namespace

std::unique_ptr<Collector> make_nvml_collector(const CollectorOptions& options) {
  return std::make_unique<NvmlCollector>(options);
}

}  // namespace trackiq::telemetry
