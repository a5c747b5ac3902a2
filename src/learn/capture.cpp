// SPDX-License-Identifier: Apache-2.0
// learn/capture.cpp - plan suggestion from similar past cases, and fragment capture (recurring
// runs of ad-hoc tasks proposed as new fragments).
#include "learn/learner_impl.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <numeric>
#include <set>

namespace acm::learn {

// ---- plan suggestion -----------------------------------------------------------------------

std::vector<PlanSuggestion> Learner::suggest_plan(std::string_view case_type, const Attributes& attributes,
                                                  std::size_t limit) const {
  std::shared_lock lock(impl_->mutex);
  // Similarity: same case type first, then the number of attributes in common.
  struct Scored {
    const Trace* t;
    std::size_t score;
  };
  std::vector<Scored> scored;
  std::size_t best = 0;
  for (const Trace& t : impl_->traces) {
    if (t.steps.empty() || t.case_type != case_type) continue;
    std::size_t s = 0;
    for (const auto& [k, v] : attributes)
      for (const auto& [tk, tv] : t.attributes)
        if (tk == k && tv == v) {
          ++s;
          break;
        }
    scored.push_back({&t, s});
    best = std::max(best, s);
  }
  // The most similar group, widened until it holds enough cases to say something.
  constexpr std::size_t kEnough = 5;
  std::size_t threshold = best;
  for (;; --threshold) {
    std::size_t n = 0;
    for (const Scored& s : scored) n += s.score >= threshold;
    if (n >= kEnough || threshold == 0) break;
  }
  std::map<std::vector<std::string>, std::vector<const Trace*>> variants;
  std::size_t similar = 0;
  for (const Scored& s : scored) {
    if (s.score < threshold) continue;
    ++similar;
    std::vector<std::string> seq;
    for (const Step& st : s.t->steps) seq.push_back(st.activity);
    variants[seq].push_back(s.t);
  }
  std::vector<PlanSuggestion> out;
  for (auto& [seq, ts] : variants) {
    PlanSuggestion p;
    p.steps = seq;
    p.support = ts.size();
    p.share = similar ? static_cast<double>(ts.size()) / static_cast<double>(similar) : 0;
    std::vector<Duration> d;
    for (const Trace* t : ts) d.push_back(t->steps.back().time - t->steps.front().time);
    std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2), d.end());
    p.median_duration = d[d.size() / 2];
    for (const Trace* t : ts) {
      if (p.examples.size() >= 5) break;
      p.examples.push_back(t->id);
    }
    for (const auto& [k, v] : attributes) {
      const bool all_share = std::all_of(ts.begin(), ts.end(), [&, &k = k, &v = v](const Trace* t) {
        return std::any_of(t->attributes.begin(), t->attributes.end(),
                           [&](const auto& kv) { return kv.first == k && kv.second == v; });
      });
      if (all_share) p.matched.emplace_back(k, v);
    }
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const PlanSuggestion& a, const PlanSuggestion& b) {
    return a.support != b.support ? a.support > b.support : a.steps < b.steps;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

// ---- fragment capture -----------------------------------------------------------------------

std::vector<FragmentProposal> Learner::fragment_proposals() const {
  std::shared_lock lock(impl_->mutex);
  const LearnerOptions& o = impl_->options;
  // Runs of consecutive ad-hoc steps per case; candidate task sets are their windows.
  struct Occurrence {
    const Trace* t;
    std::vector<const Step*> steps;  // the run's steps, in order
  };
  std::map<std::vector<std::string>, std::vector<Occurrence>> by_set;  // sorted task set -> occurrences
  for (const Trace& t : impl_->traces) {
    std::vector<std::vector<const Step*>> runs(1);
    for (const Step& s : t.steps) {
      if (s.ad_hoc)
        runs.back().push_back(&s);
      else if (!runs.back().empty())
        runs.emplace_back();
    }
    std::set<std::vector<std::string>> seen_in_case;
    for (const auto& run : runs)
      for (std::size_t i = 0; i < run.size(); ++i)
        for (std::size_t len = 2; len <= o.capture_max_tasks && i + len <= run.size(); ++len) {
          std::vector<std::string> set;
          for (std::size_t j = i; j < i + len; ++j) set.push_back(run[j]->activity);
          std::sort(set.begin(), set.end());
          if (std::adjacent_find(set.begin(), set.end()) != set.end()) continue;  // a task twice: not one fragment
          if (!seen_in_case.insert(set).second) continue;
          by_set[set].push_back(Occurrence{
              &t, {run.begin() + static_cast<std::ptrdiff_t>(i), run.begin() + static_cast<std::ptrdiff_t>(i + len)}});
        }
  }
  // Frequent sets; drop a set when a larger frequent set contains it with the same support.
  std::vector<std::pair<std::vector<std::string>, const std::vector<Occurrence>*>> frequent;
  for (const auto& [set, occ] : by_set)
    if (occ.size() >= o.capture_min_cases) frequent.emplace_back(set, &occ);
  std::vector<FragmentProposal> out;
  for (const auto& [set, occ] : frequent) {
    const bool subsumed = std::any_of(frequent.begin(), frequent.end(), [&, &set = set, &occ = occ](const auto& other) {
      return other.first.size() > set.size() && other.second->size() >= occ->size() &&
             std::includes(other.first.begin(), other.first.end(), set.begin(), set.end());
    });
    if (subsumed) continue;
    FragmentProposal p;
    // Order: a before b when a came first in every supporting case.
    const std::size_t n = set.size();
    std::vector<std::vector<std::size_t>> before(n, std::vector<std::size_t>(n, 0));
    std::vector<double> mean_pos(n, 0);
    std::vector<std::vector<Duration>> took(n);
    for (const Occurrence& oc : *occ) {
      for (std::size_t i = 0; i < oc.steps.size(); ++i) {
        const std::size_t a =
            static_cast<std::size_t>(std::lower_bound(set.begin(), set.end(), oc.steps[i]->activity) - set.begin());
        mean_pos[a] += static_cast<double>(i);
        for (std::size_t j = i + 1; j < oc.steps.size(); ++j) {
          const std::size_t b =
              static_cast<std::size_t>(std::lower_bound(set.begin(), set.end(), oc.steps[j]->activity) - set.begin());
          ++before[a][b];
        }
        // Time the task took: from the step before it in the case.
        const Step* prev = nullptr;
        for (const Step& s : oc.t->steps) {
          if (&s == oc.steps[i]) break;
          prev = &s;
        }
        if (prev) took[a].push_back(oc.steps[i]->time - prev->time);
      }
    }
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return mean_pos[a] != mean_pos[b] ? mean_pos[a] < mean_pos[b] : set[a] < set[b];
    });
    for (std::size_t i : order) {
      p.tasks.push_back(set[i]);
      std::vector<Duration>& d = took[i];
      if (d.empty()) {
        p.estimates.push_back(Duration{0});
      } else {
        std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2), d.end());
        p.estimates.push_back(d[d.size() / 2]);
      }
    }
    // Edges a->b where a always came first; keep only those not implied by a longer path.
    auto always = [&](std::size_t a, std::size_t b) { return before[a][b] == occ->size(); };
    for (std::size_t a = 0; a < n; ++a)
      for (std::size_t b = 0; b < n; ++b) {
        if (a == b || !always(a, b)) continue;
        bool implied = false;
        for (std::size_t c = 0; c < n && !implied; ++c) implied = c != a && c != b && always(a, c) && always(c, b);
        if (!implied) p.order.emplace_back(set[a], set[b]);
      }
    std::sort(p.order.begin(), p.order.end(), [&](const auto& x, const auto& y) {
      auto pos = [&](const std::string& s) { return std::find(p.tasks.begin(), p.tasks.end(), s) - p.tasks.begin(); };
      return std::pair(pos(x.first), pos(x.second)) < std::pair(pos(y.first), pos(y.second));
    });
    for (const Occurrence& oc : *occ) p.cases.push_back(oc.t->id);
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const FragmentProposal& a, const FragmentProposal& b) {
    return a.cases.size() != b.cases.size() ? a.cases.size() > b.cases.size() : a.tasks < b.tasks;
  });
  for (std::size_t i = 0; i < out.size(); ++i) out[i].id = fmt::format("captured-{}", i + 1);
  return out;
}

FragmentDef FragmentProposal::definition() const {
  FragmentDef f;
  f.id = id;
  f.version = 1;
  f.name = "Captured: " + (tasks.empty() ? std::string() : tasks.front()) +
           (tasks.size() > 1 ? fmt::format(" and {} more", tasks.size() - 1) : std::string());
  std::map<std::string, std::string> item_id;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    ItemDef item;
    std::string slug;
    for (char ch : tasks[i])
      slug += std::isalnum(static_cast<unsigned char>(ch))
                  ? static_cast<char>(std::tolower(static_cast<unsigned char>(ch)))
                  : '_';
    item.id = fmt::format("t{}_{}", i + 1, slug);
    item.name = tasks[i];
    item.kind = ItemKind::human_task;
    if (i < estimates.size() && estimates[i].count() > 0) item.estimate = estimates[i];
    item_id[tasks[i]] = item.id;
    f.items.push_back(std::move(item));
  }
  for (const auto& [a, b] : order)
    for (ItemDef& item : f.items)
      if (item.id == item_id[b]) item.after.push_back(item_id[a]);
  f.description = fmt::format("Proposed from {} cases: {}", cases.size(), fmt::join(cases, ", "));
  return f;
}

}  // namespace acm::learn
