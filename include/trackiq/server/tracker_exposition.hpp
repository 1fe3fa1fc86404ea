#pragma once
// The exports of an in-process Tracker (issue #15, LIB-3): its Prometheus exposition (the naming
// and prometheus-cpp serializer of `trackiq serve`), a JSON summary of its snapshot, its canonical
// result, an HTTP handler a host program mounts in its own server, serve() for a host that has
// none, and save() into the results store. They live in the server module, not in the tracker
// library, so a host that only records links nothing of HTTP or Prometheus (docs/architecture.md).
//
//   trackiq::tracker::Tracker tracker({.service = "tts"});
//   // A host with its own HTTP server, in its request callback:
//   auto r = trackiq::server::handle_tracker_request(tracker, method, target, accept_header);
//   reply(r.status, r.content_type, r.body);          // 404 for paths that are not ours
//   // A host without one:
//   auto exposition = trackiq::server::serve(tracker, "127.0.0.1:9102");
//   std::cout << exposition.address() << '\n';        // "127.0.0.1:9102"; stops when destroyed
//   // At the end of a production window:
//   trackiq::server::save(tracker, *trackiq::store::open_store("runs.db"));
//
// Paths (GET and HEAD): /metrics (Prometheus text 0.0.4), /metrics/summary (tracker_summary_json),
// /metrics/export (the canonical result JSON of Tracker::to_result(), the document
// `trackiq runs import`, `compare` and `report` read). docs/metrics.md "Tracker exposition" lists
// every series.
#include <memory>
#include <string>
#include <string_view>

#include "trackiq/server/http.hpp"
#include "trackiq/server/http_server.hpp"
#include "trackiq/store/store.hpp"
#include "trackiq/tracker/tracker.hpp"

namespace trackiq::server {

// The Prometheus text exposition (format 0.0.4) of a snapshot. `service` becomes the label of
// trackiq_tracker_info. Latency families are histograms in seconds whose bucket bounds are edges
// of the tracker's lossless histogram buckets (so every cumulative count is exact); value
// histograms are in their base unit. Pure; locale-independent.
std::string tracker_metrics_text(const tracker::Snapshot& snapshot, std::string_view service = "service");

// The snapshot as JSON (/metrics/summary): the same numbers as Tracker::snapshot(), latencies in
// ms, with the validate() violations (an empty list when every invariant holds).
std::string tracker_summary_json(const tracker::Snapshot& snapshot, std::string_view service = "service");

// Answers one request for a tracker's exposition: GET /metrics, /metrics/summary or
// /metrics/export (a query string is ignored); HEAD as GET, body included (the host's server
// sends the status and headers with that body's Content-Length, and not the body, as HttpServer
// does); 405 (Allow: GET, HEAD) for another method on those paths, 406 when `accept` admits none
// of the path's content type, 404 for any other path. Thread-safe (the tracker's snapshot() is);
// never throws (a failure is a 500 with a message).
HttpResponse handle_tracker_request(const tracker::Tracker& tracker, std::string_view method,
                                    std::string_view target, std::string_view accept = "");

// A tracker's exposition served over HTTP (HttpServer: Boost.Beast on its own threads). Stops
// (and joins its threads) when destroyed or at stop(). Movable.
class TrackerServer {
 public:
  explicit TrackerServer(std::unique_ptr<HttpServer> server) : server_(std::move(server)) {}
  // "HOST:PORT" as bound (the chosen port when 0 was asked).
  std::string address() const { return server_ ? server_->address() : std::string(); }
  void stop() {
    if (server_) server_->stop();
  }

 private:
  std::unique_ptr<HttpServer> server_;
};

// Serves handle_tracker_request(tracker, …) at `listen` ("HOST:PORT", port 0 picks a free one),
// on `threads` threads. InputError for a malformed address, NotAvailableError when it cannot
// bind. The tracker must outlive the returned server.
TrackerServer serve(const tracker::Tracker& tracker, const std::string& listen = "127.0.0.1:9102",
                    unsigned threads = 1);

// Stores tracker.to_result() (one transaction) and returns its run id, so the window shows in
// `trackiq runs`, `compare`, `report` and `history`.
std::string save(const tracker::Tracker& tracker, store::Store& store);

}  // namespace trackiq::server
