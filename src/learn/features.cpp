// SPDX-License-Identifier: Apache-2.0
#include "learn/features.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace acm::learn {
namespace {

constexpr int kMaxCategories = 250;  // codes fit a byte with "rare" and "none" (trees bin by byte)
constexpr int kMaxCounted = 16;      // activities with their own count/time columns and class

Codebook codebook_of(const std::unordered_map<std::string, std::uint64_t>& counts, int min_count) {
  std::vector<std::pair<std::string, std::uint64_t>> v(counts.begin(), counts.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  Codebook cb;
  for (const auto& [value, n] : v) {
    if (static_cast<int>(cb.values.size()) >= kMaxCategories) break;
    if (n < static_cast<std::uint64_t>(std::max(1, min_count))) break;
    cb.values.push_back(value);
  }
  cb.index();
  return cb;
}

double days(Duration d) { return static_cast<double>(d.count()) / 86'400'000.0; }

}  // namespace

void Codebook::index() {
  codes.clear();
  codes.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) codes.emplace(values[i], static_cast<int>(i));
}

std::uint64_t ContextTable::key(const std::vector<int>& symbols, std::size_t end, std::size_t len) {
  std::uint64_t k = len;
  for (std::size_t i = end - len; i < end; ++i) k = (k << 8) | static_cast<std::uint64_t>(symbols[i] & 0xff);
  return k;
}

ContextTable::Match ContextTable::longest(const std::vector<int>& symbols, std::size_t end,
                                          const ContextTable* minus) const {
  for (std::size_t len = std::min<std::size_t>(static_cast<std::size_t>(order), end); len >= 1; --len) {
    const std::uint64_t k = key(symbols, end, len);
    auto it = table.find(k);
    if (it == table.end()) continue;
    const ContextStats* sub = nullptr;
    if (minus) {
      auto m = minus->table.find(k);
      if (m != minus->table.end()) sub = &m->second;
    }
    if (it->second.cases - (sub ? sub->cases : 0) >= min_support) return Match{&it->second, sub, len, len == end};
  }
  return {};
}

namespace {
/// Adds the classes of the last `n` transitions of `v` known before `to` to `out`.
double count_in(const std::vector<RecentIndex::Transition>& v, int classes, std::int64_t to, std::size_t n,
                float* out) {
  const auto hi = std::lower_bound(v.begin(), v.end(), to,
                                   [](const RecentIndex::Transition& t, std::int64_t x) { return t.known < x; });
  const auto lo = hi - std::min<std::ptrdiff_t>(hi - v.begin(), static_cast<std::ptrdiff_t>(n));
  for (auto it = lo; it != hi; ++it)
    if (it->cls < classes) out[it->cls] += 1;
  return static_cast<double>(hi - lo);
}
}  // namespace

double RecentIndex::count_pair(int before, int last, std::int64_t to, std::size_t n, float* out) const {
  for (int c = 0; c < classes; ++c) out[c] = 0;
  if (before < 0 || before > symbols || last < 0 || last >= symbols) return 0;
  auto it = after_pair.find(pair_key(before, last));
  return it == after_pair.end() ? 0 : count_in(it->second, classes, to, n, out);
}

namespace {
double quantiles_in(const std::vector<RecentIndex::Ended>& v, std::int64_t to, std::size_t n, float* out) {
  const auto hi =
      std::lower_bound(v.begin(), v.end(), to, [](const RecentIndex::Ended& e, std::int64_t x) { return e.known < x; });
  const auto lo = hi - std::min<std::ptrdiff_t>(hi - v.begin(), static_cast<std::ptrdiff_t>(n));
  out[0] = out[1] = out[2] = -1.0f;
  if (hi == lo) return 0;
  thread_local std::vector<float> d;
  d.clear();
  for (auto it = lo; it != hi; ++it) d.push_back(it->days);
  std::sort(d.begin(), d.end());
  auto q = [&](double p) {
    return d[std::min(d.size() - 1, static_cast<std::size_t>(p * static_cast<double>(d.size())))];
  };
  out[0] = q(0.25);
  out[1] = q(0.5);
  out[2] = q(0.75);
  return static_cast<double>(d.size());
}
}  // namespace

