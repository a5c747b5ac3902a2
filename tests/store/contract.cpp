// SPDX-License-Identifier: Apache-2.0
// The CaseStore contract (include/acm/store.hpp): the same assertions against every
// implementation in store_factories() (memory, SQLite in both durability modes; the PostgreSQL
// store joins with one entry there). What an implementation must do, and what it must not.
#include "store/factories.hpp"
#include "support.hpp"

#include <acm/error.hpp>
#include <acm/store.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using namespace acm;
using namespace acm::test;
using namespace std::chrono_literals;

namespace {

const TimePoint kT0 = parse_time("2026-11-23T09:00:00Z");

/// A commit that owns its events; view() lends them to the store (valid while this lives).
struct Owned {
  CaseCommit commit;
  std::vector<Event> events;
  CaseCommit view() const {
    CaseCommit c = commit;
    c.events = events;
    return c;
  }
};

/// `n` events for case `id` after version `from`, the row at from + n.
Owned make(const std::string& id, std::uint64_t from, std::size_t n, TimePoint t = kT0) {
  Owned o;
  CaseRow& r = o.commit.row;
  r.id = id;
  r.version = from + n;
  r.type = "claim";
  r.type_version = 1;
  r.title = "title of " + id;
  r.status = CaseStatus::active;
  r.owner = "alice";
  r.customer = "cust-1";
  r.priority = 2;
  r.created_at = kT0;
  r.updated_at = t;
  o.commit.expected_version = from;
  for (std::size_t i = 0; i < n; ++i) {
    Event e;
    e.case_id = id;
    e.seq = from + 1 + i;
    e.time = t;
    e.actor = "alice";
    e.kind = "note";
    e.payload = Json{{"n", e.seq}, {"text", "h\u00e9llo"}};
    o.events.push_back(std::move(e));
  }
  return o;
}

WorkItem item(const std::string& case_id, const std::string& id, const std::string& assignee, const std::string& role,
              int priority, std::optional<TimePoint> due, std::vector<std::string> skills = {}) {
  WorkItem w;
  w.case_id = case_id;
  w.item_id = id;
  w.name = "task " + id;
  w.state = ItemState::active;
  w.assignee = assignee;
  w.role = role;
  w.skills = std::move(skills);
  w.due = due;
  w.priority = priority;
  w.case_title = "title of " + case_id;
  w.customer = "cust-1";
  return w;
}


std::uint64_t version_of(CaseStore& s, const std::string& id) {
  auto e = s.load_events(id, 1);
  return e ? e->size() : 0;
}

std::vector<std::string> ids_of(const std::vector<WorkItem>& items) {
  std::vector<std::string> out;
  for (const auto& w : items) out.push_back(w.item_id);
  return out;
}

std::vector<std::string> ids_of(const CasePage& page) {
  std::vector<std::string> out;
  for (const auto& c : page.cases) out.push_back(c.id);
  return out;
}

/// Runs `test` on a new store of every implementation.
void for_each_store(const std::function<void(OpenStore&)>& test) {
  for (const auto& f : store_factories()) {
    CAPTURE(f.name);
    OpenStore s = f.open();
    test(s);
  }
}

using V = std::vector<std::string>;

}  // namespace

