// SPDX-License-Identifier: Apache-2.0
#include <acm/engine.hpp>
#include <acm/store.hpp>

#include "model/json_size.hpp"
#include "model/text.hpp"
#include "model/validate.hpp"
#include "runtime/compiled.hpp"
#include "runtime/decider.hpp"
#include "runtime/snapshot.hpp"
#include "runtime/state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <queue>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

namespace acm {

using runtime::CaseState;
using runtime::Decider;

namespace {

// One case held in memory.
struct Slot {
  std::mutex mutex;
  CaseState state;
  std::vector<WorkItem> work_items;  // as last written to the read model
  std::size_t since_snapshot = 0;                  // events since the stored snapshot
  bool evicted = false;                            // dropped from the cache: reload
  std::atomic<std::uint64_t> last_used{0};
  std::atomic<int> pins{0};              // > 0: not to be evicted (timer chunks)
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
thread_local std::size_t t_holding = 0;

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

std::vector<WorkItem> open_work(const CaseState& s) {
  std::vector<WorkItem> out;
  // The case's pressing goal: the open goal with the earliest deadline (for items serving none).
  const runtime::Goal* pressing = nullptr;
  for (const auto& g : s.goals)
    if (g.status == GoalStatus::open && g.deadline && (!pressing || *g.deadline < *pressing->deadline)) pressing = &g;
  for (const auto& it : s.items) {
    if (it.def->def.kind != ItemKind::human_task) continue;
    if (it.state != ItemState::enabled && it.state != ItemState::active && it.state != ItemState::suspended) continue;
    if (s.status != CaseStatus::active && s.status != CaseStatus::suspended) continue;
    WorkItem w;
    w.case_id = s.id;
    w.item_id = it.id;
    w.name = it.def->def.name.empty() ? it.def->def.id : it.def->def.name;
    w.state = it.state;
    w.assignee = it.assignee;
    w.role = it.def->def.role;
    w.skills = it.def->def.skills;
    w.due = it.due;
    w.priority = s.priority;
    w.case_title = s.title;
    w.customer = s.subject.customer;
    const runtime::Goal* g = it.goal.empty() ? pressing : s.find_goal(it.goal);
    if (g) {
      w.goal = g->spec.id;
      w.goal_deadline = g->deadline;
      w.goal_timing = g->timing;
    }
    out.push_back(std::move(w));
  }
  return out;
}

CaseRow record_of(const CaseState& s, TimePoint now) {
  CaseRow r;
  r.id = s.id;
  r.version = s.version;
  r.type = s.type ? s.type->def.id : "";
  r.type_version = s.type ? s.type->def.version : 0;
  r.status = s.status;
  r.owner = s.owner;
  r.priority = s.priority;
  r.customer = s.subject.customer;
  r.title = s.title;
  r.next_due = Decider::next_due(s);
  auto consider = [&](const std::optional<TimePoint>& t) {
    if (t && (!r.next_deadline || *t < *r.next_deadline)) r.next_deadline = t;
  };
  for (const auto& g : s.goals)
    if (g.status == GoalStatus::open) consider(g.deadline);
  for (const auto& it : s.items)
    if (!runtime::is_terminal(it.state)) consider(it.due);
  r.created_at = s.created_at;
  r.updated_at = now;
  return r;
}

Json result_json(const CommandResult& r, const std::string& case_id, const std::string& actor) {
  Json j{{"case", case_id}, {"version", r.version}, {"created", r.created}, {"actor", actor}};
  j["first_seq"] = r.events.empty() ? r.version + 1 : r.events.front().seq;
  j["last_seq"] = r.events.empty() ? r.version : r.events.back().seq;
  return j;
}

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

void check_actor(const Actor& a) {
  if (a.id.empty()) throw Error(ErrorCode::invalid_argument, "a request needs an actor id (it is empty)");
  model::check_text(a.id, "the actor id");
  for (const auto& r : a.roles) model::check_text(r, "an actor role");
}

void check_participant(Args& a, const Participant& p) {
  a.id("the participant's actor", p.actor).ids("a participant role", p.roles);
}

Args goal_args(const Request& by, const GoalSpec& g) {
  Args a(by, "add_goal");
  a.id("the goal id", g.id).id("the goal name", g.name).id("the goal owner", g.owner).id("the parent goal", g.parent);
  a.num(g.required).time(g.deadline).duration(g.within).id("the goal anchor", g.anchor);
  a.text("the goal criterion", g.criterion).ids("a goal milestone", g.milestones).num(g.decision);
  return a;
}

Args change_args(const Request& by, const std::string& goal_id, const GoalChange& c) {
  Args a(by, "change_goal");
  a.id("the goal id", goal_id);
  if (c.name)
    a.id("the goal name", *c.name);
  else
    a.num(-1);
  if (c.owner)
    a.id("the goal owner", *c.owner);
  else
    a.num(-1);
  a.num(c.required ? *c.required : -1);
  if (c.deadline)
    a.time(*c.deadline);
  else
    a.num(-1);
  if (c.criterion)
    a.text("the goal criterion", *c.criterion);
  else
    a.num(-1);
  if (c.milestones)
    a.ids("a goal milestone", *c.milestones);
  else
    a.num(-1);
  return a;
}

}  // namespace

struct Engine::Impl final : ManualClock::Listener {
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

  explicit Impl(EngineOptions o) : options(std::move(o)) {
    clock = options.clock ? options.clock : std::make_shared<SystemClock>();
    calendar = options.calendar ? options.calendar : std::make_shared<AlwaysCalendar>();
    services.registry = &registry;
    services.calendar = calendar.get();
    services.options = &options;
    if (options.priority_policy) services.priority = runtime::CompiledPriority::compile(*options.priority_policy);
    validate_escalation(options.escalation);
    services.handler = [this](const std::string& name) -> std::shared_ptr<const TaskHandler> {
      std::lock_guard lk(handlers_mutex);
      auto it = handlers.find(name);
      return it == handlers.end() ? nullptr : it->second;
    };
    if (options.store) {
      store = options.store;
    } else if (options.database.empty() || options.database == ":memory:") {
      store = open_memory_store();
    } else if (is_postgres_database(options.database)) {
      PostgresStoreOptions po;
      po.conninfo = options.database;
      po.read_only = options.read_only;
      store = open_postgres_store(po);
    } else {
      SqliteStoreOptions so;
      so.path = options.database;
      so.durability = options.durability;
      so.read_only = options.read_only;
      so.read_only_fallback = true;  // a store in a directory that cannot be written: queries still work
      store = open_sqlite_store(so);
    }
    traits = store->traits();
    if (traits.shared) shared = store.get();
    load_registry();
    // A store migrated to schema v4 rewrites its open work items once, with the columns v4 added.
    store->rebuild_work_items([this](const std::string& case_id) -> std::optional<std::vector<WorkItem>> {
      auto s = load(case_id);
      if (!s) return std::nullopt;
      return open_work(s->state);
    });
    next_case = store->case_count() + 1;
    manual = dynamic_cast<ManualClock*>(clock.get());
    if (manual && traits.read_only) manual = nullptr;  // nothing fires in a read-only engine
    if (manual) manual->attach(this);
  }

