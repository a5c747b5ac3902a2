// SPDX-License-Identifier: Apache-2.0
// acm/definition.hpp - reusable, versioned definitions: fragments and case types.
//
// Definitions are plain value types. Build them in C++ (aggregates, designated initialisers)
// or load them from JSON (docs/definitions.md). Expressions are kept as text here; the engine
// parses and checks every one when the definition is registered.
#pragma once

#include <acm/json.hpp>
#include <acm/time.hpp>

#include <optional>
#include <string>
#include <vector>

namespace acm {

/// What a plan item is (CMMN 1.1 plan item definitions).
enum class ItemKind {
  human_task,      ///< work done by a person with a role and skills
  automated_task,  ///< work done by a handler the host registers (Engine::register_handler)
  milestone,       ///< an achievable target; occurs when its entry criteria are satisfied
  timer_listener,  ///< occurs when its timer (a duration after it became available) elapses
  user_listener,   ///< occurs when a person raises it (Engine::raise)
  stage,           ///< a nested group of items (a fragment instance is a stage)
};

/// Which lifecycle rules a definition follows where acm departs from CMMN 1.1
/// (docs/semantics.md, docs/cmmn.md). A fragment's setting governs its items; a case type's
/// setting governs the case (completion, termination). The CMMN importer sets `cmmn`.
enum class Semantics {
  acm,   ///< acm's documented choices (the default for JSON and C++ definitions)
  cmmn,  ///< CMMN 1.1 as its reference engines run it
};

/// The source of a sentry's on-part.
enum class OnPartSource {
  item,       ///< a transition of a plan item of the same fragment (by item definition id)
  goal,       ///< a change of a goal of the case (by goal id)
  case_file,  ///< a change at or below a case-file path
  event,      ///< a named external event (Engine::signal)
};

/// One trigger of a sentry.
struct OnPart {
  OnPartSource source = OnPartSource::item;
  /// Item definition id, goal id, case-file path ("customer.tier") or event name.
  std::string ref;
  /// item: a transition ("complete", "occur", "start", "terminate", "exit", "fault", ...);
  /// goal: "achieved", "at_risk", "overdue", "cancelled", "changed";
  /// case_file: "set", "removed" or "" (either); event: ignored.
  std::string on;
};

/// An entry or exit criterion: all on-parts have occurred and the if-part holds.
/// A sentry without on-parts is satisfied as soon as its if-part holds.
struct Sentry {
  std::string id;              ///< optional, for messages
  std::vector<OnPart> on_parts;
  std::string condition;       ///< if-part expression; empty means true
};

/// A plan item definition inside a fragment (or a nested stage).
struct ItemDef {
  std::string id;  ///< unique within its fragment (including nested stages)
  std::string name;
  ItemKind kind = ItemKind::human_task;
  std::string description;

  // human tasks
  std::string role;                 ///< role needed to work on it ("" = any participant)
  std::vector<std::string> skills;  ///< skills the assignee should have (used by routing)
  /// Human tasks: the actor the task is assigned to when it becomes enabled or active (when it
  /// has no assignee then, and the actor is the case owner or a participant with the task's role;
  /// otherwise it stays unassigned and an `error` event says why). A literal actor id.
  std::string assignee;
  /// Human tasks: when not empty, only these actors (and, if the task has a role, holders of that
  /// role) may take, start or complete it, and it can only be assigned to one of them; actors
  /// with the `manage` permission are not restricted.
  std::vector<std::string> candidate_users;
  // tasks and stages
  std::optional<Duration> estimate;  ///< expected working time; used for critical paths
  std::optional<Duration> due;       ///< due this long (calendar time) after activation

  // automated tasks
  std::string handler;      ///< name of the registered handler
  Json input;               ///< constant input passed to the handler (parameters substituted)
  std::string output;       ///< case-file path that receives the handler's result ("" = none)

  // human tasks: false (CMMN isBlocking="false") completes the task as soon as it is active
  bool blocking = true;

  // timer listeners (exactly one of the two)
  std::optional<Duration> timer;        ///< fires this long after the listener becomes available
  std::optional<TimePoint> timer_date;  ///< fires at this time (at once if it has passed)

  // stages
  std::vector<ItemDef> children;
  /// false (the CMMN default): the stage completes when every child is completed, terminated or
  /// disabled. true: it completes as soon as no child is active and every required child is done.
  bool auto_complete = false;

