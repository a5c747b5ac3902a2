// SPDX-License-Identifier: Apache-2.0
// tests/test_from_json.cpp - the one reader of command arguments (<acm/from_json.hpp>) that the
// C ABI, acm-server and the CLI share: shapes, defaults, and errors naming the field.
#include <acm/from_json.hpp>

#include <doctest/doctest.h>

#include <string>

using acm::Json;

namespace {

/// The message of the Error `f` throws, checking its code.
template <class F>
std::string error_of(F&& f, acm::ErrorCode code = acm::ErrorCode::invalid_argument) {
  try {
    f();
  } catch (const acm::Error& e) {
    CHECK(e.code() == code);
    return e.what();
  }
  FAIL("no error");
  return {};
}

}  // namespace

TEST_CASE("from_json: a new case with every key, and the defaults of an empty one") {
  const acm::NewCase c = acm::new_case_from_json(Json::parse(R"({
      "id": "c-1", "type": "complaint", "type_version": 2, "title": "Broken", "owner": "bob", "priority": -3,
      "subject": {"customer": "ada", "attributes": {"tier": "gold"}},
      "participants": [{"actor": "carol", "roles": ["expert"]}], "file": {"n": 1}})"));
  CHECK(c.id == "c-1");
  CHECK(c.type == "complaint");
  CHECK(c.type_version == 2);
  CHECK(c.title == "Broken");
  CHECK(c.owner == "bob");
  CHECK(c.priority == -3);
  CHECK(c.subject.customer == "ada");
  CHECK(c.subject.attributes == Json{{"tier", "gold"}});
  REQUIRE(c.participants.size() == 1);
  CHECK(c.participants[0].actor == "carol");
  CHECK(c.participants[0].roles == std::vector<std::string>{"expert"});
  CHECK(c.file == Json{{"n", 1}});

  const acm::NewCase empty = acm::new_case_from_json(Json::object());
  CHECK(empty.id.empty());
  CHECK(empty.priority == 0);
  CHECK(empty.participants.empty());
  CHECK(empty.file == Json::object());
}

TEST_CASE("from_json: errors name the argument and the field, with its path") {
  CHECK(error_of([] { acm::new_case_from_json(Json::array()); }) == "case must be a JSON object");
  CHECK(error_of([] { acm::new_case_from_json(Json{{"titel", "x"}}); })
            .starts_with("case: unknown key 'titel' (known: 'id', 'type',"));
  CHECK(error_of([] { acm::new_case_from_json(Json{{"title", 5}}); }) == "case: 'title' must be a string");
  CHECK(error_of([] { acm::new_case_from_json(Json::parse(R"({"participants": [{"actor": "a"}, {"roles": []}]})")); }) ==
        "case: 'participants[1].actor' is required");
  CHECK(error_of([] { acm::new_case_from_json(Json::parse(R"({"subject": {"customer": 1}})")); }) ==
        "case: 'subject.customer' must be a string");
  CHECK(error_of([] { acm::new_case_from_json(Json::parse(R"({"subject": {"colour": 1}})")); })
            .starts_with("case: unknown key 'subject.colour'"));
  CHECK(error_of([] { acm::new_case_from_json(Json::parse(R"({"subject": []})")); }) ==
        "case: 'subject' must be a JSON object");
  CHECK(error_of([] { acm::new_case_from_json(Json{{"priority", 1LL << 40}}); })
            .starts_with("case: 'priority' is out of range"));
  CHECK(error_of([] { acm::goal_spec_from_json(Json{{"name", "G"}}); }) == "goal: 'id' is required");
  CHECK(error_of([] { acm::goal_spec_from_json(Json{{"id", "g"}, {"within", 60}}); }) ==
        "goal: 'within' must be a duration string (\"PT4H\", \"90m\")");
  CHECK(error_of([] { acm::ad_hoc_task_from_json(Json{{"name", "t"}, {"kind", "robot"}}); })
            .starts_with("task: 'kind' is not valid: unknown item kind 'robot' (human_task,"));
  CHECK(error_of([] { acm::promise_spec_from_json(Json{{"id", "p"}}); }) == "promise: 'due' is required (a time)");
  CHECK(error_of([] { acm::asset_from_json(Json{{"text", "hello"}}); }) == "asset: 'kind' is required");
  CHECK(error_of([] { acm::case_query_from_json(Json{{"status", "asleep"}}); })
            .starts_with("case query: 'status' is not valid: unknown case status 'asleep'"));
}

TEST_CASE("from_json: a bad time or duration keeps the parser's error code and names the field") {
  std::string m;
  try {
    acm::goal_spec_from_json(Json{{"id", "g"}, {"deadline", "next tuesday"}});
    FAIL("no error");
  } catch (const acm::Error& e) {
    m = e.what();
  }
  CHECK(m.starts_with("goal: 'deadline' is not a time: "));
  CHECK(acm::goal_spec_from_json(Json{{"id", "g"}, {"deadline", 1000}}).deadline ==
        acm::TimePoint(acm::Duration(1000)));
  CHECK(acm::goal_spec_from_json(Json{{"id", "g"}, {"within", "90m"}}).within == acm::Duration(90 * 60 * 1000));
}

TEST_CASE("from_json: fragment uses, additions, goal changes, filters and queries") {
  CHECK(acm::fragment_use_from_json(Json("diagnosis")).fragment == "diagnosis");
  const acm::FragmentUse u = acm::fragment_use_from_json(
      Json::parse(R"({"fragment": "repair", "version": 2, "goal": "g", "params": {"a": 1}, "stage": "s#1"})"));
  CHECK((u.fragment == "repair" && u.version == 2 && u.goal == "g" && u.stage == "s#1"));
  CHECK(u.params == Json{{"a", 1}});
  CHECK(error_of([] { acm::fragment_use_from_json(Json{{"fragment", "x"}, {"after", Json::array()}}); })
            .starts_with("fragment use: unknown key 'after'"));
  const acm::FragmentAddition a =
      acm::fragment_addition_from_json(Json::parse(R"({"fragment": "repair", "after": ["i1", "i2"]})"));
  CHECK(a.use.fragment == "repair");
  CHECK(a.after == std::vector<std::string>{"i1", "i2"});

  const acm::GoalChange none = acm::goal_change_from_json(Json::object());
  CHECK((!none.name && !none.deadline && !none.required));
  const acm::GoalChange drop = acm::goal_change_from_json(Json{{"deadline", nullptr}});
  REQUIRE(drop.deadline.has_value());
  CHECK(!drop.deadline->has_value());

  const acm::QueueFilter f = acm::queue_filter_from_json(Json::parse(R"({"roles": ["agent"], "limit": 5})"));
  CHECK(f.roles == std::vector<std::string>{"agent"});
  CHECK(f.limit == 5);
  CHECK(acm::queue_filter_from_json(Json::object()).limit == 50);
  const acm::CaseQuery q = acm::case_query_from_json(Json::parse(R"({"status": ["active", "closed"]})"));
  CHECK(q.statuses == std::vector<acm::CaseStatus>{acm::CaseStatus::active, acm::CaseStatus::closed});
  CHECK(error_of([] { acm::case_query_from_json(Json{{"limit", 20000}}); })
            .starts_with("case query: 'limit' is out of range"));
}
