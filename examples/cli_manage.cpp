// SPDX-License-Identifier: Apache-2.0
// examples/cli_manage.cpp - the `acm` commands that manage a running case: owner, priority,
// subject attributes, participants, suspend/resume/reopen, item lifecycle (suspend, resume,
// disable, reenable, reactivate, remove, dependencies), signals, attachments, goal decisions
// and changes, promises to the customer.
#include "cli.hpp"

#include <acm/to_json.hpp>

#include <fmt/format.h>

#include <iostream>
#include <optional>

using namespace acm;

namespace acm_cli {
namespace {

/// The subcommand group `name` made by add_case_commands, or a new one.
CLI::App* group(CLI::App& app, const std::string& name, const std::string& description) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == name) return sub;
  return app.add_subcommand(name, description)->require_subcommand(1);
}

TimePoint time_option(const std::string& text, const char* what) {
  try {
    return parse_time(text);
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("{}: {}", what, e.what()));
  }
}

Duration within_option(const std::string& text, const char* what) {
  try {
    return parse_duration(text);
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("{}: {}", what, e.what()));
  }
}

/// Runs several commands on one case and prints their events together.
CommandResult merged(std::vector<CommandResult> results) {
  CommandResult all;
  for (CommandResult& r : results) {
    all.version = r.version;
    for (Event& e : r.events) all.events.push_back(std::move(e));
    if (!r.created.empty()) all.created = r.created;
  }
  return all;
}

// ---- the case: owner, priority, subject, status -----------------------------------------

void add_case_management(CLI::App& app, Context& ctx) {
  CLI::App* kase = group(app, "case", "create, show, list and finish cases");

  static std::string owner_case, owner;
  auto* own = kase->add_subcommand("owner", "give the case to a new owner");
  own->add_option("CASE", owner_case, "case id")->required();
  own->add_option("OWNER", owner, "actor id of the new owner")->required();
  on_run(own, [&ctx] {
    print_result(ctx, owner_case, ctx.engine().set_owner(ctx.actor(), owner_case, owner));
    return 0;
  });

  static std::string prio_case, prio_value;
  auto* prio =
      kase->add_subcommand("priority", "set the case's base priority, or without N show how its priority is made up");
  prio->add_option("CASE", prio_case, "case id")->required();
  prio->add_option("N", prio_value, "new base priority (a negative one after --: priority CASE -- -3)");
  on_run(prio, [&ctx] {
    if (prio_value.empty()) {
      const Json explained = ctx.engine().as(ctx.actor()).explain_priority(prio_case);
      if (ctx.json()) {
        print_json(explained);
        return 0;
      }
      std::cout << fmt::format("priority {} (base {})\n", explained.value("priority", 0), explained.value("base", 0));
      if (explained.contains("terms"))
        for (const Json& t : explained["terms"])
          std::cout << fmt::format("  {:<20} value {} x weight {} = {}\n", t.value("name", ""), t["value"].dump(),
                                   t["weight"].dump(), t["contribution"].dump());
      return 0;
    }
    const auto n = count_option(prio_value, "priority", -1000000, 1000000);
    print_result(ctx, prio_case, ctx.engine().set_priority(ctx.actor(), prio_case, static_cast<int>(n)));
    return 0;
  });

  static std::string attr_case;
  static std::vector<std::string> attr_values;
  auto* attr = kase->add_subcommand("attr", "set attributes of the case's subject (the customer)");
  attr->add_option("CASE", attr_case, "case id")->required();
  attr->add_option("KEY=VALUE", attr_values, "attribute (value as JSON when it parses, else text); several allowed")
      ->required();
  on_run(attr, [&ctx] {
    std::vector<std::pair<std::string, Json>> parsed;  // all checked before the first change
    for (const std::string& a : attr_values) parsed.push_back(parse_assignment(a, "attribute"));
    std::vector<CommandResult> results;
    for (const auto& [k, v] : parsed)
      results.push_back(ctx.engine().set_subject_attribute(ctx.actor(), attr_case, k, v));
    print_result(ctx, attr_case, merged(std::move(results)));
    return 0;
  });

  static std::string status_case, status_reason;
  for (const char* verb : {"suspend", "resume", "reopen"}) {
    const std::string v = verb;
    auto* cmd = kase->add_subcommand(v, v == "suspend"  ? "suspend an active case (its work waits)"
                                        : v == "resume" ? "resume a suspended case"
                                                        : "reopen a completed, terminated or closed case");
    cmd->add_option("CASE", status_case, "case id")->required();
    if (v != "resume") cmd->add_option("--reason", status_reason, "why");
    on_run(cmd, [&ctx, v] {
      Engine& e = ctx.engine();
      const CommandResult r = v == "suspend"  ? e.suspend_case(ctx.actor(), status_case, status_reason)
                              : v == "resume" ? e.resume_case(ctx.actor(), status_case)
                                              : e.reopen_case(ctx.actor(), status_case, status_reason);
      print_result(ctx, status_case, r);
      return 0;
    });
  }
}

