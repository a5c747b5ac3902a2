// SPDX-License-Identifier: Apache-2.0
// bindings/python/src/convert.hpp - conversions between acm values and Python objects.
//
// Every function here must be called with the GIL held.
#pragma once

#include <acm/acm.hpp>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>  // in every file: the same type casters everywhere

#include <cstdint>
#include <optional>
#include <string>

namespace acm::python {

namespace py = pybind11;

/// Imports the Python modules the conversions use (datetime). Called once at module init.
void init_conversions();

/// Python -> JSON: None, bool, int, float, str, dict (str keys), list/tuple; datetime and
/// timedelta become ISO-8601 strings. TypeError for anything else.
Json to_json(py::handle value);
/// JSON -> Python: dict, list, str, int, float, bool, None.
py::object from_json(const Json& value);

/// A timezone-aware datetime.datetime or an ISO-8601 string -> TimePoint. Naive datetimes are
/// refused (acm.InvalidArgument): the engine counts UTC.
TimePoint to_time(py::handle value);
std::optional<TimePoint> to_optional_time(py::handle value);  ///< None -> nullopt
/// TimePoint -> datetime.datetime with tzinfo=datetime.timezone.utc.
py::object from_time(TimePoint t);
py::object from_time(const std::optional<TimePoint>& t);  ///< nullopt -> None

/// A datetime.timedelta or an ISO-8601/short duration string ("PT2H", "90m") -> Duration
/// (whole milliseconds, rounded down).
Duration to_duration(py::handle value);
std::optional<Duration> to_optional_duration(py::handle value);  ///< None -> nullopt
py::object from_duration(Duration d);
py::object from_duration(const std::optional<Duration>& d);  ///< nullopt -> None

/// Creates acm.Error and one subclass per ErrorCode in `m`, and the translator that turns a
/// C++ acm::Error into them.
void register_errors(py::module_& m);

/// "TypeName: message" of the Python exception being handled (for failed tasks).
std::string describe(const py::error_already_set& e);

}  // namespace acm::python