double RecentIndex::remaining(int symbol, std::int64_t to, std::size_t n, float* out) const {
  out[0] = out[1] = out[2] = -1.0f;
  if (symbol < 0 || static_cast<std::size_t>(symbol) >= ended_after.size()) return 0;
  return quantiles_in(ended_after[static_cast<std::size_t>(symbol)], to, n, out);
}

double RecentIndex::count(int symbol, std::int64_t to, std::size_t n, float* out) const {
  for (int c = 0; c < classes; ++c) out[c] = 0;
  if (symbol < 0 || symbol >= symbols) return 0;
  return count_in(after[static_cast<std::size_t>(symbol)], classes, to, n, out);
}

void FeatureLayout::build_recent(const std::vector<const Trace*>& traces) {
  recent.symbols = activities.size();
  recent.classes = classes;
  recent.after.assign(static_cast<std::size_t>(recent.symbols), {});
  recent.after_pair.clear();
  recent.ended_after.assign(recent_times > 0 ? static_cast<std::size_t>(recent.symbols) : 0, {});
  for (const Trace* t : traces) {
    if (recent_times == 0) break;
    const TimePoint end = t->steps.back().time;
    for (const Step& st : t->steps)
      recent.ended_after[static_cast<std::size_t>(activities.code(st.activity))].push_back(
          {end.time_since_epoch().count(), static_cast<float>(days(end - st.time))});
  }
  for (auto& v : recent.ended_after)
    std::stable_sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.known < y.known; });
  if (recent_cases == 0) return;
  for (const Trace* t : traces) {
    const std::size_t n = t->steps.size();
    for (std::size_t k = 1; k <= n; ++k) {
      const int a = activities.code(t->steps[k - 1].activity);
      const int y = k < n ? class_of(t->steps[k].activity) : end_class();
      const TimePoint known = k < n ? t->steps[k].time : t->steps.back().time;
      recent.after[static_cast<std::size_t>(a)].push_back(
          {known.time_since_epoch().count(), static_cast<std::uint16_t>(y)});
      const int before = k >= 2 ? activities.code(t->steps[k - 2].activity) : recent.symbols;
      recent.after_pair[recent.pair_key(before, a)].push_back(
          {known.time_since_epoch().count(), static_cast<std::uint16_t>(y)});
    }
  }
  for (auto& v : recent.after)
    std::stable_sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.known < y.known; });
  for (auto& [key, v] : recent.after_pair)
    std::stable_sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.known < y.known; });
}

FeatureLayout FeatureLayout::build(const std::vector<const Trace*>& traces, const LearnerOptions& options) {
  FeatureLayout l;
  l.calendar_time = options.calendar_time;
  l.context.order = std::clamp(options.context_order, 1, ContextTable::kMaxOrder);
  l.context.min_support = static_cast<std::uint32_t>(std::max(1, options.context_min_support));
  l.recent_cases = options.recent_cases;
  l.recent_times = options.recent_times;
  std::unordered_map<std::string, std::uint64_t> acts, res;
  std::map<std::string, std::unordered_map<std::string, std::uint64_t>> attrs;
  const bool all_attrs =
      std::find(options.attributes.begin(), options.attributes.end(), "*") != options.attributes.end();
  auto wanted = [&](const std::string& name) {
    return all_attrs ||
           std::find(options.attributes.begin(), options.attributes.end(), name) != options.attributes.end();
  };
  for (const Trace* t : traces) {
    for (const auto& [k, v] : t->attributes)
      if (wanted(k)) ++attrs[k][v];
    for (const Step& s : t->steps) {
      ++acts[s.activity];
      if (!s.resource.empty()) ++res[s.resource];
      for (const auto& [k, v] : s.attributes)
        if (wanted(k)) ++attrs[k][v];
    }
  }
  l.activities = codebook_of(acts, 1);
  l.resources = codebook_of(res, options.min_value_count);
  for (const auto& [name, counts] : attrs) {
    if (l.attribute_names.size() >= static_cast<std::size_t>(kMaxCategories)) break;  // bounded width
    Codebook cb = codebook_of(counts, options.min_value_count);
    if (cb.values.empty()) continue;  // nothing frequent enough to tell cases apart
    l.attribute_names.push_back(name);
    l.attribute_values.push_back(std::move(cb));
  }
  l.counted = std::min(kMaxCounted, static_cast<int>(l.activities.values.size()));
  l.classes = l.counted + 2;
  l.place_columns();
  return l;
}

