// SPDX-License-Identifier: Apache-2.0
// runtime/decider_case.cpp - the Decider: commands on the case itself: creation, owner,
// participants, priority, subject, status.
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

// ---- case lifecycle ---------------------------------------------------------------------

void Decider::create_case(const std::string& id, const NewCase& spec, std::shared_ptr<const CCaseType> type) {
  if (actor_.id.empty()) throw Error(ErrorCode::permission_denied, "an actor without id may not create cases");
  if (spec.participants.size() > kMaxParticipants) throw Error(ErrorCode::invalid_argument, "too many participants");
  if (!spec.file.is_object()) throw Error(ErrorCode::invalid_argument, "the initial case file must be a JSON object");
  if (!spec.subject.attributes.is_object())
    throw Error(ErrorCode::invalid_argument, "subject attributes must be a JSON object");
  check_value(spec.file, "the initial case file");
  check_value(spec.subject.attributes, "the subject's attributes");
  s_.id = id;
  for (const auto& p : spec.participants)
    if (p.actor.empty()) throw Error(ErrorCode::invalid_argument, "a participant needs an actor id");
  creating_ = true;
  // Validate the type's goals and fragments before emitting anything.
  std::vector<std::pair<std::shared_ptr<const CFragment>, FragmentUse>> initial;
  if (type) {
    for (const auto& use : type->def.initial_fragments) {
      auto f = sv_.registry->fragment(use.fragment, use.version);
      if (!f)
        throw Error(ErrorCode::not_found, fmt::format("case type '{}' needs fragment '{}' which is not registered",
                                                      type->def.id, use.fragment));
      initial.emplace_back(f, use);
    }
  }
  emit(events::CaseCreated{.type = type ? type->def.id : "",
                           .type_version = type ? type->def.version : 0,
                           .title = spec.title,
                           .subject = spec.subject,
                           .owner = spec.owner.empty() ? actor_.id : spec.owner,
                           .priority = spec.priority,
                           .participants = spec.participants,
                           .file = spec.file});
  if (type) {
    for (const auto& g : type->def.goals) add_goal(g);
    for (auto& [f, use] : initial) {
      FragmentUse u = use;
      u.version = f->def.version;
      add_fragment(u, {});
    }
  }
  creating_ = false;
  settle();
}

void Decider::set_owner(const std::string& owner) {
  require(perm_manage, "change the owner");
  require_active("change the owner");
  if (owner.empty()) throw Error(ErrorCode::invalid_argument, "the owner must not be empty");
  if (owner == s_.owner) return;
  emit(events::OwnerChanged{.from = s_.owner, .to = owner});
  settle();
}

void Decider::add_participant(const Participant& p) {
  require(perm_manage, "add participants");
  require_active("add participants");
  if (p.actor.empty()) throw Error(ErrorCode::invalid_argument, "a participant needs an actor id");
  if (s_.participants.size() >= kMaxParticipants) throw Error(ErrorCode::invalid_argument, "too many participants");
  if (s_.type && !s_.type->def.roles.empty()) {
    for (const auto& r : p.roles) {
      bool known = std::any_of(s_.type->def.roles.begin(), s_.type->def.roles.end(),
                               [&](const RoleDef& d) { return d.name == r; });
      if (!known)
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("role '{}' is not a role of case type '{}'", r, s_.type->def.id));
    }
  }
  emit(events::ParticipantAdded{.actor = p.actor, .roles = p.roles});
  settle();
}

void Decider::remove_participant(const std::string& actor) {
  require(perm_manage, "remove participants");
  require_active("remove participants");
  if (!s_.participant(actor))
    throw Error(ErrorCode::not_found, fmt::format("'{}' is not a participant of case '{}'", actor, s_.id));
  emit(events::ParticipantRemoved{.actor = actor});
  // Work assigned to them goes back to the queue.
  for (std::size_t i = 0; i < s_.items.size(); ++i)
    if (s_.items[i].assignee == actor && !is_terminal(s_.items[i].state))
      emit(events::ItemAssigned{.item = s_.items[i].id, .from = actor, .to = ""});
  settle();
}

void Decider::set_priority(int priority) {
  require(perm_manage, "change the priority");
  require_active("change the priority");
  if (priority == s_.priority_base && !sv_.priority) {
    if (priority == s_.priority) return;
  }
  int to = priority;
  events::PriorityChanged p{.from = s_.priority, .base = priority};
  if (sv_.priority) {
    Json ex = sv_.priority->evaluate(s_, now_);
    to = priority + static_cast<int>(std::lround(ex["score"].get<double>()));
    p.score = ex["score"];
    p.terms = std::move(ex["terms"]);
  }
  if (to == s_.priority && priority == s_.priority_base) return;
  p.to = to;
  emit(std::move(p));
  settle();
}

void Decider::set_subject_attribute(const std::string& key, const Json& value) {
  require(perm_manage, "change the subject");
  require_active("change the subject");
  if (key.empty()) throw Error(ErrorCode::invalid_argument, "subject attribute key is empty");
  check_value(value, fmt::format("the value of subject attribute '{}'", key));
  emit(events::SubjectChanged{.key = key, .value = value});
  settle();
}

