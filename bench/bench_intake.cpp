// SPDX-License-Identifier: Apache-2.0
// Latency of one intake decision: a channel event through 50 rules, the 49 first of which do
// not match, the last one does; the decision is logged (in-memory store). Baselines in the same
// run: evaluating one parsed rule condition 50 times against the same event, and parsing the
// event's JSON text once. Reported as ratios to the baselines, since the machine is noisy.
//
//   cmake --build build-bench --target acm_bench_intake
//   build-bench/bench/acm_bench_intake --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <acm/acm.hpp>
#include <acm/intake.hpp>

#include "expr/expr.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>

using namespace acm;
using namespace acm::helpdesk;

namespace {

constexpr int kRules = 50;

const char* kEventText =
    R"({"id": "e-1", "channel": "email", "customer": "ann", "text": "My order A-17 never arrived, please help",
        "sentiment": -0.4, "metadata": {"order_id": "A-17", "subject": "late order"}})";

/// Condition of the i-th non-matching rule (it reads the customer too, as real rules do).
std::string fmt_condition(int i) {
  return "event.channel == 'fax" + std::to_string(i) + "' and event.sentiment < -0.5 and customer.open_cases >= 0";
}

Json rule_set(const char* last_action) {
  Json rules = Json::array();
  for (int i = 0; i < kRules - 1; ++i)
    rules.push_back({{"id", "r" + std::to_string(i)}, {"when", fmt_condition(i)}, {"ignore", true}});
  Json last = {{"id", "last"}, {"when", "event.channel == 'email' and contains(lower(event.text), 'order')"}};
  last[last_action] = std::string(last_action) == "ignore" ? Json(true) : Json::object();
  rules.push_back(last);
  return {{"rules", rules}};
}

struct Setup {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Intake> intake;
  ChannelEvent event = ChannelEvent::parse(kEventText);
  std::uint64_t next = 0;
  explicit Setup(const char* last_action) {
    EngineOptions o;
    o.clock = clock;
    engine = Engine::open(o);
    intake = std::make_unique<Intake>(*engine, IntakeRules::from_json(rule_set(last_action)));
  }
};

void BM_IntakeDecision(benchmark::State& state) {
  Setup s("ignore");
  for (auto _ : state) {
    s.event.id = "e-" + std::to_string(++s.next);
    auto d = s.intake->process(s.event);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_IntakeDecision)->Unit(benchmark::kMicrosecond);

// The same with the customer's open case found and the event attached to it (two commands).
void BM_IntakeDecisionAttach(benchmark::State& state) {
  Setup s("attach");
  NewCase spec;
  spec.subject.customer = "ann";
  s.engine->create_case(Actor{"root", {"admin"}}, spec);
  for (auto _ : state) {
    s.event.id = "e-" + std::to_string(++s.next);
    auto d = s.intake->process(s.event);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_IntakeDecisionAttach)->Unit(benchmark::kMicrosecond);

class EventEnv final : public expr::Environment {
 public:
  explicit EventEnv(Json event) : event_(std::move(event)), customer_{{"id", "ann"}, {"open_cases", 0}} {}
  expr::Value variable(std::string_view) const override { return {}; }
  expr::Value call(std::string_view, std::span<const expr::Value>) const override { return {}; }
  const Json* json_variable(std::string_view name) const override {
    if (name == "event") return &event_;
    if (name == "customer") return &customer_;
    return nullptr;
  }

 private:
  Json event_, customer_;
};

// Baseline: one parsed non-matching rule condition evaluated 50 times.
void BM_Baseline_Evaluate50(benchmark::State& state) {
  expr::ParseOptions o;
  o.variables = {"event", "customer", "now"};
  auto e = expr::Expression::parse(fmt_condition(7), o);
  EventEnv env(Json::parse(kEventText));
  for (auto _ : state) {
    int hits = 0;
    for (int i = 0; i < kRules; ++i) hits += e.test(env) ? 1 : 0;
    benchmark::DoNotOptimize(hits);
  }
}
BENCHMARK(BM_Baseline_Evaluate50)->Unit(benchmark::kMicrosecond);

// Baseline: parsing the event's JSON text once.
void BM_Baseline_JsonParse(benchmark::State& state) {
  for (auto _ : state) {
    auto j = Json::parse(kEventText);
    benchmark::DoNotOptimize(j);
  }
}
BENCHMARK(BM_Baseline_JsonParse)->Unit(benchmark::kMicrosecond);

/// Prints as usual, and remembers each benchmark's mean real time for the ratios.
class RatioReporter final : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> mean_ns;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "mean") continue;
      std::string name = r.run_name.function_name;
      double ns = r.GetAdjustedRealTime() * (r.time_unit == benchmark::kMicrosecond ? 1e3 : 1.0);
      if (r.run_type == Run::RT_Aggregate || !mean_ns.count(name)) mean_ns[name] = ns;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  auto& m = reporter.mean_ns;
  auto ratio = [&](const char* a, const char* b) {
    if (m.count(a) && m.count(b) && m[b] > 0) std::printf("%-26s / %-24s = %6.2f\n", a, b, m[a] / m[b]);
  };
  std::printf("\nRatios (mean real time):\n");
  ratio("BM_IntakeDecision", "BM_Baseline_Evaluate50");
  ratio("BM_IntakeDecision", "BM_Baseline_JsonParse");
  ratio("BM_IntakeDecisionAttach", "BM_Baseline_Evaluate50");
  ratio("BM_IntakeDecisionAttach", "BM_IntakeDecision");
  benchmark::Shutdown();
  return 0;
}
