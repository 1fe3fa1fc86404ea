#pragma once
// `analyze latency` and `analyze variability` (cmd_analyze_data.cpp), registered under `analyze`.
#include "commands.hpp"

namespace trackiq::cli {

struct DataAnalyzers {
  CLI::App* latency = nullptr;
  CLI::App* variability = nullptr;
  Action run;  // call when latency or variability was the subcommand chosen
};
DataAnalyzers add_data_analyzers(CLI::App& analyze);

}  // namespace trackiq::cli
