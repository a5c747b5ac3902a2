// SPDX-License-Identifier: Apache-2.0
// bindings/python/src/views.hpp - acm value types <-> Python dicts.
//
// Results are dicts (instances of the dict subclasses of acm/_values.py, which add to_json())
// whose keys are the C++ field names; times are aware datetimes, durations timedeltas, enums
// their snake_case names. Every function needs the GIL.
#pragma once

#include "convert.hpp"

#include <acm/intake.hpp>
#include <acm/routing.hpp>

#include <string>
#include <vector>

namespace acm::python {

py::dict to_py(const CaseInfo& c);
py::dict to_py(const Event& e);
py::list to_py(const std::vector<Event>& events);
py::dict to_py(const CommandResult& r);
py::dict to_py(const WorkItem& w);
py::dict to_py(const FragmentOffer& o);
py::dict to_py(const QueuePage& p);
py::dict to_py(const CaseSummary& c);
py::dict to_py(const CasePage& p);
py::dict to_py(const TemplateInfo& t);
py::dict to_py(const IntakeLogEntry& e);
py::dict to_py(const helpdesk::IntakeDecision& d);
py::dict to_py(const helpdesk::RouteSuggestion& s);
py::dict to_py(const helpdesk::PerformanceRecord& p);

/// The Python classes of values by kind ("case", "goal", "item", "event", "work_item", ...; see
/// acm/_values.py). Values are instances of these dict subclasses; without them, plain dicts.
void set_value_classes(py::dict classes);
/// A new, empty value of `kind` (an instance of its class, or a dict).
py::dict make_value(std::string_view kind);
/// The documented JSON shape (docs/json.md) of a value dict of `kind`: the dict is read back into
/// the C++ value and given to acm::to_json, so every surface shares one implementation.
py::object value_to_json(const std::string& kind, py::handle value);

/// The actor of a command: an acm.Actor or a str (an actor id without global roles).
Actor to_actor(py::handle by);
/// A Request from the actor and the keyword arguments every command takes.
Request to_request(py::handle by, const std::optional<std::uint64_t>& expected_version,
                   const std::string& idempotency_key);

/// Reads a dict of keyword fields into a struct, refusing unknown keys (TypeError).
class Fields {
 public:
  Fields(py::handle mapping, std::string what);
  bool has(const char* key) const;
  py::object get(const char* key);  ///< marks the key used; None if absent
  void str(const char* key, std::string& out);
  void integer(const char* key, int& out);
  void flag(const char* key, bool& out);
  void strings(const char* key, std::vector<std::string>& out);
  void json(const char* key, Json& out);
  void time(const char* key, std::optional<TimePoint>& out);
  void duration(const char* key, std::optional<Duration>& out);
  /// TypeError naming the first key nobody read.
  void finish() const;

 private:
  py::dict dict_;
  std::string what_;
  std::vector<std::string> used_;
};

Participant to_participant(py::handle p);  ///< {"actor", "roles"} or (actor, roles)
GoalSpec to_goal_spec(py::handle g);       ///< dict with GoalSpec's field names
Subject to_subject(py::handle s);          ///< {"customer", "attributes"}

/// A definitions document from a dict/list, JSON text (str or bytes starting with '{' or
/// '['), a path (str or os.PathLike) or a file object.
Json to_document(py::handle doc);

}  // namespace acm::python
