// Uses the installed libraries: a short synthetic run, printed by the console renderer; with a
// workload spec as argument (e.g. builtin:mlp), also five queries of that workload, whose engine
// plugin make_workload() loads (TRACKIQ_BACKEND_PATH names the installed plugin folder).
#include <iostream>

#include <trackiq/report/console.hpp>
#include <trackiq/runner/runner.hpp>
#include <trackiq/server/tracker_exposition.hpp>
#include <trackiq/tracker/tracker.hpp>

int main(int argc, char** argv) {
  trackiq::runner::RunSettings s;
  s.iterations = 5;
  auto w = trackiq::workload::make_workload({.spec = "synthetic:mean=1ms"});
  const auto rec = trackiq::runner::run_scenario(*w, s);
  const auto result = trackiq::runner::make_result(*w, s, rec, trackiq::capture_environment(), {});
  std::cout << trackiq::report::render_console(result);
  if (!result.latency || result.latency->summary_ns.count != 5) return 1;
  trackiq::tracker::Tracker tracker;  // the in-process tracker from the installed package
  {
    auto request = tracker.begin_request("consumer-1");
    auto phase = request.phase("forward");
  }
  if (tracker.snapshot().phases.at("forward").count != 1) return 1;
  // Its exposition, from the installed server module.
  const auto metrics = trackiq::server::handle_tracker_request(tracker, "GET", "/metrics");
  if (metrics.status != 200 || metrics.body.find("trackiq_request_phase_duration_seconds_count{phase=\"forward\"} 1") ==
                                   std::string::npos)
    return 1;
  if (argc > 1) {
    auto engine = trackiq::workload::make_workload({.spec = argv[1]});
    const auto engine_rec = trackiq::runner::run_scenario(*engine, s);
    const auto engine_result = trackiq::runner::make_result(*engine, s, engine_rec, trackiq::capture_environment(), {});
    std::cout << "engine run: " << engine_result.workload.backend << " " << engine_result.latency->summary_ns.count
              << " queries\n";
    if (engine_result.latency->summary_ns.count != 5) return 1;
  }
  return 0;
}
