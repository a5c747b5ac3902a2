// SPDX-License-Identifier: Apache-2.0
// calendar/paused_calendar.cpp - a calendar whose clock stops inside pause windows.
//
// The pauses are kept sorted and merged, so the counting time between them is a sorted list of
// gaps; each query asks the base calendar about the gaps it crosses: O(pauses crossed) base calls.
#include <acm/calendar.hpp>
#include <acm/error.hpp>

#include <algorithm>

namespace acm {

PausedCalendar::PausedCalendar(const Calendar& base, std::vector<Pause> pauses) : base_(base) {
  for (const Pause& p : pauses) {
    if (p.second < p.first) {
      throw Error(ErrorCode::invalid_argument, "PausedCalendar: pause " + format_time(p.first) + " .. " +
                                                   format_time(p.second) + " ends before it begins");
    }
  }
  std::sort(pauses.begin(), pauses.end());
  for (const Pause& p : pauses) {
    if (p.first == p.second) continue;
    if (!pauses_.empty() && p.first <= pauses_.back().second) {
      pauses_.back().second = std::max(pauses_.back().second, p.second);
    } else {
      pauses_.push_back(p);
    }
  }
}

bool PausedCalendar::is_paused(TimePoint t) const {
  auto it =
      std::upper_bound(pauses_.begin(), pauses_.end(), t, [](TimePoint v, const Pause& p) { return v < p.first; });
  return it != pauses_.begin() && t < std::prev(it)->second;
}

Duration PausedCalendar::between(TimePoint from, TimePoint to) const {
  if (to < from) return -between(to, from);
  Duration total{0};
  TimePoint cursor = from;
  // First pause that ends after `from` (ends are sorted as the pauses are disjoint).
  auto it =
      std::upper_bound(pauses_.begin(), pauses_.end(), from, [](TimePoint v, const Pause& p) { return v < p.second; });
  for (; it != pauses_.end() && it->first < to; ++it) {
    if (it->first > cursor) total += base_.between(cursor, it->first);
    cursor = std::max(cursor, it->second);
    if (cursor >= to) return total;
  }
  if (cursor < to) total += base_.between(cursor, to);
  return total;
}

TimePoint PausedCalendar::add(TimePoint start, Duration work) const {
  if (work == Duration::zero()) return start;
  if (work < Duration::zero()) {
    if (work == Duration::min()) throw Error(ErrorCode::invalid_argument, "PausedCalendar::add: work out of range");
    return latest_start(start, -work);
  }
  Duration remaining = work;
  TimePoint cursor = start;
  auto it =
      std::upper_bound(pauses_.begin(), pauses_.end(), start, [](TimePoint v, const Pause& p) { return v < p.second; });
  for (; it != pauses_.end(); ++it) {
    if (it->first > cursor) {
      Duration available = base_.between(cursor, it->first);
      if (available >= remaining) return base_.add(cursor, remaining);
      remaining -= available;
    }
    if (it->second == TimePoint::max()) return TimePoint::max();  // open pause: never
    cursor = it->second;
  }
  return base_.add(cursor, remaining);
}

TimePoint PausedCalendar::latest_start(TimePoint end, Duration work) const {
  if (work == Duration::zero()) return end;
  if (work < Duration::zero()) {
    if (work == Duration::min()) {
      throw Error(ErrorCode::invalid_argument, "PausedCalendar::latest_start: work out of range");
    }
    return add(end, -work);
  }
  Duration remaining = work;
  TimePoint cursor = end;
  // Pauses that begin before `end`, latest first.
  auto it =
      std::lower_bound(pauses_.begin(), pauses_.end(), end, [](const Pause& p, TimePoint v) { return p.first < v; });
  while (it != pauses_.begin()) {
    --it;
    if (it->second < cursor) {
      Duration available = base_.between(it->second, cursor);
      if (available >= remaining) return base_.latest_start(cursor, remaining);
      remaining -= available;
    }
    if (it->first == TimePoint::min()) return TimePoint::min();  // paused since forever
    cursor = std::min(cursor, it->first);
  }
  return base_.latest_start(cursor, remaining);
}

std::string PausedCalendar::name() const { return base_.name(); }

}  // namespace acm
