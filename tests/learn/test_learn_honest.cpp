// SPDX-License-Identifier: Apache-2.0
// Honest learning (issue 17): an evaluation that cannot tell the model the case goes on, the
// temporal split and the Markov baselines, large and unseen alphabets, explanations in an
// agent's words, completion forecasts that move; and crafted template files (issue 14).
#include "learn/binio.hpp"
#include "learn/learner_impl.hpp"
#include "learn_support.hpp"

#include <doctest/doctest.h>

#include <acm/error.hpp>
#include <acm/learn.hpp>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>

using namespace acm;
using namespace acm::learn;
using acm::test::branching_log;
using acm::test::prefix_of;
using acm::test::step;

namespace {

Trace trace(std::string id, const std::vector<std::string>& acts, TimePoint start,
            Duration gap = std::chrono::hours(1)) {
  Trace t;
  t.id = std::move(id);
  for (std::size_t i = 0; i < acts.size(); ++i)
    t.steps.push_back(Step{acts[i], start + gap * static_cast<int>(i), "", false, {}});
  return t;
}

/// CRC-32 (the envelope's checksum), to re-seal bytes changed on purpose.
std::uint32_t crc32(std::string_view s) {
  std::uint32_t c = 0xffffffffu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}
std::string reseal(std::string bytes) {
  const std::uint32_t c = crc32(std::string_view(bytes).substr(24));
  for (int i = 0; i < 4; ++i) bytes[20 + static_cast<std::size_t>(i)] = static_cast<char>((c >> (8 * i)) & 0xff);
  return bytes;
}
void put_u64(std::string& s, std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s[at + static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
}

Learner trained_branching() {
  Learner l(LearnerOptions{.next_rounds = 10, .time_rounds = 10});
  for (const Trace& tr : branching_log()) l.add(tr);
  l.train();
  return l;
}

std::string load_error(const std::string& bytes) {
  try {
    Learner::load(bytes);
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::storage);
    return e.what();
  }
  return "(loaded)";
}

}  // namespace

TEST_CASE("evaluate never tells the model that the case goes on: 'the case ends' is predicted, and a miss") {
  // After A, B most cases end (60 of 100): at an evaluation point (where the case always goes
  // on) the honest answer is "ends", a miss. A model kept from predicting the end would say C.
  const TimePoint t0 = parse_time("2026-01-05T09:00:00Z");
  std::vector<Trace> log;
  for (int i = 0; i < 300; ++i) {
    const bool ends = i % 5 < 3;
    log.push_back(trace("c" + std::to_string(i),
                        ends ? std::vector<std::string>{"A", "B"} : std::vector<std::string>{"A", "B", "C"},
                        t0 + std::chrono::hours(24 * i)));
  }
  const Evaluation ev = evaluate(log, LearnerOptions{.next_rounds = 10, .time_rounds = 5});
  REQUIRE(ev.train_cases == 200);
  REQUIRE_FALSE(ev.points.empty());
  for (const EvaluationPoint& p : ev.points) {
    CHECK(p.prefix_length == 2);
    CHECK(p.actual_next == "C");
    CHECK(p.predicted_next.empty());  // "the case ends"
    CHECK(p.markov_next.empty());
    CHECK(p.vom_next.empty());
  }
  CHECK(ev.accuracy == 0.0);
  REQUIRE(ev.baselines.size() == 2);
  CHECK(ev.baselines[0].name == "markov-1");
  CHECK(ev.baselines[0].accuracy == 0.0);
  CHECK(ev.baselines[1].name == "variable-order markov");
}

