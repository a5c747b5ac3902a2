// SPDX-License-Identifier: Apache-2.0
// CMMN lifecycle semantics: entry/exit criteria, manual activation, repetition, required,
// auto-complete, bounded evaluation, timers, handlers, goals, assembly, authorization.
#include "support.hpp"

#include <algorithm>

using namespace acm;
using namespace acm::test;
using namespace std::chrono_literals;

namespace {

ItemDef task(const std::string& id, std::string role = "", std::optional<Duration> estimate = std::nullopt) {
  ItemDef d;
  d.id = id;
  d.name = id;
  d.role = std::move(role);
  d.estimate = estimate;
  return d;
}

Sentry on_item(const std::string& ref, const std::string& on, std::string cond = "") {
  return Sentry{"", {OnPart{OnPartSource::item, ref, on}}, std::move(cond)};
}

FragmentDef fragment(const std::string& id, std::vector<ItemDef> items) {
  FragmentDef f;
  f.id = id;
  f.name = id;
  f.items = std::move(items);
  return f;
}

std::string bare_case(EngineFixture& f, const std::string& owner = "owner") {
  NewCase spec;
  spec.title = "test";
  spec.owner = owner;
  return f.engine->create_case(f.admin, spec).created;
}

}  // namespace

TEST_CASE("entry criteria with if-parts, exit criteria and stage completion") {
  EngineFixture f;
  auto a = task("a");
  auto b = task("b");
  b.entry = {on_item("a", "complete", "file.approved == true")};
  auto c = task("c");
  c.exit = {Sentry{"", {OnPart{OnPartSource::event, "cancel_c", ""}}, ""}};
  f.engine->register_fragment(f.admin, fragment("flow", {a, b, c}));
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  auto st = f.engine->add_fragment(owner, id, {"flow", 0, "", Json::object()}).created;
  CHECK(f.state(id, st + "/a") == ItemState::active);
  CHECK(f.state(id, st + "/b") == ItemState::available);
  CHECK(f.state(id, st + "/c") == ItemState::active);

  // The on-part occurred but the if-part is false: b waits; the on-part is remembered.
  f.engine->complete_item(owner, id, st + "/a");
  CHECK(f.state(id, st + "/b") == ItemState::available);
  f.engine->set_file(owner, id, "approved", true);
  CHECK(f.state(id, st + "/b") == ItemState::active);

  f.engine->signal(owner, id, "cancel_c");
  CHECK(f.state(id, st + "/c") == ItemState::terminated);
  CHECK(f.state(id, st) == ItemState::active);
  f.engine->complete_item(owner, id, st + "/b");
  CHECK(f.state(id, st) == ItemState::completed);
  f.check_fold(id);
}

TEST_CASE("manual activation, disable and re-enable, required items block completion") {
  EngineFixture f;
  auto m = task("m");
  m.manual_activation = "true";
  auto r = task("r");
  r.required = "true";
  r.manual_activation = "true";
  f.engine->register_fragment(f.admin, fragment("man", {m, r}));
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  auto st = f.engine->add_fragment(owner, id, {"man", 0, "", Json::object()}).created;
  CHECK(f.state(id, st + "/m") == ItemState::enabled);
  CHECK_THROWS_AS(f.engine->complete_item(owner, id, st + "/m"), Error);  // not active yet
  f.engine->disable_item(owner, id, st + "/m");
  CHECK(f.state(id, st + "/m") == ItemState::disabled);
  f.engine->reenable_item(owner, id, st + "/m");
  f.engine->disable_item(owner, id, st + "/m");
  // The required item is still enabled: the stage cannot complete.
  CHECK(f.state(id, st) == ItemState::active);
  CHECK_THROWS_WITH_AS(f.engine->complete_item(owner, id, st), doctest::Contains("required item"), Error);
  f.engine->start_item(owner, id, st + "/r");
  CHECK(f.engine->get_case(id).items[2].assignee == "owner");
  f.engine->complete_item(owner, id, st + "/r");
  CHECK(f.state(id, st) == ItemState::completed);
}

TEST_CASE("auto-complete: a stage completes when nothing is active and required items are done") {
  EngineFixture f;
  auto a = task("a");
  a.required = "true";
  auto optional_wait = task("later");
  optional_wait.entry = {Sentry{"", {OnPart{OnPartSource::event, "never", ""}}, ""}};
  auto fr = fragment("auto", {a, optional_wait});
  fr.auto_complete = true;
  f.engine->register_fragment(f.admin, fr);
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  auto st = f.engine->add_fragment(owner, id, {"auto", 0, "", Json::object()}).created;
  f.engine->complete_item(owner, id, st + "/a");
  CHECK(f.state(id, st) == ItemState::completed);
  CHECK(f.state(id, st + "/later") == ItemState::terminated);  // CMMN: left-over items end with the stage
}

