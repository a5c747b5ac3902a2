// SPDX-License-Identifier: Apache-2.0
// src/plan on its own: the longest path under two weightings (what goal_remaining measures) and
// the cycle a new dependency would close (what add_dependency refuses).
#include "plan/critical_path.hpp"
#include "plan/dependencies.hpp"
#include "support.hpp"

using namespace acm;

namespace {

// Prerequisites as adjacency lists: prereq[i] = the nodes i waits for.
plan::PathLengths longest(const std::vector<std::int64_t>& w, const std::vector<std::int64_t>& w_alt,
                          const std::vector<std::vector<std::size_t>>& prereq) {
  plan::PathScratch scratch;
  return plan::longest_paths(
      w, w_alt, [&](std::size_t i, std::size_t pos) { return pos < prereq[i].size() ? prereq[i][pos] : plan::kNoNode; },
      scratch);
}

}  // namespace

TEST_CASE("h15 plan: the longest path sums weights along chains of prerequisites") {
  // 0 <- 1 <- 3 and 0 <- 2 <- 3: the path through 1 (weight 5) is the longest.
  const std::vector<std::vector<std::size_t>> prereq{{}, {0}, {0}, {1, 2}};
  auto r = longest({1, 5, 2, 3}, {1, 0, 2, 3}, prereq);
  CHECK(r.longest == 9);      // 1 + 5 + 3
  CHECK(r.longest_alt == 6);  // 1 + 2 + 3 once node 1 counts for nothing
  // A node that does not count (negative weight) is on no path: 3 no longer continues 1.
  r = longest({1, 5, 2, -1}, {1, 5, 2, -1}, prereq);
  CHECK(r.longest == 6);
  // Nothing counts: zero.
  r = longest({-1, -1}, {-1, -1}, {{}, {0}});
  CHECK(r.longest == 0);
  CHECK(r.longest_alt == 0);
}

TEST_CASE("h15 plan: a cycle in the prerequisites cannot make the search loop") {
  const auto r = longest({2, 3}, {2, 3}, {{1}, {0}});
  CHECK(r.longest == 5);
}

TEST_CASE("h15 plan: a new wait that closes a cycle is found, with the cycle in order") {
  std::vector<plan::ItemNode> items{
      {.id = "f/a", .scope = "f", .definition = "a"},
      {.id = "f/b", .scope = "f", .definition = "b", .after = {"f/a"}},
      {.id = "f/c", .scope = "f", .definition = "c", .waits_for = {"b"}},
  };
  CHECK(plan::cycle_if_waiting(items, "f/c", "f/a").empty());
  CHECK(plan::cycle_if_waiting(items, "f/a", "f/c") == std::vector<std::string>{"f/a", "f/b", "f/c", "f/a"});
  // waits_for reaches only its own fragment instance.
  items.push_back({.id = "g/b", .scope = "g", .definition = "b"});
  CHECK(plan::cycle_if_waiting(items, "g/b", "f/c").empty());
  CHECK_THROWS_AS(plan::cycle_if_waiting(items, "f/a", "nope"), std::out_of_range);
}
