// SPDX-License-Identifier: Apache-2.0
#include "learn/gbdt.hpp"

#include <acm/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <thread>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace acm::learn::gbdt {
namespace {

struct GH {
  double g = 0, h = 0;
};

}  // namespace

Binned bin_matrix(const Matrix& x, const std::vector<FeatureSpec>& features, int max_bins) {
  if (x.rows == 0) throw Error(ErrorCode::invalid_argument, "learning needs at least one training example");
  if (features.size() != x.cols || x.values.size() != x.rows * x.cols)
    throw Error(ErrorCode::internal, "gbdt: feature list and matrix width differ");
  max_bins = std::clamp(max_bins, 2, 255);
  Binned b;
  b.rows = x.rows;
  b.cols = x.cols;
  b.features = features;
  b.max_bins = max_bins;
  b.bins.resize(x.rows * x.cols);
  b.cuts.resize(x.cols);
  b.bin_count.resize(x.cols);
  b.offset.resize(x.cols);
  std::vector<float> column(x.rows);
  for (std::size_t f = 0; f < x.cols; ++f) {
    const FeatureSpec& spec = features[f];
    std::uint8_t* out = b.bins.data() + f * x.rows;
    if (spec.kind == FeatureKind::categorical) {
      const int cats = std::clamp(spec.categories, 1, 254);
      b.bin_count[f] = cats + 1;
      for (std::size_t r = 0; r < x.rows; ++r) {
        const float v = x.at(r, f);
        const int code = (v >= 0 && v < static_cast<float>(cats)) ? static_cast<int>(v) : cats;
        out[r] = static_cast<std::uint8_t>(code);
      }
      continue;
    }
    for (std::size_t r = 0; r < x.rows; ++r) column[r] = x.at(r, f);
    std::sort(column.begin(), column.end());
    std::vector<float> uniq;
    uniq.reserve(64);
    for (std::size_t r = 0; r < column.size(); ++r)
      if (uniq.empty() || column[r] != uniq.back()) {
        if (uniq.size() < static_cast<std::size_t>(max_bins) + 1)
          uniq.push_back(column[r]);
        else {
          uniq.clear();
          break;
        }
      }
    std::vector<float>& cuts = b.cuts[f];
    if (!uniq.empty() && uniq.size() <= static_cast<std::size_t>(max_bins)) {
      cuts = uniq;
    } else {
      for (int i = 1; i < max_bins; ++i) {
        const std::size_t idx = std::min(
            column.size() - 1, static_cast<std::size_t>(i) * column.size() / static_cast<std::size_t>(max_bins));
        if (cuts.empty() || column[idx] > cuts.back()) cuts.push_back(column[idx]);
      }
      if (cuts.empty() || cuts.back() < column.back()) cuts.push_back(column.back());
    }
    if (cuts.empty()) cuts.push_back(0);
    b.bin_count[f] = static_cast<int>(cuts.size());
    for (std::size_t r = 0; r < x.rows; ++r) {
      const float v = x.at(r, f);
      auto it = std::lower_bound(cuts.begin(), cuts.end(), v);
      std::size_t bin = static_cast<std::size_t>(it - cuts.begin());
      if (bin >= cuts.size()) bin = cuts.size() - 1;
      out[r] = static_cast<std::uint8_t>(bin);
    }
  }
  std::size_t off = 0;
  for (std::size_t f = 0; f < x.cols; ++f) {
    b.offset[f] = off;
    off += static_cast<std::size_t>(b.bin_count[f]);
  }
  b.total_bins = off;
  // Each feature's most frequent bin is its default: histograms derive it from the node's total,
  // so only the other bins are summed row by row (most features here sit in one bin for most
  // rows: counts of rare activities, times since an activity that did not occur).
  b.default_bin.assign(x.cols, 0);
  std::vector<std::uint32_t> count(256);
  for (std::size_t f = 0; f < x.cols; ++f) {
    if (b.bin_count[f] > 1) b.splittable.push_back(f);
    std::fill(count.begin(), count.end(), 0u);
    const std::uint8_t* col = b.bins.data() + f * x.rows;
    for (std::size_t r = 0; r < x.rows; ++r) ++count[col[r]];
    b.default_bin[f] = static_cast<std::uint8_t>(std::max_element(count.begin(), count.end()) - count.begin());
  }
  if (b.total_bins > std::numeric_limits<std::uint32_t>::max())
    throw Error(ErrorCode::internal, "gbdt: too many histogram cells");
  b.row_start.resize(x.rows + 1);
  for (std::size_t r = 0; r < x.rows; ++r) {
    b.row_start[r] = static_cast<std::uint32_t>(b.row_cells.size());
    for (std::size_t f : b.splittable) {
      const std::uint8_t bin = b.bins[f * x.rows + r];
      if (bin != b.default_bin[f]) b.row_cells.push_back(static_cast<std::uint32_t>(b.offset[f] + bin));
    }
    if (b.row_cells.size() > std::numeric_limits<std::uint32_t>::max())
      throw Error(ErrorCode::internal, "gbdt: too many histogram entries");
  }
  b.row_start[x.rows] = static_cast<std::uint32_t>(b.row_cells.size());
  return b;
}