  ~Impl() override {
    if (manual) manual->detach(this);
  }

  void load_registry() {
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
          throw Error(ErrorCode::storage, fmt::format("stored {} '{}' version {} cannot be loaded: {}", d.kind, d.id,
                                                      d.version, e.what()));
        }
      }
  }

  // Adds the definitions another process registered since this engine loaded them (a shared
  // store); returns whether any was new. Takes the registry lock exclusively.
  bool reload_registry() {
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
  bool stale(const Slot& s) const {
    if (!shared) return false;
    auto newer = store->load_events(s.state.id, s.state.version + 1);
    return newer && !newer->empty();
  }

  // Builds a case from its stored snapshot and events (registry lock held shared).
  std::shared_ptr<Slot> load(const std::string& case_id) const {
    auto loaded = store->load_case(case_id);
    if (!loaded) return nullptr;
    return build(case_id, std::move(loaded));
  }

  // Applies stored events, checking what was read: a damaged row is Error(storage) naming the
  // case and the event.
  void fold_stored(CaseState& state, const std::vector<Event>& events, const std::string& case_id) const {
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

  std::shared_ptr<Slot> build(const std::string& case_id, std::optional<LoadedCase> loaded) const {
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

  std::shared_ptr<Slot> slot(const std::string& case_id) const {
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
  std::vector<std::shared_ptr<Slot>> pinned_slots(const std::vector<std::string>& ids,
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

  static void unpin(const std::shared_ptr<Slot>& s) {
    if (s) s->pins.fetch_sub(1, std::memory_order_relaxed);
  }

  // Drops idle cases beyond the cache capacity (cases_mutex held exclusively). Returns them, so
  // that the caller frees their states after releasing the lock.
  [[nodiscard]] std::vector<std::shared_ptr<Slot>> evict_locked() {
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

  void drop(const std::string& case_id) {
    std::unique_lock lk(cases_mutex);
    cases.erase(case_id);
  }

  static void check_reentry(const Slot* s, const std::string& case_id) {
    if (s->held_by_me())
      throw Error(ErrorCode::invalid_state,
                  fmt::format("re-entrant call on case '{}': this thread is running a command or timers on it (a "
                              "task handler may not call into its own case, nor into the cases its timer run holds)",
                              case_id));
  }

  // What a command writes: events, case row, read model (if changed), snapshot (when due),
  // idempotency key. Case lock held.
  // The commit refers to `events`, which the caller keeps until it is written.
  // `idem`: what else the idempotency key's result records (the command's fingerprint and the
  // permissions it was checked for).
  CaseCommit prepare(Slot& s, const std::vector<Event>& events, std::uint64_t before, const Request* by,
                     const CommandResult* result, std::vector<WorkItem>& work, RowKeys& keys,
                     const Json* idem = nullptr) {
    CaseCommit c;
    c.row = record_of(s.state, clock->now());
    c.expected_version = before;
    c.events = events;
    if (traits.wants_payload_text) {  // serialised here, on the committing thread, not by the store's writer
      c.payloads.reserve(events.size());
      for (const Event& e : events) c.payloads.push_back(e.payload.dump());
    }
    c.stored_keys = s.stored;
    keys = RowKeys::of(c.row);
    work = open_work(s.state);
    if (work != s.work_items) c.work_items = work;
    if (s.since_snapshot + events.size() >= options.snapshot_every && traits.keeps_snapshots)
      c.snapshot = SnapshotBlob{s.state.version, store::save_snapshot(s.state)};
    if (by && !by->idempotency_key.empty() && result) {
      c.idempotency_key = by->idempotency_key;
      c.idempotent_result = result_json(*result, s.state.id, by->actor.id);
      if (idem)
        for (const auto& [k, v] : idem->items()) c.idempotent_result[k] = v;
    }
    return c;
  }

  void committed(Slot& s, std::size_t n_events, bool snapshot, std::vector<WorkItem>&& work, RowKeys&& keys) {
    s.since_snapshot = snapshot ? 0 : s.since_snapshot + n_events;
    s.work_items = std::move(work);
    s.stored = std::move(keys);
  }

  // A case whose events could not be written: its cached state is ahead of the store.
  void discard(Slot& s) {
    s.evicted = true;
    drop(s.state.id);
  }

  // Writes a command's effect to the store. On failure the cached case is dropped and the
  // error rethrown. Case lock held.
  void persist(Slot& s, std::vector<Event>& events, std::uint64_t before, const Request* by,
               const CommandResult* result, const Json* idem = nullptr) {
    // A command that changed nothing writes nothing, unless it has an idempotency key to keep:
    // a retry must get this result, not apply the command to whatever the case is by then.
    if (events.empty() && (!by || by->idempotency_key.empty())) return;
    std::vector<WorkItem> work;
    RowKeys keys;
    bool snap = false;
    // Everything between deciding and committing is inside the try: whatever fails (a payload
    // that cannot be serialised, the snapshot, the store) leaves the cache as the store.
    try {
      CaseCommit c = prepare(s, events, before, by, result, work, keys, idem);
      snap = c.snapshot.has_value();
      store->commit(std::move(c));
    } catch (const Json::exception& e) {
      discard(s);
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("case '{}': the command's events cannot be stored: {}", s.state.id, e.what()));
    } catch (...) {
      discard(s);
      throw;
    }
    committed(s, events.size(), snap, std::move(work), std::move(keys));
  }

  void enqueue(const std::vector<Event>& events) {
    if (events.empty() || subscriber_count.load(std::memory_order_acquire) == 0) return;
    std::lock_guard lk(outbox_mutex);
    for (const auto& e : events) outbox.push_back(e);
  }

  void deliver() {
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

  // The stored result of the request's idempotency key, if it has been used: only for the
  // actor who used it (results stored before keys recorded their actor are for anyone).
  std::optional<Json> stored_result(const Request& by) {
    if (by.idempotency_key.empty()) return std::nullopt;
    auto stored = store->idempotent_result(by.idempotency_key);
    if (stored && stored->contains("actor") && (*stored)["actor"] != by.actor.id)
      throw Error(ErrorCode::conflict, fmt::format("idempotency key '{}' was used by actor '{}'", by.idempotency_key,
                                                   (*stored)["actor"].get<std::string>()));
    return stored;
  }

  std::optional<CommandResult> replay_idempotent(const Request& by, const std::string& case_id, const Args& args) {
    auto stored = stored_result(by);
    if (!stored) return std::nullopt;
    if (!stored->is_object() || !stored->contains("version") || !(*stored)["version"].is_number_unsigned() ||
        !stored->contains("first_seq") || !(*stored)["first_seq"].is_number_unsigned() ||
        !stored->contains("last_seq") || !(*stored)["last_seq"].is_number_unsigned())
      throw Error(ErrorCode::storage,
                  fmt::format("the stored result of idempotency key '{}' is damaged", by.idempotency_key));
    if (stored->value("case", "") != case_id)
      throw Error(ErrorCode::conflict, fmt::format("idempotency key '{}' was used for case '{}'", by.idempotency_key,
                                                   stored->value("case", "")));
    // Results stored before keys recorded their command match any command.
    if (stored->contains("command") && stored->value("command", "") != args.fingerprint())
      throw Error(ErrorCode::conflict,
                  fmt::format("idempotency key '{}' was used for another command (or other arguments) on case '{}'",
                              by.idempotency_key, case_id));
    // The actor must still be allowed to do what the command needed.
    const unsigned perms = stored->value("perms", 0u);
    while (perms != 0) {
      auto s = slot(case_id);
      check_reentry(s.get(), case_id);
      std::lock_guard lk(s->mutex);
      if (s->evicted) continue;
      std::shared_lock reg(registry_mutex);
      Decider::require_perms(s->state, services, by.actor, perms, "repeat this command");
      break;
    }
    CommandResult r;
    r.version = (*stored)["version"].get<std::uint64_t>();
    r.created = stored->value("created", "");
    auto first = (*stored)["first_seq"].get<std::uint64_t>(), last = (*stored)["last_seq"].get<std::uint64_t>();
    for (auto& e : store->load_events(case_id, first).value_or(std::vector<Event>{}))
      if (e.seq <= last) r.events.push_back(std::move(e));
    return r;
  }

  void require_writable() const {
    if (traits.read_only)
      throw Error(ErrorCode::invalid_state,
                  "the engine is open read-only (EngineOptions::read_only, or a store directory that is not "
                  "writable): it answers queries only");
  }

  template <class F>
  CommandResult command(const Request& by, const std::string& case_id, const Args& args, F&& f) {
    check_actor(by.actor);
    if (auto again = replay_idempotent(by, case_id, args)) return *again;
    require_writable();
    CommandResult result;
    int conflicts = 0;           // commits refused because another process wrote the case first
    bool reloaded = false;       // definitions reloaded from a shared store
    std::exception_ptr missing;  // a definition not found: rethrown if reloading finds none new
    while (true) {
      bool again = false;
      {
        auto s = slot(case_id);
        check_reentry(s.get(), case_id);
        std::unique_lock lk(s->mutex);
        if (s->evicted) continue;  // dropped from the cache meanwhile: load again
        HoldGuard hold(s.get());
        if (by.expected_version && shared && *by.expected_version != s->state.version && stale(*s)) {
          s->evicted = true;  // another process wrote it: compare with the stored version
          drop(case_id);
          continue;
        }
        if (by.expected_version && *by.expected_version != s->state.version)
          throw Error(ErrorCode::conflict, fmt::format("case '{}' is at version {}, not the expected {}", case_id,
                                                       s->state.version, *by.expected_version));
        std::shared_lock reg(registry_mutex);
        const std::uint64_t before = s->state.version;
        Decider d(s->state, services, by.actor, clock->now());
        try {
          result.created = f(d);
        } catch (const Error& e) {
          if (!d.events().empty()) {
            s->evicted = true;  // holds half a command: reload from the store
            drop(case_id);
          }
          // A definition another process registered: load the definitions again, once.
          if (e.code() != ErrorCode::not_found || !shared || reloaded) throw;
          reloaded = true;
          missing = std::current_exception();
          again = true;
        } catch (...) {
          if (!d.events().empty()) {
            s->evicted = true;
            drop(case_id);
          }
          throw;
        }
        if (!again) {
          result.version = s->state.version;
          result.events = std::move(d.events());
          Json idem;
          if (!by.idempotency_key.empty())
            idem = Json{{"command", args.fingerprint()}, {"perms", d.permissions_checked()}};
          try {
            persist(*s, result.events, before, &by, &result, idem.is_null() ? nullptr : &idem);
          } catch (const Error& e) {
            // Another process committed to the case first (persist dropped the cached copy):
            // decide again on the stored case, a bounded number of times. With an expected
            // version the caller asked for that version: the conflict is the answer.
            if (e.code() != ErrorCode::conflict || !shared || by.expected_version || ++conflicts > kConflictRetries)
              throw;
            again = true;
          }
          if (!again) enqueue(result.events);
        }
      }
      if (!again) break;
      if (missing) {
        if (!reload_registry()) std::rethrow_exception(missing);
        missing = nullptr;
      } else if (auto replay = replay_idempotent(by, case_id, args)) {
        return *replay;  // the key was used meanwhile by another process: its result stands
      }
      result = CommandResult{};
    }
    deliver();
    return result;
  }

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

  // ---- timers ---------------------------------------------------------------------------

  std::optional<TimePoint> next_due() override {
    auto first = store->due_cases(TimePoint::max(), 1, std::nullopt);
    if (first.empty()) return std::nullopt;
    return first.front().due;
  }

  void run_due(TimePoint now) override { run_due_at(now); }

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
  // run_due on a store several processes share: each chunk of due cases is claimed in the
  // store (CaseStore::claim_due: the rows locked, other processes skip them), fired here and
  // written in the claim's own transaction, so each timer fires once whichever process runs
  // it. The claim holds row locks in the store while this thread takes case locks, and a
  // command holding a case lock may be waiting in the store for one of those rows: so cases
  // are only try-locked here; a busy case is left for a later run (the claim on it ends with
  // the chunk). A case cached at another version than the claimed one is loaded again.
  std::size_t run_due_claimed(TimePoint now) {
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
          auto claimed = std::find_if(claim->cases.begin(), claim->cases.end(),
                                      [&](const auto& c) { return c.first == ids[i]; });
          if (claimed == claim->cases.end() || claimed->second != s->state.version) continue;
          HoldGuard hold(s.get());
          std::shared_lock reg(registry_mutex);
          const std::uint64_t before = s->state.version;
          Decider d(s->state, services, Actor{}, now);
          try {
            fired += d.fire_due();
          } catch (...) {
            if (!d.events().empty()) discard(*s);
            throw;
          }
          std::vector<Event> events = std::move(d.events());
          if (events.empty()) {
            auto next = Decider::next_due(s->state);
            if (next && *next <= now) continue;
          }
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

  std::size_t run_due_at(TimePoint now) {
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
          Decider d(s->state, services, Actor{}, now);
          try {
            fired += d.fire_due();
          } catch (...) {
            if (!d.events().empty()) discard(*s);
            throw;
          }
          std::vector<Event> events = std::move(d.events());
          if (events.empty()) {
            // Nothing fired (a deadline check found the goal still on track): only the case's
            // wake-up time moves, written with the chunk. Unless it did not move: then it is
            // left for a later call (the cursor is past it).
            auto next = Decider::next_due(s->state);
            if (next && *next <= now) continue;
          }
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
};

// ---- Engine -------------------------------------------------------------------------------

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

std::unique_ptr<Engine> Engine::open(EngineOptions options) {
  if (options.max_steps_per_command == 0) throw Error(ErrorCode::invalid_argument, "max_steps_per_command must be positive");
  if (options.cache_capacity < 16) throw Error(ErrorCode::invalid_argument, "cache_capacity must be at least 16");
  if (options.snapshot_every == 0) throw Error(ErrorCode::invalid_argument, "snapshot_every must be positive");
  if (options.timer_batch == 0) throw Error(ErrorCode::invalid_argument, "timer_batch must be positive");
  if (options.max_items_per_command < 16)
    throw Error(ErrorCode::invalid_argument, "max_items_per_command must be at least 16");
  if (options.max_events_per_command < 16)
    throw Error(ErrorCode::invalid_argument, "max_events_per_command must be at least 16");
  if (options.read_only && !options.store && (options.database.empty() || options.database == ":memory:"))
    throw Error(ErrorCode::invalid_argument, "read_only needs a database file");
  if (options.max_payload_bytes < 1024)
    throw Error(ErrorCode::invalid_argument, "max_payload_bytes must be at least 1024");
  return std::unique_ptr<Engine>(new Engine(std::make_unique<Impl>(std::move(options))));
}

namespace {

void require_designer(const runtime::Services& sv, const Actor& a) {
  if (!sv.is_designer(a))
    throw Error(ErrorCode::permission_denied,
                fmt::format("actor '{}' may not register definitions: it needs an administrator or designer role", a.id));
}

}  // namespace

void Engine::load_definitions(const Request& by, const Json& document) {
  if (t_holding != 0)
    throw Error(ErrorCode::invalid_state, "definitions cannot be registered from a task handler (the registry is in use)");
  check_actor(by.actor);
  require_designer(impl_->services, by.actor);
  impl_->require_writable();
  model::check_json_text(document, "the definitions document");
  DefinitionSet set = parse_definitions(document);
  std::vector<std::shared_ptr<const runtime::CFragment>> fragments;
  std::vector<std::shared_ptr<const runtime::CCaseType>> types;
  for (const auto& f : set.fragments) fragments.push_back(runtime::compile(f));
  for (const auto& t : set.case_types) types.push_back(runtime::compile(t));
  std::unique_lock lk(impl_->registry_mutex);
  auto& reg = impl_->registry;
  std::vector<std::string> problems;
  std::vector<std::shared_ptr<const runtime::CFragment>> new_fragments;
  std::vector<std::shared_ptr<const runtime::CCaseType>> new_types;
  for (const auto& f : fragments) {
    auto existing = reg.fragment(f->def.id, f->def.version);
    if (!existing) {
      new_fragments.push_back(f);
    } else if (to_json(existing->def) != to_json(f->def)) {
      problems.push_back(fmt::format("fragment '{}' version {} is already registered with different content; register "
                                     "a new version",
                                     f->def.id, f->def.version));
    }
  }
  for (const auto& t : types) {
    auto existing = reg.case_type(t->def.id, t->def.version);
    if (!existing) {
      new_types.push_back(t);
    } else if (to_json(existing->def) != to_json(t->def)) {
      problems.push_back(fmt::format("case type '{}' version {} is already registered with different content; register "
                                     "a new version",
                                     t->def.id, t->def.version));
    }
    for (const auto& use : t->def.initial_fragments) {
      bool here = std::any_of(fragments.begin(), fragments.end(), [&](const auto& f) {
        return f->def.id == use.fragment && (use.version == 0 || use.version == f->def.version);
      });
      if (!here && !reg.fragment(use.fragment, use.version))
        problems.push_back(fmt::format("case type '{}' starts with fragment '{}' which is not registered", t->def.id, use.fragment));
    }
    for (const auto& id : t->def.discretionary) {
      bool here = std::any_of(fragments.begin(), fragments.end(), [&](const auto& f) { return f->def.id == id; });
      if (!here && !reg.fragment(id, 0))
        problems.push_back(fmt::format("case type '{}' offers fragment '{}' which is not registered", t->def.id, id));
    }
  }
  if (!problems.empty()) {
    std::string text = fmt::format("{} problem{} registering definitions:", problems.size(), problems.size() == 1 ? "" : "s");
    for (const auto& p : problems) text += "\n  " + p;
    throw Error(problems.size() == 1 && problems[0].find("already registered") != std::string::npos ? ErrorCode::already_exists
                                                                                                   : ErrorCode::invalid_definition,
                text);
  }
  std::vector<DefinitionRecord> records;
  for (auto& f : new_fragments) records.push_back({"fragment", f->def.id, f->def.version, to_json(f->def)});
  for (auto& t : new_types) records.push_back({"case_type", t->def.id, t->def.version, to_json(t->def)});
  if (!records.empty()) impl_->store->save_definitions(records);  // durable first, then visible
  for (auto& f : new_fragments) reg.add(f);
  for (auto& t : new_types) reg.add(t);
}

// A definition built in C++ is checked before it is converted to JSON: the conversion copies
// its free-form values, which would recurse as deep as they nest.
void Engine::register_fragment(const Request& by, const FragmentDef& fragment) {
  require_designer(impl_->services, by.actor);
  model::throw_if_problems(model::validate(fragment, ""));
  load_definitions(by, Json{{"fragments", Json::array({to_json(fragment)})}});
}

void Engine::register_case_type(const Request& by, const CaseTypeDef& case_type) {
  require_designer(impl_->services, by.actor);
  model::throw_if_problems(model::validate(case_type, ""));
  load_definitions(by, Json{{"case_types", Json::array({to_json(case_type)})}});
}

FragmentDef Engine::get_fragment(const std::string& id, int version) const {
  std::shared_lock lk(impl_->registry_mutex);
  auto f = impl_->registry.fragment(id, version);
  if (!f) throw Error(ErrorCode::not_found, fmt::format("fragment '{}'{} is not registered", id,
                                                        version ? fmt::format(" version {}", version) : ""));
  return f->def;
}

CaseTypeDef Engine::get_case_type(const std::string& id, int version) const {
  std::shared_lock lk(impl_->registry_mutex);
  auto t = impl_->registry.case_type(id, version);
  if (!t) throw Error(ErrorCode::not_found, fmt::format("case type '{}'{} is not registered", id,
                                                        version ? fmt::format(" version {}", version) : ""));
  return t->def;
}

std::vector<FragmentDef> Engine::list_fragments() const {
  std::shared_lock lk(impl_->registry_mutex);
  std::vector<FragmentDef> out;
  for (const auto& [id, versions] : impl_->registry.fragments()) out.push_back(versions.rbegin()->second->def);
  return out;
}

std::vector<CaseTypeDef> Engine::list_case_types() const {
  std::shared_lock lk(impl_->registry_mutex);
  std::vector<CaseTypeDef> out;
  for (const auto& [id, versions] : impl_->registry.case_types()) out.push_back(versions.rbegin()->second->def);
  return out;
}

CommandResult Engine::create_case(const Request& by, const NewCase& spec) {
  auto& im = *impl_;
  check_actor(by.actor);
  Args args(by, "create_case");
  args.id("the case id", spec.id).id("the case type", spec.type).num(spec.type_version).id("the title", spec.title);
  args.id("the customer", spec.subject.customer).json("the subject's attributes", spec.subject.attributes);
  args.id("the owner", spec.owner).num(spec.priority).num(static_cast<std::int64_t>(spec.participants.size()));
  for (const auto& p : spec.participants) check_participant(args, p);
  args.json("the initial case file", spec.file);
  // The first result of the key: the case id, its version then and the events it appended
  // (results stored before create_case recorded its events give none).
  auto replay = [&]() -> std::optional<CommandResult> {
    auto stored = im.stored_result(by);
    if (!stored) return std::nullopt;
    if (stored->value("created", "") != stored->value("case", "-") ||
        (stored->contains("command") && stored->value("command", "") != args.fingerprint()))
      throw Error(
          ErrorCode::conflict,
          fmt::format("idempotency key '{}' was used for another command (or other arguments)", by.idempotency_key));
    CommandResult r;
    r.created = stored->value("case", "");
    if (stored->contains("version") && (*stored)["version"].is_number_unsigned())
      r.version = (*stored)["version"].get<std::uint64_t>();
    if (stored->contains("first_seq") && (*stored)["first_seq"].is_number_unsigned() && stored->contains("last_seq") &&
        (*stored)["last_seq"].is_number_unsigned()) {
      const auto first = (*stored)["first_seq"].get<std::uint64_t>(), last = (*stored)["last_seq"].get<std::uint64_t>();
      if (first <= last)
        for (auto& e : im.store->load_events(r.created, first).value_or(std::vector<Event>{}))
          if (e.seq <= last) r.events.push_back(std::move(e));
    }
    return r;
  };
  if (auto again = replay()) return *again;
  im.require_writable();
  if (!spec.type.empty() && im.shared) {  // a type another process registered: load it
    bool known;
    {
      std::shared_lock reg(im.registry_mutex);
      known = im.registry.case_type(spec.type, spec.type_version) != nullptr;
    }
    if (!known) im.reload_registry();
  }
  std::string id = spec.id;
  const bool generated = id.empty();
  if (!generated && (id.size() > 200 || id.find_first_of(" \t\n/#") != std::string::npos))
    throw Error(ErrorCode::invalid_argument, fmt::format("invalid case id '{}'", id));
  CommandResult result;
  for (int attempt = 0;; ++attempt) {
    if (generated) id = fmt::format("case-{}", im.next_case++);
    auto s = std::make_shared<Slot>();
    std::vector<Event> events;
    {
      std::shared_lock reg(im.registry_mutex);
      std::shared_ptr<const runtime::CCaseType> type;
      if (!spec.type.empty()) {
        type = im.registry.case_type(spec.type, spec.type_version);
        if (!type) throw Error(ErrorCode::not_found, fmt::format("case type '{}' is not registered", spec.type));
      }
      HoldGuard hold(s.get());
      Decider d(s->state, im.services, by.actor, im.clock->now());
      d.create_case(id, spec, type);
      events = std::move(d.events());
    }
    // The store decides whether the id is new (a commit expecting version 0); the cache lock is
    // not held while the commit waits for the disk. The slot is not shared yet.
    CommandResult r;
    r.version = s->state.version;
    r.created = id;
    r.events = std::move(events);
    Request req = by;
    try {
      std::lock_guard sl(s->mutex);
      Json idem;
      if (!by.idempotency_key.empty()) idem = Json{{"command", args.fingerprint()}, {"perms", 0}};
      im.persist(*s, r.events, 0, &req, &r, idem.is_null() ? nullptr : &idem);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::conflict) {
        if (auto again = replay()) return *again;  // a concurrent retry with the same key won
        if (generated && attempt < 1000) {
          // Another process took the id: go on after the ids the store holds.
          if (im.shared) {
            std::uint64_t next = im.store->case_count() + 1 + static_cast<std::uint64_t>(attempt);
            std::uint64_t cur = im.next_case.load();
            while (cur < next && !im.next_case.compare_exchange_weak(cur, next)) {
            }
          }
          continue;
        }
        throw Error(ErrorCode::already_exists, fmt::format("case '{}' already exists", id));
      }
      throw;
    }
    s->evicted = false;  // persist() marks a failed slot; this one succeeded
    s->last_used = im.tick++;
    std::vector<std::shared_ptr<Slot>> evicted;  // freed after the lock is released
    {
      std::unique_lock lk(im.cases_mutex);
      im.cases.emplace(id, s);
      evicted = im.evict_locked();
    }
    im.enqueue(r.events);
    result = std::move(r);
    break;
  }
  im.deliver();
  return result;
}

CaseInfo Engine::get_case(const std::string& case_id) const {
  return impl_->query(case_id, [](const Slot& s) { return runtime::to_info(s.state); });
}

ActorView Engine::as(const Actor& actor) const { return ActorView(*this, actor); }

CaseInfo Engine::viewed_case(const Actor& actor, const std::string& case_id) const {
  check_actor(actor);
  return impl_->query(case_id, [&](const Slot& s) {
    Decider::require_view(s.state, impl_->services, actor);
    return runtime::to_info(s.state);
  });
}

void Engine::require_view(const Actor& actor, const std::string& case_id) const {
  check_actor(actor);
  impl_->query(case_id, [&](const Slot& s) { Decider::require_view(s.state, impl_->services, actor); });
}

std::optional<CaseInfo> Engine::find_case(const std::string& case_id) const {
  try {
    return get_case(case_id);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) return std::nullopt;
    throw;
  }
}

Json Engine::inspect(const std::string& case_id, bool from_history) const {
  return impl_->query(case_id, [&](const Slot& s) {
    if (!from_history) return runtime::state_to_json(s.state);
    CaseState fresh;
    impl_->fold_stored(fresh, impl_->store->load_events(case_id, 1).value_or(std::vector<Event>{}), case_id);
    return runtime::state_to_json(fresh);
  });
}

std::vector<std::string> Engine::list_cases(std::size_t limit, const std::string& after) const {
  return impl_->store->case_ids(limit, after);
}

namespace {

void check_queue_limit(const QueueFilter& filter) {
  if (filter.limit > 10000)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("a queue page holds at most 10000 items, not {}", filter.limit));
}

}  // namespace

QueuePage Engine::queue_page(const QueueFilter& filter) const {
  check_queue_limit(filter);
  return impl_->store->work_items(filter, true);
}

CasePage Engine::find_cases(const CaseQuery& query) const {
  if (query.limit > 10000)
    throw Error(ErrorCode::invalid_argument, fmt::format("a case page holds at most 10000 cases, not {}", query.limit));
  return impl_->store->find_cases(query);
}

std::vector<WorkItem> Engine::queue(const QueueFilter& filter) const {
  check_queue_limit(filter);
  return impl_->store->work_items(filter, false).items;
}

std::vector<Event> Engine::history(const std::string& case_id, std::uint64_t from) const {
  auto events = impl_->store->load_events(case_id, from);
  if (!events) throw Error(ErrorCode::not_found, fmt::format("no case '{}'", case_id));
  return std::move(*events);
}

// The arguments are checked (and fingerprinted for idempotency keys) by `args_`; ACM_COMMAND
// fingerprints the command's name only.
#define ACM_COMMAND_WITH(args_, expr_)                                       \
  return impl_->command(by, case_id, args_, [&](Decider& d) -> std::string { \
    expr_;                                                                   \
    return {};                                                               \
  })
#define ACM_COMMAND(expr_) ACM_COMMAND_WITH(Args(by, __func__), expr_)

CommandResult Engine::set_owner(const Request& by, const std::string& case_id, const std::string& owner) {
  ACM_COMMAND_WITH(Args(by, "set_owner").id("the owner", owner), d.set_owner(owner));
}
CommandResult Engine::add_participant(const Request& by, const std::string& case_id, const Participant& p) {
  ACM_COMMAND_WITH(
      [&] {
        Args a(by, "add_participant");
        check_participant(a, p);
        return a;
      }(),
      d.add_participant(p));
}
CommandResult Engine::remove_participant(const Request& by, const std::string& case_id, const std::string& actor) {
  ACM_COMMAND_WITH(Args(by, "remove_participant").id("the actor", actor), d.remove_participant(actor));
}
CommandResult Engine::set_priority(const Request& by, const std::string& case_id, int priority) {
  ACM_COMMAND_WITH(Args(by, "set_priority").num(priority), d.set_priority(priority));
}
CommandResult Engine::set_subject_attribute(const Request& by, const std::string& case_id, const std::string& key,
                                            const Json& value) {
  ACM_COMMAND_WITH(Args(by, "set_subject_attribute").id("the attribute key", key).json("the attribute value", value),
                   d.set_subject_attribute(key, value));
}
CommandResult Engine::suspend_case(const Request& by, const std::string& case_id, const std::string& reason) {
  ACM_COMMAND_WITH(Args(by, "suspend_case").text("the reason", reason), d.set_status(CaseStatus::suspended, reason));
}
CommandResult Engine::resume_case(const Request& by, const std::string& case_id) {
  ACM_COMMAND_WITH(Args(by, "resume_case"), d.set_status(CaseStatus::active, "", false));
}
CommandResult Engine::complete_case(const Request& by, const std::string& case_id) {
  ACM_COMMAND_WITH(Args(by, "complete_case"), d.complete_case());
}
CommandResult Engine::terminate_case(const Request& by, const std::string& case_id, const std::string& reason) {
  ACM_COMMAND_WITH(Args(by, "terminate_case").text("the reason", reason), d.set_status(CaseStatus::terminated, reason));
}
CommandResult Engine::close_case(const Request& by, const std::string& case_id) {
  ACM_COMMAND_WITH(Args(by, "close_case"), d.set_status(CaseStatus::closed, ""));
}
CommandResult Engine::reopen_case(const Request& by, const std::string& case_id, const std::string& reason) {
  ACM_COMMAND_WITH(Args(by, "reopen_case").text("the reason", reason), d.set_status(CaseStatus::active, reason, true));
}
CommandResult Engine::add_goal(const Request& by, const std::string& case_id, const GoalSpec& goal) {
  return impl_->command(by, case_id, goal_args(by, goal), [&](Decider& d) -> std::string {
    d.add_goal(goal);
    return goal.id;  // what it created
  });
}
CommandResult Engine::change_goal(const Request& by, const std::string& case_id, const std::string& goal_id,
                                  const GoalChange& change) {
  ACM_COMMAND_WITH(change_args(by, goal_id, change), d.change_goal(goal_id, change));
}
CommandResult Engine::cancel_goal(const Request& by, const std::string& case_id, const std::string& goal_id,
                                  const std::string& reason) {
  ACM_COMMAND_WITH(Args(by, "cancel_goal").id("the goal id", goal_id).text("the reason", reason),
                   d.cancel_goal(goal_id, reason));
}
CommandResult Engine::achieve_goal(const Request& by, const std::string& case_id, const std::string& goal_id) {
  ACM_COMMAND_WITH(Args(by, "achieve_goal").id("the goal id", goal_id), d.achieve_goal(goal_id));
}
CommandResult Engine::pause_goal(const Request& by, const std::string& case_id, const std::string& goal_id,
                                 const std::string& reason) {
  ACM_COMMAND_WITH(Args(by, "pause_goal").id("the goal id", goal_id).text("the reason", reason),
                   d.pause_goal(goal_id, reason));
}
CommandResult Engine::resume_goal(const Request& by, const std::string& case_id, const std::string& goal_id) {
  ACM_COMMAND_WITH(Args(by, "resume_goal").id("the goal id", goal_id), d.resume_goal(goal_id));
}
CommandResult Engine::make_promise(const Request& by, const std::string& case_id, const PromiseSpec& promise) {
  Args args(by, "make_promise");
  args.id("the promise id", promise.id).text("what is promised", promise.what).time(promise.due);
  return impl_->command(by, case_id, args, [&](Decider& d) -> std::string {
    d.make_promise(promise);
    return promise.id;  // what it created
  });
}
CommandResult Engine::keep_promise(const Request& by, const std::string& case_id, const std::string& promise_id) {
  ACM_COMMAND_WITH(Args(by, "keep_promise").id("the promise id", promise_id), d.keep_promise(promise_id));
}
CommandResult Engine::cancel_promise(const Request& by, const std::string& case_id, const std::string& promise_id,
                                     const std::string& reason) {
  ACM_COMMAND_WITH(Args(by, "cancel_promise").id("the promise id", promise_id).text("the reason", reason),
                   d.cancel_promise(promise_id, reason));
}
Json Engine::explain_priority(const std::string& case_id) const {
  return impl_->query(case_id, [&](Slot& s) {
    Json out{{"priority", s.state.priority}, {"base", s.state.priority_base}};
    if (impl_->services.priority) {
      Json ex = impl_->services.priority->evaluate(s.state, impl_->clock->now());
      out["score"] = ex["score"];
      out["terms"] = std::move(ex["terms"]);
    }
    return out;
  });
}
std::vector<FragmentOffer> Engine::applicable_fragments(const std::string& case_id) const {
  return impl_->query(case_id, [&](Slot& s) {
    Decider d(s.state, impl_->services, Actor{}, impl_->clock->now());
    return d.applicable_fragments();
  });
}
CommandResult Engine::add_fragment(const Request& by, const std::string& case_id, const FragmentUse& use,
                                 const std::vector<std::string>& after) {
  Args args(by, "add_fragment");
  args.id("the fragment id", use.fragment)
      .num(use.version)
      .id("the goal id", use.goal)
      .json("the arguments", use.params);
  if (!use.stage.empty()) args.id("the stage instance", use.stage);
  args.ids("the prerequisite item id", after);
  return impl_->command(by, case_id, args, [&](Decider& d) { return d.add_fragment(use, after); });
}
CommandResult Engine::add_task(const Request& by, const std::string& case_id, const AdHocTask& task) {
  Args args(by, "add_task");
  args.id("the task name", task.name).num(static_cast<int>(task.kind)).id("the role", task.role);
  args.ids("a skill", task.skills).duration(task.estimate).duration(task.due).id("the handler", task.handler);
  args.json("the input", task.input).id("the output path", task.output).id("the goal id", task.goal);
  args.id("the assignee", task.assignee).ids("the prerequisite item id", task.after);
  args.num(task.required).num(task.manual);
  return impl_->command(by, case_id, args, [&](Decider& d) { return d.add_task(task); });
}
CommandResult Engine::add_dependency(const Request& by, const std::string& case_id, const std::string& item,
                                     const std::string& after) {
  ACM_COMMAND_WITH(Args(by, "add_dependency").id("the item id", item).id("the prerequisite item id", after),
                   d.add_dependency(item, after));
}
CommandResult Engine::remove_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "remove_item").id("the item id", item), d.remove_item(item));
}
CommandResult Engine::start_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "start_item").id("the item id", item), d.start_item(item));
}
CommandResult Engine::complete_item(const Request& by, const std::string& case_id, const std::string& item,
                                    const Json& output) {
  ACM_COMMAND_WITH(Args(by, "complete_item").id("the item id", item).json("the output", output),
                   d.complete_item(item, output));
}
CommandResult Engine::assign_item(const Request& by, const std::string& case_id, const std::string& item,
                                  const std::string& assignee) {
  ACM_COMMAND_WITH(Args(by, "assign_item").id("the item id", item).id("the assignee", assignee),
                   d.assign_item(item, assignee));
}
CommandResult Engine::terminate_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "terminate_item").id("the item id", item), d.terminate_item(item));
}
CommandResult Engine::suspend_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "suspend_item").id("the item id", item), d.suspend_item(item));
}
CommandResult Engine::resume_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "resume_item").id("the item id", item), d.resume_item(item));
}
CommandResult Engine::disable_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "disable_item").id("the item id", item), d.disable_item(item));
}
CommandResult Engine::reenable_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "reenable_item").id("the item id", item), d.reenable_item(item));
}
CommandResult Engine::reactivate_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "reactivate_item").id("the item id", item), d.reactivate_item(item));
}
CommandResult Engine::occur(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND_WITH(Args(by, "occur").id("the item id", item), d.occur(item));
}
CommandResult Engine::set_file(const Request& by, const std::string& case_id, const std::string& path, const Json& value) {
  ACM_COMMAND_WITH(Args(by, "set_file").id("the case-file path", path).json("the value", value),
                   d.set_file(path, value));
}
CommandResult Engine::remove_file(const Request& by, const std::string& case_id, const std::string& path) {
  ACM_COMMAND_WITH(Args(by, "remove_file").id("the case-file path", path), d.remove_file(path));
}
CommandResult Engine::attach(const Request& by, const std::string& case_id, const Asset& asset) {
  Args args(by, "attach");
  args.id("the asset id", asset.id).id("the asset kind", asset.kind).id("the asset title", asset.title);
  args.text("the asset uri", asset.uri).text("the asset text", asset.text).id("the media type", asset.media_type);
  args.json("the asset metadata", asset.metadata);
  return impl_->command(by, case_id, args, [&](Decider& d) { return d.attach(asset); });
}
CommandResult Engine::signal(const Request& by, const std::string& case_id, const std::string& name, const Json& payload) {
  ACM_COMMAND_WITH(Args(by, "signal").id("the event name", name).json("the event payload", payload),
                   d.signal(name, payload));
}

