// SPDX-License-Identifier: Apache-2.0
// store/memory_store.cpp - the Store held in memory.
#include <acm/error.hpp>

#include "store/store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

namespace acm::store {
namespace {

class MemoryStore final : public Store {
 public:
  std::vector<DefinitionRecord> load_definitions() override {
    std::lock_guard lk(mutex_);
    return definitions_;
  }

  void save_definitions(const std::vector<DefinitionRecord>& defs) override {
    std::lock_guard lk(mutex_);
    definitions_.insert(definitions_.end(), defs.begin(), defs.end());
  }

  void commit(Commit c) override {
    std::lock_guard lk(mutex_);
    if (!c.idempotency_key.empty() && idempotency_.count(c.idempotency_key))
      throw Error(ErrorCode::conflict, fmt::format("idempotency key '{}' is already used", c.idempotency_key));
    auto it = cases_.find(c.record.id);
    if (c.expected_version == 0) {
      if (it != cases_.end()) throw Error(ErrorCode::conflict, fmt::format("case '{}' already exists", c.record.id));
      it = cases_.emplace(c.record.id, Entry{}).first;
      order_.push_back(c.record.id);
      it->second.seq = order_.size();
    } else if (it == cases_.end() || it->second.record.version != c.expected_version) {
      throw Error(ErrorCode::conflict,
                  fmt::format("case '{}' is at version {}, not {}", c.record.id,
                              it == cases_.end() ? 0 : it->second.record.version, c.expected_version));
    }
    Entry& e = it->second;
    if (e.record.customer != c.record.customer) {
      if (!e.record.customer.empty()) by_customer_[e.record.customer].erase(e.seq);
      if (!c.record.customer.empty()) by_customer_[c.record.customer].insert(e.seq);
    }
    if (e.record.next_due) due_.erase({*e.record.next_due, e.record.id});
    e.record = std::move(c.record);
    if (e.record.next_due) due_.insert({*e.record.next_due, e.record.id});
    if (c.events_ref) e.events.insert(e.events.end(), c.events_ref->begin(), c.events_ref->end());
    for (auto& ev : c.events) e.events.push_back(std::move(ev));
    if (c.work_items) {
      for (const auto& w : e.work_items) work_.erase({w.case_id, w.item_id});
      e.work_items = std::move(*c.work_items);
      for (const auto& w : e.work_items) work_[{w.case_id, w.item_id}] = w;
    }
    if (c.snapshot) e.snapshot = std::move(c.snapshot);
    if (!c.idempotency_key.empty()) idempotency_[c.idempotency_key] = std::move(c.idempotent_result);
  }

  bool wants_snapshots() const override { return false; }

  std::optional<LoadedCase> load_case(const std::string& id) override {
    std::lock_guard lk(mutex_);
    auto it = cases_.find(id);
    if (it == cases_.end()) return std::nullopt;
    LoadedCase out;
    out.record = it->second.record;
    out.snapshot = it->second.snapshot;
    std::uint64_t from = out.snapshot ? out.snapshot->version : 0;
    out.events.assign(it->second.events.begin() + static_cast<std::ptrdiff_t>(from), it->second.events.end());
    return out;
  }

  std::vector<Event> load_events(const std::string& id, std::uint64_t from) override {
    std::lock_guard lk(mutex_);
    auto it = cases_.find(id);
    if (it == cases_.end()) return {};
    if (from == 0) from = 1;
    const auto& ev = it->second.events;
    if (from > ev.size()) return {};
    return {ev.begin() + static_cast<std::ptrdiff_t>(from - 1), ev.end()};
  }

  std::optional<CaseRecord> case_record(const std::string& id) override {
    std::lock_guard lk(mutex_);
    auto it = cases_.find(id);
    if (it == cases_.end()) return std::nullopt;
    return it->second.record;
  }

