// SPDX-License-Identifier: Apache-2.0
// runtime/decider_work.cpp - the Decider: work on plan items: transitions, automated tasks, the
// item commands.
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

// ---- work -------------------------------------------------------------------------------

void Decider::transition(std::size_t idx, std::string_view name, ItemState to) {
  const Item& it = s_.items[idx];
  events::ItemTransition p{.item = it.id, .transition = std::string(name), .from = it.state, .to = to};
  if (to == ItemState::active && (it.state == ItemState::available || it.state == ItemState::enabled) && it.def->def.due)
    p.due = sv_.calendar->add(now_, *it.def->def.due);
  if (to == ItemState::active && (it.state == ItemState::available || it.state == ItemState::enabled) &&
      it.def->def.kind == ItemKind::stage && cmmn_item(it)) {
    // cmmn: the children created now count the item transitions that happened earlier in this
    // command as if they had existed (the fold marks their on-parts from this list).
    Json seen = Json::array();
    for (auto& [def, name] : command_transitions(s_, events_, it.frag_root)) seen.push_back(Json::array({def, name}));
    if (!seen.empty()) p.seen = std::move(seen);
  }
  const bool starting = (to == ItemState::active || to == ItemState::enabled) && it.state != ItemState::active &&
                        it.state != ItemState::enabled;
  emit(std::move(p));
  ++steps_;
  if (starting) assign_default(idx);
}

// A human task's default assignee (ItemDef::assignee) takes it when it becomes enabled or
// active, if it is still unassigned, through the ordinary `item_assigned` event.
void Decider::assign_default(std::size_t idx) {
  const Item& it = s_.items[idx];
  const ItemDef& d = it.def->def;
  if (d.assignee.empty() || !it.assignee.empty() || d.kind != ItemKind::human_task) return;
  const Participant* part = s_.participant(d.assignee);
  std::string why;
  if (d.assignee != s_.owner) {
    if (!part)
      why = "is not a participant of the case";
    else if (!d.role.empty() && !contains(part->roles, d.role) && !contains(d.candidate_users, d.assignee))
      why = fmt::format("lacks the case role '{}'", d.role);
  }
  if (!why.empty()) {
    emit(events::ErrorRecorded{
        .item = it.id,
        .message = fmt::format("'{}' is left unassigned: its default assignee '{}' {}", it.id, d.assignee, why)});
    return;
  }
  emit(events::ItemAssigned{.item = it.id, .from = "", .to = d.assignee});
}

void Decider::terminate_tree(std::size_t idx, std::string_view name) {
  std::string id = s_.items[idx].id;
  // Children first, so that the stage ends last.
  for (std::size_t i = 0; i < s_.items.size(); ++i)
    if (s_.items[i].parent == id && !is_terminal(s_.items[i].state)) terminate_tree(i, "parent_terminate");
  std::size_t self = s_.item_index.at(id);
  const Item& it = s_.items[self];
  if (is_terminal(it.state)) return;
  bool event_like = it.def->def.kind == ItemKind::milestone || it.def->def.kind == ItemKind::timer_listener ||
                    it.def->def.kind == ItemKind::user_listener;
  transition(self, event_like && name == "exit" ? "terminate" : name, ItemState::terminated);
}

void Decider::activate(std::size_t idx, std::string_view name) {
  transition(idx, name, ItemState::active);
  const ItemDef& def = s_.items[idx].def->def;
  if (def.kind == ItemKind::automated_task) {
    run_handler(idx);
  } else if (def.kind == ItemKind::human_task && !def.blocking) {
    // Non-blocking (CMMN isBlocking="false"): done as soon as it is started.
    transition(idx, "complete", ItemState::completed);
    after_complete(idx);
  }
}

