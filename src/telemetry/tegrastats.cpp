// tegrastats parser, log reader and collector (TEL-6). Formats: ../shared/notes/telemetry_sources.md §1.
//
// The parser is a hand-written tokenizer over string_view (no std::regex: ingestion must reach
// 100 MB/s, SPEC §4). A line is a sequence of whitespace-separated tokens whose order differs
// between BSPs, so each token is recognised by its own shape:
//   RAM u/tMB [(lfb NxS)]   SWAP u/tMB [(cached cMB)]   IRAM u/tkB[(lfb lkB)]
//   CPU [..] / cpu [..]@f   EMC_FREQ|EMC v   GR3D_FREQ|GR3D v   MTS fg X% bg Y%
//   name@T C[/maxC]         NAME cur[mW]/avg[mW][/max[mW]]      NAME off|p%|p%@f|@f|@[f,..]|f
#include "trackiq/telemetry/tegrastats.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <span>
#include <sstream>
#include <thread>
#include <utility>

#include "trackiq/core/error.hpp"

extern char** environ;

namespace trackiq::telemetry {
namespace {

constexpr double kNaN = kTegrastatsAbsent;
constexpr double kBytesPerMiB = 1024.0 * 1024.0;

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// The offending token, shortened and with unprintable bytes replaced, for an error message.
std::string printable(std::string_view token) {
  constexpr std::size_t kMax = 40;
  std::string out;
  const std::size_t n = std::min(token.size(), kMax);
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(token[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (token.size() > kMax) out += "...";
  return out;
}

[[noreturn]] void fail(std::string_view what, std::string_view token) {
  std::string message(what);
  message += " '";
  message += printable(token);
  message += "'";
  throw InputError(std::move(message));
}

// A whole string_view as a finite number (digits, optional sign, fraction, exponent).
bool to_number(std::string_view s, double& out) noexcept {
  if (s.empty()) return false;
  // Fast path: most tegrastats numbers are small unsigned integers.
  if (s.size() <= 15) {
    std::uint64_t v = 0;
    std::size_t i = 0;
    for (; i < s.size(); ++i) {
      const unsigned d = static_cast<unsigned char>(s[i]) - '0';
      if (d > 9) break;
      v = v * 10 + d;
    }
    if (i == s.size()) {
      out = static_cast<double>(v);
      return true;
    }
  }
  const char* const end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && ptr == end && std::isfinite(out);
}

double number_or_fail(std::string_view s, std::string_view what, std::string_view token) {
  double v = 0;
  if (!to_number(s, v)) fail(what, token);
  return v;
}

bool consume_suffix(std::string_view& s, std::string_view suffix) noexcept {
  if (!s.ends_with(suffix)) return false;
  s.remove_suffix(suffix.size());
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Names of units, zones and rails: [A-Za-z0-9_.-]+.
bool is_name(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (const char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool all_digits(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Splits a line into whitespace-separated tokens. A `[` inside a token extends the token to
// the next `]`, across whitespace (`CPU [6%@1420, off, off]` as printed in some user docs).
class Tokenizer {
 public:
  explicit Tokenizer(std::string_view line) noexcept : s_(line) {}

  // The next token, or an empty view at the end. Throws on an unterminated `[`.
  std::string_view next() {
    while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
    const std::size_t start = pos_;
    while (pos_ < s_.size() && !is_space(s_[pos_])) {
      if (s_[pos_] == '[') {
        const std::size_t close = s_.find(']', pos_);
        if (close == std::string_view::npos) fail("unterminated '[' in", s_.substr(start));
        pos_ = close;
      }
      ++pos_;
    }
    return s_.substr(start, pos_ - start);
  }

  std::string_view peek() {
    const std::size_t saved = pos_;
    const std::string_view t = next();
    pos_ = saved;
    return t;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

// "u/t" → two numbers.
void parse_pair(std::string_view v, double& a, double& b, std::string_view what, std::string_view token) {
  const std::size_t slash = v.find('/');
  if (slash == std::string_view::npos) fail(what, token);
  a = number_or_fail(v.substr(0, slash), what, token);
  b = number_or_fail(v.substr(slash + 1), what, token);
}

// A size with unit kB or MB, in kB.
double size_kb_or_fail(std::string_view v, std::string_view what, std::string_view token) {
  if (consume_suffix(v, "MB")) return number_or_fail(v, what, token) * 1024.0;
  if (consume_suffix(v, "kB")) return number_or_fail(v, what, token);
  fail(what, token);
}

// `NxS)` of `(lfb NxS)`: count and block size in kB.
void parse_lfb_blocks(std::string_view token, double& blocks, double& block_kb) {
  std::string_view v = token;
  if (!consume_suffix(v, ")")) fail("malformed lfb", token);
  const std::size_t x = v.find('x');
  if (x == std::string_view::npos) fail("malformed lfb", token);
  blocks = number_or_fail(v.substr(0, x), "malformed lfb", token);
  block_kb = size_kb_or_fail(v.substr(x + 1), "malformed lfb", token);
}

// The value of a load/frequency unit: `p%`, `p%@f`, `@f`, `@[f,f,..]`, `p%@[..]`, or a bare
// frequency `f`. Writes NaN for parts that are absent. `gpcs` (may be null) receives a list.
void parse_load(std::string_view v, double& pct, double& freq, std::vector<double>* gpcs,
                std::string_view what) {
  const std::string_view token = v;
  pct = kNaN;
  freq = kNaN;
  if (v.empty()) fail(what, token);
  const std::size_t at = v.find('@');
  if (at == std::string_view::npos && v.back() != '%') {
    freq = number_or_fail(v, what, token);
    return;
  }
  std::string_view load = v.substr(0, at == std::string_view::npos ? v.size() : at);
  if (!load.empty()) {
    if (!consume_suffix(load, "%")) fail(what, token);
    pct = number_or_fail(load, what, token);
  }
  if (at == std::string_view::npos) return;
  std::string_view f = v.substr(at + 1);
  if (f.starts_with('[')) {
    if (!consume_suffix(f, "]")) fail(what, token);
    f.remove_prefix(1);
    double highest = kNaN;
    while (true) {
      const std::size_t comma = f.find(',');
      const double g = number_or_fail(trim(f.substr(0, comma)), what, token);
      if (gpcs != nullptr) gpcs->push_back(g);
      if (!(highest >= g)) highest = g;
      if (comma == std::string_view::npos) break;
      f.remove_prefix(comma + 1);
    }
    freq = highest;
  } else {
    freq = number_or_fail(f, what, token);
  }
}

// `[a,b,...]` with optional `@f` after it (TX1 L4T 28.1 `cpu [17%,13%]@408`).
void parse_cpu_list(std::string_view token, std::vector<TegrastatsCpu>& cpus) {
  constexpr std::string_view kWhat = "malformed CPU list";
  if (!token.starts_with('[')) fail(kWhat, token);
  const std::size_t close = token.find(']');
  if (close == std::string_view::npos) fail(kWhat, token);
  std::string_view items = token.substr(1, close - 1);
  std::string_view after = token.substr(close + 1);
  double shared_freq = kNaN;
  if (!after.empty()) {
    if (after.front() != '@') fail(kWhat, token);
    shared_freq = number_or_fail(after.substr(1), kWhat, token);
  }
  if (trim(items).empty()) fail(kWhat, token);
  while (true) {
    const std::size_t comma = items.find(',');
    const std::string_view item = trim(items.substr(0, comma));
    TegrastatsCpu cpu;
    if (item != "off") {
      cpu.online = true;
      const std::size_t at = item.find('@');
      std::string_view load = item.substr(0, at == std::string_view::npos ? item.size() : at);
      if (!load.empty()) {
        if (!consume_suffix(load, "%")) fail(kWhat, token);
        cpu.util_pct = number_or_fail(load, kWhat, token);
      }
      if (at != std::string_view::npos) {
        cpu.freq_mhz = number_or_fail(item.substr(at + 1), kWhat, token);
      } else {
        if (load.empty()) fail(kWhat, token);
        cpu.freq_mhz = shared_freq;
      }
    }
    cpus.push_back(cpu);
    if (comma == std::string_view::npos) break;
    items.remove_prefix(comma + 1);
  }
}

// `name@T C[/T C]`.
void parse_temperature(std::string_view token, std::size_t at, TegrastatsTemperature& t) {
  constexpr std::string_view kWhat = "malformed temperature";
  const std::string_view zone = token.substr(0, at);
  if (!is_name(zone)) fail(kWhat, token);
  std::string_view v = token.substr(at + 1);
  const std::size_t slash = v.find('/');
  std::string_view cur = v.substr(0, slash);
  if (!consume_suffix(cur, "C")) fail(kWhat, token);
  t.zone.assign(zone);
  t.temp_c = number_or_fail(cur, kWhat, token);
  t.max_c = kNaN;
  if (slash != std::string_view::npos) {
    std::string_view max = v.substr(slash + 1);
    if (!consume_suffix(max, "C")) fail(kWhat, token);
    t.max_c = number_or_fail(max, kWhat, token);
  }
}

bool is_rail_value(std::string_view v) noexcept { return v.find('/') != std::string_view::npos; }

// `cur[mW]/avg[mW][/max[mW]]`.
void parse_rail(std::string_view name, std::string_view value, TegrastatsRail& r) {
  constexpr std::string_view kWhat = "malformed power rail value";
  double parts[3] = {kNaN, kNaN, kNaN};
  int n = 0;
  std::string_view v = value;
  while (true) {
    const std::size_t slash = v.find('/');
    std::string_view part = v.substr(0, slash);
    consume_suffix(part, "mW");
    if (n == 3) fail(kWhat, value);
    parts[n++] = number_or_fail(part, kWhat, value);
    if (slash == std::string_view::npos) break;
    v.remove_prefix(slash + 1);
  }
  if (n < 2) fail(kWhat, value);
  r.name.assign(name);
  r.cur_mw = parts[0];
  r.avg_mw = parts[1];
  r.max_mw = parts[2];
}

// `MM-DD-YYYY` and `HH:MM:SS`.
bool looks_like_date(std::string_view t) noexcept {
  return t.size() == 10 && t[2] == '-' && t[5] == '-' && all_digits(t.substr(0, 2)) &&
         all_digits(t.substr(3, 2)) && all_digits(t.substr(6, 4));
}
bool looks_like_time(std::string_view t) noexcept {
  return t.size() == 8 && t[2] == ':' && t[5] == ':' && all_digits(t.substr(0, 2)) &&
         all_digits(t.substr(3, 2)) && all_digits(t.substr(6, 2));
}
int two_digits(std::string_view t, std::size_t i) noexcept { return (t[i] - '0') * 10 + (t[i + 1] - '0'); }

void parse_timestamp(std::string_view date, std::string_view time, TegrastatsTimestamp& ts) {
  ts.month = two_digits(date, 0);
  ts.day = two_digits(date, 3);
  ts.year = two_digits(date, 6) * 100 + two_digits(date, 8);
  ts.hour = two_digits(time, 0);
  ts.minute = two_digits(time, 3);
  ts.second = two_digits(time, 6);
  if (ts.month < 1 || ts.month > 12 || ts.day < 1 || ts.day > 31 || ts.hour > 23 || ts.minute > 59 ||
      ts.second > 60) {
    std::string both(date);
    both += ' ';
    both += time;
    fail("invalid timestamp (expected MM-DD-YYYY HH:MM:SS)", both);
  }
}

// Reuses vector slots so their strings keep their capacity from line to line.
template <class T>
T& next_slot(std::vector<T>& v, std::size_t& used) {
  if (used == v.size()) v.emplace_back();
  return v[used++];
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// TegrastatsSample

double TegrastatsSample::cpu_util_avg_pct() const noexcept {
  double sum = 0;
  int n = 0;
  for (const auto& c : cpus) {
    if (c.online && !std::isnan(c.util_pct)) {
      sum += c.util_pct;
      ++n;
    }
  }
  return n == 0 ? kNaN : sum / n;
}

const TegrastatsEngine* TegrastatsSample::find_engine(std::string_view name) const noexcept {
  for (const auto& e : engines)
    if (e.name == name) return &e;
  return nullptr;
}

const TegrastatsTemperature* TegrastatsSample::find_temperature(std::string_view zone) const noexcept {
  for (const auto& t : temperatures)
    if (t.zone == zone) return &t;
  return nullptr;
}

const TegrastatsRail* TegrastatsSample::find_rail(std::string_view name) const noexcept {
  for (const auto& r : rails)
    if (r.name == name) return &r;
  return nullptr;
}

const TegrastatsRail* TegrastatsSample::input_rail() const noexcept {
  for (const std::string_view name : {"VDD_IN", "POM_5V_IN"})
    if (const auto* r = find_rail(name)) return r;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Line parser

void parse_tegrastats_line(std::string_view line, TegrastatsSample& out) {
  out.has_timestamp = false;
  out.timestamp = {};
  out.ram_used_mb = out.ram_total_mb = out.ram_lfb_blocks = out.ram_lfb_block_kb = kNaN;
  out.swap_used_mb = out.swap_total_mb = out.swap_cached_mb = kNaN;
  out.iram_used_kb = out.iram_total_kb = out.iram_lfb_kb = kNaN;
  out.cpus.clear();
  out.emc_util_pct = out.emc_freq_mhz = kNaN;
  out.gpu_util_pct = out.gpu_freq_mhz = kNaN;
  out.gpu_gpc_freq_mhz.clear();
  out.mts_fg_pct = out.mts_bg_pct = kNaN;
  std::size_t n_engines = 0;
  std::size_t n_temperatures = 0;
  std::size_t n_rails = 0;

  Tokenizer tokens(line);
  std::string_view t = tokens.next();
  if (t.empty()) throw InputError("empty line");

  if (looks_like_date(t) && looks_like_time(tokens.peek())) {
    parse_timestamp(t, tokens.next(), out.timestamp);
    out.has_timestamp = true;
    t = tokens.next();
  }
  // Anything else before RAM is a prefix of the user's own (e.g. `[2018-08-23 16:30:36] :`).
  while (!t.empty() && t != "RAM") t = tokens.next();
  if (t.empty()) fail("not a tegrastats line (no RAM field):", line);

  {
    std::string_view v = tokens.next();
    const std::string_view token = v;
    if (!consume_suffix(v, "MB")) fail("malformed RAM", token);
    parse_pair(v, out.ram_used_mb, out.ram_total_mb, "malformed RAM", token);
    if (tokens.peek() == "(lfb") {
      tokens.next();
      parse_lfb_blocks(tokens.next(), out.ram_lfb_blocks, out.ram_lfb_block_kb);
    }
  }

  bool seen_swap = false, seen_iram = false, seen_cpu = false, seen_emc = false, seen_gpu = false,
       seen_mts = false;
  auto once = [](bool& seen, std::string_view token) {
    if (seen) fail("repeated field", token);
    seen = true;
  };

  for (t = tokens.next(); !t.empty(); t = tokens.next()) {
    if (t == "SWAP") {
      once(seen_swap, t);
      std::string_view v = tokens.next();
      const std::string_view token = v;
      if (!consume_suffix(v, "MB")) fail("malformed SWAP", token);
      parse_pair(v, out.swap_used_mb, out.swap_total_mb, "malformed SWAP", token);
      if (tokens.peek() == "(cached") {
        tokens.next();
        std::string_view c = tokens.next();
        const std::string_view ctoken = c;
        if (!consume_suffix(c, "MB)")) fail("malformed SWAP cached", ctoken);
        out.swap_cached_mb = number_or_fail(c, "malformed SWAP cached", ctoken);
      }
    } else if (t == "IRAM") {
      once(seen_iram, t);
      std::string_view v = tokens.next();
      const std::string_view token = v;
      // `0/252kB(lfb 252kB)`: no space before `(lfb` on the boards that print it.
      bool lfb = consume_suffix(v, "(lfb");
      if (!consume_suffix(v, "kB")) fail("malformed IRAM", token);
      parse_pair(v, out.iram_used_kb, out.iram_total_kb, "malformed IRAM", token);
      if (!lfb && tokens.peek() == "(lfb") {
        tokens.next();
        lfb = true;
      }
      if (lfb) {
        std::string_view l = tokens.next();
        const std::string_view ltoken = l;
        if (!consume_suffix(l, ")")) fail("malformed IRAM lfb", ltoken);
        out.iram_lfb_kb = size_kb_or_fail(l, "malformed IRAM lfb", ltoken);
      }
    } else if ((t == "CPU" || t == "cpu") && tokens.peek().starts_with('[')) {
      // AGX Xavier also has a power rail named CPU (`CPU 311/311`), handled below.
      once(seen_cpu, t);
      parse_cpu_list(tokens.next(), out.cpus);
    } else if ((t == "EMC_FREQ" || t == "EMC") && !is_rail_value(tokens.peek())) {
      once(seen_emc, t);
      parse_load(tokens.next(), out.emc_util_pct, out.emc_freq_mhz, nullptr, "malformed EMC");
    } else if ((t == "GR3D_FREQ" || t == "GR3D") && !is_rail_value(tokens.peek())) {
      once(seen_gpu, t);
      parse_load(tokens.next(), out.gpu_util_pct, out.gpu_freq_mhz, &out.gpu_gpc_freq_mhz,
                 "malformed GR3D");
    } else if (t == "MTS") {
      once(seen_mts, t);
      constexpr std::string_view kWhat = "malformed MTS (expected 'MTS fg X% bg Y%')";
      if (tokens.next() != "fg") fail(kWhat, t);
      std::string_view fg = tokens.next();
      if (!consume_suffix(fg, "%")) fail(kWhat, fg);
      out.mts_fg_pct = number_or_fail(fg, kWhat, fg);
      if (tokens.next() != "bg") fail(kWhat, t);
      std::string_view bg = tokens.next();
      if (!consume_suffix(bg, "%")) fail(kWhat, bg);
      out.mts_bg_pct = number_or_fail(bg, kWhat, bg);
    } else if (t == "RAM") {
      fail("repeated field", t);
    } else if (const std::size_t at = t.find('@'); at != std::string_view::npos && at > 0) {
      parse_temperature(t, at, next_slot(out.temperatures, n_temperatures));
    } else if (is_name(t)) {
      const std::string_view v = tokens.next();
      if (v.empty()) fail("missing value after", t);
      if (is_rail_value(v)) {
        parse_rail(t, v, next_slot(out.rails, n_rails));
      } else {
        TegrastatsEngine& e = next_slot(out.engines, n_engines);
        e.name.assign(t);
        e.off = v == "off";
        if (e.off) {
          e.util_pct = e.freq_mhz = kNaN;
        } else {
          parse_load(v, e.util_pct, e.freq_mhz, nullptr, "malformed engine value");
        }
      }
    } else {
      fail("unexpected token", t);
    }
  }
  out.engines.resize(n_engines);
  out.temperatures.resize(n_temperatures);
  out.rails.resize(n_rails);
}

TegrastatsSample parse_tegrastats_line(std::string_view line) {
  TegrastatsSample s;
  parse_tegrastats_line(line, s);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Log reader

TegrastatsLogReader::TegrastatsLogReader(std::string_view text, std::string origin)
    : rest_(text), origin_(std::move(origin)) {}

bool TegrastatsLogReader::next(TegrastatsSample& out) {
  while (!rest_.empty()) {
    const std::size_t nl = rest_.find('\n');
    const std::string_view line = rest_.substr(0, nl);
    rest_ = nl == std::string_view::npos ? std::string_view{} : rest_.substr(nl + 1);
    ++line_number_;
    if (std::all_of(line.begin(), line.end(), is_space)) continue;
    try {
      parse_tegrastats_line(line, out);
      return true;
    } catch (const InputError& e) {
      ++skipped_lines_;
      if (warnings_.size() < kTegrastatsMaxWarnings)
        warnings_.emplace_back(InputError(origin_, line_number_, e.message()).what());
    }
  }
  return false;
}

TegrastatsLog parse_tegrastats_log(std::string_view text, const std::string& origin) {
  TegrastatsLog log;
  TegrastatsLogReader reader(text, origin);
  TegrastatsSample s;
  while (reader.next(s)) log.samples.push_back(s);
  log.skipped_lines = reader.skipped_lines();
  log.warnings = reader.warnings();
  return log;
}

namespace {
std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw InputError(path, 0, "read error");
  return std::move(buf).str();
}
}  // namespace

TegrastatsLog read_tegrastats_log(const std::string& path) {
  const std::string text = read_file(path);
  return parse_tegrastats_log(text, path);
}

// ---------------------------------------------------------------------------------------------
// Collector

namespace {

// The channels learnt from the first line, and how a sample fills them. Immutable once built.
class ChannelLayout {
 public:
  ChannelLayout() = default;

  explicit ChannelLayout(const TegrastatsSample& first) {
    auto add = [this](std::string name, const char* unit) {
      channels_.push_back(Channel{std::move(name), unit});
      return static_cast<int>(channels_.size() - 1);
    };
    mem_used_ = add("mem.used_bytes", "B");
    if (!std::isnan(first.swap_used_mb)) swap_used_ = add("swap.used_bytes", "B");
    if (!first.cpus.empty()) {
      cpu_avg_ = add("cpu.util_pct", "%");
      n_cores_ = first.cpus.size();
      for (std::size_t i = 0; i < n_cores_; ++i) {
        const int idx = add("cpu" + std::to_string(i) + ".util_pct", "%");
        if (i == 0) cpu0_ = idx;
      }
    }
    if (!std::isnan(first.gpu_util_pct)) gpu_ = add("gpu0.util_pct", "%");
    if (!std::isnan(first.emc_util_pct)) emc_ = add("emc.util_pct", "%");
    for (const auto& t : first.temperatures) {
      if (t.zone == "PMIC" || index_of(zones_, t.zone) >= 0) continue;
      const int idx = add("thermal." + t.zone + ".temp_c", "°C");
      if (zones_.empty()) zone0_ = idx;
      zones_.push_back(t.zone);
    }
    for (const auto& r : first.rails) {
      if (r.name == "NC" || index_of(rails_, r.name) >= 0) continue;
      const int idx = add("power." + r.name + ".w", "W");
      if (rails_.empty()) rail0_ = idx;
      rails_.push_back(r.name);
    }
    if (const auto* in = first.input_rail()) {
      total_ = add("power.total.w", "W");
      total_rail_ = in->name;
    }
  }

  const std::vector<Channel>& channels() const noexcept { return channels_; }

  // Writes one value per channel into `out` (NaN where the sample lacks it). No allocation.
  void fill(const TegrastatsSample& s, std::span<double> out) const noexcept {
    std::fill(out.begin(), out.end(), kNaN);
    const auto put = [&out](int idx, double v) {
      if (idx >= 0 && static_cast<std::size_t>(idx) < out.size()) out[static_cast<std::size_t>(idx)] = v;
    };
    put(mem_used_, s.ram_used_mb * kBytesPerMiB);
    put(swap_used_, s.swap_used_mb * kBytesPerMiB);
    put(cpu_avg_, s.cpu_util_avg_pct());
    for (std::size_t i = 0; i < n_cores_ && i < s.cpus.size(); ++i)
      if (s.cpus[i].online) put(cpu0_ + static_cast<int>(i), s.cpus[i].util_pct);
    put(gpu_, s.gpu_util_pct);
    put(emc_, s.emc_util_pct);
    // A name printed twice in one line (`NC`) keeps its first value.
    const auto put_first = [&out](int idx, double v) {
      if (idx >= 0 && static_cast<std::size_t>(idx) < out.size() && std::isnan(out[static_cast<std::size_t>(idx)]))
        out[static_cast<std::size_t>(idx)] = v;
    };
    for (const auto& t : s.temperatures) {
      const int i = index_of(zones_, t.zone);
      if (i >= 0 && !t.disabled()) put_first(zone0_ + i, t.temp_c);
    }
    for (const auto& r : s.rails) {
      const int i = index_of(rails_, r.name);
      if (i >= 0) put_first(rail0_ + i, r.cur_mw / 1000.0);
    }
    if (total_ >= 0)
      if (const auto* in = s.find_rail(total_rail_)) put(total_, in->cur_mw / 1000.0);
  }

 private:
  static int index_of(const std::vector<std::string>& names, std::string_view name) noexcept {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return static_cast<int>(i);
    return -1;
  }

  std::vector<Channel> channels_;
  int mem_used_ = -1, swap_used_ = -1, cpu_avg_ = -1, cpu0_ = -1, gpu_ = -1, emc_ = -1, zone0_ = -1,
      rail0_ = -1, total_ = -1;
  std::size_t n_cores_ = 0;
  std::vector<std::string> zones_;
  std::vector<std::string> rails_;
  std::string total_rail_;
};

void fill_nan(std::span<double> out) noexcept { std::fill(out.begin(), out.end(), kNaN); }

// Replays a log: the rows are computed at construction; sample() copies the next one.
class ReplayCollector final : public TegrastatsCollector {
 public:
  explicit ReplayCollector(const std::string& path) {
    const std::string text = read_file(path);
    TegrastatsLogReader reader(text, path);
    TegrastatsSample s;
    while (reader.next(s)) {
      if (n_rows_ == 0) {
        layout_ = ChannelLayout(s);
        width_ = layout_.channels().size();
      }
      rows_.resize(rows_.size() + width_);
      layout_.fill(s, std::span<double>(rows_).subspan(n_rows_ * width_, width_));
      ++n_rows_;
    }
    skipped_lines_ = reader.skipped_lines();
    warnings_ = reader.warnings();
    if (n_rows_ == 0) {
      reason_ = "not available: " + path + " has no tegrastats lines (" + std::to_string(skipped_lines_) +
                " skipped)";
    } else {
      available_ = true;
    }
  }

  std::string_view name() const noexcept override { return "tegrastats"; }
  bool available() const noexcept override { return available_; }
  const std::string& reason() const noexcept override { return reason_; }
  const std::vector<Channel>& channels() const noexcept override { return layout_.channels(); }

  void sample(std::int64_t /*now_ns*/, std::span<double> out) noexcept override {
    fill_nan(out);
    if (next_row_ >= n_rows_) return;
    const double* row = rows_.data() + next_row_ * width_;
    std::copy(row, row + std::min(width_, out.size()), out.begin());
    ++next_row_;
  }

  std::uint64_t skipped_lines() const noexcept override { return skipped_lines_; }
  std::vector<std::string> warnings() const override { return warnings_; }

 private:
  ChannelLayout layout_;
  std::size_t width_ = 0;
  std::vector<double> rows_;  // n_rows_ × width_
  std::size_t n_rows_ = 0;
  std::size_t next_row_ = 0;  // owned by the sampling thread
  bool available_ = false;
  std::string reason_;
  std::uint64_t skipped_lines_ = 0;
  std::vector<std::string> warnings_;
};

// The absolute path of an executable `name` on PATH, or "".
std::string find_on_path(std::string_view name) {
  const char* env = std::getenv("PATH");
  const std::string_view path = env != nullptr ? env : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string_view::npos) end = path.size();
    std::string candidate(path.substr(start, end - start));
    if (candidate.empty()) candidate.push_back('.');  // an empty PATH entry is the current directory
    candidate.push_back('/');
    candidate.append(name);
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return {};
}

// Runs `tegrastats --interval N` with stdout and stderr on a pipe, in its own process group.
// A background reader thread parses each line and publishes the latest row; sample() copies it.
class LiveCollector final : public TegrastatsCollector {
 public:
  explicit LiveCollector(const CollectorOptions& options) {
    const std::int64_t interval_ms = options.tegrastats_interval_ms;
    if (interval_ms <= 0) throw InputError("tegrastats interval must be positive, got " + std::to_string(interval_ms));
    const std::string exe = find_on_path("tegrastats");
    if (exe.empty()) {
      reason_ = "not available: tegrastats not found (not a Jetson/DRIVE board)";
      return;
    }
    if (const std::string err = spawn(exe, interval_ms); !err.empty()) {
      reason_ = "not available: cannot run " + exe + ": " + err;
      return;
    }
    reader_ = std::thread([this] { read_loop(); });

    const auto wait = std::chrono::milliseconds(2 * interval_ms + 1000);
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [this] { return layout_ready_ || ended_; });
    if (layout_ready_) {
      channels_ = layout_.channels();
      available_ = true;
      return;
    }
    if (ended_) {
      reason_ = "not available: tegrastats exited without printing a sample";
      if (!warnings_.empty()) reason_ += " (" + warnings_.front() + ")";
    } else {
      reason_ = "not available: tegrastats printed no sample within " + std::to_string(wait.count()) + " ms";
    }
    lock.unlock();
    stop();
  }

  ~LiveCollector() override { stop(); }

  LiveCollector(const LiveCollector&) = delete;
  LiveCollector& operator=(const LiveCollector&) = delete;

  std::string_view name() const noexcept override { return "tegrastats"; }
  bool available() const noexcept override { return available_; }
  const std::string& reason() const noexcept override { return reason_; }
  const std::vector<Channel>& channels() const noexcept override { return channels_; }

  // Holds mu_ only to copy one row.
  void sample(std::int64_t /*now_ns*/, std::span<double> out) noexcept override {
    fill_nan(out);
    if (!available_) return;
    std::lock_guard lock(mu_);
    if (!have_latest_ || ended_) return;
    std::copy(latest_.begin(), latest_.begin() + static_cast<std::ptrdiff_t>(std::min(latest_.size(), out.size())),
              out.begin());
  }

  std::uint64_t skipped_lines() const noexcept override { return skipped_lines_.load(std::memory_order_relaxed); }
  std::vector<std::string> warnings() const override {
    std::lock_guard lock(mu_);
    return warnings_;
  }

 private:
  // Returns "" on success, else the reason.
  std::string spawn(const std::string& exe, std::int64_t interval_ms) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return std::strerror(errno);
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (const int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP}) sigaddset(&defaults, sig);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::string interval = std::to_string(interval_ms);
    std::string flag = "--interval";
    std::string arg0 = exe;
    char* argv[] = {arg0.data(), flag.data(), interval.data(), nullptr};
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      return std::strerror(rc);
    }
    pid_ = pid;
    fd_ = fds[0];
    return {};
  }

  // Reader thread: owns sample_, row_, pending_ and line_number_.
  void read_loop() noexcept {
    try {
      char buf[4096];
      while (!stop_.load(std::memory_order_relaxed)) {
        pollfd p{fd_, POLLIN, 0};
        const int ready = ::poll(&p, 1, 100);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) break;
        if (ready == 0) continue;
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) break;
        pending_.append(buf, static_cast<std::size_t>(n));
        std::size_t start = 0;
        for (std::size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1)
          handle_line(std::string_view(pending_).substr(start, nl - start));
        pending_.erase(0, start);
      }
      if (!pending_.empty() && !stop_.load(std::memory_order_relaxed)) handle_line(pending_);
    } catch (...) {
      // Out of memory in the reader: end the stream; sample() then reports NaN.
    }
    std::lock_guard lock(mu_);
    ended_ = true;
    cv_.notify_all();
  }

  void handle_line(std::string_view line) {
    ++line_number_;
    if (std::all_of(line.begin(), line.end(), is_space)) return;
    try {
      parse_tegrastats_line(line, sample_);
    } catch (const InputError& e) {
      skipped_lines_.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard lock(mu_);
      if (warnings_.size() < kTegrastatsMaxWarnings)
        warnings_.emplace_back(InputError("tegrastats", line_number_, e.message()).what());
      return;
    }
    if (!have_layout_) {
      ChannelLayout layout(sample_);
      row_.assign(layout.channels().size(), kNaN);
      std::lock_guard lock(mu_);
      layout_ = std::move(layout);
      latest_.assign(row_.size(), kNaN);
      have_layout_ = true;
    }
    layout_.fill(sample_, row_);
    std::lock_guard lock(mu_);
    latest_.swap(row_);
    have_latest_ = true;
    if (!layout_ready_) {
      layout_ready_ = true;  // published with its first row, so sample() has values at once
      cv_.notify_all();
    }
  }

  void stop() noexcept {
    stop_.store(true, std::memory_order_relaxed);
    if (pid_ > 0) ::kill(-pid_, SIGTERM);
    if (reader_.joinable()) reader_.join();
    if (pid_ > 0) {
      int status = 0;
      bool reaped = false;
      for (int i = 0; i < 100 && !reaped; ++i) {
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        reaped = r == pid_ || (r < 0 && errno != EINTR);
        if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (!reaped) {
        ::kill(-pid_, SIGKILL);
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
      }
      pid_ = -1;
    }
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  // Set by the constructor, then read-only.
  bool available_ = false;
  std::string reason_;
  std::vector<Channel> channels_;
  pid_t pid_ = -1;
  int fd_ = -1;
  std::thread reader_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> skipped_lines_{0};

  // Owned by the reader thread. layout_ is written once, under mu_, before layout_ready_ is
  // set; the constructor reads it under mu_ after that, and nobody writes it again.
  TegrastatsSample sample_;
  std::vector<double> row_;
  std::string pending_;
  std::uint64_t line_number_ = 0;
  bool have_layout_ = false;
  ChannelLayout layout_;

  // Guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool layout_ready_ = false;
  bool ended_ = false;
  bool have_latest_ = false;
  std::vector<double> latest_;
  std::vector<std::string> warnings_;
};

}  // namespace

std::unique_ptr<TegrastatsCollector> open_tegrastats_collector(const CollectorOptions& options) {
  if (!options.tegrastats_log.empty()) return std::make_unique<ReplayCollector>(options.tegrastats_log);
  return std::make_unique<LiveCollector>(options);
}

std::unique_ptr<Collector> make_tegrastats_collector(const CollectorOptions& options) {
  return open_tegrastats_collector(options);
}

}  // namespace trackiq::telemetry
