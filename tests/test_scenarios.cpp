// SPDX-License-Identifier: Apache-2.0
// Scenario tests: a help-desk complaint and an emergency-room visit, end to end.
#include "support.hpp"

using namespace acm;
using namespace acm::test;

TEST_CASE("scenario: help-desk complaint from an influential, high-value customer") {
  EngineFixture f;
  f.load("examples/definitions/helpdesk.json");
  Actor alice{"alice", {}};  // the agent who owns the case
  Actor bob{"bob", {}};      // a second-line agent
  Actor acme{"acme", {}};    // the supplier's technician

  NewCase spec;
  spec.type = "complaint";
  spec.title = "Laptop does not boot, posted on social media";
  spec.subject.customer = "cust-42";
  spec.subject.attributes = {{"value", 25000}, {"influence", 0.9}, {"channel", "twitter"}};
  spec.priority = 3;
  spec.participants = {{"bob", {"agent"}}};
  std::string id = f.engine->create_case(alice, spec).created;

  auto c = f.engine->get_case(id);
  CHECK(c.owner == "alice");
  CHECK(c.status == CaseStatus::active);
  REQUIRE(c.goals.size() == 1);
  CHECK(c.goals[0].id == "resolved");
  CHECK(c.goals[0].owner == "alice");
  CHECK(c.goals[0].deadline == t("2026-11-25T09:00:00Z"));
  CHECK(c.goals[0].timing == Timing::on_track);
  CHECK(c.goals[0].remaining_work == std::chrono::minutes(270));  // triage 30m then diagnose 4h
  CHECK(f.state(id, "diagnosis#1") == ItemState::active);
  CHECK(f.state(id, "diagnosis#1/triage") == ItemState::active);
  CHECK(f.state(id, "diagnosis#1/diagnose") == ItemState::available);

  // Only what applies now is offered: no supplier repair before a hardware fault is known.
  auto names = [&] {
    std::vector<std::string> out;
    for (const auto& o : f.engine->applicable_fragments(id)) out.push_back(o.fragment);
    return out;
  };
  CHECK(names() == std::vector<std::string>{"refund", "escalation", "customer_followup"});
  CHECK_THROWS_AS(f.engine->add_fragment(alice, id, {"supplier_repair", 0, "resolved", {{"supplier", "acme"}}}), Error);

  f.clock->advance(std::chrono::minutes(20));
  f.engine->complete_item(bob, id, "diagnosis#1/triage");
  CHECK(f.state(id, "diagnosis#1/diagnose") == ItemState::active);
  f.clock->advance(std::chrono::hours(1));
  f.engine->set_file(bob, id, "diagnosis.fault", "hardware");
  f.engine->complete_item(bob, id, "diagnosis#1/diagnose");
  CHECK(f.state(id, "diagnosis#1/diagnosed") == ItemState::completed);
  CHECK(f.state(id, "diagnosis#1") == ItemState::completed);
  CHECK(names() == std::vector<std::string>{"supplier_repair", "refund", "escalation", "customer_followup"});

  // The supplier is brought in and the repair fragment assembled, bound to the goal.
  try {
    f.engine->add_fragment(alice, id, {"supplier_repair", 0, "resolved", Json::object()});
    FAIL("missing parameter accepted");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(std::string(e.what()).find("missing required parameter 'supplier'") != std::string::npos);
  }
  f.engine->add_participant(alice, id, {"acme", {"supplier"}});
  std::string repair = f.engine->add_fragment(alice, id, {"supplier_repair", 0, "resolved", {{"supplier", "acme"}}}).created;
  CHECK(repair == "supplier_repair#1");
  CHECK(f.state(id, "supplier_repair#1/ship_to_supplier") == ItemState::active);
  CHECK(f.goal(id, "resolved").remaining_work == std::chrono::hours(22));

  // The supplier may not do the agent's work.
  CHECK_THROWS_WITH_AS(f.engine->complete_item(acme, id, "supplier_repair#1/ship_to_supplier"),
                       doctest::Contains("needs the case role 'agent'"), Error);
  f.clock->advance(std::chrono::hours(2));
  f.engine->complete_item(bob, id, "supplier_repair#1/ship_to_supplier");
  CHECK(f.state(id, "supplier_repair#1/repair") == ItemState::active);

  // The repair drags on: once only the 4h return is left and less than 4h remain, the goal is at risk.
  f.clock->advance_to(t("2026-11-25T04:00:00Z"));
  CHECK(f.goal(id, "resolved").timing == Timing::on_track);
  CHECK(f.count_seen("goal_timing") == 0);
  f.clock->advance_to(t("2026-11-25T05:30:00Z"));
  CHECK(f.goal(id, "resolved").timing == Timing::at_risk);
  REQUIRE(f.count_seen("goal_timing", "to", "at_risk") == 1);
  for (const auto& e : f.seen)
    if (e.kind == "goal_timing") CHECK(e.time == t("2026-11-25T05:00:00.001Z"));

  // Escalation: the team lead is brought in and reviews.
  f.engine->add_participant(alice, id, {"lena", {"team_lead"}});
  f.engine->add_fragment(alice, id, {"escalation", 0, "resolved", Json::object()});
  f.engine->complete_item(Actor{"lena", {}}, id, "escalation#1/review_by_lead");

  f.engine->complete_item(acme, id, "supplier_repair#1/repair");
  f.engine->complete_item(bob, id, "supplier_repair#1/return_to_customer");
  CHECK(f.state(id, "supplier_repair#1/repaired") == ItemState::completed);
  CHECK(f.state(id, "supplier_repair#1") == ItemState::completed);

  // Follow-up with the customer: a manual task and a user event.
  f.engine->add_fragment(alice, id, {"customer_followup", 0, "resolved", Json::object()});
  CHECK(f.state(id, "customer_followup#1/call_customer") == ItemState::enabled);
  f.engine->start_item(bob, id, "customer_followup#1/call_customer");
  f.engine->complete_item(bob, id, "customer_followup#1/call_customer");
  f.engine->occur(bob, id, "customer_followup#1/customer_confirmed");
  CHECK(f.state(id, "customer_followup#1/confirmed") == ItemState::completed);
  CHECK(f.engine->get_case(id).status == CaseStatus::active);

  f.engine->set_file(bob, id, "resolution", {{"confirmed", true}, {"summary", "mainboard replaced"}});
  c = f.engine->get_case(id);
  CHECK(c.goals[0].status == GoalStatus::achieved);
  CHECK(c.status == CaseStatus::completed);
  CHECK(f.count_seen("case_status", "to", "completed") == 1);
  CHECK(f.engine->next_due() == std::nullopt);

  // Nothing more can be done on a completed case; it can be closed and the history is complete.
  CHECK_THROWS_AS(f.engine->set_file(bob, id, "x", 1), Error);
  f.engine->close_case(alice, id);
  CHECK(f.engine->get_case(id).status == CaseStatus::closed);
  auto history = f.engine->history(id);
  CHECK(history.size() == f.engine->get_case(id).version);
  for (std::size_t i = 0; i < history.size(); ++i) CHECK(history[i].seq == i + 1);
  f.check_fold(id);
}