namespace {

struct Split {
  double gain = 0;
  int feature = -1;
  int bin = -1;
};

/// Adds (g, h) to a cell; one 128-bit addition where SSE2 is there.
inline void add_to(GH& cell, double g, double h) {
#if defined(__SSE2__)
  double* c = &cell.g;
  _mm_storeu_pd(c, _mm_add_pd(_mm_loadu_pd(c), _mm_set_pd(h, g)));
#else
  cell.g += g;
  cell.h += h;
#endif
}

/// Grows trees on one binning, reusing its buffers from tree to tree (one builder per thread).
///
/// The rows of a node are a range of `order_`; a split partitions the range in place. A
/// histogram is filled row by row from the sparse cells of the binning (only bins other than
/// each feature's default; the default cell is the node's total minus the others) and only
/// for nodes that may split: the smaller child of a split, the larger one being its parent's
/// histogram minus the smaller's. Children at the depth limit are leaves and need only their
/// totals (sums of g and h over their rows).
class TreeBuilder {
 public:
  TreeBuilder(const Binned& data, const Params& p) : d_(data), p_(p) {
    order_.resize(d_.rows);
    scratch_.resize(d_.rows);
  }

  /// A leaf of the latest tree and its rows.
  struct Leaf {
    std::int32_t node;
    std::size_t begin, end;  ///< a range of rows()
  };
  const std::vector<Leaf>& leaves() const { return leaves_; }
  std::span<const std::uint32_t> rows() const { return order_; }

