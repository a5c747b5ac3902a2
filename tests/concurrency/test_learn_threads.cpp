// SPDX-License-Identifier: Apache-2.0
// The learner under concurrent use (also run under ThreadSanitizer in CI): additions with
// automatic retraining on one thread, recommendations on another, training threads inside.
#include "learn_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using namespace acm;
using namespace acm::learn;

using acm::test::branching_log;
using acm::test::prefix_of;

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

