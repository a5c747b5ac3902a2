// SPDX-License-Identifier: Apache-2.0
// expr/expr.cpp - runtime values and the evaluator of the condition language.
//
// Evaluation is total: every operator is defined on every combination of operand types, and
// the ones that make no sense yield null; nothing loops, nothing recurses deeper than the tree
// (whose height the parser bounds). See docs/expressions.md for the rules implemented here.
//
// To avoid copying case-file sub-trees, intermediate results (`Val`) may borrow: a pointer into
// the environment's JSON (Environment::json_variable), or into a constant of the tree. Operators
// read their operands through a `View`, which never owns anything. Only the final result, and
// values handed to Environment::call, are materialised as owned Values.
#include "base/time_parse.hpp"
#include "expr/ast.hpp"

#include <acm/error.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>

namespace acm::expr {

namespace {

// ---------------------------------------------------------------------------------------------
// Views and intermediate values

enum class T : std::uint8_t { null, boolean, number, string, duration, time, list, object };

/// A non-owning look at a value of any origin (Value, constant or borrowed JSON). 16 bytes, so
/// that it travels in registers: every string it can see is a std::string somewhere (in a Json,
/// a Value or an owned result), hence a pointer suffices.
struct View {
  T t = T::null;
  bool b = false;  // T::boolean
  union {
    double n = 0;           // T::number
    std::int64_t ms;        // T::duration, T::time (milliseconds, since the epoch for a time)
    const std::string* str;  // T::string
    const Json* j;          // T::list, T::object
  };

  std::string_view s() const { return *str; }
  Duration d() const { return Duration{ms}; }
  TimePoint tp() const { return TimePoint{Duration{ms}}; }
};
static_assert(sizeof(View) == 16);

View view_of(const Json& j) noexcept {
  View v;
  switch (j.type()) {
    case Json::value_t::boolean: v.t = T::boolean; v.b = *j.get_ptr<const Json::boolean_t*>(); break;
    case Json::value_t::number_integer:
      v.t = T::number;
      v.n = static_cast<double>(*j.get_ptr<const Json::number_integer_t*>());
      break;
    case Json::value_t::number_unsigned:
      v.t = T::number;
      v.n = static_cast<double>(*j.get_ptr<const Json::number_unsigned_t*>());
      break;
    case Json::value_t::number_float: v.t = T::number; v.n = *j.get_ptr<const Json::number_float_t*>(); break;
    case Json::value_t::string: v.t = T::string; v.str = j.get_ptr<const Json::string_t*>(); break;
    case Json::value_t::array: v.t = T::list; v.j = &j; break;
    case Json::value_t::object: v.t = T::object; v.j = &j; break;
    default: break;  // null, binary, discarded
  }
  return v;
}

View view_of(const Value& value) noexcept {
  View v;
  const auto& s = value.storage();
  switch (s.index()) {
    case 1: v.t = T::boolean; v.b = std::get<bool>(s); break;
    case 2: v.t = T::number; v.n = std::get<double>(s); break;
    case 3: v.t = T::string; v.str = &std::get<std::string>(s); break;
    case 4: v.t = T::duration; v.ms = std::get<Duration>(s).count(); break;
    case 5: v.t = T::time; v.ms = std::get<TimePoint>(s).time_since_epoch().count(); break;
    case 6: return view_of(std::get<Json>(s));
    default: break;
  }
  return v;
}

bool truthy(const View& v) { return v.t == T::boolean && v.b; }

Json number_json(double n) {
  constexpr double kExact = 9007199254740992.0;  // 2^53
  if (std::isfinite(n) && std::trunc(n) == n && std::fabs(n) <= kExact) {
    return Json(static_cast<std::int64_t>(n));
  }
  return Json(n);
}

/// True when `t` can be written as ISO text (format_time).
bool in_text_range(TimePoint t) { return t >= kEarliestTime && t <= kLatestTime; }

/// The JSON form of a view: times and durations become ISO strings.
Json json_of(const View& v) {
  switch (v.t) {
    case T::null: return Json();
    case T::boolean: return Json(v.b);
    case T::number: return number_json(v.n);
    case T::string: return Json(std::string(v.s()));
    case T::duration: return Json(format_duration(v.d()));
    // A time beyond what ISO text holds (years 0000..9999) has no text: null (format_time throws).
    case T::time: return in_text_range(v.tp()) ? Json(format_time(v.tp())) : Json();
    case T::list:
    case T::object: return *v.j;
  }
  return Json();
}

/// An owned Value equal to the view.
Value value_of(const View& v) {
  switch (v.t) {
    case T::null: return Value();
    case T::boolean: return Value(v.b);
    case T::number: return Value(v.n);
    case T::string: return Value(std::string(v.s()));
    case T::duration: return Value(v.d());
    case T::time: return Value(v.tp());
    case T::list:
    case T::object: return Value::from_json(*v.j);
  }
  return Value();
}

std::string_view type_name_of(T t) {
  switch (t) {
    case T::null: return "null";
    case T::boolean: return "bool";
    case T::number: return "number";
    case T::string: return "string";
    case T::duration: return "duration";
    case T::time: return "time";
    case T::list: return "list";
    case T::object: return "object";
  }
  return "null";
}

/// An intermediate result. Scalars are held directly in the view; a string or list/object is
/// either owned (on the heap, so that moving a Val never invalidates its view) or borrowed:
/// from the environment's JSON (Environment::json_variable) or from a constant of the tree,
/// both of which outlive the evaluation. Comparisons and logic, the hot path, never allocate.
struct Owned {
  std::string str;
  Json json;
};

struct Val {
  View v;
  std::unique_ptr<Owned> owned;  // set when v.str or v.j points into it