TEST_CASE("repetition rule creates new instances, repetitionCounter counts them") {
  EngineFixture f;
  auto rep = task("rep");
  rep.repetition = "${repetitionCounter < 3}";
  f.engine->register_fragment(f.admin, fragment("loop", {rep}));
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  auto st = f.engine->add_fragment(owner, id, {"loop", 0, "", Json::object()}).created;
  f.engine->complete_item(owner, id, st + "/rep");
  CHECK(f.state(id, st + "/rep@2") == ItemState::active);
  f.engine->complete_item(owner, id, st + "/rep@2");
  CHECK(f.state(id, st + "/rep@3") == ItemState::active);
  f.engine->complete_item(owner, id, st + "/rep@3");
  auto c = f.engine->get_case(id);
  CHECK(c.items.size() == 4);  // stage + 3 instances
  CHECK(f.state(id, st) == ItemState::completed);
  CHECK(c.items[3].repetition == 2);
  f.check_fold(id);
}

TEST_CASE("a definition that would loop forever stops with an error event, never hangs") {
  EngineFixture f(500);
  f.engine->register_handler("noop", [](const TaskContext&) { return TaskResult{}; });
  ItemDef spin;
  spin.id = "spin";
  spin.kind = ItemKind::automated_task;
  spin.handler = "noop";
  spin.repetition = "true";
  f.engine->register_fragment(f.admin, fragment("spin", {spin}));
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  f.engine->add_fragment(owner, id, {"spin", 0, "", Json::object()});
  CHECK(f.count_seen("error") == 1);
  auto h = f.engine->history(id);
  CHECK(h.back().kind == "error");
  CHECK(h.back().payload["message"].get<std::string>().find("fixed point") != std::string::npos);
  CHECK(h.size() < 2000);
  f.check_fold(id);
}

TEST_CASE("automated tasks: handler output goes to the case file, failures fault, reactivation retries") {
  EngineFixture f;
  int calls = 0;
  bool fail = true;
  f.engine->register_handler("credit.check", [&](const TaskContext& ctx) {
    ++calls;
    CHECK(ctx.input["params"]["limit"] == 500);
    if (fail) throw std::runtime_error("credit bureau unreachable");
    return TaskResult{true, Json{{"score", 712}}, ""};
  });
  ItemDef check;
  check.id = "check";
  check.kind = ItemKind::automated_task;
  check.handler = "credit.check";
  check.output = "credit";
  auto fr = fragment("credit", {check});
  fr.parameters = {Parameter{"limit", "number", true, nullptr, ""}};
  f.engine->register_fragment(f.admin, fr);
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  auto st = f.engine->add_fragment(owner, id, {"credit", 0, "", {{"limit", 500}}}).created;
  CHECK(f.state(id, st + "/check") == ItemState::failed);
  auto h = f.engine->history(id);
  bool found = false;
  for (const auto& e : h)
    if (e.kind == "item_transition" && e.payload["to"] == "failed") {
      found = true;
      CHECK(e.payload["error"] == "credit bureau unreachable");
    }
  CHECK(found);
  fail = false;
  f.engine->reactivate_item(owner, id, st + "/check");
  CHECK(f.state(id, st + "/check") == ItemState::completed);
  CHECK(f.engine->get_case(id).file["credit"]["score"] == 712);
  CHECK(calls == 2);
  f.check_fold(id);  // the fold never calls handlers again
  CHECK(calls == 2);
}

TEST_CASE("a handler may not call back into its own case") {
  EngineFixture f;
  std::string seen_error;
  f.engine->register_handler("reenter", [&](const TaskContext& ctx) {
    try {
      f.engine->set_file(f.admin, ctx.case_id, "x", 1);
    } catch (const Error& e) {
      seen_error = e.what();
    }
    return TaskResult{};
  });
  ItemDef t;
  t.id = "t";
  t.kind = ItemKind::automated_task;
  t.handler = "reenter";
  f.engine->register_fragment(f.admin, fragment("re", {t}));
  auto id = bare_case(f);
  f.engine->add_fragment(Actor{"owner", {}}, id, {"re", 0, "", Json::object()});
  CHECK(seen_error.find("re-entrant") != std::string::npos);
}

