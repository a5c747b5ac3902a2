// SPDX-License-Identifier: Apache-2.0
// acm/intake.hpp - help-desk intake: channel events filtered by rules into cases.
//
// An Intake takes events from any channel (phone, e-mail, chat, social posts), runs an ordered
// rule set over each one and acts on the Engine: it creates a case, attaches the event to the
// customer's correlated open case, raises that case's priority, or ignores the event. Every
// decision is written to the intake log in the store (Engine::intake_log) with the rule that
// made it; nothing is dropped silently. Rule format and semantics: docs/helpdesk.md, "Intake".
//
// Thread safety: an Intake may be used from many threads at once. Events with the same id are
// processed one at a time (a duplicate waits for the first, then returns its decision).
#pragma once

#include <acm/engine.hpp>
#include <acm/json.hpp>
#include <acm/time.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acm::helpdesk {

/// Bounds on one channel event (bigger events are rejected, never truncated).
struct EventLimits {
  std::size_t max_text_bytes = 1u << 20;       ///< text: 1 MiB
  std::size_t max_metadata_bytes = 64u << 10;  ///< metadata, serialised: 64 KiB
  std::size_t max_id_bytes = 200;              ///< id and customer
  std::size_t max_channel_bytes = 64;
  std::size_t max_document_bytes = 2u << 20;  ///< a whole event as JSON text (ChannelEvent::parse)
};

/// An incoming event from any channel.
struct ChannelEvent {
  std::string id;        ///< unique per source; a second event with the same id is a duplicate
  std::string channel;   ///< "phone", "email", "chat", "social", ...
  std::string customer;  ///< customer id ("" = unknown: no correlation possible)
  std::string text;
  std::optional<double> sentiment;  ///< -1 (angry) .. 1 (happy), if the channel measured it
  Json metadata = Json::object();   ///< channel specifics, e.g. {"order_id": "A-17"}
  TimePoint received{};             ///< epoch = unknown: the intake uses its clock's now()

  /// Reads an event from JSON: {"id", "channel", "customer"?, "text"?, "sentiment"?,
  /// "metadata"?, "received"? (ISO-8601)}. Errors: invalid_argument naming every malformed
  /// field ("invalid channel event: sentiment: 1.5 is outside -1..1; text: ...").
  static ChannelEvent from_json(const Json& j, const EventLimits& limits = {});
  /// Parses JSON text (refused above EventLimits::max_document_bytes before parsing), then
  /// from_json. Errors: parse_error, invalid_argument.
  static ChannelEvent parse(std::string_view text, const EventLimits& limits = {});
  /// The JSON form (from_json(to_json()) gives the same event).
  Json to_json() const;
  /// Every problem of the event against `limits` ("" = none), as from_json reports them.
  std::string problems(const EventLimits& limits = {}) const;
};

/// What an intake decision did.
enum class IntakeAction { create_case, attach, raise_priority, ignore, unmatched, rejected };
std::string_view to_string(IntakeAction a) noexcept;

/// One action taken for an event (a rule with `"stop": false` lets later rules act too).
struct IntakeStep {
  std::string rule;  ///< the rule id ("" for unmatched and rejected)
  IntakeAction action = IntakeAction::unmatched;
  std::string case_id;        ///< the case created, attached to or raised ("" if none)
  std::string reason;         ///< a short explanation, or the error of a rejection
  std::uint64_t log_seq = 0;  ///< its entry in the intake log
};

/// The decision on one event: the steps taken, in order (never empty).
struct IntakeDecision {
  std::string event_id;
  std::vector<IntakeStep> steps;
  bool duplicate = false;  ///< the event id was seen before: these are the first decision's steps
  /// The last step's action (the one that stopped the rules).
  IntakeAction action() const { return steps.empty() ? IntakeAction::unmatched : steps.back().action; }
  /// The last step's case ("" if none).
  const std::string& case_id() const;
};

/// A rule set, parsed and checked once (expressions compiled, templates checked).
///
/// JSON: {"rules": [ {"id", "when", one action key, "stop"?}, ... ]} (or the bare array).
/// Action keys: "create_case": {"type"?, "title"?, "priority"?},
/// "attach": {"correlation"?: ["customer", "metadata.order_id", ...], "otherwise_create"?: {...}},
/// "raise_priority": {"by" | "to", "correlation"?}, "ignore": true.
/// See docs/helpdesk.md for the variables of `when` and the meaning of each action.
class IntakeRules {
 public:
  IntakeRules();
  ~IntakeRules();
  IntakeRules(const IntakeRules&);
  IntakeRules& operator=(const IntakeRules&);
  /// Parses a rule set. All or nothing: Error(invalid_definition) listing every problem, each
  /// with its rule id and, for expressions, the position ("rule 'r2': when: ... at 1:7: ...").
  static IntakeRules from_json(const Json& document);
  std::size_t size() const;
  /// The rule ids in order.
  std::vector<std::string> ids() const;

  struct Compiled;  ///< defined in the implementation
  std::shared_ptr<const Compiled> compiled() const { return compiled_; }

 private:
  std::shared_ptr<const Compiled> compiled_;
};

/// Host information about a customer, read by rules as `customer.<key>` (e.g. value, tier,
/// influence) and copied into a new case's subject attributes. Return null or {} if unknown.
using CustomerLookup = std::function<Json(const std::string& customer)>;

/// How an Intake acts.
struct IntakeOptions {
  /// The actor of every command the intake runs; it needs to manage any case (admin role).
  Actor actor{"intake", {"admin"}};
  EventLimits limits;
  /// Optional customer attributes for rules and new cases.
  CustomerLookup customer_lookup;
  /// Name of the signal delivered to a case an event is attached to (sentries can react).
  std::string signal_name = "customer_message";
  /// Open cases of a customer considered when correlating (newest first).
  std::size_t max_correlated_cases = 50;
};

/// Runs rules over channel events against an Engine. Holds a reference to the Engine, which
/// must outlive it.
class Intake {
 public:
  Intake(Engine& engine, IntakeRules rules, IntakeOptions options = {});
  /// Replaces the rule set (events being processed finish with the old one).
  void set_rules(IntakeRules rules);

  /// Decides on one event and acts on it, then records the decision in the intake log.
  /// A duplicate event id returns the first decision (duplicate = true) without acting or
  /// logging again; a rejected event does not count as seen, so it can be corrected and sent
  /// again. Errors (after logging a `rejected` entry with the reason): invalid_argument for a
  /// malformed event or a rule condition that gives a non-boolean value; the Engine's error
  /// when an action fails (earlier steps of the same event stay done and logged).
  IntakeDecision process(const ChannelEvent& event);
  /// As process(), from JSON: a malformed event is logged as `rejected` (with the id, if it
  /// has a usable one) and throws invalid_argument naming every bad field.
  IntakeDecision process(const Json& event);

  /// The intake log (Engine::intake_log).
  std::vector<IntakeLogEntry> intake_log(std::size_t limit = 100, std::uint64_t after = 0) const;

 private:
  struct State;
  Engine& engine_;
  std::shared_ptr<State> state_;
};

}  // namespace acm::helpdesk
