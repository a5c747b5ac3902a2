// SPDX-License-Identifier: Apache-2.0
#include "runtime/json_path.hpp"

#include <acm/error.hpp>

#include <fmt/format.h>

#include <charconv>
#include <utility>

namespace acm::runtime::json_path {
namespace {

bool parse_index(const std::string& s, std::size_t& out) {
  if (s.empty() || s.size() > 9) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::vector<std::string> split(std::string_view path) {
  if (path.empty()) throw Error(ErrorCode::invalid_argument, "case-file path is empty");
  if (path.size() > 1024) throw Error(ErrorCode::invalid_argument, "case-file path is longer than 1024 characters");
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = path.find('.', start);
    std::string_view seg = path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (seg.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("case-file path '{}' has an empty segment", path));
    parts.emplace_back(seg);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.size() > 64) throw Error(ErrorCode::invalid_argument, fmt::format("case-file path '{}' is deeper than 64", path));
  return parts;
}

const Json* find(const Json& root, std::string_view path) {
  const Json* cur = &root;
  for (const auto& seg : split(path)) {
    if (cur->is_object()) {
      auto it = cur->find(seg);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (cur->is_array()) {
      std::size_t i = 0;
      if (!parse_index(seg, i) || i >= cur->size()) return nullptr;
      cur = &(*cur)[i];
    } else {
      return nullptr;
    }
  }
  return cur;
}

void check_settable(const Json& root, std::string_view path) {
  auto parts = split(path);
  const Json* cur = &root;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const auto& seg = parts[k];
    bool last = k + 1 == parts.size();
    if (cur->is_null()) return;  // created as objects from here on
    if (cur->is_object()) {
      auto it = cur->find(seg);
      if (it == cur->end() || last) return;
      cur = &*it;
    } else if (cur->is_array()) {
      std::size_t i = 0;
      if (seg == "-" && last) return;
      if (!parse_index(seg, i) || i > cur->size())
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("case-file path '{}': '{}' is not a valid index of a list of {}", path, seg, cur->size()));
      if (i == cur->size() || last) return;
      cur = &(*cur)[i];
    } else {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("case-file path '{}': cannot go into '{}' of a {} value", path, seg, cur->type_name()));
    }
  }
}

void set(Json& root, std::string_view path, Json value) {
  check_settable(root, path);
  auto parts = split(path);
  Json* cur = &root;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const auto& seg = parts[k];
    bool last = k + 1 == parts.size();
    if (cur->is_null()) *cur = Json::object();
    Json* next = nullptr;
    if (cur->is_array()) {
      std::size_t i = 0;
      if (seg == "-" || (parse_index(seg, i) && i == cur->size())) {
        cur->push_back(nullptr);
        next = &cur->back();
      } else {
        parse_index(seg, i);
        next = &(*cur)[i];
      }
    } else {
      next = &(*cur)[seg];
    }
    if (last) *next = std::move(value);
    cur = next;
  }
}

bool remove(Json& root, std::string_view path) {
  auto parts = split(path);
  Json* cur = &root;
  for (std::size_t k = 0; k + 1 < parts.size(); ++k) {
    const auto& seg = parts[k];
    if (cur->is_object()) {
      auto it = cur->find(seg);
      if (it == cur->end()) return false;
      cur = &*it;
    } else if (cur->is_array()) {
      std::size_t i = 0;
      if (!parse_index(seg, i) || i >= cur->size()) return false;
      cur = &(*cur)[i];
    } else {
      return false;
    }
  }
  const auto& last = parts.back();
  if (cur->is_object()) return cur->erase(last) > 0;
  if (cur->is_array()) {
    std::size_t i = 0;
    if (!parse_index(last, i) || i >= cur->size()) return false;
    cur->erase(cur->begin() + static_cast<std::ptrdiff_t>(i));
    return true;
  }
  return false;
}

}  // namespace acm::runtime::json_path
