// The HTTP/1.1 load engine: see engine.hpp for the model. One Worker per thread, each with its
// own io_context, connections and records; a Conn runs one request at a time (no pipelining).
#include "trackiq/load/engine.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <fmt/format.h>

#include "trackiq/core/clock.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/load/openai_stream.hpp"
#include "trackiq/load/sse.hpp"

namespace trackiq::load {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr std::size_t kWavHeadBytes = 4096;
constexpr std::size_t kErrorHeadBytes = 200;  // the start of an error answer's body, for its message
constexpr std::uint64_t kMinFinishedForErrorRate = 50;
constexpr std::chrono::milliseconds kConnectBackoff{10};

std::int64_t thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double process_cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

Clock::time_point to_time_point(std::int64_t ns) { return Clock::time_point(std::chrono::nanoseconds(ns)); }

class Worker;

// Open loop: a due request that its home thread could not send at once.
struct Waiting {
  std::uint64_t index = 0;        // request number
  std::int64_t t_dispatch_ns = 0;  // when its home thread took it up
};

// What all threads share. Read-mostly; the open loop's waiting queue is the one lock, taken only
// by a request that finds every connection of its home thread busy, by a thread whose connection
// frees while requests wait, and by the 5 ms sweep while requests wait.
struct Shared {
  const EngineOptions& o;
  std::vector<tcp::endpoint> endpoints;
  std::int64_t t0 = 0;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> issued{0};  // closed loop with max_requests
  std::atomic<std::uint64_t> finished{0}, failed{0};  // only with max_error_rate
  std::atomic<bool> stop_reason_set{false};
  std::string stop_reason;  // written once, by the thread that set stop_reason_set

  // Open loop. Every thread's idle connections serve one queue, so the whole pool is the
  // client's capacity: a request never waits for a busy connection of its own thread while
  // another thread has an idle one.
  std::vector<Worker*> workers;  // set before the threads start; read-only afterwards
  std::mutex waiting_mutex;
  std::deque<Waiting> waiting;  // guarded by waiting_mutex; in the order the requests fell due
  // waiting.size(), readable without the lock. With each Worker::idle_count it forms a Dekker
  // pair (both seq_cst): a thread that queues a request raises `queued`, then reads every
  // idle_count; a thread that frees a connection raises its idle_count, then reads `queued`. One
  // of the two always sees the other, so no request waits while a connection is idle.
  std::atomic<std::size_t> queued{0};
  // Open loop: schedule entries not yet settled (answered, failed, given up or not sent). A
  // thread stays until it is 0, ready to serve the others' requests.
  std::atomic<std::uint64_t> unsettled{0};
};

// The response parser: hands status and body bytes (de-chunked) to its connection.
class Parser final : public http::basic_parser<false> {
 public:
  using string_view = boost::beast::string_view;
  explicit Parser(class Conn& c) : conn_(c) {
    header_limit(64 * 1024);
    body_limit(std::numeric_limits<std::uint64_t>::max());  // audio and long streams (1.74 mishandles boost::none)
  }
  int status = 0;

 private:
  void on_request_impl(http::verb, string_view, string_view, int, error_code&) override {}
  void on_response_impl(int code, string_view, int, error_code&) override { status = code; }
  void on_field_impl(http::field, string_view, string_view, error_code&) override {}
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override { return on_body_impl(body, ec); }
  void on_finish_impl(error_code&) override {}

  class Conn& conn_;
};

class Conn {
 public:
  Conn(Worker& w, net::io_context& io, ssl::context* tls_ctx, const std::string& sni);
  void start(std::size_t record);  // runs one request
  // Opens the connection ahead of the run (connect(false)): a failure leaves it closed, and the
  // first request connects again and reports what happens.
  void preconnect() { connect(false); }
  bool connected() const noexcept { return connected_; }
  void abort(ErrorClass error, std::string message);  // from the timeout sweep
  void close();
  void on_body(std::string_view body);
  void send_deferred() {
    if (!send_deferred_) return;
    send_deferred_ = false;
    send();
  }

  bool busy = false;
  std::int64_t t_started = 0;
  net::steady_timer backoff;  // closed loop: the pause after a failed connect  // when start() took the request (the timeout counts from here)

 private:
  using Stream = ssl::stream<tcp::socket>;
  void connect(bool request = true);
  void send();
  void read();
  void on_read(const error_code& ec, std::size_t n);
  void complete(std::int64_t t);
  void fail(ErrorClass error, std::string message);
  void done();
  RequestRecord& rec();
  LlmRequestRecord* llm();
  template <class Buffers, class Handler>
  void async_write(const Buffers& b, Handler&& h);
  template <class Buffers, class Handler>
  void async_read_some(const Buffers& b, Handler&& h);

  Worker& w_;
  net::io_context& io_;
  ssl::context* tls_ctx_;
  std::string sni_;
  // Shared, and captured by every pending operation's handler (keeper()): closing a connection
  // with a read in flight (a timeout) must not free the stream the cancelled operation still
  // touches when its handler runs.
  std::shared_ptr<tcp::socket> sock_;
  std::shared_ptr<Stream> tls_;
  std::shared_ptr<void> keeper() const {
    if (tls_) return tls_;
    return sock_;
  }
  bool connected_ = false;
  bool reused_ = false;   // the request started on a connection that was already open
  bool retried_ = false;  // it was sent again after that connection turned out closed
  bool send_deferred_ = false;  // waits in Worker::deferred_ for the end of the current batch
  std::uint64_t gen_ = 0;  // bumped by close(): handlers of an older generation do nothing
  std::size_t record_ = 0;
  std::string buf_;
  std::size_t beg_ = 0, end_ = 0;
  std::optional<Parser> parser_;
  SseReader sse_;
  std::vector<SseEvent> events_;
  std::string wav_head_;
  std::string error_head_;  // the first kErrorHeadBytes of a body with status >= 400
  std::int64_t t_read_ = 0;  // the clock reading of the read being parsed
};

class Worker {
 public:
  Worker(Shared& s, unsigned id, unsigned connections, std::vector<std::uint64_t> due);
  void run();

