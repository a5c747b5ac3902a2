// SPDX-License-Identifier: Apache-2.0
// bindings/c/c_api.cpp - the C ABI (acm/c.h), built only on the public C++ API.
//
// Every exported function runs its body inside `guard`, which catches every exception and maps
// it to an acm_status plus a malloc'd message. Out-parameters are cleared first and assigned only
// once everything that can throw is done, so a failed call leaves them NULL / 0.
#include <acm/acm.hpp>
#include <acm/c.h>

#include <acm/calendar.hpp>
#include <acm/cmmn.hpp>
#include <acm/eventlog.hpp>
#include <acm/from_json.hpp>
#include <acm/intake.hpp>
#include <acm/learn.hpp>
#include <acm/routing.hpp>
#include <acm/to_json.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using acm::Duration;
using acm::Error;
using acm::ErrorCode;
using acm::Json;
using acm::TimePoint;

// The status codes mirror acm::ErrorCode value for value.
static_assert(ACM_OK == static_cast<int>(ErrorCode::ok));
static_assert(ACM_INVALID_ARGUMENT == static_cast<int>(ErrorCode::invalid_argument));
static_assert(ACM_INVALID_DEFINITION == static_cast<int>(ErrorCode::invalid_definition));
static_assert(ACM_PARSE_ERROR == static_cast<int>(ErrorCode::parse_error));
static_assert(ACM_NOT_FOUND == static_cast<int>(ErrorCode::not_found));
static_assert(ACM_ALREADY_EXISTS == static_cast<int>(ErrorCode::already_exists));
static_assert(ACM_PERMISSION_DENIED == static_cast<int>(ErrorCode::permission_denied));
static_assert(ACM_INVALID_STATE == static_cast<int>(ErrorCode::invalid_state));
static_assert(ACM_CYCLE == static_cast<int>(ErrorCode::cycle));
static_assert(ACM_CONFLICT == static_cast<int>(ErrorCode::conflict));
static_assert(ACM_STORAGE == static_cast<int>(ErrorCode::storage));
static_assert(ACM_INTERNAL == static_cast<int>(ErrorCode::internal));

struct acm_options {
  acm::EngineOptions options;
  std::optional<TimePoint> manual_start;  // set by acm_options_set_manual_clock
};

struct acm_engine {
  // The clock outlives the engine (declared first, destroyed last): the engine detaches itself
  // from it when destroyed.
  std::shared_ptr<acm::ManualClock> manual_clock;
  std::unique_ptr<acm::Engine> engine;
};

struct acm_task_result {
  bool ok = true;
  Json output;
  std::string error;
};

struct acm_learner {
  acm::learn::Learner learner;
};

struct acm_intake {
  std::unique_ptr<acm::helpdesk::Intake> intake;
};

struct acm_router {
  std::unique_ptr<acm::helpdesk::Router> router;
};

struct acm_lookup_result {
  Json attributes;  // null: unknown
};

namespace {

// ---- strings and errors ------------------------------------------------------------------

/// A malloc'd copy of `s` (freed by acm_free); throws bad_alloc when memory runs out.
char* dup(std::string_view s) {
  auto* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) throw std::bad_alloc();
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}

/// Like dup, but never throws (NULL when memory ran out): for error messages.
char* dup_message(const char* s) noexcept {
  std::size_t n = std::strlen(s);
  auto* p = static_cast<char*>(std::malloc(n + 1));
  if (p) std::memcpy(p, s, n + 1);
  return p;
}

/// JSON text of `j`; invalid UTF-8 in strings is replaced rather than thrown on.
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

acm_status fail(char** error, acm_status status, const char* message) noexcept {
  if (error) *error = dup_message(message);
  return status;
}

/// Runs `body`, mapping every exception to a status and message.
template <class F>
acm_status guard(char** error, F&& body) noexcept {
  if (error) *error = nullptr;
  try {
    body();
    return ACM_OK;
  } catch (const Error& e) {
    return fail(error, static_cast<acm_status>(e.code()), e.what());
  } catch (const Json::parse_error& e) {
    return fail(error, ACM_PARSE_ERROR, e.what());
  } catch (const Json::exception& e) {
    return fail(error, ACM_INVALID_ARGUMENT, e.what());
  } catch (const std::bad_alloc&) {
    return fail(error, ACM_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return fail(error, ACM_INTERNAL, e.what());
  } catch (...) {
    return fail(error, ACM_INTERNAL, "unknown exception");
  }
}

[[noreturn]] void invalid(const std::string& message) { throw Error(ErrorCode::invalid_argument, message); }

/// A required string argument.
std::string text(const char* s, const char* what) {
  if (!s) invalid(std::string(what) + " is NULL");
  return s;
}
/// An optional string argument (NULL = "").
std::string opt_text(const char* s) { return s ? std::string(s) : std::string(); }

std::vector<std::string> text_list(const char* const* items, std::size_t count, const char* what) {
  if (count > 0 && !items) invalid(std::string(what) + " is NULL but its count is not 0");
  std::vector<std::string> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) out.push_back(text(items[i], what));
  return out;
}

/// Parses JSON text given as argument `what` (nesting bounded: acm::parse_json).
Json parse(const char* json_text, const char* what) {
  if (!json_text) invalid(std::string(what) + " is NULL");
  return acm::parse_json(json_text, what);
}

acm::Engine& engine_of(acm_engine* e) {
  if (!e || !e->engine) invalid("engine is NULL");
  return *e->engine;
}

acm::EngineOptions& options_of(acm_options* o) {
  if (!o) invalid("options is NULL");
  return o->options;
}

acm::Request request(const acm_request* by) {
  if (!by) invalid("request is NULL");
  if (!by->actor || !*by->actor) invalid("request has no actor id");
  acm::Request r(acm::Actor{by->actor, text_list(by->roles, by->role_count, "request roles")});
  if (by->expected_version != 0) r.expected_version = by->expected_version;
  r.idempotency_key = opt_text(by->idempotency_key);
  return r;
}

std::int64_t to_ms(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint from_ms(std::int64_t ms) { return TimePoint(Duration(ms)); }

// ---- strict reading of JSON arguments ---------------------------------------------------
// The shapes of command arguments are read by <acm/from_json.hpp> (shared with acm-server and
// the CLI); the C ABI's own arguments (intake, router, learner options) use its reader too.

using Reader = acm::JsonObjectReader;

// ---- help desk: intake and routing options -----------------------------------------------

acm::Actor actor_of(const Json& j, const std::string& what) {
  Reader r(j, what, {"id", "roles"});
  acm::Actor a;
  a.id = r.str("id");
  if (a.id.empty()) invalid(what + ": 'id' is required");
  a.roles = r.strings("roles");
  return a;
}

acm::helpdesk::IntakeOptions intake_options(const Json& j) {
  Reader r(j, "intake options", {"actor", "signal_name", "max_correlated_cases", "limits"});
  acm::helpdesk::IntakeOptions o;
  if (r.has("actor")) o.actor = actor_of(r.at("actor"), "intake options: actor");
  if (r.has("signal_name")) o.signal_name = r.str("signal_name");
  o.max_correlated_cases =
      static_cast<std::size_t>(r.integer("max_correlated_cases", 50, 1, std::numeric_limits<int>::max()));
  if (r.has("limits")) {
    Reader l = r.child("limits",
             {"max_text_bytes", "max_metadata_bytes", "max_id_bytes", "max_channel_bytes", "max_document_bytes"});
    constexpr long long kMax = std::numeric_limits<std::int32_t>::max();
    auto& lim = o.limits;
    lim.max_text_bytes =
        static_cast<std::size_t>(l.integer("max_text_bytes", static_cast<long long>(lim.max_text_bytes), 1, kMax));
    lim.max_metadata_bytes = static_cast<std::size_t>(
        l.integer("max_metadata_bytes", static_cast<long long>(lim.max_metadata_bytes), 1, kMax));
    lim.max_id_bytes =
        static_cast<std::size_t>(l.integer("max_id_bytes", static_cast<long long>(lim.max_id_bytes), 1, kMax));
    lim.max_channel_bytes = static_cast<std::size_t>(
        l.integer("max_channel_bytes", static_cast<long long>(lim.max_channel_bytes), 1, kMax));
    lim.max_document_bytes = static_cast<std::size_t>(
        l.integer("max_document_bytes", static_cast<long long>(lim.max_document_bytes), 1, kMax));
  }
  return o;
}

acm::helpdesk::RoutingOptions routing_options(const Json& j) {
  Reader r(j, "router options", {"weights", "prior_completions", "actor", "learn_online", "auto_assign_on_activation"});
  acm::helpdesk::RoutingOptions o;
  if (r.has("weights")) {
    Reader w = r.child("weights", {"skill", "load", "availability", "performance"});
    o.weights.skill = w.number("skill", o.weights.skill);
    o.weights.load = w.number("load", o.weights.load);
    o.weights.availability = w.number("availability", o.weights.availability);
    o.weights.performance = w.number("performance", o.weights.performance);
  }
  o.prior_completions = r.number("prior_completions", o.prior_completions);
  if (r.has("actor")) o.actor = actor_of(r.at("actor"), "router options: actor");
  o.learn_online = r.boolean("learn_online", o.learn_online);
  o.auto_assign_on_activation = r.boolean("auto_assign_on_activation", o.auto_assign_on_activation);
  return o;
}

std::vector<acm::helpdesk::Agent> roster_of(const Json& j) {
  if (!j.is_array()) invalid("roster must be a JSON array of agents");
  std::vector<acm::helpdesk::Agent> out;
  for (const Json& a : j) out.push_back(acm::helpdesk::agent_from_json(a));
  return out;
}

acm::helpdesk::Intake& intake_of(acm_intake* i) {
  if (!i || !i->intake) invalid("intake is NULL");
  return *i->intake;
}

acm::helpdesk::Router& router_of(acm_router* r) {
  if (!r || !r->router) invalid("router is NULL");
  return *r->router;
}

// ---- learning: traces, options and mappings -------------------------------------------------

/// Attribute value as text: strings as they are, other scalars as their JSON text.
std::string attribute_text(const Json& v, const std::string& what) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  invalid(what + ": attribute values must be strings, numbers or booleans");
}

