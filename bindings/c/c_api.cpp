// bindings/c/c_api.cpp - the C ABI (acm/c.h), built only on the public C++ API.
//
// Every exported function runs its body inside `guard`, which catches every exception and maps
// it to an acm_status plus a malloc'd message. Out-parameters are cleared first and assigned only
// once everything that can throw is done, so a failed call leaves them NULL / 0.
#include <acm/acm.hpp>
#include <acm/c.h>

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

/// Parses JSON text given as argument `what`.
Json parse(const char* json_text, const char* what) {
  if (!json_text) invalid(std::string(what) + " is NULL");
  try {
    return Json::parse(json_text);
  } catch (const Json::parse_error& e) {
    throw Error(ErrorCode::parse_error, std::string(what) + " is not valid JSON: " + e.what());
  }
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

/// Reads the keys of one JSON object argument, refusing unknown keys and wrong types.
class Reader {
 public:
  Reader(const Json& j, std::string what, std::initializer_list<std::string_view> keys) : j_(j), what_(std::move(what)) {
    if (!j.is_object()) invalid(what_ + " must be a JSON object");
    for (const auto& [key, value] : j.items()) {
      bool known = false;
      for (auto k : keys) known = known || k == key;
      if (!known) invalid(what_ + ": unknown key '" + key + "'");
    }
  }
  bool has(const char* key) const { return j_.contains(key); }
  const Json& at(const char* key) const { return j_.at(key); }
  std::string str(const char* key) const {
    if (!has(key)) return {};
    if (!j_.at(key).is_string()) wrong(key, "a string");
    return j_.at(key).get<std::string>();
  }
  bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!j_.at(key).is_boolean()) wrong(key, "true or false");
    return j_.at(key).get<bool>();
  }
  long long integer(const char* key, long long fallback, long long min, long long max) const {
    if (!has(key)) return fallback;
    const Json& v = j_.at(key);
    if (!v.is_number_integer()) wrong(key, "an integer");
    bool too_big = v.is_number_unsigned() && v.get<unsigned long long>() > static_cast<unsigned long long>(max);
    if (too_big || v.get<long long>() < min || v.get<long long>() > max)
      invalid(what_ + ": '" + key + "' is out of range");
    return v.get<long long>();
  }
  std::vector<std::string> strings(const char* key) const {
    if (!has(key)) return {};
    const Json& v = j_.at(key);
    if (!v.is_array()) wrong(key, "an array of strings");
    std::vector<std::string> out;
    for (const auto& s : v) {
      if (!s.is_string()) wrong(key, "an array of strings");
      out.push_back(s.get<std::string>());
    }
    return out;
  }
  std::optional<TimePoint> time(const char* key) const {
    if (!has(key) || j_.at(key).is_null()) return std::nullopt;
    const Json& v = j_.at(key);
    if (v.is_string()) return acm::parse_time(v.get<std::string>());
    if (v.is_number_integer()) return from_ms(v.get<std::int64_t>());
    wrong(key, "a time (ISO-8601 string or integer milliseconds since the epoch)");
  }
  std::optional<Duration> duration(const char* key) const {
    if (!has(key) || j_.at(key).is_null()) return std::nullopt;
    if (!j_.at(key).is_string()) wrong(key, "a duration string (\"PT4H\", \"90m\")");
    return acm::parse_duration(j_.at(key).get<std::string>());
  }
  Json object(const char* key) const {
    if (!has(key)) return Json::object();
    if (!j_.at(key).is_object()) wrong(key, "a JSON object");
    return j_.at(key);
  }

 private:
  [[noreturn]] void wrong(const char* key, const char* expected) const {
    invalid(what_ + ": '" + key + "' must be " + expected);
  }
  const Json& j_;
  std::string what_;
};

