// SPDX-License-Identifier: Apache-2.0
// bindings/python/src/views.cpp - acm value types <-> Python dicts.
#include "views.hpp"

#include <acm/to_json.hpp>

#include <algorithm>
#include <map>

namespace acm::python {

namespace {

// The Python classes of the values (acm.Case, acm.Goal, ...), by kind; set by acm/__init__.py
// (_set_value_classes) and kept for the life of the process (never released: releasing them
// after the interpreter is gone would crash).
std::map<std::string, PyObject*, std::less<>>& value_classes() {
  static auto* classes = new std::map<std::string, PyObject*, std::less<>>();
  return *classes;
}

}  // namespace

void set_value_classes(py::dict classes) {
  auto& out = value_classes();
  for (auto item : classes) {
    PyObject* cls = item.second.ptr();
    if (!PyType_Check(cls) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(cls), &PyDict_Type))
      throw py::type_error("value classes must be dict subclasses");
    Py_INCREF(cls);
    auto& slot = out[item.first.cast<std::string>()];
    Py_XDECREF(slot);
    slot = cls;
  }
}

py::dict make_value(std::string_view kind) {
  auto& classes = value_classes();
  auto it = classes.find(kind);
  if (it == classes.end()) return py::dict();
  return py::reinterpret_steal<py::dict>(py::handle(it->second)().release());
}

namespace {

py::list strings(const std::vector<std::string>& v) {
  py::list out;
  for (const auto& s : v) out.append(py::str(s));
  return out;
}

py::str name(std::string_view s) { return py::str(s.data(), s.size()); }

py::dict to_py(const Participant& p) {
  py::dict d = make_value("participant");
  d["actor"] = p.actor;
  d["roles"] = strings(p.roles);
  return d;
}

py::dict to_py(const Asset& a) {
  py::dict d = make_value("asset");
  d["id"] = a.id;
  d["kind"] = a.kind;
  d["title"] = a.title;
  d["uri"] = a.uri;
  d["text"] = a.text;
  d["media_type"] = a.media_type;
  d["metadata"] = from_json(a.metadata);
  d["added_at"] = from_time(a.added_at);
  d["added_by"] = a.added_by;
  return d;
}

py::dict to_py(const GoalInfo& g) {
  py::dict d = make_value("goal");
  d["id"] = g.id;
  d["name"] = g.name;
  d["owner"] = g.owner;
  d["parent"] = g.parent;
  d["required"] = g.required;
  d["status"] = name(to_string(g.status));
  d["timing"] = name(to_string(g.timing));
  d["deadline"] = from_time(g.deadline);
  d["criterion"] = g.criterion;
  d["milestones"] = strings(g.milestones);
  d["decision"] = g.decision;
  d["achieved_at"] = from_time(g.achieved_at);
  d["remaining_work"] = from_duration(g.remaining_work);
  d["paused_since"] = from_time(g.paused_since);
  return d;
}

py::dict to_py(const PromiseInfo& p) {
  py::dict d = make_value("promise");
  d["id"] = p.id;
  d["what"] = p.what;
  d["due"] = from_time(p.due);
  d["status"] = name(to_string(p.status));
  d["timing"] = name(to_string(p.timing));
  d["expected"] = from_time(p.expected);
  return d;
}

py::dict to_py(const PlanItemInfo& i) {
  py::dict d = make_value("item");
  d["id"] = i.id;
  d["def_id"] = i.def_id;
  d["name"] = i.name;
  d["kind"] = name(to_string(i.kind));
  d["state"] = name(to_string(i.state));
  d["parent"] = i.parent;
  d["fragment"] = i.fragment;
  d["fragment_version"] = i.fragment_version;
  d["goal"] = i.goal;
  d["role"] = i.role;
  d["skills"] = strings(i.skills);
  d["assignee"] = i.assignee;
  d["estimate"] = from_duration(i.estimate);
  d["due"] = from_time(i.due);
  d["required"] = i.required;
  d["manual"] = i.manual;
  d["repetition"] = i.repetition;
  d["after"] = strings(i.after);
  d["activated_at"] = from_time(i.activated_at);
  d["ended_at"] = from_time(i.ended_at);
  return d;
}

py::dict to_py(const Parameter& p) {
  py::dict d;
  d["name"] = p.name;
  d["type"] = p.type;
  d["required"] = p.required;
  d["default_value"] = from_json(p.default_value);
  d["description"] = p.description;
  return d;
}

}  // namespace

