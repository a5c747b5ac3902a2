// SPDX-License-Identifier: Apache-2.0
// Learned templates: boosted trees, next steps, completion, plan suggestion, fragment capture,
// persistence (bytes, files, SQLite templates) and the engine link.
#include "learn/gbdt.hpp"
#include "learn_support.hpp"
#include "support.hpp"

#include <acm/learn.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <unistd.h>

using namespace acm;
using namespace acm::learn;
using acm::test::t;
using acm::test::branching_log;
using acm::test::prefix_of;
using acm::test::step;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/acm-learn-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("boosted trees separate classes and their contributions add up to the score") {
  using namespace acm::learn::gbdt;
  // Class = (category == 2) XOR (x > 5): needs a categorical and a numeric split together.
  std::mt19937 rng(7);
  Matrix m;
  m.cols = 2;
  std::vector<int> y;
  for (int i = 0; i < 600; ++i) {
    const int cat = static_cast<int>(rng() % 4);
    const float x = static_cast<float>(rng() % 20) / 2.0f;  // few distinct values: exact cuts
    m.values.push_back(static_cast<float>(cat));
    m.values.push_back(x);
    ++m.rows;
    y.push_back(((cat == 2) != (x > 5)) ? 1 : 0);
  }
  std::vector<FeatureSpec> f = {{"cat", FeatureKind::categorical, 4}, {"x", FeatureKind::numeric, 0}};
  Ensemble e = train_softmax(m, y, 2, f, Params{.rounds = 30, .max_depth = 3, .eta = 0.3});
  std::size_t hits = 0;
  for (std::size_t r = 0; r < m.rows; ++r) {
    float s[2];
    e.predict(m.row(r), s);
    hits += (s[1] > s[0] ? 1 : 0) == y[r];
    for (int k = 0; k < 2; ++k) {
      std::vector<float> c = e.contributions(m.row(r), k);
      float sum = 0;
      for (float v : c) sum += v;
      CHECK(sum == doctest::Approx(s[k]).epsilon(1e-4));
    }
  }
  CHECK(hits == m.rows);
  CHECK_THROWS_AS(train_softmax(Matrix{}, {}, 2, {}, Params{}), Error);
}

TEST_CASE("quantile regression follows the spread of the targets") {
  using namespace acm::learn::gbdt;
  // y = 10 * x + uniform noise in [0, 10).
  std::mt19937 rng(11);
  Matrix m;
  m.cols = 1;
  std::vector<float> y;
  for (int i = 0; i < 4000; ++i) {
    const float x = static_cast<float>(i % 4);
    m.values.push_back(x);
    ++m.rows;
    y.push_back(10 * x + static_cast<float>(rng() % 10000) / 1000.0f);
  }
  std::vector<FeatureSpec> f = {{"x", FeatureKind::numeric, 0}};
  Params p{.rounds = 80, .max_depth = 2, .eta = 0.2};
  Ensemble q10 = train_quantile(m, y, 0.1, f, p), q50 = train_quantile(m, y, 0.5, f, p),
           q90 = train_quantile(m, y, 0.9, f, p);
  for (float x : {0.0f, 3.0f}) {
    float a = 0, b = 0, c = 0;
    q10.predict(std::span<const float>(&x, 1), std::span<float>(&a, 1));
    q50.predict(std::span<const float>(&x, 1), std::span<float>(&b, 1));
    q90.predict(std::span<const float>(&x, 1), std::span<float>(&c, 1));
    CHECK(std::abs(a - (10 * x + 1)) < 0.5);
    CHECK(std::abs(b - (10 * x + 5)) < 0.5);
    CHECK(std::abs(c - (10 * x + 9)) < 0.5);
  }
  CHECK_THROWS_AS(train_quantile(m, y, 1.5, f, p), Error);
}

