// SPDX-License-Identifier: Apache-2.0
// runtime/view_json.cpp - the JSON shape of acm's values (acm/to_json.hpp, docs/json.md).
#include <acm/to_json.hpp>

namespace acm {

namespace {

Json time_or_null(const std::optional<TimePoint>& t) { return t ? Json(format_time(*t)) : Json(); }
Json duration_or_null(const std::optional<Duration>& d) { return d ? Json(format_duration(*d)) : Json(); }
Json name_of(std::string_view s) { return Json(std::string(s)); }

template <class T>
Json array_of(const std::vector<T>& values) {
  Json out = Json::array();
  for (const T& v : values) out.push_back(to_json(v));
  return out;
}

}  // namespace

Json to_json(const Participant& p) { return Json{{"actor", p.actor}, {"roles", p.roles}}; }

Json to_json(const Subject& s) { return Json{{"customer", s.customer}, {"attributes", s.attributes}}; }

Json to_json(const Asset& a) {
  return Json{{"id", a.id},
              {"kind", a.kind},
              {"title", a.title},
              {"uri", a.uri},
              {"text", a.text},
              {"media_type", a.media_type},
              {"metadata", a.metadata},
              {"added_at", format_time(a.added_at)},
              {"added_by", a.added_by}};
}

Json to_json(const GoalInfo& g) {
  return Json{{"id", g.id},
              {"name", g.name},
              {"owner", g.owner},
              {"parent", g.parent},
              {"required", g.required},
              {"status", name_of(to_string(g.status))},
              {"timing", name_of(to_string(g.timing))},
              {"deadline", time_or_null(g.deadline)},
              {"criterion", g.criterion},
              {"milestones", g.milestones},
              {"decision", g.decision},
              {"achieved_at", time_or_null(g.achieved_at)},
              {"remaining_work", format_duration(g.remaining_work)},
              {"paused_since", time_or_null(g.paused_since)}};
}

Json to_json(const PromiseInfo& p) {
  return Json{{"id", p.id},
              {"what", p.what},
              {"due", format_time(p.due)},
              {"status", name_of(to_string(p.status))},
              {"timing", name_of(to_string(p.timing))},
              {"expected", time_or_null(p.expected)}};
}

Json to_json(const PlanItemInfo& i) {
  return Json{{"id", i.id},
              {"def", i.def_id},
              {"name", i.name},
              {"kind", name_of(to_string(i.kind))},
              {"state", name_of(to_string(i.state))},
              {"parent", i.parent},
              {"fragment", i.fragment},
              {"fragment_version", i.fragment_version},
              {"goal", i.goal},
              {"role", i.role},
              {"skills", i.skills},
              {"assignee", i.assignee},
              {"estimate", duration_or_null(i.estimate)},
              {"due", time_or_null(i.due)},
              {"required", i.required},
              {"manual", i.manual},
              {"repetition", i.repetition},
              {"after", i.after},
              {"activated_at", time_or_null(i.activated_at)},
              {"ended_at", time_or_null(i.ended_at)}};
}

Json to_json(const CaseInfo& c) {
  return Json{{"id", c.id},
              {"type", c.type},
              {"type_version", c.type_version},
              {"title", c.title},
              {"subject", to_json(c.subject)},
              {"owner", c.owner},
              {"participants", array_of(c.participants)},
              {"priority", c.priority},
              {"status", name_of(to_string(c.status))},
              {"file", c.file},
              {"assets", array_of(c.assets)},
              {"goals", array_of(c.goals)},
              {"items", array_of(c.items)},
              {"promises", array_of(c.promises)},
              {"version", c.version},
              {"created_at", format_time(c.created_at)},
              {"next_deadline", time_or_null(c.next_deadline)}};
}

Json to_json(const Event& e) {
  return Json{{"case", e.case_id}, {"seq", e.seq},   {"time", format_time(e.time)},
              {"actor", e.actor},  {"kind", e.kind}, {"payload", e.payload}};
}

Json to_json(const CommandResult& r) {
  return Json{{"version", r.version}, {"events", array_of(r.events)}, {"created", r.created}};
}

Json to_json(const WorkItem& w) {
  return Json{{"case", w.case_id},
              {"item", w.item_id},
              {"name", w.name},
              {"state", name_of(to_string(w.state))},
              {"assignee", w.assignee},
              {"role", w.role},
              {"skills", w.skills},
              {"due", time_or_null(w.due)},
              {"priority", w.priority},
              {"case_title", w.case_title},
              {"customer", w.customer},
              {"goal", w.goal},
              {"goal_deadline", time_or_null(w.goal_deadline)},
              {"goal_timing", w.goal.empty() ? Json() : name_of(to_string(w.goal_timing))}};
}

Json to_json(const QueuePage& p) { return Json{{"items", array_of(p.items)}, {"total", p.total}}; }

Json to_json(const CaseSummary& c) {
  return Json{{"id", c.id},
              {"type", c.type},
              {"type_version", c.type_version},
              {"title", c.title},
              {"status", name_of(to_string(c.status))},
              {"owner", c.owner},
              {"customer", c.customer},
              {"priority", c.priority},
              {"version", c.version},
              {"created_at", format_time(c.created_at)},
              {"updated_at", format_time(c.updated_at)},
              {"next_deadline", time_or_null(c.next_deadline)}};
}

Json to_json(const CasePage& p) { return Json{{"cases", array_of(p.cases)}, {"total", p.total}}; }

Json to_json(const FragmentOffer& o) {
  Json params = Json::array();
  for (const Parameter& p : o.parameters)
    params.push_back(Json{{"name", p.name},
                          {"type", p.type},
                          {"required", p.required},
                          {"default", p.default_value},
                          {"description", p.description}});
  return Json{{"fragment", o.fragment},
              {"version", o.version},
              {"name", o.name},
              {"description", o.description},
              {"parameters", std::move(params)}};
}

Json to_json(const TaskContext& c) {
  return Json{{"case", c.case_id}, {"item", c.item_id},        {"handler", c.handler},
              {"input", c.input},  {"case_file", c.case_file}, {"now", format_time(c.now)}};
}

Json to_json(const TemplateInfo& t) {
  return Json{{"name", t.name},
              {"version", t.version},
              {"kind", t.kind},
              {"created_at", format_time(t.created_at)},
              {"meta", t.meta}};
}

Json to_json(const IntakeLogEntry& e) {
  return Json{{"seq", e.seq},           {"event_id", e.event_id}, {"time", format_time(e.time)}, {"channel", e.channel},
              {"customer", e.customer}, {"rule", e.rule},         {"action", e.action},          {"case", e.case_id},
              {"reason", e.reason},     {"event", e.event}};
}

Json to_json(const Actor& a) { return Json{{"id", a.id}, {"roles", a.roles}}; }

}  // namespace acm