py::dict to_py(const CaseInfo& c) {
  py::dict d = make_value("case");
  d["id"] = c.id;
  d["type"] = c.type;
  d["type_version"] = c.type_version;
  d["title"] = c.title;
  py::dict subject = make_value("subject");
  subject["customer"] = c.subject.customer;
  subject["attributes"] = from_json(c.subject.attributes);
  d["subject"] = subject;
  d["owner"] = c.owner;
  py::list participants;
  for (const auto& p : c.participants) participants.append(to_py(p));
  d["participants"] = participants;
  d["priority"] = c.priority;
  d["status"] = name(to_string(c.status));
  d["file"] = from_json(c.file);
  py::list assets;
  for (const auto& a : c.assets) assets.append(to_py(a));
  d["assets"] = assets;
  py::list goals;
  for (const auto& g : c.goals) goals.append(to_py(g));
  d["goals"] = goals;
  py::list items;
  for (const auto& i : c.items) items.append(to_py(i));
  d["items"] = items;
  py::list promises;
  for (const auto& p : c.promises) promises.append(to_py(p));
  d["promises"] = promises;
  d["version"] = c.version;
  d["created_at"] = from_time(c.created_at);
  d["next_deadline"] = from_time(c.next_deadline);
  return d;
}

py::dict to_py(const Event& e) {
  py::dict d = make_value("event");
  d["case_id"] = e.case_id;
  d["seq"] = e.seq;
  d["time"] = from_time(e.time);
  d["actor"] = e.actor;
  d["kind"] = e.kind;
  d["payload"] = from_json(e.payload);
  return d;
}

py::list to_py(const std::vector<Event>& events) {
  py::list out;
  for (const auto& e : events) out.append(to_py(e));
  return out;
}

py::dict to_py(const CommandResult& r) {
  py::dict d = make_value("command_result");
  d["version"] = r.version;
  d["events"] = to_py(r.events);
  d["created"] = r.created;
  return d;
}

py::dict to_py(const WorkItem& w) {
  py::dict d = make_value("work_item");
  d["case_id"] = w.case_id;
  d["item_id"] = w.item_id;
  d["name"] = w.name;
  d["state"] = name(to_string(w.state));
  d["assignee"] = w.assignee;
  d["role"] = w.role;
  d["skills"] = strings(w.skills);
  d["due"] = from_time(w.due);
  d["priority"] = w.priority;
  d["case_title"] = w.case_title;
  d["customer"] = w.customer;
  d["goal"] = w.goal;
  d["goal_deadline"] = from_time(w.goal_deadline);
  d["goal_timing"] = w.goal.empty() ? py::object(py::none()) : py::object(name(to_string(w.goal_timing)));
  return d;
}

py::dict to_py(const FragmentOffer& o) {
  py::dict d = make_value("fragment_offer");
  d["fragment"] = o.fragment;
  d["version"] = o.version;
  d["name"] = o.name;
  d["description"] = o.description;
  py::list params;
  for (const auto& p : o.parameters) params.append(to_py(p));
  d["parameters"] = params;
  return d;
}

Actor to_actor(py::handle by) {
  if (PyUnicode_Check(by.ptr())) return Actor{by.cast<std::string>(), {}};
  if (py::isinstance<Actor>(by)) return by.cast<Actor>();
  throw py::type_error("the actor must be an acm.Actor or a str (an actor id), not " +
                       py::str(py::type::handle_of(by).attr("__name__")).cast<std::string>());
}

Request to_request(py::handle by, const std::optional<std::uint64_t>& expected_version,
                   const std::string& idempotency_key) {
  Request r(to_actor(by));
  r.expected_version = expected_version;
  r.idempotency_key = idempotency_key;
  return r;
}

