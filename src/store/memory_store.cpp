// SPDX-License-Identifier: Apache-2.0
// store/memory_store.cpp - the CaseStore (with its TemplateStore and IntakeLogStore) held in memory.
//
// One mutex guards everything; every method holds it for its whole run, so each call is atomic
// and sees every call that returned before it. Checks what the SQLite store checks, with the
// same error codes (tests/store/contract.cpp runs the same assertions on both).
#include <acm/error.hpp>
#include <acm/store.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

namespace acm {
namespace {

class MemoryStore final : public CaseStore, public TemplateStore, public IntakeLogStore {
 public:
  StoreTraits traits() const noexcept override {
    StoreTraits t;
    t.keeps_snapshots = false;  // replaying events held in memory is fast enough
    return t;
  }
  TemplateStore* templates() noexcept override { return this; }
  IntakeLogStore* intake_log() noexcept override { return this; }

  // ---- definitions ----

  std::vector<DefinitionRecord> load_definitions() override {
    std::lock_guard lk(mutex_);
    return definitions_;
  }

  void save_definitions(const std::vector<DefinitionRecord>& defs) override {
    std::lock_guard lk(mutex_);
    std::vector<const DefinitionRecord*> fresh;
    for (const DefinitionRecord& d : defs) {
      auto same = [&](const DefinitionRecord& x) { return x.kind == d.kind && x.id == d.id && x.version == d.version; };
      auto it = std::find_if(definitions_.begin(), definitions_.end(), same);
      if (it == definitions_.end()) {
        if (std::none_of(fresh.begin(), fresh.end(), [&](const DefinitionRecord* f) { return same(*f); }))
          fresh.push_back(&d);
        continue;
      }
      if (it->body != d.body)
        throw Error(ErrorCode::already_exists,
                    fmt::format("{} '{}' version {} is already stored with a different body", d.kind, d.id, d.version));
    }
    for (const DefinitionRecord* d : fresh) definitions_.push_back(*d);
  }

  // ---- writing ----

  void commit(CaseCommit c) override {
    std::lock_guard lk(mutex_);
    apply(c);
  }

  // ---- reading ----

  void load_cases(const std::vector<std::string>& ids,
                  const std::function<void(std::size_t, std::optional<LoadedCase>)>& each) override {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      std::optional<LoadedCase> out;
      {
        std::lock_guard lk(mutex_);
        auto it = cases_.find(ids[i]);
        if (it != cases_.end()) {
          out.emplace();
          out->row = it->second.row;
          out->snapshot = it->second.snapshot;
          std::uint64_t from = out->snapshot ? out->snapshot->version : 0;
          out->events.assign(it->second.events.begin() + static_cast<std::ptrdiff_t>(from), it->second.events.end());
        }
      }
      each(i, std::move(out));  // outside the lock: the caller may do anything meanwhile
    }
  }

  std::optional<std::vector<Event>> load_events(const std::string& id, std::uint64_t from) override {
    std::lock_guard lk(mutex_);
    auto it = cases_.find(id);
    if (it == cases_.end()) return std::nullopt;
    if (from == 0) from = 1;
    const auto& ev = it->second.events;
    if (from > ev.size()) return std::vector<Event>{};
    return std::vector<Event>(ev.begin() + static_cast<std::ptrdiff_t>(from - 1), ev.end());
  }

