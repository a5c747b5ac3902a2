// SPDX-License-Identifier: Apache-2.0
// examples/cli_graph.cpp - `acm case show ID --graph plan.png|plan.svg|plan.dot`: the plan of a
// case drawn the way a CMMN modeller draws it. The case plan is a frame, stages are frames
// (Graphviz clusters) holding their items, entry criteria are white diamonds and exit criteria
// black diamonds with their on-parts as dashed connectors, milestones are flat ellipses, event
// listeners double circles with a clock or a person, discretionary items dashed boxes in the
// stage holding their planning table; acm's goals stand outside the plan, with the milestones
// they wait for.
// SVG and PNG are rendered by Graphviz `dot`.
#include "cli.hpp"

#include <fmt/format.h>

#include <unistd.h>
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

using namespace acm;
namespace fs = std::filesystem;

namespace acm_cli {
namespace {

/// Text for an HTML-like Graphviz label.
std::string html(std::string_view text) {
  std::string out;
  for (char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\n':
        out += "<br/>";
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) break;  // other controls would break dot
        out += ch;
    }
  }
  return out;
}

/// A quoted DOT identifier or string.
std::string dot_id(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    if (static_cast<unsigned char>(ch) < 0x20) continue;
    out += ch;
  }
  return out + "\"";
}

/// Long conditions and names are cut for the picture (the tooltip keeps the whole text).
std::string shortened(const std::string& text, std::size_t max = 40) {
  if (text.size() <= max) return text;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
  return text.substr(0, cut) + "...";
}

std::string state_colour(ItemState s) {
  switch (s) {
    case ItemState::available:
      return "#f4f4f4";
    case ItemState::enabled:
      return "#fff3b0";
    case ItemState::disabled:
      return "#d8d8d8";
    case ItemState::active:
      return "#cfe6ff";
    case ItemState::suspended:
      return "#ffe2b8";
    case ItemState::completed:
      return "#c9efc4";
    case ItemState::terminated:
      return "#c8c8c8";
    case ItemState::failed:
      return "#ffc2c2";
  }
  return "white";
}

std::string goal_colour(const GoalInfo& g) {
  if (g.status == GoalStatus::achieved) return "#c9efc4";
  if (g.status == GoalStatus::cancelled) return "#c8c8c8";
  if (g.timing == Timing::overdue) return "#ffc2c2";
  if (g.timing == Timing::at_risk) return "#ffe2b8";
  return "#ffffff";
}

/// The fragment instance an item belongs to: "diagnosis#1" for "diagnosis#1/triage@2".
std::string root_of(const std::string& item_id) { return item_id.substr(0, item_id.find('/')); }

/// Writes the DOT text of one case's plan.
class PlanPicture {
 public:
  PlanPicture(const Engine& engine, const CaseInfo& c) : engine_(engine), case_(c) {
    for (const PlanItemInfo& i : c.items) add_node(i);
    // A stage that has not started has no items yet: draw what its definition will create,
    // dashed, so the picture shows the whole model as a CMMN modeller does.
    for (const PlanItemInfo& i : c.items)
      if (is_stage(i) && children_[i.id].empty()) add_planned_children(i);
  }

  std::string dot() {
    out_ << "digraph plan {\n"
         << "  graph [rankdir=LR, compound=true, newrank=true, nodesep=0.35, ranksep=0.45, fontname=\"Helvetica\","
         << " fontsize=11, labelloc=t, labeljust=l, label=<" << title() << ">];\n"
         << "  node [fontname=\"Helvetica\", fontsize=10, penwidth=1.2];\n"
         << "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n";
    // The case plan model: a frame holding the top-level items and stages. A case whose plan
    // is one stage (an imported CMMN case plan model, a case type with one initial fragment)
    // is drawn as that stage's frame alone, as a CMMN modeller shows it.
    const auto& top = children_[""];
    case_frame_ = !(top.size() == 1 && is_stage(*top.front()));
    out_ << open_case_frame();
    if (case_frame_)
      out_ << "    label=<<b>" << html(case_.title.empty() ? "Case plan" : case_.title)
           << "</b>  <font point-size=\"9\">" << html(std::string(to_string(case_.status))) << "</font>>;\n"
           << "    style=\"rounded\"; color=\"#333333\"; penwidth=1.6; fontsize=11;\n";
    for (const PlanItemInfo* i : top) write_item(*i, "    ");
    out_ << close_case_frame();
    write_goals();
    write_planning_table();
    write_sentries();
    for (const std::string& e : edges_) out_ << "  " << e << "\n";
    out_ << "}\n";
    return out_.str();
  }

