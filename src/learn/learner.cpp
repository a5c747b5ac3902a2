// SPDX-License-Identifier: Apache-2.0
#include "learn/features.hpp"
#include "learn/gbdt.hpp"

#include <acm/error.hpp>
#include <acm/learn.hpp>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/crc.hpp>
#include <boost/serialization/deque.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <shared_mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

namespace acm::learn {
namespace {

constexpr int kEnd = -1;           // "the case ends" in count tables
constexpr std::size_t kSuffix = 3; // longest suffix kept for back-off

double to_days(Duration d) { return static_cast<double>(d.count()) / 86'400'000.0; }
Duration from_days(double d) { return Duration{static_cast<Duration::rep>(std::llround(d * 86'400'000.0))}; }

/// Next-activity counts after every prefix seen (a trie), and after every suffix of up to
/// kSuffix steps (back-off when the exact prefix is new).
struct CountTables {
  struct Node {
    std::map<std::string, std::uint32_t> child;  // activity -> node index
    std::map<std::string, std::uint64_t> next;   // activity ("" = end) -> cases
    std::uint64_t cases = 0;
    template <class A>
    void serialize(A& a, unsigned /*version*/) {
      a& child& next& cases;
    }
  };
  std::vector<Node> trie{Node{}};
  std::map<std::vector<std::string>, std::map<std::string, std::uint64_t>> suffix;

  template <class A>
  void serialize(A& a, unsigned /*version*/) {
    a& trie& suffix;
  }

  void add(const Trace& t) {
    std::uint32_t node = 0;
    ++trie[0].cases;
    for (std::size_t k = 0; k <= t.steps.size(); ++k) {
      const std::string next = k < t.steps.size() ? t.steps[k].activity : std::string();
      ++trie[node].next[next];
      if (k >= 1)
        for (std::size_t len = 1; len <= std::min(kSuffix, k); ++len) {
          std::vector<std::string> key;
          for (std::size_t i = k - len; i < k; ++i) key.push_back(t.steps[i].activity);
          ++suffix[key][next];
        }
      if (k == t.steps.size()) break;
      auto it = trie[node].child.find(next);
      std::uint32_t child;
      if (it == trie[node].child.end()) {
        child = static_cast<std::uint32_t>(trie.size());
        trie[node].child.emplace(next, child);
        trie.emplace_back();
      } else {
        child = it->second;
      }
      node = child;
      ++trie[node].cases;
    }
  }

  /// The counts after the longest matching context, and its length.
  std::pair<const std::map<std::string, std::uint64_t>*, std::size_t> lookup(const Trace& t) const {
    std::uint32_t node = 0;
    bool exact = true;
    for (const Step& s : t.steps) {
      auto it = trie[node].child.find(s.activity);
      if (it == trie[node].child.end()) {
        exact = false;
        break;
      }
      node = it->second;
    }
    if (exact && !trie[node].next.empty()) return {&trie[node].next, t.steps.size()};
    for (std::size_t len = std::min(kSuffix, t.steps.size()); len >= 1; --len) {
      std::vector<std::string> key;
      for (std::size_t i = t.steps.size() - len; i < t.steps.size(); ++i) key.push_back(t.steps[i].activity);
      auto it = suffix.find(key);
      if (it != suffix.end()) return {&it->second, len};
    }
    return {&trie[0].next, 0};
  }
};

/// What train() produces; immutable once built, shared with readers.
struct Models {
  std::uint64_t version = 0;
  std::uint64_t trained_on = 0;
  FeatureLayout layout;
  gbdt::Ensemble next;
  std::vector<std::string> classes;  // class index -> activity ("" = end)
  std::vector<double> quantiles;
  std::vector<gbdt::Ensemble> remaining;  // one per quantile, in days
  template <class A>
  void serialize(A& a, unsigned /*version*/) {
    a& version& trained_on& layout& next& classes& quantiles& remaining;
  }
};

}  // namespace
}  // namespace acm::learn

namespace boost::serialization {
template <class A>
void serialize(A& a, acm::learn::Step& s, unsigned /*version*/) {
  std::int64_t ms = s.time.time_since_epoch().count();
  a& s.activity& ms& s.resource& s.ad_hoc& s.attributes;
  s.time = acm::TimePoint{acm::Duration{ms}};
}
template <class A>
void serialize(A& a, acm::learn::Trace& t, unsigned /*version*/) {
  a& t.id& t.case_type& t.attributes& t.steps;
}
template <class A>
void serialize(A& a, acm::learn::LearnerOptions& o, unsigned /*version*/) {
  a& o.next_rounds& o.next_depth& o.next_eta& o.time_rounds& o.time_depth& o.time_eta& o.quantiles& o.attributes;
  a& o.calendar_time& o.min_value_count& o.retrain_every& o.max_traces& o.capture_min_cases& o.capture_max_tasks;
}
}  // namespace boost::serialization

