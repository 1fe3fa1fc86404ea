// read_run_env: the TRACKIQ_* variables that steer a run, parsed and checked in one place.
#include "trackiq/core/run_env.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "trackiq/core/error.hpp"

namespace trackiq {
namespace {

RunEnv read(const std::map<std::string, std::string>& vars) {
  return read_run_env([&vars](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

std::string error_of(const std::map<std::string, std::string>& vars) {
  try {
    read(vars);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(RunEnv, UnsetAndEmptyVariablesLeaveTheDefaults) {
  const RunEnv e = read({{"TRACKIQ_SEED", ""}});
  EXPECT_FALSE(e.deterministic);
  EXPECT_FALSE(e.seed);
  EXPECT_FALSE(e.threads);
  EXPECT_TRUE(e.given.empty());
}

TEST(RunEnv, GoodValuesAreParsedAndKeptAsGiven) {
  const RunEnv e = read({{"TRACKIQ_DETERMINISTIC", "yes"}, {"TRACKIQ_SEED", "18446744073709551615"}, {"TRACKIQ_THREADS", "4096"}});
  EXPECT_TRUE(e.deterministic);
  EXPECT_EQ(e.seed, 18446744073709551615ULL);
  EXPECT_EQ(e.threads, 4096u);
  EXPECT_EQ(e.given.at("TRACKIQ_SEED"), "18446744073709551615");
  EXPECT_FALSE(read({{"TRACKIQ_DETERMINISTIC", "off"}}).deterministic);
}

TEST(RunEnv, ABadValueNamesTheVariableAndTheValue) {
  EXPECT_NE(error_of({{"TRACKIQ_SEED", "18446744073709551616"}}).find("TRACKIQ_SEED='18446744073709551616'"), std::string::npos);
  EXPECT_NE(error_of({{"TRACKIQ_SEED", " 7"}}).find("TRACKIQ_SEED=' 7'"), std::string::npos);
  EXPECT_NE(error_of({{"TRACKIQ_THREADS", "4097"}}).find("TRACKIQ_THREADS='4097': not an integer in [1, 4096]"), std::string::npos);
  EXPECT_NE(error_of({{"TRACKIQ_THREADS", "2.5"}}).find("TRACKIQ_THREADS='2.5'"), std::string::npos);
  EXPECT_NE(error_of({{"TRACKIQ_DETERMINISTIC", "2"}}).find("TRACKIQ_DETERMINISTIC='2'"), std::string::npos);
}

}  // namespace
}  // namespace trackiq
