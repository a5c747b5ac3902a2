// SPDX-License-Identifier: Apache-2.0
// runtime/events.hpp - the kinds of event a case records, each defined once.
//
// A case is the fold of its events (runtime/state.hpp). Each kind has here: its name as stored
// (Event::kind, the `kind` column of the store), and one payload struct whose `to_json` is what
// the Decider writes (Decider::emit) and whose `read` is what the fold reads (apply). The JSON
// of every payload is the stored format: it must not change, or existing stores and snapshots
// would no longer load (docs/storage.md). Payload fields marked "history" are written for
// readers of the history (subscribers, the CLI, learning) and not read back by the fold; `read`
// leaves them at their defaults, so stores written before they existed still load.
//
// `read` checks what it reads (Payload): a missing key or a value of the wrong type is an
// Error(internal) naming the event, its kind and the key; reading a stored case turns it into
// Error(storage). No payload, however hostile, makes it crash.
#pragma once

#include <acm/case.hpp>
#include <acm/definition.hpp>
#include <acm/json.hpp>
#include <acm/time.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acm::runtime::events {

/// The event kinds. The order is internal (never stored: events are stored by name).
enum class Kind : std::uint8_t {
  case_created,
  owner_changed,
  participant_added,
  participant_removed,
  priority_changed,
  subject_changed,
  case_status,
  goal_added,
  goal_changed,
  goal_status,
  goal_timing,
  goal_paused,
  goal_resumed,
  promise_made,
  promise_timing,
  promise_kept,
  promise_broken,
  promise_cancelled,
  fragment_added,
  task_added,
  item_created,
  item_removed,
  dependency_added,
  item_transition,
  item_assigned,
  item_overdue,
  file_set,
  file_removed,
  asset_attached,
  signal,
  escalated,
  error,
  note,
};

/// The stored names, indexed by Kind.
inline constexpr std::array<std::string_view, 33> kNames{
    "case_created",     "owner_changed",   "participant_added", "participant_removed", "priority_changed",
    "subject_changed",  "case_status",     "goal_added",        "goal_changed",        "goal_status",
    "goal_timing",      "goal_paused",     "goal_resumed",      "promise_made",        "promise_timing",
    "promise_kept",     "promise_broken",  "promise_cancelled", "fragment_added",      "task_added",
    "item_created",     "item_removed",    "dependency_added",  "item_transition",     "item_assigned",
    "item_overdue",     "file_set",        "file_removed",      "asset_attached",      "signal",
    "escalated",        "error",           "note"};
static_assert(kNames.size() == static_cast<std::size_t>(Kind::note) + 1, "one name per kind");

/// The stored name of `kind`.
constexpr std::string_view name(Kind kind) noexcept { return kNames[static_cast<std::size_t>(kind)]; }
/// The kind stored as `name`; nullopt for a name that is no kind.
std::optional<Kind> kind_of(std::string_view name) noexcept;

/// An event's payload, read with checks: it must be a JSON object, and a key that is read must
/// be there with the type read. Every failure throws Error(internal) "event <seq> ('<kind>') of
/// case '<id>': the payload ...". Also reads an object nested in the payload (`nested`).
class Payload {
 public:
  /// Throws unless the event's payload is an object.
  explicit Payload(const Event& event);

  bool contains(const char* key) const { return json_->contains(key); }
  /// The value of `key`, which must be there.
  const Json& at(const char* key) const;
  /// The string at `key` (required).
  const std::string& str(const char* key) const;
  /// The string at `key`, or `fallback` when the key is absent.
  std::string str_or(const char* key, std::string_view fallback) const;
  /// The number at `key` (required), converted to int.
  int integer(const char* key) const;
  /// The number at `key` converted to int, or `fallback` when the key is absent.
  int integer_or(const char* key, int fallback) const;
  /// The boolean at `key`, or `fallback` when the key is absent.
  bool boolean_or(const char* key, bool fallback) const;
  /// The array of strings at `key` (required).
  std::vector<std::string> strings(const char* key) const;
  /// The value at `key`, or `fallback` when the key is absent.
  Json json_or(const char* key, Json fallback) const;
  /// The time at `key` (a string, ISO-8601); nullopt when the key is absent or null.
  std::optional<TimePoint> time_or_null(const char* key) const;
  /// The object at `key` (required), read with the same checks.
  Payload nested(const char* key) const;

  const Event& event() const { return *event_; }
  [[noreturn]] void fail(std::string_view what) const;

 private:
  Payload(const Event& event, const Json& json, std::string prefix);
  const Event* event_;
  const Json* json_;
  std::string prefix_;  // "'outer'." for a nested object
};

// ---- the payloads --------------------------------------------------------------------------
// Each: `kind`; the fields; `to_json() &&` (what is stored, moving the fields out); `read`.

/// A case was created. Its subject, owner, priority, participants and file as given.
struct CaseCreated {
  static constexpr Kind kind = Kind::case_created;
  std::string type;  ///< "" for a case without a type
  int type_version = 0;
  std::string title;
  Subject subject;
  std::string owner;
  int priority = 0;
  std::vector<Participant> participants;
  Json file = Json::object();
  Json to_json() &&;
  static CaseCreated read(const Payload& p);
};

