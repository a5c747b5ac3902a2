// SPDX-License-Identifier: Apache-2.0
#include "runtime/state.hpp"

#include <acm/to_json.hpp>

#include <acm/error.hpp>

#include "model/names.hpp"
#include "runtime/env.hpp"
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

CaseStatus parse_case_status(const std::string& s) {
  for (auto c : {CaseStatus::active, CaseStatus::suspended, CaseStatus::completed, CaseStatus::terminated,
                 CaseStatus::closed})
    if (to_string(c) == s) return c;
  throw Error(ErrorCode::internal, "unknown case status in event: " + s);
}

GoalStatus parse_goal_status(const std::string& s) {
  for (auto c : {GoalStatus::open, GoalStatus::achieved, GoalStatus::cancelled})
    if (to_string(c) == s) return c;
  throw Error(ErrorCode::internal, "unknown goal status in event: " + s);
}


std::optional<TimePoint> opt_time(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return parse_time(it->get<std::string>());
}

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

GoalSpec goal_from_json(const Json& j) {
  GoalSpec g;
  g.id = j.value("id", "");
  g.name = j.value("name", "");
  g.owner = j.value("owner", "");
  g.parent = j.value("parent", "");
  g.required = j.value("required", true);
  g.criterion = j.value("criterion", "");
  if (j.contains("milestones")) g.milestones = j["milestones"].get<std::vector<std::string>>();
  g.decision = j.value("decision", false);
  return g;
}

}  // namespace

Json goal_spec_json(const GoalSpec& g) {
  Json j{{"id", g.id}, {"name", g.name}, {"owner", g.owner}, {"parent", g.parent}, {"required", g.required},
         {"criterion", g.criterion}, {"milestones", g.milestones}, {"decision", g.decision}};
  return j;
}

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

// An event's payload read with checks: it must be an object, and a key that is read must be
// there (nlohmann's const operator[] on a missing key is undefined behaviour). A failure is an
// Error(internal) naming the event; reading a stored case turns it into Error(storage).
class Payload {
 public:
  explicit Payload(const Event& e) : e_(e) {
    if (!e.payload.is_object()) fail("is not a JSON object");
  }
  const Json& operator[](const char* key) const {
    auto it = e_.payload.find(key);
    if (it == e_.payload.end()) fail(fmt::format("has no '{}'", key));
    return *it;
  }
  bool contains(const char* key) const { return e_.payload.contains(key); }
  template <class T>
  auto value(const char* key, T&& fallback) const {
    return e_.payload.value(key, std::forward<T>(fallback));
  }
  operator const Json&() const { return e_.payload; }  // NOLINT(google-explicit-constructor)

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ErrorCode::internal,
                fmt::format("event {} ('{}') of case '{}': the payload {}", e_.seq, e_.kind, e_.case_id, what));
  }
  const Event& e_;
};