namespace acm::learn {

struct Learner::Impl {
  LearnerOptions options;
  mutable std::shared_mutex mutex;
  std::deque<Trace> traces;
  std::uint64_t total_traces = 0, total_steps = 0, since_train = 0;
  CountTables counts;
  std::vector<double> durations_days;  // first to last step of every trace (bounded like traces)
  std::shared_ptr<const Models> models;

  template <class A>
  void serialize(A& a, unsigned /*version*/) {
    a& options& traces& total_traces& total_steps& since_train& counts& durations_days;
    bool has = models != nullptr;
    a& has;
    if constexpr (A::is_saving::value) {
      if (has) a&* models;
    } else {
      if (has) {
        auto m = std::make_shared<Models>();
        a&* m;
        models = std::move(m);
      } else {
        models.reset();
      }
    }
  }

  void add_locked(Trace t) {
    std::stable_sort(t.steps.begin(), t.steps.end(), [](const Step& a, const Step& b) { return a.time < b.time; });
    counts.add(t);
    ++total_traces;
    total_steps += t.steps.size();
    if (!t.steps.empty()) durations_days.push_back(to_days(t.steps.back().time - t.steps.front().time));
    traces.push_back(std::move(t));
    while (traces.size() > std::max<std::size_t>(1, options.max_traces)) traces.pop_front();
    while (durations_days.size() > std::max<std::size_t>(1, options.max_traces))
      durations_days.erase(durations_days.begin());
    ++since_train;
  }

  std::shared_ptr<const Models> fit() const {
    std::vector<const Trace*> use;
    for (const Trace& t : traces)
      if (!t.steps.empty()) use.push_back(&t);
    if (use.empty()) throw Error(ErrorCode::invalid_argument, "nothing to learn from: no trace has steps");
    auto m = std::make_shared<Models>();
    m->layout = FeatureLayout::build(use, options);
    const FeatureLayout& L = m->layout;
    // Classes: every activity seen, then "end".
    std::map<std::string, int> cls;
    for (const std::string& a : L.activities.values) {
      cls.emplace(a, static_cast<int>(m->classes.size()));
      m->classes.push_back(a);
    }
    const int end_class = static_cast<int>(m->classes.size());
    m->classes.emplace_back();
    gbdt::Matrix xc, xr;
    xc.cols = xr.cols = L.width();
    std::vector<int> labels;
    std::vector<float> remaining;
    for (const Trace* t : use) {
      const TimePoint last = t->steps.back().time;
      L.for_each_prefix(*t, [&](std::size_t k, const std::vector<float>& row) {
        xc.values.insert(xc.values.end(), row.begin(), row.end());
        ++xc.rows;
        labels.push_back(k < t->steps.size() ? cls.at(t->steps[k].activity) : end_class);
        if (k < t->steps.size()) {
          xr.values.insert(xr.values.end(), row.begin(), row.end());
          ++xr.rows;
          remaining.push_back(static_cast<float>(to_days(last - t->steps[k - 1].time)));
        }
      });
    }
    gbdt::Params pc{.rounds = options.next_rounds, .max_depth = options.next_depth, .eta = options.next_eta};
    m->next = gbdt::train_softmax(xc, labels, static_cast<int>(m->classes.size()), L.specs, pc);
    if (xr.rows > 0) {
      // The quantile models are independent: fitted on their own threads.
      gbdt::Params pr{.rounds = options.time_rounds, .max_depth = options.time_depth, .eta = options.time_eta};
      m->quantiles = options.quantiles;
      m->remaining.resize(options.quantiles.size());
      std::vector<std::exception_ptr> failed(options.quantiles.size());
      std::vector<std::thread> pool;
      for (std::size_t i = 0; i < options.quantiles.size(); ++i)
        pool.emplace_back([&, i] {
          try {
            m->remaining[i] = gbdt::train_quantile(xr, remaining, options.quantiles[i], L.specs, pr);
          } catch (...) {
            failed[i] = std::current_exception();
          }
        });
      for (std::thread& t : pool) t.join();
      for (const std::exception_ptr& e : failed)
        if (e) std::rethrow_exception(e);
    }
    m->trained_on = use.size();
    m->version = (models ? models->version : 0) + 1;
    return m;
  }

