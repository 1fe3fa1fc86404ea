// tegrastats parser, log reader and collector (TEL-6), against the real lines in
// ../shared/testdata/tegrastats/. Golden values were read off the lines by hand.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <locale>
#include <sstream>
#include <string>
#include <vector>

#include "trackiq/core/error.hpp"
#include "trackiq/telemetry/tegrastats.hpp"
#include "support/test_paths.hpp"

namespace trackiq::telemetry {
namespace {

namespace fs = std::filesystem;

std::string data_path(const std::string& file) { return std::string(trackiq::test::kTestdataDir) + "/tegrastats/" + file; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(slurp(path));
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The `line` column of single_line_variants.tsv, in file order (header dropped).
std::vector<std::string> tsv_lines() {
  std::vector<std::string> out;
  const auto rows = lines_of(data_path("single_line_variants.tsv"));
  for (std::size_t i = 1; i < rows.size(); ++i) out.push_back(rows[i].substr(rows[i].rfind('\t') + 1));
  return out;
}

std::size_t offline_cores(const TegrastatsSample& s) {
  std::size_t n = 0;
  for (const auto& c : s.cpus) n += c.online ? 0 : 1;
  return n;
}

// A scratch directory removed at the end of a test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "trackiq-tegrastats-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const fs::path p = path / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
};

const std::vector<std::string> kLogs = {
    "agx_orin_64gb_jp6_Hanner123-LLM_PIPELINE.log",
    "nano_jp4_SumantBagri-CSC2231_Project.log",
    "orin_nano_super_jp7.2.1_r39_env-report-index68579880183.log",
    "thor_jp7_r38.4_lesomnus-tegra-exporter.log",
    "tx2_jp4_nonroot_guesswho798-log-project.log",
    "tx2_l4t28_sudo_prompt_putmotorsport-tx2-deep-learning-kit-bsp.log",
    "xavier_nx_jp5_nonroot_bjgeiser-tegra_burn.log",
};

// ---- every real log ------------------------------------------------------------------------

TEST(TegrastatsLog, EveryTestdataLogParsesWithOnlyTheShellPromptLinesSkipped) {
  for (const auto& file : kLogs) {
    SCOPED_TRACE(file);
    const TegrastatsLog log = read_tegrastats_log(data_path(file));
    std::size_t ram_lines = 0;
    for (const auto& l : lines_of(data_path(file))) ram_lines += l.find("RAM ") != std::string::npos;
    EXPECT_EQ(log.samples.size(), ram_lines);
    if (file.starts_with("tx2_l4t28")) {
      // The capture starts with the shell prompt and sudo's password prompt (and ends with a
      // blank line, which is not counted).
      EXPECT_EQ(log.skipped_lines, 2u);
      ASSERT_EQ(log.warnings.size(), 2u);
      EXPECT_EQ(log.warnings[0], data_path(file) + ":1: not a tegrastats line (no RAM field): "
                                                   "'nvidia@linux:~$ sudo /usr/bin/tegrastats...'");
      EXPECT_TRUE(log.warnings[1].starts_with(data_path(file) + ":2: not a tegrastats line")) << log.warnings[1];
    } else {
      EXPECT_EQ(log.skipped_lines, 0u);
      EXPECT_TRUE(log.warnings.empty());
    }
  }
}

TEST(TegrastatsLog, EverySingleLineVariantParses) {
  const auto lines = tsv_lines();
  ASSERT_EQ(lines.size(), 18u);
  for (const auto& line : lines) {
    SCOPED_TRACE(line);
    const TegrastatsSample s = parse_tegrastats_line(line);
    EXPECT_GT(s.ram_total_mb, 0);
    EXPECT_FALSE(s.cpus.empty());
  }
}

// ---- golden values, one line per device log -------------------------------------------------

TEST(TegrastatsGolden, NanoJetPack4LineHasIramPomRailsAndNoTimestamp) {
  const auto s = parse_tegrastats_line(lines_of(data_path(kLogs[1]))[2]);
  EXPECT_FALSE(s.has_timestamp);
  EXPECT_EQ(s.ram_used_mb, 1095);
  EXPECT_EQ(s.ram_total_mb, 3964);
  EXPECT_EQ(s.ram_lfb_blocks, 336);
  EXPECT_EQ(s.ram_lfb_block_kb, 4096);
  EXPECT_EQ(s.swap_used_mb, 0);
  EXPECT_EQ(s.swap_total_mb, 4096);
  EXPECT_EQ(s.swap_cached_mb, 0);
  EXPECT_EQ(s.iram_used_kb, 0);
  EXPECT_EQ(s.iram_total_kb, 252);
  EXPECT_EQ(s.iram_lfb_kb, 252);
  ASSERT_EQ(s.cpus.size(), 4u);
  EXPECT_TRUE(s.cpus[0].online);
  EXPECT_EQ(s.cpus[0].util_pct, 72);
  EXPECT_EQ(s.cpus[0].freq_mhz, 1479);
  EXPECT_EQ(s.cpus[3].util_pct, 26);
  EXPECT_DOUBLE_EQ(s.cpu_util_avg_pct(), (72 + 12 + 8 + 26) / 4.0);
  EXPECT_EQ(s.emc_util_pct, 1);
  EXPECT_EQ(s.emc_freq_mhz, 1600);
  EXPECT_EQ(s.gpu_util_pct, 42);
  EXPECT_EQ(s.gpu_freq_mhz, 76);
  EXPECT_TRUE(s.gpu_gpc_freq_mhz.empty());
  ASSERT_NE(s.find_engine("APE"), nullptr);
  EXPECT_EQ(s.find_engine("APE")->freq_mhz, 25);
  ASSERT_EQ(s.temperatures.size(), 6u);
  EXPECT_EQ(s.temperatures[1].zone, "CPU");
  EXPECT_EQ(s.temperatures[1].temp_c, 28.5);
  EXPECT_TRUE(std::isnan(s.temperatures[1].max_c));
  EXPECT_EQ(s.find_temperature("PMIC")->temp_c, 50);
  ASSERT_EQ(s.rails.size(), 3u);
  EXPECT_EQ(s.rails[0].name, "POM_5V_IN");
  EXPECT_EQ(s.rails[0].cur_mw, 2793);
  EXPECT_EQ(s.rails[0].avg_mw, 1750);
  EXPECT_TRUE(std::isnan(s.rails[0].max_mw));
  EXPECT_EQ(s.find_rail("POM_5V_GPU")->cur_mw, 76);
  EXPECT_EQ(s.find_rail("POM_5V_GPU")->avg_mw, 25);
  ASSERT_NE(s.input_rail(), nullptr);
  EXPECT_EQ(s.input_rail()->name, "POM_5V_IN");
}

TEST(TegrastatsGolden, Tx2JetPack4NonRootLineHasNoSwapEmcOrGpuButUnitlessRails) {
  const auto s = parse_tegrastats_line(lines_of(data_path(kLogs[4]))[1]);
  EXPECT_EQ(s.ram_used_mb, 2631);
  EXPECT_EQ(s.ram_total_mb, 7850);
  EXPECT_TRUE(std::isnan(s.swap_used_mb));
  EXPECT_TRUE(std::isnan(s.emc_util_pct));
  EXPECT_TRUE(std::isnan(s.gpu_util_pct));
  EXPECT_TRUE(std::isnan(s.gpu_freq_mhz));
  ASSERT_EQ(s.cpus.size(), 6u);
  EXPECT_EQ(s.cpus[0].util_pct, 18);
  EXPECT_EQ(s.cpus[0].freq_mhz, 2035);
  EXPECT_EQ(s.cpus[1].util_pct, 0);
  EXPECT_TRUE(s.cpus[1].online);
  EXPECT_EQ(s.find_temperature("Tdiode")->temp_c, 31.25);
  EXPECT_EQ(s.find_temperature("thermal")->temp_c, 34);
  EXPECT_EQ(s.find_rail("VDD_IN")->cur_mw, 3642);
  EXPECT_EQ(s.find_rail("VDD_IN")->avg_mw, 3633);
  EXPECT_EQ(s.find_rail("VDD_WIFI")->cur_mw, 0);
  EXPECT_EQ(s.rails.size(), 6u);
  EXPECT_TRUE(s.engines.empty());
}

TEST(TegrastatsGolden, Tx2L4T28LineHasDenverCoresOffAndGpuFrequencyWithoutLoad) {
  const auto s = parse_tegrastats_line(lines_of(data_path(kLogs[5]))[3]);
  EXPECT_EQ(s.ram_used_mb, 288);
  EXPECT_EQ(s.ram_total_mb, 7860);
  EXPECT_EQ(s.ram_lfb_blocks, 1808);
  ASSERT_EQ(s.cpus.size(), 6u);
  EXPECT_EQ(s.cpus[0].util_pct, 45);
  EXPECT_EQ(s.cpus[0].freq_mhz, 2033);
  EXPECT_FALSE(s.cpus[1].online);
  EXPECT_FALSE(s.cpus[2].online);
  EXPECT_TRUE(std::isnan(s.cpus[1].util_pct));
  EXPECT_EQ(s.cpus[3].util_pct, 39);
  EXPECT_EQ(s.cpus[3].freq_mhz, 2030);
  EXPECT_DOUBLE_EQ(s.cpu_util_avg_pct(), (45 + 39 + 43 + 42) / 4.0);
  EXPECT_TRUE(std::isnan(s.gpu_util_pct));
  EXPECT_EQ(s.gpu_freq_mhz, 0);
  EXPECT_EQ(s.find_temperature("thermal")->temp_c, 28.7);
  EXPECT_EQ(s.find_rail("VDD_IN")->cur_mw, 3445);
  EXPECT_EQ(s.find_rail("VDD_IN")->avg_mw, 3505);
  EXPECT_EQ(s.find_rail("VDD_4V0_WIFI")->cur_mw, 38);
}

TEST(TegrastatsGolden, XavierNxJetPack5NonRootLineHasLoadsWithoutFrequencies) {
  const auto s = parse_tegrastats_line(lines_of(data_path(kLogs[6]))[1]);
  ASSERT_TRUE(s.has_timestamp);
  EXPECT_EQ(s.timestamp, (TegrastatsTimestamp{2025, 10, 1, 20, 5, 56}));
  EXPECT_EQ(s.ram_used_mb, 2303);
  EXPECT_EQ(s.ram_total_mb, 6834);
  EXPECT_EQ(s.swap_used_mb, 542);
  EXPECT_EQ(s.swap_cached_mb, 2);
  ASSERT_EQ(s.cpus.size(), 6u);
  EXPECT_EQ(s.cpus[2].util_pct, 100);
  EXPECT_EQ(s.cpus[2].freq_mhz, 1189);
  EXPECT_FALSE(s.cpus[4].online);
  EXPECT_FALSE(s.cpus[5].online);
  EXPECT_EQ(s.emc_util_pct, 0);
  EXPECT_TRUE(std::isnan(s.emc_freq_mhz));
  EXPECT_EQ(s.gpu_util_pct, 32);
  EXPECT_TRUE(std::isnan(s.gpu_freq_mhz));
  EXPECT_EQ(s.find_temperature("thermal")->temp_c, 38);
  EXPECT_EQ(s.find_temperature("AUX")->temp_c, 36.5);
  EXPECT_EQ(s.find_rail("VDD_CPU_GPU_CV")->cur_mw, 1674);
  EXPECT_EQ(s.find_rail("VDD_CPU_GPU_CV")->avg_mw, 1634);
  EXPECT_EQ(s.input_rail()->name, "VDD_IN");
}

TEST(TegrastatsGolden, AgxOrinLineHasGpcListEnginesOffAndNoInputRail) {
  const auto s = parse_tegrastats_line(lines_of(data_path(kLogs[0]))[1]);
  EXPECT_EQ(s.timestamp, (TegrastatsTimestamp{2025, 7, 21, 16, 33, 43}));
  EXPECT_EQ(s.ram_used_mb, 17955);
  EXPECT_EQ(s.ram_total_mb, 62841);
  EXPECT_EQ(s.swap_total_mb, 31420);
  ASSERT_EQ(s.cpus.size(), 12u);
  EXPECT_EQ(s.cpus[0].util_pct, 20);
  EXPECT_EQ(s.cpus[0].freq_mhz, 1728);
  EXPECT_EQ(s.cpus[7].util_pct, 1);
  EXPECT_EQ(s.cpus[7].freq_mhz, 729);
  EXPECT_EQ(offline_cores(s), 4u);
  EXPECT_FALSE(s.cpus[11].online);
  EXPECT_EQ(s.emc_util_pct, 12);
  EXPECT_EQ(s.emc_freq_mhz, 204);
  EXPECT_EQ(s.gpu_util_pct, 40);
  EXPECT_EQ(s.gpu_gpc_freq_mhz, (std::vector<double>{305, 0}));
  EXPECT_EQ(s.gpu_freq_mhz, 305);
  ASSERT_EQ(s.engines.size(), 10u);
  EXPECT_EQ(s.engines[0].name, "NVENC");
  EXPECT_TRUE(s.engines[0].off);
  EXPECT_TRUE(s.find_engine("PVA0_FREQ")->off);
  EXPECT_EQ(s.find_engine("APE")->freq_mhz, 174);
  EXPECT_EQ(s.find_temperature("tj")->temp_c, 43.625);
  EXPECT_EQ(s.find_temperature("gpu")->temp_c, 40.062);
  EXPECT_EQ(s.find_rail("VIN_SYS_5V0")->cur_mw, 3215);
  EXPECT_EQ(s.find_rail("VIN_SYS_5V0")->avg_mw, 3265);
  EXPECT_EQ(s.input_rail(), nullptr);
}

TEST(TegrastatsGolden, OrinNanoSuperJetPack72LineHasTemperatureMaximaAndThreeValueRails) {
  const auto s = parse_tegrastats_line(lines_of(data_path(kLogs[2]))[1]);
  EXPECT_EQ(s.timestamp, (TegrastatsTimestamp{2026, 9, 19, 13, 33, 3}));
  EXPECT_EQ(s.ram_used_mb, 2845);
  EXPECT_EQ(s.ram_total_mb, 7486);
  EXPECT_EQ(s.ram_lfb_blocks, 33);
  EXPECT_TRUE(std::isnan(s.swap_used_mb));
  ASSERT_EQ(s.cpus.size(), 6u);
  EXPECT_EQ(s.cpus[0].util_pct, 1);
  EXPECT_EQ(s.cpus[0].freq_mhz, 729);
  EXPECT_EQ(s.gpu_util_pct, 0);
  EXPECT_EQ(s.gpu_gpc_freq_mhz, (std::vector<double>{305}));
  EXPECT_TRUE(s.find_engine("NVDEC0")->off);
  const auto* cpu = s.find_temperature("cpu");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->temp_c, 45.375);
  EXPECT_EQ(cpu->max_c, 45.812);
  const auto* in = s.find_rail("VDD_IN");
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(in->cur_mw, 3462);
  EXPECT_EQ(in->avg_mw, 3522);
  EXPECT_EQ(in->max_mw, 3582);
  EXPECT_EQ(s.input_rail(), in);
}

TEST(TegrastatsGolden, ThorLineHasGpcFrequenciesWithoutLoadAndFreqOnlyEngines) {
  const auto s = parse_tegrastats_line(lines_of(data_path(kLogs[3]))[1]);
  EXPECT_EQ(s.timestamp, (TegrastatsTimestamp{2026, 5, 17, 10, 0, 33}));
  EXPECT_EQ(s.ram_used_mb, 4280);
  EXPECT_EQ(s.ram_total_mb, 125773);
  EXPECT_EQ(s.ram_lfb_blocks, 29);
  ASSERT_EQ(s.cpus.size(), 14u);
  EXPECT_EQ(s.cpus[9].util_pct, 17);
  EXPECT_EQ(s.cpus[9].freq_mhz, 2601);
  EXPECT_EQ(offline_cores(s), 0u);
  EXPECT_TRUE(std::isnan(s.gpu_util_pct));
  EXPECT_EQ(s.gpu_gpc_freq_mhz, (std::vector<double>{0, 0, 0}));
  const auto* enc = s.find_engine("NVENC0_FREQ");
  ASSERT_NE(enc, nullptr);
  EXPECT_FALSE(enc->off);
  EXPECT_TRUE(std::isnan(enc->util_pct));
  EXPECT_EQ(enc->freq_mhz, 0);
  EXPECT_TRUE(s.find_engine("VIC")->off);
  EXPECT_EQ(s.find_engine("APE")->freq_mhz, 300);
  EXPECT_EQ(s.find_temperature("soc012")->temp_c, 36.062);
  EXPECT_EQ(s.find_rail("VDD_CPU_SOC_MSS")->cur_mw, 4923);
  EXPECT_EQ(s.find_rail("VDD_CPU_SOC_MSS")->avg_mw, 4544);
  EXPECT_EQ(s.input_rail(), nullptr);
}

// ---- single_line_variants.tsv ----------------------------------------------------------------

struct Variant {
  double ram_used, ram_total;
  std::size_t cores, cores_off;
  double gpu_pct, gpu_mhz;  // NaN: absent
  const char* zone;
  double temp_c;
  const char* rail;  // nullptr: the line has no rails
  double cur_mw, avg_mw;
};

constexpr double kNone = kTegrastatsAbsent;

// Row i = data row i+1 of the TSV.
const Variant kVariants[] = {
    {3468, 3983, 4, 0, 3, 76, nullptr, 0, nullptr, 0, 0},                    // TX1 L4T 28.1 old
    {1179, 3983, 4, 0, 0, 76, "Tdiode", 42.75, "VDD_IN", 2532, 2698},        // TX1 28.x
    {2344, 7852, 6, 2, 0, 624, "Tdiode", 34.25, "VDD_SYS_DDR", 883, 883},   // TX2 L4T 28
    {534, 3964, 4, 0, 0, 76, "thermal", 36.25, "POM_5V_CPU", 204, 204},     // Nano
    {1923, 3964, 4, 0, 0, 76, "AO", 45, "POM_5V_IN", 1750, 1628},           // Nano 4.6.1
    {1758, 3956, 4, 2, 0, kNone, "thermal", 41.75, nullptr, 0, 0},          // Nano non-root
    {721, 31927, 8, 4, 0, 318, "thermal", 36.9, "CPU", 311, 311},           // AGX Xavier
    {4412, 7772, 6, 0, 62, 306, "thermal", 42.55, "VDD_SOC", 1353, 1353},   // Xavier NX JP4
    {5246, 7771, 6, 0, 0, 1109, "GPU", 31.5, "VDD_IN", 6140, 5510},         // Xavier NX 4.1.1
    {3168, 6851, 6, 0, 0, 114, "thermal", 45.6, "VDD_SOC", 650, 711},       // Xavier NX 5.1.2
    {6334, 15388, 8, 4, 0, 611, "tj", 48.875, "VDD_IN", 5299, 5299},        // Orin NX 16GB
    {29114, 30697, 12, 0, 0, 305, "gpu", 47.812, "VIN_SYS_5V0", 4767, 4767},  // AGX Orin R36
    {2448, 62840, 12, 0, 0, kNone, "cpu", 42, "VDD_GPU_SOC", 4940, 4940},   // AGX Orin non-root
    {18207, 62841, 12, 0, 0, 0, "tj", 52.562, "VDD_CPU_CV", 1607, 1607},    // AGX Orin R36.4.4
    {4321, 62801, 12, 0, 0, 0, "CPU", 44.562, "VDDQ_VDD2_1V8AO", 301, 301},  // AGX Orin extra rails
    {6185, 7620, 6, 0, 63, 621, "tj", 53.968, "VDD_IN", 12479, 12479},      // Orin Nano 8GB
    {2845, 7486, 6, 0, 0, 305, "soc1", 46.281, "VDD_CPU_GPU_CV", 442, 483},  // Orin Nano Super
    {4280, 125773, 14, 0, kNone, 0, "soc345", 34.5, "VIN_SYS_5V0", 4327, 4227},  // Thor
};

void expect_same_or_both_absent(double actual, double expected, const char* what) {
  if (std::isnan(expected)) {
    EXPECT_TRUE(std::isnan(actual)) << what << " = " << actual;
  } else {
    EXPECT_EQ(actual, expected) << what;
  }
}

TEST(TegrastatsVariants, EachRowMatchesItsHandCheckedValues) {
  const auto lines = tsv_lines();
  ASSERT_EQ(lines.size(), std::size(kVariants));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    SCOPED_TRACE("TSV data row " + std::to_string(i + 1) + ": " + lines[i]);
    const Variant& v = kVariants[i];
    const auto s = parse_tegrastats_line(lines[i]);
    EXPECT_EQ(s.ram_used_mb, v.ram_used);
    EXPECT_EQ(s.ram_total_mb, v.ram_total);
    EXPECT_EQ(s.cpus.size(), v.cores);
    EXPECT_EQ(offline_cores(s), v.cores_off);
    expect_same_or_both_absent(s.gpu_util_pct, v.gpu_pct, "GR3D %");
    expect_same_or_both_absent(s.gpu_freq_mhz, v.gpu_mhz, "GR3D MHz");
    if (v.zone != nullptr) {
      const auto* t = s.find_temperature(v.zone);
      ASSERT_NE(t, nullptr) << v.zone;
      EXPECT_EQ(t->temp_c, v.temp_c);
    } else {
      EXPECT_TRUE(s.temperatures.empty());
    }
    if (v.rail != nullptr) {
      const auto* r = s.find_rail(v.rail);
      ASSERT_NE(r, nullptr) << v.rail;
      EXPECT_EQ(r->cur_mw, v.cur_mw);
      EXPECT_EQ(r->avg_mw, v.avg_mw);
    } else {
      EXPECT_TRUE(s.rails.empty());
    }
  }
}

