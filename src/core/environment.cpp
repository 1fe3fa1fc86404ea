#include "trackiq/core/environment.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "trackiq/core/hash.hpp"
#include "trackiq/core/version.hpp"

namespace trackiq {

namespace {

std::optional<std::string> read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

void read_cpuinfo(Environment& env) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  std::set<std::pair<std::string, std::string>> cores;
  std::string physical_id = "0";
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon));
    const std::string value = trim(line.substr(colon + 1));
    if (key == "model name" && env.cpu_model.empty()) env.cpu_model = value;
    else if (key == "Model" && env.cpu_model.empty()) env.cpu_model = value;  // some ARM kernels
    else if (key == "physical id") physical_id = value;
    else if (key == "core id") cores.emplace(physical_id, value);
  }
  env.cpu_physical = static_cast<std::uint32_t>(cores.size());
  if (env.cpu_model.empty()) env.cpu_model = "unknown (no model name in /proc/cpuinfo)";
}

std::uint64_t read_mem_total() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemTotal:") return kib * 1024;
  }
  return 0;
}

std::string read_os_pretty_name() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'')) v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "unknown (no /etc/os-release)";
}

}  // namespace

Environment capture_environment() {
  Environment env;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) env.hostname = host;
  read_cpuinfo(env);
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  env.cpu_logical = online > 0 ? static_cast<std::uint32_t>(online) : std::thread::hardware_concurrency();
  if (auto gov = read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"))
    env.cpu_governor = trim(*gov);
  else
    env.cpu_governor = "not available: no cpufreq scaling_governor (virtual machine or cpufreq disabled)";
  if (auto f = read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")) {
    try {
      env.cpu_max_freq_mhz = std::stod(*f) / 1000.0;
    } catch (const std::exception&) {
    }
  }
  env.memory_total_bytes = read_mem_total();
  env.os = read_os_pretty_name();
  struct utsname u {};
  if (uname(&u) == 0) {
    env.kernel = u.release;
    env.arch = u.machine;
  }
  env.gpu_probe = "not available: not probed here (telemetry::describe_gpus probes NVML)";
  env.trackiq_version = std::string(version());
#if defined(__clang__)
  env.compiler = fmt::format("Clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
  env.compiler = fmt::format("GCC {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
  env.compiler = "unknown";
#endif
  env.build_type = std::string(build_type());
  env.debug_build = !is_optimized_build();
  env.sanitizers = std::string(sanitizers());
  update_fingerprint(env);
  return env;
}

void update_fingerprint(Environment& env) {
  std::ostringstream key;
  key << env.cpu_model << '|' << env.cpu_logical << '|' << env.cpu_physical << '|'
      << env.memory_total_bytes / (1024 * 1024 * 256) << '|' << env.arch;
  for (const auto& g : env.gpus) key << '|' << g.name << '|' << g.memory_bytes;
  env.hardware_fingerprint = stable_hash_hex(key.str());
}

}  // namespace trackiq
