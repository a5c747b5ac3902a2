// SPDX-License-Identifier: Apache-2.0
// Tests of the definitions format (src/model/definition_json.cpp, docs/definitions.md).
#include <acm/definition.hpp>
#include <acm/error.hpp>

#include "model/validate.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

// g++ 12 warns about members left out of designated initialisers (-Wextra), the documented
// way to build definitions in C++.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif

using namespace std::chrono_literals;
using acm::Json;

namespace {

Json read_example(const std::string& name) {
  std::ifstream in(std::string(ACM_SOURCE_DIR) + "/examples/definitions/" + name);
  REQUIRE_MESSAGE(in.good(), "cannot open examples/definitions/" << name);
  return Json::parse(in);
}

std::vector<acm::Problem> problems_of(const Json& doc) {
  acm::DefinitionSet out;
  return acm::model::check_definitions(doc, out);
}

std::string dump(const std::vector<acm::Problem>& problems) { return acm::model::format_problems(problems); }

// True if a problem at exactly `path` has a message containing `text`.
bool has(const std::vector<acm::Problem>& problems, const std::string& path, const std::string& text) {
  return std::any_of(problems.begin(), problems.end(), [&](const acm::Problem& p) {
    return p.path == path && p.message.find(text) != std::string::npos;
  });
}

#define CHECK_PROBLEM(problems, path, text) \
  CHECK_MESSAGE(has(problems, path, text), "expected " << path << ": ..." << text << "...\n" << dump(problems))

#define CHECK_CLEAN(problems) CHECK_MESSAGE((problems).empty(), dump(problems))

// A valid single-fragment document to break in one place.
Json fragment_doc() {
  return Json::parse(R"({
    "id": "f",
    "items": [
      { "id": "a", "kind": "human_task", "role": "agent", "estimate": "1h" },
      { "id": "b", "kind": "human_task", "after": ["a"] },
      { "id": "m", "kind": "milestone", "entry": [ { "on": [ { "item": "b", "on": "complete" } ] } ] }
    ]
  })");
}

// A valid single-case-type document to break in one place.
Json case_type_doc() {
  return Json::parse(R"({
    "kind": "case_type",
    "id": "t",
    "goals": [ { "id": "g", "criterion": "file.done == true" } ],
    "roles": [ { "name": "agent", "permissions": ["view", "work"] } ]
  })");
}

std::vector<acm::Problem> with_item_field(const std::string& key, const Json& value, int item = 0) {
  Json doc = fragment_doc();
  doc["items"][item][key] = value;
  return problems_of(doc);
}

// ---- field-by-field comparison (the value types have no operator==)

void check_same(const acm::Sentry& a, const acm::Sentry& b) {
  CHECK(a.id == b.id);
  CHECK(a.condition == b.condition);
  REQUIRE(a.on_parts.size() == b.on_parts.size());
  for (std::size_t i = 0; i < a.on_parts.size(); ++i) {
    CHECK(a.on_parts[i].source == b.on_parts[i].source);
    CHECK(a.on_parts[i].ref == b.on_parts[i].ref);
    CHECK(a.on_parts[i].on == b.on_parts[i].on);
  }
}

void check_same(const std::vector<acm::Sentry>& a, const std::vector<acm::Sentry>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) check_same(a[i], b[i]);
}

void check_same(const acm::ItemDef& a, const acm::ItemDef& b) {
  INFO("item " << a.id);
  CHECK(a.id == b.id);
  CHECK(a.name == b.name);
  CHECK(a.kind == b.kind);
  CHECK(a.description == b.description);
  CHECK(a.role == b.role);
  CHECK(a.skills == b.skills);
  CHECK(a.estimate == b.estimate);
  CHECK(a.due == b.due);
  CHECK(a.handler == b.handler);
  CHECK(a.input == b.input);
  CHECK(a.output == b.output);
  CHECK(a.timer == b.timer);
  CHECK(a.auto_complete == b.auto_complete);
  check_same(a.entry, b.entry);
  check_same(a.exit, b.exit);
  CHECK(a.manual_activation == b.manual_activation);
  CHECK(a.required == b.required);
  CHECK(a.repetition == b.repetition);
  CHECK(a.after == b.after);
  REQUIRE(a.children.size() == b.children.size());
  for (std::size_t i = 0; i < a.children.size(); ++i) check_same(a.children[i], b.children[i]);
}

void check_same(const acm::FragmentDef& a, const acm::FragmentDef& b) {
  INFO("fragment " << a.id);
  CHECK(a.id == b.id);
  CHECK(a.version == b.version);
  CHECK(a.name == b.name);
  CHECK(a.description == b.description);
  REQUIRE(a.parameters.size() == b.parameters.size());
  for (std::size_t i = 0; i < a.parameters.size(); ++i) {
    CHECK(a.parameters[i].name == b.parameters[i].name);
    CHECK(a.parameters[i].type == b.parameters[i].type);
    CHECK(a.parameters[i].required == b.parameters[i].required);
    CHECK(a.parameters[i].default_value == b.parameters[i].default_value);
    CHECK(a.parameters[i].description == b.parameters[i].description);
  }
  CHECK(a.applicability == b.applicability);
  CHECK(a.roles == b.roles);
  REQUIRE(a.items.size() == b.items.size());
  for (std::size_t i = 0; i < a.items.size(); ++i) check_same(a.items[i], b.items[i]);
  CHECK(a.auto_complete == b.auto_complete);
  check_same(a.exit, b.exit);
}

void check_same(const acm::CaseTypeDef& a, const acm::CaseTypeDef& b) {
  INFO("case type " << a.id);
  CHECK(a.id == b.id);
  CHECK(a.version == b.version);
  CHECK(a.name == b.name);
  CHECK(a.description == b.description);
  REQUIRE(a.goals.size() == b.goals.size());
  for (std::size_t i = 0; i < a.goals.size(); ++i) {
    const acm::GoalSpec& x = a.goals[i];
    const acm::GoalSpec& y = b.goals[i];
    CHECK(x.id == y.id);
    CHECK(x.name == y.name);
    CHECK(x.owner == y.owner);
    CHECK(x.parent == y.parent);
    CHECK(x.required == y.required);
    CHECK(x.deadline == y.deadline);
    CHECK(x.within == y.within);
    CHECK(x.anchor == y.anchor);
    CHECK(x.criterion == y.criterion);
    CHECK(x.milestones == y.milestones);
    CHECK(x.decision == y.decision);
  }
  REQUIRE(a.initial_fragments.size() == b.initial_fragments.size());
  for (std::size_t i = 0; i < a.initial_fragments.size(); ++i) {
    CHECK(a.initial_fragments[i].fragment == b.initial_fragments[i].fragment);
    CHECK(a.initial_fragments[i].version == b.initial_fragments[i].version);
    CHECK(a.initial_fragments[i].goal == b.initial_fragments[i].goal);
    CHECK(a.initial_fragments[i].params == b.initial_fragments[i].params);
  }
  CHECK(a.discretionary == b.discretionary);
  REQUIRE(a.roles.size() == b.roles.size());
  for (std::size_t i = 0; i < a.roles.size(); ++i) {
    CHECK(a.roles[i].name == b.roles[i].name);
    CHECK(a.roles[i].permissions == b.roles[i].permissions);
    CHECK(a.roles[i].description == b.roles[i].description);
  }
}

const acm::FragmentDef& fragment_named(const acm::DefinitionSet& set, const std::string& id) {
  auto it =
      std::find_if(set.fragments.begin(), set.fragments.end(), [&](const acm::FragmentDef& f) { return f.id == id; });
  REQUIRE_MESSAGE(it != set.fragments.end(), "no fragment " << id);
  return *it;
}

const acm::ItemDef& item_named(const acm::FragmentDef& f, const std::string& id) {
  auto it = std::find_if(f.items.begin(), f.items.end(), [&](const acm::ItemDef& i) { return i.id == id; });
  REQUIRE_MESSAGE(it != f.items.end(), "no item " << id << " in " << f.id);
  return *it;
}

// Round trip through JSON: struct -> JSON -> struct, and JSON is stable.
void check_round_trip(const acm::DefinitionSet& set) {
  Json doc = {{"fragments", Json::array()}, {"case_types", Json::array()}};
  for (const auto& f : set.fragments) doc["fragments"].push_back(acm::to_json(f));
  for (const auto& t : set.case_types) doc["case_types"].push_back(acm::to_json(t));
  acm::DefinitionSet again;
  REQUIRE_NOTHROW(again = acm::parse_definitions(doc));
  REQUIRE(again.fragments.size() == set.fragments.size());
  REQUIRE(again.case_types.size() == set.case_types.size());
  for (std::size_t i = 0; i < set.fragments.size(); ++i) {
    check_same(set.fragments[i], again.fragments[i]);
    CHECK(acm::to_json(again.fragments[i]) == acm::to_json(set.fragments[i]));
  }
  for (std::size_t i = 0; i < set.case_types.size(); ++i) {
    check_same(set.case_types[i], again.case_types[i]);
    CHECK(acm::to_json(again.case_types[i]) == acm::to_json(set.case_types[i]));
  }
}

}  // namespace

