// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL store (src/store/postgres) against a real server started by the ctest fixture
// `postgres` (tests/postgres/pg_fixture.sh). Several store objects on one database stand for
// several processes: each has its own connections.
#include <acm/error.hpp>
#include <acm/time.hpp>

#include <acm/store.hpp>

#include "pg_support.hpp"
#include "support.hpp"
#include "store/postgres/statements.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

using namespace acm;
using acm::test::code_of;
using acm::test::error_of;
using acm::test::kept;

namespace {

const TimePoint kT0 = parse_time("2026-11-23T09:00:00Z");
TimePoint at(std::int64_t ms) { return kT0 + Duration{ms}; }

std::shared_ptr<CaseStore> open(const std::string& db, std::size_t connections = 4) {
  PostgresStoreOptions o;
  o.conninfo = db;
  o.connections = connections;
  return open_postgres_store(o);
}


std::optional<CaseRow> row_of(CaseStore& s, const std::string& id) {
  CaseQuery q;
  q.limit = 10000;
  for (auto& c : s.find_cases(q).cases)
    if (c.id == id) {
      auto loaded = s.load_case(id);
      return loaded ? std::optional<CaseRow>(loaded->row) : std::nullopt;
    }
  return std::nullopt;
}

Event event(const std::string& case_id, std::uint64_t seq, const std::string& kind = "note") {
  Event e;
  e.case_id = case_id;
  e.seq = seq;
  e.time = at(static_cast<std::int64_t>(seq));
  e.actor = "ann";
  e.kind = kind;
  e.payload = Json{{"n", seq}, {"text", "quote \" and \\ backslash"}};
  return e;
}

/// A commit taking `id` from version `from` by `n` events.
CaseCommit commit_of(const std::string& id, std::uint64_t from, std::uint64_t n = 1) {
  CaseCommit c;
  c.row.id = id;
  c.row.version = from + n;
  c.row.type = "t";
  c.row.status = CaseStatus::active;
  c.row.owner = "ann";
  c.row.title = "Title of " + id;
  c.row.created_at = at(0);
  c.row.updated_at = at(static_cast<std::int64_t>(from + n));
  c.expected_version = from;
  std::vector<Event> events;
  for (std::uint64_t i = 1; i <= n; ++i) events.push_back(event(id, from + i));
  c.events = kept(std::move(events));
  return c;
}


}  // namespace

TEST_CASE("postgres store: a commit is read back whole, a stale version is a conflict that writes nothing") {
  const std::string db = test::fresh_postgres_database();
  auto a = open(db);
  auto b = open(db);  // another process
  a->commit(commit_of("c1", 0, 3));
  auto loaded = b->load_case("c1");
  REQUIRE(loaded);
  CHECK(loaded->row.version == 3);
  CHECK(loaded->row.title == "Title of c1");
  REQUIRE(loaded->events.size() == 3);
  CHECK(loaded->events[2].seq == 3);
  CHECK(loaded->events[0].payload == event("c1", 1).payload);
  CHECK(loaded->events[1].time == at(2));

  // b commits version 4; a, still believing version 3, is refused and writes nothing.
  b->commit(commit_of("c1", 3));
  CaseCommit stale = commit_of("c1", 3, 2);
  stale.idempotency_key = "k-stale";
  stale.idempotent_result = Json{{"x", 1}};
  const auto stale_error = error_of([&] { a->commit(stale); });
  CHECK(stale_error.code == ErrorCode::conflict);
  CHECK(stale_error.message.find("is at version 4, not 3") != std::string::npos);
  CHECK(row_of(*a, "c1")->version == 4);
  CHECK(a->load_events("c1", 1)->size() == 4);
  CHECK_FALSE(a->load_events("none", 1));
  CHECK_FALSE(a->idempotent_result("k-stale"));

  // A new case whose id exists: conflict. A case that does not exist: conflict.
  CHECK(code_of([&] { a->commit(commit_of("c1", 0)); }) == ErrorCode::conflict);
  CHECK(code_of([&] { a->commit(commit_of("nope", 5)); }) == ErrorCode::conflict);
  CHECK_FALSE(a->load_case("nope"));
  CHECK(a->case_count() == 1);
}

