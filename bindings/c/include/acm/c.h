// SPDX-License-Identifier: Apache-2.0
/* acm/c.h - the C ABI of acm, the embeddable Adaptive Case Management engine.
 *
 * Conventions (docs/c-api.md has the details and a full example):
 *
 *  1. Objects are opaque handles: acm_engine, acm_options, acm_task_result, acm_learner, acm_intake,
 *     acm_router, acm_lookup_result. Functions are named
 *     acm_<object>_<verb>. The engine is created by acm_engine_open and destroyed by
 *     acm_engine_close; options by acm_options_create / acm_options_destroy.
 *  2. Every function returns an acm_status (ACM_OK or the code of the failure; the codes mirror
 *     acm::ErrorCode one to one), except acm_free, acm_status_name and acm_version, which cannot
 *     fail.
 *  3. Functions that can fail take a last `char** error`. It may be NULL. Otherwise `*error` is set
 *     to NULL on success and, on failure, to a malloc'd UTF-8 message that the caller frees with
 *     acm_free. A message may be missing (NULL) only if memory ran out.
 *  4. Results come back through out-parameters. On failure every out-parameter is cleared (NULL or
 *     0), so freeing them unconditionally is always safe. Strings returned through `char**` are
 *     malloc'd, NUL-terminated UTF-8; free them with acm_free. Optional result out-parameters
 *     (a command's `result`) may be NULL when the caller does not want them.
 *  5. Structured values go in and out as JSON text (UTF-8): definitions, case specifications,
 *     goals, case views, events, work items. Output JSON has the one shape of docs/json.md, made by
 *     the C++ API's acm::to_json (<acm/to_json.hpp>): times as RFC 3339 UTC strings, durations as
 *     ISO-8601 durations, enumerations as snake_case names; input JSON accepts times as
 *     ISO-8601 strings or as integer milliseconds since the Unix epoch, durations as strings
 *     ("PT4H", "90m"). Unknown keys in input objects are refused (ACM_INVALID_ARGUMENT).
 *  6. Scalar times are int64_t milliseconds since the Unix epoch (UTC); durations are int64_t
 *     milliseconds.
 *  7. The acting person of a command is an acm_request (actor id, global roles, and optional
 *     concurrency control), passed by pointer and only read during the call.
 *  8. No C++ exception ever crosses this boundary: every failure is a status.
 *  9. Thread safety: an acm_engine may be used from many threads at once, as acm::Engine.
 *     acm_options and acm_task_result are not thread-safe. Callbacks: see acm_task_handler_fn and
 *     acm_event_fn.
 *
 * The header is C99 and C++ compatible and includes only standard C headers.
 */
#ifndef ACM_C_H
#define ACM_C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(ACM_C_STATIC)
#define ACM_C_API
#elif defined(_WIN32)
#if defined(ACM_C_BUILDING)
#define ACM_C_API __declspec(dllexport)
#else
#define ACM_C_API __declspec(dllimport)
#endif
#else
#define ACM_C_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes ------------------------------------------------------------------------- */

/** The result of every call. Values equal acm::ErrorCode's and never change. */
typedef enum acm_status {
  ACM_OK = 0,
  ACM_INVALID_ARGUMENT = 1,   /**< a malformed value, path, parameter or JSON argument; a NULL
                                   handle or required pointer */
  ACM_INVALID_DEFINITION = 2, /**< a definition failed validation (message lists every problem) */
  ACM_PARSE_ERROR = 3,        /**< JSON text, an expression or a time did not parse */
  ACM_NOT_FOUND = 4,          /**< unknown case, goal, plan item, definition or handler */
  ACM_ALREADY_EXISTS = 5,     /**< an id that must be new is taken */
  ACM_PERMISSION_DENIED = 6,  /**< the actor may not run this command (message says why) */
  ACM_INVALID_STATE = 7,      /**< the command does not apply in the current state */
  ACM_CYCLE = 8,              /**< the change would create a dependency cycle */
  ACM_CONFLICT = 9,           /**< expected_version or idempotency key mismatch */
  ACM_STORAGE = 10,           /**< the store failed (I/O, corrupt or foreign file, locked) */
  ACM_INTERNAL = 11,          /**< a bug in acm, or memory ran out */
  ACM_STATUS_FORCE_INT_ = 0x7fffffff /**< not a status: makes every int value a valid acm_status */
} acm_status;

/** Short stable name of a status, e.g. "not_found"; "unknown" for values outside the enum.
 *  The string is static: do not free it. */
ACM_C_API const char* acm_status_name(acm_status status);

/** The library version, e.g. "0.1.0" (static string). */
ACM_C_API const char* acm_version(void);

/** Frees a string (or any buffer) returned by this API. NULL is allowed. */
ACM_C_API void acm_free(void* p);

/* ---- handles and plain types ----------------------------------------------------------------- */

/** An open engine (acm::Engine plus the clock it owns). */
typedef struct acm_engine acm_engine;
/** Options for acm_engine_open. */
typedef struct acm_options acm_options;
/** What a task handler reports; only valid during the handler call. */
typedef struct acm_task_result acm_task_result;
/** A learner (acm::learn::Learner): learned templates from closed cases and imported logs. */
typedef struct acm_learner acm_learner;

/** "No time": returned by a forecaster that has no forecast, and accepted by
 *  acm_learner_completion for "no lower bound". */
#define ACM_NO_TIME INT64_MIN

/** Who runs a command, and how (acm::Request). Zero-initialise it and set what you need:
 *    acm_request alice = {"alice", NULL, 0, 0, NULL};
 *  Strings are borrowed for the duration of the call only. */
typedef struct acm_request {
  const char* actor;          /**< actor id, required (not NULL, not "") */
  const char* const* roles;   /**< global roles the host vouches for (e.g. "admin"); may be NULL
                                   when role_count is 0 */
  size_t role_count;
  uint64_t expected_version;  /**< 0: no check; else the command fails with ACM_CONFLICT unless
                                   the case is at this version */
  const char* idempotency_key; /**< NULL or "": none; see docs/api.md "Idempotency keys" */
} acm_request;

