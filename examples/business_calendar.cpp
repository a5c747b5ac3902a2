// SPDX-License-Identifier: Apache-2.0
// examples/business_calendar.cpp (docs/calendars.md): an engine whose deadlines count office hours.
#include <acm/acm.hpp>
#include <acm/calendar.hpp>

#include <iostream>

int main() {
  using namespace std::chrono_literals;
  acm::EngineOptions options;
  options.calendar = std::make_shared<acm::BusinessCalendar>(acm::BusinessCalendar::from_json(acm::Json::parse(R"({
        "name": "it-office", "time_zone": "Europe/Rome",
        "hours": {"mon": ["09:00-13:00", "14:00-18:00"], "tue": ["09:00-13:00", "14:00-18:00"],
                  "wed": ["09:00-13:00", "14:00-18:00"], "thu": ["09:00-13:00", "14:00-18:00"],
                  "fri": ["09:00-13:00", "14:00-17:00"]},
        "holidays": ["2026-12-25", "2026-12-26", "2027-01-01"],
        "special_days": {"2026-12-24": ["09:00-13:00"]}
      })")));
  auto engine = acm::Engine::open(options);  // goals "within": "8h" now mean 8 office hours

  // Thursday 24 December, 11:00 in Rome: a half day, then Christmas and a weekend.
  acm::TimePoint opened = acm::parse_time("2026-12-24T10:00:00Z");
  acm::TimePoint due = options.calendar->add(opened, 8h);
  std::cout << "8 office hours from " << acm::format_time(opened) << " end at " << acm::format_time(due) << "\n";
  return due == acm::parse_time("2026-12-28T15:00:00Z") ? 0 : 1;
}
