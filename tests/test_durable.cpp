// SPDX-License-Identifier: Apache-2.0
// The engine on its store: reopen restores every case exactly, timers due while closed fire
// once, lazy loading and the cache, idempotency keys, the work-queue read model.
#include "store/sqlite.hpp"
#include "support.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <thread>

using namespace acm;
using namespace acm::test;
using namespace std::chrono_literals;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int n = 0;
    path = std::filesystem::temp_directory_path() / ("acm-test-" + std::to_string(getpid()) + "-" + std::to_string(++n));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const char* name) const { return (path / name).string(); }
};

/// The message of the Error `f` throws, which must have `code`.
std::string error_of(const std::function<void()>& f, ErrorCode code) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.code() == code);
    return e.what();
  }
  FAIL("no error thrown");
  return {};
}

std::unique_ptr<Engine> open_at(const std::string& db, std::shared_ptr<Clock> clock, std::size_t cache = 100000) {
  EngineOptions o;
  o.database = db;
  o.clock = std::move(clock);
  o.cache_capacity = cache;
  o.snapshot_every = 5;
  return Engine::open(o);
}

// Plays the help-desk story up to the repair, leaving timers and open work.
std::string play(Engine& e, ManualClock& clock) {
  e.load_definitions(Actor{"root", {"admin"}}, read_json("examples/definitions/helpdesk.json"));
  NewCase spec;
  spec.type = "complaint";
  spec.title = "Laptop";
  spec.subject.customer = "cust-42";
  spec.subject.attributes = {{"value", 25000}};
  spec.participants = {{"bob", {"agent"}}};
  Actor alice{"alice", {}}, bob{"bob", {}};
  auto id = e.create_case(alice, spec).created;
  e.attach(alice, id, Asset{.kind = "note", .title = "call", .text = "angry"});
  clock.advance(20min);
  e.complete_item(bob, id, "diagnosis#1/triage");
  e.set_file(bob, id, "diagnosis.fault", "hardware");
  e.complete_item(bob, id, "diagnosis#1/diagnose");
  e.add_participant(alice, id, {"acme", {"supplier"}});
  e.add_fragment(alice, id, {"supplier_repair", 0, "resolved", {{"supplier", "acme"}}});
  e.add_fragment(alice, id, {"customer_followup", 0, "resolved", Json::object()});
  return id;
}

}  // namespace

TEST_CASE("durable: reopening a store restores every case exactly") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  std::string id;
  Json before, info_before;
  std::vector<Event> history_before;
  {
    auto e = open_at(dir.file("acm.db"), clock);
    id = play(*e, *clock);
    before = e->inspect(id);
    info_before = to_json(e->get_case(id));
    history_before = e->history(id);
  }
  auto e = open_at(dir.file("acm.db"), clock);
  CHECK(e->inspect(id) == before);
  CHECK(to_json(e->get_case(id)) == info_before);
  auto h = e->history(id);
  REQUIRE(h.size() == history_before.size());
  for (std::size_t i = 0; i < h.size(); ++i) CHECK(to_json(h[i]) == to_json(history_before[i]));
  CHECK(e->get_fragment("supplier_repair").version == 1);
  // And work goes on where it stopped.
  e->complete_item(Actor{"bob", {}}, id, "supplier_repair#1/ship_to_supplier");
  bool repair_active = false;
  for (const auto& i : e->get_case(id).items)
    if (i.id == "supplier_repair#1/repair") repair_active = i.state == ItemState::active;
  CHECK(repair_active);
}

TEST_CASE("durable: timers that fell due while the engine was closed fire exactly once on reopen") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  std::string id;
  {
    auto e = open_at(dir.file("acm.db"), clock);
    id = play(*e, *clock);
    CHECK(e->next_due() == t("2026-11-23T11:20:00Z"));  // ship_to_supplier uses up its estimate
  }
  // Two days pass while nothing runs.
  auto later = std::make_shared<ManualClock>(t("2026-11-26T12:00:00Z"));
  {
    auto e = open_at(dir.file("acm.db"), later);
    CHECK(e->get_case(id).goals[0].timing == Timing::on_track);  // nothing has fired yet
    CHECK(e->run_due() >= 1);
    CHECK(e->get_case(id).goals[0].timing == Timing::overdue);
    CHECK(e->run_due() == 0);
  }
  auto e = open_at(dir.file("acm.db"), later);
  CHECK(e->run_due() == 0);
  int overdue = 0;
  for (const auto& ev : e->history(id))
    if (ev.kind == "goal_timing" && ev.payload["to"] == "overdue") ++overdue;
  CHECK(overdue == 1);
}