// ---- Fields ---------------------------------------------------------------------------------

Fields::Fields(py::handle mapping, std::string what) : what_(std::move(what)) {
  if (mapping.is_none()) return;
  if (!PyDict_Check(mapping.ptr()))
    throw py::type_error(what_ + ": expected a dict, not " +
                         py::str(py::type::handle_of(mapping).attr("__name__")).cast<std::string>());
  dict_ = py::reinterpret_borrow<py::dict>(mapping);
}

bool Fields::has(const char* key) const { return dict_.contains(key); }

py::object Fields::get(const char* key) {
  used_.emplace_back(key);
  if (!dict_.contains(key)) return py::none();
  return dict_[key];
}

namespace {
template <class T>
void cast_field(const py::object& v, const std::string& what, const char* key, T& out, const char* expected) {
  if (v.is_none()) return;
  try {
    out = v.cast<T>();
  } catch (const py::cast_error&) {
    throw py::type_error(what + ": '" + key + "' must be " + expected + ", not " +
                         py::str(py::type::handle_of(v).attr("__name__")).cast<std::string>());
  }
}
}  // namespace

void Fields::str(const char* key, std::string& out) {
  py::object v = get(key);
  if (!v.is_none() && !PyUnicode_Check(v.ptr())) throw py::type_error(what_ + ": '" + key + "' must be a str");
  cast_field(v, what_, key, out, "a str");
}
void Fields::integer(const char* key, int& out) {
  py::object v = get(key);
  if (!v.is_none() && (!PyLong_Check(v.ptr()) || PyBool_Check(v.ptr())))
    throw py::type_error(what_ + ": '" + key + "' must be an int");
  cast_field(v, what_, key, out, "an int");
}
void Fields::flag(const char* key, bool& out) { cast_field(get(key), what_, key, out, "a bool"); }
void Fields::strings(const char* key, std::vector<std::string>& out) {
  py::object v = get(key);
  if (!v.is_none() && PyUnicode_Check(v.ptr()))
    throw py::type_error(what_ + ": '" + key + "' must be a list of str, not a str");
  cast_field(v, what_, key, out, "a list of str");
}
void Fields::json(const char* key, Json& out) {
  if (!has(key)) {
    used_.emplace_back(key);
    return;
  }
  out = to_json(get(key));
}
void Fields::time(const char* key, std::optional<TimePoint>& out) { out = to_optional_time(get(key)); }
void Fields::duration(const char* key, std::optional<Duration>& out) { out = to_optional_duration(get(key)); }

void Fields::finish() const {
  for (auto item : dict_) {
    std::string key = py::str(item.first).cast<std::string>();
    if (std::find(used_.begin(), used_.end(), key) == used_.end())
      throw py::type_error(what_ + ": unexpected field '" + key + "'");
  }
}

// ---- input structs --------------------------------------------------------------------------

Participant to_participant(py::handle p) {
  Participant out;
  if (PyTuple_Check(p.ptr())) {
    auto t = py::reinterpret_borrow<py::tuple>(p);
    if (t.size() != 2) throw py::type_error("participant tuple must be (actor, roles)");
    out.actor = t[0].cast<std::string>();
    out.roles = t[1].cast<std::vector<std::string>>();
    return out;
  }
  if (py::isinstance<Actor>(p)) {  // an Actor's roles are global; here they mean case roles
    auto a = p.cast<Actor>();
    return Participant{a.id, a.roles};
  }
  Fields f(p, "participant");
  f.str("actor", out.actor);
  f.strings("roles", out.roles);
  f.finish();
  return out;
}

GoalSpec to_goal_spec(py::handle g) {
  GoalSpec out;
  Fields f(g, "goal");
  f.str("id", out.id);
  f.str("name", out.name);
  f.str("owner", out.owner);
  f.str("parent", out.parent);
  f.flag("required", out.required);
  f.time("deadline", out.deadline);
  f.duration("within", out.within);
  f.str("anchor", out.anchor);
  f.str("criterion", out.criterion);
  f.strings("milestones", out.milestones);
  f.flag("decision", out.decision);
  f.finish();
  return out;
}

