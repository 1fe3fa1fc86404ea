// synthetic[:key=value,...]: a stand-in workload for demos and tests. It measures nothing
// real; every result it produces is marked synthetic (WorkloadDescriptor::synthetic).
//   dist=constant|exponential|lognormal   service-time distribution (default constant)
//   mean=DURATION                         mean service time (default 1ms; 0 = null workload)
//   cv=X                                  coefficient of variation for lognormal (default 0.5)
//   mode=sleep|spin                       sleep (default; leaves the CPU free) or busy-wait
//   fail_every=N                          every Nth query on a worker fails (tests error counting)
#include <cmath>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "backends.hpp"
#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::workload {
namespace {

class SyntheticWorkload final : public Workload {
 public:
  explicit SyntheticWorkload(const WorkloadOptions& o) : seed_(o.seed) {
    desc_ = base_descriptor(o, "synthetic", "synthetic", {"fp32"});
    desc_.precision = "none";  // nothing is computed
    desc_.synthetic = true;
    const auto colon = o.spec.find(':');
    if (colon != std::string::npos) parse(o.spec.substr(colon + 1));
    desc_.options = {{"dist", dist_},
                     {"mean_ns", std::to_string(mean_ns_)},
                     {"cv", fmt::format("{}", cv_)},
                     {"mode", spin_ ? "spin" : "sleep"}};
    if (fail_every_) desc_.options["fail_every"] = std::to_string(fail_every_);
    desc_.model_hash = stable_hash_hex(fmt::format("synthetic:{}:{}:{}:{}", dist_, mean_ns_, cv_, spin_));
  }

  void prepare(std::uint32_t workers) override {
    workers_.clear();
    for (std::uint32_t w = 0; w < workers; ++w) {
      // Distinct, reproducible streams per worker.
      workers_.push_back(PerWorker{std::mt19937_64(seed_ * 0x9E3779B97F4A7C15ULL + w + 1), 0});
    }
  }

  InferOutcome infer(std::uint32_t worker) noexcept override {
    PerWorker& st = workers_[worker];
    const std::int64_t service = draw(st.rng);
    if (service > 0) {
      const auto deadline = Clock::now() + Nanoseconds(service);
      if (spin_) {
        while (Clock::now() < deadline) {
        }
      } else {
        std::this_thread::sleep_until(deadline);
      }
    }
    if (fail_every_ && ++st.count % fail_every_ == 0) return {false, "synthetic_failure", "synthetic failure (fail_every)"};
    return {};
  }

  const WorkloadDescriptor& descriptor() const noexcept override { return desc_; }

 private:
  struct PerWorker {  // owned by one worker thread
    std::mt19937_64 rng;
    std::uint64_t count;
  };

  std::int64_t draw(std::mt19937_64& rng) const noexcept {
    if (mean_ns_ == 0 || dist_ == "constant") return mean_ns_;
    if (dist_ == "exponential") {
      std::exponential_distribution<double> d(1.0 / static_cast<double>(mean_ns_));
      return static_cast<std::int64_t>(d(rng));
    }
    // lognormal with the requested mean and cv: sigma^2 = ln(1 + cv^2), mu = ln(mean) - sigma^2/2
    const double s2 = std::log1p(cv_ * cv_);
    std::lognormal_distribution<double> d(std::log(static_cast<double>(mean_ns_)) - s2 / 2, std::sqrt(s2));
    return static_cast<std::int64_t>(d(rng));
  }

  void parse(const std::string& text) {
    std::size_t start = 0;
    while (start < text.size()) {
      const auto end = std::min(text.find(',', start), text.size());
      const std::string kv = text.substr(start, end - start);
      start = end + 1;
      const auto eq = kv.find('=');
      if (eq == std::string::npos) throw InputError(fmt::format("synthetic: '{}' is not key=value", kv));
      const std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
      if (key == "dist") {
        require_one_of("dist", value, {"constant", "exponential", "lognormal"}, "synthetic");
        dist_ = value;
      } else if (key == "mean") {
        const auto ns = parse_duration_ns(value);
        if (!ns) throw InputError(fmt::format("synthetic: mean '{}' is not a duration (e.g. 2ms)", value));
        mean_ns_ = *ns;
      } else if (key == "cv") {
        try {
          cv_ = std::stod(value);
        } catch (const std::exception&) {
          throw InputError(fmt::format("synthetic: cv '{}' is not a number", value));
        }
        if (!(cv_ >= 0 && cv_ < 100)) throw InputError("synthetic: cv must be in [0, 100)");
      } else if (key == "mode") {
        require_one_of("mode", value, {"sleep", "spin"}, "synthetic");
        spin_ = value == "spin";
      } else if (key == "fail_every") {
        try {
          fail_every_ = std::stoull(value);
        } catch (const std::exception&) {
          throw InputError(fmt::format("synthetic: fail_every '{}' is not a count", value));
        }
      } else {
        throw InputError(fmt::format("synthetic: unknown key '{}' (keys: dist, mean, cv, mode, fail_every)", key));
      }
    }
  }

  WorkloadDescriptor desc_;
  std::uint64_t seed_;
  std::string dist_ = "constant";
  std::int64_t mean_ns_ = 1'000'000;
  double cv_ = 0.5;
  bool spin_ = false;
  std::uint64_t fail_every_ = 0;
  std::vector<PerWorker> workers_;
};

}  // namespace

std::unique_ptr<Workload> make_synthetic_workload(const WorkloadOptions& options) {
  return std::make_unique<SyntheticWorkload>(options);
}

}  // namespace trackiq::workload
