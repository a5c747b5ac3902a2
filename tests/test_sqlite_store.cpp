// SPDX-License-Identifier: Apache-2.0
// Tests of the SQLite store (src/store/sqlite_store.cpp) and its RAII layer (src/store/sqlite.hpp),
// against real files in a temporary directory.
#include <acm/error.hpp>
#include <acm/store.hpp>
#include <acm/time.hpp>
#include <acm/version.hpp>

#include "store/sqlite.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace acm;
using namespace acm::store;
using acm::LoadedCase;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// prefix + n, e.g. name("case-", 3) == "case-3".
std::string name(std::string_view prefix, long long n) { return fmt::format("{}{}", prefix, n); }

TimePoint at(std::int64_t ms) { return TimePoint{Duration{ms}}; }
const TimePoint kT0 = parse_time("2026-11-23T09:00:00Z");

/// A fresh directory under the system temp directory, removed with its contents.
struct TempDir {
  fs::path dir;
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    dir = fs::temp_directory_path() / fmt::format("acm-store-test-{}-{}-{}", ::getpid(), counter++, rd());
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir, ec);
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

SqliteStoreOptions options(const std::string& path, Durability d = Durability::full) {
  SqliteStoreOptions o;
  o.path = path;
  o.durability = d;
  return o;
}

Event event(const std::string& case_id, std::uint64_t seq, TimePoint t, const std::string& kind, Json payload) {
  Event e;
  e.case_id = case_id;
  e.seq = seq;
  e.time = t;
  e.actor = seq % 2 ? "alice" : "";
  e.kind = kind;
  e.payload = std::move(payload);
  return e;
}

/// A CaseCommit that owns its events (these tests build and change them); commit_view() lends
/// them to the store.
struct Commit {
  CaseRow record;
  std::uint64_t expected_version = 0;
  std::vector<Event> events;
  std::optional<RowKeys> stored;
  std::optional<std::vector<WorkItem>> work_items;
  std::optional<SnapshotBlob> snapshot;
  std::string idempotency_key;
  Json idempotent_result;
};

CaseCommit commit_view(const Commit& c) {
  CaseCommit v;
  v.row = c.record;
  v.expected_version = c.expected_version;
  v.events = c.events;
  v.stored_keys = c.stored;
  v.work_items = c.work_items;
  v.snapshot = c.snapshot;
  v.idempotency_key = c.idempotency_key;
  v.idempotent_result = c.idempotent_result;
  return v;
}

/// A learned template with its bytes (the TemplateStore takes them apart).
struct TemplateRecord : TemplateInfo {
  std::string data;
};

/// The store under test, reached through CaseStore (and its TemplateStore) with the test's
/// owning commits: what each call does is the store's own.
class TestStore {
 public:
  explicit TestStore(std::shared_ptr<CaseStore> s) : s_(std::move(s)) {}
  CaseStore& store() { return *s_; }
  void commit(const Commit& c) { s_->commit(commit_view(c)); }
  /// A batch that keeps the commits' events alive until it has been waited for.
  class Held final : public PendingBatch {
   public:
    Held(std::vector<Commit> commits, CaseStore& s) : owned_(std::move(commits)) {
      std::vector<CaseCommit> views;
      for (const Commit& c : owned_) views.push_back(commit_view(c));
      inner_ = s.submit_batch(std::move(views));
    }
    std::vector<std::exception_ptr> wait() override { return inner_->wait(); }

   private:
    std::vector<Commit> owned_;  // declared first: destroyed after inner_ (which waits)
    std::unique_ptr<PendingBatch> inner_;
  };
  std::unique_ptr<PendingBatch> submit_batch(std::vector<Commit> commits) {
    return std::make_unique<Held>(std::move(commits), *s_);
  }
  void commit_batch(std::vector<Commit> commits, std::vector<std::exception_ptr>& errors) {
    errors = submit_batch(std::move(commits))->wait();
  }
  std::optional<LoadedCase> load_case(const std::string& id) { return s_->load_case(id); }
  std::vector<std::optional<LoadedCase>> load_cases(const std::vector<std::string>& ids) {
    std::vector<std::optional<LoadedCase>> out(ids.size());
    s_->load_cases(ids, [&](std::size_t i, std::optional<LoadedCase> c) { out[i] = std::move(c); });
    return out;
  }
  void load_cases(const std::vector<std::string>& ids,
                  const std::function<void(std::size_t, std::optional<LoadedCase>)>& each) {
    s_->load_cases(ids, each);
  }
  std::vector<Event> load_events(const std::string& id, std::uint64_t from) {
    return s_->load_events(id, from).value_or(std::vector<Event>{});
  }
  std::optional<CaseRow> case_record(const std::string& id) {
    auto c = s_->load_case(id);
    if (!c) return std::nullopt;
    return c->row;
  }
  std::vector<std::string> case_ids(std::size_t limit, const std::string& after) { return s_->case_ids(limit, after); }
  std::uint64_t case_count() { return s_->case_count(); }
  std::vector<DueCase> due_cases(TimePoint until, std::size_t limit, const std::optional<DueCase>& after = {}) {
    return s_->due_cases(until, limit, after);
  }
  std::optional<TimePoint> next_due() {
    auto d = s_->due_cases(TimePoint::max(), 1, std::nullopt);
    if (d.empty()) return std::nullopt;
    return d.front().due;
  }
  std::vector<WorkItem> work_items(const QueueFilter& q) { return s_->work_items(q, false).items; }
  std::uint64_t count_work_items(const QueueFilter& q) { return s_->work_items(q, true).total; }
  std::optional<Json> idempotent_result(const std::string& key) { return s_->idempotent_result(key); }
  std::vector<DefinitionRecord> load_definitions() { return s_->load_definitions(); }
  void save_definitions(const std::vector<DefinitionRecord>& d) { s_->save_definitions(d); }
  int put_template(const TemplateRecord& r) { return s_->templates()->put(r, r.data); }
  std::optional<TemplateRecord> get_template(const std::string& name, int version) {
    auto t = s_->templates()->find(name, version);
    if (!t) return std::nullopt;
    TemplateRecord r;
    static_cast<TemplateInfo&>(r) = t->first;
    r.data = t->second;
    return r;
  }
  std::vector<TemplateInfo> list_templates() { return s_->templates()->list(); }

 private:
  std::shared_ptr<CaseStore> s_;
};

std::unique_ptr<TestStore> open_sqlite(const SqliteStoreOptions& o) {
  return std::make_unique<TestStore>(open_sqlite_store(o));
}
std::unique_ptr<TestStore> open_memory() { return std::make_unique<TestStore>(open_memory_store()); }

/// A commit of `n` events to case `id`, from version `from`.
Commit make_commit(const std::string& id, std::uint64_t from, std::size_t n, TimePoint t = kT0) {
  Commit c;
  c.expected_version = from;
  c.record.id = id;
  c.record.version = from + n;
  c.record.type = "claim";
  c.record.type_version = 2;
  c.record.status = CaseStatus::active;
  c.record.owner = "alice";
  c.record.priority = 3;
  c.record.customer = "cust-1";
  c.record.created_at = kT0;
  c.record.updated_at = t;
  for (std::size_t i = 0; i < n; ++i) {
    auto seq = from + 1 + i;
    c.events.push_back(
        event(id, seq, t + Duration(static_cast<std::int64_t>(i)), "note",
              Json{{"seq", seq}, {"text", "h\u00e9llo \"w\"\n"}, {"nested", {{"a", {1, 2.5, nullptr}}}}}));
  }
  return c;
}

