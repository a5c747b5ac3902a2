// SPDX-License-Identifier: Apache-2.0
// acm/command.hpp - what a command takes and what it returns: the caller (Request), the
// arguments of the commands that need more than a few values (NewCase, AdHocTask, GoalChange,
// PromiseSpec) and the result of every command (CommandResult).
//
// These are plain values; the commands themselves are members of acm::Engine (acm/engine.hpp).
#pragma once

#include <acm/case.hpp>
#include <acm/definition.hpp>
#include <acm/json.hpp>
#include <acm/time.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acm {

/// A command's caller: the actor plus optional concurrency control and retry safety. Converts
/// implicitly from Actor, so `engine.start_item(actor, ...)` works.
struct Request {
  Request(Actor a) : actor(std::move(a)) {}  // NOLINT(google-explicit-constructor)
  Request(Actor a, std::uint64_t expected) : actor(std::move(a)), expected_version(expected) {}
  /// Who runs the command; permissions are checked for this actor. Its id must not be empty.
  Actor actor;
  /// If set, the command fails with ErrorCode::conflict unless the case is at this version
  /// (create_case ignores it).
  std::optional<std::uint64_t> expected_version;
  /// If not empty: a command retried with the same key returns the first result and appends
  /// nothing (keys are global to the store and kept forever). A key is bound to the actor, the
  /// case, the command and its arguments: reusing it for anything else is ErrorCode::conflict,
  /// and a retry is refused (permission_denied) if the actor has lost the permission the
  /// command needed. See docs/api.md, "Idempotency keys".
  std::string idempotency_key;
};

/// What a successful command did. Every command returns one, whether it changed the case or not.
struct CommandResult {
  std::uint64_t version = 0;  ///< case version after the command (= the seq of its last event)
  std::vector<Event> events;  ///< the events it appended, in order (empty: it changed nothing)
  /// Id of what the command created: the case (create_case), the stage item (add_fragment), the
  /// task item (add_task), the goal (add_goal), the promise (make_promise), the asset (attach).
  /// "" for commands that create nothing.
  std::string created;
};

/// Arguments of Engine::create_case.
struct NewCase {
  std::string id;          ///< "" = generated ("case-1", ...); at most 200 characters, no space, '/' or '#'
  std::string type;        ///< case type id ("" = bare case without type)
  int type_version = 0;    ///< 0 = latest
  std::string title;
  Subject subject;         ///< the customer and attributes; attributes must be a JSON object
  std::string owner;       ///< "" = the creating actor
  int priority = 0;        ///< the priority's base (a priority policy adds to it)
  std::vector<Participant> participants;  ///< each needs an actor id
  Json file = Json::object();             ///< initial case file; must be a JSON object
};

/// Arguments of Engine::add_task: an ad-hoc task not taken from a fragment.
struct AdHocTask {
  std::string name;                      ///< required
  ItemKind kind = ItemKind::human_task;  ///< human_task, automated_task or milestone
  std::string role;                      ///< case role needed to work on it ("" = any)
  std::vector<std::string> skills;       ///< skills it needs (for routing; not checked)
  std::optional<Duration> estimate;      ///< expected working time (goal risk estimates)
  std::optional<Duration> due;           ///< due this long (calendar time) after activation
  std::string handler;                   ///< automated tasks: the registered handler's name (required)
  Json input;                            ///< passed to the handler
  std::string output;                    ///< case-file path where the output is written
  std::string goal;                      ///< goal the task serves ("" = none); must exist
  std::string assignee;                  ///< the owner or a participant ("" = unassigned)
  std::vector<std::string> after;        ///< item ids that must complete first; must exist
  bool required = false;                 ///< the case cannot complete before it does
  bool manual = false;                   ///< wait in `enabled` until someone starts it
};

/// Changes to a goal (Engine::change_goal). Unset fields stay; an empty change is no change.
struct GoalChange {
  std::optional<std::string> name, owner;
  std::optional<bool> required;
  std::optional<std::optional<TimePoint>> deadline;  ///< {nullopt} removes the deadline
  std::optional<std::string> criterion;               ///< must parse ("" removes it)
  std::optional<std::vector<std::string>> milestones;
};

/// A promise to the customer (Engine::make_promise).
struct PromiseSpec {
  std::string id;     ///< required, unique in the case
  std::string what;   ///< free text: what was promised
  TimePoint due{};    ///< must be after now
};

}  // namespace acm
