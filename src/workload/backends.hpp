#pragma once
// Private to the workload module: one factory per engine, each in its own source file.
#include <memory>
#include <string>

#include "trackiq/workload/workload.hpp"

namespace trackiq::workload {

// builtin:NAME and torch:PATH (torch_workload.cpp; only when built with LibTorch).
std::unique_ptr<Workload> make_torch_workload(const WorkloadOptions& options);
// onnx:PATH (onnx_workload.cpp; only when built with OpenCV DNN).
std::unique_ptr<Workload> make_onnx_workload(const WorkloadOptions& options);
// cmd:COMMAND (command_workload.cpp).
std::unique_ptr<Workload> make_command_workload(const WorkloadOptions& options);
// synthetic[:k=v,...] (synthetic_workload.cpp).
std::unique_ptr<Workload> make_synthetic_workload(const WorkloadOptions& options);

// Splits a cmd: command line into argv like a POSIX shell splits words (quotes, backslashes),
// without expansions. InputError on an unterminated quote.
std::vector<std::string> split_command_line(const std::string& line);

// Throws InputError listing `supported` when `value` is not among them.
void require_one_of(const std::string& what, const std::string& value,
                    const std::vector<std::string>& supported, const std::string& backend);

}  // namespace trackiq::workload
