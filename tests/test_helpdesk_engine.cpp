// SPDX-License-Identifier: Apache-2.0
// Help-desk capabilities inside the engine: SLA goals on business-hour calendars with pauses,
// promises to the customer, priority policies, escalation rules.
#include "support.hpp"

#include <acm/calendar.hpp>

#include <filesystem>
#include <unistd.h>

using namespace acm;
using acm::test::t;

namespace {

std::shared_ptr<const Calendar> office() {
  // 09:00-17:00 Monday to Friday, Europe/Rome; 2026-12-08 is a holiday.
  return std::make_shared<BusinessCalendar>(BusinessCalendar::from_json(Json::parse(R"({
    "name": "office", "time_zone": "Europe/Rome",
    "hours": {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"], "wed": ["09:00-17:00"],
              "thu": ["09:00-17:00"], "fri": ["09:00-17:00"]},
    "holidays": ["2026-12-08"]})")));
}

struct Desk {
  std::shared_ptr<ManualClock> clock;
  std::unique_ptr<Engine> engine;
  Actor admin{"root", {"admin"}};
  std::vector<Event> seen;
  explicit Desk(EngineOptions o, const char* start = "2026-11-27T14:00:00Z") {  // Friday 15:00 in Rome
    clock = std::make_shared<ManualClock>(t(start));
    o.clock = clock;
    if (!o.calendar) o.calendar = office();
    engine = Engine::open(o);
    engine->subscribe([this](const Event& e) { seen.push_back(e); });
  }
  GoalInfo goal(const std::string& c, const std::string& g) {
    for (const GoalInfo& x : engine->get_case(c).goals)
      if (x.id == g) return x;
    FAIL("no goal " << g);
    return {};
  }
  PromiseInfo promise(const std::string& c, const std::string& p) {
    for (const PromiseInfo& x : engine->get_case(c).promises)
      if (x.id == p) return x;
    FAIL("no promise " << p);
    return {};
  }
  std::vector<Event> kind(const std::string& k) {
    std::vector<Event> out;
    for (const Event& e : seen)
      if (e.kind == k) out.push_back(e);
    return out;
  }
  void check_fold(const std::string& c) { CHECK(engine->inspect(c) == engine->inspect(c, true)); }
};

}  // namespace

TEST_CASE("an SLA of 8 business hours pauses while waiting on the customer") {
  Desk d(EngineOptions{});
  const std::string c = d.engine->create_case(d.admin, NewCase{}).created;
  GoalSpec sla{.id = "sla", .name = "Resolve within 8 business hours"};
  sla.within = std::chrono::hours(8);
  d.engine->add_goal(d.admin, c, sla);
  // Friday 15:00 + 8 business hours = Monday 15:00 (Rome) = 14:00 UTC.
  CHECK(d.goal(c, "sla").deadline == t("2026-11-30T14:00:00Z"));

  // Monday 10:00 Rome: waiting on the customer until Tuesday 12:00.
  d.clock->advance_to(t("2026-11-30T09:00:00Z"));
  d.engine->pause_goal(d.admin, c, "sla", "waiting on customer");
  CHECK(d.goal(c, "sla").paused_since == t("2026-11-30T09:00:00Z"));
  CHECK_THROWS_AS(d.engine->pause_goal(d.admin, c, "sla"), Error);
  d.clock->advance_to(t("2026-12-01T11:00:00Z"));  // past the old deadline: nothing fires
  CHECK(d.goal(c, "sla").timing == Timing::on_track);
  CHECK(d.kind("goal_timing").empty());
  d.engine->resume_goal(d.admin, c, "sla");
  // 5 business hours were left at the pause (10:00-15:00); from Tuesday 12:00 -> 17:00.
  CHECK(d.goal(c, "sla").deadline == t("2026-12-01T16:00:00Z"));
  auto resumed = d.kind("goal_resumed");
  REQUIRE(resumed.size() == 1);
  CHECK(resumed[0].payload["paused_for"] == "PT10H");  // Mon 10-17 and Tue 9-12 count as working time
  d.clock->advance_to(t("2026-12-01T16:00:00Z"));
  CHECK(d.goal(c, "sla").timing == Timing::overdue);
  d.check_fold(c);
  // A resume without a pause is refused, and "" pauses every running deadline.
  CHECK_THROWS_AS(d.engine->resume_goal(d.admin, c, "sla"), Error);
  CHECK_THROWS_AS(d.engine->resume_goal(d.admin, c, "nope"), Error);
}

TEST_CASE("SLA deadlines skip the holiday and the week-end") {
  Desk d(EngineOptions{}, "2026-12-07T15:00:00Z");  // Monday 16:00 Rome; Tuesday 8 Dec is a holiday
  const std::string c = d.engine->create_case(d.admin, NewCase{}).created;
  GoalSpec sla{.id = "sla"};
  sla.within = std::chrono::hours(4);
  d.engine->add_goal(d.admin, c, sla);
  // 1 h on Monday, then Wednesday 09:00-12:00.
  CHECK(d.goal(c, "sla").deadline == t("2026-12-09T11:00:00Z"));
}

TEST_CASE("a promise goes at risk before it is broken, and a completed case keeps it") {
  EngineOptions o;
  o.calendar = std::make_shared<AlwaysCalendar>();
  o.promise_warning = std::chrono::hours(2);
  Desk d(o, "2026-11-23T09:00:00Z");
  const std::string c = d.engine->create_case(d.admin, NewCase{}).created;
  d.engine->add_goal(d.admin, c, GoalSpec{.id = "fix"});
  const std::string task = d.engine->add_task(d.admin, c, AdHocTask{.name = "repair", .estimate = std::chrono::hours(5), .manual = true}).created;
  (void)task;
  d.engine->make_promise(d.admin, c, PromiseSpec{"callback", "we call you back with a fix", t("2026-11-23T18:00:00Z")});
  CHECK(d.promise(c, "callback").timing == Timing::on_track);
  CHECK_THROWS_AS(d.engine->make_promise(d.admin, c, PromiseSpec{"callback", "again", t("2026-11-24T18:00:00Z")}), Error);
  CHECK_THROWS_AS(d.engine->make_promise(d.admin, c, PromiseSpec{"past", "x", t("2026-11-23T08:00:00Z")}), Error);
  // 5 h of work left: from 13:00:00.001 it no longer fits before 18:00.
  d.clock->advance_to(t("2026-11-23T13:30:00Z"));
  auto timing = d.kind("promise_timing");
  REQUIRE(timing.size() == 2);
  CHECK(timing[0].payload["to"] == "on_track");  // the first evaluation, when it was made
  CHECK(timing[0].payload["expected"] == "2026-11-23T14:00:00.000Z");
  CHECK(timing[1].payload["to"] == "at_risk");
  CHECK(timing[1].payload["source"] == "plan");
  CHECK(timing[1].time == t("2026-11-23T13:00:00.001Z"));
  d.clock->advance_to(t("2026-11-23T18:00:00Z"));
  CHECK(d.promise(c, "callback").status == PromiseStatus::broken);
  CHECK(d.kind("promise_broken").size() == 1);

  // A second promise, kept because the case completes in time.
  d.engine->make_promise(d.admin, c, PromiseSpec{"fix", "fixed by tomorrow", t("2026-11-24T18:00:00Z")});
  for (const PlanItemInfo& it : d.engine->get_case(c).items) {
    d.engine->start_item(d.admin, c, it.id);
    d.engine->complete_item(d.admin, c, it.id);
  }
  d.engine->achieve_goal(d.admin, c, "fix");
  CHECK(d.engine->get_case(c).status == CaseStatus::completed);
  CHECK(d.promise(c, "fix").status == PromiseStatus::kept);
  d.check_fold(c);
}

TEST_CASE("a promise tracks the host's learned forecast when there is one") {
  EngineOptions o;
  o.calendar = std::make_shared<AlwaysCalendar>();
  TimePoint forecast = t("2026-11-24T12:00:00Z");
  o.forecaster = [&forecast](const CaseInfo&, TimePoint) { return std::optional<TimePoint>(forecast); };
  Desk d(o, "2026-11-23T09:00:00Z");
  const std::string c = d.engine->create_case(d.admin, NewCase{}).created;
  d.engine->make_promise(d.admin, c, PromiseSpec{"p", "answer", t("2026-11-24T09:00:00Z")});
  PromiseInfo p = d.promise(c, "p");
  CHECK(p.timing == Timing::at_risk);
  CHECK(p.expected == forecast);
  forecast = t("2026-11-23T15:00:00Z");
  d.engine->set_file(d.admin, c, "note", "new facts");  // any command re-evaluates
  CHECK(d.promise(c, "p").timing == Timing::on_track);
  d.engine->cancel_promise(d.admin, c, "p", "customer withdrew");
  CHECK(d.promise(c, "p").status == PromiseStatus::cancelled);
  try {
    d.engine->keep_promise(d.admin, c, "nope");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::not_found);
  }
}

