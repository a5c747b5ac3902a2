// SPDX-License-Identifier: Apache-2.0
// store/postgres/pq.cpp - the libpq layer (see pq.hpp).
#include "store/postgres/pq.hpp"

#include <acm/error.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cstring>

namespace acm::pq {
namespace {

std::string trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

bool is_conflict_state(std::string_view state) {
  return state == kConflictState   // the store's version check
         || state == "23505"       // unique_violation: an existing id or idempotency key
         || state == "40001"       // serialization_failure
         || state == "40P01";      // deadlock_detected
}

}  // namespace

std::int64_t Result::int64(int row, int col) const {
  std::string_view t = text(row, col);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc{} || p != t.data() + t.size())
    throw Error(ErrorCode::storage, fmt::format("PostgreSQL: column {} holds '{}', not an integer", col, t));
  return v;
}

std::optional<TimePoint> Result::time(int row, int col) const {
  if (null(row, col)) return std::nullopt;
  return TimePoint{std::chrono::milliseconds{int64(row, col)}};
}

std::string Result::bytes(int row, int col) const {
  std::size_t n = 0;
  unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_, row, col)), &n);
  if (!raw) throw Error(ErrorCode::storage, "PostgreSQL: cannot decode a bytea column (out of memory)");
  std::string out(reinterpret_cast<const char*>(raw), n);
  PQfreemem(raw);
  return out;
}

std::uint64_t Result::affected() const {
  const char* n = PQcmdTuples(r_);
  std::uint64_t v = 0;
  if (n && *n) std::from_chars(n, n + std::strlen(n), v);
  return v;
}

namespace {

// PostgreSQL's text cannot hold NUL, and a text-format parameter is a C string: a NUL would cut
// it short silently. Refused instead, before anything is sent.
void check_no_nul(std::string_view v) {
  if (v.find('\0') != std::string_view::npos)
    throw Error(ErrorCode::invalid_argument, "PostgreSQL: a text value contains a NUL byte, which text cannot hold");
}

}  // namespace

Params& Params::text(std::string_view v) {
  check_no_nul(v);
  values_.emplace_back(std::string(v));
  formats_.push_back(0);
  return *this;
}

Params& Params::int64(std::int64_t v) {
  values_.emplace_back(std::to_string(v));
  formats_.push_back(0);
  return *this;
}

namespace {

// PostgreSQL's binary array format (array_recv): dimensions, a has-null flag, the element
// type's OID, then per dimension its size and lower bound; then each element as its length and
// its bytes; every integer in network byte order.
void put32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

std::string array_header(std::uint32_t element_oid, std::size_t n) {
  if (n > 0x7fffffff) throw Error(ErrorCode::invalid_argument, "an array parameter of more than 2^31 elements");
  std::string out;
  put32(out, 1);  // dimensions
  put32(out, 0);  // no NULL element
  put32(out, element_oid);
  put32(out, static_cast<std::uint32_t>(n));
  put32(out, 1);  // lower bound
  return out;
}

constexpr std::uint32_t kInt8Oid = 20;
constexpr std::uint32_t kTextOid = 25;

}  // namespace

Params& Params::int64_array(const std::vector<std::int64_t>& v) {
  std::string out = array_header(kInt8Oid, v.size());
  out.reserve(out.size() + v.size() * 12);
  for (std::int64_t x : v) {
    put32(out, 8);
    const auto u = static_cast<std::uint64_t>(x);
    put32(out, static_cast<std::uint32_t>(u >> 32));
    put32(out, static_cast<std::uint32_t>(u & 0xffffffffu));
  }
  values_.emplace_back(std::move(out));
  formats_.push_back(1);
  any_binary_ = true;
  return *this;
}

Params& Params::text_array(const std::vector<std::string_view>& v) {
  std::string out = array_header(kTextOid, v.size());
  std::size_t bytes = out.size();
  for (auto x : v) bytes += 4 + x.size();
  out.reserve(bytes);
  for (auto x : v) {
    check_no_nul(x);
    if (x.size() > 0x7fffffff) throw Error(ErrorCode::invalid_argument, "an array element of more than 2 GiB");
    put32(out, static_cast<std::uint32_t>(x.size()));
    out.append(x);
  }
  values_.emplace_back(std::move(out));
  formats_.push_back(1);
  any_binary_ = true;
  return *this;
}

Params& Params::time(std::optional<TimePoint> t) {
  if (!t) return null();
  return int64(t->time_since_epoch().count());
}

Params& Params::bytes(std::string_view v) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 + v.size() * 2);
  s += "\\x";
  for (unsigned char c : v) {
    s += hex[c >> 4];
    s += hex[c & 15];
  }
  values_.emplace_back(std::move(s));
  formats_.push_back(0);
  return *this;
}

Params& Params::null() {
  values_.emplace_back(std::nullopt);
  formats_.push_back(0);
  return *this;
}

const std::vector<const char*>& Params::pointers() const {
  ptrs_.clear();
  for (const auto& v : values_) ptrs_.push_back(v ? v->data() : nullptr);
  return ptrs_;
}

const int* Params::lengths() const {
  if (!any_binary_) return nullptr;  // text parameters are NUL-terminated
  lengths_.clear();
  for (const auto& v : values_) lengths_.push_back(v ? static_cast<int>(v->size()) : 0);
  return lengths_.data();
}

