// SPDX-License-Identifier: Apache-2.0
// acm::Engine, the facade (include/acm/engine.hpp): each call checks its arguments (and, for a
// command with an idempotency key, fingerprints them: runtime::Args) and hands the work to its
// Impl, whose parts live in engine_cache.cpp, engine_pipeline.cpp, engine_timers.cpp and
// engine_delivery.cpp (runtime/engine_impl.hpp). Here also: opening (the store, the registry,
// the clock), registering definitions, the trusted reads, templates and the intake log.
#include "runtime/engine_impl.hpp"

#include "model/validate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <thread>

namespace acm {

using runtime::Args;
using runtime::CaseState;
using runtime::check_actor;
using runtime::Decider;
using runtime::Slot;
using runtime::t_holding;

namespace {

void check_participant(Args& a, const Participant& p) {
  a.id("the participant's actor", p.actor).ids("a participant role", p.roles);
}

Args goal_args(const Request& by, const GoalSpec& g) {
  Args a(by, "add_goal");
  a.id("the goal id", g.id).id("the goal name", g.name).id("the goal owner", g.owner).id("the parent goal", g.parent);
  a.num(g.required).time(g.deadline).duration(g.within).id("the goal anchor", g.anchor);
  a.text("the goal criterion", g.criterion).ids("a goal milestone", g.milestones).num(g.decision);
  return a;
}

Args change_args(const Request& by, const std::string& goal_id, const GoalChange& c) {
  Args a(by, "change_goal");
  a.id("the goal id", goal_id);
  if (c.name)
    a.id("the goal name", *c.name);
  else
    a.num(-1);
  if (c.owner)
    a.id("the goal owner", *c.owner);
  else
    a.num(-1);
  a.num(c.required ? *c.required : -1);
  if (c.deadline)
    a.time(*c.deadline);
  else
    a.num(-1);
  if (c.criterion)
    a.text("the goal criterion", *c.criterion);
  else
    a.num(-1);
  if (c.milestones)
    a.ids("a goal milestone", *c.milestones);
  else
    a.num(-1);
  return a;
}

}  // namespace

// ---- opening ------------------------------------------------------------------------------

Engine::Impl::Impl(EngineOptions o) : options(std::move(o)) {
  clock = options.clock ? options.clock : std::make_shared<SystemClock>();
  calendar = options.calendar ? options.calendar : std::make_shared<AlwaysCalendar>();
  services.registry = &registry;
  services.calendar = calendar.get();
  services.options = &options;
  if (options.priority_policy) services.priority = runtime::CompiledPriority::compile(*options.priority_policy);
  validate_escalation(options.escalation);
  services.handler = [this](const std::string& name) { return handler(name); };
  if (options.store) {
    store = options.store;
  } else if (options.database.empty() || options.database == ":memory:") {
    store = open_memory_store();
  } else if (is_postgres_database(options.database)) {
    PostgresStoreOptions po;
    po.conninfo = options.database;
    po.read_only = options.read_only;
    store = open_postgres_store(po);
  } else {
    SqliteStoreOptions so;
    so.path = options.database;
    so.durability = options.durability;
    so.read_only = options.read_only;
    so.read_only_fallback = true;  // a store in a directory that cannot be written: queries still work
    store = open_sqlite_store(so);
  }
  traits = store->traits();
  if (traits.shared) shared = store.get();
  load_registry();
  // A store migrated to schema v4 rewrites its open work items once, with the columns v4 added.
  store->rebuild_work_items([this](const std::string& case_id) -> std::optional<std::vector<WorkItem>> {
    auto s = load(case_id);
    if (!s) return std::nullopt;
    return open_work(s->state);
  });
  next_case = store->case_count() + 1;
  manual = dynamic_cast<ManualClock*>(clock.get());
  if (manual && traits.read_only) manual = nullptr;  // nothing fires in a read-only engine
  if (manual) manual->attach(this);
}

Engine::Impl::~Impl() {
  if (manual) manual->detach(this);
}

// ---- Engine -------------------------------------------------------------------------------

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

std::unique_ptr<Engine> Engine::open(EngineOptions options) {
  if (options.max_steps_per_command == 0) throw Error(ErrorCode::invalid_argument, "max_steps_per_command must be positive");
  if (options.cache_capacity < 16) throw Error(ErrorCode::invalid_argument, "cache_capacity must be at least 16");
  if (options.snapshot_every == 0) throw Error(ErrorCode::invalid_argument, "snapshot_every must be positive");
  if (options.timer_batch == 0) throw Error(ErrorCode::invalid_argument, "timer_batch must be positive");
  if (options.max_items_per_command < 16)
    throw Error(ErrorCode::invalid_argument, "max_items_per_command must be at least 16");
  if (options.max_events_per_command < 16)
    throw Error(ErrorCode::invalid_argument, "max_events_per_command must be at least 16");
  if (options.read_only && !options.store && (options.database.empty() || options.database == ":memory:"))
    throw Error(ErrorCode::invalid_argument, "read_only needs a database file");
  if (options.max_payload_bytes < 1024)
    throw Error(ErrorCode::invalid_argument, "max_payload_bytes must be at least 1024");
  return std::unique_ptr<Engine>(new Engine(std::make_unique<Impl>(std::move(options))));
}

namespace {

void require_designer(const runtime::Services& sv, const Actor& a) {
  if (!sv.is_designer(a))
    throw Error(ErrorCode::permission_denied,
                fmt::format("actor '{}' may not register definitions: it needs an administrator or designer role", a.id));
}

}  // namespace

void Engine::load_definitions(const Request& by, const Json& document) {
  if (t_holding != 0)
    throw Error(ErrorCode::invalid_state, "definitions cannot be registered from a task handler (the registry is in use)");
  check_actor(by.actor);
  require_designer(impl_->services, by.actor);
  impl_->require_writable();
  model::check_json_text(document, "the definitions document");
  DefinitionSet set = parse_definitions(document);
  std::vector<std::shared_ptr<const runtime::CFragment>> fragments;
  std::vector<std::shared_ptr<const runtime::CCaseType>> types;
  for (const auto& f : set.fragments) fragments.push_back(runtime::compile(f));
  for (const auto& t : set.case_types) types.push_back(runtime::compile(t));
  std::unique_lock lk(impl_->registry_mutex);
  auto& reg = impl_->registry;
  std::vector<std::string> problems;
  std::vector<std::shared_ptr<const runtime::CFragment>> new_fragments;
  std::vector<std::shared_ptr<const runtime::CCaseType>> new_types;
  for (const auto& f : fragments) {
    auto existing = reg.fragment(f->def.id, f->def.version);
    if (!existing) {
      new_fragments.push_back(f);
    } else if (to_json(existing->def) != to_json(f->def)) {
      problems.push_back(fmt::format("fragment '{}' version {} is already registered with different content; register "
                                     "a new version",
                                     f->def.id, f->def.version));
    }
  }
  for (const auto& t : types) {
    auto existing = reg.case_type(t->def.id, t->def.version);
    if (!existing) {
      new_types.push_back(t);
    } else if (to_json(existing->def) != to_json(t->def)) {
      problems.push_back(fmt::format("case type '{}' version {} is already registered with different content; register "
                                     "a new version",
                                     t->def.id, t->def.version));
    }
    for (const auto& use : t->def.initial_fragments) {
      bool here = std::any_of(fragments.begin(), fragments.end(), [&](const auto& f) {
        return f->def.id == use.fragment && (use.version == 0 || use.version == f->def.version);
      });
      if (!here && !reg.fragment(use.fragment, use.version))
        problems.push_back(fmt::format("case type '{}' starts with fragment '{}' which is not registered", t->def.id, use.fragment));
    }
    for (const auto& id : t->def.discretionary) {
      bool here = std::any_of(fragments.begin(), fragments.end(), [&](const auto& f) { return f->def.id == id; });
      if (!here && !reg.fragment(id, 0))
        problems.push_back(fmt::format("case type '{}' offers fragment '{}' which is not registered", t->def.id, id));
    }
  }
  if (!problems.empty()) {
    std::string text = fmt::format("{} problem{} registering definitions:", problems.size(), problems.size() == 1 ? "" : "s");
    for (const auto& p : problems) text += "\n  " + p;
    throw Error(problems.size() == 1 && problems[0].find("already registered") != std::string::npos ? ErrorCode::already_exists
                                                                                                   : ErrorCode::invalid_definition,
                text);
  }
  std::vector<DefinitionRecord> records;
  for (auto& f : new_fragments) records.push_back({"fragment", f->def.id, f->def.version, to_json(f->def)});
  for (auto& t : new_types) records.push_back({"case_type", t->def.id, t->def.version, to_json(t->def)});
  if (!records.empty()) impl_->store->save_definitions(records);  // durable first, then visible
  for (auto& f : new_fragments) reg.add(f);
  for (auto& t : new_types) reg.add(t);
}

// A definition built in C++ is checked before it is converted to JSON: the conversion copies
// its free-form values, which would recurse as deep as they nest.
void Engine::register_fragment(const Request& by, const FragmentDef& fragment) {
  require_designer(impl_->services, by.actor);
  model::throw_if_problems(model::validate(fragment, ""));
  load_definitions(by, Json{{"fragments", Json::array({to_json(fragment)})}});
}

void Engine::register_case_type(const Request& by, const CaseTypeDef& case_type) {
  require_designer(impl_->services, by.actor);
  model::throw_if_problems(model::validate(case_type, ""));
  load_definitions(by, Json{{"case_types", Json::array({to_json(case_type)})}});
}

FragmentDef Engine::get_fragment(const std::string& id, int version) const {
  std::shared_lock lk(impl_->registry_mutex);
  auto f = impl_->registry.fragment(id, version);
  if (!f) throw Error(ErrorCode::not_found, fmt::format("fragment '{}'{} is not registered", id,
                                                        version ? fmt::format(" version {}", version) : ""));
  return f->def;
}

CaseTypeDef Engine::get_case_type(const std::string& id, int version) const {
  std::shared_lock lk(impl_->registry_mutex);
  auto t = impl_->registry.case_type(id, version);
  if (!t) throw Error(ErrorCode::not_found, fmt::format("case type '{}'{} is not registered", id,
                                                        version ? fmt::format(" version {}", version) : ""));
  return t->def;
}

std::vector<FragmentDef> Engine::list_fragments() const {
  std::shared_lock lk(impl_->registry_mutex);
  std::vector<FragmentDef> out;
  for (const auto& [id, versions] : impl_->registry.fragments()) out.push_back(versions.rbegin()->second->def);
  return out;
}

std::vector<CaseTypeDef> Engine::list_case_types() const {
  std::shared_lock lk(impl_->registry_mutex);
  std::vector<CaseTypeDef> out;
  for (const auto& [id, versions] : impl_->registry.case_types()) out.push_back(versions.rbegin()->second->def);
  return out;
}

CommandResult Engine::create_case(const Request& by, const NewCase& spec) {
  check_actor(by.actor);
  Args args(by, "create_case");
  args.id("the case id", spec.id).id("the case type", spec.type).num(spec.type_version).id("the title", spec.title);
  args.id("the customer", spec.subject.customer).json("the subject's attributes", spec.subject.attributes);
  args.id("the owner", spec.owner).num(spec.priority).num(static_cast<std::int64_t>(spec.participants.size()));
  for (const auto& p : spec.participants) check_participant(args, p);
  args.json("the initial case file", spec.file);
  return impl_->create_case(by, spec, args);
}

CaseInfo Engine::get_case(const std::string& case_id) const {
  return impl_->query(case_id, [](const Slot& s) { return runtime::to_info(s.state); });
}

ActorView Engine::as(const Actor& actor) const { return ActorView(*this, actor); }

CaseInfo Engine::viewed_case(const Actor& actor, const std::string& case_id) const {
  check_actor(actor);
  return impl_->query(case_id, [&](const Slot& s) {
    Decider::require_view(s.state, impl_->services, actor);
    return runtime::to_info(s.state);
  });
}

void Engine::require_view(const Actor& actor, const std::string& case_id) const {
  check_actor(actor);
  impl_->query(case_id, [&](const Slot& s) { Decider::require_view(s.state, impl_->services, actor); });
}

std::optional<CaseInfo> Engine::find_case(const std::string& case_id) const {
  try {
    return get_case(case_id);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) return std::nullopt;
    throw;
  }
}

