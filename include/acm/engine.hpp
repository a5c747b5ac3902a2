// SPDX-License-Identifier: Apache-2.0
// acm/engine.hpp - the Engine: definitions, cases, goals, runtime assembly, time, events.
//
// Thread safety: an Engine is safe for concurrent use from many threads without external
// synchronisation. Commands on one case are serialised; commands on different cases run in
// parallel. Every command either applies completely or throws acm::Error and changes nothing.
//
// Text: every string given to the engine (ids, names, values inside JSON) must be valid UTF-8,
// and ids and names (actors, cases, items, goals, roles, paths, keys) must not contain control
// characters; otherwise the call fails with ErrorCode::invalid_argument naming the field. An
// actor id must not be empty.
#pragma once

#include <acm/case.hpp>
#include <acm/definition.hpp>
#include <acm/error.hpp>
#include <acm/json.hpp>
#include <acm/queries.hpp>
#include <acm/store.hpp>
#include <acm/time.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace acm {

/// How an Engine is set up. Every field has a usable default.
/// One term of a priority policy: an expression of the condition language over the case
/// (docs/expressions.md: `case`, `subject`, `file`, `goals`, `goal("id")`, `now`, ...) whose
/// numeric value is multiplied by `weight`. A term whose value is not a number counts 0.
struct PriorityTerm {
  std::string name;
  std::string expression;
  double weight = 1.0;
};

/// How a case's priority is computed: priority = base + round(sum of weight * value), where the
/// base is what create_case / set_priority gave. Recomputed after every command and timer.
struct PriorityPolicy {
  std::vector<PriorityTerm> terms;
  /// Reads {"terms": [{"name", "expression", "weight"}]}; invalid_definition listing every problem.
  static PriorityPolicy from_json(const Json& j);
};

/// An escalation rule: when `on` happens to a goal or task, do `actions`, at most `max_times`
/// per goal or task (each escalation is recorded as an "escalated" event).
struct EscalationRule {
  std::string id;
  std::string on;         ///< "goal_at_risk", "goal_overdue" or "item_overdue"
  std::string target;     ///< goal id or item definition id this applies to ("" = any)
  std::string notify;     ///< "owner", "assignee" or an actor id: named in the escalated event
  std::string reassign_to;             ///< item_overdue: assign the task to this actor
  std::optional<Participant> bring_in; ///< add this participant (team lead, supplier)
  std::string add_fragment;            ///< instantiate this fragment (bound to the goal)
  int max_times = 1;
  /// Reads {"rules": [{id, on, target, notify, reassign_to, bring_in: {actor, roles}, add_fragment, max_times}]}.
  static std::vector<EscalationRule> from_json(const Json& j);
};

/// Checks escalation rules (ids, triggers, bounds); invalid_argument listing every problem.
void validate_escalation(const std::vector<EscalationRule>& rules);

/// A learned (or otherwise computed) completion forecast for a case, or nullopt.
using CompletionForecaster = std::function<std::optional<TimePoint>(const CaseInfo& c, TimePoint now)>;

