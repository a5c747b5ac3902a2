// SPDX-License-Identifier: Apache-2.0
// runtime/decider_settle.cpp - the Decider: settling to a fixed point: sentries, goal criteria,
// case completion (and cmmn semantics).
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

// ---- the fixed point --------------------------------------------------------------------

bool Decider::parent_active(const Item& it) const {
  if (s_.status != CaseStatus::active) return false;
  if (it.parent.empty()) return true;
  s_.ensure_links();
  return it.parent_idx != Item::npos && s_.items[it.parent_idx].state == ItemState::active;
}

bool Decider::after_done(const Item& it) const {
  s_.ensure_links();
  for (std::size_t a : it.after_idx)
    if (a == Item::npos || s_.items[a].state != ItemState::completed) return false;
  return true;
}

bool Decider::sentry_fires(const Item& it, const CSentry& s, const std::vector<char>& flags) const {
  for (char f : flags)
    if (!f) return false;
  if (s.condition.empty()) return true;
  CaseEnv env(s_, now_, &it, current_event_);
  return s.condition.test(env);
}

bool Decider::stage_can_complete(const Item& stage) const {
  bool any_child = false;
  for (const auto& c : s_.items) {
    if (c.parent != stage.id) continue;
    any_child = true;
    // cmmn: an available event listener that no sentry refers to cannot change anything and
    // does not hold its stage open (it ends with the stage).
    if (c.state == ItemState::available && cmmn_item(c) &&
        (c.def->def.kind == ItemKind::user_listener || c.def->def.kind == ItemKind::timer_listener)) {
      bool referenced = false;
      listener_orphaned(c, &referenced);
      if (!referenced) continue;
    }
    if (c.state == ItemState::active || c.state == ItemState::suspended || c.state == ItemState::failed) return false;
    // Required means completed; cmmn: or terminated (both peers let an exited required child
    // end its stage).
    if (c.required && c.state != ItemState::completed && !(cmmn_item(c) && c.state == ItemState::terminated))
      return false;
    if (!stage.def->def.auto_complete && !(is_terminal(c.state) || c.state == ItemState::disabled)) return false;
  }
  (void)any_child;
  return true;
}

bool Decider::step_item(std::size_t idx) {
  const Item& it = s_.items[idx];
  if (is_terminal(it.state)) return false;
  // Cheap exits first: only available items, active stages and items with exit criteria can move.
  if (it.def->exit.empty() && it.state != ItemState::available &&
      !(it.state == ItemState::active && it.def->def.kind == ItemKind::stage))
    return false;
  if (!parent_active(it)) return false;
  // Exit criteria.
  for (std::size_t k = 0; k < it.def->exit.size(); ++k) {
    if (sentry_fires(it, it.def->exit[k], it.exit_flags[k])) {
      terminate_tree(idx, "exit");
      return true;
    }
  }
  ItemKind kind = it.def->def.kind;
  switch (it.state) {
    case ItemState::available: {
      if (kind == ItemKind::user_listener || kind == ItemKind::timer_listener) {
        // cmmn: a listener that sentries refer to but none of them can fire any more is removed
        // (as Flowable does), so that it does not hold its stage open.
        if (cmmn_item(it) && listener_orphaned(it)) {
          terminate_tree(idx, "exit");
          return true;
        }
        return false;
      }
      if (!after_done(it)) return false;
      bool has_entry = !it.def->entry.empty();
      if (has_entry) {
        bool any = false;
        for (std::size_t k = 0; k < it.def->entry.size() && !any; ++k) any = sentry_fires(it, it.def->entry[k], it.entry_flags[k]);
        if (!any) {
          // cmmn: a child's entry criterion satisfied from outside the stage starts the stage (as
          // Flowable does); the child then starts with it.
          if (kind != ItemKind::stage || !cross_border_ready(it)) return false;
          activate(idx, "start");
          return true;
        }
      }
      const std::string id = it.id;
      if (kind == ItemKind::milestone) {
        // acm: a milestone with neither entry criteria nor `after` is declared by a person
        // (occur); cmmn: it occurs as soon as its stage is active.
        if (!has_entry && it.after.empty() && !cmmn_item(it)) return false;
        transition(idx, "occur", ItemState::completed);
        after_complete(idx);
      } else {
        CaseEnv env(s_, now_, &it);
        if (eval_condition(it.def->manual, env, false)) {
          transition(idx, "enable", ItemState::enabled);
        } else {
          activate(idx, "start");
        }
      }
      // cmmn: the next instance waits for the entry criterion to be satisfied again.
      if (has_entry) {
        const std::size_t self = s_.item_index.at(id);
        if (repeats_on_entry(s_.items[self])) repeat(self);
      }
      return true;
    }
    case ItemState::active:
      if (kind == ItemKind::stage && stage_can_complete(it)) {
        std::string id = it.id;
        for (std::size_t c = 0; c < s_.items.size(); ++c)
          // acm: disabled children stay disabled; cmmn: they end with their stage.
          if (s_.items[c].parent == id && !is_terminal(s_.items[c].state) &&
              (s_.items[c].state != ItemState::disabled || cmmn_item(s_.items[c])))
            terminate_tree(c, "parent_terminate");
        std::size_t self = s_.item_index.at(id);
        transition(self, "complete", ItemState::completed);
        after_complete(self);
        return true;
      }
      return false;
    default:
      return false;
  }
}