// =============================================================================================
TEST_SUITE("definitions") {
  TEST_CASE("helpdesk example parses without problems") {
    const Json doc = read_example("helpdesk.json");
    CHECK_CLEAN(problems_of(doc));
    const acm::DefinitionSet set = acm::parse_definitions(doc);
    REQUIRE(set.fragments.size() == 5);
    REQUIRE(set.case_types.size() == 1);

    const auto& diagnosis = fragment_named(set, "diagnosis");
    CHECK(item_named(diagnosis, "triage").estimate == 30min);
    const auto& diagnose = item_named(diagnosis, "diagnose");
    CHECK(diagnose.kind == acm::ItemKind::human_task);
    CHECK(diagnose.role == "agent");
    CHECK(diagnose.skills == std::vector<std::string>{"hardware"});
    CHECK(diagnose.estimate == 4h);
    CHECK(diagnose.after == std::vector<std::string>{"triage"});
    const auto& diagnosed = item_named(diagnosis, "diagnosed");
    CHECK(diagnosed.kind == acm::ItemKind::milestone);
    REQUIRE(diagnosed.entry.size() == 1);
    REQUIRE(diagnosed.entry[0].on_parts.size() == 1);
    CHECK(diagnosed.entry[0].on_parts[0].source == acm::OnPartSource::item);
    CHECK(diagnosed.entry[0].on_parts[0].ref == "diagnose");
    CHECK(diagnosed.entry[0].on_parts[0].on == "complete");

    const auto& repair = fragment_named(set, "supplier_repair");
    REQUIRE(repair.parameters.size() == 2);
    CHECK(repair.parameters[0].name == "supplier");
    CHECK(repair.parameters[0].required);
    CHECK(repair.parameters[1].name == "part");
    CHECK_FALSE(repair.parameters[1].required);
    CHECK(repair.applicability == "file.diagnosis.fault == \"hardware\"");
    CHECK(item_named(repair, "repair").estimate == 16h);

    const auto& refund = fragment_named(set, "refund");
    const auto& pay = item_named(refund, "pay_refund");
    CHECK(pay.kind == acm::ItemKind::automated_task);
    CHECK(pay.handler == "payments.refund");
    CHECK(pay.output == "refund.result");
    CHECK(pay.input.is_object());
    CHECK(pay.after == std::vector<std::string>{"approve_refund"});
    CHECK(refund.parameters.at(0).type == "number");

    const auto& followup = fragment_named(set, "customer_followup");
    CHECK(item_named(followup, "call_customer").manual_activation == "true");
    CHECK(item_named(followup, "customer_confirmed").kind == acm::ItemKind::user_listener);
    CHECK(item_named(followup, "confirmed").entry.at(0).on_parts.at(0).on == "occur");
    CHECK(item_named(fragment_named(set, "escalation"), "review_by_lead").role == "team_lead");

    const auto& complaint = set.case_types[0];
    CHECK(complaint.id == "complaint");
    CHECK(complaint.version == 1);
    REQUIRE(complaint.goals.size() == 1);
    CHECK(complaint.goals[0].id == "resolved");
    CHECK(complaint.goals[0].name == "Complaint resolved");
    CHECK(complaint.goals[0].within == 48h);
    CHECK(complaint.goals[0].anchor == "case_created");
    CHECK(complaint.goals[0].criterion == "file.resolution.confirmed == true");
    REQUIRE(complaint.initial_fragments.size() == 1);
    CHECK(complaint.initial_fragments[0].fragment == "diagnosis");
    CHECK(complaint.initial_fragments[0].version == 0);
    CHECK(complaint.discretionary ==
          std::vector<std::string>{"supplier_repair", "refund", "escalation", "customer_followup"});
    REQUIRE(complaint.roles.size() == 5);
    CHECK(complaint.roles[1].name == "supervisor");
    CHECK(complaint.roles[1].permissions == std::vector<std::string>{"view", "work", "plan", "manage"});
    CHECK(complaint.roles[4].permissions == std::vector<std::string>{"view"});
  }

  TEST_CASE("emergency room example parses without problems") {
    const Json doc = read_example("emergency_room.json");
    CHECK_CLEAN(problems_of(doc));
    const acm::DefinitionSet set = acm::parse_definitions(doc);
    REQUIRE(set.fragments.size() == 5);
    for (const char* id : {"triage", "diagnosis", "scan", "medication", "operation"}) {
      CHECK_NOTHROW((void)fragment_named(set, id));
    }
    CHECK(item_named(fragment_named(set, "triage"), "assess").estimate == 10min);
    CHECK(item_named(fragment_named(set, "diagnosis"), "order_tests").manual_activation == "true");
    const auto& scan = fragment_named(set, "scan");
    CHECK(scan.parameters.at(0).name == "kind");
    CHECK(scan.applicability == "file.triage.severity >= 3");
    CHECK(item_named(scan, "read_scan").after == std::vector<std::string>{"perform_scan"});
    const auto& medication = fragment_named(set, "medication");
    CHECK(item_named(medication, "recheck").kind == acm::ItemKind::timer_listener);
    CHECK(item_named(medication, "recheck").timer == 30min);
    CHECK(item_named(medication, "observe").entry.at(0).on_parts.at(0).ref == "recheck");
    const auto& operation = fragment_named(set, "operation");
    CHECK(item_named(operation, "recover").estimate == 6h);
    CHECK(item_named(operation, "recover").repetition.empty());

    const auto& visit = set.case_types.at(0);
    CHECK(visit.id == "er_visit");
    CHECK(visit.goals.at(0).id == "stabilised");
    CHECK(visit.goals.at(0).within == 4h);
    CHECK(visit.goals.at(0).criterion == "file.patient.stable == true");
    CHECK(visit.initial_fragments.at(0).fragment == "triage");
    CHECK(visit.discretionary == std::vector<std::string>{"diagnosis", "scan", "medication", "operation"});
    CHECK(visit.roles.size() == 4);
  }

  TEST_CASE("invalid example: every mistake is listed with its path") {
    const Json doc = read_example("invalid.json");
    const auto problems = problems_of(doc);
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"/case_types/0/goals/0/parent", "unknown goal \"nope\""},
        {"/case_types/0/goals/0/within", "either deadline or within"},
        {"/case_types/0/goals/1/anchor", "unknown anchor \"later\""},
        {"/case_types/0/goals/1/id", "duplicate goal id \"fixed\""},
        {"/case_types/0/roles/0/permissions/1", "unknown permission \"admin\""},
        {"/case_types/0/version", "must be an integer, got string"},
        {"/fragments/0/applicability", "invalid expression"},
        {"/fragments/0/id", "invalid fragment id \"repair job\""},
        {"/fragments/0/items/0/estimte", "unknown key \"estimte\" in item (did you mean \"estimate\"?)"},
        {"/fragments/0/items/1/kind", "unknown item kind \"human\""},
        {"/fragments/0/items/2/id", "duplicate item id \"inspect\" (also at /fragments/0/items/0)"},
        {"/fragments/0/items/3/timer", "a timer listener needs a timer"},
        {"/fragments/0/items/4/estimate", "invalid duration"},
        {"/fragments/0/items/4/handler", "an automated task needs a handler"},
        {"/fragments/0/items/5/after/0", "unknown item \"ghost\""},
        {"/fragments/0/items/5/entry/0/on/0/item", "unknown item \"shipping\""},
        {"/fragments/0/items/6/entry/0/if", "invalid expression"},
        {"/fragments/0/items/6/entry/0/on/0/on", "transition \"finish\" does not apply to human_task"},
        {"/fragments/0/items/6/required", "must be a boolean or an expression string, got number"},
        {"/fragments/0/parameters/0/type", "unknown parameter type \"integer\""},
        {"/fragments/0/parameters/1/name", "duplicate parameter \"amount\""},
        {"/fragments/0/version", "version must be at least 1, got 0"},
    };
    for (const auto& [path, text] : expected) CHECK_PROBLEM(problems, path, text);
    CHECK_MESSAGE(problems.size() == expected.size(), dump(problems));

    CHECK(problems.front().path == "/case_types/0/goals/0/parent");  // sorted by path

    try {
      (void)acm::parse_definitions(doc);
      FAIL("parse_definitions accepted invalid.json");
    } catch (const acm::Error& e) {
      CHECK(e.code() == acm::ErrorCode::invalid_definition);
      const std::string text = e.what();
      CHECK(text.rfind(std::to_string(expected.size()) + " problems in definitions:\n", 0) == 0);
      for (const auto& p : problems) {
        CHECK_MESSAGE(text.find("\n  " + p.path + ": " + p.message) != std::string::npos, text);
      }
    }
  }

  TEST_CASE("problems are sorted with numeric array indexes") {
    Json doc = {{"fragments", Json::array()}};
    for (int i = 0; i < 12; ++i) doc["fragments"].push_back({{"id", "f" + std::to_string(i)}, {"version", 0}});
    const auto problems = problems_of(doc);
    REQUIRE(problems.size() == 12);
    CHECK(problems[2].path == "/fragments/2/version");
    CHECK(problems[10].path == "/fragments/10/version");
  }

  TEST_CASE("error text: header and one line per problem") {
    CHECK(acm::model::format_problems({{"/id", "x"}}) == "1 problem in definitions:\n  /id: x");
    CHECK(acm::model::format_problems({{"", "a"}, {"/b", "c"}}) ==
          "2 problems in definitions:\n  (document): a\n  /b: c");
    CHECK_NOTHROW(acm::model::throw_if_problems({}));
    CHECK_THROWS_AS(acm::model::throw_if_problems({{"/id", "x"}}), acm::Error);
  }

  TEST_CASE("a value nested too deeply is one problem, not a stack overflow") {
    // An item input 100,000 levels deep (reading the definition would copy it recursively).
    Json doc = fragment_doc();
    doc["items"][0] = {{"id", "a"}, {"kind", "automated_task"}, {"handler", "h"}};
    doc["items"][0]["input"] = Json::parse(std::string(100000, '[') + std::string(100000, ']'));
    try {
      acm::parse_definitions(doc);
      FAIL("accepted");
    } catch (const acm::Error& e) {
      CHECK(e.code() == acm::ErrorCode::invalid_definition);
      CHECK_MESSAGE(std::string(e.what()).find("/items/0/input: nests more than 256 levels deep") != std::string::npos,
                    e.what());
    }
    doc["items"][0]["input"] = Json{{"a", {{"b", {1, 2}}}}};  // ordinary nesting is fine
    CHECK_NOTHROW(acm::parse_definitions(doc));
  }

  TEST_CASE("a definition built in C++ with a value nested too deeply is refused by name") {
    // Values are moved in, never copied: copying a JSON value recurses as deep as it nests,
    // which is what the check protects the engine from (registering copies the definition).
    const auto deep = [] { return Json::parse(std::string(100000, '[') + std::string(100000, ']')); };
    acm::FragmentDef f;
    f.id = "built";
    f.items.emplace_back();
    f.items[0].id = "a";
    f.items[0].kind = acm::ItemKind::automated_task;
    f.items[0].handler = "h";
    f.items[0].input = deep();
    f.parameters.emplace_back();
    f.parameters[0].name = "limit";
    f.parameters[0].type = "list";
    f.parameters[0].default_value = deep();
    auto problems = acm::model::validate(f, "");
    REQUIRE_MESSAGE(problems.size() == 2, dump(problems));
    CHECK_PROBLEM(problems, "/parameters/0/default", "nests more than 256 levels deep");
    CHECK_PROBLEM(problems, "/items/0/input", "nests more than 256 levels deep");
    f.items[0].input = Json{{"a", {1, 2}}};
    f.parameters[0].default_value = Json::array({1});
    CHECK_CLEAN(acm::model::validate(f, ""));

    acm::CaseTypeDef t;
    t.id = "type";
    t.initial_fragments.emplace_back();
    t.initial_fragments[0].fragment = "built";
    t.initial_fragments[0].params = Json::object();
    t.initial_fragments[0].params["limit"] = deep();
    problems = acm::model::validate(t, "");
    REQUIRE_MESSAGE(problems.size() == 1, dump(problems));
    CHECK_PROBLEM(problems, "/initial_fragments/0/params", "nests more than 256 levels deep");
  }

  // ---------------------------------------------------------------------------------------------
  TEST_CASE("document shapes") {
    SUBCASE("a set with fragments and case types") {
      acm::DefinitionSet set = acm::parse_definitions(
          {{"fragments", Json::array({fragment_doc()})}, {"case_types", Json::array({case_type_doc()})}});
      CHECK(set.fragments.size() == 1);
      CHECK(set.case_types.size() == 1);
    }
    SUBCASE("an empty set") {
      acm::DefinitionSet set = acm::parse_definitions({{"fragments", Json::array()}});
      CHECK(set.fragments.empty());
      CHECK(set.case_types.empty());
    }
    SUBCASE("a single fragment") {
      acm::DefinitionSet set = acm::parse_definitions(fragment_doc());
      REQUIRE(set.fragments.size() == 1);
      CHECK(set.fragments[0].id == "f");
      CHECK(set.fragments[0].version == 1);
      CHECK(set.case_types.empty());
    }
    SUBCASE("a single fragment with kind") {
      Json doc = fragment_doc();
      doc["kind"] = "fragment";
      CHECK(acm::parse_definitions(doc).fragments.size() == 1);
    }
    SUBCASE("a single case type by kind") {
      acm::DefinitionSet set = acm::parse_definitions(Json{{"kind", "case_type"}, {"id", "t"}});
      REQUIRE(set.case_types.size() == 1);
      CHECK(set.fragments.empty());
    }
    SUBCASE("a single case type by its keys") {
      for (const char* key : {"goals", "initial_fragments", "discretionary"}) {
        Json doc = {{"id", "t"}, {key, Json::array()}};
        acm::DefinitionSet set = acm::parse_definitions(doc);
        CHECK(set.case_types.size() == 1);
      }
    }
    SUBCASE("not an object") {
      auto problems = problems_of(Json::array({fragment_doc()}));
      REQUIRE(problems.size() == 1);
      CHECK_PROBLEM(problems, "", "must be a JSON object, got array");
      CHECK_THROWS_AS(acm::parse_definitions(Json("text")), acm::Error);
      CHECK_THROWS_AS(acm::parse_definitions(Json()), acm::Error);
    }
    SUBCASE("unknown key beside fragments") {
      auto problems = problems_of({{"fragments", Json::array()}, {"id", "x"}});
      CHECK_PROBLEM(problems, "/id", "unknown key \"id\" in definitions document");
    }
    SUBCASE("a case type listed under fragments") {
      Json doc = {{"fragments", Json::array({case_type_doc()})}};
      CHECK_PROBLEM(problems_of(doc), "/fragments/0/kind", "cannot be listed here");
    }
    SUBCASE("a fragment listed under case types") {
      Json f = fragment_doc();
      f["kind"] = "fragment";
      auto problems = problems_of({{"case_types", Json::array({f})}});
      CHECK_PROBLEM(problems, "/case_types/0/kind", "cannot be listed here");
      CHECK_PROBLEM(problems, "/case_types/0/items", "unknown key \"items\" in case type");
    }
    SUBCASE("fragments must be an array") {
      CHECK_PROBLEM(problems_of({{"fragments", fragment_doc()}}), "/fragments", "must be an array, got object");
    }
    SUBCASE("element not an object") {
      CHECK_PROBLEM(problems_of({{"fragments", Json::array({"f"})}}), "/fragments/0",
                    "fragment must be an object, got string");
    }
  }

  TEST_CASE("types of fields") {
    auto set = [](const std::string& key, const Json& value) {
      Json doc = fragment_doc();
      doc[key] = value;
      return problems_of(doc);
    };
    CHECK_PROBLEM(set("id", 5), "/id", "must be a string, got number");
    CHECK_PROBLEM(set("name", true), "/name", "must be a string, got boolean");
    CHECK_PROBLEM(set("description", Json::array()), "/description", "must be a string, got array");
    CHECK_PROBLEM(set("version", 1.5), "/version", "must be an integer, got a fractional number");
    CHECK_PROBLEM(set("version", "1"), "/version", "must be an integer, got string");
    CHECK_PROBLEM(set("version", 1LL << 40), "/version", "out of range");
    CHECK_PROBLEM(set("items", Json::object()), "/items", "must be an array, got object");
    CHECK_PROBLEM(set("items", {42}), "/items/0", "item must be an object, got number");
    CHECK_PROBLEM(set("parameters", {"x"}), "/parameters/0", "parameter must be an object");
    CHECK_PROBLEM(set("roles", {"agent", 3}), "/roles/1", "must be a string, got number");
    CHECK_PROBLEM(set("auto_complete", "no"), "/auto_complete", "must be a boolean, got string");
    CHECK_PROBLEM(set("applicability", true), "/applicability", "must be a string, got boolean");
    CHECK_PROBLEM(set("exit", Json::object()), "/exit", "must be an array");
    CHECK_PROBLEM(with_item_field("skills", "hardware"), "/items/0/skills", "must be an array of strings");
    CHECK_PROBLEM(with_item_field("skills", {"a", nullptr}), "/items/0/skills/1", "must be a string, got null");
    CHECK_PROBLEM(with_item_field("estimate", 3600), "/items/0/estimate", "must be a duration string");
    CHECK_PROBLEM(with_item_field("entry", {"b"}), "/items/0/entry/0", "sentry must be an object, got string");
    CHECK_PROBLEM(with_item_field("entry", {{{"on", {{{"item", 1}, {"on", "complete"}}}}}}),
                  "/items/0/entry/0/on/0/item", "must be a string, got number");
    CHECK_PROBLEM(with_item_field("entry", {{{"on", {{{"item", "b"}, {"on", 1}}}}}}), "/items/0/entry/0/on/0/on",
                  "must be a string, got number");
    CHECK_PROBLEM(with_item_field("entry", {{{"on", {{{"item", "b"}, {"on", "complete"}}}}, {"if", false}}}),
                  "/items/0/entry/0/if", "must be a string, got boolean");
    CHECK_PROBLEM(with_item_field("after", "a", 1), "/items/1/after", "must be an array of strings");
    CHECK_PROBLEM(with_item_field("manual_activation", 1), "/items/0/manual_activation",
                  "must be a boolean or an expression string, got number");
    CHECK_PROBLEM(with_item_field("repetition", Json::object()), "/items/0/repetition",
                  "must be a boolean or an expression string, got object");

    Json t = case_type_doc();
    t["goals"][0]["required"] = "yes";
    t["goals"][0]["deadline"] = 5;
    t["goals"][0]["milestones"] = "m";
    t["roles"][0]["permissions"] = {"view", 1};
    t["initial_fragments"] = {{{"fragment", "f"}, {"params", Json::array()}, {"version", "2"}}, 7};
    t["discretionary"] = {"x", false};
    auto problems = problems_of(t);
    CHECK_PROBLEM(problems, "/goals/0/required", "must be a boolean, got string");
    CHECK_PROBLEM(problems, "/goals/0/deadline", "must be an ISO-8601 time string, got number");
    CHECK_PROBLEM(problems, "/goals/0/milestones", "must be an array of strings");
    CHECK_PROBLEM(problems, "/roles/0/permissions/1", "must be a string, got number");
    CHECK_PROBLEM(problems, "/initial_fragments/0/params", "must be an object, got array");
    CHECK_PROBLEM(problems, "/initial_fragments/0/version", "must be an integer, got string");
    CHECK_PROBLEM(problems, "/initial_fragments/1", "a fragment use must be a fragment id or an object, got number");
    CHECK_PROBLEM(problems, "/discretionary/1", "must be a string, got boolean");
    CHECK_MESSAGE(problems.size() == 8, dump(problems));
  }

  TEST_CASE("unknown keys are errors, with a hint") {
    SUBCASE("fragment") {
      Json doc = fragment_doc();
      doc["aplicability"] = "true";
      CHECK_PROBLEM(problems_of(doc), "/aplicability",
                    "unknown key \"aplicability\" in fragment (did you mean \"applicability\"?)");
    }
    SUBCASE("item, sentry, on-part") {
      Json doc = fragment_doc();
      doc["items"][2]["entry"][0]["when"] = "x";
      doc["items"][2]["entry"][0]["on"][0]["transition"] = "complete";
      doc["items"][0]["rol"] = "agent";
      auto problems = problems_of(doc);
      CHECK_PROBLEM(problems, "/items/2/entry/0/when", "unknown key \"when\" in sentry");
      CHECK_PROBLEM(problems, "/items/2/entry/0/on/0/transition", "unknown key \"transition\" in on-part");
      CHECK_PROBLEM(problems, "/items/0/rol", "(did you mean \"role\"?)");
    }
    SUBCASE("no hint for far-off keys") {
      Json doc = fragment_doc();
      doc["zzzzzzzz"] = 1;
      auto problems = problems_of(doc);
      CHECK_PROBLEM(problems, "/zzzzzzzz", "unknown key \"zzzzzzzz\" in fragment");
      CHECK_FALSE(has(problems, "/zzzzzzzz", "did you mean"));
    }
    SUBCASE("keys that need escaping in the path") {
      Json doc = fragment_doc();
      doc["a/b~c"] = 1;
      CHECK_PROBLEM(problems_of(doc), "/a~1b~0c", "unknown key \"a/b~c\"");
    }
    SUBCASE("parameter, goal, role, fragment use, case type") {
      Json doc = fragment_doc();
      doc["parameters"] = {{{"name", "p"}, {"typ", "string"}}};
      CHECK_PROBLEM(problems_of(doc), "/parameters/0/typ", "unknown key \"typ\" in parameter");
      Json t = case_type_doc();
      t["goals"][0]["deadlin"] = "2026-01-01";
      t["roles"][0]["perms"] = Json::array();
      t["initial_fragments"] = {{{"fragment", "f"}, {"args", Json::object()}}};
      t["discretionay"] = Json::array();
      auto problems = problems_of(t);
      CHECK_PROBLEM(problems, "/goals/0/deadlin", "(did you mean \"deadline\"?)");
      CHECK_PROBLEM(problems, "/roles/0/perms", "unknown key \"perms\" in role");
      CHECK_PROBLEM(problems, "/initial_fragments/0/args", "unknown key \"args\" in fragment use");
      CHECK_PROBLEM(problems, "/discretionay", "(did you mean \"discretionary\"?)");
    }
  }

  TEST_CASE("required keys") {
    Json doc = fragment_doc();
    doc.erase("id");
    doc["items"][0].erase("id");
    doc["items"][1].erase("kind");
    doc["parameters"] = {{{"type", "string"}}};
    auto problems = problems_of(doc);
    CHECK_PROBLEM(problems, "/id", "missing required key \"id\"");
    CHECK_PROBLEM(problems, "/items/0/id", "missing required key \"id\"");
    CHECK_PROBLEM(problems, "/items/1/kind", "missing required key \"kind\"");
    CHECK_PROBLEM(problems, "/parameters/0/name", "missing required key \"name\"");
    // No follow-up noise ("must not be empty", "unknown item a") for the same mistakes.
    CHECK_MESSAGE(problems.size() == 4, dump(problems));

    Json t = case_type_doc();
    t.erase("id");
    t["goals"][0].erase("id");
    t["roles"][0].erase("name");
    t["initial_fragments"] = {{{"version", 1}}};
    auto tp = problems_of(t);
    CHECK_PROBLEM(tp, "/id", "missing required key \"id\"");
    CHECK_PROBLEM(tp, "/goals/0/id", "missing required key \"id\"");
    CHECK_PROBLEM(tp, "/roles/0/name", "missing required key \"name\"");
    CHECK_PROBLEM(tp, "/initial_fragments/0/fragment", "missing required key \"fragment\"");
    CHECK_MESSAGE(tp.size() == 4, dump(tp));
  }

  TEST_CASE("id syntax") {
    CHECK(acm::model::is_valid_id("a-b_c.D9"));
    CHECK_FALSE(acm::model::is_valid_id(""));
    CHECK_FALSE(acm::model::is_valid_id("a b"));
    CHECK_FALSE(acm::model::is_valid_id("a/b"));
    CHECK_FALSE(acm::model::is_valid_id("\xc3\xa9t\xc3\xa9"));
    CHECK(acm::model::is_valid_file_path("customer.tier"));
    CHECK(acm::model::is_valid_file_path("a-b.c_d.0"));
    CHECK_FALSE(acm::model::is_valid_file_path("a..b"));
    CHECK_FALSE(acm::model::is_valid_file_path(".a"));
    CHECK_FALSE(acm::model::is_valid_file_path("a."));
    CHECK_FALSE(acm::model::is_valid_file_path("a b"));

    Json doc = fragment_doc();
    doc["id"] = "";
    doc["items"][0]["id"] = "has space";
    doc["items"][0]["role"] = "agent!";
    doc["items"][0]["skills"] = {"ok", "not ok"};
    doc["roles"] = {"agent!", "agent!"};
    auto problems = problems_of(doc);
    CHECK_PROBLEM(problems, "/id", "fragment id must not be empty");
    CHECK_PROBLEM(problems, "/items/0/id", "invalid item id \"has space\"");
    CHECK_PROBLEM(problems, "/items/0/role", "invalid role name \"agent!\"");
    CHECK_PROBLEM(problems, "/items/0/skills/1", "invalid skill \"not ok\"");
    CHECK_PROBLEM(problems, "/roles/0", "invalid role \"agent!\"");
    CHECK_PROBLEM(problems, "/roles/1", "role \"agent!\" is listed twice");

    Json t = case_type_doc();
    t["id"] = "a:b";
    t["goals"][0]["id"] = "g 1";
    t["discretionary"] = {"ok", "x y", "ok"};
    t["initial_fragments"] = {"bad id"};
    auto tp = problems_of(t);
    CHECK_PROBLEM(tp, "/id", "invalid case type id \"a:b\"");
    CHECK_PROBLEM(tp, "/goals/0/id", "invalid goal id");
    CHECK_PROBLEM(tp, "/discretionary/1", "invalid fragment id \"x y\"");
    CHECK_PROBLEM(tp, "/discretionary/2", "is listed twice");
    CHECK_PROBLEM(tp, "/initial_fragments/0", "invalid fragment id \"bad id\"");
  }

  TEST_CASE("versions") {
    Json doc = fragment_doc();
    doc["version"] = 0;
    CHECK_PROBLEM(problems_of(doc), "/version", "at least 1, got 0");
    doc["version"] = -3;
    CHECK_PROBLEM(problems_of(doc), "/version", "at least 1, got -3");
    doc["version"] = 7;
    CHECK(acm::parse_definitions(doc).fragments[0].version == 7);

    Json t = case_type_doc();
    t["version"] = 0;
    t["initial_fragments"] = {{{"fragment", "f"}, {"version", -1}}};
    auto problems = problems_of(t);
    CHECK_PROBLEM(problems, "/version", "at least 1");
    CHECK_PROBLEM(problems, "/initial_fragments/0/version", "0 (latest) or more, got -1");
  }

  TEST_CASE("item ids are unique within a fragment, nested stages included") {
    Json doc = fragment_doc();
    doc["items"].push_back(Json::parse(R"({
    "id": "s", "kind": "stage",
    "children": [ { "id": "x", "kind": "human_task" },
                  { "id": "s2", "kind": "stage", "children": [ { "id": "a", "kind": "milestone", "after": ["x"] } ] } ]
  })"));
    auto problems = problems_of(doc);
    CHECK_PROBLEM(problems, "/items/3/children/1/children/0/id", "duplicate item id \"a\" (also at /items/0)");
    CHECK_MESSAGE(problems.size() == 1, dump(problems));
    doc["items"][3]["children"][1]["children"][0]["id"] = "a2";
    CHECK_CLEAN(problems_of(doc));
  }

  TEST_CASE("enum values") {
    CHECK_PROBLEM(with_item_field("kind", "task"), "/items/0/kind", "unknown item kind \"task\"");
    CHECK_PROBLEM(with_item_field("kind", "human-task"), "/items/0/kind", "(did you mean \"human_task\"?)");
    CHECK_PROBLEM(with_item_field("kind", "stage "), "/items/0/kind", "expected one of human_task, automated_task");

    Json doc = fragment_doc();
    // (m's on-parts name another milestone: one on m's own transition is refused, as a loop.)
    doc["items"].push_back({{"id", "m2"}, {"kind", "milestone"}});
    doc["items"][2]["entry"][0]["on"] = {{{"item", "b"}, {"on", "completed"}},  // task transition typo
                                         {{"item", "m2"}, {"on", "complete"}},  // milestones occur, they do not complete
                                         {{"goal", "g"}, {"on", "done"}},
                                         {{"goal", "g"}},
                                         {{"file", "customer.tier"}, {"on", "changed"}},
                                         {{"event", "customer_replied"}, {"on", "occur"}},
                                         {{"item", "a"}}};
    auto problems = problems_of(doc);
    CHECK_PROBLEM(problems, "/items/2/entry/0/on/0/on",
                  "transition \"completed\" does not apply to human_task \"b\" (did you mean \"complete\"?)");
    CHECK_PROBLEM(problems, "/items/2/entry/0/on/1/on", "does not apply to milestone \"m2\"");
    CHECK_PROBLEM(problems, "/items/2/entry/0/on/2/on", "unknown goal transition \"done\"");
    CHECK_PROBLEM(problems, "/items/2/entry/0/on/3/on", "a goal on-part needs a transition");
    CHECK_PROBLEM(problems, "/items/2/entry/0/on/4/on", "unknown case-file transition \"changed\"");
    CHECK_PROBLEM(problems, "/items/2/entry/0/on/5/on", "an event on-part takes no transition");
    CHECK_PROBLEM(problems, "/items/2/entry/0/on/6/on", "an item on-part needs a transition");
    CHECK_MESSAGE(problems.size() == 7, dump(problems));

    doc["items"][2]["entry"][0]["on"] = {{{"item", "b"}, {"on", "complete"}},       {{"item", "m2"}, {"on", "occur"}},
                                         {{"goal", "g"}, {"on", "at_risk"}},        {{"file", "customer.tier"}},
                                         {{"file", "customer"}, {"on", "removed"}}, {{"event", "customer_replied"}}};
    CHECK_CLEAN(problems_of(doc));
  }

  TEST_CASE("on-parts name exactly one source") {
    Json doc = fragment_doc();
    doc["items"][2]["entry"][0]["on"] = {{{"on", "complete"}}, {{"item", "b"}, {"goal", "g"}, {"on", "complete"}}};
    auto problems = problems_of(doc);
    CHECK_PROBLEM(problems, "/items/2/entry/0/on/0", "needs one of the keys item, goal, file, event");
    CHECK_PROBLEM(problems, "/items/2/entry/0/on/1", "exactly one of item, goal, file, event; got item, goal");
    CHECK_MESSAGE(problems.size() == 2, dump(problems));

    doc["items"][2]["entry"][0]["on"] = {
        {{"file", "a..b"}}, {{"event", ""}}, {{"goal", "no good"}, {"on", "achieved"}}};
    problems = problems_of(doc);
    CHECK_PROBLEM(problems, "/items/2/entry/0/on/0/file", "invalid case-file path \"a..b\"");
    CHECK_PROBLEM(problems, "/items/2/entry/0/on/1/event", "event name must not be empty");
    CHECK_PROBLEM(problems, "/items/2/entry/0/on/2/goal", "invalid goal id \"no good\"");
  }

  TEST_CASE("sentries need an on-part or an if-part") {
    Json doc = fragment_doc();
    doc["items"][2]["entry"] = {Json::object(), {{"if", "file.ok == true"}}, {{"id", "bad id"}, {"if", "true"}}};
    auto problems = problems_of(doc);
    CHECK_PROBLEM(problems, "/items/2/entry/0", "a sentry needs at least one on-part");
    CHECK_PROBLEM(problems, "/items/2/entry/2/id", "invalid sentry id");
    CHECK_MESSAGE(problems.size() == 2, dump(problems));
  }

  TEST_CASE("durations") {
    CHECK_PROBLEM(with_item_field("estimate", "4 hours"), "/items/0/estimate", "invalid duration");
    CHECK_PROBLEM(with_item_field("due", ""), "/items/0/due", "invalid duration");
    Json doc = fragment_doc();
    doc["items"][0]["estimate"] = "PT4H30M";
    doc["items"][0]["due"] = "1.5h";
    auto set = acm::parse_definitions(doc);
    CHECK(set.fragments[0].items[0].estimate == 270min);
    CHECK(set.fragments[0].items[0].due == 90min);

    Json t = case_type_doc();
    t["goals"][0]["within"] = "soon";
    t["goals"][0]["anchor"] = "case_created";
    CHECK_PROBLEM(problems_of(t), "/goals/0/within", "invalid duration");
    t["goals"][0]["within"] = "P1W";
    CHECK(acm::parse_definitions(t).case_types[0].goals[0].within == std::chrono::hours(24 * 7));
    t["goals"][0].erase("within");
    t["goals"][0].erase("anchor");
    t["goals"][0]["deadline"] = "next friday";
    CHECK_PROBLEM(problems_of(t), "/goals/0/deadline", "invalid time");
    t["goals"][0]["deadline"] = "2026-11-23T09:30:00Z";
    CHECK(acm::parse_definitions(t).case_types[0].goals[0].deadline == acm::parse_time("2026-11-23T09:30:00Z"));

    acm::FragmentDef f{.id = "f", .items = {{.id = "a", .estimate = -1h, .due = -1min}}};
    auto problems = acm::model::validate(f, "");
    CHECK_PROBLEM(problems, "/items/0/estimate", "must not be negative");
    CHECK_PROBLEM(problems, "/items/0/due", "must not be negative");
  }

  TEST_CASE("timer listeners need a timer, and only they have one") {
    Json doc = fragment_doc();
    doc["items"].push_back({{"id", "t"}, {"kind", "timer_listener"}});
    CHECK_PROBLEM(problems_of(doc), "/items/3/timer", "a timer listener needs a timer");
    doc["items"][3]["timer"] = "30m";
    CHECK_CLEAN(problems_of(doc));
    CHECK(acm::parse_definitions(doc).fragments[0].items[3].timer == 30min);
    CHECK_PROBLEM(with_item_field("timer", "30m"), "/items/0/timer",
                  "timer applies only to timer listeners, not to human_task");
  }

  TEST_CASE("automated tasks need a handler, and only they have handler, input, output") {
    Json doc = fragment_doc();
    doc["items"].push_back({{"id", "auto"}, {"kind", "automated_task"}, {"output", "result..x"}});
    auto problems = problems_of(doc);
    CHECK_PROBLEM(problems, "/items/3/handler", "an automated task needs a handler");
    CHECK_PROBLEM(problems, "/items/3/output", "invalid case-file path \"result..x\"");
    doc["items"][3]["handler"] = "bad handler";
    CHECK_PROBLEM(problems_of(doc), "/items/3/handler", "invalid handler name");
    doc["items"][3]["handler"] = "payments.refund";
    doc["items"][3]["output"] = "refund.result";
    doc["items"][3]["input"] = {{"amount", 10}};
    CHECK_CLEAN(problems_of(doc));

    CHECK_PROBLEM(with_item_field("handler", "h"), "/items/0/handler", "handler applies only to automated tasks");
    CHECK_PROBLEM(with_item_field("input", {1, 2}), "/items/0/input", "input applies only to automated tasks");
    CHECK_PROBLEM(with_item_field("output", "x"), "/items/0/output", "output applies only to automated tasks");
  }

  TEST_CASE("children only for stages, auto_complete only for stages") {
    CHECK_PROBLEM(with_item_field("children", {{{"id", "c"}, {"kind", "human_task"}}}), "/items/0/children",
                  "children apply only to stages, not to human_task");
    CHECK_PROBLEM(with_item_field("auto_complete", true), "/items/0/auto_complete", "only to stages");
    CHECK_CLEAN(with_item_field("auto_complete", false));  // the default, harmless
    Json doc = fragment_doc();
    doc["items"].push_back({{"id", "s"},
                            {"kind", "stage"},
                            {"auto_complete", true},
                            {"children", {{{"id", "c"}, {"kind", "human_task"}, {"after", {"a"}}}}}});
    CHECK_CLEAN(problems_of(doc));
    auto set = acm::parse_definitions(doc);
    CHECK(set.fragments[0].items[3].auto_complete);
    CHECK_FALSE(set.fragments[0].items[0].auto_complete);
    CHECK_FALSE(set.fragments[0].auto_complete);
    CHECK(set.fragments[0].items[3].children.at(0).after == std::vector<std::string>{"a"});
  }

  TEST_CASE("kind-specific fields") {
    Json doc = fragment_doc();
    doc["items"][2]["role"] = "agent";
    doc["items"][2]["skills"] = {"x"};
    doc["items"][2]["estimate"] = "1h";
    doc["items"][2]["manual_activation"] = true;
    doc["items"].push_back(
        {{"id", "u"}, {"kind", "user_listener"}, {"role", "agent"}, {"repetition", true}, {"required", "true"}});
    auto problems = problems_of(doc);
    CHECK_PROBLEM(problems, "/items/2/role", "role applies only to human tasks and user listeners, not to milestone");
    CHECK_PROBLEM(problems, "/items/2/skills", "skills apply only to human tasks");
    CHECK_PROBLEM(problems, "/items/2/estimate", "estimate applies only to tasks and stages");
    CHECK_PROBLEM(problems, "/items/2/manual_activation", "manual_activation applies only to tasks and stages");
    CHECK_PROBLEM(problems, "/items/3/repetition", "repetition applies only to tasks, stages and milestones");
    CHECK_PROBLEM(problems, "/items/3/required", "required applies only to tasks, stages and milestones");
    CHECK_MESSAGE(problems.size() == 6, dump(problems));
  }

  TEST_CASE("roles of items must be among the fragment's declared roles") {
    Json doc = fragment_doc();
    doc["roles"] = {"supervisor"};
    CHECK_PROBLEM(problems_of(doc), "/items/0/role", "role \"agent\" is not among the fragment's roles (supervisor)");
    doc["roles"] = {"agent", "supervisor"};
    CHECK_CLEAN(problems_of(doc));
    doc.erase("roles");
    CHECK_CLEAN(problems_of(doc));  // no declared roles: nothing to check against
  }

  TEST_CASE("references: on-parts and after name items of the same fragment") {
    Json doc = fragment_doc();
    doc["items"][1]["after"] = {"a", "zzz", "b", "a"};
    doc["items"][2]["entry"][0]["on"][0]["item"] = "nope";
    doc["exit"] = {{{"on", {{{"item", "gone"}, {"on", "complete"}}}}}};
    auto problems = problems_of(doc);
    CHECK_PROBLEM(problems, "/items/1/after/1", "unknown item \"zzz\" (not in this fragment)");
    CHECK_PROBLEM(problems, "/items/1/after/2", "an item cannot come after itself");
    CHECK_PROBLEM(problems, "/items/1/after/3", "item \"a\" is listed twice");
    CHECK_PROBLEM(problems, "/items/2/entry/0/on/0/item", "unknown item \"nope\"");
    CHECK_PROBLEM(problems, "/exit/0/on/0/item", "unknown item \"gone\"");
    CHECK_MESSAGE(problems.size() == 5, dump(problems));
  }

  TEST_CASE("after dependencies must not form a cycle") {
    Json doc = fragment_doc();
    doc["items"][0]["after"] = {"b"};
    auto problems = problems_of(doc);
    REQUIRE_MESSAGE(problems.size() == 1, dump(problems));
    CHECK(problems[0].path.find("/after") != std::string::npos);
    CHECK(problems[0].message.find("dependency cycle: ") == 0);
    CHECK((problems[0].message.find("a -> b -> a") != std::string::npos ||
           problems[0].message.find("b -> a -> b") != std::string::npos));

    // A longer cycle with a tail hanging off it: reported once.
    Json big = {{"id", "f"}, {"items", Json::array()}};
    for (int i = 0; i < 6; ++i) {
      big["items"].push_back(
          {{"id", "t" + std::to_string(i)}, {"kind", "human_task"}, {"after", {"t" + std::to_string((i + 1) % 4)}}});
    }
    problems = problems_of(big);
    REQUIRE_MESSAGE(problems.size() == 1, dump(problems));
    CHECK(problems[0].message.find("t0") != std::string::npos);
    CHECK(problems[0].message.find("t3") != std::string::npos);
    CHECK(problems[0].message.find("t5") == std::string::npos);
  }

  TEST_CASE("expressions are parsed with the engine's options") {
    Json doc = fragment_doc();
    doc["applicability"] = "file.x >";
    doc["items"][0]["manual_activation"] = "file.y ==";
    doc["items"][0]["required"] = "(true";
    doc["items"][0]["repetition"] = "file.count <";
    doc["items"][2]["entry"][0]["if"] = "file.z == (1";
    doc["exit"] = {{{"if", "file.done =="}}};
    auto problems = problems_of(doc);
    for (const char* path : {"/applicability", "/items/0/manual_activation", "/items/0/required", "/items/0/repetition",
                             "/items/2/entry/0/if", "/exit/0/if"}) {
      CHECK_PROBLEM(problems, path, "invalid expression: ");
    }
    CHECK_MESSAGE(problems.size() == 6, dump(problems));

    Json t = case_type_doc();
    t["goals"][0]["criterion"] = "file.done == ";
    CHECK_PROBLEM(problems_of(t), "/goals/0/criterion", "invalid expression: ");
  }

  TEST_CASE("expressions inside a fragment may only read declared parameters") {
    Json doc = fragment_doc();
    doc["parameters"] = {{{"name", "amount"}, {"type", "number"}}};
    doc["applicability"] = "params.amount > 0 and params.amout < 10";
    doc["items"][0]["required"] = "params.currency == \"EUR\"";
    doc["items"][2]["entry"][0]["if"] = "params.amount.value > 1 or params[\"tpyo\"] == 1 or params[file.key] == 1";
    auto problems = problems_of(doc);
    CHECK_PROBLEM(problems, "/applicability",
                  "unknown parameter \"amout\" (declared: amount) (did you mean \"amount\"?)");
    CHECK_PROBLEM(problems, "/items/0/required", "unknown parameter \"currency\"");
    CHECK_PROBLEM(problems, "/items/2/entry/0/if", "unknown parameter \"tpyo\"");
    CHECK_MESSAGE(problems.size() == 3, dump(problems));  // params[file.key] cannot be checked
    doc.erase("parameters");
    CHECK_PROBLEM(problems_of(doc), "/applicability", "unknown parameter \"amount\" (the fragment declares none)");

    // Case-type goal criteria have no parameters to check against.
    Json t = case_type_doc();
    t["goals"][0]["criterion"] = "params.x == 1";
    CHECK_CLEAN(problems_of(t));
  }

  TEST_CASE("booleans and expressions for manual_activation, required, repetition") {
    Json doc = fragment_doc();
    doc["items"][0]["manual_activation"] = true;
    doc["items"][0]["required"] = false;
    doc["items"][0]["repetition"] = "file.retry == true";
    auto set = acm::parse_definitions(doc);
    const auto& item = set.fragments[0].items[0];
    CHECK(item.manual_activation == "true");
    CHECK(item.required.empty());
    CHECK(item.repetition == "file.retry == true");
    Json back = acm::to_json(set.fragments[0])["items"][0];
    CHECK(back["manual_activation"] == Json(true));
    CHECK_FALSE(back.contains("required"));
    CHECK(back["repetition"] == "file.retry == true");
  }

  TEST_CASE("parameters") {
    Json doc = fragment_doc();
    doc["parameters"] = Json::parse(R"([
    { "name": "amount", "type": "number", "required": true },
    { "name": "amount", "type": "string" },
    { "name": "9lives" },
    { "name": "a.b" },
    { "name": "currency", "type": "str" },
    { "name": "limit", "type": "number", "default": "ten" },
    { "name": "code", "type": "string", "required": true, "default": "x" },
    { "name": "when", "type": "time", "default": "tomorrow" },
    { "name": "within", "type": "duration", "default": "2d" },
    { "name": "tags", "type": "list", "default": ["a"] },
    { "name": "anything", "default": { "k": 1 } }
  ])");
    auto problems = problems_of(doc);
    CHECK_PROBLEM(problems, "/parameters/1/name", "duplicate parameter \"amount\" (also at /parameters/0)");
    CHECK_PROBLEM(problems, "/parameters/2/name", "invalid parameter name \"9lives\"");
    CHECK_PROBLEM(problems, "/parameters/3/name", "invalid parameter name \"a.b\"");
    CHECK_PROBLEM(problems, "/parameters/4/type", "unknown parameter type \"str\" (did you mean \"string\"?)");
    CHECK_PROBLEM(problems, "/parameters/5/default", "default must be a number, got string");
    CHECK_PROBLEM(problems, "/parameters/6/default", "a required parameter cannot have a default");
    CHECK_PROBLEM(problems, "/parameters/7/default", "default is not a valid time: ");
    CHECK_MESSAGE(problems.size() == 7, dump(problems));

    doc["parameters"] = {{{"name", "p"}}};
    auto set = acm::parse_definitions(doc);
    CHECK(set.fragments[0].parameters[0].type == "any");
    CHECK_FALSE(set.fragments[0].parameters[0].required);
    CHECK(set.fragments[0].parameters[0].default_value.is_null());
  }

  TEST_CASE("case type goals") {
    Json t = case_type_doc();
    t["goals"] = Json::parse(R"([
    { "id": "top", "criterion": "true" },
    { "id": "a", "parent": "b", "decision": true },
    { "id": "b", "parent": "a", "decision": true },
    { "id": "self", "parent": "self", "decision": true },
    { "id": "top", "decision": true },
    { "id": "both", "deadline": "2026-01-01", "within": "1d", "decision": true },
    { "id": "anchor", "within": "1d", "anchor": "creation", "decision": true },
    { "id": "anchor2", "deadline": "2026-01-01", "anchor": "case_created", "decision": true },
    { "id": "nothing" },
    { "id": "orphan", "parent": "missing", "milestones": ["m", "m"] },
    { "id": "child", "parent": "nothing", "criterion": "true" }
  ])");
    auto problems = problems_of(t);
    CHECK_PROBLEM(problems, "/goals/1/parent", "goal parents form a cycle: a -> b -> a");
    CHECK_PROBLEM(problems, "/goals/3/parent", "a goal cannot be its own parent");
    CHECK_PROBLEM(problems, "/goals/4/id", "duplicate goal id \"top\" (also at /goals/0)");
    CHECK_PROBLEM(problems, "/goals/5/within", "give either deadline or within, not both");
    CHECK_PROBLEM(problems, "/goals/6/anchor", "unknown anchor \"creation\"");
    CHECK_PROBLEM(problems, "/goals/7/anchor", "anchor applies only to a deadline given with within");
    CHECK_PROBLEM(problems, "/goals/9/parent", "unknown goal \"missing\"");
    CHECK_PROBLEM(problems, "/goals/9/milestones/1", "milestone \"m\" is listed twice");
    CHECK_MESSAGE(problems.size() == 8, dump(problems));  // "nothing" has a sub-goal: fine

    t["goals"] = {{{"id", "lonely"}, {"within", "1d"}}};
    CHECK_PROBLEM(problems_of(t), "/goals/0", "has no way to be achieved");
  }

  TEST_CASE("case type roles and fragment uses") {
    Json t = case_type_doc();
    t["roles"] = Json::parse(R"([
    { "name": "agent", "permissions": ["view", "work", "view"] },
    { "name": "agent" },
    { "name": "boss", "permissions": ["manager"] }
  ])");
    t["initial_fragments"] = {{{"fragment", "f"}, {"goal", "unknown_goal"}}, {{"fragment", "f"}, {"goal", "g"}}};
    auto problems = problems_of(t);
    CHECK_PROBLEM(problems, "/roles/0/permissions/2", "permission \"view\" is listed twice");
    CHECK_PROBLEM(problems, "/roles/1/name", "duplicate role \"agent\" (also at /roles/0)");
    CHECK_PROBLEM(problems, "/roles/2/permissions/0", "unknown permission \"manager\" (did you mean \"manage\"?)");
    CHECK_PROBLEM(problems, "/initial_fragments/0/goal", "unknown goal \"unknown_goal\"");
    CHECK_MESSAGE(problems.size() == 4, dump(problems));
  }

  TEST_CASE("case types are checked against fragments of the same document") {
    Json doc = read_example("helpdesk.json");
    SUBCASE("arguments of initial fragments") {
      doc["case_types"][0]["initial_fragments"] = Json::parse(R"([
      "diagnosis",
      { "fragment": "supplier_repair", "params": { "part": 5, "colour": "red" } },
      { "fragment": "refund", "params": { "amount": 12.5 } }
    ])");
      auto problems = problems_of(doc);
      CHECK_PROBLEM(problems, "/case_types/0/initial_fragments/1/params", "missing required parameter \"supplier\"");
      CHECK_PROBLEM(problems, "/case_types/0/initial_fragments/1/params/part", "argument must be a string, got number");
      CHECK_PROBLEM(problems, "/case_types/0/initial_fragments/1/params/colour", "unknown parameter \"colour\"");
      CHECK_MESSAGE(problems.size() == 3, dump(problems));
    }
    SUBCASE("roles the fragments need") {
      doc["case_types"][0]["roles"].erase(3);  // team_lead
      auto problems = problems_of(doc);
      CHECK_PROBLEM(problems, "/case_types/0/discretionary/2",
                    "fragment \"escalation\" needs role \"team_lead\", which the case type does not define");
      CHECK_MESSAGE(problems.size() == 1, dump(problems));
    }
    SUBCASE("goal milestones") {
      doc["case_types"][0]["goals"][0]["milestones"] = {"confirmed", "repaired", "triage", "no_such"};
      auto problems = problems_of(doc);
      CHECK_PROBLEM(problems, "/case_types/0/goals/0/milestones/2", "\"triage\" is a human_task, not a milestone");
      CHECK_PROBLEM(problems, "/case_types/0/goals/0/milestones/3", "no milestone \"no_such\"");
      CHECK_MESSAGE(problems.size() == 2, dump(problems));
    }
    SUBCASE("milestones are not checked when a fragment is defined elsewhere") {
      doc["case_types"][0]["goals"][0]["milestones"] = {"no_such"};
      doc["case_types"][0]["discretionary"].push_back("registered_elsewhere");
      CHECK_CLEAN(problems_of(doc));
      Json alone = doc["case_types"][0];
      CHECK_CLEAN(problems_of(alone));
    }
    SUBCASE("validate_uses with a registry lookup") {
      acm::DefinitionSet set = acm::parse_definitions(read_example("helpdesk.json"));
      acm::CaseTypeDef t = set.case_types[0];
      t.discretionary.push_back("unknown_fragment");
      acm::model::FragmentLookup find = [&](const std::string& id, int) -> const acm::FragmentDef* {
        for (const auto& f : set.fragments) {
          if (f.id == id) return &f;
        }
        return nullptr;
      };
      CHECK(acm::model::validate_uses(t, "", find).empty());
      auto problems = acm::model::validate_uses(t, "", find, true);
      CHECK_PROBLEM(problems, "/discretionary/4", "unknown fragment \"unknown_fragment\"");
    }
  }

  TEST_CASE("duplicate (id, version) in one document") {
    Json doc = {{"fragments", Json::array({fragment_doc(), fragment_doc(), fragment_doc()})},
                {"case_types", Json::array({case_type_doc(), case_type_doc()})}};
    doc["fragments"][2]["version"] = 2;  // another version: fine
    auto problems = problems_of(doc);
    CHECK_PROBLEM(problems, "/fragments/1/id", "duplicate fragment \"f\" version 1 (also at /fragments/0)");
    CHECK_PROBLEM(problems, "/case_types/1/id", "duplicate case type \"t\" version 1 (also at /case_types/0)");
    CHECK_MESSAGE(problems.size() == 2, dump(problems));
  }

  TEST_CASE("a value that cannot be read causes no follow-up problems") {
    Json doc = fragment_doc();
    doc["items"][1]["kind"] = "timer";
    doc["items"][1]["timer"] = "1h";  // would be "timer applies only to timer listeners" for a human task
    auto problems = problems_of(doc);
    CHECK_PROBLEM(problems, "/items/1/kind", "unknown item kind \"timer\"");
    CHECK_MESSAGE(problems.size() == 1, dump(problems));

    // ... but the checks that do not depend on the kind still run.
    doc["items"][1].erase("kind");
    doc["items"][1]["entry"] = {{{"if", "file.x =="}}};
    doc["items"][1]["after"] = {"nope"};
    doc["items"][2]["entry"][0]["on"][0]["on"] = "occur";  // b's kind is unknown: any transition name
    problems = problems_of(doc);
    CHECK_PROBLEM(problems, "/items/1/kind", "missing required key \"kind\"");
    CHECK_PROBLEM(problems, "/items/1/entry/0/if", "invalid expression");
    CHECK_PROBLEM(problems, "/items/1/after/0", "unknown item \"nope\"");
    CHECK_MESSAGE(problems.size() == 3, dump(problems));

    // A fragment use without "fragment": its other fields are still checked.
    Json t = case_type_doc();
    t["initial_fragments"] = {{{"goal", "no_such_goal"}}};
    problems = problems_of(t);
    CHECK_PROBLEM(problems, "/initial_fragments/0/fragment", "missing required key");
    CHECK_PROBLEM(problems, "/initial_fragments/0/goal", "unknown goal");
    CHECK_MESSAGE(problems.size() == 2, dump(problems));
  }

  // ---------------------------------------------------------------------------------------------
  TEST_CASE("validate works on definitions built in C++, with JSON-layout paths") {
    acm::FragmentDef f{
        .id = "f",
        .items = {{.id = "a", .kind = acm::ItemKind::human_task},
                  {.id = "s",
                   .kind = acm::ItemKind::stage,
                   .children = {{.id = "b",
                                 .kind = acm::ItemKind::milestone,
                                 .entry = {{.on_parts = {{acm::OnPartSource::item, "a", "complete"}},
                                            .condition = "file.x >"}}}}},
                  {.id = "t", .kind = acm::ItemKind::timer_listener},
                  {.id = "w", .kind = static_cast<acm::ItemKind>(42)}},
        .exit = {{.on_parts = {{static_cast<acm::OnPartSource>(9), "x", ""}}}},
    };
    auto problems = acm::model::validate(f, "/fragments/3");
    CHECK_PROBLEM(problems, "/fragments/3/items/1/children/0/entry/0/if", "invalid expression");
    CHECK_PROBLEM(problems, "/fragments/3/items/2/timer", "a timer listener needs a timer");
    CHECK_PROBLEM(problems, "/fragments/3/items/3/kind", "invalid item kind value 42");
    CHECK_PROBLEM(problems, "/fragments/3/exit/0/on/0", "invalid on-part source value 9");
    CHECK_MESSAGE(problems.size() == 4, dump(problems));

    acm::FragmentDef good{.id = "g", .items = {{.id = "a"}}};
    CHECK(acm::model::validate(good, "").empty());

    acm::CaseTypeDef t{.id = "t", .goals = {{.id = "g", .anchor = "nope", .criterion = "file.x =="}}};
    auto tp = acm::model::validate(t, "/case_types/0");
    CHECK_PROBLEM(tp, "/case_types/0/goals/0/criterion", "invalid expression");
    CHECK_PROBLEM(tp, "/case_types/0/goals/0/anchor", "unknown anchor");
    acm::CaseTypeDef bad_params{.id = "t", .initial_fragments = {{.fragment = "f", .params = Json::array()}}};
    CHECK_PROBLEM(acm::model::validate(bad_params, ""), "/initial_fragments/0/params", "must be an object, got array");
  }

  TEST_CASE("enum names") {
    CHECK(acm::to_string(acm::ItemKind::human_task) == "human_task");
    CHECK(acm::to_string(acm::ItemKind::automated_task) == "automated_task");
    CHECK(acm::to_string(acm::ItemKind::milestone) == "milestone");
    CHECK(acm::to_string(acm::ItemKind::timer_listener) == "timer_listener");
    CHECK(acm::to_string(acm::ItemKind::user_listener) == "user_listener");
    CHECK(acm::to_string(acm::ItemKind::stage) == "stage");
    CHECK(acm::to_string(static_cast<acm::ItemKind>(99)) == "unknown");
    CHECK(acm::to_string(acm::OnPartSource::item) == "item");
    CHECK(acm::to_string(acm::OnPartSource::goal) == "goal");
    CHECK(acm::to_string(acm::OnPartSource::case_file) == "case_file");
    CHECK(acm::to_string(acm::OnPartSource::event) == "event");
    for (auto k : {acm::ItemKind::human_task, acm::ItemKind::automated_task, acm::ItemKind::milestone,
                   acm::ItemKind::timer_listener, acm::ItemKind::user_listener, acm::ItemKind::stage}) {
      CHECK(acm::model::item_kind_from_string(acm::to_string(k)) == k);
    }
    CHECK_FALSE(acm::model::item_kind_from_string("task").has_value());
  }

  // ---------------------------------------------------------------------------------------------
  TEST_CASE("round trip: the examples") {
    check_round_trip(acm::parse_definitions(read_example("helpdesk.json")));
    check_round_trip(acm::parse_definitions(read_example("emergency_room.json")));
  }

  TEST_CASE("round trip: every field") {
    acm::FragmentDef f{
        .id = "everything",
        .version = 3,
        .name = "Every field",
        .description = "Exercises the whole format",
        .parameters = {{.name = "amount", .type = "number", .required = true, .description = "how much"},
                       {.name = "note", .type = "string", .default_value = "none"},
                       {.name = "extra"}},
        .applicability = "params.amount > 0",
        .roles = {"agent", "lead"},
        .items =
            {
                {.id = "work",
                 .name = "Work",
                 .kind = acm::ItemKind::human_task,
                 .description = "do it",
                 .role = "agent",
                 .skills = {"a", "b"},
                 .estimate = 90min,
                 .due = 2h + 500ms,
                 .manual_activation = "true",
                 .required = "file.must == true",
                 .repetition = "repetitionCounter < 3"},
                {.id = "bot",
                 .kind = acm::ItemKind::automated_task,
                 .handler = "svc.call",
                 .input = {{"k", {1, 2, 3}}, {"s", "x"}},
                 .output = "out.result",
                 .after = {"work"}},
                {.id = "tick", .kind = acm::ItemKind::timer_listener, .timer = 24h * 3},
                {.id = "ping", .kind = acm::ItemKind::user_listener, .role = "lead"},
                {.id = "phase",
                 .kind = acm::ItemKind::stage,
                 .estimate = 8h,
                 .children = {{.id = "inner",
                               .kind = acm::ItemKind::stage,
                               .children = {{.id = "deep", .kind = acm::ItemKind::milestone, .required = "true"}},
                               .auto_complete = true}},
                 .entry = {{.id = "go",
                            .on_parts = {{acm::OnPartSource::item, "work", "complete"},
                                         {acm::OnPartSource::goal, "g", "at_risk"},
                                         {acm::OnPartSource::case_file, "customer.tier", "set"},
                                         {acm::OnPartSource::case_file, "customer", ""},
                                         {acm::OnPartSource::event, "customer_replied", ""}},
                            .condition = "file.go == true"}},
                 .exit = {{.condition = "file.stop == true"}}},
                {.id = "done",
                 .kind = acm::ItemKind::milestone,
                 .entry = {{.on_parts = {{acm::OnPartSource::item, "tick", "occur"}}}},
                 .after = {"bot", "phase"}},
            },
        .auto_complete = true,
        .exit = {{.on_parts = {{acm::OnPartSource::event, "cancel", ""}}}},
    };
    REQUIRE_MESSAGE(acm::model::validate(f, "").empty(), dump(acm::model::validate(f, "")));

    acm::CaseTypeDef t{
        .id = "full",
        .version = 2,
        .name = "Full",
        .description = "Every case-type field",
        .goals = {{.id = "main",
                   .name = "Main",
                   .owner = "alice",
                   .required = false,
                   .deadline = acm::TimePoint{} + 1'700'000'000'123ms,
                   .criterion = "file.ok == true",
                   .milestones = {"done"},
                   .decision = true},
                  {.id = "sub", .parent = "main", .within = 36h, .anchor = "case_created", .criterion = "true"}},
        .initial_fragments =
            {{.fragment = "everything", .version = 3, .goal = "main", .params = {{"amount", 5}, {"note", "hi"}}},
             {.fragment = "other"},  // defined elsewhere: not checked here
             {.fragment = "everything", .params = {{"amount", 1}}}},
        .discretionary = {"everything"},
        .roles = {{.name = "agent", .permissions = {"view", "work"}, .description = "Agent"},
                  {.name = "lead", .permissions = {"view", "work", "plan", "manage"}}},
    };
    REQUIRE_MESSAGE(acm::model::validate(t, "").empty(), dump(acm::model::validate(t, "")));

    check_round_trip(acm::DefinitionSet{{f}, {t}});

    // Single-object documents round-trip too: to_json(case type) carries "kind".
    check_same(acm::parse_definitions(acm::to_json(f)).fragments.at(0), f);
    check_same(acm::parse_definitions(acm::to_json(t)).case_types.at(0), t);
    acm::CaseTypeDef bare{.id = "bare"};
    CHECK(acm::parse_definitions(acm::to_json(bare)).case_types.size() == 1);

    // Spot checks of the serialised form.
    const Json j = acm::to_json(f);
    CHECK(j["items"][0]["estimate"] == "PT1H30M");
    CHECK(j["items"][0]["manual_activation"] == Json(true));
    CHECK(j["items"][2]["timer"] == "P3D");
    CHECK(j["items"][4]["entry"][0]["on"][2] == Json{{"file", "customer.tier"}, {"on", "set"}});
    CHECK(j["items"][4]["entry"][0]["on"][4] == Json{{"event", "customer_replied"}});
    const Json tj = acm::to_json(t);
    CHECK(tj["kind"] == "case_type");
    CHECK(tj["initial_fragments"][1] == "other");
    CHECK(tj["initial_fragments"][2] == Json{{"fragment", "everything"}, {"params", {{"amount", 1}}}});
    CHECK(tj["goals"][0]["required"] == false);
    CHECK(tj["goals"][0]["deadline"].is_string());
  }

  TEST_CASE("to_json omits empty and default fields") {
    acm::FragmentDef f{.id = "f", .items = {{.id = "a"}}};
    const Json j = acm::to_json(f);
    CHECK(j == Json{{"id", "f"}, {"version", 1}, {"items", {{{"id", "a"}, {"kind", "human_task"}}}}});
    acm::CaseTypeDef t{.id = "t"};
    CHECK(acm::to_json(t) == Json{{"kind", "case_type"}, {"id", "t"}, {"version", 1}});
    acm::CaseTypeDef g{.id = "t", .goals = {{.id = "g", .decision = true}}};
    CHECK(acm::to_json(g)["goals"][0] == Json{{"id", "g"}, {"decision", true}});
  }

  // ---------------------------------------------------------------------------------------------
  TEST_CASE("a fragment with 10,000 items parses") {
    constexpr int n = 10'000;
    Json doc = {{"id", "wide"}, {"items", Json::array()}};
    for (int i = 0; i < n; ++i) {
      Json item = {{"id", "t" + std::to_string(i)}, {"kind", "human_task"}, {"estimate", "1h"}};
      if (i > 0) item["after"] = {"t" + std::to_string(i - 1)};  // one long chain
      if (i % 100 == 99) {
        item["entry"] = {{{"on", {{{"item", "t" + std::to_string(i - 50)}, {"on", "complete"}}}}}};
      }
      doc["items"].push_back(std::move(item));
    }
    acm::DefinitionSet set;
    REQUIRE_NOTHROW(set = acm::parse_definitions(doc));
    CHECK(set.fragments[0].items.size() == n);
    CHECK(acm::to_json(set.fragments[0])["items"].size() == n);

    // A cycle closing the 10,000-long chain is found without deep recursion.
    doc["items"][0]["after"] = {"t" + std::to_string(n - 1)};
    auto problems = problems_of(doc);
    REQUIRE_MESSAGE(problems.size() == 1, dump(problems));
    CHECK(problems[0].message.find("dependency cycle") == 0);
  }

  namespace {
  // A stage chain: `stages` nested stages, the innermost holding one task.
  Json nested_stages(int stages) {
    Json inner = {{"id", "leaf"}, {"kind", "human_task"}};
    for (int i = stages; i >= 1; --i) {
      inner = Json{{"id", "s" + std::to_string(i)}, {"kind", "stage"}, {"children", {std::move(inner)}}};
    }
    return Json{{"id", "deep"}, {"items", {std::move(inner)}}};
  }

  std::string children_path(int depth) {
    std::string path = "/items/0";
    for (int i = 1; i < depth; ++i) path += "/children/0";
    return path + "/children";
  }
  }  // namespace

  TEST_CASE("stage nesting is bounded") {
    CHECK_CLEAN(problems_of(nested_stages(acm::model::max_stage_depth)));

    auto problems = problems_of(nested_stages(acm::model::max_stage_depth + 1));
    REQUIRE_MESSAGE(problems.size() == 1, dump(problems));
    CHECK(problems[0].path == children_path(acm::model::max_stage_depth + 1));
    CHECK(problems[0].message == "stages are nested more than 32 levels deep");

    // Far deeper input: still one problem, and the reader does not descend further.
    problems = problems_of(nested_stages(2000));
    REQUIRE_MESSAGE(problems.size() == 1, dump(problems));
    CHECK(problems[0].path == children_path(acm::model::max_stage_depth + 1));

    // The same rule for definitions built in C++.
    acm::ItemDef item{.id = "leaf"};
    for (int i = 40; i >= 1; --i) {
      acm::ItemDef stage{.id = "s" + std::to_string(i), .kind = acm::ItemKind::stage};
      stage.children.push_back(std::move(item));
      item = std::move(stage);
    }
    acm::FragmentDef f{.id = "deep", .items = {std::move(item)}};
    auto cpp = acm::model::validate(f, "");
    REQUIRE_MESSAGE(cpp.size() == 1, dump(cpp));
    CHECK(cpp[0].path == children_path(acm::model::max_stage_depth + 1));
  }

}  // TEST_SUITE