TEST_CASE("the temporal split trains on cases that ended before the cut and tests cases started after it") {
  const TimePoint t0 = parse_time("2026-01-05T09:00:00Z");
  std::vector<Trace> log;
  // Ninety cases, one a day, each lasting two days; listed in reverse time order, so that case
  // order and time order differ.
  for (int i = 89; i >= 0; --i)
    log.push_back(trace("c" + std::to_string(i), {"A", "B", i < 60 ? "C" : "D", "E"}, t0 + std::chrono::hours(24 * i),
                        std::chrono::hours(16)));
  const Evaluation ev = evaluate(log, LearnerOptions{.next_rounds = 10, .time_rounds = 5}, Split::temporal);
  CHECK(ev.split == Split::temporal);
  // fold = round(91 / 3) = 30: the cut is the start of the 61st case by start time (day 60).
  CHECK(ev.cut == t0 + std::chrono::hours(24 * 60));
  CHECK(ev.test_cases == 30);
  CHECK(ev.left_out_cases == 2);  // days 58 and 59 run across the cut
  CHECK(ev.train_cases == 58);
  for (const EvaluationPoint& p : ev.points) {
    const int day = std::stoi(p.case_id.substr(1));
    CHECK(day >= 60);
  }
  CHECK(ev.points.size() == 30 * 2);
  // After A, B every training case went on to C; the test period (drift) goes on to D.
  std::size_t at2 = 0;
  for (const EvaluationPoint& p : ev.points)
    if (p.prefix_length == 2) {
      ++at2;
      CHECK(p.markov_next == "C");
      CHECK(p.actual_next == "D");
    }
  CHECK(at2 == 30);
  // The published split of the same list: case order (here, the latest cases first).
  const Evaluation pub = evaluate(log, LearnerOptions{.next_rounds = 10, .time_rounds = 5});
  CHECK(pub.train_cases == 60);
  CHECK(pub.points.front().case_id == "c29");
}

TEST_CASE("recency weighting: recent cases count more, and the reasons say so") {
  // Early cases go A -> B -> C; the latest third goes A -> B -> D.
  const TimePoint t0 = parse_time("2026-01-05T09:00:00Z");
  std::vector<Trace> log;
  for (int i = 0; i < 150; ++i)
    log.push_back(trace("c" + std::to_string(i), {"A", "B", i < 100 ? "C" : "D"}, t0 + std::chrono::hours(24 * i)));
  // Recency weighting alone (no recent-behaviour features, which would also see the change).
  Learner plain(LearnerOptions{.next_rounds = 20, .time_rounds = 5, .recent_cases = 0});
  Learner recent(LearnerOptions{.next_rounds = 20, .time_rounds = 5, .recency_half_life_days = 20, .recent_cases = 0});
  for (const Trace& t : log) {
    plain.add(t);
    recent.add(t);
  }
  plain.train();
  recent.train();
  const Trace running = trace("now", {"A", "B"}, t0 + std::chrono::hours(24 * 150));
  CHECK(plain.next_steps(running, 1)[0].activity == "C");
  const auto next = recent.next_steps(running, 1);
  REQUIRE(next.size() == 1);
  CHECK(next[0].activity == "D");
  bool said = false;
  for (const Evidence& e : next[0].evidence)
    if (e.feature == "recent cases") {
      said = true;
      CHECK(e.text.rfind("recent similar cases more often went on to D", 0) == 0);
      CHECK(e.text.find("33 % of all") != std::string::npos);
    }
  CHECK(said);
  CHECK_THROWS_AS(Learner(LearnerOptions{.recency_half_life_days = -1}), Error);
}

TEST_CASE("the remaining-time models are not told that the case goes on") {
  // After B, 7 cases in 10 end at once; the others go on to C ten days later. A model fitted
  // only on prefixes that go on would forecast ten days; the median of what is left is zero.
  // No recent remaining times: the running case comes 100 h after the last case started, when
  // the latest cases to end are the long ones, a past no training row saw (docs/learning.md).
  const TimePoint t0 = parse_time("2026-01-05T09:00:00Z");
  Learner l(LearnerOptions{.next_rounds = 10, .time_rounds = 30, .recent_cases = 0, .recent_times = 0});
  for (int i = 0; i < 200; ++i) {
    const TimePoint s = t0 + std::chrono::hours(i);
    if (i % 10 < 7)
      l.add(trace("e" + std::to_string(i), {"A", "B"}, s));
    else
      l.add(trace("g" + std::to_string(i), {"A", "B", "C"}, s, std::chrono::hours(120)));
  }
  l.train();
  const Trace running = trace("run", {"A", "B"}, t0 + std::chrono::hours(300));
  const auto next = l.next_steps(running, 1);
  REQUIRE(next.size() == 1);
  CHECK(next[0].activity.empty());  // the case most likely ends here
  const Completion c = l.completion(running);
  CHECK(c.remaining < std::chrono::hours(24));
  REQUIRE(c.quantiles.size() == 3);
  CHECK(c.quantiles[2].second > std::chrono::hours(24 * 5));  // the 90 % quantile sees the cases that go on
}