 private:
  std::string open_case_frame() const { return case_frame_ ? "  subgraph \"cluster_case\" {\n" : ""; }
  std::string close_case_frame() const { return case_frame_ ? "  }\n" : ""; }

  std::string title() const {
    std::string t = "<b>case " + html(case_.id) + "</b>";
    if (!case_.type.empty()) t += "  <font point-size=\"9\">type " + html(case_.type) + "</font>";
    if (!case_.subject.customer.empty())
      t += "  <font point-size=\"9\">customer " + html(case_.subject.customer) + "</font>";
    return t;
  }

  /// The definition an item was made from (with the fragment's exit criteria for a fragment's
  /// stage), or null for ad-hoc work.
  const ItemDef* def_of(const PlanItemInfo& i) {
    const FragmentDef* f = fragment_of(i);
    if (f == nullptr || i.id.find('/') == std::string::npos) return nullptr;
    std::function<const ItemDef*(const std::vector<ItemDef>&)> find = [&](const std::vector<ItemDef>& items) {
      for (const ItemDef& d : items) {
        if (d.id == i.def_id) return &d;
        if (const ItemDef* c = find(d.children)) return c;
      }
      return static_cast<const ItemDef*>(nullptr);
    };
    return find(f->items);
  }

  const FragmentDef* fragment_of(const PlanItemInfo& i) {
    if (i.fragment.empty()) return nullptr;
    const auto key = std::make_pair(i.fragment, i.fragment_version);
    auto it = fragments_.find(key);
    if (it == fragments_.end()) {
      std::optional<FragmentDef> f;
      try {
        f = engine_.get_fragment(i.fragment, i.fragment_version);
      } catch (const Error&) {
        // Not registered here (any more): the picture goes without its sentries.
      }
      it = fragments_.emplace(key, std::move(f)).first;
    }
    return it->second ? &*it->second : nullptr;
  }

  static bool is_stage(const PlanItemInfo& i) { return i.kind == ItemKind::stage; }

  void add_node(const PlanItemInfo& i) {
    by_id_[i.id] = &i;
    children_[i.parent].push_back(&i);
    all_.push_back(&i);
  }

  /// Items not created yet: the children of a stage that has not started, from its definition,
  /// with the ids they will have (`<fragment instance>/<definition id>`).
  void add_planned_children(const PlanItemInfo& stage) {
    const FragmentDef* f = fragment_of(stage);
    if (f == nullptr) return;
    const ItemDef* d = def_of(stage);
    const std::vector<ItemDef>& defs = stage.id.find('/') == std::string::npos ? f->items
                                       : d != nullptr                          ? d->children
                                                                               : f->items;
    if (d == nullptr && stage.id.find('/') != std::string::npos) return;
    const std::string root = root_of(stage.id);
    for (const ItemDef& c : defs) {
      const std::string id = root + "/" + c.id;
      if (by_id_.count(id)) continue;
      PlanItemInfo& g = planned_.emplace_back();
      g.id = id;
      g.def_id = c.id;
      g.name = c.name;
      g.kind = c.kind;
      g.state = ItemState::available;
      g.parent = stage.id;
      g.fragment = stage.fragment;
      g.fragment_version = stage.fragment_version;
      g.goal = stage.goal;
      g.role = c.role;
      for (const std::string& a : c.after) g.after.push_back(root + "/" + a);
      planned_ids_.insert(id);
      add_node(g);
      if (c.kind == ItemKind::stage) add_planned_children(g);
    }
  }

  bool planned(const PlanItemInfo& i) const { return planned_ids_.count(i.id) > 0; }

