// SPDX-License-Identifier: Apache-2.0
// Issue 14 (runtime and store): definitions that cannot end, bounded growth per command, text
// at the boundary, damaged store rows and snapshots, the lock file, idempotency keys bound to
// their command, read-only stores, empty actor ids.
#include "model/text.hpp"
#include "runtime/compiled.hpp"
#include "runtime/snapshot.hpp"
#include "support.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

using namespace acm;
using namespace acm::test;
using namespace std::chrono_literals;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int n = 0;
    path = std::filesystem::temp_directory_path() / ("acm-h14-" + std::to_string(getpid()) + "-" + std::to_string(++n));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const char* name) const { return (path / name).string(); }
};

std::string error_of(const std::function<void()>& f, ErrorCode code) {
  try {
    f();
  } catch (const Error& e) {
    CHECK_MESSAGE(e.code() == code, "code " << static_cast<int>(e.code()) << ": " << e.what());
    return e.what();
  }
  FAIL("no error thrown");
  return {};
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs SQL on a store file with a connection of its own.
void sql(const std::string& db, const std::string& statement) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  sqlite3_busy_timeout(h, 5000);
  char* err = nullptr;
  int rc = sqlite3_exec(h, statement.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(h);
  REQUIRE_MESSAGE(rc == SQLITE_OK, msg);
}

// Flips one bit of every stored snapshot, at `pos`.
void flip_snapshot_byte(const std::string& db, std::size_t pos) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  std::vector<std::pair<std::string, std::string>> rows;
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(h, "SELECT case_id, data FROM snapshots", -1, &s, nullptr) == SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW)
    rows.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)),
                      std::string(static_cast<const char*>(sqlite3_column_blob(s, 1)),
                                  static_cast<std::size_t>(sqlite3_column_bytes(s, 1))));
  sqlite3_finalize(s);
  REQUIRE(!rows.empty());
  for (auto& [id, data] : rows) {
    REQUIRE(pos < data.size());
    data[pos] = static_cast<char>(data[pos] ^ 0x04);
    REQUIRE(sqlite3_prepare_v2(h, "UPDATE snapshots SET data = ?1 WHERE case_id = ?2", -1, &s, nullptr) == SQLITE_OK);
    sqlite3_bind_blob(s, 1, data.data(), static_cast<int>(data.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, id.c_str(), -1, SQLITE_TRANSIENT);
    REQUIRE(sqlite3_step(s) == SQLITE_DONE);
    sqlite3_finalize(s);
  }
  sqlite3_close(h);
}

std::unique_ptr<Engine> open_db(const std::string& db, std::shared_ptr<Clock> clock, bool read_only = false,
                                std::size_t snapshot_every = 100) {
  EngineOptions o;
  o.database = db;
  o.clock = std::move(clock);
  o.read_only = read_only;
  o.snapshot_every = snapshot_every;
  return Engine::open(o);
}

Json fragment_doc(Json items) {
  return Json{{"fragments", Json::array({Json{{"id", "f"}, {"version", 1}, {"items", std::move(items)}}})}};
}

std::size_t count_kind(const std::vector<Event>& events, const std::string& kind) {
  std::size_t n = 0;
  for (const auto& e : events) n += e.kind == kind;
  return n;
}

}  // namespace

// ---- 2: definitions that cannot end, bounded growth --------------------------------------