TEST_CASE("next steps: ranked, with support, matched prefix and evidence") {
  Learner l;
  std::vector<Trace> log = branching_log();
  for (const Trace& tr : log) l.add(tr);
  const Trace running = prefix_of(log[1], 2);  // A, B on the phone

  SUBCASE("from the count tables before training") {
    auto next = l.next_steps(running);
    REQUIRE(next.size() == 2);
    CHECK(next[0].activity == "C");
    CHECK(next[0].probability == doctest::Approx(0.8));
    CHECK(next[0].support == 80);
    CHECK(next[1].activity == "D");
    CHECK(next[1].support == 20);
    CHECK(next[0].matched == 2);
  }
  SUBCASE("from the boosted model, which also reads the attributes") {
    l.train();
    auto next = l.next_steps(running, 3);
    REQUIRE(next.size() == 3);
    CHECK(next[0].activity == "C");
    CHECK(next[0].probability > 0.9);  // the phone channel says C
    CHECK(next[0].support == 80);
    REQUIRE_FALSE(next[0].evidence.empty());
    bool channel = false;
    for (const Evidence& e : next[0].evidence) channel |= e.feature == "attribute channel" && e.value == "channel is phone";
    CHECK(channel);
    auto mail = l.next_steps(prefix_of(log[0], 2), 1);  // log[0] went by mail
    CHECK(mail[0].activity == "D");
    // After the last step the case ends.
    auto end = l.next_steps(log[1], 1);
    CHECK(end[0].activity.empty());
    CHECK(l.next_steps(log[1], 1, false)[0].activity != "");
  }
  SUBCASE("an unseen prefix backs off to its latest steps") {
    Trace odd;
    odd.steps = {step("X", "2026-01-05T09:00:00Z"), step("A", "2026-01-05T09:30:00Z")};
    auto next = l.next_steps(odd, 1);
    REQUIRE(next.size() == 1);
    CHECK(next[0].activity == "B");
    CHECK(next[0].matched == 1);
  }
}

TEST_CASE("completion: quantiles in order, the median per path, never before now") {
  Learner l;
  std::vector<Trace> log = branching_log();
  for (const Trace& tr : log) l.add(tr);
  SUBCASE("untrained: typical duration minus elapsed") {
    Completion c = l.completion(prefix_of(log[1], 1));
    CHECK(c.remaining > std::chrono::hours(24));
    CHECK(c.support == 100);
  }
  l.train();
  Completion phone = l.completion(prefix_of(log[1], 2));
  Completion mail = l.completion(prefix_of(log[0], 2));
  REQUIRE(phone.quantiles.size() == 3);
  CHECK(phone.quantiles[0].second <= phone.quantiles[1].second);
  CHECK(phone.quantiles[1].second <= phone.quantiles[2].second);
  // B -> C takes 24 h, B -> D 120 h.
  CHECK(std::abs(std::chrono::duration<double, std::ratio<3600>>(phone.remaining).count() - 24) < 3);
  CHECK(std::abs(std::chrono::duration<double, std::ratio<3600>>(mail.remaining).count() - 120) < 12);
  CHECK(phone.expected == log[1].steps[1].time + phone.remaining);
  const TimePoint later = t("2026-03-01T00:00:00Z");
  CHECK(l.completion(prefix_of(log[1], 2), later).expected == later);
  CHECK_FALSE(phone.evidence.empty());
}

