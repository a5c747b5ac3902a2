// SPDX-License-Identifier: Apache-2.0
// The `acm` command-line tool (example host program): commands over a store file, and the demo.
// docs/cli.md describes every command, the actor options and the exit codes.
#include "cli.hpp"
#include "demo.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace acm_cli {
namespace {

std::map<CLI::App*, Action>& actions() {
  static std::map<CLI::App*, Action> registry;
  return registry;
}

}  // namespace

void on_run(CLI::App* cmd, Action action) { actions()[cmd] = std::move(action); }

acm::Engine& Context::engine() {
  if (!engine_) {
    acm::EngineOptions o;
    o.database = global_.db;
    engine_ = acm::Engine::open(o);
    engine_->run_due();  // timers that fell due while no command ran
  }
  return *engine_;
}

acm::Actor Context::actor() const {
  if (global_.as.empty()) return {"cli", global_.roles.empty() ? std::vector<std::string>{"admin"} : global_.roles};
  return {global_.as, global_.roles};
}

namespace {

/// Levenshtein distance, for "did you mean" suggestions.
std::size_t distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

/// The option `name` of `app` or of one of its parents (options fall through), or null.
const CLI::Option* find_option(const CLI::App* app, const std::string& name) {
  for (; app != nullptr; app = app->get_parent())
    if (const CLI::Option* o = app->get_option_no_throw(name)) return o;
  return nullptr;
}

/// After a usage error: walks the command words of argv like CLI11 does and, if a word is not
/// a command of the group it stands in, says so, naming the word and the group's commands.
/// Returns "" when the error is not about an unknown command.
std::string unknown_command(CLI::App& app, const std::vector<std::string>& args) {
  CLI::App* group = &app;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--") return {};
    if (word.size() > 1 && word[0] == '-') {
      const auto eq = word.find('=');
      const CLI::Option* o = find_option(group, word.substr(0, eq));
      if (o != nullptr && eq == std::string::npos && o->get_expected_max() > 0) ++i;  // its value
      continue;
    }
    const auto subs = group->get_subcommands([](CLI::App*) { return true; });
    if (subs.empty()) return {};  // a leaf command: the word is an argument
    CLI::App* next = nullptr;
    for (CLI::App* sub : subs)
      if (sub->check_name(word)) next = sub;
    if (next != nullptr) {
      group = next;
      continue;
    }
    std::string names, best;
    std::size_t best_distance = 3;  // suggest only close names
    for (CLI::App* sub : subs) {
      names += (names.empty() ? "" : ", ") + sub->get_name();
      const std::size_t d = distance(word, sub->get_name());
      if (d < best_distance) best_distance = d, best = sub->get_name();
    }
    std::string where = "acm";
    for (const CLI::App* a = group; a != &app && a != nullptr; a = a->get_parent())
      where.insert(3, " " + a->get_name());
    return fmt::format("unknown command '{}' for '{}'{} (its commands: {})", word, where,
                       best.empty() ? "" : fmt::format("; did you mean '{}'?", best), names);
  }
  return {};
}

/// An error as the CLI reports it: "acm: message" on stderr, or under --json one JSON object
/// {"error": {"code": <exit code>, "name": ..., "message": ...}} on stderr.
int report_error(bool json, int code, std::string_view name, const std::string& message) {
  if (json)
    std::cerr << acm::Json{{"error", {{"code", code}, {"name", name}, {"message", message}}}}.dump() << "\n";
  else
    std::cerr << "acm: " << message << "\n";
  return code;
}

/// "--limit -5": CLI11 would take "-5" for an option; "--limit=-5" keeps it the option's value
/// so that the command can say what is wrong with it.
std::vector<std::string> join_negative_values(int argc, char** argv) {
  std::vector<std::string> out;
  auto negative_number = [](const std::string& s) {
    return s.size() > 1 && s[0] == '-' && (std::isdigit(static_cast<unsigned char>(s[1])) || s[1] == '.');
  };
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (!out.empty() && negative_number(word) && out.back().rfind("--", 0) == 0 && out.back().size() > 2 &&
        out.back().find('=') == std::string::npos)
      out.back() += "=" + word;
    else
      out.push_back(std::move(word));
  }
  return out;
}

}  // namespace
}  // namespace acm_cli

int main(int argc, char** argv) {
  using namespace acm_cli;
  // "--limit -5" is passed on as "--limit=-5"; --json counts for errors found while parsing too.
  std::vector<std::string> args = join_negative_values(argc, argv);
  const bool json = std::find(args.begin(), args.end(), "--json") != args.end();
  std::vector<char*> joined{argv[0]};
  for (std::string& a : args) joined.push_back(a.data());
  argc = static_cast<int>(joined.size());
  argv = joined.data();
  CLI::App app{"acm - adaptive case management engine (example CLI; docs/cli.md)"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the command words
  Global global;
  app.add_option("--db", global.db, "SQLite store file (created if missing), or a PostgreSQL database: libpq URI (postgresql://...) or key=value string")->capture_default_str();
  app.add_option("--as", global.as, "acting user (default: the local administrator 'cli' with role admin)");
  app.add_option("--role", global.roles, "global role of the acting user (repeatable)");
  app.add_flag("--json", global.json, "print one JSON document on stdout (errors: a JSON object on stderr)");
  app.set_version_flag("--version", acm::version(), "print the acm version and exit");
  Context ctx(global);

  DemoOptions demo;
  demo.definitions = std::string(ACM_EXAMPLES_DIR) + "/definitions/helpdesk.json";
  auto* demo_cmd = app.add_subcommand("demo", "play the help-desk story end to end");
  demo_cmd->add_option("--definitions", demo.definitions, "definitions document")->check(CLI::ExistingFile);
  demo_cmd->add_option("--db", demo.db, "SQLite store file, recreated by the demo (\"\" = in memory)")
      ->capture_default_str();
  on_run(demo_cmd, [&] {
    demo.json = global.json;
    return run_demo(demo);
  });
  add_case_commands(app, ctx);
  add_learn_commands(app, ctx);
  add_cmmn_commands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string message = unknown_command(app, args);
    if (message.empty()) message = fmt::format("{} (see acm --help)", e.what());
    return report_error(json, 2, "usage", message);
  }
  try {
    for (auto& [cmd, action] : actions())
      if (cmd->parsed()) return action();
    return report_error(json, 2, "usage", "no command given (see acm --help)");
  } catch (const acm::Error& e) {
    return report_error(global.json, exit_code(e.code()), acm::to_string(e.code()), e.what());
  } catch (const std::exception& e) {
    return report_error(global.json, 1, "failure", e.what());
  }
}