TEST(TegrastatsVariants, OldTx1FormatSharesOneFrequencyAcrossTheCpuList) {
  const auto s = parse_tegrastats_line(tsv_lines()[0]);
  ASSERT_EQ(s.cpus.size(), 4u);
  EXPECT_EQ(s.cpus[2].util_pct, 29);
  for (const auto& c : s.cpus) EXPECT_EQ(c.freq_mhz, 408);
  EXPECT_EQ(s.emc_util_pct, 1);
  EXPECT_EQ(s.emc_freq_mhz, 408);
  EXPECT_EQ(s.swap_cached_mb, 295);
  EXPECT_EQ(s.find_engine("APE")->freq_mhz, 25);
}

TEST(TegrastatsVariants, AgxXavierRailsNamedCpuAndGpuAreRailsNotFields) {
  const auto s = parse_tegrastats_line(tsv_lines()[6]);
  EXPECT_EQ(s.cpus.size(), 8u);
  EXPECT_EQ(s.mts_fg_pct, 0);
  EXPECT_EQ(s.mts_bg_pct, 0);
  ASSERT_EQ(s.rails.size(), 6u);
  EXPECT_EQ(s.rails[0].name, "GPU");
  EXPECT_EQ(s.rails[5].name, "SYS5V");
  EXPECT_EQ(s.rails[5].cur_mw, 1482);
  EXPECT_EQ(s.input_rail(), nullptr);
  EXPECT_EQ(s.find_temperature("GPU")->temp_c, 37.5);
}

