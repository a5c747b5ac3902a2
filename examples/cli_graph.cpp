// SPDX-License-Identifier: Apache-2.0
// examples/cli_graph.cpp - `acm case show ID --graph out.svg|out.dot`: the plan of a case as a
// Boost.Graph adjacency_list written with boost::write_graphviz; SVG through Graphviz `dot`.
#include "cli.hpp"

// GCC 12 reports a false "may be used uninitialized" inside Boost's edge iterator
// (boost::optional in adj_list_edge_iterator) at -O2; the headers are not ours to fix.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/graphviz.hpp>
#pragma GCC diagnostic pop

#include <fmt/format.h>

#include <unistd.h>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace acm;
namespace fs = std::filesystem;

namespace acm_cli {
namespace {

/// A node of the picture: a plan item or a goal, with its DOT attributes.
struct Node {
  std::string id;     ///< item or goal id (the DOT node name)
  std::string label;  ///< lines separated by '\n'
  std::string shape;
  std::string fill;
  std::string style = "filled";
};

/// An edge: stage containment, an `after` dependency, or work serving a goal.
struct Link {
  std::string kind;  ///< "contains", "after", "serves", "subgoal"
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, Node, Link>;

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char ch : text) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out += ch;
  }
  return out + "\"";
}

std::string state_colour(ItemState s) {
  switch (s) {
    case ItemState::available:
      return "#eeeeee";
    case ItemState::enabled:
      return "#fff3b0";
    case ItemState::disabled:
      return "#d0d0d0";
    case ItemState::active:
      return "#9ecbff";
    case ItemState::suspended:
      return "#ffd59e";
    case ItemState::completed:
      return "#a8e6a1";
    case ItemState::terminated:
      return "#bbbbbb";
    case ItemState::failed:
      return "#ff9e9e";
  }
  return "white";
}

std::string goal_colour(const GoalInfo& g) {
  if (g.status == GoalStatus::achieved) return "#a8e6a1";
  if (g.status == GoalStatus::cancelled) return "#bbbbbb";
  if (g.timing == Timing::overdue) return "#ff9e9e";
  if (g.timing == Timing::at_risk) return "#ffd59e";
  return "#ffffff";
}

std::string item_shape(ItemKind k) {
  switch (k) {
    case ItemKind::stage:
      return "folder";
    case ItemKind::milestone:
      return "diamond";
    case ItemKind::automated_task:
      return "component";
    case ItemKind::timer_listener:
    case ItemKind::user_listener:
      return "ellipse";
    case ItemKind::human_task:
      return "box";
  }
  return "box";
}

Graph build(const CaseInfo& c) {
  Graph g;
  std::map<std::string, Graph::vertex_descriptor> vertex;
  for (const PlanItemInfo& i : c.items) {
    std::string label = i.id;
    if (!i.name.empty() && i.name != i.def_id) label += "\n" + i.name;
    label += "\n" + std::string(to_string(i.state));
    if (!i.assignee.empty()) label += " - " + i.assignee;
    if (i.due) label += "\ndue " + format_time(*i.due);
    vertex[i.id] = boost::add_vertex(Node{i.id, label, item_shape(i.kind), state_colour(i.state)}, g);
  }
  for (const GoalInfo& goal : c.goals) {
    std::string label = "goal " + goal.id;
    if (!goal.name.empty()) label += "\n" + goal.name;
    label += "\n" + std::string(to_string(goal.status));
    if (goal.status == GoalStatus::open) label += ", " + std::string(to_string(goal.timing));
    if (goal.deadline) label += "\ndeadline " + format_time(*goal.deadline);
    vertex["goal:" + goal.id] =
        boost::add_vertex(Node{"goal:" + goal.id, label, "hexagon", goal_colour(goal), "filled,bold"}, g);
  }
  for (const PlanItemInfo& i : c.items) {
    if (!i.parent.empty() && vertex.count(i.parent))
      boost::add_edge(vertex[i.parent], vertex[i.id], Link{"contains"}, g);
    for (const std::string& before : i.after)
      if (vertex.count(before)) boost::add_edge(vertex[before], vertex[i.id], Link{"after"}, g);
    // Work serves a goal; items inside a stage bound to the same goal are shown through it.
    const auto parent =
        std::find_if(c.items.begin(), c.items.end(), [&](const PlanItemInfo& p) { return p.id == i.parent; });
    const bool through_stage = parent != c.items.end() && parent->goal == i.goal;
    if (!i.goal.empty() && !through_stage && vertex.count("goal:" + i.goal))
      boost::add_edge(vertex[i.id], vertex["goal:" + i.goal], Link{"serves"}, g);
  }
  for (const GoalInfo& goal : c.goals)
    if (!goal.parent.empty() && vertex.count("goal:" + goal.parent))
      boost::add_edge(vertex["goal:" + goal.id], vertex["goal:" + goal.parent], Link{"subgoal"}, g);
  return g;
}

