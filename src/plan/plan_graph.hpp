// SPDX-License-Identifier: Apache-2.0
// plan/plan_graph.hpp - the plan as a dependency graph (Boost.Graph): cycles and critical paths.
#pragma once

#include <acm/time.hpp>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace acm::plan {

/// A dependency graph of plan items. An edge (a, b) means "b waits for a".
class PlanGraph {
 public:
  /// Adds a node and returns its index.
  std::size_t add_node(std::string id, Duration weight);
  /// b waits for a.
  void add_edge(std::size_t a, std::size_t b);
  std::size_t size() const { return ids_.size(); }
  const std::string& id(std::size_t i) const { return ids_[i]; }

  /// A dependency cycle if there is one, as node ids in dependency order with the first
  /// repeated at the end ("a -> b -> a"); empty if the graph is acyclic.
  std::vector<std::string> find_cycle() const;
  /// Length of the longest weighted path (sum of node weights). Requires an acyclic graph.
  Duration critical_path() const;

 private:
  std::vector<std::string> ids_;
  std::vector<Duration> weights_;
  std::vector<std::pair<std::size_t, std::size_t>> edges_;
};

}  // namespace acm::plan