  /// Grows one tree on gradients (g, h); leaf_of[r] receives the leaf of each row.
  Tree build(std::span<const double> g, std::span<const double> h, std::vector<std::int32_t>& leaf_of) {
    Tree tree;
    leaf_of.resize(d_.rows);
    leaves_.clear();
    std::iota(order_.begin(), order_.end(), 0u);
    level_.clear();
    tree.nodes.push_back(Node{});
    {
      Pending root{0, 0, 0, d_.rows, kNone, {}};
      if (p_.max_depth > 0) {
        root.hist = take_hist();
        root.total = fill(hist_[root.hist], root.begin, root.end, g, h);
      } else {
        root.total = total_of(root.begin, root.end, g, h);
      }
      level_.push_back(root);
    }
    while (!level_.empty()) {
      next_.clear();
      for (const Pending& pend : level_) {
        const GH total = pend.total;
        Node& node = tree.nodes[static_cast<std::size_t>(pend.node)];
        node.cover = static_cast<float>(total.h);
        node.value = static_cast<float>(-total.g / (total.h + p_.lambda) * p_.eta);
        Split s;
        if (pend.hist != kNone && pend.end - pend.begin >= 2) s = best_split(hist_[pend.hist], total);
        if (s.feature < 0) {
          for (std::size_t i = pend.begin; i < pend.end; ++i) leaf_of[order_[i]] = pend.node;
          leaves_.push_back(Leaf{pend.node, pend.begin, pend.end});
          if (pend.hist != kNone) free_.push_back(pend.hist);
          continue;
        }
        const auto f = static_cast<std::size_t>(s.feature);
        const bool categorical = d_.features[f].kind == FeatureKind::categorical;
        // Stable partition of the node's rows: left ones stay in front, in order.
        const std::uint8_t* col = d_.bins.data() + f * d_.rows;
        std::size_t nl = 0, nr = 0;
        for (std::size_t i = pend.begin; i < pend.end; ++i) {
          const std::uint32_t r = order_[i];
          const int bin = col[r];
          if (categorical ? bin == s.bin : bin <= s.bin)
            order_[pend.begin + nl++] = r;
          else
            scratch_[nr++] = r;
        }
        std::copy_n(scratch_.begin(), nr, order_.begin() + static_cast<std::ptrdiff_t>(pend.begin + nl));
        const auto li = static_cast<std::int32_t>(tree.nodes.size());
        tree.nodes.push_back(Node{});
        tree.nodes.push_back(Node{});
        Node& parent = tree.nodes[static_cast<std::size_t>(pend.node)];
        parent.feature = s.feature;
        parent.categorical = categorical;
        parent.threshold = categorical ? static_cast<float>(s.bin) : d_.cuts[f][static_cast<std::size_t>(s.bin)];
        parent.left = li;
        parent.right = li + 1;
        const int depth = pend.depth + 1;
        const std::size_t mid = pend.begin + nl;
        Pending lp{li, depth, pend.begin, mid, kNone, {}};
        Pending rp{li + 1, depth, mid, pend.end, kNone, {}};
        if (depth < p_.max_depth) {
          // Histogram of the smaller child; the other is the parent's minus it.
          Pending& small = nl <= nr ? lp : rp;
          Pending& large = nl <= nr ? rp : lp;
          small.hist = take_hist();
          small.total = fill(hist_[small.hist], small.begin, small.end, g, h);
          large.hist = pend.hist;
          std::vector<GH>& lh = hist_[large.hist];
          const std::vector<GH>& sh = hist_[small.hist];
          for (std::size_t i = 0; i < lh.size(); ++i) {
            lh[i].g -= sh[i].g;
            lh[i].h -= sh[i].h;
          }
          large.total = GH{total.g - small.total.g, total.h - small.total.h};
        } else {
          lp.total = total_of(lp.begin, lp.end, g, h);
          rp.total = total_of(rp.begin, rp.end, g, h);
          free_.push_back(pend.hist);
        }
        next_.push_back(lp);
        next_.push_back(rp);
      }
      std::swap(level_, next_);
    }
    return tree;
  }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  struct Pending {
    std::int32_t node;
    int depth;
    std::size_t begin, end;  // range of order_
    std::size_t hist;        // index into hist_; kNone: a leaf at the depth limit
    GH total;                // sums of g and h over the node's rows
  };

  std::size_t take_hist() {
    if (free_.empty()) {
      hist_.emplace_back(d_.total_bins);
      return hist_.size() - 1;
    }
    const std::size_t i = free_.back();
    free_.pop_back();
    return i;
  }

  GH total_of(std::size_t begin, std::size_t end, std::span<const double> g, std::span<const double> h) const {
    GH t;
    for (std::size_t i = begin; i < end; ++i) add_to(t, g[order_[i]], h[order_[i]]);
    return t;
  }

