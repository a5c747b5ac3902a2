// SPDX-License-Identifier: Apache-2.0
// tests/test_queries.cpp - the queries of issue 13 (case types, case search, the inbox columns of
// the work queue and its total count), run on the in-memory store and on a real SQLite file, and
// the schema v4 migration of a version 3 file.
#include "support.hpp"

#include <acm/to_json.hpp>

#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <random>

using namespace acm;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path dir;
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    dir = fs::temp_directory_path() / fmt::format("acm-queries-{}-{}-{}", ::getpid(), counter++, rd());
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

const Actor kAdmin{"root", {"admin"}};

/// An engine on a manual clock (Monday 2026-11-23 09:00 UTC) with the help-desk definitions, on
/// the store `database` ("" = in memory).
struct Desk {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
  std::unique_ptr<Engine> engine;
  explicit Desk(const std::string& database, bool load = true) {
    EngineOptions o;
    o.clock = clock;
    o.database = database;
    engine = Engine::open(o);
    if (load) engine->load_definitions(kAdmin, test::read_json("examples/definitions/helpdesk.json"));
  }
  std::string open(const std::string& title, const std::string& customer, const std::string& owner,
                   const std::string& type = "complaint") {
    NewCase n;
    n.type = type;
    n.title = title;
    n.subject.customer = customer;
    n.owner = owner;
    return engine->create_case(kAdmin, n).created;
  }
};

/// Runs `body` on an in-memory engine and on one over a SQLite file.
void on_both_stores(const std::function<void(Desk&)>& body) {
  SUBCASE("memory store") {
    Desk d("");
    body(d);
  }
  SUBCASE("sqlite store") {
    TempDir tmp;
    Desk d(tmp.path("cases.db"));
    body(d);
  }
}

std::vector<std::string> ids(const CasePage& p) {
  std::vector<std::string> out;
  for (const auto& c : p.cases) out.push_back(c.id);
  return out;
}

const WorkItem& find_work(const std::vector<WorkItem>& items, const std::string& item_id) {
  for (const auto& w : items)
    if (w.item_id == item_id) return w;
  FAIL("no work item " << item_id);
  return items.front();
}

}  // namespace

