// KV-cache sizing (include/trackiq/analysis/kv_cache.hpp).
#include "trackiq/analysis/kv_cache.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/core/error.hpp"

namespace trackiq::analysis {
namespace {

// 1-based line of a byte offset, for parse errors.
std::uint64_t line_of(const std::string& text, std::size_t byte) {
  byte = std::min(byte, text.size());
  return 1 + static_cast<std::uint64_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte), '\n'));
}

// The line where `"key"` first appears (0 when absent), to point at a bad value.
std::uint64_t line_of_key(const std::string& text, const std::string& key) {
  const auto at = text.find("\"" + key + "\"");
  return at == std::string::npos ? 0 : line_of(text, at);
}

std::optional<std::uint64_t> positive(const nlohmann::json& j, const std::string& key, const std::string& text,
                                      const std::string& origin) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  const auto& v = j[key];
  if (!v.is_number_integer() || v.get<std::int64_t>() <= 0)
    throw InputError(origin, line_of_key(text, key), fmt::format("'{}' must be a positive integer, not {}", key, v.dump()));
  return v.get<std::uint64_t>();
}

}  // namespace

KvShape kv_shape_from_hf_config(const std::string& text, const std::string& origin) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(origin, line_of(text, e.byte > 0 ? e.byte - 1 : 0), "not valid JSON");
  }
  if (!doc.is_object()) throw InputError(origin, 1, "expected a JSON object (a Hugging Face config.json)");
  const nlohmann::json* j = &doc;
  if (!doc.contains("num_hidden_layers") && doc.contains("text_config") && doc["text_config"].is_object())
    j = &doc["text_config"];
  KvShape s;
  s.source = origin;
  const auto layers = positive(*j, "num_hidden_layers", text, origin);
  const auto heads = positive(*j, "num_attention_heads", text, origin);
  if (!layers) throw InputError(origin, 0, "no 'num_hidden_layers': not a transformer config.json");
  if (!heads) throw InputError(origin, 0, "no 'num_attention_heads': not a transformer config.json");
  s.layers = *layers;
  s.attention_heads = *heads;
  s.kv_heads = positive(*j, "num_key_value_heads", text, origin).value_or(*heads);
  if (const auto hd = positive(*j, "head_dim", text, origin)) {
    s.head_dim = *hd;
  } else {
    const auto hidden = positive(*j, "hidden_size", text, origin);
    if (!hidden) throw InputError(origin, 0, "neither 'head_dim' nor 'hidden_size' is given");
    if (*hidden % *heads != 0)
      throw InputError(origin, line_of_key(text, "hidden_size"),
                       fmt::format("hidden_size {} is not a multiple of num_attention_heads {}", *hidden, *heads));
    s.head_dim = *hidden / *heads;
  }
  if (s.kv_heads > s.attention_heads || s.attention_heads % s.kv_heads != 0)
    throw InputError(origin, line_of_key(text, "num_key_value_heads"),
                     fmt::format("num_key_value_heads {} does not divide num_attention_heads {}", s.kv_heads,
                                 s.attention_heads));
  return s;
}

std::uint32_t kv_precision_bytes(const std::string& p) {
  if (p == "fp32") return 4;
  if (p == "bf16" || p == "fp16") return 2;
  if (p == "fp8" || p == "int8") return 1;
  throw InputError(fmt::format("precision '{}' is not one of fp32, bf16, fp16, fp8, int8", p));
}

KvCacheEstimate estimate_kv_cache(const KvCacheInput& in) {
  const KvShape& s = in.shape;
  if (s.layers == 0 || s.kv_heads == 0 || s.head_dim == 0)
    throw InputError("layers, KV heads and head size must all be >= 1");
  if (in.seq_len == 0) throw InputError("--seq-len must be >= 1");
  if (in.batch == 0) throw InputError("--batch must be >= 1");
  if (!(in.memory_fraction > 0 && in.memory_fraction <= 1)) throw InputError("--memory-fraction must be in (0, 1]");
  const std::uint64_t bytes = kv_precision_bytes(in.precision);
  // Overflow: 2 x layers x heads x dim x bytes x seq x batch stays far below 2^64 for real
  // models; checked anyway, since the flags can say anything.
  const auto mul = [](std::uint64_t a, std::uint64_t b) {
    if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) throw InputError("the sizes overflow 64 bits");
    return a * b;
  };
  KvCacheEstimate e;
  e.bytes_per_token = mul(mul(mul(mul(2, s.layers), s.kv_heads), s.head_dim), bytes);
  e.bytes_per_sequence = mul(e.bytes_per_token, in.seq_len);
  e.total_bytes = mul(e.bytes_per_sequence, in.batch);
  if (!in.memory_bytes || !in.weights_bytes) {
    e.fit_reason = !in.memory_bytes ? "not available: no device memory (give --memory or --device)"
                                    : "not available: no weight size (give --weights-bytes or --params)";
    return e;
  }
  const double usable = std::floor(static_cast<double>(*in.memory_bytes) * in.memory_fraction);
  const double free = usable - static_cast<double>(*in.weights_bytes);
  e.free_bytes = free > 0 ? static_cast<std::uint64_t>(free) : 0;
  e.max_tokens = *e.free_bytes / e.bytes_per_token;
  e.max_batch = *e.max_tokens / in.seq_len;
  e.max_seq_len = *e.max_tokens / in.batch;
  e.fits = e.total_bytes <= *e.free_bytes;
  return e;
}

std::optional<std::uint64_t> parse_bytes(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double value = 0;
  try {
    std::size_t used = 0;
    value = std::stod(text.substr(0, i), &used);
    if (used != i) return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string unit = text.substr(i);
  unit.erase(std::remove(unit.begin(), unit.end(), ' '), unit.end());
  double scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "KiB") scale = 1024.0;
  else if (unit == "MiB") scale = 1024.0 * 1024;
  else if (unit == "GiB") scale = 1024.0 * 1024 * 1024;
  else if (unit == "TiB") scale = 1024.0 * 1024 * 1024 * 1024;
  else if (unit == "KB" || unit == "kB") scale = 1e3;
  else if (unit == "MB") scale = 1e6;
  else if (unit == "GB") scale = 1e9;
  else if (unit == "TB") scale = 1e12;
  else return std::nullopt;
  const double bytes = value * scale;
  if (!(bytes >= 0) || bytes > 1.8e19) return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(bytes));
}

std::string format_bytes(std::uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  return u == 0 ? fmt::format("{} B", b) : fmt::format("{:.2f} {}", v, units[u]);
}

}  // namespace trackiq::analysis