/** How commits reach the disk (acm::Durability). */
typedef enum acm_durability {
  ACM_DURABILITY_GROUP = 0, /**< group commit (default): commands share synced transactions */
  ACM_DURABILITY_FULL = 1,  /**< every command is its own synced transaction */
  ACM_DURABILITY_FORCE_INT_ = 0x7fffffff /**< not a mode: makes every int value valid */
} acm_durability;

/* ---- engine options ------------------------------------------------------------------------ */

/** Creates options with every field at its default (in-memory store, group durability, system
 *  clock, admin role "admin", designer role "designer"). */
ACM_C_API acm_status acm_options_create(acm_options** out, char** error);
/** Destroys options. NULL is allowed. Always ACM_OK. */
ACM_C_API acm_status acm_options_destroy(acm_options* options);
/** Path of the SQLite store file (created if missing); NULL, "" or ":memory:": in memory. */
ACM_C_API acm_status acm_options_set_database(acm_options* options, const char* path, char** error);
ACM_C_API acm_status acm_options_set_durability(acm_options* options, acm_durability durability,
                                                char** error);
/** A case snapshot is stored every this many events. */
ACM_C_API acm_status acm_options_set_snapshot_every(acm_options* options, size_t events, char** error);
/** Cases kept in memory (at least 16: acm_engine_open refuses fewer). */
ACM_C_API acm_status acm_options_set_cache_capacity(acm_options* options, size_t cases, char** error);
/** Cases fired together by due-timer processing, one write transaction each (at least 1). */
ACM_C_API acm_status acm_options_set_timer_batch(acm_options* options, size_t cases, char** error);
/** Upper bound on lifecycle steps per command (at least 1). */
ACM_C_API acm_status acm_options_set_max_steps(acm_options* options, size_t steps, char** error);
/** Upper bound on one event's payload as serialised JSON, in bytes (at least 1024; default
 *  16 MiB): a command bringing a larger value is refused with ACM_INVALID_ARGUMENT. */
ACM_C_API acm_status acm_options_set_max_payload_bytes(acm_options* options, size_t bytes, char** error);
/** Uses a manual clock starting at `start_ms` instead of the system clock: time then moves only
 *  with acm_clock_advance / acm_clock_advance_to, which fire due timers. For tests and replays. */
ACM_C_API acm_status acm_options_set_manual_clock(acm_options* options, int64_t start_ms, char** error);
/** Global roles that may do everything (replaces the default {"admin"}). */
ACM_C_API acm_status acm_options_set_admin_roles(acm_options* options, const char* const* roles,
                                                 size_t count, char** error);
/** Global roles that may register definitions (replaces the default {"designer"}). */
ACM_C_API acm_status acm_options_set_designer_roles(acm_options* options, const char* const* roles,
                                                    size_t count, char** error);
/** Business-hour calendar for deadlines given as durations and remaining-work estimates, from its
 *  JSON spec (docs/calendars.md: {"name", "time_zone", "hours": {"mon": ["09:00-17:00"], ...},
 *  "holidays", "special_days"}). NULL: back to 24x7. ACM_INVALID_DEFINITION lists every problem. */
ACM_C_API acm_status acm_options_set_calendar_json(acm_options* options, const char* calendar_json,
                                                   char** error);
/** Priority policy applied to every case: {"terms": [{"name", "expression", "weight"}]}
 *  (acm::PriorityPolicy::from_json). NULL: none (priorities are what commands set). */
ACM_C_API acm_status acm_options_set_priority_policy_json(acm_options* options, const char* policy_json,
                                                          char** error);
/** Escalation rules: {"rules": [{"id", "on", "target", "notify", "reassign_to", "bring_in":
 *  {"actor", "roles"}, "add_fragment", "max_times"}]} (acm::EscalationRule::from_json, checked by
 *  validate_escalation). NULL: none. Bad rules: ACM_INVALID_DEFINITION or ACM_INVALID_ARGUMENT,
 *  listing every problem. */
ACM_C_API acm_status acm_options_set_escalation_json(acm_options* options, const char* rules_json, char** error);
/** A promise turns at risk at the latest this long (calendar time, ms >= 0) before it is due.
 *  Default one hour. */
ACM_C_API acm_status acm_options_set_promise_warning(acm_options* options, int64_t warning_ms, char** error);

/** A completion forecaster (acm::CompletionForecaster): the expected completion of the case
 *  `case_json` (the case view, as acm_case_get gives) at `now_ms`, in ms since the epoch, or
 *  ACM_NO_TIME for "no forecast". Used to track promises.
 *
 *  Threading: called on the thread running a command or a clock advance, while that case is locked,
 *  possibly from several threads at once for different cases. It must not call the engine and must
 *  return normally. `case_json` is valid only during the call. */
typedef int64_t (*acm_forecast_fn)(void* user_data, const char* case_json, int64_t now_ms);
/** Installs a forecaster (NULL removes it). `user_data` must stay valid until every engine opened
 *  with these options is closed. */
ACM_C_API acm_status acm_options_set_forecaster(acm_options* options, acm_forecast_fn forecaster, void* user_data,
                                                char** error);

/* ---- engine -------------------------------------------------------------------------------- */

/** Opens an engine. `options` may be NULL (all defaults) and may be destroyed right after.
 *  Errors: ACM_STORAGE (bad, foreign, newer or locked store file), ACM_INVALID_ARGUMENT. */
ACM_C_API acm_status acm_engine_open(const acm_options* options, acm_engine** out, char** error);
/** Closes the engine: finishes pending writes, releases the store file, frees the handle. NULL is
 *  allowed. Must not race with other calls on the engine, nor be called from a callback.
 *  Always ACM_OK. */
ACM_C_API acm_status acm_engine_close(acm_engine* engine);
/** Fires everything due at the clock's current time; `fired` (may be NULL) receives how many
 *  timers fired. With a manual clock, advancing it does this for you. */
