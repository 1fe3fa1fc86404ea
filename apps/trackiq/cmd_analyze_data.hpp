#pragma once
// `analyze latency` and `analyze variability` (cmd_analyze_data.cpp) and the analyzers of other tools'
// files (cmd_analyze_files.cpp), registered under `analyze`.
#include "commands.hpp"

namespace trackiq::cli {

struct DataAnalyzers {
  CLI::App* latency = nullptr;
  CLI::App* variability = nullptr;
  Action run;  // call when latency or variability was the subcommand chosen
};
DataAnalyzers add_data_analyzers(CLI::App& analyze);

// `analyze dnn-pipeline`, `logs` and `efficiency` (cmd_analyze_files.cpp): the analyzers of other tools' files.
struct FileAnalyzers {
  CLI::App* dnn_pipeline = nullptr;
  CLI::App* logs = nullptr;
  CLI::App* efficiency = nullptr;
  Action run;  // call when one of them was the subcommand chosen
  bool chosen() const { return dnn_pipeline->parsed() || logs->parsed() || efficiency->parsed(); }
};
FileAnalyzers add_file_analyzers(CLI::App& analyze);

}  // namespace trackiq::cli
