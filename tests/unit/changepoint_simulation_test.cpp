// The change-point detector's quality bars (issue #13), measured on seeded series generated here,
// with the default options:
//   * no change (Gaussian, log-normal and spiky noise, n = 100 … 5,000): at most 5 % of the
//     series get any change point (Otava's defaults: 30 % at 500 points, 70 % at 2,000);
//   * planted shifts of 3 × the noise's CV (Gaussian and log-normal noise): recall >= 0.9, a
//     shift counting as found when a change point lies within ±5 points of it;
//   * isolated outliers do not become change points, and do not hide planted shifts.
// Thousands of detections: label `stats`, not built in the -O0 sanitizer trees. Each test prints
// its measured rates (docs/performance.md §10 quotes them).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "trackiq/analysis/changepoint.hpp"

namespace trackiq::analysis {
namespace {

enum class Noise { kGaussian, kLogNormal05, kLogNormal1 };

const char* name(Noise k) {
  switch (k) {
    case Noise::kGaussian: return "gaussian(cv 0.05)";
    case Noise::kLogNormal05: return "log-normal(sigma 0.5)";
    case Noise::kLogNormal1: return "log-normal(sigma 1)";
  }
  return "";
}

// Multiplicative noise around `level`: Gaussian with CV 5 %, or log-normal with mean `level`.
double noisy(Noise k, double level, std::mt19937_64& rng) {
  std::normal_distribution<double> z(0.0, 1.0);
  switch (k) {
    case Noise::kGaussian: return level * (1 + 0.05 * z(rng));
    case Noise::kLogNormal05: return level * std::exp(0.5 * z(rng) - 0.125);
    case Noise::kLogNormal1: return level * std::exp(1.0 * z(rng) - 0.5);
  }
  return level;
}

double cv_of(Noise k) {
  switch (k) {
    case Noise::kGaussian: return 0.05;
    case Noise::kLogNormal05: return std::sqrt(std::exp(0.25) - 1);
    case Noise::kLogNormal1: return std::sqrt(std::exp(1.0) - 1);
  }
  return 0;
}

TEST(ChangePointSimulation, NoChangeGivesAChangePointInAtMostFivePercentOfSeries) {
  for (const Noise noise : {Noise::kGaussian, Noise::kLogNormal05, Noise::kLogNormal1}) {
    for (const std::size_t n : {100, 200, 500, 1000, 2000, 5000}) {
      const int series = n <= 1000 ? 300 : 100;
      std::mt19937_64 rng(1000 * n + static_cast<int>(noise));
      int with_change = 0, total = 0;
      for (int s = 0; s < series; ++s) {
        std::vector<double> x(n);
        for (auto& v : x) v = noisy(noise, 100, rng);
        const auto r = detect_change_points(x);
        with_change += !r.change_points.empty();
        total += static_cast<int>(r.change_points.size());
      }
      const double rate = static_cast<double>(with_change) / series;
      std::printf("null %-22s n=%-5zu series with a change %5.1f %% (%d of %d), change points %d\n", name(noise), n,
                  100 * rate, with_change, series, total);
      EXPECT_LE(rate, 0.05) << name(noise) << " n=" << n;
    }
  }
}

TEST(ChangePointSimulation, IsolatedOutliersAreNotChanges) {
  for (const std::size_t n : {100, 500, 2000}) {
    const int series = 200;
    std::mt19937_64 rng(77 + n);
    std::uniform_real_distribution<double> u(0, 1);
    int with_change = 0;
    for (int s = 0; s < series; ++s) {
      std::vector<double> x(n);
      for (auto& v : x) v = noisy(Noise::kGaussian, 100, rng);
      // 1 % of the points (at least one) become outliers of 10 to 100 sigma, either side.
      const std::size_t outliers = std::max<std::size_t>(1, n / 100);
      for (std::size_t k = 0; k < outliers; ++k) {
        const auto at = static_cast<std::size_t>(u(rng) * static_cast<double>(n));
        x[at] += (u(rng) < 0.5 ? -1 : 1) * (10 + 90 * u(rng)) * 5.0;
      }
      with_change += !detect_change_points(x).change_points.empty();
    }
    const double rate = static_cast<double>(with_change) / series;
    std::printf("outliers n=%-5zu series with a change %5.1f %%\n", n, 100 * rate);
    EXPECT_LE(rate, 0.05) << "n=" << n;
  }
}

struct Planted {
  std::vector<double> x;
  std::vector<std::size_t> shifts;
};

// Shifts of ±k·CV (relative to the level) between segments of 20 to 200 points, direction at
// random (kept within 0.5 … 2 × the first level). Optionally 1 % isolated outliers of 20 sigma.
Planted make_planted(Noise noise, std::size_t n, double k, bool outliers, std::mt19937_64& rng) {
  std::uniform_int_distribution<std::size_t> seg(20, 200);
  std::uniform_real_distribution<double> u(0, 1);
  Planted p;
  std::size_t at = seg(rng);
  while (at + 20 <= n) {
    p.shifts.push_back(at);
    at += seg(rng);
  }
  p.x.resize(n);
  double level = 100;
  std::size_t next = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (next < p.shifts.size() && i == p.shifts[next]) {
      const bool up = level < 60 ? true : level > 200 ? false : u(rng) < 0.5;
      level *= up ? 1 + k * cv_of(noise) : 1 / (1 + k * cv_of(noise));
      ++next;
    }
    p.x[i] = noisy(noise, level, rng);
    if (outliers && u(rng) < 0.01) p.x[i] += (u(rng) < 0.5 ? -1 : 1) * 20 * cv_of(noise) * level;
  }
  return p;
}

TEST(ChangePointSimulation, PlantedShiftsOfThreeCvAreFoundWithinFivePoints) {
  struct Case {
    Noise noise;
    bool outliers;
  };
  for (const Case c : {Case{Noise::kGaussian, false}, Case{Noise::kLogNormal05, false}, Case{Noise::kGaussian, true}}) {
    for (const std::size_t n : {200, 1000, 5000}) {
      const int series = n == 5000 ? 20 : 60;
      std::mt19937_64 rng(5 * n + static_cast<int>(c.noise) + (c.outliers ? 1 : 0));
      std::size_t planted = 0, found = 0, reported = 0, false_points = 0;
      for (int s = 0; s < series; ++s) {
        const auto p = make_planted(c.noise, n, 3.0, c.outliers, rng);
        const auto r = detect_change_points(p.x);
        std::vector<bool> matched(r.change_points.size(), false);
        for (const std::size_t t : p.shifts) {
          ++planted;
          for (std::size_t j = 0; j < r.change_points.size(); ++j) {
            const std::size_t i = r.change_points[j].index;
            if (!matched[j] && (i > t ? i - t : t - i) <= 5) {
              matched[j] = true;
              ++found;
              break;
            }
          }
        }
        reported += r.change_points.size();
        for (const bool m : matched) false_points += !m;
      }
      const double recall = static_cast<double>(found) / static_cast<double>(planted);
      std::printf("planted 3 x cv %-22s%s n=%-5zu recall %.3f (%zu of %zu), unmatched change points %zu of %zu\n",
                  name(c.noise), c.outliers ? " + 1 % outliers" : "", n, recall, found, planted, false_points, reported);
      EXPECT_GE(recall, 0.9) << name(c.noise) << " n=" << n;
      // Precision: nearly every reported change point is one of the planted shifts.
      EXPECT_LE(static_cast<double>(false_points), 0.05 * static_cast<double>(reported) + 1) << name(c.noise) << " n=" << n;
    }
  }
}

}  // namespace
}  // namespace trackiq::analysis