/// {"k": "v", ...} or [["k", "v"], ...].
acm::learn::Attributes attributes(const Json& j, const std::string& what) {
  acm::learn::Attributes out;
  if (j.is_null()) return out;
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) out.emplace_back(k, attribute_text(v, what));
    return out;
  }
  if (!j.is_array()) invalid(what + ": attributes must be an object or an array of [name, value] pairs");
  for (const auto& pair : j) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string())
      invalid(what + ": attributes must be an object or an array of [name, value] pairs");
    out.emplace_back(pair[0].get<std::string>(), attribute_text(pair[1], what));
  }
  return out;
}

acm::learn::Trace trace(const Json& j) {
  Reader r(j, "trace", {"id", "case_type", "attributes", "steps"});
  acm::learn::Trace t;
  t.id = r.str("id");
  t.case_type = r.str("case_type");
  if (r.has("attributes")) t.attributes = attributes(r.at("attributes"), "trace");
  if (r.has("steps")) {
    if (!r.at("steps").is_array()) invalid("trace: 'steps' must be an array");
    for (const auto& sj : r.at("steps")) {
      Reader s(sj, "trace step", {"activity", "time", "resource", "ad_hoc", "attributes"});
      acm::learn::Step step;
      if (!s.has("activity")) invalid("trace step: 'activity' is required");
      step.activity = s.str("activity");
      auto time = s.time("time");
      if (!time) invalid("trace step: 'time' is required");
      step.time = *time;
      step.resource = s.str("resource");
      step.ad_hoc = s.boolean("ad_hoc", false);
      if (s.has("attributes")) step.attributes = attributes(s.at("attributes"), "trace step");
      t.steps.push_back(std::move(step));
    }
  }
  return t;
}

Json attrs_json(const acm::learn::Attributes& a) {
  Json out = Json::object();
  for (const auto& [k, v] : a) out[k] = v;
  return out;
}

Json trace_json(const acm::learn::Trace& t) {
  Json steps = Json::array();
  for (const auto& s : t.steps)
    steps.push_back({{"activity", s.activity},
                     {"time", acm::format_time(s.time)},
                     {"resource", s.resource},
                     {"ad_hoc", s.ad_hoc},
                     {"attributes", attrs_json(s.attributes)}});
  return Json{{"id", t.id}, {"case_type", t.case_type}, {"attributes", attrs_json(t.attributes)},
              {"steps", std::move(steps)}};
}

acm::learn::Trace trace_of(acm::eventlog::LogCase&& c) {
  acm::learn::Trace t;
  t.id = std::move(c.id);
  t.attributes = std::move(c.attributes);
  t.steps.reserve(c.events.size());
  for (auto& e : c.events)
    t.steps.push_back(acm::learn::Step{std::move(e.activity), e.time, std::move(e.resource), false,
                                       std::move(e.attributes)});
  return t;
}

acm::learn::LearnerOptions learner_options(const Json& j) {
  Reader r(j, "learner options",
           {"next_rounds", "next_depth", "next_eta", "time_rounds", "time_depth", "time_eta", "quantiles", "attributes",
            "calendar_time", "min_value_count", "retrain_every", "max_traces", "capture_min_cases",
            "capture_max_tasks", "time_min_leaf_share", "recency_half_life_days", "context_order",
            "context_min_support", "recent_cases", "recent_times"});
  acm::learn::LearnerOptions o;
  constexpr long long int_max = std::numeric_limits<int>::max();
  constexpr long long big = std::numeric_limits<long long>::max();
  o.next_rounds = static_cast<int>(r.integer("next_rounds", o.next_rounds, 1, int_max));
  o.next_depth = static_cast<int>(r.integer("next_depth", o.next_depth, 1, 64));
  o.next_eta = r.number("next_eta", o.next_eta);
  o.time_rounds = static_cast<int>(r.integer("time_rounds", o.time_rounds, 1, int_max));
  o.time_depth = static_cast<int>(r.integer("time_depth", o.time_depth, 1, 64));
  o.time_eta = r.number("time_eta", o.time_eta);
  if (r.has("quantiles")) {
    const Json& q = r.at("quantiles");
    if (!q.is_array()) invalid("learner options: 'quantiles' must be an array of numbers");
    o.quantiles.clear();
    for (const auto& x : q) {
      if (!x.is_number()) invalid("learner options: 'quantiles' must be an array of numbers");
      o.quantiles.push_back(x.get<double>());
    }
  }
  if (r.has("attributes")) o.attributes = r.strings("attributes");
  o.calendar_time = r.boolean("calendar_time", o.calendar_time);
  o.min_value_count = static_cast<int>(r.integer("min_value_count", o.min_value_count, 0, int_max));
  o.retrain_every = static_cast<std::size_t>(r.integer("retrain_every", 0, 0, big));
  o.max_traces = static_cast<std::size_t>(r.integer("max_traces", static_cast<long long>(o.max_traces), 1, big));
  o.capture_min_cases = static_cast<std::size_t>(
      r.integer("capture_min_cases", static_cast<long long>(o.capture_min_cases), 1, big));
  o.capture_max_tasks = static_cast<std::size_t>(
      r.integer("capture_max_tasks", static_cast<long long>(o.capture_max_tasks), 2, big));
  // Checked by the Learner itself (ranges named in its errors): shares, days, the context.
  o.time_min_leaf_share = r.number("time_min_leaf_share", o.time_min_leaf_share);
  o.recency_half_life_days = r.number("recency_half_life_days", o.recency_half_life_days);
  o.context_order = static_cast<int>(r.integer("context_order", o.context_order, 1, int_max));
  o.context_min_support = static_cast<int>(r.integer("context_min_support", o.context_min_support, 1, int_max));
  o.recent_cases = static_cast<std::size_t>(r.integer("recent_cases", static_cast<long long>(o.recent_cases), 0, big));
  o.recent_times = static_cast<std::size_t>(r.integer("recent_times", static_cast<long long>(o.recent_times), 0, big));
  return o;
}

acm::learn::LearnerOptions learner_options(const char* options_json) {
  return options_json ? learner_options(parse(options_json, "learner options")) : acm::learn::LearnerOptions{};
}

