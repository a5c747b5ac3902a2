// SPDX-License-Identifier: Apache-2.0
// examples/cli_cases.cpp - `acm` commands on definitions, cases, goals, plan items, the case
// file and work queues.
#include "cli.hpp"
#include "demo.hpp"

#include <acm/to_json.hpp>

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <iterator>

using namespace acm;

namespace acm_cli {
namespace {

Json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorCode::not_found, fmt::format("cannot read {}", path));
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return parse_json(text, path);
}

void print_queue(const std::vector<WorkItem>& items, bool json) {
  if (json) {
    Json out = Json::array();
    for (const WorkItem& w : items) out.push_back(to_json(w));
    print_json(out);
    return;
  }
  if (items.empty()) std::cout << "(no open work)\n";
  for (const WorkItem& w : items)
    std::cout << fmt::format("{:<12} {:<40} {:<10} prio {:<3} due {:<25} {}{}  \"{}\"\n", w.case_id, w.item_id,
                             to_string(w.state), w.priority, time_text(w.due),
                             w.assignee.empty() ? "unassigned" : "assignee " + w.assignee,
                             w.role.empty() ? "" : " role " + w.role, w.name);
}

/// Prints what a command did: its events (text) or {"case", "version", "events"} (JSON).
void print_result(Context& ctx, const std::string& case_id, const CommandResult& r, Json extra = Json::object()) {
  if (ctx.json()) {
    Json out = to_json(r);  // docs/json.md, plus the case it ran on
    out["case"] = case_id;
    out.update(extra);
    print_json(out);
    return;
  }
  if (r.events.empty()) std::cout << "nothing changed (case " << case_id << " at version " << r.version << ")\n";
  for (const Event& e : r.events) std::cout << "  " << describe(e) << "\n";
}

/// Prints a new item id and the case's events since `from_version` (commands returning ids).
void print_created(Context& ctx, const std::string& case_id, const std::string& created, std::uint64_t from_version) {
  CommandResult r;
  r.events = ctx.engine().history(case_id, from_version + 1);
  r.version = ctx.engine().get_case(case_id).version;
  r.created = created;
  if (!ctx.json()) std::cout << "added " << created << "\n";
  print_result(ctx, case_id, r);
}

Duration duration_option(const std::string& text, const char* what) {
  try {
    return parse_duration(text);
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("{}: {}", what, e.what()));
  }
}

// ---- definitions -------------------------------------------------------------------------

void add_definitions(CLI::App& app, Context& ctx) {
  auto* defs = app.add_subcommand("definitions", "fragments and case types")->require_subcommand(1);
  static std::string file;
  auto* load = defs->add_subcommand("load", "register the fragments and case types of a JSON document");
  load->add_option("FILE", file, "definitions document (docs/definitions.md)")->required();
  on_run(load, [&ctx] {
    const Json doc = read_json_file(file);
    ctx.engine().load_definitions(ctx.actor(), doc);
    std::size_t fragments = doc.contains("fragments") ? doc["fragments"].size() : 0;
    std::size_t types = doc.contains("case_types") ? doc["case_types"].size() : 0;
    if (ctx.json())
      print_json({{"loaded", file}, {"fragments", fragments}, {"case_types", types}});
    else
      std::cout << fmt::format("loaded {}: {} fragments, {} case types\n", file, fragments, types);
    return 0;
  });
  auto* list = defs->add_subcommand("list", "the registered fragments (latest versions)");
  on_run(list, [&ctx] {
    const auto frags = ctx.engine().list_fragments();
    if (ctx.json()) {
      Json out = Json::array();
      for (const FragmentDef& f : frags) out.push_back(to_json(f));
      print_json({{"fragments", out}});
      return 0;
    }
    if (frags.empty()) std::cout << "(no fragments registered)\n";
    for (const FragmentDef& f : frags)
      std::cout << fmt::format("{:<20} v{:<3} {:<3} items  {}\n", f.id, f.version, f.items.size(), f.name);
    return 0;
  });
}

// ---- cases -------------------------------------------------------------------------------