TEST_CASE("a handler started by a timer may not call into cases its timer run still holds") {
  // Three cases fall due together, in one timer chunk. Each one's timer starts an automated
  // task whose handler writes into the case fired just before its own: run_due still holds
  // that one (its chunk is not written yet), so the call is refused as re-entrant instead of
  // waiting for a lock its own thread holds.
  EngineFixture f;
  std::vector<std::string> ids;
  std::vector<std::string> errors;
  f.engine->register_handler("poke_previous", [&](const TaskContext& ctx) {
    auto me = std::find(ids.begin(), ids.end(), ctx.case_id);
    if (me != ids.begin()) {
      try {
        f.engine->set_file(f.admin, *(me - 1), "poked", true);
      } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::invalid_state);
        errors.push_back(e.what());
      }
    }
    return TaskResult{};
  });
  ItemDef timer;
  timer.id = "t";
  timer.kind = ItemKind::timer_listener;
  timer.timer = 10min;
  ItemDef poke;
  poke.id = "poke";
  poke.kind = ItemKind::automated_task;
  poke.handler = "poke_previous";
  poke.entry = {on_item("t", "occur")};
  f.engine->register_fragment(f.admin, fragment("poker", {timer, poke}));
  for (int i = 0; i < 3; ++i) {
    ids.push_back(bare_case(f));
    f.engine->add_fragment(Actor{"owner", {}}, ids.back(), {"poker", 0, "", Json::object()});
  }
  f.clock->advance(15min);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].find("re-entrant call on case '" + ids[0] + "'") != std::string::npos);
  for (const auto& id : ids) {
    CHECK(f.state(id, "poker#1/poke") == ItemState::completed);
    CHECK_FALSE(f.engine->get_case(id).file.contains("poked"));
    f.check_fold(id);
  }
}

TEST_CASE("timers fire in time order, exactly once, also across cases") {
  EngineFixture f;
  ItemDef t1;
  t1.id = "t";
  t1.kind = ItemKind::timer_listener;
  t1.timer = 30min;
  auto after = task("after_timer");
  after.entry = {on_item("t", "occur")};
  f.engine->register_fragment(f.admin, fragment("wait30", {t1, after}));
  ItemDef t2 = t1;
  t2.timer = 10min;
  f.engine->register_fragment(f.admin, fragment("wait10", {t2, after}));
  auto c1 = bare_case(f), c2 = bare_case(f);
  Actor owner{"owner", {}};
  f.engine->add_fragment(owner, c1, {"wait30", 0, "", Json::object()});
  f.engine->add_fragment(owner, c2, {"wait10", 0, "", Json::object()});
  CHECK(f.engine->next_due() == t("2026-11-23T09:10:00Z"));
  f.clock->advance(5min);
  CHECK(f.state(c2, "wait10#1/t") == ItemState::available);
  f.clock->advance(2h);
  std::vector<std::pair<std::string, TimePoint>> occurred;
  for (const auto& e : f.seen)
    if (e.kind == "item_transition" && e.payload["transition"] == "occur") occurred.emplace_back(e.case_id, e.time);
  REQUIRE(occurred.size() == 2);
  CHECK(occurred[0] == std::make_pair(c2, t("2026-11-23T09:10:00Z")));
  CHECK(occurred[1] == std::make_pair(c1, t("2026-11-23T09:30:00Z")));
  CHECK(f.state(c1, "wait30#1/after_timer") == ItemState::active);
  CHECK(f.engine->run_due() == 0);
  f.clock->advance(24h);
  CHECK(f.count_seen("item_transition", "transition", "occur") == 2);
}

TEST_CASE("task due dates raise item_overdue once") {
  EngineFixture f;
  auto a = task("a");
  a.due = 2h;
  f.engine->register_fragment(f.admin, fragment("due", {a}));
  auto id = bare_case(f);
  auto st = f.engine->add_fragment(Actor{"owner", {}}, id, {"due", 0, "", Json::object()}).created;
  CHECK(f.engine->get_case(id).items[1].due == t("2026-11-23T11:00:00Z"));
  f.clock->advance(3h);
  f.clock->advance(3h);
  CHECK(f.count_seen("item_overdue") == 1);
  (void)st;
}

