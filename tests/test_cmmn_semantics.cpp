// SPDX-License-Identifier: Apache-2.0
// The `semantics: cmmn` setting of fragments and case types (docs/cmmn.md, "Semantic choices"):
// the definition fields, and every rule where a cmmn definition behaves unlike acm's default,
// each tested on JSON definitions against the acm default.
#include "support.hpp"

#include <algorithm>

using namespace acm;
using namespace acm::test;
using namespace std::chrono_literals;

namespace {

std::string plan_case(EngineFixture& f, const std::string& type, Json file = Json::object()) {
  NewCase spec;
  spec.title = "cmmn";
  spec.type = type;
  spec.owner = "owner";
  spec.file = std::move(file);
  return f.engine->create_case(f.admin, spec).created;
}

const Actor owner{"owner", {}};

}  // namespace

TEST_CASE("definitions: semantics, blocking and timer_date are read, validated and written back") {
  Json doc = Json::parse(R"({
    "fragments": [ { "id": "plan", "semantics": "cmmn", "items": [
      { "id": "t", "kind": "human_task", "blocking": false },
      { "id": "at", "kind": "timer_listener", "timer_date": "2026-12-01T10:00:00Z" },
      { "id": "every", "kind": "timer_listener", "timer": "PT20S", "repetition": true } ] } ],
    "case_types": [ { "id": "c", "semantics": "cmmn", "initial_fragments": ["plan"] } ] })");
  DefinitionSet set = parse_definitions(doc);
  REQUIRE(set.fragments.size() == 1);
  const FragmentDef& f = set.fragments[0];
  CHECK(f.semantics == Semantics::cmmn);
  CHECK(set.case_types[0].semantics == Semantics::cmmn);
  CHECK_FALSE(f.items[0].blocking);
  REQUIRE(f.items[1].timer_date);
  CHECK(*f.items[1].timer_date == parse_time("2026-12-01T10:00:00Z"));
  CHECK(f.items[2].repetition == "true");
  Json back = to_json(f);
  CHECK(back["semantics"] == "cmmn");
  CHECK(back["items"][0]["blocking"] == false);
  CHECK(back["items"][1]["timer_date"] == "2026-12-01T10:00:00.000Z");
  CHECK(to_json(set.case_types[0])["semantics"] == "cmmn");
  // The default is acm and is not written.
  DefinitionSet plain = parse_definitions(Json::parse(R"({"id": "p", "items": []})"));
  CHECK(plain.fragments[0].semantics == Semantics::acm);
  CHECK_FALSE(to_json(plain.fragments[0]).contains("semantics"));

  auto problems_of = [](const char* text) {
    try {
      parse_definitions(Json::parse(text));
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::invalid_definition);
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(
      problems_of(R"({"id": "p", "semantics": "bpmn", "items": []})").find("/semantics: unknown semantics \"bpmn\"") !=
      std::string::npos);
  CHECK(problems_of(R"({"id": "p", "items": [{"id": "m", "kind": "milestone", "blocking": false}]})")
            .find("/items/0/blocking: blocking applies only to human tasks") != std::string::npos);
  CHECK(problems_of(R"({"id": "p", "items": [{"id": "l", "kind": "timer_listener", "timer": "1h",
                                              "timer_date": "2026-12-01"}]})")
            .find("not both") != std::string::npos);
  CHECK(problems_of(R"({"id": "p", "items": [{"id": "u", "kind": "user_listener", "repetition": true}]})")
            .find("/items/0/repetition") != std::string::npos);
}

