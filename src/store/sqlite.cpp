// SPDX-License-Identifier: Apache-2.0
// store/sqlite.cpp - the RAII layer over the SQLite C API (see sqlite.hpp).
#include "store/sqlite.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <utility>

namespace acm::store::sql {

namespace {

/// The SQL text shortened for a message.
std::string shorten(std::string_view sql) {
  constexpr std::size_t kMax = 60;
  std::string s;
  s.reserve(std::min(sql.size(), kMax) + 3);
  for (char c : sql.substr(0, kMax)) s += (c == '\n' || c == '\t') ? ' ' : c;
  if (sql.size() > kMax) s += "...";
  return s;
}

/// "file:" URI of a path (https://www.sqlite.org/uri.html): everything but unreserved
/// characters and '/' percent-encoded.
std::string uri(std::string_view path) {
  std::string out = "file:";
  for (unsigned char c : path) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '-' ||
                 c == '_' || c == '.' || c == '~';
    if (plain)
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

bool blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\n' && c != '\t' && c != '\r' && c != ';') return false;
  return true;
}

}  // namespace

bool SqlError::statement_only() const noexcept {
  switch (primary_code()) {
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return true;
    default:
      return false;
  }
}

bool SqlError::not_a_database() const noexcept { return primary_code() == SQLITE_NOTADB; }

std::string message(std::string_view path, std::string_view what, std::string_view detail) {
  if (detail.empty()) return fmt::format("{}: {}", path, what);
  return fmt::format("{}: {} ({})", path, what, detail);
}

// ---------------------------------------------------------------------------------------------
// Statement

Statement::Statement(Database& db, std::string_view sql, bool persistent) : db_(&db) {
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()),
                              persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt_, &tail);
  if (rc != SQLITE_OK) db.fail(rc, fmt::format("cannot prepare \"{}\"", shorten(sql)));
  if (stmt_ == nullptr)
    throw SqlError(message(db.path(), fmt::format("cannot prepare \"{}\"", shorten(sql)), "no statement"),
                   SQLITE_MISUSE);
  if (tail != nullptr && !blank(std::string_view(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail)))) {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    throw SqlError(message(db.path(), fmt::format("cannot prepare \"{}\"", shorten(sql)), "more than one statement"),
                   SQLITE_MISUSE);
  }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::fail(int rc) {
  std::string detail = sqlite3_errmsg(db_->handle());
  sqlite3_reset(stmt_);
  throw SqlError(message(db_->path(), fmt::format("cannot execute \"{}\"", shorten(sql())), detail), rc);
}

Statement& Statement::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) fail(rc);
  return *this;
}

Statement& Statement::bind_int64(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, static_cast<sqlite3_int64>(value));
  if (rc != SQLITE_OK) fail(rc);
  return *this;
}

Statement& Statement::bind_int64(int index, std::optional<std::int64_t> value) {
  return value ? bind_int64(index, *value) : bind_null(index);
}

Statement& Statement::bind_text(int index, std::string_view value) {
  // A non-null pointer even for "": a null pointer would bind NULL, not the empty string.
  int rc =
      sqlite3_bind_text64(stmt_, index, value.empty() ? "" : value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK) fail(rc);
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view value) {
  int rc = sqlite3_bind_blob64(stmt_, index, value.empty() ? "" : value.data(), value.size(), SQLITE_STATIC);
  if (rc != SQLITE_OK) fail(rc);
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(rc);
}

void Statement::run() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
    sqlite3_reset(stmt_);  // keeps the bindings; ends the statement's implicit transaction, if any
    return;
  }
  fail(rc);
}

bool Statement::run_unless_constraint() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
    sqlite3_reset(stmt_);
    return true;
  }
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    sqlite3_reset(stmt_);
    return false;
  }
  fail(rc);
}