TEST_CASE("recent behaviour: what the latest cases did moves the ranking, and the reasons say so") {
  // Early cases go A -> B -> C; the latest third goes A -> B -> D. No recency weighting: the
  // recent-behaviour features alone (the latest 50 cases known before the step) see the change.
  const TimePoint t0 = parse_time("2026-01-05T09:00:00Z");
  Learner l(LearnerOptions{.next_rounds = 20, .time_rounds = 5});
  for (int i = 0; i < 150; ++i)
    l.add(trace("c" + std::to_string(i), {"A", "B", i < 100 ? "C" : "D"}, t0 + std::chrono::hours(24 * i)));
  l.train();
  const auto late = l.next_steps(trace("late", {"A", "B"}, t0 + std::chrono::hours(24 * 150)), 2);
  REQUIRE(late.size() == 2);
  CHECK(late[0].activity == "D");
  bool said = false;
  for (const Evidence& e : late[0].evidence)
    if (e.feature == "recent cases") {
      said = true;
      CHECK(e.text.rfind("of the latest 50 cases after A, B (before this step), 100 % went on to D (+", 0) == 0);
      CHECK(e.weight > 0);
    }
  CHECK(said);
  // Before the change, only what was known then counts: C.
  const auto early = l.next_steps(trace("early", {"A", "B"}, t0 + std::chrono::hours(24 * 60)), 1);
  REQUIRE(early.size() == 1);
  CHECK(early[0].activity == "C");
}

TEST_CASE("any number of activities: 1,000 activities, 100,000 cases, and activities never seen in training") {
  // Generated in memory: activity i has weight 1 / (i + 1) (a long tail), 2 to 5 steps per case.
  std::mt19937 rng(17);
  std::vector<double> w(1000);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 1.0 / static_cast<double>(i + 1);
  std::discrete_distribution<int> pick(w.begin(), w.end());
  const TimePoint t0 = parse_time("2024-01-01T00:00:00Z");
  LearnerOptions o{.next_rounds = 2, .next_depth = 3, .time_rounds = 2, .time_depth = 3, .quantiles = {0.5}};
  o.max_traces = 3000;  // the window the models are fitted on: memory stays bounded
  Learner l(o);
  std::set<int> seen;
  for (int c = 0; c < 100000; ++c) {
    Trace t;
    t.id = std::to_string(c);
    const int len = 2 + static_cast<int>(rng() % 4);
    for (int k = 0; k < len; ++k) {
      const int a = pick(rng);
      seen.insert(a);
      t.steps.push_back(Step{"act " + std::to_string(a), t0 + std::chrono::minutes(10 * c + k), "", false, {}});
    }
    l.add(std::move(t));
  }
  CHECK(seen.size() > 900);
  CHECK(l.stats().traces == 100000);
  CHECK(l.stats().activities == seen.size());
  l.train();  // beyond 250 activities: the rest are "rare", nothing throws
  CHECK(l.stats().trained_on == 3000);
  Trace odd;
  odd.steps = {Step{"never seen 1", t0, "", false, {}},
               Step{"never seen 2", t0 + std::chrono::hours(1), "", false, {}}};
  const auto next = l.next_steps(odd, 5);
  CHECK_FALSE(next.empty());
  for (const NextStep& n : next) CHECK(n.activity.find("never seen") == std::string::npos);
  CHECK(l.completion(odd).quantiles.size() == 1);
  Trace mixed;
  mixed.steps = {Step{"act 0", t0, "", false, {}}, Step{"act 999", t0 + std::chrono::hours(1), "", false, {}}};
  CHECK_FALSE(l.next_steps(mixed, 3).empty());
  // The count tables stay within their bounds, and their bookkeeping is exact.
  const CountTables& counts = l.internals().counts;
  std::size_t held = 0;
  for (const CountTables::Node& n : counts.trie) held += n.next.size();
  for (const auto& [key, next] : counts.suffix) held += next.size();
  CHECK(held == counts.entries);
  CHECK(counts.entries <= CountTables::kMaxEntries);
  CHECK(counts.trie.size() <= CountTables::kMaxNodes);
  CHECK(counts.suffix.size() <= CountTables::kMaxNodes);
  // A saved learner with a large alphabet loads back.
  const Learner back = Learner::load(l.save());
  CHECK(back.next_steps(mixed, 1)[0].activity == l.next_steps(mixed, 1)[0].activity);
}