const int* Params::formats() const { return any_binary_ ? formats_.data() : nullptr; }

void raise(const PGresult* r, PGconn* conn, std::string_view what) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = primary ? trimmed(primary) : trimmed(conn ? PQerrorMessage(conn) : "no connection");
  if (state && is_conflict_state(state)) {
    if (std::string_view(state) == kConflictState) throw Error(ErrorCode::conflict, message);
    const char* detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    throw Error(ErrorCode::conflict,
                fmt::format("PostgreSQL: {}{}{} ({})", message, detail ? ": " : "", detail ? trimmed(detail) : "", what));
  }
  throw Error(ErrorCode::storage,
              fmt::format("PostgreSQL: {} ({}{}{})", message, what, state ? ", SQLSTATE " : "", state ? state : ""));
}

Connection::Connection(const std::string& conninfo) {
  conn_ = PQconnectdb(conninfo.c_str());
  if (!conn_) throw Error(ErrorCode::storage, "PostgreSQL: cannot allocate a connection");
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw Error(ErrorCode::storage, fmt::format("PostgreSQL: cannot connect: {}", msg));
  }
  // Quiet: NOTICEs (e.g. "relation already exists, skipping") are not errors.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
}

Connection::~Connection() {
  if (conn_) PQfinish(conn_);
}

void Connection::close() {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
  in_pipeline_ = false;
}

bool Connection::ok() const { return conn_ && PQstatus(conn_) == CONNECTION_OK && !in_pipeline_; }

Result Connection::exec(const std::string& sql) {
  Result r(PQexec(conn_, sql.c_str()));
  auto st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) raise(r.get(), conn_, "statement");
  return r;
}

Result Connection::exec(const std::string& sql, const Params& params) {
  const auto& p = params.pointers();
  Result r(PQexecParams(conn_, sql.c_str(), static_cast<int>(p.size()), nullptr, p.data(), params.lengths(),
                          params.formats(), 0));
  auto st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) raise(r.get(), conn_, "statement");
  return r;
}

void Connection::prepare(const std::string& name, const std::string& sql) {
  if (prepared_.count(name)) return;
  Result r(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) raise(r.get(), conn_, "prepare " + name);
  prepared_[name] = true;
}

Result Connection::exec_prepared(const std::string& name, const Params& params) {
  const auto& p = params.pointers();
  Result r(PQexecPrepared(conn_, name.c_str(), static_cast<int>(p.size()), p.data(), params.lengths(),
                            params.formats(), 0));
  auto st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) raise(r.get(), conn_, name);
  return r;
}

void Connection::begin_pipeline() {
  if (PQenterPipelineMode(conn_) != 1)
    throw Error(ErrorCode::storage, fmt::format("PostgreSQL: cannot enter pipeline mode: {}", trimmed(PQerrorMessage(conn_))));
  in_pipeline_ = true;
  sent_ = 0;
}

void Connection::send(const std::string& name, const Params& params) {
  const auto& p = params.pointers();
  if (PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(p.size()), p.data(), params.lengths(),
                          params.formats(), 0) != 1)
    throw Error(ErrorCode::storage, fmt::format("PostgreSQL: cannot send {}: {}", name, trimmed(PQerrorMessage(conn_))));
  ++sent_;
}

std::vector<Result> Connection::end_pipeline() {
  if (PQpipelineSync(conn_) != 1) {
    in_pipeline_ = false;  // the connection is unusable: ok() reports it through PQstatus
    throw Error(ErrorCode::storage, fmt::format("PostgreSQL: cannot send the commit: {}", trimmed(PQerrorMessage(conn_))));
  }
  std::vector<Result> out;
  out.reserve(sent_);
  Result error;
  bool broken = false;
  for (std::size_t i = 0; i < sent_ && !broken; ++i) {
    PGresult* r = PQgetResult(conn_);
    if (!r) {
      broken = true;
      break;
    }
    Result res(r);
    auto st = PQresultStatus(r);
    if (st == PGRES_FATAL_ERROR) {
      if (!error.get()) error = std::move(res);
    } else if (st != PGRES_PIPELINE_ABORTED) {
      out.push_back(std::move(res));
    }
    // Each statement's results end with a null.
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  }
  // Up to the Sync.
  while (!broken) {
    PGresult* r = PQgetResult(conn_);
    if (!r) {
      if (PQstatus(conn_) != CONNECTION_OK) broken = true;
      continue;
    }
    auto st = PQresultStatus(r);
    PQclear(r);
    if (st == PGRES_PIPELINE_SYNC) break;
  }
  in_pipeline_ = false;
  if (broken) {
    throw Error(ErrorCode::storage,
                fmt::format("PostgreSQL: the connection was lost during a commit (it may or may not have been "
                            "written): {}",
                            trimmed(PQerrorMessage(conn_))));
  }
  if (PQexitPipelineMode(conn_) != 1)
    throw Error(ErrorCode::storage, fmt::format("PostgreSQL: cannot leave pipeline mode: {}", trimmed(PQerrorMessage(conn_))));
  if (error.get()) {
    // A pipeline that began an explicit transaction leaves it aborted: end it.
    if (PQtransactionStatus(conn_) == PQTRANS_INERROR) PQclear(PQexec(conn_, "ROLLBACK"));
    raise(error.get(), conn_, "commit");
  }
  return out;
}

}  // namespace acm::pq