TEST_CASE("a priority policy scores customer value, influence, sentiment and SLA risk, with its reasons") {
  EngineOptions o;
  o.calendar = std::make_shared<AlwaysCalendar>();
  o.priority_policy = PriorityPolicy::from_json(Json::parse(R"({"terms": [
    {"name": "customer value", "expression": "subject.attributes.value / 1000", "weight": 2},
    {"name": "influence", "expression": "subject.attributes.followers > 10000", "weight": 15},
    {"name": "negative sentiment", "expression": "-subject.attributes.sentiment", "weight": 10},
    {"name": "SLA at risk", "expression": "goal(\"sla\").timing == \"at_risk\" or goal(\"sla\").timing == \"overdue\"", "weight": 30}
  ]})"));
  Desk d(o, "2026-11-23T09:00:00Z");
  NewCase nc;
  nc.priority = 5;
  nc.subject.customer = "c-42";
  nc.subject.attributes = {{"value", 12000}, {"followers", 250000}, {"sentiment", -0.5}};
  const std::string c = d.engine->create_case(d.admin, nc).created;
  // 5 + 24 + 15 + 5 = 49
  CHECK(d.engine->get_case(c).priority == 49);
  Json why = d.engine->explain_priority(c);
  CHECK(why["base"] == 5);
  CHECK(why["terms"][0]["contribution"] == 24.0);
  CHECK(why["terms"][1]["value"] == 1.0);
  CHECK(why["terms"][3]["contribution"] == 0.0);
  // Sentiment improves: recomputed at once, the event says why.
  d.engine->set_subject_attribute(d.admin, c, "sentiment", 0.5);
  CHECK(d.engine->get_case(c).priority == 39);
  const Event last = d.kind("priority_changed").back();
  CHECK(last.payload["from"] == 49);
  CHECK(last.payload["to"] == 39);
  CHECK(last.payload["terms"].size() == 4);
  // SLA risk raises it without any command: the timer does.
  GoalSpec sla{.id = "sla"};
  sla.within = std::chrono::hours(2);
  d.engine->add_goal(d.admin, c, sla);
  d.engine->add_task(d.admin, c, AdHocTask{.name = "work", .estimate = std::chrono::hours(1), .goal = "sla", .manual = true});
  d.clock->advance(std::chrono::minutes(61));
  CHECK(d.goal(c, "sla").timing == Timing::at_risk);
  CHECK(d.engine->get_case(c).priority == 69);
  // A manual priority is the base; the policy adds to it.
  d.engine->set_priority(d.admin, c, 0);
  CHECK(d.engine->get_case(c).priority == 64);
  d.check_fold(c);
  // A bad policy is refused with every problem.
  CHECK_THROWS_WITH_AS(PriorityPolicy::from_json(Json::parse(R"({"terms": [{"name": "x"}, {"expression": "1", "bogus": 1}]})")),
                       doctest::Contains("/terms/1/bogus"), Error);
  EngineOptions bad;
  bad.priority_policy = PriorityPolicy{{{"broken", "1 +", 1}}};
  CHECK_THROWS_WITH_AS(Engine::open(bad), doctest::Contains("/terms/0/expression"), Error);
}

