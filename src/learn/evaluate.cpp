// SPDX-License-Identifier: Apache-2.0
// learn/evaluate.cpp - next-step accuracy and remaining-time MAE under the published split of
// Tax et al. 2017 and a temporal split, with Markov baselines on the same points.
#include <acm/error.hpp>
#include <acm/learn.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace acm::learn {
namespace {

/// The most frequent successor ("" = the case ends) after the longest context of up to
/// `order` latest activities (with a start marker, so short prefixes match from their start)
/// seen in training. order 1 without the start marker is the first-order Markov model.
class MarkovBaseline {
 public:
  MarkovBaseline(std::size_t order, bool from_start) : order_(order), from_start_(from_start) {}

  void add(const std::vector<std::string>& acts) {
    const std::vector<std::string> sym = symbols(acts);
    for (std::size_t k = 1; k <= acts.size(); ++k) {
      const std::string& next = k < acts.size() ? acts[k] : end_;
      ++overall_[next];
      for (std::size_t len = 1; len <= std::min(order_, k + (from_start_ ? 1 : 0)); ++len)
        ++table_[key(sym, k + (from_start_ ? 1 : 0), len)][next];
    }
  }

  std::string predict(const std::vector<std::string>& prefix) const {
    const std::vector<std::string> sym = symbols(prefix);
    const std::size_t end = sym.size();
    for (std::size_t len = std::min(order_, end); len >= 1; --len) {
      auto it = table_.find(key(sym, end, len));
      if (it != table_.end()) return best(it->second);
    }
    return best(overall_);
  }

 private:
  std::vector<std::string> symbols(const std::vector<std::string>& acts) const {
    std::vector<std::string> s;
    if (from_start_) s.emplace_back("\x02start");
    s.insert(s.end(), acts.begin(), acts.end());
    return s;
  }
  static std::string key(const std::vector<std::string>& sym, std::size_t end, std::size_t len) {
    std::string k;
    for (std::size_t i = end - len; i < end; ++i) {
      k += sym[i];
      k += '\x1f';
    }
    return k;
  }
  static std::string best(const std::map<std::string, std::uint64_t>& counts) {
    const std::string* b = nullptr;
    std::uint64_t n = 0;
    for (const auto& [a, c] : counts)  // ties: the first in name order ("" = end first)
      if (c > n) b = &a, n = c;
    return b ? *b : std::string();
  }
  std::size_t order_;
  bool from_start_;
  std::string end_;
  std::unordered_map<std::string, std::map<std::string, std::uint64_t>> table_;
  std::map<std::string, std::uint64_t> overall_;
};

std::vector<std::string> activities_of(const Trace& t, std::size_t k) {
  std::vector<std::string> a;
  a.reserve(k);
  for (std::size_t i = 0; i < k; ++i) a.push_back(t.steps[i].activity);
  return a;
}

/// Splits `cases` (in their given order) into training and test cases.
void split_cases(const std::vector<const Trace*>& cases, Split split, Evaluation& ev, std::vector<const Trace*>& train,
                 std::vector<const Trace*>& test) {
  train.clear();
  test.clear();
  const std::size_t n = cases.size();
  const auto fold = static_cast<std::size_t>(std::llround(static_cast<double>(n + 1) / 3.0));
  if (split == Split::published) {
    const std::size_t cut = std::min(n, 2 * fold);
    for (std::size_t i = 0; i < n; ++i) (i < cut ? train : test).push_back(cases[i]);
    return;
  }
  std::vector<TimePoint> starts;
  for (const Trace* t : cases)
    if (!t->steps.empty()) starts.push_back(t->steps.front().time);
  if (starts.empty()) throw Error(ErrorCode::invalid_argument, "evaluation needs cases with steps");
  std::sort(starts.begin(), starts.end());
  ev.cut = starts[std::min(starts.size() - 1, 2 * fold)];
  ev.left_out_cases = 0;
  for (const Trace* t : cases) {
    if (t->steps.empty()) continue;
    if (t->steps.back().time < ev.cut)
      train.push_back(t);
    else if (t->steps.front().time >= ev.cut)
      test.push_back(t);
    else
      ++ev.left_out_cases;
  }
}

}  // namespace

Evaluation evaluate(const std::vector<Trace>& input, const LearnerOptions& options, Split split, bool validation) {
  // Steps in time order (ties keep their order), as the learner sees them.
  std::vector<Trace> cases = input;
  for (Trace& t : cases)
    std::stable_sort(t.steps.begin(), t.steps.end(), [](const Step& a, const Step& b) { return a.time < b.time; });
  Evaluation ev;
  ev.split = split;
  ev.validation = validation;
  std::vector<const Trace*> all, train, test;
  all.reserve(cases.size());
  for (const Trace& t : cases) all.push_back(&t);
  split_cases(all, split, ev, train, test);
  if (validation) {
    // The test cases are never read: the training cases are split again the same way.
    const std::vector<const Trace*> outer = train;
    split_cases(outer, split, ev, train, test);
  }
  ev.train_cases = train.size();
  ev.test_cases = test.size();
  if (train.empty()) throw Error(ErrorCode::invalid_argument, "evaluation needs at least one training case");

  Learner learner(options);
  MarkovBaseline markov(1, false), vom(static_cast<std::size_t>(std::max(1, options.context_order)), true);
  const auto t0 = std::chrono::steady_clock::now();
  for (const Trace* t : train) learner.add(*t);
  learner.train();
  ev.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const Trace* t : train) {
    const std::vector<std::string> a = activities_of(*t, t->steps.size());
    markov.add(a);
    vom.add(a);
  }

  std::size_t hits = 0, markov_hits = 0, vom_hits = 0;
  double abs_err = 0;
  std::size_t done = 0;
  for (const Trace* tp : test) {
    const Trace& t = *tp;
    if (options.progress) options.progress("evaluating", done++, test.size());
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
      // "The case ends" is always a candidate: the model is never told that the case goes on.
      const std::vector<NextStep> next = learner.next_steps(prefix, 1, true);
      p.predicted_next = next.empty() ? std::string() : next.front().activity;
      const std::vector<std::string> acts = activities_of(t, k);
      p.markov_next = markov.predict(acts);
      p.vom_next = vom.predict(acts);
      p.actual_remaining_s = static_cast<double>((t.steps.back().time - t.steps[k - 1].time).count()) / 1000.0;
      p.predicted_remaining_s = static_cast<double>(learner.completion(prefix).remaining.count()) / 1000.0;
      hits += p.predicted_next == p.actual_next;
      markov_hits += p.markov_next == p.actual_next;
      vom_hits += p.vom_next == p.actual_next;
      abs_err += std::fabs(p.predicted_remaining_s - p.actual_remaining_s) / 86400.0;
      ev.points.push_back(std::move(p));
    }
  }
  if (options.progress) options.progress("evaluating", test.size(), test.size());
  const double points = static_cast<double>(ev.points.size());
  if (!ev.points.empty()) {
    ev.accuracy = static_cast<double>(hits) / points;
    ev.mae_days = abs_err / points;
  }
  ev.baselines.push_back({"markov-1", ev.points.empty() ? 0 : static_cast<double>(markov_hits) / points});
  ev.baselines.push_back({"variable-order markov", ev.points.empty() ? 0 : static_cast<double>(vom_hits) / points});
  return ev;
}

}  // namespace acm::learn
