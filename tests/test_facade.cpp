// SPDX-License-Identifier: Apache-2.0
// tests/test_facade.cpp - the Engine facade of issue 15: commands that create something return
// CommandResult with `created`; every read of case data exists trusted (on the Engine) and on
// behalf of an actor (engine.as(actor)), and the actor's list reads page over the cases the
// actor may view. Run on the in-memory store and on a real SQLite file.
#include "support.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <random>

using namespace acm;
using acm::test::code_of;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path dir;
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    dir = fs::temp_directory_path() / fmt::format("acm-facade-{}-{}-{}", ::getpid(), counter++, rd());
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

const Actor kAdmin{"root", {"admin"}};

std::unique_ptr<Engine> open_engine(const std::string& database, std::shared_ptr<ManualClock> clock) {
  EngineOptions o;
  o.database = database;
  o.clock = std::move(clock);
  auto e = Engine::open(o);
  if (e->list_case_types().empty()) e->load_definitions(kAdmin, test::read_json("examples/definitions/helpdesk.json"));
  return e;
}

/// Runs `body(database)` with "" (in memory) and with a SQLite file.
void on_both_stores(const std::function<void(const std::string&)>& body) {
  SUBCASE("memory store") { body(""); }
  SUBCASE("sqlite store") {
    TempDir tmp;
    body(tmp.path("cases.db"));
  }
}


std::vector<std::uint64_t> seqs(const std::vector<Event>& events) {
  std::vector<std::uint64_t> out;
  for (const Event& e : events) out.push_back(e.seq);
  return out;
}

}  // namespace

