// SPDX-License-Identifier: Apache-2.0
// calendar/calendar_spec.cpp - validation and JSON form of CalendarSpec.
//
// Problems are collected, never thrown one by one: each is "<path>: <message>" where the path is
// a JSON pointer into the JSON form (docs/calendars.md), also for specs built in C++.
#include "calendar/zone.hpp"

#include <acm/calendar.hpp>
#include <acm/error.hpp>

#include <algorithm>
#include <cstdio>
#include <string_view>

namespace acm {

namespace {

constexpr std::array<const char*, 7> kDayKeys = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr int kMinutesPerDay = 24 * 60;

std::string two_digits(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02u", v % 100);
  return buf;
}

std::string format_minutes(int minutes) { return two_digits(minutes / 60) + ":" + two_digits(minutes % 60); }

std::string format_interval(const Interval& iv) { return format_minutes(iv.begin) + "-" + format_minutes(iv.end); }

std::string format_date(const Date& d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return buf;
}

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int to_int(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// "hh:mm" (hour 0..24, minute 0..59, 24 only with 00) -> minutes; -1 if malformed.
int parse_minutes(std::string_view s) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return -1;
  std::string_view h = s.substr(0, colon), m = s.substr(colon + 1);
  if (!digits(h) || h.size() > 2 || !digits(m) || m.size() != 2) return -1;
  int hours = to_int(h), minutes = to_int(m);
  if (minutes > 59 || hours > 24 || (hours == 24 && minutes != 0)) return -1;
  return hours * 60 + minutes;
}

bool parse_interval(std::string_view s, Interval& out) {
  auto dash = s.find('-');
  if (dash == std::string_view::npos) return false;
  int b = parse_minutes(s.substr(0, dash)), e = parse_minutes(s.substr(dash + 1));
  if (b < 0 || e < 0) return false;
  out = Interval{b, e};
  return true;
}

// "YYYY-MM-DD", a real date.
bool parse_date(std::string_view s, Date& out) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  std::string_view y = s.substr(0, 4), m = s.substr(5, 2), d = s.substr(8, 2);
  if (!digits(y) || !digits(m) || !digits(d)) return false;
  Date date{std::chrono::year{to_int(y)}, std::chrono::month{static_cast<unsigned>(to_int(m))},
            std::chrono::day{static_cast<unsigned>(to_int(d))}};
  if (!date.ok()) return false;
  out = date;
  return true;
}

void check_intervals(const std::vector<Interval>& intervals, const std::string& path,
                     std::vector<std::string>& problems) {
  std::vector<Interval> sorted;
  for (std::size_t i = 0; i < intervals.size(); ++i) {
    const Interval& iv = intervals[i];
    std::string where = path + "/" + std::to_string(i) + ": ";
    if (iv.begin < 0 || iv.begin > kMinutesPerDay || iv.end < 0 || iv.end > kMinutesPerDay) {
      problems.push_back(where + "interval " + std::to_string(iv.begin) + "-" + std::to_string(iv.end) +
                         " (minutes) is outside 00:00-24:00");
    } else if (iv.begin > iv.end) {
      problems.push_back(where + "interval " + format_interval(iv) + " is reversed");
    } else if (iv.begin == iv.end) {
      problems.push_back(where + "interval " + format_interval(iv) + " is empty");
    } else {
      sorted.push_back(iv);
    }
  }
  std::sort(sorted.begin(), sorted.end(), [](const Interval& a, const Interval& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i].begin < sorted[i - 1].end) {
      problems.push_back(path + ": intervals " + format_interval(sorted[i - 1]) + " and " + format_interval(sorted[i]) +
                         " overlap");
    }
  }
}

bool date_in_range(const Date& d) { return d.year() >= std::chrono::year{1} && d.year() <= std::chrono::year{9999}; }

}  // namespace

std::vector<std::string> validate(const CalendarSpec& spec) {
  std::vector<std::string> problems;
  if (spec.name.empty()) problems.push_back("/name: the name is empty");
  if (!calendar::zone_exists(spec.time_zone)) {
    problems.push_back("/time_zone: unknown time zone \"" + spec.time_zone + "\"");
  }
  bool any_work = false;
  for (std::size_t d = 0; d < 7; ++d) {
    check_intervals(spec.week[d], std::string("/hours/") + kDayKeys[d], problems);
    for (const Interval& iv : spec.week[d]) {
      if (iv.begin >= 0 && iv.begin < iv.end && iv.end <= kMinutesPerDay) any_work = true;
    }
  }
  if (!any_work) problems.push_back("/hours: no working time in the week");
  for (const Date& d : spec.holidays) {
    // No index in the path: the JSON reader drops unreadable dates, so indexes could differ.
    if (!d.ok() || !date_in_range(d)) {
      problems.push_back("/holidays: invalid date " + format_date(d));
    } else if (spec.special_days.count(d) != 0) {
      problems.push_back("/holidays: " + format_date(d) + " is both a holiday and a special day");
    }
  }
  for (const auto& [date, intervals] : spec.special_days) {
    std::string path = "/special_days/" + format_date(date);
    if (!date.ok() || !date_in_range(date)) problems.push_back(path + ": invalid date " + format_date(date));
    check_intervals(intervals, path, problems);
  }
  return problems;
}

