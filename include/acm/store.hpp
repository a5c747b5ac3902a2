// SPDX-License-Identifier: Apache-2.0
// acm/store.hpp - where an Engine keeps its cases: the CaseStore interface and its factories.
//
// An Engine keeps the cases it uses in memory and writes every command through a CaseStore:
// the case's new events, its row (what queries and timers read without loading the case), its
// open work items (the read model behind queues), a snapshot now and then, and the command's
// idempotency key, all in one atomic commit checked against the version the engine expects.
// Two implementations come with acm: a SQLite file (open_sqlite_store, the default of
// EngineOptions::database; docs/storage.md) and memory (open_memory_store). A host may give
// the engine any store (EngineOptions::store), as leveldb takes an Env; tests give it one
// that fails on purpose (tests/store/fault_store.hpp). tests/store/contract.cpp holds the
// assertions every implementation must pass.
//
// Two small companion interfaces keep what layers above the engine store beside the cases:
// learned templates (TemplateStore, acm/learn.hpp) and the help-desk intake log
// (IntakeLogStore, acm/intake.hpp). A store may offer them (CaseStore::templates(),
// CaseStore::intake_log()); the engine serves them as Engine::templates() and
// Engine::intake_log().
//
// Thread safety: every method of every interface here may be called from any thread at any
// time; implementations synchronise internally. Commits from many threads may be written
// together (group commit), each caller still returning only once its own commit is written.
//
// Errors: every method throws acm::Error. ErrorCode::storage means the store could not do
// what was asked (I/O, a damaged file, a lost connection) and nothing of that call was written
// unless the method says otherwise; ErrorCode::invalid_state means the store is read-only.
#pragma once

