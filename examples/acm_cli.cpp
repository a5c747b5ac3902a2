// SPDX-License-Identifier: Apache-2.0
// The `acm` command-line tool (example host program): commands over a store file, and the demo.
// docs/cli.md describes every command, the actor options and the exit codes.
#include "cli.hpp"
#include "demo.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <map>

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

}  // namespace acm_cli

int main(int argc, char** argv) {
  using namespace acm_cli;
  CLI::App app{"acm - adaptive case management engine (example CLI; docs/cli.md)"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the command words
  Global global;
  app.add_option("--db", global.db, "SQLite store file (created if missing)")->capture_default_str();
  app.add_option("--as", global.as, "acting user (default: the local administrator 'cli' with role admin)");
  app.add_option("--role", global.roles, "global role of the acting user (repeatable)");
  app.add_flag("--json", global.json, "print one JSON document on stdout");
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "acm: " << e.what() << " (see acm --help)\n";
    return 2;
  }
  try {
    for (auto& [cmd, action] : actions())
      if (cmd->parsed()) return action();
    std::cerr << "acm: no command given (see acm --help)\n";
    return 2;
  } catch (const acm::Error& e) {
    std::cerr << "acm: " << e.what() << "\n";
    return exit_code(e.code());
  } catch (const std::exception& e) {
    std::cerr << "acm: " << e.what() << "\n";
    return 1;
  }
}
