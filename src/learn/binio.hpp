// SPDX-License-Identifier: Apache-2.0
// learn/binio.hpp - the little-endian binary encoding of learned templates, and a reader that
// checks every read against the bytes left: a count can never ask for more elements than the
// rest of the buffer could hold, a bool is 0 or 1, a string fits. Private to the library.
#pragma once

#include <acm/error.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace acm::learn::binio {

class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) { le(v, 2); }
  void u32(std::uint32_t v) { le(v, 4); }
  void u64(std::uint64_t v) { le(v, 8); }
  void i32(std::int32_t v) { le(static_cast<std::uint32_t>(v), 4); }
  void i64(std::int64_t v) { le(static_cast<std::uint64_t>(v), 8); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void f32(float v) {
    std::uint32_t b;
    std::memcpy(&b, &v, 4);
    u32(b);
  }
  void f64(double v) {
    std::uint64_t b;
    std::memcpy(&b, &v, 8);
    u64(b);
  }
  void str(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  std::string& bytes() { return out_; }

 private:
  void le(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ErrorCode::storage, fmt::format("learned template: {} (at byte {})", what, at_));
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(le(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(le(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(le(4)); }
  std::uint64_t u64() { return le(8); }
  std::int32_t i32() { return static_cast<std::int32_t>(static_cast<std::uint32_t>(le(4))); }
  std::int64_t i64() { return static_cast<std::int64_t>(le(8)); }
  bool boolean(const char* what) {
    const std::uint8_t v = u8();
    if (v > 1) fail(fmt::format("{} is not a boolean ({})", what, v));
    return v == 1;
  }
  float f32() {
    const std::uint32_t b = u32();
    float v;
    std::memcpy(&v, &b, 4);
    return v;
  }
  double f64() {
    const std::uint64_t b = u64();
    double v;
    std::memcpy(&v, &b, 8);
    return v;
  }
  std::string str() {
    const std::uint64_t n = u64();
    if (n > left()) fail(fmt::format("a text of {} bytes with only {} bytes left", n, left()));
    std::string v(s_.substr(at_, n));
    at_ += n;
    return v;
  }
  /// A count of elements that take at least `min_size` bytes each, bounded by what is left
  /// and by `max` (a limit of the format).
  std::size_t count(const char* what, std::size_t min_size, std::uint64_t max = UINT64_MAX) {
    const std::uint64_t n = u64();
    if (n > max) fail(fmt::format("{}: {} is more than the limit {}", what, n, max));
    if (min_size > 0 && n > left() / min_size)
      fail(fmt::format("{}: {} elements cannot fit in the {} bytes left", what, n, left()));
    return static_cast<std::size_t>(n);
  }
  std::size_t left() const { return s_.size() - at_; }
  bool done() const { return at_ == s_.size(); }

 private:
  std::uint64_t le(int n) {
    if (left() < static_cast<std::size_t>(n)) fail("the data ends early");
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(s_[at_ + static_cast<std::size_t>(i)])) << (8 * i);
    at_ += static_cast<std::size_t>(n);
    return v;
  }
  std::string_view s_;
  std::size_t at_ = 0;
};

}  // namespace acm::learn::binio
