// SPDX-License-Identifier: Apache-2.0
// base/time_parse.hpp - non-throwing time and duration parsing (private).
//
// Defined in src/base/time.cpp (which includes this header, so the compiler checks that the
// definitions match) beside parse_time / parse_duration, which wrap them. The expression
// evaluator coerces strings to times at evaluation, where exceptions would be both slow and
// against its "never throws" contract; the XES reader tries each timestamp the same way.
// On failure they return false and, when `why` is not null, store a short reason (without the
// text).
#pragma once

#include <acm/time.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace acm::detail {

/// As parse_time, but returns false (and the reason in `*why`, if given) instead of throwing.
bool try_parse_time(std::string_view text, TimePoint& out, std::string* why);
/// As parse_duration, but returns false (and the reason in `*why`, if given) instead of throwing.
bool try_parse_duration(std::string_view text, Duration& out, std::string* why);
/// Reads the digits of a decimal fraction from text[p] on (the caller has checked that there is
/// at least one) and returns it in milliseconds: the first three digits count, further ones are
/// truncated. Leaves `p` after the last digit. Shared by the ISO 8601 parser and the event-log
/// timestamp formats.
std::int64_t read_fraction_ms(std::string_view text, std::size_t& p);

}  // namespace acm::detail
