// SPDX-License-Identifier: Apache-2.0
// A tiny C++ program against acm: one case with one ad-hoc task, done. Built by the consumer
// tests (installed package, add_subdirectory, FetchContent, pkg-config). With an argument, it
// also checks that acm::version() is that version.
#include <acm/acm.hpp>

#include <cstring>
#include <iostream>

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], acm::version()) != 0) {
    std::cerr << "acm::version() is " << acm::version() << ", expected " << argv[1] << "\n";
    return 1;
  }
  try {
    auto engine = acm::Engine::open();  // in-memory store
    acm::Actor alice{"alice", {}};
    std::string id = engine->create_case(alice, acm::NewCase{.title = "consumer check"}).created;
    std::string task = engine->add_task(alice, id, acm::AdHocTask{.name = "say hello"}).created;
    engine->complete_item(alice, id, task);
    acm::CaseInfo c = engine->get_case(id);
    std::cout << "acm " << acm::version() << ": case " << c.id << " version " << c.version << ": "
              << acm::to_string(c.items.at(0).state) << "\n";
    return c.items.at(0).state == acm::ItemState::completed ? 0 : 1;
  } catch (const acm::Error& e) {
    std::cerr << "acm error " << acm::to_string(e.code()) << ": " << e.what() << "\n";
    return 1;
  }
}
