// SPDX-License-Identifier: Apache-2.0
// bindings/http/main.cpp - acm-server: the engine over HTTP (docs/http.md).
//
//   acm-server --db FILE --listen 127.0.0.1:8080 --tokens tokens.json [--definitions FILE...]
//
// Runs the engine's timers on the system clock, serves until SIGTERM or SIGINT, then shuts
// down gracefully (requests in progress finish, the store closes cleanly) and exits 0.
#include "api.hpp"
#include "events.hpp"
#include "server.hpp"

#include <acm/cmmn.hpp>
#include <acm/version.hpp>

#include <fmt/format.h>

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#ifndef ACM_SERVER_WEB_DIR
#define ACM_SERVER_WEB_DIR ""
#endif
#ifndef ACM_SERVER_WEB_RELATIVE
#define ACM_SERVER_WEB_RELATIVE "share/acm/web"
#endif
#ifndef ACM_SERVER_SOURCE_WEB_DIR
#define ACM_SERVER_SOURCE_WEB_DIR ""
#endif

namespace {

using namespace acm;
using namespace acm::http;

constexpr const char* kUsage = R"(usage: acm-server --db FILE --tokens TOKENS.json [options]

  --db FILE_OR_URI        the store: a SQLite file (created if missing; "" or :memory: keeps nothing)
                          or a PostgreSQL URI (postgresql://...; several servers may share it)
  --listen HOST:PORT      where to listen (default 127.0.0.1:8080; port 0: any free port)
  --tokens FILE           bearer tokens: {"tokens": [{"token", "actor", "roles"}]}
  --definitions FILE      a definitions document or CMMN model to register at start (repeatable)
  --web DIR               the workspace page's files (default: the installed ones)
  --max-body BYTES        largest request body (default 4194304): 413 above
  --max-header BYTES      largest request line and headers (default 16384): 431 above
  --max-inflight N        requests in progress at once (default 64): 503 above
  --max-connections N     open connections (default 1024): 503 above
  --max-streams N         open event streams (default 256): 503 above
  --request-timeout MS    time to receive a request once begun (default 10000): 408 after
  --idle-timeout MS       a kept-alive connection without a request closes (default 60000)
  --shutdown-timeout MS   how long SIGTERM waits for requests in progress (default 30000)
  --threads N             threads serving requests, each reading, running and answering its
                          connections' requests (default 16): the most commands at once
  --routes                print the routes (METHOD PATH per line) and exit
  --version, --help

Prints "acm-server listening on http://HOST:PORT" once it serves. TLS: put a reverse proxy in front.
)";

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "acm-server: " << message << "\n(acm-server --help lists the options)\n";
  std::exit(2);
}