TEST_CASE("plan suggestion: the usual sequence of the most similar cases") {
  Learner l;
  auto add = [&](std::string id, std::string type, Attributes a, std::vector<std::string> acts) {
    Trace tr{std::move(id), std::move(type), std::move(a), {}};
    int h = 9;
    for (auto& s : acts) tr.steps.push_back(Step{s, t("2026-01-05T00:00:00Z") + std::chrono::hours(h++), "", false, {}});
    l.add(std::move(tr));
  };
  for (int i = 0; i < 6; ++i) add("g" + std::to_string(i), "complaint", {{"tier", "gold"}}, {"triage", "refund", "close"});
  for (int i = 0; i < 2; ++i) add("h" + std::to_string(i), "complaint", {{"tier", "gold"}}, {"triage", "close"});
  for (int i = 0; i < 9; ++i) add("s" + std::to_string(i), "complaint", {{"tier", "silver"}}, {"triage", "repair", "close"});
  for (int i = 0; i < 9; ++i) add("o" + std::to_string(i), "question", {{"tier", "gold"}}, {"answer"});

  auto gold = l.suggest_plan("complaint", {{"tier", "gold"}});
  REQUIRE(gold.size() == 2);
  CHECK(gold[0].steps == std::vector<std::string>{"triage", "refund", "close"});
  CHECK(gold[0].support == 6);
  CHECK(gold[0].share == doctest::Approx(0.75));
  CHECK(gold[0].median_duration == std::chrono::hours(2));
  CHECK(gold[0].matched == Attributes{{"tier", "gold"}});
  CHECK(gold[0].examples.size() == 5);
  auto silver = l.suggest_plan("complaint", {{"tier", "silver"}}, 1);
  REQUIRE(silver.size() == 1);
  CHECK(silver[0].steps == std::vector<std::string>{"triage", "repair", "close"});
  // Nobody is "bronze": every complaint is equally similar; the most common plan wins.
  auto bronze = l.suggest_plan("complaint", {{"tier", "bronze"}}, 1);
  CHECK(bronze[0].steps == std::vector<std::string>{"triage", "repair", "close"});
  CHECK(bronze[0].matched.empty());
  CHECK(l.suggest_plan("unknown type", {}).empty());
}

TEST_CASE("fragment capture: recurring ad-hoc runs become a proposed fragment with an order graph") {
  Learner l(LearnerOptions{.capture_min_cases = 3});
  for (int i = 0; i < 4; ++i) {
    Trace tr;
    tr.id = "k" + std::to_string(i);
    // "check warranty" always first; "order part" and "book courier" in either order.
    const bool swap = i % 2 == 1;
    tr.steps = {step("triage", "2026-01-05T09:00:00Z"), step("check warranty", "2026-01-05T10:00:00Z", true),
                step(swap ? "book courier" : "order part", "2026-01-05T12:00:00Z", true),
                step(swap ? "order part" : "book courier", "2026-01-05T13:00:00Z", true),
                step("close", "2026-01-06T09:00:00Z")};
    l.add(std::move(tr));
  }
  // Ad-hoc work seen only twice is not proposed.
  for (int i = 0; i < 2; ++i) {
    Trace tr;
    tr.id = "z" + std::to_string(i);
    tr.steps = {step("call lawyer", "2026-01-05T09:00:00Z", true), step("write letter", "2026-01-05T10:00:00Z", true)};
    l.add(std::move(tr));
  }
  auto proposals = l.fragment_proposals();
  REQUIRE(proposals.size() == 1);
  const FragmentProposal& p = proposals[0];
  CHECK(p.tasks.front() == "check warranty");
  CHECK(p.tasks.size() == 3);
  using Edge = std::pair<std::string, std::string>;
  const bool either = p.order == std::vector<Edge>{{"check warranty", "book courier"}, {"check warranty", "order part"}} ||
                      p.order == std::vector<Edge>{{"check warranty", "order part"}, {"check warranty", "book courier"}};
  CHECK(either);
  CHECK(p.cases == std::vector<std::string>{"k0", "k1", "k2", "k3"});
  CHECK(p.estimates[0] == std::chrono::hours(1));

  // Approving it: the definition registers and runs like any other fragment.
  acm::test::EngineFixture fx;
  FragmentDef def = p.definition();
  fx.engine->register_fragment(fx.admin, def);
  const std::string id = fx.engine->create_case(fx.admin, NewCase{}).created;
  fx.engine->add_fragment(fx.admin, id, FragmentUse{def.id});
  CaseInfo c = fx.engine->get_case(id);
  std::size_t tasks = 0;
  for (const PlanItemInfo& it : c.items) tasks += it.kind == ItemKind::human_task;
  CHECK(tasks == 3);
}