void Statement::reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int column) const noexcept { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
int Statement::column_type(int column) const noexcept { return sqlite3_column_type(stmt_, column); }

std::int64_t Statement::column_int64(int column) const noexcept { return sqlite3_column_int64(stmt_, column); }

int Statement::column_int(int column) const noexcept { return sqlite3_column_int(stmt_, column); }

std::string_view Statement::column_view(int column) const noexcept {
  const auto* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::string Statement::column_text(int column) const { return std::string(column_view(column)); }

std::string Statement::column_blob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  if (data == nullptr) return {};
  return {static_cast<const char*>(data), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::optional<std::int64_t> Statement::column_optional_int64(int column) const noexcept {
  if (is_null(column)) return std::nullopt;
  return column_int64(column);
}

std::string_view Statement::sql() const noexcept {
  const char* s = sqlite3_sql(stmt_);
  return s ? std::string_view(s) : std::string_view();
}

// ---------------------------------------------------------------------------------------------
// Database

void Database::Closer::operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }

Database::Database(std::string path, Access access) : path_(std::move(path)) {
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  std::string name = path_;
  switch (access) {
    case Access::read_only:
      flags |= SQLITE_OPEN_READONLY;
      break;
    case Access::immutable:
      flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
      name = uri(path_) + "?immutable=1";
      break;
    case Access::read_write:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
  db_.reset(raw);  // closed by the deleter even when the open failed
  if (rc != SQLITE_OK) {
    std::string detail = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    throw SqlError(message(path_, access == Access::read_write ? "cannot open" : "cannot open for reading", detail),
                   rc);
  }
  sqlite3_extended_result_codes(raw, 1);
}

Database::~Database() = default;

void Database::fail(int rc, std::string_view what) const {
  throw SqlError(message(path_, what, sqlite3_errmsg(db_.get())), rc);
}

void Database::exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string detail = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    throw SqlError(message(path_, fmt::format("cannot execute \"{}\"", shorten(sql)), detail), rc);
  }
}

Prepared Database::prepared(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) it = cache_.emplace(std::string(sql), std::make_unique<Statement>(*this, sql, true)).first;
  return Prepared(*it->second);
}

std::int64_t Database::query_int64(std::string_view sql) {
  Statement s(*this, sql);
  return s.step() ? s.column_int64(0) : 0;
}

std::string Database::query_text(std::string_view sql) {
  Statement s(*this, sql);
  return s.step() ? s.column_text(0) : std::string();
}

bool Database::in_transaction() const noexcept { return sqlite3_get_autocommit(db_.get()) == 0; }

std::int64_t Database::changes() const noexcept { return sqlite3_changes64(db_.get()); }

void Database::busy_timeout(std::chrono::milliseconds timeout) {
  int rc = sqlite3_busy_timeout(db_.get(), static_cast<int>(timeout.count()));
  if (rc != SQLITE_OK) fail(rc, "cannot set the busy timeout");
}

// ---------------------------------------------------------------------------------------------
// Transaction, Savepoint

Transaction::Transaction(Database& db, Kind kind) : db_(db) {
  db_.prepared(kind == Kind::immediate ? "BEGIN IMMEDIATE" : "BEGIN")->run();
}

Transaction::~Transaction() {
  if (done_ || !db_.in_transaction()) return;  // SQLite may already have rolled back (I/O error, disk full)
  sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.prepared("COMMIT")->run();
  done_ = true;
}

Savepoint::Savepoint(Database& db, std::string_view name) : db_(db), name_(name) {
  db_.prepared(fmt::format("SAVEPOINT {}", name_))->run();
}

Savepoint::~Savepoint() {
  if (done_ || !db_.in_transaction()) return;
  std::string sql = fmt::format("ROLLBACK TO {0}; RELEASE {0}", name_);
  sqlite3_exec(db_.handle(), sql.c_str(), nullptr, nullptr, nullptr);
}

void Savepoint::release() {
  db_.prepared(fmt::format("RELEASE {}", name_))->run();
  done_ = true;
}

// ---------------------------------------------------------------------------------------------
// Migrations

int migrate(Database& db, std::span<const Migration> steps,
            const std::function<void(Database&, int from_version)>& finish) {
  for (std::size_t i = 0; i < steps.size(); ++i)
    if (steps[i].version != static_cast<int>(i) + 1)
      throw Error(ErrorCode::internal, fmt::format("migration {} is numbered {}", i + 1, steps[i].version));
  const int to = static_cast<int>(steps.size());
  Transaction tx(db, Transaction::Kind::immediate);
  const int from = static_cast<int>(db.query_int64("PRAGMA user_version"));
  if (from > to)
    throw Error(ErrorCode::storage,
                message(db.path(), fmt::format("schema version {} is newer than this build of acm supports ({}); "
                                               "open it with a newer acm",
                                               from, to)));
  if (from < 0) throw Error(ErrorCode::storage, message(db.path(), fmt::format("invalid schema version {}", from)));
  for (const auto& step : steps) {
    if (step.version <= from) continue;
    try {
      db.exec(step.sql);
    } catch (const SqlError& e) {
      throw SqlError(fmt::format("{} [migration {} \"{}\"]", e.what(), step.version, step.description),
                     e.result_code());
    }
  }
  if (finish) finish(db, from);
  if (from != to) db.exec(fmt::format("PRAGMA user_version = {}", to));
  tx.commit();
  return from;
}

}  // namespace acm::store::sql
