// SPDX-License-Identifier: Apache-2.0
// store/sqlite_store.cpp - the CaseStore (with its TemplateStore and IntakeLogStore) on a WAL-mode SQLite file (format: docs/storage.md).
//
// Connections: one writer (owned by the writer thread in group mode, guarded by a mutex in
// full mode) and a small pool of read-only readers, each used under its own mutex. Every read
// is its own read transaction, so it sees every commit that returned before it started.
//
// Open: take the exclusive lock file, check the file read-only (header bytes, then a read-only
// connection), and only then open it read-write and migrate. A file that fails a check is never
// written.
#include <acm/error.hpp>
#include <acm/version.hpp>

#include <acm/store.hpp>

#include "store/enum_text.hpp"
#include "store/sqlite.hpp"
#include "store/stored_json.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace acm::store {
namespace {

namespace fs = std::filesystem;
using sql::Database;
using sql::Prepared;

// ---------------------------------------------------------------------------------------------
// Format constants

/// PRAGMA application_id of acm stores: "ACMS".
constexpr std::int32_t kApplicationId = 0x41434D53;
constexpr const char* kFormat = "acm-store";

/// Version 1: the initial schema. Append new steps; never edit a released one.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta(
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE definitions(
  kind    TEXT NOT NULL,
  id      TEXT NOT NULL,
  version INTEGER NOT NULL,
  body    TEXT NOT NULL,
  PRIMARY KEY(kind, id, version)
);

CREATE TABLE cases(
  id            TEXT PRIMARY KEY NOT NULL,
  seq           INTEGER NOT NULL UNIQUE,
  version       INTEGER NOT NULL,
  type          TEXT NOT NULL,
  type_version  INTEGER NOT NULL,
  status        TEXT NOT NULL,
  owner         TEXT NOT NULL,
  priority      INTEGER NOT NULL,
  customer      TEXT NOT NULL,
  next_due      INTEGER,
  next_deadline INTEGER,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX cases_next_due ON cases(next_due) WHERE next_due IS NOT NULL;
CREATE INDEX cases_status ON cases(status);
CREATE INDEX cases_owner ON cases(owner);

CREATE TABLE events(
  case_id TEXT NOT NULL,
  seq     INTEGER NOT NULL,
  time    INTEGER NOT NULL,
  actor   TEXT NOT NULL,
  kind    TEXT NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY(case_id, seq)
) WITHOUT ROWID;

CREATE TABLE snapshots(
  case_id TEXT PRIMARY KEY NOT NULL,
  version INTEGER NOT NULL,
  data    BLOB NOT NULL
);

CREATE TABLE work_items(
  case_id  TEXT NOT NULL,
  item_id  TEXT NOT NULL,
  name     TEXT NOT NULL,
  state    TEXT NOT NULL,
  assignee TEXT NOT NULL,
  role     TEXT NOT NULL,
  skills   TEXT NOT NULL,
  due      INTEGER,
  priority INTEGER NOT NULL,
  PRIMARY KEY(case_id, item_id)
) WITHOUT ROWID;
CREATE INDEX work_items_assignee ON work_items(assignee, priority DESC, due);
CREATE INDEX work_items_role ON work_items(role, assignee, priority DESC, due);
CREATE INDEX work_items_due ON work_items(due) WHERE due IS NOT NULL;

CREATE TABLE idempotency(
  key        TEXT PRIMARY KEY NOT NULL,
  case_id    TEXT NOT NULL,
  result     TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE templates(
  name       TEXT NOT NULL,
  version    INTEGER NOT NULL,
  kind       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  meta       TEXT NOT NULL,
  data       BLOB NOT NULL,
  PRIMARY KEY(name, version)
);
)sql";

/// Version 2: the help desk's intake log, and open cases by customer (correlation).
constexpr std::string_view kSchemaV2 = R"sql(
CREATE INDEX cases_customer ON cases(customer, status);

CREATE TABLE intake_log(
  seq      INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL,
  time     INTEGER NOT NULL,
  channel  TEXT NOT NULL,
  customer TEXT NOT NULL,
  rule     TEXT NOT NULL,
  action   TEXT NOT NULL,
  case_id  TEXT NOT NULL,
  reason   TEXT NOT NULL,
  event    TEXT NOT NULL
);
CREATE INDEX intake_log_event ON intake_log(event_id);
)sql";

/// Version 3: work-queue indexes that hold the whole queue order (priority, due time with
/// "none" last, case, item), so that a page is read in index order instead of sorting every
/// matching item.
constexpr std::string_view kSchemaV3 = R"sql(
DROP INDEX work_items_assignee;
DROP INDEX work_items_role;
CREATE INDEX work_items_mine ON work_items(assignee, priority DESC, IFNULL(due, 9223372036854775807), case_id, item_id);
CREATE INDEX work_items_team ON work_items(role, assignee, priority DESC, IFNULL(due, 9223372036854775807), case_id, item_id);
CREATE INDEX work_items_all ON work_items(priority DESC, IFNULL(due, 9223372036854775807), case_id, item_id);
)sql";

/// Version 4: case search by status, owner and customer, newest first (status and owner indexes
/// ending in the creation sequence, so a page is read in order; a customer's few cases are found
/// by cases_customer and sorted); the case title in the case row; and what an inbox shows in the work
/// items (case title, customer, the goal the item runs against, its deadline and timing).
/// Titles and customers are filled here; the goal columns by the engine when it next opens the
/// store (meta 'rebuild_work_items', see rebuild_work_items).
constexpr std::string_view kSchemaV4 = R"sql(
ALTER TABLE cases ADD COLUMN title TEXT NOT NULL DEFAULT '';
UPDATE cases SET title = IFNULL((SELECT json_extract(payload, '$.title') FROM events
                                 WHERE events.case_id = cases.id AND events.seq = 1 AND events.kind = 'case_created'), '');
DROP INDEX cases_status;
DROP INDEX cases_owner;
CREATE INDEX cases_status_seq ON cases(status, seq);
CREATE INDEX cases_owner_seq ON cases(owner, status, seq);
ALTER TABLE work_items ADD COLUMN case_title TEXT NOT NULL DEFAULT '';
ALTER TABLE work_items ADD COLUMN customer TEXT NOT NULL DEFAULT '';
ALTER TABLE work_items ADD COLUMN goal TEXT NOT NULL DEFAULT '';
ALTER TABLE work_items ADD COLUMN goal_deadline INTEGER;
ALTER TABLE work_items ADD COLUMN goal_timing TEXT NOT NULL DEFAULT '';
UPDATE work_items SET case_title = (SELECT title FROM cases WHERE cases.id = work_items.case_id),
                      customer = (SELECT customer FROM cases WHERE cases.id = work_items.case_id);
INSERT OR REPLACE INTO meta(key, value) SELECT 'rebuild_work_items', '1' WHERE EXISTS (SELECT 1 FROM work_items);
)sql";

/// Version 5: the global event feed. One row per commit that appended events (a rowid append:
/// the cheapest insert there is), numbered in commit order, which is the single writer's order.
/// Existing events enter it case by case in creation order.
constexpr std::string_view kSchemaV5 = R"sql(
CREATE TABLE feed(
  pos       INTEGER PRIMARY KEY,
  case_id   TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq  INTEGER NOT NULL
);
INSERT INTO feed(case_id, first_seq, last_seq) SELECT id, 1, version FROM cases WHERE version > 0 ORDER BY seq;
)sql";

constexpr sql::Migration kMigrations[] = {
    {1, "initial schema", kSchemaV1},
    {2, "intake log, cases by customer", kSchemaV2},
    {3, "work queues in index order", kSchemaV3},
    {4, "case search, inbox columns in work items", kSchemaV4},
    {5, "global event feed", kSchemaV5},
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

/// The tables a current store has (checked on open).
constexpr std::array<std::string_view, 10> kTables = {"meta",      "definitions", "cases",      "events",
                                                      "snapshots", "work_items",  "idempotency", "templates",
                                                      "intake_log", "feed"};

/// Files up to this size (database + WAL) get a full PRAGMA quick_check on open; larger ones a
/// check of the small tables only (docs/storage.md, "Bad files").
constexpr std::uintmax_t kFullCheckBytes = 32u << 20;
/// Readers in the pool (opened on demand).
constexpr std::size_t kReaders = 4;
constexpr auto kBusyTimeout = std::chrono::milliseconds(5000);

// ---------------------------------------------------------------------------------------------
// Small helpers

std::int64_t to_ms(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint from_ms(std::int64_t ms) { return TimePoint{Duration{ms}}; }
std::optional<std::int64_t> to_ms(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return to_ms(*t);
}
std::optional<TimePoint> from_ms(std::optional<std::int64_t> ms) {
  if (!ms) return std::nullopt;
  return from_ms(*ms);
}
std::int64_t to_int64(std::uint64_t v, const char* what) {
  if (v > static_cast<std::uint64_t>(INT64_MAX))
    throw Error(ErrorCode::invalid_argument, fmt::format("{} {} is too large for the store", what, v));
  return static_cast<std::int64_t>(v);
}
std::int64_t clamp_count(std::size_t n) {
  return n > static_cast<std::size_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(n);
}

[[noreturn]] void bad_file(const std::string& path, std::string_view what, std::string_view detail = {}) {
  throw Error(ErrorCode::storage, sql::message(path, what, detail));
}

Json parse_json(std::string_view text, const std::string& path, std::string_view what) {
  try {
    return parse_stored_json(text);
  } catch (const Json::exception& e) {
    bad_file(path, fmt::format("corrupt {}", what), e.what());
  }
}

std::uint32_t big_endian32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

// ---------------------------------------------------------------------------------------------
// The lock file: flock(LOCK_EX | LOCK_NB) on "<path>.lock", held for the store's lifetime.

class LockFile {
 public:
  /// Takes the lock, unless `read_only` (then nothing is created). With `fallback`, a directory
  /// that cannot be written (EACCES, EROFS) sets `read_only` instead of failing; `why` says so.
  LockFile(std::string lock_path, const std::string& db_path, bool& read_only, bool fallback, std::string& why)
      : path_(std::move(lock_path)) {
    if (read_only) return;
    // The holder removes the file when it closes, so a lock taken on a file that was unlinked in
    // the meantime is worthless: check that the path still names the locked file, else retry.
    for (int attempt = 0; attempt < 100; ++attempt) {
      // Never through a symbolic link, owner-only, and only a regular file with one name: a
      // link planted at the lock path must not make acm truncate and write what it points to.
      int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
      if (fd < 0) {
        int err = errno;
        if (err == ENOENT || err == ENOTDIR) bad_file(db_path, "the directory does not exist", std::strerror(err));
        if (err == ELOOP)
          bad_file(db_path, fmt::format("the lock file {} is a symbolic link: refused (remove it)", path_));
        if (fallback && (err == EACCES || err == EROFS || err == EPERM)) {
          why = fmt::format("its directory is not writable (lock file {}: {})", path_, std::strerror(err));
          read_only = true;
          return;
        }
        bad_file(db_path, fmt::format("cannot create the lock file {} (is the directory writable?)", path_),
                 std::strerror(err));
      }
      struct stat opened {};
      if (::fstat(fd, &opened) != 0 || !S_ISREG(opened.st_mode) || opened.st_nlink > 1) {
        ::close(fd);
        bad_file(db_path,
                 fmt::format("the lock file {} is not a regular file with a single name: refused (remove it)", path_));
      }
      if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        std::string holder = read_holder(fd);
        ::close(fd);
        if (err == EWOULDBLOCK)
          bad_file(db_path, fmt::format("already open for writing by another acm store{} (lock file {})",
                                        holder.empty() ? "" : " in process " + holder, path_));
        bad_file(db_path, fmt::format("cannot lock {}", path_), std::strerror(err));
      }
      struct stat held {};
      struct stat named {};
      if (::fstat(fd, &held) != 0 || ::stat(path_.c_str(), &named) != 0 || held.st_ino != named.st_ino ||
          held.st_dev != named.st_dev) {
        ::close(fd);
        continue;
      }
      std::string pid = std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd, 0) == 0) {
        [[maybe_unused]] auto n = ::pwrite(fd, pid.data(), pid.size(), 0);
      }
      fd_ = fd;
      return;
    }
    bad_file(db_path, fmt::format("cannot lock {}", path_), "the lock file keeps being replaced");
  }
  ~LockFile() {
    if (fd_ < 0) return;      // read-only: no lock taken
    ::unlink(path_.c_str());  // while still holding the lock (see the constructor)
    ::close(fd_);
  }
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;

 private:
  static std::string read_holder(int fd) {
    char buf[32] = {};
    auto n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return {};
    std::string s(buf, static_cast<std::size_t>(n));
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
  std::string path_;
  int fd_ = -1;
};

