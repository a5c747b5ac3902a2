// SPDX-License-Identifier: Apache-2.0
// learn/from_log.cpp - an imported event-log case (acm/eventlog.hpp) as a learner trace.
#include <acm/eventlog.hpp>
#include <acm/learn.hpp>

#include <algorithm>

namespace acm::learn {

Trace trace_of(const eventlog::LogCase& log_case) {
  Trace t;
  t.id = log_case.id;
  t.attributes = log_case.attributes;
  t.steps.reserve(log_case.events.size());
  for (const eventlog::LogEvent& e : log_case.events)
    t.steps.push_back(Step{e.activity, e.time, e.resource, false, e.attributes});
  // Logs are usually in time order already; a stable sort keeps the file order of ties.
  auto by_time = [](const Step& a, const Step& b) { return a.time < b.time; };
  if (!std::is_sorted(t.steps.begin(), t.steps.end(), by_time))
    std::stable_sort(t.steps.begin(), t.steps.end(), by_time);
  return t;
}

}  // namespace acm::learn