  /// The DOT node an edge to or from item `id` attaches to (a stage's anchor inside its frame).
  std::string node_of(const std::string& id) const { return dot_id(id); }
  std::string attach_head(const std::string& id) const {
    auto it = by_id_.find(id);
    return it != by_id_.end() && is_stage(*it->second) ? ", lhead=" + dot_id("cluster_" + id) : "";
  }
  std::string attach_tail(const std::string& id) const {
    auto it = by_id_.find(id);
    return it != by_id_.end() && is_stage(*it->second) ? ", ltail=" + dot_id("cluster_" + id) : "";
  }

  /// CMMN's decorators: required (!), manual activation (a play triangle), repetition (#),
  /// auto-complete (a small black square). An item created already shows its evaluated rules;
  /// one not created yet shows the rules its definition has.
  std::string markers(const PlanItemInfo& i) {
    std::string m;
    auto add = [&](const std::string& s) { m += (m.empty() ? "" : "  ") + s; };
    const ItemDef* d = def_of(i);
    auto rule = [](const std::string& r) { return !r.empty() && r != "false"; };
    const bool later = planned(i);
    if (later ? d != nullptr && rule(d->required) : i.required) add("! required");
    if (later ? d != nullptr && rule(d->manual_activation) : i.manual) add("&#9655; manual");
    if (i.repetition > 0)
      add("# " + std::to_string(i.repetition + 1));
    else if (d != nullptr && rule(d->repetition))
      add("# repeats");
    if (is_stage(i)) {
      const FragmentDef* f = i.id.find('/') == std::string::npos ? fragment_of(i) : nullptr;
      if ((d != nullptr && d->auto_complete) || (f != nullptr && f->auto_complete)) add("&#9632; auto-complete");
    }
    return m;
  }

  std::string item_label(const PlanItemInfo& i) {
    std::string kind;
    switch (i.kind) {
      case ItemKind::human_task:
        kind = "human task";
        break;
      case ItemKind::automated_task:
        kind = "automated task";
        break;
      case ItemKind::milestone:
        kind = "milestone";
        break;
      case ItemKind::timer_listener:
        kind = "timer";
        break;
      case ItemKind::user_listener:
        kind = "user event";
        break;
      case ItemKind::stage:
        kind = "stage";
        break;
    }
    std::string label = "<b>" + html(shortened(i.name.empty() ? i.def_id : i.name, 32)) + "</b>";
    label += "<br/><font point-size=\"8\" color=\"#444444\">" + html(kind) + " &#183; " +
             (planned(i) ? std::string("not created yet") : html(std::string(to_string(i.state)))) + "</font>";
    std::string who;
    if (!i.assignee.empty()) who = i.assignee;
    if (!i.role.empty()) who += (who.empty() ? "role " : " (") + i.role + (i.assignee.empty() ? "" : ")");
    if (!who.empty()) label += "<br/><font point-size=\"8\">" + html(who) + "</font>";
    if (i.due) label += "<br/><font point-size=\"8\">due " + html(format_time(*i.due).substr(0, 16)) + "</font>";
    const std::string m = markers(i);
    if (!m.empty()) label += "<br/><font point-size=\"8\">" + m + "</font>";
    return label;
  }

