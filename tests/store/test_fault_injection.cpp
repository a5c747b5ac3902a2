// SPDX-License-Identifier: Apache-2.0
// The engine on a store that fails on purpose (fault_store.hpp): every command kind and run_due,
// with a commit that fails before writing, fails after writing, loses the acknowledgement of
// its batch, or stalls. After each failure the error is reported, the engine holds no state
// the store does not have (its case is the fold of the stored events, at the stored version),
// and no timer is lost or fired twice.
#include "store/fault_store.hpp"

#include <acm/acm.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace acm;
using namespace acm::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using Fault = FaultStore::Fault;

const TimePoint kT0 = parse_time("2026-11-23T09:00:00Z");

/// A clock the test moves by hand, without firing anything by itself (not a ManualClock, so
/// the test calls run_due and sees its errors).
struct SetClock final : Clock {
  std::atomic<std::int64_t> ms{kT0.time_since_epoch().count()};
  TimePoint now() const override { return TimePoint{Duration{ms.load()}}; }
  void advance(Duration d) { ms += d.count(); }
};

/// A fresh directory under the system temp directory, removed with its contents.
struct TempDir {
  fs::path dir;
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    dir = fs::temp_directory_path() / fmt::format("acm-fault-test-{}-{}-{}", ::getpid(), counter++, rd());
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

/// An engine on a FaultStore over a memory or a SQLite store.
struct Rig {
  std::unique_ptr<TempDir> tmp;
  std::shared_ptr<SetClock> clock = std::make_shared<SetClock>();
  std::shared_ptr<FaultStore> store;
  std::unique_ptr<Engine> engine;
  Actor admin{"root", {"admin"}};
  std::vector<Event> delivered;

  explicit Rig(bool sqlite, std::size_t timer_batch = 512) {
    std::shared_ptr<CaseStore> inner;
    if (sqlite) {
      tmp = std::make_unique<TempDir>();
      SqliteStoreOptions so;
      so.path = (tmp->dir / "cases.db").string();
      inner = open_sqlite_store(so);
    } else {
      inner = open_memory_store();
    }
    store = std::make_shared<FaultStore>(inner);
    EngineOptions o;
    o.store = store;
    o.clock = clock;
    o.timer_batch = timer_batch;
    o.snapshot_every = 3;  // snapshots too are written by failing commits
    engine = Engine::open(o);
    engine->subscribe([this](const Event& e) { delivered.push_back(e); });
    engine->register_handler("boom", [](const TaskContext&) { return TaskResult{false, nullptr, "it broke"}; });
  }

  std::uint64_t stored_version(const std::string& id) {
    auto events = store->inner().load_events(id, 1);
    REQUIRE(events);
    return events->size();
  }