ACM_C_API acm_status acm_engine_run_due(acm_engine* engine, size_t* fired, char** error);
/** Earliest pending timer or deadline check: `*has_due` false when there is none (then `*due_ms`
 *  is 0). */
ACM_C_API acm_status acm_engine_next_due(acm_engine* engine, bool* has_due, int64_t* due_ms, char** error);

/* ---- clock --------------------------------------------------------------------------------- */

/** The engine clock's current time. */
ACM_C_API acm_status acm_clock_now(acm_engine* engine, int64_t* now_ms, char** error);
/** Manual clock only (ACM_INVALID_STATE otherwise): moves time forward by `delta_ms` (>= 0),
 *  firing due work in time order on the calling thread. Not from inside a callback. */
ACM_C_API acm_status acm_clock_advance(acm_engine* engine, int64_t delta_ms, char** error);
/** Manual clock only: moves time forward to `time_ms` (>= now). */
ACM_C_API acm_status acm_clock_advance_to(acm_engine* engine, int64_t time_ms, char** error);

/* ---- host integration: task handlers and subscriptions ------------------------------------- */

/** Handler of automated tasks.
 *
 *  `context_json` is {"case": id, "item": item id, "handler": name, "input": ..., "case_file":
 *  {...}, "now": RFC 3339 time} (docs/json.md); it is valid only during the call. Report the
 *  outcome through `result` (acm_task_result_set_output / acm_task_result_fail); leaving it
 *  untouched completes the task with no output.
 *
 *  Threading: called synchronously on the thread running the command (or advancing the clock /
 *  running run_due) that activated the task, while that case is locked; it may be called from
 *  several threads at once for different cases. It may call the engine for other cases, but not
 *  for its own case (ACM_INVALID_STATE) and must not register definitions, advance the clock or
 *  close the engine. It must return normally (no longjmp, no C++ exception). */
typedef void (*acm_task_handler_fn)(void* user_data, const char* context_json, acm_task_result* result);

/** Sets the handler's output (JSON text), stored at the item's `output` path. Errors:
 *  ACM_PARSE_ERROR (then the task fails with that message), ACM_INVALID_ARGUMENT. */
ACM_C_API acm_status acm_task_result_set_output(acm_task_result* result, const char* output_json,
                                                char** error);
/** Fails the task (CMMN fault) with `message`. */
ACM_C_API acm_status acm_task_result_fail(acm_task_result* result, const char* message, char** error);

/** Registers `handler` for automated tasks naming `name` (replaces an existing one).
 *  `user_data` is passed back unchanged; it must stay valid while the engine may call the handler
 *  (until the engine is closed, or the handler replaced and its running calls finished). */
ACM_C_API acm_status acm_engine_register_handler(acm_engine* engine, const char* name,
                                                 acm_task_handler_fn handler, void* user_data, char** error);

/** Subscriber callback: `event_json` is one event {"case", "seq", "time", "actor", "kind",
 *  "payload"}, valid only during the call.
 *
 *  Threading: called after the event is durable and the case unlocked, by whichever thread is
 *  delivering at the time (a thread running a command, run_due or a clock advance). Callbacks never
 *  run concurrently with one another; events of one case arrive in sequence order. A callback may
 *  call any engine function (commands included) except acm_clock_advance*, and acm_engine_close. */
typedef void (*acm_event_fn)(void* user_data, const char* event_json);

/** Subscribes to events whose kind is one of `kinds` (count 0: every kind). `subscription`
 *  receives an id for acm_engine_unsubscribe. `user_data` must stay valid until the subscription is
 *  removed and delivery is quiet, or the engine closed. */
ACM_C_API acm_status acm_engine_subscribe(acm_engine* engine, const char* const* kinds, size_t kind_count,
                                          acm_event_fn callback, void* user_data, uint64_t* subscription,
                                          char** error);
/** Removes a subscription. One call already being dispatched may still happen. */
ACM_C_API acm_status acm_engine_unsubscribe(acm_engine* engine, uint64_t subscription, char** error);

/* ---- definitions --------------------------------------------------------------------------- */

/** Registers every fragment and case type of a JSON definitions document (docs/definitions.md),
 *  all or nothing. A CMMN 1.1 XML model (text starting with '<') is imported first (docs/cmmn.md).
 *  Errors: ACM_PARSE_ERROR (not JSON, or malformed XML), ACM_INVALID_DEFINITION (every problem
 *  listed; for CMMN with line and column), ACM_ALREADY_EXISTS, ACM_PERMISSION_DENIED (needs an
 *  admin or designer role). */
ACM_C_API acm_status acm_definitions_load(acm_engine* engine, const acm_request* by, const char* document_json,
                                          char** error);
/** Imports a CMMN 1.1 (or 1.0) XML model without registering it: `result_json` receives
 *  {"definitions": {...}, "warnings": [{"line", "column", "message"}], "cases": [{"case",
 *  "case_type", "fragment", "items": {planItem id: [acm item ids]}}]}. Errors as acm_definitions_load. */
ACM_C_API acm_status acm_cmmn_import(const char* cmmn_xml, char** result_json, char** error);
/** The fragment (id, version) as JSON; version 0 = latest. ACM_NOT_FOUND if missing. */
ACM_C_API acm_status acm_fragment_get(acm_engine* engine, const char* id, int version, char** fragment_json,
                                      char** error);
/** Latest version of every registered fragment, as a JSON array. */
ACM_C_API acm_status acm_fragment_list(acm_engine* engine, char** fragments_json, char** error);
/** Latest version of every registered case type, as a JSON array (by id). */
ACM_C_API acm_status acm_case_type_list(acm_engine* engine, char** case_types_json, char** error);
/** The case type (id, version) as JSON; version 0 = latest. */
ACM_C_API acm_status acm_case_type_get(acm_engine* engine, const char* id, int version, char** case_type_json,
                                       char** error);

