// SPDX-License-Identifier: Apache-2.0
// cmmn/el.cpp - a recursive-descent reader of the Java-EL subset found in CMMN models that
// writes the same condition back in acm's language, fully parenthesised.
#include "cmmn/el.hpp"

#include <cctype>
#include <memory>
#include <stdexcept>
#include <vector>

namespace acm::cmmn::detail {

namespace {

enum class Tok { end, ident, number, string, op };

struct Token {
  Tok kind = Tok::end;
  std::string text;  ///< identifier, number text, decoded string, or operator
  std::size_t col = 0;
};

struct ElError : std::runtime_error {
  ElError(std::size_t c, const std::string& m) : std::runtime_error(m), col(c) {}
  std::size_t col;
};

std::vector<Token> lex(std::string_view s, std::size_t base) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Token t;
    t.col = base + i + 1;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$') {
      std::size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || s[j] == '$')) ++j;
      t.kind = Tok::ident;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      std::size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      if (j < s.size() && s[j] == '.' && j + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[j + 1]))) {
        ++j;
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      }
      if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
        std::size_t k = j + 1;
        if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
        if (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) {
          j = k;
          while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
        }
      }
      if (j < s.size() && (s[j] == 'L' || s[j] == 'l' || s[j] == 'd' || s[j] == 'D' || s[j] == 'f' || s[j] == 'F'))
        ++j;  // Java literal suffixes
      t.kind = Tok::number;
      std::string num(s.substr(i, j - i));
      while (!num.empty() && std::isalpha(static_cast<unsigned char>(num.back()))) num.pop_back();
      if (!num.empty() && num[0] == '.') num = "0" + num;
      t.text = num;
      i = j;
    } else if (c == '\'' || c == '"') {
      std::size_t j = i + 1;
      std::string v;
      bool closed = false;
      while (j < s.size()) {
        if (s[j] == '\\' && j + 1 < s.size()) {
          v += s[j + 1];
          j += 2;
          continue;
        }
        if (s[j] == c) {
          closed = true;
          ++j;
          break;
        }
        v += s[j++];
      }
      if (!closed) throw ElError(t.col, "unterminated string");
      t.kind = Tok::string;
      t.text = std::move(v);
      i = j;
    } else {
      static const char* const ops[] = {"==", "!=", "<=", ">=", "&&", "||", "->", "+=", "(", ")", "[", "]", ".",
                                        ",",  "?",  ":",  "<",  ">",  "!",  "+",  "-",  "*", "/", "%", "=", ";"};
      bool found = false;
      for (const char* op : ops) {
        const std::size_t n = std::char_traits<char>::length(op);
        if (s.substr(i, n) == op) {
          t.kind = Tok::op;
          t.text = op;
          i += n;
          found = true;
          break;
        }
      }
      if (!found) throw ElError(t.col, std::string("unexpected character '") + c + "'");
    }
    out.push_back(std::move(t));
  }
  Token e;
  e.col = base + s.size() + 1;
  out.push_back(e);
  return out;
}

/// A translated sub-expression: its acm text and whether it is a bare value read (a case
/// variable or a path into one), which EL coerces where a boolean is expected.
struct Out {
  std::string text;
  bool value_read = false;
  bool boolean = false;  ///< a comparison, logic or boolean literal: already a bool
};

