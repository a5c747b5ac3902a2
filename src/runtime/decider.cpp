// SPDX-License-Identifier: Apache-2.0
// runtime/decider.cpp - the Decider: construction, emitting events, lookups. Its commands and
// rules are in decider_*.cpp, one concern each (docs/design.md, "The Decider by concern").
#include "runtime/decider.hpp"
#include "runtime/decider_detail.hpp"

#include <acm/error.hpp>

#include "model/json_size.hpp"
#include "model/names.hpp"
#include "model/text.hpp"
#include "runtime/env.hpp"
#include "runtime/json_path.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <unordered_map>

namespace acm::runtime {

using namespace decider_detail;  // NOLINT(google-build-using-namespace): the helpers of decider_detail.hpp

bool Services::is_admin(const Actor& a) const {
  for (const auto& r : a.roles)
    if (contains(options->admin_roles, r)) return true;
  return false;
}

bool Services::is_designer(const Actor& a) const {
  if (is_admin(a)) return true;
  for (const auto& r : a.roles)
    if (contains(options->designer_roles, r)) return true;
  return false;
}

Decider::Decider(CaseState& state, const Services& services, const Actor& actor, TimePoint now)
    : s_(state), sv_(services), actor_(actor), emit_actor_(actor.id), now_(now), items_at_start_(state.items.size()) {}

// ---- events -----------------------------------------------------------------------------

void Decider::check_value(const Json& value, std::string_view what) const {
  // Run on a command's input before anything copies or compares it: both recurse as deep as
  // the value nests.
  const std::size_t limit = sv_.options ? sv_.options->max_payload_bytes : EngineOptions{}.max_payload_bytes;
  const auto size = model::serialized_size(value, limit, kMaxPayloadDepth);
  if (size.too_deep)
    throw Error(ErrorCode::invalid_argument, fmt::format("{} nests more than {} levels deep", what, kMaxPayloadDepth));
  if (size.size > limit)
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("{} is larger than {} bytes (EngineOptions::max_payload_bytes); attach large content by link", what,
                    limit));
  model::check_json_text(value, what);
}

void Decider::emit_event(events::Kind kind_id, Json payload) {
  const std::string_view kind = events::name(kind_id);
  // Checked before the event is applied: a refused event changes nothing.
  const std::size_t limit = sv_.options ? sv_.options->max_payload_bytes : EngineOptions{}.max_payload_bytes;
  const auto size = model::serialized_size(payload, limit, kMaxPayloadDepth);
  if (size.too_deep)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("the '{}' event's payload nests more than {} levels deep", kind, kMaxPayloadDepth));
  if (size.size > limit)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("the '{}' event's payload is larger than {} bytes (EngineOptions::max_payload_bytes); "
                            "attach large content by link",
                            kind, limit));
  // Text the store could not write (JSON holds only UTF-8): refused before it is applied.
  // (The error's context is formatted only for a payload that fails: this runs for every event.)
  if (model::invalid_utf8_in(payload)) model::check_json_text(payload, fmt::format("the '{}' event's payload", kind));
  Event e;
  e.case_id = s_.id;
  e.seq = s_.version + 1;
  e.time = now_;
  e.actor = emit_actor_;
  e.kind = kind;
  e.payload = std::move(payload);
  FoldContext ctx{sv_.registry};
  apply(s_, e, ctx);
  events_.push_back(std::move(e));
  check_growth();
}

// Bounds what one command (or one timer run on the case) may add, whatever the definitions:
// the first time a bound is reached an "error" event says so and evaluation stops.
void Decider::check_growth() {
  if (halted_ || !sv_.options) return;
  const std::size_t max_events = sv_.options->max_events_per_command, max_items = sv_.options->max_items_per_command;
  const std::size_t grown = s_.items.size() > items_at_start_ ? s_.items.size() - items_at_start_ : 0;
  if (events_.size() < max_events && grown < max_items) return;
  halted_ = true;
  emit(events::ErrorRecorded{
       .message = events_.size() >= max_events
                        ? fmt::format("this command appended {} events (EngineOptions::max_events_per_command); "
                                      "evaluation stopped (check repetition rules and sentries that "
                                      "re-trigger each other)",
                                      events_.size())
                        : fmt::format("this command created {} plan items (EngineOptions::max_items_per_command); "
                                      "evaluation stopped (check repetition rules and sentries that "
                                      "re-trigger each other)",
                                      grown),
       .bound = events_.size() >= max_events ? "max_events_per_command" : "max_items_per_command"});
}

// ---- lookups ----------------------------------------------------------------------------

std::size_t Decider::item_index(const std::string& id, std::string_view what) const {
  auto it = s_.item_index.find(id);
  if (it == s_.item_index.end())
    throw Error(ErrorCode::not_found, fmt::format("cannot {}: case '{}' has no plan item '{}'", what, s_.id, id));
  return it->second;
}

Goal& Decider::goal_ref(const std::string& id) {
  Goal* g = s_.find_goal(id);
  if (!g) throw Error(ErrorCode::not_found, fmt::format("case '{}' has no goal '{}'", s_.id, id));
  return *g;
}

std::string Decider::new_id(const std::string& prefix, const std::string& counter) {
  auto it = s_.counters.find(counter);
  int n = (it == s_.counters.end() ? 0 : it->second) + 1;
  std::string id = fmt::format("{}#{}", prefix, n);
  while (s_.find_item(id)) id = fmt::format("{}#{}", prefix, ++n);
  return id;
}

}  // namespace acm::runtime