TEST_CASE("cmmn fragments may have sentries that wait for each other in a cycle, acm fragments may not") {
  const char* text = R"({ "id": "cyc", "semantics": "%s", "items": [
      { "id": "a", "kind": "human_task", "entry": [ { "on": [ { "item": "c", "on": "complete" } ] } ] },
      { "id": "b", "kind": "human_task", "entry": [ { "on": [ { "item": "a", "on": "complete" } ] } ] },
      { "id": "c", "kind": "human_task", "entry": [ { "on": [ { "item": "b", "on": "complete" } ] } ] } ] })";
  auto with = [&](const char* sem) {
    std::string s = text;
    s.replace(s.find("%s"), 2, sem);
    return Json::parse(s);
  };
  EngineFixture f;
  CHECK_THROWS_WITH_AS(f.engine->load_definitions(f.admin, with("acm")), doctest::Contains("dependency cycle"), Error);
  f.engine->load_definitions(f.admin, with("cmmn"));
  f.engine->register_case_type(f.admin, CaseTypeDef{.id = "cyc", .initial_fragments = {{"cyc"}}});
  auto id = plan_case(f, "cyc");
  // None can ever start, as in Camunda's SentryEntryCriteriaTest.testCycle.
  for (const char* x : {"a", "b", "c"}) CHECK(f.state(id, std::string("cyc#1/") + x) == ItemState::available);
  CHECK_THROWS_AS(f.engine->start_item(owner, id, "cyc#1/a"), Error);
}

namespace {

// Registers `items` as fragment "p" and case type "c" (initial fragment "p"), both with the
// given semantics, and returns a new case of type "c".
std::string case_of(EngineFixture& f, const std::string& semantics, const char* items, const char* extra = "",
                    Json file = Json::object()) {
  std::string doc = std::string(R"({"fragments": [ { "id": "p", "semantics": ")") + semantics + R"(", "items": )" +
                    items + extra + R"( } ], "case_types": [ { "id": "c", "semantics": ")" + semantics +
                    R"(", "initial_fragments": ["p"] } ] })";
  f.engine->load_definitions(f.admin, Json::parse(doc));
  return plan_case(f, "c", std::move(file));
}

std::vector<std::string> ids_in(EngineFixture& f, const std::string& case_id, const std::string& def, ItemState state) {
  std::vector<std::string> out;
  for (const auto& i : f.engine->get_case(case_id).items)
    if (i.def_id == def && i.state == state) out.push_back(i.id);
  return out;
}

}  // namespace

TEST_CASE("cmmn: a repeatable item with an entry criterion gets its next instance each time the criterion fires") {
  // Camunda RepetitionRuleTest.testRepeatTaskMultipleTimes: b waits for a's disable.
  const char* items = R"([
      { "id": "a", "kind": "human_task", "manual_activation": true },
      { "id": "b", "kind": "human_task", "repetition": true, "entry": [ { "on": [ { "item": "a", "on": "disable" } ] } ] } ])";
  SUBCASE("cmmn") {
    EngineFixture f;
    auto id = case_of(f, "cmmn", items);
    f.engine->disable_item(owner, id, "p#1/a");
    CHECK(ids_in(f, id, "b", ItemState::active) == std::vector<std::string>{"p#1/b"});
    CHECK(ids_in(f, id, "b", ItemState::available) == std::vector<std::string>{"p#1/b@2"});
    f.engine->reenable_item(owner, id, "p#1/a");
    f.engine->disable_item(owner, id, "p#1/a");
    CHECK(ids_in(f, id, "b", ItemState::active).size() == 2);
    CHECK(ids_in(f, id, "b", ItemState::available) == std::vector<std::string>{"p#1/b@3"});
    // Completing an instance does not repeat it again (Camunda testShouldNotRepeatTaskAfterCompletion).
    f.engine->complete_item(owner, id, "p#1/b");
    CHECK(ids_in(f, id, "b", ItemState::available) == std::vector<std::string>{"p#1/b@3"});
    CHECK(f.engine->get_case(id).items.size() == 5);  // p#1, a, b, b@2, b@3
    f.check_fold(id);
  }
  SUBCASE("acm repeats on completion only") {
    EngineFixture f;
    auto id = case_of(f, "acm", items);
    f.engine->disable_item(owner, id, "p#1/a");
    CHECK(ids_in(f, id, "b", ItemState::active) == std::vector<std::string>{"p#1/b"});
    CHECK(ids_in(f, id, "b", ItemState::available).empty());
    f.engine->complete_item(owner, id, "p#1/b");
    CHECK(ids_in(f, id, "b", ItemState::available) == std::vector<std::string>{"p#1/b@2"});
  }
}

