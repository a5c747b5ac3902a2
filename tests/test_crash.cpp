// SPDX-License-Identifier: Apache-2.0
// Crash test: a child process writes a stream of commands to a real store file and reports
// each acknowledgement; the parent kills it with SIGKILL at random moments, reopens the file
// and checks that nothing acknowledged was lost, the file is intact, every case's state is the
// fold of its events and no timer fired twice.
#include "support.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <sstream>

using namespace acm;
using namespace acm::test;

namespace {

struct Child {
  pid_t pid = -1;
  int out = -1;
};

Child spawn(const std::string& db, std::int64_t start_ms, int seed) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::string start = std::to_string(start_ms), s = std::to_string(seed);
    execl(ACM_CRASH_CHILD, ACM_CRASH_CHILD, db.c_str(), start.c_str(), s.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  return Child{pid, fds[0]};
}

std::string integrity(const std::string& path) {
  sqlite3* db = nullptr;
  std::string result;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    result = std::string("cannot open: ") + sqlite3_errmsg(db);
  } else {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) != SQLITE_OK) {
      result = std::string("cannot check: ") + sqlite3_errmsg(db);
    } else {
      while (sqlite3_step(st) == SQLITE_ROW) result += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);  // also after a failed open, which allocates a handle
  return result;
}

}  // namespace

TEST_CASE("crash: SIGKILL at random moments loses no acknowledged command") {
  auto dir = std::filesystem::temp_directory_path() / ("acm-crash-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string db = (dir / "crash.db").string();
  std::map<std::string, std::uint64_t> acked;  // case -> highest acknowledged version
  std::mt19937 rng(20261123);
  const std::int64_t t0 = parse_time("2026-11-23T09:00:00Z").time_since_epoch().count();
  constexpr int kKills = 20;
  std::size_t total_acks = 0;
  for (int round = 0; round < kKills; ++round) {
    Child c = spawn(db, t0 + round * 3600000LL, static_cast<int>(rng() % 1000));
    // Wait until it works (its first acknowledgement; slow under sanitizers), let it run a
    // random while longer (reading acknowledgements), then kill it.
    std::string pending;
    char buf[4096];
    fcntl(c.out, F_SETFL, O_NONBLOCK);
    auto started = std::chrono::steady_clock::now();
    while (pending.find("ACK") == std::string::npos &&
           std::chrono::steady_clock::now() - started < std::chrono::seconds(120)) {
      ssize_t n = read(c.out, buf, sizeof buf);
      if (n > 0) pending.append(buf, static_cast<std::size_t>(n));
      else if (n == 0) break;  // the child died
      else usleep(1000);
    }
    REQUIRE_MESSAGE(pending.find("ACK") != std::string::npos, "the child never acknowledged a command");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(20 + rng() % 400);
    while (std::chrono::steady_clock::now() < deadline) {
      ssize_t n = read(c.out, buf, sizeof buf);
      if (n > 0) pending.append(buf, static_cast<std::size_t>(n));
      else usleep(1000);
    }
    kill(c.pid, SIGKILL);
    int status = 0;
    waitpid(c.pid, &status, 0);
    REQUIRE_MESSAGE(WIFSIGNALED(status), "the child ended by itself (status " << status << ")");
    // Acknowledgements written before the kill are still in the pipe.
    while (true) {
      ssize_t n = read(c.out, buf, sizeof buf);
      if (n <= 0) break;
      pending.append(buf, static_cast<std::size_t>(n));
    }
    close(c.out);
    std::istringstream lines(pending);
    std::string line;
    while (std::getline(lines, line)) {
      if (lines.eof() && pending.back() != '\n') break;  // a half-written last line
      std::istringstream w(line);
      std::string tag, id;
      std::uint64_t v = 0;
      w >> tag >> id >> v;
      if (tag != "ACK") continue;
      acked[id] = std::max(acked[id], v);
      ++total_acks;
    }

    REQUIRE(integrity(db) == "ok");
    // Reopen and verify (the engine's own lock is released: the child is dead).
    EngineOptions o;
    o.database = db;
    o.clock = std::make_shared<ManualClock>(TimePoint{Duration{t0 + round * 3600000LL}});
    auto engine = Engine::open(o);
    for (const auto& [id, v] : acked) {
      auto info = engine->find_case(id);
      REQUIRE_MESSAGE(info, "acknowledged case " << id << " is missing");
      CHECK_MESSAGE(info->version >= v, id << " acknowledged at version " << v << " but stored at " << info->version);
    }
  }
  CHECK(total_acks > 100);
  // Final check: every case is the fold of its events, and no timer fired twice, also after all
  // due timers fire on reopen.
  EngineOptions o;
  o.database = db;
  auto clock = std::make_shared<ManualClock>(TimePoint{Duration{t0 + kKills * 3600000LL}});
  o.clock = clock;
  auto engine = Engine::open(o);
  clock->advance(std::chrono::hours(24));
  std::size_t cases = 0;
  for (const auto& id : engine->list_cases()) {
    ++cases;
    Json live = engine->inspect(id);
    Json rebuilt = engine->inspect(id, true);
    CHECK_MESSAGE(live == rebuilt, "case " << id << " differs from the fold of its events");
    std::map<std::string, int> occurs;
    auto h = engine->history(id);
    for (std::size_t i = 0; i < h.size(); ++i) {
      CHECK(h[i].seq == i + 1);
      if (h[i].kind == "item_transition" && h[i].payload["transition"] == "occur") occurs[h[i].payload["item"]]++;
    }
    for (const auto& [item, n] : occurs) CHECK_MESSAGE(n == 1, item << " in " << id << " fired " << n << " times");
  }
  CHECK(cases >= acked.size());
  MESSAGE("crash test: " << kKills << " kills, " << total_acks << " acknowledgements, " << cases << " cases verified");
  engine.reset();
  std::filesystem::remove_all(dir);
}
