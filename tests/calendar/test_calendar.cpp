// SPDX-License-Identifier: Apache-2.0
// tests/calendar/test_calendar.cpp - business-hour calendars, DST, JSON, SLA pauses.
#include <acm/calendar.hpp>
#include <acm/error.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <random>
#include <string>

namespace {

using namespace std::chrono_literals;
using acm::BusinessCalendar;
using acm::CalendarSpec;
using acm::Duration;
using acm::Interval;
using acm::Json;
using acm::PausedCalendar;
using acm::TimePoint;

TimePoint t(const char* iso) { return acm::parse_time(iso); }

constexpr Interval hm(int bh, int bm, int eh, int em) { return Interval{bh * 60 + bm, eh * 60 + em}; }

// 9-17 Monday to Friday in `zone`.
CalendarSpec office_spec(const std::string& zone = "UTC") {
  CalendarSpec s;
  s.name = "office";
  s.time_zone = zone;
  for (int d = 0; d < 5; ++d) s.week[static_cast<std::size_t>(d)] = {hm(9, 0, 17, 0)};
  return s;
}

// 09:00-13:00 and 14:00-18:00 Monday to Friday in Rome, Christmas off, a half day on 24 December.
CalendarSpec rome_spec() {
  CalendarSpec s;
  s.name = "it-office";
  s.time_zone = "Europe/Rome";
  for (int d = 0; d < 5; ++d) s.week[static_cast<std::size_t>(d)] = {hm(9, 0, 13, 0), hm(14, 0, 18, 0)};
  s.holidays = {2026y / 12 / 25, 2026y / 12 / 26, 2027y / 1 / 1, 2027y / 1 / 6};
  s.special_days[2026y / 12 / 24] = {hm(9, 0, 13, 0)};
  s.special_days[2026y / 12 / 5] = {hm(10, 0, 12, 0)};  // a working Saturday
  return s;
}

// Every day 01:00-04:00 local (spans the DST changes), plus 9-17 on weekdays.
CalendarSpec night_spec(const std::string& zone) {
  CalendarSpec s;
  s.name = "night";
  s.time_zone = zone;
  for (std::size_t d = 0; d < 7; ++d) s.week[d] = {hm(1, 0, 4, 0)};
  for (std::size_t d = 0; d < 5; ++d) s.week[d].push_back(hm(9, 0, 17, 0));
  return s;
}

// One interval every day.
BusinessCalendar daily(const std::string& zone, Interval iv) {
  CalendarSpec s;
  s.name = "daily";
  s.time_zone = zone;
  for (auto& day : s.week) day = {iv};
  return BusinessCalendar(s);
}

std::string error_of(const std::function<void()>& f, acm::ErrorCode* code = nullptr) {
  try {
    f();
  } catch (const acm::Error& e) {
    if (code) *code = e.code();
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("calendar: 8 business hours from Friday 15:00 land on Monday 15:00") {
  BusinessCalendar utc(office_spec());
  CHECK(utc.add(t("2026-11-27T15:00:00Z"), 8h) == t("2026-11-30T15:00:00Z"));
  CHECK(utc.latest_start(t("2026-11-30T15:00:00Z"), 8h) == t("2026-11-27T15:00:00Z"));
  CHECK(utc.between(t("2026-11-27T15:00:00Z"), t("2026-11-30T15:00:00Z")) == 8h);
  CHECK(utc.name() == "office");
  CHECK(utc.week_work() == 40h);
  // The same hours in Rome (CET, +01:00 in November).
  BusinessCalendar rome(office_spec("Europe/Rome"));
  CHECK(rome.add(t("2026-11-27T15:00:00+01:00"), 8h) == t("2026-11-30T15:00:00+01:00"));
  CHECK(rome.add(t("2026-11-27T15:00:00Z"), 8h) == t("2026-11-30T16:00:00+01:00"));  // starts 16:00 local
}

TEST_CASE("calendar: week-ends, start outside hours, ends exactly at closing time") {
  BusinessCalendar cal(office_spec());
  CHECK(cal.between(t("2026-11-27T17:00:00Z"), t("2026-11-30T09:00:00Z")) == 0ms);
  CHECK(cal.between(t("2026-11-28T00:00:00Z"), t("2026-11-30T00:00:00Z")) == 0ms);
  CHECK(cal.add(t("2026-11-28T10:00:00Z"), 1h) == t("2026-11-30T10:00:00Z"));   // Saturday
  CHECK(cal.add(t("2026-11-23T06:00:00Z"), 1h) == t("2026-11-23T10:00:00Z"));   // before opening
  CHECK(cal.add(t("2026-11-23T20:00:00Z"), 1h) == t("2026-11-24T10:00:00Z"));   // after closing
  CHECK(cal.add(t("2026-11-23T09:00:00Z"), 8h) == t("2026-11-23T17:00:00Z"));   // not the next 09:00
  CHECK(cal.add(t("2026-11-23T09:00:00Z"), 40h) == t("2026-11-27T17:00:00Z"));  // one whole week
  CHECK(cal.add(t("2026-11-23T09:00:00Z"), 40h + 1ms) == t("2026-11-30T09:00:00.001Z"));
  CHECK(cal.latest_start(t("2026-11-30T10:00:00Z"), 2h) == t("2026-11-27T16:00:00Z"));
  CHECK(cal.latest_start(t("2026-11-30T09:00:00Z"), 8h) == t("2026-11-27T09:00:00Z"));  // not the 17:00 before
  CHECK(cal.between(t("2026-11-23T00:00:00Z"), t("2026-12-07T00:00:00Z")) == 80h);
  CHECK(cal.between(t("2026-11-23T12:34:56.789Z"), t("2026-11-23T12:34:56.790Z")) == 1ms);
}

TEST_CASE("calendar: lunch break, holidays, special days") {
  BusinessCalendar cal(rome_spec());
  CHECK(cal.add(t("2026-11-23T12:00:00+01:00"), 2h) == t("2026-11-23T15:00:00+01:00"));
  CHECK(cal.add(t("2026-11-23T12:30:00+01:00"), 30min) == t("2026-11-23T13:00:00+01:00"));
  CHECK(cal.add(t("2026-11-23T12:30:00+01:00"), 31min) == t("2026-11-23T14:01:00+01:00"));
  CHECK(cal.add(t("2026-11-23T13:30:00+01:00"), 1min) == t("2026-11-23T14:01:00+01:00"));
  CHECK(cal.between(t("2026-11-23T12:00:00+01:00"), t("2026-11-23T15:00:00+01:00")) == 2h);
  CHECK(cal.latest_start(t("2026-11-23T14:30:00+01:00"), 1h) == t("2026-11-23T12:30:00+01:00"));
  // Thursday 24 December is a half day, 25 and 26 are holidays (26 is a Saturday anyway).
  CHECK(cal.add(t("2026-12-24T12:00:00+01:00"), 2h) == t("2026-12-28T10:00:00+01:00"));
  CHECK(cal.between(t("2026-12-24T00:00:00+01:00"), t("2026-12-29T00:00:00+01:00")) == 4h + 8h);
  CHECK_FALSE(cal.is_working(t("2026-12-24T15:00:00+01:00")));
  CHECK_FALSE(cal.is_working(t("2026-12-25T10:00:00+01:00")));
  // The working Saturday.
  CHECK(cal.is_working(t("2026-12-05T11:00:00+01:00")));
  CHECK(cal.add(t("2026-12-04T17:30:00+01:00"), 1h) == t("2026-12-05T10:30:00+01:00"));
  CHECK(cal.between(t("2026-11-30T00:00:00+01:00"), t("2026-12-07T00:00:00+01:00")) == 42h);
  // The week after Christmas: 28, 29, 30, 31 December; 1 January is a holiday.
  CHECK(cal.between(t("2026-12-28T00:00:00+01:00"), t("2027-01-04T00:00:00+01:00")) == 32h);
}

TEST_CASE("calendar: is_working and next_working are half-open") {
  BusinessCalendar cal(rome_spec());
  CHECK(cal.is_working(t("2026-11-23T09:00:00+01:00")));
  CHECK_FALSE(cal.is_working(t("2026-11-23T08:59:59.999+01:00")));
  CHECK(cal.is_working(t("2026-11-23T12:59:59.999+01:00")));
  CHECK_FALSE(cal.is_working(t("2026-11-23T13:00:00+01:00")));
  CHECK(cal.next_working(t("2026-11-23T13:00:00+01:00")) == t("2026-11-23T14:00:00+01:00"));
  CHECK(cal.next_working(t("2026-11-23T10:00:00+01:00")) == t("2026-11-23T10:00:00+01:00"));
  CHECK(cal.next_working(t("2026-11-27T18:00:00+01:00")) == t("2026-11-30T09:00:00+01:00"));
  CHECK(cal.next_working(t("2026-12-24T13:00:00+01:00")) == t("2026-12-28T09:00:00+01:00"));
}

TEST_CASE("calendar: zero and negative work, invalid inputs") {
  BusinessCalendar cal(office_spec());
  TimePoint sat = t("2026-11-28T10:00:00Z");
  CHECK(cal.add(sat, 0ms) == sat);
  CHECK(cal.latest_start(sat, 0ms) == sat);
  CHECK(cal.between(sat, sat) == 0ms);
  // Negative work runs the other way, as with AlwaysCalendar.
  CHECK(cal.add(t("2026-11-30T10:00:00Z"), -2h) == t("2026-11-27T16:00:00Z"));
  CHECK(cal.latest_start(t("2026-11-27T16:00:00Z"), -2h) == t("2026-11-30T10:00:00Z"));
  CHECK(cal.between(t("2026-11-30T15:00:00Z"), t("2026-11-27T15:00:00Z")) == -8h);

  acm::ErrorCode code = acm::ErrorCode::ok;
  CHECK(error_of([&] { cal.add(TimePoint::max(), 1h); }, &code).find("outside") != std::string::npos);
  CHECK(code == acm::ErrorCode::invalid_argument);
  CHECK_THROWS_AS(cal.between(TimePoint::min(), sat), acm::Error);
  CHECK_THROWS_AS(cal.is_working(TimePoint::max()), acm::Error);
  CHECK_THROWS_AS(cal.add(sat, Duration::max()), acm::Error);
  CHECK_THROWS_AS(cal.add(sat, Duration::min()), acm::Error);
  CHECK_THROWS_AS(cal.latest_start(sat, Duration::max()), acm::Error);
  // Near the end of the supported range.
  TimePoint late = t("9999-12-31T10:00:00Z");  // a Friday
  CHECK(cal.add(late, 7h) == t("9999-12-31T17:00:00Z"));
  CHECK_THROWS_AS(cal.add(late, 8h), acm::Error);
}

TEST_CASE("calendar: DST in Europe/Rome with 01:00-04:00 intervals") {
  BusinessCalendar cal(night_spec("Europe/Rome"));
  // Sunday 29 March 2026: 02:00 CET jumps to 03:00 CEST (01:00Z). 01:00-04:00 is 2 real hours.
  CHECK(cal.between(t("2026-03-28T12:00:00Z"), t("2026-03-29T12:00:00Z")) == 2h);
  CHECK(cal.between(t("2026-03-21T12:00:00Z"), t("2026-03-22T12:00:00Z")) == 3h);  // a normal Sunday
  CHECK(cal.add(t("2026-03-29T00:00:00Z"), 90min) == t("2026-03-29T01:30:00Z"));   // 03:30 CEST
  CHECK(cal.is_working(t("2026-03-29T00:59:59.999Z")));
  CHECK(cal.is_working(t("2026-03-29T01:00:00Z")));
  CHECK_FALSE(cal.is_working(t("2026-03-29T02:00:00Z")));  // 04:00 CEST
  // Sunday 25 October 2026: 03:00 CEST goes back to 02:00 CET (01:00Z). 01:00-04:00 is 4 hours.
  CHECK(cal.between(t("2026-10-24T12:00:00Z"), t("2026-10-25T12:00:00Z")) == 4h);
  CHECK(cal.add(t("2026-10-24T23:00:00Z"), 4h) == t("2026-10-25T03:00:00Z"));
  CHECK(cal.latest_start(t("2026-10-25T03:00:00Z"), 4h) == t("2026-10-24T23:00:00Z"));
  // A week containing the change counts its real hours: 6 nights and one of 4 h, 5 office days.
  CHECK(cal.between(t("2026-10-19T00:00:00+02:00"), t("2026-10-26T00:00:00+01:00")) == 6 * 3h + 4h + 40h);
  CHECK(cal.between(t("2026-03-23T00:00:00+01:00"), t("2026-03-30T00:00:00+02:00")) == 6 * 3h + 2h + 40h);

  // Interval ends inside the gap / begins inside the gap / begins in the repeated hour.
  BusinessCalendar across = daily("Europe/Rome", hm(1, 30, 3, 30));
  CHECK(across.between(t("2026-03-29T00:00:00Z"), t("2026-03-29T12:00:00Z")) == 1h);
  CHECK(across.between(t("2026-10-24T22:00:00Z"), t("2026-10-25T12:00:00Z")) == 3h);
  BusinessCalendar in_gap = daily("Europe/Rome", hm(2, 30, 5, 0));
  CHECK(in_gap.next_working(t("2026-03-28T23:00:00Z")) == t("2026-03-29T01:00:00Z"));  // 03:00 CEST
  CHECK(in_gap.between(t("2026-03-28T23:00:00Z"), t("2026-03-29T12:00:00Z")) == 2h);
  CHECK(in_gap.next_working(t("2026-10-24T22:00:00Z")) == t("2026-10-25T00:30:00Z"));  // first 02:30
  CHECK(in_gap.between(t("2026-10-24T22:00:00Z"), t("2026-10-25T12:00:00Z")) == 3h + 30min);
  BusinessCalendar inside = daily("Europe/Rome", hm(2, 15, 2, 45));  // does not exist on 29 March
  CHECK(inside.between(t("2026-03-28T12:00:00Z"), t("2026-03-29T12:00:00Z")) == 0ms);
  CHECK(inside.add(t("2026-03-28T12:00:00Z"), 30min) == t("2026-03-30T00:45:00Z"));
  CHECK(inside.between(t("2026-10-24T12:00:00Z"), t("2026-10-25T12:00:00Z")) == 30min);  // first occurrence
}

TEST_CASE("calendar: DST in America/New_York") {
  BusinessCalendar cal(night_spec("America/New_York"));
  // Sunday 8 March 2026: 02:00 EST jumps to 03:00 EDT (07:00Z).
  CHECK(cal.between(t("2026-03-07T12:00:00Z"), t("2026-03-08T12:00:00Z")) == 2h);
  CHECK(cal.add(t("2026-03-08T06:00:00Z"), 1h) == t("2026-03-08T07:00:00Z"));
  CHECK(cal.add(t("2026-03-08T06:00:00Z"), 1h + 1ms) == t("2026-03-08T07:00:00.001Z"));
  // Sunday 1 November 2026: 02:00 EDT goes back to 01:00 EST (06:00Z); 01:00 is ambiguous.
  CHECK(cal.next_working(t("2026-11-01T00:00:00Z")) == t("2026-11-01T05:00:00Z"));  // 01:00 EDT
  CHECK(cal.between(t("2026-10-31T12:00:00Z"), t("2026-11-01T12:00:00Z")) == 4h);
  BusinessCalendar repeated = daily("America/New_York", hm(1, 30, 2, 30));
  CHECK(repeated.between(t("2026-10-31T12:00:00Z"), t("2026-11-01T12:00:00Z")) == 2h);  // 05:30Z-07:30Z
  BusinessCalendar ends_in_gap = daily("America/New_York", hm(1, 0, 2, 30));
  CHECK(ends_in_gap.between(t("2026-03-07T12:00:00Z"), t("2026-03-08T12:00:00Z")) == 1h);
  // Office hours move with the clocks: Friday 16:00 EST + 2 h = Monday 10:00 EDT.
  BusinessCalendar office(office_spec("America/New_York"));
  CHECK(office.add(t("2026-03-06T16:00:00-05:00"), 2h) == t("2026-03-09T10:00:00-04:00"));
  CHECK(office.between(t("2026-03-02T00:00:00-05:00"), t("2026-03-16T00:00:00-04:00")) == 80h);
  CHECK(office.between(t("2026-10-26T00:00:00-04:00"), t("2026-11-09T00:00:00-05:00")) == 80h);
}

TEST_CASE("calendar: 10,000 business hours, cheap and exact") {
  BusinessCalendar cal(office_spec("Europe/Rome"));
  TimePoint s = t("2026-01-05T09:00:00+01:00");  // Monday
  // 250 weeks of 40 h: ends Friday 18 October 2030 at 17:00 CEST.
  CHECK(cal.add(s, 10000h) == t("2030-10-18T17:00:00+02:00"));
  CHECK(cal.latest_start(t("2030-10-18T17:00:00+02:00"), 10000h) == s);
  CHECK(cal.between(s, t("2030-10-18T17:00:00+02:00")) == 10000h);

  auto begin = std::chrono::steady_clock::now();
  constexpr int kCalls = 200;
  TimePoint last{};
  for (int i = 0; i < kCalls; ++i) last = cal.add(s + std::chrono::minutes{i}, 10000h);
  auto per_call = (std::chrono::steady_clock::now() - begin) / kCalls;
  MESSAGE("10,000-hour add: " << std::chrono::duration_cast<std::chrono::microseconds>(per_call).count()
                              << " us per call");
  CHECK(last > s);
  CHECK(per_call < 2ms);  // day by day would be ~1750 days of zone look-ups

  // A million hours (about 480 years): still exact, still round-trips.
  TimePoint far = cal.add(s, 1000000h);
  CHECK(cal.between(s, far) == 1000000h);
  CHECK(cal.latest_start(far, 1000000h) == s);
}

TEST_CASE("calendar: week skipping agrees with day-by-day counting") {
  // Between over a long range (skips weeks) equals the sum over 3-day pieces (never skips).
  for (const CalendarSpec& spec : {rome_spec(), night_spec("America/New_York"), night_spec("Europe/Rome")}) {
    BusinessCalendar cal(spec);
    TimePoint from = t("2025-12-31T07:13:00Z"), to = t("2029-02-03T19:41:00Z");
    Duration pieces{0};
    for (TimePoint a = from; a < to; a += std::chrono::hours{72}) pieces += cal.between(a, std::min(a + 72h, to));
    CHECK(cal.between(from, to) == pieces);
  }
}

TEST_CASE("calendar: brute force minute by minute around DST changes and holidays") {
  for (const CalendarSpec& spec : {rome_spec(), night_spec("America/New_York"), night_spec("Europe/Rome")}) {
    BusinessCalendar cal(spec);
    for (const char* from : {"2026-03-06T00:00:00Z", "2026-03-27T00:00:00Z", "2026-10-23T00:00:00Z",
                             "2026-10-30T00:00:00Z", "2026-12-22T00:00:00Z"}) {
      TimePoint a = t(from), b = a + 96h;
      Duration minutes{0};
      for (TimePoint m = a; m < b; m += 1min) {
        if (cal.is_working(m)) minutes += 1min;
      }
      CHECK_MESSAGE(cal.between(a, b) == minutes, spec.name << " from " << from);
    }
  }
}

TEST_CASE("calendar: add, latest_start and between are consistent (random, fixed seed)") {
  std::mt19937_64 rng(20261123);
  TimePoint lo = t("2025-06-01T00:00:00Z"), hi = t("2028-06-01T00:00:00Z");
  std::uniform_int_distribution<std::int64_t> when(lo.time_since_epoch().count(), hi.time_since_epoch().count());
  std::uniform_int_distribution<int> scale(0, 4);
  const std::int64_t scales[] = {1, 60'000, 3'600'000, 40 * 3'600'000LL, 2000 * 3'600'000LL};
  for (const CalendarSpec& spec :
       {rome_spec(), night_spec("America/New_York"), night_spec("Europe/Rome"), office_spec("Australia/Lord_Howe")}) {
    BusinessCalendar cal(spec);
    int failures = 0;
    for (int i = 0; i < 400 && failures < 5; ++i) {
      TimePoint s{std::chrono::milliseconds{when(rng)}};
      TimePoint e{std::chrono::milliseconds{when(rng)}};
      std::int64_t top = scales[scale(rng)];
      Duration w{std::uniform_int_distribution<std::int64_t>(0, top)(rng)};

      TimePoint end = cal.add(s, w);
      bool ok = end >= s && cal.between(s, end) == w;
      if (w > 0ms) ok = ok && cal.between(s, end - 1ms) == w - 1ms && cal.is_working(end - 1ms);

      TimePoint ls = cal.latest_start(e, w);
      ok = ok && ls <= e && cal.between(ls, e) == w && cal.add(ls, w) <= e;
      if (w > 0ms) ok = ok && cal.add(ls + 1ms, w) > e;  // tight

      // Negative work mirrors, and between is additive.
      ok = ok && cal.add(e, -w) == ls && cal.latest_start(s, -w) == end;
      ok = ok && cal.between(s, e) == cal.between(s, end) + cal.between(end, e);
      ok = ok && cal.between(e, s) == -cal.between(s, e);
      if (!ok) {
        ++failures;
        FAIL_CHECK(spec.name << ": s=" << acm::format_time(s) << " e=" << acm::format_time(e) << " w=" << w.count()
                             << "ms");
      }
    }
    CHECK(failures == 0);
  }
}

TEST_CASE("calendar: JSON round trip") {
  Json j = Json::parse(R"({
    "name": "it-office", "time_zone": "Europe/Rome",
    "hours": {"mon": ["09:00-13:00", "14:00-18:00"], "tue": ["09:00-13:00", "14:00-18:00"],
              "wed": ["09:00-13:00"], "thu": ["14:00-18:00", "09:00-13:00"], "fri": ["09:00-17:30"],
              "sat": ["00:00-24:00"]},
    "holidays": ["2026-12-25", "2027-01-01"],
    "special_days": {"2026-12-24": ["09:00-12:00"], "2026-12-31": []}
  })");
  CalendarSpec spec = acm::calendar_spec_from_json(j);
  CHECK(spec.name == "it-office");
  CHECK(spec.week[3] == std::vector<Interval>{hm(14, 0, 18, 0), hm(9, 0, 13, 0)});
  CHECK(spec.week[5] == std::vector<Interval>{hm(0, 0, 24, 0)});
  CHECK(spec.week[6].empty());
  CHECK(spec.holidays.size() == 2);
  CHECK(spec.special_days.at(2026y / 12 / 31).empty());
  CHECK(acm::to_json(spec) == j);
  CHECK(acm::calendar_spec_from_json(acm::to_json(spec)) == spec);
  CHECK(acm::calendar_spec_from_json(acm::to_json(rome_spec())) == rome_spec());

  BusinessCalendar cal = BusinessCalendar::from_json(j);
  CHECK(cal.spec() == spec);
  CHECK(cal.week_work() == 8h + 8h + 4h + 8h + 8h + 30min + 24h);
  CHECK(cal.between(t("2026-12-28T00:00:00+01:00"), t("2027-01-04T00:00:00+01:00")) == 8h + 8h + 4h + 0h + 0h + 24h);
  // Defaults: UTC, no holidays.
  CalendarSpec minimal = acm::calendar_spec_from_json(Json::parse(R"({"name": "m", "hours": {"sun": ["8:00-9:00"]}})"));
  CHECK(minimal.time_zone == "UTC");
  CHECK(minimal.week[6] == std::vector<Interval>{hm(8, 0, 9, 0)});
}

TEST_CASE("calendar: a bad spec lists every problem") {
  Json j = Json::parse(R"({
    "name": "bad", "time_zone": "Europe/Atlantis",
    "hours": {"mon": ["09:00-13:00", "12:00-18:00"], "tue": ["17:00-09:00"], "wed": ["9-17"],
              "thu": ["10:00-10:00"], "fri": "09:00-17:00", "funday": ["09:00-10:00"], "sat": ["08:00-24:30"]},
    "holidays": ["2026-02-30", "2026-12-24", 20261225],
    "special_days": {"2026-12-24": ["09:00-12:00"], "24/12/2026": []},
    "colour": "blue"
  })");
  acm::ErrorCode code = acm::ErrorCode::ok;
  std::string message = error_of([&] { acm::calendar_spec_from_json(j); }, &code);
  CHECK(code == acm::ErrorCode::invalid_definition);
  INFO(message);
  for (const char* expected :
       {"13 problems in calendar 'bad'", "/time_zone: unknown time zone \"Europe/Atlantis\"",
        "/hours/mon: intervals 09:00-13:00 and 12:00-18:00 overlap", "/hours/tue/0: interval 17:00-09:00 is reversed",
        "/hours/wed/0: expected \"hh:mm-hh:mm\"", "/hours/thu/0: interval 10:00-10:00 is empty",
        "/hours/fri: expected an array", "/hours/funday: unknown day",
        "/hours/sat/0: expected \"hh:mm-hh:mm\", got \"08:00-24:30\"", "/holidays/0: expected a date",
        "/holidays: 2026-12-24 is both a holiday and a special day", "/holidays/2: expected a date",
        "/special_days/24/12/2026: expected a date", "/colour: unknown key"}) {
    CHECK_MESSAGE(message.find(expected) != std::string::npos, expected);
  }

  // No working time at all; missing name; not an object.
  message = error_of([] { acm::calendar_spec_from_json(Json::parse(R"({"hours": {}, "holidays": []})")); });
  CHECK(message.find("2 problems") != std::string::npos);
  CHECK(message.find("/name: missing") != std::string::npos);
  CHECK(message.find("/hours: no working time in the week") != std::string::npos);
  CHECK_THROWS_AS(acm::calendar_spec_from_json(Json::array()), acm::Error);

  // The same checks for specs built in C++.
  CalendarSpec s = office_spec("Nowhere/Special");
  s.name.clear();
  s.week[0].push_back(hm(16, 0, 18, 0));
  s.week[1].push_back(Interval{-5, 60});
  s.holidays.push_back(2026y / 2 / 29);
  std::vector<std::string> problems = acm::validate(s);
  CHECK(problems.size() == 5);
  CHECK_THROWS_AS(BusinessCalendar{s}, acm::Error);
  CHECK(acm::validate(office_spec("Asia/Kolkata")).empty());
}

TEST_CASE("calendar: SLA pauses on top of business hours") {
  BusinessCalendar office(office_spec());
  // Paused Tuesday 10:00-12:00 and Wednesday 16:00 to Thursday 11:00 (overlapping pieces merge).
  PausedCalendar cal(office, {{t("2026-11-25T16:00:00Z"), t("2026-11-26T10:00:00Z")},
                              {t("2026-11-24T10:00:00Z"), t("2026-11-24T12:00:00Z")},
                              {t("2026-11-26T09:30:00Z"), t("2026-11-26T11:00:00Z")}});
  CHECK(cal.pauses().size() == 2);
  CHECK(cal.name() == "office");
  CHECK(cal.is_paused(t("2026-11-24T10:00:00Z")));
  CHECK_FALSE(cal.is_paused(t("2026-11-24T12:00:00Z")));
  TimePoint mon9 = t("2026-11-23T09:00:00Z");
  CHECK(cal.between(mon9, t("2026-11-24T17:00:00Z")) == 14h);
  CHECK(cal.add(t("2026-11-24T09:00:00Z"), 2h) == t("2026-11-24T13:00:00Z"));
  CHECK(cal.add(t("2026-11-24T10:30:00Z"), 1h) == t("2026-11-24T13:00:00Z"));  // starts inside the pause
  CHECK(cal.add(t("2026-11-24T09:00:00Z"), 1h) == t("2026-11-24T10:00:00Z"));  // ends at the pause
  CHECK(cal.add(t("2026-11-25T15:00:00Z"), 2h) == t("2026-11-26T12:00:00Z"));
  CHECK(cal.latest_start(t("2026-11-26T12:00:00Z"), 2h) == t("2026-11-25T15:00:00Z"));
  CHECK(cal.between(t("2026-11-26T12:00:00Z"), t("2026-11-25T15:00:00Z")) == -2h);
  CHECK(cal.between(mon9, t("2026-11-30T09:00:00Z")) == 40h - 2h - 3h);
  CHECK(cal.add(mon9, 35h) == t("2026-11-27T17:00:00Z"));
  CHECK(cal.add(t("2026-11-26T12:00:00Z"), -2h) == t("2026-11-25T15:00:00Z"));

  // An open pause stops the clock: the work never finishes, time after it never counts.
  PausedCalendar open(office, {{t("2026-11-24T12:00:00Z"), TimePoint::max()}});
  CHECK(open.add(mon9, 10h) == t("2026-11-24T11:00:00Z"));
  CHECK(open.add(mon9, 11h) == t("2026-11-24T12:00:00Z"));
  CHECK(open.add(mon9, 11h + 1ms) == TimePoint::max());
  CHECK(open.between(mon9, TimePoint::max()) == 11h);
  CHECK(open.between(t("2026-11-30T09:00:00Z"), t("2026-12-30T09:00:00Z")) == 0ms);
  CHECK(open.latest_start(t("2026-12-30T09:00:00Z"), 1h) == t("2026-11-24T11:00:00Z"));

  CHECK_THROWS_AS(PausedCalendar(office, {{mon9, mon9 - 1ms}}), acm::Error);

  // Random consistency with pauses (fixed seed).
  std::mt19937_64 rng(7);
  std::vector<acm::Pause> pauses;
  for (int i = 0; i < 40; ++i) {
    TimePoint a = mon9 + std::chrono::minutes{std::uniform_int_distribution<int>(0, 60 * 24 * 120)(rng)};
    pauses.emplace_back(a, a + std::chrono::minutes{std::uniform_int_distribution<int>(0, 60 * 24 * 3)(rng)});
  }
  PausedCalendar many(office, pauses);
  int failures = 0;
  for (int i = 0; i < 300; ++i) {
    TimePoint s = mon9 + std::chrono::minutes{std::uniform_int_distribution<int>(0, 60 * 24 * 100)(rng)};
    Duration w = std::chrono::minutes{std::uniform_int_distribution<int>(0, 60 * 200)(rng)};
    TimePoint e = many.add(s, w);
    bool ok = many.between(s, e) == w && many.add(many.latest_start(e, w), w) <= e &&
              many.between(many.latest_start(e, w), e) == w;
    if (w > 0ms) ok = ok && !many.is_paused(e - 1ms) && office.is_working(e - 1ms);
    if (!ok) ++failures;
  }
  CHECK(failures == 0);
}

TEST_CASE("calendar: usable as the engine's calendar") {
  std::shared_ptr<const acm::Calendar> cal = std::make_shared<BusinessCalendar>(office_spec("Europe/Rome"));
  CHECK(cal->name() == "office");
  CHECK(cal->add(t("2026-11-27T15:00:00+01:00"), 8h) == t("2026-11-30T15:00:00+01:00"));
  BusinessCalendar copy = *std::static_pointer_cast<const BusinessCalendar>(cal);  // copies share state
  CHECK(copy.spec() == office_spec("Europe/Rome"));
}