struct EngineOptions {
  /// Path of the SQLite store file (created if missing). "" or ":memory:" keeps everything in
  /// memory: nothing survives the Engine. Not used when `store` is set.
  std::string database;
  /// Durability of commits to the store file. Not used when `store` is set.
  Durability durability = Durability::group;
  /// The store to keep cases in (acm/store.hpp), shared with the host; when set, `database`,
  /// `durability` and `read_only` are not used (a read-only store says so in its traits). The
  /// engine must be the only writer of the store's cases while it is open. Default: none (the
  /// engine opens the store `database` names).
  std::shared_ptr<CaseStore> store;
  /// A snapshot of a case is stored every this many events (bounds replay when a case loads).
  std::size_t snapshot_every = 100;
  /// Cases kept in memory; beyond this, idle cases are dropped from the cache and reloaded
  /// from the store when next used.
  std::size_t cache_capacity = 100000;
  /// Cases fired together by run_due: one transaction each, prepared while the previous one is
  /// written. A chunk's cases stay locked until it is durable, so smaller chunks make a command
  /// on a due case wait less, larger ones write fewer transactions.
  std::size_t timer_batch = 512;
  /// Source of time. Default: a SystemClock. A ManualClock is attached to the engine so that
  /// advancing it fires due timers (see ManualClock).
  std::shared_ptr<Clock> clock;
  /// Calendar for deadlines given as durations and for remaining-work estimates. Default: 24x7.
  std::shared_ptr<const Calendar> calendar;
  /// Global roles that may do everything (define, create, manage any case). Default: {"admin"}.
  std::vector<std::string> admin_roles{"admin"};
  /// Global roles that may register definitions, besides admin roles. Default: {"designer"}.
  std::vector<std::string> designer_roles{"designer"};
  /// Upper bound on lifecycle steps one command may cause (sentry chains, repetitions). When it
  /// is reached the engine records an "error" event on the case and stops evaluating.
  std::size_t max_steps_per_command = 10000;
  /// Upper bounds on what one command, or one timer run (run_due) on one case, may add to the
  /// case: plan items created (repetitions, stage children, fragments) and events appended.
  /// When one is reached the engine records an "error" event on the case naming the bound and
  /// stops evaluating (the command itself succeeds with what was done so far), so that no
  /// definition can make a single command grow a case without limit. Both at least 16.
  std::size_t max_items_per_command = 1000;
  std::size_t max_events_per_command = 10000;
  /// Opens the store for queries only: no lock file is created, nothing is ever written
  /// (every command and registration fails with Error(invalid_state); run_due fires nothing
  /// and returns 0), so a store in a read-only directory (or on read-only media) can be listed
  /// and inspected. A store whose directory is not writable is opened this way without being
  /// asked. Another process may hold the store open for writing meanwhile; reads see its
  /// commits.
  bool read_only = false;
  /// Upper bound on the serialised JSON size of one event's payload, in bytes (strings counted
  /// without their escapes). A command whose value would exceed it (a case-file value, a note's
  /// text, a signal's payload, a case's initial file, ...) is refused with
  /// Error(invalid_argument) naming the event, and changes nothing; an automated task whose
  /// output exceeds it fails. Large content belongs in a document store, attached by link.
  /// At least 1024; default 16 MiB.
  std::size_t max_payload_bytes = 16u << 20;
  /// Priority policy applied to every case (none: priorities are what commands set).
  std::optional<PriorityPolicy> priority_policy;
  /// Escalation rules for at-risk and overdue goals and tasks (docs/helpdesk.md).
  std::vector<EscalationRule> escalation;
  /// Expected completion of a case, e.g. from a learned model (acm/learn.hpp); used to track
  /// promises. Called under the case lock: it must not call the engine.
  CompletionForecaster forecaster;
  /// A promise turns at risk at the latest this long (calendar time) before it is due, so a
  /// warning always comes before a broken promise.
  Duration promise_warning = std::chrono::hours(1);
};

/// A promise to the customer (Engine::make_promise).
struct PromiseSpec {
  std::string id;
  std::string what;
  TimePoint due{};
};

/// A command's caller: the actor plus optional concurrency control. Converts from Actor.
struct Request {
  Request(Actor a) : actor(std::move(a)) {}  // NOLINT(google-explicit-constructor)
  Request(Actor a, std::uint64_t expected) : actor(std::move(a)), expected_version(expected) {}
  Actor actor;
  /// If set, the command fails with ErrorCode::conflict unless the case is at this version.
  std::optional<std::uint64_t> expected_version;
  /// If not empty: a command retried with the same key returns the first result and appends
  /// nothing (keys are global to the store and kept forever). A key is bound to the actor, the
  /// case, the command and its arguments: reusing it for anything else is ErrorCode::conflict,
  /// and a retry is refused (permission_denied) if the actor has lost the permission the
  /// command needed.
  std::string idempotency_key;
};

/// What a successful command did.
struct CommandResult {
  std::uint64_t version = 0;  ///< case version after the command
  std::vector<Event> events;  ///< the events it appended, in order
  std::string created;        ///< id of what the command created (item, asset), if anything
};

/// Arguments of create_case.
struct NewCase {
  std::string id;          ///< "" = generated ("case-1", ...)
  std::string type;        ///< case type id ("" = bare case)
  int type_version = 0;    ///< 0 = latest
  std::string title;
  Subject subject;
  std::string owner;       ///< "" = the creating actor
  int priority = 0;
  std::vector<Participant> participants;
  Json file = Json::object();  ///< initial case file
};

