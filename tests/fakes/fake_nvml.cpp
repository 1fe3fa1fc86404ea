// A stand-in libnvidia-ml.so.1 for the NVML collector's tests: exports the NVML C symbols
// TrackIQ resolves and serves scripted, deterministic values. Its own copies of the NVML types
// (not TrackIQ's), so a layout mistake on either side shows up as a test failure.
//
// Script, read from the environment when nvmlInit takes the first reference:
//   FAKE_NVML_INIT_ERROR=N      nvmlInit_v2 returns N (e.g. 9 = NVML_ERROR_DRIVER_NOT_LOADED)
//   FAKE_NVML_GPUS=N            number of GPUs, 0..8 (default 1)
//   FAKE_NVML_NOT_SUPPORTED=a,b functions answering NVML_ERROR_NOT_SUPPORTED: util, memory,
//                               temperature, power, energy, clocks, throttle, processes
//   FAKE_NVML_NO_ENERGY=1       same as listing "energy" above
//   FAKE_NVML_THROTTLE=MASK     clocks event reasons bitmask (strtoull base 0; default 0)
//   FAKE_NVML_EXTRA_PROCS=N     more processes listed on each GPU (default 0)
//
// Values for GPU g on the k-th call (k = 0, 1, 2, ...) of each function on that GPU:
//   utilisation gpu 10(k+1)+g %, memory 5(k+1)+g % (capped at 100)
//   memory total (16+8g) GiB; used (k+1) GiB (v2; v1 adds the 256 MiB reserved); free = rest
//   temperature 40+k+g °C; power 100000+10000g+1000k mW; energy 1e6(g+1)+5000k mJ
//   clocks SM 1410+g MHz, MEM 1215+g MHz; name "NVIDIA Fake GPU g";
//   UUID "GPU-00000000-0000-0000-0000-00000000000g"; driver "999.99.01"
//   compute processes: pid 4194305 with 64 MiB, this process with 256(g+1) MiB, then the extra
//   ones (1 MiB each; pids above Linux's maximum, so never the process under test)
//
// Test hook: fake_nvml_refcount() returns the nvmlInit/nvmlShutdown balance.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace {

using nvmlReturn_t = int;
struct nvmlDevice_st {
  unsigned index;
};
using nvmlDevice_t = nvmlDevice_st*;

struct nvmlUtilization_t {
  unsigned int gpu;
  unsigned int memory;
};
struct nvmlMemory_t {
  unsigned long long total, free, used;
};
struct nvmlMemory_v2_t {
  unsigned int version;
  unsigned long long total, reserved, free, used;
};
struct nvmlProcessInfo_v1_t {
  unsigned int pid;
  unsigned long long usedGpuMemory;
};
struct nvmlProcessInfo_v2_t {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
};

constexpr nvmlReturn_t kSuccess = 0;
constexpr nvmlReturn_t kUninitialized = 1;
constexpr nvmlReturn_t kInvalidArgument = 2;
constexpr nvmlReturn_t kNotSupported = 3;
constexpr nvmlReturn_t kInsufficientSize = 7;
constexpr nvmlReturn_t kArgumentVersionMismatch = 25;
constexpr unsigned kMemoryV2Version = sizeof(nvmlMemory_v2_t) | (2U << 24U);
constexpr unsigned long long kGiB = 1ULL << 30U;
constexpr unsigned long long kMiB = 1ULL << 20U;
constexpr unsigned kMaxGpus = 8;
// Above Linux's PID_MAX_LIMIT (2^22), so never the pid of the process under test.
constexpr unsigned kOtherPid = 4194305;

enum Function : unsigned { kUtil, kMemory, kTemperature, kPower, kEnergy, kClocks, kThrottle,
                           kProcesses, kFunctionCount };
constexpr const char* kFunctionNames[kFunctionCount] = {
    "util", "memory", "temperature", "power", "energy", "clocks", "throttle", "processes"};

std::atomic<int> g_refcount{0};
unsigned g_gpus = 1;
bool g_not_supported[kFunctionCount] = {};
unsigned long long g_throttle = 0;
unsigned g_extra_procs = 0;
nvmlDevice_st g_devices[kMaxGpus];
std::atomic<unsigned> g_calls[kMaxGpus][kFunctionCount];

unsigned long long env_number(const char* name, unsigned long long fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  return std::strtoull(text, nullptr, 0);
}