Json Engine::inspect(const std::string& case_id, bool from_history) const {
  return impl_->query(case_id, [&](const Slot& s) {
    if (!from_history) return runtime::state_to_json(s.state);
    CaseState fresh;
    impl_->fold_stored(fresh, impl_->store->load_events(case_id, 1).value_or(std::vector<Event>{}), case_id);
    return runtime::state_to_json(fresh);
  });
}

std::vector<std::string> Engine::list_cases(std::size_t limit, const std::string& after) const {
  return impl_->store->case_ids(limit, after);
}

namespace {

void check_queue_limit(const QueueFilter& filter) {
  if (filter.limit > 10000)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("a queue page holds at most 10000 items, not {}", filter.limit));
}

}  // namespace

QueuePage Engine::queue_page(const QueueFilter& filter) const {
  check_queue_limit(filter);
  return impl_->store->work_items(filter, true);
}

CasePage Engine::find_cases(const CaseQuery& query) const {
  if (query.limit > 10000)
    throw Error(ErrorCode::invalid_argument, fmt::format("a case page holds at most 10000 cases, not {}", query.limit));
  return impl_->store->find_cases(query);
}

std::vector<WorkItem> Engine::queue(const QueueFilter& filter) const {
  check_queue_limit(filter);
  return impl_->store->work_items(filter, false).items;
}

