// SPDX-License-Identifier: Apache-2.0
// Who may plan and who may work, from the definition: a fragment's `authorized_roles` (CMMN's
// authorizedRoleRefs), a human task's default `assignee` and `candidate_users` (Flowable's and
// Camunda's assignee / candidateUsers), and a fragment's `planning_table` (a discretionary item
// planned inside the stage that holds its planning table). Tested on JSON definitions and on
// imported CMMN models (docs/definitions.md, docs/cmmn.md).
#include <acm/cmmn.hpp>

#include "support.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

using namespace acm;
using namespace acm::test;

namespace {

std::string error_text(const std::function<void()>& f, ErrorCode* code = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (code) *code = e.code();
    return e.what();
  }
  return {};
}

std::size_t event_count(const Engine& engine, const std::string& case_id) { return engine.history(case_id).size(); }

const PlanItemInfo* find(const CaseInfo& c, const std::string& id) {
  for (const auto& i : c.items)
    if (i.id == id) return &i;
  return nullptr;
}

// A case type with three roles: a lead (view, work), a planner (view, work, plan), a clerk
// (view, work). "extra" may be added by leads only, "free" by anyone with `plan`.
const char* kPlanningDoc = R"({
  "fragments": [
    { "id": "main", "items": [ { "id": "t", "kind": "human_task" } ] },
    { "id": "extra", "authorized_roles": ["lead"], "items": [ { "id": "x", "kind": "human_task" } ] },
    { "id": "free", "items": [ { "id": "y", "kind": "human_task" } ] } ],
  "case_types": [ { "id": "ct", "initial_fragments": ["main"], "discretionary": ["extra", "free"],
    "roles": [ { "name": "lead", "permissions": ["view", "work"] },
               { "name": "planner", "permissions": ["view", "work", "plan"] },
               { "name": "clerk", "permissions": ["view", "work"] } ] } ] })";

}  // namespace

TEST_CASE("definitions: authorized_roles, assignee, candidate_users and planning_table are read, validated, written back") {
  DefinitionSet set = parse_definitions(Json::parse(R"({
    "fragments": [
      { "id": "p", "items": [ { "id": "s", "kind": "stage", "children": [
          { "id": "t", "kind": "human_task", "assignee": "ann", "candidate_users": ["ann", "bob"] } ] } ] },
      { "id": "d", "authorized_roles": ["lead"], "planning_table": { "fragment": "p", "stage": "s" },
        "items": [ { "id": "x", "kind": "human_task" } ] } ] })"));
  REQUIRE(set.fragments.size() == 2);
  const ItemDef& t = set.fragments[0].items[0].children[0];
  CHECK(t.assignee == "ann");
  CHECK(t.candidate_users == std::vector<std::string>{"ann", "bob"});
  CHECK(set.fragments[1].authorized_roles == std::vector<std::string>{"lead"});
  CHECK(set.fragments[1].planning_table.fragment == "p");
  CHECK(set.fragments[1].planning_table.stage == "s");
  const Json back = to_json(set.fragments[1]);
  CHECK(back["authorized_roles"] == Json::array({"lead"}));
  CHECK(back["planning_table"] == Json{{"fragment", "p"}, {"stage", "s"}});
  CHECK(to_json(set.fragments[0])["items"][0]["children"][0]["candidate_users"] == Json::array({"ann", "bob"}));
  CHECK(parse_definitions(to_json(set.fragments[1])).fragments[0].planning_table.stage == "s");

  auto problems = [](const char* text) {
    return error_text([&] { parse_definitions(Json::parse(text)); });
  };
  // An assignee on a milestone, an expression, a duplicate candidate, an assignee who is not a
  // candidate, an invalid role name, a planning table without fragment: each named.
  std::string e = problems(R"({"id": "f", "authorized_roles": ["bad role"], "items": [
      { "id": "m", "kind": "milestone", "assignee": "ann" },
      { "id": "t", "kind": "human_task", "assignee": "${initiator}" },
      { "id": "u", "kind": "human_task", "assignee": "carl", "candidate_users": ["ann", "ann"] } ]})");
  CHECK(e.find("/items/0/assignee") != std::string::npos);
  CHECK(e.find("only to human tasks") != std::string::npos);
  CHECK(e.find("/items/1/assignee") != std::string::npos);
  CHECK(e.find("expression") != std::string::npos);
  CHECK(e.find("/items/2/candidate_users/1") != std::string::npos);
  CHECK(e.find("\"carl\" is not among the candidate users") != std::string::npos);
  CHECK(e.find("/authorized_roles/0") != std::string::npos);
  e = problems(R"({"id": "f", "planning_table": {"stage": "s", "colour": 1}, "items": []})");
  CHECK(e.find("/planning_table/fragment") != std::string::npos);
  CHECK(e.find("unknown key \"colour\"") != std::string::npos);

  // Against the case type: unknown authorized roles, a planning table naming a fragment or a
  // stage the case type does not have, a planned fragment as an initial fragment.
  auto engine = Engine::open({});
  const Actor admin{"root", {"admin"}};
  e = error_text([&] {
    engine->load_definitions(admin, Json::parse(R"({
      "fragments": [ { "id": "p", "items": [ { "id": "s", "kind": "stage", "children": [] } ] },
        { "id": "d1", "authorized_roles": ["boss"], "items": [] },
        { "id": "d2", "planning_table": {"fragment": "nowhere"}, "items": [] },
        { "id": "d3", "planning_table": {"fragment": "p", "stage": "nostage"}, "items": [] },
        { "id": "d4", "planning_table": {"fragment": "p", "stage": "s"}, "items": [] } ],
      "case_types": [ { "id": "ct", "initial_fragments": ["p", "d4"], "discretionary": ["d1", "d2", "d3"],
        "roles": [ { "name": "lead", "permissions": ["view"] } ] } ] })"));
  });
  CHECK(e.find("needs role \"boss\", which the case type does not define") != std::string::npos);
  CHECK(e.find("planned in fragment \"nowhere\"") != std::string::npos);
  CHECK(e.find("no stage item of that id") != std::string::npos);
  CHECK(e.find("cannot be an initial fragment") != std::string::npos);
  CHECK(engine->list_fragments().empty());  // nothing registered
}