TEST_CASE("cmmn: an item without entry criteria repeats when terminated, not when it exits") {
  const char* items = R"([
      { "id": "a", "kind": "human_task", "repetition": "file.repeating == true",
        "exit": [ { "on": [ { "event": "stop" } ] } ] },
      { "id": "keep", "kind": "human_task" } ])";
  EngineFixture f;
  auto id = case_of(f, "cmmn", items, "", Json{{"repeating", true}});
  f.engine->terminate_item(owner, id, "p#1/a");
  CHECK(f.state(id, "p#1/a") == ItemState::terminated);
  CHECK(f.state(id, "p#1/a@2") == ItemState::active);
  f.engine->signal(owner, id, "stop");
  CHECK(f.state(id, "p#1/a@2") == ItemState::terminated);
  CHECK(ids_in(f, id, "a", ItemState::active).empty());
  CHECK(ids_in(f, id, "a", ItemState::available).empty());
  f.check_fold(id);

  EngineFixture g;
  auto acm_id = case_of(g, "acm", items, "", Json{{"repeating", true}});
  g.engine->terminate_item(owner, acm_id, "p#1/a");
  CHECK(g.engine->get_case(acm_id).items.size() == 3);  // no a@2
}

TEST_CASE("cmmn: a milestone without entry criteria occurs at once, acm waits for a person") {
  const char* items = R"([ { "id": "m", "kind": "milestone" }, { "id": "t", "kind": "human_task" } ])";
  EngineFixture f;
  auto id = case_of(f, "cmmn", items);
  CHECK(f.state(id, "p#1/m") == ItemState::completed);
  EngineFixture g;
  auto acm_id = case_of(g, "acm", items);
  CHECK(g.state(acm_id, "p#1/m") == ItemState::available);
}

TEST_CASE("cmmn: the case follows its case plan model") {
  const char* items = R"([
      { "id": "a", "kind": "human_task" },
      { "id": "b", "kind": "human_task", "manual_activation": true } ])";
  SUBCASE("an exit criterion on the plan model terminates the case") {
    EngineFixture f;
    auto id = case_of(f, "cmmn", items, R"(, "exit": [ { "on": [ { "item": "a", "on": "complete" } ] } ])");
    f.engine->complete_item(owner, id, "p#1/a");
    auto c = f.engine->get_case(id);
    CHECK(c.status == CaseStatus::terminated);
    CHECK(f.state(id, "p#1") == ItemState::terminated);
    CHECK(f.state(id, "p#1/b") == ItemState::terminated);
    f.check_fold(id);
    // acm: the fragment stage exits, the case stays active (it has no goals).
    EngineFixture g;
    auto acm_id = case_of(g, "acm", items, R"(, "exit": [ { "on": [ { "item": "a", "on": "complete" } ] } ])");
    g.engine->complete_item(owner, acm_id, "p#1/a");
    CHECK(g.state(acm_id, "p#1") == ItemState::terminated);
    CHECK(g.engine->get_case(acm_id).status == CaseStatus::active);
  }
  SUBCASE("the plan model completing completes the case; disabled children count as ended") {
    EngineFixture f;
    auto id = case_of(f, "cmmn", items);
    f.engine->complete_item(owner, id, "p#1/a");
    CHECK(f.engine->get_case(id).status == CaseStatus::active);  // b is enabled
    f.engine->disable_item(owner, id, "p#1/b");
    CHECK(f.engine->get_case(id).status == CaseStatus::completed);
    CHECK(f.state(id, "p#1") == ItemState::completed);
    f.check_fold(id);
  }
  SUBCASE("complete_case is the plan model's manual completion") {
    EngineFixture f;
    auto id = case_of(f, "cmmn", items);
    CHECK_THROWS_WITH_AS(f.engine->complete_case(owner, id), doctest::Contains("'p#1/a' is active"), Error);
    CHECK(f.engine->get_case(id).status == CaseStatus::active);
    // terminate is a transition of active items only
    CHECK_THROWS_WITH_AS(f.engine->terminate_item(owner, id, "p#1/b"), doctest::Contains("it is enabled"), Error);
    f.engine->terminate_item(owner, id, "p#1/a");
    f.engine->complete_case(owner, id);
    CHECK(f.engine->get_case(id).status == CaseStatus::completed);
    CHECK(f.state(id, "p#1") == ItemState::completed);
    CHECK(f.state(id, "p#1/b") == ItemState::terminated);
    f.check_fold(id);
  }
}

