// SPDX-License-Identifier: Apache-2.0
// runtime/decider_file.cpp - the Decider: the case file, assets and signals.
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

// ---- case file and events ---------------------------------------------------------------

void Decider::set_file(const std::string& path, const Json& value) {
  require(perm_plan, "edit the case file");
  require_active("edit the case file");
  check_value(value, fmt::format("the value for '{}'", path));
  json_path::check_settable(s_.file, path);
  if (const Json* cur = json_path::find(s_.file, path); cur && *cur == value) return;
  emit(events::FileSet{.path = path, .value = value});
  settle();
}

void Decider::remove_file(const std::string& path) {
  require(perm_plan, "edit the case file");
  require_active("edit the case file");
  if (!json_path::find(s_.file, path))
    throw Error(ErrorCode::not_found, fmt::format("case '{}' has no case-file value at '{}'", s_.id, path));
  emit(events::FileRemoved{.path = path});
  settle();
}

std::string Decider::attach(const Asset& a) {
  require(perm_plan, "attach content");
  require_active("attach content");
  if (a.kind != "document" && a.kind != "link" && a.kind != "note")
    throw Error(ErrorCode::invalid_argument, fmt::format("asset kind must be document, link or note, not '{}'", a.kind));
  if ((a.kind == "document" || a.kind == "link") && a.uri.empty())
    throw Error(ErrorCode::invalid_argument, fmt::format("a {} needs a uri", a.kind));
  if (a.kind == "note" && a.text.empty()) throw Error(ErrorCode::invalid_argument, "a note needs text");
  if (!a.metadata.is_object()) throw Error(ErrorCode::invalid_argument, "asset metadata must be a JSON object");
  check_value(a.metadata, "the asset's metadata");
  std::string id = a.id;
  if (id.empty()) id = fmt::format("asset-{}", counter(s_, "asset") + 1);
  for (const auto& x : s_.assets)
    if (x.id == id) throw Error(ErrorCode::already_exists, fmt::format("case '{}' already has an asset '{}'", s_.id, id));
  emit(events::AssetAttached{.asset = Asset{.id = id, .kind = a.kind, .title = a.title, .uri = a.uri, .text = a.text,
                                            .media_type = a.media_type, .metadata = a.metadata}});
  settle();
  return id;
}

void Decider::signal(const std::string& name, const Json& payload) {
  require(perm_plan, "send events to the case");
  require_active("send events");
  if (name.empty()) throw Error(ErrorCode::invalid_argument, "an event needs a name");
  check_value(payload, fmt::format("the payload of event '{}'", name));
  emit(events::Signal{.name = name, .payload = payload});
  current_event_ = &payload;
  settle();
  current_event_ = nullptr;
}

}  // namespace acm::runtime
