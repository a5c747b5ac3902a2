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
  CHECK(apply_error("goal_changed", Json{{"goal", "g"}, {"changes", 1}}).find("'changes'") != std::string::npos);
  // A well-formed payload that names something the case does not have is refused too.
  CHECK(apply_error("item_assigned", Json{{"item", "nope"}, {"to", "ann"}}).find("unknown item 'nope'") != std::string::npos);
  // Kinds the fold only records still need an object payload.
  CHECK(apply_error("error", Json{{"message", "m"}}).empty());
  CHECK(apply_error("note", Json("text")).find("is not a JSON object") != std::string::npos);
}
