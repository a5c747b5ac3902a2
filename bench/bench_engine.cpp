// SPDX-License-Identifier: Apache-2.0
// Latency of a typical command on a case held in memory: complete a task of a 50-item plan
// (re-evaluate sentries to a fixed point, recompute the goal's critical path, append events,
// deliver nothing). Baseline in the same run: building and appending the same number of event
// records with JSON payloads, the bookkeeping no engine can avoid.
//
//   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DACM_BUILD_BENCH=ON
//   cmake --build build-bench --target acm_bench_engine
//   build-bench/bench/acm_bench_engine --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <acm/acm.hpp>

#include <benchmark/benchmark.h>

#include <string>

using namespace acm;
using namespace std::chrono_literals;

namespace {

constexpr int kItems = 50;

FragmentDef chain() {
  FragmentDef f;
  f.id = "chain";
  f.name = "chain";
  for (int i = 0; i < kItems - 1; ++i) {
    ItemDef t;
    t.id = "t" + std::to_string(i);
    t.name = t.id;
    t.role = "agent";
    t.estimate = 30min;
    if (i > 0) t.after = {"t" + std::to_string(i - 1)};
    f.items.push_back(t);
  }
  ItemDef m;
  m.id = "done";
  m.kind = ItemKind::milestone;
  m.entry = {Sentry{"", {OnPart{OnPartSource::item, "t" + std::to_string(kItems - 2), "complete"}}, ""}};
  f.items.push_back(m);
  return f;
}

struct Setup {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
  std::unique_ptr<Engine> engine;
  Actor admin{"root", {"admin"}};
  Actor agent{"bob", {}};
  Setup() {
    EngineOptions o;
    o.clock = clock;
    engine = Engine::open(o);
    engine->register_fragment(admin, chain());
  }
  std::string new_case() {
    NewCase spec;
    spec.title = "bench";
    spec.participants = {{"bob", {"agent"}}};
    auto id = engine->create_case(admin, spec).created;
    GoalSpec g;
    g.id = "g";
    g.within = 48h;
    g.milestones = {"done"};
    engine->add_goal(admin, id, g);
    engine->add_fragment(admin, id, {"chain", 0, "g", Json::object()});
    return id;
  }
};

void BM_CompleteTask(benchmark::State& state) {
  Setup s;
  std::string id = s.new_case();
  int next = 0;
  for (auto _ : state) {
    if (next == kItems - 1) {
      state.PauseTiming();
      id = s.new_case();
      next = 0;
      state.ResumeTiming();
    }
    auto r = s.engine->complete_item(s.agent, id, "chain#1/t" + std::to_string(next++));
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_CompleteTask)->Unit(benchmark::kMicrosecond);

// Baseline: what any event-sourced engine pays per command of this size: five event records
// with JSON payloads built and appended.
void BM_Baseline_EventRecords(benchmark::State& state) {
  std::vector<Event> log;
  log.reserve(1 << 20);
  std::uint64_t seq = 0;
  for (auto _ : state) {
    for (int k = 0; k < 5; ++k) {
      Event e;
      e.case_id = "case-1";
      e.seq = ++seq;
      e.kind = "item_transition";
      e.payload = Json{{"item", "chain#1/t12"}, {"transition", "complete"}, {"from", "active"}, {"to", "completed"}};
      log.push_back(std::move(e));
    }
    if (log.size() > 1000000) log.clear();
    benchmark::DoNotOptimize(log.data());
  }
}
BENCHMARK(BM_Baseline_EventRecords)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
