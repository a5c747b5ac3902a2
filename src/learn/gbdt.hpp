// SPDX-License-Identifier: Apache-2.0
// learn/gbdt.hpp - small gradient-boosted decision trees: softmax classification and quantile
// regression over numeric and categorical features, with per-feature contributions.
//
// Private to the library. Why hand-written rather than XGBoost: docs/design.md, "Learning".
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace acm::learn::gbdt {

enum class FeatureKind : std::uint8_t {
  numeric,      ///< ordered; split "x <= threshold"
  categorical,  ///< integer codes 0..n-1; split "x == code" (one category against the rest)
};

struct FeatureSpec {
  std::string name;
  FeatureKind kind = FeatureKind::numeric;
  int categories = 0;  ///< categorical only: number of codes (values outside are "other")
};

struct Params {
  int rounds = 60;
  int max_depth = 4;
  double eta = 0.1;
  double lambda = 1.0;            ///< L2 regularisation of leaf weights
  double min_child_weight = 1.0;  ///< minimum hessian sum in a child
  int max_bins = 64;              ///< numeric features are cut into at most this many bins
  /// Columns the trees never split on (per column, non-zero = left out; empty: none), so that
  /// models fitted on one binned matrix may read different columns.
  std::vector<std::uint8_t> excluded;
  /// Called after every round with (rounds done, rounds), on the calling thread (may be empty).
  std::function<void(int, int)> on_round;
};

/// A row-major matrix of feature values (categorical values are codes stored as floats).
struct Matrix {
  std::size_t rows = 0, cols = 0;
  std::vector<float> values;
  float at(std::size_t r, std::size_t c) const { return values[r * cols + c]; }
  std::span<const float> row(std::size_t r) const { return {values.data() + r * cols, cols}; }
};

struct Node {
  std::int32_t feature = -1;  ///< -1: leaf
  bool categorical = false;
  float threshold = 0;  ///< numeric: go left when x <= threshold; categorical: when x == threshold
  std::int32_t left = -1, right = -1;
  float value = 0;  ///< leaf weight; internal nodes: the cover-weighted mean of their leaves
  float cover = 0;  ///< hessian sum of the training rows that reached the node
};

struct Tree {
  std::vector<Node> nodes;  ///< nodes[0] is the root
};

/// An additive model: for output k, score = base[k] + sum of trees[r * outputs + k].
struct Ensemble {
  int outputs = 1;
  std::vector<float> base;
  std::vector<Tree> trees;
  std::vector<FeatureSpec> features;  ///< what the columns are, for explanations

  /// Checks a loaded ensemble before use: `outputs` matches `base` and the tree count, every
  /// node's feature is a column of a row of `width`, children lie after their parent inside
  /// the tree (so every path ends), values are finite. Throws Error(storage) naming the problem.
  void validate(std::size_t width, int expected_outputs) const;

  bool empty() const { return trees.empty(); }
  /// Raw scores, one per output.
  void predict(std::span<const float> row, std::span<float> out) const;
  /// Per-feature contributions to output `k` (size = features + 1: the last entry is the
  /// bias); they sum to the raw score. Saabas' method: each split on the path credits its
  /// feature with the change of the expected value.
  std::vector<float> contributions(std::span<const float> row, int k) const;
};
/// Feature values cut into bins once (numeric values by quantile cut points, at most
/// `max_bins`; categories by code, one extra bin for codes outside the declared range), stored
/// column by column (to partition rows), and row by row as the cells of the bins other than each
/// feature's most frequent one (to fill histograms), so that every model fitted on the same
/// rows shares one binning.
struct Binned {
  std::size_t rows = 0, cols = 0;
  std::vector<std::uint8_t> bins;        ///< column-major: bins[f * rows + r]
  std::vector<std::vector<float>> cuts;  ///< numeric: bin b holds x <= cuts[f][b]
  std::vector<int> bin_count;            ///< per feature
  std::vector<std::size_t> offset;       ///< per feature, into a histogram
  std::size_t total_bins = 0;
  std::vector<FeatureSpec> features;
  int max_bins = 0;                       ///< the bound the binning was made with
  std::vector<std::size_t> splittable;    ///< the features with more than one bin
  std::vector<std::uint8_t> default_bin;  ///< per feature: its most frequent bin
  /// Row by row, the histogram cells (offset + bin) of the splittable features whose bin is not
  /// their default: row r's are row_cells[row_start[r] .. row_start[r + 1]).
  std::vector<std::uint32_t> row_start, row_cells;
};
/// Bins `x` (Error(internal) when `features` does not describe its columns).
Binned bin_matrix(const Matrix& x, const std::vector<FeatureSpec>& features, int max_bins);

/// Multiclass classification with the softmax loss; labels in [0, classes). `weights`: one per
/// row (empty: all 1), e.g. recency weights.
Ensemble train_softmax(const Matrix& x, std::span<const int> labels, int classes,
                       const std::vector<FeatureSpec>& features, const Params& params,
                       std::span<const float> weights = {});
/// Regression of the `alpha` quantile (pinball loss); leaf values are refreshed to the
/// quantile of the residuals that reach them, as for gradient boosting with absolute loss.
Ensemble train_quantile(const Matrix& x, std::span<const float> targets, double alpha,
                        const std::vector<FeatureSpec>& features, const Params& params,
                        std::span<const float> weights = {});

/// The same on rows binned once (`params.max_bins` is not read: the binning's bound holds).
Ensemble train_softmax(const Binned& x, std::span<const int> labels, int classes, const Params& params,
                       std::span<const float> weights = {});
Ensemble train_quantile(const Binned& x, std::span<const float> targets, double alpha, const Params& params,
                        std::span<const float> weights = {});

/// Softmax of raw scores, in place.
void softmax(std::span<float> scores);

}  // namespace acm::learn::gbdt
