// SPDX-License-Identifier: Apache-2.0
// acm/callbacks.hpp - the host's code that the engine calls: task handlers for automated tasks
// (TaskContext -> TaskResult) and subscribers to events (EventCallback). They are registered
// with Engine::register_handler and Engine::subscribe; docs/api.md, "Callbacks and their
// threads", has the whole picture.
#pragma once

#include <acm/case.hpp>
#include <acm/json.hpp>
#include <acm/time.hpp>

#include <functional>
#include <string>

namespace acm {

/// What an automated-task handler sees. Copies: valid for the duration of the call.
struct TaskContext {
  std::string case_id;
  std::string item_id;
  std::string handler;  ///< the name the task's definition names
  Json input;           ///< the item's input (with fragment parameters)
  Json case_file;       ///< a copy of the case file
  TimePoint now{};      ///< the engine clock's time
};

/// What a handler returns: success with an output (written at the item's `output` path) or a
/// failure (the item goes to `failed`, CMMN "fault").
struct TaskResult {
  bool ok = true;
  Json output;        ///< written at the item's output path (ok only); at most max_payload_bytes
  std::string error;  ///< why it failed (not ok): recorded in the item_transition event
};

/// Handler for automated tasks.
///
/// Called synchronously on the thread running the command that activated the task (or run_due),
/// while that case is locked, before the command's commit: make it idempotent, a failed commit
/// or a crash calls it again. It may read its arguments and do its own work; it must not call
/// the Engine for the same case (that throws Error(invalid_state)) nor register definitions;
/// other cases are fine. An exception escaping it fails the task with the exception's message.
using TaskHandler = std::function<TaskResult(const TaskContext&)>;

/// Subscriber callback for engine events.
///
/// Called after the events are durable and the case lock is released, by whichever thread is
/// delivering (one at a time): callbacks never run concurrently with each other; events of one
/// case arrive in sequence order. It may call any Engine method, including commands on the
/// same case (their events are delivered after the current callback returns). Exceptions it
/// throws are swallowed.
using EventCallback = std::function<void(const Event&)>;

}  // namespace acm