void FeatureLayout::place_columns() {
  using gbdt::FeatureKind;
  specs.clear();
  const int acode = activities.size();
  auto add = [&](std::string name, FeatureKind kind = FeatureKind::numeric, int cats = 0) {
    specs.push_back({std::move(name), kind, cats});
    return specs.size() - 1;
  };
  c_last = add("last activity", FeatureKind::categorical, acode);
  add("activity before last", FeatureKind::categorical, acode);
  add("third last activity", FeatureKind::categorical, acode);
  c_steps = add("steps so far");
  c_counts = specs.size();
  for (int i = 0; i < counted; ++i) add("times " + activities.values[static_cast<std::size_t>(i)]);
  c_rare_count = add("times a rare activity");
  c_distinct = add("distinct activities");
  c_repeat_last = add("times the last activity");
  c_since_each = specs.size();
  for (int i = 0; i < counted; ++i) add("time since " + activities.values[static_cast<std::size_t>(i)]);
  c_elapsed = add("elapsed");
  c_since = add("time since previous step");
  c_ctx_len = add("matched steps");
  c_ctx_support = add("similar past cases");
  c_ctx_probs = specs.size();
  for (int i = 0; i < classes; ++i) add("share of similar cases going on to class " + std::to_string(i));
  c_ctx_remaining = add("time left in similar cases");
  c_recent_count = specs.size();
  c_recent_probs = specs.size();
  if (recent_cases > 0) {
    c_recent_count = add("recent cases after the same step");
    c_recent_probs = specs.size();
    for (int i = 0; i < classes; ++i) add("share of recent cases going on to class " + std::to_string(i));
    c_pair_count = add("recent cases after the same two steps");
    c_pair_probs = specs.size();
    for (int i = 0; i < classes; ++i)
      add("share of recent cases after the same two steps going on to class " + std::to_string(i));
  }
  c_rt_count = c_rt_q = specs.size();
  if (recent_times > 0) {
    c_rt_count = add("recent cases ended after the same step");
    c_rt_q = add("time left after the same step in recent cases, lower quartile");
    add("time left after the same step in recent cases, median");
    add("time left after the same step in recent cases, upper quartile");
  }
  if (calendar_time) {
    c_weekday = add("weekday of last step");
    c_hour = add("hour of last step");
  }
  c_resource = specs.size();
  if (!resources.values.empty()) add("resource of last step", FeatureKind::categorical, resources.size());
  c_attrs = specs.size();
  for (std::size_t i = 0; i < attribute_names.size(); ++i)
    add("attribute " + attribute_names[i], FeatureKind::categorical, attribute_values[i].size());
}

int FeatureLayout::class_of(const std::string& activity) const {
  if (activity.empty()) return end_class();
  const int c = activities.code(activity);
  return c < counted ? c : rare_class();
}

std::vector<int> FeatureLayout::symbols(const Trace& t) const {
  std::vector<int> s;
  s.reserve(t.steps.size() + 1);
  s.push_back(ContextTable::kStart);
  for (const Step& st : t.steps) s.push_back(activities.code(st.activity));
  return s;
}

void FeatureLayout::add_context(const Trace& t, float weight, ContextTable* fold) {
  if (fold) fold->order = context.order;
  const std::vector<int> sym = symbols(t);
  const std::size_t n = t.steps.size();
  for (std::size_t k = 1; k <= n; ++k) {
    const int y = k < n ? class_of(t.steps[k].activity) : end_class();
    const double remaining = k < n ? days(t.steps.back().time - t.steps[k - 1].time) : 0.0;
    for (std::size_t len = 1; len <= std::min<std::size_t>(static_cast<std::size_t>(context.order), k + 1); ++len) {
      const std::uint64_t key = ContextTable::key(sym, k + 1, len);
      for (ContextTable* table : {&context, fold}) {
        if (!table) continue;
        auto it = table->table.find(key);
        if (it == table->table.end()) {
          if (table->table.size() >= ContextTable::kMaxContexts) continue;  // bounded: new contexts dropped
          if (table == fold && !context.table.count(key)) continue;         // never more than the whole
          it = table->table.emplace(key, ContextStats{}).first;
        }
        ContextStats& s = it->second;
        ++s.cases;
        s.weight += weight;
        if (k < n) {
          ++s.continuing;
          s.remaining_days += static_cast<float>(remaining);
        }
        auto nx = std::find_if(s.next.begin(), s.next.end(), [&](const ContextStats::Next& e) { return e.cls == y; });
        if (nx == s.next.end()) {
          s.next.push_back({static_cast<std::uint16_t>(y), 0, 0});
          nx = s.next.end() - 1;
        }
        ++nx->count;
        nx->weight += weight;
      }
    }
  }
}

