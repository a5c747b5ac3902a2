// SPDX-License-Identifier: Apache-2.0
#include "runtime/decider.hpp"

#include <acm/error.hpp>

#include "model/json_size.hpp"
#include "model/names.hpp"
#include "model/text.hpp"
#include "plan/plan_graph.hpp"
#include "runtime/env.hpp"
#include "runtime/json_path.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <unordered_map>

namespace acm::runtime {


namespace {

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

bool not_started(ItemState s) {
  return s == ItemState::available || s == ItemState::enabled || s == ItemState::disabled;
}

constexpr std::size_t kMaxParticipants = 10000;

// A counter's value, read without creating it: a command changes the state only through the
// events it emits (the fold creates counters), so that a refused command leaves no trace.
int counter(const CaseState& s, const std::string& name) {
  auto it = s.counters.find(name);
  return it == s.counters.end() ? 0 : it->second;
}
/// How deeply an event payload may nest arrays and objects (serialising one recurses that deep).
constexpr std::size_t kMaxPayloadDepth = 256;

// ---- Semantics::cmmn helpers (docs/cmmn.md, "Semantic choices") ----

bool cmmn_item(const Item& it) { return it.fragment && it.fragment->def.semantics == Semantics::cmmn; }

// A cmmn item whose every entry criterion has an on-part gets its next instance when an entry
// criterion is satisfied (CMMN 1.1 8.6.4), not when an instance ends.
bool repeats_on_entry(const Item& it) {
  if (!cmmn_item(it) || it.def->entry.empty()) return false;
  for (const auto& s : it.def->entry)
    if (s.on_parts.empty()) return false;
  return true;
}

bool refers_to(const CSentry& s, const std::string& def_id) {
  for (const auto& op : s.on_parts)
    if (op.source == OnPartSource::item && op.ref == def_id) return true;
  return false;
}

// The item transitions of this command (or timer run) in one fragment instance, as
// (item definition id, transition) pairs in order, without repeats.
std::vector<std::pair<std::string, std::string>> command_transitions(const CaseState& s,
                                                                     const std::vector<Event>& events,
                                                                     const std::string& root) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Event& e : events) {
    if (e.kind != events::name(events::Kind::item_transition)) continue;
    const Item* it = s.find_item(e.payload["item"].get<std::string>());
    if (!it || it->frag_root != root) continue;
    std::pair<std::string, std::string> p{it->def->def.id, e.payload["transition"].get<std::string>()};
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
  }
  return out;
}

void collect_parents(const CItem* parent, const std::vector<std::unique_ptr<CItem>>& children,
                     std::unordered_map<const CItem*, const CItem*>& out) {
  for (const auto& c : children) {
    out[c.get()] = parent;
    collect_parents(c.get(), c->children, out);
  }
}

void collect_descendants(const std::vector<std::unique_ptr<CItem>>& children, std::vector<const CItem*>& out) {
  for (const auto& c : children) {
    out.push_back(c.get());
    collect_descendants(c->children, out);
  }
}

}  // namespace

bool Services::is_admin(const Actor& a) const {
  for (const auto& r : a.roles)
    if (contains(options->admin_roles, r)) return true;
  return false;
}

bool Services::is_designer(const Actor& a) const {
  if (is_admin(a)) return true;
  for (const auto& r : a.roles)
    if (contains(options->designer_roles, r)) return true;
  return false;
}

Decider::Decider(CaseState& state, const Services& services, const Actor& actor, TimePoint now)
    : s_(state), sv_(services), actor_(actor), emit_actor_(actor.id), now_(now), items_at_start_(state.items.size()) {}

// ---- events -----------------------------------------------------------------------------

void Decider::check_value(const Json& value, std::string_view what) const {
  // Run on a command's input before anything copies or compares it: both recurse as deep as
  // the value nests.
  const std::size_t limit = sv_.options ? sv_.options->max_payload_bytes : EngineOptions{}.max_payload_bytes;
  const auto size = model::serialized_size(value, limit, kMaxPayloadDepth);
  if (size.too_deep)
    throw Error(ErrorCode::invalid_argument, fmt::format("{} nests more than {} levels deep", what, kMaxPayloadDepth));
  if (size.size > limit)
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("{} is larger than {} bytes (EngineOptions::max_payload_bytes); attach large content by link", what,
                    limit));
  model::check_json_text(value, what);
}

void Decider::emit_event(events::Kind kind_id, Json payload) {
  const std::string_view kind = events::name(kind_id);
  // Checked before the event is applied: a refused event changes nothing.
  const std::size_t limit = sv_.options ? sv_.options->max_payload_bytes : EngineOptions{}.max_payload_bytes;
  const auto size = model::serialized_size(payload, limit, kMaxPayloadDepth);
  if (size.too_deep)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("the '{}' event's payload nests more than {} levels deep", kind, kMaxPayloadDepth));
  if (size.size > limit)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("the '{}' event's payload is larger than {} bytes (EngineOptions::max_payload_bytes); "
                            "attach large content by link",
                            kind, limit));
  // Text the store could not write (JSON holds only UTF-8): refused before it is applied.
  model::check_json_text(payload, fmt::format("the '{}' event's payload", kind));
  Event e;
  e.case_id = s_.id;
  e.seq = s_.version + 1;
  e.time = now_;
  e.actor = emit_actor_;
  e.kind = kind;
  e.payload = std::move(payload);
  FoldContext ctx{sv_.registry};
  apply(s_, e, ctx);
  events_.push_back(std::move(e));
  check_growth();
}

// Bounds what one command (or one timer run on the case) may add, whatever the definitions:
// the first time a bound is reached an "error" event says so and evaluation stops.
void Decider::check_growth() {
  if (halted_ || !sv_.options) return;
  const std::size_t max_events = sv_.options->max_events_per_command, max_items = sv_.options->max_items_per_command;
  const std::size_t grown = s_.items.size() > items_at_start_ ? s_.items.size() - items_at_start_ : 0;
  if (events_.size() < max_events && grown < max_items) return;
  halted_ = true;
  emit(events::ErrorRecorded{
       .message = events_.size() >= max_events
                        ? fmt::format("this command appended {} events (EngineOptions::max_events_per_command); "
                                      "evaluation stopped (check repetition rules and sentries that "
                                      "re-trigger each other)",
                                      events_.size())
                        : fmt::format("this command created {} plan items (EngineOptions::max_items_per_command); "
                                      "evaluation stopped (check repetition rules and sentries that "
                                      "re-trigger each other)",
                                      grown),
       .bound = events_.size() >= max_events ? "max_events_per_command" : "max_items_per_command"});
}

// ---- authorization ----------------------------------------------------------------------

unsigned Decider::perms() const {
  if (sv_.is_admin(actor_) || (!s_.owner.empty() && actor_.id == s_.owner)) return perm_all;
  const Participant* p = s_.participant(actor_.id);
  unsigned bits = 0;
  if (p) {
    for (const auto& role : p->roles) {
      const RoleDef* def = nullptr;
      if (s_.type)
        for (const auto& r : s_.type->def.roles)
          if (r.name == role) def = &r;
      if (!def) {
        bits |= role == "customer" ? perm_view : (perm_view | perm_work);
        continue;
      }
      for (const auto& perm : def->permissions) {
        if (perm == "view") bits |= perm_view;
        if (perm == "work") bits |= perm_work;
        if (perm == "plan") bits |= perm_plan;
        if (perm == "manage") bits |= perm_manage;
      }
    }
  }
  // Goal owners may view the case.
  for (const auto& g : s_.goals)
    if (g.spec.owner == actor_.id) bits |= perm_view;
  return bits;
}

void Decider::require(unsigned need, std::string_view what) const {
  perms_checked_ |= need;
  if ((perms() & need) == need) return;
  std::string_view name = need & perm_manage ? "manage" : need & perm_plan ? "plan" : need & perm_work ? "work" : "view";
  const Participant* p = s_.participant(actor_.id);
  throw Error(ErrorCode::permission_denied,
              fmt::format("actor '{}' may not {} on case '{}': it needs the '{}' permission, which {}", actor_.id, what,
                          s_.id, name,
                          p ? fmt::format("its case roles [{}] do not grant", fmt::join(p->roles, ", "))
                            : std::string("only the owner, participants with such a role and administrators have")));
}

void Decider::require_view(const CaseState& state, const Services& services, const Actor& actor) {
  CaseState& mutable_state = const_cast<CaseState&>(state);  // Decider needs a reference; nothing is emitted
  Decider d(mutable_state, services, actor, TimePoint{});
  d.require(perm_view, "view the case");
}

void Decider::require_perms(const CaseState& state, const Services& services, const Actor& actor, unsigned perms,
                            std::string_view what) {
  if (perms == 0) return;
  CaseState& mutable_state = const_cast<CaseState&>(state);  // Decider needs a reference; nothing is emitted
  Decider d(mutable_state, services, actor, TimePoint{});
  d.require(perms, what);
}

void Decider::require_active(std::string_view what) const {
  if (s_.status != CaseStatus::active)
    throw Error(ErrorCode::invalid_state, fmt::format("cannot {}: case '{}' is {}", what, s_.id, to_string(s_.status)));
}

void Decider::require_work_on(const Item& it, std::string_view what) const {
  perms_checked_ |= perm_work;
  unsigned p = perms();
  if (p & perm_manage) return;
  if (!(p & perm_work))
    throw Error(ErrorCode::permission_denied, fmt::format("actor '{}' may not {} '{}' of case '{}': it has no 'work' permission",
                                                          actor_.id, what, it.id, s_.id));
  if (!it.assignee.empty() && it.assignee != actor_.id)
    throw Error(ErrorCode::permission_denied, fmt::format("actor '{}' may not {} '{}' of case '{}': it is assigned to '{}'",
                                                          actor_.id, what, it.id, s_.id, it.assignee));
  const std::string& role = it.def->def.role;
  if (role.empty() || it.assignee == actor_.id) return;
  const Participant* part = s_.participant(actor_.id);
  if (part && contains(part->roles, role)) return;
  throw Error(ErrorCode::permission_denied, fmt::format("actor '{}' may not {} '{}' of case '{}': it needs the case role '{}'",
                                                        actor_.id, what, it.id, s_.id, role));
}

// ---- lookups ----------------------------------------------------------------------------

std::size_t Decider::item_index(const std::string& id, std::string_view what) const {
  auto it = s_.item_index.find(id);
  if (it == s_.item_index.end())
    throw Error(ErrorCode::not_found, fmt::format("cannot {}: case '{}' has no plan item '{}'", what, s_.id, id));
  return it->second;
}

Goal& Decider::goal_ref(const std::string& id) {
  Goal* g = s_.find_goal(id);
  if (!g) throw Error(ErrorCode::not_found, fmt::format("case '{}' has no goal '{}'", s_.id, id));
  return *g;
}

std::string Decider::new_id(const std::string& prefix, const std::string& counter) {
  auto it = s_.counters.find(counter);
  int n = (it == s_.counters.end() ? 0 : it->second) + 1;
  std::string id = fmt::format("{}#{}", prefix, n);
  while (s_.find_item(id)) id = fmt::format("{}#{}", prefix, ++n);
  return id;
}