Subject to_subject(py::handle s) {
  Subject out;
  Fields f(s, "subject");
  f.str("customer", out.customer);
  f.json("attributes", out.attributes);
  f.finish();
  return out;
}

Json to_document(py::handle doc) {
  if (PyDict_Check(doc.ptr()) || PyList_Check(doc.ptr())) return to_json(doc);
  auto parse = [](const std::string& text) { return parse_json(text, "definitions document"); };
  if (PyBytes_Check(doc.ptr())) return parse(doc.cast<std::string>());
  if (PyUnicode_Check(doc.ptr())) {
    std::string text = doc.cast<std::string>();
    auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && (text[first] == '{' || text[first] == '[')) return parse(text);
  }
  if (PyUnicode_Check(doc.ptr()) || py::hasattr(doc, "__fspath__")) {
    py::object file = py::module_::import("builtins").attr("open")(doc, "r", py::arg("encoding") = "utf-8");
    py::object text = file.attr("read")();
    file.attr("close")();
    return parse(text.cast<std::string>());
  }
  if (py::hasattr(doc, "read")) {
    py::object text = doc.attr("read")();
    return parse(PyBytes_Check(text.ptr()) ? text.cast<std::string>() : py::str(text).cast<std::string>());
  }
  throw py::type_error("a definitions document is a dict, JSON text, a path or a file object, not " +
                       py::str(py::type::handle_of(doc).attr("__name__")).cast<std::string>());
}

// ---- new values (queries of issue 13) -------------------------------------------------------

py::dict to_py(const QueuePage& p) {
  py::dict d = make_value("queue_page");
  py::list items;
  for (const auto& w : p.items) items.append(to_py(w));
  d["items"] = items;
  d["total"] = p.total;
  return d;
}

py::dict to_py(const CaseSummary& c) {
  py::dict d = make_value("case_summary");
  d["id"] = c.id;
  d["type"] = c.type;
  d["type_version"] = c.type_version;
  d["title"] = c.title;
  d["status"] = name(to_string(c.status));
  d["owner"] = c.owner;
  d["customer"] = c.customer;
  d["priority"] = c.priority;
  d["version"] = c.version;
  d["created_at"] = from_time(c.created_at);
  d["updated_at"] = from_time(c.updated_at);
  d["next_deadline"] = from_time(c.next_deadline);
  return d;
}

py::dict to_py(const CasePage& p) {
  py::dict d = make_value("case_page");
  py::list cases;
  for (const auto& c : p.cases) cases.append(to_py(c));
  d["cases"] = cases;
  d["total"] = p.total;
  return d;
}

py::dict to_py(const TemplateInfo& t) {
  py::dict d = make_value("template");
  d["name"] = t.name;
  d["version"] = t.version;
  d["kind"] = t.kind;
  d["created_at"] = from_time(t.created_at);
  d["meta"] = from_json(t.meta);
  return d;
}

py::dict to_py(const IntakeLogEntry& e) {
  py::dict d = make_value("intake_log_entry");
  d["seq"] = e.seq;
  d["event_id"] = e.event_id;
  d["time"] = from_time(e.time);
  d["channel"] = e.channel;
  d["customer"] = e.customer;
  d["rule"] = e.rule;
  d["action"] = e.action;
  d["case_id"] = e.case_id;
  d["reason"] = e.reason;
  d["event"] = from_json(e.event);
  return d;
}

py::dict to_py(const helpdesk::IntakeDecision& x) {
  py::dict d = make_value("intake_decision");
  d["event_id"] = x.event_id;
  py::list steps;
  for (const auto& st : x.steps) {
    py::dict sd = make_value("intake_step");
    sd["rule"] = st.rule;
    sd["action"] = name(helpdesk::to_string(st.action));
    sd["case_id"] = st.case_id;
    sd["reason"] = st.reason;
    sd["log_seq"] = st.log_seq;
    steps.append(sd);
  }
  d["steps"] = steps;
  d["duplicate"] = x.duplicate;
  d["action"] = name(helpdesk::to_string(x.action()));
  d["case_id"] = x.case_id();
  return d;
}

