// `trackiq serve` in-process: a real HttpServer on 127.0.0.1 port 0 over a temporary SQLite store
// filled with real Result objects, spoken to over loopback HTTP. Label `threads` (the server's
// pool, clients on several threads): these also run under TSan.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "support/http_client.hpp"
#include "support/process.hpp"
#ifdef TRACKIQ_SERVE_TEST_POSTGRES
#include "support/postgres.hpp"
#endif
#include "trackiq/analysis/compare.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/stats.hpp"
#include "trackiq/server/api.hpp"
#include "trackiq/server/history_json.hpp"
#include "trackiq/server/http_server.hpp"
#include "trackiq/server/router.hpp"
#include "trackiq/server/telemetry_ring.hpp"
#include "trackiq/store/store.hpp"
#include "trackiq/telemetry/collector.hpp"
#include "trackiq/telemetry/sampler.hpp"

namespace trackiq::server {
namespace {

using test::http_call;
using Json = nlohmann::json;

// A run of `product` whose latencies are lognormal around mean_ms (seeded), with its exact
// samples, histogram and latency metrics, as `trackiq run` stores them.
Result make_run(const std::string& product, const std::string& started_at, double mean_ms,
                std::uint64_t seed, std::size_t n = 400) {
  Result r;
  r.tool_version = "0.1.0";
  r.run_id = new_run_id();
  r.started_at = started_at;
  r.finished_at = started_at;
  r.environment.hostname = "host";
  r.environment.hardware_fingerprint = "0123456789abcdef";
  r.labels.product = product;
  r.labels.version = "1.0";
  r.labels.extra["team"] = product == "detector" ? "vision" : "speech";
  r.workload.backend = "synthetic";
  r.workload.model = "synthetic";
  r.scenario.name = "single-stream";
  r.scenario.iterations = n;
  LatencyData l;
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> dist(std::log(mean_ms * 1e6), 0.2);
  std::int64_t end = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto v = static_cast<std::int64_t>(dist(rng));
    l.samples_ns.push_back(v);
    l.histogram.record(v);
    end += v;
    l.sample_end_ns.push_back(end);
  }
  l.summary_ns = summarize(l.samples_ns);
  append_latency_metrics(r.metrics, l.summary_ns);
  r.metrics.push_back(
      {"throughput_queries_per_s", static_cast<double>(n) / (static_cast<double>(end) / 1e9)});
  r.latency = l;
  return r;
}

// Where Served keeps its store: a SQLite file in its temporary folder, or, in the build of this
// file as `serve_pg_test` (TRACKIQ_SERVE_TEST_POSTGRES), a fresh database on the PostgreSQL
// server of the CTest fixture "postgres": every test of the API then runs against the real server.
#ifdef TRACKIQ_SERVE_TEST_POSTGRES
struct TestStoreLocation {
  test::TempPostgresDb db;
  std::string location(const test::TempDir&) const { return db.url(); }
};
#else
struct TestStoreLocation {
  std::string location(const test::TempDir& dir) const { return dir.file("store.db"); }
};
#endif

// A store (see TestStoreLocation), the Api over it and a server on 127.0.0.1:0.
class Served {
 public:
  explicit Served(ApiOptions api_options = {}, ServerOptions server_options = {})
      : store_(store::open_store(where_.location(dir_))),
        api_(*store_, std::move(api_options)),
        server_(api_, [&] {
          server_options.listen = "127.0.0.1:0";
          return server_options;
        }()) {}
  store::Store& store() { return *store_; }
  Api& api() { return api_; }
  const std::string address() const { return server_.address(); }
  test::HttpReply get(const std::string& target, const std::map<std::string, std::string>& h = {}) {
    return http_call(address(), "GET", target, "", h);
  }
  const test::TempDir& dir() const { return dir_; }
  // Where the store lives, for a second connection to it (another process, another server).
  std::string location() const { return where_.location(dir_); }

 private:
  test::TempDir dir_;
  TestStoreLocation where_;
  std::unique_ptr<store::Store> store_;
  Api api_;
  HttpServer server_;
};

const std::map<std::string, std::string> kAuth = {{"Authorization", "Bearer s3cret"}};

std::string error_of(const test::HttpReply& r) {
  try {
    return Json::parse(r.body).at("error").get<std::string>();
  } catch (const std::exception&) {
    return "(not an error document: " + r.body.substr(0, 200) + ")";
  }
}

TEST(ServeRouter, MatchesRoutesAndDecodesParameters) {
  auto m = match_route("GET", "/api/v1/runs/3f2a%2Dbb");
  EXPECT_EQ(m.outcome, RouteMatch::Outcome::kFound);
  EXPECT_EQ(m.route, RouteId::kRun);
  EXPECT_EQ(m.param, "3f2a-bb");
  EXPECT_EQ(m.pattern, "/api/v1/runs/{id}");
  EXPECT_EQ(match_route("GET", "/api/v1/runs/").route, RouteId::kRuns);
  EXPECT_EQ(match_route("GET", "/api/v1/runs/abcd/samples").route, RouteId::kRunSamples);
  const auto wrong = match_route("PUT", "/api/v1/runs");
  EXPECT_EQ(wrong.outcome, RouteMatch::Outcome::kMethodNotAllowed);
  EXPECT_EQ(wrong.allow, "GET, HEAD, POST");
  // HEAD wherever GET, and nowhere else.
  EXPECT_EQ(match_route("HEAD", "/api/v1/runs/abcd").outcome, RouteMatch::Outcome::kFound);
  EXPECT_EQ(match_route("HEAD", "/api/v1/runs/abcd").route, RouteId::kRun);
  EXPECT_EQ(match_route("HEAD", "/").outcome, RouteMatch::Outcome::kFound);
  EXPECT_EQ(match_route("HEAD", "/metrics").outcome, RouteMatch::Outcome::kFound);
  const auto delete_only = match_route("HEAD", "/api/v1/baselines/nightly");
  EXPECT_EQ(delete_only.outcome, RouteMatch::Outcome::kMethodNotAllowed);
  EXPECT_EQ(delete_only.allow, "DELETE");
  EXPECT_EQ(match_route("GET", "/api/v1/runs/a/b/c").outcome, RouteMatch::Outcome::kNotFound);
  EXPECT_EQ(match_route("GET", "/api/v1/runs/%zz").outcome, RouteMatch::Outcome::kNotFound);
  EXPECT_EQ(match_route("GET", "/api/v1/runs//samples").outcome, RouteMatch::Outcome::kNotFound);
  EXPECT_EQ(match_route("GET", "/../etc/passwd").outcome, RouteMatch::Outcome::kNotFound);
  EXPECT_EQ(match_route("DELETE", "/api/v1/baselines/nightly%20x").param, "nightly x");
  EXPECT_EQ(match_route("GET", "/api/v1/history").route, RouteId::kHistory);
  EXPECT_EQ(match_route("GET", "/api/v1/changes").route, RouteId::kChanges);
  EXPECT_EQ(match_route("GET", "/api/v1/telemetry").route, RouteId::kTelemetry);
  EXPECT_EQ(match_route("GET", "/").route, RouteId::kDashboard);
  const auto asset = match_route("GET", "/assets/dashboard.js");
  EXPECT_EQ(asset.route, RouteId::kAsset);
  EXPECT_EQ(asset.param, "dashboard.js");
  EXPECT_EQ(asset.pattern, "/assets/{name}");
  EXPECT_EQ(match_route("GET", "/assets/a/b").outcome, RouteMatch::Outcome::kNotFound);
  EXPECT_EQ(match_route("POST", "/api/v1/history").outcome, RouteMatch::Outcome::kMethodNotAllowed);
}

TEST(ServeRouter, ParsesQueryStrings) {
  const auto q = parse_query("product=det%20ector&label=a%3Db&label=c=d&&flag&x=1+2");
  EXPECT_EQ(q.get("product"), "det ector");
  EXPECT_EQ(q.all("label"), (std::vector<std::string>{"a=b", "c=d"}));
  EXPECT_EQ(q.get("flag"), "");
  EXPECT_EQ(q.get("x"), "1 2");
  EXPECT_FALSE(q.get("missing"));
  EXPECT_THROW(parse_query("a=%4"), InputError);
  EXPECT_THROW(parse_query("a=%00"), InputError);
  EXPECT_THROW(parse_query(std::string("a=b\0c", 5)), InputError);
  EXPECT_EQ(split_target("/a?b=c?d").second, "b=c?d");
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

// Every route the OpenAPI document lists, called with its examples and real ids: none may answer
// 404 or 500 (or any error); the writes go last, with the token.
TEST(Serve, EveryRouteOfTheOpenapiDocumentAnswers) {
  TelemetryRing ring(10);
  ring.begin({{"cpu.util_pct", "%"}});
  ring.row(0, std::vector<double>{12.5});
  Served s({.token = "s3cret", .telemetry = &ring});
  const Result a = make_run("detector", "2026-11-01T10:00:00.000Z", 2.0, 1);
  const Result b = make_run("detector", "2026-11-02T10:00:00.000Z", 2.0, 2);
  const Result doomed = make_run("speech", "2026-11-03T10:00:00.000Z", 1.0, 3);
  s.store().save_all({a, b, doomed});
  const Result uploaded = make_run("detector", "2026-11-04T10:00:00.000Z", 2.0, 4);

  const auto doc_reply = s.get("/api/v1/openapi.json");
  ASSERT_EQ(doc_reply.status, 200);
  const Json doc = Json::parse(doc_reply.body);
  EXPECT_EQ(doc.at("openapi").get<std::string>().substr(0, 2), "3.");
  const std::string base_url = doc.at("servers").at(0).at("url");
  const std::map<std::string, std::string> values = {
      {"id", b.run_id}, {"base", a.run_id}, {"current", b.run_id}, {"name", "nightly"}};
  struct Call {
    std::string method, target, body;
  };
  std::vector<Call> calls;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const std::string method : {"get", "post", "delete"}) {
      if (!item.contains(method)) continue;
      std::string target = base_url + path;
      std::string query;
      std::vector<Json> params;
      for (const auto* holder : {&item, &item.at(method)})
        if (holder->contains("parameters"))
          for (const auto& p : holder->at("parameters")) params.push_back(p);
      for (const auto& p : params) {
        const std::string name = p.at("name");
        const std::string in = p.at("in");
        std::string value;
        if (values.count(name))
          value = values.at(name);
        else if (p.contains("example"))
          value = p.at("example").is_string() ? p.at("example").get<std::string>()
                                              : p.at("example").dump();
        if (in == "path") {
          if (method == "delete" && name == "id") value = doomed.run_id;
          ASSERT_FALSE(value.empty()) << path << ": no value for path parameter " << name;
          target.replace(target.find("{" + name + "}"), name.size() + 2, value);
        } else if (!value.empty() && (p.value("required", false) || p.contains("example"))) {
          query += (query.empty() ? "?" : "&") + name + "=" + value;
        }
      }
      std::string body;
      std::string m = method;
      for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (m == "POST")
        body = path == "/runs" ? to_json(uploaded)
                               : R"({"name": "nightly", "run": ")" + a.run_id + "\"}";
      calls.push_back({m, target + query, body});
      // The document says every GET path answers HEAD too (RFC 9110 9.1).
      if (m == "GET") calls.push_back({"HEAD", target + query, ""});
    }
  }
  std::stable_sort(calls.begin(), calls.end(), [](const Call& x, const Call& y) {
    auto rank = [](const std::string& m) {
      return m == "GET" || m == "HEAD" ? 0 : m == "POST" ? 1 : 2;
    };
    return rank(x.method) < rank(y.method);
  });
  ASSERT_GE(calls.size(), 13u + 9u) << "the document lists fewer operations than the server has";
  for (const auto& c : calls) {
    const auto r = http_call(s.address(), c.method, c.target, c.body,
                             c.method == "GET" || c.method == "HEAD"
                                 ? std::map<std::string, std::string>{}
                                 : kAuth);
    EXPECT_LT(r.status, 400) << c.method << " " << c.target << " -> " << r.status << ": "
                             << r.body.substr(0, 400);
  }
  // The writes happened: the upload is stored, the doomed run and the baseline are gone.
  EXPECT_NO_THROW(s.store().load(uploaded.run_id));
  EXPECT_THROW(s.store().load(doomed.run_id), InputError);
  EXPECT_TRUE(s.store().list_baselines().empty());
}

