// SPDX-License-Identifier: Apache-2.0
// eventlog/timestamp.hpp - timestamps of CSV logs: a strftime-like format and a time zone.
#pragma once

#include <acm/time.hpp>

#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace date {
class time_zone;
}

namespace acm::eventlog::detail {

/// Parses timestamps with one format in one zone. Formats made only of %Y %m %d %H %M %S %F %T
/// %%, white space and literal characters are read by a hand-written scanner (the common case;
/// it avoids a std::istream per value); every other format goes to date::parse. Both give
/// the same result: fields are 1-4 (%Y) or 1-2 digits, `%S` may carry a fraction, white space
/// in the format matches any run of white space (also none), and the whole text must be used.
/// Calendar arithmetic and zones come from Howard Hinnant's date library.
/// Not thread-safe (one per import).
class TimestampParser {
 public:
  /// Throws Error(invalid_argument) for an empty format or an unknown zone.
  TimestampParser(std::string format, const std::string& zone);
  /// Parses `text` (surrounding blanks ignored). False if it does not match the format or is
  /// not a valid date/time.
  bool parse(std::string_view text, TimePoint& out);

 private:
  enum class Tok { literal, space, year, month, day, hour, minute, second };
  struct Token {
    Tok kind;
    char c;
  };
  bool parse_fast(std::string_view text, TimePoint& out) const;
  bool parse_general(std::string_view text, TimePoint& out);
  bool to_utc(std::int64_t local_ms, TimePoint& out) const;

  std::string format_;
  const date::time_zone* zone_ = nullptr;  // null: UTC
  bool has_offset_ = false;                // the format reads %z: the text carries its offset
  bool fast_ = false;
  std::vector<Token> tokens_;
  std::istringstream stream_;
};

}  // namespace acm::eventlog::detail
