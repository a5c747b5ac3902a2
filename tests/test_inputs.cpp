// SPDX-License-Identifier: Apache-2.0
// tests/test_inputs.cpp - hostile inputs at the public entry points (issue 14, points 5, 6, 7,
// 10 and 12): only acm::Error leaves the API, paging cursors never wrap, values built by the
// host are bounded in depth everywhere, imports and definitions are bounded in size, and
// durations and times stay within what can be written and read back.
#include <acm/acm.hpp>
#include <acm/eventlog.hpp>
#include <acm/intake.hpp>

#include "support.hpp"

#include <doctest/doctest.h>
#include <zlib.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

using namespace acm;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// The error code and message of `f`, which must throw acm::Error (and nothing else).
template <class F>
std::pair<ErrorCode, std::string> error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  FAIL("no acm::Error was thrown");
  return {ErrorCode::ok, ""};
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// A value nesting `levels` arrays deep, built without recursion (as a host could).
Json deep(std::size_t levels) {
  Json v = 1;
  for (std::size_t i = 0; i < levels; ++i) {
    Json outer = Json::array();
    outer.push_back(std::move(v));
    v = std::move(outer);
  }
  return v;
}

struct TempDir {
  fs::path dir;
  TempDir() {
    static int n = 0;
    dir = fs::temp_directory_path() / ("acm-inputs-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  fs::path operator/(const std::string& name) const { return dir / name; }
};

std::unique_ptr<Engine> open_engine(const std::string& database) {
  EngineOptions o;
  o.database = database;
  o.clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
  return Engine::open(o);
}

const Actor kAdmin{"root", {"admin"}};

/// Writes `text` gzip'd to `path`, fed to zlib in pieces (the text may be large).
void write_gzip(const fs::path& path, const std::function<void(const std::function<void(const std::string&)>&)>& body) {
  gzFile g = gzopen(path.c_str(), "wb9");
  REQUIRE(g != nullptr);
  body([&](const std::string& piece) { REQUIRE(gzwrite(g, piece.data(), static_cast<unsigned>(piece.size())) > 0); });
  REQUIRE(gzclose(g) == Z_OK);
}

}  // namespace

TEST_SUITE("inputs") {
  // ---- point 5: only acm::Error leaves the API ------------------------------------------------

  TEST_CASE("JSON text with a number beyond double is a parse error, not nlohmann's out_of_range") {
    auto [code, message] = error_of([] { (void)parse_json("1e400", "value"); });
    CHECK(code == ErrorCode::parse_error);
    CHECK_MESSAGE(has(message, "value is not valid JSON"), message);
    // Through every text entry point that parses JSON.
    CHECK(error_of([] {
            (void)parse_json(R"({"fragments": [{"id": "f", "version": 1e400}]})", "definitions");
          }).first == ErrorCode::parse_error);
    CHECK(error_of([] {
            (void)helpdesk::ChannelEvent::parse(R"({"id": "e", "channel": "x", "sentiment": -1e999})");
          }).first == ErrorCode::parse_error);
  }

  // ---- point 6: paging cursors --------------------------------------------------------------

  TEST_CASE("intake log and queue pages with cursors at the end of their range, in both stores") {
    TempDir tmp;
    for (const std::string& database : {std::string(), (tmp / "s.db").string()}) {
      CAPTURE(database);
      auto engine = open_engine(database);
      std::vector<IntakeLogEntry> entries(3);
      for (std::size_t i = 0; i < entries.size(); ++i) {
        entries[i].event_id = "e" + std::to_string(i);
        entries[i].action = "ignore";
        entries[i].event = Json{{"id", entries[i].event_id}};
      }
      engine->intake_log().append(entries);
      CHECK(engine->intake_log().page(10, 0).size() == 3);
      CHECK(engine->intake_log().page(10, 2).size() == 1);
      CHECK(engine->intake_log().page(10, 3).empty());
      // after + 1 used to wrap to 0 (memory: reads entry -1; SQLite: refused as too large).
      CHECK(engine->intake_log().page(10, UINT64_MAX).empty());
      CHECK(engine->intake_log().page(10, UINT64_MAX - 1).empty());
      CHECK(engine->intake_log().page(10, static_cast<std::uint64_t>(INT64_MAX)).empty());
      CHECK(engine->intake_log().page(0, 0).empty());

      engine->load_definitions(kAdmin, Json::parse(R"({"fragments": [{"id": "f", "roles": ["agent", "lead"],
        "items": [{"id": "t", "kind": "human_task", "role": "agent"}]}]})"));
      const std::string id = engine->create_case(kAdmin, NewCase{}).created;
      engine->add_fragment(kAdmin, id, FragmentUse{.fragment = "f"});
      CHECK(engine->queue(QueueFilter{.roles = {"agent"}}).size() == 1);
      // limit + offset summed in SQL (several sources): must not leave int64.
      for (std::size_t offset : {SIZE_MAX, SIZE_MAX - 1, static_cast<std::size_t>(INT64_MAX), std::size_t{1}}) {
        CAPTURE(offset);
        CHECK(
            engine->queue(QueueFilter{.assignee = "ann", .roles = {"agent", "lead"}, .limit = 10000, .offset = offset})
                .empty());
        CHECK(engine->queue(QueueFilter{.roles = {"agent"}, .offset = offset}).empty());
        CHECK(engine->queue(QueueFilter{.offset = offset}).empty());
      }
      CHECK(engine->queue(QueueFilter{.assignee = "ann", .roles = {"agent", "lead"}, .limit = 10000}).size() == 1);
      CHECK(engine->list_cases(SIZE_MAX).size() == 1);
      CHECK(engine->list_cases(SIZE_MAX, id).empty());
    }
  }

  // ---- point 7: depth of values built by the host -------------------------------------------

  TEST_CASE("values nested 100,000 levels deep are refused at every entry point, without recursion") {
    // Built and moved into place, never copied (a copy recurses as deep as the value nests).
    const Json bomb = deep(100000);
    auto engine = open_engine("");
    auto [code, message] = error_of([&] { engine->templates().put("t", "k", bomb, "bytes"); });
    CHECK(code == ErrorCode::invalid_argument);
    CHECK_MESSAGE(has(message, "template meta nests more than 256 levels deep"), message);
    CHECK(engine->templates().list().empty());

    std::vector<IntakeLogEntry> entries(1);
    entries[0].event_id = "e";
    entries[0].action = "ignore";
    entries[0].event = deep(100000);
    std::tie(code, message) = error_of([&] { engine->intake_log().append(entries); });
    CHECK(code == ErrorCode::invalid_argument);
    CHECK_MESSAGE(has(message, "nests more than 256 levels deep"), message);
    CHECK(engine->intake_log().page(10).empty());

    Json event{{"id", "e1"}, {"channel", "chat"}, {"metadata", Json::object()}};
    event["metadata"]["x"] = deep(100000);
    std::tie(code, message) = error_of([&] { (void)helpdesk::ChannelEvent::from_json(event); });
    CHECK(code == ErrorCode::invalid_argument);
    CHECK_MESSAGE(has(message, "invalid channel event: nests more than 256 levels deep"), message);

    helpdesk::Intake intake(
        *engine, helpdesk::IntakeRules::from_json(Json::parse(R"([{"id": "all", "when": "true", "ignore": true}])")));
    std::tie(code, message) = error_of([&] { intake.process(event); });
    CHECK(code == ErrorCode::invalid_argument);
    // The rejection is logged, without the deep value.
    auto log = engine->intake_log().page(10);
    REQUIRE(log.size() == 1);
    CHECK(log[0].action == "rejected");
    CHECK(log[0].event_id == "e1");

    helpdesk::ChannelEvent built;
    built.id = "e2";
    built.channel = "chat";
    built.metadata = Json::object();
    built.metadata["x"] = deep(100000);
    CHECK(has(built.problems(), "metadata: nests more than 256 levels deep"));
    std::tie(code, message) = error_of([&] { intake.process(built); });
    CHECK(code == ErrorCode::invalid_argument);
    CHECK_MESSAGE(has(message, "metadata: nests more than 256 levels deep"), message);
    CHECK(error_of([&] { (void)built.to_json(); }).first == ErrorCode::invalid_argument);
    log = engine->intake_log().page(10);
    REQUIRE(log.size() == 2);
    CHECK(log[1].event_id == "e2");
    CHECK(log[1].action == "rejected");

    // A value just within the bound is accepted.
    built.id = "e3";
    built.metadata = Json{{"x", deep(250)}};
    CHECK(intake.process(built).action() == helpdesk::IntakeAction::ignore);
    CHECK(engine->templates().put("t", "k", deep(250), "bytes") == 1);
  }

  // ---- point 10: import bombs and definition size -------------------------------------------

  TEST_CASE("a gzip'd XES bomb (one trace, many events) is refused while streaming, with a clear error") {
    TempDir tmp;
    const fs::path bomb = tmp / "bomb.xes.gz";
    const std::size_t events = 150000;
    write_gzip(bomb, [&](const auto& put) {
      put("<?xml version=\"1.0\"?>\n<log xes.version=\"1.0\">\n<trace><string key=\"concept:name\" value=\"T\"/>\n");
      const std::string event =
          "<event><string key=\"concept:name\" value=\"A\"/><date key=\"time:timestamp\" "
          "value=\"2026-01-01T00:00:00Z\"/></event>\n";
      std::string chunk;
      for (std::size_t i = 0; i < 1000; ++i) chunk += event;
      for (std::size_t i = 0; i < events / 1000; ++i) put(chunk);
      put("</trace>\n</log>\n");
    });
    CHECK(fs::file_size(bomb) < 1000000);  // a small file ...
    std::size_t delivered = 0;
    auto sink = [&](eventlog::LogCase&&) { ++delivered; };
    // ... refused by the default bound on events per case.
    auto [code, message] = error_of([&] { eventlog::import_xes(bomb, sink); });
    CHECK(code == ErrorCode::invalid_argument);
    CHECK_MESSAGE(has(message, "case 'T'"), message);
    CHECK_MESSAGE(has(message, "more than 100000 events (ImportOptions::max_events_per_case)"), message);
    CHECK(delivered == 0);
    // The bound is an option.
    eventlog::ImportOptions options;
    options.max_events_per_case = events;
    CHECK(eventlog::import_xes(bomb, sink, options).events == events);
    CHECK(delivered == 1);
    // Bytes held by one case, and bytes inflated, are bounded too.
    options.max_case_bytes = 1u << 20;
    std::tie(code, message) = error_of([&] { eventlog::import_xes(bomb, sink, options); });
    CHECK_MESSAGE(has(message, "more than 1048576 bytes (ImportOptions::max_case_bytes)"), message);
    options.max_case_bytes = SIZE_MAX;
    options.max_inflated_bytes = 2u << 20;
    std::tie(code, message) = error_of([&] { eventlog::import_xes(bomb, sink, options); });
    CHECK(code == ErrorCode::invalid_argument);
    CHECK_MESSAGE(has(message, "inflates to more than 2097152 bytes (ImportOptions::max_inflated_bytes)"), message);
  }

  TEST_CASE("a CSV case with more events than the bound is refused") {
    std::string csv = "case,activity,time\n";
    for (int i = 0; i < 50; ++i) csv += "c1,A,2026-01-01 00:00:00\n";
    csv += "c2,A,2026-01-01 00:00:00\n";
    eventlog::ImportOptions options;
    options.max_events_per_case = 20;
    std::istringstream in(csv);
    std::size_t delivered = 0;
    auto [code, message] = error_of([&] {
      eventlog::import_csv(
          in, eventlog::CsvMapping{.case_id = "case", .activity = "activity", .timestamp = "time"},
          [&](eventlog::LogCase&&) { ++delivered; }, options);
    });
    CHECK(code == ErrorCode::invalid_argument);
    CHECK_MESSAGE(has(message, "line 2: case 'c1' starting here has more than 20 events"), message);
    CHECK(delivered == 0);
  }

  TEST_CASE("a definition larger than 1 MiB is refused naming the bound, a large one below it loads") {
    auto engine = open_engine("");
    Json doc = Json::parse(R"({"id": "f", "items": [{"id": "t", "kind": "human_task"}]})");
    doc["description"] = std::string(2u << 20, 'x');
    auto [code, message] = error_of([&] { engine->load_definitions(kAdmin, doc); });
    CHECK(code == ErrorCode::invalid_definition);
    CHECK_MESSAGE(has(message, "the fragment is larger than 1048576 bytes as JSON"), message);
    CHECK(error_of([&] { (void)parse_definitions(doc); }).first == ErrorCode::invalid_definition);
    // Built in C++: the same bound, counted on the items too.
    FragmentDef big{.id = "g"};
    for (int i = 0; i < 40; ++i)
      big.items.push_back(ItemDef{.id = "t" + std::to_string(i), .description = std::string(30000, 'y')});
    std::tie(code, message) = error_of([&] { engine->register_fragment(kAdmin, big); });
    CHECK(code == ErrorCode::invalid_definition);
    CHECK_MESSAGE(has(message, "larger than 1048576 bytes"), message);
    CaseTypeDef type{.id = "ct", .description = std::string(1u << 20, 'z')};
    CHECK(error_of([&] { engine->register_case_type(kAdmin, type); }).first == ErrorCode::invalid_definition);
    doc["description"] = std::string(500000, 'x');
    engine->load_definitions(kAdmin, doc);
    CHECK(engine->get_fragment("f").description.size() == 500000);
  }

  // ---- point 12: durations and times at the ends of their range ------------------------------

  TEST_CASE("times outside years 0000..9999 are refused with a clear message, never formatted wrongly") {
    CHECK(format_time(kLatestTime) == "9999-12-31T23:59:59.999Z");
    CHECK(format_time(kEarliestTime) == "0000-01-01T00:00:00.000Z");
    auto [code, message] = error_of([] { (void)format_time(kLatestTime + 1ms); });
    CHECK(code == ErrorCode::invalid_argument);
    CHECK_MESSAGE(has(message, "outside the supported years 0000..9999 UTC"), message);
    CHECK(error_of([] { (void)format_time(TimePoint::max()); }).first == ErrorCode::invalid_argument);
    CHECK(error_of([] { (void)format_time(TimePoint::min()); }).first == ErrorCode::invalid_argument);
    // An offset cannot move a time out of range either.
    CHECK(error_of([] { (void)parse_time("9999-12-31T23:30:00-01:00"); }).first == ErrorCode::parse_error);
    CHECK(error_of([] { (void)parse_time("0000-01-01T00:30:00+01:00"); }).first == ErrorCode::parse_error);
    CHECK(parse_time("9999-12-31T22:30:00-01:00") == parse_time("9999-12-31T23:30:00Z"));
  }

  TEST_CASE("the 24x7 calendar refuses durations that overflow or leave the supported years") {
    const AlwaysCalendar c;
    const TimePoint t = parse_time("2026-11-23T09:00:00Z");
    CHECK(c.add(t, 48h) == parse_time("2026-11-25T09:00:00Z"));
    CHECK(c.latest_start(t, 48h) == parse_time("2026-11-21T09:00:00Z"));
    auto [code, message] = error_of([&] { (void)c.add(t, Duration::max()); });
    CHECK(code == ErrorCode::invalid_argument);
    CHECK_MESSAGE(has(message, "outside the supported years 0000..9999 UTC"), message);
    CHECK(error_of([&] { (void)c.add(t, Duration::min()); }).first == ErrorCode::invalid_argument);
    CHECK(error_of([&] { (void)c.latest_start(t, Duration::min()); }).first == ErrorCode::invalid_argument);
    CHECK(error_of([&] { (void)c.add(t, std::chrono::days(8000 * 366)); }).first == ErrorCode::invalid_argument);
    CHECK(error_of([&] { (void)c.between(TimePoint::min(), TimePoint::max()); }).first == ErrorCode::invalid_argument);
  }

  TEST_CASE("durations over 1000 years in definitions are a problem, long goal durations a clear error") {
    auto engine = open_engine("");
    const Json timer =
        Json::parse(R"({"id": "f", "items": [{"id": "w", "kind": "timer_listener", "timer": "P3000000D"}]})");
    auto [code, message] = error_of([&] { engine->load_definitions(kAdmin, timer); });
    CHECK(code == ErrorCode::invalid_definition);
    CHECK_MESSAGE(has(message, "/items/0/timer: duration P3000000D is longer than 1000 years"), message);
    const Json goal = Json::parse(R"({"id": "ct", "goals": [{"id": "g", "within": "P400000D"}]})");
    std::tie(code, message) = error_of([&] { engine->load_definitions(kAdmin, goal); });
    CHECK(code == ErrorCode::invalid_definition);
    CHECK_MESSAGE(has(message, "/goals/0/within: duration P400000D is longer than 1000 years"), message);
    CHECK(parse_definitions(
              Json::parse(R"({"id": "f", "items": [{"id": "t", "kind": "human_task", "due": "P365250D"}]})"))
              .fragments.size() == 1);
    // Through the C++ API: the deadline would fall after 9999, a clear refusal (used to be an
    // "invalid time 10002-..." parse error after the event was made).
    const std::string id = engine->create_case(kAdmin, NewCase{}).created;
    const auto version = engine->get_case(id).version;
    std::tie(code, message) =
        error_of([&] { engine->add_goal(kAdmin, id, GoalSpec{.id = "g", .within = std::chrono::days(3000000)}); });
    CHECK(code == ErrorCode::invalid_argument);
    CHECK_MESSAGE(has(message, "outside the supported years 0000..9999 UTC"), message);
    CHECK(engine->get_case(id).version == version);
    std::tie(code, message) =
        error_of([&] { engine->add_goal(kAdmin, id, GoalSpec{.id = "g", .within = Duration::max()}); });
    CHECK(code == ErrorCode::invalid_argument);
    CHECK(engine->get_case(id).version == version);
    CHECK(engine->inspect(id) == engine->inspect(id, true));
  }
}