// Several `serve` processes behind a balancer share one store (each with its own connection):
// what one stores or deletes, the other serves at once. In serve_pg_test both are on PostgreSQL.
TEST(Serve, TwoServersOnOneStoreSeeEachOthersWrites) {
  test::TempDir dir;
  TestStoreLocation where;
  auto store_a = store::open_store(where.location(dir));
  auto store_b = store::open_store(where.location(dir));
  Api api_a(*store_a, {.token = "s3cret"}), api_b(*store_b, {.token = "s3cret"});
  HttpServer a(api_a, {.listen = "127.0.0.1:0"}), b(api_b, {.listen = "127.0.0.1:0"});
  const Result r = make_run("detector", "2026-11-01T10:00:00.000Z", 2.0, 1);
  ASSERT_EQ(http_call(a.address(), "POST", "/api/v1/runs", to_json(r), kAuth).status, 201);
  const auto got = http_call(b.address(), "GET", "/api/v1/runs/" + r.run_id, "", {});
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Json::parse(got.body).at("run_id"), r.run_id);
  EXPECT_EQ(Json::parse(http_call(b.address(), "GET", "/api/v1/runs", "", {}).body).at("runs").size(), 1u);
  EXPECT_EQ(http_call(b.address(), "DELETE", "/api/v1/runs/" + r.run_id, "", kAuth).status, 200);
  EXPECT_EQ(http_call(a.address(), "GET", "/api/v1/runs/" + r.run_id, "", {}).status, 404);
}

TEST(Serve, WritesNeedTheRightTokenAndNoTokenDisablesThem) {
  const Result r = make_run("detector", "2026-11-01T10:00:00.000Z", 2.0, 1);
  {
    Served open_only;  // no token configured
    const auto no = http_call(open_only.address(), "POST", "/api/v1/runs", to_json(r), kAuth);
    EXPECT_EQ(no.status, 403);
    EXPECT_NE(error_of(no).find("writes are disabled"), std::string::npos) << no.body;
    EXPECT_EQ(http_call(open_only.address(), "DELETE", "/api/v1/runs/abcd").status, 403);
    EXPECT_TRUE(open_only.store().list({}).empty());
  }
  Served s({.token = "s3cret"});
  const auto none = http_call(s.address(), "POST", "/api/v1/runs", to_json(r));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("www-authenticate"), "Bearer realm=\"trackiq\"");
  EXPECT_EQ(http_call(s.address(), "POST", "/api/v1/runs", to_json(r),
                      {{"Authorization", "Bearer s3cre"}})
                .status,
            401);
  EXPECT_EQ(http_call(s.address(), "POST", "/api/v1/runs", to_json(r),
                      {{"Authorization", "Bearer s3cretX"}})
                .status,
            401);
  EXPECT_EQ(
      http_call(s.address(), "POST", "/api/v1/runs", to_json(r), {{"Authorization", "s3cret"}})
          .status,
      401);
  EXPECT_TRUE(s.store().list({}).empty());
  const auto ok = http_call(s.address(), "POST", "/api/v1/runs", to_json(r), kAuth);
  EXPECT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(ok.header("location"), "/api/v1/runs/" + r.run_id);
  EXPECT_EQ(s.store().list({}).size(), 1u);
  // The same run again is refused as `trackiq import` refuses a duplicate.
  const auto again = http_call(s.address(), "POST", "/api/v1/runs", to_json(r), kAuth);
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(error_of(again).find("already stored"), std::string::npos);

  Served ro({.token = "s3cret", .read_only = true});
  const auto refused = http_call(ro.address(), "POST", "/api/v1/runs", to_json(r), kAuth);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(error_of(refused).find("read-only"), std::string::npos);
}

TEST(Serve, ABodyOverTheLimitIs413AndNothingIsStored) {
  Served s({.token = "s3cret", .max_body_bytes = 4096}, {.max_body_bytes = 4096});
  const std::string big = to_json(make_run("detector", "2026-11-01T10:00:00.000Z", 2.0, 1, 2000));
  ASSERT_GT(big.size(), 4096u);
  const auto r = http_call(s.address(), "POST", "/api/v1/runs", big, kAuth);
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(error_of(r).find("4096"), std::string::npos) << r.body;
  EXPECT_TRUE(s.store().list({}).empty());
  // The Api refuses it too when called directly (no HTTP layer in front).
  const auto direct = s.api().handle(
      {.method = "POST", .target = "/api/v1/runs", .authorization = "Bearer s3cret", .body = big});
  EXPECT_EQ(direct.status, 413);
}

