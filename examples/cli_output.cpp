// SPDX-License-Identifier: Apache-2.0
// examples/cli_output.cpp - output of the `acm` commands: JSON documents, readable text,
// argument parsing helpers and exit codes.
#include "cli.hpp"
#include "demo.hpp"

#include <acm/to_json.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <iostream>
#include <iterator>

using namespace acm;

namespace acm_cli {

void print_json(const Json& doc) { std::cout << doc.dump(2) << "\n"; }

void print_result(Context& ctx, const std::string& case_id, const CommandResult& r, Json extra) {
  if (ctx.json()) {
    Json out = to_json(r);  // docs/json.md, plus the case it ran on
    out["case"] = case_id;
    out.update(extra);
    print_json(out);
    return;
  }
  if (r.events.empty()) std::cout << "nothing changed (case " << case_id << " at version " << r.version << ")\n";
  for (const Event& e : r.events) std::cout << "  " << describe(e) << "\n";
}

int exit_code(ErrorCode code) { return 10 + static_cast<int>(code); }

namespace {

/// Where a JSON text stops being JSON: "line L, column C (byte B)" for 1-based byte offset B.
std::string json_position(std::string_view text, std::size_t byte) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return fmt::format("line {}, column {} (byte {})", line, column, byte);
}

}  // namespace

Json parse_json_argument(const std::string& text, const char* what) {
  try {
    return parse_json(text, what);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::parse_error) throw;
  }
  // Parse again only to learn where it failed, and say so in the user's terms.
  std::string why = "it is not JSON";
  std::size_t byte = text.size() + 1;
  try {
    const Json parsed = Json::parse(text);
    (void)parsed;
  } catch (const Json::parse_error& e) {
    byte = e.byte;
    why = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..." ->
    // "syntax error ..."
    if (const auto colon = why.find(": "); colon != std::string::npos) why = why.substr(colon + 2);
  } catch (const std::exception& e) {
    why = e.what();
  }
  std::string shown = text.size() > 60 ? text.substr(0, 60) + "..." : text;
  for (std::size_t i = 0; (i = shown.find('\n', i)) != std::string::npos; i += 2) shown.replace(i, 1, "\\n");
  throw Error(ErrorCode::invalid_argument,
              fmt::format("{} is not valid JSON at {}: {}; the value was '{}' (quote strings: '\"text\"')", what,
                          json_position(text, byte), why, shown));
}

CLI::Option* add_spec_option(CLI::App* cmd, std::string& text, const std::string& shape) {
  CLI::Option* spec = cmd->add_option("--spec", text,
                                      "the whole " + shape + " as JSON (or @FILE), in the shape of the C ABI and "
                                      "of acm-server (docs/json.md); not with the other options");
  for (CLI::Option* o : cmd->get_options())
    if (o != spec && o != cmd->get_help_ptr() && !o->get_positional()) spec->excludes(o);
  return spec;
}

Json spec_json(const std::string& text) {
  if (!text.starts_with("@")) return parse_json_argument(text, "--spec");
  std::ifstream in(text.substr(1), std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, fmt::format("--spec: cannot read '{}'", text.substr(1)));
  const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_json_argument(body, "--spec");
}

std::int64_t count_option(const std::string& text, const char* what, std::int64_t min, std::int64_t max) {
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec == std::errc::result_out_of_range ||
      (ec == std::errc() && ptr == end && (v < min || v > max))) {
    std::string why = text.empty()        ? "it is empty"
                      : ec != std::errc() ? "it is out of range"
                      : v < 0 && min >= 0 ? "it is negative"
                      : v < min           ? fmt::format("it is below {}", min)
                                          : fmt::format("it is above {}", max);
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{} {}: {}; give a whole number from {} to {}", what, text, why, min, max));
  }
  if (ec != std::errc() || ptr != end)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{} {}: not a whole number; give a whole number from {} to {}", what, text, min, max));
  return v;
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
  using namespace std::chrono;
  std::int64_t ms = d.count();
  const bool negative = ms < 0;
  // Two units at most, the smaller one cut (not rounded up): 59m 59.964s is "59m 59s".
  std::uint64_t left = negative ? 0 - static_cast<std::uint64_t>(ms) : static_cast<std::uint64_t>(ms);
  if (left == 0) return "0s";
  if (left < 1000) return fmt::format("{}{}ms", negative ? "-" : "", left);
  left /= 1000;  // whole seconds
  struct Unit {
    std::uint64_t seconds;
    const char* name;
  };
  static constexpr Unit units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  std::string out = negative ? "-" : "";
  int shown = 0;
  for (const Unit& u : units) {
    const std::uint64_t n = left / u.seconds;
    left %= u.seconds;
    if (n == 0 && shown == 0) continue;
    if (n != 0) out += fmt::format("{}{}{}", shown ? " " : "", n, u.name);
    if (++shown == 2) break;
  }
  return out;
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
    std::cout << fmt::format("  {:<16} {:<10} {:<9} deadline {}  remaining work {}{}  \"{}\"\n", g.id,
                             to_string(g.status), to_string(g.timing), time_text(g.deadline),
                             human_duration(g.remaining_work),
                             g.paused_since ? "  paused since " + format_time(*g.paused_since) : "", g.name);
  if (!c.promises.empty()) {
    std::cout << "promises:\n";
    for (const PromiseInfo& p : c.promises)
      std::cout << fmt::format("  {:<16} {:<10} {:<9} due {}  expected {}  \"{}\"\n", p.id, to_string(p.status),
                               to_string(p.timing), format_time(p.due), time_text(p.expected), p.what);
  }
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
  if (!c.assets.empty()) {
    std::cout << "attachments:\n";
    for (const Asset& a : c.assets)
      std::cout << fmt::format("  {:<12} {:<8} {}  by {} at {}\n", a.id, a.kind,
                               !a.title.empty() ? "\"" + a.title + "\""
                               : !a.uri.empty() ? a.uri
                                                : a.text,
                               a.added_by, format_time(a.added_at));
  }
}

}  // namespace acm_cli