TEST_CASE("h14: definitions that can only loop are refused at registration, naming the item") {
  EngineFixture f;
  // An item entered by its own transition.
  auto self = fragment_doc(
      Json::array({Json{{"id", "m"},
                        {"kind", "milestone"},
                        {"repetition", "true"},
                        {"entry", Json::array({Json{{"on", Json::array({Json{{"item", "m"}, {"on", "occur"}}})}}})}}}));
  auto msg = error_of([&] { f.engine->load_definitions(f.admin, self); }, ErrorCode::invalid_definition);
  CHECK(has(msg, "\"m\""));
  CHECK(has(msg, "own transition"));
  // A milestone repeating on an if-part that its occurrence cannot make false.
  auto if_only = fragment_doc(Json::array({Json{{"id", "tick"},
                                                {"kind", "milestone"},
                                                {"repetition", "true"},
                                                {"entry", Json::array({Json{{"if", "file.go == true"}}})}}}));
  msg = error_of([&] { f.engine->load_definitions(f.admin, if_only); }, ErrorCode::invalid_definition);
  CHECK(has(msg, "\"tick\""));
  CHECK(has(msg, "repeat without end"));
  // Timers below the minimum period inside a repeating stage (at any depth).
  auto in_repeating = [](const char* period) {
    Json inner{{"id", "inner"},
               {"kind", "stage"},
               {"children", Json::array({Json{{"id", "t"}, {"kind", "timer_listener"}, {"timer", period}}})}};
    return fragment_doc(Json::array(
        {Json{{"id", "s"}, {"kind", "stage"}, {"repetition", "true"}, {"children", Json::array({inner})}}}));
  };
  for (const char* period : {"0ms", "1ms", "999ms"}) {
    msg = error_of([&] { f.engine->load_definitions(f.admin, in_repeating(period)); }, ErrorCode::invalid_definition);
    CHECK(has(msg, "/items/0/children/0/children/0/timer"));
    CHECK(has(msg, "repeating stage must be at least"));
  }
  CHECK(f.engine->list_fragments().empty());
  // What can end is accepted: a rule that reads the plan, a one-second timer in a repeating
  // stage, a short timer that fires once.
  auto counted = fragment_doc(Json::array({Json{{"id", "tick"},
                                                {"kind", "milestone"},
                                                {"repetition", "repetitionCounter < 3"},
                                                {"entry", Json::array({Json{{"if", "file.go == true"}}})}},
                                           Json{{"id", "once"}, {"kind", "timer_listener"}, {"timer", "0ms"}}}));
  CHECK_NOTHROW(f.engine->load_definitions(f.admin, counted));
  auto second = in_repeating("1s");
  second["fragments"][0]["id"] = "g";
  CHECK_NOTHROW(f.engine->load_definitions(f.admin, second));
}

TEST_CASE("h14: one command grows a case by at most max_items_per_command items, then an error event") {
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  EngineOptions o;
  o.clock = clock;
  o.max_items_per_command = 40;
  auto engine = Engine::open(o);
  Actor admin{"root", {"admin"}};
  // Repeats without end, but not visibly so at registration: the if-part reads the plan.
  engine->load_definitions(
      admin, fragment_doc(Json::array({Json{{"id", "m"},
                                            {"kind", "milestone"},
                                            {"repetition", "true"},
                                            {"entry", Json::array({Json{{"if", "repetitionCounter >= 0"}}})}}})));
  auto id = engine->create_case(admin, NewCase{.title = "loop"}).created;
  auto before = engine->get_case(id).items.size();
  engine->add_fragment(admin, id, {"f", 0, "", Json::object()});
  auto history = engine->history(id);
  const Event* error = nullptr;
  for (const auto& e : history)
    if (e.kind == "error") error = &e;
  REQUIRE(error != nullptr);
  CHECK(error->payload["bound"] == "max_items_per_command");
  CHECK(has(error->payload["message"].get<std::string>(), "max_items_per_command"));
  auto grown = engine->get_case(id).items.size() - before;
  CHECK(grown >= 40);
  CHECK(grown <= 42);
  CHECK(engine->inspect(id) == engine->inspect(id, true));
  // The next command starts a new budget, and stops again.
  engine->set_file(admin, id, "x", 1);
  CHECK(count_kind(engine->history(id), "error") >= 1);
}

TEST_CASE("h14: one command appends at most max_events_per_command events, then an error event") {
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  EngineOptions o;
  o.clock = clock;
  o.max_events_per_command = 30;
  auto engine = Engine::open(o);
  Actor admin{"root", {"admin"}};
  engine->load_definitions(
      admin, fragment_doc(Json::array({Json{{"id", "m"},
                                            {"kind", "milestone"},
                                            {"repetition", "true"},
                                            {"entry", Json::array({Json{{"if", "repetitionCounter >= 0"}}})}}})));
  auto id = engine->create_case(admin, NewCase{.title = "loop"}).created;
  auto r = engine->add_fragment(admin, id, {"f", 0, "", Json::object()}).created;
  (void)r;
  auto history = engine->history(id);
  // case_created, then the command: its events up to the bound, the error, and what closing
  // the round adds.
  REQUIRE(count_kind(history, "error") == 1);
  const auto last_error =
      std::find_if(history.begin(), history.end(), [](const Event& e) { return e.kind == "error"; });
  CHECK(last_error->payload["bound"] == "max_events_per_command");
  CHECK(history.size() <= 1 + 30 + 5);
  CHECK(engine->inspect(id) == engine->inspect(id, true));
  CHECK_THROWS_AS(
      [] {
        EngineOptions bad;
        bad.max_events_per_command = 3;
        Engine::open(bad);
      }(),
      Error);
}

