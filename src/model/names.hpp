// SPDX-License-Identifier: Apache-2.0
// model/names.hpp - names the condition language sees inside the engine.
#pragma once

#include "expr/expr.hpp"

namespace acm::model {

/// Root names an engine expression may use:
///  file               the case file (JSON object)
///  case               {id, type, title, status, priority, owner, subject:{customer, attributes}, created_at}
///  subject            shorthand for case.subject
///  params             the fragment's arguments (inside a fragment)
///  goals              object goal id -> {status, timing, deadline, ...}
///  items              object item id -> {state, ...}
///  now                current time
///  repetitionCounter  1-based instance number of the item being evaluated (CMMN models)
///  event              payload of the external event being handled (on-part of kind event)
/// Context functions: goal("id"), item("id"), and count("def_id", "state") = number of
/// instances of an item definition in a state.
inline expr::ParseOptions engine_parse_options() {
  expr::ParseOptions o;
  o.variables = {"file", "case", "subject", "params", "goals", "items", "now", "repetitionCounter", "event"};
  o.functions = {"goal", "item", "count"};
  return o;
}

}  // namespace acm::model
