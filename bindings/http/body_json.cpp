// SPDX-License-Identifier: Apache-2.0
// bindings/http/body_json.cpp - request bodies into engine arguments (body_json.hpp).
#include "body_json.hpp"

#include <fmt/format.h>

#include <limits>

namespace acm::http {

namespace {

[[noreturn]] void invalid(const std::string& message) { throw Error(ErrorCode::invalid_argument, message); }

}  // namespace

BodyReader::BodyReader(const Json& j, std::string what, std::initializer_list<std::string_view> keys)
    : j_(j), what_(std::move(what)) {
  if (!j.is_object()) invalid(what_ + " must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (auto k : keys) known = known || k == key;
    if (!known) {
      std::string list;
      for (auto k : keys) list += fmt::format("{}'{}'", list.empty() ? "" : ", ", k);
      invalid(fmt::format("{}: unknown key '{}' (known: {})", what_, key, list.empty() ? "none" : list));
    }
  }
}

void BodyReader::wrong(const char* key, const char* expected) const {
  invalid(fmt::format("{}: '{}' must be {}", what_, key, expected));
}

std::string BodyReader::str(const char* key) const {
  if (!has(key)) return {};
  if (!j_.at(key).is_string()) wrong(key, "a string");
  return j_.at(key).get<std::string>();
}

std::string BodyReader::required_str(const char* key) const {
  if (!has(key)) invalid(fmt::format("{}: '{}' is required", what_, key));
  std::string s = str(key);
  if (s.empty()) invalid(fmt::format("{}: '{}' must not be empty", what_, key));
  return s;
}

bool BodyReader::boolean(const char* key, bool fallback) const {
  if (!has(key)) return fallback;
  if (!j_.at(key).is_boolean()) wrong(key, "true or false");
  return j_.at(key).get<bool>();
}

long long BodyReader::integer(const char* key, long long fallback, long long min, long long max) const {
  if (!has(key)) return fallback;
  const Json& v = j_.at(key);
  if (!v.is_number_integer()) wrong(key, "an integer");
  bool too_big = v.is_number_unsigned() && v.get<unsigned long long>() > static_cast<unsigned long long>(max);
  if (too_big || v.get<long long>() < min || v.get<long long>() > max)
    invalid(fmt::format("{}: '{}' is out of range", what_, key));
  return v.get<long long>();
}

std::vector<std::string> BodyReader::strings(const char* key) const {
  if (!has(key)) return {};
  const Json& v = j_.at(key);
  if (!v.is_array()) wrong(key, "an array of strings");
  std::vector<std::string> out;
  for (const auto& s : v) {
    if (!s.is_string()) wrong(key, "an array of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

std::optional<TimePoint> BodyReader::time(const char* key) const {
  if (!has(key) || j_.at(key).is_null()) return std::nullopt;
  const Json& v = j_.at(key);
  if (v.is_string()) return parse_time(v.get<std::string>());
  if (v.is_number_integer()) return TimePoint(Duration(v.get<std::int64_t>()));
  wrong(key, "a time (RFC 3339 string or integer milliseconds since the epoch)");
}

std::optional<Duration> BodyReader::duration(const char* key) const {
  if (!has(key) || j_.at(key).is_null()) return std::nullopt;
  if (!j_.at(key).is_string()) wrong(key, "a duration string (\"PT4H\", \"90m\")");
  return parse_duration(j_.at(key).get<std::string>());
}

Json BodyReader::object(const char* key) const {
  if (!has(key)) return Json::object();
  if (!j_.at(key).is_object()) wrong(key, "a JSON object");
  return j_.at(key);
}

NewCase new_case_of(const Json& j) {
  BodyReader r(j, "new case", {"id", "type", "type_version", "title", "subject", "owner", "priority", "participants", "file"});
  NewCase c;
  c.id = r.str("id");
  c.type = r.str("type");
  c.type_version = static_cast<int>(r.integer("type_version", 0, 0, std::numeric_limits<int>::max()));
  c.title = r.str("title");
  if (r.has("subject")) {
    BodyReader s(r.at("subject"), "new case: subject", {"customer", "attributes"});
    c.subject.customer = s.str("customer");
    c.subject.attributes = s.object("attributes");
  }
  c.owner = r.str("owner");
  c.priority = static_cast<int>(r.integer("priority", 0, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
  if (r.has("participants")) {
    if (!r.at("participants").is_array()) invalid("new case: 'participants' must be an array");
    for (const auto& p : r.at("participants")) {
      BodyReader pr(p, "new case: participant", {"actor", "roles"});
      c.participants.push_back({pr.required_str("actor"), pr.strings("roles")});
    }
  }
  c.file = r.object("file");
  return c;
}

GoalSpec goal_spec_of(const Json& j) {
  BodyReader r(j, "goal", {"id", "name", "owner", "parent", "required", "deadline", "within", "anchor", "criterion",
                           "milestones", "decision"});
  GoalSpec g;
  g.id = r.required_str("id");
  g.name = r.str("name");
  g.owner = r.str("owner");
  g.parent = r.str("parent");
  g.required = r.boolean("required", true);
  g.deadline = r.time("deadline");
  g.within = r.duration("within");
  if (r.has("anchor")) g.anchor = r.str("anchor");
  g.criterion = r.str("criterion");
  g.milestones = r.strings("milestones");
  g.decision = r.boolean("decision", false);
  return g;
}

GoalChange goal_change_of(const Json& j) {
  BodyReader r(j, "goal change", {"name", "owner", "required", "deadline", "criterion", "milestones"});
  GoalChange c;
  if (r.has("name")) c.name = r.str("name");
  if (r.has("owner")) c.owner = r.str("owner");
  if (r.has("required")) c.required = r.boolean("required", true);
  if (r.has("deadline")) c.deadline = r.time("deadline");  // null: {nullopt} removes it
  if (r.has("criterion")) c.criterion = r.str("criterion");
  if (r.has("milestones")) c.milestones = r.strings("milestones");
  return c;
}

std::pair<FragmentUse, std::vector<std::string>> fragment_use_of(const Json& j) {
  BodyReader r(j, "fragment use", {"fragment", "version", "goal", "params", "after"});
  FragmentUse u;
  u.fragment = r.required_str("fragment");
  u.version = static_cast<int>(r.integer("version", 0, 0, std::numeric_limits<int>::max()));
  u.goal = r.str("goal");
  u.params = r.object("params");
  return {u, r.strings("after")};
}

AdHocTask ad_hoc_task_of(const Json& j) {
  BodyReader r(j, "task", {"name", "kind", "role", "skills", "estimate", "due", "handler", "input", "output", "goal",
                           "assignee", "after", "required", "manual"});
  AdHocTask t;
  t.name = r.required_str("name");
  if (r.has("kind")) {
    std::string k = r.str("kind");
    if (k == "human_task")
      t.kind = ItemKind::human_task;
    else if (k == "automated_task")
      t.kind = ItemKind::automated_task;
    else if (k == "milestone")
      t.kind = ItemKind::milestone;
    else
      invalid(fmt::format("task: unknown kind '{}' (human_task, automated_task, milestone)", k));
  }
  t.role = r.str("role");
  t.skills = r.strings("skills");
  t.estimate = r.duration("estimate");
  t.due = r.duration("due");
  t.handler = r.str("handler");
  if (r.has("input")) t.input = r.at("input");
  t.output = r.str("output");
  t.goal = r.str("goal");
  t.assignee = r.str("assignee");
  t.after = r.strings("after");
  t.required = r.boolean("required", false);
  t.manual = r.boolean("manual", false);
  return t;
}

Asset asset_of(const Json& j) {
  BodyReader r(j, "asset", {"id", "kind", "title", "uri", "text", "media_type", "metadata"});
  Asset a;
  a.id = r.str("id");
  a.kind = r.required_str("kind");
  a.title = r.str("title");
  a.uri = r.str("uri");
  a.text = r.str("text");
  a.media_type = r.str("media_type");
  a.metadata = r.object("metadata");
  return a;
}

PromiseSpec promise_spec_of(const Json& j) {
  BodyReader r(j, "promise", {"id", "what", "due"});
  PromiseSpec p;
  p.id = r.required_str("id");
  p.what = r.str("what");
  auto due = r.time("due");
  if (!due) invalid("promise: 'due' is required (a time)");
  p.due = *due;
  return p;
}

CaseStatus case_status_of(std::string_view name) {
  for (CaseStatus s : {CaseStatus::active, CaseStatus::suspended, CaseStatus::completed, CaseStatus::terminated,
                       CaseStatus::closed})
    if (to_string(s) == name) return s;
  invalid(fmt::format("unknown case status '{}' (active, suspended, completed, terminated, closed)", name));
}

}  // namespace acm::http