TEST(Serve, BadInputIs400UnknownIs404WrongMethodIs405) {
  Served s({.token = "s3cret"});
  const Result a = make_run("detector", "2026-11-01T10:00:00.000Z", 2.0, 1);
  s.store().save(a);
  for (const std::string& bad : std::vector<std::string>{
           "/api/v1/runs?limit=0", "/api/v1/runs?limit=abc", "/api/v1/runs?limit=1001",
           "/api/v1/runs?since=yesterday", "/api/v1/runs?label=novalue", "/api/v1/runs?cursor=zz",
           "/api/v1/runs?prodcut=x", "/api/v1/runs?product=%zz", "/api/v1/compare?base=" + a.run_id,
           "/api/v1/runs/" + a.run_id + "?samples=maybe",
           "/api/v1/runs/" + a.run_id + "/samples?format=xml"}) {
    const auto r = s.get(bad);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_FALSE(error_of(r).empty()) << bad;
  }
  const auto malformed = http_call(s.address(), "POST", "/api/v1/runs", "{\"run_id\": ", kAuth);
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(error_of(malformed).find("request body"), std::string::npos) << malformed.body;
  EXPECT_EQ(http_call(s.address(), "POST", "/api/v1/runs", "[]", kAuth).status, 400);
  EXPECT_EQ(http_call(s.address(), "POST", "/api/v1/baselines", "{\"nam\": 1}", kAuth).status, 400);

  for (const std::string& missing : std::vector<std::string>{
           "/api/v1/runs/ffffffff", "/api/v1/runs/not-an-id", "/api/v1/runs/ffffffff/samples",
           "/api/v1/compare?base=nosuchbaseline&current=" + a.run_id, "/api/v1/nothing",
           "/index.html", "/api/v2/runs"}) {
    const auto r = s.get(missing);
    EXPECT_EQ(r.status, 404) << missing << ": " << r.body;
  }
  const auto gone = http_call(s.address(), "DELETE", "/api/v1/runs/ffffffff", "", kAuth);
  EXPECT_EQ(gone.status, 404) << gone.body;
  // The store's location (a path of the server's machine) is not in messages.
  EXPECT_EQ(s.get("/api/v1/runs/ffffffff").body.find(s.dir().path()), std::string::npos);

  // Bytes of the request quoted in a message stay a valid JSON document (found by router_fuzz).
  const auto odd = s.api().handle({.method = "G\xffT", .target = "/api/v1/\xfe?x=\xff"});
  EXPECT_EQ(odd.status, 404);
  EXPECT_TRUE(nlohmann::json::accept(odd.body)) << odd.body;
  EXPECT_EQ(s.api().handle({.method = "G\xffT", .target = "/api/v1/runs"}).status, 405);

  const auto put = http_call(s.address(), "PUT", "/api/v1/runs/" + a.run_id, "{}", kAuth);
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.header("allow"), "GET, HEAD, DELETE");
  EXPECT_EQ(http_call(s.address(), "POST", "/api/v1/compare", "", kAuth).status, 405);
}

TEST(Serve, PagesWalkEveryRunOnceNewestFirst) {
  Served s;
  std::vector<Result> runs;
  for (int i = 0; i < 23; ++i)  // pairs share a start time: the cursor must break ties
    runs.push_back(make_run(i % 3 ? "detector" : "speech",
                            fmt::format("2026-11-{:02}T10:00:00.000Z", 1 + i / 2), 1.0,
                            static_cast<std::uint64_t>(i), 10));
  s.store().save_all(runs);
  std::vector<std::string> walked;
  std::string target = "/api/v1/runs?limit=4";
  int pages = 0;
  while (true) {
    const auto r = s.get(target);
    ASSERT_EQ(r.status, 200) << r.body;
    const Json page = Json::parse(r.body);
    ASSERT_LE(page.at("runs").size(), 4u);
    for (const auto& run : page.at("runs")) walked.push_back(run.at("run_id"));
    ++pages;
    if (page.at("next_cursor").is_null()) break;
    target = "/api/v1/runs?limit=4&cursor=" + page.at("next_cursor").get<std::string>();
    ASSERT_LT(pages, 50) << "pagination does not end";
  }
  EXPECT_EQ(pages, 6);
  std::vector<std::string> expected;
  for (const auto& r : s.store().list({.limit = 0})) expected.push_back(r.run_id);
  EXPECT_EQ(walked, expected);
  EXPECT_EQ(std::set<std::string>(walked.begin(), walked.end()).size(), 23u);
  // Filters page too.
  std::size_t speech = 0;
  target = "/api/v1/runs?limit=2&product=speech&label=team%3Dspeech";
  while (!target.empty()) {
    const Json page = Json::parse(s.get(target).body);
    for (const auto& run : page.at("runs")) speech += run.at("product") == "speech";
    target = page.at("next_cursor").is_null()
                 ? ""
                 : "/api/v1/runs?limit=2&product=speech&label=team%3Dspeech&cursor=" +
                       page.at("next_cursor").get<std::string>();
  }
  EXPECT_EQ(speech, 8u);
  // Free-text search over the whole store, case-insensitive, paged like the filters: "SPEECH"
  // finds the 8 speech runs (product and label), "VISION" the 15 detector runs by their label
  // only, a run id prefix its run; LIKE's own characters are matched literally.
  const auto count = [&](const std::string& q) {
    std::size_t n = 0;
    std::string t = "/api/v1/runs?limit=3&q=" + q;
    while (!t.empty()) {
      const auto r = s.get(t);
      EXPECT_EQ(r.status, 200) << r.body;
      const Json page = Json::parse(r.body);
      n += page.at("runs").size();
      t = page.at("next_cursor").is_null() ? "" : "/api/v1/runs?limit=3&q=" + q + "&cursor=" + page.at("next_cursor").get<std::string>();
    }
    return n;
  };
  EXPECT_EQ(count("SPEECH"), 8u);
  EXPECT_EQ(count("vIsIoN"), 15u);
  EXPECT_EQ(count(runs[5].run_id.substr(0, 13)), 1u);
  EXPECT_EQ(count("%25"), 0u);  // "%": no run contains a percent sign
  EXPECT_EQ(count("spe_ch"), 0u);
  EXPECT_EQ(s.get("/api/v1/runs?q=" + std::string(201, 'x')).status, 400);
  EXPECT_EQ(
      Json::parse(s.get("/api/v1/runs?since=2026-11-10&until=2026-11-12").body).at("runs").size(),
      4u);
}

TEST(Serve, ARunWithAndWithoutSamplesAndItsSamplesAsCsvAndJson) {
  Served s;
  const Result a = make_run("detector", "2026-11-01T10:00:00.000Z", 2.0, 1, 50);
  s.store().save(a);
  const Json plain = Json::parse(s.get("/api/v1/runs/" + a.run_id.substr(0, 8)).body);
  EXPECT_EQ(plain.at("run_id"), a.run_id);
  const Json full = Json::parse(s.get("/api/v1/runs/" + a.run_id + "?samples=1").body);
  // The canonical result, exactly as the CLI writes it (`runs export`).
  EXPECT_EQ(s.get("/api/v1/runs/" + a.run_id + "?samples=1").body,
            to_json(s.store().load(a.run_id)));
  EXPECT_NE(full.dump().find(std::to_string(a.latency->samples_ns[7])), std::string::npos);
  EXPECT_EQ(plain.dump().find(std::to_string(a.latency->samples_ns[7])), std::string::npos);

  const auto csv = s.get("/api/v1/runs/" + a.run_id + "/samples", {{"Accept", "text/csv"}});
  EXPECT_EQ(csv.header("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.body.substr(0, csv.body.find('\n')), "index,latency_ns,end_ns");
  EXPECT_NE(csv.body.find(
                fmt::format("\n3,{},{}\n", a.latency->samples_ns[3], a.latency->sample_end_ns[3])),
            std::string::npos);
  EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), 51);
  const Json js = Json::parse(s.get("/api/v1/runs/" + a.run_id + "/samples?format=json").body);
  EXPECT_EQ(js.at("latency_ns").get<std::vector<std::int64_t>>(), a.latency->samples_ns);
  EXPECT_EQ(
      s.get("/api/v1/runs/" + a.run_id + "/samples?format=csv", {{"Accept", "application/json"}})
          .body,
      csv.body);
}

// A run's samples are streamed (chunked transfer coding, ~64 KiB pieces) in both formats; an
// HTTP/1.0 client, which has no chunked coding, gets the same bytes whole.
TEST(Serve, SamplesAreStreamedInChunksAndWholeToHttp10) {
  Served s;
  const Result a = make_run("detector", "2026-11-01T10:00:00.000Z", 2.0, 1, 300'000);
  s.store().save(a);
  const std::string path = "/api/v1/runs/" + a.run_id + "/samples";
  const auto js = s.get(path);
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.header("transfer-encoding"), "chunked");
  EXPECT_EQ(js.header("content-type"), "application/json");
  const Json doc = Json::parse(js.body);
  EXPECT_EQ(doc.at("run_id"), a.run_id);
  EXPECT_EQ(doc.at("latency_ns").get<std::vector<std::int64_t>>(), a.latency->samples_ns);
  EXPECT_EQ(doc.at("end_ns").get<std::vector<std::int64_t>>(), a.latency->sample_end_ns);
  const auto csv = s.get(path + "?format=csv");
  EXPECT_EQ(csv.header("transfer-encoding"), "chunked");
  EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), 300'001);
  EXPECT_NE(csv.body.find(fmt::format("\n299999,{},{}\n", a.latency->samples_ns.back(), a.latency->sample_end_ns.back())),
            std::string::npos);

  // HTTP/1.0 by hand: the whole body, no chunk framing, then the server closes.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket sock(ioc);
  const std::string addr = s.address();
  const auto colon = addr.rfind(':');
  sock.connect({boost::asio::ip::make_address(addr.substr(0, colon)),
                static_cast<unsigned short>(std::stoi(addr.substr(colon + 1)))});
  const std::string req = "GET " + path + "?format=csv HTTP/1.0\r\n\r\n";
  boost::asio::write(sock, boost::asio::buffer(req));
  std::string reply;
  boost::system::error_code ec;
  boost::asio::read(sock, boost::asio::dynamic_buffer(reply), ec);
  EXPECT_EQ(ec, boost::asio::error::eof);
  const auto head_end = reply.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_EQ(reply.substr(0, reply.find("\r\n")), "HTTP/1.0 200 OK");
  EXPECT_EQ(reply.substr(0, head_end).find("chunked"), std::string::npos) << reply.substr(0, head_end);
  EXPECT_EQ(reply.substr(head_end + 4), csv.body);
}

