// trackiq load URL: the open-loop / closed-loop HTTP load generator (LOAD-1…LOAD-7).
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_util.hpp"
#include "commands.hpp"
#include "trackiq/core/clock.hpp"
#include "trackiq/core/csv.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/run_env.hpp"
#include "trackiq/load/engine.hpp"
#include "trackiq/load/load_result.hpp"
#include "trackiq/load/schedule.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::cli {
namespace {

struct LoadFlags {
  std::string url, method, body, dataset, dataset_order = "round-robin", api = "generic", model, trace;
  std::vector<std::string> headers, labels;
  int max_tokens = 128;
  unsigned connections = 0, threads = 1;
  std::vector<unsigned> concurrency;
  std::vector<double> rates;
  std::string arrival = "poisson";
  std::string client_sched = "auto";
  double burstiness = 1.0, time_scale = 1.0;
  std::string duration = "10s", warmup = "0s", timeout = "30s", slo;
  double slo_percentile = 99;
  std::string unconfirmed = "warn";  // what an SLO within its limit but not confirmed does: warn or block
  std::optional<std::uint64_t> requests;
  std::uint64_t seed = 0;
  bool seed_given = false;  // --seed was on the command line (it wins over TRACKIQ_SEED)
  std::optional<double> max_error_rate;
  bool insecure = false, no_store = false, no_early_stop = false, no_retry = false;
  std::string json_path, requests_jsonl, store, product, version;
  std::string shard, group;  // --shard K/N --group NAME: client K of N (load past one machine)
};

std::int64_t duration_flag(const std::string& text, const char* flag, bool allow_zero = false) {
  const auto d = parse_duration_ns(text);
  if (!d || *d < 0 || (!allow_zero && *d == 0)) throw InputError(fmt::format("{} '{}': expected a duration such as 30s", flag, text));
  return *d;
}

// One dataset row: its fields as strings, and the line it came from (for errors).
struct Row {
  std::size_t line = 0;
  std::map<std::string, std::string> fields;
};

// The dataset's rows: JSON Lines (objects; non-string values as JSON text) or CSV with a header,
// whose quoted fields may span lines (RFC 4180: prompts of several lines); a row's line is the
// line it starts on.
std::vector<Row> read_dataset(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, 0, "cannot open the dataset");
  std::vector<Row> rows;
  std::string line, record;
  std::size_t lineno = 0, first = 0;
  std::vector<std::string> header;
  const bool csv = path.ends_with(".csv");
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (csv && !record.empty()) {  // inside a quoted field that spans lines
      record += '\n';
      record += line;
      if (csv_quote_open(record)) continue;
      line = std::move(record);
      record.clear();
    } else {
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      first = lineno;
      if (csv && csv_quote_open(line)) {
        record = std::move(line);
        continue;
      }
    }
    if (csv) {
      const std::vector<std::string> f = split_csv_record(line, path, first);
      if (header.empty()) {
        header = f;
        continue;
      }
      if (f.size() != header.size())
        throw InputError(path, first, fmt::format("{} fields, the header has {}", f.size(), header.size()));
      Row row{first, {}};
      for (std::size_t i = 0; i < f.size(); ++i) row.fields[header[i]] = f[i];
      rows.push_back(std::move(row));
    } else {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        throw InputError(path, lineno, fmt::format("not JSON: {}", e.what()));
      }
      if (!j.is_object()) throw InputError(path, lineno, "expected a JSON object per line");
      Row row{lineno, {}};
      for (auto& [k, v] : j.items()) row.fields[k] = v.is_string() ? v.get<std::string>() : v.dump();
      rows.push_back(std::move(row));
    }
  }
  if (!record.empty())
    throw InputError(path, first, "unterminated quoted field (its closing quote is missing: it runs to the end of the file)");
  if (rows.empty()) throw InputError(path, lineno, "the dataset has no rows");
  return rows;
}