TEST_CASE("postgres store: text with a NUL byte is refused naming the problem, and nothing of the commit is written") {
  // PostgreSQL's text cannot hold NUL; a text parameter is a C string that a NUL would cut short.
  const std::string db = test::fresh_postgres_database();
  auto s = open(db, 1);  // one connection: it must stay usable after each refusal
  s->commit(commit_of("c1", 0, 2));
  const std::string nul("a\0b", 3);
  auto refused = [&](const CaseCommit& c) {
    const auto e = error_of([&] { s->commit(c); });
    CHECK_MESSAGE(e.code == ErrorCode::invalid_argument, e.message);
    CHECK(e.message.find("NUL") != std::string::npos);
  };
  CaseCommit one = commit_of("c1", 2, 1);  // one event: scalar parameters
  std::vector<Event> ev1 = {event("c1", 3)};
  ev1[0].actor = nul;
  one.events = kept(std::move(ev1));
  refused(one);
  CaseCommit many = commit_of("c1", 2, 3);  // several events: array parameters
  std::vector<Event> ev3 = {event("c1", 3), event("c1", 4), event("c1", 5, nul)};
  many.events = kept(std::move(ev3));
  refused(many);
  CaseCommit title = commit_of("c2", 0, 2);  // a new case whose title holds a NUL
  title.row.title = nul;
  refused(title);
  CHECK(s->load_events("c1", 1)->size() == 2);
  CHECK(row_of(*s, "c1")->version == 2);
  CHECK_FALSE(s->load_case("c2"));
  // In a batch, the commit with the NUL fails on its own; the others are written.
  std::vector<CaseCommit> batch = {commit_of("c3", 0, 2), title, commit_of("c4", 0, 1)};
  auto errors = s->submit_batch(std::move(batch))->wait();
  REQUIRE(errors.size() == 3);
  CHECK_FALSE(errors[0]);
  REQUIRE(errors[1]);
  CHECK(code_of([&] { std::rethrow_exception(errors[1]); }) == ErrorCode::invalid_argument);
  CHECK_FALSE(errors[2]);
  CHECK(s->load_events("c3", 1)->size() == 2);
  CHECK(s->load_events("c4", 1)->size() == 1);
  CHECK_FALSE(s->load_case("c2"));
  s->commit(commit_of("c1", 2, 3));  // the connection is still usable
  CHECK(s->load_events("c1", 1)->size() == 5);
}

TEST_CASE("postgres store: an idempotency key is used once across processes, the loser writes nothing") {
  const std::string db = test::fresh_postgres_database();
  auto a = open(db);
  auto b = open(db);
  a->commit(commit_of("c1", 0));
  b->commit(commit_of("c2", 0));
  CaseCommit first = commit_of("c1", 1);
  first.idempotency_key = "key-1";
  first.idempotent_result = Json{{"case", "c1"}, {"version", 2}};
  a->commit(first);
  CaseCommit second = commit_of("c2", 1);
  second.idempotency_key = "key-1";
  second.idempotent_result = Json{{"case", "c2"}};
  CHECK(code_of([&] { b->commit(second); }) == ErrorCode::conflict);
  CHECK(row_of(*b, "c2")->version == 1);  // nothing of the loser was written
  CHECK(b->idempotent_result("key-1") == first.idempotent_result);
}

