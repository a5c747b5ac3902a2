// SPDX-License-Identifier: Apache-2.0
// acm/from_json.hpp - reading the JSON shapes of command arguments (docs/json.md, "Command
// arguments"): a new case, a goal, a goal change, a fragment use, an ad-hoc task, an asset, a
// promise, a queue filter, a case query.
//
// The C ABI (acm_case_create, acm_goal_add, ...), acm-server (the bodies of POST /v1/cases, ...)
// and the `acm` CLI (--spec) read them with these functions, so the keys, the defaults and the
// error messages are written once. The reading is strict: an unknown key, a value of the wrong
// type or a missing required key is an Error(ErrorCode::invalid_argument) whose message names
// the argument and the field, e.g.
//
//   case: 'participants[1].actor' is required
//   goal: 'within' must be a duration string ("PT4H", "90m")
//   task: unknown key 'estimte' (known: 'name', 'kind', ...)
//
// What the engine checks itself (an asset kind, a goal's parent) is left to the engine.
// Thread safety: the functions are pure.
#pragma once

#include <acm/engine.hpp>
#include <acm/json.hpp>
#include <acm/time.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acm {

/// Reads the keys of one JSON object strictly: every key must be one of `keys`, every value of
/// the type asked for. Absent keys give the fallback. Errors: Error(invalid_argument) naming
/// `what` and the field's path.
class JsonObjectReader {
 public:
  /// `what` names the argument in messages ("case"); `path` is where this object sits inside it
  /// ("" for the argument itself, "participants[1]"). Errors: `j` is not an object, or has a
  /// key not in `keys`.
  JsonObjectReader(const Json& j, std::string what, std::initializer_list<std::string_view> keys,
                   std::string path = {});

  bool has(const char* key) const { return j_.contains(key); }
  /// The raw value (precondition: has(key)).
  const Json& at(const char* key) const { return j_.at(key); }
  /// A string ("" when absent).
  std::string str(const char* key) const;
  /// A string that must be there and not be empty.
  std::string required_str(const char* key) const;
  bool boolean(const char* key, bool fallback) const;
  /// An integer in [min, max].
  long long integer(const char* key, long long fallback, long long min, long long max) const;
  /// Any JSON number.
  double number(const char* key, double fallback) const;
  /// An array of strings ({} when absent).
  std::vector<std::string> strings(const char* key) const;
  /// An RFC 3339 string or integer milliseconds since the epoch; null or absent: nullopt.
  std::optional<TimePoint> time(const char* key) const;
  /// A duration string ("PT4H", "90m"); null or absent: nullopt.
  std::optional<Duration> duration(const char* key) const;
  /// An object ({} when absent).
  Json object(const char* key) const;
  /// A reader of the object at `key` (precondition: has(key)).
  JsonObjectReader child(const char* key, std::initializer_list<std::string_view> keys) const;
  /// The array at `key` ({} when absent); errors when it is not an array.
  const Json& array(const char* key) const;
  /// The path of `key` as messages show it ("participants[1].actor").
  std::string field(std::string_view key) const;
  /// Throws Error(invalid_argument): "<what>: '<field of key>' <problem>".
  [[noreturn]] void fail(const char* key, std::string_view problem) const;

 private:
  Json j_;  ///< a copy: readers are often built on a temporary
  std::string what_, path_;
};

/// {"id", "type", "type_version", "title", "subject": {"customer", "attributes"}, "owner",
/// "priority", "participants": [{"actor", "roles"}], "file"}: everything optional but a
/// participant's "actor".
NewCase new_case_from_json(const Json& j);
/// {"id", "name", "owner", "parent", "required", "deadline", "within", "anchor", "criterion",
/// "milestones", "decision"}: "id" required; "required" defaults to true.
GoalSpec goal_spec_from_json(const Json& j);
/// {"name", "owner", "required", "deadline", "criterion", "milestones"}: only the keys given
/// change; "deadline": null removes the deadline.
GoalChange goal_change_from_json(const Json& j);
/// "FRAGMENT_ID" or {"fragment", "version", "goal", "params", "stage"}: "fragment" required.
FragmentUse fragment_use_from_json(const Json& j);

/// A fragment use and the plan items it waits for (Engine::add_fragment's arguments).
struct FragmentAddition {
  FragmentUse use;
  std::vector<std::string> after;
};
/// As fragment_use_from_json (an object only), with "after": [item ids].
FragmentAddition fragment_addition_from_json(const Json& j);
/// {"name", "kind", "role", "skills", "estimate", "due", "handler", "input", "output", "goal",
/// "assignee", "after", "required", "manual"}: "name" required; "kind" an ItemKind name.
AdHocTask ad_hoc_task_from_json(const Json& j);
/// {"id", "kind", "title", "uri", "text", "media_type", "metadata"}: "kind" required.
Asset asset_from_json(const Json& j);
/// {"id", "what", "due"}: "id" and "due" required.
PromiseSpec promise_spec_from_json(const Json& j);
/// {"assignee", "roles", "skills", "overdue_at", "limit" (default 50), "offset"}.
QueueFilter queue_filter_from_json(const Json& j);
/// {"status": name or [names], "owner", "customer", "limit" (default 50, at most 10000),
/// "offset"}.
CaseQuery case_query_from_json(const Json& j);

/// "active", "suspended", ...: Error(invalid_argument) listing the names otherwise.
CaseStatus case_status_from_name(std::string_view name);
/// "human_task", "automated_task", ...: Error(invalid_argument) listing the names otherwise.
ItemKind item_kind_from_name(std::string_view name);

}  // namespace acm