// ---- case lifecycle ---------------------------------------------------------------------

void Decider::create_case(const std::string& id, const NewCase& spec, std::shared_ptr<const CCaseType> type) {
  if (actor_.id.empty()) throw Error(ErrorCode::permission_denied, "an actor without id may not create cases");
  if (spec.participants.size() > kMaxParticipants) throw Error(ErrorCode::invalid_argument, "too many participants");
  if (!spec.file.is_object()) throw Error(ErrorCode::invalid_argument, "the initial case file must be a JSON object");
  if (!spec.subject.attributes.is_object())
    throw Error(ErrorCode::invalid_argument, "subject attributes must be a JSON object");
  check_value(spec.file, "the initial case file");
  check_value(spec.subject.attributes, "the subject's attributes");
  s_.id = id;
  for (const auto& p : spec.participants)
    if (p.actor.empty()) throw Error(ErrorCode::invalid_argument, "a participant needs an actor id");
  creating_ = true;
  // Validate the type's goals and fragments before emitting anything.
  std::vector<std::pair<std::shared_ptr<const CFragment>, FragmentUse>> initial;
  if (type) {
    for (const auto& use : type->def.initial_fragments) {
      auto f = sv_.registry->fragment(use.fragment, use.version);
      if (!f)
        throw Error(ErrorCode::not_found, fmt::format("case type '{}' needs fragment '{}' which is not registered",
                                                      type->def.id, use.fragment));
      initial.emplace_back(f, use);
    }
  }
  emit(events::CaseCreated{.type = type ? type->def.id : "",
                           .type_version = type ? type->def.version : 0,
                           .title = spec.title,
                           .subject = spec.subject,
                           .owner = spec.owner.empty() ? actor_.id : spec.owner,
                           .priority = spec.priority,
                           .participants = spec.participants,
                           .file = spec.file});
  if (type) {
    for (const auto& g : type->def.goals) add_goal(g);
    for (auto& [f, use] : initial) {
      FragmentUse u = use;
      u.version = f->def.version;
      add_fragment(u, {});
    }
  }
  creating_ = false;
  settle();
}

void Decider::set_owner(const std::string& owner) {
  require(perm_manage, "change the owner");
  require_active("change the owner");
  if (owner.empty()) throw Error(ErrorCode::invalid_argument, "the owner must not be empty");
  if (owner == s_.owner) return;
  emit(events::OwnerChanged{.from = s_.owner, .to = owner});
  settle();
}

void Decider::add_participant(const Participant& p) {
  require(perm_manage, "add participants");
  require_active("add participants");
  if (p.actor.empty()) throw Error(ErrorCode::invalid_argument, "a participant needs an actor id");
  if (s_.participants.size() >= kMaxParticipants) throw Error(ErrorCode::invalid_argument, "too many participants");
  if (s_.type && !s_.type->def.roles.empty()) {
    for (const auto& r : p.roles) {
      bool known = std::any_of(s_.type->def.roles.begin(), s_.type->def.roles.end(),
                               [&](const RoleDef& d) { return d.name == r; });
      if (!known)
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("role '{}' is not a role of case type '{}'", r, s_.type->def.id));
    }
  }
  emit(events::ParticipantAdded{.actor = p.actor, .roles = p.roles});
  settle();
}

void Decider::remove_participant(const std::string& actor) {
  require(perm_manage, "remove participants");
  require_active("remove participants");
  if (!s_.participant(actor))
    throw Error(ErrorCode::not_found, fmt::format("'{}' is not a participant of case '{}'", actor, s_.id));
  emit(events::ParticipantRemoved{.actor = actor});
  // Work assigned to them goes back to the queue.
  for (std::size_t i = 0; i < s_.items.size(); ++i)
    if (s_.items[i].assignee == actor && !is_terminal(s_.items[i].state))
      emit(events::ItemAssigned{.item = s_.items[i].id, .from = actor, .to = ""});
  settle();
}

void Decider::set_priority(int priority) {
  require(perm_manage, "change the priority");
  require_active("change the priority");
  if (priority == s_.priority_base && !sv_.priority) {
    if (priority == s_.priority) return;
  }
  int to = priority;
  events::PriorityChanged p{.from = s_.priority, .base = priority};
  if (sv_.priority) {
    Json ex = sv_.priority->evaluate(s_, now_);
    to = priority + static_cast<int>(std::lround(ex["score"].get<double>()));
    p.score = ex["score"];
    p.terms = std::move(ex["terms"]);
  }
  if (to == s_.priority && priority == s_.priority_base) return;
  p.to = to;
  emit(std::move(p));
  settle();
}

void Decider::set_subject_attribute(const std::string& key, const Json& value) {
  require(perm_manage, "change the subject");
  require_active("change the subject");
  if (key.empty()) throw Error(ErrorCode::invalid_argument, "subject attribute key is empty");
  check_value(value, fmt::format("the value of subject attribute '{}'", key));
  emit(events::SubjectChanged{.key = key, .value = value});
  settle();
}

void Decider::set_status(CaseStatus to, const std::string& reason, bool reopen) {
  CaseStatus from = s_.status;
  auto refuse = [&] {
    throw Error(ErrorCode::invalid_state,
                fmt::format("case '{}' cannot go from {} to {}", s_.id, to_string(from), to_string(to)));
  };
  switch (to) {
    case CaseStatus::suspended:
      require(perm_manage, "suspend the case");
      if (from != CaseStatus::active) refuse();
      break;
    case CaseStatus::active:  // resume (from suspended) or reopen (from completed, terminated, closed)
      if (reopen && from == CaseStatus::closed) {
        if (!sv_.is_admin(actor_))
          throw Error(ErrorCode::permission_denied,
                      fmt::format("actor '{}' may not reopen closed case '{}': only administrators may", actor_.id, s_.id));
      } else {
        require(perm_manage, reopen ? "reopen the case" : "resume the case");
        if (reopen && from != CaseStatus::completed && from != CaseStatus::terminated)
          throw Error(ErrorCode::invalid_state,
                      fmt::format("case '{}' is {}: only completed, terminated or closed cases can be reopened", s_.id,
                                  to_string(from)));
        if (!reopen && from != CaseStatus::suspended)
          throw Error(ErrorCode::invalid_state, fmt::format("case '{}' is {}, not suspended", s_.id, to_string(from)));
      }
      break;
    case CaseStatus::terminated:
      require(perm_manage, "terminate the case");
      if (from != CaseStatus::active && from != CaseStatus::suspended) refuse();
      break;
    case CaseStatus::closed:
      require(perm_manage, "close the case");
      if (from != CaseStatus::completed && from != CaseStatus::terminated) refuse();
      break;
    case CaseStatus::completed:
      refuse();
  }
  if (to == CaseStatus::terminated) {
    emit_actor_ = actor_.id;
    for (std::size_t i = 0; i < s_.items.size(); ++i)
      if (s_.items[i].parent.empty() && !is_terminal(s_.items[i].state)) terminate_tree(i, "exit");
  }
  emit(events::CaseStatusChanged{.from = from, .to = to, .reason = reason});
  settle();
}

void Decider::complete_case() {
  require(perm_manage, "complete the case");
  require_active("complete the case");
  if (const auto plans = cmmn_case() ? plan_stages() : std::vector<std::size_t>{}; !plans.empty()) {
    // cmmn: the case plan model's manual `complete`, refused while a child of it is active or a
    // required child is not completed; goals do not hold a cmmn case open.
    auto is_plan = [&](std::size_t i) { return std::find(plans.begin(), plans.end(), i) != plans.end(); };
    auto is_plan_id = [&](const std::string& id) {
      return std::any_of(plans.begin(), plans.end(), [&](std::size_t p) { return s_.items[p].id == id; });
    };
    for (std::size_t i = 0; i < s_.items.size(); ++i) {
      const Item& it = s_.items[i];
      if (is_plan(i)) continue;
      const bool plan_child = !it.parent.empty() && is_plan_id(it.parent);
      if (!plan_child && !it.parent.empty()) continue;
      if (it.state == ItemState::active || it.state == ItemState::suspended || it.state == ItemState::failed)
        throw Error(ErrorCode::invalid_state,
                    fmt::format("case '{}' cannot complete: '{}' is {}", s_.id, it.id, to_string(it.state)));
      if (plan_child && it.required && !is_terminal(it.state))
        throw Error(ErrorCode::invalid_state, fmt::format("case '{}' cannot complete: required item '{}' is {}", s_.id,
                                                          it.id, to_string(it.state)));
    }
    for (std::size_t p : plans) {
      const std::string plan = s_.items[p].id;
      for (std::size_t c = 0; c < s_.items.size(); ++c)
        if (s_.items[c].parent == plan && !is_terminal(s_.items[c].state)) terminate_tree(c, "exit");
      transition(s_.item_index.at(plan), "complete", ItemState::completed);
    }
    for (std::size_t i = 0; i < s_.items.size(); ++i)
      if (s_.items[i].parent.empty() && !is_terminal(s_.items[i].state)) terminate_tree(i, "exit");
    emit(events::CaseStatusChanged{.from = CaseStatus::active, .to = CaseStatus::completed});
    settle();
    return;
  }
  for (const auto& g : s_.goals)
    if (g.spec.required && g.status == GoalStatus::open)
      throw Error(ErrorCode::invalid_state,
                  fmt::format("case '{}' cannot complete: required goal '{}' is not achieved", s_.id, g.spec.id));
  for (const auto& it : s_.items) {
    if (it.state == ItemState::active || it.state == ItemState::suspended)
      throw Error(ErrorCode::invalid_state, fmt::format("case '{}' cannot complete: '{}' is {}", s_.id, it.id,
                                                        to_string(it.state)));
    if (it.required && it.state != ItemState::completed && it.state != ItemState::terminated)
      throw Error(ErrorCode::invalid_state,
                  fmt::format("case '{}' cannot complete: required item '{}' is {}", s_.id, it.id, to_string(it.state)));
  }
  for (std::size_t i = 0; i < s_.items.size(); ++i)
    if (s_.items[i].parent.empty() && !is_terminal(s_.items[i].state)) terminate_tree(i, "exit");
  emit(events::CaseStatusChanged{.from = CaseStatus::active, .to = CaseStatus::completed});
  settle();
}

// ---- goals ------------------------------------------------------------------------------

void Decider::add_goal(const GoalSpec& g) {
  const bool creating = creating_;
  if (!creating) {
    require(perm_plan, "add goals");
    require_active("add goals");
  }
  if (g.id.empty()) throw Error(ErrorCode::invalid_argument, "a goal needs an id");
  if (s_.find_goal(g.id)) throw Error(ErrorCode::already_exists, fmt::format("case '{}' already has a goal '{}'", s_.id, g.id));
  if (!g.parent.empty() && !s_.find_goal(g.parent))
    throw Error(ErrorCode::not_found, fmt::format("parent goal '{}' of goal '{}' does not exist", g.parent, g.id));
  if (g.deadline && g.within)
    throw Error(ErrorCode::invalid_argument, fmt::format("goal '{}' has both a deadline and a duration", g.id));
  if (g.within && g.within->count() < 0) throw Error(ErrorCode::invalid_argument, "a goal duration must not be negative");
  if (g.anchor != "goal_added" && g.anchor != "case_created")
    throw Error(ErrorCode::invalid_argument, fmt::format("goal '{}': unknown anchor '{}'", g.id, g.anchor));
  if (!g.criterion.empty()) expr::Expression::parse(g.criterion, model::engine_parse_options());
  std::optional<TimePoint> deadline = g.deadline;
  if (g.within) {
    TimePoint anchor = g.anchor == "case_created" ? s_.created_at : now_;
    deadline = sv_.calendar->add(anchor, *g.within);
  }
  emit(events::GoalAdded{.goal = g, .deadline = deadline});
  if (!creating) settle();
}

