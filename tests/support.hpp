// SPDX-License-Identifier: Apache-2.0
// tests/support.hpp - shared fixtures for engine tests.
#pragma once

#include <acm/acm.hpp>

#include <doctest/doctest.h>

#include <deque>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace acm::test {

/// The code of the acm::Error that `f` throws; ErrorCode::internal when it throws none (no test
/// expects internal). No doctest assertion inside: callable from any thread.
inline ErrorCode code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::internal;
}

/// What `f` threw: the acm::Error's code and message; {internal, "nothing was thrown"} when it
/// throws none (no test expects internal). No doctest assertion inside.
struct Thrown {
  ErrorCode code = ErrorCode::internal;
  std::string message = "nothing was thrown";
};
inline Thrown error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  return {};
}

/// Keeps events alive until the test program ends (a CaseCommit borrows its events).
inline std::span<const Event> kept(std::vector<Event> events) {
  static std::mutex m;
  static std::deque<std::vector<Event>> all;
  std::lock_guard lk(m);
  all.push_back(std::move(events));
  return all.back();
}

inline Json read_json(const std::string& relative) {
  std::ifstream in(std::string(ACM_SOURCE_DIR) + "/" + relative);
  REQUIRE_MESSAGE(in.good(), "cannot open " << relative);
  return Json::parse(in);
}

inline TimePoint t(const char* iso) { return parse_time(iso); }

/// An engine on a manual clock starting Monday 2026-11-23 09:00 UTC, with an admin.
struct EngineFixture {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
  std::unique_ptr<Engine> engine;
  Actor admin{"root", {"admin"}};
  std::vector<Event> seen;  // every event delivered to a subscriber

  explicit EngineFixture(std::size_t max_steps = 10000) {
    EngineOptions o;
    o.clock = clock;
    o.max_steps_per_command = max_steps;
    engine = Engine::open(o);
    engine->subscribe([this](const Event& e) { seen.push_back(e); });
  }

  void load(const char* relative) { engine->load_definitions(admin, read_json(relative)); }

  const PlanItemInfo& item(const CaseInfo& c, const std::string& id) {
    for (const auto& i : c.items)
      if (i.id == id) return i;
    FAIL("no item " << id);
    return c.items.front();
  }
  ItemState state(const std::string& case_id, const std::string& item_id) {
    auto c = engine->get_case(case_id);
    for (const auto& i : c.items)
      if (i.id == item_id) return i.state;
    FAIL("no item " << item_id << " in " << case_id);
    return ItemState::failed;
  }
  const GoalInfo goal(const std::string& case_id, const std::string& goal_id) {
    auto c = engine->get_case(case_id);
    for (const auto& g : c.goals)
      if (g.id == goal_id) return g;
    FAIL("no goal " << goal_id);
    return {};
  }
  std::size_t count_seen(const std::string& kind, const std::string& field = {}, const std::string& value = {}) {
    std::size_t n = 0;
    for (const auto& e : seen)
      if (e.kind == kind && (field.empty() || (e.payload.contains(field) && e.payload[field] == value))) ++n;
    return n;
  }
  /// The state is the fold of its events.
  void check_fold(const std::string& case_id) {
    Json live = engine->inspect(case_id);
    Json rebuilt = engine->inspect(case_id, true);
    CHECK_MESSAGE(live == rebuilt, "live and rebuilt state differ for " << case_id << "\nlive:    " << live.dump()
                                                                        << "\nrebuilt: " << rebuilt.dump());
  }
};

}  // namespace acm::test
