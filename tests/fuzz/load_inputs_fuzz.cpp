// libFuzzer target: the load generator's parsers of outside input — trace files (JSON Lines and
// CSV, read_trace), target URLs (parse_url), WAV headers of server responses (wav_duration_s)
// and the CSV record rules of datasets (csv_quote_open, split_csv_record). Each must accept or
// reject with InputError, never crash; an accepted trace starts at 0 and never goes back in
// time; a WAV duration is finite and non-negative; a record split_csv_record calls unterminated
// is exactly one csv_quote_open calls open (the dataset reader joins lines on it).
//
// Input: byte 0 picks the parser, the rest is its input.
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "trackiq/core/csv.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/load/engine.hpp"
#include "trackiq/load/schedule.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      static const std::string path = "/tmp/trackiq_load_inputs_fuzz_" + std::to_string(::getpid()) + ".trace";
      std::ofstream(path, std::ios::binary | std::ios::trunc) << input;
      try {
        const auto trace = trackiq::load::read_trace(path, 1.0 + static_cast<double>(size % 4));
        if (trace.empty() || trace.front().t_ns != 0) std::abort();
        for (std::size_t i = 1; i < trace.size(); ++i)
          if (trace[i].t_ns < trace[i - 1].t_ns) std::abort();
      } catch (const trackiq::InputError&) {
      }
      break;
    }
    case 1:
      try {
        const auto u = trackiq::load::parse_url(input);
        if (u.host.empty() || u.port.empty() || u.target.empty() || u.target.front() != '/') std::abort();
        (void)u.host_header();
      } catch (const trackiq::InputError&) {
      }
      break;
    case 2:
      if (const auto d = trackiq::load::wav_duration_s(input, input.size()); d && (!std::isfinite(*d) || *d < 0)) std::abort();
      break;
    case 3: {
      bool unterminated = false;
      try {
        (void)trackiq::split_csv_record(input, "fuzz.csv", 1);
      } catch (const trackiq::InputError&) {
        unterminated = true;  // its only error
      }
      if (unterminated != trackiq::csv_quote_open(input)) std::abort();
      break;
    }
  }
  return 0;
}