  Shared& s;
  const EngineOptions& o;
  unsigned id;
  // Closed loop: only this worker's thread ever touches its io_context (sockets are opened by the
  // main thread before the worker starts), so Asio's internal locking is switched off. Open loop:
  // other threads post on_help() to it, so it keeps its locking, with the hint that one thread
  // runs it (measured on a loaded 2-core machine, 1 connection, 100 req/s: 12-20 % of due
  // requests taken up over 1 ms late with BOOST_ASIO_CONCURRENCY_HINT_SAFE, 4-5 % with this
  // hint, as without locking).
  net::io_context io{o.schedule_ns.empty() ? BOOST_ASIO_CONCURRENCY_HINT_UNSAFE : BOOST_ASIO_CONCURRENCY_HINT_1};
  std::unique_ptr<ssl::context> tls_ctx;
  std::vector<std::unique_ptr<Conn>> conns;
  std::vector<Conn*> idle;  // open loop: this thread's free connections
  // idle.size(): written by this thread (seq_cst, see Shared::queued), read by any.
  std::atomic<std::size_t> idle_count{0};
  std::vector<RequestRecord> records;
  std::vector<LlmRequestRecord> llm;
  std::map<std::string, std::string> examples;
  double busy = 0;
  std::uint64_t not_sent = 0;
  std::string sched;  // this thread's scheduling policy, read back from the kernel

  void finished(Conn& c, const RequestRecord& r);
  void account(const RequestRecord& r);  // --max-error-rate bookkeeping
  void note_error(ErrorClass e, const std::string& message) {
    examples.try_emplace(std::string(to_string(e)), message);
  }
  // A request on an open plain connection is written once the handlers of the current batch of
  // ready events have run, all the batch's requests in a row, as wrk does: the server, woken by
  // the first, finds the rest queued instead of being woken between our reads (+3 % requests/s
  // against nginx on shared cores; docs/performance.md §8). t_send is stamped at the write.
  void defer_send(Conn& c) {
    deferred_.push_back(&c);
    if (deferred_.size() == 1) net::post(io, [this] { flush_sends(); });
  }

 private:
  void next_closed(Conn& c);
  void on_due();
  // Open loop, on this thread. take_up: a request of this thread fell due; it goes out on an
  // idle connection, or joins Shared::waiting behind those already there. serve_waiting: this
  // thread's idle connections take from Shared::waiting. call_for_help: posts on_help() to
  // another thread with an idle connection while requests wait.
  void take_up(const Waiting& w);
  void serve_waiting();
  void call_for_help();
  void on_help();
  std::optional<Waiting> pop_waiting();
  std::size_t scheduled_record(const Waiting& w);  // open loop: new_record() for a schedule entry
  Conn& take_idle();
  void make_idle(Conn& c);
  void give_up_waiting(std::int64_t t);  // Shared::waiting entries past the timeout fail as client_queue
  void settle() {
    if (!o.schedule_ns.empty()) s.unsettled.fetch_sub(1);
  }
  void sweep();
  std::size_t new_record(std::uint64_t index, std::int64_t t_sched, bool warmup);
  bool finished_all() const;

