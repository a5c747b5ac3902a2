// SPDX-License-Identifier: Apache-2.0
// tests/helpdesk/test_routing.cpp - ranking agents by skill, load, availability, performance.
#include <acm/routing.hpp>

#include "support.hpp"

using namespace acm;
using namespace acm::helpdesk;
using namespace std::chrono_literals;

namespace {

const Json kDefinitions = Json::parse(R"({
  "fragments": [{
    "id": "support",
    "items": [
      {"id": "billing_fix", "kind": "human_task", "role": "agent", "skills": ["billing"], "estimate": "1h"},
      {"id": "network_fix", "kind": "human_task", "role": "agent", "skills": ["network", "hardware"]},
      {"id": "review", "kind": "human_task", "role": "expert"}
    ]
  }],
  "case_types": [{"id": "ticket", "initial_fragments": ["support"]}]
})");

constexpr const char* kBilling = "support#1/billing_fix";
constexpr const char* kNetwork = "support#1/network_fix";

struct RoutingFixture : test::EngineFixture {
  RoutingFixture() { engine->load_definitions(admin, kDefinitions); }
  std::string ticket() {
    NewCase spec;
    spec.type = "ticket";
    spec.title = "ticket";
    return engine->create_case(admin, spec).created;
  }
  void give(const std::string& agent, const std::string& case_id, const std::string& item) {
    engine->add_participant(admin, case_id, {agent, {"agent"}});
    engine->assign_item(admin, case_id, item, agent);
  }
};

std::vector<Agent> roster() {
  return {
      {"ann", {"agent"}, {{"billing", 0.9}}, 3, true, {}},
      {"bob", {"agent"}, {{"billing", 0.3}, {"network", 1.0}, {"hardware", 0.6}}, 3, true, {}},
      {"cid", {"expert"}, {{"billing", 1.0}}, 3, true, {}},
  };
}

const RouteTerm& term(const RouteSuggestion& s, const std::string& name) {
  for (const auto& t : s.terms)
    if (t.name == name) return t;
  FAIL("no term " << name);
  return s.terms.front();
}

RoutingOptions only(double skill, double load, double availability, double performance) {
  RoutingOptions o;
  o.weights = {skill, load, availability, performance};
  return o;
}

}  // namespace

