// SPDX-License-Identifier: Apache-2.0
// helpdesk/json.cpp - the JSON shape of intake decisions and routing results (acm/to_json.hpp).
#include <acm/error.hpp>
#include <acm/to_json.hpp>

#include <fmt/format.h>

#include <string>
#include <vector>

namespace acm::helpdesk {

Json to_json(const IntakeStep& s) {
  return Json{{"rule", s.rule},
              {"action", std::string(to_string(s.action))},
              {"case", s.case_id},
              {"reason", s.reason},
              {"log_seq", s.log_seq}};
}

Json to_json(const IntakeDecision& d) {
  Json steps = Json::array();
  for (const IntakeStep& s : d.steps) steps.push_back(to_json(s));
  return Json{{"event_id", d.event_id},
              {"steps", std::move(steps)},
              {"duplicate", d.duplicate},
              {"action", std::string(to_string(d.action()))},
              {"case", d.case_id()}};
}

Json to_json(const Agent& a) {
  Json windows = Json::array();
  for (const AvailabilityWindow& w : a.windows)
    windows.push_back(Json{{"from", format_time(w.from)}, {"to", format_time(w.to)}});
  Json skills = Json::object();
  for (const auto& [k, v] : a.skills) skills[k] = v;
  return Json{{"id", a.id},
              {"roles", a.roles},
              {"skills", std::move(skills)},
              {"capacity", a.capacity},
              {"available", a.available},
              {"windows", std::move(windows)}};
}

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& what) {
  throw Error(ErrorCode::invalid_argument, fmt::format("agent: {}: {}", field, what));
}

TimePoint time_field(const Json& j, const std::string& field) {
  if (j.is_string()) {
    try {
      return parse_time(j.get<std::string>());
    } catch (const Error& e) {
      bad(field, e.what());
    }
  }
  if (j.is_number_integer()) return TimePoint{Duration{j.get<std::int64_t>()}};
  bad(field, "must be a time (ISO-8601 string or milliseconds since the epoch)");
}

}  // namespace

Agent agent_from_json(const Json& j) {
  if (!j.is_object()) throw Error(ErrorCode::invalid_argument, "an agent must be a JSON object");
  Agent a;
  for (const auto& [key, v] : j.items()) {
    if (key == "id") {
      if (!v.is_string()) bad(key, "must be a string");
      a.id = v.get<std::string>();
    } else if (key == "roles") {
      if (!v.is_array()) bad(key, "must be an array of strings");
      for (const Json& r : v) {
        if (!r.is_string()) bad(key, "must be an array of strings");
        a.roles.push_back(r.get<std::string>());
      }
    } else if (key == "skills") {
      if (v.is_array()) {  // ["billing", ...]: each at level 1
        for (const Json& s : v) {
          if (!s.is_string()) bad(key, "must be an object {skill: level} or an array of skill names");
          a.skills[s.get<std::string>()] = 1.0;
        }
      } else if (v.is_object()) {
        for (const auto& [skill, level] : v.items()) {
          if (!level.is_number()) bad(key + "." + skill, "the level must be a number in 0..1");
          a.skills[skill] = level.get<double>();
        }
      } else {
        bad(key, "must be an object {skill: level} or an array of skill names");
      }
    } else if (key == "capacity") {
      if (!v.is_number_integer()) bad(key, "must be an integer");
      const auto c = v.get<std::int64_t>();
      if (c < 1 || c > 1000000) bad(key, fmt::format("{} is outside 1..1000000", c));
      a.capacity = static_cast<int>(c);
    } else if (key == "available") {
      if (!v.is_boolean()) bad(key, "must be true or false");
      a.available = v.get<bool>();
    } else if (key == "windows") {
      if (!v.is_array()) bad(key, "must be an array of {\"from\", \"to\"}");
      for (std::size_t i = 0; i < v.size(); ++i) {
        const Json& w = v[i];
        const std::string at = fmt::format("windows[{}]", i);
        if (!w.is_object() || !w.contains("from") || !w.contains("to") || w.size() != 2)
          bad(at, "must be {\"from\": time, \"to\": time}");
        a.windows.push_back(AvailabilityWindow{time_field(w["from"], at + ".from"), time_field(w["to"], at + ".to")});
      }
    } else {
      bad(key, "unknown field (expected id, roles, skills, capacity, available, windows)");
    }
  }
  if (a.id.empty()) bad("id", "is required");
  return a;
}

Json to_json(const RouteTerm& t) {
  return Json{{"name", t.name},
              {"value", t.value},
              {"weight", t.weight},
              {"contribution", t.contribution},
              {"detail", t.detail}};
}

Json to_json(const RouteSuggestion& s) {
  Json terms = Json::array();
  for (const RouteTerm& t : s.terms) terms.push_back(to_json(t));
  return Json{{"agent", s.agent},
              {"score", s.score},
              {"terms", std::move(terms)},
              {"available", s.available},
              {"has_capacity", s.has_capacity},
              {"excluded", s.excluded},
              {"reason", s.reason}};
}

Json to_json(const PerformanceRecord& p) {
  return Json{{"completed", p.completed}, {"median", format_duration(p.median)}};
}

}  // namespace acm::helpdesk