bool Decider::evaluate_goals() {
  bool changed = false;
  for (std::size_t gi = 0; gi < s_.goals.size(); ++gi) {
    const Goal& g = s_.goals[gi];
    if (g.status != GoalStatus::open || g.spec.decision) continue;
    bool has_required_subgoals = false, subgoals_done = true;
    for (const auto& sub : s_.goals) {
      if (sub.spec.parent != g.spec.id || !sub.spec.required || sub.status == GoalStatus::cancelled) continue;
      has_required_subgoals = true;
      if (sub.status != GoalStatus::achieved) subgoals_done = false;
    }
    // Nothing to check (no criterion, milestones or required sub-goals): a person decides.
    if (g.criterion.empty() && g.spec.milestones.empty() && !has_required_subgoals) continue;
    if (!subgoals_done) continue;
    bool ok = true;
    for (const auto& m : g.spec.milestones) {
      bool reached = false;
      for (const auto& it : s_.items)
        if ((it.id == m || it.def->def.id == m) && it.def->def.kind == ItemKind::milestone && it.state == ItemState::completed)
          reached = true;
      if (!reached) {
        ok = false;
        break;
      }
    }
    if (ok && !g.criterion.empty()) {
      CaseEnv env(s_, now_);
      ok = g.criterion.test(env);
    }
    if (ok) {
      emit(events::GoalStatusChanged{.goal = g.spec.id, .from = GoalStatus::open, .to = GoalStatus::achieved});
      ++steps_;
      changed = true;
    }
  }
  return changed;
}

bool Decider::check_case_completion() {
  if (s_.status != CaseStatus::active || s_.hold_open) return false;
  if (const auto plans = cmmn_case() ? plan_stages() : std::vector<std::size_t>{}; !plans.empty()) {
    // cmmn: the case follows its case plan model (the stages of its initial fragments).
    bool terminated = false, completed = true;
    for (std::size_t p : plans) {
      terminated = terminated || s_.items[p].state == ItemState::terminated;
      completed = completed && s_.items[p].state == ItemState::completed;
    }
    if (!terminated) {
      if (!completed) return false;
      for (const auto& it : s_.items) {
        if (!it.parent.empty()) continue;
        if (it.state == ItemState::active || it.state == ItemState::suspended || it.state == ItemState::failed)
          return false;
        if (it.required && it.state != ItemState::completed && it.state != ItemState::terminated) return false;
      }
    }
    for (std::size_t i = 0; i < s_.items.size(); ++i)
      if (s_.items[i].parent.empty() && !is_terminal(s_.items[i].state)) terminate_tree(i, "exit");
    emit(events::CaseStatusChanged{
        .from = CaseStatus::active,
        .to = terminated ? CaseStatus::terminated : CaseStatus::completed,
        .reason = terminated ? "the case plan model was terminated" : "the case plan model completed"});
    return true;
  }
  bool any_required = false;
  for (const auto& g : s_.goals) {
    if (!g.spec.required || g.status == GoalStatus::cancelled) continue;
    any_required = true;
    if (g.status != GoalStatus::achieved) return false;
  }
  if (!any_required) return false;
  for (const auto& it : s_.items) {
    if (it.state == ItemState::active || it.state == ItemState::suspended) return false;
    if (it.required && it.state != ItemState::completed && it.state != ItemState::terminated) return false;
  }
  for (std::size_t i = 0; i < s_.items.size(); ++i)
    if (s_.items[i].parent.empty() && !is_terminal(s_.items[i].state)) terminate_tree(i, "exit");
  emit(events::CaseStatusChanged{
      .from = CaseStatus::active, .to = CaseStatus::completed, .reason = "all required goals achieved"});
  return true;
}

// ---- Semantics::cmmn --------------------------------------------------------------------

bool Decider::cmmn_case() const { return s_.type && s_.type->def.semantics == Semantics::cmmn; }

// The case plan model: the stages of the case type's initial fragments, created first.
std::vector<std::size_t> Decider::plan_stages() const {
  std::vector<std::size_t> out;
  if (!s_.type) return out;
  const std::size_t want = s_.type->def.initial_fragments.size();
  for (std::size_t i = 0; i < s_.items.size() && out.size() < want; ++i) {
    const Item& it = s_.items[i];
    if (it.parent.empty() && it.fragment && it.def == &it.fragment->stage) out.push_back(i);
  }
  return out;
}

