// SPDX-License-Identifier: Apache-2.0
// ActorView: the engine's reads of case data on behalf of an actor (include/acm/actor_view.hpp).
//
// Built on the trusted reads of the Engine plus one check (Engine::require_view, or
// Engine::viewed_case for the case itself, checked and copied under one lock). List reads walk
// the trusted list in pages and keep the rows of cases the actor may view, so that paging
// (limit, offset, after) and totals count only those.
#include <acm/engine.hpp>

#include <fmt/format.h>

#include <functional>
#include <unordered_map>
#include <utility>

namespace acm {

namespace {

// Rows read from the trusted list per step of a walk.
constexpr std::size_t kWalkPage = 1000;

// One decision per case within one call (a queue holds several items of a case).
class Visible {
 public:
  explicit Visible(std::function<bool(const std::string&)> check) : check_(std::move(check)) {}
  bool operator()(const std::string& case_id) {
    auto [it, fresh] = seen_.try_emplace(case_id, false);
    if (fresh) it->second = check_(case_id);
    return it->second;
  }

 private:
  std::function<bool(const std::string&)> check_;
  std::unordered_map<std::string, bool> seen_;
};

void check_page(std::size_t limit, std::string_view what) {
  if (limit > 10000)
    throw Error(ErrorCode::invalid_argument, fmt::format("a {} page holds at most 10000 {}s, not {}", what,
                                                         what == "queue" ? "item" : "case", limit));
}

}  // namespace

bool ActorView::may_view(const std::string& case_id) const {
  try {
    engine_->require_view(actor_, case_id);
    return true;
  } catch (const Error& e) {
    // A case listed a moment ago is not deleted (cases never are), but be exact anyway.
    if (e.code() == ErrorCode::permission_denied || e.code() == ErrorCode::not_found) return false;
    throw;
  }
}

CaseInfo ActorView::get_case(const std::string& case_id) const { return engine_->viewed_case(actor_, case_id); }

std::optional<CaseInfo> ActorView::find_case(const std::string& case_id) const {
  try {
    return engine_->viewed_case(actor_, case_id);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) return std::nullopt;
    throw;
  }
}

std::vector<Event> ActorView::history(const std::string& case_id, std::uint64_t from) const {
  engine_->require_view(actor_, case_id);
  return engine_->history(case_id, from);
}

Json ActorView::inspect(const std::string& case_id, bool from_history) const {
  engine_->require_view(actor_, case_id);
  return engine_->inspect(case_id, from_history);
}

Json ActorView::explain_priority(const std::string& case_id) const {
  engine_->require_view(actor_, case_id);
  return engine_->explain_priority(case_id);
}

std::vector<FragmentOffer> ActorView::applicable_fragments(const std::string& case_id) const {
  engine_->require_view(actor_, case_id);
  return engine_->applicable_fragments(case_id);
}

std::vector<std::string> ActorView::list_cases(std::size_t limit, const std::string& after) const {
  std::vector<std::string> out;
  std::string cursor = after;
  while (out.size() < limit) {
    std::vector<std::string> ids = engine_->list_cases(kWalkPage, cursor);
    for (std::string& id : ids) {
      if (out.size() == limit) break;
      if (may_view(id)) out.push_back(id);
    }
    if (ids.size() < kWalkPage) break;
    cursor = ids.back();
  }
  return out;
}

namespace {

// Walks a trusted paged read (offset/limit) and keeps the rows of visible cases: skips
// `offset` of them, keeps `limit`, and counts them all when `total` is wanted.
template <class Row, class Read, class CaseOf>
std::vector<Row> walk(std::size_t offset, std::size_t limit, std::uint64_t* total, Read&& read, CaseOf&& case_of,
                      Visible& visible) {
  std::vector<Row> out;
  if (!total && limit == 0) return out;
  std::uint64_t count = 0;
  for (std::size_t at = 0;;) {
    std::vector<Row> rows = read(at, kWalkPage);
    for (Row& r : rows) {
      if (!visible(case_of(r))) continue;
      ++count;
      if (offset > 0) {
        --offset;
        continue;
      }
      if (out.size() < limit) out.push_back(std::move(r));
    }
    if (rows.size() < kWalkPage) break;
    if (!total && out.size() >= limit) break;
    at += rows.size();
  }
  if (total) *total = count;
  return out;
}

}  // namespace

std::vector<WorkItem> ActorView::queue(const QueueFilter& filter) const {
  check_page(filter.limit, "queue");
  Visible visible([this](const std::string& id) { return may_view(id); });
  return walk<WorkItem>(
      filter.offset, filter.limit, nullptr,
      [&](std::size_t at, std::size_t n) {
        QueueFilter f = filter;
        f.offset = at;
        f.limit = n;
        return engine_->queue(f);
      },
      [](const WorkItem& w) -> const std::string& { return w.case_id; }, visible);
}

QueuePage ActorView::queue_page(const QueueFilter& filter) const {
  check_page(filter.limit, "queue");
  Visible visible([this](const std::string& id) { return may_view(id); });
  QueuePage page;
  page.items = walk<WorkItem>(
      filter.offset, filter.limit, &page.total,
      [&](std::size_t at, std::size_t n) {
        QueueFilter f = filter;
        f.offset = at;
        f.limit = n;
        return engine_->queue(f);
      },
      [](const WorkItem& w) -> const std::string& { return w.case_id; }, visible);
  return page;
}

CasePage ActorView::find_cases(const CaseQuery& query) const {
  check_page(query.limit, "case");
  Visible visible([this](const std::string& id) { return may_view(id); });
  CasePage page;
  page.cases = walk<CaseSummary>(
      query.offset, query.limit, &page.total,
      [&](std::size_t at, std::size_t n) {
        CaseQuery q = query;
        q.offset = at;
        q.limit = n;
        return engine_->find_cases(q).cases;
      },
      [](const CaseSummary& c) -> const std::string& { return c.id; }, visible);
  return page;
}

std::vector<std::string> ActorView::open_cases_of(const std::string& customer, std::size_t limit) const {
  std::vector<std::string> out;
  if (limit == 0) return out;
  for (std::string& id : engine_->open_cases_of(customer, SIZE_MAX)) {
    if (!may_view(id)) continue;
    out.push_back(std::move(id));
    if (out.size() == limit) break;
  }
  return out;
}

}  // namespace acm