  /// Fills `hist` with the rows [begin, end) of order_ and returns their total.
  GH fill(std::vector<GH>& hist, std::size_t begin, std::size_t end, std::span<const double> g,
          std::span<const double> h) const {
    std::fill(hist.begin(), hist.end(), GH{});
    const std::uint32_t* start = d_.row_start.data();
    const std::uint32_t* cells = d_.row_cells.data();
    GH* hc = hist.data();
    GH total;
    for (std::size_t i = begin; i < end; ++i) {
      const std::uint32_t r = order_[i];
      const double gr = g[r], hr = h[r];
      add_to(total, gr, hr);
      for (std::uint32_t e = start[r], stop = start[r + 1]; e < stop; ++e) add_to(hc[cells[e]], gr, hr);
    }
    // Each feature's default bin: the total minus its other bins.
    for (std::size_t f : d_.splittable) {
      GH rest;
      const std::size_t off = d_.offset[f];
      for (int b = 0; b < d_.bin_count[f]; ++b)
        add_to(rest, hc[off + static_cast<std::size_t>(b)].g, hc[off + static_cast<std::size_t>(b)].h);
      hc[off + d_.default_bin[f]] = GH{total.g - rest.g, total.h - rest.h};
    }
    return total;
  }

  double score(double g, double h) const { return g * g / (h + p_.lambda); }

  Split best_split(const std::vector<GH>& hist, GH total) const {
    Split best;
    const double parent = score(total.g, total.h);
    for (std::size_t f : d_.splittable) {
      if (f < p_.excluded.size() && p_.excluded[f]) continue;
      const std::size_t off = d_.offset[f];
      const int nb = d_.bin_count[f];
      const bool categorical = d_.features[f].kind == FeatureKind::categorical;
      GH left;
      for (int b = 0; b < nb - 1; ++b) {
        const GH& cell = hist[off + static_cast<std::size_t>(b)];
        if (categorical)
          left = cell;
        else {
          left.g += cell.g;
          left.h += cell.h;
        }
        const double rg = total.g - left.g, rh = total.h - left.h;
        if (left.h < p_.min_child_weight || rh < p_.min_child_weight) continue;
        const double gain = 0.5 * (score(left.g, left.h) + score(rg, rh) - parent);
        if (gain > best.gain + 1e-9) {
          best.gain = gain;
          best.feature = static_cast<int>(f);
          best.bin = b;
        }
      }
    }
    return best;
  }

  const Binned& d_;
  const Params& p_;
  std::vector<std::uint32_t> order_, scratch_;
  std::vector<std::vector<GH>> hist_;
  std::vector<std::size_t> free_;
  std::vector<Pending> level_, next_;
  std::vector<Leaf> leaves_;
};

/// Internal node values become the cover-weighted mean of their children (bottom-up), so
/// path contributions add up to the leaf.
void settle_internal_values(Tree& t) {
  for (std::size_t i = t.nodes.size(); i-- > 0;) {
    Node& n = t.nodes[i];
    if (n.feature < 0) continue;
    const Node& l = t.nodes[static_cast<std::size_t>(n.left)];
    const Node& r = t.nodes[static_cast<std::size_t>(n.right)];
    const float c = l.cover + r.cover;
    n.value = c > 0 ? (l.value * l.cover + r.value * r.cover) / c : 0.5f * (l.value + r.value);
  }
}

void check_training_input(const Matrix& x, std::size_t labels, const std::vector<FeatureSpec>& features) {
  if (x.rows == 0) throw Error(ErrorCode::invalid_argument, "learning needs at least one training example");
  if (x.values.size() != x.rows * x.cols || labels != x.rows || features.size() != x.cols)
    throw Error(ErrorCode::internal, "gbdt: inconsistent training input sizes");
}

/// The alpha quantile of (value, weight) pairs.
double weighted_quantile(std::vector<std::pair<double, double>>& v, double alpha) {
  if (v.empty()) return 0;
  if (std::all_of(v.begin(), v.end(), [](const auto& p) { return p.second == 1.0; })) {
    // Unit weights: the value at rank floor(alpha * n), the one the cumulative walk below
    // stops at (its sums of ones are exact), found without sorting everything.
    const auto n = static_cast<double>(v.size());
    const auto k = std::min(v.size() - 1, static_cast<std::size_t>(std::floor(alpha * n)));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k].first;
  }
  std::sort(v.begin(), v.end());
  double total = 0;
  for (const auto& [x, w] : v) total += w;
  double acc = 0;
  for (const auto& [x, w] : v) {
    acc += w;
    if (acc > alpha * total) return x;
  }
  return v.back().first;
}

