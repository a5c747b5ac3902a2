// SPDX-License-Identifier: Apache-2.0
#include "runtime/state.hpp"

#include <acm/to_json.hpp>

#include <acm/error.hpp>

#include "model/names.hpp"
#include "runtime/env.hpp"
#include "runtime/events.hpp"
#include "runtime/json_path.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

namespace acm::runtime {

// ---- names ----------------------------------------------------------------------------

// Failed is not terminal: a failed item can be reactivated, or terminated with its stage.
bool is_terminal(ItemState s) { return s == ItemState::completed || s == ItemState::terminated; }

namespace {
constexpr std::string_view kItemStates[] = {"available", "enabled",   "disabled",   "active",
                                            "suspended", "completed", "terminated", "failed"};
}

std::optional<ItemState> parse_item_state(std::string_view s) {
  for (std::size_t i = 0; i < std::size(kItemStates); ++i)
    if (kItemStates[i] == s) return static_cast<ItemState>(i);
  return std::nullopt;
}

}  // namespace acm::runtime

namespace acm {

std::string_view to_string(ItemState s) noexcept { return runtime::kItemStates[static_cast<int>(s)]; }

std::string_view to_string(CaseStatus s) noexcept {
  switch (s) {
    case CaseStatus::active: return "active";
    case CaseStatus::suspended: return "suspended";
    case CaseStatus::completed: return "completed";
    case CaseStatus::terminated: return "terminated";
    case CaseStatus::closed: return "closed";
  }
  return "?";
}

std::string_view to_string(GoalStatus s) noexcept {
  switch (s) {
    case GoalStatus::open: return "open";
    case GoalStatus::achieved: return "achieved";
    case GoalStatus::cancelled: return "cancelled";
  }
  return "?";
}

std::string_view to_string(PromiseStatus s) noexcept {
  switch (s) {
    case PromiseStatus::open: return "open";
    case PromiseStatus::kept: return "kept";
    case PromiseStatus::broken: return "broken";
    case PromiseStatus::cancelled: return "cancelled";
  }
  return "?";
}

std::string_view to_string(Timing t) noexcept {
  switch (t) {
    case Timing::on_track: return "on_track";
    case Timing::at_risk: return "at_risk";
    case Timing::overdue: return "overdue";
  }
  return "?";
}

}  // namespace acm