TEST(Serve, CompareGivesTheLibrarysVerdictAndReasons) {
  Served s;
  const Result base = make_run("detector", "2026-11-01T10:00:00.000Z", 2.0, 1);
  const Result slow = make_run("detector", "2026-11-02T10:00:00.000Z", 3.0, 2);
  s.store().save_all({base, slow});
  const auto r =
      s.get("/api/v1/compare?base=" + base.run_id + "&current=" + slow.run_id.substr(0, 6));
  ASSERT_EQ(r.status, 200) << r.body;
  const Json got = Json::parse(r.body);
  EXPECT_EQ(got.at("verdict"), "BLOCK");
  analysis::NoiseRuns noise;
  noise.baseline = store::series_history(s.store(), base, slow, 10);
  noise.current = {slow};
  noise.source = store::series_history_source(base, noise.baseline.size());
  const Json want = Json::parse(analysis::comparison_json(analysis::compare_results(
      s.store().load(base.run_id), s.store().load(slow.run_id), {}, &noise)));
  EXPECT_EQ(got, want);
}

// A series with a planted step: runs 1.0 .. 1.(2n) of `product`, the first n at base_ms and the
// last n at twice it, a day apart from 2026-11-01 (oldest first).
std::vector<Result> stepped_runs(const std::string& product, std::size_t n, double base_ms) {
  std::vector<Result> out;
  for (std::size_t i = 0; i < 2 * n; ++i) {
    Result r = make_run(product, fmt::format("2026-11-{:02}T10:00:00.000Z", i + 1),
                        i < n ? base_ms : 2 * base_ms, 100 + i, 200);
    r.labels.version = fmt::format("1.{}", i);
    out.push_back(std::move(r));
  }
  return out;
}

TEST(Serve, HistoryGivesTheSeriesAndItsPlantedChangePoint) {
  Served s;
  const auto runs = stepped_runs("detector", 8, 2.0);
  s.store().save_all(runs);
  const auto r = s.get("/api/v1/history?metric=latency_p50_ms&product=detector");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json h = Json::parse(r.body);
  EXPECT_EQ(h.at("metric"), "latency_p50_ms");
  EXPECT_EQ(h.at("n"), 16);
  ASSERT_EQ(h.at("points").size(), 16u);
  EXPECT_EQ(h["points"][0].at("run_id"), runs[0].run_id);  // oldest first
  EXPECT_EQ(h["points"][15].at("version"), "1.15");
  EXPECT_DOUBLE_EQ(h["points"][3].at("value").get<double>(),
                   *runs[3].metric_value("latency_p50_ms"));
  ASSERT_EQ(h.at("change_points").size(), 1u) << h.dump(1);
  const Json& cp = h["change_points"][0];
  EXPECT_EQ(cp.at("index"), 8);
  EXPECT_EQ(cp.at("run_id"), runs[8].run_id);
  EXPECT_EQ(cp.at("previous_run_id"), runs[7].run_id);
  EXPECT_EQ(cp.at("direction"), "regression");
  EXPECT_NEAR(cp.at("magnitude_pct").get<double>(), 100.0, 15.0);
  // The segment means are the means of the two halves.
  double first = 0;
  for (std::size_t i = 0; i < 8; ++i) first += *runs[i].metric_value("latency_p50_ms") / 8;
  EXPECT_NEAR(h["points"][0].at("segment_mean").get<double>(), first, 1e-9);

  // Bad parameters say what is wrong.
  EXPECT_EQ(s.get("/api/v1/history?product=detector").status, 400);
  const auto unknown = s.get("/api/v1/history?metric=no_such_metric");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(error_of(unknown).find("not a metric of the registry"), std::string::npos)
      << unknown.body;
  EXPECT_EQ(s.get("/api/v1/history?metric=latency_p50_ms&colour=red").status, 400);
  EXPECT_EQ(s.get("/api/v1/history?metric=latency_p50_ms&label=novalue").status, 400);
  EXPECT_EQ(s.get("/api/v1/history?metric=latency_p50_ms&product=nobody").status, 404);
  // Two series match: nothing is mixed, they are listed.
  s.store().save_all({make_run("speech", "2026-11-20T10:00:00.000Z", 1.0, 7)});
  const auto two = s.get("/api/v1/history?metric=latency_p50_ms");
  EXPECT_EQ(two.status, 400);
  EXPECT_NE(error_of(two).find("2 series match"), std::string::npos) << two.body;
  EXPECT_EQ(Json::parse(two.body).at("series").size(), 2u);
  EXPECT_TRUE(Json::parse(two.body)["series"][0].contains("config")) << two.body;
  // run=ID: that run's series, whole; with other filters it is refused.
  const auto of_run = s.get("/api/v1/history?metric=latency_p50_ms&run=" + runs[3].run_id.substr(0, 8));
  ASSERT_EQ(of_run.status, 200) << of_run.body;
  EXPECT_EQ(Json::parse(of_run.body).at("n"), 16);
  EXPECT_EQ(Json::parse(of_run.body)["series"].at("config"), store::series_config(runs[3]));
  EXPECT_EQ(s.get("/api/v1/history?metric=latency_p50_ms&run=" + runs[3].run_id + "&product=detector").status, 400);
  EXPECT_EQ(s.get("/api/v1/history?metric=latency_p50_ms&run=ffff0000").status, 404);
  // config= selects one configuration among several.
  Result batch8 = make_run("detector", "2026-11-21T10:00:00.000Z", 1.0, 9);
  batch8.workload.batch_size = 8;
  s.store().save_all({batch8});
  EXPECT_EQ(s.get("/api/v1/history?metric=latency_p50_ms&product=detector").status, 400);
  std::string encoded;
  for (const char ch : store::series_config(batch8)) encoded += ch == ' ' ? "%20" : ch == '=' ? "%3D" : std::string(1, ch);
  const auto one = s.get("/api/v1/history?metric=latency_p50_ms&product=detector&config=" + encoded);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Json::parse(one.body).at("n"), 1);
}

TEST(Serve, ChangesFindThePlantedStepAcrossTheStore) {
  Served s;
  const auto runs = stepped_runs("detector", 8, 2.0);
  s.store().save_all(runs);
  // A second series without a change.
  std::vector<Result> flat;
  for (std::size_t i = 0; i < 12; ++i)
    flat.push_back(
        make_run("speech", fmt::format("2026-11-{:02}T11:00:00.000Z", i + 1), 1.0, 500 + i, 200));
  s.store().save_all(flat);
  const auto r = s.get("/api/v1/changes");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json c = Json::parse(r.body);
  EXPECT_EQ(c.at("fdr"), 0.05);
  EXPECT_GT(c.at("tests").get<int>(), 2);
  ASSERT_FALSE(c.at("changes").empty()) << c.dump(1);
  bool p50 = false;
  for (const auto& ch : c.at("changes")) {
    EXPECT_EQ(ch.at("series").at("product"), "detector") << ch.dump();  // none in the flat series
    if (ch.at("metric") == "latency_p50_ms") {
      p50 = true;
      EXPECT_EQ(ch.at("first_run").at("run_id"), runs[8].run_id);
      EXPECT_EQ(ch.at("direction"), "regression");
      EXPECT_EQ(ch.at("runs").at("before").size(), 3u);
      EXPECT_EQ(ch.at("runs").at("after").at(0).at("run_id"), runs[8].run_id);
      EXPECT_TRUE(ch.at("new").get<bool>());
    }
  }
  EXPECT_TRUE(p50) << c.dump(1);
  EXPECT_GT(c.at("new_regressions").get<int>(), 0);
  // since after the change: it is old.
  const Json later = Json::parse(s.get("/api/v1/changes?since=2026-12-01").body);
  EXPECT_EQ(later.at("new_regressions"), 0);
  EXPECT_EQ(later.at("since"), "2026-12-01");
  const Json by_run = Json::parse(s.get("/api/v1/changes?since=" + runs[7].run_id).body);
  EXPECT_GT(by_run.at("new_regressions").get<int>(), 0);
  EXPECT_EQ(s.get("/api/v1/changes?fdr=1.5").status, 400);
  EXPECT_EQ(s.get("/api/v1/changes?fdr=abc").status, 400);
  EXPECT_EQ(s.get("/api/v1/changes?fdr=1e-999").status, 400);  // underflows to 0: not in (0, 1)
  EXPECT_EQ(s.get("/api/v1/changes?fdr=0").status, 400);
  EXPECT_EQ(s.get("/api/v1/changes?fdr=0.01").status, 200);
  const auto bad_since = s.get("/api/v1/changes?since=yesterday");
  EXPECT_EQ(bad_since.status, 400);
  EXPECT_NE(error_of(bad_since).find("expected a date"), std::string::npos) << bad_since.body;
  EXPECT_EQ(s.get("/api/v1/changes?since=2026-13-01").status, 400);
}