TEST_CASE("a learner survives save and load, damaged or foreign bytes are refused") {
  Learner l;
  for (const Trace& tr : branching_log()) l.add(tr);
  l.train();
  const Trace running = prefix_of(branching_log()[3], 2);
  const std::string bytes = l.save();
  Learner back = Learner::load(bytes);
  auto a = l.next_steps(running, 3), b = back.next_steps(running, 3);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].activity == b[i].activity);
    CHECK(a[i].probability == b[i].probability);
    CHECK(a[i].support == b[i].support);
  }
  CHECK(l.completion(running).remaining == back.completion(running).remaining);
  CHECK(back.stats().traces == 100);
  CHECK(back.stats().model_version == 1);

  std::string damaged = bytes;
  damaged[damaged.size() / 2] ^= 0x40;
  CHECK_THROWS_WITH_AS(Learner::load(damaged), doctest::Contains("checksum"), Error);
  CHECK_THROWS_WITH_AS(Learner::load(bytes.substr(0, bytes.size() - 7)), doctest::Contains("truncated"), Error);
  CHECK_THROWS_WITH_AS(Learner::load("SQLite format 3\0 and more bytes here"), doctest::Contains("bad magic"), Error);
  std::string newer = bytes;
  newer[8] = 9;
  CHECK_THROWS_WITH_AS(Learner::load(newer), doctest::Contains("newer"), Error);

  TempDir dir;
  const auto file = dir.path / "helpdesk.acmt";
  l.export_file(file);
  CHECK(Learner::import_file(file).next_steps(running, 1)[0].activity == a[0].activity);
  {
    std::ofstream out(dir.path / "foreign.acmt", std::ios::binary);
    out << "PK\x03\x04 not ours";
  }
  CHECK_THROWS_WITH_AS(Learner::import_file(dir.path / "foreign.acmt"), doctest::Contains("foreign.acmt"), Error);
  try {
    Learner::import_file(dir.path / "missing.acmt");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::not_found);
  }
}

TEST_CASE("templates live in the SQLite store, versioned, and survive a reopen") {
  TempDir dir;
  const std::string db = (dir.path / "acm.db").string();
  Learner l;
  for (const Trace& tr : branching_log()) l.add(tr);
  l.train();
  const Trace running = prefix_of(branching_log()[1], 2);
  {
    auto engine = Engine::open(EngineOptions{.database = db});
    CHECK(save_template(*engine, "helpdesk", l) == 1);
    l.add(branching_log()[0]);
    CHECK(save_template(*engine, "helpdesk", l) == 2);
    engine->templates().put("other", "notes", Json::object(), "x");
  }
  auto engine = Engine::open(EngineOptions{.database = db});
  auto list = engine->templates().list();
  REQUIRE(list.size() == 3);
  CHECK(list[0].name == "helpdesk");
  CHECK(list[1].version == 2);
  CHECK(list[1].meta["traces"] == 101);
  Learner v1 = load_template(*engine, "helpdesk", 1);
  Learner latest = load_template(*engine, "helpdesk");
  CHECK(v1.stats().traces == 100);
  CHECK(latest.stats().traces == 101);
  CHECK(latest.next_steps(running, 1)[0].activity == "C");
  CHECK_THROWS_WITH_AS(load_template(*engine, "other"), doctest::Contains("not a learner"), Error);
  try {
    load_template(*engine, "nope");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::not_found);
  }
}

TEST_CASE("retrain_every refits the models as cases arrive") {
  Learner l(LearnerOptions{.retrain_every = 40});
  std::vector<Trace> log = branching_log();
  for (int i = 0; i < 39; ++i) l.add(log[static_cast<std::size_t>(i)]);
  CHECK(l.stats().model_version == 0);
  l.add(log[39]);
  CHECK(l.stats().model_version == 1);
  CHECK(l.stats().trained_on == 40);
  for (int i = 40; i < 80; ++i) l.add(log[static_cast<std::size_t>(i)]);
  CHECK(l.stats().model_version == 2);
}