TEST_CASE("h14: plan links stay right as a case grows, loses and rewires items") {
  EngineFixture f;
  // b listens to a's completion; c comes after b: the critical path runs a -> b -> c.
  f.engine->load_definitions(
      f.admin,
      fragment_doc(Json::array(
          {Json{{"id", "a"}, {"kind", "human_task"}, {"estimate", "1h"}, {"repetition", "repetitionCounter < 2"}},
           Json{{"id", "b"},
                {"kind", "human_task"},
                {"estimate", "2h"},
                {"entry", Json::array({Json{{"on", Json::array({Json{{"item", "a"}, {"on", "complete"}}})}}})}},
           Json{{"id", "c"}, {"kind", "human_task"}, {"estimate", "4h"}, {"after", Json::array({"b"})}}})));
  auto id = f.engine->create_case(f.admin, NewCase{.title = "links"}).created;
  f.engine->add_goal(f.admin, id, GoalSpec{.id = "g", .within = 100h});
  auto stage = f.engine->add_fragment(f.admin, id, {"f", 0, "g", Json::object()}).created;
  CHECK(f.goal(id, "g").remaining_work == 7h);
  f.engine->complete_item(f.admin, id, stage + "/a");  // a repeats: a@2 is created
  CHECK(f.state(id, stage + "/b") == ItemState::active);
  auto task = f.engine->add_task(f.admin, id, AdHocTask{.name = "extra", .estimate = 1h, .goal = "g", .manual = true}).created;
  f.engine->remove_item(f.admin, id, task);
  f.engine->complete_item(f.admin, id, stage + "/b");
  CHECK(f.state(id, stage + "/c") == ItemState::active);
  f.check_fold(id);
}

// ---- 3: text at the boundary; the cache never runs ahead of the store -----------------------

TEST_CASE("h14: text that is not UTF-8 is refused naming the field, and nothing changes") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  auto e = open_db(dir.file("acm.db"), clock);
  Actor root{"root", {"admin"}};
  auto id = e->create_case(root, NewCase{.title = "t", .owner = "alice"}).created;
  auto version = e->get_case(id).version;
  CHECK(has(error_of([&] { e->set_owner(root, id, "bob\xff"); }, ErrorCode::invalid_argument), "owner"));
  CHECK(e->get_case(id).owner == "alice");
  CHECK(e->get_case(id).version == version);
  CHECK(e->inspect(id) == e->inspect(id, true));
  CHECK(has(error_of(
                [&] {
                  e->set_file(root, id, "note", Json{{"k", "\xc3\x28"}});
                },
                ErrorCode::invalid_argument),
            "not valid UTF-8 at /k"));
  CHECK(has(error_of([&] { e->set_file(root, id, "a\nb", 1); }, ErrorCode::invalid_argument), "control character"));
  CHECK(has(error_of([&] { e->attach(root, id, Asset{.kind = "note", .title = "x", .text = "\xed\xa0\x80"}); },
                     ErrorCode::invalid_argument),
            "asset text"));
  CHECK(has(error_of([&] { e->create_case(root, NewCase{.id = "id\xfe"}); }, ErrorCode::invalid_argument), "case id"));
  CHECK(has(error_of(
                [&] {
                  e->create_case(root, NewCase{.title = "t", .subject = {"c\x01", Json::object()}});
                },
                ErrorCode::invalid_argument),
            "customer"));
  // Multi-line free text is fine.
  CHECK_NOTHROW(e->suspend_case(root, id, "line 1\nline 2\ttab"));
  // The next command works (the cache is the store) and the store still lists everything.
  e->resume_case(root, id);
  e->set_owner(root, id, "b\xc3\xb6rje");
  CHECK(e->list_cases().size() == 1);
  e.reset();
  e = open_db(dir.file("acm.db"), clock);
  CHECK(e->get_case(id).owner == "b\xc3\xb6rje");
  CHECK(e->inspect(id) == e->inspect(id, true));
}