void load_script() {
  g_gpus = static_cast<unsigned>(env_number("FAKE_NVML_GPUS", 1));
  if (g_gpus > kMaxGpus) g_gpus = kMaxGpus;
  g_throttle = env_number("FAKE_NVML_THROTTLE", 0);
  g_extra_procs = static_cast<unsigned>(env_number("FAKE_NVML_EXTRA_PROCS", 0));
  const char* list = std::getenv("FAKE_NVML_NOT_SUPPORTED");
  for (unsigned f = 0; f < kFunctionCount; ++f) {
    const std::size_t length = std::strlen(kFunctionNames[f]);
    bool listed = false;
    for (const char* p = list; p != nullptr && *p != '\0';) {
      const char* comma = std::strchr(p, ',');
      const std::size_t token = comma != nullptr ? static_cast<std::size_t>(comma - p)
                                                 : std::strlen(p);
      if (token == length && std::strncmp(p, kFunctionNames[f], length) == 0) listed = true;
      p = comma != nullptr ? comma + 1 : nullptr;
    }
    g_not_supported[f] = listed;
  }
  if (env_number("FAKE_NVML_NO_ENERGY", 0) != 0) g_not_supported[kEnergy] = true;
  for (unsigned g = 0; g < kMaxGpus; ++g) {
    g_devices[g].index = g;
    for (auto& calls : g_calls[g]) calls.store(0);
  }
}

// The GPU index of a handle this library gave out, or -1.
int index_of(nvmlDevice_t device) {
  for (unsigned g = 0; g < g_gpus; ++g) {
    if (device == &g_devices[g]) return static_cast<int>(g);
  }
  return -1;
}

// Common checks; on success sets `g` and `k` (this call's number for that function and GPU).
nvmlReturn_t enter(nvmlDevice_t device, Function function, const void* out, unsigned& g,
                   unsigned& k) {
  if (g_refcount.load() <= 0) return kUninitialized;
  const int index = index_of(device);
  if (index < 0 || out == nullptr) return kInvalidArgument;
  if (g_not_supported[function]) return kNotSupported;
  g = static_cast<unsigned>(index);
  k = g_calls[g][function].fetch_add(1);
  return kSuccess;
}

nvmlReturn_t copy_string(const char* text, char* out, unsigned length) {
  if (out == nullptr) return kInvalidArgument;
  if (std::strlen(text) + 1 > length) return kInsufficientSize;
  std::strcpy(out, text);
  return kSuccess;
}

unsigned capped(unsigned value) { return value > 100 ? 100 : value; }

template <typename Info>
nvmlReturn_t processes(nvmlDevice_t device, unsigned* count, Info* infos) {
  if (g_refcount.load() <= 0) return kUninitialized;
  const int index = index_of(device);
  if (index < 0 || count == nullptr) return kInvalidArgument;
  if (g_not_supported[kProcesses]) return kNotSupported;
  const auto g = static_cast<unsigned>(index);
  const unsigned needed = 2 + g_extra_procs;
  if (*count < needed || infos == nullptr) {
    *count = needed;
    return kInsufficientSize;
  }
  for (unsigned i = 0; i < needed; ++i) {
    Info info{};
    if (i == 0) {
      info.pid = kOtherPid;
      info.usedGpuMemory = 64 * kMiB;
    } else if (i == 1) {
      info.pid = static_cast<unsigned>(getpid());
      info.usedGpuMemory = 256 * kMiB * (g + 1);
    } else {
      info.pid = kOtherPid + i;
      info.usedGpuMemory = kMiB;
    }
    infos[i] = info;
  }
  *count = needed;
  return kSuccess;
}

const char* error_text(nvmlReturn_t code) {
  switch (code) {
    case 0: return "Success";
    case 1: return "Uninitialized";
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case 9: return "Driver Not Loaded";
    case 15: return "GPU is lost";
    default: return "Unknown Error";
  }
}

}  // namespace

