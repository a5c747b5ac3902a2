// SPDX-License-Identifier: Apache-2.0
// Tests of store::parse_stored_json (src/store/stored_json.hpp): for every text, the value or
// the error of Json::parse, whether the text takes the compact fast path or not.
#include <acm/acm.hpp>

#include "store/stored_json.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

using namespace acm;
using acm::store::parse_compact_json;
using acm::store::parse_stored_json;

namespace {

/// The same value, of the same types all the way down (3 unsigned == 3 signed == 3.0 as Json
/// values; their dumps tell the floats apart, the types the integers).
void same_value(const Json& got, const Json& expected) {
  CHECK(got == expected);
  CHECK(got.dump() == expected.dump());
  REQUIRE(got.type() == expected.type());
  if (expected.is_object())
    for (auto it = expected.begin(); it != expected.end(); ++it) same_value(got.at(it.key()), it.value());
  if (expected.is_array())
    for (std::size_t i = 0; i < expected.size(); ++i) same_value(got.at(i), expected.at(i));
}

/// parse_stored_json(text) gives what Json::parse(text) gives: equal values of the same types,
/// or an exception of the same type with the same message. Returns whether the fast path took it.
bool same_as_json_parse(const std::string& text) {
  CAPTURE(text);
  Json fast;
  const bool compact = parse_compact_json(text, fast);
  Json expected;
  std::string expected_error;
  try {
    expected = Json::parse(text);
  } catch (const Json::exception& e) {
    expected_error = e.what();
  }
  if (!expected_error.empty()) {
    std::string error;
    try {
      (void)parse_stored_json(text);
    } catch (const Json::exception& e) {
      error = e.what();
    }
    CHECK(error == expected_error);
    CHECK_FALSE(compact);  // the fast path never accepts a text Json::parse refuses
    return false;
  }
  same_value(parse_stored_json(text), expected);
  if (compact) same_value(fast, expected);
  return compact;
}

/// The payloads a real engine stores: every event of a few commands on a SQLite-less engine.
std::vector<std::string> engine_payloads() {
  auto clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
  EngineOptions o;
  o.clock = clock;
  auto e = Engine::open(o);
  const Actor admin{"root", {"admin"}};
  FragmentDef f;
  f.id = "f";
  f.name = "Fragment";
  ItemDef wait;
  wait.id = "wait";
  wait.name = "Wait";
  wait.kind = ItemKind::timer_listener;
  wait.timer = std::chrono::hours(1);
  ItemDef task;
  task.id = "answer";
  task.name = "Answer \"quoted\" \xc3\xa9t\xc3\xa9";  // escapes and UTF-8 take the slow path
  task.role = "agent";
  task.after = {"wait"};
  f.items = {wait, task};
  e->register_fragment(admin, f);
  NewCase spec;
  spec.title = "Customer asks for a refund of order 4711";
  spec.priority = -3;
  spec.subject.customer = "cust-42";
  spec.subject.attributes = {{"value", 250}, {"ratio", 0.25}, {"big", 12345678901234567890ull}, {"neg", -7}};
  spec.participants = {{"bob", {"agent"}}};
  const std::string id = e->create_case(admin, spec).created;
  e->add_fragment(admin, id, {"f", 0, "", Json::object()});
  e->set_file(admin, id, "notes.last", "line one\nline two\ttab");
  e->set_file(admin, id, "numbers", Json::array({0, 1, -1, 1.5, 1e300, nullptr, true, false}));
  clock->advance(std::chrono::hours(2));
  e->run_due();
  std::vector<std::string> out;
  for (const auto& ev : e->history(id)) out.push_back(ev.payload.dump());
  return out;
}

}  // namespace

TEST_CASE("stored JSON: the payloads an engine writes read back as Json::parse reads them") {
  const auto payloads = engine_payloads();
  REQUIRE(payloads.size() >= 6);
  std::size_t compact = 0;
  for (const auto& p : payloads) compact += same_as_json_parse(p) ? 1 : 0;
  // The fast path reads the usual payloads (all but the few with escapes, UTF-8 or fractions).
  CHECK(compact + 3 >= payloads.size());
  CHECK(same_as_json_parse(R"({"due":"2026-01-05T13:00:01.000Z","from":"available","item":"task#1","to":"active",)"
                           R"("transition":"start"})"));
}

TEST_CASE("stored JSON: compact values, numbers at the edges, and texts that leave the fast path") {
  const std::vector<std::string> texts = {
      "{}", "[]", "\"\"", "0", "-1", "1", "true", "false", "null", "[[],{}]",
      R"({"a":1,"b":[1,2,{"c":"d"}],"e":{"f":null,"g":true,"h":false}})",
      // Integers: 18 digits (fast), 19 and 20 digits (Json::parse: int64, uint64 or float).
      "999999999999999999", "-999999999999999999", "9223372036854775807", "-9223372036854775808",
      "18446744073709551615", "18446744073709551616", "-9223372036854775809",
      // Not integers, or not plain ones: fractions, exponents, -0, leading zeros.
      "1.5", "-0.0", "1e3", "1E3", "-0", "00", "01", "-01", "[0,-0,0.0]",
      // Strings: escapes, control characters, DEL, UTF-8, invalid UTF-8.
      R"("a\"b")", R"("a\\b")", R"("\u00e9")", "\"tab\there\"", "\"\x7f\"", "\"\xc3\xa9\"", "\"\xff\"",
      // A repeated key: the last value wins.
      R"({"a":1,"a":2})", R"({"b":1,"a":2,"b":3})",
      // White space anywhere.
      " {}", "{} ", "{ }", R"({"a": 1})", "[1, 2]", "\n[1]\n",
      // Broken texts.
      "", "{", "}", "[", "]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[1 2]", "{\"a\":1}x", "tru", "nul",
      "truex", "-", "1-", "[1-2]", "\"abc", "{\"a\":1,\"b\"", "{1:2}", "[,1]", "{}{}", "1.", ".5", "+1"};
  for (const auto& t : texts) same_as_json_parse(t);
}

TEST_CASE("stored JSON: nesting deeper than the fast path's limit") {
  for (int depth : {1, 63, 64, 65, 200}) {
    std::string arrays(static_cast<std::size_t>(depth), '['), objects;
    arrays += std::string(static_cast<std::size_t>(depth), ']');
    for (int i = 0; i < depth; ++i) objects += "{\"k\":";
    objects += "1" + std::string(static_cast<std::size_t>(depth), '}');
    same_as_json_parse(arrays);
    same_as_json_parse(objects);
    same_as_json_parse(arrays.substr(0, arrays.size() - 1));  // one bracket short
  }
}

TEST_CASE("stored JSON: damaged copies of real payloads parse or fail exactly as Json::parse") {
  const auto payloads = engine_payloads();
  std::mt19937 rng(20261206);
  const std::string alphabet = "{}[]\",:-0123456789.eEtrufalsn \\\x7f\x80\xc3";
  std::size_t damaged = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string t = payloads[rng() % payloads.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits && !t.empty(); ++k) {
      const std::size_t at = rng() % t.size();
      switch (rng() % 3) {
        case 0: t[at] = alphabet[rng() % alphabet.size()]; break;             // change a byte
        case 1: t.erase(at, 1 + rng() % 3); break;                             // drop bytes
        default: t.insert(at, 1, alphabet[rng() % alphabet.size()]); break;  // add one
      }
    }
    if (!Json::accept(t)) ++damaged;
    same_as_json_parse(t);
  }
  CHECK(damaged > 1000);  // the mutations do reach the error paths
}
