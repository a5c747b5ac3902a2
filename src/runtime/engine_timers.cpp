// SPDX-License-Identifier: Apache-2.0
// Engine::Impl, timers (runtime/engine_impl.hpp): next_due reads the store's next_due index;
// run_due fires the due cases in chunks, each chunk written as one batch while the next is
// prepared. Also the ManualClock listener (a test clock that fires timers when advanced).
#include "runtime/engine_impl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <deque>

namespace acm {

using runtime::CaseState;
using runtime::Decider;
using runtime::HoldGuard;
using runtime::Slot;

std::optional<TimePoint> Engine::Impl::next_due() {
  auto first = store->due_cases(TimePoint::max(), 1, std::nullopt);
  if (first.empty()) return std::nullopt;
  return first.front().due;
}

void Engine::Impl::run_due(TimePoint now) { run_due_at(now); }

// run_due on a store several processes share: each chunk of due cases is claimed in the
// store (CaseStore::claim_due: the rows locked, other processes skip them), fired here and
// written in the claim's own transaction, so each timer fires once whichever process runs
// it. The claim holds row locks in the store while this thread takes case locks, and a
// command holding a case lock may be waiting in the store for one of those rows: so cases
// are only try-locked here; a busy case is left for a later run (the claim on it ends with
// the chunk). A case cached at another version than the claimed one is loaded again.
std::size_t Engine::Impl::run_due_claimed(TimePoint now) {
  std::size_t fired = 0;
  std::optional<DueCase> cursor;
  std::exception_ptr first_error, load_error;
  while (!first_error) {
    std::unique_ptr<DueClaim> claim = shared->claim_due(now, options.timer_batch, cursor);
    if (!claim || !claim->next) break;
    cursor = claim->next;
    if (claim->cases.empty()) continue;
    // Cached copies older than the store's: dropped (when nobody uses them) to be loaded again.
    std::vector<std::string> ids;
    for (const auto& [id, version] : claim->cases) {
      std::shared_ptr<Slot> cached;
      {
        std::shared_lock lk(cases_mutex);
        auto it = cases.find(id);
        if (it != cases.end()) cached = it->second;
      }
      if (cached) {
        if (cached->held_by_me()) continue;
        std::unique_lock sl(cached->mutex, std::try_to_lock);
        if (!sl.owns_lock()) continue;  // busy: left for a later run
        if (!cached->evicted && cached->state.version != version) {
          cached->evicted = true;
          drop(id);
        }
      }
      ids.push_back(id);
    }
    std::vector<std::exception_ptr> load_errors;
    std::vector<std::shared_ptr<Slot>> slots = pinned_slots(ids, load_errors);
    struct Fired {
      std::shared_ptr<Slot> slot;
      std::unique_lock<std::mutex> lock;
      std::vector<WorkItem> work;
      RowKeys keys;
      std::size_t n_events = 0;
      bool snapshot = false;
      std::vector<Event> events;
      CaseCommit commit;
    };
    std::deque<Fired> chunk;  // stable addresses: commits borrow their events
    auto release = [&] {
      for (Fired& f : chunk) {
        HoldGuard::release(*f.slot);
        if (f.lock.owns_lock()) f.lock.unlock();
        unpin(f.slot);
      }
      for (auto& s : slots) unpin(s);
    };
    try {
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (load_errors[i] && !load_error) load_error = load_errors[i];
        std::shared_ptr<Slot> s = slots[i];
        if (!s || s->held_by_me()) continue;
        std::unique_lock<std::mutex> lk(s->mutex, std::try_to_lock);
        if (!lk.owns_lock() || s->evicted) continue;
        // claim->cases is in id order (DueClaim): a binary search, not a scan per case (which
        // made a chunk quadratic: a sixth of the engine processes' CPU at 512 cases a chunk).
        auto claimed = std::lower_bound(claim->cases.begin(), claim->cases.end(), ids[i],
                                        [](const auto& c, const std::string& id) { return c.first < id; });
        if (claimed == claim->cases.end() || claimed->first != ids[i] || claimed->second != s->state.version) continue;
        HoldGuard hold(s.get());
        std::shared_lock reg(registry_mutex);
        const std::uint64_t before = s->state.version;
        auto fired_events = fire_held(*s, now, fired);
        if (!fired_events) continue;
        std::vector<Event> events = std::move(*fired_events);
        chunk.emplace_back();
        Fired& f = chunk.back();
        f.slot = s;
        f.n_events = events.size();
        f.events = std::move(events);
        try {
          f.commit = prepare(*s, f.events, before, nullptr, nullptr, f.work, f.keys);
        } catch (...) {
          discard(*s);
          chunk.pop_back();
          throw;
        }
        f.snapshot = f.commit.snapshot.has_value();
        f.lock = std::move(lk);
        s->pins.fetch_add(1, std::memory_order_relaxed);
        hold.keep();
      }
      std::vector<CaseCommit> commits;
      commits.reserve(chunk.size());
      for (Fired& f : chunk) commits.push_back(std::move(f.commit));
      std::vector<std::exception_ptr> errors = claim->commit(std::move(commits));
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        Fired& f = chunk[i];
        if (i < errors.size() && errors[i]) {
          discard(*f.slot);
          if (!first_error) first_error = errors[i];
        } else {
          committed(*f.slot, f.n_events, f.snapshot, std::move(f.work), std::move(f.keys));
          enqueue(f.events);
        }
      }
    } catch (...) {
      for (Fired& f : chunk) discard(*f.slot);
      release();
      deliver();
      throw;
    }
    release();
  }
  deliver();
  if (first_error) std::rethrow_exception(first_error);
  if (load_error) std::rethrow_exception(load_error);
  return fired;
}


