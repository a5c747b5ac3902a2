// SPDX-License-Identifier: Apache-2.0
#include <acm/acm.hpp>

#include <iostream>

using namespace acm;
using namespace std::chrono_literals;

int main() {
  // Time comes from an injected clock; a ManualClock makes the story reproducible.
  auto clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
  EngineOptions options;
  options.clock = clock;
  // options.database = "complaints.db";  // keep cases in an SQLite file (default: in memory)
  auto engine = Engine::open(options);

  // Print what happens to plan items, goals and the case.
  engine->subscribe([](const Event& e) { std::cout << to_json(e).dump() << "\n"; },
                    {"item_transition", "goal_status", "goal_timing", "case_status"});

  // Definitions: a fragment with a task chain and a milestone, a discretionary fragment
  // with an automated task, and a case type with a goal due two days after creation.
  Actor admin{"root", {"admin"}};
  engine->load_definitions(admin, Json::parse(R"({
    "fragments": [
      { "id": "diagnosis", "roles": ["agent"], "items": [
          { "id": "triage",   "kind": "human_task", "role": "agent", "estimate": "30m" },
          { "id": "diagnose", "kind": "human_task", "role": "agent", "estimate": "4h", "after": ["triage"] },
          { "id": "diagnosed", "kind": "milestone",
            "entry": [ { "on": [ { "item": "diagnose", "on": "complete" } ] } ] } ] },
      { "id": "refund", "parameters": [ { "name": "amount", "type": "number", "required": true } ],
        "applicability": "file.diagnosis.fault == \"hardware\"",
        "items": [
          { "id": "pay", "kind": "automated_task", "handler": "payments.refund", "output": "refund" } ] } ],
    "case_types": [
      { "id": "complaint",
        "roles": [ { "name": "agent", "permissions": ["view", "work", "plan"] } ],
        "goals": [ { "id": "resolved", "within": "2d", "anchor": "case_created",
                     "criterion": "file.resolution.confirmed == true" } ],
        "initial_fragments": ["diagnosis"],
        "discretionary": ["refund"] } ] })"));

  // Automated tasks call the host. The handler runs while the case is locked.
  engine->register_handler("payments.refund", [](const TaskContext& t) {
    TaskResult r;
    r.output = {{"paid", t.input["params"]["amount"]}};  // written at the item's output path
    return r;
  });

  // A case: owner alice (may do everything on it), bob takes part as an agent.
  NewCase spec;
  spec.type = "complaint";
  spec.title = "Laptop dead after two days";
  spec.owner = "alice";
  spec.subject.customer = "cust-42";
  spec.participants = {{"bob", {"agent"}}};
  std::string id = engine->create_case(admin, spec).created;
  // The initial fragment is now the stage "diagnosis#1"; its first task is active.

  Actor alice{"alice", {}}, bob{"bob", {}};
  clock->advance(20min);
  engine->complete_item(bob, id, "diagnosis#1/triage");  // diagnose starts (after: triage)
  clock->advance(2h);
  engine->set_file(bob, id, "diagnosis.fault", "hardware");
  engine->complete_item(bob, id, "diagnosis#1/diagnose");  // milestone occurs, stage completes

  // Runtime assembly: what may be added now, then add it with arguments, bound to the goal.
  for (const auto& offer : engine->applicable_fragments(id)) std::cout << "offer: " << offer.fragment << "\n";
  std::string refund =
      engine->add_fragment(alice, id, {.fragment = "refund", .goal = "resolved", .params = {{"amount", 120}}}).created;
  // The handler ran synchronously: "refund#1/pay" is completed and file.refund is set.

  // Ad-hoc work that no fragment foresaw.
  std::string call = engine->add_task(
      alice, id, {.name = "Call the customer", .role = "agent", .estimate = 15min, .goal = "resolved"}).created;
  clock->advance(15min);
  engine->complete_item(bob, id, call);

  // The goal's criterion holds once the case file says so; the case then completes itself.
  engine->set_file(alice, id, "resolution", {{"confirmed", true}});
  CaseInfo c = engine->get_case(id);
  std::cout << "case " << c.id << " is " << to_string(c.status) << ", goal " << c.goals[0].id << " is "
            << to_string(c.goals[0].status) << ", file " << c.file.dump() << ", " << c.version << " events\n";
  engine->close_case(alice, id);
}
