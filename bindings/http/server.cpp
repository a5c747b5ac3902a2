// SPDX-License-Identifier: Apache-2.0
// bindings/http/server.cpp - connections, limits, the event stream and graceful shutdown of
// acm-server, on Boost.Beast with C++20 coroutines (docs/design.md, "acm over HTTP").
//
// Threads: `threads` event loops, one io_context each, run by one thread each. A connection
// belongs to one loop (the one with the fewest connections when it was accepted) and is a
// coroutine on it: the request is read, run on the engine and answered on that one thread, so
// a command costs no hand-off between threads besides the store's own (docs/design.md, "acm
// over HTTP: one thread per request"). While a command waits for its commit, the other
// connections of its loop wait too; there are `threads` commands in progress at most. A request
// counts against max_inflight from the moment its headers are read until its answer is written.
#include "server.hpp"

#include <utility>  // before asio: awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/beast.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <thread>

// GCC 12 reports a false -Wmismatched-new-delete when it inlines the ramp of one asio coroutine
// into another (GCC bug 109224: the frame's operator new and delete are asio's matching pair).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace acm::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

/// What the shutdown needs to reach in a connection (touched on the connection's strand only).
struct Connection {
  Connection(asio::any_io_executor ex, std::size_t l) : strand(std::move(ex)), loop(l), wake_timer(strand) {}
  asio::any_io_executor strand;  ///< its loop's executor: one thread, so an implicit strand
  std::size_t loop;              ///< index of its loop
  beast::tcp_stream* stream = nullptr;
  asio::steady_timer wake_timer;  ///< an event stream waits on it; cancelled to wake it
  /// Bounds a read or a write: once it passed, its loop's sweep cancels what the socket is
  /// doing and sets timed_out (the socket stays open, so a request that began can still be
  /// answered 408). A field, not a timer per request: setting it costs no system call.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool timed_out = false;
  bool idle = true;       ///< waiting for the first byte of a request
  bool streaming = false; ///< serving GET /v1/events
  bool woken = false;     ///< new events since the stream last looked
  bool stopping = false;  ///< the server is shutting down
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

struct Server::Impl {
  Impl(Api& a, EventFeed& f, ServerOptions o)
      : api(a), feed(f), options(std::move(o)) {
    for (std::size_t i = 0; i < std::max<std::size_t>(options.threads, 1); ++i) {
      loops.push_back(std::make_unique<asio::io_context>(1));
      load.push_back(0);
    }
    acceptor.emplace(*loops.front());
  }

  Api& api;
  EventFeed& feed;
  ServerOptions options;
  std::vector<std::unique_ptr<asio::io_context>> loops;  ///< one per thread
  std::optional<tcp::acceptor> acceptor;                 ///< on loops[0]
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::vector<std::thread> threads;
  std::atomic<std::size_t> inflight{0}, streams{0};
  std::atomic<bool> draining{false};
  unsigned short bound_port = 0;

  std::mutex mutex;  // guards connections
  std::condition_variable all_closed;
  std::map<std::uint64_t, std::shared_ptr<Connection>> connections;
  std::vector<std::size_t> load;  ///< open connections per loop
  std::uint64_t next_connection = 1;
  bool stopped = false;

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket, std::shared_ptr<Connection> conn, std::uint64_t id);
  asio::awaitable<void> stream_events(beast::tcp_stream& stream, Connection& conn, const HttpRequest& req);
  /// The SSE messages of the events `actor` may view (a view check may read the store).
  std::string visible_events(const FeedRead& read, const Actor& actor, bool admin);
  /// Writes `r`, bounded by request_timeout (through conn's deadline when given).
  asio::awaitable<void> reply(beast::tcp_stream& stream, const HttpResponse& r, bool keep_alive, unsigned version,
                              Connection* conn = nullptr);
  /// Cancels what the connections of `loop` do past their deadline, every so often.
  asio::awaitable<void> sweep(std::size_t loop);
  asio::awaitable<void> reply_and_close(beast::tcp_stream& stream, const HttpResponse& r, unsigned version);
  void forget(std::uint64_t id);
};

void Server::Impl::forget(std::uint64_t id) {
  std::lock_guard lock(mutex);
  auto it = connections.find(id);
  if (it == connections.end()) return;
  --load[it->second->loop];
  connections.erase(it);
  if (connections.empty()) all_closed.notify_all();
}

