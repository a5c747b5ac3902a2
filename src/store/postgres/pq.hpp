// SPDX-License-Identifier: Apache-2.0
// store/postgres/pq.hpp - a small RAII layer over libpq (PostgreSQL's C client library).
//
// Private to the library: nothing of libpq reaches a public header. What the PostgreSQL store
// needs and nothing more: a connection opened from a libpq URI or key/value string, results
// freed by their destructor, parameterised statements (prepared once per connection), and
// pipeline mode, so that a whole transaction of statements is sent and answered in one round
// trip. Errors become acm::Error: the store's own conflict SQLSTATE (AC001), a unique-key
// violation, a serialization failure or a deadlock are ErrorCode::conflict; everything else is
// ErrorCode::storage; both carry the server's message.
//
// Thread safety: a Connection is used by one thread at a time (the caller's pool ensures it).
#pragma once

#include <acm/time.hpp>

#include <libpq-fe.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace acm::pq {

/// SQLSTATE the store's own functions raise for a failed version check (class "AC": acm).
inline constexpr const char* kConflictState = "AC001";

/// A query result, cleared on destruction. Accessors read text-format columns.
class Result {
 public:
  Result() = default;
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() { if (r_) PQclear(r_); }
  Result(Result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Result& operator=(Result&& o) noexcept {
    if (this != &o) {
      if (r_) PQclear(r_);
      r_ = o.r_;
      o.r_ = nullptr;
    }
    return *this;
  }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  int rows() const { return r_ ? PQntuples(r_) : 0; }
  bool null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::string_view text(int row, int col) const {
    return {PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col))};
  }
  std::string str(int row, int col) const { return std::string(text(row, col)); }
  std::int64_t int64(int row, int col) const;
  /// A bigint column of milliseconds since the epoch; nullopt for NULL.
  std::optional<TimePoint> time(int row, int col) const;
  /// A bytea column (text format, hex encoded) decoded.
  std::string bytes(int row, int col) const;
  /// Number of rows an INSERT/UPDATE/DELETE touched.
  std::uint64_t affected() const;
  PGresult* get() const { return r_; }

 private:
  PGresult* r_ = nullptr;
};

/// Parameters of one statement, in text format (bytea as hex text), except arrays, which are
/// sent in PostgreSQL's binary array format (no quoting or escaping of their elements on either
/// side). Values are copied. Text (text() and text_array() elements) containing a NUL byte is
/// refused with Error(invalid_argument): PostgreSQL's text cannot hold it.
class Params {
 public:
  Params& text(std::string_view v);
  Params& int64(std::int64_t v);
  Params& time(std::optional<TimePoint> t);
  Params& bytes(std::string_view v);
  Params& null();
  /// A `bigint[]` parameter (one dimension, no NULL element).
  Params& int64_array(const std::vector<std::int64_t>& v);
  /// A `text[]` parameter (one dimension, no NULL element). Elements must be valid UTF-8
  /// without NUL bytes, as any text parameter.
  Params& text_array(const std::vector<std::string_view>& v);
  std::size_t size() const { return values_.size(); }
  /// Pointers for libpq; valid until this object changes.
  const std::vector<const char*>& pointers() const;
  /// Lengths and formats for libpq (nullptr when every parameter is text).
  const int* lengths() const;
  const int* formats() const;

 private:
  std::vector<std::optional<std::string>> values_;
  std::vector<int> formats_;  ///< per parameter: 0 text, 1 binary
  bool any_binary_ = false;
  mutable std::vector<const char*> ptrs_;
  mutable std::vector<int> lengths_;
};

/// Throws the acm::Error a failed result stands for (see the file comment). `what` names the
/// operation, for the message.
[[noreturn]] void raise(const PGresult* r, PGconn* conn, std::string_view what);

/// One connection to the server.
class Connection {
 public:
  /// Connects (libpq URI "postgresql://..." or "key=value ..." string). Throws Error(storage)
  /// with libpq's message when the server cannot be reached or refuses the connection.
  explicit Connection(const std::string& conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Whether the connection is still usable (a lost connection is not: the pool drops it).
  bool ok() const;

  /// Runs SQL text (one or more statements, no parameters) and returns the last result.
  Result exec(const std::string& sql);
  /// Runs one parameterised statement.
  Result exec(const std::string& sql, const Params& params);
  /// Prepares a named statement on this connection (once; later calls are no-ops).
  void prepare(const std::string& name, const std::string& sql);
  /// Runs a prepared statement (outside a pipeline).
  Result exec_prepared(const std::string& name, const Params& params);

  // ---- pipeline mode ----
  // begin_pipeline(); send(...) ...; end_pipeline() sends a Sync and reads every result up to
  // it. Statements between begin and end run in ONE implicit transaction that commits at the
  // Sync (or rolls back entirely on the first error). One round trip in all.
  void begin_pipeline();
  void send(const std::string& prepared_name, const Params& params);
  /// Returns the results of the statements sent, in order. On an error: reads up to the Sync
  /// (the server skipped the rest and rolled the transaction back), leaves pipeline mode and
  /// throws the first error (see raise()).
  std::vector<Result> end_pipeline();

  PGconn* raw() const { return conn_; }
  /// Closes the connection at once (a pipeline that must not be synced: the server rolls its
  /// transaction back). ok() is false afterwards; the pool drops it.
  void close();

 private:
  void drain_after_error();
  PGconn* conn_ = nullptr;
  std::unordered_map<std::string, bool> prepared_;
  std::size_t sent_ = 0;
  bool in_pipeline_ = false;
};

}  // namespace acm::pq