// {{name}} → the row's value. Unknown names are an error (a typo would otherwise send "{{prmpt}}").
// In a JSON body a value placed inside a string literal ("{{prompt}}") is escaped as JSON string
// content, so quotes, backslashes and newlines in the data keep the body valid; a value outside
// one ({{n}}) goes in as it is (JSON text for numbers, objects, ...), as does every value in any
// other body.
std::string fill_template(const std::string& tmpl, const Row& row, const std::string& origin, bool json) {
  std::string out;
  bool in_string = false, escaped = false;  // the template's own JSON string state
  const auto track = [&](std::string_view text) {
    for (const char ch : text) {
      if (escaped) escaped = false;
      else if (in_string && ch == '\\') escaped = true;
      else if (ch == '"') in_string = !in_string;
    }
  };
  std::size_t i = 0;
  while (i < tmpl.size()) {
    const auto open = tmpl.find("{{", i);
    if (open == std::string::npos) {
      out.append(tmpl, i);
      break;
    }
    const auto close = tmpl.find("}}", open + 2);
    if (close == std::string::npos) throw InputError(origin, 0, "unterminated {{ in the template");
    out.append(tmpl, i, open - i);
    if (json) track(std::string_view(tmpl).substr(i, open - i));
    std::string name = tmpl.substr(open + 2, close - open - 2);
    while (!name.empty() && name.front() == ' ') name.erase(0, 1);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    const auto it = row.fields.find(name);
    if (it == row.fields.end())
      throw InputError(origin, row.line, fmt::format("template variable '{}' is not a column of the dataset", name));
    if (json && in_string) {
      std::string quoted;
      try {
        quoted = nlohmann::json(it->second).dump();
      } catch (const nlohmann::json::type_error&) {
        throw InputError(origin, row.line, fmt::format("'{}' is not valid UTF-8, so it cannot go into a JSON string", name));
      }
      out.append(quoted, 1, quoted.size() - 2);
    } else {
      out += it->second;
    }
    i = close + 2;
  }
  return out;
}

// `origin` and `line` say where the prompt came from, for the error when it is not UTF-8.
std::string openai_body(const LoadFlags& f, const std::string& prompt, const std::string& origin, std::size_t line) {
  nlohmann::ordered_json j{{"model", f.model}};
  if (f.api == "openai-chat") j["messages"] = nlohmann::json::array({{{"role", "user"}, {"content", prompt}}});
  else j["prompt"] = prompt;
  j["max_tokens"] = f.max_tokens;
  j["stream"] = true;
  j["stream_options"] = {{"include_usage", true}};
  try {
    return j.dump();
  } catch (const nlohmann::json::type_error&) {
    throw InputError(origin, line, "the prompt (or --model) is not valid UTF-8");
  }
}

// A path segment: everything but RFC 3986 unreserved characters percent-encoded.
std::string path_segment(const std::string& v) {
  std::string out;
  for (const unsigned char ch : v) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') out += static_cast<char>(ch);
    else out += fmt::format("%{:02X}", ch);
  }
  return out;
}

struct Plan {
  load::Url url;
  std::vector<std::string> requests;
  bool sse = false;
};