TEST_SUITE("store contract") {
  TEST_CASE("commit checks the expected version, and a conflict writes nothing") {
    for_each_store([](OpenStore& os) {
      CaseStore& s = *os.store;
      s.commit(make("c", 0, 2).view());
      CHECK(version_of(s, "c") == 2);
      // A stale expected version, a new case whose id exists, a case that does not exist.
      Owned stale = make("c", 1, 1);
      stale.commit.row.owner = "mallory";
      CHECK(code_of([&] { s.commit(stale.view()); }) == ErrorCode::conflict);
      CHECK(code_of([&] { s.commit(make("c", 0, 1).view()); }) == ErrorCode::conflict);
      CHECK(code_of([&] { s.commit(make("nobody", 3, 1).view()); }) == ErrorCode::conflict);
      CHECK(version_of(s, "c") == 2);
      CHECK(s.load_case("c")->row.owner == "alice");
      CHECK_FALSE(s.load_case("nobody"));
      CHECK(s.case_count() == 1);
      // The right version goes through; so does a commit without events (a moved wake-up time).
      s.commit(make("c", 2, 1).view());
      Owned quiet = make("c", 3, 0);
      quiet.commit.row.next_due = kT0 + 1h;
      s.commit(quiet.view());
      CHECK(version_of(s, "c") == 3);
      CHECK(s.load_case("c")->row.next_due == kT0 + 1h);
      // The stored-keys hint never replaces the version check.
      Owned hinted = make("c", 2, 1);
      hinted.commit.stored_keys = RowKeys::of(hinted.commit.row);
      CHECK(code_of([&] { s.commit(hinted.view()); }) == ErrorCode::conflict);
    });
  }

  TEST_CASE("events are stored byte for byte, one or many per commit, and a stale many-event commit writes nothing") {
    for_each_store([](OpenStore& os) {
      CaseStore& s = *os.store;
      // Text that a quoting or escaping mistake would change: quotes, backslashes, braces and
      // commas (array-literal syntax), "NULL", multi-byte characters, an empty actor.
      const std::vector<std::string> odd = {"", "\"quoted\"", "back\\slash", "{a,b}", "NULL", "caf\u00e9 \u4e2d\u6587",
                                            "tab\there", std::string(3000, 'x')};
      auto tricky = [&](const std::string& id, std::uint64_t from, std::size_t n) {
        Owned o = make(id, from, n, kT0 + std::chrono::milliseconds(static_cast<std::int64_t>(from)));
        for (std::size_t i = 0; i < n; ++i) {
          Event& e = o.events[i];
          e.actor = odd[(from + i) % odd.size()];
          e.kind = "k" + odd[(from + i + 3) % odd.size()];
          e.payload = Json{{"text", odd[(from + i + 5) % odd.size()]}, {"i", static_cast<std::int64_t>(from + i)}};
        }
        return o;
      };
      std::vector<Event> written;
      std::uint64_t version = 0;
      for (std::size_t n : {1, 3, 1, 2, 40}) {
        Owned o = tricky("c", version, n);
        s.commit(o.view());
        written.insert(written.end(), o.events.begin(), o.events.end());
        version += n;
      }
      auto stored = s.load_events("c", 1);
      REQUIRE(stored);
      REQUIRE(stored->size() == written.size());
      for (std::size_t i = 0; i < written.size(); ++i) {
        CAPTURE(i);
        CHECK((*stored)[i].seq == written[i].seq);
        CHECK((*stored)[i].time == written[i].time);
        CHECK((*stored)[i].actor == written[i].actor);
        CHECK((*stored)[i].kind == written[i].kind);
        CHECK((*stored)[i].payload == written[i].payload);
      }
      CHECK(s.load_case("c")->row.version == version);
      // Many events against a stale version, or as a new case whose id exists: conflict, and
      // none of them is written.
      CHECK(code_of([&] { s.commit(tricky("c", version - 2, 3).view()); }) == ErrorCode::conflict);
      CHECK(code_of([&] { s.commit(tricky("c", 0, 2).view()); }) == ErrorCode::conflict);
      CHECK(s.load_events("c", 1)->size() == written.size());
      CHECK(s.load_case("c")->row.version == version);
    });
  }

  TEST_CASE("a malformed commit is refused before anything is written") {
    for_each_store([](OpenStore& os) {
      CaseStore& s = *os.store;
      s.commit(make("c", 0, 1).view());
      Owned gap = make("c", 1, 2);
      gap.events[1].seq = 7;
      CHECK(code_of([&] { s.commit(gap.view()); }) == ErrorCode::internal);
      Owned wrong_version = make("c", 1, 2);
      wrong_version.commit.row.version = 5;
      CHECK(code_of([&] { s.commit(wrong_version.view()); }) == ErrorCode::internal);
      Owned foreign = make("c", 1, 1);
      foreign.commit.work_items = std::vector<WorkItem>{item("other", "w", "", "agent", 1, std::nullopt)};
      CHECK(code_of([&] { s.commit(foreign.view()); }) == ErrorCode::invalid_argument);
      Owned twice = make("c", 1, 1);
      twice.commit.work_items =
          std::vector<WorkItem>{item("c", "w", "", "agent", 1, std::nullopt), item("c", "w", "", "agent", 1, std::nullopt)};
      CHECK(code_of([&] { s.commit(twice.view()); }) == ErrorCode::invalid_argument);
      CHECK(version_of(s, "c") == 1);
      CHECK(s.work_items({}, true).total == 0);
    });
  }

  TEST_CASE("a batch: each commit succeeds or fails on its own, in order") {
    for_each_store([](OpenStore& os) {
      CaseStore& s = *os.store;
      s.commit(make("b", 0, 2).view());
      std::vector<Owned> owned = {make("a", 0, 1), make("b", 1, 1) /* stale */, make("c", 0, 1), make("c", 1, 2),
                                  make("a", 1, 1)};
      std::vector<CaseCommit> commits;
      for (const auto& o : owned) commits.push_back(o.view());
      auto errors = s.commit_batch(std::move(commits));
      REQUIRE(errors.size() == 5);
      CHECK_FALSE(errors[0]);
      REQUIRE(errors[1]);
      CHECK(code_of([&] { std::rethrow_exception(errors[1]); }) == ErrorCode::conflict);
      CHECK_FALSE(errors[2]);
      CHECK_FALSE(errors[3]);  // a later commit of the same case sees the earlier one
      CHECK_FALSE(errors[4]);
      CHECK(version_of(s, "a") == 2);
      CHECK(version_of(s, "b") == 2);
      CHECK(version_of(s, "c") == 3);
      CHECK(s.commit_batch({}).empty());
      // submit_batch returns before waiting; batches from one thread land in order.
      std::vector<Owned> first = {make("d", 0, 1)}, second = {make("d", 1, 1)};
      auto p1 = s.submit_batch({first[0].view()});
      auto p2 = s.submit_batch({second[0].view()});
      CHECK_FALSE(p1->wait()[0]);
      CHECK_FALSE(p2->wait()[0]);
      CHECK(version_of(s, "d") == 2);
    });
  }

  TEST_CASE("loads: a case with its snapshot and later events, event ranges, several cases at once") {
    for_each_store([](OpenStore& os) {
      CaseStore& s = *os.store;
      CHECK_FALSE(s.load_case("c"));
      CHECK_FALSE(s.load_events("c", 1));
      s.commit(make("c", 0, 3).view());
      Owned snap = make("c", 3, 2);
      snap.commit.snapshot = SnapshotBlob{5, std::string("\0state\0", 7)};
      s.commit(snap.view());
      s.commit(make("c", 5, 1).view());
      s.commit(make("p", 0, 2).view());
      auto c = s.load_case("c");
      REQUIRE(c);
      CHECK(c->row.version == 6);
      CHECK(c->row.title == "title of c");
      CHECK(c->row.status == CaseStatus::active);
      REQUIRE(c->snapshot);
      CHECK(c->snapshot->version == 5);
      CHECK(c->snapshot->data == std::string("\0state\0", 7));  // bytes, kept as given
      REQUIRE(c->events.size() == 1);  // only those after the snapshot
      CHECK(c->events[0].seq == 6);
      CHECK(c->events[0].case_id == "c");
      // Event ranges.
      auto all = s.load_events("c", 1);
      REQUIRE(all);
      REQUIRE(all->size() == 6);
      for (std::size_t i = 0; i < all->size(); ++i) CHECK((*all)[i].seq == i + 1);
      CHECK((*all)[2].payload == Json{{"n", 3}, {"text", "h\u00e9llo"}});
      CHECK((*all)[2].actor == "alice");
      CHECK((*all)[2].time == kT0);
      CHECK(s.load_events("c", 4)->size() == 3);
      CHECK(s.load_events("c", 7)->empty());  // a case, nothing after its last event
      // Several at once: unknown ids, an id twice; each position exactly once.
      std::vector<int> seen(4, 0);
      std::vector<std::optional<LoadedCase>> got(4);
      s.load_cases({"p", "zz", "c", "p"}, [&](std::size_t i, std::optional<LoadedCase> lc) {
        seen.at(i)++;
        got[i] = std::move(lc);
      });
      CHECK(seen == std::vector<int>{1, 1, 1, 1});
      REQUIRE(got[0]);
      CHECK(got[0]->row.id == "p");
      CHECK(got[0]->events.size() == 2);
      CHECK_FALSE(got[1]);
      REQUIRE(got[2]);
      CHECK(got[2]->events.size() == 1);
      REQUIRE(got[3]);
      CHECK(got[3]->row.id == "p");
      s.load_cases({}, [&](std::size_t, std::optional<LoadedCase>) { FAIL("called for no id"); });
    });
  }

  TEST_CASE("due cases: (due, id) order, limit, keyset paging, moved and cleared timers") {
    for_each_store([](OpenStore& os) {
      CaseStore& s = *os.store;
      CHECK(s.due_cases(TimePoint::max(), 10, std::nullopt).empty());
      auto add = [&](const std::string& id, std::optional<TimePoint> due) {
        Owned o = make(id, 0, 1);
        o.commit.row.next_due = due;
        s.commit(o.view());
      };
      add("c", kT0 + 3h);
      add("a", kT0 + 1h);
      add("b", kT0 + 1h);
      add("none", std::nullopt);
      add("d", kT0 + 5h);
      using P = std::vector<DueCase>;
      CHECK(s.due_cases(kT0 + 3h, 10, std::nullopt) == P{{kT0 + 1h, "a"}, {kT0 + 1h, "b"}, {kT0 + 3h, "c"}});
      CHECK(s.due_cases(kT0 + 3h, 2, std::nullopt) == P{{kT0 + 1h, "a"}, {kT0 + 1h, "b"}});
      CHECK(s.due_cases(kT0, 10, std::nullopt).empty());
      CHECK(s.due_cases(kT0 + 100h, 0, std::nullopt).empty());
      CHECK(s.due_cases(TimePoint::max(), 1, std::nullopt) == P{{kT0 + 1h, "a"}});  // the earliest
      CHECK(s.due_cases(kT0 + 3h, 10, DueCase{kT0 + 1h, "a"}) == P{{kT0 + 1h, "b"}, {kT0 + 3h, "c"}});
      CHECK(s.due_cases(kT0 + 3h, 1, DueCase{kT0 + 1h, "b"}) == P{{kT0 + 3h, "c"}});
      CHECK(s.due_cases(kT0 + 3h, 10, DueCase{kT0 + 3h, "c"}).empty());
      // Paging through everything in pages of 2 meets each case once, in order.
      P paged;
      std::optional<DueCase> after;
      while (true) {
        auto page = s.due_cases(kT0 + 100h, 2, after);
        if (page.empty()) break;
        paged.insert(paged.end(), page.begin(), page.end());
        after = page.back();
      }
      CHECK(paged == P{{kT0 + 1h, "a"}, {kT0 + 1h, "b"}, {kT0 + 3h, "c"}, {kT0 + 5h, "d"}});
      Owned clear = make("a", 1, 1);
      clear.commit.row.next_due = std::nullopt;
      s.commit(clear.view());
      Owned move = make("b", 1, 0);
      move.commit.row.next_due = kT0 + 4h;
      s.commit(move.view());
      CHECK(s.due_cases(kT0 + 100h, 10, std::nullopt) == P{{kT0 + 3h, "c"}, {kT0 + 4h, "b"}, {kT0 + 5h, "d"}});
    });
  }

  TEST_CASE("work items: replaced per commit, queried as queues in order, counted") {
    for_each_store([](OpenStore& os) {
      CaseStore& s = *os.store;
      Owned a = make("a", 0, 1);
      a.commit.work_items = std::vector<WorkItem>{
          item("a", "a1", "bob", "agent", 5, kT0 + 2h), item("a", "a2", "", "agent", 5, std::nullopt, {"de"}),
          item("a", "a3", "", "supervisor", 9, kT0 - 1h), item("a", "a4", "carol", "agent", 1, kT0 - 2h)};
      s.commit(a.view());
      Owned b = make("b", 0, 1);
      b.commit.work_items = std::vector<WorkItem>{item("b", "b1", "bob", "agent", 7, kT0 + 1h),
                                                  item("b", "b2", "", "agent", 7, kT0 + 1h, {"de", "billing"}),
                                                  item("b", "b3", "bob", "clerk", 1, std::nullopt)};
      s.commit(b.view());
      // Everything: priority desc, due asc (none last), case id, item id.
      CHECK(ids_of(s.work_items({}, false).items) == V{"a3", "b1", "b2", "a1", "a2", "a4", "b3"});
      CHECK(ids_of(s.work_items({.assignee = "bob"}, false).items) == V{"b1", "a1", "b3"});
      CHECK(ids_of(s.work_items({.roles = {"agent"}}, false).items) == V{"b2", "a2"});
      CHECK(ids_of(s.work_items({.assignee = "bob", .roles = {"agent", "agent"}}, false).items) ==
            V{"b1", "b2", "a1", "a2", "b3"});
      // Skills: unassigned work only if the agent has every skill it needs.
      CHECK(ids_of(s.work_items({.roles = {"agent"}, .skills = std::vector<std::string>{"de"}}, false).items) == V{"a2"});
      CHECK(s.work_items({.roles = {"agent"}, .skills = std::vector<std::string>{}}, false).items.empty());
      // Overdue: by due.
      CHECK(ids_of(s.work_items({.overdue_at = kT0}, false).items) == V{"a4", "a3"});
      CHECK(ids_of(s.work_items({.assignee = "bob", .overdue_at = kT0 + 90min}, false).items) == V{"b1"});
      // Pages and totals.
      auto page = s.work_items({.assignee = "bob", .roles = {"agent"}, .limit = 2, .offset = 2}, true);
      CHECK(ids_of(page.items) == V{"a1", "a2"});
      CHECK(page.total == 5);
      CHECK(s.work_items({.limit = 0}, true).total == 7);
      CHECK(s.work_items({}, false).total == 0);  // not asked for
      CHECK(s.work_items({.assignee = "nobody"}, true).total == 0);
      // The stored item is the one given (every field).
      auto one = s.work_items({.assignee = "carol"}, false).items;
      REQUIRE(one.size() == 1);
      WorkItem expected = item("a", "a4", "carol", "agent", 1, kT0 - 2h);
      CHECK(one[0] == expected);
      // Replacement: an unchanged list (nullopt) leaves them; a new list replaces all of them.
      s.commit(make("a", 1, 1).view());
      CHECK(s.work_items({}, true).total == 7);
      Owned a2 = make("a", 2, 1);
      WorkItem moved = item("a", "a9", "bob", "agent", 8, std::nullopt);
      moved.goal = "g";
      moved.goal_deadline = kT0 + 8h;
      moved.goal_timing = Timing::at_risk;
      moved.state = ItemState::suspended;
      a2.commit.work_items = std::vector<WorkItem>{moved};
      s.commit(a2.view());
      CHECK(ids_of(s.work_items({.assignee = "bob"}, false).items) == V{"a9", "b1", "b3"});
      CHECK(s.work_items({.assignee = "bob", .limit = 1}, false).items.at(0) == moved);
      Owned none = make("b", 1, 1);
      none.commit.work_items = std::vector<WorkItem>{};
      s.commit(none.view());
      CHECK(ids_of(s.work_items({}, false).items) == V{"a9"});
    });
  }

  TEST_CASE("case search and listing: filters, newest first, totals, creation order") {
    for_each_store([](OpenStore& os) {
      CaseStore& s = *os.store;
      const std::vector<std::tuple<std::string, CaseStatus, std::string, std::string>> rows = {
          {"k1", CaseStatus::active, "alice", "acme"},     {"k2", CaseStatus::completed, "bob", "acme"},
          {"k3", CaseStatus::suspended, "alice", "zeta"},  {"k4", CaseStatus::active, "bob", ""},
          {"k5", CaseStatus::active, "alice", "acme"}};
      for (const auto& [id, status, owner, customer] : rows) {
        Owned o = make(id, 0, 1);
        o.commit.row.status = status;
        o.commit.row.owner = owner;
        o.commit.row.customer = customer;
        o.commit.row.next_deadline = kT0 + 5h;
        s.commit(o.view());
      }
      CHECK(s.case_count() == 5);
      CHECK(s.case_ids(100, "") == V{"k1", "k2", "k3", "k4", "k5"});
      CHECK(s.case_ids(2, "k2") == V{"k3", "k4"});
      CHECK(s.case_ids(2, "unknown").empty());
      CHECK(s.case_ids(0, "").empty());
      auto all = s.find_cases({});
      CHECK(ids_of(all) == V{"k5", "k4", "k3", "k2", "k1"});
      CHECK(all.total == 5);
      CHECK(all.cases[0].title == "title of k5");
      CHECK(all.cases[0].next_deadline == kT0 + 5h);
      CHECK(all.cases[0].version == 1);
      CHECK(ids_of(s.find_cases({.statuses = {CaseStatus::active}})) == V{"k5", "k4", "k1"});
      CHECK(ids_of(s.find_cases({.statuses = {CaseStatus::active, CaseStatus::suspended, CaseStatus::active}})) ==
            V{"k5", "k4", "k3", "k1"});
      CHECK(ids_of(s.find_cases({.owner = "alice"})) == V{"k5", "k3", "k1"});
      CHECK(ids_of(s.find_cases({.customer = "acme"})) == V{"k5", "k2", "k1"});
      CasePage open_acme =
          s.find_cases({.statuses = {CaseStatus::active, CaseStatus::suspended}, .customer = "acme", .limit = 1});
      CHECK(ids_of(open_acme) == V{"k5"});
      CHECK(open_acme.total == 2);
      CasePage paged = s.find_cases({.limit = 2, .offset = 3});
      CHECK(ids_of(paged) == V{"k2", "k1"});
      CHECK(paged.total == 5);
      CHECK(s.find_cases({.owner = "nobody"}).total == 0);
      // A status change moves the case between searches.
      Owned done = make("k1", 1, 1);
      done.commit.row.status = CaseStatus::closed;
      s.commit(done.view());
      CHECK(ids_of(s.find_cases({.statuses = {CaseStatus::closed}})) == V{"k1"});
    });
  }

  TEST_CASE("idempotency keys: stored with their commit, used once") {
    for_each_store([](OpenStore& os) {
      CaseStore& s = *os.store;
      CHECK_FALSE(s.idempotent_result("k"));
      Owned first = make("c", 0, 1);
      first.commit.idempotency_key = "k";
      first.commit.idempotent_result = Json{{"case", "c"}, {"version", 1}};
      s.commit(first.view());
      CHECK(s.idempotent_result("k") == Json{{"case", "c"}, {"version", 1}});
      // The key again (another case): conflict, nothing of that commit written.
      Owned again = make("d", 0, 1);
      again.commit.idempotency_key = "k";
      again.commit.idempotent_result = Json{{"case", "d"}};
      CHECK(code_of([&] { s.commit(again.view()); }) == ErrorCode::conflict);
      CHECK_FALSE(s.load_case("d"));
      CHECK(s.idempotent_result("k") == Json{{"case", "c"}, {"version", 1}});
      // A key on a commit without events (a retried command that changed nothing).
      Owned quiet = make("c", 1, 0);
      quiet.commit.idempotency_key = "k2";
      quiet.commit.idempotent_result = Json{{"case", "c"}, {"version", 1}};
      s.commit(quiet.view());
      CHECK(s.idempotent_result("k2"));
      CHECK_FALSE(s.idempotent_result("other"));
    });
  }

  TEST_CASE("definitions: all or nothing, in the order saved, identical ones left alone") {
    for_each_store([](OpenStore& os) {
      CaseStore& s = *os.store;
      CHECK(s.load_definitions().empty());
      std::vector<DefinitionRecord> defs = {{"fragment", "intake", 1, Json{{"id", "intake"}}},
                                            {"fragment", "intake", 2, Json{{"id", "intake"}, {"version", 2}}},
                                            {"case_type", "claim", 1, Json{{"id", "claim"}}}};
      s.save_definitions(defs);
      s.save_definitions({{"fragment", "aaa", 1, Json{{"id", "aaa"}}}});
      s.save_definitions({defs[0]});  // identical: nothing added
      auto loaded = s.load_definitions();
      REQUIRE(loaded.size() == 4);
      CHECK(loaded[0].id == "intake");
      CHECK(loaded[1].version == 2);
      CHECK(loaded[2].kind == "case_type");
      CHECK(loaded[3].id == "aaa");
      CHECK(loaded[1].body == Json{{"id", "intake"}, {"version", 2}});
      // One clash in a list: none of the list is added.
      CHECK(code_of([&] {
              s.save_definitions({{"fragment", "zzz", 1, Json{{"id", "zzz"}}},
                                  {"fragment", "intake", 1, Json{{"id", "changed"}}}});
            }) == ErrorCode::already_exists);
      CHECK(s.load_definitions().size() == 4);
    });
  }

  TEST_CASE("templates: versions assigned by the store, latest by default, bytes kept") {
    for_each_store([](OpenStore& os) {
      REQUIRE(os.store->templates());
      TemplateStore& t = *os.store->templates();
      CHECK_FALSE(t.find("next", 0));
      TemplateInfo info{"next", 0, "next_step", kT0, Json{{"cases", 1}}};
      CHECK(t.put(info, std::string("v1\0", 3)) == 1);
      info.created_at = kT0 + 1h;
      CHECK(t.put(info, "v2") == 2);
      TemplateInfo other{"duration", 7, "duration", kT0, Json::object()};
      CHECK(t.put(other, "d7") == 7);
      CHECK(code_of([&] { t.put(other, "again"); }) == ErrorCode::already_exists);
      other.version = 0;
      CHECK(t.put(other, "d8") == 8);
      auto latest = t.find("next", 0);
      REQUIRE(latest);
      CHECK(latest->first.version == 2);
      CHECK(latest->first.created_at == kT0 + 1h);
      CHECK(latest->second == "v2");
      CHECK(t.find("next", 1)->second == std::string("v1\0", 3));
      CHECK(t.find("next", 1)->first.meta == Json{{"cases", 1}});
      CHECK_FALSE(t.find("next", 3));
      auto list = t.list();
      REQUIRE(list.size() == 4);
      CHECK(list[0].name == "duration");
      CHECK(list[0].version == 7);
      CHECK(list[3].name == "next");
      CHECK(list[3].version == 2);
      CHECK(code_of([&] { t.put(TemplateInfo{"", 0, "k", kT0, Json::object()}, "x"); }) == ErrorCode::invalid_argument);
    });
  }

  TEST_CASE("intake log: numbered in append order, found by event id, paged") {
    for_each_store([](OpenStore& os) {
      REQUIRE(os.store->intake_log());
      IntakeLogStore& log = *os.store->intake_log();
      std::vector<IntakeLogEntry> batch(3);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        batch[i].event_id = i < 2 ? "e1" : "e2";
        batch[i].time = kT0;
        batch[i].channel = "mail";
        batch[i].action = i == 0 ? "create_case" : "attach";
        batch[i].case_id = "c";
        batch[i].event = Json{{"i", i}};
      }
      log.append(batch);
      CHECK(batch[0].seq == 1);
      CHECK(batch[2].seq == 3);
      std::vector<IntakeLogEntry> more(1);
      more[0].event_id = "e1";
      more[0].action = "ignore";
      log.append(more);
      CHECK(more[0].seq == 4);
      auto e1 = log.of_event("e1");
      REQUIRE(e1.size() == 3);
      CHECK(e1[0].seq == 1);
      CHECK(e1[2].seq == 4);
      CHECK(e1[0].event == Json{{"i", 0}});
      CHECK(e1[0].channel == "mail");
      CHECK(log.of_event("nope").empty());
      auto page = log.page(2, 1);
      REQUIRE(page.size() == 2);
      CHECK(page[0].seq == 2);
      CHECK(page[1].seq == 3);
      CHECK(log.page(10, 4).empty());
      CHECK(log.page(10, UINT64_MAX).empty());
      CHECK(log.page(0, 0).empty());
    });
  }

  TEST_CASE("read-only: reads answer, every write is refused with invalid_state and changes nothing") {
    for (const auto& f : store_factories()) {
      CAPTURE(f.name);
      OpenStore os = f.open();
      if (!os.reopen_read_only) continue;  // no read-only mode (memory)
      Owned o = make("c", 0, 2);
      o.commit.work_items = std::vector<WorkItem>{item("c", "w", "bob", "agent", 1, std::nullopt)};
      os.store->commit(o.view());
      os.store->save_definitions({{"fragment", "f", 1, Json{{"id", "f"}}}});
      os.store->templates()->put(TemplateInfo{"t", 0, "k", kT0, Json::object()}, "x");
      auto ro = os.reopen_read_only(os);
      CHECK(ro->traits().read_only);
      CHECK(version_of(*ro, "c") == 2);
      CHECK(ro->work_items({}, true).total == 1);
      CHECK(ro->load_definitions().size() == 1);
      CHECK(ro->templates()->find("t", 0));
      CHECK(code_of([&] { ro->commit(make("c", 2, 1).view()); }) == ErrorCode::invalid_state);
      Owned batch = make("d", 0, 1);
      CHECK(code_of([&] { ro->submit_batch({batch.view()}); }) == ErrorCode::invalid_state);
      CHECK(code_of([&] { ro->save_definitions({{"fragment", "g", 1, Json::object()}}); }) == ErrorCode::invalid_state);
      CHECK(code_of([&] { ro->templates()->put(TemplateInfo{"t", 0, "k", kT0, Json::object()}, "y"); }) ==
            ErrorCode::invalid_state);
      std::vector<IntakeLogEntry> entries(1);
      entries[0].action = "ignore";
      CHECK(code_of([&] { ro->intake_log()->append(entries); }) == ErrorCode::invalid_state);
      CHECK(entries[0].seq == 0);
      CHECK(version_of(*ro, "c") == 2);
      CHECK(ro->case_count() == 1);
    }
  }

  TEST_CASE("commits from several threads: every one durable and visible, none lost") {
    for_each_store([](OpenStore& os) {
      CaseStore& s = *os.store;
      constexpr int kThreads = 4, kCommits = 25;
      std::vector<std::thread> threads;
      std::atomic<int> failures{0};
      for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
          const std::string id = fmt::format("t{}", t);
          for (int i = 0; i < kCommits; ++i) {
            try {
              s.commit(make(id, static_cast<std::uint64_t>(i), 1).view());
              if (version_of(s, id) != static_cast<std::uint64_t>(i + 1)) failures++;  // read your writes
            } catch (...) {
              failures++;
            }
          }
        });
      for (auto& th : threads) th.join();
      CHECK(failures.load() == 0);
      for (int t = 0; t < kThreads; ++t) CHECK(version_of(s, fmt::format("t{}", t)) == kCommits);
      CHECK(s.case_count() == kThreads);
    });
  }
}
