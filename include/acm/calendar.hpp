// SPDX-License-Identifier: Apache-2.0
// acm/calendar.hpp - business-hour calendars in IANA time zones, and SLA pauses.
//
// A BusinessCalendar counts only local working hours (per weekday, minus holidays, with special
// days) in one IANA time zone, exactly to the millisecond and across daylight-saving changes.
// A PausedCalendar stops any calendar's clock inside pause windows. Both plug into
// `EngineOptions::calendar` through the `Calendar` interface of <acm/time.hpp>.
// The rules (DST, zero and negative work, ranges) are in docs/calendars.md.
#pragma once

#include <acm/json.hpp>
#include <acm/time.hpp>

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace acm {

/// Local wall-clock working interval [begin, end) in minutes after local midnight.
/// 0 <= begin < end <= 1440 ("24:00" is 1440). Written "09:00-13:00" in JSON.
struct Interval {
  int begin = 0;
  int end = 0;
  friend bool operator==(const Interval&, const Interval&) = default;
};

/// A local calendar date (no time zone), e.g. 2026y/std::chrono::December/25.
using Date = std::chrono::year_month_day;

/// Everything a BusinessCalendar is built from; a plain value, checked by `validate`.
struct CalendarSpec {
  /// Name for messages and storage (non-empty), e.g. "it-office".
  std::string name;
  /// IANA time zone of the wall-clock hours, e.g. "Europe/Rome". Default "UTC".
  std::string time_zone = "UTC";
  /// Working intervals per weekday in ISO order: week[0] is Monday ... week[6] Sunday.
  /// Any order within a day; they must not overlap (touching is fine). Empty: day off.
  std::array<std::vector<Interval>, 7> week;
  /// Whole local days off (any order; duplicates are harmless).
  std::vector<Date> holidays;
  /// Dates with their own hours instead of the weekday's, e.g. a half day on 24 December or a
  /// working Saturday. An empty list closes the day. A date may not also be a holiday.
  std::map<Date, std::vector<Interval>> special_days;

  friend bool operator==(const CalendarSpec&, const CalendarSpec&) = default;
};

/// Every problem of `spec`, one message each (empty when the spec is valid): empty name,
/// unknown time zone, intervals out of 0..24:00, reversed, empty or overlapping, invalid dates,
/// a date both holiday and special day, no working time in the week.
std::vector<std::string> validate(const CalendarSpec& spec);

/// Parses the JSON form:
///   {"name": "it-office", "time_zone": "Europe/Rome",
///    "hours": {"mon": ["09:00-13:00", "14:00-18:00"], ..., "sun": []},
///    "holidays": ["2026-12-25"], "special_days": {"2026-12-24": ["09:00-13:00"]}}
/// "hours" keys are mon tue wed thu fri sat sun (missing: day off); "time_zone" defaults to
/// "UTC"; "holidays" and "special_days" are optional. Throws Error(invalid_definition) listing
/// every problem: format errors (unknown keys, bad "hh:mm-hh:mm", bad dates) and all of
/// `validate`.
CalendarSpec calendar_spec_from_json(const Json& json);
/// The JSON form of `spec` (days without hours, empty holidays and special days are omitted).
/// calendar_spec_from_json(to_json(s)) == s for every valid s.
Json to_json(const CalendarSpec& spec);

/// Working time by local business hours in an IANA zone.
///
/// Rules (docs/calendars.md): intervals are local wall-clock time; a local time inside a
/// spring-forward gap means the first instant after the gap, an ambiguous (repeated) local time
/// means its first occurrence. So on the spring-forward day an interval across the gap is shorter,
/// on the fall-back day an interval over the repeated hour is longer.
/// add(s, w) is the earliest t >= s with between(s, t) == w (so add(s, 0) == s);
/// latest_start(e, w) is the latest t <= e with between(t, e) == w; negative work goes the
/// other way (add(s, -w) == latest_start(s, w)), as with AlwaysCalendar.
/// Instants must lie in years 0001..9999 UTC, else Error(invalid_argument); so must results.
/// Cost: a few microseconds per call, independent of the size of the work, except for one step
/// per holiday, special day and DST change crossed.
///
/// Immutable; copies share their state; safe to use from several threads.
/// Time-zone rules come from the OS database (/usr/share/zoneinfo) through Howard Hinnant's
/// date/tz; it reads the transitions listed in the files (Debian: up to 2037) and keeps the last
/// offset after them.
class BusinessCalendar final : public Calendar {
 public:
  /// Builds the calendar. Throws Error(invalid_definition) listing every problem of `spec`.
  explicit BusinessCalendar(CalendarSpec spec);
  /// calendar_spec_from_json + constructor.
  static BusinessCalendar from_json(const Json& json);

  TimePoint add(TimePoint start, Duration work) const override;
  TimePoint latest_start(TimePoint end, Duration work) const override;
  Duration between(TimePoint from, TimePoint to) const override;
  std::string name() const override;

  /// Whether `t` lies inside a working interval (intervals are half-open).
  bool is_working(TimePoint t) const;
  /// The earliest working instant at or after `t` (t itself when working).
  TimePoint next_working(TimePoint t) const;
  /// The spec the calendar was built from.
  const CalendarSpec& spec() const;
  /// Nominal working time of a week without holidays or DST changes.
  Duration week_work() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

/// One pause window [begin, end); end == TimePoint::max() is an open pause (the clock stops).
using Pause = std::pair<TimePoint, TimePoint>;

/// A calendar whose clock stops inside pause windows (SLA pauses: "waiting for customer").
///
/// Time counts when the base calendar counts it and it lies in no pause. Pauses may overlap and
/// come in any order. add() returns TimePoint::max() ("never") when the work cannot finish
/// before an open pause; between() stops counting at an open pause (and accepts
/// to == TimePoint::max() then). Holds a reference: `base` must outlive this object.
/// Immutable; safe to use from several threads if `base` is.
class PausedCalendar final : public Calendar {
 public:
  /// Throws Error(invalid_argument) if a pause ends before it begins.
  PausedCalendar(const Calendar& base, std::vector<Pause> pauses);

  TimePoint add(TimePoint start, Duration work) const override;
  TimePoint latest_start(TimePoint end, Duration work) const override;
  Duration between(TimePoint from, TimePoint to) const override;
  /// The base calendar's name.
  std::string name() const override;

  /// Whether `t` lies in a pause.
  bool is_paused(TimePoint t) const;
  /// The pauses, sorted and merged.
  const std::vector<Pause>& pauses() const { return pauses_; }

 private:
  const Calendar& base_;
  std::vector<Pause> pauses_;  // sorted, disjoint, non-touching, non-empty
};

}  // namespace acm
