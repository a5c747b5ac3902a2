// SPDX-License-Identifier: Apache-2.0
// tests/fuzz/fuzz_store.cpp - damaged SQLite store files, in three modes (the first byte, mod 3):
//   0  byte damage: the rest is (4-byte offset, xor byte) pairs applied to a real store file;
//   1  row damage: an event row (picked by the next byte) gets a column (next byte: payload,
//      kind, actor or time) replaced by the rest of the input;
//   2  snapshot replacement: a case's snapshot blob (next byte) becomes the rest of the input.
// The store file is made once per process by the engine itself (cases, events, snapshots,
// templates, an intake log), then copied for each input.
//
// Oracles: opening and reading a damaged store throws only acm::Error (storage); a command on
// a case either works or is refused with acm::Error; and where the damage cannot hide behind a
// snapshot (modes 1 and 2: in mode 1 the snapshots are dropped, so cases load from their
// events), a case that loads has a state equal to the fold of its history (inspect ==
// inspect(from_history)). In mode 0 a byte of an event older than a good snapshot may change
// plausibly (events carry no checksum; the snapshot does): the loaded state then rightly
// follows the snapshot, and only the first oracles apply.
#include <acm/acm.hpp>

#include "fuzz_support.hpp"

#include <sqlite3.h>

#include <memory>

using namespace acm;

namespace {

const Actor kAdmin{"root", {"admin"}};

const char* kDefinitions = R"J({
  "fragments": [{
    "id": "handle", "roles": ["agent"],
    "items": [
      {"id": "answer", "kind": "human_task", "role": "agent", "estimate": "30m", "due": "2h"},
      {"id": "check", "kind": "human_task", "role": "agent", "after": ["answer"]},
      {"id": "remind", "kind": "timer_listener", "timer": "1h"},
      {"id": "done", "kind": "milestone", "entry": [{"on": [{"item": "check", "on": "complete"}]}]}
    ]
  }],
  "case_types": [{"id": "complaint", "initial_fragments": ["handle"],
                  "goals": [{"id": "resolve", "within": "2d", "milestones": ["done"]}]}]
})J";

EngineOptions options_for(const std::filesystem::path& path) {
  EngineOptions o;
  o.database = path.string();
  o.durability = Durability::full;
  o.snapshot_every = 3;
  o.clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
  return o;
}

/// The bytes of a store file with a bit of everything in it.
const std::string& base_store() {
  static const std::string bytes = [] {
    const auto path = acm_fuzz::scratch() / "base.db";
    {
      auto engine = Engine::open(options_for(path));
      engine->load_definitions(kAdmin, Json::parse(kDefinitions));
      for (int i = 0; i < 3; ++i) {
        const std::string id = engine->create_case(kAdmin, NewCase{.id = "c" + std::to_string(i),
                                                                   .type = "complaint",
                                                                   .title = "printer",
                                                                   .subject = {"ann", {{"tier", "gold"}}}}).created;
        engine->set_file(kAdmin, id, "customer.tier", "gold");
        engine->set_file(kAdmin, id, "n", i);
        engine->attach(kAdmin, id, Asset{.kind = "note", .title = "call", .text = "called back"});
        for (const auto& item : engine->get_case(id).items)
          if (item.def_id == "answer" && i > 0) engine->complete_item(kAdmin, id, item.id);
      }
      engine->templates().put("t", "learner", Json{{"traces", 1}}, std::string("\x01\x02\x03", 3));
      std::vector<IntakeLogEntry> log(1);
      log[0].event_id = "e1";
      log[0].action = "ignore";
      log[0].event = Json{{"id", "e1"}};
      engine->intake_log().append(log);
    }
    return acm_fuzz::read_file(path);
  }();
  return bytes;
}

void remove_store(const std::filesystem::path& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal", ".lock"})
    std::filesystem::remove(path.string() + suffix, ec);
}

