// SPDX-License-Identifier: Apache-2.0
// expr/expr.hpp - the condition language: parse once, evaluate many times.
//
// Private to the library (not installed). See docs/expressions.md for the grammar.
#pragma once

#include <acm/json.hpp>
#include <acm/time.hpp>

#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace acm::expr {

/// A runtime value. Json holds only arrays and objects (scalars use the other alternatives);
/// see Value::from_json / to_json.
class Value {
 public:
  using Storage = std::variant<std::monostate, bool, double, std::string, Duration, TimePoint, Json>;
  Value() = default;
  Value(bool b) : v_(b) {}
  Value(double d) : v_(d) {}
  Value(int i) : v_(static_cast<double>(i)) {}
  Value(std::int64_t i) : v_(static_cast<double>(i)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(Duration d) : v_(d) {}
  Value(TimePoint t) : v_(t) {}

  /// Converts JSON: null/bool/number/string to scalars, arrays/objects kept as Json.
  static Value from_json(const Json& j);
  /// As from_json(const Json&), moving arrays and objects instead of copying them.
  static Value from_json(Json&& j);
  /// Converts back: durations become ISO strings ("PT2H"), times ISO UTC strings.
  Json to_json() const;

  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
  const Storage& storage() const { return v_; }
  /// Truthiness used by conditions: only `true` is true (null, false, numbers, strings are not).
  bool is_true() const;
  /// "null", "bool", "number", "string", "duration", "time", "list", "object".
  std::string_view type_name() const;

  friend bool operator==(const Value& a, const Value& b);

 private:
  Storage v_;
};

/// What an expression can see. Implemented by the engine for a case (and by tests).
class Environment {
 public:
  virtual ~Environment() = default;
  /// Value of a root name such as `file`, `case`, `now`, `repetitionCounter`. Unknown: null.
  virtual Value variable(std::string_view name) const = 0;
  /// Value of a context function such as `goal("g1")`, `item("diagnose")`. Unknown: null.
  virtual Value call(std::string_view name, std::span<const Value> args) const = 0;
  /// Fast path for roots that are JSON documents (e.g. `file`): a pointer the evaluator can
  /// navigate without copying; nullptr means "use variable()". The pointer stays valid during
  /// one evaluate() call.
  virtual const Json* json_variable(std::string_view /*name*/) const { return nullptr; }
};

/// What the parser accepts beyond the language's own built-ins.
struct ParseOptions {
  /// Root names that may appear (e.g. {"file","case","now"}). Empty set: any name is accepted.
  std::set<std::string, std::less<>> variables;
  /// Context function names that may be called (e.g. {"goal","item"}), passed to Environment::call.
  std::set<std::string, std::less<>> functions;
};

struct Node;  // AST node (defined in the implementation)

/// A parsed expression. Cheap to copy (shares the immutable tree); safe to evaluate from many
/// threads at once.
class Expression {
 public:
  Expression() = default;
  /// Parses `text`. Accepts plain syntax and the `${ ... }` wrapper of CMMN models.
  /// Throws acm::Error(parse_error) with message "<text>: at <line>:<column>: <what>".
  static Expression parse(std::string_view text, const ParseOptions& options = {});

  /// Evaluates. Total: never throws for any environment, always terminates; type errors,
  /// missing paths and division by zero yield null.
  Value evaluate(const Environment& env) const;
  /// evaluate(env).is_true()
  bool test(const Environment& env) const { return evaluate(env).is_true(); }

  /// The source text as given.
  const std::string& text() const { return text_; }
  bool empty() const { return !root_; }
  /// Root names and context-function calls with constant first argument that the expression
  /// reads, e.g. {"file.customer.tier", "goal:g1", "item:diagnose", "now"}: lets the engine
  /// know which changes can affect the result.
  const std::vector<std::string>& dependencies() const { return deps_; }

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;
  std::vector<std::string> deps_;
};

}  // namespace acm::expr
