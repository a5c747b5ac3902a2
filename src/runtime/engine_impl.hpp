// SPDX-License-Identifier: Apache-2.0
// runtime/engine_impl.hpp - Engine::Impl, the inside of acm::Engine (internal; not installed).
//
// The Engine (engine.cpp) is the facade: it checks and fingerprints a call's arguments and hands
// it to its Impl. The Impl is split by concern, one file each:
//   engine_cache.cpp     the cases held in memory (Slot), loading them from the store (snapshot
//                        and fold), eviction, the registry of definitions read from the store
//   engine_pipeline.cpp  a command: decide on the locked case, prepare the commit (events, row,
//                        read model, snapshot, idempotency key), write it, or drop the case;
//                        idempotent replays; create_case; the case's read-model rows
//   engine_timers.cpp    run_due: due cases in chunks, fired and written as batches; next_due
//   engine_delivery.cpp  subscribers and the outbox of committed events; task handlers
// engine.cpp also opens the Impl (store selection, registry, clock).
//
// Locks, always taken in this order: a case's Slot::mutex, then registry_mutex (shared, or
// exclusive to register definitions, which no thread holding a case may do); cases_mutex only
// briefly, never while waiting for a case. A thread marks the cases it holds (HoldGuard) so that
// a task handler calling back into one is refused (check_reentry) instead of deadlocking.
#pragma once

#include <acm/engine.hpp>
#include <acm/store.hpp>

#include "model/json_size.hpp"
#include "model/text.hpp"
#include "runtime/compiled.hpp"
#include "runtime/decider.hpp"
#include "runtime/state.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace acm {

namespace runtime {

// One case held in memory.
struct Slot {
  std::mutex mutex;
  CaseState state;
  std::vector<WorkItem> work_items;  // as last written to the read model
  std::size_t since_snapshot = 0;    // events since the stored snapshot
  bool evicted = false;              // dropped from the cache: reload
  std::atomic<std::uint64_t> last_used{0};
  std::atomic<int> pins{0};       // > 0: not to be evicted (timer chunks)
  std::optional<RowKeys> stored;  // the indexed columns of the stored row
  // The thread that holds the mutex as a command or timer run (set by that thread after it
  // locks, cleared before it unlocks), so that a thread can tell the cases it holds itself:
  // a handler calling back into one is refused instead of deadlocking, and eviction never
  // try_locks a mutex its own thread holds (undefined for std::mutex). Compared only with the
  // reading thread's own id, which no other thread ever stores: relaxed is enough.
  std::atomic<std::thread::id> holder{};
  bool held_by_me() const { return holder.load(std::memory_order_relaxed) == std::this_thread::get_id(); }
};

// How many cases this thread holds (registering definitions is refused while it holds any).
inline thread_local std::size_t t_holding = 0;

// Marks a locked case as held by this thread for the guard's scope, or until release() if
// keep() was called (run_due: a chunk's cases stay held until the chunk is written).
class HoldGuard {
 public:
  explicit HoldGuard(Slot* s) : s_(s) { hold(*s); }
  ~HoldGuard() {
    if (s_) release(*s_);
  }
  HoldGuard(const HoldGuard&) = delete;
  HoldGuard& operator=(const HoldGuard&) = delete;
  void keep() { s_ = nullptr; }
  static void hold(Slot& s) {
    s.holder.store(std::this_thread::get_id(), std::memory_order_relaxed);
    ++t_holding;
  }
  static void release(Slot& s) {
    s.holder.store(std::thread::id{}, std::memory_order_relaxed);
    --t_holding;
  }

 private:
  Slot* s_;
};

// A command's arguments as they cross into the engine: each text is checked (valid UTF-8; no
// control characters in ids and names) and, when the request carries an idempotency key, added
// to the command's fingerprint, which is stored with the key's result: a key reused for another
// command or other arguments is a conflict.
class Args {
 public:
  Args(const Request& by, std::string_view command) : keep_(!by.idempotency_key.empty()) { add(command); }
  /// An id or a name (no control characters).
  Args& id(std::string_view field, std::string_view v) {
    model::check_text(v, field, model::TextKind::name);
    return add(v);
  }
  /// Free text (tab, CR and LF allowed).
  Args& text(std::string_view field, std::string_view v) {
    model::check_text(v, field, model::TextKind::free);
    return add(v);
  }
  Args& ids(std::string_view field, const std::vector<std::string>& v) {
    add(std::to_string(v.size()));
    for (const auto& x : v) id(field, x);
    return *this;
  }
  Args& json(std::string_view field, const Json& v) {
    model::check_json_text(v, field);
    // (A value nested too deeply to serialise is refused by the command itself, with its name.)
    if (keep_ && !model::serialized_size(v, SIZE_MAX, 256).too_deep) add(v.dump());
    return *this;
  }
  Args& num(std::int64_t v) { return add(std::to_string(v)); }
  Args& time(const std::optional<TimePoint>& t) { return add(t ? std::to_string(t->time_since_epoch().count()) : "-"); }
  Args& duration(const std::optional<Duration>& d) { return add(d ? std::to_string(d->count()) : "-"); }
  /// FNV-1a (64 bits) of the length-prefixed arguments, in hex: stable across builds.
  std::string fingerprint() const {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : text_) {
      h ^= c;
      h *= 1099511628211ull;
    }
    return fmt::format("{:016x}:{}", h, text_.size());
  }