  std::vector<Evidence> explain(const gbdt::Ensemble& e, const FeatureLayout& L, const std::vector<float>& row, int k,
                                std::size_t limit) const {
    std::vector<float> c = e.contributions(row, k);
    std::vector<std::size_t> idx(c.size() - 1);
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return std::fabs(c[a]) > std::fabs(c[b]); });
    std::vector<Evidence> out;
    for (std::size_t i : idx) {
      if (out.size() >= limit || std::fabs(c[i]) < 1e-4) break;
      out.push_back(Evidence{L.specs[i].name, L.describe(i, row), c[i]});
    }
    return out;
  }

  std::vector<NextStep> next_steps(const Trace& running, std::size_t limit, bool allow_end) const {
    const auto [counts_after, matched] = counts.lookup(running);
    std::uint64_t total = 0;
    for (const auto& [a, n] : *counts_after) total += n;
    auto support_of = [&](const std::string& a) -> std::uint64_t {
      auto it = counts_after->find(a);
      return it == counts_after->end() ? 0 : it->second;
    };
    std::vector<NextStep> out;
    if (models) {
      const Models& m = *models;
      const std::vector<float> row = m.layout.features(running);
      std::vector<float> p(m.classes.size());
      m.next.predict(row, p);
      gbdt::softmax(p);
      std::vector<std::size_t> order(p.size());
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] > p[b]; });
      for (std::size_t i : order) {
        if (out.size() >= limit) break;
        if (!allow_end && m.classes[i].empty()) continue;
        NextStep s{m.classes[i], p[i], support_of(m.classes[i]), matched, {}};
        s.evidence = explain(m.next, m.layout, row, static_cast<int>(i), 3);
        out.push_back(std::move(s));
      }
      return out;
    }
    // Not trained yet: the count tables alone.
    std::vector<std::pair<std::string, std::uint64_t>> v(counts_after->begin(), counts_after->end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [a, n] : v) {
      if (out.size() >= limit) break;
      if (!allow_end && a.empty()) continue;
      out.push_back(NextStep{a, total ? static_cast<double>(n) / static_cast<double>(total) : 0.0, n, matched,
                             {Evidence{"matched steps", std::to_string(matched), 0}}});
    }
    return out;
  }

  Completion completion(const Trace& running, std::optional<TimePoint> now) const {
    Completion c;
    c.support = models ? models->trained_on : durations_days.size();
    const TimePoint last = running.steps.empty() ? (now ? *now : TimePoint{}) : running.steps.back().time;
    if (models && !models->remaining.empty()) {
      const Models& m = *models;
      const std::vector<float> row = m.layout.features(running);
      std::vector<double> values;
      for (const gbdt::Ensemble& e : m.remaining) {
        float v = 0;
        e.predict(row, std::span<float>(&v, 1));
        values.push_back(std::max(0.0, static_cast<double>(v)));
      }
      std::vector<double> sorted = values;
      std::sort(sorted.begin(), sorted.end());  // quantiles never cross
      std::size_t median = 0;
      for (std::size_t i = 0; i < m.quantiles.size(); ++i) {
        c.quantiles.emplace_back(m.quantiles[i], from_days(sorted[i]));
        if (std::fabs(m.quantiles[i] - 0.5) < std::fabs(m.quantiles[median] - 0.5)) median = i;
      }
      c.remaining = from_days(sorted[median]);
      c.evidence = explain(m.remaining[median], m.layout, row, 0, 3);
    } else if (!durations_days.empty()) {
      // Not trained yet: typical total duration minus the time already spent.
      std::vector<double> d = durations_days;
      std::sort(d.begin(), d.end());
      const double elapsed = running.steps.empty() ? 0 : to_days(last - running.steps.front().time);
      for (double q : options.quantiles) {
        const double total = d[std::min(d.size() - 1, static_cast<std::size_t>(q * static_cast<double>(d.size())))];
        c.quantiles.emplace_back(q, from_days(std::max(0.0, total - elapsed)));
      }
      const double med = d[d.size() / 2];
      c.remaining = from_days(std::max(0.0, med - elapsed));
      c.evidence.push_back(Evidence{"median duration of past cases", fmt::format("{:.1f} d", med), 0});
    }
    c.expected = last + c.remaining;
    if (now && c.expected < *now) c.expected = *now;
    return c;
  }
};

