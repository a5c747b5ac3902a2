// SPDX-License-Identifier: Apache-2.0
// A worker process of the multi-process PostgreSQL test (tests/postgres/test_multiprocess.cpp):
// an Engine on the shared database running commands on the shared cases "mp-0" ... while its
// clock moves on and fires timers (run_due through the ManualClock).
//   acm_pg_worker <database> <run-id> <seed> <cases> <commands> <start-ms>
// Prints "ACK <key> <case> <version>" after each command returned (it is durable and visible to
// every process), "DONE" at the end. The parent may kill it with SIGKILL at any moment.
// Every command carries the idempotency key <key>: "<run-id>-<n>"; set_file writes the path
// "k<run-id>_<n>" so the parent can count the command's effect in the case history.
#include <acm/acm.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <thread>

using namespace acm;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: acm_pg_worker <database> <run-id> <seed> <cases> <commands> <start-ms>\n");
    return 2;
  }
  const std::string run = argv[2];
  const unsigned seed = static_cast<unsigned>(std::stoul(argv[3]));
  const int cases = std::stoi(argv[4]);
  const int commands = std::stoi(argv[5]);
  auto clock = std::make_shared<ManualClock>(TimePoint{Duration{std::stoll(argv[6])}});
  EngineOptions o;
  o.database = argv[1];
  o.clock = clock;
  o.snapshot_every = 5;  // snapshots often: loads after conflicts use them
  std::unique_ptr<Engine> engine;
  try {
    engine = Engine::open(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "open failed: %s\n", e.what());
    return 3;
  }
  std::mutex out;
  std::atomic<bool> stop{false};
  // The clock moves on while the commands run: every process fires what is due by its clock.
  std::thread ticker([&] {
    while (!stop) {
      std::this_thread::sleep_for(3ms);
      try {
        clock->advance(7s);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "run_due failed: %s\n", e.what());
        std::_Exit(5);
      }
    }
  });
  std::mt19937 rng(seed);
  Actor me{"worker-" + run, {"admin"}};
  int failed = 0;
  for (int n = 0; n < commands; ++n) {
    const std::string id = "mp-" + std::to_string(rng() % static_cast<unsigned>(cases));
    const std::string key = run + "-" + std::to_string(n);
    Request by(me);
    by.idempotency_key = key;
    std::uint64_t version = 0;
    try {
      if (rng() % 4 == 0) {
        engine->add_fragment(by, id, {"mp", 0, "", Json::object()});
        version = engine->get_case(id).version;
      } else {
        version = engine->set_file(by, id, "k" + run + "_" + std::to_string(n), n).version;
      }
    } catch (const Error& e) {
      // Conflicts are retried by the engine a bounded number of times; one that still fails
      // is reported and not acknowledged.
      std::fprintf(stderr, "command %s on %s failed: %s\n", key.c_str(), id.c_str(), e.what());
      if (e.code() != ErrorCode::conflict || ++failed > commands / 10) {
        stop = true;
        ticker.join();
        return 4;
      }
      continue;
    }
    std::lock_guard lk(out);
    std::printf("ACK %s %s %llu\n", key.c_str(), id.c_str(), static_cast<unsigned long long>(version));
    std::fflush(stdout);
  }
  stop = true;
  ticker.join();
  std::printf("DONE\n");
  std::fflush(stdout);
  return 0;
}