TEST_CASE("the engine's closed cases feed the learner, ad-hoc work and fragments included") {
  acm::test::EngineFixture fx;
  fx.load("examples/definitions/helpdesk.json");
  Learner learner;
  learn_on_close(*fx.engine, learner);
  const Actor& a = fx.admin;
  for (int i = 0; i < 3; ++i) {
    NewCase nc;
    nc.subject.customer = "cust-" + std::to_string(i);
    nc.subject.attributes = {{"tier", "gold"}, {"value", 12000}};
    const std::string id = fx.engine->create_case(a, nc).created;
    const std::string x = fx.engine->add_task(a, id, AdHocTask{.name = "check warranty"}).created;
    const std::string y = fx.engine->add_task(a, id, AdHocTask{.name = "order part"}).created;
    fx.clock->advance(std::chrono::minutes(30));
    fx.engine->complete_item(a, id, x);
    fx.clock->advance(std::chrono::minutes(30));
    fx.engine->complete_item(a, id, y);
    fx.engine->complete_case(a, id);
  }
  CHECK(learner.stats().traces == 3);
  const std::string open = fx.engine->create_case(a, NewCase{}).created;
  CHECK(learn_from_engine(*fx.engine, learner) == 3);  // the open case is not learned from
  CaseInfo first = fx.engine->get_case("case-1");
  Trace tr = trace_of(first, fx.engine->history("case-1"));
  REQUIRE(tr.steps.size() == 2);
  CHECK(tr.steps[0].activity == "check warranty");
  CHECK(tr.steps[0].ad_hoc);
  CHECK(tr.steps[1].time - tr.steps[0].time == std::chrono::minutes(30));
  CHECK(tr.attributes == Attributes{{"tier", "gold"}, {"value", "12000"}});
  Learner fresh(LearnerOptions{.capture_min_cases = 3});
  learn_from_engine(*fx.engine, fresh);
  auto proposals = fresh.fragment_proposals();
  REQUIRE(proposals.size() == 1);
  CHECK(proposals[0].tasks == std::vector<std::string>{"check warranty", "order part"});
  (void)open;
}

TEST_CASE("a learned forecast turns a goal at risk early and tracks a promise") {
  // Past cases: "triage", then "fix" five days later.
  auto learner = std::make_shared<Learner>(LearnerOptions{.next_rounds = 10, .time_rounds = 20});
  for (int i = 0; i < 30; ++i) {
    Trace tr;
    tr.id = "p" + std::to_string(i);
    tr.steps = {step("triage", "2026-01-05T09:00:00Z"), step("fix", "2026-01-10T09:00:00Z")};
    learner->add(std::move(tr));
  }
  learner->train();
  auto clock = std::make_shared<ManualClock>(t("2026-11-23T09:00:00Z"));
  EngineOptions o;
  o.clock = clock;
  o.forecaster = forecaster(learner);
  auto engine = Engine::open(o);
  const Actor a{"root", {"admin"}};
  const std::string c = engine->create_case(a, NewCase{}).created;
  GoalSpec g{.id = "sla"};
  g.within = std::chrono::hours(48);
  engine->add_goal(a, c, g);
  const std::string task = engine->add_task(a, c, AdHocTask{.name = "triage"}).created;
  CHECK(engine->get_case(c).goals[0].timing == Timing::on_track);  // nothing done yet: no evidence
  engine->complete_item(a, c, task);
  // After triage the learner expects five more days: the 48-hour goal is at risk now, although
  // no remaining work is estimated in the plan.
  CaseInfo info = engine->get_case(c);
  CHECK(info.goals[0].remaining_work == Duration{0});
  CHECK(info.goals[0].timing == Timing::at_risk);
  engine->make_promise(a, c, PromiseSpec{"p", "fixed this week", t("2026-11-30T09:00:00Z")});
  info = engine->get_case(c);
  REQUIRE(info.promises.size() == 1);
  CHECK(info.promises[0].timing == Timing::on_track);
  REQUIRE(info.promises[0].expected.has_value());
  CHECK(std::abs(std::chrono::duration<double, std::ratio<86400>>(*info.promises[0].expected - t("2026-11-23T09:00:00Z")).count() - 5) < 0.5);
}
