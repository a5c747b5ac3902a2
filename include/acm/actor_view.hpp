// SPDX-License-Identifier: Apache-2.0
// acm/actor_view.hpp - the engine's reads of case data on behalf of an actor.
//
// Every read of case data exists in two forms with the same name and arguments:
//
//   engine.get_case(id)             trusted: the host itself reads, no permission is checked
//   engine.as(actor).get_case(id)   on behalf of `actor`: only what the actor may view
//
// An actor may view a case if it is the owner, an administrator (EngineOptions::admin_roles),
// the owner of one of its goals, or a participant whose case roles grant `view` (docs/semantics.md
// section 7). Reads of one case throw Error(permission_denied) when the actor may not view it;
// list reads leave such cases out, and their paging (limit, offset, after, total) counts only
// the cases the actor may view. Definitions (get_fragment, list_fragments, ...) and the engine's
// own state (next_due, clock) are not case data and have only the trusted form.
//
// Costs: a read of one case costs what its trusted form costs. A list read checks each matching
// case (loading it into the cache if needed) until the page is full; queue_page and find_cases
// check every match to count `total`. Hosts that show large lists should narrow the query
// (assignee, owner, customer) first.
//
// Thread safety: as the Engine. An ActorView is a small value (the engine's address and a copy
// of the actor); copy it freely, but it must not outlive its Engine.
#pragma once

#include <acm/case.hpp>
#include <acm/json.hpp>
#include <acm/queries.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acm {

class Engine;

/// The reads of case data on behalf of one actor. Made by Engine::as.
class ActorView {
 public:
  /// The actor whose permissions are checked.
  const Actor& actor() const { return actor_; }

  /// As Engine::get_case. Errors: not_found, permission_denied.
  CaseInfo get_case(const std::string& case_id) const;
  /// As Engine::find_case: nullopt for an unknown id. Errors: permission_denied.
  std::optional<CaseInfo> find_case(const std::string& case_id) const;
  /// As Engine::history. Errors: not_found, permission_denied.
  std::vector<Event> history(const std::string& case_id, std::uint64_t from = 1) const;
  /// As Engine::inspect. Errors: not_found, permission_denied.
  Json inspect(const std::string& case_id, bool from_history = false) const;
  /// As Engine::explain_priority. Errors: not_found, permission_denied.
  Json explain_priority(const std::string& case_id) const;
  /// As Engine::applicable_fragments. Errors: not_found, permission_denied.
  std::vector<FragmentOffer> applicable_fragments(const std::string& case_id) const;

  /// As Engine::list_cases, counting only cases the actor may view.
  std::vector<std::string> list_cases(std::size_t limit = SIZE_MAX, const std::string& after = {}) const;
  /// As Engine::queue: items of cases the actor may view; `offset` and `limit` count those.
  /// Errors: invalid_argument (limit above 10000).
  std::vector<WorkItem> queue(const QueueFilter& filter) const;
  /// As Engine::queue_page; `total` counts the items of cases the actor may view.
  /// Errors: invalid_argument (limit above 10000).
  QueuePage queue_page(const QueueFilter& filter) const;
  /// As Engine::find_cases; paging and `total` count the cases the actor may view.
  /// Errors: invalid_argument (limit above 10000).
  CasePage find_cases(const CaseQuery& query) const;
  /// As Engine::open_cases_of, keeping the cases the actor may view (newest first, at most `limit`).
  std::vector<std::string> open_cases_of(const std::string& customer, std::size_t limit = 100) const;

 private:
  friend class Engine;
  ActorView(const Engine& engine, Actor actor) : engine_(&engine), actor_(std::move(actor)) {}
  bool may_view(const std::string& case_id) const;
  const Engine* engine_;
  Actor actor_;
};

}  // namespace acm