TEST_SUITE("facade") {
  TEST_CASE("commands that create something return a CommandResult with `created`") {
    on_both_stores([](const std::string& db) {
      auto clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
      auto e = open_engine(db, clock);
      NewCase spec;
      spec.type = "complaint";
      spec.title = "Laptop broken";
      const CommandResult made = e->create_case(kAdmin, spec);
      CHECK(made.created == "case-1");
      const CaseInfo c = e->get_case(made.created);
      CHECK(made.version == c.version);
      // Its events are the case's whole history so far: creation, goal, initial fragment.
      REQUIRE(!made.events.empty());
      CHECK(made.events.front().kind == "case_created");
      CHECK(made.events.back().seq == made.version);
      CHECK(seqs(made.events) == seqs(e->history(made.created)));

      const CommandResult stage = e->add_fragment(kAdmin, made.created, {"escalation", 0, "resolved", Json::object()});
      CHECK(stage.created == "escalation#1");
      CHECK(stage.version == e->get_case(made.created).version);
      REQUIRE(!stage.events.empty());
      CHECK(stage.events.front().kind == "fragment_added");
      CHECK(stage.events.front().payload["item"] == stage.created);

      const CommandResult task = e->add_task(kAdmin, made.created, AdHocTask{.name = "call back", .manual = true});
      CHECK(task.created == "task#1");
      CHECK(task.events.front().kind == "task_added");
      CHECK(task.events.front().payload["item"] == task.created);
      const CaseInfo after = e->get_case(made.created);
      CHECK(std::any_of(after.items.begin(), after.items.end(),
                        [&](const PlanItemInfo& i) { return i.id == task.created; }));

      GoalSpec g;
      g.id = "call_back";
      g.name = "Call back";
      CHECK(e->add_goal(kAdmin, made.created, g).created == "call_back");
      CHECK(e->make_promise(kAdmin, made.created, {"p1", "a call", parse_time("2026-11-24T09:00:00Z")}).created ==
            "p1");
      CHECK(e->attach(kAdmin, made.created, Asset{.kind = "note", .text = "called"}).created == "asset-1");
      // Commands that create nothing leave it empty.
      CHECK(e->set_priority(kAdmin, made.created, 4).created.empty());
    });
  }

  TEST_CASE("create_case with an idempotency key returns its first result again, events included") {
    TempDir tmp;
    auto clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
    Request r(kAdmin);
    r.idempotency_key = "mail-4711";
    CommandResult first;
    {
      auto e = open_engine(tmp.path("cases.db"), clock);
      first = e->create_case(r, NewCase{.type = "complaint", .title = "once"});
      const CommandResult again = e->create_case(r, NewCase{.type = "complaint", .title = "once"});
      CHECK(again.created == first.created);
      CHECK(again.version == first.version);
      CHECK(seqs(again.events) == seqs(first.events));
      CHECK(e->list_cases().size() == 1);
    }
    // After a restart, from the store.
    auto e = open_engine(tmp.path("cases.db"), clock);
    const CommandResult again = e->create_case(r, NewCase{.type = "complaint", .title = "once"});
    CHECK(again.created == first.created);
    CHECK(again.version == first.version);
    REQUIRE(again.events.size() == first.events.size());
    for (std::size_t i = 0; i < first.events.size(); ++i) {
      CHECK(again.events[i].kind == first.events[i].kind);
      CHECK(again.events[i].payload == first.events[i].payload);
    }
    CHECK(e->list_cases().size() == 1);
  }

  TEST_CASE("every read of one case on behalf of an actor checks the view permission") {
    on_both_stores([](const std::string& db) {
      auto clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
      auto e = open_engine(db, clock);
      NewCase spec;
      spec.type = "complaint";
      spec.owner = "alice";
      spec.participants = {{"carl", {"customer"}}};
      const std::string id = e->create_case(kAdmin, spec).created;
      const Actor eve{"eve", {}}, carl{"carl", {}};
      const ActorView by_eve = e->as(eve);
      CHECK(by_eve.actor().id == "eve");
      CHECK(code_of([&] { by_eve.get_case(id); }) == ErrorCode::permission_denied);
      CHECK(code_of([&] { by_eve.find_case(id); }) == ErrorCode::permission_denied);
      CHECK(code_of([&] { by_eve.history(id); }) == ErrorCode::permission_denied);
      CHECK(code_of([&] { by_eve.inspect(id); }) == ErrorCode::permission_denied);
      CHECK(code_of([&] { by_eve.explain_priority(id); }) == ErrorCode::permission_denied);
      CHECK(code_of([&] { by_eve.applicable_fragments(id); }) == ErrorCode::permission_denied);
      // Unknown cases: not_found, and nullopt from find_case, as in the trusted reads.
      CHECK(code_of([&] { by_eve.get_case("nope"); }) == ErrorCode::not_found);
      CHECK(code_of([&] { by_eve.history("nope"); }) == ErrorCode::not_found);
      CHECK_FALSE(by_eve.find_case("nope").has_value());
      // An actor id is required, as for commands.
      CHECK(code_of([&] { e->as(Actor{}).get_case(id); }) == ErrorCode::invalid_argument);
      // The customer (a participant whose role grants view) reads what the host reads.
      const ActorView by_carl = e->as(carl);
      CHECK(by_carl.get_case(id).version == e->get_case(id).version);
      CHECK(by_carl.find_case(id)->id == id);
      CHECK(seqs(by_carl.history(id, 2)) == seqs(e->history(id, 2)));
      CHECK(by_carl.inspect(id) == e->inspect(id));
      CHECK(by_carl.inspect(id, true) == e->inspect(id, true));
      CHECK(by_carl.explain_priority(id) == e->explain_priority(id));
      // ... except the fragments on offer: only those the actor may add (the customer: none).
      CHECK_FALSE(e->applicable_fragments(id).empty());
      CHECK(by_carl.applicable_fragments(id).empty());
      CHECK(e->as(Actor{"alice", {}}).applicable_fragments(id).size() == e->applicable_fragments(id).size());
      // Removing the participant takes the view away at once.
      e->remove_participant(kAdmin, id, "carl");
      CHECK(code_of([&] { by_carl.get_case(id); }) == ErrorCode::permission_denied);
    });
  }

  TEST_CASE("list reads on behalf of an actor keep the cases it may view, and page over them") {
    on_both_stores([](const std::string& db) {
      auto clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
      auto e = open_engine(db, clock);
      // Seven complaints of customer ann; alice owns 0, 2, 4, 6; bob owns the others, where
      // alice is a supplier on 3 (view) and nothing on 1 and 5.
      std::vector<std::string> all, alices;
      for (int i = 0; i < 7; ++i) {
        NewCase spec;
        spec.type = "complaint";
        spec.title = fmt::format("c{}", i);
        spec.subject.customer = "ann";
        spec.owner = i % 2 == 0 ? "alice" : "bob";
        if (i == 3) spec.participants = {{"alice", {"supplier"}}};
        all.push_back(e->create_case(kAdmin, spec).created);
        if (i % 2 == 0 || i == 3) alices.push_back(all.back());
      }
      const ActorView alice = e->as(Actor{"alice", {}});
      // list_cases: creation order, `limit` and `after` count the visible cases only.
      CHECK(alice.list_cases() == alices);
      CHECK(alice.list_cases(2) == std::vector<std::string>{alices[0], alices[1]});
      CHECK(alice.list_cases(2, alices[1]) == std::vector<std::string>{alices[2], alices[3]});
      CHECK(alice.list_cases(10, alices.back()).empty());
      CHECK(alice.list_cases(0).empty());
      // An administrator sees what the host sees.
      CHECK(e->as(kAdmin).list_cases() == e->list_cases());

      // find_cases: newest first; offset, limit and total count the visible cases.
      std::vector<std::string> newest(alices.rbegin(), alices.rend());
      CasePage page = alice.find_cases({});
      CHECK(page.total == alices.size());
      REQUIRE(page.cases.size() == alices.size());
      for (std::size_t i = 0; i < newest.size(); ++i) CHECK(page.cases[i].id == newest[i]);
      page = alice.find_cases({.limit = 2, .offset = 1});
      CHECK(page.total == alices.size());
      REQUIRE(page.cases.size() == 2);
      CHECK(page.cases[0].id == newest[1]);
      CHECK(page.cases[1].id == newest[2]);
      CHECK(alice.find_cases({.owner = "bob"}).total == 1);  // case 3 only
      CHECK(e->as(kAdmin).find_cases({}).total == e->find_cases({}).total);
      CHECK(code_of([&] { alice.find_cases({.limit = 10001}); }) == ErrorCode::invalid_argument);

      // The work queue: each complaint has its triage open; alice sees those of her cases.
      const QueuePage everything = e->queue_page({});
      CHECK(everything.total == all.size());
      QueuePage mine = alice.queue_page({});
      CHECK(mine.total == alices.size());
      REQUIRE(mine.items.size() == alices.size());
      for (const WorkItem& w : mine.items) CHECK(std::find(alices.begin(), alices.end(), w.case_id) != alices.end());
      // The same order as the trusted queue, with the other cases left out.
      std::vector<std::string> expected;
      for (const WorkItem& w : everything.items)
        if (std::find(alices.begin(), alices.end(), w.case_id) != alices.end()) expected.push_back(w.case_id);
      std::vector<std::string> got;
      for (const WorkItem& w : mine.items) got.push_back(w.case_id);
      CHECK(got == expected);
      const QueuePage second = alice.queue_page({.limit = 2, .offset = 2});
      CHECK(second.total == alices.size());
      REQUIRE(second.items.size() == 2);
      CHECK(second.items[0].case_id == expected[2]);
      CHECK(second.items[1].case_id == expected[3]);
      CHECK(alice.queue({.limit = 3}).size() == 3);
      CHECK(alice.queue({.limit = 0}).empty());
      CHECK(alice.queue_page({.limit = 0}).total == alices.size());
      CHECK(code_of([&] { alice.queue({.limit = 10001}); }) == ErrorCode::invalid_argument);
      CHECK(e->as(Actor{"eve", {}}).queue_page({}).total == 0);

      // open_cases_of: newest first, the visible ones.
      CHECK(alice.open_cases_of("ann") == newest);
      CHECK(alice.open_cases_of("ann", 2) == std::vector<std::string>{newest[0], newest[1]});
      CHECK(e->as(Actor{"eve", {}}).open_cases_of("ann").empty());
    });
  }

  TEST_CASE("list reads on behalf of an actor page past the walk's internal page size") {
    // More cases than one step of the view's walk (1000 rows), so that paging crosses steps.
    auto clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
    auto e = open_engine("", clock);
    std::vector<std::string> alices;
    for (int i = 0; i < 2600; ++i) {
      const bool hers = i % 3 == 0;
      const std::string id = e->create_case(kAdmin, NewCase{.owner = hers ? "alice" : "bob"}).created;
      if (hers) alices.push_back(id);
    }
    const ActorView alice = e->as(Actor{"alice", {}});
    CHECK(alice.list_cases() == alices);
    const std::vector<std::string> tail = alice.list_cases(5, alices[700]);
    CHECK(tail == std::vector<std::string>(alices.begin() + 701, alices.begin() + 706));
    const CasePage page = alice.find_cases({.limit = 3, .offset = 800});
    CHECK(page.total == alices.size());
    REQUIRE(page.cases.size() == 3);
    CHECK(page.cases[0].id == alices[alices.size() - 801]);
  }
}