void Decider::change_goal(const std::string& goal_id, const GoalChange& c) {
  Goal& g = goal_ref(goal_id);
  if (g.spec.owner != actor_.id) require(perm_plan, "change goals");
  require_active("change goals");
  if (g.status != GoalStatus::open)
    throw Error(ErrorCode::invalid_state, fmt::format("goal '{}' is {}", goal_id, to_string(g.status)));
  events::GoalChanged changes{.goal = goal_id, .name = c.name, .owner = c.owner, .criterion = c.criterion,
                              .required = c.required, .deadline = c.deadline, .milestones = c.milestones};
  if (c.criterion && !c.criterion->empty()) expr::Expression::parse(*c.criterion, model::engine_parse_options());
  if (changes.empty()) return;
  emit(std::move(changes));
  settle();
}

void Decider::cancel_goal(const std::string& goal_id, const std::string& reason) {
  Goal& g = goal_ref(goal_id);
  require(perm_plan, "cancel goals");
  require_active("cancel goals");
  if (g.status != GoalStatus::open)
    throw Error(ErrorCode::invalid_state, fmt::format("goal '{}' is already {}", goal_id, to_string(g.status)));
  emit(events::GoalStatusChanged{.goal = goal_id, .from = GoalStatus::open, .to = GoalStatus::cancelled, .reason = reason});
  // Sub-goals go with their parent, at every depth.
  std::vector<std::string> gone{goal_id};
  for (std::size_t k = 0; k < gone.size(); ++k)
    for (std::size_t i = 0; i < s_.goals.size(); ++i)
      if (s_.goals[i].spec.parent == gone[k] && s_.goals[i].status == GoalStatus::open) {
        gone.push_back(s_.goals[i].spec.id);
        emit(events::GoalStatusChanged{
            .goal = s_.goals[i].spec.id, .from = GoalStatus::open, .to = GoalStatus::cancelled, .reason = "parent cancelled"});
      }
  settle();
}

void Decider::achieve_goal(const std::string& goal_id) {
  Goal& g = goal_ref(goal_id);
  std::string owner = g.spec.owner.empty() ? s_.owner : g.spec.owner;
  if (actor_.id != owner) require(perm_manage, "decide that a goal is achieved");
  require_active("achieve goals");
  if (g.status != GoalStatus::open)
    throw Error(ErrorCode::invalid_state, fmt::format("goal '{}' is already {}", goal_id, to_string(g.status)));
  for (const auto& sub : s_.goals)
    if (sub.spec.parent == goal_id && sub.spec.required && sub.status == GoalStatus::open)
      throw Error(ErrorCode::invalid_state,
                  fmt::format("goal '{}' cannot be achieved: required sub-goal '{}' is open", goal_id, sub.spec.id));
  emit(events::GoalStatusChanged{.goal = goal_id, .from = GoalStatus::open, .to = GoalStatus::achieved, .decision = true});
  settle();
}

void Decider::pause_goal(const std::string& goal_id, const std::string& reason) {
  require(perm_plan, "pause goals");
  require_active("pause goals");
  std::vector<std::string> ids;
  if (goal_id.empty()) {
    for (const Goal& g : s_.goals)
      if (g.status == GoalStatus::open && g.deadline && !g.paused_since) ids.push_back(g.spec.id);
    if (ids.empty()) throw Error(ErrorCode::invalid_state, "no open goal with a running deadline to pause");
  } else {
    const Goal& g = goal_ref(goal_id);
    if (g.status != GoalStatus::open)
      throw Error(ErrorCode::invalid_state, fmt::format("goal '{}' is {}, not open", goal_id, to_string(g.status)));
    if (g.paused_since) throw Error(ErrorCode::invalid_state, fmt::format("goal '{}' is already paused", goal_id));
    ids.push_back(goal_id);
  }
  for (const std::string& id : ids) {
    emit(events::GoalPaused{.goal = id, .reason = reason});
  }
  settle();
}

void Decider::resume_goal(const std::string& goal_id) {
  require(perm_plan, "resume goals");
  require_active("resume goals");
  std::vector<std::string> ids;
  if (goal_id.empty()) {
    for (const Goal& g : s_.goals)
      if (g.paused_since) ids.push_back(g.spec.id);
    if (ids.empty()) throw Error(ErrorCode::invalid_state, "no paused goal to resume");
  } else {
    if (!goal_ref(goal_id).paused_since) throw Error(ErrorCode::invalid_state, fmt::format("goal '{}' is not paused", goal_id));
    ids.push_back(goal_id);
  }
  for (const std::string& id : ids) {
    const Goal& g = goal_ref(id);
    const TimePoint since = *g.paused_since;
    events::GoalResumed p{.goal = id, .paused_for = sv_.calendar->between(since, now_)};
    if (g.deadline) {
      // The working time that was left at the pause, counted again from now.
      const Duration left = std::max(Duration{0}, sv_.calendar->between(since, *g.deadline));
      p.deadline = sv_.calendar->add(now_, left);
    }
    emit(std::move(p));
  }
  settle();
}

// ---- promises ---------------------------------------------------------------------------

void Decider::make_promise(const PromiseSpec& promise) {
  require(perm_plan, "make promises");
  require_active("make promises");
  if (promise.id.empty()) throw Error(ErrorCode::invalid_argument, "a promise needs an id");
  if (s_.find_promise(promise.id)) throw Error(ErrorCode::already_exists, fmt::format("promise '{}' exists", promise.id));
  if (promise.due <= now_)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("promise '{}' is due {}, which is not after now ({})", promise.id, format_time(promise.due),
                            format_time(now_)));
  emit(events::PromiseMade{.id = promise.id, .what = promise.what, .due = promise.due});
  settle();
}

void Decider::keep_promise(const std::string& promise_id) {
  require(perm_plan, "keep promises");
  Promise* x = s_.find_promise(promise_id);
  if (!x) throw Error(ErrorCode::not_found, fmt::format("no promise '{}' in case '{}'", promise_id, s_.id));
  if (x->status != PromiseStatus::open)
    throw Error(ErrorCode::invalid_state, fmt::format("promise '{}' is already {}", promise_id, to_string(x->status)));
  emit(events::PromiseKept{.promise = promise_id});
  settle();
}

void Decider::cancel_promise(const std::string& promise_id, const std::string& reason) {
  require(perm_plan, "cancel promises");
  Promise* x = s_.find_promise(promise_id);
  if (!x) throw Error(ErrorCode::not_found, fmt::format("no promise '{}' in case '{}'", promise_id, s_.id));
  if (x->status != PromiseStatus::open)
    throw Error(ErrorCode::invalid_state, fmt::format("promise '{}' is already {}", promise_id, to_string(x->status)));
  emit(events::PromiseCancelled{.promise = promise_id, .reason = reason});
  settle();
}

// ---- assembly ---------------------------------------------------------------------------

std::vector<FragmentOffer> Decider::applicable_fragments() const {
  std::vector<FragmentOffer> out;
  if (s_.status != CaseStatus::active) return out;
  CaseEnv env(s_, now_);
  auto offer = [&](const std::shared_ptr<const CFragment>& f) {
    if (!f) return;
    Json defaults = Json::object();
    for (const auto& p : f->def.parameters)
      if (!p.default_value.is_null()) defaults[p.name] = p.default_value;
    CaseEnv fenv(s_, now_, nullptr, nullptr, &defaults);
    if (!eval_condition(f->applicability, fenv, true)) return;
    out.push_back(FragmentOffer{f->def.id, f->def.version, f->def.name, f->def.description, f->def.parameters});
  };
  if (s_.type && !s_.type->def.discretionary.empty()) {
    for (const auto& id : s_.type->def.discretionary) offer(sv_.registry->fragment(id, 0));
  } else {
    for (const auto& [id, versions] : sv_.registry->fragments()) offer(versions.rbegin()->second);
  }
  return out;
}

namespace {

bool type_matches(const std::string& type, const Json& v) {
  if (type == "any") return true;
  if (type == "string") return v.is_string();
  if (type == "number") return v.is_number();
  if (type == "bool") return v.is_boolean();
  if (type == "object") return v.is_object();
  if (type == "list") return v.is_array();
  if (type == "time") {
    if (!v.is_string()) return false;
    try {
      parse_time(v.get<std::string>());
      return true;
    } catch (const Error&) {
      return false;
    }
  }
  if (type == "duration") {
    if (!v.is_string()) return false;
    try {
      parse_duration(v.get<std::string>());
      return true;
    } catch (const Error&) {
      return false;
    }
  }
  return false;
}

void collect_roles(const CItem& item, std::vector<std::string>& out) {
  if (!item.def.role.empty()) out.push_back(item.def.role);
  for (const auto& c : item.children) collect_roles(*c, out);
}

}  // namespace