TEST_CASE("cmmn: an event listener that no sentry can use any more is removed") {
  // Flowable UserEventListenerTest.testMultipleEventListenersAsEntry: the stage starts on
  // (a and b) or c; once it has started, c can no longer be used.
  const char* items = R"([
      { "id": "s", "kind": "stage", "children": [ { "id": "t", "kind": "human_task" } ],
        "entry": [ { "on": [ { "item": "a", "on": "occur" }, { "item": "b", "on": "occur" } ] },
                   { "on": [ { "item": "c", "on": "occur" } ] } ] },
      { "id": "a", "kind": "user_listener" }, { "id": "b", "kind": "user_listener" },
      { "id": "c", "kind": "user_listener" }, { "id": "free", "kind": "user_listener" } ])";
  SUBCASE("cmmn") {
    EngineFixture f;
    auto id = case_of(f, "cmmn", items);
    f.engine->occur(owner, id, "p#1/a");
    CHECK(f.state(id, "p#1/c") == ItemState::available);
    f.engine->occur(owner, id, "p#1/b");
    CHECK(f.state(id, "p#1/s") == ItemState::active);
    CHECK(f.state(id, "p#1/c") == ItemState::terminated);
    // A listener no sentry refers to stays available but does not hold the plan open.
    CHECK(f.state(id, "p#1/free") == ItemState::available);
    f.engine->complete_item(owner, id, "p#1/t");
    CHECK(f.state(id, "p#1/s") == ItemState::completed);
    CHECK(f.engine->get_case(id).status == CaseStatus::completed);
    CHECK(f.state(id, "p#1/free") == ItemState::terminated);
    f.check_fold(id);
  }
  SUBCASE("acm keeps them") {
    EngineFixture f;
    auto id = case_of(f, "acm", items);
    f.engine->occur(owner, id, "p#1/a");
    f.engine->occur(owner, id, "p#1/b");
    f.engine->complete_item(owner, id, "p#1/t");
    CHECK(f.state(id, "p#1/c") == ItemState::available);
    CHECK(f.state(id, "p#1") == ItemState::active);
  }
}

TEST_CASE("cmmn: a listener used by an item of a stage that has not started yet is kept") {
  const char* items = R"([
      { "id": "go", "kind": "human_task" },
      { "id": "s", "kind": "stage", "entry": [ { "on": [ { "item": "go", "on": "complete" } ] } ],
        "children": [ { "id": "t", "kind": "human_task", "entry": [ { "on": [ { "item": "l", "on": "occur" } ] } ] } ] },
      { "id": "l", "kind": "user_listener" } ])";
  EngineFixture f;
  auto id = case_of(f, "cmmn", items);
  CHECK(f.state(id, "p#1/l") == ItemState::available);
  f.engine->complete_item(owner, id, "p#1/go");
  CHECK(f.state(id, "p#1/t") == ItemState::available);
  f.engine->occur(owner, id, "p#1/l");
  CHECK(f.state(id, "p#1/t") == ItemState::active);
}