py::dict to_py(const helpdesk::RouteSuggestion& x) {
  py::dict d = make_value("route_suggestion");
  d["agent"] = x.agent;
  d["score"] = x.score;
  py::list terms;
  for (const auto& t : x.terms) {
    py::dict td = make_value("route_term");
    td["name"] = t.name;
    td["value"] = t.value;
    td["weight"] = t.weight;
    td["contribution"] = t.contribution;
    td["detail"] = t.detail;
    terms.append(td);
  }
  d["terms"] = terms;
  d["available"] = x.available;
  d["has_capacity"] = x.has_capacity;
  d["excluded"] = x.excluded;
  d["reason"] = x.reason;
  return d;
}

py::dict to_py(const helpdesk::PerformanceRecord& x) {
  py::dict d = make_value("performance");
  d["completed"] = x.completed;
  d["median"] = from_duration(x.median);
  return d;
}

// ---- values back to C++, for to_json() ------------------------------------------------------

namespace {

/// Reads the fields of a value dict leniently: a missing key keeps the default; a present key
/// must have the type to_py gives it (TypeError naming the key otherwise).
class ValueReader {
 public:
  ValueReader(py::handle v, const char* what) : what_(what) {
    if (!PyDict_Check(v.ptr()))
      throw py::type_error(std::string(what) + ": expected a dict, not " +
                           py::str(py::type::handle_of(v).attr("__name__")).cast<std::string>());
    d_ = py::reinterpret_borrow<py::dict>(v);
  }
  py::object get(const char* key) const { return d_.contains(key) ? py::object(d_[key]) : py::object(py::none()); }
  void str(const char* key, std::string& out) const { cast(key, out); }
  void integer(const char* key, int& out) const { cast(key, out); }
  void integer(const char* key, std::uint64_t& out) const { cast(key, out); }
  void real(const char* key, double& out) const { cast(key, out); }
  void flag(const char* key, bool& out) const { cast(key, out); }
  void strings(const char* key, std::vector<std::string>& out) const { cast(key, out); }
  void json(const char* key, Json& out) const {
    if (d_.contains(key)) out = to_json(get(key));
  }
  void time(const char* key, TimePoint& out) const {
    py::object v = get(key);
    if (!v.is_none()) out = to_time(v);
  }
  void time(const char* key, std::optional<TimePoint>& out) const { out = to_optional_time(get(key)); }
  void duration(const char* key, Duration& out) const {
    py::object v = get(key);
    if (!v.is_none()) out = to_duration(v);
  }
  void duration(const char* key, std::optional<Duration>& out) const { out = to_optional_duration(get(key)); }
  template <class E>
  void named(const char* key, E& out, std::initializer_list<E> values) const {
    py::object v = get(key);
    if (v.is_none()) return;
    std::string text;
    cast(key, text);
    for (E e : values)
      if (to_string(e) == text) {
        out = e;
        return;
      }
    throw Error(ErrorCode::invalid_argument, std::string(what_) + ": '" + key + "' cannot be '" + text + "'");
  }
  /// Each element of the list at `key`, converted by f.
  template <class T, class F>
  void list(const char* key, std::vector<T>& out, F&& f) const {
    py::object v = get(key);
    if (v.is_none()) return;
    out.clear();
    for (auto x : v) out.push_back(f(x));
  }