std::string Decider::add_fragment(const FragmentUse& use, const std::vector<std::string>& after) {
  const bool creating = creating_;
  check_value(use.params, fmt::format("the arguments of fragment '{}'", use.fragment));
  if (!creating) {
    require(perm_plan, "add fragments");
    require_active("add fragments");
  }
  auto f = sv_.registry->fragment(use.fragment, use.version);
  if (!f)
    throw Error(ErrorCode::not_found, use.version ? fmt::format("fragment '{}' version {} is not registered", use.fragment, use.version)
                                                  : fmt::format("fragment '{}' is not registered", use.fragment));
  if (!creating && s_.type && !s_.type->def.discretionary.empty() && !contains(s_.type->def.discretionary, f->def.id))
    throw Error(ErrorCode::invalid_argument, fmt::format("fragment '{}' is not a discretionary fragment of case type '{}'",
                                                         f->def.id, s_.type->def.id));
  // Parameters: known, typed, required present; defaults filled.
  if (!use.params.is_object()) throw Error(ErrorCode::invalid_argument, "fragment parameters must be a JSON object");
  std::vector<std::string> problems;
  Json params = Json::object();
  for (const auto& [k, v] : use.params.items()) {
    auto it = std::find_if(f->def.parameters.begin(), f->def.parameters.end(), [&](const Parameter& p) { return p.name == k; });
    if (it == f->def.parameters.end()) {
      problems.push_back(fmt::format("unknown parameter '{}'", k));
      continue;
    }
    if (!type_matches(it->type, v))
      problems.push_back(fmt::format("parameter '{}' must be of type {}, got {}", k, it->type, v.dump()));
    params[k] = v;
  }
  for (const auto& p : f->def.parameters) {
    if (params.contains(p.name)) continue;
    if (!p.default_value.is_null()) params[p.name] = p.default_value;
    else if (p.required) problems.push_back(fmt::format("missing required parameter '{}'", p.name));
  }
  // Roles must be known to the case type.
  if (s_.type && !s_.type->def.roles.empty()) {
    std::vector<std::string> roles = f->def.roles;
    for (const auto& item : f->items) collect_roles(*item, roles);
    for (const auto& r : roles) {
      bool known = std::any_of(s_.type->def.roles.begin(), s_.type->def.roles.end(),
                               [&](const RoleDef& d) { return d.name == r; });
      if (!known) problems.push_back(fmt::format("role '{}' is not a role of case type '{}'", r, s_.type->def.id));
    }
  }
  if (!use.goal.empty()) {
    const Goal* g = s_.find_goal(use.goal);
    if (!g) problems.push_back(fmt::format("goal '{}' does not exist", use.goal));
    else if (g->status != GoalStatus::open) problems.push_back(fmt::format("goal '{}' is {}", use.goal, to_string(g->status)));
  }
  for (const auto& a : after)
    if (!s_.find_item(a)) problems.push_back(fmt::format("item '{}' (after) does not exist", a));
  if (!problems.empty())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("cannot add fragment '{}' to case '{}': {}", f->def.id, s_.id, fmt::join(problems, "; ")));
  if (!creating) {
    CaseEnv env(s_, now_, nullptr, nullptr, &params);
    if (!eval_condition(f->applicability, env, true))
      throw Error(ErrorCode::invalid_state, fmt::format("fragment '{}' is not applicable to case '{}' now: {} is false",
                                                        f->def.id, s_.id, f->def.applicability));
  }
  std::string id = new_id(f->def.id, "fragment:" + f->def.id);
  emit(events::FragmentAdded{.item = id, .fragment = f->def.id, .version = f->def.version, .goal = use.goal,
                             .params = params, .after = after});
  if (!creating) settle();
  return id;
}

std::string Decider::add_task(const AdHocTask& task) {
  require(perm_plan, "add tasks");
  require_active("add tasks");
  check_value(task.input, fmt::format("the input of task '{}'", task.name));
  auto compiled = compile_adhoc(task);  // validates
  if (!task.goal.empty() && !s_.find_goal(task.goal))
    throw Error(ErrorCode::not_found, fmt::format("goal '{}' does not exist in case '{}'", task.goal, s_.id));
  for (const auto& a : task.after)
    if (!s_.find_item(a)) throw Error(ErrorCode::not_found, fmt::format("item '{}' (after) does not exist", a));
  if (!task.assignee.empty() && task.assignee != s_.owner && !s_.participant(task.assignee))
    throw Error(ErrorCode::invalid_argument,
                fmt::format("assignee '{}' is not a participant of case '{}'", task.assignee, s_.id));
  std::string id = new_id("task", "task");
  emit(events::TaskAdded{.item = id, .task = adhoc_to_json(task), .goal = task.goal, .assignee = task.assignee,
                         .after = task.after, .required = task.required});
  settle();
  return id;
}

void Decider::check_no_cycle(const std::string& item, const std::string& after) const {
  plan::PlanGraph g;
  std::unordered_map<std::string, std::size_t> node;
  for (const auto& it : s_.items) node[it.id] = g.add_node(it.id, Duration{0});
  for (const auto& it : s_.items) {
    for (const auto& a : it.after)
      if (node.count(a)) g.add_edge(node[a], node[it.id]);
    // cmmn: sentries may wait for each other in a cycle; only `after` cycles count there.
    if (!it.def->has_item_onparts || cmmn_item(it)) continue;
    for (const auto& sentry : it.def->entry)
      for (const auto& op : sentry.on_parts) {
        if (op.source != OnPartSource::item || (op.on != "complete" && op.on != "occur")) continue;
        for (const auto& src : s_.items)
          if (src.frag_root == it.frag_root && src.def->def.id == op.ref) g.add_edge(node[src.id], node[it.id]);
      }
  }
  g.add_edge(node.at(after), node.at(item));
  auto cycle = g.find_cycle();
  if (!cycle.empty())
    throw Error(ErrorCode::cycle, fmt::format("making '{}' wait for '{}' would create the dependency cycle {}", item, after,
                                              fmt::join(cycle, " -> ")));
}

void Decider::add_dependency(const std::string& item, const std::string& after) {
  require(perm_plan, "add dependencies");
  require_active("add dependencies");
  std::size_t i = item_index(item, "add a dependency");
  item_index(after, "add a dependency");
  if (!not_started(s_.items[i].state))
    throw Error(ErrorCode::invalid_state,
                fmt::format("'{}' is {}: only items that have not started can wait for others", item, to_string(s_.items[i].state)));
  if (contains(s_.items[i].after, after)) return;
  if (item == after) throw Error(ErrorCode::cycle, fmt::format("'{}' cannot wait for itself", item));
  check_no_cycle(item, after);
  emit(events::DependencyAdded{.item = item, .after = after});
  settle();
}

void Decider::remove_item(const std::string& item) {
  require(perm_plan, "remove plan items");
  require_active("remove plan items");
  std::size_t i = item_index(item, "remove an item");
  const Item& it = s_.items[i];
  if (!not_started(it.state))
    throw Error(ErrorCode::invalid_state,
                fmt::format("'{}' is {}: only items that have not started can be removed (terminate it instead)", item,
                            to_string(it.state)));
  emit(events::ItemRemoved{.item = item});
  settle();
}

// ---- work -------------------------------------------------------------------------------

void Decider::transition(std::size_t idx, std::string_view name, ItemState to) {
  const Item& it = s_.items[idx];
  events::ItemTransition p{.item = it.id, .transition = std::string(name), .from = it.state, .to = to};
  if (to == ItemState::active && (it.state == ItemState::available || it.state == ItemState::enabled) && it.def->def.due)
    p.due = sv_.calendar->add(now_, *it.def->def.due);
  if (to == ItemState::active && (it.state == ItemState::available || it.state == ItemState::enabled) &&
      it.def->def.kind == ItemKind::stage && cmmn_item(it)) {
    // cmmn: the children created now count the item transitions that happened earlier in this
    // command as if they had existed (the fold marks their on-parts from this list).
    Json seen = Json::array();
    for (auto& [def, name] : command_transitions(s_, events_, it.frag_root)) seen.push_back(Json::array({def, name}));
    if (!seen.empty()) p.seen = std::move(seen);
  }
  emit(std::move(p));
  ++steps_;
}

void Decider::terminate_tree(std::size_t idx, std::string_view name) {
  std::string id = s_.items[idx].id;
  // Children first, so that the stage ends last.
  for (std::size_t i = 0; i < s_.items.size(); ++i)
    if (s_.items[i].parent == id && !is_terminal(s_.items[i].state)) terminate_tree(i, "parent_terminate");
  std::size_t self = s_.item_index.at(id);
  const Item& it = s_.items[self];
  if (is_terminal(it.state)) return;
  bool event_like = it.def->def.kind == ItemKind::milestone || it.def->def.kind == ItemKind::timer_listener ||
                    it.def->def.kind == ItemKind::user_listener;
  transition(self, event_like && name == "exit" ? "terminate" : name, ItemState::terminated);
}

void Decider::activate(std::size_t idx, std::string_view name) {
  transition(idx, name, ItemState::active);
  const ItemDef& def = s_.items[idx].def->def;
  if (def.kind == ItemKind::automated_task) {
    run_handler(idx);
  } else if (def.kind == ItemKind::human_task && !def.blocking) {
    // Non-blocking (CMMN isBlocking="false"): done as soon as it is started.
    transition(idx, "complete", ItemState::completed);
    after_complete(idx);
  }
}

void Decider::run_handler(std::size_t idx) {
  const Item& it = s_.items[idx];
  auto h = sv_.handler ? sv_.handler(it.def->def.handler) : nullptr;
  if (!h || !*h) return;  // stays active until the host completes it or registers a handler
  TaskContext ctx;
  ctx.case_id = s_.id;
  ctx.item_id = it.id;
  ctx.handler = it.def->def.handler;
  ctx.input = it.def->def.input;
  if (!it.frag_root.empty())
    if (const Item* root = s_.find_item(it.frag_root)) ctx.input = Json{{"input", it.def->def.input}, {"params", root->params}};
  ctx.case_file = s_.file;
  ctx.now = now_;
  TaskResult r;
  try {
    r = (*h)(ctx);
  } catch (const std::exception& ex) {
    r.ok = false;
    r.error = ex.what();
  } catch (...) {
    r.ok = false;
    r.error = "unknown exception";
  }
  std::string id = s_.items[idx].id;
  if (r.ok) {
    const std::string& out = s_.items[idx].def->def.output;
    if (!out.empty() && !r.output.is_null()) {
      try {
        check_value(r.output, "the handler's output");
        json_path::check_settable(s_.file, out);
        emit(events::FileSet{.path = out, .value = r.output, .item = id});
      } catch (const Error& e) {
        r.ok = false;
        r.error = std::string("cannot store the output: ") + e.what();
      }
    }
  }
  idx = s_.item_index.at(id);
  if (s_.items[idx].state != ItemState::active) return;  // an exit criterion may have fired
  if (r.ok) {
    transition(idx, "complete", ItemState::completed);
    after_complete(idx);
  } else {
    emit(events::ItemTransition{.item = id,
                                .transition = "fault",
                                .from = ItemState::active,
                                .to = ItemState::failed,
                                .error = model::to_valid_utf8(r.error)});
  }
}

void Decider::after_complete(std::size_t idx) {
  // cmmn: an item with entry criteria got its next instance when its criterion was satisfied.
  if (repeats_on_entry(s_.items[idx])) return;
  repeat(idx);
}

void Decider::repeat(std::size_t idx) {
  const Item& it = s_.items[idx];
  if (it.def->repetition.empty() || it.owned_def) return;
  CaseEnv env(s_, now_, &it);
  if (!it.def->repetition.test(env)) return;
  std::string base = it.frag_root + "/" + it.def->def.id;
  int n = counter(s_, base) + 1;
  std::string id = fmt::format("{}@{}", base, n);
  emit(events::ItemCreated{.item = id, .like = it.id, .repetition = n - 1});
  ++steps_;
}

void Decider::start_item(const std::string& item) {
  require_active("start items");
  std::size_t i = item_index(item, "start");
  require_work_on(s_.items[i], "start");
  const Item& it = s_.items[i];
  if (it.state != ItemState::enabled)
    throw Error(ErrorCode::invalid_state,
                fmt::format("cannot start '{}': it is {} (only enabled items, which wait for a person, can be started)", item,
                            to_string(it.state)));
  if (it.assignee.empty()) emit(events::ItemAssigned{.item = it.id, .from = "", .to = actor_.id});
  activate(i, "manual_start");
  settle();
}