void add_case(CLI::App& app, Context& ctx) {
  auto* kase = app.add_subcommand("case", "create, show, list and finish cases")->require_subcommand(1);

  static NewCase spec;
  static std::vector<std::string> attrs;
  auto* create = kase->add_subcommand("create", "open a case");
  create->add_option("--type", spec.type, "case type id (none: a bare case)");
  create->add_option("--title", spec.title, "title");
  create->add_option("--customer", spec.subject.customer, "customer id (the subject)");
  create->add_option("--attr", attrs, "subject attribute key=value (value as JSON when it parses, else text)");
  create->add_option("--owner", spec.owner, "owner (default: the acting user)");
  create->add_option("--priority", spec.priority, "priority (higher first in queues)");
  create->add_option("--id", spec.id, "case id (default: generated, case-1, case-2, ...)");
  on_run(create, [&ctx] {
    for (const std::string& a : attrs) {
      auto [k, v] = parse_assignment(a, "--attr");
      spec.subject.attributes[k] = v;
    }
    const std::string id = ctx.engine().create_case(ctx.actor(), spec);
    const CaseInfo c = ctx.engine().get_case(id);
    if (ctx.json())
      print_json({{"id", id}, {"case", to_json(c)}});
    else {
      std::cout << "created " << id << "\n";
      print_case(c);
    }
    return 0;
  });

  static std::string show_id, graph;
  auto* show = kase->add_subcommand("show", "a case: status, goals, plan, file");
  show->add_option("ID", show_id, "case id")->required();
  show->add_option("--graph", graph, "also draw the plan graph to FILE.dot or FILE.svg (needs Graphviz dot)");
  on_run(show, [&ctx] {
    const CaseInfo c = ctx.engine().get_case(show_id);
    if (!graph.empty()) write_graph(c, graph);
    if (ctx.json()) {
      Json out = to_json(c);
      if (!graph.empty()) out["graph_file"] = graph;
      print_json(out);
    } else {
      print_case(c);
      if (!graph.empty()) std::cout << "plan graph written to " << graph << "\n";
    }
    return 0;
  });

  static std::size_t limit = 50;
  static std::string after;
  auto* list = kase->add_subcommand("list", "case ids in creation order, a page at a time");
  list->add_option("--limit", limit, "page size")->capture_default_str();
  list->add_option("--after", after, "start after this case id (the last id of the previous page)");
  on_run(list, [&ctx] {
    Json out = Json::array();
    for (const std::string& id : ctx.engine().list_cases(limit, after)) {
      const CaseInfo c = ctx.engine().get_case(id);
      if (ctx.json())
        out.push_back({{"id", c.id},
                       {"type", c.type},
                       {"title", c.title},
                       {"status", to_string(c.status)},
                       {"owner", c.owner},
                       {"priority", c.priority},
                       {"created_at", format_time(c.created_at)}});
      else
        std::cout << fmt::format("{:<12} {:<10} {:<12} {:<10} \"{}\"\n", c.id, to_string(c.status),
                                 c.type.empty() ? "-" : c.type, c.owner, c.title);
    }
    if (ctx.json())
      print_json(out);
    else if (out.empty() && ctx.engine().list_cases(1, after).empty())
      std::cout << "(no cases)\n";
    return 0;
  });

  static std::string history_id;
  auto* history = kase->add_subcommand("history", "the events of a case");
  history->add_option("ID", history_id, "case id")->required();
  on_run(history, [&ctx] {
    const auto events = ctx.engine().history(history_id);
    if (events.empty()) ctx.engine().get_case(history_id);  // not_found for an unknown id
    if (ctx.json()) {
      Json out = Json::array();
      for (const Event& e : events) out.push_back(to_json(e));
      print_json(out);
      return 0;
    }
    for (const Event& e : events)
      std::cout << fmt::format("{:>4} {} {:<8} {}\n", e.seq, format_time(e.time), e.actor.empty() ? "engine" : e.actor,
                               describe(e));
    return 0;
  });

  static std::string end_id, reason;
  for (const char* verb : {"complete", "close", "terminate"}) {
    const std::string v = verb;
    auto* cmd = kase->add_subcommand(v, v == "complete" ? "complete a case (required goals achieved)"
                                        : v == "close"  ? "close a completed or terminated case (read-only)"
                                                        : "terminate a case");
    cmd->add_option("ID", end_id, "case id")->required();
    if (v == "terminate") cmd->add_option("--reason", reason, "why");
    on_run(cmd, [&ctx, v] {
      Engine& e = ctx.engine();
      const CommandResult r = v == "complete" ? e.complete_case(ctx.actor(), end_id)
                              : v == "close"  ? e.close_case(ctx.actor(), end_id)
                                              : e.terminate_case(ctx.actor(), end_id, reason);
      print_result(ctx, end_id, r);
      return 0;
    });
  }
}