#ifndef TRACKIQ_SERVE_TEST_POSTGRES  // no store: once is enough
// The shared computation of `trackiq detect` and /changes, below HTTP: the detector hook runs once
// per key-metric series (short ones too, which detect's kept state needs), neutral metrics are
// not series, and only the CLI's extras (store first, computation last) differ in the document.
TEST(HistoryJson, StoreChangesCallTheHookPerSeriesAndTheCliExtrasFrameTheDocument) {
  auto series = [](std::string product, std::string metric, std::size_t n, std::size_t step_at) {
    store::MetricSeries s;
    s.key = {std::move(product), "hw", "synthetic:synthetic", "single-stream"};
    s.metric = std::move(metric);
    for (std::size_t i = 0; i < n; ++i)
      s.points.push_back({fmt::format("run{:04}-0000", i), fmt::format("2026-11-{:02}T10:00:00Z", i + 1), "", "",
                          (i < step_at ? 2.0 : 4.0) + 0.01 * static_cast<double>(i % 3)});
    return s;
  };
  const std::vector<store::MetricSeries> all = {series("a", "latency_p50_ms", 16, 8),
                                                series("b", "latency_p50_ms", 5, 99),
                                                series("c", "cpu_util_avg_pct", 16, 8)};  // neutral
  ASSERT_NE(find_metric("cpu_util_avg_pct"), nullptr);
  ASSERT_FALSE(is_detect_metric(*find_metric("cpu_util_avg_pct")));
  std::vector<std::string> hooked;
  const SeriesDetector hook = [&](const store::MetricSeries& s, std::span<const double> v,
                                  const analysis::ChangePointOptions& o) {
    hooked.push_back(s.key.product);
    EXPECT_EQ(o.alpha, 0.05);
    return analysis::detect_change_points(v, o);
  };
  const auto since = parse_since("2026-11-09", "since=2026-11-09",
                                 [](const std::string&) -> std::string { throw std::logic_error("not a run"); });
  const StoreChanges c = store_changes(all, 0.05, since, hook);
  EXPECT_EQ(hooked, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.too_short, 1u);
  ASSERT_EQ(c.tested.size(), 1u);
  ASSERT_EQ(c.changes.size(), 1u);
  EXPECT_EQ(c.changes[0].cp.index, 8u);
  EXPECT_EQ(c.changes[0].kind, "regression");
  EXPECT_TRUE(c.changes[0].is_new);  // its first run started on 2026-11-09
  EXPECT_EQ(c.new_regressions, 1u);

  const Json plain = Json::parse(changes_json(c));
  const DetectComputation computed{1, 2, 3};
  const auto cli = nlohmann::ordered_json::parse(changes_json(c, "/tmp/x.db", &computed));  // keeps the order
  EXPECT_FALSE(plain.contains("store"));
  EXPECT_FALSE(plain.contains("computation"));
  EXPECT_EQ(cli.begin().key(), "store");
  EXPECT_EQ(cli.at("store"), "/tmp/x.db");
  EXPECT_EQ((--cli.end()).key(), "computation");
  EXPECT_EQ(cli.at("computation").at("unchanged"), 3);
  Json trimmed = Json::parse(cli.dump());
  trimmed.erase("store");
  trimmed.erase("computation");
  EXPECT_EQ(trimmed, plain);
  EXPECT_EQ(plain.at("since"), "2026-11-09");
  EXPECT_EQ(plain.at("changes")[0].at("runs").at("before").size(), kRunsAround);

  // since: a run id asks the caller for its start and counts runs after it; bad text names the
  // value as the caller wrote it.
  const auto by_run = parse_since("abcd1234", "x", [](const std::string& id) { return "start of " + id; });
  EXPECT_EQ(by_run.from, "start of abcd1234");
  EXPECT_FALSE(by_run.inclusive);
  try {
    parse_since("2026-13-01", "--since '2026-13-01'", nullptr);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "--since '2026-13-01': not a valid date");
  }

  // history: the order follows whether commit-ordered points were left out.
  const auto h = series_change_points(all[0]);
  EXPECT_EQ(Json::parse(history_json(all[0], *find_metric("latency_p50_ms"), h)).at("order"), "time");
  const std::vector<store::SeriesPoint> left_out = {all[1].points[0]};
  const Json commit = Json::parse(history_json(all[0], *find_metric("latency_p50_ms"), h, &left_out));
  EXPECT_EQ(commit.at("order"), "commit");
  EXPECT_EQ(commit.at("not_in_commit_order").at(0).at("run_id"), all[1].points[0].run_id());
  EXPECT_EQ(commit.at("change_points").at(0).at("index"), 8);
}
#endif