/* ---- cases --------------------------------------------------------------------------------- */
/* Commands on a case take `result` (may be NULL): the JSON {"version": n, "events": [...],
 * "created": "..."} of what the command did. */

/** Creates a case. `spec_json` (NULL = a bare case) is an object with the optional keys
 *  "id", "type", "type_version", "title", "subject" {"customer", "attributes"}, "owner",
 *  "priority", "participants" [{"actor", "roles"}], "file". `case_id` receives the new id. */
ACM_C_API acm_status acm_case_create(acm_engine* engine, const acm_request* by, const char* spec_json,
                                     char** case_id, char** error);
/** A snapshot of the case as JSON. `by` NULL: the host's own, trusted query; otherwise on behalf of
 *  that actor (ACM_PERMISSION_DENIED unless the actor may view the case). ACM_NOT_FOUND if
 *  unknown. */
ACM_C_API acm_status acm_case_get(acm_engine* engine, const acm_request* by, const char* case_id,
                                  char** case_json, char** error);
/** Ids of cases in creation order, as a JSON array: at most `limit` (SIZE_MAX: all) after the case
 *  `after` (NULL or "": from the first). */
ACM_C_API acm_status acm_case_list(acm_engine* engine, size_t limit, const char* after, char** ids_json,
                                   char** error);
/** Cases by status, owner and customer, newest first, answered from indexes: `page_json`
 *  {"cases": [{"id", "type", "type_version", "title", "status", "owner", "customer", "priority",
 *  "version", "created_at", "updated_at", "next_deadline"}], "total"} ("total": every match,
 *  ignoring limit and offset). `query_json` (NULL: every case, first 50) has the optional keys
 *  "status" (a status name or an array of them: any of), "owner", "customer", "limit" (default 50,
 *  at most 10000), "offset". */
ACM_C_API acm_status acm_case_find(acm_engine* engine, const char* query_json, char** page_json, char** error);
/** The case's history from sequence number `from` (1-based) on, as a JSON array of events. */
ACM_C_API acm_status acm_case_history(acm_engine* engine, const char* case_id, uint64_t from,
                                      char** events_json, char** error);
/** acm_case_history on behalf of `by`'s actor: ACM_PERMISSION_DENIED unless it may view the case
 *  (`by` NULL: the host's own query, as acm_case_history). */
ACM_C_API acm_status acm_case_history_as(acm_engine* engine, const acm_request* by, const char* case_id, uint64_t from,
                                         char** events_json, char** error);

/** The global event feed (docs/storage.md, "The event feed"): up to `limit` events of every case,
 *  written by this process or any other on the same database, after the position `after` (NULL
 *  or "": from the start), in feed order, as a JSON array of {"position", "event"}. Reading on
 *  from the last position returned misses nothing and repeats nothing. With `timeout_ms` > 0,
 *  waits up to that long for the first event to arrive (an empty array: none arrived).
 *  Host-trusted: no actor check. Errors: ACM_INVALID_ARGUMENT (a position the store never gave
 *  out, limit 0), ACM_INVALID_STATE (a store without a feed), ACM_STORAGE. */
ACM_C_API acm_status acm_feed_read(acm_engine* engine, const char* after, size_t limit, uint32_t timeout_ms,
                                   char** entries_json, char** error);
/** The newest feed position, as a JSON string ("" when the feed is empty): a reader that wants
 *  only what happens from now on reads on from it. Errors: as acm_feed_read. */
ACM_C_API acm_status acm_feed_end(acm_engine* engine, char** position_json, char** error);

ACM_C_API acm_status acm_case_set_owner(acm_engine* engine, const acm_request* by, const char* case_id,
                                        const char* owner, char** result, char** error);
ACM_C_API acm_status acm_case_set_priority(acm_engine* engine, const acm_request* by, const char* case_id,
                                           int priority, char** result, char** error);
/** Sets one subject attribute (value as JSON text). */
ACM_C_API acm_status acm_case_set_subject_attribute(acm_engine* engine, const acm_request* by,
                                                    const char* case_id, const char* key, const char* value_json,
                                                    char** result, char** error);
/** Adds a participant with case roles (roles must be roles of the case type, if it has any). */
ACM_C_API acm_status acm_case_add_participant(acm_engine* engine, const acm_request* by, const char* case_id,
                                              const char* actor, const char* const* roles, size_t role_count,
                                              char** result, char** error);
ACM_C_API acm_status acm_case_remove_participant(acm_engine* engine, const acm_request* by,
                                                 const char* case_id, const char* actor, char** result,
                                                 char** error);
/* Status changes; `reason` may be NULL. */
ACM_C_API acm_status acm_case_suspend(acm_engine* engine, const acm_request* by, const char* case_id,
                                      const char* reason, char** result, char** error);
ACM_C_API acm_status acm_case_resume(acm_engine* engine, const acm_request* by, const char* case_id,
                                     char** result, char** error);
/** Completes the case now (ACM_INVALID_STATE while a required goal or item is open). */
ACM_C_API acm_status acm_case_complete(acm_engine* engine, const acm_request* by, const char* case_id,
                                       char** result, char** error);
ACM_C_API acm_status acm_case_terminate(acm_engine* engine, const acm_request* by, const char* case_id,
                                        const char* reason, char** result, char** error);
/** completed/terminated -> closed (read-only). */
ACM_C_API acm_status acm_case_close(acm_engine* engine, const acm_request* by, const char* case_id,
                                    char** result, char** error);
/** completed/terminated/closed -> active. */
ACM_C_API acm_status acm_case_reopen(acm_engine* engine, const acm_request* by, const char* case_id,
                                     const char* reason, char** result, char** error);

/* ---- case file and external events --------------------------------------------------------- */

/** Sets the JSON value `value_json` at a dotted path ("customer.address.city", "items.0"). */
ACM_C_API acm_status acm_case_file_set(acm_engine* engine, const acm_request* by, const char* case_id,
                                       const char* path, const char* value_json, char** result, char** error);
