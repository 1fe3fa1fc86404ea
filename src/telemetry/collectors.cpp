// Linux collectors: /proc and /sys, read under CollectorOptions::root so tests can use a fake
// tree. Every path is resolved and opened at construction; sample() reads each file with one
// pread() through a descriptor kept open (ProcFile), into a buffer the collector owns, and
// parses: no allocation and no path lookup after construction.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <string>

#include <fmt/format.h>

#include "paths.hpp"
#include "proc_file.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/telemetry/collector.hpp"

namespace trackiq::telemetry {
namespace {

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();


// Reads a whole small file into `buf`; returns the bytes read, or -1 (missing, EACCES, EINVAL
// from a gated sensor, ...). For construction; sample() reads through ProcFile.
ssize_t read_into(const std::string& path, char* buf, std::size_t cap) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  std::size_t got = 0;
  while (got + 1 < cap) {
    const ssize_t n = ::read(fd, buf + got, cap - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return -1;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  buf[got] = '\0';
  return static_cast<ssize_t>(got);
}

// The first number in a small file (e.g. sysfs "45000\n"); NaN when unreadable.
double read_number(const std::string& path) {
  char buf[64];
  const ssize_t n = read_into(path, buf, sizeof buf);
  if (n <= 0) return kNaN;
  double v = 0;
  const char* p = buf;
  while (*p == ' ') ++p;
  auto [end, ec] = std::from_chars(p, buf + n, v);
  return ec == std::errc() && end != p ? v : kNaN;
}

std::string read_text(const std::string& path) {
  char buf[256];
  const ssize_t n = read_into(path, buf, sizeof buf);
  if (n <= 0) return {};
  std::string s(buf, static_cast<std::size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Parses unsigned integers separated by spaces from [p, end); returns how many were read.
std::size_t parse_u64s(const char* p, const char* end, std::uint64_t* out, std::size_t max) {
  std::size_t n = 0;
  while (p < end && n < max) {
    while (p < end && *p == ' ') ++p;
    if (p >= end || *p == '\n') break;
    auto [next, ec] = std::from_chars(p, end, out[n]);
    if (ec != std::errc()) break;
    ++n;
    p = next;
  }
  return n;
}

// Value of "Key:   123 kB" lines in a /proc key-value file, in the file's unit.
double keyed_value(const char* text, const char* key) {
  const std::size_t klen = std::strlen(key);
  for (const char* line = text; *line;) {
    if (std::strncmp(line, key, klen) == 0 && line[klen] == ':') {
      const char* p = line + klen + 1;
      while (*p == ' ' || *p == '\t') ++p;
      double v = 0;
      auto [end, ec] = std::from_chars(p, p + std::strlen(p), v);
      if (ec == std::errc() && end != p) return v;
      return kNaN;
    }
    const char* nl = std::strchr(line, '\n');
    if (!nl) break;
    line = nl + 1;
  }
  return kNaN;
}

// Keeps names unique: "x", "x_1", "x_2"...
std::string unique_name(std::map<std::string, int>& seen, const std::string& name) {
  const int n = seen[name]++;
  return n == 0 ? name : fmt::format("{}_{}", name, n);
}

std::string sanitize(std::string s) {
  for (char& c : s)
    if (c == ' ' || c == '.' || c == '/') c = '_';
  return s;
}

class BaseCollector : public Collector {
 public:
  bool available() const noexcept override { return reason_.empty(); }
  const std::string& reason() const noexcept override { return reason_; }
  const std::vector<Channel>& channels() const noexcept override { return channels_; }

 protected:
  void unavailable(std::string why) {
    reason_ = "not available: " + std::move(why);
    channels_.clear();
  }
  std::string reason_;
  std::vector<Channel> channels_;
};

// ---- cpu: /proc/stat deltas. idle = idle + iowait; guest/guest_nice are excluded from the
// total (the kernel already counts them in user/nice); steal counts as busy (time the CPU was
// not ours); negative deltas clamp to 0; a change in the number of CPU lines (hot-plug)
// resets, and the first sample has no value.
class CpuCollector final : public BaseCollector {
 public:
  explicit CpuCollector(const CollectorOptions& o) : stat_(under(o.root, "/proc/stat")), buf_(1 << 16) {
    const ssize_t n = stat_.read(buf_.data(), buf_.size());
    if (n <= 0) {
      unavailable(stat_.path() + " is not readable");
      return;
    }
    cpus_ = count_cpu_lines(buf_.data());
    channels_.push_back({"cpu.util_pct", "%"});
    for (std::size_t i = 0; i < cpus_; ++i) channels_.push_back({fmt::format("cpu{}.util_pct", i), "%"});
    for (std::size_t i = 0; i < cpus_; ++i) {
      const std::string f = under(o.root, fmt::format("/sys/devices/system/cpu/cpu{}/cpufreq/scaling_cur_freq", i));
      if (fs::exists(f)) {
        freq_.emplace_back(f);
        freq_cpu_.push_back(i);
        channels_.push_back({fmt::format("cpu{}.freq_mhz", i), "MHz"});
      }
    }
    prev_.assign(cpus_ + 1, {});
  }
  std::string_view name() const noexcept override { return "cpu"; }

  void sample(std::int64_t, std::span<double> out) noexcept override {
    std::fill(out.begin(), out.end(), kNaN);
    if (stat_.read(buf_.data(), buf_.size()) <= 0) return;
    if (count_cpu_lines(buf_.data()) != cpus_) {  // hot-plug: start over
      for (auto& p : prev_) p = {};
      return;
    }
    std::size_t slot = 0;
    for (const char* line = buf_.data(); *line && slot <= cpus_;) {
      if (std::strncmp(line, "cpu", 3) != 0) break;
      const char* fields = std::strchr(line, ' ');
      const char* nl = std::strchr(line, '\n');
      if (!fields || !nl) break;
      std::uint64_t v[10] = {};
      const std::size_t k = parse_u64s(fields, nl, v, 10);
      // user nice system idle iowait irq softirq steal guest guest_nice
      const std::uint64_t idle = v[3] + (k > 4 ? v[4] : 0);
      std::uint64_t total = 0;
      for (std::size_t i = 0; i < std::min<std::size_t>(k, 8); ++i) total += v[i];
      Prev& p = prev_[slot];
      if (p.valid) {
        const double dt = total > p.total ? static_cast<double>(total - p.total) : 0.0;
        const double di = idle > p.idle ? static_cast<double>(idle - p.idle) : 0.0;
        if (dt > 0) out[slot] = std::clamp(100.0 * (dt - std::min(di, dt)) / dt, 0.0, 100.0);
      }
      p = {total, idle, true};
      ++slot;
      line = nl + 1;
    }
    for (std::size_t i = 0; i < freq_.size(); ++i) out[1 + cpus_ + i] = freq_[i].read_number() / 1000.0;  // kHz -> MHz
  }

 private:
  struct Prev {
    std::uint64_t total = 0, idle = 0;
    bool valid = false;
  };
  static std::size_t count_cpu_lines(const char* text) {
    std::size_t n = 0;
    for (const char* line = text; *line;) {
      if (std::strncmp(line, "cpu", 3) == 0 && line[3] >= '0' && line[3] <= '9') ++n;
      const char* nl = std::strchr(line, '\n');
      if (!nl) break;
      line = nl + 1;
    }
    return n;
  }
  ProcFile stat_;
  std::vector<char> buf_;
  std::size_t cpus_ = 0;
  std::vector<ProcFile> freq_;
  std::vector<std::size_t> freq_cpu_;
  std::vector<Prev> prev_;  // [0] aggregate, [1..] per CPU
};

// ---- memory: /proc/meminfo. used = MemTotal - MemAvailable (as btop/nvtop).
class MemoryCollector final : public BaseCollector {
 public:
  explicit MemoryCollector(const CollectorOptions& o) : meminfo_(under(o.root, "/proc/meminfo")) {
    char buf[8192];
    if (meminfo_.read(buf, sizeof buf) <= 0) {
      unavailable(meminfo_.path() + " is not readable");
      return;
    }
    if (std::isnan(keyed_value(buf, "MemAvailable"))) {
      unavailable(meminfo_.path() + " has no MemAvailable (kernel older than 3.14)");
      return;
    }
    channels_ = {{"mem.total_bytes", "B"}, {"mem.available_bytes", "B"}, {"mem.used_bytes", "B"},
                 {"mem.used_pct", "%"},    {"swap.total_bytes", "B"},    {"swap.used_bytes", "B"}};
  }
  std::string_view name() const noexcept override { return "memory"; }
  void sample(std::int64_t, std::span<double> out) noexcept override {
    std::fill(out.begin(), out.end(), kNaN);
    char buf[8192];
    if (meminfo_.read(buf, sizeof buf) <= 0) return;
    const double total = keyed_value(buf, "MemTotal") * 1024, avail = keyed_value(buf, "MemAvailable") * 1024;
    const double swap_total = keyed_value(buf, "SwapTotal") * 1024, swap_free = keyed_value(buf, "SwapFree") * 1024;
    out[0] = total;
    out[1] = avail;
    out[2] = total - avail;
    out[3] = total > 0 ? 100.0 * (total - avail) / total : kNaN;
    out[4] = swap_total;
    out[5] = swap_total - swap_free;
  }

 private:
  ProcFile meminfo_;
};

// ---- process: RSS, peak RSS (VmHWM), threads, CPU % and cumulative CPU time of one process.
// Another process (CollectorOptions::pid), or any process under a fake root: /proc/<pid>/status
// (VmRSS, VmHWM, Threads) and /proc/<pid>/stat (utime + stime, in clock ticks).
// This process on the real /proc: CPU time from getrusage(RUSAGE_SELF) (the same utime + stime
// as stat's, in µs instead of 10 ms ticks), and once getrusage() is shown to give VmHWM (see
// sample_self()), the other three from sources that are cheaper than generating status (~60 lines,
// the costliest read of a sample): the RSS from /proc/<pid>/statm (the kernel computes statm's
// resident and status's VmRSS from the same counters), the peak from ru_maxrss, and the thread
// count from the link count of /proc/<pid>/task, which procfs reports as 2 + the threads
// (proc_task_getattr(); Threads in status is the same get_nr_threads()).
class ProcessCollector final : public BaseCollector {
 public:
  explicit ProcessCollector(const CollectorOptions& o) {
    const int pid = o.pid > 0 ? o.pid : static_cast<int>(::getpid());
    status_ = ProcFile(under(o.root, fmt::format("/proc/{}/status", pid)));
    char buf[4096];
    if (status_.read(buf, sizeof buf) <= 0) {
      unavailable(fmt::format("no process {} ({} is not readable)", pid, status_.path()));
      return;
    }
    // proc.cpu_time_s: utime + stime since the process started, so that a consumer can take the
    // exact CPU time between two samples (the tracker's per-request attribution, LIB-2).
    channels_ = {{"proc.rss_bytes", "B"}, {"proc.rss_peak_bytes", "B"}, {"proc.threads", "1"}, {"proc.cpu_pct", "%"},
                 {"proc.cpu_time_s", "s"}};
    self_ = pid == static_cast<int>(::getpid()) && (o.root.empty() || o.root == "/");
    if (!self_) {
      stat_ = ProcFile(under(o.root, fmt::format("/proc/{}/stat", pid)));
      ticks_per_s_ = static_cast<double>(::sysconf(_SC_CLK_TCK));
      return;
    }
    page_bytes_ = static_cast<double>(::sysconf(_SC_PAGESIZE));
    statm_ = ProcFile(fmt::format("/proc/{}/statm", pid));
    task_dir_ = ::open(fmt::format("/proc/{}/task", pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  ~ProcessCollector() override {
    if (task_dir_ >= 0) ::close(task_dir_);
  }
  ProcessCollector(const ProcessCollector&) = delete;
  ProcessCollector& operator=(const ProcessCollector&) = delete;

  std::string_view name() const noexcept override { return "process"; }
  void sample(std::int64_t now_ns, std::span<double> out) noexcept override {
    std::fill(out.begin(), out.end(), kNaN);
    if (self_) sample_self(out);
    else sample_other(out);
    const double cpu_s = cpu_s_;
    if (std::isnan(cpu_s)) return;
    out[4] = cpu_s;
    if (prev_ns_ > 0 && now_ns > prev_ns_)
      out[3] = std::max(0.0, 100.0 * (cpu_s - prev_cpu_s_) / (static_cast<double>(now_ns - prev_ns_) / 1e9));
    prev_ns_ = now_ns;
    prev_cpu_s_ = cpu_s;
  }

 private:
  void sample_other(std::span<double> out) noexcept {
    char buf[4096];
    cpu_s_ = kNaN;
    if (status_.read(buf, sizeof buf) > 0) read_status(buf, out);
    const ssize_t n = stat_.read(buf, sizeof buf);
    if (n <= 0) return;
    // Fields after the last ')' (comm may hold spaces and parentheses): state is field 3,
    // utime/stime are fields 14/15, i.e. the 12th and 13th after the state.
    const char* p = std::strrchr(buf, ')');
    if (!p || p[1] != ' ') return;
    p += 2;
    int field = 3;
    std::uint64_t utime = 0, stime = 0;
    while (*p && field <= 15) {
      const char* sp = std::strchr(p, ' ');
      if (!sp) break;
      if (field == 14) std::from_chars(p, sp, utime);
      if (field == 15) std::from_chars(p, sp, stime);
      ++field;
      p = sp + 1;
    }
    cpu_s_ = static_cast<double>(utime + stime) / ticks_per_s_;
  }

  void sample_self(std::span<double> out) noexcept {
    rusage ru{};
    const bool have_ru = ::getrusage(RUSAGE_SELF, &ru) == 0;
    cpu_s_ = have_ru ? seconds(ru.ru_utime) + seconds(ru.ru_stime) : kNaN;
    const double peak_from_ru = have_ru ? static_cast<double>(ru.ru_maxrss) * 1024 : kNaN;
    char buf[4096];
    if (fast_) {
      if (statm_.read(buf, sizeof buf) > 0) {
        std::uint64_t pages[2] = {};  // "size resident shared text lib data dt", in pages
        if (parse_u64s(buf, buf + std::strlen(buf), pages, 2) == 2) out[0] = static_cast<double>(pages[1]) * page_bytes_;
      }
      out[1] = std::isnan(out[0]) ? peak_from_ru : std::max(peak_from_ru, out[0]);
      out[2] = threads_from_task_dir();
      return;
    }
    if (status_.read(buf, sizeof buf) <= 0) return;
    read_status(buf, out);
    // ru_maxrss is max(VmHWM, the peak of the image this process was exec'd from: a program
    // started by a 300 MB Python parent reads ~300 MB at first). Once a ru_maxrss read after a
    // VmHWM is <= it, the inherited part can never be the maximum again and ru_maxrss (kB, like
    // VmHWM) is VmHWM from then on. The current RSS joins the max in the fast path because
    // VmHWM includes it too (the kernel raises its high-water mark lazily). The switch also
    // checks the thread count against Threads (a thread started in between: next sample).
    rusage after{};
    if (statm_.is_open() && !std::isnan(out[1]) && ::getrusage(RUSAGE_SELF, &after) == 0 &&
        static_cast<double>(after.ru_maxrss) * 1024 <= out[1] && threads_from_task_dir() == out[2]) {
      fast_ = true;
      status_ = ProcFile();  // not read again
    }
  }

  double threads_from_task_dir() const noexcept {
    struct stat st {};
    if (task_dir_ < 0 || ::fstat(task_dir_, &st) != 0 || st.st_nlink < 3) return kNaN;
    return static_cast<double>(st.st_nlink - 2);
  }
  static void read_status(const char* buf, std::span<double> out) noexcept {
    out[0] = keyed_value(buf, "VmRSS") * 1024;
    out[1] = keyed_value(buf, "VmHWM") * 1024;
    out[2] = keyed_value(buf, "Threads");
  }
  static double seconds(const timeval& tv) noexcept {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  }

  ProcFile status_, stat_, statm_;
  int task_dir_ = -1;  // self_: /proc/<pid>/task, for its link count
  bool self_ = false;  // this process, on the real /proc
  bool fast_ = false;  // self_, and ru_maxrss has been shown to be VmHWM: statm + getrusage + fstat
  double page_bytes_ = 4096;
  double ticks_per_s_ = 100;
  double cpu_s_ = kNaN;  // this sample's process CPU time (s)
  std::int64_t prev_ns_ = 0;
  double prev_cpu_s_ = 0;
};

// ---- thermal: thermal zones and hwmon temp*_input, in millidegrees C. A sensor that fails to
// read (gated, EINVAL/ENODATA, or gone) gives NaN for that sample.
class ThermalCollector final : public BaseCollector {
 public:
  explicit ThermalCollector(const CollectorOptions& o) {
    std::map<std::string, int> seen;
    const fs::path zones = under(o.root, "/sys/class/thermal");
    std::error_code ec;
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(zones, ec))
      if (e.path().filename().string().rfind("thermal_zone", 0) == 0) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs) {
      if (!fs::exists(d / "temp")) continue;
      std::string type = read_text((d / "type").string());
      if (type.empty()) type = d.filename().string();
      sensors_.emplace_back((d / "temp").string());
      channels_.push_back({"thermal." + unique_name(seen, sanitize(type)) + ".temp_c", "°C"});
    }
    add_hwmon(o.root, seen);
    if (sensors_.empty()) unavailable("no thermal zones or hwmon temperature sensors under " + under(o.root, "/sys/class"));
  }
  std::string_view name() const noexcept override { return "thermal"; }
  void sample(std::int64_t, std::span<double> out) noexcept override {
    for (std::size_t i = 0; i < sensors_.size(); ++i) out[i] = sensors_[i].read_number() / 1000.0;
  }

 private:
  void add_hwmon(const std::string& root, std::map<std::string, int>& seen) {
    std::error_code ec;
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(under(root, "/sys/class/hwmon"), ec)) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs) {
      const std::string chip = sanitize(read_text((d / "name").string()));
      std::vector<std::string> inputs;
      for (const auto& f : fs::directory_iterator(d, ec)) {
        const std::string n = f.path().filename().string();
        if (n.rfind("temp", 0) == 0 && n.size() > 10 && n.substr(n.size() - 6) == "_input") inputs.push_back(n);
      }
      std::sort(inputs.begin(), inputs.end());
      for (const auto& in : inputs) {
        const std::string stem = in.substr(0, in.size() - 6);
        std::string label = read_text((d / (stem + "_label")).string());
        if (label.empty()) label = stem;
        sensors_.emplace_back((d / in).string());
        channels_.push_back({"hwmon." + unique_name(seen, (chip.empty() ? d.filename().string() : chip) + "." +
                                                              sanitize(label)) + ".temp_c",
                             "°C"});
      }
    }
  }
  std::vector<ProcFile> sensors_;
};

// ---- power: RAPL energy counters (µJ, wrapping at max_energy_range_uj) → W over each sample
// interval and J since the first sample; hwmon power*_input (µW) → W.
class PowerCollector final : public BaseCollector {
 public:
  explicit PowerCollector(const CollectorOptions& o) {
    std::error_code ec;
    std::vector<fs::path> zones;
    for (const auto& e : fs::directory_iterator(under(o.root, "/sys/class/powercap"), ec))
      if (e.path().filename().string().rfind("intel-rapl:", 0) == 0) zones.push_back(e.path());
    std::sort(zones.begin(), zones.end());
    std::map<std::string, int> seen;
    std::string denied;
    for (const auto& z : zones) {
      const std::string energy = (z / "energy_uj").string();
      if (!fs::exists(energy)) continue;
      if (std::isnan(read_number(energy))) {
        denied = energy;
        continue;
      }
      Rapl r;
      r.energy = ProcFile(energy);
      r.max_range_uj = read_number((z / "max_energy_range_uj").string());
      // Sub-zones (intel-rapl:0:0) are parts of a package: they do not add to the total.
      const std::string id = z.filename().string();
      r.top_level = std::count(id.begin(), id.end(), ':') == 1;
      std::string nm = sanitize(read_text((z / "name").string()));
      if (nm.empty()) nm = id;
      nm = unique_name(seen, nm);
      r.channel = channels_.size();
      channels_.push_back({"power.rapl." + nm + ".w", "W"});
      channels_.push_back({"energy.rapl." + nm + ".j", "J"});
      rapl_.push_back(std::move(r));
    }
    for (const auto& d : fs::directory_iterator(under(o.root, "/sys/class/hwmon"), ec)) {
      for (const auto& f : fs::directory_iterator(d.path(), ec)) {
        const std::string n = f.path().filename().string();
        if (n.rfind("power", 0) == 0 && n.size() > 11 && n.substr(n.size() - 6) == "_input") {
          const std::string chip = sanitize(read_text((d.path() / "name").string()));
          hwmon_.emplace_back(f.path().string());
          hwmon_channel_.push_back(channels_.size());
          channels_.push_back({"power.hwmon." + unique_name(seen, chip + "." + n.substr(0, n.size() - 6)) + ".w", "W"});
        }
      }
    }
    if (!rapl_.empty()) {
      total_channel_ = channels_.size();
      channels_.push_back({"power.rapl_total.w", "W"});
    }
    if (channels_.empty())
      unavailable(denied.empty() ? "no RAPL powercap zones or hwmon power sensors under " + under(o.root, "/sys/class")
                                 : denied + " is not readable (root only since CVE-2020-8694)");
  }
  std::string_view name() const noexcept override { return "power"; }
  void sample(std::int64_t now_ns, std::span<double> out) noexcept override {
    std::fill(out.begin(), out.end(), kNaN);
    double total = 0;
    bool have_total = true;
    for (auto& r : rapl_) {
      const double e = r.energy.read_number();
      if (std::isnan(e)) {
        have_total = false;
        continue;
      }
      if (r.prev_ns > 0 && now_ns > r.prev_ns) {
        double d = e - r.prev_uj;
        if (d < 0) d += std::isnan(r.max_range_uj) ? 0 : r.max_range_uj + 1;  // wrapped
        r.total_uj += d;
        const double w = d / 1e6 / (static_cast<double>(now_ns - r.prev_ns) / 1e9);
        out[r.channel] = w;
        if (r.top_level) total += w;
      } else {
        have_total = false;
      }
      out[r.channel + 1] = r.total_uj / 1e6;
      r.prev_uj = e;
      r.prev_ns = now_ns;
    }
    if (!rapl_.empty() && have_total) out[total_channel_] = total;
    for (std::size_t i = 0; i < hwmon_.size(); ++i) out[hwmon_channel_[i]] = hwmon_[i].read_number() / 1e6;
  }

 private:
  struct Rapl {
    ProcFile energy;
    double max_range_uj = kNaN;
    bool top_level = true;
    std::size_t channel = 0;
    double prev_uj = 0, total_uj = 0;
    std::int64_t prev_ns = 0;
  };
  std::vector<Rapl> rapl_;
  std::vector<ProcFile> hwmon_;
  std::vector<std::size_t> hwmon_channel_;
  std::size_t total_channel_ = 0;
};

// ---- cgroup v2 of this process: CPU use and throttling (cpu.stat), memory.current/peak/max.
// A memory file that does not exist at construction (no memory controller in this group, as on
// a hybrid host whose memory controller is on v1; memory.peak before Linux 5.19) is NaN for the
// collector's life rather than a failed open() on every sample.
class CgroupCollector final : public BaseCollector {
 public:
  explicit CgroupCollector(const CollectorOptions& o) {
    char buf[4096];
    const std::string self = under(o.root, "/proc/self/cgroup");
    if (read_into(self, buf, sizeof buf) <= 0) {
      unavailable(self + " is not readable");
      return;
    }
    std::string rel;
    bool v1_lines = false;
    for (const char* line = buf; *line;) {
      const char* nl = std::strchr(line, '\n');
      const std::string l(line, nl ? static_cast<std::size_t>(nl - line) : std::strlen(line));
      if (l.rfind("0::", 0) == 0) rel = l.substr(3);
      else if (!l.empty()) v1_lines = true;
      if (!nl) break;
      line = nl + 1;
    }
    if (rel.empty()) {
      unavailable("cgroup v1 host: no cgroup v2 hierarchy for this process");
      return;
    }
    // Pure v2 mounts at /sys/fs/cgroup; a hybrid host (v1 controllers too) at .../unified.
    std::string dir = under(o.root, "/sys/fs/cgroup" + rel);
    if (v1_lines || !fs::exists(dir + "/cgroup.controllers"))
      if (fs::exists(under(o.root, "/sys/fs/cgroup/unified" + rel) + "/cgroup.procs"))
        dir = under(o.root, "/sys/fs/cgroup/unified" + rel);
    while (!dir.empty() && dir.back() == '/') dir.pop_back();
    cpu_stat_ = ProcFile(dir + "/cpu.stat");
    if (cpu_stat_.read(buf, sizeof buf) <= 0) {
      unavailable("no cgroup v2 cpu.stat at " + cpu_stat_.path());
      return;
    }
    for (const char* f : {"memory.current", "memory.peak", "memory.max"}) {
      ProcFile file(dir + "/" + f);
      mem_.push_back(file.is_open() || fs::exists(file.path()) ? std::move(file) : ProcFile());
    }
    channels_ = {{"cgroup.cpu_pct", "%"},           {"cgroup.nr_throttled", "1"},
                 {"cgroup.throttled_s", "s"},       {"cgroup.memory_current_bytes", "B"},
                 {"cgroup.memory_peak_bytes", "B"}, {"cgroup.memory_max_bytes", "B"}};
  }
  std::string_view name() const noexcept override { return "cgroup"; }
  void sample(std::int64_t now_ns, std::span<double> out) noexcept override {
    std::fill(out.begin(), out.end(), kNaN);
    char buf[4096];
    if (cpu_stat_.read(buf, sizeof buf) > 0) {
      const double usage_us = keyed_space_value(buf, "usage_usec");
      const double throttled = keyed_space_value(buf, "nr_throttled");
      const double throttled_us = keyed_space_value(buf, "throttled_usec");
      if (first_ns_ == 0) {
        first_ns_ = now_ns;
        base_throttled_ = throttled;
        base_throttled_us_ = throttled_us;
      } else if (now_ns > prev_ns_) {
        out[0] = 100.0 * (usage_us - prev_usage_us_) / 1e6 / (static_cast<double>(now_ns - prev_ns_) / 1e9);
      }
      out[1] = throttled - base_throttled_;  // since the first sample; NaN without the cpu controller
      out[2] = (throttled_us - base_throttled_us_) / 1e6;
      prev_usage_us_ = usage_us;
      prev_ns_ = now_ns;
    }
    out[3] = mem_[0].read_number();
    out[4] = mem_[1].read_number();  // kernel >= 5.19
    out[5] = mem_[2].read_number();  // "max" (no limit) reads as NaN
  }

 private:
  // "key value" lines (cgroup flat-keyed files).
  static double keyed_space_value(const char* text, const char* key) {
    const std::size_t klen = std::strlen(key);
    for (const char* line = text; *line;) {
      if (std::strncmp(line, key, klen) == 0 && line[klen] == ' ') {
        double v = 0;
        const char* p = line + klen + 1;
        auto [end, ec] = std::from_chars(p, p + std::strlen(p), v);
        return ec == std::errc() && end != p ? v : kNaN;
      }
      const char* nl = std::strchr(line, '\n');
      if (!nl) break;
      line = nl + 1;
    }
    return kNaN;
  }
  ProcFile cpu_stat_;
  std::vector<ProcFile> mem_;  // memory.current, memory.peak, memory.max; ProcFile() if absent
  std::int64_t first_ns_ = 0, prev_ns_ = 0;
  double prev_usage_us_ = 0, base_throttled_ = 0, base_throttled_us_ = 0;
};

// ---- PSI: /proc/pressure/{cpu,memory,io}; % of wall time stalled over each sample interval,
// from the cumulative `total=` µs counters ("some" and "full").
class PsiCollector final : public BaseCollector {
 public:
  explicit PsiCollector(const CollectorOptions& o) {
    for (const char* res : {"cpu", "memory", "io"}) {
      ProcFile file(under(o.root, std::string("/proc/pressure/") + res));
      char buf[512];
      if (file.read(buf, sizeof buf) <= 0) continue;
      files_.push_back({std::move(file), channels_.size()});
      channels_.push_back({fmt::format("psi.{}.some_pct", res), "%"});
      channels_.push_back({fmt::format("psi.{}.full_pct", res), "%"});
    }
    if (files_.empty()) unavailable("no " + under(o.root, "/proc/pressure") + " (kernel without CONFIG_PSI, or psi=0)");
  }
  std::string_view name() const noexcept override { return "psi"; }
  void sample(std::int64_t now_ns, std::span<double> out) noexcept override {
    std::fill(out.begin(), out.end(), kNaN);
    for (auto& f : files_) {
      char buf[512];
      if (f.file.read(buf, sizeof buf) <= 0) continue;
      const double some = total_of(buf, "some"), full = total_of(buf, "full");
      if (f.prev_ns > 0 && now_ns > f.prev_ns) {
        const double dt_us = static_cast<double>(now_ns - f.prev_ns) / 1e3;
        out[f.channel] = std::clamp(100.0 * (some - f.prev_some) / dt_us, 0.0, 100.0);
        if (!std::isnan(full)) out[f.channel + 1] = std::clamp(100.0 * (full - f.prev_full) / dt_us, 0.0, 100.0);
      }
      f.prev_some = some;
      f.prev_full = full;
      f.prev_ns = now_ns;
    }
  }

 private:
  static double total_of(const char* text, const char* kind) {
    const char* line = std::strstr(text, kind);
    if (!line) return kNaN;
    const char* t = std::strstr(line, "total=");
    if (!t) return kNaN;
    double v = 0;
    auto [end, ec] = std::from_chars(t + 6, t + 6 + std::strlen(t + 6), v);
    return ec == std::errc() && end != t + 6 ? v : kNaN;
  }
  struct File {
    ProcFile file;
    std::size_t channel;
    double prev_some = 0, prev_full = 0;
    std::int64_t prev_ns = 0;
  };
  std::vector<File> files_;
};

}  // namespace

std::vector<std::string> collector_names() {
  return {"cpu", "memory", "process", "thermal", "power", "cgroup", "psi", "nvml", "tegrastats"};
}

std::vector<std::unique_ptr<Collector>> make_collectors(const std::vector<std::string>& names,
                                                        const CollectorOptions& o) {
  std::vector<std::string> wanted;
  for (const auto& n : names) {
    if (n == "all") {
      for (const auto& k : collector_names()) wanted.push_back(k);
      continue;
    }
    const auto known = collector_names();
    if (std::find(known.begin(), known.end(), n) == known.end())
      throw InputError(fmt::format("unknown collector '{}' (known: {}, or all)", n, fmt::join(known, ", ")));
    if (std::find(wanted.begin(), wanted.end(), n) == wanted.end()) wanted.push_back(n);
  }
  std::vector<std::unique_ptr<Collector>> out;
  for (const auto& n : wanted) {
    if (n == "cpu") out.push_back(std::make_unique<CpuCollector>(o));
    else if (n == "memory") out.push_back(std::make_unique<MemoryCollector>(o));
    else if (n == "process") out.push_back(std::make_unique<ProcessCollector>(o));
    else if (n == "thermal") out.push_back(std::make_unique<ThermalCollector>(o));
    else if (n == "power") out.push_back(std::make_unique<PowerCollector>(o));
    else if (n == "cgroup") out.push_back(std::make_unique<CgroupCollector>(o));
    else if (n == "psi") out.push_back(std::make_unique<PsiCollector>(o));
    else if (n == "nvml") out.push_back(make_nvml_collector(o));
    else if (n == "tegrastats") out.push_back(make_tegrastats_collector(o));
  }
  return out;
}

}  // namespace trackiq::telemetry