asio::awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    error_code ec;
    std::size_t loop = 0;
    {
      std::lock_guard lock(mutex);
      loop = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    }
    tcp::socket socket =
        co_await acceptor->async_accept(loops[loop]->get_executor(), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      continue;  // e.g. too many open files: keep serving the others
    }
    socket.set_option(tcp::no_delay(true), ec);  // an answer goes out whole, never held by Nagle
    auto conn = std::make_shared<Connection>(socket.get_executor(), loop);
    std::uint64_t id = 0;
    std::size_t open = 0;
    {
      std::lock_guard lock(mutex);
      id = next_connection++;
      open = connections.size();
      connections.emplace(id, conn);
      ++load[loop];
    }
    asio::any_io_executor ex = socket.get_executor();
    if (open >= options.max_connections) {
      asio::co_spawn(
          ex,
          [this, s = std::move(socket), id]() mutable -> asio::awaitable<void> {
            beast::tcp_stream stream(std::move(s));
            co_await reply_and_close(stream, problem(503, "overloaded", "too many open connections"), 11);
            forget(id);
          },
          asio::detached);
      continue;
    }
    asio::co_spawn(ex, serve(std::move(socket), conn, id), asio::detached);
  }
}

asio::awaitable<void> Server::Impl::sweep(std::size_t loop) {
  // Often enough that a deadline is kept to a tenth of the shorter timeout (10-500 ms late).
  auto period = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::min(options.request_timeout, options.idle_timeout) / 10),
                           std::chrono::milliseconds(10), std::chrono::milliseconds(500));
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::vector<std::shared_ptr<Connection>> due;
  for (;;) {
    timer.expires_after(period);
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mutex);
      for (const auto& [id, c] : connections)
        if (c->loop == loop && c->deadline <= now) due.push_back(c);
    }
    for (const auto& c : due) {  // on this loop's thread, like everything else touching c
      c->deadline = std::chrono::steady_clock::time_point::max();
      c->timed_out = true;
      error_code ignored;
      if (c->stream) c->stream->socket().cancel(ignored);
    }
    due.clear();
  }
}

asio::awaitable<void> Server::Impl::reply(beast::tcp_stream& stream, const HttpResponse& r, bool keep_alive,
                                          unsigned version, Connection* conn) {
  bhttp::response<bhttp::string_body> res;
  res.version(version);
  res.result(static_cast<unsigned>(r.status));
  res.set(bhttp::field::server, "acm-server");
  if (!r.content_type.empty()) res.set(bhttp::field::content_type, r.content_type);
  bool cache_set = false;
  for (const auto& [k, v] : r.headers) {
    res.set(k, v);
    cache_set = cache_set || lower(k) == "cache-control";
  }
  if (!cache_set) res.set(bhttp::field::cache_control, "no-store");
  if (r.status == 503) res.set(bhttp::field::retry_after, "1");
  res.body() = r.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  if (conn)
    conn->deadline = std::chrono::steady_clock::now() + options.request_timeout;
  else
    stream.expires_after(options.request_timeout);
  error_code ec;
  co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  if (!conn) co_return;
  conn->deadline = std::chrono::steady_clock::time_point::max();
  if (ec) stream.socket().close(ec);  // a part of an answer went out: nothing more can follow
}

asio::awaitable<void> Server::Impl::reply_and_close(beast::tcp_stream& stream, const HttpResponse& r, unsigned version) {
  co_await reply(stream, r, false, version);
  // Close gently: stop sending, then read (and drop) what the client still sends for a moment,
  // so that closing does not reset the connection before the client has read the answer.
  error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  std::array<char, 16384> sink{};
  std::size_t drained = 0;
  stream.expires_after(std::chrono::milliseconds(1000));
  while (drained < (8u << 20)) {
    std::size_t n = co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    drained += n;
  }
  stream.socket().close(ec);
}

