// SPDX-License-Identifier: Apache-2.0
// base/error.cpp - names of the error codes.
#include <acm/error.hpp>

namespace acm {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::ok: return "ok";
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::invalid_definition: return "invalid_definition";
    case ErrorCode::parse_error: return "parse_error";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::already_exists: return "already_exists";
    case ErrorCode::permission_denied: return "permission_denied";
    case ErrorCode::invalid_state: return "invalid_state";
    case ErrorCode::cycle: return "cycle";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::storage: return "storage";
    case ErrorCode::internal: return "internal";
  }
  return "unknown";
}

}  // namespace acm