/// Arguments of add_task: an ad-hoc task not taken from a fragment.
struct AdHocTask {
  std::string name;
  ItemKind kind = ItemKind::human_task;  ///< human_task, automated_task or milestone
  std::string role;
  std::vector<std::string> skills;
  std::optional<Duration> estimate;
  std::optional<Duration> due;
  std::string handler;  ///< automated tasks
  Json input;
  std::string output;
  std::string goal;                ///< goal the task serves ("" = none)
  std::string assignee;
  std::vector<std::string> after;  ///< item ids that must complete first
  bool required = false;
  bool manual = false;             ///< wait in `enabled` until someone starts it
};

/// Changes to a goal (unset fields stay).
struct GoalChange {
  std::optional<std::string> name, owner;
  std::optional<bool> required;
  std::optional<std::optional<TimePoint>> deadline;  ///< {nullopt} removes the deadline
  std::optional<std::string> criterion;
  std::optional<std::vector<std::string>> milestones;
};

/// A discretionary fragment offered for a case now.
struct FragmentOffer {
  std::string fragment;
  int version = 0;
  std::string name;
  std::string description;
  std::vector<Parameter> parameters;
};

/// What an automated-task handler sees.
struct TaskContext {
  std::string case_id;
  std::string item_id;
  std::string handler;
  Json input;       ///< the item's input (with fragment parameters)
  Json case_file;   ///< a copy of the case file
  TimePoint now{};
};

/// What a handler returns: success with an output (written at the item's `output` path) or a
/// failure (the item goes to `failed`, CMMN "fault").
struct TaskResult {
  bool ok = true;
  Json output;
  std::string error;
};

/// Handler for automated tasks.
///
/// Called synchronously on the thread running the command that activated the task, while
/// that case is locked. It may read its arguments and do its own work; it must not call the
/// Engine for the same case (that throws Error(invalid_state)); other cases are fine. An
/// exception escaping it fails the task with the exception's message.
using TaskHandler = std::function<TaskResult(const TaskContext&)>;

/// Subscriber callback for engine events.
///
/// Called on a thread that ran a command (or advanced the clock), after the case lock is
/// released; events of one case arrive in sequence order, never concurrently with each other.
/// It may call any Engine method, including commands on the same case (their events are
/// delivered after the current callback returns). Exceptions it throws are swallowed.
using EventCallback = std::function<void(const Event&)>;

class Engine;

/// Learned templates kept beside the cases (Engine::templates()), backed by the store's
/// TemplateStore. Host-trusted, like the queries; safe from any thread. Every method throws
/// Error(invalid_state) if the engine's store keeps no templates.
class Templates {
 public:
  /// Stores template bytes as the next version of `name`, stamped with the engine clock
  /// (durably, like a command); returns the version. Errors: invalid_argument (a name or kind
  /// with control characters, invalid UTF-8, meta nested too deeply), invalid_state (read-only).
  int put(const std::string& name, const std::string& kind, const Json& meta, const std::string& data);
  /// The template's description and bytes; version 0 = the latest. Errors: not_found.
  std::pair<TemplateInfo, std::string> get(const std::string& name, int version = 0) const;
  /// Every stored template version (without bytes), by name and version.
  std::vector<TemplateInfo> list() const;

 private:
  friend class Engine;
  explicit Templates(Engine& engine) : engine_(&engine) {}
  Engine* engine_;
};

/// The help-desk intake log kept beside the cases (Engine::intake_log()), backed by the
/// store's IntakeLogStore. Safe from any thread. Every method throws Error(invalid_state) if the
/// engine's store keeps no intake log.
class IntakeLog {
 public:
  /// Appends entries atomically and durably; fills in their `seq`. Errors: invalid_argument (an
  /// entry without action, text that is not valid UTF-8), invalid_state (read-only), storage.
  void append(std::vector<IntakeLogEntry>& entries);
  /// The entries of one event id, in log order (an index lookup).
  std::vector<IntakeLogEntry> of_event(const std::string& event_id) const;
  /// Entries with seq > `after`, in log order, at most `limit`. Errors: invalid_argument (a
  /// limit above 10000).
  std::vector<IntakeLogEntry> page(std::size_t limit = 100, std::uint64_t after = 0) const;

