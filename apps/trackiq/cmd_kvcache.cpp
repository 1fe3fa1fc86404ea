// trackiq kv-cache: KV-cache size per token, per sequence and in total, and what fits a
// device's memory after the weights (RUN-7).
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_util.hpp"
#include "commands.hpp"
#include "trackiq/analysis/kv_cache.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/telemetry/devices.hpp"

namespace trackiq::cli {
namespace {

struct KvFlags {
  std::string config;
  std::uint64_t layers = 0, kv_heads = 0, head_dim = 0, heads = 0;
  std::uint64_t seq_len = 0, batch = 1;
  std::string precision = "fp16";
  std::string memory, device, weights_bytes, weights_precision = "fp16";
  double params = 0;
  double memory_fraction = 0.9;
  bool json = false;
};

std::string group(std::uint64_t v) {  // 479123 -> "479,123"
  const std::string digits = std::to_string(v);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

int kv_cache(const KvFlags& f) {
  analysis::KvCacheInput in;
  if (!f.config.empty()) {
    if (f.layers || f.kv_heads || f.head_dim || f.heads)
      throw InputError("--config and --layers/--heads/--kv-heads/--head-dim exclude each other");
    in.shape = analysis::kv_shape_from_hf_config(read_text_file(f.config), f.config);
  } else {
    if (!f.layers || !f.kv_heads || !f.head_dim)
      throw InputError("give --config config.json, or --layers, --kv-heads and --head-dim");
    in.shape = {f.layers, f.kv_heads, f.head_dim, f.heads ? f.heads : f.kv_heads, "flags"};
  }
  in.precision = f.precision;
  in.seq_len = f.seq_len;
  in.batch = f.batch;
  in.memory_fraction = f.memory_fraction;
  std::string memory_source;
  if (!f.memory.empty() && !f.device.empty()) throw InputError("--memory and --device exclude each other");
  if (!f.memory.empty()) {
    in.memory_bytes = analysis::parse_bytes(f.memory);
    if (!in.memory_bytes) throw InputError(fmt::format("--memory '{}': not a size (e.g. 80GiB, 24GB)", f.memory));
    memory_source = "--memory";
  } else if (!f.device.empty()) {
    Environment env;
    telemetry::describe_gpus(env);
    const GpuInfo* gpu = nullptr;
    for (const auto& g : env.gpus)
      if (g.id == f.device) gpu = &g;
    if (!gpu)
      throw NotAvailableError(fmt::format("--device {}: no such GPU here ({})", f.device,
                                          env.gpu_probe.empty() ? "see `trackiq devices`" : env.gpu_probe));
    if (gpu->memory_bytes == 0)
      throw NotAvailableError(fmt::format("--device {}: the driver reports no memory size (unified memory?); give --memory",
                                          f.device));
    in.memory_bytes = gpu->memory_bytes;
    memory_source = fmt::format("{} ({})", gpu->id, gpu->name);
  }
  if (!f.weights_bytes.empty() && f.params > 0) throw InputError("--weights-bytes and --params exclude each other");
  std::string weights_source;
  if (!f.weights_bytes.empty()) {
    in.weights_bytes = analysis::parse_bytes(f.weights_bytes);
    if (!in.weights_bytes) throw InputError(fmt::format("--weights-bytes '{}': not a size (e.g. 14GiB)", f.weights_bytes));
    weights_source = "--weights-bytes";
  } else if (f.params > 0) {
    if (!std::isfinite(f.params) || f.params > 1e15) throw InputError("--params: not a parameter count");
    in.weights_bytes = static_cast<std::uint64_t>(std::llround(f.params * analysis::kv_precision_bytes(f.weights_precision)));
    weights_source = fmt::format("{:g} parameters x {} B ({})", f.params, analysis::kv_precision_bytes(f.weights_precision),
                                 f.weights_precision);
  }
  const auto e = analysis::estimate_kv_cache(in);
  const auto& s = in.shape;
  const std::string attention = s.kv_heads == s.attention_heads ? "MHA" : s.kv_heads == 1 ? "MQA" : "GQA";

  if (f.json) {
    nlohmann::ordered_json j;
    j["kind"] = "derived";
    j["model"] = {{"source", s.source}, {"layers", s.layers}, {"attention_heads", s.attention_heads},
                  {"kv_heads", s.kv_heads}, {"head_dim", s.head_dim}, {"attention", attention}};
    j["precision"] = in.precision;
    j["bytes_per_element"] = analysis::kv_precision_bytes(in.precision);
    j["seq_len"] = in.seq_len;
    j["batch"] = in.batch;
    j["bytes_per_token"] = e.bytes_per_token;
    j["bytes_per_sequence"] = e.bytes_per_sequence;
    j["total_bytes"] = e.total_bytes;
    if (e.free_bytes) {
      j["memory_bytes"] = *in.memory_bytes;
      j["memory_fraction"] = in.memory_fraction;
      j["weights_bytes"] = *in.weights_bytes;
      j["free_bytes"] = *e.free_bytes;
      j["max_tokens"] = *e.max_tokens;
      j["max_batch_at_seq_len"] = *e.max_batch;
      j["max_seq_len_at_batch"] = *e.max_seq_len;
      j["fits"] = *e.fits;
    } else {
      j["fits"] = nullptr;
      j["fit_reason"] = e.fit_reason;
    }
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  fmt::print("model         {}: {} layers, {} attention heads, {} KV heads ({}), head size {}\n", s.source, s.layers,
             s.attention_heads, s.kv_heads, attention, s.head_dim);
  fmt::print("precision     {} ({} B per element)\n", in.precision, analysis::kv_precision_bytes(in.precision));
  fmt::print("per token     {}  (2 x {} layers x {} KV heads x {} x {} B = {} B)\n", analysis::format_bytes(e.bytes_per_token),
             s.layers, s.kv_heads, s.head_dim, analysis::kv_precision_bytes(in.precision), group(e.bytes_per_token));
  fmt::print("per sequence  {}  ({} tokens)\n", analysis::format_bytes(e.bytes_per_sequence), group(in.seq_len));
  fmt::print("total         {}  (batch {})\n", analysis::format_bytes(e.total_bytes), in.batch);
  if (e.free_bytes) {
    fmt::print("memory        {} ({}) x {:.2f} - weights {} ({}) = {} for the cache\n",
               analysis::format_bytes(*in.memory_bytes), memory_source, in.memory_fraction,
               analysis::format_bytes(*in.weights_bytes), weights_source, analysis::format_bytes(*e.free_bytes));
    fmt::print("fits          {}: up to {} tokens in all; batch <= {} at {} tokens; sequence <= {} tokens at batch {}\n",
               *e.fits ? "yes" : "NO", group(*e.max_tokens), group(*e.max_batch), group(in.seq_len),
               group(*e.max_seq_len), in.batch);
  } else {
    fmt::print("fits          {}\n", e.fit_reason);
  }
  fmt::print("(derived from the model's shape, not measured; activations, fragmentation and the runtime's own\n"
             " buffers are not counted: the memory fraction leaves room for them)\n");
  return kExitOk;
}

}  // namespace

Action setup_kv_cache(CLI::App& sub) {
  auto f = std::make_shared<KvFlags>();
  sub.footer(
      "KV-cache bytes per token = 2 (K and V) x layers x KV heads x head size x bytes per element; per\n"
      "sequence x seq-len; total x batch. With device memory and the weights' size, also the largest\n"
      "batch at --seq-len and the longest sequence at --batch that fit memory x fraction - weights.\n"
      "From a Hugging Face config.json: num_hidden_layers, num_key_value_heads (else num_attention_heads:\n"
      "MHA; 1: MQA; fewer: GQA), head_dim (else hidden_size / num_attention_heads).\n\n"
      "Examples:\n"
      "  trackiq kv-cache --config Llama-3-8B/config.json --seq-len 8192 --batch 16 --memory 80GiB --params 8.03e9\n"
      "  trackiq kv-cache --layers 32 --kv-heads 8 --head-dim 128 --seq-len 4096 --precision fp8 --json\n"
      "  trackiq kv-cache --config config.json --seq-len 4096 --device gpu0 --weights-bytes 15GiB");
  sub.add_option("--config", f->config, "Hugging Face config.json of the model");
  sub.add_option("--layers", f->layers, "Transformer layers (without --config)");
  sub.add_option("--heads", f->heads, "Attention heads (without --config; default: --kv-heads)");
  sub.add_option("--kv-heads", f->kv_heads, "Key/value heads (without --config)");
  sub.add_option("--head-dim", f->head_dim, "Head size (without --config)");
  sub.add_option("--seq-len", f->seq_len, "Tokens per sequence (prompt + output)")->required();
  sub.add_option("--batch", f->batch, "Concurrent sequences")->capture_default_str();
  sub.add_option("--precision", f->precision, "Cache precision: fp32, bf16, fp16, fp8, int8")->capture_default_str();
  sub.add_option("--memory", f->memory, "Device memory, e.g. 80GiB or 24GB");
  sub.add_option("--device", f->device, "Take the memory of this GPU (gpu0, ...; NVML)");
  sub.add_option("--memory-fraction", f->memory_fraction, "Share of the memory the server may use")->capture_default_str();
  sub.add_option("--weights-bytes", f->weights_bytes, "Size of the weights, e.g. 15GiB");
  sub.add_option("--params", f->params, "Parameter count (weights = params x --weights-precision bytes)");
  sub.add_option("--weights-precision", f->weights_precision, "Precision of the weights for --params")->capture_default_str();
  sub.add_flag("--json", f->json, "Print JSON");
  return [f] { return kv_cache(*f); };
}

}  // namespace trackiq::cli
