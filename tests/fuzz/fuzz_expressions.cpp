// SPDX-License-Identifier: Apache-2.0
// tests/fuzz/fuzz_expressions.cpp - the condition language: parse, then evaluate against a case-like
// environment.
//
// Input: the expression on the first line; the rest, if it is JSON, is the `file` variable.
// Oracles: parse throws only acm::Error(parse_error); evaluate never throws (it is total) and its
// value converts to JSON.
#include <acm/acm.hpp>

#include "expr/expr.hpp"
#include "fuzz_support.hpp"

using namespace acm;

namespace {

class Env final : public expr::Environment {
 public:
  explicit Env(Json file) : file_(std::move(file)) {}
  expr::Value variable(std::string_view name) const override {
    if (name == "file") return expr::Value::from_json(file_);
    if (name == "now") return expr::Value(parse_time("2026-11-23T09:00:00Z"));
    if (name == "case") return expr::Value::from_json(kCase);
    if (name == "repetitionCounter") return expr::Value(2);
    return {};
  }
  expr::Value call(std::string_view name, std::span<const expr::Value> args) const override {
    if (name == "goal" && !args.empty()) return expr::Value::from_json(Json{{"state", "active"}, {"id", "g1"}});
    return {};
  }
  const Json* json_variable(std::string_view name) const override { return name == "file" ? &file_ : nullptr; }

 private:
  Json file_;
  inline static const Json kCase = Json{{"priority", 3}, {"status", "active"}, {"owner", "ann"}};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view all = acm_fuzz::text(data, size);
  const std::size_t nl = all.find('\n');
  const std::string_view source = all.substr(0, nl);
  Json file = Json{{"customer", {{"tier", "gold"}, {"value", 1200.5}}}, {"items", {1, 2, 3}}, {"note", "x"}};
  if (nl != std::string_view::npos) {
    try {
      file = parse_json(all.substr(nl + 1), "file", 256);
    } catch (const Error&) {
    }
  }
  expr::Expression e;
  try {
    e = expr::Expression::parse(source);
  } catch (const Error& err) {
    if (err.code() != ErrorCode::parse_error)
      acm_fuzz::finding(std::string("parse gave a non-parse error: ") + err.what());
    return 0;
  } catch (const std::exception& err) {
    acm_fuzz::finding(std::string("parse: a non-acm exception escaped: ") + err.what());
  }
  const Env env(std::move(file));
  try {
    const expr::Value v = e.evaluate(env);
    (void)v.to_json();
    (void)e.dependencies();
  } catch (const std::exception& err) {
    acm_fuzz::finding(std::string("evaluate threw (it must be total): ") + err.what());
  }
  return 0;
}