  /// The engine's case is what the store holds: same version, and the state the engine serves
  /// is the fold of the stored events; the stored work items are the case's open human tasks.
  void check_consistent(const std::string& id) {
    const CaseInfo info = engine->get_case(id);
    CHECK(info.version == stored_version(id));
    Json live = engine->inspect(id), rebuilt = engine->inspect(id, true);
    CHECK_MESSAGE(live == rebuilt, "case " << id << " differs from its stored history");
    std::vector<std::string> open, queued;
    if (info.status == CaseStatus::active || info.status == CaseStatus::suspended)
      for (const auto& it : info.items)
        if (it.kind == ItemKind::human_task &&
            (it.state == ItemState::enabled || it.state == ItemState::active || it.state == ItemState::suspended))
          open.push_back(it.id);
    for (const auto& w : engine->queue({.limit = 10000}))
      if (w.case_id == id) queued.push_back(w.item_id);
    std::sort(open.begin(), open.end());
    std::sort(queued.begin(), queued.end());
    CHECK(open == queued);
  }
};

/// A bare case "c" owned by "owner", with: goals g (deadline in 2 days), d (a decision) and a
/// promise p; ad-hoc tasks: an active one, a manual (enabled) one, a milestone and an automated
/// task that failed. Returns the item ids by name.
std::map<std::string, std::string> make_case(Rig& r) {
  NewCase spec;
  spec.id = "c";
  spec.title = "broken printer";
  spec.owner = "owner";
  spec.subject.customer = "cust-1";
  r.engine->create_case(r.admin, spec);
  std::map<std::string, std::string> ids;
  GoalSpec g;
  g.id = "g";
  g.name = "resolve";
  g.deadline = kT0 + 48h;
  r.engine->add_goal(r.admin, "c", g);
  GoalSpec d;
  d.id = "d";
  d.name = "decide";
  d.required = false;
  d.decision = true;
  r.engine->add_goal(r.admin, "c", d);
  r.engine->make_promise(r.admin, "c", PromiseSpec{"p", "call back", kT0 + 24h});
  AdHocTask active;
  active.name = "active";
  active.role = "agent";
  ids["active"] = r.engine->add_task(r.admin, "c", active).created;
  AdHocTask manual = active;
  manual.name = "manual";
  manual.manual = true;
  ids["manual"] = r.engine->add_task(r.admin, "c", manual).created;
  AdHocTask milestone;
  milestone.name = "reached";
  milestone.kind = ItemKind::milestone;
  ids["milestone"] = r.engine->add_task(r.admin, "c", milestone).created;
  AdHocTask robot;
  robot.name = "robot";
  robot.kind = ItemKind::automated_task;
  robot.handler = "boom";
  ids["failed"] = r.engine->add_task(r.admin, "c", robot).created;
  FragmentDef f;
  f.id = "frag";
  f.name = "frag";
  ItemDef t;
  t.id = "t";
  t.name = "t";
  f.items = {t};
  r.engine->register_fragment(r.admin, f);
  return ids;
}

struct CommandCase {
  std::string name;
  /// Brings the case where the command is valid (runs before the fault is armed).
  std::function<void(Rig&, std::map<std::string, std::string>&)> prep;
  std::function<void(Rig&, std::map<std::string, std::string>&)> run;
};

std::vector<CommandCase> command_cases() {
  using Ids = std::map<std::string, std::string>;
  auto none = [](Rig&, Ids&) {};
  const Actor a{"root", {"admin"}};
  std::vector<CommandCase> out = {
      {"create_case", none,
       [a](Rig& r, Ids&) {
         NewCase s;
         s.id = "fresh";
         s.title = "new";
         r.engine->create_case(a, s);
       }},
      {"set_owner", none, [a](Rig& r, Ids&) { r.engine->set_owner(a, "c", "bob"); }},
      {"add_participant", none, [a](Rig& r, Ids&) { r.engine->add_participant(a, "c", Participant{"eve", {"agent"}}); }},
      {"remove_participant", [a](Rig& r, Ids&) { r.engine->add_participant(a, "c", Participant{"eve", {"agent"}}); },
       [a](Rig& r, Ids&) { r.engine->remove_participant(a, "c", "eve"); }},
      {"set_priority", none, [a](Rig& r, Ids&) { r.engine->set_priority(a, "c", 7); }},
      {"set_subject_attribute", none,
       [a](Rig& r, Ids&) { r.engine->set_subject_attribute(a, "c", "tier", Json("gold")); }},
      {"suspend_case", none, [a](Rig& r, Ids&) { r.engine->suspend_case(a, "c", "waiting"); }},
      {"resume_case", [a](Rig& r, Ids&) { r.engine->suspend_case(a, "c"); },
       [a](Rig& r, Ids&) { r.engine->resume_case(a, "c"); }},
      {"complete_case",
       [a](Rig& r, Ids& ids) {
         r.engine->cancel_goal(a, "c", "g");
         r.engine->terminate_item(a, "c", ids["active"]);
       },
       [a](Rig& r, Ids&) { r.engine->complete_case(a, "c"); }},
      {"terminate_case", none, [a](Rig& r, Ids&) { r.engine->terminate_case(a, "c", "spam"); }},
      {"close_case", [a](Rig& r, Ids&) { r.engine->terminate_case(a, "c"); },
       [a](Rig& r, Ids&) { r.engine->close_case(a, "c"); }},
      {"reopen_case", [a](Rig& r, Ids&) { r.engine->terminate_case(a, "c"); },
       [a](Rig& r, Ids&) { r.engine->reopen_case(a, "c", "again"); }},
      {"add_goal", none,
       [a](Rig& r, Ids&) {
         GoalSpec g;
         g.id = "extra";
         g.name = "extra";
         r.engine->add_goal(a, "c", g);
       }},
      {"change_goal", none,
       [a](Rig& r, Ids&) {
         GoalChange ch;
         ch.name = "resolve it";
         r.engine->change_goal(a, "c", "g", ch);
       }},
      {"cancel_goal", none, [a](Rig& r, Ids&) { r.engine->cancel_goal(a, "c", "g", "no need"); }},
      {"achieve_goal", none, [a](Rig& r, Ids&) { r.engine->achieve_goal(a, "c", "d"); }},
      {"pause_goal", none, [a](Rig& r, Ids&) { r.engine->pause_goal(a, "c", "g", "customer away"); }},
      {"resume_goal", [a](Rig& r, Ids&) { r.engine->pause_goal(a, "c", "g"); },
       [a](Rig& r, Ids&) { r.engine->resume_goal(a, "c", "g"); }},
      {"make_promise", none,
       [a](Rig& r, Ids&) { r.engine->make_promise(a, "c", PromiseSpec{"p2", "refund", kT0 + 72h}); }},
      {"keep_promise", none, [a](Rig& r, Ids&) { r.engine->keep_promise(a, "c", "p"); }},
      {"cancel_promise", none, [a](Rig& r, Ids&) { r.engine->cancel_promise(a, "c", "p", "moot"); }},
      {"add_fragment", none, [a](Rig& r, Ids&) { r.engine->add_fragment(a, "c", FragmentUse{"frag", 0, "", Json::object()}); }},
      {"add_task", none,
       [a](Rig& r, Ids&) {
         AdHocTask t;
         t.name = "call";
         r.engine->add_task(a, "c", t);
       }},
      {"add_dependency", none, [a](Rig& r, Ids& ids) { r.engine->add_dependency(a, "c", ids["manual"], ids["active"]); }},
      {"remove_item", none, [a](Rig& r, Ids& ids) { r.engine->remove_item(a, "c", ids["manual"]); }},
      {"start_item", none, [a](Rig& r, Ids& ids) { r.engine->start_item(a, "c", ids["manual"]); }},
      {"complete_item", none, [a](Rig& r, Ids& ids) { r.engine->complete_item(a, "c", ids["active"]); }},
      {"assign_item", [a](Rig& r, Ids&) { r.engine->add_participant(a, "c", Participant{"bob", {"agent"}}); },
       [a](Rig& r, Ids& ids) { r.engine->assign_item(a, "c", ids["active"], "bob"); }},
      {"terminate_item", none, [a](Rig& r, Ids& ids) { r.engine->terminate_item(a, "c", ids["active"]); }},
      {"suspend_item", none, [a](Rig& r, Ids& ids) { r.engine->suspend_item(a, "c", ids["active"]); }},
      {"resume_item", [a](Rig& r, Ids& ids) { r.engine->suspend_item(a, "c", ids["active"]); },
       [a](Rig& r, Ids& ids) { r.engine->resume_item(a, "c", ids["active"]); }},
      {"disable_item", none, [a](Rig& r, Ids& ids) { r.engine->disable_item(a, "c", ids["manual"]); }},
      {"reenable_item", [a](Rig& r, Ids& ids) { r.engine->disable_item(a, "c", ids["manual"]); },
       [a](Rig& r, Ids& ids) { r.engine->reenable_item(a, "c", ids["manual"]); }},
      {"reactivate_item", none, [a](Rig& r, Ids& ids) { r.engine->reactivate_item(a, "c", ids["failed"]); }},
      {"occur", none, [a](Rig& r, Ids& ids) { r.engine->occur(a, "c", ids["milestone"]); }},
      {"set_file", none, [a](Rig& r, Ids&) { r.engine->set_file(a, "c", "printer.model", Json("LX-4")); }},
      {"remove_file", [a](Rig& r, Ids&) { r.engine->set_file(a, "c", "tmp", Json(1)); },
       [a](Rig& r, Ids&) { r.engine->remove_file(a, "c", "tmp"); }},
      {"attach", none,
       [a](Rig& r, Ids&) {
         Asset n;
         n.kind = "note";
         n.title = "call";
         n.text = "customer called";
         r.engine->attach(a, "c", n);
       }},
      {"signal", none, [a](Rig& r, Ids&) { r.engine->signal(a, "c", "customer_replied", Json{{"channel", "mail"}}); }},
  };
  return out;
}

/// Runs `f`, expects Error(storage) from the injected fault.
void expect_injected(const std::function<void()>& f) {
  try {
    f();
    FAIL("no error: the injected fault was not reported");
  } catch (const Error& e) {
    CHECK_MESSAGE(e.code() == ErrorCode::storage, e.what());
    CHECK_MESSAGE(std::string(e.what()).find("injected fault") != std::string::npos, e.what());
  }
}

std::size_t count_kind(const std::vector<Event>& events, const std::string& kind, const std::string& key = {},
                       const std::string& value = {}) {
  std::size_t n = 0;
  for (const auto& e : events)
    if (e.kind == kind && (key.empty() || (e.payload.contains(key) && e.payload[key] == value))) ++n;
  return n;
}

}  // namespace

