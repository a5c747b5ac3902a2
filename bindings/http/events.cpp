// SPDX-License-Identifier: Apache-2.0
// bindings/http/events.cpp - the event stream's feed over the store's global feed (events.hpp).
#include "events.hpp"

#include <acm/to_json.hpp>

#include <chrono>
#include <iostream>

namespace acm::http {

namespace {

constexpr std::size_t kPage = 1000;

}  // namespace

StoreFeed::StoreFeed(Engine& engine) : engine_(engine) {
  // A stream without Last-Event-ID starts after the events stored so far: the feed's end,
  // found without reading the feed.
  last_ = engine_.feed_end();
  follower_ = std::thread([this] { follow(); });
}

StoreFeed::~StoreFeed() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  follower_.join();
}

void StoreFeed::follow() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    // Only while some stream watches: a server without streams pays nothing for the feed.
    if (watchers_.empty()) {
      stop_cv_.wait(lock, [this] { return stop_ || !watchers_.empty(); });
      continue;
    }
    const std::string at = last_;
    lock.unlock();
    std::vector<FeedEntry> page;
    try {
      page = engine_.wait_feed(at, kPage, std::chrono::milliseconds(250));
    } catch (const std::exception& e) {
      std::cerr << "acm-server: event feed: " << e.what() << "\n";
      lock.lock();
      stop_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; });
      continue;
    }
    lock.lock();
    if (page.empty()) continue;
    if (last_ == at) last_ = page.back().position;  // else last_id() read further meanwhile
    std::vector<std::shared_ptr<std::function<void()>>> wake;
    for (const auto& [id, w] : watchers_) wake.push_back(w);
    lock.unlock();
    for (const auto& w : wake) (*w)();
    lock.lock();
  }
}

std::string StoreFeed::last_id() const {
  std::unique_lock lock(mutex_);
  bool moved = false;
  for (;;) {  // read on to the end from the newest position known
    const std::string at = last_;
    lock.unlock();
    auto page = engine_.read_feed(at, kPage);
    lock.lock();
    if (page.empty()) break;
    if (last_ == at) {
      last_ = page.back().position;
      moved = true;
    }
  }
  std::string newest = last_;
  // Events the follower may now read past without having seen them: wake the streams for them.
  std::vector<std::shared_ptr<std::function<void()>>> wake;
  if (moved)
    for (const auto& [id, w] : watchers_) wake.push_back(w);
  lock.unlock();
  for (const auto& w : wake) (*w)();
  return newest;
}

FeedRead StoreFeed::read_after(const std::string& after, std::size_t limit) const {
  FeedRead out;
  std::vector<FeedEntry> page;
  try {
    page = engine_.read_feed(after, limit);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::invalid_argument) throw;
    out.gap = true;  // a position the store never gave out
    out.position = last_id();
    return out;
  }
  out.position = page.empty() ? after : page.back().position;
  out.events.reserve(page.size());
  for (auto& entry : page)
    out.events.push_back(FeedEvent{std::move(entry.position), entry.event.case_id,
                                   to_json(entry.event).dump(-1, ' ', false, Json::error_handler_t::replace)});
  return out;
}

std::uint64_t StoreFeed::watch(std::function<void()> wake) {
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    id = next_watch_++;
    watchers_[id] = std::make_shared<std::function<void()>>(std::move(wake));
  }
  stop_cv_.notify_all();  // the follower starts following
  return id;
}

void StoreFeed::unwatch(std::uint64_t watch_id) {
  std::lock_guard lock(mutex_);
  watchers_.erase(watch_id);
}

}  // namespace acm::http