// ---------------------------------------------------------------------------------------------
// Checking a file before writing to it

enum class FileState { fresh, store };

std::uintmax_t size_or_zero(const fs::path& p) {
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  return ec ? 0 : size;
}

FileState check_with_sqlite(Database& db, const std::string& path, std::uintmax_t total_size);

/// Decides whether `path` is missing/empty (a new store) or an acm store we can open, reading
/// only: the 100-byte header with plain file I/O, then a read-only SQLite connection. Throws
/// Error(storage) for anything else. (The header is read before any SQLite connection to the
/// file exists in this process, so closing our descriptor cannot drop SQLite's POSIX locks.)
FileState check_file(const std::string& path) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) bad_file(path, "cannot read", ec.message());
  if (!fs::exists(status)) return FileState::fresh;
  if (!fs::is_regular_file(status)) bad_file(path, "not a regular file");
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) bad_file(path, "cannot read", ec.message());
  if (size == 0) return FileState::fresh;  // SQLite treats an empty file as an empty database

  // 1. The header (https://www.sqlite.org/fileformat2.html#the_database_header).
  unsigned char header[100] = {};
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) bad_file(path, "cannot read", std::strerror(errno));
    in.read(reinterpret_cast<char*>(header), sizeof header);
    if (static_cast<std::size_t>(in.gcount()) < sizeof header || std::memcmp(header, "SQLite format 3", 16) != 0)
      bad_file(path, "not an acm store: not a SQLite database file");
  }
  std::uint32_t page_size = (std::uint32_t{header[16]} << 8) | header[17];
  if (page_size == 1) page_size = 65536;
  if (page_size < 512 || (page_size & (page_size - 1)) != 0)
    bad_file(path, "corrupt SQLite header", fmt::format("page size {}", page_size));
  const std::uint32_t page_count = big_endian32(header + 28);
  const bool page_count_valid = page_count != 0 && std::memcmp(header + 24, header + 92, 4) == 0;
  const auto user_version = static_cast<std::int32_t>(big_endian32(header + 60));
  const auto application_id = static_cast<std::int32_t>(big_endian32(header + 68));

  // With a non-empty WAL the header in the main file may be out of date (the WAL holds newer
  // pages, page 1 included): then only SQLite can tell.
  const std::uintmax_t wal_size = size_or_zero(path + "-wal");
  if (wal_size == 0) {
    if (application_id != kApplicationId) {
      bool empty_database = application_id == 0 && user_version == 0 && page_count_valid && page_count == 1;
      if (empty_database) return FileState::fresh;
      if (application_id != 0 || page_count_valid)
        bad_file(path, "not an acm store",
                 fmt::format("a SQLite database with application_id {:#010x}, not {:#010x}",
                             static_cast<std::uint32_t>(application_id), static_cast<std::uint32_t>(kApplicationId)));
    } else if (user_version > kSchemaVersion) {
      bad_file(
          path,
          fmt::format("schema version {} is newer than this build of acm supports ({})", user_version, kSchemaVersion),
          "open it with a newer acm");
    }
    if (page_count_valid && size < std::uintmax_t{page_count} * page_size)
      bad_file(path, "truncated or damaged",
               fmt::format("the file has {} bytes, its header says {} pages of {} bytes", size, page_count, page_size));
  }

  // 2. A read-only connection: schema, identity, version, integrity. Without a WAL, an
  // immutable one (it opens no -wal/-shm file). With a WAL, SQLite may create the -shm file
  // to read it: removed again if the file is refused.
  if (wal_size == 0) {
    Database db(path, Database::Access::immutable);
    return check_with_sqlite(db, path, size);
  }
  const bool had_shm = fs::exists(path + "-shm");
  try {
    Database db(path, Database::Access::read_only);
    db.busy_timeout(kBusyTimeout);
    return check_with_sqlite(db, path, size + wal_size);
  } catch (...) {
    std::error_code ignored;
    if (!had_shm) fs::remove(path + "-shm", ignored);
    throw;
  }
}

