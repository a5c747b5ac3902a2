// SPDX-License-Identifier: Apache-2.0
// runtime/decider.hpp - commands on one case: validate, emit events, settle to a fixed point.
#pragma once

#include <acm/engine.hpp>

#include "runtime/compiled.hpp"
#include "runtime/events.hpp"
#include "runtime/state.hpp"

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acm::runtime {

/// A priority policy with its expressions parsed.
struct CompiledPriority {
  struct Term {
    std::string name;
    expr::Expression expression;
    double weight = 1;
  };
  std::vector<Term> terms;
  static std::shared_ptr<const CompiledPriority> compile(const PriorityPolicy& policy);
  /// {score, terms: [{name, value, weight, contribution}]} for the case now.
  Json evaluate(const CaseState& state, TimePoint now) const;
};

/// What a decider needs from its engine.
struct Services {
  std::shared_ptr<const CompiledPriority> priority;
  const Registry* registry = nullptr;
  const Calendar* calendar = nullptr;
  const EngineOptions* options = nullptr;
  /// The handler for automated tasks of that name, or nullptr.
  std::function<std::shared_ptr<const TaskHandler>(const std::string&)> handler;
  bool is_admin(const Actor& a) const;
  bool is_designer(const Actor& a) const;
};

/// Permission bits on a case.
enum Perm : unsigned { perm_view = 1, perm_work = 2, perm_plan = 4, perm_manage = 8, perm_all = 15 };

/// Runs one command against a case state. Every command validates first and throws before
/// emitting anything; the events it emits are applied to the state immediately (so later
/// steps see them) and collected for the history. The caller restores the state if an
/// exception escapes after events were emitted.
class Decider {
 public:
  Decider(CaseState& state, const Services& services, const Actor& actor, TimePoint now);

  /// The events emitted so far (sequence numbers assigned from the state's version).
  std::vector<Event>& events() { return events_; }
  CaseStatus status() const { return s_.status; }

  // Case lifecycle and people (decider_case.cpp).
  void create_case(const std::string& id, const NewCase& spec, std::shared_ptr<const CCaseType> type);
  void set_owner(const std::string& owner);
  void add_participant(const Participant& p);
  void remove_participant(const std::string& actor);
  void set_priority(int priority);
  void set_subject_attribute(const std::string& key, const Json& value);
  void set_status(CaseStatus to, const std::string& reason, bool reopen = false);  // suspend/resume/terminate/close/reopen
  void complete_case();

  // Goals and promises (decider_goals.cpp).
  void add_goal(const GoalSpec& goal);
  void change_goal(const std::string& goal_id, const GoalChange& change);
  void cancel_goal(const std::string& goal_id, const std::string& reason);
  void achieve_goal(const std::string& goal_id);
  void pause_goal(const std::string& goal_id, const std::string& reason);
  void resume_goal(const std::string& goal_id);
  void make_promise(const PromiseSpec& promise);
  void keep_promise(const std::string& promise_id);
  void cancel_promise(const std::string& promise_id, const std::string& reason);

  // Assembly (decider_assembly.cpp).
  std::vector<FragmentOffer> applicable_fragments() const;
  /// The applicable fragments this decider's actor may add now (may_plan): what the case offers
  /// that actor (ActorView::applicable_fragments).
  std::vector<FragmentOffer> plannable_fragments() const;
  std::string add_fragment(const FragmentUse& use, const std::vector<std::string>& after);
  std::string add_task(const AdHocTask& task);
  void add_dependency(const std::string& item, const std::string& after);
  void remove_item(const std::string& item);

  // Work (decider_work.cpp).
  void start_item(const std::string& item);
  void complete_item(const std::string& item, const Json& output);
  void assign_item(const std::string& item, const std::string& assignee);
  void terminate_item(const std::string& item);
  void suspend_item(const std::string& item);
  void resume_item(const std::string& item);
  void disable_item(const std::string& item);
  void reenable_item(const std::string& item);
  void reactivate_item(const std::string& item);
  void occur(const std::string& item);

  // Case file and events (decider_file.cpp).
  void set_file(const std::string& path, const Json& value);
  void remove_file(const std::string& path);
  std::string attach(const Asset& asset);
  void signal(const std::string& name, const Json& payload);

  /// Fires the case's timers due at or before `now_`, in time order. Returns how many fired
  /// (decider_timing.cpp).
  std::size_t fire_due();

  /// Re-evaluates sentries, goals and case completion to a fixed point, then goal timing
  /// (decider_settle.cpp).
  void settle();

  /// Earliest time at which the case has a timer or deadline check due.
  static std::optional<TimePoint> next_due(const CaseState& state);
  /// Recomputes derived timing data (remaining work, risk times) without emitting events;
  /// used after rebuilding a case from its history.
  static void refresh_derived(CaseState& state, const Services& services, TimePoint now);

  /// Throws Error(permission_denied) unless the actor may view the case (decider_auth.cpp).
  static void require_view(const CaseState& state, const Services& services, const Actor& actor);
  /// Throws Error(permission_denied) unless the actor has every permission of `perms` (a Perm
  /// mask) on the case now: a retried idempotent command is checked again.
  static void require_perms(const CaseState& state, const Services& services, const Actor& actor, unsigned perms,
                            std::string_view what);
  /// The permissions (Perm mask) this command was checked for so far.
  unsigned permissions_checked() const { return perms_checked_; }

 private:
  // Events and lookups (decider.cpp).
  /// Refuses (Error(invalid_argument), naming `what`) a value larger than the engine's
  /// max_payload_bytes or nested deeper than any event payload may be.
  void check_value(const Json& value, std::string_view what) const;
  /// Records an event (a payload struct of runtime/events.hpp, which names its kind): its
  /// payload is checked (size, nesting, text: Error(invalid_argument) naming the kind) before
  /// it is applied to the state and appended to events().
  template <class Payload>
  void emit(Payload payload) {
    emit_event(Payload::kind, std::move(payload).to_json());
  }
  void emit_event(events::Kind kind, Json payload);
  void check_growth();  // records an error event and halts when a bound is reached
  std::size_t item_index(const std::string& id, std::string_view what) const;
  Goal& goal_ref(const std::string& id);
  std::string new_id(const std::string& prefix, const std::string& counter);

  // Authorization (decider_auth.cpp).
  unsigned perms() const;
  void require(unsigned need, std::string_view what) const;
  void require_active(std::string_view what) const;
  void require_work_on(const Item& it, std::string_view what) const;
  void require_authorized(const FragmentDef& f) const;  // a fragment's authorized_roles (or manage)
  bool authorized(const FragmentDef& f) const;          // holds one of its authorized_roles, or manage
  /// Whether the actor may add the fragment, as add_fragment checks it: one of its
  /// authorized_roles (or manage) when it names some, else the plan permission.
  bool may_plan(const FragmentDef& f) const;

  // Assembly (decider_assembly.cpp): the plan's cycle check (plan::cycle_if_waiting).
  void check_no_cycle(const std::string& item, const std::string& after) const;

  // Item transitions (decider_work.cpp).
  void transition(std::size_t idx, std::string_view name, ItemState to);
  void assign_default(std::size_t idx);  // a human task's default assignee, when it starts
  void terminate_tree(std::size_t idx, std::string_view name);
  void cascade_suspend(const std::string& stage, bool suspend);
  void activate(std::size_t idx, std::string_view name);
  void run_handler(std::size_t idx);
  void after_complete(std::size_t idx);
  void repeat(std::size_t idx);  // Semantics::cmmn: the next instance of a repeating item

  // Settling to a fixed point (decider_settle.cpp).
  bool parent_active(const Item& it) const;
  bool after_done(const Item& it) const;
  bool sentry_fires(const Item& it, const CSentry& s, const std::vector<char>& flags) const;
  bool step_item(std::size_t idx);
  bool stage_can_complete(const Item& stage) const;
  bool evaluate_goals();
  bool check_case_completion();
  // Semantics::cmmn (docs/cmmn.md, "Semantic choices").
  bool listener_orphaned(const Item& listener, bool* referenced = nullptr) const;
  bool cross_border_ready(const Item& stage) const;
  std::vector<std::size_t> plan_stages() const;
  bool cmmn_case() const;

  // Escalation and the priority policy (decider_escalation.cpp).
  bool run_escalations();
  void apply_priority_policy();

  // Timing (decider_timing.cpp): remaining work is the critical path (plan::longest_paths).
  void update_timing(bool emit_events);
  void update_promises(bool emit_events);
  Duration goal_remaining(const Goal& g, std::optional<TimePoint>* next_change = nullptr,
                          Duration* without_active = nullptr) const;

  CaseState& s_;
  const Services& sv_;
  Actor actor_;
  std::string emit_actor_;
  TimePoint now_;
  std::vector<Event> events_;
  const Json* current_event_ = nullptr;
  std::size_t steps_ = 0;
  bool halted_ = false;
  mutable unsigned perms_checked_ = 0;
  std::size_t items_at_start_ = 0;  // s_.items.size() when the command began (growth bound)
  bool creating_ = false;
  struct Trigger {
    std::string on, target, def;  // def: item definition id (item_overdue)
  };
  std::vector<Trigger> pending_escalations_;
};

}  // namespace acm::runtime
