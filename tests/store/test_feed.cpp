// SPDX-License-Identifier: Apache-2.0
// The global event feed (CaseStore::read_feed, Engine::read_feed / wait_feed) on every store of
// store_factories(): every event of every case once, each case's in version order, in commit
// order where the store has one writer, readable on from any position it gave out.
#include <acm/acm.hpp>
#include <acm/store.hpp>

#include "store/factories.hpp"
#include "support.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace acm;
using namespace acm::test;

namespace {

const TimePoint kT0 = parse_time("2026-11-23T09:00:00Z");


CaseCommit commit_of(const std::string& id, std::uint64_t from, std::uint64_t n) {
  CaseCommit c;
  c.row.id = id;
  c.row.version = from + n;
  c.row.title = id;
  c.row.created_at = kT0;
  c.row.updated_at = kT0;
  c.expected_version = from;
  std::vector<Event> events;
  for (std::uint64_t i = 1; i <= n; ++i) {
    Event e;
    e.case_id = id;
    e.seq = from + i;
    e.time = kT0;
    e.kind = "note";
    e.payload = Json{{"n", from + i}};
    events.push_back(std::move(e));
  }
  c.events = kept(std::move(events));
  return c;
}


/// Reads the feed from `cursor` in pages of `page` until `count` events arrived (or 60 s
/// passed). On a store several processes share an empty page means "nothing final yet" (a
/// transaction elsewhere on the server holds the feed back), not "the end".
std::vector<FeedEntry> read_until(CaseStore& s, std::string cursor, std::size_t count, std::size_t page) {
  std::vector<FeedEntry> out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto got = s.read_feed(cursor, std::min(page, count - out.size()));
    CHECK(got.size() <= page);
    if (got.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    for (auto& e : got) {
      cursor = e.position;
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace

TEST_SUITE("store contract") {
TEST_CASE("event feed: every event once, in commit order, paged from any position") {
  for (const auto& f : store_factories()) {
    CAPTURE(f.name);
    OpenStore os = f.open();
    CaseStore& s = *os.store;
    CHECK(s.read_feed("", 10).empty());
    // Interleaved commits: a2 b1 a1' c3 b2' (the primes continue a case).
    s.commit(commit_of("a", 0, 2));
    s.commit(commit_of("b", 0, 1));
    s.commit(commit_of("a", 2, 1));
    s.commit(commit_of("c", 0, 3));
    s.commit(commit_of("b", 1, 1));
    std::vector<std::pair<std::string, std::uint64_t>> order;
    for (const auto& e : read_until(s, "", 8, 3)) order.emplace_back(e.event.case_id, e.event.seq);
    const std::vector<std::pair<std::string, std::uint64_t>> expected = {
        {"a", 1}, {"a", 2}, {"b", 1}, {"a", 3}, {"c", 1}, {"c", 2}, {"c", 3}, {"b", 2}};
    CHECK(order == expected);
    // Read on from the middle: the rest, nothing repeated.
    auto all = read_until(s, "", 8, 100);
    REQUIRE(all.size() == 8);
    CHECK(all[4].event.payload == Json{{"n", 1}});
    auto rest = read_until(s, all[4].position, 3, 100);
    REQUIRE(rest.size() == 3);
    CHECK(rest[0].event.case_id == "c");
    CHECK(rest[0].event.seq == 2);
    CHECK(s.read_feed(all.back().position, 10).empty());
    // A failed commit adds nothing.
    CHECK(code_of([&] { s.commit(commit_of("a", 1, 1)); }) == ErrorCode::conflict);
    CHECK(s.read_feed(all.back().position, 10).empty());
    CHECK(code_of([&] { s.read_feed("not a position", 1); }) == ErrorCode::invalid_argument);
  }
}

TEST_CASE("event feed: feed_end is the newest position, reading on from it gives only what follows") {
  for (const auto& f : store_factories()) {
    CAPTURE(f.name);
    OpenStore os = f.open();
    CaseStore& s = *os.store;
    CHECK(s.feed_end() == "");
    s.commit(commit_of("a", 0, 2));
    s.commit(commit_of("b", 0, 3));
    s.commit(commit_of("a", 2, 1));
    auto all = read_until(s, "", 6, 100);
    REQUIRE(all.size() == 6);
    const std::string end = s.feed_end();
    CHECK(end == all.back().position);
    CHECK(s.read_feed(end, 10).empty());
    s.commit(commit_of("c", 0, 2));
    s.commit(commit_of("b", 3, 1));
    auto next = read_until(s, end, 3, 10);
    REQUIRE(next.size() == 3);
    CHECK(s.read_feed(next.back().position, 10).empty());
    CHECK(next[0].event.case_id == "c");
    CHECK(next[0].event.seq == 1);
    CHECK(next[2].event.case_id == "b");
    CHECK(next[2].event.seq == 4);
    CHECK(s.feed_end() == next.back().position);
  }
}

TEST_CASE("event feed: commits from several threads, followed by a reader while they run") {
  for (const auto& f : store_factories()) {
    CAPTURE(f.name);
    OpenStore os = f.open();
    CaseStore& s = *os.store;
    constexpr int kThreads = 4, kCommits = 40;
    std::atomic<int> running{kThreads};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        const std::string id = fmt::format("t{}", t);
        for (int i = 0; i < kCommits; ++i) s.commit(commit_of(id, static_cast<std::uint64_t>(i) * 2, 2));
        --running;
      });
    std::vector<FeedEntry> seen;
    std::string cursor;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      const bool finished = running.load() == 0;
      auto page = s.read_feed(cursor, 25);
      for (auto& e : page) {
        cursor = e.position;
        seen.push_back(std::move(e));
      }
      if (page.empty()) {
        if (finished && seen.size() >= static_cast<std::size_t>(kThreads * kCommits * 2)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    for (auto& t : threads) t.join();
    CHECK(seen.size() == static_cast<std::size_t>(kThreads * kCommits * 2));
    std::map<std::string, std::uint64_t> last;
    std::set<std::pair<std::string, std::uint64_t>> unique;
    for (const auto& e : seen) {
      CHECK(unique.insert({e.event.case_id, e.event.seq}).second);
      CHECK(e.event.seq == last[e.event.case_id] + 1);
      last[e.event.case_id] = e.event.seq;
    }
  }
}

}  // TEST_SUITE

TEST_CASE("event feed on the engine: read_feed sees the commands, wait_feed returns what arrives or nothing") {
  EngineOptions o;
  o.clock = std::make_shared<ManualClock>(kT0);
  auto engine = Engine::open(o);
  Actor admin{"root", {"admin"}};
  CHECK(engine->read_feed("").empty());
  CHECK(engine->wait_feed("", 10, std::chrono::milliseconds(20)).empty());
  const std::string id = engine->create_case(admin, NewCase{.title = "fed"}).created;
  engine->set_file(admin, id, "x", 1);
  auto all = engine->read_feed("");
  REQUIRE(all.size() >= 2);
  CHECK(all.front().event.kind == "case_created");
  CHECK(all.back().event.kind == "file_set");
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    engine->set_file(admin, id, "y", 2);
  });
  auto more = engine->wait_feed(all.back().position, 10, std::chrono::seconds(30));
  later.join();
  REQUIRE(more.size() == 1);
  CHECK(more[0].event.payload["path"] == "y");
}