// Fires everything due at `now`, in due-time order. Cases are read from the store's next_due
// index in chunks (keyset paging on (next_due, id)); the uncached ones of a chunk are loaded
// together; each case is locked, fired and prepared; the chunk's commits go to the store as
// one batch (one transaction) without waiting, and the next chunk is prepared while it is
// written. A chunk's cases stay locked until its batch is durable (at most two chunks are
// in flight); then their events are delivered.
//
// Lock order as in commands (the case, then the registry shared), per case. While this
// thread holds any case, further cases are only try-locked: waiting for one while holding
// others could deadlock with a handler that calls from that case into one of ours. A busy
// case ends the chunk before it; the in-flight chunks are finished, and the next chunk
// starts with that case, which is then waited for while holding nothing.
// Fires what is due on a case this thread holds (the registry read-locked by the caller).
// Returns the events to write: none when only the case's wake-up time moves, written with the
// chunk. Returns nothing when nothing fired and the wake-up did not move: the case is left for a
// later call (the cursor is past it). If deciding throws, the case is discarded from the cache.
std::optional<std::vector<Event>> Engine::Impl::fire_held(Slot& s, TimePoint now, std::size_t& fired) {
  Decider d(s.state, services, Actor{}, now);
  try {
    fired += d.fire_due();
  } catch (...) {
    if (!d.events().empty()) discard(s);
    throw;
  }
  std::vector<Event> events = std::move(d.events());
  if (events.empty()) {
    auto next = Decider::next_due(s.state);
    if (next && *next <= now) return std::nullopt;
  }
  return events;
}