TEST_CASE("scenario: emergency-room visit assembled as information arrives") {
  EngineFixture f;
  f.load("examples/definitions/emergency_room.json");
  Actor nurse{"nina", {}}, doc{"dr_dan", {}}, rad{"rita", {}}, surgeon{"sam", {}};
  NewCase spec;
  spec.type = "er_visit";
  spec.title = "Patient after a fall";
  spec.owner = "dr_dan";
  spec.participants = {{"nina", {"nurse"}}, {"dr_dan", {"physician"}}, {"rita", {"radiologist"}}, {"sam", {"surgeon"}}};
  std::string id = f.engine->create_case(Actor{"reception", {"admin"}}, spec).created;
  CHECK(f.goal(id, "stabilised").deadline == t("2026-11-23T13:00:00Z"));

  f.clock->advance(std::chrono::minutes(8));
  f.engine->set_file(nurse, id, "triage.severity", 4);
  f.engine->complete_item(nurse, id, "triage#1/assess");
  CHECK(f.state(id, "triage#1/triaged") == ItemState::completed);

  std::string dx = f.engine->add_fragment(doc, id, {"diagnosis", 0, "stabilised", Json::object()}).created;
  f.clock->advance(std::chrono::minutes(25));
  f.engine->complete_item(doc, id, dx + "/examine");
  CHECK(f.state(id, dx + "/order_tests") == ItemState::enabled);  // manual activation
  f.engine->disable_item(doc, id, dx + "/order_tests");
  CHECK(f.state(id, dx) == ItemState::completed);  // every child completed or disabled

  std::string scan = f.engine->add_fragment(doc, id, {"scan", 0, "stabilised", {{"kind", "CT"}}}).created;
  std::string med = f.engine->add_fragment(doc, id, {"medication", 0, "stabilised", {{"drug", "morphine"}}}).created;
  f.engine->complete_item(doc, id, med + "/prescribe");
  f.engine->complete_item(nurse, id, med + "/administer");
  CHECK(f.state(id, med + "/observe") == ItemState::available);
  f.clock->advance(std::chrono::minutes(31));  // the 30 minute recheck timer fires
  CHECK(f.state(id, med + "/recheck") == ItemState::completed);
  CHECK(f.state(id, med + "/observe") == ItemState::active);
  f.engine->complete_item(rad, id, scan + "/perform_scan");
  f.engine->set_file(rad, id, "diagnosis.needs_surgery", true);
  f.engine->complete_item(rad, id, scan + "/read_scan");
  CHECK(f.state(id, scan) == ItemState::completed);

  // An operation (10h of work) cannot fit the 4h goal: at risk at once.
  std::string op = f.engine->add_fragment(doc, id, {"operation", 0, "stabilised", Json::object()}).created;
  CHECK(f.goal(id, "stabilised").timing == Timing::at_risk);
  f.engine->complete_item(nurse, id, med + "/observe");
  f.engine->complete_item(nurse, id, op + "/prepare");
  f.engine->complete_item(surgeon, id, op + "/operate");
  f.engine->set_file(doc, id, "patient.stable", true);
  CHECK(f.goal(id, "stabilised").status == GoalStatus::achieved);
  CHECK(f.engine->get_case(id).status == CaseStatus::active);  // recovery still in progress
  f.engine->complete_item(nurse, id, op + "/recover");
  CHECK(f.engine->get_case(id).status == CaseStatus::completed);
  f.check_fold(id);
}