namespace acm::runtime {

namespace {

Item& must_item(CaseState& s, const std::string& id) {
  Item* it = s.find_item(id);
  if (!it) throw Error(ErrorCode::internal, fmt::format("event refers to unknown item '{}' in case '{}'", id, s.id));
  return *it;
}

Goal& must_goal(CaseState& s, const std::string& id) {
  Goal* g = s.find_goal(id);
  if (!g) throw Error(ErrorCode::internal, fmt::format("event refers to unknown goal '{}' in case '{}'", id, s.id));
  return *g;
}

void init_flags(Item& it) {
  it.entry_flags.clear();
  it.exit_flags.clear();
  for (const auto& s : it.def->entry) it.entry_flags.emplace_back(s.on_parts.size(), 0);
  for (const auto& s : it.def->exit) it.exit_flags.emplace_back(s.on_parts.size(), 0);
}

// Marks on-parts matching an occurrence on every item that listens for it.
template <class Match>
void mark(CaseState& s, const std::string& frag_root, bool same_fragment_only, Match&& match) {
  for (auto& it : s.items) {
    if (is_terminal(it.state)) continue;
    if (same_fragment_only && (frag_root.empty() || it.frag_root != frag_root)) continue;
    if (it.state == ItemState::available) {
      for (std::size_t i = 0; i < it.def->entry.size(); ++i) {
        const auto& ops = it.def->entry[i].on_parts;
        for (std::size_t k = 0; k < ops.size(); ++k)
          if (match(ops[k])) it.entry_flags[i][k] = 1;
      }
    }
    for (std::size_t i = 0; i < it.def->exit.size(); ++i) {
      const auto& ops = it.def->exit[i].on_parts;
      for (std::size_t k = 0; k < ops.size(); ++k)
        if (match(ops[k])) it.exit_flags[i][k] = 1;
    }
  }
}

void mark_goal(CaseState& s, const std::string& goal, std::string_view what) {
  mark(s, "", false, [&](const OnPart& op) {
    return op.source == OnPartSource::goal && op.ref == goal && (op.on.empty() || op.on == what);
  });
}

bool path_overlaps(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return true;
  auto prefix = [](std::string_view p, std::string_view full) {
    return full.size() >= p.size() && full.substr(0, p.size()) == p && (full.size() == p.size() || full[p.size()] == '.');
  };
  return prefix(a, b) || prefix(b, a);
}

void mark_file(CaseState& s, const std::string& path, std::string_view what) {
  mark(s, "", false, [&](const OnPart& op) {
    return op.source == OnPartSource::case_file && (op.on.empty() || op.on == what) && path_overlaps(op.ref, path);
  });
}

// Creates an instance of `def` as a child of `parent` (both in fragment instance `root`).
Item& create_item(CaseState& s, const CItem* def, const std::string& parent, const std::string& root,
                  const std::shared_ptr<const CFragment>& fragment, const std::string& goal, TimePoint time) {
  std::string base = root + "/" + def->def.id;
  int n = ++s.counters[base];
  Item it;
  it.id = n == 1 ? base : fmt::format("{}@{}", base, n);
  it.parent = parent;
  it.frag_root = root;
  it.fragment = fragment;
  it.def = def;
  it.goal = goal;
  it.repetition = n - 1;
  for (const auto& a : def->def.after) {
    std::string dep = root + "/" + a;
    auto c = s.counters.find(dep);
    if (c != s.counters.end() && c->second > 1) dep = fmt::format("{}@{}", dep, c->second);
    it.after.push_back(dep);
  }
  if (def->def.kind == ItemKind::timer_listener && def->def.timer) it.timer_at = time + *def->def.timer;
  if (def->def.kind == ItemKind::timer_listener && def->def.timer_date)
    it.timer_at = std::max(time, *def->def.timer_date);
  init_flags(it);
  s.items.push_back(std::move(it));
  s.item_index[s.items.back().id] = s.items.size() - 1;
  Item& created = s.items.back();
  CaseEnv env(s, time, &created);
  created.required = eval_condition(def->required, env, false);
  return created;
}

void create_children(CaseState& s, const Item& stage_ref, TimePoint time) {
  // Copy what we need: create_item reallocates s.items.
  const std::string stage_id = stage_ref.id;
  const std::string root = stage_ref.frag_root;
  const std::string goal = stage_ref.goal;
  const CItem* def = stage_ref.def;
  auto fragment = stage_ref.fragment;
  const auto& children = def == &fragment->stage ? fragment->items : def->children;
  for (const auto& child : children) create_item(s, child.get(), stage_id, root, fragment, goal, time);
}

// Marks the on-parts of items [first, end) that match the `seen` (definition id, transition)
// pairs of a cmmn stage's activation: the item transitions earlier in the same command.
void mark_seen(CaseState& s, std::size_t first, const Json& seen) {
  auto match = [&](const OnPart& op) {
    if (op.source != OnPartSource::item) return false;
    for (const Json& pair : seen)
      if (pair.at(0).get_ref<const std::string&>() == op.ref && pair.at(1).get_ref<const std::string&>() == op.on)
        return true;
    return false;
  };
  for (std::size_t n = first; n < s.items.size(); ++n) {
    Item& it = s.items[n];
    for (std::size_t i = 0; i < it.def->entry.size(); ++i)
      for (std::size_t k = 0; k < it.def->entry[i].on_parts.size(); ++k)
        if (match(it.def->entry[i].on_parts[k])) it.entry_flags[i][k] = 1;
    for (std::size_t i = 0; i < it.def->exit.size(); ++i)
      for (std::size_t k = 0; k < it.def->exit[i].on_parts.size(); ++k)
        if (match(it.def->exit[i].on_parts[k])) it.exit_flags[i][k] = 1;
  }
}

void remove_item_tree(CaseState& s, const std::string& id) {
  std::unordered_set<std::string> doomed{id};
  bool grew = true;
  while (grew) {
    grew = false;
    for (const auto& it : s.items)
      if (!doomed.count(it.id) && doomed.count(it.parent)) {
        doomed.insert(it.id);
        grew = true;
      }
  }
  s.items.erase(std::remove_if(s.items.begin(), s.items.end(), [&](const Item& it) { return doomed.count(it.id) > 0; }),
                s.items.end());
  for (auto& it : s.items)
    it.after.erase(std::remove_if(it.after.begin(), it.after.end(), [&](const std::string& a) { return doomed.count(a) > 0; }),
                   it.after.end());
  s.reindex();
}

}  // namespace

Item* CaseState::find_item(const std::string& id) {
  auto it = item_index.find(id);
  return it == item_index.end() ? nullptr : &items[it->second];
}
const Item* CaseState::find_item(const std::string& id) const {
  auto it = item_index.find(id);
  return it == item_index.end() ? nullptr : &items[it->second];
}
Goal* CaseState::find_goal(const std::string& id) {
  for (auto& g : goals)
    if (g.spec.id == id) return &g;
  return nullptr;
}
Timing parse_timing(const std::string& s) {
  for (auto c : {Timing::on_track, Timing::at_risk, Timing::overdue})
    if (to_string(c) == s) return c;
  throw Error(ErrorCode::internal, "unknown timing in event: " + s);
}

Promise* CaseState::find_promise(const std::string& id) {
  for (auto& x : promises)
    if (x.id == id) return &x;
  return nullptr;
}
const Goal* CaseState::find_goal(const std::string& id) const {
  for (const auto& g : goals)
    if (g.spec.id == id) return &g;
  return nullptr;
}
const Participant* CaseState::participant(const std::string& actor) const {
  for (const auto& p : participants)
    if (p.actor == actor) return &p;
  return nullptr;
}
void CaseState::ensure_links() {
  if (!links_dirty) return;
  if (relink_all || linked > items.size()) {
    linked = 0;
    def_lists.clear();
    def_list_of.clear();
    unresolved.clear();
    relink_all = false;
  }
  // The list of items of fragment instance `root` with definition `def` (created empty when
  // none exists yet: items created later join it, and listeners see them without a relink).
  // Definition ids hold no '\x1f'.
  std::string key;
  auto list_of = [&](const std::string& root, const std::string& def) {
    key = root;
    key += '\x1f';
    key += def;
    auto [pos, added] = def_list_of.try_emplace(key, def_lists.size());
    if (added) def_lists.emplace_back();
    return pos->second;
  };
  auto resolve_after = [&](Item& it) {
    bool waiting = false;
    it.after_idx.resize(it.after.size(), Item::npos);
    for (std::size_t k = 0; k < it.after.size(); ++k) {
      if (it.after_idx[k] != Item::npos) continue;
      auto p = item_index.find(it.after[k]);
      // An item not created yet (inside a stage that has not started) is waited for.
      if (p != item_index.end())
        it.after_idx[k] = p->second;
      else
        waiting = true;
    }
    return waiting;
  };
  // Items created earlier that wait for an `after` item: resolved as those appear.
  if (linked > 0 && !unresolved.empty()) {
    std::erase_if(unresolved, [&](std::size_t i) { return !resolve_after(items[i]); });
  }
  for (std::size_t i = linked; i < items.size(); ++i) {
    Item& it = items[i];
    it.parent_idx = Item::npos;
    if (!it.parent.empty())
      if (auto p = item_index.find(it.parent); p != item_index.end()) it.parent_idx = p->second;
    it.after_idx.clear();
    if (resolve_after(it)) unresolved.push_back(i);
    def_lists[list_of(it.frag_root, it.def->def.id)].push_back(i);
    it.onpart_lists.clear();
    if (!it.def->has_item_onparts) continue;
    for (const auto& sentry : it.def->entry)
      for (const auto& op : sentry.on_parts)
        if (op.source == OnPartSource::item) it.onpart_lists.push_back(list_of(it.frag_root, op.ref));
  }
  linked = items.size();
  links_dirty = false;
}

void CaseState::reindex() {
  links_dirty = true;
  relink_all = true;
  item_index.clear();
  for (std::size_t i = 0; i < items.size(); ++i) item_index[items[i].id] = i;
}

namespace {

// A goal-, promise- or item-naming event whose target does not exist: the log is inconsistent.
[[noreturn]] void unknown_promise(const Event& e) {
  throw Error(ErrorCode::internal, fmt::format("event {} names unknown promise", e.seq));
}

Promise& must_promise(CaseState& s, const Event& e, const std::string& id) {
  Promise* x = s.find_promise(id);
  if (!x) unknown_promise(e);
  return *x;
}

Item& push_item(CaseState& s, Item it) {
  s.items.push_back(std::move(it));
  s.item_index[s.items.back().id] = s.items.size() - 1;
  return s.items.back();
}

// The fold step for each kind (events.hpp defines the payloads).
void fold(CaseState& s, const Event& e, const events::ItemTransition& t) {
  Item& it = must_item(s, t.item);
  const ItemState from = it.state;
  it.state = t.to;
  if (t.to == ItemState::active && (from == ItemState::available || from == ItemState::enabled)) {
    it.activated_at = e.time;
    it.due = t.due;
    if (it.def->def.kind == ItemKind::stage) {
      const std::size_t first = s.items.size();
      create_children(s, it, e.time);
      if (t.seen) mark_seen(s, first, *t.seen);
    }
  }
  Item& again = must_item(s, t.item);  // create_children may reallocate
  if (is_terminal(t.to)) {
    again.ended_at = e.time;
    again.timer_at.reset();
  }
  if (t.to == ItemState::completed && again.def->def.kind == ItemKind::milestone) again.ended_at = e.time;
  const std::string& def_id = again.def->def.id;
  const std::string root = again.frag_root;
  mark(s, root, true, [&](const OnPart& op) {
    return op.source == OnPartSource::item && op.ref == def_id && op.on == t.transition;
  });
}

void fold(CaseState& s, const Event& e, const FoldContext& ctx, events::CaseCreated c) {
  s.id = e.case_id;
  if (!c.type.empty()) {
    s.type = ctx.registry ? ctx.registry->case_type(c.type, c.type_version) : nullptr;
    if (!s.type)
      throw Error(ErrorCode::internal, fmt::format("case '{}' uses case type '{}' which is not registered", s.id, c.type));
  }
  s.title = std::move(c.title);
  s.subject = std::move(c.subject);
  s.owner = std::move(c.owner);
  s.priority = c.priority;
  s.priority_base = s.priority;
  for (auto& part : c.participants) s.participants.push_back(std::move(part));
  s.file = std::move(c.file);
  s.created_at = e.time;
  s.status = CaseStatus::active;
}

void fold(CaseState& s, const FoldContext& ctx, events::FragmentAdded f) {
  auto frag = ctx.registry ? ctx.registry->fragment(f.fragment, f.version) : nullptr;
  if (!frag)
    throw Error(ErrorCode::internal, fmt::format("case '{}' uses fragment {} v{} which is not registered", s.id,
                                                 f.fragment, f.version));
  Item it;
  it.id = std::move(f.item);
  it.frag_root = it.id;
  it.fragment = frag;
  it.def = &frag->stage;
  it.goal = std::move(f.goal);
  it.params = std::move(f.params);
  it.after = std::move(f.after);
  init_flags(it);
  push_item(s, std::move(it));
  s.counters["fragment:" + frag->def.id]++;
}

void fold(CaseState& s, events::TaskAdded t) {
  Item it;
  it.id = std::move(t.item);
  it.owned_def = compile_adhoc(adhoc_from_json(t.task), it.id);
  it.adhoc_spec = std::move(t.task);
  it.def = it.owned_def.get();
  it.goal = std::move(t.goal);
  it.assignee = std::move(t.assignee);
  it.required = t.required;
  it.after = std::move(t.after);
  init_flags(it);
  push_item(s, std::move(it));
  s.counters["task"]++;
}

void fold(CaseState& s, const Event& e, const events::ItemCreated& c) {
  const Item& proto = must_item(s, c.like);
  const CItem* def = proto.def;
  auto fragment = proto.fragment;
  auto owned = proto.owned_def;
  std::string parent = proto.parent, root = proto.frag_root, goal = proto.goal;
  if (owned) {
    // Ad-hoc items repeat with their own definition.
    Item it;
    it.id = c.item;
    it.owned_def = owned;
    it.adhoc_spec = proto.adhoc_spec;
    it.def = owned.get();
    it.goal = goal;
    it.repetition = c.repetition;
    init_flags(it);
    push_item(s, std::move(it));
  } else {
    Item& created = create_item(s, def, parent, root, fragment, goal, e.time);
    if (created.id != c.item)
      throw Error(ErrorCode::internal,
                  fmt::format("replayed repetition got id '{}', event says '{}'", created.id, c.item));
  }
}

void fold(CaseState& s, const events::GoalChanged& c) {
  Goal& g = must_goal(s, c.goal);
  if (c.name) g.spec.name = *c.name;
  if (c.owner) g.spec.owner = *c.owner;
  if (c.required) g.spec.required = *c.required;
  if (c.deadline) g.deadline = *c.deadline;
  if (c.criterion) {
    g.spec.criterion = *c.criterion;
    g.criterion = g.spec.criterion.empty() ? expr::Expression()
                                           : expr::Expression::parse(g.spec.criterion, model::engine_parse_options());
  }
  if (c.milestones) g.spec.milestones = *c.milestones;
  mark_goal(s, g.spec.id, "changed");
}

void fold(CaseState& s, const events::ParticipantAdded& a) {
  auto it = std::find_if(s.participants.begin(), s.participants.end(),
                         [&](const Participant& x) { return x.actor == a.actor; });
  if (it == s.participants.end()) {
    s.participants.push_back(Participant{a.actor, a.roles});
  } else {
    for (auto& r : a.roles)
      if (std::find(it->roles.begin(), it->roles.end(), r) == it->roles.end()) it->roles.push_back(r);
  }
}

// Dispatches on the kind: each case reads its payload (events::X::read, checked) and folds it.
void apply_unchecked(CaseState& s, const Event& e, const FoldContext& ctx) {
  using events::Kind;
  const std::size_t items_before = s.items.size();
  const auto kind = events::kind_of(e.kind);
  if (!kind) throw Error(ErrorCode::internal, fmt::format("unknown event kind '{}' in case '{}'", e.kind, s.id));
  const events::Payload p(e);
  switch (*kind) {
    case Kind::case_created: fold(s, e, ctx, events::CaseCreated::read(p)); break;
    case Kind::owner_changed: s.owner = events::OwnerChanged::read(p).to; break;
    case Kind::participant_added: fold(s, events::ParticipantAdded::read(p)); break;
    case Kind::participant_removed: {
      const std::string actor = events::ParticipantRemoved::read(p).actor;
      std::erase_if(s.participants, [&](const Participant& x) { return x.actor == actor; });
      break;
    }
    case Kind::priority_changed: {
      const auto c = events::PriorityChanged::read(p);
      s.priority = c.to;
      if (c.base) s.priority_base = *c.base;
      break;
    }
    case Kind::subject_changed: {
      auto c = events::SubjectChanged::read(p);
      s.subject.attributes[c.key] = std::move(c.value);
      mark_file(s, "subject." + c.key, "set");
      break;
    }
    case Kind::case_status: {
      const CaseStatus from = s.status;
      s.status = events::CaseStatusChanged::read(p).to;
      // A reopened case stays open until a goal is achieved or added again, even though its
      // required goals were achieved before.
      if (s.status == CaseStatus::active && from != CaseStatus::suspended) s.hold_open = true;
      break;
    }
    case Kind::goal_added: {
      auto c = events::GoalAdded::read(p);
      Goal g;
      g.spec = std::move(c.goal);
      g.deadline = c.deadline;
      if (!g.spec.criterion.empty()) g.criterion = expr::Expression::parse(g.spec.criterion, model::engine_parse_options());
      if (g.spec.required) s.hold_open = false;  // a new required goal: completion is about it now
      s.goals.push_back(std::move(g));
      mark_goal(s, s.goals.back().spec.id, "added");
      break;
    }
    case Kind::goal_changed: fold(s, events::GoalChanged::read(p)); break;
    case Kind::goal_status: {
      const auto c = events::GoalStatusChanged::read(p);
      Goal& g = must_goal(s, c.goal);
      g.status = c.to;
      g.achieved_at = g.status == GoalStatus::achieved ? std::optional<TimePoint>(e.time) : std::nullopt;
      if (g.status == GoalStatus::achieved && g.spec.required) s.hold_open = false;
      mark_goal(s, g.spec.id, to_string(c.to));
      break;
    }
    case Kind::goal_timing: {
      const auto c = events::GoalTiming::read(p);
      Goal& g = must_goal(s, c.goal);
      g.timing = c.to;
      mark_goal(s, g.spec.id, to_string(c.to));
      break;
    }
    case Kind::goal_paused: must_goal(s, events::GoalPaused::read(p).goal).paused_since = e.time; break;
    case Kind::goal_resumed: {
      const auto c = events::GoalResumed::read(p);
      Goal& g = must_goal(s, c.goal);
      g.paused_since.reset();
      g.deadline = c.deadline;
      break;
    }
    case Kind::promise_made: {
      auto c = events::PromiseMade::read(p);
      Promise x;
      x.id = std::move(c.id);
      x.what = std::move(c.what);
      x.due = c.due;
      s.promises.push_back(std::move(x));
      break;
    }
    case Kind::promise_timing: {
      const auto c = events::PromiseTiming::read(p);
      Promise& x = must_promise(s, e, c.promise);
      x.timing = c.to;
      x.expected = c.expected;
      break;
    }
    case Kind::promise_kept: must_promise(s, e, events::PromiseKept::read(p).promise).status = PromiseStatus::kept; break;
    case Kind::promise_broken:
      must_promise(s, e, events::PromiseBroken::read(p).promise).status = PromiseStatus::broken;
      break;
    case Kind::promise_cancelled:
      must_promise(s, e, events::PromiseCancelled::read(p).promise).status = PromiseStatus::cancelled;
      break;
    case Kind::fragment_added: fold(s, ctx, events::FragmentAdded::read(p)); break;
    case Kind::task_added: fold(s, events::TaskAdded::read(p)); break;
    case Kind::item_created: fold(s, e, events::ItemCreated::read(p)); break;
    case Kind::item_removed: remove_item_tree(s, events::ItemRemoved::read(p).item); break;
    case Kind::dependency_added: {
      auto c = events::DependencyAdded::read(p);
      must_item(s, c.item).after.push_back(std::move(c.after));
      break;
    }
    case Kind::item_transition: fold(s, e, events::ItemTransition::read(p)); break;
    case Kind::item_assigned: {
      auto c = events::ItemAssigned::read(p);
      must_item(s, c.item).assignee = std::move(c.to);
      break;
    }
    case Kind::item_overdue: must_item(s, events::ItemOverdue::read(p).item).overdue = true; break;
    case Kind::file_set: {
      auto c = events::FileSet::read(p);
      json_path::set(s.file, c.path, std::move(c.value));
      mark_file(s, c.path, "set");
      break;
    }
    case Kind::file_removed: {
      const auto c = events::FileRemoved::read(p);
      json_path::remove(s.file, c.path);
      mark_file(s, c.path, "removed");
      break;
    }
    case Kind::asset_attached:
      s.assets.push_back(events::AssetAttached::read(p).asset);
      s.counters["asset"]++;
      mark_file(s, "assets", "set");
      break;
    case Kind::signal: {
      const std::string name = events::Signal::read(p).name;
      mark(s, "", false, [&](const OnPart& op) { return op.source == OnPartSource::event && op.ref == name; });
      break;
    }
    case Kind::escalated: {
      const auto c = events::Escalated::read(p);
      ++s.escalations[c.rule + "|" + c.target];
      break;
    }
    case Kind::error: events::ErrorRecorded::read(p); break;  // recorded only
    case Kind::note: events::Note::read(p); break;             // recorded only
  }
  const bool rewired = *kind == Kind::dependency_added || *kind == Kind::item_removed;
  if (s.items.size() != items_before || rewired) s.links_dirty = true;
  if (rewired || s.items.size() < items_before) s.relink_all = true;
  s.version = e.seq;
}

}  // namespace

void apply(CaseState& s, const Event& e, const FoldContext& ctx) {
  try {
    apply_unchecked(s, e, ctx);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& ex) {  // a value of the wrong type, a malformed time, ...
    throw Error(ErrorCode::internal,
                fmt::format("event {} ('{}') of case '{}' cannot be applied: {}", e.seq, e.kind, e.case_id, ex.what()));
  }
}

Json asset_json(const Asset& a) { return acm::to_json(a); }

Json state_to_json(const CaseState& s) {
  Json j;
  j["id"] = s.id;
  j["type"] = s.type ? s.type->def.id : "";
  j["type_version"] = s.type ? s.type->def.version : 0;
  j["title"] = s.title;
  j["subject"] = {{"customer", s.subject.customer}, {"attributes", s.subject.attributes}};
  j["owner"] = s.owner;
  Json parts = Json::array();
  for (const auto& p : s.participants) parts.push_back({{"actor", p.actor}, {"roles", p.roles}});
  j["participants"] = parts;
  j["priority"] = s.priority;
  j["status"] = to_string(s.status);
  j["file"] = s.file;
  Json assets = Json::array();
  for (const auto& a : s.assets)
    assets.push_back(asset_json(a));
  j["assets"] = assets;
  Json goals = Json::array();
  for (const auto& g : s.goals) {
    Json gj = goal_json(g);
    gj["spec"] = events::goal_spec_json(g.spec);
    gj["achieved_at"] = g.achieved_at ? Json(format_time(*g.achieved_at)) : Json();
    gj["paused_since"] = g.paused_since ? Json(format_time(*g.paused_since)) : Json();
    goals.push_back(gj);
  }
  j["goals"] = goals;
  Json promises = Json::array();
  for (const auto& x : s.promises)
    promises.push_back({{"id", x.id}, {"what", x.what}, {"due", format_time(x.due)}, {"status", to_string(x.status)},
                        {"timing", to_string(x.timing)},
                        {"expected", x.expected ? Json(format_time(*x.expected)) : Json()}});
  j["promises"] = promises;
  j["priority_base"] = s.priority_base;
  j["escalations"] = s.escalations;
  Json items = Json::array();
  auto t = [](const std::optional<TimePoint>& tp) { return tp ? Json(format_time(*tp)) : Json(); };
  for (const auto& i : s.items) {
    Json ij = item_json(i);
    ij["parent"] = i.parent;
    ij["frag_root"] = i.frag_root;
    ij["fragment"] = i.fragment ? i.fragment->def.id : "";
    ij["fragment_version"] = i.fragment ? i.fragment->def.version : 0;
    ij["goal"] = i.goal;
    ij["after"] = i.after;
    ij["params"] = i.params;
    ij["overdue"] = i.overdue;
    ij["activated_at"] = t(i.activated_at);
    ij["ended_at"] = t(i.ended_at);
    ij["due"] = t(i.due);
    ij["timer_at"] = t(i.timer_at);
    ij["entry_flags"] = i.entry_flags;
    ij["exit_flags"] = i.exit_flags;
    items.push_back(ij);
  }
  j["items"] = items;
  j["counters"] = s.counters;
  j["hold_open"] = s.hold_open;
  j["version"] = s.version;
  j["created_at"] = format_time(s.created_at);
  return j;
}

CaseInfo to_info(const CaseState& s) {
  CaseInfo c;
  c.id = s.id;
  c.type = s.type ? s.type->def.id : "";
  c.type_version = s.type ? s.type->def.version : 0;
  c.title = s.title;
  c.subject = s.subject;
  c.owner = s.owner;
  c.participants = s.participants;
  c.priority = s.priority;
  c.status = s.status;
  c.file = s.file;
  c.assets = s.assets;
  c.version = s.version;
  c.created_at = s.created_at;
  auto consider = [&](std::optional<TimePoint> t) {
    if (t && (!c.next_deadline || *t < *c.next_deadline)) c.next_deadline = t;
  };
  for (const auto& g : s.goals) {
    GoalInfo gi;
    gi.id = g.spec.id;
    gi.name = g.spec.name;
    gi.owner = g.spec.owner.empty() ? s.owner : g.spec.owner;
    gi.parent = g.spec.parent;
    gi.required = g.spec.required;
    gi.status = g.status;
    gi.timing = g.timing;
    gi.deadline = g.deadline;
    gi.criterion = g.spec.criterion;
    gi.milestones = g.spec.milestones;
    gi.decision = g.spec.decision;
    gi.achieved_at = g.achieved_at;
    gi.remaining_work = g.remaining_work;
    gi.paused_since = g.paused_since;
    if (g.status == GoalStatus::open && !g.paused_since) consider(g.deadline);
    c.goals.push_back(std::move(gi));
  }
  for (const auto& i : s.items) {
    PlanItemInfo pi;
    pi.id = i.id;
    pi.def_id = i.def->def.id;
    pi.name = i.def->def.name.empty() ? i.def->def.id : i.def->def.name;
    pi.kind = i.def->def.kind;
    pi.state = i.state;
    pi.parent = i.parent;
    pi.fragment = i.fragment ? i.fragment->def.id : "";
    pi.fragment_version = i.fragment ? i.fragment->def.version : 0;
    pi.goal = i.goal;
    pi.role = i.def->def.role;
    pi.skills = i.def->def.skills;
    pi.assignee = i.assignee;
    pi.estimate = i.def->def.estimate;
    pi.due = i.due;
    pi.required = i.required;
    pi.manual = !i.def->manual.empty();
    pi.repetition = i.repetition;
    pi.after = i.after;
    pi.activated_at = i.activated_at;
    pi.ended_at = i.ended_at;
    if (!is_terminal(i.state)) consider(i.due);
    c.items.push_back(std::move(pi));
  }
  for (const auto& x : s.promises) {
    c.promises.push_back(PromiseInfo{x.id, x.what, x.due, x.status, x.timing, x.expected});
    if (x.status == PromiseStatus::open) consider(x.due);
  }
  return c;
}

}  // namespace acm::runtime
