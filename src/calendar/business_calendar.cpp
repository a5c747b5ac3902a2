// SPDX-License-Identifier: Apache-2.0
// calendar/business_calendar.cpp - working time by local business hours in an IANA zone.
//
// Model. Local days are numbered like sys_days (days since 1970-01-01, local midnight). A local
// wall-clock time maps to an instant by `to_sys`: times in a spring-forward gap map to the first
// instant after the gap, ambiguous times to their first occurrence. That map is non-decreasing,
// so each day's intervals map to sorted, disjoint UTC spans, later days to later spans, and all
// the counting is done on UTC spans clipped to the query.
//
// Speed. A day is "regular" when it is not a holiday or special day and its whole local range
// has one UTC offset. A run of regular days is periodic: every 7 of them hold exactly
// `week_ms_` of work, shifted by 7 * 24 h. The loops walk day by day only near the ends of a
// query and across irregular days, and jump over whole weeks of a regular run in one step,
// so a call costs O(holidays + offset changes crossed), not O(days).
#include "calendar/zone.hpp"

#include <acm/calendar.hpp>
#include <acm/error.hpp>

#include <date/tz.h>

#include <algorithm>
#include <cstdint>
#include <limits>

namespace acm {

namespace {

using std::chrono::milliseconds;
using Ms = std::int64_t;

constexpr Ms kMsPerMinute = 60 * 1000;
constexpr Ms kMsPerDay = 24 * 60 * kMsPerMinute;
constexpr Ms kMsPerWeek = 7 * kMsPerDay;

Ms floor_div(Ms a, Ms b) {
  Ms q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) --q;
  return q;
}

Ms day_number(const Date& d) { return std::chrono::sys_days{d}.time_since_epoch().count(); }

// Supported instants: years 0001..9999 UTC.
const TimePoint kMinTime{std::chrono::sys_days{std::chrono::year{1} / std::chrono::January / 1}};
const TimePoint kMaxTime{std::chrono::sys_days{std::chrono::year{10000} / std::chrono::January / 1} - milliseconds{1}};
// The same bounds in seconds, to compare with the zone's (far-off sentinel) transition times.
const date::sys_seconds kMinSeconds = std::chrono::floor<std::chrono::seconds>(kMinTime);
const date::sys_seconds kMaxSeconds = std::chrono::floor<std::chrono::seconds>(kMaxTime);

struct Span {
  TimePoint begin;
  TimePoint end;
};

// Sorted by begin, touching intervals merged.
std::vector<Interval> normalized(std::vector<Interval> v) {
  std::sort(v.begin(), v.end(), [](const Interval& a, const Interval& b) { return a.begin < b.begin; });
  std::vector<Interval> out;
  for (const Interval& iv : v) {
    if (!out.empty() && iv.begin <= out.back().end) {
      out.back().end = std::max(out.back().end, iv.end);
    } else {
      out.push_back(iv);
    }
  }
  return out;
}

}  // namespace