#undef ACM_COMMAND

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

std::optional<TimePoint> Engine::next_due() const { return impl_->next_due(); }

std::size_t Engine::run_due() { return impl_->run_due_at(impl_->clock->now()); }

std::vector<FeedEntry> Engine::read_feed(const std::string& after, std::size_t limit) const {
  return impl_->store->read_feed(after, limit);
}

std::vector<FeedEntry> Engine::wait_feed(const std::string& after, std::size_t limit,
                                         std::chrono::milliseconds timeout) const {
  const auto until = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    auto page = impl_->store->read_feed(after, limit);
    const auto now = std::chrono::steady_clock::now();
    if (!page.empty() || now >= until) return page;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, until - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

const Clock& Engine::clock() const { return *impl_->clock; }

// ---- help desk: correlation ----------------------------------------------------------------

std::vector<std::string> Engine::open_cases_of(const std::string& customer, std::size_t limit) const {
  if (customer.empty() || limit == 0) return {};
  CaseQuery q;
  q.statuses = {CaseStatus::active, CaseStatus::suspended};
  q.customer = customer;
  q.limit = limit;
  std::vector<std::string> out;
  for (auto& c : impl_->store->find_cases(q).cases) out.push_back(std::move(c.id));
  return out;
}

// ---- beside the cases: templates and the intake log ------------------------------------------

Templates& Engine::templates() { return templates_; }
const Templates& Engine::templates() const { return templates_; }
IntakeLog& Engine::intake_log() { return intake_log_; }
const IntakeLog& Engine::intake_log() const { return intake_log_; }

namespace {

TemplateStore& template_store(Engine::Impl& im) {
  TemplateStore* t = im.store->templates();
  if (!t) throw Error(ErrorCode::invalid_state, "the engine's store keeps no templates");
  return *t;
}

IntakeLogStore& intake_store(Engine::Impl& im) {
  IntakeLogStore* t = im.store->intake_log();
  if (!t) throw Error(ErrorCode::invalid_state, "the engine's store keeps no intake log");
  return *t;
}

}  // namespace

int Templates::put(const std::string& name, const std::string& kind, const Json& meta, const std::string& data) {
  auto& im = *engine_->impl_;
  model::check_nesting(meta, "template meta");  // before the copy below recurses into it
  im.require_writable();
  model::check_text(name, "the template name");
  model::check_text(kind, "the template kind");
  model::check_json_text(meta, "the template's meta data");
  TemplateInfo info;
  info.name = name;
  info.kind = kind;
  info.meta = meta;
  info.created_at = im.clock->now();
  return template_store(im).put(info, data);
}

std::pair<TemplateInfo, std::string> Templates::get(const std::string& name, int version) const {
  auto r = template_store(*engine_->impl_).find(name, version);
  if (!r)
    throw Error(ErrorCode::not_found, version ? fmt::format("no template '{}' version {}", name, version)
                                              : fmt::format("no template '{}'", name));
  return std::move(*r);
}

std::vector<TemplateInfo> Templates::list() const { return template_store(*engine_->impl_).list(); }

void IntakeLog::append(std::vector<IntakeLogEntry>& entries) {
  auto& im = *engine_->impl_;
  im.require_writable();
  for (const IntakeLogEntry& e : entries) {
    if (e.action.empty()) throw Error(ErrorCode::invalid_argument, "an intake log entry needs an action");
    model::check_text(e.event_id, "an intake log entry's event id", model::TextKind::free);
    model::check_text(e.channel, "an intake log entry's channel", model::TextKind::free);
    model::check_text(e.customer, "an intake log entry's customer", model::TextKind::free);
    model::check_text(e.rule, "an intake log entry's rule", model::TextKind::free);
    model::check_text(e.action, "an intake log entry's action", model::TextKind::free);
    model::check_text(e.case_id, "an intake log entry's case id", model::TextKind::free);
    model::check_text(e.reason, "an intake log entry's reason", model::TextKind::free);
    model::check_nesting(e.event, "an intake log entry's event");
    model::check_json_text(e.event, "an intake log entry's event");
  }
  intake_store(im).append(entries);
}

std::vector<IntakeLogEntry> IntakeLog::of_event(const std::string& event_id) const {
  return intake_store(*engine_->impl_).of_event(event_id);
}

std::vector<IntakeLogEntry> IntakeLog::page(std::size_t limit, std::uint64_t after) const {
  if (limit > 10000) throw Error(ErrorCode::invalid_argument, "an intake log page holds at most 10000 entries");
  return intake_store(*engine_->impl_).page(limit, after);
}

}  // namespace acm
