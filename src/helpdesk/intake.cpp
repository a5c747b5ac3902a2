// SPDX-License-Identifier: Apache-2.0
// helpdesk/intake.cpp - channel events through ordered rules into cases (docs/helpdesk.md).
#include <acm/error.hpp>
#include <acm/intake.hpp>

#include "expr/expr.hpp"
#include "model/json_size.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <set>

namespace acm::helpdesk {

// ---------------------------------------------------------------------------------------------
// Channel events

namespace {

/// Cuts `s` to at most `n` bytes without splitting a UTF-8 sequence.
std::string utf8_prefix(std::string_view s, std::size_t n) {
  if (s.size() <= n) return std::string(s);
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

void check_event(const ChannelEvent& e, const EventLimits& l, std::vector<std::string>& out) {
  auto text_field = [&](const char* name, const std::string& v, std::size_t max, bool required) {
    if (required && v.empty())
      out.push_back(fmt::format("{}: missing or empty", name));
    else if (v.size() > max)
      out.push_back(fmt::format("{}: {} bytes, the limit is {}", name, v.size(), max));
  };
  text_field("id", e.id, l.max_id_bytes, true);
  text_field("channel", e.channel, l.max_channel_bytes, true);
  text_field("customer", e.customer, l.max_id_bytes, false);
  text_field("text", e.text, l.max_text_bytes, false);
  if (e.sentiment && !(std::isfinite(*e.sentiment) && *e.sentiment >= -1 && *e.sentiment <= 1))
    out.push_back(fmt::format("sentiment: {} is outside -1..1", *e.sentiment));
  if (!e.metadata.is_object()) {
    out.push_back(fmt::format("metadata: a {}, not an object", e.metadata.type_name()));
  } else {
    // A bounded walk, not dump(): metadata built by the host may nest arbitrarily deep.
    const auto size = model::serialized_size(e.metadata, l.max_metadata_bytes, model::kMaxNesting);
    if (size.too_deep)
      out.push_back(fmt::format("metadata: nests more than {} levels deep", model::kMaxNesting));
    else if (size.size > l.max_metadata_bytes)
      out.push_back(fmt::format("metadata: more than {} bytes as JSON", l.max_metadata_bytes));
  }
}

/// The event JSON kept in the log for a rejected event: whole up to `max` bytes, else a cut.
Json bounded(const Json& j, std::size_t max) {
  if (model::serialized_size(j, SIZE_MAX, model::kMaxNesting).too_deep)
    return Json{{"truncated", fmt::format("(nests more than {} levels deep)", model::kMaxNesting)}};
  std::string dumped = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (dumped.size() <= max) return j;
  return Json{{"truncated", utf8_prefix(dumped, 4096)}, {"bytes", dumped.size()}};
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

}  // namespace

std::string ChannelEvent::problems(const EventLimits& limits) const {
  std::vector<std::string> out;
  check_event(*this, limits, out);
  return join(out, "; ");
}

ChannelEvent ChannelEvent::from_json(const Json& j, const EventLimits& limits) {
  if (!j.is_object())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("invalid channel event: a JSON {}, not an object", j.type_name()));
  // Before any copy: copying recurses as deep as the value nests.
  if (model::serialized_size(j, SIZE_MAX, model::kMaxNesting).too_deep)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("invalid channel event: nests more than {} levels deep", model::kMaxNesting));
  ChannelEvent e;
  std::vector<std::string> problems;
  static const std::set<std::string> known = {"id", "channel", "customer", "text", "sentiment", "metadata", "received"};
  for (const auto& [key, value] : j.items())
    if (!known.count(key)) problems.push_back(fmt::format("{}: unknown field", utf8_prefix(key, 60)));
  auto string_field = [&](const char* name, std::string& into) {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) return;
    if (!it->is_string())
      problems.push_back(fmt::format("{}: a {}, not a string", name, it->type_name()));
    else
      into = it->get<std::string>();
  };
  string_field("id", e.id);
  string_field("channel", e.channel);
  string_field("customer", e.customer);
  string_field("text", e.text);
  if (auto it = j.find("sentiment"); it != j.end() && !it->is_null()) {
    if (!it->is_number())
      problems.push_back(fmt::format("sentiment: a {}, not a number", it->type_name()));
    else
      e.sentiment = it->get<double>();
  }
  if (auto it = j.find("metadata"); it != j.end() && !it->is_null()) e.metadata = *it;
  if (auto it = j.find("received"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) {
      problems.push_back(fmt::format("received: a {}, not an ISO-8601 time string", it->type_name()));
    } else {
      try {
        e.received = parse_time(it->get<std::string>());
      } catch (const Error& err) {
        problems.push_back(fmt::format("received: {}", err.what()));
      }
    }
  }
  std::vector<std::string> more;
  check_event(e, limits, more);
  for (auto& p : more) {
    // a field already reported as the wrong type is not reported again as missing
    bool dup = false;
    for (const auto& q : problems) dup = dup || q.substr(0, q.find(':')) == p.substr(0, p.find(':'));
    if (!dup) problems.push_back(std::move(p));
  }
  if (!problems.empty()) throw Error(ErrorCode::invalid_argument, "invalid channel event: " + join(problems, "; "));
  return e;
}