// Whether sentries refer to this listener (`referenced`) but none of them can fire any more:
// the sentry's item has no instance that could still use it (entry criteria: an available
// instance; exit criteria: any unfinished one) and none can be created (no enclosing stage
// instance that has yet to start).
bool Decider::listener_orphaned(const Item& listener, bool* referenced) const {
  const CFragment& f = *listener.fragment;
  const std::string& lid = listener.def->def.id;
  const std::string& root = listener.frag_root;
  bool refs = false;
  for (const auto& x : f.exit)
    if (refers_to(x, lid)) {
      refs = true;
      const Item* stage = s_.find_item(root);
      if (stage && !is_terminal(stage->state)) {
        if (referenced) *referenced = true;
        return false;
      }
    }
  std::unordered_map<const CItem*, const CItem*> parent;
  auto instances_can = [&](const CItem* d, bool entry) {
    bool live = false;
    for (const auto& it : s_.items) {
      if (it.def != d || it.frag_root != root || is_terminal(it.state)) continue;
      live = true;
      if (!entry || it.state == ItemState::available) return true;
    }
    if (live) return false;
    // No unfinished instance: one is still to come if an enclosing stage has yet to start.
    if (parent.empty()) collect_parents(nullptr, f.items, parent);
    for (const CItem* p = parent[d]; p; p = parent[p]) {
      bool any = false;
      for (const auto& it : s_.items) {
        if (it.def != p || it.frag_root != root || is_terminal(it.state)) continue;
        any = true;
        if (not_started(it.state)) return true;
      }
      if (any) return false;
    }
    return false;
  };
  for (const auto& [id, d] : f.by_id) {
    for (int entry = 1; entry >= 0; --entry)
      for (const auto& x : entry ? d->entry : d->exit) {
        if (!refers_to(x, lid)) continue;
        refs = true;
        if (instances_can(d, entry == 1)) {
          if (referenced) *referenced = true;
          return false;
        }
      }
  }
  if (referenced) *referenced = refs;
  return refs;
}

// An available cmmn stage whose descendant has an entry criterion that refers to items outside
// the stage and is satisfied by item transitions of this command (and its if-part holds).
bool Decider::cross_border_ready(const Item& stage) const {
  if (!cmmn_item(stage) || stage.def == &stage.fragment->stage) return false;
  const auto seen = command_transitions(s_, events_, stage.frag_root);
  if (seen.empty()) return false;
  std::vector<const CItem*> inside;
  collect_descendants(stage.def->children, inside);
  auto is_inside = [&](const std::string& id) {
    if (id == stage.def->def.id) return true;
    for (const CItem* c : inside)
      if (c->def.id == id) return true;
    return false;
  };
  for (const CItem* d : inside) {
    // Only for an item that has had no instance in this case plan yet (as Flowable).
    bool existed = false;
    for (const auto& it : s_.items)
      if (it.def == d && it.frag_root == stage.frag_root) existed = true;
    if (existed) continue;
    for (const auto& x : d->entry) {
      if (x.on_parts.empty()) continue;
      bool crosses = false, all = true;
      for (const auto& op : x.on_parts) {
        if (op.source != OnPartSource::item ||
            std::find(seen.begin(), seen.end(), std::pair<std::string, std::string>{op.ref, op.on}) == seen.end()) {
          all = false;
          break;
        }
        if (!is_inside(op.ref)) crosses = true;
      }
      if (!all || !crosses) continue;
      if (!x.condition.empty()) {
        CaseEnv env(s_, now_, &stage, current_event_);
        if (!x.condition.test(env)) continue;
      }
      return true;
    }
  }
  return false;
}

void Decider::settle() {
  std::string saved_actor = emit_actor_;
  emit_actor_.clear();  // what follows is the engine's doing
  const std::size_t max_steps = sv_.options->max_steps_per_command;
  for (int round = 0;; ++round) {
  bool changed = s_.status == CaseStatus::active;
  while (changed && !halted_) {
    changed = false;
    for (std::size_t i = 0; i < s_.items.size(); ++i) {
      if (step_item(i)) changed = true;
      if (steps_ > max_steps || halted_) break;
    }
    if (steps_ <= max_steps && evaluate_goals()) changed = true;
    if (steps_ > max_steps) {
      emit(events::ErrorRecorded{.message = fmt::format("sentry evaluation did not reach a fixed point within {} steps; "
                                                        "evaluation stopped (check repetition rules and sentries that "
                                                        "re-trigger each other)",
                                                        max_steps)});
      halted_ = true;
      break;
    }
    if (check_case_completion()) changed = false;
  }
  update_timing(true);
  // Escalations may bring in people or add work; the new work settles in another round.
  // Rounds are bounded (each rule fires a bounded number of times per target anyway).
  if (pending_escalations_.empty() || halted_ || round >= 4 || !run_escalations()) break;
  }
  apply_priority_policy();
  emit_actor_ = saved_actor;
}

}  // namespace acm::runtime
