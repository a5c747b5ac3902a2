// SPDX-License-Identifier: Apache-2.0
// runtime/decider_assembly.cpp - the Decider: assembling the plan: fragments, ad-hoc tasks,
// dependencies, removal.
#include "runtime/decider.hpp"
#include "runtime/decider_detail.hpp"

#include <acm/error.hpp>

#include "model/json_size.hpp"
#include "model/names.hpp"
#include "model/text.hpp"
#include "plan/dependencies.hpp"
#include "runtime/env.hpp"
#include "runtime/json_path.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <unordered_map>

namespace acm::runtime {

using namespace decider_detail;  // NOLINT(google-build-using-namespace): the helpers of decider_detail.hpp

// ---- assembly ---------------------------------------------------------------------------

std::vector<FragmentOffer> Decider::applicable_fragments() const {
  std::vector<FragmentOffer> out;
  if (s_.status != CaseStatus::active) return out;
  CaseEnv env(s_, now_);
  auto offer = [&](const std::shared_ptr<const CFragment>& f) {
    if (!f) return;
    Json defaults = Json::object();
    for (const auto& p : f->def.parameters)
      if (!p.default_value.is_null()) defaults[p.name] = p.default_value;
    CaseEnv fenv(s_, now_, nullptr, nullptr, &defaults);
    if (!eval_condition(f->applicability, fenv, true)) return;
    if (const StageRef& pt = f->def.planning_table; !pt.fragment.empty()) {
      const bool open = std::any_of(s_.items.begin(), s_.items.end(), [&](const Item& i) {
        if (i.state != ItemState::active || !i.fragment || i.fragment->def.id != pt.fragment) return false;
        const bool root = i.id == i.frag_root;
        return pt.stage.empty() ? root : (!root && i.def->def.kind == ItemKind::stage && i.def->def.id == pt.stage);
      });
      if (!open) return;
    }
    out.push_back(FragmentOffer{f->def.id, f->def.version, f->def.name, f->def.description, f->def.parameters});
  };
  if (s_.type && !s_.type->def.discretionary.empty()) {
    for (const auto& id : s_.type->def.discretionary) offer(sv_.registry->fragment(id, 0));
  } else {
    for (const auto& [id, versions] : sv_.registry->fragments()) offer(versions.rbegin()->second);
  }
  return out;
}

std::vector<FragmentOffer> Decider::plannable_fragments() const {
  std::vector<FragmentOffer> out = applicable_fragments();
  std::erase_if(out, [&](const FragmentOffer& o) {
    auto f = sv_.registry->fragment(o.fragment, o.version);
    return !f || !may_plan(f->def);
  });
  return out;
}

namespace {

bool type_matches(const std::string& type, const Json& v) {
  if (type == "any") return true;
  if (type == "string") return v.is_string();
  if (type == "number") return v.is_number();
  if (type == "bool") return v.is_boolean();
  if (type == "object") return v.is_object();
  if (type == "list") return v.is_array();
  if (type == "time") {
    if (!v.is_string()) return false;
    try {
      parse_time(v.get<std::string>());
      return true;
    } catch (const Error&) {
      return false;
    }
  }
  if (type == "duration") {
    if (!v.is_string()) return false;
    try {
      parse_duration(v.get<std::string>());
      return true;
    } catch (const Error&) {
      return false;
    }
  }
  return false;
}

void collect_roles(const CItem& item, std::vector<std::string>& out) {
  if (!item.def.role.empty()) out.push_back(item.def.role);
  for (const auto& c : item.children) collect_roles(*c, out);
}

}  // namespace

std::string Decider::add_fragment(const FragmentUse& use, const std::vector<std::string>& after) {
  const bool creating = creating_;
  check_value(use.params, fmt::format("the arguments of fragment '{}'", use.fragment));
  auto f = sv_.registry->fragment(use.fragment, use.version);
  if (!creating) {
    if (f && !f->def.authorized_roles.empty())
      require_authorized(f->def);
    else
      require(perm_plan, "add fragments");
    require_active("add fragments");
  }
  if (!f)
    throw Error(ErrorCode::not_found, use.version ? fmt::format("fragment '{}' version {} is not registered", use.fragment, use.version)
                                                  : fmt::format("fragment '{}' is not registered", use.fragment));
  if (!creating && s_.type && !s_.type->def.discretionary.empty() && !contains(s_.type->def.discretionary, f->def.id))
    throw Error(ErrorCode::invalid_argument, fmt::format("fragment '{}' is not a discretionary fragment of case type '{}'",
                                                         f->def.id, s_.type->def.id));
  // Parameters: known, typed, required present; defaults filled.
  if (!use.params.is_object()) throw Error(ErrorCode::invalid_argument, "fragment parameters must be a JSON object");
  std::vector<std::string> problems;
  Json params = Json::object();
  for (const auto& [k, v] : use.params.items()) {
    auto it = std::find_if(f->def.parameters.begin(), f->def.parameters.end(), [&](const Parameter& p) { return p.name == k; });
    if (it == f->def.parameters.end()) {
      problems.push_back(fmt::format("unknown parameter '{}'", k));
      continue;
    }
    if (!type_matches(it->type, v))
      problems.push_back(fmt::format("parameter '{}' must be of type {}, got {}", k, it->type, v.dump()));
    params[k] = v;
  }
  for (const auto& p : f->def.parameters) {
    if (params.contains(p.name)) continue;
    if (!p.default_value.is_null()) params[p.name] = p.default_value;
    else if (p.required) problems.push_back(fmt::format("missing required parameter '{}'", p.name));
  }
  // Roles must be known to the case type.
  if (s_.type && !s_.type->def.roles.empty()) {
    std::vector<std::string> roles = f->def.roles;
    for (const auto& item : f->items) collect_roles(*item, roles);
    roles.insert(roles.end(), f->def.authorized_roles.begin(), f->def.authorized_roles.end());
    for (const auto& r : roles) {
      bool known = std::any_of(s_.type->def.roles.begin(), s_.type->def.roles.end(),
                               [&](const RoleDef& d) { return d.name == r; });
      if (!known) problems.push_back(fmt::format("role '{}' is not a role of case type '{}'", r, s_.type->def.id));
    }
  }
  // A fragment with a planning table goes into an active instance of that stage.
  std::string parent;
  if (const StageRef& pt = f->def.planning_table; !pt.fragment.empty()) {
    std::vector<std::string> open;
    for (const auto& i : s_.items) {
      if (i.state != ItemState::active || !i.fragment || i.fragment->def.id != pt.fragment) continue;
      const bool root = i.id == i.frag_root;
      if (pt.stage.empty() ? root : (!root && i.def->def.kind == ItemKind::stage && i.def->def.id == pt.stage))
        open.push_back(i.id);
    }
    const std::string where = pt.stage.empty() ? fmt::format("fragment '{}'", pt.fragment)
                                               : fmt::format("stage '{}' of fragment '{}'", pt.stage, pt.fragment);
    if (!use.stage.empty()) {
      if (!contains(open, use.stage))
        throw Error(ErrorCode::invalid_state,
                    fmt::format("cannot add fragment '{}' to case '{}' in '{}': it is not an active instance of {} (its "
                                "planning table){}",
                                f->def.id, s_.id, use.stage, where,
                                open.empty() ? std::string() : fmt::format("; active: {}", fmt::join(open, ", "))));
      parent = use.stage;
    } else if (open.empty()) {
      throw Error(ErrorCode::invalid_state,
                  fmt::format("cannot add fragment '{}' to case '{}' now: it is planned in {} (its planning table), "
                              "which has no active instance",
                              f->def.id, s_.id, where));
    } else if (open.size() > 1) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("cannot add fragment '{}' to case '{}': {} has several active instances ({}); name one "
                              "(the stage of the fragment use)",
                              f->def.id, s_.id, where, fmt::join(open, ", ")));
    } else {
      parent = open.front();
    }
  } else if (!use.stage.empty()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("cannot add fragment '{}' in stage '{}': the fragment has no planning table (it is added at "
                            "the top of the case)",
                            f->def.id, use.stage));
  }
  if (!use.goal.empty()) {
    const Goal* g = s_.find_goal(use.goal);
    if (!g) problems.push_back(fmt::format("goal '{}' does not exist", use.goal));
    else if (g->status != GoalStatus::open) problems.push_back(fmt::format("goal '{}' is {}", use.goal, to_string(g->status)));
  }
  for (const auto& a : after)
    if (!s_.find_item(a)) problems.push_back(fmt::format("item '{}' (after) does not exist", a));
  if (!problems.empty())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("cannot add fragment '{}' to case '{}': {}", f->def.id, s_.id, fmt::join(problems, "; ")));
  if (!creating) {
    CaseEnv env(s_, now_, nullptr, nullptr, &params);
    if (!eval_condition(f->applicability, env, true))
      throw Error(ErrorCode::invalid_state, fmt::format("fragment '{}' is not applicable to case '{}' now: {} is false",
                                                        f->def.id, s_.id, f->def.applicability));
  }
  std::string id = new_id(f->def.id, "fragment:" + f->def.id);
  emit(events::FragmentAdded{.item = id, .fragment = f->def.id, .version = f->def.version, .goal = use.goal,
                             .params = params, .after = after, .parent = parent});
  if (!creating) settle();
  return id;
}

