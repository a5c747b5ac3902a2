// SPDX-License-Identifier: Apache-2.0
// bindings/python/src/views.cpp - acm value types <-> Python dicts.
#include "views.hpp"

#include <acm/cmmn.hpp>

#include <algorithm>

namespace acm::python {

namespace {

py::list strings(const std::vector<std::string>& v) {
  py::list out;
  for (const auto& s : v) out.append(py::str(s));
  return out;
}

py::str name(std::string_view s) { return py::str(s.data(), s.size()); }

py::dict to_py(const Participant& p) {
  py::dict d;
  d["actor"] = p.actor;
  d["roles"] = strings(p.roles);
  return d;
}

py::dict to_py(const Asset& a) {
  py::dict d;
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
  py::dict d;
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
  py::dict d;
  d["id"] = p.id;
  d["what"] = p.what;
  d["due"] = from_time(p.due);
  d["status"] = name(to_string(p.status));
  d["timing"] = name(to_string(p.timing));
  d["expected"] = from_time(p.expected);
  return d;
}

py::dict to_py(const PlanItemInfo& i) {
  py::dict d;
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
  py::dict d;
  d["id"] = c.id;
  d["type"] = c.type;
  d["type_version"] = c.type_version;
  d["title"] = c.title;
  py::dict subject;
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
  py::dict d;
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
  py::dict d;
  d["version"] = r.version;
  d["events"] = to_py(r.events);
  d["created"] = r.created;
  return d;
}

py::dict to_py(const WorkItem& w) {
  py::dict d;
  d["case_id"] = w.case_id;
  d["item_id"] = w.item_id;
  d["name"] = w.name;
  d["state"] = name(to_string(w.state));
  d["assignee"] = w.assignee;
  d["role"] = w.role;
  d["skills"] = strings(w.skills);
  d["due"] = from_time(w.due);
  d["priority"] = w.priority;
  return d;
}

py::dict to_py(const FragmentOffer& o) {
  py::dict d;
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
  auto parse = [](const std::string& text) {
    if (cmmn::is_xml(text)) return cmmn::import(text).definitions;  // a CMMN XML model, by content
    return parse_json(text, "definitions document");
  };
  if (PyBytes_Check(doc.ptr())) return parse(doc.cast<std::string>());
  if (PyUnicode_Check(doc.ptr())) {
    std::string text = doc.cast<std::string>();
    auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && (text[first] == '{' || text[first] == '[' || text[first] == '<')) return parse(text);
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
  throw py::type_error("a definitions document is a dict, JSON or CMMN XML text, a path or a file object, not " +
                       py::str(py::type::handle_of(doc).attr("__name__")).cast<std::string>());
}

}  // namespace acm::python
