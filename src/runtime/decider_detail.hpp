// SPDX-License-Identifier: Apache-2.0
// runtime/decider_detail.hpp - small helpers shared by the Decider's files (decider_*.cpp); private
// to them.
#pragma once

#include "runtime/decider.hpp"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace acm::runtime::decider_detail {

inline bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

inline bool not_started(ItemState s) {
  return s == ItemState::available || s == ItemState::enabled || s == ItemState::disabled;
}

constexpr std::size_t kMaxParticipants = 10000;

// A counter's value, read without creating it: a command changes the state only through the
// events it emits (the fold creates counters), so that a refused command leaves no trace.
inline int counter(const CaseState& s, const std::string& name) {
  auto it = s.counters.find(name);
  return it == s.counters.end() ? 0 : it->second;
}
/// How deeply an event payload may nest arrays and objects (serialising one recurses that deep).
constexpr std::size_t kMaxPayloadDepth = 256;

// ---- Semantics::cmmn helpers (docs/cmmn.md, "Semantic choices") ----

inline bool cmmn_item(const Item& it) { return it.fragment && it.fragment->def.semantics == Semantics::cmmn; }

// A cmmn item whose every entry criterion has an on-part gets its next instance when an entry
// criterion is satisfied (CMMN 1.1 8.6.4), not when an instance ends.
inline bool repeats_on_entry(const Item& it) {
  if (!cmmn_item(it) || it.def->entry.empty()) return false;
  for (const auto& s : it.def->entry)
    if (s.on_parts.empty()) return false;
  return true;
}

inline bool refers_to(const CSentry& s, const std::string& def_id) {
  for (const auto& op : s.on_parts)
    if (op.source == OnPartSource::item && op.ref == def_id) return true;
  return false;
}

// The item transitions of this command (or timer run) in one fragment instance, as
// (item definition id, transition) pairs in order, without repeats.
inline std::vector<std::pair<std::string, std::string>> command_transitions(const CaseState& s,
                                                                     const std::vector<Event>& events,
                                                                     const std::string& root) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Event& e : events) {
    if (e.kind != events::name(events::Kind::item_transition)) continue;
    const Item* it = s.find_item(e.payload["item"].get<std::string>());
    if (!it || it->frag_root != root) continue;
    std::pair<std::string, std::string> p{it->def->def.id, e.payload["transition"].get<std::string>()};
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
  }
  return out;
}

inline void collect_parents(const CItem* parent, const std::vector<std::unique_ptr<CItem>>& children,
                     std::unordered_map<const CItem*, const CItem*>& out) {
  for (const auto& c : children) {
    out[c.get()] = parent;
    collect_parents(c.get(), c->children, out);
  }
}

inline void collect_descendants(const std::vector<std::unique_ptr<CItem>>& children, std::vector<const CItem*>& out) {
  for (const auto& c : children) {
    out.push_back(c.get());
    collect_descendants(c->children, out);
  }
}

}  // namespace acm::runtime::decider_detail
