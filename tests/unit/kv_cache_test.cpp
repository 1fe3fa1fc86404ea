// KV-cache sizing against hand computations for three public model configs (values of their
// Hugging Face config.json files: Llama-2-7b-hf, Meta-Llama-3-8B, Mistral-7B-v0.1).
#include <gtest/gtest.h>

#include "trackiq/analysis/kv_cache.hpp"
#include "trackiq/core/error.hpp"

namespace trackiq::analysis {
namespace {

constexpr const char* kLlama2_7b = R"({
  "architectures": ["LlamaForCausalLM"],
  "hidden_size": 4096,
  "intermediate_size": 11008,
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 32,
  "torch_dtype": "float16"
})";
constexpr const char* kLlama3_8b = R"({
  "hidden_size": 4096,
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "torch_dtype": "bfloat16"
})";
constexpr const char* kMistral_7b = R"({
  "hidden_size": 4096,
  "num_attention_heads": 32,
  "num_hidden_layers": 32,
  "num_key_value_heads": 8,
  "sliding_window": 4096
})";

TEST(KvCache, Llama2IsMhaAtHalfAMebibytePerFp16Token) {
  const KvShape s = kv_shape_from_hf_config(kLlama2_7b, "llama2.json");
  EXPECT_EQ(s.layers, 32u);
  EXPECT_EQ(s.kv_heads, 32u);  // MHA: as many KV heads as attention heads
  EXPECT_EQ(s.head_dim, 128u);  // 4096 / 32
  const auto e = estimate_kv_cache({.shape = s, .precision = "fp16", .seq_len = 4096, .batch = 1});
  EXPECT_EQ(e.bytes_per_token, 2u * 32 * 32 * 128 * 2);  // 524,288 B = 0.5 MiB
  EXPECT_EQ(e.bytes_per_sequence, 524'288ull * 4096);    // 2 GiB
  EXPECT_EQ(e.total_bytes, 2ull << 30);
  EXPECT_FALSE(e.fits.has_value());
  EXPECT_NE(e.fit_reason.find("not available: no device memory"), std::string::npos);
}

TEST(KvCache, Llama3AndMistralUseGqaWithEightKvHeads) {
  for (const char* config : {kLlama3_8b, kMistral_7b}) {
    const KvShape s = kv_shape_from_hf_config(config, "config.json");
    EXPECT_EQ(s.kv_heads, 8u);
    EXPECT_EQ(s.attention_heads, 32u);
    const auto e = estimate_kv_cache({.shape = s, .precision = "bf16", .seq_len = 8192, .batch = 16});
    EXPECT_EQ(e.bytes_per_token, 131'072u);  // 2 x 32 x 8 x 128 x 2: a quarter of Llama-2's
    EXPECT_EQ(e.total_bytes, 131'072ull * 8192 * 16);  // 16 GiB
  }
}

TEST(KvCache, WhatFitsAfterTheWeights) {
  const KvShape s = kv_shape_from_hf_config(kLlama3_8b, "config.json");
  // 80 GiB x 0.9 = 77,309,411,328 B; weights 8.03e9 x 2 B = 16,060,000,000 B;
  // free 61,249,411,328 B / 131,072 B = 467,295 tokens; / 8,192 = 57 sequences.
  const auto e = estimate_kv_cache({.shape = s,
                                    .precision = "fp16",
                                    .seq_len = 8192,
                                    .batch = 16,
                                    .memory_bytes = 80ull << 30,
                                    .weights_bytes = 16'060'000'000ull});
  EXPECT_EQ(*e.free_bytes, 61'249'411'328ull);
  EXPECT_EQ(*e.max_tokens, 467'295u);
  EXPECT_EQ(*e.max_batch, 57u);
  EXPECT_EQ(*e.max_seq_len, 29'205u);  // 467,295 / 16
  EXPECT_TRUE(*e.fits);
  // fp8 halves the cache: twice the tokens.
  const auto fp8 = estimate_kv_cache({.shape = s, .precision = "fp8", .seq_len = 8192, .batch = 16,
                                      .memory_bytes = 80ull << 30, .weights_bytes = 16'060'000'000ull});
  EXPECT_EQ(*fp8.max_tokens, 934'591u);  // 61,249,411,328 / 65,536
  // Weights larger than the memory: nothing fits, and it says so.
  const auto none = estimate_kv_cache({.shape = s, .seq_len = 10, .memory_bytes = 8ull << 30, .weights_bytes = 16ull << 30});
  EXPECT_EQ(*none.free_bytes, 0u);
  EXPECT_EQ(*none.max_batch, 0u);
  EXPECT_FALSE(*none.fits);
}

TEST(KvCache, MqaHasOneKvHead) {
  const auto e = estimate_kv_cache({.shape = {.layers = 32, .kv_heads = 1, .head_dim = 64, .attention_heads = 71},
                                    .precision = "fp32", .seq_len = 2048});
  EXPECT_EQ(e.bytes_per_token, 2u * 32 * 1 * 64 * 4);
}

TEST(KvCache, BadConfigsNameTheFileAndLine) {
  try {
    kv_shape_from_hf_config("{\n  \"num_hidden_layers\": 32,\n  \"num_attention_heads\": 32\n  \"hidden_size\": 1\n}", "c.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.origin(), "c.json");
    EXPECT_EQ(e.line(), 4u) << e.what();
  }
  try {
    kv_shape_from_hf_config("{\n \"num_hidden_layers\": 32,\n \"num_attention_heads\": 32,\n \"hidden_size\": 4100\n}", "c.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.line(), 4u) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a multiple of num_attention_heads 32"), std::string::npos) << e.what();
  }
  try {
    kv_shape_from_hf_config("{\"num_hidden_layers\": -3, \"num_attention_heads\": 32, \"hidden_size\": 4096}", "c.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'num_hidden_layers' must be a positive integer, not -3"), std::string::npos);
  }
  EXPECT_THROW(kv_shape_from_hf_config("{\"num_attention_heads\": 32}", "c.json"), InputError);
  EXPECT_THROW(kv_shape_from_hf_config(
                   "{\"num_hidden_layers\": 2, \"num_attention_heads\": 32, \"num_key_value_heads\": 5, \"head_dim\": 64}",
                   "c.json"),
               InputError);
  EXPECT_THROW(kv_precision_bytes("int4"), InputError);
  EXPECT_THROW(estimate_kv_cache({.shape = {.layers = 1, .kv_heads = 1, .head_dim = 1}, .seq_len = 0}), InputError);
}

TEST(KvCache, SizesParseInBinaryAndDecimalUnits) {
  EXPECT_EQ(parse_bytes("80GiB"), 80ull << 30);
  EXPECT_EQ(parse_bytes("24GB"), 24'000'000'000ull);
  EXPECT_EQ(parse_bytes("1.5 MiB"), 1'572'864ull);
  EXPECT_EQ(parse_bytes("4096"), 4096ull);
  EXPECT_FALSE(parse_bytes("lots"));
  EXPECT_FALSE(parse_bytes("12 parsecs"));
  EXPECT_EQ(format_bytes(131'072), "128.00 KiB");
}

}  // namespace
}  // namespace trackiq::analysis
