// SPDX-License-Identifier: Apache-2.0
// model/validate.hpp - semantic checks of definitions, shared by the JSON reader and the engine.
//
// Private to the library (not installed). docs/definitions.md lists every rule.
//
// Every check collects problems instead of stopping at the first one. A problem's path is a
// JSON pointer that mirrors the JSON layout of the definition (docs/definitions.md), prefixed
// with `base_path`: validate(fragment, "/fragments/0") reports e.g.
// "/fragments/0/items/2/entry/0/if". Pass "" for a definition that stands alone.
//
// Thread safety: all functions are pure; safe to call from many threads at once.
#pragma once

#include <acm/definition.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acm::model {

/// Stages may be nested at most this deep: a stage among a fragment's items is at depth 1,
/// a stage among its children at depth 2, and so on. Deeper stages are a problem.
inline constexpr int max_stage_depth = 32;

/// One fragment or case type may take at most this many bytes as JSON (its texts, ids,
/// expressions and free-form values; docs/definitions.md). A bigger one is a problem at its
/// root: the engine keeps every definition in memory and reads them all when a store opens.
inline constexpr std::size_t max_definition_bytes = 1u << 20;

/// The shortest timer a timer listener inside a repeating stage (at any depth) may have.
/// Shorter ones are refused at registration: they would fire, repeat the stage and fire again
/// without end. (Elsewhere a timer fires once per item; any non-negative duration is fine.)
inline constexpr Duration min_timer_period = std::chrono::seconds(1);

/// Checks a fragment built in C++ or read from JSON: ids and their syntax, version, unique
/// item ids (nested stages included), kind-specific fields, on-part and `after` references,
/// transitions, expressions (parsed with engine_parse_options()), durations, parameters,
/// roles, `after` cycles, stage depth. Returns every problem found; empty means valid.
std::vector<Problem> validate(const FragmentDef& fragment, const std::string& base_path);

/// Checks a case type on its own: ids, version, goals (unique ids, parent refs and cycles,
/// deadline vs within, anchor, criterion expression, completion means), initial fragment uses
/// (fragment id syntax, version >= 0, goal refs, params object), discretionary ids, roles and
/// permissions. References to fragments are not resolved here; see validate_uses.
std::vector<Problem> validate(const CaseTypeDef& case_type, const std::string& base_path);

/// Finds a fragment definition by id and version (0: the latest); nullptr if unknown.
using FragmentLookup = std::function<const FragmentDef*(const std::string& id, int version)>;

/// Checks a case type against the fragments it uses, as far as `find` knows them:
///  - initial fragment arguments against the fragment's parameters (required, unknown, type);
///  - roles the used fragments need (item roles and declared roles) exist in the case type,
///    when the case type declares roles;
///  - goal milestones name milestone items of the initial or discretionary fragments, when
///    discretionary is not empty and every initial and discretionary fragment is known.
/// With `unknown_is_problem`, a fragment `find` does not know is a problem; otherwise skipped.
std::vector<Problem> validate_uses(const CaseTypeDef& case_type, const std::string& base_path,
                                   const FragmentLookup& find, bool unknown_is_problem = false);

/// Reads a definitions document like acm::parse_definitions, but returns the problems instead
/// of throwing. `out` receives what could be read (meaningful only when no problem is returned).
/// Problems are sorted by path (array indexes compared as numbers) and free of duplicates.
std::vector<Problem> check_definitions(const Json& document, DefinitionSet& out);

/// "N problems in definitions:" followed by one line "  <path>: <message>" per problem
/// ("1 problem in definitions:" for one; the root path is shown as "(document)").
std::string format_problems(const std::vector<Problem>& problems);

/// Throws Error(invalid_definition, format_problems(problems)) unless `problems` is empty.
void throw_if_problems(const std::vector<Problem>& problems);

/// The ItemKind named by its JSON spelling ("human_task", ...), if any.
std::optional<ItemKind> item_kind_from_string(std::string_view text) noexcept;

/// Definition ids, item ids, role names, skills, handler and event names: ASCII letters,
/// digits, '_', '-', '.'; not empty.
bool is_valid_id(std::string_view text) noexcept;

/// Case-file paths such as "customer.tier": dot-separated, non-empty segments of ASCII
/// letters, digits, '_' and '-'.
bool is_valid_file_path(std::string_view text) noexcept;

}  // namespace acm::model
