// SPDX-License-Identifier: Apache-2.0
// bindings/http/body_json.hpp - strict reading of request bodies into the engine's argument
// types: unknown keys and wrong types are refused with Error(invalid_argument) naming the key.
// The keys are those of the C ABI (bindings/c/include/acm/c.h) and docs/http.md.
#pragma once

#include <acm/engine.hpp>
#include <acm/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acm::http {

/// Reads the keys of one JSON object, refusing unknown keys and wrong types.
class BodyReader {
 public:
  BodyReader(const Json& j, std::string what, std::initializer_list<std::string_view> keys);
  bool has(const char* key) const { return j_.contains(key); }
  const Json& at(const char* key) const { return j_.at(key); }
  std::string str(const char* key) const;
  /// As str, but the key must be there and not be empty.
  std::string required_str(const char* key) const;
  bool boolean(const char* key, bool fallback) const;
  long long integer(const char* key, long long fallback, long long min, long long max) const;
  std::vector<std::string> strings(const char* key) const;
  std::optional<TimePoint> time(const char* key) const;
  std::optional<Duration> duration(const char* key) const;
  Json object(const char* key) const;

 private:
  [[noreturn]] void wrong(const char* key, const char* expected) const;
  Json j_;  ///< a copy: readers are often built on a temporary body
  std::string what_;
};

NewCase new_case_of(const Json& j);
GoalSpec goal_spec_of(const Json& j);
GoalChange goal_change_of(const Json& j);
/// {"fragment", "version", "goal", "params", "after"}: the use and the items it waits for.
std::pair<FragmentUse, std::vector<std::string>> fragment_use_of(const Json& j);
AdHocTask ad_hoc_task_of(const Json& j);
Asset asset_of(const Json& j);
PromiseSpec promise_spec_of(const Json& j);
/// "active", "suspended", ... Error(invalid_argument) listing the names otherwise.
CaseStatus case_status_of(std::string_view name);

}  // namespace acm::http