void apply_unchecked(CaseState& s, const Event& e, const FoldContext& ctx) {
  const std::size_t items_before = s.items.size();
  const Payload p(e);
  const std::string& k = e.kind;
  if (k == "item_transition") {
    const std::string& item_id = p["item"].get_ref<const std::string&>();
    Item& it = must_item(s, item_id);
    ItemState from = it.state;
    auto to = parse_item_state(p["to"].get_ref<const std::string&>());
    if (!to) throw Error(ErrorCode::internal, "bad item state in event");
    it.state = *to;
    if (*to == ItemState::active && (from == ItemState::available || from == ItemState::enabled)) {
      it.activated_at = e.time;
      it.due = opt_time(p, "due");
      if (it.def->def.kind == ItemKind::stage) {
        const std::size_t first = s.items.size();
        create_children(s, it, e.time);
        if (p.contains("seen") && p["seen"].is_array()) mark_seen(s, first, p["seen"]);
      }
    }
    Item& again = must_item(s, item_id);  // create_children may reallocate
    if (is_terminal(*to)) {
      again.ended_at = e.time;
      again.timer_at.reset();
    }
    if (*to == ItemState::completed && again.def->def.kind == ItemKind::milestone) again.ended_at = e.time;
    const std::string& transition = p["transition"].get_ref<const std::string&>();
    const std::string& def_id = again.def->def.id;
    const std::string root = again.frag_root;
    mark(s, root, true, [&](const OnPart& op) {
      return op.source == OnPartSource::item && op.ref == def_id && op.on == transition;
    });
  } else if (k == "file_set") {
    std::string path = p["path"].get<std::string>();
    json_path::set(s.file, path, p["value"]);
    mark_file(s, path, "set");
  } else if (k == "file_removed") {
    std::string path = p["path"].get<std::string>();
    json_path::remove(s.file, path);
    mark_file(s, path, "removed");
  } else if (k == "signal") {
    std::string name = p["name"].get<std::string>();
    mark(s, "", false, [&](const OnPart& op) { return op.source == OnPartSource::event && op.ref == name; });
  } else if (k == "item_assigned") {
    must_item(s, p["item"].get<std::string>()).assignee = p["to"].get<std::string>();
  } else if (k == "item_overdue") {
    must_item(s, p["item"].get<std::string>()).overdue = true;
  } else if (k == "goal_timing") {
    Goal& g = must_goal(s, p["goal"].get<std::string>());
    g.timing = parse_timing(p["to"].get<std::string>());
    mark_goal(s, g.spec.id, p["to"].get<std::string>());
  } else if (k == "goal_status") {
    Goal& g = must_goal(s, p["goal"].get<std::string>());
    g.status = parse_goal_status(p["to"].get<std::string>());
    g.achieved_at = g.status == GoalStatus::achieved ? std::optional<TimePoint>(e.time) : std::nullopt;
    if (g.status == GoalStatus::achieved && g.spec.required) s.hold_open = false;
    mark_goal(s, g.spec.id, p["to"].get<std::string>());
  } else if (k == "fragment_added") {
    auto frag = ctx.registry ? ctx.registry->fragment(p["fragment"].get<std::string>(), p["version"].get<int>()) : nullptr;
    if (!frag)
      throw Error(ErrorCode::internal, fmt::format("case '{}' uses fragment {} v{} which is not registered", s.id,
                                                   p["fragment"].get<std::string>(), p["version"].get<int>()));
    Item it;
    it.id = p["item"].get<std::string>();
    it.frag_root = it.id;
    it.parent = p.value("parent", "");  // a planning table's stage, or the top of the case
    it.fragment = frag;
    it.def = &frag->stage;
    it.goal = p.value("goal", "");
    it.params = p.value("params", Json::object());
    if (p.contains("after")) it.after = p["after"].get<std::vector<std::string>>();
    init_flags(it);
    s.items.push_back(std::move(it));
    s.item_index[s.items.back().id] = s.items.size() - 1;
    s.counters["fragment:" + frag->def.id]++;
  } else if (k == "task_added") {
    Item it;
    it.id = p["item"].get<std::string>();
    it.adhoc_spec = p["task"];
    it.owned_def = compile_adhoc(adhoc_from_json(p["task"]), it.id);
    it.def = it.owned_def.get();
    it.goal = p.value("goal", "");
    it.assignee = p.value("assignee", "");
    it.required = p.value("required", false);
    if (p.contains("after")) it.after = p["after"].get<std::vector<std::string>>();
    init_flags(it);
    s.items.push_back(std::move(it));
    s.item_index[s.items.back().id] = s.items.size() - 1;
    s.counters["task"]++;
  } else if (k == "item_created") {
    const Item& proto = must_item(s, p["like"].get<std::string>());
    const CItem* def = proto.def;
    auto fragment = proto.fragment;
    auto owned = proto.owned_def;
    std::string parent = proto.parent, root = proto.frag_root, goal = proto.goal;
    if (owned) {
      // Ad-hoc items repeat with their own definition.
      Item it;
      it.id = p["item"].get<std::string>();
      it.owned_def = owned;
      it.adhoc_spec = proto.adhoc_spec;
      it.def = owned.get();
      it.goal = goal;
      it.repetition = p.value("repetition", 0);
      init_flags(it);
      s.items.push_back(std::move(it));
      s.item_index[s.items.back().id] = s.items.size() - 1;
    } else {
      Item& created = create_item(s, def, parent, root, fragment, goal, e.time);
      if (created.id != p["item"].get<std::string>())
        throw Error(ErrorCode::internal, fmt::format("replayed repetition got id '{}', event says '{}'", created.id,
                                                     p["item"].get<std::string>()));
    }
  } else if (k == "item_removed") {
    remove_item_tree(s, p["item"].get<std::string>());
  } else if (k == "dependency_added") {
    must_item(s, p["item"].get<std::string>()).after.push_back(p["after"].get<std::string>());
  } else if (k == "goal_added") {
    Goal g;
    g.spec = goal_from_json(p["goal"]);
    g.deadline = opt_time(p, "deadline");
    if (!g.spec.criterion.empty()) g.criterion = expr::Expression::parse(g.spec.criterion, model::engine_parse_options());
    if (g.spec.required) s.hold_open = false;  // a new required goal: completion is about it now
    s.goals.push_back(std::move(g));
    mark_goal(s, s.goals.back().spec.id, "added");
  } else if (k == "goal_changed") {
    Goal& g = must_goal(s, p["goal"].get<std::string>());
    const Json& c = p["changes"];
    if (c.contains("name")) g.spec.name = c["name"].get<std::string>();
    if (c.contains("owner")) g.spec.owner = c["owner"].get<std::string>();
    if (c.contains("required")) g.spec.required = c["required"].get<bool>();
    if (c.contains("deadline")) g.deadline = opt_time(c, "deadline");
    if (c.contains("criterion")) {
      g.spec.criterion = c["criterion"].get<std::string>();
      g.criterion = g.spec.criterion.empty() ? expr::Expression() : expr::Expression::parse(g.spec.criterion, model::engine_parse_options());
    }
    if (c.contains("milestones")) g.spec.milestones = c["milestones"].get<std::vector<std::string>>();
    mark_goal(s, g.spec.id, "changed");
  } else if (k == "case_status") {
    CaseStatus from = s.status;
    s.status = parse_case_status(p["to"].get<std::string>());
    // A reopened case stays open until a goal is achieved or added again, even though its
    // required goals were achieved before.
    if (s.status == CaseStatus::active && from != CaseStatus::suspended) s.hold_open = true;
  } else if (k == "owner_changed") {
    s.owner = p["to"].get<std::string>();
  } else if (k == "participant_added") {
    std::string actor = p["actor"].get<std::string>();
    auto roles = p["roles"].get<std::vector<std::string>>();
    auto it = std::find_if(s.participants.begin(), s.participants.end(), [&](const Participant& x) { return x.actor == actor; });
    if (it == s.participants.end()) {
      s.participants.push_back(Participant{actor, roles});
    } else {
      for (auto& r : roles)
        if (std::find(it->roles.begin(), it->roles.end(), r) == it->roles.end()) it->roles.push_back(r);
    }
  } else if (k == "participant_removed") {
    std::string actor = p["actor"].get<std::string>();
    std::erase_if(s.participants, [&](const Participant& x) { return x.actor == actor; });
  } else if (k == "priority_changed") {
    s.priority = p["to"].get<int>();
    if (p.contains("base")) s.priority_base = p["base"].get<int>();
  } else if (k == "goal_paused") {
    must_goal(s, p["goal"].get<std::string>()).paused_since = e.time;
  } else if (k == "goal_resumed") {
    Goal& g = must_goal(s, p["goal"].get<std::string>());
    g.paused_since.reset();
    g.deadline = opt_time(p, "deadline");
  } else if (k == "promise_made") {
    const Json& pr = p["promise"];
    Promise x;
    x.id = pr.at("id").get<std::string>();
    x.what = pr.value("what", "");
    x.due = parse_time(pr.at("due").get<std::string>());
    s.promises.push_back(std::move(x));
  } else if (k == "promise_timing") {
    Promise* x = s.find_promise(p["promise"].get<std::string>());
    if (!x) throw Error(ErrorCode::internal, fmt::format("event {} names unknown promise", e.seq));
    x->timing = parse_timing(p["to"].get<std::string>());
    x->expected = opt_time(p, "expected");
  } else if (k == "promise_kept" || k == "promise_broken" || k == "promise_cancelled") {
    Promise* x = s.find_promise(p["promise"].get<std::string>());
    if (!x) throw Error(ErrorCode::internal, fmt::format("event {} names unknown promise", e.seq));
    x->status = k == "promise_kept" ? PromiseStatus::kept : k == "promise_broken" ? PromiseStatus::broken : PromiseStatus::cancelled;
  } else if (k == "escalated") {
    ++s.escalations[p["rule"].get<std::string>() + "|" + p["target"].get<std::string>()];
  } else if (k == "subject_changed") {
    s.subject.attributes[p["key"].get<std::string>()] = p["value"];
    mark_file(s, "subject." + p["key"].get<std::string>(), "set");
  } else if (k == "asset_attached") {
    const Json& a = p["asset"];
    Asset asset;
    asset.id = a.value("id", "");
    asset.kind = a.value("kind", "");
    asset.title = a.value("title", "");
    asset.uri = a.value("uri", "");
    asset.text = a.value("text", "");
    asset.media_type = a.value("media_type", "");
    asset.metadata = a.value("metadata", Json::object());
    asset.added_at = e.time;
    asset.added_by = e.actor;
    s.assets.push_back(std::move(asset));
    s.counters["asset"]++;
    mark_file(s, "assets", "set");
  } else if (k == "case_created") {
    s.id = e.case_id;
    std::string type = p.value("type", "");
    if (!type.empty()) {
      s.type = ctx.registry ? ctx.registry->case_type(type, p.value("type_version", 0)) : nullptr;
      if (!s.type) throw Error(ErrorCode::internal, fmt::format("case '{}' uses case type '{}' which is not registered", s.id, type));
    }
    s.title = p.value("title", "");
    s.subject.customer = p["subject"].value("customer", "");
    s.subject.attributes = p["subject"].value("attributes", Json::object());
    s.owner = p.value("owner", "");
    s.priority = p.value("priority", 0);
    s.priority_base = s.priority;
    for (const auto& part : p.value("participants", Json::array()))
      s.participants.push_back(
          Participant{part.at("actor").get<std::string>(), part.at("roles").get<std::vector<std::string>>()});
    s.file = p.value("file", Json::object());
    s.created_at = e.time;
    s.status = CaseStatus::active;
  } else if (k == "error" || k == "note") {
    // recorded only
  } else {
    throw Error(ErrorCode::internal, fmt::format("unknown event kind '{}' in case '{}'", k, s.id));
  }
  if (s.items.size() != items_before || k == "dependency_added" || k == "item_removed") s.links_dirty = true;
  if (k == "dependency_added" || k == "item_removed" || s.items.size() < items_before) s.relink_all = true;
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
    gj["spec"] = goal_spec_json(g.spec);
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
