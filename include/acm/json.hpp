// acm/json.hpp - the JSON value type used for case files, parameters and event payloads.
#pragma once

#include <nlohmann/json.hpp>

namespace acm {

/// A JSON value (nlohmann::json). Case-file values, fragment parameters, subject attributes
/// and event payloads are all `Json`. Object keys keep sorted order, so two equal states
/// serialise to identical text.
using Json = nlohmann::json;

}  // namespace acm
