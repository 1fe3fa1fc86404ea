// Uses the installed libraries: a short synthetic run, printed by the console renderer.
#include <iostream>

#include <trackiq/report/console.hpp>
#include <trackiq/runner/runner.hpp>

int main() {
  trackiq::runner::RunSettings s;
  s.iterations = 5;
  auto w = trackiq::workload::make_workload({.spec = "synthetic:mean=1ms"});
  const auto rec = trackiq::runner::run_scenario(*w, s);
  const auto result = trackiq::runner::make_result(*w, s, rec, trackiq::capture_environment(), {});
  std::cout << trackiq::report::render_console(result);
  return result.latency && result.latency->summary_ns.count == 5 ? 0 : 1;
}