void check_binned_input(const Binned& x, std::size_t labels) {
  if (x.rows == 0) throw Error(ErrorCode::invalid_argument, "learning needs at least one training example");
  if (x.bins.size() != x.rows * x.cols || labels != x.rows || x.features.size() != x.cols)
    throw Error(ErrorCode::internal, "gbdt: inconsistent training input sizes");
}

void check_weights(std::span<const float> w, std::size_t rows) {
  if (!w.empty() && w.size() != rows) throw Error(ErrorCode::internal, "gbdt: one weight per row expected");
}

}  // namespace

void softmax(std::span<float> s) {
  if (s.empty()) return;
  const float m = *std::max_element(s.begin(), s.end());
  float sum = 0;
  for (float& v : s) sum += (v = std::exp(v - m));
  for (float& v : s) v /= sum;
}

void Ensemble::predict(std::span<const float> row, std::span<float> out) const {
  for (int k = 0; k < outputs; ++k) out[static_cast<std::size_t>(k)] = base[static_cast<std::size_t>(k)];
  for (std::size_t t = 0; t < trees.size(); ++t) {
    const std::vector<Node>& nodes = trees[t].nodes;
    std::size_t i = 0;
    while (nodes[i].feature >= 0) {
      const Node& n = nodes[i];
      const float v = row[static_cast<std::size_t>(n.feature)];
      const bool left = n.categorical ? v == n.threshold : v <= n.threshold;
      i = static_cast<std::size_t>(left ? n.left : n.right);
    }
    out[t % static_cast<std::size_t>(outputs)] += nodes[i].value;
  }
}

std::vector<float> Ensemble::contributions(std::span<const float> row, int k) const {
  std::vector<float> c(features.size() + 1, 0.0f);
  c.back() = base[static_cast<std::size_t>(k)];
  for (std::size_t t = static_cast<std::size_t>(k); t < trees.size(); t += static_cast<std::size_t>(outputs)) {
    const std::vector<Node>& nodes = trees[t].nodes;
    std::size_t i = 0;
    c.back() += nodes[0].value;
    while (nodes[i].feature >= 0) {
      const Node& n = nodes[i];
      const float v = row[static_cast<std::size_t>(n.feature)];
      const bool left = n.categorical ? v == n.threshold : v <= n.threshold;
      const std::size_t next = static_cast<std::size_t>(left ? n.left : n.right);
      c[static_cast<std::size_t>(n.feature)] += nodes[next].value - n.value;
      i = next;
    }
  }
  return c;
}

Ensemble train_softmax(const Matrix& x, std::span<const int> labels, int classes,
                       const std::vector<FeatureSpec>& features, const Params& params, std::span<const float> weights) {
  check_training_input(x, labels.size(), features);
  return train_softmax(bin_matrix(x, features, params.max_bins), labels, classes, params, weights);
}