  void flush_sends() {
    flushing_.swap(deferred_);
    for (Conn* c : flushing_) c->send_deferred();  // a close() since cleared its flag
    flushing_.clear();
  }
  std::vector<Conn*> deferred_, flushing_;
  std::vector<std::uint64_t> due_;  // open loop: this thread's request numbers, in schedule order
  std::size_t next_due_ = 0;
  std::uint64_t closed_count_ = 0;  // closed loop: requests this thread started
  net::steady_timer due_timer_{io};
  net::steady_timer sweep_timer_{io};
};

// --- Conn -------------------------------------------------------------------------------------

std::size_t Parser::on_body_impl(string_view body, error_code&) {
  conn_.on_body(std::string_view(body.data(), body.size()));
  return body.size();
}

Conn::Conn(Worker& w, net::io_context& io, ssl::context* tls_ctx, const std::string& sni)
    : backoff(io), w_(w), io_(io), tls_ctx_(tls_ctx), sni_(sni), sse_(w.o.max_sse_event_bytes) {
  buf_.resize(kReadBuffer);
}

RequestRecord& Conn::rec() { return w_.records[record_]; }
LlmRequestRecord* Conn::llm() { return w_.o.sse ? &w_.llm[record_] : nullptr; }

template <class Buffers, class Handler>
void Conn::async_write(const Buffers& b, Handler&& h) {
  auto kept = [k = keeper(), h = std::forward<Handler>(h)](const error_code& ec, std::size_t n) mutable { h(ec, n); };
  if (tls_) net::async_write(*tls_, b, std::move(kept));
  else net::async_write(*sock_, b, std::move(kept));
}

template <class Buffers, class Handler>
void Conn::async_read_some(const Buffers& b, Handler&& h) {
  auto kept = [k = keeper(), h = std::forward<Handler>(h)](const error_code& ec, std::size_t n) mutable { h(ec, n); };
  if (tls_) tls_->async_read_some(b, std::move(kept));
  else sock_->async_read_some(b, std::move(kept));
}

void Conn::close() {
  ++gen_;
  connected_ = false;
  send_deferred_ = false;
  error_code ignored;
  if (tls_) {
    tls_->lowest_layer().close(ignored);
    tls_.reset();
  } else if (sock_) {
    sock_->close(ignored);
  }
  sock_.reset();
}

void Conn::start(std::size_t record) {
  busy = true;
  record_ = record;
  reused_ = connected_;
  retried_ = false;
  parser_.reset();
  t_started = now_ns();
  if (!connected_) {
    connect();
  } else if (!tls_ && w_.o.schedule_ns.empty()) {  // the open loop sends at once: on schedule
    send_deferred_ = true;
    w_.defer_send(*this);
  } else {
    send();
  }
}

void Conn::connect(bool request) {
  close();
  const std::uint64_t gen = gen_;
  const auto failed = [this, request](ErrorClass e, std::string why) {
    if (request) fail(e, std::move(why));
    else close();  // a pre-connect: the first request connects again and reports what happens
  };
  const auto ready = [this, request] {
    connected_ = true;
    if (request) send();
  };
  if (tls_ctx_) {
    tls_ = std::make_shared<Stream>(io_, *tls_ctx_);
    if (!SSL_set_tlsext_host_name(tls_->native_handle(), sni_.c_str())) {
      // Posted, not called: a synchronous fail() would start the next request here, which would
      // fail the same way, recursing.
      net::post(io_, [gen, failed, this] {
        if (gen == gen_) failed(ErrorClass::connect, "TLS: cannot set the server name");
      });
      return;
    }
    if (!w_.o.insecure_tls) tls_->set_verify_callback(ssl::host_name_verification(sni_));
  } else {
    sock_ = std::make_shared<tcp::socket>(io_);
  }
  tcp::socket& s = tls_ ? tls_->next_layer() : *sock_;
  net::async_connect(s, w_.s.endpoints, [this, gen, failed, ready, k = keeper()](const error_code& ec, const tcp::endpoint&) {
    if (gen != gen_) return;
    if (ec) {
      failed(ErrorClass::connect, fmt::format("connect to {}:{}: {}", w_.o.url.host, w_.o.url.port, ec.message()));
      return;
    }
    error_code ignored;
    (tls_ ? tls_->next_layer() : *sock_).set_option(tcp::no_delay(true), ignored);
    if (!tls_) {
      sock_->non_blocking(true, ignored);
      ready();
      return;
    }
    tls_->async_handshake(ssl::stream_base::client, [this, gen, failed, ready, k = keeper()](const error_code& hec) {
      if (gen != gen_) return;
      if (hec) {
        failed(ErrorClass::connect, fmt::format("TLS handshake with {}: {}", w_.o.url.host, hec.message()));
        return;
      }
      ready();
    });
  });
}

void Conn::send() {
  RequestRecord& r = rec();
  const std::string& bytes = w_.o.requests[r.index % w_.o.requests.size()];
  r.t_send_ns = now_ns();
  if (LlmRequestRecord* l = llm()) l->t_send_ns = r.t_send_ns;
  parser_.emplace(*this);
  if (bytes.compare(0, 5, "HEAD ") == 0) parser_->skip(true);
  beg_ = end_ = 0;
  wav_head_.clear();
  error_head_.clear();
  const std::uint64_t gen = gen_;
  const auto on_written = [this, gen](const error_code& ec, std::size_t) {
    if (gen != gen_) return;
    if (ec) {
      // A kept-alive connection the server closed while idle fails here or at the first read.
      fail(ec == net::error::connection_reset || ec == net::error::broken_pipe ? ErrorClass::reset : ErrorClass::closed,
           fmt::format("write: {}", ec.message()));
      return;
    }
    read();
  };
  if (tls_) {
    async_write(net::buffer(bytes), on_written);
    return;
  }
  // Plain TCP: write at once on the non-blocking socket (a request nearly always fits the socket
  // buffer), and only fall back to the reactor for what did not fit.
  std::size_t written = 0;
  error_code ec;
  while (written < bytes.size()) {
    const std::size_t n = sock_->write_some(net::buffer(bytes.data() + written, bytes.size() - written), ec);
    if (ec) break;
    written += n;
  }
  if (ec == net::error::would_block || ec == net::error::try_again) {
    async_write(net::buffer(bytes.data() + written, bytes.size() - written), on_written);
    return;
  }
  on_written(ec, written);
}

void Conn::read() {
  if (end_ == buf_.size()) {  // a header larger than the buffer: make room
    if (beg_ > 0) {
      std::memmove(buf_.data(), buf_.data() + beg_, end_ - beg_);
      end_ -= beg_;
      beg_ = 0;
    } else {
      buf_.resize(buf_.size() * 2);
    }
  }
  // async_read_some, not async_wait + read: after a read that drained the socket Asio queues the
  // next read without a system call until epoll reports data (sendto, epoll_wait, recvfrom per
  // request), while async_wait re-arms the descriptor with epoll_ctl each time.
  const std::uint64_t gen = gen_;
  async_read_some(net::buffer(buf_.data() + end_, buf_.size() - end_), [this, gen](const error_code& ec, std::size_t n) {
    if (gen != gen_) return;
    on_read(ec, n);
  });
}

void Conn::on_body(std::string_view body) {
  RequestRecord& r = rec();
  r.response_bytes += body.size();
  // An error answer (its status line is parsed before any body byte) is neither audio nor a
  // stream, whatever was asked for: its first bytes are the server's message.
  if (parser_->status >= 400) {
    error_head_.append(body.substr(0, kErrorHeadBytes - std::min(kErrorHeadBytes, error_head_.size())));
    return;
  }
  // The first bytes of a WAV body, for its duration; any other body stops being copied after the
  // four bytes that show it is not RIFF.
  for (std::string_view rest = body; w_.o.wav && !rest.empty() && wav_head_.size() < kWavHeadBytes &&
                                     (wav_head_.size() < 4 || wav_head_.starts_with("RIFF"));) {
    const std::size_t n = std::min(rest.size(), (wav_head_.size() < 4 ? 4 : kWavHeadBytes) - wav_head_.size());
    wav_head_.append(rest.substr(0, n));
    rest.remove_prefix(n);
  }
  if (LlmRequestRecord* l = llm()) {
    events_.clear();
    sse_.feed(body, t_read_, events_);
    for (const SseEvent& e : events_) record_stream_event(*l, classify_openai_event(e), e.t_ns);
  }
}

void Conn::on_read(const error_code& ec, std::size_t n) {
  const std::int64_t t = now_ns();
  t_read_ = t;
  RequestRecord& r = rec();
  if (n > 0 && r.t_first_byte_ns == 0) {
    r.t_first_byte_ns = t;
    if (LlmRequestRecord* l = llm()) l->t_first_byte_ns = t;
  }
  end_ += n;
  if (ec) {
    if (ec == net::error::eof || ec == ssl::error::stream_truncated) {
      error_code pec;
      if (parser_->got_some()) parser_->put_eof(pec);  // a body delimited by the end of the connection
      if (!pec && parser_->is_done()) {
        connected_ = false;
        complete(t);
        return;
      }
      fail(ErrorClass::closed, r.t_first_byte_ns ? "the server closed the connection mid-response"
                                                 : "the server closed the connection without a response");
      return;
    }
    fail(ec == net::error::connection_reset ? ErrorClass::reset : ErrorClass::closed, fmt::format("read: {}", ec.message()));
    return;
  }
  while (beg_ < end_ && !parser_->is_done()) {
    error_code pec;
    const std::size_t used = parser_->put(net::buffer(buf_.data() + beg_, end_ - beg_), pec);
    beg_ += used;
    if (pec == http::error::need_more) break;
    if (pec) {
      std::string excerpt = printable_excerpt(std::string_view(buf_.data(), std::min<std::size_t>(end_, 80)), 80);
      fail(ErrorClass::malformed, fmt::format("not an HTTP/1.1 response ({}): {}", pec.message(), excerpt));
      return;
    }
    if (used == 0) break;
    if (parser_->is_done() && parser_->status >= 100 && parser_->status < 200 && parser_->status != 101) {
      parser_.emplace(*this);  // an interim response (100 Continue, 103 Early Hints): the real one follows
    }
  }
  if (parser_->is_done()) {
    complete(t);
    return;
  }
  if (beg_ == end_) beg_ = end_ = 0;
  read();
}

void Conn::complete(std::int64_t t) {
  RequestRecord& r = rec();
  r.t_done_ns = t;
  r.status = static_cast<std::uint16_t>(parser_->status);
  const bool keep = parser_->keep_alive() && connected_;
  if (w_.o.wav) {
    if (const auto d = wav_duration_s(wav_head_, r.response_bytes)) r.audio_s = *d;
  }
  if (r.status >= 400) {
    // Before the stream's verdict: a JSON error body is not an SSE stream cut mid-event.
    r.error = ErrorClass::http_status;
    const std::string why = error_head_.empty() ? fmt::format("HTTP {}", r.status)
                                                : fmt::format("HTTP {}: {}", r.status, printable_excerpt(error_head_));
    w_.note_error(r.error, why);
    if (LlmRequestRecord* l = llm()) {
      sse_.reset();
      l->fail("http_status", why);
      l->t_done_ns = t;
    }
  } else if (LlmRequestRecord* l = llm()) {
    record_stream_end(*l, sse_.finish(), t);
    if (!l->ok) {
      r.error = l->error_class == "stream_error" ? ErrorClass::stream_error : ErrorClass::protocol;
      w_.note_error(r.error, l->error_message);
    }
  }
  if (!keep) close();
  beg_ = end_ = 0;
  done();
}

void Conn::fail(ErrorClass error, std::string message) {
  RequestRecord& r = rec();
  // A kept-alive connection the server closed while it sat idle (its keep-alive timeout) fails
  // before any response byte: like browsers and HTTP libraries, send once more on a new
  // connection rather than count the server's housekeeping as its failure.
  if (w_.o.retry_stale && (error == ErrorClass::closed || error == ErrorClass::reset) && reused_ && !retried_ &&
      r.t_first_byte_ns == 0) {
    retried_ = true;
    r.retried = true;
    reused_ = false;
    connect();  // asynchronous: sends again (t_send restamped, t_sched kept) once connected
    return;
  }
  r.error = error;
  r.t_done_ns = now_ns();
  if (parser_) r.status = static_cast<std::uint16_t>(parser_->status);
  parser_.reset();
  if (LlmRequestRecord* l = llm()) {
    l->fail(std::string(to_string(error)), message);
    l->t_done_ns = r.t_done_ns;
  }
  w_.note_error(error, message);
  sse_.reset();
  close();
  done();
}

void Conn::abort(ErrorClass error, std::string message) { fail(error, std::move(message)); }

void Conn::done() {
  busy = false;
  w_.finished(*this, rec());
}

// --- Worker -----------------------------------------------------------------------------------

Worker::Worker(Shared& shared, unsigned id_, unsigned connections, std::vector<std::uint64_t> due)
    : s(shared), o(shared.o), id(id_), due_(std::move(due)) {
  if (o.url.tls()) {
    tls_ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    if (o.insecure_tls) {
      tls_ctx->set_verify_mode(ssl::verify_none);
    } else {
      tls_ctx->set_default_verify_paths();
      tls_ctx->set_verify_mode(ssl::verify_peer);
    }
  }
  for (unsigned i = 0; i < connections; ++i)
    conns.push_back(std::make_unique<Conn>(*this, io, tls_ctx.get(), o.url.host));
  records.reserve(o.schedule_ns.empty() ? 1024 : due_.size());
  if (o.sse) llm.reserve(records.capacity());
}

std::size_t Worker::new_record(std::uint64_t index, std::int64_t t_sched, bool warmup) {
  RequestRecord r;
  r.index = index;
  r.t_sched_ns = t_sched;
  r.warmup = warmup;
  records.push_back(r);
  if (o.sse) {
    llm.emplace_back();
    llm.back().t_sched_ns = t_sched;
  }
  return records.size() - 1;
}

// The calling thread's policy: SCHED_BATCH when asked for and allowed (any user may switch
// between SCHED_OTHER and SCHED_BATCH, but a seccomp profile may refuse), as the kernel says.
std::string set_thread_sched(bool batch) {
  std::string refused;
  if (batch) {
    const sched_param p{};
    if (const int rc = ::pthread_setschedparam(::pthread_self(), SCHED_BATCH, &p); rc != 0)
      refused = fmt::format(" (SCHED_BATCH refused: {})", std::strerror(rc));
  }
  int policy = -1;
  sched_param p{};
  if (::pthread_getschedparam(::pthread_self(), &policy, &p) != 0) return "unknown";
  switch (policy) {
    case SCHED_OTHER: return "normal" + refused;
    case SCHED_BATCH: return "batch";
    case SCHED_IDLE: return "idle" + refused;
    case SCHED_FIFO: return "fifo" + refused;
    case SCHED_RR: return "rr" + refused;
    default: return fmt::format("policy {}{}", policy, refused);
  }
}

void Worker::run() {
  sched = set_thread_sched(o.batch_sched);
  const std::int64_t cpu0 = thread_cpu_ns();
  const std::int64_t wall0 = now_ns();
  if (o.schedule_ns.empty()) {
    // Closed loop: every connection starts at t0.
    due_timer_.expires_at(to_time_point(s.t0));
    due_timer_.async_wait([this](const error_code& ec) {
      if (ec) return;
      for (auto& c : conns) next_closed(*c);
    });
  } else {
    for (auto& c : conns) make_idle(*c);
    serve_waiting();  // the other half of the Dekker pair: another thread may have queued already
    on_due();
  }
  sweep();
  // No polling before sleeping in epoll_wait: on a machine shared with the server, a spinning
  // client takes the server's CPU (measured: 0.83 of wrk's requests/s with 20 µs of polling,
  // against parity without; docs/performance.md §8).
  io.run();
  busy = static_cast<double>(thread_cpu_ns() - cpu0) / static_cast<double>(std::max<std::int64_t>(1, now_ns() - wall0));
}

void Worker::next_closed(Conn& c) {
  const std::int64_t t = now_ns();
  if (s.stop.load(std::memory_order_relaxed) || t >= s.t0 + o.duration_ns) return;
  if (o.max_requests && s.issued.fetch_add(1, std::memory_order_relaxed) >= *o.max_requests) return;
  // Request numbers interleave the threads, so the dataset is used round-robin overall.
  const std::uint64_t index = closed_count_++ * std::max(1u, o.threads) + id;
  c.start(new_record(index, t, t < s.t0 + o.warmup_ns));
}

void Worker::on_due() {
  const std::int64_t t = now_ns();
  while (next_due_ < due_.size()) {
    const std::uint64_t i = due_[next_due_];
    if (s.t0 + o.schedule_ns[i] > t) break;
    ++next_due_;
    if (s.stop.load(std::memory_order_relaxed)) {
      scheduled_record(Waiting{i, t});
      ++not_sent;
      settle();
      continue;
    }
    take_up(Waiting{i, t});
  }
  if (next_due_ < due_.size()) {
    due_timer_.expires_at(to_time_point(s.t0 + o.schedule_ns[due_[next_due_]]));
    due_timer_.async_wait([this](const error_code& ec) {
      if (!ec) on_due();
    });
  }
}

std::size_t Worker::scheduled_record(const Waiting& w) {
  const std::int64_t offset = o.schedule_ns[w.index];
  const std::size_t rec = new_record(w.index, s.t0 + offset, offset < o.warmup_ns);
  records[rec].t_dispatch_ns = w.t_dispatch_ns;
  return rec;
}

Conn& Worker::take_idle() {
  Conn* c = idle.back();
  idle.pop_back();
  idle_count.store(idle.size());
  return *c;
}

void Worker::make_idle(Conn& c) {
  idle.push_back(&c);
  idle_count.store(idle.size());  // seq_cst, before serve_waiting() reads Shared::queued
}

void Worker::take_up(const Waiting& w) {
  // First come, first served across the threads: while requests wait, a new one joins the end.
  if (!idle.empty() && s.queued.load() == 0) {
    take_idle().start(scheduled_record(w));
    return;
  }
  {
    const std::lock_guard lock(s.waiting_mutex);
    s.waiting.push_back(w);
    s.queued.fetch_add(1);  // seq_cst, before call_for_help() reads the idle counts
  }
  serve_waiting();
  call_for_help();
}

std::optional<Waiting> Worker::pop_waiting() {
  const std::lock_guard lock(s.waiting_mutex);
  if (s.waiting.empty()) return std::nullopt;
  const Waiting w = s.waiting.front();
  s.waiting.pop_front();
  s.queued.fetch_sub(1);
  return w;
}

void Worker::serve_waiting() {
  while (!idle.empty() && s.queued.load() > 0 && !s.stop.load(std::memory_order_relaxed)) {
    const std::optional<Waiting> w = pop_waiting();
    if (!w) break;
    // May finish at once (a failed write) and serve the queue again: the loop re-reads idle.
    take_idle().start(scheduled_record(*w));
  }
}

void Worker::call_for_help() {
  if (s.queued.load() == 0 || s.stop.load(std::memory_order_relaxed)) return;
  const std::size_t n = s.workers.size();
  for (std::size_t k = 1; k < n; ++k) {
    Worker& other = *s.workers[(id + k) % n];
    if (other.idle_count.load() > 0) {
      net::post(other.io, [&other] { other.on_help(); });
      return;  // one at a time: it calls the next if it cannot take every waiting request
    }
  }
}

void Worker::on_help() {
  serve_waiting();
  call_for_help();
}

void Worker::account(const RequestRecord& r) {
  if (o.max_error_rate && !r.warmup) {
    const std::uint64_t f = s.finished.fetch_add(1, std::memory_order_relaxed) + 1;
    const std::uint64_t e = s.failed.fetch_add(r.error != ErrorClass::none ? 1 : 0, std::memory_order_relaxed) +
                            (r.error != ErrorClass::none ? 1 : 0);
    if (f >= kMinFinishedForErrorRate && static_cast<double>(e) / static_cast<double>(f) > *o.max_error_rate &&
        !s.stop.exchange(true)) {
      if (!s.stop_reason_set.exchange(true))
        s.stop_reason = fmt::format("error rate {:.1f} % after {} requests is above --max-error-rate {:.1f} %",
                                    100.0 * static_cast<double>(e) / static_cast<double>(f), f, 100.0 * *o.max_error_rate);
    }
  }
}

void Worker::finished(Conn& c, const RequestRecord& r) {
  account(r);
  if (o.schedule_ns.empty()) {
    if (r.error == ErrorClass::connect) {
      // A server that refuses connections would otherwise get a new attempt (and this thread a
      // new record) every few microseconds for the whole run.
      c.backoff.expires_after(kConnectBackoff);
      c.backoff.async_wait([this, &c](const error_code& ec) {
        if (!ec) next_closed(c);
      });
      return;
    }
    next_closed(c);
  } else {
    settle();
    make_idle(c);
    serve_waiting();
  }
}

bool Worker::finished_all() const {
  for (const auto& c : conns)
    if (c->busy) return false;
  if (o.schedule_ns.empty()) {
    const bool out_of_time = now_ns() >= s.t0 + o.duration_ns;
    const bool out_of_requests = o.max_requests && s.issued.load(std::memory_order_relaxed) >= *o.max_requests;
    return now_ns() >= s.t0 && (out_of_time || out_of_requests || s.stop.load(std::memory_order_relaxed));
  }
  // Open loop: every thread stays until the whole schedule is settled, to serve the others' queue.
  return s.unsettled.load() == 0;
}

// A request that waited in the client for longer than the timeout (from its due time) without a
// connection is given up: it fails as client_queue, never sent, so a hung server cannot hold the
// run long after its schedule and the failure says it was the client's queue.
void Worker::give_up_waiting(std::int64_t t) {
  if (s.queued.load() == 0) return;
  std::vector<Waiting> expired;
  {
    const std::lock_guard lock(s.waiting_mutex);
    while (!s.waiting.empty() && t - (s.t0 + o.schedule_ns[s.waiting.front().index]) > o.timeout_ns) {
      expired.push_back(s.waiting.front());
      s.waiting.pop_front();
      s.queued.fetch_sub(1);
    }
  }
  for (const Waiting& w : expired) {
    const std::size_t rec = scheduled_record(w);
    RequestRecord& r = records[rec];
    r.error = ErrorClass::client_queue;
    r.t_done_ns = t;
    const std::string why = fmt::format("not sent: waited {} in the client for a free connection (all {} busy)",
                                        format_duration_ns(static_cast<double>(o.timeout_ns)), o.connections);
    if (o.sse) {
      llm[rec].fail(std::string(to_string(ErrorClass::client_queue)), why);
      llm[rec].t_done_ns = t;
    }
    note_error(ErrorClass::client_queue, why);
    account(r);
    settle();
  }
}

// Every 5 ms: time out requests past their deadline, and end the thread when all is done.
void Worker::sweep() {
  const std::int64_t t = now_ns();
  // Waiting requests first: one past its timeout is not handed a connection that times out now.
  if (!o.schedule_ns.empty()) give_up_waiting(t);
  for (auto& c : conns)
    if (c->busy && t - c->t_started > o.timeout_ns)
      c->abort(ErrorClass::timeout, fmt::format("no complete response within {}", format_duration_ns(static_cast<double>(o.timeout_ns))));
  if (!o.schedule_ns.empty()) {
    if (s.stop.load(std::memory_order_relaxed)) {
      // The rest of this thread's schedule, and whatever waits, is not sent.
      std::deque<Waiting> left;
      {
        const std::lock_guard lock(s.waiting_mutex);
        left.swap(s.waiting);
        s.queued.store(0);
      }
      while (next_due_ < due_.size()) left.push_back(Waiting{due_[next_due_++], 0});
      for (const Waiting& w : left) {
        scheduled_record(w);
        ++not_sent;
        settle();
      }
      due_timer_.cancel();
    }
  }
  if (finished_all()) {
    due_timer_.cancel();
    for (auto& c : conns) c->close();
    return;  // no more work: io.run() returns
  }
  sweep_timer_.expires_after(std::chrono::milliseconds(5));
  sweep_timer_.async_wait([this](const error_code& ec) {
    if (!ec) sweep();
  });
}

}  // namespace

