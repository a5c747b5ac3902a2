// The Engine under concurrent use: commands on one case serialised, different cases in parallel,
// subscribers and timers racing with commands. Run under ThreadSanitizer in CI.
#include "support.hpp"

#include <atomic>
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
          std::string id = f.engine->create_case(me, spec);
          GoalSpec g;
          g.id = "done";
          g.milestones = {"done"};
          g.within = std::chrono::hours(1);
          f.engine->add_goal(me, id, g);
          std::string st = f.engine->add_fragment(me, id, {"two_step", 0, "done", Json::object()});
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
  std::string id = f.engine->create_case(f.admin, spec);
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
  std::string id = f.engine->create_case(f.admin, spec);
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
