// SPDX-License-Identifier: Apache-2.0
// A child process for the crash test: runs a stream of commands on a store file and prints
// one line "ACK <case> <version>" after each command returned (i.e. is durable). The parent
// kills it with SIGKILL at a random moment.
//   acm_crash_child <db> <start-time-ms> <seed>
#include <acm/acm.hpp>

#include <atomic>
#include <cstdlib>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <thread>

using namespace acm;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  auto clock = std::make_shared<ManualClock>(TimePoint{Duration{std::stoll(argv[2])}});
  EngineOptions o;
  o.database = argv[1];
  o.clock = clock;
  o.snapshot_every = 7;  // snapshots often, so kills land around them too
  std::unique_ptr<Engine> engine;
  try {
    engine = Engine::open(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "open failed: %s\n", e.what());
    return 3;
  }
  Actor admin{"root", {"admin"}};
  try {
    engine->get_fragment("crash");
  } catch (const Error&) {
    FragmentDef f;
    f.id = "crash";
    ItemDef t;
    t.id = "work";
    t.estimate = 10min;
    t.repetition = "repetitionCounter < 1000";
    ItemDef timer;
    timer.id = "tick";
    timer.kind = ItemKind::timer_listener;
    timer.timer = 1min;
    ItemDef after;
    after.id = "after_tick";
    after.entry = {Sentry{"", {OnPart{OnPartSource::item, "tick", "occur"}}, ""}};
    after.manual_activation = "true";
    f.items = {t, timer, after};
    engine->register_fragment(admin, f);
  }
  std::mutex out;
  auto ack = [&](const std::string& id, std::uint64_t v) {
    std::lock_guard lk(out);
    std::printf("ACK %s %llu\n", id.c_str(), static_cast<unsigned long long>(v));
    std::fflush(stdout);
  };
  std::atomic<bool> stop{false};
  auto work = [&](int seed) {
    std::mt19937 rng(seed);
    Actor me{"worker", {"admin"}};
    while (!stop) {
      std::string id = engine->create_case(me, NewCase{.title = "crash"}).created;
      ack(id, 1);
      std::string st = engine->add_fragment(me, id, {"crash", 0, "", Json::object()}).created;
      ack(id, engine->get_case(id).version);
      int rounds = 3 + static_cast<int>(rng() % 10);
      std::string item = st + "/work";
      for (int i = 0; i < rounds; ++i) {
        auto r = engine->set_file(me, id, "step", i);
        ack(id, r.version);
        r = engine->complete_item(me, id, item);
        ack(id, r.version);
        item = st + "/work@" + std::to_string(i + 2);
      }
    }
  };
  auto worker = [&](int seed) {
    try {
      work(seed);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "worker failed: %s\n", e.what());
      std::_Exit(4);
    }
  };
  std::thread a(worker, std::stoi(argv[3])), b(worker, std::stoi(argv[3]) + 1);
  // The clock moves on: timers fall due and fire while the workers write.
  for (int i = 0; i < 100000; ++i) {
    std::this_thread::sleep_for(2ms);
    clock->advance(20s);
  }
  stop = true;
  a.join();
  b.join();
  return 0;
}
