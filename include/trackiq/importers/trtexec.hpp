#ifndef TRACKIQ_IMPORTERS_TRTEXEC_HPP
#define TRACKIQ_IMPORTERS_TRTEXEC_HPP
// TensorRT trtexec's JSON exports read whole, for `trackiq analyze dnn-pipeline`
// (trackiq/analysis/dnn_pipeline.hpp):
//
//   --exportProfile  [{"count": N}, {"name", "timeMs", "averageMs", "medianMs"?, "percentage"}, ...]
//   --exportTimes    [{"startEnqMs", "endEnqMs", "h2dMs", "computeMs", "d2hMs", "latencyMs", ...}, ...]
//                    (TensorRT 10; the older layout's "startInMs"/"endInMs", "inMs", "outMs" are read too)
//   --exportLayerInfo {"Layers": [names, or objects with "Name", "LayerType", "Outputs", "TacticName",
//                    ...], "Bindings": [...]} (objects with --profilingVerbosity=detailed)
//
// Bad input → InputError "file:line: what".
#include <string>
#include <string_view>
#include <vector>

#include "trackiq/analysis/dnn_pipeline.hpp"

namespace trackiq::importers {

using analysis::TrtLayerInfo;
using analysis::TrtLayerTime;
using analysis::TrtProfile;
using analysis::TrtTimes;

TrtProfile read_trtexec_profile(std::string_view text, const std::string& origin);
TrtTimes read_trtexec_times(std::string_view text, const std::string& origin);
std::vector<TrtLayerInfo> read_trtexec_layer_info(std::string_view text, const std::string& origin);

}  // namespace trackiq::importers
#endif
