// The change-point detector on the Turing Change Point Dataset (TCPD), scored as TCPDBench
// scores its "default" experiment: one setting for every series, F1 (margin 5) and
// segmentation cover against the five annotators, averaged over the univariate series that are
// not the annotator-training quality_control_* ones.
//
//   changepoint_tcpd TCPD_DIR [--json OUT.json] [--alpha A] [--min-segment M] [--min-change R]
//
// TCPD_DIR holds datasets/*.json and annotations.json (the project's copy: ../shared/tcpd).
// Missing values (only uk_coal_employ has two) are filled forward, as Otava does; TCPDBench
// scores methods that cannot take them as missing instead, so the published 25-series averages
// leave that series out: both averages are printed. Predictions are cleaned as TCPDBench's
// summarize.py does (indices 1 … n − 2, deduplicated). Prints a table per series, then
// "average" lines; exit 0, or 2 on a usage or data error.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/analysis/changepoint.hpp"
#include "trackiq/core/error.hpp"

namespace {

namespace fs = std::filesystem;
using trackiq::analysis::ChangePointOptions;

nlohmann::json load_json(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw trackiq::InputError(fmt::format("{}: cannot open the file", p.string()));
  return nlohmann::json::parse(in);
}

struct Scores {
  double f1 = 0, cover = 0;
};

}  // namespace

int main(int argc, char** argv) {
  constexpr const char* kUsage =
      "usage: changepoint_tcpd TCPD_DIR [--json OUT.json] [--alpha A] [--min-segment M] [--min-change R]\n";
  if (argc >= 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    std::cout << kUsage;
    return 0;
  }
  if (argc < 2 || argc % 2 != 0) {  // TCPD_DIR, then flag-value pairs
    std::cerr << kUsage;
    return 2;
  }
  try {
    const fs::path dir = argv[1];
    ChangePointOptions options;
    std::string json_out;
    for (int i = 2; i + 1 < argc; i += 2) {
      const std::string flag = argv[i], value = argv[i + 1];
      if (flag == "--json") json_out = value;
      else if (flag == "--alpha") options.alpha = std::stod(value);
      else if (flag == "--min-segment") options.min_segment = std::stoul(value);
      else if (flag == "--min-change") options.min_relative_change = std::stod(value);
      else throw trackiq::InputError("unknown flag " + flag);
    }
    const auto annotations = load_json(dir / "annotations.json");
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir / "datasets"))
      if (e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());

    fmt::print("{:<20} {:>5} {:>6} {:>6} {:>6} {:>6} {:>9}  change points\n", "series", "n", "F1", "cover", "F1_0",
               "cov_0", "time_ms");
    std::map<std::string, Scores> ours, zero;
    nlohmann::ordered_json report = nlohmann::ordered_json::object();
    for (const auto& f : files) {
      const auto d = load_json(f);
      const std::string name = d.at("name");
      if (d.at("n_dim").get<int>() != 1 || name.rfind("quality_control", 0) == 0) continue;
      std::vector<double> x;
      for (const auto& v : d.at("series").at(0).at("raw")) {
        if (!v.is_null()) x.push_back(v.get<double>());
        else if (!x.empty()) x.push_back(x.back());
        else x.push_back(std::numeric_limits<double>::quiet_NaN());  // back-filled below
      }
      for (std::size_t i = x.size(); i-- > 0;)
        if (std::isnan(x[i]) && i + 1 < x.size()) x[i] = x[i + 1];
      std::vector<std::vector<std::size_t>> ann;
      for (const auto& [annotator, points] : annotations.at(name).items()) ann.push_back(points.get<std::vector<std::size_t>>());

      const auto t0 = std::chrono::steady_clock::now();
      const auto r = trackiq::analysis::detect_change_points(x, options);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      std::vector<std::size_t> pred;
      for (const auto& cp : r.change_points)
        if (cp.index >= 1 && cp.index + 1 < x.size()) pred.push_back(cp.index);
      const std::vector<std::size_t> none;
      ours[name] = {trackiq::analysis::f1_score(ann, pred), trackiq::analysis::segmentation_cover(ann, pred, x.size())};
      zero[name] = {trackiq::analysis::f1_score(ann, none), trackiq::analysis::segmentation_cover(ann, none, x.size())};
      std::string list;
      for (const auto c : pred) {
        if (!list.empty()) list += ' ';
        list += std::to_string(c);
      }
      fmt::print("{:<20} {:>5} {:>6.3f} {:>6.3f} {:>6.3f} {:>6.3f} {:>9.3f}  [{}]\n", name, x.size(), ours[name].f1,
                 ours[name].cover, zero[name].f1, zero[name].cover, ms, list);
      report[name] = {{"n", x.size()}, {"change_points", pred}, {"f1", ours[name].f1}, {"cover", ours[name].cover},
                      {"zero_f1", zero[name].f1}, {"zero_cover", zero[name].cover}};
    }
    const auto average = [](const std::map<std::string, Scores>& s, bool without_missing) {
      Scores a;
      int k = 0;
      for (const auto& [name, v] : s) {
        if (without_missing && name == "uk_coal_employ") continue;
        a.f1 += v.f1, a.cover += v.cover, ++k;
      }
      return Scores{a.f1 / k, a.cover / k};
    };
    for (const bool without : {false, true}) {
      const auto a = average(ours, without), z = average(zero, without);
      fmt::print("average over {} series{}: F1 {:.3f}  cover {:.3f}   (no change: F1 {:.3f}  cover {:.3f})\n",
                 ours.size() - (without ? 1 : 0), without ? " (without uk_coal_employ, as TCPDBench's tables)" : "",
                 a.f1, a.cover, z.f1, z.cover);
    }
    fmt::print("options: alpha {} min_segment {} min_relative_change {}\n", options.alpha, options.min_segment,
               options.min_relative_change);
    if (!json_out.empty()) std::ofstream(json_out) << report.dump(2) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "changepoint_tcpd: " << e.what() << "\n";
    return 2;
  }
}