  void write_item(const PlanItemInfo& i, const std::string& indent) {
    const bool later = planned(i);
    const std::string fill = later ? "#fbfbfb" : state_colour(i.state);
    const std::string border = i.state == ItemState::active ? "#1f6fd1" : later ? "#888888" : "#333333";
    if (is_stage(i)) {
      out_ << indent << "subgraph " << dot_id("cluster_" + i.id) << " {\n"
           << indent << "  label=<" << item_label(i) << ">;\n"
           << indent << "  style=" << (later ? "\"rounded,filled,dashed\"" : "\"rounded,filled\"") << "; fillcolor=" << dot_id(fill) << "; color=" << dot_id(border)
           << "; tooltip=" << dot_id(i.id)
           << ";\n"
           // The anchor edges to and from the stage attach to (clipped at the frame).
           << indent << "  " << dot_id(i.id) << " [shape=point, style=invis, width=0.01, label=\"\"];\n";
      for (const PlanItemInfo* c : children_[i.id]) write_item(*c, indent + "  ");
      out_ << indent << "}\n";
      return;
    }
    std::string shape = "box", style = "rounded,filled", extra;
    switch (i.kind) {
      case ItemKind::milestone:
        // CMMN draws a milestone as a bar with round ends: a flat ellipse is the closest shape.
        shape = "ellipse";
        style = "filled,bold";
        extra = ", margin=\"0.12,0.03\"";
        break;
      case ItemKind::timer_listener:
      case ItemKind::user_listener:
        // CMMN's event listeners: a double circle with a clock (timer) or a person (user) inside.
        shape = "doublecircle";
        style = "filled";
        break;
      default:
        break;
    }
    if (later) style += ",dashed";
    out_ << indent << dot_id(i.id) << " [shape=" << shape << ", style=" << dot_id(style) << extra;
    out_ << ", fillcolor=" << dot_id(fill) << ", color=" << dot_id(border) << ", tooltip=" << dot_id(i.id);
    if (i.kind == ItemKind::timer_listener || i.kind == ItemKind::user_listener)
      // The name stands beneath the circle.
      out_ << ", width=0.42, fixedsize=true, label=<<font point-size=\"13\">"
           << (i.kind == ItemKind::timer_listener ? "&#9719;" : "&#9786;") << "</font>>, xlabel=<" << item_label(i)
           << ">];\n";
    else
      out_ << ", label=<" << item_label(i) << ">];\n";
  }

  void write_goals() {
    if (case_.goals.empty()) return;
    out_ << "  subgraph \"cluster_goals\" {\n    label=<<b>Goals</b>>; style=\"dashed\"; color=\"#3366cc\";\n";
    for (const GoalInfo& g : case_.goals) {
      std::string label = "<b>" + html(shortened(g.name.empty() ? g.id : g.name, 32)) + "</b>";
      label += "<br/><font point-size=\"8\">" + html(std::string(to_string(g.status)));
      if (g.status == GoalStatus::open) label += ", " + html(std::string(to_string(g.timing)));
      if (g.paused_since) label += ", paused";
      label += "</font>";
      if (g.deadline)
        label += "<br/><font point-size=\"8\">deadline " + html(format_time(*g.deadline).substr(0, 16)) + "</font>";
      out_ << "    " << dot_id("goal:" + g.id)
           << " [shape=hexagon, style=\"filled,bold\", color=\"#3366cc\", fillcolor=" << dot_id(goal_colour(g))
           << ", tooltip=" << dot_id("goal " + g.id) << ", label=<" << label << ">];\n";
    }
    out_ << "  }\n";
    for (const GoalInfo& g : case_.goals) {
      if (!g.parent.empty())
        edges_.push_back(dot_id("goal:" + g.id) + " -> " + dot_id("goal:" + g.parent) +
                         " [style=bold, color=\"#3366cc\", label=\"sub-goal\"];");
      // The milestones the goal waits for (definition or instance ids).
      for (const std::string& m : g.milestones)
        for (const PlanItemInfo* ip : all_)
          if (const PlanItemInfo& i = *ip; i.kind == ItemKind::milestone && (i.id == m || i.def_id == m))
            edges_.push_back(node_of(i.id) + " -> " + dot_id("goal:" + g.id) +
                             " [color=\"#3366cc\", penwidth=1.4, label=\"reached\"];");
    }
    // Work bound to a goal: from the outermost item bound to it (a stage stands for its items).
    for (const PlanItemInfo& i : case_.items) {
      if (i.goal.empty() || i.kind == ItemKind::milestone) continue;
      auto parent = by_id_.find(i.parent);
      if (parent != by_id_.end() && parent->second->goal == i.goal) continue;
      if (std::none_of(case_.goals.begin(), case_.goals.end(), [&](const GoalInfo& g) { return g.id == i.goal; }))
        continue;
      edges_.push_back(node_of(i.id) + " -> " + dot_id("goal:" + i.goal) +
                       " [style=dotted, color=\"#3366cc\", arrowhead=vee" + attach_tail(i.id) + "];");
    }
  }