TEST_CASE("authorized_roles: only holders of one of the roles (or managers) may add the fragment") {
  EngineFixture f;
  f.engine->load_definitions(f.admin, Json::parse(kPlanningDoc));
  NewCase spec;
  spec.type = "ct";
  spec.owner = "owner";
  spec.participants = {{"lena", {"lead"}}, {"paul", {"planner"}}, {"carl", {"clerk"}}};
  const std::string id = f.engine->create_case(f.admin, spec).created;
  const Actor lena{"lena", {}}, paul{"paul", {}}, carl{"carl", {}}, owner{"owner", {}};

  // The planner has `plan` but not the role: refused, nothing recorded.
  const std::size_t before = event_count(*f.engine, id);
  ErrorCode code{};
  std::string e = error_text([&] { f.engine->add_fragment(paul, id, {.fragment = "extra"}); }, &code);
  CHECK(code == ErrorCode::permission_denied);
  CHECK(e.find("only the case roles [lead]") != std::string::npos);
  // A clerk neither.
  e = error_text([&] { f.engine->add_fragment(carl, id, {.fragment = "extra"}); }, &code);
  CHECK(code == ErrorCode::permission_denied);
  CHECK(event_count(*f.engine, id) == before);
  CHECK(find(f.engine->get_case(id), "extra#1") == nullptr);

  // The lead holds the role (without `plan`): the role authorizes it.
  CHECK(f.engine->add_fragment(lena, id, {.fragment = "extra"}).created == "extra#1");
  // The owner manages the case: not restricted.
  CHECK(f.engine->add_fragment(owner, id, {.fragment = "extra"}).created == "extra#2");
  // A fragment without authorized roles behaves as before: `plan` is needed, the role is not.
  CHECK(f.engine->add_fragment(paul, id, {.fragment = "free"}).created == "free#1");
  e = error_text([&] { f.engine->add_fragment(lena, id, {.fragment = "free"}); }, &code);
  CHECK(code == ErrorCode::permission_denied);
  CHECK(e.find("'plan' permission") != std::string::npos);
}