TEST_CASE("goals: criterion, milestones, decisions, sub-goals, change and cancel") {
  EngineFixture f;
  ItemDef ms;
  ms.id = "shipped";
  ms.kind = ItemKind::milestone;
  f.engine->register_fragment(f.admin, fragment("ship", {ms}));
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  f.engine->add_goal(owner, id, GoalSpec{.id = "parent", .name = "Everything", .decision = false});
  f.engine->add_goal(owner, id, GoalSpec{.id = "paid", .parent = "parent", .criterion = "file.paid >= 100"});
  f.engine->add_goal(owner, id, GoalSpec{.id = "shipped", .parent = "parent", .milestones = {"shipped"}});
  f.engine->add_goal(owner, id, GoalSpec{.id = "happy", .required = false, .decision = true});
  CHECK_THROWS_WITH_AS(f.engine->add_goal(owner, id, GoalSpec{.id = "bad", .criterion = "file.x >"}),
                       doctest::Contains("at 1:"), Error);
  CHECK_THROWS_AS(f.engine->add_goal(owner, id, GoalSpec{.id = "paid"}), Error);
  CHECK_THROWS_AS(f.engine->add_goal(owner, id, GoalSpec{.id = "orphan", .parent = "nope"}), Error);

  f.engine->set_file(owner, id, "paid", 50);
  CHECK(f.goal(id, "paid").status == GoalStatus::open);
  f.engine->change_goal(owner, id, "paid", GoalChange{.criterion = std::string("file.paid >= 50")});
  CHECK(f.goal(id, "paid").status == GoalStatus::achieved);
  CHECK(f.goal(id, "parent").status == GoalStatus::open);  // waits for the other sub-goal

  auto st = f.engine->add_fragment(owner, id, {"ship", 0, "shipped", Json::object()}).created;
  f.engine->occur(owner, id, st + "/shipped");  // a milestone without entry criteria is declared
  CHECK(f.goal(id, "shipped").status == GoalStatus::achieved);
  CHECK(f.goal(id, "parent").status == GoalStatus::achieved);
  // The optional decision goal does not hold the case open.
  CHECK(f.engine->get_case(id).status == CaseStatus::completed);
  f.check_fold(id);

  auto id2 = bare_case(f);
  f.engine->add_goal(owner, id2, GoalSpec{.id = "g", .decision = true});
  CHECK_THROWS_AS(f.engine->achieve_goal(Actor{"stranger", {}}, id2, "g"), Error);
  f.engine->cancel_goal(owner, id2, "g", "customer withdrew");
  CHECK(f.goal(id2, "g").status == GoalStatus::cancelled);
  CHECK(f.engine->get_case(id2).status == CaseStatus::active);  // no required goal left: the owner decides
  f.engine->complete_case(owner, id2);
  CHECK(f.engine->get_case(id2).status == CaseStatus::completed);
  f.engine->reopen_case(owner, id2, "customer called again");
  CHECK(f.engine->get_case(id2).status == CaseStatus::active);
}

TEST_CASE("goal deadlines: at risk from the plan, overdue from the clock") {
  EngineFixture f;
  auto a = task("a", "", 3h);
  auto b = task("b", "", 2h);
  b.after = {"a"};
  f.engine->register_fragment(f.admin, fragment("work", {a, b}));
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  f.engine->add_goal(owner, id, GoalSpec{.id = "g", .within = 6h, .decision = true});
  auto st = f.engine->add_fragment(owner, id, {"work", 0, "g", Json::object()}).created;
  auto g = f.goal(id, "g");
  CHECK(g.remaining_work == 5h);
  CHECK(g.timing == Timing::on_track);
  // Adding one more hour of work on the path still fits; two more does not.
  f.engine->add_task(owner, id, AdHocTask{.name = "extra", .estimate = 1h, .goal = "g", .after = {st + "/b"}});
  CHECK(f.goal(id, "g").timing == Timing::on_track);
  auto extra2 = f.engine->add_task(owner, id, AdHocTask{.name = "extra2", .estimate = 1h, .goal = "g", .after = {st + "/b"}}).created;
  CHECK(f.goal(id, "g").timing == Timing::on_track);  // parallel with the first extra: path is still 6h
  f.engine->add_dependency(owner, id, extra2, "task#1");
  CHECK(f.goal(id, "g").timing == Timing::at_risk);  // now 7h of serial work for 6h
  CHECK(f.count_seen("goal_timing", "to", "at_risk") == 1);
  f.engine->remove_item(owner, id, extra2);
  CHECK(f.goal(id, "g").timing == Timing::on_track);
  f.clock->advance(7h);
  CHECK(f.goal(id, "g").timing == Timing::overdue);
  CHECK(f.count_seen("goal_timing", "to", "overdue") == 1);
}

