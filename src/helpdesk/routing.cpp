// SPDX-License-Identifier: Apache-2.0
// helpdesk/routing.cpp - ranking agents for tasks by skill, load, availability and performance.
#include <acm/error.hpp>
#include <acm/routing.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <mutex>
#include <set>

namespace acm::helpdesk {

namespace {

constexpr std::size_t kKeptDurations = 256;  // most recent completions kept per (agent, kind)

void check_agent(const Agent& a) {
  if (a.id.empty()) throw Error(ErrorCode::invalid_argument, "an agent needs an id");
  if (a.capacity <= 0)
    throw Error(ErrorCode::invalid_argument, fmt::format("agent '{}': capacity {} must be positive", a.id, a.capacity));
  for (const auto& [skill, level] : a.skills)
    if (!(level >= 0 && level <= 1))
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("agent '{}': skill '{}' level {} is outside 0..1", a.id, skill, level));
  for (const auto& w : a.windows)
    if (w.to <= w.from)
      throw Error(ErrorCode::invalid_argument, fmt::format("agent '{}': availability window {} .. {} is empty", a.id,
                                                           format_time(w.from), format_time(w.to)));
}

std::int64_t median_of(std::vector<std::int64_t> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string short_duration(std::int64_t ms) {
  if (ms >= 3600000) return fmt::format("{:.1f}h", static_cast<double>(ms) / 3600000.0);
  if (ms >= 60000) return fmt::format("{:.0f}m", static_cast<double>(ms) / 60000.0);
  return fmt::format("{:.0f}s", static_cast<double>(ms) / 1000.0);
}

}  // namespace

struct Router::State {
  RoutingOptions options;
  mutable std::mutex mutex;
  std::map<std::string, Agent> roster;
  std::map<std::pair<std::string, std::string>, std::deque<std::int64_t>> durations;  // (agent, kind) -> ms
  std::set<std::pair<std::string, std::string>> learned;                              // (case, item)