TEST(TegrastatsVariants, MtsForegroundAndBackgroundAreNotSwapped) {
  const auto s = parse_tegrastats_line(tsv_lines()[8]);
  EXPECT_EQ(s.mts_fg_pct, 1);
  EXPECT_EQ(s.mts_bg_pct, 9);
}

TEST(TegrastatsVariants, IrregularPaddingParsesLikeSingleSpaces) {
  const auto s = parse_tegrastats_line(tsv_lines()[11]);
  EXPECT_EQ(s.swap_used_mb, 4915);
  EXPECT_EQ(s.swap_cached_mb, 1);
  EXPECT_EQ(s.engines.size(), 10u);
  EXPECT_TRUE(s.find_engine("NVJPG1")->off);
  EXPECT_EQ(s.find_engine("APE")->freq_mhz, 174);
  EXPECT_EQ(s.cpus[5].util_pct, 100);
  EXPECT_EQ(s.cpus[5].freq_mhz, 2201);
}

TEST(TegrastatsVariants, BusyEnginesReportLoadAndFrequency) {
  const auto s = parse_tegrastats_line(tsv_lines()[13]);
  const auto* enc = s.find_engine("NVENC");
  ASSERT_NE(enc, nullptr);
  EXPECT_EQ(enc->util_pct, 79);
  EXPECT_EQ(enc->freq_mhz, 166);
  EXPECT_EQ(s.find_engine("VIC")->util_pct, 36);
  EXPECT_EQ(s.find_engine("VIC")->freq_mhz, 115);
}