ContextTable::Match FeatureLayout::context_of(const Trace& t) const {
  const std::vector<int> sym = symbols(t);
  return context.longest(sym, sym.size(), nullptr);
}

void FeatureLayout::for_each_prefix(const Trace& t, const ContextTable* minus,
                                    const std::function<void(std::size_t, const std::vector<float>&)>& row) const {
  std::vector<float> v(width(), 0.0f);
  const float none = static_cast<float>(activities.none());
  v[c_last] = v[c_last + 1] = v[c_last + 2] = none;
  for (int i = 0; i < counted; ++i) v[c_since_each + static_cast<std::size_t>(i)] = -1.0f;
  // Case attributes first; step attributes override them as they arrive.
  for (std::size_t i = 0; i < attribute_names.size(); ++i) {
    v[c_attrs + i] = static_cast<float>(attribute_values[i].none());
    for (const auto& [k, val] : t.attributes)
      if (k == attribute_names[i]) v[c_attrs + i] = static_cast<float>(attribute_values[i].code(val));
  }
  if (!resources.values.empty()) v[c_resource] = static_cast<float>(resources.none());
  const std::vector<int> sym = symbols(t);
  std::vector<TimePoint> last_seen(static_cast<std::size_t>(counted), TimePoint::min());
  std::vector<std::uint32_t> times(static_cast<std::size_t>(activities.size()), 0);
  std::size_t distinct = 0;
  const std::size_t n = t.steps.size();
  for (std::size_t k = 1; k <= n; ++k) {
    const Step& s = t.steps[k - 1];
    const int a = sym[k];
    v[c_last + 2] = v[c_last + 1];
    v[c_last + 1] = v[c_last];
    v[c_last] = static_cast<float>(a);
    if (times[static_cast<std::size_t>(a)]++ == 0 || a == activities.rare()) ++distinct;
    if (a < counted) {
      v[c_counts + static_cast<std::size_t>(a)] += 1;
      last_seen[static_cast<std::size_t>(a)] = s.time;
    } else {
      v[c_rare_count] += 1;
    }
    v[c_steps] = static_cast<float>(k);
    v[c_distinct] = static_cast<float>(distinct);
    v[c_repeat_last] = static_cast<float>(times[static_cast<std::size_t>(a)]);
    for (int i = 0; i < counted; ++i)
      if (last_seen[static_cast<std::size_t>(i)] != TimePoint::min())
        v[c_since_each + static_cast<std::size_t>(i)] =
            static_cast<float>(days(s.time - last_seen[static_cast<std::size_t>(i)]));
    v[c_elapsed] = static_cast<float>(days(s.time - t.steps.front().time));
    v[c_since] = k > 1 ? static_cast<float>(days(s.time - t.steps[k - 2].time)) : 0.0f;

    // What followed the same latest steps in past cases (for a training trace: in the other
    // folds only).
    const ContextTable::Match m = context.longest(sym, k + 1, minus);
    for (int c = 0; c < classes; ++c) v[c_ctx_probs + static_cast<std::size_t>(c)] = 0;
    if (m.stats) {
      const ContextStats* sub = m.minus;
      auto sub_count = [&](std::uint16_t cls) -> double {
        if (!sub) return 0;
        for (const ContextStats::Next& e : sub->next)
          if (e.cls == cls) return e.count;
        return 0;
      };
      const double cases = static_cast<double>(m.stats->cases) - (sub ? sub->cases : 0);
      const double cont = static_cast<double>(m.stats->continuing) - (sub ? sub->continuing : 0);
      const double rem = static_cast<double>(m.stats->remaining_days) - (sub ? sub->remaining_days : 0);
      for (const ContextStats::Next& e : m.stats->next)
        if (e.cls < classes && cases > 0)
          v[c_ctx_probs + e.cls] = static_cast<float>((e.count - sub_count(e.cls)) / cases);
      v[c_ctx_len] = static_cast<float>(m.length);
      v[c_ctx_support] = static_cast<float>(cases);
      v[c_ctx_remaining] = cont > 0 ? static_cast<float>(std::max(0.0, rem / cont)) : -1.0f;
    } else {
      v[c_ctx_len] = 0;
      v[c_ctx_support] = 0;
      v[c_ctx_remaining] = -1.0f;
    }
    if (recent_cases > 0) {
      // What followed the same last step in the latest cases before it (known before it).
      const double total = recent.count(a, s.time.time_since_epoch().count(), recent_cases, &v[c_recent_probs]);
      v[c_recent_count] = static_cast<float>(total);
      for (int c = 0; c < classes; ++c)
        v[c_recent_probs + static_cast<std::size_t>(c)] =
            total > 0 ? static_cast<float>(v[c_recent_probs + static_cast<std::size_t>(c)] / total) : 0.0f;
      // The same after the same two steps (the step before the last, or "none", and the last).
      const int before = k >= 2 ? sym[k - 1] : recent.symbols;
      float* pair = &v[c_pair_probs];
      const double pairs = recent.count_pair(before, a, s.time.time_since_epoch().count(), recent_cases, pair);
      v[c_pair_count] = static_cast<float>(pairs);
      for (int c = 0; c < classes; ++c) pair[c] = pairs > 0 ? static_cast<float>(pair[c] / pairs) : 0.0f;
    }
    if (recent_times > 0)
      // The time left after the same last step in the latest cases that ended before it.
      v[c_rt_count] =
          static_cast<float>(recent.remaining(a, s.time.time_since_epoch().count(), recent_times, &v[c_rt_q]));
    if (calendar_time) {
      using namespace std::chrono;
      const auto day = floor<std::chrono::days>(s.time);
      v[c_weekday] = static_cast<float>(weekday(sys_days(day)).c_encoding());
      v[c_hour] = static_cast<float>(static_cast<double>((s.time - day).count()) / 3'600'000.0);
    }
    if (!resources.values.empty() && !s.resource.empty())
      v[c_resource] = static_cast<float>(resources.code(s.resource));
    for (const auto& [key, val] : s.attributes)
      for (std::size_t i = 0; i < attribute_names.size(); ++i)
        if (key == attribute_names[i]) v[c_attrs + i] = static_cast<float>(attribute_values[i].code(val));
    row(k, v);
  }
}