Ensemble train_softmax(const Binned& data, std::span<const int> labels, int classes, const Params& params,
                       std::span<const float> weights) {
  check_binned_input(data, labels.size());
  check_weights(weights, data.rows);
  auto w_of = [&](std::size_t r) { return weights.empty() ? 1.0 : static_cast<double>(weights[r]); };
  if (classes < 2) throw Error(ErrorCode::invalid_argument, "classification needs at least two classes");
  const std::size_t n = data.rows;
  const auto K = static_cast<std::size_t>(classes);
  Ensemble e;
  e.outputs = classes;
  e.features = data.features;
  // Start from the log of the class priors.
  std::vector<double> prior(K, 1.0);
  double prior_total = static_cast<double>(K);
  for (std::size_t r = 0; r < n; ++r) {
    if (labels[r] < 0 || labels[r] >= classes) throw Error(ErrorCode::internal, "gbdt: label out of range");
    prior[static_cast<std::size_t>(labels[r])] += w_of(r);
    prior_total += w_of(r);
  }
  for (std::size_t k = 0; k < K; ++k) e.base.push_back(static_cast<float>(std::log(prior[k] / prior_total)));
  std::vector<float> scores(n * K);
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t k = 0; k < K; ++k) scores[r * K + k] = e.base[k];
  std::vector<float> prob(n * K);
  const unsigned threads =
      static_cast<unsigned>(std::min<std::size_t>(K, std::max(1u, std::min(2u, std::thread::hardware_concurrency()))));
  std::vector<std::vector<double>> g(K, std::vector<double>(n)), h(K, std::vector<double>(n));
  std::vector<std::vector<std::int32_t>> leaf_of(K);
  std::vector<Tree> round_trees(K);
  // One builder per thread, kept across rounds (its buffers are reused).
  std::vector<TreeBuilder> builders;
  builders.reserve(threads);
  for (unsigned t = 0; t < threads; ++t) builders.emplace_back(data, params);
  for (int round = 0; round < params.rounds; ++round) {
    prob = scores;
    for (std::size_t r = 0; r < n; ++r) softmax(std::span<float>(prob.data() + r * K, K));
    auto grow = [&](std::size_t k, TreeBuilder& builder) {
      for (std::size_t r = 0; r < n; ++r) {
        const double p = prob[r * K + k];
        const double w = w_of(r);
        g[k][r] = w * (p - (static_cast<std::size_t>(labels[r]) == k ? 1.0 : 0.0));
        h[k][r] = w * std::max(2.0 * p * (1.0 - p), 1e-6);
      }
      round_trees[k] = builder.build(g[k], h[k], leaf_of[k]);
    };
    if (threads > 1) {
      std::vector<std::thread> pool;
      for (unsigned t = 1; t < threads; ++t)
        pool.emplace_back([&, t] {
          for (std::size_t k = t; k < K; k += threads) grow(k, builders[t]);
        });
      for (std::size_t k = 0; k < K; k += threads) grow(k, builders[0]);
      for (std::thread& th : pool) th.join();
    } else {
      for (std::size_t k = 0; k < K; ++k) grow(k, builders[0]);
    }
    for (std::size_t k = 0; k < K; ++k) {
      const std::vector<Node>& nodes = round_trees[k].nodes;
      for (std::size_t r = 0; r < n; ++r) scores[r * K + k] += nodes[static_cast<std::size_t>(leaf_of[k][r])].value;
      settle_internal_values(round_trees[k]);
      e.trees.push_back(std::move(round_trees[k]));
    }
    if (params.on_round) params.on_round(round + 1, params.rounds);
  }
  return e;
}

Ensemble train_quantile(const Matrix& x, std::span<const float> targets, double alpha,
                        const std::vector<FeatureSpec>& features, const Params& params,
                        std::span<const float> weights) {
  check_training_input(x, targets.size(), features);
  return train_quantile(bin_matrix(x, features, params.max_bins), targets, alpha, params, weights);
}

