// SPDX-License-Identifier: Apache-2.0
// store/stored_json.hpp - the JSON text the store writes, written and read back in one pass.
//
// Loading a case parses every stored event payload; nlohmann's general parser spends most of
// that time in its lexer (it keeps each token's characters for error messages). The store only
// ever writes compact text made by Json::dump() (docs/storage.md, "Conventions"), so a parser for
// that shape reads it in one pass; anything else is left to Json::parse.
#pragma once

#include <acm/json.hpp>

#include <string_view>

namespace acm::store {

/// Parses `text` exactly as `Json::parse(text)` does: the same value for every valid text, the
/// same `Json::exception` for every invalid one.
///
/// Fast for the compact text `Json::dump()` writes when it holds only objects, arrays, ASCII
/// strings without escapes, integers of up to 18 digits, `true`, `false` and `null`, nested at
/// most 64 deep. Text outside that shape (white space, escapes, non-ASCII characters,
/// fractions, exponents, larger numbers, deeper nesting, and every error) is parsed by
/// `Json::parse` from the start. Thread safe (no shared state).
Json parse_stored_json(std::string_view text);

/// The fast path alone: true, with the value in `out`, if `text` has the compact shape above
/// (then the value is Json::parse's); false otherwise (`out` is then unspecified).
bool parse_compact_json(std::string_view text, Json& out);

/// The text `value.dump()` writes (compact, keys in order): the same bytes for every value, the
/// same `Json::exception` for every value dump() refuses (text that is not UTF-8).
///
/// Fast for values of the shape parse_compact_json reads: objects, arrays, strings of
/// printable ASCII without '"' or a backslash, integers, `true`, `false` and `null`, nested at
/// most 64 deep. Any other value (a string dump() escapes or that holds non-ASCII bytes, a
/// floating-point number, binary, deeper nesting) is written by `Json::dump` from the start.
/// Thread safe (no shared state).
std::string dump_stored_json(const Json& value);

/// The fast path alone: true, with dump()'s text appended to `out`, if `value` has the shape
/// above; false otherwise (`out` then holds an unspecified prefix).
bool dump_compact_json(const Json& value, std::string& out);

}  // namespace acm::store