TEST_CASE("h14: UTF-8 validation") {
  using model::valid_utf8;
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("plain"));
  CHECK(valid_utf8("b\xc3\xb6rje \xe2\x82\xac \xf0\x9f\x98\x80"));
  CHECK(!valid_utf8("\xff"));
  CHECK(!valid_utf8("\xc3"));              // truncated
  CHECK(!valid_utf8("\xc0\xaf"));          // overlong
  CHECK(!valid_utf8("\xe0\x80\xaf"));      // overlong
  CHECK(!valid_utf8("\xed\xa0\x80"));      // surrogate
  CHECK(!valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  CHECK(model::to_valid_utf8("a\xff"
                             "b\xc3\xb6") ==
        "a\xef\xbf\xbd"
        "b\xc3\xb6");
  CHECK(*model::invalid_utf8_in(Json{{"a", Json::array({1, "x", "\xfe"})}}) == "/a/2");
  CHECK(!model::invalid_utf8_in(Json{{"a", "ok"}}));
}

TEST_CASE("h14: a handler's error that is not UTF-8 is recorded, replaced, and the case goes on") {
  EngineFixture f;
  f.engine->register_handler("bad", [](const TaskContext&) -> TaskResult { throw std::runtime_error("boom \xff"); });
  auto id = f.engine->create_case(f.admin, NewCase{.title = "t"}).created;
  f.engine->add_task(f.admin, id, AdHocTask{.name = "x", .kind = ItemKind::automated_task, .handler = "bad"});
  std::string recorded;
  for (const auto& e : f.engine->history(id))
    if (e.kind == "item_transition" && e.payload.contains("error")) recorded = e.payload["error"];
  CHECK(recorded == "boom \xef\xbf\xbd");
  f.check_fold(id);
}

TEST_CASE("h14: an empty actor id is refused by the C++ API") {
  EngineFixture f;
  auto id = f.engine->create_case(f.admin, NewCase{.title = "t"}).created;
  Actor nobody{"", {"admin"}};
  CHECK(has(error_of([&] { f.engine->set_priority(nobody, id, 3); }, ErrorCode::invalid_argument), "actor id"));
  CHECK(has(error_of([&] { f.engine->create_case(nobody, NewCase{.title = "x"}); }, ErrorCode::invalid_argument),
            "actor id"));
  CHECK(has(error_of(
                [&] {
                  f.engine->load_definitions(nobody, Json{{"fragments", Json::array()}});
                },
                ErrorCode::invalid_argument),
            "actor id"));
  CHECK(f.engine->get_case(id).priority == 0);
}

TEST_CASE("h14: a failure between deciding and committing leaves the cache equal to the store") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  const std::string db = dir.file("acm.db");
  auto e = open_db(db, clock);
  Actor root{"root", {"admin"}};
  auto id = e->create_case(root, NewCase{.title = "t", .owner = "alice"}).created;
  e->set_file(root, id, "x", 1);
  // The store refuses the next owner change (another connection adds a trigger).
  sql(db,
      "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.kind = 'owner_changed' "
      "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;");
  CHECK_THROWS_AS(e->set_owner(root, id, "bob"), Error);
  CHECK(e->get_case(id).owner == "alice");
  CHECK(e->inspect(id) == e->inspect(id, true));
  sql(db, "DROP TRIGGER refuse");
  e->set_owner(root, id, "bob");
  CHECK(e->get_case(id).owner == "bob");
  CHECK(e->inspect(id) == e->inspect(id, true));
}

// ---- 4: damaged store rows --------------------------------------------------------------

TEST_CASE("h14: a damaged event row is Error(storage) naming the case and the event") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  const std::string db = dir.file("acm.db");
  std::string id;
  {
    auto e = open_db(db, clock);
    Actor root{"root", {"admin"}};
    e->load_definitions(root, read_json("examples/definitions/helpdesk.json"));
    id = e->create_case(root, NewCase{.type = "complaint", .title = "t"}).created;
  }
  // Each damage in turn: keys missing, wrong types, not an object, not JSON.
  const char* damages[] = {
      "UPDATE events SET payload = json_remove(payload, '$.item') WHERE seq = (SELECT min(seq) FROM events WHERE kind "
      "= 'item_transition')",
      "UPDATE events SET payload = json_remove(payload, '$.transition') WHERE seq = (SELECT min(seq) FROM events WHERE "
      "kind = 'item_transition')",
      "UPDATE events SET payload = json_set(payload, '$.to', 7) WHERE seq = (SELECT min(seq) FROM events WHERE kind = "
      "'item_transition')",
      "UPDATE events SET payload = '[1,2]' WHERE seq = 1",
      "UPDATE events SET payload = '{}' WHERE seq = 1",
      "UPDATE events SET payload = '{\"subject\": 3}' WHERE seq = 1",
      "UPDATE events SET payload = '{not json' WHERE seq = 2",
      "UPDATE events SET kind = 'no_such_kind' WHERE seq = 2",
      "DELETE FROM events WHERE seq = 2",
  };
  const std::string pristine = db + ".pristine";
  std::filesystem::copy_file(db, pristine);
  for (const char* damage : damages) {
    CAPTURE(damage);
    std::filesystem::copy_file(pristine, db, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::remove(db + "-wal");
    std::filesystem::remove(db + "-shm");
    sql(db, damage);
    auto e = open_db(db, clock);
    auto msg = error_of([&] { e->get_case(id); }, ErrorCode::storage);
    CHECK(has(msg, id));
    CHECK((has(msg, "event") || has(msg, "version")));
    // The other queries still work.
    CHECK(e->list_cases().size() == 1);
  }
}

