// SPDX-License-Identifier: Apache-2.0
// base/time.cpp - ISO-8601 times and durations, the system clock and the manual clock.
//
// Only C++20 calendar types are used (year_month_day, sys_days, hh_mm_ss): g++ 12 has no
// std::chrono::parse and no time-zone database, and neither is needed for UTC with offsets.
#include "base/time_parse.hpp"

#include <acm/error.hpp>
#include <acm/time.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <utility>

namespace acm {

namespace {

using namespace std::chrono;

constexpr std::int64_t kMsPerSecond = 1000;
constexpr std::int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr std::int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr std::int64_t kMsPerDay = 24 * kMsPerHour;
constexpr std::int64_t kMsPerWeek = 7 * kMsPerDay;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

/// The text quoted for an error message, shortened if very long.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMax = 100;
  std::string q = "\"";
  if (text.size() > kMax) {
    q.append(text.substr(0, kMax));
    q += "...";
  } else {
    q.append(text);
  }
  q += '"';
  return q;
}

bool fail(std::string* why, std::string reason) {
  if (why) *why = std::move(reason);
  return false;
}

/// Reads exactly `n` digits at `p` into `value`.
bool fixed_digits(std::string_view s, std::size_t& p, int n, int& value) {
  if (p + static_cast<std::size_t>(n) > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[p + static_cast<std::size_t>(i)];
    if (!is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  value = v;
  p += static_cast<std::size_t>(n);
  return true;
}

std::string two(int v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

/// A decimal number "123" or "1.25" (also "1,25" when `comma` is set) read at `p`.
struct Decimal {
  std::uint64_t whole = 0;
  std::uint64_t frac = 0;      // the first `frac_digits` fraction digits
  std::uint64_t frac_scale = 1;  // 10^frac_digits
  std::size_t begin = 0;
};

constexpr int kMaxFractionDigits = 9;

enum class NumResult { ok, none, overflow, bad_fraction };

NumResult read_decimal(std::string_view s, std::size_t& p, bool comma, Decimal& d) {
  d = Decimal{};
  d.begin = p;
  if (p >= s.size() || !is_digit(s[p])) return NumResult::none;
  while (p < s.size() && is_digit(s[p])) {
    std::uint64_t digit = static_cast<std::uint64_t>(s[p] - '0');
    if (d.whole > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return NumResult::overflow;
    d.whole = d.whole * 10 + digit;
    ++p;
  }
  if (p < s.size() && (s[p] == '.' || (comma && s[p] == ','))) {
    ++p;
    if (p >= s.size() || !is_digit(s[p])) return NumResult::bad_fraction;
    int n = 0;
    while (p < s.size() && is_digit(s[p])) {
      if (n < kMaxFractionDigits) {  // further digits are below a nanosecond of a week: ignored
        d.frac = d.frac * 10 + static_cast<std::uint64_t>(s[p] - '0');
        d.frac_scale *= 10;
        ++n;
      }
      ++p;
    }
  }
  return NumResult::ok;
}

/// Magnitudes are summed unsigned, up to `limit` (2^63 - 1, or 2^63 for a negative duration,
/// so that every Duration, including the most negative, parses back from format_duration).
struct Magnitude {
  std::uint64_t total = 0;
  std::uint64_t limit = 0;

  /// Adds d * unit_ms, the fraction rounded to the nearest millisecond. False on overflow.
  bool add(const Decimal& d, std::int64_t unit_ms) {
    const auto unit = static_cast<std::uint64_t>(unit_ms);
    if (d.whole > limit / unit) return false;
    const std::uint64_t v = d.whole * unit;
    // frac < 10^9 and unit <= 6.05e8, so the product fits comfortably in 64 bits.
    const std::uint64_t f = (d.frac * unit + d.frac_scale / 2) / d.frac_scale;
    if (v > limit - f || v + f > limit - total) return false;
    total += v + f;
    return true;
  }
};

bool parse_iso_duration(std::string_view s, std::size_t p, Magnitude& total, std::string* why) {
  // p is just after 'P'. Designators in order: W D (date part), then T, then H M S.
  // Years and months have no fixed length and are rejected.
  bool in_time = false;
  bool any = false;
  bool any_time = false;
  int last_rank = -1;
  while (p < s.size()) {
    char c = s[p];
    if (c == 'T' || c == 't') {
      if (in_time) return fail(why, "'T' appears twice");
      in_time = true;
      ++p;
      continue;
    }
    Decimal d;
    switch (read_decimal(s, p, true, d)) {
      case NumResult::ok: break;
      case NumResult::none:
        return fail(why, std::string("expected a number at '") + c + "'");
      case NumResult::overflow: return fail(why, "out of range");
      case NumResult::bad_fraction: return fail(why, "expected digits after the decimal point");
    }
    if (p >= s.size()) return fail(why, "missing designator after the last number");
    char u = static_cast<char>(s[p] & ~0x20);  // ASCII upper case
    ++p;
    int rank = 0;
    std::int64_t unit = 0;
    if (!in_time) {
      switch (u) {
        case 'Y': return fail(why, "years have no fixed length; use days (e.g. P365D)");
        case 'M': return fail(why, "months have no fixed length; use days (e.g. P30D)");
        case 'W': rank = 0; unit = kMsPerWeek; break;
        case 'D': rank = 1; unit = kMsPerDay; break;
        case 'H':
        case 'S': return fail(why, std::string("'") + u + "' must follow 'T' (e.g. PT4H)");
        default: return fail(why, std::string("unknown designator '") + s[p - 1] + "'");
      }
    } else {
      switch (u) {
        case 'H': rank = 2; unit = kMsPerHour; break;
        case 'M': rank = 3; unit = kMsPerMinute; break;
        case 'S': rank = 4; unit = kMsPerSecond; break;
        case 'W':
        case 'D':
        case 'Y': return fail(why, std::string("'") + u + "' must come before 'T'");
        default: return fail(why, std::string("unknown designator '") + s[p - 1] + "'");
      }
      any_time = true;
    }
    if (rank <= last_rank) return fail(why, "components repeated or out of order (order: W D T H M S)");
    last_rank = rank;
    if (!total.add(d, unit)) return fail(why, "out of range");
    any = true;
  }
  if (in_time && !any_time) return fail(why, "'T' must be followed by hours, minutes or seconds");
  if (!any) return fail(why, "no components after 'P'");
  return true;
}

bool parse_short_duration(std::string_view s, std::size_t p, Magnitude& total, std::string* why) {
  // Components "<number><unit>" in decreasing unit order: w d h m s ms; spaces between them.
  static constexpr std::pair<std::string_view, std::int64_t> kUnits[] = {
      {"w", kMsPerWeek}, {"d", kMsPerDay}, {"h", kMsPerHour},
      {"m", kMsPerMinute}, {"s", kMsPerSecond}, {"ms", 1}};
  int last_rank = -1;
  bool any = false;
  while (p < s.size()) {
    if (any) {
      while (p < s.size() && is_space(s[p])) ++p;
      if (p >= s.size()) break;
    }
    Decimal d;
    switch (read_decimal(s, p, false, d)) {
      case NumResult::ok: break;
      case NumResult::none:
        return fail(why, std::string("expected a number at '") + s[p] + "'");
      case NumResult::overflow: return fail(why, "out of range");
      case NumResult::bad_fraction: return fail(why, "expected digits after the decimal point");
    }
    std::size_t u0 = p;
    while (p < s.size() && ((s[p] >= 'a' && s[p] <= 'z') || (s[p] >= 'A' && s[p] <= 'Z'))) ++p;
    std::string_view unit = s.substr(u0, p - u0);
    if (unit.empty()) {
      return fail(why, "missing unit after '" + std::string(s.substr(d.begin, p - d.begin)) +
                           "' (use w, d, h, m, s or ms)");
    }
    int rank = -1;
    for (int i = 0; i < 6; ++i) {
      if (kUnits[i].first == unit) rank = i;
    }
    if (rank < 0) {
      return fail(why, "unknown unit '" + std::string(unit) + "' (use w, d, h, m, s or ms)");
    }
    if (rank <= last_rank) return fail(why, "units repeated or out of order (order: w d h m s ms)");
    last_rank = rank;
    if (!total.add(d, kUnits[rank].second)) return fail(why, "out of range");
    any = true;
  }
  return true;
}

}  // namespace

namespace detail {

std::int64_t read_fraction_ms(std::string_view text, std::size_t& p) {
  std::int64_t ms = 0;
  int n = 0;
  for (; p < text.size() && is_digit(text[p]); ++p, ++n)
    if (n < 3) ms = ms * 10 + (text[p] - '0');
  for (; n < 3; ++n) ms *= 10;
  return ms;
}

bool try_parse_time(std::string_view text, TimePoint& out, std::string* why) {
  const std::string_view s = trim(text);
  if (s.empty()) return fail(why, "empty text");
  std::size_t p = 0;
  int y = 0, mo = 0, d = 0;
  if (!fixed_digits(s, p, 4, y)) return fail(why, "expected a 4-digit year (YYYY-MM-DD)");
  if (p >= s.size() || s[p] != '-') return fail(why, "expected '-' after the year (YYYY-MM-DD)");
  ++p;
  if (!fixed_digits(s, p, 2, mo)) return fail(why, "expected a 2-digit month (YYYY-MM-DD)");
  if (p >= s.size() || s[p] != '-') return fail(why, "expected '-' after the month (YYYY-MM-DD)");
  ++p;
  if (!fixed_digits(s, p, 2, d)) return fail(why, "expected a 2-digit day (YYYY-MM-DD)");
  if (mo < 1 || mo > 12) return fail(why, "month " + two(mo) + " is not 01-12");
  const year_month ym{year{y}, month{static_cast<unsigned>(mo)}};
  const unsigned last = static_cast<unsigned>((ym / std::chrono::last).day());
  if (d < 1 || static_cast<unsigned>(d) > last) {
    return fail(why, "day " + two(d) + " does not exist in " + std::to_string(y) + "-" + two(mo) +
                         " (which has " + std::to_string(last) + " days)");
  }
  std::int64_t ms = static_cast<std::int64_t>(
      sys_days{ym / day{static_cast<unsigned>(d)}}.time_since_epoch().count()) * kMsPerDay;
  if (p == s.size()) {
    out = TimePoint{Duration{ms}};
    return true;
  }
  if (s[p] != 'T' && s[p] != 't' && s[p] != ' ') {
    return fail(why, "expected 'T' or a space between the date and the time");
  }
  ++p;
  int hh = 0, mm = 0, ss = 0;
  if (!fixed_digits(s, p, 2, hh)) return fail(why, "expected a 2-digit hour (HH:MM)");
  if (p >= s.size() || s[p] != ':') return fail(why, "expected ':' after the hour (HH:MM)");
  ++p;
  if (!fixed_digits(s, p, 2, mm)) return fail(why, "expected 2-digit minutes (HH:MM)");
  std::int64_t frac_ms = 0;
  if (p < s.size() && s[p] == ':') {
    ++p;
    if (!fixed_digits(s, p, 2, ss)) return fail(why, "expected 2-digit seconds (HH:MM:SS)");
    if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
      ++p;
      if (p >= s.size() || !is_digit(s[p])) return fail(why, "expected digits after the decimal point");
      frac_ms = detail::read_fraction_ms(s, p);
    }
  }
  if (hh > 23) return fail(why, "hour " + two(hh) + " is not 00-23");
  if (mm > 59) return fail(why, "minute " + two(mm) + " is not 00-59");
  if (ss > 59) return fail(why, "second " + two(ss) + " is not 00-59");
  ms += hh * kMsPerHour + mm * kMsPerMinute + ss * kMsPerSecond + frac_ms;
  if (p < s.size()) {
    const char z = s[p];
    if (z == 'Z' || z == 'z') {
      ++p;
    } else if (z == '+' || z == '-') {
      ++p;
      int oh = 0, om = 0;
      if (!fixed_digits(s, p, 2, oh)) return fail(why, "expected a 2-digit offset hour (+HH:MM)");
      const bool colon = p < s.size() && s[p] == ':';
      if (colon) ++p;
      if ((colon || p < s.size()) && !fixed_digits(s, p, 2, om)) {
        return fail(why, "expected 2-digit offset minutes (+HH:MM)");
      }
      if (oh > 23) return fail(why, "offset hour " + two(oh) + " is not 00-23");
      if (om > 59) return fail(why, "offset minute " + two(om) + " is not 00-59");
      const std::int64_t offset = oh * kMsPerHour + om * kMsPerMinute;
      // Local time = UTC + offset, so UTC = local - offset.
      ms += (z == '+') ? -offset : offset;
    } else {
      return fail(why, "unexpected '" + std::string(1, z) + "' after the time (expected 'Z' or an offset like +01:00)");
    }
    if (p != s.size()) return fail(why, "unexpected text after the time zone");
  }
  // An offset can move a time at the edge of year 0000 or 9999 outside them (UTC).
  if (ms < kEarliestTime.time_since_epoch().count() || ms > kLatestTime.time_since_epoch().count())
    return fail(why, "outside the supported years 0000..9999 UTC");
  out = TimePoint{Duration{ms}};
  return true;
}

bool try_parse_duration(std::string_view text, Duration& out, std::string* why) {
  const std::string_view s = trim(text);
  if (s.empty()) return fail(why, "empty text");
  std::size_t p = 0;
  bool negative = false;
  if (s[p] == '-' || s[p] == '+') {
    negative = s[p] == '-';
    ++p;
  }
  if (p >= s.size()) return fail(why, "nothing after the sign");
  Magnitude total;
  total.limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
  bool ok = (s[p] == 'P' || s[p] == 'p') ? parse_iso_duration(s, p + 1, total, why)
                                         : parse_short_duration(s, p, total, why);
  if (!ok) return false;
  // Two's complement: negating the magnitude 2^63 gives the most negative value.
  out = Duration{static_cast<std::int64_t>(negative ? 0 - total.total : total.total)};
  return true;
}

}  // namespace detail

std::string format_time(TimePoint t) {
  if (t < kEarliestTime || t > kLatestTime)
    throw Error(ErrorCode::invalid_argument,
                "time " + std::to_string(t.time_since_epoch().count()) +
                    " ms after 1970 is outside the supported years 0000..9999 UTC");
  const auto dp = floor<days>(t);
  const year_month_day ymd{dp};
  const std::int64_t tod = (t - dp).count();  // [0, 86'400'000)
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(tod / kMsPerHour), static_cast<int>(tod / kMsPerMinute % 60),
                static_cast<int>(tod / kMsPerSecond % 60), static_cast<int>(tod % 1000));
  return buf;
}

TimePoint parse_time(std::string_view text) {
  TimePoint t;
  std::string why;
  if (!detail::try_parse_time(text, t, &why)) {
    throw Error(ErrorCode::parse_error, "invalid time " + quoted(text) + ": " + why);
  }
  return t;
}

std::string format_duration(Duration d) {
  const std::int64_t c = d.count();
  if (c == 0) return "PT0S";
  // Magnitude as unsigned so that the most negative value does not overflow.
  const std::uint64_t m = c < 0 ? 0 - static_cast<std::uint64_t>(c) : static_cast<std::uint64_t>(c);
  const std::uint64_t days_part = m / kMsPerDay;
  const std::uint64_t hours = m / kMsPerHour % 24;
  const std::uint64_t minutes = m / kMsPerMinute % 60;
  const std::uint64_t seconds = m / kMsPerSecond % 60;
  const std::uint64_t millis = m % 1000;
  std::string out = c < 0 ? "-P" : "P";
  if (days_part) out += std::to_string(days_part) + "D";
  if (hours || minutes || seconds || millis) {
    out += 'T';
    if (hours) out += std::to_string(hours) + "H";
    if (minutes) out += std::to_string(minutes) + "M";
    if (seconds || millis) {
      out += std::to_string(seconds);
      if (millis) {
        char frac[8];
        std::snprintf(frac, sizeof frac, ".%03u", static_cast<unsigned>(millis));
        std::string f = frac;
        while (f.back() == '0') f.pop_back();
        out += f;
      }
      out += 'S';
    }
  }
  return out;
}

Duration parse_duration(std::string_view text) {
  Duration d;
  std::string why;
  if (!detail::try_parse_duration(text, d, &why)) {
    throw Error(ErrorCode::parse_error, "invalid duration " + quoted(text) + ": " + why);
  }
  return d;
}

namespace {

/// `t` shifted by `d` (backwards with `subtract`), within kEarliestTime..kLatestTime; else
/// Error(invalid_argument) naming the duration (no signed overflow on the way).
TimePoint shifted(TimePoint t, Duration d, bool subtract) {
  std::int64_t r = 0;
  const std::int64_t base = t.time_since_epoch().count();
  const bool overflow = subtract ? __builtin_sub_overflow(base, d.count(), &r) : __builtin_add_overflow(base, d.count(), &r);
  if (overflow || r < kEarliestTime.time_since_epoch().count() || r > kLatestTime.time_since_epoch().count())
    throw Error(ErrorCode::invalid_argument,
                "calendar '24x7': " + format_duration(d) + (subtract ? " before " : " after ") +
                    (t < kEarliestTime || t > kLatestTime ? std::string("the given time") : format_time(t)) +
                    " is outside the supported years 0000..9999 UTC");
  return TimePoint{Duration{r}};
}

}  // namespace

TimePoint AlwaysCalendar::add(TimePoint start, Duration work) const { return shifted(start, work, false); }

TimePoint AlwaysCalendar::latest_start(TimePoint end, Duration work) const { return shifted(end, work, true); }

Duration AlwaysCalendar::between(TimePoint from, TimePoint to) const {
  std::int64_t r = 0;
  if (__builtin_sub_overflow(to.time_since_epoch().count(), from.time_since_epoch().count(), &r))
    throw Error(ErrorCode::invalid_argument, "calendar '24x7': the time between two times overflows");
  return Duration{r};
}

TimePoint SystemClock::now() const { return floor<milliseconds>(system_clock::now()); }

ManualClock::ManualClock(TimePoint start) : now_(start) {}

TimePoint ManualClock::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

void ManualClock::advance(Duration d) {
  std::lock_guard advancing(advance_mutex_);
  if (d < Duration::zero()) {
    throw Error(ErrorCode::invalid_argument,
                "ManualClock::advance: negative duration " + format_duration(d));
  }
  advance_to(now() + d);
}

// Locking: `advance_mutex_` (recursive) is held for a whole advance and by detach(), so a
// listener is never called after detach() returns, and a listener may detach itself (or
// another) from inside run_due on the advancing thread. `mutex_` guards now_ and listeners_
// and is never held while a listener runs: listeners call now().
void ManualClock::advance_to(TimePoint t) {
  std::lock_guard advancing(advance_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (t < now_) {
      throw Error(ErrorCode::invalid_argument, "ManualClock::advance_to: " + format_time(t) +
                                                   " is before the current time " + format_time(now_));
    }
  }
  auto attached = [this](Listener* l) {
    std::lock_guard lock(mutex_);
    return std::find(listeners_.begin(), listeners_.end(), l) != listeners_.end();
  };

  // A listener that still reports the same due time <= now after run_due(now) did not consume
  // its work (a bug in it, or work it cannot run yet). Calling it again at the same instant
  // would spin forever, so it is remembered here with that time and left out of the search
  // for the next stop until it reports a different time. A listener that keeps producing new
  // work at the same instant (a cascade) is allowed kMaxRoundsPerInstant rounds, then treated
  // the same way. Either way the clock still reaches `t`.
  std::vector<std::pair<Listener*, TimePoint>> stuck;
  auto is_stuck = [&stuck](Listener* l, TimePoint due) {
    for (const auto& [sl, st] : stuck) {
      if (sl == l && st == due) return true;
    }
    return false;
  };
  constexpr int kMaxRoundsPerInstant = 10'000;
  int rounds_at_instant = 0;
  std::optional<TimePoint> last_at;

  std::vector<Listener*> snapshot;
  std::vector<std::optional<TimePoint>> before;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      snapshot = listeners_;
    }
    before.assign(snapshot.size(), std::nullopt);
    std::optional<TimePoint> earliest;
    for (std::size_t i = 0; i < snapshot.size(); ++i) {
      auto due = snapshot[i]->next_due();
      before[i] = due;
      if (!due || *due > t || is_stuck(snapshot[i], *due)) continue;
      if (!earliest || *due < *earliest) earliest = due;
    }
    if (!earliest) break;
    TimePoint at;
    {
      std::lock_guard lock(mutex_);
      now_ = std::max(now_, *earliest);  // never backwards, even for a due time in the past
      at = now_;
    }
    if (last_at == at) {
      ++rounds_at_instant;
    } else {
      last_at = at;
      rounds_at_instant = 1;
    }
    for (Listener* l : snapshot) {
      if (attached(l)) l->run_due(at);
    }
    for (std::size_t i = 0; i < snapshot.size(); ++i) {
      Listener* l = snapshot[i];
      if (!attached(l)) continue;
      auto due = l->next_due();
      if (!due || *due > at) continue;
      if ((due == before[i] || rounds_at_instant >= kMaxRoundsPerInstant) && !is_stuck(l, *due)) {
        stuck.emplace_back(l, *due);
      }
    }
  }
  std::lock_guard lock(mutex_);
  now_ = t;
}

void ManualClock::attach(Listener* listener) {
  if (!listener) throw Error(ErrorCode::invalid_argument, "ManualClock::attach: null listener");
  std::lock_guard lock(mutex_);
  if (std::find(listeners_.begin(), listeners_.end(), listener) == listeners_.end()) {
    listeners_.push_back(listener);
  }
}

void ManualClock::detach(Listener* listener) {
  std::lock_guard advancing(advance_mutex_);  // waits for an advance on another thread
  std::lock_guard lock(mutex_);
  listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), listener), listeners_.end());
}

}  // namespace acm
