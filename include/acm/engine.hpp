// SPDX-License-Identifier: Apache-2.0
// acm/engine.hpp - the Engine: definitions, cases, goals, promises, runtime assembly, work on
// plan items, the case file, time, host integration.
//
// The values the Engine takes and returns have headers of their own, included here so that
// `#include <acm/engine.hpp>` is all a host needs:
//   acm/options.hpp     EngineOptions (how the engine opens)
//   acm/store.hpp       CaseStore (the injectable store), Durability, TemplateInfo,
//                       IntakeLogEntry
//   acm/policy.hpp      PriorityPolicy, EscalationRule (case policies in the options)
//   acm/command.hpp     Request, CommandResult, NewCase, AdHocTask, GoalChange, PromiseSpec
//   acm/queries.hpp     QueueFilter, WorkItem, QueuePage, CaseQuery, CaseSummary, CasePage,
//                       FragmentOffer
//   acm/actor_view.hpp  ActorView: every read of case data on behalf of an actor (Engine::as)
//   acm/callbacks.hpp   TaskHandler, TaskContext, TaskResult, EventCallback
//   acm/case.hpp        CaseInfo and the other views of a case; Actor, Event
//
// Thread safety: an Engine is safe for concurrent use from many threads without external
// synchronisation. Commands on one case are serialised; commands on different cases run in
// parallel. Returned values are independent copies unless a comment says otherwise.
//
// Text: every string given to the engine (ids, names, values inside JSON) must be valid UTF-8,
// and ids and names (actors, cases, items, goals, roles, paths, keys) must not contain control
// characters; otherwise the call fails with ErrorCode::invalid_argument naming the field. An
// actor id must not be empty.
//
// Commands take a Request first and return a CommandResult. A command returns only after its
// events are durable in the store, or throws acm::Error and changes nothing (not the case, not
// the store). A command that would change nothing succeeds without events. Besides the errors
// named with each command, every command on a case may fail with:
//   - invalid_argument: text as above; a value or an event payload larger than
//     EngineOptions::max_payload_bytes or nested more than 256 levels;
//   - not_found: there is no case `case_id`;
//   - permission_denied: the actor lacks the permission the command needs (named with each
//     command: view, work, plan or manage; the owner and administrators have them all;
//     docs/semantics.md section 7);
//   - invalid_state: the engine is read-only (EngineOptions::read_only); the case is not active
//     (except for the case status commands, keep_promise and cancel_promise); a task handler
//     calling into its own case (re-entrant call);
//   - conflict: Request::expected_version is not the case's version; the idempotency key was
//     used by another actor, or for another case, command or arguments;
//   - storage: the store could not be read or written (the case is reloaded from the store when
//     next used; with Durability::group one failed batch fails every command in it).
//
// Reads: every read of case data has a trusted form on the Engine (the host reads; no
// permission is checked) and the same read on behalf of an actor, `engine.as(actor).read(...)`
// (acm/actor_view.hpp). A read of one case throws not_found for an unknown case, and
// invalid_state when a task handler reads its own case.
#pragma once

#include <acm/actor_view.hpp>
#include <acm/callbacks.hpp>
#include <acm/case.hpp>
#include <acm/command.hpp>
#include <acm/definition.hpp>
#include <acm/error.hpp>
#include <acm/json.hpp>
#include <acm/options.hpp>
#include <acm/policy.hpp>
#include <acm/queries.hpp>
#include <acm/store.hpp>
#include <acm/time.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acm {

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