TEST_CASE("postgres store: snapshots, work items and queues are shared") {
  const std::string db = test::fresh_postgres_database();
  auto a = open(db);
  auto b = open(db);
  CaseCommit c = commit_of("c1", 0, 2);
  c.snapshot = SnapshotBlob{2, std::string("\0\1\2binary\xff", 10)};
  WorkItem w;
  w.case_id = "c1";
  w.item_id = "review";
  w.name = "Review";
  w.state = ItemState::enabled;
  w.role = "agent";
  w.skills = {"de", "billing \"x\""};
  w.due = at(100);
  w.priority = 2;
  WorkItem mine = w;
  mine.item_id = "call";
  mine.assignee = "bob";
  mine.skills = {};
  mine.due = std::nullopt;
  c.work_items = std::vector<WorkItem>{w, mine};
  a->commit(c);
  auto loaded = b->load_case("c1");
  REQUIRE(loaded);
  REQUIRE(loaded->snapshot);
  CHECK(loaded->snapshot->data == std::string("\0\1\2binary\xff", 10));
  CHECK(loaded->events.empty());  // all events are in the snapshot
  CHECK(b->load_events("c1", 1)->size() == 2);

  QueueFilter team;
  team.roles = {"agent"};
  team.skills = std::vector<std::string>{"de", "billing \"x\"", "fr"};
  auto items = b->work_items(team, false).items;
  REQUIRE(items.size() == 1);
  CHECK(items[0] == w);
  team.skills = std::vector<std::string>{"de"};
  CHECK(b->work_items(team, false).items.empty());
  QueueFilter bob;
  bob.assignee = "bob";
  bob.roles = {"agent"};
  CHECK(b->work_items(bob, true).total == 2);
  auto both = b->work_items(bob, false).items;
  REQUIRE(both.size() == 2);
  CHECK(both[0].item_id == "review");  // due first, missing due last
  QueueFilter overdue;
  overdue.overdue_at = at(101);
  CHECK(b->work_items(overdue, false).items.size() == 1);

  // Replacing the work items removes the old ones.
  CaseCommit next = commit_of("c1", 2);
  next.work_items = std::vector<WorkItem>{mine};
  b->commit(next);
  CHECK(a->work_items(QueueFilter{}, true).total == 1);

  CaseQuery s;
  s.owner = "ann";
  s.statuses = {CaseStatus::active};
  auto found = a->find_cases(s);
  CHECK(found.total == 1);
  REQUIRE(found.cases.size() == 1);
  CHECK(found.cases[0].id == "c1");
  CHECK(found.cases[0].title == "Title of c1");
}

TEST_CASE("postgres store: definitions, templates and the intake log are shared") {
  const std::string db = test::fresh_postgres_database();
  auto a = open(db);
  auto b = open(db);
  DefinitionRecord d{"fragment", "f", 1, Json{{"id", "f"}, {"version", 1}}};
  a->save_definitions({d});
  b->save_definitions({d});  // identical: a no-op
  auto defs = b->load_definitions();
  REQUIRE(defs.size() == 1);
  CHECK(defs[0].body == d.body);
  DefinitionRecord other = d;
  other.body["name"] = "changed";
  CHECK(code_of([&] { b->save_definitions({other}); }) == ErrorCode::already_exists);

  TemplateInfo t;
  t.name = "model";
  t.kind = "next_step";
  t.created_at = at(1);
  t.meta = Json{{"cases", 3}};
  const std::string data("\x00\x01model", 7);
  REQUIRE(a->templates());
  CHECK(a->templates()->put(t, data) == 1);
  CHECK(b->templates()->put(t, data) == 2);
  auto latest = a->templates()->find("model", 0);
  REQUIRE(latest);
  CHECK(latest->first.version == 2);
  CHECK(latest->second == data);
  CHECK(a->templates()->list().size() == 2);
  t.version = 2;
  CHECK(code_of([&] { a->templates()->put(t, data); }) == ErrorCode::already_exists);

  std::vector<IntakeLogEntry> rows(2);
  rows[0].event_id = rows[1].event_id = "ev-1";
  rows[0].action = "create_case";
  rows[1].action = "attach";
  rows[0].event = rows[1].event = Json{{"id", "ev-1"}};
  a->intake_log()->append(rows);
  CHECK(rows[0].seq == 1);
  CHECK(rows[1].seq == 2);
  std::vector<IntakeLogEntry> more(1);
  more[0].event_id = "ev-2";
  more[0].event = Json::object();
  b->intake_log()->append(more);
  CHECK(more[0].seq == 3);
  CHECK(a->intake_log()->of_event("ev-1").size() == 2);
  CHECK(a->intake_log()->page(10, 1).size() == 2);
}

