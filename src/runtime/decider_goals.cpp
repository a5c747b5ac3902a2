// SPDX-License-Identifier: Apache-2.0
// runtime/decider_goals.cpp - the Decider: commands on goals and promises.
#include "runtime/decider.hpp"
#include "runtime/decider_detail.hpp"

#include <acm/error.hpp>

#include "model/json_size.hpp"
#include "model/names.hpp"
#include "model/text.hpp"
#include "runtime/env.hpp"
#include "runtime/json_path.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <unordered_map>

namespace acm::runtime {

using namespace decider_detail;  // NOLINT(google-build-using-namespace): the helpers of decider_detail.hpp

// ---- goals ------------------------------------------------------------------------------

void Decider::add_goal(const GoalSpec& g) {
  const bool creating = creating_;
  if (!creating) {
    require(perm_plan, "add goals");
    require_active("add goals");
  }
  if (g.id.empty()) throw Error(ErrorCode::invalid_argument, "a goal needs an id");
  if (s_.find_goal(g.id)) throw Error(ErrorCode::already_exists, fmt::format("case '{}' already has a goal '{}'", s_.id, g.id));
  if (!g.parent.empty() && !s_.find_goal(g.parent))
    throw Error(ErrorCode::not_found, fmt::format("parent goal '{}' of goal '{}' does not exist", g.parent, g.id));
  if (g.deadline && g.within)
    throw Error(ErrorCode::invalid_argument, fmt::format("goal '{}' has both a deadline and a duration", g.id));
  if (g.within && g.within->count() < 0) throw Error(ErrorCode::invalid_argument, "a goal duration must not be negative");
  if (g.anchor != "goal_added" && g.anchor != "case_created")
    throw Error(ErrorCode::invalid_argument, fmt::format("goal '{}': unknown anchor '{}'", g.id, g.anchor));
  if (!g.criterion.empty()) expr::Expression::parse(g.criterion, model::engine_parse_options());
  std::optional<TimePoint> deadline = g.deadline;
  if (g.within) {
    TimePoint anchor = g.anchor == "case_created" ? s_.created_at : now_;
    deadline = sv_.calendar->add(anchor, *g.within);
  }
  emit(events::GoalAdded{.goal = g, .deadline = deadline});
  if (!creating) settle();
}

void Decider::change_goal(const std::string& goal_id, const GoalChange& c) {
  Goal& g = goal_ref(goal_id);
  if (g.spec.owner != actor_.id) require(perm_plan, "change goals");
  require_active("change goals");
  if (g.status != GoalStatus::open)
    throw Error(ErrorCode::invalid_state, fmt::format("goal '{}' is {}", goal_id, to_string(g.status)));
  events::GoalChanged changes{.goal = goal_id, .name = c.name, .owner = c.owner, .criterion = c.criterion,
                              .required = c.required, .deadline = c.deadline, .milestones = c.milestones};
  if (c.criterion && !c.criterion->empty()) expr::Expression::parse(*c.criterion, model::engine_parse_options());
  if (changes.empty()) return;
  emit(std::move(changes));
  settle();
}

void Decider::cancel_goal(const std::string& goal_id, const std::string& reason) {
  Goal& g = goal_ref(goal_id);
  require(perm_plan, "cancel goals");
  require_active("cancel goals");
  if (g.status != GoalStatus::open)
    throw Error(ErrorCode::invalid_state, fmt::format("goal '{}' is already {}", goal_id, to_string(g.status)));
  emit(events::GoalStatusChanged{.goal = goal_id, .from = GoalStatus::open, .to = GoalStatus::cancelled, .reason = reason});
  // Sub-goals go with their parent, at every depth.
  std::vector<std::string> gone{goal_id};
  for (std::size_t k = 0; k < gone.size(); ++k)
    for (std::size_t i = 0; i < s_.goals.size(); ++i)
      if (s_.goals[i].spec.parent == gone[k] && s_.goals[i].status == GoalStatus::open) {
        gone.push_back(s_.goals[i].spec.id);
        emit(events::GoalStatusChanged{
            .goal = s_.goals[i].spec.id, .from = GoalStatus::open, .to = GoalStatus::cancelled, .reason = "parent cancelled"});
      }
  settle();
}

void Decider::achieve_goal(const std::string& goal_id) {
  Goal& g = goal_ref(goal_id);
  std::string owner = g.spec.owner.empty() ? s_.owner : g.spec.owner;
  if (actor_.id != owner) require(perm_manage, "decide that a goal is achieved");
  require_active("achieve goals");
  if (g.status != GoalStatus::open)
    throw Error(ErrorCode::invalid_state, fmt::format("goal '{}' is already {}", goal_id, to_string(g.status)));
  for (const auto& sub : s_.goals)
    if (sub.spec.parent == goal_id && sub.spec.required && sub.status == GoalStatus::open)
      throw Error(ErrorCode::invalid_state,
                  fmt::format("goal '{}' cannot be achieved: required sub-goal '{}' is open", goal_id, sub.spec.id));
  emit(events::GoalStatusChanged{.goal = goal_id, .from = GoalStatus::open, .to = GoalStatus::achieved, .decision = true});
  settle();
}

void Decider::pause_goal(const std::string& goal_id, const std::string& reason) {
  require(perm_plan, "pause goals");
  require_active("pause goals");
  std::vector<std::string> ids;
  if (goal_id.empty()) {
    for (const Goal& g : s_.goals)
      if (g.status == GoalStatus::open && g.deadline && !g.paused_since) ids.push_back(g.spec.id);
    if (ids.empty()) throw Error(ErrorCode::invalid_state, "no open goal with a running deadline to pause");
  } else {
    const Goal& g = goal_ref(goal_id);
    if (g.status != GoalStatus::open)
      throw Error(ErrorCode::invalid_state, fmt::format("goal '{}' is {}, not open", goal_id, to_string(g.status)));
    if (g.paused_since) throw Error(ErrorCode::invalid_state, fmt::format("goal '{}' is already paused", goal_id));
    ids.push_back(goal_id);
  }
  for (const std::string& id : ids) {
    emit(events::GoalPaused{.goal = id, .reason = reason});
  }
  settle();
}

void Decider::resume_goal(const std::string& goal_id) {
  require(perm_plan, "resume goals");
  require_active("resume goals");
  std::vector<std::string> ids;
  if (goal_id.empty()) {
    for (const Goal& g : s_.goals)
      if (g.paused_since) ids.push_back(g.spec.id);
    if (ids.empty()) throw Error(ErrorCode::invalid_state, "no paused goal to resume");
  } else {
    if (!goal_ref(goal_id).paused_since) throw Error(ErrorCode::invalid_state, fmt::format("goal '{}' is not paused", goal_id));
    ids.push_back(goal_id);
  }
  for (const std::string& id : ids) {
    const Goal& g = goal_ref(id);
    const TimePoint since = *g.paused_since;
    events::GoalResumed p{.goal = id, .paused_for = sv_.calendar->between(since, now_)};
    if (g.deadline) {
      // The working time that was left at the pause, counted again from now.
      const Duration left = std::max(Duration{0}, sv_.calendar->between(since, *g.deadline));
      p.deadline = sv_.calendar->add(now_, left);
    }
    emit(std::move(p));
  }
  settle();
}

// ---- promises ---------------------------------------------------------------------------

void Decider::make_promise(const PromiseSpec& promise) {
  require(perm_plan, "make promises");
  require_active("make promises");
  if (promise.id.empty()) throw Error(ErrorCode::invalid_argument, "a promise needs an id");
  if (s_.find_promise(promise.id)) throw Error(ErrorCode::already_exists, fmt::format("promise '{}' exists", promise.id));
  if (promise.due <= now_)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("promise '{}' is due {}, which is not after now ({})", promise.id, format_time(promise.due),
                            format_time(now_)));
  emit(events::PromiseMade{.id = promise.id, .what = promise.what, .due = promise.due});
  settle();
}

void Decider::keep_promise(const std::string& promise_id) {
  require(perm_plan, "keep promises");
  Promise* x = s_.find_promise(promise_id);
  if (!x) throw Error(ErrorCode::not_found, fmt::format("no promise '{}' in case '{}'", promise_id, s_.id));
  if (x->status != PromiseStatus::open)
    throw Error(ErrorCode::invalid_state, fmt::format("promise '{}' is already {}", promise_id, to_string(x->status)));
  emit(events::PromiseKept{.promise = promise_id});
  settle();
}

void Decider::cancel_promise(const std::string& promise_id, const std::string& reason) {
  require(perm_plan, "cancel promises");
  Promise* x = s_.find_promise(promise_id);
  if (!x) throw Error(ErrorCode::not_found, fmt::format("no promise '{}' in case '{}'", promise_id, s_.id));
  if (x->status != PromiseStatus::open)
    throw Error(ErrorCode::invalid_state, fmt::format("promise '{}' is already {}", promise_id, to_string(x->status)));
  emit(events::PromiseCancelled{.promise = promise_id, .reason = reason});
  settle();
}

}  // namespace acm::runtime