TEST_CASE("durable: a goal whose risk time passed while its case was not in memory turns at risk on run_due") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  std::string id;
  Actor alice{"alice", {}};
  {
    auto e = open_at(dir.file("acm.db"), clock);
    e->load_definitions(Actor{"root", {"admin"}}, read_json("examples/definitions/helpdesk.json"));
    NewCase spec;
    spec.type = "complaint";
    spec.title = "Callback";
    id = e->create_case(alice, spec).created;
    // Two hours of calendar time for one hour of work: at risk after the first hour.
    e->add_goal(alice, id, GoalSpec{.id = "cb", .name = "Call back", .required = false, .within = 2h});
    e->add_task(alice, id, AdHocTask{.name = "call", .estimate = 1h, .goal = "cb", .manual = true});
    REQUIRE(e->get_case(id).goals.back().timing == Timing::on_track);
  }
  // 90 minutes later, on a fresh engine: the case is loaded cold by run_due.
  auto later = std::make_shared<ManualClock>(t("2026-11-23T10:30:00Z"));
  auto count_at_risk = [&](Engine& e) {
    int n = 0;
    for (const auto& ev : e.history(id))
      if (ev.kind == "goal_timing" && ev.payload["goal"] == "cb" && ev.payload["to"] == "at_risk") ++n;
    return n;
  };
  {
    auto e = open_at(dir.file("acm.db"), later);
    CHECK(e->run_due() >= 1);
    for (const auto& g : e->get_case(id).goals)
      if (g.id == "cb") CHECK(g.timing == Timing::at_risk);
    CHECK(count_at_risk(*e) == 1);
  }
  // Recorded once: a later engine finds nothing more to fire.
  auto e = open_at(dir.file("acm.db"), later);
  CHECK(e->run_due() == 0);
  CHECK(count_at_risk(*e) == 1);
}

TEST_CASE("durable: cases load lazily and the cache drops idle cases") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  std::vector<std::string> ids;
  {
    auto e = open_at(dir.file("acm.db"), clock, /*cache=*/16);
    for (int i = 0; i < 60; ++i) {
      ids.push_back(e->create_case(Actor{"root", {"admin"}}, NewCase{.title = "c" + std::to_string(i)}).created);
      e->set_file(Actor{"root", {"admin"}}, ids.back(), "n", i);
    }
    // Every case still answers, reloaded from the store when it is not cached.
    for (int i = 0; i < 60; ++i) CHECK(e->get_case(ids[static_cast<std::size_t>(i)]).file["n"] == i);
    CHECK(e->list_cases().size() == 60);
    CHECK(e->list_cases(5, "no-such-case").empty());
    CHECK(e->list_cases(5, ids[9]) == std::vector<std::string>(ids.begin() + 10, ids.begin() + 15));
  }
  auto e = open_at(dir.file("acm.db"), clock, 16);
  CHECK(e->get_case(ids[17]).title == "c17");
  // New ids continue after the stored ones.
  auto next = e->create_case(Actor{"root", {"admin"}}, NewCase{}).created;
  CHECK(next == "case-61");
}

