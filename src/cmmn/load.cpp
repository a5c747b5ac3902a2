// SPDX-License-Identifier: Apache-2.0
// cmmn/load.cpp - loading definitions given as text: JSON, or CMMN XML through the importer.
#include <acm/cmmn.hpp>
#include <acm/error.hpp>

namespace acm::cmmn {

std::vector<Diagnostic> load(Engine& engine, const Request& by, std::string_view text) {
  if (is_xml(text)) {
    ImportResult r = import(text);
    engine.load_definitions(by, r.definitions);
    return std::move(r.warnings);
  }
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end());
  } catch (const std::exception& e) {
    throw Error(ErrorCode::parse_error, std::string("definitions: neither CMMN XML nor valid JSON: ") + e.what());
  }
  engine.load_definitions(by, doc);
  return {};
}

}  // namespace acm::cmmn
