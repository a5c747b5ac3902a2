// SPDX-License-Identifier: Apache-2.0
// learn/learner.cpp - the Learner: count tables, fitting, next steps and completion with their
// reasons, and persistence (a checked binary format, docs/learning.md).
#include "learn/learner_impl.hpp"

#include "learn/binio.hpp"

#include <acm/error.hpp>

#include <boost/crc.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>
#include <thread>

namespace acm::learn {
namespace {

constexpr std::size_t kSuffix = 3;                              // longest suffix kept for back-off
constexpr std::size_t kMaxCountNodes = CountTables::kMaxNodes;  // trie nodes and suffix keys: memory bound
constexpr std::size_t kMaxTrainRows = 50'000;                   // training rows per fit: time and memory bound

double to_days(Duration d) { return static_cast<double>(d.count()) / 86'400'000.0; }
Duration from_days(double d) { return Duration{static_cast<Duration::rep>(std::llround(d * 86'400'000.0))}; }

/// "3 min", "5.2 h", "4.1 days".
std::string show_days(double d) {
  const double a = std::fabs(d);
  if (a < 1.0 / 24) return fmt::format("{:.0f} min", d * 1440);
  if (a < 2) return fmt::format("{:.1f} h", d * 24);
  return fmt::format("{:.1f} days", d);
}

/// 2571 -> "2,571".
std::string thousands(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string percent(double p) { return fmt::format("{:.0f} %", 100 * p); }

}  // namespace

// ---- count tables ----------------------------------------------------------------------------

void CountTables::count(std::map<std::string, std::uint64_t>& after, const std::string& next) {
  auto it = after.find(next);
  if (it == after.end()) {
    if (entries >= kMaxEntries) return;  // bounded: a new successor is no longer counted
    it = after.emplace(next, 0).first;
    ++entries;
  }
  ++it->second;
}

void CountTables::add(const Trace& t) {
  std::uint32_t node = 0;
  ++trie[0].cases;
  for (std::size_t k = 0; k <= t.steps.size(); ++k) {
    const std::string& next = k < t.steps.size() ? t.steps[k].activity : empty_;
    if (node != kNoNode) count(trie[node].next, next);
    if (k >= 1)
      for (std::size_t len = 1; len <= std::min(kSuffix, k); ++len) {
        std::vector<std::string> key;
        key.reserve(len);
        for (std::size_t i = k - len; i < k; ++i) key.push_back(t.steps[i].activity);
        auto it = suffix.find(key);
        if (it == suffix.end()) {
          // Bounded: new contexts are no longer counted.
          if (suffix.size() >= kMaxCountNodes || entries >= kMaxEntries) continue;
          it = suffix.emplace(std::move(key), std::map<std::string, std::uint64_t>{}).first;
        }
        count(it->second, next);
      }
    if (k == t.steps.size() || node == kNoNode) continue;
    auto it = trie[node].child.find(next);
    std::uint32_t child = kNoNode;
    if (it != trie[node].child.end()) {
      child = it->second;
    } else if (trie.size() < kMaxCountNodes) {
      child = static_cast<std::uint32_t>(trie.size());
      trie[node].child.emplace(next, child);
      trie.emplace_back();
    }
    node = child;
    if (node != kNoNode) ++trie[node].cases;
  }
}

std::pair<const std::map<std::string, std::uint64_t>*, std::size_t> CountTables::lookup(const Trace& t) const {
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
    if (it != suffix.end() && !it->second.empty()) return {&it->second, len};
  }
  return {&trie[0].next, 0};
}

// ---- fitting ---------------------------------------------------------------------------------

void Learner::Impl::add_locked(Trace t) {
  std::stable_sort(t.steps.begin(), t.steps.end(), [](const Step& a, const Step& b) { return a.time < b.time; });
  counts.add(t);
  ++total_traces;
  total_steps += t.steps.size();
  if (!t.steps.empty()) durations_days.push_back(to_days(t.steps.back().time - t.steps.front().time));
  for (const Step& s : t.steps) ++activity_counts[s.activity];
  if (activity_counts.size() > kMaxCountNodes) {
    // Bounded: the rarest activities are forgotten (they would be "rare" for the models anyway).
    std::vector<std::uint64_t> v;
    for (const auto& [a, n] : activity_counts) v.push_back(n);
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    const std::uint64_t median = v[v.size() / 2];
    std::erase_if(activity_counts, [&](const auto& kv) { return kv.second <= median; });
  }
  traces.push_back(std::move(t));
  while (traces.size() > std::max<std::size_t>(1, options.max_traces)) traces.pop_front();
  while (durations_days.size() > std::max<std::size_t>(1, options.max_traces)) durations_days.pop_front();
  ++since_train;
}

std::shared_ptr<const Models> Learner::Impl::fit(const Progress& progress) const {
  // The most recent traces, up to kMaxTrainRows prefixes (a sliding window on very large logs).
  std::vector<const Trace*> use;
  std::size_t rows = 0;
  for (auto it = traces.rbegin(); it != traces.rend(); ++it) {
    if (it->steps.empty()) continue;
    if (rows + it->steps.size() > kMaxTrainRows && !use.empty()) break;
    rows += it->steps.size();
    use.push_back(&*it);
  }
  std::reverse(use.begin(), use.end());
  if (use.empty()) throw Error(ErrorCode::invalid_argument, "nothing to learn from: no trace has steps");
  auto report = [&](std::string_view phase, std::size_t done, std::size_t total) {
    if (progress)
      progress(phase, done, total);
    else if (options.progress)
      options.progress(phase, done, total);
  };
  auto m = std::make_shared<Models>();
  m->layout = FeatureLayout::build(use, options);
  FeatureLayout& L = m->layout;
  // Recency weights: 0.5^(age / half-life), the age counted from the latest training case's end.
  TimePoint latest = use.front()->steps.back().time;
  for (const Trace* t : use) latest = std::max(latest, t->steps.back().time);
  m->recency = options.recency_half_life_days > 0;
  std::vector<float> case_weight(use.size(), 1.0f);
  if (m->recency) {
    double sum = 0;
    for (std::size_t i = 0; i < use.size(); ++i) {
      case_weight[i] = static_cast<float>(
          std::max(1e-3, std::exp2(-to_days(latest - use[i]->steps.back().time) / options.recency_half_life_days)));
      sum += case_weight[i];
    }
    // Mean weight 1: regularisation and the minimum child weight keep their meaning.
    for (float& w : case_weight) w = static_cast<float>(w * static_cast<double>(use.size()) / sum);
  }
  // Context statistics: of all training traces (kept for prediction) and per fold (the
  // training rows read out-of-fold statistics, as a new case would).
  // Folds drawn at random (fixed seed: the same log gives the same model), so that they do not
  // line up with any pattern in the order of the cases.
  constexpr std::size_t kFolds = 5;
  std::vector<ContextTable> folds(kFolds);
  std::vector<std::size_t> fold_of(use.size());
  std::mt19937 rng(20170612);
  for (std::size_t& f : fold_of) f = rng() % kFolds;
  for (std::size_t i = 0; i < use.size(); ++i) L.add_context(*use[i], case_weight[i], &folds[fold_of[i]]);
  L.build_recent(use);
  report("features", 0, use.size());
  // One matrix for both kinds of model (the same rows), binned once below.
  gbdt::Matrix xc;
  xc.cols = L.width();
  xc.values.reserve(rows * L.width());
  std::vector<int> labels;
  std::vector<float> remaining, wc, wr;
  for (std::size_t i = 0; i < use.size(); ++i) {
    const Trace* t = use[i];
    const TimePoint last = t->steps.back().time;
    L.for_each_prefix(*t, &folds[fold_of[i]], [&](std::size_t k, const std::vector<float>& row) {
      xc.values.insert(xc.values.end(), row.begin(), row.end());
      ++xc.rows;
      labels.push_back(k < t->steps.size() ? L.class_of(t->steps[k].activity) : L.end_class());
      wc.push_back(case_weight[i]);
      // Every prefix, the last one too (nothing left): the remaining-time models are not told
      // that the case goes on, as the next-step model is not.
      remaining.push_back(static_cast<float>(to_days(last - t->steps[k - 1].time)));
      wr.push_back(case_weight[i]);
    });
  }
  report("features", use.size(), use.size());
  const std::span<const float> wcs = m->recency ? std::span<const float>(wc) : std::span<const float>();
  const std::span<const float> wrs = m->recency ? std::span<const float>(wr) : std::span<const float>();
  gbdt::Params pc{.rounds = options.next_rounds, .max_depth = options.next_depth, .eta = options.next_eta};
  // The next-step model does not read the remaining-time columns.
  if (L.recent_times > 0) {
    pc.excluded.assign(L.width(), 0);
    for (std::size_t c = 0; c < L.width(); ++c) pc.excluded[c] = L.is_remaining_column(c) ? 1 : 0;
  }
  const gbdt::Binned binned = gbdt::bin_matrix(xc, L.specs, pc.max_bins);
  xc = gbdt::Matrix{};  // the trees read the bins only
  pc.on_round = [&](int done, int total) {
    report("next-step trees", static_cast<std::size_t>(done), static_cast<std::size_t>(total));
  };
  // The quantile models are independent: fitted on their own threads while the next-step
  // model is fitted on this one.
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> failed(options.quantiles.size());
  if (binned.rows > 0) {
    gbdt::Params pr{.rounds = options.time_rounds,
                    .max_depth = options.time_depth,
                    .eta = options.time_eta,
                    .min_child_weight = std::max(1.0, options.time_min_leaf_share * static_cast<double>(binned.rows))};
    m->quantiles = options.quantiles;
    m->remaining.resize(options.quantiles.size());
    for (std::size_t i = 0; i < options.quantiles.size(); ++i)
      pool.emplace_back([&, i, pr] {
        try {
          m->remaining[i] = gbdt::train_quantile(binned, remaining, options.quantiles[i], pr, wrs);
        } catch (...) {
          failed[i] = std::current_exception();
        }
      });
  }
  std::exception_ptr next_failed;
  try {
    m->next = gbdt::train_softmax(binned, labels, L.classes, pc, wcs);
  } catch (...) {
    next_failed = std::current_exception();
  }
  for (std::size_t i = 0; i < pool.size(); ++i) {
    pool[i].join();
    report("remaining-time trees", i + 1, pool.size());
  }
  if (next_failed) std::rethrow_exception(next_failed);
  for (const std::exception_ptr& e : failed)
    if (e) std::rethrow_exception(e);
  m->trained_on = use.size();
  m->version = (models ? models->version : 0) + 1;
  return m;
}

// ---- reasons -----------------------------------------------------------------------------------

namespace {

std::string activity_name(const FeatureLayout& L, float code, const char* none_text) {
  const int c = static_cast<int>(code);
  if (c >= 0 && c < static_cast<int>(L.activities.values.size()))
    return L.activities.values[static_cast<std::size_t>(c)];
  return c == L.activities.none() ? none_text : "a rare activity";
}

std::string outcome_text(const std::string& activity) {
  return activity.empty() ? "ended there" : "went on to " + activity;
}

/// The similar past cases of a context match, in words.
std::string similar_text(const FeatureLayout& L, const std::vector<int>& sym, const ContextTable::Match& m) {
  const std::size_t steps = m.length - (m.from_start ? 1 : 0);
  std::vector<std::string> names;
  for (std::size_t i = sym.size() - steps; i < sym.size(); ++i)
    names.push_back(activity_name(L, static_cast<float>(sym[i]), "?"));
  if (m.from_start) return fmt::format("with the same {} so far", steps == 1 ? "first step" : "steps");
  if (steps == 1) return fmt::format("whose last step was also {}", names[0]);
  return fmt::format("whose last {} steps were also {}", steps, fmt::join(names, ", "));
}

/// A column's value in the case as a reason, or "" when it says nothing (a missing attribute).
std::string column_reason(const FeatureLayout& L, std::size_t c, const std::vector<float>& row) {
  const float v = row[c];
  auto category = [&](const Codebook& cb) -> std::string {
    const int code = static_cast<int>(v);
    if (code >= 0 && code < static_cast<int>(cb.values.size())) return cb.values[static_cast<std::size_t>(code)];
    return code == cb.rare() ? std::string("\x01") : std::string();
  };
  if (c == L.c_last) return "the last step was " + activity_name(L, v, "none");
  if (c == L.c_last + 1)
    return static_cast<int>(v) == L.activities.none() ? "it is the first step"
                                                      : "the step before was " + activity_name(L, v, "none");
  if (c == L.c_last + 2)
    return static_cast<int>(v) == L.activities.none() ? "fewer than three steps so far"
                                                      : "two steps before was " + activity_name(L, v, "none");
  if (c == L.c_steps) return fmt::format("{} step{} so far", v, v == 1 ? "" : "s");
  if (c >= L.c_counts && c < L.c_counts + static_cast<std::size_t>(L.counted)) {
    const std::string& a = L.activities.values[c - L.c_counts];
    if (v == 0) return a + " not done so far";
    return v == 1 ? a + " done once so far" : fmt::format("{} done {} times so far", a, v);
  }
  if (c == L.c_rare_count) return fmt::format("{} rare activities so far", v);
  if (c == L.c_distinct) return fmt::format("{} different activities so far", v);
  if (c == L.c_repeat_last)
    return v <= 1 ? "the last step was its first time" : fmt::format("the last step was its {}th time", v);
  if (c >= L.c_since_each && c < L.c_since_each + static_cast<std::size_t>(L.counted)) {
    const std::string& a = L.activities.values[c - L.c_since_each];
    return v < 0 ? a + " not done yet" : show_days(v) + " since " + a;
  }
  if (c == L.c_elapsed) return "open for " + show_days(v);
  if (c == L.c_since) return show_days(v) + " since the previous step";
  if (L.calendar_time && c == L.c_weekday) {
    static constexpr const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                            "Thursday", "Friday", "Saturday"};
    return fmt::format("the last step came on a {}", kDays[std::clamp(static_cast<int>(v), 0, 6)]);
  }
  if (L.calendar_time && c == L.c_hour)
    return fmt::format("the last step came at about {:02d}:00", static_cast<int>(v));
  if (!L.resources.values.empty() && c == L.c_resource) {
    const std::string r = category(L.resources);
    if (r.empty()) return "";
    return r == "\x01" ? "the last step was done by someone who rarely works on these cases"
                       : "the last step was done by " + r;
  }
  if (c >= L.c_attrs && c < L.c_attrs + L.attribute_names.size()) {
    const std::string& name = L.attribute_names[c - L.c_attrs];
    const std::string val = category(L.attribute_values[c - L.c_attrs]);
    if (val.empty()) return "";  // the case lacks it: no reason
    return val == "\x01" ? name + " has a value rarely seen before" : name + " is " + val;
  }
  return "";
}

bool is_context_column(const FeatureLayout& L, std::size_t c) {
  return c == L.c_ctx_len || c == L.c_ctx_support || c == L.c_ctx_remaining ||
         (c >= L.c_ctx_probs && c < L.c_ctx_probs + static_cast<std::size_t>(L.classes));
}

/// The recent-behaviour columns (what followed the same last step, or last two steps, in the
/// latest training cases before this step).
bool is_recent_column(const FeatureLayout& L, std::size_t c) {
  if (L.recent_cases == 0) return false;
  const auto classes = static_cast<std::size_t>(L.classes);
  return c == L.c_recent_count || c == L.c_pair_count || (c >= L.c_recent_probs && c < L.c_recent_probs + classes) ||
         (c >= L.c_pair_probs && c < L.c_pair_probs + classes);
}

/// The recent behaviour of a row in words, for class `k` (activity `shown`).
std::string recent_text(const FeatureLayout& L, const std::vector<float>& row, int k, const std::string& shown) {
  const bool pair = row[L.c_pair_count] >= 10;  // enough cases after the same two steps
  const float n = pair ? row[L.c_pair_count] : row[L.c_recent_count];
  const float share =
      (pair ? row[L.c_pair_probs + static_cast<std::size_t>(k)] : row[L.c_recent_probs + static_cast<std::size_t>(k)]);
  const std::string last = activity_name(L, row[L.c_last], "none");
  const std::string steps = pair && static_cast<int>(row[L.c_last + 1]) != L.activities.none()
                                ? activity_name(L, row[L.c_last + 1], "none") + ", " + last
                                : last;
  return fmt::format("of the latest {} cases after {} (before this step), {} {}", static_cast<int>(n), steps,
                     percent(share), outcome_text(shown));
}

}  // namespace