 private:
  friend class Engine;
  explicit IntakeLog(Engine& engine) : engine_(&engine) {}
  Engine* engine_;
};

/// The engine. Create with Engine::open.
class Engine {
 public:
  /// Opens an engine on its store (EngineOptions::store, else the file EngineOptions::database
  /// names). Cases are loaded lazily, when first used. Errors: storage (bad, foreign, newer or
  /// locked store file; see docs/storage.md; a stored definition that cannot be loaded).
  static std::unique_ptr<Engine> open(EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- definitions --------------------------------------------------------------------
  /// Registers every fragment and case type of a JSON document, all or nothing.
  /// Errors: invalid_definition (every problem listed), already_exists (an (id, version) that
  /// is registered with different content), permission_denied (needs admin or designer role).
  void load_definitions(const Request& by, const Json& document);
  void register_fragment(const Request& by, const FragmentDef& fragment);
  void register_case_type(const Request& by, const CaseTypeDef& case_type);
  /// The fragment (id, version); version 0 = latest. not_found if missing.
  FragmentDef get_fragment(const std::string& id, int version = 0) const;
  CaseTypeDef get_case_type(const std::string& id, int version = 0) const;
  /// Latest version of every registered fragment.
  std::vector<FragmentDef> list_fragments() const;
  /// Latest version of every registered case type, by id.
  std::vector<CaseTypeDef> list_case_types() const;

  // ---- cases --------------------------------------------------------------------------
  /// Creates a case (default goals and initial fragments of its type included). Returns its id.
  std::string create_case(const Request& by, const NewCase& spec);
  /// A snapshot of the case; not_found if unknown.
  CaseInfo get_case(const std::string& case_id) const;
  std::optional<CaseInfo> find_case(const std::string& case_id) const;
  /// As get_case, on behalf of an actor: permission_denied unless the actor may view the case
  /// (owner, administrator, goal owner, or a participant whose case roles grant `view`). The overloads without an actor are for
  /// the host itself, which is trusted.
  CaseInfo get_case(const Request& by, const std::string& case_id) const;
  /// Ids of cases in creation order, after `after` ("" = from the first), at most `limit`.
  std::vector<std::string> list_cases(std::size_t limit = SIZE_MAX, const std::string& after = {}) const;
  /// Work queue page (see QueueFilter). Errors: invalid_argument (limit above 10000).
  std::vector<WorkItem> queue(const QueueFilter& filter) const;
  /// The same page and the number of items the filter matches in all (an index count).
  QueuePage queue_page(const QueueFilter& filter) const;
  /// Cases by status, owner and customer (see CaseQuery), with the total number of matches.
  /// Host-trusted, like the other queries. Errors: invalid_argument (limit above 10000).
  CasePage find_cases(const CaseQuery& query) const;
  /// Diagnostics: the complete internal state of a case (every field, sentry flags included)
  /// as canonical JSON; with `from_history`, the state rebuilt by folding the case's history
  /// alone. The two are equal for every case: the state is the fold of its events.
  Json inspect(const std::string& case_id, bool from_history = false) const;
  /// The case's history from sequence number `from` (1-based) on.
  std::vector<Event> history(const std::string& case_id, std::uint64_t from = 1) const;
  /// As history, on behalf of an actor: permission_denied unless the actor may view the case.
  std::vector<Event> history(const Request& by, const std::string& case_id, std::uint64_t from = 1) const;

  CommandResult set_owner(const Request& by, const std::string& case_id, const std::string& owner);
  CommandResult add_participant(const Request& by, const std::string& case_id, const Participant& p);
  CommandResult remove_participant(const Request& by, const std::string& case_id, const std::string& actor);
  CommandResult set_priority(const Request& by, const std::string& case_id, int priority);
  /// Sets one subject attribute (e.g. "sentiment"); fires sentries on `subject`.
  CommandResult set_subject_attribute(const Request& by, const std::string& case_id, const std::string& key,
                                      const Json& value);
  CommandResult suspend_case(const Request& by, const std::string& case_id, const std::string& reason = {});
  CommandResult resume_case(const Request& by, const std::string& case_id);
  /// Completes the case now: fails with invalid_state while a required goal is open or a
  /// required item is unfinished; remaining optional items are terminated.
  CommandResult complete_case(const Request& by, const std::string& case_id);
  CommandResult terminate_case(const Request& by, const std::string& case_id, const std::string& reason = {});
  /// completed/terminated -> closed (read-only).
  CommandResult close_case(const Request& by, const std::string& case_id);
  /// completed/terminated/closed -> active.
  CommandResult reopen_case(const Request& by, const std::string& case_id, const std::string& reason = {});

  // ---- goals --------------------------------------------------------------------------
  CommandResult add_goal(const Request& by, const std::string& case_id, const GoalSpec& goal);
  CommandResult change_goal(const Request& by, const std::string& case_id, const std::string& goal_id,
                            const GoalChange& change);
  CommandResult cancel_goal(const Request& by, const std::string& case_id, const std::string& goal_id,
                            const std::string& reason = {});
  /// A person's decision that the goal is achieved (goal owner, case owner or manager).
  CommandResult achieve_goal(const Request& by, const std::string& case_id, const std::string& goal_id);
  /// Stops the goal's clock (e.g. waiting on the customer): no at-risk or overdue while paused.
  /// goal_id "" pauses every open goal with a deadline. Needs plan.
  CommandResult pause_goal(const Request& by, const std::string& case_id, const std::string& goal_id,
                           const std::string& reason = {});
  /// Restarts the clock: the deadline moves by the working time (on the calendar) that was
  /// left at the pause, counted from now. goal_id "" resumes every paused goal.
  CommandResult resume_goal(const Request& by, const std::string& case_id, const std::string& goal_id);

  // ---- promises to the customer --------------------------------------------------------
  /// Records a promise; tracked until kept (the case completes before `due`, or keep_promise),
  /// broken (`due` passes) or cancelled. Needs plan.
  CommandResult make_promise(const Request& by, const std::string& case_id, const PromiseSpec& promise);
  CommandResult keep_promise(const Request& by, const std::string& case_id, const std::string& promise_id);
  CommandResult cancel_promise(const Request& by, const std::string& case_id, const std::string& promise_id,
                               const std::string& reason = {});
  /// The priority policy's terms for the case now: {priority, base, score, terms: [{name,
  /// value, weight, contribution}]}. Without a policy: {priority, base} only.
  Json explain_priority(const std::string& case_id) const;
  /// As explain_priority, on behalf of an actor who may view the case.
  Json explain_priority(const Request& by, const std::string& case_id) const;

  // ---- runtime assembly ---------------------------------------------------------------
  /// Discretionary fragments whose applicability rule holds for the case now.
  std::vector<FragmentOffer> applicable_fragments(const std::string& case_id) const;
  /// As applicable_fragments, on behalf of an actor who may view the case.
  std::vector<FragmentOffer> applicable_fragments(const Request& by, const std::string& case_id) const;
  /// Instantiates a fragment as a stage of the case plan, all or nothing: parameters checked,
  /// roles known to the case type, no dependency cycle. Returns the new stage item id in
  /// CommandResult::events (payload "item") and as the string result.
  std::string add_fragment(const Request& by, const std::string& case_id, const FragmentUse& use,
                           const std::vector<std::string>& after = {});
  /// Adds an ad-hoc task; returns its item id.
  std::string add_task(const Request& by, const std::string& case_id, const AdHocTask& task);
  /// Makes `item` wait for `after` to complete. Refused with ErrorCode::cycle if that closes a
  /// dependency cycle (the message names it); invalid_state if `item` already started.
  CommandResult add_dependency(const Request& by, const std::string& case_id, const std::string& item,
                               const std::string& after);
  /// Removes a planned item that has not started (available/enabled/disabled) and its children.
  CommandResult remove_item(const Request& by, const std::string& case_id, const std::string& item);

  // ---- work on plan items -------------------------------------------------------------
  CommandResult start_item(const Request& by, const std::string& case_id, const std::string& item);
  /// Completes an active task (output merged at the item's `output` path, if any) or stage.
  CommandResult complete_item(const Request& by, const std::string& case_id, const std::string& item,
                              const Json& output = nullptr);
  CommandResult assign_item(const Request& by, const std::string& case_id, const std::string& item,
                            const std::string& assignee);
  CommandResult terminate_item(const Request& by, const std::string& case_id, const std::string& item);
  CommandResult suspend_item(const Request& by, const std::string& case_id, const std::string& item);
  CommandResult resume_item(const Request& by, const std::string& case_id, const std::string& item);
  /// enabled -> disabled, and disabled -> enabled (reenable).
  CommandResult disable_item(const Request& by, const std::string& case_id, const std::string& item);
  CommandResult reenable_item(const Request& by, const std::string& case_id, const std::string& item);
  /// failed -> active (CMMN reactivate).
  CommandResult reactivate_item(const Request& by, const std::string& case_id, const std::string& item);
  /// A user event listener occurs, or a milestone without entry criteria is declared reached.
  CommandResult occur(const Request& by, const std::string& case_id, const std::string& item);

  // ---- case file and external events --------------------------------------------------
  /// Sets a JSON value at a dotted path ("customer.address.city"; "items.0" for arrays).
  CommandResult set_file(const Request& by, const std::string& case_id, const std::string& path, const Json& value);
  CommandResult remove_file(const Request& by, const std::string& case_id, const std::string& path);
  /// Attaches a document, link or note; returns the result whose last event carries the asset id.
  CommandResult attach(const Request& by, const std::string& case_id, const Asset& asset);
  /// Delivers a named external event (fires on-parts of source `event`).
  CommandResult signal(const Request& by, const std::string& case_id, const std::string& name,
                       const Json& payload = Json::object());

  // ---- host integration ---------------------------------------------------------------
  /// Registers the handler for automated tasks naming `name`. Replaces an existing one.
  void register_handler(const std::string& name, TaskHandler handler);
  /// Subscribes to events whose kind is in `kinds` (empty: all). Returns a subscription id.
  std::uint64_t subscribe(EventCallback callback, std::vector<std::string> kinds = {});
  void unsubscribe(std::uint64_t subscription);

  // ---- beside the cases --------------------------------------------------------------
  /// Learned templates kept in the engine's store (acm/learn.hpp writes them).
  Templates& templates();
  const Templates& templates() const;
  /// The help-desk intake log kept in the engine's store (acm/intake.hpp writes it).
  IntakeLog& intake_log();
  const IntakeLog& intake_log() const;

  // ---- time ---------------------------------------------------------------------------
  /// Earliest pending timer or deadline check.
  std::optional<TimePoint> next_due() const;
  /// Fires everything due at the clock's current time, in time order, exactly once. Returns how
  /// many timers fired. With a ManualClock this is called for you as the clock advances.
  std::size_t run_due();
  /// The engine's clock.
  const Clock& clock() const;

  // ---- the global event feed (docs/storage.md, "The event feed") -----------------------
  /// Every event of every case after position `after` ("" = from the start), written by this
  /// process or any other on the same store, in feed order: each case's events in version
  /// order, and never an event before a position already returned, so reading on from the last
  /// position seen misses nothing and repeats nothing. At most `limit`. Host-trusted (no actor
  /// check). Errors: invalid_argument (a position the store never gave out), invalid_state (a
  /// store without a feed), storage.
  std::vector<FeedEntry> read_feed(const std::string& after, std::size_t limit = 1000) const;
  /// read_feed, waiting up to `timeout` for the first event after `after` to arrive (polling
  /// the store with a growing pause of 1 to 50 ms; commits pay nothing for it). Returns an
  /// empty list when none arrived in time. Errors: as read_feed.
  std::vector<FeedEntry> wait_feed(const std::string& after, std::size_t limit, std::chrono::milliseconds timeout) const;

  // ---- help desk: correlation (acm/intake.hpp) ---------------------------------------
  /// Ids of the open (active or suspended) cases of `customer`, newest first, at most
  /// `limit`: an index lookup, no scan of other cases. Host-trusted, like the queries.
  std::vector<std::string> open_cases_of(const std::string& customer, std::size_t limit = 100) const;

  struct Impl;

 private:
  friend class Templates;
  friend class IntakeLog;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  Templates templates_{*this};
  IntakeLog intake_log_{*this};
};

}  // namespace acm
