// SPDX-License-Identifier: Apache-2.0
// The Engine under concurrent use: commands on one case serialised, different cases in parallel,
// subscribers and timers racing with commands. Run under ThreadSanitizer in CI.
#include "support.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

using namespace acm;
using namespace acm::test;

namespace {

FragmentDef two_step() {
  FragmentDef f;
  f.id = "two_step";
  f.name = "Two steps";
  ItemDef a;
  a.id = "a";
  a.name = "first";
  a.estimate = std::chrono::minutes(10);
  ItemDef b;
  b.id = "b";
  b.name = "second";
  b.after = {"a"};
  b.estimate = std::chrono::minutes(10);
  ItemDef m;
  m.id = "done";
  m.kind = ItemKind::milestone;
  m.entry = {Sentry{"", {OnPart{OnPartSource::item, "b", "complete"}}, ""}};
  f.items = {a, b, m};
  return f;
}

}  // namespace

TEST_CASE("concurrency: many threads, many cases, one engine") {
  EngineFixture f;
  f.engine->register_fragment(f.admin, two_step());
  std::atomic<int> delivered{0};
  f.engine->subscribe([&](const Event&) { delivered.fetch_add(1, std::memory_order_relaxed); });

  constexpr int kThreads = 4, kCasesPerThread = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      Actor me{"worker" + std::to_string(th), {}};
      for (int i = 0; i < kCasesPerThread; ++i) {
        try {
          NewCase spec;
          spec.title = "case";
          std::string id = f.engine->create_case(me, spec).created;
          GoalSpec g;
          g.id = "done";
          g.milestones = {"done"};
          g.within = std::chrono::hours(1);
          f.engine->add_goal(me, id, g);
          std::string st = f.engine->add_fragment(me, id, {"two_step", 0, "done", Json::object()}).created;
          f.engine->complete_item(me, id, st + "/a");
          f.engine->set_file(me, id, "progress", i);
          f.engine->complete_item(me, id, st + "/b");
          if (f.engine->get_case(id).status != CaseStatus::completed) failures++;
        } catch (const std::exception& e) {
          failures++;
        }
      }
    });
  }
  // Meanwhile the clock moves and timers run.
  std::thread ticker([&] {
    for (int i = 0; i < 20; ++i) {
      f.clock->advance(std::chrono::minutes(1));
      std::this_thread::yield();
    }
  });
  for (auto& t : threads) t.join();
  ticker.join();
  CHECK(failures == 0);
  auto ids = f.engine->list_cases();
  CHECK(ids.size() == kThreads * kCasesPerThread);
  std::size_t events = 0;
  for (const auto& id : ids) {
    auto c = f.engine->get_case(id);
    CHECK(c.status == CaseStatus::completed);
    events += c.version;
  }
  CHECK(delivered.load() == static_cast<int>(events) * 1);
}