TEST_CASE("a dependency cycle is refused and named, nothing changes") {
  EngineFixture f;
  auto a = task("a");
  auto b = task("b");
  b.after = {"a"};
  auto c = task("c");
  c.after = {"b"};
  auto m = task("m");
  m.manual_activation = "true";
  f.engine->register_fragment(f.admin, fragment("chain", {a, b, c}));
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  auto st = f.engine->add_fragment(owner, id, {"chain", 0, "", Json::object()}).created;
  auto before = f.engine->inspect(id);
  try {
    f.engine->add_dependency(owner, id, st + "/b", st + "/c");
    FAIL("cycle accepted");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::cycle);
    CHECK(std::string(e.what()).find("chain#1/b -> chain#1/c -> chain#1/b") != std::string::npos);
  }
  CHECK(f.engine->inspect(id) == before);
  // A fragment whose own dependencies form a cycle never registers.
  auto x = task("x");
  x.after = {"y"};
  auto y = task("y");
  y.after = {"x"};
  CHECK_THROWS_WITH_AS(f.engine->register_fragment(f.admin, fragment("bad", {x, y})), doctest::Contains("cycle"), Error);
  CHECK_THROWS_AS(f.engine->get_fragment("bad"), Error);
}

TEST_CASE("adding a fragment is all or nothing") {
  EngineFixture f;
  f.load("examples/definitions/helpdesk.json");
  NewCase spec;
  spec.type = "complaint";
  spec.subject.attributes = {{"value", 10}};
  auto id = f.engine->create_case(Actor{"alice", {}}, spec).created;
  Actor alice{"alice", {}};
  auto before = f.engine->inspect(id);
  // Not applicable (low-value customer, no refund requested), unknown, wrong parameter type, unknown goal.
  CHECK_THROWS_WITH_AS(f.engine->add_fragment(alice, id, {"refund", 0, "", {{"amount", 10}}}),
                       doctest::Contains("not applicable"), Error);
  CHECK_THROWS_AS(f.engine->add_fragment(alice, id, {"nope", 0, "", Json::object()}), Error);
  CHECK_THROWS_WITH_AS(f.engine->add_fragment(alice, id, {"supplier_repair", 0, "", {{"supplier", 7}}}),
                       doctest::Contains("must be of type string"), Error);
  CHECK_THROWS_WITH_AS(f.engine->add_fragment(alice, id, {"escalation", 0, "nogoal", Json::object()}),
                       doctest::Contains("goal 'nogoal' does not exist"), Error);
  CHECK_THROWS_WITH_AS(f.engine->add_fragment(alice, id, {"escalation", 0, "", {{"surprise", 1}}}),
                       doctest::Contains("unknown parameter 'surprise'"), Error);
  CHECK(f.engine->inspect(id) == before);
  // A fragment not offered by the case type.
  f.engine->register_fragment(f.admin, fragment("other", {task("t")}));
  CHECK_THROWS_WITH_AS(f.engine->add_fragment(alice, id, {"other", 0, "", Json::object()}),
                       doctest::Contains("not a discretionary fragment"), Error);
}

TEST_CASE("a running case keeps the fragment version it was built from") {
  EngineFixture f;
  f.engine->register_fragment(f.admin, fragment("v", {task("one")}));
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  auto st = f.engine->add_fragment(owner, id, {"v", 0, "", Json::object()}).created;
  auto v2 = fragment("v", {task("one"), task("two")});
  v2.version = 2;
  f.engine->register_fragment(f.admin, v2);
  CHECK(f.engine->get_case(id).items.size() == 2);  // still version 1
  auto st2 = f.engine->add_fragment(owner, id, {"v", 0, "", Json::object()}).created;
  auto c = f.engine->get_case(id);
  CHECK(c.items.size() == 5);
  CHECK(c.items[3].fragment_version == 2);
  // Re-registering the same (id, version) with other content is refused.
  auto changed = fragment("v", {task("three")});
  CHECK_THROWS_AS(f.engine->register_fragment(f.admin, changed), Error);
  f.engine->register_fragment(f.admin, v2);  // identical: accepted (idempotent)
  (void)st;
  (void)st2;
  f.check_fold(id);
}