// ---- Learner ------------------------------------------------------------------------------

Learner::Learner(LearnerOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.quantiles.empty()) options.quantiles = {0.5};
  for (double q : options.quantiles)
    if (!(q > 0 && q < 1)) throw Error(ErrorCode::invalid_argument, fmt::format("quantile {} is not in (0, 1)", q));
  std::sort(options.quantiles.begin(), options.quantiles.end());
  if (options.next_rounds < 1 || options.time_rounds < 1 || options.next_depth < 1 || options.time_depth < 1)
    throw Error(ErrorCode::invalid_argument, "learner rounds and depths must be at least 1");
  if (options.capture_min_cases < 2) options.capture_min_cases = 2;
  if (options.capture_max_tasks < 2) options.capture_max_tasks = 2;
  impl_->options = std::move(options);
}
Learner::~Learner() = default;
Learner::Learner(Learner&&) noexcept = default;
Learner& Learner::operator=(Learner&&) noexcept = default;

void Learner::add(Trace trace) {
  std::shared_ptr<const Models> fitted;
  {
    std::unique_lock lock(impl_->mutex);
    impl_->add_locked(std::move(trace));
    if (impl_->options.retrain_every == 0 || impl_->since_train < impl_->options.retrain_every) return;
    impl_->since_train = 0;
    fitted = impl_->fit();
    impl_->models = std::move(fitted);
  }
}

void Learner::train() {
  std::unique_lock lock(impl_->mutex);
  impl_->models = impl_->fit();
  impl_->since_train = 0;
}

std::vector<NextStep> Learner::next_steps(const Trace& running, std::size_t limit, bool include_end) const {
  std::shared_lock lock(impl_->mutex);
  return impl_->next_steps(running, limit, include_end);
}

Completion Learner::completion(const Trace& running, std::optional<TimePoint> now) const {
  std::shared_lock lock(impl_->mutex);
  return impl_->completion(running, now);
}

LearnerStats Learner::stats() const {
  std::shared_lock lock(impl_->mutex);
  LearnerStats s;
  s.traces = impl_->total_traces;
  s.steps = impl_->total_steps;
  std::set<std::string> acts;
  for (const auto& [a, n] : impl_->counts.trie[0].child) acts.insert(a);
  for (const auto& [k, v] : impl_->counts.suffix)
    if (k.size() == 1) acts.insert(k[0]);
  s.activities = acts.size();
  if (impl_->models) {
    s.trained_on = impl_->models->trained_on;
    s.model_version = impl_->models->version;
  }
  return s;
}

const LearnerOptions& Learner::options() const { return impl_->options; }

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
      if (s.ad_hoc) runs.back().push_back(&s);
      else if (!runs.back().empty()) runs.emplace_back();
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
          by_set[set].push_back(Occurrence{&t, {run.begin() + static_cast<std::ptrdiff_t>(i),
                                                run.begin() + static_cast<std::ptrdiff_t>(i + len)}});
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
        const std::size_t a = static_cast<std::size_t>(
            std::lower_bound(set.begin(), set.end(), oc.steps[i]->activity) - set.begin());
        mean_pos[a] += static_cast<double>(i);
        for (std::size_t j = i + 1; j < oc.steps.size(); ++j) {
          const std::size_t b = static_cast<std::size_t>(
              std::lower_bound(set.begin(), set.end(), oc.steps[j]->activity) - set.begin());
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
        for (std::size_t c = 0; c < n && !implied; ++c)
          implied = c != a && c != b && always(a, c) && always(c, b);
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
    for (char ch : tasks[i]) slug += std::isalnum(static_cast<unsigned char>(ch)) ? static_cast<char>(std::tolower(static_cast<unsigned char>(ch))) : '_';
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

// ---- persistence ---------------------------------------------------------------------------

namespace {
constexpr char kMagic[8] = {'A', 'C', 'M', 'L', 'R', 'N', '0', '1'};
constexpr std::uint32_t kFormat = 1;
constexpr std::size_t kHeader = 8 + 4 + 8 + 4;

void put_u32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t get_le(std::string_view s, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)])) << (8 * i);
  return v;
}
std::uint32_t crc_of(std::string_view s) {
  boost::crc_32_type crc;
  crc.process_bytes(s.data(), s.size());
  return crc.checksum();
}
}  // namespace