  std::vector<std::string> case_ids(std::size_t limit, const std::string& after_id) override {
    std::lock_guard lk(mutex_);
    std::size_t start = 0;
    if (!after_id.empty()) {
      auto it = cases_.find(after_id);
      if (it == cases_.end()) return {};  // nothing follows an unknown id
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

  std::vector<DueCase> due_cases(TimePoint until, std::size_t limit, const std::optional<DueCase>& after) override {
    std::lock_guard lk(mutex_);
    std::vector<DueCase> out;
    for (auto it = after ? due_.upper_bound(*after) : due_.begin(); it != due_.end(); ++it) {
      if (it->due > until || out.size() >= limit) break;
      out.push_back(*it);
    }
    return out;
  }

  CasePage find_cases(const CaseQuery& q) override {
    std::lock_guard lk(mutex_);
    CasePage out;
    for (auto id = order_.rbegin(); id != order_.rend(); ++id) {  // newest first
      const CaseRow& r = cases_.at(*id).row;
      if (!q.owner.empty() && r.owner != q.owner) continue;
      if (!q.customer.empty() && r.customer != q.customer) continue;
      if (!q.statuses.empty() && std::find(q.statuses.begin(), q.statuses.end(), r.status) == q.statuses.end())
        continue;
      if (out.total++ >= q.offset && out.cases.size() < q.limit) out.cases.push_back(r);
    }
    return out;
  }

  QueuePage work_items(const QueueFilter& q, bool with_total) override {
    std::lock_guard lk(mutex_);
    std::vector<const WorkItem*> hits = matching(q);
    auto due_key = [](const WorkItem* w) { return w->due ? w->due->time_since_epoch().count() : INT64_MAX; };
    std::sort(hits.begin(), hits.end(), [&](const WorkItem* a, const WorkItem* b) {
      if (q.overdue_at && due_key(a) != due_key(b)) return due_key(a) < due_key(b);
      if (a->priority != b->priority) return a->priority > b->priority;
      if (due_key(a) != due_key(b)) return due_key(a) < due_key(b);
      if (a->case_id != b->case_id) return a->case_id < b->case_id;
      return a->item_id < b->item_id;
    });
    QueuePage out;
    if (with_total) out.total = hits.size();
    for (std::size_t i = q.offset; i < hits.size() && out.items.size() < q.limit; ++i) out.items.push_back(*hits[i]);
    return out;
  }

  std::optional<Json> idempotent_result(const std::string& key) override {
    std::lock_guard lk(mutex_);
    auto it = idempotency_.find(key);
    if (it == idempotency_.end()) return std::nullopt;
    return it->second;
  }

  // ---- TemplateStore ----

  int put(const TemplateInfo& info, const std::string& data) override {
    if (info.name.empty()) throw Error(ErrorCode::invalid_argument, "a template needs a name");
    if (info.version < 0)
      throw Error(ErrorCode::invalid_argument, fmt::format("template version {} is negative", info.version));
    std::lock_guard lk(mutex_);
    auto& versions = templates_[info.name];
    int v = info.version != 0 ? info.version : versions.empty() ? 1 : versions.rbegin()->first + 1;
    if (versions.count(v))
      throw Error(ErrorCode::already_exists, fmt::format("template '{}' version {} exists", info.name, v));
    TemplateInfo stored = info;
    stored.version = v;
    versions.emplace(v, std::make_pair(std::move(stored), data));
    return v;
  }

  std::optional<std::pair<TemplateInfo, std::string>> find(const std::string& name, int version) override {
    std::lock_guard lk(mutex_);
    auto it = templates_.find(name);
    if (it == templates_.end() || it->second.empty()) return std::nullopt;
    if (version == 0) return it->second.rbegin()->second;
    auto v = it->second.find(version);
    if (v == it->second.end()) return std::nullopt;
    return v->second;
  }

  std::vector<TemplateInfo> list() override {
    std::lock_guard lk(mutex_);
    std::vector<TemplateInfo> out;
    for (const auto& [name, versions] : templates_)
      for (const auto& [v, t] : versions) out.push_back(t.first);
    return out;
  }

  // ---- IntakeLogStore ----

  void append(std::vector<IntakeLogEntry>& entries) override {
    std::lock_guard lk(mutex_);
    for (auto& e : entries) {
      e.seq = intake_.size() + 1;
      if (!e.event_id.empty()) intake_by_event_[e.event_id].push_back(e.seq);
      intake_.push_back(e);
    }
  }

  /// Positions are the feed index as decimal text: "1" is the first event.
  std::vector<FeedEntry> read_feed(const std::string& after, std::size_t limit) override {
    std::size_t from = 0;
    if (!after.empty()) {
      if (after.size() > 18 || after.find_first_not_of("0123456789") != std::string::npos)
        throw Error(ErrorCode::invalid_argument, fmt::format("'{}' is not a position of the event feed", after));
      from = static_cast<std::size_t>(std::stoull(after));
    }
    std::lock_guard lk(mutex_);
    std::vector<FeedEntry> out;
    for (std::size_t i = from; i < feed_.size() && out.size() < limit; ++i)
      out.push_back({std::to_string(i + 1), feed_[i].first->events[feed_[i].second]});
    return out;
  }

  std::string feed_end() override {
    std::lock_guard lk(mutex_);
    return feed_.empty() ? std::string() : std::to_string(feed_.size());
  }

  std::vector<IntakeLogEntry> of_event(const std::string& event_id) override {
    std::lock_guard lk(mutex_);
    std::vector<IntakeLogEntry> out;
    auto it = intake_by_event_.find(event_id);
    if (it != intake_by_event_.end())
      for (std::uint64_t s : it->second) out.push_back(intake_[s - 1]);
    return out;
  }

  std::vector<IntakeLogEntry> page(std::size_t limit, std::uint64_t after) override {
    std::lock_guard lk(mutex_);
    std::vector<IntakeLogEntry> out;
    // `after` may be any value, UINT64_MAX included: compare before adding (no wrap-around).
    if (after >= intake_.size()) return out;
    for (std::uint64_t s = after + 1; s <= intake_.size() && out.size() < limit; ++s) out.push_back(intake_[s - 1]);
    return out;
  }

 private:
  struct Entry {
    CaseRow row;
    std::vector<Event> events;
    std::optional<SnapshotBlob> snapshot;
    std::vector<WorkItem> work_items;
    std::size_t seq = 0;
  };

  /// Checks a commit completely, then applies it (mutex_ held): all of it or nothing.
  void apply(CaseCommit& c) {
    const CaseRow& r = c.row;
    if (r.id.empty()) throw Error(ErrorCode::invalid_argument, "a commit needs a case id");
    if (r.version != c.expected_version + c.events.size())
      throw Error(ErrorCode::internal, fmt::format("commit of case '{}': version {} after {} events from version {}",
                                                   r.id, r.version, c.events.size(), c.expected_version));
    for (std::size_t i = 0; i < c.events.size(); ++i) {
      const Event& e = c.events[i];
      if (e.seq != c.expected_version + 1 + i || (!e.case_id.empty() && e.case_id != r.id))
        throw Error(ErrorCode::internal, fmt::format("commit of case '{}' version {}: event {} is '{}' #{}", r.id,
                                                     r.version, i, e.case_id, e.seq));
    }
    if (c.work_items) {
      std::set<std::string_view> seen;
      for (const WorkItem& w : *c.work_items) {
        if (!w.case_id.empty() && w.case_id != r.id)
          throw Error(ErrorCode::invalid_argument,
                      fmt::format("commit of case '{}': work item '{}' of case '{}'", r.id, w.item_id, w.case_id));
        if (!seen.insert(w.item_id).second)
          throw Error(ErrorCode::invalid_argument,
                      fmt::format("commit of case '{}': work item '{}' listed twice", r.id, w.item_id));
      }
    }
    if (!c.idempotency_key.empty() && idempotency_.count(c.idempotency_key))
      throw Error(ErrorCode::conflict, fmt::format("idempotency key '{}' is already used", c.idempotency_key));
    auto it = cases_.find(r.id);
    if (c.expected_version == 0) {
      if (it != cases_.end())
        throw Error(ErrorCode::conflict,
                    fmt::format("case '{}' already exists (version {})", r.id, it->second.row.version));
    } else if (it == cases_.end()) {
      throw Error(ErrorCode::conflict, fmt::format("case '{}' does not exist (expected version {})", r.id,
                                                   c.expected_version));
    } else if (it->second.row.version != c.expected_version) {
      throw Error(ErrorCode::conflict, fmt::format("case '{}' is at version {}, not {}", r.id,
                                                   it->second.row.version, c.expected_version));
    }
    // Checked: from here on nothing throws but allocation.
    if (it == cases_.end()) {
      it = cases_.emplace(r.id, Entry{}).first;
      order_.push_back(r.id);
      it->second.seq = order_.size();
    }
    Entry& e = it->second;
    if (e.row.next_due) due_.erase({*e.row.next_due, e.row.id});
    e.row = std::move(c.row);
    if (e.row.next_due) due_.insert({*e.row.next_due, e.row.id});
    e.events.insert(e.events.end(), c.events.begin(), c.events.end());
    for (std::size_t i = e.events.size() - c.events.size(); i < e.events.size(); ++i) {
      e.events[i].case_id = e.row.id;
      feed_.emplace_back(&e, i);  // the feed: this store's commit order (one lock, one writer at a time)
    }
    if (c.work_items) {
      for (const auto& w : e.work_items) work_.erase({w.case_id, w.item_id});
      e.work_items = std::move(*c.work_items);
      for (auto& w : e.work_items) {
        w.case_id = e.row.id;
        work_[{w.case_id, w.item_id}] = w;
      }
    }
    if (c.snapshot) e.snapshot = std::move(c.snapshot);
    if (!c.idempotency_key.empty()) idempotency_[c.idempotency_key] = std::move(c.idempotent_result);
  }

  /// The work items `q` selects, unordered (mutex_ held).
  std::vector<const WorkItem*> matching(const QueueFilter& q) const {
    std::vector<const WorkItem*> hits;
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

  std::mutex mutex_;
  std::vector<DefinitionRecord> definitions_;
  std::unordered_map<std::string, Entry> cases_;
  std::vector<std::string> order_;
  std::set<DueCase> due_;
  std::map<std::pair<std::string, std::string>, WorkItem> work_;
  std::unordered_map<std::string, Json> idempotency_;
  std::map<std::string, std::map<int, std::pair<TemplateInfo, std::string>>> templates_;
  std::vector<IntakeLogEntry> intake_;
  // The global event feed: (case, index of its event) in commit order. Entries are node-stable
  // (cases_ is an unordered_map: its elements never move).
  std::vector<std::pair<const Entry*, std::size_t>> feed_;
  std::unordered_map<std::string, std::vector<std::uint64_t>> intake_by_event_;
};

}  // namespace

std::shared_ptr<CaseStore> open_memory_store() { return std::make_shared<MemoryStore>(); }

}  // namespace acm
