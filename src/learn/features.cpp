// SPDX-License-Identifier: Apache-2.0
#include "learn/features.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <unordered_map>

namespace acm::learn {
namespace {

constexpr int kMaxCategories = 250;

Codebook codebook_of(const std::unordered_map<std::string, std::uint64_t>& counts, int min_count) {
  std::vector<std::pair<std::string, std::uint64_t>> v(counts.begin(), counts.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  Codebook cb;
  for (const auto& [value, n] : v) {
    if (static_cast<int>(cb.values.size()) >= kMaxCategories) break;
    if (n < static_cast<std::uint64_t>(std::max(1, min_count))) break;
    cb.codes.emplace(value, static_cast<int>(cb.values.size()));
    cb.values.push_back(value);
  }
  return cb;
}

using days_t = std::chrono::days;

double days(Duration d) { return static_cast<double>(d.count()) / 86'400'000.0; }

std::string show_days(double d) {
  if (d < 1.0 / 24) return fmt::format("{:.0f} min", d * 1440);
  if (d < 2) return fmt::format("{:.1f} h", d * 24);
  return fmt::format("{:.1f} d", d);
}

}  // namespace

FeatureLayout FeatureLayout::build(const std::vector<const Trace*>& traces, const LearnerOptions& options) {
  FeatureLayout l;
  l.calendar_time = options.calendar_time;
  std::unordered_map<std::string, std::uint64_t> acts, res;
  std::map<std::string, std::unordered_map<std::string, std::uint64_t>> attrs;
  const bool all_attrs = std::find(options.attributes.begin(), options.attributes.end(), "*") != options.attributes.end();
  auto wanted = [&](const std::string& name) {
    return all_attrs || std::find(options.attributes.begin(), options.attributes.end(), name) != options.attributes.end();
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
    Codebook cb = codebook_of(counts, options.min_value_count);
    if (cb.values.empty()) continue;  // nothing frequent enough to tell cases apart
    l.attribute_names.push_back(name);
    l.attribute_values.push_back(std::move(cb));
  }
  using gbdt::FeatureKind;
  const int acode = l.activities.size();
  l.c_last = l.specs.size();
  l.specs.push_back({"last activity", FeatureKind::categorical, acode});
  l.specs.push_back({"activity before last", FeatureKind::categorical, acode});
  l.specs.push_back({"third last activity", FeatureKind::categorical, acode});
  l.c_steps = l.specs.size();
  l.specs.push_back({"steps so far", FeatureKind::numeric, 0});
  l.c_counts = l.specs.size();
  for (const std::string& a : l.activities.values) l.specs.push_back({"times " + a, FeatureKind::numeric, 0});
  l.c_elapsed = l.specs.size();
  l.specs.push_back({"elapsed", FeatureKind::numeric, 0});
  l.c_since = l.specs.size();
  l.specs.push_back({"time since previous step", FeatureKind::numeric, 0});
  if (l.calendar_time) {
    l.c_weekday = l.specs.size();
    l.specs.push_back({"weekday of last step", FeatureKind::numeric, 0});
    l.c_hour = l.specs.size();
    l.specs.push_back({"hour of last step", FeatureKind::numeric, 0});
    l.c_date = l.specs.size();
    l.specs.push_back({"date of last step", FeatureKind::numeric, 0});
    l.c_start = l.specs.size();
    l.specs.push_back({"date of first step", FeatureKind::numeric, 0});
  }
  l.c_resource = l.specs.size();
  if (!l.resources.values.empty()) l.specs.push_back({"resource of last step", FeatureKind::categorical, l.resources.size()});
  l.c_attrs = l.specs.size();
  for (std::size_t i = 0; i < l.attribute_names.size(); ++i)
    l.specs.push_back({"attribute " + l.attribute_names[i], FeatureKind::categorical, l.attribute_values[i].size()});
  return l;
}

void FeatureLayout::for_each_prefix(const Trace& t,
                                    const std::function<void(std::size_t, const std::vector<float>&)>& row) const {
  std::vector<float> v(width(), 0.0f);
  const float none = static_cast<float>(activities.size() - 1);  // the "other" code
  v[c_last] = v[c_last + 1] = v[c_last + 2] = none;
  // Case attributes first; step attributes override them as they arrive.
  for (std::size_t i = 0; i < attribute_names.size(); ++i) {
    v[c_attrs + i] = static_cast<float>(attribute_values[i].size() - 1);
    for (const auto& [k, val] : t.attributes)
      if (k == attribute_names[i]) v[c_attrs + i] = static_cast<float>(attribute_values[i].code(val));
  }
  if (!resources.values.empty()) v[c_resource] = static_cast<float>(resources.size() - 1);
  const std::size_t n = t.steps.size();
  for (std::size_t k = 1; k <= n; ++k) {
    const Step& s = t.steps[k - 1];
    const int a = activities.code(s.activity);
    v[c_last + 2] = v[c_last + 1];
    v[c_last + 1] = v[c_last];
    v[c_last] = static_cast<float>(a);
    if (a < static_cast<int>(activities.values.size())) v[c_counts + static_cast<std::size_t>(a)] += 1;
    v[c_steps] = static_cast<float>(k);
    v[c_elapsed] = static_cast<float>(days(s.time - t.steps.front().time));
    v[c_since] = k > 1 ? static_cast<float>(days(s.time - t.steps[k - 2].time)) : 0.0f;
    if (calendar_time) {
      using namespace std::chrono;
      const auto day = floor<days_t>(s.time);
      v[c_weekday] = static_cast<float>(weekday(sys_days(day)).c_encoding());
      v[c_hour] = static_cast<float>(static_cast<double>((s.time - day).count()) / 3'600'000.0);
      v[c_date] = static_cast<float>(day.time_since_epoch().count());
      v[c_start] = static_cast<float>(floor<days_t>(t.steps.front().time).time_since_epoch().count());
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
  std::vector<float> out(width(), 0.0f);
  if (t.steps.empty()) {
    const float none = static_cast<float>(activities.size() - 1);
    out[c_last] = out[c_last + 1] = out[c_last + 2] = none;
    return out;
  }
  for_each_prefix(t, [&](std::size_t k, const std::vector<float>& v) {
    if (k == t.steps.size()) out = v;
  });
  return out;
}

std::string FeatureLayout::describe(std::size_t c, const std::vector<float>& row) const {
  const float v = row[c];
  auto cat = [&](const Codebook& cb, const char* none) -> std::string {
    const int code = static_cast<int>(v);
    return code >= 0 && code < static_cast<int>(cb.values.size()) ? cb.values[static_cast<std::size_t>(code)]
                                                                   : std::string(none);
  };
  if (c >= c_last && c < c_last + 3) return cat(activities, "(none or rare)");
  if (c == c_elapsed || c == c_since) return show_days(v);
  if (calendar_time) {
    static constexpr const char* kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
    if (c == c_weekday) return kDays[static_cast<int>(v) % 7];
    if (c == c_hour) return fmt::format("{:02d}:{:02d}", static_cast<int>(v), static_cast<int>((v - static_cast<int>(v)) * 60));
    if (c == c_date || c == c_start)
      return format_time(TimePoint{std::chrono::duration_cast<Duration>(days_t(static_cast<int>(v)))}).substr(0, 10);
  }
  if (!resources.values.empty() && c == c_resource) return cat(resources, "(other)");
  if (c >= c_attrs && c < c_attrs + attribute_names.size()) return cat(attribute_values[c - c_attrs], "(other)");
  return fmt::format("{:g}", v);
}

}  // namespace acm::learn
