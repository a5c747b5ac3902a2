#include <acm/engine.hpp>

#include "runtime/compiled.hpp"
#include "runtime/decider.hpp"
#include "runtime/state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <queue>
#include <shared_mutex>
#include <unordered_map>

namespace acm {

using runtime::CaseState;
using runtime::Decider;

namespace {

// One case held in memory: its state, history and scheduled wake-up.
struct Slot {
  std::mutex mutex;
  CaseState state;
  std::vector<Event> history;
  std::optional<TimePoint> scheduled;
};

// Cases locked by this thread (for detecting re-entrant calls from handlers).
thread_local std::vector<const Slot*> t_held;

struct HoldGuard {
  explicit HoldGuard(const Slot* s) { t_held.push_back(s); }
  ~HoldGuard() { t_held.pop_back(); }
  HoldGuard(const HoldGuard&) = delete;
  HoldGuard& operator=(const HoldGuard&) = delete;
};

struct TimerEntry {
  TimePoint at;
  std::string case_id;
  bool operator>(const TimerEntry& o) const { return at != o.at ? at > o.at : case_id > o.case_id; }
};

}  // namespace

struct Engine::Impl final : ManualClock::Listener {
  EngineOptions options;
  std::shared_ptr<Clock> clock;
  std::shared_ptr<const Calendar> calendar;
  ManualClock* manual = nullptr;

  mutable std::shared_mutex registry_mutex;
  runtime::Registry registry;

  mutable std::shared_mutex cases_mutex;
  std::unordered_map<std::string, std::shared_ptr<Slot>> cases;
  std::vector<std::string> case_order;
  std::atomic<std::uint64_t> next_case{1};

  mutable std::mutex handlers_mutex;
  std::unordered_map<std::string, std::shared_ptr<const TaskHandler>> handlers;

  std::mutex subs_mutex;
  std::map<std::uint64_t, std::pair<EventCallback, std::vector<std::string>>> subscribers;
  std::uint64_t next_sub = 1;
  std::atomic<std::size_t> subscriber_count{0};

  std::mutex outbox_mutex;
  std::deque<Event> outbox;
  bool delivering = false;

  mutable std::mutex timers_mutex;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers;

  runtime::Services services;

  explicit Impl(EngineOptions o) : options(std::move(o)) {
    clock = options.clock ? options.clock : std::make_shared<SystemClock>();
    calendar = options.calendar ? options.calendar : std::make_shared<AlwaysCalendar>();
    services.registry = &registry;
    services.calendar = calendar.get();
    services.options = &options;
    services.handler = [this](const std::string& name) -> std::shared_ptr<const TaskHandler> {
      std::lock_guard lk(handlers_mutex);
      auto it = handlers.find(name);
      return it == handlers.end() ? nullptr : it->second;
    };
    manual = dynamic_cast<ManualClock*>(clock.get());
    if (manual) manual->attach(this);
  }

  ~Impl() override {
    if (manual) manual->detach(this);
  }

  std::shared_ptr<Slot> slot(const std::string& case_id) const {
    std::shared_lock lk(cases_mutex);
    auto it = cases.find(case_id);
    if (it == cases.end()) throw Error(ErrorCode::not_found, fmt::format("no case '{}'", case_id));
    return it->second;
  }

  static void check_reentry(const Slot* s, const std::string& case_id) {
    if (std::find(t_held.begin(), t_held.end(), s) != t_held.end())
      throw Error(ErrorCode::invalid_state,
                  fmt::format("re-entrant call on case '{}' from a task handler running for that case", case_id));
  }

  // Restores a case from its history after a command failed half-way.
  void rebuild(Slot& s) {
    CaseState fresh;
    runtime::FoldContext ctx{&registry};
    for (const auto& e : s.history) runtime::apply(fresh, e, ctx);
    Decider::refresh_derived(fresh, services, clock->now());
    s.state = std::move(fresh);
  }

  void schedule(Slot& s) {
    auto due = Decider::next_due(s.state);
    if (due == s.scheduled) return;
    s.scheduled = due;
    if (due) {
      std::lock_guard lk(timers_mutex);
      timers.push(TimerEntry{*due, s.state.id});
    }
  }