 private:
  Args& add(std::string_view v) {
    if (keep_) {
      text_ += std::to_string(v.size());
      text_ += ':';
      text_ += v;
    }
    return *this;
  }
  bool keep_;
  std::string text_;
};

/// Checks a request's actor: a non-empty id, and text without control characters
/// (Error(invalid_argument) naming the field).
void check_actor(const Actor& a);

/// The case's open work items, as the store's read model keeps them (engine_pipeline.cpp).
std::vector<WorkItem> open_work(const CaseState& s);

/// A callable taken by reference for the duration of one call (the decision of a command):
/// no copy, no allocation. It must not outlive the callable it refers to.
template <class Signature>
class FunctionRef;

template <class R, class... A>
class FunctionRef<R(A...)> {
 public:
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, FunctionRef>)
      FunctionRef(F&& f)  // NOLINT(google-explicit-constructor): passed as a lambda
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))), call_([](void* o, A... a) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<A>(a)...);
        }) {}
  R operator()(A... a) const { return call_(object_, std::forward<A>(a)...); }

 private:
  void* object_;
  R (*call_)(void*, A...);
};

}  // namespace runtime

struct Engine::Impl final : ManualClock::Listener {
  using Slot = runtime::Slot;
  using Args = runtime::Args;
  using Decider = runtime::Decider;
  /// A command's decision: runs on the locked case; returns the id of what it created, or "".
  using Decide = runtime::FunctionRef<std::string(Decider&)>;

  EngineOptions options;
  std::shared_ptr<Clock> clock;
  std::shared_ptr<const Calendar> calendar;
  ManualClock* manual = nullptr;
  std::shared_ptr<CaseStore> store;
  StoreTraits traits;  // the store's, read once
  // A store several processes share (PostgreSQL): other processes write the same cases, so a
  // cached case may be behind the store; timers are claimed (claim_due). Null otherwise.
  CaseStore* shared = nullptr;
  static constexpr int kConflictRetries = 8;  // re-decisions of a command after conflicts

  mutable std::shared_mutex registry_mutex;
  runtime::Registry registry;

  mutable std::shared_mutex cases_mutex;
  std::unordered_map<std::string, std::shared_ptr<Slot>> cases;  // the cache
  std::atomic<std::uint64_t> next_case{1};
  std::atomic<std::uint64_t> tick{0};

  mutable std::mutex handlers_mutex;
  std::unordered_map<std::string, std::shared_ptr<const TaskHandler>> handlers;

  std::mutex subs_mutex;
  std::map<std::uint64_t, std::pair<EventCallback, std::vector<std::string>>> subscribers;
  std::uint64_t next_sub = 1;
  std::atomic<std::size_t> subscriber_count{0};

  std::mutex outbox_mutex;
  std::deque<Event> outbox;
  bool delivering = false;

  std::mutex timers_mutex;  // one run_due at a time

  runtime::Services services;

  // ---- opening (engine.cpp) ---------------------------------------------------------------
  explicit Impl(EngineOptions o);
  ~Impl() override;