struct OwnerChanged {
  static constexpr Kind kind = Kind::owner_changed;
  std::string from;  ///< history
  std::string to;
  Json to_json() &&;
  static OwnerChanged read(const Payload& p);
};

/// An actor joins with roles (roles are added to those of an actor already there).
struct ParticipantAdded {
  static constexpr Kind kind = Kind::participant_added;
  std::string actor;
  std::vector<std::string> roles;
  Json to_json() &&;
  static ParticipantAdded read(const Payload& p);
};

struct ParticipantRemoved {
  static constexpr Kind kind = Kind::participant_removed;
  std::string actor;
  Json to_json() &&;
  static ParticipantRemoved read(const Payload& p);
};

/// The case's priority: `to`; `base` when a command set it (a policy adds its score to it).
struct PriorityChanged {
  static constexpr Kind kind = Kind::priority_changed;
  int from = 0;  ///< history
  int to = 0;
  std::optional<int> base;
  std::optional<Json> score;  ///< history: the policy's score
  std::optional<Json> terms;  ///< history: the policy's terms
  Json to_json() &&;
  static PriorityChanged read(const Payload& p);
};

struct SubjectChanged {
  static constexpr Kind kind = Kind::subject_changed;
  std::string key;
  Json value;
  Json to_json() &&;
  static SubjectChanged read(const Payload& p);
};

struct CaseStatusChanged {
  static constexpr Kind kind = Kind::case_status;
  CaseStatus from = CaseStatus::active;  ///< history
  CaseStatus to = CaseStatus::active;
  std::string reason;  ///< history; not stored when empty
  Json to_json() &&;
  static CaseStatusChanged read(const Payload& p);
};

struct GoalAdded {
  static constexpr Kind kind = Kind::goal_added;
  GoalSpec goal;  ///< stored: id, name, owner, parent, required, criterion, milestones, decision
  std::optional<TimePoint> deadline;  ///< stored as null when there is none
  Json to_json() &&;
  static GoalAdded read(const Payload& p);
};

/// Changes to an open goal: only the fields that change are stored (under "changes").
struct GoalChanged {
  static constexpr Kind kind = Kind::goal_changed;
  std::string goal;
  std::optional<std::string> name, owner, criterion;
  std::optional<bool> required;
  std::optional<std::optional<TimePoint>> deadline;  ///< set to a time, or removed (null)
  std::optional<std::vector<std::string>> milestones;
  bool empty() const { return !name && !owner && !criterion && !required && !deadline && !milestones; }
  Json to_json() &&;
  static GoalChanged read(const Payload& p);
};

struct GoalStatusChanged {
  static constexpr Kind kind = Kind::goal_status;
  std::string goal;
  GoalStatus from = GoalStatus::open;  ///< history
  GoalStatus to = GoalStatus::open;
  std::string reason;     ///< history; not stored when empty
  bool decision = false;  ///< history: achieved by a decision (stored only when true)
  Json to_json() &&;
  static GoalStatusChanged read(const Payload& p);
};

struct GoalTiming {
  static constexpr Kind kind = Kind::goal_timing;
  std::string goal;
  Timing from = Timing::on_track;  ///< history
  Timing to = Timing::on_track;
  Duration remaining_work{0};        ///< history
  std::optional<TimePoint> deadline;  ///< history (null when none)
  Json to_json() &&;
  static GoalTiming read(const Payload& p);
};

struct GoalPaused {
  static constexpr Kind kind = Kind::goal_paused;
  std::string goal;
  std::string reason;  ///< history; not stored when empty
  Json to_json() &&;
  static GoalPaused read(const Payload& p);
};

/// A paused goal runs again; its deadline moved by the working time it was paused.
struct GoalResumed {
  static constexpr Kind kind = Kind::goal_resumed;
  std::string goal;
  Duration paused_for{0};             ///< history
  std::optional<TimePoint> deadline;  ///< stored as null when there is none
  Json to_json() &&;
  static GoalResumed read(const Payload& p);
};

/// A promise made to the customer (stored under "promise": {id, what, due}).
struct PromiseMade {
  static constexpr Kind kind = Kind::promise_made;
  std::string id, what;
  TimePoint due{};
  Json to_json() &&;
  static PromiseMade read(const Payload& p);
};

struct PromiseTiming {
  static constexpr Kind kind = Kind::promise_timing;
  std::string promise;
  Timing from = Timing::on_track;  ///< history
  Timing to = Timing::on_track;
  std::optional<TimePoint> expected;
  TimePoint due{};     ///< history
  std::string source;  ///< history: "plan" or "forecast"
  Json to_json() &&;
  static PromiseTiming read(const Payload& p);
};

struct PromiseKept {
  static constexpr Kind kind = Kind::promise_kept;
  std::string promise;
  Json to_json() &&;
  static PromiseKept read(const Payload& p);
};