FileState check_with_sqlite(Database& db, const std::string& path, std::uintmax_t total_size) {
  std::vector<std::string> tables;
  try {
    sql::Statement s(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
    while (s.step()) tables.push_back(s.column_text(0));
  } catch (const sql::SqlError& e) {
    if (e.not_a_database()) bad_file(path, "not an acm store: not a SQLite database file");
    bad_file(path, "corrupt or unreadable", e.what());
  }
  const auto app = static_cast<std::int32_t>(db.query_int64("PRAGMA application_id"));
  const auto version = static_cast<int>(db.query_int64("PRAGMA user_version"));
  if (app != kApplicationId) {
    if (app == 0 && version == 0 && tables.empty()) return FileState::fresh;
    std::string list;
    for (std::size_t i = 0; i < tables.size() && i < 8; ++i) list += (i ? ", " : "") + tables[i];
    if (tables.size() > 8) list += ", ...";
    bad_file(path, "not an acm store",
             fmt::format("a SQLite database with application_id {:#010x} and tables: {}",
                         static_cast<std::uint32_t>(app), list.empty() ? "none" : list));
  }
  if (version > kSchemaVersion)
    bad_file(path,
             fmt::format("schema version {} is newer than this build of acm supports ({})", version, kSchemaVersion),
             "open it with a newer acm");
  if (version < 1) bad_file(path, "not an acm store", "acm's application_id but no schema version");
  auto has = [&](std::string_view t) { return std::find(tables.begin(), tables.end(), t) != tables.end(); };
  if (!has("meta")) bad_file(path, "damaged acm store", "no meta table");
  std::string format, meta_version;
  try {
    format = db.query_text("SELECT value FROM meta WHERE key = 'format'");
    meta_version = db.query_text("SELECT value FROM meta WHERE key = 'schema_version'");
  } catch (const sql::SqlError& e) {
    bad_file(path, "corrupt or unreadable", e.what());
  }
  if (format != kFormat) bad_file(path, "not an acm store", fmt::format("meta format is '{}'", format));
  if (meta_version != std::to_string(version))
    bad_file(path, "damaged acm store",
             fmt::format("meta schema_version '{}' but user_version {}", meta_version, version));
  if (version == kSchemaVersion)
    for (auto t : kTables)
      if (!has(t)) bad_file(path, "damaged acm store", fmt::format("no {} table", t));

  // Integrity: all pages of a small file; the small tables of a big one (SQLite still reports
  // any damaged page it meets later, as an Error(storage) from that read).
  std::vector<std::string> problems;
  try {
    auto check = [&](const std::string& pragma) {
      sql::Statement s(db, pragma);
      while (s.step()) {
        auto line = s.column_text(0);
        std::replace(line.begin(), line.end(), '\n', ' ');
        if (line != "ok") problems.push_back(std::move(line));
      }
    };
    if (total_size <= kFullCheckBytes) {
      check("PRAGMA quick_check(20)");
    } else {
      check("PRAGMA quick_check(meta)");
      check("PRAGMA quick_check(definitions)");
    }
  } catch (const sql::SqlError& e) {
    bad_file(path, "corrupt", e.what());
  }
  if (!problems.empty()) {
    std::string text;
    for (std::size_t i = 0; i < problems.size() && i < 3; ++i) text += (i ? "; " : "") + problems[i];
    if (problems.size() > 3) text += fmt::format("; {} more", problems.size() - 3);
    bad_file(path, "corrupt (PRAGMA quick_check failed)", text);
  }
  return FileState::store;
}

// ---------------------------------------------------------------------------------------------
// SQL of the hot paths

constexpr const char* kSelectVersion = "SELECT version, status, owner, next_due, customer FROM cases WHERE id = ?1";
constexpr const char* kInsertEvent =
    "INSERT INTO events(case_id, seq, time, actor, kind, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char* kInsertCase =
    "INSERT INTO cases(id, seq, version, type, type_version, status, owner, priority, customer, next_due, "
    "next_deadline, created_at, updated_at, title) VALUES (?1, (SELECT IFNULL(MAX(seq), 0) + 1 FROM cases), ?2, ?3, "
    "?4, ?10, ?11, ?5, ?6, ?12, ?7, ?8, ?9, ?14)";
constexpr const char* kSelectWork =
    "SELECT item_id, name, state, assignee, role, skills, due, priority, case_title, customer, goal, goal_deadline, "
    "goal_timing FROM work_items WHERE case_id = ?1 ORDER BY item_id";
constexpr const char* kDeleteWork = "DELETE FROM work_items WHERE case_id = ?1 AND item_id = ?2";
constexpr const char* kInsertWork =
    "INSERT INTO work_items(case_id, item_id, name, state, assignee, role, skills, due, priority, case_title, "
    "customer, goal, goal_deadline, goal_timing) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
constexpr const char* kUpsertSnapshot =
    "INSERT INTO snapshots(case_id, version, data) VALUES (?1, ?2, ?3) "
    "ON CONFLICT(case_id) DO UPDATE SET version = excluded.version, data = excluded.data";
constexpr const char* kInsertFeed = "INSERT INTO feed(case_id, first_seq, last_seq) VALUES (?1, ?2, ?3)";
constexpr const char* kInsertKey = "INSERT INTO idempotency(key, case_id, result, created_at) VALUES (?1, ?2, ?3, ?4)";
/// The events of the cases whose ids ?1 lists (a JSON array) after each case's snapshot, in
/// (case id, seq) order.
constexpr const char* kLoadEventsSql =
    "SELECT events.case_id, events.seq, events.time, events.actor, events.kind, events.payload FROM cases "
    "LEFT JOIN snapshots ON snapshots.case_id = cases.id JOIN events ON events.case_id = cases.id AND "
    "events.seq > IFNULL(snapshots.version, 0) WHERE cases.id IN (SELECT value FROM json_each(?1)) "
    "ORDER BY cases.id, events.seq";
constexpr const char* kCaseColumns =
    "id, version, type, type_version, status, owner, priority, customer, next_due, next_deadline, created_at, "
    "updated_at, title";

// The UPDATE of a case row sets the indexed columns (status, owner, next_due) only when they
// change, so an unchanged index is not rewritten. Bit 0: status, 1: owner, 2: next_due,
// 3: customer (index cases_customer, schema v2).
constexpr int kStatusChanged = 1, kOwnerChanged = 2, kDueChanged = 4, kCustomerChanged = 8;
const std::array<std::string, 16>& update_case_sql() {
  static const std::array<std::string, 16> sql = [] {
    std::array<std::string, 16> out;
    for (int mask = 0; mask < 16; ++mask) {
      std::string s =
          "UPDATE cases SET version = ?2, type = ?3, type_version = ?4, priority = ?5, "
          "next_deadline = ?7, created_at = ?8, updated_at = ?9, title = ?14";
      if (mask & kCustomerChanged) s += ", customer = ?6";
      if (mask & kStatusChanged) s += ", status = ?10";
      if (mask & kOwnerChanged) s += ", owner = ?11";
      if (mask & kDueChanged) s += ", next_due = ?12";
      s += " WHERE id = ?1 AND version = ?13";
      out[static_cast<std::size_t>(mask)] = std::move(s);
    }
    return out;
  }();
  return sql;
}

CaseRow read_record(const sql::Statement& s) {
  CaseRow r;
  r.id = s.column_text(0);
  r.version = static_cast<std::uint64_t>(s.column_int64(1));
  r.type = s.column_text(2);
  r.type_version = s.column_int(3);
  r.status = case_status_named(s.column_view(4)).value_or(CaseStatus::active);
  r.owner = s.column_text(5);
  r.priority = s.column_int(6);
  r.customer = s.column_text(7);
  r.next_due = from_ms(s.column_optional_int64(8));
  r.next_deadline = from_ms(s.column_optional_int64(9));
  r.created_at = from_ms(s.column_int64(10));
  r.updated_at = from_ms(s.column_int64(11));
  r.title = s.column_text(12);
  return r;
}

constexpr const char* kWorkColumns =
    "case_id, item_id, name, state, assignee, role, skills, due, priority, case_title, customer, goal, goal_deadline, "
    "goal_timing";

/// The WHERE clause of a queue query (parameters as queue_sql's); "" when it selects everything.
std::string queue_where(const QueueFilter& q, const std::vector<std::string>& roles) {
  std::string in;
  for (std::size_t i = 0; i < roles.size(); ++i) in += fmt::format("{}?{}", i ? ", " : "", 3 + i);
  const bool mine = !q.assignee.empty(), team = !roles.empty();
  std::string skill_check;
  if (q.skills && team) {
    std::string have;
    for (std::size_t i = 0; i < q.skills->size(); ++i)
      have += fmt::format("{}?{}", i ? ", " : "", 5 + roles.size() + i);
    skill_check = q.skills->empty() ? " AND skills = '[]'"
                                    : fmt::format(
                                          " AND NOT EXISTS (SELECT 1 FROM json_each(work_items.skills) "
                                          "WHERE json_each.value NOT IN ({}))",
                                          have);
  }
  std::vector<std::string> where;
  if (mine && team)
    where.push_back(fmt::format("(assignee = ?1 OR (assignee = '' AND role IN ({}){}))", in, skill_check));
  else if (mine)
    where.push_back("assignee = ?1");
  else if (team)
    where.push_back(fmt::format("assignee = '' AND role IN ({}){}", in, skill_check));
  if (q.overdue_at) where.push_back("due < ?2");
  std::string out;
  for (std::size_t i = 0; i < where.size(); ++i) out += (i ? " AND " : " WHERE ") + where[i];
  return out;
}

/// The SQL of a queue query. Parameters: ?1 assignee, ?2 overdue_at, ?3.. the roles, then
/// LIMIT and OFFSET, then the skills. `roles` must be sorted and unique.
///
/// Without `overdue_at`, each source (my items; each role's unassigned items) is read in the
/// order of its index (work_items_mine / work_items_team, schema v3) and stops after
/// offset + limit rows; the union of those few rows is sorted for the page. So a page costs
/// about (sources x (offset + limit)) index rows, whatever the number of open items.
std::string queue_sql(const QueueFilter& q, const std::vector<std::string>& roles) {
  constexpr const char* kCols = kWorkColumns;
  constexpr const char* kKey = "IFNULL(due, 9223372036854775807)";
  const std::string limit = fmt::format("?{}", 3 + roles.size()), offset = fmt::format("?{}", 4 + roles.size());
  std::string in;
  for (std::size_t i = 0; i < roles.size(); ++i) in += fmt::format("{}?{}", i ? ", " : "", 3 + i);
  const bool mine = !q.assignee.empty(), team = !roles.empty();
  // Skills: no needed skill outside the agent's.
  std::string skill_check;
  if (q.skills) {
    std::string have;
    for (std::size_t i = 0; i < q.skills->size(); ++i) have += fmt::format("{}?{}", i ? ", " : "", 5 + roles.size() + i);
    skill_check = q.skills->empty() ? " AND skills = '[]'"
                                    : fmt::format(" AND NOT EXISTS (SELECT 1 FROM json_each(work_items.skills) "
                                                  "WHERE json_each.value NOT IN ({}))", have);
  }
  if (q.overdue_at) {
    std::string sql = fmt::format("SELECT {} FROM work_items", kCols);
    std::vector<std::string> where;
    if (mine && team)
      where.push_back(fmt::format("(assignee = ?1 OR (assignee = '' AND role IN ({}){}))", in, skill_check));
    else if (mine)
      where.push_back("assignee = ?1");
    else if (team)
      where.push_back(fmt::format("assignee = '' AND role IN ({}){}", in, skill_check));
    where.push_back("due < ?2");
    for (std::size_t i = 0; i < where.size(); ++i) sql += (i ? " AND " : " WHERE ") + where[i];
    return sql + fmt::format(" ORDER BY due, priority DESC, case_id, item_id LIMIT {} OFFSET {}", limit, offset);
  }
  const std::string order = fmt::format("priority DESC, {}, case_id, item_id", kKey);
  if (!mine && !team)
    return fmt::format("SELECT {} FROM work_items INDEXED BY work_items_all ORDER BY {} LIMIT {} OFFSET {}", kCols, order,
                       limit, offset);
  // One source (my items, or one role's): read straight in index order, no union to sort.
  if (mine != (roles.size() == 1) && roles.size() <= 1) {
    if (mine)
      return fmt::format("SELECT {} FROM work_items INDEXED BY work_items_mine WHERE assignee = ?1 ORDER BY {} LIMIT {} OFFSET {}",
                         kCols, order, limit, offset);
    return fmt::format("SELECT {} FROM work_items INDEXED BY work_items_team WHERE role = ?3 AND assignee = ''{} "
                       "ORDER BY {} LIMIT {} OFFSET {}",
                       kCols, skill_check, order, limit, offset);
  }
  std::vector<std::string> parts;
  if (mine)
    parts.push_back(fmt::format("SELECT {0}, {1} AS due_key FROM work_items INDEXED BY work_items_mine WHERE assignee = ?1 "
                                "ORDER BY {2} LIMIT {3} + {4}",
                                kCols, kKey, order, limit, offset));
  for (std::size_t i = 0; i < roles.size(); ++i)
    parts.push_back(fmt::format("SELECT {0}, {1} AS due_key FROM work_items INDEXED BY work_items_team WHERE role = ?{2} "
                                "AND assignee = ''{3} ORDER BY {4} LIMIT {5} + {6}",
                                kCols, kKey, 3 + i, skill_check, order, limit, offset));
  std::string sql = fmt::format("SELECT {} FROM (", kCols);
  for (std::size_t i = 0; i < parts.size(); ++i) sql += (i ? " UNION ALL SELECT * FROM (" : "SELECT * FROM (") + parts[i] + ")";
  return sql + fmt::format(") ORDER BY priority DESC, due_key, case_id, item_id LIMIT {} OFFSET {}", limit, offset);
}

constexpr const char* kDueSql =
    "SELECT next_due, id FROM cases WHERE next_due IS NOT NULL AND next_due <= ?1 ORDER BY next_due, id LIMIT ?2";
/// The same after a key (keyset paging): the index cases_next_due holds (next_due, id), id being
/// the primary key of a WITHOUT ROWID table, so the row-value comparison is a range of it.
constexpr const char* kDueAfterSql =
    "SELECT next_due, id FROM cases WHERE next_due IS NOT NULL AND next_due <= ?1 AND (next_due, id) > (?3, ?4) "
    "ORDER BY next_due, id LIMIT ?2";

std::string skills_json(const std::vector<std::string>& skills) {
  if (skills.empty()) return "[]";
  return Json(skills).dump();
}

constexpr const char* kIntakeColumns =
    "SELECT seq, event_id, time, channel, customer, rule, action, case_id, reason, event FROM intake_log";

IntakeLogEntry read_intake(const sql::Statement& s) {
  IntakeLogEntry r;
  r.seq = static_cast<std::uint64_t>(s.column_int64(0));
  r.event_id = s.column_text(1);
  r.time = from_ms(s.column_int64(2));
  r.channel = s.column_text(3);
  r.customer = s.column_text(4);
  r.rule = s.column_text(5);
  r.action = s.column_text(6);
  r.case_id = s.column_text(7);
  r.reason = s.column_text(8);
  r.event = Json::parse(s.column_view(9), nullptr, false);
  return r;
}

// ---------------------------------------------------------------------------------------------
// The store

class SqliteStore final : public CaseStore, public TemplateStore, public IntakeLogStore {
 public:
  explicit SqliteStore(const SqliteStoreOptions& options)
      : path_(canonical_path(options.path)),
        read_only_(options.read_only),
        lock_(path_ + ".lock", path_, read_only_, options.read_only_fallback, read_only_why_),
        durability_(options.durability),
        window_(options.group_window),
        max_batch_(std::max<std::size_t>(1, options.max_batch)) {
    if (read_only_) {
      open_read_only();
      return;
    }
    check_file(path_);  // refuses a bad file before anything is written
    writer_ = std::make_unique<Database>(path_, Database::Access::read_write);
    writer_->busy_timeout(kBusyTimeout);
    auto mode = writer_->query_text("PRAGMA journal_mode = WAL");
    if (mode != "wal") bad_file(path_, "cannot switch to WAL mode", fmt::format("journal_mode is '{}'", mode));
    writer_->exec(
        "PRAGMA synchronous = FULL; PRAGMA journal_size_limit = 67108864; PRAGMA temp_store = MEMORY; "
        "PRAGMA cache_size = -65536; PRAGMA foreign_keys = OFF;");
    sql::migrate(*writer_, kMigrations, [this](Database& db, int from) { finish_migration(db, from); });
    if (durability_ == Durability::group) writer_thread_ = std::thread([this] { writer_loop(); });
  }

  ~SqliteStore() override {
    if (writer_thread_.joinable()) {
      {
        std::lock_guard lk(queue_mutex_);
        stopping_ = true;
      }
      queue_cv_.notify_all();
      writer_thread_.join();  // the writer drains the queue first
    }
    // Readers first: the last connection to close checkpoints the WAL and removes it.
    for (auto& r : readers_) {
      std::lock_guard lk(r.mutex);
      r.db.reset();
    }
    writer_.reset();
  }

  // -- Definitions -------------------------------------------------------------------------

  StoreTraits traits() const noexcept override {
    StoreTraits t;
    t.read_only = read_only_;
    t.keeps_snapshots = true;
    t.wants_payload_text = true;  // the single writer thread need not serialise payloads
    return t;
  }
  TemplateStore* templates() noexcept override { return this; }
  IntakeLogStore* intake_log() noexcept override { return this; }

  std::vector<DefinitionRecord> load_definitions() override {
    auto lease = reader();
    std::vector<DefinitionRecord> out;
    Prepared s = lease.db().prepared("SELECT kind, id, version, body FROM definitions ORDER BY rowid");
    while (s->step())
      out.push_back({s->column_text(0), s->column_text(1), s->column_int(2),
                     parse_json(s->column_view(3), path_, "definition body")});
    return out;
  }

  void save_definitions(const std::vector<DefinitionRecord>& defs) override {
    if (defs.empty()) return;
    write([&](Database& db) {
      Prepared ins = db.prepared("INSERT INTO definitions(kind, id, version, body) VALUES (?1, ?2, ?3, ?4)");
      for (const auto& d : defs) {
        std::string body = d.body.dump();
        ins->bind_text(1, d.kind).bind_text(2, d.id).bind_int64(3, d.version).bind_text(4, body);
        if (ins->run_unless_constraint()) continue;
        // Registered before: fine if it is the same definition.
        Prepared old = db.prepared("SELECT body FROM definitions WHERE kind = ?1 AND id = ?2 AND version = ?3");
        old->bind_text(1, d.kind).bind_text(2, d.id).bind_int64(3, d.version);
        if (old->step() && parse_json(old->column_view(0), path_, "definition body") == d.body) continue;
        throw Error(ErrorCode::already_exists,
                    fmt::format("{} '{}' version {} is already stored with a different body", d.kind, d.id, d.version));
      }
    });
  }

  // -- Cases -------------------------------------------------------------------------------

  void commit(CaseCommit c) override {
    WriteOp op;
    op.commits = std::span<const CaseCommit>(&c, 1);
    op.errors.assign(1, nullptr);
    run_write(op);
    if (op.error) std::rethrow_exception(op.error);
    if (op.errors[0]) std::rethrow_exception(op.errors[0]);
  }

  /// One write op for the whole group: the writer takes it into one transaction (with whatever
  /// else is queued), each commit in its own savepoint.
  std::unique_ptr<PendingBatch> submit_batch(std::vector<CaseCommit> commits) override {
    if (read_only_) refuse_write();
    auto batch = std::make_unique<QueuedBatch>(std::move(commits));
    if (batch->empty()) {
      batch->op().done.set_value();
      return batch;
    }
    WriteOp* op = &batch->op();
    if (durability_ == Durability::full) {
      std::lock_guard lk(write_mutex_);
      WriteOp* one[] = {op};
      run_batch(one);
      op->done.set_value();
      return batch;
    }
    {
      std::lock_guard lk(queue_mutex_);
      if (stopping_) throw Error(ErrorCode::storage, sql::message(path_, "the store is closing"));
      op->enqueued = std::chrono::steady_clock::now();
      queue_.push_back(op);
      ++groups_queued_;
      // Wake the writer if it sleeps: idle, or waiting for company (a group is enough).
      if (wake_at_ != std::numeric_limits<std::size_t>::max()) queue_cv_.notify_one();
    }
    return batch;
  }

  /// Two statements for the whole list (the ids passed as one JSON array to json_each): the case
  /// rows with their snapshots, and the events after each snapshot, both in id order; walked
  /// side by side, so each case is handed over as soon as its last event is read.
  void load_cases(const std::vector<std::string>& ids,
                  const std::function<void(std::size_t, std::optional<LoadedCase>)>& each) override {
    if (ids.empty()) return;
    auto lease = reader();
    Database& db = lease.db();
    sql::Transaction tx(db);  // one read snapshot for all of them
    std::unordered_map<std::string_view, std::size_t> where;
    where.reserve(ids.size());
    std::vector<std::size_t> again;  // positions of ids listed twice
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (!where.emplace(ids[i], i).second) again.push_back(i);
    const std::string list = Json(ids).dump();
    std::vector<char> done(ids.size(), 0);
    {
      Prepared rows = db.prepared(loaded_rows_sql());
      Prepared evs = db.prepared(kLoadEventsSql);
      rows->bind_text(1, list);
      evs->bind_text(1, list);
      bool event = evs->step();
      while (rows->step()) {
        LoadedCase out;
        out.row = read_record(*rows);
        if (!rows->is_null(13))
          out.snapshot = SnapshotBlob{static_cast<std::uint64_t>(rows->column_int64(13)), rows->column_blob(14)};
        const std::string& id = out.row.id;
        // As many events as the row's version is past the snapshot's (bounded: a damaged row
        // must not reserve much).
        const std::uint64_t base = out.snapshot ? out.snapshot->version : 0;
        if (out.row.version > base) out.events.reserve(std::min<std::uint64_t>(out.row.version - base, 256));
        for (; event && evs->column_view(0) == id; event = evs->step()) out.events.push_back(read_event(*evs, id, 1));
        const std::size_t i = where.at(id);
        done[i] = 1;
        each(i, std::move(out));
      }
    }
    for (std::size_t i : again) each(i, read_loaded(db, ids[i]));
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (!done[i] && std::find(again.begin(), again.end(), i) == again.end()) each(i, std::nullopt);
    tx.commit();
  }

  std::optional<std::vector<Event>> load_events(const std::string& id, std::uint64_t from) override {
    auto lease = reader();
    Database& db = lease.db();
    sql::Transaction tx(db);  // the events and, when there are none, whether the case exists
    auto out = read_events(db, id, from);
    if (out.empty() && !read_case(db, id)) return std::nullopt;
    tx.commit();
    return out;
  }

  std::vector<std::string> case_ids(std::size_t limit, const std::string& after_id) override {
    auto lease = reader();
    Database& db = lease.db();
    std::vector<std::string> out;
    if (limit == 0) return out;
    if (after_id.empty()) {
      Prepared s = db.prepared("SELECT id FROM cases ORDER BY seq LIMIT ?1");
      s->bind_int64(1, clamp_count(limit));
      while (s->step()) out.push_back(s->column_text(0));
    } else {
      // An unknown after_id yields nothing.
      Prepared s =
          db.prepared("SELECT id FROM cases WHERE seq > (SELECT seq FROM cases WHERE id = ?1) ORDER BY seq LIMIT ?2");
      s->bind_text(1, after_id).bind_int64(2, clamp_count(limit));
      while (s->step()) out.push_back(s->column_text(0));
    }
    return out;
  }

  std::uint64_t case_count() override {
    auto lease = reader();
    Prepared s = lease.db().prepared("SELECT IFNULL(MAX(seq), 0) FROM cases");  // the seq index: O(log n)
    return s->step() ? static_cast<std::uint64_t>(s->column_int64(0)) : 0;
  }

  // -- Timers ------------------------------------------------------------------------------

  std::vector<DueCase> due_cases(TimePoint until, std::size_t limit, const std::optional<DueCase>& after) override {
    auto lease = reader();
    std::vector<DueCase> out;
    if (limit == 0) return out;
    Prepared s = lease.db().prepared(after ? kDueAfterSql : kDueSql);
    s->bind_int64(1, to_ms(until)).bind_int64(2, clamp_count(limit));
    if (after) s->bind_int64(3, to_ms(after->due)).bind_text(4, after->case_id);
    while (s->step()) out.push_back({from_ms(s->column_int64(0)), s->column_text(1)});
    return out;
  }

  // -- Read model --------------------------------------------------------------------------

  QueuePage work_items(const QueueFilter& q, bool with_total) override {
    QueuePage page;
    auto lease = reader();
    Database& db = lease.db();
    if (!with_total) {
      page.items = queue_page(db, q);
      return page;
    }
    sql::Transaction tx(db);  // the page and the count from one snapshot
    page.total = count_work_items(db, q);
    page.items = queue_page(db, q);
    tx.commit();
    return page;
  }

 private:
  /// A page of the queue, read on `db`.
  std::vector<WorkItem> queue_page(Database& db, const QueueFilter& q) {
    std::vector<WorkItem> out;
    if (q.limit == 0) return out;
    std::vector<std::string> roles = q.roles;
    std::sort(roles.begin(), roles.end());
    roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
    const std::string text = queue_sql(q, roles);
    // Cache the shapes with few roles; statements for long role lists are prepared each time.
    std::optional<sql::Statement> own;
    std::optional<Prepared> cached;
    sql::Statement* s = nullptr;
    if (roles.size() <= 8 && (!q.skills || q.skills->size() <= 8)) {
      cached.emplace(db.prepared(text));
      s = &**cached;
    } else {
      own.emplace(db, text);
      s = &*own;
    }
    if (!q.assignee.empty()) s->bind_text(1, q.assignee);
    if (q.overdue_at) s->bind_int64(2, to_ms(*q.overdue_at));
    for (std::size_t i = 0; i < roles.size(); ++i) s->bind_text(static_cast<int>(3 + i), roles[i]);
    // The union form reads `limit + offset` rows per source: keep the sum within int64 (SQLite
    // would turn it into a float and fail). A limit cut that way still covers every row.
    const std::int64_t offset = clamp_count(q.offset), limit = std::min(clamp_count(q.limit), INT64_MAX - offset);
    s->bind_int64(static_cast<int>(3 + roles.size()), limit);
    s->bind_int64(static_cast<int>(4 + roles.size()), offset);
    if (q.skills && !roles.empty())
      for (std::size_t i = 0; i < q.skills->size(); ++i)
        s->bind_text(static_cast<int>(5 + roles.size() + i), (*q.skills)[i]);
    while (s->step()) {
      WorkItem w;
      w.case_id = s->column_text(0);
      w.item_id = s->column_text(1);
      w.name = s->column_text(2);
      w.state = item_state_named(s->column_view(3)).value_or(ItemState::active);
      w.assignee = s->column_text(4);
      w.role = s->column_text(5);
      Json skills = parse_json(s->column_view(6), path_, "work item skills");
      if (skills.is_array())
        for (const auto& k : skills)
          if (k.is_string()) w.skills.push_back(k.get<std::string>());
      w.due = from_ms(s->column_optional_int64(7));
      w.priority = s->column_int(8);
      w.case_title = s->column_text(9);
      w.customer = s->column_text(10);
      w.goal = s->column_text(11);
      w.goal_deadline = from_ms(s->column_optional_int64(12));
      w.goal_timing = timing_named(s->column_view(13)).value_or(Timing::on_track);
      out.push_back(std::move(w));
    }
    return out;
  }

  std::uint64_t count_work_items(Database& db, const QueueFilter& q) {
    std::vector<std::string> roles = q.roles;
    std::sort(roles.begin(), roles.end());
    roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
    const std::string text = "SELECT COUNT(*) FROM work_items" + queue_where(q, roles);
    std::optional<sql::Statement> own;
    std::optional<Prepared> cached;
    sql::Statement* s = nullptr;
    if (roles.size() <= 8 && (!q.skills || q.skills->size() <= 8)) {
      cached.emplace(db.prepared(text));
      s = &**cached;
    } else {
      own.emplace(db, text);
      s = &*own;
    }
    if (!q.assignee.empty()) s->bind_text(1, q.assignee);
    if (q.overdue_at) s->bind_int64(2, to_ms(*q.overdue_at));
    for (std::size_t i = 0; i < roles.size(); ++i) s->bind_text(static_cast<int>(3 + i), roles[i]);
    if (q.skills && !roles.empty())
      for (std::size_t i = 0; i < q.skills->size(); ++i)
        s->bind_text(static_cast<int>(5 + roles.size() + i), (*q.skills)[i]);
    return s->step() ? static_cast<std::uint64_t>(s->column_int64(0)) : 0;
  }

 public:
  /// Rewrites every stored work item once after the v4 migration (meta 'rebuild_work_items').
  void rebuild_work_items(
      const std::function<std::optional<std::vector<WorkItem>>(const std::string&)>& work_of) override {
    std::vector<std::string> ids;
    {
      auto lease = reader();
      Prepared flag = lease.db().prepared("SELECT 1 FROM meta WHERE key = 'rebuild_work_items'");
      if (!flag->step()) return;
      Prepared s = lease.db().prepared("SELECT DISTINCT case_id FROM work_items ORDER BY case_id");
      while (s->step()) ids.push_back(s->column_text(0));
    }
    std::vector<std::pair<std::string, WorkPlan>> plans;
    std::vector<std::vector<WorkItem>> work;
    work.reserve(ids.size());
    for (const std::string& id : ids)
      if (auto w = work_of(id)) {
        work.push_back(std::move(*w));
        plans.emplace_back(id, plan_work(id, work.back()));
      }
    write([&](Database& db) {
      for (const auto& [id, plan] : plans) write_work(db, id, true, plan);
      db.exec("DELETE FROM meta WHERE key = 'rebuild_work_items'");
    });
  }

  // -- Case search (schema v4) -------------------------------------------------------------

  CasePage find_cases(const CaseQuery& q) override {
    // Parameters: ?1 owner, ?2 customer, ?3 limit, ?4 offset, ?5.. the statuses.
    std::vector<std::string> statuses;
    for (CaseStatus st : q.statuses) statuses.emplace_back(to_string(st));
    std::sort(statuses.begin(), statuses.end());
    statuses.erase(std::unique(statuses.begin(), statuses.end()), statuses.end());
    std::string where;
    auto add = [&](const std::string& cond) { where += (where.empty() ? " WHERE " : " AND ") + cond; };
    if (!q.owner.empty()) add("owner = ?1");
    if (!q.customer.empty()) add("customer = ?2");
    if (!statuses.empty()) {
      std::string in;
      for (std::size_t i = 0; i < statuses.size(); ++i) in += fmt::format("{}?{}", i ? ", " : "", 5 + i);
      add(fmt::format("status IN ({})", in));
    }
    auto bind = [&](sql::Statement& s) {
      if (!q.owner.empty()) s.bind_text(1, q.owner);
      if (!q.customer.empty()) s.bind_text(2, q.customer);
      for (std::size_t i = 0; i < statuses.size(); ++i) s.bind_text(static_cast<int>(5 + i), statuses[i]);
    };
    CasePage out;
    auto lease = reader();
    Database& db = lease.db();
    sql::Transaction tx(db);  // the page and the count from one snapshot
    {
      Prepared count = db.prepared("SELECT COUNT(*) FROM cases" + where);
      bind(*count);
      if (count->step()) out.total = static_cast<std::uint64_t>(count->column_int64(0));
    }
    if (q.limit > 0 && q.offset < out.total) {
      Prepared page =
          db.prepared(fmt::format("SELECT {} FROM cases{} ORDER BY seq DESC LIMIT ?3 OFFSET ?4", kCaseColumns, where));
      bind(*page);
      page->bind_int64(3, clamp_count(q.limit)).bind_int64(4, clamp_count(q.offset));
      while (page->step()) out.cases.push_back(read_record(*page));
    }
    tx.commit();
    return out;
  }

  // -- Idempotency -------------------------------------------------------------------------

  /// Positions are "<feed row>:<seq>": the commit's row in `feed`, then the event within it.
  std::vector<FeedEntry> read_feed(const std::string& after, std::size_t limit) override {
    std::int64_t pos = 0, seq = 0;
    if (!after.empty()) {
      const auto colon = after.find(':');
      const std::string a = after.substr(0, colon), b = colon == std::string::npos ? "" : after.substr(colon + 1);
      auto number = [](const std::string& t) {
        return !t.empty() && t.size() < 19 && t.find_first_not_of("0123456789") == std::string::npos;
      };
      if (!number(a) || !number(b))
        throw Error(ErrorCode::invalid_argument, fmt::format("'{}' is not a position of the event feed", after));
      pos = std::stoll(a);
      seq = std::stoll(b);
    }
    auto lease = reader();
    Prepared s = lease.db().prepared(
        "SELECT feed.pos, events.case_id, events.seq, events.time, events.actor, events.kind, events.payload FROM feed "
        "JOIN events ON events.case_id = feed.case_id AND events.seq BETWEEN feed.first_seq AND feed.last_seq "
        "WHERE feed.pos >= ?1 AND (feed.pos > ?1 OR events.seq > ?2) ORDER BY feed.pos, events.seq LIMIT ?3");
    s->bind_int64(1, pos).bind_int64(2, seq).bind_int64(3, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    std::vector<FeedEntry> out;
    while (s->step()) {
      Event e = read_event(*s, s->column_text(1), 2);
      std::string position = fmt::format("{}:{}", s->column_int64(0), e.seq);
      out.push_back({std::move(position), std::move(e)});
    }
    return out;
  }

  std::string feed_end() override {
    auto lease = reader();
    Prepared s = lease.db().prepared("SELECT pos, last_seq FROM feed ORDER BY pos DESC LIMIT 1");
    if (!s->step()) return {};
    return fmt::format("{}:{}", s->column_int64(0), s->column_int64(1));
  }

  std::optional<Json> idempotent_result(const std::string& key) override {
    auto lease = reader();
    Prepared s = lease.db().prepared("SELECT result FROM idempotency WHERE key = ?1");
    s->bind_text(1, key);
    if (!s->step()) return std::nullopt;
    return parse_json(s->column_view(0), path_, "idempotent result");
  }

  // -- Templates ---------------------------------------------------------------------------

  int put(const TemplateInfo& r, const std::string& data) override {
    if (r.name.empty()) throw Error(ErrorCode::invalid_argument, "a template needs a name");
    if (r.version < 0)
      throw Error(ErrorCode::invalid_argument, fmt::format("template version {} is negative", r.version));
    int version = r.version;
    const std::string meta = r.meta.dump();
    write([&](Database& db) {
      version = r.version;
      if (version == 0) {
        Prepared s = db.prepared("SELECT IFNULL(MAX(version), 0) FROM templates WHERE name = ?1");
        s->bind_text(1, r.name);
        version = s->step() ? s->column_int(0) + 1 : 1;
      }
      Prepared ins = db.prepared(
          "INSERT INTO templates(name, version, kind, created_at, meta, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
      ins->bind_text(1, r.name).bind_int64(2, version).bind_text(3, r.kind).bind_int64(4, to_ms(r.created_at));
      ins->bind_text(5, meta).bind_blob(6, data);
      if (!ins->run_unless_constraint())
        throw Error(ErrorCode::already_exists, fmt::format("template '{}' version {} exists", r.name, version));
    });
    return version;
  }

  std::optional<std::pair<TemplateInfo, std::string>> find(const std::string& name, int version) override {
    auto lease = reader();
    Database& db = lease.db();
    Prepared s = version == 0 ? db.prepared(
                                    "SELECT name, version, kind, created_at, meta, data FROM templates "
                                    "WHERE name = ?1 ORDER BY version DESC LIMIT 1")
                              : db.prepared(
                                    "SELECT name, version, kind, created_at, meta, data FROM templates "
                                    "WHERE name = ?1 AND version = ?2");
    s->bind_text(1, name);
    if (version != 0) s->bind_int64(2, version);
    if (!s->step()) return std::nullopt;
    return std::pair<TemplateInfo, std::string>(read_template(*s), s->column_blob(5));
  }

  std::vector<TemplateInfo> list() override {
    auto lease = reader();
    Prepared s =
        lease.db().prepared("SELECT name, version, kind, created_at, meta FROM templates ORDER BY name, version");
    std::vector<TemplateInfo> out;
    while (s->step()) out.push_back(read_template(*s));
    return out;
  }

  // -- Help desk (schema v2) ---------------------------------------------------------------

  void append(std::vector<IntakeLogEntry>& records) override {
    std::vector<std::string> events;
    for (const auto& r : records) events.push_back(r.event.dump());
    std::vector<std::uint64_t> seqs;
    write([&](Database& db) {
      seqs.clear();
      std::uint64_t next = 1;
      {
        Prepared last = db.prepared("SELECT IFNULL(MAX(seq), 0) FROM intake_log");
        if (last->step()) next = static_cast<std::uint64_t>(last->column_int64(0)) + 1;
      }
      Prepared ins = db.prepared(
          "INSERT INTO intake_log(seq, event_id, time, channel, customer, rule, action, case_id, reason, event) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
      for (std::size_t i = 0; i < records.size(); ++i, ++next) {
        const IntakeLogEntry& r = records[i];
        ins->reset();
        ins->bind_int64(1, to_int64(next, "intake seq")).bind_text(2, r.event_id).bind_int64(3, to_ms(r.time));
        ins->bind_text(4, r.channel).bind_text(5, r.customer).bind_text(6, r.rule).bind_text(7, r.action);
        ins->bind_text(8, r.case_id).bind_text(9, r.reason).bind_text(10, events[i]);
        ins->run();
        seqs.push_back(next);
      }
    });
    for (std::size_t i = 0; i < records.size() && i < seqs.size(); ++i) records[i].seq = seqs[i];
  }

  std::vector<IntakeLogEntry> of_event(const std::string& event_id) override {
    auto lease = reader();
    Prepared s = lease.db().prepared(std::string(kIntakeColumns) + " WHERE event_id = ?1 ORDER BY seq");
    s->bind_text(1, event_id);
    std::vector<IntakeLogEntry> out;
    while (s->step()) out.push_back(read_intake(*s));
    return out;
  }

  std::vector<IntakeLogEntry> page(std::size_t limit, std::uint64_t after) override {
    std::vector<IntakeLogEntry> out;
    // Sequence numbers are positive int64: nothing follows a position beyond INT64_MAX.
    if (limit == 0 || after >= static_cast<std::uint64_t>(INT64_MAX)) return out;
    auto lease = reader();
    Prepared s = lease.db().prepared(std::string(kIntakeColumns) + " WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    s->bind_int64(1, static_cast<std::int64_t>(after)).bind_int64(2, clamp_count(limit));
    while (s->step()) out.push_back(read_intake(*s));
    return out;
  }

  // -- Test hooks --------------------------------------------------------------------------

  std::string plan(const std::string& query) {
    auto lease = reader();
    sql::Statement s(lease.db(), "EXPLAIN QUERY PLAN " + query);
    std::string out;
    while (s.step()) out += s.column_text(3) + "\n";
    return out;
  }
  std::string queue_plan(const QueueFilter& q) {
    std::vector<std::string> roles = q.roles;
    std::sort(roles.begin(), roles.end());
    roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
    return plan(queue_sql(q, roles));
  }
  std::string due_plan() { return plan(kDueSql); }
  void on_writer(const std::function<void(Database&)>& work) { write(work); }
  detail::WriteStats write_stats() const {
    return {batches_.load(std::memory_order_relaxed), operations_.load(std::memory_order_relaxed)};
  }

 private:
  // -- Writes ------------------------------------------------------------------------------

  /// One write (a commit, definitions, a template), run inside a transaction (or, in a batch,
  /// inside its own savepoint) on the writer connection; or a group of commits (a timer chunk),
  /// each of which succeeds or fails on its own.
  struct WriteOp {
    std::function<void(Database&)> work;     // a write (definitions, a template), or (when empty) ...
    std::span<const CaseCommit> commits;     // ... these commits (one for a command, a chunk for timers)
    bool group = false;                      // a group of commits from submit_batch
    std::vector<std::exception_ptr> errors;  // per commit
    std::chrono::steady_clock::time_point enqueued{};
    std::exception_ptr error;  // the write's error; for commits, one that failed them all
    std::promise<void> done;   // group mode: set by the writer once the batch (and `error`) is done
    std::size_t units() const { return work ? 1 : commits.size(); }
  };

  /// A group of commits queued for the writer thread (submit_batch in group mode).
  class QueuedBatch final : public PendingBatch {
   public:
    explicit QueuedBatch(std::vector<CaseCommit> commits) : commits_(std::move(commits)) {
      op_.commits = commits_;
      op_.group = true;
      op_.errors.assign(commits_.size(), nullptr);
      done_ = op_.done.get_future();
    }
    ~QueuedBatch() override {
      if (done_.valid()) done_.wait();  // the writer may still use op_ and commits_
    }
    std::vector<std::exception_ptr> wait() override {
      if (done_.valid()) done_.get();
      if (op_.error)
        for (auto& e : op_.errors) e = op_.error;
      return std::move(op_.errors);
    }
    WriteOp& op() { return op_; }
    bool empty() const { return commits_.empty(); }

   private:
    std::vector<CaseCommit> commits_;
    WriteOp op_;
    std::future<void> done_;
  };

  void write(std::function<void(Database&)> work) {
    WriteOp op;
    op.work = std::move(work);
    run_write(op);
    if (op.error) std::rethrow_exception(op.error);
  }

  /// Runs one write op: at once (full durability) or through the writer thread (group).
  void run_write(WriteOp& op) {
    if (read_only_) refuse_write();
    if (durability_ == Durability::full) {
      std::lock_guard lk(write_mutex_);
      WriteOp* one[] = {&op};
      run_batch(one);
      return;
    }
    std::future<void> done = op.done.get_future();
    {
      std::lock_guard lk(queue_mutex_);
      if (stopping_) throw Error(ErrorCode::storage, sql::message(path_, "the store is closing"));
      op.enqueued = std::chrono::steady_clock::now();
      queue_.push_back(&op);
      // Wake the writer only when it waits for this: the first arrival, or a full batch.
      if (queue_.size() >= wake_at_) queue_cv_.notify_one();
    }
    done.get();
  }

  /// The group-commit writer: takes what is queued (waiting up to the window after the first
  /// arrival for more, up to max_batch), writes it in one transaction, reports to each caller.
  void writer_loop() {
    std::vector<WriteOp*> batch;
    batch.reserve(max_batch_);
    std::unique_lock lk(queue_mutex_);
    for (;;) {
      wake_at_ = 1;
      queue_cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything written
      // Wait for company, up to the window after the first arrival. Under steady load from
      // several threads a batch is as big as the previous one once that many are queued: stop
      // waiting then (a sleep of a few hundred microseconds often oversleeps on a busy machine,
      // and the callers of the last batch are all back by then).
      const std::size_t enough = last_batch_ >= 2 ? std::min(last_batch_, max_batch_) : max_batch_;
      // A group of commits (a timer chunk) is company enough.
      if (window_.count() > 0 && queue_.size() < enough && groups_queued_ == 0 && !stopping_) {
        wake_at_ = enough;
        auto deadline = queue_.front()->enqueued + window_;
        queue_cv_.wait_until(lk, deadline, [&] { return stopping_ || queue_.size() >= enough || groups_queued_ > 0; });
      }
      wake_at_ = std::numeric_limits<std::size_t>::max();  // busy: enqueues need not wake the writer
      std::size_t singles = 0;
      while (!queue_.empty() && batch.size() < max_batch_) {
        WriteOp* op = queue_.front();
        queue_.pop_front();
        if (op->group)
          --groups_queued_;
        else
          ++singles;
        batch.push_back(op);
      }
      if (singles) last_batch_ = singles;
      lk.unlock();
      run_batch(batch);
      // Report. The promise is moved out first: once it is fulfilled, its caller may return
      // and destroy the WriteOp (the shared state of promise and future outlives both). The
      // caller takes its error from op.error: the writer keeps no reference to the exception,
      // so it is created, thrown and freed in an order ThreadSanitizer can follow.
      for (WriteOp* op : batch) {
        std::promise<void> done = std::move(op->done);
        done.set_value();
      }
      batch.clear();
      lk.lock();
    }
  }

  /// Runs one write. Returns true if it succeeded; false if it failed on its own (a version
  /// conflict, a duplicate key, a bad argument: the error is kept in `error` for its caller).
  /// Rethrows the failures that end the whole transaction (I/O, disk full, corruption).
  template <class F>
  static bool run_unit(Database& db, F&& work, std::exception_ptr& error) {
    try {
      work();
      return true;
    } catch (const sql::SqlError& e) {
      if (!e.statement_only() || !db.in_transaction()) throw;
      error = std::current_exception();
    } catch (const Error& e) {
      if (e.code() == ErrorCode::storage) throw;
      error = std::current_exception();
    } catch (...) {
      error = std::current_exception();
    }
    return false;
  }

  /// Writes `ops` in one transaction, so that each write (each commit) succeeds or fails on its
  /// own; a failure of the transaction itself fails all. First without a savepoint per commit:
  /// a commit that fails on its own normally fails before writing anything (see apply). Only
  /// if one failed after writing part of itself is the batch rolled back and run again with a
  /// savepoint around each write.
  void run_batch(std::span<WriteOp* const> ops) {
    std::size_t units = 0;
    for (const WriteOp* op : ops) units += op->units();
    if (try_batch(ops, units, false)) return;
    for (WriteOp* op : ops) {
      op->error = nullptr;
      std::fill(op->errors.begin(), op->errors.end(), nullptr);
    }
    try_batch(ops, units, true);
  }

  /// One attempt of run_batch. Returns false, having rolled back, when it must be run again
  /// with savepoints.
  bool try_batch(std::span<WriteOp* const> ops, std::size_t units, bool savepoints) {
    Database& db = *writer_;
    try {
      sql::Transaction tx(db, sql::Transaction::Kind::immediate);
      for (WriteOp* op : ops) {
        if (op->work) {
          // Other writes (definitions, templates, the intake log) are small and rare: always in
          // a savepoint when they share the transaction.
          if (units == 1) {
            if (!run_unit(
                    db, [&] { op->work(db); }, op->error))
              return true;  // rolled back
            continue;
          }
          sql::Savepoint sp(db, "op");
          if (run_unit(
                  db, [&] { op->work(db); }, op->error))
            sp.release();
          continue;
        }
        for (std::size_t i = 0; i < op->commits.size(); ++i) {
          bool wrote = false;
          auto work = [&] { apply(db, op->commits[i], wrote); };
          if (!savepoints) {
            if (!run_unit(db, work, op->errors[i]) && wrote) return false;  // half a commit: again
            continue;
          }
          sql::Savepoint sp(db, "op");
          if (run_unit(db, work, op->errors[i])) sp.release();  // else the destructor rolls back to it
        }
      }
      tx.commit();
      batches_.fetch_add(1, std::memory_order_relaxed);
      operations_.fetch_add(units, std::memory_order_relaxed);
    } catch (const std::exception& e) {
      std::string text =
          units == 1 ? std::string(e.what()) : fmt::format("{} (a batch of {} writes failed with it)", e.what(), units);
      for (WriteOp* op : ops) {
        op->error = std::make_exception_ptr(Error(ErrorCode::storage, text));
        for (auto& err : op->errors) err = op->error;
      }
    }
    return true;
  }

  void finish_migration(Database& db, int from) {
    auto now = format_time(std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()));
    auto set = [&](std::string_view key, const std::string& value) {
      Prepared s = db.prepared("INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)");
      s->bind_text(1, key).bind_text(2, value);
      s->run();
    };
    if (from == 0) {
      db.exec(fmt::format("PRAGMA application_id = {}", kApplicationId));
      set("format", kFormat);
      set("created_at", now);
      set("acm_version", acm::version());
    } else {
      if (static_cast<std::int32_t>(db.query_int64("PRAGMA application_id")) != kApplicationId)
        bad_file(path_, "not an acm store", "application_id changed while opening");
      if (from == kSchemaVersion) return;  // nothing to do: write nothing
      set("migrated_at", now);
      set("acm_version", acm::version());
    }
    set("schema_version", std::to_string(kSchemaVersion));
  }

  /// The commit, on the writer connection inside a transaction or savepoint.
  ///
  /// Every failure a commit may meet on its own (a version conflict, an existing case or
  /// idempotency key, bad arguments) is found before its first write, or by its first write
  /// (the version-checked UPDATE or the INSERT of a new case), whose failure SQLite undoes by
  /// itself. So a batch can run commits without a savepoint each: `wrote` tells the caller
  /// whether a failure left part of this commit in the transaction (then the batch is run
  /// again with savepoints; see run_batch).
  void apply(Database& db, const CaseCommit& c, bool& wrote) {
    wrote = false;
    const CaseRow& r = c.row;
    const std::span<const Event> events = c.events;
    if (r.id.empty()) throw Error(ErrorCode::invalid_argument, "a commit needs a case id");
    const std::int64_t expected = to_int64(c.expected_version, "expected version");
    if (r.version != c.expected_version + events.size())
      throw Error(ErrorCode::internal, fmt::format("commit of case '{}': version {} after {} events from version {}",
                                                   r.id, r.version, events.size(), c.expected_version));
    for (std::size_t i = 0; i < events.size(); ++i) {
      const Event& e = events[i];
      if (e.seq != c.expected_version + 1 + i || (!e.case_id.empty() && e.case_id != r.id))
        throw Error(ErrorCode::internal, fmt::format("commit of case '{}' version {}: event {} is '{}' #{}", r.id,
                                                     r.version, i, e.case_id, e.seq));
    }
    WorkPlan work;
    if (c.work_items) work = plan_work(r.id, *c.work_items);
    if (!c.idempotency_key.empty()) {
      Prepared s = db.prepared("SELECT 1 FROM idempotency WHERE key = ?1");
      s->bind_text(1, c.idempotency_key);
      if (s->step())
        throw Error(ErrorCode::conflict, fmt::format("idempotency key '{}' is already used", c.idempotency_key));
    }

    // The case row first: the version check is its WHERE clause (or, for a new case, the
    // primary key), so a conflict is found before anything is written.
    const bool exists = c.expected_version != 0;
    if (exists) {
      std::optional<RowKeys> stored = c.stored_keys;
      if (!stored) {
        Prepared s = db.prepared(kSelectVersion);
        s->bind_text(1, r.id);
        if (!s->step())
          throw Error(ErrorCode::conflict,
                      fmt::format("case '{}' does not exist (expected version {})", r.id, expected));
        if (s->column_int64(0) != expected)
          throw Error(ErrorCode::conflict,
                      fmt::format("case '{}' is at version {}, not {}", r.id, s->column_int64(0), expected));
        stored = RowKeys{case_status_named(s->column_view(1)).value_or(CaseStatus::active), s->column_text(2),
                         s->column_text(4), from_ms(s->column_optional_int64(3))};
      }
      int changed = 0;
      if (stored->status != r.status) changed |= kStatusChanged;
      if (stored->owner != r.owner) changed |= kOwnerChanged;
      if (stored->next_due != r.next_due) changed |= kDueChanged;
      if (stored->customer != r.customer) changed |= kCustomerChanged;
      Prepared s = db.prepared(update_case_sql()[static_cast<std::size_t>(changed)]);
      bind_case(*s, r, changed);
      s->bind_int64(13, expected);
      s->run();
      if (db.changes() != 1) {
        Prepared v = db.prepared(kSelectVersion);
        v->bind_text(1, r.id);
        if (!v->step())
          throw Error(ErrorCode::conflict,
                      fmt::format("case '{}' does not exist (expected version {})", r.id, expected));
        throw Error(ErrorCode::conflict,
                    fmt::format("case '{}' is at version {}, not {}", r.id, v->column_int64(0), expected));
      }
    } else {
      Prepared s = db.prepared(kInsertCase);
      bind_case(*s, r, kStatusChanged | kOwnerChanged | kDueChanged | kCustomerChanged);
      if (!s->run_unless_constraint()) {
        Prepared v = db.prepared(kSelectVersion);
        v->bind_text(1, r.id);
        throw Error(ErrorCode::conflict,
                    fmt::format("case '{}' already exists (version {})", r.id, v->step() ? v->column_int64(0) : 0));
      }
    }
    wrote = true;

    // Events.
    if (!events.empty()) {
      Prepared ins = db.prepared(kInsertEvent);
      ins->bind_text(1, r.id);
      const bool dumped = c.payloads.size() == events.size();
      std::string own;
      for (std::size_t i = 0; i < events.size(); ++i) {
        const Event& e = events[i];
        if (!dumped) own = dump_stored_json(e.payload);
        ins->bind_int64(2, static_cast<std::int64_t>(e.seq)).bind_int64(3, to_ms(e.time));
        ins->bind_text(4, e.actor).bind_text(5, e.kind).bind_text(6, dumped ? c.payloads[i] : own);
        if (!ins->run_unless_constraint())
          throw Error(ErrorCode::conflict, fmt::format("case '{}' already has event {}", r.id, e.seq));
      }
      Prepared f = db.prepared(kInsertFeed);
      f->bind_text(1, r.id).bind_int64(2, static_cast<std::int64_t>(events.front().seq));
      f->bind_int64(3, static_cast<std::int64_t>(events.back().seq));
      f->run();
    }

    // The read model.
    if (c.work_items) write_work(db, r.id, exists, work);

    if (c.snapshot) {
      Prepared s = db.prepared(kUpsertSnapshot);
      s->bind_text(1, r.id).bind_int64(2, to_int64(c.snapshot->version, "snapshot version"));
      s->bind_blob(3, c.snapshot->data);
      s->run();
    }

    if (!c.idempotency_key.empty()) {
      std::string result = c.idempotent_result.dump();
      Prepared s = db.prepared(kInsertKey);
      s->bind_text(1, c.idempotency_key).bind_text(2, r.id).bind_text(3, result).bind_int64(4, to_ms(r.updated_at));
      if (!s->run_unless_constraint())
        throw Error(ErrorCode::conflict, fmt::format("idempotency key '{}' is already used", c.idempotency_key));
    }
  }

  static void bind_case(sql::Statement& s, const CaseRow& r, int changed) {
    s.bind_text(1, r.id).bind_int64(2, to_int64(r.version, "version")).bind_text(3, r.type);
    s.bind_int64(4, r.type_version).bind_int64(5, r.priority).bind_text(6, r.customer);
    s.bind_int64(7, to_ms(r.next_deadline)).bind_int64(8, to_ms(r.created_at)).bind_int64(9, to_ms(r.updated_at));
    if (changed & kStatusChanged) s.bind_text(10, to_string(r.status));
    if (changed & kOwnerChanged) s.bind_text(11, r.owner);
    if (changed & kDueChanged) s.bind_int64(12, to_ms(r.next_due));
    s.bind_text(14, r.title);
  }

  /// A case's new open work items, checked and sorted by item id, with their skills as JSON.
  struct WorkPlan {
    std::vector<const WorkItem*> items;
    std::vector<std::string> skills;
    std::vector<std::string_view> states, timings;  // the enums as stored (to_string)
  };

  static WorkPlan plan_work(const std::string& case_id, const std::vector<WorkItem>& items) {
    WorkPlan plan;
    plan.items.reserve(items.size());
    for (const WorkItem& w : items) {
      if (!w.case_id.empty() && w.case_id != case_id)
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("commit of case '{}': work item '{}' of case '{}'", case_id, w.item_id, w.case_id));
      plan.items.push_back(&w);
    }
    auto& fresh = plan.items;
    std::sort(fresh.begin(), fresh.end(), [](const auto* a, const auto* b) { return a->item_id < b->item_id; });
    for (std::size_t i = 1; i < fresh.size(); ++i)
      if (fresh[i]->item_id == fresh[i - 1]->item_id)
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("commit of case '{}': work item '{}' listed twice", case_id, fresh[i]->item_id));
    plan.skills.resize(fresh.size());
    for (std::size_t i = 0; i < fresh.size(); ++i) plan.skills[i] = skills_json(fresh[i]->skills);
    for (const WorkItem* w : fresh) {
      plan.states.push_back(to_string(w->state));
      plan.timings.push_back(w->goal.empty() ? std::string_view() : to_string(w->goal_timing));
    }
    return plan;
  }

  /// Replaces the case's work items by the planned ones. The end state is that of "delete the
  /// case's rows, insert the new ones", but rows that stay the same are not touched: a command
  /// usually changes one or two of a case's open items, and each row has three index entries.
  void write_work(Database& db, const std::string& case_id, bool exists, const WorkPlan& plan) {
    const auto& fresh = plan.items;
    const auto& skills = plan.skills;
    // Stored rows: unchanged ones are kept, the others (gone or changed) deleted.
    std::vector<char> keep(fresh.size(), 0);
    std::vector<std::string> stale;
    if (exists) {
      Prepared s = db.prepared(kSelectWork);
      s->bind_text(1, case_id);
      std::size_t i = 0;
      while (s->step()) {
        const std::string_view id = s->column_view(0);
        while (i < fresh.size() && fresh[i]->item_id < id) ++i;
        if (i < fresh.size() && fresh[i]->item_id == id) {
          const WorkItem& w = *fresh[i];
          if (s->column_view(1) == w.name && s->column_view(2) == plan.states[i] && s->column_view(3) == w.assignee &&
              s->column_view(4) == w.role && s->column_view(5) == skills[i] &&
              s->column_optional_int64(6) == to_ms(w.due) && s->column_int64(7) == w.priority &&
              s->column_view(8) == w.case_title && s->column_view(9) == w.customer && s->column_view(10) == w.goal &&
              s->column_optional_int64(11) == to_ms(w.goal_deadline) && s->column_view(12) == plan.timings[i]) {
            keep[i] = 1;
            continue;
          }
        }
        stale.emplace_back(id);
      }
    }
    if (!stale.empty()) {
      Prepared del = db.prepared(kDeleteWork);
      del->bind_text(1, case_id);
      for (const std::string& id : stale) {
        del->bind_text(2, id);
        del->run();
      }
    }
    Prepared ins = db.prepared(kInsertWork);
    ins->bind_text(1, case_id);
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      if (keep[i]) continue;
      const WorkItem& w = *fresh[i];
      ins->bind_text(2, w.item_id).bind_text(3, w.name).bind_text(4, plan.states[i]).bind_text(5, w.assignee);
      ins->bind_text(6, w.role).bind_text(7, skills[i]).bind_int64(8, to_ms(w.due)).bind_int64(9, w.priority);
      ins->bind_text(10, w.case_title).bind_text(11, w.customer).bind_text(12, w.goal);
      ins->bind_int64(13, to_ms(w.goal_deadline)).bind_text(14, plan.timings[i]);
      ins->run();
    }
  }

  // -- Reads -------------------------------------------------------------------------------

  struct Reader {
    std::mutex mutex;
    std::unique_ptr<Database> db;  // opened on first use
  };

  /// A reader connection, locked for the lease's lifetime.
  class ReaderLease {
   public:
    ReaderLease(SqliteStore& store, Reader& reader) : store_(store), reader_(reader) {}
    ~ReaderLease() { reader_.mutex.unlock(); }
    ReaderLease(const ReaderLease&) = delete;
    ReaderLease& operator=(const ReaderLease&) = delete;
    Database& db() {
      if (!reader_.db) reader_.db = store_.open_reader();
      return *reader_.db;
    }

   private:
    SqliteStore& store_;
    Reader& reader_;
  };

  /// An idle open reader if there is one, else an idle unopened one, else waits for one.
  ReaderLease reader() {
    // The lowest idle open reader first: each connection has its own page cache, so reads
    // from one thread at a time keep using the same, warm, connection.
    for (int pass = 0; pass < 2; ++pass)
      for (std::size_t i = 0; i < kReaders; ++i) {
        Reader& r = readers_[i];
        if (!r.mutex.try_lock()) continue;
        if (pass == 0 && !r.db) {
          r.mutex.unlock();
          continue;
        }
        return ReaderLease(*this, r);
      }
    Reader& r = readers_[next_reader_.fetch_add(1, std::memory_order_relaxed) % kReaders];  // all busy: queue up
    r.mutex.lock();
    return ReaderLease(*this, r);
  }

  std::unique_ptr<Database> open_reader() {
    auto db = std::make_unique<Database>(path_, reader_access_);
    db->busy_timeout(kBusyTimeout);
    db->exec("PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;");
    return db;
  }

  std::optional<CaseRow> read_case(Database& db, const std::string& id) {
    static const std::string sql = fmt::format("SELECT {} FROM cases WHERE id = ?1", kCaseColumns);
    Prepared s = db.prepared(sql);
    s->bind_text(1, id);
    if (!s->step()) return std::nullopt;
    return read_record(*s);
  }

  /// A case's row, snapshot and the events after it (inside the caller's read transaction).
  /// kCaseColumns qualified by the table (cases and snapshots both have a version).
  static const std::string& qualified_case_columns() {
    static const std::string cols = [] {
      std::string out;
      for (std::string_view rest = kCaseColumns; !rest.empty();) {
        auto comma = rest.find(',');
        std::string_view col = rest.substr(0, comma);
        while (!col.empty() && col.front() == ' ') col.remove_prefix(1);
        out += fmt::format("{}cases.{}", out.empty() ? "" : ", ", col);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
      return out;
    }();
    return cols;
  }

  /// The rows and snapshots of the cases whose ids ?1 lists (a JSON array), in id order.
  static const std::string& loaded_rows_sql() {
    static const std::string sql = fmt::format(
        "SELECT {}, snapshots.version, snapshots.data FROM cases LEFT JOIN snapshots ON snapshots.case_id = cases.id "
        "WHERE cases.id IN (SELECT value FROM json_each(?1)) ORDER BY cases.id",
        qualified_case_columns());
    return sql;
  }

  /// A case's row, snapshot and the events after it (inside the caller's read transaction).
  std::optional<LoadedCase> read_loaded(Database& db, const std::string& id) {
    // The row and its snapshot in one statement.
    static const std::string sql = fmt::format(
        "SELECT {}, snapshots.version, snapshots.data FROM cases LEFT JOIN snapshots ON snapshots.case_id = cases.id "
        "WHERE cases.id = ?1",
        qualified_case_columns());
    LoadedCase out;
    {
      Prepared s = db.prepared(sql);
      s->bind_text(1, id);
      if (!s->step()) return std::nullopt;
      out.row = read_record(*s);
      if (!s->is_null(13))
        out.snapshot = SnapshotBlob{static_cast<std::uint64_t>(s->column_int64(13)), s->column_blob(14)};
    }
    out.events = read_events(db, id, out.snapshot ? out.snapshot->version + 1 : 1);
    return out;
  }

  std::vector<Event> read_events(Database& db, const std::string& id, std::uint64_t from) {
    Prepared s =
        db.prepared("SELECT seq, time, actor, kind, payload FROM events WHERE case_id = ?1 AND seq >= ?2 ORDER BY seq");
    s->bind_text(1, id).bind_int64(2, to_int64(from, "event seq"));
    std::vector<Event> out;
    while (s->step()) out.push_back(read_event(*s, id, 0));
    return out;
  }

  /// The event in columns first.. (seq, time, actor, kind, payload) of the current row.
  Event read_event(const sql::Statement& s, const std::string& case_id, int first) {
    Event e;
    e.case_id = case_id;
    e.seq = static_cast<std::uint64_t>(s.column_int64(first));
    // A damaged row may hold text or a blob where a number belongs: SQLite would read it as 0.
    for (int col : {first, first + 1})
      if (s.column_type(col) != SQLITE_INTEGER)
        throw Error(ErrorCode::storage, fmt::format("{}: event {} of case '{}' is damaged: its {} is not a number", path_,
                                                    e.seq, case_id, col == first ? "sequence number" : "time"));
    e.time = from_ms(s.column_int64(first + 1));
    e.actor = s.column_text(first + 2);
    e.kind = s.column_text(first + 3);
    // Parsed in place (parse_json would need its error context formatted for every event), by
    // the parser for the compact text the store writes (stored_json.hpp).
    const std::string_view text = s.column_view(first + 4);
    try {
      e.payload = parse_stored_json(text);
    } catch (const Json::exception& x) {
      bad_file(path_, fmt::format("corrupt payload of event {} of case '{}'", e.seq, case_id), x.what());
    }
    return e;
  }

  TemplateInfo read_template(const sql::Statement& s) {
    TemplateInfo r;
    r.name = s.column_text(0);
    r.version = s.column_int(1);
    r.kind = s.column_text(2);
    r.created_at = from_ms(s.column_int64(3));
    r.meta = parse_json(s.column_view(4), path_, "template meta");
    return r;
  }

  /// Read-only: no lock, no writer, no migration; the file must be a store of this schema.
  void open_read_only() {
    if (read_only_why_.empty()) read_only_why_ = "it was opened read-only";
    std::error_code ec;
    if (!fs::exists(path_, ec) || size_or_zero(path_) == 0)
      bad_file(path_, "no acm store to open read-only", read_only_why_);
    // Readers need the -shm file of a WAL-mode file; where it cannot be created (a read-only
    // directory) they read the file as immutable (no writer can be adding to it there).
    const bool shm = fs::exists(path_ + "-shm", ec);
    reader_access_ = Database::Access::read_only;
    try {
      if (check_file(path_) != FileState::store) bad_file(path_, "no acm store to open read-only", read_only_why_);
      auto probe = open_reader();
      probe->query_int64("SELECT count(*) FROM meta");
    } catch (const Error&) {
      if (!shm) fs::remove(path_ + "-shm", ec);
      reader_access_ = Database::Access::immutable;
      if (check_file(path_) != FileState::store) bad_file(path_, "no acm store to open read-only", read_only_why_);
    }
    auto probe = open_reader();
    const auto version = probe->query_int64("PRAGMA user_version");
    if (version != kSchemaVersion)
      bad_file(
          path_,
          fmt::format("schema version {} needs migrating to {}: open it once for writing", version, kSchemaVersion),
          read_only_why_);
  }

  [[noreturn]] void refuse_write() const {
    throw Error(ErrorCode::invalid_state,
                sql::message(path_, "the store is open read-only, for queries", read_only_why_));
  }

  static std::string canonical_path(const std::string& path) {
    if (path.empty()) throw Error(ErrorCode::invalid_argument, "the store path is empty");
    std::error_code ec;
    auto p = fs::weakly_canonical(fs::absolute(path, ec), ec);
    if (ec) return path;
    return p.string();
  }

  // Declaration order matters: the lock is taken first and released last.
  const std::string path_;
  bool read_only_ = false;
  std::string read_only_why_;
  Database::Access reader_access_ = Database::Access::read_only;
  LockFile lock_;
  const Durability durability_;
  const std::chrono::microseconds window_;
  const std::size_t max_batch_;
  std::unique_ptr<Database> writer_;

  std::array<Reader, kReaders> readers_;
  std::atomic<std::size_t> next_reader_{0};

  std::mutex write_mutex_;  // full durability: the writer connection
  std::mutex queue_mutex_;  // group durability: the queue and the done flags
  std::condition_variable queue_cv_;
  std::deque<WriteOp*> queue_;
  bool stopping_ = false;
  std::size_t wake_at_ = 1;     // queue size at which an enqueue notifies the writer
  std::size_t last_batch_ = 0;  // single writes in the previous batch (writer thread only)
  std::size_t groups_queued_ = 0;  // groups of commits in queue_ (queue_mutex_)
  std::thread writer_thread_;

  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::uint64_t> operations_{0};
};

SqliteStore& as_sqlite(CaseStore& store) {
  auto* s = dynamic_cast<SqliteStore*>(&store);
  if (!s) throw Error(ErrorCode::invalid_argument, "not a SQLite store");
  return *s;
}

}  // namespace

namespace detail {
std::string queue_plan(CaseStore& store, const QueueFilter& q) { return as_sqlite(store).queue_plan(q); }
std::string due_plan(CaseStore& store) { return as_sqlite(store).due_plan(); }
WriteStats write_stats(CaseStore& store) { return as_sqlite(store).write_stats(); }
void on_writer(CaseStore& store, const std::function<void(sql::Database&)>& work) { as_sqlite(store).on_writer(work); }
}  // namespace detail

}  // namespace acm::store

namespace acm {
std::shared_ptr<CaseStore> open_sqlite_store(const SqliteStoreOptions& options) {
  return std::make_shared<store::SqliteStore>(options);
}
}  // namespace acm
