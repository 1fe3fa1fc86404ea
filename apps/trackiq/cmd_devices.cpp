// trackiq devices: what hardware is here (TEL-3).
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "trackiq/telemetry/devices.hpp"

namespace trackiq::cli {

Action setup_devices(CLI::App& sub) {
  struct Flags {
    bool json = false;
    std::string root = "/";
  };
  auto f = std::make_shared<Flags>();
  sub.footer(
      "List CPUs, memory, NVIDIA GPUs (through NVML, when a driver is installed) and Jetson/DRIVE boards\n"
      "(from /etc/nv_tegra_release), with stable ids: cpu0, mem0, gpu0…, jetson0. What cannot be probed says\n"
      "why; nothing is guessed.\n\n"
      "Examples:\n"
      "  trackiq devices\n"
      "  trackiq devices --json");
  sub.add_flag("--json", f->json, "Print JSON instead of a listing");
  sub.add_option("--root", f->root, "Read /etc and /proc under DIR (inspect a mounted board image)")->capture_default_str();
  return [f] {
    telemetry::CollectorOptions o;
    o.root = f->root;
    const auto r = telemetry::probe_devices(o);
    if (f->json) {
      std::cout << telemetry::devices_json(r);
      return kExitOk;
    }
    const auto& e = r.environment;
    fmt::print("cpu0     {} ({} logical CPUs, {} cores), governor: {}\n", e.cpu_model, e.cpu_logical,
               e.cpu_physical ? fmt::format("{}", e.cpu_physical) : std::string("?"), e.cpu_governor);
    fmt::print("mem0     {:.1f} GiB\n", static_cast<double>(e.memory_total_bytes) / (1024.0 * 1024 * 1024));
    if (e.gpus.empty()) fmt::print("gpu      {}\n", e.gpu_probe);
    for (const auto& g : e.gpus)
      fmt::print("{:<8} {} ({}), {}, driver {}\n", g.id, g.name,
                 g.memory_bytes ? fmt::format("{:.1f} GiB", static_cast<double>(g.memory_bytes) / (1024.0 * 1024 * 1024))
                                : std::string("memory not reported"),
                 g.uuid, g.driver);
    if (r.jetsons.empty()) fmt::print("jetson   {}\n", r.jetson_probe);
    for (const auto& j : r.jetsons)
      fmt::print("{:<8} {} (L4T {}, board {})\n", j.id, j.model.empty() ? "Jetson/DRIVE" : j.model, j.l4t, j.board);
    fmt::print("os       {}, kernel {}\n", e.os, e.kernel);
    return kExitOk;
  };
}

}  // namespace trackiq::cli
