// SPDX-License-Identifier: Apache-2.0
#include "store/stored_json.hpp"

#include <cstdint>
#include <string>
#include <utility>

namespace acm::store {

namespace {

constexpr int kMaxDepth = 64;
constexpr int kMaxDigits = 18;  // fits int64 and uint64 whatever the digits

/// One pass over text of the shape Json::dump() writes (see the header). Every function returns
/// false as soon as the text leaves that shape; the caller then lets Json::parse read it.
class CompactParser {
 public:
  explicit CompactParser(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool parse(Json& out) { return value(out, 0) && p_ == end_; }

 private:
  bool value(Json& out, int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': return object(out, depth);
      case '[': return array(out, depth);
      case '"': {
        std::string s;
        if (!string(s)) return false;
        out = std::move(s);
        return true;
      }
      case 't': return literal("true", Json(true), out);
      case 'f': return literal("false", Json(false), out);
      case 'n': return literal("null", Json(nullptr), out);
      default: return number(out);
    }
  }

  bool object(Json& out, int depth) {
    if (depth >= kMaxDepth) return false;
    ++p_;  // '{'
    out = Json::object();
    auto& members = out.get_ref<Json::object_t&>();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      if (p_ == end_ || *p_ != '"') return false;
      std::string key;
      if (!string(key)) return false;
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      // dump() writes keys in order, so the end is the right place; a repeated key keeps its
      // last value, as in Json::parse.
      auto it = members.insert_or_assign(members.end(), std::move(key), Json());
      if (!value(it->second, depth + 1)) return false;
      if (p_ == end_) return false;
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
    }
  }

  bool array(Json& out, int depth) {
    if (depth >= kMaxDepth) return false;
    ++p_;  // '['
    out = Json::array();
    auto& elements = out.get_ref<Json::array_t&>();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      elements.emplace_back();
      if (!value(elements.back(), depth + 1)) return false;
      if (p_ == end_) return false;
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
    }
  }

  // Printable ASCII without escapes; the opening quote is at p_.
  bool string(std::string& out) {
    const char* start = ++p_;
    for (; p_ != end_; ++p_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out.assign(start, p_);
        ++p_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
    }
    return false;
  }

  bool literal(std::string_view word, Json value, Json& out) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    out = std::move(value);
    return true;
  }

  // An integer: 0, or a non-zero digit and at most 17 more, optionally negative (not -0).
  bool number(Json& out) {
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    const char* start = p_;
    std::uint64_t v = 0;
    for (; p_ != end_ && *p_ >= '0' && *p_ <= '9'; ++p_) v = v * 10 + static_cast<std::uint64_t>(*p_ - '0');
    const auto digits = p_ - start;
    if (digits == 0 || digits > kMaxDigits || (*start == '0' && (digits > 1 || negative))) return false;
    if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    if (negative)
      out = -static_cast<std::int64_t>(v);
    else
      out = v;
    return true;
  }

  const char* p_;
  const char* end_;
};

}  // namespace

bool parse_compact_json(std::string_view text, Json& out) { return CompactParser(text).parse(out); }

Json parse_stored_json(std::string_view text) {
  Json out;
  if (parse_compact_json(text, out)) return out;
  return Json::parse(text.begin(), text.end());
}

}  // namespace acm::store
