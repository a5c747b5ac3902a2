// SPDX-License-Identifier: Apache-2.0
// Several processes on one PostgreSQL database (issue 18, point 5): worker processes
// (tests/postgres/pg_worker.cpp) run commands on shared cases while their clocks fire timers;
// one test lets them finish, the other kills one with SIGKILL at random moments while the
// others go on. Afterwards: every acknowledged command is in the history exactly once, every
// timer fired exactly once, each case's state replayed from its whole history equals the state
// loaded from its snapshot, and the event feed holds every event once, in version order.
#include <acm/acm.hpp>

#include "pg_support.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace acm;
using namespace std::chrono_literals;

namespace {

const TimePoint kStart = parse_time("2026-11-23T09:00:00Z");
constexpr int kCases = 8;

struct Ack {
  std::string key, case_id;
  std::uint64_t version = 0;
};

/// A worker process and the thread reading its acknowledgements.
class Worker {
 public:
  Worker(const std::string& db, const std::string& run, unsigned seed, int commands) : run_(run) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);  // dup2 below clears it on the child's stdout
    // Everything the child needs is built before fork (the parent has threads).
    const std::string s = std::to_string(seed), c = std::to_string(kCases), n = std::to_string(commands);
    const std::string t = std::to_string(kStart.time_since_epoch().count());
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execl(ACM_PG_WORKER, ACM_PG_WORKER, db.c_str(), run.c_str(), s.c_str(), c.c_str(), n.c_str(), t.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    last_ = std::chrono::steady_clock::now();
    reader_ = std::thread([this, fd = fds[0]] {
      FILE* in = ::fdopen(fd, "r");
      char line[512];
      while (std::fgets(line, sizeof line, in)) {
        std::istringstream words(line);
        std::string tag;
        words >> tag;
        std::lock_guard lk(mutex_);
        last_ = std::chrono::steady_clock::now();
        if (tag == "ACK") {
          Ack a;
          words >> a.key >> a.case_id >> a.version;
          acks_.push_back(a);
        } else if (tag == "DONE") {
          done_ = true;
        }
      }
      std::fclose(in);
    });
  }
  ~Worker() {
    kill();
    wait();
  }
  void kill() {
    if (pid_ > 0 && !reaped_) ::kill(pid_, SIGKILL);
  }
  /// Waits for the process to end; its exit status (or 128 + signal).
  int wait() {
    if (!reaped_) {
      int st = 0;
      ::waitpid(pid_, &st, 0);
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      reaped_ = true;
    }
    if (reader_.joinable()) reader_.join();
    return status_;
  }
  bool exited() {
    if (reaped_) return true;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      reaped_ = true;
    }
    return reaped_;
  }
  std::size_t acked() {
    std::lock_guard lk(mutex_);
    return acks_.size();
  }
  std::chrono::steady_clock::duration silent_for() {
    std::lock_guard lk(mutex_);
    return std::chrono::steady_clock::now() - last_;
  }
  std::vector<Ack> acks() {
    std::lock_guard lk(mutex_);
    return acks_;
  }
  bool done() {
    std::lock_guard lk(mutex_);
    return done_;
  }
  const std::string& run() const { return run_; }

 private:
  std::string run_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = -1;
  std::thread reader_;
  std::mutex mutex_;
  std::vector<Ack> acks_;
  bool done_ = false;
  std::chrono::steady_clock::time_point last_;
};

/// The shared cases mp-0 ... and the fragment whose timer the workers add.
void set_up(const std::string& db) {
  EngineOptions o;
  o.database = db;
  o.clock = std::make_shared<ManualClock>(kStart);
  auto engine = Engine::open(o);
  Actor admin{"root", {"admin"}};
  FragmentDef f;
  f.id = "mp";
  ItemDef tick;
  tick.id = "tick";
  tick.kind = ItemKind::timer_listener;
  tick.timer = std::chrono::minutes(1);
  ItemDef after;
  after.id = "after_tick";
  after.entry = {Sentry{"", {OnPart{OnPartSource::item, "tick", "occur"}}, ""}};
  after.manual_activation = "true";
  f.items = {tick, after};
  engine->register_fragment(admin, f);
  for (int i = 0; i < kCases; ++i) engine->create_case(admin, NewCase{.id = fmt::format("mp-{}", i), .title = "shared"});
}

