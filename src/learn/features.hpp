// SPDX-License-Identifier: Apache-2.0
// learn/features.hpp - turning a prefix of a trace into a row of model features: codebooks with
// explicit "rare" and "none" codes, a variable-order context table (what followed the same last
// steps in past cases), and the column layout.
#pragma once

#include "learn/gbdt.hpp"

#include <acm/learn.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace acm::learn {

/// Codes for the values of one categorical input (activities, resources, attribute values).
/// Frequent values get codes 0..n-1 in descending frequency; every other value (rare in
/// training, or never seen) shares code n ("rare or unseen"); code n + 1 is "none" (no value:
/// an attribute the case lacks, a step before the first). A lookup never fails.
struct Codebook {
  std::unordered_map<std::string, int> codes;
  std::vector<std::string> values;
  int code(const std::string& v) const {
    auto it = codes.find(v);
    return it == codes.end() ? rare() : it->second;
  }
  int rare() const { return static_cast<int>(values.size()); }
  int none() const { return static_cast<int>(values.size()) + 1; }
  int size() const { return static_cast<int>(values.size()) + 2; }
  /// Rebuilds `codes` from `values` (after loading).
  void index();
};

/// What followed a context (the last j steps of a prefix, or the whole prefix from its start
/// when it is short) in the training cases.
struct ContextStats {
  std::uint32_t cases = 0;       ///< prefixes with this context
  float weight = 0;              ///< their recency weights, summed
  std::uint32_t continuing = 0;  ///< of them, prefixes that were not the end of their case
  float remaining_days = 0;      ///< sum of the remaining time of the continuing ones
  /// (class, count, recency-weighted count), by class.
  struct Next {
    std::uint16_t cls = 0;
    std::uint32_t count = 0;
    float weight = 0;
  };
  std::vector<Next> next;
};

/// Contexts of up to `order` symbols (activity codes; symbol kStart before the first step).
struct ContextTable {
  static constexpr int kStart = 255;
  static constexpr int kMaxOrder = 6;
  static constexpr std::size_t kMaxContexts = std::size_t{1} << 20;  ///< memory bound
  int order = 5;
  std::uint32_t min_support = 3;
  std::unordered_map<std::uint64_t, ContextStats> table;

  static std::uint64_t key(const std::vector<int>& symbols, std::size_t end, std::size_t len);
  /// The longest context of the prefix symbols[0..end) with at least min_support cases, not
  /// counting those of `minus` (out-of-fold statistics for training rows: a row must not see
  /// its own outcome, not even as a leave-one-out count, which leaks the label).
  struct Match {
    const ContextStats* stats = nullptr;
    const ContextStats* minus = nullptr;  ///< to subtract, if any
    std::size_t length = 0;               ///< symbols matched (including the start marker, if any)
    bool from_start = false;
  };
  Match longest(const std::vector<int>& symbols, std::size_t end, const ContextTable* minus) const;
};

/// When each (last activity, next class) transition of the training cases became known (the
/// time of the next step, or of the last step for "the case ends"), for features of recent
/// behaviour: what followed the same last step in the latest cases before a prefix's last
/// step (a sliding window). Only transitions known strictly before that time count, so a
/// training row never sees its own outcome, nor anything later.
struct RecentIndex {
  int symbols = 0, classes = 0;
  struct Transition {
    std::int64_t known = 0;  ///< ms
    std::uint16_t cls = 0;
  };
  std::vector<std::vector<Transition>> after;  ///< by symbol, in time order
  /// The transitions after a pair of steps (the one before the last, or `symbols` for "none",
  /// and the last), by pair_key(), each in time order.
  std::unordered_map<std::uint64_t, std::vector<Transition>> after_pair;
  std::uint64_t pair_key(int before, int last) const {
    return static_cast<std::uint64_t>(before) * static_cast<std::uint64_t>(symbols + 1) +
           static_cast<std::uint64_t>(last);
  }
  /// Counts per class (out has `classes` entries) of the last `n` transitions after `symbol`
  /// known before `to`; returns how many there were.
  double count(int symbol, std::int64_t to, std::size_t n, float* out) const;
  /// As count(), after the pair (before, last).
  double count_pair(int before, int last, std::int64_t to, std::size_t n, float* out) const;

