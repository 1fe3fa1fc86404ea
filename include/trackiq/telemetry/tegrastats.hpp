#pragma once
// NVIDIA Jetson/DRIVE `tegrastats` output (TEL-6): a line parser, a log reader and a collector
// that runs `tegrastats --interval N` or replays a log. Formats across BSPs (JetPack 4–7, TX1 to
// Thor) are described in ../shared/notes/telemetry_sources.md §1; real lines are in
// ../shared/testdata/tegrastats/.
//
//   auto s = trackiq::telemetry::parse_tegrastats_line(
//       "RAM 936/3964MB (lfb 366x4MB) CPU [10%@102,off] GR3D_FREQ 0%@76 GPU@28C VDD_IN 920/920");
//   s.ram_used_mb;                    // 936
//   s.cpus[1].online;                 // false
//   s.find_rail("VDD_IN")->cur_mw;    // 920
//
// Parsing is by token, never by position, and every field except RAM is optional. Absent
// numbers are NaN. Numbers are read with std::from_chars (locale-independent).
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "trackiq/telemetry/collector.hpp"

namespace trackiq::telemetry {

inline constexpr double kTegrastatsAbsent = std::numeric_limits<double>::quiet_NaN();

// tegrastats prints -256C for a disabled or power-gated thermal sensor (e.g. `CV0@-256C`).
inline constexpr double kTegrastatsDisabledSensorC = -256.0;

// The `MM-DD-YYYY HH:MM:SS` prefix printed from JetPack 5 on: local wall-clock time, no zone.
// Only for labelling; durations come from the reader's monotonic clock.
struct TegrastatsTimestamp {
  int year = 0;
  int month = 0;  // 1..12
  int day = 0;    // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
  bool operator==(const TegrastatsTimestamp&) const = default;
};

// One entry of `CPU [..]`; its index in TegrastatsSample::cpus is the core number.
struct TegrastatsCpu {
  bool online = false;                     // false for `off` (hot-unplugged): util/freq NaN
  double util_pct = kTegrastatsAbsent;     // load, % of the current frequency
  double freq_mhz = kTegrastatsAbsent;     // NaN without `@freq` (non-root, old BSPs)
};

// A `NAME VALUE` unit other than EMC and GR3D: `NVENC off`, `NVENC 79%@166`, `NVDEC 716`,
// `VIC_FREQ 115`, `APE 25`, `NVENC0_FREQ @0`, `PVA0_FREQ off`...
struct TegrastatsEngine {
  std::string name;                        // as printed ("VIC_FREQ", "NVJPG1", "APE")
  bool off = false;                        // `off`: power-gated; util/freq NaN
  double util_pct = kTegrastatsAbsent;     // `p%`
  double freq_mhz = kTegrastatsAbsent;     // `@f` or a bare number
};

// `name@T[C][/maxC]`. Zone names keep the case tegrastats printed (`GPU` on JP4/5, `gpu` on
// JP6+).
struct TegrastatsTemperature {
  std::string zone;
  double temp_c = kTegrastatsAbsent;       // -256 = disabled sensor (see disabled())
  double max_c = kTegrastatsAbsent;        // JetPack 7.2 `cur/max` form only
  bool disabled() const noexcept { return temp_c == kTegrastatsDisabledSensorC; }
};

// `NAME cur/avg[/max]`, with or without `mW` (JetPack 4 and older print no unit).
// avg runs since tegrastats started.
struct TegrastatsRail {
  std::string name;                        // as printed: VDD_IN, POM_5V_GPU, SYS5V, NC...
  double cur_mw = kTegrastatsAbsent;
  double avg_mw = kTegrastatsAbsent;
  double max_mw = kTegrastatsAbsent;       // JetPack 7.2 three-value form only
};

// One parsed line. MB and kB are tegrastats' binary units (MiB, KiB).
struct TegrastatsSample {
  bool has_timestamp = false;
  TegrastatsTimestamp timestamp;

  // RAM (always present in a parsed line; includes GPU memory, which is unified on Jetson).
  double ram_used_mb = kTegrastatsAbsent;
  double ram_total_mb = kTegrastatsAbsent;
  double ram_lfb_blocks = kTegrastatsAbsent;    // largest free block: count...
  double ram_lfb_block_kb = kTegrastatsAbsent;  // ...of this size

  double swap_used_mb = kTegrastatsAbsent;
  double swap_total_mb = kTegrastatsAbsent;
  double swap_cached_mb = kTegrastatsAbsent;

  double iram_used_kb = kTegrastatsAbsent;      // TX1/Nano only
  double iram_total_kb = kTegrastatsAbsent;
  double iram_lfb_kb = kTegrastatsAbsent;

  std::vector<TegrastatsCpu> cpus;              // empty when the line has no CPU list

  double emc_util_pct = kTegrastatsAbsent;      // EMC_FREQ (old TX1: EMC)
  double emc_freq_mhz = kTegrastatsAbsent;

  double gpu_util_pct = kTegrastatsAbsent;      // GR3D_FREQ (old TX1: GR3D); NaN on Thor
  double gpu_freq_mhz = kTegrastatsAbsent;      // scalar form, or the highest of the GPC list
  std::vector<double> gpu_gpc_freq_mhz;         // `@[f,f,...]` form (JetPack 5+), else empty

  double mts_fg_pct = kTegrastatsAbsent;        // `MTS fg X% bg Y%` (Denver/Carmel, JetPack 4)
  double mts_bg_pct = kTegrastatsAbsent;