std::vector<Event> Engine::history(const std::string& case_id, std::uint64_t from) const {
  auto events = impl_->store->load_events(case_id, from);
  if (!events) throw Error(ErrorCode::not_found, fmt::format("no case '{}'", case_id));
  return std::move(*events);
}

// The arguments are checked (and fingerprinted for idempotency keys) by `args_`; ACM_COMMAND
// fingerprints the command's name only.
#define ACM_COMMAND_WITH(args_, expr_)                                       \
  return impl_->command(by, case_id, args_, [&](Decider& d) -> std::string { \
    expr_;                                                                   \
    return {};                                                               \
  })
#define ACM_COMMAND(expr_) ACM_COMMAND_WITH(Args(by, __func__), expr_)

CommandResult Engine::set_owner(const Request& by, const std::string& case_id, const std::string& owner) {
  ACM_COMMAND_WITH(Args(by, "set_owner").id("the owner", owner), d.set_owner(owner));
}
CommandResult Engine::add_participant(const Request& by, const std::string& case_id, const Participant& p) {
  ACM_COMMAND_WITH(
      [&] {
        Args a(by, "add_participant");
        check_participant(a, p);
        return a;
      }(),
      d.add_participant(p));
}
CommandResult Engine::remove_participant(const Request& by, const std::string& case_id, const std::string& actor) {
  ACM_COMMAND_WITH(Args(by, "remove_participant").id("the actor", actor), d.remove_participant(actor));
}
CommandResult Engine::set_priority(const Request& by, const std::string& case_id, int priority) {
  ACM_COMMAND_WITH(Args(by, "set_priority").num(priority), d.set_priority(priority));
}
CommandResult Engine::set_subject_attribute(const Request& by, const std::string& case_id, const std::string& key,
                                            const Json& value) {
  ACM_COMMAND_WITH(Args(by, "set_subject_attribute").id("the attribute key", key).json("the attribute value", value),
                   d.set_subject_attribute(key, value));
}
CommandResult Engine::suspend_case(const Request& by, const std::string& case_id, const std::string& reason) {
  ACM_COMMAND_WITH(Args(by, "suspend_case").text("the reason", reason), d.set_status(CaseStatus::suspended, reason));
}
CommandResult Engine::resume_case(const Request& by, const std::string& case_id) {
  ACM_COMMAND_WITH(Args(by, "resume_case"), d.set_status(CaseStatus::active, "", false));
}
CommandResult Engine::complete_case(const Request& by, const std::string& case_id) {
  ACM_COMMAND_WITH(Args(by, "complete_case"), d.complete_case());
}
CommandResult Engine::terminate_case(const Request& by, const std::string& case_id, const std::string& reason) {
  ACM_COMMAND_WITH(Args(by, "terminate_case").text("the reason", reason), d.set_status(CaseStatus::terminated, reason));
}
CommandResult Engine::close_case(const Request& by, const std::string& case_id) {
  ACM_COMMAND_WITH(Args(by, "close_case"), d.set_status(CaseStatus::closed, ""));
}
CommandResult Engine::reopen_case(const Request& by, const std::string& case_id, const std::string& reason) {
  ACM_COMMAND_WITH(Args(by, "reopen_case").text("the reason", reason), d.set_status(CaseStatus::active, reason, true));
}
CommandResult Engine::add_goal(const Request& by, const std::string& case_id, const GoalSpec& goal) {
  return impl_->command(by, case_id, goal_args(by, goal), [&](Decider& d) -> std::string {
    d.add_goal(goal);
    return goal.id;  // what it created
  });
}
CommandResult Engine::change_goal(const Request& by, const std::string& case_id, const std::string& goal_id,
                                  const GoalChange& change) {
  ACM_COMMAND_WITH(change_args(by, goal_id, change), d.change_goal(goal_id, change));
}
CommandResult Engine::cancel_goal(const Request& by, const std::string& case_id, const std::string& goal_id,
                                  const std::string& reason) {
  ACM_COMMAND_WITH(Args(by, "cancel_goal").id("the goal id", goal_id).text("the reason", reason),
                   d.cancel_goal(goal_id, reason));
}
CommandResult Engine::achieve_goal(const Request& by, const std::string& case_id, const std::string& goal_id) {
  ACM_COMMAND_WITH(Args(by, "achieve_goal").id("the goal id", goal_id), d.achieve_goal(goal_id));
}
CommandResult Engine::pause_goal(const Request& by, const std::string& case_id, const std::string& goal_id,
                                 const std::string& reason) {
  ACM_COMMAND_WITH(Args(by, "pause_goal").id("the goal id", goal_id).text("the reason", reason),
                   d.pause_goal(goal_id, reason));
}
CommandResult Engine::resume_goal(const Request& by, const std::string& case_id, const std::string& goal_id) {
  ACM_COMMAND_WITH(Args(by, "resume_goal").id("the goal id", goal_id), d.resume_goal(goal_id));
}
CommandResult Engine::make_promise(const Request& by, const std::string& case_id, const PromiseSpec& promise) {
  Args args(by, "make_promise");
  args.id("the promise id", promise.id).text("what is promised", promise.what).time(promise.due);
  return impl_->command(by, case_id, args, [&](Decider& d) -> std::string {
    d.make_promise(promise);
    return promise.id;  // what it created
  });
}
CommandResult Engine::keep_promise(const Request& by, const std::string& case_id, const std::string& promise_id) {
  ACM_COMMAND_WITH(Args(by, "keep_promise").id("the promise id", promise_id), d.keep_promise(promise_id));
}
CommandResult Engine::cancel_promise(const Request& by, const std::string& case_id, const std::string& promise_id,
                                     const std::string& reason) {
  ACM_COMMAND_WITH(Args(by, "cancel_promise").id("the promise id", promise_id).text("the reason", reason),
                   d.cancel_promise(promise_id, reason));
}
Json Engine::explain_priority(const std::string& case_id) const {
  return impl_->query(case_id, [&](Slot& s) {
    Json out{{"priority", s.state.priority}, {"base", s.state.priority_base}};
    if (impl_->services.priority) {
      Json ex = impl_->services.priority->evaluate(s.state, impl_->clock->now());
      out["score"] = ex["score"];
      out["terms"] = std::move(ex["terms"]);
    }
    return out;
  });
}
std::vector<FragmentOffer> Engine::applicable_fragments(const std::string& case_id) const {
  return impl_->query(case_id, [&](Slot& s) {
    Decider d(s.state, impl_->services, Actor{}, impl_->clock->now());
    return d.applicable_fragments();
  });
}
CommandResult Engine::add_fragment(const Request& by, const std::string& case_id, const FragmentUse& use,
                                 const std::vector<std::string>& after) {
  Args args(by, "add_fragment");
  args.id("the fragment id", use.fragment)
      .num(use.version)
      .id("the goal id", use.goal)
      .json("the arguments", use.params);
  if (!use.stage.empty()) args.id("the stage instance", use.stage);
  args.ids("the prerequisite item id", after);
  return impl_->command(by, case_id, args, [&](Decider& d) { return d.add_fragment(use, after); });
}
CommandResult Engine::add_task(const Request& by, const std::string& case_id, const AdHocTask& task) {
  Args args(by, "add_task");
  args.id("the task name", task.name).num(static_cast<int>(task.kind)).id("the role", task.role);
  args.ids("a skill", task.skills).duration(task.estimate).duration(task.due).id("the handler", task.handler);
  args.json("the input", task.input).id("the output path", task.output).id("the goal id", task.goal);
  args.id("the assignee", task.assignee).ids("the prerequisite item id", task.after);
  args.num(task.required).num(task.manual);
  return impl_->command(by, case_id, args, [&](Decider& d) { return d.add_task(task); });
}
CommandResult Engine::add_dependency(const Request& by, const std::string& case_id, const std::string& item,
                                     const std::string& after) {
  ACM_COMMAND_WITH(Args(by, "add_dependency").id("the item id", item).id("the prerequisite item id", after),
                   d.add_dependency(item, after));
}
CommandResult Engine::remove_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "remove_item").id("the item id", item), d.remove_item(item));
}
CommandResult Engine::start_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "start_item").id("the item id", item), d.start_item(item));
}
CommandResult Engine::complete_item(const Request& by, const std::string& case_id, const std::string& item,
                                    const Json& output) {
  ACM_COMMAND_WITH(Args(by, "complete_item").id("the item id", item).json("the output", output),
                   d.complete_item(item, output));
}
CommandResult Engine::assign_item(const Request& by, const std::string& case_id, const std::string& item,
                                  const std::string& assignee) {
  ACM_COMMAND_WITH(Args(by, "assign_item").id("the item id", item).id("the assignee", assignee),
                   d.assign_item(item, assignee));
}
CommandResult Engine::terminate_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "terminate_item").id("the item id", item), d.terminate_item(item));
}
CommandResult Engine::suspend_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "suspend_item").id("the item id", item), d.suspend_item(item));
}
CommandResult Engine::resume_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "resume_item").id("the item id", item), d.resume_item(item));
}
CommandResult Engine::disable_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "disable_item").id("the item id", item), d.disable_item(item));
}
CommandResult Engine::reenable_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "reenable_item").id("the item id", item), d.reenable_item(item));
}
CommandResult Engine::reactivate_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "reactivate_item").id("the item id", item), d.reactivate_item(item));
}
CommandResult Engine::occur(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "occur").id("the item id", item), d.occur(item));
}
CommandResult Engine::set_file(const Request& by, const std::string& case_id, const std::string& path, const Json& value) {
  ACM_COMMAND_WITH(Args(by, "set_file").id("the case-file path", path).json("the value", value),
                   d.set_file(path, value));
}
CommandResult Engine::remove_file(const Request& by, const std::string& case_id, const std::string& path) {
  ACM_COMMAND_WITH(Args(by, "remove_file").id("the case-file path", path), d.remove_file(path));
}
CommandResult Engine::attach(const Request& by, const std::string& case_id, const Asset& asset) {
  Args args(by, "attach");
  args.id("the asset id", asset.id).id("the asset kind", asset.kind).id("the asset title", asset.title);
  args.text("the asset uri", asset.uri).text("the asset text", asset.text).id("the media type", asset.media_type);
  args.json("the asset metadata", asset.metadata);
  return impl_->command(by, case_id, args, [&](Decider& d) { return d.attach(asset); });
}
CommandResult Engine::signal(const Request& by, const std::string& case_id, const std::string& name, const Json& payload) {
  ACM_COMMAND_WITH(Args(by, "signal").id("the event name", name).json("the event payload", payload),
                   d.signal(name, payload));
}

