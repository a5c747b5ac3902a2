// SPDX-License-Identifier: Apache-2.0
// acm/learn.hpp - learned templates: what usually comes next, how long it takes, what plans
// similar cases followed, and recurring ad-hoc work proposed as new fragments.
//
// A Learner takes the histories of closed cases as traces (from the engine's store, or from
// imported CSV/XES logs), keeps count tables up to date as each case arrives, and fits
// gradient-boosted trees for the next step and the remaining time on train(). Every
// prediction carries its evidence. See docs/learning.md.
#pragma once

#include <acm/definition.hpp>
#include <acm/json.hpp>
#include <acm/time.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acm {
class Engine;
struct CaseInfo;
struct Event;
}  // namespace acm

namespace acm::eventlog {
struct LogCase;
}  // namespace acm::eventlog

namespace acm::learn {

using Attributes = std::vector<std::pair<std::string, std::string>>;

/// Progress of a long computation: (phase, done, total), e.g. ("next-step trees", 12, 40).
using Progress = std::function<void(std::string_view phase, std::size_t done, std::size_t total)>;

/// One thing that happened in a case: a task completed, a milestone reached, a fragment added.
struct Step {
  std::string activity;
  TimePoint time{};
  std::string resource;  ///< who did it ("" if unknown)
  bool ad_hoc = false;   ///< an ad-hoc task (not from a fragment): candidate for fragment capture
  Attributes attributes; ///< event attributes (the latest value of each counts as the case's)
};

/// The history of one case, in time order.
struct Trace {
  std::string id;
  std::string case_type;  ///< "" for bare cases and imported logs
  Attributes attributes;  ///< case attributes (subject attributes, log case attributes)
  std::vector<Step> steps;
};

struct LearnerOptions {
  /// Boosted trees for the next step: rounds, depth, learning rate.
  int next_rounds = 40;
  int next_depth = 4;
  double next_eta = 0.15;
  /// Boosted trees for the remaining time (one model per quantile), and the fewest training
  /// prefixes a leaf of theirs may hold, as a share of the prefixes of the fit (at least one);
  /// chosen on an inner validation split of the training cases (docs/learning.md, "Evaluation").
  int time_rounds = 100;
  int time_depth = 4;
  double time_eta = 0.1;
  double time_min_leaf_share = 0.01;
  std::vector<double> quantiles = {0.1, 0.5, 0.9};
  /// Attribute names used as features ("*" = every attribute seen in training).
  std::vector<std::string> attributes = {"*"};
  /// Also use the weekday and hour of the last step (never an absolute date: docs/learning.md).
  bool calendar_time = true;
  /// Attribute values seen fewer times than this are pooled as "rare" (unseen ones at
  /// prediction too).
  int min_value_count = 5;
  /// Train again on its own after this many new traces (0: only when train() is called).
  std::size_t retrain_every = 0;
  /// Traces kept for retraining (oldest dropped first): bounds the learner's memory. Count
  /// tables keep counting every trace (their number of contexts is bounded).
  std::size_t max_traces = 50000;
  /// Fragment capture: a run of ad-hoc tasks recurring in at least this many cases...
  std::size_t capture_min_cases = 3;
  /// ...of two to this many tasks.
  std::size_t capture_max_tasks = 6;
  /// Drift: a training case counts 0.5^(age / half-life), its age measured from the end of the
  /// latest training case to its own end (0: every case counts the same).
  double recency_half_life_days = 0;
  /// Longest context (latest steps, or the whole prefix when short) whose successors are
  /// features, and the past cases it needs to count.
  int context_order = 5;
  int context_min_support = 3;
  /// Recent behaviour (drift): what followed the same last step in the latest this many
  /// training cases before a prefix's last step (only what was known by then), as features
  /// (0: none).
  std::size_t recent_cases = 50;
  /// Recent durations (drift): the quartiles of the time that was left after the same last
  /// step in the latest this many training prefixes whose case had ended before the prefix's
  /// last step, as features of the remaining-time models only (0: none).
  std::size_t recent_times = 25;
  /// Progress of train() and evaluate(), on the thread that calls them; may be empty. Not
  /// saved with the learner.
  Progress progress;
};

/// Why a prediction was made: a feature, its value in the case, how much it pushed the
/// prediction (percentage points of probability for next steps, days for the remaining time),
/// and the reason in an agent's words, e.g. "in 2,571 similar past cases, 78 % went on to
/// Resolve ticket (+31 pp)".
struct Evidence {
  std::string feature;  ///< e.g. "last activity", "similar past cases", "attribute product"
  std::string value;    ///< the case's value, e.g. "Resolve ticket", "3.2 d"
  double weight = 0;
  std::string text;
};

struct NextStep {
  std::string activity;    ///< "" = the case ends here
  double probability = 0;  ///< from the boosted model (count tables before the first train())
  std::uint64_t support = 0;  ///< past cases with the matched prefix that went on to this activity
  std::size_t matched = 0;    ///< length of the prefix (its latest steps) matched in the count tables
  std::vector<Evidence> evidence;  ///< strongest features first
};

struct Completion {
  Duration remaining{};         ///< median remaining time after the last step
  std::vector<std::pair<double, Duration>> quantiles;  ///< e.g. {0.1, ..}, {0.5, ..}, {0.9, ..}
  TimePoint expected{};         ///< last step + remaining, not before `now`
  std::uint64_t support = 0;    ///< training traces
  std::vector<Evidence> evidence;
};

struct PlanSuggestion {
  std::vector<std::string> steps;   ///< the activity sequence
  std::uint64_t support = 0;        ///< similar past cases that followed it
  double share = 0;                 ///< support / similar cases
  Duration median_duration{};       ///< first to last step
  Attributes matched;               ///< attributes the similar cases share with the new case
  std::vector<std::string> examples;  ///< up to five case ids
};

struct FragmentProposal {
  std::string id;                    ///< suggested fragment id, e.g. "captured-1"
  std::vector<std::string> tasks;    ///< in their usual order
  /// Ordering as a graph: (a, b) = a came before b in every supporting case. Tasks with no
  /// path between them ran in either order (parallel).
  std::vector<std::pair<std::string, std::string>> order;
  std::vector<Duration> estimates;   ///< median time each task took (from the previous step)
  std::vector<std::string> cases;    ///< the cases it came from
  /// The proposal as a fragment definition (docs/definitions.md), ready for approval.
  FragmentDef definition() const;
};

/// How evaluate() splits the cases (docs/learning.md).
enum class Split : std::uint8_t {
  published,  ///< Tax et al. 2017: case order, the first 2 * round((n + 1) / 3) cases train
  temporal,   ///< train on cases finished before a cut, test cases started after it
};

/// One evaluation point: a prefix of a test case. `predicted_next` may be "" (the case ends),
/// which is a miss: at an evaluation point the case goes on.
struct EvaluationPoint {
  std::string case_id;
  std::size_t prefix_length = 0;
  std::string actual_next, predicted_next;
  double actual_remaining_s = 0, predicted_remaining_s = 0;
  std::string markov_next, vom_next;  ///< the baselines' predictions ("" = ends)
};
struct BaselineScore {
  std::string name;  ///< "markov-1", "variable-order markov"
  double accuracy = 0;
};
struct Evaluation {
  Split split = Split::published;
  bool validation = false;  ///< scored on the training cases split again (test cases unread)
  std::size_t train_cases = 0, test_cases = 0;
  std::size_t left_out_cases = 0;  ///< temporal split: cases running across the cut
  TimePoint cut{};                  ///< temporal split: the cut time
  std::vector<EvaluationPoint> points;
  double accuracy = 0;   ///< next step: share of exact hits ("case ends" is a candidate)
  double mae_days = 0;   ///< remaining time: mean absolute error in days
  double train_seconds = 0;
  std::vector<BaselineScore> baselines;  ///< on the same points, from the same training cases
};

struct LearnerStats {
  std::uint64_t traces = 0, steps = 0;
  std::size_t activities = 0;
  std::uint64_t trained_on = 0;  ///< traces the boosted models were fitted on (0: not trained)
  std::uint64_t model_version = 0;
};

/// Learns from traces. Thread-safe: add() and train() take a write lock, queries a read lock.
class Learner {
 public:
  explicit Learner(LearnerOptions options = {});
  ~Learner();
  Learner(Learner&&) noexcept;
  Learner& operator=(Learner&&) noexcept;