WorkItem item(const std::string& case_id, const std::string& id, const std::string& assignee,
              const std::string& role, int priority, std::optional<TimePoint> due) {
  WorkItem w;
  w.case_id = case_id;
  w.item_id = id;
  w.name = "task " + id;
  w.state = ItemState::enabled;
  w.assignee = assignee;
  w.role = role;
  w.skills = {"de", "billing"};
  w.due = due;
  w.priority = priority;
  return w;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Runs `f`, expects Error(code), returns its message.
std::string error_of(const std::function<void()>& f, ErrorCode code) {
  try {
    f();
  } catch (const Error& e) {
    CHECK_MESSAGE(e.code() == code, "got " << to_string(e.code()) << ": " << e.what());
    return e.what();
  }
  FAIL("no error, expected " << to_string(code));
  return "";
}

/// Expects opening `path` to fail with Error(storage) whose message contains `expected`, and the
/// file (and the directory listing) to be exactly as before.
void expect_bad_file(const std::string& path, const std::string& expected) {
  const bool existed = fs::exists(path);
  const bool file = fs::is_regular_file(path);
  const std::string before = file ? read_bytes(path) : "";
  const auto mtime = existed ? fs::last_write_time(path) : fs::file_time_type{};
  std::vector<std::string> listing_before;
  const auto dir = fs::path(path).parent_path();
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir)) listing_before.push_back(e.path().filename().string());
  std::string message = error_of([&] { (void)open_sqlite(options(path)); }, ErrorCode::storage);
  CHECK_MESSAGE(message.find(expected) != std::string::npos, "message: " << message);
  CHECK_MESSAGE(message.find(fs::path(path).filename().string()) != std::string::npos, "message: " << message);
  CHECK(fs::exists(path) == existed);
  if (existed) {
    if (file) CHECK(read_bytes(path) == before);
    CHECK(fs::last_write_time(path) == mtime);
  }
  std::vector<std::string> listing_after;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir)) listing_after.push_back(e.path().filename().string());
  std::sort(listing_before.begin(), listing_before.end());
  std::sort(listing_after.begin(), listing_after.end());
  CHECK(listing_before == listing_after);  // no lock, -wal or -shm file left behind
}

/// A store with a few cases, closed (so checkpointed), for the bad-file tests.
void make_store(const std::string& path, int cases = 3, int events = 4) {
  auto s = open_sqlite(options(path));
  for (int i = 0; i < cases; ++i) {
    s->commit(make_commit(name("case-", i), 0, static_cast<std::size_t>(events)));
  }
}

std::uint64_t event_count(TestStore& s, const std::string& id) { return s.load_events(id, 1).size(); }

}  // namespace