TEST_CASE("count tables are bounded: past the bound new successors are not added, known ones keep counting") {
  const TimePoint t0 = parse_time("2026-01-05T09:00:00Z");
  Learner l(LearnerOptions{.next_rounds = 2, .time_rounds = 2});
  l.add(trace("a", {"A", "B"}, t0));
  CountTables& counts = l.internals().counts;
  const std::size_t start = counts.entries;
  CHECK(start == 6);  // trie: start -> A, A -> B, A,B -> end; suffixes: A -> B, B -> end, A,B -> end
  // As if the tables had filled up: no room left for a new successor.
  counts.entries = CountTables::kMaxEntries;
  const std::size_t suffixes = counts.suffix.size();
  l.add(trace("b", {"A", "C"}, t0 + std::chrono::hours(1)));  // A -> C is new: not counted
  l.add(trace("c", {"A", "B"}, t0 + std::chrono::hours(2)));  // known: counted
  CHECK(counts.entries == CountTables::kMaxEntries);
  CHECK(counts.suffix.size() == suffixes);  // no empty context was created for C
  const auto& after_a = counts.trie[counts.trie[0].child.at("A")].next;
  CHECK(after_a.size() == 1);
  CHECK(after_a.at("B") == 2);
  // Nothing throws, and a case after the uncounted step still gets an answer (back-off).
  Trace running = trace("run", {"A", "C"}, t0 + std::chrono::hours(3));
  CHECK_FALSE(l.next_steps(running, 3).empty());
  l.train();
  CHECK_FALSE(l.next_steps(running, 3).empty());
}

TEST_CASE("evaluation with test cases whose activities were never seen in training") {
  const TimePoint t0 = parse_time("2026-01-05T09:00:00Z");
  std::vector<Trace> log;
  for (int i = 0; i < 60; ++i)
    log.push_back(trace("c" + std::to_string(i), {"A", "B", "C"}, t0 + std::chrono::hours(i)));
  for (int i = 60; i < 90; ++i)
    log.push_back(trace("c" + std::to_string(i), {"A", "X" + std::to_string(i), "Y", "C"}, t0 + std::chrono::hours(i)));
  const Evaluation ev = evaluate(log, LearnerOptions{.next_rounds = 5, .time_rounds = 5});
  CHECK(ev.test_cases == 30);
  CHECK(ev.points.size() == 60);
  for (const EvaluationPoint& p : ev.points) CHECK(p.predicted_next.find('X') == std::string::npos);
}

TEST_CASE("explanations in an agent's words: similar past cases, percentage points, no missing attributes") {
  Learner l = trained_branching();
  const std::vector<Trace> log = branching_log();
  const auto next = l.next_steps(prefix_of(log[1], 2), 2);
  REQUIRE(next.size() == 2);
  CHECK(next[0].activity == "C");
  REQUIRE_FALSE(next[0].evidence.empty());
  const Evidence& first = next[0].evidence[0];
  CHECK(first.feature == "similar past cases");
  CHECK(first.text.rfind("in 100 similar past cases (with the same steps so far), 80 % went on to C (", 0) == 0);
  CHECK(first.text.find(" pp)") != std::string::npos);
  bool channel = false;
  for (const Evidence& e : next[0].evidence) {
    CHECK(e.text.find("(other)") == std::string::npos);
    CHECK(e.text.find("1970") == std::string::npos);
    if (e.text.rfind("channel is phone (+", 0) == 0) {
      channel = true;
      CHECK(e.weight > 0);
      CHECK(e.weight <= 100);
    }
  }
  CHECK(channel);
  // A case without the attribute: no reason mentions it.
  Trace bare = prefix_of(log[1], 2);
  bare.attributes.clear();
  for (const NextStep& n : l.next_steps(bare, 3))
    for (const Evidence& e : n.evidence) CHECK(e.text.find("channel") == std::string::npos);
  // The end of a case, in words.
  const auto end = l.next_steps(log[1], 1);
  REQUIRE(end.size() == 1);
  CHECK(end[0].activity.empty());
  CHECK(end[0].evidence[0].text.find("100 % ended there") != std::string::npos);
  // An empty case: no date from 1970.
  const Completion none = l.completion(Trace{});
  CHECK(none.expected == TimePoint{});
  for (const Evidence& e : none.evidence) CHECK(e.text.find("1970") == std::string::npos);
}