TEST_CASE("durable: a command retried with the same idempotency key applies once") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  auto e = open_at(dir.file("acm.db"), clock);
  Actor root{"root", {"admin"}};
  Request create(root);
  create.idempotency_key = "intake-msg-1";
  auto id = e->create_case(create, NewCase{.title = "once"}).created;
  CHECK(e->create_case(create, NewCase{.title = "once"}).created == id);
  CHECK(e->list_cases().size() == 1);
  Request set(root);
  set.idempotency_key = "set-1";
  auto first = e->set_file(set, id, "x", 1);
  auto again = e->set_file(set, id, "x", 1);
  CHECK(again.version == first.version);
  REQUIRE(again.events.size() == first.events.size());
  CHECK(to_json(again.events[0]) == to_json(first.events[0]));
  CHECK(e->get_case(id).version == first.version);
  // The key survives a restart.
  e.reset();
  e = open_at(dir.file("acm.db"), clock);
  CHECK(e->set_file(set, id, "x", 1).version == first.version);
  CHECK(e->get_case(id).version == first.version);
  // A key belongs to the actor who used it: another actor presenting it gets nothing back.
  Request other(Actor{"mallory", {"admin"}});
  other.idempotency_key = "set-1";
  CHECK(error_of([&] { e->set_file(other, id, "x", 1); }, ErrorCode::conflict).find("used by actor 'root'") !=
        std::string::npos);
  other.idempotency_key = "intake-msg-1";
  CHECK(error_of([&] { e->create_case(other, NewCase{.title = "once"}); }, ErrorCode::conflict)
            .find("used by actor 'root'") != std::string::npos);
  // A command that changed nothing keeps its key too: retried after the value changed, it
  // still answers with its first result and does not apply again.
  Request noop(root);
  noop.idempotency_key = "set-2";
  auto same = e->set_file(noop, id, "x", 1);  // x is 1 already: no event
  CHECK(same.events.empty());
  CHECK(same.version == first.version);
  e->set_file(root, id, "x", 2);
  auto retried = e->set_file(noop, id, "x", 1);
  CHECK(retried.version == same.version);
  CHECK(retried.events.empty());
  CHECK(e->get_case(id).file["x"] == 2);
}

TEST_CASE("durable: the work-queue read model follows the cases") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  auto e = open_at(dir.file("acm.db"), clock);
  std::string id = play(*e, *clock);
  auto mine = e->queue(QueueFilter{.assignee = "bob", .roles = {"agent"}});
  REQUIRE(mine.size() == 2);  // ship_to_supplier (agent, unassigned) and call_customer (enabled)
  CHECK(mine[0].case_id == id);
  std::vector<std::string> names{mine[0].item_id, mine[1].item_id};
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"customer_followup#1/call_customer", "supplier_repair#1/ship_to_supplier"});
  CHECK(e->queue(QueueFilter{.assignee = "acme", .roles = {"supplier"}}).empty());
  e->complete_item(Actor{"bob", {}}, id, "supplier_repair#1/ship_to_supplier");
  auto sup = e->queue(QueueFilter{.roles = {"supplier"}});
  REQUIRE(sup.size() == 1);
  CHECK(sup[0].item_id == "supplier_repair#1/repair");
  e->assign_item(Actor{"alice", {}}, id, "supplier_repair#1/repair", "acme");
  CHECK(e->queue(QueueFilter{.roles = {"supplier"}}).empty());  // assigned: no longer the team's
  CHECK(e->queue(QueueFilter{.assignee = "acme"}).size() == 1);
  e->set_priority(Actor{"alice", {}}, id, 7);
  CHECK(e->queue(QueueFilter{.assignee = "acme"})[0].priority == 7);
}

TEST_CASE("durable: a bad store file is refused with a clear error and left untouched") {
  TempDir dir;
  std::string path = dir.file("not-a-store.db");
  {
    std::ofstream out(path);
    out << "this is not a database, just text that happens to be long enough to look like something.\n";
  }
  auto size = std::filesystem::file_size(path);
  EngineOptions o;
  o.database = path;
  CHECK_THROWS_AS(Engine::open(o), Error);
  try {
    Engine::open(o);
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::storage);
  }
  CHECK(std::filesystem::file_size(path) == size);
  // A second engine on the same file is refused while the first has it open.
  EngineOptions good;
  good.database = dir.file("acm.db");
  auto first = Engine::open(good);
  CHECK_THROWS_AS(Engine::open(good), Error);
}