  /// The remaining time of every training prefix (its last one too: 0) by its last activity,
  /// stamped with the end of its case (when that remaining time became known), in that order.
  struct Ended {
    std::int64_t known = 0;  ///< ms: the end of the case
    float days = 0;          ///< time left after the prefix's last step
  };
  std::vector<std::vector<Ended>> ended_after;  ///< by symbol (empty: no remaining-time features)
  /// The lower quartile, median and upper quartile (out[0..2]) of the remaining times of the
  /// last `n` prefixes ending with `symbol` whose case ended strictly before `to`: a case
  /// asking at `to` is never among them (it has not ended). Returns how many there were
  /// (none: out is -1, -1, -1).
  double remaining(int symbol, std::int64_t to, std::size_t n, float* out) const;
};

/// The column layout fixed when the models were trained.
struct FeatureLayout {
  Codebook activities;  ///< activity -> code (at most kMaxCategories, the rest rare)
  Codebook resources;
  std::vector<std::string> attribute_names;
  std::vector<Codebook> attribute_values;
  bool calendar_time = true;
  int counted = 0;  ///< activities (codes 0..counted-1) with count / time-since columns
  int classes = 0;  ///< next-step classes: `counted` activities, "rare", "end"
  std::vector<gbdt::FeatureSpec> specs;
  ContextTable context;
  std::size_t recent_cases = 50;  ///< window of the recent-behaviour features (0: none)
  std::size_t recent_times = 25;  ///< window of the recent remaining-time features (0: none)
  RecentIndex recent;

  // Column positions.
  std::size_t c_last = 0, c_steps = 0, c_counts = 0, c_rare_count = 0, c_distinct = 0, c_repeat_last = 0,
              c_since_each = 0, c_elapsed = 0, c_since = 0, c_ctx_len = 0, c_ctx_support = 0, c_ctx_probs = 0,
              c_ctx_remaining = 0, c_recent_count = 0, c_recent_probs = 0, c_pair_count = 0, c_pair_probs = 0,
              c_rt_count = 0, c_rt_q = 0, c_weekday = 0, c_hour = 0, c_resource = 0, c_attrs = 0;

  /// Builds the codebooks and the layout from the training traces (the context table is
  /// filled by add_context()).
  static FeatureLayout build(const std::vector<const Trace*>& traces, const LearnerOptions& options);
  void place_columns();
  std::size_t width() const { return specs.size(); }
  /// The recent remaining-time columns (read by the remaining-time models only).
  bool is_remaining_column(std::size_t c) const { return recent_times > 0 && c >= c_rt_count && c < c_rt_q + 3; }

  /// The class of an activity ("" = end).
  int class_of(const std::string& activity) const;
  int rare_class() const { return counted; }
  int end_class() const { return counted + 1; }

  /// Indexes the transitions of the training traces for the recent-behaviour features.
  void build_recent(const std::vector<const Trace*>& traces);
  /// Adds a training trace to the context table (and to `fold`, its fold's own table), with its
  /// recency weight.
  void add_context(const Trace& t, float weight, ContextTable* fold = nullptr);
  /// Calls `row(k, values)` for every prefix length k = 1..L of the trace (values has width()).
  /// `minus`: the table of the training trace's fold, whose counts the context features leave
  /// out (out-of-fold statistics).
  void for_each_prefix(const Trace& t, const ContextTable* minus,
                       const std::function<void(std::size_t, const std::vector<float>&)>& row) const;
  /// The features of the whole trace (k = L), for a running case.
  std::vector<float> features(const Trace& t) const;
  /// The context match of a running case (not leaving anything out).
  ContextTable::Match context_of(const Trace& t) const;
  std::vector<int> symbols(const Trace& t) const;
};

}  // namespace acm::learn
