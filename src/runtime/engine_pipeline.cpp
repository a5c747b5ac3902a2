// SPDX-License-Identifier: Apache-2.0
// Engine::Impl, command pipeline (runtime/engine_impl.hpp): a command replays a used idempotency
// key, or decides on the locked case (Decider), prepares what it writes (events, case row, read
// model, snapshot, idempotency key), commits it to the store, and only then releases the case
// and delivers its events. A failed decision or write drops the cached case, so the cache never
// runs ahead of the store. create_case is the same pipeline on a new case.
#include "runtime/engine_impl.hpp"
#include "runtime/snapshot.hpp"
#include "store/stored_json.hpp"

#include <fmt/format.h>

namespace acm {

using runtime::CaseState;
using runtime::Decider;
using runtime::HoldGuard;
using runtime::Slot;

using runtime::Args;
using runtime::check_actor;

namespace {

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

}  // namespace

namespace runtime {

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

void check_actor(const Actor& a) {
  if (a.id.empty()) throw Error(ErrorCode::invalid_argument, "a request needs an actor id (it is empty)");
  model::check_text(a.id, "the actor id");
  for (const auto& r : a.roles) model::check_text(r, "an actor role");
}

}  // namespace runtime

// What a command writes: events, case row, read model (if changed), snapshot (when due),
// idempotency key. Case lock held.
// The commit refers to `events`, which the caller keeps until it is written.
// `idem`: what else the idempotency key's result records (the command's fingerprint and the
// permissions it was checked for).
CaseCommit Engine::Impl::prepare(Slot& s, const std::vector<Event>& events, std::uint64_t before, const Request* by,
                                 const CommandResult* result, std::vector<WorkItem>& work, RowKeys& keys,
                                 const Json* idem) {
  CaseCommit c;
  c.row = record_of(s.state, clock->now());
  c.expected_version = before;
  c.events = events;
  if (traits.wants_payload_text) {  // serialised here, on the committing thread, not by the store's writer
    c.payloads.reserve(events.size());
    for (const Event& e : events) c.payloads.push_back(store::dump_stored_json(e.payload));  // = dump()
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

void Engine::Impl::committed(Slot& s, std::size_t n_events, bool snapshot, std::vector<WorkItem>&& work,
                             RowKeys&& keys) {
  s.since_snapshot = snapshot ? 0 : s.since_snapshot + n_events;
  s.work_items = std::move(work);
  s.stored = std::move(keys);
}

// A case whose events could not be written: its cached state is ahead of the store.
void Engine::Impl::discard(Slot& s) {
  s.evicted = true;
  drop(s.state.id);
}

// Writes a command's effect to the store. On failure the cached case is dropped and the
// error rethrown. Case lock held.
void Engine::Impl::persist(Slot& s, std::vector<Event>& events, std::uint64_t before, const Request* by,
                           const CommandResult* result, const Json* idem) {
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

// The stored result of the request's idempotency key, if it has been used: only for the
// actor who used it (results stored before keys recorded their actor are for anyone).
std::optional<Json> Engine::Impl::stored_result(const Request& by) {
  if (by.idempotency_key.empty()) return std::nullopt;
  auto stored = store->idempotent_result(by.idempotency_key);
  if (stored && stored->contains("actor") && (*stored)["actor"] != by.actor.id)
    throw Error(ErrorCode::conflict, fmt::format("idempotency key '{}' was used by actor '{}'", by.idempotency_key,
                                                 (*stored)["actor"].get<std::string>()));
  return stored;
}

std::optional<CommandResult> Engine::Impl::replay_idempotent(const Request& by, const std::string& case_id,
                                                             const Args& args) {
  auto stored = stored_result(by);
  if (!stored) return std::nullopt;
  if (!stored->is_object() || !stored->contains("version") || !(*stored)["version"].is_number_unsigned() ||
      !stored->contains("first_seq") || !(*stored)["first_seq"].is_number_unsigned() || !stored->contains("last_seq") ||
      !(*stored)["last_seq"].is_number_unsigned())
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

void Engine::Impl::require_writable() const {
  if (traits.read_only)
    throw Error(ErrorCode::invalid_state,
                "the engine is open read-only (EngineOptions::read_only, or a store directory that is not "
                "writable): it answers queries only");
}

CommandResult Engine::Impl::command(const Request& by, const std::string& case_id, const Args& args, Decide f) {
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

CommandResult Engine::Impl::create_case(const Request& by, const NewCase& spec, const Args& args) {
  Impl& im = *this;
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
}  // namespace acm