std::string Learner::Impl::class_activity(const Models& m, int cls,
                                          const std::map<std::string, std::uint64_t>& after) const {
  const FeatureLayout& L = m.layout;
  if (cls == L.end_class()) return std::string();
  if (cls < L.counted) return L.activities.values[static_cast<std::size_t>(cls)];
  // "Rare": the most frequent rare activity after this context, else overall.
  const std::string* best = nullptr;
  std::uint64_t best_n = 0;
  for (const auto& [a, n] : after)
    if (!a.empty() && L.class_of(a) == L.rare_class() && n > best_n) best = &a, best_n = n;
  if (best) return *best;
  for (const auto& [a, n] : activity_counts)
    if (L.class_of(a) == L.rare_class() && n > best_n) best = &a, best_n = n;
  return best ? *best : std::string("\x01");
}

std::vector<Evidence> Learner::Impl::next_reasons(const Models& m, const Trace& running, const std::vector<float>& row,
                                                  const std::vector<float>& scores, int k, const std::string& activity,
                                                  std::size_t limit) const {
  const FeatureLayout& L = m.layout;
  const std::vector<float> c = m.next.contributions(row, k);
  // A contribution in percentage points: the probability with it minus without it.
  auto prob_with = [&](double shift) {
    double denom = 0;
    double mine = 0;
    const double top = *std::max_element(scores.begin(), scores.end());
    for (std::size_t j = 0; j < scores.size(); ++j) {
      const double s = j == static_cast<std::size_t>(k) ? scores[j] - shift : scores[j];
      const double e = std::exp(s - top);
      denom += e;
      if (j == static_cast<std::size_t>(k)) mine = e;
    }
    return mine / denom;
  };
  const double p = prob_with(0);
  struct Item {
    std::size_t column;
    double pp;
  };
  std::vector<Item> items;
  double ctx = 0, recent = 0;
  for (std::size_t i = 0; i + 1 < c.size(); ++i) {
    if (is_context_column(L, i))
      ctx += c[i];
    else if (is_recent_column(L, i))
      recent += c[i];
    else if (std::fabs(c[i]) > 1e-6)
      items.push_back({i, 100 * (p - prob_with(c[i]))});
  }
  const std::size_t kContext = SIZE_MAX, kRecent = SIZE_MAX - 1;
  items.push_back({kContext, 100 * (p - prob_with(ctx))});
  if (L.recent_cases > 0 && row[L.c_recent_count] > 0) items.push_back({kRecent, 100 * (p - prob_with(recent))});
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return std::fabs(a.pp) > std::fabs(b.pp); });

  std::vector<Evidence> out;
  const std::vector<int> sym = L.symbols(running);
  const ContextTable::Match match = L.context.longest(sym, sym.size(), nullptr);
  const std::string shown = activity == "\x01" ? std::string("a rare activity") : activity;
  // First the plain count: what the similar past cases did.
  if (match.stats) {
    std::uint32_t n = 0;
    float w = 0;
    for (const ContextStats::Next& e : match.stats->next)
      if (e.cls == k) n = e.count, w = e.weight;
    const double share = static_cast<double>(n) / match.stats->cases;
    double pp = 0;
    for (const Item& it : items)
      if (it.column == kContext) pp = it.pp;
    out.push_back(Evidence{"similar past cases", similar_text(L, sym, match), pp,
                           fmt::format("in {} similar past cases ({}), {} {} ({:+.0f} pp)",
                                       thousands(match.stats->cases), similar_text(L, sym, match), percent(share),
                                       outcome_text(activity == "\x01" ? "a rare activity" : shown), pp)});
    // Recency: when recent similar cases behaved differently from all of them.
    if (m.recency && match.stats->weight > 0) {
      const double recent = static_cast<double>(w) / match.stats->weight;
      if (std::fabs(recent - share) >= 0.05)
        out.push_back(Evidence{
            "recent cases", percent(recent), 100 * (recent - share),
            fmt::format("recent similar cases {} often {} ({} weighted by recency, {} of all)",
                        recent > share ? "more" : "less", outcome_text(shown), percent(recent), percent(share))});
    }
  }
  for (const Item& it : items) {
    if (out.size() >= limit) break;
    if (it.column == kContext || std::fabs(it.pp) < 0.5) continue;
    if (it.column == kRecent) {
      // Drift: what the latest cases did moved the ranking.
      const std::string why = recent_text(L, row, k, shown);
      out.push_back(Evidence{"recent cases", why, it.pp, fmt::format("{} ({:+.0f} pp)", why, it.pp)});
      continue;
    }
    const std::string why = column_reason(L, it.column, row);
    if (why.empty()) continue;
    out.push_back(Evidence{L.specs[it.column].name, why, it.pp, fmt::format("{} ({:+.0f} pp)", why, it.pp)});
  }
  return out;
}

