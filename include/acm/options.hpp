// SPDX-License-Identifier: Apache-2.0
// acm/options.hpp - how an Engine is opened: EngineOptions (Durability and the injectable
// CaseStore are in acm/store.hpp).
//
// EngineOptions is a plain struct; every field has a usable default, stated with the field.
// Engine::open checks the fields and refuses a bad value with Error(invalid_argument) naming it
// (invalid_definition for a priority policy term that does not parse). docs/api.md has the same
// table with the reasons.
#pragma once

#include <acm/case.hpp>
#include <acm/policy.hpp>
#include <acm/store.hpp>
#include <acm/time.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace acm {

/// A learned (or otherwise computed) completion forecast for a case, or nullopt when there is
/// none. Called under the case lock, on the thread running the command: it must not call the
/// engine, and must be safe to call from several threads at once.
using CompletionForecaster = std::function<std::optional<TimePoint>(const CaseInfo& c, TimePoint now)>;

/// How an Engine is set up (Engine::open). Every field has a usable default.
struct EngineOptions {
  /// Path of the SQLite store file (created if missing). "" or ":memory:" keeps everything in
  /// memory: nothing survives the Engine. Not used when `store` is set. Default: "".
  std::string database;
  /// Durability of commits to the store file (acm/store.hpp). Not used when `store` is set.
  /// Default: group.
  Durability durability = Durability::group;
  /// The store to keep cases in (acm/store.hpp), shared with the host; when set, `database`,
  /// `durability` and `read_only` are not used (a read-only store says so in its traits). The
  /// engine must be the only writer of the store's cases while it is open. Default: none (the
  /// engine opens the store `database` names).
  std::shared_ptr<CaseStore> store;
  /// A snapshot of a case is stored every this many events (bounds replay when a case loads).
  /// Default 100; 0 is refused.
  std::size_t snapshot_every = 100;
  /// Cases kept in memory; beyond this, idle cases are dropped from the cache and reloaded
  /// from the store when next used. Default 100000; below 16 is refused.
  std::size_t cache_capacity = 100000;
  /// Cases fired together by run_due: one transaction each, prepared while the previous one is
  /// written. A chunk's cases stay locked until it is durable, so smaller chunks make a command
  /// on a due case wait less, larger ones write fewer transactions. Default 512; 0 is refused.
  std::size_t timer_batch = 512;
  /// Source of time. Default: a SystemClock. A ManualClock is attached to the engine so that
  /// advancing it fires due timers (see ManualClock). The engine keeps a reference for its
  /// life; the clock must be safe to call from several threads.
  std::shared_ptr<Clock> clock;
  /// Calendar for deadlines given as durations and for remaining-work estimates. Default: 24x7
  /// (AlwaysCalendar). Its methods are called concurrently: it must be thread-safe.
  std::shared_ptr<const Calendar> calendar;
  /// Global roles that may do everything (define, create, manage any case). Default: {"admin"}.
  std::vector<std::string> admin_roles{"admin"};
  /// Global roles that may register definitions, besides admin roles. Default: {"designer"}.
  std::vector<std::string> designer_roles{"designer"};
  /// Upper bound on lifecycle steps one command may cause (sentry chains, repetitions). When it
  /// is reached the engine records an "error" event on the case and stops evaluating.
  /// Default 10000; 0 is refused.
  std::size_t max_steps_per_command = 10000;
  /// Upper bounds on what one command, or one timer run (run_due) on one case, may add to the
  /// case: plan items created (repetitions, stage children, fragments) and events appended.
  /// When one is reached the engine records an "error" event on the case naming the bound and
  /// stops evaluating (the command itself succeeds with what was done so far), so that no
  /// definition can make a single command grow a case without limit. Defaults 1000 and 10000;
  /// below 16 is refused.
  std::size_t max_items_per_command = 1000;
  std::size_t max_events_per_command = 10000;
  /// Opens the store for queries only: no lock file is created, nothing is ever written
  /// (every command and registration fails with Error(invalid_state); run_due fires nothing
  /// and returns 0), so a store in a read-only directory (or on read-only media) can be listed
  /// and inspected. A store whose directory is not writable is opened this way without being
  /// asked. Another process may hold the store open for writing meanwhile; reads see its
  /// commits. Needs a database file (refused with an in-memory store). Default: false.
  bool read_only = false;
  /// Upper bound on the serialised JSON size of one event's payload, in bytes (strings counted
  /// without their escapes). A command whose value would exceed it (a case-file value, a note's
  /// text, a signal's payload, a case's initial file, ...) is refused with
  /// Error(invalid_argument) naming the event, and changes nothing; an automated task whose
  /// output exceeds it fails. Large content belongs in a document store, attached by link.
  /// Default 16 MiB; below 1024 is refused.
  std::size_t max_payload_bytes = 16u << 20;
  /// Priority policy applied to every case. Default: none (priorities are what commands set).
  std::optional<PriorityPolicy> priority_policy;
  /// Escalation rules for at-risk and overdue goals and tasks (docs/helpdesk-engine.md).
  /// Default: none. Checked at open with validate_escalation.
  std::vector<EscalationRule> escalation;
  /// Expected completion of a case, e.g. from a learned model (acm/learn.hpp); used to track
  /// promises. Default: none.
  CompletionForecaster forecaster;
  /// A promise turns at risk at the latest this long (calendar time) before it is due, so a
  /// warning always comes before a broken promise. Default: 1 hour.
  Duration promise_warning = std::chrono::hours(1);
};

}  // namespace acm