acm::NewCase new_case(const Json& j) {
  Reader r(j, "case spec",
           {"id", "type", "type_version", "title", "subject", "owner", "priority", "participants", "file"});
  acm::NewCase c;
  c.id = r.str("id");
  c.type = r.str("type");
  c.type_version = static_cast<int>(r.integer("type_version", 0, 0, std::numeric_limits<int>::max()));
  c.title = r.str("title");
  if (r.has("subject")) {
    Reader s(r.at("subject"), "case spec subject", {"customer", "attributes"});
    c.subject.customer = s.str("customer");
    c.subject.attributes = s.object("attributes");
  }
  c.owner = r.str("owner");
  c.priority = static_cast<int>(
      r.integer("priority", 0, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
  if (r.has("participants")) {
    if (!r.at("participants").is_array()) invalid("case spec: 'participants' must be an array");
    for (const auto& p : r.at("participants")) {
      Reader pr(p, "case spec participant", {"actor", "roles"});
      c.participants.push_back({pr.str("actor"), pr.strings("roles")});
    }
  }
  c.file = r.object("file");
  return c;
}

acm::GoalSpec goal_spec(const Json& j) {
  Reader r(j, "goal", {"id", "name", "owner", "parent", "required", "deadline", "within", "anchor", "criterion",
                       "milestones", "decision"});
  acm::GoalSpec g;
  g.id = r.str("id");
  g.name = r.str("name");
  g.owner = r.str("owner");
  g.parent = r.str("parent");
  g.required = r.boolean("required", true);
  g.deadline = r.time("deadline");
  g.within = r.duration("within");
  if (r.has("anchor")) g.anchor = r.str("anchor");
  g.criterion = r.str("criterion");
  g.milestones = r.strings("milestones");
  g.decision = r.boolean("decision", false);
  return g;
}

acm::GoalChange goal_change(const Json& j) {
  Reader r(j, "goal change", {"name", "owner", "required", "deadline", "criterion", "milestones"});
  acm::GoalChange c;
  if (r.has("name")) c.name = r.str("name");
  if (r.has("owner")) c.owner = r.str("owner");
  if (r.has("required")) c.required = r.boolean("required", true);
  if (r.has("deadline")) c.deadline = r.time("deadline");  // null: {nullopt} removes it
  if (r.has("criterion")) c.criterion = r.str("criterion");
  if (r.has("milestones")) c.milestones = r.strings("milestones");
  return c;
}

acm::FragmentUse fragment_use(const Json& j) {
  if (j.is_string()) return acm::FragmentUse{j.get<std::string>()};
  Reader r(j, "fragment use", {"fragment", "version", "goal", "params"});
  acm::FragmentUse u;
  u.fragment = r.str("fragment");
  u.version = static_cast<int>(r.integer("version", 0, 0, std::numeric_limits<int>::max()));
  u.goal = r.str("goal");
  u.params = r.object("params");
  return u;
}

acm::ItemKind item_kind(const std::string& name) {
  for (auto k : {acm::ItemKind::human_task, acm::ItemKind::automated_task, acm::ItemKind::milestone,
                 acm::ItemKind::timer_listener, acm::ItemKind::user_listener, acm::ItemKind::stage})
    if (acm::to_string(k) == name) return k;
  invalid("task: unknown kind '" + name + "'");
}

acm::AdHocTask ad_hoc_task(const Json& j) {
  Reader r(j, "task", {"name", "kind", "role", "skills", "estimate", "due", "handler", "input", "output", "goal",
                       "assignee", "after", "required", "manual"});
  acm::AdHocTask t;
  t.name = r.str("name");
  if (r.has("kind")) t.kind = item_kind(r.str("kind"));
  t.role = r.str("role");
  t.skills = r.strings("skills");
  t.estimate = r.duration("estimate");
  t.due = r.duration("due");
  t.handler = r.str("handler");
  if (r.has("input")) t.input = r.at("input");
  t.output = r.str("output");
  t.goal = r.str("goal");
  t.assignee = r.str("assignee");
  t.after = r.strings("after");
  t.required = r.boolean("required", false);
  t.manual = r.boolean("manual", false);
  return t;
}

acm::Asset asset(const Json& j) {
  Reader r(j, "asset", {"id", "kind", "title", "uri", "text", "media_type", "metadata"});
  acm::Asset a;
  a.id = r.str("id");
  a.kind = r.str("kind");
  a.title = r.str("title");
  a.uri = r.str("uri");
  a.text = r.str("text");
  a.media_type = r.str("media_type");
  a.metadata = r.object("metadata");
  return a;
}

acm::QueueFilter queue_filter(const Json& j) {
  Reader r(j, "queue filter", {"assignee", "roles", "overdue_at", "limit", "offset"});
  acm::QueueFilter f;
  f.assignee = r.str("assignee");
  f.roles = r.strings("roles");
  f.overdue_at = r.time("overdue_at");
  f.limit = static_cast<std::size_t>(r.integer("limit", 50, 0, std::numeric_limits<long long>::max()));
  f.offset = static_cast<std::size_t>(r.integer("offset", 0, 0, std::numeric_limits<long long>::max()));
  return f;
}

// ---- JSON results -----------------------------------------------------------------------

Json result_json(const acm::CommandResult& r) {
  Json events = Json::array();
  for (const auto& e : r.events) events.push_back(acm::to_json(e));
  return Json{{"version", r.version}, {"events", std::move(events)}, {"created", r.created}};
}

Json work_item_json(const acm::WorkItem& w) {
  return Json{{"case", w.case_id},
              {"item", w.item_id},
              {"name", w.name},
              {"state", acm::to_string(w.state)},
              {"assignee", w.assignee},
              {"role", w.role},
              {"skills", w.skills},
              {"due", w.due ? Json(acm::format_time(*w.due)) : Json()},
              {"due_ms", w.due ? Json(to_ms(*w.due)) : Json()},
              {"priority", w.priority}};
}

Json offer_json(const acm::FragmentOffer& o) {
  Json params = Json::array();
  for (const auto& p : o.parameters)
    params.push_back({{"name", p.name},
                      {"type", p.type},
                      {"required", p.required},
                      {"default", p.default_value},
                      {"description", p.description}});
  return Json{{"fragment", o.fragment},
              {"version", o.version},
              {"name", o.name},
              {"description", o.description},
              {"parameters", std::move(params)}};
}

Json task_context_json(const acm::TaskContext& c) {
  return Json{{"case", c.case_id},    {"item", c.item_id},
              {"handler", c.handler}, {"input", c.input},
              {"case_file", c.case_file}, {"now", acm::format_time(c.now)},
              {"now_ms", to_ms(c.now)}};
}

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
    if (result) *result = dup(dump(result_json(cr)));
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

const char* acm_version(void) { return ACM_VERSION_STRING; }

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
      std::string context_json = dump(task_context_json(context));
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
    e.load_definitions(r, parse(document_json, "definitions document"));
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
    acm::NewCase spec = spec_json ? new_case(parse(spec_json, "case spec")) : acm::NewCase{};
    std::string id = e.create_case(r, spec);
    *case_id = dup(id);
  });
}

