// SPDX-License-Identifier: Apache-2.0
// eventlog/timestamp.cpp - CSV timestamps through Howard Hinnant's date library.
#include "eventlog/timestamp.hpp"

#include "base/time_parse.hpp"

#include <acm/error.hpp>

#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <exception>

namespace acm::eventlog::detail {

namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

/// Reads 1..max_digits digits at `p`.
bool digits(std::string_view s, std::size_t& p, int max_digits, int& value) {
  int n = 0;
  int v = 0;
  while (p < s.size() && n < max_digits && is_digit(s[p])) {
    v = v * 10 + (s[p] - '0');
    ++p;
    ++n;
  }
  value = v;
  return n > 0;
}

}  // namespace

TimestampParser::TimestampParser(std::string format, const std::string& zone) : format_(std::move(format)) {
  if (format_.empty()) throw Error(ErrorCode::invalid_argument, "event log: empty timestamp format");
  if (!zone.empty() && zone != "UTC" && zone != "Etc/UTC") {
    try {
      zone_ = date::locate_zone(zone);
    } catch (const std::exception& e) {
      throw Error(ErrorCode::invalid_argument, "event log: unknown time zone '" + zone + "' (" + e.what() + ")");
    }
  }
  has_offset_ = format_.find("%z") != std::string::npos || format_.find("%Ez") != std::string::npos ||
                format_.find("%Oz") != std::string::npos;
  // Compile the simple formats for the scanner.
  bool ok = true;
  bool y = false, m = false, d = false;
  for (std::size_t i = 0; i < format_.size() && ok; ++i) {
    char c = format_[i];
    if (c != '%') {
      if (is_blank(c)) {
        if (tokens_.empty() || tokens_.back().kind != Tok::space) tokens_.push_back({Tok::space, ' '});
      } else {
        tokens_.push_back({Tok::literal, c});
      }
      continue;
    }
    if (++i >= format_.size()) {
      ok = false;
      break;
    }
    switch (format_[i]) {
      case 'Y': tokens_.push_back({Tok::year, 0}), y = true; break;
      case 'm': tokens_.push_back({Tok::month, 0}), m = true; break;
      case 'd': tokens_.push_back({Tok::day, 0}), d = true; break;
      case 'H': tokens_.push_back({Tok::hour, 0}); break;
      case 'M': tokens_.push_back({Tok::minute, 0}); break;
      case 'S': tokens_.push_back({Tok::second, 0}); break;
      case 'F':
        tokens_.insert(tokens_.end(), {{Tok::year, 0}, {Tok::literal, '-'}, {Tok::month, 0}, {Tok::literal, '-'},
                                       {Tok::day, 0}});
        y = m = d = true;
        break;
      case 'T':
        tokens_.insert(tokens_.end(), {{Tok::hour, 0}, {Tok::literal, ':'}, {Tok::minute, 0}, {Tok::literal, ':'},
                                       {Tok::second, 0}});
        break;
      case '%': tokens_.push_back({Tok::literal, '%'}); break;
      default: ok = false;
    }
  }
  fast_ = ok && y && m && d;
  if (!fast_) tokens_.clear();
}

bool TimestampParser::parse(std::string_view text, TimePoint& out) {
  text = trim(text);
  if (text.empty()) return false;
  return fast_ ? parse_fast(text, out) : parse_general(text, out);
}

bool TimestampParser::parse_fast(std::string_view s, TimePoint& out) const {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::int64_t frac_ms = 0;
  std::size_t p = 0;
  for (const Token& t : tokens_) {
    switch (t.kind) {
      case Tok::literal:
        if (p >= s.size() || s[p] != t.c) return false;
        ++p;
        break;
      case Tok::space:
        while (p < s.size() && is_blank(s[p])) ++p;
        break;
      case Tok::year:
        if (!digits(s, p, 4, year)) return false;
        break;
      case Tok::month:
        if (!digits(s, p, 2, month)) return false;
        break;
      case Tok::day:
        if (!digits(s, p, 2, day)) return false;
        break;
      case Tok::hour:
        if (!digits(s, p, 2, hour) || hour > 23) return false;
        break;
      case Tok::minute:
        if (!digits(s, p, 2, minute) || minute > 59) return false;
        break;
      case Tok::second:
        if (!digits(s, p, 2, second) || second > 60) return false;
        if (p + 1 < s.size() && s[p] == '.' && is_digit(s[p + 1])) {
          ++p;
          frac_ms = acm::detail::read_fraction_ms(s, p);
        }
        break;
    }
  }
  if (p != s.size()) return false;
  const date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                                 date::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return false;
  const std::int64_t days = date::sys_days{ymd}.time_since_epoch().count();
  const std::int64_t local_ms = ((days * 24 + hour) * 60 + minute) * 60000 + std::int64_t{second} * 1000 + frac_ms;
  return to_utc(local_ms, out);
}

