// SPDX-License-Identifier: Apache-2.0
// Issue 15: the event kinds as one typed table (src/runtime/events.hpp). The stored names and
// payload JSON stay what earlier versions wrote (existing stores and snapshots must load); the
// fold refuses an unknown kind or a malformed payload with an Error naming the event and key.
#include "runtime/events.hpp"
#include "runtime/state.hpp"
#include "support.hpp"

#include <set>

using namespace acm;
using namespace acm::runtime;

namespace {

Event event_of(std::string kind, Json payload) {
  Event e;
  e.case_id = "c1";
  e.seq = 1;
  e.time = parse_time("2025-01-06T09:00:00Z");
  e.kind = std::move(kind);
  e.payload = std::move(payload);
  return e;
}

std::string apply_error(const std::string& kind, Json payload) {
  CaseState s;
  try {
    apply(s, event_of(kind, std::move(payload)), FoldContext{});
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::internal);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("h15 events: every kind has one stored name, and names map back to their kind") {
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < events::kNames.size(); ++i) {
    const auto kind = static_cast<events::Kind>(i);
    CHECK(seen.insert(events::name(kind)).second);
    REQUIRE(events::kind_of(events::name(kind)).has_value());
    CHECK(*events::kind_of(events::name(kind)) == kind);
  }
  CHECK(events::name(events::Kind::item_transition) == "item_transition");
  CHECK(events::name(events::Kind::case_status) == "case_status");
  CHECK(events::name(events::Kind::error) == "error");
  CHECK_FALSE(events::kind_of("bogus").has_value());
  CHECK_FALSE(events::kind_of("").has_value());
}

TEST_CASE("h15 events: payloads are written as earlier versions stored them") {
  // The exact bytes (nlohmann::json sorts keys): a change here would break existing stores.
  CHECK(events::ItemTransition{.item = "f/t", .transition = "start", .from = ItemState::enabled, .to = ItemState::active}
            .to_json()
            .dump() == R"({"from":"enabled","item":"f/t","to":"active","transition":"start"})");
  CHECK(events::ItemTransition{.item = "f/t",
                               .transition = "fault",
                               .from = ItemState::active,
                               .to = ItemState::failed,
                               .error = "boom"}
            .to_json()
            .dump() == R"({"error":"boom","from":"active","item":"f/t","to":"failed","transition":"fault"})");
  CHECK(events::CaseStatusChanged{.from = CaseStatus::active, .to = CaseStatus::completed}.to_json().dump() ==
        R"({"from":"active","to":"completed"})");
  CHECK(events::CaseStatusChanged{.from = CaseStatus::active, .to = CaseStatus::terminated, .reason = "r"}.to_json().dump() ==
        R"({"from":"active","reason":"r","to":"terminated"})");
  CHECK(events::GoalResumed{.goal = "g", .paused_for = std::chrono::hours(1)}.to_json().dump() ==
        R"({"deadline":null,"goal":"g","paused_for":"PT1H"})");
  CHECK(events::GoalStatusChanged{.goal = "g", .from = GoalStatus::open, .to = GoalStatus::achieved, .decision = true}
            .to_json()
            .dump() == R"({"decision":true,"from":"open","goal":"g","to":"achieved"})");
  CHECK(events::PromiseMade{.id = "p", .what = "call back", .due = parse_time("2025-01-07T10:00:00Z")}.to_json().dump() ==
        R"({"promise":{"due":"2025-01-07T10:00:00.000Z","id":"p","what":"call back"}})");
  CHECK(events::FileSet{.path = "a.b", .value = 3}.to_json().dump() == R"({"path":"a.b","value":3})");
  CHECK(events::PriorityChanged{.from = 1, .to = 5, .base = 5}.to_json().dump() == R"({"base":5,"from":1,"to":5})");
  CHECK(events::GoalChanged{.goal = "g", .deadline = std::optional<TimePoint>{}}.to_json().dump() ==
        R"({"changes":{"deadline":null},"goal":"g"})");
  CHECK(events::ErrorRecorded{.message = "m"}.to_json().dump() == R"({"message":"m"})");
  CHECK(events::ErrorRecorded{.item = "f/t", .message = "m"}.to_json().dump() == R"({"item":"f/t","message":"m"})");
  CHECK(events::FragmentAdded{.item = "f", .fragment = "frag", .version = 1}.to_json().dump() ==
        R"({"after":[],"fragment":"frag","goal":"","item":"f","params":{},"version":1})");
  CHECK(events::FragmentAdded{.item = "f", .fragment = "frag", .version = 1, .parent = "c/s"}.to_json().dump() ==
        R"({"after":[],"fragment":"frag","goal":"","item":"f","params":{},"parent":"c/s","version":1})");
}

TEST_CASE("h15 events: what is written is what the fold reads back") {
  const Event e = event_of("fragment_added", events::FragmentAdded{.item = "f",
                                                                   .fragment = "frag",
                                                                   .version = 3,
                                                                   .goal = "g",
                                                                   .params = Json{{"x", 1}},
                                                                   .after = {"a", "b"}}
                                                 .to_json());
  const auto f = events::FragmentAdded::read(events::Payload(e));
  CHECK(f.item == "f");
  CHECK(f.fragment == "frag");
  CHECK(f.version == 3);
  CHECK(f.goal == "g");
  CHECK(f.params == Json{{"x", 1}});
  CHECK(f.after == std::vector<std::string>{"a", "b"});
  CHECK(f.parent.empty());  // no "parent": the top of the case
  const Event planned = event_of("fragment_added", events::FragmentAdded{.item = "f2", .fragment = "frag", .version = 3,
                                                                         .parent = "c/stage"}
                                                       .to_json());
  CHECK(events::FragmentAdded::read(events::Payload(planned)).parent == "c/stage");

  const Event t = event_of("item_transition", events::ItemTransition{.item = "i",
                                                                     .transition = "start",
                                                                     .from = ItemState::available,
                                                                     .to = ItemState::active,
                                                                     .due = parse_time("2025-01-08T00:00:00Z")}
                                                  .to_json());
  const auto r = events::ItemTransition::read(events::Payload(t));
  CHECK(r.item == "i");
  CHECK(r.transition == "start");
  CHECK(r.to == ItemState::active);
  REQUIRE(r.due.has_value());
  CHECK(format_time(*r.due) == "2025-01-08T00:00:00.000Z");
}

TEST_CASE("h15 events: the fold refuses an unknown kind or a malformed payload, naming it") {
  CHECK(apply_error("bogus", Json::object()).find("unknown event kind 'bogus'") != std::string::npos);
  CHECK(apply_error("owner_changed", Json::array()).find("('owner_changed') of case 'c1': the payload is not a JSON object") !=
        std::string::npos);
  CHECK(apply_error("owner_changed", Json::object()).find("the payload has no 'to'") != std::string::npos);
  CHECK(apply_error("owner_changed", Json{{"to", 7}}).find("'to' which is not a string") != std::string::npos);
  CHECK(apply_error("case_status", Json{{"to", "sleeping"}}).find("unknown case status 'sleeping'") != std::string::npos);
  CHECK(apply_error("promise_made", Json{{"promise", Json{{"id", "p"}}}}).find("has no 'promise'.'due'") !=
        std::string::npos);
  CHECK(apply_error("goal_changed", Json{{"goal", "g"}, {"changes", 1}}).find("has 'changes' which is not a JSON object") !=
        std::string::npos);
  // A well-formed payload that names something the case does not have is refused too.
  CHECK(apply_error("item_assigned", Json{{"item", "nope"}, {"to", "ann"}}).find("unknown item 'nope'") != std::string::npos);
  // Kinds the fold only records still need an object payload.
  CHECK(apply_error("error", Json{{"message", "m"}}).empty());
  CHECK(apply_error("note", Json("text")).find("is not a JSON object") != std::string::npos);
}

TEST_CASE("h15 events: every payload kind is written byte for byte as before (the direct object builder)") {
  // events.cpp builds payload objects member by member instead of from initializer lists (a
  // lean write path); the stored text of every kind, with its optional members set and unset,
  // must stay what the earlier code wrote.
  const TimePoint t = parse_time("2025-01-07T10:00:00Z");
  auto text = [](auto payload) { return std::move(payload).to_json().dump(); };

  events::CaseCreated created;
  created.type = "claim";
  created.type_version = 2;
  created.title = "T";
  created.subject = Subject{.customer = "cust", .attributes = Json{{"tier", "gold"}}};
  created.owner = "ann";
  created.priority = 3;
  created.participants = {Participant{"bob", {"agent", "lead"}}};
  created.file = Json{{"n", 1}};
  CHECK(text(created) ==
        R"({"file":{"n":1},"owner":"ann","participants":[{"actor":"bob","roles":["agent","lead"]}],"priority":3,)"
        R"("subject":{"attributes":{"tier":"gold"},"customer":"cust"},"title":"T","type":"claim","type_version":2})");
  CHECK(text(events::CaseCreated{}) ==
        R"({"file":{},"owner":"","participants":[],"priority":0,"subject":{"attributes":{},"customer":""},)"
        R"("title":"","type":"","type_version":0})");
  CHECK(text(events::OwnerChanged{.from = "a", .to = "b"}) == R"({"from":"a","to":"b"})");
  CHECK(text(events::ParticipantAdded{.actor = "a", .roles = {"r"}}) == R"({"actor":"a","roles":["r"]})");
  CHECK(text(events::ParticipantRemoved{.actor = "a"}) == R"({"actor":"a"})");
  CHECK(text(events::PriorityChanged{.from = 1, .to = 2, .score = Json(7), .terms = Json::array({"x"})}) ==
        R"({"from":1,"score":7,"terms":["x"],"to":2})");
  CHECK(text(events::SubjectChanged{.key = "k", .value = Json::array({1, "two"})}) == R"({"key":"k","value":[1,"two"]})");

  GoalSpec goal;
  goal.id = "g";
  goal.name = "G";
  goal.owner = "o";
  goal.parent = "p";
  goal.required = false;
  goal.criterion = "x > 1";
  goal.milestones = {"m1"};
  goal.decision = true;
  CHECK(text(events::GoalAdded{.goal = goal, .deadline = t}) ==
        R"({"deadline":"2025-01-07T10:00:00.000Z","goal":{"criterion":"x > 1","decision":true,"id":"g",)"
        R"("milestones":["m1"],"name":"G","owner":"o","parent":"p","required":false}})");
  CHECK(events::goal_spec_json(goal) == Json::parse(R"({"criterion":"x > 1","decision":true,"id":"g",)"
                                                    R"("milestones":["m1"],"name":"G","owner":"o","parent":"p","required":false})"));
  CHECK(text(events::GoalChanged{.goal = "g",
                                 .name = "N",
                                 .owner = "O",
                                 .criterion = "c",
                                 .required = true,
                                 .deadline = std::optional<TimePoint>{t},
                                 .milestones = std::vector<std::string>{"a"}}) ==
        R"({"changes":{"criterion":"c","deadline":"2025-01-07T10:00:00.000Z","milestones":["a"],"name":"N",)"
        R"("owner":"O","required":true},"goal":"g"})");
  CHECK(text(events::GoalStatusChanged{.goal = "g", .from = GoalStatus::open, .to = GoalStatus::cancelled, .reason = "r"}) ==
        R"({"from":"open","goal":"g","reason":"r","to":"cancelled"})");
  CHECK(text(events::GoalTiming{.goal = "g", .from = Timing::on_track, .to = Timing::at_risk,
                                .remaining_work = std::chrono::minutes(90), .deadline = t}) ==
        R"({"deadline":"2025-01-07T10:00:00.000Z","from":"on_track","goal":"g","remaining_work":"PT1H30M","to":"at_risk"})");
  CHECK(text(events::GoalPaused{.goal = "g"}) == R"({"goal":"g"})");
  CHECK(text(events::GoalPaused{.goal = "g", .reason = "wait"}) == R"({"goal":"g","reason":"wait"})");
  CHECK(text(events::GoalResumed{.goal = "g", .paused_for = std::chrono::minutes(5), .deadline = t}) ==
        R"({"deadline":"2025-01-07T10:00:00.000Z","goal":"g","paused_for":"PT5M"})");
  CHECK(text(events::PromiseTiming{.promise = "p", .from = Timing::on_track, .to = Timing::overdue, .due = t,
                                   .source = "plan"}) ==
        R"({"due":"2025-01-07T10:00:00.000Z","expected":null,"from":"on_track","promise":"p","source":"plan","to":"overdue"})");
  CHECK(text(events::PromiseKept{.promise = "p"}) == R"({"promise":"p"})");
  CHECK(text(events::PromiseBroken{.promise = "p", .due = t, .reason = "late"}) ==
        R"({"due":"2025-01-07T10:00:00.000Z","promise":"p","reason":"late"})");
  CHECK(text(events::PromiseCancelled{.promise = "p"}) == R"({"promise":"p"})");
  CHECK(text(events::PromiseCancelled{.promise = "p", .reason = "r"}) == R"({"promise":"p","reason":"r"})");
  CHECK(text(events::FragmentAdded{.item = "f", .fragment = "fr", .version = 2, .goal = "g", .params = Json{{"a", 1}},
                                   .after = {"x"}}) ==
        R"({"after":["x"],"fragment":"fr","goal":"g","item":"f","params":{"a":1},"version":2})");
  CHECK(text(events::TaskAdded{.item = "i", .task = Json{{"name", "n"}}, .goal = "g", .assignee = "a", .after = {"b"},
                               .required = true}) ==
        R"({"after":["b"],"assignee":"a","goal":"g","item":"i","required":true,"task":{"name":"n"}})");
  CHECK(text(events::ItemCreated{.item = "i#2", .like = "i", .repetition = 2}) == R"({"item":"i#2","like":"i","repetition":2})");
  CHECK(text(events::ItemRemoved{.item = "i"}) == R"({"item":"i"})");
  CHECK(text(events::DependencyAdded{.item = "i", .after = "j"}) == R"({"after":"j","item":"i"})");
  CHECK(text(events::ItemTransition{.item = "s",
                                    .transition = "complete",
                                    .from = ItemState::active,
                                    .to = ItemState::completed,
                                    .due = t,
                                    .seen = Json::array({Json::array({"d", "complete"})})}) ==
        R"({"due":"2025-01-07T10:00:00.000Z","from":"active","item":"s","seen":[["d","complete"]],"to":"completed",)"
        R"("transition":"complete"})");
  CHECK(text(events::ItemAssigned{.item = "i", .from = "a", .to = "b"}) == R"({"from":"a","item":"i","to":"b"})");
  CHECK(text(events::ItemOverdue{.item = "i", .due = t}) == R"({"due":"2025-01-07T10:00:00.000Z","item":"i"})");
  CHECK(text(events::FileSet{.path = "p", .value = "v", .item = "i"}) == R"({"item":"i","path":"p","value":"v"})");
  CHECK(text(events::FileRemoved{.path = "p"}) == R"({"path":"p"})");
  Asset asset;
  asset.id = "a1";
  asset.kind = "link";
  asset.title = "T";
  asset.uri = "https://x";
  asset.text = "";
  asset.media_type = "text/html";
  asset.metadata = Json{{"k", "v"}};
  CHECK(text(events::AssetAttached{.asset = asset}) ==
        R"({"asset":{"id":"a1","kind":"link","media_type":"text/html","metadata":{"k":"v"},"text":"","title":"T",)"
        R"("uri":"https://x"}})");
  CHECK(text(events::Signal{.name = "s", .payload = Json{{"x", true}}}) == R"({"name":"s","payload":{"x":true}})");
  CHECK(text(events::Escalated{.rule = "r", .target = "g", .trigger = "at_risk", .count = 2, .notify = "lead",
                               .actions = Json::array({"raise"})}) ==
        R"({"actions":["raise"],"count":2,"notify":"lead","rule":"r","target":"g","trigger":"at_risk"})");
  CHECK(text(events::ErrorRecorded{.item = "i", .message = "m", .bound = "max_items"}) ==
        R"({"bound":"max_items","item":"i","message":"m"})");
}
