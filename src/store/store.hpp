// SPDX-License-Identifier: Apache-2.0
// store/store.hpp - where cases, definitions, timers and learned templates live.
//
// The engine keeps a cache of cases in memory and writes every command through a Store. Two
// implementations: SqliteStore (the default; a WAL-mode SQLite file, docs/storage.md) and
// MemoryStore (unit tests, embedded use without a file). Private to the library.
//
// Thread safety: every method may be called from any thread; implementations synchronise
// internally. commit() from many threads may be batched (group commit).
#pragma once

#include <acm/case.hpp>
#include <acm/json.hpp>
#include <acm/time.hpp>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acm::store {

/// The `cases` row: what queries need without loading the case.
struct CaseRecord {
  std::string id;
  std::uint64_t version = 0;  ///< number of events
  std::string type;
  int type_version = 0;
  std::string status;  ///< to_string(CaseStatus)
  std::string owner;
  int priority = 0;
  std::string customer;
  std::string title;                       ///< schema v4
  std::optional<TimePoint> next_due;       ///< earliest timer or deadline check: drives Engine::run_due
  std::optional<TimePoint> next_deadline;  ///< earliest open goal or task deadline (display, queries)
  TimePoint created_at{};
  TimePoint updated_at{};
};

/// Read model: one open work item (a human task that is enabled, active or suspended).
struct WorkItemRecord {
  std::string case_id;
  std::string item_id;
  std::string name;
  std::string state;  ///< to_string(ItemState)
  std::string assignee;
  std::string role;
  std::vector<std::string> skills;
  std::optional<TimePoint> due;
  int priority = 0;  ///< the case's priority
  // Schema v4: what an inbox shows (see acm::WorkItem).
  std::string case_title;
  std::string customer;
  std::string goal;
  std::optional<TimePoint> goal_deadline;
  std::string goal_timing;  ///< to_string(Timing); "" when there is no goal
  bool operator==(const WorkItemRecord&) const = default;
};

/// A serialised case state (Boost.Serialization archive, see snapshot.hpp) at a version.
struct SnapshotRecord {
  std::uint64_t version = 0;
  std::string data;
};

/// One command's effect on one case, written atomically: all of it or nothing.
/// The indexed columns of a stored case row (what an UPDATE must know to leave unchanged
/// indexes alone).
struct RowKeys {
  std::string status, owner, customer;
  std::optional<TimePoint> next_due;
  static RowKeys of(const CaseRecord& r) { return {r.status, r.owner, r.customer, r.next_due}; }
  bool operator==(const RowKeys&) const = default;
};

struct Commit {
  CaseRecord record;                  ///< the case row after the command
  std::uint64_t expected_version = 0; ///< the stored version before the command (0: a new case)
  std::vector<Event> events;          ///< appended; seq = expected_version + 1, ...
  /// Instead of `events`: the caller's events, which it keeps alive (and unchanged) until the
  /// commit returns or its batch has been waited for. Saves a copy.
  const std::vector<Event>* events_ref = nullptr;
  /// The events' payloads as JSON text, if the caller serialised them (else the store does).
  std::vector<std::string> payloads;
  /// What the caller knows the stored row's indexed columns to be at expected_version (the
  /// engine is the store's only writer); nullopt: the store reads them.
  std::optional<RowKeys> stored;
  const std::vector<Event>& all_events() const { return events_ref ? *events_ref : events; }
  /// The case's open work items after the command, replacing the previous ones; nullopt if
  /// they did not change.
  std::optional<std::vector<WorkItemRecord>> work_items;
  std::optional<SnapshotRecord> snapshot;  ///< replaces the previous snapshot
  std::string idempotency_key;             ///< "" = none
  Json idempotent_result;                  ///< stored under the key
};

struct LoadedCase {
  CaseRecord record;
  std::optional<SnapshotRecord> snapshot;
  std::vector<Event> events;  ///< events after the snapshot (all events without one)
};

struct DefinitionRecord {
  std::string kind;  ///< "fragment" or "case_type"
  std::string id;
  int version = 0;
  Json body;         ///< the JSON definition (docs/definitions.md)
};

/// A versioned learned template (filled by the learning component).
struct TemplateRecord {
  std::string name;
  int version = 0;   ///< assigned by the store when 0: latest + 1
  std::string kind;  ///< e.g. "next_step", "duration", "fragment_proposal"
  TimePoint created_at{};
  Json meta;         ///< small description (training cases, metrics)
  std::string data;  ///< the model (opaque bytes)
};

