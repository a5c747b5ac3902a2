// SPDX-License-Identifier: Apache-2.0
// acm/error.hpp - the one exception type of the library and its codes.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace acm {

/// What went wrong, stable across versions (mirrored by the C ABI status codes).
enum class ErrorCode {
  ok = 0,
  invalid_argument = 1,    ///< a malformed value, path or parameter
  invalid_definition = 2,  ///< a definition failed validation (message lists every problem)
  parse_error = 3,         ///< an expression or document did not parse (message gives the position)
  not_found = 4,           ///< unknown case, goal, plan item, definition or handler
  already_exists = 5,      ///< an id that must be new is taken
  permission_denied = 6,   ///< the actor may not run this command (message says why)
  invalid_state = 7,       ///< the command does not apply in the current state (e.g. complete a task that is not active)
  cycle = 8,               ///< the change would create a dependency cycle (message names it)
  conflict = 9,            ///< optimistic concurrency: the case version was not the expected one
  storage = 10,            ///< the store failed (I/O, corrupt or foreign file, locked)
  internal = 11,           ///< a bug in acm
};

/// Short stable name of a code, e.g. "not_found".
std::string_view to_string(ErrorCode code) noexcept;

/// The exception thrown by every acm API. A command that throws has changed nothing.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  /// The category of the failure.
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace acm