  /// Adds a closed case: count tables, plan variants and fragment capture update at once; the
  /// boosted models on the next train() (or after `retrain_every` traces).
  void add(Trace trace);
  /// Fits the boosted models on the traces kept. Throws invalid_argument without traces.
  /// `progress` (else options().progress) hears of every phase and boosting round.
  void train(const Progress& progress = {});

  /// Ranked next activities for a running case (its steps so far), best first; "the case
  /// ends" (activity "") is among them unless `include_end` is false.
  std::vector<NextStep> next_steps(const Trace& running, std::size_t limit = 5, bool include_end = true) const;
  /// Predicted completion of a running case; `now` bounds `expected` from below.
  Completion completion(const Trace& running, std::optional<TimePoint> now = std::nullopt) const;
  /// Typical step sequences of past cases similar to a new one (same type, most attributes
  /// in common), most common first.
  std::vector<PlanSuggestion> suggest_plan(std::string_view case_type, const Attributes& attributes,
                                           std::size_t limit = 3) const;
  /// Runs of ad-hoc tasks that recur in at least `capture_min_cases` cases.
  std::vector<FragmentProposal> fragment_proposals() const;

  LearnerStats stats() const;
  const LearnerOptions& options() const;

  /// The whole learner (options, count tables, traces kept, models) as bytes: a versioned
  /// checked binary format inside an envelope (docs/learning.md, "Persistence").
  std::string save() const;
  /// Reads save()'s bytes. A damaged or foreign buffer throws Error(storage) naming the problem.
  static Learner load(std::string_view bytes);
  void export_file(const std::filesystem::path& path) const;
  static Learner import_file(const std::filesystem::path& path);

