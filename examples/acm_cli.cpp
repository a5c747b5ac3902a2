// The `acm` command-line tool (example host program).
#include "demo.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"acm - adaptive case management engine (example CLI)"};
  app.require_subcommand(1);
  acm_cli::DemoOptions demo;
  demo.definitions = std::string(ACM_EXAMPLES_DIR) + "/definitions/helpdesk.json";
  auto* demo_cmd = app.add_subcommand("demo", "play the help-desk story end to end");
  demo_cmd->add_option("--definitions", demo.definitions, "definitions document")->check(CLI::ExistingFile);
  demo_cmd->add_flag("--json", demo.json, "print events as JSON lines");
  demo_cmd->add_option("--db", demo.db, "SQLite store file, recreated by the demo (\"\" = in memory)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    if (*demo_cmd) return acm_cli::run_demo(demo);
  } catch (const std::exception& e) {
    std::cerr << "acm: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
