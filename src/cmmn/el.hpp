// SPDX-License-Identifier: Apache-2.0
// cmmn/el.hpp - translation of the Java-EL conditions of CMMN models (`${...}`) into acm's
// condition language (docs/expressions.md). Private to the library.
#pragma once

#include <string>
#include <string_view>

namespace acm::cmmn::detail {

struct ElOptions {
  /// Name of Flowable's repetition counter variable (`flowable:counterVariable`), read as
  /// acm's `repetitionCounter`.
  std::string counter_variable = "repetitionCounter";
};

/// Translates one EL condition. Case variables become top-level case-file keys (`x` ->
/// `file.x`, `caseInstance.getVariable('x')` -> `file.x`, `var:exists('x')` -> `exists(file.x)`),
/// and a variable read where EL expects a boolean is coerced as EL does (the string "true",
/// in any case, is true). Returns false and sets `error` (with the column in the text) when the
/// text uses what acm cannot evaluate (method calls on beans, side effects, lambdas...).
bool translate_el(std::string_view text, const ElOptions& options, std::string& out, std::string& error);

}  // namespace acm::cmmn::detail
