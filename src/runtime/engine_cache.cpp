// SPDX-License-Identifier: Apache-2.0
// Engine::Impl, cache: the cases held in memory (runtime/engine_impl.hpp). A case is loaded when
// first used (its snapshot, if usable, and the events after it, folded), kept in `cases` and
// evicted, least recently used first, beyond EngineOptions::cache_capacity; a case dropped after
// a failed write is marked evicted and loaded again by its next user. The registry of
// definitions is read from the store when the engine opens.
#include "runtime/engine_impl.hpp"
#include "runtime/snapshot.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace acm {

using runtime::CaseState;
using runtime::Decider;
using runtime::HoldGuard;
using runtime::Slot;

void Engine::Impl::load_registry() {
  auto defs = store->load_definitions();
  // Fragments first: case types refer to them.
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& d : defs) {
      try {
        if (pass == 0 && d.kind == "fragment") {
          auto set = parse_definitions(Json{{"fragments", Json::array({d.body})}});
          registry.add(runtime::compile(set.fragments.at(0)));
        } else if (pass == 1 && d.kind == "case_type") {
          auto set = parse_definitions(Json{{"case_types", Json::array({d.body})}});
          registry.add(runtime::compile(set.case_types.at(0)));
        }
      } catch (const Error& e) {
        throw Error(ErrorCode::storage,
                    fmt::format("stored {} '{}' version {} cannot be loaded: {}", d.kind, d.id, d.version, e.what()));
      }
    }
}

// Builds a case from its stored snapshot and events (registry lock held shared).
std::shared_ptr<Slot> Engine::Impl::load(const std::string& case_id) const {
  auto loaded = store->load_case(case_id);
  if (!loaded) return nullptr;
  return build(case_id, std::move(loaded));
}

// Applies stored events, checking what was read: a damaged row is Error(storage) naming the
// case and the event.
void Engine::Impl::fold_stored(CaseState& state, const std::vector<Event>& events, const std::string& case_id) const {
  runtime::FoldContext ctx{&registry};
  for (const auto& e : events) {
    if (e.seq != state.version + 1 || (!e.case_id.empty() && e.case_id != case_id))
      throw Error(ErrorCode::storage, fmt::format("case '{}': stored event {} follows version {} (a damaged or "
                                                  "missing row)",
                                                  case_id, e.seq, state.version));
    try {
      runtime::apply(state, e, ctx);
    } catch (const Error& x) {
      throw Error(ErrorCode::storage,
                  fmt::format("case '{}': stored event {} ('{}') is damaged: {}", case_id, e.seq, e.kind, x.what()));
    }
  }
}

std::shared_ptr<Slot> Engine::Impl::build(const std::string& case_id, std::optional<LoadedCase> loaded) const {
  auto s = std::make_shared<Slot>();
  bool from_snapshot = false;
  if (loaded->snapshot && store::snapshot_has_checksum(loaded->snapshot->data)) {
    try {
      s->state = store::load_snapshot(loaded->snapshot->data, registry);
      // A snapshot of another case or version (a row that was damaged or moved) is not used.
      from_snapshot = s->state.id == case_id && s->state.version == loaded->snapshot->version;
    } catch (const Error&) {
      // An unreadable snapshot (damaged: its checksum or content does not hold) is only a lost
      // optimisation: replay the whole log.
    }
    if (!from_snapshot) s->state = CaseState{};
  }
  std::vector<Event> events = from_snapshot || !loaded->snapshot
                                  ? std::move(loaded->events)
                                  : store->load_events(case_id, 1).value_or(std::vector<Event>{});
  fold_stored(s->state, events, case_id);
  s->since_snapshot = events.size();
  if (s->state.version != loaded->row.version)
    throw Error(ErrorCode::storage, fmt::format("case '{}': stored version {} but its events reach {}", case_id,
                                                loaded->row.version, s->state.version));
  Decider::refresh_derived(s->state, services, clock->now());
  s->work_items = open_work(s->state);
  s->stored = RowKeys::of(loaded->row);
  return s;
}

// Adds the definitions another process registered since this engine loaded them (a shared
// store); returns whether any was new. Takes the registry lock exclusively.
bool Engine::Impl::reload_registry() {
  if (!shared) return false;
  std::unique_lock lk(registry_mutex);
  auto count = [&] {
    std::size_t n = 0;
    for (const auto& [id, v] : registry.fragments()) n += v.size();
    for (const auto& [id, v] : registry.case_types()) n += v.size();
    return n;
  };
  const std::size_t before = count();
  runtime::Registry fresh;
  std::swap(fresh, registry);
  try {
    load_registry();
  } catch (...) {
    std::swap(fresh, registry);
    throw;
  }
  return count() > before;
}

// On a shared store: whether the cached case is behind the store (another process committed
// to it). One read of the events after the cached version.
bool Engine::Impl::stale(const Slot& s) const {
  if (!shared) return false;
  auto newer = store->load_events(s.state.id, s.state.version + 1);
  return newer && !newer->empty();
}