acm_status acm_case_get(acm_engine* engine, const acm_request* by, const char* case_id, char** case_json,
                        char** error) {
  return query(engine, case_json, error, [&](acm::Engine& e) {
    std::string id = text(case_id, "case_id");
    return acm::to_json(by ? e.get_case(request(by), id) : e.get_case(id));
  });
}

acm_status acm_case_list(acm_engine* engine, size_t limit, const char* after, char** ids_json, char** error) {
  return query(engine, ids_json, error,
               [&](acm::Engine& e) { return Json(e.list_cases(limit, opt_text(after))); });
}

acm_status acm_case_history(acm_engine* engine, const char* case_id, uint64_t from, char** events_json,
                            char** error) {
  return query(engine, events_json, error, [&](acm::Engine& e) {
    Json out = Json::array();
    for (const auto& ev : e.history(text(case_id, "case_id"), from)) out.push_back(acm::to_json(ev));
    return out;
  });
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
    return e.attach(r, id, asset(parse(asset_json, "asset")));
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
    return e.add_goal(r, id, goal_spec(parse(goal_json, "goal")));
  });
}

acm_status acm_goal_change(acm_engine* engine, const acm_request* by, const char* case_id, const char* goal_id,
                           const char* change_json, char** result, char** error) {
  return command(engine, by, case_id, result, error, [&](acm::Engine& e, const acm::Request& r, const std::string& id) {
    return e.change_goal(r, id, text(goal_id, "goal_id"), goal_change(parse(change_json, "goal change")));
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

// ---- runtime assembly --------------------------------------------------------------------

acm_status acm_fragment_list_applicable(acm_engine* engine, const char* case_id, char** offers_json,
                                        char** error) {
  return query(engine, offers_json, error, [&](acm::Engine& e) {
    Json out = Json::array();
    for (const auto& o : e.applicable_fragments(text(case_id, "case_id"))) out.push_back(offer_json(o));
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
    acm::FragmentUse use = fragment_use(parse(use_json, "fragment use"));
    std::string created = e.add_fragment(r, id, use, text_list(after, after_count, "after"));
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
    std::string created = e.add_task(r, id, ad_hoc_task(parse(task_json, "task")));
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
    acm::QueueFilter filter = filter_json ? queue_filter(parse(filter_json, "queue filter")) : acm::QueueFilter{};
    Json out = Json::array();
    for (const auto& w : e.queue(filter)) out.push_back(work_item_json(w));
    return out;
  });
}

// ---- learning ----------------------------------------------------------------------------
// Reserved: the acm_learn_* functions go here.

}  // extern "C"
