// SPDX-License-Identifier: Apache-2.0
// runtime/json_path.hpp - dotted paths into the case file ("customer.address.city", "items.0").
#pragma once

#include <acm/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace acm::runtime::json_path {

/// Splits and checks a path; throws Error(invalid_argument) naming the problem.
std::vector<std::string> split(std::string_view path);
/// The value at `path`, or nullptr.
const Json* find(const Json& root, std::string_view path);
/// Throws Error(invalid_argument) if `set(root, path, ...)` would have to go through a
/// non-container value.
void check_settable(const Json& root, std::string_view path);
/// Sets the value, creating objects on the way (arrays are indexed by number, "-" appends).
/// Takes the value by value: a caller that gives it up (std::move) saves a copy.
void set(Json& root, std::string_view path, Json value);
/// Removes the value; returns false if there was none.
bool remove(Json& root, std::string_view path);

}  // namespace acm::runtime::json_path
