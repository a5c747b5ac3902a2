// SPDX-License-Identifier: Apache-2.0
// acm/to_json.hpp - the one JSON shape of acm's values (docs/json.md).
//
// Every surface that shows a case, a plan item, a goal, an event, a work item or a query
// result as JSON (the C ABI, the `acm` CLI's --json, Python's to_json(), the HTTP server)
// produces it with these functions, so the shape is written down once:
//
//  - an object's own id is "id"; a reference to another object is named after what it refers
//    to, without a suffix ("case", "item", "goal", "parent", "fragment"), except "event_id"
//    (the intake log carries the event itself as "event");
//  - times are RFC 3339 UTC strings with milliseconds, "2026-11-23T09:30:00.000Z"; durations are
//    ISO-8601 durations, "PT2H30M"; an absent time or duration is null;
//  - enumerations are their snake_case names ("on_track", "human_task");
//  - a text field is always a string ("" when empty), a list always an array.
//
// Thread safety: the functions are pure.
#pragma once

#include <acm/case.hpp>
#include <acm/engine.hpp>
#include <acm/intake.hpp>
#include <acm/json.hpp>
#include <acm/routing.hpp>

namespace acm {

/// {"actor", "roles"}
Json to_json(const Participant& p);
/// {"customer", "attributes"}
Json to_json(const Subject& s);
/// {"id", "kind", "title", "uri", "text", "media_type", "metadata", "added_at", "added_by"}
Json to_json(const Asset& a);
/// {"id", "name", "owner", "parent", "required", "status", "timing", "deadline", "criterion",
/// "milestones", "decision", "achieved_at", "remaining_work", "paused_since"}
Json to_json(const GoalInfo& g);
/// {"id", "what", "due", "status", "timing", "expected"}
Json to_json(const PromiseInfo& p);
/// {"id", "def", "name", "kind", "state", "parent", "fragment", "fragment_version", "goal",
/// "role", "skills", "assignee", "estimate", "due", "required", "manual", "repetition", "after",
/// "activated_at", "ended_at"}
Json to_json(const PlanItemInfo& i);
/// {"id", "type", "type_version", "title", "subject", "owner", "participants", "priority",
/// "status", "file", "assets", "goals", "items", "promises", "version", "created_at",
/// "next_deadline"}
Json to_json(const CaseInfo& c);
/// {"case", "seq", "time", "actor", "kind", "payload"}
Json to_json(const Event& e);
/// {"version", "events", "created"}
Json to_json(const CommandResult& r);
/// {"case", "item", "name", "state", "assignee", "role", "skills", "due", "priority",
/// "case_title", "customer", "goal", "goal_deadline", "goal_timing"} (goal_timing null when
/// there is no goal)
Json to_json(const WorkItem& w);
/// {"items", "total"}
Json to_json(const QueuePage& p);
/// {"id", "type", "type_version", "title", "status", "owner", "customer", "priority",
/// "version", "created_at", "updated_at", "next_deadline"}
Json to_json(const CaseSummary& c);
/// {"cases", "total"}
Json to_json(const CasePage& p);
/// {"fragment", "version", "name", "description", "parameters": [{"name", "type", "required",
/// "default", "description"}]}
Json to_json(const FragmentOffer& o);
/// {"case", "item", "handler", "input", "case_file", "now"}
Json to_json(const TaskContext& c);
/// {"name", "version", "kind", "created_at", "meta"}
Json to_json(const TemplateInfo& t);
/// {"seq", "event_id", "time", "channel", "customer", "rule", "action", "case", "reason", "event"}
Json to_json(const IntakeLogEntry& e);
/// {"id", "roles"}
Json to_json(const Actor& a);

}  // namespace acm

namespace acm::helpdesk {

/// {"rule", "action", "case", "reason", "log_seq"}
Json to_json(const IntakeStep& s);
/// {"event_id", "steps", "duplicate", "action", "case"} ("action" and "case": the last step's)
Json to_json(const IntakeDecision& d);
/// {"id", "roles", "skills": {skill: level}, "capacity", "available", "windows": [{"from", "to"}]}
Json to_json(const Agent& a);
/// Reads an agent in the form to_json gives ("roles", "skills", "capacity", "available",
/// "windows" optional). Errors: invalid_argument naming the field.
Agent agent_from_json(const Json& j);
/// {"name", "value", "weight", "contribution", "detail"}
Json to_json(const RouteTerm& t);
/// {"agent", "score", "terms", "available", "has_capacity", "excluded", "reason"}
Json to_json(const RouteSuggestion& s);
/// {"completed", "median"}
Json to_json(const PerformanceRecord& p);

}  // namespace acm::helpdesk
