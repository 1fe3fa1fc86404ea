// The REST API of `trackiq serve` (include/trackiq/server/api.hpp).
#include "trackiq/server/api.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trackiq/analysis/compare.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/metric_registry.hpp"
#include "trackiq/server/history_json.hpp"
#include "trackiq/server/http_server.hpp"
#include "trackiq/server/openmetrics.hpp"
#include "trackiq/server/router.hpp"
#include "trackiq/server/telemetry_ring.hpp"

namespace trackiq::server {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::size_t kMaxPageSize = 1000;
constexpr std::size_t kDefaultPageSize = 50;

// The store's key metrics exposed as "latest value of each series" gauges, in base units.
struct StoreGaugeDef {
  const char* metric;  // registry name
  const char* prom;    // Prometheus name
  double scale;        // registry unit -> base unit
  const char* help;
};
constexpr StoreGaugeDef kStoreGauges[] = {
    {"latency_p50_ms", "trackiq_run_latency_p50_seconds", 1e-3,
     "Median per-query latency of the series' newest run"},
    {"latency_p99_ms", "trackiq_run_latency_p99_seconds", 1e-3,
     "99th percentile per-query latency of the series' newest run"},
    {"latency_mean_ms", "trackiq_run_latency_mean_seconds", 1e-3,
     "Mean per-query latency of the series' newest run"},
    {"throughput_queries_per_s", "trackiq_run_throughput_queries_per_second", 1.0,
     "Throughput (queries per second) of the series' newest run"},
    {"mean_ttft_ms", "trackiq_run_ttft_mean_seconds", 1e-3,
     "Mean time to first token of the series' newest load run"},
    {"p99_ttft_ms", "trackiq_run_ttft_p99_seconds", 1e-3,
     "99th percentile time to first token of the series' newest load run"},
    {"mean_tpot_ms", "trackiq_run_tpot_mean_seconds", 1e-3,
     "Mean time per output token of the series' newest load run"},
};

struct BadRequest {
  int status;
  std::string message;
};

HttpResponse json_response(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  // A client's bytes quoted in a message may be invalid UTF-8: replaced, not thrown on.
  r.body = body.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  return r;
}

HttpResponse error_response(int status, const std::string& message) {
  return json_response(status, Json{{"error", message}, {"status", status}});
}

// The status of a store InputError: a missing run or baseline is 404, the rest 400.
int input_status(const std::string& message) {
  if (message.find("ambiguous") != std::string::npos ||
      message.find("exists for") != std::string::npos)
    return 400;
  if (message.rfind("no ", 0) == 0) return 404;
  return 400;
}

std::string hex_encode(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::optional<std::string> hex_decode(std::string_view s) {
  if (s.size() % 2) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 2) {
    auto v = [](char c) {
      return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    };
    const int hi = v(s[i]), lo = v(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

// Every parameter of the query must be one the route knows: a typo is a 400, not a silent no-op.
void check_params(const QueryParams& q, std::initializer_list<std::string_view> known) {
  for (const auto& [k, v] : q.items) {
    bool ok = false;
    for (const auto& name : known) ok |= k == name;
    if (ok) continue;
    std::string list;
    for (const auto& name : known) list += (list.empty() ? "" : ", ") + std::string(name);
    throw BadRequest{400, fmt::format("unknown query parameter '{}' (this route takes: {})", k,
                                      list.empty() ? "none" : list)};
  }
}

std::uint64_t parse_count(const QueryParams& q, std::string_view key, std::uint64_t fallback,
                          std::uint64_t lo, std::uint64_t hi) {
  const auto v = q.get(key);
  if (!v) return fallback;
  static const std::regex digits("^[0-9]{1,9}$");
  if (!std::regex_match(*v, digits) || std::stoull(*v) < lo || std::stoull(*v) > hi)
    throw BadRequest{400, fmt::format("{}={}: expected an integer from {} to {}", key, *v, lo, hi)};
  return std::stoull(*v);
}

bool parse_flag(const QueryParams& q, std::string_view key) {
  const auto v = q.get(key);
  if (!v) return false;
  if (*v == "1" || *v == "true" || v->empty()) return true;
  if (*v == "0" || *v == "false") return false;
  throw BadRequest{400, fmt::format("{}={}: expected 1, 0, true or false", key, *v)};
}

std::string parse_time(const QueryParams& q, std::string_view key) {
  const std::string v = *q.get(key);
  try {
    return parse_utc_time(v, fmt::format("{}={}", key, v));
  } catch (const InputError& e) {
    throw BadRequest{400, e.what()};
  }
}

Json summary_json(const store::RunSummary& r) {
  return {{"run_id", r.run_id},
          {"started_at", r.started_at},
          {"product", r.product},
          {"version", r.version},
          {"branch", r.branch},
          {"commit", r.commit},
          {"ci", r.ci},
          {"hardware_fingerprint", r.hardware_fingerprint},
          {"hostname", r.hostname},
          {"workload", r.workload},
          {"scenario", r.scenario},
          {"samples", r.samples}};
}

Json baseline_json(const store::BaselineInfo& b) {
  return {{"name", b.name},       {"hardware_fingerprint", b.hardware_fingerprint},
          {"run_id", b.run_id},   {"created_at", b.created_at},
          {"product", b.product}, {"version", b.version}};
}

std::string_view method_label(std::string_view m) {
  for (const std::string_view known : {"GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"})
    if (m == known) return known;
  return "other";
}

// The series a too-wide /history filter matches, listed in its 400 body.
Json series_key_json(const store::SeriesKey& k) {
  return {{"product", k.product},
          {"hardware", k.hardware_fingerprint},
          {"workload", k.workload},
          {"scenario", k.scenario},
          {"config", k.config}};
}

// A number in the open interval (lo, hi).
double parse_number(const QueryParams& q, std::string_view key, double fallback, double lo,
                    double hi) {
  const auto v = q.get(key);
  if (!v) return fallback;
  static const std::regex number(R"(^[0-9]{0,20}\.?[0-9]{1,20}([eE][-+]?[0-9]{1,3})?$)");
  double x = NAN;
  // strtod, not stod: an exponent out of range gives +-HUGE_VAL or 0, never an exception.
  if (std::regex_match(*v, number)) x = std::strtod(v->c_str(), nullptr);
  if (!(x > lo && x < hi))
    throw BadRequest{400, fmt::format("{}={}: expected a number in ({:g}, {:g})", key, *v, lo, hi)};
  return x;
}

// The GET (and HEAD) routes whose answers depend only on the request target and the store (never
// on headers, the clock or the machine): their answers are cached, and carry an ETag. Not: the
// streamed samples, /telemetry and /metrics (live), anything that writes.
bool cacheable(RouteId r) {
  switch (r) {
    case RouteId::kRuns:
    case RouteId::kRun:
    case RouteId::kCompare:
    case RouteId::kBaselines:
    case RouteId::kHistory:
    case RouteId::kChanges:
    case RouteId::kOpenapi:
    case RouteId::kDashboard:
    case RouteId::kAsset:
      return true;
    case RouteId::kRunSamples:
    case RouteId::kTelemetry:
    case RouteId::kMetrics:
    case RouteId::kBaseline:
      return false;
  }
  return false;
}

// The cache key of a GET: the route, its decoded path parameter and its decoded query with the
// parameters sorted by name (stably: a repeated name keeps its values' order, which get() and
// all() see), so "/runs?limit=5&product=a" and "/runs?product=a&limit=%35" share one answer.
// '\0' separates the parts: parse_query refuses %00, so no part contains one.
std::string cache_key(const RouteMatch& m, const QueryParams& q) {
  auto items = q.items;
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string key = std::to_string(static_cast<int>(m.route));
  key += '\0';
  key += m.param;
  for (const auto& [k, v] : items) {
    key += '\0';
    key += k;
    key += '\0';
    key += v;
  }
  return key;
}

// A strong ETag: a 64-bit hash of the body and its length. The same body always gets the same
// tag (in any process of the same build: servers behind one balancer agree), a different body
// a different one but for a 2^-64 chance.
std::string etag_of(std::string_view body) {
  return fmt::format("\"{:016x}-{:x}\"", std::hash<std::string_view>{}(body), body.size());
}

// Whether If-None-Match (a list of entity tags, or "*") names `etag`; weak comparison, as RFC
// 9110 13.1.2 asks for If-None-Match (a W/ prefix is ignored).
bool none_match_hits(std::string_view header, std::string_view etag) {
  std::size_t at = 0;
  while (at < header.size()) {
    while (at < header.size() && (header[at] == ' ' || header[at] == '\t' || header[at] == ','))
      ++at;
    if (at >= header.size()) break;
    if (header[at] == '*') return true;
    if (header.substr(at, 2) == "W/") at += 2;
    if (at >= header.size() || header[at] != '"') return false;  // not an entity tag: no match
    const std::size_t close = header.find('"', at + 1);
    if (close == std::string_view::npos) return false;
    if (header.substr(at, close + 1 - at) == etag) return true;
    at = close + 1;
  }
  return false;
}

// Answers of GET read routes, each valid for the store generation it was computed at, at most
// `max_bytes` in all, least recently used dropped first. Thread-safe (one mutex, held only for
// the lookup or the insertion; a hit's answer is shared, copied outside the lock).
class AnswerCache {
 public:
  struct Answer {
    std::uint64_t generation = 0;
    HttpResponse response;  // with its ETag and Cache-Control
    std::string etag;
  };

  AnswerCache(std::size_t max_bytes, prometheus::Gauge& bytes_gauge,
              prometheus::Counter& evictions)
      : max_bytes_(max_bytes), bytes_gauge_(bytes_gauge), evictions_(evictions) {}

  bool enabled() const noexcept { return max_bytes_ > 0; }

  // The answer of `key` when it was computed at `generation`; an entry of another generation
  // is dropped (it can never be valid again: generations only move forward).
  std::shared_ptr<const Answer> get(const std::string& key, std::uint64_t generation) {
    std::lock_guard lock(mutex_);
    const auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    if (it->second->answer->generation != generation) {
      erase(it->second);
      return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->answer;
  }

  // Keeps `answer` for `key`, unless it is larger than a quarter of the budget (one huge run
  // with ?samples=1 would otherwise flush everything) or an entry of a newer generation is
  // there already (two misses computed concurrently).
  void put(const std::string& key, std::shared_ptr<const Answer> answer) {
    std::size_t size = key.size() * 2 + answer->response.body.size() + answer->etag.size() + 256;
    for (const auto& [k, v] : answer->response.headers) size += k.size() + v.size() + 64;
    if (size > max_bytes_ / 4) return;
    std::lock_guard lock(mutex_);
    if (const auto it = index_.find(key); it != index_.end()) {
      if (it->second->answer->generation > answer->generation) return;
      erase(it->second);
    }
    while (bytes_ + size > max_bytes_ && !lru_.empty()) {
      erase(std::prev(lru_.end()));
      evictions_.Increment();
    }
    lru_.push_front({key, std::move(answer), size});
    index_.emplace(lru_.front().key, lru_.begin());
    bytes_ += size;
    bytes_gauge_.Set(static_cast<double>(bytes_));
  }

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const Answer> answer;
    std::size_t bytes = 0;
  };

  void erase(std::list<Entry>::iterator e) {
    bytes_ -= e->bytes;
    index_.erase(e->key);
    lru_.erase(e);
    bytes_gauge_.Set(static_cast<double>(bytes_));
  }

  const std::size_t max_bytes_;
  prometheus::Gauge& bytes_gauge_;
  prometheus::Counter& evictions_;
  std::mutex mutex_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  std::size_t bytes_ = 0;
};

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

struct Api::Impl {
  Impl(store::Store& s, ApiOptions o) : store(s), options(std::move(o)) {}

  store::Store& store;  // guarded by store_mutex
  const ApiOptions options;
  std::mutex store_mutex;
  // The newest run of each series, by run id: its key metrics (for /metrics), guarded by
  // store_mutex. Entries of runs no longer newest are dropped at each scrape.
  std::map<std::string, std::vector<std::pair<std::string, double>>> key_metrics;

  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter()
          .Name("trackiq_http_requests_total")
          .Help("HTTP requests answered by trackiq serve, by method, route pattern and status code")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& durations =
      prometheus::BuildHistogram()
          .Name("trackiq_http_request_duration_seconds")
          .Help("Time from a parsed request to its response, by route pattern")
          .Register(*registry);
  // The answer cache (AnswerCache): hits, misses (computed and kept), evictions, bytes held.
  prometheus::Counter& cache_hits =
      prometheus::BuildCounter()
          .Name("trackiq_serve_cache_hits_total")
          .Help("GET answers served from the answer cache (store generation unchanged)")
          .Register(*registry)
          .Add({});
  prometheus::Counter& cache_misses =
      prometheus::BuildCounter()
          .Name("trackiq_serve_cache_misses_total")
          .Help("Cacheable GET answers computed from the store (not cached, or the store changed)")
          .Register(*registry)
          .Add({});
  prometheus::Counter& cache_evictions =
      prometheus::BuildCounter()
          .Name("trackiq_serve_cache_evictions_total")
          .Help("Answers dropped from the answer cache to stay within its byte budget (--cache-mb)")
          .Register(*registry)
          .Add({});
  prometheus::Gauge& cache_bytes =
      prometheus::BuildGauge()
          .Name("trackiq_serve_cache_bytes")
          .Help("Bytes of answers held by the answer cache")
          .Register(*registry)
          .Add({});
  AnswerCache cache{options.cache_bytes, cache_bytes, cache_evictions};

  // A GET (or HEAD) of a read route: from the cache when the store's generation is the one the
  // answer was computed at, else computed (dispatch) and kept; a 200 carries its ETag and answers
  // an If-None-Match naming it with 304. The generation is read before the answer is computed, so
  // a kept answer is never older than its generation (a write in between makes it newer, and
  // the next request, seeing the new generation, computes it again).
  HttpResponse read(const RouteMatch& m, const HttpRequest& req, const QueryParams& q) {
    std::string key;
    std::uint64_t generation = 0;
    if (cache.enabled()) {
      key = cache_key(m, q);
      std::lock_guard lock(store_mutex);
      generation = store.generation();
    }
    std::shared_ptr<const AnswerCache::Answer> answer;
    if (cache.enabled()) answer = cache.get(key, generation);
    const bool hit = answer != nullptr;
    if (!hit) {
      auto fresh = std::make_shared<AnswerCache::Answer>();
      fresh->generation = generation;
      fresh->response = dispatch(m, req, q);
      if (fresh->response.status != 200 || fresh->response.stream) return fresh->response;
      fresh->etag = etag_of(fresh->response.body);
      fresh->response.headers.emplace_back("ETag", fresh->etag);
      // Browsers keep the answer and revalidate it on every use (If-None-Match): never stale.
      fresh->response.headers.emplace_back("Cache-Control", "no-cache");
      if (cache.enabled()) cache.put(key, fresh);
      answer = std::move(fresh);
    }
    if (cache.enabled()) (hit ? cache_hits : cache_misses).Increment();
    HttpResponse r;
    if (!req.if_none_match.empty() && none_match_hits(req.if_none_match, answer->etag)) {
      r.status = 304;  // no body; the headers the 200 would carry (RFC 9110 15.4.5)
      r.content_type = answer->response.content_type;
      r.headers = answer->response.headers;
    } else {
      r = answer->response;
    }
    if (cache.enabled()) r.headers.emplace_back("X-Cache", hit ? "hit" : "miss");
    return r;
  }

  // A store error message without the store's location (a path or URL of the server's machine).
  std::string clean(std::string message) const {
    const std::string loc = store.location();
    for (std::size_t at; !loc.empty() && (at = message.find(loc)) != std::string::npos;)
      message.replace(at, loc.size(), "the store");
    return message;
  }

  Result load_run(const std::string& id) {
    if (!store::is_run_id_prefix(id))
      throw BadRequest{404,
                       fmt::format("no run '{}' (a run id or a prefix of >= 4 characters)", id)};
    std::lock_guard lock(store_mutex);
    return store.load(id);
  }

  // A run id (or prefix) or a baseline name, as `trackiq compare` resolves its arguments.
  Result resolve(const std::string& what, const std::string& hardware) {
    std::lock_guard lock(store_mutex);
    if (store::is_run_id_prefix(what)) {
      try {
        return store.load(what);
      } catch (const InputError&) {
        // not a run id after all: try it as a baseline name
      }
    }
    return store.load(store.find_baseline(what, hardware).run_id);
  }

  HttpResponse list_runs(const QueryParams& q) {
    check_params(q, {"product", "version", "hardware", "label", "scenario", "since", "until",
                     "limit", "cursor", "q"});
    store::RunFilter f;
    if (auto v = q.get("q")) {
      if (v->size() > 200) throw BadRequest{400, "q: at most 200 characters"};
      if (!v->empty()) f.search = *v;
    }
    if (auto v = q.get("product")) f.product = *v;
    if (auto v = q.get("version")) f.version = *v;
    if (auto v = q.get("hardware")) f.hardware = *v;
    if (auto v = q.get("scenario")) f.scenario = *v;
    if (q.get("since")) f.since = parse_time(q, "since");
    if (q.get("until")) f.until = parse_time(q, "until");
    for (const auto& l : q.all("label")) {
      const auto eq = l.find('=');
      if (eq == std::string::npos || eq == 0)
        throw BadRequest{400, fmt::format("label={}: expected KEY=VALUE", l)};
      f.labels.emplace_back(l.substr(0, eq), l.substr(eq + 1));
    }
    const std::size_t limit = parse_count(q, "limit", kDefaultPageSize, 1, kMaxPageSize);
    if (auto c = q.get("cursor")) {
      const auto decoded = hex_decode(*c);
      const std::size_t nl = decoded ? decoded->find('\n') : std::string::npos;
      if (nl == std::string::npos || !store::is_run_id_prefix(decoded->substr(nl + 1)))
        throw BadRequest{
            400,
            fmt::format("cursor={}: not a cursor this server gave (use next_cursor as it is)", *c)};
      f.after = {{decoded->substr(0, nl), decoded->substr(nl + 1)}};
    }
    f.limit = limit + 1;  // one more tells whether another page follows
    std::vector<store::RunSummary> runs;
    {
      std::lock_guard lock(store_mutex);
      runs = store.list(f);
    }
    Json out{{"runs", Json::array()}, {"next_cursor", nullptr}};
    for (std::size_t i = 0; i < runs.size() && i < limit; ++i)
      out["runs"].push_back(summary_json(runs[i]));
    if (runs.size() > limit)
      out["next_cursor"] = hex_encode(runs[limit - 1].started_at + "\n" + runs[limit - 1].run_id);
    return json_response(200, out);
  }

  HttpResponse get_run(const std::string& id, const QueryParams& q) {
    check_params(q, {"samples"});
    const bool samples = parse_flag(q, "samples");
    Result r = load_run(id);
    if (!samples && r.latency) {  // as `trackiq runs show --json`; with samples, as `runs export`
      r.latency->samples_ns.clear();
      r.latency->sample_end_ns.clear();
    }
    HttpResponse resp;
    resp.body = to_json(r);
    return resp;
  }

  HttpResponse get_samples(const std::string& id, const QueryParams& q, const std::string& accept) {
    check_params(q, {"format"});
    bool csv = accept.find("text/csv") != std::string::npos;
    if (auto f = q.get("format")) {
      if (*f != "csv" && *f != "json")
        throw BadRequest{400, fmt::format("format={}: expected csv or json", *f)};
      csv = *f == "csv";
    }
    Result r = load_run(id);
    if (!r.latency || r.latency->samples_ns.empty())
      throw BadRequest{
          404,
          fmt::format("run {} kept no per-request latency samples (only its summary and histogram)",
                      r.run_id)};
    // Streamed (HttpResponse::stream) in pieces of ~64 KiB: a run of millions of samples is
    // never one string here, and the store is not held while the client reads.
    struct Stream {
      Result run;
      bool csv = false, with_end = false;
      int stage = 0;  // 0 head, 1 latencies, 2 between, 3 ends, 4 tail, 5 done
      std::size_t i = 0;
    };
    auto st = std::make_shared<Stream>();
    st->run = std::move(r);
    st->csv = csv;
    st->with_end = st->run.latency->sample_end_ns.size() == st->run.latency->samples_ns.size();
    HttpResponse resp;
    resp.content_type = csv ? "text/csv; charset=utf-8" : "application/json";
    resp.stream = [st]() -> std::optional<std::string> {
      constexpr std::size_t kPiece = 64 * 1024;
      const auto& s = st->run.latency->samples_ns;
      const auto& end = st->run.latency->sample_end_ns;
      std::string out;
      if (st->csv) {
        if (st->stage == 0) {
          out = st->with_end ? "index,latency_ns,end_ns\n" : "index,latency_ns\n";
          st->stage = 1;
        }
        for (; st->i < s.size() && out.size() < kPiece; ++st->i)
          out += st->with_end ? fmt::format("{},{},{}\n", st->i, s[st->i], end[st->i]) : fmt::format("{},{}\n", st->i, s[st->i]);
        if (out.empty()) return std::nullopt;
        return out;
      }
      // {"run_id": ..., "measured_from": ..., "latency_ns": [...], "end_ns": [...]}
      const auto values = [&](const std::vector<std::int64_t>& v) {
        for (; st->i < v.size() && out.size() < kPiece; ++st->i) out += fmt::format("{}{}", st->i ? "," : "", v[st->i]);
        if (st->i == v.size()) {
          st->i = 0;
          ++st->stage;
        }
      };
      switch (st->stage) {
        case 0:
          out = fmt::format("{{\"run_id\": {}, \"measured_from\": {}, \"latency_ns\": [", Json(st->run.run_id).dump(),
                            Json(st->run.latency->measured_from).dump(-1, ' ', false, Json::error_handler_t::replace));
          st->stage = 1;
          [[fallthrough]];
        case 1:
          values(s);
          if (st->stage == 1 || out.size() >= kPiece) return out;
          [[fallthrough]];
        case 2:
          out += st->with_end ? "], \"end_ns\": [" : "]";
          st->stage = st->with_end ? 3 : 4;
          if (st->stage == 4) return out;
          [[fallthrough]];
        case 3:
          values(end);
          if (st->stage == 3) return out;
          [[fallthrough]];
        case 4:
          out += st->with_end ? "]}\n" : "}\n";
          st->stage = 5;
          return out;
        default:
          return std::nullopt;
      }
    };
    return resp;
  }

  HttpResponse compare(const QueryParams& q) {
    check_params(q, {"base", "current", "hardware", "history", "seed"});
    const auto base_id = q.get("base"), cur_id = q.get("current");
    if (!base_id || !cur_id || base_id->empty() || cur_id->empty())
      throw BadRequest{
          400, "compare needs base=RUN and current=RUN (run ids, prefixes or baseline names)"};
    const std::string hardware = q.get("hardware").value_or("");
    const std::size_t history = parse_count(q, "history", options.compare_history, 0, 1000);
    analysis::CompareOptions o;
    o.seed = parse_count(q, "seed", options.compare_seed, 0, 999'999'999);
    const Result cur = resolve(*cur_id, hardware);
    const Result base =
        resolve(*base_id, hardware.empty() ? cur.environment.hardware_fingerprint : hardware);
    analysis::NoiseRuns noise;
    if (history > 1) {  // as `trackiq compare` with a store: the baseline's stored series
      {
        std::lock_guard lock(store_mutex);
        noise.baseline = store::series_history(store, base, cur, history);
      }
      noise.current = {cur};
      noise.source = store::series_history_source(base, noise.baseline.size());
    }
    // The statistics run outside the store lock: other requests go on meanwhile.
    const auto c =
        analysis::compare_results(base, cur, o, noise.baseline.empty() ? nullptr : &noise);
    HttpResponse resp;
    resp.body = analysis::comparison_json(c);
    return resp;
  }

  HttpResponse upload(const std::string& body) {
    if (body.empty())
      throw BadRequest{
          400, "POST /api/v1/runs needs a result JSON document in the body (trackiq run --json)"};
    const std::vector<Result> runs = results_from_json(body, "request body");
    if (runs.empty()) throw BadRequest{400, "request body: an empty array: no result to store"};
    std::set<std::string> ids;
    for (const auto& r : runs) {
      if (!store::is_run_id_prefix(r.run_id))
        throw BadRequest{400, fmt::format("request body: run_id '{}' is not a run id", r.run_id)};
      if (!ids.insert(r.run_id).second)
        throw BadRequest{400, fmt::format("request body: run {} appears twice", r.run_id)};
    }
    Json stored = Json::array();
    {
      std::lock_guard lock(store_mutex);
      // Duplicates are refused as `trackiq import` refuses them: the same run id, or a file of
      // another tool whose content (import_hash) was stored before.
      for (const auto& r : runs)
        if (const auto why = store::duplicate_of(store, r))
          throw BadRequest{409, *why + "; nothing stored"};
      store.save_all(runs);
    }
    for (const auto& r : runs) stored.push_back(r.run_id);
    HttpResponse resp = json_response(201, Json{{"stored", stored}});
    resp.headers.emplace_back("Location",
                              fmt::format("{}/runs/{}", kApiPrefix, runs.front().run_id));
    return resp;
  }

  // The run of a baseline is refused (409, naming the baselines) unless with_baselines=true,
  // which removes those baselines with it, as `trackiq runs rm --with-baselines`.
  HttpResponse delete_run(const std::string& id, const QueryParams& q) {
    check_params(q, {"with_baselines"});
    const bool with_baselines = parse_flag(q, "with_baselines");
    if (!store::is_run_id_prefix(id)) throw BadRequest{404, fmt::format("no run '{}'", id)};
    std::lock_guard lock(store_mutex);
    try {
      return json_response(200, Json{{"removed", store.remove(id, with_baselines)}});
    } catch (const store::BaselineRunError& e) {
      throw BadRequest{409, std::string(e.what()) + " (DELETE ...?with_baselines=true)"};
    }
  }

  HttpResponse list_baselines(const QueryParams& q) {
    check_params(q, {});
    Json out = Json::array();
    std::lock_guard lock(store_mutex);
    for (const auto& b : store.list_baselines()) out.push_back(baseline_json(b));
    return json_response(200, Json{{"baselines", out}});
  }

  HttpResponse save_baseline(const std::string& body, const QueryParams& q) {
    check_params(q, {});
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(body);
    } catch (const nlohmann::json::exception& e) {
      throw BadRequest{400, fmt::format("request body: not JSON: {}", e.what())};
    }
    if (!doc.is_object() || !doc.contains("name") || !doc["name"].is_string() ||
        (doc.contains("run") && !doc["run"].is_string()))
      throw BadRequest{
          400,
          R"(request body: expected {"name": "NAME", "run": "RUN_ID"} ("run" optional: the newest run))"};
    for (const auto& [k, v] : doc.items())
      if (k != "name" && k != "run")
        throw BadRequest{400, fmt::format("request body: unknown field '{}'", k)};
    const std::string run = doc.value("run", "");
    if (!run.empty() && !store::is_run_id_prefix(run))
      throw BadRequest{404, fmt::format("no run '{}'", run)};
    std::lock_guard lock(store_mutex);
    return json_response(201,
                         baseline_json(store.save_baseline(doc["name"].get<std::string>(), run)));
  }

  HttpResponse delete_baseline(const std::string& name, const QueryParams& q) {
    check_params(q, {"hardware"});
    std::lock_guard lock(store_mutex);
    return json_response(
        200, Json{{"removed", store.remove_baseline(name, q.get("hardware").value_or(""))}});
  }

  // One metric of one series, oldest first, with its change points: `trackiq history METRIC
  // --json` (time order) over the same store gives the same document.
  HttpResponse history(const QueryParams& q) {
    check_params(q, {"metric", "product", "hardware", "workload", "scenario", "config", "run", "label"});
    const auto metric = q.get("metric");
    if (!metric || metric->empty())
      throw BadRequest{400,
                       "history needs metric=NAME (a metric of the registry, e.g. latency_p99_ms)"};
    const MetricDef* def = find_metric(*metric);
    if (!def)
      throw BadRequest{
          400, fmt::format("metric={}: not a metric of the registry ('trackiq metrics' lists them)",
                           *metric)};
    store::SeriesFilter filter;
    if (auto v = q.get("product")) filter.product = *v;
    if (auto v = q.get("hardware")) filter.hardware = *v;
    if (auto v = q.get("workload")) filter.workload = *v;
    if (auto v = q.get("scenario")) filter.scenario = *v;
    if (auto v = q.get("config")) filter.config = *v;
    for (const auto& l : q.all("label")) {
      const auto eq = l.find('=');
      if (eq == std::string::npos || eq == 0)
        throw BadRequest{400, fmt::format("label={}: expected KEY=VALUE", l)};
      filter.labels.emplace_back(l.substr(0, eq), l.substr(eq + 1));
    }
    const auto run = q.get("run");  // the series of this run: its whole key
    if (run && (filter.product || filter.hardware || filter.workload || filter.scenario || filter.config))
      throw BadRequest{400, "run= names the whole series: drop product, hardware, workload, scenario and config"};
    if (run && !store::is_run_id_prefix(*run)) throw BadRequest{404, fmt::format("no run '{}'", *run)};
    std::vector<store::MetricSeries> found;
    {
      std::lock_guard lock(store_mutex);
      if (run) {
        auto labels = std::move(filter.labels);
        filter = store::series_filter_of(store.load(*run));
        filter.labels = std::move(labels);
      }
      found = store.series(filter, *metric);
    }
    if (found.empty())
      throw BadRequest{404,
                       fmt::format("no stored run with metric {} matches these filters", *metric)};
    if (found.size() > 1) {
      Json keys = Json::array();
      std::string text;
      for (const auto& s : found) {
        Json k = series_key_json(s.key);
        k["runs"] = s.points.size();
        keys.push_back(std::move(k));
        if (text.size() < 600)
          text += fmt::format("{}product={} hardware={} workload={} scenario={} config={} ({} run{})",
                              text.empty() ? "" : "; ", s.key.product, s.key.hardware_fingerprint,
                              s.key.workload, s.key.scenario, s.key.config, s.points.size(),
                              s.points.size() == 1 ? "" : "s");
      }
      HttpResponse r =
          error_response(400, fmt::format("{} series match (a series is one product, hardware, "
                                          "workload, scenario and configuration; they are never "
                                          "mixed): narrow the filters to one of: {}",
                                          found.size(), text));
      Json body = Json::parse(r.body);
      body["series"] = std::move(keys);
      return json_response(400, body);
    }
    const store::MetricSeries& s = found[0];
    HttpResponse r;  // `trackiq history`'s detector, defaults and document (history_json.hpp)
    r.body = history_json(s, *def, series_change_points(s));
    return r;
  }

  // Change points over every series of the store with Benjamini-Hochberg across them, newest
  // first: `trackiq detect --full --json` (a GET keeps no per-series state, so every series is
  // computed in full; detect's incremental state is a cache of the same result).
  HttpResponse changes(const QueryParams& q) {
    check_params(q, {"since", "fdr"});
    const double fdr = parse_number(q, "fdr", 0.05, 0, 1);
    // A date counts runs started at or after it; a run id counts runs started after it.
    const std::string since_text = q.get("since").value_or("");
    const Since since =
        parse_since(since_text, fmt::format("since={}", since_text),
                    [&](const std::string& id) { return load_run(id).started_at; });
    std::vector<store::MetricSeries> all;
    {
      std::lock_guard lock(store_mutex);
      all = store.series(key_metrics_filter(), "");
    }
    HttpResponse r;  // `trackiq detect --full --json`'s computation and document (history_json.hpp)
    r.body = changes_json(store_changes(all, fdr, since));
    return r;
  }

  HttpResponse telemetry(const QueryParams& q) {
    check_params(q, {"seconds"});
    if (!options.telemetry)
      throw BadRequest{
          404,
          "telemetry: not available: this server samples no telemetry (serve --telemetry off)"};
    const std::uint64_t seconds = parse_count(q, "seconds", 300, 1, 86'400);
    HttpResponse r;
    r.body = options.telemetry->json(std::chrono::seconds(seconds));
    return r;
  }

  // The dashboard's page and assets, from the embedded set only (dashboard.cpp): nothing is read
  // from the filesystem, and a name not in the set is 404.
  HttpResponse asset(const std::string& name) {
    const auto a = dashboard_asset(name);
    if (!a) throw BadRequest{404, fmt::format("no asset '{}'", name.substr(0, 100))};
    HttpResponse r;
    r.content_type = std::string(a->content_type);
    r.body = std::string(a->body);
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back(
        "Content-Security-Policy",
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
    return r;
  }

  HttpResponse dispatch(const RouteMatch& m, const HttpRequest& req, const QueryParams& q) {
    switch (m.route) {
      case RouteId::kRuns:
        return is_get_or_head(req.method) ? list_runs(q) : upload(req.body);
      case RouteId::kRun:
        return is_get_or_head(req.method) ? get_run(m.param, q) : delete_run(m.param, q);
      case RouteId::kRunSamples:
        return get_samples(m.param, q, req.accept);
      case RouteId::kCompare:
        return compare(q);
      case RouteId::kBaselines:
        return is_get_or_head(req.method) ? list_baselines(q) : save_baseline(req.body, q);
      case RouteId::kBaseline:
        return delete_baseline(m.param, q);
      case RouteId::kHistory:
        return history(q);
      case RouteId::kChanges:
        return changes(q);
      case RouteId::kTelemetry:
        return telemetry(q);
      case RouteId::kDashboard:
        check_params(q, {});
        return asset("index.html");
      case RouteId::kAsset:
        check_params(q, {});
        return asset(m.param);
      case RouteId::kOpenapi: {
        check_params(q, {});
        HttpResponse r;
        r.body = std::string(openapi_document());
        return r;
      }
      case RouteId::kMetrics: {
        check_params(q, {});
        // Text 0.0.4, or OpenMetrics 1.0 when the scrape prefers it (Prometheus does).
        auto e = metrics(req.accept);
        HttpResponse r;
        r.content_type = std::move(e.content_type);
        r.body = std::move(e.body);
        return r;
      }
    }
    return error_response(404, "no such route");
  }

  Exposition metrics(std::string_view accept) {
    auto gauges = std::make_shared<prometheus::Registry>();
    auto& runs_family = prometheus::BuildGauge()
                            .Name("trackiq_store_runs")
                            .Help("Runs in the store, per product label")
                            .Register(*gauges);
    std::vector<prometheus::Family<prometheus::Gauge>*> key;
    for (const auto& g : kStoreGauges)
      key.push_back(&prometheus::BuildGauge().Name(g.prom).Help(g.help).Register(*gauges));
    {
      std::lock_guard lock(store_mutex);
      std::map<std::string, double> per_product;
      // The newest run of each series (product, hardware, workload, scenario, configuration):
      // list is newest first.
      std::map<std::tuple<std::string, std::string, std::string, std::string, std::string>, std::string> newest;
      for (const auto& s : store.list({.limit = 0})) {
        per_product[s.product] += 1;
        newest.try_emplace({s.product, s.hardware_fingerprint, s.workload, s.scenario, s.config}, s.run_id);
      }
      for (const auto& [product, n] : per_product) runs_family.Add({{"product", product}}).Set(n);
      std::set<std::string> live;
      for (const auto& [series, run_id] : newest) {
        live.insert(run_id);
        auto it = key_metrics.find(run_id);
        if (it == key_metrics.end()) {
          const Result r = store.load(run_id);
          std::vector<std::pair<std::string, double>> values;
          for (const auto& g : kStoreGauges)
            if (const auto v = r.metric_value(g.metric)) values.emplace_back(g.metric, *v);
          it = key_metrics.emplace(run_id, std::move(values)).first;
        }
        const auto& [product, hardware, workload, scenario, config] = series;
        const std::map<std::string, std::string> labels{{"product", product},
                                                        {"hardware", hardware},
                                                        {"workload", workload},
                                                        {"scenario", scenario},
                                                        {"config", config}};
        for (std::size_t i = 0; i < std::size(kStoreGauges); ++i)
          for (const auto& [name, value] : it->second)
            if (name == kStoreGauges[i].metric)
              key[i]->Add(labels).Set(value * kStoreGauges[i].scale);
      }
      std::erase_if(key_metrics, [&](const auto& kv) { return !live.contains(kv.first); });
    }
    auto families = gauges->Collect();
    for (auto& f : registry->Collect()) families.push_back(std::move(f));
    // The machine's live telemetry, named as `monitor --listen` names it (its own families).
    if (options.telemetry)
      for (auto& f : options.telemetry->metric_families()) families.push_back(std::move(f));
    return exposition(families, accept);
  }
};

Api::Api(store::Store& store, ApiOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}
Api::~Api() = default;

void Api::count(std::string_view method, std::string_view route, int status, double seconds) {
  static const prometheus::Histogram::BucketBoundaries kBuckets{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  impl_->requests
      .Add({{"method", std::string(method_label(method))},
            {"route", std::string(route)},
            {"code", std::to_string(status)}})
      .Increment();
  impl_->durations.Add({{"route", std::string(route)}}, kBuckets).Observe(seconds);
}


// Here rather than in http_server.cpp, so that a program serving its own handler (a Tracker's
// exposition) links no Api, store or analysis code.
HttpServer::HttpServer(Api& api, ServerOptions options)
    : HttpServer([&api](const HttpRequest& r) { return api.handle(r); }, std::move(options),
                 [&api](std::string_view method, int status, double seconds) {
                   api.count(method, "unmatched", status, seconds);
                 }) {}


HttpResponse Api::handle(const HttpRequest& req) {
  const auto start = std::chrono::steady_clock::now();
  const auto [path, query] = split_target(req.target);
  const RouteMatch m = match_route(req.method, path);
  HttpResponse resp;
  try {
    if (m.outcome == RouteMatch::Outcome::kNotFound) {
      resp = error_response(404, fmt::format("no route {} (the routes: {}/openapi.json)",
                                             std::string(path.substr(0, 200)), kApiPrefix));
    } else if (m.outcome == RouteMatch::Outcome::kMethodNotAllowed) {
      resp = error_response(
          405, fmt::format("{} takes {}, not {}", m.pattern, m.allow, req.method.substr(0, 20)));
      resp.headers.emplace_back("Allow", m.allow);
    } else if ((req.method == "POST" || req.method == "DELETE") && impl_->options.read_only) {
      resp = error_response(403, "writes are disabled: this server is read-only (--read-only)");
    } else if ((req.method == "POST" || req.method == "DELETE") && impl_->options.token.empty()) {
      resp = error_response(403,
                            "writes are disabled: the server has no token (start it with "
                            "--token-file FILE or TRACKIQ_TOKEN)");
    } else if ((req.method == "POST" || req.method == "DELETE") &&
               !(req.authorization.rfind("Bearer ", 0) == 0 &&
                 constant_time_equal(std::string_view(req.authorization).substr(7),
                                     impl_->options.token))) {
      resp = error_response(401, req.authorization.empty()
                                     ? "this write needs Authorization: Bearer TOKEN"
                                     : "wrong token (Authorization: Bearer TOKEN)");
      resp.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"trackiq\"");
    } else if (req.body.size() > impl_->options.max_body_bytes) {
      resp = error_response(
          413, fmt::format("the body has {} bytes; this server takes at most {} (--max-body)",
                           req.body.size(), impl_->options.max_body_bytes));
    } else {
      const QueryParams q = parse_query(query);
      // A HEAD is answered as its GET, from the same cache entry (the key has no method), and
      // HttpServer sends it without the body.
      resp = is_get_or_head(req.method) && cacheable(m.route) ? impl_->read(m, req, q)
                                                              : impl_->dispatch(m, req, q);
    }
  } catch (const BadRequest& e) {
    resp = error_response(e.status, impl_->clean(e.message));
  } catch (const InputError& e) {
    resp = error_response(input_status(e.what()), impl_->clean(e.what()));
  } catch (const NotAvailableError& e) {
    resp = error_response(404, impl_->clean(e.what()));
  } catch (const std::exception& e) {
    resp = error_response(500, impl_->clean(e.what()));
  }
  count(req.method, m.pattern, resp.status,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return resp;
}

}  // namespace trackiq::server