extern "C" {

int fake_nvml_refcount() { return g_refcount.load(); }

nvmlReturn_t nvmlInit_v2() {
  if (g_refcount.load() == 0) {
    load_script();
    if (const auto error = static_cast<nvmlReturn_t>(env_number("FAKE_NVML_INIT_ERROR", 0))) {
      return error;
    }
  }
  g_refcount.fetch_add(1);
  return kSuccess;
}

nvmlReturn_t nvmlInit() { return nvmlInit_v2(); }

nvmlReturn_t nvmlShutdown() {
  if (g_refcount.load() <= 0) return kUninitialized;
  g_refcount.fetch_sub(1);
  return kSuccess;
}

const char* nvmlErrorString(nvmlReturn_t code) { return error_text(code); }

nvmlReturn_t nvmlSystemGetDriverVersion(char* version, unsigned length) {
  if (g_refcount.load() <= 0) return kUninitialized;
  return copy_string("999.99.01", version, length);
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned* count) {
  if (g_refcount.load() <= 0) return kUninitialized;
  if (count == nullptr) return kInvalidArgument;
  *count = g_gpus;
  return kSuccess;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned index, nvmlDevice_t* device) {
  if (g_refcount.load() <= 0) return kUninitialized;
  if (index >= g_gpus || device == nullptr) return kInvalidArgument;
  *device = &g_devices[index];
  return kSuccess;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned length) {
  const int g = index_of(device);
  if (g_refcount.load() <= 0) return kUninitialized;
  if (g < 0) return kInvalidArgument;
  char text[32] = "NVIDIA Fake GPU ?";
  text[std::strlen(text) - 1] = static_cast<char>('0' + g);
  return copy_string(text, name, length);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned length) {
  const int g = index_of(device);
  if (g_refcount.load() <= 0) return kUninitialized;
  if (g < 0) return kInvalidArgument;
  char text[64] = "GPU-00000000-0000-0000-0000-00000000000?";
  text[std::strlen(text) - 1] = static_cast<char>('0' + g);
  return copy_string(text, uuid, length);
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t* utilization) {
  unsigned g = 0, k = 0;
  if (const nvmlReturn_t r = enter(device, kUtil, utilization, g, k); r != kSuccess) return r;
  utilization->gpu = capped(10 * (k + 1) + g);
  utilization->memory = capped(5 * (k + 1) + g);
  return kSuccess;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t* memory) {
  unsigned g = 0, k = 0;
  if (const nvmlReturn_t r = enter(device, kMemory, memory, g, k); r != kSuccess) return r;
  if (memory->version != kMemoryV2Version) return kArgumentVersionMismatch;
  memory->total = (16 + 8ULL * g) * kGiB;
  memory->reserved = 256 * kMiB;
  memory->used = (k + 1ULL) * kGiB;
  memory->free = memory->total - memory->reserved - memory->used;
  return kSuccess;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t* memory) {
  unsigned g = 0, k = 0;
  if (const nvmlReturn_t r = enter(device, kMemory, memory, g, k); r != kSuccess) return r;
  memory->total = (16 + 8ULL * g) * kGiB;
  memory->used = (k + 1ULL) * kGiB + 256 * kMiB;
  memory->free = memory->total - memory->used;
  return kSuccess;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor, unsigned* celsius) {
  unsigned g = 0, k = 0;
  if (const nvmlReturn_t r = enter(device, kTemperature, celsius, g, k); r != kSuccess) return r;
  if (sensor != 0) return kInvalidArgument;
  *celsius = 40 + k + g;
  return kSuccess;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned* milliwatts) {
  unsigned g = 0, k = 0;
  if (const nvmlReturn_t r = enter(device, kPower, milliwatts, g, k); r != kSuccess) return r;
  *milliwatts = 100000 + 10000 * g + 1000 * k;
  return kSuccess;
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device,
                                                 unsigned long long* millijoules) {
  unsigned g = 0, k = 0;
  if (const nvmlReturn_t r = enter(device, kEnergy, millijoules, g, k); r != kSuccess) return r;
  *millijoules = 1000000ULL * (g + 1) + 5000ULL * k;
  return kSuccess;
}

nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, int type, unsigned* mhz) {
  unsigned g = 0, k = 0;
  if (const nvmlReturn_t r = enter(device, kClocks, mhz, g, k); r != kSuccess) return r;
  if (type == 1) {
    *mhz = 1410 + g;
  } else if (type == 2) {
    *mhz = 1215 + g;
  } else {
    return kInvalidArgument;
  }
  return kSuccess;
}

nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device,
                                                    unsigned long long* reasons) {
  unsigned g = 0, k = 0;
  if (const nvmlReturn_t r = enter(device, kThrottle, reasons, g, k); r != kSuccess) return r;
  *reasons = g_throttle;
  return kSuccess;
}

nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device,
                                                       unsigned long long* reasons) {
  return nvmlDeviceGetCurrentClocksEventReasons(device, reasons);
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned* count,
                                                     nvmlProcessInfo_v2_t* infos) {
  return processes(device, count, infos);
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device, unsigned* count,
                                                     nvmlProcessInfo_v2_t* infos) {
  return processes(device, count, infos);
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device, unsigned* count,
                                                  nvmlProcessInfo_v1_t* infos) {
  return processes(device, count, infos);
}

}  // extern "C"
