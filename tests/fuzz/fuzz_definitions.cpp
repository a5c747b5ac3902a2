// SPDX-License-Identifier: Apache-2.0
// tests/fuzz/fuzz_definitions.cpp - definitions documents: parse_json, parse_definitions, the
// engine's registration and case creation.
//
// Oracles: only acm::Error escapes; every definition read round-trips (to_json -> parse ->
// to_json gives the same JSON); a document that parses also registers or is refused with
// acm::Error; a case created from it has a state equal to the fold of its history.
#include <acm/acm.hpp>

#include "fuzz_support.hpp"

#include <memory>

using namespace acm;

namespace {

void round_trip(const Json& j, const char* what) {
  DefinitionSet again;
  if (!acm_fuzz::only_acm_errors("round trip parse", [&] { again = parse_definitions(j); }))
    acm_fuzz::finding(std::string(what) + " written by to_json does not parse again: " + j.dump().substr(0, 2000));
  const Json back = again.fragments.size() == 1 ? to_json(again.fragments[0]) : to_json(again.case_types.at(0));
  if (back != j)
    acm_fuzz::finding(std::string(what) + " does not round-trip:\n" + j.dump().substr(0, 2000) + "\n" +
                      back.dump().substr(0, 2000));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Json doc;
  if (!acm_fuzz::only_acm_errors("parse_json", [&] { doc = parse_json(acm_fuzz::text(data, size), "definitions"); }))
    return 0;
  DefinitionSet set;
  const bool parsed = acm_fuzz::only_acm_errors("parse_definitions", [&] { set = parse_definitions(doc); });
  if (parsed) {
    for (const FragmentDef& f : set.fragments) round_trip(to_json(f), "a fragment");
    for (const CaseTypeDef& t : set.case_types) round_trip(to_json(t), "a case type");
  }
  // The engine: registration (compilation, cross-checks), then a case of each type.
  EngineOptions options;
  options.clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
  options.max_steps_per_command = 500;
  std::unique_ptr<Engine> engine = Engine::open(options);
  const Actor admin{"root", {"admin"}};
  const bool loaded = acm_fuzz::only_acm_errors("load_definitions", [&] { engine->load_definitions(admin, doc); });
  if (loaded != parsed && loaded) acm_fuzz::finding("the engine registered a document parse_definitions refuses");
  if (!loaded) return 0;
  for (const CaseTypeDef& t : set.case_types) {
    std::string id;
    if (!acm_fuzz::only_acm_errors("create_case", [&] { id = engine->create_case(admin, NewCase{.type = t.id}).created; }))
      continue;
    acm_fuzz::only_acm_errors("fold", [&] {
      if (engine->inspect(id) != engine->inspect(id, true))
        acm_fuzz::finding("case state differs from its history's fold");
    });
    acm_fuzz::only_acm_errors(
        "advance", [&] { std::static_pointer_cast<ManualClock>(options.clock)->advance(std::chrono::hours(24 * 3)); });
  }
  return 0;
}
