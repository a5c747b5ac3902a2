// SPDX-License-Identifier: Apache-2.0
#include "demo.hpp"
#include "cli.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <acm/learn.hpp>

#include <fstream>
#include <iostream>

using namespace acm;
using namespace std::chrono_literals;

namespace acm_cli {

namespace {

/// An ISO-8601 duration from an event payload, for people ("59m 59s").
std::string for_people(const std::string& iso) {
  try {
    return human_duration(parse_duration(iso));
  } catch (const Error&) {
    return iso;
  }
}

}  // namespace

std::string describe(const Event& e) {
  const Json& p = e.payload;
  auto s = [&](const char* k) { return p.contains(k) && p[k].is_string() ? p[k].get<std::string>() : std::string(); };
  const std::string& k = e.kind;
  if (k == "case_created")
    return fmt::format("case opened: \"{}\" for customer {} (owner {}, priority {})", s("title"),
                       p["subject"].value("customer", "?"), s("owner"), p.value("priority", 0));
  if (k == "goal_added")
    return fmt::format("goal \"{}\" due {}", p["goal"].value("name", p["goal"].value("id", "")), s("deadline"));
  if (k == "fragment_added")
    return fmt::format("fragment {} v{} assembled into the plan as {}", s("fragment"), p.value("version", 0),
                       s("item"));
  if (k == "task_added") return fmt::format("ad-hoc task {} \"{}\"", s("item"), p["task"].value("name", ""));
  if (k == "item_transition") {
    std::string extra = p.contains("error") ? " (" + s("error") + ")" : "";
    return fmt::format("{:<42} {} -> {}{}", s("item"), s("from"), s("to"), extra);
  }
  if (k == "item_assigned") return fmt::format("{} assigned to {}", s("item"), s("to").empty() ? "nobody" : s("to"));
  if (k == "participant_added") return fmt::format("{} joins the case as {}", s("actor"), p["roles"].dump());
  if (k == "file_set") return fmt::format("case file {} = {}", s("path"), p["value"].dump());
  if (k == "goal_timing")
    return fmt::format("goal {} is {} (deadline {}, remaining work {})", s("goal"), s("to"), s("deadline"),
                       for_people(s("remaining_work")));
  if (k == "goal_status") return fmt::format("goal {} {}", s("goal"), s("to"));
  if (k == "case_status")
    return fmt::format("case {} -> {}{}", s("from"), s("to"), p.contains("reason") ? " (" + s("reason") + ")" : "");
  if (k == "item_overdue") return fmt::format("{} is overdue", s("item"));
  if (k == "asset_attached")
    return fmt::format("{} attached: {}", p["asset"].value("kind", ""), p["asset"].value("title", ""));
  if (k == "signal") return fmt::format("event {} received", s("name"));
  if (k == "priority_changed") return fmt::format("priority {} -> {}", p["from"].dump(), p["to"].dump());
  return fmt::format("{} {}", k, p.dump());
}

namespace {

void say(const std::string& text) { std::cout << "\n  >> " << text << "\n"; }

/// Plays one more complaint to its end, quickly: a hardware fault goes to the supplier, a
/// software fault only needs a call; some are escalated.
void play_past_case(Engine& engine, ManualClock& clock, int n) {
  const Actor admin{"intake", {"admin"}};
  const bool hardware = n % 3 != 2, escalated = n % 4 == 0;
  NewCase spec;
  spec.type = "complaint";
  spec.title = fmt::format("Past complaint {}", n + 1);
  spec.subject.customer = fmt::format("cust-{}", 100 + n);
  spec.subject.attributes = {{"channel", n % 2 ? "email" : "twitter"}, {"product", hardware ? "laptop" : "app"}};
  spec.owner = "alice";
  spec.participants = {{"bob", {"agent"}}, {"acme", {"supplier"}}, {"lena", {"team_lead"}}};
  const std::string id = engine.create_case(admin, spec).created;
  clock.advance(std::chrono::minutes(15 + 5 * (n % 4)));
  engine.complete_item(admin, id, "diagnosis#1/triage");
  clock.advance(std::chrono::minutes(90 + 10 * n));
  engine.set_file(admin, id, "diagnosis.fault", hardware ? "hardware" : "software");
  engine.complete_item(admin, id, "diagnosis#1/diagnose");
  if (hardware) {
    const std::string stage =
        engine.add_fragment(admin, id, {"supplier_repair", 0, "resolved", {{"supplier", "acme"}}}).created;
    clock.advance(std::chrono::hours(1));
    engine.complete_item(admin, id, stage + "/ship_to_supplier");
    clock.advance(std::chrono::hours(16 + 2 * (n % 5)));
    if (escalated) {
      const std::string esc = engine.add_fragment(admin, id, {"escalation", 0, "resolved", Json::object()}).created;
      engine.complete_item(admin, id, esc + "/review_by_lead");
    }
    engine.complete_item(admin, id, stage + "/repair");
    clock.advance(std::chrono::hours(3));
    engine.complete_item(admin, id, stage + "/return_to_customer");
  }
  const std::string follow =
      engine.add_fragment(admin, id, {"customer_followup", 0, "resolved", Json::object()}).created;
  engine.start_item(admin, id, follow + "/call_customer");
  clock.advance(std::chrono::minutes(20));
  engine.complete_item(admin, id, follow + "/call_customer");
  engine.occur(admin, id, follow + "/customer_confirmed");
  engine.set_file(admin, id, "resolution", {{"confirmed", true}});
  if (engine.get_case(id).status == CaseStatus::active) engine.complete_case(admin, id);
  engine.close_case(admin, id);
  clock.advance(std::chrono::hours(2));
}

/// The end of the story: more complaints run to closure, a learner is trained on every
/// closed case of the store, and a new similar complaint gets next-step recommendations
/// with their evidence.
void recommend_from_history(Engine& engine, ManualClock& clock, bool json) {
  if (!json) say("more complaints like this one are handled over the next days (12 cases, not shown).");
  for (int n = 0; n < 12; ++n) play_past_case(engine, clock, n);
  learn::Learner learner;
  const std::size_t learned = learn::learn_from_engine(engine, learner);
  learner.train();

  const Actor admin{"intake", {"admin"}};
  NewCase spec;
  spec.type = "complaint";
  spec.title = "Tablet does not charge (Twitter)";
  spec.owner = "alice";
  spec.subject.customer = "cust-77";
  spec.subject.attributes = {{"channel", "twitter"}, {"product", "laptop"}};
  spec.participants = {{"bob", {"agent"}}};
  const std::string id = engine.create_case(admin, spec).created;
  clock.advance(std::chrono::minutes(20));
  engine.complete_item(admin, id, "diagnosis#1/triage");
  clock.advance(std::chrono::hours(2));
  engine.set_file(admin, id, "diagnosis.fault", "hardware");
  engine.complete_item(admin, id, "diagnosis#1/diagnose");

  const learn::Trace trace = learn::trace_of(engine.get_case(id), engine.history(id));
  const auto next = learner.next_steps(trace, 3);
  const learn::Completion done = learner.completion(trace, clock.now());
  if (json) {
    Json steps = Json::array();
    for (const auto& s : next) {
      Json ev = Json::array();
      for (const auto& e : s.evidence)
        ev.push_back({{"feature", e.feature}, {"value", e.value}, {"weight", e.weight}, {"text", e.text}});
      steps.push_back(
          {{"activity", s.activity}, {"probability", s.probability}, {"support", s.support}, {"evidence", ev}});
    }
    std::cout << Json{{"kind", "recommendations"},
                      {"case", id},
                      {"learned_from", learned},
                      {"next_steps", steps},
                      {"remaining", format_duration(done.remaining)}}
                     .dump()
              << "\n";
    return;
  }
  say(
      fmt::format("a new complaint, {}, is triaged and diagnosed as a hardware fault. Learned from the {} closed "
                  "cases of the store, the engine recommends:",
                  id, learned));
  for (const auto& s : next) {
    std::cout << fmt::format("  {:5.1f}%  {:<22} (seen {} times after this point)\n", 100 * s.probability,
                             s.activity.empty() ? "(close the case)" : s.activity, s.support);
    std::string why;
    for (std::size_t i = 0; i < s.evidence.size() && i < 2; ++i)
      why += fmt::format("{}{}", i ? "; " : "", s.evidence[i].text);
    if (!why.empty()) std::cout << "          because " << why << "\n";
  }
  std::cout << fmt::format("  expected to be done in about {:.1f} h (by {})\n",
                           std::chrono::duration<double>(done.remaining).count() / 3600, format_time(done.expected));
}

}  // namespace

int run_demo(const DemoOptions& o) {
  auto clock = std::make_shared<ManualClock>(parse_time("2026-11-23T09:00:00Z"));
  EngineOptions eo;
  eo.clock = clock;
  eo.database = o.db;
  if (!o.db.empty()) {
    // A fresh database: the demo's story starts from nothing.
    for (const char* suffix : {"", "-wal", "-shm", ".lock"}) std::remove((o.db + suffix).c_str());
  }
  auto engine = Engine::open(eo);
  bool quiet = false;
  engine->subscribe([&](const Event& e) {
    if (quiet) return;
    if (o.json) {
      std::cout << to_json(e).dump() << "\n";
      return;
    }
    auto local = std::chrono::floor<std::chrono::minutes>(e.time);
    std::cout << fmt::format("  {:%a %H:%M}  {:<8} {}\n", local, e.actor.empty() ? "engine" : e.actor, describe(e));
  });

  std::ifstream in(o.definitions);
  if (!in) {
    std::cerr << "acm demo: cannot read " << o.definitions << "\n";
    return 1;
  }
  Actor admin{"admin", {"admin"}};
  engine->load_definitions(admin, Json::parse(in));
  Actor alice{"alice", {}}, bob{"bob", {}}, acme{"acme", {}}, lena{"lena", {}};

  if (!o.json) {
    std::cout << "acm demo: a complaint posted on social media by an influential, high-value customer\n";
    std::cout << (o.db.empty() ? std::string("(in memory") : "(stored in the SQLite file " + o.db)
              << "; times are on a simulated clock)\n";
  }
  if (!o.json) say("09:00 @ada_tech tweets that her new laptop is dead. Intake opens a complaint for alice.");
  NewCase spec;
  spec.type = "complaint";
  spec.title = "Laptop dead after two days (Twitter)";
  spec.owner = "alice";
  spec.subject.customer = "cust-42";
  spec.subject.attributes = {{"value", 25000}, {"influence", 0.92}, {"channel", "twitter"}, {"followers", 48000}};
  spec.priority = 5;
  spec.participants = {{"bob", {"agent"}}};
  std::string id = engine->create_case(Actor{"intake", {"admin"}}, spec).created;
  engine->attach(alice, id, Asset{.kind = "link", .title = "the tweet", .uri = "https://twitter.example/ada_tech/1"});

  clock->advance(20min);
  if (!o.json) say("bob triages and diagnoses: a hardware fault.");
  engine->complete_item(bob, id, "diagnosis#1/triage");
  clock->advance(2h);
  engine->set_file(bob, id, "diagnosis.fault", "hardware");
  engine->complete_item(bob, id, "diagnosis#1/diagnose");

  if (!o.json) {
    std::string offers;
    for (const auto& f : engine->applicable_fragments(id)) offers += (offers.empty() ? "" : ", ") + f.fragment;
    say("fragments that apply now: " + offers + ". alice brings in the supplier and adds a supplier repair.");
  }
  engine->add_participant(alice, id, {"acme", {"supplier"}});
  engine->add_fragment(alice, id, {"supplier_repair", 0, "resolved", {{"supplier", "acme"}, {"part", "mainboard"}}});
  clock->advance(1h);
  engine->complete_item(bob, id, "supplier_repair#1/ship_to_supplier");

  if (!o.json) say("the repair takes longer than planned; the clock runs to Wednesday morning.");
  clock->advance_to(parse_time("2026-11-25T05:30:00Z"));
  if (!o.json) say("at-risk warning: alice escalates to the team lead, lena.");
  engine->add_participant(alice, id, {"lena", {"team_lead"}});
  engine->add_fragment(alice, id, {"escalation", 0, "resolved", Json::object()});
  engine->complete_item(lena, id, "escalation#1/review_by_lead");
  engine->set_priority(lena, id, 9);
  clock->advance(30min);
  engine->complete_item(acme, id, "supplier_repair#1/repair");
  clock->advance(1h);
  engine->complete_item(bob, id, "supplier_repair#1/return_to_customer");

  if (!o.json) say("bob calls the customer, who confirms the fix.");
  engine->add_fragment(alice, id, {"customer_followup", 0, "resolved", Json::object()});
  engine->start_item(bob, id, "customer_followup#1/call_customer");
  clock->advance(15min);
  engine->complete_item(bob, id, "customer_followup#1/call_customer");
  engine->occur(bob, id, "customer_followup#1/customer_confirmed");
  engine->set_file(bob, id, "resolution", {{"confirmed", true}, {"summary", "mainboard replaced by acme"}});
  engine->close_case(alice, id);

  auto c = engine->get_case(id);
  if (!o.json) {
    std::cout << fmt::format("\ncase {}: {}, goal '{}' {}, {} events in the history\n", c.id, to_string(c.status),
                             c.goals[0].id, to_string(c.goals[0].status), c.version);
  }
  std::unique_ptr<Engine> reopened;
  if (!o.db.empty()) {
    engine.reset();
    EngineOptions again;
    again.database = o.db;
    again.clock = clock;
    reopened = Engine::open(again);
    auto stored = reopened->get_case(id);
    if (!o.json)
      std::cout << fmt::format("reopened {}: case {} is {} at version {}, history of {} events\n", o.db, stored.id,
                               to_string(stored.status), stored.version, reopened->history(id).size());
  }
  quiet = true;  // the history below is played without its timeline
  recommend_from_history(reopened ? *reopened : *engine, *clock, o.json);
  return 0;
}

}  // namespace acm_cli
