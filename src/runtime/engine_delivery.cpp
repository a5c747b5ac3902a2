// SPDX-License-Identifier: Apache-2.0
// Engine::Impl, event delivery (runtime/engine_impl.hpp): committed events are queued in the
// outbox (only while someone subscribes) and delivered after the case is released, by one
// thread at a time, to the subscribers of their kind; and the task handlers automated tasks
// call, with Engine::register_handler, subscribe and unsubscribe.
#include "runtime/engine_impl.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace acm {

using runtime::CaseState;
using runtime::Decider;
using runtime::HoldGuard;
using runtime::Slot;

void Engine::Impl::enqueue(const std::vector<Event>& events) {
  if (events.empty() || subscriber_count.load(std::memory_order_acquire) == 0) return;
  std::lock_guard lk(outbox_mutex);
  for (const auto& e : events) outbox.push_back(e);
}

void Engine::Impl::deliver() {
  {
    std::lock_guard lk(outbox_mutex);
    if (delivering || outbox.empty()) return;
    delivering = true;
  }
  while (true) {
    Event e;
    {
      std::lock_guard lk(outbox_mutex);
      if (outbox.empty()) {
        delivering = false;
        return;
      }
      e = std::move(outbox.front());
      outbox.pop_front();
    }
    std::vector<EventCallback> targets;
    {
      std::lock_guard lk(subs_mutex);
      for (const auto& [id, sub] : subscribers)
        if (sub.second.empty() || std::find(sub.second.begin(), sub.second.end(), e.kind) != sub.second.end())
          targets.push_back(sub.first);
    }
    for (const auto& cb : targets) {
      try {
        cb(e);
      } catch (...) {
        // Subscribers must not break the engine; documented as swallowed.
      }
    }
  }
}

std::shared_ptr<const TaskHandler> Engine::Impl::handler(const std::string& name) const {
  std::lock_guard lk(handlers_mutex);
  auto it = handlers.find(name);
  return it == handlers.end() ? nullptr : it->second;
}

void Engine::register_handler(const std::string& name, TaskHandler handler) {
  if (name.empty()) throw Error(ErrorCode::invalid_argument, "a handler needs a name");
  std::lock_guard lk(impl_->handlers_mutex);
  impl_->handlers[name] = std::make_shared<const TaskHandler>(std::move(handler));
}

std::uint64_t Engine::subscribe(EventCallback callback, std::vector<std::string> kinds) {
  if (!callback) throw Error(ErrorCode::invalid_argument, "subscribe needs a callback");
  std::lock_guard lk(impl_->subs_mutex);
  std::uint64_t id = impl_->next_sub++;
  impl_->subscribers.emplace(id, std::make_pair(std::move(callback), std::move(kinds)));
  impl_->subscriber_count.store(impl_->subscribers.size(), std::memory_order_release);
  return id;
}

void Engine::unsubscribe(std::uint64_t subscription) {
  std::lock_guard lk(impl_->subs_mutex);
  impl_->subscribers.erase(subscription);
  impl_->subscriber_count.store(impl_->subscribers.size(), std::memory_order_release);
}

}  // namespace acm
