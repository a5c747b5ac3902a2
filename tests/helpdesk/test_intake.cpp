// SPDX-License-Identifier: Apache-2.0
// tests/helpdesk/test_intake.cpp - intake rules, correlation, the decisions log, schema v2.
#include <acm/intake.hpp>

#include "support.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <random>
#include <thread>

using namespace acm;
using namespace acm::helpdesk;
using namespace std::chrono_literals;

namespace {

namespace fs = std::filesystem;

const Json kDefinitions = Json::parse(R"J({
  "fragments": [{
    "id": "handle", "roles": ["agent"],
    "items": [
      {"id": "answer", "kind": "human_task", "role": "agent", "estimate": "30m"},
      {"id": "read_reply", "kind": "human_task", "role": "agent",
       "entry": [{"on": [{"event": "customer_message"}]}]}
    ]
  }],
  "case_types": [{"id": "complaint", "initial_fragments": ["handle"]}]
})J");

struct IntakeFixture : test::EngineFixture {
  IntakeFixture() { engine->load_definitions(admin, kDefinitions); }

  ChannelEvent event(std::string id, std::string channel, std::string customer, std::string text = "hello") {
    ChannelEvent e;
    e.id = std::move(id);
    e.channel = std::move(channel);
    e.customer = std::move(customer);
    e.text = std::move(text);
    return e;
  }

  std::size_t count_kind(const std::string& case_id, const std::string& kind) {
    std::size_t n = 0;
    for (const auto& e : engine->history(case_id))
      if (e.kind == kind) ++n;
    return n;
  }
};

IntakeRules rules(const char* json) { return IntakeRules::from_json(Json::parse(json)); }

std::string error_of(const std::function<void()>& f, ErrorCode code) {
  try {
    f();
  } catch (const Error& e) {
    CHECK_MESSAGE(e.code() == code, e.what());
    return e.what();
  }
  FAIL("no error");
  return {};
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct TempDir {
  fs::path dir;
  TempDir() {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("acm-intake-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string path(const char* name) const { return (dir / name).string(); }
};

const char* kCorrelationRules = R"J({"rules": [
  {"id": "spam", "when": "contains(lower(event.text), 'unsubscribe')", "ignore": true},
  {"id": "follow-up", "when": "event.channel in ['email', 'chat']",
   "attach": {"correlation": ["customer", "metadata.order_id"],
              "otherwise_create": {"type": "complaint", "title": "{event.channel}: {event.text}", "priority": 1}}},
  {"id": "phone", "when": "event.channel == 'phone'", "create_case": {"type": "complaint"}}
]})J";

}  // namespace

