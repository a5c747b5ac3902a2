// SPDX-License-Identifier: Apache-2.0
// store/postgres/postgres_store.cpp - the Store on a PostgreSQL database (docs/storage.md,
// "PostgreSQL"). Several processes may open one database: every check that makes a write safe
// runs in the server, inside the transaction that writes.
//
// Connections: a pool of up to PostgresOptions::connections, each used by one thread at a time.
// A commit is ONE round trip: its statements are sent in pipeline mode and run in the implicit
// transaction that the pipeline's Sync commits (or, at the first error, rolls back entirely).
// Reads that take several statements run them in one REPEATABLE READ transaction, so they see
// one consistent state.
#include <acm/error.hpp>
#include <acm/store.hpp>
#include <acm/version.hpp>

#include "store/postgres/pq.hpp"
#include "store/postgres/statements.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace acm {
namespace {

constexpr int kSchemaVersion = 1;

/// Version 1. Append new steps; never edit a released one. Text keys use the "C" collation, so
/// that orders are bytewise, as in the SQLite store, whatever the database's locale.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE definitions(
  pos     bigserial NOT NULL,
  kind    text COLLATE "C" NOT NULL,
  id      text COLLATE "C" NOT NULL,
  version integer NOT NULL,
  body    text NOT NULL,
  PRIMARY KEY(kind, id, version)
);
CREATE TABLE cases(
  id            text COLLATE "C" PRIMARY KEY,
  seq           bigserial NOT NULL UNIQUE,
  version       bigint NOT NULL,
  type          text COLLATE "C" NOT NULL,
  type_version  integer NOT NULL,
  status        text COLLATE "C" NOT NULL,
  owner         text COLLATE "C" NOT NULL,
  priority      integer NOT NULL,
  customer      text COLLATE "C" NOT NULL,
  title         text NOT NULL,
  next_due      bigint,
  next_deadline bigint,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL,
  -- The feed key of the case's last commit (docs/storage.md, "The event feed"):
  -- GREATEST(the writing transaction's id, the previous feed_x), so never below an earlier
  -- version's key.
  feed_x        xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX cases_next_due   ON cases(next_due, id) WHERE next_due IS NOT NULL;
CREATE INDEX cases_customer   ON cases(customer, status);
CREATE INDEX cases_status_seq ON cases(status, seq);
CREATE INDEX cases_owner_seq  ON cases(owner, status, seq);
CREATE TABLE events(
  case_id text COLLATE "C" NOT NULL,
  seq     bigint NOT NULL,
  time    bigint NOT NULL,
  actor   text NOT NULL,
  kind    text NOT NULL,
  payload text NOT NULL,
  txid    xid8 NOT NULL DEFAULT pg_current_xact_id(),  -- the writing transaction
  feed_x  xid8 NOT NULL,                               -- the case's feed_x after this commit
  PRIMARY KEY(case_id, seq)
);
CREATE INDEX events_feed ON events(feed_x, case_id, seq);
CREATE TABLE snapshots(
  case_id text COLLATE "C" PRIMARY KEY,
  version bigint NOT NULL,
  data    bytea NOT NULL
);
CREATE TABLE work_items(
  case_id       text COLLATE "C" NOT NULL,
  item_id       text COLLATE "C" NOT NULL,
  name          text NOT NULL,
  state         text NOT NULL,
  assignee      text COLLATE "C" NOT NULL,
  role          text COLLATE "C" NOT NULL,
  skills        text[] NOT NULL,
  due           bigint,
  priority      integer NOT NULL,
  case_title    text NOT NULL,
  customer      text NOT NULL,
  goal          text NOT NULL,
  goal_deadline bigint,
  goal_timing   text NOT NULL,
  PRIMARY KEY(case_id, item_id)
);
CREATE INDEX work_items_mine ON work_items(assignee, priority DESC, (COALESCE(due, 9223372036854775807)), case_id, item_id);
CREATE INDEX work_items_team ON work_items(role, assignee, priority DESC, (COALESCE(due, 9223372036854775807)), case_id, item_id);
CREATE INDEX work_items_all  ON work_items(priority DESC, (COALESCE(due, 9223372036854775807)), case_id, item_id);
CREATE INDEX work_items_due  ON work_items(due) WHERE due IS NOT NULL;
CREATE TABLE idempotency(
  key        text COLLATE "C" PRIMARY KEY,
  case_id    text NOT NULL,
  result     text NOT NULL,
  created_at bigint NOT NULL
);
CREATE TABLE templates(
  name       text COLLATE "C" NOT NULL,
  version    integer NOT NULL,
  kind       text NOT NULL,
  created_at bigint NOT NULL,
  meta       text NOT NULL,
  data       bytea NOT NULL,
  PRIMARY KEY(name, version)
);
CREATE TABLE intake_log(
  seq      bigint PRIMARY KEY,
  event_id text COLLATE "C" NOT NULL,
  time     bigint NOT NULL,
  channel  text NOT NULL,
  customer text NOT NULL,
  rule     text NOT NULL,
  action   text NOT NULL,
  case_id  text NOT NULL,
  reason   text NOT NULL,
  event    text NOT NULL
);
CREATE INDEX intake_log_event ON intake_log(event_id);
-- The failed version check of a commit: raised inside the commit's transaction, so that
-- nothing of it is written (SQLSTATE AC001 is ErrorCode::conflict).
CREATE FUNCTION acm_version_conflict(case_id text, expected bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  SELECT version INTO v FROM cases WHERE id = case_id;
  IF v IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'AC001', MESSAGE = format('case ''%s'' does not exist', case_id);
  END IF;
  RAISE EXCEPTION USING ERRCODE = 'AC001', MESSAGE = format('case ''%s'' is at version %s, not %s', case_id, v, expected);
END $$;
)sql";

constexpr const char* kMigrations[] = {kSchemaV1};

constexpr const char* kCaseColumns =
    "id, version, type, type_version, status, owner, priority, customer, title, next_due, next_deadline, "
    "created_at, updated_at";


std::string array_literal(const std::vector<std::string>& v) {
  std::string out = "{";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : v[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

/// Parses a text[] column in PostgreSQL's output format.
std::vector<std::string> parse_array(std::string_view t) {
  std::vector<std::string> out;
  if (t.size() < 2 || t.front() != '{' || t.back() != '}')
    throw Error(ErrorCode::storage, fmt::format("PostgreSQL: '{}' is not an array", t));
  std::size_t i = 1;
  const std::size_t end = t.size() - 1;
  while (i < end) {
    std::string item;
    if (t[i] == '"') {
      ++i;
      while (i < end && t[i] != '"') {
        if (t[i] == '\\' && i + 1 < end) ++i;
        item += t[i++];
      }
      ++i;  // closing quote
    } else {
      while (i < end && t[i] != ',') item += t[i++];
    }
    out.push_back(std::move(item));
    if (i < end && t[i] == ',') ++i;
  }
  return out;
}

Json parse_json(std::string_view text, std::string_view what) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    throw Error(ErrorCode::storage, fmt::format("PostgreSQL: a stored {} is not JSON: {}", what, e.what()));
  }
}

template <class E, int N>
E parse_enum(std::string_view t, std::string_view what) {
  for (int i = 0; i < N; ++i)
    if (to_string(static_cast<E>(i)) == t) return static_cast<E>(i);
  throw Error(ErrorCode::storage, fmt::format("PostgreSQL: a stored {} is '{}', which this build does not know", what, t));
}
CaseStatus case_status(std::string_view t) { return parse_enum<CaseStatus, 5>(t, "case status"); }
ItemState item_state(std::string_view t) { return parse_enum<ItemState, 8>(t, "item state"); }
Timing timing(std::string_view t) { return t.empty() ? Timing::on_track : parse_enum<Timing, 3>(t, "goal timing"); }

CaseRow case_of(const pq::Result& r, int row) {
  CaseRow c;
  c.id = r.str(row, 0);
  c.version = static_cast<std::uint64_t>(r.int64(row, 1));
  c.type = r.str(row, 2);
  c.type_version = static_cast<int>(r.int64(row, 3));
  c.status = case_status(r.text(row, 4));
  c.owner = r.str(row, 5);
  c.priority = static_cast<int>(r.int64(row, 6));
  c.customer = r.str(row, 7);
  c.title = r.str(row, 8);
  c.next_due = r.time(row, 9);
  c.next_deadline = r.time(row, 10);
  c.created_at = *r.time(row, 11);
  c.updated_at = *r.time(row, 12);
  return c;
}

Event event_of(const pq::Result& r, int row, int first = 0) {
  Event e;
  e.case_id = r.str(row, first);
  e.seq = static_cast<std::uint64_t>(r.int64(row, first + 1));
  e.time = *r.time(row, first + 2);
  e.actor = r.str(row, first + 3);
  e.kind = r.str(row, first + 4);
  try {
    e.payload = Json::parse(r.text(row, first + 5));
  } catch (const Json::exception& x) {
    throw Error(ErrorCode::storage, fmt::format("PostgreSQL: event {} of case '{}' is damaged: its payload is not JSON "
                                                "({})",
                                                e.seq, e.case_id, x.what()));
  }
  return e;
}

WorkItem work_of(const pq::Result& r, int row) {
  WorkItem w;
  w.case_id = r.str(row, 0);
  w.item_id = r.str(row, 1);
  w.name = r.str(row, 2);
  w.state = item_state(r.text(row, 3));
  w.assignee = r.str(row, 4);
  w.role = r.str(row, 5);
  w.skills = parse_array(r.text(row, 6));
  w.due = r.time(row, 7);
  w.priority = static_cast<int>(r.int64(row, 8));
  w.case_title = r.str(row, 9);
  w.customer = r.str(row, 10);
  w.goal = r.str(row, 11);
  w.goal_deadline = r.time(row, 12);
  w.goal_timing = timing(r.text(row, 13));
  return w;
}

IntakeLogEntry intake_of_row(const pq::Result& r, int row) {
  IntakeLogEntry x;
  x.seq = static_cast<std::uint64_t>(r.int64(row, 0));
  x.event_id = r.str(row, 1);
  x.time = *r.time(row, 2);
  x.channel = r.str(row, 3);
  x.customer = r.str(row, 4);
  x.rule = r.str(row, 5);
  x.action = r.str(row, 6);
  x.case_id = r.str(row, 7);
  x.reason = r.str(row, 8);
  x.event = parse_json(r.text(row, 9), "intake event");
  return x;
}

constexpr const char* kIntakeColumns = "seq, event_id, time, channel, customer, rule, action, case_id, reason, event";

class PostgresStore;
class PgClaim;

/// A connection borrowed from the pool; returned on destruction (dropped if it broke).
class Lease {
 public:
  Lease(PostgresStore& store, std::unique_ptr<pq::Connection> c) : store_(&store), c_(std::move(c)) {}
  Lease(Lease&& o) noexcept : store_(o.store_), c_(std::move(o.c_)) {}
  ~Lease();
  pq::Connection* operator->() { return c_.get(); }
  pq::Connection& operator*() { return *c_; }

 private:
  PostgresStore* store_;
  std::unique_ptr<pq::Connection> c_;
};

class PostgresStore final : public CaseStore, public TemplateStore, public IntakeLogStore {
 public:
  explicit PostgresStore(PostgresStoreOptions o) : options_(std::move(o)) {
    if (options_.connections == 0) options_.connections = 1;
    auto c = connect();
    migrate(*c);
    idle_.push_back(std::move(c));
  }

  // ---- the pool ----
  std::unique_ptr<pq::Connection> connect() {
    auto c = std::make_unique<pq::Connection>(options_.conninfo);
    return c;
  }

  void prepare_all(pq::Connection& c) {
    for (const auto& s : pg::kStatements) c.prepare(s.name, s.sql);
  }

  Lease lease() {
    std::unique_lock lk(pool_mutex_);
    pool_cv_.wait(lk, [&] { return !idle_.empty() || open_ < options_.connections; });
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(c));
    }
    ++open_;
    lk.unlock();
    try {
      auto c = connect();
      prepare_all(*c);
      return Lease(*this, std::move(c));
    } catch (...) {
      lk.lock();
      --open_;
      pool_cv_.notify_one();
      throw;
    }
  }

  void give_back(std::unique_ptr<pq::Connection> c) {
    std::lock_guard lk(pool_mutex_);
    if (c && c->ok() && PQtransactionStatus(c->raw()) == PQTRANS_IDLE) {
      idle_.push_back(std::move(c));
    } else {
      --open_;  // a broken connection (or one left in a transaction): closed, a new one opens on demand
      c.reset();
    }
    pool_cv_.notify_one();
  }

  // ---- schema ----
  void migrate(pq::Connection& c) {
    c.exec("BEGIN");
    try {
      // One process at a time creates or migrates the schema (of this search_path's schema).
      c.exec("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.acm.migrate'))");
      c.exec("CREATE TABLE IF NOT EXISTS acm_meta(key text PRIMARY KEY, value text NOT NULL)");
      auto r = c.exec("SELECT value FROM acm_meta WHERE key = 'schema_version'");
      int have = r.rows() ? std::atoi(r.str(0, 0).c_str()) : 0;
      if (have > kSchemaVersion)
        throw Error(ErrorCode::storage, fmt::format("PostgreSQL: the acm schema version {} is newer than this build of "
                                                    "acm supports ({})",
                                                    have, kSchemaVersion));
      if (have == 0) {
        auto f = c.exec("SELECT value FROM acm_meta WHERE key = 'format'");
        if (f.rows() && f.str(0, 0) != "acm-store")
          throw Error(ErrorCode::storage, "PostgreSQL: acm_meta does not describe an acm store");
      }
      for (int v = have; v < kSchemaVersion; ++v) c.exec(kMigrations[v]);
      if (have < kSchemaVersion) {
        pq::Params p;
        p.text(std::to_string(kSchemaVersion)).text(std::string(acm::version()));
        c.exec(
            "INSERT INTO acm_meta(key, value) VALUES ('format', 'acm-store'), ('schema_version', $1), "
            "('acm_version', $2), ('migrated_at', now()::text) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            p);
      }
      c.exec("COMMIT");
    } catch (...) {
      try {
        c.exec("ROLLBACK");
      } catch (...) {
      }
      throw;
    }
    prepare_all(c);
  }

  void require_writable() const {
    if (options_.read_only) throw Error(ErrorCode::invalid_state, "the store is open read-only");
  }

  // ---- definitions ----
  std::vector<DefinitionRecord> load_definitions() override {
    auto c = lease();
    auto r = c->exec("SELECT kind, id, version, body FROM definitions ORDER BY pos");
    std::vector<DefinitionRecord> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back({r.str(i, 0), r.str(i, 1), static_cast<int>(r.int64(i, 2)), parse_json(r.text(i, 3), "definition")});
    return out;
  }

  void save_definitions(const std::vector<DefinitionRecord>& defs) override {
    require_writable();
    auto c = lease();
    transaction(*c, [&] {
      c->exec("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.acm.definitions'))");
      for (const auto& d : defs) {
        pq::Params p;
        p.text(d.kind).text(d.id).int64(d.version);
        auto old = c->exec("SELECT body FROM definitions WHERE kind = $1 AND id = $2 AND version = $3", p);
        if (old.rows()) {
          if (parse_json(old.text(0, 0), "definition") == d.body) continue;
          throw Error(ErrorCode::already_exists, fmt::format("{} '{}' version {} is already stored with other content",
                                                             d.kind, d.id, d.version));
        }
        p.text(d.body.dump());
        c->exec("INSERT INTO definitions(kind, id, version, body) VALUES ($1, $2, $3, $4)", p);
      }
    });
  }

  template <class F>
  void transaction(pq::Connection& c, F&& f) {
    c.exec("BEGIN");
    try {
      f();
      c.exec("COMMIT");
    } catch (...) {
      try {
        if (c.ok()) c.exec("ROLLBACK");
      } catch (...) {
      }
      throw;
    }
  }

  // ---- commits ----
  StoreTraits traits() const noexcept override {
    StoreTraits t;
    t.read_only = options_.read_only;
    t.keeps_snapshots = true;
    t.wants_payload_text = true;
    t.shared = true;
    return t;
  }

  /// Sends one commit's statements (pipeline mode on).
  static void send_commit(pq::Connection& c, const CaseCommit& k) {
    const CaseRow& r = k.row;
    const auto& events = k.events;
    pq::Params p;
    p.text(r.id).int64(static_cast<std::int64_t>(r.version)).text(r.type).int64(r.type_version);
    p.text(to_string(r.status)).text(r.owner).int64(r.priority).text(r.customer).text(r.title).time(r.next_due);
    p.time(r.next_deadline);
    if (k.expected_version == 0)
      p.time(r.created_at).time(r.updated_at);
    else
      p.time(r.updated_at).int64(static_cast<std::int64_t>(k.expected_version));
    // The case row and its events in one statement: scalars for one event, arrays for more.
    if (events.size() == 1) {
      const Event& e = events[0];
      p.int64(static_cast<std::int64_t>(e.seq)).time(e.time).text(e.actor).text(e.kind);
      p.text(!k.payloads.empty() ? k.payloads[0] : e.payload.dump());
      c.send(k.expected_version == 0 ? "ins_case_ev" : "upd_case_ev", p);
    } else if (events.size() > 1) {
      std::vector<std::int64_t> seqs, times;
      std::vector<std::string_view> actors, kinds, payloads;
      std::vector<std::string> dumped;  // payloads the caller did not serialise
      if (k.payloads.size() < events.size()) {
        dumped.reserve(events.size() - k.payloads.size());
        for (std::size_t i = k.payloads.size(); i < events.size(); ++i) dumped.push_back(events[i].payload.dump());
      }
      for (std::size_t i = 0; i < events.size(); ++i) {
        const Event& e = events[i];
        seqs.push_back(static_cast<std::int64_t>(e.seq));
        times.push_back(e.time.time_since_epoch().count());
        actors.push_back(e.actor);
        kinds.push_back(e.kind);
        payloads.push_back(i < k.payloads.size() ? std::string_view(k.payloads[i])
                                                 : std::string_view(dumped[i - k.payloads.size()]));
      }
      p.int64_array(seqs).int64_array(times).text_array(actors).text_array(kinds).text_array(payloads);
      c.send(k.expected_version == 0 ? "ins_case_evs" : "upd_case_evs", p);
    } else {
      c.send(k.expected_version == 0 ? "ins_case" : "upd_case", p);
    }
    if (k.work_items) {
      pq::Params dp;
      dp.text(r.id);
      c.send("del_work", dp);
      for (const auto& w : *k.work_items) {
        pq::Params wp;
        wp.text(w.case_id).text(w.item_id).text(w.name).text(to_string(w.state)).text(w.assignee).text(w.role);
        wp.text(array_literal(w.skills)).time(w.due).int64(w.priority).text(w.case_title).text(w.customer);
        wp.text(w.goal).time(w.goal_deadline).text(w.goal.empty() ? std::string() : std::string(to_string(w.goal_timing)));
        c.send("ins_work", wp);
      }
    }
    if (k.snapshot) {
      pq::Params sp;
      sp.text(r.id).int64(static_cast<std::int64_t>(k.snapshot->version)).bytes(k.snapshot->data);
      c.send("put_snapshot", sp);
    }
    if (!k.idempotency_key.empty()) {
      pq::Params ip;
      ip.text(k.idempotency_key).text(r.id).text(k.idempotent_result.dump()).time(r.updated_at);
      c.send("ins_key", ip);
    }
  }

  /// Checks made before anything is sent. Errors: internal, invalid_argument.
  static void check(const CaseCommit& k) {
    const CaseRow& r = k.row;
    // PostgreSQL's text cannot hold NUL (pq::Params refuses it too, but only while sending, too
    // late to fail one commit of a batch on its own).
    auto no_nul = [&](std::string_view v, std::string_view what) {
      if (v.find('\0') == std::string_view::npos) return;
      const bool in_id = r.id.find('\0') != std::string::npos;
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("commit of case '{}': {} contains a NUL byte, which PostgreSQL text cannot hold",
                              in_id ? std::string("(an id with a NUL byte)") : r.id, what));
    };
    for (auto [v, what] : {std::pair<std::string_view, std::string_view>{r.id, "the case id"}, {r.type, "the case type"},
                           {r.owner, "the owner"}, {r.customer, "the customer"}, {r.title, "the title"},
                           {k.idempotency_key, "the idempotency key"}})
      no_nul(v, what);
    for (const Event& e : k.events) {
      no_nul(e.actor, "an event's actor");
      no_nul(e.kind, "an event's kind");
    }
    if (k.work_items)
      for (const auto& w : *k.work_items) {
        for (auto v : {std::string_view(w.case_id), std::string_view(w.item_id), std::string_view(w.name),
                       std::string_view(w.assignee), std::string_view(w.role), std::string_view(w.case_title),
                       std::string_view(w.customer), std::string_view(w.goal)})
          no_nul(v, "a work item's text");
        for (const auto& skill : w.skills) no_nul(skill, "a work item's skill");
      }
    if (k.expected_version + k.events.size() != r.version)
      throw Error(ErrorCode::internal, fmt::format("commit of case '{}': {} events from version {} do not reach {}",
                                                   r.id, k.events.size(), k.expected_version, r.version));
    for (std::size_t i = 0; i < k.events.size(); ++i)
      if (k.events[i].seq != k.expected_version + 1 + i)
        throw Error(ErrorCode::internal,
                    fmt::format("commit of case '{}': event {} has seq {}", r.id, i, k.events[i].seq));
    if (k.work_items) {
      std::vector<std::string> ids;
      for (const auto& w : *k.work_items) {
        if (w.case_id != r.id)
          throw Error(ErrorCode::invalid_argument,
                      fmt::format("commit of case '{}' lists a work item of case '{}'", r.id, w.case_id));
        ids.push_back(w.item_id);
      }
      std::sort(ids.begin(), ids.end());
      if (auto d = std::adjacent_find(ids.begin(), ids.end()); d != ids.end())
        throw Error(ErrorCode::invalid_argument, fmt::format("commit of case '{}' lists work item '{}' twice", r.id, *d));
    }
  }

  void commit(CaseCommit k) override {
    require_writable();
    check(k);
    auto c = lease();
    c->begin_pipeline();
    try {
      send_commit(*c, k);
    } catch (...) {
      c->close();  // never synced: the server rolls it back
      throw;
    }
    c->end_pipeline();
  }

  /// A batch: all in one transaction (one round trip); if any commit fails, each is written
  /// on its own, so that each succeeds or fails as commit() would.
  std::unique_ptr<PendingBatch> submit_batch(std::vector<CaseCommit> commits) override {
    require_writable();
    std::vector<std::exception_ptr> errors(commits.size());
    bool together = !commits.empty();
    for (std::size_t i = 0; i < commits.size(); ++i) {
      try {
        check(commits[i]);
      } catch (...) {
        errors[i] = std::current_exception();
        together = false;
      }
    }
    if (together) {
      auto c = lease();
      c->begin_pipeline();
      try {
        for (const auto& k : commits) send_commit(*c, k);
      } catch (...) {
        c->close();
        throw;
      }
      try {
        c->end_pipeline();
        return std::make_unique<Written>(std::move(errors));
      } catch (const Error& e) {
        if (e.code() != ErrorCode::conflict && e.code() != ErrorCode::invalid_argument) {
          errors.assign(commits.size(), std::current_exception());  // nothing was written
          return std::make_unique<Written>(std::move(errors));
        }
      }
    }
    for (std::size_t i = 0; i < commits.size(); ++i) {
      if (errors[i]) continue;
      try {
        commit(std::move(commits[i]));
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
    return std::make_unique<Written>(std::move(errors));
  }

  class Written final : public PendingBatch {
   public:
    explicit Written(std::vector<std::exception_ptr> e) : errors_(std::move(e)) {}
    std::vector<std::exception_ptr> wait() override { return std::move(errors_); }

   private:
    std::vector<std::exception_ptr> errors_;
  };

  // ---- reads ----
  void load_cases(const std::vector<std::string>& ids,
                  const std::function<void(std::size_t, std::optional<LoadedCase>)>& each) override {
    if (ids.empty()) return;
    std::vector<std::string> distinct = ids;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    std::vector<pq::Result> res;
    {
      auto c = lease();
      pq::Params p;
      p.text(array_literal(distinct));
      c->begin_pipeline();
      c->send("begin_rr", {});
      c->send("cases_rows", p);
      c->send("cases_events", p);
      c->send("commit", {});
      res = c->end_pipeline();
    }
    const pq::Result& rows = res.at(1);
    const pq::Result& ev = res.at(2);
    // The statements return rows in no promised order: events grouped by case here, each
    // case's put in seq order (they usually come so already).
    std::unordered_map<std::string_view, std::vector<int>> events_of;
    for (int e = 0; e < ev.rows(); ++e) events_of[ev.text(e, 0)].push_back(e);
    std::unordered_map<std::string, std::vector<std::size_t>> where;
    for (std::size_t i = 0; i < ids.size(); ++i) where[ids[i]].push_back(i);
    std::vector<bool> done(ids.size(), false);
    for (int i = 0; i < rows.rows(); ++i) {
      LoadedCase lc;
      lc.row = case_of(rows, i);
      if (!rows.null(i, 13))
        lc.snapshot = SnapshotBlob{static_cast<std::uint64_t>(rows.int64(i, 13)), rows.bytes(i, 14)};
      if (auto found = events_of.find(lc.row.id); found != events_of.end()) {
        lc.events.reserve(found->second.size());
        for (int e : found->second) lc.events.push_back(event_of(ev, e));
        if (!std::is_sorted(lc.events.begin(), lc.events.end(),
                            [](const Event& x, const Event& y) { return x.seq < y.seq; }))
          std::sort(lc.events.begin(), lc.events.end(), [](const Event& x, const Event& y) { return x.seq < y.seq; });
      }
      auto& at = where[lc.row.id];
      for (std::size_t k = 0; k < at.size(); ++k) {
        done[at[k]] = true;
        if (k + 1 == at.size())
          each(at[k], std::move(lc));
        else
          each(at[k], lc);
      }
    }
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (!done[i]) each(i, std::nullopt);
  }

  std::optional<std::vector<Event>> load_events(const std::string& id, std::uint64_t from) override {
    auto c = lease();
    pq::Params p;
    p.text(id).int64(static_cast<std::int64_t>(std::min<std::uint64_t>(from, INT64_MAX)));
    auto r = c->exec_prepared("events_from", p);
    std::vector<Event> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(event_of(r, i));
    if (out.empty()) {
      pq::Params q;
      q.text(id);
      if (!c->exec("SELECT 1 FROM cases WHERE id = $1", q).rows()) return std::nullopt;
    }
    return out;
  }

  std::vector<std::string> case_ids(std::size_t limit, const std::string& after_id) override {
    auto c = lease();
    pq::Params p;
    p.int64(static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    pq::Result r;
    if (after_id.empty()) {
      r = c->exec("SELECT id FROM cases ORDER BY seq LIMIT $1", p);
    } else {
      p.text(after_id);
      r = c->exec("SELECT id FROM cases WHERE seq > (SELECT seq FROM cases WHERE id = $2) ORDER BY seq LIMIT $1", p);
    }
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
    return out;
  }

  /// count(*): an index-only scan of cases_seq_key (PostgreSQL keeps no exact row count; the
  /// engine calls it once when it opens).
  std::uint64_t case_count() override {
    auto c = lease();
    auto r = c->exec("SELECT count(*) FROM cases");
    return static_cast<std::uint64_t>(r.int64(0, 0));
  }

  static void due_params(pq::Params& p, TimePoint until, std::size_t limit, const std::optional<DueCase>& after) {
    p.time(until);
    if (after)
      p.time(after->due).text(after->case_id);
    else
      p.int64(INT64_MIN).text("");
    p.int64(static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  }

  std::vector<DueCase> due_cases(TimePoint until, std::size_t limit, const std::optional<DueCase>& after) override {
    auto c = lease();
    pq::Params p;
    due_params(p, until, limit, after);
    auto r = c->exec_prepared("due_keys", p);
    std::vector<DueCase> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(DueCase{*r.time(i, 0), r.str(i, 1)});
    return out;
  }

  CasePage find_cases(const CaseQuery& q) override {
    std::string where = " WHERE true";
    pq::Params p;
    int n = 0;
    if (!q.statuses.empty()) {
      std::vector<std::string> names;
      for (CaseStatus st : q.statuses) names.emplace_back(to_string(st));
      p.text(array_literal(names));
      where += fmt::format(" AND status = ANY(${}::text[])", ++n);
    }
    if (!q.owner.empty()) {
      p.text(q.owner);
      where += fmt::format(" AND owner = ${}", ++n);
    }
    if (!q.customer.empty()) {
      p.text(q.customer);
      where += fmt::format(" AND customer = ${}", ++n);
    }
    pq::Params pp = p;
    pp.int64(static_cast<std::int64_t>(std::min<std::size_t>(q.limit, INT64_MAX)));
    pp.int64(static_cast<std::int64_t>(std::min<std::size_t>(q.offset, INT64_MAX)));
    auto c = lease();
    c->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");  // the page and its total agree
    pq::Result total, r;
    try {
      total = c->exec("SELECT count(*) FROM cases" + where, p);
      r = c->exec(fmt::format("SELECT {} FROM cases{} ORDER BY seq DESC LIMIT ${} OFFSET ${}", kCaseColumns, where,
                              n + 1, n + 2),
                  pp);
      c->exec("COMMIT");
    } catch (...) {
      if (c->ok()) c->exec("ROLLBACK");
      throw;
    }
    CasePage out;
    for (int i = 0; i < r.rows(); ++i) out.cases.push_back(case_of(r, i));
    out.total = static_cast<std::uint64_t>(total.int64(0, 0));
    return out;
  }

  /// The WHERE clause of a queue query and its parameters.
  static std::string queue_where(const QueueFilter& q, pq::Params& p, int& n) {
    std::string where = " WHERE true";
    if (q.overdue_at) {
      p.time(q.overdue_at);
      where += fmt::format(" AND due IS NOT NULL AND due < ${}", ++n);
    }
    if (!q.assignee.empty() || !q.roles.empty()) {
      std::string mine = "false", team = "false";
      if (!q.assignee.empty()) {
        p.text(q.assignee);
        mine = fmt::format("assignee = ${}", ++n);
      }
      if (!q.roles.empty()) {
        p.text(array_literal(q.roles));
        team = fmt::format("(assignee = '' AND role = ANY(${}::text[])", ++n);
        if (q.skills) {
          p.text(array_literal(*q.skills));
          team += fmt::format(" AND skills <@ ${}::text[]", ++n);
        }
        team += ")";
      }
      where += fmt::format(" AND ({} OR {})", mine, team);
    }
    return where;
  }

  QueuePage work_items(const QueueFilter& q, bool with_total) override {
    pq::Params p;
    int n = 0;
    std::string where = queue_where(q, p, n);
    pq::Params pp = p;
    pp.int64(static_cast<std::int64_t>(std::min<std::size_t>(q.limit, INT64_MAX)));
    pp.int64(static_cast<std::int64_t>(std::min<std::size_t>(q.offset, INT64_MAX)));
    const char* order = q.overdue_at ? "due, priority DESC, case_id, item_id"
                                     : "priority DESC, COALESCE(due, 9223372036854775807), case_id, item_id";
    const std::string page = fmt::format(
        "SELECT case_id, item_id, name, state, assignee, role, skills, due, priority, case_title, customer, goal, "
        "goal_deadline, goal_timing FROM work_items{} ORDER BY {} LIMIT ${} OFFSET ${}",
        where, order, n + 1, n + 2);
    QueuePage out;
    auto c = lease();
    pq::Result r;
    if (with_total) {
      c->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      try {
        r = c->exec(page, pp);
        out.total = static_cast<std::uint64_t>(c->exec("SELECT count(*) FROM work_items" + where, p).int64(0, 0));
        c->exec("COMMIT");
      } catch (...) {
        if (c->ok()) c->exec("ROLLBACK");
        throw;
      }
    } else {
      r = c->exec(page, pp);
    }
    for (int i = 0; i < r.rows(); ++i) out.items.push_back(work_of(r, i));
    return out;
  }

  std::optional<Json> idempotent_result(const std::string& key) override {
    auto c = lease();
    pq::Params p;
    p.text(key);
    auto r = c->exec("SELECT result FROM idempotency WHERE key = $1", p);
    if (!r.rows()) return std::nullopt;
    return parse_json(r.text(0, 0), "idempotent result");
  }

  TemplateStore* templates() noexcept override { return this; }
  IntakeLogStore* intake_log() noexcept override { return this; }

  // ---- templates ----
  int put(const TemplateInfo& t, const std::string& data) override {
    if (t.name.empty()) throw Error(ErrorCode::invalid_argument, "a template needs a name");
    if (t.version < 0) throw Error(ErrorCode::invalid_argument, fmt::format("template version {} is negative", t.version));
    require_writable();
    auto c = lease();
    int version = t.version;
    transaction(*c, [&] {
      pq::Params lp;
      lp.text(t.name);
      c->exec("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.acm.template.' || $1))", lp);
      if (version == 0) {
        auto r = c->exec("SELECT COALESCE(max(version), 0) + 1 FROM templates WHERE name = $1", lp);
        version = static_cast<int>(r.int64(0, 0));
      } else {
        pq::Params q;
        q.text(t.name).int64(version);
        if (c->exec("SELECT 1 FROM templates WHERE name = $1 AND version = $2", q).rows())
          throw Error(ErrorCode::already_exists, fmt::format("template '{}' version {} exists", t.name, version));
      }
      pq::Params p;
      p.text(t.name).int64(version).text(t.kind).time(t.created_at).text(t.meta.dump()).bytes(data);
      c->exec("INSERT INTO templates(name, version, kind, created_at, meta, data) VALUES ($1, $2, $3, $4, $5, $6)", p);
    });
    return version;
  }

  static TemplateInfo template_of(const pq::Result& r, int i) {
    TemplateInfo t;
    t.name = r.str(i, 0);
    t.version = static_cast<int>(r.int64(i, 1));
    t.kind = r.str(i, 2);
    t.created_at = *r.time(i, 3);
    t.meta = parse_json(r.text(i, 4), "template description");
    return t;
  }

  std::optional<std::pair<TemplateInfo, std::string>> find(const std::string& name, int version) override {
    auto c = lease();
    pq::Params p;
    p.text(name);
    pq::Result r;
    if (version == 0) {
      r = c->exec("SELECT name, version, kind, created_at, meta, data FROM templates WHERE name = $1 ORDER BY version "
                  "DESC LIMIT 1",
                  p);
    } else {
      p.int64(version);
      r = c->exec("SELECT name, version, kind, created_at, meta, data FROM templates WHERE name = $1 AND version = $2",
                  p);
    }
    if (!r.rows()) return std::nullopt;
    return std::make_pair(template_of(r, 0), r.bytes(0, 5));
  }

  std::vector<TemplateInfo> list() override {
    auto c = lease();
    auto r = c->exec("SELECT name, version, kind, created_at, meta FROM templates ORDER BY name, version");
    std::vector<TemplateInfo> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(template_of(r, i));
    return out;
  }

  // ---- the intake log ----
  void append(std::vector<IntakeLogEntry>& records) override {
    require_writable();
    if (records.empty()) return;
    auto c = lease();
    std::vector<std::uint64_t> seqs;
    transaction(*c, [&] {
      c->exec("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.acm.intake'))");
      auto r = c->exec("SELECT COALESCE(max(seq), 0) FROM intake_log");
      std::uint64_t next = static_cast<std::uint64_t>(r.int64(0, 0));
      for (auto& x : records) {
        pq::Params p;
        p.int64(static_cast<std::int64_t>(++next)).text(x.event_id).time(x.time).text(x.channel).text(x.customer);
        p.text(x.rule).text(x.action).text(x.case_id).text(x.reason).text(x.event.dump());
        c->exec(fmt::format("INSERT INTO intake_log({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", kIntakeColumns),
                p);
        seqs.push_back(next);
      }
    });
    for (std::size_t i = 0; i < records.size(); ++i) records[i].seq = seqs[i];
  }

  std::vector<IntakeLogEntry> of_event(const std::string& event_id) override {
    auto c = lease();
    pq::Params p;
    p.text(event_id);
    auto r = c->exec(fmt::format("SELECT {} FROM intake_log WHERE event_id = $1 ORDER BY seq", kIntakeColumns), p);
    std::vector<IntakeLogEntry> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(intake_of_row(r, i));
    return out;
  }

  std::vector<IntakeLogEntry> page(std::size_t limit, std::uint64_t after) override {
    auto c = lease();
    pq::Params p;
    p.int64(static_cast<std::int64_t>(std::min<std::uint64_t>(after, INT64_MAX)));
    p.int64(static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    auto r = c->exec(fmt::format("SELECT {} FROM intake_log WHERE seq > $1 ORDER BY seq LIMIT $2", kIntakeColumns), p);
    std::vector<IntakeLogEntry> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(intake_of_row(r, i));
    return out;
  }

  // ---- the feed ----
  /// Positions are "<feed_x>:<seq>:<case id>". Order: (feed_x, case_id, seq), where a
  /// commit's feed_x = GREATEST(its transaction id, the case's previous feed_x): never below
  /// an earlier version's key, and never below the writer's own id. One statement returns only
  /// keys below its own snapshot's xmin: every transaction with a smaller id has ended, and a
  /// transaction that has not ended has an id >= xmin, so it can only add keys >= xmin. The
  /// rows below the horizon are therefore final when read, and keyset paging over them misses
  /// and repeats nothing (the proof: docs/storage.md, "The event feed"). The reader runs one
  /// autocommit SELECT, which takes no transaction id, so it never holds the horizon back.
  std::vector<FeedEntry> read_feed(const std::string& after, std::size_t limit) override {
    std::string txid = "0", case_id;
    std::int64_t seq = 0;
    if (!after.empty()) {
      auto a = after.find(':'), b = a == std::string::npos ? a : after.find(':', a + 1);
      bool ok = b != std::string::npos && a > 0 && b > a + 1;
      if (ok) {
        txid = after.substr(0, a);
        ok = txid.find_first_not_of("0123456789") == std::string::npos;
        std::string s = after.substr(a + 1, b - a - 1);
        ok = ok && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 19;
        if (ok) seq = std::stoll(s);
        case_id = after.substr(b + 1);
      }
      if (!ok) throw Error(ErrorCode::invalid_argument, fmt::format("'{}' is not a position of the event feed", after));
    }
    auto c = lease();
    pq::Params p;
    p.text(txid).text(case_id).int64(seq).int64(static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    auto r = c->exec_prepared("feed", p);
    std::vector<FeedEntry> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      Event e = event_of(r, i, 1);
      std::string pos = fmt::format("{}:{}:{}", r.text(i, 0), e.seq, e.case_id);
      out.push_back({std::move(pos), std::move(e)});
    }
    return out;
  }

  std::string feed_end() override {
    auto c = lease();
    auto r = c->exec_prepared("feed_end", pq::Params{});
    if (r.rows() == 0) return {};
    return fmt::format("{}:{}:{}", r.text(0, 0), r.int64(0, 1), r.text(0, 2));
  }

  // ---- timer claims ----
  std::unique_ptr<DueClaim> claim_due(TimePoint until, std::size_t limit,
                                      const std::optional<DueCase>& after) override;

 private:
  friend class Lease;
  friend class PgClaim;
  PostgresStoreOptions options_;
  std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<pq::Connection>> idle_;
  std::size_t open_ = 1;
};

Lease::~Lease() {
  if (c_) store_->give_back(std::move(c_));
}

/// A claim: its connection holds the open transaction whose row locks are the claims.
class PgClaim final : public DueClaim {
 public:
  explicit PgClaim(Lease c) : c_(std::move(c)) {}
  ~PgClaim() override {
    if (open_) {
      try {
        c_->exec("ROLLBACK");  // releases the claims
      } catch (...) {
        c_->close();  // the server rolls back when the connection goes
      }
    }
  }

  std::vector<std::exception_ptr> commit(std::vector<CaseCommit> commits) override {
    std::vector<std::exception_ptr> errors(commits.size());
    open_ = false;
    try {
      for (const auto& k : commits) {
        PostgresStore::check(k);
        auto at = std::lower_bound(cases.begin(), cases.end(), k.row.id,
                                   [](const auto& x, const std::string& id) { return x.first < id; });
        if (at == cases.end() || at->first != k.row.id) throw Error(ErrorCode::internal, fmt::format("case '{}' is not part of this claim", k.row.id));
      }
      c_->begin_pipeline();
      try {
        for (const auto& k : commits) PostgresStore::send_commit(*c_, k);
      } catch (...) {
        c_->close();  // never synced: rolled back by the server
        throw;
      }
      c_->send("commit", {});
      c_->end_pipeline();
    } catch (...) {
      if (c_->ok() && PQtransactionStatus(c_->raw()) != PQTRANS_IDLE) {
        try {
          c_->exec("ROLLBACK");
        } catch (...) {
          c_->close();
        }
      }
      errors.assign(commits.size(), std::current_exception());
    }
    return errors;
  }

  bool open_ = true;

 private:
  Lease c_;
};

std::unique_ptr<DueClaim> PostgresStore::claim_due(TimePoint until, std::size_t limit,
                                                   const std::optional<DueCase>& after) {
  require_writable();
  Lease c = lease();
  pq::Params p;
  due_params(p, until, limit, after);
  c->begin_pipeline();
  c->send("begin", {});
  c->send("claim", p);
  auto res = c->end_pipeline();  // an error rolled the transaction back (end_pipeline)
  auto claim = std::make_unique<PgClaim>(std::move(c));
  const pq::Result& rows = res.at(1);
  if (rows.rows() > 0) claim->next = DueCase{*rows.time(rows.rows() - 1, 2), rows.str(rows.rows() - 1, 0)};
  for (int i = 0; i < rows.rows(); ++i)
    claim->cases.emplace_back(rows.str(i, 0), static_cast<std::uint64_t>(rows.int64(i, 1)));
  std::sort(claim->cases.begin(), claim->cases.end());
  return claim;
}

}  // namespace

bool is_postgres_database(const std::string& db) {
  if (db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0) return true;
  auto eq = db.find('=');
  if (eq == std::string::npos) return false;
  std::string key(db.substr(0, eq));
  while (!key.empty() && key.front() == ' ') key.erase(key.begin());
  while (!key.empty() && key.back() == ' ') key.pop_back();
  if (key.empty()) return false;
  PQconninfoOption* opts = PQconndefaults();
  bool known = false;
  for (PQconninfoOption* o = opts; o && o->keyword; ++o)
    if (key == o->keyword) known = true;
  PQconninfoFree(opts);
  return known;
}

std::shared_ptr<CaseStore> open_postgres_store(const PostgresStoreOptions& options) {
  return std::make_shared<PostgresStore>(options);
}

}  // namespace acm