std::string Learner::save() const {
  std::ostringstream body;
  {
    std::shared_lock lock(impl_->mutex);
    boost::archive::binary_oarchive ar(body);
    ar << *impl_;
  }
  const std::string payload = std::move(body).str();
  std::string out(kMagic, 8);
  put_u32(out, kFormat);
  put_u64(out, payload.size());
  put_u32(out, crc_of(payload));
  out += payload;
  return out;
}

Learner Learner::load(std::string_view bytes) {
  if (bytes.size() < kHeader || std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw Error(ErrorCode::storage, "not an acm learned template (bad magic)");
  const auto format = static_cast<std::uint32_t>(get_le(bytes, 8, 4));
  if (format > kFormat)
    throw Error(ErrorCode::storage, fmt::format("learned template format {} is newer than this acm (reads up to {})", format, kFormat));
  const std::uint64_t length = get_le(bytes, 12, 8);
  if (length != bytes.size() - kHeader)
    throw Error(ErrorCode::storage, fmt::format("learned template is truncated or padded: {} payload bytes expected, {} present",
                                                length, bytes.size() - kHeader));
  const std::string_view payload = bytes.substr(kHeader);
  if (crc_of(payload) != static_cast<std::uint32_t>(get_le(bytes, 20, 4)))
    throw Error(ErrorCode::storage, "learned template is damaged (checksum mismatch)");
  Learner l;
  try {
    std::istringstream in{std::string(payload)};
    boost::archive::binary_iarchive ar(in);
    ar >> *l.impl_;
  } catch (const std::exception& e) {
    throw Error(ErrorCode::storage, fmt::format("learned template could not be read: {}", e.what()));
  }
  return l;
}

void Learner::export_file(const std::filesystem::path& path) const {
  const std::string bytes = save();
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(ErrorCode::storage, fmt::format("cannot write '{}'", tmp.string()));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw Error(ErrorCode::storage, fmt::format("cannot write '{}'", tmp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error(ErrorCode::storage, fmt::format("cannot replace '{}': {}", path.string(), ec.message()));
}

Learner Learner::import_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, fmt::format("cannot open '{}'", path.string()));
  std::ostringstream s;
  s << in.rdbuf();
  try {
    return load(s.str());
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("{}: {}", path.string(), e.what()));
  }
}

// ---- evaluation ----------------------------------------------------------------------------

Evaluation evaluate(const std::vector<Trace>& cases, const LearnerOptions& options) {
  Evaluation ev;
  const std::size_t n = cases.size();
  const auto fold = static_cast<std::size_t>(std::llround(static_cast<double>(n + 1) / 3.0));
  const std::size_t train = std::min(n, 2 * fold);
  ev.train_cases = train;
  ev.test_cases = n - train;
  if (train == 0) throw Error(ErrorCode::invalid_argument, "evaluation needs at least one training case");
  Learner learner(options);
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < train; ++i) learner.add(cases[i]);
  learner.train();
  ev.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::size_t hits = 0;
  double abs_err = 0;
  for (std::size_t i = train; i < n; ++i) {
    const Trace& t = cases[i];
    Trace prefix;
    prefix.id = t.id;
    prefix.case_type = t.case_type;
    prefix.attributes = t.attributes;
    for (std::size_t k = 1; k < t.steps.size(); ++k) {
      prefix.steps.push_back(t.steps[k - 1]);
      if (k < 2) continue;
      EvaluationPoint p;
      p.case_id = t.id;
      p.prefix_length = k;
      p.actual_next = t.steps[k].activity;
      const std::vector<NextStep> next = learner.next_steps(prefix, 1, false);
      p.predicted_next = next.empty() ? std::string() : next.front().activity;
      p.actual_remaining_s = static_cast<double>((t.steps.back().time - t.steps[k - 1].time).count()) / 1000.0;
      p.predicted_remaining_s = static_cast<double>(learner.completion(prefix).remaining.count()) / 1000.0;
      hits += p.predicted_next == p.actual_next;
      abs_err += std::fabs(p.predicted_remaining_s - p.actual_remaining_s) / 86400.0;
      ev.points.push_back(std::move(p));
    }
  }
  if (!ev.points.empty()) {
    ev.accuracy = static_cast<double>(hits) / static_cast<double>(ev.points.size());
    ev.mae_days = abs_err / static_cast<double>(ev.points.size());
  }
  return ev;
}

}  // namespace acm::learn
