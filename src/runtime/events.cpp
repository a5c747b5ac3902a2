// SPDX-License-Identifier: Apache-2.0
// runtime/events.cpp - each event kind's payload: what is written and what is read back.
#include "runtime/events.hpp"

#include <acm/error.hpp>

#include "runtime/state.hpp"

#include <fmt/format.h>

#include <utility>

namespace acm::runtime::events {

std::optional<Kind> kind_of(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<Kind>(i);
  return std::nullopt;
}

// ---- Payload ---------------------------------------------------------------------------------

Payload::Payload(const Event& event) : Payload(event, event.payload, "") {}

Payload::Payload(const Event& event, const Json& json, std::string prefix)
    : event_(&event), json_(&json), prefix_(std::move(prefix)) {
  if (!json.is_object()) fail("is not a JSON object");  // nested() checks its object first
}

void Payload::fail(std::string_view what) const {
  throw Error(ErrorCode::internal, fmt::format("event {} ('{}') of case '{}': the payload {}", event_->seq, event_->kind,
                                               event_->case_id, what));
}

const Json& Payload::at(const char* key) const {
  auto it = json_->find(key);
  if (it == json_->end()) fail(fmt::format("has no {}'{}'", prefix_, key));
  return *it;
}

const std::string& Payload::str(const char* key) const {
  const Json& v = at(key);
  if (!v.is_string()) fail(fmt::format("has {}'{}' which is not a string", prefix_, key));
  return v.get_ref<const std::string&>();
}

std::string Payload::str_or(const char* key, std::string_view fallback) const {
  return contains(key) ? str(key) : std::string(fallback);
}

int Payload::integer(const char* key) const {
  const Json& v = at(key);
  if (!v.is_number()) fail(fmt::format("has {}'{}' which is not a number", prefix_, key));
  return v.get<int>();
}

int Payload::integer_or(const char* key, int fallback) const { return contains(key) ? integer(key) : fallback; }

bool Payload::boolean_or(const char* key, bool fallback) const {
  if (!contains(key)) return fallback;
  const Json& v = at(key);
  if (!v.is_boolean()) fail(fmt::format("has {}'{}' which is not true or false", prefix_, key));
  return v.get<bool>();
}

std::vector<std::string> Payload::strings(const char* key) const {
  const Json& v = at(key);
  if (!v.is_array()) fail(fmt::format("has {}'{}' which is not an array", prefix_, key));
  std::vector<std::string> out;
  out.reserve(v.size());
  for (const Json& s : v) {
    if (!s.is_string()) fail(fmt::format("has {}'{}' holding something other than strings", prefix_, key));
    out.push_back(s.get<std::string>());
  }
  return out;
}

Json Payload::json_or(const char* key, Json fallback) const {
  auto it = json_->find(key);
  return it == json_->end() ? std::move(fallback) : *it;
}

std::optional<TimePoint> Payload::time_or_null(const char* key) const {
  auto it = json_->find(key);
  if (it == json_->end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) fail(fmt::format("has {}'{}' which is not a time", prefix_, key));
  return parse_time(it->get_ref<const std::string&>());
}

Payload Payload::nested(const char* key) const {
  const Json& v = at(key);
  if (!v.is_object()) fail(fmt::format("has {}'{}' which is not a JSON object", prefix_, key));
  return Payload(*event_, v, prefix_ + "'" + key + "'.");
}

namespace {

/// Builds a payload object by inserting each member into the object's map directly. nlohmann's
/// initializer-list constructor (`Json{{"key", value}, ...}`) first makes every pair a two-element
/// array (a vector and a heap string for the key) and then takes it apart again: on the emitting
/// path that was most of the cost of a payload (docs/design.md, "A lean write path"). The value
/// is the same, members in the map's (sorted) order whatever the order of `add`.
class Obj {
 public:
  Obj() : json_(Json::value_t::object) {}
  template <class V>
  Obj& add(const char* key, V&& value) {
    auto& map = json_.get_ref<Json::object_t&>();
    map.emplace_hint(map.end(), key, Json(std::forward<V>(value)));
    return *this;
  }
  Obj& add(const char* key, std::string_view value) { return add(key, Json(std::string(value))); }
  /// Adds `value` when it is not empty (the fields "not stored when empty").
  Obj& add_unless_empty(const char* key, std::string& value) {
    if (!value.empty()) add(key, std::move(value));
    return *this;
  }
  Json take() { return std::move(json_); }