// ---- participants ------------------------------------------------------------------------

void add_participants(CLI::App& app, Context& ctx) {
  auto* part = app.add_subcommand("participant", "people brought into a case, with case roles")->require_subcommand(1);
  static std::string part_case;
  static Participant who;
  auto* add = part->add_subcommand("add", "bring someone into the case (again: replaces their roles)");
  add->add_option("CASE", part_case, "case id")->required();
  add->add_option("ACTOR", who.actor, "actor id")->required();
  add->add_option("--role", who.roles, "case role (repeatable), e.g. agent, supplier");
  on_run(add, [&ctx] {
    print_result(ctx, part_case, ctx.engine().add_participant(ctx.actor(), part_case, who));
    return 0;
  });
  static std::string gone;
  auto* remove = part->add_subcommand("remove", "take someone off the case");
  remove->add_option("CASE", part_case, "case id")->required();
  remove->add_option("ACTOR", gone, "actor id")->required();
  on_run(remove, [&ctx] {
    print_result(ctx, part_case, ctx.engine().remove_participant(ctx.actor(), part_case, gone));
    return 0;
  });
  auto* list = part->add_subcommand("list", "the case's owner and participants");
  list->add_option("CASE", part_case, "case id")->required();
  on_run(list, [&ctx] {
    const CaseInfo c = ctx.engine().as(ctx.actor()).get_case(part_case);
    if (ctx.json()) {
      Json out = Json::array();
      for (const Participant& p : c.participants) out.push_back(to_json(p));
      print_json({{"case", c.id}, {"owner", c.owner}, {"participants", out}});
      return 0;
    }
    std::cout << "owner " << c.owner << "\n";
    if (c.participants.empty()) std::cout << "(no participants)\n";
    for (const Participant& p : c.participants) {
      std::string roles;
      for (const std::string& r : p.roles) roles += (roles.empty() ? "" : ", ") + r;
      std::cout << fmt::format("{:<16} {}\n", p.actor, roles.empty() ? "(no roles)" : roles);
    }
    return 0;
  });
}

// ---- plan items --------------------------------------------------------------------------

void add_item_lifecycle(CLI::App& app, Context& ctx) {
  CLI::App* item = group(app, "item", "work on plan items");
  static std::string item_case, item_id;
  for (const char* verb : {"suspend", "resume", "disable", "reenable", "reactivate", "remove"}) {
    const std::string v = verb;
    auto* cmd = item->add_subcommand(v, v == "suspend"      ? "suspend an active item"
                                        : v == "resume"     ? "resume a suspended item"
                                        : v == "disable"    ? "disable an enabled item (it no longer blocks its stage)"
                                        : v == "reenable"   ? "enable a disabled item again"
                                        : v == "reactivate" ? "reactivate a failed item"
                                                            : "remove a planned item that has not started");
    cmd->add_option("CASE", item_case, "case id")->required();
    cmd->add_option("ITEM", item_id, "plan item id")->required();
    on_run(cmd, [&ctx, v] {
      Engine& e = ctx.engine();
      const Actor a = ctx.actor();
      const CommandResult r = v == "suspend"      ? e.suspend_item(a, item_case, item_id)
                              : v == "resume"     ? e.resume_item(a, item_case, item_id)
                              : v == "disable"    ? e.disable_item(a, item_case, item_id)
                              : v == "reenable"   ? e.reenable_item(a, item_case, item_id)
                              : v == "reactivate" ? e.reactivate_item(a, item_case, item_id)
                                                  : e.remove_item(a, item_case, item_id);
      print_result(ctx, item_case, r);
      return 0;
    });
  }
  static std::string before;
  auto* dep = item->add_subcommand("depend", "make ITEM wait until AFTER completes");
  dep->add_option("CASE", item_case, "case id")->required();
  dep->add_option("ITEM", item_id, "the item that waits")->required();
  dep->add_option("AFTER", before, "the item it waits for")->required();
  on_run(dep, [&ctx] {
    print_result(ctx, item_case, ctx.engine().add_dependency(ctx.actor(), item_case, item_id, before));
    return 0;
  });
}