  std::vector<Sentry> entry;       ///< entry criteria (any one satisfied starts the item)
  std::vector<Sentry> exit;        ///< exit criteria (any one satisfied exits the item)
  std::string manual_activation;   ///< expression; true: waits in `enabled` for a person to start it
  std::string required;            ///< expression; true: the parent cannot complete without it
  /// expression; true: a new instance is created (acm: on completion; cmmn: see docs/cmmn.md).
  /// Also on timer listeners: a repeating timer (each occurrence creates the next listener).
  std::string repetition;
  std::vector<std::string> after;  ///< item ids that must be completed first (shorthand sentries)
};

/// A declared fragment parameter; arguments are checked and available as `params.NAME`.
struct Parameter {
  std::string name;
  std::string type = "any";  ///< "string", "number", "bool", "object", "list", "time", "duration", "any"
  bool required = false;
  Json default_value;        ///< used when not given (null: none)
  std::string description;
};

/// Where a discretionary fragment is planned (CMMN: the stage that holds its planning table).
struct StageRef {
  std::string fragment;  ///< the fragment holding the stage ("" = the fragment is added at the top of the case)
  std::string stage;     ///< a stage item of that fragment ("" = the fragment's own stage)
};

/// A reusable, versioned piece of work assembled into cases at runtime.
struct FragmentDef {
  std::string id;
  int version = 1;  ///< (id, version) is immutable once registered
  std::string name;
  std::string description;
  std::vector<Parameter> parameters;
  std::string applicability;       ///< expression over the case; empty means always applicable
  std::vector<std::string> roles;  ///< roles its tasks need (validated against the case type)
  std::vector<ItemDef> items;
  bool auto_complete = false;      ///< as ItemDef::auto_complete, for the fragment's stage
  std::vector<Sentry> exit;        ///< exit criteria of the fragment's stage
  Semantics semantics = Semantics::acm;  ///< rules for its items
  /// When not empty, only actors holding one of these case roles (or the `manage` permission)
  /// may add the fragment; holding one is enough (the `plan` permission is not needed).
  std::vector<std::string> authorized_roles;
  /// When set, the fragment is added inside an active instance of that stage (as its child) and
  /// only while one is active; it cannot be an initial fragment.
  StageRef planning_table;
};

/// A goal: a desired outcome with an owner, a deadline and a completion criterion.
struct GoalSpec {
  std::string id;     ///< unique within the case
  std::string name;
  std::string owner;  ///< actor id; empty: the case owner
  std::string parent; ///< parent goal id for sub-goals
  bool required = true;  ///< the case cannot complete until it is achieved
  /// Absolute deadline, or a duration counted on the engine calendar from an anchor.
  std::optional<TimePoint> deadline;
  std::optional<Duration> within;
  std::string anchor = "goal_added";  ///< "goal_added" or "case_created"
  /// Completion: any combination; all given parts must hold, and required sub-goals be achieved.
  std::string criterion;                ///< expression over case file, goals and plan
  std::vector<std::string> milestones;  ///< milestone item ids (definition or instance ids) that must occur
  bool decision = false;                ///< a person must declare it achieved (Engine::achieve_goal)
};

/// A role of a case type with the permissions it grants on cases of that type.
struct RoleDef {
  std::string name;
  /// "view", "work" (start/complete/assign tasks of the role), "plan" (add goals, fragments,
  /// tasks, dependencies; edit the case file), "manage" (owner, participants, status, priority).
  std::vector<std::string> permissions;
  std::string description;
};

/// A fragment to instantiate, with arguments.
struct FragmentUse {
  std::string fragment;
  int version = 0;  ///< 0: the latest registered version
  std::string goal; ///< goal the work is bound to ("" = none)
  Json params = Json::object();
  /// For a fragment with a planning table: the stage instance to add it into ("" = the only
  /// active instance of that stage).
  std::string stage;
};

/// An optional template for cases.
struct CaseTypeDef {
  std::string id;
  int version = 1;
  std::string name;
  std::string description;
  std::vector<GoalSpec> goals;                  ///< default goals added at creation
  std::vector<FragmentUse> initial_fragments;   ///< instantiated at creation
  std::vector<std::string> discretionary;       ///< fragment ids a worker may add (empty: any registered)
  std::vector<RoleDef> roles;                   ///< roles and their permissions
  /// cmmn: the case completes when the stages of its initial fragments (the case plan model)
  /// complete, and is terminated when one of them is terminated (docs/cmmn.md).
  Semantics semantics = Semantics::acm;
};

/// One problem found in a definition: where (a JSON pointer such as
/// "/fragments/0/items/2/entry/0/condition") and what.
struct Problem {
  std::string path;
  std::string message;
};

/// The contents of a definitions document.
struct DefinitionSet {
  std::vector<FragmentDef> fragments;
  std::vector<CaseTypeDef> case_types;
};

/// Reads a definitions document ({"fragments": [...], "case_types": [...]}, or a single fragment
/// or case type object). Throws Error(invalid_definition) listing every structural problem.
DefinitionSet parse_definitions(const Json& document);
/// Serialises definitions back to the JSON format (round-trips with parse_definitions).
Json to_json(const FragmentDef& fragment);
Json to_json(const CaseTypeDef& case_type);

std::string_view to_string(ItemKind kind) noexcept;
std::string_view to_string(OnPartSource source) noexcept;
std::string_view to_string(Semantics semantics) noexcept;

}  // namespace acm