TEST_CASE("assignee and candidate_users: the default assignee takes the task when it is enabled or active, only candidates may claim it") {
  EngineFixture f;
  f.engine->load_definitions(f.admin, Json::parse(R"({
    "fragments": [ { "id": "main", "items": [
      { "id": "a", "kind": "human_task", "assignee": "ann" },
      { "id": "m", "kind": "human_task", "assignee": "ann", "manual_activation": true },
      { "id": "c", "kind": "human_task", "candidate_users": ["bob", "cid"] },
      { "id": "r", "kind": "human_task", "role": "expert", "candidate_users": ["bob"] },
      { "id": "ghost", "kind": "human_task", "assignee": "zed" },
      { "id": "later", "kind": "human_task", "assignee": "ann", "after": ["a"] } ] } ],
    "case_types": [ { "id": "ct", "initial_fragments": ["main"],
      "roles": [ { "name": "worker", "permissions": ["view", "work"] },
                 { "name": "expert", "permissions": ["view", "work"] },
                 { "name": "planner", "permissions": ["view", "work", "plan"] } ] } ] })"));
  NewCase spec;
  spec.type = "ct";
  spec.owner = "owner";
  spec.participants = {{"ann", {"worker"}},   {"bob", {"worker"}}, {"cid", {"worker"}},
                       {"dan", {"worker"}},   {"eve", {"expert"}}, {"pat", {"planner"}}};
  const std::string id = f.engine->create_case(f.admin, spec).created;
  const Actor ann{"ann", {}}, bob{"bob", {}}, dan{"dan", {}}, eve{"eve", {}}, pat{"pat", {}}, owner{"owner", {}};
  CaseInfo c = f.engine->get_case(id);
  // Assigned when active, and when enabled (manual activation): the read model shows it.
  CHECK(find(c, "main#1/a")->state == ItemState::active);
  CHECK(find(c, "main#1/a")->assignee == "ann");
  CHECK(find(c, "main#1/m")->state == ItemState::enabled);
  CHECK(find(c, "main#1/m")->assignee == "ann");
  // Not yet enabled: not assigned yet.
  CHECK(find(c, "main#1/later")->assignee.empty());
  // Through the ordinary event, so queues see it.
  CHECK(std::any_of(f.seen.begin(), f.seen.end(), [](const Event& e) {
    return e.kind == "item_assigned" && e.payload["item"] == "main#1/a" && e.payload["to"] == "ann";
  }));
  QueueFilter mine;
  mine.assignee = "ann";
  const auto queue = f.engine->queue(mine);
  CHECK(std::any_of(queue.begin(), queue.end(), [&](const WorkItem& w) { return w.item_id == "main#1/a"; }));
  // A default assignee who is not a participant: left unassigned, and an error event says why.
  CHECK(find(c, "main#1/ghost")->assignee.empty());
  CHECK(std::any_of(f.seen.begin(), f.seen.end(), [](const Event& e) {
    return e.kind == "error" && e.payload.value("item", "") == "main#1/ghost" &&
           e.payload["message"].get<std::string>().find("'zed' is not a participant") != std::string::npos;
  }));
  // Completing `a` enables `later`, which then gets its assignee.
  f.engine->complete_item(ann, id, "main#1/a");
  CHECK(find(f.engine->get_case(id), "main#1/later")->assignee == "ann");

  // Candidate users: dan (a worker, not a candidate) may not take or complete `c`.
  ErrorCode code{};
  std::string e = error_text([&] { f.engine->assign_item(dan, id, "main#1/c", "dan"); }, &code);
  CHECK(code == ErrorCode::permission_denied);
  CHECK(e.find("candidate users [bob, cid]") != std::string::npos);
  e = error_text([&] { f.engine->complete_item(dan, id, "main#1/c"); }, &code);
  CHECK(code == ErrorCode::permission_denied);
  // A planner cannot assign it to a non-candidate either; to a candidate it can.
  e = error_text([&] { f.engine->assign_item(pat, id, "main#1/c", "dan"); }, &code);
  CHECK(code == ErrorCode::invalid_argument);
  CHECK(e.find("not one of its candidate users") != std::string::npos);
  CHECK(find(f.engine->get_case(id), "main#1/c")->assignee.empty());
  f.engine->assign_item(bob, id, "main#1/c", "bob");
  CHECK(find(f.engine->get_case(id), "main#1/c")->assignee == "bob");
  f.engine->complete_item(bob, id, "main#1/c");
  CHECK(find(f.engine->get_case(id), "main#1/c")->state == ItemState::completed);
  // With a role too: candidates or holders of the role (Flowable's users-or-groups).
  e = error_text([&] { f.engine->complete_item(dan, id, "main#1/r"); }, &code);
  CHECK(code == ErrorCode::permission_denied);
  f.engine->complete_item(eve, id, "main#1/r");  // holds the role
  CHECK(find(f.engine->get_case(id), "main#1/r")->state == ItemState::completed);
  // The owner manages the case and is not restricted.
  f.engine->start_item(owner, id, "main#1/m");
  f.engine->complete_item(owner, id, "main#1/m");
  CHECK(find(f.engine->get_case(id), "main#1/m")->state == ItemState::completed);
}