TEST_SUITE("queries") {
  TEST_CASE("list_case_types: the latest version of every case type, by id") {
    on_both_stores([](Desk& d) {
      auto types = d.engine->list_case_types();
      REQUIRE(types.size() == 1);
      CHECK(types[0].id == "complaint");
      CHECK(types[0].version == 1);
      Json v2 = to_json(d.engine->get_case_type("complaint"));
      v2["version"] = 2;
      v2["name"] = "Complaint, second edition";
      Json inquiry = to_json(d.engine->get_case_type("complaint"));
      inquiry["id"] = "inquiry";
      d.engine->load_definitions(kAdmin, Json{{"case_types", Json::array({v2, inquiry})}});
      types = d.engine->list_case_types();
      REQUIRE(types.size() == 2);
      CHECK(types[0].id == "complaint");
      CHECK(types[0].version == 2);
      CHECK(types[0].name == "Complaint, second edition");
      CHECK(types[1].id == "inquiry");
    });
  }

  TEST_CASE("list_case_types: registered types come back after a restart") {
    TempDir tmp;
    { Desk d(tmp.path("t.db")); }
    Desk again(tmp.path("t.db"), false);
    auto types = again.engine->list_case_types();
    REQUIRE(types.size() == 1);
    CHECK(types[0].id == "complaint");
  }

  TEST_CASE("find_cases: by status, owner and customer, newest first, with the total") {
    on_both_stores([](Desk& d) {
      const auto c1 = d.open("Laptop broken", "ann", "alice");
      const auto c2 = d.open("Refund please", "bob", "alice");
      const auto c3 = d.open("Wrong invoice", "ann", "carol");
      const auto c4 = d.open("Printer jams", "ann", "alice");
      d.engine->terminate_case(kAdmin, c4, "duplicate");
      d.engine->suspend_case(kAdmin, c2, "waiting on the customer");

      CasePage all = d.engine->find_cases({});
      CHECK(all.total == 4);
      CHECK(ids(all) == std::vector<std::string>{c4, c3, c2, c1});
      CHECK(all.cases[3].title == "Laptop broken");
      CHECK(all.cases[3].customer == "ann");
      CHECK(all.cases[3].owner == "alice");
      CHECK(all.cases[3].type == "complaint");
      CHECK(all.cases[3].type_version == 1);
      CHECK(all.cases[3].status == CaseStatus::active);
      CHECK(all.cases[3].next_deadline == parse_time("2026-11-25T09:00:00Z"));  // the 2-day goal
      CHECK(all.cases[3].created_at == parse_time("2026-11-23T09:00:00Z"));
      CHECK(all.cases[0].status == CaseStatus::terminated);
      CHECK(all.cases[2].status == CaseStatus::suspended);

      CHECK(ids(d.engine->find_cases({.customer = "ann"})) == std::vector<std::string>{c4, c3, c1});
      CHECK(ids(d.engine->find_cases({.owner = "alice"})) == std::vector<std::string>{c4, c2, c1});
      CHECK(ids(d.engine->find_cases({.statuses = {CaseStatus::active}})) == std::vector<std::string>{c3, c1});
      CHECK(ids(d.engine->find_cases({.statuses = {CaseStatus::active, CaseStatus::suspended}})) ==
            std::vector<std::string>{c3, c2, c1});
      CasePage mine = d.engine->find_cases({.statuses = {CaseStatus::active}, .owner = "alice", .customer = "ann"});
      CHECK(ids(mine) == std::vector<std::string>{c1});
      CHECK(mine.total == 1);
      CHECK(d.engine->find_cases({.customer = "nobody"}).total == 0);

      // Pages: the total counts every match, whatever the page.
      CasePage p1 = d.engine->find_cases({.limit = 2});
      CasePage p2 = d.engine->find_cases({.limit = 2, .offset = 2});
      CasePage p3 = d.engine->find_cases({.limit = 2, .offset = 4});
      CHECK(ids(p1) == std::vector<std::string>{c4, c3});
      CHECK(ids(p2) == std::vector<std::string>{c2, c1});
      CHECK(p3.cases.empty());
      CHECK(p1.total == 4);
      CHECK(p3.total == 4);
      CHECK(d.engine->find_cases({.limit = 0}).total == 4);

      // The index follows changes of status and owner.
      d.engine->resume_case(kAdmin, c2);
      d.engine->set_owner(kAdmin, c1, "carol");
      CHECK(ids(d.engine->find_cases({.statuses = {CaseStatus::active}})) == std::vector<std::string>{c3, c2, c1});
      CHECK(ids(d.engine->find_cases({.owner = "carol"})) == std::vector<std::string>{c3, c1});
      CHECK(ids(d.engine->find_cases({.owner = "alice"})) == std::vector<std::string>{c4, c2});

      try {
        d.engine->find_cases({.limit = 10001});
        FAIL("a page of 10001 cases was accepted");
      } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::invalid_argument);
        CHECK(std::string(e.what()).find("10001") != std::string::npos);
      }
    });
  }

  TEST_CASE("the work queue carries the case title, customer and goal timing, and a total count") {
    on_both_stores([](Desk& d) {
      const auto c1 = d.open("Laptop broken", "ann", "alice");
      const auto c2 = d.open("Refund please", "bob", "alice");
      // An ad-hoc task bound to a goal of its own, with a nearer deadline.
      GoalSpec callback;
      callback.id = "call_back";
      callback.name = "Call the customer back";
      callback.deadline = parse_time("2026-11-24T09:00:00Z");
      d.engine->add_goal(kAdmin, c2, callback);
      AdHocTask call;
      call.name = "Call bob";
      call.role = "agent";
      call.goal = "call_back";
      call.estimate = std::chrono::minutes(15);
      const std::string call_id = d.engine->add_task(kAdmin, c2, call).created;

      QueuePage page = d.engine->queue_page({});
      // c1: triage (enabled); c2: triage and the call.
      CHECK(page.total == 3);
      REQUIRE(page.items.size() == 3);
      const WorkItem& triage = find_work(page.items, "diagnosis#1/triage");
      CHECK(triage.case_title.size() > 0);
      const WorkItem& call_item = find_work(page.items, call_id);
      CHECK(call_item.case_id == c2);
      CHECK(call_item.case_title == "Refund please");
      CHECK(call_item.customer == "bob");
      CHECK(call_item.goal == "call_back");  // the goal it serves
      CHECK(call_item.goal_deadline == parse_time("2026-11-24T09:00:00Z"));
      CHECK(call_item.goal_timing == Timing::on_track);
      for (const WorkItem& w : page.items)
        if (w.item_id != call_id) {
          // Items that serve no goal run against the case's open goal with the earliest deadline.
          CHECK(w.goal == (w.case_id == c2 ? "call_back" : "resolved"));
          CHECK(w.customer == (w.case_id == c1 ? "ann" : "bob"));
          CHECK(w.case_title == (w.case_id == c1 ? "Laptop broken" : "Refund please"));
        }
      // Goal timing follows the clock without any command on the case: overdue after its deadline.
      d.clock->advance_to(parse_time("2026-11-24T09:30:00Z"));
      page = d.engine->queue_page({});
      CHECK(find_work(page.items, call_id).goal_timing == Timing::overdue);
      CHECK(find_work(page.items, "diagnosis#1/triage").goal == "resolved");
      // The case's own 2-day goal turns at risk when its remaining work no longer fits.
      d.clock->advance_to(parse_time("2026-11-25T07:00:00Z"));
      for (const WorkItem& w : d.engine->queue({}))
        if (w.case_id == c1) CHECK(w.goal_timing == Timing::at_risk);
      d.clock->advance_to(parse_time("2026-11-25T09:30:00Z"));
      for (const WorkItem& w : d.engine->queue({}))
        if (w.case_id == c1) CHECK(w.goal_timing == Timing::overdue);

      // The count ignores the page, and follows the filter.
      CHECK(d.engine->queue_page({.limit = 1}).total == 3);
      CHECK(d.engine->queue_page({.limit = 1}).items.size() == 1);
      CHECK(d.engine->queue_page({.limit = 0}).total == 3);
      CHECK(d.engine->queue_page({.roles = {"agent"}}).total == 3);
      CHECK(d.engine->queue_page({.roles = {"supplier"}}).total == 0);
      d.engine->add_participant(kAdmin, c1, Participant{"bob", {"agent"}});
      d.engine->assign_item(kAdmin, c1, "diagnosis#1/triage", "bob");
      CHECK(d.engine->queue_page({.assignee = "bob"}).total == 1);
      CHECK(d.engine->queue_page({.roles = {"agent"}}).total == 2);  // unassigned only
      CHECK(d.engine->queue_page({.assignee = "bob", .roles = {"agent"}}).total == 3);
      CHECK(d.engine->queue_page({.overdue_at = parse_time("2026-11-23T09:00:00Z")}).total == 0);
      // Skills: bob's "triage" needs none; a stranger without skills still sees unassigned work
      // that needs none.
      CHECK(d.engine->queue_page({.roles = {"agent"}, .skills = std::vector<std::string>{}}).total == 2);
      // Each count equals the length of the whole list.
      for (const QueueFilter& f : {QueueFilter{}, QueueFilter{.assignee = "bob"}, QueueFilter{.roles = {"agent"}}})
        CHECK(d.engine->queue_page(f).total ==
              d.engine->queue(QueueFilter{f.assignee, f.roles, f.skills, f.overdue_at, 10000, 0}).size());
      CHECK_THROWS_AS(d.engine->queue_page({.limit = 10001}), Error);
    });
  }

  TEST_CASE("inbox columns survive a restart and are rewritten when a case changes") {
    TempDir tmp;
    std::string c1;
    {
      Desk d(tmp.path("q.db"));
      c1 = d.open("Laptop broken", "ann", "alice");
    }
    Desk d(tmp.path("q.db"), false);
    auto items = d.engine->queue({});
    REQUIRE(items.size() == 1);
    CHECK(items[0].case_title == "Laptop broken");
    CHECK(items[0].customer == "ann");
    CHECK(items[0].goal == "resolved");
    CHECK(items[0].goal_deadline == parse_time("2026-11-25T09:00:00Z"));
    GoalChange later;
    later.deadline = std::optional<TimePoint>(parse_time("2026-11-30T09:00:00Z"));
    d.engine->change_goal(kAdmin, c1, "resolved", later);
    CHECK(d.engine->queue({})[0].goal_deadline == parse_time("2026-11-30T09:00:00Z"));
  }

  TEST_CASE("schema v4 migration: a version 3 file gets titles, inbox columns and search indexes") {
    TempDir tmp;
    const auto path = tmp.path("v3.db");
    std::string c1, c2;
    {
      Desk d(path);
      c1 = d.open("Laptop broken", "ann", "alice");
      c2 = d.open("Refund please", "bob", "carol");
      d.engine->terminate_case(kAdmin, c2, "withdrawn");
    }
    // Turn the file back into the exact version 3 schema (columns and indexes v4 added gone).
    auto sql = [&](const std::string& text) {
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
      char* err = nullptr;
      int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err);
      CHECK_MESSAGE(rc == SQLITE_OK, (err ? err : ""));
      sqlite3_free(err);
      sqlite3_close(db);
    };
    auto query = [&](const std::string& text) {
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
      sqlite3_stmt* s = nullptr;
      REQUIRE(sqlite3_prepare_v2(db, text.c_str(), -1, &s, nullptr) == SQLITE_OK);
      std::string out;
      while (sqlite3_step(s) == SQLITE_ROW) {
        const auto* t = sqlite3_column_text(s, 0);
        out += (out.empty() ? "" : "|") + std::string(t ? reinterpret_cast<const char*>(t) : "NULL");
      }
      sqlite3_finalize(s);
      sqlite3_close(db);
      return out;
    };
    sql(R"sql(
BEGIN;
DROP INDEX cases_status_seq;
DROP INDEX cases_owner_seq;
CREATE INDEX cases_status ON cases(status);
CREATE INDEX cases_owner ON cases(owner);
ALTER TABLE cases DROP COLUMN title;
ALTER TABLE work_items DROP COLUMN case_title;
ALTER TABLE work_items DROP COLUMN customer;
ALTER TABLE work_items DROP COLUMN goal;
ALTER TABLE work_items DROP COLUMN goal_deadline;
ALTER TABLE work_items DROP COLUMN goal_timing;
DROP TABLE feed;
UPDATE meta SET value = '3' WHERE key = 'schema_version';
PRAGMA user_version = 3;
COMMIT;
)sql");
    REQUIRE(query("PRAGMA user_version") == "3");
    {
      Desk d(path, false);
      CHECK(query("PRAGMA user_version") == "5");
      CHECK(query("SELECT value FROM meta WHERE key = 'schema_version'") == "5");
      // Titles come from each case's creation event; the goal columns from the engine's rebuild.
      CHECK(query("SELECT title FROM cases ORDER BY seq") == "Laptop broken|Refund please");
      CHECK(query("SELECT count(*) FROM meta WHERE key = 'rebuild_work_items'") == "0");
      auto items = d.engine->queue({});
      REQUIRE(items.size() == 1);
      CHECK(items[0].case_id == c1);
      CHECK(items[0].case_title == "Laptop broken");
      CHECK(items[0].customer == "ann");
      CHECK(items[0].goal == "resolved");
      CHECK(items[0].goal_deadline == parse_time("2026-11-25T09:00:00Z"));
      CHECK(items[0].goal_timing == Timing::on_track);
      CasePage found = d.engine->find_cases({.statuses = {CaseStatus::terminated}});
      REQUIRE(found.cases.size() == 1);
      CHECK(found.cases[0].id == c2);
      CHECK(found.cases[0].title == "Refund please");
      CHECK(d.engine->find_cases({.owner = "alice"}).cases.at(0).id == c1);
    }
    // Searches use the v4 indexes.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    auto explain = [&](const std::string& q) {
      std::string out;
      sqlite3_stmt* s = nullptr;
      REQUIRE(sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + q).c_str(), -1, &s, nullptr) == SQLITE_OK);
      while (sqlite3_step(s) == SQLITE_ROW)
        out += std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 3))) + "\n";
      sqlite3_finalize(s);
      return out;
    };
    auto by_status = explain("SELECT id FROM cases WHERE status IN ('active') ORDER BY seq DESC LIMIT 50");
    CHECK_MESSAGE(by_status.find("cases_status_seq") != std::string::npos, by_status);
    CHECK_MESSAGE(by_status.find("TEMP B-TREE") == std::string::npos, by_status);
    auto by_owner =
        explain("SELECT id FROM cases WHERE owner = 'alice' AND status IN ('active') ORDER BY seq DESC LIMIT 50");
    CHECK_MESSAGE(by_owner.find("cases_owner_seq") != std::string::npos, by_owner);
    auto by_customer = explain("SELECT id FROM cases WHERE customer = 'ann' ORDER BY seq DESC LIMIT 50");
    CHECK_MESSAGE(by_customer.find("cases_customer") != std::string::npos, by_customer);
    sqlite3_close(db);
  }

  TEST_CASE("the JSON shape of the new values (docs/json.md)") {
    Desk d("");
    const auto c1 = d.open("Laptop broken", "ann", "alice");
    Json page = to_json(d.engine->queue_page({}));
    REQUIRE(page["items"].size() == 1);
    const Json& w = page["items"][0];
    CHECK(page["total"] == 1);
    CHECK(w["case"] == c1);
    CHECK(w["item"] == "diagnosis#1/triage");
    CHECK(w["case_title"] == "Laptop broken");
    CHECK(w["customer"] == "ann");
    CHECK(w["goal"] == "resolved");
    CHECK(w["goal_deadline"] == "2026-11-25T09:00:00.000Z");
    CHECK(w["goal_timing"] == "on_track");
    CHECK(w["due"].is_null());
    CHECK(w["state"] == "active");
    Json cases = to_json(d.engine->find_cases({}));
    CHECK(cases["total"] == 1);
    CHECK(cases["cases"][0]["id"] == c1);
    CHECK(cases["cases"][0]["status"] == "active");
    CHECK(cases["cases"][0]["created_at"] == "2026-11-23T09:00:00.000Z");
    CHECK(cases["cases"][0]["next_deadline"] == "2026-11-25T09:00:00.000Z");
    // A work item without a goal has a null timing, not "on_track".
    WorkItem bare;
    CHECK(to_json(bare)["goal_timing"].is_null());
    CHECK(to_json(bare)["goal_deadline"].is_null());
  }
}
