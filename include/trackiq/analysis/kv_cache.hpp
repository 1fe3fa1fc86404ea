#pragma once
// KV-cache sizing for transformer inference (RUN-7, `trackiq kv-cache`): how many bytes each
// token's keys and values take, and how many tokens fit a device's memory after the weights.
// Derived from the model's shape, not measured; docs/metrics.md "KV cache" gives the formulas.
#include <cstdint>
#include <optional>
#include <string>

namespace trackiq::analysis {

struct KvShape {
  std::uint64_t layers = 0;     // num_hidden_layers
  std::uint64_t kv_heads = 0;   // num_key_value_heads (GQA/MQA), else num_attention_heads
  std::uint64_t head_dim = 0;   // head_dim, else hidden_size / num_attention_heads
  std::uint64_t attention_heads = 0;  // for the report: MHA when equal to kv_heads
  std::string source;           // "flags" or the config file
};

// Reads a Hugging Face config.json (`text` from file `origin`): InputError "origin:line: what"
// for malformed JSON, a missing or non-positive field, or a hidden size that the heads do not
// divide. Nested text_config (multimodal models) is used when the top level has no layers.
KvShape kv_shape_from_hf_config(const std::string& text, const std::string& origin);

// Bytes per element of a cache precision: fp32 4, bf16/fp16 2, fp8/int8 1; InputError otherwise.
std::uint32_t kv_precision_bytes(const std::string& precision);

struct KvCacheInput {
  KvShape shape;
  std::string precision = "fp16";
  std::uint64_t seq_len = 0;  // tokens per sequence (prompt + output)
  std::uint64_t batch = 1;    // concurrent sequences
  std::optional<std::uint64_t> memory_bytes;   // device memory, when known
  std::optional<std::uint64_t> weights_bytes;  // model weights, when known
  double memory_fraction = 0.9;  // share of the memory the server may use (vLLM's default 0.9)
};

struct KvCacheEstimate {
  std::uint64_t bytes_per_token = 0;  // 2 (K and V) x layers x kv_heads x head_dim x bytes
  std::uint64_t bytes_per_sequence = 0;
  std::uint64_t total_bytes = 0;  // batch x seq_len tokens
  // Only with memory and weights known (otherwise `fit_reason` says what is missing):
  std::optional<std::uint64_t> free_bytes;    // memory x fraction - weights (0 when negative)
  std::optional<std::uint64_t> max_tokens;    // free / bytes_per_token
  std::optional<std::uint64_t> max_batch;     // at seq_len
  std::optional<std::uint64_t> max_seq_len;   // at batch
  std::optional<bool> fits;                   // total <= free
  std::string fit_reason;
};

// InputError for zero layers/heads/head_dim/seq_len/batch or a fraction outside (0, 1].
KvCacheEstimate estimate_kv_cache(const KvCacheInput& input);

// "1 KiB"-style sizes: "80GiB", "80 GB", "512MiB", "1024" (bytes); nullopt when malformed.
std::optional<std::uint64_t> parse_bytes(const std::string& text);
std::string format_bytes(std::uint64_t bytes);  // "12.5 GiB"

}  // namespace trackiq::analysis