ChannelEvent ChannelEvent::parse(std::string_view text, const EventLimits& limits) {
  if (text.size() > limits.max_document_bytes)
    throw Error(ErrorCode::invalid_argument, fmt::format("invalid channel event: {} bytes of JSON, the limit is {}",
                                                         text.size(), limits.max_document_bytes));
  return from_json(parse_json(text, "channel event"), limits);
}

Json ChannelEvent::to_json() const {
  model::check_nesting(metadata, "channel event metadata");  // the copy below would recurse that deep
  Json j = {{"id", id}, {"channel", channel}, {"customer", customer}, {"text", text}, {"metadata", metadata}};
  if (sentiment) j["sentiment"] = *sentiment;
  if (received != TimePoint{}) j["received"] = format_time(received);
  return j;
}

std::string_view to_string(IntakeAction a) noexcept {
  switch (a) {
    case IntakeAction::create_case:
      return "create_case";
    case IntakeAction::attach:
      return "attach";
    case IntakeAction::raise_priority:
      return "raise_priority";
    case IntakeAction::ignore:
      return "ignore";
    case IntakeAction::unmatched:
      return "unmatched";
    case IntakeAction::rejected:
      return "rejected";
  }
  return "unknown";
}

const std::string& IntakeDecision::case_id() const {
  static const std::string none;
  return steps.empty() ? none : steps.back().case_id;
}

// ---------------------------------------------------------------------------------------------
// Rules

namespace {

/// A title template: literal text and `{expression}` placeholders.
struct Template {
  std::vector<std::pair<std::string, expr::Expression>> parts;  // literal, then expression (may be empty)
};

struct CaseSpec {
  std::string type;
  Template title;
  std::optional<int> priority;
};

struct Rule {
  std::string id;
  expr::Expression when;
  IntakeAction action = IntakeAction::ignore;
  CaseSpec create;                       // create_case, attach's otherwise_create
  bool otherwise_create = false;         // attach
  std::vector<std::string> correlation;  // metadata keys (customer is implied)
  std::optional<int> by, to;             // raise_priority
  bool stop = true;
};

expr::ParseOptions parse_options() {
  expr::ParseOptions o;
  o.variables = {"event", "customer", "now"};
  return o;
}

constexpr std::string_view kDefaultTitle = "{event.channel} message from {event.customer}";

Template parse_template(std::string_view text, const std::string& where, std::vector<std::string>& errors) {
  Template t;
  std::string literal;
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      i += 2;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      literal += '}';
      i += 2;
    } else if (c == '{') {
      auto end = text.find('}', i + 1);
      if (end == std::string_view::npos) {
        errors.push_back(fmt::format("{}: unclosed '{{' at offset {}", where, i));
        return t;
      }
      try {
        t.parts.emplace_back(std::move(literal),
                             expr::Expression::parse(text.substr(i + 1, end - i - 1), parse_options()));
      } catch (const Error& e) {
        errors.push_back(fmt::format("{}: placeholder at offset {}: {}", where, i, e.what()));
      }
      literal.clear();
      i = end + 1;
    } else if (c == '}') {
      errors.push_back(fmt::format("{}: unmatched '}}' at offset {} (write '}}}}' for a brace)", where, i));
      i += 1;
    } else {
      literal += c;
      i += 1;
    }
  }
  if (!literal.empty()) t.parts.emplace_back(std::move(literal), expr::Expression{});
  return t;
}

