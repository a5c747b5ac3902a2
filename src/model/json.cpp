// SPDX-License-Identifier: Apache-2.0
// model/json.cpp - parsing JSON from outside with a bound on nesting.
#include <acm/error.hpp>
#include <acm/json.hpp>

#include "model/json_size.hpp"

#include <fmt/format.h>

#include <string>

namespace acm {

Json parse_json(std::string_view text, std::string_view what, std::size_t max_depth) {
  bool too_deep = false;
  // The callback sees each container start at the depth of its parent; once a container is too
  // deep the parse goes on (to report syntax errors) but keeps nothing.
  Json::parser_callback_t bound = [&](int depth, Json::parse_event_t event, Json&) {
    if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
        static_cast<std::size_t>(depth) >= max_depth)
      too_deep = true;
    return !too_deep;
  };
  Json out;
  try {
    out = Json::parse(text.begin(), text.end(), bound);
  } catch (const Json::exception& e) {
    // parse_error for bad syntax, out_of_range for a number beyond double ("1e400"): both are
    // text that is not usable JSON. No nlohmann exception leaves the library.
    throw Error(ErrorCode::parse_error, fmt::format("{} is not valid JSON: {}", what, e.what()));
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{} is too large to parse", what));
  }
  if (too_deep)
    throw Error(ErrorCode::invalid_argument, fmt::format("{} nests more than {} levels deep", what, max_depth));
  return out;
}

namespace model {

namespace {

std::size_t digits(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

// Adds the size of `v` to `n`; returns false once `n` exceeds `stop` or containers nest deeper
// than `depth` (the count is then partial).
bool add_size(const Json& v, std::size_t& n, std::size_t stop, std::size_t depth) {
  switch (v.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      n += 4;
      break;
    case Json::value_t::boolean:
      n += v.get<bool>() ? 4 : 5;
      break;
    case Json::value_t::number_integer: {
      const auto i = v.get<std::int64_t>();
      n += i < 0 ? 1 + digits(0 - static_cast<std::uint64_t>(i)) : digits(static_cast<std::uint64_t>(i));
      break;
    }
    case Json::value_t::number_unsigned:
      n += digits(v.get<std::uint64_t>());
      break;
    case Json::value_t::number_float:
      n += 24;
      break;
    case Json::value_t::string:
      n += v.get_ref<const std::string&>().size() + 2;
      break;
    case Json::value_t::binary:
      n += v.get_binary().size() + 2;
      break;
    case Json::value_t::array:
      if (depth == 0) return false;
      n += 2 + (v.empty() ? 0 : v.size() - 1);
      for (const auto& e : v) {
        if (n > stop) return false;
        if (!add_size(e, n, stop, depth - 1)) return false;
      }
      break;
    case Json::value_t::object:
      if (depth == 0) return false;
      n += 2 + (v.empty() ? 0 : v.size() - 1);
      for (auto it = v.begin(); it != v.end(); ++it) {
        n += it.key().size() + 3;
        if (n > stop) return false;
        if (!add_size(it.value(), n, stop, depth - 1)) return false;
      }
      break;
  }
  return n <= stop;
}

}  // namespace

SizeCheck serialized_size(const Json& value, std::size_t stop_above, std::size_t max_depth) {
  SizeCheck r;
  if (!add_size(value, r.size, stop_above, max_depth)) r.too_deep = r.size <= stop_above;
  return r;
}

void check_nesting(const Json& value, std::string_view what, std::size_t max_depth) {
  if (serialized_size(value, SIZE_MAX, max_depth).too_deep)
    throw Error(ErrorCode::invalid_argument, fmt::format("{} nests more than {} levels deep", what, max_depth));
}

}  // namespace model
}  // namespace acm