// The serialised requests: one per dataset row (in the order --dataset-order asks), or one.
Plan build_plan(const LoadFlags& f, const std::vector<load::TraceEntry>* trace) {
  Plan p;
  p.url = load::parse_url(f.url);
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& h : f.headers) {
    const auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0) throw InputError(fmt::format("--header '{}': expected 'Name: value'", h));
    std::string v = h.substr(colon + 1);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    headers.emplace_back(h.substr(0, colon), v);
  }
  std::string method = f.method;
  std::string body_template = f.body;
  if (!body_template.empty() && body_template.front() == '@') body_template = read_text_file(body_template.substr(1));
  std::vector<Row> rows;
  if (!f.dataset.empty()) rows = read_dataset(f.dataset);
  if (f.dataset_order != "round-robin" && f.dataset_order != "random")
    throw InputError(fmt::format("--dataset-order '{}': use round-robin or random", f.dataset_order));
  if (f.dataset_order == "random" && !rows.empty()) {
    std::mt19937_64 rng(f.seed);
    for (std::size_t i = rows.size(); i > 1; --i) std::swap(rows[i - 1], rows[rng() % i]);
  }
  const auto header_value = [&](std::string_view name) -> std::optional<std::string> {
    for (const auto& [k, v] : headers)
      if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) { return std::tolower(a) == b; }))
        return v;
    return std::nullopt;
  };
  const auto has_header = [&](std::string_view name) { return header_value(name).has_value(); };
  if (f.api == "openai-chat" || f.api == "openai-completions") {
    if (f.model.empty()) throw InputError(fmt::format("--api {} needs --model NAME", f.api));
    p.sse = true;
    if (method.empty()) method = "POST";
    if (p.url.target == "/")
      p.url.target = f.api == "openai-chat" ? "/v1/chat/completions" : "/v1/completions";
    if (!has_header("content-type")) headers.emplace_back("Content-Type", "application/json");
    if (!has_header("accept")) headers.emplace_back("Accept", "text/event-stream");
    const auto prompt_of = [&](const Row& row) {
      for (const char* k : {"prompt", "input", "text", "question"})
        if (const auto it = row.fields.find(k); it != row.fields.end()) return it->second;
      throw InputError(f.dataset, row.line, "each row needs a 'prompt' (or input, text, question) field");
    };
    const auto body_of_row = [&](const Row& row) { return openai_body(f, prompt_of(row), f.dataset, row.line); };
    if (trace) {
      for (std::size_t i = 0; i < trace->size(); ++i) {
        const auto& e = (*trace)[i];
        const std::string body = e.input           ? openai_body(f, *e.input, f.trace, 0)
                                 : rows.empty()    ? openai_body(f, "Hello", "--model", 0)
                                                   : body_of_row(rows[i % rows.size()]);
        p.requests.push_back(load::make_request(p.url, method, headers, body));
      }
    } else if (!rows.empty()) {
      for (const auto& row : rows) p.requests.push_back(load::make_request(p.url, method, headers, body_of_row(row)));
    } else {
      p.requests.push_back(load::make_request(
          p.url, method, headers, openai_body(f, "Write a short story about a lighthouse keeper.", "--model", 0)));
    }
    return p;
  }
  if (f.api == "kserve") {
    if (f.model.empty()) throw InputError("--api kserve needs --model NAME");
    if (body_template.empty()) throw InputError("--api kserve needs --body (the v2 inference request JSON, or @file)");
    if (method.empty()) method = "POST";
    if (p.url.target == "/") p.url.target = "/v2/models/" + path_segment(f.model) + "/infer";
    if (!has_header("content-type")) headers.emplace_back("Content-Type", "application/json");
  } else if (f.api != "generic") {
    throw InputError(fmt::format("--api '{}': use generic, openai-chat, openai-completions or kserve", f.api));
  }
  if (method.empty()) method = body_template.empty() ? "GET" : "POST";
  if (trace) {
    for (const auto& e : *trace)
      p.requests.push_back(load::make_request(p.url, method, headers, e.input ? *e.input : body_template));
  } else if (!rows.empty()) {
    // A JSON body: by its Content-Type, or with none, by its first character.
    const auto type = header_value("content-type");
    const auto first = body_template.find_first_not_of(" \t\r\n");
    const bool json = type ? type->find("json") != std::string::npos
                           : first != std::string::npos && (body_template[first] == '{' || body_template[first] == '[');
    for (const auto& row : rows)
      p.requests.push_back(load::make_request(p.url, method, headers, fill_template(body_template, row, f.dataset, json)));
  } else {
    p.requests.push_back(load::make_request(p.url, method, headers, body_template));
  }
  return p;
}

Labels make_labels(const LoadFlags& f) {
  Labels l;
  for (const auto& kv : f.labels) {
    const auto [k, v] = key_value(kv, "--label");
    if (k == "product") l.product = v;
    else if (k == "version") l.version = v;
    else if (k == "branch") l.branch = v;
    else if (k == "commit") l.commit = v;
    else l.extra[k] = v;
  }
  if (!f.product.empty()) l.product = f.product;
  if (!f.version.empty()) l.version = f.version;
  return l;
}

