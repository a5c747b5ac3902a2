// SPDX-License-Identifier: Apache-2.0
// runtime/state.hpp - the case aggregate's state: a fold of its events.
#pragma once

#include <acm/case.hpp>
#include <acm/engine.hpp>

#include "runtime/compiled.hpp"

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace acm::runtime {

/// A plan item instance.
struct Item {
  std::string id;
  std::string parent;     // enclosing stage instance id ("" = case plan)
  std::string frag_root;  // the fragment stage instance this item belongs to ("" for ad-hoc)
  std::shared_ptr<const CFragment> fragment;  // keeps the definition version alive
  std::shared_ptr<const CItem> owned_def;     // ad-hoc items own their definition
  Json adhoc_spec;                            // ... built from this (adhoc_to_json)
  const CItem* def = nullptr;
  ItemState state = ItemState::available;
  std::string goal;
  std::string assignee;
  std::vector<std::string> after;
  Json params;  // fragment stages: the arguments
  int repetition = 0;
  bool required = false;
  bool overdue = false;
  std::optional<TimePoint> activated_at, ended_at, due, timer_at;
  // Cached positions (see CaseState::ensure_links): parent stage, `after` items.
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::size_t parent_idx = npos;
  std::vector<std::size_t> after_idx;
  // Lists (CaseState::def_lists) of the items whose transitions its entry on-parts listen to.
  std::vector<std::size_t> onpart_lists;
  // on-part occurrence flags, per sentry then per on-part
  std::vector<std::vector<char>> entry_flags, exit_flags;
};

struct Goal {
  GoalSpec spec;
  GoalStatus status = GoalStatus::open;
  Timing timing = Timing::on_track;
  std::optional<TimePoint> deadline;
  std::optional<TimePoint> achieved_at;
  expr::Expression criterion;
  Duration remaining_work{0};
  std::optional<TimePoint> risk_at;  // when the goal turns at-risk if nothing changes
  std::optional<TimePoint> paused_since;  // the goal's clock is stopped
};

struct Promise {
  std::string id, what;
  TimePoint due{};
  PromiseStatus status = PromiseStatus::open;
  Timing timing = Timing::on_track;
  std::optional<TimePoint> expected;
  std::optional<TimePoint> risk_at;  // derived: when the plan estimate turns it at risk
};

struct CaseState {
  std::string id;
  std::shared_ptr<const CCaseType> type;
  std::string title;
  Subject subject;
  std::string owner;
  std::vector<Participant> participants;
  int priority = 0;
  CaseStatus status = CaseStatus::active;
  Json file = Json::object();
  std::vector<Asset> assets;
  std::vector<Goal> goals;
  std::vector<Item> items;
  std::unordered_map<std::string, std::size_t> item_index;
  std::map<std::string, int> counters;  // id generation: fragment instances, ad-hoc tasks, assets
  std::uint64_t version = 0;
  TimePoint created_at{};
  bool hold_open = false;  // reopened: no automatic completion until a goal is achieved or added
  std::vector<Promise> promises;
  int priority_base = 0;                     // priority as set by commands (a policy adds to it)
  std::map<std::string, int> escalations;    // "rule|target" -> times escalated

  Item* find_item(const std::string& id);
  const Item* find_item(const std::string& id) const;
  Goal* find_goal(const std::string& id);
  const Goal* find_goal(const std::string& id) const;
  Promise* find_promise(const std::string& id);
  const Participant* participant(const std::string& actor) const;
  void reindex();
  /// Recomputes Item::parent_idx / after_idx / onpart_lists if the item table changed shape:
  /// items appended since the last call are linked on their own (near-constant work per new
  /// item); a removal or a new dependency relinks everything (linear).
  void ensure_links();
  bool links_dirty = true;
  bool relink_all = true;                                    // set with links_dirty when items were removed or rewired
  std::size_t linked = 0;                                    // items[0, linked) are linked
  std::vector<std::vector<std::size_t>> def_lists;           // items by (fragment instance, definition id)
  std::unordered_map<std::string, std::size_t> def_list_of;  // "frag_root\x1fdef_id" -> def_lists index
  std::vector<std::size_t> unresolved;                       // items waiting for an `after` item to exist
};

/// Resolves definitions while folding events.
struct FoldContext {
  const Registry* registry = nullptr;
};

/// Applies one event to the state (the fold step). Deterministic: depends only on the state,
/// the event and the registered definitions. Reads the payload as its kind defines it
/// (runtime/events.hpp). Throws Error(internal) naming the event on an unknown kind, a
/// malformed payload or an event inconsistent with the state.
void apply(CaseState& state, const Event& event, const FoldContext& ctx);

/// The full state as canonical JSON (every field, including sentry flags): equal states give
/// equal JSON. Used to compare live and rebuilt cases.
Json state_to_json(const CaseState& state);
CaseInfo to_info(const CaseState& state);

bool is_terminal(ItemState s);
Timing parse_timing(const std::string& s);
std::optional<ItemState> parse_item_state(std::string_view s);

}  // namespace acm::runtime
