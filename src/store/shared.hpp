// SPDX-License-Identifier: Apache-2.0
// store/shared.hpp - what a store offers beyond the case store interface: the global event
// feed (every store) and timer claims (a store shared by several processes). Private.
#pragma once

#include "store/store.hpp"

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acm::store {

/// One event of the global feed and its position (an opaque, totally ordered cursor).
struct FeedEntry {
  std::string position;
  Event event;
};

/// The global, ordered event feed: every event of every case, in an order in which no event
/// is ever inserted before a position a reader has passed (docs/storage.md, "The event feed").
class EventFeed {
 public:
  virtual ~EventFeed() = default;
  /// Events after position `after` ("" = from the start), in feed order, at most `limit`.
  /// Errors: invalid_argument for a position this store never gave out; storage.
  virtual std::vector<FeedEntry> read_feed(const std::string& after, std::size_t limit) = 0;
};

/// Due cases claimed by one process: their rows are locked (other claimers skip them, other
/// writers wait) until commit() or destruction (then the claim is released, nothing written).
class DueClaim {
 public:
  virtual ~DueClaim() = default;
  /// The claimed cases, sorted by id, with their stored versions.
  std::vector<std::pair<std::string, std::uint64_t>> cases;
  /// The key to continue after (keyset paging), whether or not a case of the page was claimed;
  /// nullopt when nothing more is due.
  std::optional<Store::DueKey> next;
  /// Writes the firings (commits of claimed cases only) in the claim's transaction and
  /// commits it: all or nothing. Each entry of the result is null or the commit's error (when
  /// one fails, every entry holds an error). Call at most once.
  virtual std::vector<std::exception_ptr> commit(std::vector<Commit> commits) = 0;
};

/// A store several processes share: timers are claimed inside the transaction that writes
/// their firing, so each fires exactly once however many processes run them.
class SharedStore {
 public:
  virtual ~SharedStore() = default;
  /// Claims up to `limit` of the cases due at `until` that follow `after` in (next_due, id)
  /// order and that no other process holds (SELECT ... FOR UPDATE SKIP LOCKED), locked in id
  /// order. `cases` may be empty while `next` is set (all of the page was held elsewhere).
  virtual std::unique_ptr<DueClaim> claim_due(TimePoint until, std::size_t limit,
                                              const std::optional<Store::DueKey>& after) = 0;
};

}  // namespace acm::store