/** Removes the value at a dotted path (ACM_NOT_FOUND if there is none). */
ACM_C_API acm_status acm_case_file_remove(acm_engine* engine, const acm_request* by, const char* case_id,
                                          const char* path, char** result, char** error);
/** Attaches a document, link or note: `asset_json` {"kind", "title", "uri", "text", "media_type",
 *  "metadata", "id"}. The asset id is the result's "created". */
ACM_C_API acm_status acm_case_attach(acm_engine* engine, const acm_request* by, const char* case_id,
                                     const char* asset_json, char** result, char** error);
/** Delivers a named external event; `payload_json` NULL = {}. */
ACM_C_API acm_status acm_case_signal(acm_engine* engine, const acm_request* by, const char* case_id,
                                     const char* name, const char* payload_json, char** result, char** error);

/* ---- goals --------------------------------------------------------------------------------- */

/** Adds a goal: `goal_json` as a case type's goal (docs/definitions.md 6.1): {"id", "name",
 *  "owner", "parent", "required", "deadline" | "within", "anchor", "criterion", "milestones",
 *  "decision"}. */
ACM_C_API acm_status acm_goal_add(acm_engine* engine, const acm_request* by, const char* case_id,
                                  const char* goal_json, char** result, char** error);
/** Changes a goal: `change_json` with any of "name", "owner", "required", "deadline" (a time, or
 *  null to remove it), "criterion", "milestones"; keys left out stay. */
ACM_C_API acm_status acm_goal_change(acm_engine* engine, const acm_request* by, const char* case_id,
                                     const char* goal_id, const char* change_json, char** result, char** error);
ACM_C_API acm_status acm_goal_cancel(acm_engine* engine, const acm_request* by, const char* case_id,
                                     const char* goal_id, const char* reason, char** result, char** error);
/** A person's decision that the goal is achieved. */
ACM_C_API acm_status acm_goal_achieve(acm_engine* engine, const acm_request* by, const char* case_id,
                                      const char* goal_id, char** result, char** error);
/** Stops the goal's clock (SLA pause, e.g. waiting on the customer): no at-risk or overdue while
 *  paused; the goal view's "paused_since" is set. `goal_id` NULL or "": every open goal with a
 *  deadline. `reason` may be NULL. ACM_INVALID_STATE if already paused. */
ACM_C_API acm_status acm_goal_pause(acm_engine* engine, const acm_request* by, const char* case_id,
                                    const char* goal_id, const char* reason, char** result, char** error);
/** Restarts the clock: the deadline moves by the working time left at the pause, counted from now.
 *  `goal_id` NULL or "": every paused goal. ACM_INVALID_STATE if not paused. */
ACM_C_API acm_status acm_goal_resume(acm_engine* engine, const acm_request* by, const char* case_id,
                                     const char* goal_id, char** result, char** error);

/* ---- promises to the customer and priorities ----------------------------------------------- */

/** Records a promise: `promise_json` {"id" (required), "what", "due" (required: a time)}. It is
 *  tracked (case view "promises": status open/kept/broken/cancelled, timing, expected) until kept,
 *  broken or cancelled. */
ACM_C_API acm_status acm_promise_make(acm_engine* engine, const acm_request* by, const char* case_id,
                                      const char* promise_json, char** result, char** error);
ACM_C_API acm_status acm_promise_keep(acm_engine* engine, const acm_request* by, const char* case_id,
                                      const char* promise_id, char** result, char** error);
ACM_C_API acm_status acm_promise_cancel(acm_engine* engine, const acm_request* by, const char* case_id,
                                        const char* promise_id, const char* reason, char** result, char** error);
/** Why the case has its priority: {"priority", "base", "score", "terms": [{"name", "value",
 *  "weight", "contribution"}]} (without a policy: {"priority", "base"}). */
ACM_C_API acm_status acm_case_explain_priority(acm_engine* engine, const char* case_id, char** explanation_json,
                                               char** error);
/** acm_case_explain_priority on behalf of `by`'s actor, who must be allowed to view the case. */
ACM_C_API acm_status acm_case_explain_priority_as(acm_engine* engine, const acm_request* by, const char* case_id,
                                                  char** explanation_json, char** error);

/* ---- runtime assembly ---------------------------------------------------------------------- */

/** Discretionary fragments whose applicability rule holds for the case now, as a JSON array of
 *  {"fragment", "version", "name", "description", "parameters"}. */
ACM_C_API acm_status acm_fragment_list_applicable(acm_engine* engine, const char* case_id,
                                                  char** offers_json, char** error);
/** acm_fragment_list_applicable on behalf of `by`'s actor, who must be allowed to view the case; lists
 *  only the fragments that actor may add (its authorized_roles, or the plan permission). */
ACM_C_API acm_status acm_fragment_list_applicable_as(acm_engine* engine, const acm_request* by, const char* case_id,
                                                     char** offers_json, char** error);
/** Instantiates a fragment as a stage of the case plan. `use_json` is a fragment id string
 *  ("\"refund\"") or {"fragment", "version", "goal", "params", "stage"} ("stage": for a fragment
 *  with a planning table, the stage instance to add it into; docs/definitions.md); `after` lists
 *  item ids the stage waits for. `item_id` receives the new stage's item id. */
ACM_C_API acm_status acm_fragment_add(acm_engine* engine, const acm_request* by, const char* case_id,
                                      const char* use_json, const char* const* after, size_t after_count,
                                      char** item_id, char** error);
/** Adds an ad-hoc task: `task_json` {"name" (required), "kind" ("human_task", "automated_task",
 *  "milestone"), "role", "skills", "estimate", "due", "handler", "input", "output", "goal",
 *  "assignee", "after", "required", "manual"}. `item_id` receives its id. */
ACM_C_API acm_status acm_task_add(acm_engine* engine, const acm_request* by, const char* case_id,
                                  const char* task_json, char** item_id, char** error);
/** Makes `item` wait for `after` (ACM_CYCLE if that closes a cycle). */
ACM_C_API acm_status acm_item_add_dependency(acm_engine* engine, const acm_request* by, const char* case_id,
                                             const char* item, const char* after, char** result, char** error);