TEST(Serve, TelemetryRingKeepsTheLastRowsAndServesThemAndTheirGauges) {
  TelemetryRing ring(3);
  Served s({.telemetry = &ring});
  const Json before = Json::parse(s.get("/api/v1/telemetry").body);
  EXPECT_TRUE(before.at("values").empty());
  EXPECT_EQ(s.get("/metrics").body.find("trackiq_cpu_utilization_ratio"), std::string::npos);
  ring.begin({{"cpu.util_pct", "%"}, {"mem.total_bytes", "B"}});
  for (int i = 1; i <= 5; ++i) ring.row(i, std::vector<double>{10.0 * i, i == 5 ? NAN : 1e9});
  const auto r = s.get("/api/v1/telemetry?seconds=60");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json t = Json::parse(r.body);
  EXPECT_EQ(t.at("rows_taken"), 5);
  EXPECT_EQ(t.at("capacity"), 3);
  ASSERT_EQ(t.at("values").size(), 3u);  // bounded: the last 3 of 5
  EXPECT_EQ(t["values"][0][0], 30.0);
  EXPECT_EQ(t["values"][2][0], 50.0);
  EXPECT_TRUE(t["values"][2][1].is_null());  // no reading: null, never a made-up value
  EXPECT_EQ(t.at("channels")[1].at("name"), "mem.total_bytes");
  EXPECT_EQ(t.at("t_unix_s").size(), 3u);
  const auto m = s.get("/metrics");
  EXPECT_NE(m.body.find("trackiq_cpu_utilization_ratio 0.5\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("trackiq_memory_total_bytes 1000000000\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("trackiq_exporter_samples_total 5\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("trackiq_http_requests_total{"), std::string::npos);
  std::ofstream(s.dir().file("metrics.txt")) << m.body;
  const auto check =
      test::run_process({"sh", "-c", "promtool check metrics < " + s.dir().file("metrics.txt")});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err << m.body;

  EXPECT_EQ(s.get("/api/v1/telemetry?seconds=0").status, 400);
  EXPECT_EQ(s.get("/api/v1/telemetry?seconds=abc").status, 400);
  EXPECT_EQ(s.get("/api/v1/telemetry?window=5").status, 400);
  Served none;
  const auto off = none.get("/api/v1/telemetry");
  EXPECT_EQ(off.status, 404);
  EXPECT_NE(error_of(off).find("not available"), std::string::npos) << off.body;
}

// The real collectors on a real sampler thread feed the ring while the server answers.
TEST(Serve, ASampledMachineShowsUpLiveInTelemetry) {
  TelemetryRing ring(100);
  telemetry::Sampler sampler(telemetry::make_collectors({"cpu", "memory"}, {}),
                             {.interval_ns = 50'000'000, .max_rows = 0, .sink = &ring});
  ASSERT_FALSE(sampler.channels().empty());
  Served s({.telemetry = &ring});
  sampler.start();
  Json t;
  for (int i = 0; i < 200; ++i) {  // up to 10 s
    t = Json::parse(s.get("/api/v1/telemetry").body);
    if (t.at("values").size() >= 5) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sampler.stop();
  ASSERT_GE(t.at("values").size(), 5u) << t.dump();
  const auto& times = t.at("t_unix_s");
  for (std::size_t i = 1; i < times.size(); ++i)
    EXPECT_GT(times[i].get<double>(), times[i - 1].get<double>());
  long mem = -1;
  for (std::size_t i = 0; i < t.at("channels").size(); ++i)
    if (t["channels"][i].at("name") == "mem.total_bytes") mem = static_cast<long>(i);
  ASSERT_GE(mem, 0) << t.at("channels").dump();
  EXPECT_GT(t["values"][0][mem].get<double>(), 1e6);
  EXPECT_NE(s.get("/metrics").body.find("trackiq_memory_total_bytes "), std::string::npos);
}

TEST(Serve, TheDashboardIsServedFromTheEmbeddedSetOnly) {
  Served s;
  const auto page = s.get("/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<script src=\"/assets/dashboard.js\"></script>"), std::string::npos)
      << page.body;
  EXPECT_EQ(page.body.find("http://"), std::string::npos);  // nothing from the network
  EXPECT_EQ(page.body.find("https://"), std::string::npos);
  for (const std::string name :
       {"dashboard.js", "dashboard.css", "uPlot.iife.min.js", "uPlot.min.css", "report.css"}) {
    const auto a = s.get("/assets/" + name);
    EXPECT_EQ(a.status, 200) << name;
    EXPECT_GT(a.body.size(), 100u) << name;
    EXPECT_EQ(a.header("x-content-type-options"), "nosniff");
  }
  EXPECT_EQ(s.get("/assets/dashboard.js").header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_NE(s.get("/assets/uPlot.iife.min.js").body.find("uPlot"), std::string::npos);
  // Nothing else, and never a file of the machine.
  EXPECT_EQ(s.get("/assets/nothing.js").status, 404);
  EXPECT_EQ(s.get("/assets/..%2F..%2Fetc%2Fpasswd").status, 404);
  EXPECT_EQ(s.get("/assets/../../etc/passwd").status, 404);
  EXPECT_EQ(s.get("/etc/passwd").status, 404);
  EXPECT_EQ(s.get("/assets/").status, 404);
  EXPECT_EQ(s.get("/?x=1").status, 400);
  EXPECT_EQ(http_call(s.address(), "POST", "/", "").status, 405);
}

TEST(Serve, MetricsExposeStoreGaugesAndRequestsAndPassPromtool) {
  Served s;
  s.store().save_all({make_run("detector", "2026-11-01T10:00:00.000Z", 2.0, 1),
                      make_run("detector", "2026-11-02T10:00:00.000Z", 4.0, 2),
                      make_run("speech", "2026-11-02T10:00:00.000Z", 1.0, 3)});
  s.get("/api/v1/runs");
  s.get("/api/v1/nothing");
  const auto m = s.get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body.find("trackiq_store_runs{product=\"detector\"} 2\n"), std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("trackiq_store_runs{product=\"speech\"} 1\n"), std::string::npos) << m.body;
  // The latest run of the detector series (4 ms lognormal): its p50 in seconds.
  const Result latest =
      s.store().load(s.store().list({.product = "detector", .limit = 1}).at(0).run_id);
  EXPECT_NE(
      m.body.find(
          fmt::format(
              "trackiq_run_latency_p50_seconds{{config=\"{}\",hardware=\"0123456789abcdef\",product=\"detector\","
              "scenario=\"single-stream\",workload=\"synthetic:synthetic\"}} {}",
              store::series_config(latest), *latest.metric_value("latency_p50_ms") * 1e-3)
              .substr(0, 200)),
      std::string::npos)
      << m.body;
  EXPECT_NE(
      m.body.find(
          "trackiq_http_requests_total{code=\"200\",method=\"GET\",route=\"/api/v1/runs\"} 1"),
      std::string::npos);
  EXPECT_NE(
      m.body.find("trackiq_http_requests_total{code=\"404\",method=\"GET\",route=\"unmatched\"} 1"),
      std::string::npos);
  EXPECT_NE(
      m.body.find(
          "trackiq_http_request_duration_seconds_bucket{route=\"/api/v1/runs\",le=\"+Inf\"} 1"),
      std::string::npos);
  std::ofstream(s.dir().file("metrics.txt")) << m.body;
  const auto check =
      test::run_process({"sh", "-c", "promtool check metrics < " + s.dir().file("metrics.txt")});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err << m.body;
}

// A client that sends half a request line and stops is cut off at the header deadline, and while
// it waits the (single) worker thread serves others.
// A raw loopback connection to the server (no HTTP client in between).
int connect_raw(const std::string& address) {
  const auto colon = address.rfind(':');
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  timeval tv{.tv_sec = 30, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Everything the server sends until it closes the connection (or 30 s pass).
std::string read_until_closed(int fd) {
  std::string got;
  char buf[4096];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

TEST(Serve, ASlowClientIsCutOffAtTheHeaderDeadline) {
  Served s({}, {.threads = 1, .header_timeout = std::chrono::milliseconds(500)});
  const int fd = connect_raw(s.address());
  ASSERT_GE(fd, 0);
  const auto start = std::chrono::steady_clock::now();
  const std::string partial = "GET /api/v1/runs HTTP/1.1\r\nHost: x\r\n";
  ASSERT_EQ(::send(fd, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  EXPECT_EQ(s.get("/api/v1/runs").status, 200);  // the (single) worker serves others meanwhile
  const std::string got = read_until_closed(fd);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(fd);
  EXPECT_EQ(got, "") << "the server should close the connection without an answer";
  EXPECT_GE(waited, 0.4);
  EXPECT_LT(waited, 20.0);
}

TEST(Serve, AnIdleKeptAliveConnectionIsClosedAtTheIdleDeadline) {
  Served s({}, {.idle_timeout = std::chrono::milliseconds(700)});
  const int fd = connect_raw(s.address());
  ASSERT_GE(fd, 0);
  const auto start = std::chrono::steady_clock::now();
  const std::string request = "GET /api/v1/baselines HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  const std::string got = read_until_closed(fd);  // the answer, then the close
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(fd);
  EXPECT_EQ(got.substr(0, 15), "HTTP/1.1 200 OK") << got;
  EXPECT_NE(got.find("\"baselines\""), std::string::npos) << got;
  EXPECT_GE(waited, 0.6);
  EXPECT_LT(waited, 20.0);
}

// Clients on several threads reading, comparing and uploading at once (TSan sees the store
// lock, the request metrics and concurrent statistics: std::lgamma's race on signgam was found
// so): every upload stored once, every request answered.
TEST(Serve, ConcurrentReadsAndWritesAllSucceed) {
  Served s({.token = "s3cret"}, {.threads = 4});
  const Result first = make_run("detector", "2026-11-01T10:00:00.000Z", 2.0, 1, 100);
  s.store().save(first);
  constexpr int kClients = 6, kEach = 8;
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c)
    clients.emplace_back([&, c] {
      for (int i = 0; i < kEach; ++i) {
        const Result r =
            make_run("detector", fmt::format("2026-11-{:02}T10:00:{:02}.000Z", 2 + c, i), 2.0,
                     static_cast<std::uint64_t>(c * 100 + i), 50);
        if (http_call(s.address(), "POST", "/api/v1/runs", to_json(r), kAuth).status != 201)
          ++failures;
        if (http_call(s.address(), "GET", "/api/v1/runs?limit=5").status != 200) ++failures;
        if (http_call(s.address(), "GET", "/metrics").status != 200) ++failures;
        // The statistics run outside the store lock, on several threads at once.
        if (http_call(s.address(), "GET",
                      "/api/v1/compare?history=0&base=" + first.run_id + "&current=" + r.run_id)
                .status != 200)
          ++failures;
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(s.store().list({.limit = 0}).size(), 1u + kClients * kEach);
}

// The value of an unlabelled sample of `name` in a /metrics scrape; -1 when absent.
double scraped(Served& s, const std::string& name) {
  const std::string body = s.get("/metrics").body;
  const auto at = body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(body.substr(at + name.size() + 2));
}

// The answer cache: an answer is served again while the store is unchanged (X-Cache and the
// hit counter say so), whatever the order or encoding of the query, and computed anew after an
// upload through the API; live routes are never cached.
TEST(Serve, CachedAnswersAreServedAgainUntilAnUploadChangesTheStore) {
  Served s({.token = "s3cret"});
  const Result a = make_run("detector", "2026-11-01T10:00:00.000Z", 2.0, 1, 50);
  s.store().save(a);
  const auto first = s.get("/api/v1/runs?product=detector&limit=10");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.header("x-cache"), "miss");
  EXPECT_EQ(first.header("cache-control"), "no-cache");
  ASSERT_FALSE(first.header("etag").empty());
  const auto again = s.get("/api/v1/runs?limit=1%30&product=detector");  // the same query
  EXPECT_EQ(again.header("x-cache"), "hit");
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("etag"), first.header("etag"));
  EXPECT_EQ(s.get("/api/v1/runs?product=detector&limit=11").header("x-cache"), "miss");  // another
  EXPECT_EQ(scraped(s, "trackiq_serve_cache_hits_total"), 1);
  EXPECT_EQ(scraped(s, "trackiq_serve_cache_misses_total"), 2);
  EXPECT_GT(scraped(s, "trackiq_serve_cache_bytes"), 2.0 * 50);

  // Every read route is cached; the live ones are not.
  for (const std::string& target : std::vector<std::string>{
           "/api/v1/runs/" + a.run_id, "/api/v1/baselines", "/api/v1/openapi.json", "/",
        "/api/v1/history?metric=latency_p50_ms", "/api/v1/changes",
        "/api/v1/compare?history=0&base=" + a.run_id + "&current=" + a.run_id}) {
    const auto one = s.get(target);
    ASSERT_EQ(one.status, 200) << target << ": " << one.body;
    EXPECT_EQ(one.header("x-cache"), "miss") << target;
    const auto two = s.get(target);
    EXPECT_EQ(two.header("x-cache"), "hit") << target;
    EXPECT_EQ(two.body, one.body) << target;
  }
  for (const std::string& target :
       std::vector<std::string>{"/metrics", "/api/v1/runs/" + a.run_id + "/samples"}) {
    const auto live = s.get(target);
    EXPECT_EQ(live.status, 200) << target;
    EXPECT_EQ(live.header("x-cache"), "") << target;
    EXPECT_EQ(live.header("etag"), "") << target;
    EXPECT_EQ(live.header("cache-control"), "no-store") << target;
  }
  EXPECT_EQ(s.get("/api/v1/runs/ffff0000").header("x-cache"), "");  // errors are not kept

  // An upload: the next answer is computed again and shows it.
  const Result b = make_run("detector", "2026-11-02T10:00:00.000Z", 2.0, 2, 50);
  ASSERT_EQ(http_call(s.address(), "POST", "/api/v1/runs", to_json(b), kAuth).status, 201);
  const auto after = s.get("/api/v1/runs?product=detector&limit=10");
  EXPECT_EQ(after.header("x-cache"), "miss");
  EXPECT_EQ(Json::parse(after.body).at("runs").size(), 2u);
  EXPECT_NE(after.header("etag"), first.header("etag"));
  EXPECT_EQ(s.get("/api/v1/runs?product=detector&limit=10").header("x-cache"), "hit");
  // A baseline saved, then the run deleted, through the API: each one a change.
  ASSERT_EQ(http_call(s.address(), "POST", "/api/v1/baselines",
                      Json{{"name", "nightly"}, {"run", b.run_id}}.dump(), kAuth)
                .status,
            201);
  EXPECT_EQ(Json::parse(s.get("/api/v1/baselines").body).at("baselines").size(), 1u);
  // The run of a baseline is refused, naming it, and nothing changes; with_baselines removes both.
  const auto refused = http_call(s.address(), "DELETE", "/api/v1/runs/" + b.run_id, "", kAuth);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(error_of(refused).find("is the run of baseline 'nightly'"), std::string::npos) << refused.body;
  EXPECT_EQ(s.get("/api/v1/runs/" + b.run_id).status, 200);
  ASSERT_EQ(http_call(s.address(), "DELETE", "/api/v1/runs/" + b.run_id + "?with_baselines=true", "", kAuth).status, 200);
  EXPECT_EQ(s.get("/api/v1/runs/" + b.run_id).status, 404);
  EXPECT_EQ(Json::parse(s.get("/api/v1/runs?product=detector&limit=10").body).at("runs").size(), 1u);
  EXPECT_EQ(Json::parse(s.get("/api/v1/baselines").body).at("baselines").size(), 0u);
}

// A write through another connection to the same store — with SQLite, what another process
// (`trackiq run`, `runs import`) does; with PostgreSQL (postgres.Serve.*), a second `serve` on the
// same database, spoken to over HTTP — is seen by the next request.
TEST(Serve, CachedAnswersGoStaleWhenAnotherWriterCommits) {
  Served s({.token = "s3cret"});
  s.store().save(make_run("detector", "2026-11-01T10:00:00.000Z", 2.0, 1, 50));
  auto other_store = store::open_store(s.location());
  Api other_api(*other_store, {.token = "s3cret"});
  HttpServer other(other_api, {.listen = "127.0.0.1:0"});
  const auto count = [&] {
    const auto r = s.get("/api/v1/runs");
    return std::pair(Json::parse(r.body).at("runs").size(), r.header("x-cache"));
  };
  EXPECT_EQ(count(), std::pair(std::size_t{1}, std::string("miss")));
  EXPECT_EQ(count(), std::pair(std::size_t{1}, std::string("hit")));
  // The other server's answers are cached too (its own cache), and it sees the first's writes.
  EXPECT_EQ(http_call(other.address(), "GET", "/api/v1/runs").header("x-cache"), "miss");
  const Result b = make_run("detector", "2026-11-02T10:00:00.000Z", 2.0, 2, 50);
  ASSERT_EQ(http_call(other.address(), "POST", "/api/v1/runs", to_json(b), kAuth).status, 201);
  EXPECT_EQ(count(), std::pair(std::size_t{2}, std::string("miss")));
  EXPECT_EQ(count(), std::pair(std::size_t{2}, std::string("hit")));
  other_store->save(make_run("speech", "2026-11-03T10:00:00.000Z", 1.0, 3, 50));
  EXPECT_EQ(count(), std::pair(std::size_t{3}, std::string("miss")));
  ASSERT_EQ(http_call(s.address(), "DELETE", "/api/v1/runs/" + b.run_id, "", kAuth).status, 200);
  const auto theirs = http_call(other.address(), "GET", "/api/v1/runs");
  EXPECT_EQ(theirs.header("x-cache"), "miss");
  EXPECT_EQ(Json::parse(theirs.body).at("runs").size(), 2u);
  // Both servers give the same answer the same ETag (a hash of the body): behind one balancer,
  // a client's If-None-Match works on either.
  EXPECT_EQ(theirs.header("etag"), s.get("/api/v1/runs").header("etag"));
}

// If-None-Match with the answer's ETag: 304 without a body while the answer is the same, 200
// with the new answer once it changed; with the cache on or off.
TEST(Serve, AnETagThatStillMatchesGets304WithoutABody) {
  for (const std::size_t cache_bytes : {std::size_t{32} << 20, std::size_t{0}}) {
    SCOPED_TRACE(cache_bytes);
    Served s({.token = "s3cret", .cache_bytes = cache_bytes});
    s.store().save(make_run("detector", "2026-11-01T10:00:00.000Z", 2.0, 1, 50));
    const auto full = s.get("/api/v1/runs");
    const std::string etag = full.header("etag");
    ASSERT_EQ(etag.front(), '"');  // strong: no W/
    ASSERT_EQ(etag.back(), '"');
    for (const std::string& header :
         std::vector<std::string>{etag, "W/" + etag, "\"other\", " + etag, "*"}) {
      const auto not_modified = s.get("/api/v1/runs", {{"If-None-Match", header}});
      EXPECT_EQ(not_modified.status, 304) << header;
      EXPECT_EQ(not_modified.body, "") << header;
      EXPECT_EQ(not_modified.header("etag"), etag) << header;
      EXPECT_FALSE(not_modified.headers.contains("content-length")) << header;  // not the 200's
    }
    EXPECT_EQ(s.get("/api/v1/runs", {{"If-None-Match", "\"other\""}}).status, 200);
    EXPECT_EQ(s.get("/api/v1/runs", {{"If-None-Match", "garbage"}}).status, 200);
    EXPECT_EQ(s.get("/api/v1/runs", {{"If-None-Match", "\"" + etag}}).status, 200);
    s.store().save(make_run("detector", "2026-11-02T10:00:00.000Z", 2.0, 2, 50));
    const auto changed = s.get("/api/v1/runs", {{"If-None-Match", etag}});
    EXPECT_EQ(changed.status, 200);
    EXPECT_EQ(Json::parse(changed.body).at("runs").size(), 2u);
    EXPECT_NE(changed.header("etag"), etag);
    // A cached 304 is counted as a hit; off, nothing is counted and nothing says hit or miss.
    if (cache_bytes) {
      EXPECT_EQ(s.get("/api/v1/runs", {{"If-None-Match", changed.header("etag")}}).header("x-cache"),
                "hit");
    } else {
      EXPECT_EQ(changed.header("x-cache"), "");
      EXPECT_EQ(scraped(s, "trackiq_serve_cache_hits_total"), 0);
      EXPECT_EQ(scraped(s, "trackiq_serve_cache_misses_total"), 0);
    }
  }
}

// HEAD (RFC 9110 9.3.2) on a raw keep-alive connection: the status and headers of the same GET,
// Content-Length that GET's body length, not one byte of body (the next request on the
// connection is answered right), on every kind of route and answer; with the cache on and off.
TEST(Serve, HeadIsGetWithoutItsBodyOnEveryReadRoute) {
  for (const std::size_t cache_bytes : {std::size_t{32} << 20, std::size_t{0}}) {
    SCOPED_TRACE(cache_bytes);
    TelemetryRing ring(10);
    ring.begin({{"cpu.util_pct", "%"}});
    ring.row(0, std::vector<double>{12.5});
    Served s({.token = "s3cret", .telemetry = &ring, .cache_bytes = cache_bytes});
    const Result a = make_run("detector", "2026-11-01T10:00:00.000Z", 2.0, 1, 200);
    const Result b = make_run("detector", "2026-11-02T10:00:00.000Z", 2.0, 2, 200);
    s.store().save_all({a, b});
    for (const std::string& target : std::vector<std::string>{
             "/api/v1/runs", "/api/v1/runs?limit=1&product=detector", "/api/v1/runs/" + a.run_id,
             "/api/v1/runs/" + a.run_id + "/samples", "/api/v1/runs/" + a.run_id + "/samples?format=csv",
             "/api/v1/compare?base=" + a.run_id + "&current=" + b.run_id, "/api/v1/baselines",
             "/api/v1/history?metric=latency_p99_ms", "/api/v1/changes", "/api/v1/openapi.json", "/",
             "/assets/dashboard.js", "/assets/uPlot.min.css",
             // errors: their headers and Content-Length, no body either
             "/api/v1/runs?limit=0", "/api/v1/runs/ffffffff", "/nothing", "/assets/nothing.js"}) {
      SCOPED_TRACE(target);
      const auto first = s.get(target);  // a cached route: now in the cache, as for the HEAD
      const auto head = test::http_head(s.address(), target, {}, "/api/v1/openapi.json");
      const auto get = s.get(target);
      ASSERT_NE(head.status, 0);
      EXPECT_EQ(head.status, get.status);
      EXPECT_EQ(head.headers, get.headers);  // Content-Type, Content-Length, ETag, X-Cache, ...
      EXPECT_EQ(head.body, "");
      EXPECT_EQ(head.next_status, 200) << "the connection lost its framing after the HEAD";
      if (get.headers.contains("transfer-encoding")) {  // the streamed samples: no length known
        EXPECT_EQ(head.header("transfer-encoding"), "chunked");
        EXPECT_FALSE(head.headers.contains("content-length"));
      } else {
        EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size()));
        EXPECT_GT(get.body.size(), 0u);
      }
      EXPECT_EQ(get.body, first.body);  // the HEAD left the GET's answer (and cache entry) whole
      if (cache_bytes && get.status == 200 && !get.headers.contains("transfer-encoding")) {
        EXPECT_EQ(head.header("x-cache"), "hit");
      }
    }
    // Live routes: the same fields and a length; their bodies change from one answer to the next.
    for (const std::string target : {"/metrics", "/api/v1/telemetry"}) {
      const auto head = test::http_head(s.address(), target, {}, "/api/v1/openapi.json");
      const auto get = s.get(target);
      EXPECT_EQ(head.status, 200) << target;
      EXPECT_EQ(head.header("content-type"), get.header("content-type")) << target;
      EXPECT_GT(std::stoul("0" + head.header("content-length")), 0u) << target;
      EXPECT_EQ(head.body, "") << target;
      EXPECT_EQ(head.next_status, 200) << target;
    }
    // A HEAD whose If-None-Match names the answer's ETag: 304, as the GET, without a length.
    const auto full = s.get("/api/v1/runs");
    const auto not_modified =
        test::http_head(s.address(), "/api/v1/runs", {{"If-None-Match", full.header("etag")}});
    EXPECT_EQ(not_modified.status, 304);
    EXPECT_EQ(not_modified.header("etag"), full.header("etag"));
    EXPECT_FALSE(not_modified.headers.contains("content-length"));
    EXPECT_EQ(not_modified.body, "");
    EXPECT_EQ(not_modified.next_status, 200);
    EXPECT_EQ(test::http_head(s.address(), "/api/v1/runs", {{"If-None-Match", "\"other\""}}).status,
              200);
    // A route that takes no GET takes no HEAD: 405 with its Allow, headers only.
    const auto refused = test::http_head(s.address(), "/api/v1/baselines/nightly");
    EXPECT_EQ(refused.status, 405);
    EXPECT_EQ(refused.header("allow"), "DELETE");
    EXPECT_EQ(refused.body, "");
    EXPECT_EQ(refused.next_status, 200);
    const auto direct = s.api().handle({.method = "HEAD", .target = "/api/v1/baselines/nightly"});
    EXPECT_EQ(refused.header("content-length"), std::to_string(direct.body.size()));
    EXPECT_EQ(http_call(s.address(), "PUT", "/metrics").header("allow"), "GET, HEAD");
    EXPECT_EQ(http_call(s.address(), "POST", "/", "").header("allow"), "GET, HEAD");
    // HEADs are counted under their own method.
    EXPECT_NE(s.get("/metrics").body.find(
                  "trackiq_http_requests_total{code=\"200\",method=\"HEAD\",route=\"/api/v1/runs\"}"),
              std::string::npos);
  }
  // The samples run is kept whole by GET (the HEAD never ran its generator): checked above by
  // next_status; and HTTP/1.0 gets the gathered length.
  Served s;
  const Result a = make_run("detector", "2026-11-01T10:00:00.000Z", 2.0, 1, 1000);
  s.store().save(a);
  const std::string path = "/api/v1/runs/" + a.run_id + "/samples?format=csv";
  const auto csv = s.get(path);
  const int fd = connect_raw(s.address());
  ASSERT_GE(fd, 0);
  const std::string req = "HEAD " + path + " HTTP/1.0\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  const std::string got = read_until_closed(fd);
  ::close(fd);
  ASSERT_NE(got.find("\r\n\r\n"), std::string::npos) << got;
  EXPECT_EQ(got.substr(0, 15), "HTTP/1.0 200 OK");
  EXPECT_EQ(got.substr(got.find("\r\n\r\n") + 4), "");
  EXPECT_NE(got.find(fmt::format("Content-Length: {}\r\n", csv.body.size())), std::string::npos) << got;
  // A HEAD the HTTP layer refuses itself (an announced body over the limit): headers only too.
  const int big = connect_raw(s.address());
  ASSERT_GE(big, 0);
  const std::string too_large = "HEAD /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n";
  ASSERT_EQ(::send(big, too_large.data(), too_large.size(), 0), static_cast<ssize_t>(too_large.size()));
  const std::string refused = read_until_closed(big);
  ::close(big);
  EXPECT_EQ(refused.substr(0, 12), "HTTP/1.1 413") << refused;
  ASSERT_NE(refused.find("\r\n\r\n"), std::string::npos) << refused;
  EXPECT_EQ(refused.substr(refused.find("\r\n\r\n") + 4), "");
}

// The byte budget: the least recently used answers are dropped to stay within it; an answer
// larger than a quarter of it is not kept.
TEST(Serve, TheCacheStaysWithinItsByteBudget) {
  constexpr std::size_t kBudget = 8192;
  Served s({.cache_bytes = kBudget});
  s.store().save(make_run("detector", "2026-11-01T10:00:00.000Z", 2.0, 1, 50));
  for (int i = 0; i < 60; ++i)  // small answers ({"runs": [], ...}): a few hundred bytes each
    EXPECT_EQ(s.get(fmt::format("/api/v1/runs?product=p{}", i)).header("x-cache"), "miss");
  EXPECT_GT(scraped(s, "trackiq_serve_cache_evictions_total"), 0);
  EXPECT_LE(scraped(s, "trackiq_serve_cache_bytes"), kBudget);
  EXPECT_GT(scraped(s, "trackiq_serve_cache_bytes"), kBudget / 2);
  EXPECT_EQ(s.get("/api/v1/runs?product=p59").header("x-cache"), "hit");  // the newest stay
  EXPECT_EQ(s.get("/api/v1/runs?product=p0").header("x-cache"), "miss");  // the oldest went
  // The OpenAPI document is larger than a quarter of 8 KiB: never kept.
  ASSERT_GT(s.get("/api/v1/openapi.json").body.size(), kBudget / 4);
  EXPECT_EQ(s.get("/api/v1/openapi.json").header("x-cache"), "miss");
}

// Clients on several threads read while runs are written, through this server and through
// another connection: no answer may be older than a write that completed before its request
// began (each reader notes how many writes had completed when it sent the request).
TEST(Serve, ConcurrentReadersNeverSeeAnAnswerOlderThanACompletedWrite) {
  Served s({.token = "s3cret"}, {.threads = 4});
  auto other = store::open_store(s.location());
  constexpr int kWrites = 16, kReaders = 4;
  std::atomic<int> completed{0};
  std::atomic<bool> done{false};
  std::atomic<int> stale{0}, failures{0}, reads{0};
  std::vector<std::thread> readers;
  for (int c = 0; c < kReaders; ++c)
    readers.emplace_back([&] {
      while (!done.load()) {
        const int before = completed.load();
        const auto r = http_call(s.address(), "GET", "/api/v1/runs?limit=1000");
        if (r.status != 200) {
          ++failures;
          continue;
        }
        ++reads;
        if (static_cast<int>(Json::parse(r.body).at("runs").size()) < before) ++stale;
      }
    });
  for (int i = 0; i < kWrites; ++i) {
    const Result r = make_run("detector", fmt::format("2026-11-01T10:00:{:02}.000Z", i), 2.0,
                              static_cast<std::uint64_t>(i), 20);
    if (i % 2) {
      other->save(r);
    } else if (http_call(s.address(), "POST", "/api/v1/runs", to_json(r), kAuth).status != 201) {
      ++failures;
    }
    completed.store(i + 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // readers hit the cache between
  }
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(stale.load(), 0) << "of " << reads.load() << " reads";
  EXPECT_GT(scraped(s, "trackiq_serve_cache_hits_total"), 0);
  EXPECT_EQ(Json::parse(s.get("/api/v1/runs?limit=1000").body).at("runs").size(), std::size_t{kWrites});
}

TEST(Serve, RefusesABadListenAddressAndSaysWhenItCannotBind) {
  auto st = store::open_store(test::TempDir().file("x.db"));
  Api api(*st, {});
  EXPECT_THROW(HttpServer(api, {.listen = "localhost"}), InputError);
  EXPECT_THROW(HttpServer(api, {.listen = "127.0.0.1:99999"}), InputError);
  HttpServer first(api, {.listen = "127.0.0.1:0"});
  EXPECT_THROW(HttpServer(api, {.listen = first.address()}), NotAvailableError);
}

}  // namespace
}  // namespace trackiq::server