  /// The discretionary fragments, as CMMN draws discretionary items: dashed boxes. A fragment
  /// with a planning table stands inside the stage that holds the table (marked "may be added
  /// now" while it is offered); the others, when offered now, in a planning-table frame of the
  /// case.
  void write_planning_table() {
    std::vector<FragmentOffer> offers;
    if (case_.status == CaseStatus::active) {
      try {
        offers = engine_.applicable_fragments(case_.id);
      } catch (const Error&) {
        // the picture goes without them
      }
    }
    auto offered = [&](const std::string& id) {
      return std::any_of(offers.begin(), offers.end(), [&](const FragmentOffer& o) { return o.fragment == id; });
    };
    auto in_plan = [&](const std::string& id) {
      return std::any_of(case_.items.begin(), case_.items.end(), [&](const PlanItemInfo& i) { return i.fragment == id; });
    };
    // Discretionary fragments planned inside a stage: drawn in every instance of that stage
    // in the picture (also one not started yet), whether or not they may be added now.
    std::set<std::string> placed;
    if (!case_.type.empty()) {
      std::optional<CaseTypeDef> type;
      try {
        type = engine_.get_case_type(case_.type, case_.type_version);
      } catch (const Error&) {
      }
      for (const std::string& id : type ? type->discretionary : std::vector<std::string>{}) {
        std::optional<FragmentDef> f;
        try {
          f = engine_.get_fragment(id);
        } catch (const Error&) {
          continue;
        }
        const StageRef& pt = f->planning_table;
        if (pt.fragment.empty()) continue;
        placed.insert(id);
        for (const PlanItemInfo* host : all_) {
          if (!is_stage(*host) || host->fragment != pt.fragment) continue;
          const bool root = host->id.find('/') == std::string::npos;
          if (pt.stage.empty() ? !root : (root || host->def_id != pt.stage)) continue;
          const bool now = offered(id) && host->state == ItemState::active;
          stage_sentries_[host->id].push_back(
              dot_id("offer:" + host->id + ":" + id) + " [shape=box, style=\"rounded,dashed\", color=" +
              dot_id(now ? "#333333" : "#999999") + ", tooltip=" + dot_id("discretionary fragment " + id) +
              ", label=<<b>" + html(shortened(f->name.empty() ? id : f->name, 32)) +
              "</b><br/><font point-size=\"8\" color=\"#444444\">discretionary &#183; " +
              (now ? std::string("may be added now") : std::string("planned while the stage is active")) +
              "</font>>];");
        }
      }
    }
    // Fragments already in the plan are left out (a case type without a discretionary list
    // offers every fragment, its own plan included).
    std::erase_if(offers, [&](const FragmentOffer& o) { return in_plan(o.fragment) || placed.count(o.fragment); });
    if (offers.empty()) return;
    out_ << "  subgraph \"cluster_planning\" {\n    label=<<b>Planning table</b> <font point-size=\"8\">(may be "
            "added now)</font>>; style=\"dashed\"; color=\"#888888\";\n";
    for (const FragmentOffer& o : offers)
      out_ << "    " << dot_id("offer:" + o.fragment)
           << " [shape=box, style=\"rounded,dashed\", color=\"#666666\", tooltip=" << dot_id("discretionary fragment " + o.fragment)
           << ", label=<<b>" << html(shortened(o.name.empty() ? o.fragment : o.name, 32))
           << "</b><br/><font point-size=\"8\" color=\"#444444\">fragment " << html(o.fragment) << " v" << o.version
           << "</font>>];\n";
    out_ << "  }\n";
  }

