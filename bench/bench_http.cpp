// SPDX-License-Identifier: Apache-2.0
// bench/bench_http.cpp - a bounded load test of acm-server on loopback against the same command
// in-process, in one run (bench/README.md, "HTTP").
//
//   acm_bench_http --server build/bindings/http/acm-server [--clients 32] [--requests 200] [--rounds 3]
//
// The command is a typical one, set_file on the client's own case (a durable commit). Phase 1:
// `clients` threads call Engine::set_file on an engine opened in this process. Phase 2: the
// real acm-server program on a store of its own, `clients` threads each on one kept-alive
// connection sending PUT /v1/cases/{case}/file/n. Both: `requests` commands per client, every
// latency recorded; the run stops by itself. Also measured: one loopback TCP round trip
// (ping-pong of one byte). Then it checks that nothing was lost (each case holds exactly the
// commands sent, the last value written) and that the server still answers and stops cleanly.
// Exit 1 on any error or loss.
#include <acm/engine.hpp>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct Stats {
  double seconds = 0;
  std::size_t count = 0;
  double p50_us = 0, p99_us = 0, mean_us = 0;
  double cpu_us = 0;     ///< CPU time (user + system) per command, all threads of both sides
  double switches = 0;   ///< context switches (voluntary + involuntary) per command
  double server_cpu_us = 0, server_switches = 0;  ///< over HTTP: the acm-server process's part
};

/// CPU time and context switches of a process so far: this one (getrusage), or another by pid
/// (/proc/PID/stat and the status of each of its threads).
struct Usage {
  double cpu_us = 0;
  double switches = 0;
  Usage operator-(const Usage& o) const { return {cpu_us - o.cpu_us, switches - o.switches}; }
  Usage operator+(const Usage& o) const { return {cpu_us + o.cpu_us, switches + o.switches}; }
};

Usage usage_of_self() {
  rusage r{};
  ::getrusage(RUSAGE_SELF, &r);
  auto us = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec); };
  return {us(r.ru_utime) + us(r.ru_stime), static_cast<double>(r.ru_nvcsw + r.ru_nivcsw)};
}

Usage usage_of(pid_t pid) {
  Usage u;
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream in(text.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; in >> field; ++i) {  // fields after the name start at 3 (state)
      if (i == 14) utime = std::stod(field);
      if (i == 15) {
        stime = std::stod(field);
        break;
      }
    }
    u.cpu_us = (utime + stime) * 1e6 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  std::error_code ec;
  for (const auto& task : fs::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
    std::ifstream status(task.path() / "status");
    std::string line;
    while (std::getline(status, line))
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0 || line.rfind("nonvoluntary_ctxt_switches:", 0) == 0)
        u.switches += std::stod(line.substr(line.find(':') + 1));
  }
  return u;
}

Stats stats_of(std::vector<double> us, double seconds) {
  std::sort(us.begin(), us.end());
  Stats s;
  s.seconds = seconds;
  s.count = us.size();
  if (!us.empty()) {
    double sum = 0;
    for (double x : us) sum += x;
    s.mean_us = sum / static_cast<double>(us.size());
    s.p50_us = us[us.size() / 2];
    s.p99_us = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  }
  return s;
}

// ---- a minimal HTTP/1.1 client on one kept-alive connection ----------------------------

class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect failed");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Sends one request, returns (status, body).
  std::pair<int, std::string> call(const std::string& method, const std::string& path, const std::string& token,
                                   const std::string& body = {}) {
    std::string req = fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n", method, path, token);
    if (!body.empty()) req += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body.size());
    req += "\r\n" + body;
    for (std::size_t off = 0; off < req.size();) {
      ssize_t n = ::send(fd_, req.data() + off, req.size() - off, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      off += static_cast<std::size_t>(n);
    }
    std::size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) fill();
    std::string head = buf_.substr(0, head_end);
    int status = std::stoi(head.substr(9, 3));
    std::size_t length = 0;
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    auto cl = lower.find("content-length:");
    if (cl != std::string::npos) length = std::stoul(lower.substr(cl + 15));
    while (buf_.size() < head_end + 4 + length) fill();
    std::string out = buf_.substr(head_end + 4, length);
    buf_.erase(0, head_end + 4 + length);
    return {status, out};
  }

 private:
  void fill() {
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) throw std::runtime_error("connection closed");
    buf_.append(tmp, static_cast<std::size_t>(n));
  }
  int fd_ = -1;
  std::string buf_;
};

