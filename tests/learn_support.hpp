// SPDX-License-Identifier: Apache-2.0
// tests/learn_support.hpp - traces shared by the learning tests (tests/learn, tests/concurrency).
#pragma once

#include <acm/learn.hpp>
#include <acm/time.hpp>

#include <string>
#include <vector>

namespace acm::test {

inline learn::Step step(std::string activity, const char* when, bool ad_hoc = false) {
  return learn::Step{std::move(activity), parse_time(when), "", ad_hoc, {}};
}

/// 80 cases A,B,C (C after a day, channel phone) and 20 cases A,B,D (D after five days, mail).
inline std::vector<learn::Trace> branching_log() {
  std::vector<learn::Trace> out;
  for (int i = 0; i < 100; ++i) {
    learn::Trace tr;
    tr.id = "c" + std::to_string(i);
    const bool c = i % 5 != 0;
    tr.attributes = {{"channel", c ? "phone" : "mail"}};
    tr.steps = {step("A", "2026-01-05T09:00:00Z"), step("B", "2026-01-05T10:00:00Z"),
                c ? step("C", "2026-01-06T10:00:00Z") : step("D", "2026-01-10T10:00:00Z")};
    out.push_back(std::move(tr));
  }
  return out;
}

/// The first k steps of a trace (a running case).
inline learn::Trace prefix_of(const learn::Trace& tr, std::size_t k) {
  learn::Trace p = tr;
  p.steps.resize(k);
  return p;
}

}  // namespace acm::test