  struct Impl;
  /// The private state (an incomplete type outside the library); for the library's own tests.
  Impl& internals() noexcept { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

/// Next-step accuracy and remaining-time MAE (docs/learning.md). Published split: the protocol of
/// Tax et al. 2017, cases in the given order, the first 2 * round((n + 1) / 3) train, the rest
/// test. Temporal split: the cut is the start of the case that two thirds of the cases (by start
/// time) started before; cases that ended before it train, cases that started at or after it
/// test, cases running across it are left out. Every prefix 2 <= k < L of a test case is an
/// evaluation point. Only training cases reach the learner and the baselines (first-order and
/// variable-order Markov), which are scored on the same points. "The case ends" is always a
/// candidate: no caller can tell the model that the case goes on.
///
/// `validation`: the split's test cases are left out altogether and its training cases are
/// split again the same way (published: their first two thirds in order train, the rest are
/// scored; temporal: a temporal split of them), so that options can be chosen without
/// looking at the test cases.
Evaluation evaluate(const std::vector<Trace>& cases, const LearnerOptions& options = {}, Split split = Split::published,
                    bool validation = false);

/// A case of the engine as a trace: completed tasks, reached milestones, occurred listeners
/// and added fragments ("+fragment-id"), in order.
Trace trace_of(const CaseInfo& info, const std::vector<Event>& history);

/// An imported log case (acm/eventlog.hpp) as a trace: the case id and attributes, each event
/// a step (activity, time, resource, event attributes; never ad hoc), in time order (events
/// with equal times keep their file order). The case type is "".
Trace trace_of(const eventlog::LogCase& log_case);

/// Feeds the learner every completed, terminated or closed case of the engine (reads each
/// case's history; for very large stores prefer learn_on_close and imported logs).
std::size_t learn_from_engine(Engine& engine, Learner& learner);
/// Keeps the learner fed: every case that reaches completed is added as it happens. Returns
/// the subscription id (Engine::unsubscribe ends it). The learner must outlive it.
std::uint64_t learn_on_close(Engine& engine, Learner& learner);

/// A completion forecaster for EngineOptions::forecaster: the case's completed work (tasks,
/// milestones, listeners by definition id, in the order they ended) and subject attributes as
/// a trace, and the learner's expected completion. Goals then turn at risk early when the case
/// is expected to finish after their deadline, and promises are tracked against it.
std::function<std::optional<TimePoint>(const CaseInfo&, TimePoint)> forecaster(std::shared_ptr<const Learner> learner);

/// Stores the learner in the engine's store as template `name` (next version) / reads it back
/// (version 0 = latest). not_found if there is none.
int save_template(Engine& engine, const std::string& name, const Learner& learner);
Learner load_template(Engine& engine, const std::string& name, int version = 0);

}  // namespace acm::learn