// ---- signals, attachments, the case file -------------------------------------------------

void add_events_and_content(CLI::App& app, Context& ctx) {
  static std::string sig_case, sig_name, sig_payload;
  auto* sig = app.add_subcommand("signal", "deliver a named external event to a case (fires its on-parts)");
  sig->add_option("CASE", sig_case, "case id")->required();
  sig->add_option("NAME", sig_name, "event name")->required();
  sig->add_option("--payload", sig_payload, "payload JSON object");
  on_run(sig, [&ctx] {
    const Json payload = sig_payload.empty() ? Json::object() : parse_json_argument(sig_payload, "--payload");
    print_result(ctx, sig_case, ctx.engine().signal(ctx.actor(), sig_case, sig_name, payload));
    return 0;
  });

  static std::string att_case, note, link, document;
  static Asset asset;
  static std::vector<std::string> meta;
  auto* att = app.add_subcommand("attach", "attach a note, a link or a document to a case");
  att->add_option("CASE", att_case, "case id")->required();
  auto* n = att->add_option("--note", note, "a note's text");
  auto* l = att->add_option("--link", link, "a link's URI")->excludes(n);
  att->add_option("--document", document, "a document's URI")->excludes(n)->excludes(l);
  att->add_option("--title", asset.title, "title");
  att->add_option("--media-type", asset.media_type, "media type, e.g. application/pdf");
  att->add_option("--meta", meta, "metadata key=value (repeatable)");
  att->add_option("--id", asset.id, "asset id (default: generated)");
  on_run(att, [&ctx] {
    if (note.empty() && link.empty() && document.empty())
      throw Error(ErrorCode::invalid_argument, "attach needs one of --note TEXT, --link URI or --document URI");
    asset.kind = !note.empty() ? "note" : !link.empty() ? "link" : "document";
    asset.text = note;
    asset.uri = !link.empty() ? link : document;
    for (const std::string& m : meta) {
      auto [k, v] = parse_assignment(m, "--meta");
      asset.metadata[k] = v;
    }
    const CommandResult r = ctx.engine().attach(ctx.actor(), att_case, asset);
    std::string id = r.created;
    if (id.empty() && !r.events.empty() && r.events.back().payload.contains("asset"))
      id = r.events.back().payload["asset"].value("id", "");
    if (!ctx.json()) std::cout << "attached " << id << "\n";
    print_result(ctx, att_case, r, {{"asset", id}});
    return 0;
  });

  CLI::App* file = group(app, "file", "the case file");
  static std::string file_case, path;
  auto* remove = file->add_subcommand("remove", "remove the value at a dotted path");
  remove->add_option("CASE", file_case, "case id")->required();
  remove->add_option("PATH", path, "dotted path")->required();
  on_run(remove, [&ctx] {
    print_result(ctx, file_case, ctx.engine().remove_file(ctx.actor(), file_case, path));
    return 0;
  });
  auto* show = file->add_subcommand("show", "the case file (or the value at PATH)");
  show->add_option("CASE", file_case, "case id")->required();
  show->add_option("PATH", path, "dotted path (default: the whole file)");
  on_run(show, [&ctx] {
    const CaseInfo c = ctx.engine().as(ctx.actor()).get_case(file_case);
    Json value = c.file;
    if (!path.empty()) {
      std::string pointer;
      std::size_t start = 0;
      while (start <= path.size()) {
        const auto dot = path.find('.', start);
        std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        for (std::size_t i = 0; (i = part.find('~', i)) != std::string::npos; i += 2) part.replace(i, 1, "~0");
        for (std::size_t i = 0; (i = part.find('/', i)) != std::string::npos; i += 2) part.replace(i, 1, "~1");
        pointer += "/" + part;
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
      const Json::json_pointer ptr(pointer);
      if (!value.contains(ptr))
        throw Error(ErrorCode::not_found, fmt::format("case {} has no value at {}", c.id, path));
      value = value.at(ptr);
    }
    std::cout << value.dump(2) << "\n";
    return 0;
  });
}

// ---- goals -------------------------------------------------------------------------------

void add_goal_decisions(CLI::App& app, Context& ctx) {
  CLI::App* goal = group(app, "goal", "goals of a case");
  static std::string goal_case, goal_id, reason;
  for (const char* verb : {"achieve", "cancel", "pause", "resume"}) {
    const std::string v = verb;
    const bool all = v == "pause" || v == "resume";
    auto* cmd =
        goal->add_subcommand(v, v == "achieve"  ? "declare a goal achieved (a person's decision)"
                                : v == "cancel" ? "cancel a goal"
                                : v == "pause"  ? "stop a goal's clock (no GOAL: every open goal with a deadline)"
                                                : "restart a paused goal's clock (no GOAL: every paused goal)");
    cmd->add_option("CASE", goal_case, "case id")->required();
    auto* g = cmd->add_option("GOAL", goal_id, "goal id");
    if (!all) g->required();
    if (v == "cancel" || v == "pause") cmd->add_option("--reason", reason, "why");
    on_run(cmd, [&ctx, v] {
      Engine& e = ctx.engine();
      const Actor a = ctx.actor();
      const CommandResult r = v == "achieve"  ? e.achieve_goal(a, goal_case, goal_id)
                              : v == "cancel" ? e.cancel_goal(a, goal_case, goal_id, reason)
                              : v == "pause"  ? e.pause_goal(a, goal_case, goal_id, reason)
                                              : e.resume_goal(a, goal_case, goal_id);
      print_result(ctx, goal_case, r);
      return 0;
    });
  }

  static std::string name, owner, deadline, within, criterion;
  static std::vector<std::string> milestones;
  static bool required = false, optional = false, no_deadline = false, no_milestones = false;
  auto* change = goal->add_subcommand("change", "change a goal: name, owner, deadline, criterion, milestones");
  change->add_option("CASE", goal_case, "case id")->required();
  change->add_option("GOAL", goal_id, "goal id")->required();
  change->add_option("--name", name, "new name");
  change->add_option("--owner", owner, "new owner");
  auto* req = change->add_flag("--required", required, "the case cannot complete without it");
  change->add_flag("--optional", optional, "the case may complete without it")->excludes(req);
  auto* d = change->add_option("--deadline", deadline, "new absolute deadline (ISO-8601)");
  auto* w = change->add_option("--within", within, "new deadline as a duration from now (PT8H, 2d)")->excludes(d);
  change->add_flag("--no-deadline", no_deadline, "remove the deadline")->excludes(d)->excludes(w);
  change->add_option("--criterion", criterion, "new completion condition");
  auto* m =
      change->add_option("--milestone", milestones, "milestone that must be reached (repeatable; replaces the list)");
  change->add_flag("--no-milestones", no_milestones, "no milestones needed any more")->excludes(m);
  on_run(change, [&ctx] {
    GoalChange c;
    if (!name.empty()) c.name = name;
    if (!owner.empty()) c.owner = owner;
    if (required) c.required = true;
    if (optional) c.required = false;
    if (!deadline.empty()) c.deadline = std::optional<TimePoint>(time_option(deadline, "--deadline"));
    if (!within.empty())
      c.deadline = std::optional<TimePoint>(ctx.engine().clock().now() + within_option(within, "--within"));
    if (no_deadline) c.deadline = std::optional<TimePoint>();
    if (!criterion.empty()) c.criterion = criterion;
    if (!milestones.empty()) c.milestones = milestones;
    if (no_milestones) c.milestones = std::vector<std::string>{};
    if (!c.name && !c.owner && !c.required && !c.deadline && !c.criterion && !c.milestones)
      throw Error(ErrorCode::invalid_argument,
                  "goal change: nothing to change (give --name, --owner, --required/--optional, --deadline, "
                  "--within, --no-deadline, --criterion, --milestone or --no-milestones)");
    print_result(ctx, goal_case, ctx.engine().change_goal(ctx.actor(), goal_case, goal_id, c));
    return 0;
  });
}

// ---- promises ----------------------------------------------------------------------------

void add_promises(CLI::App& app, Context& ctx) {
  auto* promise = app.add_subcommand("promise", "promises made to the customer")->require_subcommand(1);
  static std::string p_case, p_id, due, within, reason;
  static std::string what;
  auto* make = promise->add_subcommand("make", "record a promise (tracked until kept, broken or cancelled)");
  make->add_option("CASE", p_case, "case id")->required();
  make->add_option("--id", p_id, "promise id (unique in the case)")->required();
  make->add_option("--what", what, "what was promised")->required();
  auto* d = make->add_option("--due", due, "by when (ISO-8601)");
  make->add_option("--within", within, "by when, as a duration from now (2d, PT8H)")->excludes(d);
  on_run(make, [&ctx] {
    if (due.empty() && within.empty())
      throw Error(ErrorCode::invalid_argument, "promise make needs --due TIME or --within DURATION");
    PromiseSpec spec{p_id, what, {}};
    spec.due =
        !due.empty() ? time_option(due, "--due") : ctx.engine().clock().now() + within_option(within, "--within");
    print_result(ctx, p_case, ctx.engine().make_promise(ctx.actor(), p_case, spec));
    return 0;
  });
  auto* keep = promise->add_subcommand("keep", "mark a promise kept");
  keep->add_option("CASE", p_case, "case id")->required();
  keep->add_option("PROMISE", p_id, "promise id")->required();
  on_run(keep, [&ctx] {
    print_result(ctx, p_case, ctx.engine().keep_promise(ctx.actor(), p_case, p_id));
    return 0;
  });
  auto* cancel = promise->add_subcommand("cancel", "cancel a promise");
  cancel->add_option("CASE", p_case, "case id")->required();
  cancel->add_option("PROMISE", p_id, "promise id")->required();
  cancel->add_option("--reason", reason, "why");
  on_run(cancel, [&ctx] {
    print_result(ctx, p_case, ctx.engine().cancel_promise(ctx.actor(), p_case, p_id, reason));
    return 0;
  });
  auto* list = promise->add_subcommand("list", "the case's promises and where they stand");
  list->add_option("CASE", p_case, "case id")->required();
  on_run(list, [&ctx] {
    const CaseInfo c = ctx.engine().as(ctx.actor()).get_case(p_case);
    if (ctx.json()) {
      Json out = Json::array();
      for (const PromiseInfo& p : c.promises) out.push_back(to_json(p));
      print_json(out);
      return 0;
    }
    if (c.promises.empty()) std::cout << "(no promises)\n";
    for (const PromiseInfo& p : c.promises)
      std::cout << fmt::format("{:<16} {:<10} {:<9} due {}  expected {}  \"{}\"\n", p.id, to_string(p.status),
                               to_string(p.timing), format_time(p.due), time_text(p.expected), p.what);
    return 0;
  });
}

}  // namespace

void add_manage_commands(CLI::App& app, Context& ctx) {
  add_case_management(app, ctx);
  add_participants(app, ctx);
  add_item_lifecycle(app, ctx);
  add_events_and_content(app, ctx);
  add_goal_decisions(app, ctx);
  add_promises(app, ctx);
}

}  // namespace acm_cli