/// Every check of the issue on the database after the workers: see the file comment.
/// Returns (events, timers fired).
std::pair<std::size_t, std::size_t> verify(const std::string& db, const std::vector<Ack>& acks) {
  // Timers still pending fire now (a process that was killed left its share to the others).
  auto clock = std::make_shared<ManualClock>(kStart);
  {
    EngineOptions o;
    o.database = db;
    o.clock = clock;
    auto engine = Engine::open(o);
    clock->advance(std::chrono::hours(24 * 365));
    engine->run_due();
    // A killed worker's claim vanishes when the server notices that its connection is gone;
    // until then run_due passes over the claimed cases (SKIP LOCKED), as it should, and they
    // are still due. So fire until nothing is due (bounded: a claim that never went away
    // leaves its timers unfired and fails the checks below).
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    int rounds = 0;
    for (auto next = engine->next_due(); next && *next <= clock->now(); next = engine->next_due()) {
      if (std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(50ms);
      ++rounds;
      if (std::size_t n = engine->run_due())
        std::fprintf(stderr, "verify: %zu timers fired in round %d, after a killed worker's claim ended\n", n, rounds);
    }
  }
  PostgresStoreOptions so;
  so.conninfo = db;
  auto store = open_postgres_store(so);
  std::map<std::string, std::vector<Event>> history;
  std::size_t all = 0, timers = 0;
  for (int i = 0; i < kCases; ++i) {
    const std::string id = fmt::format("mp-{}", i);
    auto events = store->load_events(id, 1);
    REQUIRE(events);
    auto row = store->load_case(id);
    REQUIRE(row);
    CHECK(row->row.version == events->size());
    for (std::size_t k = 0; k < events->size(); ++k) CHECK((*events)[k].seq == k + 1);
    all += events->size();
    // Every timer fired exactly once: each added stage's tick occurred once.
    std::map<std::string, int> ticks;
    for (const auto& e : *events)
      if (e.kind == "fragment_added") ticks[e.payload["item"].get<std::string>() + "/tick"] += 0;
    for (const auto& e : *events)
      if (e.kind == "item_transition" && e.payload.value("transition", "") == "occur") {
        auto it = ticks.find(e.payload["item"].get<std::string>());
        if (it != ticks.end()) ++it->second;
      }
    for (const auto& [item, n] : ticks) {
      CHECK_MESSAGE(n == 1, id << ": timer " << item << " fired " << n << " times");
      timers += static_cast<std::size_t>(n);
    }
    history[id] = std::move(*events);
  }
  // Every acknowledged command is there exactly once.
  std::map<std::string, int> paths;
  for (const auto& [id, events] : history)
    for (const auto& e : events)
      if (e.kind == "file_set") ++paths[e.payload["path"].get<std::string>()];
  for (const auto& [path, n] : paths) CHECK_MESSAGE(n == 1, path << " set " << n << " times");
  for (const Ack& a : acks) {
    auto stored = store->idempotent_result(a.key);
    REQUIRE_MESSAGE(stored, "acknowledged command " << a.key << " has no stored result");
    CHECK(stored->value("case", "") == a.case_id);
    const auto first = (*stored)["first_seq"].get<std::uint64_t>(), last = (*stored)["last_seq"].get<std::uint64_t>();
    const auto& events = history[a.case_id];
    REQUIRE(last <= events.size());
    REQUIRE(first >= 1);
    bool found = false;
    for (std::uint64_t s = first; s <= last; ++s) {
      const Event& e = events[s - 1];
      if (e.kind == "fragment_added" || (e.kind == "file_set" && e.payload["path"] == "k" + a.key.substr(0, a.key.find('-')) + "_" + a.key.substr(a.key.find('-') + 1)))
        found = true;
    }
    CHECK_MESSAGE(found, "acknowledged command " << a.key << " is not in the history of " << a.case_id);
  }
  // The feed holds every event exactly once, each case's in version order, equal to the stored
  // ones. A transaction elsewhere on the server (another test's) may hold the feed back for a
  // while: an empty page means "nothing final yet", so read until all have arrived.
  {
    std::vector<FeedEntry> feed;
    std::string cursor;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (feed.size() < all && std::chrono::steady_clock::now() < deadline) {
      auto page = store->read_feed(cursor, 500);
      if (page.empty()) std::this_thread::sleep_for(10ms);
      for (auto& e : page) {
        cursor = e.position;
        feed.push_back(std::move(e));
      }
    }
    CHECK(feed.size() == all);
    CHECK(store->read_feed(cursor, 10).empty());
    std::map<std::string, std::uint64_t> last;
    for (const auto& e : feed) {
      const auto& events = history[e.event.case_id];
      REQUIRE_MESSAGE(e.event.seq == last[e.event.case_id] + 1,
                      "feed: " << e.event.case_id << " event " << e.event.seq << " after " << last[e.event.case_id]);
      last[e.event.case_id] = e.event.seq;
      REQUIRE(e.event.seq <= events.size());
      const Event& stored = events[e.event.seq - 1];
      CHECK(e.event.kind == stored.kind);
      CHECK(e.event.payload == stored.payload);
    }
    for (const auto& [id, events] : history) CHECK(last[id] == events.size());
  }
  // A case's state replayed from its whole history equals the state loaded from its snapshot.
  std::map<std::string, Json> with_snapshots;
  {
    EngineOptions o;
    o.database = db;
    o.clock = clock;
    auto engine = Engine::open(o);
    for (const auto& [id, events] : history) {
      with_snapshots[id] = to_json(engine->get_case(id));
      CHECK(engine->get_case(id).version == events.size());
    }
  }
  test::postgres_exec(db, "DELETE FROM snapshots");
  {
    EngineOptions o;
    o.database = db;
    o.clock = clock;
    auto engine = Engine::open(o);
    for (const auto& [id, events] : history) CHECK(to_json(engine->get_case(id)) == with_snapshots[id]);
  }
  return {all, timers};
}

}  // namespace