/// Work-queue queries over the read model, ordered by priority (desc), due (asc, missing last),
/// case id, item id; paged.
struct QueueQuery {
  std::string assignee;            ///< items assigned to this actor ...
  std::vector<std::string> roles;  ///< ... or unassigned items needing one of these roles
  std::optional<std::vector<std::string>> skills;  ///< ... and only those skills (see QueueFilter)
  std::optional<TimePoint> overdue_at;  ///< only items whose due < this time (ordered by due asc)
  std::size_t limit = 50;
  std::size_t offset = 0;
};

/// A case search (schema v4 indexes cases_status_seq, cases_owner_seq; v2 cases_customer):
/// newest first (creation order reversed), paged.
struct CaseSearch {
  std::vector<std::string> statuses;  ///< any of these (empty: any); sorted, unique
  std::string owner;                  ///< "" = any
  std::string customer;               ///< "" = any
  std::size_t limit = 50;
  std::size_t offset = 0;
};

/// One row of the intake log (schema v2): a decision the help-desk intake took on a channel event.
struct IntakeRecord {
  std::uint64_t seq = 0;  ///< assigned by the store: 1, 2, ... in append order
  std::string event_id;
  TimePoint time{};       ///< when the decision was taken (engine clock)
  std::string channel;
  std::string customer;
  std::string rule;       ///< rule id ("" for unmatched and rejected)
  std::string action;     ///< create_case, attach, raise_priority, ignore, unmatched, rejected
  std::string case_id;    ///< "" when no case is involved
  std::string reason;     ///< why (rejections), or a short explanation
  Json event;             ///< the event as JSON
};

enum class Durability {
  full,   ///< every commit is its own transaction, synchronous=FULL; returns when durable
  group,  ///< commits from many threads are batched into one transaction by a writer thread;
          ///< each caller returns once its batch is durable (synchronous=FULL per batch)
};

/// A batch of commits handed to the store (Store::submit_batch) and not yet known to be written.
class PendingBatch {
 public:
  virtual ~PendingBatch() = default;
  /// Waits until the batch is written (durably, per the durability mode); errors[i] is null or
  /// the exception commit i failed with, as in Store::commit_batch. Call once.
  virtual std::vector<std::exception_ptr> wait() = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Definitions (registered once, never changed).
  virtual std::vector<DefinitionRecord> load_definitions() = 0;
  /// Adds definitions atomically (all or none).
  virtual void save_definitions(const std::vector<DefinitionRecord>& defs) = 0;

  // Cases.
  /// Applies a commit atomically and durably (per the durability mode). Throws
  /// Error(conflict) if the stored version is not `expected_version` (or, for a new case,
  /// the id exists) and Error(storage) on I/O failure; then nothing was written.
  virtual void commit(Commit commit) = 0;
  /// Applies several commits (of different cases) together, as one transaction where the store
  /// can; each commit still succeeds or fails on its own: errors[i] is null or the exception
  /// commit(commits[i]) would have thrown. Used for timer firing.
  virtual void commit_batch(std::vector<Commit> commits, std::vector<std::exception_ptr>& errors);
  /// Starts commit_batch and returns without waiting for it, so the caller can prepare more
  /// work while the batch is written; PendingBatch::wait() gives the errors. Batches submitted
  /// by one thread are written in submission order. The default writes before returning.
  virtual std::unique_ptr<PendingBatch> submit_batch(std::vector<Commit> commits);
  virtual std::optional<LoadedCase> load_case(const std::string& id) = 0;
  /// load_case for several cases at once, from one read snapshot where the store can: calls
  /// each(i, case ids[i] or nullopt if there is none) once for every i, in no particular order,
  /// one case at a time (so the caller can fold a case and drop its events before the next is
  /// read).
  virtual void load_cases(const std::vector<std::string>& ids,
                          const std::function<void(std::size_t, std::optional<LoadedCase>)>& each) {
    for (std::size_t i = 0; i < ids.size(); ++i) each(i, load_case(ids[i]));
  }
  /// The same, collected.
  std::vector<std::optional<LoadedCase>> load_cases(const std::vector<std::string>& ids) {
    std::vector<std::optional<LoadedCase>> out(ids.size());
    load_cases(ids, [&](std::size_t i, std::optional<LoadedCase> c) { out[i] = std::move(c); });
    return out;
  }
  /// Whether snapshots help this store (a store that keeps events in memory replays fast
  /// enough without them).
  virtual bool wants_snapshots() const { return true; }
  /// Whether the store writes payloads as JSON text (then the engine fills Commit::payloads on
  /// the committing thread, so that the store's single writer need not).
  virtual bool wants_payload_text() const { return false; }
  /// Events with seq >= from, in order.
  virtual std::vector<Event> load_events(const std::string& id, std::uint64_t from) = 0;
  virtual std::optional<CaseRecord> case_record(const std::string& id) = 0;
  /// Case ids in creation order, after `after_id` ("" = from the start), at most `limit`.
  virtual std::vector<std::string> case_ids(std::size_t limit, const std::string& after_id) = 0;
  virtual std::uint64_t case_count() = 0;