void Decider::run_handler(std::size_t idx) {
  const Item& it = s_.items[idx];
  auto h = sv_.handler ? sv_.handler(it.def->def.handler) : nullptr;
  if (!h || !*h) return;  // stays active until the host completes it or registers a handler
  TaskContext ctx;
  ctx.case_id = s_.id;
  ctx.item_id = it.id;
  ctx.handler = it.def->def.handler;
  ctx.input = it.def->def.input;
  if (!it.frag_root.empty())
    if (const Item* root = s_.find_item(it.frag_root)) ctx.input = Json{{"input", it.def->def.input}, {"params", root->params}};
  ctx.case_file = s_.file;
  ctx.now = now_;
  TaskResult r;
  try {
    r = (*h)(ctx);
  } catch (const std::exception& ex) {
    r.ok = false;
    r.error = ex.what();
  } catch (...) {
    r.ok = false;
    r.error = "unknown exception";
  }
  std::string id = s_.items[idx].id;
  if (r.ok) {
    const std::string& out = s_.items[idx].def->def.output;
    if (!out.empty() && !r.output.is_null()) {
      try {
        check_value(r.output, "the handler's output");
        json_path::check_settable(s_.file, out);
        emit(events::FileSet{.path = out, .value = r.output, .item = id});
      } catch (const Error& e) {
        r.ok = false;
        r.error = std::string("cannot store the output: ") + e.what();
      }
    }
  }
  idx = s_.item_index.at(id);
  if (s_.items[idx].state != ItemState::active) return;  // an exit criterion may have fired
  if (r.ok) {
    transition(idx, "complete", ItemState::completed);
    after_complete(idx);
  } else {
    emit(events::ItemTransition{.item = id,
                                .transition = "fault",
                                .from = ItemState::active,
                                .to = ItemState::failed,
                                .error = model::to_valid_utf8(r.error)});
  }
}

void Decider::after_complete(std::size_t idx) {
  // cmmn: an item with entry criteria got its next instance when its criterion was satisfied.
  if (repeats_on_entry(s_.items[idx])) return;
  repeat(idx);
}

void Decider::repeat(std::size_t idx) {
  const Item& it = s_.items[idx];
  if (it.def->repetition.empty() || it.owned_def) return;
  CaseEnv env(s_, now_, &it);
  if (!it.def->repetition.test(env)) return;
  std::string base = it.frag_root + "/" + it.def->def.id;
  int n = counter(s_, base) + 1;
  std::string id = fmt::format("{}@{}", base, n);
  emit(events::ItemCreated{.item = id, .like = it.id, .repetition = n - 1});
  ++steps_;
}

void Decider::start_item(const std::string& item) {
  require_active("start items");
  std::size_t i = item_index(item, "start");
  require_work_on(s_.items[i], "start");
  const Item& it = s_.items[i];
  if (it.state != ItemState::enabled)
    throw Error(ErrorCode::invalid_state,
                fmt::format("cannot start '{}': it is {} (only enabled items, which wait for a person, can be started)", item,
                            to_string(it.state)));
  if (it.assignee.empty()) emit(events::ItemAssigned{.item = it.id, .from = "", .to = actor_.id});
  activate(i, "manual_start");
  settle();
}

void Decider::complete_item(const std::string& item, const Json& output) {
  require_active("complete items");
  check_value(output, fmt::format("the output of '{}'", item));
  std::size_t i = item_index(item, "complete");
  const Item& it = s_.items[i];
  require_work_on(it, "complete");
  if (it.state != ItemState::active)
    throw Error(ErrorCode::invalid_state, fmt::format("cannot complete '{}': it is {}, not active", item, to_string(it.state)));
  ItemKind kind = it.def->def.kind;
  if (kind == ItemKind::stage) {
    for (const auto& c : s_.items)
      if (c.parent == item && (c.state == ItemState::active || c.state == ItemState::suspended || c.state == ItemState::failed))
        throw Error(ErrorCode::invalid_state, fmt::format("cannot complete stage '{}': '{}' is {}", item, c.id, to_string(c.state)));
      else if (c.parent == item && c.required && c.state != ItemState::completed &&
               !(cmmn_item(c) && c.state == ItemState::terminated))
        throw Error(ErrorCode::invalid_state,
                    fmt::format("cannot complete stage '{}': required item '{}' is {}", item, c.id, to_string(c.state)));
  }
  // cmmn: an item without an output path takes an object of case variables, set at the root of
  // the case file before the completion is evaluated (CMMN engines complete a task with variables).
  const bool to_root = !output.is_null() && it.def->def.output.empty() && cmmn_item(it) && output.is_object();
  if (!output.is_null()) {
    const std::string& out = it.def->def.output;
    if (to_root) {
      for (const auto& [key, value] : output.items()) json_path::check_settable(s_.file, key);
    } else if (out.empty()) {
      throw Error(ErrorCode::invalid_argument, fmt::format("'{}' has no output path; set case-file values instead", item));
    } else {
      json_path::check_settable(s_.file, out);
    }
  }
  if (it.assignee.empty() && kind != ItemKind::stage) emit(events::ItemAssigned{.item = it.id, .from = "", .to = actor_.id});
  if (to_root) {
    for (const auto& [key, value] : output.items()) {
      const Json* cur = json_path::find(s_.file, key);
      if (!cur || *cur != value) emit(events::FileSet{.path = key, .value = value, .item = item});
    }
  } else if (!output.is_null()) {
    emit(events::FileSet{.path = s_.items[i].def->def.output, .value = output, .item = item});
  }
  i = s_.item_index.at(item);
  if (kind == ItemKind::stage) {
    std::string id = item;
    for (std::size_t c = 0; c < s_.items.size(); ++c)
      if (s_.items[c].parent == id && !is_terminal(s_.items[c].state)) terminate_tree(c, "exit");
    i = s_.item_index.at(id);
  }
  transition(i, "complete", ItemState::completed);
  after_complete(s_.item_index.at(item));
  settle();
}

