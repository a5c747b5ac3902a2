// SPDX-License-Identifier: Apache-2.0
#include "plan/plan_graph.hpp"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/topological_sort.hpp>

#include <algorithm>
#include <iterator>

namespace acm::plan {
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
using EdgeDesc = boost::graph_traits<Graph>::edge_descriptor;

// Records tree-edge parents and the first back edge seen: a back edge (u, v) closes the
// cycle v -> ... -> u -> v along the DFS tree.
struct CycleFinder : boost::default_dfs_visitor {
  std::vector<Vertex>* parent;
  std::vector<Vertex>* cycle;
  void tree_edge(EdgeDesc e, const Graph& g) const { (*parent)[boost::target(e, g)] = boost::source(e, g); }
  void back_edge(EdgeDesc e, const Graph& g) const {
    if (!cycle->empty()) return;
    Vertex u = boost::source(e, g), v = boost::target(e, g);
    std::vector<Vertex> path{u};
    while (path.back() != v) path.push_back((*parent)[path.back()]);
    std::reverse(path.begin(), path.end());  // v ... u
    *cycle = std::move(path);
  }
};

Graph build(std::size_t n, const std::vector<std::pair<std::size_t, std::size_t>>& edges) {
  Graph g(n);
  for (auto [a, b] : edges) boost::add_edge(a, b, g);
  return g;
}

}  // namespace

std::size_t PlanGraph::add_node(std::string id, Duration weight) {
  ids_.push_back(std::move(id));
  weights_.push_back(weight);
  return ids_.size() - 1;
}

void PlanGraph::add_edge(std::size_t a, std::size_t b) { edges_.emplace_back(a, b); }

std::vector<std::string> PlanGraph::find_cycle() const {
  Graph g = build(ids_.size(), edges_);
  std::vector<Vertex> parent(ids_.size());
  std::vector<Vertex> cycle;
  CycleFinder vis;
  vis.parent = &parent;
  vis.cycle = &cycle;
  std::vector<boost::default_color_type> colors(ids_.size());
  boost::depth_first_search(g, boost::visitor(vis).color_map(
                                   boost::make_iterator_property_map(colors.begin(), boost::get(boost::vertex_index, g))));
  std::vector<std::string> out;
  for (Vertex v : cycle) out.push_back(ids_[v]);
  if (!out.empty()) out.push_back(out.front());
  return out;
}

Duration PlanGraph::critical_path() const {
  if (ids_.empty()) return Duration{0};
  Graph g = build(ids_.size(), edges_);
  std::vector<Vertex> order;
  boost::topological_sort(g, std::back_inserter(order));  // reverse topological order
  std::vector<Duration> finish(ids_.size(), Duration{0});
  Duration best{0};
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Vertex u = *it;
    finish[u] += weights_[u];
    best = std::max(best, finish[u]);
    for (auto [e, end] = boost::out_edges(u, g); e != end; ++e) {
      Vertex v = boost::target(*e, g);
      finish[v] = std::max(finish[v], finish[u]);
    }
  }
  return best;
}

}  // namespace acm::plan
