// SPDX-License-Identifier: Apache-2.0
// store/enum_text.hpp - the public enums as the text the stores keep (to_string's names) and back.
#pragma once

#include <acm/case.hpp>

#include <optional>
#include <string_view>

namespace acm::store {

inline std::optional<CaseStatus> case_status_named(std::string_view s) {
  for (CaseStatus c :
       {CaseStatus::active, CaseStatus::suspended, CaseStatus::completed, CaseStatus::terminated, CaseStatus::closed})
    if (to_string(c) == s) return c;
  return std::nullopt;
}

inline std::optional<ItemState> item_state_named(std::string_view s) {
  for (ItemState x : {ItemState::available, ItemState::enabled, ItemState::disabled, ItemState::active,
                      ItemState::suspended, ItemState::completed, ItemState::terminated, ItemState::failed})
    if (to_string(x) == s) return x;
  return std::nullopt;
}

inline std::optional<Timing> timing_named(std::string_view s) {
  for (Timing t : {Timing::on_track, Timing::at_risk, Timing::overdue})
    if (to_string(t) == s) return t;
  return std::nullopt;
}

}  // namespace acm::store
