#pragma once
// The subcommand table: each command is a setup function in its own file that adds a CLI11
// subcommand and returns the action to run when it is chosen. Commands stay thin: parse
// flags, call libraries, render.
#include <functional>
#include <string_view>

#include <CLI/CLI.hpp>

namespace trackiq::cli {

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;  // an SLO / scenario check failed
inline constexpr int kExitInput = 2;        // bad input, usage error, or a capability not available
inline constexpr int kExitRuntime = 3;      // an unexpected failure

using Action = std::function<int()>;
using Setup = Action (*)(CLI::App& sub);

struct Command {
  std::string_view name;
  std::string_view summary;
  Setup setup;
};

Action setup_run(CLI::App& sub);
Action setup_backends(CLI::App& sub);
Action setup_metrics(CLI::App& sub);
Action setup_devices(CLI::App& sub);
Action setup_monitor(CLI::App& sub);
Action setup_profiles(CLI::App& sub);
Action setup_analyze(CLI::App& sub);
Action setup_runs(CLI::App& sub);
Action setup_baseline(CLI::App& sub);
Action setup_compare(CLI::App& sub);
Action setup_report(CLI::App& sub);
Action setup_import(CLI::App& sub);
Action setup_load(CLI::App& sub);
Action setup_kv_cache(CLI::App& sub);
Action setup_history(CLI::App& sub);
Action setup_detect(CLI::App& sub);
Action setup_serve(CLI::App& sub);

}  // namespace trackiq::cli
