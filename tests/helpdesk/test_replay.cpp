// SPDX-License-Identifier: Apache-2.0
// Replay of the real help-desk log (helpdesk_full_attrs_lmu-dbs-BEST.csv) through the engine on
// a manual clock and a business-hour calendar: every ticket becomes a case with an SLA goal
// ("resolved within 40 business hours", Mon-Fri 09:00-18:00 Europe/Rome) and a manual
// "resolve" task estimated at 4 business hours; the log's activities are done as ad-hoc tasks
// at their times; the first "Resolve ticket" starts and completes the resolve task and
// achieves the SLA. The SLA outcome of every ticket, read from the engine's events, must be
// what the documented rule gives (docs/helpdesk-engine.md):
//   breached: resolved at or after the deadline (the goal turned overdue);
//   at risk:  not breached, but resolved after the latest start of the remaining 4 hours
//             (calendar.latest_start(deadline, 4h)), when the goal turned at_risk;
//   met:      resolved before that.
#include "support.hpp"

#include <acm/calendar.hpp>
#include <acm/eventlog.hpp>

#include <algorithm>
#include <filesystem>
#include <map>

using namespace acm;

namespace {

struct Ticket {
  std::string id;
  std::vector<eventlog::LogEvent> events;
  std::string customer;
  std::size_t resolve_at = 0;  // index of the resolution event
};

std::vector<Ticket> load_tickets() {
  const std::string path = std::string(ACM_DATA_DIR) + "/helpdesk/helpdesk_full_attrs_lmu-dbs-BEST.csv";
  REQUIRE_MESSAGE(std::filesystem::exists(path), "the help-desk log is missing: " << path);
  eventlog::CsvMapping m;
  m.case_id = "Case ID";
  m.activity = "Activity";
  m.timestamp = "Complete Timestamp";
  m.timestamp_format = "%Y/%m/%d %H:%M:%S";
  m.time_zone = "Europe/Rome";
  m.resource = "Resource";
  m.event_attributes = {"customer", "seriousness"};
  std::vector<Ticket> out;
  eventlog::import_csv(path, m, [&](eventlog::LogCase&& c) {
    Ticket t;
    t.id = c.id;
    t.events = std::move(c.events);
    std::stable_sort(t.events.begin(), t.events.end(), [](const auto& a, const auto& b) { return a.time < b.time; });
    for (const auto& [k, v] : t.events.front().attributes)
      if (k == "customer") t.customer = v;
    t.resolve_at = t.events.size() - 1;
    for (std::size_t i = 0; i < t.events.size(); ++i)
      if (t.events[i].activity == "Resolve ticket") {
        t.resolve_at = i;
        break;
      }
    out.push_back(std::move(t));
  });
  return out;
}

}  // namespace