std::vector<NextStep> Learner::Impl::next_steps(const Trace& running, std::size_t limit, bool allow_end) const {
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
    std::vector<float> scores(static_cast<std::size_t>(m.layout.classes));
    m.next.predict(row, scores);
    std::vector<float> p = scores;
    gbdt::softmax(p);
    std::vector<std::size_t> order(p.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] > p[b]; });
    for (std::size_t i : order) {
      if (out.size() >= limit) break;
      const std::string a = class_activity(m, static_cast<int>(i), *counts_after);
      if (a == "\x01") continue;  // "rare" with no rare activity known
      if (!allow_end && a.empty()) continue;
      NextStep s{a, p[i], support_of(a), matched, {}};
      s.evidence = next_reasons(m, running, row, scores, static_cast<int>(i), a, 3);
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
    const double share = total ? static_cast<double>(n) / static_cast<double>(total) : 0.0;
    const std::string similar = matched == running.steps.size() ? "with the same steps so far"
                                : matched == 1 ? "whose last step was also " + running.steps.back().activity
                                               : fmt::format("whose last {} steps were the same", matched);
    out.push_back(NextStep{a,
                           share,
                           n,
                           matched,
                           {Evidence{"similar past cases", similar, 100 * share,
                                     fmt::format("in {} similar past cases ({}), {} {}", thousands(total), similar,
                                                 percent(share), outcome_text(a))}}});
  }
  return out;
}