TEST_CASE("planning_table: a discretionary fragment goes into an active instance of its stage, and only then") {
  EngineFixture f;
  f.engine->load_definitions(f.admin, Json::parse(R"({
    "fragments": [
      { "id": "main", "items": [
        { "id": "s", "kind": "stage", "manual_activation": true, "children": [ { "id": "in", "kind": "human_task" } ] } ] },
      { "id": "d", "planning_table": { "fragment": "main", "stage": "s" }, "items": [ { "id": "dt", "kind": "human_task" } ] },
      { "id": "top", "items": [ { "id": "tt", "kind": "human_task" } ] } ],
    "case_types": [ { "id": "ct", "initial_fragments": ["main"], "discretionary": ["d", "top"] } ] })"));
  NewCase spec;
  spec.type = "ct";
  const std::string id = f.engine->create_case(f.admin, spec).created;
  auto offered = [&](const std::string& frag) {
    const auto offers = f.engine->applicable_fragments(id);
    return std::any_of(offers.begin(), offers.end(), [&](const FragmentOffer& o) { return o.fragment == frag; });
  };
  // The stage waits for a person: the fragment is not offered and cannot be added.
  CHECK(f.state(id, "main#1/s") == ItemState::enabled);
  CHECK_FALSE(offered("d"));
  CHECK(offered("top"));
  ErrorCode code{};
  std::string e = error_text([&] { f.engine->add_fragment(f.admin, id, {.fragment = "d"}); }, &code);
  CHECK(code == ErrorCode::invalid_state);
  CHECK(e.find("stage 's' of fragment 'main'") != std::string::npos);
  CHECK(e.find("no active instance") != std::string::npos);
  // A stage for a fragment without a planning table is refused.
  e = error_text([&] { f.engine->add_fragment(f.admin, id, {.fragment = "top", .stage = "main#1/s"}); }, &code);
  CHECK(code == ErrorCode::invalid_argument);

  f.engine->start_item(f.admin, id, "main#1/s");
  CHECK(offered("d"));
  // Naming a stage instance that is not one of the planning table's.
  e = error_text([&] { f.engine->add_fragment(f.admin, id, {.fragment = "d", .stage = "main#1"}); }, &code);
  CHECK(code == ErrorCode::invalid_state);
  CHECK(f.engine->add_fragment(f.admin, id, {.fragment = "d", .stage = "main#1/s"}).created == "d#1");
  CaseInfo c = f.engine->get_case(id);
  CHECK(find(c, "d#1")->parent == "main#1/s");
  CHECK(find(c, "d#1")->state == ItemState::active);
  CHECK(find(c, "d#1/dt")->state == ItemState::active);
  // The planned work is the stage's child: the stage does not complete without it.
  f.engine->complete_item(f.admin, id, "main#1/in");
  CHECK(f.state(id, "main#1/s") == ItemState::active);
  f.engine->complete_item(f.admin, id, "d#1/dt");
  CHECK(f.state(id, "d#1") == ItemState::completed);
  CHECK(f.state(id, "main#1/s") == ItemState::completed);
  // The stage is over: nothing more can be planned in it.
  CHECK_FALSE(offered("d"));
  CHECK(error_text([&] { f.engine->add_fragment(f.admin, id, {.fragment = "d"}); }, &code).find("no active instance") !=
        std::string::npos);

  // Ending the stage ends what was planned in it.
  const std::string id2 = f.engine->create_case(f.admin, spec).created;
  f.engine->start_item(f.admin, id2, "main#1/s");
  CHECK(f.engine->add_fragment(f.admin, id2, {.fragment = "d"}).created == "d#1");
  f.engine->terminate_item(f.admin, id2, "main#1/s");
  CHECK(f.state(id2, "d#1") == ItemState::terminated);
  CHECK(f.state(id2, "d#1/dt") == ItemState::terminated);
  // The fold rebuilds the same parent from the history.
  CHECK(f.engine->inspect(id2, true) == f.engine->inspect(id2, false));
}