TEST_CASE("durable: run_due fires thousands of cold cases in chunks, each once, past a case that cannot load") {
  // More due cases than two timer chunks (512 each) and a cache far smaller than a chunk: the
  // chunk's cases must stay pinned in the cache while they are fired and written. One case is
  // damaged on disk; the others still fire, and run_due then reports it.
  TempDir dir;
  const auto t0 = t("2026-11-23T09:00:00Z");
  auto clock = std::make_shared<ManualClock>(t0);
  constexpr int kThreads = 6, kPerThread = 200;
  {
    EngineOptions o;
    o.database = dir.file("acm.db");
    o.clock = clock;
    auto e = Engine::open(o);
    FragmentDef wait;
    wait.id = "wait";
    ItemDef timer;
    timer.id = "reminder";
    timer.kind = ItemKind::timer_listener;
    timer.timer = 1h;
    wait.items = {timer};
    CaseTypeDef type;
    type.id = "waiting";
    type.initial_fragments = {FragmentUse{"wait", 0, "", Json::object()}};
    e->register_fragment(Actor{"root", {"admin"}}, wait);
    e->register_case_type(Actor{"root", {"admin"}}, type);
    std::vector<std::thread> threads;  // several threads: their commits share transactions
    for (int th = 0; th < kThreads; ++th)
      threads.emplace_back([&] {
        for (int i = 0; i < kPerThread; ++i) e->create_case(Actor{"alice", {}}, NewCase{.type = "waiting"});
      });
    for (auto& th : threads) th.join();
    CHECK(e->next_due() == t0 + 1h);
  }
  {
    store::sql::Database db(dir.file("acm.db"), store::sql::Database::Access::read_write);
    db.exec("UPDATE cases SET version = version + 5 WHERE id = 'case-7'");  // its events no longer reach it
  }
  auto later = std::make_shared<ManualClock>(t0 + 2h);
  EngineOptions o;
  o.database = dir.file("acm.db");
  o.clock = later;
  o.cache_capacity = 16;
  auto e = Engine::open(o);
  std::atomic<int> occurred{0};
  e->subscribe([&](const Event& ev) {
    if (ev.kind == "item_transition" && ev.payload["transition"] == "occur") occurred++;
  });
  const std::string message = error_of([&] { e->run_due(); }, ErrorCode::storage);
  CHECK_MESSAGE(message.find("case-7") != std::string::npos, message);
  CHECK(occurred == kThreads * kPerThread - 1);
  // Nothing fires twice, and the damaged case is still due (it is reported again).
  CHECK_THROWS_AS(e->run_due(), Error);
  CHECK(occurred == kThreads * kPerThread - 1);
  CHECK(e->next_due() == t0 + 1h);
  for (const char* id : {"case-1", "case-600", "case-1200"}) {
    int n = 0;
    for (const auto& ev : e->history(id)) n += ev.kind == "item_transition" && ev.payload["transition"] == "occur";
    CHECK_MESSAGE(n == 1, id);
    CHECK(e->get_case(id).items.at(1).state == ItemState::completed);
  }
}

