// SPDX-License-Identifier: Apache-2.0
// acm/routing.hpp - help-desk routing: which agent should take a task, and why.
//
// A Router ranks the agents of a host-supplied roster for one open task of a case by four
// terms: skill match, current load, availability and past performance on the same kind of
// work. Every suggestion carries each term's value and weighted contribution. The Router can
// also assign the best agent, on demand or whenever a task becomes active or enabled.
// Details: docs/helpdesk.md, "Routing".
//
// Thread safety: a Router may be used from many threads at once.
#pragma once

#include <acm/engine.hpp>
#include <acm/time.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace acm::helpdesk {

/// A time span [from, to) in which an agent works.
struct AvailabilityWindow {
  TimePoint from{};
  TimePoint to{};
};

/// Someone who can take work, as the host knows them.
struct Agent {
  std::string id;                        ///< the actor id used in cases
  std::vector<std::string> roles;        ///< case roles the agent can hold ("agent", "expert", ...)
  std::map<std::string, double> skills;  ///< skill -> level in 0..1 (1 = expert)
  int capacity = 5;                      ///< most open work items at once (> 0)
  bool available = true;                 ///< false: away (sick, off shift)
  /// If not empty, the agent is available only inside one of these windows (and `available`).
  std::vector<AvailabilityWindow> windows;
};

/// Weights of the ranking terms (each term is in 0..1; the score is the weighted sum divided
/// by the sum of the weights, so it is in 0..1 too).
struct RoutingWeights {
  double skill = 0.4;
  double load = 0.25;
  double availability = 0.15;
  double performance = 0.2;
};

/// How a Router ranks and assigns.
struct RoutingOptions {
  RoutingWeights weights;
  /// Completions of a task kind an agent needs before their own record counts fully: the
  /// performance term is shrunk towards the neutral 0.5 by n / (n + prior_completions).
  double prior_completions = 3;
  /// The actor that assigns work (and adds the agent as a participant when needed); needs to
  /// manage the case (admin role).
  Actor actor{"router", {"admin"}};
  /// Learn from every completed task (subscribes to item_transition events).
  bool learn_online = true;
  /// Assign the best available agent with free capacity whenever an unassigned human task
  /// becomes active or enabled.
  bool auto_assign_on_activation = false;
};

/// One ranking term of a suggestion.
struct RouteTerm {
  std::string name;  ///< "skill", "load", "availability", "performance"
  double value = 0;  ///< 0..1
  double weight = 0;
  double contribution = 0;  ///< weight * value / sum of weights
  std::string detail;       ///< e.g. "2 of 5 open items", "median 40m over 6 completions"
};

/// An agent ranked for a task.
struct RouteSuggestion {
  std::string agent;
  double score = 0;  ///< sum of the contributions, 0..1 (0 when excluded)
  std::vector<RouteTerm> terms;
  bool available = true;     ///< available now
  bool has_capacity = true;  ///< fewer open items than capacity
  bool excluded = false;     ///< cannot take the task (lacks its role)
  std::string reason;        ///< why excluded
};

/// What the Router has learned about an agent on one kind of task.
struct PerformanceRecord {
  std::uint64_t completed = 0;
  Duration median{0};
};

/// Ranks agents for tasks and assigns them. Holds a reference to the Engine, which must
/// outlive it. Unless both `learn_online` and `auto_assign_on_activation` are off, it
/// subscribes to `item_transition` events; its callback reads the case (Engine::find_case) on
/// each transition of a task to completed, active or enabled. Destroy a Router while no command
/// is running on the engine (its destructor unsubscribes).
class Router {
 public:
  Router(Engine& engine, std::vector<Agent> roster, RoutingOptions options = {});
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  /// Replaces the roster. Errors: invalid_argument (empty or duplicate id, capacity <= 0,
  /// a skill level outside 0..1, a window that ends before it starts).
  void set_roster(std::vector<Agent> roster);
  /// Adds or replaces one agent (same checks).
  void upsert_agent(Agent agent);

  /// Agents ranked for the item (best first; ties by agent id), at most `limit`. Agents
  /// lacking the item's role are left out, or listed last with excluded = true and the reason
  /// when `include_excluded`. Errors: not_found (case or item).
  std::vector<RouteSuggestion> suggest(const std::string& case_id, const std::string& item_id, std::size_t limit = 5,
                                       bool include_excluded = false) const;

  /// Assigns the best suggestion that is available and has free capacity (adding the agent
  /// as a participant with the item's role first if needed). Returns the agent, or nullopt
  /// if nobody qualifies. Errors: those of suggest and of Engine::assign_item.
  std::optional<std::string> auto_assign(const std::string& case_id, const std::string& item_id);

  /// Learns from the histories of the given cases (completed human tasks with an assignee).
  /// Returns the number of completions learned. Tasks already learned are not counted twice.
  std::size_t learn_from_cases(const std::vector<std::string>& case_ids);
  /// Records one completion (for hosts that import history from elsewhere).
  void record_completion(const std::string& agent, const std::string& task_kind, Duration took);
  /// What was learned for (agent, task kind); the task kind of an item is
  /// "<fragment>/<definition id>", or "task:<name>" for an ad-hoc task.
  PerformanceRecord performance(const std::string& agent, const std::string& task_kind) const;
  /// The task kind of a plan item (see performance()).
  static std::string task_kind(const PlanItemInfo& item);

 private:
  struct State;
  Engine& engine_;
  std::shared_ptr<State> state_;
  std::uint64_t subscription_ = 0;
};

}  // namespace acm::helpdesk