std::shared_ptr<Slot> Engine::Impl::slot(const std::string& case_id) const {
  {
    std::shared_lock lk(cases_mutex);
    auto it = cases.find(case_id);
    if (it != cases.end()) {
      it->second->last_used = const_cast<Impl*>(this)->tick++;
      return it->second;
    }
  }
  std::shared_ptr<Slot> s;
  try {
    std::shared_lock reg(registry_mutex);
    s = load(case_id);
  } catch (const Error&) {
    // On a shared store the case may use a definition another process registered since.
    if (!shared || !const_cast<Impl*>(this)->reload_registry()) throw;
    std::shared_lock reg(registry_mutex);
    s = load(case_id);
  }
  if (!s) throw Error(ErrorCode::not_found, fmt::format("no case '{}'", case_id));
  std::vector<std::shared_ptr<Slot>> evicted;  // destroyed after the lock is released
  std::unique_lock lk(cases_mutex);
  auto [it, inserted] = const_cast<Impl*>(this)->cases.emplace(case_id, s);
  std::shared_ptr<Slot> result = it->second;  // eviction below may erase the map entry
  result->last_used = const_cast<Impl*>(this)->tick++;
  if (inserted) evicted = const_cast<Impl*>(this)->evict_locked();
  return result;
}

// The slots of `ids` (null for a case the store does not have), pinned so that eviction
// leaves them in the cache until unpinned; the missing ones are loaded from one read of
// the store. (Timer chunks: see run_due_at.)
// A case that fails to load (a damaged row) is null with its error in errors[i].
std::vector<std::shared_ptr<Slot>> Engine::Impl::pinned_slots(const std::vector<std::string>& ids,
                                                              std::vector<std::exception_ptr>& errors) {
  errors.assign(ids.size(), nullptr);
  std::vector<std::shared_ptr<Slot>> out(ids.size());
  std::vector<std::string> missing;
  std::vector<std::size_t> where;
  {
    std::shared_lock lk(cases_mutex);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      auto it = cases.find(ids[i]);
      if (it == cases.end()) {
        missing.push_back(ids[i]);
        where.push_back(i);
        continue;
      }
      out[i] = it->second;
      out[i]->pins.fetch_add(1, std::memory_order_relaxed);
      out[i]->last_used = tick++;
    }
  }
  if (missing.empty()) return out;
  std::vector<std::shared_ptr<Slot>> loaded(missing.size());
  try {
    std::shared_lock reg(registry_mutex);
    // Each case is folded as soon as it is read, and its events dropped before the next.
    store->load_cases(missing, [&](std::size_t j, std::optional<LoadedCase> stored) {
      if (!stored) return;
      try {
        loaded[j] = build(missing[j], std::move(stored));
      } catch (const Error&) {
        errors[where[j]] = std::current_exception();
      }
    });
  } catch (...) {
    for (auto& s : out) unpin(s);
    throw;
  }
  std::vector<std::shared_ptr<Slot>> evicted;  // destroyed after the lock is released
  std::unique_lock lk(cases_mutex);
  for (std::size_t j = 0; j < missing.size(); ++j) {
    if (!loaded[j]) continue;
    auto [it, inserted] = cases.emplace(missing[j], loaded[j]);  // a command may have loaded it meanwhile
    std::shared_ptr<Slot>& s = out[where[j]];
    s = it->second;
    s->pins.fetch_add(1, std::memory_order_relaxed);
    s->last_used = tick++;
  }
  evicted = evict_locked();
  return out;
}

void Engine::Impl::unpin(const std::shared_ptr<Slot>& s) {
  if (s) s->pins.fetch_sub(1, std::memory_order_relaxed);
}

// Drops idle cases beyond the cache capacity (cases_mutex held exclusively). Returns them, so
// that the caller frees their states after releasing the lock.
std::vector<std::shared_ptr<Slot>> Engine::Impl::evict_locked() {
  std::vector<std::shared_ptr<Slot>> out;
  if (cases.size() <= options.cache_capacity) return out;
  // Iterators of an unordered_map stay valid while other elements are erased.
  using It = decltype(cases)::iterator;
  std::vector<std::pair<std::uint64_t, It>> by_age;
  by_age.reserve(cases.size());
  for (It it = cases.begin(); it != cases.end(); ++it)
    if (it->second->pins.load(std::memory_order_relaxed) == 0) by_age.emplace_back(it->second->last_used.load(), it);
  if (by_age.empty()) return out;
  std::size_t excess = cases.size() - options.cache_capacity + options.cache_capacity / 10;
  std::nth_element(by_age.begin(), by_age.begin() + static_cast<std::ptrdiff_t>(std::min(excess, by_age.size()) - 1),
                   by_age.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < excess && i < by_age.size(); ++i) {
    It it = by_age[i].second;
    // Never try_lock a mutex this thread already holds (undefined for std::mutex).
    if (it->second->held_by_me()) continue;
    std::unique_lock sl(it->second->mutex, std::try_to_lock);
    if (!sl.owns_lock()) continue;  // in use: keep it
    it->second->evicted = true;
    sl.unlock();
    out.push_back(std::move(it->second));
    cases.erase(it);
  }
  return out;
}

void Engine::Impl::drop(const std::string& case_id) {
  std::unique_lock lk(cases_mutex);
  cases.erase(case_id);
}

void Engine::Impl::check_reentry(const Slot* s, const std::string& case_id) {
  if (s->held_by_me())
    throw Error(ErrorCode::invalid_state,
                fmt::format("re-entrant call on case '{}': this thread is running a command or timers on it (a "
                            "task handler may not call into its own case, nor into the cases its timer run holds)",
                            case_id));
}

}  // namespace acm