Completion Learner::Impl::completion(const Trace& running, std::optional<TimePoint> now) const {
  Completion c;
  c.support = models ? models->trained_on : durations_days.size();
  const bool empty = running.steps.empty();
  const std::optional<TimePoint> last = empty ? now : std::optional<TimePoint>(running.steps.back().time);
  if (models && !models->remaining.empty()) {
    const Models& m = *models;
    const FeatureLayout& L = m.layout;
    const std::vector<float> row = L.features(running);
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
    // Reasons: the similar past cases first, then the strongest other features, in days.
    const std::vector<float> contrib = m.remaining[median].contributions(row, 0);
    double ctx = 0, recent = 0;
    std::vector<std::pair<std::size_t, double>> items;
    for (std::size_t i = 0; i + 1 < contrib.size(); ++i) {
      if (is_context_column(L, i))
        ctx += contrib[i];
      else if (L.is_remaining_column(i))
        recent += contrib[i];
      else if (std::fabs(contrib[i]) > 0.05)
        items.emplace_back(i, contrib[i]);
    }
    constexpr std::size_t kRecentTimes = SIZE_MAX;
    if (L.recent_times > 0 && row[L.c_rt_count] > 0 && std::fabs(recent) > 0.05)
      items.emplace_back(kRecentTimes, recent);
    std::sort(items.begin(), items.end(),
              [](const auto& a, const auto& b) { return std::fabs(a.second) > std::fabs(b.second); });
    const std::vector<int> sym = L.symbols(running);
    const ContextTable::Match match = L.context.longest(sym, sym.size(), nullptr);
    if (match.stats) {
      std::uint32_t ended = 0;
      for (const ContextStats::Next& e : match.stats->next)
        if (e.cls == L.end_class()) ended = e.count;
      std::string text =
          fmt::format("in {} similar past cases ({}), ", thousands(match.stats->cases), similar_text(L, sym, match));
      if (match.stats->continuing > 0)
        text += fmt::format("{} ended there and the others took {} more on average",
                            percent(static_cast<double>(ended) / match.stats->cases),
                            show_days(match.stats->remaining_days / match.stats->continuing));
      else
        text += "every one ended there";
      out_reason(c.evidence, "similar past cases", similar_text(L, sym, match), ctx,
                 fmt::format("{} ({:+.1f} days)", text, ctx));
    }
    for (const auto& [col, d] : items) {
      if (c.evidence.size() >= 3) break;
      if (col == kRecentTimes) {
        // Drift of durations: the time left in the latest cases after the same step.
        const std::string why = fmt::format(
            "the latest {} cases that ended before this step had a median of {} left after {} (middle half {} to {})",
            static_cast<int>(row[L.c_rt_count]), show_days(row[L.c_rt_q + 1]), activity_name(L, row[L.c_last], "none"),
            show_days(row[L.c_rt_q]), show_days(row[L.c_rt_q + 2]));
        out_reason(c.evidence, "recent cases", why, d, fmt::format("{} ({:+.1f} days)", why, d));
        continue;
      }
      const std::string why = column_reason(L, col, row);
      if (why.empty()) continue;
      out_reason(c.evidence, L.specs[col].name, why, d, fmt::format("{} ({:+.1f} days)", why, d));
    }
    c.evidence.push_back(
        Evidence{"spread", "", 0,
                 fmt::format("{} to {} in 8 cases out of 10", show_days(sorted.front()), show_days(sorted.back()))});
  } else if (!durations_days.empty()) {
    // Not trained yet: typical total duration minus the time already spent.
    std::vector<double> d(durations_days.begin(), durations_days.end());
    std::sort(d.begin(), d.end());
    const double elapsed = empty ? 0 : to_days(running.steps.back().time - running.steps.front().time);
    for (double q : options.quantiles) {
      const double total = d[std::min(d.size() - 1, static_cast<std::size_t>(q * static_cast<double>(d.size())))];
      c.quantiles.emplace_back(q, from_days(std::max(0.0, total - elapsed)));
    }
    const double med = d[d.size() / 2];
    c.remaining = from_days(std::max(0.0, med - elapsed));
    c.evidence.push_back(Evidence{
        "median duration of past cases", show_days(med), 0,
        fmt::format("past cases took {} from first to last step (median of {})", show_days(med), thousands(d.size()))});
  }
  if (last) {
    c.expected = *last + c.remaining;
    if (now && c.expected < *now) c.expected = *now;
  }
  return c;
}