TEST_CASE("escalation rules notify, bring in a lead, reassign and add work, a bounded number of times") {
  EngineOptions o;
  o.calendar = std::make_shared<AlwaysCalendar>();
  o.escalation = EscalationRule::from_json(Json::parse(R"({"rules": [
    {"id": "warn-owner", "on": "goal_at_risk", "notify": "owner"},
    {"id": "lead", "on": "goal_overdue", "target": "sla", "notify": "owner",
     "bring_in": {"actor": "lead-1", "roles": ["manager"]}, "add_fragment": "escalation"},
    {"id": "reassign", "on": "item_overdue", "reassign_to": "senior-1", "notify": "assignee", "max_times": 1}
  ]})"));
  Desk d(o, "2026-11-23T09:00:00Z");
  d.engine->load_definitions(d.admin, acm::test::read_json("examples/definitions/helpdesk.json"));
  NewCase nc;
  nc.owner = "agent-7";
  const std::string c = d.engine->create_case(d.admin, nc).created;
  GoalSpec sla{.id = "sla"};
  sla.within = std::chrono::hours(4);
  d.engine->add_goal(d.admin, c, sla);
  d.engine->add_participant(d.admin, c, Participant{"agent-7", {}});
  d.engine->add_task(d.admin, c, AdHocTask{.name = "repair", .estimate = std::chrono::hours(3), .goal = "sla", .manual = true});
  const std::string task = d.engine->add_task(
      d.admin, c, AdHocTask{.name = "diagnose", .due = std::chrono::hours(2), .goal = "sla", .assignee = "agent-7"}).created;
  d.clock->advance(std::chrono::minutes(90));  // 3 h of work no longer fits in the 2.5 h left
  auto esc = d.kind("escalated");
  REQUIRE(esc.size() == 1);
  CHECK(esc[0].payload["rule"] == "warn-owner");
  CHECK(esc[0].payload["notify"] == "agent-7");
  d.clock->advance(std::chrono::minutes(31));  // the task is overdue
  esc = d.kind("escalated");
  REQUIRE(esc.size() == 2);
  CHECK(esc[1].payload["rule"] == "reassign");
  CHECK(esc[1].payload["notify"] == "agent-7");
  for (const PlanItemInfo& it : d.engine->get_case(c).items)
    if (it.id == task) CHECK(it.assignee == "senior-1");
  d.clock->advance(std::chrono::hours(2));  // the SLA is overdue
  esc = d.kind("escalated");
  REQUIRE(esc.size() == 3);
  CHECK(esc[2].payload["rule"] == "lead");
  CaseInfo info = d.engine->get_case(c);
  bool lead = false;
  for (const Participant& p : info.participants) lead |= p.actor == "lead-1";
  CHECK(lead);
  bool fragment = false;
  for (const PlanItemInfo& it : info.items) fragment |= it.fragment == "escalation" && it.goal == "sla";
  CHECK(fragment);
  // Going at risk again does not warn the owner twice (max_times 1).
  GoalChange later;
  later.deadline = std::optional<TimePoint>(d.clock->now() + std::chrono::hours(100));
  d.engine->change_goal(d.admin, c, "sla", later);
  later.deadline = std::optional<TimePoint>(d.clock->now() + std::chrono::minutes(10));
  d.engine->change_goal(d.admin, c, "sla", later);
  CHECK(d.kind("escalated").size() == 3);
  CHECK(d.engine->inspect(c)["escalations"]["warn-owner|sla"] == 1);
  d.check_fold(c);
  // Bad rules are refused.
  CHECK_THROWS_WITH_AS(EscalationRule::from_json(Json::parse(R"({"rules": [{"id": "x", "on": "sometimes"}]})")),
                       doctest::Contains("sometimes"), Error);
}

