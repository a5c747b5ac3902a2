// SPDX-License-Identifier: Apache-2.0
// plan/critical_path.hpp - the longest weighted path through a plan's dependency graph, the
// measure of the work left before a goal (Decider::goal_remaining gives it the case's items).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace acm::plan {

/// A node index that is no node (the end of a node's prerequisites).
inline constexpr std::size_t kNoNode = std::numeric_limits<std::size_t>::max();

/// The lengths of the longest path under two weightings of the same nodes.
struct PathLengths {
  std::int64_t longest = 0;      ///< with `weight`
  std::int64_t longest_alt = 0;  ///< with `weight_alt`
};

/// Reusable scratch space for longest_paths (one per thread: it is not shared).
struct PathScratch {
  std::vector<std::int64_t> finish, finish_alt;
  std::vector<char> mark;
  std::vector<std::pair<std::size_t, std::size_t>> stack;
};

/// The longest path through nodes 0..n-1 (n = weight.size() = weight_alt.size()), where a path
/// is a chain of prerequisites and its length the sum of its nodes' weights; computed for two
/// weightings at once (the runtime counts active tasks as done in the second one).
///
/// A node of negative weight does not count: it is on no path and no path passes through it.
/// `prerequisite(i, pos)` returns a prerequisite of node i for positions pos = 0, 1, 2, ... and
/// kNoNode once i has no more (it may return one node for several positions: it counts once).
/// Edges are expected to form no cycle (definitions and add_dependency keep plans acyclic); an
/// edge back into the path being searched is ignored, so a cycle cannot make the search loop.
/// An iterative depth-first search: no recursion, whatever the depth; O(nodes + positions).
template <class Prerequisite>
PathLengths longest_paths(const std::vector<std::int64_t>& weight, const std::vector<std::int64_t>& weight_alt,
                          Prerequisite&& prerequisite, PathScratch& scratch) {
  const std::size_t n = weight.size();
  auto& finish = scratch.finish;
  auto& finish_alt = scratch.finish_alt;
  auto& mark = scratch.mark;  // 0 new, 2 on the stack, 1 done
  auto& stack = scratch.stack;
  finish.assign(n, 0);
  finish_alt.assign(n, 0);
  mark.assign(n, 0);
  PathLengths best;
  for (std::size_t root = 0; root < n; ++root) {
    if (weight[root] < 0 || mark[root]) continue;
    stack.clear();
    stack.push_back({root, 0});
    mark[root] = 2;
    while (!stack.empty()) {
      auto [i, pos] = stack.back();
      const std::size_t d = prerequisite(i, pos);
      if (d != kNoNode) {
        stack.back().second = pos + 1;
        if (weight[d] >= 0 && mark[d] == 0) {
          mark[d] = 2;
          stack.push_back({d, 0});
        } else if (weight[d] >= 0 && mark[d] == 1) {
          finish[i] = std::max(finish[i], finish[d]);  // finish[i] holds the latest prerequisite end so far
          finish_alt[i] = std::max(finish_alt[i], finish_alt[d]);
        }
        continue;
      }
      finish[i] += weight[i];
      finish_alt[i] += weight_alt[i];
      best.longest = std::max(best.longest, finish[i]);
      best.longest_alt = std::max(best.longest_alt, finish_alt[i]);
      mark[i] = 1;
      stack.pop_back();
      if (!stack.empty()) {
        const std::size_t parent = stack.back().first;
        finish[parent] = std::max(finish[parent], finish[i]);
        finish_alt[parent] = std::max(finish_alt[parent], finish_alt[i]);
      }
    }
  }
  return best;
}

}  // namespace acm::plan
