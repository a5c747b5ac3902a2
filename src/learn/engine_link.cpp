// SPDX-License-Identifier: Apache-2.0
// learn/engine_link.cpp - engine cases as traces; feeding a learner; templates in the store.
#include <acm/engine.hpp>
#include <acm/error.hpp>
#include <acm/learn.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace acm::learn {
namespace {

std::string scalar_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number()) return fmt::format("{:g}", v.get<double>());
  return v.dump();
}

bool ended(CaseStatus s) {
  return s == CaseStatus::completed || s == CaseStatus::terminated || s == CaseStatus::closed;
}

}  // namespace

Trace trace_of(const CaseInfo& info, const std::vector<Event>& history) {
  Trace t;
  t.id = info.id;
  t.case_type = info.type;
  if (info.subject.attributes.is_object())
    for (const auto& [k, v] : info.subject.attributes.items())
      if (!v.is_object() && !v.is_array() && !v.is_null()) t.attributes.emplace_back(k, scalar_text(v));
  std::map<std::string, std::string> activity_of;  // item id -> activity name
  std::set<std::string> ad_hoc;
  for (const PlanItemInfo& item : info.items) activity_of[item.id] = item.def_id.empty() ? item.name : item.def_id;
  for (const Event& e : history) {
    const Json& p = e.payload;
    if (e.kind == "task_added") {
      const std::string item = p.value("item", "");
      ad_hoc.insert(item);
      if (p.contains("task") && p["task"].contains("name")) activity_of[item] = p["task"]["name"].get<std::string>();
    } else if (e.kind == "fragment_added") {
      t.steps.push_back(Step{fmt::format("+{}", p.value("fragment", "")), e.time, e.actor, false, {}});
    } else if (e.kind == "item_created") {
      const std::string like = p.value("like", "");
      const std::string item = p.value("item", "");
      if (activity_of.count(like) && !activity_of.count(item)) activity_of[item] = activity_of[like];
      if (ad_hoc.count(like)) ad_hoc.insert(item);
    } else if (e.kind == "item_transition" && p.value("to", "") == "completed") {
      const std::string item = p.value("item", "");
      auto it = activity_of.find(item);
      if (it == activity_of.end()) continue;  // a stage or an item removed since: not work done
      bool is_stage = false;
      for (const PlanItemInfo& pi : info.items)
        if (pi.id == item) is_stage = pi.kind == ItemKind::stage;
      if (is_stage) continue;
      t.steps.push_back(Step{it->second, e.time, e.actor, ad_hoc.count(item) > 0, {}});
    } else if (e.kind == "subject_changed") {
      const Json& v = p.contains("value") ? p["value"] : Json();
      if (!v.is_object() && !v.is_array() && !v.is_null() && !t.steps.empty())
        t.steps.back().attributes.emplace_back(p.value("key", ""), scalar_text(v));
    }
  }
  return t;
}

std::size_t learn_from_engine(Engine& engine, Learner& learner) {
  std::size_t n = 0;
  std::string after;
  for (;;) {
    const std::vector<std::string> ids = engine.list_cases(1000, after);
    if (ids.empty()) break;
    for (const std::string& id : ids) {
      CaseInfo info = engine.get_case(id);
      if (!ended(info.status)) continue;
      learner.add(trace_of(info, engine.history(id)));
      ++n;
    }
    after = ids.back();
  }
  return n;
}

std::uint64_t learn_on_close(Engine& engine, Learner& learner) {
  return engine.subscribe(
      [&engine, &learner](const Event& e) {
        if (e.payload.value("to", "") != "completed") return;
        learner.add(trace_of(engine.get_case(e.case_id), engine.history(e.case_id)));
      },
      {"case_status"});
}

std::function<std::optional<TimePoint>(const CaseInfo&, TimePoint)> forecaster(std::shared_ptr<const Learner> learner) {
  if (!learner) throw Error(ErrorCode::invalid_argument, "forecaster: no learner");
  return [learner](const CaseInfo& info, TimePoint now) -> std::optional<TimePoint> {
    Trace t;
    t.id = info.id;
    t.case_type = info.type;
    if (info.subject.attributes.is_object())
      for (const auto& [k, v] : info.subject.attributes.items())
        if (!v.is_object() && !v.is_array() && !v.is_null()) t.attributes.emplace_back(k, scalar_text(v));
    for (const PlanItemInfo& it : info.items)
      if (it.state == ItemState::completed && it.kind != ItemKind::stage && it.ended_at)
        t.steps.push_back(
            Step{it.fragment.empty() ? it.name : it.def_id, *it.ended_at, it.assignee, it.fragment.empty(), {}});
    std::stable_sort(t.steps.begin(), t.steps.end(), [](const Step& a, const Step& b) { return a.time < b.time; });
    if (t.steps.empty()) return std::nullopt;  // nothing done yet: no evidence to forecast from
    return learner->completion(t, now).expected;
  };
}

int save_template(Engine& engine, const std::string& name, const Learner& learner) {
  const LearnerStats s = learner.stats();
  const Json meta = {{"traces", s.traces},
                     {"steps", s.steps},
                     {"activities", s.activities},
                     {"trained_on", s.trained_on},
                     {"model_version", s.model_version}};
  return engine.templates().put(name, "learner", meta, learner.save());
}

Learner load_template(Engine& engine, const std::string& name, int version) {
  auto [info, data] = engine.templates().get(name, version);
  if (info.kind != "learner")
    throw Error(ErrorCode::invalid_argument,
                fmt::format("template '{}' version {} is a '{}', not a learner", name, info.version, info.kind));
  try {
    return Learner::load(data);
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("template '{}' version {}: {}", name, info.version, e.what()));
  }
}

}  // namespace acm::learn