TEST_CASE("h14: a damaged snapshot is detected by its checksum and the case is rebuilt from its events") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  const std::string db = dir.file("acm.db");
  std::string id;
  Json expected;
  {
    auto e = open_db(db, clock, false, 5);
    Actor root{"root", {"admin"}};
    id = e->create_case(root, NewCase{.title = "t"}).created;
    for (int i = 0; i < 12; ++i) e->set_file(root, id, "n", i);
    expected = e->inspect(id);
  }
  // Flip one bit in the middle of the stored snapshot.
  flip_snapshot_byte(db, 40);
  {
    auto e = open_db(db, clock);
    CHECK(e->inspect(id) == expected);
    CHECK(e->inspect(id) == e->inspect(id, true));
  }
}

TEST_CASE("h14: snapshots carry a checksum and no size in them is trusted beyond the blob") {
  runtime::Registry registry;
  runtime::CaseState state;
  state.id = "c1";
  state.title = "a title long enough to hold a length";
  state.version = 3;
  state.owner = "alice";
  std::string good = store::save_snapshot(state);
  REQUIRE(good.compare(0, 8, "ACMSNAP2") == 0);
  CHECK(store::load_snapshot(good, registry).title == state.title);
  // Any single flipped bit is caught by the checksum.
  for (std::size_t pos = 12; pos < good.size(); pos += 3) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x10);
    CAPTURE(pos);
    CHECK(has(error_of([&] { store::load_snapshot(bad, registry); }, ErrorCode::storage), "checksum"));
  }
  // A version-1 snapshot (no checksum) with a huge length in it is refused without allocating it.
  std::string v1 = "ACMSNAP1" + good.substr(12);
  CHECK(store::load_snapshot(v1, registry).title == state.title);
  std::size_t bounded = 0;
  for (std::size_t pos = 8; pos + 8 <= v1.size(); ++pos) {
    std::string bad = v1;
    for (std::size_t k = 0; k < 6; ++k) bad[pos + k] = static_cast<char>(0xFF);
    try {
      store::load_snapshot(bad, registry);
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::storage);
      bounded += has(e.what(), "in a snapshot of");
    }
  }
  CHECK(bounded > 0);
}

// ---- 9: the lock file -----------------------------------------------------------------------