TEST(TegrastatsVariants, DisabledSensorsAndRepeatedNcRailsAreKeptAsPrinted) {
  const auto s = parse_tegrastats_line(tsv_lines()[14]);
  const auto* cv0 = s.find_temperature("CV0");
  ASSERT_NE(cv0, nullptr);
  EXPECT_EQ(cv0->temp_c, -256);
  EXPECT_TRUE(cv0->disabled());
  EXPECT_TRUE(s.find_temperature("GPU")->disabled());
  EXPECT_FALSE(s.find_temperature("CPU")->disabled());
  ASSERT_EQ(s.rails.size(), 6u);
  EXPECT_EQ(s.rails[3].name, "NC");
  EXPECT_EQ(s.rails[5].name, "NC");
}

TEST(TegrastatsVariants, NonRootNanoHasNoFrequenciesAndNoRails) {
  const auto s = parse_tegrastats_line(tsv_lines()[5]);
  EXPECT_EQ(s.cpus[0].util_pct, 28);
  EXPECT_EQ(s.cpus[0].freq_mhz, 921);
  EXPECT_EQ(s.emc_util_pct, 0);
  EXPECT_TRUE(std::isnan(s.emc_freq_mhz));
  EXPECT_TRUE(s.rails.empty());
  EXPECT_EQ(s.input_rail(), nullptr);
}