/// A CSV mapping from JSON (NULL: guessed from the file's header), plus the import options.
std::pair<acm::eventlog::CsvMapping, acm::eventlog::ImportOptions> csv_mapping(const char* mapping_json,
                                                                               const std::string& path) {
  acm::eventlog::ImportOptions options;
  if (!mapping_json) return {acm::eventlog::guess_mapping(acm::eventlog::read_csv_header(path)), options};
  Json j = parse(mapping_json, "mapping");
  Reader r(j, "mapping", {"case_id", "activity", "timestamp", "resource", "case_attributes", "event_attributes",
                          "timestamp_format", "time_zone", "delimiter", "on_bad_row"});
  acm::eventlog::CsvMapping m;
  for (const char* key : {"case_id", "activity", "timestamp"})
    if (!r.has(key)) invalid(std::string("mapping: '") + key + "' is required");
  m.case_id = r.str("case_id");
  m.activity = r.str("activity");
  m.timestamp = r.str("timestamp");
  m.resource = r.str("resource");
  m.case_attributes = r.strings("case_attributes");
  m.event_attributes = r.strings("event_attributes");
  if (r.has("timestamp_format")) m.timestamp_format = r.str("timestamp_format");
  if (r.has("time_zone")) m.time_zone = r.str("time_zone");
  if (r.has("delimiter")) {
    std::string d = r.str("delimiter");
    if (d.size() != 1) invalid("mapping: 'delimiter' must be one character");
    m.delimiter = d[0];
  }
  if (r.has("on_bad_row")) {
    std::string b = r.str("on_bad_row");
    if (b == "skip") options.on_bad_row = acm::eventlog::OnBadRow::skip;
    else if (b == "stop") options.on_bad_row = acm::eventlog::OnBadRow::stop;
    else invalid("mapping: 'on_bad_row' must be \"skip\" or \"stop\"");
  }
  return {m, options};
}

Json report_json_of(const acm::eventlog::ImportReport& r) {
  Json problems = Json::array();
  for (const auto& p : r.problems) problems.push_back({{"line", p.line}, {"message", p.message}});
  return Json{{"rows", r.rows},
              {"events", r.events},
              {"cases", r.cases},
              {"skipped_rows", r.skipped_rows},
              {"skipped_cases", r.skipped_cases},
              {"reappeared_runs", r.reappeared_runs},
              {"problems", std::move(problems)},
              {"problems_total", r.problems_total}};
}

Json evidence_json(const std::vector<acm::learn::Evidence>& ev) {
  Json out = Json::array();
  for (const auto& e : ev)
    out.push_back({{"feature", e.feature}, {"value", e.value}, {"weight", e.weight}, {"text", e.text}});
  return out;
}

Json time_json(TimePoint t) { return acm::format_time(t); }
Json duration_json(Duration d) { return acm::format_duration(d); }

acm::learn::Learner& learner_of(acm_learner* l) {
  if (!l) invalid("learner is NULL");
  return l->learner;
}

/// Hands a learner to an out-parameter.
void give(acm_learner** out, acm::learn::Learner&& l) { *out = new acm_learner{std::move(l)}; }

// ---- JSON results -----------------------------------------------------------------------

/// The common shape of a command on a case: checks the arguments, runs `f(engine, request,
/// case_id)` and hands back its CommandResult as JSON.
template <class F>
acm_status command(acm_engine* e, const acm_request* by, const char* case_id, char** result, char** error,
                   F&& f) noexcept {
  if (result) *result = nullptr;
  return guard(error, [&] {
    acm::Engine& engine = engine_of(e);
    acm::Request r = request(by);
    std::string id = text(case_id, "case_id");
    acm::CommandResult cr = f(engine, r, id);
    if (result) *result = dup(dump(acm::to_json(cr)));
  });
}

/// A query with one JSON text out-parameter.
template <class F>
acm_status query(acm_engine* e, char** out, char** error, F&& f) noexcept {
  if (!out) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  return guard(error, [&] {
    acm::Engine& engine = engine_of(e);
    Json j = f(engine);
    *out = dup(dump(j));
  });
}

acm::ManualClock& manual_clock_of(acm_engine* e) {
  engine_of(e);
  if (!e->manual_clock)
    throw Error(ErrorCode::invalid_state, "the engine runs on the system clock (see acm_options_set_manual_clock)");
  return *e->manual_clock;
}

}  // namespace