TEST_CASE("completion forecasts move as the case progresses, with a spread and reasons") {
  // A (day 0) -> B (day 1) -> C (day 10) -> D (day 11): after C little is left.
  const TimePoint t0 = parse_time("2026-01-05T09:00:00Z");
  Learner l(LearnerOptions{.next_rounds = 5, .time_rounds = 40});
  for (int i = 0; i < 200; ++i) {
    Trace t;
    t.id = std::to_string(i);
    const TimePoint s = t0 + std::chrono::hours(i);
    const int jitter = i % 5;
    t.steps = {Step{"A", s, "", false, {}}, Step{"B", s + std::chrono::hours(24 + jitter), "", false, {}},
               Step{"C", s + std::chrono::hours(240 + jitter), "", false, {}},
               Step{"D", s + std::chrono::hours(264 + 2 * jitter), "", false, {}}};
    l.add(std::move(t));
  }
  l.train();
  Trace run;
  run.steps = {Step{"A", t0, "", false, {}}};
  const double after_a = std::chrono::duration<double, std::ratio<86400>>(l.completion(run).remaining).count();
  run.steps.push_back(Step{"B", t0 + std::chrono::hours(25), "", false, {}});
  const double after_b = std::chrono::duration<double, std::ratio<86400>>(l.completion(run).remaining).count();
  run.steps.push_back(Step{"C", t0 + std::chrono::hours(241), "", false, {}});
  const Completion c = l.completion(run);
  const double after_c = std::chrono::duration<double, std::ratio<86400>>(c.remaining).count();
  CHECK(after_a > 9.5);
  CHECK(after_b < after_a);
  CHECK(after_b > 8.0);
  CHECK(after_c < 1.5);
  REQUIRE(c.quantiles.size() == 3);
  CHECK(c.quantiles[0].second <= c.quantiles[2].second);
  REQUIRE(c.evidence.size() >= 2);
  CHECK(c.evidence[0].text.rfind("in 200 similar past cases (with the same steps so far), 0 % ended there and the "
                                 "others took 26.0 h more on average",
                                 0) == 0);
  CHECK(c.evidence.back().feature == "spread");
  CHECK(c.evidence.back().text.find("in 8 cases out of 10") != std::string::npos);
}

TEST_CASE("recent remaining times: a prefix never sees its own case, only cases that ended before its last step") {
  // Three cases, each A then B: c1 ends on day 2 (A -> B takes 1 day), c2 on day 13 (10 days),
  // c3 on day 22 (2 days).
  const TimePoint t0 = parse_time("2026-01-05T09:00:00Z");
  const auto day = [&](int d) { return t0 + std::chrono::hours(24 * d); };
  std::vector<Trace> log = {trace("c1", {"A", "B"}, day(1), std::chrono::hours(24)),
                            trace("c2", {"A", "B"}, day(3), std::chrono::hours(240)),
                            trace("c3", {"A", "B"}, day(20), std::chrono::hours(48))};
  LearnerOptions o;
  o.recent_times = 25;
  std::vector<const Trace*> use;
  for (const Trace& t : log) use.push_back(&t);
  FeatureLayout L = FeatureLayout::build(use, o);
  L.build_recent(use);
  REQUIRE(L.recent_times == 25);
  const int a = L.activities.code("A");
  // Every row of c2, as training rows are built: after A (day 3) and after B (day 13, c2's own
  // end) only c1 had ended; c2's own remaining times (10 days after A, 0 after B) are never
  // among the values.
  std::vector<std::vector<float>> rows;
  L.for_each_prefix(log[1], nullptr, [&](std::size_t, const std::vector<float>& v) { rows.push_back(v); });
  REQUIRE(rows.size() == 2);
  CHECK(rows[0][L.c_rt_count] == 1);  // c1 after A, ended day 2; not c2's own 10 days
  CHECK(rows[0][L.c_rt_q + 1] == 1.0f);
  CHECK(rows[1][L.c_rt_count] == 1);  // c1 after B, ended day 2
  CHECK(rows[1][L.c_rt_q + 1] == 0.0f);
  // c3 after A (day 20): c1 (1 day left after A) and c2 (10 days) had ended.
  float q[3];
  CHECK(L.recent.remaining(a, day(20).time_since_epoch().count(), 25, q) == 2);
  CHECK(q[0] == doctest::Approx(1.0));
  CHECK(q[2] == doctest::Approx(10.0));
  // A case ending exactly at the asking time is not yet known (strictly before).
  CHECK(L.recent.remaining(a, day(13).time_since_epoch().count(), 25, q) == 1);
  // The window keeps the latest n only.
  CHECK(L.recent.remaining(a, day(30).time_since_epoch().count(), 1, q) == 1);
  CHECK(q[1] == doctest::Approx(2.0));  // c3, the latest to end
  // The next-step model never splits on these columns; the remaining-time models may.
  for (std::size_t c = 0; c < L.width(); ++c)
    CHECK(L.is_remaining_column(c) == (c >= L.c_rt_count && c < L.c_rt_count + 4));
}

