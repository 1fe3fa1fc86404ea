#include "trackiq/telemetry/devices.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "paths.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/telemetry/nvml.hpp"

namespace trackiq::telemetry {
namespace {


std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\0' || s.back() == '\r')) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && s[b] == ' ') ++b;
  return s.substr(b);
}

// "KEY: value" inside the comma-separated release line.
std::string field(const std::string& line, const std::string& key) {
  const auto pos = line.find(key + ":");
  if (pos == std::string::npos) return {};
  const auto start = pos + key.size() + 1;
  const auto end = line.find(',', start);
  return trim(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
}

}  // namespace

JetsonInfo parse_nv_tegra_release(const std::string& text, const std::string& origin) {
  const std::string line = trim(text.substr(0, text.find('\n')));
  // "# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, DATE: ..."
  if (line.rfind("# R", 0) != 0)
    throw InputError(origin, 1, "expected '# R<major> (release), REVISION: <minor>, ...'");
  const auto sp = line.find(' ', 3);
  const std::string major = line.substr(3, sp == std::string::npos ? std::string::npos : sp - 3);
  if (major.empty() || major.find_first_not_of("0123456789") != std::string::npos)
    throw InputError(origin, 1, "no release number after '# R'");
  JetsonInfo j;
  j.id = "jetson0";
  j.release_line = line;
  const std::string rev = field(line, "REVISION");
  j.l4t = "R" + major + (rev.empty() ? "" : "." + rev);
  j.board = field(line, "BOARD");
  return j;
}

void describe_gpus(Environment& env, const std::string& nvml_library) {
  const NvmlProbe probe = probe_nvml(nvml_library);
  env.gpus.clear();
  if (!probe.available) {
    env.gpu_probe = probe.reason.rfind("not available", 0) == 0 ? probe.reason : "not available: " + probe.reason;
  } else {
    for (const auto& d : probe.devices)
      env.gpus.push_back({d.id, d.name, probe.driver_version, d.memory_total_bytes.value_or(0), d.uuid});
    env.gpu_probe = probe.devices.empty() ? "NVML " + probe.driver_version + ": no GPU found"
                                          : "NVML, driver " + probe.driver_version;
  }
  update_fingerprint(env);
}

DeviceReport probe_devices(const CollectorOptions& o) {
  DeviceReport r;
  r.environment = capture_environment();
  describe_gpus(r.environment, o.nvml_library);
  const std::string release = under(o.root, "/etc/nv_tegra_release");
  std::ifstream in(release);
  if (!in) {
    r.jetson_probe = "not available: no " + release + " (not a Jetson/DRIVE board)";
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    JetsonInfo j = parse_nv_tegra_release(ss.str(), release);
    std::ifstream model(under(o.root, "/proc/device-tree/model"));
    std::string m;
    std::getline(model, m, '\0');
    j.model = trim(m);
    r.jetsons.push_back(j);
  } catch (const InputError& e) {
    r.jetson_probe = std::string("not available: ") + e.what();
  }
  return r;
}

std::string devices_json(const DeviceReport& r) {
  using Json = nlohmann::ordered_json;
  const auto& e = r.environment;
  Json j;
  j["cpus"] = Json::array({Json{{"id", "cpu0"},
                                {"model", e.cpu_model},
                                {"logical_cpus", e.cpu_logical},
                                {"physical_cores", e.cpu_physical},
                                {"governor", e.cpu_governor},
                                {"max_freq_mhz", e.cpu_max_freq_mhz ? Json(*e.cpu_max_freq_mhz) : Json(nullptr)}}});
  j["memory"] = {{"id", "mem0"}, {"total_bytes", e.memory_total_bytes}};
  Json gpus = Json::array();
  for (const auto& g : e.gpus)
    gpus.push_back({{"id", g.id}, {"name", g.name}, {"uuid", g.uuid}, {"driver", g.driver}, {"memory_bytes", g.memory_bytes}});
  j["gpus"] = gpus;
  j["gpu_probe"] = e.gpu_probe;
  Json jetsons = Json::array();
  for (const auto& t : r.jetsons)
    jetsons.push_back({{"id", t.id}, {"model", t.model}, {"l4t", t.l4t}, {"board", t.board}, {"release", t.release_line}});
  j["jetsons"] = jetsons;
  j["jetson_probe"] = r.jetson_probe;
  j["os"] = e.os;
  j["kernel"] = e.kernel;
  j["hostname"] = e.hostname;
  return j.dump(2) + "\n";
}

}  // namespace trackiq::telemetry