TEST_CASE("postgres store: due cases are claimed once, a claim that is dropped writes nothing") {
  const std::string db = test::fresh_postgres_database();
  auto a = open(db);
  auto b = open(db);
  for (int i = 0; i < 6; ++i) {
    CaseCommit c = commit_of(fmt::format("c{}", i), 0);
    c.row.next_due = at(10 + i);
    a->commit(c);
  }
  CaseStore* sa = a.get();
  CaseStore* sb = b.get();
  auto first = sa->claim_due(at(100), 4, std::nullopt);
  REQUIRE(first);
  REQUIRE(first->cases.size() == 4);
  CHECK(first->cases[0].first == "c0");
  CHECK(first->cases[0].second == 1);
  REQUIRE(first->next);
  CHECK(first->next->case_id == "c3");
  // Another process passes over what the first holds: its chunk is the next free cases.
  auto second = sb->claim_due(at(100), 2, std::nullopt);
  REQUIRE(second->cases.size() == 2);
  CHECK(second->cases[0].first == "c4");
  CHECK(second->cases[1].first == "c5");
  REQUIRE(second->next);
  CHECK(second->next->case_id == "c5");
  CHECK(sb->claim_due(at(100), 10, second->next)->cases.empty());
  // The first fires its cases; the second gives up its claim.
  std::vector<CaseCommit> firings;
  for (const auto& [id, version] : first->cases) {
    CaseCommit c = commit_of(id, version);
    c.row.next_due = std::nullopt;
    firings.push_back(c);
  }
  auto errors = first->commit(std::move(firings));
  for (auto& e : errors) CHECK_FALSE(e);
  second.reset();
  CHECK(a->due_cases(at(100), 10, std::nullopt).size() == 2);
  auto third = sb->claim_due(at(100), 10, std::nullopt);
  CHECK(third->cases.size() == 2);
  // A commit of a claimed case by another writer waits for the claim, then conflicts.
  std::atomic<bool> done{false};
  ErrorCode got = ErrorCode::internal;
  std::thread other([&] {
    got = code_of([&] { a->commit(commit_of("c4", 1)); });
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_FALSE(done.load());
  std::vector<CaseCommit> f;
  f.push_back(commit_of("c4", 1));
  CHECK_FALSE(third->commit(std::move(f))[0]);
  other.join();
  CHECK(got == ErrorCode::conflict);
  CHECK(row_of(*a, "c4")->version == 2);
}

TEST_CASE("postgres store: the event feed holds every event once, in an order consistent with versions, under "
          "concurrent commits") {
  const std::string db = test::fresh_postgres_database();
  constexpr int kWriters = 4, kCases = 6, kCommitsEach = 60;
  std::vector<std::shared_ptr<CaseStore>> stores;
  for (int i = 0; i < kWriters + 1; ++i) stores.push_back(open(db, 2));
  for (int c = 0; c < kCases; ++c) stores[0]->commit(commit_of(fmt::format("s{}", c), 0));
  std::atomic<int> running{kWriters};
  std::atomic<long> acknowledged{kCases};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w)
    writers.emplace_back([&, w] {
      std::mt19937 rng(static_cast<unsigned>(w));
      CaseStore& s = *stores[static_cast<std::size_t>(w)];
      for (int i = 0; i < kCommitsEach; ++i) {
        std::string id = fmt::format("s{}", rng() % kCases);
        for (int attempt = 0; attempt < 100; ++attempt) {
          auto rec = s.load_case(id)->row;
          const std::uint64_t n = 1 + rng() % 3;
          try {
            s.commit(commit_of(id, rec.version, n));
            acknowledged += static_cast<long>(n);
            break;
          } catch (const Error& e) {
            REQUIRE(e.code() == ErrorCode::conflict);
          }
        }
      }
      --running;
    });
  // The reader follows the feed while the writers commit.
  CaseStore* feed = stores[kWriters].get();
  std::vector<FeedEntry> seen;
  std::string cursor;
  // After the writers: until everything acknowledged arrived (a transaction elsewhere on the
  // server may hold the feed back for a moment: it never passes an unfinished transaction).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    const bool finished = running.load() == 0;
    auto page = feed->read_feed(cursor, 50);
    for (auto& e : page) {
      cursor = e.position;
      seen.push_back(std::move(e));
    }
    if (page.empty()) {
      if (finished && static_cast<long>(seen.size()) >= acknowledged.load()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  for (auto& t : writers) t.join();
  // Nothing more arrives once every writer has returned.
  CHECK(feed->read_feed(cursor, 10).empty());
  CHECK(static_cast<long>(seen.size()) == acknowledged.load());
  std::map<std::string, std::uint64_t> last;
  std::set<std::pair<std::string, std::uint64_t>> unique;
  for (const auto& e : seen) {
    CHECK(unique.insert({e.event.case_id, e.event.seq}).second);
    CHECK(e.event.seq == last[e.event.case_id] + 1);  // each case's versions in order, no gap
    last[e.event.case_id] = e.event.seq;
  }
  for (const auto& [id, v] : last) CHECK(stores[0]->load_case(id)->row.version == v);
  CHECK(code_of([&] { feed->read_feed("garbage", 1); }) == ErrorCode::invalid_argument);
}

namespace {

/// A raw libpq connection of the test (outside any store).
struct RawConnection {
  PGconn* c;
  explicit RawConnection(const std::string& db) : c(PQconnectdb(db.c_str())) {
    REQUIRE_MESSAGE(PQstatus(c) == CONNECTION_OK, PQerrorMessage(c));
  }
  ~RawConnection() { PQfinish(c); }
  /// The first column of each row of `sql`, as text.
  std::vector<std::string> query(const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    const auto st = PQresultStatus(r);
    std::vector<std::string> out;
    if (st == PGRES_TUPLES_OK)
      for (int i = 0; i < PQntuples(r); ++i) out.emplace_back(PQgetvalue(r, i, 0));
    const std::string err = PQerrorMessage(c);
    PQclear(r);
    REQUIRE_MESSAGE((st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK), sql << ": " << err);
    return out;
  }
};

/// The feed from the start in pages of `page`: until `count` events arrived (60 s at most: a
/// transaction of another test on the server may hold the feed back for a while), or, with
/// count 0, until the first empty page.
std::vector<std::pair<std::string, std::uint64_t>> whole_feed(CaseStore& s, std::size_t page,
                                                               std::size_t count = 0) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  std::string cursor;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto p = s.read_feed(cursor, page);
    for (const auto& e : p) {
      out.emplace_back(e.event.case_id, e.event.seq);
      cursor = e.position;
    }
    if (p.empty()) {
      if (out.size() >= count) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return out;
}

}  // namespace

// The interleaving that ordering by transaction id alone gets wrong: a transaction T1 takes its
// id, then waits; T2 (a higher id) commits version 2 of case c; T1 goes on and commits version
// 3 of c. By (transaction id, case, seq) version 3 would come before version 2.
TEST_CASE("postgres store: the feed keeps a case's versions in order when a lower transaction id writes the later "
          "version") {
  const std::string db = test::fresh_postgres_database();
  auto s = open(db, 4);
  s->commit(commit_of("a", 0));
  s->commit(commit_of("c", 0));
  RawConnection holder(db), watch(db);
  holder.query("BEGIN");
  holder.query("SELECT id FROM cases WHERE id = 'a' FOR UPDATE");  // T1 will wait for this lock
  // T1: one transaction writing a (version 2), then c from version 2 to 3.
  std::vector<std::exception_ptr> t1_errors;
  std::thread t1([&] {
    std::vector<CaseCommit> batch;
    batch.push_back(commit_of("a", 1));
    batch.push_back(commit_of("c", 2));
    t1_errors = s->submit_batch(std::move(batch))->wait();
  });
  // T1 has its transaction id (taken by its first update) and waits for the holder.
  const std::string holder_pid = std::to_string(PQbackendPID(holder.c));
  std::string t1_xid;
  for (int i = 0; i < 2000 && t1_xid.empty(); ++i) {
    auto x = watch.query("SELECT backend_xid::text FROM pg_stat_activity WHERE " + holder_pid +
                         " = ANY(pg_blocking_pids(pid)) AND backend_xid IS NOT NULL");
    if (!x.empty()) t1_xid = x[0];
    else std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE_MESSAGE(!t1_xid.empty(), "the batch never waited for the lock");
  // T2: version 2 of c, committed while T1 waits.
  s->commit(commit_of("c", 1));
  // T1 is still running: the feed holds everything from its id on back, so c's version 2 is
  // not shown yet (it would have to come before T1's later version of c).
  {
    const auto early = whole_feed(*s, 100);
    CHECK(std::find(early.begin(), early.end(), std::make_pair(std::string("c"), std::uint64_t{2})) == early.end());
  }
  holder.query("COMMIT");
  t1.join();
  REQUIRE(t1_errors.size() == 2);
  CHECK_FALSE(t1_errors[0]);
  CHECK_FALSE(t1_errors[1]);
  // The interleaving happened: version 3 of c was written by a lower transaction id than version 2.
  const auto ids = watch.query("SELECT txid::text FROM events WHERE case_id = 'c' ORDER BY seq");
  REQUIRE(ids.size() == 3);
  CHECK(std::stoull(ids[2]) < std::stoull(ids[1]));
  CHECK(ids[2] == t1_xid);
  // The feed: every event once, each case's versions in order, read whole or one by one.
  for (std::size_t page : {std::size_t{100}, std::size_t{1}}) {
    CAPTURE(page);
    const auto feed = whole_feed(*s, page, 5);
    REQUIRE(feed.size() == 5);
    std::map<std::string, std::uint64_t> last;
    for (const auto& [id, seq] : feed) {
      CHECK(seq == last[id] + 1);
      last[id] = seq;
    }
    CHECK(last["a"] == 2);
    CHECK(last["c"] == 3);
  }
}

// The first cut sorted by the text output column (ORDER BY txid with txid::text selected), so
// "10000" came before "9999" and pages were out of order once ids grew a digit: readers then
// skipped and repeated events. Here the keys of one case are rewritten to a one-digit id (as if
// written by transaction 7) while the others have ids of 3 or more digits.
TEST_CASE("postgres store: the feed orders keys as numbers, not as text") {
  const std::string db = test::fresh_postgres_database();
  auto s = open(db, 2);
  s->commit(commit_of("x", 0, 2));
  s->commit(commit_of("y", 0, 2));
  test::postgres_exec(db, "UPDATE events SET feed_x = '7' WHERE case_id = 'y'");
  test::postgres_exec(db, "UPDATE cases SET feed_x = '7' WHERE id = 'y'");
  for (std::size_t page : {std::size_t{100}, std::size_t{1}}) {
    const auto feed = whole_feed(*s, page, 4);
    const std::vector<std::pair<std::string, std::uint64_t>> expected = {{"y", 1}, {"y", 2}, {"x", 1}, {"x", 2}};
    CHECK(feed == expected);
  }
  // A later commit of y gets its own (larger) transaction id and comes last.
  s->commit(commit_of("y", 2));
  const auto feed = whole_feed(*s, 1, 5);
  REQUIRE(feed.size() == 5);
  CHECK(feed.back() == std::make_pair(std::string("y"), std::uint64_t{3}));
}

TEST_CASE("postgres store: a database that cannot be reached is Error(storage) naming the problem") {
  PostgresStoreOptions o;
  o.conninfo = "postgresql:///acm_test?host=/nonexistent-dir&connect_timeout=2";
  try {
    open_postgres_store(o);
    FAIL("opened");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::storage);
    CHECK(std::string(e.what()).find("cannot connect") != std::string::npos);
  }
  CHECK(is_postgres_database("postgresql://localhost/x"));
  CHECK(is_postgres_database("host=/tmp dbname=acm"));
  CHECK_FALSE(is_postgres_database("cases.db"));
  CHECK_FALSE(is_postgres_database("my=file.db"));
}

namespace {

/// The plan the server makes for the store's statement `name` with the given parameters (a
/// SQL list of literals), generic or custom (plan_cache_mode), as text.
std::string plan_of(const std::string& db, const char* name, const std::string& args, bool generic) {
  const char* sql = pg::statement_sql(name);
  REQUIRE_MESSAGE(sql != nullptr, "no statement " << name);
  PGconn* c = PQconnectdb(db.c_str());
  REQUIRE(PQstatus(c) == CONNECTION_OK);
  auto run = [&](const std::string& q) {
    PGresult* r = PQexec(c, q.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    std::string out;
    for (int i = 0; ok && i < PQntuples(r); ++i) out += std::string(PQgetvalue(r, i, 0)) + "\n";
    std::string err = PQerrorMessage(c);
    PQclear(r);
    REQUIRE_MESSAGE(ok, q << ": " << err);
    return out;
  };
  run(fmt::format("SET plan_cache_mode = {}", generic ? "force_generic_plan" : "force_custom_plan"));
  run(fmt::format("PREPARE s AS {}", sql));
  std::string plan = run(fmt::format("EXPLAIN EXECUTE s({})", args));
  PQfinish(c);
  return plan;
}

}  // namespace

TEST_CASE("postgres store: claiming and loading a chunk of cases go through the indexes") {
  // run_due claims each chunk of due cases with one statement and loads them with another.
  // Written as joins ("id IN (SELECT ...)", "cases.id = ANY(ids)"), the server planned both
  // over sequential scans: every chunk read every case and every event of every case.
  const std::string db = test::fresh_postgres_database();
  auto s = open(db);
  for (int i = 0; i < 4; ++i) s->commit(commit_of(fmt::format("c{:05}", i), 0, 3));
  // Many more cases, as a long-lived database has (written directly: faster than commits).
  test::postgres_exec(db, R"sql(
    INSERT INTO cases(id, version, type, type_version, status, owner, priority, customer, title, created_at, updated_at)
      SELECT 'k' || lpad(g::text, 6, '0'), 5, 't', 0, 'active', 'ann', 0, '', 'bulk', 0, 0 FROM generate_series(1, 20000) g;
    INSERT INTO events(case_id, seq, time, actor, kind, payload, feed_x)
      SELECT 'k' || lpad(g::text, 6, '0'), n, 0, 'ann', 'note', '{}', pg_current_xact_id()
      FROM generate_series(1, 20000) g, generate_series(1, 5) n;
    INSERT INTO snapshots(case_id, version, data)
      SELECT 'k' || lpad(g::text, 6, '0'), 2, '\x00' FROM generate_series(1, 20000, 3) g;
    ANALYZE)sql");
  std::string ids = "'{";
  for (int i = 0; i < 512; ++i) ids += fmt::format("{}k{:06}", i ? "," : "", 1 + i * 37);
  ids += "}'";
  for (bool generic : {true, false}) {
    CAPTURE(generic);
    const std::string events_plan = plan_of(db, "cases_events", ids, generic);
    CAPTURE(events_plan);
    CHECK(events_plan.find("Seq Scan") == std::string::npos);
    CHECK(events_plan.find("events_pkey") != std::string::npos);
    const std::string rows_plan = plan_of(db, "cases_rows", ids, generic);
    CAPTURE(rows_plan);
    CHECK(rows_plan.find("Seq Scan") == std::string::npos);
    CHECK(rows_plan.find("cases_pkey") != std::string::npos);
  }
  // The claim of a chunk of due cases, likewise: the due index, then the primary key.
  test::postgres_exec(db, "UPDATE cases SET next_due = 10; ANALYZE cases");
  for (bool generic : {true, false}) {
    CAPTURE(generic);
    const std::string claim_plan = plan_of(db, "claim", "100, 0, '', 512", generic);
    CAPTURE(claim_plan);
    CHECK(claim_plan.find("Seq Scan on cases") == std::string::npos);
    CHECK(claim_plan.find("cases_next_due") != std::string::npos);
  }
  // And the statement still reads what it should: each case's events, in order, once each
  // (an id named twice is loaded once per name, from one read).
  std::vector<std::string> chunk = {"c00002", "c00000", "nope", "c00000"};
  std::vector<std::size_t> seen;
  s->load_cases(chunk, [&](std::size_t i, std::optional<LoadedCase> c) {
    seen.push_back(i);
    if (chunk[i] == "nope") {
      CHECK_FALSE(c);
      return;
    }
    REQUIRE(c);
    CHECK(c->row.id == chunk[i]);
    REQUIRE(c->events.size() == 3);
    for (std::size_t k = 0; k < 3; ++k) CHECK(c->events[k].seq == k + 1);
  });
  std::sort(seen.begin(), seen.end());
  CHECK(seen == std::vector<std::size_t>{0, 1, 2, 3});
}