  void record(const std::string& agent, const std::string& kind, std::int64_t ms) {
    auto& d = durations[{agent, kind}];
    d.push_back(std::max<std::int64_t>(0, ms));
    if (d.size() > kKeptDurations) d.pop_front();
  }
};

std::string Router::task_kind(const PlanItemInfo& item) {
  if (!item.fragment.empty()) return item.fragment + "/" + item.def_id;
  return "task:" + item.name;
}

Router::Router(Engine& engine, std::vector<Agent> roster, RoutingOptions options)
    : engine_(engine), state_(std::make_shared<State>()) {
  const RoutingWeights& w = options.weights;
  for (double x : {w.skill, w.load, w.availability, w.performance})
    if (!(x >= 0) || !std::isfinite(x))
      throw Error(ErrorCode::invalid_argument, "routing weights must be finite and not negative");
  if (w.skill + w.load + w.availability + w.performance <= 0)
    throw Error(ErrorCode::invalid_argument, "at least one routing weight must be positive");
  if (!(options.prior_completions >= 0))
    throw Error(ErrorCode::invalid_argument, "prior_completions must not be negative");
  state_->options = std::move(options);
  set_roster(std::move(roster));
  if (state_->options.learn_online || state_->options.auto_assign_on_activation) {
    subscription_ = engine_.subscribe(
        [this](const Event& e) {
          const std::string to = e.payload.value("to", "");
          if (to != "completed" && to != "active" && to != "enabled") return;
          const std::string item_id = e.payload.value("item", "");
          auto info = engine_.find_case(e.case_id);
          if (!info) return;
          const PlanItemInfo* item = nullptr;
          for (const auto& i : info->items)
            if (i.id == item_id) item = &i;
          if (!item || item->kind != ItemKind::human_task) return;
          if (to == "completed") {
            if (!state_->options.learn_online || item->assignee.empty() || !item->activated_at) return;
            TimePoint end = item->ended_at ? *item->ended_at : e.time;
            std::lock_guard lk(state_->mutex);
            if (state_->learned.insert({e.case_id, item_id}).second)
              state_->record(item->assignee, task_kind(*item), (end - *item->activated_at).count());
          } else if (state_->options.auto_assign_on_activation && item->assignee.empty()) {
            try {
              auto_assign(e.case_id, item_id);
            } catch (...) {
              // best effort: the task stays unassigned in the queue of its role
            }
          }
        },
        {"item_transition"});
  }
}

Router::~Router() {
  if (subscription_) engine_.unsubscribe(subscription_);
}

void Router::set_roster(std::vector<Agent> roster) {
  std::map<std::string, Agent> by_id;
  for (auto& a : roster) {
    check_agent(a);
    std::string id = a.id;
    if (!by_id.emplace(id, std::move(a)).second)
      throw Error(ErrorCode::invalid_argument, fmt::format("agent '{}' is listed twice", id));
  }
  std::lock_guard lk(state_->mutex);
  state_->roster = std::move(by_id);
}

void Router::upsert_agent(Agent agent) {
  check_agent(agent);
  std::lock_guard lk(state_->mutex);
  std::string id = agent.id;
  state_->roster[id] = std::move(agent);
}

void Router::record_completion(const std::string& agent, const std::string& kind, Duration took) {
  std::lock_guard lk(state_->mutex);
  state_->record(agent, kind, took.count());
}

PerformanceRecord Router::performance(const std::string& agent, const std::string& kind) const {
  std::lock_guard lk(state_->mutex);
  auto it = state_->durations.find({agent, kind});
  if (it == state_->durations.end()) return {};
  return {it->second.size(), Duration{median_of({it->second.begin(), it->second.end()})}};
}

std::size_t Router::learn_from_cases(const std::vector<std::string>& case_ids) {
  std::size_t n = 0;
  for (const auto& id : case_ids) {
    CaseInfo info = engine_.get_case(id);
    std::lock_guard lk(state_->mutex);
    for (const auto& item : info.items) {
      if (item.kind != ItemKind::human_task || item.state != ItemState::completed || item.assignee.empty() ||
          !item.activated_at || !item.ended_at)
        continue;
      if (!state_->learned.insert({id, item.id}).second) continue;
      state_->record(item.assignee, task_kind(item), (*item.ended_at - *item.activated_at).count());
      ++n;
    }
  }
  return n;
}

std::vector<RouteSuggestion> Router::suggest(const std::string& case_id, const std::string& item_id, std::size_t limit,
                                             bool include_excluded) const {
  CaseInfo info = engine_.get_case(case_id);
  const PlanItemInfo* item = nullptr;
  for (const auto& i : info.items)
    if (i.id == item_id) item = &i;
  if (!item) throw Error(ErrorCode::not_found, fmt::format("no item '{}' in case '{}'", item_id, case_id));
  const std::string kind = task_kind(*item);
  const TimePoint now = engine_.clock().now();

  // Copy what is needed under the lock; the queue queries run without it.
  std::vector<Agent> agents;
  std::map<std::string, std::vector<std::int64_t>> kind_durations;  // agent -> durations of `kind`
  RoutingOptions options;
  {
    std::lock_guard lk(state_->mutex);
    options = state_->options;
    for (const auto& [id, a] : state_->roster) agents.push_back(a);
    for (const auto& [key, d] : state_->durations)
      if (key.second == kind) kind_durations[key.first].assign(d.begin(), d.end());
  }
  std::vector<std::int64_t> pooled;
  for (const auto& [agent, d] : kind_durations) pooled.insert(pooled.end(), d.begin(), d.end());
  const std::int64_t reference = median_of(pooled);

  const RoutingWeights& w = options.weights;
  const double total = w.skill + w.load + w.availability + w.performance;
  std::vector<RouteSuggestion> out;
  for (const Agent& a : agents) {
    RouteSuggestion s;
    s.agent = a.id;
    if (!item->role.empty() && std::find(a.roles.begin(), a.roles.end(), item->role) == a.roles.end()) {
      if (!include_excluded) continue;
      s.excluded = true;
      s.reason = fmt::format("lacks the role '{}'", item->role);
    }
    // Skill: mean level over the item's required skills.
    RouteTerm skill{"skill", 1.0, w.skill, 0, "no skills required"};
    if (!item->skills.empty()) {
      double sum = 0;
      std::string detail;
      for (const auto& sk : item->skills) {
        auto it = a.skills.find(sk);
        double level = it == a.skills.end() ? 0.0 : it->second;
        sum += level;
        detail += fmt::format("{}{} {}", detail.empty() ? "" : ", ", sk,
                              it == a.skills.end() ? std::string("missing") : fmt::format("{:.2f}", level));
      }
      skill.value = sum / static_cast<double>(item->skills.size());
      skill.detail = detail;
    }
    // Load: open work items assigned to the agent (the read model), this item not counted.
    QueueFilter q;
    q.assignee = a.id;
    q.limit = static_cast<std::size_t>(std::min(a.capacity, 9999)) + 1;
    std::size_t open = 0;
    for (const auto& wi : engine_.queue(q))
      if (!(wi.case_id == case_id && wi.item_id == item_id)) ++open;
    s.has_capacity = open < static_cast<std::size_t>(a.capacity);
    RouteTerm load{"load", std::max(0.0, 1.0 - static_cast<double>(open) / a.capacity), w.load, 0,
                   fmt::format("{}{} of {} open items", open > static_cast<std::size_t>(a.capacity) ? ">" : "",
                               std::min<std::size_t>(open, static_cast<std::size_t>(a.capacity)), a.capacity)};
    // Availability now.
    bool in_window = a.windows.empty() || std::any_of(a.windows.begin(), a.windows.end(),
                                                      [&](const auto& win) { return win.from <= now && now < win.to; });
    s.available = a.available && in_window;
    RouteTerm avail{"availability", s.available ? 1.0 : 0.0, w.availability, 0,
                    !a.available ? "away" : (in_window ? "available" : "outside availability windows")};
    // Performance: the agent's median time on this kind of task against everyone's, shrunk
    // towards neutral while the agent has few completions.
    RouteTerm perf{"performance", 0.5, w.performance, 0, fmt::format("no completions of {} yet", kind)};
    if (auto it = kind_durations.find(a.id); it != kind_durations.end() && !it->second.empty()) {
      const double n = static_cast<double>(it->second.size());
      const std::int64_t mine = median_of(it->second);
      const double raw =
          reference + mine == 0 ? 0.5 : static_cast<double>(reference) / static_cast<double>(reference + mine);
      const double confidence = n / (n + options.prior_completions);
      perf.value = 0.5 + confidence * (raw - 0.5);
      perf.detail = fmt::format("median {} over {} completion{} (everyone: {})", short_duration(mine),
                                it->second.size(), it->second.size() == 1 ? "" : "s", short_duration(reference));
    }
    s.terms = {skill, load, avail, perf};
    for (auto& t : s.terms) {
      t.contribution = t.weight * t.value / total;
      if (!s.excluded) s.score += t.contribution;
    }
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const RouteSuggestion& x, const RouteSuggestion& y) {
    if (x.excluded != y.excluded) return !x.excluded;
    if (x.score != y.score) return x.score > y.score;
    return x.agent < y.agent;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::optional<std::string> Router::auto_assign(const std::string& case_id, const std::string& item_id) {
  std::size_t roster_size;
  Actor actor;
  {
    std::lock_guard lk(state_->mutex);
    roster_size = state_->roster.size();
    actor = state_->options.actor;
  }
  for (const RouteSuggestion& s : suggest(case_id, item_id, roster_size)) {
    if (s.excluded || !s.available || !s.has_capacity) continue;
    CaseInfo info = engine_.get_case(case_id);
    std::string role;
    for (const auto& i : info.items)
      if (i.id == item_id) role = i.role;
    bool ok = info.owner == s.agent && role.empty();
    for (const auto& p : info.participants)
      if (p.actor == s.agent && (role.empty() || std::find(p.roles.begin(), p.roles.end(), role) != p.roles.end()))
        ok = true;
    if (!ok)
      engine_.add_participant(actor, case_id, {s.agent, role.empty() ? std::vector<std::string>{} : std::vector{role}});
    engine_.assign_item(actor, case_id, item_id, s.agent);
    return s.agent;
  }
  return std::nullopt;
}

}  // namespace acm::helpdesk
