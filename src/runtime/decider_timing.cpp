// SPDX-License-Identifier: Apache-2.0
// runtime/decider_timing.cpp - the Decider: goal and promise timing (remaining work, risk),
// timers due.
#include "runtime/decider.hpp"
#include "runtime/decider_detail.hpp"

#include <acm/error.hpp>

#include "model/json_size.hpp"
#include "model/names.hpp"
#include "model/text.hpp"
#include "plan/critical_path.hpp"
#include "runtime/env.hpp"
#include "runtime/json_path.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <unordered_map>

namespace acm::runtime {

using namespace decider_detail;  // NOLINT(google-build-using-namespace): the helpers of decider_detail.hpp

// ---- timing -----------------------------------------------------------------------------

Duration Decider::goal_remaining(const Goal& g, std::optional<TimePoint>* next_change, Duration* without_active) const {
  // Goals bound: this one and its sub-goals (transitively).
  std::vector<const std::string*> bound{&g.spec.id};
  for (std::size_t k = 0; k < bound.size(); ++k)
    for (const auto& sub : s_.goals)
      if (sub.spec.parent == *bound[k] && sub.status == GoalStatus::open) bound.push_back(&sub.spec.id);
  auto is_bound = [&](const std::string& goal) {
    for (const auto* b : bound)
      if (*b == goal) return true;
    return false;
  };
  const bool top_level = g.spec.required && g.spec.parent.empty();
  const std::size_t n = s_.items.size();
  s_.ensure_links();
  // Weight of every item that counts (-1: does not count). Scratch buffers are reused.
  thread_local std::vector<std::int64_t> weight, weight0;
  weight.assign(n, -1);
  weight0.assign(n, -1);  // the same with active tasks counted as done
  bool any = false;
  for (std::size_t i = 0; i < n; ++i) {
    const Item& it = s_.items[i];
    if (is_terminal(it.state)) continue;
    // Unbound work serves the case's top-level required goals.
    if (it.goal.empty() ? !top_level : !is_bound(it.goal)) continue;
    Duration w{0};
    const auto& est = it.def->def.estimate;
    if (it.def->def.kind == ItemKind::stage) {
      if (it.state != ItemState::active) {
        if (est) w = *est;
        else if (it.fragment && it.def == &it.fragment->stage) w = it.fragment->total_estimate;
      }
    } else if (est) {
      w = *est;
      if (it.state == ItemState::active && it.activated_at) {
        w = std::max(Duration{0}, *est - sv_.calendar->between(*it.activated_at, now_));
        weight0[i] = 0;
        // Until its estimate is used up an active task's remaining work shrinks as time passes;
        // after that the plan stops shrinking: the goal's risk must be checked again then.
        if (next_change && w.count() > 0) {
          // A projection: beyond the supported years it is simply never.
          std::optional<TimePoint> spent;
          try {
            spent = sv_.calendar->add(*it.activated_at, *est);
          } catch (const Error&) {
          }
          if (spent && (!*next_change || *spent < **next_change)) *next_change = *spent;
        }
      }
    }
    weight[i] = w.count();
    if (weight0[i] < 0) weight0[i] = w.count();
    any = true;
  }
  if (without_active) *without_active = Duration{0};
  if (!any) return Duration{0};
  // The longest path through the items that count, each waiting for its prerequisites:
  // `after` items, then the items its entry on-parts listen to (plan::longest_paths).
  // Definitions and add_dependency keep the graph acyclic; an edge back is ignored anyway.
  auto prereq = [&](std::size_t i, std::size_t pos) -> std::size_t {
    const Item& it = s_.items[i];
    while (pos < it.after_idx.size() && it.after_idx[pos] == Item::npos) ++pos;  // not created yet
    if (pos < it.after_idx.size()) return it.after_idx[pos];
    pos -= it.after_idx.size();
    for (std::size_t l : it.onpart_lists) {  // items its entry on-parts listen to (itself: ignored)
      const auto& list = s_.def_lists[l];
      if (pos < list.size()) return list[pos];
      pos -= list.size();
    }
    return plan::kNoNode;
  };
  thread_local plan::PathScratch scratch;
  const plan::PathLengths best = plan::longest_paths(weight, weight0, prereq, scratch);
  if (without_active) *without_active = Duration{best.longest_alt};
  return Duration{best.longest};
}

void Decider::update_timing(bool emit_events) {
  bool live = s_.status == CaseStatus::active || s_.status == CaseStatus::suspended;
  // A learned forecast (EngineOptions::forecaster) can raise at-risk early for the case's
  // top-level required goals: the case is expected to finish after their deadline.
  TimePoint forecast_at{};
  bool asked = false, have_forecast = false;
  auto forecast_late = [&](const Goal& g) {
    if (!sv_.options->forecaster || !g.deadline || !g.spec.parent.empty() || !g.spec.required) return false;
    if (!asked) {
      asked = true;
      try {
        if (std::optional<TimePoint> f = sv_.options->forecaster(to_info(s_), now_)) {
          forecast_at = *f;
          have_forecast = true;
        }
      } catch (...) {
        have_forecast = false;  // a failing forecaster counts as no forecast
      }
    }
    return have_forecast && forecast_at > *g.deadline;
  };
  for (std::size_t gi = 0; gi < s_.goals.size(); ++gi) {
    Goal& g = s_.goals[gi];
    g.risk_at.reset();
    if (g.status != GoalStatus::open || !live || g.paused_since) continue;
    std::optional<TimePoint> next_change;
    Duration without_active{0};
    g.remaining_work = goal_remaining(g, &next_change, &without_active);
    Timing t = Timing::on_track;
    if (g.deadline && now_ >= *g.deadline) {
      t = Timing::overdue;
    } else if (g.deadline) {
      TimePoint latest = sv_.calendar->latest_start(*g.deadline, g.remaining_work);
      if (now_ > latest || forecast_late(g)) {
        t = Timing::at_risk;
      } else if (g.remaining_work.count() > 0) {
        // When to look again. Without active tasks the remaining work is fixed and the goal
        // turns at risk just after `latest`. An active task's remaining work shrinks as time
        // passes, so `latest` moves with the clock: the paths through it cannot turn the goal
        // at risk before the task's estimate is used up (`next_change`); the other paths can,
        // at the latest start computed with those tasks counted as done.
        if (!next_change) {
          g.risk_at = latest + Duration{1};
        } else {
          g.risk_at = next_change;
          TimePoint other = sv_.calendar->latest_start(*g.deadline, without_active) + Duration{1};
          if (other > now_ && other < *g.risk_at) g.risk_at = other;
        }
      }
    }
    if (t != g.timing && emit_events) {
      emit(events::GoalTiming{
          .goal = g.spec.id, .from = g.timing, .to = t, .remaining_work = g.remaining_work, .deadline = g.deadline});
      if (t == Timing::at_risk || t == Timing::overdue)
        pending_escalations_.push_back({t == Timing::at_risk ? "goal_at_risk" : "goal_overdue", s_.goals[gi].spec.id, {}});
    }
  }
  update_promises(emit_events);
}

void Decider::update_promises(bool emit_events) {
  const bool live = s_.status == CaseStatus::active || s_.status == CaseStatus::suspended;
  const bool done = s_.status == CaseStatus::completed || s_.status == CaseStatus::closed;
  // The plan's estimate: the longest remaining work of the open goals.
  Duration remaining{0};
  for (const Goal& g : s_.goals)
    if (g.status == GoalStatus::open) remaining = std::max(remaining, g.remaining_work);
  std::optional<TimePoint> forecast;
  bool asked = false;
  const Duration warning = sv_.options->promise_warning;
  for (std::size_t i = 0; i < s_.promises.size(); ++i) {
    Promise& x = s_.promises[i];
    x.risk_at.reset();
    if (x.status != PromiseStatus::open) continue;
    const std::string id = x.id;
    if (done || s_.status == CaseStatus::terminated) {
      if (!emit_events) continue;
      if (done && now_ <= x.due) emit(events::PromiseKept{.promise = id});
      else emit(events::PromiseBroken{.promise = id, .due = x.due, .reason = done ? "completed late" : "case terminated"});
      continue;
    }
    if (!live) continue;
    if (now_ >= x.due) {
      if (emit_events) emit(events::PromiseBroken{.promise = id, .due = x.due, .reason = "due passed"});
      continue;
    }
    // A projection: work that ends beyond the supported years ends at their end.
    TimePoint expected = kLatestTime;
    try {
      expected = sv_.calendar->add(now_, remaining);
    } catch (const Error&) {
    }
    if (sv_.options->forecaster) {
      if (!asked) {
        asked = true;
        try {
          forecast = sv_.options->forecaster(to_info(s_), now_);
        } catch (...) {
          forecast.reset();  // a failing forecaster falls back to the plan
        }
      }
      if (forecast) expected = std::max(*forecast, now_);
    }
    // At risk when the expected completion is after the promise, or when less than the
    // warning window is left (so a warning always comes before a broken promise).
    const TimePoint warn_at = x.due - warning;
    const Timing t = (expected > x.due || now_ >= warn_at) ? Timing::at_risk : Timing::on_track;
    if (t == Timing::on_track) {
      TimePoint risk = warn_at;
      if (remaining.count() > 0) risk = std::min(risk, sv_.calendar->latest_start(x.due, remaining) + Duration{1});
      s_.promises[i].risk_at = std::max(risk, now_ + Duration{1});
    }
    // The first evaluation records the expected completion too (from == to).
    if ((t != s_.promises[i].timing || !s_.promises[i].expected) && emit_events)
      emit(events::PromiseTiming{.promise = id, .from = s_.promises[i].timing, .to = t, .expected = expected,
                                 .due = s_.promises[i].due, .source = forecast ? "forecast" : "plan"});
  }
}

void Decider::refresh_derived(CaseState& state, const Services& services, TimePoint now) {
  Actor engine;
  Decider d(state, services, engine, now);
  d.update_timing(false);
}

std::optional<TimePoint> Decider::next_due(const CaseState& s) {
  std::optional<TimePoint> best;
  auto consider = [&](std::optional<TimePoint> t) {
    if (t && (!best || *t < *best)) best = t;
  };
  if (s.status == CaseStatus::active) {
    for (const auto& it : s.items) {
      if (is_terminal(it.state)) continue;
      if (it.state == ItemState::available && it.timer_at) {
        // A timer in a suspended stage waits for the stage to resume.
        const Item* parent = it.parent.empty() ? nullptr : s.find_item(it.parent);
        if (!parent || parent->state == ItemState::active) consider(it.timer_at);
      }
      if (!it.overdue) consider(it.due);
    }
  }
  if (s.status == CaseStatus::active || s.status == CaseStatus::suspended) {
    for (const auto& g : s.goals) {
      if (g.status != GoalStatus::open || !g.deadline || g.paused_since) continue;
      if (g.timing != Timing::overdue) consider(g.deadline);
      if (g.timing == Timing::on_track) consider(g.risk_at);
    }
    for (const auto& x : s.promises) {
      if (x.status != PromiseStatus::open) continue;
      consider(x.due);
      if (x.timing == Timing::on_track) consider(x.risk_at);
    }
  }
  return best;
}

std::size_t Decider::fire_due() {
  std::size_t fired = 0;
  emit_actor_.clear();
  for (std::size_t guard = 0; guard < 100000; ++guard) {
    auto due = next_due(s_);
    if (!due || *due > now_) break;
    bool did = false;
    // Timer listeners and item deadlines due at exactly this time, in item order.
    if (s_.status == CaseStatus::active) {
      for (std::size_t i = 0; i < s_.items.size() && !did; ++i) {
        const Item& it = s_.items[i];
        if (is_terminal(it.state)) continue;
        if (it.state == ItemState::available && it.timer_at == due && parent_active(it)) {
          transition(i, "occur", ItemState::completed);
          after_complete(i);
          did = true;
        } else if (!it.overdue && it.due == due) {
          pending_escalations_.push_back({"item_overdue", it.id, it.def->def.id});
          emit(events::ItemOverdue{.item = it.id, .due = *due});
          did = true;
        }
      }
    }
    if (did) {
      ++fired;
      settle();
      continue;
    }
    // A goal deadline or risk time: recompute timing.
    auto before = s_.version;
    update_timing(true);
    if (s_.version != before) ++fired;
    auto again = next_due(s_);
    if (again && *again == *due) break;  // nothing consumed it: do not spin
    if (s_.version != before) settle();
  }
  return fired;
}

}  // namespace acm::runtime