TEST_CASE("recent remaining times follow drift in durations, and the forecast after the last step is near zero") {
  // A -> B -> C; B -> C takes 2 days in the first 200 cases and 12 days in the latest 100 (give
  // or take 6 h). The recent remaining-time features see the change; the forecast after C
  // (always the last step) is near zero.
  const TimePoint t0 = parse_time("2026-01-05T09:00:00Z");
  Learner l(LearnerOptions{.next_rounds = 5, .time_rounds = 60});
  for (int i = 0; i < 300; ++i) {
    const TimePoint s = t0 + std::chrono::hours(24 * i);
    const auto wait = std::chrono::hours((i < 200 ? 48 : 288) + 3 * (i % 5) - 6);  // +-6 h
    Trace t;
    t.id = "c" + std::to_string(i);
    t.steps = {Step{"A", s, "", false, {}}, Step{"B", s + std::chrono::hours(2), "", false, {}},
               Step{"C", s + std::chrono::hours(2) + wait, "", false, {}}};
    l.add(std::move(t));
  }
  l.train();
  const auto days = [](Duration d) { return std::chrono::duration<double, std::ratio<86400>>(d).count(); };
  auto after_b = [&](int day) {
    Trace run = trace("run", {"A", "B"}, t0 + std::chrono::hours(24 * day), std::chrono::hours(2));
    return l.completion(run);
  };
  const Completion early = after_b(150), late = after_b(320);
  CHECK(days(early.remaining) == doctest::Approx(2.0).epsilon(0.25));
  CHECK(days(late.remaining) == doctest::Approx(12.0).epsilon(0.25));
  bool said = false;
  for (const Evidence& e : late.evidence)
    if (e.feature == "recent cases") {
      said = true;
      CHECK(e.text.rfind("the latest 25 cases that ended before this step had a median of 12.0 days left after B", 0) ==
            0);
      CHECK(e.weight > 0);
    }
  CHECK(said);
  Trace done = trace("done", {"A", "B", "C"}, t0 + std::chrono::hours(24 * 320), std::chrono::hours(2));
  CHECK(days(l.completion(done).remaining) < 0.1);
  // The remaining-time models read these columns; the next-step model never splits on them.
  const Models& m = *l.internals().models;
  auto reads = [&](const gbdt::Ensemble& e) {
    for (const gbdt::Tree& t : e.trees)
      for (const gbdt::Node& n : t.nodes)
        if (n.feature >= 0 && m.layout.is_remaining_column(static_cast<std::size_t>(n.feature))) return true;
    return false;
  };
  CHECK(reads(m.remaining[1]));
  CHECK_FALSE(reads(m.next));
}

TEST_CASE("evaluate with validation never reads the test cases: it splits the training cases again") {
  const TimePoint t0 = parse_time("2026-01-05T09:00:00Z");
  std::vector<Trace> log;
  for (int i = 0; i < 90; ++i)
    log.push_back(trace("c" + std::to_string(i), {"A", "B", i % 3 ? "C" : "D", "E"}, t0 + std::chrono::hours(24 * i)));
  const LearnerOptions o{.next_rounds = 5, .time_rounds = 5};
  const Evaluation ev = evaluate(log, o, Split::published, true);
  CHECK(ev.validation);
  // Published: 60 training cases (c0..c59), split again: 40 train, 20 scored (c40..c59).
  CHECK(ev.train_cases == 40);
  CHECK(ev.test_cases == 20);
  for (const EvaluationPoint& p : ev.points) {
    const int i = std::stoi(p.case_id.substr(1));
    CHECK(i >= 40);
    CHECK(i < 60);
  }
  // Temporal: 60 cases ended before the cut (day 60) train; of them, those ended before day 40
  // train again and those started on or after it are scored.
  const Evaluation tv = evaluate(log, o, Split::temporal, true);
  CHECK(tv.cut == t0 + std::chrono::hours(24 * 40));
  for (const EvaluationPoint& p : tv.points) {
    const int i = std::stoi(p.case_id.substr(1));
    CHECK(i >= 40);
    CHECK(i < 60);
  }
  CHECK_FALSE(tv.points.empty());
}

