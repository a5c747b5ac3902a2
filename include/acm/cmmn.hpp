// SPDX-License-Identifier: Apache-2.0
// acm/cmmn.hpp - CMMN 1.1 (and 1.0) XML models as acm definitions, and the conformance runner
// that replays the peers' test scenarios (docs/cmmn.md).
#pragma once

#include <acm/engine.hpp>
#include <acm/json.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace acm::cmmn {

/// A warning (or, inside an Error's message, a problem) at a place in the XML text.
struct Diagnostic {
  int line = 0;    ///< 1-based; 0 = the document as a whole
  int column = 0;  ///< 1-based
  std::string message;
};

/// How one CMMN <case> was mapped.
struct CaseMapping {
  std::string case_id;    ///< the <case> id as written
  std::string case_type;  ///< the acm case type id
  std::string fragment;   ///< the acm fragment id of its case plan model
  /// planItem (and discretionaryItem) id as written -> the acm item definition ids made from it
  /// (several when a stage definition is used by several plan items; none for a planFragment
  /// plan item, whose content is flattened into its stage).
  std::map<std::string, std::vector<std::string>> items;
  /// discretionaryItem id -> the acm fragment offering it.
  std::map<std::string, std::string> discretionary;
};

/// What an import produced.
struct ImportResult {
  Json definitions;                  ///< {"fragments": [...], "case_types": [...]} (docs/definitions.md)
  std::vector<Diagnostic> warnings;  ///< what was ignored (vendor extensions, diagram, ...)
  std::vector<CaseMapping> cases;
};

/// True when `text` is XML (its first non-blank character is '<'), as opposed to JSON. Loading
/// functions use it to pick the importer.
bool is_xml(std::string_view text);

/// Imports a CMMN 1.1 model (the 1.0 namespace too). Every <case> becomes a case type with
/// `semantics: cmmn` whose initial fragment is its case plan model; discretionary items become
/// discretionary fragments. Throws Error: parse_error for malformed XML, invalid_definition for
/// anything else (wrong namespace, dangling reference, what acm cannot run such as a process
/// task); the message lists every problem with its line and column.
ImportResult import(std::string_view xml);

/// Loads a definitions document given as text, JSON or CMMN XML (detected by content), into
/// the engine: all or nothing, as Engine::load_definitions. Returns the import warnings (none
/// for JSON).
std::vector<Diagnostic> load(Engine& engine, const Request& by, std::string_view text);

/// "line 3, column 7: message" (or just the message for line 0).
std::string to_string(const Diagnostic& d);

// ---- conformance runner -----------------------------------------------------------------

/// One checked expectation of a scenario.
struct Check {
  std::size_t step = 0;  ///< 0-based index in `steps`
  std::string action;    ///< the step's `do`
  std::string key;       ///< e.g. "items.PI_1", "case", "count.A"
  std::string status;    ///< "passed", "failed" or "skipped"
  Json expected;
  Json actual;
  std::string reason;     ///< skipped: why; failed: optional detail
  bool inferred = false;  ///< from `inferred` (reported, not counted)
};

/// The outcome of one scenario file.
struct ScenarioReport {
  std::string file;
  std::string name;   ///< the file name without directory and .json
  std::string error;  ///< the scenario could not be read or its model not imported ("" = ran)
  std::vector<Check> checks;
  int passed = 0, failed = 0, skipped = 0;  ///< counted over `expect` only
  int inferred_passed = 0, inferred_failed = 0;
  Json to_json() const;
};

/// Runs one scenario (format: data/cmmn/scenarios/README.md): its model (relative to
/// `base_dir`) imported into a fresh in-memory engine with a manual clock, every step driven
/// through the public API, every expectation compared. Never throws for a bad scenario: the
/// problem is reported (error, or skipped checks with the reason).
ScenarioReport run_scenario(const std::string& file, const std::string& base_dir);

}  // namespace acm::cmmn