std::size_t Engine::Impl::run_due_at(TimePoint now) {
  std::lock_guard one(timers_mutex);
  if (traits.read_only) return 0;  // nothing can fire: queries only (documented)
  if (shared) return run_due_claimed(now);
  const std::size_t chunk = options.timer_batch;
  struct Fired {
    std::shared_ptr<Slot> slot;
    std::unique_lock<std::mutex> lock;
    std::vector<WorkItem> work;
    RowKeys keys;
    std::size_t n_events = 0;
    bool snapshot = false;
  };
  struct Chunk {
    std::vector<Fired> cases;
    std::vector<std::vector<Event>> events;  // per case, for delivery
    std::unique_ptr<PendingBatch> pending;
  };
  std::size_t fired = 0;
  std::optional<DueCase> cursor;  // the last case taken
  std::deque<Chunk> inflight;
  std::exception_ptr first_error;  // a failed write: stops the run
  std::exception_ptr load_error;   // a case that cannot be loaded: reported at the end

  auto release = [&](Chunk& c) {
    for (Fired& f : c.cases) {
      HoldGuard::release(*f.slot);
      if (f.lock.owns_lock()) f.lock.unlock();
      unpin(f.slot);
    }
  };
  // Waits for the oldest chunk's batch; unlocks its cases; queues their events.
  auto finish = [&] {
    Chunk c = std::move(inflight.front());
    inflight.pop_front();
    std::vector<std::exception_ptr> errors;
    try {
      errors = c.pending->wait();
    } catch (...) {
      errors.assign(c.cases.size(), std::current_exception());
    }
    for (std::size_t i = 0; i < c.cases.size(); ++i) {
      Fired& f = c.cases[i];
      if (i < errors.size() && errors[i]) {
        discard(*f.slot);
        if (!first_error) first_error = errors[i];
      } else {
        committed(*f.slot, f.n_events, f.snapshot, std::move(f.work), std::move(f.keys));
        enqueue(c.events[i]);
      }
    }
    release(c);
  };
  auto drain = [&] {
    while (!inflight.empty()) finish();
  };

  Chunk c;  // the chunk being prepared
  std::vector<std::shared_ptr<Slot>> slots;
  auto abandon = [&] {  // an exception: nothing of `c` was written
    for (Fired& f : c.cases) discard(*f.slot);
    release(c);
    c.cases.clear();
    for (auto& s : slots) unpin(s);
    slots.clear();
  };
  try {
    while (!first_error) {
      const auto due = store->due_cases(now, chunk, cursor);
      if (due.empty()) break;
      std::vector<std::string> ids;
      ids.reserve(due.size());
      for (const auto& d : due) ids.push_back(d.case_id);
      std::vector<std::exception_ptr> load_errors;
      slots = pinned_slots(ids, load_errors);
      std::vector<CaseCommit> commits;
      commits.reserve(due.size());
      c.events.reserve(due.size());
      bool busy = false;
      for (std::size_t i = 0; i < due.size() && !busy; ++i) {
        std::shared_ptr<Slot> s = slots[i];
        std::unique_lock<std::mutex> lk;
        while (s) {
          if (c.cases.empty() && inflight.empty()) {
            lk = std::unique_lock(s->mutex);
          } else {
            lk = std::unique_lock(s->mutex, std::try_to_lock);
            if (!lk.owns_lock()) {
              busy = true;
              break;
            }
          }
          if (!s->evicted) break;
          lk.unlock();  // dropped after a failed write: load it again
          try {
            s = slot(ids[i]);
          } catch (const Error& e) {
            if (e.code() != ErrorCode::not_found) throw;
            s = nullptr;
          }
        }
        if (busy) break;
        cursor = due[i];
        if (load_errors[i] && !load_error) load_error = load_errors[i];  // the others still fire
        if (!s) continue;  // no such case any more, or it cannot be loaded
        HoldGuard hold(s.get());
        std::shared_lock reg(registry_mutex);
        const std::uint64_t before = s->state.version;
        auto fired_events = fire_held(*s, now, fired);
        if (!fired_events) continue;
        std::vector<Event> events = std::move(*fired_events);
        Fired f;
        f.slot = s;
        f.n_events = events.size();
        // c.events has room for the whole chunk: the commit refers to its element.
        c.events.push_back(std::move(events));
        try {
          commits.push_back(prepare(*s, c.events.back(), before, nullptr, nullptr, f.work, f.keys));
        } catch (...) {
          discard(*s);  // fired but not written: the cache must not run ahead of the store
          throw;
        }
        f.snapshot = commits.back().snapshot.has_value();
        f.lock = std::move(lk);
        // Held (locked, and marked as this thread's) and pinned until the batch is written.
        s->pins.fetch_add(1, std::memory_order_relaxed);
        hold.keep();
        c.cases.push_back(std::move(f));
      }
      for (auto& s : slots) unpin(s);  // what is still needed is locked
      slots.clear();
      if (!c.cases.empty()) {
        c.pending = store->submit_batch(std::move(commits));
        inflight.push_back(std::move(c));
        c = Chunk{};
      }
      // Keep one chunk being written while the next is prepared; a busy case waits for all.
      while (inflight.size() > (busy ? 0 : 1)) finish();
    }
    drain();
  } catch (...) {
    abandon();
    try {
      drain();
    } catch (...) {
    }
    deliver();
    throw;
  }
  deliver();
  if (first_error) std::rethrow_exception(first_error);
  if (load_error) std::rethrow_exception(load_error);
  return fired;
}

}  // namespace acm