namespace calendar {

bool zone_exists(const std::string& name) {
  try {
    return date::locate_zone(name) != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace calendar

struct BusinessCalendar::Impl {
  CalendarSpec spec;
  const date::time_zone* zone = nullptr;
  std::array<std::vector<Interval>, 7> week;    // Monday first; normalized
  std::map<Ms, std::vector<Interval>> special;  // local day -> its hours (holidays: none)
  Ms week_ms = 0;
  Ms min_day = 0;  // local days outside [min_day, max_day] are never reached
  Ms max_day = 0;

  [[noreturn]] void out_of_range(const char* what) const {
    throw Error(ErrorCode::invalid_argument,
                "calendar '" + spec.name + "': " + what + " outside the supported years 0001..9999 UTC");
  }

  void check(TimePoint t) const {
    if (t < kMinTime || t > kMaxTime) out_of_range("time");
  }

  TimePoint checked_result(TimePoint t) const {
    if (t < kMinTime || t > kMaxTime) out_of_range("result");
    return t;
  }

  const std::vector<Interval>& hours(Ms day) const {
    auto it = special.find(day);
    if (it != special.end()) return it->second;
    Ms monday_based = floor_div(day + 3, 7) * 7;  // 1970-01-01 was a Thursday (index 3)
    return week[static_cast<std::size_t>(day + 3 - monday_based)];
  }

  // The instant of local wall-clock time `local_ms` (ms since local 1970-01-01 00:00).
  TimePoint to_sys(Ms local_ms) const {
    date::local_time<milliseconds> lt{milliseconds{local_ms}};
    date::local_info info = zone->get_info(lt);
    if (info.result == date::local_info::nonexistent) return TimePoint{info.second.begin};
    return TimePoint{milliseconds{local_ms} - std::chrono::duration_cast<milliseconds>(info.first.offset)};
  }

  TimePoint day_start(Ms day) const { return to_sys(day * kMsPerDay); }

  // The local day that `t` falls in.
  Ms local_day(TimePoint t) const {
    date::sys_info info = zone->get_info(t);
    return floor_div((t.time_since_epoch() + info.offset).count(), kMsPerDay);
  }

  void spans(Ms day, std::vector<Span>& out) const {
    out.clear();
    Ms base = day * kMsPerDay;
    for (const Interval& iv : hours(day)) {
      TimePoint a = to_sys(base + iv.begin * kMsPerMinute);
      TimePoint b = to_sys(base + iv.end * kMsPerMinute);
      if (a < b) out.push_back({a, b});  // empty when wholly inside a gap
    }
  }

  // Regular days [first, last], all with UTC offset `offset_ms`; empty when first > last.
  struct Run {
    Ms first = 1;
    Ms last = 0;
    Ms offset_ms = 0;
    bool contains(Ms day) const { return first <= day && day <= last; }
  };

  // The run of regular days starting at `day` (empty if `day` is not regular). It ends before the
  // next special day and before the day of the next offset change after the start of `day`.
  Run run_from(Ms day) const {
    Ms limit = max_day + 1;
    auto it = special.lower_bound(day);
    if (it != special.end()) limit = std::min(limit, it->first);
    date::sys_info info = zone->get_info(day_start(day));
    if (info.end < kMaxSeconds) {
      // Every local time before the change read in the old offset still has the old offset.
      limit = std::min(limit, floor_div(milliseconds{(info.end + info.offset).time_since_epoch()}.count(), kMsPerDay));
    }
    return Run{day, limit - 1, milliseconds{info.offset}.count()};
  }

  // The run of regular days ending at `day` (empty if `day` is not regular).
  Run run_to(Ms day) const {
    Ms limit = min_day - 1;
    auto it = special.upper_bound(day);
    if (it != special.begin()) limit = std::max(limit, std::prev(it)->first);
    date::sys_info info = zone->get_info(day_start(day + 1) - milliseconds{1});
    if (info.begin > kMinSeconds) {
      // Local times just after a fall-back are ambiguous and map to the old offset: place the
      // change's day by the larger of both offsets.
      date::sys_info before = zone->get_info(info.begin - std::chrono::seconds{1});
      auto offset = std::max(info.offset, before.offset);
      limit = std::max(limit, floor_div(milliseconds{(info.begin + offset).time_since_epoch()}.count(), kMsPerDay));
    }
    return Run{limit + 1, day, milliseconds{info.offset}.count()};
  }

  // Start of `day` and its spans: by plain arithmetic inside a run, through the zone otherwise.
  TimePoint start_of(Ms day, const Run& run) const {
    return run.contains(day) ? TimePoint{milliseconds{day * kMsPerDay - run.offset_ms}} : day_start(day);
  }

  void spans_of(Ms day, const Run& run, std::vector<Span>& out) const {
    if (!run.contains(day)) return spans(day, out);
    out.clear();
    Ms base = day * kMsPerDay - run.offset_ms;
    for (const Interval& iv : hours(day)) {
      out.push_back({TimePoint{milliseconds{base + iv.begin * kMsPerMinute}},
                     TimePoint{milliseconds{base + iv.end * kMsPerMinute}}});
    }
  }

  // Earliest t >= s with `work` (> 0) counted in [s, t).
  TimePoint forward(TimePoint s, Ms work) const {
    Ms remaining = work;
    Ms d = local_day(s) - 1;
    Run run;
    std::vector<Span> day;
    while (true) {
      if (d > max_day) out_of_range("result");
      if (!run.contains(d)) run = run_from(d);
      if (remaining > week_ms && run.contains(d) && start_of(d, run) >= s) {
        Ms k = std::min((run.last + 1 - d) / 7, (remaining - 1) / week_ms);  // leaves > 0
        if (k > 0) {
          d += 7 * k;
          remaining -= k * week_ms;
          continue;
        }
      }
      spans_of(d, run, day);
      for (const Span& sp : day) {
        if (sp.end <= s) continue;
        TimePoint a = std::max(sp.begin, s);
        Ms len = (sp.end - a).count();
        if (remaining <= len) return checked_result(a + milliseconds{remaining});
        remaining -= len;
      }
      ++d;
    }
  }

  // Latest t <= e with `work` (> 0) counted in [t, e).
  TimePoint backward(TimePoint e, Ms work) const {
    Ms remaining = work;
    Ms d = local_day(e) + 1;
    Run run;
    std::vector<Span> day;
    while (true) {
      if (d < min_day) out_of_range("result");
      if (!run.contains(d)) run = run_to(d);
      if (remaining > week_ms && run.contains(d) && start_of(d + 1, run) <= e) {
        Ms k = std::min((d + 1 - run.first) / 7, (remaining - 1) / week_ms);
        if (k > 0) {
          d -= 7 * k;
          remaining -= k * week_ms;
          continue;
        }
      }
      spans_of(d, run, day);
      for (auto sp = day.rbegin(); sp != day.rend(); ++sp) {
        if (sp->begin >= e) continue;
        TimePoint b = std::min(sp->end, e);
        Ms len = (b - sp->begin).count();
        if (remaining <= len) return checked_result(b - milliseconds{remaining});
        remaining -= len;
      }
      --d;
    }
  }

  // Work in [from, to), from <= to.
  Ms count(TimePoint from, TimePoint to) const {
    Ms total = 0;
    Ms d = local_day(from) - 1;
    Ms last = local_day(to) + 1;
    Run run;
    std::vector<Span> day;
    while (d <= last) {
      if (!run.contains(d)) run = run_from(d);
      TimePoint start = start_of(d, run);
      if (run.contains(d) && start >= from && (to - start).count() >= kMsPerWeek) {
        Ms k = std::min((run.last + 1 - d) / 7, (to - start).count() / kMsPerWeek);
        if (k > 0) {
          d += 7 * k;
          total += k * week_ms;
          continue;
        }
      }
      spans_of(d, run, day);
      for (const Span& sp : day) {
        TimePoint a = std::max(sp.begin, from), b = std::min(sp.end, to);
        if (a < b) total += (b - a).count();
      }
      ++d;
    }
    return total;
  }
};

BusinessCalendar::BusinessCalendar(CalendarSpec spec) {
  std::vector<std::string> problems = validate(spec);
  if (!problems.empty()) throw Error(ErrorCode::invalid_definition, calendar::format_problems(spec.name, problems));
  auto impl = std::make_shared<Impl>();
  impl->zone = date::locate_zone(spec.time_zone);
  for (std::size_t d = 0; d < 7; ++d) {
    impl->week[d] = normalized(spec.week[d]);
    for (const Interval& iv : impl->week[d]) impl->week_ms += (iv.end - iv.begin) * kMsPerMinute;
  }
  for (const Date& d : spec.holidays) impl->special[day_number(d)] = {};
  for (const auto& [date, intervals] : spec.special_days) impl->special[day_number(date)] = normalized(intervals);
  impl->min_day = floor_div(kMinTime.time_since_epoch().count(), kMsPerDay) - 2;
  impl->max_day = floor_div(kMaxTime.time_since_epoch().count(), kMsPerDay) + 2;
  impl->spec = std::move(spec);
  impl_ = std::move(impl);
}

BusinessCalendar BusinessCalendar::from_json(const Json& json) {
  return BusinessCalendar(calendar_spec_from_json(json));
}

TimePoint BusinessCalendar::add(TimePoint start, Duration work) const {
  impl_->check(start);
  if (work == Duration::zero()) return start;
  if (work > Duration::zero()) return impl_->forward(start, work.count());
  if (work == Duration::min()) impl_->out_of_range("work");
  return impl_->backward(start, -work.count());
}

TimePoint BusinessCalendar::latest_start(TimePoint end, Duration work) const {
  impl_->check(end);
  if (work == Duration::zero()) return end;
  if (work > Duration::zero()) return impl_->backward(end, work.count());
  if (work == Duration::min()) impl_->out_of_range("work");
  return impl_->forward(end, -work.count());
}

Duration BusinessCalendar::between(TimePoint from, TimePoint to) const {
  impl_->check(from);
  impl_->check(to);
  if (to < from) return -Duration{impl_->count(to, from)};
  return Duration{impl_->count(from, to)};
}

std::string BusinessCalendar::name() const { return impl_->spec.name; }

bool BusinessCalendar::is_working(TimePoint t) const {
  impl_->check(t);
  std::vector<Span> day;
  Ms d = impl_->local_day(t);
  for (Ms i = d - 1; i <= d + 1; ++i) {
    impl_->spans(i, day);
    for (const Span& sp : day) {
      if (sp.begin <= t && t < sp.end) return true;
    }
  }
  return false;
}

TimePoint BusinessCalendar::next_working(TimePoint t) const {
  impl_->check(t);
  std::vector<Span> day;
  for (Ms d = impl_->local_day(t) - 1; d <= impl_->max_day; ++d) {
    impl_->spans(d, day);
    for (const Span& sp : day) {
      if (sp.end > t) return impl_->checked_result(std::max(sp.begin, t));
    }
  }
  impl_->out_of_range("result");
}

const CalendarSpec& BusinessCalendar::spec() const { return impl_->spec; }

Duration BusinessCalendar::week_work() const { return Duration{impl_->week_ms}; }

}  // namespace acm
