// SPDX-License-Identifier: Apache-2.0
// examples/cli_cmmn.cpp - CMMN in the `acm` CLI: `definitions load model.cmmn` (detected by
// content), `acm cmmn import MODEL` (the acm definitions a model becomes) and
// `acm cmmn test [--base DIR] SCENARIO...` (the conformance runner, docs/cmmn.md).
#include "cli.hpp"

#include <acm/cmmn.hpp>

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <iterator>

namespace acm_cli {

using namespace acm;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, fmt::format("cannot read {}", path));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Json warnings_json(const std::vector<cmmn::Diagnostic>& ws) {
  Json out = Json::array();
  for (const auto& w : ws) out.push_back(Json{{"line", w.line}, {"column", w.column}, {"message", w.message}});
  return out;
}

std::string short_json(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  return j.dump();
}

}  // namespace

std::optional<int> load_cmmn_file(Context& ctx, const std::string& path) {
  const std::string text = read_text(path);
  if (!cmmn::is_xml(text)) return std::nullopt;
  cmmn::ImportResult r = cmmn::import(text);
  ctx.engine().load_definitions(ctx.actor(), r.definitions);
  const std::size_t fragments = r.definitions["fragments"].size();
  const std::size_t types = r.definitions["case_types"].size();
  if (ctx.json()) {
    Json cases = Json::array();
    for (const auto& c : r.cases)
      cases.push_back(Json{{"case", c.case_id}, {"case_type", c.case_type}, {"fragment", c.fragment}});
    print_json({{"loaded", path},
                {"format", "cmmn"},
                {"fragments", fragments},
                {"case_types", types},
                {"cases", cases},
                {"warnings", warnings_json(r.warnings)}});
  } else {
    std::cout << fmt::format("loaded {} (CMMN): {} fragments, {} case types\n", path, fragments, types);
    for (const auto& c : r.cases)
      std::cout << fmt::format("  case {} -> case type {} (plan model: fragment {})\n", c.case_id, c.case_type,
                               c.fragment);
    for (const auto& w : r.warnings) std::cerr << "warning: " << cmmn::to_string(w) << "\n";
  }
  return 0;
}

void add_cmmn_commands(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("cmmn", "CMMN 1.1 models: import, conformance runs")->require_subcommand(1);

  static std::string model;
  auto* imp = cmd->add_subcommand("import", "print the acm definitions a CMMN model becomes (registers nothing)");
  imp->add_option("MODEL", model, "CMMN XML file")->required();
  on_run(imp, [&ctx] {
    cmmn::ImportResult r = cmmn::import(read_text(model));
    if (ctx.json()) {
      Json cases = Json::array();
      for (const auto& c : r.cases) {
        Json items = Json::object();
        for (const auto& [k, v] : c.items) items[k] = v;
        cases.push_back(
            Json{{"case", c.case_id}, {"case_type", c.case_type}, {"fragment", c.fragment}, {"items", items}});
      }
      print_json({{"definitions", r.definitions}, {"cases", cases}, {"warnings", warnings_json(r.warnings)}});
    } else {
      print_json(r.definitions);
      for (const auto& w : r.warnings) std::cerr << "warning: " << cmmn::to_string(w) << "\n";
    }
    return 0;
  });

  static std::string base = ".";
  static std::vector<std::string> scenarios;
  auto* test = cmd->add_subcommand("test", "run conformance scenarios (data/cmmn/scenarios/README.md)");
  test->add_option("--base", base, "folder the scenarios' model paths are relative to")->capture_default_str();
  test->add_option("SCENARIO", scenarios, "scenario JSON files")->required();
  on_run(test, [&ctx] {
    int passed = 0, failed = 0, skipped = 0, ipassed = 0, ifailed = 0;
    Json reports = Json::array();
    for (const auto& file : scenarios) {
      const cmmn::ScenarioReport r = cmmn::run_scenario(file, base);
      passed += r.passed;
      failed += r.failed;
      skipped += r.skipped;
      ipassed += r.inferred_passed;
      ifailed += r.inferred_failed;
      if (ctx.json()) {
        reports.push_back(r.to_json());
        continue;
      }
      const char* verdict = r.failed ? "FAIL" : r.skipped || !r.error.empty() ? "SKIP" : "PASS";
      std::cout << fmt::format("{} {}: {} passed, {} failed, {} skipped (inferred: {} hold, {} do not)\n", verdict,
                               r.name, r.passed, r.failed, r.skipped, r.inferred_passed, r.inferred_failed);
      if (!r.error.empty()) std::cout << "    " << r.error << "\n";
      for (const auto& c : r.checks) {
        if (c.inferred || c.status == "passed") continue;
        if (c.status == "skipped" && !r.error.empty()) continue;
        std::cout << fmt::format("    step {} ({}): {} {}: expected {}, actual {}{}\n", c.step, c.action, c.key,
                                 c.status, short_json(c.expected), short_json(c.actual),
                                 c.reason.empty() ? "" : " - " + c.reason);
      }
    }
    if (ctx.json()) {
      print_json({{"scenarios", reports},
                  {"passed", passed},
                  {"failed", failed},
                  {"skipped", skipped},
                  {"inferred", Json{{"passed", ipassed}, {"failed", ifailed}}}});
    } else {
      std::cout << fmt::format("{} passed, {} failed, {} skipped\n", passed, failed, skipped);
    }
    return failed || skipped ? 1 : 0;
  });
}

}  // namespace acm_cli