// ---- goals, fragments, tasks -------------------------------------------------------------

void add_planning(CLI::App& app, Context& ctx) {
  auto* goal = app.add_subcommand("goal", "goals of a case")->require_subcommand(1);
  static std::string goal_case, within, deadline;
  static GoalSpec spec;
  static bool optional_goal = false;
  auto* gadd = goal->add_subcommand("add", "add a goal to a case");
  gadd->add_option("CASE", goal_case, "case id")->required();
  gadd->add_option("--id", spec.id, "goal id (unique in the case)")->required();
  gadd->add_option("--name", spec.name, "goal name")->required();
  auto* w = gadd->add_option("--within", within, "deadline as a duration from now (PT8H, P2D, 8h)");
  gadd->add_option("--deadline", deadline, "absolute deadline (ISO-8601)")->excludes(w);
  gadd->add_option("--owner", spec.owner, "goal owner (default: the case owner)");
  gadd->add_option("--milestone", spec.milestones, "milestone that must be reached (repeatable)");
  gadd->add_option("--criterion", spec.criterion, "completion condition (docs/expressions.md)");
  gadd->add_option("--parent", spec.parent, "parent goal id");
  gadd->add_flag("--decision", spec.decision, "a person declares it achieved");
  gadd->add_flag("--optional", optional_goal, "the case may complete without it");
  on_run(gadd, [&ctx] {
    if (!within.empty()) spec.within = duration_option(within, "--within");
    if (!deadline.empty()) spec.deadline = parse_time(deadline);
    spec.required = !optional_goal;
    print_result(ctx, goal_case, ctx.engine().add_goal(ctx.actor(), goal_case, spec));
    return 0;
  });

  auto* frag = app.add_subcommand("fragment", "runtime assembly from fragments")->require_subcommand(1);
  static std::string frag_case;
  auto* flist = frag->add_subcommand("list", "discretionary fragments that apply to a case now");
  flist->add_option("CASE", frag_case, "case id")->required();
  on_run(flist, [&ctx] {
    const auto offers = ctx.engine().applicable_fragments(frag_case);
    if (ctx.json()) {
      Json out = Json::array();
      for (const FragmentOffer& o : offers) out.push_back(to_json(o));
      print_json(out);
      return 0;
    }
    if (offers.empty()) std::cout << "(no fragment applies now)\n";
    for (const FragmentOffer& o : offers) {
      std::string params;
      for (const Parameter& p : o.parameters) params += fmt::format(" {}{}:{}", p.name, p.required ? "*" : "", p.type);
      std::cout << fmt::format("{:<20} v{:<3} {}{}\n", o.fragment, o.version, o.name,
                               params.empty() ? "" : "  params" + params);
    }
    return 0;
  });
  static FragmentUse use;
  static std::vector<std::string> params, frag_after;
  auto* fadd = frag->add_subcommand("add", "assemble a fragment into the case plan");
  fadd->add_option("CASE", frag_case, "case id")->required();
  fadd->add_option("FRAG", use.fragment, "fragment id")->required();
  fadd->add_option("--param", params, "argument name=value (value as JSON when it parses, else text)");
  fadd->add_option("--goal", use.goal, "goal the work serves");
  fadd->add_option("--version", use.version, "fragment version (default: latest)");
  fadd->add_option("--after", frag_after, "item id that must complete first (repeatable)");
  on_run(fadd, [&ctx] {
    for (const std::string& p : params) {
      auto [k, v] = parse_assignment(p, "--param");
      use.params[k] = v;
    }
    const std::uint64_t before = ctx.engine().get_case(frag_case).version;
    const std::string item = ctx.engine().add_fragment(ctx.actor(), frag_case, use, frag_after);
    print_created(ctx, frag_case, item, before);
    return 0;
  });

  auto* task = app.add_subcommand("task", "ad-hoc tasks")->require_subcommand(1);
  static std::string task_case, estimate, due;
  static AdHocTask spec_task;
  auto* tadd = task->add_subcommand("add", "add an ad-hoc task to a case");
  tadd->add_option("CASE", task_case, "case id")->required();
  tadd->add_option("NAME", spec_task.name, "task name")->required();
  tadd->add_option("--role", spec_task.role, "case role that does it");
  tadd->add_option("--estimate", estimate, "expected work (PT1H)");
  tadd->add_option("--due", due, "due this long after it becomes active (PT4H)");
  tadd->add_option("--goal", spec_task.goal, "goal the task serves");
  tadd->add_option("--assignee", spec_task.assignee, "assign it at once");
  tadd->add_option("--after", spec_task.after, "item id that must complete first (repeatable)");
  tadd->add_flag("--required", spec_task.required, "the case cannot complete without it");
  tadd->add_flag("--manual", spec_task.manual, "wait in enabled until someone starts it");
  on_run(tadd, [&ctx] {
    if (!estimate.empty()) spec_task.estimate = duration_option(estimate, "--estimate");
    if (!due.empty()) spec_task.due = duration_option(due, "--due");
    const std::uint64_t before = ctx.engine().get_case(task_case).version;
    const std::string item = ctx.engine().add_task(ctx.actor(), task_case, spec_task);
    print_created(ctx, task_case, item, before);
    return 0;
  });
}