namespace calendar {

std::string format_problems(const std::string& name, const std::vector<std::string>& problems) {
  std::string text = std::to_string(problems.size()) + (problems.size() == 1 ? " problem" : " problems") +
                     " in calendar '" + name + "':";
  for (const std::string& p : problems) text += "\n  " + p;
  return text;
}

}  // namespace calendar

CalendarSpec calendar_spec_from_json(const Json& json) {
  CalendarSpec spec;
  std::vector<std::string> problems;
  if (!json.is_object()) {
    throw Error(ErrorCode::invalid_definition,
                calendar::format_problems("", {"(document): a calendar is a JSON object"}));
  }
  auto read_intervals = [&](const Json& list, const std::string& path, std::vector<Interval>& out) {
    if (!list.is_array()) {
      problems.push_back(path + ": expected an array of \"hh:mm-hh:mm\" strings");
      return;
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      Interval iv;
      if (!list[i].is_string() || !parse_interval(list[i].get_ref<const std::string&>(), iv)) {
        problems.push_back(path + "/" + std::to_string(i) + ": expected \"hh:mm-hh:mm\", got " + list[i].dump());
      } else {
        out.push_back(iv);
      }
    }
  };
  for (const auto& [key, value] : json.items()) {
    if (key == "name") {
      if (value.is_string())
        spec.name = value.get<std::string>();
      else
        problems.push_back("/name: expected a string");
    } else if (key == "time_zone") {
      if (value.is_string())
        spec.time_zone = value.get<std::string>();
      else
        problems.push_back("/time_zone: expected a string");
    } else if (key == "hours") {
      if (!value.is_object()) {
        problems.push_back("/hours: expected an object with keys mon..sun");
        continue;
      }
      for (const auto& [day, list] : value.items()) {
        auto it = std::find_if(kDayKeys.begin(), kDayKeys.end(), [&name = day](const char* k) { return name == k; });
        if (it == kDayKeys.end()) {
          problems.push_back("/hours/" + day + ": unknown day (expected mon, tue, wed, thu, fri, sat, sun)");
          continue;
        }
        read_intervals(list, "/hours/" + day, spec.week[static_cast<std::size_t>(it - kDayKeys.begin())]);
      }
    } else if (key == "holidays") {
      if (!value.is_array()) {
        problems.push_back("/holidays: expected an array of \"YYYY-MM-DD\" strings");
        continue;
      }
      for (std::size_t i = 0; i < value.size(); ++i) {
        Date d;
        if (!value[i].is_string() || !parse_date(value[i].get_ref<const std::string&>(), d)) {
          problems.push_back("/holidays/" + std::to_string(i) + ": expected a date \"YYYY-MM-DD\", got " +
                             value[i].dump());
        } else {
          spec.holidays.push_back(d);
        }
      }
    } else if (key == "special_days") {
      if (!value.is_object()) {
        problems.push_back("/special_days: expected an object {\"YYYY-MM-DD\": [\"hh:mm-hh:mm\", ...]}");
        continue;
      }
      for (const auto& [text, list] : value.items()) {
        Date d;
        if (!parse_date(text, d)) {
          problems.push_back("/special_days/" + text + ": expected a date \"YYYY-MM-DD\"");
          continue;
        }
        read_intervals(list, "/special_days/" + text, spec.special_days[d]);
      }
    } else {
      problems.push_back("/" + key + ": unknown key (expected name, time_zone, hours, holidays, special_days)");
    }
  }
  if (!json.contains("name")) problems.push_back("/name: missing");
  // A missing or mistyped name is reported above; validate would only add "the name is empty".
  bool name_reported = !json.contains("name") || !json["name"].is_string();
  for (std::string& p : validate(spec)) {
    if (name_reported && p.rfind("/name:", 0) == 0) continue;
    problems.push_back(std::move(p));
  }
  if (!problems.empty()) throw Error(ErrorCode::invalid_definition, calendar::format_problems(spec.name, problems));
  return spec;
}

Json to_json(const CalendarSpec& spec) {
  Json j = Json::object();
  j["name"] = spec.name;
  j["time_zone"] = spec.time_zone;
  Json hours = Json::object();
  for (std::size_t d = 0; d < 7; ++d) {
    if (spec.week[d].empty()) continue;
    Json list = Json::array();
    for (const Interval& iv : spec.week[d]) list.push_back(format_interval(iv));
    hours[kDayKeys[d]] = std::move(list);
  }
  j["hours"] = std::move(hours);
  if (!spec.holidays.empty()) {
    Json list = Json::array();
    for (const Date& d : spec.holidays) list.push_back(format_date(d));
    j["holidays"] = std::move(list);
  }
  if (!spec.special_days.empty()) {
    Json days = Json::object();
    for (const auto& [date, intervals] : spec.special_days) {
      Json list = Json::array();
      for (const Interval& iv : intervals) list.push_back(format_interval(iv));
      days[format_date(date)] = std::move(list);
    }
    j["special_days"] = std::move(days);
  }
  return j;
}

}  // namespace acm