extern "C" {

// ---- general -----------------------------------------------------------------------------

const char* acm_status_name(acm_status status) {
  switch (status) {
    case ACM_OK: return "ok";
    case ACM_INVALID_ARGUMENT: return "invalid_argument";
    case ACM_INVALID_DEFINITION: return "invalid_definition";
    case ACM_PARSE_ERROR: return "parse_error";
    case ACM_NOT_FOUND: return "not_found";
    case ACM_ALREADY_EXISTS: return "already_exists";
    case ACM_PERMISSION_DENIED: return "permission_denied";
    case ACM_INVALID_STATE: return "invalid_state";
    case ACM_CYCLE: return "cycle";
    case ACM_CONFLICT: return "conflict";
    case ACM_STORAGE: return "storage";
    case ACM_INTERNAL: return "internal";
    default: break;  // any other int (the enum's range is all of int)
  }
  return "unknown";
}

const char* acm_version(void) { return acm::version(); }

void acm_free(void* p) { std::free(p); }

// ---- options -----------------------------------------------------------------------------

acm_status acm_options_create(acm_options** out, char** error) {
  if (!out) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  return guard(error, [&] { *out = new acm_options(); });
}

acm_status acm_options_destroy(acm_options* options) {
  delete options;
  return ACM_OK;
}

acm_status acm_options_set_database(acm_options* options, const char* path, char** error) {
  return guard(error, [&] { options_of(options).database = opt_text(path); });
}

acm_status acm_options_set_durability(acm_options* options, acm_durability durability, char** error) {
  return guard(error, [&] {
    auto& o = options_of(options);
    switch (durability) {
      case ACM_DURABILITY_GROUP: o.durability = acm::Durability::group; return;
      case ACM_DURABILITY_FULL: o.durability = acm::Durability::full; return;
      default: break;
    }
    invalid("unknown durability " + std::to_string(static_cast<int>(durability)));
  });
}

acm_status acm_options_set_snapshot_every(acm_options* options, size_t events, char** error) {
  return guard(error, [&] { options_of(options).snapshot_every = events; });
}

acm_status acm_options_set_cache_capacity(acm_options* options, size_t cases, char** error) {
  return guard(error, [&] {
    if (cases == 0) invalid("cache capacity must be at least 1");
    options_of(options).cache_capacity = cases;
  });
}

acm_status acm_options_set_timer_batch(acm_options* options, size_t cases, char** error) {
  return guard(error, [&] {
    if (cases == 0) invalid("timer batch must be at least 1");
    options_of(options).timer_batch = cases;
  });
}

acm_status acm_options_set_max_payload_bytes(acm_options* options, size_t bytes, char** error) {
  return guard(error, [&] {
    if (bytes < 1024) invalid("max payload bytes must be at least 1024");
    options_of(options).max_payload_bytes = bytes;
  });
}

acm_status acm_options_set_max_steps(acm_options* options, size_t steps, char** error) {
  return guard(error, [&] {
    if (steps == 0) invalid("max steps per command must be at least 1");
    options_of(options).max_steps_per_command = steps;
  });
}

acm_status acm_options_set_manual_clock(acm_options* options, int64_t start_ms, char** error) {
  return guard(error, [&] {
    options_of(options);
    options->manual_start = from_ms(start_ms);  // acm_engine_open makes a fresh clock per engine
  });
}

acm_status acm_options_set_admin_roles(acm_options* options, const char* const* roles, size_t count,
                                       char** error) {
  return guard(error, [&] { options_of(options).admin_roles = text_list(roles, count, "roles"); });
}

acm_status acm_options_set_designer_roles(acm_options* options, const char* const* roles, size_t count,
                                          char** error) {
  return guard(error, [&] { options_of(options).designer_roles = text_list(roles, count, "roles"); });
}


acm_status acm_options_set_calendar_json(acm_options* options, const char* calendar_json, char** error) {
  return guard(error, [&] {
    auto& o = options_of(options);
    if (!calendar_json) {
      o.calendar.reset();
      return;
    }
    o.calendar = std::make_shared<acm::BusinessCalendar>(
        acm::BusinessCalendar::from_json(parse(calendar_json, "calendar")));
  });
}

acm_status acm_options_set_priority_policy_json(acm_options* options, const char* policy_json, char** error) {
  return guard(error, [&] {
    auto& o = options_of(options);
    if (!policy_json) {
      o.priority_policy.reset();
      return;
    }
    o.priority_policy = acm::PriorityPolicy::from_json(parse(policy_json, "priority policy"));
  });
}

acm_status acm_options_set_escalation_json(acm_options* options, const char* rules_json, char** error) {
  return guard(error, [&] {
    auto& o = options_of(options);
    if (!rules_json) {
      o.escalation.clear();
      return;
    }
    auto rules = acm::EscalationRule::from_json(parse(rules_json, "escalation rules"));
    acm::validate_escalation(rules);
    o.escalation = std::move(rules);
  });
}

acm_status acm_options_set_promise_warning(acm_options* options, int64_t warning_ms, char** error) {
  return guard(error, [&] {
    auto& o = options_of(options);
    if (warning_ms < 0) invalid("the promise warning must not be negative");
    o.promise_warning = Duration(warning_ms);
  });
}

acm_status acm_options_set_forecaster(acm_options* options, acm_forecast_fn forecaster, void* user_data,
                                      char** error) {
  return guard(error, [&] {
    auto& o = options_of(options);
    if (!forecaster) {
      o.forecaster = nullptr;
      return;
    }
    o.forecaster = [forecaster, user_data](const acm::CaseInfo& c, TimePoint now) -> std::optional<TimePoint> {
      std::string case_json = dump(acm::to_json(c));
      std::int64_t ms = forecaster(user_data, case_json.c_str(), to_ms(now));
      if (ms == ACM_NO_TIME) return std::nullopt;
      return from_ms(ms);
    };
  });
}

// ---- engine ------------------------------------------------------------------------------

acm_status acm_engine_open(const acm_options* options, acm_engine** out, char** error) {
  if (!out) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  return guard(error, [&] {
    acm::EngineOptions o = options ? options->options : acm::EngineOptions{};
    auto handle = std::make_unique<acm_engine>();
    if (options && options->manual_start) {
      // Each engine gets its own clock, starting at the options' start time.
      handle->manual_clock = std::make_shared<acm::ManualClock>(*options->manual_start);
      o.clock = handle->manual_clock;
    }
    handle->engine = acm::Engine::open(std::move(o));
    *out = handle.release();
  });
}

acm_status acm_engine_close(acm_engine* engine) {
  // ~Engine does not throw; the engine goes before the clock it is attached to.
  if (engine) engine->engine.reset();
  delete engine;
  return ACM_OK;
}

acm_status acm_engine_run_due(acm_engine* engine, size_t* fired, char** error) {
  if (fired) *fired = 0;
  return guard(error, [&] {
    std::size_t n = engine_of(engine).run_due();
    if (fired) *fired = n;
  });
}

acm_status acm_engine_next_due(acm_engine* engine, bool* has_due, int64_t* due_ms, char** error) {
  if (!has_due || !due_ms) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *has_due = false;
  *due_ms = 0;
  return guard(error, [&] {
    auto due = engine_of(engine).next_due();
    if (due) {
      *due_ms = to_ms(*due);
      *has_due = true;
    }
  });
}

// ---- clock -------------------------------------------------------------------------------

acm_status acm_clock_now(acm_engine* engine, int64_t* now_ms, char** error) {
  if (!now_ms) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *now_ms = 0;
  return guard(error, [&] { *now_ms = to_ms(engine_of(engine).clock().now()); });
}

acm_status acm_clock_advance(acm_engine* engine, int64_t delta_ms, char** error) {
  return guard(error, [&] {
    if (delta_ms < 0) invalid("the clock cannot go backwards");
    manual_clock_of(engine).advance(Duration(delta_ms));
  });
}

acm_status acm_clock_advance_to(acm_engine* engine, int64_t time_ms, char** error) {
  return guard(error, [&] { manual_clock_of(engine).advance_to(from_ms(time_ms)); });
}

// ---- handlers and subscriptions ----------------------------------------------------------

acm_status acm_task_result_set_output(acm_task_result* result, const char* output_json, char** error) {
  return guard(error, [&] {
    if (!result) invalid("result is NULL");
    try {
      result->output = parse(output_json, "handler output");
    } catch (const Error& e) {
      result->ok = false;
      result->error = e.what();
      throw;
    }
  });
}

acm_status acm_task_result_fail(acm_task_result* result, const char* message, char** error) {
  return guard(error, [&] {
    if (!result) invalid("result is NULL");
    result->ok = false;
    result->error = opt_text(message);
  });
}

acm_status acm_engine_register_handler(acm_engine* engine, const char* name, acm_task_handler_fn handler,
                                       void* user_data, char** error) {
  return guard(error, [&] {
    acm::Engine& e = engine_of(engine);
    if (!handler) invalid("handler is NULL");
    e.register_handler(text(name, "name"), [handler, user_data](const acm::TaskContext& context) {
      acm_task_result r;
      std::string context_json = dump(acm::to_json(context));
      handler(user_data, context_json.c_str(), &r);
      acm::TaskResult out;
      out.ok = r.ok;
      out.output = std::move(r.output);
      out.error = std::move(r.error);
      return out;
    });
  });
}

acm_status acm_engine_subscribe(acm_engine* engine, const char* const* kinds, size_t kind_count,
                                acm_event_fn callback, void* user_data, uint64_t* subscription, char** error) {
  if (subscription) *subscription = 0;
  return guard(error, [&] {
    acm::Engine& e = engine_of(engine);
    if (!callback) invalid("callback is NULL");
    if (!subscription) invalid("subscription pointer is NULL");
    std::uint64_t id = e.subscribe(
        [callback, user_data](const acm::Event& event) {
          std::string event_json = dump(acm::to_json(event));
          callback(user_data, event_json.c_str());
        },
        text_list(kinds, kind_count, "kinds"));
    *subscription = id;
  });
}

acm_status acm_engine_unsubscribe(acm_engine* engine, uint64_t subscription, char** error) {
  return guard(error, [&] { engine_of(engine).unsubscribe(subscription); });
}

// ---- definitions -------------------------------------------------------------------------

acm_status acm_definitions_load(acm_engine* engine, const acm_request* by, const char* document_json,
                                char** error) {
  return guard(error, [&] {
    acm::Engine& e = engine_of(engine);
    acm::Request r = request(by);
    // CMMN XML (detected by content: it starts with '<') is imported first.
    if (document_json && acm::cmmn::is_xml(document_json)) {
      e.load_definitions(r, acm::cmmn::import(document_json).definitions);
      return;
    }
    e.load_definitions(r, parse(document_json, "definitions document"));
  });
}

acm_status acm_cmmn_import(const char* cmmn_xml, char** result_json, char** error) {
  if (!result_json) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *result_json = nullptr;
  return guard(error, [&] {
    const acm::cmmn::ImportResult r = acm::cmmn::import(text(cmmn_xml, "cmmn_xml"));
    Json warnings = Json::array();
    for (const auto& w : r.warnings) warnings.push_back(Json{{"line", w.line}, {"column", w.column}, {"message", w.message}});
    Json cases = Json::array();
    for (const auto& c : r.cases) {
      Json items = Json::object();
      for (const auto& [k, v] : c.items) items[k] = v;
      cases.push_back(Json{{"case", c.case_id}, {"case_type", c.case_type}, {"fragment", c.fragment}, {"items", items}});
    }
    *result_json = dup(dump(Json{{"definitions", r.definitions}, {"warnings", warnings}, {"cases", cases}}));
  });
}

acm_status acm_fragment_get(acm_engine* engine, const char* id, int version, char** fragment_json, char** error) {
  return query(engine, fragment_json, error,
               [&](acm::Engine& e) { return acm::to_json(e.get_fragment(text(id, "id"), version)); });
}

acm_status acm_fragment_list(acm_engine* engine, char** fragments_json, char** error) {
  return query(engine, fragments_json, error, [&](acm::Engine& e) {
    Json out = Json::array();
    for (const auto& f : e.list_fragments()) out.push_back(acm::to_json(f));
    return out;
  });
}

acm_status acm_case_type_list(acm_engine* engine, char** case_types_json, char** error) {
  return query(engine, case_types_json, error, [&](acm::Engine& e) {
    Json out = Json::array();
    for (const auto& t : e.list_case_types()) out.push_back(acm::to_json(t));
    return out;
  });
}

acm_status acm_case_type_get(acm_engine* engine, const char* id, int version, char** case_type_json,
                             char** error) {
  return query(engine, case_type_json, error,
               [&](acm::Engine& e) { return acm::to_json(e.get_case_type(text(id, "id"), version)); });
}

// ---- cases -------------------------------------------------------------------------------

acm_status acm_case_create(acm_engine* engine, const acm_request* by, const char* spec_json, char** case_id,
                           char** error) {
  if (!case_id) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *case_id = nullptr;
  return guard(error, [&] {
    acm::Engine& e = engine_of(engine);
    acm::Request r = request(by);
    acm::NewCase spec = spec_json ? acm::new_case_from_json(parse(spec_json, "case spec")) : acm::NewCase{};
    std::string id = e.create_case(r, spec).created;
    *case_id = dup(id);
  });
}

acm_status acm_case_get(acm_engine* engine, const acm_request* by, const char* case_id, char** case_json,
                        char** error) {
  return query(engine, case_json, error, [&](acm::Engine& e) {
    std::string id = text(case_id, "case_id");
    return acm::to_json(by ? e.as(request(by).actor).get_case(id) : e.get_case(id));
  });
}

acm_status acm_case_list(acm_engine* engine, size_t limit, const char* after, char** ids_json, char** error) {
  return query(engine, ids_json, error,
               [&](acm::Engine& e) { return Json(e.list_cases(limit, opt_text(after))); });
}

acm_status acm_case_history(acm_engine* engine, const char* case_id, uint64_t from, char** events_json,
                            char** error) {
  return acm_case_history_as(engine, nullptr, case_id, from, events_json, error);
}

acm_status acm_case_history_as(acm_engine* engine, const acm_request* by, const char* case_id, uint64_t from,
                               char** events_json, char** error) {
  return query(engine, events_json, error, [&](acm::Engine& e) {
    std::string id = text(case_id, "case_id");
    Json out = Json::array();
    for (const auto& ev : by ? e.as(request(by).actor).history(id, from) : e.history(id, from))
      out.push_back(acm::to_json(ev));
    return out;
  });
}

acm_status acm_feed_read(acm_engine* engine, const char* after, size_t limit, uint32_t timeout_ms, char** entries_json,
                         char** error) {
  return query(engine, entries_json, error, [&](acm::Engine& e) {
    if (limit == 0) throw Error(ErrorCode::invalid_argument, "limit must be at least 1");
    const std::string from = after ? after : "";
    auto page = timeout_ms > 0 ? e.wait_feed(from, limit, std::chrono::milliseconds(timeout_ms))
                               : e.read_feed(from, limit);
    Json out = Json::array();
    for (const auto& entry : page) {
      Json one = Json::object();
      one["position"] = entry.position;
      one["event"] = acm::to_json(entry.event);
      out.push_back(std::move(one));
    }
    return out;
  });
}

acm_status acm_feed_end(acm_engine* engine, char** position_json, char** error) {
  return query(engine, position_json, error, [&](acm::Engine& e) { return Json(e.feed_end()); });
}

acm_status acm_case_set_owner(acm_engine* engine, const acm_request* by, const char* case_id, const char* owner,
                              char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.set_owner(r, id, text(owner, "owner"));
  });
}