std::vector<float> FeatureLayout::features(const Trace& t) const {
  std::vector<float> out;
  if (t.steps.empty()) {
    // Nothing done yet: an empty prefix (only the start marker as context).
    out.assign(width(), 0.0f);
    out[c_last] = out[c_last + 1] = out[c_last + 2] = static_cast<float>(activities.none());
    for (int i = 0; i < counted; ++i) out[c_since_each + static_cast<std::size_t>(i)] = -1.0f;
    out[c_ctx_remaining] = -1.0f;
    if (recent_times > 0) out[c_rt_q] = out[c_rt_q + 1] = out[c_rt_q + 2] = -1.0f;
    for (std::size_t i = 0; i < attribute_names.size(); ++i) {
      out[c_attrs + i] = static_cast<float>(attribute_values[i].none());
      for (const auto& [k, val] : t.attributes)
        if (k == attribute_names[i]) out[c_attrs + i] = static_cast<float>(attribute_values[i].code(val));
    }
    if (!resources.values.empty()) out[c_resource] = static_cast<float>(resources.none());
    return out;
  }
  for_each_prefix(t, nullptr, [&](std::size_t k, const std::vector<float>& v) {
    if (k == t.steps.size()) out = v;
  });
  return out;
}

}  // namespace acm::learn