namespace {

// Howard Hinnant's date (3.0) reads %S into an uninitialised long double when no digit follows,
// then converts it to an integer: undefined behaviour (found by fuzzing: "16:55:" or a stray
// byte after the last colon). This walks the format the way date does, as far as it can follow
// it, and says false only when a %S would meet no digit or a %z a sign without a digit (the
// text cannot match anyway); where it cannot follow the format it says true and leaves the
// answer to date.
bool seconds_have_digits(std::string_view fmt, std::string_view text) {
  std::size_t t = 0;
  auto digits = [&](std::size_t max) {
    std::size_t n = 0;
    while (t < text.size() && n < max && is_digit(text[t])) ++t, ++n;
    return n;
  };
  auto literal = [&](char c) {
    if (t >= text.size() || text[t] != c) return false;
    ++t;
    return true;
  };
  auto seconds = [&] { return t < text.size() && is_digit(text[t]); };
  // Past the seconds (and a fraction) the walk goes on, to reach a %z.
  auto skip_seconds = [&] {
    digits(2);
    if (t + 1 < text.size() && (text[t] == '.' || text[t] == ',') && is_digit(text[t + 1])) {
      ++t;
      while (t < text.size() && is_digit(text[t])) ++t;
    }
  };
  for (std::size_t f = 0; f < fmt.size(); ++f) {
    const char c = fmt[f];
    if (c != '%') {
      if (c == ' ' || c == '\t') {
        while (t < text.size() && (text[t] == ' ' || text[t] == '\t')) ++t;
        continue;
      }
      if (!literal(c)) return true;  // date fails here, before any later %S
      continue;
    }
    if (++f >= fmt.size()) return true;
    char k = fmt[f];
    if (k == 'E' || k == 'O') {
      if (++f >= fmt.size()) return true;
      k = fmt[f];
    }
    switch (k) {
      case 'S':
        if (!seconds()) return false;
        skip_seconds();
        break;
      case 'T':
        if (!digits(2) || !literal(':') || !digits(2) || !literal(':')) return true;
        if (!seconds()) return false;
        skip_seconds();
        break;
      case 'z':
        // date negates its "no offset" sentinel (minutes::min()) when a sign is followed by no
        // digit: undefined behaviour (found by fuzzing). Such text cannot match anyway.
        // date may have read more of the seconds than this walk, so every sign from here on is
        // checked: the offset's is the only one such formats allow here, and it needs a digit.
        for (; t < text.size(); ++t)
          if ((text[t] == '-' || text[t] == '+') && (t + 1 >= text.size() || !is_digit(text[t + 1])))
            return false;
        return true;
      case 'F':
        if (t < text.size() && (text[t] == '-' || text[t] == '+')) ++t;
        if (!digits(4) || !literal('-') || !digits(2) || !literal('-') || !digits(2)) return true;
        break;
      case 'Y':
        if (t < text.size() && (text[t] == '-' || text[t] == '+')) ++t;
        if (!digits(4)) return true;
        break;
      case 'm': case 'd': case 'H': case 'M': case 'y': case 'I':
        if (!digits(2)) return true;
        break;
      case 'j':
        if (!digits(3)) return true;
        break;
      case '%':
        if (!literal('%')) return true;
        break;
      default:
        return true;  // a field this walk does not follow
    }
  }
  return true;
}

}  // namespace

bool TimestampParser::parse_general(std::string_view text, TimePoint& out) {
  if (!seconds_have_digits(format_, text)) return false;
  stream_.clear();
  stream_.str(std::string(text));
  if (has_offset_) {
    date::sys_time<microseconds> t;
    stream_ >> date::parse(format_, t);
    if (stream_.fail() || stream_.peek() != std::char_traits<char>::eof()) return false;
    out = std::chrono::floor<milliseconds>(t);
    return true;
  }
  date::local_time<microseconds> t;
  stream_ >> date::parse(format_, t);
  if (stream_.fail() || stream_.peek() != std::char_traits<char>::eof()) return false;
  return to_utc(std::chrono::floor<milliseconds>(t).time_since_epoch().count(), out);
}

bool TimestampParser::to_utc(std::int64_t local_ms, TimePoint& out) const {
  if (zone_ == nullptr) {
    out = TimePoint{milliseconds{local_ms}};
    return true;
  }
  // Ambiguous local times (clocks set back) take the earlier instant; times that do not exist
  // (clocks set forward) map to the instant of the change.
  try {
    out = zone_->to_sys(date::local_time<milliseconds>{milliseconds{local_ms}}, date::choose::earliest);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace acm::eventlog::detail