std::string to_dot(const CaseInfo& c) {
  const Graph g = build(c);
  std::ostringstream out;
  auto node_writer = [&g](std::ostream& os, Graph::vertex_descriptor v) {
    const Node& n = g[v];
    os << "[label=" << quoted(n.label) << ", shape=" << n.shape << ", style=" << quoted(n.style)
       << ", fillcolor=" << quoted(n.fill) << ", tooltip=" << quoted(n.id) << "]";
  };
  auto edge_writer = [&g](std::ostream& os, Graph::edge_descriptor e) {
    const std::string& k = g[e].kind;
    if (k == "contains")
      os << "[style=dashed, arrowhead=none, color=\"#888888\"]";
    else if (k == "after")
      os << "[label=\"after\"]";
    else if (k == "serves")
      os << "[style=dotted, color=\"#3366cc\"]";
    else
      os << "[style=bold, color=\"#3366cc\"]";
  };
  auto graph_writer = [&c](std::ostream& os) {
    os << "label=" << quoted(fmt::format("case {} ({}) - {}", c.id, to_string(c.status), c.title)) << ";\n"
       << "labelloc=t;\nrankdir=LR;\nnode [fontname=\"Helvetica\", fontsize=10];\n"
       << "edge [fontname=\"Helvetica\", fontsize=9];\n";
  };
  // Node names are the item ids ("diagnosis#1/triage") and "goal:<id>" for goals.
  // (write_graphviz quotes them).
  boost::write_graphviz(out, g, node_writer, edge_writer, graph_writer, boost::get(&Node::id, g));
  return out.str();
}

/// The full path of `program` on PATH, or "" when it is not there.
std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

}  // namespace

void write_graph(const CaseInfo& c, const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  if (ext != ".dot" && ext != ".gv" && ext != ".svg")
    throw Error(ErrorCode::invalid_argument, fmt::format("--graph {}: use a .dot (or .gv) or .svg file", path));
  const std::string dot_text = to_dot(c);
  auto write_file = [](const std::string& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw std::runtime_error(fmt::format("cannot write {}", file));
  };
  if (ext != ".svg") {
    write_file(path, dot_text);
    return;
  }
  const std::string dot = find_on_path("dot");
  if (dot.empty())
    throw std::runtime_error(fmt::format(
        "cannot draw {}: Graphviz 'dot' is not on PATH (install the Debian package graphviz, or use --graph "
        "file.dot)",
        path));
  const std::string tmp = path + ".tmp.dot";
  write_file(tmp, dot_text);
  const std::string cmd = fmt::format("{} -Tsvg {} -o {}", shell_quoted(dot), shell_quoted(tmp), shell_quoted(path));
  const int rc = std::system(cmd.c_str());
  std::error_code ec;
  fs::remove(tmp, ec);
  if (rc != 0) throw std::runtime_error(fmt::format("Graphviz 'dot -Tsvg' failed for {} (status {})", path, rc));
}

}  // namespace acm_cli