TEST_CASE("authorization: refused commands say why and change nothing") {
  EngineFixture f;
  f.load("examples/definitions/helpdesk.json");
  NewCase spec;
  spec.type = "complaint";
  spec.participants = {{"sue", {"supplier"}}, {"carl", {"customer"}}, {"bob", {"agent"}}};
  auto id = f.engine->create_case(Actor{"alice", {}}, spec).created;
  auto before = f.engine->inspect(id);
  Actor sue{"sue", {}}, carl{"carl", {}}, eve{"eve", {}}, bob{"bob", {}};
  auto denied = [&](auto&& fn, const char* why) {
    try {
      fn();
      FAIL("not refused");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::permission_denied);
      CHECK_MESSAGE(std::string(e.what()).find(why) != std::string::npos, e.what());
    }
  };
  denied([&] { f.engine->set_file(sue, id, "x", 1); }, "'plan' permission");
  denied([&] { f.engine->complete_item(carl, id, "diagnosis#1/triage"); }, "no 'work' permission");
  denied([&] { f.engine->complete_item(eve, id, "diagnosis#1/triage"); }, "no 'work' permission");
  denied([&] { f.engine->set_owner(bob, id, "bob"); }, "'manage' permission");
  denied([&] { f.engine->add_participant(bob, id, {"eve", {"agent"}}); }, "'manage' permission");
  denied([&] { f.engine->register_fragment(bob, fragment("z", {task("t")})); }, "designer");
  denied([&] { f.engine->reopen_case(bob, id); }, "'manage' permission");
  denied([&] { f.engine->as(eve).get_case(id); }, "'view' permission");
  denied([&] { f.engine->as(eve).history(id); }, "'view' permission");
  denied([&] { f.engine->as(eve).applicable_fragments(id); }, "'view' permission");
  denied([&] { f.engine->as(eve).explain_priority(id); }, "'view' permission");
  CHECK(f.engine->as(carl).get_case(id).id == id);  // the customer may look
  CHECK(f.engine->as(carl).history(id).size() == f.engine->history(id).size());
  CHECK(f.engine->as(carl).history(id, 2).front().seq == 2);
  CHECK(f.engine->as(carl).applicable_fragments(id).size() == f.engine->applicable_fragments(id).size());
  CHECK(f.engine->as(carl).explain_priority(id) == f.engine->explain_priority(id));
  CHECK(f.engine->inspect(id) == before);
  // Assigned work belongs to the assignee.
  f.engine->assign_item(Actor{"alice", {}}, id, "diagnosis#1/triage", "bob");
  f.engine->add_participant(Actor{"alice", {}}, id, {"ann", {"agent"}});
  denied([&] { f.engine->complete_item(Actor{"ann", {}}, id, "diagnosis#1/triage"); }, "assigned to 'bob'");
  CHECK_THROWS_WITH_AS(f.engine->assign_item(Actor{"alice", {}}, id, "diagnosis#1/triage", "sue"),
                       doctest::Contains("needs the case role 'agent'"), Error);
  f.engine->complete_item(bob, id, "diagnosis#1/triage");
  // Administrators may do everything.
  f.engine->set_priority(Actor{"ops", {"admin"}}, id, 5);
  CHECK(f.engine->get_case(id).priority == 5);
}

TEST_CASE("case lifecycle: suspend, resume, terminate, close, reopen") {
  EngineFixture f;
  f.engine->register_fragment(f.admin, fragment("one", {task("t")}));
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  auto st = f.engine->add_fragment(owner, id, {"one", 0, "", Json::object()}).created;
  f.engine->suspend_case(owner, id, "waiting for the customer");
  CHECK_THROWS_WITH_AS(f.engine->complete_item(owner, id, st + "/t"), doctest::Contains("suspended"), Error);
  CHECK_THROWS_AS(f.engine->suspend_case(owner, id), Error);
  f.engine->resume_case(owner, id);
  CHECK_THROWS_AS(f.engine->resume_case(owner, id), Error);
  f.engine->terminate_case(owner, id, "duplicate");
  auto c = f.engine->get_case(id);
  CHECK(c.status == CaseStatus::terminated);
  CHECK(f.state(id, st + "/t") == ItemState::terminated);
  f.engine->close_case(owner, id);
  CHECK_THROWS_AS(f.engine->reopen_case(owner, id), Error);  // closed: administrators only
  f.engine->reopen_case(f.admin, id, "not a duplicate after all");
  CHECK(f.engine->get_case(id).status == CaseStatus::active);
  f.check_fold(id);
}