bool plain_name(const std::string& n) {
  if (n.empty() || !(std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_')) return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

std::string quote(const std::string& v) {
  std::string r = "\"";
  for (unsigned char c : v) {
    switch (c) {
      case '"':
        r += "\\\"";
        break;
      case '\\':
        r += "\\\\";
        break;
      case '\n':
        r += "\\n";
        break;
      case '\t':
        r += "\\t";
        break;
      case '\r':
        r += "\\r";
        break;
      default:
        if (c < 0x20) {
          static const char* hex = "0123456789abcdef";
          r += "\\u00";
          r += hex[c >> 4];
          r += hex[c & 15];
        } else {
          r += static_cast<char>(c);
        }
    }
  }
  return r + "\"";
}

std::string file_var(const std::string& name) {
  if (plain_name(name)) return "file." + name;
  return "file[" + quote(name) + "]";
}

class Parser {
 public:
  Parser(std::vector<Token> toks, const ElOptions& o) : t_(std::move(toks)), o_(o) {}

  std::string run() {
    Out o = ternary();
    if (peek().kind != Tok::end) throw ElError(peek().col, "unexpected '" + peek().text + "'");
    return as_bool(o);
  }

 private:
  std::vector<Token> t_;
  std::size_t p_ = 0;
  const ElOptions& o_;
  int depth_ = 0;

  const Token& peek(std::size_t k = 0) const { return t_[std::min(p_ + k, t_.size() - 1)]; }
  bool is_op(const char* op, std::size_t k = 0) const { return peek(k).kind == Tok::op && peek(k).text == op; }
  bool is_word(const char* w) const { return peek().kind == Tok::ident && peek().text == w; }
  const Token& next() { return t_[std::min(p_++, t_.size() - 1)]; }
  void expect(const char* op) {
    if (!is_op(op)) throw ElError(peek().col, std::string("expected '") + op + "'");
    ++p_;
  }

  struct Guard {
    explicit Guard(Parser& p) : p_(p) {
      if (++p_.depth_ > 100) throw ElError(p_.peek().col, "expression nested too deeply");
    }
    ~Guard() { --p_.depth_; }
    Parser& p_;
  };

  /// EL coercion to boolean of a value read: true, or the string "true" in any case.
  static std::string as_bool(const Out& o) {
    if (o.value_read) return "(lower(string(" + o.text + ")) == \"true\")";
    return o.text;
  }

  Out ternary() {
    Guard g(*this);
    Out c = logic_or();
    if (!is_op("?")) return c;
    ++p_;
    Out a = ternary();
    expect(":");
    Out b = ternary();
    return {"(" + as_bool(c) + " ? " + a.text + " : " + b.text + ")", false, a.boolean && b.boolean};
  }

  Out logic_or() {
    Out l = logic_and();
    while (is_op("||") || is_word("or")) {
      ++p_;
      Out r = logic_and();
      l = {"(" + as_bool(l) + " or " + as_bool(r) + ")", false, true};
    }
    return l;
  }

  Out logic_and() {
    Out l = equality();
    while (is_op("&&") || is_word("and")) {
      ++p_;
      Out r = equality();
      l = {"(" + as_bool(l) + " and " + as_bool(r) + ")", false, true};
    }
    return l;
  }

  Out equality() {
    Out l = relational();
    for (;;) {
      std::string op;
      if (is_op("==") || is_word("eq"))
        op = "==";
      else if (is_op("!=") || is_word("ne"))
        op = "!=";
      else
        break;
      ++p_;
      Out r = relational();
      l = {"(" + l.text + " " + op + " " + r.text + ")", false, true};
    }
    return l;
  }

  Out relational() {
    Out l = additive();
    for (;;) {
      std::string op;
      if (is_op("<") || is_word("lt"))
        op = "<";
      else if (is_op(">") || is_word("gt"))
        op = ">";
      else if (is_op("<=") || is_word("le"))
        op = "<=";
      else if (is_op(">=") || is_word("ge"))
        op = ">=";
      else if (is_word("instanceof"))
        throw ElError(peek().col, "'instanceof' is not supported");
      else
        break;
      ++p_;
      Out r = additive();
      l = {"(" + l.text + " " + op + " " + r.text + ")", false, true};
    }
    return l;
  }

  Out additive() {
    Out l = multiplicative();
    while (is_op("+") || is_op("-")) {
      const std::string op = next().text;
      Out r = multiplicative();
      l = {"(" + l.text + " " + op + " " + r.text + ")", false, false};
    }
    return l;
  }

  Out multiplicative() {
    Out l = unary();
    for (;;) {
      std::string op;
      if (is_op("*"))
        op = "*";
      else if (is_op("/") || is_word("div"))
        op = "/";
      else if (is_op("%") || is_word("mod"))
        op = "%";
      else
        break;
      ++p_;
      Out r = unary();
      l = {"(" + l.text + " " + op + " " + r.text + ")", false, false};
    }
    return l;
  }

  Out unary() {
    Guard g(*this);
    if (is_op("!") || is_word("not")) {
      ++p_;
      Out o = unary();
      return {"(not " + as_bool(o) + ")", false, true};
    }
    if (is_op("-")) {
      ++p_;
      Out o = unary();
      return {"(-" + o.text + ")", false, false};
    }
    if (is_word("empty")) {
      ++p_;
      Out o = unary();
      return {"(empty " + o.text + ")", false, true};
    }
    return postfix();
  }

  std::vector<Out> args() {
    std::vector<Out> a;
    expect("(");
    if (!is_op(")")) {
      a.push_back(ternary());
      while (is_op(",")) {
        ++p_;
        a.push_back(ternary());
      }
    }
    expect(")");
    return a;
  }

  /// The string literal argument naming a variable.
  static std::string name_arg(const std::vector<Out>& a, const std::vector<std::string>& raw, std::size_t col) {
    if (a.empty() || raw.empty() || raw[0].empty()) throw ElError(col, "expected the variable name as a string");
    return raw[0];
  }

  Out flowable_var(const std::string& fn, std::size_t col) {
    // The first argument must be a string literal.
    expect("(");
    if (peek().kind != Tok::string) throw ElError(peek().col, "expected the variable name as a string");
    const std::string name = next().text;
    std::vector<Out> rest;
    while (is_op(",")) {
      ++p_;
      rest.push_back(ternary());
    }
    expect(")");
    const std::string v = name == o_.counter_variable ? std::string("repetitionCounter") : file_var(name);
    auto need = [&](std::size_t n) {
      if (rest.size() != n) throw ElError(col, fn + " takes " + std::to_string(n + 1) + " argument" + (n ? "s" : ""));
    };
    if (fn == "get") {
      need(0);
      return {v, true, false};
    }
    if (fn == "getOrDefault") {
      need(1);
      return {"default(" + v + ", " + rest[0].text + ")", true, false};
    }
    if (fn == "exists") {
      need(0);
      return {"exists(" + v + ")", false, true};
    }
    if (fn == "isEmpty") {
      need(0);
      return {"(empty " + v + ")", false, true};
    }
    if (fn == "isNotEmpty") {
      need(0);
      return {"(not (empty " + v + "))", false, true};
    }
    static const std::pair<const char*, const char*> cmp[] = {
        {"equals", "=="},     {"eq", "=="}, {"notEquals", "!="},           {"ne", "!="},
        {"lowerThan", "<"},   {"lt", "<"},  {"lowerThanOrEquals", "<="},   {"lte", "<="},
        {"greaterThan", ">"}, {"gt", ">"},  {"greaterThanOrEquals", ">="}, {"gte", ">="}};
    for (const auto& [n, op] : cmp) {
      if (fn == n) {
        need(1);
        return {"(" + v + " " + op + " " + rest[0].text + ")", false, true};
      }
    }
    throw ElError(col, "the variable function '" + fn + "' is not supported");
  }

  Out primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::end:
        throw ElError(t.col, "unexpected end of the expression");
      case Tok::number:
        ++p_;
        return {t.text, false, false};
      case Tok::string:
        ++p_;
        return {quote(t.text), false, false};
      case Tok::op:
        if (t.text == "(") {
          ++p_;
          Out o = ternary();
          expect(")");
          return {"(" + o.text + ")", o.value_read, o.boolean};
        }
        if (t.text == "->" || t.text == "+=" || t.text == "=" || t.text == ";")
          throw ElError(t.col, "'" + t.text + "' (assignment, lambda or statement) is not supported");
        throw ElError(t.col, "unexpected '" + t.text + "'");
      case Tok::ident:
        break;
    }
    const std::string name = t.text;
    const std::size_t col = t.col;
    ++p_;
    if (name == "true" || name == "false") return {name, false, true};
    if (name == "null") return {"null", false, false};
    // Flowable's var:get('x') and friends.
    if ((name == "var" || name == "vars" || name == "variables") && is_op(":") && peek(1).kind == Tok::ident &&
        peek(2).kind == Tok::op && peek(2).text == "(") {
      ++p_;
      const std::string fn = next().text;
      return flowable_var(fn, col);
    }
    if (is_op("(")) throw ElError(col, "the function '" + name + "' is not supported");
    // caseInstance.getVariable('x') / planItemInstance.getVariable('x') / execution.getVariable('x')
    if ((name == "caseInstance" || name == "planItemInstance" || name == "execution" || name == "task") && is_op(".") &&
        peek(1).kind == Tok::ident) {
      const std::string method = peek(1).text;
      if (method == "getVariable" && peek(2).kind == Tok::op && peek(2).text == "(" && peek(3).kind == Tok::string &&
          peek(4).kind == Tok::op && peek(4).text == ")") {
        const std::string var = peek(3).text;
        p_ += 5;
        return {var == o_.counter_variable ? std::string("repetitionCounter") : file_var(var), true, false};
      }
      throw ElError(peek(1).col, "method calls on engine objects are not supported ('" + name + "." + method + "')");
    }
    if (name == o_.counter_variable || name == "repetitionCounter") return {"repetitionCounter", true, false};
    return {file_var(name), true, false};
  }

  Out postfix() {
    Out o = primary();
    for (;;) {
      if (is_op(".")) {
        ++p_;
        if (peek().kind != Tok::ident) throw ElError(peek().col, "expected a property name after '.'");
        const Token& f = next();
        if (is_op("(")) throw ElError(f.col, "method calls are not supported ('." + f.text + "(...)')");
        o = {o.text + (plain_name(f.text) ? "." + f.text : "[" + quote(f.text) + "]"), o.value_read, false};
        continue;
      }
      if (is_op("[")) {
        ++p_;
        Out i = ternary();
        expect("]");
        o = {o.text + "[" + i.text + "]", o.value_read, false};
        continue;
      }
      return o;
    }
  }
};

}  // namespace

bool translate_el(std::string_view text, const ElOptions& options, std::string& out, std::string& error) {
  // Strip surrounding whitespace and the ${...} / #{...} wrapper.
  std::size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  std::string_view body = text.substr(b, e - b);
  std::size_t base = b;
  if (body.size() >= 3 && (body[0] == '$' || body[0] == '#') && body[1] == '{' && body.back() == '}') {
    body = body.substr(2, body.size() - 3);
    base += 2;
  }
  if (body.find("${") != std::string_view::npos || body.find("#{") != std::string_view::npos) {
    error = "at column " +
            std::to_string(body.find("${") != std::string_view::npos ? body.find("${") + base + 1
                                                                     : body.find("#{") + base + 1) +
            ": composite expressions (text mixed with ${...}) are not supported";
    return false;
  }
  try {
    Parser p(lex(body, base), options);
    out = p.run();
    return true;
  } catch (const ElError& x) {
    error = "at column " + std::to_string(x.col) + ": " + x.what();
    return false;
  }
}

}  // namespace acm::cmmn::detail