void Decider::complete_item(const std::string& item, const Json& output) {
  require_active("complete items");
  check_value(output, fmt::format("the output of '{}'", item));
  std::size_t i = item_index(item, "complete");
  const Item& it = s_.items[i];
  require_work_on(it, "complete");
  if (it.state != ItemState::active)
    throw Error(ErrorCode::invalid_state, fmt::format("cannot complete '{}': it is {}, not active", item, to_string(it.state)));
  ItemKind kind = it.def->def.kind;
  if (kind == ItemKind::stage) {
    for (const auto& c : s_.items)
      if (c.parent == item && (c.state == ItemState::active || c.state == ItemState::suspended || c.state == ItemState::failed))
        throw Error(ErrorCode::invalid_state, fmt::format("cannot complete stage '{}': '{}' is {}", item, c.id, to_string(c.state)));
      else if (c.parent == item && c.required && c.state != ItemState::completed &&
               !(cmmn_item(c) && c.state == ItemState::terminated))
        throw Error(ErrorCode::invalid_state,
                    fmt::format("cannot complete stage '{}': required item '{}' is {}", item, c.id, to_string(c.state)));
  }
  // cmmn: an item without an output path takes an object of case variables, set at the root of
  // the case file before the completion is evaluated (CMMN engines complete a task with variables).
  const bool to_root = !output.is_null() && it.def->def.output.empty() && cmmn_item(it) && output.is_object();
  if (!output.is_null()) {
    const std::string& out = it.def->def.output;
    if (to_root) {
      for (const auto& [key, value] : output.items()) json_path::check_settable(s_.file, key);
    } else if (out.empty()) {
      throw Error(ErrorCode::invalid_argument, fmt::format("'{}' has no output path; set case-file values instead", item));
    } else {
      json_path::check_settable(s_.file, out);
    }
  }
  if (it.assignee.empty() && kind != ItemKind::stage) emit(events::ItemAssigned{.item = it.id, .from = "", .to = actor_.id});
  if (to_root) {
    for (const auto& [key, value] : output.items()) {
      const Json* cur = json_path::find(s_.file, key);
      if (!cur || *cur != value) emit(events::FileSet{.path = key, .value = value, .item = item});
    }
  } else if (!output.is_null()) {
    emit(events::FileSet{.path = s_.items[i].def->def.output, .value = output, .item = item});
  }
  i = s_.item_index.at(item);
  if (kind == ItemKind::stage) {
    std::string id = item;
    for (std::size_t c = 0; c < s_.items.size(); ++c)
      if (s_.items[c].parent == id && !is_terminal(s_.items[c].state)) terminate_tree(c, "exit");
    i = s_.item_index.at(id);
  }
  transition(i, "complete", ItemState::completed);
  after_complete(s_.item_index.at(item));
  settle();
}

void Decider::assign_item(const std::string& item, const std::string& assignee) {
  require_active("assign items");
  std::size_t i = item_index(item, "assign");
  const Item& it = s_.items[i];
  unsigned p = perms();
  if (!(p & (perm_plan | perm_manage))) {
    // Workers may take unassigned work of their role for themselves.
    if (assignee != actor_.id || !it.assignee.empty())
      throw Error(ErrorCode::permission_denied,
                  fmt::format("actor '{}' may not assign '{}' of case '{}' to '{}': it needs the 'plan' permission (workers may only "
                              "take unassigned work for themselves)",
                              actor_.id, item, s_.id, assignee));
    require_work_on(it, "take");
  }
  if (is_terminal(it.state))
    throw Error(ErrorCode::invalid_state, fmt::format("cannot assign '{}': it is {}", item, to_string(it.state)));
  if (it.def->def.kind != ItemKind::human_task && it.def->def.kind != ItemKind::stage)
    throw Error(ErrorCode::invalid_argument, fmt::format("'{}' is a {}; only human tasks and stages are assigned", item,
                                                         to_string(it.def->def.kind)));
  if (!assignee.empty() && assignee != s_.owner) {
    const Participant* part = s_.participant(assignee);
    if (!part)
      throw Error(ErrorCode::invalid_argument, fmt::format("'{}' is not a participant of case '{}'", assignee, s_.id));
    const std::string& role = it.def->def.role;
    if (!role.empty() && !contains(part->roles, role))
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("'{}' cannot be assigned '{}': it needs the case role '{}'", assignee, item, role));
  }
  if (it.assignee == assignee) return;
  emit(events::ItemAssigned{.item = item, .from = it.assignee, .to = assignee});
  settle();
}

void Decider::terminate_item(const std::string& item) {
  require(perm_plan, "terminate items");
  require_active("terminate items");
  std::size_t i = item_index(item, "terminate");
  if (is_terminal(s_.items[i].state))
    throw Error(ErrorCode::invalid_state, fmt::format("'{}' is already {}", item, to_string(s_.items[i].state)));
  const ItemState from = s_.items[i].state;
  const ItemKind kind = s_.items[i].def->def.kind;
  const bool event_like =
      kind == ItemKind::milestone || kind == ItemKind::timer_listener || kind == ItemKind::user_listener;
  if (cmmn_item(s_.items[i]) && !event_like && not_started(from))
    // CMMN: terminate is a transition of active (and suspended) tasks and stages only.
    throw Error(ErrorCode::invalid_state,
                fmt::format("cannot terminate '{}': it is {} (only active or suspended tasks and stages terminate)",
                            item, to_string(from)));
  const bool manual = from == ItemState::active || from == ItemState::suspended;
  terminate_tree(i, manual ? "terminate" : "exit");
  // cmmn: an item without entry criteria repeats when it is terminated, as when it completes
  // (CMMN 1.1 CR-133, as Camunda does).
  if (manual && cmmn_item(s_.items[i]) && !repeats_on_entry(s_.items[i])) repeat(i);
  settle();
}

void Decider::suspend_item(const std::string& item) {
  require_active("suspend items");
  std::size_t i = item_index(item, "suspend");
  require_work_on(s_.items[i], "suspend");
  if (s_.items[i].state != ItemState::active)
    throw Error(ErrorCode::invalid_state, fmt::format("cannot suspend '{}': it is {}", item, to_string(s_.items[i].state)));
  transition(i, "suspend", ItemState::suspended);
  cascade_suspend(item, true);
  settle();
}

void Decider::resume_item(const std::string& item) {
  require_active("resume items");
  std::size_t i = item_index(item, "resume");
  require_work_on(s_.items[i], "resume");
  if (s_.items[i].state != ItemState::suspended)
    throw Error(ErrorCode::invalid_state, fmt::format("cannot resume '{}': it is {}", item, to_string(s_.items[i].state)));
  transition(i, "resume", ItemState::active);
  cascade_suspend(item, false);
  settle();
}

// CMMN parentSuspend / parentResume: the active descendants of a suspended stage are suspended
// with it, and resumed with it (a child suspended on its own before is resumed too).
void Decider::cascade_suspend(const std::string& stage, bool suspend) {
  for (std::size_t c = 0; c < s_.items.size(); ++c) {
    if (s_.items[c].parent != stage) continue;
    std::string child = s_.items[c].id;
    if (suspend && s_.items[c].state == ItemState::active) {
      transition(c, "parent_suspend", ItemState::suspended);
      cascade_suspend(child, true);
    } else if (!suspend && s_.items[c].state == ItemState::suspended) {
      transition(c, "parent_resume", ItemState::active);
      cascade_suspend(child, false);
    }
  }
}

void Decider::disable_item(const std::string& item) {
  require(perm_plan, "disable items");
  require_active("disable items");
  std::size_t i = item_index(item, "disable");
  if (s_.items[i].state != ItemState::enabled)
    throw Error(ErrorCode::invalid_state, fmt::format("cannot disable '{}': it is {}, not enabled", item, to_string(s_.items[i].state)));
  transition(i, "disable", ItemState::disabled);
  settle();
}

void Decider::reenable_item(const std::string& item) {
  require(perm_plan, "re-enable items");
  require_active("re-enable items");
  std::size_t i = item_index(item, "re-enable");
  if (s_.items[i].state != ItemState::disabled)
    throw Error(ErrorCode::invalid_state, fmt::format("cannot re-enable '{}': it is {}, not disabled", item, to_string(s_.items[i].state)));
  transition(i, "reenable", ItemState::enabled);
  settle();
}

void Decider::reactivate_item(const std::string& item) {
  require_active("reactivate items");
  std::size_t i = item_index(item, "reactivate");
  require_work_on(s_.items[i], "reactivate");
  if (s_.items[i].state != ItemState::failed)
    throw Error(ErrorCode::invalid_state, fmt::format("cannot reactivate '{}': it is {}, not failed", item, to_string(s_.items[i].state)));
  transition(i, "reactivate", ItemState::active);
  if (s_.items[i].def->def.kind == ItemKind::automated_task) run_handler(i);
  settle();
}

void Decider::occur(const std::string& item) {
  require_active("raise events");
  std::size_t i = item_index(item, "raise");
  const Item& it = s_.items[i];
  ItemKind k = it.def->def.kind;
  if (k != ItemKind::user_listener && k != ItemKind::milestone)
    throw Error(ErrorCode::invalid_argument, fmt::format("'{}' is a {}; only user event listeners and milestones occur", item,
                                                         to_string(k)));
  require_work_on(it, "raise");
  if (it.state != ItemState::available)
    throw Error(ErrorCode::invalid_state, fmt::format("'{}' cannot occur: it is {}", item, to_string(it.state)));
  if (k == ItemKind::milestone && (!it.def->entry.empty() || !it.after.empty()))
    throw Error(ErrorCode::invalid_state,
                fmt::format("milestone '{}' is reached by its entry criteria, not declared by a person", item));
  if (!parent_active(it)) throw Error(ErrorCode::invalid_state, fmt::format("'{}' cannot occur: its stage is not active", item));
  transition(i, "occur", ItemState::completed);
  after_complete(i);
  settle();
}

// ---- case file and events ---------------------------------------------------------------

void Decider::set_file(const std::string& path, const Json& value) {
  require(perm_plan, "edit the case file");
  require_active("edit the case file");
  check_value(value, fmt::format("the value for '{}'", path));
  json_path::check_settable(s_.file, path);
  if (const Json* cur = json_path::find(s_.file, path); cur && *cur == value) return;
  emit(events::FileSet{.path = path, .value = value});
  settle();
}

void Decider::remove_file(const std::string& path) {
  require(perm_plan, "edit the case file");
  require_active("edit the case file");
  if (!json_path::find(s_.file, path))
    throw Error(ErrorCode::not_found, fmt::format("case '{}' has no case-file value at '{}'", s_.id, path));
  emit(events::FileRemoved{.path = path});
  settle();
}

std::string Decider::attach(const Asset& a) {
  require(perm_plan, "attach content");
  require_active("attach content");
  if (a.kind != "document" && a.kind != "link" && a.kind != "note")
    throw Error(ErrorCode::invalid_argument, fmt::format("asset kind must be document, link or note, not '{}'", a.kind));
  if ((a.kind == "document" || a.kind == "link") && a.uri.empty())
    throw Error(ErrorCode::invalid_argument, fmt::format("a {} needs a uri", a.kind));
  if (a.kind == "note" && a.text.empty()) throw Error(ErrorCode::invalid_argument, "a note needs text");
  if (!a.metadata.is_object()) throw Error(ErrorCode::invalid_argument, "asset metadata must be a JSON object");
  check_value(a.metadata, "the asset's metadata");
  std::string id = a.id;
  if (id.empty()) id = fmt::format("asset-{}", counter(s_, "asset") + 1);
  for (const auto& x : s_.assets)
    if (x.id == id) throw Error(ErrorCode::already_exists, fmt::format("case '{}' already has an asset '{}'", s_.id, id));
  emit(events::AssetAttached{.asset = Asset{.id = id, .kind = a.kind, .title = a.title, .uri = a.uri, .text = a.text,
                                            .media_type = a.media_type, .metadata = a.metadata}});
  settle();
  return id;
}