/** Removes a planned item that has not started, and its children. */
ACM_C_API acm_status acm_item_remove(acm_engine* engine, const acm_request* by, const char* case_id,
                                     const char* item, char** result, char** error);

/* ---- work on plan items -------------------------------------------------------------------- */

ACM_C_API acm_status acm_item_start(acm_engine* engine, const acm_request* by, const char* case_id,
                                    const char* item, char** result, char** error);
/** Completes an active task or stage; `output_json` (NULL: none) is merged at the item's output
 *  path. */
ACM_C_API acm_status acm_item_complete(acm_engine* engine, const acm_request* by, const char* case_id,
                                       const char* item, const char* output_json, char** result, char** error);
ACM_C_API acm_status acm_item_assign(acm_engine* engine, const acm_request* by, const char* case_id,
                                     const char* item, const char* assignee, char** result, char** error);
ACM_C_API acm_status acm_item_terminate(acm_engine* engine, const acm_request* by, const char* case_id,
                                        const char* item, char** result, char** error);
ACM_C_API acm_status acm_item_suspend(acm_engine* engine, const acm_request* by, const char* case_id,
                                      const char* item, char** result, char** error);
ACM_C_API acm_status acm_item_resume(acm_engine* engine, const acm_request* by, const char* case_id,
                                     const char* item, char** result, char** error);
/** enabled -> disabled. */
ACM_C_API acm_status acm_item_disable(acm_engine* engine, const acm_request* by, const char* case_id,
                                      const char* item, char** result, char** error);
/** disabled -> enabled. */
ACM_C_API acm_status acm_item_reenable(acm_engine* engine, const acm_request* by, const char* case_id,
                                       const char* item, char** result, char** error);
/** failed -> active. */
ACM_C_API acm_status acm_item_reactivate(acm_engine* engine, const acm_request* by, const char* case_id,
                                         const char* item, char** result, char** error);
/** A user event listener occurs, or a milestone without entry criteria is declared reached. */
ACM_C_API acm_status acm_item_occur(acm_engine* engine, const acm_request* by, const char* case_id,
                                    const char* item, char** result, char** error);

/* ---- work queues --------------------------------------------------------------------------- */

/** A page of open work (human tasks enabled, active or suspended), as a JSON array of work items
 *  {"case", "item", "name", "state", "assignee", "role", "skills", "due", "priority", "case_title",
 *  "customer", "goal", "goal_deadline", "goal_timing"} (docs/json.md; "due", "goal_deadline" null
 *  when none, "goal_timing" null without a goal). `filter_json` (NULL: every open item, first 50)
 *  has the optional keys "assignee", "roles", "skills" (the agent's skills: unassigned work is
 *  offered only if the agent has every skill it needs), "overdue_at" (a time: only items due
 *  before it, ordered by due time), "limit" (default 50, at most 10000), "offset". */
ACM_C_API acm_status acm_queue_list(acm_engine* engine, const char* filter_json, char** items_json,
                                    char** error);
/** As acm_queue_list, with the number of items the filter matches in all: `page_json`
 *  {"items": [...], "total"}. */
ACM_C_API acm_status acm_queue_page(acm_engine* engine, const char* filter_json, char** page_json, char** error);

/* ---- help desk: intake and routing (docs/helpdesk.md) ------------------------------------- */
/* An acm_intake (acm::helpdesk::Intake) runs rules over channel events and acts on the engine; an
 * acm_router (acm::helpdesk::Router) ranks and assigns agents. Both keep a pointer to their engine:
 * destroy them before acm_engine_close. Both may be used from many threads at once; only
 * *_destroy must not race with other calls on the same handle. A router must be destroyed while no
 * command runs on its engine (it unsubscribes from the engine's events). */

/** A help-desk intake. */
typedef struct acm_intake acm_intake;
/** A router of work to agents. */
typedef struct acm_router acm_router;
/** What a customer lookup reports; only valid during the lookup call. */
typedef struct acm_lookup_result acm_lookup_result;

/** Host information about a customer (acm::helpdesk::CustomerLookup), read by rules as
 *  `customer.<key>` and copied into a new case's subject attributes. Report it with
 *  acm_lookup_result_set; leaving `result` untouched means "unknown customer".
 *
 *  Threading: called on the thread running acm_intake_process, possibly from several threads at
 *  once. It may call the engine, but not for the intake it serves. It must return normally. */
typedef void (*acm_customer_lookup_fn)(void* user_data, const char* customer, acm_lookup_result* result);
/** Sets the customer's attributes (a JSON object, or null for unknown). Errors: ACM_PARSE_ERROR,
 *  ACM_INVALID_ARGUMENT (not an object). */
ACM_C_API acm_status acm_lookup_result_set(acm_lookup_result* result, const char* attributes_json, char** error);

/** Creates an intake on `engine` with the rule set `rules_json` ({"rules": [...]} or the bare
 *  array, docs/helpdesk.md "Intake"; ACM_INVALID_DEFINITION lists every problem). `options_json`
 *  (NULL: defaults) has the optional keys "actor" {"id", "roles"} (default {"intake", ["admin"]}),
 *  "signal_name", "max_correlated_cases" and "limits" {"max_text_bytes", "max_metadata_bytes",
 *  "max_id_bytes", "max_channel_bytes", "max_document_bytes"}. `lookup` (may be NULL) and
 *  `user_data` (kept until the intake is destroyed) supply customer attributes. */
ACM_C_API acm_status acm_intake_create(acm_engine* engine, const char* rules_json, const char* options_json,
                                       acm_customer_lookup_fn lookup, void* user_data, acm_intake** out, char** error);