#undef ACM_COMMAND

std::optional<TimePoint> Engine::next_due() const { return impl_->next_due(); }

std::size_t Engine::run_due() { return impl_->run_due_at(impl_->clock->now()); }

const Clock& Engine::clock() const { return *impl_->clock; }

std::vector<FeedEntry> Engine::read_feed(const std::string& after, std::size_t limit) const {
  return impl_->store->read_feed(after, limit);
}

std::string Engine::feed_end() const { return impl_->store->feed_end(); }

std::vector<FeedEntry> Engine::wait_feed(const std::string& after, std::size_t limit,
                                         std::chrono::milliseconds timeout) const {
  const auto until = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    auto page = impl_->store->read_feed(after, limit);
    const auto now = std::chrono::steady_clock::now();
    if (!page.empty() || now >= until) return page;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, until - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

// ---- help desk: correlation ----------------------------------------------------------------

std::vector<std::string> Engine::open_cases_of(const std::string& customer, std::size_t limit) const {
  if (customer.empty() || limit == 0) return {};
  CaseQuery q;
  q.statuses = {CaseStatus::active, CaseStatus::suspended};
  q.customer = customer;
  q.limit = limit;
  std::vector<std::string> out;
  for (auto& c : impl_->store->find_cases(q).cases) out.push_back(std::move(c.id));
  return out;
}

// ---- beside the cases: templates and the intake log ------------------------------------------

Templates& Engine::templates() { return templates_; }
const Templates& Engine::templates() const { return templates_; }
IntakeLog& Engine::intake_log() { return intake_log_; }
const IntakeLog& Engine::intake_log() const { return intake_log_; }

namespace {

TemplateStore& template_store(Engine::Impl& im) {
  TemplateStore* t = im.store->templates();
  if (!t) throw Error(ErrorCode::invalid_state, "the engine's store keeps no templates");
  return *t;
}

IntakeLogStore& intake_store(Engine::Impl& im) {
  IntakeLogStore* t = im.store->intake_log();
  if (!t) throw Error(ErrorCode::invalid_state, "the engine's store keeps no intake log");
  return *t;
}

}  // namespace

int Templates::put(const std::string& name, const std::string& kind, const Json& meta, const std::string& data) {
  auto& im = *engine_->impl_;
  model::check_nesting(meta, "template meta");  // before the copy below recurses into it
  im.require_writable();
  model::check_text(name, "the template name");
  model::check_text(kind, "the template kind");
  model::check_json_text(meta, "the template's meta data");
  TemplateInfo info;
  info.name = name;
  info.kind = kind;
  info.meta = meta;
  info.created_at = im.clock->now();
  return template_store(im).put(info, data);
}

std::pair<TemplateInfo, std::string> Templates::get(const std::string& name, int version) const {
  auto r = template_store(*engine_->impl_).find(name, version);
  if (!r)
    throw Error(ErrorCode::not_found, version ? fmt::format("no template '{}' version {}", name, version)
                                              : fmt::format("no template '{}'", name));
  return std::move(*r);
}

std::vector<TemplateInfo> Templates::list() const { return template_store(*engine_->impl_).list(); }

void IntakeLog::append(std::vector<IntakeLogEntry>& entries) {
  auto& im = *engine_->impl_;
  im.require_writable();
  for (const IntakeLogEntry& e : entries) {
    if (e.action.empty()) throw Error(ErrorCode::invalid_argument, "an intake log entry needs an action");
    model::check_text(e.event_id, "an intake log entry's event id", model::TextKind::free);
    model::check_text(e.channel, "an intake log entry's channel", model::TextKind::free);
    model::check_text(e.customer, "an intake log entry's customer", model::TextKind::free);
    model::check_text(e.rule, "an intake log entry's rule", model::TextKind::free);
    model::check_text(e.action, "an intake log entry's action", model::TextKind::free);
    model::check_text(e.case_id, "an intake log entry's case id", model::TextKind::free);
    model::check_text(e.reason, "an intake log entry's reason", model::TextKind::free);
    model::check_nesting(e.event, "an intake log entry's event");
    model::check_json_text(e.event, "an intake log entry's event");
  }
  intake_store(im).append(entries);
}

std::vector<IntakeLogEntry> IntakeLog::of_event(const std::string& event_id) const {
  return intake_store(*engine_->impl_).of_event(event_id);
}

std::vector<IntakeLogEntry> IntakeLog::page(std::size_t limit, std::uint64_t after) const {
  if (limit > 10000) throw Error(ErrorCode::invalid_argument, "an intake log page holds at most 10000 entries");
  return intake_store(*engine_->impl_).page(limit, after);
}

}  // namespace acm