// --- public -----------------------------------------------------------------------------------

std::string_view to_string(ErrorClass c) noexcept {
  switch (c) {
    case ErrorClass::none: return "none";
    case ErrorClass::connect: return "connect";
    case ErrorClass::reset: return "reset";
    case ErrorClass::closed: return "closed";
    case ErrorClass::timeout: return "timeout";
    case ErrorClass::http_status: return "http_status";
    case ErrorClass::malformed: return "malformed";
    case ErrorClass::stream_error: return "stream_error";
    case ErrorClass::protocol: return "protocol";
    case ErrorClass::client_queue: return "client_queue";
  }
  return "unknown";
}

std::string Url::host_header() const {
  const bool default_port = (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return default_port ? h : h + ":" + port;
}

Url parse_url(std::string_view text) {
  Url u;
  const auto bad = [&](std::string_view why) { return InputError(fmt::format("URL '{}': {}", text, why)); };
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) throw bad("expected http://host[:port]/path or https://...");
  u.scheme = std::string(text.substr(0, sep));
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (u.scheme != "http" && u.scheme != "https") throw bad("the scheme must be http or https");
  std::string_view rest = text.substr(sep + 3);
  const auto path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view target = path_at == std::string_view::npos ? std::string_view("/") : rest.substr(path_at);
  if (const auto hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  if (target.empty() || target.front() == '?') u.target = "/" + std::string(target);
  else u.target = std::string(target);
  if (authority.find('@') != std::string_view::npos) throw bad("user:password@ is not supported (use --header Authorization: ...)");
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw bad("unterminated [IPv6] host");
    u.host = std::string(authority.substr(1, close - 1));
    authority = authority.substr(close + 1);
    if (!authority.empty() && authority.front() != ':') throw bad("junk after the [IPv6] host");
    if (!authority.empty()) u.port = std::string(authority.substr(1));
  } else {
    const auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) u.port = std::string(authority.substr(colon + 1));
  }
  if (u.host.empty()) throw bad("no host");
  const auto has_ctl_or_space = [](std::string_view v) {
    return std::any_of(v.begin(), v.end(), [](char ch) { return static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f; });
  };
  if (has_ctl_or_space(u.host) || has_ctl_or_space(u.target))
    throw bad("spaces and control characters must be percent-encoded");
  if (u.port.empty()) u.port = u.tls() ? "443" : "80";
  if (u.port.find_first_not_of("0123456789") != std::string::npos || u.port.size() > 5 || std::stoi(u.port) == 0 ||
      std::stoi(u.port) > 65535)
    throw bad("the port must be a number from 1 to 65535");
  return u;
}

