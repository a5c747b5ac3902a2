// SPDX-License-Identifier: Apache-2.0
// examples/cli.hpp - the pieces shared by the `acm` commands: global options, the engine on
// the database file, output (text or one JSON document), errors and their exit codes.
#pragma once

#include <acm/acm.hpp>

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acm_cli {

/// Options every command takes (given before or after the command words).
struct Global {
  std::string db = "acm.db";       ///< SQLite store file (created if missing)
  std::string as;                  ///< actor id; "" = the local administrator "cli"
  std::vector<std::string> roles;  ///< global roles; none given and no --as: {"admin"}
  bool json = false;               ///< one JSON document on stdout instead of text
};

/// What a command runs with. The engine is opened on first use.
class Context {
 public:
  explicit Context(Global& global) : global_(global) {}
  /// The engine on --db; due timers are fired once on opening.
  acm::Engine& engine();
  /// The actor of --as/--role (default: "cli" with role "admin").
  acm::Actor actor() const;
  bool json() const { return global_.json; }
  const Global& global() const { return global_; }

 private:
  Global& global_;
  std::unique_ptr<acm::Engine> engine_;
};

/// A command: registered on a CLI11 subcommand, run after parsing. Returns the exit code.
using Action = std::function<int()>;
/// Registers the leaf subcommand `cmd` with its action.
void on_run(CLI::App* cmd, Action action);

/// Command groups (cli_cases.cpp, cli_learn.cpp).
void add_case_commands(CLI::App& app, Context& ctx);
void add_learn_commands(CLI::App& app, Context& ctx);
/// `acm cmmn test` (cli_cmmn.cpp).
void add_cmmn_commands(CLI::App& app, Context& ctx);
/// If `path` holds CMMN XML: imports and registers it, prints the result and returns the exit
/// code; nullopt for anything else (a JSON document).
std::optional<int> load_cmmn_file(Context& ctx, const std::string& path);

// ---- output (cli_output.cpp) ------------------------------------------------------------
/// Prints a JSON document (pretty, two spaces) on stdout.
void print_json(const acm::Json& doc);
/// Exit code for an acm::ErrorCode: 10 + the code (11 invalid_argument ... 21 internal).
int exit_code(acm::ErrorCode code);
/// "key=value" -> key and the value as JSON when it parses as JSON, else as a string.
std::pair<std::string, acm::Json> parse_assignment(const std::string& text, const char* what);
/// A JSON argument (strict): invalid_argument naming `what` when it does not parse.
acm::Json parse_json_argument(const std::string& text, const char* what);
/// "2026-11-23T09:30:00.000Z" or "-".
std::string time_text(const std::optional<acm::TimePoint>& t);
/// A duration for people: "3.2 d", "5.0 h", "12 min".
std::string human_duration(acm::Duration d);
/// The case as readable text (status, goals, plan items, case file).
void print_case(const acm::CaseInfo& c);
/// Writes the plan graph of a case: DOT, or SVG through Graphviz `dot` (chosen by extension).
void write_graph(const acm::CaseInfo& c, const std::string& path);

}  // namespace acm_cli