struct PromiseBroken {
  static constexpr Kind kind = Kind::promise_broken;
  std::string promise;
  TimePoint due{};     ///< history
  std::string reason;  ///< history
  Json to_json() &&;
  static PromiseBroken read(const Payload& p);
};

struct PromiseCancelled {
  static constexpr Kind kind = Kind::promise_cancelled;
  std::string promise;
  std::string reason;  ///< history; not stored when empty
  Json to_json() &&;
  static PromiseCancelled read(const Payload& p);
};

/// A fragment instance (its stage item `item`) joins the plan.
struct FragmentAdded {
  static constexpr Kind kind = Kind::fragment_added;
  std::string item, fragment;
  int version = 0;
  std::string goal;
  Json params = Json::object();
  std::vector<std::string> after;
  Json to_json() &&;
  static FragmentAdded read(const Payload& p);
};

/// An ad-hoc task joins the plan (its definition stored as adhoc_to_json under "task").
struct TaskAdded {
  static constexpr Kind kind = Kind::task_added;
  std::string item;
  Json task;
  std::string goal, assignee;
  std::vector<std::string> after;
  bool required = false;
  Json to_json() &&;
  static TaskAdded read(const Payload& p);
};

/// A new instance (repetition) of the item `like`.
struct ItemCreated {
  static constexpr Kind kind = Kind::item_created;
  std::string item, like;
  int repetition = 0;
  Json to_json() &&;
  static ItemCreated read(const Payload& p);
};

struct ItemRemoved {
  static constexpr Kind kind = Kind::item_removed;
  std::string item;
  Json to_json() &&;
  static ItemRemoved read(const Payload& p);
};

struct DependencyAdded {
  static constexpr Kind kind = Kind::dependency_added;
  std::string item, after;
  Json to_json() &&;
  static DependencyAdded read(const Payload& p);
};

/// An item takes a transition (start, complete, fault, ...) from one state to another.
struct ItemTransition {
  static constexpr Kind kind = Kind::item_transition;
  std::string item, transition;
  ItemState from = ItemState::available;  ///< history
  ItemState to = ItemState::available;
  std::optional<TimePoint> due;  ///< when the item is due (on activation)
  std::optional<Json> seen;      ///< cmmn stages: [[definition id, transition], ...] of this command
  std::optional<std::string> error;  ///< history: a handler's failure (transition "fault")
  Json to_json() &&;
  static ItemTransition read(const Payload& p);
};

struct ItemAssigned {
  static constexpr Kind kind = Kind::item_assigned;
  std::string item;
  std::string from;  ///< history
  std::string to;
  Json to_json() &&;
  static ItemAssigned read(const Payload& p);
};

struct ItemOverdue {
  static constexpr Kind kind = Kind::item_overdue;
  std::string item;
  TimePoint due{};  ///< history
  Json to_json() &&;
  static ItemOverdue read(const Payload& p);
};

struct FileSet {
  static constexpr Kind kind = Kind::file_set;
  std::string path;
  Json value;
  std::optional<std::string> item;  ///< history: the item whose output it is
  Json to_json() &&;
  static FileSet read(const Payload& p);
};

struct FileRemoved {
  static constexpr Kind kind = Kind::file_removed;
  std::string path;
  Json to_json() &&;
  static FileRemoved read(const Payload& p);
};

/// An asset (stored under "asset": id, kind, title, uri, text, media_type, metadata); its
/// added_at and added_by are the event's time and actor.
struct AssetAttached {
  static constexpr Kind kind = Kind::asset_attached;
  Asset asset;
  Json to_json() &&;
  static AssetAttached read(const Payload& p);
};

struct Signal {
  static constexpr Kind kind = Kind::signal;
  std::string name;
  Json payload;  ///< history
  Json to_json() &&;
  static Signal read(const Payload& p);
};

/// An escalation rule fired for a target; counted per (rule, target).
struct Escalated {
  static constexpr Kind kind = Kind::escalated;
  std::string rule, target;
  std::string trigger;  ///< history
  int count = 0;        ///< history
  std::string notify;   ///< history
  Json actions = Json::array();  ///< history
  Json to_json() &&;
  static Escalated read(const Payload& p);
};

/// Something the engine records and goes on (a bound reached, a handler's failure): the fold
/// changes nothing but the version.
struct ErrorRecorded {
  static constexpr Kind kind = Kind::error;
  std::string message;
  std::string bound;  ///< history; not stored when empty
  Json to_json() &&;
  static ErrorRecorded read(const Payload& p);
};

/// A kind the fold accepts and ignores (recorded only); the engine writes none today.
struct Note {
  static constexpr Kind kind = Kind::note;
  static Note read(const Payload&) { return {}; }
};

// ---- values stored inside payloads -----------------------------------------------------------

/// A goal specification as stored in goal_added (and in state_to_json).
Json goal_spec_json(const GoalSpec& goal);
/// Reads goal_spec_json's form (missing fields take their defaults).
GoalSpec goal_spec_from_json(const Json& json);

}  // namespace acm::runtime::events