#include <acm/case.hpp>
#include <acm/json.hpp>
#include <acm/queries.hpp>
#include <acm/time.hpp>

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace acm {

/// How commits reach the disk (see docs/storage.md).
enum class Durability {
  full,   ///< every command is its own synced transaction (SQLite synchronous=FULL)
  group,  ///< commands from many threads share one synced transaction (group commit); each
          ///< command still returns only once it is durable
};

/// A case's row: what queries and timers need without loading the case (its summary plus
/// when it next needs the engine).
struct CaseRow : CaseSummary {
  /// Earliest timer or deadline check of the case (none: nothing pending). Drives run_due.
  std::optional<TimePoint> next_due;
};

/// The indexed columns of a stored case row. A commit may carry what the engine knows them to
/// be, so that a store can leave unchanged indexes alone without reading the row first.
struct RowKeys {
  CaseStatus status = CaseStatus::active;
  std::string owner;
  std::string customer;
  std::optional<TimePoint> next_due;
  static RowKeys of(const CaseRow& r) { return {r.status, r.owner, r.customer, r.next_due}; }
  bool operator==(const RowKeys&) const = default;
};

/// A serialised case state at a version. Opaque to the store: the engine writes it and checks
/// it when read back (a snapshot it cannot read is ignored and the events are replayed).
struct SnapshotBlob {
  std::uint64_t version = 0;  ///< the case version the state is at
  std::string data;
};

/// One command's effect on one case, written atomically by CaseStore::commit: all or nothing.
struct CaseCommit {
  CaseRow row;                         ///< the case row after the command
  std::uint64_t expected_version = 0;  ///< the stored version before it (0: a new case)
  /// The events appended, seq = expected_version + 1, ... (row.version is the last). Borrowed:
  /// the caller keeps them alive and unchanged until commit() returns or the batch holding
  /// this commit has been waited for.
  std::span<const Event> events;
  /// The events' payloads as JSON text, if the caller serialised them (a store whose traits
  /// ask for it gets them; otherwise empty and the store serialises what it needs).
  std::vector<std::string> payloads;
  /// What the caller knows the stored row's indexed columns to be at expected_version; a hint
  /// a store may ignore (it must still check the version). nullopt: unknown.
  std::optional<RowKeys> stored_keys;
  /// The case's open work items after the command, replacing all its previous ones; nullopt:
  /// unchanged. Each item's case_id is row.id.
  std::optional<std::vector<WorkItem>> work_items;
  std::optional<SnapshotBlob> snapshot;  ///< replaces the case's previous snapshot
  std::string idempotency_key;           ///< "" = none; stored with idempotent_result
  Json idempotent_result;                ///< what a retry of the command is answered
};

/// A case as stored: its row, its latest snapshot, and the events after it.
struct LoadedCase {
  CaseRow row;
  std::optional<SnapshotBlob> snapshot;
  /// The events after the snapshot's version (all of them without a snapshot), in order.
  std::vector<Event> events;
};

/// A registered definition as stored.
struct DefinitionRecord {
  std::string kind;  ///< "fragment" or "case_type"
  std::string id;
  int version = 0;
  Json body;         ///< the JSON definition (docs/definitions.md)
};

/// A case due for its timers: (next_due, case id) is the order run_due fires in.
struct DueCase {
  TimePoint due{};
  std::string case_id;
  auto operator<=>(const DueCase&) const = default;
};

/// What a store is and wants (constant for the store's lifetime).
struct StoreTraits {
  /// Opened for queries only: every write throws Error(invalid_state).
  bool read_only = false;
  /// Whether snapshots help: a store that keeps events in memory replays fast enough without
  /// them, and the engine then sends none.
  bool keeps_snapshots = true;
  /// Whether the store writes payloads as JSON text: then the engine fills
  /// CaseCommit::payloads on the committing thread, so that a single writer thread need not.
  bool wants_payload_text = false;
  /// Several processes may write the store at once (PostgreSQL): an engine then checks its
  /// cached cases against the store before reads, decides a command again after a conflict,
  /// and fires timers through claim_due.
  bool shared = false;
};

/// A set of commits handed to CaseStore::submit_batch and not yet known to be written.
class PendingBatch {
 public:
  virtual ~PendingBatch() = default;
  /// Waits until the batch is written (durably, per the store's durability); element i is
  /// null or the exception commit i failed with (as CaseStore::commit would have thrown).
  /// Call once. Throws only if the wait itself fails; then no commit's outcome is known.
  virtual std::vector<std::exception_ptr> wait() = 0;
};

class TemplateStore;
class IntakeLogStore;

/// One event of the global feed (CaseStore::read_feed) and its position.
struct FeedEntry {
  std::string position;  ///< opaque; read on after it
  Event event;
};

/// Due cases claimed by one process (CaseStore::claim_due): other claimers skip them and other
/// writers of them wait, until commit() or destruction (which releases them, writing nothing).
class DueClaim {
 public:
  virtual ~DueClaim() = default;
  /// The claimed cases in id order, with their stored versions.
  std::vector<std::pair<std::string, std::uint64_t>> cases;
  /// Where the next claim_due continues (the last key claimed); nullopt when nothing more
  /// was due and free.
  std::optional<DueCase> next;
  /// Writes the firings (commits of claimed cases only) in the claim's transaction and ends
  /// it: all or nothing. Element i is null, or the error (when one commit fails, all fail and
  /// nothing is written). Call at most once.
  virtual std::vector<std::exception_ptr> commit(std::vector<CaseCommit> commits) = 0;
};

/// Persistence of cases: everything an Engine needs of a store, and nothing else.
///
/// An engine assumes it is the only writer of the cases it caches: it checks every commit
/// against the version it expects, and drops a case from its cache when a commit fails.
/// Every method is safe to call from any thread.
class CaseStore {
 public:
  virtual ~CaseStore() = default;

  /// What the store is and wants; constant, never throws.
  virtual StoreTraits traits() const noexcept = 0;

  // ---- definitions (registered once, never changed) ---------------------------------------
  /// Every stored definition, in the order saved.
  virtual std::vector<DefinitionRecord> load_definitions() = 0;
  /// Adds definitions, all or none. One stored under the same (kind, id, version) with an
  /// identical body is left alone. Errors: already_exists (an (kind, id, version) stored with
  /// another body; nothing is added), invalid_state (read-only), storage.
  virtual void save_definitions(const std::vector<DefinitionRecord>& definitions) = 0;

  // ---- writing ----------------------------------------------------------------------------
  /// Writes one command's effect on one case atomically and durably (per the store's
  /// durability); returns when it is written. Errors, each with nothing of the commit written:
  /// conflict (the stored version is not expected_version; for expected_version 0 the case id
  /// exists; or the idempotency key is already stored), internal (events that do not continue
  /// expected_version up to row.version), invalid_argument (work items of another case, or one
  /// listed twice), invalid_state (read-only), storage (the write failed).
  /// One round trip to a SQL server: the version check is the write's own WHERE clause.
  virtual void commit(CaseCommit commit) = 0;
  /// Starts writing several commits (of different cases; of one case in order) together, in
  /// one transaction where the store can, and returns without waiting; each commit still
  /// succeeds or fails on its own as commit() would. Batches submitted by one thread are
  /// written in submission order. Used by run_due: the next chunk of timers is prepared while
  /// one is written. Default: writes each commit before returning.
  /// Errors (thrown here, nothing written): invalid_state (read-only), storage.
  virtual std::unique_ptr<PendingBatch> submit_batch(std::vector<CaseCommit> commits);
  /// submit_batch(commits)->wait().
  std::vector<std::exception_ptr> commit_batch(std::vector<CaseCommit> commits);

  // ---- reading cases ----------------------------------------------------------------------
  /// Loads several cases at once, from one consistent read where the store can (one round
  /// trip to a SQL server): calls each(i, the case ids[i], or nullopt if there is none) once
  /// for every i, in any order, one call at a time, so the caller can fold a case and drop its
  /// events before the next is read. Errors: storage (a read failed; calls already made stand).
  virtual void load_cases(const std::vector<std::string>& ids,
                          const std::function<void(std::size_t, std::optional<LoadedCase>)>& each) = 0;
  /// load_cases for one case.
  std::optional<LoadedCase> load_case(const std::string& id);
  /// The case's events with seq >= from, in order; nullopt if there is no such case (a case
  /// always has at least its creation event). Errors: storage.
  virtual std::optional<std::vector<Event>> load_events(const std::string& id, std::uint64_t from) = 0;
  /// Case ids in creation order, after `after_id` ("" = from the first), at most `limit`.
  /// An after_id that is not a case gives an empty list. Errors: storage.
  virtual std::vector<std::string> case_ids(std::size_t limit, const std::string& after_id) = 0;
  /// How many cases the store holds (cases are never deleted). Cheap: no scan. Errors: storage.
  virtual std::uint64_t case_count() = 0;

  // ---- timers -----------------------------------------------------------------------------
  /// Cases whose row's next_due <= until, in (due, case id) order, at most `limit`; with
  /// `after`, only those ordered after it (keyset paging: one index range per page).
  /// due_cases(TimePoint::max(), 1, nullopt) is the earliest pending timer. Errors: storage.
  virtual std::vector<DueCase> due_cases(TimePoint until, std::size_t limit, const std::optional<DueCase>& after) = 0;

  // ---- queries (answered from indexes, without loading cases) -----------------------------
  /// Case rows matching the query (any of its statuses, owner, customer), newest first (reverse
  /// creation order), from query.offset, at most query.limit, and the number of all matches.
  /// Errors: storage.
  virtual CasePage find_cases(const CaseQuery& query) = 0;
  /// Open work items matching the filter (QueueFilter tells the order); with `with_total`,
  /// also how many match in all (else total is 0). One round trip. Errors: storage.
  virtual QueuePage work_items(const QueueFilter& filter, bool with_total) = 0;
  /// After a migration that added read-model columns, the stored work items of existing cases
  /// lack them: calls work_of(case id) for every case with stored work items and writes what it
  /// returns in their place (nullopt: leaves that case alone), in one transaction, once. Called
  /// by the engine when it opens the store; stores that never need it do nothing.
  virtual void rebuild_work_items(const std::function<std::optional<std::vector<WorkItem>>(const std::string&)>& work_of);

  // ---- idempotency ------------------------------------------------------------------------
  /// The result stored with an idempotency key by a commit, or nullopt if the key is unused.
  /// Keys are global to the store and kept forever. Errors: storage.
  virtual std::optional<Json> idempotent_result(const std::string& key) = 0;

  // ---- companions -------------------------------------------------------------------------
  /// The store's learned templates, or null if it keeps none. Lives as long as the store.
  virtual TemplateStore* templates() noexcept { return nullptr; }
  /// The store's intake log, or null if it keeps none. Lives as long as the store.
  virtual IntakeLogStore* intake_log() noexcept { return nullptr; }

  // ---- the global event feed and timer claims (several processes on one store) -----------
  /// Every event of every case after position `after` ("" = from the start), in feed order,
  /// at most `limit`. The feed order agrees with each case's versions, and no event ever
  /// appears before a position a reader has already passed: reading on from the last position
  /// seen misses nothing and repeats nothing (docs/storage.md, "The event feed"). Positions are
  /// opaque strings. Errors: invalid_argument (a position this store never gave out),
  /// invalid_state (a store that keeps no feed; the default), storage.
  virtual std::vector<FeedEntry> read_feed(const std::string& after, std::size_t limit);
  /// The position of the newest event read_feed can return now ("" when the feed is empty):
  /// reading on from it gives only events that read_feed could not return before this call,
  /// without reading the feed from its start. Errors: invalid_state (a store that keeps no
  /// feed; the default), storage.
  virtual std::string feed_end();
  /// For a store that several processes share: claims the first `limit` cases due at `until`
  /// that follow `after` in (due, case id) order and that no other process holds (held ones
  /// are passed over, not counted),
  /// inside a transaction that DueClaim::commit ends (so each timer fires exactly once,
  /// whichever process runs it). nullptr (the default): the store has one writer; run_due
  /// then reads due_cases and writes with submit_batch. Errors: invalid_state, storage.
  virtual std::unique_ptr<DueClaim> claim_due(TimePoint until, std::size_t limit, const std::optional<DueCase>& after);
};

/// A learned template kept in a store (written by acm/learn.hpp; opaque to the engine).
struct TemplateInfo {
  std::string name;
  int version = 0;
  std::string kind;  ///< e.g. "learner"
  TimePoint created_at{};
  Json meta;         ///< small description: traces, activities, metrics
};

/// Learned templates, versioned per name. Every method is safe from any thread.
class TemplateStore {
 public:
  virtual ~TemplateStore() = default;
  /// Stores `data` under info.name: version info.version, or with info.version 0 the name's
  /// latest version + 1 (1 for a new name), assigned atomically. Returns the version stored.
  /// Errors: already_exists (an explicit version that is stored), invalid_state (read-only),
  /// storage.
  virtual int put(const TemplateInfo& info, const std::string& data) = 0;
  /// The template's description and bytes; version 0 = the latest; nullopt if missing.
  /// Errors: storage.
  virtual std::optional<std::pair<TemplateInfo, std::string>> find(const std::string& name, int version) = 0;
  /// Every stored version (without bytes), ordered by name and version. Errors: storage.
  virtual std::vector<TemplateInfo> list() = 0;
};

/// One entry of the intake log (written by acm::helpdesk::Intake, see docs/helpdesk.md).
struct IntakeLogEntry {
  std::uint64_t seq = 0;  ///< position in the log: 1, 2, ... (assigned when appended)
  std::string event_id;   ///< the channel event's id
  TimePoint time{};       ///< when the decision was taken (engine clock)
  std::string channel;
  std::string customer;
  std::string rule;       ///< id of the rule that decided ("" for unmatched and rejected)
  std::string action;     ///< create_case, attach, raise_priority, ignore, unmatched or rejected
  std::string case_id;    ///< the case involved ("" if none)
  std::string reason;     ///< why: the error of a rejection, or a short explanation
  Json event;             ///< the event as JSON
};

/// The help-desk intake log: append-only, numbered. Every method is safe from any thread.
class IntakeLogStore {
 public:
  virtual ~IntakeLogStore() = default;
  /// Appends the entries atomically (all or none), numbering them on from the last seq;
  /// fills in their `seq`. Errors: invalid_state (read-only), storage (then no seq is set).
  virtual void append(std::vector<IntakeLogEntry>& entries) = 0;
  /// The entries of one event id, in log order. Errors: storage.
  virtual std::vector<IntakeLogEntry> of_event(const std::string& event_id) = 0;
  /// Entries with seq > after, in log order, at most `limit`. Errors: storage.
  virtual std::vector<IntakeLogEntry> page(std::size_t limit, std::uint64_t after) = 0;
};

/// A store held in memory: nothing survives it. Keeps templates and an intake log; sends no
/// snapshots (traits().keeps_snapshots is false). Never throws storage errors.
std::shared_ptr<CaseStore> open_memory_store();

/// Options of the SQLite store (docs/storage.md).
struct SqliteStoreOptions {
  std::string path;  ///< the store file; created if missing
  Durability durability = Durability::group;
  /// Longest a group-commit batch waits for more commits after the first one arrives.
  std::chrono::microseconds group_window{200};
  std::size_t max_batch = 1024;  ///< most commits in one group-commit transaction
  /// For queries only: no lock file, nothing written (writes throw Error(invalid_state)).
  bool read_only = false;
  /// When the lock file cannot be created because the directory is not writable, open
  /// read-only instead of failing.
  bool read_only_fallback = false;
};

/// Opens (creating if missing) an acm store file; it keeps templates and an intake log too.
/// Errors: storage, naming the problem, for a file with a newer schema, a SQLite file that is
/// not an acm store, a corrupt or truncated file, a path that cannot be written, or a file
/// another store has open for writing; such a file is never modified.
std::shared_ptr<CaseStore> open_sqlite_store(const SqliteStoreOptions& options);

/// Options of the PostgreSQL store (docs/storage.md, "PostgreSQL"; docs/deploy.md).
struct PostgresStoreOptions {
  /// A libpq connection URI ("postgresql://user@host/db?...") or key/value string
  /// ("host=... dbname=..."), passed to libpq unchanged.
  std::string conninfo;
  std::size_t connections = 8;  ///< most connections this store keeps open
  bool read_only = false;       ///< queries only: writes throw Error(invalid_state)
};

/// Whether `database` (EngineOptions::database, the CLI's --db) names a PostgreSQL database:
/// a libpq URI ("postgresql://" or "postgres://") or a key/value string whose first key is a
/// libpq connection keyword ("host=", "dbname=", "service=", ...).
bool is_postgres_database(const std::string& database);

/// Connects to a PostgreSQL database that several processes may share, creating or migrating
/// acm's tables (under an advisory lock, in one transaction); it keeps templates, an intake log
/// and the global event feed, and offers timer claims. Errors: storage with the server's
/// message (unreachable server, refused login, a schema newer than this build).
std::shared_ptr<CaseStore> open_postgres_store(const PostgresStoreOptions& options);

}  // namespace acm