  std::vector<std::string> case_ids(std::size_t limit, const std::string& after_id) override {
    std::lock_guard lk(mutex_);
    std::size_t start = 0;
    if (!after_id.empty()) {
      auto it = cases_.find(after_id);
      if (it == cases_.end()) return {};  // as the SQLite store: nothing follows an unknown id
      start = it->second.seq;
    }
    std::vector<std::string> out;
    for (std::size_t i = start; i < order_.size() && out.size() < limit; ++i) out.push_back(order_[i]);
    return out;
  }

  std::uint64_t case_count() override {
    std::lock_guard lk(mutex_);
    return order_.size();
  }

  std::vector<DueKey> due_cases(TimePoint until, std::size_t limit, const std::optional<DueKey>& after) override {
    std::lock_guard lk(mutex_);
    std::vector<DueKey> out;
    for (auto it = after ? due_.upper_bound(*after) : due_.begin(); it != due_.end(); ++it) {
      if (it->first > until || out.size() >= limit) break;
      out.push_back(*it);
    }
    return out;
  }

  std::optional<TimePoint> next_due() override {
    std::lock_guard lk(mutex_);
    if (due_.empty()) return std::nullopt;
    return due_.begin()->first;
  }

  std::pair<std::vector<CaseRecord>, std::uint64_t> find_cases(const CaseSearch& q) override {
    std::lock_guard lk(mutex_);
    std::pair<std::vector<CaseRecord>, std::uint64_t> out{{}, 0};
    for (auto id = order_.rbegin(); id != order_.rend(); ++id) {  // newest first
      const CaseRecord& r = cases_.at(*id).record;
      if (!q.owner.empty() && r.owner != q.owner) continue;
      if (!q.customer.empty() && r.customer != q.customer) continue;
      if (!q.statuses.empty() && std::find(q.statuses.begin(), q.statuses.end(), r.status) == q.statuses.end())
        continue;
      if (out.second++ >= q.offset && out.first.size() < q.limit) out.first.push_back(r);
    }
    return out;
  }

  std::vector<WorkItemRecord> work_items(const QueueQuery& q) override {
    std::lock_guard lk(mutex_);
    std::vector<const WorkItemRecord*> hits = matching(q);
    auto due_key = [](const WorkItemRecord* w) { return w->due ? w->due->time_since_epoch().count() : INT64_MAX; };
    std::sort(hits.begin(), hits.end(), [&](const WorkItemRecord* a, const WorkItemRecord* b) {
      if (q.overdue_at && due_key(a) != due_key(b)) return due_key(a) < due_key(b);
      if (a->priority != b->priority) return a->priority > b->priority;
      if (due_key(a) != due_key(b)) return due_key(a) < due_key(b);
      if (a->case_id != b->case_id) return a->case_id < b->case_id;
      return a->item_id < b->item_id;
    });
    std::vector<WorkItemRecord> out;
    for (std::size_t i = q.offset; i < hits.size() && out.size() < q.limit; ++i) out.push_back(*hits[i]);
    return out;
  }

  std::uint64_t count_work_items(const QueueQuery& q) override {
    std::lock_guard lk(mutex_);
    return matching(q).size();
  }

 private:
  /// The work items `q` selects, unordered (mutex_ held).
  std::vector<const WorkItemRecord*> matching(const QueueQuery& q) const {
    std::vector<const WorkItemRecord*> hits;
    for (const auto& [key, w] : work_) {
      if (q.overdue_at) {
        if (!w.due || *w.due >= *q.overdue_at) continue;
      }
      if (!q.assignee.empty() || !q.roles.empty()) {
        bool mine = !q.assignee.empty() && w.assignee == q.assignee;
        bool team = w.assignee.empty() && std::find(q.roles.begin(), q.roles.end(), w.role) != q.roles.end();
        if (team && q.skills)
          for (const std::string& need : w.skills)
            if (std::find(q.skills->begin(), q.skills->end(), need) == q.skills->end()) team = false;
        if (!mine && !team) continue;
      }
      hits.push_back(&w);
    }
    return hits;
  }