acm_status acm_case_set_priority(acm_engine* engine, const acm_request* by, const char* case_id, int priority,
                                 char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.set_priority(r, id, priority);
  });
}

acm_status acm_case_set_subject_attribute(acm_engine* engine, const acm_request* by, const char* case_id,
                                          const char* key, const char* value_json, char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.set_subject_attribute(r, id, text(key, "key"), parse(value_json, "value"));
  });
}

acm_status acm_case_add_participant(acm_engine* engine, const acm_request* by, const char* case_id,
                                    const char* actor, const char* const* roles, size_t role_count, char** result,
                                    char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.add_participant(r, id, acm::Participant{text(actor, "actor"), text_list(roles, role_count, "roles")});
  });
}

acm_status acm_case_remove_participant(acm_engine* engine, const acm_request* by, const char* case_id,
                                       const char* actor, char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.remove_participant(r, id, text(actor, "actor"));
  });
}

acm_status acm_case_suspend(acm_engine* engine, const acm_request* by, const char* case_id, const char* reason,
                            char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.suspend_case(r, id, opt_text(reason));
  });
}

acm_status acm_case_resume(acm_engine* engine, const acm_request* by, const char* case_id, char** result,
                           char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.resume_case(r, id);
  });
}

acm_status acm_case_complete(acm_engine* engine, const acm_request* by, const char* case_id, char** result,
                             char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.complete_case(r, id);
  });
}

acm_status acm_case_terminate(acm_engine* engine, const acm_request* by, const char* case_id, const char* reason,
                              char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.terminate_case(r, id, opt_text(reason));
  });
}

acm_status acm_case_close(acm_engine* engine, const acm_request* by, const char* case_id, char** result,
                          char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.close_case(r, id);
  });
}

acm_status acm_case_reopen(acm_engine* engine, const acm_request* by, const char* case_id, const char* reason,
                           char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.reopen_case(r, id, opt_text(reason));
  });
}

// ---- case file and external events -------------------------------------------------------

acm_status acm_case_file_set(acm_engine* engine, const acm_request* by, const char* case_id, const char* path,
                             const char* value_json, char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.set_file(r, id, text(path, "path"), parse(value_json, "value"));
  });
}

acm_status acm_case_file_remove(acm_engine* engine, const acm_request* by, const char* case_id, const char* path,
                                char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.remove_file(r, id, text(path, "path"));
  });
}

acm_status acm_case_attach(acm_engine* engine, const acm_request* by, const char* case_id, const char* asset_json,
                           char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.attach(r, id, acm::asset_from_json(parse(asset_json, "asset")));
  });
}

acm_status acm_case_signal(acm_engine* engine, const acm_request* by, const char* case_id, const char* name,
                           const char* payload_json, char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    Json payload = payload_json ? parse(payload_json, "payload") : Json::object();
    return e.signal(r, id, text(name, "name"), payload);
  });
}

// ---- goals -------------------------------------------------------------------------------

acm_status acm_goal_add(acm_engine* engine, const acm_request* by, const char* case_id, const char* goal_json,
                        char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.add_goal(r, id, acm::goal_spec_from_json(parse(goal_json, "goal")));
  });
}

acm_status acm_goal_change(acm_engine* engine, const acm_request* by, const char* case_id, const char* goal_id,
                           const char* change_json, char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.change_goal(r, id, text(goal_id, "goal_id"), acm::goal_change_from_json(parse(change_json, "goal change")));
  });
}

acm_status acm_goal_cancel(acm_engine* engine, const acm_request* by, const char* case_id, const char* goal_id,
                           const char* reason, char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.cancel_goal(r, id, text(goal_id, "goal_id"), opt_text(reason));
  });
}

acm_status acm_goal_achieve(acm_engine* engine, const acm_request* by, const char* case_id, const char* goal_id,
                            char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.achieve_goal(r, id, text(goal_id, "goal_id"));
  });
}


acm_status acm_goal_pause(acm_engine* engine, const acm_request* by, const char* case_id, const char* goal_id,
                          const char* reason, char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.pause_goal(r, id, opt_text(goal_id), opt_text(reason));
  });
}

acm_status acm_goal_resume(acm_engine* engine, const acm_request* by, const char* case_id, const char* goal_id,
                           char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.resume_goal(r, id, opt_text(goal_id));
  });
}

// ---- promises and priorities -------------------------------------------------------------

acm_status acm_promise_make(acm_engine* engine, const acm_request* by, const char* case_id, const char* promise_json,
                            char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.make_promise(r, id, acm::promise_spec_from_json(parse(promise_json, "promise")));
  });
}

acm_status acm_promise_keep(acm_engine* engine, const acm_request* by, const char* case_id, const char* promise_id,
                            char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.keep_promise(r, id, text(promise_id, "promise_id"));
  });
}

acm_status acm_promise_cancel(acm_engine* engine, const acm_request* by, const char* case_id, const char* promise_id,
                              const char* reason, char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.cancel_promise(r, id, text(promise_id, "promise_id"), opt_text(reason));
  });
}