void Decider::signal(const std::string& name, const Json& payload) {
  require(perm_plan, "send events to the case");
  require_active("send events");
  if (name.empty()) throw Error(ErrorCode::invalid_argument, "an event needs a name");
  check_value(payload, fmt::format("the payload of event '{}'", name));
  emit(events::Signal{.name = name, .payload = payload});
  current_event_ = &payload;
  settle();
  current_event_ = nullptr;
}

// ---- the fixed point --------------------------------------------------------------------

bool Decider::parent_active(const Item& it) const {
  if (s_.status != CaseStatus::active) return false;
  if (it.parent.empty()) return true;
  s_.ensure_links();
  return it.parent_idx != Item::npos && s_.items[it.parent_idx].state == ItemState::active;
}

bool Decider::after_done(const Item& it) const {
  s_.ensure_links();
  for (std::size_t a : it.after_idx)
    if (a == Item::npos || s_.items[a].state != ItemState::completed) return false;
  return true;
}

bool Decider::sentry_fires(const Item& it, const CSentry& s, const std::vector<char>& flags) const {
  for (char f : flags)
    if (!f) return false;
  if (s.condition.empty()) return true;
  CaseEnv env(s_, now_, &it, current_event_);
  return s.condition.test(env);
}

bool Decider::stage_can_complete(const Item& stage) const {
  bool any_child = false;
  for (const auto& c : s_.items) {
    if (c.parent != stage.id) continue;
    any_child = true;
    // cmmn: an available event listener that no sentry refers to cannot change anything and
    // does not hold its stage open (it ends with the stage).
    if (c.state == ItemState::available && cmmn_item(c) &&
        (c.def->def.kind == ItemKind::user_listener || c.def->def.kind == ItemKind::timer_listener)) {
      bool referenced = false;
      listener_orphaned(c, &referenced);
      if (!referenced) continue;
    }
    if (c.state == ItemState::active || c.state == ItemState::suspended || c.state == ItemState::failed) return false;
    // Required means completed; cmmn: or terminated (both peers let an exited required child
    // end its stage).
    if (c.required && c.state != ItemState::completed && !(cmmn_item(c) && c.state == ItemState::terminated))
      return false;
    if (!stage.def->def.auto_complete && !(is_terminal(c.state) || c.state == ItemState::disabled)) return false;
  }
  (void)any_child;
  return true;
}

bool Decider::step_item(std::size_t idx) {
  const Item& it = s_.items[idx];
  if (is_terminal(it.state)) return false;
  // Cheap exits first: only available items, active stages and items with exit criteria can move.
  if (it.def->exit.empty() && it.state != ItemState::available &&
      !(it.state == ItemState::active && it.def->def.kind == ItemKind::stage))
    return false;
  if (!parent_active(it)) return false;
  // Exit criteria.
  for (std::size_t k = 0; k < it.def->exit.size(); ++k) {
    if (sentry_fires(it, it.def->exit[k], it.exit_flags[k])) {
      terminate_tree(idx, "exit");
      return true;
    }
  }
  ItemKind kind = it.def->def.kind;
  switch (it.state) {
    case ItemState::available: {
      if (kind == ItemKind::user_listener || kind == ItemKind::timer_listener) {
        // cmmn: a listener that sentries refer to but none of them can fire any more is removed
        // (as Flowable does), so that it does not hold its stage open.
        if (cmmn_item(it) && listener_orphaned(it)) {
          terminate_tree(idx, "exit");
          return true;
        }
        return false;
      }
      if (!after_done(it)) return false;
      bool has_entry = !it.def->entry.empty();
      if (has_entry) {
        bool any = false;
        for (std::size_t k = 0; k < it.def->entry.size() && !any; ++k) any = sentry_fires(it, it.def->entry[k], it.entry_flags[k]);
        if (!any) {
          // cmmn: a child's entry criterion satisfied from outside the stage starts the stage (as
          // Flowable does); the child then starts with it.
          if (kind != ItemKind::stage || !cross_border_ready(it)) return false;
          activate(idx, "start");
          return true;
        }
      }
      const std::string id = it.id;
      if (kind == ItemKind::milestone) {
        // acm: a milestone with neither entry criteria nor `after` is declared by a person
        // (occur); cmmn: it occurs as soon as its stage is active.
        if (!has_entry && it.after.empty() && !cmmn_item(it)) return false;
        transition(idx, "occur", ItemState::completed);
        after_complete(idx);
      } else {
        CaseEnv env(s_, now_, &it);
        if (eval_condition(it.def->manual, env, false)) {
          transition(idx, "enable", ItemState::enabled);
        } else {
          activate(idx, "start");
        }
      }
      // cmmn: the next instance waits for the entry criterion to be satisfied again.
      if (has_entry) {
        const std::size_t self = s_.item_index.at(id);
        if (repeats_on_entry(s_.items[self])) repeat(self);
      }
      return true;
    }
    case ItemState::active:
      if (kind == ItemKind::stage && stage_can_complete(it)) {
        std::string id = it.id;
        for (std::size_t c = 0; c < s_.items.size(); ++c)
          // acm: disabled children stay disabled; cmmn: they end with their stage.
          if (s_.items[c].parent == id && !is_terminal(s_.items[c].state) &&
              (s_.items[c].state != ItemState::disabled || cmmn_item(s_.items[c])))
            terminate_tree(c, "parent_terminate");
        std::size_t self = s_.item_index.at(id);
        transition(self, "complete", ItemState::completed);
        after_complete(self);
        return true;
      }
      return false;
    default:
      return false;
  }
}

bool Decider::evaluate_goals() {
  bool changed = false;
  for (std::size_t gi = 0; gi < s_.goals.size(); ++gi) {
    const Goal& g = s_.goals[gi];
    if (g.status != GoalStatus::open || g.spec.decision) continue;
    bool has_required_subgoals = false, subgoals_done = true;
    for (const auto& sub : s_.goals) {
      if (sub.spec.parent != g.spec.id || !sub.spec.required || sub.status == GoalStatus::cancelled) continue;
      has_required_subgoals = true;
      if (sub.status != GoalStatus::achieved) subgoals_done = false;
    }
    // Nothing to check (no criterion, milestones or required sub-goals): a person decides.
    if (g.criterion.empty() && g.spec.milestones.empty() && !has_required_subgoals) continue;
    if (!subgoals_done) continue;
    bool ok = true;
    for (const auto& m : g.spec.milestones) {
      bool reached = false;
      for (const auto& it : s_.items)
        if ((it.id == m || it.def->def.id == m) && it.def->def.kind == ItemKind::milestone && it.state == ItemState::completed)
          reached = true;
      if (!reached) {
        ok = false;
        break;
      }
    }
    if (ok && !g.criterion.empty()) {
      CaseEnv env(s_, now_);
      ok = g.criterion.test(env);
    }
    if (ok) {
      emit(events::GoalStatusChanged{.goal = g.spec.id, .from = GoalStatus::open, .to = GoalStatus::achieved});
      ++steps_;
      changed = true;
    }
  }
  return changed;
}

bool Decider::check_case_completion() {
  if (s_.status != CaseStatus::active || s_.hold_open) return false;
  if (const auto plans = cmmn_case() ? plan_stages() : std::vector<std::size_t>{}; !plans.empty()) {
    // cmmn: the case follows its case plan model (the stages of its initial fragments).
    bool terminated = false, completed = true;
    for (std::size_t p : plans) {
      terminated = terminated || s_.items[p].state == ItemState::terminated;
      completed = completed && s_.items[p].state == ItemState::completed;
    }
    if (!terminated) {
      if (!completed) return false;
      for (const auto& it : s_.items) {
        if (!it.parent.empty()) continue;
        if (it.state == ItemState::active || it.state == ItemState::suspended || it.state == ItemState::failed)
          return false;
        if (it.required && it.state != ItemState::completed && it.state != ItemState::terminated) return false;
      }
    }
    for (std::size_t i = 0; i < s_.items.size(); ++i)
      if (s_.items[i].parent.empty() && !is_terminal(s_.items[i].state)) terminate_tree(i, "exit");
    emit(events::CaseStatusChanged{
        .from = CaseStatus::active,
        .to = terminated ? CaseStatus::terminated : CaseStatus::completed,
        .reason = terminated ? "the case plan model was terminated" : "the case plan model completed"});
    return true;
  }
  bool any_required = false;
  for (const auto& g : s_.goals) {
    if (!g.spec.required || g.status == GoalStatus::cancelled) continue;
    any_required = true;
    if (g.status != GoalStatus::achieved) return false;
  }
  if (!any_required) return false;
  for (const auto& it : s_.items) {
    if (it.state == ItemState::active || it.state == ItemState::suspended) return false;
    if (it.required && it.state != ItemState::completed && it.state != ItemState::terminated) return false;
  }
  for (std::size_t i = 0; i < s_.items.size(); ++i)
    if (s_.items[i].parent.empty() && !is_terminal(s_.items[i].state)) terminate_tree(i, "exit");
  emit(events::CaseStatusChanged{
      .from = CaseStatus::active, .to = CaseStatus::completed, .reason = "all required goals achieved"});
  return true;
}

// ---- Semantics::cmmn --------------------------------------------------------------------

bool Decider::cmmn_case() const { return s_.type && s_.type->def.semantics == Semantics::cmmn; }

// The case plan model: the stages of the case type's initial fragments, created first.
std::vector<std::size_t> Decider::plan_stages() const {
  std::vector<std::size_t> out;
  if (!s_.type) return out;
  const std::size_t want = s_.type->def.initial_fragments.size();
  for (std::size_t i = 0; i < s_.items.size() && out.size() < want; ++i) {
    const Item& it = s_.items[i];
    if (it.parent.empty() && it.fragment && it.def == &it.fragment->stage) out.push_back(i);
  }
  return out;
}

