#pragma once
// The environment variables that steer a run (issue #15, LIB-5), read and checked in one place:
//   TRACKIQ_DETERMINISTIC  1/0, true/false, yes/no, on/off: reproducible runs. The seed defaults
//                          to 0 and the engine to 1 intra-op thread (a parallel reduction sums
//                          floats in a varying order) unless TRACKIQ_SEED / TRACKIQ_THREADS or the
//                          flags say otherwise.
//   TRACKIQ_SEED           0 .. 2^64-1: the seed of built-in models' weights and inputs and of
//                          the schedules (`run --scenario server`, `load --rate`, --dataset-order random)
//   TRACKIQ_THREADS        1 .. 4096: the engine's intra-op threads (`run`; not `load`'s client threads)
// A command-line flag wins over the variable, the variable over a profile. An empty variable is
// unset. `trackiq run` and `trackiq load` record what they applied in the result
// (environment.variables).
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace trackiq {

struct RunEnv {
  bool deterministic = false;
  std::optional<std::uint64_t> seed;
  std::optional<std::uint32_t> threads;

  // The variables that were set, name → value as given: what a result records.
  std::map<std::string, std::string> given;
};

// Reads the three variables through `getenv` (std::getenv by default). A bad value throws
// InputError naming the variable and the value, e.g.
// "TRACKIQ_SEED='12x': not an integer in [0, 18446744073709551615]".
RunEnv read_run_env(const std::function<const char*(const char*)>& getenv = {});

}  // namespace trackiq