 public:
  std::optional<Json> idempotent_result(const std::string& key) override {
    std::lock_guard lk(mutex_);
    auto it = idempotency_.find(key);
    if (it == idempotency_.end()) return std::nullopt;
    return it->second;
  }

  int put_template(TemplateRecord r) override {
    std::lock_guard lk(mutex_);
    auto& versions = templates_[r.name];
    if (r.version == 0) r.version = versions.empty() ? 1 : versions.rbegin()->first + 1;
    if (versions.count(r.version))
      throw Error(ErrorCode::already_exists, fmt::format("template '{}' version {} exists", r.name, r.version));
    int v = r.version;
    versions[v] = std::move(r);
    return v;
  }

  std::optional<TemplateRecord> get_template(const std::string& name, int version) override {
    std::lock_guard lk(mutex_);
    auto it = templates_.find(name);
    if (it == templates_.end() || it->second.empty()) return std::nullopt;
    if (version == 0) return it->second.rbegin()->second;
    auto v = it->second.find(version);
    if (v == it->second.end()) return std::nullopt;
    return v->second;
  }

  std::vector<TemplateRecord> list_templates() override {
    std::lock_guard lk(mutex_);
    std::vector<TemplateRecord> out;
    for (const auto& [name, versions] : templates_)
      for (const auto& [v, r] : versions) {
        TemplateRecord copy = r;
        copy.data.clear();
        out.push_back(std::move(copy));
      }
    return out;
  }

  std::vector<std::string> open_cases_of(const std::string& customer, std::size_t limit) override {
    std::lock_guard lk(mutex_);
    std::vector<std::string> out;
    auto it = by_customer_.find(customer);
    if (it == by_customer_.end()) return out;
    for (auto s = it->second.rbegin(); s != it->second.rend() && out.size() < limit; ++s) {
      const CaseRecord& r = cases_.at(order_[*s - 1]).record;
      if (r.status == "active" || r.status == "suspended") out.push_back(r.id);
    }
    return out;
  }

  void append_intake(std::vector<IntakeRecord>& records) override {
    std::lock_guard lk(mutex_);
    for (auto& r : records) {
      r.seq = intake_.size() + 1;
      if (!r.event_id.empty()) intake_by_event_[r.event_id].push_back(r.seq);
      intake_.push_back(r);
    }
  }

  std::vector<IntakeRecord> intake_of(const std::string& event_id) override {
    std::lock_guard lk(mutex_);
    std::vector<IntakeRecord> out;
    auto it = intake_by_event_.find(event_id);
    if (it != intake_by_event_.end())
      for (std::uint64_t s : it->second) out.push_back(intake_[s - 1]);
    return out;
  }

  std::vector<IntakeRecord> intake_log(std::size_t limit, std::uint64_t after) override {
    std::lock_guard lk(mutex_);
    std::vector<IntakeRecord> out;
    for (std::uint64_t s = after + 1; s <= intake_.size() && out.size() < limit; ++s) out.push_back(intake_[s - 1]);
    return out;
  }

 private:
  struct Entry {
    CaseRecord record;
    std::vector<Event> events;
    std::optional<SnapshotRecord> snapshot;
    std::vector<WorkItemRecord> work_items;
    std::size_t seq = 0;
  };
  std::mutex mutex_;
  std::vector<DefinitionRecord> definitions_;
  std::unordered_map<std::string, Entry> cases_;
  std::vector<std::string> order_;
  std::set<std::pair<TimePoint, std::string>> due_;
  std::map<std::pair<std::string, std::string>, WorkItemRecord> work_;
  std::unordered_map<std::string, Json> idempotency_;
  std::map<std::string, std::map<int, TemplateRecord>> templates_;
  std::unordered_map<std::string, std::set<std::size_t>> by_customer_;  // customer -> case seqs
  std::vector<IntakeRecord> intake_;
  std::unordered_map<std::string, std::vector<std::uint64_t>> intake_by_event_;
};

}  // namespace

std::unique_ptr<Store> open_memory() { return std::make_unique<MemoryStore>(); }

}  // namespace acm::store
