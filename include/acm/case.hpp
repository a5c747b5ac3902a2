// SPDX-License-Identifier: Apache-2.0
// acm/case.hpp - read-only views of a case: status, goals, plan items, case file, history.
#pragma once

#include <acm/definition.hpp>
#include <acm/json.hpp>
#include <acm/time.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace acm {

/// Who is acting: an id and the global roles the host vouches for. Every command takes one.
/// A role listed in EngineOptions::admin_roles (default "admin") may do everything.
struct Actor {
  std::string id;
  std::vector<std::string> roles;
};

/// Case lifecycle. completed/terminated cases can be reopened; closed is final except for
/// administrators (reopen).
enum class CaseStatus { active, suspended, completed, terminated, closed };

/// CMMN 1.1 plan item states.
enum class ItemState { available, enabled, disabled, active, suspended, completed, terminated, failed };

/// Whether a goal is open, achieved or cancelled.
enum class GoalStatus { open, achieved, cancelled };

/// Where an open goal stands against its deadline.
enum class Timing {
  on_track,  ///< no deadline, or the remaining work fits before it
  at_risk,   ///< the estimated remaining critical path ends after the deadline
  overdue,   ///< the deadline has passed
};

/// The customer (or other party) the case is about.
struct Subject {
  std::string customer;                  ///< customer id ("" = none)
  Json attributes = Json::object();      ///< e.g. {"value": 12000, "influence": 0.9, "tier": "gold"}
};

/// Someone brought into the case, with case roles ("agent", "supplier", "customer", ...).
struct Participant {
  std::string actor;
  std::vector<std::string> roles;
};

/// A document, link or note in the case file.
struct Asset {
  std::string id;    ///< assigned by the engine when empty
  std::string kind;  ///< "document", "link" or "note"
  std::string title;
  std::string uri;   ///< documents and links
  std::string text;  ///< notes
  std::string media_type;
  Json metadata = Json::object();
  TimePoint added_at{};
  std::string added_by;
};

struct GoalInfo {
  std::string id, name, owner, parent;
  bool required = true;
  GoalStatus status = GoalStatus::open;
  Timing timing = Timing::on_track;
  std::optional<TimePoint> deadline;
  std::string criterion;
  std::vector<std::string> milestones;
  bool decision = false;
  std::optional<TimePoint> achieved_at;
  /// Estimated remaining critical path of the work bound to this goal (and its sub-goals).
  Duration remaining_work{0};
  /// Set while the goal's clock is stopped (Engine::pause_goal), e.g. waiting on the customer.
  std::optional<TimePoint> paused_since;
};

/// What became of a promise made to the customer.
enum class PromiseStatus { open, kept, broken, cancelled };

/// A promise made to the customer on a case: what, by when; tracked against the expected
/// completion (learned forecast when the host installs one, the plan's estimates otherwise).
struct PromiseInfo {
  std::string id;
  std::string what;
  TimePoint due{};
  PromiseStatus status = PromiseStatus::open;
  Timing timing = Timing::on_track;      ///< at_risk: expected completion after `due`
  std::optional<TimePoint> expected;     ///< the latest expected completion
};

struct PlanItemInfo {
  std::string id;        ///< unique in the case, e.g. "diagnosis#1/examine" or "task#3"
  std::string def_id;    ///< id of its definition in the fragment
  std::string name;
  ItemKind kind = ItemKind::human_task;
  ItemState state = ItemState::available;
  std::string parent;    ///< enclosing stage item id ("" = the case plan)
  std::string fragment;  ///< fragment id it came from ("" for ad-hoc tasks)
  int fragment_version = 0;
  std::string goal;      ///< goal the work is bound to
  std::string role;
  std::vector<std::string> skills;
  std::string assignee;
  std::optional<Duration> estimate;
  std::optional<TimePoint> due;
  bool required = false;
  bool manual = false;   ///< manual activation
  int repetition = 0;    ///< 0 for the first instance, 1 for its first repetition, ...
  std::vector<std::string> after;  ///< item ids this item waits for
  std::optional<TimePoint> activated_at, ended_at;
};

/// A snapshot of a whole case.
struct CaseInfo {
  std::string id;
  std::string type;  ///< case type id ("" for a bare case)
  int type_version = 0;
  std::string title;
  Subject subject;
  std::string owner;
  std::vector<Participant> participants;
  int priority = 0;
  CaseStatus status = CaseStatus::active;
  Json file = Json::object();
  std::vector<Asset> assets;
  std::vector<GoalInfo> goals;
  std::vector<PlanItemInfo> items;
  std::vector<PromiseInfo> promises;
  std::uint64_t version = 0;  ///< number of events in the history
  TimePoint created_at{};
  std::optional<TimePoint> next_deadline;
};

/// One entry of a case history; also what subscribers receive.
struct Event {
  std::string case_id;
  std::uint64_t seq = 0;  ///< 1, 2, ... within the case
  TimePoint time{};
  std::string actor;      ///< "" for the engine itself (timers, sentries)
  std::string kind;       ///< see docs/semantics.md, e.g. "item_transition", "goal_timing"
  Json payload;
};

std::string_view to_string(CaseStatus s) noexcept;
std::string_view to_string(ItemState s) noexcept;
std::string_view to_string(GoalStatus s) noexcept;
std::string_view to_string(Timing t) noexcept;
std::string_view to_string(PromiseStatus s) noexcept;
/// JSON form of views (as shown by the CLI and the bindings).
Json to_json(const CaseInfo& c);
Json to_json(const Event& e);

}  // namespace acm