 private:
  Json json_;
};

Json time_or_null_json(const std::optional<TimePoint>& t) { return t ? Json(format_time(*t)) : Json(); }

CaseStatus case_status_named(const Payload& p, const std::string& s) {
  for (auto c : {CaseStatus::active, CaseStatus::suspended, CaseStatus::completed, CaseStatus::terminated,
                 CaseStatus::closed})
    if (to_string(c) == s) return c;
  p.fail(fmt::format("names the unknown case status '{}'", s));
}

GoalStatus goal_status_named(const Payload& p, const std::string& s) {
  for (auto c : {GoalStatus::open, GoalStatus::achieved, GoalStatus::cancelled})
    if (to_string(c) == s) return c;
  p.fail(fmt::format("names the unknown goal status '{}'", s));
}

Timing timing_named(const Payload& p, const std::string& s) {
  for (auto c : {Timing::on_track, Timing::at_risk, Timing::overdue})
    if (to_string(c) == s) return c;
  p.fail(fmt::format("names the unknown timing '{}'", s));
}

}  // namespace

// ---- values inside payloads --------------------------------------------------------------------

Json goal_spec_json(const GoalSpec& g) {
  return Obj()
      .add("criterion", g.criterion)
      .add("decision", g.decision)
      .add("id", g.id)
      .add("milestones", g.milestones)
      .add("name", g.name)
      .add("owner", g.owner)
      .add("parent", g.parent)
      .add("required", g.required)
      .take();
}

GoalSpec goal_spec_from_json(const Json& j) {
  GoalSpec g;
  g.id = j.value("id", "");
  g.name = j.value("name", "");
  g.owner = j.value("owner", "");
  g.parent = j.value("parent", "");
  g.required = j.value("required", true);
  g.criterion = j.value("criterion", "");
  if (j.contains("milestones")) g.milestones = j["milestones"].get<std::vector<std::string>>();
  g.decision = j.value("decision", false);
  return g;
}

// ---- the payloads, in the order of Kind ---------------------------------------------------------

Json CaseCreated::to_json() && {
  Json parts = Json::array();
  for (auto& x : participants) parts.push_back(Obj().add("actor", std::move(x.actor)).add("roles", std::move(x.roles)).take());
  return Obj()
      .add("file", std::move(file))
      .add("owner", std::move(owner))
      .add("participants", std::move(parts))
      .add("priority", priority)
      .add("subject", Obj().add("attributes", std::move(subject.attributes)).add("customer", std::move(subject.customer)).take())
      .add("title", std::move(title))
      .add("type", std::move(type))
      .add("type_version", type_version)
      .take();
}

CaseCreated CaseCreated::read(const Payload& p) {
  CaseCreated c;
  c.type = p.str_or("type", "");
  c.type_version = p.integer_or("type_version", 0);
  c.title = p.str_or("title", "");
  const Payload subject = p.nested("subject");
  c.subject.customer = subject.str_or("customer", "");
  c.subject.attributes = subject.json_or("attributes", Json::object());
  c.owner = p.str_or("owner", "");
  c.priority = p.integer_or("priority", 0);
  for (const auto& part : p.json_or("participants", Json::array()))
    c.participants.push_back(
        Participant{part.at("actor").get<std::string>(), part.at("roles").get<std::vector<std::string>>()});
  c.file = p.json_or("file", Json::object());
  return c;
}

Json OwnerChanged::to_json() && { return Obj().add("from", std::move(from)).add("to", std::move(to)).take(); }
OwnerChanged OwnerChanged::read(const Payload& p) { return OwnerChanged{.to = p.str("to")}; }

Json ParticipantAdded::to_json() && { return Obj().add("actor", std::move(actor)).add("roles", std::move(roles)).take(); }
ParticipantAdded ParticipantAdded::read(const Payload& p) {
  return ParticipantAdded{.actor = p.str("actor"), .roles = p.strings("roles")};
}

Json ParticipantRemoved::to_json() && { return Obj().add("actor", std::move(actor)).take(); }
ParticipantRemoved ParticipantRemoved::read(const Payload& p) { return ParticipantRemoved{.actor = p.str("actor")}; }

Json PriorityChanged::to_json() && {
  Obj j;
  if (base) j.add("base", *base);
  j.add("from", from);
  if (score) j.add("score", std::move(*score));
  if (terms) j.add("terms", std::move(*terms));
  return j.add("to", to).take();
}
PriorityChanged PriorityChanged::read(const Payload& p) {
  PriorityChanged c;
  c.to = p.integer("to");
  if (p.contains("base")) c.base = p.integer("base");
  return c;
}

Json SubjectChanged::to_json() && { return Obj().add("key", std::move(key)).add("value", std::move(value)).take(); }
SubjectChanged SubjectChanged::read(const Payload& p) { return SubjectChanged{.key = p.str("key"), .value = p.at("value")}; }

Json CaseStatusChanged::to_json() && {
  return Obj().add("from", to_string(from)).add_unless_empty("reason", reason).add("to", to_string(to)).take();
}
CaseStatusChanged CaseStatusChanged::read(const Payload& p) {
  return CaseStatusChanged{.to = case_status_named(p, p.str("to"))};
}

Json GoalAdded::to_json() && {
  return Obj().add("deadline", time_or_null_json(deadline)).add("goal", goal_spec_json(goal)).take();
}
GoalAdded GoalAdded::read(const Payload& p) {
  return GoalAdded{.goal = goal_spec_from_json(p.at("goal")), .deadline = p.time_or_null("deadline")};
}

Json GoalChanged::to_json() && {
  Obj changes;
  if (criterion) changes.add("criterion", std::move(*criterion));
  if (deadline) changes.add("deadline", time_or_null_json(*deadline));
  if (milestones) changes.add("milestones", std::move(*milestones));
  if (name) changes.add("name", std::move(*name));
  if (owner) changes.add("owner", std::move(*owner));
  if (required) changes.add("required", *required);
  return Obj().add("changes", changes.take()).add("goal", std::move(goal)).take();
}
GoalChanged GoalChanged::read(const Payload& p) {
  GoalChanged c;
  c.goal = p.str("goal");
  const Payload changes = p.nested("changes");
  if (changes.contains("name")) c.name = changes.str("name");
  if (changes.contains("owner")) c.owner = changes.str("owner");
  if (changes.contains("required")) c.required = changes.boolean_or("required", true);
  if (changes.contains("deadline")) c.deadline = changes.time_or_null("deadline");
  if (changes.contains("criterion")) c.criterion = changes.str("criterion");
  if (changes.contains("milestones")) c.milestones = changes.strings("milestones");
  return c;
}

Json GoalStatusChanged::to_json() && {
  Obj j;
  if (decision) j.add("decision", true);
  return j.add("from", to_string(from))
      .add("goal", std::move(goal))
      .add_unless_empty("reason", reason)
      .add("to", to_string(to))
      .take();
}
GoalStatusChanged GoalStatusChanged::read(const Payload& p) {
  return GoalStatusChanged{.goal = p.str("goal"), .to = goal_status_named(p, p.str("to"))};
}

Json GoalTiming::to_json() && {
  return Obj()
      .add("deadline", time_or_null_json(deadline))
      .add("from", to_string(from))
      .add("goal", std::move(goal))
      .add("remaining_work", format_duration(remaining_work))
      .add("to", to_string(to))
      .take();
}
GoalTiming GoalTiming::read(const Payload& p) { return GoalTiming{.goal = p.str("goal"), .to = timing_named(p, p.str("to"))}; }

Json GoalPaused::to_json() && {
  return Obj().add("goal", std::move(goal)).add_unless_empty("reason", reason).take();
}
GoalPaused GoalPaused::read(const Payload& p) { return GoalPaused{.goal = p.str("goal")}; }

Json GoalResumed::to_json() && {
  return Obj()
      .add("deadline", time_or_null_json(deadline))
      .add("goal", std::move(goal))
      .add("paused_for", format_duration(paused_for))
      .take();
}
GoalResumed GoalResumed::read(const Payload& p) {
  return GoalResumed{.goal = p.str("goal"), .deadline = p.time_or_null("deadline")};
}

Json PromiseMade::to_json() && {
  return Obj()
      .add("promise", Obj().add("due", format_time(due)).add("id", std::move(id)).add("what", std::move(what)).take())
      .take();
}
PromiseMade PromiseMade::read(const Payload& p) {
  const Payload promise = p.nested("promise");
  return PromiseMade{.id = promise.str("id"), .what = promise.str_or("what", ""), .due = parse_time(promise.str("due"))};
}

Json PromiseTiming::to_json() && {
  return Obj()
      .add("due", format_time(due))
      .add("expected", time_or_null_json(expected))
      .add("from", to_string(from))
      .add("promise", std::move(promise))
      .add("source", std::move(source))
      .add("to", to_string(to))
      .take();
}
PromiseTiming PromiseTiming::read(const Payload& p) {
  return PromiseTiming{
      .promise = p.str("promise"), .to = timing_named(p, p.str("to")), .expected = p.time_or_null("expected")};
}

Json PromiseKept::to_json() && { return Obj().add("promise", std::move(promise)).take(); }
PromiseKept PromiseKept::read(const Payload& p) { return PromiseKept{.promise = p.str("promise")}; }

Json PromiseBroken::to_json() && {
  return Obj().add("due", format_time(due)).add("promise", std::move(promise)).add("reason", std::move(reason)).take();
}
PromiseBroken PromiseBroken::read(const Payload& p) { return PromiseBroken{.promise = p.str("promise")}; }

Json PromiseCancelled::to_json() && {
  return Obj().add("promise", std::move(promise)).add_unless_empty("reason", reason).take();
}
PromiseCancelled PromiseCancelled::read(const Payload& p) { return PromiseCancelled{.promise = p.str("promise")}; }

Json FragmentAdded::to_json() && {
  return Obj()
      .add("after", std::move(after))
      .add("fragment", std::move(fragment))
      .add("goal", std::move(goal))
      .add("item", std::move(item))
      .add("params", std::move(params))
      .add_unless_empty("parent", parent)
      .add("version", version)
      .take();
}
FragmentAdded FragmentAdded::read(const Payload& p) {
  FragmentAdded f;
  f.item = p.str("item");
  f.fragment = p.str("fragment");
  f.version = p.integer("version");
  f.goal = p.str_or("goal", "");
  f.params = p.json_or("params", Json::object());
  if (p.contains("after")) f.after = p.strings("after");
  f.parent = p.str_or("parent", "");
  return f;
}

Json TaskAdded::to_json() && {
  return Obj()
      .add("after", std::move(after))
      .add("assignee", std::move(assignee))
      .add("goal", std::move(goal))
      .add("item", std::move(item))
      .add("required", required)
      .add("task", std::move(task))
      .take();
}
TaskAdded TaskAdded::read(const Payload& p) {
  TaskAdded t;
  t.item = p.str("item");
  t.task = p.at("task");
  t.goal = p.str_or("goal", "");
  t.assignee = p.str_or("assignee", "");
  t.required = p.boolean_or("required", false);
  if (p.contains("after")) t.after = p.strings("after");
  return t;
}

Json ItemCreated::to_json() && {
  return Obj().add("item", std::move(item)).add("like", std::move(like)).add("repetition", repetition).take();
}
ItemCreated ItemCreated::read(const Payload& p) {
  return ItemCreated{.item = p.str("item"), .like = p.str("like"), .repetition = p.integer_or("repetition", 0)};
}

Json ItemRemoved::to_json() && { return Obj().add("item", std::move(item)).take(); }
ItemRemoved ItemRemoved::read(const Payload& p) { return ItemRemoved{.item = p.str("item")}; }

Json DependencyAdded::to_json() && { return Obj().add("after", std::move(after)).add("item", std::move(item)).take(); }
DependencyAdded DependencyAdded::read(const Payload& p) { return DependencyAdded{.item = p.str("item"), .after = p.str("after")}; }

Json ItemTransition::to_json() && {
  Obj j;
  if (due) j.add("due", format_time(*due));
  if (error) j.add("error", std::move(*error));
  j.add("from", to_string(from)).add("item", std::move(item));
  if (seen) j.add("seen", std::move(*seen));
  return j.add("to", to_string(to)).add("transition", std::move(transition)).take();
}
ItemTransition ItemTransition::read(const Payload& p) {
  ItemTransition t;
  t.item = p.str("item");
  t.transition = p.str("transition");
  const std::string& to = p.str("to");
  auto state = parse_item_state(to);
  if (!state) p.fail(fmt::format("names the unknown item state '{}'", to));
  t.to = *state;
  t.due = p.time_or_null("due");
  if (p.contains("seen") && p.at("seen").is_array()) t.seen = p.at("seen");
  return t;
}

Json ItemAssigned::to_json() && {
  return Obj().add("from", std::move(from)).add("item", std::move(item)).add("to", std::move(to)).take();
}
ItemAssigned ItemAssigned::read(const Payload& p) { return ItemAssigned{.item = p.str("item"), .to = p.str("to")}; }

Json ItemOverdue::to_json() && { return Obj().add("due", format_time(due)).add("item", std::move(item)).take(); }
ItemOverdue ItemOverdue::read(const Payload& p) { return ItemOverdue{.item = p.str("item")}; }

Json FileSet::to_json() && {
  Obj j;
  if (item) j.add("item", std::move(*item));
  return j.add("path", std::move(path)).add("value", std::move(value)).take();
}
FileSet FileSet::read(const Payload& p) { return FileSet{.path = p.str("path"), .value = p.at("value")}; }

Json FileRemoved::to_json() && { return Obj().add("path", std::move(path)).take(); }
FileRemoved FileRemoved::read(const Payload& p) { return FileRemoved{.path = p.str("path")}; }

Json AssetAttached::to_json() && {
  return Obj()
      .add("asset", Obj()
                        .add("id", std::move(asset.id))
                        .add("kind", std::move(asset.kind))
                        .add("media_type", std::move(asset.media_type))
                        .add("metadata", std::move(asset.metadata))
                        .add("text", std::move(asset.text))
                        .add("title", std::move(asset.title))
                        .add("uri", std::move(asset.uri))
                        .take())
      .take();
}
AssetAttached AssetAttached::read(const Payload& p) {
  const Payload a = p.nested("asset");
  AssetAttached out;
  out.asset.id = a.str_or("id", "");
  out.asset.kind = a.str_or("kind", "");
  out.asset.title = a.str_or("title", "");
  out.asset.uri = a.str_or("uri", "");
  out.asset.text = a.str_or("text", "");
  out.asset.media_type = a.str_or("media_type", "");
  out.asset.metadata = a.json_or("metadata", Json::object());
  out.asset.added_at = p.event().time;
  out.asset.added_by = p.event().actor;
  return out;
}

Json Signal::to_json() && { return Obj().add("name", std::move(name)).add("payload", std::move(payload)).take(); }
Signal Signal::read(const Payload& p) { return Signal{.name = p.str("name")}; }

Json Escalated::to_json() && {
  return Obj()
      .add("actions", std::move(actions))
      .add("count", count)
      .add("notify", std::move(notify))
      .add("rule", std::move(rule))
      .add("target", std::move(target))
      .add("trigger", std::move(trigger))
      .take();
}
Escalated Escalated::read(const Payload& p) { return Escalated{.rule = p.str("rule"), .target = p.str("target")}; }

Json ErrorRecorded::to_json() && {
  return Obj().add_unless_empty("bound", bound).add_unless_empty("item", item).add("message", std::move(message)).take();
}
ErrorRecorded ErrorRecorded::read(const Payload&) { return {}; }

}  // namespace acm::runtime::events
