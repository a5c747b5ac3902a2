// SPDX-License-Identifier: Apache-2.0
// examples/cli.hpp - the pieces shared by the `acm` commands: global options, the engine on
// the database file, output (text or one JSON document), errors and their exit codes.
#pragma once

#include <acm/acm.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
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
/// Prints what a command did: its events (text) or {"case", "version", "events"} (JSON), plus
/// `extra` fields (JSON).
void print_result(Context& ctx, const std::string& case_id, const acm::CommandResult& r,
                  acm::Json extra = acm::Json::object());
/// Prints a JSON document (pretty, two spaces) on stdout.
void print_json(const acm::Json& doc);
/// Exit code for an acm::ErrorCode: 10 + the code (11 invalid_argument ... 21 internal).
int exit_code(acm::ErrorCode code);
/// "key=value" -> key and the value as JSON when it parses as JSON, else as a string.
std::pair<std::string, acm::Json> parse_assignment(const std::string& text, const char* what);
/// A JSON argument (strict): invalid_argument naming `what` and where the text stops being
/// JSON (line, column, byte) when it does not parse.
acm::Json parse_json_argument(const std::string& text, const char* what);
/// Adds --spec to a command that creates something: the whole argument as JSON in the shape
/// <acm/from_json.hpp> reads (the shape of the C ABI and of acm-server's bodies, docs/json.md),
/// TEXT or @FILE. It excludes the command's other options (not its positionals).
CLI::Option* add_spec_option(CLI::App* cmd, std::string& text, const std::string& shape);
/// The JSON of a --spec value: the text itself, or the contents of the file after '@'.
acm::Json spec_json(const std::string& text);
/// A whole-number option in [min, max]: invalid_argument naming `what`, the value and what is
/// wrong with it ("--limit -5: it is negative; give a whole number from 1 to 10000").
std::int64_t count_option(const std::string& text, const char* what, std::int64_t min, std::int64_t max);
/// "2026-11-23T09:30:00.000Z" or "-".
std::string time_text(const std::optional<acm::TimePoint>& t);
/// A duration for people: two units at most, the smaller one cut ("2d 3h", "59m 59s", "45s",
/// "250ms").
std::string human_duration(acm::Duration d);
/// The case as readable text (status, goals, plan items, case file).
void print_case(const acm::CaseInfo& c);
/// Writes the plan graph of a case: DOT, or SVG / PNG through Graphviz `dot` (chosen by the
/// extension). Sentries come from the fragment definitions in `engine`.
void write_graph(const acm::Engine& engine, const acm::CaseInfo& c, const std::string& path);
/// The plan graph of a case as DOT text (stages as clusters, sentries, goals).
std::string plan_dot(const acm::Engine& engine, const acm::CaseInfo& c);

/// The commands that manage a running case (cli_manage.cpp); called by add_case_commands, adds
/// to the groups it made ("case", "item", "goal", "file").
void add_manage_commands(CLI::App& app, Context& ctx);

}  // namespace acm_cli