TEST_CASE("case file: values at paths, removal, assets, sentries on paths") {
  EngineFixture f;
  auto t = task("react");
  t.entry = {Sentry{"", {OnPart{OnPartSource::case_file, "customer.address", "set"}}, ""}};
  f.engine->register_fragment(f.admin, fragment("watch", {t}));
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  auto st = f.engine->add_fragment(owner, id, {"watch", 0, "", Json::object()}).created;
  f.engine->set_file(owner, id, "customer.name", "Ada");
  CHECK(f.state(id, st + "/react") == ItemState::available);
  f.engine->set_file(owner, id, "customer.address.city", "Turin");
  CHECK(f.state(id, st + "/react") == ItemState::active);
  f.engine->set_file(owner, id, "tags", Json::array({"vip"}));
  f.engine->set_file(owner, id, "tags.-", "social");
  auto c = f.engine->get_case(id);
  CHECK(c.file["tags"] == Json::array({"vip", "social"}));
  CHECK_THROWS_WITH_AS(f.engine->set_file(owner, id, "customer.name.first", "x"), doctest::Contains("cannot go into"), Error);
  CHECK_THROWS_AS(f.engine->set_file(owner, id, "a..b", 1), Error);
  CHECK_THROWS_AS(f.engine->remove_file(owner, id, "nothing.here"), Error);
  f.engine->remove_file(owner, id, "customer.name");
  CHECK_FALSE(f.engine->get_case(id).file["customer"].contains("name"));
  auto r = f.engine->attach(owner, id, Asset{.kind = "note", .title = "call", .text = "Customer angry on Twitter"});
  CHECK(r.events.back().payload["asset"]["id"] == "asset-1");
  f.engine->attach(owner, id, Asset{.kind = "link", .title = "post", .uri = "https://example.org/post/1"});
  CHECK_THROWS_AS(f.engine->attach(owner, id, Asset{.kind = "link", .title = "no uri"}), Error);
  CHECK_THROWS_AS(f.engine->attach(owner, id, Asset{.kind = "video"}), Error);
  c = f.engine->get_case(id);
  CHECK(c.assets.size() == 2);
  CHECK(c.assets[0].added_by == "owner");
  f.check_fold(id);
}

TEST_CASE("unknown ids give not_found and change nothing") {
  EngineFixture f;
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  auto code = [](auto&& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::ok;
  };
  CHECK(code([&] { f.engine->get_case("nope"); }) == ErrorCode::not_found);
  CHECK(f.engine->find_case("nope") == std::nullopt);
  CHECK(code([&] { f.engine->complete_item(owner, id, "nope"); }) == ErrorCode::not_found);
  CHECK(code([&] { f.engine->achieve_goal(owner, id, "nope"); }) == ErrorCode::not_found);
  CHECK(code([&] { f.engine->add_fragment(owner, id, {"nope", 0, "", Json::object()}); }) == ErrorCode::not_found);
  CHECK(code([&] { f.engine->create_case(owner, NewCase{.type = "nope"}); }) == ErrorCode::not_found);
  CHECK(code([&] { f.engine->create_case(owner, NewCase{.id = id}); }) == ErrorCode::already_exists);
  CHECK(code([&] { f.engine->set_file(Request(owner, 99), id, "x", 1); }) == ErrorCode::conflict);
  CHECK(f.engine->get_case(id).version == 1);
}

TEST_CASE("reopening an automatically completed case keeps it open until a goal changes") {
  EngineFixture f;
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  f.engine->add_goal(owner, id, GoalSpec{.id = "g", .criterion = "file.done == true"});
  f.engine->set_file(owner, id, "done", true);
  CHECK(f.engine->get_case(id).status == CaseStatus::completed);
  f.engine->reopen_case(owner, id, "customer not happy");
  CHECK(f.engine->get_case(id).status == CaseStatus::active);
  f.engine->add_task(owner, id, AdHocTask{.name = "call back"});
  CHECK(f.engine->get_case(id).status == CaseStatus::active);
  f.engine->add_goal(owner, id, GoalSpec{.id = "g2", .criterion = "file.happy == true"});
  f.engine->complete_item(owner, id, "task#1");
  f.engine->set_file(owner, id, "happy", true);
  CHECK(f.engine->get_case(id).status == CaseStatus::completed);
  f.check_fold(id);
}

TEST_CASE("sub-goals: optional ones do not achieve a parent, cancelling cascades to every depth") {
  EngineFixture f;
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  f.engine->add_goal(owner, id, GoalSpec{.id = "top"});
  f.engine->add_goal(owner, id, GoalSpec{.id = "nice", .parent = "top", .required = false, .decision = true});
  CHECK(f.goal(id, "top").status == GoalStatus::open);  // only an optional sub-goal: a person decides
  f.engine->add_goal(owner, id, GoalSpec{.id = "mid", .parent = "top", .decision = true});
  f.engine->add_goal(owner, id, GoalSpec{.id = "leaf", .parent = "mid", .decision = true});
  f.engine->cancel_goal(owner, id, "top");
  CHECK(f.goal(id, "mid").status == GoalStatus::cancelled);
  CHECK(f.goal(id, "leaf").status == GoalStatus::cancelled);
  CHECK(f.goal(id, "nice").status == GoalStatus::cancelled);
}

