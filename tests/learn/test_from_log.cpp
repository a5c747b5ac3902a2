// SPDX-License-Identifier: Apache-2.0
// learn::trace_of(eventlog::LogCase): imported log cases as learner traces.
#include <doctest/doctest.h>

#include <acm/eventlog.hpp>
#include <acm/learn.hpp>

#include <sstream>

using namespace acm;

TEST_CASE("an imported log case becomes a trace: attributes kept, steps in time order, ties in file order") {
  eventlog::LogCase c;
  c.id = "Case 7";
  c.attributes = {{"product", "Value 3"}};
  const TimePoint t0 = parse_time("2012-10-09T14:50:17Z");
  c.events = {{"Take in charge ticket", t0 + std::chrono::hours(2), "Value 2", {{"seriousness", "Value 1"}}},
              {"Assign seriousness", t0, "Value 1", {}},
              {"Wait", t0 + std::chrono::hours(2), "", {}},
              {"Resolve ticket", t0 + std::chrono::hours(5), "Value 2", {}}};
  const learn::Trace tr = learn::trace_of(c);
  CHECK(tr.id == "Case 7");
  CHECK(tr.case_type.empty());
  CHECK(tr.attributes == learn::Attributes{{"product", "Value 3"}});
  REQUIRE(tr.steps.size() == 4);
  CHECK(tr.steps[0].activity == "Assign seriousness");
  CHECK(tr.steps[1].activity == "Take in charge ticket");  // tie with "Wait": file order kept
  CHECK(tr.steps[1].resource == "Value 2");
  CHECK(tr.steps[1].attributes == learn::Attributes{{"seriousness", "Value 1"}});
  CHECK(tr.steps[2].activity == "Wait");
  CHECK(tr.steps[3].time == t0 + std::chrono::hours(5));
  for (const auto& s : tr.steps) CHECK_FALSE(s.ad_hoc);
}

TEST_CASE("a CSV log read through the importer feeds a learner") {
  std::istringstream csv(
      "case,activity,time\n"
      "1,open,2024-01-01 09:00:00\n1,fix,2024-01-01 10:00:00\n1,close,2024-01-01 11:00:00\n"
      "2,open,2024-01-02 09:00:00\n2,fix,2024-01-02 12:00:00\n2,close,2024-01-02 13:00:00\n");
  eventlog::CsvMapping m;
  m.case_id = "case";
  m.activity = "activity";
  m.timestamp = "time";
  learn::Learner l;
  eventlog::import_csv(csv, m, [&](eventlog::LogCase&& c) { l.add(learn::trace_of(c)); });
  CHECK(l.stats().traces == 2);
  CHECK(l.stats().steps == 6);
  learn::Trace running;
  running.steps = {learn::Step{"open", parse_time("2024-01-03T09:00:00Z"), "", false, {}}};
  const auto next = l.next_steps(running, 1);
  REQUIRE(next.size() == 1);
  CHECK(next[0].activity == "fix");
  CHECK(next[0].support == 2);
}