TEST_SUITE("sqlite store") {
  TEST_CASE("commit and load round trip: events, payloads, times, records") {
    TempDir tmp;
    auto s = open_sqlite(options(tmp.path("cases.db")));
    CHECK(s->case_count() == 0);
    CHECK_FALSE(s->load_case("c1"));
    CHECK_FALSE(s->case_record("c1"));
    CHECK(s->load_events("c1", 1).empty());

    Commit c = make_commit("c1", 0, 3, kT0 + 5min);
    c.record.next_due = kT0 + 1h;
    c.record.next_deadline = kT0 + 48h;
    c.events[1].payload = Json{{"unicode", "\u65e5\u672c \U0001F600"},
                               {"big", 9007199254740993LL},
                               {"neg", -1.25e-7},
                               {"empty", Json::object()},
                               {"list", Json::array()}};
    c.events[2].time = at(-86'400'000);  // before 1970
    const Commit original = c;
    s->commit(c);

    auto loaded = s->load_case("c1");
    REQUIRE(loaded);
    CHECK(loaded->row.version == 3);
    CHECK(loaded->row.type == "claim");
    CHECK(loaded->row.type_version == 2);
    CHECK(loaded->row.status == CaseStatus::active);
    CHECK(loaded->row.owner == "alice");
    CHECK(loaded->row.priority == 3);
    CHECK(loaded->row.customer == "cust-1");
    CHECK(loaded->row.next_due == kT0 + 1h);
    CHECK(loaded->row.next_deadline == kT0 + 48h);
    CHECK(loaded->row.created_at == kT0);
    CHECK(loaded->row.updated_at == kT0 + 5min);
    CHECK_FALSE(loaded->snapshot);
    REQUIRE(loaded->events.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
      const Event& a = loaded->events[i];
      const Event& b = original.events[i];
      CHECK(a.case_id == "c1");
      CHECK(a.seq == i + 1);
      CHECK(a.time == b.time);
      CHECK(a.actor == b.actor);
      CHECK(a.kind == b.kind);
      CHECK(a.payload == b.payload);
    }
    CHECK(loaded->events[1].payload["big"].get<std::int64_t>() == 9007199254740993LL);

    // The next command.
    Commit next = make_commit("c1", 3, 2, kT0 + 10min);
    next.record.status = CaseStatus::completed;
    next.record.owner = "bob";
    s->commit(next);
    auto record = s->case_record("c1");
    REQUIRE(record);
    CHECK(record->version == 5);
    CHECK(record->status == CaseStatus::completed);
    CHECK(record->owner == "bob");
    CHECK_FALSE(record->next_due);  // cleared
    CHECK(s->load_events("c1", 4).size() == 2);
    CHECK(s->load_events("c1", 4).front().seq == 4);
    CHECK(s->load_events("c1", 6).empty());
    CHECK(s->load_events("c1", 0).size() == 5);
    CHECK(s->case_count() == 1);
  }

  TEST_CASE("version conflicts write nothing") {
    TempDir tmp;
    const auto path = tmp.path("cases.db");
    auto s = open_sqlite(options(path));
    s->commit(make_commit("c1", 0, 2));
    const auto wal_size = fs::file_size(path + "-wal");
    const auto db_bytes = read_bytes(path);

    SUBCASE("wrong expected version") {
      Commit c = make_commit("c1", 1, 1);
      c.idempotency_key = "k1";
      c.work_items = std::vector<WorkItem>{item("c1", "t1", "bob", "agent", 1, std::nullopt)};
      auto m = error_of([&] { s->commit(c); }, ErrorCode::conflict);
      CHECK(m.find("version 2, not 1") != std::string::npos);
      CHECK_FALSE(s->idempotent_result("k1"));
      CHECK(s->work_items({.assignee = "bob"}).empty());
    }
    SUBCASE("a new case whose id exists") {
      auto m = error_of([&] { s->commit(make_commit("c1", 0, 1)); }, ErrorCode::conflict);
      CHECK(m.find("already exists") != std::string::npos);
    }
    SUBCASE("a case that does not exist") {
      auto m = error_of([&] { s->commit(make_commit("nope", 4, 1)); }, ErrorCode::conflict);
      CHECK(m.find("does not exist") != std::string::npos);
      CHECK_FALSE(s->case_record("nope"));
    }
    SUBCASE("an idempotency key used before: the whole commit is undone") {
      Commit a = make_commit("c1", 2, 1);
      a.idempotency_key = "k";
      a.idempotent_result = Json{{"case", "c1"}, {"version", 3}};
      s->commit(a);
      Commit b = make_commit("c2", 0, 2);
      b.idempotency_key = "k";
      error_of([&] { s->commit(b); }, ErrorCode::conflict);
      CHECK_FALSE(s->case_record("c2"));
      CHECK(event_count(*s, "c2") == 0);
      CHECK(s->idempotent_result("k") == Json{{"case", "c1"}, {"version", 3}});
      return;
    }
    SUBCASE("events that do not follow the version") {
      Commit c = make_commit("c1", 2, 2);
      c.events[1].seq = 7;
      error_of([&] { s->commit(c); }, ErrorCode::internal);
    }
    CHECK(event_count(*s, "c1") == 2);
    CHECK(s->case_record("c1")->version == 2);
    CHECK(s->case_count() == 1);
    CHECK(fs::file_size(path + "-wal") == wal_size);  // no frame was appended
    CHECK(read_bytes(path) == db_bytes);
  }

  TEST_CASE("work items are replaced per case and queried as queues") {
    TempDir tmp;
    auto s = open_sqlite(options(tmp.path("cases.db")));
    Commit a = make_commit("a", 0, 1);
    a.work_items = std::vector<WorkItem>{
        item("a", "a1", "bob", "agent", 5, kT0 + 2h),    //
        item("a", "a2", "", "agent", 5, std::nullopt),   //
        item("a", "a3", "", "supervisor", 9, kT0 - 1h),  //
        item("a", "a4", "carol", "agent", 1, kT0 - 3h),  //
    };
    s->commit(a);
    Commit b = make_commit("b", 0, 1);
    b.work_items = std::vector<WorkItem>{
        item("b", "b1", "bob", "agent", 5, kT0 + 1h),  //
        item("b", "b2", "", "agent", 7, kT0 + 30min),  //
        item("b", "b3", "bob", "agent", 5, std::nullopt),
    };
    s->commit(b);

    auto ids = [](const std::vector<WorkItem>& v) {
      std::vector<std::string> out;
      for (const auto& w : v) out.push_back(w.item_id);
      return out;
    };
    using V = std::vector<std::string>;

    // Round trip of every field.
    auto all = s->work_items({});
    REQUIRE(all.size() == 7);
    auto a1 = std::find_if(all.begin(), all.end(), [](const auto& w) { return w.item_id == "a1"; });
    REQUIRE(a1 != all.end());
    CHECK(*a1 == item("a", "a1", "bob", "agent", 5, kT0 + 2h));
    // Everything: priority desc, due asc (missing last), case, item.
    CHECK(ids(all) == V{"a3", "b2", "b1", "a1", "a2", "b3", "a4"});

    // My queue: bob's own items.
    CHECK(ids(s->work_items({.assignee = "bob"})) == V{"b1", "a1", "b3"});
    // My queue with my roles: plus unassigned items needing them.
    CHECK(ids(s->work_items({.assignee = "bob", .roles = {"agent"}})) == V{"b2", "b1", "a1", "a2", "b3"});
    CHECK(ids(s->work_items({.assignee = "bob", .roles = {"supervisor", "agent", "agent"}})) ==
          V{"a3", "b2", "b1", "a1", "a2", "b3"});
    // The team's queue: unassigned items of a role.
    CHECK(ids(s->work_items({.roles = {"agent"}})) == V{"b2", "a2"});
    CHECK(s->work_items({.assignee = "nobody"}).empty());
    // Paging.
    CHECK(ids(s->work_items({.assignee = "bob", .roles = {"agent"}, .limit = 2})) == V{"b2", "b1"});
    CHECK(ids(s->work_items({.assignee = "bob", .roles = {"agent"}, .limit = 2, .offset = 2})) == V{"a1", "a2"});
    CHECK(ids(s->work_items({.assignee = "bob", .roles = {"agent"}, .limit = 2, .offset = 4})) == V{"b3"});
    CHECK(s->work_items({.assignee = "bob", .roles = {"agent"}, .limit = 2, .offset = 6}).empty());
    CHECK(s->work_items({.assignee = "bob", .limit = 0}).empty());
    // Overdue now: due < the time, ordered by due.
    CHECK(ids(s->work_items({.overdue_at = kT0})) == V{"a4", "a3"});
    CHECK(ids(s->work_items({.overdue_at = kT0 + 90min})) == V{"a4", "a3", "b2", "b1"});
    CHECK(ids(s->work_items({.assignee = "bob", .overdue_at = kT0 + 90min})) == V{"b1"});
    CHECK(ids(s->work_items({.roles = {"supervisor"}, .overdue_at = kT0 + 90min})) == V{"a3"});
    // Many roles (an uncached statement).
    std::vector<std::string> roles;
    for (int i = 0; i < 20; ++i) roles.push_back(name("r", i));
    roles.push_back("supervisor");
    CHECK(ids(s->work_items({.roles = roles})) == V{"a3"});

    // Replacement: a commit with work items replaces the case's rows; without, keeps them.
    Commit a2 = make_commit("a", 1, 1);
    a2.work_items = std::vector<WorkItem>{item("a", "a9", "bob", "agent", 6, std::nullopt)};
    s->commit(a2);
    CHECK(ids(s->work_items({.assignee = "bob"})) == V{"a9", "b1", "b3"});
    s->commit(make_commit("a", 2, 1));
    CHECK(ids(s->work_items({.assignee = "bob"})) == V{"a9", "b1", "b3"});
    // The same item ids with changed fields, plus a new one: every change lands.
    Commit b2 = make_commit("b", 1, 1);
    b2.work_items = std::vector<WorkItem>{
        item("b", "b3", "bob", "agent", 5, std::nullopt),  // unchanged
        item("b", "b1", "carol", "agent", 5, kT0 + 1h),    // reassigned
        item("b", "b2", "", "agent", 7, kT0 + 45min),      // due moved
        item("b", "b0", "", "agent", 2, std::nullopt),     // new
    };
    b2.work_items->at(0).skills = {"fr"};  // b3's skills changed after all
    s->commit(b2);
    auto b_items = s->work_items({.roles = {"agent"}});
    CHECK(ids(b_items) == V{"b2", "b0"});
    CHECK(*b_items[0].due == kT0 + 45min);
    CHECK(ids(s->work_items({.assignee = "carol"})) == V{"b1"});
    auto bob = s->work_items({.assignee = "bob"});
    REQUIRE(ids(bob) == V{"a9", "b3"});
    CHECK(bob[1].skills == std::vector<std::string>{"fr"});
    error_of([&] { s->commit(b); }, ErrorCode::conflict);  // a stale commit changes nothing
    Commit b3 = make_commit("b", 2, 1);
    b3.work_items = b.work_items;
    s->commit(b3);
    CHECK(ids(s->work_items({.assignee = "bob"})) == V{"a9", "b1", "b3"});
    Commit a3 = make_commit("a", 3, 1);
    a3.work_items = std::vector<WorkItem>{};
    s->commit(a3);
    CHECK(ids(s->work_items({})) == V{"b2", "b1", "b3"});

    // Duplicate item ids in one commit: refused, nothing written.
    Commit bad = make_commit("b", 3, 1);
    bad.work_items = std::vector<WorkItem>{item("b", "x", "", "agent", 1, std::nullopt),
                                                 item("b", "x", "", "agent", 1, std::nullopt)};
    error_of([&] { s->commit(bad); }, ErrorCode::invalid_argument);
    CHECK(s->case_record("b")->version == 3);
    CHECK(ids(s->work_items({})) == V{"b2", "b1", "b3"});
  }

  TEST_CASE("queue and timer queries use the indexes (EXPLAIN QUERY PLAN)") {
    TempDir tmp;
    auto s = open_sqlite(options(tmp.path("cases.db")));
    // Enough rows that a scan would be costly; the plan must not depend on them anyway.
    for (int c = 0; c < 50; ++c) {
      Commit k = make_commit(name("case-", c), 0, 1);
      k.record.next_due = kT0 + std::chrono::minutes(c);
      std::vector<WorkItem> items;
      for (int i = 0; i < 10; ++i)
        items.push_back(item(k.record.id, name("t", i), i % 3 ? "" : name("user", c % 7), i % 2 ? "agent" : "clerk", i,
                             kT0 + std::chrono::hours(i - 5)));
      k.work_items = items;
      s->commit(k);
    }
    auto no_scan = [](const std::string& plan) {
      // A full scan reads "SCAN work_items" (or "SCAN work_items USING ... INDEX" for a full
      // index scan); index lookups read "SEARCH ... USING INDEX".
      std::istringstream lines(plan);
      for (std::string line; std::getline(lines, line);)
        if (line.find("SCAN") != std::string::npos && line.find("USING") == std::string::npos &&
            line.find("subquery") == std::string::npos)
          return false;  // a table scan (reading the few rows of a sub-query is fine)
      return plan.find("USING INDEX") != std::string::npos || plan.find("USING COVERING INDEX") != std::string::npos;
    };
    auto mine = detail::queue_plan(s->store(), {.assignee = "user1"});
    CHECK_MESSAGE(no_scan(mine), mine);
    CHECK_MESSAGE(mine.find("work_items_mine") != std::string::npos, mine);

    auto team = detail::queue_plan(s->store(), {.roles = {"agent", "clerk"}});
    CHECK_MESSAGE(no_scan(team), team);
    CHECK_MESSAGE(team.find("work_items_team") != std::string::npos, team);

    auto both = detail::queue_plan(s->store(), {.assignee = "user1", .roles = {"agent"}});
    CHECK_MESSAGE(no_scan(both), both);
    CHECK_MESSAGE(both.find("work_items_mine") != std::string::npos, both);
    CHECK_MESSAGE(both.find("work_items_team") != std::string::npos, both);
    // Each source is read in index order: only the small union is sorted.
    CHECK_MESSAGE(both.find("USE TEMP B-TREE FOR ORDER BY") == both.rfind("USE TEMP B-TREE FOR ORDER BY"), both);
    auto all = detail::queue_plan(s->store(), {});
    CHECK_MESSAGE(all.find("work_items_all") != std::string::npos, all);
    CHECK_MESSAGE(all.find("TEMP B-TREE") == std::string::npos, all);

    auto overdue = detail::queue_plan(s->store(), {.overdue_at = kT0});
    CHECK_MESSAGE(no_scan(overdue), overdue);
    CHECK_MESSAGE(overdue.find("work_items_due") != std::string::npos, overdue);

    auto my_overdue = detail::queue_plan(s->store(), {.assignee = "user1", .overdue_at = kT0});
    CHECK_MESSAGE(no_scan(my_overdue), my_overdue);

    auto due = detail::due_plan(s->store());
    CHECK_MESSAGE(no_scan(due), due);
    CHECK_MESSAGE(due.find("cases_next_due") != std::string::npos, due);

    // And the answers agree with the data.
    auto overdue_items = s->work_items({.overdue_at = kT0, .limit = 1000});
    CHECK(overdue_items.size() == 50 * 5);
    for (const auto& w : overdue_items) CHECK(*w.due < kT0);
  }

  TEST_CASE("timers: due_cases and next_due") {
    TempDir tmp;
    auto s = open_sqlite(options(tmp.path("cases.db")));
    CHECK_FALSE(s->next_due());
    CHECK(s->due_cases(kT0 + 100h, 10).empty());
    auto add = [&](const std::string& id, std::optional<TimePoint> due) {
      Commit c = make_commit(id, 0, 1);
      c.record.next_due = due;
      s->commit(c);
    };
    add("c", kT0 + 3h);
    add("a", kT0 + 1h);
    add("b", kT0 + 1h);
    add("none", std::nullopt);
    add("d", kT0 + 5h);
    CHECK(s->next_due() == kT0 + 1h);
    using P = std::vector<DueCase>;
    CHECK(s->due_cases(kT0 + 3h, 10) == P{{kT0 + 1h, "a"}, {kT0 + 1h, "b"}, {kT0 + 3h, "c"}});
    CHECK(s->due_cases(kT0 + 3h, 2) == P{{kT0 + 1h, "a"}, {kT0 + 1h, "b"}});
    CHECK(s->due_cases(kT0, 10).empty());
    CHECK(s->due_cases(kT0 + 100h, 0).empty());
    // Keyset paging (run_due reads chunks this way): after a key, ties broken by id. The
    // memory store answers the same.
    auto mem = open_memory();
    for (const auto& [id, due] : std::vector<std::pair<std::string, TimePoint>>{
             {"c", kT0 + 3h}, {"a", kT0 + 1h}, {"b", kT0 + 1h}, {"d", kT0 + 5h}}) {
      Commit c = make_commit(id, 0, 1);
      c.record.next_due = due;
      mem->commit(c);
    }
    for (TestStore* st : {s.get(), mem.get()}) {
      CHECK(st->due_cases(kT0 + 3h, 10, DueCase{kT0 + 1h, "a"}) == P{{kT0 + 1h, "b"}, {kT0 + 3h, "c"}});
      CHECK(st->due_cases(kT0 + 3h, 1, DueCase{kT0 + 1h, "b"}) == P{{kT0 + 3h, "c"}});
      CHECK(st->due_cases(kT0 + 3h, 10, DueCase{kT0 + 3h, "c"}).empty());
      CHECK(st->due_cases(kT0 + 100h, 10, DueCase{kT0, ""}).size() == 4);
    }
    // Moving and clearing timers.
    Commit a = make_commit("a", 1, 1);
    a.record.next_due = std::nullopt;
    s->commit(a);
    Commit b = make_commit("b", 1, 1);
    b.record.next_due = kT0 + 4h;
    s->commit(b);
    CHECK(s->next_due() == kT0 + 3h);
    CHECK(s->due_cases(kT0 + 100h, 10) == P{{kT0 + 3h, "c"}, {kT0 + 4h, "b"}, {kT0 + 5h, "d"}});
    // A commit without events moves a case's next_due at its version (what a deadline check
    // that finds the goal on track writes); at another version it is a conflict and changes
    // nothing.
    Commit d = make_commit("d", 1, 0);
    d.record.next_due = kT0 + 30min;
    s->commit(d);
    Commit stale = make_commit("c", 7, 0);
    stale.record.next_due = kT0;
    CHECK(error_of([&] { s->commit(stale); }, ErrorCode::conflict).find("is at version 1, not 7") != std::string::npos);
    Commit b2 = make_commit("b", 2, 0);
    b2.record.next_due = std::nullopt;
    s->commit(b2);
    CHECK(s->due_cases(kT0 + 100h, 10) == P{{kT0 + 30min, "d"}, {kT0 + 3h, "c"}});
    CHECK(s->case_record("d")->version == 1);
    CHECK(event_count(*s, "d") == 1);
  }

  TEST_CASE("snapshots replace each other and bound the events loaded") {
    TempDir tmp;
    auto s = open_sqlite(options(tmp.path("cases.db")));
    s->commit(make_commit("c", 0, 3));
    Commit c = make_commit("c", 3, 2);
    std::string bytes("ACMSNAP1\0\x01\x02\xff binary", 19);
    c.snapshot = SnapshotBlob{5, bytes};
    s->commit(c);
    auto loaded = s->load_case("c");
    REQUIRE(loaded);
    REQUIRE(loaded->snapshot);
    CHECK(loaded->snapshot->version == 5);
    CHECK(loaded->snapshot->data == bytes);
    CHECK(loaded->events.empty());

    s->commit(make_commit("c", 5, 2));
    loaded = s->load_case("c");
    CHECK(loaded->snapshot->version == 5);
    REQUIRE(loaded->events.size() == 2);
    CHECK(loaded->events[0].seq == 6);

    Commit d = make_commit("c", 7, 1);
    d.snapshot = SnapshotBlob{8, "second"};
    s->commit(d);
    loaded = s->load_case("c");
    CHECK(loaded->snapshot->version == 8);
    CHECK(loaded->snapshot->data == "second");
    CHECK(loaded->events.empty());
    CHECK(s->load_events("c", 1).size() == 8);  // the whole history stays
  }

  TEST_CASE("idempotency keys are stored with their result") {
    TempDir tmp;
    auto s = open_sqlite(options(tmp.path("cases.db")));
    CHECK_FALSE(s->idempotent_result("k"));
    Commit c = make_commit("c", 0, 2);
    c.idempotency_key = "k";
    c.idempotent_result = Json{{"case", "c"}, {"version", 2}, {"first_seq", 1}, {"last_seq", 2}, {"created", "c"}};
    s->commit(c);
    CHECK(s->idempotent_result("k") == c.idempotent_result);
    CHECK_FALSE(s->idempotent_result("other"));
  }

  TEST_CASE("templates: versions assigned by the store, latest by default") {
    TempDir tmp;
    auto s = open_sqlite(options(tmp.path("cases.db")));
    CHECK_FALSE(s->get_template("next", 0));
    TemplateRecord r;
    r.name = "next";
    r.kind = "next_step";
    r.created_at = kT0;
    r.meta = Json{{"cases", 120}};
    r.data = std::string("model\0v1", 8);
    CHECK(s->put_template(r) == 1);
    r.data = "model v2";
    r.meta = Json{{"cases", 240}};
    r.created_at = kT0 + 1h;
    CHECK(s->put_template(r) == 2);
    TemplateRecord other = r;
    other.name = "duration";
    other.kind = "duration";
    CHECK(s->put_template(other) == 1);
    other.version = 7;
    CHECK(s->put_template(other) == 7);
    error_of([&] { s->put_template(other); }, ErrorCode::already_exists);
    other.version = 0;
    CHECK(s->put_template(other) == 8);

    auto latest = s->get_template("next", 0);
    REQUIRE(latest);
    CHECK(latest->version == 2);
    CHECK(latest->data == "model v2");
    CHECK(latest->meta == Json{{"cases", 240}});
    CHECK(latest->created_at == kT0 + 1h);
    auto first = s->get_template("next", 1);
    REQUIRE(first);
    CHECK(first->data == std::string("model\0v1", 8));
    CHECK(first->kind == "next_step");
    CHECK_FALSE(s->get_template("next", 3));
    CHECK_FALSE(s->get_template("missing", 0));

    auto list = s->list_templates();
    REQUIRE(list.size() == 5);
    CHECK(list[0].name == "duration");
    CHECK(list[0].version == 1);
    CHECK(list[3].name == "next");
    CHECK(list[3].version == 1);
    // (list() returns TemplateInfo: the bytes are left out by its type.)
  }

  TEST_CASE("definitions round trip in registration order") {
    TempDir tmp;
    auto s = open_sqlite(options(tmp.path("cases.db")));
    CHECK(s->load_definitions().empty());
    std::vector<DefinitionRecord> defs = {
        {"fragment", "intake", 1, Json{{"id", "intake"}, {"items", Json::array({Json{{"id", "t1"}}})}}},
        {"fragment", "intake", 2, Json{{"id", "intake"}, {"version", 2}}},
        {"case_type", "claim", 1, Json{{"id", "claim"}, {"fragments", {"intake"}}}},
    };
    s->save_definitions(defs);
    s->save_definitions({{"fragment", "aaa", 1, Json{{"id", "aaa"}}}});
    auto loaded = s->load_definitions();
    REQUIRE(loaded.size() == 4);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(loaded[i].kind == defs[i].kind);
      CHECK(loaded[i].id == defs[i].id);
      CHECK(loaded[i].version == defs[i].version);
      CHECK(loaded[i].body == defs[i].body);
    }
    CHECK(loaded[3].id == "aaa");
    // Saving the same definition again is harmless; a different body under the same key is not,
    // and a failing batch adds nothing.
    s->save_definitions({defs[0]});
    CHECK(s->load_definitions().size() == 4);
    std::vector<DefinitionRecord> clash = {{"fragment", "zzz", 1, Json{{"id", "zzz"}}},
                                           {"fragment", "intake", 1, Json{{"id", "changed"}}}};
    error_of([&] { s->save_definitions(clash); }, ErrorCode::already_exists);
    CHECK(s->load_definitions().size() == 4);
  }

  TEST_CASE("a closed store reopens with everything") {
    TempDir tmp;
    const auto path = tmp.path("cases.db");
    for (auto durability : {Durability::full, Durability::group}) {
      CAPTURE(static_cast<int>(durability));
      fs::remove(path);
      {
        auto s = open_sqlite(options(path, durability));
        s->save_definitions({{"fragment", "f", 1, Json{{"id", "f"}}}});
        for (int i = 0; i < 30; ++i) {
          Commit c = make_commit(name("case-", i), 0, 2);
          c.record.next_due = kT0 + std::chrono::minutes(30 - i);
          c.work_items = std::vector<WorkItem>{item(c.record.id, "t", "bob", "agent", i, std::nullopt)};
          if (i == 3) c.snapshot = SnapshotBlob{2, "snap"};
          if (i == 4) c.idempotency_key = "key-4";
          s->commit(c);
        }
        s->commit(make_commit("case-7", 2, 3));
        TemplateRecord t;
        t.name = "m";
        t.data = "bytes";
        s->put_template(t);
      }
      CHECK_FALSE(fs::exists(path + "-wal"));  // checkpointed and removed on close
      CHECK_FALSE(fs::exists(path + ".lock"));
      auto s = open_sqlite(options(path, durability));
      CHECK(s->case_count() == 30);
      auto ids = s->case_ids(1000, "");
      REQUIRE(ids.size() == 30);
      for (int i = 0; i < 30; ++i) CHECK(ids[static_cast<std::size_t>(i)] == name("case-", i));
      CHECK(s->case_ids(2, "case-9") == std::vector<std::string>{"case-10", "case-11"});
      CHECK(s->case_ids(5, "case-29").empty());
      CHECK(s->case_ids(5, "unknown").empty());
      CHECK(s->case_ids(0, "").empty());
      CHECK(s->load_definitions().size() == 1);
      CHECK(s->case_record("case-7")->version == 5);
      CHECK(event_count(*s, "case-7") == 5);
      CHECK(s->load_case("case-3")->snapshot->data == "snap");
      CHECK(s->idempotent_result("key-4"));
      CHECK(s->next_due() == kT0 + 1min);
      CHECK(s->work_items({.assignee = "bob", .limit = 100}).size() == 30);
      CHECK(s->get_template("m", 0)->data == "bytes");
      // And it takes new commits.
      s->commit(make_commit("case-30", 0, 1));
      CHECK(s->case_count() == 31);
    }
  }

  TEST_CASE("a store copied while open (a crash image with a WAL) opens with every returned commit") {
    TempDir tmp;
    const auto path = tmp.path("cases.db");
    auto s = open_sqlite(options(path));
    for (int i = 0; i < 10; ++i) s->commit(make_commit(name("case-", i), 0, 3));
    REQUIRE(fs::file_size(path + "-wal") > 0);
    const auto copy = tmp.path("copy.db");
    fs::copy_file(path, copy);
    fs::copy_file(path + "-wal", copy + "-wal");
    auto c = open_sqlite(options(copy));
    CHECK(c->case_count() == 10);
    for (int i = 0; i < 10; ++i) CHECK(event_count(*c, name("case-", i)) == 3);
  }

  TEST_CASE("missing and empty files become new stores") {
    TempDir tmp;
    const auto path = tmp.path("new.db");
    { auto s = open_sqlite(options(path)); }
    CHECK(fs::exists(path));
    { auto s = open_sqlite(options(path)); }
    const auto empty = tmp.path("empty.db");
    write_bytes(empty, "");
    {
      auto s = open_sqlite(options(empty));
      s->commit(make_commit("c", 0, 1));
    }
    CHECK(open_sqlite(options(empty))->case_count() == 1);
    // An empty SQLite database (no tables, no application_id) too.
    const auto blank = tmp.path("blank.db");
    {
      sql::Database db(blank, sql::Database::Access::read_write);
      db.exec("PRAGMA page_size = 4096; VACUUM;");
    }
    REQUIRE(fs::file_size(blank) > 0);
    CHECK(open_sqlite(options(blank))->case_count() == 0);
    // The meta keys and the header identity.
    sql::Database db(path, sql::Database::Access::read_only);
    CHECK(db.query_text("SELECT value FROM meta WHERE key = 'format'") == "acm-store");
    CHECK(db.query_text("SELECT value FROM meta WHERE key = 'schema_version'") == "5");
    CHECK(db.query_int64("PRAGMA user_version") == 5);
    CHECK(db.query_int64("PRAGMA application_id") == 0x41434D53);
    // The library version that created the file: project(VERSION) of CMakeLists.txt.
    CHECK(db.query_text("SELECT value FROM meta WHERE key = 'acm_version'") == ACM_PROJECT_VERSION);
    CHECK(std::string(acm::version()) == ACM_PROJECT_VERSION);
    CHECK_NOTHROW(parse_time(db.query_text("SELECT value FROM meta WHERE key = 'created_at'")));
    CHECK(db.query_text("PRAGMA journal_mode") == "wal");
  }

  TEST_CASE("bad files are refused and left untouched") {
    TempDir tmp;
    SUBCASE("a newer schema") {
      const auto path = tmp.path("newer.db");
      make_store(path);
      {
        sql::Database db(path, sql::Database::Access::read_write);
        db.exec("PRAGMA user_version = 99");
      }
      expect_bad_file(path, "schema version 99 is newer");
    }
    SUBCASE("a newer schema with a WAL still to replay") {
      const auto path = tmp.path("newer-wal.db");
      make_store(path);
      const auto copy = tmp.path("newer-wal-copy.db");
      {
        sql::Database db(path, sql::Database::Access::read_write);
        db.exec("PRAGMA wal_autocheckpoint = 0; PRAGMA user_version = 42");
        fs::copy_file(path, copy);  // the change is only in the WAL
        fs::copy_file(path + "-wal", copy + "-wal");
      }
      const auto wal = read_bytes(copy + "-wal");
      expect_bad_file(copy, "schema version 42 is newer");
      CHECK(read_bytes(copy + "-wal") == wal);
    }
    SUBCASE("a SQLite database of another program") {
      const auto path = tmp.path("foo.db");
      {
        sql::Database db(path, sql::Database::Access::read_write);
        db.exec("CREATE TABLE foo(x); INSERT INTO foo VALUES (1), (2);");
      }
      expect_bad_file(path, "not an acm store");
    }
    SUBCASE("a SQLite database of another program in WAL mode") {
      const auto path = tmp.path("foo-wal.db");
      {
        sql::Database db(path, sql::Database::Access::read_write);
        db.exec("PRAGMA journal_mode = WAL; PRAGMA application_id = 1234; CREATE TABLE foo(x);");
      }
      expect_bad_file(path, "not an acm store");
    }
    SUBCASE("acm's application_id without acm's tables") {
      const auto path = tmp.path("fake.db");
      {
        sql::Database db(path, sql::Database::Access::read_write);
        db.exec("PRAGMA application_id = 1094929747; PRAGMA user_version = 1; CREATE TABLE foo(x);");
      }
      expect_bad_file(path, "no meta table");
    }
    SUBCASE("random bytes") {
      const auto path = tmp.path("random.db");
      std::mt19937 rng(7);
      std::string bytes(10000, '\0');
      for (auto& b : bytes) b = static_cast<char>(rng());
      write_bytes(path, bytes);
      expect_bad_file(path, "not a SQLite database");
    }
    SUBCASE("a text file") {
      const auto path = tmp.path("notes.txt");
      write_bytes(path,
                  "These are my notes.\nNot a database at all, but long enough to have a header of 100 bytes "
                  "or more, so the size alone does not give it away.\n");
      expect_bad_file(path, "not a SQLite database");
    }
    SUBCASE("a short file") {
      const auto path = tmp.path("short.db");
      write_bytes(path, "SQLite format 3");
      expect_bad_file(path, "not a SQLite database");
    }
    SUBCASE("a truncated store") {
      const auto path = tmp.path("truncated.db");
      make_store(path, 40, 20);
      const auto size = fs::file_size(path);
      REQUIRE(size > 8 * 4096);
      fs::resize_file(path, size / 2);
      expect_bad_file(path, "truncated");
    }
    SUBCASE("a store with damaged pages") {
      const auto path = tmp.path("damaged.db");
      make_store(path, 40, 20);
      std::string bytes = read_bytes(path);
      const std::size_t page = 4096, pages = bytes.size() / page;
      REQUIRE(pages > 8);
      std::mt19937 rng(11);
      for (std::size_t p = pages / 3; p < pages / 3 + 3; ++p)
        for (std::size_t i = 0; i < page; ++i) bytes[p * page + i] = static_cast<char>(rng());
      write_bytes(path, bytes);
      expect_bad_file(path, "corrupt");
    }
    SUBCASE("a directory that does not exist") {
      const auto path = tmp.path("no/such/dir/cases.db");
      expect_bad_file(path, "directory does not exist");
      CHECK_FALSE(fs::exists(tmp.path("no")));
    }
    SUBCASE("a path under a regular file") {
      const auto file = tmp.path("plain");
      write_bytes(file, "x");
      expect_bad_file(file + "/cases.db", "directory does not exist");
    }
    SUBCASE("a directory") {
      const auto path = tmp.path("adir");
      fs::create_directory(path);
      expect_bad_file(path, "not a regular file");
    }
    SUBCASE("a directory that is not writable") {
      if (::geteuid() == 0) {
        MESSAGE("running as root: directory permissions are not enforced, skipped");
        return;
      }
      const auto dir = tmp.path("ro");
      fs::create_directory(dir);
      const auto path = dir + "/cases.db";
      make_store(path);
      fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
      expect_bad_file(path, "is the directory writable");
      fs::permissions(dir, fs::perms::owner_all);
    }
  }

  TEST_CASE("a second store cannot open a file that is open for writing") {
    TempDir tmp;
    const auto path = tmp.path("cases.db");
    auto first = open_sqlite(options(path));
    first->commit(make_commit("c", 0, 2));
    const auto bytes = read_bytes(path);
    const auto wal = read_bytes(path + "-wal");
    for (auto d : {Durability::full, Durability::group}) {
      auto m = error_of([&] { (void)open_sqlite(options(path, d)); }, ErrorCode::storage);
      CHECK_MESSAGE(m.find("already open for writing by another acm store") != std::string::npos, m);
      CHECK_MESSAGE(m.find(std::to_string(::getpid())) != std::string::npos, m);
    }
    // The same file through another spelling of its path.
    auto other = (fs::path(tmp.dir) / "." / "cases.db").string();
    error_of([&] { (void)open_sqlite(options(other)); }, ErrorCode::storage);
    CHECK(read_bytes(path) == bytes);
    CHECK(read_bytes(path + "-wal") == wal);
    // The first one is unaffected.
    first->commit(make_commit("c", 2, 1));
    CHECK(event_count(*first, "c") == 3);
    first.reset();
    CHECK_FALSE(fs::exists(path + ".lock"));
    auto second = open_sqlite(options(path));
    CHECK(event_count(*second, "c") == 3);
  }

  TEST_CASE("group commit: 4 threads x 200 commits, durable and visible") {
    TempDir tmp;
    const auto path = tmp.path("cases.db");
    constexpr int kThreads = 4, kCommits = 200, kCasesPerThread = 20;
    {
      SqliteStoreOptions o = options(path, Durability::group);
      o.group_window = 500us;
      auto s = open_sqlite(o);
      std::atomic<int> failures{0};
      std::atomic<bool> stop{false};
      // A reader hammering the read side meanwhile.
      std::thread reader([&] {
        while (!stop.load()) {
          (void)s->case_count();
          (void)s->work_items({.assignee = "bob", .limit = 5});
          (void)s->load_case("t0-c0");
        }
      });
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
          std::vector<std::uint64_t> version(kCasesPerThread, 0);
          for (int i = 0; i < kCommits; ++i) {
            int k = i % kCasesPerThread;
            std::string id = fmt::format("t{}-c{}", t, k);
            Commit c = make_commit(id, version[static_cast<std::size_t>(k)], 1 + i % 3);
            c.work_items = std::vector<WorkItem>{item(id, "w", "bob", "agent", i, std::nullopt)};
            try {
              s->commit(c);
              version[static_cast<std::size_t>(k)] = c.record.version;
              // Read your writes: a read after commit() returned sees it.
              auto r = s->case_record(id);
              if (!r || r->version != c.record.version) failures++;
            } catch (const Error& e) {
              failures++;
              MESSAGE(e.what());
            }
          }
        });
      for (auto& t : threads) t.join();
      stop = true;
      reader.join();
      CHECK(failures == 0);
      auto stats = detail::write_stats(s->store());
      CHECK(stats.operations == kThreads * kCommits);
      CHECK(stats.batches < stats.operations);  // some batching happened
      MESSAGE("group commit: " << stats.operations << " commits in " << stats.batches << " batches");
    }
    auto s = open_sqlite(options(path));
    CHECK(s->case_count() == kThreads * kCasesPerThread);
    std::uint64_t events = 0;
    for (int t = 0; t < kThreads; ++t)
      for (int k = 0; k < kCasesPerThread; ++k) {
        std::string id = fmt::format("t{}-c{}", t, k);
        auto loaded = s->load_case(id);
        REQUIRE(loaded);
        CHECK(loaded->events.size() == loaded->row.version);
        events += loaded->row.version;
      }
    // Each thread wrote 1 + i % 3 events in commit i.
    std::uint64_t expected = 0;
    for (int i = 0; i < kCommits; ++i) expected += 1 + i % 3;
    CHECK(events == expected * kThreads);
    CHECK(s->work_items({.assignee = "bob", .limit = 1000}).size() == kThreads * kCasesPerThread);
  }

  TEST_CASE("group commit: a conflict in a batch does not affect the other commits") {
    TempDir tmp;
    const auto path = tmp.path("cases.db");
    constexpr int kThreads = 5;
    {
      SqliteStoreOptions o = options(path, Durability::group);
      o.group_window = 5s;  // the batch closes when all 5 are queued (max_batch)
      o.max_batch = kThreads;
      auto s = open_sqlite(o);
      s->commit(make_commit("shared", 0, 1));
      auto before = detail::write_stats(s->store());
      std::barrier sync(kThreads);
      std::vector<std::string> outcome(kThreads);
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
          // Thread 2 commits to "shared" at a wrong version, and with an idempotency key that
          // must not be stored; thread 3 writes a case and a key that must be.
          Commit c = t == 2 ? make_commit("shared", 7, 1) : make_commit(name("c", t), 0, 2);
          c.idempotency_key = name("key-", t);
          c.work_items = std::vector<WorkItem>{item(c.record.id, "w", "bob", "agent", t, std::nullopt)};
          sync.arrive_and_wait();
          try {
            s->commit(c);
            outcome[static_cast<std::size_t>(t)] = "ok";
          } catch (const Error& e) {
            outcome[static_cast<std::size_t>(t)] = std::string(to_string(e.code()));
          }
        });
      for (auto& t : threads) t.join();
      auto after = detail::write_stats(s->store());
      CHECK(after.batches == before.batches + 1);  // one batch, one transaction
      CHECK(after.operations == before.operations + kThreads);
      CHECK(outcome == std::vector<std::string>{"ok", "ok", "conflict", "ok", "ok"});
    }
    auto s = open_sqlite(options(path));
    CHECK(s->case_count() == 1 + kThreads - 1);
    CHECK(s->case_record("shared")->version == 1);
    CHECK(event_count(*s, "shared") == 1);
    CHECK_FALSE(s->idempotent_result("key-2"));
    for (int t : {0, 1, 3, 4}) {
      CHECK(event_count(*s, name("c", t)) == 2);
      CHECK(s->idempotent_result(name("key-", t)));
    }
    CHECK(s->work_items({.assignee = "bob"}).size() == 4);
  }

  TEST_CASE("group commit: a failure of the transaction fails every commit of the batch") {
    TempDir tmp;
    const auto path = tmp.path("cases.db");
    constexpr int kThreads = 4;
    SqliteStoreOptions o = options(path, Durability::group);
    o.group_window = 5s;
    o.max_batch = kThreads;
    auto s = open_sqlite(o);
    s->commit(make_commit("before", 0, 1));
    // A database that cannot grow: SQLITE_FULL, as on a full disk.
    detail::on_writer(s->store(), [](sql::Database& db) {
      db.exec(fmt::format("PRAGMA max_page_count = {}", db.query_int64("PRAGMA page_count")));
    });
    const auto before = detail::write_stats(s->store());
    std::barrier sync(kThreads);
    std::vector<std::string> messages(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        Commit c = make_commit(name("c", t), 0, 3);
        for (auto& e : c.events) e.payload["blob"] = std::string(20000, static_cast<char>('a' + t));
        sync.arrive_and_wait();
        messages[static_cast<std::size_t>(t)] = error_of([&] { s->commit(c); }, ErrorCode::storage);
      });
    for (auto& t : threads) t.join();
    for (const auto& m : messages) CHECK_MESSAGE(m.find("full") != std::string::npos, m);
    CHECK(detail::write_stats(s->store()).batches == before.batches);  // nothing committed
    // Room again: the store goes on, without a trace of the failed batch.
    detail::on_writer(s->store(), [](sql::Database& db) { db.exec("PRAGMA max_page_count = 1073741823"); });
    s->commit(make_commit("after", 0, 1));
    CHECK(s->case_count() == 2);
    for (int t = 0; t < kThreads; ++t) CHECK_FALSE(s->case_record(name("c", t)));
  }

  TEST_CASE("commit_batch: one transaction, each commit succeeding or failing on its own") {
    TempDir tmp;
    for (auto durability : {Durability::full, Durability::group}) {
      CAPTURE(static_cast<int>(durability));
      const auto path = tmp.path(name("batch-", static_cast<int>(durability)) + ".db");
      auto s = open_sqlite(options(path, durability));
      s->commit(make_commit("x", 0, 1));
      const auto before = detail::write_stats(s->store());
      std::vector<Commit> commits = {make_commit("a", 0, 2), make_commit("x", 5, 1), make_commit("x", 1, 1),
                                     make_commit("b", 0, 1)};
      commits[1].idempotency_key = "never";
      std::vector<std::exception_ptr> errors;
      s->commit_batch(commits, errors);
      REQUIRE(errors.size() == 4);
      CHECK_FALSE(errors[0]);
      REQUIRE(errors[1]);
      error_of([&] { std::rethrow_exception(errors[1]); }, ErrorCode::conflict);
      CHECK_FALSE(errors[2]);
      CHECK_FALSE(errors[3]);
      const auto after = detail::write_stats(s->store());
      CHECK(after.batches == before.batches + 1);
      CHECK(after.operations == before.operations + 4);
      CHECK(event_count(*s, "a") == 2);
      CHECK(event_count(*s, "x") == 2);
      CHECK(event_count(*s, "b") == 1);
      CHECK_FALSE(s->idempotent_result("never"));
      std::vector<std::exception_ptr> none;
      s->commit_batch({}, none);
      CHECK(none.empty());
    }
  }

  TEST_CASE("a batch whose commit fails after writing part of itself is written again with savepoints") {
    // The optimistic pass runs commits without savepoints: a commit that fails after its first
    // write (here: its case row is updated, then an event row collides with a stray one) must
    // not leave that half in the transaction, and the other commits must still land.
    TempDir tmp;
    for (auto durability : {Durability::full, Durability::group}) {
      CAPTURE(static_cast<int>(durability));
      const auto path = tmp.path(name("half-", static_cast<int>(durability)) + ".db");
      auto s = open_sqlite(options(path, durability));
      s->commit(make_commit("x", 0, 1));
      s->commit(make_commit("y", 0, 1));
      // A stray event #2 of x that the case row does not know about (a damaged store).
      detail::on_writer(s->store(), [](sql::Database& db) {
        db.exec("INSERT INTO events(case_id, seq, time, actor, kind, payload) VALUES ('x', 2, 0, '', 'stray', '{}')");
      });
      const auto before = detail::write_stats(s->store());
      std::vector<Commit> commits = {make_commit("a", 0, 2), make_commit("x", 1, 1), make_commit("y", 1, 2)};
      commits[1].stored = RowKeys::of(commits[1].record);  // as the engine passes it
      std::vector<std::exception_ptr> errors = s->submit_batch(std::move(commits))->wait();
      REQUIRE(errors.size() == 3);
      CHECK_FALSE(errors[0]);
      REQUIRE(errors[1]);
      CHECK(error_of([&] { std::rethrow_exception(errors[1]); }, ErrorCode::conflict).find("already has event 2") !=
            std::string::npos);
      CHECK_FALSE(errors[2]);
      CHECK(detail::write_stats(s->store()).batches == before.batches + 1);
      CHECK(s->case_record("x")->version == 1);  // the UPDATE of x was undone with it
      CHECK(s->case_record("y")->version == 3);
      CHECK(event_count(*s, "a") == 2);
      CHECK(event_count(*s, "y") == 3);
    }
  }

  TEST_CASE("submit_batch: the caller goes on while the batch is written, and batches land in order") {
    TempDir tmp;
    auto s = open_sqlite(options(tmp.path("async.db"), Durability::group));
    std::vector<std::unique_ptr<PendingBatch>> pending;
    // Ten batches of 50 cases each; batch k also commits version k + 1 of case "chain", which
    // only succeeds if batch k - 1 was written before it.
    for (int k = 0; k < 10; ++k) {
      std::vector<Commit> commits;
      for (int i = 0; i < 50; ++i) commits.push_back(make_commit(name("b", k * 50 + i), 0, 1));
      commits.push_back(make_commit("chain", static_cast<std::uint64_t>(k), 1));
      pending.push_back(s->submit_batch(std::move(commits)));
    }
    for (auto& p : pending) {
      auto errors = p->wait();
      REQUIRE(errors.size() == 51);
      for (const auto& e : errors) CHECK_FALSE(e);
    }
    CHECK(s->case_record("chain")->version == 10);
    CHECK(s->case_count() == 501);
    // A batch that is never waited for is still written before the store closes.
    { auto forgotten = s->submit_batch({make_commit("late", 0, 1)}); }
    CHECK(s->case_record("late"));
  }

  TEST_CASE("a commit that knows the stored row skips the version read but not the version check") {
    TempDir tmp;
    auto s = open_sqlite(options(tmp.path("keys.db"), Durability::full));
    Commit first = make_commit("k", 0, 1);
    first.record.next_due = kT0 + 1h;
    s->commit(first);
    // Stale knowledge of the version: refused, nothing written.
    Commit stale = make_commit("k", 3, 1);
    stale.stored = RowKeys::of(first.record);
    CHECK(error_of([&] { s->commit(stale); }, ErrorCode::conflict).find("is at version 1, not 3") != std::string::npos);
    Commit missing = make_commit("nobody", 1, 1);
    missing.stored = RowKeys::of(first.record);
    CHECK(error_of([&] { s->commit(missing); }, ErrorCode::conflict).find("does not exist") != std::string::npos);
    // Right: the changed indexed column (next_due) is written and found by the timer query.
    Commit next = make_commit("k", 1, 1);
    next.stored = RowKeys::of(first.record);
    next.record.next_due = kT0 + 2h;
    s->commit(next);
    CHECK(s->case_record("k")->version == 2);
    CHECK(s->due_cases(kT0 + 90min, 10).empty());
    CHECK(s->due_cases(kT0 + 2h, 10) == std::vector<DueCase>{{kT0 + 2h, "k"}});
  }

  TEST_CASE("load_cases reads several cases from one snapshot of the store") {
    TempDir tmp;
    auto s = open_sqlite(options(tmp.path("load.db"), Durability::full));
    s->commit(make_commit("p", 0, 3));
    Commit snap = make_commit("q", 0, 2);
    snap.snapshot = SnapshotBlob{2, std::string("\0snap\0", 6)};
    s->commit(snap);
    s->commit(make_commit("q", 2, 1));
    auto loaded = s->load_cases({"p", "nobody", "q"});
    REQUIRE(loaded.size() == 3);
    REQUIRE(loaded[0]);
    CHECK(loaded[0]->row.version == 3);
    CHECK(loaded[0]->events.size() == 3);
    CHECK_FALSE(loaded[0]->snapshot);
    CHECK_FALSE(loaded[1]);
    REQUIRE(loaded[2]);
    REQUIRE(loaded[2]->snapshot);
    CHECK(loaded[2]->snapshot->version == 2);
    CHECK(loaded[2]->snapshot->data == std::string("\0snap\0", 6));
    REQUIRE(loaded[2]->events.size() == 1);  // only those after the snapshot
    CHECK(loaded[2]->events[0].seq == 3);
    CHECK(s->load_cases({}).empty());
    // Any order, an id twice: each position gets its case.
    auto again = s->load_cases({"q", "p", "q", "zz"});
    REQUIRE(again.size() == 4);
    CHECK(again[0]->row.id == "q");
    CHECK(again[1]->events.size() == 3);
    CHECK(again[2]->row.id == "q");
    CHECK(again[2]->events.size() == 1);
    CHECK_FALSE(again[3]);
    // The visiting form hands over one case at a time, each position once.
    std::vector<int> seen(4, 0);
    s->load_cases({"q", "p", "q", "zz"}, [&](std::size_t i, std::optional<LoadedCase> c) {
      seen.at(i)++;
      CHECK(c.has_value() == (i != 3));
    });
    CHECK(seen == std::vector<int>{1, 1, 1, 1});
  }

  TEST_CASE("full durability from several threads") {
    TempDir tmp;
    auto s = open_sqlite(options(tmp.path("cases.db"), Durability::full));
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 3; ++t)
      threads.emplace_back([&, t] {
        std::uint64_t v = 0;
        for (int i = 0; i < 20; ++i) {
          Commit c = make_commit(name("f", t), v, 1);
          try {
            s->commit(c);
            v = c.record.version;
            if (s->case_record(c.record.id)->version != v) failures++;
          } catch (const Error&) {
            failures++;
          }
        }
      });
    for (auto& t : threads) t.join();
    CHECK(failures == 0);
    for (int t = 0; t < 3; ++t) CHECK(event_count(*s, name("f", t)) == 20);
  }

  TEST_CASE("schema versions: the current one opens, a newer one is refused") {
    TempDir tmp;
    const auto path = tmp.path("v3.db");
    make_store(path, 2, 2);
    {
      sql::Database db(path, sql::Database::Access::read_only);
      CHECK(db.query_int64("PRAGMA user_version") == 5);
    }
    const auto bytes = read_bytes(path);
    {
      auto s = open_sqlite(options(path));  // == current: opens, writes nothing on open
      CHECK(s->case_count() == 2);
    }
    CHECK(read_bytes(path) == bytes);
    {
      sql::Database db(path, sql::Database::Access::read_write);
      db.exec("PRAGMA user_version = 6");
    }
    expect_bad_file(path, "schema version 6 is newer than this build of acm supports (5)");
  }

}  // TEST_SUITE("sqlite store")

