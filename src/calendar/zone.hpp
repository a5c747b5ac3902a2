// SPDX-License-Identifier: Apache-2.0
// calendar/zone.hpp - the few time-zone facts the spec code needs, without exposing date/tz.
#pragma once

#include <string>
#include <vector>

namespace acm::calendar {

/// Whether `name` is a zone of the OS time-zone database (/usr/share/zoneinfo).
bool zone_exists(const std::string& name);

/// "N problems in calendar 'name':" followed by one indented line per problem.
std::string format_problems(const std::string& name, const std::vector<std::string>& problems);

}  // namespace acm::calendar