// ---- work on items, the case file, queues --------------------------------------------------

void add_work(CLI::App& app, Context& ctx) {
  auto* item = app.add_subcommand("item", "work on plan items")->require_subcommand(1);
  static std::string item_case, item_id, assignee, output;
  for (const char* verb : {"start", "complete", "assign", "terminate", "occur"}) {
    const std::string v = verb;
    auto* cmd = item->add_subcommand(v, v == "start"       ? "start an enabled item"
                                        : v == "complete"  ? "complete an active task or stage"
                                        : v == "assign"    ? "assign an item (no ASSIGNEE: unassign)"
                                        : v == "terminate" ? "terminate an item"
                                                           : "a user listener occurs / a milestone is declared");
    cmd->add_option("CASE", item_case, "case id")->required();
    cmd->add_option("ITEM", item_id, "plan item id, e.g. diagnosis#1/triage")->required();
    if (v == "assign") cmd->add_option("ASSIGNEE", assignee, "actor id");
    if (v == "complete") cmd->add_option("--output", output, "output JSON, written at the item's output path");
    on_run(cmd, [&ctx, v] {
      Engine& e = ctx.engine();
      const Actor a = ctx.actor();
      CommandResult r;
      if (v == "start")
        r = e.start_item(a, item_case, item_id);
      else if (v == "complete")
        r = e.complete_item(a, item_case, item_id,
                            output.empty() ? Json(nullptr) : parse_json_argument(output, "--output"));
      else if (v == "assign")
        r = e.assign_item(a, item_case, item_id, assignee);
      else if (v == "terminate")
        r = e.terminate_item(a, item_case, item_id);
      else
        r = e.occur(a, item_case, item_id);
      print_result(ctx, item_case, r);
      return 0;
    });
  }

  auto* file = app.add_subcommand("file", "the case file")->require_subcommand(1);
  static std::string file_case, path, value;
  auto* set = file->add_subcommand("set", "set a JSON value at a dotted path");
  set->add_option("CASE", file_case, "case id")->required();
  set->add_option("PATH", path, "dotted path, e.g. diagnosis.fault")->required();
  set->add_option("JSON", value, "the value as JSON (strings quoted: '\"hardware\"')")->required();
  on_run(set, [&ctx] {
    print_result(ctx, file_case,
                 ctx.engine().set_file(ctx.actor(), file_case, path, parse_json_argument(value, "JSON")));
    return 0;
  });

  static QueueFilter filter;
  auto* queue = app.add_subcommand("queue", "open human tasks: assigned to someone, or unassigned for roles");
  queue->add_option("--assignee", filter.assignee, "work assigned to this actor");
  queue->add_option("--role", filter.roles, "unassigned work for this role (repeatable)");
  queue->add_option("--limit", filter.limit, "page size")->capture_default_str();
  queue->add_option("--offset", filter.offset, "rows to skip");
  on_run(queue, [&ctx] {
    print_queue(ctx.engine().queue(filter), ctx.json());
    return 0;
  });
  static QueueFilter overdue_filter;
  auto* overdue = app.add_subcommand("overdue", "open human tasks whose due time has passed");
  overdue->add_option("--limit", overdue_filter.limit, "page size")->capture_default_str();
  on_run(overdue, [&ctx] {
    overdue_filter.overdue_at = ctx.engine().clock().now();
    print_queue(ctx.engine().queue(overdue_filter), ctx.json());
    return 0;
  });
}

}  // namespace

void add_case_commands(CLI::App& app, Context& ctx) {
  add_definitions(app, ctx);
  add_case(app, ctx);
  add_planning(app, ctx);
  add_work(app, ctx);
}

}  // namespace acm_cli
