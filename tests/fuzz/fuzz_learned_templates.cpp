// SPDX-License-Identifier: Apache-2.0
// tests/fuzz/fuzz_learned_templates.cpp - learned templates (acm/learn.hpp): load the bytes of a
// template file, then predict with it.
//
// Oracles: only acm::Error escapes (a damaged or crafted file is Error(storage)); a learner
// that loads answers every query; saving it again gives bytes that load to the same save.
#include <acm/acm.hpp>
#include <acm/learn.hpp>

#include "fuzz_support.hpp"

#include <optional>

using namespace acm;

namespace {

learn::Trace running(std::size_t steps) {
  learn::Trace t;
  t.id = "fuzz";
  t.attributes = {{"product", "printer"}, {"tier", "gold"}};
  const TimePoint start = parse_time("2026-11-23T09:00:00Z");
  const char* activities[] = {"Assign seriousness", "Take in charge ticket", "Resolve ticket", "Closed", "Wait"};
  for (std::size_t i = 0; i < steps; ++i)
    t.steps.push_back({activities[i % 5], start + std::chrono::hours(5 * i), "Value 1", false, {{"x", "1"}}});
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::optional<learn::Learner> learner;
  if (!acm_fuzz::only_acm_errors("Learner::load",
                                 [&] { learner.emplace(learn::Learner::load(acm_fuzz::text(data, size))); }))
    return 0;
  acm_fuzz::only_acm_errors("queries", [&] {
    for (std::size_t n : {0, 1, 3}) {
      (void)learner->next_steps(running(n), 5);
      (void)learner->completion(running(n), parse_time("2026-11-24T09:00:00Z"));
    }
    (void)learner->suggest_plan("", {{"product", "printer"}});
    (void)learner->fragment_proposals();
    (void)learner->stats();
  });
  acm_fuzz::only_acm_errors("save again", [&] {
    const std::string saved = learner->save();
    if (learn::Learner::load(saved).save() != saved) acm_fuzz::finding("a loaded learner does not save the same twice");
  });
  return 0;
}