// ---- prefixes, whitespace, locale -----------------------------------------------------------

constexpr const char* kNanoLine =
    "RAM 936/3964MB (lfb 366x4MB) SWAP 0/4096MB (cached 0MB) IRAM 0/252kB(lfb 252kB) "
    "CPU [10%@102,3%@102,0%@102,0%@102] EMC_FREQ 0%@204 GR3D_FREQ 0%@76 APE 25 PLL@24C CPU@27.5C "
    "PMIC@50C GPU@28C AO@29.5C thermal@28C POM_5V_IN 920/920 POM_5V_GPU 0/0 POM_5V_CPU 119/119";

TEST(TegrastatsPrefix, LeadingTimestampIsParsedMonthFirst) {
  const auto s = parse_tegrastats_line(std::string("11-06-2024 10:22:33 ") + kNanoLine);
  ASSERT_TRUE(s.has_timestamp);
  EXPECT_EQ(s.timestamp, (TegrastatsTimestamp{2024, 11, 6, 10, 22, 33}));
  EXPECT_EQ(s.ram_used_mb, 936);
}

TEST(TegrastatsPrefix, LineWithoutTimestampHasNone) {
  const auto s = parse_tegrastats_line(kNanoLine);
  EXPECT_FALSE(s.has_timestamp);
  EXPECT_EQ(s.timestamp, TegrastatsTimestamp{});
}

TEST(TegrastatsPrefix, UsersOwnPrefixBeforeRamIsIgnored) {
  const auto s = parse_tegrastats_line(std::string("[2018-08-23 16:30:36] : ") + kNanoLine);
  EXPECT_FALSE(s.has_timestamp);
  EXPECT_EQ(s.ram_used_mb, 936);
  EXPECT_EQ(s.rails.size(), 3u);
}

TEST(TegrastatsPrefix, OutOfRangeTimestampIsMalformed) {
  EXPECT_THROW(parse_tegrastats_line(std::string("13-06-2024 10:22:33 ") + kNanoLine), InputError);
  EXPECT_THROW(parse_tegrastats_line(std::string("11-06-2024 25:22:33 ") + kNanoLine), InputError);
}

TEST(TegrastatsWhitespace, TabsCarriageReturnsAndSpacedCpuListsAreAccepted) {
  const auto s = parse_tegrastats_line(
      "RAM 100/200MB\t(lfb 2x128kB)  CPU [6%@1420, off, off, off] GR3D_FREQ 5%@[305, 0]  tj@40C\r\n");
  EXPECT_EQ(s.ram_lfb_block_kb, 128);
  ASSERT_EQ(s.cpus.size(), 4u);
  EXPECT_EQ(s.cpus[0].util_pct, 6);
  EXPECT_EQ(offline_cores(s), 3u);
  EXPECT_EQ(s.gpu_gpc_freq_mhz, (std::vector<double>{305, 0}));
  EXPECT_EQ(s.find_temperature("tj")->temp_c, 40);
}