TEST_CASE("postgres: 4 processes run commands and timers on shared cases, each command and timer counts once") {
  const std::string db = test::fresh_postgres_database("mp");
  set_up(db);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < 4; ++i) workers.push_back(std::make_unique<Worker>(db, fmt::format("r{}", i), 11u + i, 60));
  std::vector<Ack> acks;
  for (auto& w : workers) {
    CHECK(w->wait() == 0);
    CHECK(w->done());
    auto a = w->acks();
    CHECK(a.size() == 60);
    acks.insert(acks.end(), a.begin(), a.end());
  }
  auto [events, timers] = verify(db, acks);
  // On stderr too: ctest -V shows the figures of a passing run (MESSAGE needs doctest's -s).
  std::fprintf(stderr, "multi-process: 4 processes, %zu commands acknowledged, %zu events, %zu timers fired once each\n",
               acks.size(), events, timers);
  MESSAGE("4 processes, " << acks.size() << " commands acknowledged, " << events << " events, " << timers
                          << " timers fired once each");
  CHECK(timers > 0);
}

TEST_CASE("postgres: one of 4 processes killed with SIGKILL 10 times at random moments, nothing acknowledged is "
          "lost, no timer is lost or doubled, the others never stall") {
  const std::string db = test::fresh_postgres_database("kill");
  set_up(db);
  std::vector<std::unique_ptr<Worker>> workers;
  int runs = 0;
  for (int i = 0; i < 4; ++i)
    workers.push_back(std::make_unique<Worker>(db, fmt::format("r{}", runs++), 100u + i, 1000000));
  std::mt19937 rng(42);
  std::vector<Ack> acks;
  constexpr auto kBound = 20s;  // the longest any live worker may go without acknowledging
  int kills = 0;
  for (; kills < 10; ++kills) {
    const auto pause = std::chrono::milliseconds(300 + rng() % 700);
    const auto until = std::chrono::steady_clock::now() + pause;
    while (std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(20ms);
      for (auto& w : workers) {
        REQUIRE_MESSAGE(!w->exited(), "worker " << w->run() << " ended by itself (status " << w->wait() << ")");
        REQUIRE_MESSAGE(w->silent_for() < kBound, "worker " << w->run() << " stalled");
      }
    }
    auto& victim = workers[rng() % workers.size()];
    victim->kill();
    CHECK(victim->wait() == 128 + SIGKILL);
    auto a = victim->acks();
    acks.insert(acks.end(), a.begin(), a.end());
    victim = std::make_unique<Worker>(db, fmt::format("r{}", runs), 100u + static_cast<unsigned>(runs), 1000000);
    ++runs;
  }
  // Every live worker still makes progress after the last kill.
  std::vector<std::size_t> before;
  for (auto& w : workers) before.push_back(w->acked());
  const auto deadline = std::chrono::steady_clock::now() + kBound;
  for (std::size_t i = 0; i < workers.size(); ++i)
    while (workers[i]->acked() <= before[i]) {
      REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "worker " << workers[i]->run() << " stalled");
      std::this_thread::sleep_for(20ms);
    }
  for (auto& w : workers) {
    w->kill();
    w->wait();
    auto a = w->acks();
    acks.insert(acks.end(), a.begin(), a.end());
  }
  auto [events, timers] = verify(db, acks);
  std::fprintf(stderr,
               "kill -9: 4 processes, %d kills (%d processes in all), %zu commands acknowledged, %zu events, %zu "
               "timers fired once each\n",
               kills, runs, acks.size(), events, timers);
  MESSAGE("4 processes, " << kills << " kills (" << runs << " processes in all), " << acks.size()
                          << " commands acknowledged, " << events << " events, " << timers << " timers fired once each");
  CHECK(kills >= 10);
}