acm_status acm_case_explain_priority(acm_engine* engine, const char* case_id, char** explanation_json,
                                     char** error) {
  return acm_case_explain_priority_as(engine, nullptr, case_id, explanation_json, error);
}

acm_status acm_case_explain_priority_as(acm_engine* engine, const acm_request* by, const char* case_id,
                                        char** explanation_json, char** error) {
  return query(engine, explanation_json, error, [&](acm::Engine& e) {
    std::string id = text(case_id, "case_id");
    return by ? e.as(request(by).actor).explain_priority(id) : e.explain_priority(id);
  });
}

// ---- runtime assembly --------------------------------------------------------------------

acm_status acm_fragment_list_applicable(acm_engine* engine, const char* case_id, char** offers_json,
                                        char** error) {
  return acm_fragment_list_applicable_as(engine, nullptr, case_id, offers_json, error);
}

acm_status acm_fragment_list_applicable_as(acm_engine* engine, const acm_request* by, const char* case_id,
                                           char** offers_json, char** error) {
  return query(engine, offers_json, error, [&](acm::Engine& e) {
    std::string id = text(case_id, "case_id");
    Json out = Json::array();
    for (const auto& o : by ? e.as(request(by).actor).applicable_fragments(id) : e.applicable_fragments(id))
      out.push_back(acm::to_json(o));
    return out;
  });
}

acm_status acm_fragment_add(acm_engine* engine, const acm_request* by, const char* case_id, const char* use_json,
                            const char* const* after, size_t after_count, char** item_id, char** error) {
  if (!item_id) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *item_id = nullptr;
  return guard(error, [&] {
    acm::Engine& e = engine_of(engine);
    acm::Request r = request(by);
    std::string id = text(case_id, "case_id");
    acm::FragmentUse use = acm::fragment_use_from_json(parse(use_json, "fragment use"));
    std::string created = e.add_fragment(r, id, use, text_list(after, after_count, "after")).created;
    *item_id = dup(created);
  });
}

acm_status acm_task_add(acm_engine* engine, const acm_request* by, const char* case_id, const char* task_json,
                        char** item_id, char** error) {
  if (!item_id) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *item_id = nullptr;
  return guard(error, [&] {
    acm::Engine& e = engine_of(engine);
    acm::Request r = request(by);
    std::string id = text(case_id, "case_id");
    std::string created = e.add_task(r, id, acm::ad_hoc_task_from_json(parse(task_json, "task"))).created;
    *item_id = dup(created);
  });
}

acm_status acm_item_add_dependency(acm_engine* engine, const acm_request* by, const char* case_id, const char* item,
                                   const char* after, char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.add_dependency(r, id, text(item, "item"), text(after, "after"));
  });
}

acm_status acm_item_remove(acm_engine* engine, const acm_request* by, const char* case_id, const char* item,
                           char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.remove_item(r, id, text(item, "item"));
  });
}

// ---- work on plan items ------------------------------------------------------------------

// The item transitions that take nothing but the item id.
#define ACM_C_ITEM_COMMAND(c_name, method)                                                                   \
  acm_status c_name(acm_engine* engine, const acm_request* by, const char* case_id, const char* item,       \
                    char** result, char** error) {                                                         \
    return command(engine, by, case_id, result, error,                                                     \
                   [&](acm::Engine& e, const acm::Request& r, const std::string& id) {                     \
                     return e.method(r, id, text(item, "item"));                                           \
                   });                                                                                     \
  }

ACM_C_ITEM_COMMAND(acm_item_start, start_item)
ACM_C_ITEM_COMMAND(acm_item_terminate, terminate_item)
ACM_C_ITEM_COMMAND(acm_item_suspend, suspend_item)
ACM_C_ITEM_COMMAND(acm_item_resume, resume_item)
ACM_C_ITEM_COMMAND(acm_item_disable, disable_item)
ACM_C_ITEM_COMMAND(acm_item_reenable, reenable_item)
ACM_C_ITEM_COMMAND(acm_item_reactivate, reactivate_item)
ACM_C_ITEM_COMMAND(acm_item_occur, occur)
#undef ACM_C_ITEM_COMMAND

acm_status acm_item_complete(acm_engine* engine, const acm_request* by, const char* case_id, const char* item,
                             const char* output_json, char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    Json output = output_json ? parse(output_json, "output") : Json(nullptr);
    return e.complete_item(r, id, text(item, "item"), output);
  });
}

acm_status acm_item_assign(acm_engine* engine, const acm_request* by, const char* case_id, const char* item,
                           const char* assignee, char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.assign_item(r, id, text(item, "item"), text(assignee, "assignee"));
  });
}

// ---- work queues -------------------------------------------------------------------------

acm_status acm_queue_list(acm_engine* engine, const char* filter_json, char** items_json, char** error) {
  return query(engine, items_json, error, [&](acm::Engine& e) {
    acm::QueueFilter filter = filter_json ? acm::queue_filter_from_json(parse(filter_json, "queue filter")) : acm::QueueFilter{};
    Json out = Json::array();
    for (const auto& w : e.queue(filter)) out.push_back(acm::to_json(w));
    return out;
  });
}

acm_status acm_queue_page(acm_engine* engine, const char* filter_json, char** page_json, char** error) {
  return query(engine, page_json, error, [&](acm::Engine& e) {
    acm::QueueFilter filter = filter_json ? acm::queue_filter_from_json(parse(filter_json, "queue filter")) : acm::QueueFilter{};
    return acm::to_json(e.queue_page(filter));
  });
}

acm_status acm_case_find(acm_engine* engine, const char* query_json, char** page_json, char** error) {
  return query(engine, page_json, error, [&](acm::Engine& e) {
    acm::CaseQuery q = query_json ? acm::case_query_from_json(parse(query_json, "case query")) : acm::CaseQuery{};
    return acm::to_json(e.find_cases(q));
  });
}

// ---- help desk: intake and routing -------------------------------------------------------

acm_status acm_lookup_result_set(acm_lookup_result* result, const char* attributes_json, char** error) {
  return guard(error, [&] {
    if (!result) invalid("result is NULL");
    Json j = parse(attributes_json, "customer attributes");
    if (!j.is_object() && !j.is_null()) invalid("customer attributes must be a JSON object or null");
    result->attributes = std::move(j);
  });
}

acm_status acm_intake_create(acm_engine* engine, const char* rules_json, const char* options_json,
                             acm_customer_lookup_fn lookup, void* user_data, acm_intake** out, char** error) {
  if (!out) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  return guard(error, [&] {
    acm::Engine& e = engine_of(engine);
    auto rules = acm::helpdesk::IntakeRules::from_json(parse(rules_json, "intake rules"));
    acm::helpdesk::IntakeOptions o =
        options_json ? intake_options(parse(options_json, "intake options")) : acm::helpdesk::IntakeOptions{};
    if (lookup)
      o.customer_lookup = [lookup, user_data](const std::string& customer) {
        acm_lookup_result r;
        lookup(user_data, customer.c_str(), &r);
        return r.attributes;
      };
    auto handle = std::make_unique<acm_intake>();
    handle->intake = std::make_unique<acm::helpdesk::Intake>(e, std::move(rules), std::move(o));
    *out = handle.release();
  });
}

acm_status acm_intake_destroy(acm_intake* intake) {
  delete intake;
  return ACM_OK;
}

acm_status acm_intake_set_rules(acm_intake* intake, const char* rules_json, char** error) {
  return guard(error, [&] {
    auto& i = intake_of(intake);
    i.set_rules(acm::helpdesk::IntakeRules::from_json(parse(rules_json, "intake rules")));
  });
}

acm_status acm_intake_process(acm_intake* intake, const char* event_json, char** decision_json, char** error) {
  if (!decision_json) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *decision_json = nullptr;
  return guard(error, [&] {
    auto& i = intake_of(intake);
    Json event = parse(event_json, "channel event");
    std::string out = dump(acm::helpdesk::to_json(i.process(event)));
    *decision_json = dup(out);
  });
}

acm_status acm_intake_log_list(acm_engine* engine, size_t limit, uint64_t after, char** entries_json, char** error) {
  return query(engine, entries_json, error, [&](acm::Engine& e) {
    if (limit > 10000) invalid("an intake log page holds at most 10000 entries");
    Json out = Json::array();
    for (const auto& entry : e.intake_log().page(limit, after)) out.push_back(acm::to_json(entry));
    return out;
  });
}