/// The engine. Create with Engine::open; destroy it when no other thread uses it (destruction
/// must not race with calls; it detaches from a ManualClock, finishes pending writes and
/// releases the store file).
class Engine {
 public:
  /// Opens an engine on its store (EngineOptions::store, else the file EngineOptions::database
  /// names). Reads the registered definitions;
  /// cases are loaded lazily, when first used; no timer fires until run_due.
  /// Errors: invalid_argument (an option out of its bounds, escalation rules that do not
  /// validate, read_only without a database file), invalid_definition (a priority policy term
  /// that does not parse), storage (bad, foreign, newer, corrupt or locked store file; stored
  /// definitions that no longer load; see docs/storage.md).
  static std::unique_ptr<Engine> open(EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- definitions --------------------------------------------------------------------
  /// Registers every fragment and case type of a JSON document (docs/definitions.md), all or
  /// nothing, durably before they become visible. Registering an (id, version) again with the
  /// same content is no change. Waits for running commands and holds new ones back meanwhile.
  /// Errors: invalid_definition (every problem listed, with its JSON pointer), already_exists
  /// (an (id, version) that is registered with different content, when that is the only
  /// problem), permission_denied (needs an admin or designer role), invalid_state (read-only
  /// engine; called from a task handler), invalid_argument (text), storage.
  void load_definitions(const Request& by, const Json& document);
  /// Registers one fragment, as load_definitions with a document holding only it.
  void register_fragment(const Request& by, const FragmentDef& fragment);
  /// Registers one case type, as load_definitions with a document holding only it.
  void register_case_type(const Request& by, const CaseTypeDef& case_type);
  /// The fragment (id, version); version 0 = latest. Errors: not_found.
  FragmentDef get_fragment(const std::string& id, int version = 0) const;
  /// The case type (id, version); version 0 = latest. Errors: not_found.
  CaseTypeDef get_case_type(const std::string& id, int version = 0) const;
  /// Latest version of every registered fragment, by id.
  std::vector<FragmentDef> list_fragments() const;
  /// Latest version of every registered case type, by id.
  std::vector<CaseTypeDef> list_case_types() const;

  // ---- reads of cases (trusted; the same on behalf of an actor: as(actor)) -------------
  /// The reads of case data on behalf of `actor`: only cases the actor may view
  /// (acm/actor_view.hpp). The view refers to this engine and must not outlive it.
  ActorView as(const Actor& actor) const;
  /// A snapshot of the case. Errors: not_found.
  CaseInfo get_case(const std::string& case_id) const;
  /// As get_case, but nullopt for an unknown case.
  std::optional<CaseInfo> find_case(const std::string& case_id) const;
  /// Ids of cases in creation order, after `after` ("" = from the first), at most `limit`.
  /// Reads the store's case table; loads no case. An `after` that names no case gives an empty
  /// list with the SQLite store (the in-memory store starts from the first case).
  std::vector<std::string> list_cases(std::size_t limit = SIZE_MAX, const std::string& after = {}) const;
  /// A work queue page (see QueueFilter), from the store's read model; loads no case.
  /// Errors: invalid_argument (limit above 10000).
  std::vector<WorkItem> queue(const QueueFilter& filter) const;
  /// The same page and the number of items the filter matches in all (an index count).
  /// Errors: invalid_argument (limit above 10000).
  QueuePage queue_page(const QueueFilter& filter) const;
  /// Cases by status, owner and customer (see CaseQuery), with the total number of matches;
  /// loads no case. Errors: invalid_argument (limit above 10000).
  CasePage find_cases(const CaseQuery& query) const;
  /// Ids of the open (active or suspended) cases of `customer`, newest first, at most `limit`:
  /// an index lookup, no scan of other cases. "" gives none.
  std::vector<std::string> open_cases_of(const std::string& customer, std::size_t limit = 100) const;
  /// Diagnostics: the complete internal state of a case (every field, sentry flags included)
  /// as canonical JSON; with `from_history`, the state rebuilt by folding the case's history
  /// alone. The two are equal for every case: the state is the fold of its events.
  /// Errors: not_found; internal (the history does not fold).
  Json inspect(const std::string& case_id, bool from_history = false) const;
  /// The case's history from sequence number `from` (1-based) on, read from the store.
  /// Errors: not_found.
  std::vector<Event> history(const std::string& case_id, std::uint64_t from = 1) const;
  /// The priority policy's terms for the case now: {priority, base, score, terms: [{name,
  /// value, weight, contribution}]}. Without a policy: {priority, base} only. Errors: not_found.
  Json explain_priority(const std::string& case_id) const;
  /// Discretionary fragments whose applicability rule holds for the case now (the case type's
  /// discretionary list, or every registered fragment for a case without one); none unless the
  /// case is active. Errors: not_found.
  std::vector<FragmentOffer> applicable_fragments(const std::string& case_id) const;

  // ---- cases --------------------------------------------------------------------------
  /// Creates a case, with the default goals and initial fragments of its type. Any actor may
  /// create cases. `created` is the case id; the result's events start with case_created.
  /// Request::expected_version is ignored; with an idempotency key already used for a
  /// create_case, returns that first result (the same case id) and creates nothing.
  /// Errors: invalid_argument (a malformed case id, participant without actor id, too many
  /// participants, initial file or subject attributes not an object), not_found (case type, or
  /// one of its initial fragments, not registered), already_exists (NewCase::id is taken), and
  /// those of add_goal and add_fragment for the type's goals and initial fragments.
  CommandResult create_case(const Request& by, const NewCase& spec);
  /// Sets the owner. Needs manage. Errors: invalid_argument (empty owner).
  CommandResult set_owner(const Request& by, const std::string& case_id, const std::string& owner);
  /// Adds a participant with case roles. Needs manage. Errors: invalid_argument (no actor id,
  /// too many participants, a role the case type does not define).
  CommandResult add_participant(const Request& by, const std::string& case_id, const Participant& p);
  /// Removes a participant; work assigned to it goes back to the queue. Needs manage.
  /// Errors: not_found (not a participant).
  CommandResult remove_participant(const Request& by, const std::string& case_id, const std::string& actor);
  /// Sets the priority's base (a priority policy adds its score). Needs manage.
  CommandResult set_priority(const Request& by, const std::string& case_id, int priority);
  /// Sets one subject attribute (e.g. "sentiment"); fires sentries on `subject`. Needs manage.
  /// Errors: invalid_argument (empty key).
  CommandResult set_subject_attribute(const Request& by, const std::string& case_id, const std::string& key,
                                      const Json& value);
  /// active -> suspended. Needs manage. Errors: invalid_state (not active).
  CommandResult suspend_case(const Request& by, const std::string& case_id, const std::string& reason = {});
  /// suspended -> active. Needs manage. Errors: invalid_state (not suspended).
  CommandResult resume_case(const Request& by, const std::string& case_id);
  /// Completes the case now; remaining optional items are terminated. Needs manage.
  /// Errors: invalid_state (not active; a required goal open; an item active or suspended; a
  /// required item unfinished).
  CommandResult complete_case(const Request& by, const std::string& case_id);
  /// active/suspended -> terminated; open items are terminated. Needs manage.
  /// Errors: invalid_state (neither active nor suspended).
  CommandResult terminate_case(const Request& by, const std::string& case_id, const std::string& reason = {});
  /// completed/terminated -> closed (read-only). Needs manage.
  /// Errors: invalid_state (neither completed nor terminated).
  CommandResult close_case(const Request& by, const std::string& case_id);
  /// completed/terminated/closed -> active. Needs manage; a closed case only by an
  /// administrator. Errors: invalid_state (active or suspended), permission_denied.
  CommandResult reopen_case(const Request& by, const std::string& case_id, const std::string& reason = {});

  // ---- goals --------------------------------------------------------------------------
  /// Adds a goal; `created` is its id. Needs plan. Errors: invalid_argument (no id, both
  /// deadline and duration, a negative duration, an unknown anchor), already_exists (the goal
  /// id), not_found (the parent goal), parse_error (the criterion).
  CommandResult add_goal(const Request& by, const std::string& case_id, const GoalSpec& goal);
  /// Changes a goal's fields (GoalChange). Needs plan, or being the goal's owner.
  /// Errors: not_found (goal), invalid_state (goal not open), parse_error (the criterion).
  CommandResult change_goal(const Request& by, const std::string& case_id, const std::string& goal_id,
                            const GoalChange& change);
  /// Cancels an open goal and its open sub-goals, at every depth. Needs plan.
  /// Errors: not_found (goal), invalid_state (goal not open).
  CommandResult cancel_goal(const Request& by, const std::string& case_id, const std::string& goal_id,
                            const std::string& reason = {});
  /// A person's decision that the goal is achieved: its owner (else the case owner) or manage.
  /// Errors: not_found (goal), invalid_state (goal not open; a required sub-goal open).
  CommandResult achieve_goal(const Request& by, const std::string& case_id, const std::string& goal_id);
  /// Stops the goal's clock (e.g. waiting on the customer): no at-risk or overdue while paused.
  /// goal_id "" pauses every open goal with a running deadline. Needs plan.
  /// Errors: not_found (goal), invalid_state (goal not open, already paused; "" with none).
  CommandResult pause_goal(const Request& by, const std::string& case_id, const std::string& goal_id,
                           const std::string& reason = {});
  /// Restarts the clock: the deadline moves by the working time (on the calendar) that was
  /// left at the pause, counted from now. goal_id "" resumes every paused goal. Needs plan.
  /// Errors: not_found (goal), invalid_state (goal not paused; "" with none paused).
  CommandResult resume_goal(const Request& by, const std::string& case_id, const std::string& goal_id);

  // ---- promises to the customer --------------------------------------------------------
  /// Records a promise; `created` is its id. Tracked until kept (the case completes before
  /// `due`, or keep_promise), broken (`due` passes) or cancelled. Needs plan.
  /// Errors: invalid_argument (no id; due not after now), already_exists (the promise id).
  CommandResult make_promise(const Request& by, const std::string& case_id, const PromiseSpec& promise);
  /// Marks an open promise kept, in any case status. Needs plan.
  /// Errors: not_found (promise), invalid_state (promise not open).
  CommandResult keep_promise(const Request& by, const std::string& case_id, const std::string& promise_id);
  /// Cancels an open promise, in any case status. Needs plan.
  /// Errors: not_found (promise), invalid_state (promise not open).
  CommandResult cancel_promise(const Request& by, const std::string& case_id, const std::string& promise_id,
                               const std::string& reason = {});

  // ---- runtime assembly ---------------------------------------------------------------
  /// Instantiates a fragment as a stage of the case plan, all or nothing: parameters checked,
  /// roles known to the case type, no dependency cycle. `created` is the new stage's item id.
  /// Needs plan. Errors: not_found (fragment or version not registered), invalid_argument
  /// (every problem in one message: a fragment not in the case type's discretionary list,
  /// arguments unknown, of the wrong type or missing, roles unknown to the case type, a goal
  /// that does not exist or is not open, `after` items missing), invalid_state (its
  /// applicability rule is false now).
  CommandResult add_fragment(const Request& by, const std::string& case_id, const FragmentUse& use,
                             const std::vector<std::string>& after = {});
  /// Adds an ad-hoc task; `created` is its item id. Needs plan. Errors: invalid_argument (no
  /// name, a kind other than human task, automated task or milestone, an automated task without
  /// handler, an assignee who is neither owner nor participant), not_found (the goal or an
  /// `after` item).
  CommandResult add_task(const Request& by, const std::string& case_id, const AdHocTask& task);
  /// Makes `item` wait for `after` to complete. Needs plan. Errors: not_found (either item),
  /// invalid_state (`item` already started), cycle (it would close a dependency cycle, named in
  /// the message, or an item would wait for itself).
  CommandResult add_dependency(const Request& by, const std::string& case_id, const std::string& item,
                               const std::string& after);
  /// Removes a planned item that has not started (available/enabled/disabled) and its children.
  /// Needs plan. Errors: not_found (item), invalid_state (started).
  CommandResult remove_item(const Request& by, const std::string& case_id, const std::string& item);

  // ---- work on plan items -------------------------------------------------------------
  // "Work on the item": manage, or work with the item unassigned or assigned to the actor and
  // the actor holding the item's case role (if any).

  /// enabled -> active, assigning the item to the actor if unassigned. Needs work on the item.
  /// Errors: not_found (item), invalid_state (not enabled).
  CommandResult start_item(const Request& by, const std::string& case_id, const std::string& item);
  /// Completes an active task (output merged at the item's `output` path, if any) or stage.
  /// Needs work on the item. Errors: not_found (item), invalid_state (not active; a stage with
  /// a child active, suspended or failed, or a required child unfinished), invalid_argument
  /// (output for an item without output path; a path that cannot be set).
  CommandResult complete_item(const Request& by, const std::string& case_id, const std::string& item,
                              const Json& output = nullptr);
  /// Assigns a human task or stage ("" unassigns). Needs plan or manage; a worker with work
  /// on the item may take unassigned work for itself. Errors: not_found (item), invalid_state
  /// (item terminal), invalid_argument (another kind of item; an assignee who is not a
  /// participant or lacks the item's role).
  CommandResult assign_item(const Request& by, const std::string& case_id, const std::string& item,
                            const std::string& assignee);
  /// Terminates an item and its children. Needs plan. Errors: not_found (item), invalid_state
  /// (already terminal; in CMMN semantics, a task or stage that has not started).
  CommandResult terminate_item(const Request& by, const std::string& case_id, const std::string& item);
  /// active -> suspended (with its active children). Needs work on the item.
  /// Errors: not_found (item), invalid_state (not active).
  CommandResult suspend_item(const Request& by, const std::string& case_id, const std::string& item);
  /// suspended -> active (with its suspended children). Needs work on the item.
  /// Errors: not_found (item), invalid_state (not suspended).
  CommandResult resume_item(const Request& by, const std::string& case_id, const std::string& item);
  /// enabled -> disabled. Needs plan. Errors: not_found (item), invalid_state (not enabled).
  CommandResult disable_item(const Request& by, const std::string& case_id, const std::string& item);
  /// disabled -> enabled. Needs plan. Errors: not_found (item), invalid_state (not disabled).
  CommandResult reenable_item(const Request& by, const std::string& case_id, const std::string& item);
  /// failed -> active (CMMN reactivate); an automated task's handler runs again. Needs work on
  /// the item. Errors: not_found (item), invalid_state (not failed).
  CommandResult reactivate_item(const Request& by, const std::string& case_id, const std::string& item);
  /// A user event listener occurs, or a milestone without entry criteria is declared reached.
  /// Needs work on the item. Errors: not_found (item), invalid_argument (another kind of item),
  /// invalid_state (not available; a milestone with entry criteria or `after`; its stage not
  /// active).
  CommandResult occur(const Request& by, const std::string& case_id, const std::string& item);

  // ---- case file and external events --------------------------------------------------
  /// Sets a JSON value at a dotted path ("customer.address.city"; "items.0" for arrays).
  /// Needs plan. Errors: invalid_argument (a malformed path, or one through a value that is not
  /// an object or array).
  CommandResult set_file(const Request& by, const std::string& case_id, const std::string& path, const Json& value);
  /// Removes the value at a path. Needs plan. Errors: not_found (no value there).
  CommandResult remove_file(const Request& by, const std::string& case_id, const std::string& path);
  /// Attaches a document, link or note; `created` is the asset id (also in the asset_attached
  /// event, the result's first event). Needs plan. Errors: invalid_argument (another kind; a
  /// document or link without uri; a note without text; metadata not an object),
  /// already_exists (the asset id).
  CommandResult attach(const Request& by, const std::string& case_id, const Asset& asset);
  /// Delivers a named external event (fires on-parts of source `event`). Needs plan.
  /// Errors: invalid_argument (empty name).
  CommandResult signal(const Request& by, const std::string& case_id, const std::string& name,
                       const Json& payload = Json::object());

  // ---- host integration ---------------------------------------------------------------
  /// Registers the handler for automated tasks naming `name`; replaces an existing one (a call
  /// already running finishes with the old one). Errors: invalid_argument (empty name).
  void register_handler(const std::string& name, TaskHandler handler);
  /// Subscribes to events whose kind is in `kinds` (empty: all), committed from now on in this
  /// process. Returns a subscription id. Errors: invalid_argument (no callback).
  std::uint64_t subscribe(EventCallback callback, std::vector<std::string> kinds = {});
  /// Ends a subscription (an unknown id is ignored). A delivery already under way may still
  /// call it once: keep what it captures alive until delivery is quiet.
  void unsubscribe(std::uint64_t subscription);

  // ---- beside the cases --------------------------------------------------------------
  /// Learned templates kept in the engine's store (acm/learn.hpp writes them). The reference is
  /// valid for the engine's life.
  Templates& templates();
  const Templates& templates() const;
  /// The help-desk intake log kept in the engine's store (acm/intake.hpp writes it). The
  /// reference is valid for the engine's life.
  IntakeLog& intake_log();
  const IntakeLog& intake_log() const;

  // ---- time ---------------------------------------------------------------------------
  /// Earliest pending timer or deadline check (none: nothing is pending). Errors: storage.
  std::optional<TimePoint> next_due() const;
  /// Fires everything due at the clock's current time, in time order, exactly once. Returns how
  /// many timers fired. With a ManualClock this is called for you as the clock advances.
  /// Thread safety: one call at a time per engine (a second call waits); it locks the due cases
  /// in chunks of EngineOptions::timer_batch. On a read-only engine it fires nothing.
  /// Errors: storage (a write failed: the run stops; what did not fire fires at the next call;
  /// a case that cannot be loaded is reported after the others fired).
  std::size_t run_due();
  /// The engine's clock. The reference is valid for the engine's life.
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
  /// The position of the newest event read_feed can return now ("" for an empty feed): a
  /// reader that wants only what happens from now on reads on from it (CaseStore::feed_end).
  /// Errors: as read_feed.
  std::string feed_end() const;

  struct Impl;

 private:
  friend class ActorView;
  friend class Templates;
  friend class IntakeLog;
  explicit Engine(std::unique_ptr<Impl> impl);
  /// The case if `actor` may view it, checked and copied under the case lock.
  CaseInfo viewed_case(const Actor& actor, const std::string& case_id) const;
  /// Throws unless `actor` may view the case (not_found, permission_denied).
  void require_view(const Actor& actor, const std::string& case_id) const;
  std::unique_ptr<Impl> impl_;
  Templates templates_{*this};
  IntakeLog intake_log_{*this};
};

}  // namespace acm
