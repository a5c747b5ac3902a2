// SPDX-License-Identifier: Apache-2.0
// acm/policy.hpp - case policies given to the engine when it opens: the priority policy and the
// escalation rules (docs/helpdesk-engine.md).
//
// These are plain values. They are checked when the engine opens (Engine::open refuses bad ones)
// and evaluated by the engine after every command and timer; they hold no state of their own.
//
// Thread safety: const member functions may be called concurrently; the free functions are pure.
#pragma once

#include <acm/case.hpp>
#include <acm/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace acm {

/// One term of a priority policy: an expression of the condition language over the case
/// (docs/expressions.md: `case`, `subject`, `file`, `goals`, `goal("id")`, `now`, ...) whose
/// numeric value is multiplied by `weight`. A term whose value is not a number counts 0.
struct PriorityTerm {
  std::string name;        ///< shown in explain_priority and in priority_changed events
  std::string expression;  ///< the condition-language expression; must parse (checked at open)
  double weight = 1.0;     ///< multiplies the expression's value
};

/// How a case's priority is computed: priority = base + round(sum of weight * value), where the
/// base is what create_case / set_priority gave. Recomputed after every command and timer.
struct PriorityPolicy {
  std::vector<PriorityTerm> terms;  ///< evaluated in order; none: the priority is the base
  /// Reads {"terms": [{"name", "expression", "weight"}]}.
  /// Errors: invalid_definition, listing every problem (missing fields, wrong types).
  static PriorityPolicy from_json(const Json& j);
};

/// An escalation rule: when `on` happens to a goal or task, do `actions`, at most `max_times`
/// per goal or task (each escalation is recorded as an "escalated" event).
struct EscalationRule {
  std::string id;                       ///< unique among the rules; named in the escalated event
  std::string on;                       ///< "goal_at_risk", "goal_overdue" or "item_overdue"
  std::string target;                   ///< goal id or item definition id this applies to ("" = any)
  std::string notify;                   ///< "owner", "assignee" or an actor id: named in the escalated event
  std::string reassign_to;              ///< item_overdue: assign the task to this actor ("" = no)
  std::optional<Participant> bring_in;  ///< add this participant (team lead, supplier)
  std::string add_fragment;             ///< instantiate this fragment, bound to the goal ("" = no)
  int max_times = 1;                    ///< escalations per goal or task: 1..100
  /// Reads {"rules": [{id, on, target, notify, reassign_to, bring_in: {actor, roles},
  /// add_fragment, max_times}]} and validates the rules (validate_escalation).
  /// Errors: invalid_definition, listing every problem with its JSON pointer.
  static std::vector<EscalationRule> from_json(const Json& j);
};

/// Checks escalation rules: unique non-empty ids, a known trigger (`on`), reassign_to only on
/// item_overdue, max_times in 1..100, and at least one action (notify, reassign_to, bring_in or
/// add_fragment). Errors: invalid_argument listing every problem. Engine::open calls it on
/// EngineOptions::escalation.
void validate_escalation(const std::vector<EscalationRule>& rules);

}  // namespace acm