void Learner::Impl::out_reason(std::vector<Evidence>& ev, std::string feature, std::string value, double weight,
                               std::string text) {
  ev.push_back(Evidence{std::move(feature), std::move(value), weight, std::move(text)});
}

// ---- Learner ------------------------------------------------------------------------------

Learner::Learner(LearnerOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.quantiles.empty()) options.quantiles = {0.5};
  for (double q : options.quantiles)
    if (!(q > 0 && q < 1)) throw Error(ErrorCode::invalid_argument, fmt::format("quantile {} is not in (0, 1)", q));
  std::sort(options.quantiles.begin(), options.quantiles.end());
  if (options.next_rounds < 1 || options.time_rounds < 1 || options.next_depth < 1 || options.time_depth < 1)
    throw Error(ErrorCode::invalid_argument, "learner rounds and depths must be at least 1");
  if (!(options.recency_half_life_days >= 0) || !std::isfinite(options.recency_half_life_days))
    throw Error(ErrorCode::invalid_argument, "recency_half_life_days must be 0 (off) or a positive number of days");
  if (options.context_order < 1 || options.context_order > ContextTable::kMaxOrder)
    throw Error(ErrorCode::invalid_argument, fmt::format("context_order must lie in 1..{}", ContextTable::kMaxOrder));
  if (options.context_min_support < 1)
    throw Error(ErrorCode::invalid_argument, "context_min_support must be at least 1");
  if (!(options.time_min_leaf_share >= 0 && options.time_min_leaf_share < 1))
    throw Error(ErrorCode::invalid_argument, "time_min_leaf_share must be a share of the training prefixes, in [0, 1)");
  if (options.capture_min_cases < 2) options.capture_min_cases = 2;
  if (options.capture_max_tasks < 2) options.capture_max_tasks = 2;
  impl_->options = std::move(options);
}
Learner::~Learner() = default;
Learner::Learner(Learner&&) noexcept = default;
Learner& Learner::operator=(Learner&&) noexcept = default;

void Learner::add(Trace trace) {
  std::unique_lock lock(impl_->mutex);
  impl_->add_locked(std::move(trace));
  if (impl_->options.retrain_every == 0 || impl_->since_train < impl_->options.retrain_every) return;
  impl_->since_train = 0;
  impl_->models = impl_->fit();
}

void Learner::train(const Progress& progress) {
  std::unique_lock lock(impl_->mutex);
  impl_->models = impl_->fit(progress);
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
  s.activities = impl_->activity_counts.size();
  if (impl_->models) {
    s.trained_on = impl_->models->trained_on;
    s.model_version = impl_->models->version;
  }
  return s;
}

const LearnerOptions& Learner::options() const { return impl_->options; }

// ---- persistence ---------------------------------------------------------------------------
//
// Format 4. Format 3 lacked the recent remaining-time index and the options of this format
// (time_min_leaf_share, recent_times): it is still read, as a learner with both off, whose
// models have no such columns, and written back as format 4. Format 2 also lacked the
// recent-pair index and is refused (learn again); format 1 was a Boost archive that trusted its
// sizes. Format 4:
// every field written explicitly, little-endian; every count is checked against the bytes left
// on reading, and everything read is validated before use (docs/learning.md, "Persistence").

namespace {

constexpr char kMagic[8] = {'A', 'C', 'M', 'L', 'R', 'N', '0', '1'};
constexpr std::uint32_t kFormat = 4;
constexpr std::size_t kHeader = 8 + 4 + 8 + 4;
constexpr std::uint64_t kMaxFileBytes = std::uint64_t{4} << 30;  // 4 GiB: far above any real template

std::uint64_t get_le(std::string_view s, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)])) << (8 * i);
  return v;
}
std::uint32_t crc_of(std::string_view s) {
  boost::crc_32_type crc;
  crc.process_bytes(s.data(), s.size());
  return crc.checksum();
}

using binio::Reader;
using binio::Writer;

void put_attributes(Writer& w, const Attributes& a) {
  w.u64(a.size());
  for (const auto& [k, v] : a) {
    w.str(k);
    w.str(v);
  }
}
Attributes get_attributes(Reader& r) {
  Attributes a(r.count("attributes", 16));
  for (auto& [k, v] : a) {
    k = r.str();
    v = r.str();
  }
  return a;
}