void Decider::assign_item(const std::string& item, const std::string& assignee) {
  require_active("assign items");
  std::size_t i = item_index(item, "assign");
  const Item& it = s_.items[i];
  unsigned p = perms();
  if (!(p & (perm_plan | perm_manage))) {
    // Workers may take unassigned work of their role for themselves.
    if (assignee != actor_.id || !it.assignee.empty())
      throw Error(ErrorCode::permission_denied,
                  fmt::format("actor '{}' may not assign '{}' of case '{}' to '{}': it needs the 'plan' permission (workers may only "
                              "take unassigned work for themselves)",
                              actor_.id, item, s_.id, assignee));
    require_work_on(it, "take");
  }
  if (is_terminal(it.state))
    throw Error(ErrorCode::invalid_state, fmt::format("cannot assign '{}': it is {}", item, to_string(it.state)));
  if (it.def->def.kind != ItemKind::human_task && it.def->def.kind != ItemKind::stage)
    throw Error(ErrorCode::invalid_argument, fmt::format("'{}' is a {}; only human tasks and stages are assigned", item,
                                                         to_string(it.def->def.kind)));
  if (!assignee.empty() && assignee != s_.owner) {
    const Participant* part = s_.participant(assignee);
    if (!part)
      throw Error(ErrorCode::invalid_argument, fmt::format("'{}' is not a participant of case '{}'", assignee, s_.id));
    const std::string& role = it.def->def.role;
    const auto& candidates = it.def->def.candidate_users;
    const bool has_role = !role.empty() && contains(part->roles, role);
    if (!candidates.empty() && !contains(candidates, assignee) && !has_role)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("'{}' cannot be assigned '{}': it is not one of its candidate users [{}]{}", assignee, item,
                              fmt::join(candidates, ", "),
                              role.empty() ? std::string() : fmt::format(" and lacks the case role '{}'", role)));
    if (candidates.empty() && !role.empty() && !has_role)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("'{}' cannot be assigned '{}': it needs the case role '{}'", assignee, item, role));
  } else if (!assignee.empty() && !it.def->def.candidate_users.empty() && !contains(it.def->def.candidate_users, assignee) &&
             !(p & perm_manage)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("'{}' cannot be assigned '{}': it is not one of its candidate users [{}]", assignee, item,
                            fmt::join(it.def->def.candidate_users, ", ")));
  }
  if (it.assignee == assignee) return;
  emit(events::ItemAssigned{.item = item, .from = it.assignee, .to = assignee});
  settle();
}

void Decider::terminate_item(const std::string& item) {
  require(perm_plan, "terminate items");
  require_active("terminate items");
  std::size_t i = item_index(item, "terminate");
  if (is_terminal(s_.items[i].state))
    throw Error(ErrorCode::invalid_state, fmt::format("'{}' is already {}", item, to_string(s_.items[i].state)));
  const ItemState from = s_.items[i].state;
  const ItemKind kind = s_.items[i].def->def.kind;
  const bool event_like =
      kind == ItemKind::milestone || kind == ItemKind::timer_listener || kind == ItemKind::user_listener;
  if (cmmn_item(s_.items[i]) && !event_like && not_started(from))
    // CMMN: terminate is a transition of active (and suspended) tasks and stages only.
    throw Error(ErrorCode::invalid_state,
                fmt::format("cannot terminate '{}': it is {} (only active or suspended tasks and stages terminate)",
                            item, to_string(from)));
  const bool manual = from == ItemState::active || from == ItemState::suspended;
  terminate_tree(i, manual ? "terminate" : "exit");
  // cmmn: an item without entry criteria repeats when it is terminated, as when it completes
  // (CMMN 1.1 CR-133, as Camunda does).
  if (manual && cmmn_item(s_.items[i]) && !repeats_on_entry(s_.items[i])) repeat(i);
  settle();
}

