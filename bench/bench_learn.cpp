// SPDX-License-Identifier: Apache-2.0
// Learning speed on the real help-desk log (Google Benchmark).
//
//   BM_ImportLog      baseline: stream-import helpdesk_tax2017.csv (read, parse, group by case)
//   BM_LearnWholeLog  add every case of the log to a learner and train() both models
//   BM_CountTables    baseline: add every case (count tables only), no boosted models
//   BM_Recommend      one next-step recommendation (top 5 with evidence) for a running case
//   BM_RecommendCounts baseline: the same query answered by the count tables alone
//   BM_Completion     one completion forecast (three quantile models) with evidence
//
// The log is found in ACM_DATA_DIR (default ../shared/data next to the source tree).
//   build-bench/bench/acm_bench_learn --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <acm/eventlog.hpp>
#include <acm/learn.hpp>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <stdexcept>

using namespace acm;

namespace {

std::string log_path() {
  const char* dir = std::getenv("ACM_DATA_DIR");
  return std::string(dir ? dir : ACM_DATA_DIR) + "/helpdesk/helpdesk_tax2017.csv";
}

eventlog::CsvMapping mapping() {
  eventlog::CsvMapping m;
  m.case_id = "CaseID";
  m.activity = "ActivityID";
  m.timestamp = "CompleteTimestamp";
  return m;
}

learn::Trace to_trace(eventlog::LogCase&& c) {
  learn::Trace t;
  t.id = std::move(c.id);
  t.attributes = std::move(c.attributes);
  for (auto& e : c.events) t.steps.push_back(learn::Step{std::move(e.activity), e.time, std::move(e.resource), false, std::move(e.attributes)});
  return t;
}

const std::vector<learn::Trace>& traces() {
  static const std::vector<learn::Trace> all = [] {
    std::vector<learn::Trace> out;
    eventlog::import_csv(log_path(), mapping(), [&](eventlog::LogCase&& c) { out.push_back(to_trace(std::move(c))); });
    if (out.size() != 3804) throw std::runtime_error("unexpected log: " + log_path());
    return out;
  }();
  return all;
}

learn::Learner& trained() {
  static learn::Learner l = [] {
    learn::Learner x;
    for (const auto& t : traces()) x.add(t);
    x.train();
    return x;
  }();
  return l;
}

learn::Trace running() {
  learn::Trace t = traces()[3000];
  t.steps.resize(2);
  return t;
}

void BM_ImportLog(benchmark::State& st) {
  for (auto _ : st) {
    std::size_t n = 0;
    eventlog::import_csv(log_path(), mapping(), [&](eventlog::LogCase&& c) { n += c.events.size(); });
    benchmark::DoNotOptimize(n);
  }
}
BENCHMARK(BM_ImportLog)->Unit(benchmark::kMillisecond);

void BM_LearnWholeLog(benchmark::State& st) {
  const auto& all = traces();
  for (auto _ : st) {
    learn::Learner l;
    for (const auto& t : all) l.add(t);
    l.train();
    benchmark::DoNotOptimize(l.stats().model_version);
  }
}
BENCHMARK(BM_LearnWholeLog)->Unit(benchmark::kMillisecond);

void BM_CountTables(benchmark::State& st) {
  const auto& all = traces();
  for (auto _ : st) {
    learn::Learner l;
    for (const auto& t : all) l.add(t);
    benchmark::DoNotOptimize(l.stats().traces);
  }
}
BENCHMARK(BM_CountTables)->Unit(benchmark::kMillisecond);

void BM_Recommend(benchmark::State& st) {
  learn::Learner& l = trained();
  const learn::Trace r = running();
  for (auto _ : st) benchmark::DoNotOptimize(l.next_steps(r, 5));
}
BENCHMARK(BM_Recommend)->Unit(benchmark::kMicrosecond);

void BM_RecommendCounts(benchmark::State& st) {
  static learn::Learner counts = [] {
    learn::Learner x;
    for (const auto& t : traces()) x.add(t);
    return x;
  }();
  const learn::Trace r = running();
  for (auto _ : st) benchmark::DoNotOptimize(counts.next_steps(r, 5));
}
BENCHMARK(BM_RecommendCounts)->Unit(benchmark::kMicrosecond);

void BM_Completion(benchmark::State& st) {
  learn::Learner& l = trained();
  const learn::Trace r = running();
  for (auto _ : st) benchmark::DoNotOptimize(l.completion(r));
}
BENCHMARK(BM_Completion)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
