// SPDX-License-Identifier: Apache-2.0
// expr/parse.cpp - lexer and recursive-descent parser of the condition language.
//
// The grammar is written down in docs/expressions.md. The parser builds an immutable tree once;
// constant sub-expressions are folded (so `duration("PT4H")` or `2 * 4h` cost nothing at
// evaluation), and a constant argument of duration()/time() that does not parse is reported
// here, at load time. Nesting is bounded twice: by parser recursion and by tree height, both
// kMaxDepth, so neither parsing nor evaluation can exhaust the stack.
#include "base/time_parse.hpp"
#include "expr/ast.hpp"

#include <acm/error.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace acm::expr {

namespace {

// ---------------------------------------------------------------------------------------------
// Tokens

enum class Tok : std::uint8_t {
  end, number, duration, string, ident,
  kw_true, kw_false, kw_null, kw_and, kw_or, kw_not, kw_in, kw_empty,
  kw_eq, kw_ne, kw_lt, kw_le, kw_gt, kw_ge,
  lparen, rparen, lbracket, rbracket, comma, dot, question, colon,
  plus, minus, star, slash, percent,
  eqeq, ne, lt, le, gt, ge, andand, oror, bang,
  open_wrapper,  // "${" or "#{"
  rbrace,
};

struct Token {
  Tok kind = Tok::end;
  std::uint32_t pos = 0;
  std::uint32_t len = 0;
  double number = 0;
  Duration duration{};
  std::string text;  // identifier name or string value
};

struct Keyword {
  std::string_view word;
  Tok tok;
};
constexpr Keyword kKeywords[] = {
    {"true", Tok::kw_true}, {"false", Tok::kw_false}, {"null", Tok::kw_null},
    {"and", Tok::kw_and},   {"or", Tok::kw_or},       {"not", Tok::kw_not},
    {"in", Tok::kw_in},     {"empty", Tok::kw_empty}, {"eq", Tok::kw_eq},
    {"ne", Tok::kw_ne},     {"lt", Tok::kw_lt},       {"le", Tok::kw_le},
    {"gt", Tok::kw_gt},     {"ge", Tok::kw_ge},
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// ---------------------------------------------------------------------------------------------
// Built-in functions

struct BuiltinInfo {
  std::string_view name;
  Builtin fn;
  std::uint8_t min_args;
  std::uint8_t max_args;  // kVariadic: no limit
};
constexpr std::uint8_t kVariadic = 255;
constexpr BuiltinInfo kBuiltins[] = {
    {"len", Builtin::len, 1, 1},
    {"lower", Builtin::lower, 1, 1},
    {"upper", Builtin::upper, 1, 1},
    {"trim", Builtin::trim, 1, 1},
    {"contains", Builtin::contains, 2, 2},
    {"startsWith", Builtin::starts_with, 2, 2},
    {"endsWith", Builtin::ends_with, 2, 2},
    {"abs", Builtin::abs, 1, 1},
    {"min", Builtin::min, 1, kVariadic},
    {"max", Builtin::max, 1, kVariadic},
    {"round", Builtin::round, 1, 2},
    {"floor", Builtin::floor, 1, 1},
    {"ceil", Builtin::ceil, 1, 1},
    {"exists", Builtin::exists, 1, 1},
    {"default", Builtin::default_value, 2, 2},
    {"type", Builtin::type, 1, 1},
    {"days", Builtin::days, 1, 1},
    {"hours", Builtin::hours, 1, 1},
    {"minutes", Builtin::minutes, 1, 1},
    {"seconds", Builtin::seconds, 1, 1},
    {"duration", Builtin::duration, 1, 1},
    {"time", Builtin::time, 1, 1},
    {"number", Builtin::number, 1, 1},
    {"string", Builtin::string, 1, 1},
};

const BuiltinInfo* find_builtin(std::string_view name) {
  for (const auto& b : kBuiltins) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

/// The Flowable variable functions `var:`/`vars:`/`variables:` NAME, mapped onto the language.
enum class VarFn { get, get_or_default, exists, is_empty, is_not_empty, eq, ne, lt, le, gt, ge };
struct VarFnInfo {
  std::string_view name;
  VarFn fn;
  std::size_t args;
};
constexpr VarFnInfo kVarFns[] = {
    {"get", VarFn::get, 1},
    {"getOrDefault", VarFn::get_or_default, 2},
    {"exists", VarFn::exists, 1},
    {"isEmpty", VarFn::is_empty, 1},
    {"isNotEmpty", VarFn::is_not_empty, 1},
    {"equals", VarFn::eq, 2},
    {"eq", VarFn::eq, 2},
    {"notEquals", VarFn::ne, 2},
    {"ne", VarFn::ne, 2},
    {"lowerThan", VarFn::lt, 2},
    {"lt", VarFn::lt, 2},
    {"lowerThanOrEquals", VarFn::le, 2},
    {"lte", VarFn::le, 2},
    {"greaterThan", VarFn::gt, 2},
    {"gt", VarFn::gt, 2},
    {"greaterThanOrEquals", VarFn::ge, 2},
    {"gte", VarFn::ge, 2},
};
constexpr std::string_view kVarNamespaces[] = {"var", "vars", "variables"};

/// Edit distance counting a transposition of neighbours as one edit, for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t w = b.size() + 1;
  std::vector<std::size_t> d((a.size() + 1) * w);
  for (std::size_t i = 0; i <= a.size(); ++i) d[i * w] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      std::size_t v = std::min({d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1, d[(i - 1) * w + j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = std::min(v, d[(i - 2) * w + j - 2] + 1);
      d[i * w + j] = v;
    }
  }
  return d[a.size() * w + b.size()];
}

/// " (did you mean 'x'?)" for the closest candidate: one edit away for short names, two for
/// names of six characters or more; "" when none is that close.
template <class Names>
std::string suggestion(std::string_view name, const Names& candidates) {
  std::string best;
  std::size_t best_distance = name.size() >= 6 ? 3 : 2;
  for (const auto& c : candidates) {
    const std::string_view cv(c);
    const std::size_t d = edit_distance(name, cv);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(cv);
    }
  }
  return best.empty() ? std::string() : " (did you mean '" + best + "'?)";
}

/// Evaluation context for constant folding: nothing is visible.
class NoEnvironment final : public Environment {
 public:
  Value variable(std::string_view) const override { return {}; }
  Value call(std::string_view, std::span<const Value>) const override { return {}; }
};

// ---------------------------------------------------------------------------------------------
// The parser

using MutNode = std::shared_ptr<Node>;

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options) : text_(text), options_(options) {}

