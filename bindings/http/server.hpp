// SPDX-License-Identifier: Apache-2.0
// bindings/http/server.hpp - the HTTP/1.1 server of acm-server (Boost.Beast on Boost.Asio):
// connections, limits, the event stream and graceful shutdown. What each request means is
// the Api's business (api.hpp).
#pragma once

#include "api.hpp"
#include "events.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace acm::http {

/// What a client can make the server do, and how it runs (docs/http.md "Limits").
struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  ///< 0: any free port (Server::port() tells which)
  std::size_t max_body = 4u << 20;     ///< bytes of a request body; over it: 413
  std::size_t max_header = 16u << 10;  ///< bytes of the request line and headers; over it: 431
  std::size_t max_inflight = 64;       ///< requests being received or answered at once; over it: 503
  std::size_t max_connections = 1024;  ///< open connections; over it: 503 and close
  std::size_t max_streams = 256;       ///< open event streams; over it: 503
  std::chrono::milliseconds request_timeout{10000};  ///< to receive a whole request once it began: else 408
  std::chrono::milliseconds idle_timeout{60000};     ///< a kept-alive connection with no request is closed
  std::chrono::milliseconds heartbeat{15000};        ///< event stream keep-alive comment
  std::chrono::milliseconds shutdown_timeout{30000}; ///< how long stop() waits for requests in progress
  /// Threads serving connections, each an event loop of its own that reads a request, calls
  /// the engine and writes the answer; also the most commands in progress at once.
  std::size_t threads = 16;
};

class Server {
 public:
  Server(Api& api, EventFeed& feed, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and starts serving on background threads. Errors: std::system_error (cannot bind).
  void start();
  /// The port it listens on (after start).
  unsigned short port() const;
  /// Graceful shutdown: stops accepting, lets requests in progress finish (at most
  /// shutdown_timeout), ends event streams, closes idle connections, joins every thread.
  /// Returns false when requests were still in progress at the timeout (they were cut).
  bool stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace acm::http