  // Timers: cases by next_due.
  using DueKey = std::pair<TimePoint, std::string>;  ///< (next_due, case id): the timer order
  /// (next_due, case id) of cases whose next_due <= until, earliest first (ties by id), at most
  /// `limit`; with `after`, only those ordered after it (keyset paging).
  virtual std::vector<DueKey> due_cases(TimePoint until, std::size_t limit, const std::optional<DueKey>& after) = 0;
  std::vector<DueKey> due_cases(TimePoint until, std::size_t limit) { return due_cases(until, limit, std::nullopt); }
  virtual std::optional<TimePoint> next_due() = 0;

  /// Case rows matching `search` (a page) and the number of all matches.
  virtual std::pair<std::vector<CaseRecord>, std::uint64_t> find_cases(const CaseSearch& search) = 0;

  // Read model.
  virtual std::vector<WorkItemRecord> work_items(const QueueQuery& query) = 0;
  /// The number of work items `query` matches, ignoring limit and offset.
  virtual std::uint64_t count_work_items(const QueueQuery& query) = 0;
  /// After a migration that added read-model columns (schema v4), the stored work items of
  /// existing cases lack them: calls `work_of(case id)` for every case that has stored work
  /// items and writes what it returns in their place (nullopt: leave the case alone), in one
  /// transaction, once. Stores that never need it do nothing.
  virtual void rebuild_work_items(
      const std::function<std::optional<std::vector<WorkItemRecord>>(const std::string&)>& work_of) {
    (void)work_of;
  }

  // Idempotency keys.
  virtual std::optional<Json> idempotent_result(const std::string& key) = 0;

  // Learned templates.
  /// Stores a template; returns the version it got.
  virtual int put_template(TemplateRecord record) = 0;
  /// Version 0: the latest.
  virtual std::optional<TemplateRecord> get_template(const std::string& name, int version) = 0;
  virtual std::vector<TemplateRecord> list_templates() = 0;  ///< without data

  // Help desk (schema v2): correlation and the intake log.
  /// Ids of the cases of `customer` whose status is active or suspended, newest first, at most
  /// `limit` (index cases_customer; no scan of other customers' cases).
  virtual std::vector<std::string> open_cases_of(const std::string& customer, std::size_t limit) = 0;
  /// Appends the records atomically (all or none), assigning their seq (written back).
  virtual void append_intake(std::vector<IntakeRecord>& records) = 0;
  /// The records of one event id, in seq order (index intake_log_event).
  virtual std::vector<IntakeRecord> intake_of(const std::string& event_id) = 0;
  /// Records with seq > after, in seq order, at most `limit`.
  virtual std::vector<IntakeRecord> intake_log(std::size_t limit, std::uint64_t after) = 0;
};

/// Options of the SQLite store.
struct SqliteOptions {
  std::string path;
  Durability durability = Durability::group;
  /// Longest a group-commit batch waits for more commits after the first one arrives.
  std::chrono::microseconds group_window{200};
  std::size_t max_batch = 1024;
};

/// Opens (creating if missing) an acm store file. Throws Error(storage) naming the problem for
/// a file with a newer schema, a SQLite file that is not an acm store, a corrupt or truncated
/// file, a path that cannot be written, or a file another engine has open for writing; such
/// a file is never modified.
std::unique_ptr<Store> open_sqlite(const SqliteOptions& options);

/// A store held in memory (nothing survives the process).
std::unique_ptr<Store> open_memory();

}  // namespace acm::store
