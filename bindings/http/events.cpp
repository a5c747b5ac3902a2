// SPDX-License-Identifier: Apache-2.0
// bindings/http/events.cpp - the in-process event feed (events.hpp).
#include "events.hpp"

#include <acm/to_json.hpp>

#include <algorithm>
#include <chrono>

namespace acm::http {

InProcessFeed::InProcessFeed(Engine& engine, std::size_t capacity)
    : engine_(engine), capacity_(std::max<std::size_t>(capacity, 1)) {
  // Ids start at the wall clock in microseconds: a restarted server's ids are above every id an
  // earlier run gave (unless it gave a million per second), so an old Last-Event-ID is
  // recognised as not held rather than mistaken for a later event.
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch());
  first_id_ = static_cast<std::uint64_t>(us.count());
  next_id_ = first_id_;
  subscription_ = engine_.subscribe([this](const Event& e) { publish(e); });
}

InProcessFeed::~InProcessFeed() { engine_.unsubscribe(subscription_); }

void InProcessFeed::publish(const Event& e) {
  auto fe = std::make_shared<FeedEvent>();
  fe->case_id = e.case_id;
  fe->json = to_json(e).dump(-1, ' ', false, Json::error_handler_t::replace);
  std::vector<std::shared_ptr<std::function<void()>>> wake;
  {
    std::lock_guard lock(mutex_);
    fe->id = next_id_++;
    events_.push_back(std::move(fe));
    while (events_.size() > capacity_) events_.pop_front();
    for (const auto& [id, w] : watchers_) wake.push_back(w);
  }
  for (const auto& w : wake) (*w)();
}

std::uint64_t InProcessFeed::last_id() const {
  std::lock_guard lock(mutex_);
  return next_id_ - 1;
}

FeedRead InProcessFeed::read_after(std::uint64_t after, std::size_t limit) const {
  std::lock_guard lock(mutex_);
  FeedRead out;
  // Ids this feed gave are first_id_ .. next_id_-1; an id outside that range is not ours.
  if (after != 0 && (after < first_id_ - 1 || after >= next_id_)) {
    out.gap = true;
    after = events_.empty() ? next_id_ - 1 : events_.front()->id - 1;
  } else if (after == 0) {
    after = next_id_ - 1;  // no id: from now on
  } else if (!events_.empty() && after + 1 < events_.front()->id) {
    out.gap = true;  // the events just after `after` fell out of the buffer
    after = events_.front()->id - 1;
  }
  if (events_.empty()) return out;
  std::uint64_t front = events_.front()->id;
  std::size_t start = after + 1 >= front ? static_cast<std::size_t>(after + 1 - front) : 0;
  for (std::size_t i = start; i < events_.size() && out.events.size() < limit; ++i) out.events.push_back(events_[i]);
  return out;
}

std::uint64_t InProcessFeed::watch(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  std::uint64_t id = next_watch_++;
  watchers_[id] = std::make_shared<std::function<void()>>(std::move(wake));
  return id;
}

void InProcessFeed::unwatch(std::uint64_t watch_id) {
  std::lock_guard lock(mutex_);
  watchers_.erase(watch_id);
}

}  // namespace acm::http