  NodePtr parse() {
    if (text_.size() > kMaxTextLength) {
      fail(0, "expression too long (" + std::to_string(text_.size()) + " bytes; the limit is " +
                  std::to_string(kMaxTextLength) + ")");
    }
    lex();
    const bool wrapped = accept(Tok::open_wrapper);
    const Tok close = wrapped ? Tok::rbrace : Tok::end;
    if (peek().kind == close) fail(peek().pos, "expected an expression");
    MutNode root = expression();
    if (wrapped) {
      if (peek().kind == Tok::end) fail(peek().pos, "missing '}' to close '${'");
      if (peek().kind != Tok::rbrace) unexpected(peek());
      next();
    }
    if (peek().kind != Tok::end) unexpected(peek());
    return root;
  }

 private:
  // --- errors ------------------------------------------------------------------------------

  [[noreturn]] void fail(std::uint32_t pos, const std::string& what) const {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < pos && i < text_.size(); ++i) {
      const auto c = static_cast<unsigned char>(text_[i]);
      if (c == '\n') {
        ++line;
        column = 1;
      } else if ((c & 0xC0) != 0x80) {  // count code points, not UTF-8 continuation bytes
        ++column;
      }
    }
    constexpr std::size_t kShown = 120;
    std::string shown = text_.size() > kShown ? std::string(text_.substr(0, kShown)) + "..." : std::string(text_);
    throw Error(ErrorCode::parse_error,
                shown + ": at " + std::to_string(line) + ":" + std::to_string(column) + ": " + what);
  }

  std::string token_text(const Token& t) const {
    constexpr std::size_t kShown = 30;
    std::string_view s = text_.substr(t.pos, t.len);
    return s.size() > kShown ? std::string(s.substr(0, kShown)) + "..." : std::string(s);
  }

  [[noreturn]] void unexpected(const Token& t) const {
    if (t.kind == Tok::end) fail(t.pos, "unexpected end of expression");
    fail(t.pos, "unexpected '" + token_text(t) + "'");
  }

  // --- lexer -------------------------------------------------------------------------------

  void lex() {
    std::size_t i = 0;
    const std::size_t n = text_.size();
    auto add = [this](Tok kind, std::size_t pos, std::size_t len) -> Token& {
      Token t;
      t.kind = kind;
      t.pos = static_cast<std::uint32_t>(pos);
      t.len = static_cast<std::uint32_t>(len);
      tokens_.push_back(std::move(t));
      return tokens_.back();
    };
    while (true) {
      while (i < n && is_space(text_[i])) ++i;
      if (i >= n) break;
      const char c = text_[i];
      const char d = i + 1 < n ? text_[i + 1] : '\0';
      if (is_digit(c)) {
        i = lex_number(i);
        continue;
      }
      if (c == '"' || c == '\'') {
        i = lex_string(i);
        continue;
      }
      if (is_ident_start(c)) {
        std::size_t j = i;
        while (j < n && is_ident_char(text_[j])) ++j;
        std::string_view word = text_.substr(i, j - i);
        // Flowable's `var:get(...)` family: one token when written without spaces.
        if (j + 1 < n && text_[j] == ':' && is_ident_start(text_[j + 1]) &&
            std::find(std::begin(kVarNamespaces), std::end(kVarNamespaces), word) != std::end(kVarNamespaces)) {
          j += 1;
          while (j < n && is_ident_char(text_[j])) ++j;
          word = text_.substr(i, j - i);
        }
        Tok kind = Tok::ident;
        for (const auto& k : kKeywords) {
          if (k.word == word) kind = k.tok;
        }
        add(kind, i, j - i).text = std::string(word);
        i = j;
        continue;
      }
      Tok kind = Tok::end;
      std::size_t len = 1;
      switch (c) {
        case '(': kind = Tok::lparen; break;
        case ')': kind = Tok::rparen; break;
        case '[': kind = Tok::lbracket; break;
        case ']': kind = Tok::rbracket; break;
        case ',': kind = Tok::comma; break;
        case '.': kind = Tok::dot; break;
        case '?': kind = Tok::question; break;
        case ':': kind = Tok::colon; break;
        case '+': kind = Tok::plus; break;
        case '-': kind = Tok::minus; break;
        case '*': kind = Tok::star; break;
        case '/': kind = Tok::slash; break;
        case '%': kind = Tok::percent; break;
        case '}': kind = Tok::rbrace; break;
        case '=':
          if (d != '=') fail(static_cast<std::uint32_t>(i), "unexpected '=' (use '==' to compare)");
          kind = Tok::eqeq, len = 2;
          break;
        case '!':
          if (d == '=') kind = Tok::ne, len = 2;
          else kind = Tok::bang;
          break;
        case '<':
          if (d == '=') kind = Tok::le, len = 2;
          else kind = Tok::lt;
          break;
        case '>':
          if (d == '=') kind = Tok::ge, len = 2;
          else kind = Tok::gt;
          break;
        case '&':
          if (d != '&') fail(static_cast<std::uint32_t>(i), "unexpected '&' (use '&&' or 'and')");
          kind = Tok::andand, len = 2;
          break;
        case '|':
          if (d != '|') fail(static_cast<std::uint32_t>(i), "unexpected '|' (use '||' or 'or')");
          kind = Tok::oror, len = 2;
          break;
        case '$':
        case '#':
          if (d != '{') fail(static_cast<std::uint32_t>(i), std::string("unexpected '") + c + "'");
          kind = Tok::open_wrapper, len = 2;
          break;
        case '{': fail(static_cast<std::uint32_t>(i), "unexpected '{' (object literals are not supported)");
        default: {
          // Show the whole UTF-8 sequence of a non-ASCII character.
          const auto u = static_cast<unsigned char>(c);
          std::size_t seq = u >= 0xF0 ? 4 : u >= 0xE0 ? 3 : u >= 0xC0 ? 2 : 1;
          seq = std::min(seq, n - i);
          if (u < 0x20 || u == 0x7F) {
            fail(static_cast<std::uint32_t>(i), "unexpected control character " + std::to_string(u));
          }
          fail(static_cast<std::uint32_t>(i), "unexpected character '" + std::string(text_.substr(i, seq)) + "'");
        }
      }
      add(kind, i, len);
      i += len;
    }
    add(Tok::end, n, 0);
  }

  std::size_t lex_number(std::size_t start) {
    const std::size_t n = text_.size();
    std::size_t i = start;
    while (i < n && is_digit(text_[i])) ++i;
    if (i + 1 < n && text_[i] == '.' && is_digit(text_[i + 1])) {
      ++i;
      while (i < n && is_digit(text_[i])) ++i;
    }
    if (i < n && (text_[i] == 'e' || text_[i] == 'E')) {
      std::size_t j = i + 1;
      if (j < n && (text_[j] == '+' || text_[j] == '-')) ++j;
      if (j < n && is_digit(text_[j])) {
        i = j;
        while (i < n && is_digit(text_[i])) ++i;
      }
    }
    Token t;
    t.pos = static_cast<std::uint32_t>(start);
    if (i < n && is_ident_start(text_[i])) {
      // A duration literal: 2d, 4h, 30m, 45s, 500ms, 1w, 1.5h, 1h30m.
      std::size_t j = i;
      while (j < n && (is_ident_char(text_[j]) || text_[j] == '.')) ++j;
      const std::string_view lit = text_.substr(start, j - start);
      std::string why;
      if (!detail::try_parse_duration(lit, t.duration, &why)) {
        fail(t.pos, "invalid duration literal '" + std::string(lit) + "': " + why);
      }
      t.kind = Tok::duration;
      t.len = static_cast<std::uint32_t>(j - start);
      tokens_.push_back(std::move(t));
      return j;
    }
    const auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + i, t.number);
    if (ec != std::errc() || end != text_.data() + i || !std::isfinite(t.number)) {
      fail(t.pos, "number out of range '" + std::string(text_.substr(start, i - start)) + "'");
    }
    t.kind = Tok::number;
    t.len = static_cast<std::uint32_t>(i - start);
    tokens_.push_back(std::move(t));
    return i;
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  /// Reads 4 hex digits at `i` (after "\u"); fails at `at` otherwise.
  std::uint32_t hex4(std::size_t i, std::size_t at) const {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = i + k < text_.size() ? text_[i + k] : '\0';
      std::uint32_t digit = 0;
      if (c >= '0' && c <= '9') digit = static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') digit = static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') digit = static_cast<std::uint32_t>(c - 'A' + 10);
      else fail(static_cast<std::uint32_t>(at), "invalid \\u escape (expected 4 hex digits)");
      v = v * 16 + digit;
    }
    return v;
  }

  std::size_t lex_string(std::size_t start) {
    const char quote = text_[start];
    const std::size_t n = text_.size();
    std::string value;
    std::size_t i = start + 1;
    while (true) {
      if (i >= n) fail(static_cast<std::uint32_t>(start), "unterminated string");
      const char c = text_[i];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++i;
        continue;
      }
      const std::size_t at = i;
      if (i + 1 >= n) fail(static_cast<std::uint32_t>(start), "unterminated string");
      const char e = text_[i + 1];
      i += 2;
      switch (e) {
        case '\\': value += '\\'; break;
        case '\'': value += '\''; break;
        case '"': value += '"'; break;
        case '/': value += '/'; break;
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'u': {
          std::uint32_t cp = hex4(i, at);
          i += 4;
          if (cp >= 0xDC00 && cp <= 0xDFFF) fail(static_cast<std::uint32_t>(at), "invalid \\u escape (lone low surrogate)");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i + 1 >= n || text_[i] != '\\' || text_[i + 1] != 'u') {
              fail(static_cast<std::uint32_t>(at), "invalid \\u escape (high surrogate without low surrogate)");
            }
            const std::uint32_t low = hex4(i + 2, i);
            if (low < 0xDC00 || low > 0xDFFF) {
              fail(static_cast<std::uint32_t>(at), "invalid \\u escape (high surrogate without low surrogate)");
            }
            i += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(value, cp);
          break;
        }
        default: {
          const auto u = static_cast<unsigned char>(e);
          const std::size_t seq = std::min<std::size_t>(u >= 0xF0 ? 4 : u >= 0xE0 ? 3 : u >= 0xC0 ? 2 : 1, n - (i - 1));
          fail(static_cast<std::uint32_t>(at),
               "unknown escape '\\" + std::string(text_.substr(i - 1, seq)) + "' in string");
        }
      }
    }
    Token t;
    t.kind = Tok::string;
    t.pos = static_cast<std::uint32_t>(start);
    t.len = static_cast<std::uint32_t>(i + 1 - start);
    t.text = std::move(value);
    tokens_.push_back(std::move(t));
    return i + 1;
  }

  // --- token access ------------------------------------------------------------------------

  const Token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& next() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool accept(Tok kind) {
    if (peek().kind != kind) return false;
    next();
    return true;
  }
  void expect(Tok kind, const char* what) {
    if (peek().kind == kind) {
      next();
      return;
    }
    const Token& t = peek();
    if (t.kind == Tok::end) fail(t.pos, std::string("expected ") + what + " but reached the end");
    fail(t.pos, std::string("expected ") + what + ", found '" + token_text(t) + "'");
  }

  /// Bounds parser recursion (parentheses, brackets, arguments, prefix operators).
  struct DepthGuard {
    Parser& p;
    DepthGuard(Parser& parser, std::uint32_t pos) : p(parser) {
      if (++p.depth_ > kMaxDepth) p.too_deep(pos);
    }
    ~DepthGuard() { --p.depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
  };
  [[noreturn]] void too_deep(std::uint32_t pos) const {
    fail(pos, "expression nested too deeply (the limit is " + std::to_string(kMaxDepth) + " levels)");
  }

  // --- node construction -------------------------------------------------------------------

  static MutNode make(Op op, std::uint32_t pos) {
    auto n = std::make_shared<Node>();
    n->op = op;
    n->pos = pos;
    return n;
  }
  static MutNode make_constant(Value v, std::uint32_t pos) {
    auto n = make(Op::constant, pos);
    n->value = std::move(v);
    return n;
  }

  /// Computes the height (bounded by kMaxDepth) and folds the node if it is constant.
  MutNode finish(MutNode n) {
    std::uint32_t h = 0;
    bool constant = n->op != Op::variable && n->op != Op::context_call && n->op != Op::constant;
    for (const auto& a : n->args) {
      h = std::max(h, a->height);
      constant = constant && a->op == Op::constant;
    }
    for (const auto& s : n->steps) {
      if (s.expr) {
        h = std::max(h, s.expr->height);
        constant = constant && s.expr->op == Op::constant;
      }
    }
    n->height = h + 1;
    if (n->height > kMaxDepth) too_deep(n->pos);
    if (constant) {
      static const NoEnvironment kNone;
      return make_constant(evaluate_node(*n, kNone), n->pos);
    }
    return n;
  }

  MutNode make_unary(Op op, MutNode operand, std::uint32_t pos) {
    auto n = make(op, pos);
    n->args.push_back(std::move(operand));
    return finish(std::move(n));
  }
  MutNode make_binary(Op op, MutNode l, MutNode r, std::uint32_t pos) {
    auto n = make(op, pos);
    n->args.push_back(std::move(l));
    n->args.push_back(std::move(r));
    return finish(std::move(n));
  }

  void check_variable(const std::string& name, std::uint32_t pos) const {
    if (!options_.variables.empty() && !options_.variables.contains(name)) {
      fail(pos, "unknown name '" + name + "'" + suggestion(name, options_.variables));
    }
  }
  MutNode make_variable(std::string name, std::uint32_t pos) {
    check_variable(name, pos);
    auto n = make(Op::variable, pos);
    n->name = std::move(name);
    return finish(std::move(n));
  }

  // --- grammar -----------------------------------------------------------------------------

  // expression = logic_or [ "?" expression ":" expression ]
  MutNode expression() {
    const std::uint32_t pos = peek().pos;
    DepthGuard guard(*this, pos);
    MutNode cond = binary(kPrecOr);
    if (!accept(Tok::question)) return cond;
    MutNode yes = expression();
    expect(Tok::colon, "':' of the conditional expression");
    MutNode no = expression();
    auto n = make(Op::ternary, pos);
    n->args = {std::move(cond), std::move(yes), std::move(no)};
    return finish(std::move(n));
  }

  static constexpr int kPrecOr = 1;
  static constexpr int kPrecAnd = 2;
  static constexpr int kPrecNot = 3;
  static constexpr int kPrecCompare = 4;
  static constexpr int kPrecAdd = 5;
  static constexpr int kPrecMultiply = 6;
  static constexpr int kPrecUnary = 7;

  /// The binary operator at the current token, its precedence and token count.
  struct BinOp {
    Op op = Op::constant;
    int prec = 0;
    int tokens = 1;
  };
  BinOp binary_op() const {
    switch (peek().kind) {
      case Tok::kw_or:
      case Tok::oror: return {Op::logical_or, kPrecOr};
      case Tok::kw_and:
      case Tok::andand: return {Op::logical_and, kPrecAnd};
      case Tok::eqeq:
      case Tok::kw_eq: return {Op::equal, kPrecCompare};
      case Tok::ne:
      case Tok::kw_ne: return {Op::not_equal, kPrecCompare};
      case Tok::lt:
      case Tok::kw_lt: return {Op::less, kPrecCompare};
      case Tok::le:
      case Tok::kw_le: return {Op::less_equal, kPrecCompare};
      case Tok::gt:
      case Tok::kw_gt: return {Op::greater, kPrecCompare};
      case Tok::ge:
      case Tok::kw_ge: return {Op::greater_equal, kPrecCompare};
      case Tok::kw_in: return {Op::in, kPrecCompare};
      case Tok::kw_not:
        if (peek(1).kind == Tok::kw_in) return {Op::not_in, kPrecCompare, 2};
        return {};
      case Tok::plus: return {Op::add, kPrecAdd};
      case Tok::minus: return {Op::subtract, kPrecAdd};
      case Tok::star: return {Op::multiply, kPrecMultiply};
      case Tok::slash: return {Op::divide, kPrecMultiply};
      case Tok::percent: return {Op::modulo, kPrecMultiply};
      default: return {};
    }
  }

  // Precedence climbing over: or < and < (not) < comparisons < + - < * / %.
  // `and`/`or` chains become one n-ary node; comparisons do not chain.
  MutNode binary(int min_prec) {
    MutNode left = unary(min_prec);
    while (true) {
      const BinOp b = binary_op();
      if (b.prec == 0 || b.prec < min_prec) return left;
      const Token& op_token = peek();
      const std::string op_text = token_text(op_token);
      for (int k = 0; k < b.tokens; ++k) next();
      if (b.op == Op::logical_or || b.op == Op::logical_and) {
        auto n = make(b.op, left->pos);
        n->args.push_back(std::move(left));
        n->args.push_back(binary(b.prec + 1));
        while (binary_op().op == b.op) {
          next();
          n->args.push_back(binary(b.prec + 1));
        }
        left = finish(std::move(n));
        continue;
      }
      MutNode right = binary(b.prec + 1);
      const std::uint32_t start = left->pos;
      left = make_binary(b.op, std::move(left), std::move(right), start);
      if (b.prec == kPrecCompare && binary_op().prec == kPrecCompare) {
        fail(peek().pos, "comparisons cannot be chained (after '" + op_text + "'); combine them with 'and'");
      }
    }
  }

  MutNode unary(int min_prec) {
    const Token& t = peek();
    const std::uint32_t pos = t.pos;
    switch (t.kind) {
      case Tok::kw_not: {
        if (min_prec > kPrecNot) fail(pos, "'not' must be put in parentheses here, e.g. a == (not b)");
        next();
        DepthGuard guard(*this, pos);
        // `not not x`: the operand is itself a `not`; otherwise a comparison or tighter.
        MutNode operand = peek().kind == Tok::kw_not && peek(1).kind != Tok::kw_in ? unary(kPrecNot)
                                                                                    : binary(kPrecCompare);
        return make_unary(Op::logical_not, std::move(operand), pos);
      }
      case Tok::bang: {
        next();
        DepthGuard guard(*this, pos);
        return make_unary(Op::logical_not, unary(kPrecUnary), pos);
      }
      case Tok::minus: {
        next();
        DepthGuard guard(*this, pos);
        return make_unary(Op::negate, unary(kPrecUnary), pos);
      }
      case Tok::kw_empty: {
        next();
        DepthGuard guard(*this, pos);
        return make_unary(Op::is_empty, unary(kPrecUnary), pos);
      }
      default: return postfix();
    }
  }

  // postfix = primary { "." name | "[" expression "]" }
  MutNode postfix() {
    MutNode base = primary();
    std::vector<Step> steps;
    while (true) {
      if (peek().kind == Tok::dot) {
        next();
        const Token& name = peek();
        const bool word = name.kind == Tok::ident || (!name.text.empty() && name.kind != Tok::string);
        if (!word) {
          if (name.kind == Tok::end) fail(name.pos, "expected a field name after '.' but reached the end");
          fail(name.pos, "expected a field name after '.', found '" + token_text(name) + "'");
        }
        next();
        if (peek().kind == Tok::lparen) {
          fail(name.pos, "method calls are not supported ('." + name.text + "(...)')");
        }
        Step s;
        s.kind = Step::Kind::key;
        s.key = name.text;
        steps.push_back(std::move(s));
      } else if (peek().kind == Tok::lbracket) {
        next();
        if (peek().kind == Tok::rbracket) fail(peek().pos, "expected an index or key inside '[]'");
        MutNode index = expression();
        expect(Tok::rbracket, "']'");
        Step s;
        s.kind = Step::Kind::dynamic;
        if (index->op == Op::constant) {
          const auto& v = index->value.storage();
          if (const auto* key = std::get_if<std::string>(&v)) {
            s.kind = Step::Kind::key;
            s.key = *key;
          } else if (const auto* d = std::get_if<double>(&v); d && std::trunc(*d) == *d && std::fabs(*d) < 1e15) {
            s.kind = Step::Kind::index;
            s.index = static_cast<std::int64_t>(*d);
          }
        }
        if (s.kind == Step::Kind::dynamic) s.expr = std::move(index);
        steps.push_back(std::move(s));
      } else {
        break;
      }
    }
    if (steps.empty()) return base;
    if ((base->op == Op::variable || base->op == Op::context_call) && base->steps.empty()) {
      base->steps = std::move(steps);
      return finish(std::move(base));
    }
    auto n = make(Op::postfix, base->pos);
    n->args.push_back(std::move(base));
    n->steps = std::move(steps);
    return finish(std::move(n));
  }

  MutNode primary() {
    const Token& t = next();
    const std::uint32_t pos = t.pos;
    switch (t.kind) {
      case Tok::number: return make_constant(Value(t.number), pos);
      case Tok::duration: return make_constant(Value(t.duration), pos);
      case Tok::string: return make_constant(Value(t.text), pos);
      case Tok::kw_true: return make_constant(Value(true), pos);
      case Tok::kw_false: return make_constant(Value(false), pos);
      case Tok::kw_null: return make_constant(Value(), pos);
      case Tok::lparen: {
        MutNode inner = expression();
        expect(Tok::rparen, "')'");
        return inner;
      }
      case Tok::lbracket: {
        auto n = make(Op::list, pos);
        if (!accept(Tok::rbracket)) {
          while (true) {
            n->args.push_back(expression());
            if (accept(Tok::comma)) continue;
            expect(Tok::rbracket, "',' or ']' in the list");
            break;
          }
        }
        return finish(std::move(n));
      }
      case Tok::ident: return name_or_call(t);
      case Tok::open_wrapper: fail(pos, "'" + token_text(t) + "' is only allowed around the whole expression");
      default: unexpected(t);
    }
  }

  /// Arguments after the name of a function; the current token is "(".
  std::vector<MutNode> arguments(const std::string& function) {
    next();
    std::vector<MutNode> args;
    if (accept(Tok::rparen)) return args;
    while (true) {
      args.push_back(expression());
      if (accept(Tok::comma)) continue;
      expect(Tok::rparen, ("',' or ')' in the arguments of " + function).c_str());
      return args;
    }
  }

  static std::string count_text(std::size_t n, const char* unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
  }

  [[noreturn]] void wrong_arity(std::uint32_t pos, const std::string& name, std::size_t min_args,
                                std::size_t max_args, std::size_t got) const {
    std::string expected;
    if (min_args == max_args) expected = count_text(min_args, "argument");
    else if (max_args == kVariadic) expected = "at least " + count_text(min_args, "argument");
    else expected = std::to_string(min_args) + " or " + count_text(max_args, "argument");
    fail(pos, "expected " + expected + " to " + name + ", got " + std::to_string(got));
  }

  MutNode name_or_call(const Token& t) {
    const std::string name = t.text;
    const std::uint32_t pos = t.pos;
    if (name.find(':') != std::string::npos) return var_function(name, pos);
    // Flowable/Camunda `caseInstance.getVariable('x')`: the variable x.
    if ((name == "caseInstance" || name == "planItemInstance") && peek().kind == Tok::dot &&
        peek(1).kind == Tok::ident && peek(1).text == "getVariable" && peek(2).kind == Tok::lparen) {
      next();
      next();
      const std::string fn = name + ".getVariable";
      auto args = arguments(fn);
      if (args.size() != 1) wrong_arity(pos, fn, 1, 1, args.size());
      return make_variable(constant_name(*args[0], fn), args[0]->pos);
    }
    if (peek().kind != Tok::lparen) return make_variable(name, pos);

    auto args = arguments(name);
    if (const BuiltinInfo* b = find_builtin(name)) {
      if (args.size() < b->min_args || (b->max_args != kVariadic && args.size() > b->max_args)) {
        wrong_arity(pos, name, b->min_args, b->max_args, args.size());
      }
      if (b->fn == Builtin::duration || b->fn == Builtin::time) check_temporal_constant(*b, *args[0]);
      auto n = make(Op::builtin, pos);
      n->fn = b->fn;
      n->args.assign(args.begin(), args.end());
      return finish(std::move(n));
    }
    if (options_.functions.contains(name)) {
      auto n = make(Op::context_call, pos);
      n->name = name;
      n->args.assign(args.begin(), args.end());
      return finish(std::move(n));
    }
    std::vector<std::string> known(options_.functions.begin(), options_.functions.end());
    for (const auto& b : kBuiltins) known.emplace_back(b.name);
    fail(pos, "unknown function '" + name + "'" + suggestion(name, known));
  }

  /// duration("...") / time("...") with a constant argument must parse now, not at evaluation.
  void check_temporal_constant(const BuiltinInfo& b, const Node& arg) const {
    if (arg.op != Op::constant) return;
    const auto& v = arg.value.storage();
    const bool is_duration = b.fn == Builtin::duration;
    if (std::holds_alternative<Duration>(v) && is_duration) return;
    if (std::holds_alternative<TimePoint>(v) && !is_duration) return;
    const auto* s = std::get_if<std::string>(&v);
    if (!s) {
      fail(arg.pos, std::string(b.name) + "() expects a string such as " +
                        (is_duration ? "\"PT4H\"" : "\"2026-11-23T09:00:00Z\"") + ", got " +
                        std::string(arg.value.type_name()));
    }
    std::string why;
    TimePoint tp;
    Duration d;
    const bool ok = is_duration ? detail::try_parse_duration(*s, d, &why) : detail::try_parse_time(*s, tp, &why);
    if (!ok) fail(arg.pos, "invalid " + std::string(b.name) + " '" + *s + "': " + why);
  }

  /// The variable name argument of var:get & co.: a string literal.
  std::string constant_name(const Node& arg, const std::string& function) const {
    const auto* s = arg.op == Op::constant ? std::get_if<std::string>(&arg.value.storage()) : nullptr;
    if (!s) fail(arg.pos, "the variable name in " + function + "(...) must be a string literal");
    return *s;
  }

  MutNode var_function(const std::string& name, std::uint32_t pos) {
    const std::string_view fn_name = std::string_view(name).substr(name.find(':') + 1);
    const VarFnInfo* info = nullptr;
    for (const auto& f : kVarFns) {
      if (f.name == fn_name) info = &f;
    }
    if (!info) fail(pos, "unknown function '" + name + "'");
    if (peek().kind != Tok::lparen) fail(peek().pos, "expected '(' after " + name);
    auto args = arguments(name);
    if (args.size() != info->args) wrong_arity(pos, name, info->args, info->args, args.size());
    MutNode var = make_variable(constant_name(*args[0], name), args[0]->pos);
    switch (info->fn) {
      case VarFn::get: return var;
      case VarFn::get_or_default: {
        auto n = make(Op::builtin, pos);
        n->fn = Builtin::default_value;
        n->args = {std::move(var), std::move(args[1])};
        return finish(std::move(n));
      }
      case VarFn::exists: {
        auto n = make(Op::builtin, pos);
        n->fn = Builtin::exists;
        n->args = {std::move(var)};
        return finish(std::move(n));
      }
      case VarFn::is_empty: return make_unary(Op::is_empty, std::move(var), pos);
      case VarFn::is_not_empty:
        return make_unary(Op::logical_not, make_unary(Op::is_empty, std::move(var), pos), pos);
      case VarFn::eq: return make_binary(Op::equal, std::move(var), std::move(args[1]), pos);
      case VarFn::ne: return make_binary(Op::not_equal, std::move(var), std::move(args[1]), pos);
      case VarFn::lt: return make_binary(Op::less, std::move(var), std::move(args[1]), pos);
      case VarFn::le: return make_binary(Op::less_equal, std::move(var), std::move(args[1]), pos);
      case VarFn::gt: return make_binary(Op::greater, std::move(var), std::move(args[1]), pos);
      case VarFn::ge: return make_binary(Op::greater_equal, std::move(var), std::move(args[1]), pos);
    }
    return var;
  }

  std::string_view text_;
  const ParseOptions& options_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  std::uint32_t depth_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Dependencies

bool plain_key(const std::string& key) {
  return !key.empty() && key.find_first_of(".[]") == std::string::npos;
}

void collect(const Node& n, std::set<std::string>& out) {
  if (n.op == Op::variable) {
    std::string dep = n.name;
    for (const Step& s : n.steps) {
      if (s.kind != Step::Kind::key || !plain_key(s.key)) break;
      dep += '.';
      dep += s.key;
    }
    out.insert(std::move(dep));
  } else if (n.op == Op::context_call) {
    if (n.args.empty()) {
      out.insert(n.name);
    } else if (n.args[0]->op == Op::constant && !n.args[0]->value.is_null() &&
               !std::holds_alternative<Json>(n.args[0]->value.storage())) {
      const auto& v = n.args[0]->value.storage();
      const auto* s = std::get_if<std::string>(&v);
      out.insert(n.name + ":" + (s ? *s : n.args[0]->value.to_json().dump()));
    } else {
      out.insert(n.name + ":*");
    }
  }
  for (const auto& a : n.args) collect(*a, out);
  for (const auto& s : n.steps) {
    if (s.expr) collect(*s.expr, out);
  }
}

}  // namespace

Expression Expression::parse(std::string_view text, const ParseOptions& options) {
  Parser parser(text, options);
  Expression e;
  e.root_ = parser.parse();
  e.text_ = std::string(text);
  std::set<std::string> deps;
  collect(*e.root_, deps);
  e.deps_.assign(deps.begin(), deps.end());
  return e;
}

}  // namespace acm::expr
