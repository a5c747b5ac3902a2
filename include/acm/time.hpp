// SPDX-License-Identifier: Apache-2.0
// acm/time.hpp - time points, durations, injected clocks and calendars.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acm {

/// Durations are whole milliseconds.
using Duration = std::chrono::milliseconds;
/// Points in time are UTC milliseconds since the Unix epoch.
using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

/// The times acm writes and reads back: years 0000..9999 UTC (ISO-8601 text with four year
/// digits). format_time and the calendars refuse times outside with Error(invalid_argument).
inline constexpr TimePoint kEarliestTime{std::chrono::sys_days{std::chrono::year{0} / 1 / 1}};
inline constexpr TimePoint kLatestTime{std::chrono::sys_days{std::chrono::year{10000} / 1 / 1} -
                                       std::chrono::milliseconds{1}};
/// The longest duration a definition may give for a deadline (`within`), a due time, a timer
/// or an estimate: 1000 years (365,250 days). Longer ones are a problem at registration.
inline constexpr Duration kMaxDuration{std::chrono::days{365250}};

/// Formats `t` as ISO-8601 UTC, e.g. "2026-11-23T09:30:00.000Z". Error(invalid_argument) for a
/// time outside kEarliestTime..kLatestTime (it could not be read back).
std::string format_time(TimePoint t);
/// Parses ISO-8601 ("2026-11-23", "2026-11-23T09:30", "2026-11-23T09:30:00Z",
/// "2026-11-23T09:30:00.250+01:00", also with a space instead of 'T'). Throws Error(parse_error).
TimePoint parse_time(std::string_view text);
/// Formats `d` as ISO-8601 duration, e.g. "PT2H30M", "P2DT4H", "PT0.5S".
std::string format_duration(Duration d);
/// Parses "P2D", "PT4H30M", "P1W" (ISO-8601) or the short forms "90m", "2h", "1d", "1.5h", "500ms",
/// "45s", "2w". Throws Error(parse_error) naming the text.
Duration parse_duration(std::string_view text);

/// Source of the current time. The engine never reads the wall clock directly.
/// Implementations must be safe to call from several threads.
class Clock {
 public:
  virtual ~Clock() = default;
  /// The current time.
  virtual TimePoint now() const = 0;
};

/// The wall clock (std::chrono::system_clock, truncated to milliseconds).
class SystemClock final : public Clock {
 public:
  TimePoint now() const override;
};

/// A clock that moves only when told to: for tests, simulations and replays of real logs.
///
/// Engines attach to it; `advance_to` then stops at every due time the attached engines
/// report, so everything due fires in time order, with `now()` equal to its due time, exactly
/// once. Thread-safe. Do not call `advance*` from inside an engine callback.
class ManualClock final : public Clock {
 public:
  /// Something that has work due at given times (an Engine). Used by the engine itself.
  class Listener {
   public:
    virtual ~Listener() = default;
    /// Earliest time at which work is due, if any.
    virtual std::optional<TimePoint> next_due() = 0;
    /// Runs everything due at or before `now`.
    virtual void run_due(TimePoint now) = 0;
  };

  explicit ManualClock(TimePoint start);
  TimePoint now() const override;
  /// Sets the time to `t` (>= now()), firing due work in time order on the way.
  void advance_to(TimePoint t);
  /// advance_to(now() + d).
  void advance(Duration d);
  /// Registers an engine; the engine detaches itself when destroyed.
  void attach(Listener* listener);
  void detach(Listener* listener);

 private:
  mutable std::mutex mutex_;
  std::recursive_mutex advance_mutex_;
  TimePoint now_;
  std::vector<Listener*> listeners_;
};

/// Counts working time. The engine counts deadlines ("2 days from creation") and remaining
/// work through a calendar; the default is 24x7. Business-hour calendars plug in here.
class Calendar {
 public:
  virtual ~Calendar() = default;
  /// The time at which `work` of working time, started at `start`, ends.
  virtual TimePoint add(TimePoint start, Duration work) const = 0;
  /// The latest start from which `work` of working time still ends by `end`.
  virtual TimePoint latest_start(TimePoint end, Duration work) const = 0;
  /// Working time between `from` and `to` (negative if `to` < `from`).
  virtual Duration between(TimePoint from, TimePoint to) const = 0;
  /// A short name for messages and storage, e.g. "24x7".
  virtual std::string name() const = 0;
};

/// Every hour counts. Results outside kEarliestTime..kLatestTime (and durations that overflow)
/// are Error(invalid_argument) naming the duration.
class AlwaysCalendar final : public Calendar {
 public:
  TimePoint add(TimePoint start, Duration work) const override;
  TimePoint latest_start(TimePoint end, Duration work) const override;
  Duration between(TimePoint from, TimePoint to) const override;
  std::string name() const override { return "24x7"; }
};

}  // namespace acm