TEST_CASE("replaying the real help-desk log gives the documented SLA outcomes") {
  std::vector<Ticket> tickets = load_tickets();
  REQUIRE(tickets.size() == 4580);
  auto calendar = std::make_shared<BusinessCalendar>(BusinessCalendar::from_json(Json::parse(R"({
    "name": "desk", "time_zone": "Europe/Rome",
    "hours": {"mon": ["09:00-18:00"], "tue": ["09:00-18:00"], "wed": ["09:00-18:00"],
              "thu": ["09:00-18:00"], "fri": ["09:00-18:00"]}})")));
  const Duration sla = std::chrono::hours(40), resolve_estimate = std::chrono::hours(4);

  // Every step of every ticket in global time order.
  struct Step {
    TimePoint time;
    std::size_t ticket, index;
  };
  std::vector<Step> steps;
  for (std::size_t t = 0; t < tickets.size(); ++t)
    for (std::size_t i = 0; i < tickets[t].events.size(); ++i) steps.push_back({tickets[t].events[i].time, t, i});
  std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) { return a.time < b.time; });

  auto clock = std::make_shared<ManualClock>(steps.front().time);
  EngineOptions o;
  o.clock = clock;
  o.calendar = calendar;
  o.priority_policy = PriorityPolicy{{{"SLA at risk", "goal(\"sla\").timing != \"on_track\"", 10}}};
  auto engine = Engine::open(o);
  const Actor desk{"desk", {"admin"}};
  std::map<std::string, std::string> outcome;  // case id -> "at_risk" / "overdue" seen
  engine->subscribe(
      [&](const Event& e) {
        const std::string to = e.payload.value("to", "");
        if (to == "overdue") outcome[e.case_id] = "breached";
        else if (to == "at_risk" && !outcome.count(e.case_id)) outcome[e.case_id] = "at risk";
      },
      {"goal_timing"});

  std::vector<std::string> case_of(tickets.size());
  std::vector<std::string> resolve_item(tickets.size());
  std::size_t checked_queues = 0;
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const Step& st = steps[s];
    Ticket& tk = tickets[st.ticket];
    const eventlog::LogEvent& ev = tk.events[st.index];
    if (ev.time > clock->now()) clock->advance_to(ev.time);  // fires SLA timers on the way
    std::string& c = case_of[st.ticket];
    if (st.index == 0) {
      NewCase nc;
      nc.id = tk.id;
      std::replace(nc.id.begin(), nc.id.end(), ' ', '-');  // "Case 12" -> "Case-12": ids have no spaces
      nc.subject.customer = tk.customer;
      c = engine->create_case(desk, nc).created;
      GoalSpec g{.id = "sla", .name = "resolved within 40 business hours"};
      g.within = sla;
      engine->add_goal(desk, c, g);
      resolve_item[st.ticket] = engine->add_task(
          desk, c, AdHocTask{.name = "resolve", .role = "agent", .estimate = resolve_estimate, .goal = "sla", .manual = true}).created;
    }
    if (st.index == tk.resolve_at) {
      engine->start_item(desk, c, resolve_item[st.ticket]);
      engine->complete_item(desk, c, resolve_item[st.ticket]);
      engine->achieve_goal(desk, c, "sla");
    } else if (engine->get_case(c).status == CaseStatus::active) {  // after resolution the case may be done
      const std::string item = engine->add_task(desk, c, AdHocTask{.name = ev.activity}).created;
      engine->complete_item(desk, c, item);
    }
    if (st.index + 1 == tk.events.size() && engine->get_case(c).status == CaseStatus::active) engine->complete_case(desk, c);
    // Now and then: the team queue holds exactly the open resolve tasks, at-risk cases first.
    if (s % 5000 == 2500) {
      std::size_t open = 0;
      for (std::size_t t = 0; t < tickets.size(); ++t)
        if (!case_of[t].empty() && engine->get_case(case_of[t]).status == CaseStatus::active) ++open;
      std::vector<WorkItem> page = engine->queue(QueueFilter{.roles = {"agent"}, .limit = 10000});
      CHECK(page.size() == open);
      for (std::size_t i = 1; i < page.size(); ++i) CHECK(page[i - 1].priority >= page[i].priority);
      ++checked_queues;
    }
  }
  CHECK(checked_queues >= 3);

  // The documented rule, computed from the log and the calendar alone.
  std::map<std::string, std::size_t> expected_counts, engine_counts;
  std::size_t mismatches = 0;
  for (std::size_t t = 0; t < tickets.size(); ++t) {
    const Ticket& tk = tickets[t];
    const TimePoint arrival = tk.events.front().time;
    const TimePoint deadline = calendar->add(arrival, sla);
    const TimePoint latest = calendar->latest_start(deadline, resolve_estimate);
    const TimePoint resolved = tk.events[tk.resolve_at].time;
    const std::string expected = resolved >= deadline ? "breached" : resolved > latest ? "at risk" : "met";
    const std::string got = outcome.count(case_of[t]) ? outcome[case_of[t]] : "met";
    ++expected_counts[expected];
    ++engine_counts[got];
    if (expected != got && ++mismatches <= 5)
      MESSAGE(tk.id << ": expected " << expected << ", engine " << got << " (arrival " << format_time(arrival)
                    << ", resolved " << format_time(resolved) << ", deadline " << format_time(deadline) << ")");
  }
  CHECK(mismatches == 0);
  CHECK(engine_counts == expected_counts);
  // All three outcomes occur in the real log.
  CHECK(expected_counts["met"] > 0);
  CHECK(expected_counts["at risk"] > 0);
  CHECK(expected_counts["breached"] > 0);
  MESSAGE("SLA outcomes: met " << expected_counts["met"] << ", at risk " << expected_counts["at risk"] << ", breached "
                               << expected_counts["breached"]);
  // Every case is done and the queue is empty.
  CHECK(engine->queue(QueueFilter{.roles = {"agent"}}).empty());
}
