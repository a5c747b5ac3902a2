// SPDX-License-Identifier: Apache-2.0
// examples/cli_cases.cpp - `acm` commands on definitions, cases, goals, plan items, the case
// file and work queues.
#include "cli.hpp"
#include "demo.hpp"

#include <acm/from_json.hpp>
#include <acm/to_json.hpp>

#include <fmt/format.h>

#include <cstdint>
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

/// The queue page the actor of --as may see (paging and total count only the items of cases it
/// may view); without --as, the whole queue (the trusted read: no case is loaded).
QueuePage queue_page_for(Context& ctx, const QueueFilter& filter) {
  return ctx.global().as.empty() ? ctx.engine().queue_page(filter) : ctx.engine().as(ctx.actor()).queue_page(filter);
}

/// A work-queue page as an inbox shows it: the case's title and customer, the goal the work
/// runs against and its timing, and the total number of matching items.
void print_queue(Context& ctx, const QueuePage& page, std::size_t offset) {
  if (ctx.json()) {
    print_json(to_json(page));
    return;
  }
  if (page.items.empty()) std::cout << "(no open work)\n";
  for (const WorkItem& w : page.items) {
    std::string goal = "-";
    if (!w.goal.empty()) {
      goal = fmt::format("{} {}", w.goal, to_string(w.goal_timing));
      if (w.goal_deadline) goal += " by " + format_time(*w.goal_deadline).substr(0, 16);
    }
    std::cout << fmt::format("{:<12} {:<36} {:<9} prio {:<3} due {:<17} {:<12} goal {:<32} {}{}  \"{}\" - \"{}\"\n",
                             w.case_id, w.item_id, to_string(w.state), w.priority,
                             w.due ? format_time(*w.due).substr(0, 16) : std::string("-"),
                             w.customer.empty() ? "-" : w.customer, goal,
                             w.assignee.empty() ? "unassigned" : "assignee " + w.assignee,
                             w.role.empty() ? "" : " role " + w.role, w.name, w.case_title);
  }
  std::cout << fmt::format("{} of {} open items (from {})\n", page.items.size(), page.total, offset);
}

/// "active" -> CaseStatus::active; invalid_argument naming the value and the valid ones.
CaseStatus status_option(const std::string& text) {
  for (CaseStatus s : {CaseStatus::active, CaseStatus::suspended, CaseStatus::completed, CaseStatus::terminated,
                       CaseStatus::closed})
    if (to_string(s) == text) return s;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("--status {}: not a case status (active, suspended, completed, terminated, closed)", text));
}

/// The row of a case in lists (the shape of CaseSummary, docs/json.md).
CaseSummary summary_of(Context& ctx, const CaseInfo& c) {
  CaseSummary s;
  s.id = c.id;
  s.type = c.type;
  s.type_version = c.type_version;
  s.title = c.title;
  s.status = c.status;
  s.owner = c.owner;
  s.customer = c.subject.customer;
  s.priority = c.priority;
  s.version = c.version;
  s.created_at = c.created_at;
  s.updated_at = c.created_at;
  const auto last = ctx.engine().as(ctx.actor()).history(c.id, c.version);
  if (!last.empty()) s.updated_at = last.back().time;
  s.next_deadline = c.next_deadline;
  return s;
}