  /// The node an on-part's source stands for, creating nodes for goals, case-file paths and
  /// external events that are not drawn otherwise.
  std::string source_node(const OnPart& op, const PlanItemInfo& owner, std::string& tail) {
    tail.clear();
    switch (op.source) {
      case OnPartSource::item: {
        const std::string root = root_of(owner.id);
        const PlanItemInfo* best = nullptr;
        auto exact = by_id_.find(root + "/" + op.ref);
        if (exact != by_id_.end()) best = exact->second;
        for (const PlanItemInfo* i : all_)
          if (best == nullptr && root_of(i->id) == root && i->def_id == op.ref) best = i;
        if (best == nullptr) return {};
        tail = attach_tail(best->id);
        return node_of(best->id);
      }
      case OnPartSource::goal: {
        const std::string id = "goal:" + op.ref;
        if (std::none_of(case_.goals.begin(), case_.goals.end(), [&](const GoalInfo& g) { return g.id == op.ref; }))
          extra_node(id, "shape=hexagon, style=dashed, color=\"#3366cc\", label=" + dot_id("goal " + op.ref));
        return dot_id(id);
      }
      case OnPartSource::case_file: {
        const std::string id = "file:" + op.ref;
        extra_node(id, "shape=note, style=filled, fillcolor=\"#fafafa\", label=<<font point-size=\"9\">" +
                           html(op.ref.empty() ? "case file" : op.ref) +
                           "</font>>, tooltip=" + dot_id("case file item " + op.ref));
        return dot_id(id);
      }
      case OnPartSource::event: {
        const std::string id = "event:" + op.ref;
        extra_node(id,
                   "shape=circle, style=dashed, width=0.3, fixedsize=true, label=\"\", xlabel=<<font "
                   "point-size=\"9\">event " +
                       html(op.ref) + "</font>>, tooltip=" + dot_id("external event " + op.ref));
        return dot_id(id);
      }
    }
    return {};
  }

  void extra_node(const std::string& id, const std::string& attrs) {
    if (!extra_.insert(id).second) return;
    edges_.insert(edges_.begin(), dot_id(id) + " [" + attrs + "];");
  }

  /// One sentry: a diamond beside its item (white: entry, black: exit), its on-parts as dashed
  /// connectors labelled with the transition, its if-part beside the diamond.
  void sentry(const PlanItemInfo& item, const Sentry& s, bool entry, std::size_t n) {
    const std::string id = fmt::format("{}|{}{}", item.id, entry ? "entry" : "exit", n);
    std::string attrs = fmt::format(
        "shape=diamond, style=filled, fillcolor={}, color=\"#222222\", width=0.22, height=0.32, fixedsize=true, "
        "label=\"\", tooltip={}",
        entry ? "\"white\"" : "\"#222222\"",
        dot_id(fmt::format("{} criterion{}{}", entry ? "entry" : "exit", s.id.empty() ? "" : " " + s.id,
                           s.condition.empty() ? "" : " if " + s.condition)));
    if (!s.condition.empty())
      attrs += ", xlabel=<<font point-size=\"8\" color=\"#7a4b00\">if " + html(shortened(s.condition, 36)) + "</font>>";
    // The diamond stands in the frame the item stands in, beside it (beside a stage's frame,
    // joined to its border).
    const std::string& frame = item.parent;
    const std::string node = dot_id(id) + " [" + attrs + "];";
    if (frame.empty())
      top_sentries_.push_back(node);
    else
      stage_sentries_[frame].push_back(node);
    if (entry)
      edges_.push_back(dot_id(id) + " -> " + node_of(item.id) + " [arrowhead=none, penwidth=1.6, minlen=1" +
                       attach_head(item.id) + "];");
    else
      edges_.push_back(node_of(item.id) + " -> " + dot_id(id) + " [arrowhead=none, penwidth=1.6, minlen=1" +
                       attach_tail(item.id) + "];");
    for (const OnPart& op : s.on_parts) {
      std::string tail;
      const std::string from = source_node(op, item, tail);
      if (from.empty()) continue;
      std::string on = op.on;
      if (op.source == OnPartSource::event) on = "";
      edges_.push_back(from + " -> " + dot_id(id) + " [style=dashed, arrowhead=vee, arrowsize=0.6" +
                       (on.empty() ? "" : ", label=" + dot_id(on)) + tail + "];");
    }
  }

