// SPDX-License-Identifier: Apache-2.0
// store/sqlite.hpp - a small RAII layer over the SQLite C API, used by the SQLite store.
//
// Database owns a connection and a cache of prepared statements; Statement owns one prepared
// statement; Prepared is a lease on a cached statement that resets it when it goes out of scope
// (so no statement keeps a read transaction open by accident); Transaction and Savepoint roll
// back in their destructors unless committed / released, and never throw from them.
//
// Every failure throws SqlError: an acm::Error with ErrorCode::storage and the message
// "<path>: <what> (<sqlite message>)", which also carries the SQLite result code so callers can
// tell a statement-level failure (a constraint) from one that may have ended the transaction
// (I/O, disk full, corruption).
//
// Thread safety: none. A Database and its statements are used by one thread at a time (callers
// hold a mutex per connection); connections are opened with SQLITE_OPEN_NOMUTEX.
//
// sqlite3.h is not included here: the handles are only forward-declared.
#pragma once

#include <acm/error.hpp>
#include <acm/store.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

struct sqlite3;
struct sqlite3_stmt;

namespace acm::store {
}  // namespace acm::store

namespace acm::store::sql {

/// A SQLite failure: ErrorCode::storage plus the SQLite (extended) result code.
class SqlError : public Error {
 public:
  SqlError(const std::string& message, int result_code)
      : Error(ErrorCode::storage, message), result_code_(result_code) {}
  /// The extended SQLite result code (e.g. SQLITE_CONSTRAINT_PRIMARYKEY); 0 if none.
  int result_code() const noexcept { return result_code_; }
  /// The primary result code (result_code() & 0xff).
  int primary_code() const noexcept { return result_code_ & 0xff; }
  /// True for failures that only undo the failing statement and leave the transaction open
  /// (constraint, too big, datatype mismatch, bind range).
  bool statement_only() const noexcept;
  /// SQLITE_NOTADB: the file is not a database.
  bool not_a_database() const noexcept;

 private:
  int result_code_;
};

/// Builds the message "<path>: <what> (<detail>)" (without the parentheses when detail is empty).
std::string message(std::string_view path, std::string_view what, std::string_view detail = {});

class Database;

/// One prepared statement. Parameters and columns are numbered as in SQLite: parameters from 1,
/// columns from 0.
class Statement {
 public:
  /// Prepares `sql` (one statement). `persistent`: a hint that it will be reused many times.
  Statement(Database& db, std::string_view sql, bool persistent = false);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind_null(int index);
  Statement& bind_int64(int index, std::int64_t value);
  /// Binds NULL when `value` is empty.
  Statement& bind_int64(int index, std::optional<std::int64_t> value);
  /// The text is NOT copied: it must stay valid until the statement is reset or stepped to its end.
  Statement& bind_text(int index, std::string_view value);
  /// The bytes are NOT copied (same lifetime rule as bind_text).
  Statement& bind_blob(int index, std::string_view value);

  /// Runs to the next row: true if there is a row, false when done. Throws SqlError.
  bool step();
  /// Steps a statement that returns no rows (INSERT/UPDATE/DELETE, pragmas with no result).
  void run();
  /// Like run(), but returns false instead of throwing when a constraint (UNIQUE, PRIMARY KEY)
  /// fails; the statement's own change is then undone, the transaction goes on.
  bool run_unless_constraint();
  /// Resets the statement and clears its bindings; never throws.
  void reset() noexcept;

  bool is_null(int column) const noexcept;
  std::int64_t column_int64(int column) const noexcept;
  /// The SQLite storage class of the column's value (SQLITE_INTEGER, SQLITE_TEXT, ...).
  int column_type(int column) const noexcept;
  int column_int(int column) const noexcept;
  /// NULL reads as "".
  std::string column_text(int column) const;
  std::string_view column_view(int column) const noexcept;  ///< valid until the next step/reset
  std::string column_blob(int column) const;
  std::optional<std::int64_t> column_optional_int64(int column) const noexcept;

  /// The SQL text as prepared.
  std::string_view sql() const noexcept;

 private:
  [[noreturn]] void fail(int rc);
  Database* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

/// A lease on a cached statement: use it like a pointer; resets the statement when destroyed.
class Prepared {
 public:
  explicit Prepared(Statement& statement) noexcept : statement_(&statement) {}
  ~Prepared() {
    if (statement_) statement_->reset();
  }
  Prepared(Prepared&& other) noexcept : statement_(std::exchange(other.statement_, nullptr)) {}
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;
  Prepared& operator=(Prepared&&) = delete;
  Statement* operator->() const noexcept { return statement_; }
  Statement& operator*() const noexcept { return *statement_; }