void put_options(Writer& w, const LearnerOptions& o) {
  w.i32(o.next_rounds);
  w.i32(o.next_depth);
  w.f64(o.next_eta);
  w.i32(o.time_rounds);
  w.i32(o.time_depth);
  w.f64(o.time_eta);
  w.f64(o.time_min_leaf_share);
  w.u64(o.quantiles.size());
  for (double q : o.quantiles) w.f64(q);
  w.u64(o.attributes.size());
  for (const std::string& a : o.attributes) w.str(a);
  w.boolean(o.calendar_time);
  w.i32(o.min_value_count);
  w.u64(o.retrain_every);
  w.u64(o.max_traces);
  w.u64(o.capture_min_cases);
  w.u64(o.capture_max_tasks);
  w.f64(o.recency_half_life_days);
  w.i32(o.context_order);
  w.i32(o.context_min_support);
  w.u64(o.recent_cases);
  w.u64(o.recent_times);
}
LearnerOptions get_options(Reader& r, std::uint32_t format) {
  LearnerOptions o;
  o.next_rounds = r.i32();
  o.next_depth = r.i32();
  o.next_eta = r.f64();
  o.time_rounds = r.i32();
  o.time_depth = r.i32();
  o.time_eta = r.f64();
  o.time_min_leaf_share = format >= 4 ? r.f64() : 0.0;  // format 3: leaves of any size
  o.quantiles.resize(r.count("quantiles", 8, 1000));
  for (double& q : o.quantiles) q = r.f64();
  o.attributes.resize(r.count("attribute names", 8));
  for (std::string& a : o.attributes) a = r.str();
  o.calendar_time = r.boolean("calendar_time");
  o.min_value_count = r.i32();
  o.retrain_every = r.u64();
  o.max_traces = r.u64();
  o.capture_min_cases = r.u64();
  o.capture_max_tasks = r.u64();
  o.recency_half_life_days = r.f64();
  o.context_order = r.i32();
  o.context_min_support = r.i32();
  o.recent_cases = r.u64();
  if (o.recent_cases > 1'000'000) r.fail("invalid options: recent_cases");
  o.recent_times = format >= 4 ? r.u64() : 0;  // format 3: no recent remaining times
  if (o.recent_times > 1'000'000) r.fail("invalid options: recent_times");
  // The constructor's checks, as for options given in code.
  try {
    Learner check(o);
  } catch (const Error& e) {
    r.fail(fmt::format("invalid options: {}", e.what()));
  }
  if (o.next_rounds > 100000 || o.time_rounds > 100000 || o.next_depth > 64 || o.time_depth > 64)
    r.fail("invalid options: rounds or depth beyond any sane model");
  if (o.max_traces == 0 || o.capture_max_tasks > 1000) r.fail("invalid options: max_traces or capture_max_tasks");
  return o;
}

void put_trace(Writer& w, const Trace& t) {
  w.str(t.id);
  w.str(t.case_type);
  put_attributes(w, t.attributes);
  w.u64(t.steps.size());
  for (const Step& s : t.steps) {
    w.str(s.activity);
    w.i64(s.time.time_since_epoch().count());
    w.str(s.resource);
    w.boolean(s.ad_hoc);
    put_attributes(w, s.attributes);
  }
}
Trace get_trace(Reader& r) {
  Trace t;
  t.id = r.str();
  t.case_type = r.str();
  t.attributes = get_attributes(r);
  t.steps.resize(r.count("steps", 33));
  for (Step& s : t.steps) {
    s.activity = r.str();
    s.time = TimePoint{Duration{r.i64()}};
    s.resource = r.str();
    s.ad_hoc = r.boolean("a step's ad_hoc flag");
    s.attributes = get_attributes(r);
  }
  return t;
}

void put_counts(Writer& w, const std::map<std::string, std::uint64_t>& m) {
  w.u64(m.size());
  for (const auto& [k, v] : m) {
    w.str(k);
    w.u64(v);
  }
}
std::map<std::string, std::uint64_t> get_counts(Reader& r) {
  std::map<std::string, std::uint64_t> m;
  const std::size_t n = r.count("counts", 16);
  for (std::size_t i = 0; i < n; ++i) {
    std::string k = r.str();
    m[std::move(k)] = r.u64();
  }
  return m;
}

void put_codebook(Writer& w, const Codebook& cb) {
  w.u64(cb.values.size());
  for (const std::string& v : cb.values) w.str(v);
}
Codebook get_codebook(Reader& r, const char* what) {
  Codebook cb;
  cb.values.resize(r.count(what, 8, 250));
  for (std::string& v : cb.values) v = r.str();
  cb.index();
  if (cb.codes.size() != cb.values.size()) r.fail(fmt::format("{}: a value appears twice", what));
  return cb;
}

void put_ensemble(Writer& w, const gbdt::Ensemble& e) {
  w.i32(e.outputs);
  w.u64(e.base.size());
  for (float b : e.base) w.f32(b);
  w.u64(e.trees.size());
  for (const gbdt::Tree& t : e.trees) {
    w.u64(t.nodes.size());
    for (const gbdt::Node& n : t.nodes) {
      w.i32(n.feature);
      w.boolean(n.categorical);
      w.f32(n.threshold);
      w.i32(n.left);
      w.i32(n.right);
      w.f32(n.value);
      w.f32(n.cover);
    }
  }
  // The feature specs are the layout's (written once, with the layout).
}
gbdt::Ensemble get_ensemble(Reader& r, const FeatureLayout& L, int outputs) {
  gbdt::Ensemble e;
  e.outputs = r.i32();
  e.base.resize(r.count("base scores", 4));
  for (float& b : e.base) b = r.f32();
  e.trees.resize(r.count("trees", 8));
  for (gbdt::Tree& t : e.trees) {
    t.nodes.resize(r.count("tree nodes", 25));
    for (gbdt::Node& n : t.nodes) {
      n.feature = r.i32();
      n.categorical = r.boolean("a node's categorical flag");
      n.threshold = r.f32();
      n.left = r.i32();
      n.right = r.i32();
      n.value = r.f32();
      n.cover = r.f32();
    }
  }
  e.features = L.specs;
  e.validate(L.width(), outputs);
  return e;
}