asio::awaitable<void> Server::Impl::serve(tcp::socket socket, std::shared_ptr<Connection> conn, std::uint64_t id) {
  beast::tcp_stream stream(std::move(socket));
  conn->stream = &stream;
  beast::flat_buffer buffer;
  try {
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(options.max_header, UINT32_MAX)));
      parser.body_limit(options.max_body);
      bool started = buffer.size() > 0;
      auto deadline = std::chrono::steady_clock::now() + options.request_timeout;
      conn->idle = !started;
      if (conn->stopping && !started) break;
      bool counted = false, continued = false, over = false;
      error_code ec;
      conn->timed_out = false;
      auto arm = [&conn](std::chrono::steady_clock::time_point when) { conn->deadline = when; };
      arm(started ? deadline : std::chrono::steady_clock::now() + options.idle_timeout);
      stream.expires_never();
      while (!parser.is_done()) {
        co_await bhttp::async_read_some(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        if (!started && (parser.got_some() || buffer.size() > 0)) {
          started = true;
          conn->idle = false;
          deadline = std::chrono::steady_clock::now() + options.request_timeout;
          if (!ec) arm(deadline);
        }
        if (ec) break;
        if (parser.is_header_done() && !counted) {
          if (inflight.fetch_add(1) >= options.max_inflight) {
            inflight.fetch_sub(1);
            over = true;
            break;
          }
          counted = true;
          auto expect = parser.get()[bhttp::field::expect];
          if (!continued && !parser.is_done() && beast::iequals(expect, "100-continue")) {
            continued = true;
            static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            co_await asio::async_write(stream, asio::buffer(kContinue.data(), kContinue.size()),
                                       asio::redirect_error(asio::use_awaitable, ec));
            if (ec) break;
          }
        }
      }
      conn->deadline = std::chrono::steady_clock::time_point::max();
      if (ec == asio::error::operation_aborted && conn->timed_out) ec = beast::error::timeout;
      struct Release {
        std::atomic<std::size_t>& n;
        bool& counted;
        ~Release() {
          if (counted) n.fetch_sub(1);
        }
      } release{inflight, counted};
      unsigned version = parser.is_header_done() ? parser.get().version() : 11;
      if (over) {
        co_await reply_and_close(stream, problem(503, "overloaded",
                                                 fmt::format("more than {} requests in progress", options.max_inflight)),
                                 version);
        break;
      }
      if (ec) {
        if (ec == bhttp::error::header_limit) {
          co_await reply_and_close(
              stream, problem(431, "headers_too_large", fmt::format("the headers are over {} bytes", options.max_header)),
              version);
        } else if (ec == bhttp::error::body_limit) {
          co_await reply_and_close(
              stream, problem(413, "body_too_large", fmt::format("the body is over {} bytes", options.max_body)), version);
        } else if (ec == beast::error::timeout && started) {
          co_await reply_and_close(stream, problem(408, "request_timeout", "the request did not arrive in time"), version);
        } else if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() && ec != bhttp::error::end_of_stream &&
                   ec != bhttp::error::partial_message) {
          co_await reply_and_close(stream, problem(400, "bad_request", fmt::format("malformed HTTP: {}", ec.message())),
                                   version);
        }
        break;  // end of stream, reset, cancelled by the shutdown: just close
      }

      bhttp::request<bhttp::string_body> req = parser.release();
      HttpRequest hreq;
      hreq.method = std::string(req.method_string());
      hreq.target = std::string(req.target());
      for (const auto& f : req) {
        std::string name = lower(std::string_view(f.name_string().data(), f.name_string().size()));
        auto [it, fresh] = hreq.headers.emplace(name, std::string(f.value()));
        if (!fresh) it->second += ", " + std::string(f.value());
      }
      hreq.body = std::move(req.body());
      bool keep_alive = req.keep_alive();

      std::string_view path = std::string_view(hreq.target).substr(0, hreq.target.find('?'));
      if (path == "/v1/events" && hreq.method == "GET") {
        counted = false;  // a stream is long-lived: it counts against max_streams instead
        inflight.fetch_sub(1);
        co_await stream_events(stream, *conn, hreq);
        break;
      }
      HttpResponse res = api.handle(hreq);  // on this thread: see the top of the file
      keep_alive = keep_alive && !draining.load() && !conn->stopping;
      co_await reply(stream, res, keep_alive, version, conn.get());
      if (!keep_alive) {
        error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        break;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "acm-server: connection failed: " << e.what() << "\n";
  }
  conn->stream = nullptr;
  error_code ignored;
  stream.socket().close(ignored);
  forget(id);
}

std::string Server::Impl::visible_events(const FeedRead& read, const Actor& actor, bool admin) {
  // Permission per event, on the case as it is now.
  std::map<std::string, bool> allowed;
  std::string text;
  for (const auto& e : read.events) {
    auto it = allowed.find(e.case_id);
    if (it == allowed.end()) it = allowed.emplace(e.case_id, admin || api.may_view(actor, e.case_id)).first;
    if (it->second) text += fmt::format("id: {}\ndata: {}\n\n", e.id, e.json);
  }
  return text;
}