/// Prints the id a command created and its events.
void print_created(Context& ctx, const std::string& case_id, const CommandResult& r) {
  if (!ctx.json()) std::cout << "added " << r.created << "\n";
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
  auto* load = defs->add_subcommand("load", "register the fragments and case types of a JSON document or a CMMN 1.1 XML model");
  load->add_option("FILE", file, "definitions document (docs/definitions.md)")->required();
  on_run(load, [&ctx] {
    // A CMMN XML model (detected by content: it starts with '<') is imported first (cli_cmmn.cpp).
    if (auto imported = load_cmmn_file(ctx, file)) return *imported;
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
  auto* types = defs->add_subcommand("types", "the registered case types (latest versions)");
  on_run(types, [&ctx] {
    const auto list = ctx.engine().list_case_types();
    if (ctx.json()) {
      Json out = Json::array();
      for (const CaseTypeDef& t : list) out.push_back(to_json(t));
      print_json({{"case_types", out}});
      return 0;
    }
    if (list.empty()) std::cout << "(no case types registered)\n";
    for (const CaseTypeDef& t : list) {
      std::string initial, goals, roles;
      for (const FragmentUse& u : t.initial_fragments) initial += (initial.empty() ? "" : ", ") + u.fragment;
      for (const GoalSpec& g : t.goals) goals += (goals.empty() ? "" : ", ") + g.id;
      for (const RoleDef& r : t.roles) roles += (roles.empty() ? "" : ", ") + r.name;
      std::cout << fmt::format("{:<20} v{:<3} {}\n  starts with: {}  goals: {}  roles: {}\n", t.id, t.version,
                               t.name.empty() ? "-" : t.name, initial.empty() ? "-" : initial,
                               goals.empty() ? "-" : goals, roles.empty() ? "-" : roles);
    }
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
  static std::string case_spec;
  add_spec_option(create, case_spec, "case");
  on_run(create, [&ctx] {
    if (!case_spec.empty()) spec = new_case_from_json(spec_json(case_spec));
    for (const std::string& a : attrs) {
      auto [k, v] = parse_assignment(a, "--attr");
      spec.subject.attributes[k] = v;
    }
    const std::string id = ctx.engine().create_case(ctx.actor(), spec).created;
    // The creator may have given the case to an owner who alone may view it.
    std::optional<CaseInfo> c;
    try {
      c = ctx.engine().as(ctx.actor()).get_case(id);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::permission_denied) throw;
    }
    if (ctx.json()) {
      Json out = {{"id", id}};
      if (c) out["case"] = to_json(*c);
      print_json(out);
    } else {
      std::cout << "created " << id << "\n";
      if (c) print_case(*c);
    }
    return 0;
  });

  static std::string show_id, graph;
  auto* show = kase->add_subcommand("show", "a case: status, goals, plan, file");
  show->add_option("ID", show_id, "case id")->required();
  show->add_option("--graph", graph,
                   "also draw the plan to FILE.dot, FILE.svg or FILE.png (svg/png need Graphviz dot)");
  on_run(show, [&ctx] {
    const CaseInfo c = ctx.engine().as(ctx.actor()).get_case(show_id);
    if (!graph.empty()) write_graph(ctx.engine(), c, graph);
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

  static std::string limit = "50";
  static std::string after;
  auto* list = kase->add_subcommand("list", "case ids in creation order, a page at a time");
  list->add_option("--limit", limit, "page size (1 to 10000)")->capture_default_str();
  list->add_option("--after", after, "start after this case id (the last id of the previous page)");
  on_run(list, [&ctx] {
    const auto n = static_cast<std::size_t>(count_option(limit, "--limit", 1, 10000));
    Json out = Json::array();
    // Under --as, only the cases the actor may view (the page is filled with those).
    const auto ids = ctx.global().as.empty() ? ctx.engine().list_cases(n, after)
                                             : ctx.engine().as(ctx.actor()).list_cases(n, after);
    for (const std::string& id : ids) {
      const CaseInfo c = ctx.engine().as(ctx.actor()).get_case(id);
      if (ctx.json())
        out.push_back(to_json(summary_of(ctx, c)));
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

  static std::vector<std::string> search_status;
  static CaseQuery search_query;
  static std::string search_limit = "50", search_offset = "0";
  auto* search = kase->add_subcommand("search", "cases by status, owner and customer, newest first, with the total");
  search->add_option("--status", search_status, "active, suspended, completed, terminated or closed (repeatable)");
  search->add_option("--owner", search_query.owner, "cases of this owner");
  search->add_option("--customer", search_query.customer, "cases of this customer");
  search->add_option("--limit", search_limit, "page size (1 to 10000)")->capture_default_str();
  search->add_option("--offset", search_offset, "rows to skip");
  on_run(search, [&ctx] {
    search_query.statuses.clear();
    for (const std::string& st : search_status) search_query.statuses.push_back(status_option(st));
    search_query.limit = static_cast<std::size_t>(count_option(search_limit, "--limit", 1, 10000));
    search_query.offset = static_cast<std::size_t>(count_option(search_offset, "--offset", 0, INT64_MAX));
    // Under --as, only the cases the actor may view (paging and total count those).
    const CasePage page = ctx.global().as.empty() ? ctx.engine().find_cases(search_query)
                                                  : ctx.engine().as(ctx.actor()).find_cases(search_query);
    if (ctx.json()) {
      print_json(to_json(page));
      return 0;
    }
    for (const CaseSummary& c : page.cases)
      std::cout << fmt::format("{:<12} {:<10} {:<12} {:<10} {:<12} prio {:<3} \"{}\"\n", c.id, to_string(c.status),
                               c.type.empty() ? "-" : c.type, c.owner, c.customer.empty() ? "-" : c.customer,
                               c.priority, c.title);
    std::cout << fmt::format("{} of {} matching cases (from {})\n", page.cases.size(), page.total,
                             search_query.offset);
    return 0;
  });

  static std::string history_id;
  auto* history = kase->add_subcommand("history", "the events of a case");
  history->add_option("ID", history_id, "case id")->required();
  on_run(history, [&ctx] {
    const auto events = ctx.engine().as(ctx.actor()).history(history_id);
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
  gadd->add_option("--id", spec.id, "goal id (unique in the case; required without --spec)");
  gadd->add_option("--name", spec.name, "goal name (required without --spec)");
  auto* w = gadd->add_option("--within", within, "deadline as a duration from now (PT8H, P2D, 8h)");
  gadd->add_option("--deadline", deadline, "absolute deadline (ISO-8601)")->excludes(w);
  gadd->add_option("--owner", spec.owner, "goal owner (default: the case owner)");
  gadd->add_option("--milestone", spec.milestones, "milestone that must be reached (repeatable)");
  gadd->add_option("--criterion", spec.criterion, "completion condition (docs/expressions.md)");
  gadd->add_option("--parent", spec.parent, "parent goal id");
  gadd->add_flag("--decision", spec.decision, "a person declares it achieved");
  gadd->add_flag("--optional", optional_goal, "the case may complete without it");
  static std::string goal_spec;
  add_spec_option(gadd, goal_spec, "goal");
  on_run(gadd, [&ctx] {
    if (!goal_spec.empty()) {
      spec = goal_spec_from_json(spec_json(goal_spec));
    } else {
      if (spec.id.empty() || spec.name.empty())
        throw Error(ErrorCode::invalid_argument, "goal add needs --id and --name (or the whole goal as --spec JSON)");
      if (!within.empty()) spec.within = duration_option(within, "--within");
      if (!deadline.empty()) spec.deadline = parse_time(deadline);
      spec.required = !optional_goal;
    }
    print_result(ctx, goal_case, ctx.engine().add_goal(ctx.actor(), goal_case, spec));
    return 0;
  });

  auto* frag = app.add_subcommand("fragment", "runtime assembly from fragments")->require_subcommand(1);
  static std::string frag_case;
  auto* flist = frag->add_subcommand("list", "discretionary fragments that apply to a case now");
  flist->add_option("CASE", frag_case, "case id")->required();
  on_run(flist, [&ctx] {
    const auto offers = ctx.engine().as(ctx.actor()).applicable_fragments(frag_case);
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
  fadd->add_option("FRAG", use.fragment, "fragment id (required without --spec)");
  fadd->add_option("--param", params, "argument name=value (value as JSON when it parses, else text)");
  fadd->add_option("--goal", use.goal, "goal the work serves");
  fadd->add_option("--version", use.version, "fragment version (default: latest)");
  fadd->add_option("--after", frag_after, "item id that must complete first (repeatable)");
  fadd->add_option("--stage", use.stage,
                   "for a fragment with a planning table: the stage instance to add it into (default: the only "
                   "active one)");
  static std::string frag_spec;
  add_spec_option(fadd, frag_spec, "fragment use (with \"after\")");
  on_run(fadd, [&ctx] {
    if (!frag_spec.empty()) {
      if (!use.fragment.empty())
        throw Error(ErrorCode::invalid_argument, "fragment add: give FRAG or --spec, not both");
      FragmentAddition added = fragment_addition_from_json(spec_json(frag_spec));
      use = std::move(added.use);
      frag_after = std::move(added.after);
    } else if (use.fragment.empty()) {
      throw Error(ErrorCode::invalid_argument, "fragment add needs FRAG (or the whole use as --spec JSON)");
    }
    for (const std::string& p : params) {
      auto [k, v] = parse_assignment(p, "--param");
      use.params[k] = v;
    }
    print_created(ctx, frag_case, ctx.engine().add_fragment(ctx.actor(), frag_case, use, frag_after));
    return 0;
  });

  auto* task = app.add_subcommand("task", "ad-hoc tasks")->require_subcommand(1);
  static std::string task_case, estimate, due;
  static AdHocTask spec_task;
  auto* tadd = task->add_subcommand("add", "add an ad-hoc task to a case");
  tadd->add_option("CASE", task_case, "case id")->required();
  tadd->add_option("NAME", spec_task.name, "task name (required without --spec)");
  tadd->add_option("--role", spec_task.role, "case role that does it");
  tadd->add_option("--estimate", estimate, "expected work (PT1H)");
  tadd->add_option("--due", due, "due this long after it becomes active (PT4H)");
  tadd->add_option("--goal", spec_task.goal, "goal the task serves");
  tadd->add_option("--assignee", spec_task.assignee, "assign it at once");
  tadd->add_option("--after", spec_task.after, "item id that must complete first (repeatable)");
  tadd->add_flag("--required", spec_task.required, "the case cannot complete without it");
  tadd->add_flag("--manual", spec_task.manual, "wait in enabled until someone starts it");
  static std::string task_spec;
  add_spec_option(tadd, task_spec, "task");
  on_run(tadd, [&ctx] {
    if (!task_spec.empty()) {
      if (!spec_task.name.empty()) throw Error(ErrorCode::invalid_argument, "task add: give NAME or --spec, not both");
      spec_task = ad_hoc_task_from_json(spec_json(task_spec));
    } else if (spec_task.name.empty()) {
      throw Error(ErrorCode::invalid_argument, "task add needs NAME (or the whole task as --spec JSON)");
    }
    if (!estimate.empty()) spec_task.estimate = duration_option(estimate, "--estimate");
    if (!due.empty()) spec_task.due = duration_option(due, "--due");
    print_created(ctx, task_case, ctx.engine().add_task(ctx.actor(), task_case, spec_task));
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
  static std::string queue_limit = "50", queue_offset = "0";
  auto* queue = app.add_subcommand("queue", "open human tasks: assigned to someone, or unassigned for roles");
  queue->add_option("--assignee", filter.assignee, "work assigned to this actor");
  queue->add_option("--role", filter.roles, "unassigned work for this role (repeatable)");
  queue->add_option("--limit", queue_limit, "page size (1 to 10000)")->capture_default_str();
  queue->add_option("--offset", queue_offset, "rows to skip");
  on_run(queue, [&ctx] {
    filter.limit = static_cast<std::size_t>(count_option(queue_limit, "--limit", 1, 10000));
    filter.offset = static_cast<std::size_t>(count_option(queue_offset, "--offset", 0, INT64_MAX));
    print_queue(ctx, queue_page_for(ctx, filter), filter.offset);
    return 0;
  });
  static QueueFilter overdue_filter;
  static std::string overdue_limit = "50";
  auto* overdue = app.add_subcommand("overdue", "open human tasks whose due time has passed");
  overdue->add_option("--limit", overdue_limit, "page size (1 to 10000)")->capture_default_str();
  on_run(overdue, [&ctx] {
    overdue_filter.limit = static_cast<std::size_t>(count_option(overdue_limit, "--limit", 1, 10000));
    overdue_filter.overdue_at = ctx.engine().clock().now();
    print_queue(ctx, queue_page_for(ctx, overdue_filter), 0);
    return 0;
  });
}

}  // namespace

void add_case_commands(CLI::App& app, Context& ctx) {
  add_definitions(app, ctx);
  add_case(app, ctx);
  add_planning(app, ctx);
  add_work(app, ctx);
  add_manage_commands(app, ctx);
}

}  // namespace acm_cli
