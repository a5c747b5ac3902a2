// SPDX-License-Identifier: Apache-2.0
// runtime/policy.cpp - priority policies and escalation rules from JSON, and their checks.
#include <acm/engine.hpp>
#include <acm/error.hpp>

#include <fmt/format.h>

#include <cmath>

namespace acm {
namespace {

std::string str(const Json& j, const char* key, const std::string& where, std::vector<std::string>& problems) {
  if (!j.contains(key)) return {};
  if (!j[key].is_string()) {
    problems.push_back(fmt::format("{}/{}: must be a string", where, key));
    return {};
  }
  return j[key].get<std::string>();
}

void check_keys(const Json& j, std::initializer_list<const char*> known, const std::string& where,
                std::vector<std::string>& problems) {
  for (const auto& [k, v] : j.items()) {
    bool ok = false;
    for (const char* n : known) ok |= k == n;
    if (!ok) problems.push_back(fmt::format("{}/{}: unknown field", where, k));
  }
}

}  // namespace

PriorityPolicy PriorityPolicy::from_json(const Json& j) {
  std::vector<std::string> problems;
  PriorityPolicy p;
  if (!j.is_object() || !j.contains("terms") || !j["terms"].is_array())
    throw Error(ErrorCode::invalid_definition, "priority policy: expected an object with a \"terms\" array");
  check_keys(j, {"terms"}, "", problems);
  for (std::size_t i = 0; i < j["terms"].size(); ++i) {
    const Json& t = j["terms"][i];
    const std::string where = fmt::format("/terms/{}", i);
    if (!t.is_object()) {
      problems.push_back(where + ": must be an object");
      continue;
    }
    check_keys(t, {"name", "expression", "weight"}, where, problems);
    PriorityTerm term;
    term.name = str(t, "name", where, problems);
    term.expression = str(t, "expression", where, problems);
    if (term.name.empty()) problems.push_back(where + "/name: required");
    if (term.expression.empty()) problems.push_back(where + "/expression: required");
    if (t.contains("weight")) {
      if (!t["weight"].is_number()) problems.push_back(where + "/weight: must be a number");
      else term.weight = t["weight"].get<double>();
    }
    p.terms.push_back(std::move(term));
  }
  if (!problems.empty())
    throw Error(ErrorCode::invalid_definition, fmt::format("priority policy: {}", fmt::join(problems, "; ")));
  return p;
}

std::vector<EscalationRule> EscalationRule::from_json(const Json& j) {
  std::vector<std::string> problems;
  std::vector<EscalationRule> out;
  if (!j.is_object() || !j.contains("rules") || !j["rules"].is_array())
    throw Error(ErrorCode::invalid_definition, "escalation: expected an object with a \"rules\" array");
  for (std::size_t i = 0; i < j["rules"].size(); ++i) {
    const Json& r = j["rules"][i];
    const std::string where = fmt::format("/rules/{}", i);
    if (!r.is_object()) {
      problems.push_back(where + ": must be an object");
      continue;
    }
    check_keys(r, {"id", "on", "target", "notify", "reassign_to", "bring_in", "add_fragment", "max_times"}, where, problems);
    EscalationRule e;
    e.id = str(r, "id", where, problems);
    e.on = str(r, "on", where, problems);
    e.target = str(r, "target", where, problems);
    e.notify = str(r, "notify", where, problems);
    e.reassign_to = str(r, "reassign_to", where, problems);
    e.add_fragment = str(r, "add_fragment", where, problems);
    if (r.contains("bring_in")) {
      const Json& b = r["bring_in"];
      if (!b.is_object() || !b.contains("actor") || !b["actor"].is_string())
        problems.push_back(where + "/bring_in: expected {\"actor\": ..., \"roles\": [...]}");
      else
        e.bring_in = Participant{b["actor"].get<std::string>(), b.value("roles", std::vector<std::string>{})};
    }
    if (r.contains("max_times")) {
      if (!r["max_times"].is_number_integer()) problems.push_back(where + "/max_times: must be an integer");
      else e.max_times = r["max_times"].get<int>();
    }
    out.push_back(std::move(e));
  }
  try {
    validate_escalation(out);
  } catch (const Error& e) {
    problems.push_back(e.what());
  }
  if (!problems.empty()) throw Error(ErrorCode::invalid_definition, fmt::format("escalation: {}", fmt::join(problems, "; ")));
  return out;
}

void validate_escalation(const std::vector<EscalationRule>& rules) {
  std::vector<std::string> problems;
  std::vector<std::string> seen;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const EscalationRule& r = rules[i];
    const std::string where = fmt::format("rule {} ('{}')", i, r.id);
    if (r.id.empty()) problems.push_back(where + ": needs an id");
    else if (std::find(seen.begin(), seen.end(), r.id) != seen.end()) problems.push_back(where + ": duplicate id");
    seen.push_back(r.id);
    if (r.on != "goal_at_risk" && r.on != "goal_overdue" && r.on != "item_overdue")
      problems.push_back(where + ": 'on' must be goal_at_risk, goal_overdue or item_overdue, not '" + r.on + "'");
    if (!r.reassign_to.empty() && r.on != "item_overdue") problems.push_back(where + ": reassign_to applies to item_overdue only");
    if (r.max_times < 1 || r.max_times > 100) problems.push_back(where + ": max_times must be between 1 and 100");
    if (r.notify.empty() && r.reassign_to.empty() && !r.bring_in && r.add_fragment.empty())
      problems.push_back(where + ": does nothing (no notify, reassign_to, bring_in or add_fragment)");
  }
  if (!problems.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("{}", fmt::join(problems, "; ")));
}

}  // namespace acm
