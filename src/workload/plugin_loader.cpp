// Finding, loading and checking engine plugins (include/trackiq/workload/plugin.hpp).
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "backends.hpp"
#include "trackiq/core/version.hpp"
#include "trackiq/workload/plugin.hpp"

#ifndef TRACKIQ_INTERFACE_HASH
#error "TRACKIQ_INTERFACE_HASH must be defined by the build (src/workload/CMakeLists.txt)"
#endif

namespace trackiq::workload {
namespace fs = std::filesystem;

namespace {

void add_dir(std::vector<std::string>& dirs, const fs::path& dir) {
  if (dir.empty()) return;
  const std::string d = dir.lexically_normal().string();
  for (const auto& seen : dirs)
    if (seen == d) return;
  dirs.push_back(d);
}

LoadedPlugin load(const std::string& name) {
  LoadedPlugin out;
  const std::string file_name = plugin_file_name(name);
  const auto dirs = backend_search_path();
  std::string path;
  for (const auto& dir : dirs) {
    std::error_code ec;
    const fs::path candidate = fs::path(dir) / file_name;
    if (fs::exists(candidate, ec)) {
      path = candidate.string();
      break;
    }
  }
  if (path.empty()) {
    out.reason = fmt::format("{} not found (searched: {}; set TRACKIQ_BACKEND_PATH to the folder that holds it)",
                             file_name, dirs.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(dirs, ", ")));
    return out;
  }
  out.file = path;
  // RTLD_LOCAL: the engine's symbols stay out of the global scope (two plugins may bring
  // different copies of a common library). Never closed: see plugin.hpp.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    out.reason = fmt::format("cannot load {}: {}", path, err ? err : "unknown dlopen error");
    return out;
  }
  dlerror();
  auto* entry = reinterpret_cast<trackiq_backend_plugin_fn>(dlsym(handle, TRACKIQ_BACKEND_PLUGIN_SYMBOL));
  if (entry == nullptr) {
    out.reason = fmt::format("{} is not a TrackIQ backend plugin (no {} symbol)", path, TRACKIQ_BACKEND_PLUGIN_SYMBOL);
    return out;
  }
  const BackendPlugin* p = entry();
  if (p == nullptr) {
    out.reason = fmt::format("{}: {}() returned no plugin", path, TRACKIQ_BACKEND_PLUGIN_SYMBOL);
    return out;
  }
  if (p->abi != kBackendPluginAbi) {
    out.reason = fmt::format("{} has plugin ABI {}, this trackiq needs ABI {}: rebuild the plugin with this TrackIQ",
                             path, p->abi, kBackendPluginAbi);
    return out;
  }
  const auto str = [](const char* s) { return std::string(s ? s : "?"); };
  const std::string host_version(version());
  if (str(p->trackiq_version) != host_version || str(p->interface_hash) != TRACKIQ_INTERFACE_HASH ||
      str(p->compiler) != __VERSION__) {
    out.reason = fmt::format(
        "{} was built from TrackIQ {} (interface {}, compiler {}) but this is TrackIQ {} (interface {}, compiler {}): "
        "use the plugin built with this trackiq",
        path, str(p->trackiq_version), str(p->interface_hash), str(p->compiler), host_version, TRACKIQ_INTERFACE_HASH,
        __VERSION__);
    return out;
  }
  if (str(p->name) != name || p->make == nullptr) {
    out.reason = fmt::format("{} describes itself as backend '{}', expected '{}'", path, str(p->name), name);
    return out;
  }
  out.plugin = p;
  return out;
}

}  // namespace

std::string plugin_file_name(const std::string& name) { return "libtrackiq_backend_" + name + ".so"; }

std::vector<std::string> backend_search_path() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("TRACKIQ_BACKEND_PATH")) {
    std::string_view rest(env);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      add_dir(dirs, fs::path(std::string(rest.substr(0, colon))));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  // Beside the running program (the build tree's bin/), then the install tree's plugin folder
  // relative to it (PREFIX/bin/trackiq -> PREFIX/LIBDIR/trackiq), then the configured one.
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && exe.has_parent_path()) {
    add_dir(dirs, exe.parent_path());
    add_dir(dirs, exe.parent_path() / ".." / TRACKIQ_PLUGIN_RELDIR);
  }
  add_dir(dirs, fs::path(TRACKIQ_PLUGIN_INSTALL_DIR));
  return dirs;
}

const LoadedPlugin& load_backend_plugin(const std::string& name) {
  // Loaded once per process: later workloads of the same engine reuse the handle.
  static std::mutex mu;
  static std::map<std::string, LoadedPlugin> loaded;
  std::lock_guard lock(mu);
  auto it = loaded.find(name);
  if (it == loaded.end()) it = loaded.emplace(name, load(name)).first;
  return it->second;
}

}  // namespace trackiq::workload