asio::awaitable<void> Server::Impl::stream_events(beast::tcp_stream& stream, Connection& conn, const HttpRequest& req) {
  auto who = api.authenticate(req);
  if (auto* r = std::get_if<HttpResponse>(&who)) {
    co_await reply(stream, *r, false, 11);
    co_return;
  }
  const Actor actor = std::get<Actor>(who);
  // The feed position to read on from: the client's Last-Event-ID (given by this server or by
  // any other on the same database), else the newest.
  const std::string last_header = req.header("last-event-id");
  std::string last = last_header.empty() ? feed.last_id() : last_header;
  if (streams.fetch_add(1) >= options.max_streams) {
    streams.fetch_sub(1);
    co_await reply(stream, problem(503, "overloaded", fmt::format("more than {} event streams", options.max_streams)),
                   false, 11);
    co_return;
  }
  struct Release {
    std::atomic<std::size_t>& n;
    ~Release() { n.fetch_sub(1); }
  } release{streams};

  // The feed wakes this stream from the publishing thread: through the strand, never directly.
  struct Waker {
    asio::any_io_executor strand;
    std::weak_ptr<Connection> conn;
  };
  std::shared_ptr<Connection> self;
  {
    std::lock_guard lock(mutex);
    for (const auto& [cid, c] : connections)
      if (c.get() == &conn) self = c;
  }
  auto waker = std::make_shared<Waker>(Waker{conn.strand, self});
  std::uint64_t watch = feed.watch([waker] {
    asio::post(waker->strand, [w = waker->conn] {
      if (auto c = w.lock()) {
        c->woken = true;
        c->wake_timer.cancel();
      }
    });
  });
  struct Unwatch {
    EventFeed& feed;
    std::uint64_t id;
    ~Unwatch() { feed.unwatch(id); }
  } unwatch{feed, watch};
  conn.streaming = true;

  error_code ec;
  auto write_raw = [&](std::string text) -> asio::awaitable<bool> {
    stream.expires_after(options.request_timeout);
    co_await asio::async_write(stream, asio::buffer(text), asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  };
  auto chunk = [](const std::string& data) { return fmt::format("{:x}\r\n{}\r\n", data.size(), data); };

  std::string head =
      "HTTP/1.1 200 OK\r\nServer: acm-server\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
      "X-Accel-Buffering: no\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n";
  head += chunk("retry: 2000\n\n");
  if (!co_await write_raw(head)) co_return;

  const bool admin = api.is_admin(actor);
  while (!conn.stopping) {
    conn.woken = false;
    FeedRead read = feed.read_after(last, 256);
    std::string out;
    if (read.gap)
      out += fmt::format("event: reset\ndata: {}\n\n",
                         Json{{"reason", "the Last-Event-ID is no position of this database's event feed"},
                              {"last_event_id", last_header}}
                             .dump(-1, ' ', false, Json::error_handler_t::replace));
    if (!read.events.empty()) out += visible_events(read, actor, admin);
    last = read.position;
    if (!out.empty() && !co_await write_raw(chunk(out))) co_return;
    if (read.events.size() == 256) continue;  // more to send
    if (conn.woken || conn.stopping) continue;
    conn.wake_timer.expires_after(options.heartbeat);
    error_code wait_ec;
    co_await conn.wake_timer.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
    if (!wait_ec && !conn.woken && !conn.stopping)
      if (!co_await write_raw(chunk(": keep-alive\n\n"))) co_return;
  }
  co_await write_raw("0\r\n\r\n");
}

Server::Server(Api& api, EventFeed& feed, ServerOptions options)
    : impl_(std::make_unique<Impl>(api, feed, std::move(options))) {}

Server::~Server() { stop(); }

void Server::start() {
  Impl& s = *impl_;
  tcp::endpoint ep(asio::ip::make_address(s.options.host), s.options.port);
  s.acceptor->open(ep.protocol());
  s.acceptor->set_option(asio::socket_base::reuse_address(true));
  s.acceptor->bind(ep);
  s.acceptor->listen(asio::socket_base::max_listen_connections);
  s.bound_port = s.acceptor->local_endpoint().port();
  asio::co_spawn(*s.loops.front(), s.accept_loop(), asio::detached);
  for (auto& loop : s.loops) {
    s.keep_running.push_back(asio::make_work_guard(*loop));  // while it has no connection
    asio::co_spawn(*loop, s.sweep(static_cast<std::size_t>(&loop - s.loops.data())), asio::detached);
    s.threads.emplace_back([&loop] { loop->run(); });
  }
}

unsigned short Server::port() const { return impl_->bound_port; }

bool Server::stop() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.mutex);
    if (s.stopped) return true;
    s.stopped = true;
  }
  if (s.threads.empty()) return true;
  s.draining = true;
  asio::post(*s.loops.front(), [&s] {
    error_code ec;
    s.acceptor->close(ec);
  });
  // Idle connections close now, streams end; a request being received or answered finishes.
  {
    std::lock_guard lock(s.mutex);
    for (const auto& [id, c] : s.connections)
      asio::post(c->strand, [c] {
        c->stopping = true;
        c->wake_timer.cancel();
        if (c->idle && !c->streaming && c->stream) c->stream->cancel();
      });
  }
  bool finished = true;
  {
    std::unique_lock lock(s.mutex);
    finished = s.all_closed.wait_for(lock, s.options.shutdown_timeout, [&s] { return s.connections.empty(); });
  }
  s.keep_running.clear();
  for (auto& loop : s.loops) loop->stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  return finished;
}

}  // namespace acm::http