TEST_SUITE("intake") {
  TEST_CASE("rules: every problem is listed with its rule id and position, and nothing loads") {
    const char* bad = R"J({"rules": [
      {"id": "ok", "when": "event.channel == 'email'", "ignore": true},
      {"id": "syntax", "when": "event.channel == ", "ignore": true},
      {"id": "unknown-name", "when": "evnt.channel == 'x'", "ignore": true},
      {"id": "ok", "when": "true", "ignore": true},
      {"when": "true", "ignore": true},
      {"id": "two", "when": "true", "ignore": true, "create_case": {}},
      {"id": "none", "when": "true"},
      {"id": "field", "when": "true", "ignore": true, "colour": "red"},
      {"id": "corr", "when": "true", "attach": {"correlation": ["customer", "order_id"]}},
      {"id": "raise", "when": "true", "raise_priority": {"by": 1, "to": 3}},
      {"id": "title", "when": "true", "create_case": {"title": "x {event.} y", "priority": "high"}},
      {"id": "stop", "when": "true", "ignore": true, "stop": "yes"},
      {"id": "nowhen", "ignore": true}
    ]})J";
    auto m = error_of([&] { IntakeRules::from_json(Json::parse(bad)); }, ErrorCode::invalid_definition);
    CHECK_MESSAGE(has(m, "rule 'syntax': when: event.channel == : at 1:"), m);
    CHECK_MESSAGE(has(m, "rule 'unknown-name': when: evnt.channel == 'x': at 1:1: unknown name 'evnt'"), m);
    CHECK_MESSAGE(has(m, "rule 'ok': duplicate id"), m);
    CHECK_MESSAGE(has(m, "rule #5: id must be a non-empty string"), m);
    CHECK_MESSAGE(has(m, "rule 'two': several actions"), m);
    CHECK_MESSAGE(has(m, "rule 'none': no action"), m);
    CHECK_MESSAGE(has(m, "rule 'field': unknown field 'colour'"), m);
    CHECK_MESSAGE(has(m, "rule 'corr': attach: unknown correlation key \"order_id\""), m);
    CHECK_MESSAGE(has(m, "rule 'raise': raise_priority: give exactly one of by and to"), m);
    CHECK_MESSAGE(has(m, "rule 'title': create_case: title: placeholder at offset 2"), m);
    CHECK_MESSAGE(has(m, "rule 'title': create_case: priority must be a whole number"), m);
    CHECK_MESSAGE(has(m, "rule 'stop': stop must be true or false"), m);
    CHECK_MESSAGE(has(m, "rule 'nowhen': when must be a condition"), m);
    CHECK_MESSAGE(has(m, "(13 problems)"), m);

    // Not a rule set at all.
    error_of([] { IntakeRules::from_json(Json::parse(R"J({"rulez": []})J")); }, ErrorCode::invalid_definition);
    error_of([] { IntakeRules::from_json(Json::parse(R"J({"rules": 3})J")); }, ErrorCode::invalid_definition);
    // A good set: ids in order; the bare-array form too.
    auto good = rules(kCorrelationRules);
    CHECK(good.ids() == std::vector<std::string>{"spam", "follow-up", "phone"});
    CHECK(IntakeRules::from_json(Json::parse(R"J([{"id": "a", "when": "true", "ignore": true}])J")).size() == 1);
  }

  TEST_CASE("an unknown case type is refused when the intake is set up") {
    IntakeFixture f;
    auto r = rules(R"J([{"id": "x", "when": "true", "create_case": {"type": "nope"}}])J");
    auto m = error_of([&] { Intake intake(*f.engine, r); }, ErrorCode::invalid_definition);
    CHECK_MESSAGE(has(m, "rule 'x': unknown case type 'nope'"), m);
  }

  TEST_CASE("create_case: subject, attributes, title template, rule id in the history, first message as a note") {
    IntakeFixture f;
    IntakeOptions o;
    o.customer_lookup = [](const std::string& c) { return c == "ann" ? Json{{"tier", "gold"}} : Json(); };
    Intake intake(*f.engine, rules(R"J([{"id": "gold-complaint",
                              "when": "customer.tier == 'gold' and event.sentiment < -0.5",
                              "create_case": {"type": "complaint", "priority": 3,
                                              "title": "{upper(event.channel)} from {event.customer}: {event.text}"}}])J"),
                  o);
    auto e = f.event("m-1", "email", "ann", "My order never came");
    e.sentiment = -0.8;
    e.metadata = {{"order_id", "A-17"}};
    auto d = intake.process(e);
    REQUIRE(d.steps.size() == 1);
    CHECK(d.action() == IntakeAction::create_case);
    CHECK(d.steps[0].rule == "gold-complaint");
    CHECK_FALSE(d.duplicate);
    auto c = f.engine->get_case(d.case_id());
    CHECK(c.type == "complaint");
    CHECK(c.title == "EMAIL from ann: My order never came");
    CHECK(c.priority == 3);
    CHECK(c.subject.customer == "ann");
    CHECK(c.subject.attributes["channel"] == "email");
    CHECK(c.subject.attributes["sentiment"] == -0.8);
    CHECK(c.subject.attributes["tier"] == "gold");
    CHECK(c.file["correlation"]["order_id"] == "A-17");
    CHECK(c.file["intake"]["rule"] == "gold-complaint");
    auto h = f.engine->history(d.case_id());
    REQUIRE(!h.empty());
    CHECK(h[0].kind == "case_created");
    CHECK(h[0].payload["file"]["intake"]["rule"] == "gold-complaint");
    REQUIRE(c.assets.size() == 1);
    CHECK(c.assets[0].text == "My order never came");
    CHECK(c.assets[0].metadata["rule"] == "gold-complaint");
    CHECK(c.assets[0].metadata["event_id"] == "m-1");

    // The same rule does not match a non-gold customer: unmatched, and recorded.
    auto e2 = f.event("m-2", "email", "bob", "meh");
    e2.sentiment = -0.9;
    auto d2 = intake.process(e2);
    CHECK(d2.action() == IntakeAction::unmatched);
    CHECK(d2.case_id().empty());
    auto log = intake.intake_log();
    REQUIRE(log.size() == 2);
    CHECK(log[0].event_id == "m-1");
    CHECK(log[0].action == "create_case");
    CHECK(log[0].rule == "gold-complaint");
    CHECK(log[0].case_id == d.case_id());
    CHECK(log[0].event["metadata"]["order_id"] == "A-17");
    CHECK(log[1].event_id == "m-2");
    CHECK(log[1].action == "unmatched");
    CHECK(log[1].rule.empty());
    CHECK(log[1].customer == "bob");
    CHECK(log[0].seq < log[1].seq);
  }

  TEST_CASE("correlation: the customer's open case, never another customer's, never a closed one") {
    IntakeFixture f;
    Intake intake(*f.engine, rules(kCorrelationRules));
    // Ann calls: a new case. Bob calls: another.
    auto ann = intake.process(f.event("p-1", "phone", "ann")).case_id();
    auto bob = intake.process(f.event("p-2", "phone", "bob")).case_id();
    REQUIRE(!ann.empty());
    REQUIRE(ann != bob);
    CHECK(f.engine->open_cases_of("ann") == std::vector<std::string>{ann});

    // Ann e-mails: attached to her case (note + signal carrying the rule, sentry reacts).
    auto before = f.engine->get_case(ann).version;
    auto d = intake.process(f.event("m-1", "email", "ann", "any news?"));
    CHECK(d.action() == IntakeAction::attach);
    CHECK(d.case_id() == ann);
    CHECK(d.steps[0].rule == "follow-up");
    auto c = f.engine->get_case(ann);
    CHECK(c.version > before);
    REQUIRE(c.assets.size() == 2);
    CHECK(c.assets[1].text == "any news?");
    CHECK(c.assets[1].metadata["rule"] == "follow-up");
    bool signalled = false;
    for (const auto& e : f.engine->history(ann))
      if (e.kind == "signal" && e.payload["name"] == "customer_message") {
        signalled = true;
        CHECK(e.payload["payload"]["rule"] == "follow-up");
        CHECK(e.payload["payload"]["event_id"] == "m-1");
      }
    CHECK(signalled);
    CHECK(f.state(ann, "handle#1/read_reply") == ItemState::active);
    CHECK(f.engine->get_case(bob).assets.size() == 1);  // bob's case untouched

    // Carol has no case: the attach rule falls back to creating one.
    auto carol = intake.process(f.event("m-2", "chat", "carol", "hi"));
    CHECK(carol.action() == IntakeAction::create_case);
    CHECK(carol.steps[0].rule == "follow-up");
    CHECK(f.engine->get_case(carol.case_id()).subject.customer == "carol");
    CHECK(f.engine->get_case(carol.case_id()).priority == 1);
    CHECK(f.engine->get_case(carol.case_id()).title == "chat: hi");

    // Ann's case is closed: a new message opens a new case instead of reusing it.
    f.engine->terminate_case(f.admin, ann, "resolved");
    f.engine->close_case(f.admin, ann);
    CHECK(f.engine->open_cases_of("ann").empty());
    auto again = intake.process(f.event("m-3", "email", "ann", "it broke again"));
    CHECK(again.action() == IntakeAction::create_case);
    CHECK(again.case_id() != ann);
    CHECK(f.engine->get_case(ann).assets.size() == 2);

    // The spam rule comes first and stops.
    auto spam = intake.process(f.event("m-4", "email", "ann", "Please UNSUBSCRIBE me"));
    CHECK(spam.action() == IntakeAction::ignore);
    CHECK(spam.steps[0].rule == "spam");
    CHECK(spam.case_id().empty());
  }

  TEST_CASE("correlation by metadata: the case of the same order") {
    IntakeFixture f;
    Intake intake(*f.engine, rules(kCorrelationRules));
    auto e1 = f.event("m-1", "email", "ann", "order 1 is late");
    e1.metadata = {{"order_id", "O-1"}};
    auto e2 = f.event("m-2", "email", "ann", "order 2 is broken");
    e2.metadata = {{"order_id", "O-2"}};
    auto c1 = intake.process(e1).case_id();
    auto c2 = intake.process(e2).case_id();  // no case of order 2 yet: created
    REQUIRE(c1 != c2);
    auto e3 = f.event("m-3", "email", "ann", "about order 1 again");
    e3.metadata = {{"order_id", "O-1"}};
    CHECK(intake.process(e3).case_id() == c1);  // not the newer c2
    auto e4 = f.event("m-4", "email", "ann", "about order 2 again");
    e4.metadata = {{"order_id", "O-2"}};
    CHECK(intake.process(e4).case_id() == c2);
    // No order id: the newest open case of the customer.
    CHECK(intake.process(f.event("m-5", "email", "ann", "general question")).case_id() == c2);
  }

  TEST_CASE("duplicates return the first decision without acting again") {
    IntakeFixture f;
    Intake intake(*f.engine, rules(kCorrelationRules));
    auto first = intake.process(f.event("p-1", "phone", "ann"));
    auto version = f.engine->get_case(first.case_id()).version;
    auto cases = f.engine->list_cases().size();
    auto log_size = intake.intake_log().size();
    auto second = intake.process(f.event("p-1", "phone", "ann", "different text, same id"));
    CHECK(second.duplicate);
    CHECK(second.case_id() == first.case_id());
    CHECK(second.steps[0].log_seq == first.steps[0].log_seq);
    CHECK(f.engine->get_case(first.case_id()).version == version);
    CHECK(f.engine->list_cases().size() == cases);
    CHECK(intake.intake_log().size() == log_size);
    // Also an unmatched decision is remembered.
    Intake none(*f.engine, rules(R"J([{"id": "never", "when": "false", "ignore": true}])J"));
    CHECK(none.process(f.event("x-1", "fax", "ann")).action() == IntakeAction::unmatched);
    auto dup = none.process(f.event("x-1", "fax", "ann"));
    CHECK(dup.duplicate);
    CHECK(dup.action() == IntakeAction::unmatched);
  }

  TEST_CASE("rule order and stop: the first match wins unless it lets later rules act") {
    IntakeFixture f;
    const char* stopping = R"J([
      {"id": "new", "when": "event.channel == 'social'", "create_case": {"type": "complaint", "priority": 1}},
      {"id": "angry", "when": "event.sentiment < -0.5", "raise_priority": {"to": 5}}
    ])J";
    const char* going_on = R"J([
      {"id": "new", "when": "event.channel == 'social'", "create_case": {"type": "complaint", "priority": 1},
       "stop": false},
      {"id": "angry", "when": "event.sentiment < -0.5", "raise_priority": {"to": 5}}
    ])J";
    auto e = f.event("s-1", "social", "ann", "worst service ever");
    e.sentiment = -0.9;
    {
      Intake intake(*f.engine, rules(stopping));
      auto d = intake.process(e);
      REQUIRE(d.steps.size() == 1);
      CHECK(d.steps[0].rule == "new");
      CHECK(f.engine->get_case(d.case_id()).priority == 1);
    }
    {
      Intake intake(*f.engine, rules(going_on));
      e.id = "s-2";
      e.customer = "bob";
      auto d = intake.process(e);
      REQUIRE(d.steps.size() == 2);
      CHECK(d.steps[0].rule == "new");
      CHECK(d.steps[0].action == IntakeAction::create_case);
      CHECK(d.steps[1].rule == "angry");
      CHECK(d.steps[1].action == IntakeAction::raise_priority);
      CHECK(d.steps[1].case_id == d.steps[0].case_id);
      CHECK(f.engine->get_case(d.case_id()).priority == 5);
      auto log = f.engine->intake_log().of_event("s-2");
      REQUIRE(log.size() == 2);
      CHECK(log[0].rule == "new");
      CHECK(log[1].rule == "angry");
      CHECK(log[1].reason == "priority 1 -> 5");
    }
  }

  TEST_CASE("raise_priority by: the correlated case, recorded in its history, no case: the rule does not apply") {
    IntakeFixture f;
    Intake intake(*f.engine, rules(R"J([
      {"id": "escalate", "when": "event.sentiment <= -0.5", "raise_priority": {"by": 2}},
      {"id": "other", "when": "true", "ignore": true}
    ])J"));
    NewCase spec;
    spec.subject.customer = "ann";
    spec.priority = 1;
    auto id = f.engine->create_case(f.admin, spec).created;
    auto e = f.event("c-1", "chat", "ann", "I am furious");
    e.sentiment = -0.7;
    auto d = intake.process(e);
    CHECK(d.action() == IntakeAction::raise_priority);
    CHECK(d.case_id() == id);
    CHECK(f.engine->get_case(id).priority == 3);
    CHECK(f.count_kind(id, "priority_changed") == 1);
    CHECK(f.count_kind(id, "signal") == 1);
    // Bob has no open case: escalate does not apply, the next rule decides.
    e.id = "c-2";
    e.customer = "bob";
    auto d2 = intake.process(e);
    CHECK(d2.action() == IntakeAction::ignore);
    CHECK(d2.steps[0].rule == "other");
    // A missing sentiment makes the condition null: not matched.
    auto d3 = intake.process(f.event("c-3", "chat", "ann", "no sentiment"));
    CHECK(d3.steps[0].rule == "other");
  }

  TEST_CASE("malformed events: every bad field named, recorded as rejected") {
    IntakeFixture f;
    Intake intake(*f.engine, rules(kCorrelationRules));
    Json bad = {{"channel", 3},    {"sentiment", 1.5}, {"text", Json::array()},
                {"metadata", "x"}, {"colour", "red"},  {"received", "yesterday"}};
    auto m = error_of([&] { ChannelEvent::from_json(bad); }, ErrorCode::invalid_argument);
    CHECK_MESSAGE(has(m, "id: missing or empty"), m);
    CHECK_MESSAGE(has(m, "channel: a number, not a string"), m);
    CHECK_MESSAGE(has(m, "sentiment: 1.5 is outside -1..1"), m);
    CHECK_MESSAGE(has(m, "text: a array, not a string"), m);
    CHECK_MESSAGE(has(m, "metadata: a string, not an object"), m);
    CHECK_MESSAGE(has(m, "colour: unknown field"), m);
    CHECK_MESSAGE(has(m, "received:"), m);

    bad = {{"id", "bad-1"}, {"channel", "email"}, {"sentiment", "very bad"}};
    m = error_of([&] { intake.process(bad); }, ErrorCode::invalid_argument);
    CHECK_MESSAGE(has(m, "sentiment: a string, not a number"), m);
    auto log = f.engine->intake_log().of_event("bad-1");
    REQUIRE(log.size() == 1);
    CHECK(log[0].action == "rejected");
    CHECK(has(log[0].reason, "sentiment"));
    CHECK(log[0].event["sentiment"] == "very bad");

    // Huge text: refused, not truncated; the log keeps a bounded record.
    auto big = f.event("big-1", "email", "ann", std::string((1u << 20) + 1, 'x'));
    m = error_of([&] { intake.process(big); }, ErrorCode::invalid_argument);
    CHECK_MESSAGE(has(m, "text: 1048577 bytes, the limit is 1048576"), m);
    log = f.engine->intake_log().of_event("big-1");
    REQUIRE(log.size() == 1);
    CHECK(log[0].action == "rejected");
    CHECK(log[0].event.dump().size() < 10000);
    CHECK(f.engine->list_cases().empty());
    // A huge JSON document is refused before parsing.
    m = error_of([] { ChannelEvent::parse(std::string(3u << 20, ' ')); }, ErrorCode::invalid_argument);
    CHECK_MESSAGE(has(m, "the limit is 2097152"), m);
    error_of([] { ChannelEvent::parse("{not json"); }, ErrorCode::parse_error);
    // A document nested a million levels deep (within the size limit) is refused by name, not
    // parsed into a value that would overflow the stack when copied.
    m = error_of(
        [] {
          ChannelEvent::parse(R"({"id": "d", "channel": "chat", "customer": "c", "text": "t", "metadata": {"m": )" +
                              std::string(1000000, '[') + std::string(1000000, ']') + "}}");
        },
        ErrorCode::invalid_argument);
    CHECK_MESSAGE(has(m, "channel event nests more than 512 levels deep"), m);
    // A valid document round-trips.
    auto ok = ChannelEvent::parse(
        R"J({"id": "e", "channel": "chat", "customer": "c", "text": "t", "sentiment": -0.25,
            "metadata": {"k": 1}, "received": "2026-11-23T08:00:00Z"})J");
    CHECK(ok.sentiment == -0.25);
    CHECK(ok.received == test::t("2026-11-23T08:00:00Z"));
    CHECK(ChannelEvent::from_json(ok.to_json()).to_json() == ok.to_json());
  }

  TEST_CASE("a condition giving a non-boolean is rejected with the rule id, a corrected event may be sent again") {
    IntakeFixture f;
    Intake intake(*f.engine, rules(R"J([
      {"id": "fine", "when": "event.channel == 'phone'", "create_case": {"type": "complaint"}},
      {"id": "broken", "when": "event.metadata.flag", "ignore": true}
    ])J"));
    auto e = f.event("q-1", "email", "ann");
    e.metadata = {{"flag", "yes"}};
    auto m = error_of([&] { intake.process(e); }, ErrorCode::invalid_argument);
    CHECK_MESSAGE(has(m, "rule 'broken': when gave a string, not true or false"), m);
    auto log = f.engine->intake_log().of_event("q-1");
    REQUIRE(log.size() == 1);
    CHECK(log[0].action == "rejected");
    CHECK(log[0].rule == "broken");
    // The same through the JSON entry point: one rejection logged, not two.
    Json as_json = e.to_json();
    as_json["id"] = "q-2";
    error_of([&] { intake.process(as_json); }, ErrorCode::invalid_argument);
    CHECK(f.engine->intake_log().of_event("q-2").size() == 1);
    // Corrected and sent again with the same id: processed.
    e.metadata = {{"flag", true}};
    auto d = intake.process(e);
    CHECK_FALSE(d.duplicate);
    CHECK(d.action() == IntakeAction::ignore);
    CHECK(f.engine->intake_log().of_event("q-1").size() == 2);
  }

  TEST_CASE("the intake log on a SQLite file: read back after reopening, paged") {
    TempDir tmp;
    const auto path = tmp.path("intake.db");
    std::vector<IntakeLogEntry> written;
    std::string ann_case;
    auto clock = std::make_shared<ManualClock>(test::t("2026-11-23T09:00:00Z"));
    {
      EngineOptions o;
      o.database = path;
      o.clock = clock;
      auto engine = Engine::open(o);
      engine->load_definitions(Actor{"root", {"admin"}}, kDefinitions);
      Intake intake(*engine, rules(kCorrelationRules));
      ChannelEvent e;
      e.id = "p-1";
      e.channel = "phone";
      e.customer = "ann";
      e.text = "call";
      e.metadata = {{"order_id", "O-9"}};
      ann_case = intake.process(e).case_id();
      clock->advance(1min);
      e.id = "m-1";
      e.channel = "email";
      CHECK(intake.process(e).case_id() == ann_case);
      e.id = "m-2";
      e.text = "unsubscribe";
      intake.process(e);
      e.id = "f-1";
      e.channel = "fax";
      e.text = "a fax";
      intake.process(e);
      written = intake.intake_log();
      REQUIRE(written.size() == 4);
    }
    EngineOptions o;
    o.database = path;
    o.clock = clock;
    auto engine = Engine::open(o);
    auto log = engine->intake_log().page();
    REQUIRE(log.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK(log[i].seq == i + 1);
      CHECK(log[i].event_id == written[i].event_id);
      CHECK(log[i].action == written[i].action);
      CHECK(log[i].rule == written[i].rule);
      CHECK(log[i].case_id == written[i].case_id);
      CHECK(log[i].time == written[i].time);
      CHECK(log[i].event == written[i].event);
    }
    CHECK(log[0].action == "create_case");
    CHECK(log[1].action == "attach");
    CHECK(log[1].time == test::t("2026-11-23T09:01:00Z"));
    CHECK(log[2].action == "ignore");
    CHECK(log[3].action == "unmatched");
    // Paging.
    auto page = engine->intake_log().page(2, 1);
    REQUIRE(page.size() == 2);
    CHECK(page[0].seq == 2);
    CHECK(page[1].seq == 3);
    CHECK(engine->intake_log().page(10, 4).empty());
    // Duplicates are recognised across restarts; correlation works on the reopened store.
    Intake intake(*engine, rules(kCorrelationRules));
    ChannelEvent e;
    e.id = "m-1";
    e.channel = "email";
    e.customer = "ann";
    CHECK(intake.process(e).duplicate);
    e.id = "m-3";
    e.metadata = {{"order_id", "O-9"}};
    CHECK(intake.process(e).case_id() == ann_case);
    CHECK(engine->open_cases_of("ann") == std::vector<std::string>{ann_case});
    // The index follows status changes: a terminated case is no longer correlated.
    engine->terminate_case(Actor{"root", {"admin"}}, ann_case, "done");
    CHECK(engine->open_cases_of("ann").empty());
    e.id = "m-4";
    auto fresh = intake.process(e);
    CHECK(fresh.action() == IntakeAction::create_case);
    CHECK(fresh.case_id() != ann_case);
    CHECK(engine->open_cases_of("ann") == std::vector<std::string>{fresh.case_id()});
    CHECK(engine->open_cases_of("nobody").empty());
  }

  TEST_CASE("schema migration: a version 1 file gets the intake log and keeps its data") {
    // The exact version 1 schema and meta rows, as acm 0.1 wrote them.
    constexpr const char* kV1 = R"sql(
PRAGMA journal_mode = WAL;
BEGIN;
CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE definitions(kind TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY(kind, id, version));
CREATE TABLE cases(id TEXT PRIMARY KEY NOT NULL, seq INTEGER NOT NULL UNIQUE, version INTEGER NOT NULL,
  type TEXT NOT NULL, type_version INTEGER NOT NULL, status TEXT NOT NULL, owner TEXT NOT NULL,
  priority INTEGER NOT NULL, customer TEXT NOT NULL, next_due INTEGER, next_deadline INTEGER,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX cases_next_due ON cases(next_due) WHERE next_due IS NOT NULL;
CREATE INDEX cases_status ON cases(status);
CREATE INDEX cases_owner ON cases(owner);
CREATE TABLE events(case_id TEXT NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL, actor TEXT NOT NULL,
  kind TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY(case_id, seq)) WITHOUT ROWID;
CREATE TABLE snapshots(case_id TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE work_items(case_id TEXT NOT NULL, item_id TEXT NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL,
  assignee TEXT NOT NULL, role TEXT NOT NULL, skills TEXT NOT NULL, due INTEGER, priority INTEGER NOT NULL,
  PRIMARY KEY(case_id, item_id)) WITHOUT ROWID;
CREATE INDEX work_items_assignee ON work_items(assignee, priority DESC, due);
CREATE INDEX work_items_role ON work_items(role, assignee, priority DESC, due);
CREATE INDEX work_items_due ON work_items(due) WHERE due IS NOT NULL;
CREATE TABLE idempotency(key TEXT PRIMARY KEY NOT NULL, case_id TEXT NOT NULL, result TEXT NOT NULL,
  created_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE templates(name TEXT NOT NULL, version INTEGER NOT NULL, kind TEXT NOT NULL,
  created_at INTEGER NOT NULL, meta TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY(name, version));
INSERT INTO meta VALUES ('format', 'acm-store'), ('schema_version', '1'), ('acm_version', '0.1.0'),
  ('created_at', '2026-11-01T00:00:00.000Z');
INSERT INTO templates VALUES ('kept', 1, 'learner', 0, '{"note": "from v1"}', X'0102');
PRAGMA application_id = 1094929747;
PRAGMA user_version = 1;
COMMIT;
)sql";
    TempDir tmp;
    const auto path = tmp.path("v1.db");
    auto sql = [&](const char* text, bool read_int = false) -> std::int64_t {
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
      std::int64_t out = -1;
      if (read_int) {
        sqlite3_stmt* s = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, text, -1, &s, nullptr) == SQLITE_OK);
        if (sqlite3_step(s) == SQLITE_ROW) out = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
      } else {
        char* err = nullptr;
        int rc = sqlite3_exec(db, text, nullptr, nullptr, &err);
        CHECK_MESSAGE(rc == SQLITE_OK, (err ? err : ""));
        sqlite3_free(err);
      }
      sqlite3_close(db);
      return out;
    };
    sql(kV1);
    REQUIRE(sql("PRAGMA user_version", true) == 1);
    REQUIRE(sql("SELECT count(*) FROM sqlite_schema WHERE name = 'intake_log'", true) == 0);
    {
      EngineOptions o;
      o.database = path;
      auto engine = Engine::open(o);
      CHECK(engine->templates().get("kept").first.meta["note"] == "from v1");  // v1 data kept
      engine->load_definitions(Actor{"root", {"admin"}}, kDefinitions);
      Intake intake(*engine, rules(kCorrelationRules));
      ChannelEvent e;
      e.id = "p-1";
      e.channel = "phone";
      e.customer = "ann";
      auto id = intake.process(e).case_id();
      CHECK(engine->open_cases_of("ann") == std::vector<std::string>{id});
      CHECK(engine->intake_log().page().size() == 1);
    }
    CHECK(sql("PRAGMA user_version", true) == 5);  // v1 -> v2 (intake) -> v3 (queue indexes) -> v4 (search) -> v5 (feed)
    CHECK(sql("SELECT value FROM meta WHERE key = 'schema_version'", true) == 5);
    CHECK(sql("SELECT count(*) FROM meta WHERE key = 'migrated_at'", true) == 1);
    CHECK(sql("SELECT count(*) FROM sqlite_schema WHERE name IN ('intake_log', 'intake_log_event', 'cases_customer')",
              true) == 3);
    CHECK(sql("SELECT count(*) FROM intake_log", true) == 1);
    // The correlation and duplicate lookups use their indexes.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    auto plan = [&](const char* q) {
      std::string out;
      sqlite3_stmt* s = nullptr;
      REQUIRE(sqlite3_prepare_v2(db, (std::string("EXPLAIN QUERY PLAN ") + q).c_str(), -1, &s, nullptr) == SQLITE_OK);
      while (sqlite3_step(s) == SQLITE_ROW) out += reinterpret_cast<const char*>(sqlite3_column_text(s, 3));
      sqlite3_finalize(s);
      return out;
    };
    auto p1 = plan(
        "SELECT id FROM cases WHERE customer = 'ann' AND status IN ('active', 'suspended') "
        "ORDER BY seq DESC LIMIT 50");
    CHECK_MESSAGE(has(p1, "cases_customer"), p1);
    auto p2 = plan("SELECT seq FROM intake_log WHERE event_id = 'p-1' ORDER BY seq");
    CHECK_MESSAGE(has(p2, "intake_log_event"), p2);
    sqlite3_close(db);
    // Reopening the migrated file writes nothing more and works.
    EngineOptions o;
    o.database = path;
    CHECK(Engine::open(o)->intake_log().page().size() == 1);
  }

  TEST_CASE("the same event from two threads acts once") {
    IntakeFixture f;
    Intake intake(*f.engine, rules(kCorrelationRules));
    std::vector<IntakeDecision> out(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
      threads.emplace_back(
          [&, i] { out[static_cast<std::size_t>(i)] = intake.process(f.event("p-9", "phone", "zoe")); });
    for (auto& t : threads) t.join();
    int fresh = 0;
    for (const auto& d : out) {
      if (!d.duplicate) ++fresh;
      CHECK(d.case_id() == out[0].case_id());
    }
    CHECK(fresh == 1);
    CHECK(f.engine->open_cases_of("zoe").size() == 1);
  }
}
