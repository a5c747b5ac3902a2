// SPDX-License-Identifier: Apache-2.0
// A tiny C++ program against the installed acm: one case with one ad-hoc task, done.
#include <acm/acm.hpp>

#include <iostream>

int main() {
  try {
    auto engine = acm::Engine::open();  // in-memory store
    acm::Actor alice{"alice", {}};
    std::string id = engine->create_case(alice, acm::NewCase{.title = "consumer check"});
    std::string task = engine->add_task(alice, id, acm::AdHocTask{.name = "say hello"});
    engine->complete_item(alice, id, task);
    acm::CaseInfo c = engine->get_case(id);
    std::cout << "case " << c.id << " version " << c.version << ": " << acm::to_string(c.items.at(0).state) << "\n";
    return c.items.at(0).state == acm::ItemState::completed ? 0 : 1;
  } catch (const acm::Error& e) {
    std::cerr << "acm error " << acm::to_string(e.code()) << ": " << e.what() << "\n";
    return 1;
  }
}