void put_models(Writer& w, const Models& m) {
  w.u64(m.version);
  w.u64(m.trained_on);
  const FeatureLayout& L = m.layout;
  put_codebook(w, L.activities);
  put_codebook(w, L.resources);
  w.u64(L.attribute_names.size());
  for (std::size_t i = 0; i < L.attribute_names.size(); ++i) {
    w.str(L.attribute_names[i]);
    put_codebook(w, L.attribute_values[i]);
  }
  w.boolean(L.calendar_time);
  w.i32(L.counted);
  w.i32(L.context.order);
  w.u32(L.context.min_support);
  w.u64(L.context.table.size());
  // In key order, so that the same learner always saves the same bytes (a hash map's own
  // order depends on how it was filled).
  std::vector<const std::pair<const std::uint64_t, ContextStats>*> entries;
  entries.reserve(L.context.table.size());
  for (const auto& entry : L.context.table) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  for (const auto* entry : entries) {
    const auto& [key, s] = *entry;
    w.u64(key);
    w.u32(s.cases);
    w.f32(s.weight);
    w.u32(s.continuing);
    w.f32(s.remaining_days);
    w.u64(s.next.size());
    for (const ContextStats::Next& n : s.next) {
      w.u16(n.cls);
      w.u32(n.count);
      w.f32(n.weight);
    }
  }
  w.u64(L.recent_cases);
  auto put_transitions = [&w](const std::vector<RecentIndex::Transition>& v) {
    w.u64(v.size());
    for (const RecentIndex::Transition& t : v) {
      w.i64(t.known);
      w.u16(t.cls);
    }
  };
  for (const auto& v : L.recent.after) put_transitions(v);
  // In key order (deterministic bytes, as for the context table).
  std::vector<std::uint64_t> pair_keys;
  pair_keys.reserve(L.recent.after_pair.size());
  for (const auto& entry : L.recent.after_pair) pair_keys.push_back(entry.first);
  std::sort(pair_keys.begin(), pair_keys.end());
  w.u64(pair_keys.size());
  for (std::uint64_t key : pair_keys) {
    w.u64(key);
    put_transitions(L.recent.after_pair.at(key));
  }
  w.u64(L.recent_times);
  w.u64(L.recent.ended_after.size());
  for (const auto& v : L.recent.ended_after) {
    w.u64(v.size());
    for (const RecentIndex::Ended& e : v) {
      w.i64(e.known);
      w.f32(e.days);
    }
  }
  w.boolean(m.recency);
  put_ensemble(w, m.next);
  w.u64(m.quantiles.size());
  for (double q : m.quantiles) w.f64(q);
  for (const gbdt::Ensemble& e : m.remaining) put_ensemble(w, e);
}
std::shared_ptr<Models> get_models(Reader& r, std::uint32_t format) {
  auto m = std::make_shared<Models>();
  m->version = r.u64();
  m->trained_on = r.u64();
  FeatureLayout& L = m->layout;
  L.activities = get_codebook(r, "activities");
  L.resources = get_codebook(r, "resources");
  const std::size_t attrs = r.count("attributes", 16, 250);
  for (std::size_t i = 0; i < attrs; ++i) {
    L.attribute_names.push_back(r.str());
    L.attribute_values.push_back(get_codebook(r, "attribute values"));
  }
  L.calendar_time = r.boolean("calendar_time");
  L.counted = r.i32();
  if (L.counted < 0 || L.counted > static_cast<int>(L.activities.values.size()) || L.counted > 250)
    r.fail(fmt::format("{} counted activities of {}", L.counted, L.activities.values.size()));
  L.classes = L.counted + 2;
  L.context.order = r.i32();
  if (L.context.order < 1 || L.context.order > ContextTable::kMaxOrder)
    r.fail(fmt::format("context order {} is outside 1..{}", L.context.order, ContextTable::kMaxOrder));
  L.context.min_support = r.u32();
  if (L.context.min_support < 1) r.fail("context min_support is 0");
  const std::size_t contexts = r.count("contexts", 32, ContextTable::kMaxContexts);
  L.context.table.reserve(contexts);
  for (std::size_t i = 0; i < contexts; ++i) {
    const std::uint64_t key = r.u64();
    ContextStats s;
    s.cases = r.u32();
    s.weight = r.f32();
    s.continuing = r.u32();
    s.remaining_days = r.f32();
    s.next.resize(r.count("context successors", 10, static_cast<std::uint64_t>(L.classes)));
    std::uint64_t sum = 0;
    for (ContextStats::Next& n : s.next) {
      n.cls = r.u16();
      n.count = r.u32();
      n.weight = r.f32();
      if (n.cls >= L.classes) r.fail(fmt::format("a context successor of class {} of {}", n.cls, L.classes));
      sum += n.count;
    }
    if (sum != s.cases || s.continuing > s.cases || !std::isfinite(s.weight) || !std::isfinite(s.remaining_days))
      r.fail("a context's counts do not add up");
    if (!L.context.table.emplace(key, std::move(s)).second) r.fail("a context appears twice");
  }
  L.recent_cases = r.u64();
  if (L.recent_cases > 1'000'000) r.fail("the recent window is beyond any sane size");
  L.recent.symbols = L.activities.size();
  L.recent.classes = L.classes;
  L.recent.after.resize(static_cast<std::size_t>(L.recent.symbols));
  auto get_transitions = [&r, &L](std::vector<RecentIndex::Transition>& v) {
    v.resize(r.count("recent transitions", 10));
    for (RecentIndex::Transition& t : v) {
      t.known = r.i64();
      t.cls = r.u16();
      if (t.cls >= L.classes) r.fail(fmt::format("a recent transition of class {} of {}", t.cls, L.classes));
    }
    if (!std::is_sorted(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.known < y.known; }))
      r.fail("recent transitions out of order");
  };
  for (auto& v : L.recent.after) get_transitions(v);
  const std::size_t pairs = r.count("recent pairs", 16);
  const auto symbols = static_cast<std::uint64_t>(L.recent.symbols);
  std::uint64_t previous_key = 0;
  for (std::size_t i = 0; i < pairs; ++i) {
    const std::uint64_t key = r.u64();
    if (key / (symbols + 1) > symbols || key % (symbols + 1) >= symbols)
      r.fail(fmt::format("a recent pair key {} outside the {} activity codes", key, symbols));
    if (i > 0 && key <= previous_key) r.fail("recent pairs out of order");
    previous_key = key;
    get_transitions(L.recent.after_pair[key]);
  }
  L.recent_times = format >= 4 ? r.u64() : 0;  // format 3: models without those columns
  if (L.recent_times > 1'000'000) r.fail("the recent remaining-time window is beyond any sane size");
  const std::size_t ended_symbols = format >= 4 ? r.count("recent remaining-time lists", 8, symbols) : 0;
  if (ended_symbols != (L.recent_times > 0 ? symbols : 0))
    r.fail(fmt::format("{} recent remaining-time lists for {} activity codes", ended_symbols, symbols));
  L.recent.ended_after.resize(ended_symbols);
  for (auto& v : L.recent.ended_after) {
    v.resize(r.count("recent remaining times", 12));
    for (RecentIndex::Ended& e : v) {
      e.known = r.i64();
      e.days = r.f32();
      if (!std::isfinite(e.days) || e.days < 0) r.fail("a recent remaining time that is not a duration");
    }
    if (!std::is_sorted(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.known < y.known; }))
      r.fail("recent remaining times out of order");
  }
  L.place_columns();
  m->recency = r.boolean("recency");
  m->next = get_ensemble(r, L, L.classes);
  m->quantiles.resize(r.count("quantiles", 8, 1000));
  for (double& q : m->quantiles) {
    q = r.f64();
    if (!(q > 0 && q < 1)) r.fail("a quantile outside (0, 1)");
  }
  for (std::size_t i = 0; i < m->quantiles.size(); ++i) m->remaining.push_back(get_ensemble(r, L, 1));
  return m;
}

}  // namespace