int load_run(LoadFlags f) {
  // TRACKIQ_SEED seeds the arrival schedule and --dataset-order random unless --seed is given;
  // TRACKIQ_THREADS is the engine's threads, not the client's, and does not apply here.
  const RunEnv run_env = read_run_env();
  if (!f.seed_given && run_env.seed) f.seed = *run_env.seed;
  if (!f.rates.empty() && !f.concurrency.empty()) throw InputError("give either --rate (open loop) or --concurrency (closed loop), not both");
  if (!f.trace.empty() && (!f.rates.empty() || !f.concurrency.empty()))
    throw InputError("--trace sets the arrivals itself: do not combine it with --rate or --concurrency");
  if (f.max_error_rate && (*f.max_error_rate < 0 || *f.max_error_rate > 1))
    throw InputError("--max-error-rate must be a fraction in [0, 1], e.g. 0.05");
  const std::int64_t duration = duration_flag(f.duration, "--duration");
  const std::int64_t warmup = duration_flag(f.warmup, "--warmup", true);
  const std::int64_t timeout = duration_flag(f.timeout, "--timeout");
  load::LlmSlo slo;
  if (!f.slo.empty()) slo = load::parse_llm_slo(f.slo);
  if (f.slo_percentile != 90 && f.slo_percentile != 95 && f.slo_percentile != 99)
    throw InputError("--slo-percentile must be 90, 95 or 99");
  std::vector<load::TraceEntry> trace;
  if (!f.trace.empty()) {
    trace = load::read_trace(f.trace, f.time_scale);
    if (f.requests && trace.size() > *f.requests) trace.resize(*f.requests);  // --requests caps a replay too
  }
  const Plan plan = build_plan(f, f.trace.empty() ? nullptr : &trace);
  if (!f.arrival.empty() && f.rates.empty() && f.trace.empty() && f.arrival != "poisson")
    throw InputError("--arrival applies to the open loop: give --rate R");
  const load::ArrivalKind arrival = load::parse_arrival(f.arrival);
  if (f.client_sched != "auto" && f.client_sched != "normal" && f.client_sched != "batch")
    throw InputError(fmt::format("--client-sched '{}': expected auto, normal or batch", f.client_sched));

  std::optional<load::Shard> shard;
  if (!f.shard.empty() || !f.group.empty()) {
    if (f.shard.empty()) throw InputError("--group NAME needs --shard K/N (which client of the group this is)");
    if (f.group.empty()) throw InputError("--shard K/N needs --group NAME (what `trackiq runs merge --group NAME` merges)");
    shard = load::parse_shard(f.shard);
  }

  std::unique_ptr<store::Store> st;
  if (!f.no_store) st = store::open_store(f.store);
  Labels labels = make_labels(f);
  if (shard) {
    labels.extra["group"] = f.group;
    labels.extra["shard"] = load::shard_text(*shard);
  }

  // The points: one per rate or concurrency (a single point when neither is a list).
  struct Point {
    std::optional<double> rate;
    unsigned concurrency = 0;
  };
  std::vector<Point> points;
  if (!f.trace.empty()) points.push_back({0.0, 0});
  else if (!f.rates.empty())
    for (const double r : f.rates) points.push_back({r, 0});
  else if (!f.concurrency.empty())
    for (const unsigned c : f.concurrency) points.push_back({std::nullopt, c});
  else points.push_back({std::nullopt, f.connections ? f.connections : 10});
  if (shard && points.size() > 1)
    throw InputError(fmt::format("--shard: a sweep ({} points) cannot be split across clients; run one sharded group per "
                                 "point (one --rate or --concurrency value each, its own --group)",
                                 points.size()));
  if (shard && !points.front().rate && f.trace.empty()) {
    const unsigned c = points.front().concurrency;
    if (load::shard_share(c, *shard) == 0)
      throw InputError(fmt::format("--shard {}: {} connections shared among {} clients leave client {} none; use at most {} "
                                   "clients or raise --concurrency",
                                   f.shard, c, shard->n, shard->k, c));
  }
  if (shard && f.requests && load::shard_share(*f.requests, *shard) == 0)
    throw InputError(fmt::format("--shard {}: --requests {} shared among {} clients leaves client {} none", f.shard,
                                 *f.requests, shard->n, shard->k));

  std::vector<load::LoadPoint> done;
  nlohmann::ordered_json all = nlohmann::json::array();
  std::string stop_note;
  int exit_code = kExitOk;
  for (const Point& pt : points) {
    load::EngineOptions o;
    o.url = plan.url;
    o.requests = shard ? load::shard_requests(plan.requests, *shard) : plan.requests;
    o.sse = plan.sse;
    o.wav = !plan.sse;
    o.threads = f.threads;
    o.timeout_ns = timeout;
    o.warmup_ns = warmup;
    o.insecure_tls = f.insecure;
    o.retry_stale = !f.no_retry;
    o.max_error_rate = f.max_error_rate;
    o.duration_ns = warmup + duration;
    o.max_requests = f.requests;
    if (shard && f.requests) o.max_requests = load::shard_share(*f.requests, *shard);
    // auto: SCHED_BATCH in the closed loop only (see EngineOptions::batch_sched).
    o.batch_sched = f.client_sched == "batch" || (f.client_sched == "auto" && !pt.rate && f.trace.empty());
    std::string arrival_name;
    if (!f.trace.empty()) {
      for (const auto& e : trace) o.schedule_ns.push_back(e.t_ns);
      o.connections = std::max(f.connections ? f.connections : 64u, f.threads);
      arrival_name = "trace";
    } else if (pt.rate) {
      o.schedule_ns = load::arrival_schedule({arrival, *pt.rate, f.burstiness, f.seed}, warmup + duration, f.requests);
      // Enough connections for the rate at a generous latency, unless given.
      o.connections = std::max(f.connections ? f.connections : 256u, f.threads);
      arrival_name = f.arrival;
    } else {
      // A shard's part of the connections: C / N, the first C % N clients one more.
      const unsigned c = shard ? static_cast<unsigned>(load::shard_share(pt.concurrency, *shard)) : pt.concurrency;
      // Each thread needs a connection: a shard keeps its share exact with fewer threads instead.
      if (shard) o.threads = std::min(o.threads, c);
      o.connections = std::max(c, o.threads);
    }
    if (shard && !o.schedule_ns.empty()) {
      // The open loop's share: arrivals i with i % N == K, at their original offsets.
      o.schedule_ns = load::shard_schedule(o.schedule_ns, *shard);
      if (o.schedule_ns.empty())
        throw InputError(fmt::format("--shard {}: the schedule has fewer arrivals than clients, client {} has none",
                                     f.shard, shard->k));
    }
    const std::string started = utc_timestamp_now();
    const load::EngineOutcome out = load::run_engine(o);
    load::LoadPointOptions po;
    po.url = f.url;
    po.api = f.api;
    po.model = f.model;
    po.rate = pt.rate;
    if (!f.trace.empty()) po.rate.reset();
    po.concurrency = pt.rate ? 0 : o.connections;
    po.connections = o.connections;
    po.threads = o.threads;
    po.duration_ns = duration;
    po.warmup_ns = warmup;
    po.seed = f.seed;
    po.arrival = arrival_name;
    po.client_sched = out.client_sched;
    po.slo = slo;
    po.slo_percentile = f.slo_percentile;
    load::LoadPoint p = load::summarize_point(out, po);
    p.result.started_at = started;
    p.result.finished_at = utc_timestamp_now();
    p.result.labels = labels;
    p.result.environment.variables = run_env.given;  // LIB-5
    if (points.size() > 1) p.result.labels.extra["sweep_point"] = pt.rate ? fmt::format("rate={}", *pt.rate) : fmt::format("concurrency={}", pt.concurrency);
    const bool block_unconfirmed = p.slo_unconfirmed && f.unconfirmed == "block";
    if (p.partial || p.slo_failed || p.none_succeeded || block_unconfirmed) exit_code = kExitCheckFailed;
    std::cout << (points.size() > 1 ? fmt::format("\n{}\n", p.result.labels.extra["sweep_point"]) : std::string()) << load::render_point(p);
    if (p.slo_unconfirmed)
      std::cout << (block_unconfirmed ? "NOT CONFIRMED blocks this run (--unconfirmed block): exit 1\n"
                                      : "warning: an SLO is NOT CONFIRMED: within its limit but unproven, a longer run confirms or "
                                        "refutes it; it does not fail this run (--unconfirmed warn; --unconfirmed block makes it "
                                        "exit 1)\n");
    if (st) {
      st->save(p.result);
      std::cout << "stored     run " << p.result.run_id << " in " << st->location() << "\n";
    }
    if (!f.requests_jsonl.empty()) {
      std::string path = f.requests_jsonl;
      if (points.size() > 1) path += "." + std::to_string(done.size());
      write_file_atomic(path, load::requests_jsonl(out));
    }
    all.push_back(nlohmann::ordered_json::parse(to_json(p.result)));
    done.push_back(std::move(p));
    // Saturation (LOAD-5): the server no longer keeps up, or p99 grows while throughput does not.
    if (points.size() > 1 && !f.no_early_stop) {
      const load::LoadPoint& cur = done.back();
      if (pt.rate && cur.achieved_rate < 0.9 * cur.target_rate) {
        stop_note = fmt::format("stopped the sweep: achieved {:.1f} req/s < 90 % of the target {:.1f}", cur.achieved_rate, cur.target_rate);
        break;
      }
      if (done.size() >= 2) {
        const load::LoadPoint& prev = done[done.size() - 2];
        const auto p99 = [](const load::LoadPoint& x) { return x.result.metric_value("latency_p99_ms").value_or(0); };
        if (p99(cur) > 1.5 * p99(prev) && cur.achieved_rate < 1.05 * prev.achieved_rate) {
          stop_note = fmt::format("stopped the sweep: p99 grew {:.1f}x while throughput did not ({:.1f} → {:.1f} req/s)",
                                  p99(cur) / std::max(1e-9, p99(prev)), prev.achieved_rate, cur.achieved_rate);
          break;
        }
      }
    }
    if (p.partial) break;
  }
  if (points.size() > 1) {
    std::cout << fmt::format("\n{:<18}{:>12}{:>12}{:>12}{:>12}{:>10}{:>8}\n", "point", "target/s", "achieved/s", "p50 ms", "p99 ms",
                             "errors", "stable");
    for (const auto& p : done)
      std::cout << fmt::format("{:<18}{:>12}{:>12.1f}{:>12.3f}{:>12.3f}{:>10}{:>8}\n", p.result.labels.extra.at("sweep_point"),
                               p.target_rate > 0 ? fmt::format("{:.1f}", p.target_rate) : "-",  // closed loop: no target
                               p.achieved_rate, p.result.metric_value("latency_p50_ms").value_or(NAN),
                               p.result.metric_value("latency_p99_ms").value_or(NAN), p.result.errors.total,
                               p.window_rates.empty() ? "-" : p.stable ? "yes" : "no");
    if (!stop_note.empty()) std::cout << stop_note << "\n";
  }
  if (!f.json_path.empty())
    write_file_atomic(f.json_path, (points.size() == 1 ? all[0].dump(2) : all.dump(2)) + "\n");
  return exit_code;
}

}  // namespace

