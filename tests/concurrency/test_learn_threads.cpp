// The learner under concurrent use (also run under ThreadSanitizer in CI): additions with
// automatic retraining on one thread, recommendations on another, training threads inside.
#include <acm/learn.hpp>
#include <acm/time.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using namespace acm;
using namespace acm::learn;

namespace {

std::vector<Trace> branching_log() {
  std::vector<Trace> out;
  for (int i = 0; i < 100; ++i) {
    Trace tr;
    tr.id = "c" + std::to_string(i);
    const bool c = i % 5 != 0;
    tr.attributes = {{"channel", c ? "phone" : "mail"}};
    tr.steps = {Step{"A", parse_time("2026-01-05T09:00:00Z"), "", false, {}},
                Step{"B", parse_time("2026-01-05T10:00:00Z"), "", false, {}},
                Step{c ? "C" : "D", parse_time(c ? "2026-01-06T10:00:00Z" : "2026-01-10T10:00:00Z"), "", false, {}}};
    out.push_back(std::move(tr));
  }
  return out;
}

Trace prefix_of(const Trace& tr, std::size_t k) {
  Trace p = tr;
  p.steps.resize(k);
  return p;
}

}  // namespace

TEST_CASE("learner: queries and additions from many threads") {
  Learner l(LearnerOptions{.next_rounds = 5, .time_rounds = 5, .retrain_every = 25});
  std::vector<Trace> log = branching_log();
  for (int i = 0; i < 30; ++i) l.add(log[static_cast<std::size_t>(i)]);
  std::atomic<int> answered{0};
  std::thread writer([&] {
    for (int i = 30; i < 100; ++i) l.add(log[static_cast<std::size_t>(i)]);
  });
  std::thread reader([&] {
    for (int i = 0; i < 200; ++i) answered += !l.next_steps(prefix_of(log[1], 2), 1).empty();
  });
  writer.join();
  reader.join();
  CHECK(answered == 200);
  CHECK(l.stats().traces == 100);
}