std::string make_request(const Url& url, std::string_view method,
                         const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body) {
  const auto has = [&](std::string_view name) {
    return std::any_of(headers.begin(), headers.end(), [&](const auto& h) {
      return h.first.size() == name.size() &&
             std::equal(h.first.begin(), h.first.end(), name.begin(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); });
    });
  };
  const auto token_char = [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || std::string_view("!#$%&'*+-.^_`|~").find(ch) != std::string_view::npos;
  };
  if (method.empty() || !std::all_of(method.begin(), method.end(), token_char))
    throw InputError(fmt::format("--method '{}': not an HTTP method (RFC 9110 token)", method));
  if (std::any_of(url.target.begin(), url.target.end(), [](char ch) { return static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f; }))
    throw InputError(fmt::format("request target '{}': spaces and control characters must be percent-encoded", url.target));
  std::string r = fmt::format("{} {} HTTP/1.1\r\n", method, url.target);
  // Only Host by default, like wrk: HTTP/1.1 keeps the connection alive without a Connection
  // header, and every further header is work for the server under test (nginx parses a
  // User-Agent and a Connection header in ~0.5 us, 5-8 % of its cost per request in LOAD-7's
  // benchmark). --header adds any the server needs.
  if (!has("host")) r += fmt::format("Host: {}\r\n", url.host_header());
  for (const auto& [k, v] : headers) {
    if (k.empty() || !std::all_of(k.begin(), k.end(), token_char) || v.find_first_of("\r\n") != std::string::npos)
      throw InputError(fmt::format("header '{}': the name must be a token and the value one line", k));
    r += fmt::format("{}: {}\r\n", k, v);
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    if (!has("content-length")) r += fmt::format("Content-Length: {}\r\n", body.size());
  r += "\r\n";
  r += body;
  return r;
}

