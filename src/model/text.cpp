// SPDX-License-Identifier: Apache-2.0
#include "model/text.hpp"

#include <acm/error.hpp>

#include <fmt/format.h>

#include <vector>

namespace acm::model {

bool valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t n;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // past U+10FFFF
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) <= n) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (std::size_t i = 2; i <= n; ++i)
      if ((p[i] & 0xC0) != 0x80) return false;
    p += n + 1;
  }
  return true;
}

std::string to_valid_utf8(std::string_view s) {
  if (valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  std::size_t i = 0;
  while (i < s.size()) {
    // The longest well-formed sequence starting here (1 to 4 bytes), else one replaced byte.
    std::size_t n = 1;
    for (; n <= 4 && i + n <= s.size(); ++n)
      if (valid_utf8(s.substr(i, n))) break;
    if (n <= 4 && i + n <= s.size()) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

void check_text(std::string_view s, std::string_view field, TextKind kind) {
  if (!valid_utf8(s)) throw Error(ErrorCode::invalid_argument, fmt::format("{} is not valid UTF-8", field));
  for (unsigned char c : s) {
    bool control = c < 0x20 || c == 0x7F;
    if (!control) continue;
    if (kind == TextKind::free && (c == '\t' || c == '\n' || c == '\r')) continue;
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{} contains a control character (code {})", field, static_cast<int>(c)));
  }
}

namespace {
std::string escape_pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}
}  // namespace

namespace {
// The fast path: no pointer strings built. Any depth: an explicit stack.
bool all_utf8_deep(const Json& value) {
  if (value.is_string()) return valid_utf8(value.get_ref<const std::string&>());
  if (!value.is_structured()) return true;
  std::vector<const Json*> stack{&value};
  while (!stack.empty()) {
    const Json* v = stack.back();
    stack.pop_back();
    if (v->is_string()) {
      if (!valid_utf8(v->get_ref<const std::string&>())) return false;
    } else if (v->is_object()) {
      for (auto it = v->begin(); it != v->end(); ++it) {
        if (!valid_utf8(it.key())) return false;
        if (it->is_structured() || it->is_string()) stack.push_back(&*it);
      }
    } else if (v->is_array()) {
      for (const Json& x : *v)
        if (x.is_structured() || x.is_string()) stack.push_back(&x);
    }
  }
  return true;
}

// The same, recursive down to kShallow levels (no allocation: it checks every event the engine
// emits, nearly always a few levels deep), the explicit stack below that.
constexpr int kShallow = 32;
bool all_utf8(const Json& value, int depth = 0) {
  if (value.is_string()) return valid_utf8(value.get_ref<const std::string&>());
  if (!value.is_structured()) return true;
  if (depth >= kShallow) return all_utf8_deep(value);
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it)
      if (!valid_utf8(it.key()) || !all_utf8(*it, depth + 1)) return false;
  } else if (value.is_array()) {
    for (const Json& x : value)
      if (!all_utf8(x, depth + 1)) return false;
  }
  return true;
}
}  // namespace

std::optional<std::string> invalid_utf8_in(const Json& value) {
  if (all_utf8(value)) return std::nullopt;
  // Depth-first with an explicit stack: (value, its pointer).
  std::vector<std::pair<const Json*, std::string>> stack;
  stack.emplace_back(&value, std::string());
  while (!stack.empty()) {
    auto [v, where] = std::move(stack.back());
    stack.pop_back();
    if (v->is_string()) {
      if (!valid_utf8(v->get_ref<const std::string&>())) return where;
    } else if (v->is_object()) {
      for (auto it = v->begin(); it != v->end(); ++it) {
        if (!valid_utf8(it.key())) return where + "/(a key)";
        if (it->is_structured() || it->is_string())
          stack.emplace_back(&*it, where + "/" + escape_pointer_token(it.key()));
      }
    } else if (v->is_array()) {
      for (std::size_t i = 0; i < v->size(); ++i) {
        const Json& x = (*v)[i];
        if (x.is_structured() || x.is_string()) stack.emplace_back(&x, fmt::format("{}/{}", where, i));
      }
    }
  }
  return std::nullopt;
}

void check_json_text(const Json& value, std::string_view field) {
  if (auto where = invalid_utf8_in(value))
    throw Error(ErrorCode::invalid_argument, fmt::format("{} holds text that is not valid UTF-8{}", field,
                                                         where->empty() ? std::string() : " at " + *where));
}

}  // namespace acm::model
