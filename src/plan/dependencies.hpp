// SPDX-License-Identifier: Apache-2.0
// plan/dependencies.hpp - which plan items wait for which, and whether a new wait would close a
// dependency cycle (Decider::add_dependency asks before it records one).
#pragma once

#include <string>
#include <vector>

namespace acm::plan {

/// A plan item instance as the dependency check sees it.
struct ItemNode {
  std::string id;                      ///< the instance id (unique among the nodes)
  std::string scope;                   ///< its fragment instance: `waits_for` names definitions there
  std::string definition;              ///< its definition id
  std::vector<std::string> after;      ///< instance ids it waits for (ids that are no node are ignored)
  std::vector<std::string> waits_for;  ///< definition ids whose instances (in its scope) it waits for
};

/// The dependency cycle that making `item` wait for `after` would close, as instance ids in
/// dependency order with the first repeated at the end ("a -> b -> a"); empty if there is none.
/// Throws std::out_of_range unless both `item` and `after` are ids of `items`.
std::vector<std::string> cycle_if_waiting(const std::vector<ItemNode>& items, const std::string& item,
                                          const std::string& after);

}  // namespace acm::plan