std::string Decider::add_task(const AdHocTask& task) {
  require(perm_plan, "add tasks");
  require_active("add tasks");
  check_value(task.input, fmt::format("the input of task '{}'", task.name));
  auto compiled = compile_adhoc(task);  // validates
  if (!task.goal.empty() && !s_.find_goal(task.goal))
    throw Error(ErrorCode::not_found, fmt::format("goal '{}' does not exist in case '{}'", task.goal, s_.id));
  for (const auto& a : task.after)
    if (!s_.find_item(a)) throw Error(ErrorCode::not_found, fmt::format("item '{}' (after) does not exist", a));
  if (!task.assignee.empty() && task.assignee != s_.owner && !s_.participant(task.assignee))
    throw Error(ErrorCode::invalid_argument,
                fmt::format("assignee '{}' is not a participant of case '{}'", task.assignee, s_.id));
  std::string id = new_id("task", "task");
  emit(events::TaskAdded{.item = id, .task = adhoc_to_json(task), .goal = task.goal, .assignee = task.assignee,
                         .after = task.after, .required = task.required});
  settle();
  return id;
}

void Decider::check_no_cycle(const std::string& item, const std::string& after) const {
  // The items as the plan sees them: what each waits for (`after` items; the definitions whose
  // completion or occurrence its entry on-parts listen to, in its fragment instance).
  std::vector<plan::ItemNode> nodes;
  nodes.reserve(s_.items.size());
  for (const auto& it : s_.items) {
    plan::ItemNode n{.id = it.id, .scope = it.frag_root, .definition = it.def->def.id, .after = it.after};
    // cmmn: sentries may wait for each other in a cycle; only `after` cycles count there.
    if (it.def->has_item_onparts && !cmmn_item(it))
      for (const auto& sentry : it.def->entry)
        for (const auto& op : sentry.on_parts)
          if (op.source == OnPartSource::item && (op.on == "complete" || op.on == "occur")) n.waits_for.push_back(op.ref);
    nodes.push_back(std::move(n));
  }
  auto cycle = plan::cycle_if_waiting(nodes, item, after);
  if (!cycle.empty())
    throw Error(ErrorCode::cycle, fmt::format("making '{}' wait for '{}' would create the dependency cycle {}", item, after,
                                              fmt::join(cycle, " -> ")));
}

void Decider::add_dependency(const std::string& item, const std::string& after) {
  require(perm_plan, "add dependencies");
  require_active("add dependencies");
  std::size_t i = item_index(item, "add a dependency");
  item_index(after, "add a dependency");
  if (!not_started(s_.items[i].state))
    throw Error(ErrorCode::invalid_state,
                fmt::format("'{}' is {}: only items that have not started can wait for others", item, to_string(s_.items[i].state)));
  if (contains(s_.items[i].after, after)) return;
  if (item == after) throw Error(ErrorCode::cycle, fmt::format("'{}' cannot wait for itself", item));
  check_no_cycle(item, after);
  emit(events::DependencyAdded{.item = item, .after = after});
  settle();
}

void Decider::remove_item(const std::string& item) {
  require(perm_plan, "remove plan items");
  require_active("remove plan items");
  std::size_t i = item_index(item, "remove an item");
  const Item& it = s_.items[i];
  if (!not_started(it.state))
    throw Error(ErrorCode::invalid_state,
                fmt::format("'{}' is {}: only items that have not started can be removed (terminate it instead)", item,
                            to_string(it.state)));
  emit(events::ItemRemoved{.item = item});
  settle();
}

}  // namespace acm::runtime
