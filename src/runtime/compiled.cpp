// SPDX-License-Identifier: Apache-2.0
#include "runtime/compiled.hpp"

#include <acm/error.hpp>

#include "model/names.hpp"
#include "model/validate.hpp"
#include "plan/plan_graph.hpp"

#include <fmt/format.h>

namespace acm::runtime {
namespace {

expr::Expression parse_or_empty(const std::string& text) {
  if (text.empty()) return {};
  return expr::Expression::parse(text, model::engine_parse_options());
}

std::vector<CSentry> compile_sentries(const std::vector<Sentry>& sentries) {
  std::vector<CSentry> out;
  out.reserve(sentries.size());
  for (const auto& s : sentries) out.push_back(CSentry{s.id, s.on_parts, parse_or_empty(s.condition)});
  return out;
}

std::unique_ptr<CItem> compile_item(const ItemDef& def, std::unordered_map<std::string, const CItem*>& by_id) {
  auto item = std::make_unique<CItem>();
  item->def = def;
  item->def.children.clear();
  item->manual = parse_or_empty(def.manual_activation);
  item->required = parse_or_empty(def.required);
  item->repetition = parse_or_empty(def.repetition);
  item->entry = compile_sentries(def.entry);
  item->exit = compile_sentries(def.exit);
  for (const auto& s : item->entry)
    for (const auto& op : s.on_parts)
      if (op.source == OnPartSource::item) item->has_item_onparts = true;
  for (const auto& child : def.children) item->children.push_back(compile_item(child, by_id));
  by_id[def.id] = item.get();
  return item;
}

void throw_problems(const std::vector<Problem>& problems) { model::throw_if_problems(problems); }

}  // namespace

std::shared_ptr<const CFragment> compile(const FragmentDef& def) {
  auto problems = model::validate(def, "");
  if (!problems.empty()) throw_problems(problems);
  auto f = std::make_shared<CFragment>();
  f->def = def;
  f->applicability = parse_or_empty(def.applicability);
  for (const auto& item : def.items) f->items.push_back(compile_item(item, f->by_id));
  f->exit = compile_sentries(def.exit);
  f->stage.def.id = def.id;
  f->stage.def.name = def.name.empty() ? def.id : def.name;
  f->stage.def.kind = ItemKind::stage;
  f->stage.def.auto_complete = def.auto_complete;
  f->stage.exit = f->exit;
  // Static critical path over the definition (Boost.Graph), also a last cycle check.
  plan::PlanGraph graph;
  std::unordered_map<std::string, std::size_t> node;
  for (const auto& [id, item] : f->by_id)
    node[id] = graph.add_node(id, item->def.kind == ItemKind::stage ? Duration{0} : item->def.estimate.value_or(Duration{0}));
  auto add_edges = [&](plan::PlanGraph& g, bool on_parts) {
    for (const auto& [id, item] : f->by_id) {
      for (const auto& a : item->def.after)
        if (node.count(a)) g.add_edge(node[a], node[id]);
      if (!on_parts) continue;
      for (const auto& sentry : item->entry)
        for (const auto& op : sentry.on_parts)
          if (op.source == OnPartSource::item && node.count(op.ref) && op.ref != id) g.add_edge(node[op.ref], node[id]);
    }
  };
  add_edges(graph, true);
  auto cycle = graph.find_cycle();
  if (!cycle.empty() && def.semantics == Semantics::cmmn) {
    // CMMN allows sentries that wait for each other in a cycle (they never fire); only `after`
    // cycles are refused. The critical path then follows `after` alone.
    plan::PlanGraph after_only;
    for (const auto& [id, item] : f->by_id)
      node[id] = after_only.add_node(
          id, item->def.kind == ItemKind::stage ? Duration{0} : item->def.estimate.value_or(Duration{0}));
    add_edges(after_only, false);
    graph = std::move(after_only);
    cycle = graph.find_cycle();
  }
  if (!cycle.empty()) {
    std::string text;
    for (const auto& c : cycle) text += (text.empty() ? "" : " -> ") + c;
    throw_problems({Problem{"/items", "dependency cycle " + text}});
  }
  f->total_estimate = graph.critical_path();
  return f;
}

std::shared_ptr<const CCaseType> compile(const CaseTypeDef& def) {
  auto problems = model::validate(def, "");
  if (!problems.empty()) throw_problems(problems);
  auto t = std::make_shared<CCaseType>();
  t->def = def;
  for (const auto& g : def.goals) t->goal_criteria.push_back(parse_or_empty(g.criterion));
  return t;
}

std::unique_ptr<CItem> compile_adhoc(const AdHocTask& task, const std::string& id) {
  if (task.name.empty()) throw Error(ErrorCode::invalid_argument, "an ad-hoc task needs a name");
  if (task.kind != ItemKind::human_task && task.kind != ItemKind::automated_task && task.kind != ItemKind::milestone)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("an ad-hoc task must be a human_task, automated_task or milestone, not {}", to_string(task.kind)));
  if (task.kind == ItemKind::automated_task && task.handler.empty())
    throw Error(ErrorCode::invalid_argument, "an automated ad-hoc task needs a handler");
  if (task.estimate && task.estimate->count() < 0) throw Error(ErrorCode::invalid_argument, "estimate must not be negative");
  auto item = std::make_unique<CItem>();
  item->def.id = id;
  item->def.name = task.name;
  item->def.kind = task.kind;
  item->def.role = task.role;
  item->def.skills = task.skills;
  item->def.estimate = task.estimate;
  item->def.due = task.due;
  item->def.handler = task.handler;
  item->def.input = task.input;
  item->def.output = task.output;
  if (task.manual) item->manual = expr::Expression::parse("true");
  return item;
}