TEST(TegrastatsLocale, NumbersParseTheSameUnderACommaDecimalLocale) {
  const char* found = nullptr;
  for (const char* name : {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8"}) {
    if (std::setlocale(LC_ALL, name) != nullptr) {
      found = name;
      break;
    }
  }
  if (found == nullptr) GTEST_SKIP() << "no comma-decimal locale installed";
  std::locale::global(std::locale(found));
  const auto s = parse_tegrastats_line(kNanoLine);
  std::locale::global(std::locale::classic());
  std::setlocale(LC_ALL, "C");
  EXPECT_EQ(s.find_temperature("CPU")->temp_c, 27.5);
  EXPECT_EQ(s.find_temperature("AO")->temp_c, 29.5);
}

// ---- malformed input ------------------------------------------------------------------------

TEST(TegrastatsMalformed, EmptyGarbageAndBrokenFieldsThrowInputError) {
  for (const char* bad : {
           "",
           "   \t ",
           "garbage",
           "nvidia@linux:~$ sudo tegrastats",
           "RAM",
           "RAM 936/MB",
           "RAM 936/3964",
           "RAM 936/3964MB (lfb 366x4)",
           "RAM 936/3964MB CPU [10%@102,3%@10",
           "RAM 936/3964MB CPU [10%@102,,0%@102]",
           "RAM 936/3964MB CPU []",
           "RAM 936/3964MB CPU [10@102]",
           "RAM 936/3964MB GR3D_FREQ 0%@",
           "RAM 936/3964MB GR3D_FREQ abc",
           "RAM 936/3964MB EMC_FREQ 0%@[1,",
           "RAM 936/3964MB CPU@27.5",
           "RAM 936/3964MB CPU@C",
           "RAM 936/3964MB POM_5V_IN 920/",
           "RAM 936/3964MB POM_5V_IN 1/2/3/4",
           "RAM 936/3964MB POM_5V_IN",
           "RAM 936/3964MB APE",
           "RAM 936/3964MB MTS fg 0%",
           "RAM 936/3964MB SWAP 0/4096MB (cached",
           "RAM 936/3964MB RAM 936/3964MB",
           "RAM 936/3964MB CPU [1%] CPU [1%]",
           "RAM 936/3964MB (((",
           "RAM 936/3964MB POM_5V_IN nan/inf",
           "RAM 1e999/3964MB",
       }) {
    EXPECT_THROW(parse_tegrastats_line(bad), InputError) << "'" << bad << "'";
  }
}

TEST(TegrastatsMalformed, EveryTruncationOfARealLineParsesOrThrowsInputError) {
  const std::string line = std::string("11-06-2024 10:22:33 ") + kNanoLine;
  std::size_t rejected = 0;
  for (std::size_t n = 0; n <= line.size(); ++n) {
    try {
      (void)parse_tegrastats_line(std::string_view(line).substr(0, n));
    } catch (const InputError&) {
      ++rejected;
    }
  }
  // Truncations that end exactly on a complete token are valid lines; most are not.
  EXPECT_GT(rejected, line.size() / 2);
}

TEST(TegrastatsMalformed, ErrorMessageNamesTheOffendingToken) {
  try {
    (void)parse_tegrastats_line("RAM 936/3964MB GR3D_FREQ 0%@x");
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "malformed GR3D '0%@x'");
  }
}

TEST(TegrastatsLogReader, MalformedLinesAreCountedWithFileAndLineAndBlankLinesIgnored) {
  std::string text = std::string(kNanoLine) + "\n\n";     // 1 valid, 2 blank
  text += "RAM 1/2MB CPU [1%@1,\n";                         // 3 truncated
  text += "\r\n";                                           // 4 blank (CRLF)
  text += "\x01\x02\xff binary\n";                          // 5 garbage
  text += std::string(kNanoLine) + "\r\n";                  // 6 valid
  for (int i = 0; i < 6; ++i) text += "oops\n";             // 7..12 garbage
  text += kNanoLine;                                        // 13 valid, no final newline
  const TegrastatsLog log = parse_tegrastats_log(text, "t.log");
  EXPECT_EQ(log.samples.size(), 3u);
  EXPECT_EQ(log.skipped_lines, 8u);
  ASSERT_EQ(log.warnings.size(), kTegrastatsMaxWarnings);
  EXPECT_TRUE(log.warnings[0].starts_with("t.log:3: unterminated '['")) << log.warnings[0];
  EXPECT_EQ(log.warnings[1], "t.log:5: not a tegrastats line (no RAM field): '??? binary'");
  EXPECT_TRUE(log.warnings[2].starts_with("t.log:7: ")) << log.warnings[2];
}

TEST(TegrastatsLogReader, UnreadableFileIsAnInputErrorNamingThePath) {
  try {
    (void)read_tegrastats_log("/nonexistent/tegrastats.log");
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_EQ(e.origin(), "/nonexistent/tegrastats.log");
  }
}

TEST(TegrastatsParser, ReusingASampleGivesTheSameResultAsAFreshOne) {
  TegrastatsSample reused;
  for (const auto& line : tsv_lines()) {
    parse_tegrastats_line(line, reused);
    const TegrastatsSample fresh = parse_tegrastats_line(line);
    EXPECT_EQ(reused.cpus.size(), fresh.cpus.size());
    ASSERT_EQ(reused.rails.size(), fresh.rails.size());
    for (std::size_t i = 0; i < fresh.rails.size(); ++i) EXPECT_EQ(reused.rails[i].name, fresh.rails[i].name);
    ASSERT_EQ(reused.temperatures.size(), fresh.temperatures.size());
    for (std::size_t i = 0; i < fresh.temperatures.size(); ++i)
      EXPECT_EQ(reused.temperatures[i].max_c == fresh.temperatures[i].max_c ||
                    (std::isnan(reused.temperatures[i].max_c) && std::isnan(fresh.temperatures[i].max_c)),
                true);
    EXPECT_EQ(reused.engines.size(), fresh.engines.size());
    EXPECT_EQ(reused.gpu_gpc_freq_mhz, fresh.gpu_gpc_freq_mhz);
    EXPECT_EQ(std::isnan(reused.swap_used_mb), std::isnan(fresh.swap_used_mb));
    EXPECT_EQ(reused.has_timestamp, fresh.has_timestamp);
  }
}

// ---- replay collector -----------------------------------------------------------------------

std::vector<std::string> channel_names(const Collector& c) {
  std::vector<std::string> out;
  for (const auto& ch : c.channels()) out.push_back(ch.name);
  return out;
}

std::vector<double> sample_row(Collector& c) {
  std::vector<double> row(c.channels().size(), 0.0);
  c.sample(0, row);
  return row;
}

long index_of(const Collector& c, const std::string& name) {
  const auto names = channel_names(c);
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<long>(i);
  return -1;
}

TEST(TegrastatsReplay, NanoLogChannelsComeFromTheFirstLine) {
  CollectorOptions o;
  o.tegrastats_log = data_path(kLogs[1]);
  const auto c = open_tegrastats_collector(o);
  ASSERT_TRUE(c->available()) << c->reason();
  EXPECT_EQ(c->name(), "tegrastats");
  EXPECT_EQ(channel_names(*c),
            (std::vector<std::string>{"mem.used_bytes", "swap.used_bytes", "cpu.util_pct", "cpu0.util_pct",
                                      "cpu1.util_pct", "cpu2.util_pct", "cpu3.util_pct", "gpu0.util_pct",
                                      "emc.util_pct", "thermal.PLL.temp_c", "thermal.CPU.temp_c",
                                      "thermal.GPU.temp_c", "thermal.AO.temp_c", "thermal.thermal.temp_c",
                                      "power.POM_5V_IN.w", "power.POM_5V_GPU.w", "power.POM_5V_CPU.w",
                                      "power.total.w"}));
  EXPECT_EQ(c->channels()[0].unit, "B");
  EXPECT_EQ(c->channels()[2].unit, "%");
  EXPECT_EQ(c->channels()[9].unit, "°C");
  EXPECT_EQ(c->channels()[14].unit, "W");
  EXPECT_EQ(c->skipped_lines(), 0u);
}