TEST_SUITE("sqlite layer") {
  TEST_CASE("migrate applies the missing steps in one transaction") {
    TempDir tmp;
    const auto path = tmp.path("m.db");
    sql::Database db(path, sql::Database::Access::read_write);
    const sql::Migration v1[] = {{1, "one", "CREATE TABLE t1(x); INSERT INTO t1 VALUES (1);"}};
    const sql::Migration v2[] = {v1[0], {2, "two", "CREATE TABLE t2(y); INSERT INTO t2 SELECT x + 1 FROM t1;"}};
    const sql::Migration v3_broken[] = {
        v2[0], v2[1], {3, "three", "CREATE TABLE t3(z); INSERT INTO nowhere VALUES (1);"}};
    int seen_from = -1;
    CHECK(sql::migrate(db, v1, [&](sql::Database&, int from) { seen_from = from; }) == 0);
    CHECK(seen_from == 0);
    CHECK(db.query_int64("PRAGMA user_version") == 1);
    CHECK(sql::migrate(db, v2) == 1);
    CHECK(db.query_int64("PRAGMA user_version") == 2);
    CHECK(db.query_int64("SELECT y FROM t2") == 2);
    CHECK(sql::migrate(db, v2) == 2);  // nothing to do
    // A failing step undoes every step of the run.
    auto m = error_of([&] { sql::migrate(db, v3_broken); }, ErrorCode::storage);
    CHECK_MESSAGE(m.find("migration 3") != std::string::npos, m);
    CHECK(db.query_int64("PRAGMA user_version") == 2);
    CHECK(db.query_int64("SELECT count(*) FROM sqlite_schema WHERE name = 't3'") == 0);
    CHECK_FALSE(db.in_transaction());
    // A file newer than the steps.
    m = error_of([&] { sql::migrate(db, v1); }, ErrorCode::storage);
    CHECK_MESSAGE(m.find("schema version 2 is newer") != std::string::npos, m);
    CHECK(db.query_int64("PRAGMA user_version") == 2);
  }

  TEST_CASE("transactions and savepoints roll back when not committed") {
    TempDir tmp;
    sql::Database db(tmp.path("t.db"), sql::Database::Access::read_write);
    db.exec("CREATE TABLE t(x INTEGER PRIMARY KEY)");
    {
      sql::Transaction tx(db, sql::Transaction::Kind::immediate);
      db.exec("INSERT INTO t VALUES (1)");
    }
    CHECK_FALSE(db.in_transaction());
    CHECK(db.query_int64("SELECT count(*) FROM t") == 0);
    {
      sql::Transaction tx(db, sql::Transaction::Kind::immediate);
      db.exec("INSERT INTO t VALUES (1)");
      {
        sql::Savepoint sp(db, "a");
        db.exec("INSERT INTO t VALUES (2)");
      }
      {
        sql::Savepoint sp(db, "b");
        db.exec("INSERT INTO t VALUES (3)");
        sp.release();
      }
      // A constraint failure undoes only its statement.
      auto ins = db.prepared("INSERT INTO t VALUES (?1)");
      ins->bind_int64(1, 3);
      CHECK_FALSE(ins->run_unless_constraint());
      CHECK(db.in_transaction());
      tx.commit();
    }
    CHECK(db.query_text("SELECT group_concat(x) FROM (SELECT x FROM t ORDER BY x)") == "1,3");
    // Errors carry the path, what failed and SQLite's message.
    auto m = error_of([&] { db.exec("INSERT INTO missing VALUES (1)"); }, ErrorCode::storage);
    CHECK_MESSAGE(m.find("t.db: cannot execute") != std::string::npos, m);
    CHECK_MESSAGE(m.find("no such table: missing") != std::string::npos, m);
    m = error_of([&] { sql::Statement s(db, "SELECT 1; SELECT 2"); }, ErrorCode::storage);
    CHECK_MESSAGE(m.find("more than one statement") != std::string::npos, m);
  }

}  // TEST_SUITE("sqlite layer")
