// SPDX-License-Identifier: Apache-2.0
// runtime/compiled.hpp - definitions with their expressions parsed, shared by running cases.
#pragma once

#include <acm/definition.hpp>
#include <acm/engine.hpp>

#include "expr/expr.hpp"

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace acm::runtime {

struct CSentry {
  std::string id;
  std::vector<OnPart> on_parts;
  expr::Expression condition;  // empty: true
};

/// An item definition ready to run.
struct CItem {
  ItemDef def;  // the source (children moved to `children`)
  expr::Expression manual, required, repetition;
  std::vector<CSentry> entry, exit;
  std::vector<std::unique_ptr<CItem>> children;
  bool has_item_onparts = false;
};

/// A fragment ready to instantiate. Immutable once built; cases hold shared_ptrs to the
/// versions they were built from.
struct CFragment {
  FragmentDef def;  // as registered (items included, for get_fragment)
  expr::Expression applicability;
  std::vector<std::unique_ptr<CItem>> items;  // top-level items
  std::vector<CSentry> exit;
  std::unordered_map<std::string, const CItem*> by_id;  // every item at any depth
  /// The fragment itself seen as a stage item (kind stage, children = items).
  CItem stage;
  /// Critical path of the fragment's items by their estimates (remaining work of an
  /// instance that has not started yet).
  Duration total_estimate{0};
};

struct CCaseType {
  CaseTypeDef def;
  std::vector<expr::Expression> goal_criteria;  // parallel to def.goals
};

/// Parses and checks a fragment; throws Error(invalid_definition) listing all problems.
std::shared_ptr<const CFragment> compile(const FragmentDef& def);
std::shared_ptr<const CCaseType> compile(const CaseTypeDef& def);
/// An ad-hoc task as a one-item definition; its definition id is the item id (`id`), so
/// milestones and item() references to ad-hoc items name one item.
std::unique_ptr<CItem> compile_adhoc(const AdHocTask& task, const std::string& id = "task");
Json adhoc_to_json(const AdHocTask& task);
AdHocTask adhoc_from_json(const Json& j);

/// Registered definitions by id and version. Not thread-safe by itself (Engine guards it).
class Registry {
 public:
  std::shared_ptr<const CFragment> fragment(const std::string& id, int version) const;  // 0: latest; null if none
  std::shared_ptr<const CCaseType> case_type(const std::string& id, int version) const;
  void add(std::shared_ptr<const CFragment> f);
  void add(std::shared_ptr<const CCaseType> t);
  const std::map<std::string, std::map<int, std::shared_ptr<const CFragment>>>& fragments() const { return fragments_; }
  const std::map<std::string, std::map<int, std::shared_ptr<const CCaseType>>>& case_types() const { return types_; }

 private:
  std::map<std::string, std::map<int, std::shared_ptr<const CFragment>>> fragments_;
  std::map<std::string, std::map<int, std::shared_ptr<const CCaseType>>> types_;
};

}  // namespace acm::runtime
