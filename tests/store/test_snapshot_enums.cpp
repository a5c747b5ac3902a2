// SPDX-License-Identifier: Apache-2.0
// Snapshots store enums by name (src/runtime/snapshot.cpp): a snapshot whose enum value this
// build does not know, or one written before enums were stored by name (as numbers, which a
// reordered enum would misread), is refused, and the engine rebuilds the case from its events.
#include "runtime/snapshot.hpp"
#include "store/factories.hpp"

#include <acm/acm.hpp>

#include <boost/crc.hpp>
#include <doctest/doctest.h>

#include <string>

using namespace acm;
using namespace acm::test;
using namespace std::chrono_literals;

namespace {

// A snapshot written by the format that stored enums as numbers (acm at 192329b; class
// versions SnapCase 2, SnapItem/SnapGoal 1): case c1, status suspended, a goal at risk, a
// kept promise. Kept as a regression fixture.
const char* const kLegacyHex =
    "41434d534e41503237ddb3ef000200000002000000000000006331000000000000000006000000000000006c656761637900"
    "0000000000000002000000000000007b7d0500000000000000616c69636502000000000000007b7d00000000000000000100"
    "0000000000000000000000000000000100000000000000000000000000000000010000000000000000010000000000000001"
    "000000000100000001000000000000006707000000000000007265736f6c7665000000000000000000000000000000000000"
    "0000000000000a00000000000000676f616c5f61646465640000000000000000000000000000000000010000000000010000"
    "0000000000000000800000000000000080000000000000000000000000000100000000000000000000000000000000000000"
    "00040000000000000000000000000000000099000000000000007b22657363616c6174696f6e73223a7b7d2c227061757365"
    "64223a7b7d2c227072696f726974795f62617365223a302c2270726f6d69736573223a5b7b22647565223a302c2265787065"
    "63746564223a2d393232333337323033363835343737353830382c226964223a2270222c22737461747573223a312c227469"
    "6d696e67223a302c2277686174223a2263616c6c206261636b227d5d7d";

std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

/// The blob with the first `from` replaced by `to` (same length), its checksum made right
/// again: the damage is one a checksum cannot see (as a changed enum in the code would be).
std::string renamed(std::string blob, const std::string& from, const std::string& to) {
  REQUIRE(from.size() == to.size());
  auto at = blob.find(from, 12);
  REQUIRE(at != std::string::npos);
  blob.replace(at, from.size(), to);
  boost::crc_32_type crc;
  crc.process_bytes(blob.data() + 12, blob.size() - 12);
  const std::uint32_t sum = crc.checksum();
  for (std::size_t i = 0; i < 4; ++i) blob[8 + i] = static_cast<char>((sum >> (8 * i)) & 0xFF);
  return blob;
}

std::string storage_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::storage);
    return e.what();
  }
  FAIL("the snapshot was read");
  return "";
}

runtime::CaseState sample() {
  runtime::CaseState s;
  s.id = "c1";
  s.title = "by name";
  s.version = 4;
  s.owner = "alice";
  s.status = CaseStatus::suspended;
  runtime::Goal g;
  g.spec.id = "g";
  g.spec.name = "resolve";
  g.status = GoalStatus::cancelled;
  g.timing = Timing::at_risk;
  s.goals.push_back(g);
  runtime::Promise p;
  p.id = "p";
  p.what = "call back";
  p.status = PromiseStatus::kept;
  p.timing = Timing::overdue;
  s.promises.push_back(p);
  return s;
}

}  // namespace

TEST_SUITE("snapshot enums") {
  TEST_CASE("enums are written by name and read back as the same values") {
    runtime::Registry registry;
    const std::string blob = store::save_snapshot(sample());
    for (const char* name : {"suspended", "cancelled", "at_risk", "kept", "overdue"})
      CHECK_MESSAGE(blob.find(name) != std::string::npos, name);
    runtime::CaseState back = store::load_snapshot(blob, registry);
    CHECK(back.status == CaseStatus::suspended);
    REQUIRE(back.goals.size() == 1);
    CHECK(back.goals[0].status == GoalStatus::cancelled);
    CHECK(back.goals[0].timing == Timing::at_risk);
    REQUIRE(back.promises.size() == 1);
    CHECK(back.promises[0].status == PromiseStatus::kept);
    CHECK(back.promises[0].timing == Timing::overdue);
  }

  TEST_CASE("a name this build does not know is refused, never read as another value") {
    runtime::Registry registry;
    const std::string blob = store::save_snapshot(sample());
    CHECK(storage_error([&] { store::load_snapshot(renamed(blob, "suspended", "suspendid"), registry); })
              .find("unknown case status 'suspendid'") != std::string::npos);
    CHECK(storage_error([&] { store::load_snapshot(renamed(blob, "at_risk", "at_rusk"), registry); })
              .find("unknown timing 'at_rusk'") != std::string::npos);
    CHECK(storage_error([&] { store::load_snapshot(renamed(blob, "kept", "kapt"), registry); })
              .find("promise status") != std::string::npos);
  }

  TEST_CASE("a snapshot that stored enums as numbers is refused") {
    runtime::Registry registry;
    const std::string legacy = from_hex(kLegacyHex);
    REQUIRE(store::snapshot_has_checksum(legacy));  // a sound blob: refused for its enums alone
    CHECK(storage_error([&] { store::load_snapshot(legacy, registry); }).find("as the number") != std::string::npos);
  }

  TEST_CASE("the engine does not use a refused snapshot: the case is rebuilt from its events") {
    for (const auto& f : store_factories()) {
      CAPTURE(f.name);
      OpenStore os = f.open();
      if (!os.store->traits().keeps_snapshots) continue;  // the memory store takes none
      auto clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
      Actor admin{"root", {"admin"}};
      Json expected;
      {
        EngineOptions o;
        o.store = os.store;
        o.clock = clock;
        o.snapshot_every = 1;  // a snapshot with every command
        auto e = Engine::open(o);
        NewCase spec;
        spec.id = "c";
        spec.title = "snapshots";
        e->create_case(admin, spec);
        GoalSpec g;
        g.id = "g";
        g.name = "answer";
        g.deadline = clock->now() + 2h;
        e->add_goal(admin, "c", g);
        e->suspend_case(admin, "c", "waiting");
        expected = e->inspect("c");
      }
      auto stored = os.store->load_case("c");
      REQUIRE(stored);
      REQUIRE(stored->snapshot);
      // "suspended" -> "suspendid": a value the code does not know (as after renaming an enum).
      CaseCommit c;
      c.row = stored->row;
      c.expected_version = stored->row.version;
      c.snapshot = SnapshotBlob{stored->snapshot->version, renamed(stored->snapshot->data, "suspended", "suspendid")};
      os.store->commit(c);
      REQUIRE(os.store->load_case("c")->snapshot->data == c.snapshot->data);
      EngineOptions o;
      o.store = os.store;
      o.clock = clock;
      auto e = Engine::open(o);
      CHECK(e->get_case("c").status == CaseStatus::suspended);
      CHECK(e->inspect("c") == expected);
      CHECK(e->inspect("c") == e->inspect("c", true));
    }
  }
}