 private:
  template <class T>
  void cast(const char* key, T& out) const {
    py::object v = get(key);
    if (v.is_none()) return;
    try {
      out = v.cast<T>();
    } catch (const py::cast_error&) {
      throw py::type_error(std::string(what_) + ": '" + key + "' has the wrong type (" +
                           py::str(py::type::handle_of(v).attr("__name__")).cast<std::string>() + ")");
    }
  }
  py::dict d_;
  const char* what_;
};

const std::initializer_list<CaseStatus> kCaseStatuses = {
    CaseStatus::active, CaseStatus::suspended, CaseStatus::completed, CaseStatus::terminated, CaseStatus::closed};
const std::initializer_list<ItemState> kItemStates = {ItemState::available,  ItemState::enabled,   ItemState::disabled,
                                                      ItemState::active,     ItemState::suspended, ItemState::completed,
                                                      ItemState::terminated, ItemState::failed};
const std::initializer_list<Timing> kTimings = {Timing::on_track, Timing::at_risk, Timing::overdue};

Participant participant_of(py::handle v) {
  ValueReader r(v, "participant");
  Participant p;
  r.str("actor", p.actor);
  r.strings("roles", p.roles);
  return p;
}

Subject subject_of(py::handle v) {
  ValueReader r(v, "subject");
  Subject s;
  r.str("customer", s.customer);
  r.json("attributes", s.attributes);
  return s;
}

Asset asset_of(py::handle v) {
  ValueReader r(v, "asset");
  Asset a;
  r.str("id", a.id);
  r.str("kind", a.kind);
  r.str("title", a.title);
  r.str("uri", a.uri);
  r.str("text", a.text);
  r.str("media_type", a.media_type);
  r.json("metadata", a.metadata);
  r.time("added_at", a.added_at);
  r.str("added_by", a.added_by);
  return a;
}

GoalInfo goal_of(py::handle v) {
  ValueReader r(v, "goal");
  GoalInfo g;
  r.str("id", g.id);
  r.str("name", g.name);
  r.str("owner", g.owner);
  r.str("parent", g.parent);
  r.flag("required", g.required);
  r.named("status", g.status, {GoalStatus::open, GoalStatus::achieved, GoalStatus::cancelled});
  r.named("timing", g.timing, kTimings);
  r.time("deadline", g.deadline);
  r.str("criterion", g.criterion);
  r.strings("milestones", g.milestones);
  r.flag("decision", g.decision);
  r.time("achieved_at", g.achieved_at);
  r.duration("remaining_work", g.remaining_work);
  r.time("paused_since", g.paused_since);
  return g;
}

PromiseInfo promise_of(py::handle v) {
  ValueReader r(v, "promise");
  PromiseInfo p;
  r.str("id", p.id);
  r.str("what", p.what);
  r.time("due", p.due);
  r.named("status", p.status,
          {PromiseStatus::open, PromiseStatus::kept, PromiseStatus::broken, PromiseStatus::cancelled});
  r.named("timing", p.timing, kTimings);
  r.time("expected", p.expected);
  return p;
}

PlanItemInfo item_of(py::handle v) {
  ValueReader r(v, "plan item");
  PlanItemInfo i;
  r.str("id", i.id);
  r.str("def_id", i.def_id);
  r.str("name", i.name);
  r.named("kind", i.kind,
          {ItemKind::human_task, ItemKind::automated_task, ItemKind::milestone, ItemKind::timer_listener,
           ItemKind::user_listener, ItemKind::stage});
  r.named("state", i.state, kItemStates);
  r.str("parent", i.parent);
  r.str("fragment", i.fragment);
  r.integer("fragment_version", i.fragment_version);
  r.str("goal", i.goal);
  r.str("role", i.role);
  r.strings("skills", i.skills);
  r.str("assignee", i.assignee);
  r.duration("estimate", i.estimate);
  r.time("due", i.due);
  r.flag("required", i.required);
  r.flag("manual", i.manual);
  r.integer("repetition", i.repetition);
  r.strings("after", i.after);
  r.time("activated_at", i.activated_at);
  r.time("ended_at", i.ended_at);
  return i;
}

CaseInfo case_of(py::handle v) {
  ValueReader r(v, "case");
  CaseInfo c;
  r.str("id", c.id);
  r.str("type", c.type);
  r.integer("type_version", c.type_version);
  r.str("title", c.title);
  if (!r.get("subject").is_none()) c.subject = subject_of(r.get("subject"));
  r.str("owner", c.owner);
  r.list("participants", c.participants, participant_of);
  r.integer("priority", c.priority);
  r.named("status", c.status, kCaseStatuses);
  r.json("file", c.file);
  r.list("assets", c.assets, asset_of);
  r.list("goals", c.goals, goal_of);
  r.list("items", c.items, item_of);
  r.list("promises", c.promises, promise_of);
  r.integer("version", c.version);
  r.time("created_at", c.created_at);
  r.time("next_deadline", c.next_deadline);
  return c;
}

Event event_of(py::handle v) {
  ValueReader r(v, "event");
  Event e;
  r.str("case_id", e.case_id);
  r.integer("seq", e.seq);
  r.time("time", e.time);
  r.str("actor", e.actor);
  r.str("kind", e.kind);
  r.json("payload", e.payload);
  return e;
}

CommandResult command_result_of(py::handle v) {
  ValueReader r(v, "command result");
  CommandResult c;
  r.integer("version", c.version);
  r.list("events", c.events, event_of);
  r.str("created", c.created);
  return c;
}

WorkItem work_item_of(py::handle v) {
  ValueReader r(v, "work item");
  WorkItem w;
  r.str("case_id", w.case_id);
  r.str("item_id", w.item_id);
  r.str("name", w.name);
  r.named("state", w.state, kItemStates);
  r.str("assignee", w.assignee);
  r.str("role", w.role);
  r.strings("skills", w.skills);
  r.time("due", w.due);
  r.integer("priority", w.priority);
  r.str("case_title", w.case_title);
  r.str("customer", w.customer);
  r.str("goal", w.goal);
  r.time("goal_deadline", w.goal_deadline);
  r.named("goal_timing", w.goal_timing, kTimings);
  return w;
}

QueuePage queue_page_of(py::handle v) {
  ValueReader r(v, "queue page");
  QueuePage p;
  r.list("items", p.items, work_item_of);
  r.integer("total", p.total);
  return p;
}

CaseSummary case_summary_of(py::handle v) {
  ValueReader r(v, "case summary");
  CaseSummary c;
  r.str("id", c.id);
  r.str("type", c.type);
  r.integer("type_version", c.type_version);
  r.str("title", c.title);
  r.named("status", c.status, kCaseStatuses);
  r.str("owner", c.owner);
  r.str("customer", c.customer);
  r.integer("priority", c.priority);
  r.integer("version", c.version);
  r.time("created_at", c.created_at);
  r.time("updated_at", c.updated_at);
  r.time("next_deadline", c.next_deadline);
  return c;
}

CasePage case_page_of(py::handle v) {
  ValueReader r(v, "case page");
  CasePage p;
  r.list("cases", p.cases, case_summary_of);
  r.integer("total", p.total);
  return p;
}

FragmentOffer fragment_offer_of(py::handle v) {
  ValueReader r(v, "fragment offer");
  FragmentOffer o;
  r.str("fragment", o.fragment);
  r.integer("version", o.version);
  r.str("name", o.name);
  r.str("description", o.description);
  r.list("parameters", o.parameters, [](py::handle x) {
    ValueReader pr(x, "parameter");
    Parameter p;
    pr.str("name", p.name);
    pr.str("type", p.type);
    pr.flag("required", p.required);
    pr.json("default_value", p.default_value);
    pr.str("description", p.description);
    return p;
  });
  return o;
}

TemplateInfo template_of(py::handle v) {
  ValueReader r(v, "template");
  TemplateInfo t;
  r.str("name", t.name);
  r.integer("version", t.version);
  r.str("kind", t.kind);
  r.time("created_at", t.created_at);
  r.json("meta", t.meta);
  return t;
}

IntakeLogEntry intake_log_entry_of(py::handle v) {
  ValueReader r(v, "intake log entry");
  IntakeLogEntry e;
  r.integer("seq", e.seq);
  r.str("event_id", e.event_id);
  r.time("time", e.time);
  r.str("channel", e.channel);
  r.str("customer", e.customer);
  r.str("rule", e.rule);
  r.str("action", e.action);
  r.str("case_id", e.case_id);
  r.str("reason", e.reason);
  r.json("event", e.event);
  return e;
}

const std::initializer_list<helpdesk::IntakeAction> kIntakeActions = {
    helpdesk::IntakeAction::create_case, helpdesk::IntakeAction::attach,    helpdesk::IntakeAction::raise_priority,
    helpdesk::IntakeAction::ignore,      helpdesk::IntakeAction::unmatched, helpdesk::IntakeAction::rejected};

helpdesk::IntakeStep intake_step_of(py::handle v) {
  ValueReader r(v, "intake step");
  helpdesk::IntakeStep s;
  r.str("rule", s.rule);
  r.named("action", s.action, kIntakeActions);
  r.str("case_id", s.case_id);
  r.str("reason", s.reason);
  r.integer("log_seq", s.log_seq);
  return s;
}

helpdesk::IntakeDecision intake_decision_of(py::handle v) {
  ValueReader r(v, "intake decision");
  helpdesk::IntakeDecision d;
  r.str("event_id", d.event_id);
  r.list("steps", d.steps, intake_step_of);
  r.flag("duplicate", d.duplicate);
  return d;
}

helpdesk::RouteTerm route_term_of(py::handle v) {
  ValueReader r(v, "route term");
  helpdesk::RouteTerm t;
  r.str("name", t.name);
  r.real("value", t.value);
  r.real("weight", t.weight);
  r.real("contribution", t.contribution);
  r.str("detail", t.detail);
  return t;
}

helpdesk::RouteSuggestion route_suggestion_of(py::handle v) {
  ValueReader r(v, "route suggestion");
  helpdesk::RouteSuggestion s;
  r.str("agent", s.agent);
  r.real("score", s.score);
  r.list("terms", s.terms, route_term_of);
  r.flag("available", s.available);
  r.flag("has_capacity", s.has_capacity);
  r.flag("excluded", s.excluded);
  r.str("reason", s.reason);
  return s;
}

helpdesk::PerformanceRecord performance_of(py::handle v) {
  ValueReader r(v, "performance");
  helpdesk::PerformanceRecord p;
  std::uint64_t completed = 0;
  r.integer("completed", completed);
  p.completed = completed;
  r.duration("median", p.median);
  return p;
}

}  // namespace