TEST_CASE("durable: after a reopen a running case keeps the fragment versions it was built from") {
  auto task = [](const char* id, int minutes) {
    ItemDef d;
    d.id = id;
    d.name = id;
    d.estimate = std::chrono::duration_cast<Duration>(std::chrono::minutes(minutes));
    return d;
  };
  auto fragment = [](int version, std::vector<ItemDef> items) {
    FragmentDef f;
    f.id = "repair";
    f.name = "repair";
    f.version = version;
    f.items = std::move(items);
    return f;
  };
  Actor admin{"root", {"admin"}}, owner{"owner", {}};
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  std::vector<std::string> ids;
  Json before;
  {
    auto e = open_at(dir.file("acm.db"), clock);
    e->register_fragment(admin, fragment(1, {task("inspect", 30)}));
    for (int n = 0; n < 2; ++n) {
      NewCase spec;
      spec.title = "case";
      spec.owner = "owner";
      ids.push_back(e->create_case(admin, spec).created);
      e->add_fragment(owner, ids.back(), {"repair", 0, "", Json::object()});
    }
    // The first case runs past its snapshot interval (5 events) so that it reopens from a
    // snapshot; the second reopens from its events alone.
    for (int i = 0; i < 6; ++i) e->set_file(owner, ids[0], "step", i);
    e->register_fragment(admin, fragment(2, {task("inspect", 30), task("replace", 90)}));
    before = Json::array({e->inspect(ids[0]), e->inspect(ids[1])});
  }
  {
    store::sql::Database db(dir.file("acm.db"), store::sql::Database::Access::read_only);
    REQUIRE(db.query_int64("SELECT count(*) FROM snapshots WHERE case_id = '" + ids[0] + "'") == 1);
    REQUIRE(db.query_int64("SELECT count(*) FROM snapshots WHERE case_id = '" + ids[1] + "'") == 0);
  }
  auto e = open_at(dir.file("acm.db"), clock);
  CHECK(e->get_fragment("repair").version == 2);
  for (std::size_t n = 0; n < ids.size(); ++n) {
    INFO("case " << n);
    CHECK(e->inspect(ids[n]) == before[n]);
    CHECK(e->inspect(ids[n], true) == before[n]);  // replaying its events gives the same case
    auto c = e->get_case(ids[n]);
    REQUIRE(c.items.size() == 2);  // the fragment's stage and version 1's single task
    for (const auto& i : c.items) CHECK(i.fragment_version == 1);
  }
  // Adding the fragment again now takes version 2, beside the version-1 items, and that too
  // survives a reopen.
  e->add_fragment(owner, ids[1], {"repair", 0, "", Json::object()});
  auto grown = e->inspect(ids[1]);
  e.reset();
  e = open_at(dir.file("acm.db"), clock);
  CHECK(e->inspect(ids[1]) == grown);
  int v1 = 0, v2 = 0;
  for (const auto& i : e->get_case(ids[1]).items) (i.fragment_version == 1 ? v1 : v2) += 1;
  CHECK(v1 == 2);
  CHECK(v2 == 3);
}