void Decider::set_status(CaseStatus to, const std::string& reason, bool reopen) {
  CaseStatus from = s_.status;
  auto refuse = [&] {
    throw Error(ErrorCode::invalid_state,
                fmt::format("case '{}' cannot go from {} to {}", s_.id, to_string(from), to_string(to)));
  };
  switch (to) {
    case CaseStatus::suspended:
      require(perm_manage, "suspend the case");
      if (from != CaseStatus::active) refuse();
      break;
    case CaseStatus::active:  // resume (from suspended) or reopen (from completed, terminated, closed)
      if (reopen && from == CaseStatus::closed) {
        if (!sv_.is_admin(actor_))
          throw Error(ErrorCode::permission_denied,
                      fmt::format("actor '{}' may not reopen closed case '{}': only administrators may", actor_.id, s_.id));
      } else {
        require(perm_manage, reopen ? "reopen the case" : "resume the case");
        if (reopen && from != CaseStatus::completed && from != CaseStatus::terminated)
          throw Error(ErrorCode::invalid_state,
                      fmt::format("case '{}' is {}: only completed, terminated or closed cases can be reopened", s_.id,
                                  to_string(from)));
        if (!reopen && from != CaseStatus::suspended)
          throw Error(ErrorCode::invalid_state, fmt::format("case '{}' is {}, not suspended", s_.id, to_string(from)));
      }
      break;
    case CaseStatus::terminated:
      require(perm_manage, "terminate the case");
      if (from != CaseStatus::active && from != CaseStatus::suspended) refuse();
      break;
    case CaseStatus::closed:
      require(perm_manage, "close the case");
      if (from != CaseStatus::completed && from != CaseStatus::terminated) refuse();
      break;
    case CaseStatus::completed:
      refuse();
  }
  if (to == CaseStatus::terminated) {
    emit_actor_ = actor_.id;
    for (std::size_t i = 0; i < s_.items.size(); ++i)
      if (s_.items[i].parent.empty() && !is_terminal(s_.items[i].state)) terminate_tree(i, "exit");
  }
  emit(events::CaseStatusChanged{.from = from, .to = to, .reason = reason});
  settle();
}

void Decider::complete_case() {
  require(perm_manage, "complete the case");
  require_active("complete the case");
  if (const auto plans = cmmn_case() ? plan_stages() : std::vector<std::size_t>{}; !plans.empty()) {
    // cmmn: the case plan model's manual `complete`, refused while a child of it is active or a
    // required child is not completed; goals do not hold a cmmn case open.
    auto is_plan = [&](std::size_t i) { return std::find(plans.begin(), plans.end(), i) != plans.end(); };
    auto is_plan_id = [&](const std::string& id) {
      return std::any_of(plans.begin(), plans.end(), [&](std::size_t p) { return s_.items[p].id == id; });
    };
    for (std::size_t i = 0; i < s_.items.size(); ++i) {
      const Item& it = s_.items[i];
      if (is_plan(i)) continue;
      const bool plan_child = !it.parent.empty() && is_plan_id(it.parent);
      if (!plan_child && !it.parent.empty()) continue;
      if (it.state == ItemState::active || it.state == ItemState::suspended || it.state == ItemState::failed)
        throw Error(ErrorCode::invalid_state,
                    fmt::format("case '{}' cannot complete: '{}' is {}", s_.id, it.id, to_string(it.state)));
      if (plan_child && it.required && !is_terminal(it.state))
        throw Error(ErrorCode::invalid_state, fmt::format("case '{}' cannot complete: required item '{}' is {}", s_.id,
                                                          it.id, to_string(it.state)));
    }
    for (std::size_t p : plans) {
      const std::string plan = s_.items[p].id;
      for (std::size_t c = 0; c < s_.items.size(); ++c)
        if (s_.items[c].parent == plan && !is_terminal(s_.items[c].state)) terminate_tree(c, "exit");
      transition(s_.item_index.at(plan), "complete", ItemState::completed);
    }
    for (std::size_t i = 0; i < s_.items.size(); ++i)
      if (s_.items[i].parent.empty() && !is_terminal(s_.items[i].state)) terminate_tree(i, "exit");
    emit(events::CaseStatusChanged{.from = CaseStatus::active, .to = CaseStatus::completed});
    settle();
    return;
  }
  for (const auto& g : s_.goals)
    if (g.spec.required && g.status == GoalStatus::open)
      throw Error(ErrorCode::invalid_state,
                  fmt::format("case '{}' cannot complete: required goal '{}' is not achieved", s_.id, g.spec.id));
  for (const auto& it : s_.items) {
    if (it.state == ItemState::active || it.state == ItemState::suspended)
      throw Error(ErrorCode::invalid_state, fmt::format("case '{}' cannot complete: '{}' is {}", s_.id, it.id,
                                                        to_string(it.state)));
    if (it.required && it.state != ItemState::completed && it.state != ItemState::terminated)
      throw Error(ErrorCode::invalid_state,
                  fmt::format("case '{}' cannot complete: required item '{}' is {}", s_.id, it.id, to_string(it.state)));
  }
  for (std::size_t i = 0; i < s_.items.size(); ++i)
    if (s_.items[i].parent.empty() && !is_terminal(s_.items[i].state)) terminate_tree(i, "exit");
  emit(events::CaseStatusChanged{.from = CaseStatus::active, .to = CaseStatus::completed});
  settle();
}

}  // namespace acm::runtime