TEST_CASE("cmmn import: authorizedRoleRefs, assignee, candidateUsers and a stage's planning table run as the model says") {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" xmlns:flowable="http://flowable.org/cmmn"
             xmlns:camunda="http://camunda.org/schema/1.0/cmmn" targetNamespace="t">
  <case id="review" name="Review">
    <caseRoles><role id="r_lead" name="lead"/><role id="r_clerk" name="clerk"/></caseRoles>
    <casePlanModel id="plan" name="Plan">
      <planItem id="A" definitionRef="ta" />
      <planItem id="S" definitionRef="st"><entryCriterion sentryRef="sa" /></planItem>
      <sentry id="sa"><planItemOnPart sourceRef="A"><standardEvent>complete</standardEvent></planItemOnPart></sentry>
      <humanTask id="ta" name="Prepare" flowable:assignee="ann" flowable:candidateUsers="bob, cid" />
      <stage id="st" name="Assess">
        <planItem id="B" definitionRef="tb" />
        <planningTable id="pt">
          <discretionaryItem id="D" definitionRef="td" authorizedRoleRefs="r_lead" />
        </planningTable>
        <humanTask id="tb" name="Check" camunda:assignee="${initiator}" camunda:candidateUsers="${managers}" />
      </stage>
      <humanTask id="td" name="Second opinion" />
      <planningTable id="top">
        <discretionaryItem id="E" definitionRef="te" />
      </planningTable>
      <humanTask id="te" name="Extra" />
    </casePlanModel>
  </case>
</definitions>)";
  const auto r = cmmn::import(xml);
  const Json& items = r.definitions["fragments"][0]["items"];
  CHECK(items[0]["assignee"] == "ann");
  CHECK(items[0]["candidate_users"] == Json::array({"bob", "cid", "ann"}));  // the assignee may work on it
  const Json& b = items[1]["children"][0];
  CHECK_FALSE(b.contains("assignee"));
  CHECK_FALSE(b.contains("candidate_users"));
  Json d, e;
  for (const auto& frag : r.definitions["fragments"]) {
    if (frag["id"] == "D") d = frag;
    if (frag["id"] == "E") e = frag;
  }
  CHECK(d["authorized_roles"] == Json::array({"lead"}));
  CHECK(d["planning_table"] == Json{{"fragment", "plan"}, {"stage", "S"}});
  CHECK(e["planning_table"] == Json{{"fragment", "plan"}});
  CHECK_FALSE(e.contains("authorized_roles"));
  // Expressions are named in warnings (element and attribute); the literal values are not.
  std::string all;
  for (const auto& w : r.warnings) all += cmmn::to_string(w) + "\n";
  CHECK(all.find("camunda:assignee=\"${initiator}\" is an expression") != std::string::npos);
  CHECK(all.find("camunda:candidateUsers=\"${managers}\"") != std::string::npos);
  CHECK(all.find("<humanTask id=\"tb\"") != std::string::npos);
  CHECK(all.find("flowable:assignee") == std::string::npos);
  CHECK(all.find("authorizedRoleRefs") == std::string::npos);

  EngineFixture f;
  cmmn::load(*f.engine, f.admin, xml);
  NewCase spec;
  spec.type = "review";
  spec.owner = "owner";
  spec.participants = {{"ann", {"clerk"}}, {"bob", {"clerk"}}, {"dan", {"clerk"}}, {"lena", {"lead"}}};
  const std::string id = f.engine->create_case(f.admin, spec).created;
  const Actor ann{"ann", {}}, bob{"bob", {}}, dan{"dan", {}}, lena{"lena", {}};
  CHECK(find(f.engine->get_case(id), "plan#1/A")->assignee == "ann");
  ErrorCode code{};
  CHECK_FALSE(error_text([&] { f.engine->complete_item(dan, id, "plan#1/A"); }, &code).empty());
  CHECK(code == ErrorCode::permission_denied);
  // The stage has not started: its discretionary item cannot be planned yet; the plan model's can.
  CHECK(error_text([&] { f.engine->add_fragment(lena, id, {.fragment = "D"}); }, &code).find("no active instance") !=
        std::string::npos);
  f.engine->complete_item(ann, id, "plan#1/A");
  CHECK(f.state(id, "plan#1/S") == ItemState::active);
  // Only the lead may plan D (a clerk is refused, nothing changes).
  const std::size_t before = event_count(*f.engine, id);
  CHECK_FALSE(error_text([&] { f.engine->add_fragment(bob, id, {.fragment = "D"}); }, &code).empty());
  CHECK(code == ErrorCode::permission_denied);
  CHECK(event_count(*f.engine, id) == before);
  CHECK(f.engine->add_fragment(lena, id, {.fragment = "D"}).created == "D#1");
  CaseInfo c = f.engine->get_case(id);
  CHECK(find(c, "D#1")->parent == "plan#1/S");
  CHECK(find(c, "D#1/D")->state == ItemState::active);
  // E is planned in the case plan model itself.
  CHECK(f.engine->add_fragment(f.admin, id, {.fragment = "E"}).created == "E#1");
  CHECK(find(f.engine->get_case(id), "E#1")->parent == "plan#1");
}

