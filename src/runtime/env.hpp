// SPDX-License-Identifier: Apache-2.0
// runtime/env.hpp - what an expression sees inside a case.
#pragma once

#include "expr/expr.hpp"
#include "runtime/state.hpp"

namespace acm::runtime {

class CaseEnv final : public expr::Environment {
 public:
  CaseEnv(const CaseState& state, TimePoint now, const Item* item = nullptr, const Json* event = nullptr,
          const Json* params = nullptr)
      : state_(state), now_(now), item_(item), event_(event), params_(params) {}
  expr::Value variable(std::string_view name) const override;
  expr::Value call(std::string_view name, std::span<const expr::Value> args) const override;
  const Json* json_variable(std::string_view name) const override;

 private:
  const Item* resolve_item(const std::string& ref) const;
  const CaseState& state_;
  TimePoint now_;
  const Item* item_;
  const Json* event_;
  const Json* params_;
};

/// Evaluates a condition; an empty expression is `if_empty`.
bool eval_condition(const expr::Expression& e, const CaseEnv& env, bool if_empty);

Json goal_json(const Goal& g);
Json item_json(const Item& i);

}  // namespace acm::runtime