TEST(TegrastatsReplay, EachSampleIsTheNextLineThenNaNAfterTheEnd) {
  CollectorOptions o;
  o.tegrastats_log = data_path(kLogs[1]);
  auto c = open_tegrastats_collector(o);
  ASSERT_TRUE(c->available());
  const auto first = sample_row(*c);
  EXPECT_EQ(first[0], 936.0 * 1024 * 1024);
  EXPECT_EQ(first[1], 0.0);
  EXPECT_DOUBLE_EQ(first[2], (10 + 3 + 0 + 0) / 4.0);
  EXPECT_EQ(first[3], 10);
  EXPECT_EQ(first[7], 0);                            // GR3D
  EXPECT_EQ(first[10], 27.5);                        // CPU zone
  EXPECT_DOUBLE_EQ(first[14], 0.920);                // POM_5V_IN, W
  EXPECT_DOUBLE_EQ(first[16], 0.119);
  EXPECT_DOUBLE_EQ(first[17], 0.920);                // total = POM_5V_IN
  (void)sample_row(*c);
  const auto third = sample_row(*c);
  EXPECT_EQ(third[0], 1095.0 * 1024 * 1024);
  EXPECT_EQ(third[7], 42);
  EXPECT_DOUBLE_EQ(third[15], 0.076);
  for (int i = 3; i < 30; ++i) {
    const auto row = sample_row(*c);
    EXPECT_FALSE(std::isnan(row[0])) << "line " << i + 1;
  }
  for (const double v : sample_row(*c)) EXPECT_TRUE(std::isnan(v));
  for (const double v : sample_row(*c)) EXPECT_TRUE(std::isnan(v));
}

TEST(TegrastatsReplay, OfflineCoresAreNaNAndLeftOutOfTheAverage) {
  CollectorOptions o;
  o.tegrastats_log = data_path(kLogs[6]);
  auto c = open_tegrastats_collector(o);
  ASSERT_TRUE(c->available());
  const auto row = sample_row(*c);
  EXPECT_DOUBLE_EQ(row[static_cast<std::size_t>(index_of(*c, "cpu.util_pct"))], (99 + 100 + 100 + 98) / 4.0);
  EXPECT_EQ(row[static_cast<std::size_t>(index_of(*c, "cpu0.util_pct"))], 99);
  EXPECT_TRUE(std::isnan(row[static_cast<std::size_t>(index_of(*c, "cpu4.util_pct"))]));
  EXPECT_EQ(row[static_cast<std::size_t>(index_of(*c, "gpu0.util_pct"))], 22);
  EXPECT_EQ(row[static_cast<std::size_t>(index_of(*c, "emc.util_pct"))], 0);
  EXPECT_DOUBLE_EQ(row[static_cast<std::size_t>(index_of(*c, "power.total.w"))], 5.542);
  EXPECT_EQ(index_of(*c, "thermal.PMIC.temp_c"), -1);  // constant placeholder, not a sensor
}

TEST(TegrastatsReplay, BoardsWithoutAnInputRailHaveNoTotalPowerChannel) {
  for (const auto& file : {kLogs[0], kLogs[3]}) {
    CollectorOptions o;
    o.tegrastats_log = data_path(file);
    auto c = open_tegrastats_collector(o);
    ASSERT_TRUE(c->available());
    EXPECT_EQ(index_of(*c, "power.total.w"), -1) << file;
    EXPECT_GE(index_of(*c, "power.VIN_SYS_5V0.w"), 0) << file;
  }
}

TEST(TegrastatsReplay, ThorHasNoGpuLoadChannelBecauseItPrintsNone) {
  CollectorOptions o;
  o.tegrastats_log = data_path(kLogs[3]);
  auto c = open_tegrastats_collector(o);
  EXPECT_EQ(index_of(*c, "gpu0.util_pct"), -1);
  EXPECT_GE(index_of(*c, "cpu13.util_pct"), 0);
  const auto row = sample_row(*c);
  EXPECT_EQ(row[static_cast<std::size_t>(index_of(*c, "thermal.soc012.temp_c"))], 33.781);
}

TEST(TegrastatsReplay, DisabledSensorsAreNaNAndNcRailsAreLeftOut) {
  TempDir dir;
  const auto lines = tsv_lines();
  CollectorOptions o;
  o.tegrastats_log = dir.write("orin.log", lines[14] + "\n");
  auto c = open_tegrastats_collector(o);
  ASSERT_TRUE(c->available());
  EXPECT_EQ(index_of(*c, "power.NC.w"), -1);
  EXPECT_GE(index_of(*c, "power.VDDQ_VDD2_1V8AO.w"), 0);
  const auto row = sample_row(*c);
  EXPECT_TRUE(std::isnan(row[static_cast<std::size_t>(index_of(*c, "thermal.CV0.temp_c"))]));
  EXPECT_EQ(row[static_cast<std::size_t>(index_of(*c, "thermal.CPU.temp_c"))], 44.562);
}

TEST(TegrastatsReplay, LaterLinesWithFewerFieldsFillNaN) {
  TempDir dir;
  CollectorOptions o;
  o.tegrastats_log = dir.write("mixed.log", std::string(kNanoLine) + "\nRAM 1/2MB CPU [5%@1,off]\nbroken line\n");
  auto c = open_tegrastats_collector(o);
  ASSERT_TRUE(c->available());
  EXPECT_EQ(c->skipped_lines(), 1u);
  ASSERT_EQ(c->warnings().size(), 1u);
  EXPECT_TRUE(c->warnings()[0].starts_with(o.tegrastats_log + ":3: ")) << c->warnings()[0];
  (void)sample_row(*c);
  const auto row = sample_row(*c);
  EXPECT_EQ(row[0], 1.0 * 1024 * 1024);
  EXPECT_TRUE(std::isnan(row[1]));  // no SWAP
  EXPECT_EQ(row[2], 5);             // average over the one online core
  EXPECT_EQ(row[3], 5);
  EXPECT_TRUE(std::isnan(row[4]));  // cpu1 off
  EXPECT_TRUE(std::isnan(row[5]));  // cpu2 absent
  EXPECT_TRUE(std::isnan(row.back()));
}