TEST_CASE("cmmn import: a discretionary item's sentry cannot name an item outside it, and the error says why") {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" targetNamespace="t">
  <case id="c">
    <casePlanModel id="plan">
      <planItem id="A" definitionRef="ta" />
      <planningTable id="pt"><discretionaryItem id="D" definitionRef="td"><entryCriterion sentryRef="s" /></discretionaryItem></planningTable>
      <sentry id="s"><planItemOnPart sourceRef="A"><standardEvent>complete</standardEvent></planItemOnPart></sentry>
      <humanTask id="ta" />
      <humanTask id="td" />
    </casePlanModel>
  </case>
</definitions>)";
  ErrorCode code{};
  const std::string e = error_text([&] { (void)cmmn::import(xml); }, &code);
  CHECK(code == ErrorCode::invalid_definition);
  CHECK(e.find("line 7") != std::string::npos);
  CHECK(e.find("sourceRef=\"A\" is outside the discretionary item \"D\"") != std::string::npos);
}

#ifdef ACM_CLI
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace

TEST_CASE("acm case show --graph on an imported model: stages are frames, sentries diamonds, milestones and listeners drawn") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "acm_cmmn_graph_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string model = (dir / "model.cmmn").string();
  {
    std::ofstream out(model);
    out << R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" targetNamespace="t">
  <case id="claim">
    <casePlanModel id="plan" name="Claim">
      <planItem id="A" definitionRef="ta" />
      <planItem id="S" definitionRef="st"><entryCriterion id="eS" sentryRef="sA" /></planItem>
      <planItem id="M" definitionRef="ms"><entryCriterion id="eM" sentryRef="sS" /></planItem>
      <planItem id="U" definitionRef="uel" />
      <sentry id="sA"><planItemOnPart sourceRef="A"><standardEvent>complete</standardEvent></planItemOnPart></sentry>
      <sentry id="sS"><planItemOnPart sourceRef="S"><standardEvent>complete</standardEvent></planItemOnPart></sentry>
      <sentry id="sU"><planItemOnPart sourceRef="U"><standardEvent>occur</standardEvent></planItemOnPart></sentry>
      <exitCriterion id="xPlan" sentryRef="sU" />
      <humanTask id="ta" name="Register" />
      <stage id="st" name="Assess">
        <planItem id="B" definitionRef="tb" />
        <planItem id="T" definitionRef="inner" />
        <stage id="inner" name="Inner"><planItem id="C" definitionRef="tc" /><humanTask id="tc" name="Inspect" /></stage>
        <planningTable id="pt"><discretionaryItem id="D" definitionRef="td" /></planningTable>
        <humanTask id="tb" name="Check" />
      </stage>
      <milestone id="ms" name="Assessed" />
      <userEventListener id="uel" name="Withdraw" />
      <humanTask id="td" name="Second opinion" />
    </casePlanModel>
  </case>
</definitions>)";
  }
  const std::string db = (dir / "g.db").string();
  const std::string log = (dir / "log.txt").string();
  const std::string cli = std::string(ACM_CLI) + " --db " + db + " ";
  auto run = [&](const std::string& args) { return std::system((cli + args + " > " + log + " 2>&1").c_str()); };
  REQUIRE(run("definitions load " + model) == 0);
  REQUIRE(run("case create --type claim --id c1") == 0);
  const std::string dot_file = (dir / "plan.dot").string();
  REQUIRE(run("case show c1 --graph " + dot_file) == 0);
  std::string dot = slurp(dot_file);
  CAPTURE(dot);
  // The case plan model is the outer frame; its stages (nested too, not started yet) are frames.
  CHECK(dot.find("subgraph \"cluster_plan#1\"") != std::string::npos);
  CHECK(dot.find("subgraph \"cluster_plan#1/S\"") != std::string::npos);
  CHECK(dot.find("subgraph \"cluster_plan#1/T\"") != std::string::npos);
  CHECK(dot.find("\"plan#1/C\" [") != std::string::npos);  // inside the nested stage, to be created
  // Three criteria, three diamonds: two entry (white), the plan model's exit (black).
  CHECK(occurrences(dot, "shape=diamond") == 3);
  CHECK(occurrences(dot, "fillcolor=\"white\"") == 2);
  CHECK(occurrences(dot, "shape=diamond, style=filled, fillcolor=\"#222222\"") == 1);
  // On-parts are dashed connectors labelled with the transition; the stage's comes from its frame.
  CHECK(dot.find("\"plan#1/A\" -> \"plan#1/S|entry1\" [style=dashed, arrowhead=vee, arrowsize=0.6, label=\"complete\"") !=
        std::string::npos);
  CHECK(dot.find("-> \"plan#1/M|entry1\" [style=dashed, arrowhead=vee, arrowsize=0.6, label=\"complete\", "
                 "ltail=\"cluster_plan#1/S\"") != std::string::npos);
  CHECK(dot.find("\"plan#1/U\" -> \"plan#1|exit1\" [style=dashed, arrowhead=vee, arrowsize=0.6, label=\"occur\"") !=
        std::string::npos);
  // The milestone and the user event listener.
  CHECK(dot.find("\"plan#1/M\" [shape=ellipse, style=\"filled,bold\"") != std::string::npos);
  CHECK(dot.find("\"plan#1/U\" [shape=doublecircle") != std::string::npos);
  CHECK(dot.find("&#9786;") != std::string::npos);  // a person in the user listener's circle
  // The discretionary item stands, dashed, inside the stage holding its planning table.
  CHECK(dot.find("subgraph \"cluster_plan#1/S\" {\n    \"offer:plan#1/S:D\" [shape=box, style=\"rounded,dashed\"") !=
        std::string::npos);
  CHECK(dot.find("planned while the stage is active") != std::string::npos);
  CHECK(dot.find("cluster_planning") == std::string::npos);

  // Once the stage is active the item may be added; added, it is drawn inside the stage.
  REQUIRE(run("item complete c1 plan#1/A") == 0);
  REQUIRE(run("case show c1 --graph " + dot_file) == 0);
  dot = slurp(dot_file);
  CHECK(dot.find("may be added now") != std::string::npos);
  REQUIRE(run("fragment add c1 D") == 0);
  REQUIRE(run("case show c1 --graph " + dot_file) == 0);
  dot = slurp(dot_file);
  const auto stage = dot.find("subgraph \"cluster_plan#1/S\" {");
  const auto added = dot.find("subgraph \"cluster_D#1\" {");
  REQUIRE(stage != std::string::npos);
  REQUIRE(added != std::string::npos);
  CHECK(stage < added);
  // Nested: the frame of D#1 closes before the frame of the stage does.
  CHECK(dot.find("\"D#1/D\" [") > added);
  fs::remove_all(dir);
}
#endif
