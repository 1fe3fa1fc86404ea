// A small inference HTTP server instrumented with TrackIQ's Tracker (issue #15, item 7).
//
// It serves a built-in LibTorch model (an MLP of 64 → 256 → 10, seeded weights) over HTTP/1.1
// with Boost.Beast, one thread per connection, and mounts TrackIQ's exposition handler in its
// own request routing:
//
//   POST /infer             body: up to 64 numbers, e.g. [0.5, 1, 2] (missing inputs are 0)
//                           → {"class": 3, "scores": [...]}; phases preprocess / infer /
//                           postprocess; a body that is not a list of numbers is a 400 and a
//                           failed request of class "bad_input"
//   GET  /metrics           Prometheus text (trackiq::server::handle_tracker_request)
//   GET  /metrics/summary   the tracker's snapshot as JSON
//   GET  /metrics/export    the canonical result (trackiq report / compare read it)
//   HEAD on the three        as GET, without the body
//
//   trackiq_example_cpp_server [--listen 127.0.0.1:0] [--threads N] [--store FILE]
//
// It prints "listening on http://HOST:PORT" once bound, and on SIGINT/SIGTERM stops, prints the
// tracker's summary and, with --store, saves the window into a TrackIQ store (trackiq runs list).
#include <torch/torch.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "trackiq/server/tracker_exposition.hpp"
#include "trackiq/store/store.hpp"
#include "trackiq/tracker/tracker.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct MlpImpl : torch::nn::Module {
  static constexpr std::int64_t kIn = 64, kHidden = 256, kOut = 10;
  torch::nn::Sequential net;
  MlpImpl() {
    net = register_module("net", torch::nn::Sequential(torch::nn::Linear(kIn, kHidden), torch::nn::ReLU(),
                                                       torch::nn::Linear(kHidden, kOut)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return net->forward(x); }
};
TORCH_MODULE(Mlp);

struct Server {
  trackiq::tracker::Tracker tracker{trackiq::tracker::TrackerOptions{.service = "example-mlp"}};
  Mlp model;
  std::uint32_t preprocess = tracker.phase_id("preprocess");
  std::uint32_t infer = tracker.phase_id("infer");
  std::uint32_t postprocess = tracker.phase_id("postprocess");
  std::atomic<std::uint64_t> next_id{0};

  http::response<http::string_body> handle(const http::request<http::string_body>& req) {
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.keep_alive(req.keep_alive());
    const std::string_view target(req.target().data(), req.target().size());
    if (target.starts_with("/metrics")) {
      const auto accept = req.find(http::field::accept);
      const std::string method(req.method_string());
      const std::string accepted = accept == req.end() ? std::string() : std::string(accept->value());
      const auto r = trackiq::server::handle_tracker_request(tracker, method, target, accepted);
      res.result(static_cast<unsigned>(r.status));
      res.set(http::field::content_type, r.content_type);
      for (const auto& [k, v] : r.headers) res.set(k, v);
      res.body() = r.body;
    } else if (target == "/infer" && req.method() == http::verb::post) {
      res = infer_request(req);
    } else {
      res.result(http::status::not_found);
      res.set(http::field::content_type, "application/json");
      res.body() = R"({"error": "POST /infer, GET /metrics, /metrics/summary or /metrics/export"})";
    }
    res.prepare_payload();
    // HEAD (curl -I, health checks): handle_tracker_request answers it as GET; the headers and
    // the Content-Length of that body go out, the body does not (RFC 9110 9.3.2).
    if (req.method() == http::verb::head) {
      const auto length = res.body().size();
      res.body().clear();
      res.content_length(length);
    }
    return res;
  }

  http::response<http::string_body> infer_request(const http::request<http::string_body>& req) {
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.keep_alive(req.keep_alive());
    res.set(http::field::content_type, "application/json");
    auto r = tracker.begin_request("infer-" + std::to_string(next_id.fetch_add(1)));
    torch::Tensor x;
    {
      auto p = r.phase(preprocess);
      std::vector<float> in(MlpImpl::kIn, 0.0f);
      const auto body = nlohmann::json::parse(req.body(), nullptr, false);
      if (!req.body().empty() && (!body.is_array() || body.size() > in.size())) {
        r.fail("the body is not a list of at most 64 numbers", "bad_input");
        res.result(http::status::bad_request);
        res.body() = R"({"error": "the body must be a JSON list of at most 64 numbers"})";
        return res;
      }
      if (body.is_array())
        for (std::size_t i = 0; i < body.size(); ++i) in[i] = body[i].is_number() ? body[i].get<float>() : 0.0f;
      x = torch::from_blob(in.data(), {1, MlpImpl::kIn}, torch::kFloat32).clone();
    }
    torch::Tensor y;
    {
      auto p = r.phase(infer);
      torch::NoGradGuard no_grad;
      y = model->forward(x);
    }
    {
      auto p = r.phase(postprocess);
      const auto scores = y.contiguous();
      const float* s = scores.data_ptr<float>();
      nlohmann::json out{{"class", scores.argmax(1).item<std::int64_t>()},
                         {"scores", std::vector<float>(s, s + MlpImpl::kOut)}};
      res.body() = out.dump();
    }
    return res;
  }
};

// One connection: requests until the peer closes or the server stops.
void serve_connection(Server& server, tcp::socket socket) {
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    http::request<http::string_body> req;
    http::read(socket, buffer, req, ec);
    if (ec) break;
    auto res = server.handle(req);
    http::write(socket, res, ec);
    if (ec || !res.keep_alive()) break;
  }
  socket.shutdown(tcp::socket::shutdown_send, ec);
}

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0", store;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--listen") listen = argv[i + 1];
    else if (flag == "--store") store = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: %s [--listen HOST:PORT] [--store FILE]\n", argv[0]);
      return 2;
    }
  }
  torch::manual_seed(0);
  torch::set_num_threads(1);
  Server server;
  server.model->eval();

  const auto colon = listen.rfind(':');
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc);
  try {
    const tcp::endpoint ep(asio::ip::make_address(listen.substr(0, colon)),
                           static_cast<unsigned short>(std::stoi(listen.substr(colon + 1))));
    acceptor.open(ep.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cannot listen on %s: %s\n", listen.c_str(), e.what());
    return 2;
  }
  const auto bound = acceptor.local_endpoint();
  std::printf("listening on http://%s:%u\n", bound.address().to_string().c_str(), bound.port());
  std::fflush(stdout);

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  // The acceptor is polled so a signal ends the loop: non-blocking accept, 10 ms sleeps when idle.
  acceptor.non_blocking(true);
  std::vector<std::thread> connections;
  while (!g_stop) {
    beast::error_code ec;
    tcp::socket socket(ioc);
    acceptor.accept(socket, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (ec) break;
    socket.non_blocking(false);
    connections.emplace_back(serve_connection, std::ref(server), std::move(socket));
  }
  // The summary is of the requests that ended; connections still open are cut at exit.
  for (auto& t : connections) t.detach();
  std::cout << trackiq::server::tracker_summary_json(server.tracker.snapshot(), server.tracker.options().service);
  if (!store.empty()) {
    const std::string id = trackiq::server::save(server.tracker, *trackiq::store::open_store(store));
    std::cout << "stored run " << id << " in " << store << "\n";
  }
  std::cout.flush();
  std::fflush(stdout);
  std::_Exit(0);  // detached connection threads may still hold the tracker
}
