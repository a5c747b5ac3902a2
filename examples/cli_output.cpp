// SPDX-License-Identifier: Apache-2.0
// examples/cli_output.cpp - output of the `acm` commands: JSON documents, readable text,
// argument parsing helpers and exit codes.
#include "cli.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iostream>

using namespace acm;

namespace acm_cli {

void print_json(const Json& doc) { std::cout << doc.dump(2) << "\n"; }

int exit_code(ErrorCode code) { return 10 + static_cast<int>(code); }

Json parse_json_argument(const std::string& text, const char* what) {
  try {
    return parse_json(text, what);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::parse_error) throw;
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{} is not valid JSON: {} (quote strings: '\"text\"')", what, text));
  }
}

std::pair<std::string, Json> parse_assignment(const std::string& text, const char* what) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error(ErrorCode::invalid_argument, fmt::format("{} must be key=value, not '{}'", what, text));
  std::string key = text.substr(0, eq), raw = text.substr(eq + 1);
  Json value;
  try {
    value = parse_json(raw, what);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::parse_error) throw;
    value = raw;  // not JSON: the text itself
  }
  return {key, value};
}

std::string time_text(const std::optional<TimePoint>& t) { return t ? format_time(*t) : std::string("-"); }

std::string human_duration(Duration d) {
  const double s = std::chrono::duration<double>(d).count();
  if (std::abs(s) >= 86400) return fmt::format("{:.1f} d", s / 86400);
  if (std::abs(s) >= 3600) return fmt::format("{:.1f} h", s / 3600);
  if (std::abs(s) >= 60) return fmt::format("{:.0f} min", s / 60);
  return fmt::format("{:.0f} s", s);
}

void print_case(const CaseInfo& c) {
  std::cout << fmt::format("case {}  {}\n", c.id, c.title.empty() ? "(no title)" : "\"" + c.title + "\"");
  std::cout << fmt::format("  type {}  status {}  owner {}  priority {}  version {}\n",
                           c.type.empty() ? "-" : c.type + " v" + std::to_string(c.type_version), to_string(c.status),
                           c.owner, c.priority, c.version);
  std::cout << fmt::format("  customer {}  attributes {}\n", c.subject.customer.empty() ? "-" : c.subject.customer,
                           c.subject.attributes.dump());
  std::cout << fmt::format("  created {}  next deadline {}\n", format_time(c.created_at), time_text(c.next_deadline));
  if (!c.participants.empty()) {
    std::cout << "  participants:";
    for (const auto& p : c.participants) {
      std::string roles;
      for (const auto& r : p.roles) roles += (roles.empty() ? "" : ",") + r;
      std::cout << " " << p.actor << " (" << roles << ")";
    }
    std::cout << "\n";
  }
  std::cout << "goals:\n";
  if (c.goals.empty()) std::cout << "  (none)\n";
  for (const GoalInfo& g : c.goals)
    std::cout << fmt::format("  {:<16} {:<10} {:<9} deadline {}  remaining work {}  \"{}\"\n", g.id,
                             to_string(g.status), to_string(g.timing), time_text(g.deadline),
                             format_duration(g.remaining_work), g.name);
  std::cout << "plan:\n";
  if (c.items.empty()) std::cout << "  (no items)\n";
  for (const PlanItemInfo& i : c.items) {
    std::string extra;
    if (!i.assignee.empty()) extra += " assignee " + i.assignee;
    if (!i.role.empty()) extra += " role " + i.role;
    if (!i.goal.empty()) extra += " goal " + i.goal;
    if (i.due) extra += " due " + format_time(*i.due);
    std::cout << fmt::format("  {:<40} {:<10} {:<14}{}  \"{}\"\n", i.id, to_string(i.state), to_string(i.kind), extra,
                             i.name);
  }
  if (!c.file.empty()) std::cout << "file: " << c.file.dump() << "\n";
}

}  // namespace acm_cli