TEST_CASE("durable: values over max_payload_bytes or nested too deeply are refused and change nothing") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  auto open_limited = [&] {
    EngineOptions o;
    o.database = dir.file("acm.db");
    o.clock = clock;
    o.max_payload_bytes = 4096;
    return Engine::open(o);
  };
  Actor admin{"root", {"admin"}}, owner{"owner", {}};
  const std::string big(5000, 'x'), fits(3000, 'y');
  std::string id;
  Json before;
  std::uint64_t version = 0;
  {
    auto e = open_limited();
    e->register_handler("chatty", [&](const TaskContext&) { return TaskResult{true, Json{{"log", big}}, ""}; });
    id = e->create_case(admin, NewCase{.title = "limits", .owner = "owner"}).created;
    e->set_file(owner, id, "small", fits);  // under the limit: accepted
    before = e->inspect(id);
    version = e->get_case(id).version;
    auto refused = [&](auto&& command, const std::string& what) {
      try {
        command();
        FAIL("accepted");
      } catch (const Error& err) {
        CHECK(err.code() == ErrorCode::invalid_argument);
        CHECK_MESSAGE(std::string(err.what()).find(what + " is larger than 4096 bytes") != std::string::npos,
                      err.what());
      }
      CHECK(e->inspect(id) == before);
      CHECK(e->get_case(id).version == version);
    };
    refused([&] { e->set_file(owner, id, "big", big); }, "the value for 'big'");
    refused([&] { e->set_file(owner, id, "many", Json(std::vector<std::string>(300, std::string(20, 'z')))); },
            "the value for 'many'");
    refused([&] { e->signal(owner, id, "ping", Json{{"body", big}}); }, "the payload of event 'ping'");
    refused([&] { e->attach(owner, id, Asset{.kind = "note", .title = "long", .text = big}); },
            "the 'asset_attached' event's payload");  // checked as the event is emitted
    refused(
        [&] {
          e->attach(owner, id, Asset{.kind = "note", .title = "short", .text = "x", .metadata = {{"m", big}}});
        },
        "the asset's metadata");
    // A value nested deeper than any payload may be is refused by name, not by a crash.
    // (100,000 levels: copying or comparing it would overflow the stack.)
    const Json deep = Json::parse(std::string(100000, '[') + std::string(100000, ']'));
    try {
      e->set_file(owner, id, "deep", deep);
      FAIL("accepted");
    } catch (const Error& err) {
      CHECK(err.code() == ErrorCode::invalid_argument);
      CHECK_MESSAGE(std::string(err.what()).find("nests more than 256 levels") != std::string::npos, err.what());
    }
    CHECK(e->inspect(id) == before);
    // So is a definition built in C++ carrying such a value (registering copies it); nothing is
    // registered.
    FragmentDef nested;
    nested.id = "nested";
    nested.items.emplace_back();
    nested.items[0].id = "n";
    nested.items[0].kind = ItemKind::automated_task;
    nested.items[0].handler = "h";
    nested.items[0].input = Json::parse(std::string(100000, '[') + std::string(100000, ']'));
    try {
      e->register_fragment(admin, nested);
      FAIL("accepted");
    } catch (const Error& err) {
      CHECK(err.code() == ErrorCode::invalid_definition);
      CHECK_MESSAGE(std::string(err.what()).find("/items/0/input: nests more than 256 levels") != std::string::npos,
                    err.what());
    }
    CHECK_THROWS_AS(e->get_fragment("nested", 0), Error);
    try {
      e->register_fragment(owner, nested);  // not a designer: refused before the definition is read
      FAIL("accepted");
    } catch (const Error& err) {
      CHECK(err.code() == ErrorCode::permission_denied);
    }
    // A case created with an oversized initial file does not exist afterwards.
    NewCase huge{.title = "huge", .owner = "owner"};
    huge.file = Json{{"blob", big}};
    CHECK_THROWS_AS(e->create_case(admin, huge), Error);
    CHECK(e->list_cases(10).size() == 1);
    // Adds a fragment `name` of one automated task `name` that writes its output to `name`.
    auto add_automated = [&](const std::string& name, const std::string& handler) {
      ItemDef task;
      task.id = name;
      task.name = name;
      task.kind = ItemKind::automated_task;
      task.handler = handler;
      task.output = name;
      FragmentDef frag;
      frag.id = name;
      frag.name = name;
      frag.items = {task};
      e->register_fragment(admin, frag);
      return e->add_fragment(owner, id, {name, 0, "", Json::object()}).created;
    };
    // An automated task whose output is too large fails, saying why; the case goes on.
    add_automated("dump", "chatty");
    bool failed = false;
    for (const auto& ev : e->history(id))
      if (ev.kind == "item_transition" && ev.payload["to"] == "failed") {
        failed = true;
        CHECK(ev.payload["error"].get<std::string>().find("cannot store the output") != std::string::npos);
        CHECK(ev.payload["error"].get<std::string>().find("larger than 4096 bytes") != std::string::npos);
      }
    CHECK(failed);
    CHECK_FALSE(e->get_case(id).file.contains("dump"));
    // A refusal after the command emitted other events (completing an unassigned task assigns
    // it first; the output alone is under the limit, the event carrying it is not): the case
    // is restored from the store.
    auto form_stage = add_automated("form", "external");  // no handler registered: the host completes it
    before = e->inspect(id);
    version = e->get_case(id).version;
    refused(
        [&] {
          e->complete_item(owner, id, form_stage + "/form", Json{{"answer", big}});
        },
        "the output of '" + form_stage + "/form'");
    refused(
        [&] {
          e->complete_item(owner, id, form_stage + "/form", Json{{"answer", std::string(4060, 'a')}});
        },
        "the 'file_set' event's payload");
    e->complete_item(owner, id, form_stage + "/form", Json{{"answer", fits}});
    CHECK(e->get_case(id).file["form"]["answer"] == fits);
    before = e->inspect(id);
  }
  // Nothing refused reached the file.
  auto e = open_limited();
  CHECK(e->inspect(id) == before);
  CHECK(e->inspect(id, true) == before);
  CHECK(e->list_cases(10).size() == 1);
  // The limit is an option, checked when the engine opens.
  EngineOptions tiny;
  tiny.max_payload_bytes = 100;
  CHECK_THROWS_WITH_AS(Engine::open(tiny), doctest::Contains("max_payload_bytes must be at least 1024"), Error);
}