Ensemble train_quantile(const Binned& data, std::span<const float> targets, double alpha, const Params& params,
                        std::span<const float> weights) {
  check_binned_input(data, targets.size());
  check_weights(weights, data.rows);
  auto w_of = [&](std::size_t r) { return weights.empty() ? 1.0 : static_cast<double>(weights[r]); };
  if (!(alpha > 0 && alpha < 1)) throw Error(ErrorCode::invalid_argument, "a quantile must lie in (0, 1)");
  const std::size_t n = data.rows;
  Ensemble e;
  e.outputs = 1;
  e.features = data.features;
  std::vector<std::pair<double, double>> tmp;
  tmp.reserve(n);
  for (std::size_t r = 0; r < n; ++r) tmp.emplace_back(targets[r], w_of(r));
  e.base.push_back(static_cast<float>(weighted_quantile(tmp, alpha)));
  std::vector<double> pred(n, e.base[0]), g(n), h(n, 1.0);
  for (std::size_t r = 0; r < n; ++r) h[r] = w_of(r);
  std::vector<std::int32_t> leaf_of;
  TreeBuilder builder(data, params);
  for (int round = 0; round < params.rounds; ++round) {
    for (std::size_t r = 0; r < n; ++r) g[r] = w_of(r) * (targets[r] > pred[r] ? -alpha : 1.0 - alpha);
    Tree t = builder.build(g, h, leaf_of);
    // Leaf values: the alpha quantile of the residuals of the rows in the leaf.
    const std::span<const std::uint32_t> rows = builder.rows();
    for (const TreeBuilder::Leaf& leaf : builder.leaves()) {
      tmp.clear();
      for (std::size_t i = leaf.begin; i < leaf.end; ++i) {
        const std::uint32_t r = rows[i];
        tmp.emplace_back(targets[r] - pred[r], w_of(r));
      }
      t.nodes[static_cast<std::size_t>(leaf.node)].value =
          static_cast<float>(params.eta * weighted_quantile(tmp, alpha));
    }
    for (std::size_t r = 0; r < n; ++r) pred[r] += t.nodes[static_cast<std::size_t>(leaf_of[r])].value;
    settle_internal_values(t);
    e.trees.push_back(std::move(t));
    if (params.on_round) params.on_round(round + 1, params.rounds);
  }
  return e;
}

void Ensemble::validate(std::size_t width, int expected_outputs) const {
  auto bad = [](const std::string& what) { throw Error(ErrorCode::storage, "learned template: " + what); };
  if (outputs != expected_outputs)
    bad(fmt::format("model has {} outputs where {} are expected", outputs, expected_outputs));
  if (base.size() != static_cast<std::size_t>(outputs))
    bad(fmt::format("model has {} base scores for {} outputs", base.size(), outputs));
  if (trees.size() % static_cast<std::size_t>(outputs) != 0)
    bad(fmt::format("model has {} trees, not a multiple of its {} outputs", trees.size(), outputs));
  if (features.size() != width) bad(fmt::format("model reads {} columns, the layout has {}", features.size(), width));
  for (float b : base)
    if (!std::isfinite(b)) bad("model has a base score that is not a finite number");
  for (std::size_t t = 0; t < trees.size(); ++t) {
    const std::vector<Node>& nodes = trees[t].nodes;
    if (nodes.empty()) bad(fmt::format("tree {} has no nodes", t));
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const Node& nd = nodes[i];
      if (!std::isfinite(nd.value) || !std::isfinite(nd.threshold) || !std::isfinite(nd.cover))
        bad(fmt::format("tree {} node {} holds a number that is not finite", t, i));
      if (nd.feature == -1) continue;
      if (nd.feature < -1 || static_cast<std::size_t>(nd.feature) >= width)
        bad(fmt::format("tree {} node {} splits on column {} of {}", t, i, nd.feature, width));
      const auto in_tree = [&](std::int32_t c) {
        return c > static_cast<std::int32_t>(i) && static_cast<std::size_t>(c) < nodes.size();
      };
      if (!in_tree(nd.left) || !in_tree(nd.right))
        bad(fmt::format("tree {} node {} has children {} and {} outside the tree ({} nodes)", t, i, nd.left, nd.right,
                        nodes.size()));
      if (nd.categorical != (features[static_cast<std::size_t>(nd.feature)].kind == FeatureKind::categorical))
        bad(fmt::format("tree {} node {} splits column {} as the wrong kind", t, i, nd.feature));
    }
  }
}

}  // namespace acm::learn::gbdt