// ---- one loopback round trip -----------------------------------------------------------

double loopback_rtt_us(int rounds) {
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::listen(lfd, 1);
  socklen_t len = sizeof a;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  std::thread echo([lfd, rounds] {
    int c = ::accept(lfd, nullptr, nullptr);
    int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char b;
    for (int i = 0; i < rounds; ++i) {
      if (::recv(c, &b, 1, 0) != 1) break;
      ::send(c, &b, 1, MSG_NOSIGNAL);
    }
    ::close(c);
  });
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::vector<double> us;
  char b = 'x';
  for (int i = 0; i < rounds; ++i) {
    auto t0 = Clock::now();
    ::send(fd, &b, 1, MSG_NOSIGNAL);
    ::recv(fd, &b, 1, 0);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  ::close(fd);
  echo.join();
  ::close(lfd);
  return stats_of(us, 0).p50_us;
}

// ---- acm-server as a child process -----------------------------------------------------

struct ServerProcess {
  pid_t pid = -1;
  int port = 0;
  FILE* out = nullptr;
};

ServerProcess start_server(const std::string& program, const fs::path& dir, std::size_t clients,
                           const std::vector<std::string>& extra) {
  {
    std::ofstream t(dir / "tokens.json");
    t << R"({"tokens": [{"token": "bench-admin-token", "actor": "bench", "roles": ["admin"]}]})";
  }
  int pipefd[2];
  if (::pipe(pipefd) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  posix_spawn_file_actions_addclose(&fa, pipefd[0]);
  std::string db = (dir / "http.db").string(), tokens = (dir / "tokens.json").string();
  std::vector<std::string> args = {program, "--db", db, "--listen", "127.0.0.1:0", "--tokens", tokens,
                                   "--max-inflight", "256", "--threads", std::to_string(clients)};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ServerProcess s;
  if (posix_spawn(&s.pid, program.c_str(), &fa, nullptr, argv.data(), environ) != 0)
    throw std::runtime_error("cannot start " + program);
  posix_spawn_file_actions_destroy(&fa);
  ::close(pipefd[1]);
  s.out = ::fdopen(pipefd[0], "r");
  char line[512];
  if (!std::fgets(line, sizeof line, s.out)) throw std::runtime_error("acm-server did not start");
  std::smatch m;
  std::string l = line;
  if (!std::regex_search(l, m, std::regex(R"(listening on http://127\.0\.0\.1:(\d+))")))
    throw std::runtime_error("unexpected first line: " + l);
  s.port = std::stoi(m[1]);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string server;
  std::size_t clients = 32, requests = 200, rounds = 3;
  std::vector<std::string> server_args;
  for (int i = 1; i < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--") {
      server_args.assign(argv + i + 1, argv + argc);
      break;
    }
    if (i + 1 >= argc) {
      std::cerr << "usage: acm_bench_http --server PATH [--clients N] [--requests N] [--rounds N] [-- SERVER OPTIONS]\n";
      return 2;
    }
    if (a == "--server") server = argv[i + 1];
    else if (a == "--clients") clients = std::stoul(argv[i + 1]);
    else if (a == "--requests") requests = std::stoul(argv[i + 1]);
    else if (a == "--rounds") rounds = std::max<std::size_t>(1, std::stoul(argv[i + 1]));
    else {
      std::cerr << "usage: acm_bench_http --server PATH [--clients N] [--requests N]\n";
      return 2;
    }
  }
  if (server.empty()) {
    std::cerr << "usage: acm_bench_http --server PATH [--clients N] [--requests N]\n";
    return 2;
  }
  fs::path dir = fs::temp_directory_path() / fmt::format("acm-bench-http-{}", ::getpid());
  fs::create_directories(dir);
  int failures = 0;
  const std::string token = "bench-admin-token";
  ServerProcess sp = start_server(server, dir, clients, server_args);

  // In-process and HTTP alternate, `rounds` times each (the machine is shared: a burst of other
  // work then hits both sides); the figures reported are the round with the median p50 ratio.
  std::vector<std::pair<Stats, Stats>> results;
  for (std::size_t round = 0; round < rounds; ++round) {
    // ---- in-process ------------------------------------------------------------------
    Stats inproc;
    {
      acm::EngineOptions o;
      o.database = (dir / fmt::format("inproc-{}.db", round)).string();
      auto engine = acm::Engine::open(o);
      const acm::Actor admin{"bench", {"admin"}};
      std::vector<std::string> cases;
      for (std::size_t c = 0; c < clients; ++c) cases.push_back(engine->create_case(admin, acm::NewCase{.title = "load"}).created);
      std::vector<std::vector<double>> lat(clients);
      std::atomic<int> errors{0};
      const Usage u0 = usage_of_self();
      auto t0 = Clock::now();
      std::vector<std::thread> threads;
      for (std::size_t c = 0; c < clients; ++c)
        threads.emplace_back([&, c] {
          for (std::size_t i = 0; i < requests; ++i) {
            auto s = Clock::now();
            try {
              engine->set_file(admin, cases[c], "n", static_cast<int>(i));
            } catch (const std::exception&) {
              ++errors;
            }
            lat[c].push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
          }
        });
      for (auto& t : threads) t.join();
      double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      std::vector<double> all;
      for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
      inproc = stats_of(all, secs);
      const Usage used = usage_of_self() - u0;
      inproc.cpu_us = used.cpu_us / static_cast<double>(all.size());
      inproc.switches = used.switches / static_cast<double>(all.size());
      for (const auto& id : cases) {
        auto c = engine->get_case(id);
        if (c.file.value("n", -1) != static_cast<int>(requests) - 1 || engine->history(id).size() != 1 + requests) {
          std::cerr << "in-process: case " << id << " lost commands\n";
          ++failures;
        }
      }
      failures += errors.load();
    }

    // ---- over HTTP -------------------------------------------------------------------
    Stats over_http;
    {
      std::vector<std::string> cases;
      {
        Client setup(sp.port);
        for (std::size_t c = 0; c < clients; ++c) {
          auto [st, body] = setup.call("POST", "/v1/cases", token, R"({"title": "load"})");
          if (st != 201) throw std::runtime_error("create failed: " + body);
          cases.push_back(acm::Json::parse(body).at("created").get<std::string>());
        }
      }
      std::vector<std::vector<double>> lat(clients);
      std::atomic<int> errors{0};
      const Usage s0 = usage_of(sp.pid), u0 = usage_of_self() + s0;
      auto t0 = Clock::now();
      std::vector<std::thread> threads;
      for (std::size_t c = 0; c < clients; ++c)
        threads.emplace_back([&, c] {
          try {
            Client cl(sp.port);
            const std::string path = "/v1/cases/" + cases[c] + "/file/n";
            for (std::size_t i = 0; i < requests; ++i) {
              auto s = Clock::now();
              auto [st, body] = cl.call("PUT", path, token, std::to_string(i));
              lat[c].push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
              if (st != 200) {
                if (errors++ < 5) std::cerr << "HTTP " << st << ": " << body << "\n";
              }
            }
          } catch (const std::exception& e) {
            std::cerr << "client " << c << ": " << e.what() << "\n";
            ++errors;
          }
        });
      for (auto& t : threads) t.join();
      double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      std::vector<double> all;
      for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
      over_http = stats_of(all, secs);
      const Usage s1 = usage_of(sp.pid), used = usage_of_self() + s1 - u0, server_used = s1 - s0;
      over_http.server_cpu_us = server_used.cpu_us / static_cast<double>(all.size());
      over_http.server_switches = server_used.switches / static_cast<double>(all.size());
      over_http.cpu_us = used.cpu_us / static_cast<double>(all.size());
      over_http.switches = used.switches / static_cast<double>(all.size());
      failures += errors.load();
      // Nothing lost: every case holds its commands and the last value.
      Client check(sp.port);
      for (const auto& id : cases) {
        auto [st, body] = check.call("GET", "/v1/cases/" + id, token);
        auto [st2, hist] = check.call("GET", "/v1/cases/" + id + "/history", token);
        if (st != 200 || st2 != 200 ||
            acm::Json::parse(body).at("file").value("n", -1) != static_cast<int>(requests) - 1 ||
            acm::Json::parse(hist).size() != 1 + requests) {
          std::cerr << "HTTP: case " << id << " lost commands\n";
          ++failures;
        }
      }
    }
    std::cout << fmt::format("round {}: in-process p50 {:.0f} us (mean {:.0f}, {:.0f}/s, {:.0f} us CPU, {:.1f} switches), "
                             "HTTP p50 {:.0f} us (mean {:.0f}, {:.0f}/s, {:.0f} us CPU, {:.1f} switches; server {:.0f} us, {:.1f}): ratio {:.2f}\n",
                             round + 1, inproc.p50_us, inproc.mean_us, inproc.count / inproc.seconds, inproc.cpu_us,
                             inproc.switches, over_http.p50_us, over_http.mean_us, over_http.count / over_http.seconds,
                             over_http.cpu_us, over_http.switches, over_http.server_cpu_us, over_http.server_switches,
                             over_http.p50_us / inproc.p50_us);
    results.emplace_back(inproc, over_http);
  }
  {  // the server still answers after the load, then stops cleanly
    Client check(sp.port);
    if (check.call("GET", "/v1/me", token).first != 200) ++failures;
  }
  ::kill(sp.pid, SIGTERM);
  int wstatus = 0;
  ::waitpid(sp.pid, &wstatus, 0);
  std::fclose(sp.out);
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    std::cerr << "acm-server did not stop cleanly\n";
    ++failures;
  }
  double rtt = loopback_rtt_us(2000);
  fs::remove_all(dir);
  std::sort(results.begin(), results.end(),
            [](const auto& a, const auto& b) { return a.second.p50_us / a.first.p50_us < b.second.p50_us / b.first.p50_us; });
  const Stats inproc = results[results.size() / 2].first, over_http = results[results.size() / 2].second;

  auto row = [](const char* name, const Stats& s) {
    std::cout << fmt::format("| {} | {} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.1f} |\n", name, s.count,
                             s.count / s.seconds, s.p50_us, s.p99_us, s.mean_us, s.cpu_us, s.switches);
  };
  std::cout << fmt::format("\n{} clients x {} commands (set_file on the client's own case), durable commits; "
                           "the round with the median p50 ratio of {}\n\n",
                           clients, requests, rounds);
  std::cout << "| path | commands | per second | p50 (us) | p99 (us) | mean (us) | CPU per command (us) | "
               "context switches per command |\n|---|---|---|---|---|---|---|---|\n";
  row("in-process (Engine::set_file)", inproc);
  row("HTTP (PUT /v1/cases/{case}/file/n)", over_http);
  double bound = 2 * inproc.p50_us + rtt;
  std::cout << fmt::format("\nloopback round trip p50: {:.0f} us\n", rtt);
  std::cout << fmt::format("HTTP p50 / in-process p50: {:.2f}; target HTTP p50 <= 2 x in-process p50 + one round trip "
                           "= {:.0f} us: {}\n",
                           over_http.p50_us / inproc.p50_us, bound, over_http.p50_us <= bound ? "met" : "NOT met");
  std::cout << fmt::format("errors and lost commands: {}\n", failures);
  return failures == 0 ? 0 : 1;
}