  const View& view() const noexcept { return v; }
  /// The owned Value (strings and containers moved out when owned, copied when borrowed).
  Value take() && {
    switch (v.t) {
      case T::string: return owned ? Value(std::move(owned->str)) : Value(std::string(v.s()));
      case T::list:
      case T::object: return owned ? Value::from_json(std::move(owned->json)) : Value::from_json(*v.j);
      default: return value_of(v);
    }
  }
};

Val null_val() { return Val{}; }
Val of(bool b) {
  Val r;
  r.v.t = T::boolean;
  r.v.b = b;
  return r;
}
Val of(double n) {
  Val r;
  r.v.t = T::number;
  r.v.n = n;
  return r;
}
Val of(Duration d) {
  Val r;
  r.v.t = T::duration;
  r.v.ms = d.count();
  return r;
}
Val of(TimePoint t) {
  Val r;
  r.v.t = T::time;
  r.v.ms = t.time_since_epoch().count();
  return r;
}
Val of(std::string s) {
  Val r;
  r.owned = std::make_unique<Owned>();
  r.owned->str = std::move(s);
  r.v.t = T::string;
  r.v.str = &r.owned->str;
  return r;
}
Val of(const char* s) { return of(std::string(s)); }
/// An owned list or object.
Val of(Json j) {
  Val r;
  r.v.t = j.is_array() ? T::list : T::object;
  r.owned = std::make_unique<Owned>();
  r.owned->json = std::move(j);
  r.v.j = &r.owned->json;
  return r;
}
/// A copy of a JSON value whose storage will go away.
Val copy_of(const Json& j) {
  const View x = view_of(j);
  if (x.t == T::string) return of(std::string(x.s()));
  if (x.t == T::list || x.t == T::object) return of(Json(j));
  Val r;
  r.v = x;
  return r;
}
Val of(Value&& value) {
  auto& s = const_cast<Value::Storage&>(value.storage());  // `value` is ours to consume
  if (auto* str = std::get_if<std::string>(&s)) return of(std::move(*str));
  if (auto* j = std::get_if<Json>(&s)) return (j->is_array() || j->is_object()) ? of(std::move(*j)) : copy_of(*j);
  Val r;
  r.v = view_of(value);
  return r;
}
/// A borrowed JSON value (null when `j` is).
Val borrow(const Json* j) {
  Val r;
  if (j) r.v = view_of(*j);
  return r;
}
Val bool_val(bool b) { return of(b); }
/// Numbers that are not finite (overflow) become null.
Val number_val(double n) { return std::isfinite(n) ? of(n) : null_val(); }
/// Tri-state result: 1 true, 0 false, -1 null.
Val tri_val(int r) { return r < 0 ? null_val() : bool_val(r != 0); }


// ---------------------------------------------------------------------------------------------
// Comparison

/// A string meeting a time or a duration is read as the time or duration it spells (the two
/// syntaxes cannot be confused), or null when it spells neither.
void coerce_string(View& v) {
  TimePoint tp;
  Duration d;
  if (detail::try_parse_time(v.s(), tp, nullptr)) {
    v.t = T::time;
    v.ms = tp.time_since_epoch().count();
  } else if (detail::try_parse_duration(v.s(), d, nullptr)) {
    v.t = T::duration;
    v.ms = d.count();
  } else {
    v.t = T::null;
  }
}

void coerce_pair(View& a, View& b) {
  const auto temporal = [](T t) { return t == T::time || t == T::duration; };
  if (a.t == T::string && temporal(b.t)) {
    coerce_string(a);
  } else if (b.t == T::string && temporal(a.t)) {
    coerce_string(b);
  }
}

bool equal(View a, View b) {
  coerce_pair(a, b);
  if (a.t != b.t) return false;
  switch (a.t) {
    case T::null: return true;
    case T::boolean: return a.b == b.b;
    case T::number: return a.n == b.n;
    case T::string: return a.s() == b.s();
    case T::duration: return a.d() == b.d();
    case T::time: return a.tp() == b.tp();
    case T::list:
    case T::object: return *a.j == *b.j;
  }
  return false;
}

template <class X>
int three_way(const X& a, const X& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

/// Ordering: -1, 0, 1, or nullopt when the operands have no common order.
std::optional<int> order(View a, View b) {
  coerce_pair(a, b);
  if (a.t != b.t) return std::nullopt;
  switch (a.t) {
    case T::number: return three_way(a.n, b.n);
    case T::string: {
      int c = a.s().compare(b.s());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case T::duration: return three_way(a.d(), b.d());
    case T::time: return three_way(a.tp(), b.tp());
    default: return std::nullopt;
  }
}

/// `x in container`: 1, 0, or -1 (null) when the container cannot hold x.
int member(const View& x, const View& container) {
  switch (container.t) {
    case T::list:
      for (const Json& e : *container.j) {
        if (equal(x, view_of(e))) return 1;
      }
      return 0;
    case T::string:
      if (x.t != T::string) return -1;
      return container.s().find(x.s()) != std::string_view::npos ? 1 : 0;
    case T::object: {
      if (x.t != T::string) return -1;
      const auto& obj = container.j->get_ref<const Json::object_t&>();
      return obj.find(x.s()) != obj.end() ? 1 : 0;
    }
    default: return -1;
  }
}

// ---------------------------------------------------------------------------------------------
// Arithmetic

constexpr double kDurationLimit = 9.2e18;  // just under 2^63 milliseconds

Val duration_val(double ms) {
  if (!std::isfinite(ms) || std::fabs(ms) >= kDurationLimit) return null_val();
  return of(Duration{std::llround(ms)});
}

Val add_durations(Duration a, Duration b, bool subtract) {
  std::int64_t r = 0;
  bool overflow = subtract ? __builtin_sub_overflow(a.count(), b.count(), &r)
                           : __builtin_add_overflow(a.count(), b.count(), &r);
  return overflow ? null_val() : of(Duration{r});
}

Val shift_time(TimePoint t, Duration d, bool subtract) {
  std::int64_t r = 0;
  const std::int64_t base = t.time_since_epoch().count();
  bool overflow = subtract ? __builtin_sub_overflow(base, d.count(), &r)
                           : __builtin_add_overflow(base, d.count(), &r);
  return overflow ? null_val() : of(TimePoint{Duration{r}});
}

[[gnu::noinline]] Val arithmetic(Op op, View a, View b) {
  if (a.t == T::null || b.t == T::null) return null_val();
  coerce_pair(a, b);
  const T x = a.t, y = b.t;
  switch (op) {
    case Op::add:
      if (x == T::number && y == T::number) return number_val(a.n + b.n);
      if (x == T::string && y == T::string) {
        std::string s;
        s.reserve(a.s().size() + b.s().size());
        s.append(a.s()).append(b.s());
        return of(std::move(s));
      }
      if (x == T::list && y == T::list) {
        Json r = *a.j;
        for (const Json& e : *b.j) r.push_back(e);
        return of(std::move(r));
      }
      if (x == T::time && y == T::duration) return shift_time(a.tp(), b.d(), false);
      if (x == T::duration && y == T::time) return shift_time(b.tp(), a.d(), false);
      if (x == T::duration && y == T::duration) return add_durations(a.d(), b.d(), false);
      return null_val();
    case Op::subtract:
      if (x == T::number && y == T::number) return number_val(a.n - b.n);
      if (x == T::time && y == T::duration) return shift_time(a.tp(), b.d(), true);
      if (x == T::time && y == T::time) {
        return add_durations(a.tp().time_since_epoch(), b.tp().time_since_epoch(), true);
      }
      if (x == T::duration && y == T::duration) return add_durations(a.d(), b.d(), true);
      return null_val();
    case Op::multiply:
      if (x == T::number && y == T::number) return number_val(a.n * b.n);
      if (x == T::duration && y == T::number) return duration_val(static_cast<double>(a.d().count()) * b.n);
      if (x == T::number && y == T::duration) return duration_val(a.n * static_cast<double>(b.d().count()));
      return null_val();
    case Op::divide:
      if (x == T::number && y == T::number) return b.n == 0 ? null_val() : number_val(a.n / b.n);
      if (x == T::duration && y == T::number) {
        return b.n == 0 ? null_val() : duration_val(static_cast<double>(a.d().count()) / b.n);
      }
      if (x == T::duration && y == T::duration) {
        return b.d().count() == 0 ? null_val()
                                : number_val(static_cast<double>(a.d().count()) / static_cast<double>(b.d().count()));
      }
      return null_val();
    case Op::modulo:
      if (x == T::number && y == T::number) return b.n == 0 ? null_val() : number_val(std::fmod(a.n, b.n));
      if (x == T::duration && y == T::duration) {
        if (b.d().count() == 0) return null_val();
        if (b.d().count() == -1) return of(Duration{0});  // avoids INT64_MIN % -1
        return of(Duration{a.d().count() % b.d().count()});
      }
      return null_val();
    default: return null_val();
  }
}

// ---------------------------------------------------------------------------------------------
// The evaluator

Val eval(const Node& n, const Environment& env);

/// One navigation step from `j`; nullptr when the step does not apply (missing, wrong type).
const Json* step(const Json* j, const Step& s, const Environment& env) {
  switch (s.kind) {
    case Step::Kind::key: {
      if (!j->is_object()) return nullptr;
      const auto& obj = j->get_ref<const Json::object_t&>();
      auto it = obj.find(s.key);
      return it == obj.end() ? nullptr : &it->second;
    }
    case Step::Kind::index: {
      if (!j->is_array()) return nullptr;
      const auto& arr = j->get_ref<const Json::array_t&>();
      const auto size = static_cast<std::int64_t>(arr.size());
      const std::int64_t i = s.index < 0 ? size + s.index : s.index;
      return (i < 0 || i >= size) ? nullptr : &arr[static_cast<std::size_t>(i)];
    }
    case Step::Kind::dynamic: {
      const Val k = eval(*s.expr, env);
      const View kv = k.view();
      if (kv.t == T::string) {
        if (!j->is_object()) return nullptr;
        const auto& obj = j->get_ref<const Json::object_t&>();
        auto it = obj.find(kv.s());
        return it == obj.end() ? nullptr : &it->second;
      }
      if (kv.t == T::number) {
        if (!j->is_array() || std::trunc(kv.n) != kv.n || std::fabs(kv.n) > 1e15) return nullptr;
        const auto& arr = j->get_ref<const Json::array_t&>();
        const auto size = static_cast<std::int64_t>(arr.size());
        auto i = static_cast<std::int64_t>(kv.n);
        if (i < 0) i += size;
        return (i < 0 || i >= size) ? nullptr : &arr[static_cast<std::size_t>(i)];
      }
      return nullptr;
    }
  }
  return nullptr;
}

/// Follows all steps from `j`; nullptr when any is missing.
const Json* walk(const Json* j, const std::vector<Step>& steps, const Environment& env) {
  for (const Step& s : steps) {
    if (!j) return nullptr;
    j = step(j, s, env);
  }
  return j;
}

/// Applies `steps` to an owned root: the leaf is copied out before the root goes away.
[[gnu::noinline]] Val walk_owned(Value&& root, const std::vector<Step>& steps, const Environment& env) {
  if (steps.empty()) return of(std::move(root));
  const auto* j = std::get_if<Json>(&root.storage());
  if (!j) return null_val();  // steps into a scalar
  const Json* leaf = walk(j, steps, env);
  return leaf ? copy_of(*leaf) : null_val();
}

Val eval_variable(const Node& n, const Environment& env) {
  const Json* j = nullptr;
  try {
    j = env.json_variable(n.name);
  } catch (...) {
    return null_val();
  }
  if (j) return borrow(walk(j, n.steps, env));
  Value root;
  try {
    root = env.variable(n.name);
  } catch (...) {
    return null_val();
  }
  return walk_owned(std::move(root), n.steps, env);
}

[[gnu::noinline]] Val eval_context_call(const Node& n, const Environment& env) {
  constexpr std::size_t kSmall = 4;
  std::array<Value, kSmall> small;
  std::vector<Value> large;
  std::span<const Value> args;
  if (n.args.size() <= kSmall) {
    for (std::size_t i = 0; i < n.args.size(); ++i) small[i] = eval(*n.args[i], env).take();
    args = std::span<const Value>(small.data(), n.args.size());
  } else {
    large.reserve(n.args.size());
    for (const auto& a : n.args) large.push_back(eval(*a, env).take());
    args = large;
  }
  Value r;
  try {
    r = env.call(n.name, args);
  } catch (...) {
    return null_val();
  }
  return walk_owned(std::move(r), n.steps, env);
}

[[gnu::noinline]] Val eval_postfix(const Node& n, const Environment& env) {
  const Val base = eval(*n.args[0], env);
  if (base.v.t != T::list && base.v.t != T::object) return null_val();  // steps into a scalar
  const Json* leaf = walk(base.v.j, n.steps, env);
  if (!leaf) return null_val();
  // An owned base dies here: copy the leaf. A borrowed one outlives the evaluation.
  return base.owned ? copy_of(*leaf) : borrow(leaf);
}

[[gnu::noinline]] Val eval_list(const Node& n, const Environment& env) {
  Json arr = Json::array();
  arr.get_ref<Json::array_t&>().reserve(n.args.size());
  for (const auto& a : n.args) arr.push_back(json_of(eval(*a, env).view()));
  return of(std::move(arr));
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

[[gnu::noinline]] Val string_of(const View& v) {
  switch (v.t) {
    case T::null: return null_val();
    case T::boolean: return of(v.b ? "true" : "false");
    case T::number: {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.n);
      if (ec != std::errc()) return null_val();
      return of(std::string(buf, end));
    }
    case T::string: return of(std::string(v.s()));
    case T::duration: return of(format_duration(v.d()));
    case T::time: return in_text_range(v.tp()) ? of(format_time(v.tp())) : null_val();
    case T::list:
    case T::object: return of(v.j->dump());
  }
  return null_val();
}

[[gnu::noinline]] Val number_of(const View& v) {
  switch (v.t) {
    case T::number: return number_val(v.n);
    case T::boolean: return of(v.b ? 1.0 : 0.0);
    case T::string: {
      std::string_view s = v.s();
      while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
      while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
      if (!s.empty() && s.front() == '+') s.remove_prefix(1);
      double d = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
      if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return null_val();
      return number_val(d);
    }
    default: return null_val();
  }
}

/// min (sign -1) or max (sign 1) of the arguments, or of one list argument's elements.
[[gnu::noinline]] Val extreme(const Node& n, const Environment& env, int sign) {
  if (n.args.size() == 1) {
    Val only = eval(*n.args[0], env);
    const View v = only.view();
    if (v.t == T::object) return null_val();
    if (v.t != T::list) return only;
    if (v.j->empty()) return null_val();
    View best = view_of(v.j->front());
    for (const Json& e : *v.j) {
      const auto o = order(view_of(e), best);
      if (!o) return null_val();
      if (*o == sign) best = view_of(e);
    }
    return of(value_of(best));
  }
  Val best = eval(*n.args[0], env);
  if (best.view().t == T::null) return null_val();
  for (std::size_t i = 1; i < n.args.size(); ++i) {
    Val c = eval(*n.args[i], env);
    const auto o = order(c.view(), best.view());
    if (!o) return null_val();
    if (*o == sign) best = std::move(c);
  }
  return best;
}

[[gnu::noinline]] Val eval_builtin(const Node& n, const Environment& env) {
  // Lazily evaluated arguments first.
  switch (n.fn) {
    case Builtin::exists: return bool_val(eval(*n.args[0], env).view().t != T::null);
    case Builtin::default_value: {
      Val x = eval(*n.args[0], env);
      return x.view().t != T::null ? std::move(x) : eval(*n.args[1], env);
    }
    case Builtin::min: return extreme(n, env, -1);
    case Builtin::max: return extreme(n, env, 1);
    default: break;
  }
  const Val a0 = eval(*n.args[0], env);
  const View a = a0.view();
  switch (n.fn) {
    case Builtin::len:
      if (a.t == T::string) return number_val(static_cast<double>(utf8_length(a.s())));
      if (a.t == T::list || a.t == T::object) return number_val(static_cast<double>(a.j->size()));
      return null_val();
    case Builtin::lower:
    case Builtin::upper: {
      if (a.t != T::string) return null_val();
      std::string s(a.s());
      for (char& c : s) {
        if (n.fn == Builtin::lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (n.fn == Builtin::upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      }
      return of(std::move(s));
    }
    case Builtin::trim: {
      if (a.t != T::string) return null_val();
      std::string_view s = a.s();
      while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
      while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
      return of(std::string(s));
    }
    case Builtin::abs:
      if (a.t == T::number) return number_val(std::fabs(a.n));
      if (a.t == T::duration) {
        if (a.d().count() == std::numeric_limits<std::int64_t>::min()) return null_val();
        return of(a.d() < Duration::zero() ? -a.d() : a.d());
      }
      return null_val();
    case Builtin::round: {
      if (a.t != T::number) return null_val();
      if (n.args.size() == 1) return number_val(std::round(a.n));
      const View digits = eval(*n.args[1], env).view();
      if (digits.t != T::number || std::trunc(digits.n) != digits.n || std::fabs(digits.n) > 15) return null_val();
      const double scale = std::pow(10.0, digits.n);
      return number_val(std::round(a.n * scale) / scale);
    }
    case Builtin::floor: return a.t == T::number ? number_val(std::floor(a.n)) : null_val();
    case Builtin::ceil: return a.t == T::number ? number_val(std::ceil(a.n)) : null_val();
    case Builtin::type: return of(std::string(type_name_of(a.t)));
    case Builtin::days:
    case Builtin::hours:
    case Builtin::minutes:
    case Builtin::seconds: {
      if (a.t != T::duration) return null_val();
      const double unit = n.fn == Builtin::days    ? 86'400'000.0
                          : n.fn == Builtin::hours ? 3'600'000.0
                          : n.fn == Builtin::minutes ? 60'000.0
                                                     : 1'000.0;
      return number_val(static_cast<double>(a.d().count()) / unit);
    }
    case Builtin::duration: {
      if (a.t == T::duration) return of(a.d());
      Duration d;
      if (a.t == T::string && detail::try_parse_duration(a.s(), d, nullptr)) return of(d);
      return null_val();
    }
    case Builtin::time: {
      if (a.t == T::time) return of(a.tp());
      TimePoint t;
      if (a.t == T::string && detail::try_parse_time(a.s(), t, nullptr)) return of(t);
      return null_val();
    }
    case Builtin::number: return number_of(a);
    case Builtin::string: return string_of(a);
    default: break;
  }
  // Two-argument functions.
  const Val a1 = eval(*n.args[1], env);
  const View b = a1.view();
  switch (n.fn) {
    case Builtin::contains: return tri_val(member(b, a));
    case Builtin::starts_with:
      if (a.t != T::string || b.t != T::string) return null_val();
      return bool_val(a.s().substr(0, b.s().size()) == b.s());
    case Builtin::ends_with:
      if (a.t != T::string || b.t != T::string) return null_val();
      return bool_val(a.s().size() >= b.s().size() && a.s().substr(a.s().size() - b.s().size()) == b.s());
    default: return null_val();
  }
}

Val eval(const Node& n, const Environment& env) {
  switch (n.op) {
    case Op::constant: {
      Val r;
      r.v = view_of(n.value);  // borrowed: the tree outlives the evaluation
      return r;
    }
    case Op::variable: return eval_variable(n, env);
    case Op::context_call: return eval_context_call(n, env);
    case Op::builtin: return eval_builtin(n, env);
    case Op::postfix: return eval_postfix(n, env);
    case Op::list: return eval_list(n, env);
    case Op::logical_and:
      for (const auto& a : n.args) {
        if (!truthy(eval(*a, env).view())) return bool_val(false);
      }
      return bool_val(true);
    case Op::logical_or:
      for (const auto& a : n.args) {
        if (truthy(eval(*a, env).view())) return bool_val(true);
      }
      return bool_val(false);
    case Op::logical_not: return bool_val(!truthy(eval(*n.args[0], env).view()));
    case Op::is_empty: {
      const Val x = eval(*n.args[0], env);
      const View v = x.view();
      switch (v.t) {
        case T::null: return bool_val(true);
        case T::string: return bool_val(v.s().empty());
        case T::list:
        case T::object: return bool_val(v.j->empty());
        default: return bool_val(false);
      }
    }
    case Op::ternary:
      return truthy(eval(*n.args[0], env).view()) ? eval(*n.args[1], env) : eval(*n.args[2], env);
    case Op::negate: {
      const Val x = eval(*n.args[0], env);
      const View v = x.view();
      if (v.t == T::number) return number_val(-v.n);
      if (v.t == T::duration && v.d().count() != std::numeric_limits<std::int64_t>::min()) return of(-v.d());
      return null_val();
    }
    default: break;
  }
  // Binary operators: both operands are always evaluated.
  const Val l = eval(*n.args[0], env);
  const Val r = eval(*n.args[1], env);
  const View a = l.view();
  const View b = r.view();
  switch (n.op) {
    case Op::add:
    case Op::subtract:
    case Op::multiply:
    case Op::divide:
    case Op::modulo: return arithmetic(n.op, a, b);
    case Op::equal: return bool_val(equal(a, b));
    case Op::not_equal: return bool_val(!equal(a, b));
    case Op::less:
    case Op::less_equal:
    case Op::greater:
    case Op::greater_equal: {
      const auto o = order(a, b);
      if (!o) return null_val();
      switch (n.op) {
        case Op::less: return bool_val(*o < 0);
        case Op::less_equal: return bool_val(*o <= 0);
        case Op::greater: return bool_val(*o > 0);
        default: return bool_val(*o >= 0);
      }
    }
    case Op::in: return tri_val(member(a, b));
    case Op::not_in: {
      const int m = member(a, b);
      return tri_val(m < 0 ? m : 1 - m);
    }
    default: return null_val();
  }
}

}  // namespace

// -------------------------------------------------------------------------------------------------
// Value

Value Value::from_json(const Json& j) {
  switch (j.type()) {
    case Json::value_t::array:
    case Json::value_t::object: {
      Value v;
      v.v_ = j;
      return v;
    }
    default: return value_of(view_of(j));
  }
}

Value Value::from_json(Json&& j) {
  if (j.is_array() || j.is_object()) {
    Value v;
    v.v_ = std::move(j);
    return v;
  }
  return from_json(static_cast<const Json&>(j));
}

Json Value::to_json() const { return json_of(view_of(*this)); }

bool Value::is_true() const {
  const bool* b = std::get_if<bool>(&v_);
  return b && *b;
}

std::string_view Value::type_name() const { return type_name_of(view_of(*this).t); }

bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }

Value evaluate_node(const Node& node, const Environment& env) noexcept {
  try {
    return eval(node, env).take();
  } catch (...) {
    return Value();  // e.g. std::bad_alloc: the contract is "never throws"
  }
}

Value Expression::evaluate(const Environment& env) const {
  return root_ ? evaluate_node(*root_, env) : Value();
}

}  // namespace acm::expr
