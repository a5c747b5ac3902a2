// SPDX-License-Identifier: Apache-2.0
#include "runtime/env.hpp"

namespace acm::runtime {

namespace {
const Json kNull;
}

Json goal_json(const Goal& g) {
  Json j{{"id", g.spec.id},
         {"name", g.spec.name},
         {"owner", g.spec.owner},
         {"status", to_string(g.status)},
         {"timing", to_string(g.timing)},
         {"required", g.spec.required},
         {"achieved", g.status == GoalStatus::achieved}};
  j["deadline"] = g.deadline ? Json(format_time(*g.deadline)) : Json();
  return j;
}

Json item_json(const Item& i) {
  return Json{{"id", i.id},
              {"def", i.def->def.id},
              {"name", i.def->def.name},
              {"kind", to_string(i.def->def.kind)},
              {"state", to_string(i.state)},
              {"assignee", i.assignee},
              {"repetition", i.repetition},
              {"required", i.required}};
}

const Item* CaseEnv::resolve_item(const std::string& ref) const {
  if (const Item* it = state_.find_item(ref)) return it;
  // A definition id: the latest instance in the same fragment instance (or anywhere).
  const Item* best = nullptr;
  std::string root = item_ ? item_->frag_root : std::string();
  for (const auto& it : state_.items) {
    if (it.def->def.id != ref) continue;
    if (!root.empty() && it.frag_root != root) continue;
    best = &it;
  }
  return best;
}

const Json* CaseEnv::json_variable(std::string_view name) const {
  if (name == "file") return &state_.file;
  if (name == "params") {
    if (params_) return params_;
    if (item_ && !item_->frag_root.empty()) {
      if (const Item* root = state_.find_item(item_->frag_root)) return &root->params;
    }
    return &kNull;
  }
  if (name == "event") return event_ ? event_ : &kNull;
  return nullptr;
}

expr::Value CaseEnv::variable(std::string_view name) const {
  if (const Json* j = json_variable(name)) return expr::Value::from_json(*j);
  if (name == "now") return expr::Value(now_);
  if (name == "repetitionCounter") return expr::Value(item_ ? item_->repetition + 1 : 1);
  if (name == "subject")
    return expr::Value::from_json(Json{{"customer", state_.subject.customer}, {"attributes", state_.subject.attributes}});
  if (name == "case") {
    Json j{{"id", state_.id},
           {"type", state_.type ? state_.type->def.id : ""},
           {"title", state_.title},
           {"status", to_string(state_.status)},
           {"priority", state_.priority},
           {"owner", state_.owner},
           {"created_at", format_time(state_.created_at)},
           {"subject", {{"customer", state_.subject.customer}, {"attributes", state_.subject.attributes}}}};
    Json parts = Json::array();
    for (const auto& p : state_.participants) parts.push_back(p.actor);
    j["participants"] = parts;
    return expr::Value::from_json(j);
  }
  if (name == "goals") {
    Json j = Json::object();
    for (const auto& g : state_.goals) j[g.spec.id] = goal_json(g);
    return expr::Value::from_json(j);
  }
  if (name == "items") {
    Json j = Json::object();
    for (const auto& i : state_.items) j[i.id] = item_json(i);
    return expr::Value::from_json(j);
  }
  return {};
}

expr::Value CaseEnv::call(std::string_view name, std::span<const expr::Value> args) const {
  auto str_arg = [&](std::size_t i) -> const std::string* {
    if (i >= args.size()) return nullptr;
    return std::get_if<std::string>(&args[i].storage());
  };
  if (name == "goal") {
    const std::string* id = str_arg(0);
    if (!id) return {};
    const Goal* g = state_.find_goal(*id);
    return g ? expr::Value::from_json(goal_json(*g)) : expr::Value();
  }
  if (name == "item") {
    const std::string* id = str_arg(0);
    if (!id) return {};
    const Item* it = resolve_item(*id);
    return it ? expr::Value::from_json(item_json(*it)) : expr::Value();
  }
  if (name == "count") {
    const std::string* def = str_arg(0);
    const std::string* st = str_arg(1);
    if (!def) return {};
    std::int64_t n = 0;
    for (const auto& it : state_.items) {
      if (it.def->def.id != *def) continue;
      if (st && to_string(it.state) != *st) continue;
      ++n;
    }
    return expr::Value(n);
  }
  return {};
}

bool eval_condition(const expr::Expression& e, const CaseEnv& env, bool if_empty) {
  if (e.empty()) return if_empty;
  return e.test(env);
}

}  // namespace acm::runtime