  std::vector<TegrastatsEngine> engines;        // in line order; EMC and GR3D are not repeated here
  std::vector<TegrastatsTemperature> temperatures;  // in line order
  std::vector<TegrastatsRail> rails;                // in line order (names may repeat: `NC`)

  // Mean load of the online cores; NaN when no core is online or the line has no CPU list.
  double cpu_util_avg_pct() const noexcept;

  // First entry with this exact (case-sensitive) name, or nullptr.
  const TegrastatsEngine* find_engine(std::string_view name) const noexcept;
  const TegrastatsTemperature* find_temperature(std::string_view zone) const noexcept;
  const TegrastatsRail* find_rail(std::string_view name) const noexcept;

  // The rail that measures the whole module's input, or nullptr: `VDD_IN` (TX1, TX2, Xavier NX,
  // Orin NX/Nano) or `POM_5V_IN` (Nano). AGX Xavier (`SYS5V`), AGX Orin and Thor (`VIN_SYS_5V0`)
  // print no such rail: their 5 V system rail is one supply among others, so no total is
  // claimed for them (nor for the `VIN` rail of one Thor report, whose meaning is unconfirmed).
  const TegrastatsRail* input_rail() const noexcept;
};

// Parses one tegrastats line. Tokens before `RAM` other than the tegrastats timestamp (e.g. a
// user's own `[2018-08-23 16:30:36] :`) are ignored; trailing `\r`/`\n` are whitespace.
// Throws InputError (no origin, line 0) when the line is empty, has no `RAM` field, or any token
// is malformed (truncated, unknown shape, duplicated field). Never throws anything else.
TegrastatsSample parse_tegrastats_line(std::string_view line);

// The same, into `out`, reusing its vectors and strings: once their capacities have grown, a
// line of a known shape is parsed without allocating. `out` is unspecified after a throw.
void parse_tegrastats_line(std::string_view line, TegrastatsSample& out);

// How many skipped-line messages a log reader keeps.
inline constexpr std::size_t kTegrastatsMaxWarnings = 5;

// Streams the lines of a log held in memory. Blank lines are ignored; every other line that
// does not parse (shell prompts in a captured log, truncated or garbled lines) is skipped and
// counted, and the first kTegrastatsMaxWarnings messages are kept as "origin:line: what".
// Not thread-safe; `text` must outlive the reader.
//
//   TegrastatsLogReader reader(text, "tegrastats.log");
//   TegrastatsSample s;
//   while (reader.next(s)) use(s);
//   if (reader.skipped_lines() > 0) warn(reader.warnings());
class TegrastatsLogReader {
 public:
  TegrastatsLogReader(std::string_view text, std::string origin);

  // Parses the next valid line into `out`; false at the end of the text.
  bool next(TegrastatsSample& out);

  std::uint64_t line_number() const noexcept { return line_number_; }  // of the last line read (1-based)
  std::uint64_t skipped_lines() const noexcept { return skipped_lines_; }
  const std::vector<std::string>& warnings() const noexcept { return warnings_; }

 private:
  std::string_view rest_;
  std::string origin_;
  std::uint64_t line_number_ = 0;
  std::uint64_t skipped_lines_ = 0;
  std::vector<std::string> warnings_;
};

// A whole log, parsed.
struct TegrastatsLog {
  std::vector<TegrastatsSample> samples;
  std::uint64_t skipped_lines = 0;         // non-blank lines that did not parse
  std::vector<std::string> warnings;       // "file:line: what" of the first skipped lines
};

// Reads and parses a log file. Throws InputError(path, 0, ...) when it cannot be read.
TegrastatsLog read_tegrastats_log(const std::string& path);
TegrastatsLog parse_tegrastats_log(std::string_view text, const std::string& origin);

// The tegrastats collector ("tegrastats"). Replay (options.tegrastats_log set): each sample()
// returns the next valid line of the log, then NaN once the log is exhausted. Live: runs
// `tegrastats --interval <options.tegrastats_interval_ms>` found on PATH, and sample() returns
// the latest line read by a background thread (NaN before the first line and after tegrastats
// exits). The child is stopped (SIGTERM, then SIGKILL) on destruction.
//
// Channels come from the first valid line and stay fixed (later lines fill those they have,
// NaN for the others), in this order:
//   mem.used_bytes (B), swap.used_bytes (B, if SWAP), cpu.util_pct (mean of online cores),
//   cpuN.util_pct (one per listed core; NaN while `off`), gpu0.util_pct (if GR3D has a %),
//   emc.util_pct (if EMC has a %), thermal.<zone>.temp_c (°C; NaN while -256; the PMIC zone is
//   left out: it prints a constant placeholder, 50 or 100), power.<rail>.w (instantaneous W;
//   `NC` "not connected" rails left out; repeated names once), power.total.w (the input rail of
//   TegrastatsSample::input_rail(), when the first line has one).
class TegrastatsCollector : public Collector {
 public:
  // Non-blank lines (of the log, or of tegrastats' stdout/stderr so far) that did not parse.
  virtual std::uint64_t skipped_lines() const noexcept = 0;
  // Their first "origin:line: what" messages (origin: the log path, or "tegrastats").
  virtual std::vector<std::string> warnings() const = 0;
};

// Replay: throws InputError when the log cannot be read; a log without one valid line gives an
// unavailable collector. Live: without `tegrastats` on PATH, available() is false with reason
// "not available: tegrastats not found (not a Jetson/DRIVE board)". The constructor waits up to
// 2 intervals + 1 s for the first line, to learn the channels.
std::unique_ptr<TegrastatsCollector> open_tegrastats_collector(const CollectorOptions& options);

}  // namespace trackiq::telemetry
