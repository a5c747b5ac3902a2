// model/json.cpp - parsing JSON from outside with a bound on nesting.
#include <acm/error.hpp>
#include <acm/json.hpp>

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
  } catch (const Json::parse_error& e) {
    throw Error(ErrorCode::parse_error, fmt::format("{} is not valid JSON: {}", what, e.what()));
  }
  if (too_deep)
    throw Error(ErrorCode::invalid_argument, fmt::format("{} nests more than {} levels deep", what, max_depth));
  return out;
}

}  // namespace acm