  // Appends events to the history, schedules timers and queues delivery. Case lock held.
  void commit(Slot& s, std::vector<Event>& events) {
    s.history.insert(s.history.end(), events.begin(), events.end());
    schedule(s);
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

  template <class F>
  CommandResult command(const Request& by, const std::string& case_id, F&& f) {
    auto s = slot(case_id);
    check_reentry(s.get(), case_id);
    CommandResult result;
    {
      std::unique_lock lk(s->mutex);
      HoldGuard hold(s.get());
      if (by.expected_version && *by.expected_version != s->state.version)
        throw Error(ErrorCode::conflict, fmt::format("case '{}' is at version {}, not the expected {}", case_id,
                                                     s->state.version, *by.expected_version));
      std::shared_lock reg(registry_mutex);
      Decider d(s->state, services, by.actor, clock->now());
      try {
        f(d);
      } catch (...) {
        if (!d.events().empty()) rebuild(*s);
        throw;
      }
      commit(*s, d.events());
      result.version = s->state.version;
      result.events = std::move(d.events());
    }
    deliver();
    return result;
  }

  template <class F>
  auto query(const std::string& case_id, F&& f) const {
    auto s = slot(case_id);
    check_reentry(s.get(), case_id);
    std::lock_guard lk(s->mutex);
    std::shared_lock reg(registry_mutex);
    return f(*s);
  }

  // ---- timers ---------------------------------------------------------------------------

  std::optional<TimePoint> next_due() override {
    std::lock_guard lk(timers_mutex);
    while (!timers.empty()) {
      const TimerEntry& top = timers.top();
      std::shared_ptr<Slot> s;
      {
        std::shared_lock ck(cases_mutex);
        auto it = cases.find(top.case_id);
        if (it != cases.end()) s = it->second;
      }
      // Entries are never removed eagerly; a stale one (rescheduled case) is dropped here.
      // Reading `scheduled` without the case lock is a benign race avoided by try_lock.
      if (s) {
        std::unique_lock sl(s->mutex, std::try_to_lock);
        if (!sl.owns_lock() || s->scheduled == top.at) return top.at;
      }
      timers.pop();
    }
    return std::nullopt;
  }

  void run_due(TimePoint now) override { run_due_at(now); }

  std::size_t run_due_at(TimePoint now) {
    std::size_t fired = 0;
    while (true) {
      TimerEntry entry;
      {
        std::lock_guard lk(timers_mutex);
        if (timers.empty() || timers.top().at > now) break;
        entry = timers.top();
        timers.pop();
      }
      std::shared_ptr<Slot> s;
      {
        std::shared_lock ck(cases_mutex);
        auto it = cases.find(entry.case_id);
        if (it == cases.end()) continue;
        s = it->second;
      }
      {
        std::unique_lock lk(s->mutex);
        if (s->scheduled != entry.at) continue;  // stale
        HoldGuard hold(s.get());
        std::shared_lock reg(registry_mutex);
        s->scheduled.reset();
        Decider d(s->state, services, Actor{}, now);
        try {
          fired += d.fire_due();
        } catch (...) {
          if (!d.events().empty()) rebuild(*s);
          schedule(*s);
          throw;
        }
        commit(*s, d.events());
      }
      deliver();
    }
    return fired;
  }
};

// ---- Engine -------------------------------------------------------------------------------

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

std::unique_ptr<Engine> Engine::open(EngineOptions options) {
  if (options.max_steps_per_command == 0) throw Error(ErrorCode::invalid_argument, "max_steps_per_command must be positive");
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
  require_designer(impl_->services, by.actor);
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
  for (auto& f : new_fragments) reg.add(f);
  for (auto& t : new_types) reg.add(t);
}

void Engine::register_fragment(const Request& by, const FragmentDef& fragment) {
  load_definitions(by, Json{{"fragments", Json::array({to_json(fragment)})}});
}

void Engine::register_case_type(const Request& by, const CaseTypeDef& case_type) {
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

std::string Engine::create_case(const Request& by, const NewCase& spec) {
  auto& im = *impl_;
  std::string id = spec.id;
  if (id.empty()) {
    std::shared_lock lk(im.cases_mutex);
    do id = fmt::format("case-{}", im.next_case++);
    while (im.cases.count(id));
  } else if (id.size() > 200 || id.find_first_of(" \t\n/") != std::string::npos) {
    throw Error(ErrorCode::invalid_argument, fmt::format("invalid case id '{}'", id));
  }
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
  {
    std::unique_lock lk(im.cases_mutex);
    if (im.cases.count(id)) throw Error(ErrorCode::already_exists, fmt::format("case '{}' already exists", id));
    im.cases.emplace(id, s);
    im.case_order.push_back(id);
    std::lock_guard sl(s->mutex);
    im.commit(*s, events);
  }
  im.deliver();
  return id;
}

CaseInfo Engine::get_case(const std::string& case_id) const {
  return impl_->query(case_id, [](const Slot& s) { return runtime::to_info(s.state); });
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
    runtime::FoldContext ctx{&impl_->registry};
    for (const auto& e : s.history) runtime::apply(fresh, e, ctx);
    return runtime::state_to_json(fresh);
  });
}

std::vector<std::string> Engine::list_cases() const {
  std::shared_lock lk(impl_->cases_mutex);
  return impl_->case_order;
}

std::vector<Event> Engine::history(const std::string& case_id, std::uint64_t from) const {
  return impl_->query(case_id, [&](const Slot& s) {
    std::vector<Event> out;
    if (from == 0) from = 1;
    if (from <= s.history.size()) out.assign(s.history.begin() + static_cast<std::ptrdiff_t>(from - 1), s.history.end());
    return out;
  });
}

#define ACM_COMMAND(expr_)                                                           \
  return impl_->command(by, case_id, [&](Decider& d) { expr_; })

CommandResult Engine::set_owner(const Request& by, const std::string& case_id, const std::string& owner) {
  ACM_COMMAND(d.set_owner(owner));
}
CommandResult Engine::add_participant(const Request& by, const std::string& case_id, const Participant& p) {
  ACM_COMMAND(d.add_participant(p));
}
CommandResult Engine::remove_participant(const Request& by, const std::string& case_id, const std::string& actor) {
  ACM_COMMAND(d.remove_participant(actor));
}
CommandResult Engine::set_priority(const Request& by, const std::string& case_id, int priority) {
  ACM_COMMAND(d.set_priority(priority));
}
CommandResult Engine::set_subject_attribute(const Request& by, const std::string& case_id, const std::string& key,
                                            const Json& value) {
  ACM_COMMAND(d.set_subject_attribute(key, value));
}
CommandResult Engine::suspend_case(const Request& by, const std::string& case_id, const std::string& reason) {
  ACM_COMMAND(d.set_status(CaseStatus::suspended, reason));
}
CommandResult Engine::resume_case(const Request& by, const std::string& case_id) {
  ACM_COMMAND(d.set_status(CaseStatus::active, "", false));
}
CommandResult Engine::complete_case(const Request& by, const std::string& case_id) { ACM_COMMAND(d.complete_case()); }
CommandResult Engine::terminate_case(const Request& by, const std::string& case_id, const std::string& reason) {
  ACM_COMMAND(d.set_status(CaseStatus::terminated, reason));
}
CommandResult Engine::close_case(const Request& by, const std::string& case_id) {
  ACM_COMMAND(d.set_status(CaseStatus::closed, ""));
}
CommandResult Engine::reopen_case(const Request& by, const std::string& case_id, const std::string& reason) {
  ACM_COMMAND(d.set_status(CaseStatus::active, reason, true));
}
CommandResult Engine::add_goal(const Request& by, const std::string& case_id, const GoalSpec& goal) {
  ACM_COMMAND(d.add_goal(goal));
}
CommandResult Engine::change_goal(const Request& by, const std::string& case_id, const std::string& goal_id,
                                  const GoalChange& change) {
  ACM_COMMAND(d.change_goal(goal_id, change));
}
CommandResult Engine::cancel_goal(const Request& by, const std::string& case_id, const std::string& goal_id,
                                  const std::string& reason) {
  ACM_COMMAND(d.cancel_goal(goal_id, reason));
}
CommandResult Engine::achieve_goal(const Request& by, const std::string& case_id, const std::string& goal_id) {
  ACM_COMMAND(d.achieve_goal(goal_id));
}
std::vector<FragmentOffer> Engine::applicable_fragments(const std::string& case_id) const {
  return impl_->query(case_id, [&](Slot& s) {
    Decider d(s.state, impl_->services, Actor{}, impl_->clock->now());
    return d.applicable_fragments();
  });
}
std::string Engine::add_fragment(const Request& by, const std::string& case_id, const FragmentUse& use,
                                 const std::vector<std::string>& after) {
  std::string id;
  impl_->command(by, case_id, [&](Decider& d) { id = d.add_fragment(use, after); });
  return id;
}
std::string Engine::add_task(const Request& by, const std::string& case_id, const AdHocTask& task) {
  std::string id;
  impl_->command(by, case_id, [&](Decider& d) { id = d.add_task(task); });
  return id;
}
CommandResult Engine::add_dependency(const Request& by, const std::string& case_id, const std::string& item,
                                     const std::string& after) {
  ACM_COMMAND(d.add_dependency(item, after));
}
CommandResult Engine::remove_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND(d.remove_item(item));
}
CommandResult Engine::start_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND(d.start_item(item));
}
CommandResult Engine::complete_item(const Request& by, const std::string& case_id, const std::string& item,
                                    const Json& output) {
  ACM_COMMAND(d.complete_item(item, output));
}
CommandResult Engine::assign_item(const Request& by, const std::string& case_id, const std::string& item,
                                  const std::string& assignee) {
  ACM_COMMAND(d.assign_item(item, assignee));
}
CommandResult Engine::terminate_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND(d.terminate_item(item));
}
CommandResult Engine::suspend_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND(d.suspend_item(item));
}
CommandResult Engine::resume_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND(d.resume_item(item));
}
CommandResult Engine::disable_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND(d.disable_item(item));
}
CommandResult Engine::reenable_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND(d.reenable_item(item));
}
CommandResult Engine::reactivate_item(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND(d.reactivate_item(item));
}
CommandResult Engine::occur(const Request& by, const std::string& case_id, const std::string& item) {
  ACM_COMMAND(d.occur(item));
}
CommandResult Engine::set_file(const Request& by, const std::string& case_id, const std::string& path, const Json& value) {
  ACM_COMMAND(d.set_file(path, value));
}
CommandResult Engine::remove_file(const Request& by, const std::string& case_id, const std::string& path) {
  ACM_COMMAND(d.remove_file(path));
}
CommandResult Engine::attach(const Request& by, const std::string& case_id, const Asset& asset) {
  ACM_COMMAND(d.attach(asset));
}
CommandResult Engine::signal(const Request& by, const std::string& case_id, const std::string& name, const Json& payload) {
  ACM_COMMAND(d.signal(name, payload));
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

const Clock& Engine::clock() const { return *impl_->clock; }

}  // namespace acm
