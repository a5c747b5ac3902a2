#include "demo.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <fstream>
#include <iostream>

using namespace acm;
using namespace std::chrono_literals;

namespace acm_cli {

std::string describe(const Event& e) {
  const Json& p = e.payload;
  auto s = [&](const char* k) { return p.contains(k) && p[k].is_string() ? p[k].get<std::string>() : std::string(); };
  const std::string& k = e.kind;
  if (k == "case_created")
    return fmt::format("case opened: \"{}\" for customer {} (owner {}, priority {})", s("title"),
                       p["subject"].value("customer", "?"), s("owner"), p.value("priority", 0));
  if (k == "goal_added")
    return fmt::format("goal \"{}\" due {}", p["goal"].value("name", p["goal"].value("id", "")), s("deadline"));
  if (k == "fragment_added") return fmt::format("fragment {} v{} assembled into the plan as {}", s("fragment"),
                                                p.value("version", 0), s("item"));
  if (k == "task_added") return fmt::format("ad-hoc task {} \"{}\"", s("item"), p["task"].value("name", ""));
  if (k == "item_transition") {
    std::string extra = p.contains("error") ? " (" + s("error") + ")" : "";
    return fmt::format("{:<42} {} -> {}{}", s("item"), s("from"), s("to"), extra);
  }
  if (k == "item_assigned") return fmt::format("{} assigned to {}", s("item"), s("to").empty() ? "nobody" : s("to"));
  if (k == "participant_added")
    return fmt::format("{} joins the case as {}", s("actor"), p["roles"].dump());
  if (k == "file_set") return fmt::format("case file {} = {}", s("path"), p["value"].dump());
  if (k == "goal_timing")
    return fmt::format("goal {} is {} (deadline {}, remaining work {})", s("goal"), s("to"), s("deadline"),
                       s("remaining_work"));
  if (k == "goal_status") return fmt::format("goal {} {}", s("goal"), s("to"));
  if (k == "case_status") return fmt::format("case {} -> {}{}", s("from"), s("to"), p.contains("reason") ? " (" + s("reason") + ")" : "");
  if (k == "item_overdue") return fmt::format("{} is overdue", s("item"));
  if (k == "asset_attached") return fmt::format("{} attached: {}", p["asset"].value("kind", ""), p["asset"].value("title", ""));
  if (k == "signal") return fmt::format("event {} received", s("name"));
  if (k == "priority_changed") return fmt::format("priority {} -> {}", p["from"].dump(), p["to"].dump());
  return fmt::format("{} {}", k, p.dump());
}

namespace {

void say(const std::string& text) { std::cout << "\n  >> " << text << "\n"; }

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
  engine->subscribe([&](const Event& e) {
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
  std::string id = engine->create_case(Actor{"intake", {"admin"}}, spec);
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
  if (!o.db.empty()) {
    engine.reset();
    EngineOptions again;
    again.database = o.db;
    again.clock = clock;
    auto reopened = Engine::open(again);
    auto stored = reopened->get_case(id);
    if (!o.json)
      std::cout << fmt::format("reopened {}: case {} is {} at version {}, history of {} events\n", o.db, stored.id,
                               to_string(stored.status), stored.version, reopened->history(id).size());
  }
  if (!o.json) std::cout << "(recommendations learned from closed cases are not part of this build yet)\n";
  return 0;
}

}  // namespace acm_cli