acm_status acm_intake_log_of(acm_engine* engine, const char* event_id, char** entries_json, char** error) {
  return query(engine, entries_json, error, [&](acm::Engine& e) {
    Json out = Json::array();
    for (const auto& entry : e.intake_log().of_event(text(event_id, "event_id"))) out.push_back(acm::to_json(entry));
    return out;
  });
}

acm_status acm_case_open_of(acm_engine* engine, const char* customer, size_t limit, char** ids_json, char** error) {
  return query(engine, ids_json, error,
               [&](acm::Engine& e) { return Json(e.open_cases_of(text(customer, "customer"), limit)); });
}

acm_status acm_router_create(acm_engine* engine, const char* roster_json, const char* options_json, acm_router** out,
                             char** error) {
  if (!out) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  return guard(error, [&] {
    acm::Engine& e = engine_of(engine);
    auto roster = roster_of(parse(roster_json, "roster"));
    auto o = options_json ? routing_options(parse(options_json, "router options")) : acm::helpdesk::RoutingOptions{};
    auto handle = std::make_unique<acm_router>();
    handle->router = std::make_unique<acm::helpdesk::Router>(e, std::move(roster), std::move(o));
    *out = handle.release();
  });
}

acm_status acm_router_destroy(acm_router* router) {
  delete router;
  return ACM_OK;
}

acm_status acm_router_set_roster(acm_router* router, const char* roster_json, char** error) {
  return guard(error, [&] {
    auto& r = router_of(router);
    r.set_roster(roster_of(parse(roster_json, "roster")));
  });
}

acm_status acm_router_upsert_agent(acm_router* router, const char* agent_json, char** error) {
  return guard(error, [&] {
    auto& r = router_of(router);
    r.upsert_agent(acm::helpdesk::agent_from_json(parse(agent_json, "agent")));
  });
}

acm_status acm_router_suggest(acm_router* router, const char* case_id, const char* item_id, size_t limit,
                              bool include_excluded, char** suggestions_json, char** error) {
  if (!suggestions_json) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *suggestions_json = nullptr;
  return guard(error, [&] {
    auto& r = router_of(router);
    Json out = Json::array();
    for (const auto& s : r.suggest(text(case_id, "case_id"), text(item_id, "item_id"), limit, include_excluded))
      out.push_back(acm::helpdesk::to_json(s));
    *suggestions_json = dup(dump(out));
  });
}

acm_status acm_router_auto_assign(acm_router* router, const char* case_id, const char* item_id, char** agent,
                                  char** error) {
  if (!agent) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *agent = nullptr;
  return guard(error, [&] {
    auto& r = router_of(router);
    auto who = r.auto_assign(text(case_id, "case_id"), text(item_id, "item_id"));
    if (who) *agent = dup(*who);
  });
}

acm_status acm_router_learn_from_cases(acm_router* router, const char* const* case_ids, size_t count, size_t* learned,
                                       char** error) {
  if (learned) *learned = 0;
  return guard(error, [&] {
    auto& r = router_of(router);
    std::size_t n = r.learn_from_cases(text_list(case_ids, count, "case_ids"));
    if (learned) *learned = n;
  });
}

acm_status acm_router_record_completion(acm_router* router, const char* agent, const char* task_kind, int64_t took_ms,
                                        char** error) {
  return guard(error, [&] {
    auto& r = router_of(router);
    if (took_ms < 0) invalid("took_ms must not be negative");
    r.record_completion(text(agent, "agent"), text(task_kind, "task_kind"), Duration(took_ms));
  });
}

acm_status acm_router_performance(acm_router* router, const char* agent, const char* task_kind, char** record_json,
                                  char** error) {
  if (!record_json) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *record_json = nullptr;
  return guard(error, [&] {
    auto& r = router_of(router);
    *record_json = dup(dump(acm::helpdesk::to_json(r.performance(text(agent, "agent"), text(task_kind, "task_kind")))));
  });
}

// ---- stored templates --------------------------------------------------------------------

acm_status acm_template_put(acm_engine* engine, const char* name, const char* kind, const char* meta_json,
                           const void* data, size_t size, int* version, char** error) {
  if (version) *version = 0;
  return guard(error, [&] {
    acm::Engine& e = engine_of(engine);
    if (!data && size > 0) invalid("data is NULL but its size is not 0");
    Json meta = meta_json ? parse(meta_json, "meta") : Json::object();
    std::string bytes(static_cast<const char*>(data ? data : ""), size);
    int v = e.templates().put(text(name, "name"), text(kind, "kind"), meta, bytes);
    if (version) *version = v;
  });
}

acm_status acm_template_get(acm_engine* engine, const char* name, int version, char** info_json, void** data,
                           size_t* size, char** error) {
  if (!info_json || !data || !size) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *info_json = nullptr;
  *data = nullptr;
  *size = 0;
  return guard(error, [&] {
    auto [info, bytes] = engine_of(engine).templates().get(text(name, "name"), version);
    char* i = dup(dump(acm::to_json(info)));
    char* b = static_cast<char*>(std::malloc(bytes.empty() ? 1 : bytes.size()));
    if (!b) {
      std::free(i);
      throw std::bad_alloc();
    }
    if (!bytes.empty()) std::memcpy(b, bytes.data(), bytes.size());
    *info_json = i;
    *data = b;
    *size = bytes.size();
  });
}

acm_status acm_template_list(acm_engine* engine, char** templates_json, char** error) {
  return query(engine, templates_json, error, [&](acm::Engine& e) {
    Json out = Json::array();
    for (const auto& t : e.templates().list()) out.push_back(acm::to_json(t));
    return out;
  });
}

// ---- learning ----------------------------------------------------------------------------

acm_status acm_learner_create(const char* options_json, acm_learner** out, char** error) {
  if (!out) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  return guard(error, [&] { give(out, acm::learn::Learner(learner_options(options_json))); });
}

acm_status acm_learner_destroy(acm_learner* learner) {
  delete learner;
  return ACM_OK;
}

acm_status acm_learner_add(acm_learner* learner, const char* trace_json, char** error) {
  return guard(error, [&] {
    auto& l = learner_of(learner);
    l.add(trace(parse(trace_json, "trace")));
  });
}

acm_status acm_learner_train(acm_learner* learner, char** error) {
  return guard(error, [&] { learner_of(learner).train(); });
}

acm_status acm_learner_next_steps(acm_learner* learner, const char* trace_json, size_t limit, bool include_end,
                                  char** steps_json, char** error) {
  if (!steps_json) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *steps_json = nullptr;
  return guard(error, [&] {
    auto& l = learner_of(learner);
    Json out = Json::array();
    for (const auto& n : l.next_steps(trace(parse(trace_json, "trace")), limit, include_end))
      out.push_back({{"activity", n.activity},
                     {"probability", n.probability},
                     {"support", n.support},
                     {"matched", n.matched},
                     {"evidence", evidence_json(n.evidence)}});
    *steps_json = dup(dump(out));
  });
}

acm_status acm_learner_completion(acm_learner* learner, const char* trace_json, int64_t now_ms,
                                  char** completion_json, char** error) {
  if (!completion_json) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *completion_json = nullptr;
  return guard(error, [&] {
    auto& l = learner_of(learner);
    std::optional<TimePoint> now;
    if (now_ms != ACM_NO_TIME) now = from_ms(now_ms);
    acm::learn::Completion c = l.completion(trace(parse(trace_json, "trace")), now);
    Json quantiles = Json::array();
    for (const auto& [q, d] : c.quantiles)
      quantiles.push_back({{"quantile", q}, {"remaining", duration_json(d)}, {"remaining_ms", d.count()}});
    Json out{{"remaining", duration_json(c.remaining)},
             {"remaining_ms", c.remaining.count()},
             {"quantiles", std::move(quantiles)},
             {"expected", time_json(c.expected)},
             {"expected_ms", to_ms(c.expected)},
             {"support", c.support},
             {"evidence", evidence_json(c.evidence)}};
    *completion_json = dup(dump(out));
  });
}

