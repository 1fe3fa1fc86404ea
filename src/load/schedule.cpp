#include "trackiq/load/schedule.hpp"

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/core/csv.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/text.hpp"

namespace trackiq::load {
namespace {

constexpr std::uint64_t kMaxArrivals = 100'000'000;

// A uniform double in (0, 1] from 53 random bits: the same on every platform.
double uniform01(std::mt19937_64& rng) { return (static_cast<double>(rng() >> 11) + 1.0) * 0x1.0p-53; }

double standard_normal(std::mt19937_64& rng) {  // Box–Muller, one of the pair
  const double u1 = uniform01(rng), u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

// Gamma(shape k, scale 1) by Marsaglia & Tsang (2000); for k < 1 the boost
// Gamma(k) = Gamma(k + 1) · U^(1/k).
double standard_gamma(double k, std::mt19937_64& rng) {
  if (k < 1.0) return standard_gamma(k + 1.0, rng) * std::pow(uniform01(rng), 1.0 / k);
  const double d = k - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = standard_normal(rng);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = uniform01(rng);
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

}  // namespace

ArrivalKind parse_arrival(std::string_view name) {
  if (name == "constant") return ArrivalKind::constant;
  if (name == "poisson") return ArrivalKind::poisson;
  if (name == "gamma") return ArrivalKind::gamma;
  throw InputError(fmt::format("--arrival '{}': use constant, poisson or gamma", name));
}

std::vector<std::int64_t> arrival_schedule(const ArrivalOptions& o, std::int64_t duration_ns,
                                           std::optional<std::uint64_t> max_count) {
  if (!(o.rate > 0) || !std::isfinite(o.rate)) throw InputError("--rate must be a positive number of requests per second");
  if (!(o.burstiness > 0) || !std::isfinite(o.burstiness)) throw InputError("--burstiness must be a positive number");
  const double expected = o.rate * static_cast<double>(duration_ns) / 1e9;
  if (max_count && *max_count > kMaxArrivals) throw InputError("--requests: at most 100 M requests per point");
  const std::uint64_t cap = max_count ? *max_count : kMaxArrivals;
  if (!max_count && expected > static_cast<double>(kMaxArrivals))
    throw InputError(fmt::format("--rate {} for this long is {:.3g} requests: more than 100 M (use --requests)", o.rate, expected));
  std::mt19937_64 rng(o.seed);
  const double mean_gap_ns = 1e9 / o.rate;
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(std::min<double>(expected + 16, static_cast<double>(cap))));
  double t = 0;
  while (out.size() < cap && t < static_cast<double>(duration_ns)) {
    out.push_back(static_cast<std::int64_t>(std::llround(t)));
    switch (o.kind) {
      case ArrivalKind::constant: t = mean_gap_ns * static_cast<double>(out.size()); break;  // no drift
      case ArrivalKind::poisson: t += -std::log(uniform01(rng)) * mean_gap_ns; break;
      case ArrivalKind::gamma: t += standard_gamma(o.burstiness, rng) / o.burstiness * mean_gap_ns; break;
    }
  }
  return out;
}

std::vector<TraceEntry> read_trace(const std::string& path, double time_scale) {
  if (!(time_scale > 0) || !std::isfinite(time_scale)) throw InputError("--time-scale must be a positive number");
  std::ifstream in(path);
  if (!in) throw InputError(path, 0, "cannot open the trace file");
  std::vector<TraceEntry> out;
  std::string line;
  std::size_t lineno = 0;
  std::optional<std::size_t> ts_col, input_col;  // CSV
  bool csv = false, first = true;
  double t0 = 0, prev = -1;
  while (std::getline(in, line)) {
    ++lineno;
    const std::string t = std::string(trim_ascii_space(line));
    if (t.empty()) continue;
    double ms = 0;
    std::optional<std::string> input;
    if (first && t.front() != '{') {  // a CSV header
      csv = true;
      first = false;
      const auto h = split_csv_record(t, path, lineno);
      for (std::size_t i = 0; i < h.size(); ++i) {
        if (trim_ascii_space(h[i]) == "timestamp") ts_col = i;
        if (trim_ascii_space(h[i]) == "input") input_col = i;
      }
      if (!ts_col) throw InputError(path, lineno, "CSV trace header has no 'timestamp' column");
      continue;
    }
    first = false;
    if (csv) {
      const auto f = split_csv_record(line, path, lineno);
      if (*ts_col >= f.size()) throw InputError(path, lineno, "missing the timestamp field");
      try {
        std::size_t used = 0;
        ms = std::stod(std::string(trim_ascii_space(f[*ts_col])), &used);
        if (used != trim_ascii_space(f[*ts_col]).size()) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        throw InputError(path, lineno, fmt::format("timestamp '{}' is not a number", f[*ts_col]));
      }
      if (input_col && *input_col < f.size()) input = f[*input_col];
    } else {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(t);
      } catch (const nlohmann::json::exception& e) {
        throw InputError(path, lineno, fmt::format("not JSON: {}", e.what()));
      }
      if (!j.is_object() || !j.contains("timestamp") || !j["timestamp"].is_number())
        throw InputError(path, lineno, "expected an object with a numeric \"timestamp\" (ms)");
      ms = j["timestamp"].get<double>();
      if (j.contains("input")) {
        if (!j["input"].is_string()) throw InputError(path, lineno, "\"input\" must be a string");
        input = j["input"].get<std::string>();
      }
    }
    if (!std::isfinite(ms) || ms < 0) throw InputError(path, lineno, "timestamp must be a finite number >= 0");
    if (ms < prev) throw InputError(path, lineno, fmt::format("timestamp {} is before the previous one ({})", ms, prev));
    if (out.empty()) t0 = ms;
    prev = ms;
    if ((ms - t0) * 1e6 * time_scale > 9e18) throw InputError(path, lineno, "timestamp too far from the first (more than 285 years)");
    out.push_back({static_cast<std::int64_t>(std::llround((ms - t0) * 1e6 * time_scale)), std::move(input)});
  }
  if (out.empty()) throw InputError(path, lineno, "the trace has no arrivals");
  return out;
}

}  // namespace trackiq::load