TEST_SUITE("fault injection") {
  TEST_CASE("every command kind: a commit that fails before writing changes nothing and is reported") {
    for (bool sqlite : {false, true})
      for (const auto& cmd : command_cases()) {
        CAPTURE(sqlite);
        CAPTURE(cmd.name);
        Rig r(sqlite);
        auto ids = make_case(r);
        cmd.prep(r, ids);
        const std::string id = cmd.name == "create_case" ? "fresh" : "c";
        const std::uint64_t before = cmd.name == "create_case" ? 0 : r.stored_version("c");
        const Json state_before = r.engine->inspect("c");
        const std::size_t delivered = r.delivered.size();
        r.store->arm(Fault::fail_before);
        expect_injected([&] { cmd.run(r, ids); });
        CHECK(r.store->fired() == 1);
        CHECK(r.delivered.size() == delivered);  // nothing announced that was not stored
        if (cmd.name == "create_case") {
          CHECK_FALSE(r.engine->find_case("fresh"));
          CHECK_FALSE(r.store->inner().load_events("fresh", 1));
        } else {
          CHECK(r.stored_version("c") == before);
          CHECK(r.engine->get_case("c").version == before);
          CHECK(r.engine->inspect("c") == state_before);
        }
        r.check_consistent("c");
        // The same command goes through once the store works again.
        cmd.run(r, ids);
        CHECK(r.stored_version(id) > before);
        r.check_consistent(id);
      }
  }

  TEST_CASE("every command kind: a commit that fails after writing is reported, and the engine serves the stored truth") {
    for (bool sqlite : {false, true})
      for (const auto& cmd : command_cases()) {
        CAPTURE(sqlite);
        CAPTURE(cmd.name);
        Rig r(sqlite);
        auto ids = make_case(r);
        cmd.prep(r, ids);
        const std::string id = cmd.name == "create_case" ? "fresh" : "c";
        const std::uint64_t before = cmd.name == "create_case" ? 0 : r.stored_version("c");
        r.store->arm(Fault::fail_after);
        expect_injected([&] { cmd.run(r, ids); });
        CHECK(r.store->fired() == 1);
        // The write happened: the engine reloads the case from the store, with it.
        CHECK(r.stored_version(id) > before);
        CHECK(r.engine->get_case(id).version == r.stored_version(id));
        r.check_consistent(id);
        if (id != "c") r.check_consistent("c");
        // And the case goes on from there.
        if (r.engine->get_case(id).status == CaseStatus::active) {
          r.engine->set_file(r.admin, id, "after", Json(true));
          r.check_consistent(id);
        }
      }
  }

  TEST_CASE("an idempotent retry after a fail-after-write returns the stored result, not a second command") {
    for (bool sqlite : {false, true}) {
      CAPTURE(sqlite);
      Rig r(sqlite);
      make_case(r);
      Request req(r.admin);
      req.idempotency_key = "retry-1";
      r.store->arm(Fault::fail_after);
      expect_injected([&] { r.engine->set_priority(req, "c", 9); });
      const std::uint64_t v = r.stored_version("c");
      auto again = r.engine->set_priority(req, "c", 9);  // the host retries
      CHECK(again.version == v);
      CHECK(r.stored_version("c") == v);  // nothing appended twice
      CHECK(r.engine->get_case("c").priority == 9);
      r.check_consistent("c");
    }
  }

  TEST_CASE("a stalled commit holds its case only, and completes once released") {
    for (bool sqlite : {false, true}) {
      CAPTURE(sqlite);
      Rig r(sqlite);
      make_case(r);
      NewCase other;
      other.id = "other";
      r.engine->create_case(r.admin, other);
      const std::uint64_t before = r.stored_version("c");
      r.store->arm(Fault::stall);
      std::atomic<bool> done{false};
      std::exception_ptr error;
      std::thread t([&] {
        try {
          r.engine->set_priority(r.admin, "c", 5);
        } catch (...) {
          error = std::current_exception();
        }
        done = true;
      });
      r.store->wait_stalled();
      // Other cases go on meanwhile; the stalled write is not in the store yet.
      r.engine->set_file(r.admin, "other", "x", Json(1));
      CHECK(r.stored_version("c") == before);
      CHECK_FALSE(done.load());
      r.store->release();
      t.join();
      CHECK_FALSE(error);  // a stall alone is no failure
      CHECK(r.stored_version("c") == before + 1);
      CHECK(r.engine->get_case("c").priority == 5);
      r.check_consistent("c");
      r.check_consistent("other");
    }
  }

  TEST_CASE("run_due: a failed timer commit is reported, stays due, and fires exactly once later") {
    for (bool sqlite : {false, true})
      for (Fault fault : {Fault::fail_before, Fault::fail_after, Fault::lost_batch}) {
        CAPTURE(sqlite);
        CAPTURE(static_cast<int>(fault));
        Rig r(sqlite, /*timer_batch=*/2);  // 5 due cases: three chunks
        std::vector<std::string> cases;
        for (int i = 0; i < 5; ++i) {
          NewCase s;
          s.id = fmt::format("t{}", i);
          r.engine->create_case(r.admin, s);
          GoalSpec g;
          g.id = "g";
          g.name = "answer";
          g.deadline = kT0 + 1h + std::chrono::minutes(i);
          r.engine->add_goal(r.admin, s.id, g);
          cases.push_back(s.id);
        }
        r.clock->advance(2h);
        r.store->arm(fault, 2);  // the first commit of the second chunk (t2)
        expect_injected([&] { r.engine->run_due(); });
        CHECK(r.store->fired() == 1);
        for (const auto& id : cases) r.check_consistent(id);
        // What was not written is still due; what was written is not due again.
        r.engine->run_due();
        r.engine->run_due();
        for (const auto& id : cases) {
          CAPTURE(id);
          auto events = r.store->inner().load_events(id, 1);
          REQUIRE(events);
          CHECK(count_kind(*events, "goal_timing", "to", "overdue") == 1);  // exactly once
          CHECK(r.engine->get_case(id).goals.front().timing == Timing::overdue);
          r.check_consistent(id);
        }
        auto next = r.engine->next_due();
        CHECK((!next || *next > r.clock->now()));  // nothing left due now
      }
  }
}