acm_status acm_learner_suggest_plan(acm_learner* learner, const char* case_type, const char* attributes_json,
                                    size_t limit, char** plans_json, char** error) {
  if (!plans_json) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *plans_json = nullptr;
  return guard(error, [&] {
    auto& l = learner_of(learner);
    acm::learn::Attributes attrs;
    if (attributes_json) attrs = attributes(parse(attributes_json, "attributes"), "suggest_plan");
    Json out = Json::array();
    for (const auto& p : l.suggest_plan(opt_text(case_type), attrs, limit))
      out.push_back({{"steps", p.steps},
                     {"support", p.support},
                     {"share", p.share},
                     {"median_duration", duration_json(p.median_duration)},
                     {"median_duration_ms", p.median_duration.count()},
                     {"matched", attrs_json(p.matched)},
                     {"examples", p.examples}});
    *plans_json = dup(dump(out));
  });
}

acm_status acm_learner_fragment_proposals(acm_learner* learner, char** proposals_json, char** error) {
  if (!proposals_json) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *proposals_json = nullptr;
  return guard(error, [&] {
    auto& l = learner_of(learner);
    Json out = Json::array();
    for (const auto& p : l.fragment_proposals()) {
      Json order = Json::array();
      for (const auto& [a, b] : p.order) order.push_back(Json::array({a, b}));
      Json estimates = Json::array(), estimates_ms = Json::array();
      for (const auto& d : p.estimates) {
        estimates.push_back(duration_json(d));
        estimates_ms.push_back(d.count());
      }
      out.push_back({{"id", p.id},
                     {"tasks", p.tasks},
                     {"order", std::move(order)},
                     {"estimates", std::move(estimates)},
                     {"estimates_ms", std::move(estimates_ms)},
                     {"cases", p.cases},
                     {"definition", acm::to_json(p.definition())}});
    }
    *proposals_json = dup(dump(out));
  });
}

acm_status acm_learner_stats(acm_learner* learner, char** stats_json, char** error) {
  if (!stats_json) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *stats_json = nullptr;
  return guard(error, [&] {
    acm::learn::LearnerStats st = learner_of(learner).stats();
    Json out{{"traces", st.traces},
             {"steps", st.steps},
             {"activities", st.activities},
             {"trained_on", st.trained_on},
             {"model_version", st.model_version}};
    *stats_json = dup(dump(out));
  });
}

acm_status acm_learner_save(acm_learner* learner, void** data, size_t* size, char** error) {
  if (!data || !size) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *data = nullptr;
  *size = 0;
  return guard(error, [&] {
    std::string bytes = learner_of(learner).save();
    auto* b = static_cast<char*>(std::malloc(bytes.empty() ? 1 : bytes.size()));
    if (!b) throw std::bad_alloc();
    if (!bytes.empty()) std::memcpy(b, bytes.data(), bytes.size());
    *data = b;
    *size = bytes.size();
  });
}

acm_status acm_learner_load(const void* data, size_t size, acm_learner** out, char** error) {
  if (!out) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  return guard(error, [&] {
    if (!data && size > 0) invalid("data is NULL but its size is not 0");
    std::string_view bytes(static_cast<const char*>(data ? data : ""), size);
    give(out, acm::learn::Learner::load(bytes));
  });
}

acm_status acm_learner_export_file(acm_learner* learner, const char* path, char** error) {
  return guard(error, [&] {
    auto& l = learner_of(learner);
    l.export_file(text(path, "path"));
  });
}

acm_status acm_learner_import_file(const char* path, acm_learner** out, char** error) {
  if (!out) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  return guard(error, [&] { give(out, acm::learn::Learner::import_file(text(path, "path"))); });
}

acm_status acm_learner_import_csv(acm_learner* learner, const char* path, const char* mapping_json,
                                  char** report_json, char** error) {
  if (report_json) *report_json = nullptr;
  return guard(error, [&] {
    auto& l = learner_of(learner);
    std::string file = text(path, "path");
    auto mapping = csv_mapping(mapping_json, file);
    acm::eventlog::ImportReport report = acm::eventlog::import_csv(
        file, mapping.first, [&](acm::eventlog::LogCase&& c) { l.add(trace_of(std::move(c))); }, mapping.second);
    if (report_json) *report_json = dup(dump(report_json_of(report)));
  });
}

acm_status acm_learner_import_xes(acm_learner* learner, const char* path, char** report_json, char** error) {
  if (report_json) *report_json = nullptr;
  return guard(error, [&] {
    auto& l = learner_of(learner);
    acm::eventlog::ImportReport report = acm::eventlog::import_xes(
        text(path, "path"), [&](acm::eventlog::LogCase&& c) { l.add(trace_of(std::move(c))); });
    if (report_json) *report_json = dup(dump(report_json_of(report)));
  });
}

acm_status acm_eventlog_read_csv(const char* path, const char* mapping_json, char** traces_json, char** report_json,
                                 char** error) {
  if (report_json) *report_json = nullptr;
  if (!traces_json) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *traces_json = nullptr;
  return guard(error, [&] {
    std::string file = text(path, "path");
    auto mapping = csv_mapping(mapping_json, file);
    Json traces = Json::array();
    acm::eventlog::ImportReport report = acm::eventlog::import_csv(
        file, mapping.first,
        [&](acm::eventlog::LogCase&& c) { traces.push_back(trace_json(trace_of(std::move(c)))); }, mapping.second);
    char* t = dup(dump(traces));
    if (report_json) {
      try {
        *report_json = dup(dump(report_json_of(report)));
      } catch (...) {
        std::free(t);
        throw;
      }
    }
    *traces_json = t;
  });
}

acm_status acm_learner_evaluate(const char* traces_json, const char* options_json, char** evaluation_json,
                                char** error) {
  if (!evaluation_json) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *evaluation_json = nullptr;
  return guard(error, [&] {
    Json j = parse(traces_json, "traces");
    if (!j.is_array()) invalid("traces must be a JSON array");
    std::vector<acm::learn::Trace> traces;
    traces.reserve(j.size());
    for (const auto& t : j) traces.push_back(trace(t));
    j = Json();
    acm::learn::Evaluation ev = acm::learn::evaluate(traces, learner_options(options_json));
    Json points = Json::array();
    for (const auto& p : ev.points)
      points.push_back({{"case", p.case_id},
                        {"prefix_length", p.prefix_length},
                        {"actual_next", p.actual_next},
                        {"predicted_next", p.predicted_next},
                        {"markov_next", p.markov_next},
                        {"vom_next", p.vom_next},
                        {"actual_remaining_s", p.actual_remaining_s},
                        {"predicted_remaining_s", p.predicted_remaining_s}});
    Json baselines = Json::object();
    for (const auto& b : ev.baselines) baselines[b.name] = b.accuracy;
    Json out{{"train_cases", ev.train_cases}, {"test_cases", ev.test_cases}, {"accuracy", ev.accuracy},
             {"mae_days", ev.mae_days},       {"train_seconds", ev.train_seconds}, {"baselines", std::move(baselines)},
             {"points", std::move(points)}};
    *evaluation_json = dup(dump(out));
  });
}

acm_status acm_learner_learn_from_engine(acm_learner* learner, acm_engine* engine, size_t* count, char** error) {
  if (count) *count = 0;
  return guard(error, [&] {
    auto& l = learner_of(learner);
    std::size_t n = acm::learn::learn_from_engine(engine_of(engine), l);
    if (count) *count = n;
  });
}

acm_status acm_learner_learn_on_close(acm_learner* learner, acm_engine* engine, uint64_t* subscription,
                                      char** error) {
  if (subscription) *subscription = 0;
  return guard(error, [&] {
    auto& l = learner_of(learner);
    acm::Engine& e = engine_of(engine);
    if (!subscription) invalid("subscription pointer is NULL");
    *subscription = acm::learn::learn_on_close(e, l);
  });
}

acm_status acm_learner_save_template(acm_learner* learner, acm_engine* engine, const char* name, int* version,
                                     char** error) {
  if (version) *version = 0;
  return guard(error, [&] {
    auto& l = learner_of(learner);
    int v = acm::learn::save_template(engine_of(engine), text(name, "name"), l);
    if (version) *version = v;
  });
}

acm_status acm_learner_load_template(acm_engine* engine, const char* name, int version, acm_learner** out,
                                     char** error) {
  if (!out) return fail(error, ACM_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  return guard(error, [&] { give(out, acm::learn::load_template(engine_of(engine), text(name, "name"), version)); });
}

}  // extern "C"