 private:
  Statement* statement_;
};

/// One connection.
class Database {
 public:
  enum class Access {
    read_only,  ///< SQLITE_OPEN_READONLY: the file must exist; nothing can be written
    /// Read-only and `immutable=1`: no locks, no -wal/-shm files are opened or created. Only for
    /// a file that has no WAL and that nobody writes meanwhile (checking a file before use).
    immutable,
    read_write,  ///< SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
  };

  /// Opens `path`. Throws SqlError (with `path` in the message) if it cannot be opened.
  Database(std::string path, Access access);
  /// Finalizes the cached statements and closes the connection.
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Runs one or more statements that return no rows (schema scripts, pragmas).
  void exec(std::string_view sql);
  /// The cached prepared statement for `sql` (prepared on first use), leased until the end of
  /// the scope. The cache is keyed by the SQL text; use it for a bounded set of statements.
  Prepared prepared(std::string_view sql);
  /// The first column of the first row of `sql` as an integer (0 if no row).
  std::int64_t query_int64(std::string_view sql);
  /// The first column of the first row of `sql` as text ("" if no row).
  std::string query_text(std::string_view sql);

  /// Whether a transaction is open (sqlite3_get_autocommit() == 0).
  bool in_transaction() const noexcept;
  /// Rows changed by the last INSERT/UPDATE/DELETE.
  std::int64_t changes() const noexcept;
  /// Sets the busy timeout (how long to wait for another connection's lock).
  void busy_timeout(std::chrono::milliseconds timeout);

  const std::string& path() const noexcept { return path_; }
  sqlite3* handle() const noexcept { return db_.get(); }

  /// Throws SqlError "<path>: <what> (<sqlite errmsg>)" with result code `rc`.
  [[noreturn]] void fail(int rc, std::string_view what) const;

 private:
  struct Closer {
    void operator()(sqlite3* db) const noexcept;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::string path_;
  // Declared before the cache: statements are finalized (cache destroyed) before the close.
  std::unique_ptr<sqlite3, Closer> db_;
  std::unordered_map<std::string, std::unique_ptr<Statement>, Hash, std::equal_to<>> cache_;
};

/// A transaction: BEGIN in the constructor, COMMIT in commit(), ROLLBACK in the destructor if
/// not committed. The destructor never throws (a failed rollback is ignored: SQLite has then
/// already rolled back).
class Transaction {
 public:
  enum class Kind {
    deferred,   ///< BEGIN: a read transaction until the first write (readers use this)
    immediate,  ///< BEGIN IMMEDIATE: takes the write lock at once (writers use this)
  };
  explicit Transaction(Database& db, Kind kind = Kind::deferred);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  /// Commits; throws SqlError on failure (the destructor then rolls back).
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

/// A savepoint inside a transaction: SAVEPOINT in the constructor, RELEASE in release(),
/// ROLLBACK TO + RELEASE in the destructor if not released (undoing only its own writes).
/// The destructor never throws.
class Savepoint {
 public:
  /// `name` must be a plain identifier.
  Savepoint(Database& db, std::string_view name);
  ~Savepoint();
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;
  void release();

 private:
  Database& db_;
  std::string name_;
  bool done_ = false;
};

/// One step of a schema: the SQL that takes a file from version - 1 to `version`.
struct Migration {
  int version;  ///< 1, 2, ... (1 = the initial schema)
  std::string_view description;
  std::string_view sql;  ///< one or more statements
};

/// Brings the schema of `db` from its `PRAGMA user_version` to the last step's version: in ONE
/// immediate transaction, runs every step newer than the file's version, then `finish(db,
/// from_version)` (still inside the transaction, e.g. to update a meta table), then sets
/// user_version and commits. All or nothing. `steps` must be numbered 1, 2, ... in order.
/// Returns the version the file had. Throws SqlError; a file whose user_version is newer
/// than the last step is refused (Error(storage), nothing written).
int migrate(Database& db, std::span<const Migration> steps,
            const std::function<void(Database&, int from_version)>& finish = {});

}  // namespace acm::store::sql

namespace acm::store::detail {

/// Test hooks of the SQLite store (`store` must come from open_sqlite_store).
/// The query plan (EXPLAIN QUERY PLAN, one line per step) of the SQL work_items(q) runs.
std::string queue_plan(CaseStore& store, const QueueFilter& q);
/// The query plan of the SQL due_cases() runs.
std::string due_plan(CaseStore& store);
/// Write batches committed so far and the write operations in them.
struct WriteStats {
  std::uint64_t batches = 0;
  std::uint64_t operations = 0;
};
WriteStats write_stats(CaseStore& store);
/// Runs `work` on the writer connection as one write (in its transaction, on the writer thread
/// in group mode), e.g. to set PRAGMA max_page_count and provoke a full disk.
void on_writer(CaseStore& store, const std::function<void(sql::Database&)>& work);

}  // namespace acm::store::detail