/** Destroys an intake. NULL is allowed. Always ACM_OK. */
ACM_C_API acm_status acm_intake_destroy(acm_intake* intake);
/** Replaces the rule set (events being processed finish with the old one). */
ACM_C_API acm_status acm_intake_set_rules(acm_intake* intake, const char* rules_json, char** error);
/** Decides on one channel event `event_json` ({"id", "channel", "customer", "text", "sentiment",
 *  "metadata", "received"}) and acts on it: `decision_json` {"event_id", "steps": [{"rule",
 *  "action", "case", "reason", "log_seq"}], "duplicate", "action", "case"}. A malformed event is
 *  logged as "rejected" and refused with ACM_INVALID_ARGUMENT naming every bad field; an action
 *  the engine refuses returns the engine's status (earlier steps stay done and logged). */
ACM_C_API acm_status acm_intake_process(acm_intake* intake, const char* event_json, char** decision_json, char** error);
/** Intake log entries with seq > `after`, in log order, at most `limit` (<= 10000), as a JSON
 *  array of {"seq", "event_id", "time", "channel", "customer", "rule", "action", "case", "reason",
 *  "event"}. */
ACM_C_API acm_status acm_intake_log_list(acm_engine* engine, size_t limit, uint64_t after, char** entries_json,
                                         char** error);
/** The intake log entries of one event id, in log order. */
ACM_C_API acm_status acm_intake_log_of(acm_engine* engine, const char* event_id, char** entries_json, char** error);
/** Ids of the open (active or suspended) cases of `customer`, newest first, at most `limit`, as a
 *  JSON array. */
ACM_C_API acm_status acm_case_open_of(acm_engine* engine, const char* customer, size_t limit, char** ids_json,
                                      char** error);

/** Creates a router on `engine` for the agents `roster_json` (an array of agents {"id" (required),
 *  "roles", "skills": {skill: level 0..1} or [skill, ...], "capacity", "available", "windows":
 *  [{"from", "to"}]}). `options_json` (NULL: defaults) has the optional keys "weights" {"skill",
 *  "load", "availability", "performance"}, "prior_completions", "actor" {"id", "roles"} (default
 *  {"router", ["admin"]}), "learn_online" (default true), "auto_assign_on_activation" (default
 *  false). Errors: ACM_INVALID_ARGUMENT naming the bad agent or option. */
ACM_C_API acm_status acm_router_create(acm_engine* engine, const char* roster_json, const char* options_json,
                                       acm_router** out, char** error);
/** Destroys a router (unsubscribing it). NULL is allowed. Always ACM_OK. */
ACM_C_API acm_status acm_router_destroy(acm_router* router);
/** Replaces the roster (same checks as acm_router_create). */
ACM_C_API acm_status acm_router_set_roster(acm_router* router, const char* roster_json, char** error);
/** Adds or replaces one agent. */
ACM_C_API acm_status acm_router_upsert_agent(acm_router* router, const char* agent_json, char** error);
/** Agents ranked for the item, best first, at most `limit`: a JSON array of {"agent", "score",
 *  "terms": [{"name", "value", "weight", "contribution", "detail"}], "available", "has_capacity",
 *  "excluded", "reason"}. With `include_excluded`, agents lacking the item's role are listed last.
 *  ACM_NOT_FOUND for an unknown case or item. */
ACM_C_API acm_status acm_router_suggest(acm_router* router, const char* case_id, const char* item_id, size_t limit,
                                        bool include_excluded, char** suggestions_json, char** error);
/** Assigns the best available agent with free capacity; `agent` receives its id, or NULL when
 *  nobody qualifies (still ACM_OK). */
ACM_C_API acm_status acm_router_auto_assign(acm_router* router, const char* case_id, const char* item_id, char** agent,
                                            char** error);
/** Learns from the histories of the given cases; `learned` (may be NULL) receives the number of
 *  completions learned. */
ACM_C_API acm_status acm_router_learn_from_cases(acm_router* router, const char* const* case_ids, size_t count,
                                                 size_t* learned, char** error);
/** Records one completion of a task kind ("<fragment>/<item definition id>" or "task:<name>") by
 *  `agent`, which took `took_ms` (>= 0). */
ACM_C_API acm_status acm_router_record_completion(acm_router* router, const char* agent, const char* task_kind,
                                                  int64_t took_ms, char** error);
/** What the router learned for (agent, task kind): {"completed", "median"}. */
ACM_C_API acm_status acm_router_performance(acm_router* router, const char* agent, const char* task_kind,
                                            char** record_json, char** error);

/* ---- stored templates ---------------------------------------------------------------------- */

/** Stores `size` bytes as the next version of template `name` (durably); `meta_json` (NULL: {}) is
 *  a small JSON description. `version` (may be NULL) receives the new version. */
ACM_C_API acm_status acm_template_put(acm_engine* engine, const char* name, const char* kind, const char* meta_json,
                                     const void* data, size_t size, int* version, char** error);
/** Template `name` at `version` (0: latest): `info_json` {"name", "version", "kind", "created_at",
 *  "meta"} and its bytes (`data`, malloc'd, free with acm_free; `size`).
 *  ACM_NOT_FOUND if missing. */
ACM_C_API acm_status acm_template_get(acm_engine* engine, const char* name, int version, char** info_json,
                                     void** data, size_t* size, char** error);
/** Every stored template version (without bytes), as a JSON array of info objects. */
ACM_C_API acm_status acm_template_list(acm_engine* engine, char** templates_json, char** error);

/* ---- learning (docs/learning.md) ----------------------------------------------------------- */
/* Traces are JSON: {"id", "case_type", "attributes": {"k": "v"} or [["k", "v"], ...], "steps":
 * [{"activity" (required), "time" (required), "resource", "ad_hoc", "attributes"}]}. Attribute
 * values are strings (numbers and booleans are taken as their JSON text). A learner is thread-safe
 * (as acm::learn::Learner); only acm_learner_destroy must not race with other calls. */

/** Creates a learner. `options_json` (NULL: defaults) has the optional keys of
 *  acm::learn::LearnerOptions: "next_rounds", "next_depth", "next_eta", "time_rounds",
 *  "time_depth", "time_eta", "quantiles", "attributes", "calendar_time", "min_value_count",
 *  "retrain_every", "max_traces", "capture_min_cases", "capture_max_tasks". */