TEST_CASE("a failed task is terminated with its stage and cannot run afterwards") {
  EngineFixture f;
  f.engine->register_handler("boom", [](const TaskContext&) -> TaskResult { throw std::runtime_error("boom"); });
  ItemDef t;
  t.id = "t";
  t.kind = ItemKind::automated_task;
  t.handler = "boom";
  f.engine->register_fragment(f.admin, fragment("fails", {t}));
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  auto st = f.engine->add_fragment(owner, id, {"fails", 0, "", Json::object()}).created;
  CHECK(f.state(id, st + "/t") == ItemState::failed);
  CHECK(f.state(id, st) == ItemState::active);  // a failed child blocks its stage
  f.engine->terminate_item(owner, id, st);
  CHECK(f.state(id, st + "/t") == ItemState::terminated);
  CHECK_THROWS_AS(f.engine->reactivate_item(owner, id, st + "/t"), Error);
}

TEST_CASE("deadline checks while a task is active stay few") {
  EngineFixture f;
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  f.engine->add_goal(owner, id, GoalSpec{.id = "g", .within = 2h, .decision = true});
  f.engine->add_task(owner, id, AdHocTask{.name = "long", .estimate = 2h, .goal = "g"});  // no slack at all
  auto before = f.engine->get_case(id).version;
  std::size_t wakeups = 0;
  while (auto due = f.engine->next_due()) {
    if (*due > t("2026-11-23T12:00:00Z")) break;
    f.clock->advance_to(*due);
    if (++wakeups > 20) break;
  }
  CHECK(wakeups <= 2);  // the estimate is used up exactly at the deadline: overdue
  CHECK(f.goal(id, "g").timing == Timing::overdue);
  CHECK(f.engine->get_case(id).version == before + 1);  // on_track -> overdue, nothing in between
}

TEST_CASE("removing a deadline puts the goal back on track") {
  EngineFixture f;
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  f.engine->add_goal(owner, id, GoalSpec{.id = "g", .within = 1h, .decision = true});
  f.clock->advance(2h);
  CHECK(f.goal(id, "g").timing == Timing::overdue);
  f.engine->change_goal(owner, id, "g", GoalChange{.deadline = std::optional<TimePoint>{}});
  CHECK(f.goal(id, "g").timing == Timing::on_track);
}

TEST_CASE("suspending a stage suspends its active work and holds its timers") {
  EngineFixture f;
  auto a = task("a");
  ItemDef tm;
  tm.id = "tm";
  tm.kind = ItemKind::timer_listener;
  tm.timer = 1h;
  f.engine->register_fragment(f.admin, fragment("susp", {a, tm}));
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  auto st = f.engine->add_fragment(owner, id, {"susp", 0, "", Json::object()}).created;
  f.engine->suspend_item(owner, id, st);
  CHECK(f.state(id, st + "/a") == ItemState::suspended);
  CHECK_THROWS_AS(f.engine->complete_item(owner, id, st + "/a"), Error);
  f.clock->advance(2h);
  CHECK(f.state(id, st + "/tm") == ItemState::available);  // waits for the stage
  f.engine->resume_item(owner, id, st);
  CHECK(f.state(id, st + "/a") == ItemState::active);
  f.engine->run_due();
  CHECK(f.state(id, st + "/tm") == ItemState::completed);
  f.check_fold(id);
}

TEST_CASE("ad-hoc items are told apart by milestones and item()") {
  EngineFixture f;
  auto id = bare_case(f);
  Actor owner{"owner", {}};
  auto m1 = f.engine->add_task(owner, id, AdHocTask{.name = "first", .kind = ItemKind::milestone}).created;
  auto m2 = f.engine->add_task(owner, id, AdHocTask{.name = "second", .kind = ItemKind::milestone}).created;
  f.engine->add_goal(owner, id, GoalSpec{.id = "g", .milestones = {m2}});
  f.engine->occur(owner, id, m1);
  CHECK(f.goal(id, "g").status == GoalStatus::open);
  f.engine->occur(owner, id, m2);
  CHECK(f.goal(id, "g").status == GoalStatus::achieved);
}
