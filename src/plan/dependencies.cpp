// SPDX-License-Identifier: Apache-2.0
#include "plan/dependencies.hpp"

#include "plan/plan_graph.hpp"

#include <unordered_map>

namespace acm::plan {

std::vector<std::string> cycle_if_waiting(const std::vector<ItemNode>& items, const std::string& item,
                                          const std::string& after) {
  PlanGraph g;
  std::unordered_map<std::string, std::size_t> node;
  for (const auto& it : items) node[it.id] = g.add_node(it.id, Duration{0});
  for (const auto& it : items) {
    for (const auto& a : it.after)
      if (auto p = node.find(a); p != node.end()) g.add_edge(p->second, node.at(it.id));
    for (const auto& def : it.waits_for)
      for (const auto& src : items)
        if (src.scope == it.scope && src.definition == def) g.add_edge(node.at(src.id), node.at(it.id));
  }
  g.add_edge(node.at(after), node.at(item));
  return g.find_cycle();
}

}  // namespace acm::plan
