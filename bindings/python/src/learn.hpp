// SPDX-License-Identifier: Apache-2.0
// bindings/python/src/learn.hpp - learning, event-log import and business calendars.
#pragma once

#include "convert.hpp"

#include <acm/calendar.hpp>
#include <acm/learn.hpp>

namespace acm::python {

/// A JSON argument given as a dict/list or as JSON text (str or bytes).
Json json_argument(py::handle value, const char* what);

/// Binds Learner, evaluate, import_csv, import_xes and BusinessCalendar.
void bind_learning(py::module_& m);

}  // namespace acm::python