TEST_CASE("pauses, promises, base priority and escalation counts survive a reopen of the SQLite store") {
  char tmpl[] = "/tmp/acm-hd-XXXXXX";
  const std::filesystem::path dir = mkdtemp(tmpl);
  EngineOptions o;
  o.database = (dir / "acm.db").string();
  o.snapshot_every = 2;  // snapshots carry the new fields too
  std::string c;
  Json before;
  {
    Desk d(o);
    c = d.engine->create_case(d.admin, NewCase{.priority = 3}).created;
    GoalSpec sla{.id = "sla"};
    sla.within = std::chrono::hours(8);
    d.engine->add_goal(d.admin, c, sla);
    d.engine->make_promise(d.admin, c, PromiseSpec{"p", "call back", t("2026-12-04T10:00:00Z")});
    d.engine->pause_goal(d.admin, c, "");
    before = d.engine->inspect(c);
  }
  {
    Desk d(o);
    CHECK(d.engine->inspect(c) == before);
    CHECK(d.engine->inspect(c, true) == before);
    CHECK(d.goal(c, "sla").paused_since.has_value());
    CHECK(d.promise(c, "p").status == PromiseStatus::open);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("work queues: mine, my team's, filtered by my skills, paged, in both stores") {
  char tmpl[] = "/tmp/acm-q-XXXXXX";
  const std::filesystem::path dir = mkdtemp(tmpl);
  for (const std::string& db : {std::string(), (dir / "acm.db").string()}) {
    CAPTURE(db);
    EngineOptions o;
    o.database = db;
    o.calendar = std::make_shared<AlwaysCalendar>();
    Desk d(o, "2026-11-23T09:00:00Z");
    const std::string c1 = d.engine->create_case(d.admin, NewCase{.priority = 1}).created;
    const std::string c2 = d.engine->create_case(d.admin, NewCase{.priority = 9}).created;
    d.engine->add_participant(d.admin, c2, Participant{"ann", {"agent"}});
    auto task = [&](const std::string& c, const char* name, std::vector<std::string> skills, std::string assignee = {}) {
      return d.engine->add_task(d.admin, c, AdHocTask{.name = name, .role = "agent", .skills = std::move(skills), .assignee = std::move(assignee)}).created;
    };
    task(c1, "router", {"networking"});
    task(c1, "invoice", {});
    task(c2, "fibre", {"networking", "fibre"});
    task(c2, "mine", {"legal"}, "ann");
    auto names = [](const std::vector<WorkItem>& v) {
      std::vector<std::string> out;
      for (const WorkItem& w : v) out.push_back(w.name);
      return out;
    };
    // The team's queue: priority first (c2 is 9), then by case and item.
    CHECK(names(d.engine->queue(QueueFilter{.roles = {"agent"}})) == std::vector<std::string>{"fibre", "router", "invoice"});
    // Ann with networking only: her own task, and unassigned work she has the skills for.
    QueueFilter ann{.assignee = "ann", .roles = {"agent"}};
    ann.skills = std::vector<std::string>{"networking"};
    CHECK(names(d.engine->queue(ann)) == std::vector<std::string>{"mine", "router", "invoice"});
    ann.skills = std::vector<std::string>{};
    CHECK(names(d.engine->queue(ann)) == std::vector<std::string>{"mine", "invoice"});
    ann.skills = std::vector<std::string>{"fibre", "networking"};
    ann.limit = 2;
    ann.offset = 1;
    CHECK(names(d.engine->queue(ann)) == std::vector<std::string>{"mine", "router"});  // of fibre, mine, router, invoice
  }
  std::filesystem::remove_all(dir);
}