TEST_CASE("concurrency: commands on one case are serialised") {
  EngineFixture f;
  NewCase spec;
  std::string id = f.engine->create_case(f.admin, spec).created;
  constexpr int kThreads = 4, kWrites = 100;
  std::vector<std::thread> threads;
  std::atomic<int> conflicts{0};
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < kWrites; ++i) {
        f.engine->set_file(f.admin, id, "counter." + std::to_string(th), i + 1);
        // Optimistic concurrency: a stale expected version is refused without changing anything.
        auto v = f.engine->get_case(id).version;
        try {
          f.engine->set_file(Request(f.admin, v), id, "last", th * 1000 + i);
        } catch (const Error& e) {
          if (e.code() == ErrorCode::conflict) conflicts++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  auto c = f.engine->get_case(id);
  for (int th = 0; th < kThreads; ++th) CHECK(c.file["counter"][std::to_string(th)] == kWrites);
  auto h = f.engine->history(id);
  REQUIRE(h.size() == c.version);
  for (std::size_t i = 0; i < h.size(); ++i) CHECK(h[i].seq == i + 1);
  f.check_fold(id);
  MESSAGE("optimistic conflicts observed: " << conflicts.load());
}

TEST_CASE("concurrency: subscribers may call back into the engine") {
  EngineFixture f;
  NewCase spec;
  std::string id = f.engine->create_case(f.admin, spec).created;
  std::atomic<int> reactions{0};
  f.engine->subscribe(
      [&](const Event& e) {
        if (e.payload.value("path", "") == "ping") {
          f.engine->set_file(f.admin, e.case_id, "pong", e.payload["value"]);
          reactions++;
        }
      },
      {"file_set"});
  std::vector<std::thread> threads;
  for (int th = 0; th < 3; ++th)
    threads.emplace_back([&, th] {
      for (int i = 0; i < 30; ++i) f.engine->set_file(f.admin, id, "ping", th * 100 + i);
    });
  for (auto& t : threads) t.join();
  CHECK(reactions.load() == 90);
  f.check_fold(id);
}

TEST_CASE("concurrency: timers fire exactly once while commands keep their cases busy (SQLite, group commit)") {
  // run_due locks a chunk's cases, fires them and writes the chunk while it prepares the next;
  // a case a command holds ends the chunk and is taken, waited for, in the next one. Workers
  // hammer the same cases meanwhile; every timer must still fire once, none twice.
  const auto dir = std::filesystem::temp_directory_path() / ("acm-conc-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
  EngineOptions o;
  o.database = (dir / "acm.db").string();
  o.clock = clock;
  o.cache_capacity = 64;  // smaller than the cases: chunks load cases while others are evicted
  // Many chunks from few cases. (Also: ThreadSanitizer follows at most 64 mutexes held by one
  // thread, and run_due holds two chunks' cases.)
  o.timer_batch = 24;
  auto engine = Engine::open(o);
  Actor admin{"root", {"admin"}};
  FragmentDef f;
  f.id = "reminders";
  for (int k = 1; k <= 3; ++k) {
    ItemDef r;
    r.id = "r" + std::to_string(k);
    r.kind = ItemKind::timer_listener;
    r.timer = std::chrono::minutes(10 * k);
    f.items.push_back(r);
  }
  engine->register_fragment(admin, f);
  constexpr int kCases = 300;
  std::vector<std::string> ids;
  for (int i = 0; i < kCases; ++i) {
    ids.push_back(engine->create_case(admin, NewCase{.title = "c"}).created);
    engine->add_fragment(admin, ids.back(), {"reminders", 0, "", Json::object()});
  }
  std::atomic<int> occurred{0};
  engine->subscribe([&](const Event& e) {
    if (e.kind == "item_transition" && e.payload["transition"] == "occur") occurred++;
  });
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int th = 0; th < 3; ++th)
    workers.emplace_back([&, th] {
      for (int i = 0; !stop; ++i) {
        try {
          engine->set_file(admin, ids[static_cast<std::size_t>((i * 7 + th * 101) % kCases)], "touched", i);
        } catch (const std::exception&) {
          failures++;
        }
      }
    });
  // The workers are joined whatever happens, so that a failure in run_due is reported with its
  // message instead of ending the process (a joinable std::thread destroyed calls terminate).
  std::string advance_error;
  try {
    for (int step = 0; step < 8; ++step) clock->advance(std::chrono::minutes(5));  // 40 minutes
  } catch (const std::exception& e) {
    advance_error = e.what();
  }
  stop = true;
  for (auto& w : workers) w.join();
  CHECK_MESSAGE(advance_error.empty(), advance_error);
  CHECK(failures == 0);
  CHECK(occurred == kCases * 3);
  CHECK_FALSE(engine->next_due());
  for (int i : {0, 150, 299}) {
    const auto& id = ids[static_cast<std::size_t>(i)];
    int n = 0;
    for (const auto& e : engine->history(id)) n += e.kind == "item_transition" && e.payload["transition"] == "occur";
    CHECK(n == 3);
    CHECK(engine->inspect(id) == engine->inspect(id, true));
  }
  engine.reset();
  std::filesystem::remove_all(dir);
}

TEST_CASE("concurrency: concurrent retries with one idempotency key create one case") {
  const auto dir = std::filesystem::temp_directory_path() / ("acm-idem-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const std::string& db : {std::string(), (dir / "acm.db").string()}) {
    CAPTURE(db);
    EngineOptions o;
    o.database = db;
    auto engine = Engine::open(o);
    constexpr int kThreads = 6;
    for (int round = 0; round < 5; ++round) {
      std::vector<std::string> ids(kThreads);
      std::vector<std::thread> threads;
      std::atomic<int> failures{0};
      for (int th = 0; th < kThreads; ++th)
        threads.emplace_back([&, th] {
          Request r(Actor{"intake", {}});
          r.idempotency_key = "msg-" + std::to_string(round);
          try {
            ids[static_cast<std::size_t>(th)] = engine->create_case(r, NewCase{.title = "from e-mail"}).created;
          } catch (const std::exception&) {
            failures++;
          }
        });
      for (auto& t : threads) t.join();
      CHECK(failures == 0);
      for (const auto& id : ids) CHECK(id == ids[0]);
    }
    CHECK(engine->list_cases().size() == 5);
  }
  std::filesystem::remove_all(dir);
}
