// SPDX-License-Identifier: Apache-2.0
// bindings/http/events.hpp - where GET /v1/events gets its events from.
//
// EventFeed is the small interface the stream is written against. InProcessFeed, the one
// implementation today, numbers the events this server's engine publishes (Engine::subscribe)
// with a per-process sequence and keeps the last N in memory for Last-Event-ID; a feed over
// the store's global event log (several servers on one database) can replace it without
// touching the stream (docs/http.md "Events", docs/design.md).
//
// Thread safety: every member may be called from any thread.
#pragma once

#include <acm/engine.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace acm::http {

/// One event of the feed: its feed id, its case and its JSON text (docs/json.md "Event").
struct FeedEvent {
  std::uint64_t id = 0;
  std::string case_id;
  std::string json;
};

/// What a reader gets after a given id.
struct FeedRead {
  std::vector<std::shared_ptr<const FeedEvent>> events;  ///< in id order
  /// Events after the given id are no longer held (or the id was never given by this feed):
  /// the reader missed some and must reload its state. `events` then starts at the oldest held.
  bool gap = false;
};

class EventFeed {
 public:
  virtual ~EventFeed() = default;
  /// The id of the newest event (0 when none yet).
  virtual std::uint64_t last_id() const = 0;
  /// At most `limit` events with id > `after`.
  virtual FeedRead read_after(std::uint64_t after, std::size_t limit) const = 0;
  /// Calls `wake` (on the publishing thread; it must not block) after each new event, until
  /// the returned watch id is passed to unwatch.
  virtual std::uint64_t watch(std::function<void()> wake) = 0;
  virtual void unwatch(std::uint64_t watch_id) = 0;
};

/// The events of this process's engine, numbered from a start value that grows with the wall
/// clock (so an id from an earlier run of the server reads as "missed", never as a later one).
class InProcessFeed final : public EventFeed {
 public:
  /// Subscribes to every event of `engine`; keeps the newest `capacity` events (at least 1).
  InProcessFeed(Engine& engine, std::size_t capacity);
  ~InProcessFeed() override;
  InProcessFeed(const InProcessFeed&) = delete;
  InProcessFeed& operator=(const InProcessFeed&) = delete;

  std::uint64_t last_id() const override;
  FeedRead read_after(std::uint64_t after, std::size_t limit) const override;
  std::uint64_t watch(std::function<void()> wake) override;
  void unwatch(std::uint64_t watch_id) override;

  /// Adds an event (what the engine subscription calls).
  void publish(const Event& e);

 private:
  Engine& engine_;
  std::uint64_t subscription_ = 0;
  std::size_t capacity_;
  std::uint64_t first_id_;  ///< the id the first event of this process gets
  mutable std::mutex mutex_;
  std::uint64_t next_id_;
  std::deque<std::shared_ptr<const FeedEvent>> events_;
  std::uint64_t next_watch_ = 1;
  std::map<std::uint64_t, std::shared_ptr<std::function<void()>>> watchers_;
};

}  // namespace acm::http