Action setup_load(CLI::App& sub) {
  auto f = std::make_shared<LoadFlags>();
  sub.footer(
      "Load an HTTP server and measure it (LOAD-1..7). Closed loop: --concurrency C keeps C requests in\n"
      "flight (one per connection). Open loop: --rate R sends at pre-generated absolute times (--arrival\n"
      "constant|poisson|gamma, --burstiness k, --seed), whatever the server does, on any free connection of\n"
      "any thread; latency, TTFT and E2EL in the summary, goodput and the SLO verdicts are then measured from\n"
      "the scheduled time (coordinated-omission free: a wait for a connection counts) and the schedule lag is\n"
      "reported; a request that finds no free connection within --timeout fails unsent. --trace FILE\n"
      "replays arrivals (JSONL {\"timestamp\": ms, \"input\": ...} or CSV with a timestamp column).\n"
      "Sweeps: --rate 5,10,20 or --concurrency 1,2,4,8 give one result per point and a summary table, and\n"
      "stop early when the server saturates (achieved < 90 % of the target, or p99 x1.5 with flat throughput).\n"
      "APIs: generic (any --method, --header, --body @file with {{column}} from --dataset rows),\n"
      "openai-chat / openai-completions (streaming with usage; TTFT, TPOT, ITL, E2EL under vLLM's names;\n"
      "--dataset rows need a 'prompt'), kserve (POST /v2/models/M/infer with --body). WAV responses give a\n"
      "real-time factor. Errors are counted by class (connect, reset, closed, timeout, http_status,\n"
      "malformed, stream_error, protocol, client_queue) with an example; --max-error-rate stops early and marks the\n"
      "result partial (exit 1). --slo limits are verdicts at --slo-percentile with MLPerf's early stopping:\n"
      "PASS when k requests over the limit out of n confirm the percentile at 99 % confidence; FAIL when\n"
      "the percentile is beyond the limit; NOT CONFIRMED when it is within the limit but the run was too\n"
      "short to confirm it (MLPerf: invalid, not failed), with the number of requests that would. A\n"
      "short lucky run cannot pass. --unconfirmed warn (default) reports NOT CONFIRMED and exits 0;\n"
      "--unconfirmed block makes it exit 1, for gates that must prove their SLO. Each point is saved to the\n"
      "store (scenario 'load') unless --no-store. Past one machine: --shard K/N --group NAME on N clients\n"
      "(K from 0; the same seed and flags on each) splits one point's arrivals or connections among them;\n"
      "`trackiq runs merge --group NAME` makes one result of them. Exit codes: 0 ok, 1 partial, an SLO FAIL (or NOT\n"
      "CONFIRMED with --unconfirmed block), or no request succeeded, 2 bad input.\n\n"
      "Examples:\n"
      "  trackiq load http://127.0.0.1:8080/ --concurrency 64 --threads 2 --duration 10s\n"
      "  trackiq load http://127.0.0.1:8080/ --rate 20000 --arrival constant --threads 2\n"
      "  trackiq load http://localhost:8000 --api openai-chat --model llama --dataset prompts.jsonl \\\n"
      "      --rate 2,4,8 --slo ttft=200ms,tpot=50ms --json sweep.json\n"
      "  trackiq load https://api.example/v2/models/resnet/infer --api kserve --model resnet --body @req.json\n"
      "  trackiq load http://tts:9000/speak --method POST --body @say.json --concurrency 4   # RTF for WAV\n"
      "  trackiq load http://llm:8000 --api openai-chat --model m --rate 300 --seed 7 --shard $JOB_COMPLETION_INDEX/3 \\\n"
      "      --group soak-42                                   # client K of 3; then trackiq runs merge --group soak-42");
  sub.add_option("url", f->url, "Target URL: http[s]://host[:port]/path")->required();
  sub.add_option("--method", f->method, "HTTP method (default GET, POST with a body)");
  sub.add_option("--header", f->headers, "'Name: value'; repeatable");
  sub.add_option("--body", f->body,
                 "Request body, or @FILE; {{column}} is filled from --dataset rows (in a JSON body, JSON-escaped inside a "
                 "string literal; JSON by Content-Type, or without one when the body starts with { or [)");
  sub.add_option("--dataset", f->dataset, "JSONL (objects) or .csv with a header: rows for {{column}} or prompts");
  sub.add_option("--dataset-order", f->dataset_order, "round-robin or random (seeded)")->capture_default_str();
  sub.add_option("--api", f->api, "generic, openai-chat, openai-completions or kserve")->capture_default_str();
  sub.add_option("--model", f->model, "Served model name (OpenAI, KServe)");
  sub.add_option("--max-tokens", f->max_tokens, "OpenAI: max_tokens per request")->capture_default_str();
  sub.add_option("--connections", f->connections, "Connections (closed loop: = concurrency; open loop: pool, default 256)")
      ->check(CLI::PositiveNumber);
  sub.add_option("--threads", f->threads, "Client threads, each with its own event loop and connections")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--concurrency", f->concurrency, "Closed loop: requests in flight; a list sweeps, e.g. 1,2,4,8")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  sub.add_option("--rate,--rates", f->rates, "Open loop: requests per second; a list sweeps, e.g. 5,10,20")->delimiter(',');
  sub.add_option("--arrival", f->arrival, "constant, poisson or gamma")->capture_default_str();
  sub.add_option("--burstiness", f->burstiness, "Gamma shape k (1 = Poisson, < 1 burstier)")->capture_default_str();
  sub.add_option("--trace", f->trace, "Replay arrivals from FILE (JSONL or CSV, timestamps in ms)");
  sub.add_option("--time-scale", f->time_scale, "Trace replay: multiply the trace's times (2 = half speed)")->capture_default_str();
  sub.add_option("--duration", f->duration, "Measured duration per point")->capture_default_str();
  sub.add_option("--requests", f->requests, "At most this many requests per point (including warm-up)");
  sub.add_option("--warmup", f->warmup, "Warm-up before measuring (not counted)")->capture_default_str();
  sub.add_option("--timeout", f->timeout,
                 "Per-request timeout from the send; open loop: also from the scheduled time for a request still "
                 "waiting for a free connection (it fails as client_queue, unsent)")
      ->capture_default_str();
  sub.add_option("--seed", f->seed, "Seed of the arrival schedule and of --dataset-order random (default: TRACKIQ_SEED, else 0)")->capture_default_str();
  sub.add_option("--slo", f->slo,
                 "Latency SLOs, e.g. ttft=200ms,tpot=50ms,e2el=2s: goodput counts requests meeting all of them, and each "
                 "is checked at --slo-percentile with MLPerf's early-stopping rule: PASS, FAIL (exit 1) or NOT CONFIRMED "
                 "(see --unconfirmed)");
  sub.add_option("--slo-percentile", f->slo_percentile, "Percentile the --slo limits apply to: 90, 95 or 99")->capture_default_str();
  sub.add_option("--unconfirmed", f->unconfirmed,
                 "An SLO within its limit that the run was too short to confirm (NOT CONFIRMED): warn (exit 0 with a "
                 "warning) or block (exit 1)")
      ->capture_default_str()
      ->check(CLI::IsMember({"warn", "block"}));
  sub.add_option("--max-error-rate", f->max_error_rate, "Stop when failed / finished requests exceed this fraction (after 50)");
  sub.add_flag("--no-early-stop", f->no_early_stop, "Sweeps: run every point even when the server saturates");
  sub.add_flag("--insecure", f->insecure, "https: do not verify the server's certificate");
  sub.add_flag("--no-retry", f->no_retry,
               "Count a request whose kept-alive connection closed before any response byte as failed, instead of "
               "sending it once more on a new connection (retries are counted in retried_requests either way)");
  sub.add_option("--client-sched", f->client_sched,
                 "Client threads' CPU scheduling: batch (SCHED_BATCH: a woken client thread does not preempt the server "
                 "on a shared CPU; its timestamps may then lag by a scheduler slice while every CPU is busy), normal, or "
                 "auto (batch in the closed loop, normal in the open loop and trace replay, where sends must be on time)")
      ->capture_default_str();
  sub.add_option("--json", f->json_path, "Write the canonical result (a sweep: an array, one per point) to FILE");
  sub.add_option("--requests-jsonl", f->requests_jsonl, "Write every request's timestamps to FILE (a sweep: FILE.N)");
  sub.add_option("--product", f->product, "Product label");
  sub.add_option("--version", f->version, "Version label");
  sub.add_option("--label", f->labels, "KEY=VALUE label; repeatable");
  sub.add_option("--shard", f->shard,
                 "K/N: run as client K of N (K from 0, e.g. $JOB_COMPLETION_INDEX/N), with the same --seed everywhere: "
                 "the open loop sends the arrivals i with i % N == K at their original times; the closed loop opens C/N "
                 "of the --concurrency connections and sends R/N of --requests (the first C%N, R%N clients one more). "
                 "Needs --group; no sweeps. Merge with `trackiq runs merge --group NAME`");
  sub.add_option("--group", f->group, "Name of the sharded group this client belongs to (labels group=NAME, shard=K/N)");
  sub.add_option("--store", f->store, cli::kStoreHelp);
  sub.add_flag("--no-store", f->no_store, "Do not save the results to the store");
  return [f, &sub] {
    LoadFlags flags = *f;
    flags.seed_given = sub.get_option("--seed")->count() > 0;
    return load_run(flags);
  };
}

}  // namespace trackiq::cli