TEST_SUITE("routing") {
  TEST_CASE("skill match ranks, every term is explained, agents without the role are excluded") {
    RoutingFixture f;
    auto id = f.ticket();
    Router router(*f.engine, roster());
    auto s = router.suggest(id, kBilling);
    REQUIRE(s.size() == 2);  // cid is an expert, not an agent
    CHECK(s[0].agent == "ann");
    CHECK(s[1].agent == "bob");
    CHECK(s[0].score > s[1].score);
    const auto& skill = term(s[0], "skill");
    CHECK(skill.value == doctest::Approx(0.9));
    CHECK(skill.weight == doctest::Approx(0.4));
    CHECK(skill.contribution == doctest::Approx(0.36));
    CHECK(skill.detail == "billing 0.90");
    double sum = 0;
    for (const auto& t : s[0].terms) sum += t.contribution;
    CHECK(s[0].score == doctest::Approx(sum));
    CHECK(term(s[0], "load").detail == "0 of 3 open items");
    CHECK(term(s[0], "availability").value == 1.0);
    CHECK(term(s[0], "performance").value == 0.5);  // nothing learned yet: neutral
    CHECK(term(s[0], "performance").detail == "no completions of support/billing_fix yet");

    // Network needs two skills: bob has 1.0 and 0.6, ann none.
    auto n = router.suggest(id, kNetwork);
    CHECK(n[0].agent == "bob");
    CHECK(term(n[0], "skill").value == doctest::Approx(0.8));
    CHECK(term(n[1], "skill").value == 0.0);
    CHECK(term(n[1], "skill").detail == "network missing, hardware missing");

    // Asked for: the excluded agent, last, with the reason and no score.
    auto all = router.suggest(id, kBilling, 10, true);
    REQUIRE(all.size() == 3);
    CHECK(all[2].agent == "cid");
    CHECK(all[2].excluded);
    CHECK(all[2].reason == "lacks the role 'agent'");
    CHECK(all[2].score == 0.0);
    // limit
    CHECK(router.suggest(id, kBilling, 1).size() == 1);
    // Unknown item.
    CHECK_THROWS_AS(router.suggest(id, "nope"), Error);
  }

  TEST_CASE("load: open items from the read model lower the rank, at capacity is flagged") {
    RoutingFixture f;
    Router router(*f.engine, roster(), only(0.5, 0.5, 0, 0));
    // ann takes two billing items elsewhere, one short of her capacity of 3.
    for (int i = 0; i < 2; ++i) {
      auto other = f.ticket();
      f.give("ann", other, kBilling);
    }
    auto id = f.ticket();
    auto s = router.suggest(id, kBilling);
    auto& ann = s[0].agent == "ann" ? s[0] : s[1];
    auto& bob = s[0].agent == "bob" ? s[0] : s[1];
    CHECK(term(ann, "load").value == doctest::Approx(1.0 / 3));
    CHECK(term(ann, "load").detail == "2 of 3 open items");
    CHECK(ann.has_capacity);
    // ann: 0.5*0.9 + 0.5*(1/3) = 0.617; bob: 0.5*0.3 + 0.5*1 = 0.65
    CHECK(s[0].agent == "bob");
    CHECK(bob.score == doctest::Approx(0.65));
    // A third item: ann is at capacity.
    f.give("ann", f.ticket(), kBilling);
    s = router.suggest(id, kBilling);
    for (const auto& x : s)
      if (x.agent == "ann") {
        CHECK_FALSE(x.has_capacity);
        CHECK(term(x, "load").value == 0.0);
      }
    // The item itself, once assigned to ann, does not count against her.
    Router roomy(*f.engine, {{"ann", {"agent"}, {{"billing", 0.9}}, 10, true, {}}}, only(0, 1, 0, 0));
    f.give("ann", id, kBilling);
    CHECK(term(roomy.suggest(id, kBilling)[0], "load").detail == "3 of 10 open items");
  }

  TEST_CASE("availability: away agents and agents outside their windows rank lower") {
    RoutingFixture f;
    auto id = f.ticket();
    auto agents = roster();
    agents[0].available = false;  // ann away
    RoutingOptions o;
    o.weights.availability = 0.5;
    Router router(*f.engine, agents, o);
    auto s = router.suggest(id, kBilling);
    // bob: 0.4*0.3 + 0.25 + 0.5 + 0.2*0.5 = 0.97 > ann: 0.4*0.9 + 0.25 + 0 + 0.1 = 0.71 (both / 1.35)
    CHECK(s[0].agent == "bob");
    CHECK(s[0].score == doctest::Approx(0.97 / 1.35));
    CHECK_FALSE(s[1].available);
    CHECK(term(s[1], "availability").detail == "away");
    // Windows: ann works 08:00-12:00 today (now is 09:00), bob only tomorrow.
    agents[0].available = true;
    agents[0].windows = {{test::t("2026-11-23T08:00:00Z"), test::t("2026-11-23T12:00:00Z")}};
    agents[1].windows = {{test::t("2026-11-24T08:00:00Z"), test::t("2026-11-24T12:00:00Z")}};
    router.set_roster(agents);
    s = router.suggest(id, kNetwork);
    for (const auto& x : s) {
      if (x.agent == "ann") CHECK(x.available);
      if (x.agent == "bob") {
        CHECK_FALSE(x.available);
        CHECK(term(x, "availability").detail == "outside availability windows");
      }
    }
    // At 13:00 ann's window has closed too.
    f.clock->advance(4h);
    for (const auto& x : router.suggest(id, kNetwork)) CHECK_FALSE(x.available);
  }

  TEST_CASE("performance: learned from completed tasks, shrunk while there are few") {
    RoutingFixture f;
    Router router(*f.engine, roster(), only(0, 0, 0, 1));
    // bob completes two billing items in 2h each, ann two in 30m each.
    const std::pair<const char*, Duration> work[] = {{"bob", 2h}, {"ann", 30min}, {"bob", 2h}, {"ann", 30min}};
    for (auto [agent, took] : work) {
      auto id = f.ticket();
      f.give(agent, id, kBilling);
      f.clock->advance(took);
      f.engine->complete_item(f.admin, id, kBilling);
    }
    auto ann = router.performance("ann", "support/billing_fix");
    CHECK(ann.completed == 2);
    CHECK(ann.median == 30min);
    CHECK(router.performance("bob", "support/billing_fix").median == 2h);
    auto id = f.ticket();
    auto s = router.suggest(id, kBilling);
    CHECK(s[0].agent == "ann");
    const auto& p = term(s[0], "performance");
    // everyone's median: (30m + 2h) / 2 = 75m; raw = 75 / (75 + 30) = 0.714; shrink 2 / (2 + 3)
    CHECK(p.value == doctest::Approx(0.5 + 0.4 * (75.0 / 105.0 - 0.5)));
    CHECK_MESSAGE(p.detail.rfind("median 30m over 2 completions (everyone: ", 0) == 0, p.detail);
    CHECK(term(s[1], "performance").value < 0.5);
    // Other kinds of work are not affected.
    CHECK(term(router.suggest(id, kNetwork)[0], "performance").value == 0.5);

    // A second router learns the same from the cases' state.
    Router fresh(*f.engine, roster(), [] {
      auto o = only(0, 0, 0, 1);
      o.learn_online = false;
      return o;
    }());
    CHECK(fresh.learn_from_cases(f.engine->list_cases()) == 4);
    CHECK(fresh.learn_from_cases(f.engine->list_cases()) == 0);  // not counted twice
    CHECK(fresh.performance("ann", "support/billing_fix").completed == 2);
    CHECK(fresh.suggest(id, kBilling)[0].agent == "ann");
  }

  TEST_CASE("auto-assignment: the best available agent with capacity, as a participant") {
    RoutingFixture f;
    auto agents = roster();
    agents[0].capacity = 1;
    Router router(*f.engine, agents);
    auto id = f.ticket();
    CHECK(router.auto_assign(id, kBilling) == "ann");
    auto c = f.engine->get_case(id);
    CHECK(f.item(c, kBilling).assignee == "ann");
    bool participant = false;
    for (const auto& p : c.participants)
      if (p.actor == "ann") participant = std::find(p.roles.begin(), p.roles.end(), "agent") != p.roles.end();
    CHECK(participant);
    CHECK(f.engine->queue({.assignee = "ann"}).size() == 1);
    // ann is now full: the next billing item goes to bob.
    auto id2 = f.ticket();
    CHECK(router.auto_assign(id2, kBilling) == "bob");
    // Nobody for the expert review when the only expert is away.
    agents[2].available = false;
    router.set_roster(agents);
    CHECK_FALSE(router.auto_assign(id2, "support#1/review").has_value());
    CHECK(f.item(f.engine->get_case(id2), "support#1/review").assignee.empty());
  }

  TEST_CASE("auto-assignment on activation") {
    RoutingFixture f;
    RoutingOptions o;
    o.auto_assign_on_activation = true;
    Router router(*f.engine, roster(), o);
    auto id = f.ticket();
    auto c = f.engine->get_case(id);
    CHECK(f.item(c, kBilling).assignee == "ann");
    CHECK(f.item(c, kNetwork).assignee == "bob");
    CHECK(f.item(c, "support#1/review").assignee == "cid");
  }

  TEST_CASE("roster and weights are checked") {
    RoutingFixture f;
    CHECK_THROWS_AS((Router(*f.engine, {{"", {}, {}, 1, true, {}}})), Error);
    CHECK_THROWS_AS((Router(*f.engine, {{"a", {}, {}, 0, true, {}}})), Error);
    CHECK_THROWS_AS((Router(*f.engine, {{"a", {}, {{"x", 1.5}}, 1, true, {}}})), Error);
    CHECK_THROWS_AS((Router(*f.engine, {{"a", {}, {}, 1, true, {}}, {"a", {}, {}, 1, true, {}}})), Error);
    CHECK_THROWS_AS((Router(*f.engine, {{"a", {}, {}, 1, true, {{test::t("2026-11-24"), test::t("2026-11-23")}}}})),
                    Error);
    CHECK_THROWS_AS((Router(*f.engine, roster(), only(0, 0, 0, 0))), Error);
    CHECK_THROWS_AS((Router(*f.engine, roster(), only(-1, 1, 0, 0))), Error);
  }
}
