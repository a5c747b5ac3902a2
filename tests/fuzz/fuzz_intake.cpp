// SPDX-License-Identifier: Apache-2.0
// tests/fuzz/fuzz_intake.cpp - help-desk intake: channel events (JSON text) through the rules
// into an in-memory engine.
//
// Oracles: only acm::Error escapes; an event that parses round-trips through to_json; an
// event processed once is a duplicate the second time; a case the intake acted on has a state
// equal to the fold of its history; the intake log pages with any cursor.
#include <acm/acm.hpp>
#include <acm/intake.hpp>

#include "fuzz_support.hpp"

#include <memory>

using namespace acm;

namespace {

const char* kDefinitions = R"J({
  "fragments": [{
    "id": "handle", "roles": ["agent"],
    "items": [
      {"id": "answer", "kind": "human_task", "role": "agent", "estimate": "30m"},
      {"id": "read_reply", "kind": "human_task", "role": "agent", "entry": [{"on": [{"event": "customer_message"}]}]}
    ]
  }],
  "case_types": [{"id": "complaint", "initial_fragments": ["handle"]}]
})J";

const char* kRules = R"J({"rules": [
  {"id": "spam", "when": "contains(lower(event.text), 'unsubscribe')", "ignore": true},
  {"id": "angry", "when": "event.sentiment != null && event.sentiment < -0.5", "raise_priority": {"by": 2}, "stop": false},
  {"id": "follow-up", "when": "event.channel in ['email', 'chat']",
   "attach": {"correlation": ["customer", "metadata.order_id"],
              "otherwise_create": {"type": "complaint", "title": "{event.channel}: {event.text}", "priority": 1}}},
  {"id": "phone", "when": "event.channel == 'phone'", "create_case": {"type": "complaint", "title": "{event.customer}"}}
]})J";

void check_fold(Engine& engine, const std::string& id) {
  if (id.empty()) return;
  acm_fuzz::only_acm_errors("fold", [&] {
    if (engine.inspect(id) != engine.inspect(id, true))
      acm_fuzz::finding("case " + id + ": state differs from its history's fold");
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = acm_fuzz::text(data, size);
  helpdesk::ChannelEvent event;
  if (acm_fuzz::only_acm_errors("ChannelEvent::parse", [&] { event = helpdesk::ChannelEvent::parse(text); })) {
    acm_fuzz::only_acm_errors("round trip", [&] {
      const Json j = event.to_json();
      if (helpdesk::ChannelEvent::from_json(j).to_json() != j) acm_fuzz::finding("a channel event does not round-trip");
    });
  }
  Json json;
  if (!acm_fuzz::only_acm_errors("parse_json", [&] { json = parse_json(text, "event"); })) return 0;

  EngineOptions options;
  options.clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
  options.max_steps_per_command = 500;
  auto engine = Engine::open(options);
  engine->load_definitions(Actor{"root", {"admin"}}, Json::parse(kDefinitions));
  helpdesk::IntakeOptions io;
  io.customer_lookup = [](const std::string& c) {
    return c == "ann" ? Json{{"tier", "gold"}, {"value", 900}} : Json();
  };
  helpdesk::Intake intake(*engine, helpdesk::IntakeRules::from_json(Json::parse(kRules)), io);
  helpdesk::IntakeDecision first;
  const bool processed = acm_fuzz::only_acm_errors("process", [&] { first = intake.process(json); });
  for (const auto& s : first.steps) check_fold(*engine, s.case_id);
  if (processed) {
    helpdesk::IntakeDecision again;
    acm_fuzz::only_acm_errors("process again", [&] { again = intake.process(json); });
    if (!again.duplicate) acm_fuzz::finding("an event processed twice was not a duplicate");
  }
  for (std::uint64_t after : {std::uint64_t{0}, std::uint64_t{1}, UINT64_MAX, UINT64_MAX - 1})
    acm_fuzz::only_acm_errors("intake_log", [&] { (void)engine->intake_log().page(10, after); });
  return 0;
}
