// SPDX-License-Identifier: Apache-2.0
// The quick start of docs/index.md (quoted there verbatim; ctest runs it as example_quickstart).
#include <acm/acm.hpp>

#include <fstream>
#include <iostream>

// Run from the source tree: build/examples/quickstart (or give the definitions file).
int main(int argc, char** argv) {
  const char* definitions = argc > 1 ? argv[1] : "examples/definitions/helpdesk.json";
  try {
    auto engine = acm::Engine::open({.database = "quickstart.db"});  // created if missing
    acm::Actor admin{"root", {"admin"}};
    engine->load_definitions(admin, acm::Json::parse(std::ifstream(definitions)));

    // A complaint starts with its initial fragment, "diagnosis", already in the plan.
    std::string id = engine->create_case(admin, {.type = "complaint", .title = "Broken router"}).created;
    // Discretionary fragments the worker may add now (their applicability rule holds).
    for (const auto& offer : engine->applicable_fragments(id)) std::cout << "may add: " << offer.fragment << "\n";
    std::string stage = engine->add_fragment(admin, id, {.fragment = "escalation", .goal = "resolved"}).created;

    acm::CaseInfo c = engine->get_case(id);
    std::cout << id << " (" << c.title << "): added " << stage << ", " << c.items.size() << " plan items\n";
  } catch (const acm::Error& e) {
    std::cerr << acm::to_string(e.code()) << ": " << e.what() << "\n";
    return 1;
  }
}