TEST_CASE("crafted template files are refused with Error(storage) naming the problem") {
  Learner l = trained_branching();
  const std::string good = l.save();
  REQUIRE_NOTHROW(Learner::load(good));
  Models& m = const_cast<Models&>(*l.internals().models);
  const Models original = m;
  auto with = [&](auto change) {
    m = original;
    change(m);
    const std::string bytes = l.save();
    m = original;
    return load_error(bytes);
  };
  // The recent-pair index: keys inside the activity codes, in order; saving is deterministic.
  REQUIRE_FALSE(original.layout.recent.after_pair.empty());
  CHECK(Learner::load(good).save() == good);
  CHECK(with([](Models& x) {
          auto& pairs = x.layout.recent.after_pair;
          const std::uint64_t outside = x.layout.recent.pair_key(x.layout.recent.symbols + 1, 0);
          pairs[outside] = pairs.begin()->second;
        }).find("recent pair key") != std::string::npos);
  // outputs = 8 (more scores than classes: a write past the buffer before).
  CHECK(with([](Models& x) { x.next.outputs = 8; }).find("8 outputs") != std::string::npos);
  CHECK(with([](Models& x) { x.next.base.push_back(0); }).find("base scores") != std::string::npos);
  CHECK(with([](Models& x) { x.remaining[0].outputs = 3; }).find("3 outputs") != std::string::npos);
  // Node and feature indices.
  CHECK(with([](Models& x) { x.next.trees[0].nodes[0].feature = 100000; }).find("splits on column 100000") !=
        std::string::npos);
  CHECK(with([](Models& x) {
          for (auto& t : x.next.trees)
            if (t.nodes.size() > 1) {
              t.nodes[0].left = 0;  // a cycle
              break;
            }
        }).find("outside the tree") != std::string::npos);
  CHECK(with([](Models& x) {
          for (auto& t : x.next.trees)
            if (t.nodes.size() > 1) {
              t.nodes[0].right = 1 << 30;
              break;
            }
        }).find("outside the tree") != std::string::npos);
  CHECK(with([](Models& x) { x.next.trees.pop_back(); }).find("not a multiple") != std::string::npos);
  CHECK(with([](Models& x) {
          x.next.trees[0].nodes[0].value = std::numeric_limits<float>::quiet_NaN();
        }).find("not finite") != std::string::npos);
  CHECK(with([](Models& x) {
          for (auto& t : x.next.trees)
            if (t.nodes.size() > 1) {
              t.nodes[0].categorical = !t.nodes[0].categorical;
              break;
            }
        }).find("wrong kind") != std::string::npos);
  // The recent remaining-time index: one list per activity code, in order, durations only.
  REQUIRE_FALSE(original.layout.recent.ended_after.empty());
  REQUIRE_FALSE(original.layout.recent.ended_after.front().empty());
  CHECK(with([](Models& x) {
          x.layout.recent.ended_after.front().push_back({0, 1.0f});
        }).find("recent remaining times out of order") != std::string::npos);
  CHECK(with([](Models& x) {
          x.layout.recent.ended_after.front().push_back({std::numeric_limits<std::int64_t>::max(), -1.0f});
        }).find("not a duration") != std::string::npos);
  CHECK(with([](Models& x) { x.layout.recent.ended_after.pop_back(); }).find("recent remaining-time lists for") !=
        std::string::npos);
  // Layout and context table.
  CHECK(with([](Models& x) { x.layout.counted = 99; }).find("counted activities") != std::string::npos);
  CHECK(with([](Models& x) { x.layout.context.table.begin()->second.next[0].cls = 500; }).find("class 500") !=
        std::string::npos);
  CHECK(with([](Models& x) { x.layout.context.table.begin()->second.cases += 7; }).find("do not add up") !=
        std::string::npos);
  CHECK(with([](Models& x) { x.layout.context.order = 40; }).find("context order 40") != std::string::npos);

  // Byte-level: a bool that is neither 0 nor 1, huge counts and text sizes.
  Learner marked(LearnerOptions{.next_rounds = 2, .time_rounds = 2});
  Trace t;
  t.id = "MARKED-TRACE";
  t.steps = {Step{"MARKED-STEP", parse_time("2026-01-05T09:00:00Z"), "", false, {}}};
  marked.add(t);
  const std::string bytes = marked.save();
  const std::size_t step_at = bytes.find("MARKED-STEP");
  REQUIRE(step_at != std::string::npos);
  std::string bad_bool = bytes;
  bad_bool[step_at + 11 + 8 + 8] = 2;  // activity, time, resource "" (its length), then ad_hoc
  CHECK(load_error(reseal(bad_bool)).find("ad_hoc flag is not a boolean (2)") != std::string::npos);
  const std::size_t id_at = bytes.find("MARKED-TRACE");
  REQUIRE(id_at != std::string::npos);
  std::string huge_text = bytes;
  put_u64(huge_text, id_at - 8, std::uint64_t{1} << 62);
  CHECK(load_error(reseal(huge_text)).find("a text of 4611686018427387904 bytes") != std::string::npos);
  std::string huge_count = bytes;
  put_u64(huge_count, id_at - 16, std::uint64_t{1} << 40);  // the number of traces
  CHECK(load_error(reseal(huge_count)).find("traces: 1099511627776 elements cannot fit") != std::string::npos);
  std::string huge_steps = bytes;
  put_u64(huge_steps, step_at - 16, std::uint64_t{1} << 33);  // the trace's step count
  CHECK(load_error(reseal(huge_steps)).find("steps:") != std::string::npos);
  // The format before this one (a Boost archive) is refused by name.
  std::string v1 = good;
  v1[8] = 1;
  CHECK(load_error(v1).find("format 1 is no longer read") != std::string::npos);
  // Format 2 (no recent-pair index) is refused with "learn again".
  std::string v2 = good;
  v2[8] = 2;
  CHECK(load_error(v2).find("format 2 is no longer read (this acm reads formats 3 and 4): learn again") !=
        std::string::npos);
}