// Whether sentries refer to this listener (`referenced`) but none of them can fire any more:
// the sentry's item has no instance that could still use it (entry criteria: an available
// instance; exit criteria: any unfinished one) and none can be created (no enclosing stage
// instance that has yet to start).
bool Decider::listener_orphaned(const Item& listener, bool* referenced) const {
  const CFragment& f = *listener.fragment;
  const std::string& lid = listener.def->def.id;
  const std::string& root = listener.frag_root;
  bool refs = false;
  for (const auto& x : f.exit)
    if (refers_to(x, lid)) {
      refs = true;
      const Item* stage = s_.find_item(root);
      if (stage && !is_terminal(stage->state)) {
        if (referenced) *referenced = true;
        return false;
      }
    }
  std::unordered_map<const CItem*, const CItem*> parent;
  auto instances_can = [&](const CItem* d, bool entry) {
    bool live = false;
    for (const auto& it : s_.items) {
      if (it.def != d || it.frag_root != root || is_terminal(it.state)) continue;
      live = true;
      if (!entry || it.state == ItemState::available) return true;
    }
    if (live) return false;
    // No unfinished instance: one is still to come if an enclosing stage has yet to start.
    if (parent.empty()) collect_parents(nullptr, f.items, parent);
    for (const CItem* p = parent[d]; p; p = parent[p]) {
      bool any = false;
      for (const auto& it : s_.items) {
        if (it.def != p || it.frag_root != root || is_terminal(it.state)) continue;
        any = true;
        if (not_started(it.state)) return true;
      }
      if (any) return false;
    }
    return false;
  };
  for (const auto& [id, d] : f.by_id) {
    for (int entry = 1; entry >= 0; --entry)
      for (const auto& x : entry ? d->entry : d->exit) {
        if (!refers_to(x, lid)) continue;
        refs = true;
        if (instances_can(d, entry == 1)) {
          if (referenced) *referenced = true;
          return false;
        }
      }
  }
  if (referenced) *referenced = refs;
  return refs;
}

// An available cmmn stage whose descendant has an entry criterion that refers to items outside
// the stage and is satisfied by item transitions of this command (and its if-part holds).
bool Decider::cross_border_ready(const Item& stage) const {
  if (!cmmn_item(stage) || stage.def == &stage.fragment->stage) return false;
  const auto seen = command_transitions(s_, events_, stage.frag_root);
  if (seen.empty()) return false;
  std::vector<const CItem*> inside;
  collect_descendants(stage.def->children, inside);
  auto is_inside = [&](const std::string& id) {
    if (id == stage.def->def.id) return true;
    for (const CItem* c : inside)
      if (c->def.id == id) return true;
    return false;
  };
  for (const CItem* d : inside) {
    // Only for an item that has had no instance in this case plan yet (as Flowable).
    bool existed = false;
    for (const auto& it : s_.items)
      if (it.def == d && it.frag_root == stage.frag_root) existed = true;
    if (existed) continue;
    for (const auto& x : d->entry) {
      if (x.on_parts.empty()) continue;
      bool crosses = false, all = true;
      for (const auto& op : x.on_parts) {
        if (op.source != OnPartSource::item ||
            std::find(seen.begin(), seen.end(), std::pair<std::string, std::string>{op.ref, op.on}) == seen.end()) {
          all = false;
          break;
        }
        if (!is_inside(op.ref)) crosses = true;
      }
      if (!all || !crosses) continue;
      if (!x.condition.empty()) {
        CaseEnv env(s_, now_, &stage, current_event_);
        if (!x.condition.test(env)) continue;
      }
      return true;
    }
  }
  return false;
}

void Decider::settle() {
  std::string saved_actor = emit_actor_;
  emit_actor_.clear();  // what follows is the engine's doing
  const std::size_t max_steps = sv_.options->max_steps_per_command;
  for (int round = 0;; ++round) {
  bool changed = s_.status == CaseStatus::active;
  while (changed && !halted_) {
    changed = false;
    for (std::size_t i = 0; i < s_.items.size(); ++i) {
      if (step_item(i)) changed = true;
      if (steps_ > max_steps || halted_) break;
    }
    if (steps_ <= max_steps && evaluate_goals()) changed = true;
    if (steps_ > max_steps) {
      emit(events::ErrorRecorded{.message = fmt::format("sentry evaluation did not reach a fixed point within {} steps; "
                                                        "evaluation stopped (check repetition rules and sentries that "
                                                        "re-trigger each other)",
                                                        max_steps)});
      halted_ = true;
      break;
    }
    if (check_case_completion()) changed = false;
  }
  update_timing(true);
  // Escalations may bring in people or add work; the new work settles in another round.
  // Rounds are bounded (each rule fires a bounded number of times per target anyway).
  if (pending_escalations_.empty() || halted_ || round >= 4 || !run_escalations()) break;
  }
  apply_priority_policy();
  emit_actor_ = saved_actor;
}

bool Decider::run_escalations() {
  std::vector<Trigger> triggers = std::move(pending_escalations_);
  pending_escalations_.clear();
  bool changed_plan = false;
  for (const Trigger& t : triggers) {
    for (const EscalationRule& r : sv_.options->escalation) {
      if (r.on != t.on) continue;
      if (!r.target.empty() && r.target != t.target && r.target != t.def) continue;
      const std::string key = r.id + "|" + t.target;
      auto it = s_.escalations.find(key);
      const int done = it == s_.escalations.end() ? 0 : it->second;
      if (done >= std::max(1, r.max_times)) continue;
      std::string notify = r.notify;
      const Item* item = t.on == "item_overdue" ? s_.find_item(t.target) : nullptr;
      if (notify == "owner") {
        const Goal* g = s_.find_goal(t.target);
        notify = g && !g->spec.owner.empty() ? g->spec.owner : s_.owner;
      } else if (notify == "assignee") {
        notify = item && !item->assignee.empty() ? item->assignee : s_.owner;
      }
      Json actions = Json::array();
      if (r.bring_in) actions.push_back({{"bring_in", r.bring_in->actor}});
      if (!r.reassign_to.empty() && item) actions.push_back({{"reassign_to", r.reassign_to}});
      if (!r.add_fragment.empty()) actions.push_back({{"add_fragment", r.add_fragment}});
      emit(events::Escalated{.rule = r.id, .target = t.target, .trigger = t.on, .count = done + 1, .notify = notify,
                             .actions = std::move(actions)});
      if (r.bring_in) {
        const Participant* existing = s_.participant(r.bring_in->actor);
        std::vector<std::string> roles;
        for (const std::string& role : r.bring_in->roles)
          if (!existing || std::find(existing->roles.begin(), existing->roles.end(), role) == existing->roles.end())
            roles.push_back(role);
        if (!existing || !roles.empty()) emit(events::ParticipantAdded{.actor = r.bring_in->actor, .roles = roles});
      }
      if (!r.reassign_to.empty() && item && item->assignee != r.reassign_to && !is_terminal(item->state))
        emit(events::ItemAssigned{.item = item->id, .from = item->assignee, .to = r.reassign_to});
      if (!r.add_fragment.empty()) {
        try {
          FragmentUse use;
          use.fragment = r.add_fragment;
          if (s_.find_goal(t.target)) use.goal = t.target;
          const bool saved = creating_;
          creating_ = true;  // no settle inside: this round's caller settles
          add_fragment(use, {});
          creating_ = saved;
          changed_plan = true;
        } catch (const Error& e) {
          emit(events::ErrorRecorded{
              .message = fmt::format("escalation '{}' could not add fragment '{}': {}", r.id, r.add_fragment, e.what())});
        }
      }
    }
  }
  return changed_plan;
}

void Decider::apply_priority_policy() {
  if (!sv_.priority || (s_.status != CaseStatus::active && s_.status != CaseStatus::suspended)) return;
  Json ex = sv_.priority->evaluate(s_, now_);
  const int to = s_.priority_base + static_cast<int>(std::lround(ex["score"].get<double>()));
  if (to == s_.priority) return;
  emit(events::PriorityChanged{.from = s_.priority, .to = to, .score = ex["score"], .terms = std::move(ex["terms"])});
}

std::shared_ptr<const CompiledPriority> CompiledPriority::compile(const PriorityPolicy& policy) {
  auto c = std::make_shared<CompiledPriority>();
  std::vector<std::string> problems;
  for (std::size_t i = 0; i < policy.terms.size(); ++i) {
    const PriorityTerm& t = policy.terms[i];
    if (t.name.empty()) problems.push_back(fmt::format("/terms/{}/name: a term needs a name", i));
    try {
      c->terms.push_back(Term{t.name, expr::Expression::parse(t.expression, model::engine_parse_options()), t.weight});
    } catch (const Error& e) {
      problems.push_back(fmt::format("/terms/{}/expression: {}", i, e.what()));
    }
    if (!std::isfinite(t.weight)) problems.push_back(fmt::format("/terms/{}/weight: not a finite number", i));
  }
  if (!problems.empty())
    throw Error(ErrorCode::invalid_definition, fmt::format("priority policy: {}", fmt::join(problems, "; ")));
  return c;
}

Json CompiledPriority::evaluate(const CaseState& state, TimePoint now) const {
  CaseEnv env(state, now);
  double score = 0;
  Json terms_out = Json::array();
  for (const Term& t : terms) {
    double value = 0;
    expr::Value v = t.expression.evaluate(env);
    if (const double* d = std::get_if<double>(&v.storage())) value = std::isfinite(*d) ? *d : 0;
    else if (const bool* b = std::get_if<bool>(&v.storage())) value = *b ? 1 : 0;
    const double contribution = value * t.weight;
    score += contribution;
    terms_out.push_back({{"name", t.name}, {"value", value}, {"weight", t.weight}, {"contribution", contribution}});
  }
  return Json{{"score", score}, {"terms", std::move(terms_out)}};
}

// ---- timing -----------------------------------------------------------------------------