std::optional<double> wav_duration_s(std::string_view head, std::uint64_t total_bytes) {
  const auto u32 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(head[at])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(head[at + 1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(head[at + 2])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(head[at + 3])) << 24;
  };
  const auto u16 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(head[at])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(head[at + 1])) << 8;
  };
  if (head.size() < 12 || head.substr(0, 4) != "RIFF" || head.substr(8, 4) != "WAVE") return std::nullopt;
  std::uint32_t byte_rate = 0;
  for (std::size_t at = 12; at + 8 <= head.size();) {
    const std::string_view id = head.substr(at, 4);
    const std::uint32_t size = u32(at + 4);
    if (id == "fmt ") {
      if (at + 8 + 16 > head.size()) return std::nullopt;
      const std::uint32_t format = u16(at + 8);
      if (format != 1 && format != 3 && format != 0xFFFE) return std::nullopt;  // PCM, float, extensible
      byte_rate = u32(at + 8 + 8);
    } else if (id == "data") {
      if (byte_rate == 0) return std::nullopt;
      std::uint64_t data = size;
      const std::uint64_t available = total_bytes > at + 8 ? total_bytes - (at + 8) : 0;
      if (size == 0 || size == 0xFFFFFFFFu) data = available;  // streamed: the size was not known
      return static_cast<double>(data) / static_cast<double>(byte_rate);
    }
    at += 8 + size + (size & 1);  // chunks are word-aligned
    if (size > head.size()) break;
  }
  return std::nullopt;
}

