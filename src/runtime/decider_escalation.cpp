// SPDX-License-Identifier: Apache-2.0
// runtime/decider_escalation.cpp - the Decider: rules from the engine options applied on every
// settle: escalation and the priority policy.
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

bool Decider::run_escalations() {
  std::vector<Trigger> triggers = std::move(pending_escalations_);
  pending_escalations_.clear();
  bool changed_plan = false;
  for (const Trigger& t : triggers) {
    for (const EscalationRule& r : sv_.options->escalation) {
      if (r.on != t.on) continue;
      if (!r.target.empty() && r.target != t.target && r.target != t.def) continue;
      const std::string key = r.id + "|" + t.target;
      auto it = s_.escalations.find(key);
      const int done = it == s_.escalations.end() ? 0 : it->second;
      if (done >= std::max(1, r.max_times)) continue;
      std::string notify = r.notify;
      const Item* item = t.on == "item_overdue" ? s_.find_item(t.target) : nullptr;
      if (notify == "owner") {
        const Goal* g = s_.find_goal(t.target);
        notify = g && !g->spec.owner.empty() ? g->spec.owner : s_.owner;
      } else if (notify == "assignee") {
        notify = item && !item->assignee.empty() ? item->assignee : s_.owner;
      }
      Json actions = Json::array();
      if (r.bring_in) actions.push_back({{"bring_in", r.bring_in->actor}});
      if (!r.reassign_to.empty() && item) actions.push_back({{"reassign_to", r.reassign_to}});
      if (!r.add_fragment.empty()) actions.push_back({{"add_fragment", r.add_fragment}});
      emit(events::Escalated{.rule = r.id, .target = t.target, .trigger = t.on, .count = done + 1, .notify = notify,
                             .actions = std::move(actions)});
      if (r.bring_in) {
        const Participant* existing = s_.participant(r.bring_in->actor);
        std::vector<std::string> roles;
        for (const std::string& role : r.bring_in->roles)
          if (!existing || std::find(existing->roles.begin(), existing->roles.end(), role) == existing->roles.end())
            roles.push_back(role);
        if (!existing || !roles.empty()) emit(events::ParticipantAdded{.actor = r.bring_in->actor, .roles = roles});
      }
      if (!r.reassign_to.empty() && item && item->assignee != r.reassign_to && !is_terminal(item->state))
        emit(events::ItemAssigned{.item = item->id, .from = item->assignee, .to = r.reassign_to});
      if (!r.add_fragment.empty()) {
        try {
          FragmentUse use;
          use.fragment = r.add_fragment;
          if (s_.find_goal(t.target)) use.goal = t.target;
          const bool saved = creating_;
          creating_ = true;  // no settle inside: this round's caller settles
          add_fragment(use, {});
          creating_ = saved;
          changed_plan = true;
        } catch (const Error& e) {
          emit(events::ErrorRecorded{
              .message = fmt::format("escalation '{}' could not add fragment '{}': {}", r.id, r.add_fragment, e.what())});
        }
      }
    }
  }
  return changed_plan;
}

void Decider::apply_priority_policy() {
  if (!sv_.priority || (s_.status != CaseStatus::active && s_.status != CaseStatus::suspended)) return;
  Json ex = sv_.priority->evaluate(s_, now_);
  const int to = s_.priority_base + static_cast<int>(std::lround(ex["score"].get<double>()));
  if (to == s_.priority) return;
  emit(events::PriorityChanged{.from = s_.priority, .to = to, .score = ex["score"], .terms = std::move(ex["terms"])});
}

std::shared_ptr<const CompiledPriority> CompiledPriority::compile(const PriorityPolicy& policy) {
  auto c = std::make_shared<CompiledPriority>();
  std::vector<std::string> problems;
  for (std::size_t i = 0; i < policy.terms.size(); ++i) {
    const PriorityTerm& t = policy.terms[i];
    if (t.name.empty()) problems.push_back(fmt::format("/terms/{}/name: a term needs a name", i));
    try {
      c->terms.push_back(Term{t.name, expr::Expression::parse(t.expression, model::engine_parse_options()), t.weight});
    } catch (const Error& e) {
      problems.push_back(fmt::format("/terms/{}/expression: {}", i, e.what()));
    }
    if (!std::isfinite(t.weight)) problems.push_back(fmt::format("/terms/{}/weight: not a finite number", i));
  }
  if (!problems.empty())
    throw Error(ErrorCode::invalid_definition, fmt::format("priority policy: {}", fmt::join(problems, "; ")));
  return c;
}

Json CompiledPriority::evaluate(const CaseState& state, TimePoint now) const {
  CaseEnv env(state, now);
  double score = 0;
  Json terms_out = Json::array();
  for (const Term& t : terms) {
    double value = 0;
    expr::Value v = t.expression.evaluate(env);
    if (const double* d = std::get_if<double>(&v.storage())) value = std::isfinite(*d) ? *d : 0;
    else if (const bool* b = std::get_if<bool>(&v.storage())) value = *b ? 1 : 0;
    const double contribution = value * t.weight;
    score += contribution;
    terms_out.push_back({{"name", t.name}, {"value", value}, {"weight", t.weight}, {"contribution", contribution}});
  }
  return Json{{"score", score}, {"terms", std::move(terms_out)}};
}

}  // namespace acm::runtime
