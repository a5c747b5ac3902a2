// SPDX-License-Identifier: Apache-2.0
// src/runtime/from_json.cpp - the JSON shapes of command arguments (acm/from_json.hpp).
#include <acm/from_json.hpp>

#include <fmt/format.h>

#include <limits>

namespace acm {

namespace {

[[noreturn]] void invalid(const std::string& message) { throw Error(ErrorCode::invalid_argument, message); }

constexpr long long kIntMax = std::numeric_limits<int>::max();
constexpr long long kIntMin = std::numeric_limits<int>::min();
constexpr long long kBig = std::numeric_limits<long long>::max();

/// The keys and the reading of a fragment use object, shared by the use and the addition.
FragmentUse read_use(const JsonObjectReader& r) {
  FragmentUse u;
  u.fragment = r.required_str("fragment");
  u.version = static_cast<int>(r.integer("version", 0, 0, kIntMax));
  u.goal = r.str("goal");
  u.params = r.object("params");
  u.stage = r.str("stage");
  return u;
}

}  // namespace

JsonObjectReader::JsonObjectReader(const Json& j, std::string what, std::initializer_list<std::string_view> keys,
                                   std::string path)
    : j_(j), what_(std::move(what)), path_(std::move(path)) {
  if (!j_.is_object()) {
    if (path_.empty()) invalid(what_ + " must be a JSON object");
    invalid(fmt::format("{}: '{}' must be a JSON object", what_, path_));
  }
  for (const auto& [key, value] : j_.items()) {
    bool known = false;
    for (auto k : keys) known = known || k == key;
    if (known) continue;
    std::string list;
    for (auto k : keys) list += fmt::format("{}'{}'", list.empty() ? "" : ", ", k);
    invalid(fmt::format("{}: unknown key '{}' (known: {})", what_, field(key), list.empty() ? "none" : list));
  }
}

std::string JsonObjectReader::field(std::string_view key) const {
  return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

void JsonObjectReader::fail(const char* key, std::string_view problem) const {
  invalid(fmt::format("{}: '{}' {}", what_, field(key), problem));
}

std::string JsonObjectReader::str(const char* key) const {
  if (!has(key)) return {};
  if (!j_.at(key).is_string()) fail(key, "must be a string");
  return j_.at(key).get<std::string>();
}

std::string JsonObjectReader::required_str(const char* key) const {
  if (!has(key)) fail(key, "is required");
  std::string s = str(key);
  if (s.empty()) fail(key, "must not be empty");
  return s;
}

bool JsonObjectReader::boolean(const char* key, bool fallback) const {
  if (!has(key)) return fallback;
  if (!j_.at(key).is_boolean()) fail(key, "must be true or false");
  return j_.at(key).get<bool>();
}

long long JsonObjectReader::integer(const char* key, long long fallback, long long min, long long max) const {
  if (!has(key)) return fallback;
  const Json& v = j_.at(key);
  if (!v.is_number_integer()) fail(key, "must be an integer");
  bool too_big = v.is_number_unsigned() && v.get<unsigned long long>() > static_cast<unsigned long long>(max);
  if (too_big || v.get<long long>() < min || v.get<long long>() > max)
    fail(key, fmt::format("is out of range ({} to {})", min, max));
  return v.get<long long>();
}

double JsonObjectReader::number(const char* key, double fallback) const {
  if (!has(key)) return fallback;
  if (!j_.at(key).is_number()) fail(key, "must be a number");
  return j_.at(key).get<double>();
}

std::vector<std::string> JsonObjectReader::strings(const char* key) const {
  if (!has(key)) return {};
  const Json& v = j_.at(key);
  if (!v.is_array()) fail(key, "must be an array of strings");
  std::vector<std::string> out;
  out.reserve(v.size());
  for (const auto& s : v) {
    if (!s.is_string()) fail(key, "must be an array of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

std::optional<TimePoint> JsonObjectReader::time(const char* key) const {
  if (!has(key) || j_.at(key).is_null()) return std::nullopt;
  const Json& v = j_.at(key);
  if (v.is_number_integer()) return TimePoint(Duration(v.get<std::int64_t>()));
  if (!v.is_string()) fail(key, "must be a time (RFC 3339 string or integer milliseconds since the epoch)");
  try {
    return parse_time(v.get<std::string>());
  } catch (const Error& e) {  // keeps the parser's code, names the field
    throw Error(e.code(), fmt::format("{}: '{}' is not a time: {}", what_, field(key), e.what()));
  }
}

std::optional<Duration> JsonObjectReader::duration(const char* key) const {
  if (!has(key) || j_.at(key).is_null()) return std::nullopt;
  if (!j_.at(key).is_string()) fail(key, "must be a duration string (\"PT4H\", \"90m\")");
  try {
    return parse_duration(j_.at(key).get<std::string>());
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("{}: '{}' is not a duration: {}", what_, field(key), e.what()));
  }
}

Json JsonObjectReader::object(const char* key) const {
  if (!has(key)) return Json::object();
  if (!j_.at(key).is_object()) fail(key, "must be a JSON object");
  return j_.at(key);
}

JsonObjectReader JsonObjectReader::child(const char* key, std::initializer_list<std::string_view> keys) const {
  return JsonObjectReader(j_.at(key), what_, keys, field(key));
}

const Json& JsonObjectReader::array(const char* key) const {
  static const Json empty = Json::array();
  if (!has(key)) return empty;
  if (!j_.at(key).is_array()) fail(key, "must be an array");
  return j_.at(key);
}

NewCase new_case_from_json(const Json& j) {
  JsonObjectReader r(j, "case",
                     {"id", "type", "type_version", "title", "subject", "owner", "priority", "participants", "file"});
  NewCase c;
  c.id = r.str("id");
  c.type = r.str("type");
  c.type_version = static_cast<int>(r.integer("type_version", 0, 0, kIntMax));
  c.title = r.str("title");
  if (r.has("subject")) {
    JsonObjectReader s = r.child("subject", {"customer", "attributes"});
    c.subject.customer = s.str("customer");
    c.subject.attributes = s.object("attributes");
  }
  c.owner = r.str("owner");
  c.priority = static_cast<int>(r.integer("priority", 0, kIntMin, kIntMax));
  std::size_t i = 0;
  for (const Json& p : r.array("participants")) {
    JsonObjectReader pr(p, "case", {"actor", "roles"}, fmt::format("participants[{}]", i++));
    c.participants.push_back({pr.required_str("actor"), pr.strings("roles")});
  }
  c.file = r.object("file");
  return c;
}

GoalSpec goal_spec_from_json(const Json& j) {
  JsonObjectReader r(j, "goal", {"id", "name", "owner", "parent", "required", "deadline", "within", "anchor",
                                 "criterion", "milestones", "decision"});
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

GoalChange goal_change_from_json(const Json& j) {
  JsonObjectReader r(j, "goal change", {"name", "owner", "required", "deadline", "criterion", "milestones"});
  GoalChange c;
  if (r.has("name")) c.name = r.str("name");
  if (r.has("owner")) c.owner = r.str("owner");
  if (r.has("required")) c.required = r.boolean("required", true);
  if (r.has("deadline")) c.deadline = r.time("deadline");  // null: {nullopt} removes it
  if (r.has("criterion")) c.criterion = r.str("criterion");
  if (r.has("milestones")) c.milestones = r.strings("milestones");
  return c;
}

FragmentUse fragment_use_from_json(const Json& j) {
  if (j.is_string()) {
    if (j.get<std::string>().empty()) invalid("fragment use: 'fragment' must not be empty");
    return FragmentUse{j.get<std::string>()};
  }
  return read_use(JsonObjectReader(j, "fragment use", {"fragment", "version", "goal", "params", "stage"}));
}

FragmentAddition fragment_addition_from_json(const Json& j) {
  JsonObjectReader r(j, "fragment use", {"fragment", "version", "goal", "params", "stage", "after"});
  return {read_use(r), r.strings("after")};
}

AdHocTask ad_hoc_task_from_json(const Json& j) {
  JsonObjectReader r(j, "task", {"name", "kind", "role", "skills", "estimate", "due", "handler", "input", "output",
                                 "goal", "assignee", "after", "required", "manual"});
  AdHocTask t;
  t.name = r.required_str("name");
  if (r.has("kind")) {
    try {
      t.kind = item_kind_from_name(r.str("kind"));
    } catch (const Error& e) {
      r.fail("kind", fmt::format("is not valid: {}", e.what()));
    }
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

Asset asset_from_json(const Json& j) {
  JsonObjectReader r(j, "asset", {"id", "kind", "title", "uri", "text", "media_type", "metadata"});
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

PromiseSpec promise_spec_from_json(const Json& j) {
  JsonObjectReader r(j, "promise", {"id", "what", "due"});
  PromiseSpec p;
  p.id = r.required_str("id");
  p.what = r.str("what");
  auto due = r.time("due");
  if (!due) r.fail("due", "is required (a time)");
  p.due = *due;
  return p;
}

QueueFilter queue_filter_from_json(const Json& j) {
  JsonObjectReader r(j, "queue filter", {"assignee", "roles", "skills", "overdue_at", "limit", "offset"});
  QueueFilter f;
  f.assignee = r.str("assignee");
  f.roles = r.strings("roles");
  if (r.has("skills") && !r.at("skills").is_null()) f.skills = r.strings("skills");
  f.overdue_at = r.time("overdue_at");
  f.limit = static_cast<std::size_t>(r.integer("limit", 50, 0, kBig));
  f.offset = static_cast<std::size_t>(r.integer("offset", 0, 0, kBig));
  return f;
}

CaseQuery case_query_from_json(const Json& j) {
  JsonObjectReader r(j, "case query", {"status", "owner", "customer", "limit", "offset"});
  CaseQuery q;
  auto status = [&r](const std::string& name) {
    try {
      return case_status_from_name(name);
    } catch (const Error& e) {
      r.fail("status", fmt::format("is not valid: {}", e.what()));
    }
  };
  if (r.has("status") && r.at("status").is_string())
    q.statuses.push_back(status(r.str("status")));
  else
    for (const std::string& st : r.strings("status")) q.statuses.push_back(status(st));
  q.owner = r.str("owner");
  q.customer = r.str("customer");
  q.limit = static_cast<std::size_t>(r.integer("limit", 50, 0, 10000));
  q.offset = static_cast<std::size_t>(r.integer("offset", 0, 0, kBig));
  return q;
}

CaseStatus case_status_from_name(std::string_view name) {
  std::string names;
  for (CaseStatus s : {CaseStatus::active, CaseStatus::suspended, CaseStatus::completed, CaseStatus::terminated,
                       CaseStatus::closed}) {
    if (to_string(s) == name) return s;
    names += fmt::format("{}{}", names.empty() ? "" : ", ", to_string(s));
  }
  invalid(fmt::format("unknown case status '{}' ({})", name, names));
}

ItemKind item_kind_from_name(std::string_view name) {
  std::string names;
  for (ItemKind k : {ItemKind::human_task, ItemKind::automated_task, ItemKind::milestone, ItemKind::timer_listener,
                     ItemKind::user_listener, ItemKind::stage}) {
    if (to_string(k) == name) return k;
    names += fmt::format("{}{}", names.empty() ? "" : ", ", to_string(k));
  }
  invalid(fmt::format("unknown item kind '{}' ({})", name, names));
}

}  // namespace acm