TEST_CASE("h14: a symbolic link planted at the lock path is refused and its target untouched") {
  TempDir dir;
  const std::string db = dir.file("acm.db"), target = dir.file("precious.txt");
  { std::ofstream(target) << "precious contents\n"; }
  std::filesystem::create_symlink(target, db + ".lock");
  auto msg =
      error_of([&] { open_db(db, std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"))); }, ErrorCode::storage);
  CHECK(has(msg, "symbolic link"));
  std::ifstream in(target);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "precious contents\n");
  CHECK(!std::filesystem::exists(db));
  // Not a regular file: refused too.
  std::filesystem::remove(db + ".lock");
  std::filesystem::create_directory(db + ".lock");
  CHECK_THROWS_AS(open_db(db, std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"))), Error);
  std::filesystem::remove(db + ".lock");
  // A regular lock file is owner-only.
  auto e = open_db(db, std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z")));
  struct stat st {};
  REQUIRE(::stat((db + ".lock").c_str(), &st) == 0);
  CHECK((st.st_mode & 0077) == 0);
}

// ---- 11: idempotency keys -------------------------------------------------------------------

TEST_CASE("h14: an idempotency key is bound to its command and arguments, and a replay re-checks permission") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  for (bool durable : {true, false}) {
    CAPTURE(durable);
    EngineOptions o;
    o.clock = clock;
    if (durable) o.database = dir.file("idem.db");
    auto e = Engine::open(o);
    Actor root{"root", {"admin"}}, alice{"alice", {}};
    auto id = e->create_case(root, NewCase{.title = "t", .owner = "alice"}).created;
    Request k(alice);
    k.idempotency_key = "k1";
    auto first = e->set_priority(k, id, 5);
    CHECK(e->set_priority(k, id, 5).version == first.version);  // a true retry
    // Another command with the same key: a conflict, and the case stays active.
    CHECK(has(error_of([&] { e->terminate_case(k, id, "done"); }, ErrorCode::conflict), "another command"));
    CHECK(e->get_case(id).status == CaseStatus::active);
    // The same command with other arguments: a conflict.
    CHECK_THROWS_AS(e->set_priority(k, id, 7), Error);
    CHECK(e->get_case(id).priority == 5);
    // Alice loses the case: her retry is refused.
    e->set_owner(root, id, "bob");
    CHECK(has(error_of([&] { e->set_priority(k, id, 5); }, ErrorCode::permission_denied), "alice"));
    // create_case keys are bound to their arguments too.
    Request c(root);
    c.idempotency_key = "create-1";
    auto made = e->create_case(c, NewCase{.title = "one"}).created;
    CHECK(e->create_case(c, NewCase{.title = "one"}).created == made);
    CHECK_THROWS_AS(e->create_case(c, NewCase{.title = "two"}), Error);
  }
}

// ---- 12: read-only stores -------------------------------------------------------------------

TEST_CASE("h14: a store opened read-only answers queries, takes no lock, changes nothing and refuses writes") {
  TempDir dir;
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  const std::string db = dir.file("acm.db");
  std::string id;
  {
    auto e = open_db(db, clock);
    id = e->create_case(Actor{"root", {"admin"}}, NewCase{.title = "ro"}).created;
  }
  auto files = [&] {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path)) names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  };
  const auto before = files();
  const auto size = std::filesystem::file_size(db);
  const auto bytes = read_bytes(db);
  {
    auto e = open_db(db, clock, true);
    CHECK(e->list_cases() == std::vector<std::string>{id});
    CHECK(e->get_case(id).title == "ro");
    CHECK(!std::filesystem::exists(db + ".lock"));
    CHECK(has(error_of(
                  [&] {
                    e->set_owner(Actor{"root", {"admin"}}, id, "x");
                  },
                  ErrorCode::invalid_state),
              "read-only"));
    CHECK_THROWS_AS(e->create_case(Actor{"root", {"admin"}}, NewCase{.title = "no"}), Error);
    CHECK(e->run_due() == 0);  // fires nothing
    CHECK_THROWS_AS(e->load_definitions(Actor{"root", {"admin"}}, Json{{"fragments", Json::array()}}), Error);
  }
  // No lock file, and the database bytes are unchanged (SQLite may leave its -wal and -shm
  // companions, as any reader of a WAL-mode file in a writable directory does).
  auto after = files();
  std::erase_if(after, [](const std::string& n) { return n == "acm.db-wal" || n == "acm.db-shm"; });
  CHECK(after == before);
  CHECK(std::filesystem::file_size(db) == size);
  CHECK(read_bytes(db) == bytes);
  {
    // Another engine may hold the store open for writing meanwhile: the reader sees its commits.
    auto reader = open_db(db, clock, true);
    auto writer = open_db(db, clock);
    writer->set_owner(Actor{"root", {"admin"}}, id, "w");
    CHECK(reader->list_cases().size() == 1);
    CHECK(reader->history(id).back().kind == "owner_changed");
  }
  // A missing store cannot be opened read-only.
  CHECK_THROWS_AS(open_db(dir.file("none.db"), clock, true), Error);
  CHECK(!std::filesystem::exists(dir.file("none.db")));
  // A directory that cannot be written: opened read-only without asking (root writes anyway).
  if (::geteuid() != 0) {
    std::filesystem::permissions(dir.path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    auto e = open_db(db, clock);
    CHECK(e->list_cases() == std::vector<std::string>{id});
    CHECK_THROWS_AS(e->set_owner(Actor{"root", {"admin"}}, id, "x"), Error);
  }
}