ACM_C_API acm_status acm_learner_create(const char* options_json, acm_learner** out, char** error);
/** Destroys a learner. NULL is allowed. Always ACM_OK. */
ACM_C_API acm_status acm_learner_destroy(acm_learner* learner);
/** Adds one closed case (a trace). */
ACM_C_API acm_status acm_learner_add(acm_learner* learner, const char* trace_json, char** error);
/** Fits the boosted models (ACM_INVALID_ARGUMENT without traces). */
ACM_C_API acm_status acm_learner_train(acm_learner* learner, char** error);
/** Ranked next activities for a running case (a trace of its steps so far), as a JSON array of
 *  {"activity" ("" = the case ends), "probability", "support", "matched", "evidence": [{"feature",
 *  "value", "weight"}]}. */
ACM_C_API acm_status acm_learner_next_steps(acm_learner* learner, const char* trace_json, size_t limit,
                                            bool include_end, char** steps_json, char** error);
/** Predicted completion: {"remaining", "remaining_ms", "quantiles": [{"quantile", "remaining",
 *  "remaining_ms"}], "expected", "expected_ms", "support", "evidence"}. `now_ms` bounds "expected"
 *  from below (ACM_NO_TIME: no bound). */
ACM_C_API acm_status acm_learner_completion(acm_learner* learner, const char* trace_json, int64_t now_ms,
                                            char** completion_json, char** error);
/** Typical step sequences of past cases similar to a new one (`attributes_json`: an object or
 *  array of pairs; NULL: none): [{"steps", "support", "share", "median_duration",
 *  "median_duration_ms", "matched", "examples"}]. */
ACM_C_API acm_status acm_learner_suggest_plan(acm_learner* learner, const char* case_type,
                                              const char* attributes_json, size_t limit, char** plans_json,
                                              char** error);
/** Recurring runs of ad-hoc tasks: [{"id", "tasks", "order": [[a, b]...], "estimates",
 *  "estimates_ms", "cases", "definition"}]; "definition" is the fragment definition
 *  (docs/definitions.md), ready for acm_definitions_load once approved. */
ACM_C_API acm_status acm_learner_fragment_proposals(acm_learner* learner, char** proposals_json, char** error);
/** {"traces", "steps", "activities", "trained_on", "model_version"}. */
ACM_C_API acm_status acm_learner_stats(acm_learner* learner, char** stats_json, char** error);
/** The whole learner as bytes (malloc'd, free with acm_free). */
ACM_C_API acm_status acm_learner_save(acm_learner* learner, void** data, size_t* size, char** error);
/** A learner from acm_learner_save's bytes. A damaged or foreign buffer is ACM_STORAGE. */
ACM_C_API acm_status acm_learner_load(const void* data, size_t size, acm_learner** out, char** error);
ACM_C_API acm_status acm_learner_export_file(acm_learner* learner, const char* path, char** error);
ACM_C_API acm_status acm_learner_import_file(const char* path, acm_learner** out, char** error);

/** Imports a CSV event log (docs/eventlogs.md) straight into the learner, each case as a trace.
 *  `mapping_json` (NULL: guessed from the header by common names) has "case_id", "activity",
 *  "timestamp" (required), "resource", "case_attributes", "event_attributes", "timestamp_format",
 *  "time_zone", "delimiter" (a one-character string), and "on_bad_row" ("skip" or "stop").
 *  `report_json` (may be NULL) receives {"rows", "events", "cases", "skipped_rows",
 *  "skipped_cases", "reappeared_runs", "problems": [{"line", "message"}], "problems_total"}. */
ACM_C_API acm_status acm_learner_import_csv(acm_learner* learner, const char* path, const char* mapping_json,
                                            char** report_json, char** error);
/** As acm_learner_import_csv for an XES 1.0 log (plain or gzip). */
ACM_C_API acm_status acm_learner_import_xes(acm_learner* learner, const char* path, char** report_json,
                                            char** error);
/** Reads a CSV event log into a JSON array of traces (for acm_learner_evaluate); `mapping_json`
 *  and `report_json` as for acm_learner_import_csv. */
ACM_C_API acm_status acm_eventlog_read_csv(const char* path, const char* mapping_json, char** traces_json,
                                           char** report_json, char** error);

/** The evaluation protocol of Tax et al. 2017 (docs/learning.md) on a JSON array of traces, in
 *  order: {"train_cases", "test_cases", "accuracy", "mae_days", "train_seconds", "points":
 *  [{"case", "prefix_length", "actual_next", "predicted_next", "actual_remaining_s",
 *  "predicted_remaining_s"}]}. `options_json` as for acm_learner_create. */
ACM_C_API acm_status acm_learner_evaluate(const char* traces_json, const char* options_json,
                                          char** evaluation_json, char** error);

/** Feeds the learner every completed, terminated or closed case of the engine; `count` (may be
 *  NULL) receives how many. */
ACM_C_API acm_status acm_learner_learn_from_engine(acm_learner* learner, acm_engine* engine, size_t* count,
                                                   char** error);
/** Keeps the learner fed: every case that completes is added as it happens. `subscription`
 *  receives an id for acm_engine_unsubscribe. The learner must outlive the subscription (or the
 *  engine). */
ACM_C_API acm_status acm_learner_learn_on_close(acm_learner* learner, acm_engine* engine,
                                                uint64_t* subscription, char** error);
/** Stores the learner in the engine's store as the next version of template `name`; `version`
 *  (may be NULL) receives it. */
ACM_C_API acm_status acm_learner_save_template(acm_learner* learner, acm_engine* engine, const char* name,
                                               int* version, char** error);
/** Reads template `name` (version 0: latest) back as a new learner. ACM_NOT_FOUND if missing. */
ACM_C_API acm_status acm_learner_load_template(acm_engine* engine, const char* name, int version,
                                               acm_learner** out, char** error);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ACM_C_H */
