// ONNX backend through OpenCV DNN (Debian's 4.6): fp32 on CPU. Input shapes come from the
// model (read by onnx_graph.cpp); --shape sets dynamic dims or overrides.
#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <regex>

#include <fmt/format.h>

#include "backends.hpp"
#include "onnx_graph.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::workload {
namespace {

// OpenCV's importer errors are long and nested; keep the node and the innermost reason.
// "... Node [MatMul@ai.onnx]:(onnx_node!mm) parse error: OpenCV(4.6.0) f.cpp:1: error:
//  (-215:Assertion failed) x in function 'normalize_axis'" -> "node 'mm' (MatMul): ..."
std::string condense_opencv_error(const std::string& what) {
  static const std::regex node_re(R"(Node \[([A-Za-z0-9_]+)@[^\]]*\]:\((?:onnx_node!)?([^)]*)\))");
  static const std::regex reason_re(R"(\(-?\d+:([^)]*)\)\s*([^\n]*?)\s+in function '([^']*)')");
  std::string out;
  std::smatch m;
  if (std::regex_search(what, m, node_re)) out = fmt::format("node '{}' ({}): ", m[2].str(), m[1].str());
  std::string reason;
  for (auto it = std::sregex_iterator(what.begin(), what.end(), reason_re); it != std::sregex_iterator(); ++it) {
    const auto& r = *it;
    reason = fmt::format("{}: {} (in {})", r[1].str(), r[2].str(), r[3].str());  // keep the innermost
  }
  if (reason.empty()) {
    reason = what;
    std::replace(reason.begin(), reason.end(), '\n', ' ');
  }
  return out + reason;
}

class OnnxWorkload final : public Workload {
 public:
  explicit OnnxWorkload(const WorkloadOptions& o)
      : options_(o), desc_(base_descriptor(o, "onnx", o.spec.substr(5), {"fp32"})) {
    if (desc_.model.empty()) throw InputError("onnx: needs a path: onnx:PATH/TO/model.onnx");
    // OpenCV logs importer failures itself; we report them once, condensed, as InputError.
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  }

  // The model is read on the first call, and again only when the number of workers changed: the
  // runs of a --repeat share the nets (as the README says) instead of re-importing the model and
  // growing the process's RSS with each run. The validation query runs on every call.
  void prepare(std::uint32_t workers) override {
    const std::string& path = desc_.model;
    cv::setNumThreads(static_cast<int>(options_.threads));
    if (nets_.size() != workers) load(workers);
    out_names_ = nets_[0].getUnconnectedOutLayersNames();
    std::vector<cv::Mat> outs;
    try {
      run(0, outs);
    } catch (const cv::Exception& e) {
      throw InputError(path, 0, "OpenCV DNN cannot run this model: " + condense_opencv_error(e.what()));
    }
    desc_.outputs.clear();
    for (std::size_t i = 0; i < outs.size(); ++i) {
      std::vector<std::int64_t> shape;
      for (int d = 0; d < outs[i].dims; ++d) shape.push_back(outs[i].size[d]);
      desc_.outputs.push_back({i < out_names_.size() ? out_names_[i] : fmt::format("output{}", i), shape, "float32"});
    }
  }

  InferOutcome infer(std::uint32_t worker) noexcept override {
    try {
      thread_local std::vector<cv::Mat> outs;
      run(worker, outs);
      return {};
    } catch (const cv::Exception& e) {
      return {false, "exception", condense_opencv_error(e.what())};
    } catch (const std::exception& e) {
      return {false, "exception", e.what()};
    }
  }

  const WorkloadDescriptor& descriptor() const noexcept override { return desc_; }

 private:
  // Reads and checks the model, then one cv::dnn::Net and one set of inputs per worker.
  void load(std::uint32_t workers) {
    const std::string& path = desc_.model;
    if (!std::filesystem::exists(path)) throw InputError(path, 0, "no such file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path, 0, "cannot read");
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    desc_.model_hash = hash_file(path);
    const OnnxGraph graph = parse_onnx_graph(bytes, path);
    resolve_inputs(graph);

    // cv::dnn::Net is not thread-safe: one per worker, each with its own inputs.
    nets_.clear();
    for (std::uint32_t w = 0; w < workers; ++w) {
      try {
        nets_.push_back(cv::dnn::readNetFromONNX(path));
      } catch (const cv::Exception& e) {
        throw InputError(path, 0, "OpenCV DNN cannot import this model: " + condense_opencv_error(e.what()));
      }
      nets_.back().setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
      nets_.back().setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    }
    blobs_.assign(workers, {});
    std::mt19937_64 rng(options_.seed + 1);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (const auto& t : desc_.inputs) {
      std::vector<int> dims(t.shape.begin(), t.shape.end());
      cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F);
      for (auto it = blob.begin<float>(); it != blob.end<float>(); ++it) *it = normal(rng);
      for (std::uint32_t w = 0; w < workers; ++w) blobs_[w].push_back(blob.clone());
    }
  }