std::string Learner::save() const {
  Writer w;
  {
    std::shared_lock lock(impl_->mutex);
    const Impl& im = *impl_;
    put_options(w, im.options);
    w.u64(im.traces.size());
    for (const Trace& t : im.traces) put_trace(w, t);
    w.u64(im.total_traces);
    w.u64(im.total_steps);
    w.u64(im.since_train);
    w.u64(im.counts.trie.size());
    for (const CountTables::Node& n : im.counts.trie) {
      w.u64(n.child.size());
      for (const auto& [a, c] : n.child) {
        w.str(a);
        w.u32(c);
      }
      put_counts(w, n.next);
      w.u64(n.cases);
    }
    w.u64(im.counts.suffix.size());
    for (const auto& [key, next] : im.counts.suffix) {
      w.u64(key.size());
      for (const std::string& a : key) w.str(a);
      put_counts(w, next);
    }
    put_counts(w, im.activity_counts);
    w.u64(im.durations_days.size());
    for (double d : im.durations_days) w.f64(d);
    w.boolean(im.models != nullptr);
    if (im.models) put_models(w, *im.models);
  }
  const std::string& payload = w.bytes();
  Writer out;
  out.bytes().assign(kMagic, 8);
  out.u32(kFormat);
  out.u64(payload.size());
  out.u32(crc_of(payload));
  out.bytes() += payload;
  return std::move(out.bytes());
}

Learner Learner::load(std::string_view bytes) {
  if (bytes.size() < kHeader || std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw Error(ErrorCode::storage, "not an acm learned template (bad magic)");
  const auto format = static_cast<std::uint32_t>(get_le(bytes, 8, 4));
  if (format > kFormat)
    throw Error(ErrorCode::storage,
                fmt::format("learned template format {} is newer than this acm (reads format {})", format, kFormat));
  if (format < 3)
    throw Error(ErrorCode::storage,
                fmt::format("learned template format {} is no longer read (this acm reads formats 3 and {}): "
                            "learn again from the log or the closed cases",
                            format, kFormat));
  const std::uint64_t length = get_le(bytes, 12, 8);
  if (length != bytes.size() - kHeader)
    throw Error(ErrorCode::storage,
                fmt::format("learned template is truncated or padded: {} payload bytes expected, {} present", length,
                            bytes.size() - kHeader));
  const std::string_view payload = bytes.substr(kHeader);
  if (crc_of(payload) != static_cast<std::uint32_t>(get_le(bytes, 20, 4)))
    throw Error(ErrorCode::storage, "learned template is damaged (checksum mismatch)");
  Reader r(payload);
  LearnerOptions o = get_options(r, format);
  Learner l(o);
  Impl& im = *l.impl_;
  const std::size_t traces = r.count("traces", 40);
  for (std::size_t i = 0; i < traces; ++i) im.traces.push_back(get_trace(r));
  im.total_traces = r.u64();
  im.total_steps = r.u64();
  im.since_train = r.u64();
  const std::size_t nodes = r.count("count-table nodes", 24, kMaxCountNodes);
  if (nodes == 0) r.fail("the count table has no root");
  im.counts.trie.resize(nodes);
  for (std::size_t i = 0; i < nodes; ++i) {
    CountTables::Node& n = im.counts.trie[i];
    const std::size_t children = r.count("count-table children", 12);
    for (std::size_t j = 0; j < children; ++j) {
      std::string a = r.str();
      const std::uint32_t c = r.u32();
      if (c <= i || c >= nodes) r.fail(fmt::format("count-table node {} has a child {} outside the table", i, c));
      n.child[std::move(a)] = c;
    }
    n.next = get_counts(r);
    n.cases = r.u64();
  }
  const std::size_t suffixes = r.count("suffix contexts", 16, kMaxCountNodes);
  for (std::size_t i = 0; i < suffixes; ++i) {
    std::vector<std::string> key(r.count("suffix length", 8, kSuffix));
    if (key.empty()) r.fail("an empty suffix context");
    for (std::string& a : key) a = r.str();
    im.counts.suffix[std::move(key)] = get_counts(r);
  }
  for (const CountTables::Node& n : im.counts.trie) im.counts.entries += n.next.size();
  for (const auto& [key, next] : im.counts.suffix) im.counts.entries += next.size();
  if (im.counts.entries > CountTables::kMaxEntries)
    r.fail(fmt::format("the count tables hold {} successor counts, more than the bound {}", im.counts.entries,
                       CountTables::kMaxEntries));
  im.activity_counts = get_counts(r);
  const std::size_t durations = r.count("durations", 8);
  for (std::size_t i = 0; i < durations; ++i) im.durations_days.push_back(r.f64());
  if (r.boolean("has models")) im.models = get_models(r, format);
  if (!r.done()) r.fail(fmt::format("{} bytes after the end of the data", r.left()));
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
  auto fail = [&](const std::string& what) {
    throw Error(ErrorCode::storage, fmt::format("{}: {}", path.string(), what));
  };
  // The header first: a foreign file (or /dev/zero) is refused after 24 bytes, and the length
  // it announces bounds what is read.
  std::string bytes(kHeader, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(kHeader));
  if (static_cast<std::size_t>(in.gcount()) < kHeader || std::memcmp(bytes.data(), kMagic, 8) != 0)
    fail("not an acm learned template (bad magic)");
  const std::uint64_t length = get_le(bytes, 12, 8);
  if (length > kMaxFileBytes)
    fail(fmt::format("learned template announces {} bytes, more than the limit {}", length, kMaxFileBytes));
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && std::filesystem::is_regular_file(path) && size != kHeader + length)
    fail(fmt::format("learned template is truncated or padded: {} payload bytes expected, {} present", length,
                     size < kHeader ? 0 : size - kHeader));
  // Read in chunks: memory follows the bytes actually there, not the length announced.
  std::uint64_t got = 0;
  while (got < length) {
    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(length - got, 1u << 20));
    bytes.resize(kHeader + static_cast<std::size_t>(got) + chunk);
    in.read(bytes.data() + kHeader + got, static_cast<std::streamsize>(chunk));
    got += static_cast<std::uint64_t>(in.gcount());
    if (static_cast<std::size_t>(in.gcount()) < chunk) break;
  }
  if (got != length)
    fail(fmt::format("learned template is truncated: {} payload bytes expected, {} present", length, got));
  if (in.peek() != std::char_traits<char>::eof()) fail("learned template is padded: bytes after the announced length");
  try {
    return load(bytes);
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("{}: {}", path.string(), e.what()));
  }
}

}  // namespace acm::learn