  void write_sentries() {
    for (const PlanItemInfo* ip : all_) {
      const PlanItemInfo& i = *ip;
      std::size_t n = 0;
      if (const ItemDef* d = def_of(i)) {
        for (const Sentry& s : d->entry) sentry(i, s, true, ++n);
        for (const Sentry& s : d->exit) sentry(i, s, false, ++n);
      } else if (is_stage(i) && i.id.find('/') == std::string::npos) {
        if (const FragmentDef* f = fragment_of(i))
          for (const Sentry& s : f->exit) sentry(i, s, false, ++n);
      }
      // `after` dependencies are entry criteria on the completion of each item waited for.
      if (!i.after.empty()) {
        Sentry s;
        s.id = "after";
        for (const std::string& a : i.after) {
          if (!by_id_.count(a)) continue;
          after_sources_[i.id + "|entry" + std::to_string(n + 1)].push_back(a);
        }
        sentry(i, s, true, ++n);
        const std::string id = fmt::format("{}|entry{}", i.id, n);
        for (const std::string& a : after_sources_[id])
          edges_.push_back(node_of(a) + " -> " + dot_id(id) +
                           " [style=dashed, arrowhead=vee, arrowsize=0.6, "
                           "label=\"complete\"" +
                           attach_tail(a) + "];");
      }
    }
    // Diamonds of top-level items are emitted inside the case frame: re-open it.
    if (!top_sentries_.empty()) {
      out_ << open_case_frame();
      for (const std::string& s : top_sentries_) out_ << "    " << s << "\n";
      out_ << close_case_frame();
    }
    // Stage sentries were collected after the stages were written: add them to their frames
    // (a cluster may be re-opened by name).
    for (const auto& [stage, nodes] : stage_sentries_) {
      out_ << open_case_frame();
      std::vector<std::string> chain;  // the stage's enclosing frames, outermost first
      for (std::string s = stage; !s.empty();) {
        chain.insert(chain.begin(), s);
        auto it = by_id_.find(s);
        s = it == by_id_.end() ? "" : it->second->parent;
      }
      for (const std::string& s : chain) out_ << "  subgraph " << dot_id("cluster_" + s) << " {\n";
      for (const std::string& node : nodes) out_ << "    " << node << "\n";
      for (std::size_t k = 0; k < chain.size(); ++k) out_ << "  }\n";
      out_ << close_case_frame();
    }
    stage_sentries_.clear();
  }

  const Engine& engine_;
  const CaseInfo& case_;
  std::ostringstream out_;
  std::map<std::string, const PlanItemInfo*> by_id_;
  std::vector<const PlanItemInfo*> all_;  // the case's items, then the planned ones
  std::deque<PlanItemInfo> planned_;     // items a stage that has not started will create
  std::set<std::string> planned_ids_;
  std::map<std::string, std::vector<const PlanItemInfo*>> children_;
  std::map<std::pair<std::string, int>, std::optional<FragmentDef>> fragments_;
  std::map<std::string, std::vector<std::string>> stage_sentries_;
  std::map<std::string, std::vector<std::string>> after_sources_;
  std::vector<std::string> top_sentries_;
  bool case_frame_ = true;  // the case plan is drawn as a frame of its own
  std::vector<std::string> edges_;
  std::set<std::string> extra_;
};

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

std::string plan_dot(const Engine& engine, const CaseInfo& c) { return PlanPicture(engine, c).dot(); }

void write_graph(const Engine& engine, const CaseInfo& c, const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (ext != ".dot" && ext != ".gv" && ext != ".svg" && ext != ".png")
    throw Error(ErrorCode::invalid_argument, fmt::format("--graph {}: use a .dot (or .gv), .svg or .png file", path));
  const std::string dot_text = plan_dot(engine, c);
  auto write_file = [](const std::string& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw std::runtime_error(fmt::format("cannot write {}", file));
  };
  if (ext == ".dot" || ext == ".gv") {
    write_file(path, dot_text);
    return;
  }
  const std::string dot = find_on_path("dot");
  if (dot.empty())
    throw std::runtime_error(fmt::format(
        "cannot draw {}: Graphviz 'dot' is not on PATH (install the Debian package graphviz, or use --graph "
        "file.dot)",
        path));
  const std::string format = ext.substr(1);
  const std::string tmp = path + ".tmp.dot";
  write_file(tmp, dot_text);
  // PNG at 110 dpi: readable on screen without being huge.
  const std::string cmd = fmt::format("{} -T{}{} {} -o {}", shell_quoted(dot), format,
                                      format == "png" ? " -Gdpi=110" : "", shell_quoted(tmp), shell_quoted(path));
  const int rc = std::system(cmd.c_str());
  std::error_code ec;
  fs::remove(tmp, ec);
  if (rc != 0) throw std::runtime_error(fmt::format("Graphviz 'dot -T{}' failed for {} (status {})", format, path, rc));
}

}  // namespace acm_cli
