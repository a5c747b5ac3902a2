// SPDX-License-Identifier: Apache-2.0
// learn/learner_impl.hpp - the Learner's state (private to the library): count tables, traces
// kept, fitted models.
#pragma once

#include "learn/features.hpp"
#include "learn/gbdt.hpp"

#include <acm/learn.hpp>

#include <deque>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

namespace acm::learn {

/// Next-activity counts after every prefix seen (a trie), and after every suffix of up to three
/// steps (back-off when the exact prefix is new). Bounded in size: past kMaxNodes trie nodes
/// (suffix keys), new contexts are no longer added, and past kMaxEntries (context, successor)
/// counts in all, new successors are no longer added; known ones keep counting. Memory stays
/// flat however long the stream of cases.
struct CountTables {
  static constexpr std::uint32_t kNoNode = UINT32_MAX;
  static constexpr std::size_t kMaxNodes = std::size_t{1} << 18;    ///< trie nodes, and suffix keys
  static constexpr std::size_t kMaxEntries = std::size_t{1} << 20;  ///< successor counts, in all
  struct Node {
    std::map<std::string, std::uint32_t> child;  // activity -> node index
    std::map<std::string, std::uint64_t> next;   // activity ("" = end) -> cases
    std::uint64_t cases = 0;
  };
  std::vector<Node> trie{Node{}};
  std::map<std::vector<std::string>, std::map<std::string, std::uint64_t>> suffix;
  std::string empty_;
  std::size_t entries = 0;  ///< successor counts held (trie and suffixes), at most kMaxEntries

  void add(const Trace& t);
  /// Counts one more `next` after a context, unless that would add a successor past the bound.
  void count(std::map<std::string, std::uint64_t>& after, const std::string& next);
  /// The counts after the longest matching context, and its length.
  std::pair<const std::map<std::string, std::uint64_t>*, std::size_t> lookup(const Trace& t) const;
};

/// What train() produces; immutable once built, shared with readers.
struct Models {
  std::uint64_t version = 0;
  std::uint64_t trained_on = 0;
  FeatureLayout layout;
  bool recency = false;  ///< trained with recency weights
  gbdt::Ensemble next;   ///< classes: layout.classes
  std::vector<double> quantiles;
  std::vector<gbdt::Ensemble> remaining;  // one per quantile, in days
};

struct Learner::Impl {
  LearnerOptions options;
  mutable std::shared_mutex mutex;
  std::deque<Trace> traces;
  std::uint64_t total_traces = 0, total_steps = 0, since_train = 0;
  CountTables counts;
  std::map<std::string, std::uint64_t> activity_counts;  // bounded like the count tables
  std::deque<double> durations_days;                     // first to last step of every trace (bounded like traces)
  std::shared_ptr<const Models> models;

  void add_locked(Trace t);
  std::shared_ptr<const Models> fit(const Progress& progress = {}) const;
  std::vector<NextStep> next_steps(const Trace& running, std::size_t limit, bool allow_end) const;
  Completion completion(const Trace& running, std::optional<TimePoint> now) const;

  /// The activity a class stands for ("" = end; "\x01" = a rare activity none of which is known).
  std::string class_activity(const Models& m, int cls, const std::map<std::string, std::uint64_t>& after) const;
  std::vector<Evidence> next_reasons(const Models& m, const Trace& running, const std::vector<float>& row,
                                     const std::vector<float>& scores, int k, const std::string& activity,
                                     std::size_t limit) const;
  static void out_reason(std::vector<Evidence>& ev, std::string feature, std::string value, double weight,
                         std::string text);
};

}  // namespace acm::learn
