// SPDX-License-Identifier: Apache-2.0
// acm/queries.hpp - the value types of queries answered from the store's indexes without
// loading cases: work queues (WorkItem, QueueFilter, QueuePage) and case search (CaseQuery,
// CaseSummary, CasePage). Used by the Engine (acm/engine.hpp) and by stores (acm/store.hpp).
#pragma once

#include <acm/case.hpp>
#include <acm/time.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace acm {

/// An open work item (a human task that is enabled, active or suspended) from the store's
/// read model.
struct WorkItem {
  std::string case_id;
  std::string item_id;
  std::string name;
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

/// A work-queue query, answered from an index without loading cases. Ordered by priority
/// (highest first), then due time (earliest first, none last), case id and item id; or, with
/// `overdue_at`, by due time.
struct QueueFilter {
  std::string assignee;            ///< work assigned to this actor ...
  std::vector<std::string> roles;  ///< ... or unassigned work needing one of these roles
  /// When set: unassigned work is offered only if the agent has every skill it needs (work
  /// assigned to `assignee` is always listed).
  std::optional<std::vector<std::string>> skills;
  std::optional<TimePoint> overdue_at;  ///< only items due before this time
  std::size_t limit = 50;
  std::size_t offset = 0;
};

/// A case search, answered from indexes of the store (status, owner, customer) without loading
/// cases. Results are newest first (reverse creation order).
struct CaseQuery {
  std::vector<CaseStatus> statuses;  ///< cases in any of these statuses (empty: any status)
  std::string owner;                 ///< "" = any owner
  std::string customer;              ///< "" = any customer (or none)
  std::size_t limit = 50;            ///< at most 10000
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
  std::uint64_t total = 0;
};

}  // namespace acm