std::string value_text(const expr::Value& v) {
  if (v.is_null()) return "";
  Json j = v.to_json();
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number_integer()) return std::to_string(j.get<std::int64_t>());
  if (j.is_number()) {
    double d = j.get<double>();
    if (d == std::floor(d) && std::abs(d) < 1e15) return fmt::format("{}", static_cast<std::int64_t>(d));
    return fmt::format("{}", d);
  }
  return j.dump();
}

std::string render(const Template& t, const expr::Environment& env) {
  std::string out;
  for (const auto& [literal, e] : t.parts) {
    out += literal;
    if (!e.empty()) out += value_text(e.evaluate(env));
  }
  return utf8_prefix(out, 200);
}

std::optional<int> int_field(const Json& j, const char* name, const std::string& where,
                             std::vector<std::string>& errors) {
  auto it = j.find(name);
  if (it == j.end()) return std::nullopt;
  if (!it->is_number_integer() || it->get<std::int64_t>() < -1000000 || it->get<std::int64_t>() > 1000000) {
    errors.push_back(fmt::format("{}: {} must be a whole number in -1000000..1000000", where, name));
    return std::nullopt;
  }
  return it->get<int>();
}

void check_keys(const Json& j, std::initializer_list<std::string_view> allowed, const std::string& where,
                std::vector<std::string>& errors) {
  for (const auto& [key, value] : j.items())
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      errors.push_back(fmt::format("{}: unknown field '{}'", where, utf8_prefix(key, 60)));
}

CaseSpec parse_case_spec(const Json& j, const std::string& where, std::vector<std::string>& errors) {
  CaseSpec c;
  if (!j.is_object()) {
    errors.push_back(fmt::format("{}: must be an object", where));
    c.title = parse_template(kDefaultTitle, where, errors);
    return c;
  }
  check_keys(j, {"type", "title", "priority"}, where, errors);
  if (auto it = j.find("type"); it != j.end()) {
    if (!it->is_string())
      errors.push_back(fmt::format("{}: type must be a string", where));
    else
      c.type = it->get<std::string>();
  }
  std::string title(kDefaultTitle);
  if (auto it = j.find("title"); it != j.end()) {
    if (!it->is_string())
      errors.push_back(fmt::format("{}: title must be a string", where));
    else
      title = it->get<std::string>();
  }
  c.title = parse_template(title, where + ": title", errors);
  c.priority = int_field(j, "priority", where, errors);
  return c;
}

std::vector<std::string> parse_correlation(const Json& j, const std::string& where, std::vector<std::string>& errors) {
  std::vector<std::string> keys;
  if (!j.is_array()) {
    errors.push_back(fmt::format("{}: correlation must be a list of keys", where));
    return keys;
  }
  for (const auto& k : j) {
    std::string key = k.is_string() ? k.get<std::string>() : k.dump();
    if (key == "customer") continue;
    constexpr std::string_view prefix = "metadata.";
    std::string name = key.rfind(prefix, 0) == 0 ? key.substr(prefix.size()) : "";
    bool ok = k.is_string() && !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
              });
    if (!ok)
      errors.push_back(fmt::format("{}: unknown correlation key {} (use \"customer\" or \"metadata.<name>\")", where,
                                   utf8_prefix(k.dump(), 60)));
    else if (std::find(keys.begin(), keys.end(), name) == keys.end())
      keys.push_back(name);
  }
  return keys;
}

}  // namespace

