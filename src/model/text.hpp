// SPDX-License-Identifier: Apache-2.0
// model/text.hpp - checks of text crossing into the engine: valid UTF-8, no control characters
// in ids and names.
//
// Every string the engine stores ends up in JSON (event payloads, the store's rows), which
// cannot hold invalid UTF-8: text is checked where it enters, so that a bad string is an
// Error(invalid_argument) naming the field before anything changes.
#pragma once

#include <acm/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace acm::model {

/// True if `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view s) noexcept;

/// `s` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD
/// (for text the engine records but did not receive as an argument, e.g. a handler's error).
std::string to_valid_utf8(std::string_view s);

/// How strict a text check is.
enum class TextKind {
  free,  ///< any valid UTF-8 except NUL and control characters other than tab, CR and LF
  name,  ///< an id or a name: valid UTF-8 without any control character (U+0000-U+001F, U+007F)
};

/// Throws Error(invalid_argument) "<field> is not valid UTF-8" / "<field> contains a control
/// character" unless `s` is acceptable as `kind`.
void check_text(std::string_view s, std::string_view field, TextKind kind = TextKind::name);

/// The first place in `value` (a JSON pointer, "" for the root) where a string or an object key
/// is not valid UTF-8; nullopt if there is none. Walks iteratively (any depth).
std::optional<std::string> invalid_utf8_in(const Json& value);

/// Throws Error(invalid_argument) "<field> holds text that is not valid UTF-8 at <pointer>".
void check_json_text(const Json& value, std::string_view field);

}  // namespace acm::model
