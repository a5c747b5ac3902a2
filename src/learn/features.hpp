// SPDX-License-Identifier: Apache-2.0
// learn/features.hpp - turning a prefix of a trace into a row of model features.
#pragma once

#include "learn/gbdt.hpp"

#include <acm/learn.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace acm::learn {

/// Codes for the values of one categorical input (activities, resources, attribute values).
/// Frequent values get codes 0..n-1 in descending frequency; the rest share code n ("other").
struct Codebook {
  std::map<std::string, int, std::less<>> codes;
  std::vector<std::string> values;
  int code(std::string_view v) const {
    auto it = codes.find(v);
    return it == codes.end() ? static_cast<int>(values.size()) : it->second;
  }
  int size() const { return static_cast<int>(values.size()) + 1; }  // with "other"
  template <class A>
  void serialize(A& a, unsigned /*version*/) {
    a& codes& values;
  }
};

/// The column layout fixed when the models were trained.
struct FeatureLayout {
  Codebook activities;                 ///< activity -> code
  Codebook resources;
  std::vector<std::string> attribute_names;
  std::vector<Codebook> attribute_values;
  bool calendar_time = true;
  std::vector<gbdt::FeatureSpec> specs;

  // Column positions.
  std::size_t c_last = 0, c_counts = 0, c_steps = 0, c_elapsed = 0, c_since = 0, c_weekday = 0, c_hour = 0,
              c_date = 0, c_start = 0, c_resource = 0, c_attrs = 0;

  template <class A>
  void serialize(A& a, unsigned /*version*/) {
    a& activities& resources& attribute_names& attribute_values& calendar_time& specs;
    a& c_last& c_counts& c_steps& c_elapsed& c_since& c_weekday& c_hour& c_date& c_start& c_resource& c_attrs;
  }

  /// Builds the layout from the training traces.
  static FeatureLayout build(const std::vector<const Trace*>& traces, const LearnerOptions& options);
  std::size_t width() const { return specs.size(); }
  /// Calls `row(k, values)` for every prefix length k = 1..L of the trace (values has width()).
  void for_each_prefix(const Trace& t, const std::function<void(std::size_t, const std::vector<float>&)>& row) const;
  /// The features of the whole trace (k = L).
  std::vector<float> features(const Trace& t) const;
  /// A readable value of column `c` in `row`.
  std::string describe(std::size_t c, const std::vector<float>& row) const;
};

}  // namespace acm::learn