std::size_t count_of(const std::string& option, const std::string& v) {
  std::size_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty())
    usage_error(fmt::format("{} takes a whole number, not '{}'", option, v));
  return n;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, fmt::format("cannot read '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The page's files: beside an installed acm-server (bin/../share/acm/web, wherever the prefix
/// is), else where the build would install them, else the source tree's (a build run in place).
std::filesystem::path default_web_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto beside = exe.parent_path().parent_path() / ACM_SERVER_WEB_RELATIVE;
    if (std::filesystem::is_directory(beside, ec)) return beside;
  }
  for (const char* d : {ACM_SERVER_WEB_DIR, ACM_SERVER_SOURCE_WEB_DIR}) {
    if (*d && std::filesystem::is_directory(d, ec)) return d;
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  std::string db, tokens_file, listen = "127.0.0.1:8080", web;
  bool web_given = false, print_routes = false;
  std::vector<std::string> definitions;
  ServerOptions so;
  bool db_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--version") {
      std::cout << "acm-server " << acm::version() << "\n";
      return 0;
    } else if (a == "--db") {
      db = value();
      db_given = true;
    } else if (a == "--listen") {
      listen = value();
    } else if (a == "--tokens") {
      tokens_file = value();
    } else if (a == "--definitions") {
      definitions.push_back(value());
    } else if (a == "--web") {
      web = value();
      web_given = true;
    } else if (a == "--max-body") {
      so.max_body = count_of(a, value());
    } else if (a == "--max-header") {
      so.max_header = count_of(a, value());
    } else if (a == "--max-inflight") {
      so.max_inflight = count_of(a, value());
    } else if (a == "--max-connections") {
      so.max_connections = count_of(a, value());
    } else if (a == "--max-streams") {
      so.max_streams = count_of(a, value());
    } else if (a == "--request-timeout") {
      so.request_timeout = std::chrono::milliseconds(count_of(a, value()));
    } else if (a == "--idle-timeout") {
      so.idle_timeout = std::chrono::milliseconds(count_of(a, value()));
    } else if (a == "--shutdown-timeout") {
      so.shutdown_timeout = std::chrono::milliseconds(count_of(a, value()));
    } else if (a == "--threads") {
      so.threads = count_of(a, value());
    } else if (a == "--routes") {
      print_routes = true;
    } else {
      usage_error(fmt::format("unknown option '{}'", a));
    }
  }
  if (!print_routes) {
    if (!db_given) usage_error("--db FILE is required");
    if (tokens_file.empty()) usage_error("--tokens FILE is required");
  }
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) usage_error("--listen takes HOST:PORT");
  so.host = listen.substr(0, colon);
  if (so.host.size() >= 2 && so.host.front() == '[' && so.host.back() == ']') so.host = so.host.substr(1, so.host.size() - 2);
  std::size_t port = count_of("--listen's port", listen.substr(colon + 1));
  if (port > 65535) usage_error("--listen: the port is above 65535");
  so.port = static_cast<unsigned short>(port);
  if (so.max_inflight == 0 || so.threads == 0 || so.max_connections == 0)
    usage_error("--max-inflight, --max-connections and --threads must be at least 1");
  if (so.max_body < 1024 || so.max_header < 1024) usage_error("--max-body and --max-header must be at least 1024");

  // SIGTERM and SIGINT are taken by sigwait below: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  try {
    if (print_routes) {
      auto engine = Engine::open({});
      Api api(*engine, Tokens{}, {});
      for (const auto& r : api.routes()) std::cout << r.method << " " << r.path << "\n";
      return 0;
    }
    Tokens tokens = Tokens::load(tokens_file);
    EngineOptions eo;
    eo.database = db;
    std::unique_ptr<Engine> engine = Engine::open(eo);
    const Request host(Actor{"acm-server", eo.admin_roles});
    for (const auto& file : definitions) {
      std::string text = read_file(file);
      Json doc = cmmn::is_xml(text) ? cmmn::import(text).definitions : parse_json(text, file);
      engine->load_definitions(host, doc);
    }
    ApiOptions ao;
    ao.web_dir = web_given ? std::filesystem::path(web) : default_web_dir();
    ao.admin_roles = eo.admin_roles;
    ao.designer_roles = eo.designer_roles;
    Api api(*engine, std::move(tokens), ao);
    auto feed = std::make_unique<StoreFeed>(*engine);

    // The engine's timers on the system clock: fire what is due, then sleep until the next due
    // time (at most a second, so timers that commands add meanwhile are seen in time).
    std::mutex timer_mutex;
    std::condition_variable timer_cv;
    bool timer_stop = false;
    std::thread timers([&] {
      std::unique_lock lock(timer_mutex);
      while (!timer_stop) {
        lock.unlock();
        auto wait = std::chrono::milliseconds(1000);
        try {
          engine->run_due();
          if (auto next = engine->next_due()) {
            auto until = *next - engine->clock().now();
            wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(until), std::chrono::milliseconds(10),
                              std::chrono::milliseconds(1000));
          }
        } catch (const std::exception& e) {
          std::cerr << "acm-server: timers: " << e.what() << "\n";
        }
        lock.lock();
        timer_cv.wait_for(lock, wait, [&] { return timer_stop; });
      }
    });

    Server server(api, *feed, so);
    try {
      server.start();
    } catch (const std::exception& e) {
      {
        std::lock_guard lock(timer_mutex);
        timer_stop = true;
      }
      timer_cv.notify_all();
      timers.join();
      std::cerr << fmt::format("acm-server: cannot listen on {}: {}\n", listen, e.what());
      return 1;
    }
    std::cout << fmt::format("acm-server listening on http://{}:{}", so.host.find(':') == std::string::npos
                                                                       ? so.host
                                                                       : "[" + so.host + "]",
                             server.port())
              << std::endl;

    int sig = 0;
    sigwait(&signals, &sig);
    std::cout << fmt::format("acm-server: {} received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT") << std::endl;
    bool clean = server.stop();
    {
      std::lock_guard lock(timer_mutex);
      timer_stop = true;
    }
    timer_cv.notify_all();
    timers.join();
    feed.reset();
    engine.reset();  // closes the store
    std::cout << (clean ? "acm-server: stopped" : "acm-server: stopped (requests cut at the shutdown timeout)")
              << std::endl;
    return 0;
  } catch (const Error& e) {
    std::cerr << "acm-server: " << e.what() << "\n";
    return 10 + static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::cerr << "acm-server: " << e.what() << "\n";
    return 1;
  }
}