  void run(std::uint32_t worker, std::vector<cv::Mat>& outs) {
    auto& net = nets_[worker];
    for (std::size_t i = 0; i < desc_.inputs.size(); ++i) net.setInput(blobs_[worker][i], desc_.inputs[i].name);
    net.forward(outs, out_names_);
  }

  void resolve_inputs(const OnnxGraph& graph) {
    const std::string& path = desc_.model;
    if (graph.inputs.empty()) throw InputError(path, 0, "the graph has no inputs");
    std::vector<std::string> names;
    for (const auto& in : graph.inputs) names.push_back(in.name);
    const auto given = match_shapes(options_.shapes, names, path);
    desc_.inputs.clear();
    for (std::size_t i = 0; i < graph.inputs.size(); ++i) {
      const auto& in = graph.inputs[i];
      if (in.elem_type != 1)
        throw InputError(path, 0, fmt::format("input '{}' is {}: the onnx backend feeds float32 inputs only", in.name,
                                              onnx_elem_type_name(in.elem_type)));
      std::vector<std::int64_t> dims;
      if (given[i]) {
        dims = given[i]->dims;
        if (!in.dims.empty() && dims.size() != in.dims.size())
          throw InputError(path, 0, fmt::format("--shape for '{}' has {} dims, the model declares {}", in.name,
                                                dims.size(), in.dims.size()));
        for (std::size_t d = 0; d < std::min(dims.size(), in.dims.size()); ++d)
          if (in.dims[d].value > 0 && in.dims[d].value != dims[d] && d != 0)
            throw InputError(path, 0, fmt::format("--shape for '{}' sets dim {} to {}, but the model fixes it at {}",
                                                  in.name, d, dims[d], in.dims[d].value));
      } else {
        if (in.dims.empty())
          throw InputError(path, 0, fmt::format("input '{}' declares no shape: give --shape {}:DxDx...", in.name, in.name));
        for (std::size_t d = 0; d < in.dims.size(); ++d) {
          const auto& dim = in.dims[d];
          if (dim.value > 0) {
            dims.push_back(d == 0 && options_.batch_size != 1 && dim.value == 1 ? -2 : dim.value);
          } else if (d == 0) {
            dims.push_back(options_.batch_size);  // a dynamic leading dim is the batch
          } else {
            throw InputError(path, 0, fmt::format("input '{}' has dynamic dim {} ('{}'): give --shape {}:{}", in.name, d,
                                                  dim.param.empty() ? "?" : dim.param, in.name,
                                                  example_shape(in, options_.batch_size)));
          }
        }
        if (!dims.empty() && dims[0] == -2)
          throw InputError(path, 0, fmt::format("input '{}' has a fixed batch of 1; --batch-size {} needs a model "
                                                "with a dynamic batch dim or a --shape override",
                                                in.name, options_.batch_size));
      }
      desc_.inputs.push_back({in.name, dims, "float32"});
    }
    // Samples per query follow the first input's leading dim (it may come from --shape).
    desc_.batch_size = batch_from_shape(desc_.inputs.front().shape, options_.batch_size, path);
  }

  static std::string example_shape(const OnnxInput& in, std::uint32_t batch) {
    std::vector<std::string> parts;
    for (std::size_t d = 0; d < in.dims.size(); ++d)
      parts.push_back(in.dims[d].value > 0 ? std::to_string(in.dims[d].value) : d == 0 ? std::to_string(batch) : "N");
    return fmt::format("{}", fmt::join(parts, "x"));
  }

  WorkloadOptions options_;
  WorkloadDescriptor desc_;
  std::vector<cv::dnn::Net> nets_;               // [worker]
  std::vector<std::vector<cv::Mat>> blobs_;      // [worker][input]
  std::vector<std::string> out_names_;
};

}  // namespace

std::unique_ptr<Workload> make_onnx_workload(const WorkloadOptions& options) {
  return std::make_unique<OnnxWorkload>(options);
}

}  // namespace trackiq::workload