  // ---- cache: the cases in memory and the registry (engine_cache.cpp) -----------------------
  /// Reads every stored definition into the registry (fragments first). Errors: storage.
  void load_registry();
  /// Builds a case from its stored snapshot and events (registry lock held shared); null for a
  /// case the store does not have.
  std::shared_ptr<Slot> load(const std::string& case_id) const;
  /// Applies stored events, checking what was read: a damaged row is Error(storage) naming the
  /// case and the event.
  void fold_stored(runtime::CaseState& state, const std::vector<Event>& events, const std::string& case_id) const;
  /// A case from what the store read (a snapshot, if usable, and the events after it).
  std::shared_ptr<Slot> build(const std::string& case_id, std::optional<LoadedCase> loaded) const;
  /// The cached case, loaded if needed. Errors: not_found, storage.
  std::shared_ptr<Slot> slot(const std::string& case_id) const;
  /// The slots of `ids` (null for a case the store does not have), pinned so that eviction
  /// leaves them in the cache until unpinned; the missing ones are loaded from one read of the
  /// store. A case that fails to load (a damaged row) is null with its error in errors[i].
  std::vector<std::shared_ptr<Slot>> pinned_slots(const std::vector<std::string>& ids,
                                                  std::vector<std::exception_ptr>& errors);
  static void unpin(const std::shared_ptr<Slot>& s);
  /// Drops idle cases beyond the cache capacity (cases_mutex held exclusively). Returns them, so
  /// that the caller frees their states after releasing the lock.
  [[nodiscard]] std::vector<std::shared_ptr<Slot>> evict_locked();
  void drop(const std::string& case_id);
  /// Error(invalid_state) if this thread holds the case (a task handler calling into its case).
  static void check_reentry(const Slot* s, const std::string& case_id);
  /// Adds the definitions another process registered since this engine loaded them (a shared
  /// store); returns whether any was new. Takes the registry lock exclusively.
  bool reload_registry();
  /// On a shared store: whether the cached case is behind the store (another process committed
  /// to it). One read of the events after the cached version.
  bool stale(const Slot& s) const;

  /// Runs `f` on the cached case, locked, with the registry held shared.
  template <class F>
  auto query(const std::string& case_id, F&& f) const {
    while (true) {
      auto s = slot(case_id);
      check_reentry(s.get(), case_id);
      std::lock_guard lk(s->mutex);
      if (s->evicted) continue;
      if (stale(*s)) {  // another process wrote the case: read it again
        s->evicted = true;
        const_cast<Impl*>(this)->drop(case_id);
        continue;
      }
      std::shared_lock reg(registry_mutex);
      return f(*s);
    }
  }

  // ---- command pipeline (engine_pipeline.cpp) ---------------------------------------------
  /// Runs a command on a case: replays a used idempotency key, else decides on the locked case
  /// and writes the events before the case lock is released; then delivers them.
  CommandResult command(const Request& by, const std::string& case_id, const Args& args, Decide f);
  /// create_case: the store decides whether the id is new (a commit expecting version 0).
  CommandResult create_case(const Request& by, const NewCase& spec, const Args& args);
  /// What a command writes: events, case row, read model (if changed), snapshot (when due),
  /// idempotency key. Case lock held. The commit refers to `events`, which the caller keeps
  /// until it is written. `idem`: what else the idempotency key's result records (the
  /// command's fingerprint and the permissions it was checked for).
  CaseCommit prepare(Slot& s, const std::vector<Event>& events, std::uint64_t before, const Request* by,
                     const CommandResult* result, std::vector<WorkItem>& work, RowKeys& keys,
                     const Json* idem = nullptr);
  /// A commit written: the slot records what the store now holds.
  void committed(Slot& s, std::size_t n_events, bool snapshot, std::vector<WorkItem>&& work, RowKeys&& keys);
  /// A case whose events could not be written: its cached state is ahead of the store.
  void discard(Slot& s);
  /// Writes a command's effect to the store. On failure the cached case is dropped and the
  /// error rethrown. Case lock held.
  void persist(Slot& s, std::vector<Event>& events, std::uint64_t before, const Request* by,
               const CommandResult* result, const Json* idem = nullptr);
  /// The stored result of the request's idempotency key, if it has been used: only for the
  /// actor who used it. Errors: conflict.
  std::optional<Json> stored_result(const Request& by);
  /// The first result of a used idempotency key, checked against this command. Errors:
  /// conflict, storage, permission_denied.
  std::optional<CommandResult> replay_idempotent(const Request& by, const std::string& case_id, const Args& args);
  /// Error(invalid_state) on a read-only engine.
  void require_writable() const;

  // ---- timers (engine_timers.cpp) ---------------------------------------------------------
  std::optional<TimePoint> next_due() override;
  void run_due(TimePoint now) override;
  /// Fires everything due at `now`; returns how many timers fired.
  std::size_t run_due_at(TimePoint now);
  /// run_due_at on a store several processes share: each chunk claimed in the store.
  std::size_t run_due_claimed(TimePoint now);
  /// One case's firing inside run_due (see engine_timers.cpp).
  std::optional<std::vector<Event>> fire_held(Slot& s, TimePoint now, std::size_t& fired);

  // ---- event delivery (engine_delivery.cpp) -----------------------------------------------
  /// Queues committed events for the subscribers (none: nothing is kept).
  void enqueue(const std::vector<Event>& events);
  /// Delivers the queued events on this thread, unless another thread is delivering.
  void deliver();
  /// The handler registered under `name`, or null.
  std::shared_ptr<const TaskHandler> handler(const std::string& name) const;
};

}  // namespace acm