Json adhoc_to_json(const AdHocTask& t) {
  Json j{{"name", t.name}, {"kind", to_string(t.kind)}};
  if (!t.role.empty()) j["role"] = t.role;
  if (!t.skills.empty()) j["skills"] = t.skills;
  if (t.estimate) j["estimate_ms"] = t.estimate->count();
  if (t.due) j["due_ms"] = t.due->count();
  if (!t.handler.empty()) j["handler"] = t.handler;
  if (!t.input.is_null()) j["input"] = t.input;
  if (!t.output.empty()) j["output"] = t.output;
  if (t.manual) j["manual"] = true;
  return j;
}

AdHocTask adhoc_from_json(const Json& j) {
  AdHocTask t;
  t.name = j.value("name", "");
  std::string kind = j.value("kind", "human_task");
  t.kind = kind == "automated_task" ? ItemKind::automated_task : kind == "milestone" ? ItemKind::milestone : ItemKind::human_task;
  t.role = j.value("role", "");
  if (j.contains("skills")) t.skills = j["skills"].get<std::vector<std::string>>();
  if (j.contains("estimate_ms")) t.estimate = Duration{j["estimate_ms"].get<std::int64_t>()};
  if (j.contains("due_ms")) t.due = Duration{j["due_ms"].get<std::int64_t>()};
  t.handler = j.value("handler", "");
  if (j.contains("input")) t.input = j["input"];
  t.output = j.value("output", "");
  t.manual = j.value("manual", false);
  return t;
}

std::shared_ptr<const CFragment> Registry::fragment(const std::string& id, int version) const {
  auto it = fragments_.find(id);
  if (it == fragments_.end() || it->second.empty()) return nullptr;
  if (version == 0) return it->second.rbegin()->second;
  auto v = it->second.find(version);
  return v == it->second.end() ? nullptr : v->second;
}

std::shared_ptr<const CCaseType> Registry::case_type(const std::string& id, int version) const {
  auto it = types_.find(id);
  if (it == types_.end() || it->second.empty()) return nullptr;
  if (version == 0) return it->second.rbegin()->second;
  auto v = it->second.find(version);
  return v == it->second.end() ? nullptr : v->second;
}

void Registry::add(std::shared_ptr<const CFragment> f) { fragments_[f->def.id][f->def.version] = std::move(f); }
void Registry::add(std::shared_ptr<const CCaseType> t) { types_[t->def.id][t->def.version] = std::move(t); }

}  // namespace acm::runtime
