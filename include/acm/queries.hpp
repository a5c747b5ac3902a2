// SPDX-License-Identifier: Apache-2.0
// acm/queries.hpp - the arguments and results of the engine's reads beyond the case view
// (acm/case.hpp): work queues (QueueFilter -> WorkItem, QueuePage), case search (CaseQuery ->
// CasePage of CaseSummary) and the fragments a case may take now (FragmentOffer).
//
// Work queues and case search are answered from indexes of the store (its read model) without
// loading cases; the read model is written in the same transaction as the case, so it always
// matches the committed cases. The reads are members of acm::Engine (trusted) and of
// acm::ActorView (on behalf of an actor): acm/engine.hpp, acm/actor_view.hpp. Stores answer the
// same queries with the same types (acm/store.hpp).
#pragma once

#include <acm/case.hpp>
#include <acm/definition.hpp>
#include <acm/time.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace acm {

/// A work-queue query. Ordered by priority (highest first), then due time (earliest first, none
/// last), case id and item id; or, with `overdue_at`, by due time first. With neither
/// `assignee` nor `roles` every open item matches.
struct QueueFilter {
  std::string assignee;            ///< work assigned to this actor ...
  std::vector<std::string> roles;  ///< ... or unassigned work needing one of these roles ("" = items without role)
  /// When set: unassigned work is offered only if the agent has every skill it needs (work
  /// assigned to `assignee` is always listed).
  std::optional<std::vector<std::string>> skills;
  std::optional<TimePoint> overdue_at;  ///< only items due before this time
  std::size_t limit = 50;               ///< page size; at most 10000 (invalid_argument); 0: an empty page
  std::size_t offset = 0;               ///< rows to skip
};

/// An open work item (a human task that is enabled, active or suspended) from the store's
/// read model.
struct WorkItem {
  std::string case_id;
  std::string item_id;
  std::string name;  ///< the item's name, else its definition id
  ItemState state = ItemState::active;
  std::string assignee;
  std::string role;
  std::vector<std::string> skills;
  std::optional<TimePoint> due;
  int priority = 0;  ///< the case's priority
  // What an inbox shows about the case, kept in the read model (no call per row):
  std::string case_title;
  std::string customer;  ///< the case's customer ("" = none)
  /// The goal whose clock the item runs against: the goal it serves, else the case's open goal
  /// with the earliest deadline ("" = none).
  std::string goal;
  std::optional<TimePoint> goal_deadline;  ///< that goal's deadline (none: no deadline)
  Timing goal_timing = Timing::on_track;   ///< that goal's timing (on_track without a goal)
  bool operator==(const WorkItem&) const = default;
};

/// A page of the work queue and how many items the whole filter matches.
struct QueuePage {
  std::vector<WorkItem> items;
  std::uint64_t total = 0;  ///< items matching the filter, ignoring limit and offset
};

/// A case search, answered from indexes of the store (status, owner, customer) without loading
/// cases. Results are newest first (reverse creation order).
struct CaseQuery {
  std::vector<CaseStatus> statuses;  ///< cases in any of these statuses (empty: any status)
  std::string owner;                 ///< "" = any owner
  std::string customer;              ///< "" = any customer (or none)
  std::size_t limit = 50;            ///< at most 10000 (invalid_argument)
  std::size_t offset = 0;
};

/// One case found by find_cases: the case row, without goals, plan or file.
struct CaseSummary {
  std::string id;
  std::string type;
  int type_version = 0;
  std::string title;
  CaseStatus status = CaseStatus::active;
  std::string owner;
  std::string customer;
  int priority = 0;
  std::uint64_t version = 0;
  TimePoint created_at{};
  TimePoint updated_at{};                  ///< time of the last command
  std::optional<TimePoint> next_deadline;  ///< earliest open goal or task deadline
};

/// A page of a case search and how many cases the whole query matches.
struct CasePage {
  std::vector<CaseSummary> cases;
  std::uint64_t total = 0;  ///< cases matching the query, ignoring limit and offset
};

/// A discretionary fragment offered for a case now (Engine::applicable_fragments): one whose
/// applicability rule holds, with the parameters add_fragment takes.
struct FragmentOffer {
  std::string fragment;  ///< fragment id
  int version = 0;       ///< the latest registered version
  std::string name;
  std::string description;
  std::vector<Parameter> parameters;
};

}  // namespace acm
