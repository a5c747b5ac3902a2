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
// And, in a process of its own per size (peak memory is per process):
//   acm_bench_learn --stream N   generate N cases over 1,000 activities in memory (streamed to
//                                the learner, never held), add them, train; print the time of
//                                each phase and the peak resident memory
//
// The log is found in ACM_DATA_DIR (default ../shared/data next to the source tree).
//   build-bench/bench/acm_bench_learn --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <acm/eventlog.hpp>
#include <acm/learn.hpp>

#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string_view>

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

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Counters: cpu_all_threads_ms (getrusage of the process: every thread of the fit, which the
// CPU column, the calling thread's, does not count) and serial_ms (wall time from train() to the
// end of the features phase, which runs on one thread before the trees).
void BM_LearnWholeLog(benchmark::State& st) {
  const auto& all = traces();
  double cpu = 0, serial = 0;
  for (auto _ : st) {
    const double c0 = process_cpu_seconds();
    learn::Learner l;
    for (const auto& t : all) l.add(t);
    const auto t0 = std::chrono::steady_clock::now();
    double features_done = 0;
    l.train([&](std::string_view phase, std::size_t done, std::size_t total) {
      if (phase == "features" && done == total && total > 0)
        features_done = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    });
    cpu += process_cpu_seconds() - c0;
    serial += features_done;
    benchmark::DoNotOptimize(l.stats().model_version);
  }
  st.counters["cpu_all_threads_ms"] = benchmark::Counter(1e3 * cpu / static_cast<double>(st.iterations()));
  st.counters["serial_ms"] = benchmark::Counter(1e3 * serial / static_cast<double>(st.iterations()));
}
BENCHMARK(BM_LearnWholeLog)->Unit(benchmark::kMillisecond)->UseRealTime();

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

namespace {

long peak_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

/// Learning streams: N generated cases (activity i drawn with weight 1 / (i + 1) from 1,000,
/// 2 to 5 steps, ten minutes apart) are added one by one and trained on with the defaults.
int stream(std::size_t n) {
  std::mt19937 rng(17);
  std::vector<double> w(1000);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 1.0 / static_cast<double>(i + 1);
  std::discrete_distribution<int> pick(w.begin(), w.end());
  const TimePoint t0 = parse_time("2024-01-01T00:00:00Z");
  const long before = peak_kib();
  learn::Learner l;
  const auto a0 = std::chrono::steady_clock::now();
  std::uint64_t steps = 0;
  for (std::size_t c = 0; c < n; ++c) {
    learn::Trace t;
    t.id = std::to_string(c);
    const int len = 2 + static_cast<int>(rng() % 4);
    for (int k = 0; k < len; ++k)
      t.steps.push_back(learn::Step{"act " + std::to_string(pick(rng)),
                                    t0 + std::chrono::minutes(10 * static_cast<long>(c) + k), "", false, {}});
    steps += t.steps.size();
    l.add(std::move(t));
  }
  const double add_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - a0).count();
  const long after_add = peak_kib();
  const auto t1 = std::chrono::steady_clock::now();
  l.train();
  const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  std::printf("cases %zu steps %llu activities %zu: add %.2f s (%.2f us/case), train %.2f s on %llu traces; "
              "peak RSS %.1f MiB (before %.1f, after adding %.1f)\n",
              n, static_cast<unsigned long long>(steps), l.stats().activities, add_s, 1e6 * add_s / static_cast<double>(n),
              train_s, static_cast<unsigned long long>(l.stats().trained_on), peak_kib() / 1024.0, before / 1024.0,
              after_add / 1024.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--stream") == 0) return stream(std::strtoull(argv[2], nullptr, 10));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
