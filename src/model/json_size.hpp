// SPDX-License-Identifier: Apache-2.0
// model/json_size.hpp - the serialised size and nesting depth of a JSON value, bounded.
#pragma once

#include <acm/json.hpp>

#include <cstddef>
#include <string_view>

namespace acm::model {

/// The length of `value` serialised as compact JSON (`size`), counting strings without their
/// escapes and floating-point numbers as 24 characters. Counting stops as soon as the count
/// exceeds `stop_above` (`size` is then some figure above it), so a huge value costs no more
/// than the limit it is checked against; it also stops when arrays and objects nest more than
/// `max_depth` levels (`too_deep`; serialising them would recurse that deep).
struct SizeCheck {
  std::size_t size = 0;
  bool too_deep = false;
};
SizeCheck serialized_size(const Json& value, std::size_t stop_above, std::size_t max_depth = 256);

/// How deeply a value the engine accepts may nest (docs: every entry point, text or value).
inline constexpr std::size_t kMaxNesting = 256;

/// Throws Error(invalid_argument, "<what> nests more than <max_depth> levels deep") when
/// `value` does; a bounded walk, so safe on any value (copying, comparing or serialising a
/// value recurses as deep as it nests). Entry points that take a Json from the host call it
/// before anything else touches the value.
void check_nesting(const Json& value, std::string_view what, std::size_t max_depth = kMaxNesting);

}  // namespace acm::model