EngineOutcome run_engine(const EngineOptions& o) {
  if (o.requests.empty()) throw InputError("the load engine needs at least one request");
  if (o.threads == 0 || o.connections == 0) throw InputError("--threads and --connections must be at least 1");
  if (o.connections < o.threads) throw InputError("--connections must be at least --threads (each thread needs one)");
  if (o.timeout_ns <= 0) throw InputError("--timeout must be positive");
  Shared s{o};
  s.unsettled = o.schedule_ns.size();
  {
    net::io_context io;
    tcp::resolver resolver(io);
    error_code ec;
    const auto results = resolver.resolve(o.url.host, o.url.port, ec);
    if (ec) throw NotAvailableError(fmt::format("cannot resolve {}: {}", o.url.host, ec.message()));
    for (const auto& r : results) s.endpoints.push_back(r.endpoint());
  }
  std::vector<std::vector<std::uint64_t>> due(o.threads);
  for (std::uint64_t i = 0; i < o.schedule_ns.size(); ++i) due[i % o.threads].push_back(i);
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned t = 0; t < o.threads; ++t)
    workers.push_back(std::make_unique<Worker>(s, t, o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0),
                                               std::move(due[t])));
  for (auto& w : workers) s.workers.push_back(w.get());
  // Open every connection before the clock starts, as wrk does: connection setup is not part of
  // the first requests' latency. A connection that fails here is retried by its first request.
  // Each worker's connections are opened concurrently on its io_context, run here on the main
  // thread (the workers have not started: thread creation orders it before them), for at most
  // the request timeout; those still unconnected are closed and retried by their first request.
  for (auto& w : workers) {
    for (auto& c : w->conns) c->preconnect();
    w->io.run_for(std::chrono::nanoseconds(std::min<std::int64_t>(o.timeout_ns, 10'000'000'000)));
    for (auto& c : w->conns)
      if (!c->connected()) c->close();
    w->io.restart();
  }
  const double cpu0 = process_cpu_s();
  s.t0 = now_ns() + 20'000'000;  // every thread is running by then
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w] { w->run(); });
  for (auto& t : threads) t.join();

  EngineOutcome out;
  out.start_ns = s.t0;
  out.client_cpu_s = process_cpu_s() - cpu0;
  out.stopped_early = s.stop.load();
  out.stop_reason = s.stop_reason;
  out.client_sched = workers.front()->sched;
  for (const auto& w : workers)
    if (w->sched != out.client_sched) out.client_sched = "mixed";  // every thread asked for the same policy
  // Merged in request-number order: sort (number, worker, position) once, then copy each record
  // (and move each LLM record) straight to its place.
  struct Where {
    std::uint64_t index;
    std::uint32_t worker;
    std::size_t at;
  };
  std::vector<Where> order;
  for (std::uint32_t k = 0; k < workers.size(); ++k) {
    Worker& w = *workers[k];
    out.thread_busy.push_back(w.busy);
    out.not_sent += w.not_sent;
    for (auto& [c, v] : w.examples) out.error_examples.try_emplace(c, v);
    for (std::size_t i = 0; i < w.records.size(); ++i) order.push_back({w.records[i].index, k, i});
  }
  std::sort(order.begin(), order.end(), [](const Where& a, const Where& b) { return a.index < b.index; });
  out.records.reserve(order.size());
  if (o.sse) out.llm.reserve(order.size());
  for (const Where& at : order) {
    out.records.push_back(workers[at.worker]->records[at.at]);
    if (o.sse) out.llm.push_back(std::move(workers[at.worker]->llm[at.at]));
  }
  for (const RequestRecord& r : out.records) {
    if (r.error != ErrorClass::none && !r.warmup) ++out.errors_by_class[std::string(to_string(r.error))];
    out.end_ns = std::max(out.end_ns, r.t_done_ns);
  }
  return out;
}

}  // namespace trackiq::load
