// SPDX-License-Identifier: Apache-2.0
// expr/ast.hpp - the syntax tree shared by the parser and the evaluator (private to expr/).
#pragma once

#include "expr/expr.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace acm::expr {

using NodePtr = std::shared_ptr<const Node>;

/// What a node computes.
enum class Op : std::uint8_t {
  constant,      // value
  variable,      // name, then steps
  context_call,  // name(args...), then steps: Environment::call
  builtin,       // fn(args...)
  postfix,       // steps applied to args[0]
  list,          // [args...]
  logical_and,   // args[0] and args[1] and ...
  logical_or,    // args[0] or args[1] or ...
  logical_not,   // not args[0]  (also '!')
  is_empty,      // empty args[0]
  ternary,       // args[0] ? args[1] : args[2]
  negate,        // -args[0]
  add,
  subtract,
  multiply,
  divide,
  modulo,
  equal,
  not_equal,
  less,
  less_equal,
  greater,
  greater_equal,
  in,
  not_in,
};

/// The built-in functions.
enum class Builtin : std::uint8_t {
  len, lower, upper, trim, contains, starts_with, ends_with,
  abs, min, max, round, floor, ceil,
  exists, default_value, type,
  days, hours, minutes, seconds,
  duration, time, number, string,
};

/// One navigation step of a path: `.name`, `["key"]`, `[3]`, `[-1]` or `[expr]`.
struct Step {
  enum class Kind : std::uint8_t { key, index, dynamic };
  Kind kind = Kind::key;
  std::string key;          // Kind::key
  std::int64_t index = 0;   // Kind::index; negative counts from the end
  NodePtr expr;             // Kind::dynamic: a number indexes a list, a string keys an object
};

/// An immutable AST node. One struct for every kind keeps evaluation a single switch.
struct Node {
  Op op = Op::constant;
  Builtin fn = Builtin::len;
  std::uint32_t pos = 0;      // byte offset of the node in the source text (for messages)
  std::uint32_t height = 1;   // 1 + the height of the tallest child (bounded by kMaxDepth)
  Value value;                // Op::constant
  std::string name;           // Op::variable, Op::context_call
  std::vector<NodePtr> args;  // operands, arguments, list elements
  std::vector<Step> steps;    // Op::variable, Op::context_call, Op::postfix
};

/// Limits of the parser (see docs/expressions.md).
inline constexpr std::size_t kMaxTextLength = 64 * 1024;
inline constexpr std::uint32_t kMaxDepth = 200;

/// Evaluates `node`. Total: never throws (exceptions from the environment yield null).
Value evaluate_node(const Node& node, const Environment& env) noexcept;

}  // namespace acm::expr