struct IntakeRules::Compiled {
  std::vector<Rule> rules;
};

IntakeRules::IntakeRules() : compiled_(std::make_shared<Compiled>()) {}
IntakeRules::~IntakeRules() = default;
IntakeRules::IntakeRules(const IntakeRules&) = default;
IntakeRules& IntakeRules::operator=(const IntakeRules&) = default;
std::size_t IntakeRules::size() const { return compiled_->rules.size(); }
std::vector<std::string> IntakeRules::ids() const {
  std::vector<std::string> out;
  for (const auto& r : compiled_->rules) out.push_back(r.id);
  return out;
}

IntakeRules IntakeRules::from_json(const Json& document) {
  std::vector<std::string> errors;
  const Json* list = &document;
  if (document.is_object()) {
    check_keys(document, {"rules"}, "rule set", errors);
    auto it = document.find("rules");
    if (it == document.end()) throw Error(ErrorCode::invalid_definition, "invalid intake rules: no \"rules\" list");
    list = &*it;
  }
  if (!list->is_array())
    throw Error(ErrorCode::invalid_definition, "invalid intake rules: \"rules\" must be a list of rules");
  auto compiled = std::make_shared<Compiled>();
  std::set<std::string> seen;
  std::size_t index = 0;
  for (const Json& r : *list) {
    ++index;
    std::string where = fmt::format("rule #{}", index);
    if (!r.is_object()) {
      errors.push_back(fmt::format("{}: must be an object", where));
      continue;
    }
    Rule rule;
    if (auto it = r.find("id"); it != r.end() && it->is_string() && !it->get<std::string>().empty()) {
      rule.id = it->get<std::string>();
      where = fmt::format("rule '{}'", utf8_prefix(rule.id, 100));
      if (rule.id.size() > 100) errors.push_back(fmt::format("{}: id longer than 100 bytes", where));
      if (!seen.insert(rule.id).second) errors.push_back(fmt::format("{}: duplicate id", where));
    } else {
      errors.push_back(fmt::format("{}: id must be a non-empty string", where));
    }
    check_keys(r, {"id", "when", "stop", "create_case", "attach", "raise_priority", "ignore", "description"}, where,
               errors);
    if (auto it = r.find("when"); it == r.end() || !it->is_string()) {
      errors.push_back(fmt::format("{}: when must be a condition (a string)", where));
    } else {
      try {
        rule.when = expr::Expression::parse(it->get<std::string>(), parse_options());
      } catch (const Error& e) {
        errors.push_back(fmt::format("{}: when: {}", where, e.what()));
      }
    }
    if (auto it = r.find("stop"); it != r.end()) {
      if (!it->is_boolean())
        errors.push_back(fmt::format("{}: stop must be true or false", where));
      else
        rule.stop = it->get<bool>();
    }
    std::vector<std::string> actions;
    for (const char* a : {"create_case", "attach", "raise_priority", "ignore"})
      if (r.contains(a)) actions.push_back(a);
    if (actions.size() != 1) {
      errors.push_back(
          actions.empty()
              ? fmt::format("{}: no action (one of create_case, attach, raise_priority, ignore)", where)
              : fmt::format("{}: several actions ({}); a rule has exactly one", where, join(actions, ", ")));
    } else if (actions[0] == "create_case") {
      rule.action = IntakeAction::create_case;
      rule.create = parse_case_spec(r["create_case"], where + ": create_case", errors);
    } else if (actions[0] == "attach") {
      rule.action = IntakeAction::attach;
      const Json& a = r["attach"];
      std::string w = where + ": attach";
      if (!a.is_object()) {
        errors.push_back(fmt::format("{}: must be an object", w));
      } else {
        check_keys(a, {"correlation", "otherwise_create"}, w, errors);
        if (a.contains("correlation")) rule.correlation = parse_correlation(a["correlation"], w, errors);
        if (a.contains("otherwise_create")) {
          rule.otherwise_create = true;
          rule.create = parse_case_spec(a["otherwise_create"], w + ": otherwise_create", errors);
        }
      }
    } else if (actions[0] == "raise_priority") {
      rule.action = IntakeAction::raise_priority;
      const Json& a = r["raise_priority"];
      std::string w = where + ": raise_priority";
      if (!a.is_object()) {
        errors.push_back(fmt::format("{}: must be an object", w));
      } else {
        check_keys(a, {"by", "to", "correlation"}, w, errors);
        rule.by = int_field(a, "by", w, errors);
        rule.to = int_field(a, "to", w, errors);
        if (a.contains("by") == a.contains("to")) errors.push_back(fmt::format("{}: give exactly one of by and to", w));
        if (rule.by && *rule.by <= 0) errors.push_back(fmt::format("{}: by must be positive", w));
        if (a.contains("correlation")) rule.correlation = parse_correlation(a["correlation"], w, errors);
      }
    } else {
      rule.action = IntakeAction::ignore;
      if (r["ignore"] != true) errors.push_back(fmt::format("{}: ignore must be true", where));
    }
    compiled->rules.push_back(std::move(rule));
  }
  if (!errors.empty())
    throw Error(ErrorCode::invalid_definition, fmt::format("invalid intake rules ({} problem{}): {}", errors.size(),
                                                           errors.size() == 1 ? "" : "s", join(errors, "; ")));
  IntakeRules out;
  out.compiled_ = std::move(compiled);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Evaluation environment

namespace {

class IntakeEnv final : public expr::Environment {
 public:
  IntakeEnv(const Json& event, std::function<Json()> customer, TimePoint now)
      : event_(event), customer_fn_(std::move(customer)), now_(now) {}

  expr::Value variable(std::string_view name) const override {
    if (name == "now") return expr::Value(now_);
    if (const Json* j = json_variable(name)) return expr::Value::from_json(*j);
    return {};
  }
  expr::Value call(std::string_view, std::span<const expr::Value>) const override { return {}; }
  const Json* json_variable(std::string_view name) const override {
    if (name == "event") return &event_;
    if (name == "customer") {
      if (!customer_) customer_ = customer_fn_();
      return &*customer_;
    }
    return nullptr;
  }

 private:
  const Json& event_;
  std::function<Json()> customer_fn_;
  mutable std::optional<Json> customer_;
  TimePoint now_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// The intake

struct Intake::State {
  IntakeOptions options;
  std::mutex mutex;  // rules_, in_flight
  std::condition_variable cv;
  std::shared_ptr<const IntakeRules::Compiled> rules;
  std::set<std::string> in_flight;
};

namespace {

void check_types(Engine& engine, const IntakeRules& rules) {
  std::vector<std::string> errors;
  for (const Rule& r : rules.compiled()->rules) {
    bool creates = r.action == IntakeAction::create_case || (r.action == IntakeAction::attach && r.otherwise_create);
    if (!creates || r.create.type.empty()) continue;
    try {
      engine.get_case_type(r.create.type);
    } catch (const Error&) {
      errors.push_back(fmt::format("rule '{}': unknown case type '{}'", r.id, r.create.type));
    }
  }
  if (!errors.empty()) throw Error(ErrorCode::invalid_definition, "invalid intake rules: " + join(errors, "; "));
}

}  // namespace

Intake::Intake(Engine& engine, IntakeRules rules, IntakeOptions options)
    : engine_(engine), state_(std::make_shared<State>()) {
  check_types(engine, rules);
  state_->options = std::move(options);
  state_->rules = rules.compiled();
}

void Intake::set_rules(IntakeRules rules) {
  check_types(engine_, rules);
  std::lock_guard lk(state_->mutex);
  state_->rules = rules.compiled();
}

std::vector<IntakeLogEntry> Intake::intake_log(std::size_t limit, std::uint64_t after) const {
  return engine_.intake_log().page(limit, after);
}

namespace {

/// The work of one process() call.
class Run {
 public:
  Run(Engine& engine, const IntakeOptions& options, const ChannelEvent& event)
      : engine_(engine), options_(options), event_(event), json_(event.to_json()), now_(engine.clock().now()) {
    if (event_.received == TimePoint{}) json_["received"] = format_time(now_);
  }

  const Json& json() const { return json_; }

  /// Customer facts for `customer.*`.
  Json customer() {
    Json c = Json::object();
    if (options_.customer_lookup && !event_.customer.empty()) {
      try {
        Json extra = options_.customer_lookup(event_.customer);
        if (extra.is_object()) c = std::move(extra);
      } catch (...) {
        // the host's lookup failing leaves the customer unknown
      }
    }
    c["id"] = event_.customer;
    c["open_cases"] = open_cases().size();
    return c;
  }

  const std::vector<std::string>& open_cases() {
    if (!open_)
      open_ = event_.customer.empty() ? std::vector<std::string>{}
                                      : engine_.open_cases_of(event_.customer, options_.max_correlated_cases);
    return *open_;
  }

  /// The newest open case of the customer matching the rule's correlation keys.
  std::optional<std::string> correlate(const Rule& rule) {
    std::vector<std::pair<std::string, Json>> wanted;  // metadata keys the event carries
    for (const auto& k : rule.correlation)
      if (auto it = event_.metadata.find(k); it != event_.metadata.end() && !it->is_null()) wanted.emplace_back(k, *it);
    for (const std::string& id : open_cases()) {
      if (wanted.empty()) return id;
      auto info = engine_.find_case(id);
      if (!info || !info->file.is_object()) continue;
      auto corr = info->file.find("correlation");
      if (corr == info->file.end() || !corr->is_object()) continue;
      bool all = std::all_of(wanted.begin(), wanted.end(), [&](const auto& kv) {
        auto v = corr->find(kv.first);
        return v != corr->end() && *v == kv.second;
      });
      if (all) return id;
    }
    return std::nullopt;
  }

  Request request(const Rule& rule, std::string_view what) {
    Request r(options_.actor);
    r.idempotency_key = fmt::format("intake:{}:{}:{}", event_.id, rule.id, what);
    return r;
  }

  Asset note(const Rule& rule) const {
    Asset a;
    a.kind = "note";
    a.title = utf8_prefix(fmt::format("{} message {}", event_.channel, event_.id), 200);
    a.text = event_.text.empty() ? fmt::format("(empty {} message)", event_.channel) : event_.text;
    a.metadata = {{"event_id", event_.id}, {"channel", event_.channel},   {"customer", event_.customer},
                  {"rule", rule.id},       {"metadata", event_.metadata}, {"received", json_["received"]}};
    if (event_.sentiment) a.metadata["sentiment"] = *event_.sentiment;
    return a;
  }

  Json signal_payload(const Rule& rule, std::string_view action) const {
    Json p = {{"event_id", event_.id},
              {"channel", event_.channel},
              {"customer", event_.customer},
              {"rule", rule.id},
              {"action", action},
              {"text", utf8_prefix(event_.text, 1000)},
              {"metadata", event_.metadata}};
    if (event_.sentiment) p["sentiment"] = *event_.sentiment;
    return p;
  }

  std::string create(const Rule& rule, const expr::Environment& env) {
    NewCase spec;
    spec.type = rule.create.type;
    spec.title = render(rule.create.title, env);
    spec.subject.customer = event_.customer;
    Json attrs = Json::object();
    if (options_.customer_lookup && !event_.customer.empty()) {
      const Json* c = env.json_variable("customer");
      if (c && c->is_object())
        for (const auto& [k, v] : c->items())
          if (k != "id" && k != "open_cases") attrs[k] = v;
    }
    attrs["channel"] = event_.channel;
    if (event_.sentiment) attrs["sentiment"] = *event_.sentiment;
    spec.subject.attributes = std::move(attrs);
    if (rule.create.priority) spec.priority = *rule.create.priority;
    Json correlation = Json::object();
    for (const auto& [k, v] : event_.metadata.items())
      if (v.is_primitive() && !v.is_null()) correlation[k] = v;
    spec.file = {
        {"intake",
         {{"event_id", event_.id}, {"rule", rule.id}, {"channel", event_.channel}, {"received", json_["received"]}}},
        {"correlation", std::move(correlation)}};
    std::string id = engine_.create_case(request(rule, "create"), spec).created;
    engine_.attach(request(rule, "note"), id, note(rule));
    return id;
  }

  void attach(const Rule& rule, const std::string& case_id, std::string_view action) {
    engine_.attach(request(rule, "note"), case_id, note(rule));
    engine_.signal(request(rule, "signal"), case_id, options_.signal_name, signal_payload(rule, action));
  }

 private:
  Engine& engine_;
  const IntakeOptions& options_;
  const ChannelEvent& event_;
  Json json_;
  TimePoint now_;
  std::optional<std::vector<std::string>> open_;
};

IntakeStep step_of(const IntakeLogEntry& e) {
  IntakeStep s;
  s.rule = e.rule;
  s.case_id = e.case_id;
  s.reason = e.reason;
  s.log_seq = e.seq;
  for (auto a : {IntakeAction::create_case, IntakeAction::attach, IntakeAction::raise_priority, IntakeAction::ignore,
                 IntakeAction::unmatched, IntakeAction::rejected})
    if (to_string(a) == e.action) s.action = a;
  return s;
}

}  // namespace

IntakeDecision Intake::process(const Json& event) {
  ChannelEvent parsed;
  try {
    parsed = ChannelEvent::from_json(event, state_->options.limits);
  } catch (const Error& e) {
    // Malformed: log what can be told about it, then report.
    IntakeLogEntry entry;
    auto text = [&](const char* k) {
      auto it = event.is_object() ? event.find(k) : event.end();
      return it != event.end() && it->is_string() ? utf8_prefix(it->get<std::string>(), 200) : std::string();
    };
    entry.event_id = text("id");
    entry.channel = text("channel");
    entry.customer = text("customer");
    entry.time = engine_.clock().now();
    entry.action = "rejected";
    entry.reason = e.what();
    entry.event = bounded(event, state_->options.limits.max_metadata_bytes);
    std::vector<IntakeLogEntry> entries{std::move(entry)};
    engine_.intake_log().append(entries);
    throw;
  }
  return process(parsed);
}

IntakeDecision Intake::process(const ChannelEvent& event) {
  State& st = *state_;
  const TimePoint now = engine_.clock().now();
  auto log_entry = [&](const IntakeStep& s, const Json& json) {
    IntakeLogEntry e;
    e.event_id = utf8_prefix(event.id, 200);
    e.time = now;
    e.channel = utf8_prefix(event.channel, 200);
    e.customer = utf8_prefix(event.customer, 200);
    e.rule = s.rule;
    e.action = std::string(to_string(s.action));
    e.case_id = s.case_id;
    e.reason = s.reason;
    e.event = json;
    return e;
  };
  auto record = [&](IntakeDecision& d, const Json& json) {
    std::vector<IntakeLogEntry> entries;
    for (const auto& s : d.steps) entries.push_back(log_entry(s, json));
    engine_.intake_log().append(entries);
    for (std::size_t i = 0; i < entries.size(); ++i) d.steps[i].log_seq = entries[i].seq;
  };

  if (std::string problems = event.problems(st.options.limits); !problems.empty()) {
    IntakeDecision d;
    d.event_id = event.id;
    d.steps.push_back({"", IntakeAction::rejected, "", "invalid channel event: " + problems, 0});
    // Metadata nested too deep cannot be copied: the log keeps the event without it.
    const bool deep = model::serialized_size(event.metadata, SIZE_MAX, model::kMaxNesting).too_deep;
    Json logged = deep ? Json{{"id", event.id},
                              {"channel", event.channel},
                              {"customer", event.customer},
                              {"text", event.text},
                              {"metadata", {{"truncated", "(nests too deep)"}}}}
                       : event.to_json();
    record(d, bounded(logged, st.options.limits.max_metadata_bytes));
    throw Error(ErrorCode::invalid_argument, d.steps.back().reason);
  }

  // One event id at a time: a duplicate arriving meanwhile waits for the first decision.
  std::shared_ptr<const IntakeRules::Compiled> rules;
  {
    std::unique_lock lk(st.mutex);
    st.cv.wait(lk, [&] { return !st.in_flight.count(event.id); });
    st.in_flight.insert(event.id);
    rules = st.rules;
  }
  struct Release {
    State& st;
    const std::string& id;
    ~Release() {
      {
        std::lock_guard lk(st.mutex);
        st.in_flight.erase(id);
      }
      st.cv.notify_all();
    }
  } release{st, event.id};

  IntakeDecision d;
  d.event_id = event.id;
  {
    auto earlier = engine_.intake_log().of_event(event.id);
    bool seen = std::any_of(earlier.begin(), earlier.end(), [](const auto& e) { return e.action != "rejected"; });
    if (seen) {
      d.duplicate = true;
      for (const auto& e : earlier)
        if (e.action != "rejected") d.steps.push_back(step_of(e));
      return d;
    }
  }

  Run run(engine_, st.options, event);
  IntakeEnv env(
      run.json(), [&run] { return run.customer(); }, now);
  const Rule* current = nullptr;
  auto rejected = [&](const std::string& why) {
    d.steps.push_back({current ? current->id : "", IntakeAction::rejected, "", why, 0});
    record(d, run.json());
  };
  try {
    for (const Rule& rule : rules->rules) {
      current = &rule;
      expr::Value v = rule.when.evaluate(env);
      if (!v.is_null() && !std::holds_alternative<bool>(v.storage()))
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("rule '{}': when gave a {}, not true or false ({})", rule.id, v.type_name(),
                                utf8_prefix(rule.when.text(), 120)));
      if (!v.is_true()) continue;
      IntakeStep s{rule.id, rule.action, "", "", 0};
      switch (rule.action) {
        case IntakeAction::create_case:
          s.case_id = run.create(rule, env);
          s.reason = "new case";
          break;
        case IntakeAction::attach: {
          if (auto id = run.correlate(rule)) {
            s.case_id = *id;
            run.attach(rule, *id, "attach");
            s.reason = "correlated open case";
          } else if (rule.otherwise_create) {
            s.action = IntakeAction::create_case;
            s.case_id = run.create(rule, env);
            s.reason = "no correlated open case: new case";
          } else {
            continue;  // nothing to attach to: the rule does not apply
          }
          break;
        }
        case IntakeAction::raise_priority: {
          auto id = run.correlate(rule);
          if (!id) continue;  // no case to raise: the rule does not apply
          s.case_id = *id;
          int current = engine_.get_case(*id).priority;
          int target = rule.to ? std::max(current, *rule.to) : current + *rule.by;
          if (target != current) engine_.set_priority(run.request(rule, "priority"), *id, target);
          run.attach(rule, *id, "raise_priority");
          s.reason = fmt::format("priority {} -> {}", current, target);
          break;
        }
        case IntakeAction::ignore:
          s.reason = "ignored";
          break;
        default:
          break;
      }
      d.steps.push_back(std::move(s));
      if (rule.stop) break;
    }
  } catch (const Error& e) {
    rejected(e.what());
    throw;
  } catch (const std::exception& e) {
    rejected(e.what());
    throw Error(ErrorCode::internal, e.what());
  }
  if (d.steps.empty()) d.steps.push_back({"", IntakeAction::unmatched, "", "no rule matched", 0});
  record(d, run.json());
  return d;
}

}  // namespace acm::helpdesk