py::object value_to_json(const std::string& kind, py::handle v) {
  using acm::to_json;
  using helpdesk::to_json;
  static const std::map<std::string, Json (*)(py::handle), std::less<>> kinds = {
      {"participant", [](py::handle x) { return to_json(participant_of(x)); }},
      {"subject", [](py::handle x) { return to_json(subject_of(x)); }},
      {"asset", [](py::handle x) { return to_json(asset_of(x)); }},
      {"goal", [](py::handle x) { return to_json(goal_of(x)); }},
      {"promise", [](py::handle x) { return to_json(promise_of(x)); }},
      {"item", [](py::handle x) { return to_json(item_of(x)); }},
      {"case", [](py::handle x) { return to_json(case_of(x)); }},
      {"event", [](py::handle x) { return to_json(event_of(x)); }},
      {"command_result", [](py::handle x) { return to_json(command_result_of(x)); }},
      {"work_item", [](py::handle x) { return to_json(work_item_of(x)); }},
      {"queue_page", [](py::handle x) { return to_json(queue_page_of(x)); }},
      {"case_summary", [](py::handle x) { return to_json(case_summary_of(x)); }},
      {"case_page", [](py::handle x) { return to_json(case_page_of(x)); }},
      {"fragment_offer", [](py::handle x) { return to_json(fragment_offer_of(x)); }},
      {"template", [](py::handle x) { return to_json(template_of(x)); }},
      {"intake_log_entry", [](py::handle x) { return to_json(intake_log_entry_of(x)); }},
      {"intake_step", [](py::handle x) { return to_json(intake_step_of(x)); }},
      {"intake_decision", [](py::handle x) { return to_json(intake_decision_of(x)); }},
      {"route_term", [](py::handle x) { return to_json(route_term_of(x)); }},
      {"route_suggestion", [](py::handle x) { return to_json(route_suggestion_of(x)); }},
      {"performance", [](py::handle x) { return to_json(performance_of(x)); }},
  };
  auto it = kinds.find(kind);
  if (it == kinds.end()) throw Error(ErrorCode::invalid_argument, "no JSON shape for values of kind '" + kind + "'");
  return from_json(it->second(v));
}

}  // namespace acm::python