void Decider::suspend_item(const std::string& item) {
  require_active("suspend items");
  std::size_t i = item_index(item, "suspend");
  require_work_on(s_.items[i], "suspend");
  if (s_.items[i].state != ItemState::active)
    throw Error(ErrorCode::invalid_state, fmt::format("cannot suspend '{}': it is {}", item, to_string(s_.items[i].state)));
  transition(i, "suspend", ItemState::suspended);
  cascade_suspend(item, true);
  settle();
}

void Decider::resume_item(const std::string& item) {
  require_active("resume items");
  std::size_t i = item_index(item, "resume");
  require_work_on(s_.items[i], "resume");
  if (s_.items[i].state != ItemState::suspended)
    throw Error(ErrorCode::invalid_state, fmt::format("cannot resume '{}': it is {}", item, to_string(s_.items[i].state)));
  transition(i, "resume", ItemState::active);
  cascade_suspend(item, false);
  settle();
}

// CMMN parentSuspend / parentResume: the active descendants of a suspended stage are suspended
// with it, and resumed with it (a child suspended on its own before is resumed too).
void Decider::cascade_suspend(const std::string& stage, bool suspend) {
  for (std::size_t c = 0; c < s_.items.size(); ++c) {
    if (s_.items[c].parent != stage) continue;
    std::string child = s_.items[c].id;
    if (suspend && s_.items[c].state == ItemState::active) {
      transition(c, "parent_suspend", ItemState::suspended);
      cascade_suspend(child, true);
    } else if (!suspend && s_.items[c].state == ItemState::suspended) {
      transition(c, "parent_resume", ItemState::active);
      cascade_suspend(child, false);
    }
  }
}

void Decider::disable_item(const std::string& item) {
  require(perm_plan, "disable items");
  require_active("disable items");
  std::size_t i = item_index(item, "disable");
  if (s_.items[i].state != ItemState::enabled)
    throw Error(ErrorCode::invalid_state, fmt::format("cannot disable '{}': it is {}, not enabled", item, to_string(s_.items[i].state)));
  transition(i, "disable", ItemState::disabled);
  settle();
}

void Decider::reenable_item(const std::string& item) {
  require(perm_plan, "re-enable items");
  require_active("re-enable items");
  std::size_t i = item_index(item, "re-enable");
  if (s_.items[i].state != ItemState::disabled)
    throw Error(ErrorCode::invalid_state, fmt::format("cannot re-enable '{}': it is {}, not disabled", item, to_string(s_.items[i].state)));
  transition(i, "reenable", ItemState::enabled);
  settle();
}

void Decider::reactivate_item(const std::string& item) {
  require_active("reactivate items");
  std::size_t i = item_index(item, "reactivate");
  require_work_on(s_.items[i], "reactivate");
  if (s_.items[i].state != ItemState::failed)
    throw Error(ErrorCode::invalid_state, fmt::format("cannot reactivate '{}': it is {}, not failed", item, to_string(s_.items[i].state)));
  transition(i, "reactivate", ItemState::active);
  if (s_.items[i].def->def.kind == ItemKind::automated_task) run_handler(i);
  settle();
}

void Decider::occur(const std::string& item) {
  require_active("raise events");
  std::size_t i = item_index(item, "raise");
  const Item& it = s_.items[i];
  ItemKind k = it.def->def.kind;
  if (k != ItemKind::user_listener && k != ItemKind::milestone)
    throw Error(ErrorCode::invalid_argument, fmt::format("'{}' is a {}; only user event listeners and milestones occur", item,
                                                         to_string(k)));
  require_work_on(it, "raise");
  if (it.state != ItemState::available)
    throw Error(ErrorCode::invalid_state, fmt::format("'{}' cannot occur: it is {}", item, to_string(it.state)));
  if (k == ItemKind::milestone && (!it.def->entry.empty() || !it.after.empty()))
    throw Error(ErrorCode::invalid_state,
                fmt::format("milestone '{}' is reached by its entry criteria, not declared by a person", item));
  if (!parent_active(it)) throw Error(ErrorCode::invalid_state, fmt::format("'{}' cannot occur: its stage is not active", item));
  transition(i, "occur", ItemState::completed);
  after_complete(i);
  settle();
}

}  // namespace acm::runtime