TEST(TegrastatsReplay, LogWithoutAnyTegrastatsLineIsNotAvailable) {
  TempDir dir;
  CollectorOptions o;
  o.tegrastats_log = dir.write("empty.log", "hello\n\nworld\n");
  auto c = open_tegrastats_collector(o);
  EXPECT_FALSE(c->available());
  EXPECT_EQ(c->reason(), "not available: " + o.tegrastats_log + " has no tegrastats lines (2 skipped)");
  EXPECT_TRUE(c->channels().empty());
}

TEST(TegrastatsReplay, MissingLogIsAnInputError) {
  CollectorOptions o;
  o.tegrastats_log = "/nonexistent/tegrastats.log";
  EXPECT_THROW((void)make_tegrastats_collector(o), InputError);
}

// ---- live collector -------------------------------------------------------------------------

// Sets PATH for one test and restores it.
struct ScopedPath {
  std::string saved;
  bool had = false;
  explicit ScopedPath(const std::string& value) {
    if (const char* p = std::getenv("PATH")) {
      saved = p;
      had = true;
    }
    ::setenv("PATH", value.c_str(), 1);
  }
  ~ScopedPath() {
    if (had) {
      ::setenv("PATH", saved.c_str(), 1);
    } else {
      ::unsetenv("PATH");
    }
  }
};

TEST(TegrastatsLive, WithoutTegrastatsOnPathTheCollectorIsNotAvailable) {
  TempDir dir;  // an empty PATH directory: no tegrastats here, as on any non-Jetson machine
  ScopedPath path(dir.path.string());
  auto c = make_tegrastats_collector(CollectorOptions{});
  EXPECT_FALSE(c->available());
  EXPECT_EQ(c->reason(), "not available: tegrastats not found (not a Jetson/DRIVE board)");
  EXPECT_TRUE(c->channels().empty());
  std::vector<double> out(2, 1.0);
  c->sample(0, out);
  EXPECT_TRUE(std::isnan(out[0]));
}

TEST(TegrastatsLive, ThisMachineHasNoTegrastats) {
  auto c = make_tegrastats_collector(CollectorOptions{});
  if (c->available()) GTEST_SKIP() << "tegrastats is installed here";
  EXPECT_EQ(c->reason(), "not available: tegrastats not found (not a Jetson/DRIVE board)");
}

std::string write_fake_tegrastats(const TempDir& dir, const std::string& body) {
  const std::string path = dir.write("tegrastats", "#!/bin/sh\n" + body);
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST(TegrastatsLive, RunsTegrastatsFromPathAndReportsItsLatestLine) {
  TempDir dir;
  const std::string pid_file = (dir.path / "pid").string();
  write_fake_tegrastats(dir, "echo $$ > '" + pid_file + "'\n" +
                                 "[ \"$1\" = --interval ] && [ \"$2\" = 50 ] || { echo \"bad args: $*\" >&2; exit 2; }\n"
                                 "echo 'starting'\n"
                                 "while true; do echo '" + std::string(kNanoLine) + "'; sleep 0.05; done\n");
  ScopedPath path(dir.path.string() + ":/usr/bin:/bin");
  CollectorOptions o;
  o.tegrastats_interval_ms = 50;
  pid_t pid = 0;
  {
    auto c = open_tegrastats_collector(o);
    ASSERT_TRUE(c->available()) << c->reason();
    EXPECT_EQ(c->channels().size(), 18u);
    const auto row = sample_row(*c);
    EXPECT_EQ(row[0], 936.0 * 1024 * 1024);
    EXPECT_DOUBLE_EQ(row.back(), 0.920);
    EXPECT_EQ(c->skipped_lines(), 1u);  // "starting"
    ASSERT_EQ(c->warnings().size(), 1u);
    EXPECT_EQ(c->warnings()[0], "tegrastats:1: not a tegrastats line (no RAM field): 'starting'");
    std::ifstream(pid_file) >> pid;
    ASSERT_GT(pid, 0);
    EXPECT_EQ(::kill(pid, 0), 0);
  }
  // Destroying the collector stopped and reaped the child.
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(TegrastatsLive, TegrastatsThatExitsAtOnceIsNotAvailableWithItsMessage) {
  TempDir dir;
  write_fake_tegrastats(dir, "echo 'tegrastats: permission denied' >&2\nexit 1\n");
  ScopedPath path(dir.path.string() + ":/usr/bin:/bin");
  const auto start = std::chrono::steady_clock::now();
  auto c = open_tegrastats_collector(CollectorOptions{});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_FALSE(c->available());
  EXPECT_EQ(c->reason(),
            "not available: tegrastats exited without printing a sample "
            "(tegrastats:1: not a tegrastats line (no RAM field): 'tegrastats: permission denied')");
}

TEST(TegrastatsLive, TegrastatsThatPrintsNothingTimesOut) {
  TempDir dir;
  write_fake_tegrastats(dir, "exec sleep 30\n");
  ScopedPath path(dir.path.string() + ":/usr/bin:/bin");
  CollectorOptions o;
  o.tegrastats_interval_ms = 10;
  const auto start = std::chrono::steady_clock::now();
  auto c = open_tegrastats_collector(o);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(c->available());
  EXPECT_EQ(c->reason(), "not available: tegrastats printed no sample within 1020 ms");
}

TEST(TegrastatsLive, NonPositiveIntervalIsAnInputError) {
  CollectorOptions o;
  o.tegrastats_interval_ms = 0;
  EXPECT_THROW((void)open_tegrastats_collector(o), InputError);
}

}  // namespace
}  // namespace trackiq::telemetry