TEST_CASE("cmmn: items created during a command see that command's earlier item transitions") {
  // The stage and its child wait for the same event: the child starts with the stage.
  const char* items = R"([
      { "id": "a", "kind": "human_task" },
      { "id": "s", "kind": "stage", "entry": [ { "on": [ { "item": "a", "on": "complete" } ] } ],
        "children": [ { "id": "x", "kind": "human_task", "entry": [ { "on": [ { "item": "a", "on": "complete" } ] } ] } ] } ])";
  EngineFixture f;
  auto id = case_of(f, "cmmn", items);
  f.engine->complete_item(owner, id, "p#1/a");
  CHECK(f.state(id, "p#1/s") == ItemState::active);
  CHECK(f.state(id, "p#1/x") == ItemState::active);
  f.check_fold(id);
  EngineFixture g;
  auto acm_id = case_of(g, "acm", items);
  g.engine->complete_item(owner, acm_id, "p#1/a");
  CHECK(g.state(acm_id, "p#1/x") == ItemState::available);
}

TEST_CASE("cmmn: a child's entry criterion satisfied from outside starts its available stage") {
  // Flowable EntryCriteriaTest.testCrossBorderSentry: b (in s3, in s2) waits for a (in s1);
  // s3's own entry criterion is false.
  const char* items = R"([
      { "id": "s1", "kind": "stage", "children": [ { "id": "a", "kind": "human_task" } ] },
      { "id": "s2", "kind": "stage", "children": [
        { "id": "s3", "kind": "stage", "entry": [ { "if": "file.some == true" } ], "children": [
          { "id": "b", "kind": "human_task", "entry": [ { "on": [ { "item": "a", "on": "complete" } ] } ] } ] } ] } ])";
  EngineFixture f;
  auto id = case_of(f, "cmmn", items);
  CHECK(f.state(id, "p#1/s3") == ItemState::available);
  f.engine->complete_item(owner, id, "p#1/a");
  CHECK(f.state(id, "p#1/s3") == ItemState::active);
  CHECK(f.state(id, "p#1/b") == ItemState::active);
  f.check_fold(id);
  EngineFixture g;
  auto acm_id = case_of(g, "acm", items);
  g.engine->complete_item(owner, acm_id, "p#1/a");
  CHECK(g.state(acm_id, "p#1/s3") == ItemState::available);
}

TEST_CASE("non-blocking human tasks, timer dates and repeating timers") {
  EngineFixture f;
  auto id = case_of(f, "cmmn", R"([
      { "id": "nb", "kind": "human_task", "blocking": false },
      { "id": "at", "kind": "timer_listener", "timer_date": "2026-11-23T10:00:00Z" },
      { "id": "every", "kind": "timer_listener", "timer": "PT20S", "repetition": true },
      { "id": "after_at", "kind": "human_task", "entry": [ { "on": [ { "item": "at", "on": "occur" } ] } ] },
      { "id": "tick", "kind": "human_task", "repetition": true,
        "entry": [ { "on": [ { "item": "every", "on": "occur" } ] } ] } ])");
  CHECK(f.state(id, "p#1/nb") == ItemState::completed);
  f.clock->advance(30s);
  CHECK(f.state(id, "p#1/every") == ItemState::completed);
  CHECK(f.state(id, "p#1/every@2") == ItemState::available);
  CHECK(ids_in(f, id, "tick", ItemState::active).size() == 1);
  CHECK(ids_in(f, id, "tick", ItemState::available).size() == 1);
  f.clock->advance(20s);  // the second listener fires at 40 s
  CHECK(ids_in(f, id, "tick", ItemState::active).size() == 2);
  CHECK(f.state(id, "p#1/after_at") == ItemState::available);
  f.clock->advance_to(parse_time("2026-11-23T10:00:00Z"));
  CHECK(f.state(id, "p#1/after_at") == ItemState::active);
  f.check_fold(id);
}