/// Runs SQL on the copy (outside the engine), binding `text` to ?1 and `n` to ?2.
void damage_rows(const std::filesystem::path& path, const char* sql, std::string_view value, bool blob, int pick) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) acm_fuzz::finding("cannot open the store copy");
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) acm_fuzz::finding(sqlite3_errmsg(db));
  if (blob)
    sqlite3_bind_blob(s, 1, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  else
    sqlite3_bind_text(s, 1, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int(s, 2, pick);
  sqlite3_step(s);  // a constraint failure (e.g. NOT NULL) leaves the row as it was
  sqlite3_finalize(s);
  sqlite3_close(db);
}

void use(Engine& engine, bool fold_oracle) {
  std::vector<std::string> ids;
  acm_fuzz::only_acm_errors("list_cases", [&] { ids = engine.list_cases(100); });
  for (const std::string& id : ids) {
    bool loaded = acm_fuzz::only_acm_errors("get_case", [&] { (void)engine.get_case(id); });
    acm_fuzz::only_acm_errors("history", [&] { (void)engine.history(id); });
    acm_fuzz::only_acm_errors("fold", [&] {
      const Json state = engine.inspect(id);
      const Json fold = engine.inspect(id, true);
      if (fold_oracle && state != fold)
        acm_fuzz::finding("case " + id + ": the loaded state differs from the fold of its history");
    });
    if (loaded) acm_fuzz::only_acm_errors("set_file", [&] { engine.set_file(kAdmin, id, "after", true); });
  }
  acm_fuzz::only_acm_errors("queue", [&] { (void)engine.queue(QueueFilter{.roles = {"agent"}}); });
  acm_fuzz::only_acm_errors("templates", [&] {
    for (const auto& t : engine.templates().list()) (void)engine.templates().get(t.name, t.version);
  });
  acm_fuzz::only_acm_errors("intake_log", [&] { (void)engine.intake_log().page(10); });
  acm_fuzz::only_acm_errors("fragments", [&] { (void)engine.list_fragments(); });
  acm_fuzz::only_acm_errors("run_due", [&] { (void)engine.run_due(); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  acm_fuzz::Bytes in(data, size);
  const std::string& base = base_store();
  const auto path = acm_fuzz::scratch() / "store.db";
  remove_store(path);
  const std::uint8_t mode = in.byte() % 3;
  if (mode == 0) {
    std::string copy = base;
    for (int k = 0; k < 64 && in.left() >= 5; ++k) {
      const std::uint32_t at = in.u32() % copy.size();
      copy[at] = static_cast<char>(copy[at] ^ (in.byte() | 1));
    }
    acm_fuzz::write_file(path, copy);
  } else {
    acm_fuzz::write_file(path, base);
    const int pick = in.byte();
    if (mode == 1) {
      static const char* const kColumns[] = {"payload", "kind", "actor", "time"};
      const std::string column = kColumns[in.byte() % 4];
      const std::string sql = "UPDATE events SET " + column +
                              " = ?1 WHERE (case_id, seq) = (SELECT case_id, seq FROM events ORDER BY case_id, seq "
                              "LIMIT 1 OFFSET ?2 % (SELECT COUNT(*) FROM events))";
      damage_rows(path, sql.c_str(), in.rest(), false, pick);
      damage_rows(path, "DELETE FROM snapshots WHERE ?1 IS NOT NULL OR ?2 IS NOT NULL", "", false, 0);
    } else {
      damage_rows(path,
                  "UPDATE snapshots SET data = ?1 WHERE case_id = (SELECT case_id FROM snapshots ORDER BY case_id "
                  "LIMIT 1 OFFSET ?2 % (SELECT COUNT(*) FROM snapshots))",
                  in.rest(), true, pick);
    }
  }
  std::unique_ptr<Engine> engine;
  if (acm_fuzz::only_acm_errors("open", [&] { engine = Engine::open(options_for(path)); })) use(*engine, mode != 0);
  acm_fuzz::only_acm_errors("close", [&] { engine.reset(); });
  remove_store(path);
  return 0;
}
