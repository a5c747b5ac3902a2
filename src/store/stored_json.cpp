// SPDX-License-Identifier: Apache-2.0
#include "store/stored_json.hpp"

#include <charconv>
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

/// The writing side: Json::dump()'s bytes for values of the same shape (objects, arrays,
/// printable ASCII strings without characters dump() escapes, integers, booleans, null, nested
/// at most kMaxDepth deep). Every function returns false as soon as the value leaves that
/// shape; the caller then lets Json::dump write it (what is appended so far is dropped).
class CompactWriter {
 public:
  explicit CompactWriter(std::string& out) : out_(out) {}

  bool value(const Json& v, int depth) {
    switch (v.type()) {
      case Json::value_t::object: {
        if (depth >= kMaxDepth) return false;
        out_ += '{';
        bool first = true;
        // The map's order is dump()'s order.
        for (const auto& [key, member] : v.get_ref<const Json::object_t&>()) {
          if (!first) out_ += ',';
          first = false;
          if (!string(key)) return false;
          out_ += ':';
          if (!value(member, depth + 1)) return false;
        }
        out_ += '}';
        return true;
      }
      case Json::value_t::array: {
        if (depth >= kMaxDepth) return false;
        out_ += '[';
        bool first = true;
        for (const Json& element : v.get_ref<const Json::array_t&>()) {
          if (!first) out_ += ',';
          first = false;
          if (!value(element, depth + 1)) return false;
        }
        out_ += ']';
        return true;
      }
      case Json::value_t::string: return string(v.get_ref<const std::string&>());
      case Json::value_t::boolean: out_ += v.get<bool>() ? "true" : "false"; return true;
      case Json::value_t::null: out_ += "null"; return true;
      case Json::value_t::number_integer: return integer(v.get<std::int64_t>());
      case Json::value_t::number_unsigned: return integer(v.get<std::uint64_t>());
      default: return false;  // floating point (dump's own formatting), binary, discarded
    }
  }

 private:
  // Printable ASCII without '"' and '\\': dump() writes such a string as it is, quoted.
  bool string(const std::string& s) {
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
    }
    out_ += '"';
    out_ += s;
    out_ += '"';
    return true;
  }

  template <class Int>
  bool integer(Int n) {
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof digits, n);
    out_.append(digits, r.ptr);
    return true;
  }

  std::string& out_;
};

}  // namespace

bool dump_compact_json(const Json& value, std::string& out) { return CompactWriter(out).value(value, 0); }

std::string dump_stored_json(const Json& value) {
  std::string out;
  out.reserve(128);
  if (dump_compact_json(value, out)) return out;
  return value.dump();
}

bool parse_compact_json(std::string_view text, Json& out) { return CompactParser(text).parse(out); }

Json parse_stored_json(std::string_view text) {
  Json out;
  if (parse_compact_json(text, out)) return out;
  return Json::parse(text.begin(), text.end());
}

}  // namespace acm::store