Duration Decider::goal_remaining(const Goal& g, std::optional<TimePoint>* next_change, Duration* without_active) const {
  // Goals bound: this one and its sub-goals (transitively).
  std::vector<const std::string*> bound{&g.spec.id};
  for (std::size_t k = 0; k < bound.size(); ++k)
    for (const auto& sub : s_.goals)
      if (sub.spec.parent == *bound[k] && sub.status == GoalStatus::open) bound.push_back(&sub.spec.id);
  auto is_bound = [&](const std::string& goal) {
    for (const auto* b : bound)
      if (*b == goal) return true;
    return false;
  };
  const bool top_level = g.spec.required && g.spec.parent.empty();
  const std::size_t n = s_.items.size();
  s_.ensure_links();
  // Weight of every item that counts (-1: does not count). Scratch buffers are reused.
  thread_local std::vector<std::int64_t> weight, weight0, finish, finish0;
  thread_local std::vector<char> mark;
  thread_local std::vector<std::pair<std::size_t, std::size_t>> stack;
  weight.assign(n, -1);
  weight0.assign(n, -1);  // the same with active tasks counted as done
  bool any = false;
  for (std::size_t i = 0; i < n; ++i) {
    const Item& it = s_.items[i];
    if (is_terminal(it.state)) continue;
    // Unbound work serves the case's top-level required goals.
    if (it.goal.empty() ? !top_level : !is_bound(it.goal)) continue;
    Duration w{0};
    const auto& est = it.def->def.estimate;
    if (it.def->def.kind == ItemKind::stage) {
      if (it.state != ItemState::active) {
        if (est) w = *est;
        else if (it.fragment && it.def == &it.fragment->stage) w = it.fragment->total_estimate;
      }
    } else if (est) {
      w = *est;
      if (it.state == ItemState::active && it.activated_at) {
        w = std::max(Duration{0}, *est - sv_.calendar->between(*it.activated_at, now_));
        weight0[i] = 0;
        // Until its estimate is used up an active task's remaining work shrinks as time passes;
        // after that the plan stops shrinking: the goal's risk must be checked again then.
        if (next_change && w.count() > 0) {
          // A projection: beyond the supported years it is simply never.
          std::optional<TimePoint> spent;
          try {
            spent = sv_.calendar->add(*it.activated_at, *est);
          } catch (const Error&) {
          }
          if (spent && (!*next_change || *spent < **next_change)) *next_change = *spent;
        }
      }
    }
    weight[i] = w.count();
    if (weight0[i] < 0) weight0[i] = w.count();
    any = true;
  }
  if (without_active) *without_active = Duration{0};
  if (!any) return Duration{0};
  // Longest path ending at each item: an iterative depth-first search over its prerequisites
  // (`after` items, then items its entry on-parts listen to) that count. Definitions and
  // add_dependency keep the graph acyclic; an edge back into the stack is ignored anyway.
  finish.assign(n, 0);
  finish0.assign(n, 0);
  mark.assign(n, 0);  // 0 new, 2 on the stack, 1 done
  auto prereq = [&](std::size_t i, std::size_t pos) -> std::size_t {
    const Item& it = s_.items[i];
    while (pos < it.after_idx.size() && it.after_idx[pos] == Item::npos) ++pos;  // not created yet
    if (pos < it.after_idx.size()) return it.after_idx[pos];
    pos -= it.after_idx.size();
    for (std::size_t l : it.onpart_lists) {  // items its entry on-parts listen to (itself: ignored below)
      const auto& list = s_.def_lists[l];
      if (pos < list.size()) return list[pos];
      pos -= list.size();
    }
    return Item::npos;
  };
  std::int64_t best = 0, best0 = 0;
  for (std::size_t root = 0; root < n; ++root) {
    if (weight[root] < 0 || mark[root]) continue;
    stack.clear();
    stack.push_back({root, 0});
    mark[root] = 2;
    while (!stack.empty()) {
      auto [i, pos] = stack.back();
      std::size_t d = prereq(i, pos);
      if (d != Item::npos) {
        stack.back().second = pos + 1;
        if (weight[d] >= 0 && mark[d] == 0) {
          mark[d] = 2;
          stack.push_back({d, 0});
        } else if (weight[d] >= 0 && mark[d] == 1) {
          finish[i] = std::max(finish[i], finish[d]);  // finish[i] holds the latest prerequisite end so far
          finish0[i] = std::max(finish0[i], finish0[d]);
        }
        continue;
      }
      finish[i] += weight[i];
      finish0[i] += weight0[i];
      best = std::max(best, finish[i]);
      best0 = std::max(best0, finish0[i]);
      mark[i] = 1;
      stack.pop_back();
      if (!stack.empty()) {
        std::size_t parent = stack.back().first;
        finish[parent] = std::max(finish[parent], finish[i]);
        finish0[parent] = std::max(finish0[parent], finish0[i]);
      }
    }
  }
  if (without_active) *without_active = Duration{best0};
  return Duration{best};
}

void Decider::update_timing(bool emit_events) {
  bool live = s_.status == CaseStatus::active || s_.status == CaseStatus::suspended;
  // A learned forecast (EngineOptions::forecaster) can raise at-risk early for the case's
  // top-level required goals: the case is expected to finish after their deadline.
  TimePoint forecast_at{};
  bool asked = false, have_forecast = false;
  auto forecast_late = [&](const Goal& g) {
    if (!sv_.options->forecaster || !g.deadline || !g.spec.parent.empty() || !g.spec.required) return false;
    if (!asked) {
      asked = true;
      try {
        if (std::optional<TimePoint> f = sv_.options->forecaster(to_info(s_), now_)) {
          forecast_at = *f;
          have_forecast = true;
        }
      } catch (...) {
        have_forecast = false;  // a failing forecaster counts as no forecast
      }
    }
    return have_forecast && forecast_at > *g.deadline;
  };
  for (std::size_t gi = 0; gi < s_.goals.size(); ++gi) {
    Goal& g = s_.goals[gi];
    g.risk_at.reset();
    if (g.status != GoalStatus::open || !live || g.paused_since) continue;
    std::optional<TimePoint> next_change;
    Duration without_active{0};
    g.remaining_work = goal_remaining(g, &next_change, &without_active);
    Timing t = Timing::on_track;
    if (g.deadline && now_ >= *g.deadline) {
      t = Timing::overdue;
    } else if (g.deadline) {
      TimePoint latest = sv_.calendar->latest_start(*g.deadline, g.remaining_work);
      if (now_ > latest || forecast_late(g)) {
        t = Timing::at_risk;
      } else if (g.remaining_work.count() > 0) {
        // When to look again. Without active tasks the remaining work is fixed and the goal
        // turns at risk just after `latest`. An active task's remaining work shrinks as time
        // passes, so `latest` moves with the clock: the paths through it cannot turn the goal
        // at risk before the task's estimate is used up (`next_change`); the other paths can,
        // at the latest start computed with those tasks counted as done.
        if (!next_change) {
          g.risk_at = latest + Duration{1};
        } else {
          g.risk_at = next_change;
          TimePoint other = sv_.calendar->latest_start(*g.deadline, without_active) + Duration{1};
          if (other > now_ && other < *g.risk_at) g.risk_at = other;
        }
      }
    }
    if (t != g.timing && emit_events) {
      emit(events::GoalTiming{
          .goal = g.spec.id, .from = g.timing, .to = t, .remaining_work = g.remaining_work, .deadline = g.deadline});
      if (t == Timing::at_risk || t == Timing::overdue)
        pending_escalations_.push_back({t == Timing::at_risk ? "goal_at_risk" : "goal_overdue", s_.goals[gi].spec.id, {}});
    }
  }
  update_promises(emit_events);
}

void Decider::update_promises(bool emit_events) {
  const bool live = s_.status == CaseStatus::active || s_.status == CaseStatus::suspended;
  const bool done = s_.status == CaseStatus::completed || s_.status == CaseStatus::closed;
  // The plan's estimate: the longest remaining work of the open goals.
  Duration remaining{0};
  for (const Goal& g : s_.goals)
    if (g.status == GoalStatus::open) remaining = std::max(remaining, g.remaining_work);
  std::optional<TimePoint> forecast;
  bool asked = false;
  const Duration warning = sv_.options->promise_warning;
  for (std::size_t i = 0; i < s_.promises.size(); ++i) {
    Promise& x = s_.promises[i];
    x.risk_at.reset();
    if (x.status != PromiseStatus::open) continue;
    const std::string id = x.id;
    if (done || s_.status == CaseStatus::terminated) {
      if (!emit_events) continue;
      if (done && now_ <= x.due) emit(events::PromiseKept{.promise = id});
      else emit(events::PromiseBroken{.promise = id, .due = x.due, .reason = done ? "completed late" : "case terminated"});
      continue;
    }
    if (!live) continue;
    if (now_ >= x.due) {
      if (emit_events) emit(events::PromiseBroken{.promise = id, .due = x.due, .reason = "due passed"});
      continue;
    }
    // A projection: work that ends beyond the supported years ends at their end.
    TimePoint expected = kLatestTime;
    try {
      expected = sv_.calendar->add(now_, remaining);
    } catch (const Error&) {
    }
    if (sv_.options->forecaster) {
      if (!asked) {
        asked = true;
        try {
          forecast = sv_.options->forecaster(to_info(s_), now_);
        } catch (...) {
          forecast.reset();  // a failing forecaster falls back to the plan
        }
      }
      if (forecast) expected = std::max(*forecast, now_);
    }
    // At risk when the expected completion is after the promise, or when less than the
    // warning window is left (so a warning always comes before a broken promise).
    const TimePoint warn_at = x.due - warning;
    const Timing t = (expected > x.due || now_ >= warn_at) ? Timing::at_risk : Timing::on_track;
    if (t == Timing::on_track) {
      TimePoint risk = warn_at;
      if (remaining.count() > 0) risk = std::min(risk, sv_.calendar->latest_start(x.due, remaining) + Duration{1});
      s_.promises[i].risk_at = std::max(risk, now_ + Duration{1});
    }
    // The first evaluation records the expected completion too (from == to).
    if ((t != s_.promises[i].timing || !s_.promises[i].expected) && emit_events)
      emit(events::PromiseTiming{.promise = id, .from = s_.promises[i].timing, .to = t, .expected = expected,
                                 .due = s_.promises[i].due, .source = forecast ? "forecast" : "plan"});
  }
}

void Decider::refresh_derived(CaseState& state, const Services& services, TimePoint now) {
  Actor engine;
  Decider d(state, services, engine, now);
  d.update_timing(false);
}

std::optional<TimePoint> Decider::next_due(const CaseState& s) {
  std::optional<TimePoint> best;
  auto consider = [&](std::optional<TimePoint> t) {
    if (t && (!best || *t < *best)) best = t;
  };
  if (s.status == CaseStatus::active) {
    for (const auto& it : s.items) {
      if (is_terminal(it.state)) continue;
      if (it.state == ItemState::available && it.timer_at) {
        // A timer in a suspended stage waits for the stage to resume.
        const Item* parent = it.parent.empty() ? nullptr : s.find_item(it.parent);
        if (!parent || parent->state == ItemState::active) consider(it.timer_at);
      }
      if (!it.overdue) consider(it.due);
    }
  }
  if (s.status == CaseStatus::active || s.status == CaseStatus::suspended) {
    for (const auto& g : s.goals) {
      if (g.status != GoalStatus::open || !g.deadline || g.paused_since) continue;
      if (g.timing != Timing::overdue) consider(g.deadline);
      if (g.timing == Timing::on_track) consider(g.risk_at);
    }
    for (const auto& x : s.promises) {
      if (x.status != PromiseStatus::open) continue;
      consider(x.due);
      if (x.timing == Timing::on_track) consider(x.risk_at);
    }
  }
  return best;
}

std::size_t Decider::fire_due() {
  std::size_t fired = 0;
  emit_actor_.clear();
  for (std::size_t guard = 0; guard < 100000; ++guard) {
    auto due = next_due(s_);
    if (!due || *due > now_) break;
    bool did = false;
    // Timer listeners and item deadlines due at exactly this time, in item order.
    if (s_.status == CaseStatus::active) {
      for (std::size_t i = 0; i < s_.items.size() && !did; ++i) {
        const Item& it = s_.items[i];
        if (is_terminal(it.state)) continue;
        if (it.state == ItemState::available && it.timer_at == due && parent_active(it)) {
          transition(i, "occur", ItemState::completed);
          after_complete(i);
          did = true;
        } else if (!it.overdue && it.due == due) {
          pending_escalations_.push_back({"item_overdue", it.id, it.def->def.id});
          emit(events::ItemOverdue{.item = it.id, .due = *due});
          did = true;
        }
      }
    }
    if (did) {
      ++fired;
      settle();
      continue;
    }
    // A goal deadline or risk time: recompute timing.
    auto before = s_.version;
    update_timing(true);
    if (s_.version != before) ++fired;
    auto again = next_due(s_);
    if (again && *again == *due) break;  // nothing consumed it: do not spin
    if (s_.version != before) settle();
  }
  return fired;
}

}  // namespace acm::runtime