TEST_CASE("a format-3 template (saved before the recent remaining times) is still read, and saved as format 4") {
  // Saved by acm at main 98fd1ce (kept as a fuzz regression input): a trained learner.
  std::ifstream in(std::string(ACM_SOURCE_DIR) + "/tests/fuzz/regressions/learned_templates/format-3-with-recent-pairs",
                   std::ios::binary);
  REQUIRE(in);
  const std::string v3((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(v3.size() > 24);
  REQUIRE(v3[8] == 3);
  Learner l = Learner::load(v3);
  CHECK(l.options().recent_times == 0);
  CHECK(l.options().time_min_leaf_share == 0.0);
  REQUIRE(l.stats().trained_on > 0);
  // It answers (its models read no recent-duration column), and round-trips as format 4.
  Trace empty;
  empty.id = "new";
  const auto next = l.next_steps(empty, 3);
  REQUIRE_FALSE(next.empty());
  const Completion done = l.completion(empty);
  const std::string v4 = l.save();
  CHECK(v4[8] == 4);
  Learner again = Learner::load(v4);
  CHECK(again.save() == v4);
  CHECK(again.options().recent_times == 0);
  const auto next_again = again.next_steps(empty, 3);
  REQUIRE(next_again.size() == next.size());
  for (std::size_t i = 0; i < next.size(); ++i) {
    CHECK(next_again[i].activity == next[i].activity);
    CHECK(next_again[i].probability == next[i].probability);
  }
  CHECK(again.completion(empty).quantiles.size() == done.quantiles.size());
}

TEST_CASE("import_file reads the header first: a foreign endless file is refused at once") {
  CHECK_THROWS_WITH_AS(Learner::import_file("/dev/zero"), doctest::Contains("bad magic"), Error);
  char tmpl[] = "/tmp/acm-learn-XXXXXX";
  const std::filesystem::path dir = mkdtemp(tmpl);
  const std::string good = trained_branching().save();
  {
    std::ofstream out(dir / "big.acmt", std::ios::binary);
    std::string header = good.substr(0, 24);
    put_u64(header, 12, std::uint64_t{1} << 50);  // announces a petabyte
    out << header << "tiny";
  }
  CHECK_THROWS_WITH_AS(Learner::import_file(dir / "big.acmt"), doctest::Contains("more than the limit"), Error);
  {
    std::ofstream out(dir / "short.acmt", std::ios::binary);
    out << good.substr(0, good.size() - 10);
  }
  CHECK_THROWS_WITH_AS(Learner::import_file(dir / "short.acmt"), doctest::Contains("truncated"), Error);
  std::filesystem::remove_all(dir);
}
