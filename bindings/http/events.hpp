// SPDX-License-Identifier: Apache-2.0
// bindings/http/events.hpp - where GET /v1/events gets its events from.
//
// EventFeed is the small interface the stream is written against. StoreFeed, the one
// implementation, reads the store's global event feed (Engine::read_feed): every event of
// every case, written by this server or by any other process on the same database, each at a
// position that is the event's SSE id. A client that reconnects with Last-Event-ID reads on
// from that position, on any server of the same database: it misses nothing and sees nothing
// twice (docs/http.md "Events", docs/design.md).
//
// Thread safety: every member may be called from any thread.
#pragma once

#include <acm/engine.hpp>

#include <cstdint>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace acm::http {

/// One event of the feed: its position, its case and its JSON text (docs/json.md "Event").
struct FeedEvent {
  std::string id;  ///< the feed position (opaque)
  std::string case_id;
  std::string json;
};

/// What a reader gets after a given position.
struct FeedRead {
  std::vector<FeedEvent> events;  ///< in feed order
  /// The position was never given out by the feed: the reader may have missed events and must
  /// reload its state; `events` is empty and `position` the newest position.
  bool gap = false;
  std::string position;  ///< where to read on from
};

class EventFeed {
 public:
  virtual ~EventFeed() = default;
  /// The newest position ("" when the feed is empty). Errors: storage.
  virtual std::string last_id() const = 0;
  /// At most `limit` events after `after`. Errors: storage.
  virtual FeedRead read_after(const std::string& after, std::size_t limit) const = 0;
  /// Calls `wake` (on the feed's thread; it must not block) after new events, until the
  /// returned watch id is passed to unwatch.
  virtual std::uint64_t watch(std::function<void()> wake) = 0;
  virtual void unwatch(std::uint64_t watch_id) = 0;
};

/// The store's global feed. A thread follows it (Engine::wait_feed) to learn its newest
/// position and to wake the streams; each stream reads its events from the store itself.
class StoreFeed final : public EventFeed {
 public:
  /// Reads the feed to its end, then follows it on a thread of its own while some stream
  /// watches. last_id() reads on from the newest position it knows. Errors: as
  /// Engine::read_feed.
  explicit StoreFeed(Engine& engine);
  ~StoreFeed() override;
  StoreFeed(const StoreFeed&) = delete;
  StoreFeed& operator=(const StoreFeed&) = delete;

  std::string last_id() const override;
  FeedRead read_after(const std::string& after, std::size_t limit) const override;
  std::uint64_t watch(std::function<void()> wake) override;
  void unwatch(std::uint64_t watch_id) override;

 private:
  void follow();

  Engine& engine_;
  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  mutable std::string last_;  ///< the newest position known (moves only forward)
  std::uint64_t next_watch_ = 1;
  std::map<std::uint64_t, std::shared_ptr<std::function<void()>>> watchers_;
  std::thread follower_;
};

}  // namespace acm::http
