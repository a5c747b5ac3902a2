// SPDX-License-Identifier: Apache-2.0
// acm/json.hpp - the JSON value type used for case files, parameters and event payloads.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string_view>

namespace acm {

/// A JSON value (nlohmann::json). Case-file values, fragment parameters, subject attributes
/// and event payloads are all `Json`. Object keys keep sorted order, so two equal states
/// serialise to identical text.
using Json = nlohmann::json;

/// How deeply parse_json lets arrays and objects nest by default.
inline constexpr std::size_t kMaxJsonDepth = 512;

/// Parses JSON text that came from outside (a file, a request, a channel), naming it `what` in
/// errors: Error(parse_error, "<what> is not valid JSON: ...") for bad text, and
/// Error(invalid_argument, "<what> nests more than N levels deep") when arrays and objects nest
/// deeper than `max_depth`. Parsing itself does not recurse, but copying, comparing and
/// serialising a value do, as deep as it nests: a value from `Json::parse` alone can overflow
/// the stack later. No value the engine accepts nests deeper than 256 levels.
Json parse_json(std::string_view text, std::string_view what, std::size_t max_depth = kMaxJsonDepth);

}  // namespace acm
