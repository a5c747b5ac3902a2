// SPDX-License-Identifier: Apache-2.0
// runtime/decider_auth.cpp - the Decider: who may do what on a case: permission bits from
// roles, participants and assignment.
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

// ---- authorization ----------------------------------------------------------------------

unsigned Decider::perms() const {
  if (sv_.is_admin(actor_) || (!s_.owner.empty() && actor_.id == s_.owner)) return perm_all;
  const Participant* p = s_.participant(actor_.id);
  unsigned bits = 0;
  if (p) {
    for (const auto& role : p->roles) {
      const RoleDef* def = nullptr;
      if (s_.type)
        for (const auto& r : s_.type->def.roles)
          if (r.name == role) def = &r;
      if (!def) {
        bits |= role == "customer" ? perm_view : (perm_view | perm_work);
        continue;
      }
      for (const auto& perm : def->permissions) {
        if (perm == "view") bits |= perm_view;
        if (perm == "work") bits |= perm_work;
        if (perm == "plan") bits |= perm_plan;
        if (perm == "manage") bits |= perm_manage;
      }
    }
  }
  // Goal owners may view the case.
  for (const auto& g : s_.goals)
    if (g.spec.owner == actor_.id) bits |= perm_view;
  return bits;
}

void Decider::require(unsigned need, std::string_view what) const {
  perms_checked_ |= need;
  if ((perms() & need) == need) return;
  std::string_view name = need & perm_manage ? "manage" : need & perm_plan ? "plan" : need & perm_work ? "work" : "view";
  const Participant* p = s_.participant(actor_.id);
  throw Error(ErrorCode::permission_denied,
              fmt::format("actor '{}' may not {} on case '{}': it needs the '{}' permission, which {}", actor_.id, what,
                          s_.id, name,
                          p ? fmt::format("its case roles [{}] do not grant", fmt::join(p->roles, ", "))
                            : std::string("only the owner, participants with such a role and administrators have")));
}

void Decider::require_view(const CaseState& state, const Services& services, const Actor& actor) {
  CaseState& mutable_state = const_cast<CaseState&>(state);  // Decider needs a reference; nothing is emitted
  Decider d(mutable_state, services, actor, TimePoint{});
  d.require(perm_view, "view the case");
}

void Decider::require_perms(const CaseState& state, const Services& services, const Actor& actor, unsigned perms,
                            std::string_view what) {
  if (perms == 0) return;
  CaseState& mutable_state = const_cast<CaseState&>(state);  // Decider needs a reference; nothing is emitted
  Decider d(mutable_state, services, actor, TimePoint{});
  d.require(perms, what);
}

void Decider::require_active(std::string_view what) const {
  if (s_.status != CaseStatus::active)
    throw Error(ErrorCode::invalid_state, fmt::format("cannot {}: case '{}' is {}", what, s_.id, to_string(s_.status)));
}

void Decider::require_work_on(const Item& it, std::string_view what) const {
  perms_checked_ |= perm_work;
  unsigned p = perms();
  if (p & perm_manage) return;
  if (!(p & perm_work))
    throw Error(ErrorCode::permission_denied, fmt::format("actor '{}' may not {} '{}' of case '{}': it has no 'work' permission",
                                                          actor_.id, what, it.id, s_.id));
  if (!it.assignee.empty() && it.assignee != actor_.id)
    throw Error(ErrorCode::permission_denied, fmt::format("actor '{}' may not {} '{}' of case '{}': it is assigned to '{}'",
                                                          actor_.id, what, it.id, s_.id, it.assignee));
  const std::string& role = it.def->def.role;
  const auto& candidates = it.def->def.candidate_users;
  if (it.assignee == actor_.id || (role.empty() && candidates.empty())) return;
  const Participant* part = s_.participant(actor_.id);
  if (!role.empty() && part && contains(part->roles, role)) return;
  if (contains(candidates, actor_.id)) return;
  if (!candidates.empty())
    throw Error(ErrorCode::permission_denied,
                fmt::format("actor '{}' may not {} '{}' of case '{}': only its candidate users [{}]{} may", actor_.id, what,
                            it.id, s_.id, fmt::join(candidates, ", "),
                            role.empty() ? std::string() : fmt::format(" and holders of the case role '{}'", role)));
  throw Error(ErrorCode::permission_denied, fmt::format("actor '{}' may not {} '{}' of case '{}': it needs the case role '{}'",
                                                        actor_.id, what, it.id, s_.id, role));
}

// A fragment with `authorized_roles` may be added by holders of one of them (CMMN's
// authorizedRoleRefs) and by actors with the `manage` permission; others are refused even with
// the `plan` permission.
bool Decider::authorized(const FragmentDef& f) const {
  if (perms() & perm_manage) return true;
  const Participant* part = s_.participant(actor_.id);
  if (part)
    for (const auto& r : f.authorized_roles)
      if (contains(part->roles, r)) return true;
  return false;
}

bool Decider::may_plan(const FragmentDef& f) const {
  return f.authorized_roles.empty() ? (perms() & perm_plan) != 0 : authorized(f);
}

void Decider::require_authorized(const FragmentDef& f) const {
  perms_checked_ |= perm_view;
  if (authorized(f)) return;
  const Participant* part = s_.participant(actor_.id);
  throw Error(ErrorCode::permission_denied,
              fmt::format("actor '{}' may not add fragment '{}' to case '{}': only the case roles [{}] may (its authorized "
                          "roles){}",
                          actor_.id, f.id, s_.id, fmt::join(f.authorized_roles, ", "),
                          part ? fmt::format(", and its roles are [{}]", fmt::join(part->roles, ", "))
                               : std::string(", and it is not a participant")));
}

}  // namespace acm::runtime
