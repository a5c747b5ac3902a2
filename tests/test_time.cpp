// SPDX-License-Identifier: Apache-2.0
// Tests of acm/time.hpp: ISO-8601 times and durations, ManualClock; and to_string(ErrorCode).
#include <acm/error.hpp>
#include <acm/time.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace acm;
using namespace std::chrono_literals;

namespace {

TimePoint at(std::int64_t ms) { return TimePoint{Duration{ms}}; }

/// The parse_error message of parse_time(text), or "" if it parsed.
std::string time_error(std::string_view text) {
  try {
    (void)parse_time(text);
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::parse_error);
    return e.what();
  }
  return "";
}

std::string duration_error(std::string_view text) {
  try {
    (void)parse_duration(text);
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::parse_error);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("to_string(ErrorCode) names every code") {
  CHECK(to_string(ErrorCode::ok) == "ok");
  CHECK(to_string(ErrorCode::invalid_argument) == "invalid_argument");
  CHECK(to_string(ErrorCode::invalid_definition) == "invalid_definition");
  CHECK(to_string(ErrorCode::parse_error) == "parse_error");
  CHECK(to_string(ErrorCode::not_found) == "not_found");
  CHECK(to_string(ErrorCode::already_exists) == "already_exists");
  CHECK(to_string(ErrorCode::permission_denied) == "permission_denied");
  CHECK(to_string(ErrorCode::invalid_state) == "invalid_state");
  CHECK(to_string(ErrorCode::cycle) == "cycle");
  CHECK(to_string(ErrorCode::conflict) == "conflict");
  CHECK(to_string(ErrorCode::storage) == "storage");
  CHECK(to_string(ErrorCode::internal) == "internal");
  CHECK(to_string(static_cast<ErrorCode>(99)) == "unknown");
}

TEST_CASE("format_time: ISO-8601 UTC with milliseconds") {
  CHECK(format_time(at(0)) == "1970-01-01T00:00:00.000Z");
  CHECK(format_time(at(1'795'426'200'250)) == "2026-11-23T09:30:00.250Z");
  CHECK(format_time(at(-1)) == "1969-12-31T23:59:59.999Z");
  CHECK(format_time(at(951'782'400'000)) == "2000-02-29T00:00:00.000Z");
}

TEST_CASE("parse_time: accepted forms") {
  const TimePoint day = parse_time("2026-11-23");
  CHECK(format_time(day) == "2026-11-23T00:00:00.000Z");
  CHECK(parse_time("2026-11-23T09:30") == day + 9h + 30min);
  CHECK(parse_time("2026-11-23T09:30:00") == day + 9h + 30min);
  CHECK(parse_time("2026-11-23T09:30:00Z") == day + 9h + 30min);
  CHECK(parse_time("2026-11-23t09:30:00z") == day + 9h + 30min);
  CHECK(parse_time("2026-11-23 09:30:15") == day + 9h + 30min + 15s);
  CHECK(parse_time("2026-11-23T09:30:00.250Z") == day + 9h + 30min + 250ms);
  CHECK(parse_time("2026-11-23T09:30:00.25Z") == day + 9h + 30min + 250ms);
  CHECK(parse_time("2026-11-23T09:30:00.2Z") == day + 9h + 30min + 200ms);
  CHECK(parse_time("2026-11-23T09:30:00,5Z") == day + 9h + 30min + 500ms);
  CHECK(parse_time("2026-11-23T09:30:00.123999Z") == day + 9h + 30min + 123ms);  // truncated
  CHECK(parse_time("2026-11-23T09:30:00+01:00") == day + 8h + 30min);
  CHECK(parse_time("2026-11-23T09:30:00.250+01:00") == day + 8h + 30min + 250ms);
  CHECK(parse_time("2026-11-23T09:30:00-0500") == day + 14h + 30min);
  CHECK(parse_time("2026-11-23T09:30-05") == day + 14h + 30min);
  CHECK(parse_time("2026-11-23T00:30+05:30") == day - 5h);
  CHECK(parse_time("  2026-11-23T09:30Z \n") == day + 9h + 30min);
  CHECK(parse_time("2024-02-29") == parse_time("2024-03-01") - 24h);
  CHECK(parse_time("2000-02-29T12:00Z") == at(951'825'600'000));
  CHECK(parse_time("0001-01-01") < parse_time("1970-01-01"));
}

TEST_CASE("parse_time and format_time round-trip") {
  for (std::int64_t ms : {0LL, 1LL, 999LL, 86'399'999LL, 1'795'426'200'250LL, -86'400'001LL, 253'402'300'799'999LL}) {
    CAPTURE(ms);
    CHECK(parse_time(format_time(at(ms))) == at(ms));
  }
}

TEST_CASE("parse_time: errors quote the text and say what is wrong") {
  CHECK(time_error("") == "invalid time \"\": empty text");
  CHECK(time_error("   ").find("empty text") != std::string::npos);
  CHECK(time_error("26-11-23").find("4-digit year") != std::string::npos);
  CHECK(time_error("2026/11/23").find("expected '-' after the year") != std::string::npos);
  CHECK(time_error("2026-1-23").find("2-digit month") != std::string::npos);
  CHECK(time_error("2026-11/23").find("expected '-' after the month") != std::string::npos);
  CHECK(time_error("2026-11-2").find("2-digit day") != std::string::npos);
  CHECK(time_error("2026-13-01") == "invalid time \"2026-13-01\": month 13 is not 01-12");
  CHECK(time_error("2026-00-01").find("month 00 is not 01-12") != std::string::npos);
  CHECK(time_error("2026-11-31") ==
        "invalid time \"2026-11-31\": day 31 does not exist in 2026-11 (which has 30 days)");
  CHECK(time_error("2026-11-00").find("day 00 does not exist") != std::string::npos);
  CHECK(time_error("2026-02-29").find("day 29 does not exist in 2026-02 (which has 28 days)") != std::string::npos);
  CHECK(time_error("1900-02-29").find("day 29 does not exist") != std::string::npos);  // not a leap year
  CHECK(time_error("2026-11-23X09:30").find("expected 'T' or a space") != std::string::npos);
  CHECK(time_error("2026-11-23T9:30").find("2-digit hour") != std::string::npos);
  CHECK(time_error("2026-11-23T09").find("expected ':' after the hour") != std::string::npos);
  CHECK(time_error("2026-11-23T09:3").find("2-digit minutes") != std::string::npos);
  CHECK(time_error("2026-11-23T09:30:1").find("2-digit seconds") != std::string::npos);
  CHECK(time_error("2026-11-23T09:30:00.").find("digits after the decimal point") != std::string::npos);
  CHECK(time_error("2026-11-23T24:00").find("hour 24 is not 00-23") != std::string::npos);
  CHECK(time_error("2026-11-23T09:60").find("minute 60 is not 00-59") != std::string::npos);
  CHECK(time_error("2026-11-23T09:30:60").find("second 60 is not 00-59") != std::string::npos);
  CHECK(time_error("2026-11-23T09:30Q").find("unexpected 'Q' after the time") != std::string::npos);
  CHECK(time_error("2026-11-23T09:30+1").find("2-digit offset hour") != std::string::npos);
  CHECK(time_error("2026-11-23T09:30+01:").find("2-digit offset minutes") != std::string::npos);
  CHECK(time_error("2026-11-23T09:30+01:0").find("2-digit offset minutes") != std::string::npos);
  CHECK(time_error("2026-11-23T09:30+24:00").find("offset hour 24 is not 00-23") != std::string::npos);
  CHECK(time_error("2026-11-23T09:30+01:60").find("offset minute 60 is not 00-59") != std::string::npos);
  CHECK(time_error("2026-11-23T09:30Zjunk").find("unexpected text after the time zone") != std::string::npos);
  CHECK(time_error("2026-11-23Z").find("expected 'T' or a space") != std::string::npos);
  // Very long text is shortened in the message.
  const std::string long_text(500, 'x');
  const std::string msg = time_error(long_text);
  CHECK(msg.size() < 200);
  CHECK(msg.find("...\"") != std::string::npos);
}

TEST_CASE("parse_duration: ISO-8601 forms") {
  CHECK(parse_duration("P2D") == 48h);
  CHECK(parse_duration("PT4H30M") == 4h + 30min);
  CHECK(parse_duration("P1W") == 7 * 24h);
  CHECK(parse_duration("P1W2D") == 9 * 24h);
  CHECK(parse_duration("P1DT2H") == 26h);
  CHECK(parse_duration("PT0.5S") == 500ms);
  CHECK(parse_duration("PT1,5S") == 1500ms);
  CHECK(parse_duration("PT1.5H") == 90min);
  CHECK(parse_duration("P0.5D") == 12h);
  CHECK(parse_duration("PT0S") == 0ms);
  CHECK(parse_duration("PT0.0004S") == 0ms);  // rounded to the millisecond
  CHECK(parse_duration("PT0.0005S") == 1ms);
  CHECK(parse_duration("-PT1H") == -1h);
  CHECK(parse_duration("+PT1H") == 1h);
  CHECK(parse_duration("pt1h30m") == 90min);
  CHECK(parse_duration(" PT1H ") == 1h);
  CHECK(parse_duration("PT36H") == 36h);
  CHECK(parse_duration("PT90M") == 90min);
}

TEST_CASE("parse_duration: short forms") {
  CHECK(parse_duration("90m") == 90min);
  CHECK(parse_duration("2h") == 2h);
  CHECK(parse_duration("1d") == 24h);
  CHECK(parse_duration("1.5h") == 90min);
  CHECK(parse_duration("500ms") == 500ms);
  CHECK(parse_duration("45s") == 45s);
  CHECK(parse_duration("2w") == 14 * 24h);
  CHECK(parse_duration("1h30m") == 90min);
  CHECK(parse_duration("1h 30m") == 90min);
  CHECK(parse_duration("1d2h3m4s5ms") == 24h + 2h + 3min + 4s + 5ms);
  CHECK(parse_duration("-1h30m") == -90min);
  CHECK(parse_duration("0s") == 0ms);
  CHECK(parse_duration("0.001s") == 1ms);
}

TEST_CASE("parse_duration: errors") {
  CHECK(duration_error("") == "invalid duration \"\": empty text");
  CHECK(duration_error("-").find("nothing after the sign") != std::string::npos);
  CHECK(duration_error("P1Y") == "invalid duration \"P1Y\": years have no fixed length; use days (e.g. P365D)");
  CHECK(duration_error("P2M").find("months have no fixed length") != std::string::npos);
  CHECK(duration_error("P").find("no components after 'P'") != std::string::npos);
  CHECK(duration_error("PT").find("'T' must be followed by hours, minutes or seconds") != std::string::npos);
  CHECK(duration_error("P1DT").find("'T' must be followed") != std::string::npos);
  CHECK(duration_error("PT1HT2M").find("'T' appears twice") != std::string::npos);
  CHECK(duration_error("PT1H2H").find("repeated or out of order") != std::string::npos);
  CHECK(duration_error("PT2M1H").find("repeated or out of order") != std::string::npos);
  CHECK(duration_error("P1D1W").find("repeated or out of order") != std::string::npos);
  CHECK(duration_error("P4H").find("'H' must follow 'T'") != std::string::npos);
  CHECK(duration_error("PT1D").find("'D' must come before 'T'") != std::string::npos);
  CHECK(duration_error("P1X").find("unknown designator 'X'") != std::string::npos);
  CHECK(duration_error("PT1Q").find("unknown designator 'Q'") != std::string::npos);
  CHECK(duration_error("P1").find("missing designator") != std::string::npos);
  CHECK(duration_error("PXD").find("expected a number at 'X'") != std::string::npos);
  CHECK(duration_error("PT1.S").find("digits after the decimal point") != std::string::npos);
  CHECK(duration_error("P99999999999999999999D").find("out of range") != std::string::npos);
  CHECK(duration_error("P9999999999999D").find("out of range") != std::string::npos);
  CHECK(duration_error("90").find("missing unit after '90' (use w, d, h, m, s or ms)") != std::string::npos);
  CHECK(duration_error("3days").find("unknown unit 'days'") != std::string::npos);
  CHECK(duration_error("2H").find("unknown unit 'H'") != std::string::npos);
  CHECK(duration_error("30m1h").find("units repeated or out of order") != std::string::npos);
  CHECK(duration_error("1h1h").find("units repeated or out of order") != std::string::npos);
  CHECK(duration_error("h").find("expected a number at 'h'") != std::string::npos);
  CHECK(duration_error("1.h").find("digits after the decimal point") != std::string::npos);
  CHECK(duration_error("1 h").find("missing unit after '1'") != std::string::npos);
  CHECK(duration_error("99999999999999999999999w").find("out of range") != std::string::npos);
  CHECK(duration_error("9999999999999999w").find("out of range") != std::string::npos);
  // The most negative duration parses; its magnitude as a positive duration does not fit.
  CHECK(parse_duration("-PT9223372036854775.808S") == Duration::min());
  CHECK(duration_error("PT9223372036854775.808S").find("out of range") != std::string::npos);
  CHECK(parse_duration("PT9223372036854775.807S") == Duration::max());
}

TEST_CASE("format_duration: canonical ISO-8601") {
  CHECK(format_duration(0ms) == "PT0S");
  CHECK(format_duration(48h) == "P2D");
  CHECK(format_duration(52h) == "P2DT4H");
  CHECK(format_duration(4h + 30min) == "PT4H30M");
  CHECK(format_duration(1500ms) == "PT1.5S");
  CHECK(format_duration(500ms) == "PT0.5S");
  CHECK(format_duration(1ms) == "PT0.001S");
  CHECK(format_duration(250ms) == "PT0.25S");
  CHECK(format_duration(-1h) == "-PT1H");
  CHECK(format_duration(14 * 24h) == "P14D");
  CHECK(format_duration(24h + 1s) == "P1DT1S");
  CHECK(format_duration(61min) == "PT1H1M");
  CHECK(format_duration(Duration::min()) == "-P106751991167DT7H12M55.808S");
  for (Duration d : {0ms, 1ms, 999ms, 1000ms, 61001ms, Duration{90'061'001}, -Duration{90'061'001},
                     Duration::max(), Duration::min()}) {
    CAPTURE(d.count());
    CHECK(parse_duration(format_duration(d)) == d);
  }
}

TEST_CASE("SystemClock reads the wall clock in milliseconds") {
  SystemClock clock;
  const auto before = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const TimePoint t = clock.now();
  const auto after = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  CHECK(before <= t);
  CHECK(t <= after);
}

namespace {

/// A listener with a list of due times; run_due records the clock's now() and consumes them.
class Timers final : public ManualClock::Listener {
 public:
  Timers(ManualClock& clock, std::string name, std::vector<std::string>& log)
      : clock_(clock), name_(std::move(name)), log_(log) {}
  void add(TimePoint t) { due_.insert({t, 0}); }
  std::optional<TimePoint> next_due() override {
    if (due_.empty()) return std::nullopt;
    return due_.begin()->first;
  }
  void run_due(TimePoint now) override {
    CHECK(clock_.now() == now);
    while (!due_.empty() && due_.begin()->first <= now) {
      log_.push_back(name_ + "@" + std::to_string(due_.begin()->first.time_since_epoch().count()) + "/" +
                     std::to_string(now.time_since_epoch().count()));
      due_.erase(due_.begin());
      if (on_fire) on_fire();
    }
  }
  std::function<void()> on_fire;

 private:
  ManualClock& clock_;
  std::string name_;
  std::vector<std::string>& log_;
  std::multimap<TimePoint, int> due_;
};

/// Reports a due time forever without consuming it.
class Stuck final : public ManualClock::Listener {
 public:
  explicit Stuck(TimePoint due) : due_(due) {}
  std::optional<TimePoint> next_due() override { return due_; }
  void run_due(TimePoint) override { ++runs; }
  int runs = 0;

 private:
  TimePoint due_;
};

/// Every run creates new work due at the same instant, forever.
/// Each run reports a different due time that is still not after now: endless new work.
class Cascade final : public ManualClock::Listener {
 public:
  explicit Cascade(TimePoint due) : due_(due) {}
  std::optional<TimePoint> next_due() override { return due_; }
  void run_due(TimePoint now) override {
    ++runs;
    due_ = (runs % 2) ? now - 1ms : now;
  }
  int runs = 0;

 private:
  TimePoint due_;
};

}  // namespace

TEST_CASE("ManualClock: now, advance and errors") {
  ManualClock clock(at(1000));
  CHECK(clock.now() == at(1000));
  clock.advance(500ms);
  CHECK(clock.now() == at(1500));
  clock.advance_to(at(1500));
  CHECK(clock.now() == at(1500));
  try {
    clock.advance_to(at(1499));
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(std::string(e.what()).find("before the current time") != std::string::npos);
  }
  CHECK_THROWS_AS(clock.advance(-1ms), Error);
  CHECK(clock.now() == at(1500));
  CHECK_THROWS_AS(clock.attach(nullptr), Error);
}

TEST_CASE("ManualClock: fires due work in time order, each at its due time, once") {
  ManualClock clock(at(0));
  std::vector<std::string> log;
  Timers a(clock, "a", log), b(clock, "b", log);
  clock.attach(&a);
  clock.attach(&b);
  clock.attach(&a);  // attaching twice is harmless
  a.add(at(30));
  a.add(at(10));
  b.add(at(20));
  b.add(at(10));
  b.add(at(100));
  clock.advance_to(at(50));
  CHECK(clock.now() == at(50));
  CHECK(log == std::vector<std::string>{"a@10/10", "b@10/10", "b@20/20", "a@30/30"});
  log.clear();
  clock.advance(100ms);
  CHECK(log == std::vector<std::string>{"b@100/100"});
  CHECK(clock.now() == at(150));
  // Work due in the past runs at the current time: the clock never goes backwards.
  log.clear();
  a.add(at(5));
  clock.advance_to(at(150));
  CHECK(log == std::vector<std::string>{"a@5/150"});
  // Detached listeners are not called.
  log.clear();
  clock.detach(&b);
  b.add(at(160));
  clock.advance_to(at(200));
  CHECK(log.empty());
  clock.detach(&b);  // detaching twice is harmless
}

TEST_CASE("ManualClock: work created while running fires in the same advance") {
  ManualClock clock(at(0));
  std::vector<std::string> log;
  Timers a(clock, "a", log);
  clock.attach(&a);
  a.add(at(10));
  int fired = 0;
  a.on_fire = [&] {
    if (++fired < 3) a.add(clock.now() + 5ms);  // a repeating timer
  };
  clock.advance_to(at(100));
  CHECK(log == std::vector<std::string>{"a@10/10", "a@15/15", "a@20/20"});
  clock.detach(&a);
}

TEST_CASE("ManualClock: a listener may detach another one while running") {
  ManualClock clock(at(0));
  std::vector<std::string> log;
  Timers a(clock, "a", log), b(clock, "b", log);
  clock.attach(&a);
  clock.attach(&b);
  a.add(at(10));
  b.add(at(10));
  b.add(at(20));
  a.on_fire = [&] { clock.detach(&b); };
  clock.advance_to(at(30));
  CHECK(log == std::vector<std::string>{"a@10/10"});
  clock.detach(&a);
}

TEST_CASE("ManualClock: a listener that never consumes its work does not hang the clock") {
  ManualClock clock(at(0));
  std::vector<std::string> log;
  Stuck stuck(at(10));
  Timers a(clock, "a", log);
  clock.attach(&stuck);
  clock.attach(&a);
  a.add(at(20));
  clock.advance_to(at(30));
  CHECK(clock.now() == at(30));
  CHECK(log == std::vector<std::string>{"a@20/20"});  // others still run
  CHECK(stuck.runs == 2);                              // at 10 (stuck), and again at 20
  clock.advance_to(at(40));                            // a new advance tries it once more
  CHECK(stuck.runs == 3);
  clock.detach(&stuck);
  clock.detach(&a);
}

TEST_CASE("ManualClock: endless work at one instant is cut off") {
  ManualClock clock(at(0));
  Cascade cascade(at(10));
  clock.attach(&cascade);
  clock.advance_to(at(20));
  CHECK(clock.now() == at(20));
  CHECK(cascade.runs == 10'000);
  clock.detach(&cascade);
}

TEST_CASE("ManualClock: concurrent advances and readers") {
  ManualClock clock(at(0));
  std::vector<std::string> log;
  Timers a(clock, "a", log);
  for (int i = 1; i <= 200; ++i) a.add(at(i));
  clock.attach(&a);
  std::atomic<bool> stop{false};
  std::atomic<bool> monotonic{true};
  std::thread reader([&] {
    TimePoint last = at(0);
    while (!stop) {
      const TimePoint t = clock.now();
      if (t < last) monotonic = false;
      last = t;
    }
  });
  std::vector<std::thread> advancers;
  for (int k = 0; k < 4; ++k) {
    advancers.emplace_back([&clock] {
      for (int i = 0; i < 50; ++i) clock.advance(1ms);
    });
  }
  for (auto& t : advancers) t.join();
  stop = true;
  reader.join();
  CHECK(monotonic);
  CHECK(clock.now() == at(200));
  REQUIRE(log.size() == 200);
  for (int i = 1; i <= 200; ++i) CHECK(log[static_cast<std::size_t>(i - 1)] == "a@" + std::to_string(i) + "/" + std::to_string(i));
  clock.detach(&a);
}