TEST_CASE("cmmn: completing a task with variables sets them at the case file's root first") {
  const char* items = R"([
      { "id": "a", "kind": "human_task" },
      { "id": "yes", "kind": "human_task", "entry": [ { "on": [ { "item": "a", "on": "complete" } ], "if": "file.go == true" } ] } ])";
  EngineFixture f;
  auto id = case_of(f, "cmmn", items);
  f.engine->complete_item(owner, id, "p#1/a", Json{{"go", true}});
  CHECK(f.state(id, "p#1/yes") == ItemState::active);
  CHECK(f.engine->get_case(id).file["go"] == true);
  f.check_fold(id);
  EngineFixture g;
  auto acm_id = case_of(g, "acm", items);
  CHECK_THROWS_WITH_AS(g.engine->complete_item(owner, acm_id, "p#1/a", Json{{"go", true}}),
                       doctest::Contains("no output path"), Error);
}

TEST_CASE("cmmn: a required child that exited does not hold its stage open") {
  // Camunda AutoCompleteTest.testExitCriteriaAndRequiredEnabled.
  const char* items = R"([
      { "id": "a", "kind": "human_task" },
      { "id": "r", "kind": "human_task", "required": true, "manual_activation": true,
        "exit": [ { "on": [ { "item": "a", "on": "complete" } ] } ] },
      { "id": "e", "kind": "human_task", "manual_activation": true } ])";
  EngineFixture f;
  auto id = case_of(f, "cmmn", items, R"(, "auto_complete": true)");
  f.engine->start_item(owner, id, "p#1/r");
  f.engine->complete_item(owner, id, "p#1/a");
  CHECK(f.state(id, "p#1/r") == ItemState::terminated);
  CHECK(f.engine->get_case(id).status == CaseStatus::completed);
  EngineFixture g;
  auto acm_id = case_of(g, "acm", items, R"(, "auto_complete": true)");
  g.engine->start_item(owner, acm_id, "p#1/r");
  g.engine->complete_item(owner, acm_id, "p#1/a");
  CHECK(g.state(acm_id, "p#1") == ItemState::active);
}

TEST_CASE("cmmn: disabled children end with their stage") {
  // Camunda api_cmmn_oneTaskCaseWithManualActivation: disabling the only task completes the case.
  const char* items = R"([ { "id": "t", "kind": "human_task", "manual_activation": true } ])";
  EngineFixture f;
  auto id = case_of(f, "cmmn", items);
  f.engine->disable_item(owner, id, "p#1/t");
  CHECK(f.engine->get_case(id).status == CaseStatus::completed);
  CHECK(f.state(id, "p#1/t") == ItemState::terminated);
  EngineFixture g;
  auto acm_id = case_of(g, "acm", items);
  g.engine->disable_item(owner, acm_id, "p#1/t");
  CHECK(g.state(acm_id, "p#1") == ItemState::completed);
  CHECK(g.state(acm_id, "p#1/t") == ItemState::disabled);
}

TEST_CASE("cmmn: add_dependency in a plan with a sentry cycle checks only `after` cycles") {
  EngineFixture f;
  auto id = case_of(f, "cmmn", R"([
      { "id": "a", "kind": "human_task", "entry": [ { "on": [ { "item": "b", "on": "complete" } ] } ] },
      { "id": "b", "kind": "human_task", "entry": [ { "on": [ { "item": "a", "on": "complete" } ] } ] },
      { "id": "c", "kind": "human_task", "manual_activation": true } ])");
  f.engine->add_dependency(owner, id, "p#1/a", "p#1/c");
  CHECK(f.engine->get_case(id).items.size() == 4);
  f.engine->add_dependency(owner, id, "p#1/b", "p#1/a");
  CHECK_THROWS_AS(f.engine->add_dependency(owner, id, "p#1/a", "p#1/b"), Error);
}
